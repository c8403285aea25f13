/* Image sources (see layout.h): OCI image layout directories (image-layout.md), reference and
 * platform resolution (image-index.md, manifest.md) and the image configuration (config.md).  A
 * tarball source is staged into a directory by archive.c and then read here as a layout.
 * IMAGES.md §1, §7.1, T29, T30, T34.  */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "image/archive.h"
#include "image/blob.h"
#include "image/layout.h"
#include "spec_json.h"
#include "util.h"

/* Largest oci-layout file read.  */
#define OCI_LAYOUT_MAX (64u << 10)

/* ---- media types --------------------------------------------------------------------------- */

enum media_kind
{
  MEDIA_UNKNOWN = 0,
  MEDIA_INDEX,
  MEDIA_MANIFEST,
};

static enum media_kind
media_kind (const char *mt)
{
  if (mt == NULL)
    return MEDIA_UNKNOWN;
  if (strcmp (mt, MT_OCI_INDEX) == 0 || strcmp (mt, MT_DOCKER_LIST) == 0)
    return MEDIA_INDEX;
  if (strcmp (mt, MT_OCI_MANIFEST) == 0 || strcmp (mt, MT_DOCKER_MANIFEST) == 0)
    return MEDIA_MANIFEST;
  return MEDIA_UNKNOWN;
}

static bool
is_config_media_type (const char *mt)
{
  return strcmp (mt, MT_OCI_CONFIG) == 0 || strcmp (mt, MT_DOCKER_CONFIG) == 0;
}

enum image_compression
image_layer_compression (const char *media_type)
{
  static const struct
  {
    const char *mt;
    enum image_compression c;
  } types[] = {
    { "application/vnd.oci.image.layer.v1.tar", IMAGE_LAYER_TAR },
    { "application/vnd.oci.image.layer.v1.tar+gzip", IMAGE_LAYER_GZIP },
    { "application/vnd.oci.image.layer.v1.tar+zstd", IMAGE_LAYER_ZSTD },
    { "application/vnd.oci.image.layer.nondistributable.v1.tar", IMAGE_LAYER_TAR },
    { "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", IMAGE_LAYER_GZIP },
    { "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", IMAGE_LAYER_ZSTD },
    { MT_DOCKER_LAYER, IMAGE_LAYER_TAR },
    { MT_DOCKER_LAYER_GZIP, IMAGE_LAYER_GZIP },
    { "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", IMAGE_LAYER_GZIP },
  };

  if (media_type == NULL)
    return IMAGE_LAYER_UNKNOWN;
  for (size_t i = 0; i < ARRAY_SIZE (types); i++)
    if (strcmp (media_type, types[i].mt) == 0)
      return types[i].c;
  return IMAGE_LAYER_UNKNOWN;
}

/* ---- platforms ----------------------------------------------------------------------------- */

void
image_platform_free (struct image_platform *p)
{
  free (p->os);
  free (p->architecture);
  free (p->variant);
  p->os = p->architecture = p->variant = NULL;
}

int
image_platform_parse (const char *s, struct image_platform *out, struct husk_err *err)
{
  cleanup_free char *copy = xstrdup (s);
  char *parts[3] = { NULL, NULL, NULL };
  char *p = copy;
  size_t n = 0;

  memset (out, 0, sizeof *out);
  for (;;)
    {
      char *slash = strchr (p, '/');
      if (n == 3 || *p == '\0' || p == slash)
        return husk_err_set (err, 0, "invalid platform '%.64s': expected os/arch[/variant]", s);
      parts[n++] = p;
      if (slash == NULL)
        break;
      *slash = '\0';
      p = slash + 1;
    }
  if (n < 2)
    return husk_err_set (err, 0, "invalid platform '%.64s': expected os/arch[/variant]", s);
  out->os = xstrdup (parts[0]);
  out->architecture = xstrdup (parts[1]);
  out->variant = parts[2] != NULL ? xstrdup (parts[2]) : NULL;
  return 0;
}

