/* The container's mounts (see mount.h).
 *
 * Every target inside the rootfs is an fd resolved with fs_open_in_root (or created with
 * fs_mkdir_in_root / fs_mkfile_in_root), and every mount is attached to that fd with the new mount
 * API: fsopen/fsconfig/fsmount for new filesystems, open_tree(OPEN_TREE_CLONE) for binds,
 * mount_setattr for flags and propagation, move_mount to attach.  No path string the container
 * controls reaches mount(2).  SECURITY.md: CVE-2019-16884, CVE-2019-19921, CVE-2021-30465,
 * CVE-2025-31133.  */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "fs.h"
#include "mount.h"
#include "util.h"

/* ---- options --------------------------------------------------------------------------------- */

/* A mount's options, sorted into what goes where.  */
struct mount_opts
{
  uint64_t attr_set;       /* MOUNT_ATTR_* to set (without the atime field) */
  uint64_t attr_clr;       /* MOUNT_ATTR_* to clear */
  bool has_atime;
  uint64_t atime;          /* MOUNT_ATTR_RELATIME, _NOATIME or _STRICTATIME when has_atime */
  uint64_t propagation;    /* MS_PRIVATE, MS_SHARED, MS_SLAVE, MS_UNBINDABLE or 0 */
  bool propagation_recursive;
  bool bind;
  bool rbind;
  bool tmpcopyup;          /* fill a new tmpfs with what the target directory held */
  const char **data;       /* filesystem options (key or key=value), pointers into the spec */
  size_t n_data;
};

struct attr_option
{
  const char *name;
  uint64_t set;
  uint64_t clr;
};

/* mount(8) flag options that are per-mount attributes.  */
static const struct attr_option attr_options[] = {
  { "ro", MOUNT_ATTR_RDONLY, 0 },
  { "rw", 0, MOUNT_ATTR_RDONLY },
  { "nosuid", MOUNT_ATTR_NOSUID, 0 },
  { "suid", 0, MOUNT_ATTR_NOSUID },
  { "nodev", MOUNT_ATTR_NODEV, 0 },
  { "dev", 0, MOUNT_ATTR_NODEV },
  { "noexec", MOUNT_ATTR_NOEXEC, 0 },
  { "exec", 0, MOUNT_ATTR_NOEXEC },
  { "nodiratime", MOUNT_ATTR_NODIRATIME, 0 },
  { "diratime", 0, MOUNT_ATTR_NODIRATIME },
  { "nosymfollow", MOUNT_ATTR_NOSYMFOLLOW, 0 },
  { "symfollow", 0, MOUNT_ATTR_NOSYMFOLLOW },
};

struct atime_option
{
  const char *name;
  uint64_t atime;
};

/* mount(8) atime options: one value of the MOUNT_ATTR__ATIME field each.  */
static const struct atime_option atime_options[] = {
  { "relatime", MOUNT_ATTR_RELATIME },
  { "norelatime", MOUNT_ATTR_STRICTATIME },
  { "strictatime", MOUNT_ATTR_STRICTATIME },
  { "nostrictatime", MOUNT_ATTR_RELATIME },
  { "noatime", MOUNT_ATTR_NOATIME },
  { "atime", MOUNT_ATTR_RELATIME },
};

struct propagation_option
{
  const char *name;
  uint64_t propagation;
  bool recursive;
};

static const struct propagation_option propagation_options[] = {
  { "private", MS_PRIVATE, false },     { "rprivate", MS_PRIVATE, true },
  { "shared", MS_SHARED, false },       { "rshared", MS_SHARED, true },
  { "slave", MS_SLAVE, false },         { "rslave", MS_SLAVE, true },
  { "unbindable", MS_UNBINDABLE, false }, { "runbindable", MS_UNBINDABLE, true },
};

/* Options that ask for features husk does not have yet.  */
static const char *const unsupported_options[] = { "idmap", "ridmap" };

