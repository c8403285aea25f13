/* Internal to layer extraction (extract.c): path resolution in the merged view of the layer being
 * extracted over its lower layers, as overlayfs will show it.  A walk (struct walk) goes one
 * component at a time, looking in this layer, then in the lower layers nearest first, honouring
 * whiteouts and opaque directories; it follows symlinks inside the root (absolute targets restart at
 * the root, ".." stops at it, at most 40 symlinks per path), and can create missing directories in
 * this layer with the attributes of the same directory below (containerd's mkparent).  Every step is
 * an openat(O_NOFOLLOW) or fstatat(AT_SYMLINK_NOFOLLOW) relative to a directory fd; nothing is
 * cached between entries (CVE-2025-47290).  Errors are set on ERR with errno and the path
 * ("mkdir 'a/b'", "'a/f' is not a directory", "too many levels of symbolic links at 'a/l'").  */
#ifndef HUSK_IMAGE_EXTRACT_WALK_H
#define HUSK_IMAGE_EXTRACT_WALK_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "error.h"
#include "util.h"

/* ---- small helpers shared by the extract*.c files ------------------------------------------- */

/* Grow the heap buffer *BUF (capacity *CAP bytes; NULL and 0 at first) to at least NEED bytes,
 * doubling from 256.  Never fails (xrealloc).  */
static inline void
ensure_cap (char **buf, size_t *cap, size_t need)
{
  if (need <= *cap)
    return;
  size_t c = *cap ? *cap : 256;
  while (c < need)
    c *= 2;
  *buf = xrealloc (*buf, c);
  *cap = c;
}

/* True when ST is an overlayfs whiteout: a character device 0:0.  */
static inline bool
is_whiteout (const struct stat *st)
{
  return S_ISCHR (st->st_mode) && st->st_rdev == makedev (0, 0);
}

/* ---- the view ------------------------------------------------------------------------------- */

/* Called once for each directory a creating walk makes in this layer, right after making it
 * (mkdirat 0700, opened O_RDONLY|O_DIRECTORY as FD) and giving it its owner and mode: those of the
 * lower directory it stands for (LFD, stat LST), or root:root 0755 (LFD -1, LST NULL) when no lower
 * layer has one, plus the opaque xattr when it replaces a whiteout of this layer.  PATH (the
 * directory's cleaned path from the root) is valid during the call only.  ARG is the view's.  The
 * hook copies what else it wants (xattrs, times); it cannot fail.  */
typedef void (*view_dir_made_fn) (void *arg, int fd, const char *path, int lfd, const struct stat *lst);

/* What every walk of one layer's extraction shares: the layers, and scratch buffers.  */
struct view
{
  int root;              /* this layer's directory (the caller's fd) */
  const int *lower_fds;  /* directory fds of the lower layers' roots, nearest first (the caller's) */
  size_t n_lowers;
  unsigned max_depth;    /* deepest path walked, in components (ELOOP beyond) */
  const char *xa_opaque; /* the opaque xattr: "trusted.overlay.opaque" or "user.overlay.opaque" */
  view_dir_made_fn dir_made;
  void *arg;               /* for dir_made */
  char link[PATH_MAX + 1]; /* the target of the symlink a lookup just met (K_LINK); scratch otherwise */
  char *todo[2];           /* the rest of a path being walked, two buffers swapped on each symlink */
  size_t todo_cap[2];
  char *scratch; /* view_join's result */
  size_t scratch_cap;
};

/* Set V up for this layer's directory ROOT over the N_LOWERS lower roots LOWER_FDS (nearest first;
 * all fds stay the caller's and must outlive V), walking at most MAX_DEPTH components, with the
 * opaque xattr name XA_OPAQUE (kept as a pointer) and the hook DIR_MADE(ARG, ...).  */
void view_init (struct view *v, int root, const int *lower_fds, size_t n_lowers, unsigned max_depth,
                const char *xa_opaque, view_dir_made_fn dir_made, void *arg);

/* Free V's buffers (not its fds).  */
void view_free (struct view *v);

/* The path PARENT (PLEN bytes, "" = the root) joined with NAME, in V's scratch buffer: valid until
 * the next view_join or walk on V.  For messages and the caller's own records.  */
const char *view_join (struct view *v, const char *parent, size_t plen, const char *name);

/* The cleaned PATH of this layer's directory tree ("" = the root), as a new O_RDONLY|O_DIRECTORY|
 * O_CLOEXEC fd, when every component of it is a real directory of this layer (no symlinks, no
 * crossing of mounts): one openat2 (RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS), or one openat(O_NOFOLLOW)
 * per component where openat2 is missing.  Returns the fd, or -1 with errno.  */
