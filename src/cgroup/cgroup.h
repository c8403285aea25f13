/* Control groups: the only header the rest of husk includes.  The cgroupfs driver: detect the host
 * layout (v2, v1, hybrid), create the container's cgroup at linux.cgroupsPath, apply the device
 * allowlist (devices.c) and linux.resources (resources.c), move the container in, mount it for the
 * container, freeze/thaw, destroy.  config-linux.md "Control groups", "cgroupsPath".  */
#ifndef HUSK_CGROUP_H
#define HUSK_CGROUP_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "spec.h"

enum husk_cgroup_mode
{
  HUSK_CGROUP_UNIFIED, /* cgroup v2 only */
  HUSK_CGROUP_LEGACY,  /* cgroup v1 only */
  HUSK_CGROUP_HYBRID,  /* v1 controllers + a v2 mount at /sys/fs/cgroup/unified: v1 is used */
};

struct husk_cgroup;

/* Detect the host layout by statfs of /sys/fs/cgroup and /sys/fs/cgroup/unified.
 * Returns the mode, or -1 with ERR when no cgroup filesystem is mounted.  */
int cgroup_detect_mode (struct husk_err *err);

/* Work out the cgroup for container ID from SPEC's linux.cgroupsPath (absolute: under the hierarchy
 * root; relative: under husk's own cgroup; absent: "/husk/<id>") in every v1 hierarchy or in the v2
 * tree, and check linux.resources against the host's layout (resources_check).  Makes nothing, so
 * the path can be recorded before anything exists.  Without full privileges (husk_privileged ():
 * rootless) only the hierarchies the user may write are kept, possibly none; limits asked in a
 * hierarchy it may not write are an error naming linux.resources.  Returns the cgroup (free with
 * cgroup_free), or NULL with ERR.  */
struct husk_cgroup *cgroup_prepare (const struct husk_spec *spec, const char *id, struct husk_err *err);

/* As cgroup_prepare, choosing the driver: the systemd driver (systemd.h) when SYSTEMD
 * (--systemd-cgroup) or when linux.cgroupsPath has the form "slice:prefix:name", else cgroupfs.
 * With systemd the path is the unit's ("/system.slice/husk-ID.scope" for an absent cgroupsPath),
 * and the system bus is connected here (libsystemd is loaded then, never by the cgroupfs driver):
 * "systemd cgroup driver: cannot connect to the system bus: ..." when it cannot be, with nothing
 * made.  cgroup_make then starts the unit, and cgroup_destroy stops it; everything else (devices,
 * resources, freeze, stats, kill, ps, update) is the cgroupfs code on the unit's directories.  */
struct husk_cgroup *cgroup_prepare_driver (const struct husk_spec *spec, const char *id, bool systemd,
                                           struct husk_err *err);

/* Make CG's directories (missing parents too, remembering which), apply the device allowlist (always
 * from deny-all, see devices.h; not rootless, where the kernel does not allow it) and
 * linux.resources (see resources.h).  On failure the caller runs cgroup_destroy, which removes what
 * was made.  Returns 0, or -1 with ERR.  */
int cgroup_make (struct husk_cgroup *cg, const struct husk_spec *spec, struct husk_err *err);

/* The shallowest directory cgroup_make created ("/husk-test"), relative to the hierarchy root, or NULL
 * when it made none; recorded in the state so a later `delete` removes the parents it made.  With
 * the systemd driver, "systemd:UNIT" once the unit started (NULL before), so that `delete` stops it.  */
const char *cgroup_made_top (const struct husk_cgroup *cg);

/* The cgroup recorded as PATH (absolute, from cgroup_path) and MADE_TOP (from cgroup_made_top, may be
 * NULL), for commands run after the one that made it (kill, delete, ps).  A MADE_TOP "systemd:UNIT"
 * makes cgroup_destroy stop UNIT through systemd (connecting only then).  Returns it, or NULL with
 * ERR. */
struct husk_cgroup *cgroup_open (const char *path, const char *made_top, struct husk_err *err);

/* The pids in CG (malloc'd array into *PIDS, count into *N).  Returns 0, or -1 with ERR.  */
int cgroup_pids (const struct husk_cgroup *cg, pid_t **pids, size_t *n, struct husk_err *err);

