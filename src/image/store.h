/* The layer store (default /var/lib/husk, 0700): each layer extracted once, keyed by its ChainID
 * (image-spec config.md "Layer ChainID"), shared by every image and bundle that has it.
 *
 *   layers/<chainid>/fs          the layer's tree in overlay form (extract.h), a lowerdir
 *   layers/<chainid>/layer.json  {"chain_id", "diff_id", "parent", "size", "entries"}
 *   tmp/                         layers being extracted (renamed into layers/ when complete)
 *   locks/<key>.lock             flock per ChainID; locks/store.lock: shared by unpack, exclusive by gc
 *   images/<manifest>.json       what `husk image ls` lists
 *   bundles/<sha256(path)>.json  bundles made by unpack (gc keeps the layers of existing ones)
 *   containers/<id>-<rnd>/       upper and work directories of running containers (overlay.h)
 *
 * A layer is extracted into tmp/, verified (diff_id), synced, then renamed: a crash or a concurrent
 * unpack never leaves a half layer under layers/.  IMAGES.md T35.  */
#ifndef HUSK_IMAGE_STORE_H
#define HUSK_IMAGE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "image/digest.h"

#define STORE_DEFAULT "/var/lib/husk"

struct image_store
{
  int fd;     /* the store directory, O_RDONLY|O_DIRECTORY */
  char *path; /* absolute */
  int lock;   /* locks/store.lock, held shared (or exclusive) while open */
};

/* Open (creating it, 0700, when CREATE) the store at PATH and take its lock (EXCLUSIVE for gc and
 * rm, else shared).  Returns 0, or -1 with ERR.  */
int store_open (struct image_store *s, const char *path, bool create, bool exclusive, struct husk_err *err);
void store_close (struct image_store *s);

/* Fill the new layer directory FS_FD (its tree goes there).  Returns 0, or -1 with ERR.  */
typedef int (*store_fill_fn) (int fs_fd, void *arg, uint64_t *bytes, uint64_t *entries, struct husk_err *err);

/* Make sure the layer CHAIN (with DIFF_ID, on top of PARENT or NULL for a base layer) is in the
 * store: under its lock, reuse it when committed; else make tmp/<chain>/fs (removing a crashed leftover), call FILL, write
 * layer.json, syncfs, and rename to layers/<chain>.  *EXTRACTED says whether FILL ran.  Returns 0, or
 * -1 with ERR (the temp directory removed).  */
int store_layer_ensure (struct image_store *s, const struct digest *chain, const struct digest *diff_id,
                        const struct digest *parent, store_fill_fn fill, void *arg, bool *extracted,
                        struct husk_err *err);

/* An O_PATH|O_DIRECTORY fd of layers/<CHAIN>/fs, or -1 with ERR (ENOENT when absent).  */
int store_layer_fd (struct image_store *s, const struct digest *chain, struct husk_err *err);

/* Record an image: images/<MANIFEST>.json with REF (may be NULL), SOURCE, PLATFORM ("os/arch"),
 * CONFIG digest and the N ChainIDs.  Returns 0, or -1 with ERR.  */
int store_record_image (struct image_store *s, const struct digest *manifest, const char *ref, const char *source,
                        const char *platform, const struct digest *config, const struct digest *chains, size_t n,
                        struct husk_err *err);

/* Record the bundle BUNDLE (absolute) as a user of its layers (bundles/<sha256(BUNDLE)>.json).  */
int store_record_bundle (struct image_store *s, const char *bundle, const struct digest *manifest,
                         struct husk_err *err);

/* Print the images (or, with LAYERS, the layers) to stdout as a table or JSON (JSON true).
 * Returns 0, or -1 with ERR.  */
int store_list (struct image_store *s, bool layers, bool json, struct husk_err *err);

/* Remove the image NAME (a ref name, "sha256:<hex>" or a unique hex prefix of 12 or more) and its
 * layers that no other image, bundle or container uses.  Store opened exclusive.  */
int store_remove_image (struct image_store *s, const char *name, struct husk_err *err);

/* Remove the layers no existing bundle and no container uses, the records of bundles that are gone
 * and of images whose layers are gone, and stale temp directories; print each removal.  Store
 * opened exclusive.  Returns 0, or -1 with ERR.  */
int store_gc (struct image_store *s, struct husk_err *err);

#endif
