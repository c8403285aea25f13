/* Image sources and what they hold: an OCI image layout directory (image-layout.md), or an OCI or
 * docker-archive tarball staged into a private directory; resolving a reference and a platform to
 * one image manifest (image-index.md, manifest.md); and the image configuration (config.md).
 * Docker media types are accepted where they mean the same thing; unknown media types are skipped,
 * never fatal.  IMAGES.md T29, T34.  */
#ifndef HUSK_IMAGE_LAYOUT_H
#define HUSK_IMAGE_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "image/digest.h"

/* Deepest chain of nested indexes followed (index -> index -> ... -> manifest).  */
#define IMAGE_INDEX_MAX_DEPTH 8

/* What a platform selector asks for (image-index.md "platform"); NULL members match anything.  */
struct image_platform
{
  char *os;           /* "linux" */
  char *architecture; /* GOARCH: "amd64", "arm64", "arm" */
  char *variant;      /* "v7"; NULL: any (arm64 alone also matches "v8") */
};

/* An opened image source.  */
struct image_source
{
  int dirfd;      /* the layout directory (O_RDONLY directory fd), blobs read beneath it */
  char *staged;   /* the private temp directory an archive was unpacked into, removed by close; or NULL */
  bool docker;    /* a docker-archive (manifest.json), converted: index.json, oci-layout and one
                   * docker manifest v2 blob per image were written into the staged directory */
  char *name;     /* SOURCE as the user gave it, for messages */
};

/* Open SOURCE: a directory with `oci-layout` (imageLayoutVersion checked) and `index.json`; or a tar
 * file (plain, gzip or zstd, through libarchive) holding either an OCI layout or a docker-archive
 * (`manifest.json` + config + layer tars, as `docker save` writes).  A tarball is staged into a new
 * 0700 directory under TMPDIR: only regular files and directories are written, names are checked
 * (no "..", no absolute names, at most 8 levels) and written with O_NOFOLLOW|O_EXCL, total bytes capped
 * by MAX_BYTES.  A docker-archive's config and layer files (at any path inside; their sha256 is
 * computed while staging) are moved into blobs/sha256/<their sha256> and, per manifest.json image, a
 * docker manifest v2 blob is written (config `application/vnd.docker.container.image.v1+json`;
 * layers `…rootfs.diff.tar`, or `…rootfs.diff.tar.gzip` / OCI `…tar+zstd` by their magic bytes),
 * with an index.json whose ref names are the RepoTags as written plus their short form without
 * "docker.io/library/" or "docker.io/", so the rest of husk sees one layout.  Symlinks, hard links
 * and special files in the archive are skipped; duplicate names are an error.  TMPDIR NULL: $TMPDIR
 * or /tmp.  Returns 0, or -1 with ERR naming SOURCE; nothing is left under TMPDIR on failure.  */
int image_source_open (struct image_source *src, const char *source, const char *tmpdir, uint64_t max_bytes,
                       struct husk_err *err);

/* Close SRC and remove its staged directory.  Safe twice, after a failed open and on a zeroed source
 * (whose dirfd 0 is left alone: a source is open exactly while its name is set).  */
void image_source_close (struct image_source *src);

/* A descriptor (descriptor.md).  */
struct image_desc
{
  char *media_type;
  struct digest digest;
  int64_t size;       /* bytes, >= 0 */
  char *ref_name;     /* annotations["org.opencontainers.image.ref.name"], or NULL */
  char *os, *architecture, *variant; /* platform, or NULL */
};
void image_desc_free (struct image_desc *d);

/* One image manifest, resolved.  */
struct image_manifest
{
  struct digest digest;      /* of the manifest blob */
  struct image_desc config;  /* media type checked: an image config (OCI or docker) */
  struct image_desc *layers; /* base first */
  size_t n_layers;
  char *ref_name;            /* the ref it was found by, or NULL */
};
void image_manifest_free (struct image_manifest *m);

/* Layer media types, from the descriptor's mediaType (layer.md, media-types.md; the docker
 * `…rootfs.diff.tar.gzip` and the deprecated nondistributable types included).  */
enum image_compression
{
  IMAGE_LAYER_UNKNOWN = 0, /* not a layer type: an error for a manifest layer */
  IMAGE_LAYER_TAR,
  IMAGE_LAYER_GZIP,
  IMAGE_LAYER_ZSTD,
};
enum image_compression image_layer_compression (const char *media_type);

/* Resolve REF (NULL: the source must hold exactly one image, or one index) and PLATFORM in SRC:
 * index.json entries whose ref.name equals REF (error when none, or when several differ and none is
 * selected by platform); an index is descended (depth <= IMAGE_INDEX_MAX_DEPTH) and its first entry
 * matching PLATFORM is used (image-index.md), entries of unknown media types and `unknown/unknown`
 * platforms skipped.  An entry without a platform matches any; a nested index with no match falls
 * through to the next entry.  A document whose own mediaType (or members: `manifests` vs
 * `config`/`layers`) says it is the other kind than its descriptor is refused (CVE-2021-41190).  The manifest blob is verified and parsed: schemaVersion 2, config and layers
 * present, every layer of a known layer media type.  Returns 0 with *OUT filled, or -1 with ERR:
 * "SOURCE: no image named 'REF'", "SOURCE: reference 'REF' is ambiguous", "SOURCE: no manifest for
 * platform linux/arm64 in index sha256:...", "blob sha256:...: manifests[1].digest: invalid digest".  */
int image_resolve (struct image_source *src, const char *ref, const struct image_platform *platform,
                   struct image_manifest *out, struct husk_err *err);

/* The list of ref names in SRC's index.json (for messages and `image ls`); *N their count.  */
int image_ref_names (struct image_source *src, char ***out, size_t *n, struct husk_err *err);

/* An image configuration (config.md), the parts husk uses.  */
struct image_config
{
  char *os, *architecture, *variant, *author, *created;
  char *user;                  /* config.User or NULL */
  char **env;                  /* NULL-terminated; may be empty */
  char **entrypoint, **cmd;    /* NULL-terminated or NULL when absent */
  char *working_dir;           /* or NULL */
  char **label_keys, **label_values; /* parallel, NULL-terminated */
  char *stop_signal;           /* or NULL */
  char **volumes;              /* keys of config.Volumes, NULL-terminated, or NULL */
  char **exposed_ports;        /* keys of config.ExposedPorts, or NULL */
  struct digest *diff_ids;     /* rootfs.diff_ids, verified digests */
  size_t n_diff_ids;
};
void image_config_free (struct image_config *c);

/* Load and verify the config blob of M from SRC and parse it: rootfs.type must be "layers",
 * rootfs.diff_ids as many as M's layers (error otherwise).  Returns 0, or -1 with ERR
 * ("blob sha256:<hex>: config.Env[2]: expected string").  */
int image_config_load (struct image_source *src, const struct image_manifest *m, struct image_config *out,
                       struct husk_err *err);

/* Parse "os/arch[/variant]" (e.g. "linux/arm/v7") into *OUT.  Returns 0, or -1 with ERR.  */
int image_platform_parse (const char *s, struct image_platform *out, struct husk_err *err);
/* This host's platform: linux and the GOARCH name of the machine husk was built for.  */
void image_platform_host (struct image_platform *out);
void image_platform_free (struct image_platform *p);

#endif
