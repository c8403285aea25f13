/* `husk image unpack` (see unpack.h).  */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "fs.h"
#include "image/blob.h"
#include "image/convert.h"
#include "image/extract.h"
#include "image/layout.h"
#include "image/passwd.h"
#include "image/store.h"
#include "image/stream.h"
#include "image/unpack.h"
#include "json_gen.h"
#include "overlay.h"
#include "util.h"

/* Caps on what one image may make us read (IMAGES.md T27): uncompressed bytes per layer (lowered
 * with HUSK_IMAGE_MAX_LAYER_BYTES) and the bytes of a staged archive.  */
#define LAYER_MAX_BYTES (64ull << 30)
#define ARCHIVE_MAX_BYTES (64ull << 30)

int
unpack_split_source (const char *arg, char **source, char **ref, struct husk_err *err)
{
  struct stat st;

  *source = *ref = NULL;
  if (stat (arg, &st) == 0)
    {
      *source = xstrdup (arg);
      return 0;
    }
  for (const char *c = strchr (arg, ':'); c != NULL; c = strchr (c + 1, ':'))
    {
      cleanup_free char *prefix = strndup (arg, (size_t) (c - arg));
      if (prefix != NULL && prefix[0] != '\0' && stat (prefix, &st) == 0)
        {
          if (c[1] == '\0')
            return husk_err_set (err, 0, "'%s': empty reference after ':'", arg);
          *source = steal_ptr (&prefix);
          *ref = xstrdup (c + 1);
          return 0;
        }
    }
  return husk_err_set (err, ENOENT, "image source '%s'", arg);
}

/* ---- progress --------------------------------------------------------------------------------- */

struct progress
{
  bool on;
  size_t index, total;
  const char *hex;
  struct timespec last;
};

static void
progress_show (struct progress *p, const struct blob_reader *b, bool final)
{
  struct timespec now;
  long ms;

  if (!p->on)
    return;
  clock_gettime (CLOCK_MONOTONIC, &now);
  ms = (now.tv_sec - p->last.tv_sec) * 1000 + (now.tv_nsec - p->last.tv_nsec) / 1000000;
  if (!final && ms < 100)
    return;
  p->last = now;
  fprintf (stderr, "\r\033[Klayer %zu/%zu sha256:%.12s  %5.1f%%  %.1f/%.1f MiB%s", p->index + 1, p->total, p->hex,
           b->size > 0 ? 100.0 * (double) b->done / (double) b->size : 100.0, (double) b->done / 1048576.0,
           (double) b->size / 1048576.0, final ? "\n" : "");
}

/* ---- one layer -------------------------------------------------------------------------------- */

struct layer_job
{
  struct image_source *src;
  const struct image_desc *desc;
  const struct digest *diff_id;
  const int *lower_fds; /* nearest first */
  size_t n_lowers;
  struct layer_stream *stream;
  struct blob_reader *blob;
  struct progress *progress;
  uint64_t max_bytes; /* uncompressed bytes of the layer at most */
};

static ssize_t
job_read (void *arg, const void **buf, struct husk_err *err)
{
  struct layer_job *j = arg;
  ssize_t n = layer_stream_read (j->stream, buf, err);

  progress_show (j->progress, j->blob, false);
  return n;
}

