/* The overlayfs rootfs of an image bundle (see overlay.h).  */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fs.h"
#include "overlay.h"
#include "spec_json.h"
#include "util.h"

/* overlayfs refuses more lower layers than this (OVL_MAX_STACK).  */
#define OVERLAY_MAX_LAYERS 500

static bool
is_chain_hex (const char *s)
{
  size_t n = 0;

  for (; s[n] != '\0'; n++)
    if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
      return false;
  return n == 64;
}

void
overlay_release (struct husk_overlay *o)
{
  free (o->store);
  free (o->image);
  strv_free (o->layers);
  memset (o, 0, sizeof *o);
}

static int
parse_record (struct sj *c, yajl_val root, struct husk_overlay *o)
{
  yajl_val v;
  size_t mark;

  if (sj_object (c, root) < 0)
    return -1;
  if (sj_field_string (c, root, "store", true, &o->store) < 0)
    return -1;
  if (o->store[0] != '/')
    {
      mark = sj_push_key (c, "store");
      return sj_fail (c, "expected an absolute path");
    }
  if (sj_field_string (c, root, "image", false, &o->image) < 0)
    return -1;
  if (sj_field_array (c, root, "layers", true, &v) < 0)
    return -1;
  mark = sj_push_key (c, "layers");
  if (sj_strv (c, v, &o->layers, &o->n_layers) < 0)
    return -1;
  if (o->n_layers == 0 || o->n_layers > OVERLAY_MAX_LAYERS)
    return sj_fail (c, "expected 1 to %d layers", OVERLAY_MAX_LAYERS);
  for (size_t i = 0; i < o->n_layers; i++)
    if (!is_chain_hex (o->layers[i]))
      {
        sj_push_index (c, i);
        return sj_fail (c, "expected a 64-character hex ChainID");
      }
  sj_pop (c, mark);
  return 0;
}