void
image_platform_host (struct image_platform *out)
{
  const char *arch, *variant = NULL;

#if defined(__x86_64__)
  arch = "amd64";
#elif defined(__aarch64__)
  arch = "arm64";
#elif defined(__arm__)
  arch = "arm";
#if defined(__ARM_ARCH) && __ARM_ARCH >= 7
  variant = "v7";
#elif defined(__ARM_ARCH) && __ARM_ARCH == 6
  variant = "v6";
#else
  variant = "v5";
#endif
#elif defined(__i386__)
  arch = "386";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  arch = "ppc64le";
#elif defined(__powerpc64__)
  arch = "ppc64";
#elif defined(__s390x__)
  arch = "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
  arch = "riscv64";
#elif defined(__loongarch64)
  arch = "loong64";
#elif defined(__mips64) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  arch = "mips64le";
#else
  arch = "unknown";
#endif
  out->os = xstrdup ("linux");
  out->architecture = xstrdup (arch);
  out->variant = variant != NULL ? xstrdup (variant) : NULL;
}

/* The variant an architecture has when an index entry names none (image-index.md: arm64 is v8).  */
static const char *
default_variant (const char *arch)
{
  return arch != NULL && strcmp (arch, "arm64") == 0 ? "v8" : NULL;
}

/* True when the entry D may be used for the platform P (NULL, or NULL members: anything).  An entry
 * without a platform matches anything; `unknown/unknown` (attestations) never matches.  */
static bool
platform_match (const struct image_desc *d, const struct image_platform *p)
{
  const char *v;

  if (d->os != NULL && d->architecture != NULL && strcmp (d->os, "unknown") == 0
      && strcmp (d->architecture, "unknown") == 0)
    return false;
  if (p == NULL || (d->os == NULL && d->architecture == NULL && d->variant == NULL))
    return true;
  if (p->os != NULL && (d->os == NULL || strcmp (d->os, p->os) != 0))
    return false;
  if (p->architecture != NULL && (d->architecture == NULL || strcmp (d->architecture, p->architecture) != 0))
    return false;
  if (p->variant == NULL)
    return true;
  v = d->variant != NULL ? d->variant : default_variant (d->architecture);
  return v != NULL && strcmp (v, p->variant) == 0;
}

/* "os/arch[/variant]" of P for messages, in BUF.  */
static const char *
platform_text (const struct image_platform *p, char *buf, size_t size)
{
  if (p == NULL)
    snprintf (buf, size, "any");
  else
    snprintf (buf, size, "%s/%s%s%s", p->os != NULL ? p->os : "*", p->architecture != NULL ? p->architecture : "*",
              p->variant != NULL ? "/" : "", p->variant != NULL ? p->variant : "");
  return buf;
}

/* ---- descriptors --------------------------------------------------------------------------- */

void
image_desc_free (struct image_desc *d)
{
  free (d->media_type);
  free (d->ref_name);
  free (d->os);
  free (d->architecture);
  free (d->variant);
  memset (d, 0, sizeof *d);
}

static void
desc_array_free (struct image_desc *v, size_t n)
{
  for (size_t i = 0; i < n && v != NULL; i++)
    image_desc_free (&v[i]);
  free (v);
}

/* Parse member "digest" of V (the current path is the descriptor) into *OUT.  */
static int
parse_digest_field (struct sj *c, yajl_val v, const char *key, struct digest *out)
{
  cleanup_free char *s = NULL;
  cleanup_free char *what = NULL;
  size_t mark;

  if (sj_field_string (c, v, key, true, &s) < 0)
    return -1;
  mark = sj_push_key (c, key);
  what = xasprintf ("%s: %s", c->file, c->path);
  sj_pop (c, mark);
  return digest_parse (s, what, out, c->err);
}

/* Parse the descriptor V (descriptor.md) into D.  Only mediaType is read when it is none of the
 * types in KNOWN's sense (LAYER: layer types and image configs; else manifests and indexes), so an
 * unknown media type never causes an error (image-layout.md); *IS_KNOWN tells which happened.  */
