/* The systemd cgroup driver (`--systemd-cgroup`, or a linux.cgroupsPath of the form
 * "slice:prefix:name"): systemd makes the container's cgroup as a transient unit, husk writes
 * everything else through the cgroup filesystem (cgroup.c).  Three independent parts:
 *
 *  - path parsing: "slice:prefix:name" -> the unit ("prefix-name.scope", or "name" when it is a
 *    slice) and its cgroup path ("/system.slice/prefix-name.scope"), as runc and crun read it;
 *  - property mapping: linux.resources -> the unit properties StartTransientUnit takes, as a plain
 *    list of (name, D-Bus signature, value), so it is tested without a bus;
 *  - the bus client: libsystemd's sd-bus, loaded with dlopen("libsystemd.so.0") the first time the
 *    driver is used (no other command maps it), StartTransientUnit / StopUnit on
 *    org.freedesktop.systemd1, waiting for the job's JobRemoved signal.
 *
 * A scope needs a process when it starts and husk makes the cgroup before the container's first
 * process exists, so a "pin" process (systemd_pin_start) holds the scope until stage 1 has entered
 * it and kills the pin (cgroup_enter_self).
 *
 * config-linux.md "cgroupsPath"; systemd's org.freedesktop.systemd1(5), systemd.resource-control(5).
 */
#ifndef HUSK_CGROUP_SYSTEMD_H
#define HUSK_CGROUP_SYSTEMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "spec.h"

/* ---- path parsing ---------------------------------------------------------------------------- */

/* linux.cgroupsPath read for the systemd driver.  */
struct systemd_cgroup_path
{
  char *slice;   /* the parent slice unit, "system.slice" when the config leaves it empty */
  char *unit;    /* the container's unit: "prefix-name.scope", or "name" when it ends in ".slice" */
  char *path;    /* its cgroup path from the hierarchy root: "/system.slice/prefix-name.scope" */
  bool is_slice; /* the container gets a slice of its own (no scope, no pin process) */
};

/* True when CGROUPS_PATH has the systemd form (it holds a ':'; a cgroupfs path never does), so
 * that the systemd driver is used even without --systemd-cgroup.  */
bool systemd_path_syntax (const char *cgroups_path);

/* Read CGROUPS_PATH ("slice:prefix:name"; NULL or "" means ":husk:ID") for container ID into OUT
 * (release with systemd_path_release).
 *  - slice: empty means "system.slice" (husk runs as root; user.slice is for rootless managers);
 *    otherwise a slice name, expanded as systemd does (systemd_expand_slice);
 *  - prefix: the scope's "prefix-", none when empty ("name.scope", as crun);
 *  - name: required; when it ends in ".slice" the container gets that slice instead of a scope,
 *    placed where its own name says (so an explicit parent slice must be its parent).
 * Prefix and name use the characters of unit names (letters, digits, ":-_.\" minus ':'), and the
 * unit name is at most 255 bytes.  Returns 0, or -1 with ERR "config.json: linux.cgroupsPath:
 * ...".  */
int systemd_parse_path (const char *cgroups_path, const char *id, struct systemd_cgroup_path *out,
                        struct husk_err *err);

/* Free what OUT holds (not OUT itself); fine on a zeroed struct.  */
void systemd_path_release (struct systemd_cgroup_path *p);

/* The cgroup path of SLICE as systemd places it: "a-b-c.slice" -> "/a.slice/a-b.slice/a-b-c.slice",
 * "-.slice" (the root slice) -> "".  SLICE must end in ".slice", hold no '/', no "--", and not start
 * or end (before ".slice") with '-'.  Returns the path (free it), or NULL with ERR ("invalid slice
 * name '...'", the caller adds the field).  */
char *systemd_expand_slice (const char *slice, struct husk_err *err);

/* True when NAME is a valid plain unit name (what StartTransientUnit takes): 1..255 bytes of
 * letters, digits and ":-_.\", with a suffix after the last '.'.  */
bool systemd_unit_name_valid (const char *name);

/* ---- property mapping -------------------------------------------------------------------------- */

/* One DeviceAllow= entry: a device node or class ("/dev/char/1:3", "char-pts", "block-*") and
 * access ("rwm").  */
struct systemd_device_allow
{
  char *node;
  char access[4];
};

/* One unit property for StartTransientUnit.  SIG is its D-Bus signature, and says which member
 * holds the value: "b" -> b, "t" -> u64, "s" -> str, "au" -> u32s[n], "ay" -> bytes[n],
 * "a(ss)" -> devices[n].  */
struct systemd_prop
{
  const char *name; /* "MemoryMax" (a literal) */
  const char *sig;  /* "t" (a literal) */
  bool b;
  uint64_t u64;
  char *str;
  uint32_t *u32s;
  uint8_t *bytes;
  struct systemd_device_allow *devices;
  size_t n;
};

struct systemd_props
{
  struct systemd_prop *v;
  size_t n;
};

/* What the mapping needs besides the config.  */
struct systemd_map_opts
{
  bool v2;                  /* cgroup v2 host (else v1 or hybrid: systemd uses v1 controllers) */
  unsigned version;         /* systemd's version (252), 0 when unknown: taken as recent */
  const char *description;  /* Description= */
  pid_t pid;                /* the process that starts the scope (PIDs=), 0 for a slice */
  const char *proc_devices; /* text of /proc/devices for "char-NAME" entries; NULL: read it */
};

