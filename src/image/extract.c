/* Extracting one layer's tar into its layer directory, in overlayfs form (see extract.h): the tar
 * loop and the entry writers.  The merged-view path resolution is in extract_walk.c, the path tree
 * in extract_tree.c.
 *
 * libarchive only parses the tar (read API, tar formats, no filters); every filesystem operation is
 * ours, relative to directory fds:
 *
 * - Names are cleaned lexically ("//", "." dropped; ".." clamped at the root, as containerd's
 *   filepath.Clean and umoci's CleanPath do), so `../x`, `/x` and `./x` all mean ROOT/x.
 * - The parent of every entry is resolved afresh for each entry, never cached (CVE-2025-47290), in the
 *   merged view of this layer over the lowers (walk_parent, extract_walk.h: a fast path when this
 *   layer already has the whole parent as real directories, else a walk that honours whiteouts and
 *   opaque directories, follows symlinks inside the root and makes missing directories with the
 *   attributes of the same directory below; dir_made here copies their xattrs and times).
 * - The leaf is never followed: O_NOFOLLOW|O_CREAT|O_EXCL after removing what is there, mknodat,
 *   symlinkat, linkat without AT_SYMLINK_FOLLOW; owners, modes, xattrs and times are set on the fd
 *   just created, or without following (AT_SYMLINK_NOFOLLOW, fchmodat2, O_PATH + /proc/self/fd for
 *   xattrs), so a device node or fifo is never opened.
 * - Whiteouts this layer makes are remembered in a path tree (struct tree, extract_tree.h) so an
 *   opaque marker met later removes those below it in time proportional to their number (T19, T22).
 * - overlayfs ignores the opaque xattr on a layer's root directory (checked on 6.18), so an opaque
 *   marker at the root becomes one whiteout per name the lower roots show.
 * - Directory times are set last (children change them), by path, without following symlinks.  */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "image/extract.h"
#include "image/extract_tree.h"
#include "image/extract_walk.h"
#include "util.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

const struct extract_limits extract_default_limits = {
  .max_file_bytes = 64ULL << 30,
  .max_entries = 4000000,
  .max_depth = 256,
  .max_name = 4096,
};

#define WBUF_SIZE (1024 * 1024)      /* file data is written in chunks of up to this many bytes */
#define WHITEOUT_PREFIX ".wh."
#define OPAQUE_NAME ".wh..wh..opq"
#define META_PREFIX ".wh..wh."       /* aufs metadata (.wh..wh.plnk, .wh..wh.aufs): skipped */

/* ---- the extraction state -------------------------------------------------------------------- */

struct dirtime
{
  size_t off; /* path in the dirtime arena, NUL-terminated, "" = the root */
  struct timespec ts[2];
};

struct extractor
{
  struct view v; /* the layer directory, the lower layers, the walks' shared buffers */
  const struct extract_options *o;
  char xa_opaque[32]; /* "trusted.overlay.opaque" or "user.overlay.opaque" */
  struct archive *a;
  struct archive_entry *e;
  extract_read_fn read;
  void *arg;
  struct husk_err read_err;
  bool read_failed;
  bool for_whiteout; /* directories the walks make now only hold a whiteout (dir_made) */
  bool root_hidden;  /* a root opaque marker was applied: every lower root name is hidden */
  struct extract_stats st;
  struct walk w[2]; /* the entry's parent; a hard link's target parent */
  char *path, *target; /* the entry's cleaned name and cleaned hard link target */
  size_t path_cap, target_cap;
  char *wbuf; /* file data being gathered for one write */
  struct tree wh;
  struct dirtime *dt;
  size_t n_dt, cap_dt;
  char *dt_arena;
  size_t dt_len, dt_cap;
};

/* ---- small helpers --------------------------------------------------------------------------- */

/* True for overlayfs's own xattrs (trusted.overlay.X / user.overlay.X that are not escaped
 * "overlay.overlay.X" data): never copied from a lower directory, never removed from ours.  */
static bool
is_overlay_xattr (const char *name)
{
  const char *rest = NULL;
  if (has_prefix (name, "trusted.overlay."))
    rest = name + strlen ("trusted.overlay.");
  else if (has_prefix (name, "user.overlay."))
    rest = name + strlen ("user.overlay.");
  return rest != NULL && !has_prefix (rest, "overlay.");
}

/* Clean NAME lexically into *OUT: no empty, "." or ".." components (".." above the root stays at
 * the root), no leading or trailing '/'.  Returns the number of components.  */
static unsigned
clean_name (const char *name, char **out, size_t *cap)
{
  size_t n = strlen (name), len = 0;
  unsigned depth = 0;
  ensure_cap (out, cap, n + 1);
  char *o = *out;
  for (const char *p = name; *p != '\0';)
    {
      while (*p == '/')
        p++;
      const char *s = p;
      while (*p != '\0' && *p != '/')
        p++;
      size_t cl = (size_t) (p - s);
      if (cl == 0 || (cl == 1 && s[0] == '.'))
        continue;
      if (cl == 2 && s[0] == '.' && s[1] == '.')
        {
          if (depth > 0)
            {
              while (len > 0 && o[len - 1] != '/')
                len--;
              if (len > 0)
                len--;
              depth--;
            }
          continue;
        }
      if (len > 0)
        o[len++] = '/';
      memcpy (o + len, s, cl);
      len += cl;
      depth++;
    }
  o[len] = '\0';
  return depth;
}

/* Remember that the directory PATH (relative to the root) gets times TS once everything is written.  */
static void
defer_dir_times (struct extractor *x, const char *path, size_t len, const struct timespec ts[2])
{
  if (x->n_dt == x->cap_dt)
    {
      x->cap_dt = x->cap_dt ? x->cap_dt * 2 : 256;
      x->dt = xrealloc (x->dt, x->cap_dt * sizeof *x->dt);
    }
  ensure_cap (&x->dt_arena, &x->dt_cap, x->dt_len + len + 1);
  memcpy (x->dt_arena + x->dt_len, path, len);
  x->dt_arena[x->dt_len + len] = '\0';
  x->dt[x->n_dt].off = x->dt_len;
  x->dt[x->n_dt].ts[0] = ts[0];
  x->dt[x->n_dt].ts[1] = ts[1];
  x->n_dt++;
  x->dt_len += len + 1;
}