static int
parse_desc (struct sj *c, yajl_val v, struct image_desc *d, bool layer, bool *is_known)
{
  yajl_val ann = NULL, plat = NULL;
  int64_t size;

  *is_known = false;
  if (sj_object (c, v) < 0 || sj_field_string (c, v, "mediaType", true, &d->media_type) < 0)
    return -1;
  if (layer ? image_layer_compression (d->media_type) == IMAGE_LAYER_UNKNOWN && !is_config_media_type (d->media_type)
            : media_kind (d->media_type) == MEDIA_UNKNOWN)
    {
      /* Unknown: keep a well-formed ref name (for image_ref_names), ignore everything else.  */
      ann = sj_get (v, "annotations");
      yajl_val ref = YAJL_IS_OBJECT (ann) ? sj_get (ann, ANNOTATION_REF_NAME) : NULL;
      if (YAJL_IS_STRING (ref))
        d->ref_name = xstrdup (ref->u.string);
      return 0;
    }
  *is_known = true;
  if (sj_field_object (c, v, "annotations", false, &ann) < 0)
    return -1;
  if (ann != NULL)
    {
      size_t mark = sj_push_key (c, "annotations");
      if (sj_field_string (c, ann, ANNOTATION_REF_NAME, false, &d->ref_name) < 0)
        return -1;
      sj_pop (c, mark);
    }
  if (parse_digest_field (c, v, "digest", &d->digest) < 0)
    return -1;
  if (sj_field_i64 (c, v, "size", true, NULL, &size) < 0)
    return -1;
  if (size < 0)
    {
      size_t mark = sj_push_key (c, "size");
      sj_fail (c, "negative size %" PRId64, size);
      sj_pop (c, mark);
      return -1;
    }
  d->size = size;
  if (sj_field_object (c, v, "platform", false, &plat) < 0)
    return -1;
  if (plat != NULL)
    {
      size_t mark = sj_push_key (c, "platform");
      if (sj_field_string (c, plat, "os", false, &d->os) < 0
          || sj_field_string (c, plat, "architecture", false, &d->architecture) < 0
          || sj_field_string (c, plat, "variant", false, &d->variant) < 0)
        return -1;
      sj_pop (c, mark);
    }
  return 0;
}

/* sj_elem_fn: an entry of an index's "manifests".  */
static int
parse_index_entry (struct sj *c, yajl_val v, void *elem)
{
  bool known;

  return parse_desc (c, v, elem, false, &known);
}

/* sj_elem_fn: an entry of a manifest's "layers": a known layer media type (manifest.md).  */
static int
parse_layer_entry (struct sj *c, yajl_val v, void *elem)
{
  struct image_desc *d = elem;
  bool known;

  if (parse_desc (c, v, d, true, &known) < 0)
    return -1;
  if (image_layer_compression (d->media_type) == IMAGE_LAYER_UNKNOWN)
    {
      size_t mark = sj_push_key (c, "mediaType");
      sj_fail (c, "'%.100s' is not a layer media type", d->media_type);
      sj_pop (c, mark);
      return -1;
    }
  return 0;
}

/* ---- documents ------------------------------------------------------------------------------ */

/* Check schemaVersion (2) and that the document's own mediaType, when present, is of kind WANT, and
 * that it has none of the members only the other kind has (image-spec after CVE-2021-41190:
 * a manifest must never be taken for an index or the other way round).  */
static int
check_document (struct sj *c, yajl_val root, enum media_kind want)
{
  cleanup_free char *mt = NULL;
  const char *want_text = want == MEDIA_INDEX ? "an image index" : "an image manifest";
  int64_t version;

  if (sj_object (c, root) < 0)
    return -1;
  if (sj_field_i64 (c, root, "schemaVersion", true, NULL, &version) < 0)
    return -1;
  if (version != 2)
    {
      size_t mark = sj_push_key (c, "schemaVersion");
      sj_fail (c, "unsupported schemaVersion %" PRId64, version);
      sj_pop (c, mark);
      return -1;
    }
  if (sj_field_string (c, root, "mediaType", false, &mt) < 0)
    return -1;
  if (mt != NULL && media_kind (mt) != want)
    {
      size_t mark = sj_push_key (c, "mediaType");
      sj_fail (c, "'%.100s' where %s was expected", mt, want_text);
      sj_pop (c, mark);
      return -1;
    }
  if (want == MEDIA_INDEX && (sj_get (root, "config") != NULL || sj_get (root, "layers") != NULL))
    return sj_fail (c, "has config or layers: a manifest where %s was expected", want_text);
  if (want == MEDIA_MANIFEST && sj_get (root, "manifests") != NULL)
    return sj_fail (c, "has manifests: an index where %s was expected", want_text);
  return 0;
}