/* Send SIG to every process in CG (kill --all).  Returns how many, or -1 with ERR.  */
int cgroup_signal_all (const struct husk_cgroup *cg, int sig, struct husk_err *err);

/* An O_PATH fd of the container's cgroup2 directory (the only hierarchy of a v2 host, the "unified"
 * one of a hybrid host) for clone3's CLONE_INTO_CGROUP, or -1 when there is none.  Close it.  */
int cgroup_v2_fd (const struct husk_cgroup *cg);

/* Move the calling, single-threaded process into CG, called by stage 1 right after its birth, then
 * (systemd driver) kill the pin process that held the new scope until then.  v1
 * hierarchies: "0" written to `tasks`, a thread moving itself, which the kernel does without the
 * global threadgroup lock that a `cgroup.procs` write takes (that lock waits for an RCU grace
 * period: 10-30 ms here).  The cgroup2 hierarchy is skipped when IN_V2 (the process was born there
 * with CLONE_INTO_CGROUP), else entered through `cgroup.procs`.  Returns 0, or -1 with ERR.  */
int cgroup_enter_self (const struct husk_cgroup *cg, bool in_v2, struct husk_err *err);

/* Mount the container's cgroup filesystem for a `cgroup` mount on TARGETFD (an O_PATH fd of the
 * destination directory, inside the rootfs), called in the child.  v2: cgroup2; v1/hybrid: a tmpfs
 * holding one mount per hierarchy.  With CGROUPNS each mount shows the namespace root; without, the
 * container's own cgroup directory is bind-mounted.  MOUNT_ATTR are MOUNT_ATTR_* flags (RDONLY,
 * NOSUID, ...) for every mount made.  CG NULL: only the tmpfs/cgroup2 is mounted.
 * Returns 0, or -1 with ERR.  */
int cgroup_mount (const struct husk_cgroup *cg, int targetfd, bool cgroupns, unsigned int mount_attr,
                  struct husk_err *err);

/* Kill everything left in CG and remove its directories (retrying while busy).  Safe on a
 * half-made cgroup.  systemd driver: the unit is stopped first (a failure to reach systemd is a
 * warning); a unit whose start failed is not this container's, and nothing is removed.  Returns 0,
 * or -1 with ERR.  */
int cgroup_destroy (struct husk_cgroup *cg, struct husk_err *err);

/* The cgroup's path ("/husk/ID") from the root of its first hierarchy: what later commands open.
 * NULL when a rootless container has no cgroup at all.  */
const char *cgroup_path (const struct husk_cgroup *cg);

/* `update`: write the limits of R into the existing cgroup CG (devices are not changed, as with
 * runc).  Returns 0, or -1 with ERR naming the field.  config-linux.md "Control groups".  */
int cgroup_update (const struct husk_cgroup *cg, const struct husk_resources *r, struct husk_err *err);

struct resources_v1_dir;

/* The container's directories for reading stats: on a v2 host an O_PATH fd into *V2FD and 0 is
 * returned; else *V2FD = -1 and one O_PATH fd per v1 hierarchy (not name=systemd, not cgroup2) into
 * OUT (at most MAX; controllers = the hierarchy's name, valid while CG lives; a missing directory is
 * skipped).  Returns how many, or -1 with ERR.  The caller closes the fds.  */
int cgroup_stat_dirs (const struct husk_cgroup *cg, struct resources_v1_dir *out, size_t max, int *v2fd,
                      struct husk_err *err);

/* Freeze (FREEZE true) or thaw every process of CG: v1 freezer.state FROZEN/THAWED, v2 cgroup.freeze
 * 1/0; waits (up to ~5 s) until the kernel reports the change done.  Returns 0, or -1 with ERR.  */
int cgroup_freeze (const struct husk_cgroup *cg, bool freeze, struct husk_err *err);

/* True when the cgroup recorded as PATH is frozen (v1 freezer.state FROZEN or FREEZING, v2
 * cgroup.freeze 1).  Reads two small files; no struct needed, for `state` and `list`.  */
bool cgroup_path_frozen (const char *path);

/* Free CG's memory (does not remove it; the systemd driver's pin process, if still there, is killed
 * and its bus connection closed); NULL allowed.  */
void cgroup_free (struct husk_cgroup *cg);

#endif
