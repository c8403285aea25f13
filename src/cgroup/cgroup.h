/* Control groups: the only header the rest of husk includes.  This is the foundation's minimal
 * driver: detect the host layout, create the container's cgroup at linux.cgroupsPath, move the
 * container in, mount it for the container, destroy it.  Resources come with the cgroup issue.
 * config-linux.md "Control groups", "cgroupsPath".  */
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

/* Create the cgroup for container ID from SPEC's linux.cgroupsPath (absolute: under the hierarchy
 * root; relative or absent: under husk's own cgroup, "husk/<id>" by default), in every v1 hierarchy
 * or in the v2 tree.  Applies what resources this driver supports and refuses the rest with
 * "not supported yet".  Returns the cgroup (free with cgroup_free), or NULL with ERR; on failure
 * nothing is left behind.  */
struct husk_cgroup *cgroup_create (const struct husk_spec *spec, const char *id, struct husk_err *err);

/* An O_PATH fd of the container's cgroup2 directory (the only hierarchy of a v2 host, the "unified"
 * one of a hybrid host) for clone3's CLONE_INTO_CGROUP, or -1 when there is none.  Close it.  */
int cgroup_v2_fd (const struct husk_cgroup *cg);

/* Move the calling, single-threaded process into CG, called by stage 1 right after its birth.  v1
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
 * half-made cgroup.  Returns 0, or -1 with ERR.  */
int cgroup_destroy (struct husk_cgroup *cg, struct husk_err *err);

/* The cgroup path ("/husk/ID"), relative to each hierarchy's root.  */
const char *cgroup_path (const struct husk_cgroup *cg);

/* Free CG's memory (does not remove it); NULL allowed.  */
void cgroup_free (struct husk_cgroup *cg);

#endif
