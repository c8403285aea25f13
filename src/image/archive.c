/* Archive sources (see archive.h): an OCI layout or a docker-archive tarball (plain, gzip or zstd)
 * unpacked into a private staging directory, and a docker-archive's manifest.json converted into an
 * OCI layout there.  Only directories and regular files are written, by cleaned names, each file
 * hashed while it is written so a docker-archive's config and layers can be moved to their blob
 * names.  IMAGES.md §7.1, T29, T30.  */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "image/archive.h"
#include "image/blob.h"
#include "json_gen.h"
#include "spec_json.h"
#include "util.h"

/* Most entries in an archive source, and the deepest name (path components).  */
#define STAGE_MAX_ENTRIES 100000
#define STAGE_MAX_DEPTH 8

/* ---- unpacking the tar ----------------------------------------------------------------------- */

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

void
image_archive_remove (const char *path)
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

/* ---- converting a docker-archive ------------------------------------------------------------- */

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

/* Emit a descriptor object {mediaType, digest, size[, annotations{ref.name}]} into G.  */
static void
gen_desc (yajl_gen g, const char *mt, const struct digest *d, uint64_t size, const char *ref)
{
  char digest[8 + DIGEST_HEX_LEN];

  snprintf (digest, sizeof digest, "sha256:%s", d->hex);
  yajl_gen_map_open (g);
  json_gen_str (g, "mediaType");
  json_gen_str (g, mt);
  json_gen_str (g, "digest");
  json_gen_str (g, digest);
  json_gen_str (g, "size");
  yajl_gen_integer (g, (long long) size);
  if (ref != NULL)
    {
      json_gen_str (g, "annotations");
      yajl_gen_map_open (g);
      json_gen_str (g, ANNOTATION_REF_NAME);
      json_gen_str (g, ref);
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
  json_gen_str (g, "schemaVersion");
  yajl_gen_integer (g, 2);
  json_gen_str (g, "mediaType");
  json_gen_str (g, MT_DOCKER_MANIFEST);
  size_t mark = sj_push_key (c, "Config");
  f = stage_take (st, c, blobs_fd, config_name);
  sj_pop (c, mark);
  if (f == NULL)
    {
      yajl_gen_free (g);
      return -1;
    }
  json_gen_str (g, "config");
  gen_desc (g, MT_DOCKER_CONFIG, &f->digest, f->size, NULL);
  json_gen_str (g, "layers");
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

  fd = image_open_beneath (st->dirfd, "manifest.json");
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
  json_gen_str (index, "schemaVersion");
  yajl_gen_integer (index, 2);
  json_gen_str (index, "mediaType");
  json_gen_str (index, MT_OCI_INDEX);
  json_gen_str (index, "manifests");
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

/* ---- staging a source ------------------------------------------------------------------------ */

int
image_archive_stage (struct image_source *src, int fd, const char *tmpdir, uint64_t max_bytes, struct husk_err *err)
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
  r = 0;
out:
  stage_free (&st);
  return r;
}