/* Parse the image index TEXT (FILE names it) into *OUT and *N.  `manifests` absent or null: no entries.  */
static int
parse_index (const char *file, const char *text, size_t len, struct image_desc **out, size_t *n,
             struct husk_err *err)
{
  struct sj c;
  yajl_val root;
  int r = -1;

  *out = NULL;
  *n = 0;
  sj_init (&c, file, err);
  root = sj_parse (&c, text, len);
  if (root == NULL)
    return -1;
  if (check_document (&c, root, MEDIA_INDEX) == 0
      && sj_field_array_of (&c, root, "manifests", false, sizeof (struct image_desc), parse_index_entry, out, n) == 0)
    r = 0;
  yajl_tree_free (root);
  if (r < 0)
    {
      desc_array_free (*out, *n);
      *out = NULL;
      *n = 0;
    }
  return r;
}

void
image_manifest_free (struct image_manifest *m)
{
  image_desc_free (&m->config);
  desc_array_free (m->layers, m->n_layers);
  free (m->ref_name);
  memset (m, 0, sizeof *m);
}

/* Parse the manifest TEXT (FILE names it) into *M: config of an image config media type, layers of
 * layer media types (manifest.md).  */
static int
parse_manifest (const char *file, const char *text, size_t len, struct image_manifest *m, struct husk_err *err)
{
  struct sj c;
  yajl_val root, config = NULL;
  bool known;
  size_t mark;
  int r = -1;

  sj_init (&c, file, err);
  root = sj_parse (&c, text, len);
  if (root == NULL)
    return -1;
  if (check_document (&c, root, MEDIA_MANIFEST) < 0 || sj_field_object (&c, root, "config", true, &config) < 0)
    goto out;
  mark = sj_push_key (&c, "config");
  if (parse_desc (&c, config, &m->config, true, &known) < 0)
    goto out;
  if (!is_config_media_type (m->config.media_type))
    {
      sj_push_key (&c, "mediaType");
      sj_fail (&c, "'%.100s' is not an image configuration", m->config.media_type);
      goto out;
    }
  sj_pop (&c, mark);
  if (sj_field_array_of (&c, root, "layers", true, sizeof (struct image_desc), parse_layer_entry, &m->layers,
                         &m->n_layers)
      < 0)
    goto out;
  r = 0;
out:
  yajl_tree_free (root);
  return r;
}

/* ---- files of the layout -------------------------------------------------------------------- */

int
image_open_beneath (int dirfd, const char *name)
{
  struct open_how how = {
    .flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
  };
  struct stat st;
  int fd = -1;

  for (int i = 0; i < 32; i++)
    {
      fd = (int) syscall (SYS_openat2, dirfd, name, &how, sizeof how);
      if (fd >= 0 || errno != EAGAIN)
        break;
    }
  if (fd < 0)
    return -1;
  if (fstat (fd, &st) < 0)
    {
      int e = errno;
      close (fd);
      errno = e;
      return -1;
    }
  if (!S_ISREG (st.st_mode))
    {
      close (fd);
      errno = EINVAL;
      return -1;
    }
  return fd;
}

/* Read the layout file NAME ("index.json") of SRC, at most MAX bytes.  Returns it (free it) with its
 * length in *LEN, or NULL with ERR "SOURCE: NAME: ...".  */
static char *
read_layout_file (struct image_source *src, const char *name, size_t max, size_t *len, struct husk_err *err)
{
  cleanup_close int fd = image_open_beneath (src->dirfd, name);
  char *text;

  if (fd < 0 && errno == EINVAL)
    return husk_err_set (err, 0, "%s: %s: not a regular file", src->name, name), NULL;
  if (fd < 0)
    return husk_err_set (err, errno, "%s: %s: open", src->name, name), NULL;
  text = read_fd_all (fd, name, max, len, err);
  if (text == NULL)
    husk_err_prefix (err, "%s", src->name);
  return text;
}

