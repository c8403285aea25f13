/* Unit tests of image/extract.c: layer tars built in memory with libarchive's write API (or raw
 * ustar headers for what libarchive refuses to write), extracted into layer directories under a
 * private tmpfs on /tmp, with lower layers prepared by hand or by earlier extractions.  Every hostile
 * case (IMAGES.md §3.2, T01-T28) also checks that a 'victim' directory beside the layers is intact.
 * Key cases mount the layers as a read-only overlay and look at the merged tree.  Criterion runs each
 * test in its own process; each first gets a private mount namespace with a fresh tmpfs on /tmp, so
 * its mounts and files vanish with it.  Needs root.  */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "image/extract.h"
#include "util.h"

#define T "/tmp/t"
#define VICTIM T "/victim"
#define MNT T "/m"

/* ---- fixture --------------------------------------------------------------------------------- */

/* The directory of the committed image fixtures, opened before /tmp is covered (the source tree may
 * itself be under /tmp, as a CI clone is).  */
static int fixtures_fd = -1;

static void
setup (void)
{
  fixtures_fd = open (SPEC_FIXTURES "/../tests/fixtures/oci", O_PATH | O_DIRECTORY | O_CLOEXEC);
  cr_assert_eq (unshare (CLONE_NEWNS), 0, "unshare: %s", strerror (errno));
  cr_assert_eq (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
  cr_assert_eq (mount ("tmpfs", "/tmp", "tmpfs", 0, "mode=1777"), 0, "mount /tmp: %s", strerror (errno));
  cr_assert_eq (mkdir (T, 0755), 0);
  cr_assert_eq (mkdir (VICTIM, 0755), 0);
  cr_assert_eq (mkdir (MNT, 0755), 0);
  int fd = open (VICTIM "/keep", O_WRONLY | O_CREAT | O_EXCL, 0644);
  cr_assert_geq (fd, 0);
  cr_assert_eq (write (fd, "keep\n", 5), 5);
  close (fd);
  umask (022);
}

static void
teardown (void)
{
  (void) umount2 (MNT, MNT_DETACH);
}

TestSuite (extract, .init = setup, .fini = teardown, .timeout = 60);

/* The victim beside the layers is exactly as setup left it.  */
static void
check_victim (void)
{
  struct stat st;
  char buf[16] = { 0 };
  DIR *d = opendir (VICTIM);
  struct dirent *de;
  int n = 0;
  cr_assert_not_null (d);
  while ((de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") && strcmp (de->d_name, ".."))
      {
        cr_expect_str_eq (de->d_name, "keep", "victim dir gained '%s'", de->d_name);
        n++;
      }
  closedir (d);
  cr_assert_eq (n, 1, "victim dir has %d entries", n);
  cr_assert_eq (lstat (VICTIM "/keep", &st), 0);
  cr_assert (S_ISREG (st.st_mode));
  cr_assert_eq (st.st_mode & 07777, 0644, "victim mode %o", st.st_mode & 07777);
  cr_assert_eq (st.st_uid, 0);
  cr_assert_eq (st.st_nlink, 1, "victim nlink %lu", (unsigned long) st.st_nlink);
  cr_assert_eq (llistxattr (VICTIM "/keep", NULL, 0), 0, "victim gained xattrs");
  int fd = open (VICTIM "/keep", O_RDONLY);
  cr_assert_eq (read (fd, buf, sizeof buf), 5);
  close (fd);
  cr_assert_str_eq (buf, "keep\n");
  cr_assert_eq (lstat (VICTIM, &st), 0);
  cr_assert_eq (st.st_mode & 07777, 0755);
}

/* ---- building tars --------------------------------------------------------------------------- */

struct tarb
{
  struct archive *a;
  char *buf;
  size_t len, cap;
};

static la_ssize_t
tb_write_cb (struct archive *a, void *p, const void *data, size_t n)
{
  struct tarb *t = p;
  if (t->len + n > t->cap)
    {
      while (t->len + n > t->cap)
        t->cap = t->cap ? t->cap * 2 : 65536;
      t->buf = xrealloc (t->buf, t->cap);
    }
  memcpy (t->buf + t->len, data, n);
  t->len += n;
  return (la_ssize_t) n;
}

/* A tar being written: pax_restricted (PAX records only when needed), or GNU when GNU.  */
static struct tarb *
tb_new (bool gnu)
{
  struct tarb *t = xcalloc (1, sizeof *t);
  t->a = archive_write_new ();
  cr_assert_not_null (t->a);
  cr_assert_eq (gnu ? archive_write_set_format_gnutar (t->a) : archive_write_set_format_pax_restricted (t->a),
                ARCHIVE_OK);
  cr_assert_eq (archive_write_set_bytes_per_block (t->a, 512), ARCHIVE_OK);
  cr_assert_eq (archive_write_open (t->a, t, NULL, tb_write_cb, NULL), ARCHIVE_OK);
  return t;
}

struct ent
{
  const char *path;
  char type;         /* f d l h p c b s */
  mode_t mode;       /* 0: 0644 files, 0755 dirs */
  bool mode0;        /* really mode 0 */
  int64_t uid, gid;
  const char *data;  /* file content (strlen), or SIZE bytes when set */
  size_t size;
  const char *link;  /* symlink or hard link target */
  unsigned long maj, min;
  time_t mtime;      /* 0: 1000000 */
  const char *xn[4]; /* xattrs */
  const char *xv[4];
};

static void
tb_add (struct tarb *t, struct ent e)
{
  struct archive_entry *ae = archive_entry_new ();
  size_t size = e.size ? e.size : e.data ? strlen (e.data) : 0;
  archive_entry_set_pathname (ae, e.path);
  archive_entry_set_uid (ae, e.uid);
  archive_entry_set_gid (ae, e.gid);
  archive_entry_set_mtime (ae, e.mtime ? e.mtime : 1000000, 0);
  switch (e.type)
    {
    case 'd':
      archive_entry_set_filetype (ae, AE_IFDIR);
      break;
    case 'l':
      archive_entry_set_filetype (ae, AE_IFLNK);
      archive_entry_set_symlink (ae, e.link);
      break;
    case 'h':
      archive_entry_set_filetype (ae, AE_IFREG);
      archive_entry_set_hardlink (ae, e.link);
      size = 0;
      break;
    case 'p':
      archive_entry_set_filetype (ae, AE_IFIFO);
      break;
    case 'c':
    case 'b':
      archive_entry_set_filetype (ae, e.type == 'c' ? AE_IFCHR : AE_IFBLK);
      archive_entry_set_rdevmajor (ae, e.maj);
      archive_entry_set_rdevminor (ae, e.min);
      break;
    default:
      archive_entry_set_filetype (ae, AE_IFREG);
    }
  archive_entry_set_perm (ae, e.mode0 ? 0 : e.mode ? e.mode : e.type == 'd' ? 0755 : 0644);
  if (e.type == 'f' || e.type == 0)
    archive_entry_set_size (ae, (la_int64_t) size);
  for (int i = 0; i < 4 && e.xn[i]; i++)
    archive_entry_xattr_add_entry (ae, e.xn[i], e.xv[i], strlen (e.xv[i]));
  cr_assert_geq (archive_write_header (t->a, ae), ARCHIVE_WARN, "write header '%s': %s", e.path,
                 archive_error_string (t->a));
  if (size > 0 && e.data && (e.type == 'f' || e.type == 0))
    cr_assert_eq (archive_write_data (t->a, e.data, size), (la_ssize_t) size);
  archive_entry_free (ae);
}

#define F(p, d) tb_add (t, (struct ent){ .path = (p), .type = 'f', .data = (d) })
#define D(p) tb_add (t, (struct ent){ .path = (p), .type = 'd' })
#define L(p, l) tb_add (t, (struct ent){ .path = (p), .type = 'l', .link = (l) })
#define H(p, l) tb_add (t, (struct ent){ .path = (p), .type = 'h', .link = (l) })

static void
tb_close (struct tarb *t)
{
  if (t->a != NULL)
    {
      cr_assert_eq (archive_write_close (t->a), ARCHIVE_OK);
      archive_write_free (t->a);
      t->a = NULL;
    }
}

/* Append a raw ustar header (and DATA padded to 512 bytes) for what libarchive will not write.  */
static void
raw_entry (struct tarb *t, const char *name, char type, const char *link, const char *data, size_t size, unsigned mode)
{
  char h[512] = { 0 };
  unsigned sum = 0;
  memcpy (h, name, strnlen (name, 100));
  snprintf (h + 100, 8, "%07o", mode);
  snprintf (h + 108, 8, "%07o", 0);
  snprintf (h + 116, 8, "%07o", 0);
  snprintf (h + 124, 12, "%011zo", size);
  snprintf (h + 136, 12, "%011o", 1000000);
  h[156] = type;
  if (link)
    memcpy (h + 157, link, strnlen (link, 100));
  memcpy (h + 257, "ustar", 6);
  memcpy (h + 263, "00", 2);
  memset (h + 148, ' ', 8);
  for (int i = 0; i < 512; i++)
    sum += (unsigned char) h[i];
  snprintf (h + 148, 8, "%06o", sum);
  tb_write_cb (NULL, t, h, 512);
  if (size > 0)
    {
      char pad[512] = { 0 };
      tb_write_cb (NULL, t, data, size);
      tb_write_cb (NULL, t, pad, (512 - size % 512) % 512);
    }
}

static struct tarb *
raw_new (void)
{
  return xcalloc (1, sizeof (struct tarb));
}

static void
raw_end (struct tarb *t)
{
  char z[1024] = { 0 };
  tb_write_cb (NULL, t, z, sizeof z);
}

/* A raw PAX extended header ('x') holding one record "KEY=VALUE".  */
static void
raw_pax (struct tarb *t, const char *key, const char *value)
{
  char rec[256];
  size_t n = strlen (key) + strlen (value) + 3, len = n + 1;
  while (len < n + snprintf (NULL, 0, "%zu", len))
    len++;
  len = n + (size_t) snprintf (NULL, 0, "%zu", len);
  snprintf (rec, sizeof rec, "%zu %s=%s\n", len, key, value);
  raw_entry (t, "PaxHeader", 'x', NULL, rec, strlen (rec), 0644);
}

static void
tb_free (struct tarb *t)
{
  if (t->a)
    archive_write_free (t->a);
  free (t->buf);
  free (t);
}

/* ---- running the extractor ------------------------------------------------------------------- */

struct memreader
{
  const char *p;
  size_t len, pos, chunk;
  bool fail; /* fail instead of returning the second chunk */
  unsigned calls;
};

static ssize_t
mem_read (void *arg, const void **buf, struct husk_err *err)
{
  struct memreader *r = arg;
  if (r->fail && r->calls > 0)
    return husk_err_set (err, EIO, "blob sha256:feed: read failed");
  r->calls++;
  size_t n = r->len - r->pos;
  if (n > r->chunk)
    n = r->chunk;
  *buf = r->p + r->pos;
  r->pos += n;
  return (ssize_t) n;
}

struct xopts
{
  const char *lowers[4]; /* directories, nearest first */
  bool allow_devices;
  const char *xattr_prefix;
  struct extract_limits limits;
  size_t chunk;
  bool fail;
};

static struct extract_stats last_stats;
static size_t last_pos;

/* The number of fds this process has open.  */
static int
nfds (void)
{
  int n = 0;
  DIR *d = opendir ("/proc/self/fd");
  cr_assert_not_null (d);
  while (readdir (d) != NULL)
    n++;
  closedir (d);
  return n;
}

/* Extract tar T (closed here) into the layer directory LAYER (made 0700 when missing).  Returns
 * extract_layer's result; ERR gets its error.  */
static int
xtract (const char *layer, struct tarb *t, struct xopts o, struct husk_err *err)
{
  int lfds[4];
  size_t n = 0;
  int fds_before = nfds ();
  tb_close (t);
  if (mkdir (layer, 0700) < 0)
    cr_assert_eq (errno, EEXIST);
  int fd = open (layer, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cr_assert_geq (fd, 0);
  for (; n < 4 && o.lowers[n]; n++)
    {
      lfds[n] = open (o.lowers[n], O_PATH | O_DIRECTORY | O_CLOEXEC);
      cr_assert_geq (lfds[n], 0, "open lower '%s'", o.lowers[n]);
    }
  struct extract_options eo = {
    .lower_fds = lfds,
    .n_lowers = n,
    .xattr_prefix = o.xattr_prefix,
    .allow_devices = o.allow_devices,
    .limits = o.limits,
    .name = "layer sha256:abc",
  };
  struct memreader r = { .p = t->buf, .len = t->len, .chunk = o.chunk ? o.chunk : 65536, .fail = o.fail };
  memset (err, 0, sizeof *err);
  int ret = extract_layer (fd, mem_read, &r, &eo, &last_stats, err);
  last_pos = r.pos;
  close (fd);
  for (size_t i = 0; i < n; i++)
    close (lfds[i]);
  tb_free (t);
  cr_assert_eq (nfds (), fds_before, "extract_layer leaked fds");
  return ret;
}

/* Extract and require success.  */
static void
xok (const char *layer, struct tarb *t, struct xopts o)
{
  struct husk_err err;
  char buf[1100];
  int r = xtract (layer, t, o, &err);
  cr_assert_eq (r, 0, "extract '%s' failed: %s", layer, husk_err_text (&err, buf, sizeof buf));
}

/* Extract and require failure with a message containing WANT.  */
static void
xfail (const char *layer, struct tarb *t, struct xopts o, const char *want)
{
  struct husk_err err;
  char buf[1100];
  int r = xtract (layer, t, o, &err);
  cr_assert_eq (r, -1, "extract '%s' succeeded, expected '%s'", layer, want);
  husk_err_text (&err, buf, sizeof buf);
  cr_assert (strstr (buf, want) != NULL, "%s: error '%s' lacks '%s'", layer, buf, want);
}

/* ---- inspecting the result ------------------------------------------------------------------- */

static bool
exists (const char *p)
{
  struct stat st;
  return lstat (p, &st) == 0;
}

static struct stat
st_of (const char *p)
{
  struct stat st;
  cr_assert_eq (lstat (p, &st), 0, "lstat '%s': %s", p, strerror (errno));
  return st;
}

static const char *
content (const char *p)
{
  static char buf[4096];
  int fd = open (p, O_RDONLY | O_NOFOLLOW);
  cr_assert_geq (fd, 0, "open '%s': %s", p, strerror (errno));
  ssize_t n = read (fd, buf, sizeof buf - 1);
  close (fd);
  cr_assert_geq (n, 0);
  buf[n] = '\0';
  return buf;
}

static const char *
linkof (const char *p)
{
  static char buf[4096];
  ssize_t n = readlink (p, buf, sizeof buf - 1);
  cr_assert_geq (n, 0, "readlink '%s': %s", p, strerror (errno));
  buf[n] = '\0';
  return buf;
}

static bool
is_wh (const char *p)
{
  struct stat st;
  return lstat (p, &st) == 0 && S_ISCHR (st.st_mode) && st.st_rdev == makedev (0, 0);
}

static const char *
xattr (const char *p, const char *name)
{
  static char buf[256];
  ssize_t n = lgetxattr (p, name, buf, sizeof buf - 1);
  if (n < 0)
    return NULL;
  buf[n] = '\0';
  return buf;
}

static bool
opaque (const char *p)
{
  const char *v = xattr (p, "trusted.overlay.opaque");
  return v != NULL && strcmp (v, "y") == 0;
}

/* The names in directory P, sorted, joined by ' '.  */
static const char *
names (const char *p)
{
  static char out[4096];
  struct dirent **list;
  int n = scandir (p, &list, NULL, alphasort);
  cr_assert_geq (n, 0, "scandir '%s': %s", p, strerror (errno));
  out[0] = '\0';
  for (int i = 0; i < n; i++)
    {
      if (strcmp (list[i]->d_name, ".") && strcmp (list[i]->d_name, ".."))
        {
          if (out[0])
            strcat (out, " ");
          strcat (out, list[i]->d_name);
        }
      free (list[i]);
    }
  free (list);
  return out;
}

static void
put (const char *path, const char *text, mode_t mode)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, mode);
  cr_assert_geq (fd, 0, "create '%s': %s", path, strerror (errno));
  cr_assert_eq (write (fd, text, strlen (text)), (ssize_t) strlen (text));
  close (fd);
  chmod (path, mode);
}

static void
mkd (const char *path, mode_t mode)
{
  cr_assert_eq (mkdir (path, mode), 0, "mkdir '%s': %s", path, strerror (errno));
  chmod (path, mode);
}

/* Mount LOWERDIR ("a:b", nearest first) read-only on MNT.  */
static void
overlay (const char *lowerdir)
{
  char opts[512];
  snprintf (opts, sizeof opts, "lowerdir=%s", lowerdir);
  cr_assert_eq (mount ("overlay", MNT, "overlay", MS_RDONLY, opts), 0, "mount overlay %s: %s", opts,
                strerror (errno));
}

/* A base layer L1 from a tar holding the given entries.  */
#define BASE(...)                                                                                      \
  do                                                                                                   \
    {                                                                                                  \
      struct tarb *t = tb_new (false);                                                                 \
      __VA_ARGS__;                                                                                     \
      xok (T "/l1", t, (struct xopts){ 0 });                                                           \
    }                                                                                                  \
  while (0)

/* ---- basics ---------------------------------------------------------------------------------- */

Test (extract, basic_types)
{
  struct tarb *t = tb_new (false);
  tb_add (t, (struct ent){ .path = "etc/", .type = 'd', .mode = 0750, .uid = 3, .gid = 4, .mtime = 12345 });
  tb_add (t, (struct ent){ .path = "etc/motd", .type = 'f', .data = "hello\n", .mode = 0640, .uid = 1000, .gid = 100,
                           .mtime = 777 });
  tb_add (t, (struct ent){ .path = "bin/su", .type = 'f', .data = "x", .mode = 04755, .uid = 0 });
  tb_add (t, (struct ent){ .path = "shared", .type = 'd', .mode = 02775, .gid = 50 });
  tb_add (t, (struct ent){ .path = "etc/link", .type = 'l', .link = "/nonexistent/target", .uid = 7, .gid = 8,
                           .mtime = 4242 });
  H ("etc/hard", "etc/motd");
  tb_add (t, (struct ent){ .path = "run/fifo", .type = 'p', .mode = 0640, .uid = 5 });
  tb_add (t, (struct ent){ .path = "dev/null", .type = 'c', .maj = 1, .min = 3, .mode = 0666 });
  tb_add (t, (struct ent){ .path = "dev/sda", .type = 'b', .maj = 8, .min = 0, .mode = 0660, .gid = 6 });
  xok (T "/l1", t, (struct xopts){ .allow_devices = true });

  struct stat st = st_of (T "/l1/etc");
  cr_assert (S_ISDIR (st.st_mode));
  cr_assert_eq (st.st_mode & 07777, 0750);
  cr_assert_eq (st.st_uid, 3);
  cr_assert_eq (st.st_gid, 4);
  cr_assert_eq (st.st_mtime, 12345, "dir mtime %ld: set after its children", (long) st.st_mtime);
  st = st_of (T "/l1/etc/motd");
  cr_assert_str_eq (content (T "/l1/etc/motd"), "hello\n");
  cr_assert_eq (st.st_mode & 07777, 0640);
  cr_assert_eq (st.st_uid, 1000);
  cr_assert_eq (st.st_gid, 100);
  cr_assert_eq (st.st_mtime, 777);
  cr_assert_eq (st.st_nlink, 2);
  cr_assert_eq (st_of (T "/l1/etc/hard").st_ino, st.st_ino);
  cr_assert_eq (st_of (T "/l1/bin/su").st_mode & 07777, 04755, "setuid kept");
  st = st_of (T "/l1/shared");
  cr_assert_eq (st.st_mode & 07777, 02775, "setgid dir kept");
  cr_assert_eq (st.st_gid, 50);
  st = st_of (T "/l1/etc/link");
  cr_assert (S_ISLNK (st.st_mode));
  cr_assert_str_eq (linkof (T "/l1/etc/link"), "/nonexistent/target");
  cr_assert_eq (st.st_uid, 7);
  cr_assert_eq (st.st_gid, 8);
  cr_assert_eq (st.st_mtime, 4242);
  st = st_of (T "/l1/run/fifo");
  cr_assert (S_ISFIFO (st.st_mode));
  cr_assert_eq (st.st_mode & 07777, 0640);
  cr_assert_eq (st.st_uid, 5);
  st = st_of (T "/l1/dev/null");
  cr_assert (S_ISCHR (st.st_mode));
  cr_assert_eq (st.st_rdev, makedev (1, 3));
  cr_assert_eq (st.st_mode & 07777, 0666);
  st = st_of (T "/l1/dev/sda");
  cr_assert (S_ISBLK (st.st_mode));
  cr_assert_eq (st.st_rdev, makedev (8, 0));
  cr_assert_eq (st.st_gid, 6);
  /* parents the tar did not list: 0755 root */
  st = st_of (T "/l1/bin");
  cr_assert_eq (st.st_mode & 07777, 0755);
  cr_assert_eq (st.st_uid, 0);
  /* the base layer's root: 0755 root */
  st = st_of (T "/l1");
  cr_assert_eq (st.st_mode & 07777, 0755);
  cr_assert_eq (last_stats.entries, 9);
  cr_assert_eq (last_stats.file_bytes, 7);
  cr_assert_eq (last_stats.skipped, 0);
}

Test (extract, devices_skipped_without_permission)
{
  struct tarb *t = tb_new (false);
  tb_add (t, (struct ent){ .path = "dev/null", .type = 'c', .maj = 1, .min = 3 });
  tb_add (t, (struct ent){ .path = "dev/sda", .type = 'b', .maj = 8, .min = 0 });
  tb_add (t, (struct ent){ .path = "dev/fifo", .type = 'p' });
  xok (T "/l1", t, (struct xopts){ .allow_devices = false });
  cr_assert (!exists (T "/l1/dev/null"));
  cr_assert (!exists (T "/l1/dev/sda"));
  cr_assert (S_ISFIFO (st_of (T "/l1/dev/fifo").st_mode), "fifos are not devices");
  cr_assert_eq (last_stats.skipped, 2);
}

/* T23: device numbers that do not fit 32 bits are refused.  */
Test (extract, device_number_too_large)
{
  struct tarb *t = tb_new (false);
  tb_add (t, (struct ent){ .path = "dev/big", .type = 'c', .maj = 1UL << 32, .min = 3 });
  xfail (T "/l1", t, (struct xopts){ .allow_devices = true }, "out of range");
  t = tb_new (false);
  tb_add (t, (struct ent){ .path = "dev/big", .type = 'b', .maj = 8, .min = (1UL << 33) + 1 });
  xfail (T "/l2", t, (struct xopts){ .allow_devices = true }, "out of range");
  cr_assert (!exists (T "/l1/dev/big"));
  cr_assert (!exists (T "/l2/dev/big"));
}

Test (extract, owner_out_of_range)
{
  struct tarb *t = tb_new (false);
  tb_add (t, (struct ent){ .path = "f", .type = 'f', .data = "x", .uid = 4294967295LL });
  xfail (T "/l1", t, (struct xopts){ 0 }, "uid 4294967295 out of range");
  t = tb_new (false);
  tb_add (t, (struct ent){ .path = "f", .type = 'f', .data = "x", .gid = 1LL << 33 });
  xfail (T "/l2", t, (struct xopts){ 0 }, "gid 8589934592 out of range");
}

Test (extract, xattrs)
{
  /* a valid VFS_CAP_REVISION_2 security.capability: cap_net_raw (13) permitted */
  static const unsigned char cap[20] = { 0, 0, 0, 2, 0, 0x20, 0, 0 };
  struct tarb *t = tb_new (false);
  tb_add (t, (struct ent){ .path = "d", .type = 'd', .xn = { "trusted.dirx", "user.d" }, .xv = { "tv", "uv" } });
  tb_add (t, (struct ent){ .path = "d/f", .type = 'f', .data = "x",
                           .xn = { "user.mime", "security.selinux", "system.nfs4_acl" },
                           .xv = { "text/plain", "system_u:object_r:etc_t:s0", "acl" } });
  tb_add (t, (struct ent){ .path = "d/l", .type = 'l', .link = "f", .xn = { "trusted.lx" }, .xv = { "lv" } });
  tb_add (t, (struct ent){ .path = "d/p", .type = 'p', .xn = { "trusted.px" }, .xv = { "pv" } });
  /* capability: written after chown, which would clear it */
  struct archive_entry *ae = archive_entry_new ();
  archive_entry_set_pathname (ae, "ping");
  archive_entry_set_filetype (ae, AE_IFREG);
  archive_entry_set_perm (ae, 0755);
  archive_entry_set_uid (ae, 0);
  archive_entry_set_size (ae, 1);
  archive_entry_xattr_add_entry (ae, "security.capability", cap, sizeof cap);
  cr_assert_eq (archive_write_header (t->a, ae), ARCHIVE_OK);
  cr_assert_eq (archive_write_data (t->a, "p", 1), 1);
  archive_entry_free (ae);
  xok (T "/l1", t, (struct xopts){ 0 });

  cr_assert_str_eq (xattr (T "/l1/d", "trusted.dirx"), "tv");
  cr_assert_str_eq (xattr (T "/l1/d", "user.d"), "uv");
  cr_assert_str_eq (xattr (T "/l1/d/f", "user.mime"), "text/plain");
  cr_assert_null (xattr (T "/l1/d/f", "security.selinux"), "security.selinux must be dropped");
  cr_assert_null (xattr (T "/l1/d/f", "system.nfs4_acl"));
  cr_assert_str_eq (xattr (T "/l1/d/l", "trusted.lx"), "lv", "xattr on the symlink itself");
  cr_assert_null (xattr (T "/l1/d/f", "trusted.lx"), "not on the symlink's target");
  cr_assert_str_eq (xattr (T "/l1/d/p", "trusted.px"), "pv");
  unsigned char got[20];
  cr_assert_eq (lgetxattr (T "/l1/ping", "security.capability", got, sizeof got), 20, "capability kept: %s",
                strerror (errno));
  cr_assert_eq (memcmp (got, cap, 20), 0);
}

/* File data: chunk boundaries of the input, a file bigger than the write buffer, GNU/PAX sparse.  */
Test (extract, file_data_and_sparse)
{
  size_t big = 3 * 1024 * 1024 + 123;
  char *data = xmalloc (big);
  for (size_t i = 0; i < big; i++)
    data[i] = (char) (i * 7 + i / 4096);
  size_t smalls = 0;
  struct tarb *t = tb_new (false);
  tb_add (t, (struct ent){ .path = "big", .type = 'f', .data = data, .size = big });
  for (int i = 0; i < 50; i++)
    {
      char p[32], d[96];
      snprintf (p, sizeof p, "small/%d", i);
      snprintf (d, sizeof d, "content of file %d %.*s", i, i, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
      F (p, d);
      smalls += strlen (d);
    }
  /* a sparse file: 1 MiB with data at 0 and at 512 KiB */
  size_t ss = 1024 * 1024;
  char *sp = xcalloc (1, ss);
  memset (sp, 'A', 4096);
  memset (sp + 512 * 1024, 'B', 8192);
  struct archive_entry *ae = archive_entry_new ();
  archive_entry_set_pathname (ae, "sparse");
  archive_entry_set_filetype (ae, AE_IFREG);
  archive_entry_set_perm (ae, 0644);
  archive_entry_set_size (ae, (la_int64_t) ss);
  archive_entry_sparse_add_entry (ae, 0, 4096);
  archive_entry_sparse_add_entry (ae, 512 * 1024, 8192);
  cr_assert_geq (archive_write_header (t->a, ae), ARCHIVE_WARN);
  cr_assert_eq (archive_write_data (t->a, sp, ss), (la_ssize_t) ss);
  archive_entry_free (ae);
  xok (T "/l1", t, (struct xopts){ .chunk = 7777 });

  int fd = open (T "/l1/big", O_RDONLY);
  char *got = xmalloc (big + 1);
  cr_assert_eq (read (fd, got, big + 1), (ssize_t) big);
  close (fd);
  cr_assert_eq (memcmp (got, data, big), 0, "big file content differs");
  cr_assert_str_eq (content (T "/l1/small/49"), "content of file 49 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
  struct stat st = st_of (T "/l1/sparse");
  cr_assert_eq (st.st_size, (off_t) ss);
  fd = open (T "/l1/sparse", O_RDONLY);
  cr_assert_eq (read (fd, got, ss), (ssize_t) ss);
  close (fd);
  cr_assert_eq (memcmp (got, sp, ss), 0, "sparse file content differs");
  cr_assert_eq (last_stats.file_bytes, big + ss + smalls, "file bytes %llu",
                (unsigned long long) last_stats.file_bytes);
  free (got);
  free (data);
  free (sp);
}

/* Directory times are applied after all entries, even when a later entry adds to the directory.  */
Test (extract, dir_times_after_children)
{
  struct tarb *t = tb_new (false);
  tb_add (t, (struct ent){ .path = "a", .type = 'd', .mtime = 5000 });
  tb_add (t, (struct ent){ .path = "a/b", .type = 'd', .mtime = 6000 });
  F ("a/b/c", "x");
  F ("a/z", "x");
  tb_add (t, (struct ent){ .path = "./", .type = 'd', .mtime = 7000, .mode = 0711 });
  F ("top", "x");
  xok (T "/l1", t, (struct xopts){ 0 });
  cr_assert_eq (st_of (T "/l1/a").st_mtime, 5000);
  cr_assert_eq (st_of (T "/l1/a/b").st_mtime, 6000);
  cr_assert_eq (st_of (T "/l1").st_mtime, 7000);
  cr_assert_eq (st_of (T "/l1").st_mode & 07777, 0711, "a root dir entry sets the layer dir's mode");
}

/* The layer dir's attributes: from the entry for the root; else the nearest lower's root.  */
Test (extract, root_attributes)
{
  struct tarb *t = tb_new (false);
  tb_add (t, (struct ent){ .path = ".", .type = 'd', .mode = 0750, .uid = 12, .gid = 13, .mtime = 999,
                           .xn = { "user.root" }, .xv = { "r" } });
  F ("f", "x");
  xok (T "/l1", t, (struct xopts){ 0 });
  struct stat st = st_of (T "/l1");
  cr_assert_eq (st.st_mode & 07777, 0750);
  cr_assert_eq (st.st_uid, 12);
  cr_assert_eq (st.st_gid, 13);
  cr_assert_eq (st.st_mtime, 999);
  cr_assert_str_eq (xattr (T "/l1", "user.root"), "r");

  t = tb_new (false);
  F ("g", "y");
  xok (T "/l2", t, (struct xopts){ .lowers = { T "/l1" } });
  st = st_of (T "/l2");
  cr_assert_eq (st.st_mode & 07777, 0750, "root mode copied from the lower root");
  cr_assert_eq (st.st_uid, 12);
  cr_assert_eq (st.st_gid, 13);
  cr_assert_eq (st.st_mtime, 999);
  cr_assert_str_eq (xattr (T "/l2", "user.root"), "r");
}

/* ---- whiteouts ------------------------------------------------------------------------------- */

Test (extract, whiteout_file)
{
  BASE (D ("a"); F ("a/f", "f"); F ("a/g", "g"));
  struct tarb *t = tb_new (false);
  F ("a/.wh.f", "");
  xok (T "/l2", t, (struct xopts){ .lowers = { T "/l1" } });
  cr_assert (is_wh (T "/l2/a/f"), "a/f must be a 0:0 char device");
  cr_assert (!exists (T "/l2/a/g"));
  cr_assert (!exists (T "/l2/a/.wh.f"));
  cr_assert_eq (last_stats.whiteouts, 1);
  overlay (T "/l2:" T "/l1");
  cr_assert_str_eq (names (MNT "/a"), "g");
}

Test (extract, whiteout_dir)
{
  BASE (D ("d"); F ("d/x", "x"); D ("keep"));
  struct tarb *t = tb_new (false);
  F (".wh.d", "");
  xok (T "/l2", t, (struct xopts){ .lowers = { T "/l1" } });
  cr_assert (is_wh (T "/l2/d"));
  overlay (T "/l2:" T "/l1");
  cr_assert_str_eq (names (MNT), "keep");
}

Test (extract, opaque_dir)
{
  BASE (D ("d"); F ("d/x", "x"); F ("d/y", "y"));
  struct tarb *t = tb_new (false);
  D ("d");
  F ("d/.wh..wh..opq", "");
  F ("d/z", "z");
  xok (T "/l2", t, (struct xopts){ .lowers = { T "/l1" } });
  cr_assert (opaque (T "/l2/d"));
  cr_assert (!exists (T "/l2/d/.wh..wh..opq"));
  cr_assert_eq (last_stats.opaques, 1);
  overlay (T "/l2:" T "/l1");
  cr_assert_str_eq (names (MNT "/d"), "z");
}

/* T19: the opaque marker after siblings: this layer's entries stay, its whiteouts below go (also
 * nested ones, with the directories made only to hold them).  */
Test (extract, opaque_after_siblings)
{
  BASE (D ("d"); F ("d/x", "x"); F ("d/y", "y"); D ("d/sub"); F ("d/sub/s1", "s"); D ("d/sub2"); F ("d/sub2/t", "t"));
  struct tarb *t = tb_new (false);
  D ("d");
  F ("d/z", "z");
  F ("d/.wh.x", "");
  F ("d/sub/.wh.s1", "");
  F ("d/sub2/.wh.t", "");
  D ("d/sub2");
  F ("d/.wh..wh..opq", "");
  F ("d/.wh.y", ""); /* after the marker: nothing left to hide */
  xok (T "/l2", t, (struct xopts){ .lowers = { T "/l1" } });
  cr_assert (opaque (T "/l2/d"));
  cr_assert (!exists (T "/l2/d/x"), "the whiteout made before the marker is removed");
  cr_assert (!exists (T "/l2/d/y"), "no whiteout inside an opaque dir");
  cr_assert (!exists (T "/l2/d/sub"), "a dir made only for a whiteout goes with it");
  cr_assert (S_ISDIR (st_of (T "/l2/d/sub2").st_mode), "an explicit dir stays");
  cr_assert (!exists (T "/l2/d/sub2/t"));
  cr_assert_str_eq (names (T "/l2/d"), "sub2 z");
  overlay (T "/l2:" T "/l1");
  cr_assert_str_eq (names (MNT "/d"), "sub2 z");
  cr_assert_str_eq (names (MNT "/d/sub2"), "");
}

/* T20: a whiteout in the base layer, or one no lower needs, is dropped (overlayfs would list it
 * as a broken entry).  */
Test (extract, whiteout_dropped)
{
  struct tarb *t = tb_new (false);
  F (".wh.x", "");
  F ("a/.wh.y", "");
  F ("b/.wh..wh..opq", "");
  xok (T "/l1", t, (struct xopts){ 0 });
  cr_assert_str_eq (names (T "/l1"), "", "base layer whiteouts leave nothing");
  cr_assert_eq (last_stats.whiteouts, 0);
  cr_assert_eq (last_stats.skipped, 3);

  rmdir (T "/l1");
  BASE (D ("a"); F ("a/here", "h"));
  t = tb_new (false);
  F ("a/.wh.nothere", "");
  F ("nodir/.wh.x", "");
  F ("nodir2/sub/.wh..wh..opq", "");
  xok (T "/l2", t, (struct xopts){ .lowers = { T "/l1" } });
  cr_assert_str_eq (names (T "/l2"), "", "no whiteout, no parent made for it");
  overlay (T "/l2:" T "/l1");
  cr_assert_str_eq (names (MNT), "a");
  cr_assert_str_eq (names (MNT "/a"), "here");
}

/* A directory this layer recreates after whiting it out is opaque (with or without its own entry).  */
Test (extract, recreated_after_whiteout)
{
  BASE (D ("d"); F ("d/old", "o"); D ("e"); F ("e/old", "o"));
  struct tarb *t = tb_new (false);
  F (".wh.d", "");
  D ("d");
  F ("d/new", "n");
  F (".wh.e", "");
  F ("e/new", "n");
  xok (T "/l2", t, (struct xopts){ .lowers = { T "/l1" } });
  cr_assert (S_ISDIR (st_of (T "/l2/d").st_mode));
  cr_assert (opaque (T "/l2/d"));
  cr_assert (opaque (T "/l2/e"));
  overlay (T "/l2:" T "/l1");
  cr_assert_str_eq (names (MNT "/d"), "new");
  cr_assert_str_eq (names (MNT "/e"), "new");
}

/* A whiteout after this layer's own entries of that name: same-layer files stay, the lower's
 * namesake is hidden (a directory of this layer becomes opaque).  */
Test (extract, whiteout_after_same_layer_entries)
{
  BASE (D ("d"); F ("d/old", "o"); F ("f", "lower"));
  struct tarb *t = tb_new (false);
  F ("d/new", "n");
  F (".wh.d", "");
  F ("f", "upper");
  F (".wh.f", "");
  xok (T "/l2", t, (struct xopts){ .lowers = { T "/l1" } });
  cr_assert (opaque (T "/l2/d"));
  cr_assert_str_eq (content (T "/l2/f"), "upper");
  overlay (T "/l2:" T "/l1");
  cr_assert_str_eq (names (MNT "/d"), "new");
  cr_assert_str_eq (content (MNT "/f"), "upper");
}

/* T19: a whiteout then a file of the same name in one layer: the file.  */
Test (extract, whiteout_then_same_name)
{
  BASE (F ("f", "lower"); D ("d"); F ("d/x", "x"));
  struct tarb *t = tb_new (false);
  F (".wh.f", "");
  F ("f", "upper");
  F (".wh.d", "");
  F ("d", "now a file");
  xok (T "/l2", t, (struct xopts){ .lowers = { T "/l1" } });
  cr_assert_str_eq (content (T "/l2/f"), "upper");
  cr_assert_str_eq (content (T "/l2/d"), "now a file");
  overlay (T "/l2:" T "/l1");
  cr_assert_str_eq (content (MNT "/f"), "upper");
  cr_assert_str_eq (content (MNT "/d"), "now a file");
}

/* Root opaque: overlayfs ignores opaque on a layer root, so each lower root name is whited out.  */
Test (extract, opaque_root)
{
  BASE (D ("a"); F ("a/x", "x"); F ("f", "f"); F ("g", "g"); L ("l", "a"));
  struct tarb *t = tb_new (false);
  F ("a/new", "n");
  F (".wh.g", "");
  F (".wh..wh..opq", "");
  F ("n", "n");
  xok (T "/l2", t, (struct xopts){ .lowers = { T "/l1" } });
  cr_assert_null (xattr (T "/l2", "trusted.overlay.opaque"));
  cr_assert (is_wh (T "/l2/f"));
  cr_assert (is_wh (T "/l2/g"));
  cr_assert (is_wh (T "/l2/l"));
  cr_assert (opaque (T "/l2/a"));
  overlay (T "/l2:" T "/l1");
  cr_assert_str_eq (names (MNT), "a n");
  cr_assert_str_eq (names (MNT "/a"), "new");
}

/* T18: a whiteout of a symlink hides the link only; `.wh.` on a directory component is a name.  */
Test (extract, whiteout_symlink_and_wh_dir_name)
{
  BASE (D ("d"); F ("d/f", "f"); L ("l", "d"));
  struct tarb *t = tb_new (false);
  F (".wh.l", "");
  F (".wh.dir/file", "ordinary");
  xok (T "/l2", t, (struct xopts){ .lowers = { T "/l1" } });
  cr_assert (is_wh (T "/l2/l"));
  cr_assert_str_eq (content (T "/l2/.wh.dir/file"), "ordinary");
  overlay (T "/l2:" T "/l1");
  cr_assert_str_eq (names (MNT), ".wh.dir d");
  cr_assert_str_eq (names (MNT "/d"), "f");
}

/* A whiteout in a lower-only directory three levels down: parents made with the lower's attributes.  */
Test (extract, whiteout_deep_parent_from_lower)
{
  BASE (tb_add (t, (struct ent){ .path = "p", .type = 'd', .mode = 0710, .uid = 9, .mtime = 4444 });
        D ("p/q"); F ("p/q/x", "x"); F ("p/q/y", "y"));
  struct tarb *t = tb_new (false);
  F ("p/q/.wh.x", "");
  xok (T "/l2", t, (struct xopts){ .lowers = { T "/l1" } });
  struct stat st = st_of (T "/l2/p");
  cr_assert_eq (st.st_mode & 07777, 0710);
  cr_assert_eq (st.st_uid, 9);
  cr_assert_eq (st.st_mtime, 4444);
  cr_assert (is_wh (T "/l2/p/q/x"));
  overlay (T "/l2:" T "/l1");
  cr_assert_str_eq (names (MNT "/p/q"), "y");
  cr_assert_eq (st_of (MNT "/p").st_mode & 07777, 0710);
}

/* Three layers: whiteouts and opaque dirs of the middle layer are honoured when looking below.  */
Test (extract, three_layers)
{
  BASE (D ("d"); F ("d/a", "a"); F ("d/b", "b"); D ("e"); F ("e/x", "x"));
  struct tarb *t = tb_new (false);
  F ("d/.wh.a", "");
  D ("e");
  F ("e/.wh..wh..opq", "");
  xok (T "/l2", t, (struct xopts){ .lowers = { T "/l1" } });
  t = tb_new (false);
  F ("d/.wh.a", "");  /* already hidden by l2: nothing to do */
  F ("d/.wh.b", "");
  F ("e/.wh.x", "");  /* hidden by l2's opaque e: nothing to do */
  xok (T "/l3", t, (struct xopts){ .lowers = { T "/l2", T "/l1" } });
  cr_assert (!exists (T "/l3/d/a"));
  cr_assert (is_wh (T "/l3/d/b"));
  cr_assert (!exists (T "/l3/e"));
  overlay (T "/l3:" T "/l2:" T "/l1");
  cr_assert_str_eq (names (MNT "/d"), "");
  cr_assert_str_eq (names (MNT "/e"), "");
}

/* Whiteouts and opaque markers whose parent is a symlink of a lower layer land where it points.  */
Test (extract, whiteout_through_lower_symlink)
{
  BASE (D ("usr"); D ("usr/lib"); F ("usr/lib/a", "a"); F ("usr/lib/b", "b"); D ("usr/lib64"); F ("usr/lib64/c", "c");
        L ("lib", "usr/lib"); L ("lib64", "/usr/lib64"));
  struct tarb *t = tb_new (false);
  F ("lib/.wh.a", "");
  F ("lib64/.wh..wh..opq", "");
  xok (T "/l2", t, (struct xopts){ .lowers = { T "/l1" } });
  cr_assert (is_wh (T "/l2/usr/lib/a"));
  cr_assert (opaque (T "/l2/usr/lib64"));
  cr_assert (!exists (T "/l2/lib"));
  overlay (T "/l2:" T "/l1");
  cr_assert_str_eq (names (MNT "/usr/lib"), "b");
  cr_assert_str_eq (names (MNT "/lib/"), "b");
  cr_assert_str_eq (names (MNT "/usr/lib64"), "");
}

/* A whiteout of a directory this layer made only to hold whiteouts turns it into the whiteout.  */
Test (extract, whiteout_of_whiteout_holder)
{
  BASE (D ("d"); D ("d/sub"); F ("d/sub/x", "x"); F ("d/sub/y", "y"); F ("d/keep", "k"));
  struct tarb *t = tb_new (false);
  F ("d/sub/.wh.x", "");
  F ("d/.wh.sub", "");
  xok (T "/l2", t, (struct xopts){ .lowers = { T "/l1" } });
  cr_assert (is_wh (T "/l2/d/sub"));
  overlay (T "/l2:" T "/l1");
  cr_assert_str_eq (names (MNT "/d"), "keep");
}

/* A root opaque marker repeated is applied once; aufs metadata names are skipped.  */
Test (extract, repeated_root_opaque_and_aufs_meta)
{
  BASE (F ("a", "a"); D ("b"); F ("b/x", "x"));
  struct tarb *t = tb_new (false);
  F (".wh..wh..opq", "");
  D ("b");
  F ("b/new", "n");
  F (".wh..wh..opq", "");
  F (".wh..wh..opq", "");
  F (".wh..wh.aufs", "");
  F ("b/.wh..wh.plnk", "");
  xok (T "/l2", t, (struct xopts){ .lowers = { T "/l1" } });
  cr_assert_eq (last_stats.whiteouts, 2);
  cr_assert_eq (last_stats.skipped, 2);
  cr_assert (opaque (T "/l2/b"));
  overlay (T "/l2:" T "/l1");
  cr_assert_str_eq (names (MNT), "b");
  cr_assert_str_eq (names (MNT "/b"), "new");
}

/* PAX names are UTF-8 and arrive as they are, whatever the process locale.  */
Test (extract, pax_utf8_names)
{
  struct tarb *t = raw_new ();
  raw_pax (t, "path", "caf\xc3\xa9/\xc3\xbc" "ber");
  raw_entry (t, "ascii-fallback", '0', NULL, "u", 1, 0644);
  raw_pax (t, "path", "bin\xff\xfe");
  raw_entry (t, "other", '0', NULL, "b", 1, 0644);
  raw_end (t);
  xok (T "/l1", t, (struct xopts){ 0 });
  cr_assert_str_eq (content (T "/l1/caf\xc3\xa9/\xc3\xbc" "ber"), "u");
  cr_assert (!exists (T "/l1/ascii-fallback"));
  /* invalid UTF-8: libarchive warns and keeps the bytes */
  cr_assert_str_eq (content (T "/l1/bin\xff\xfe"), "b");
  cr_assert_str_eq (names (T "/l1"), "bin\xff\xfe caf\xc3\xa9");
}

/* A hard link over an existing file replaces it.  */
Test (extract, hardlink_replaces_file)
{
  struct tarb *t = tb_new (false);
  F ("a", "1");
  F ("b", "2");
  H ("b", "a");
  xok (T "/l1", t, (struct xopts){ 0 });
  cr_assert_str_eq (content (T "/l1/b"), "1");
  cr_assert_eq (st_of (T "/l1/b").st_ino, st_of (T "/l1/a").st_ino);
}

/* ---- parents and symlinks in lower layers ---------------------------------------------------- */

/* IMAGES.md §2.4 `pt`: a parent the tar does not list takes the lower's attributes.  */
Test (extract, parent_attributes_from_lower)
{
  mkd (T "/l1", 0755);
  mkd (T "/l1/p", 0700);
  cr_assert_eq (chown (T "/l1/p", 1234, 1234), 0);
  cr_assert_eq (setxattr (T "/l1/p", "user.tag", "t", 1, 0), 0);
  cr_assert_eq (setxattr (T "/l1/p", "trusted.overlay.opaque", "y", 1, 0), 0);
  put (T "/l1/p/old", "o", 0644);
  struct timespec ts[2] = { { 100, 0 }, { 200, 0 } };
  cr_assert_eq (utimensat (AT_FDCWD, T "/l1/p", ts, 0), 0);
  struct tarb *t = tb_new (false);
  F ("p/f", "new");
  xok (T "/l2", t, (struct xopts){ .lowers = { T "/l1" } });
  struct stat st = st_of (T "/l2/p");
  cr_assert_eq (st.st_mode & 07777, 0700);
  cr_assert_eq (st.st_uid, 1234);
  cr_assert_eq (st.st_gid, 1234);
  cr_assert_eq (st.st_mtime, 200);
  cr_assert_str_eq (xattr (T "/l2/p", "user.tag"), "t");
  cr_assert (!opaque (T "/l2/p"), "overlay's own xattrs are not copied");
  mkd (T "/l0", 0755);
  overlay (T "/l2:" T "/l1:" T "/l0");
  st = st_of (MNT "/p");
  cr_assert_eq (st.st_mode & 07777, 0700, "merged p mode %o", st.st_mode & 07777);
  cr_assert_eq (st.st_uid, 1234);
  cr_assert_str_eq (names (MNT "/p"), "f old");
}

/* A parent no lower has: 0755 root:root, whatever the umask or a setgid grandparent.  */
Test (extract, parent_default_attributes)
{
  struct tarb *t = tb_new (false);
  tb_add (t, (struct ent){ .path = "g", .type = 'd', .mode = 02770, .gid = 77 });
  F ("g/q/f", "x");
  umask (077);
  xok (T "/l1", t, (struct xopts){ 0 });
  struct stat st = st_of (T "/l1/g/q");
  cr_assert_eq (st.st_mode & 07777, 0755, "mode %o", st.st_mode & 07777);
  cr_assert_eq (st.st_gid, 0);
  cr_assert_eq (st_of (T "/l1/g/q/f").st_mode & 07777, 0644, "modes are exact, not umasked");
}

/* IMAGES.md §2.4 `pt2`: `lib -> usr/lib` in a lower: `lib/foo` lands in usr/lib/foo; an explicit
 * `lib/` directory entry replaces the symlink.  */
Test (extract, dir_over_symlink_policy)
{
  BASE (D ("usr"); D ("usr/lib"); F ("usr/lib/ld.so", "ld"); L ("lib", "usr/lib"); L ("lib64", "/usr/lib"));
  struct tarb *t = tb_new (false);
  F ("lib/foo", "foo");
  F ("lib64/bar", "bar");
  xok (T "/l2", t, (struct xopts){ .lowers = { T "/l1" } });
  cr_assert (!exists (T "/l2/lib"));
  cr_assert (!exists (T "/l2/lib64"));
  cr_assert_str_eq (content (T "/l2/usr/lib/foo"), "foo");
  cr_assert_str_eq (content (T "/l2/usr/lib/bar"), "bar");
  overlay (T "/l2:" T "/l1");
  cr_assert (S_ISLNK (st_of (MNT "/lib").st_mode));
  cr_assert_str_eq (names (MNT "/lib/"), "bar foo ld.so");
  umount2 (MNT, MNT_DETACH);

  t = tb_new (false);
  D ("lib");
  F ("lib/baz", "baz");
  xok (T "/l3", t, (struct xopts){ .lowers = { T "/l2", T "/l1" } });
  cr_assert (S_ISDIR (st_of (T "/l3/lib").st_mode));
  overlay (T "/l3:" T "/l2:" T "/l1");
  cr_assert (S_ISDIR (st_of (MNT "/lib").st_mode));
  cr_assert_str_eq (names (MNT "/lib"), "baz");
  cr_assert_str_eq (names (MNT "/usr/lib"), "bar foo ld.so");
}

/* ---- hostile names (T01-T04, T09) ------------------------------------------------------------ */

Test (extract, t01_dotdot_names_clamped)
{
  struct tarb *t = tb_new (false);
  F ("../victim/keep", "evil1");
  F ("../../../../../tmp/t/victim/x", "evil2");
  F ("a/../../victim/y", "evil3");
  F ("./../b/./c/..//d", "evil4");
  xok (T "/l1", t, (struct xopts){ 0 });
  check_victim ();
  cr_assert_str_eq (content (T "/l1/victim/keep"), "evil1");
  cr_assert_str_eq (content (T "/l1/tmp/t/victim/x"), "evil2");
  cr_assert_str_eq (content (T "/l1/victim/y"), "evil3");
  cr_assert_str_eq (content (T "/l1/b/d"), "evil4");
}

Test (extract, t02_absolute_names)
{
  struct tarb *t = tb_new (false);
  F ("/abs/x", "x");
  F ("/tmp/t/victim/keep", "evil");
  F ("//double//slash", "d");
  xok (T "/l1", t, (struct xopts){ 0 });
  check_victim ();
  cr_assert_str_eq (content (T "/l1/abs/x"), "x");
  cr_assert_str_eq (content (T "/l1/tmp/t/victim/keep"), "evil");
  cr_assert_str_eq (content (T "/l1/double/slash"), "d");
}

/* T03 (CVE-2021-29136), T09: an entry for the root that is not a directory is refused.  */
Test (extract, t03_root_type_change_refused)
{
  static const char *const names_[] = { ".", "/", "./", "..", "../..", "", "a/..", "./.." };
  for (size_t i = 0; i < ARRAY_SIZE (names_); i++)
    {
      char layer[64];
      snprintf (layer, sizeof layer, T "/s%zu", i);
      struct tarb *t = raw_new ();
      raw_entry (t, names_[i], '2', VICTIM, NULL, 0, 0777);
      raw_end (t);
      xfail (layer, t, (struct xopts){ 0 }, "refusing to change the type of the root directory");
      cr_assert (S_ISDIR (st_of (layer).st_mode));
      snprintf (layer, sizeof layer, T "/f%zu", i);
      t = raw_new ();
      /* (a regular file whose name ends in '/' is an old-style directory to libarchive) */
      if (i % 2 || (names_[i][0] && names_[i][strlen (names_[i]) - 1] == '/'))
        raw_entry (t, names_[i], '6', NULL, NULL, 0, 0644);
      else
        raw_entry (t, names_[i], '0', NULL, "x", 1, 0644);
      raw_end (t);
      xfail (layer, t, (struct xopts){ 0 }, "refusing to change the type of the root directory");
      cr_assert (S_ISDIR (st_of (layer).st_mode));
    }
  struct tarb *t = tb_new (false);
  H (".", "f");
  xfail (T "/h", t, (struct xopts){ 0 }, "refusing to replace the root directory");
  check_victim ();
}

/* T04: long names through PAX and GNU longlink (with ".." in them), and names past the limit.  */
Test (extract, t04_long_names)
{
  char longname[600];
  strcpy (longname, "../../");
  for (int i = 0; i < 5; i++)
    strcat (longname, "a-rather-long-directory-name-of-some-length-0123456789-abcdefghijklmnopqrstuvwxyz/");
  strcat (longname, "file");
  struct tarb *t = tb_new (false);
  F (longname, "pax");
  tb_add (t, (struct ent){ .path = "short", .type = 'l', .link = longname });
  xok (T "/l1", t, (struct xopts){ 0 });
  char p[800];
  snprintf (p, sizeof p, T "/l1/%s", longname + 6);
  cr_assert_str_eq (content (p), "pax");
  cr_assert_str_eq (linkof (T "/l1/short"), longname);

  t = tb_new (true);
  F (longname, "gnu");
  xok (T "/l2", t, (struct xopts){ 0 });
  snprintf (p, sizeof p, T "/l2/%s", longname + 6);
  cr_assert_str_eq (content (p), "gnu");

  char *huge = xmalloc (5000);
  memset (huge, 'a', 4999);
  for (int i = 100; i < 4999; i += 100)
    huge[i] = '/';
  huge[4999] = '\0';
  t = tb_new (false);
  F (huge, "x");
  xfail (T "/l3", t, (struct xopts){ 0 }, "name longer than 4096 bytes");
  t = tb_new (false);
  tb_add (t, (struct ent){ .path = "l", .type = 'l', .link = huge });
  xfail (T "/l4", t, (struct xopts){ 0 }, "symlink target longer than 4096 bytes");
  free (huge);
  check_victim ();
}

/* ---- symlinks (T05-T08) ---------------------------------------------------------------------- */

Test (extract, t05_symlink_escape_same_layer)
{
  struct tarb *t = tb_new (false);
  L ("esc", VICTIM);
  F ("esc/x", "abs");
  L ("rel", "../victim");
  F ("rel/y", "rel");
  L ("deep/er/link", "../../../../../../victim");
  F ("deep/er/link/z", "deep");
  F ("esc/keep", "overwrite?");
  L ("host", T);   /* an ancestor of the victim: the parent "host/victim" has the link inside */
  F ("host/victim/a", "a");
  L ("up", "..");
  F ("up/victim/b", "b");
  xok (T "/l1", t, (struct xopts){ 0 });
  check_victim ();
  cr_assert_str_eq (content (T "/l1/tmp/t/victim/a"), "a");
  cr_assert_str_eq (content (T "/l1/victim/b"), "b");
  cr_assert_str_eq (content (T "/l1/tmp/t/victim/x"), "abs");
  cr_assert_str_eq (content (T "/l1/tmp/t/victim/keep"), "overwrite?");
  cr_assert_str_eq (content (T "/l1/victim/y"), "rel");
  cr_assert_str_eq (content (T "/l1/victim/z"), "deep");
  cr_assert (S_ISLNK (st_of (T "/l1/esc").st_mode));
}

Test (extract, t06_symlink_chains_and_loops)
{
  struct tarb *t = tb_new (false);
  D ("etc");
  L ("a", "/dummy/../etc");
  L ("b", "a");
  L ("c", "./b/.");
  F ("c/passwd", "root:x:0:0");
  xok (T "/l1", t, (struct xopts){ 0 });
  cr_assert_str_eq (content (T "/l1/etc/passwd"), "root:x:0:0");
  cr_assert (!exists (T "/l1/dummy"), "'..' after a missing dir is lexical");

  t = tb_new (false);
  L ("l1", "l2");
  L ("l2", "l1");
  F ("l1/x", "x");
  xfail (T "/l2", t, (struct xopts){ 0 }, "too many levels of symbolic links");
  t = tb_new (false);
  L ("self", "self/sub");
  F ("self/x", "x");
  xfail (T "/l3", t, (struct xopts){ 0 }, "");
  check_victim ();
}

/* T07: a symlink of a lower layer is followed inside the root (a flat tar escapes, measured).  */
Test (extract, t07_symlink_escape_via_lower)
{
  mkd (T "/l1", 0755);
  cr_assert_eq (symlink (VICTIM, T "/l1/esc"), 0);
  cr_assert_eq (symlink ("../victim", T "/l1/rel"), 0);
  cr_assert_eq (symlink ("../../../../..", T "/l1/up"), 0);
  cr_assert_eq (symlink (T, T "/l1/host"), 0);
  cr_assert_eq (symlink ("..", T "/l1/dotdot"), 0);
  struct tarb *t = tb_new (false);
  F ("host/victim/a", "a");
  F ("dotdot/victim/b", "b");
  F ("esc/x", "abs");
  F ("rel/keep", "rel");
  F ("up/tmp/t/victim/y", "up");
  xok (T "/l2", t, (struct xopts){ .lowers = { T "/l1" } });
  check_victim ();
  cr_assert_str_eq (content (T "/l2/tmp/t/victim/x"), "abs");
  cr_assert_str_eq (content (T "/l2/victim/keep"), "rel");
  cr_assert_str_eq (content (T "/l2/tmp/t/victim/y"), "up");
  cr_assert (!exists (T "/l2/esc"));
}

/* T08, CVE-2025-47290: a directory replaced by a symlink in the same layer, then written through.  */
Test (extract, t08_dir_replaced_by_symlink)
{
  struct tarb *t = tb_new (false);
  D ("d");
  F ("d/a", "a");
  L ("d", VICTIM);
  F ("d/x", "x");
  F ("d/keep", "k");
  xok (T "/l1", t, (struct xopts){ 0 });
  check_victim ();
  cr_assert (S_ISLNK (st_of (T "/l1/d").st_mode));
  cr_assert_str_eq (content (T "/l1/tmp/t/victim/x"), "x");
  cr_assert_str_eq (content (T "/l1/tmp/t/victim/keep"), "k");
}

/* ---- hard links (T10-T14) -------------------------------------------------------------------- */

Test (extract, t10_hardlink_targets_in_root)
{
  struct tarb *t = tb_new (false);
  F ("etc/shadow", "secret");
  H ("h1", "/etc/shadow");
  H ("a/b/h2", "../../etc/shadow");
  H ("h3", "../../../../etc//./shadow");
  xok (T "/l1", t, (struct xopts){ 0 });
  ino_t ino = st_of (T "/l1/etc/shadow").st_ino;
  cr_assert_eq (st_of (T "/l1/h1").st_ino, ino);
  cr_assert_eq (st_of (T "/l1/a/b/h2").st_ino, ino);
  cr_assert_eq (st_of (T "/l1/h3").st_ino, ino);
  cr_assert_eq (st_of (T "/l1/etc/shadow").st_nlink, 4);

  t = tb_new (false);
  H ("outside", VICTIM "/keep");
  xfail (T "/l2", t, (struct xopts){ 0 }, "not found");
  t = tb_new (false);
  H ("outside", "../victim/keep");
  xfail (T "/l3", t, (struct xopts){ 0 }, "not found");
  check_victim ();
}

/* T11, CVE-2021-32760: a hard link to a symlink links the symlink; no chmod goes through it.  */
Test (extract, t11_hardlink_to_symlink_no_chmod)
{
  struct tarb *t = tb_new (false);
  L ("s", VICTIM "/keep");
  L ("r", "../victim/keep");
  tb_add (t, (struct ent){ .path = "h", .type = 'h', .link = "s", .mode = 04777, .uid = 1000 });
  tb_add (t, (struct ent){ .path = "h2", .type = 'h', .link = "r", .mode = 04777, .uid = 1000 });
  xok (T "/l1", t, (struct xopts){ 0 });
  check_victim ();
  struct stat st = st_of (T "/l1/h");
  cr_assert (S_ISLNK (st.st_mode));
  cr_assert_eq (st.st_ino, st_of (T "/l1/s").st_ino);
  cr_assert_eq (st.st_uid, 0);
  cr_assert (S_ISLNK (st_of (T "/l1/h2").st_mode));
}

/* T12: a hard link through a symlinked parent is resolved in the root.  */
Test (extract, t12_hardlink_through_symlinked_parent)
{
  struct tarb *t = tb_new (false);
  L ("d", VICTIM);
  H ("x", "d/keep");
  xfail (T "/l1", t, (struct xopts){ 0 }, "hard link target 'd/keep' not found");
  check_victim ();
  cr_assert (!exists (T "/l1/tmp"), "looking for a link target makes no directories");

  t = tb_new (false);
  L ("d", VICTIM);
  F ("f", "mine");
  H ("d/secret", "f");
  F ("tmp/t/victim/keep", "in root");
  H ("y", "d/keep");
  xok (T "/l2", t, (struct xopts){ 0 });
  check_victim ();
  cr_assert_eq (st_of (T "/l2/tmp/t/victim/secret").st_ino, st_of (T "/l2/f").st_ino);
  cr_assert_eq (st_of (T "/l2/y").st_ino, st_of (T "/l2/tmp/t/victim/keep").st_ino);
}

/* T13, libarchive #746: a hard link entry carrying data never writes it.  */
Test (extract, t13_hardlink_with_data)
{
  /* PAX: the size record makes the data part of the entry */
  struct tarb *t = raw_new ();
  raw_entry (t, "f", '0', NULL, "orig", 4, 0644);
  raw_pax (t, "size", "5");
  raw_entry (t, "h", '1', "f", "EVIL!", 5, 0644);
  raw_entry (t, "g", '0', NULL, "next", 4, 0644);
  raw_pax (t, "size", "5");
  raw_entry (t, "v", '1', "../victim/keep", "EVIL!", 5, 0644);
  raw_end (t);
  xfail (T "/l1", t, (struct xopts){ 0 }, "entry 'v': hard link target 'victim/keep' not found");
  check_victim ();
  cr_assert_str_eq (content (T "/l1/f"), "orig");
  cr_assert_eq (st_of (T "/l1/h").st_ino, st_of (T "/l1/f").st_ino);
  cr_assert_str_eq (content (T "/l1/g"), "next", "the data was skipped, not taken for the next header");
  cr_assert (!exists (T "/l1/v"));

  /* ustar: libarchive takes a link's data for the next header: a damaged archive, nothing written */
  t = raw_new ();
  raw_entry (t, "f", '0', NULL, "orig", 4, 0644);
  raw_entry (t, "h", '1', "f", "EVIL!", 5, 0644);
  raw_end (t);
  xfail (T "/l2", t, (struct xopts){ 0 }, "layer sha256:abc: entry 3: ");
  cr_assert_str_eq (content (T "/l2/f"), "orig");
  check_victim ();
}

/* T14: hard link to itself, to a directory, and to a file only a lower layer has (copied up).  */
Test (extract, t14_hardlink_self_dir_lower)
{
  struct tarb *t = tb_new (false);
  F ("f", "keep me");
  H ("f", "f");
  H ("./f", "/f");
  xok (T "/l1", t, (struct xopts){ 0 });
  cr_assert_str_eq (content (T "/l1/f"), "keep me", "libarchive #661: a link to itself deletes nothing");

  t = tb_new (false);
  D ("dir");
  H ("h", "dir");
  xfail (T "/l2", t, (struct xopts){ 0 }, "hard link to the directory 'dir'");

  mkd (T "/low", 0755);
  mkd (T "/low/bin", 0755);
  put (T "/low/bin/busybox", "BUSYBOX", 04751);
  cr_assert_eq (chown (T "/low/bin/busybox", 7, 8), 0);
  cr_assert_eq (chmod (T "/low/bin/busybox", 04751), 0);
  cr_assert_eq (setxattr (T "/low/bin/busybox", "user.x", "v", 1, 0), 0);
  struct timespec ts[2] = { { 50, 0 }, { 60, 0 } };
  cr_assert_eq (utimensat (AT_FDCWD, T "/low/bin/busybox", ts, 0), 0);
  cr_assert_eq (symlink ("busybox", T "/low/bin/sh-link"), 0);
  t = tb_new (false);
  H ("bin/sh", "bin/busybox");
  H ("usr/bin/ls", "/bin/busybox");
  H ("sl", "bin/sh-link");
  xok (T "/up", t, (struct xopts){ .lowers = { T "/low" } });
  struct stat st = st_of (T "/up/bin/busybox");
  cr_assert_str_eq (content (T "/up/bin/busybox"), "BUSYBOX");
  cr_assert_eq (st.st_mode & 07777, 04751);
  cr_assert_eq (st.st_uid, 7);
  cr_assert_eq (st.st_gid, 8);
  cr_assert_eq (st.st_mtime, 60);
  cr_assert_str_eq (xattr (T "/up/bin/busybox", "user.x"), "v");
  cr_assert_eq (st.st_nlink, 3);
  cr_assert_eq (st_of (T "/up/bin/sh").st_ino, st.st_ino);
  cr_assert_eq (st_of (T "/up/usr/bin/ls").st_ino, st.st_ino);
  cr_assert_eq (st_of (T "/low/bin/busybox").st_nlink, 1, "the lower file is not linked");
  cr_assert_str_eq (linkof (T "/up/sl"), "busybox");
  cr_assert_eq (st_of (T "/up/sl").st_ino, st_of (T "/up/bin/sh-link").st_ino);

  t = tb_new (false);
  H ("x", "nothere");
  xfail (T "/l3", t, (struct xopts){ .lowers = { T "/low" } }, "hard link target 'nothere' not found");
  check_victim ();
}

/* A hard link to a whited-out lower file is not found.  */
Test (extract, hardlink_to_whited_out)
{
  BASE (F ("f", "f"));
  struct tarb *t = tb_new (false);
  F (".wh.f", "");
  H ("g", "f");
  xfail (T "/l2", t, (struct xopts){ .lowers = { T "/l1" } }, "hard link target 'f' not found");
}

/* ---- hostile whiteouts (T15-T17, T21) -------------------------------------------------------- */

Test (extract, t15_t16_invalid_whiteouts)
{
  static const char *const bad[] = { ".wh..", ".wh...", "etc/.wh..", "etc/.wh...", ".wh.", "etc/.wh." };
  BASE (D ("etc"); F ("etc/passwd", "p"));
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      char layer[64], want[128];
      snprintf (layer, sizeof layer, T "/w%zu", i);
      snprintf (want, sizeof want, "layer sha256:abc: entry '%s': invalid whiteout", bad[i]);
      struct tarb *t = tb_new (false);
      F (bad[i], "");
      xfail (layer, t, (struct xopts){ .lowers = { T "/l1" } }, want);
      cr_assert (S_ISDIR (st_of (layer).st_mode));
    }
  cr_assert_str_eq (content (T "/l1/etc/passwd"), "p");
  check_victim ();
}

/* T17: whiteouts and opaque markers through a symlink to a host path stay in the root.  */
Test (extract, t17_whiteout_through_symlink)
{
  mkd (T "/l1", 0755);
  cr_assert_eq (symlink (VICTIM, T "/l1/link"), 0);
  cr_assert_eq (symlink ("../victim", T "/l1/rel"), 0);
  struct tarb *t = tb_new (false);
  F ("link/.wh.keep", "");
  F ("link/.wh..wh..opq", "");
  F ("rel/.wh.keep", "");
  F ("rel/.wh..wh..opq", "");
  L ("same", VICTIM);
  F ("same/.wh.keep", "");
  F ("same/.wh..wh..opq", "");
  xok (T "/l2", t, (struct xopts){ .lowers = { T "/l1" } });
  check_victim ();
  cr_assert (!exists (T "/l2/tmp"), "nothing to hide there: no dirs made");
  cr_assert (!exists (T "/l2/victim"));

  /* where the lower does have the path inside the root, that is what gets hidden */
  mkd (T "/l1/victim", 0755);
  put (T "/l1/victim/keep", "in root", 0644);
  t = tb_new (false);
  F ("rel/.wh.keep", "");
  xok (T "/l3", t, (struct xopts){ .lowers = { T "/l1" } });
  check_victim ();
  cr_assert (is_wh (T "/l3/victim/keep"));
}

/* T21: overlay xattrs in the tar are escaped, a 0:0 char device is skipped.  */
Test (extract, t21_overlay_forgery)
{
  BASE (D ("d"); F ("d/x", "x"); F ("f", "f"));
  struct tarb *t = tb_new (false);
  tb_add (t, (struct ent){ .path = "d", .type = 'd',
                           .xn = { "trusted.overlay.opaque", "user.overlay.opaque", "trusted.overlay.redirect" },
                           .xv = { "y", "y", "/etc" } });
  tb_add (t, (struct ent){ .path = "f", .type = 'c', .maj = 0, .min = 0 });
  tb_add (t, (struct ent){ .path = "g", .type = 'c', .maj = 0, .min = 0 });
  xok (T "/l2", t, (struct xopts){ .lowers = { T "/l1" }, .allow_devices = true });
  cr_assert (!opaque (T "/l2/d"));
  cr_assert_null (xattr (T "/l2/d", "user.overlay.opaque"));
  cr_assert_null (xattr (T "/l2/d", "trusted.overlay.redirect"));
  cr_assert_str_eq (xattr (T "/l2/d", "trusted.overlay.overlay.opaque"), "y");
  cr_assert_str_eq (xattr (T "/l2/d", "user.overlay.overlay.opaque"), "y");
  cr_assert_str_eq (xattr (T "/l2/d", "trusted.overlay.overlay.redirect"), "/etc");
  cr_assert (!exists (T "/l2/f"));
  cr_assert (!exists (T "/l2/g"));
  cr_assert_eq (last_stats.skipped, 2);
  overlay (T "/l2:" T "/l1");
  cr_assert_str_eq (names (MNT "/d"), "x");
  cr_assert_str_eq (content (MNT "/f"), "f");
}

/* The xattr namespace of overlay metadata follows xattr_prefix ("user" for userxattr mounts).  */
Test (extract, user_xattr_prefix)
{
  BASE (D ("d"); F ("d/x", "x"); D ("e"); F ("e/y", "y"));
  struct tarb *t = tb_new (false);
  D ("d");
  F ("d/.wh..wh..opq", "");
  F (".wh.e", "");
  F ("e/z", "z");
  xok (T "/l2", t, (struct xopts){ .lowers = { T "/l1" }, .xattr_prefix = "user" });
  cr_assert_str_eq (xattr (T "/l2/d", "user.overlay.opaque"), "y");
  cr_assert_str_eq (xattr (T "/l2/e", "user.overlay.opaque"), "y");
  cr_assert (!opaque (T "/l2/d"));
  cr_assert_eq (mount ("overlay", MNT, "overlay", MS_RDONLY, "userxattr,lowerdir=" T "/l2:" T "/l1"), 0,
                "mount: %s", strerror (errno));
  cr_assert_str_eq (names (MNT "/d"), "");
  cr_assert_str_eq (names (MNT "/e"), "z");
}

/* ---- modes and special files (T24-T26) ------------------------------------------------------- */

/* T25: owners and modes never go through a symlink; a fifo is never opened (it would block).  */
Test (extract, t25_attrs_never_follow, .timeout = 20)
{
  struct tarb *t = tb_new (false);
  tb_add (t, (struct ent){ .path = "l", .type = 'l', .link = VICTIM "/keep", .uid = 4242, .gid = 4242 });
  tb_add (t, (struct ent){ .path = "r", .type = 'l', .link = "../victim/keep", .uid = 4242, .mode = 0777 });
  tb_add (t, (struct ent){ .path = "fifo", .type = 'p', .mode = 04741, .uid = 3 });
  tb_add (t, (struct ent){ .path = "null", .type = 'c', .maj = 1, .min = 3, .mode = 0600, .uid = 3 });
  xok (T "/l1", t, (struct xopts){ .allow_devices = true });
  check_victim ();
  cr_assert_eq (st_of (T "/l1/l").st_uid, 4242);
  cr_assert_eq (st_of (T "/l1/r").st_uid, 4242);
  struct stat st = st_of (T "/l1/fifo");
  cr_assert_eq (st.st_mode & 07777, 04741);
  cr_assert_eq (st.st_uid, 3);
  cr_assert_eq (st_of (T "/l1/null").st_mode & 07777, 0600);
}

/* A later entry replaces an earlier one of another type (never mutating it in place).  */
Test (extract, replace_existing_entries)
{
  struct tarb *t = tb_new (false);
  D ("d");
  F ("d/x", "x");
  D ("d/sub");
  F ("d", "file now");
  F ("f", "1");
  L ("f", "target");
  F ("l", "");
  L ("l", "a");
  L ("l", "b");
  D ("e");
  tb_add (t, (struct ent){ .path = "e", .type = 'd', .mode = 0700, .uid = 5 });
  F ("p", "x");
  tb_add (t, (struct ent){ .path = "p", .type = 'p' });
  xok (T "/l1", t, (struct xopts){ 0 });
  cr_assert_str_eq (content (T "/l1/d"), "file now");
  cr_assert_str_eq (linkof (T "/l1/f"), "target");
  cr_assert_str_eq (linkof (T "/l1/l"), "b");
  struct stat st = st_of (T "/l1/e");
  cr_assert_eq (st.st_mode & 07777, 0700);
  cr_assert_eq (st.st_uid, 5);
  cr_assert (S_ISFIFO (st_of (T "/l1/p").st_mode));
}

/* A file over a lower directory hides it; a directory over a lower file is not merged.  */
Test (extract, type_changes_over_lower)
{
  BASE (D ("d"); F ("d/x", "x"); F ("f", "f"));
  struct tarb *t = tb_new (false);
  F ("d", "file");
  D ("f");
  F ("f/y", "y");
  xok (T "/l2", t, (struct xopts){ .lowers = { T "/l1" } });
  overlay (T "/l2:" T "/l1");
  cr_assert_str_eq (content (MNT "/d"), "file");
  cr_assert_str_eq (names (MNT "/f"), "y");
}

/* ---- limits (T27, T28) ----------------------------------------------------------------------- */

Test (extract, t27_limits)
{
  struct tarb *t = tb_new (false);
  F ("a", "1");
  F ("b", "2");
  F ("c", "3");
  F ("d", "4");
  xfail (T "/l1", t, (struct xopts){ .limits = { .max_entries = 3 } }, "more than 3 entries");
  cr_assert (!exists (T "/l1/d"));

  t = tb_new (false);
  F ("a", "123456");
  F ("b", "123456");
  xfail (T "/l2", t, (struct xopts){ .limits = { .max_file_bytes = 10 } }, "entry 'b': files exceed 10 bytes");
  cr_assert (!exists (T "/l2/b"));

  t = tb_new (false);
  F ("a/b/c/d", "x");
  F ("a/b/c/d/e", "x");
  xfail (T "/l3", t, (struct xopts){ .limits = { .max_depth = 4 } }, "name deeper than 4 levels");

  t = tb_new (false);
  F ("0123456789", "x");
  F ("0123456789a", "x");
  xfail (T "/l4", t, (struct xopts){ .limits = { .max_name = 10 } }, "name longer than 10 bytes");

  /* a symlink cannot build a path deeper than the limit */
  t = tb_new (false);
  L ("l", "a/b/c/d/e/f/g");
  F ("l/x", "x");
  xfail (T "/l5", t, (struct xopts){ .limits = { .max_depth = 4 } }, "more than 4 levels");
  check_victim ();
}

/* T28: depth-2000 names are refused by the default limit.  */
Test (extract, t28_deep_and_huge_pax)
{
  char *deep = xmalloc (4000);
  deep[0] = '\0';
  for (int i = 0; i < 300; i++)
    strcat (deep, "d/");
  strcat (deep, "f");
  struct tarb *t = tb_new (false);
  F (deep, "x");
  xfail (T "/l1", t, (struct xopts){ 0 }, "deeper than 256 levels");
  free (deep);

  /* a 2 MB PAX record (libarchive refuses records over 1 MB: the attribute is ignored) */
  size_t big = 2 * 1024 * 1024;
  char *val = xmalloc (big + 1);
  memset (val, 'v', big);
  val[big] = '\0';
  t = tb_new (false);
  tb_add (t, (struct ent){ .path = "f", .type = 'f', .data = "x", .xn = { "user.big" }, .xv = { val } });
  struct husk_err err;
  int r = xtract (T "/l2", t, (struct xopts){ 0 }, &err);
  if (r == 0)
    cr_assert_null (xattr (T "/l2/f", "user.big"));
  free (val);
}

/* T22: many opaque directories and whiteouts take time proportional to their number.  */
Test (extract, t22_bounded_time, .timeout = 120)
{
  mkd (T "/l1", 0755);
  char p[128];
  for (int i = 0; i < 2000; i++)
    {
      snprintf (p, sizeof p, T "/l1/d%d", i);
      mkd (p, 0755);
      for (int j = 0; j < 5; j++)
        {
          snprintf (p, sizeof p, T "/l1/d%d/f%d", i, j);
          put (p, "x", 0644);
        }
    }
  mkd (T "/l1/many", 0755);
  for (int i = 0; i < 20000; i++)
    {
      snprintf (p, sizeof p, T "/l1/many/f%d", i);
      put (p, "", 0644);
    }
  struct tarb *t = tb_new (false);
  for (int i = 0; i < 2000; i++)
    {
      for (int j = 0; j < 5; j++)
        {
          snprintf (p, sizeof p, "d%d/.wh.f%d", i, j);
          F (p, "");
        }
      snprintf (p, sizeof p, "d%d/.wh..wh..opq", i);
      F (p, "");
    }
  for (int i = 0; i < 20000; i++)
    {
      snprintf (p, sizeof p, "many/.wh.f%d", i);
      F (p, "");
    }
  F ("many/.wh..wh..opq", "");
  struct timespec a, b;
  clock_gettime (CLOCK_MONOTONIC, &a);
  xok (T "/l2", t, (struct xopts){ .lowers = { T "/l1" } });
  clock_gettime (CLOCK_MONOTONIC, &b);
  double secs = (double) (b.tv_sec - a.tv_sec) + (double) (b.tv_nsec - a.tv_nsec) / 1e9;
  cr_log_info ("t22: 42000 entries in %.2f s", secs);
  cr_assert_lt (secs, 15.0, "took %.2f s", secs);
  cr_assert_eq (last_stats.opaques, 2001);
  cr_assert_eq (last_stats.whiteouts, 30000);
  cr_assert_str_eq (names (T "/l2/d1999"), "");
  cr_assert_str_eq (names (T "/l2/many"), "");
  cr_assert (opaque (T "/l2/many"));
}

/* A real layer from regclient's test data (tests/fixtures/oci): `.wh.layer2.txt` and an opaque
 * `exdir/` (by bmitch, uid 501 in the tar).  */
Test (extract, fixture_regclient_whiteouts)
{
  size_t len;
  struct husk_err err;
  cr_assert_geq (fixtures_fd, 0, "open %s/../tests/fixtures/oci: %s", SPEC_FIXTURES, strerror (errno));
  char *data = read_file_at (fixtures_fd, "regclient-layer-wh.tar", 1 << 20, &len, &err);
  cr_assert_not_null (data, "fixture regclient-layer-wh.tar: %s", err.msg);
  BASE (F ("layer2.txt", "2"); F ("layer1.txt", "old"); D ("exdir"); F ("exdir/lower", "x"));
  struct tarb *t = raw_new ();
  tb_write_cb (NULL, t, data, len);
  free (data);
  xok (T "/l2", t, (struct xopts){ .lowers = { T "/l1" } });
  cr_assert (is_wh (T "/l2/layer2.txt"));
  cr_assert (opaque (T "/l2/exdir"));
  overlay (T "/l2:" T "/l1");
  cr_assert_str_eq (names (MNT), "exdir layer1.txt layer3.txt");
  cr_assert_str_eq (names (MNT "/exdir"), "");
  cr_assert_neq (strcmp (content (MNT "/layer1.txt"), "old"), 0);
}

/* ---- the stream ------------------------------------------------------------------------------ */

/* The read function's error comes back as is; a non-tar stream is an error naming the layer.  */
Test (extract, read_errors)
{
  struct tarb *t = tb_new (false);
  for (int i = 0; i < 400; i++)
    {
      char p[32];
      snprintf (p, sizeof p, "f%d", i);
      F (p, "some data to make the tar longer than one chunk");
    }
  xfail (T "/l1", t, (struct xopts){ .chunk = 4096, .fail = true }, "blob sha256:feed: read failed");

  t = raw_new ();
  tb_write_cb (NULL, t, "this is not a tar file at all, it is text....", 46);
  char pad[1024] = { 'x' };
  tb_write_cb (NULL, t, pad, sizeof pad);
  xfail (T "/l2", t, (struct xopts){ 0 }, "layer sha256:abc: ");
}

/* The extractor stops at the end-of-archive marker (the caller drains and hashes the rest).  */
Test (extract, stops_at_end_marker)
{
  struct tarb *t = tb_new (false);
  F ("a", "a");
  tb_close (t);
  size_t tarlen = t->len;
  char *junk = xcalloc (1, 1 << 20);
  memset (junk, 'J', 1 << 20);
  tb_write_cb (NULL, t, junk, 1 << 20);
  free (junk);
  xok (T "/l1", t, (struct xopts){ .chunk = 512 });
  cr_assert_lt (last_pos, tarlen + 64 * 1024, "read %zu of a %zu byte tar", last_pos, tarlen);
  cr_assert_str_eq (content (T "/l1/a"), "a");
}

/* ---- speed ----------------------------------------------------------------------------------- */

/* A Debian-sized layer: 10,000 files (~100 MB) in 500 directories, on top of a lower layer.  */
Test (extract, speed_10k_files, .timeout = 120)
{
  BASE (D ("usr"); D ("usr/share"); L ("lib", "usr/lib"));
  size_t total = 0, bigsz = 512 * 1024;
  char *data = xmalloc (bigsz);
  for (size_t i = 0; i < bigsz; i++)
    data[i] = (char) (i * 131);
  struct tarb *t = tb_new (false);
  D ("usr");
  D ("usr/lib");
  for (int d = 0; d < 500; d++)
    {
      char p[96];
      snprintf (p, sizeof p, "usr/lib/pkg%d", d);
      D (p);
      for (int f = 0; f < 20; f++)
        {
          size_t sz = (f == 0) ? 160 * 1024 : (size_t) (((d * 20 + f) * 2654435761u) % 8192);
          snprintf (p, sizeof p, "usr/lib/pkg%d/file%d.so", d, f);
          tb_add (t, (struct ent){ .path = p, .type = 'f', .data = data, .size = sz ? sz : 1 });
          total += sz ? sz : 1;
        }
    }
  free (data);
  struct timespec a, b;
  clock_gettime (CLOCK_MONOTONIC, &a);
  xok (T "/l2", t, (struct xopts){ .lowers = { T "/l1" } });
  clock_gettime (CLOCK_MONOTONIC, &b);
  double secs = (double) (b.tv_sec - a.tv_sec) + (double) (b.tv_nsec - a.tv_nsec) / 1e9;
  cr_log_info ("10k files, %zu MB: %.2f s", total >> 20, secs);
  cr_assert_eq (last_stats.file_bytes, total);
  cr_assert_lt (secs, 10.0, "took %.2f s", secs);
}
