/* linux.resources written into the container's cgroup (config-linux.md "Control groups": Memory,
 * CPU, Block IO, Huge page limits, Network, PIDs, RDMA, Unified), for cgroup v1 and cgroup v2.  The
 * device allowlist is devices.h's job.
 *
 * Semantics shared by both versions:
 *  - a value the config gives is written or the call fails with an error naming its json path
 *    ("config.json: linux.resources.memory.swap: ...").  A control file that does not exist on this
 *    host is an error ("... not supported on this host (no 'memory.memsw.limit_in_bytes')"), and so
 *    is a missing controller ("...: the 'hugetlb' controller is not available").  Exceptions, each
 *    a warning: memory.kernel and memory.kernelTCP (deprecated by the spec, gone from v2 and from
 *    recent v1 kernels) are ignored when the host cannot take them.
 *  - 0 means "not set" (the kernel's default stays) for memory.limit, memory.swap, cpu.shares,
 *    cpu.period and blockIO.weight, as in runc: the kernel refuses 0 for all of them.
 *  - -1 means unlimited for memory.limit/reservation/swap/kernel/kernelTCP; cpu.quota <= 0 means
 *    unlimited; pids.limit <= 0 means unlimited.
 *  - memory.swap is memory+swap (the v1 memsw meaning): it must be >= memory.limit (or -1), and a
 *    swap limit needs a memory limit.  v2 writes memory.swap.max = swap - limit.  A memory.limit
 *    of -1 with no swap also makes swap unlimited (as runc).
 *  - checkBeforeUpdate is for `update` and is ignored here.
 * v1 only (an error on v2): kernel (warning), kernelTCP (warning), swappiness, disableOOMKiller=true,
 * useHierarchy, realtimeRuntime/realtimePeriod, blockIO leafWeight (also per device), network.
 * v2 only (an error on v1 unless empty): unified.
 * The conversions on v2 are the ones crun documents (crun(1) "CGROUP v2") and runc uses.  */
#ifndef HUSK_CGROUP_RESOURCES_H
#define HUSK_CGROUP_RESOURCES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "spec.h"

/* One v1 hierarchy of the container: its controller list as mounted ("cpu,cpuacct", "memory",
 * "net_cls,net_prio") and an fd (O_PATH is fine) of the container's directory in it.  */
struct resources_v1_dir
{
  const char *controllers;
  int dirfd;
};

/* cgroup v2 controllers, as bits of the mask resources_v2_controllers returns.  */
enum resources_v2_controller
{
  RESOURCES_V2_CPU = 1u << 0,
  RESOURCES_V2_CPUSET = 1u << 1,
  RESOURCES_V2_MEMORY = 1u << 2,
  RESOURCES_V2_IO = 1u << 3,
  RESOURCES_V2_PIDS = 1u << 4,
  RESOURCES_V2_HUGETLB = 1u << 5,
  RESOURCES_V2_RDMA = 1u << 6,
  RESOURCES_V2_MISC = 1u << 7,
};

/* Check R for the cgroup version (V2 true: cgroup v2; false: v1 or hybrid) without touching any
 * file: ranges (swappiness <= 100, blockIO weights 10..1000, cpu.shares 2..262144, cpu.period
 * 1000..1000000 us, a positive cpu.quota >= 1000 us, idle 0/1, swap >= limit, cpus/mems lists), fields the version does not have, hugepage size names, unified keys.  For
 * cgroup_prepare, before anything is made.  Returns 0, or -1 with ERR naming the field.  */
int resources_check (const struct husk_resources *r, bool v2, struct husk_err *err);

/* cgroup v1: write R into the container's directories DIRS (N of them, one per v1 hierarchy; the
 * devices and name=systemd hierarchies are not touched, v2 entries must not be passed).  Runs
 * resources_check first.  Call after the directories exist (and, for cpuset, after they were
 * given their parent's cpus/mems), before any process enters.  Returns 0, or -1 with ERR.  */
int resources_apply_v1 (const struct husk_resources *r, const struct resources_v1_dir *dirs, size_t n,
                        struct husk_err *err);

/* cgroup v2: write R into the container's directory DIRFD (O_PATH is fine).  The controllers
 * resources_v2_controllers (R) names must already be enabled in every ancestor's
 * cgroup.subtree_control (see resources_v2_enable).  Runs resources_check first.  Call before any
 * process enters.  Returns 0, or -1 with ERR.  */
int resources_apply_v2 (const struct husk_resources *r, int dirfd, struct husk_err *err);

/* The v2 controllers R needs (bits of enum resources_v2_controller), including those named by the
 * prefixes of linux.resources.unified keys ("memory.high" -> memory).  0 for R NULL.  */
unsigned resources_v2_controllers (const struct husk_resources *r);

/* Enable the controllers of MASK in the cgroup2 directory DIRFD's cgroup.subtree_control (so its
 * children get their files), with one "+name" write each, skipping those already enabled.  A
 * controller missing from DIRFD's cgroup.controllers is skipped silently: applying the value that
 * needs it then fails with "the 'X' controller is not available".  Run it on each ancestor of the
 * container's cgroup from the root's child down (never on the container's own directory: a v2
 * cgroup with processes cannot have controllers enabled for children).  Returns 0, or -1 with ERR.  */
int resources_v2_enable (int dirfd, unsigned mask, struct husk_err *err);

/* The v2 name of one bit of enum resources_v2_controller ("memory"), or NULL.  */
const char *resources_v2_controller_name (unsigned bit);

/* ---- pure conversions, exposed for the tests ---- */

/* cpu.shares [2, 262144] -> cpu.weight [1, 10000]: 1 + (shares - 2) * 9999 / 262142, clamped.  */
uint64_t resources_shares_to_weight (uint64_t shares);

/* blkio weight [10, 1000] -> io.weight [1, 10000]: 1 + (weight - 10) * 9999 / 990, clamped.  */
uint64_t resources_blkio_to_io_weight (uint64_t weight);

/* v2 memory.swap.max for M: returns 1 with *OUT the value in bytes (-1 for "max"), 0 when nothing
 * is to be written, or -1 with ERR (swap without a memory limit, swap < limit).  */
int resources_v2_swap_max (const struct husk_memory *m, int64_t *out, struct husk_err *err);

/* v2 cpu.max for C into BUF of SIZE bytes ("max 100000", "50000 100000"; the period defaults to
 * 100000 us).  Returns false when C sets neither quota nor period.  */
bool resources_v2_cpu_max (const struct husk_cpu *c, char *buf, size_t size);

/* cgroup v1 ordering: memory.memsw.limit_in_bytes must stay >= memory.limit_in_bytes at every
 * moment.  CUR_MEMSW is the current memsw limit read from the kernel (bytes, >= 2^62 meaning
 * unlimited), NEW_LIMIT the new memory limit (-1 unlimited).  True when the new memsw limit must be
 * written first (the new memory limit exceeds the current memsw limit), false when the memory limit
 * goes first.  */
bool resources_v1_memsw_first (uint64_t cur_memsw, int64_t new_limit);

#endif
