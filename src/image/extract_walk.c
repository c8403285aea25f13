/* Path resolution in the merged view of a layer over its lower layers (see extract_walk.h).
 *
 * - Fast path (walk_fast): one openat2(RESOLVE_NO_SYMLINKS|BENEATH) when this layer already has the
 *   whole parent path as real directories; then the merged view there is this layer's.
 * - Otherwise walk_path goes one component at a time (walk_step): this layer's directory first
 *   (opaque: the lowers stop there), then the lower layers nearest first (lower_lookup), a whiteout
 *   or non-directory ending the merge.  A symlink's target is spliced in front of the rest of the
 *   path (two buffers swapped), so it resolves in the merged view too; absolute targets restart at
 *   the root, ".." never climbs above it and is resolved by walking again from the root to the
 *   parent (fds are not kept per level), names that exist nowhere are carried as plain names.
 * - With CREATE the resolved path is walked again making this layer's missing directories, each
 *   given the owner and mode of the directory below it (containerd's mkparent); the caller's hook
 *   copies xattrs and records times.  */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "image/extract_walk.h"
#include "util.h"

#define MAX_HOPS 40 /* symlinks followed while resolving one path (Linux's limit) */

/* ---- the view ------------------------------------------------------------------------------- */

void
view_init (struct view *v, int root, const int *lower_fds, size_t n_lowers, unsigned max_depth,
           const char *xa_opaque, view_dir_made_fn dir_made, void *arg)
{
  memset (v, 0, sizeof *v);
  v->root = root;
  v->lower_fds = lower_fds;
  v->n_lowers = n_lowers;
  v->max_depth = max_depth;
  v->xa_opaque = xa_opaque;
  v->dir_made = dir_made;
  v->arg = arg;
}

void
view_free (struct view *v)
{
  free (v->todo[0]);
  free (v->todo[1]);
  free (v->scratch);
  v->todo[0] = v->todo[1] = v->scratch = NULL;
  v->todo_cap[0] = v->todo_cap[1] = v->scratch_cap = 0;
}

/* openat2 with FLAGS|O_CLOEXEC and RESOLVE.  Returns the fd, or -1 with errno.  */
static int
openat2_flags (int dirfd, const char *path, int flags, unsigned long long resolve)
{
  struct open_how how = { .flags = (unsigned long long) (flags | O_CLOEXEC), .resolve = resolve };
  return (int) syscall (SYS_openat2, dirfd, path, &how, sizeof how);
}