/* The properties of the unit for P (the parsed path), SPEC's linux.resources (may be absent) and
 * device rules, into OUT (release with systemd_props_release), in this order:
 *   Description; scope: Slice, Delegate=yes, PIDs=[pid]; DefaultDependencies=no; MemoryAccounting,
 *   CPUAccounting, TasksAccounting, IOAccounting (v2) or BlockIOAccounting (v1) = yes; then
 *   v2: MemoryMax (limit, -1 = infinity), MemoryLow (reservation), MemorySwapMax (swap - limit, as
 *       resources_v2_swap_max), CPUWeight (shares, as resources_shares_to_weight),
 *       CPUQuotaPerSecUSec and CPUQuotaPeriodUSec (systemd >= 242), AllowedCPUs and
 *       AllowedMemoryNodes (bitmasks, systemd >= 244), TasksMax (pids.limit, <= 0 = infinity),
 *       IOWeight (blockIO.weight, as resources_blkio_to_io_weight);
 *   v1: MemoryLimit, CPUShares, CPUQuotaPerSecUSec and CPUQuotaPeriodUSec (>= 242), TasksMax,
 *       BlockIOWeight; then DevicePolicy=strict and DeviceAllow= from the effective device rules
 *       (devices_effective_rules), or DevicePolicy=auto when they allow every device.
 * "infinity" is UINT64_MAX.  CPUQuotaPerSecUSec is quota * 1000000 / period (period 100000 when
 * unset), rounded up to a multiple of 10000 (systemd keeps whole percents), UINT64_MAX for no quota.
 * Everything else in linux.resources (and the exact values) is written through cgroupfs afterwards
 * (resources.c); these properties are what systemd itself applies, again at each daemon-reload.
 * Returns 0, or -1 with ERR naming the field ("config.json: linux.resources.cpu.cpus: ...").  */
int systemd_unit_properties (const struct systemd_cgroup_path *p, const struct husk_spec *spec,
                             const struct systemd_map_opts *o, struct systemd_props *out,
                             struct husk_err *err);

void systemd_props_release (struct systemd_props *props);

/* The property NAME in PROPS, or NULL (tests).  */
const struct systemd_prop *systemd_props_find (const struct systemd_props *props, const char *name);

/* A cpu or memory-node list ("0-3,8") as systemd's bitmask bytes: bit i % 8 of byte i / 8 is set
 * for each i in the list; *N is 1 + the highest set index / 8.  At most 65536 entries.  Returns a
 * malloc'd array (free it), or NULL with ERR ("invalid list '...'", the caller adds the field).  */
uint8_t *systemd_list_bitmask (const char *list, size_t *n, struct husk_err *err);

/* ---- the bus ----------------------------------------------------------------------------------- */

struct systemd_bus;

/* Load libsystemd (once per process) and connect to the system bus (DBUS_SYSTEM_BUS_ADDRESS, else
 * /run/dbus/system_bus_socket), then ask systemd for its version (which also proves it answers).
 * Returns the connection (close with systemd_bus_close), or NULL with ERR: "systemd cgroup driver:
 * cannot connect to the system bus: ..." (no library, no bus), or "systemd cgroup driver: systemd
 * does not answer on the system bus: ..." (a bus without systemd).  */
struct systemd_bus *systemd_bus_open (struct husk_err *err);

/* systemd's version number (252 for "252.39-1~deb12u2"), 0 when it could not be told.  */
unsigned systemd_bus_version (const struct systemd_bus *bus);

/* StartTransientUnit(UNIT, "fail", PROPS, []) and wait (up to 30 s) for its job's JobRemoved
 * signal.  Returns 0 when the job's result is "done", or -1 with ERR "systemd cgroup driver: start
 * unit 'UNIT': ..." (systemd's error name and message, or the job's result).  */
int systemd_bus_start_unit (struct systemd_bus *bus, const char *unit, const struct systemd_props *props,
                            struct husk_err *err);

/* StopUnit(UNIT, "replace") and wait for the job.  A unit systemd does not know (it stops an empty
 * scope by itself) is success.  Returns 0, or -1 with ERR "systemd cgroup driver: stop unit ...".  */
int systemd_bus_stop_unit (struct systemd_bus *bus, const char *unit, struct husk_err *err);

/* Close the connection; NULL allowed.  The library stays loaded.  */
void systemd_bus_close (struct systemd_bus *bus);

/* Tests: load SONAME instead of "libsystemd.so.0" (NULL restores it), and whether libsystemd has
 * been loaded by this process.  */
void systemd_library_override (const char *soname);
bool systemd_library_loaded (void);

/* ---- the pin process --------------------------------------------------------------------------- */

/* A process that only waits, orphaned at once (its zombie goes to init or the subreaper, not to
 * husk, so it never counts against pids.max), which systemd moves into the new scope.  It exits
 * when killed or when every copy of KEEP_FD (the write end of a pipe it reads) is closed, so it
 * does not outlive husk.  */
struct systemd_pin
{
  pid_t pid;   /* 0 when none */
  int pidfd;   /* -1 when none; O_CLOEXEC */
  int keep_fd; /* -1 when none; O_CLOEXEC */
};

#define SYSTEMD_PIN_NONE { .pid = 0, .pidfd = -1, .keep_fd = -1 }

/* Start PIN.  Returns 0, or -1 with ERR (nothing left behind).  */
int systemd_pin_start (struct systemd_pin *pin, struct husk_err *err);

/* SIGKILL the pin through its pidfd (async-signal-safe: stage 1 calls it); safe when none.  */
void systemd_pin_kill (const struct systemd_pin *pin);

/* Kill the pin and close its fds; the struct is then SYSTEMD_PIN_NONE.  */
void systemd_pin_release (struct systemd_pin *pin);

/* The cgroup of process PID as systemd sees it: the cgroup2 line of /proc/PID/cgroup ("0::"), or
 * the name=systemd one on a v1-only host (LEGACY).  Returns it (free it), or NULL with ERR.  */
char *systemd_pid_cgroup (pid_t pid, bool legacy, struct husk_err *err);

#endif
