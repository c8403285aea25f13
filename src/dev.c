/* /dev inside the container (see dev.h).
 *
 * Every node is made with mknodat/symlinkat on an fd of its parent directory resolved inside the
 * root, existing entries are examined with AT_SYMLINK_NOFOLLOW, and nothing is ever opened through
 * a path the container could have turned into a symlink.  SECURITY.md: CVE-2026-41579,
 * CVE-2026-47766, CVE-2024-45310.  */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "dev.h"
#include "fs.h"
#include "util.h"

/* One device node to make.  */
struct node
{
  const char *path; /* absolute path in the container, and of the host device bound in a userns */
  mode_t type;      /* S_IFCHR, S_IFBLK or S_IFIFO */
  dev_t rdev;
  mode_t perm;      /* permission bits */
  uid_t uid;
  gid_t gid;
};

struct default_device
{
  const char *path;
  unsigned int major;
  unsigned int minor;
};

/* config-linux.md "Default Devices".  */
static const struct default_device default_devices[] = {
  { "/dev/null", 1, 3 },    { "/dev/zero", 1, 5 },    { "/dev/full", 1, 7 },
  { "/dev/random", 1, 8 },  { "/dev/urandom", 1, 9 }, { "/dev/tty", 5, 0 },
};

struct default_link
{
  const char *name; /* under /dev */
  const char *target;
  bool replace;     /* replace whatever is there (ptmx must point at the devpts instance) */
};

/* runtime.md / config-linux.md "Default Filesystems" and the usual /dev symlinks.  */
static const struct default_link default_links[] = {
  { "fd", "/proc/self/fd", false },       { "stdin", "/proc/self/fd/0", false },
  { "stdout", "/proc/self/fd/1", false }, { "stderr", "/proc/self/fd/2", false },
  { "core", "/proc/kcore", false },       { "ptmx", "pts/ptmx", true },
};

/* True when the existing entry ST already is NODE.  In a user namespace the node is the host's
 * device bound in, whose mode and owner are the host's, so only type and number count.  */
static bool
node_matches (const struct stat *st, const struct node *node, bool userns)
{
  if ((st->st_mode & S_IFMT) != node->type)
    return false;
  if (node->type != S_IFIFO && st->st_rdev != node->rdev)
    return false;
  if (userns)
    return true;
  return (st->st_mode & 07777) == node->perm && st->st_uid == node->uid && st->st_gid == node->gid;
}

/* Bind the host's device NODE->path onto the new empty file NAME under PARENTFD: what a user
 * namespace gets instead of mknod.  Returns 0, or -1 with ERR.  */