int
view_open_phys_dir (const struct view *v, const char *path)
{
  if (path[0] == '\0')
    return openat (v->root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int fd = openat2_flags (v->root, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW,
                          RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV);
  if (fd >= 0 || errno != ENOSYS)
    return fd;
  char comp[NAME_MAX + 1];
  fd = openat (v->root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  for (const char *s = path, *e; fd >= 0 && *s != '\0'; s = *e ? e + 1 : e)
    {
      e = strchrnul (s, '/');
      if ((size_t) (e - s) > NAME_MAX)
        {
          close (fd);
          errno = ENAMETOOLONG;
          return -1;
        }
      memcpy (comp, s, (size_t) (e - s));
      comp[e - s] = '\0';
      int next = openat (fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      int saved = errno;
      close (fd);
      fd = next;
      errno = saved;
    }
  return fd;
}

/* True when the directory DIRFD has the opaque xattr set to "y".  */
static bool
is_opaque (const struct view *v, int dirfd)
{
  char val[2];
  return fgetxattr (dirfd, v->xa_opaque, val, sizeof val) == 1 && val[0] == 'y';
}

const char *
view_join (struct view *v, const char *parent, size_t plen, const char *name)
{
  size_t nl = strlen (name);
  ensure_cap (&v->scratch, &v->scratch_cap, plen + nl + 2);
  memcpy (v->scratch, parent, plen);
  size_t len = plen;
  if (plen > 0)
    v->scratch[len++] = '/';
  memcpy (v->scratch + len, name, nl + 1);
  return v->scratch;
}

/* ---- walks ---------------------------------------------------------------------------------- */

static void
ldirs_close (struct ldir *l, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (l[i].own && l[i].fd >= 0)
      close (l[i].fd);
}

/* Release the fds of W's level (the buffers stay for the next walk).  */
static void
walk_clear (struct walk *w)
{
  if (w->up_own && w->up >= 0)
    close (w->up);
  w->up = -1;
  w->up_own = false;
  ldirs_close (w->lw, w->n_lw);
  w->n_lw = 0;
  ldirs_close (w->lnext, w->n_next);
  w->n_next = 0;
}

void
walk_init (struct walk *w, size_t n_lowers)
{
  memset (w, 0, sizeof *w);
  w->up = -1;
  w->lw = xcalloc (n_lowers + 1, sizeof *w->lw);
  w->lnext = xcalloc (n_lowers + 1, sizeof *w->lnext);
  w->phys_cap = 256;
  w->phys = xmalloc (w->phys_cap);
  w->phys[0] = '\0';
}

void
walk_free (struct walk *w)
{
  walk_clear (w);
  free (w->lw);
  free (w->lnext);
  free (w->phys);
}

void
walk_root (struct view *v, struct walk *w)
{
  walk_clear (w);
  w->up = v->root;
  for (size_t i = 0; i < v->n_lowers; i++)
    w->lw[i] = (struct ldir){ .fd = v->lower_fds[i], .own = false };
  w->n_lw = v->n_lowers;
  w->phys_len = 0;
  w->phys[0] = '\0';
  w->depth = 0;
  w->virt = 0;
}

int
lower_lookup (struct view *v, struct walk *w, const char *name, struct lower_hit *hit, struct husk_err *err)
{
  ldirs_close (w->lnext, w->n_next);
  w->n_next = 0;
  hit->kind = K_ABSENT;
  for (size_t i = 0; i < w->n_lw; i++)
    {
      int fd = openat (w->lw[i].fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd >= 0)
        {
          if (hit->kind == K_ABSENT)
            {
              if (fstat (fd, &hit->st) < 0)
                {
                  close (fd);
                  return husk_err_set (err, errno, "stat '%s' in a lower layer", name);
                }
              hit->kind = K_DIR;
              hit->at = i;
            }
          w->lnext[w->n_next++] = (struct ldir){ .fd = fd, .own = true };
          if (is_opaque (v, fd))
            break;
          continue;
        }
      if (errno == ENOENT)
        continue;
      if (errno != ENOTDIR && errno != ELOOP)
        return husk_err_set (err, errno, "open '%s' in a lower layer", name);
      /* a non-directory: it shows only when nothing above it did; it ends the merge either way */
      if (hit->kind == K_ABSENT)
        {
          if (fstatat (w->lw[i].fd, name, &hit->st, AT_SYMLINK_NOFOLLOW) < 0)
            return husk_err_set (err, errno, "stat '%s' in a lower layer", name);
          hit->at = i;
          if (is_whiteout (&hit->st))
            hit->kind = K_ABSENT;
          else if (S_ISLNK (hit->st.st_mode))
            {
              ssize_t n = readlinkat (w->lw[i].fd, name, v->link, sizeof v->link);
              if (n < 0 || (size_t) n >= sizeof v->link)
                return husk_err_set (err, n < 0 ? errno : ENAMETOOLONG, "readlink '%s' in a lower layer", name);
              v->link[n] = '\0';
              hit->kind = K_LINK;
            }
          else
            hit->kind = K_OTHER;
        }
      break;
    }
  return 0;
}

/* Append NAME to W->phys.  */
static void
phys_push (struct walk *w, const char *name)
{
  size_t nl = strlen (name);
  ensure_cap (&w->phys, &w->phys_cap, w->phys_len + nl + 2);
  if (w->phys_len > 0)
    w->phys[w->phys_len++] = '/';
  memcpy (w->phys + w->phys_len, name, nl + 1);
  w->phys_len += nl;
  w->depth++;
}

/* Move W down into NAME: UP is this layer's directory there (or -1), W->lnext the lower ones.  */
static void
walk_enter (struct walk *w, int up, const char *name)
{
  if (w->up_own && w->up >= 0)
    close (w->up);
  w->up = up;
  w->up_own = up >= 0;
  ldirs_close (w->lw, w->n_lw);
  struct ldir *t = w->lw;
  w->lw = w->lnext;
  w->n_lw = w->n_next;
  w->lnext = t;
  w->n_next = 0;
  phys_push (w, name);
}

/* Give the new directory FD (WHAT names it) the owner and mode of the lower directory (stat LST)
 * it stands for; its xattrs and times are the dir_made hook's.  */
static int
copy_dir_owner (int fd, const struct stat *lst, const char *what, struct husk_err *err)
{
  if (fchown (fd, lst->st_uid, lst->st_gid) < 0)
    return husk_err_set (err, errno, "chown '%s'", what);
  if (fchmod (fd, lst->st_mode & 07777) < 0)
    return husk_err_set (err, errno, "chmod '%s'", what);
  return 0;
}

/* One step of a walk: NAME in W's level, in the merged view.  K_DIR: W moved into it (with CREATE,
 * this layer's directory is made when missing: with the lower directory's attributes, or 0755
 * root:root, opaque if it replaces a whiteout of this layer).  K_LINK: v->link holds the target, W
 * did not move.  K_OTHER: not a directory.  K_ABSENT (never with CREATE): nothing there.  */
static int
walk_step (struct view *v, struct walk *w, const char *name, bool create, enum kind *kind,
           struct husk_err *err)
{
  struct lower_hit hit;
  bool up_whiteout = false;

  if (w->depth >= v->max_depth)
    return husk_err_set (err, ELOOP, "'%s': more than %u levels", w->phys, v->max_depth);
  if (w->up >= 0)
    {
      int fd = openat (w->up, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd >= 0)
        {
          ldirs_close (w->lnext, w->n_next);
          w->n_next = 0;
          if (!is_opaque (v, fd) && lower_lookup (v, w, name, &hit, err) < 0)
            {
              close (fd);
              return -1;
            }
          walk_enter (w, fd, name);
          *kind = K_DIR;
          return 0;
        }
      if (errno != ENOENT)
        {
          struct stat st;
          if (errno != ENOTDIR && errno != ELOOP)
            return husk_err_set (err, errno, "open '%s'", view_join (v, w->phys, w->phys_len, name));
          if (fstatat (w->up, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            return husk_err_set (err, errno, "stat '%s'", view_join (v, w->phys, w->phys_len, name));
          if (S_ISLNK (st.st_mode))
            {
              ssize_t n = readlinkat (w->up, name, v->link, sizeof v->link);
              if (n < 0 || (size_t) n >= sizeof v->link)
                return husk_err_set (err, n < 0 ? errno : ENAMETOOLONG, "readlink '%s'",
                                     view_join (v, w->phys, w->phys_len, name));
              v->link[n] = '\0';
              *kind = K_LINK;
              return 0;
            }
          if (!is_whiteout (&st))
            {
              *kind = K_OTHER;
              return 0;
            }
          up_whiteout = true;
        }
    }

  hit.kind = K_ABSENT;
  ldirs_close (w->lnext, w->n_next);
  w->n_next = 0;
  if (!up_whiteout && lower_lookup (v, w, name, &hit, err) < 0)
    return -1;
  if (hit.kind == K_LINK || hit.kind == K_OTHER)
    {
      ldirs_close (w->lnext, w->n_next);
      w->n_next = 0;
      *kind = hit.kind;
      return 0;
    }
  if (!create)
    {
      if (hit.kind == K_ABSENT)
        {
          *kind = K_ABSENT;
          return 0;
        }
      walk_enter (w, -1, name); /* a directory of the lower layers only */
      *kind = K_DIR;
      return 0;
    }

  /* make this layer's directory */
  const char *what = view_join (v, w->phys, w->phys_len, name);
  if (w->up < 0)
    return husk_err_set (err, EINVAL, "'%s': no parent in this layer", what);
  if (up_whiteout && unlinkat (w->up, name, 0) < 0)
    return husk_err_set (err, errno, "unlink whiteout '%s'", what);
  if (mkdirat (w->up, name, 0700) < 0)
    return husk_err_set (err, errno, "mkdir '%s'", what);
  int fd = openat (w->up, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return husk_err_set (err, errno, "open '%s'", what);
  int r;
  if (hit.kind == K_DIR)
    r = copy_dir_owner (fd, &hit.st, what, err);
  else if (fchown (fd, 0, 0) < 0 || fchmod (fd, 0755) < 0)
    r = husk_err_set (err, errno, "chown/chmod '%s'", what);
  else if (up_whiteout && fsetxattr (fd, v->xa_opaque, "y", 1, 0) < 0)
    r = husk_err_set (err, errno, "set '%s' on '%s'", v->xa_opaque, what);
  else
    r = 0;
  if (r < 0)
    {
      close (fd);
      return -1;
    }
  v->dir_made (v->arg, fd, what, hit.kind == K_DIR ? w->lnext[0].fd : -1, hit.kind == K_DIR ? &hit.st : NULL);
  walk_enter (w, fd, name);
  *kind = K_DIR;
  return 0;
}

/* Give the walk's component source: PATH, then what remains.  */
static void
todo_set (struct view *v, const char *path)
{
  size_t n = strlen (path);
  ensure_cap (&v->todo[0], &v->todo_cap[0], n + 1);
  memcpy (v->todo[0], path, n + 1);
}

int
walk_replay (struct view *v, struct walk *w, const char *path, bool create, struct husk_err *err)
{
  cleanup_free char *copy = xstrdup (path);
  unsigned hops = w->hops;
  walk_root (v, w);
  w->hops = hops;
  for (char *s = copy, *e; *s != '\0'; s = e)
    {
      enum kind k;
      e = strchrnul (s, '/');
      if (*e != '\0')
        *e++ = '\0';
      if (walk_step (v, w, s, create, &k, err) < 0)
        return -1;
      if (k != K_DIR)
        return husk_err_set (err, ENOTDIR, "'%s' is not a directory", path);
    }
  return 0;
}

/* Drop the last component of W->phys (no syscalls).  */
static void
phys_pop (struct walk *w)
{
  while (w->phys_len > 0 && w->phys[w->phys_len - 1] != '/')
    w->phys_len--;
  if (w->phys_len > 0)
    w->phys_len--;
  w->phys[w->phys_len] = '\0';
  w->depth--;
}

/* ".." in a walk: up one level, never above the root.  A level that does not exist (W->virt) is
 * dropped; otherwise the walk is redone from the root to the parent (fds are not kept per level,
 * and ".." in a symlink target is rare).  */
static int
walk_up (struct view *v, struct walk *w, struct husk_err *err)
{
  if (w->depth == 0)
    return 0;
  if (w->virt > 0)
    {
      phys_pop (w);
      w->virt--;
      return 0;
    }
  phys_pop (w);
  cleanup_free char *path = xstrdup (w->phys);
  return walk_replay (v, w, path, false, err);
}

int
walk_path (struct view *v, struct walk *w, const char *path, bool create, bool *missing,
           struct husk_err *err)
{
  char comp[NAME_MAX + 1];
  size_t pos = 0;

  *missing = false;
  walk_root (v, w);
  w->hops = 0;
  todo_set (v, path);
  for (;;)
    {
      char *t = v->todo[0];
      while (t[pos] == '/')
        pos++;
      if (t[pos] == '\0')
        break;
      size_t s = pos;
      while (t[pos] != '\0' && t[pos] != '/')
        pos++;
      size_t cl = pos - s;
      if (cl > NAME_MAX)
        return husk_err_set (err, ENAMETOOLONG, "path component too long");
      memcpy (comp, t + s, cl);
      comp[cl] = '\0';
      if (strcmp (comp, ".") == 0)
        continue;
      if (strcmp (comp, "..") == 0)
        {
          if (walk_up (v, w, err) < 0)
            return -1;
          continue;
        }
      enum kind k = K_ABSENT;
      if (w->depth >= v->max_depth)
        return husk_err_set (err, ELOOP, "'%s': more than %u levels", w->phys, v->max_depth);
      if (w->virt == 0 && walk_step (v, w, comp, false, &k, err) < 0)
        return -1;
      if (k == K_DIR)
        continue;
      if (k == K_ABSENT)
        {
          walk_clear (w); /* nothing exists below a missing directory */
          phys_push (w, comp);
          w->virt++;
          continue;
        }
      if (k == K_OTHER)
        {
          if (!create)
            {
              *missing = true;
              return 0;
            }
          return husk_err_set (err, ENOTDIR, "'%s' is not a directory", view_join (v, w->phys, w->phys_len, comp));
        }
      /* K_LINK: continue with its target, then the rest */
      if (++w->hops > MAX_HOPS)
        return husk_err_set (err, ELOOP, "too many levels of symbolic links at '%s'",
                             view_join (v, w->phys, w->phys_len, comp));
      size_t ll = strlen (v->link), rest = strlen (t + pos);
      ensure_cap (&v->todo[1], &v->todo_cap[1], ll + rest + 2);
      memcpy (v->todo[1], v->link, ll);
      v->todo[1][ll] = '/';
      memcpy (v->todo[1] + ll + 1, t + pos, rest + 1);
      char *sw = v->todo[0];
      size_t sc = v->todo_cap[0];
      v->todo[0] = v->todo[1];
      v->todo_cap[0] = v->todo_cap[1];
      v->todo[1] = sw;
      v->todo_cap[1] = sc;
      pos = 0;
      if (v->link[0] == '/')
        {
          unsigned hops = w->hops;
          walk_root (v, w);
          w->hops = hops;
        }
    }
  *missing = w->virt > 0;
  if (create && (w->virt > 0 || w->up < 0))
    {
      cleanup_free char *phys = xstrdup (w->phys);
      return walk_replay (v, w, phys, true, err);
    }
  return 0;
}

bool
walk_fast (struct view *v, struct walk *w, const char *parent)
{
  if (parent[0] == '\0')
    return false;
  int fd = view_open_phys_dir (v, parent);
  if (fd < 0)
    return false;
  walk_clear (w);
  w->up = fd;
  w->up_own = true;
  size_t n = strlen (parent);
  ensure_cap (&w->phys, &w->phys_cap, n + 1);
  memcpy (w->phys, parent, n + 1);
  w->phys_len = n;
  w->depth = 1;
  for (size_t i = 0; i < n; i++)
    w->depth += parent[i] == '/';
  w->virt = 0;
  return true;
}

int
walk_parent (struct view *v, struct walk *w, const char *parent, struct husk_err *err)
{
  bool missing;
  if (walk_fast (v, w, parent))
    return 0;
  return walk_path (v, w, parent, true, &missing, err);
}