/* Check SRC's `oci-layout` (imageLayoutVersion 1.x) and that `index.json` is a regular file.  */
static int
check_layout (struct image_source *src, struct husk_err *err)
{
  cleanup_free char *text = NULL;
  cleanup_free char *version = NULL;
  struct sj c;
  yajl_val root;
  size_t len;
  int fd, r = -1;

  text = read_layout_file (src, "oci-layout", OCI_LAYOUT_MAX, &len, err);
  if (text == NULL)
    return -1;
  sj_init (&c, "oci-layout", err);
  root = sj_parse (&c, text, len);
  if (root == NULL)
    return husk_err_prefix (err, "%s", src->name);
  if (sj_object (&c, root) == 0 && sj_field_string (&c, root, "imageLayoutVersion", true, &version) == 0)
    {
      if (!has_prefix (version, "1."))
        {
          sj_push_key (&c, "imageLayoutVersion");
          sj_fail (&c, "unsupported version '%.32s'", version);
        }
      else
        r = 0;
    }
  yajl_tree_free (root);
  if (r < 0)
    return husk_err_prefix (err, "%s", src->name);
  fd = image_open_beneath (src->dirfd, "index.json");
  if (fd < 0 && errno == EINVAL)
    return husk_err_set (err, 0, "%s: index.json: not a regular file", src->name);
  if (fd < 0)
    return husk_err_set (err, errno, "%s: index.json: open", src->name);
  close (fd);
  return 0;
}

/* ---- sources -------------------------------------------------------------------------------- */

int
image_source_open (struct image_source *src, const char *source, const char *tmpdir, uint64_t max_bytes,
                   struct husk_err *err)
{
  cleanup_close int fd = -1;
  struct stat st;
  int r;

