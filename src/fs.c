/* Path resolution that stays inside the container's root (see fs.h).
 *
 * Everything a container controls (its rootfs, its /dev, its /proc) is reached through file
 * descriptors: openat2(RESOLVE_IN_ROOT) for lookups, mkdirat/mknodat on a parent fd for creation,
 * and the caller keeps the fd it was given.  SECURITY.md section 1.1.  */
#include "config.h"

#include <stdio.h>

#include <sys/sendfile.h>

#include <dirent.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fs.h"
#include "util.h"

/* How often an openat2 that failed with EAGAIN (a rename or mount raced the lookup of "..") is
 * retried before giving up.  SECURITY.md section 2.2: a small budget failed on busy hosts.  */
#define FS_EAGAIN_RETRIES 128

/* How many symlinks fs_mkdir_in_root follows in one path, as the kernel's MAXSYMLINKS.  */
#define FS_MAX_SYMLINKS 40

/* The inode number of the root directory of every procfs instance.  */
#define PROC_ROOT_INO 1

static int
openat2_retry (int dirfd, const char *path, int flags, unsigned long long resolve)
{
  struct open_how how = {
    .flags = (unsigned long long) (flags | O_CLOEXEC),
    .resolve = resolve,
  };
  for (int i = 0; i < FS_EAGAIN_RETRIES; i++)
    {
      long fd = syscall (SYS_openat2, dirfd, path, &how, sizeof how);
      if (fd >= 0)
        return (int) fd;
      if (errno != EAGAIN && errno != EINTR)
        return -1;
    }
  return -1;
}

