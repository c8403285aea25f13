/* The device cgroup (config-linux.md "Device allowlist"): which device nodes the container may
 * open (read/write) or create (mknod), enforced by the kernel whatever nodes the rootfs holds.
 *
 * Rule list.  husk always starts from deny-all, then applies linux.resources.devices in order,
 * then allows what every container needs (as runc and crun do: mknod of any char or block device,
 * null, zero, full, random, urandom, tty, console, ptmx, the pts range, tun), then each
 * linux.devices entry (rwm).  The defaults come after the config, so the config cannot take them
 * away (the same in runc and crun).
 *
 * Semantics ("later rules override earlier ones").  Each access bit of a request (r, w, m) is
 * decided by the LAST rule that matches the device (type, major, minor; 'a' and absent numbers are
 * wildcards) and names that bit; a bit no rule names is denied; the request is allowed only when
 * every bit it asks for is allowed.  So [allow c 1:3 rwm, deny c 1:3 w] lets 1:3 be opened for
 * reading but not for O_RDWR, and [allow c 1:3 r, allow c 1:3 w] allows O_RDWR, both as the v1
 * kernel does.  cgroup v2 (the eBPF program) follows this exactly.
 * cgroup v1 writes the same list to devices.deny/devices.allow and the kernel decides; it differs
 * in one case: a deny rule removes access only from an earlier allow with the very same pattern,
 * so [allow c 1:* rwm, deny c 1:3 rwm] still allows 1:3 on v1 (as with runc and crun there).
 * A type-'a' rule narrower than "a *:* rwm" is written to v1 as its 'c' and 'b' halves (the v1
 * kernel would read any 'a' line as "everything").  */
#ifndef HUSK_CGROUP_DEVICES_H
#define HUSK_CGROUP_DEVICES_H

#include <stddef.h>

#include "error.h"
#include "spec.h"

struct bpf_insn; /* <linux/bpf.h> */

/* The full ordered rule list husk enforces for SPEC (SPEC->linux may be NULL): deny-all, then
 * linux.resources.devices in order, then the default devices, then linux.devices ('u' as 'c', 'p'
 * skipped) as rwm allow rules.  Access strings are canonical ("rwm" order, no duplicates).
 * Returns a malloc'd array (free it) of *N rules, never NULL.  */
struct husk_device_rule *devices_effective_rules (const struct husk_spec *spec, size_t *n);

/* cgroup v1: write SPEC's effective rules to devices.deny / devices.allow in the container's
 * devices cgroup directory DIRFD (any directory fd, O_PATH is fine), one rule per write(2), in
 * order.  The files are opened O_WRONLY|O_APPEND|O_NOFOLLOW (O_APPEND changes nothing on cgroupfs
 * and lets a test record the sequence in plain files).  Must run before any process enters the
 * cgroup.  Returns 0, or -1 with ERR naming the rule ("config.json: linux.resources.devices[2]:
 * write 'c 1:3 rw' to 'devices.allow'" + errno; EPERM when the parent cgroup does not allow it).  */
int devices_v1_apply (int dirfd, const struct husk_spec *spec, struct husk_err *err);

/* cgroup v2: build the eBPF program for SPEC's effective rules, load it
 * (BPF_PROG_TYPE_CGROUP_DEVICE) and attach it to the cgroup directory CGROUP_FD (O_PATH is fine:
 * it is reopened as a directory) with BPF_CGROUP_DEVICE and BPF_F_ALLOW_MULTI.  The attachment
 * holds the program until the cgroup is removed; no fd is kept.  Needs CAP_SYS_ADMIN (or CAP_BPF +
 * CAP_NET_ADMIN).  Must run before any process enters the cgroup.  Returns 0, or -1 with ERR (the
 * verifier's message on a load failure; "config.json: linux.resources.devices[2]: major ... out
 * of range").  */
int devices_v2_attach (int cgroup_fd, const struct husk_spec *spec, struct husk_err *err);

/* As devices_v2_attach, for an explicit rule list RULES of N rules (tests; `update` later).  */
int devices_v2_attach_rules (int cgroup_fd, const struct husk_device_rule *rules, size_t n,
                             struct husk_err *err);

/* Emit the BPF_PROG_TYPE_CGROUP_DEVICE program for RULES (N rules, the semantics above) into a new
 * array *OUT (free it) of *N_INSNS instructions.  Returns 0, or -1 with ERR (EINVAL: rule %zu has
 * an unknown type or a major/minor above 4294967295).  */
int devices_v2_program (const struct husk_device_rule *rules, size_t n, struct bpf_insn **out,
                        size_t *n_insns, struct husk_err *err);

/* Load INSNS (N_INSNS instructions) as a BPF_PROG_TYPE_CGROUP_DEVICE program.  Returns the program
 * fd (O_CLOEXEC), or -1 with ERR carrying the verifier's last line when it rejects the program.  */
int devices_v2_load (const struct bpf_insn *insns, size_t n_insns, struct husk_err *err);

#endif
