/* The container's root filesystem: propagation, the rootfs bind, the config's mounts, pivot_root,
 * masked and readonly paths, root.readonly.  Runs in the child, inside its new mount namespace.
 * config.md "Root", "Mounts"; config-linux.md "Rootfs Mount Propagation", "Masked Paths",
 * "Readonly Paths".  */
#ifndef HUSK_MOUNT_H
#define HUSK_MOUNT_H

#include <stdbool.h>

#include "error.h"
#include "spec.h"

struct husk_cgroup;

struct husk_mount_ctx
{
  const struct husk_spec *spec;
  const char *bundle;       /* absolute bundle directory: relative mount sources start here */
  const char *rootfs;       /* absolute path of the rootfs directory (bundle + root.path) */
  int rootfd;               /* O_PATH fd of the rootfs mount, set by mount_prepare_rootfs */
  bool userns;              /* the container has a new user namespace (no mknod; locked flags) */
  bool cgroupns;            /* the container has a new cgroup namespace */
  const struct husk_cgroup *cgroup; /* for `cgroup` mounts; may be NULL (no cgroup) */
  int rootfs_mount;         /* a detached mount to attach on the rootfs instead of binding it (an
                             * image bundle's overlay, overlay.h), or -1 */
};

/* Make "/" MS_REC|MS_SLAVE (or linux.rootfsPropagation's mode), bind the rootfs onto itself
 * (MS_BIND|MS_REC) so it is a mount point (or attach CTX->rootfs_mount there), and open it into
 * CTX->rootfd.  For any rootfsPropagation
 * other than the default (rslave) the mount holding the rootfs is made private in the container's
 * namespace first, or pivot_root would fail with EINVAL.  Errors: the rootfs missing
 * or not a directory ("config.json: root.path: '/x/rootfs': No such file or directory").
 * Returns 0, or -1 with ERR.  */
int mount_prepare_rootfs (struct husk_mount_ctx *ctx, struct husk_err *err);

/* Mount every entry of spec->mounts in order, each destination resolved inside CTX->rootfd
 * (created when missing) and mounted through fds (fsopen/fsmount/open_tree/move_mount), with the
 * flags and propagation of its options.  proc and sysfs must land on a real directory; nothing may
 * be mounted on or under /proc except procfs and the lxcfs-style files (CVE-2019-16884).
 * Returns 0, or -1 with ERR ("config.json: mounts[3]: ...").  */
int mount_spec_mounts (struct husk_mount_ctx *ctx, struct husk_err *err);

/* pivot_root into CTX->rootfd and detach the old root (pivot_root(".", ".") + umount2 MNT_DETACH);
 * afterwards "/" is the rootfs and CTX->rootfd is closed.  Then linux.rootfsPropagation is applied
 * to the new root.  Returns 0, or -1 with ERR.  */
int mount_pivot_root (struct husk_mount_ctx *ctx, struct husk_err *err);

/* After pivot_root: mask linux.maskedPaths (files: bind of a verified /dev/null, 1:3; directories:
 * a read-only tmpfs; missing paths are skipped), make linux.readonlyPaths read-only binds, and
 * remount "/" read-only when root.readonly.  Returns 0, or -1 with ERR.  */
int mount_finalize (struct husk_mount_ctx *ctx, struct husk_err *err);

#endif