static int
fill_layer (int fs_fd, void *arg, uint64_t *bytes, uint64_t *entries, struct husk_err *err)
{
  struct layer_job *j = arg;
  struct blob_reader *blob = xcalloc (1, sizeof *blob);
  char name[96];
  struct extract_options opts = {
    .lower_fds = j->lower_fds,
    .n_lowers = j->n_lowers,
    .xattr_prefix = "trusted",
    .allow_devices = true,
    .limits = extract_default_limits,
    .name = name,
  };
  struct extract_stats stats = { 0 };
  int ret = -1;

  snprintf (name, sizeof name, "layer sha256:%s", j->desc->digest.hex);
  blob->fd = -1;
  if (blob_open (blob, j->src->dirfd, &j->desc->digest, j->desc->size, err) < 0)
    goto out;
  j->blob = blob;
  j->stream = layer_stream_open (blob, image_layer_compression (j->desc->media_type), j->diff_id, j->max_bytes, err);
  if (j->stream == NULL)
    goto out;
  if (extract_layer (fs_fd, job_read, j, &opts, &stats, err) < 0)
    goto out;
  if (layer_stream_finish (j->stream, bytes, err) < 0)
    goto out;
  progress_show (j->progress, blob, true);
  *entries = stats.entries;
  ret = 0;
out:
  if (ret < 0 && j->progress->on)
    fputc ('\n', stderr);
  layer_stream_free (j->stream);
  j->stream = NULL;
  blob_close (blob);
  free (blob);
  return ret;
}

/* ---- the bundle ------------------------------------------------------------------------------- */

/* Read the image's FILE (/etc/passwd) through the read-only overlay MNT: resolved inside it, a
 * regular file only (never a fifo or a device), at most PASSWD_MAX_BYTES.  NULL when absent.  */
static char *
read_image_file (int mnt, const char *file, struct husk_err *err, bool *failed)
{
  cleanup_close int fd = fs_open_in_root (mnt, file, O_RDONLY | O_NONBLOCK | O_NOCTTY, err);
  struct stat st;

  *failed = false;
  if (fd < 0)
    {
      if (err->errnum == ENOENT)
        return NULL;
      *failed = true;
      return NULL;
    }
  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode))
    {
      husk_err_set (err, 0, "image config: config.User: the image's %s is not a regular file", file);
      *failed = true;
      return NULL;
    }
  char *text = read_fd_all (fd, file, PASSWD_MAX_BYTES, NULL, err);
  if (text == NULL)
    *failed = true;
  return text;
}

static int
resolve_user (struct image_store *s, const struct digest *chains, size_t n, const char *user_spec,
              struct image_user *user, struct husk_err *err)
{
  struct husk_overlay o = { .store = s->path, .n_layers = n };
  cleanup_free char *passwd = NULL, *group = NULL;
  cleanup_close int mnt = -1;
  bool failed;
  int ret;

  o.layers = xcalloc (n + 1, sizeof *o.layers);
  for (size_t i = 0; i < n; i++)
    o.layers[i] = (char *) chains[i].hex;
  mnt = overlay_mount_fd (&o, NULL, NULL, err);
  free (o.layers);
  if (mnt < 0)
    return husk_err_prefix (err, "image config: config.User");
  passwd = read_image_file (mnt, "/etc/passwd", err, &failed);
  if (failed)
    return -1;
  group = read_image_file (mnt, "/etc/group", err, &failed);
  if (failed)
    return -1;
  ret = image_user_resolve (user_spec, passwd, group, user, err);
  return ret;
}

static int
write_new_file (int dirfd, const char *name, const char *text, struct husk_err *err)
{
  cleanup_close int fd = openat (dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);

  if (fd < 0 || write_all (fd, text, strlen (text)) < 0 || fsync (fd) < 0)
    return husk_err_set (err, errno, "write '%s'", name);
  return 0;
}

static char *
rootfs_record (const char *store, const struct digest *manifest, const struct digest *chains, size_t n)
{
  yajl_gen g = yajl_gen_alloc (NULL);
  char buf[80];

  yajl_gen_config (g, yajl_gen_beautify, 1);
  yajl_gen_map_open (g);
  json_gen_key_str (g, "store", store);
  snprintf (buf, sizeof buf, "sha256:%s", manifest->hex);
  json_gen_key_str (g, "image", buf);
  json_gen_str (g, "layers");
  yajl_gen_array_open (g);
  for (size_t i = 0; i < n; i++)
    json_gen_str (g, chains[i].hex);
  yajl_gen_array_close (g);
  yajl_gen_map_close (g);
  return json_gen_finish (g);
}

/* Make BUNDLE (or take it when it is an empty directory).  *MADE says whether we created it.
 * Returns an fd of it, or -1 with ERR.  */