/* Sort one option O of mount I into OPTS.  Returns 0, or -1 with ERR.  */
static int
parse_option (struct mount_opts *opts, size_t i, const char *o, struct husk_err *err)
{
  for (size_t k = 0; k < ARRAY_SIZE (attr_options); k++)
    if (strcmp (o, attr_options[k].name) == 0)
      {
        opts->attr_set = (opts->attr_set & ~attr_options[k].clr) | attr_options[k].set;
        opts->attr_clr = (opts->attr_clr & ~attr_options[k].set) | attr_options[k].clr;
        return 0;
      }
  for (size_t k = 0; k < ARRAY_SIZE (atime_options); k++)
    if (strcmp (o, atime_options[k].name) == 0)
      {
        opts->has_atime = true;
        opts->atime = atime_options[k].atime;
        return 0;
      }
  for (size_t k = 0; k < ARRAY_SIZE (propagation_options); k++)
    if (strcmp (o, propagation_options[k].name) == 0)
      {
        opts->propagation = propagation_options[k].propagation;
        opts->propagation_recursive = propagation_options[k].recursive;
        return 0;
      }
  for (size_t k = 0; k < ARRAY_SIZE (unsupported_options); k++)
    if (strcmp (o, unsupported_options[k]) == 0)
      return husk_err_set (err, 0, "config.json: mounts[%zu].options: '%s': not supported yet", i, o);
  if (strcmp (o, "tmpcopyup") == 0)
    opts->tmpcopyup = true;
  else if (strcmp (o, "bind") == 0)
    opts->bind = true;
  else if (strcmp (o, "rbind") == 0)
    opts->bind = opts->rbind = true;
  else if (strcmp (o, "defaults") == 0 || has_prefix (o, "x-") || has_prefix (o, "X-"))
    ; /* mount(8) defaults, or userspace-only options: nothing for the kernel */
  else if (o[0] == '\0' || o[0] == '=')
    return husk_err_set (err, 0, "config.json: mounts[%zu].options: empty option name", i);
  else
    opts->data[opts->n_data++] = o;
  return 0;
}

/* Sort the options of mount I.  OPTS->data is allocated (free it).  Returns 0, or -1 with ERR.  */
static int
parse_options (const struct husk_mount *m, size_t i, struct mount_opts *opts, struct husk_err *err)
{
  memset (opts, 0, sizeof *opts);
  opts->data = xcalloc (m->n_options + 1, sizeof *opts->data);
  for (size_t k = 0; k < m->n_options; k++)
    if (parse_option (opts, i, m->options[k], err) < 0)
      return -1;
  if (opts->has_atime)
    {
      opts->attr_clr |= MOUNT_ATTR__ATIME;
      opts->attr_set = (opts->attr_set & ~MOUNT_ATTR__ATIME) | opts->atime;
    }
  return 0;
}

/* ---- paths ----------------------------------------------------------------------------------- */

/* The lexically clean absolute form of PATH: a relative path is taken from "/", "." and empty
 * components vanish, ".." removes the previous component (never above "/").  Free the result.  */
static char *
clean_path (const char *path)
{
  size_t len = strlen (path);
  char *out = xmalloc (len + 2);
  size_t n = 0;

  for (const char *p = path; *p != '\0';)
    {
      while (*p == '/')
        p++;
      const char *end = strchrnul (p, '/');
      size_t clen = (size_t) (end - p);
      if (clen == 0 || (clen == 1 && p[0] == '.'))
        ;
      else if (clen == 2 && p[0] == '.' && p[1] == '.')
        {
          while (n > 0 && out[n - 1] != '/')
            n--;
          if (n > 0)
            n--;
        }
      else
        {
          out[n++] = '/';
          memcpy (out + n, p, clen);
          n += clen;
        }
      p = end;
    }
  if (n == 0)
    out[n++] = '/';
  out[n] = '\0';
  return out;
}

/* True when the clean absolute PATH is DIR or lies under it.  */
static bool
path_within (const char *path, const char *dir)
{
  size_t len = strlen (dir);
  return strncmp (path, dir, len) == 0 && (path[len] == '\0' || path[len] == '/');
}

/* The files under /proc a bind mount may cover (lxcfs and similar).  SECURITY.md CVE-2019-16884.  */
static const char *const proc_bind_allowed[] = {
  "/proc/cpuinfo",   "/proc/diskstats", "/proc/meminfo",          "/proc/stat",
  "/proc/swaps",     "/proc/uptime",    "/proc/loadavg",          "/proc/slabinfo",
  "/proc/sys/kernel/ns_last_pid",       "/proc/sys/crypto/fips_enabled",
};

/* Refuse mount I when its clean in-container destination DEST is on or under /proc, unless it is a
 * procfs on /proc itself or a bind over one of the allowed files.  Returns 0, or -1 with ERR.  */
static int
check_proc_destination (size_t i, const char *dest, bool is_proc, bool is_bind, struct husk_err *err)
{
  if (!path_within (dest, "/proc"))
    return 0;
  if (is_proc && strcmp (dest, "/proc") == 0)
    return 0;
  if (is_bind)
    for (size_t k = 0; k < ARRAY_SIZE (proc_bind_allowed); k++)
      if (strcmp (dest, proc_bind_allowed[k]) == 0)
        return 0;
  return husk_err_set (err, 0,
                       "config.json: mounts[%zu].destination: '%s': only procfs may be mounted on "
                       "/proc, and only a few files under it may be bind-mounted",
                       i, dest);
}