/* chmod without following a symlink and without opening the file (fifos, device nodes): fchmodat2,
 * or glibc's O_PATH emulation on kernels before 6.6.  */
static int
chmod_nofollow (int dirfd, const char *name, mode_t mode)
{
  if (syscall (SYS_fchmodat2, dirfd, name, mode, AT_SYMLINK_NOFOLLOW) == 0)
    return 0;
  if (errno != ENOSYS)
    return -1;
  return fchmodat (dirfd, name, mode, AT_SYMLINK_NOFOLLOW);
}

static int
pwrite_all (int fd, const char *buf, size_t len, off_t off)
{
  while (len > 0)
    {
      ssize_t n = pwrite (fd, buf, len, off);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return -1;
        }
      buf += n;
      len -= (size_t) n;
      off += n;
    }
  return 0;
}

/* ---- xattrs ---------------------------------------------------------------------------------- */

/* Set xattr NAME on FD (O_PATH fds through /proc/self/fd, which reaches the inode itself: never a
 * symlink's target, never an open of a device).  Returns 0 or -1 with errno.  */
static int
set_xattr (int fd, bool opath, const char *name, const void *value, size_t size)
{
  if (!opath)
    return fsetxattr (fd, name, value, size, 0);
  char p[64];
  snprintf (p, sizeof p, "/proc/self/fd/%d", fd);
  return setxattr (p, name, value, size, 0);
}

/* Apply the entry's xattrs to FD (OPATH: an O_PATH fd).  security.selinux and system.nfs4_acl are
 * dropped; trusted.overlay.* and user.overlay.* are escaped to <ns>.overlay.overlay.* so a layer
 * cannot forge overlay metadata (T21).  A failure is a warning: the filesystem may not support the
 * namespace (user.* on symlinks, trusted.* without CAP_SYS_ADMIN).  */
static void
apply_xattrs (struct extractor *x, int fd, bool opath, const char *what)
{
  const char *name;
  const void *value;
  size_t size;
  char esc[XATTR_NAME_MAX + 32];

  if (archive_entry_xattr_reset (x->e) == 0)
    return;
  while (archive_entry_xattr_next (x->e, &name, &value, &size) == ARCHIVE_OK)
    {
      if (name == NULL || strcmp (name, "security.selinux") == 0 || strcmp (name, "system.nfs4_acl") == 0)
        continue;
      const char *ns = has_prefix (name, "trusted.overlay.") ? "trusted"
                       : has_prefix (name, "user.overlay.")  ? "user"
                                                              : NULL;
      if (ns != NULL)
        {
          int n = snprintf (esc, sizeof esc, "%s.overlay.%s", ns, name + strlen (ns) + 1);
          if (n < 0 || (size_t) n >= sizeof esc)
            {
              husk_warn ("%s: '%s': xattr '%.64s...' too long, ignoring", x->o->name, what, name);
              continue;
            }
          name = esc;
        }
      if (set_xattr (fd, opath, name, value, size) < 0)
        husk_warn ("%s: '%s': set xattr '%s': %s, ignoring", x->o->name, what, name, strerror (errno));
    }
}

/* Remove the xattrs of the directory FD except overlayfs's own and security.selinux, before an
 * explicit directory entry replaces the attributes of one that exists.  */
static void
clear_xattrs (struct extractor *x, int fd)
{
  char list[16384];
  ssize_t n = flistxattr (fd, list, sizeof list);
  for (ssize_t i = 0; n > 0 && i < n; i += (ssize_t) strlen (list + i) + 1)
    if (!is_overlay_xattr (list + i) && strcmp (list + i, "security.selinux") != 0)
      (void) fremovexattr (fd, list + i);
}

/* Copy the xattrs of SRC to DST (both open, not O_PATH), except overlayfs's own.  The name list and
 * each value go through X->wbuf.  */
static void
copy_xattrs (struct extractor *x, int src, int dst, const char *what)
{
  char *list = x->wbuf, *val = x->wbuf + XATTR_LIST_MAX;
  ssize_t n = flistxattr (src, list, XATTR_LIST_MAX);
  if (n < 0)
    husk_warn ("%s: '%s': list xattrs: %s, ignoring", x->o->name, what, strerror (errno));
  for (ssize_t i = 0; i < n; i += (ssize_t) strlen (list + i) + 1)
    {
      const char *name = list + i;
      if (is_overlay_xattr (name))
        continue;
      ssize_t vl = fgetxattr (src, name, val, XATTR_SIZE_MAX);
      if (vl < 0 || fsetxattr (dst, name, val, (size_t) vl, 0) < 0)
        husk_warn ("%s: '%s': copy xattr '%s': %s, ignoring", x->o->name, what, name, strerror (errno));
    }
}

/* ---- attributes from the entry --------------------------------------------------------------- */

/* The entry's owner, checked to fit a uid_t other than -1.  Returns 0 or -1 with ERR.  */
static int
entry_owner (struct extractor *x, uid_t *uid, gid_t *gid, struct husk_err *err)
{
  la_int64_t u = archive_entry_uid (x->e), g = archive_entry_gid (x->e);
  if (u < 0 || u >= (la_int64_t) UINT32_MAX)
    return husk_err_set (err, 0, "uid %lld out of range", (long long) u);
  if (g < 0 || g >= (la_int64_t) UINT32_MAX)
    return husk_err_set (err, 0, "gid %lld out of range", (long long) g);
  *uid = (uid_t) u;
  *gid = (gid_t) g;
  return 0;
}

static void
entry_times (struct extractor *x, struct timespec ts[2])
{
  ts[1].tv_sec = archive_entry_mtime (x->e);
  ts[1].tv_nsec = archive_entry_mtime_nsec (x->e);
  if (archive_entry_atime_is_set (x->e))
    {
      ts[0].tv_sec = archive_entry_atime (x->e);
      ts[0].tv_nsec = archive_entry_atime_nsec (x->e);
    }
  else
    ts[0] = ts[1];
  for (int i = 0; i < 2; i++)
    if (ts[i].tv_nsec < 0 || ts[i].tv_nsec >= 1000000000L)
      ts[i].tv_nsec = 0;
}

