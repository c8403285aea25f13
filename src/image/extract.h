/* Extracting one layer's tar (layer.md "Changesets") into its own directory of the layer store, in
 * overlayfs form: the layer directory, stacked on the directories of the layers below it, gives by
 * an overlay mount the tree that applying the layers in order gives (manifest.md).
 *
 * Only the layer directory is ever written, every call relative to a directory fd: parents are
 * resolved in the merged view of this layer over the lower layers (symlinks followed, but only
 * inside the root, as umoci and containerd do: absolute targets restart at the root, ".." stops at
 * it, 40 links at most), afresh for every entry (CVE-2025-47290), the leaf is never followed, and
 * nothing outside is opened.  IMAGES.md §2.4 and T01–T28; SECURITY.md.
 *
 * Names (and hard link targets) are cleaned lexically first: empty and "." components dropped,
 * ".." clamped at the root (containerd's and umoci's choice), so `../x`, `/x` and `./x` all mean
 * ROOT/x.  An entry that names the root must be a directory, which sets the layer directory's own
 * owner, mode, xattrs and times; any other type there is refused (CVE-2021-29136).  Without such an
 * entry the layer directory gets the nearest lower root's attributes (0755 root for a base layer),
 * as the merged root shows the topmost layer's.
 *
 * Overlay form:
 * - `.wh.NAME` becomes a whiteout (char device 0:0) where a lower layer has NAME, and is dropped
 *   otherwise (a whiteout no lower layer needs shows as a broken entry); `.wh.`, `.wh..` and
 *   `.wh...` are errors.
 * - `.wh..wh..opq` sets XATTR_PREFIX "overlay.opaque" = "y" on its directory; whiteouts this layer
 *   made inside it are removed (with directories made only to hold them).  A directory this layer
 *   recreates after whiting it out is opaque; a whiteout of a directory this layer has makes it
 *   opaque.  overlayfs ignores the opaque xattr on a layer's root, so a root marker becomes one
 *   whiteout per name the lower roots show.  Other `.wh..wh.*` names (aufs metadata) are skipped.
 * - Overlay xattrs carried by the tar (trusted.overlay.*, user.overlay.*) are escaped to
 *   "<ns>.overlay.overlay.*" as umoci does, so a layer cannot forge overlay metadata; a char device
 *   0:0 in the tar is skipped with a warning; security.selinux and system.nfs4_acl are dropped.
 * - A parent directory the tar does not list gets the mode, owner, times and xattrs of the same
 *   directory in the nearest lower layer (0755 root when none has it).
 * - A parent that is a symlink in a lower layer (merged /usr: `lib -> usr/lib`) is followed inside
 *   the root, so `lib/foo` lands in `usr/lib/foo` as a flat extraction puts it; an explicit
 *   directory entry `lib/` replaces the symlink, as in a flat extraction.
 * - A hard link to a file of a lower layer copies that file up into this layer first (content,
 *   owner, mode, xattrs, times).  A hard link entry's own data, owner and mode are never used
 *   (libarchive #746, CVE-2021-32760); a link to a symlink links the symlink.
 * - Names, link targets and depth are capped by the limits; uids/gids must fit 32 bits (not -1),
 *   device numbers 32 bits; GNU/PAX sparse files are written with their holes.
 * - Device nodes only when ALLOW_DEVICES (root outside a user namespace); sockets skipped;
 *   setuid/setgid bits kept; modes, owners and times set without following symlinks and without
 *   opening device nodes or fifos.  */
#ifndef HUSK_IMAGE_EXTRACT_H
#define HUSK_IMAGE_EXTRACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

/* Caps against hostile layers (IMAGES.md T27, T28, T04).  A zero field means its default.  */
struct extract_limits
{
  uint64_t max_file_bytes; /* sum of regular file sizes (and lower files copied up for hard links) */
  uint64_t max_entries;    /* tar entries */
  unsigned max_depth;      /* path components of a name */
  size_t max_name;         /* bytes of a name or link target (PATH_MAX = 4096) */
};

/* The defaults: 64 GiB, 4 million entries, 256 levels, 4096 bytes.  */
extern const struct extract_limits extract_default_limits;

struct extract_options
{
  const int *lower_fds;   /* directory fds of the layers below, nearest first (O_PATH is fine) */
  size_t n_lowers;        /* 0 for the base layer */
  const char *xattr_prefix; /* "trusted" (default when NULL) or "user" (userxattr overlays) */
  bool allow_devices;     /* create char/block devices (else skip them with a warning) */
  struct extract_limits limits;
  const char *name;       /* names the layer in errors: "layer sha256:<hex>" */
};

/* Uncompressed tar bytes come from READ: it returns a count > 0 with *BUF set, 0 at the end, or -1
 * with ERR filled.  */
typedef ssize_t (*extract_read_fn) (void *arg, const void **buf, struct husk_err *err);

struct extract_stats
{
  uint64_t entries;    /* tar entries read */
  uint64_t file_bytes; /* bytes of regular files written (tar sizes, plus lower files copied up) */
  uint64_t whiteouts;  /* whiteouts made (0:0 char devices) */
  uint64_t opaques;    /* opaque markers applied */
  uint64_t skipped;    /* entries with nothing to do: whiteouts no lower needs, devices not
                          allowed, 0:0 char devices, sockets, aufs metadata, links to themselves */
};

/* Extract the tar read from READ/ARG into the empty directory LAYER_FD (an O_RDONLY|O_DIRECTORY fd of
 * a private directory; its own owner and mode become the image root's, so the privacy must come
 * from its parent, 0700).  Stops at the tar's end-of-archive marker without reading further, so the
 * caller can drain and verify the stream.  STATS may be NULL.  Warnings (xattrs the filesystem
 * refuses, skipped devices) go to husk_warn.  Xattrs of symlinks, fifos and device nodes are set
 * through /proc/self/fd.  Returns 0, or -1 with ERR naming the layer and the entry:
 * "layer sha256:<hex>: entry 'a/.wh..': invalid whiteout".  On failure the directory holds a
 * partial tree the caller removes.  */
int extract_layer (int layer_fd, extract_read_fn read, void *arg, const struct extract_options *opts,
                   struct extract_stats *stats, struct husk_err *err);

#endif