  memset (src, 0, sizeof *src);
  src->dirfd = -1;
  src->name = xstrdup (source);
  fd = open (source, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    r = husk_err_set (err, errno, "%s: open", source);
  else if (fstat (fd, &st) < 0)
    r = husk_err_set (err, errno, "%s: fstat", source);
  else if (S_ISDIR (st.st_mode))
    {
      src->dirfd = steal_fd (&fd);
      r = check_layout (src, err);
    }
  else if (S_ISREG (st.st_mode))
    {
      r = image_archive_stage (src, fd, tmpdir, max_bytes, err);
      if (r == 0)
        r = check_layout (src, err);
    }
  else
    r = husk_err_set (err, 0, "%s: not a directory or a regular file", source);
  if (r < 0)
    image_source_close (src);
  return r;
}

void
image_source_close (struct image_source *src)
{
  /* A zeroed source (dirfd 0, never opened) has no name: fd 0 is not ours.  */
  if (src->name == NULL)
    return;
  if (src->dirfd >= 0)
    close (src->dirfd);
  src->dirfd = -1;
  if (src->staged != NULL)
    image_archive_remove (src->staged);
  free (src->staged);
  free (src->name);
  src->staged = NULL;
  src->name = NULL;
  src->docker = false;
}

/* ---- resolving ------------------------------------------------------------------------------ */

/* Read and parse SRC's index.json.  */
static int
load_top_index (struct image_source *src, struct image_desc **out, size_t *n, struct husk_err *err)
{
  cleanup_free char *text = NULL;
  size_t len;

  text = read_layout_file (src, "index.json", BLOB_JSON_MAX, &len, err);
  if (text == NULL)
    return -1;
  if (parse_index ("index.json", text, len, out, n, err) < 0)
    return husk_err_prefix (err, "%s", src->name);
  return 0;
}

/* Resolve the descriptor D (an index or a manifest) for PLATFORM at nesting DEPTH.  Returns 1 with
 * *OUT filled, 0 when an index holds no matching entry, or -1 with ERR.  */
static int
resolve_desc (struct image_source *src, const struct image_desc *d, const struct image_platform *platform,
              int depth, struct image_manifest *out, struct husk_err *err)
{
  char file[16 + DIGEST_HEX_LEN];
  cleanup_free char *text = NULL;
  struct image_desc *entries = NULL;
  size_t n = 0;
  enum media_kind kind = media_kind (d->media_type);
  int r = 0;

  if (kind == MEDIA_UNKNOWN)
    return 0;
  if (kind == MEDIA_INDEX && depth >= IMAGE_INDEX_MAX_DEPTH)
    return husk_err_set (err, 0, "%s: image indexes nested deeper than %d levels (at sha256:%s)", src->name,
                         IMAGE_INDEX_MAX_DEPTH, d->digest.hex);
  snprintf (file, sizeof file, "blob sha256:%s", d->digest.hex);
  text = blob_read_all (src->dirfd, &d->digest, d->size, BLOB_JSON_MAX, err);
  if (text == NULL)
    return -1;
  if (kind == MEDIA_MANIFEST)
    {
      if (parse_manifest (file, text, (size_t) d->size, out, err) < 0)
        {
          image_manifest_free (out);
          return -1;
        }
      out->digest = d->digest;
      return 1;
    }
  if (parse_index (file, text, (size_t) d->size, &entries, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n && r == 0; i++)
    if (media_kind (entries[i].media_type) != MEDIA_UNKNOWN && platform_match (&entries[i], platform))
      r = resolve_desc (src, &entries[i], platform, depth + 1, out, err);
  desc_array_free (entries, n);
  return r;
}

/* Up to 8 ref names of ENTRIES as "'a', 'b', ..." for messages.  */
static char *
ref_list (const struct image_desc *entries, size_t n)
{
  char *s = xstrdup ("");
  size_t shown = 0;

  for (size_t i = 0; i < n; i++)
    {
      if (entries[i].ref_name == NULL || media_kind (entries[i].media_type) == MEDIA_UNKNOWN)
        continue;
      char *t = shown == 8 ? xasprintf ("%s, ...", s)
                           : xasprintf ("%s%s'%.100s'", s, shown > 0 ? ", " : "", entries[i].ref_name);
      free (s);
      s = t;
      if (++shown > 8)
        break;
    }
  return s;
}

/* Pick the entry of index.json REF (or NULL) names: all candidates the same digest, else the first
 * whose platform matches.  Returns its index, or -1 with ERR.  */
static ssize_t
select_top (struct image_source *src, const struct image_desc *e, size_t n, const char *ref,
            const struct image_platform *platform, struct husk_err *err)
{
  ssize_t first = -1, by_platform = -1;
  bool several = false, named_apart = false;
  const char *named = NULL;

  for (size_t i = 0; i < n; i++)
    {
      if (media_kind (e[i].media_type) == MEDIA_UNKNOWN)
        continue;
      if (ref != NULL && (e[i].ref_name == NULL || strcmp (e[i].ref_name, ref) != 0))
        continue;
      if (first < 0)
        first = (ssize_t) i;
      else if (strcmp (e[i].digest.hex, e[first].digest.hex) != 0)
        several = true;
      /* Entries under different names are different images, not platforms of one.  */
      if (e[i].ref_name != NULL && named != NULL && strcmp (named, e[i].ref_name) != 0)
        named_apart = true;
      if (e[i].ref_name != NULL && named == NULL)
        named = e[i].ref_name;
      if (by_platform < 0 && (e[i].os != NULL || e[i].architecture != NULL) && platform_match (&e[i], platform))
        by_platform = (ssize_t) i;
    }
  if (first < 0 && ref != NULL)
    return husk_err_set (err, ENOENT, "%s: no image named '%.200s'", src->name, ref);
  if (first < 0)
    return husk_err_set (err, ENOENT, "%s: no image in index.json", src->name);
  if (!several)
    return first;
  if (by_platform >= 0 && !(ref == NULL && named_apart))
    return by_platform;
  if (ref != NULL)
    return husk_err_set (err, 0, "%s: reference '%.200s' is ambiguous", src->name, ref);
  cleanup_free char *names = ref_list (e, n);
  return husk_err_set (err, 0, "%s: holds several images, name one%s%s", src->name, *names ? ": " : "", names);
}

int
image_resolve (struct image_source *src, const char *ref, const struct image_platform *platform,
               struct image_manifest *out, struct husk_err *err)
{
  struct image_desc *entries = NULL;
  size_t n = 0;
  ssize_t pick;
  int r = -1;
  char ptext[128];

  memset (out, 0, sizeof *out);
  if (load_top_index (src, &entries, &n, err) < 0)
    return -1;
  pick = select_top (src, entries, n, ref, platform, err);
  if (pick >= 0)
    {
      r = resolve_desc (src, &entries[pick], platform, 0, out, err);
      if (r == 0)
        r = husk_err_set (err, ENOENT, "%s: no manifest for platform %s in index sha256:%s", src->name,
                          platform_text (platform, ptext, sizeof ptext), entries[pick].digest.hex);
      else if (r > 0)
        {
          const char *name = ref != NULL ? ref : entries[pick].ref_name;
          out->ref_name = name != NULL ? xstrdup (name) : NULL;
          r = 0;
        }
    }
  desc_array_free (entries, n);
  if (r < 0)
    image_manifest_free (out);
  return r;
}

int
image_ref_names (struct image_source *src, char ***out, size_t *n, struct husk_err *err)
{
  struct image_desc *entries = NULL;
  size_t count = 0;
  char **v;

  *out = NULL;
  *n = 0;
  if (load_top_index (src, &entries, &count, err) < 0)
    return -1;
  v = xcalloc (count + 1, sizeof *v);
  for (size_t i = 0; i < count; i++)
    {
      bool dup = false;
      if (entries[i].ref_name == NULL)
        continue;
      for (size_t j = 0; j < *n && !dup; j++)
        dup = strcmp (v[j], entries[i].ref_name) == 0;
      if (!dup)
        v[(*n)++] = xstrdup (entries[i].ref_name);
    }
  desc_array_free (entries, count);
  *out = v;
  return 0;
}

/* ---- the image configuration ----------------------------------------------------------------- */

void
image_config_free (struct image_config *c)
{
  free (c->os);
  free (c->architecture);
  free (c->variant);
  free (c->author);
  free (c->created);
  free (c->user);
  strv_free (c->env);
  strv_free (c->entrypoint);
  strv_free (c->cmd);
  free (c->working_dir);
  strv_free (c->label_keys);
  strv_free (c->label_values);
  free (c->stop_signal);
  strv_free (c->volumes);
  strv_free (c->exposed_ports);
  free (c->diff_ids);
  memset (c, 0, sizeof *c);
}

/* The member names of object KEY of OBJ (NULL when absent) into *OUT.  */
static int
parse_keys (struct sj *c, yajl_val obj, const char *key, char ***out)
{
  yajl_val v;

  if (sj_field_object (c, obj, key, false, &v) < 0)
    return -1;
  if (v == NULL)
    return 0;
  *out = xcalloc (v->u.object.len + 1, sizeof **out);
  for (size_t i = 0; i < v->u.object.len; i++)
    (*out)[i] = xstrdup (v->u.object.keys[i]);
  return 0;
}

/* config.Labels: an object of strings into parallel key and value vectors.  */
static int
parse_labels (struct sj *c, yajl_val obj, struct image_config *out)
{
  yajl_val v;
  size_t mark, n;

  if (sj_field_object (c, obj, "Labels", false, &v) < 0)
    return -1;
  n = v != NULL ? v->u.object.len : 0;
  out->label_keys = xcalloc (n + 1, sizeof (char *));
  out->label_values = xcalloc (n + 1, sizeof (char *));
  if (v == NULL)
    return 0;
  mark = sj_push_key (c, "Labels");
  for (size_t i = 0; i < n; i++)
    {
      size_t m = sj_push_key (c, v->u.object.keys[i]);
      if (sj_string (c, v->u.object.values[i], &out->label_values[i]) < 0)
        return -1;
      out->label_keys[i] = xstrdup (v->u.object.keys[i]);
      sj_pop (c, m);
    }
  sj_pop (c, mark);
  return 0;
}

/* The "config" member (config.md "Properties"), absent or null allowed.  */
static int
parse_exec_config (struct sj *c, yajl_val root, struct image_config *out)
{
  yajl_val cfg;
  size_t n, mark;

  if (sj_field_object (c, root, "config", false, &cfg) < 0)
    return -1;
  if (cfg == NULL)
    {
      out->label_keys = xcalloc (1, sizeof (char *));
      out->label_values = xcalloc (1, sizeof (char *));
      return 0;
    }
  mark = sj_push_key (c, "config");
  if (sj_field_string (c, cfg, "User", false, &out->user) < 0
      || sj_field_strv (c, cfg, "Env", false, NULL, &out->env, &n) < 0
      || sj_field_strv (c, cfg, "Entrypoint", false, NULL, &out->entrypoint, &n) < 0
      || sj_field_strv (c, cfg, "Cmd", false, NULL, &out->cmd, &n) < 0
      || sj_field_string (c, cfg, "WorkingDir", false, &out->working_dir) < 0
      || sj_field_string (c, cfg, "StopSignal", false, &out->stop_signal) < 0 || parse_labels (c, cfg, out) < 0
      || parse_keys (c, cfg, "Volumes", &out->volumes) < 0
      || parse_keys (c, cfg, "ExposedPorts", &out->exposed_ports) < 0)
    return -1;
  sj_pop (c, mark);
  return 0;
}

/* sj_elem_fn for rootfs.diff_ids.  */
static int
parse_diff_id (struct sj *c, yajl_val v, void *elem)
{
  cleanup_free char *s = NULL;
  cleanup_free char *what = NULL;

  if (sj_string (c, v, &s) < 0)
    return -1;
  what = xasprintf ("%s: %s", c->file, c->path);
  return digest_parse (s, what, elem, c->err);
}

/* "rootfs": type "layers" (config.md: anything else MUST be an error) and diff_ids.  */
static int
parse_rootfs (struct sj *c, yajl_val root, struct image_config *out)
{
  cleanup_free char *type = NULL;
  yajl_val rootfs;
  size_t mark;

  if (sj_field_object (c, root, "rootfs", true, &rootfs) < 0)
    return -1;
  mark = sj_push_key (c, "rootfs");
  if (sj_field_string (c, rootfs, "type", true, &type) < 0)
    return -1;
  if (strcmp (type, "layers") != 0)
    {
      sj_push_key (c, "type");
      return sj_fail (c, "unsupported rootfs type '%.64s'", type);
    }
  if (sj_field_array_of (c, rootfs, "diff_ids", true, sizeof (struct digest), parse_diff_id, &out->diff_ids,
                         &out->n_diff_ids)
      < 0)
    return -1;
  sj_pop (c, mark);
  return 0;
}

int
image_config_load (struct image_source *src, const struct image_manifest *m, struct image_config *out,
                   struct husk_err *err)
{
  char file[16 + DIGEST_HEX_LEN];
  cleanup_free char *text = NULL;
  struct sj c;
  yajl_val root;
  int r = -1;

  memset (out, 0, sizeof *out);
  snprintf (file, sizeof file, "blob sha256:%s", m->config.digest.hex);
  text = blob_read_all (src->dirfd, &m->config.digest, m->config.size, BLOB_JSON_MAX, err);
  if (text == NULL)
    return -1;
  sj_init (&c, file, err);
  root = sj_parse (&c, text, (size_t) m->config.size);
  if (root == NULL)
    return -1;
  if (sj_object (&c, root) == 0 && sj_field_string (&c, root, "os", false, &out->os) == 0
      && sj_field_string (&c, root, "architecture", false, &out->architecture) == 0
      && sj_field_string (&c, root, "variant", false, &out->variant) == 0
      && sj_field_string (&c, root, "author", false, &out->author) == 0
      && sj_field_string (&c, root, "created", false, &out->created) == 0 && parse_exec_config (&c, root, out) == 0
      && parse_rootfs (&c, root, out) == 0)
    {
      if (out->n_diff_ids != m->n_layers)
        sj_fail (&c, "rootfs.diff_ids has %zu entries but the manifest has %zu layers", out->n_diff_ids,
                 m->n_layers);
      else
        r = 0;
    }
  yajl_tree_free (root);
  if (r == 0 && out->env == NULL)
    out->env = xcalloc (1, sizeof (char *));
  if (r < 0)
    image_config_free (out);
  return r;
}