/* Owner, mode and xattrs of the entry onto the open file or directory FD (in this order: chown
 * clears setuid bits and file capabilities).  */
static int
set_fd_attrs (struct extractor *x, int fd, const char *what, struct husk_err *err)
{
  uid_t uid;
  gid_t gid;
  if (entry_owner (x, &uid, &gid, err) < 0)
    return -1;
  if (fchown (fd, uid, gid) < 0)
    return husk_err_set (err, errno, "chown '%s'", what);
  if (fchmod (fd, archive_entry_perm (x->e) & 07777) < 0)
    return husk_err_set (err, errno, "chmod '%s'", what);
  apply_xattrs (x, fd, false, what);
  return 0;
}

/* Owner, mode (unless a symlink), xattrs and times of the entry onto NAME in DIRFD, never following
 * it nor opening it: for symlinks, fifos and device nodes.  */
static int
set_node_attrs (struct extractor *x, int dirfd, const char *name, bool symlink, const char *what,
                struct husk_err *err)
{
  uid_t uid;
  gid_t gid;
  struct timespec ts[2];
  if (entry_owner (x, &uid, &gid, err) < 0)
    return -1;
  if (fchownat (dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
    return husk_err_set (err, errno, "chown '%s'", what);
  if (!symlink && chmod_nofollow (dirfd, name, archive_entry_perm (x->e) & 07777) < 0)
    return husk_err_set (err, errno, "chmod '%s'", what);
  if (archive_entry_xattr_count (x->e) > 0)
    {
      cleanup_close int fd = openat (dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        return husk_err_set (err, errno, "open '%s'", what);
      apply_xattrs (x, fd, true, what);
    }
  entry_times (x, ts);
  if (utimensat (dirfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
    return husk_err_set (err, errno, "set times of '%s'", what);
  return 0;
}

/* ---- removing what an entry replaces --------------------------------------------------------- */

/* Remove the tree NAME in DIRFD (this layer's), never following symlinks.  DEPTH bounds the
 * recursion.  Returns 0 or -1 with ERR.  */
static int
remove_tree (int dirfd, const char *name, unsigned depth, struct husk_err *err)
{
  if (unlinkat (dirfd, name, AT_REMOVEDIR) == 0)
    return 0;
  if (errno != ENOTEMPTY && errno != EEXIST)
    return husk_err_set (err, errno, "rmdir '%s'", name);
  if (depth == 0)
    return husk_err_set (err, ELOOP, "remove '%s': too deep", name);
  int fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return husk_err_set (err, errno, "open '%s'", name);
  cleanup_dir DIR *d = fdopendir (fd);
  if (d == NULL)
    {
      close (fd);
      return husk_err_set (err, errno, "fdopendir '%s'", name);
    }
  struct dirent *de;
  while ((errno = 0, de = readdir (d)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (unlinkat (fd, de->d_name, 0) == 0)
        continue;
      if (errno != EISDIR && errno != EPERM)
        return husk_err_set (err, errno, "unlink '%s/%s'", name, de->d_name);
      if (remove_tree (fd, de->d_name, depth - 1, err) < 0)
        return husk_err_prefix (err, "'%s'", name);
    }
  if (errno != 0)
    return husk_err_set (err, errno, "readdir '%s'", name);
  if (unlinkat (dirfd, name, AT_REMOVEDIR) < 0)
    return husk_err_set (err, errno, "rmdir '%s'", name);
  return 0;
}

/* Make room for a new non-directory NAME in this layer's directory DIRFD: remove whatever is there
 * (a file, a whiteout, a whole directory).  */
static int
clear_leaf (struct extractor *x, int dirfd, const char *name, struct husk_err *err)
{
  if (unlinkat (dirfd, name, 0) == 0 || errno == ENOENT)
    return 0;
  if (errno != EISDIR && errno != EPERM)
    return husk_err_set (err, errno, "unlink '%s'", name);
  return remove_tree (dirfd, name, x->o->limits.max_depth + 1, err);
}

/* ---- directories the walks make ------------------------------------------------------------ */

/* view_dir_made_fn: the new directory FD (at PATH) of this layer gets the xattrs of the lower
 * directory LFD it stands for now and its times (LST's) at the end; one made only to hold a
 * whiteout is marked in the whiteout tree, so an opaque marker above may remove it again.  */
static void
dir_made (void *arg, int fd, const char *path, int lfd, const struct stat *lst)
{
  struct extractor *x = arg;

  if (lst != NULL)
    {
      copy_xattrs (x, lfd, fd, path);
      struct timespec ts[2] = { lst->st_atim, lst->st_mtim };
      defer_dir_times (x, path, strlen (path), ts);
    }
  if (x->for_whiteout)
    x->wh.n[tree_node_of (&x->wh, path, true)].made = true;
}

/* ---- whiteouts and opaque directories -------------------------------------------------------- */

/* Remove the whiteouts this layer made below tree node NODE (directory fd DIRFD, -1 when it is
 * gone) and forget them: they would sit in a directory that no longer merges (T19).  */
static void
forget_whiteouts_below (struct extractor *x, uint32_t node, int dirfd)
{
  struct tree *t = &x->wh;
  uint32_t c = t->n[node].child;
  t->n[node].child = TREE_NONE;
  while (c != TREE_NONE)
    {
      uint32_t next = t->n[c].sibling;
      const char *name = tree_name (t, c);
      struct stat st;
      if (t->n[c].whiteout && dirfd >= 0 && fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0
          && is_whiteout (&st))
        (void) unlinkat (dirfd, name, 0);
      if (t->n[c].child != TREE_NONE)
        {
          int fd = dirfd >= 0 ? openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
          forget_whiteouts_below (x, c, fd);
          if (fd >= 0)
            close (fd);
        }
      if (t->n[c].made && dirfd >= 0)
        (void) unlinkat (dirfd, tree_name (t, c), AT_REMOVEDIR); /* fails when it holds more now */
      tree_unhash (t, c);
      c = next;
    }
}

/* The directory PATH of this layer is wanted for itself (an explicit entry or opaque marker): an
 * opaque marker above must not remove it as a mere holder of whiteouts.  */
static void
keep_dir (struct extractor *x, const char *path)
{
  if (x->wh.count > 1)
    {
      uint32_t node = tree_node_of (&x->wh, path, false);
      if (node != TREE_NONE)
        x->wh.n[node].made = false;
    }
}

/* Make this layer's directory FD (at PATH) opaque and drop the whiteouts it made below it.  */
static int
make_opaque (struct extractor *x, int fd, const char *path, struct husk_err *err)
{
  if (fsetxattr (fd, x->xa_opaque, "y", 1, 0) < 0)
    return husk_err_set (err, errno, "set '%s' on '%s'", x->xa_opaque, path[0] ? path : "/");
  uint32_t node = tree_node_of (&x->wh, path, false);
  if (node != TREE_NONE)
    forget_whiteouts_below (x, node, fd);
  return 0;
}

/* Hide NAME of the lower layers in W's level (this layer's directory W->up): a whiteout where this
 * layer has nothing; where it has a directory, that directory becomes opaque (its lower namesake is
 * hidden, its own content stays) unless it only held whiteouts, then it becomes the whiteout; a
 * whiteout or file of this layer already hides it.  */
static int
hide_lower (struct extractor *x, struct walk *w, const char *name, struct husk_err *err)
{
  struct stat st;
  cleanup_free char *path = xstrdup (view_join (&x->v, w->phys, w->phys_len, name));
  if (fstatat (w->up, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
    {
      if (!S_ISDIR (st.st_mode))
        return 0;
      int fd = openat (w->up, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        return husk_err_set (err, errno, "open '%s'", path);
      int r = make_opaque (x, fd, path, err);
      close (fd);
      if (r < 0)
        return -1;
      uint32_t node = tree_node_of (&x->wh, path, false);
      if (node == TREE_NONE || !x->wh.n[node].made || unlinkat (w->up, name, AT_REMOVEDIR) < 0)
        return 0;
    }
  else if (errno != ENOENT)
    return husk_err_set (err, errno, "stat '%s'", path);
  if (mknodat (w->up, name, S_IFCHR, makedev (0, 0)) < 0)
    return husk_err_set (err, errno, "make whiteout '%s'", path);
  uint32_t dir = tree_node_of (&x->wh, w->phys, true);
  uint32_t node = tree_add (&x->wh, dir, name, strlen (name));
  x->wh.n[node].whiteout = true;
  x->wh.n[node].made = false;
  x->st.whiteouts++;
  return 0;
}

/* `.wh.NAME` in PARENT: a whiteout where a lower layer shows NAME, nothing otherwise (a whiteout no
 * lower needs shows as a broken entry, IMAGES.md §2.4 pt3; in the base layer there is nothing to
 * hide).  */
static int
do_whiteout (struct extractor *x, const char *parent, const char *name, struct husk_err *err)
{
  struct walk *w = &x->w[0];
  struct lower_hit hit;
  bool missing;

  if (x->o->n_lowers == 0)
    goto drop;
  if (walk_path (&x->v, w, parent, false, &missing, err) < 0)
    return -1;
  if (missing)
    goto drop;
  if (lower_lookup (&x->v, w, name, &hit, err) < 0)
    return -1;
  if (hit.kind == K_ABSENT)
    goto drop;
  if (w->up < 0)
    {
      cleanup_free char *phys = xstrdup (w->phys);
      x->for_whiteout = true;
      int r = walk_replay (&x->v, w, phys, true, err);
      x->for_whiteout = false;
      if (r < 0)
        return -1;
    }
  return hide_lower (x, w, name, err);
drop:
  x->st.skipped++;
  return 0;
}

/* `.wh..wh..opq` at the root: overlayfs ignores opaque roots, so hide each name the lower roots
 * show, one by one.  */
static int
opaque_root (struct extractor *x, struct husk_err *err)
{
  struct walk *w = &x->w[0];
  struct tree seen;
  int r = 0;

  /* once is enough: nothing in this layer can show a hidden lower name again (a directory that
   * replaces a whiteout is opaque), and a hostile layer repeating the marker must not cost a scan of
   * the lower roots each time (T22) */
  if (x->root_hidden)
    return 0;
  x->root_hidden = true;
  walk_root (&x->v, w);
  tree_init (&seen);
  for (size_t i = 0; i < x->o->n_lowers && r == 0; i++)
    {
      int fd = openat (x->o->lower_fds[i], ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0)
        {
          r = husk_err_set (err, errno, "open lower layer %zu", i);
          break;
        }
      DIR *d = fdopendir (fd);
      if (d == NULL)
        {
          close (fd);
          r = husk_err_set (err, errno, "fdopendir lower layer %zu", i);
          break;
        }
      struct dirent *de;
      while (r == 0 && (de = readdir (d)) != NULL)
        {
          size_t len = strlen (de->d_name);
          struct stat st;
          if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0
              || tree_find (&seen, 0, de->d_name, len) != TREE_NONE)
            continue;
          tree_add (&seen, 0, de->d_name, len);
          if (fstatat (fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && is_whiteout (&st))
            continue; /* hidden from here down */
          r = hide_lower (x, w, de->d_name, err);
        }
      closedir (d);
    }
  tree_free (&seen);
  if (r == 0)
    x->st.opaques++;
  return r;
}

/* `.wh..wh..opq` in PARENT: this layer's directory there becomes opaque (overlay.opaque=y), and the
 * whiteouts this layer made below it go (umoci's upperWhiteouts).  */
static int
do_opaque (struct extractor *x, const char *parent, struct husk_err *err)
{
  struct walk *w = &x->w[0];
  bool missing;

  if (x->o->n_lowers == 0)
    {
      x->st.skipped++;
      return 0;
    }
  if (parent[0] == '\0')
    return opaque_root (x, err);
  if (walk_path (&x->v, w, parent, false, &missing, err) < 0)
    return -1;
  if (missing)
    {
      x->st.skipped++;
      return 0;
    }
  if (w->up < 0)
    {
      cleanup_free char *phys = xstrdup (w->phys);
      if (walk_replay (&x->v, w, phys, true, err) < 0)
        return -1;
    }
  if (make_opaque (x, w->up, w->phys, err) < 0)
    return -1;
  keep_dir (x, w->phys);
  x->st.opaques++;
  return 0;
}

/* ---- entries --------------------------------------------------------------------------------- */

/* Copy the entry's data into FD (pwrite at libarchive's offsets, so GNU/PAX sparse files keep their
 * holes), gathered into writes of up to WBUF_SIZE bytes.  SIZE is the entry's size.  */
static int
write_data (struct extractor *x, int fd, int64_t size, const char *what, struct husk_err *err)
{
  const void *buf;
  size_t len, pending = 0;
  la_int64_t off;
  int64_t pending_off = 0, end = 0;

  for (;;)
    {
      int r = archive_read_data_block (x->a, &buf, &len, &off);
      if (r == ARCHIVE_EOF)
        break;
      if (r < ARCHIVE_WARN)
        {
          if (x->read_failed)
            {
              *err = x->read_err;
              return -1;
            }
          return husk_err_set (err, archive_errno (x->a) > 0 ? archive_errno (x->a) : 0, "read data: %s",
                               archive_error_string (x->a) ?: "unknown error");
        }
      if (len == 0)
        continue;
      if (off < 0 || off > size || (int64_t) len > size - off)
        return husk_err_set (err, 0, "data block outside the file's %lld bytes", (long long) size);
      if (pending > 0 && (pending_off + (int64_t) pending != off || pending + len > WBUF_SIZE))
        {
          if (pwrite_all (fd, x->wbuf, pending, pending_off) < 0)
            return husk_err_set (err, errno, "write '%s'", what);
          pending = 0;
        }
      if (pending == 0 && len >= WBUF_SIZE / 2)
        {
          if (pwrite_all (fd, buf, len, off) < 0)
            return husk_err_set (err, errno, "write '%s'", what);
        }
      else
        {
          if (pending == 0)
            pending_off = off;
          memcpy (x->wbuf + pending, buf, len);
          pending += len;
        }
      if (off + (int64_t) len > end)
        end = off + (int64_t) len;
    }
  if (pending > 0 && pwrite_all (fd, x->wbuf, pending, pending_off) < 0)
    return husk_err_set (err, errno, "write '%s'", what);
  if (end < size && ftruncate (fd, size) < 0)
    return husk_err_set (err, errno, "truncate '%s'", what);
  return 0;
}

static int
do_file (struct extractor *x, struct walk *w, const char *leaf, const char *what, struct husk_err *err)
{
  struct timespec ts[2];
  la_int64_t size = archive_entry_size (x->e);

  if (size < 0)
    return husk_err_set (err, 0, "negative size");
  if ((uint64_t) size > x->o->limits.max_file_bytes - x->st.file_bytes)
    return husk_err_set (err, EFBIG, "files exceed %llu bytes", (unsigned long long) x->o->limits.max_file_bytes);
  x->st.file_bytes += (uint64_t) size;
  if (clear_leaf (x, w->up, leaf, err) < 0)
    return -1;
  cleanup_close int fd = openat (w->up, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return husk_err_set (err, errno, "create '%s'", what);
  if (write_data (x, fd, size, what, err) < 0 || set_fd_attrs (x, fd, what, err) < 0)
    return -1;
  entry_times (x, ts);
  if (futimens (fd, ts) < 0)
    return husk_err_set (err, errno, "set times of '%s'", what);
  return 0;
}

static int
do_dir (struct extractor *x, struct walk *w, const char *leaf, const char *what, struct husk_err *err)
{
  struct stat st;
  struct timespec ts[2];
  bool opaque = false, existed = false;

  if (fstatat (w->up, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0)
    {
      if (S_ISDIR (st.st_mode))
        existed = true;
      else
        {
          /* a whiteout or a non-directory of this layer hid the lower namesake: keep it hidden */
          if (unlinkat (w->up, leaf, 0) < 0)
            return husk_err_set (err, errno, "unlink '%s'", what);
          opaque = true;
        }
    }
  else if (errno != ENOENT)
    return husk_err_set (err, errno, "stat '%s'", what);
  if (!existed && mkdirat (w->up, leaf, 0700) < 0)
    return husk_err_set (err, errno, "mkdir '%s'", what);
  cleanup_close int fd = openat (w->up, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return husk_err_set (err, errno, "open '%s'", what);
  if (existed)
    clear_xattrs (x, fd);
  if (set_fd_attrs (x, fd, what, err) < 0)
    return -1;
  if (opaque && fsetxattr (fd, x->xa_opaque, "y", 1, 0) < 0)
    return husk_err_set (err, errno, "set '%s' on '%s'", x->xa_opaque, what);
  entry_times (x, ts);
  const char *p = view_join (&x->v, w->phys, w->phys_len, leaf);
  defer_dir_times (x, p, strlen (p), ts);
  keep_dir (x, p);
  return 0;
}

/* A directory entry for the root itself: the layer directory's own owner, mode, xattrs, times.  */
static int
do_root_dir (struct extractor *x, struct husk_err *err)
{
  struct timespec ts[2];
  clear_xattrs (x, x->v.root);
  if (set_fd_attrs (x, x->v.root, "/", err) < 0)
    return -1;
  entry_times (x, ts);
  defer_dir_times (x, "", 0, ts);
  return 0;
}

static int
do_symlink (struct extractor *x, struct walk *w, const char *leaf, const char *what, struct husk_err *err)
{
  const char *target = archive_entry_symlink (x->e);
  if (target == NULL || target[0] == '\0')
    {
      husk_warn ("%s: symlink '%s' has no target, ignoring", x->o->name, what);
      x->st.skipped++;
      return 0;
    }
  if (strlen (target) > x->o->limits.max_name)
    return husk_err_set (err, ENAMETOOLONG, "symlink target longer than %zu bytes", x->o->limits.max_name);
  if (clear_leaf (x, w->up, leaf, err) < 0)
    return -1;
  if (symlinkat (target, w->up, leaf) < 0)
    return husk_err_set (err, errno, "symlink '%s'", what);
  return set_node_attrs (x, w->up, leaf, true, what, err);
}

static int
do_node (struct extractor *x, struct walk *w, const char *leaf, const char *what, struct husk_err *err)
{
  mode_t type = archive_entry_filetype (x->e);
  dev_t dev = 0;

  if (type == AE_IFCHR || type == AE_IFBLK)
    {
      uint64_t ma = archive_entry_rdevmajor (x->e), mi = archive_entry_rdevminor (x->e);
      if (ma > UINT32_MAX || mi > UINT32_MAX)
        return husk_err_set (err, ERANGE, "device number %llu:%llu out of range", (unsigned long long) ma,
                             (unsigned long long) mi);
      if (type == AE_IFCHR && ma == 0 && mi == 0)
        {
          husk_warn ("%s: '%s' is a character device 0:0 (an overlay whiteout), ignoring", x->o->name, what);
          x->st.skipped++;
          return 0;
        }
      if (!x->o->allow_devices)
        {
          husk_warn ("%s: device node '%s' not created here, ignoring", x->o->name, what);
          x->st.skipped++;
          return 0;
        }
      dev = makedev ((unsigned) ma, (unsigned) mi);
    }
  if (clear_leaf (x, w->up, leaf, err) < 0)
    return -1;
  if (mknodat (w->up, leaf, type | 0600, dev) < 0)
    return husk_err_set (err, errno, "mknod '%s'", what);
  return set_node_attrs (x, w->up, leaf, false, what, err);
}

/* Copy the lower file NAME (in the lower directory LFD, stat ST) up into this layer's directory
 * UPFD: content, owner, mode, xattrs, times, as overlayfs does before linking to it.  */
static int
copy_up (struct extractor *x, int lfd, int upfd, const char *name, const struct stat *st, const char *what,
         struct husk_err *err)
{
  struct timespec ts[2] = { st->st_atim, st->st_mtim };
  if (S_ISREG (st->st_mode))
    {
      if ((uint64_t) st->st_size > x->o->limits.max_file_bytes - x->st.file_bytes)
        return husk_err_set (err, EFBIG, "files exceed %llu bytes", (unsigned long long) x->o->limits.max_file_bytes);
      x->st.file_bytes += (uint64_t) st->st_size;
      cleanup_close int src = openat (lfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      if (src < 0)
        return husk_err_set (err, errno, "open '%s' in a lower layer", what);
      cleanup_close int dst = openat (upfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (dst < 0)
        return husk_err_set (err, errno, "create '%s'", what);
      off_t left = st->st_size;
      while (left > 0)
        {
          ssize_t n = copy_file_range (src, NULL, dst, NULL, (size_t) left, 0);
          if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP))
            {
              n = read (src, x->wbuf, WBUF_SIZE);
              if (n > 0 && write_all (dst, x->wbuf, (size_t) n) < 0)
                return husk_err_set (err, errno, "write '%s'", what);
            }
          if (n < 0)
            return husk_err_set (err, errno, "copy '%s' up", what);
          if (n == 0)
            break;
          left -= n;
        }
      if (fchown (dst, st->st_uid, st->st_gid) < 0 || fchmod (dst, st->st_mode & 07777) < 0)
        return husk_err_set (err, errno, "chown/chmod '%s'", what);
      copy_xattrs (x, src, dst, what);
      if (futimens (dst, ts) < 0)
        return husk_err_set (err, errno, "set times of '%s'", what);
      return 0;
    }
  if (S_ISLNK (st->st_mode))
    {
      ssize_t n = readlinkat (lfd, name, x->v.link, sizeof x->v.link);
      if (n < 0 || (size_t) n >= sizeof x->v.link)
        return husk_err_set (err, n < 0 ? errno : ENAMETOOLONG, "readlink '%s' in a lower layer", what);
      x->v.link[n] = '\0';
      if (symlinkat (x->v.link, upfd, name) < 0)
        return husk_err_set (err, errno, "symlink '%s'", what);
    }
  else if (S_ISFIFO (st->st_mode) || S_ISCHR (st->st_mode) || S_ISBLK (st->st_mode))
    {
      if (mknodat (upfd, name, (st->st_mode & S_IFMT) | 0600, st->st_rdev) < 0)
        return husk_err_set (err, errno, "mknod '%s'", what);
      if (chmod_nofollow (upfd, name, st->st_mode & 07777) < 0)
        return husk_err_set (err, errno, "chmod '%s'", what);
    }
  else
    return husk_err_set (err, EPERM, "cannot copy '%s' up", what);
  if (fchownat (upfd, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
    return husk_err_set (err, errno, "chown '%s'", what);
  if (utimensat (upfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
    return husk_err_set (err, errno, "set times of '%s'", what);
  return 0;
}

/* Split the cleaned PATH at its last '/': *LEAF points into it, the parent is written into *BUF.  */
static const char *
split_leaf (const char *path, char **buf, size_t *cap)
{
  const char *slash = strrchr (path, '/');
  size_t plen = slash ? (size_t) (slash - path) : 0;
  ensure_cap (buf, cap, plen + 1);
  memcpy (*buf, path, plen);
  (*buf)[plen] = '\0';
  return slash ? slash + 1 : path;
}

/* A hard link entry: the target is resolved in the merged view like any path (absolute and "../"
 * targets are legitimate, T10), the leaf never followed (a link to a symlink links the symlink,
 * T11); a target only a lower layer has is copied up first (T14); the entry's own data, if any, is
 * never written anywhere (libarchive #746), its owner and mode never applied.  */
static int
do_hardlink (struct extractor *x, const char *parent, const char *leaf, const char *what, struct husk_err *err)
{
  struct walk *tw = &x->w[1], *w = &x->w[0];
  const char *raw = archive_entry_hardlink (x->e);
  struct stat st, pst, tst;
  cleanup_free char *tparent = NULL;
  size_t tcap = 0;

  if (strlen (raw) > x->o->limits.max_name)
    return husk_err_set (err, ENAMETOOLONG, "hard link target longer than %zu bytes", x->o->limits.max_name);
  if (clean_name (raw, &x->target, &x->target_cap) > x->o->limits.max_depth)
    return husk_err_set (err, ELOOP, "hard link target deeper than %u levels", x->o->limits.max_depth);
  if (x->target[0] == '\0')
    return husk_err_set (err, EPERM, "hard link to the root directory");
  if (archive_entry_size (x->e) > 0)
    husk_warn ("%s: hard link '%s' carries %lld bytes of data, ignoring them", x->o->name, what,
               (long long) archive_entry_size (x->e));
  const char *tleaf = split_leaf (x->target, &tparent, &tcap);
  const char *twhat = x->target;
  if (!walk_fast (&x->v, tw, tparent) || fstatat (tw->up, tleaf, &st, AT_SYMLINK_NOFOLLOW) < 0)
    {
      /* not (simply) in this layer: look in the merged view, making nothing unless it is found */
      struct lower_hit hit;
      bool missing;
      if (walk_path (&x->v, tw, tparent, false, &missing, err) < 0)
        return husk_err_prefix (err, "hard link target '%s'", twhat);
      if (missing)
        return husk_err_set (err, ENOENT, "hard link target '%s' not found", twhat);
      if (tw->up >= 0 && fstatat (tw->up, tleaf, &st, AT_SYMLINK_NOFOLLOW) == 0)
        goto in_upper;
      if (tw->up >= 0 && errno != ENOENT)
        return husk_err_set (err, errno, "stat '%s'", twhat);
      if (lower_lookup (&x->v, tw, tleaf, &hit, err) < 0)
        return -1;
      if (hit.kind == K_ABSENT)
        return husk_err_set (err, ENOENT, "hard link target '%s' not found", twhat);
      if (hit.kind == K_DIR)
        return husk_err_set (err, EPERM, "hard link to the directory '%s'", twhat);
      if (tw->up < 0)
        {
          cleanup_free char *phys = xstrdup (tw->phys);
          if (walk_replay (&x->v, tw, phys, true, err) < 0 || lower_lookup (&x->v, tw, tleaf, &hit, err) < 0)
            return husk_err_prefix (err, "hard link target '%s'", twhat);
          if (hit.kind != K_LINK && hit.kind != K_OTHER)
            return husk_err_set (err, ENOENT, "hard link target '%s' changed", twhat);
        }
      if (copy_up (x, tw->lw[hit.at].fd, tw->up, tleaf, &hit.st, twhat, err) < 0)
        return -1;
    }
  else
    {
    in_upper:
      if (is_whiteout (&st))
        return husk_err_set (err, ENOENT, "hard link target '%s' not found", twhat);
      if (S_ISDIR (st.st_mode))
        return husk_err_set (err, EPERM, "hard link to the directory '%s'", twhat);
    }

  if (walk_parent (&x->v, w, parent, err) < 0)
    return -1;
  if (fstat (tw->up, &tst) < 0 || fstat (w->up, &pst) < 0)
    return husk_err_set (err, errno, "fstat");
  if (tst.st_dev == pst.st_dev && tst.st_ino == pst.st_ino && strcmp (tleaf, leaf) == 0)
    {
      husk_warn ("%s: hard link '%s' to itself, ignoring", x->o->name, what);
      x->st.skipped++;
      return 0;
    }
  if (clear_leaf (x, w->up, leaf, err) < 0)
    return -1;
  if (linkat (tw->up, tleaf, w->up, leaf, 0) < 0)
    return husk_err_set (err, errno, "link '%s' to '%s'", what, twhat);
  return 0;
}

/* One tar entry (its header read, its data not yet).  */
static int
do_entry (struct extractor *x, struct husk_err *err)
{
  const char *raw = archive_entry_pathname (x->e);
  cleanup_free char *parent = NULL;
  size_t pcap = 0;

  if (raw == NULL)
    raw = archive_entry_pathname_utf8 (x->e);
  if (raw == NULL)
    return husk_err_set (err, 0, "entry without a name");
  if (strlen (raw) > x->o->limits.max_name)
    return husk_err_set (err, ENAMETOOLONG, "name longer than %zu bytes", x->o->limits.max_name);
  if (clean_name (raw, &x->path, &x->path_cap) > x->o->limits.max_depth)
    return husk_err_set (err, ELOOP, "name deeper than %u levels", x->o->limits.max_depth);
  const char *leaf = split_leaf (x->path, &parent, &pcap);
  const char *what = x->path;

  if (has_prefix (leaf, WHITEOUT_PREFIX))
    {
      const char *name = leaf + strlen (WHITEOUT_PREFIX);
      if (strcmp (leaf, OPAQUE_NAME) == 0)
        return do_opaque (x, parent, err);
      if (has_prefix (leaf, META_PREFIX))
        {
          x->st.skipped++;
          return 0;
        }
      if (name[0] == '\0' || strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
        return husk_err_set (err, 0, "invalid whiteout");
      return do_whiteout (x, parent, name, err);
    }
  if (archive_entry_hardlink (x->e) != NULL)
    {
      if (x->path[0] == '\0')
        return husk_err_set (err, EPERM, "refusing to replace the root directory with a hard link");
      return do_hardlink (x, parent, leaf, what, err);
    }

  mode_t type = archive_entry_filetype (x->e);
  if (x->path[0] == '\0')
    {
      if (type != AE_IFDIR)
        return husk_err_set (err, EPERM, "refusing to change the type of the root directory");
      return do_root_dir (x, err);
    }
  if (type == AE_IFSOCK)
    {
      x->st.skipped++;
      return 0;
    }
  if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK && type != AE_IFIFO && type != AE_IFCHR
      && type != AE_IFBLK)
    return husk_err_set (err, 0, "unsupported entry type 0%o", (unsigned) type);

  struct walk *w = &x->w[0];
  if (walk_parent (&x->v, w, parent, err) < 0)
    return -1;
  switch (type)
    {
    case AE_IFREG:
      return do_file (x, w, leaf, what, err);
    case AE_IFDIR:
      return do_dir (x, w, leaf, what, err);
    case AE_IFLNK:
      return do_symlink (x, w, leaf, what, err);
    default:
      return do_node (x, w, leaf, what, err);
    }
}

/* ---- the whole layer ------------------------------------------------------------------------- */

static la_ssize_t
archive_read_cb (struct archive *a, void *data, const void **buf)
{
  struct extractor *x = data;
  ssize_t n = x->read (x->arg, buf, &x->read_err);
  if (n < 0)
    {
      x->read_failed = true;
      archive_set_error (a, EIO, "read failed");
      return -1;
    }
  return n;
}

/* Before any entry: the layer directory gets the attributes of the lower root (the merged root is
 * the topmost layer's), or 0755 root:root for a base layer; a `./` entry overrides them.  */
static int
init_root (struct extractor *x, struct husk_err *err)
{
  if (x->o->n_lowers == 0)
    {
      if (fchown (x->v.root, 0, 0) < 0 || fchmod (x->v.root, 0755) < 0)
        return husk_err_set (err, errno, "chown/chmod the layer directory");
      return 0;
    }
  struct stat st;
  cleanup_close int lfd = openat (x->o->lower_fds[0], ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (lfd < 0 || fstat (lfd, &st) < 0)
    return husk_err_set (err, errno, "open the nearest lower layer");
  if (fchown (x->v.root, st.st_uid, st.st_gid) < 0 || fchmod (x->v.root, st.st_mode & 07777) < 0)
    return husk_err_set (err, errno, "chown/chmod the layer directory");
  copy_xattrs (x, lfd, x->v.root, "/");
  struct timespec ts[2] = { st.st_atim, st.st_mtim };
  defer_dir_times (x, "", 0, ts);
  return 0;
}

/* The deferred directory times, in entry order (a later entry for the same path wins).  A path that
 * is no longer a directory reached without symlinks is skipped.  */
static int
apply_dir_times (struct extractor *x, struct husk_err *err)
{
  for (size_t i = 0; i < x->n_dt; i++)
    {
      const char *p = x->dt_arena + x->dt[i].off;
      int fd = p[0] == '\0' ? x->v.root : view_open_phys_dir (&x->v, p);
      if (fd < 0)
        continue;
      int r = futimens (fd, x->dt[i].ts);
      int e = errno;
      if (fd != x->v.root)
        close (fd);
      if (r < 0)
        return husk_err_set (err, e, "set times of '%s'", p[0] ? p : "/");
    }
  return 0;
}

static int
extract_all (struct extractor *x, struct husk_err *err)
{
  if (init_root (x, err) < 0)
    return -1;
  x->a = archive_read_new ();
  if (x->a == NULL)
    return husk_err_set (err, ENOMEM, "archive_read_new");
  if (archive_read_support_format_tar (x->a) != ARCHIVE_OK)
    return husk_err_set (err, 0, "libarchive: %s", archive_error_string (x->a));
  if (archive_read_open (x->a, x, NULL, archive_read_cb, NULL) != ARCHIVE_OK)
    goto archive_error;
  for (;;)
    {
      int r = archive_read_next_header (x->a, &x->e);
      if (r == ARCHIVE_EOF)
        break;
      if (r == ARCHIVE_WARN)
        husk_warn ("%s: entry %llu: %s", x->o->name, (unsigned long long) x->st.entries + 1,
                   archive_error_string (x->a) ?: "warning");
      else if (r != ARCHIVE_OK)
        goto archive_error;
      if (++x->st.entries > x->o->limits.max_entries)
        return husk_err_set (err, EFBIG, "more than %llu entries", (unsigned long long) x->o->limits.max_entries);
      if (do_entry (x, err) < 0)
        {
          const char *name = archive_entry_pathname (x->e);
          return husk_err_prefix (err, "entry '%.256s'", name ? name : "");
        }
    }
  return apply_dir_times (x, err);

archive_error:
  if (x->read_failed)
    {
      *err = x->read_err;
      return -1;
    }
  return husk_err_set (err, archive_errno (x->a) > 0 ? archive_errno (x->a) : 0, "entry %llu: %s",
                       (unsigned long long) x->st.entries + 1, archive_error_string (x->a) ?: "tar error");
}

int
extract_layer (int layer_fd, extract_read_fn read, void *arg, const struct extract_options *opts,
               struct extract_stats *stats, struct husk_err *err)
{
  struct extractor x = { .read = read, .arg = arg };
  struct extract_options o = *opts;
  int r;

  if (o.name == NULL)
    o.name = "layer";
  if (o.limits.max_file_bytes == 0)
    o.limits.max_file_bytes = extract_default_limits.max_file_bytes;
  if (o.limits.max_entries == 0)
    o.limits.max_entries = extract_default_limits.max_entries;
  if (o.limits.max_depth == 0)
    o.limits.max_depth = extract_default_limits.max_depth;
  if (o.limits.max_name == 0)
    o.limits.max_name = extract_default_limits.max_name;
  x.o = &o;
  snprintf (x.xa_opaque, sizeof x.xa_opaque, "%s.overlay.opaque", o.xattr_prefix ? o.xattr_prefix : "trusted");
  view_init (&x.v, layer_fd, o.lower_fds, o.n_lowers, o.limits.max_depth, x.xa_opaque, dir_made, &x);
  x.wbuf = xmalloc (WBUF_SIZE);
  walk_init (&x.w[0], o.n_lowers);
  walk_init (&x.w[1], o.n_lowers);
  tree_init (&x.wh);

  /* PAX names are UTF-8: read them under a UTF-8 locale so libarchive keeps their bytes as they are,
   * without a conversion warning per entry.  */
  locale_t utf8 = newlocale (LC_CTYPE_MASK, "C.UTF-8", (locale_t) 0);
  locale_t old = utf8 != (locale_t) 0 ? uselocale (utf8) : (locale_t) 0;

  r = extract_all (&x, err);

  if (x.a != NULL)
    archive_read_free (x.a);
  if (utf8 != (locale_t) 0)
    {
      uselocale (old);
      freelocale (utf8);
    }
  walk_free (&x.w[0]);
  walk_free (&x.w[1]);
  tree_free (&x.wh);
  view_free (&x.v);
  free (x.path);
  free (x.target);
  free (x.wbuf);
  free (x.dt);
  free (x.dt_arena);
  if (stats != NULL)
    *stats = x.st;
  if (r < 0)
    return husk_err_prefix (err, "%s", o.name);
  return 0;
}