static int
open_bundle (const char *bundle, bool *made, struct husk_err *err)
{
  cleanup_dir DIR *d = NULL;
  struct dirent *de;
  int fd;

  *made = false;
  if (mkdir (bundle, 0700) == 0)
    *made = true;
  else if (errno != EEXIST)
    return husk_err_set (err, errno, "bundle '%s'", bundle);
  fd = open (bundle, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return husk_err_set (err, errno, "bundle '%s'", bundle);
  if (!*made)
    {
      int dfd = dup (fd);
      d = dfd >= 0 ? fdopendir (dfd) : NULL;
      while (d != NULL && (de = readdir (d)) != NULL)
        if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
          {
            (void) close (fd);
            return husk_err_set (err, EEXIST, "bundle '%s': not empty", bundle);
          }
    }
  return fd;
}

static void
undo_bundle (const char *bundle, int bfd, bool made)
{
  struct husk_err ignored;
  static const char *const files[] = { "config.json", "rootfs", OVERLAY_BUNDLE_FILE };

  if (made)
    {
      (void) fs_remove_tree (AT_FDCWD, bundle, &ignored);
      return;
    }
  for (size_t i = 0; i < ARRAY_SIZE (files); i++)
    (void) fs_remove_tree (bfd, files[i], &ignored);
}

/* ---- unpack ----------------------------------------------------------------------------------- */

struct unpack
{
  struct image_store store;
  struct image_source src;
  struct image_platform platform;
  struct image_manifest manifest;
  struct image_config config;
  struct image_user user;
  struct digest *chains;
  int *fds; /* layer fds, base first */
  uint64_t max_layer_bytes;
};

static void
unpack_release (struct unpack *u)
{
  if (u->fds != NULL)
    for (size_t i = 0; i < u->manifest.n_layers; i++)
      if (u->fds[i] >= 0)
        (void) close (u->fds[i]);
  free (u->fds);
  free (u->chains);
  image_user_free (&u->user);
  image_config_free (&u->config);
  image_manifest_free (&u->manifest);
  image_platform_free (&u->platform);
  image_source_close (&u->src);
  store_close (&u->store);
}

static int
ensure_layers (struct unpack *u, bool quiet, struct husk_err *err)
{
  size_t n = u->manifest.n_layers;
  struct progress progress = { .on = !quiet && isatty (2), .total = n };

  u->chains = xcalloc (n, sizeof *u->chains);
  u->fds = xmalloc (n * sizeof *u->fds);
  for (size_t i = 0; i < n; i++)
    u->fds[i] = -1;
  if (digest_chain_ids (u->config.diff_ids, n, u->chains, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    {
      cleanup_free int *lowers = xcalloc (i + 1, sizeof *lowers);
      struct layer_job job = { .src = &u->src, .desc = &u->manifest.layers[i], .diff_id = &u->config.diff_ids[i],
                               .lower_fds = lowers, .n_lowers = i, .progress = &progress,
                               .max_bytes = u->max_layer_bytes };
      bool extracted;

      if (image_layer_compression (job.desc->media_type) == IMAGE_LAYER_UNKNOWN)
        return husk_err_set (err, 0, "blob sha256:%s: media type '%s' is not a layer", job.desc->digest.hex,
                             job.desc->media_type);
      for (size_t k = 0; k < i; k++)
        lowers[k] = u->fds[i - 1 - k];
      progress.index = i;
      progress.hex = u->chains[i].hex;
      if (store_layer_ensure (&u->store, &u->chains[i], &u->config.diff_ids[i], i > 0 ? &u->chains[i - 1] : NULL,
                              fill_layer, &job, &extracted, err) < 0)
        return -1;
      if (!extracted && progress.on)
        fprintf (stderr, "layer %zu/%zu sha256:%.12s  already in the store\n", i + 1, n, u->chains[i].hex);
      u->fds[i] = store_layer_fd (&u->store, &u->chains[i], err);
      if (u->fds[i] < 0)
        return -1;
    }
  return 0;
}

static int
write_bundle (struct unpack *u, const struct unpack_opts *o, const char *bundle_abs, int bfd, struct husk_err *err)
{
  size_t n = u->manifest.n_layers;
  cleanup_free char *record = rootfs_record (u->store.path, &u->manifest.digest, u->chains, n);
  cleanup_free char *config = NULL;
  char platform[128];

  if (!o->rootfs_only)
    {
      bool named = u->config.user != NULL && u->config.user[0] != '\0';
      if (named && resolve_user (&u->store, u->chains, n, u->config.user, &u->user, err) < 0)
        return -1;
      config = convert_config (&u->config, named ? &u->user : NULL, err);
      if (config == NULL || write_new_file (bfd, "config.json", config, err) < 0)
        return -1;
    }
  if (mkdirat (bfd, "rootfs", 0755) < 0)
    return husk_err_set (err, errno, "bundle '%s': mkdir rootfs", o->bundle);
  if (write_new_file (bfd, OVERLAY_BUNDLE_FILE, record, err) < 0)
    return -1;
  snprintf (platform, sizeof platform, "%s/%s%s%s", u->config.os != NULL ? u->config.os : "?",
            u->config.architecture != NULL ? u->config.architecture : "?", u->config.variant != NULL ? "/" : "",
            u->config.variant != NULL ? u->config.variant : "");
  if (store_record_image (&u->store, &u->manifest.digest, u->manifest.ref_name, u->src.name, platform,
                          &u->manifest.config.digest, u->chains, n, err) < 0)
    return -1;
  return store_record_bundle (&u->store, bundle_abs, &u->manifest.digest, err);
}

int
image_unpack (const struct unpack_opts *o, struct husk_err *err)
{
  struct unpack u = { 0 };
  cleanup_free char *source = NULL, *ref = NULL, *bundle_abs = NULL, *tmpdir = NULL;
  cleanup_close int bfd = -1;
  bool made = false;
  int ret = -1;

  u.store.fd = u.store.lock = -1;
  u.src.dirfd = -1;
  u.max_layer_bytes = LAYER_MAX_BYTES;
  {
    const char *cap = getenv ("HUSK_IMAGE_MAX_LAYER_BYTES");
    if (cap != NULL && (parse_u64 (cap, &u.max_layer_bytes) < 0 || u.max_layer_bytes == 0))
      return husk_err_set (err, 0, "HUSK_IMAGE_MAX_LAYER_BYTES: expected a positive number of bytes, got '%s'", cap);
  }
  if (unpack_split_source (o->source_ref, &source, &ref, err) < 0)
    return -1;
  if (o->platform != NULL ? image_platform_parse (o->platform, &u.platform, err) < 0
                          : (image_platform_host (&u.platform), false))
    return -1;
  if (store_open (&u.store, o->store, true, false, err) < 0)
    goto out;
  tmpdir = xasprintf ("%s/tmp", u.store.path);
  if (image_source_open (&u.src, source, tmpdir, ARCHIVE_MAX_BYTES, err) < 0)
    goto out;
  if (image_resolve (&u.src, ref, &u.platform, &u.manifest, err) < 0
      || image_config_load (&u.src, &u.manifest, &u.config, err) < 0)
    goto out;
  if (u.manifest.n_layers == 0)
    {
      husk_err_set (err, 0, "%s: the image has no layers", source);
      goto out;
    }
  bfd = open_bundle (o->bundle, &made, err);
  if (bfd < 0)
    goto out;
  bundle_abs = realpath (o->bundle, NULL);
  if (bundle_abs == NULL)
    {
      husk_err_set (err, errno, "bundle '%s'", o->bundle);
      goto undo;
    }
  if (ensure_layers (&u, o->quiet, err) < 0 || write_bundle (&u, o, bundle_abs, bfd, err) < 0)
    goto undo;
  ret = 0;
  goto out;
undo:
  undo_bundle (o->bundle, bfd, made);
out:
  unpack_release (&u);
  return ret;
}
