/* Path resolution that never leaves the container's root: every lookup of a path the container
 * controls goes through these (openat2 RESOLVE_IN_ROOT), and callers keep the returned fds instead
 * of re-resolving strings.  SECURITY.md: CVE-2019-18837, CVE-2021-30465, CVE-2024-45310.  */
#ifndef HUSK_FS_H
#define HUSK_FS_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

/* Open PATH (absolute or relative, always taken relative to the root ROOTFD) with openat2
 * RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS and FLAGS|O_CLOEXEC (add O_NOFOLLOW to refuse a final
 * symlink).  Retries EAGAIN a bounded number of times.  Returns the fd, or -1 with ERR naming PATH.  */
int fs_open_in_root (int rootfd, const char *path, int flags, struct husk_err *err);

/* Make directory PATH and its missing parents inside ROOTFD with MODE, one component at a time
 * (mkdirat on the parent's fd, then open it with O_NOFOLLOW|O_DIRECTORY), so a symlink planted on the
 * way resolves inside the root and a final symlink is refused.  Returns an O_PATH|O_DIRECTORY fd of
 * the directory, or -1 with ERR.  */
int fs_mkdir_in_root (int rootfd, const char *path, mode_t mode, struct husk_err *err);

/* Make an empty regular file PATH (parents as fs_mkdir_in_root, 0755) inside ROOTFD when it does not
 * exist (mknodat, never open(O_CREAT) on an untrusted name), for file bind-mount targets.  An existing
 * file is kept; an existing symlink is refused (ELOOP) and a directory too (EISDIR).  Returns an
 * O_PATH fd of it, or -1 with ERR.  */
int fs_mkfile_in_root (int rootfd, const char *path, mode_t mode, struct husk_err *err);

/* A private, detached procfs instance (fsopen("proc") + fsmount; falls back to
 * open_tree("/proc", OPEN_TREE_CLONE) when the pid namespace forbids a new instance), checked to be
 * procfs with root inode 1.  Writes to /proc/sys, /proc/self/... go through this fd, never through a
 * path the container could have replaced.  SECURITY.md CVE-2025-52881.  Returns the fd of its root
 * directory, or -1 with ERR.  */
int fs_open_procfs (struct husk_err *err);

/* Copy the tree under the directory SRCFD (an O_PATH fd is fine) into the directory DSTFD: files,
 * directories, symlinks (as symlinks, never followed), fifos and device nodes, with their modes,
 * owners and times; the root's mode and owner too.  Every step is relative to a directory fd with
 * O_NOFOLLOW, so a tree the container controls cannot send it elsewhere; hard links become copies;
 * at most 64 levels deep.  For the `tmpcopyup` mount option (crun, Podman's --read-only).
 * Returns 0, or -1 with ERR naming the entry.  */
int fs_copy_tree (int srcfd, int dstfd, struct husk_err *err);

/* Remove NAME under DIRFD and, when it is a directory, everything below it.  Nothing is followed:
 * symlinks are removed as links, and the walk holds one directory fd at a time (it climbs back with
 * "..", keeping the names on the heap), so a tree of any depth is removed without running out of
 * fds or stack.  For trees no one else changes meanwhile (a dead container's upper directory, a
 * layer being discarded).  A missing NAME is not an error.  Returns 0, or -1 with ERR naming the
 * entry.  */
int fs_remove_tree (int dirfd, const char *name, struct husk_err *err);

/* True when FD is the character device 1:3 (/dev/null).  SECURITY.md CVE-2025-31133.  */
bool fs_is_dev_null (int fd);

#endif
