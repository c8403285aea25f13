/* The layer store (see store.h).  */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "fs.h"
#include "image/store.h"
#include "json_gen.h"
#include "overlay.h"
#include "spec_json.h"
#include "util.h"

#define RECORD_MAX (1u << 20)

static const char *const store_dirs[] = { "layers", "tmp", "locks", "images", "bundles", "containers" };

int
store_open (struct image_store *s, const char *path, bool create, bool exclusive, struct husk_err *err)
{
  cleanup_free char *abs = NULL;

  s->fd = s->lock = -1;
  s->path = NULL;
  if (create && mkdir (path, 0700) < 0 && errno != EEXIST)
    return husk_err_set (err, errno, "store '%s'", path);
  abs = realpath (path, NULL);
  if (abs == NULL)
    return husk_err_set (err, errno, "store '%s'", path);
  s->fd = open (abs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (s->fd < 0)
    return husk_err_set (err, errno, "store '%s'", abs);
  for (size_t i = 0; i < ARRAY_SIZE (store_dirs); i++)
    if (mkdirat (s->fd, store_dirs[i], 0700) < 0 && errno != EEXIST)
      {
        husk_err_set (err, errno, "store '%s': mkdir '%s'", abs, store_dirs[i]);
        store_close (s);
        return -1;
      }
  s->lock = openat (s->fd, "locks/store.lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (s->lock < 0 || flock (s->lock, exclusive ? LOCK_EX : LOCK_SH) < 0)
    {
      husk_err_set (err, errno, "store '%s': lock", abs);
      store_close (s);
      return -1;
    }
  s->path = steal_ptr (&abs);
  return 0;
}

void
store_close (struct image_store *s)
{
  if (s->lock >= 0)
    (void) close (s->lock);
  if (s->fd >= 0)
    (void) close (s->fd);
  free (s->path);
  s->fd = s->lock = -1;
  s->path = NULL;
}

/* Write TEXT as the file NAME in DIRFD atomically (temp file, fsync, rename).  */
static int
write_atomic (int dirfd, const char *name, const char *text, struct husk_err *err)
{
  cleanup_free char *tmp = xasprintf ("%s.tmp-%d", name, (int) getpid ());
  cleanup_close int fd = openat (dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);

  if (fd < 0 || write_all (fd, text, strlen (text)) < 0 || fsync (fd) < 0 || renameat (dirfd, tmp, dirfd, name) < 0)
    {
      int e = errno;
      (void) unlinkat (dirfd, tmp, 0);
      return husk_err_set (err, e, "write '%s'", name);
    }
  return 0;
}

static void
gen_digest (yajl_gen g, const struct digest *d)
{
  char buf[80];

  snprintf (buf, sizeof buf, "sha256:%s", d->hex);
  json_gen_str (g, buf);
}

/* ---- layers ---------------------------------------------------------------------------------- */

static int
lock_key (struct image_store *s, const char *hex, struct husk_err *err)
{
  cleanup_free char *name = xasprintf ("locks/%s.lock", hex);
  int fd = openat (s->fd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

  if (fd < 0)
    return husk_err_set (err, errno, "store: lock layer %s", hex);
  if (flock (fd, LOCK_EX) < 0)
    {
      (void) close (fd);
      return husk_err_set (err, errno, "store: lock layer %s", hex);
    }
  return fd;
}

static bool
layer_committed (struct image_store *s, const char *hex)
{
  cleanup_free char *name = xasprintf ("layers/%s/layer.json", hex);
  struct stat st;

  return fstatat (s->fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG (st.st_mode);
}

static char *
layer_json (const struct digest *chain, const struct digest *diff_id, const struct digest *parent, uint64_t bytes,
            uint64_t entries)
{
  yajl_gen g = yajl_gen_alloc (NULL);

  yajl_gen_config (g, yajl_gen_beautify, 1);
  yajl_gen_map_open (g);
  json_gen_str (g, "chain_id");
  gen_digest (g, chain);
  json_gen_str (g, "diff_id");
  gen_digest (g, diff_id);
  json_gen_str (g, "parent");
  if (parent != NULL)
    gen_digest (g, parent);
  else
    yajl_gen_null (g);
  json_gen_str (g, "size");
  yajl_gen_integer (g, (long long) bytes);
  json_gen_str (g, "entries");
  yajl_gen_integer (g, (long long) entries);
  yajl_gen_map_close (g);
  return json_gen_finish (g);
}

int
store_layer_ensure (struct image_store *s, const struct digest *chain, const struct digest *diff_id,
                    const struct digest *parent, store_fill_fn fill, void *arg, bool *extracted,
                    struct husk_err *err)
{
  cleanup_close int lock = -1, tmpfd = -1, lfd = -1, fsfd = -1;
  cleanup_free char *tmpname = NULL, *json = NULL, *final = NULL;
  uint64_t bytes = 0, entries = 0;
  struct husk_err ignored;

  *extracted = false;
  lock = lock_key (s, chain->hex, err);
  if (lock < 0)
    return -1;
  if (layer_committed (s, chain->hex))
    return 0;
  tmpfd = openat (s->fd, "tmp", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (tmpfd < 0)
    return husk_err_set (err, errno, "store '%s': open tmp", s->path);
  /* The temp name is fixed per layer: a leftover of a crashed unpack (we hold the layer's lock, so
   * no one is writing it) is removed first.  */
  tmpname = xstrdup (chain->hex);
  if (fs_remove_tree (tmpfd, tmpname, err) < 0)
    return husk_err_prefix (err, "store: remove a stale temp layer");
  if (mkdirat (tmpfd, tmpname, 0700) < 0)
    return husk_err_set (err, errno, "store: mkdir tmp/%s", tmpname);
  lfd = openat (tmpfd, tmpname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (lfd < 0 || mkdirat (lfd, "fs", 0755) < 0
      || (fsfd = openat (lfd, "fs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
    {
      husk_err_set (err, errno, "store: make tmp/%s/fs", tmpname);
      goto fail;
    }
  *extracted = true;
  if (fill (fsfd, arg, &bytes, &entries, err) < 0)
    goto fail;
  json = layer_json (chain, diff_id, parent, bytes, entries);
  if (write_atomic (lfd, "layer.json", json, err) < 0)
    goto fail;
  /* Durable before it becomes visible under layers/.  */
  if (syncfs (lfd) < 0)
    {
      husk_err_set (err, errno, "store: sync the layer %s", chain->hex);
      goto fail;
    }
  final = xasprintf ("layers/%s", chain->hex);
  if (renameat (tmpfd, tmpname, s->fd, final) < 0)
    {
      husk_err_set (err, errno, "store: commit the layer %s", chain->hex);
      goto fail;
    }
  return 0;
fail:
  (void) fs_remove_tree (tmpfd, tmpname, &ignored);
  return -1;
}

int
store_layer_fd (struct image_store *s, const struct digest *chain, struct husk_err *err)
{
  cleanup_free char *name = xasprintf ("layers/%s/fs", chain->hex);
  int fd = openat (s->fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

  if (fd < 0)
    return husk_err_set (err, errno, "store: layer %s", chain->hex);
  return fd;
}

/* ---- records ---------------------------------------------------------------------------------- */

int
store_record_image (struct image_store *s, const struct digest *manifest, const char *ref, const char *source,
                    const char *platform, const struct digest *config, const struct digest *chains, size_t n,
                    struct husk_err *err)
{
  cleanup_free char *json = NULL, *name = xasprintf ("images/%s.json", manifest->hex);
  cleanup_free char *old = NULL;
  yajl_gen g = yajl_gen_alloc (NULL);
  size_t len;
  struct husk_err ignored;

  yajl_gen_config (g, yajl_gen_beautify, 1);
  yajl_gen_map_open (g);
  json_gen_str (g, "digest");
  gen_digest (g, manifest);
  json_gen_str (g, "ref");
  if (ref != NULL)
    json_gen_str (g, ref);
  else
    {
      /* Keep the ref an earlier unpack of the same image recorded.  */
      old = read_file_at (s->fd, name, RECORD_MAX, &len, &ignored);
      yajl_val root = old != NULL ? yajl_tree_parse (old, NULL, 0) : NULL;
      yajl_val r = root != NULL ? sj_get (root, "ref") : NULL;
      if (r != NULL && YAJL_IS_STRING (r))
        json_gen_str (g, YAJL_GET_STRING (r));
      else
        yajl_gen_null (g);
      yajl_tree_free (root);
    }
  json_gen_str (g, "source");
  json_gen_str (g, source);
  json_gen_str (g, "platform");
  json_gen_str (g, platform);
  json_gen_str (g, "config");
  gen_digest (g, config);
  json_gen_str (g, "layers");
  yajl_gen_array_open (g);
  for (size_t i = 0; i < n; i++)
    json_gen_str (g, chains[i].hex);
  yajl_gen_array_close (g);
  yajl_gen_map_close (g);
  json = json_gen_finish (g);
  return write_atomic (s->fd, name, json, err);
}

int
store_record_bundle (struct image_store *s, const char *bundle, const struct digest *manifest, struct husk_err *err)
{
  struct digest key;
  cleanup_free char *json = NULL, *name = NULL;
  yajl_gen g;

  if (sha256_buf (bundle, strlen (bundle), &key, err) < 0)
    return -1;
  name = xasprintf ("bundles/%s.json", key.hex);
  g = yajl_gen_alloc (NULL);
  yajl_gen_config (g, yajl_gen_beautify, 1);
  yajl_gen_map_open (g);
  json_gen_str (g, "bundle");
  json_gen_str (g, bundle);
  json_gen_str (g, "image");
  gen_digest (g, manifest);
  yajl_gen_map_close (g);
  json = json_gen_finish (g);
  return write_atomic (s->fd, name, json, err);
}

/* ---- reading records -------------------------------------------------------------------------- */

/* A growable list of ChainID hex strings.  */
struct hexset
{
  char **v;
  size_t n, cap;
};

static bool
hexset_has (const struct hexset *h, const char *hex)
{
  for (size_t i = 0; i < h->n; i++)
    if (strcmp (h->v[i], hex) == 0)
      return true;
  return false;
}

static void
hexset_add (struct hexset *h, const char *hex)
{
  if (hexset_has (h, hex))
    return;
  if (h->n == h->cap)
    h->v = xrealloc (h->v, (h->cap = h->cap ? 2 * h->cap : 32) * sizeof *h->v);
  h->v[h->n++] = xstrdup (hex);
}

static void
hexset_free (struct hexset *h)
{
  for (size_t i = 0; i < h->n; i++)
    free (h->v[i]);
  free (h->v);
  memset (h, 0, sizeof *h);
}

static bool
is_hex64 (const char *s)
{
  size_t n = 0;

  for (; s[n] != '\0'; n++)
    if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
      return false;
  return n == DIGEST_HEX_LEN;
}

/* Parse the record DIR/NAME (a JSON object); NULL (and a warning) when unreadable.  */
static yajl_val
load_record (struct image_store *s, const char *dir, const char *name)
{
  cleanup_free char *path = xasprintf ("%s/%s", dir, name);
  cleanup_free char *text = NULL;
  struct husk_err err = { 0 };
  struct sj c;
  size_t len;
  yajl_val v;

  text = read_file_at (s->fd, path, RECORD_MAX, &len, &err);
  if (text == NULL)
    {
      husk_warn ("store: %s, ignoring", err.msg);
      return NULL;
    }
  sj_init (&c, path, &err);
  v = sj_parse (&c, text, len);
  if (v == NULL || !YAJL_IS_OBJECT (v))
    {
      husk_warn ("store: %s: not a JSON object, ignoring", path);
      yajl_tree_free (v);
      return NULL;
    }
  return v;
}

/* Add the hex strings of the array KEY of the record V to H.  */
static void
add_layers_of (yajl_val v, struct hexset *h)
{
  yajl_val a = sj_get (v, "layers");

  if (a == NULL || !YAJL_IS_ARRAY (a))
    return;
  for (size_t i = 0; i < a->u.array.len; i++)
    {
      yajl_val e = a->u.array.values[i];
      if (YAJL_IS_STRING (e) && is_hex64 (YAJL_GET_STRING (e)))
        hexset_add (h, YAJL_GET_STRING (e));
    }
}

/* Names of the entries of DIR ending in SUFFIX (or all but dot files when SUFFIX is NULL).  */
static char **
list_dir (struct image_store *s, const char *dir, const char *suffix)
{
  cleanup_dir DIR *d = NULL;
  int fd = openat (s->fd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct dirent *de;
  char **v = xcalloc (1, sizeof *v);
  size_t n = 0;

  if (fd < 0 || (d = fdopendir (fd)) == NULL)
    {
      if (fd >= 0)
        (void) close (fd);
      return v;
    }
  while ((de = readdir (d)) != NULL)
    {
      size_t len = strlen (de->d_name), sl = suffix != NULL ? strlen (suffix) : 0;
      if (de->d_name[0] == '.')
        continue;
      if (suffix != NULL && (len <= sl || strcmp (de->d_name + len - sl, suffix) != 0))
        continue;
      v = xrealloc (v, (n + 2) * sizeof *v);
      v[n++] = xstrdup (de->d_name);
      v[n] = NULL;
    }
  return v;
}

/* The layers used by existing bundles (records of vanished bundles are removed when PRUNE) and by
 * containers.  */
static void
layers_in_use (struct image_store *s, bool prune, struct hexset *used)
{
  cleanup_strv char **bundles = list_dir (s, "bundles", ".json");
  cleanup_strv char **containers = list_dir (s, "containers", NULL);

  for (size_t i = 0; bundles[i] != NULL; i++)
    {
      yajl_val v = load_record (s, "bundles", bundles[i]);
      yajl_val b = v != NULL ? sj_get (v, "bundle") : NULL;
      struct husk_overlay o = { 0 };
      struct husk_err err = { 0 };
      cleanup_free char *store = NULL;
      int r = (b != NULL && YAJL_IS_STRING (b)) ? overlay_load (YAJL_GET_STRING (b), &o, &err) : 0;

      if (r > 0)
        store = realpath (o.store, NULL);
      if (r > 0 && store != NULL && strcmp (store, s->path) == 0)
        for (size_t j = 0; j < o.n_layers; j++)
          hexset_add (used, o.layers[j]);
      else if (prune)
        {
          cleanup_free char *name = xasprintf ("bundles/%s", bundles[i]);
          printf ("removed bundle record %s\n",
                  b != NULL && YAJL_IS_STRING (b) ? YAJL_GET_STRING (b) : bundles[i]);
          (void) unlinkat (s->fd, name, 0);
        }
      overlay_release (&o);
      yajl_tree_free (v);
    }
  for (size_t i = 0; containers[i] != NULL; i++)
    {
      cleanup_free char *name = xasprintf ("containers/%s/layers", containers[i]);
      cleanup_free char *text = NULL;
      struct husk_err err;
      char *save = NULL;

      text = read_file_at (s->fd, name, RECORD_MAX, NULL, &err);
      if (text == NULL)
        continue;
      for (char *line = strtok_r (text, "\n", &save); line != NULL; line = strtok_r (NULL, "\n", &save))
        if (is_hex64 (line))
          hexset_add (used, line);
    }
}

/* Remove layers/<HEX> (under its lock).  */
static int
remove_layer (struct image_store *s, const char *hex, struct husk_err *err)
{
  cleanup_close int lock = lock_key (s, hex, err);
  cleanup_close int lfd = -1;

  if (lock < 0)
    return -1;
  lfd = openat (s->fd, "layers", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (lfd < 0)
    return husk_err_set (err, errno, "store: open layers");
  if (fs_remove_tree (lfd, hex, err) < 0)
    return husk_err_prefix (err, "store: remove the layer %s", hex);
  printf ("removed layer sha256:%s\n", hex);
  return 0;
}

/* ---- list ------------------------------------------------------------------------------------- */

static uint64_t
layer_size (struct image_store *s, const char *hex)
{
  cleanup_free char *name = xasprintf ("layers/%s/layer.json", hex);
  cleanup_free char *text = NULL;
  struct husk_err err;
  yajl_val v, sz;
  uint64_t n = 0;

  text = read_file_at (s->fd, name, RECORD_MAX, NULL, &err);
  v = text != NULL ? yajl_tree_parse (text, NULL, 0) : NULL;
  sz = v != NULL ? sj_get (v, "size") : NULL;
  if (sz != NULL && YAJL_IS_INTEGER (sz) && YAJL_GET_INTEGER (sz) > 0)
    n = (uint64_t) YAJL_GET_INTEGER (sz);
  yajl_tree_free (v);
  return n;
}

static const char *
str_or (yajl_val v, const char *key, const char *dflt)
{
  yajl_val x = v != NULL ? sj_get (v, key) : NULL;

  return x != NULL && YAJL_IS_STRING (x) ? YAJL_GET_STRING (x) : dflt;
}

static void
human (uint64_t n, char *buf, size_t size)
{
  if (n >= (1ull << 30))
    snprintf (buf, size, "%.1f GiB", (double) n / (1ull << 30));
  else if (n >= (1ull << 20))
    snprintf (buf, size, "%.1f MiB", (double) n / (1ull << 20));
  else
    snprintf (buf, size, "%.1f KiB", (double) n / 1024);
}

static int
list_images (struct image_store *s, bool json)
{
  cleanup_strv char **names = list_dir (s, "images", ".json");
  yajl_gen g = yajl_gen_alloc (NULL);

  yajl_gen_config (g, yajl_gen_beautify, 1);
  yajl_gen_array_open (g);
  if (!json)
    printf ("%-24s %-19s %-14s %6s %10s\n", "REF", "DIGEST", "PLATFORM", "LAYERS", "SIZE");
  for (size_t i = 0; names[i] != NULL; i++)
    {
      yajl_val v = load_record (s, "images", names[i]);
      yajl_val a = v != NULL ? sj_get (v, "layers") : NULL;
      size_t n = a != NULL && YAJL_IS_ARRAY (a) ? a->u.array.len : 0;
      uint64_t size = 0;
      char sz[32];

      if (v == NULL)
        continue;
      for (size_t j = 0; j < n; j++)
        if (YAJL_IS_STRING (a->u.array.values[j]))
          size += layer_size (s, YAJL_GET_STRING (a->u.array.values[j]));
      if (json)
        {
          yajl_gen_map_open (g);
          json_gen_str (g, "digest");
          json_gen_str (g, str_or (v, "digest", ""));
          json_gen_str (g, "ref");
          if (str_or (v, "ref", NULL) != NULL)
            json_gen_str (g, str_or (v, "ref", NULL));
          else
            yajl_gen_null (g);
          json_gen_str (g, "platform");
          json_gen_str (g, str_or (v, "platform", ""));
          json_gen_str (g, "layers");
          yajl_gen_array_open (g);
          for (size_t j = 0; j < n; j++)
            if (YAJL_IS_STRING (a->u.array.values[j]))
              json_gen_str (g, YAJL_GET_STRING (a->u.array.values[j]));
          yajl_gen_array_close (g);
          json_gen_str (g, "size");
          yajl_gen_integer (g, (long long) size);
          yajl_gen_map_close (g);
        }
      else
        {
          const char *d = str_or (v, "digest", "");
          human (size, sz, sizeof sz);
          printf ("%-24s %-19.19s %-14s %6zu %10s\n", str_or (v, "ref", "<none>"), d, str_or (v, "platform", ""), n, sz);
        }
      yajl_tree_free (v);
    }
  yajl_gen_array_close (g);
  if (json)
    {
      cleanup_free char *out = json_gen_finish (g);
      printf ("%s\n", out);
    }
  else
    yajl_gen_free (g);
  return 0;
}

static int
list_layers (struct image_store *s, bool json)
{
  cleanup_strv char **names = list_dir (s, "layers", NULL);
  struct hexset used = { 0 };
  yajl_gen g = yajl_gen_alloc (NULL);

  layers_in_use (s, false, &used);
  yajl_gen_config (g, yajl_gen_beautify, 1);
  yajl_gen_array_open (g);
  if (!json)
    printf ("%-71s %10s %s\n", "CHAIN ID", "SIZE", "IN USE");
  for (size_t i = 0; names[i] != NULL; i++)
    {
      cleanup_free char *rec = xasprintf ("%s/layer.json", names[i]);
      yajl_val v;
      uint64_t size;
      char sz[32];

      if (!is_hex64 (names[i]))
        continue;
      v = load_record (s, "layers", rec);
      size = layer_size (s, names[i]);
      if (json)
        {
          yajl_gen_map_open (g);
          json_gen_str (g, "chain_id");
          json_gen_str (g, str_or (v, "chain_id", ""));
          json_gen_str (g, "diff_id");
          json_gen_str (g, str_or (v, "diff_id", ""));
          json_gen_str (g, "size");
          yajl_gen_integer (g, (long long) size);
          json_gen_str (g, "in_use");
          yajl_gen_bool (g, hexset_has (&used, names[i]));
          yajl_gen_map_close (g);
        }
      else
        {
          human (size, sz, sizeof sz);
          printf ("sha256:%-64s %10s %s\n", names[i], sz, hexset_has (&used, names[i]) ? "yes" : "no");
        }
      yajl_tree_free (v);
    }
  yajl_gen_array_close (g);
  if (json)
    {
      cleanup_free char *out = json_gen_finish (g);
      printf ("%s\n", out);
    }
  else
    yajl_gen_free (g);
  hexset_free (&used);
  return 0;
}

int
store_list (struct image_store *s, bool layers, bool json, struct husk_err *err)
{
  return layers ? list_layers (s, json) : list_images (s, json);
}

/* ---- rm and gc -------------------------------------------------------------------------------- */

/* The record file name (in images/) of the image NAME.  */
static char *
find_image (struct image_store *s, const char *name, struct husk_err *err)
{
  cleanup_strv char **names = list_dir (s, "images", ".json");
  const char *hex = has_prefix (name, "sha256:") ? name + 7 : name;
  char *found = NULL;
  size_t hexlen = strlen (hex);
  bool by_hex = hexlen >= 12 && hexlen <= 64 && strspn (hex, "0123456789abcdef") == hexlen;

  for (size_t i = 0; names[i] != NULL; i++)
    {
      bool match = false;
      if (by_hex && strncmp (names[i], hex, hexlen) == 0)
        match = true;
      else
        {
          yajl_val v = load_record (s, "images", names[i]);
          const char *ref = str_or (v, "ref", NULL);
          match = ref != NULL && strcmp (ref, name) == 0;
          yajl_tree_free (v);
        }
      if (match && found != NULL)
        {
          free (found);
          husk_err_set (err, 0, "image '%s' is ambiguous", name);
          return NULL;
        }
      if (match)
        found = xstrdup (names[i]);
    }
  if (found == NULL)
    husk_err_set (err, ENOENT, "image '%s' not found in the store '%s'", name, s->path);
  return found;
}

int
store_remove_image (struct image_store *s, const char *name, struct husk_err *err)
{
  cleanup_free char *rec = find_image (s, name, err);
  cleanup_strv char **others = NULL;
  struct hexset mine = { 0 }, used = { 0 };
  yajl_val v;
  int ret = 0;

  if (rec == NULL)
    return -1;
  v = load_record (s, "images", rec);
  if (v != NULL)
    add_layers_of (v, &mine);
  yajl_tree_free (v);
  layers_in_use (s, false, &used);
  others = list_dir (s, "images", ".json");
  for (size_t i = 0; others[i] != NULL; i++)
    if (strcmp (others[i], rec) != 0)
      {
        yajl_val o = load_record (s, "images", others[i]);
        if (o != NULL)
          add_layers_of (o, &used);
        yajl_tree_free (o);
      }
  {
    cleanup_free char *path = xasprintf ("images/%s", rec);
    if (unlinkat (s->fd, path, 0) < 0)
      ret = husk_err_set (err, errno, "store: remove the record of '%s'", name);
    else
      printf ("removed image sha256:%.*s\n", (int) (strlen (rec) - 5), rec);
  }
  for (size_t i = 0; ret == 0 && i < mine.n; i++)
    if (!hexset_has (&used, mine.v[i]))
      ret = remove_layer (s, mine.v[i], err);
  hexset_free (&mine);
  hexset_free (&used);
  return ret;
}

int
store_gc (struct image_store *s, struct husk_err *err)
{
  cleanup_strv char **layers = list_dir (s, "layers", NULL);
  cleanup_strv char **images = NULL, **tmps = list_dir (s, "tmp", NULL);
  struct hexset used = { 0 };
  cleanup_close int tmpfd = openat (s->fd, "tmp", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  int ret = 0;

  layers_in_use (s, true, &used);
  for (size_t i = 0; ret == 0 && layers[i] != NULL; i++)
    if (!hexset_has (&used, layers[i]))
      ret = remove_layer (s, layers[i], err);
  /* Images whose layers are gone.  */
  images = list_dir (s, "images", ".json");
  for (size_t i = 0; ret == 0 && images[i] != NULL; i++)
    {
      yajl_val v = load_record (s, "images", images[i]);
      struct hexset mine = { 0 };
      bool complete = v != NULL;
      if (v != NULL)
        add_layers_of (v, &mine);
      for (size_t j = 0; j < mine.n; j++)
        if (!layer_committed (s, mine.v[j]))
          complete = false;
      if (!complete)
        {
          cleanup_free char *path = xasprintf ("images/%s", images[i]);
          (void) unlinkat (s->fd, path, 0);
          printf ("removed image record sha256:%.*s\n", (int) (strlen (images[i]) - 5), images[i]);
        }
      hexset_free (&mine);
      yajl_tree_free (v);
    }
  /* Temp layers of crashed unpacks: the store lock is exclusive, so no unpack runs.  */
  for (size_t i = 0; ret == 0 && tmpfd >= 0 && tmps[i] != NULL; i++)
    {
      if (fs_remove_tree (tmpfd, tmps[i], err) < 0)
        ret = husk_err_prefix (err, "store: remove tmp/%s", tmps[i]);
      else
        printf ("removed temp tmp/%s\n", tmps[i]);
    }
  hexset_free (&used);
  return ret;
}