int view_open_phys_dir (const struct view *v, const char *path);

/* ---- walks ---------------------------------------------------------------------------------- */

/* A lower layer's directory at the walk's current level.  */
struct ldir
{
  int fd;
  bool own; /* close it when leaving the level (the lower roots are the caller's) */
};

/* Where a path walk stands: a directory of the merged view, named by PHYS (its path from the root,
 * symlinks already resolved, "" for the root).  Everything here belongs to one walk of one entry;
 * the caller reads UP, PHYS/PHYS_LEN and LW (after lower_lookup, LW[hit.at]).  */
struct walk
{
  int up;          /* this layer's directory at PHYS, or -1 when this layer has none (lookups only) */
  bool up_own;
  struct ldir *lw; /* the lower directories merged at PHYS, nearest first */
  size_t n_lw;
  struct ldir *lnext; /* scratch: the next level's lower directories */
  size_t n_next;
  char *phys;
  size_t phys_len, phys_cap;
  unsigned depth; /* components in PHYS */
  unsigned virt;  /* trailing components of PHYS that exist nowhere (walk_path) */
  unsigned hops;  /* symlinks followed */
};

/* What a name is in the merged view.  */
enum kind
{
  K_ABSENT, /* not in the merged view (or hidden by a whiteout) */
  K_DIR,
  K_LINK,
  K_OTHER /* a file, fifo, device... */
};

/* What the lower layers show at one name.  */
struct lower_hit
{
  enum kind kind;
  size_t at;      /* index in walk.lw of the layer that shows it */
  struct stat st; /* its stat (K_DIR: of the nearest lower directory) */
};

/* Make W an empty walk for up to N_LOWERS lower layers (buffers allocated; no fds).  */
void walk_init (struct walk *w, size_t n_lowers);

/* Close W's fds and free its buffers.  */
void walk_free (struct walk *w);

/* Put W at the root: this layer's directory and every lower root (overlayfs ignores an opaque xattr
 * on a layer's root, so all of them merge).  Closes the fds W held; makes no syscalls otherwise.  */
void walk_root (struct view *v, struct walk *w);

/* Look NAME up in the lower directories of W's level, as overlayfs does: nearest first, a whiteout
 * or a non-directory ends the search, directories merge until one is opaque.  The directories go to
 * W->lnext (for stepping into NAME); W does not move.  HIT says what the nearest lower shows
 * (K_LINK: V->link holds the target).  Returns 0, or -1 with ERR (open, stat, readlink failing in a
 * lower layer).  */
int lower_lookup (struct view *v, struct walk *w, const char *name, struct lower_hit *hit, struct husk_err *err);

/* Walk the physical path PATH (directories of the merged view, no symlinks) from the root.  With
 * CREATE this layer's missing directories are made (with the lower directories' owner and mode, or
 * 0755 root:root; V's dir_made hook called for each).  Returns 0 with W at PATH, or -1 with ERR
 * (ENOTDIR when a component is no directory).  */
int walk_replay (struct view *v, struct walk *w, const char *path, bool create, struct husk_err *err);

/* Walk PATH (relative to the root) in the merged view, following symlinks inside the root, and
 * leave W at the directory it names.  The walk itself changes nothing: names that do not exist are
 * kept as plain names (W->virt counts them; a later ".." drops them, as securejoin does), so a
 * symlink to "/missing/../etc" makes no "missing".  Then, with CREATE, this layer's directories are
 * made along the resolved path (as walk_replay) and a non-directory on the way is an error
 * (ENOTDIR); without, *MISSING says that PATH names no directory of the merged view (and W->up is
 * -1 where this layer has no directory yet).  Returns 0, or -1 with ERR (also ELOOP: more than
 * V->max_depth levels or 40 symlinks; ENAMETOOLONG: a component longer than NAME_MAX).  */
int walk_path (struct view *v, struct walk *w, const char *path, bool create, bool *missing,
               struct husk_err *err);

/* Fast path: leave W at this layer's directory PARENT (a cleaned path, not the root) when the whole
 * of it already is real directories in this layer, so that the merged view there is this layer's
 * (W's lower directories are left empty).  Returns false (W untouched) otherwise.  */
bool walk_fast (struct view *v, struct walk *w, const char *parent);

/* Leave W at this layer's directory for PARENT (a cleaned path), made when missing: walk_fast, else
 * walk_path with CREATE.  Returns 0, or -1 with ERR.  */
int walk_parent (struct view *v, struct walk *w, const char *parent, struct husk_err *err);

#endif