/* The path FD refers to, as the kernel reports it (readlink of /proc/self/fd/FD).  Returns it (free
 * it), or NULL with errno.  */
static char *
fd_path (int fd)
{
  char link[64];

  (void) snprintf (link, sizeof link, "/proc/self/fd/%d", fd);
  return readlink_at (AT_FDCWD, link);
}

/* Where TARGETFD really is, as a clean path inside the root ROOTFD (symlinks on the way already
 * resolved by the kernel).  Returns it (free it), or NULL with ERR.  */
static char *
path_in_root (int rootfd, int targetfd, const char *dest, struct husk_err *err)
{
  cleanup_free char *root = fd_path (rootfd);
  if (root == NULL)
    return husk_err_set (err, errno, "find the path of the container root"), NULL;
  cleanup_free char *target = fd_path (targetfd);
  if (target == NULL)
    return husk_err_set (err, errno, "find the path of '%s'", dest), NULL;
  if (strcmp (root, "/") == 0)
    return clean_path (target);
  size_t len = strlen (root);
  if (strncmp (target, root, len) != 0 || (target[len] != '\0' && target[len] != '/'))
    return husk_err_set (err, EXDEV, "'%s' resolves outside the container root", dest), NULL;
  return clean_path (target + len);
}

/* ---- mount API helpers ----------------------------------------------------------------------- */

/* The first error message the kernel logged on the filesystem context FSFD, without its "e "
 * prefix, or "" when there is none.  Written into BUF of SIZE bytes; returns BUF.  */
static const char *
fs_context_log (int fsfd, char *buf, size_t size)
{
  char line[512];
  ssize_t n;

  buf[0] = '\0';
  while ((n = read (fsfd, line, sizeof line - 1)) > 0)
    {
      line[n] = '\0';
      if (buf[0] == '\0' && line[0] == 'e' && line[1] == ' ')
        snprintf (buf, size, "%s", line + 2);
    }
  return buf;
}