int
overlay_load (const char *bundle, struct husk_overlay *out, struct husk_err *err)
{
  cleanup_close int bfd = open (bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
  cleanup_free char *text = NULL;
  size_t len;
  struct sj c;
  yajl_val root;
  int r;

  memset (out, 0, sizeof *out);
  if (bfd < 0)
    return husk_err_set (err, errno, "bundle '%s'", bundle);
  text = read_file_at (bfd, OVERLAY_BUNDLE_FILE, 1 << 20, &len, err);
  if (text == NULL)
    {
      if (err->errnum == ENOENT)
        return 0;
      return husk_err_prefix (err, "%s/%s", bundle, OVERLAY_BUNDLE_FILE);
    }
  sj_init (&c, OVERLAY_BUNDLE_FILE, err);
  root = sj_parse (&c, text, len);
  if (root == NULL)
    return -1;
  r = parse_record (&c, root, out);
  yajl_tree_free (root);
  if (r < 0)
    {
      overlay_release (out);
      return -1;
    }
  return 1;
}

/* Open STORE/layers/HEX/fs as an O_PATH directory, no symlink anywhere below STORE.  */
static int
open_layer (int storefd, const char *hex, struct husk_err *err)
{
  cleanup_free char *rel = xasprintf ("layers/%s/fs", hex);
  struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                          .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
  int fd = (int) syscall (SYS_openat2, storefd, rel, &how, sizeof how);

  if (fd < 0)
    return husk_err_set (err, errno, "%s: layer %s is not in the store", OVERLAY_BUNDLE_FILE, hex);
  return fd;
}

/* Add one directory to the overlay under construction: by fd when the kernel takes it (6.13+),
 * else by the path of the fd.  */
static int
add_dir (int fsfd, const char *key, int dirfd, const char *path)
{
  if (fsconfig (fsfd, FSCONFIG_SET_FD, key, NULL, dirfd) == 0)
    return 0;
  if (errno != EINVAL)
    return -1;
  return fsconfig (fsfd, FSCONFIG_SET_STRING, key, path, 0);
}

int
overlay_mount_fd (const struct husk_overlay *o, const char *upper, const char *work, struct husk_err *err)
{
  cleanup_close int storefd = open (o->store, O_PATH | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int fsfd = -1;
  int mfd;

  if (storefd < 0)
    return husk_err_set (err, errno, "%s: store '%s'", OVERLAY_BUNDLE_FILE, o->store);
  if (upper == NULL && o->n_layers == 1)
    {
      /* overlayfs needs two lower layers without an upper: a lone layer is a read-only bind.  */
      cleanup_close int lfd = open_layer (storefd, o->layers[0], err);
      struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
      if (lfd < 0)
        return -1;
      mfd = open_tree (lfd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
      if (mfd < 0)
        return husk_err_set (err, errno, "bind the layer %s", o->layers[0]);
      if (mount_setattr (mfd, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
        {
          husk_err_set (err, errno, "make the layer bind read-only");
          (void) close (mfd);
          return -1;
        }
      return mfd;
    }
  fsfd = fsopen ("overlay", FSOPEN_CLOEXEC);
  if (fsfd < 0)
    return husk_err_set (err, errno, "fsopen overlay");
  (void) fsconfig (fsfd, FSCONFIG_SET_STRING, "source", "husk", 0);
  /* Nearest layer first: the last of the list is the top.  */
  for (size_t i = o->n_layers; i-- > 0;)
    {
      cleanup_close int lfd = open_layer (storefd, o->layers[i], err);
      cleanup_free char *path = NULL;
      if (lfd < 0)
        return -1;
      path = xasprintf ("%s/layers/%s/fs", o->store, o->layers[i]);
      if (add_dir (fsfd, "lowerdir+", lfd, path) < 0)
        return husk_err_set (err, errno, "overlay: add the layer %s", o->layers[i]);
    }
  if (upper != NULL)
    {
      cleanup_close int ufd = open (upper, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      cleanup_close int wfd = open (work, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (ufd < 0 || wfd < 0)
        return husk_err_set (err, errno, "overlay: open '%s'", ufd < 0 ? upper : work);
      if (add_dir (fsfd, "upperdir", ufd, upper) < 0 || add_dir (fsfd, "workdir", wfd, work) < 0)
        return husk_err_set (err, errno, "overlay: set the upper directory '%s'", upper);
    }
  /* No inode index: the layers are shared by many mounts, and the upper is thrown away.  */
  (void) fsconfig (fsfd, FSCONFIG_SET_STRING, "index", "off", 0);
  if (fsconfig (fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return husk_err_set (err, errno, "create the overlay of %zu layers", o->n_layers);
  mfd = fsmount (fsfd, FSMOUNT_CLOEXEC, upper == NULL ? MOUNT_ATTR_RDONLY : 0);
  if (mfd < 0)
    return husk_err_set (err, errno, "fsmount the overlay");
  return mfd;
}

/* Write the layer list as a plain file LAYERS in DIRFD: one ChainID per line, base first.  */
static int
write_layer_list (int dirfd, const struct husk_overlay *o, struct husk_err *err)
{
  cleanup_close int fd = openat (dirfd, "layers", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

  if (fd < 0)
    return husk_err_set (err, errno, "create the layer list");
  for (size_t i = 0; i < o->n_layers; i++)
    if (write_all (fd, o->layers[i], strlen (o->layers[i])) < 0 || write_all (fd, "\n", 1) < 0)
      return husk_err_set (err, errno, "write the layer list");
  return 0;
}

char *
overlay_private_dir (const struct husk_overlay *o, const char *id)
{
  unsigned char rnd[6] = { 0 };

  if (getrandom (rnd, sizeof rnd, 0) != (ssize_t) sizeof rnd)
    {
      struct timespec ts;
      (void) clock_gettime (CLOCK_MONOTONIC, &ts);
      memcpy (rnd, &ts.tv_nsec, sizeof rnd < sizeof ts.tv_nsec ? sizeof rnd : sizeof ts.tv_nsec);
      rnd[5] ^= (unsigned char) getpid ();
    }
  return xasprintf ("%s/containers/%s-%02x%02x%02x%02x%02x%02x", o->store, id, rnd[0], rnd[1], rnd[2], rnd[3],
                    rnd[4], rnd[5]);
}

int
overlay_make_private (const struct husk_overlay *o, const char *dir, struct husk_err *err)
{
  cleanup_close int storefd = open (o->store, O_PATH | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int cfd = -1, pfd = -1;
  const char *name = strrchr (dir, '/') + 1;

  if (storefd < 0)
    return husk_err_set (err, errno, "%s: store '%s'", OVERLAY_BUNDLE_FILE, o->store);
  if (mkdirat (storefd, "containers", 0700) < 0 && errno != EEXIST)
    return husk_err_set (err, errno, "mkdir '%s/containers'", o->store);
  cfd = openat (storefd, "containers", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (cfd < 0)
    return husk_err_set (err, errno, "open '%s/containers'", o->store);
  if (mkdirat (cfd, name, 0700) < 0)
    return husk_err_set (err, errno, "mkdir '%s'", dir);
  pfd = openat (cfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (pfd < 0 || mkdirat (pfd, "upper", 0755) < 0 || mkdirat (pfd, "work", 0700) < 0)
    husk_err_set (err, errno, "make '%s'", dir);
  else if (write_layer_list (pfd, o, err) == 0)
    return 0;
  {
    struct husk_err ignored;
    (void) fs_remove_tree (cfd, name, &ignored);
  }
  return -1;
}

int
overlay_remove_private (const char *dir, struct husk_err *err)
{
  cleanup_free char *parent = xstrdup (dir);
  char *slash = strrchr (parent, '/');
  cleanup_close int pfd = -1;

  if (slash == NULL || slash == parent || slash[1] == '\0')
    return husk_err_set (err, EINVAL, "remove the container's overlay directory '%s'", dir);
  *slash = '\0';
  pfd = open (parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (pfd < 0)
    return errno == ENOENT ? 0 : husk_err_set (err, errno, "open '%s'", parent);
  if (fs_remove_tree (pfd, slash + 1, err) < 0)
    return husk_err_prefix (err, "remove '%s'", dir);
  return 0;
}