int
fs_open_in_root (int rootfd, const char *path, int flags, struct husk_err *err)
{
  int fd = openat2_retry (rootfd, path, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  if (fd < 0)
    return husk_err_set (err, errno, "open '%s' in the container root", path);
  return fd;
}

/* Open the directory NAME (one component, no slash) under PARENTFD without following a symlink:
 * returns an O_PATH fd of whatever is there (a symlink included), or -1 with errno.  */
static int
open_component (int parentfd, const char *name)
{
  return openat2_retry (parentfd, name, O_PATH | O_NOFOLLOW,
                        RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
}

/* Drop the last component of the in-root path RESOLVED ("a/b" -> "a", "a" -> "").  */
static void
path_pop (char *resolved)
{
  char *slash = strrchr (resolved, '/');
  if (slash != NULL)
    *slash = '\0';
  else
    resolved[0] = '\0';
}

/* The walk of fs_mkdir_in_root.  TODO holds the part of the path still to be walked (symlink
 * targets are spliced into it), RESOLVED the real directories walked so far (relative to the root,
 * without symlinks), CUR an O_PATH fd of RESOLVED.  */
struct walk
{
  int rootfd;
  char *todo;
  char *resolved;
  int cur;
  int links;
};

/* Replace the walk's remaining path by TARGET followed by REST; an absolute TARGET restarts from
 * the root.  Returns 0, or -1 with errno.  */
static int
walk_splice_link (struct walk *w, const char *target, const char *rest)
{
  if (++w->links > FS_MAX_SYMLINKS)
    {
      errno = ELOOP;
      return -1;
    }
  char *todo = xasprintf ("%s/%s", target, rest);
  free (w->todo);
  w->todo = todo;
  if (target[0] == '/')
    {
      int fd = openat2_retry (w->rootfd, "/", O_PATH | O_DIRECTORY, RESOLVE_IN_ROOT);
      if (fd < 0)
        return -1;
      close (w->cur);
      w->cur = fd;
      w->resolved[0] = '\0';
    }
  return 0;
}

/* Step into the component NAME of the walk, creating it with MODE when missing.  LAST tells that
 * it is the final component (which must not be a symlink).  REST is what follows it.  Returns 0,
 * or -1 with errno.  */
static int
walk_step (struct walk *w, const char *name, const char *rest, bool last, mode_t mode)
{
  if (strcmp (name, "..") == 0)
    {
      path_pop (w->resolved);
      int fd = openat2_retry (w->rootfd, w->resolved[0] ? w->resolved : "/", O_PATH | O_DIRECTORY,
                              RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
      if (fd < 0)
        return -1;
      close (w->cur);
      w->cur = fd;
      return 0;
    }

  cleanup_close int fd = open_component (w->cur, name);
  if (fd < 0 && errno == ENOENT)
    {
      if (mkdirat (w->cur, name, mode) < 0 && errno != EEXIST)
        return -1;
      fd = open_component (w->cur, name);
    }
  if (fd < 0)
    return -1;

  struct stat st;
  if (fstat (fd, &st) < 0)
    return -1;
  if (S_ISLNK (st.st_mode))
    {
      if (last)
        {
          errno = ELOOP;
          return -1;
        }
      cleanup_free char *target = readlink_at (fd, "");
      if (target == NULL)
        return -1;
      return walk_splice_link (w, target, rest);
    }
  if (!S_ISDIR (st.st_mode))
    {
      errno = ENOTDIR;
      return -1;
    }

  char *resolved = w->resolved[0] ? xasprintf ("%s/%s", w->resolved, name) : xstrdup (name);
  free (w->resolved);
  w->resolved = resolved;
  close (w->cur);
  w->cur = steal_fd (&fd);
  return 0;
}

int
fs_mkdir_in_root (int rootfd, const char *path, mode_t mode, struct husk_err *err)
{
  struct walk w = { .rootfd = rootfd, .todo = xstrdup (path), .resolved = xstrdup (""), .cur = -1 };
  int ret = -1;

  w.cur = openat2_retry (rootfd, "/", O_PATH | O_DIRECTORY, RESOLVE_IN_ROOT);
  if (w.cur < 0)
    {
      husk_err_set (err, errno, "open the container root");
      goto out;
    }

  for (;;)
    {
      /* Split the next component off w.todo.  */
      char *p = w.todo;
      while (*p == '/')
        p++;
      if (*p == '\0')
        break;
      char *end = strchrnul (p, '/');
      cleanup_free char *name = xasprintf ("%.*s", (int) (end - p), p);
      const char *rest = end;
      while (*rest == '/')
        rest++;
      cleanup_free char *rest_copy = xstrdup (rest);
      bool last = rest_copy[0] == '\0';

      /* The remaining path becomes w.todo before the step, which may splice a symlink into it.  */
      free (w.todo);
      w.todo = xstrdup (rest_copy);
      if (strcmp (name, ".") == 0)
        continue;
      if (walk_step (&w, name, rest_copy, last, mode) < 0)
        {
          if (errno == ELOOP && last)
            husk_err_set (err, ELOOP, "make directory '%s' in the container root: '%s' is a symlink",
                          path, name);
          else
            husk_err_set (err, errno, "make directory '%s' in the container root", path);
          goto out;
        }
    }
  ret = steal_fd (&w.cur);

out:
  if (w.cur >= 0)
    close (w.cur);
  free (w.todo);
  free (w.resolved);
  return ret;
}

int
fs_mkfile_in_root (int rootfd, const char *path, mode_t mode, struct husk_err *err)
{
  cleanup_free char *dir = xstrdup (path);
  char *slash = strrchr (dir, '/');
  const char *name;

  /* Trailing slashes make no sense for a file.  */
  if (slash != NULL && slash[1] == '\0')
    return husk_err_set (err, EISDIR, "make file '%s' in the container root", path);
  if (slash == NULL)
    {
      name = path;
      dir[0] = '\0';
    }
  else
    {
      *slash = '\0';
      name = slash + 1;
    }
  if (strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
    return husk_err_set (err, EISDIR, "make file '%s' in the container root", path);

  cleanup_close int parent = fs_mkdir_in_root (rootfd, dir[0] ? dir : "/", 0755, err);
  if (parent < 0)
    return -1;

  if (mknodat (parent, name, S_IFREG | (mode & 07777), 0) < 0 && errno != EEXIST)
    return husk_err_set (err, errno, "make file '%s' in the container root", path);

  int fd = open_component (parent, name);
  if (fd < 0)
    return husk_err_set (err, errno, "open '%s' in the container root", path);
  struct stat st;
  if (fstat (fd, &st) < 0)
    {
      int e = errno;
      close (fd);
      return husk_err_set (err, e, "stat '%s' in the container root", path);
    }
  if (S_ISLNK (st.st_mode) || S_ISDIR (st.st_mode))
    {
      close (fd);
      if (S_ISLNK (st.st_mode))
        return husk_err_set (err, ELOOP, "make file '%s' in the container root: it is a symlink", path);
      return husk_err_set (err, EISDIR, "make file '%s' in the container root", path);
    }
  return fd;
}

/* Check that FD is the root directory of a procfs.  Returns 0, or -1 with ERR.  */
static int
check_procfs_root (int fd, const char *how, struct husk_err *err)
{
  struct statfs sfs;
  struct stat st;

  if (fstatfs (fd, &sfs) < 0 || fstat (fd, &st) < 0)
    return husk_err_set (err, errno, "stat the procfs from %s", how);
  if (sfs.f_type != PROC_SUPER_MAGIC)
    return husk_err_set (err, EXDEV, "the procfs from %s is not a procfs", how);
  if (st.st_ino != PROC_ROOT_INO)
    return husk_err_set (err, EXDEV, "the procfs from %s is not the root of a procfs", how);
  return 0;
}

/* A new procfs instance: fsopen + fsmount.  Returns the mount fd, or -1 with errno.  */
static int
procfs_new_instance (void)
{
  cleanup_close int fsfd = fsopen ("proc", FSOPEN_CLOEXEC);
  if (fsfd < 0)
    return -1;
  if (fsconfig (fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return -1;
  return fsmount (fsfd, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
}

int
fs_open_procfs (struct husk_err *err)
{
  cleanup_close int fd = procfs_new_instance ();
  const char *how = "fsopen";

  if (fd < 0)
    {
      /* A pid namespace we do not own, or a partly hidden /proc, forbids a new instance: clone the
       * mount at /proc instead (not recursive, so nothing mounted over its files comes along).  */
      int e = errno;
      how = "open_tree '/proc'";
      fd = open_tree (AT_FDCWD, "/proc", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
      if (fd < 0)
        return husk_err_set (err, errno, "open a private procfs (fsopen: %s)", strerror (e));
    }
  if (check_procfs_root (fd, how, err) < 0)
    return -1;
  return steal_fd (&fd);
}

bool
fs_is_dev_null (int fd)
{
  struct stat st;

  if (fstat (fd, &st) < 0)
    return false;
  return S_ISCHR (st.st_mode) && st.st_rdev == makedev (1, 3);
}

/* Copy the regular file NAME of SRC into DST (created, mode MODE).  */
static int
copy_file (int src, int dst, const char *name, mode_t mode, struct husk_err *err)
{
  cleanup_close int in = openat (src, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  cleanup_close int out = -1;

  if (in < 0)
    return husk_err_set (err, errno, "open '%s'", name);
  out = openat (dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 07777);
  if (out < 0)
    return husk_err_set (err, errno, "create '%s'", name);
  for (;;)
    {
      ssize_t n = copy_file_range (in, NULL, out, NULL, 1 << 20, 0);
      if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS))
        n = sendfile (out, in, NULL, 1 << 20);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return husk_err_set (err, errno, "copy '%s'", name);
      if (n == 0)
        return 0;
    }
}

/* Give NAME in DST (or DST itself when NAME is "") the owner, mode and times of ST.  */
static int
copy_attrs (int dst, const char *name, const struct stat *st, struct husk_err *err)
{
  struct timespec times[2] = { st->st_atim, st->st_mtim };
  char self[32];
  int at = dst, flags = AT_SYMLINK_NOFOLLOW;

  /* DST itself may be an O_PATH fd (a detached mount): reach it through its /proc/self/fd link.  */
  if (*name == '\0')
    {
      (void) snprintf (self, sizeof self, "/proc/self/fd/%d", dst);
      at = AT_FDCWD;
      name = self;
      flags = 0;
    }
  if (fchownat (at, name, st->st_uid, st->st_gid, flags) < 0)
    return husk_err_set (err, errno, "chown '%s'", name);
  if (!S_ISLNK (st->st_mode) && fchmodat (at, name, st->st_mode & 07777, 0) < 0)
    return husk_err_set (err, errno, "chmod '%s'", name);
  (void) utimensat (at, name, times, flags);
  return 0;
}

static int
copy_dir (int src, int dst, int depth, struct husk_err *err)
{
  cleanup_close int dfd = openat (src, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_dir DIR *d = NULL;
  struct dirent *de;

  if (depth > 64)
    return husk_err_set (err, ELOOP, "copy: more than 64 levels of directories");
  if (dfd < 0 || (d = fdopendir (dfd)) == NULL)
    return husk_err_set (err, errno, "read directory");
  dfd = -1; /* owned by D now */
  while ((errno = 0, de = readdir (d)) != NULL)
    {
      const char *name = de->d_name;
      struct stat st;
      if (strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
        continue;
      if (fstatat (dirfd (d), name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return husk_err_set (err, errno, "stat '%s'", name);
      if (S_ISDIR (st.st_mode))
        {
          if (mkdirat (dst, name, 0700) < 0)
            return husk_err_set (err, errno, "mkdir '%s'", name);
          cleanup_close int s2 = openat (dirfd (d), name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          cleanup_close int d2 = openat (dst, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (s2 < 0 || d2 < 0)
            return husk_err_set (err, errno, "open directory '%s'", name);
          if (copy_dir (s2, d2, depth + 1, err) < 0)
            return husk_err_prefix (err, "%s", name);
        }
      else if (S_ISREG (st.st_mode))
        {
          if (copy_file (dirfd (d), dst, name, st.st_mode, err) < 0)
            return -1;
        }
      else if (S_ISLNK (st.st_mode))
        {
          cleanup_free char *target = readlink_at (dirfd (d), name);
          if (target == NULL || symlinkat (target, dst, name) < 0)
            return husk_err_set (err, errno, "copy symlink '%s'", name);
        }
      else if (mknodat (dst, name, st.st_mode, st.st_rdev) < 0)
        return husk_err_set (err, errno, "mknod '%s'", name);
      if (copy_attrs (dst, name, &st, err) < 0)
        return -1;
    }
  if (errno != 0)
    return husk_err_set (err, errno, "read directory");
  return 0;
}

int
fs_copy_tree (int srcfd, int dstfd, struct husk_err *err)
{
  struct stat st;

  if (fstat (srcfd, &st) < 0)
    return husk_err_set (err, errno, "stat the directory to copy");
  if (copy_dir (srcfd, dstfd, 0, err) < 0)
    return -1;
  return copy_attrs (dstfd, "", &st, err);
}

/* Remove every entry of the directory FD.  An entry that is a non-empty directory is not removed:
 * its name is returned in *SUBDIR (free it) for the caller to descend into; NULL when FD is empty
 * now.  Returns 0, or -1 with ERR.  */
static int
empty_dir_step (int fd, char **subdir, struct husk_err *err)
{
  cleanup_dir DIR *d = NULL;
  int rfd = openat (fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct dirent *de;

  *subdir = NULL;
  if (rfd < 0 || (d = fdopendir (rfd)) == NULL)
    {
      int e = errno;
      if (rfd >= 0)
        (void) close (rfd);
      return husk_err_set (err, e, "read a directory to remove it");
    }
  while ((errno = 0, de = readdir (d)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (unlinkat (fd, de->d_name, 0) == 0 || errno == ENOENT)
        continue;
      if (errno != EISDIR && errno != EPERM)
        return husk_err_set (err, errno, "remove '%s'", de->d_name);
      if (unlinkat (fd, de->d_name, AT_REMOVEDIR) == 0 || errno == ENOENT)
        continue;
      if (errno != ENOTEMPTY && errno != EEXIST)
        return husk_err_set (err, errno, "remove the directory '%s'", de->d_name);
      *subdir = xstrdup (de->d_name);
      return 0;
    }
  if (errno != 0)
    return husk_err_set (err, errno, "read a directory to remove it");
  return 0;
}

int
fs_remove_tree (int dirfd, const char *name, struct husk_err *err)
{
  cleanup_close int fd = -1;
  char **stack = NULL;
  size_t depth = 0, cap = 0;
  int ret = -1;

  if (unlinkat (dirfd, name, 0) == 0 || errno == ENOENT)
    return 0;
  if (errno != EISDIR && errno != EPERM)
    return husk_err_set (err, errno, "remove '%s'", name);
  if (unlinkat (dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
    return 0;
  fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return husk_err_set (err, errno, "open '%s' to remove it", name);
  for (;;)
    {
      char *sub;
      if (empty_dir_step (fd, &sub, err) < 0)
        goto out;
      if (sub != NULL)
        {
          int child = openat (fd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (child < 0)
            {
              husk_err_set (err, errno, "open '%s' to remove it", sub);
              free (sub);
              goto out;
            }
          if (depth == cap)
            stack = xrealloc (stack, (cap = cap ? 2 * cap : 64) * sizeof *stack);
          stack[depth++] = sub;
          (void) close (fd);
          fd = child;
          continue;
        }
      if (depth == 0)
        break;
      /* FD is empty: climb to its parent and remove it there.  */
      {
        int parent = openat (fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cleanup_free char *done = stack[--depth];
        if (parent < 0)
          {
            husk_err_set (err, errno, "climb out of '%s' while removing it", done);
            goto out;
          }
        (void) close (fd);
        fd = parent;
        if (unlinkat (fd, done, AT_REMOVEDIR) < 0 && errno != ENOENT)
          {
            husk_err_set (err, errno, "remove the directory '%s'", done);
            goto out;
          }
      }
    }
  if (unlinkat (dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    {
      husk_err_set (err, errno, "remove the directory '%s'", name);
      goto out;
    }
  ret = 0;
out:
  while (depth > 0)
    free (stack[--depth]);
  free (stack);
  return ret;
}