/* Attach the detached mount MFD on TARGETFD.  Returns 0, or -1 with errno.  */
static int
attach (int mfd, int targetfd)
{
  return move_mount (mfd, "", targetfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

/* mount_setattr on the mount FD (AT_RECURSIVE when RECURSIVE).  Returns 0, or -1 with errno.  */
static int
set_attr (int fd, bool recursive, uint64_t set, uint64_t clr, uint64_t propagation)
{
  struct mount_attr attr = { .attr_set = set, .attr_clr = clr, .propagation = propagation };
  return mount_setattr (fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof attr);
}

/* A new detached mount of filesystem TYPE with SOURCE (may be NULL), OPTS's data options and
 * attributes.  WHAT names the mount in errors.  Returns the mount fd, or -1 with ERR (errno of the
 * failing call in ERR->errnum).  */
static int
new_filesystem (const char *type, const char *source, const struct mount_opts *opts, const char *what,
                struct husk_err *err)
{
  char klog[512];
  cleanup_close int fsfd = fsopen (type, FSOPEN_CLOEXEC);
  if (fsfd < 0)
    return husk_err_set (err, errno, "%s", what);

  if (source != NULL && fsconfig (fsfd, FSCONFIG_SET_STRING, "source", source, 0) < 0)
    {
      int e = errno;
      return husk_err_set (err, e, "%s: source '%s'%s%s", what, source,
                           fs_context_log (fsfd, klog, sizeof klog)[0] ? ": " : "", klog);
    }
  for (size_t k = 0; k < opts->n_data; k++)
    {
      cleanup_free char *key = xstrdup (opts->data[k]);
      char *value = strchr (key, '=');
      int r;
      if (value != NULL)
        {
          *value++ = '\0';
          r = fsconfig (fsfd, FSCONFIG_SET_STRING, key, value, 0);
        }
      else
        r = fsconfig (fsfd, FSCONFIG_SET_FLAG, key, NULL, 0);
      if (r < 0)
        {
          int e = errno;
          fs_context_log (fsfd, klog, sizeof klog);
          return husk_err_set (err, e, "%s: option '%s'%s%s", what, opts->data[k], klog[0] ? ": " : "",
                               klog);
        }
    }
  if (fsconfig (fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    {
      int e = errno;
      fs_context_log (fsfd, klog, sizeof klog);
      return husk_err_set (err, e, "%s%s%s", what, klog[0] ? ": " : "", klog);
    }
  int mfd = fsmount (fsfd, FSMOUNT_CLOEXEC, (unsigned int) opts->attr_set);
  if (mfd < 0)
    return husk_err_set (err, errno, "%s", what);
  return mfd;
}

/* A detached copy of the mount at SRCFD (with its submounts when RECURSIVE), with OPTS's
 * attributes set or cleared.  Returns the mount fd, or -1 with ERR.  */
static int
clone_tree (int srcfd, bool recursive, const struct mount_opts *opts, const char *what,
            struct husk_err *err)
{
  unsigned int flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
  cleanup_close int mfd = open_tree (srcfd, "", flags);
  if (mfd < 0)
    return husk_err_set (err, errno, "%s", what);
  /* Only what the options ask for: in a user namespace the flags the host locked (nosuid, nodev,
   * ...) cannot be cleared, so they are left alone unless the config says otherwise.  */
  if ((opts->attr_set != 0 || opts->attr_clr != 0)
      && set_attr (mfd, recursive, opts->attr_set, opts->attr_clr, 0) < 0)
    return husk_err_set (err, errno, "%s: set the mount flags", what);
  return steal_fd (&mfd);
}

/* ---- one config mount ------------------------------------------------------------------------ */

/* Open (creating it when missing) the target of mount I inside the root.  DEST is the clean
 * destination; a proc or sysfs mount (ORDINARY_DIR) must land on a real directory, a bind of a
 * non-directory (FILE_TARGET) gets a file.  Returns an O_PATH fd, or -1 with ERR.  */
static int
open_target (int rootfd, size_t i, const char *dest, bool ordinary_dir, bool file_target,
             struct husk_err *err)
{
  int fd = fs_open_in_root (rootfd, dest, O_PATH | (ordinary_dir ? O_NOFOLLOW : 0), err);
  if (fd < 0 && err->errnum == ENOENT)
    {
      if (file_target)
        fd = fs_mkfile_in_root (rootfd, dest, 0644, err);
      else
        fd = fs_mkdir_in_root (rootfd, dest, 0755, err);
      if (fd < 0 && ordinary_dir && (err->errnum == ELOOP || err->errnum == ENOTDIR))
        goto not_ordinary;
    }
  if (fd < 0)
    return husk_err_prefix (err, "config.json: mounts[%zu].destination", i);
  if (ordinary_dir)
    {
      struct stat st;
      if (fstat (fd, &st) < 0 || !S_ISDIR (st.st_mode))
        {
          close (fd);
          goto not_ordinary;
        }
    }
  return fd;

not_ordinary:
  return husk_err_set (err, 0, "config.json: mounts[%zu].destination: '%s' must be mounted on an "
                       "ordinary directory", i, dest);
}

/* Apply OPTS's propagation to the attached mount MFD.  Returns 0, or -1 with errno.  */
static int
apply_propagation (int mfd, const struct mount_opts *opts)
{
  if (opts->propagation == 0)
    return 0;
  return set_attr (mfd, opts->propagation_recursive, 0, 0, opts->propagation);
}

/* The bind mount I: SOURCE (relative to the bundle) onto DEST.  Returns 0, or -1 with ERR.  */
static int
mount_bind (struct husk_mount_ctx *ctx, size_t i, const char *dest, const struct mount_opts *opts,
            struct husk_err *err)
{
  const struct husk_mount *m = &ctx->spec->mounts[i];
  struct stat st;

  if (m->source == NULL)
    return husk_err_set (err, 0, "config.json: mounts[%zu].source: required for a bind mount", i);
  cleanup_free char *source
      = m->source[0] == '/' ? xstrdup (m->source) : xasprintf ("%s/%s", ctx->bundle, m->source);

  /* The source belongs to the config, not to the container: it is resolved on the host.  */
  cleanup_close int srcfd = open (source, O_PATH | O_CLOEXEC);
  if (srcfd < 0 || fstat (srcfd, &st) < 0)
    return husk_err_set (err, errno, "config.json: mounts[%zu].source: '%s'", i, source);

  if (check_proc_destination (i, dest, false, true, err) < 0)
    return -1;
  cleanup_close int tfd = open_target (ctx->rootfd, i, dest, false, !S_ISDIR (st.st_mode), err);
  if (tfd < 0)
    return -1;
  cleanup_free char *real = path_in_root (ctx->rootfd, tfd, dest, err);
  if (real == NULL || check_proc_destination (i, real, false, true, err) < 0)
    return -1;

  cleanup_free char *what = xasprintf ("config.json: mounts[%zu]: bind '%s' on '%s'", i, source, dest);
  cleanup_close int mfd = clone_tree (srcfd, opts->rbind, opts, what, err);
  if (mfd < 0)
    return -1;
  if (opts->tmpcopyup)
    return husk_err_set (err, 0, "config.json: mounts[%zu].options: 'tmpcopyup' needs type tmpfs", i);
  if (attach (mfd, tfd) < 0)
    return husk_err_set (err, errno, "%s", what);
  if (apply_propagation (mfd, opts) < 0)
    return husk_err_set (err, errno, "%s: set the propagation", what);
  for (size_t k = 0; k < opts->n_data; k++)
    husk_warn ("config.json: mounts[%zu].options: '%s' has no meaning for a bind mount, ignoring", i,
               opts->data[k]);
  return 0;
}

/* Mount a `cgroup` filesystem through the cgroup module on TFD (REAL is its path in the root).
 * Returns 0, or -1 with ERR.  */
static int
mount_cgroup (struct husk_mount_ctx *ctx, size_t i, int tfd, const char *real,
              const struct mount_opts *opts, struct husk_err *err)
{
  if (cgroup_mount (ctx->cgroup, tfd, ctx->cgroupns, (unsigned int) opts->attr_set, err) < 0)
    return husk_err_prefix (err, "config.json: mounts[%zu]", i);
  if (opts->propagation == 0)
    return 0;
  /* The new mount covers TFD's inode; a fresh lookup crosses into it.  */
  cleanup_close int mfd = fs_open_in_root (ctx->rootfd, real, O_PATH | O_DIRECTORY, err);
  if (mfd < 0 || apply_propagation (mfd, opts) < 0)
    return husk_err_set (err, errno, "config.json: mounts[%zu]: set the propagation of '%s'", i, real);
  return 0;
}

/* Mount I, a new filesystem of TYPE on DEST.  Returns 0, or -1 with ERR.  */
static int
mount_filesystem (struct husk_mount_ctx *ctx, size_t i, const char *type, const char *dest,
                  const struct mount_opts *opts, struct husk_err *err)
{
  const struct husk_mount *m = &ctx->spec->mounts[i];
  bool is_proc = strcmp (type, "proc") == 0;
  bool is_sysfs = strcmp (type, "sysfs") == 0;

  if (check_proc_destination (i, dest, is_proc, false, err) < 0)
    return -1;
  cleanup_close int tfd = open_target (ctx->rootfd, i, dest, is_proc || is_sysfs, false, err);
  if (tfd < 0)
    return -1;
  cleanup_free char *real = path_in_root (ctx->rootfd, tfd, dest, err);
  if (real == NULL || check_proc_destination (i, real, is_proc, false, err) < 0)
    return -1;

  if (strcmp (type, "cgroup") == 0)
    return mount_cgroup (ctx, i, tfd, real, opts, err);

  cleanup_free char *what = xasprintf ("config.json: mounts[%zu]: mount '%s' on '%s'", i, type, dest);
  /* With tmpcopyup the copy goes in first: a read-only mount becomes read-only after it.  */
  struct mount_opts create_opts = *opts;
  if (opts->tmpcopyup)
    create_opts.attr_set &= ~(uint64_t) MOUNT_ATTR_RDONLY;
  cleanup_close int mfd = new_filesystem (type, m->source, &create_opts, what, err);
  if (mfd < 0 && is_sysfs && ctx->userns && err->errnum == EPERM)
    {
      /* Without a network namespace of its own a user namespace may not mount sysfs: show the
       * host's /sys instead, read-only flags and all as the options say.  */
      cleanup_close int sysfd = open ("/sys", O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (sysfd < 0)
        return husk_err_set (err, errno, "%s: open '/sys'", what);
      mfd = clone_tree (sysfd, true, opts, what, err);
    }
  if (mfd < 0)
    return -1;
  /* tmpcopyup: the new tmpfs starts with what the directory held (crun's option, which Podman's
   * --read-only uses for /tmp, /run...).  Copied before the mount is attached, fd to fd.  */
  if (opts->tmpcopyup)
    {
      if (strcmp (type, "tmpfs") != 0)
        return husk_err_set (err, 0, "config.json: mounts[%zu].options: 'tmpcopyup' needs type tmpfs", i);
      if (fs_copy_tree (tfd, mfd, err) < 0)
        return husk_err_prefix (err, "%s: tmpcopyup", what);
      if ((opts->attr_set & MOUNT_ATTR_RDONLY) && set_attr (mfd, false, MOUNT_ATTR_RDONLY, 0, 0) < 0)
        return husk_err_set (err, errno, "%s: make it read-only", what);
    }
  if (attach (mfd, tfd) < 0)
    return husk_err_set (err, errno, "%s", what);
  if (apply_propagation (mfd, opts) < 0)
    return husk_err_set (err, errno, "%s: set the propagation", what);
  return 0;
}

/* The kind of mount I is, from its type and options: a bind (OPTS->bind set) or a filesystem.
 * Returns 0, or -1 with ERR when neither a type nor bind/rbind is given.  */
static int
mount_kind (const struct husk_mount *m, size_t i, struct mount_opts *opts, struct husk_err *err)
{
  if (m->type != NULL && (strcmp (m->type, "bind") == 0 || strcmp (m->type, "rbind") == 0))
    {
      opts->bind = true;
      opts->rbind = opts->rbind || strcmp (m->type, "rbind") == 0;
    }
  if (!opts->bind && (m->type == NULL || m->type[0] == '\0'))
    return husk_err_set (err, 0, "config.json: mounts[%zu].type: required unless the options hold 'bind' "
                         "or 'rbind'", i);
  return 0;
}

/* Mount spec->mounts[I].  Returns 0, or -1 with ERR.  */
static int
mount_one (struct husk_mount_ctx *ctx, size_t i, struct husk_err *err)
{
  const struct husk_mount *m = &ctx->spec->mounts[i];
  struct mount_opts opts;
  int ret = -1;

  if (m->n_uid_mappings > 0 || m->n_gid_mappings > 0)
    return husk_err_set (err, 0, "config.json: mounts[%zu]: uidMappings/gidMappings: not supported yet", i);
  if (parse_options (m, i, &opts, err) == 0 && mount_kind (m, i, &opts, err) == 0)
    {
      cleanup_free char *dest = clean_path (m->destination);
      if (opts.bind)
        ret = mount_bind (ctx, i, dest, &opts, err);
      else
        ret = mount_filesystem (ctx, i, m->type, dest, &opts, err);
    }
  free (opts.data);
  return ret;
}

int
mount_spec_mounts (struct husk_mount_ctx *ctx, struct husk_err *err)
{
  for (size_t i = 0; i < ctx->spec->n_mounts; i++)
    if (mount_one (ctx, i, err) < 0)
      return -1;
  return 0;
}

/* ---- rootfs and pivot_root ------------------------------------------------------------------- */

/* The propagation of linux.rootfsPropagation: *BEFORE for "/" before the rootfs bind, *AFTER for
 * the new root after pivot_root (0: nothing).  Returns 0, or -1 with ERR on an unknown value.  */
static int
rootfs_propagation (const char *mode, unsigned long *before, unsigned long *after, struct husk_err *err)
{
  *before = MS_SLAVE | MS_REC;
  *after = 0;
  if (mode == NULL || mode[0] == '\0')
    return 0;
  for (size_t k = 0; k < ARRAY_SIZE (propagation_options); k++)
    if (strcmp (mode, propagation_options[k].name) == 0)
      {
        unsigned long flags = propagation_options[k].propagation;
        if (propagation_options[k].recursive)
          flags |= MS_REC;
        /* An unbindable "/" could not be bound: it becomes so only after pivot_root.  */
        if (propagation_options[k].propagation != MS_UNBINDABLE)
          *before = flags;
        *after = flags;
        return 0;
      }
  return husk_err_set (err, 0, "config.json: linux.rootfsPropagation: unknown value '%s'", mode);
}

/* Decode the octal escapes (\040) of a mountinfo field in place; returns S.  */
static char *
mountinfo_unescape (char *s)
{
  char *w = s;
  for (char *r = s; *r != '\0'; r++)
    {
      if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0'
          && r[3] <= '7')
        {
          *w++ = (char) (((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
          r += 3;
        }
      else
        *w++ = *r;
    }
  *w = '\0';
  return s;
}

/* The mount point of the mount that holds PATH (from /proc/self/fdinfo's mnt_id and
 * /proc/self/mountinfo).  Returns it (free it), or NULL with ERR.  */
static char *
mount_point_of (const char *path, struct husk_err *err)
{
  cleanup_close int fd = open (path, O_PATH | O_CLOEXEC);
  if (fd < 0)
    return husk_err_set (err, errno, "open '%s'", path), NULL;
  char name[64];
  snprintf (name, sizeof name, "/proc/self/fdinfo/%d", fd);
  cleanup_free char *info = read_file_at (AT_FDCWD, name, 1 << 16, NULL, err);
  if (info == NULL)
    return NULL;
  char *p = strstr (info, "mnt_id:");
  unsigned long id;
  if (p == NULL || sscanf (p, "mnt_id: %lu", &id) != 1)
    return husk_err_set (err, 0, "no mnt_id in '%s'", name), NULL;

  cleanup_free char *mi = read_file_at (AT_FDCWD, "/proc/self/mountinfo", 1 << 24, NULL, err);
  if (mi == NULL)
    return NULL;
  char *save = NULL;
  for (char *line = strtok_r (mi, "\n", &save); line != NULL; line = strtok_r (NULL, "\n", &save))
    {
      unsigned long mid;
      char mp[PATH_MAX * 4 + 1];
      /* mount-id parent-id major:minor root mount-point ...  */
      if (sscanf (line, "%lu %*u %*s %*s %16384s", &mid, mp) == 2 && mid == id)
        return xstrdup (mountinfo_unescape (mp));
    }
  return husk_err_set (err, ENOENT, "mount %lu of '%s' not in /proc/self/mountinfo", id, path), NULL;
}

int
mount_prepare_rootfs (struct husk_mount_ctx *ctx, struct husk_err *err)
{
  const char *mode = ctx->spec->linux != NULL ? ctx->spec->linux->rootfs_propagation : NULL;
  unsigned long before, after;
  struct stat st;

  if (rootfs_propagation (mode, &before, &after, err) < 0)
    return -1;
  if (stat (ctx->rootfs, &st) < 0)
    return husk_err_set (err, errno, "config.json: root.path: '%s'", ctx->rootfs);
  if (!S_ISDIR (st.st_mode))
    return husk_err_set (err, ENOTDIR, "config.json: root.path: '%s'", ctx->rootfs);

  /* Nothing the container mounts may reach the host (unless the config asks for "shared").  */
  if (mount (NULL, "/", NULL, before, NULL) < 0)
    return husk_err_set (err, errno, "set the propagation of '/'");

  /* pivot_root refuses a new root whose parent mount is shared: with any mode but the default
   * slave one, make that parent private (in this mount namespace only).  */
  if (mode != NULL && strcmp (mode, "rslave") != 0)
    {
      cleanup_free char *parent = mount_point_of (ctx->rootfs, err);
      if (parent == NULL)
        return husk_err_prefix (err, "find the mount of the rootfs");
      if (mount (NULL, parent, NULL, MS_PRIVATE, NULL) < 0)
        return husk_err_set (err, errno, "make '%s' private", parent);
    }

  /* pivot_root needs the new root to be a mount point.  The rootfs path is the bundle's, trusted
   * as the bundle is.  */
  if (ctx->rootfs_mount >= 0)
    {
      if (move_mount (ctx->rootfs_mount, "", AT_FDCWD, ctx->rootfs, MOVE_MOUNT_F_EMPTY_PATH) < 0)
        return husk_err_set (err, errno, "attach the image overlay on the rootfs '%s'", ctx->rootfs);
    }
  else if (mount (ctx->rootfs, ctx->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    return husk_err_set (err, errno, "bind the rootfs '%s' onto itself", ctx->rootfs);
  ctx->rootfd = open (ctx->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (ctx->rootfd < 0)
    return husk_err_set (err, errno, "config.json: root.path: '%s'", ctx->rootfs);
  return 0;
}

int
mount_pivot_root (struct husk_mount_ctx *ctx, struct husk_err *err)
{
  const char *mode = ctx->spec->linux != NULL ? ctx->spec->linux->rootfs_propagation : NULL;
  unsigned long before, after;

  if (rootfs_propagation (mode, &before, &after, err) < 0)
    return -1;
  if (fchdir (ctx->rootfd) < 0)
    return husk_err_set (err, errno, "change directory to the rootfs");
  /* pivot_root(".", "."): the old root ends up stacked on top of the new one, at ".".  */
  if (syscall (SYS_pivot_root, ".", ".") < 0)
    return husk_err_set (err, errno, "pivot_root to '%s'", ctx->rootfs);
  /* Make the old root a slave first, so its detach does not propagate to the host.  */
  if (mount (NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
    return husk_err_set (err, errno, "make the old root a slave mount");
  if (umount2 (".", MNT_DETACH) < 0)
    return husk_err_set (err, errno, "detach the old root");
  if (chdir ("/") < 0)
    return husk_err_set (err, errno, "change directory to '/'");
  close (ctx->rootfd);
  ctx->rootfd = -1;
  if (after != 0 && mount (NULL, "/", NULL, after, NULL) < 0)
    return husk_err_set (err, errno, "config.json: linux.rootfsPropagation: apply '%s' to '/'", mode);
  return 0;
}

/* ---- masked and readonly paths --------------------------------------------------------------- */

/* Open the container's /dev/null and check that it is the null device.  Returns an O_PATH fd, or
 * -1 with ERR.  SECURITY.md CVE-2025-31133.  */
static int
open_dev_null (int rootfd, struct husk_err *err)
{
  cleanup_close int fd = fs_open_in_root (rootfd, "/dev/null", O_PATH | O_NOFOLLOW, err);
  if (fd < 0)
    return husk_err_prefix (err, "config.json: linux.maskedPaths: need /dev/null");
  if (!fs_is_dev_null (fd))
    return husk_err_set (err, 0, "config.json: linux.maskedPaths: '/dev/null' in the container is not the null "
                         "device (character device 1:3)");
  return steal_fd (&fd);
}

/* Mask PATH inside ROOTFD: a directory gets an empty read-only tmpfs, anything else a read-only bind
 * of the verified null device *DEVNULL (opened on first need).  A missing path is skipped.
 * Returns 0, or -1 with ERR.  */
static int
mask_path (int rootfd, size_t i, const char *path, int *devnull, struct husk_err *err)
{
  struct stat st;
  cleanup_close int fd = fs_open_in_root (rootfd, path, O_PATH | O_NOFOLLOW, err);
  if (fd < 0 && (err->errnum == ENOENT || err->errnum == ENOTDIR))
    return 0;
  if (fd < 0 || fstat (fd, &st) < 0)
    return husk_err_prefix (err, "config.json: linux.maskedPaths[%zu]", i);

  cleanup_close int mfd = -1;
  if (S_ISDIR (st.st_mode))
    {
      struct mount_opts opts = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV
                                             | MOUNT_ATTR_NOEXEC };
      cleanup_free char *what = xasprintf ("config.json: linux.maskedPaths[%zu]: mask '%s'", i, path);
      mfd = new_filesystem ("tmpfs", "tmpfs", &opts, what, err);
      if (mfd < 0)
        return -1;
    }
  else
    {
      if (*devnull < 0)
        {
          *devnull = open_dev_null (rootfd, err);
          if (*devnull < 0)
            return -1;
        }
      mfd = open_tree (*devnull, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
      if (mfd < 0 || set_attr (mfd, false, MOUNT_ATTR_RDONLY, 0, 0) < 0)
        return husk_err_set (err, errno, "config.json: linux.maskedPaths[%zu]: bind '/dev/null'", i);
    }
  if (attach (mfd, fd) < 0)
    return husk_err_set (err, errno, "config.json: linux.maskedPaths[%zu]: mask '%s'", i, path);
  return 0;
}

/* Make PATH inside ROOTFD a read-only bind of itself (recursive).  A missing path is skipped.
 * Returns 0, or -1 with ERR.  */
static int
readonly_path (int rootfd, size_t i, const char *path, struct husk_err *err)
{
  cleanup_close int fd = fs_open_in_root (rootfd, path, O_PATH, err);
  if (fd < 0 && (err->errnum == ENOENT || err->errnum == ENOTDIR))
    return 0;
  if (fd < 0)
    return husk_err_prefix (err, "config.json: linux.readonlyPaths[%zu]", i);
  cleanup_close int mfd
      = open_tree (fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
  if (mfd < 0 || set_attr (mfd, true, MOUNT_ATTR_RDONLY, 0, 0) < 0 || attach (mfd, fd) < 0)
    return husk_err_set (err, errno, "config.json: linux.readonlyPaths[%zu]: make '%s' read-only", i,
                         path);
  return 0;
}

int
mount_finalize (struct husk_mount_ctx *ctx, struct husk_err *err)
{
  const struct husk_linux *lx = ctx->spec->linux;
  cleanup_close int rootfd = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int devnull = -1;

  if (rootfd < 0)
    return husk_err_set (err, errno, "open '/'");
  if (lx != NULL)
    {
      for (size_t i = 0; i < lx->n_masked_paths; i++)
        if (mask_path (rootfd, i, lx->masked_paths[i], &devnull, err) < 0)
          return -1;
      for (size_t i = 0; i < lx->n_readonly_paths; i++)
        if (readonly_path (rootfd, i, lx->readonly_paths[i], err) < 0)
          return -1;
    }
  if (ctx->spec->root != NULL && ctx->spec->root->readonly)
    {
      if (set_attr (rootfd, false, MOUNT_ATTR_RDONLY, 0, 0) < 0)
        return husk_err_set (err, errno, "config.json: root.readonly: make '/' read-only");
    }
  return 0;
}
