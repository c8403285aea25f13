/* The overlayfs rootfs of a bundle made by `husk image unpack`: BUNDLE/husk-rootfs.json names the
 * layer store and the layers (ChainIDs, base first); the container's root is an overlay of the
 * store's layer directories (nearest first) with an upper and a work directory private to the
 * container.  The overlay is made in husk's parent as a detached mount (fsopen/fsmount) and attached
 * only inside the container's mount namespace, so no mount ever appears on the host and none
 * outlives the container.  The private directory is recorded in the state directory before it is
 * made, and removed by delete.  */
#ifndef HUSK_OVERLAY_H
#define HUSK_OVERLAY_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* The bundle file that marks an image rootfs.  */
#define OVERLAY_BUNDLE_FILE "husk-rootfs.json"

struct husk_overlay
{
  char *store;   /* absolute path of the layer store */
  char *image;   /* "sha256:<hex>" of the manifest, or NULL */
  char **layers; /* ChainID hex strings, base first, NULL-terminated */
  size_t n_layers;
};

/* Read BUNDLE/husk-rootfs.json (BUNDLE absolute) into *OUT: store absolute, 1..500 layers, each 64
 * lowercase hex characters.  Returns 1 with *OUT filled, 0 when the bundle has no such file, or -1
 * with ERR ("husk-rootfs.json: layers[2]: expected a 64-character hex ChainID").  */
int overlay_load (const char *bundle, struct husk_overlay *out, struct husk_err *err);

/* Free what *O owns (safe on a zeroed struct).  */
void overlay_release (struct husk_overlay *o);

/* A detached overlay mount of O's layers (STORE/layers/<hex>/fs, each checked to be a directory
 * not reached through a symlink) with UPPER and WORK (absolute paths, or both NULL for a read-only
 * stack; a lone layer without an upper becomes a read-only bind of it).  Layers are added with
 * fsconfig "lowerdir+" (nearest first, one per call: no page-size limit on their number).
 * Returns the mount fd (O_CLOEXEC), or -1 with ERR.  */
int overlay_mount_fd (const struct husk_overlay *o, const char *upper, const char *work, struct husk_err *err);

/* The path of a new private directory for container ID: STORE/containers/<ID>-<12 random hex>
 * (free it).  Never NULL.  */
char *overlay_private_dir (const struct husk_overlay *o, const char *id);

/* Make DIR (from overlay_private_dir), 0700, with upper/ and work/ and the file "layers" listing
 * the ChainIDs (so `husk image gc` keeps them while the container exists).  Returns 0, or -1 with
 * ERR (nothing left behind).  */
int overlay_make_private (const struct husk_overlay *o, const char *dir, struct husk_err *err);

/* Remove the private directory DIR made by overlay_make_private (the whole tree, never following a
 * symlink, however deep).  A missing DIR is not an error.  Returns 0, or -1 with ERR.  */
int overlay_remove_private (const char *dir, struct husk_err *err);

#endif
