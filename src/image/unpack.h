/* `husk image unpack`: an OCI image (layout directory, OCI archive or docker-archive) into a
 * bundle whose rootfs is an overlay of verified layers kept once in the layer store.  */
#ifndef HUSK_IMAGE_UNPACK_H
#define HUSK_IMAGE_UNPACK_H

#include <stdbool.h>

#include "error.h"

struct unpack_opts
{
  const char *store;      /* layer store directory */
  const char *source_ref; /* "SOURCE[:REF]" */
  const char *bundle;     /* must not exist, or be an empty directory */
  const char *platform;   /* "os/arch[/variant]", or NULL for this host's */
  bool rootfs_only;       /* no config.json (like `umoci raw unpack`) */
  bool quiet;             /* no progress even on a terminal */
};

/* Split SOURCE[:REF] (see husk-image(1)): when the whole string names an existing path there is no
 * REF; else SOURCE is the shortest prefix before a ':' that exists.  Returns 0 with *SOURCE (free it)
 * and *REF (free it; NULL when none), or -1 with ERR (ENOENT: no prefix exists).  */
int unpack_split_source (const char *arg, char **source, char **ref, struct husk_err *err);

/* Resolve the image, make sure each of its layers is in the store (extracting only those missing,
 * each verified against its diff_id), and write BUNDLE/config.json, BUNDLE/rootfs/ (the mount point)
 * and BUNDLE/husk-rootfs.json (overlay.h), recording the image and the bundle in the store.
 * Returns 0, or -1 with ERR; on failure the bundle directory (or what was written into the empty
 * one) is removed and no temp layer stays in the store.  */
int image_unpack (const struct unpack_opts *o, struct husk_err *err);

#endif
