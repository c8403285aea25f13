/* Image sources (see layout.h): OCI image layout directories (image-layout.md), OCI and
 * docker-archive tarballs staged into a private directory, reference and platform resolution
 * (image-index.md, manifest.md) and the image configuration (config.md).  IMAGES.md §1, §7.1,
 * T29, T30, T34.  */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
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
#include <yajl/yajl_gen.h>

#include "image/blob.h"
#include "image/layout.h"
#include "json_gen.h"
#include "spec_json.h"
#include "util.h"

/* Media types (media-types.md; docker's from the distribution spec).  */
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar"
#define MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define ANNOTATION_REF_NAME "org.opencontainers.image.ref.name"

/* Largest oci-layout file read.  */
#define OCI_LAYOUT_MAX (64u << 10)
/* Most entries in an archive source, and the deepest name (path components).  */
#define STAGE_MAX_ENTRIES 100000
#define STAGE_MAX_DEPTH 8

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

/* Open NAME beneath DIRFD for reading: no symlinks, no magic links, must be a regular file, and a
 * FIFO never blocks (O_NONBLOCK).  Returns the fd, or -1 with errno set.  */
static int
open_beneath (int dirfd, const char *name)
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
  cleanup_close int fd = open_beneath (src->dirfd, name);
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
  fd = open_beneath (src->dirfd, "index.json");
  if (fd < 0 && errno == EINVAL)
    return husk_err_set (err, 0, "%s: index.json: not a regular file", src->name);
  if (fd < 0)
    return husk_err_set (err, errno, "%s: index.json: open", src->name);
  close (fd);
  return 0;
}

/* ---- staging an archive --------------------------------------------------------------------- */

/* A regular file written while staging.  */
struct staged_file
{
  char *path;           /* cleaned name inside the staging directory */
  struct digest digest; /* sha256 of its content */
  uint64_t size;        /* bytes */
  unsigned char magic[4];
  bool moved;           /* renamed to blobs/sha256/<digest> */
};

struct stage
{
  const char *name;     /* the source, for messages */
  int dirfd;            /* the staging directory */
  uint64_t max_bytes, total;
  size_t entries;
  struct staged_file *files;
  size_t n_files;
  char buf[64 * 1024];
};

static void
stage_free (struct stage *st)
{
  for (size_t i = 0; i < st->n_files; i++)
    free (st->files[i].path);
  free (st->files);
  if (st->dirfd >= 0)
    close (st->dirfd);
}