static int
bind_host_device (int parentfd, const char *name, const struct node *node, struct husk_err *err)
{
  struct stat st;

  cleanup_close int hostfd = open (node->path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (hostfd < 0 || fstat (hostfd, &st) < 0)
    return husk_err_set (err, errno, "open the host device '%s'", node->path);
  if ((st.st_mode & S_IFMT) != node->type || st.st_rdev != node->rdev)
    return husk_err_set (err, 0, "the host's '%s' is not the device %u:%u", node->path,
                         major (node->rdev), minor (node->rdev));

  if (mknodat (parentfd, name, S_IFREG | 0600, 0) < 0)
    return husk_err_set (err, errno, "make the mount point '%s'", node->path);
  cleanup_close int tfd = openat (parentfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (tfd < 0 || fstat (tfd, &st) < 0)
    return husk_err_set (err, errno, "open '%s'", node->path);
  if (!S_ISREG (st.st_mode))
    return husk_err_set (err, EEXIST, "'%s' changed while it was made", node->path);

  cleanup_close int mfd = open_tree (hostfd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
  if (mfd < 0
      || move_mount (mfd, "", tfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return husk_err_set (err, errno, "bind the host device '%s'", node->path);
  return 0;
}

/* Make NODE as NAME under PARENTFD: keep a matching entry, replace anything else but a directory
 * (never following a symlink), mknod it, or bind the host's device in a user namespace.
 * Returns 0, or -1 with ERR.  */
static int
make_node (int parentfd, const char *name, const struct node *node, bool userns, struct husk_err *err)
{
  struct stat st;

  if (fstatat (parentfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
    {
      if (node_matches (&st, node, userns))
        return 0;
      if (S_ISDIR (st.st_mode))
        return husk_err_set (err, EEXIST, "make device '%s': a directory is in the way", node->path);
      if (unlinkat (parentfd, name, 0) < 0)
        return husk_err_set (err, errno, "remove '%s'", node->path);
    }
  else if (errno != ENOENT)
    return husk_err_set (err, errno, "stat '%s'", node->path);

  if (node->type == S_IFIFO || !userns)
    {
      mode_t old = umask (0);
      int r = mknodat (parentfd, name, node->type | node->perm, node->rdev);
      int e = errno;
      umask (old);
      if (r == 0)
        {
          if (fchownat (parentfd, name, node->uid, node->gid, AT_SYMLINK_NOFOLLOW) < 0)
            return husk_err_set (err, errno, "change the owner of '%s'", node->path);
          return 0;
        }
      if (e != EPERM || node->type == S_IFIFO)
        return husk_err_set (err, e, "make device '%s'", node->path);
    }
  return bind_host_device (parentfd, name, node, err);
}

/* Make the symlink NAME -> TARGET under DEVFD.  An existing entry is kept unless REPLACE (a
 * directory is never replaced).  Returns 0, or -1 with ERR.  */
static int
make_link (int devfd, const char *name, const char *target, bool replace, struct husk_err *err)
{
  struct stat st;

  if (fstatat (devfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
    {
      char buf[PATH_MAX];
      ssize_t n = S_ISLNK (st.st_mode) ? readlinkat (devfd, name, buf, sizeof buf - 1) : -1;
      if (n >= 0 && (size_t) n == strlen (target) && memcmp (buf, target, (size_t) n) == 0)
        return 0;
      if (!replace)
        return 0;
      if (S_ISDIR (st.st_mode))
        return husk_err_set (err, EEXIST, "make symlink '/dev/%s': a directory is in the way", name);
      if (unlinkat (devfd, name, 0) < 0)
        return husk_err_set (err, errno, "remove '/dev/%s'", name);
    }
  else if (errno != ENOENT)
    return husk_err_set (err, errno, "stat '/dev/%s'", name);
  if (symlinkat (target, devfd, name) < 0)
    return husk_err_set (err, errno, "make symlink '/dev/%s'", name);
  return 0;
}

/* True when the destination DEST names /dev itself ("/dev", "//dev/", "dev").  */
static bool
is_dev_destination (const char *dest)
{
  while (*dest == '/')
    dest++;
  if (strncmp (dest, "dev", 3) != 0)
    return false;
  for (dest += 3; *dest == '/'; dest++)
    ;
  return *dest == '\0';
}

/* True when SPEC bind-mounts something onto /dev: then the config owns /dev.  */
static bool
dev_is_bound (const struct husk_spec *spec)
{
  for (size_t i = 0; i < spec->n_mounts; i++)
    {
      const struct husk_mount *m = &spec->mounts[i];
      if (!is_dev_destination (m->destination))
        continue;
      if (m->type != NULL && (strcmp (m->type, "bind") == 0 || strcmp (m->type, "rbind") == 0))
        return true;
      for (size_t k = 0; k < m->n_options; k++)
        if (strcmp (m->options[k], "bind") == 0 || strcmp (m->options[k], "rbind") == 0)
          return true;
    }
  return false;
}

/* Make the node of linux.devices[I] (D) inside ROOTFD.  Returns 0, or -1 with ERR.  */
static int
make_spec_device (int rootfd, size_t i, const struct husk_device *d, bool userns, struct husk_err *err)
{
  struct node node = {
    .path = d->path,
    .perm = d->has_file_mode ? (mode_t) (d->file_mode & 07777) : 0666,
    .uid = d->has_uid ? d->uid : 0,
    .gid = d->has_gid ? d->gid : 0,
  };

  switch (d->type)
    {
    case 'c':
    case 'u':
      node.type = S_IFCHR;
      break;
    case 'b':
      node.type = S_IFBLK;
      break;
    case 'p':
      node.type = S_IFIFO;
      break;
    default:
      return husk_err_set (err, 0, "config.json: linux.devices[%zu].type: unknown type '%c'", i, d->type);
    }
  if (node.type != S_IFIFO)
    {
      if (d->major < 0 || d->major > UINT32_MAX || d->minor < 0 || d->minor > UINT32_MAX)
        return husk_err_set (err, 0, "config.json: linux.devices[%zu]: device number %" PRId64 ":%" PRId64
                             " out of range", i, d->major, d->minor);
      node.rdev = makedev ((unsigned int) d->major, (unsigned int) d->minor);
    }

  cleanup_free char *dir = xstrdup (d->path);
  char *slash = strrchr (dir, '/');
  const char *name = slash != NULL ? slash + 1 : dir;
  if (slash != NULL)
    *slash = '\0';
  if (name[0] == '\0' || strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
    return husk_err_set (err, 0, "config.json: linux.devices[%zu].path: '%s' names no file", i, d->path);

  cleanup_close int parentfd = fs_mkdir_in_root (rootfd, slash != NULL && dir[0] ? dir : "/", 0755, err);
  if (parentfd < 0 || make_node (parentfd, name, &node, userns, err) < 0)
    return husk_err_prefix (err, "config.json: linux.devices[%zu]", i);
  return 0;
}

int
dev_setup (const struct husk_spec *spec, int rootfd, bool userns, struct husk_err *err)
{
  if (dev_is_bound (spec))
    return 0;

  /* A /dev that is a symlink is refused here, whatever it points to.  */
  cleanup_close int devfd = fs_mkdir_in_root (rootfd, "/dev", 0755, err);
  if (devfd < 0)
    return -1;

  for (size_t i = 0; i < ARRAY_SIZE (default_devices); i++)
    {
      const struct default_device *d = &default_devices[i];
      struct node node = {
        .path = d->path,
        .type = S_IFCHR,
        .rdev = makedev (d->major, d->minor),
        .perm = 0666,
      };
      if (make_node (devfd, d->path + strlen ("/dev/"), &node, userns, err) < 0)
        return -1;
    }
  for (size_t i = 0; i < ARRAY_SIZE (default_links); i++)
    if (make_link (devfd, default_links[i].name, default_links[i].target, default_links[i].replace, err) < 0)
      return -1;

  if (spec->linux != NULL)
    for (size_t i = 0; i < spec->linux->n_devices; i++)
      if (make_spec_device (rootfd, i, &spec->linux->devices[i], userns, err) < 0)
        return -1;
  return 0;
}