/* Remove everything inside the directory DIRFD (closed here), DEPTH levels at most.  Best effort.  */
static void
remove_contents (int dirfd, int depth)
{
  DIR *d = fdopendir (dirfd);
  struct dirent *e;

  if (d == NULL)
    {
      close (dirfd);
      return;
    }
  while ((e = readdir (d)) != NULL)
    {
      if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
        continue;
      if (unlinkat (dirfd, e->d_name, 0) == 0 || errno != EISDIR)
        continue;
      if (depth > 0)
        {
          int sub = openat (dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (sub >= 0)
            remove_contents (sub, depth - 1);
        }
      unlinkat (dirfd, e->d_name, AT_REMOVEDIR);
    }
  closedir (d);
}

/* Remove the staging directory PATH and all it holds.  */
static void
remove_staged (const char *path)
{
  int fd = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

  if (fd >= 0)
    remove_contents (fd, STAGE_MAX_DEPTH + 4);
  rmdir (path);
}

/* Clean the archive member name RAW into OUT (OUT_SIZE bytes): "./" and empty components dropped;
 * absolute names, "..", components longer than NAME_MAX, more than STAGE_MAX_DEPTH components are
 * refused.  Returns the number of components (0: the root itself), or -1 with ERR.  */
static int
clean_name (const char *source, const char *raw, char *out, size_t out_size, struct husk_err *err)
{
  size_t len = 0;
  int depth = 0;
  const char *p = raw;

  if (raw == NULL || raw[0] == '\0')
    return husk_err_set (err, 0, "%s: archive entry with an empty or unreadable name", source);
  if (raw[0] == '/')
    return husk_err_set (err, 0, "%s: archive entry '%.200s': absolute name", source, raw);
  while (*p != '\0')
    {
      const char *end = strchrnul (p, '/');
      size_t n = (size_t) (end - p);

      if (n == 2 && p[0] == '.' && p[1] == '.')
        return husk_err_set (err, 0, "%s: archive entry '%.200s': '..' in name", source, raw);
      if (n > NAME_MAX)
        return husk_err_set (err, 0, "%s: archive entry '%.200s': name too long", source, raw);
      if (n > 0 && !(n == 1 && p[0] == '.'))
        {
          if (++depth > STAGE_MAX_DEPTH)
            return husk_err_set (err, 0, "%s: archive entry '%.200s': deeper than %d levels", source, raw,
                                 STAGE_MAX_DEPTH);
          if (len + n + 2 > out_size)
            return husk_err_set (err, 0, "%s: archive entry '%.200s': name too long", source, raw);
          if (len > 0)
            out[len++] = '/';
          memcpy (out + len, p, n);
          len += n;
        }
      p = *end == '/' ? end + 1 : end;
    }
  out[len] = '\0';
  return depth;
}

/* Open (making it 0700 when missing) each directory of the first COMPONENTS components of PATH in
 * the staging directory.  Returns an fd of the last one, or -1 with ERR.  */
static int
stage_mkdirs (struct stage *st, const char *path, int components, struct husk_err *err)
{
  cleanup_close int fd = dup (st->dirfd);
  char comp[NAME_MAX + 1];
  const char *p = path;

  if (fd < 0)
    return husk_err_set (err, errno, "%s: dup", st->name);
  for (int i = 0; i < components; i++)
    {
      const char *end = strchrnul (p, '/');
      int next;

      memcpy (comp, p, (size_t) (end - p));
      comp[end - p] = '\0';
      if (mkdirat (fd, comp, 0700) < 0 && errno != EEXIST)
        return husk_err_set (err, errno, "%s: archive entry '%s': mkdir", st->name, path);
      next = openat (fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (next < 0)
        return husk_err_set (err, errno, "%s: archive entry '%s': open directory '%s'", st->name, path, comp);
      close (fd);
      fd = next;
      p = *end == '/' ? end + 1 : end;
    }
  return steal_fd (&fd);
}

/* Write the data of the current entry of A into a new file PATH (DEPTH components), hashing it.  */
static int
stage_file (struct stage *st, struct archive *a, const char *path, int depth, struct husk_err *err)
{
  cleanup_close int dirfd = stage_mkdirs (st, path, depth - 1, err);
  cleanup_close int fd = -1;
  const char *leaf = strrchr (path, '/');
  struct staged_file f = { 0 };
  struct sha256_ctx hash = { 0 };
  la_ssize_t n;

  if (dirfd < 0)
    return -1;
  leaf = leaf != NULL ? leaf + 1 : path;
  fd = openat (dirfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0 && errno == EEXIST)
    return husk_err_set (err, EEXIST, "%s: archive entry '%s': duplicate name", st->name, path);
  if (fd < 0)
    return husk_err_set (err, errno, "%s: archive entry '%s': create", st->name, path);
  if (sha256_init (&hash, err) < 0)
    return -1;
  while ((n = archive_read_data (a, st->buf, sizeof st->buf)) > 0)
    {
      if ((uint64_t) n > st->max_bytes - st->total)
        {
          sha256_free (&hash);
          return husk_err_set (err, EFBIG, "%s: archive content exceeds %" PRIu64 " bytes", st->name,
                               st->max_bytes);
        }
      st->total += (uint64_t) n;
      if (f.size < sizeof f.magic)
        memcpy (f.magic + f.size, st->buf,
                (size_t) n < sizeof f.magic - f.size ? (size_t) n : sizeof f.magic - f.size);
      f.size += (uint64_t) n;
      sha256_update (&hash, st->buf, (size_t) n);
      if (write_all (fd, st->buf, (size_t) n) < 0)
        {
          sha256_free (&hash);
          return husk_err_set (err, errno, "%s: archive entry '%s': write", st->name, path);
        }
    }
  if (n < 0)
    {
      sha256_free (&hash);
      return husk_err_set (err, 0, "%s: archive entry '%s': %s", st->name, path, archive_error_string (a));
    }
  sha256_final (&hash, &f.digest);
  f.path = xstrdup (path);
  st->files = xrealloc (st->files, (st->n_files + 1) * sizeof *st->files);
  st->files[st->n_files++] = f;
  return 0;
}

/* Stage one archive entry E of A: directories and regular files are written, everything else
 * (symlinks, hard links, devices, fifos) is skipped.  */
static int
stage_entry (struct stage *st, struct archive *a, struct archive_entry *e, struct husk_err *err)
{
  char path[PATH_MAX];
  int depth;
  la_int64_t declared = archive_entry_size_is_set (e) ? archive_entry_size (e) : 0;

  if (++st->entries > STAGE_MAX_ENTRIES)
    return husk_err_set (err, EFBIG, "%s: more than %d archive entries", st->name, STAGE_MAX_ENTRIES);
  /* Skipped entries are read through too: their declared size counts against the cap up front.  */
  if (declared < 0 || (uint64_t) declared > st->max_bytes - st->total)
    return husk_err_set (err, EFBIG, "%s: archive content exceeds %" PRIu64 " bytes", st->name, st->max_bytes);
  depth = clean_name (st->name, archive_entry_pathname (e), path, sizeof path, err);
  if (depth < 0)
    return -1;
  if (depth == 0)
    return 0;
  if (archive_entry_hardlink (e) != NULL)
    {
      st->total += (uint64_t) declared;
      return 0;
    }
  switch (archive_entry_filetype (e))
    {
    case AE_IFDIR:
      {
        int fd = stage_mkdirs (st, path, depth, err);
        if (fd < 0)
          return -1;
        close (fd);
        return 0;
      }
    case AE_IFREG:
      return stage_file (st, a, path, depth, err);
    default:
      st->total += (uint64_t) declared;
      return 0;
    }
}

/* Unpack the tar (plain, gzip or zstd) open as FD into the staging directory.  */
static int
stage_archive (struct stage *st, int fd, struct husk_err *err)
{
  struct archive *a = archive_read_new ();
  struct archive_entry *e;
  int r = -1, rc;

  if (a == NULL)
    return husk_err_set (err, ENOMEM, "%s: archive_read_new", st->name);
  if (archive_read_support_filter_gzip (a) != ARCHIVE_OK || archive_read_support_filter_zstd (a) != ARCHIVE_OK
      || archive_read_support_filter_none (a) != ARCHIVE_OK || archive_read_support_format_tar (a) != ARCHIVE_OK)
    {
      husk_err_set (err, 0, "%s: libarchive lacks built-in gzip, zstd or tar support", st->name);
      goto out;
    }
  if (archive_read_open_fd (a, fd, sizeof st->buf) != ARCHIVE_OK)
    {
      husk_err_set (err, 0, "%s: not a tar archive: %s", st->name, archive_error_string (a));
      goto out;
    }
  while ((rc = archive_read_next_header (a, &e)) == ARCHIVE_OK || rc == ARCHIVE_WARN)
    if (stage_entry (st, a, e, err) < 0)
      goto out;
  if (rc != ARCHIVE_EOF)
    {
      husk_err_set (err, 0, "%s: not a tar archive: %s", st->name, archive_error_string (a));
      goto out;
    }
  r = 0;
out:
  archive_read_free (a);
  return r;
}

static int
staged_cmp (const void *a, const void *b)
{
  return strcmp (((const struct staged_file *) a)->path, ((const struct staged_file *) b)->path);
}

/* The staged file named RAW (cleaned as an archive name), or NULL.  */
static struct staged_file *
stage_find (struct stage *st, const char *raw)
{
  char path[PATH_MAX];
  struct husk_err ignored;
  struct staged_file key;

  if (clean_name (st->name, raw, path, sizeof path, &ignored) <= 0)
    return NULL;
  key.path = path;
  return bsearch (&key, st->files, st->n_files, sizeof *st->files, staged_cmp);
}

/* Write DATA as the new file NAME in DIRFD (an existing file of that name is replaced).  */
static int
write_new_file (int dirfd, const char *name, const char *data, size_t len, struct husk_err *err)
{
  cleanup_close int fd = -1;

  if (unlinkat (dirfd, name, 0) < 0 && errno != ENOENT)
    return husk_err_set (err, errno, "unlink '%s'", name);
  fd = openat (dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return husk_err_set (err, errno, "create '%s'", name);
  if (write_all (fd, data, len) < 0)
    return husk_err_set (err, errno, "write '%s'", name);
  return 0;
}

/* Write the JSON document TEXT as a blob into BLOBS_FD (blobs/sha256).  *OUT gets its digest.  */
static int
write_json_blob (int blobs_fd, const char *text, struct digest *out, struct husk_err *err)
{
  if (sha256_buf (text, strlen (text), out, err) < 0)
    return -1;
  return write_new_file (blobs_fd, out->hex, text, strlen (text), err);
}

static void
gen_str (yajl_gen g, const char *s)
{
  yajl_gen_string (g, (const unsigned char *) s, strlen (s));
}

/* Emit a descriptor object {mediaType, digest, size[, annotations{ref.name}]} into G.  */
static void
gen_desc (yajl_gen g, const char *mt, const struct digest *d, uint64_t size, const char *ref)
{
  char digest[8 + DIGEST_HEX_LEN];

  snprintf (digest, sizeof digest, "sha256:%s", d->hex);
  yajl_gen_map_open (g);
  gen_str (g, "mediaType");
  gen_str (g, mt);
  gen_str (g, "digest");
  gen_str (g, digest);
  gen_str (g, "size");
  yajl_gen_integer (g, (long long) size);
  if (ref != NULL)
    {
      gen_str (g, "annotations");
      yajl_gen_map_open (g);
      gen_str (g, ANNOTATION_REF_NAME);
      gen_str (g, ref);
      yajl_gen_map_close (g);
    }
  yajl_gen_map_close (g);
}

/* Move the staged file the manifest.json entry at C's path names (RAW) to blobs/sha256/<sha256>.
 * Returns it, or NULL with the error set.  */
static struct staged_file *
stage_take (struct stage *st, struct sj *c, int blobs_fd, const char *raw)
{
  struct staged_file *f = stage_find (st, raw);

  if (f == NULL)
    return sj_fail (c, "'%.200s' is not a file in the archive", raw), NULL;
  if (!f->moved)
    {
      if (renameat (st->dirfd, f->path, blobs_fd, f->digest.hex) < 0)
        return husk_err_set (c->err, errno, "rename '%s' to blobs/sha256/%s", f->path, f->digest.hex), NULL;
      f->moved = true;
    }
  return f;
}

/* The media type of a docker-archive layer file: gzip (1f 8b), zstd (28 b5 2f fd) or plain tar.  */
static const char *
docker_layer_media_type (const struct staged_file *f)
{
  if (f->size >= 2 && f->magic[0] == 0x1f && f->magic[1] == 0x8b)
    return MT_DOCKER_LAYER_GZIP;
  if (f->size >= 4 && f->magic[0] == 0x28 && f->magic[1] == 0xb5 && f->magic[2] == 0x2f && f->magic[3] == 0xfd)
    return MT_OCI_LAYER_ZSTD;
  return MT_DOCKER_LAYER;
}

/* Convert one image of manifest.json (V, at C's path) into a manifest blob, and add its index.json
 * entries (one per RepoTag, plus the short name without "docker.io/[library/]") to INDEX.  */
static int
docker_image (struct stage *st, struct sj *c, yajl_val v, int blobs_fd, yajl_gen index)
{
  cleanup_free char *config_name = NULL;
  cleanup_strv char **tags = NULL;
  cleanup_strv char **layers = NULL;
  cleanup_free char *manifest = NULL;
  size_t n_tags = 0, n_layers = 0;
  struct staged_file *f;
  struct digest mdigest;
  yajl_gen g;

  if (sj_object (c, v) < 0 || sj_field_string (c, v, "Config", true, &config_name) < 0
      || sj_field_strv (c, v, "RepoTags", false, NULL, &tags, &n_tags) < 0
      || sj_field_strv (c, v, "Layers", true, NULL, &layers, &n_layers) < 0)
    return -1;
  g = yajl_gen_alloc (NULL);
  yajl_gen_map_open (g);
  gen_str (g, "schemaVersion");
  yajl_gen_integer (g, 2);
  gen_str (g, "mediaType");
  gen_str (g, MT_DOCKER_MANIFEST);
  size_t mark = sj_push_key (c, "Config");
  f = stage_take (st, c, blobs_fd, config_name);
  sj_pop (c, mark);
  if (f == NULL)
    {
      yajl_gen_free (g);
      return -1;
    }
  gen_str (g, "config");
  gen_desc (g, MT_DOCKER_CONFIG, &f->digest, f->size, NULL);
  gen_str (g, "layers");
  yajl_gen_array_open (g);
  mark = sj_push_key (c, "Layers");
  for (size_t i = 0; i < n_layers; i++)
    {
      size_t m = sj_push_index (c, i);
      f = stage_take (st, c, blobs_fd, layers[i]);
      if (f == NULL)
        {
          yajl_gen_free (g);
          return -1;
        }
      sj_pop (c, m);
      gen_desc (g, docker_layer_media_type (f), &f->digest, f->size, NULL);
    }
  sj_pop (c, mark);
  yajl_gen_array_close (g);
  yajl_gen_map_close (g);
  manifest = json_gen_finish (g);
  if (write_json_blob (blobs_fd, manifest, &mdigest, c->err) < 0)
    return -1;
  if (n_tags == 0)
    gen_desc (index, MT_DOCKER_MANIFEST, &mdigest, strlen (manifest), NULL);
  for (size_t i = 0; i < n_tags; i++)
    {
      const char *t = tags[i];
      gen_desc (index, MT_DOCKER_MANIFEST, &mdigest, strlen (manifest), t);
      if (has_prefix (t, "docker.io/library/"))
        gen_desc (index, MT_DOCKER_MANIFEST, &mdigest, strlen (manifest), t + strlen ("docker.io/library/"));
      else if (has_prefix (t, "docker.io/"))
        gen_desc (index, MT_DOCKER_MANIFEST, &mdigest, strlen (manifest), t + strlen ("docker.io/"));
    }
  return 0;
}

/* Turn a staged docker-archive (manifest.json: [{Config, RepoTags, Layers}]) into an OCI layout:
 * config and layer files moved to blobs/sha256/<sha256>, a manifest blob per image, index.json with
 * the RepoTags as ref names, oci-layout.  Errors are prefixed with the source's name.  */
static int
docker_convert (struct stage *st, struct husk_err *err)
{
  cleanup_free char *text = NULL;
  cleanup_free char *index_text = NULL;
  cleanup_close int blobs_fd = -1;
  struct sj c;
  yajl_val root;
  yajl_gen index;
  size_t len;
  int fd, r = -1;
  static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";

  fd = open_beneath (st->dirfd, "manifest.json");
  if (fd < 0)
    return husk_err_set (err, errno, "%s: manifest.json: open", st->name);
  text = read_fd_all (fd, "manifest.json", BLOB_JSON_MAX, &len, err);
  close (fd);
  if (text == NULL)
    return husk_err_prefix (err, "%s", st->name);
  fd = stage_mkdirs (st, "blobs/sha256", 2, err);
  if (fd < 0)
    return -1;
  blobs_fd = fd;
  sj_init (&c, "manifest.json", err);
  root = sj_parse (&c, text, len);
  if (root == NULL)
    return husk_err_prefix (err, "%s", st->name);
  index = yajl_gen_alloc (NULL);
  yajl_gen_map_open (index);
  gen_str (index, "schemaVersion");
  yajl_gen_integer (index, 2);
  gen_str (index, "mediaType");
  gen_str (index, MT_OCI_INDEX);
  gen_str (index, "manifests");
  yajl_gen_array_open (index);
  if (sj_array (&c, root) < 0)
    goto out;
  if (root->u.array.len == 0)
    {
      sj_fail (&c, "no images");
      goto out;
    }
  for (size_t i = 0; i < root->u.array.len; i++)
    {
      size_t mark = sj_push_index (&c, i);
      if (docker_image (st, &c, root->u.array.values[i], blobs_fd, index) < 0)
        goto out;
      sj_pop (&c, mark);
    }
  r = 0;
out:
  yajl_tree_free (root);
  yajl_gen_array_close (index);
  yajl_gen_map_close (index);
  index_text = json_gen_finish (index);
  if (r < 0 || write_new_file (st->dirfd, "index.json", index_text, strlen (index_text), err) < 0
      || write_new_file (st->dirfd, "oci-layout", layout, strlen (layout), err) < 0)
    return husk_err_prefix (err, "%s", st->name);
  return 0;
}

/* Stage the archive open as FD into a new private directory under TMPDIR and make SRC use it.  */
static int
source_stage (struct image_source *src, int fd, const char *tmpdir, uint64_t max_bytes, struct husk_err *err)
{
  struct stage st = { .name = src->name, .dirfd = -1, .max_bytes = max_bytes };
  int r = -1;

  if (tmpdir == NULL)
    tmpdir = getenv ("TMPDIR");
  if (tmpdir == NULL || *tmpdir == '\0')
    tmpdir = "/tmp";
  src->staged = xasprintf ("%s/husk-image-XXXXXX", tmpdir);
  if (mkdtemp (src->staged) == NULL)
    {
      husk_err_set (err, errno, "%s: mkdtemp '%s'", src->name, src->staged);
      free (src->staged);
      src->staged = NULL;
      return -1;
    }
  st.dirfd = open (src->staged, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (st.dirfd < 0)
    {
      husk_err_set (err, errno, "%s: open '%s'", src->name, src->staged);
      goto out;
    }
  if (stage_archive (&st, fd, err) < 0)
    goto out;
  qsort (st.files, st.n_files, sizeof *st.files, staged_cmp);
  if (stage_find (&st, "oci-layout") == NULL)
    {
      if (stage_find (&st, "manifest.json") == NULL)
        {
          husk_err_set (err, 0, "%s: neither an OCI layout (oci-layout) nor a docker-archive (manifest.json)",
                        src->name);
          goto out;
        }
      if (docker_convert (&st, err) < 0)
        goto out;
      src->docker = true;
    }
  src->dirfd = steal_fd (&st.dirfd);
  r = check_layout (src, err);
out:
  stage_free (&st);
  return r;
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
    r = source_stage (src, fd, tmpdir, max_bytes, err);
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
    remove_staged (src->staged);
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
