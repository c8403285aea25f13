/* Unit tests of the image source side of the unpacker: image/digest.c (digest strings, sha256,
 * ChainIDs), image/blob.c (capped, verified blob reads), image/stream.c (decompression, diff_id,
 * bombs) and image/layout.c (layouts, archives, refs, platforms, configs).  IMAGES.md T27, T29-T34.
 *
 * Real data: tests/fixtures/oci/regclient-testrepo (regclient testdata, see its README.md), layouts
 * and archives built here (gzip/zstd commands, libarchive's write API, skopeo).  Every test works in
 * its own temp directory under /tmp, removed at the end.  */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "image/blob.h"
#include "image/digest.h"
#include "image/layout.h"
#include "image/stream.h"
#include "util.h"

#define FIXTURES SPEC_FIXTURES "/../tests/fixtures/oci"
#define REGCLIENT FIXTURES "/regclient-testrepo"
#define WH_TAR FIXTURES "/regclient-layer-wh.tar"

/* Known blobs of the regclient fixture.  */
#define V1_AMD64 "1effc9d48232693f4584ceb9c5e8d84ddeb5924ea4aff341aa8204510422f668"
#define V1_ARM64 "7e87ffc91b9ceafa85be2777b16b1be10e4664fd4f3acc86e4295b97da5163ba"
#define V1_CONFIG "03d7b3c657a4af5b4ff7967bf843d04a93008f28d658a7df3f679b2c7e519639"
#define V1_DIFF0 "d619c4d83d9147229dc5eb5b2c4c8554bb7843e7ccf0f5c8685283f47bba0475"
#define V1_DIFF1 "3a904016e626ab65cf5b0924b39c1a8d20ea027715c2df5ad120601ed8437678"
#define B1_INDEX "119b4a63feeda91d4874578e7883994fc45772dd912aa49ba380f87507f6ad07"
#define B1_AMD64 "2f295c8e37f19a4fb8d49a3f2130863ec40288cb010f721742748e3dde5b1819"
#define B1_ARM64 "35f35d912637b75c6e27b0a27a94741609dd25ca2b58b16ac4c1c559a3b481ac"
#define B1_ARMV7 "a347aaec7c49a7c78201d6f0deded045079bfb27044e02c7b062de7b676e243a"
#define B1_ARMV6 "431e0e3ba987dcf584fb5374d21313aa958c30b2d97b743d06c39ad9a7d983a4"

#define MT_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define MT_TAR "application/vnd.oci.image.layer.v1.tar"

static char tmp[64];

static void
setup (void)
{
  strcpy (tmp, "/tmp/husk-test-img-XXXXXX");
  cr_assert_not_null (mkdtemp (tmp), "mkdtemp: %s", strerror (errno));
}

static void
teardown (void)
{
  char cmd[128];

  snprintf (cmd, sizeof cmd, "rm -rf '%s'", tmp);
  if (tmp[0] != '\0')
    cr_assert_eq (system (cmd), 0);
}

TestSuite (digest);
TestSuite (blob, .init = setup, .fini = teardown);
TestSuite (stream, .init = setup, .fini = teardown);
TestSuite (layout, .init = setup, .fini = teardown);
TestSuite (archive, .init = setup, .fini = teardown);

/* ---- helpers ------------------------------------------------------------------------------- */

/* A path under the test's temp directory (static rotating buffers).  */
static const char *
T (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
static const char *
T (const char *fmt, ...)
{
  static char bufs[8][512];
  static int next;
  char *b = bufs[next++ % 8];
  char rel[400];
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (rel, sizeof rel, fmt, ap);
  va_end (ap);
  snprintf (b, 512, "%s/%s", tmp, rel);
  return b;
}

static void
sh (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));
static void
sh (const char *fmt, ...)
{
  char cmd[2048];
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (cmd, sizeof cmd, fmt, ap);
  va_end (ap);
  cr_assert_eq (system (cmd), 0, "command failed: %s", cmd);
}

static void
write_bytes (const char *path, const void *data, size_t len)
{
  FILE *f = fopen (path, "w");
  cr_assert_not_null (f, "fopen '%s': %s", path, strerror (errno));
  cr_assert_eq (fwrite (data, 1, len, f), len);
  cr_assert_eq (fclose (f), 0);
}

static void
put (const char *path, const char *text)
{
  write_bytes (path, text, strlen (text));
}

static char *
slurp (const char *path, size_t *len)
{
  struct husk_err err;
  char *s = read_file_at (AT_FDCWD, path, 256u << 20, len, &err);
  cr_assert_not_null (s, "%s", err.msg);
  return s;
}

/* The sha256 of DATA as hex, by OpenSSL's one-shot EVP_Digest (independent of digest.c's streaming
 * code).  */
static void
ref_sha256 (const void *data, size_t len, char hex[65])
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;

  cr_assert_eq (EVP_Digest (data, len, md, &n, EVP_sha256 (), NULL), 1);
  cr_assert_eq (n, 32);
  for (unsigned i = 0; i < n; i++)
    sprintf (hex + 2 * i, "%02x", md[i]);
}

/* The sha256 of the text S as computed by the sha256sum program.  */
static void
shell_sha256 (const char *s, char hex[65])
{
  char cmd[1024];
  FILE *p;

  snprintf (cmd, sizeof cmd, "printf '%%s' '%s' | sha256sum", s);
  p = popen (cmd, "r");
  cr_assert_not_null (p);
  cr_assert_eq (fread (hex, 1, 64, p), 64);
  hex[64] = '\0';
  pclose (p);
}

static struct digest
D (const char *hex)
{
  struct digest d;
  struct husk_err err;
  char s[80];

  snprintf (s, sizeof s, "sha256:%s", hex);
  cr_assert_eq (digest_parse (s, "test", &d, &err), 0, "%s", err.msg);
  return d;
}

static void
assert_msg (const struct husk_err *err, const char *part)
{
  cr_assert_not_null (strstr (err->msg, part), "error '%s' lacks '%s'", err->msg, part);
}

/* A new OCI layout directory DIR (relative to tmp).  */
static void
layout_new (const char *dir)
{
  sh ("mkdir -p '%s/blobs/sha256'", T ("%s", dir));
  put (T ("%s/oci-layout", dir), "{\"imageLayoutVersion\":\"1.0.0\"}");
}

/* Store LEN bytes of DATA as a blob of layout DIR.  Returns its digest.  */
static struct digest
add_blob (const char *dir, const void *data, size_t len)
{
  char hex[65];

  ref_sha256 (data, len, hex);
  write_bytes (T ("%s/blobs/sha256/%s", dir, hex), data, len);
  return D (hex);
}

/* A descriptor JSON object for TEXT stored as a blob of DIR, with media type MT and EXTRA members
 * (",\"platform\":{...}" or "").  Returns a new string.  */
static char *
desc_of (const char *dir, const char *mt, const char *text, const char *extra)
{
  struct digest d = add_blob (dir, text, strlen (text));
  return xasprintf ("{\"mediaType\":\"%s\",\"digest\":\"sha256:%s\",\"size\":%zu%s}", mt, d.hex, strlen (text),
                    extra);
}

/* Same for the file PATH.  */
static char *
desc_of_file (const char *dir, const char *mt, const char *path, struct digest *out, int64_t *size)
{
  size_t len;
  cleanup_free char *data = slurp (path, &len);
  struct digest d = add_blob (dir, data, len);

  if (out != NULL)
    *out = d;
  if (size != NULL)
    *size = (int64_t) len;
  return xasprintf ("{\"mediaType\":\"%s\",\"digest\":\"sha256:%s\",\"size\":%zu}", mt, d.hex, len);
}

static void
write_index (const char *dir, const char *manifests_json)
{
  cleanup_free char *s = xasprintf ("{\"schemaVersion\":2,\"manifests\":[%s]}", manifests_json);
  put (T ("%s/index.json", dir), s);
}

/* An image in layout DIR: one gzip layer (the regclient whiteout tar), an OCI config with CONFIG_EXTRA
 * members.  Returns the manifest descriptor JSON with EXTRA appended inside it.  */
static char *
make_image (const char *dir, const char *config_extra, const char *extra)
{
  char diff[65];
  size_t len;
  cleanup_free char *tar = slurp (WH_TAR, &len);
  cleanup_free char *layer = NULL;
  cleanup_free char *config = NULL;
  cleanup_free char *cdesc = NULL;
  cleanup_free char *manifest = NULL;

  ref_sha256 (tar, len, diff);
  sh ("gzip -n -c '%s' > '%s'", WH_TAR, T ("layer.tgz"));
  layer = desc_of_file (dir, MT_GZIP, T ("layer.tgz"), NULL, NULL);
  config = xasprintf ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":"
                      "[\"sha256:%s\"]}%s}",
                      diff, config_extra);
  cdesc = desc_of (dir, MT_CONFIG, config, "");
  manifest = xasprintf ("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":%s,\"layers\":[%s]}", MT_MANIFEST, cdesc,
                        layer);
  return desc_of (dir, MT_MANIFEST, manifest, extra);
}

static int
open_source (struct image_source *src, const char *path, struct husk_err *err)
{
  return image_source_open (src, path, T ("stage"), 1u << 30, err);
}

/* Number of entries in DIR (not counting . and ..).  */
static int
count_entries (const char *dir)
{
  DIR *d = opendir (dir);
  struct dirent *e;
  int n = 0;

  cr_assert_not_null (d, "opendir '%s': %s", dir, strerror (errno));
  while ((e = readdir (d)) != NULL)
    if (strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0)
      n++;
  closedir (d);
  return n;
}

/* Resolve REF/PLATFORM ("os/arch[/variant]" or NULL) in the open SRC, assert success.  */
static void
resolve_ok (struct image_source *src, const char *ref, const char *platform, struct image_manifest *m)
{
  struct image_platform p = { 0 };
  struct husk_err err = { 0 };

  if (platform != NULL)
    cr_assert_eq (image_platform_parse (platform, &p, &err), 0, "%s", err.msg);
  cr_assert_eq (image_resolve (src, ref, platform != NULL ? &p : NULL, m, &err), 0, "%s %s: %s", ref,
                platform, err.msg);
  image_platform_free (&p);
}

static void
resolve_fails (struct image_source *src, const char *ref, const char *platform, const char *part)
{
  struct image_platform p = { 0 };
  struct husk_err err = { 0 };
  struct image_manifest m;

  if (platform != NULL)
    cr_assert_eq (image_platform_parse (platform, &p, &err), 0, "%s", err.msg);
  cr_assert_eq (image_resolve (src, ref, platform != NULL ? &p : NULL, &m, &err), -1, "%s %s resolved to %s",
                ref, platform, m.digest.hex);
  assert_msg (&err, part);
  cr_assert_null (m.layers);
  image_platform_free (&p);
}

/* Stream the blob D/SIZE of DIRFD as C against DIFF with cap MAX, reading everything.  */
static int
stream_all (int dirfd, struct digest d, int64_t size, enum image_compression c, struct digest diff, uint64_t max,
            uint64_t *bytes, struct husk_err *err)
{
  struct blob_reader *r = xmalloc (sizeof *r);
  struct layer_stream *s;
  int ret = -1;

  if (blob_open (r, dirfd, &d, size, err) < 0)
    {
      free (r);
      return -1;
    }
  s = layer_stream_open (r, c, &diff, max, err);
  if (s != NULL)
    {
      ret = layer_stream_finish (s, bytes, err);
      layer_stream_free (s);
    }
  blob_close (r);
  free (r);
  return ret;
}

/* ---- digest ---------------------------------------------------------------------------------- */

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

Test (digest, parse_valid)
{
  struct digest d;
  struct husk_err err;

  cr_assert_eq (digest_parse ("sha256:" HEX64, "x", &d, &err), 0, "%s", err.msg);
  cr_assert_str_eq (d.hex, HEX64);
}

Test (digest, parse_rejects_bad_strings_before_any_path)
{
  static const char *bad[] = {
    "sha256:../../../../etc/passwd", "sha256:" HEX64 "/..", "sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
    "sha256:" HEX64 "0", "sha256:0123456789abcdef", "sha256:", ":" HEX64, "sha256", "", "SHA256:" HEX64,
    "sha256::" HEX64, "sha256:" HEX64 "\n", "-sha256:" HEX64, "sha256-:" HEX64, "sha..256:" HEX64,
    "sha256: " HEX64, "sha256:g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
  };
  struct digest d;
  struct husk_err err;

  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      cr_assert_eq (digest_parse (bad[i], "index.json: manifests[0].digest", &d, &err), -1, "accepted '%s'",
                    bad[i]);
      cr_assert (has_prefix (err.msg, "index.json: manifests[0].digest: invalid digest '"), "'%s': %s", bad[i],
                 err.msg);
    }
  cr_assert_eq (digest_parse (NULL, "what", &d, &err), -1);
}

Test (digest, parse_unsupported_algorithms)
{
  static const char *other[] = {
    "sha512:" HEX64 HEX64,
    "sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564",
    "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8",
    "blake3:" HEX64,
  };
  struct digest d;
  struct husk_err err;

  for (size_t i = 0; i < ARRAY_SIZE (other); i++)
    {
      cr_assert_eq (digest_parse (other[i], "cfg", &d, &err), -1, "accepted '%s'", other[i]);
      cr_assert (has_prefix (err.msg, "cfg: unsupported digest algorithm '"), "%s", err.msg);
    }
  digest_parse ("sha512:" HEX64 HEX64, "cfg", &d, &err);
  cr_assert_str_eq (err.msg, "cfg: unsupported digest algorithm 'sha512'");
}

Test (digest, sha256_vectors)
{
  struct digest d;
  struct husk_err err;
  struct sha256_ctx c;
  char want[65];

  cr_assert_eq (sha256_buf ("", 0, &d, &err), 0);
  cr_assert_str_eq (d.hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  cr_assert_eq (sha256_buf ("abc", 3, &d, &err), 0);
  cr_assert_str_eq (d.hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  /* Streaming in odd pieces equals one shot.  */
  char *big = xmalloc (1000003);
  for (size_t i = 0; i < 1000003; i++)
    big[i] = (char) (i * 7 + 3);
  cr_assert_eq (sha256_init (&c, &err), 0);
  for (size_t off = 0; off < 1000003; off += 4099)
    sha256_update (&c, big + off, off + 4099 <= 1000003 ? 4099 : 1000003 - off);
  sha256_final (&c, &d);
  ref_sha256 (big, 1000003, want);
  cr_assert_str_eq (d.hex, want);
  sha256_free (&c); /* after final: a no-op */
  free (big);
}

Test (digest, chain_ids)
{
  char a[65], b[65], c[65], ab[65], abc[65], text[256];
  struct digest diff[3], out[3];
  struct husk_err err;

  shell_sha256 ("a", a);
  shell_sha256 ("b", b);
  shell_sha256 ("c", c);
  diff[0] = D (a);
  diff[1] = D (b);
  diff[2] = D (c);
  /* config.md: ChainID(A) = DiffID(A); ChainID(A|B) = Digest(ChainID(A) + " " + DiffID(B)).  */
  snprintf (text, sizeof text, "sha256:%s sha256:%s", a, b);
  shell_sha256 (text, ab);
  snprintf (text, sizeof text, "sha256:%s sha256:%s", ab, c);
  shell_sha256 (text, abc);
  cr_assert_eq (digest_chain_ids (diff, 3, out, &err), 0, "%s", err.msg);
  cr_assert_str_eq (out[0].hex, a);
  cr_assert_str_eq (out[1].hex, ab);
  cr_assert_str_eq (out[2].hex, abc);
  cr_assert_eq (digest_chain_ids (diff, 0, out, &err), 0);
}

/* ---- blob ------------------------------------------------------------------------------------ */

static int
layout_fd (const char *dir)
{
  int fd = open (T ("%s", dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cr_assert_geq (fd, 0, "open layout: %s", strerror (errno));
  return fd;
}

Test (blob, read_all_verified)
{
  struct husk_err err;
  cleanup_close int fd = -1;
  cleanup_free char *text = NULL;

  layout_new ("L");
  struct digest d = add_blob ("L", "hello blob", 10);
  fd = layout_fd ("L");
  text = blob_read_all (fd, &d, 10, BLOB_JSON_MAX, &err);
  cr_assert_not_null (text, "%s", err.msg);
  cr_assert_str_eq (text, "hello blob");
}

Test (blob, missing)
{
  struct husk_err err;
  cleanup_close int fd = -1;
  struct blob_reader r = { 0 };

  layout_new ("L");
  fd = layout_fd ("L");
  struct digest d = D (HEX64);
  cr_assert_eq (blob_open (&r, fd, &d, 1, &err), -1);
  cr_assert_eq (err.errnum, ENOENT);
  cr_assert_str_eq (err.msg, "blob sha256:" HEX64 ": not found");
  blob_close (&r);
}

Test (blob, no_symlinks_anywhere)
{
  struct husk_err err;
  struct blob_reader r = { 0 };
  struct digest d;

  /* The blob itself is a symlink to a file with the right content.  */
  layout_new ("L");
  d = add_blob ("L", "secret", 6);
  sh ("mv '%s' '%s' && ln -s ../../../target '%s'", T ("L/blobs/sha256/%s", d.hex), T ("target"),
      T ("L/blobs/sha256/%s", d.hex));
  cleanup_close int fd = layout_fd ("L");
  cr_assert_eq (blob_open (&r, fd, &d, 6, &err), -1);
  cr_assert_eq (err.errnum, ELOOP, "%s", err.msg);

  /* blobs/ is a symlink to a directory holding the right blob.  */
  layout_new ("M");
  layout_new ("other");
  d = add_blob ("other", "secret", 6);
  sh ("rm -rf '%s' && ln -s '%s' '%s'", T ("M/blobs"), T ("other/blobs"), T ("M/blobs"));
  cleanup_close int fd2 = layout_fd ("M");
  cr_assert_eq (blob_open (&r, fd2, &d, 6, &err), -1);
  cr_assert_eq (err.errnum, ELOOP, "%s", err.msg);
  blob_close (&r);
}

Test (blob, fifo_and_directory_refused_without_blocking)
{
  struct husk_err err;
  struct blob_reader r = { 0 };
  struct digest d = D (HEX64);

  layout_new ("L");
  cr_assert_eq (mkfifo (T ("L/blobs/sha256/" HEX64), 0644), 0);
  cleanup_close int fd = layout_fd ("L");
  alarm (10); /* a blocking open would hang here */
  cr_assert_eq (blob_open (&r, fd, &d, 0, &err), -1);
  cr_assert_str_eq (err.msg, "blob sha256:" HEX64 ": not a regular file");
  sh ("rm '%s' && mkdir '%s'", T ("L/blobs/sha256/" HEX64), T ("L/blobs/sha256/" HEX64));
  cr_assert_eq (blob_open (&r, fd, &d, 0, &err), -1);
  assert_msg (&err, "not a regular file");
  alarm (0);
}

Test (blob, digest_mismatch)
{
  struct husk_err err;
  struct digest d;
  cleanup_close int fd = -1;

  layout_new ("L");
  d = add_blob ("L", "original", 8);
  put (T ("L/blobs/sha256/%s", d.hex), "tampered");
  fd = layout_fd ("L");
  cr_assert_null (blob_read_all (fd, &d, 8, BLOB_JSON_MAX, &err));
  char want[256];
  char got[65];
  ref_sha256 ("tampered", 8, got);
  snprintf (want, sizeof want, "blob sha256:%s: digest mismatch (got sha256:%s)", d.hex, got);
  cr_assert_str_eq (err.msg, want);
}

Test (blob, size_mismatch_and_negative)
{
  struct husk_err err;
  struct digest d;
  cleanup_close int fd = -1;

  layout_new ("L");
  d = add_blob ("L", "0123456789", 10);
  fd = layout_fd ("L");
  cr_assert_null (blob_read_all (fd, &d, 9, BLOB_JSON_MAX, &err));
  assert_msg (&err, "size mismatch: expected 9 bytes, got 10");
  cr_assert_null (blob_read_all (fd, &d, 11, BLOB_JSON_MAX, &err));
  assert_msg (&err, "size mismatch: expected 11 bytes, got 10");
  cr_assert_null (blob_read_all (fd, &d, -1, BLOB_JSON_MAX, &err));
  assert_msg (&err, "negative size -1");
  cr_assert_null (blob_read_all (fd, &d, INT64_MAX, BLOB_JSON_MAX, &err));
  cr_assert_eq (err.errnum, EFBIG);
}

Test (blob, cap_refused_before_reading)
{
  struct husk_err err;
  cleanup_close int fd = -1;
  struct digest d = D (HEX64); /* not even present */

  layout_new ("L");
  fd = layout_fd ("L");
  cr_assert_null (blob_read_all (fd, &d, BLOB_JSON_MAX + 1, BLOB_JSON_MAX, &err));
  cr_assert_eq (err.errnum, EFBIG, "%s", err.msg);
  assert_msg (&err, "exceeds the limit of 4194304 bytes");
}

Test (blob, file_growing_after_open_read_stops_at_size_plus_one)
{
  struct husk_err err;
  struct blob_reader *r = xmalloc (sizeof *r);
  const void *buf;
  ssize_t n;
  int64_t total = 0;
  struct digest d;
  const int64_t size = 300000; /* more than one 128 KiB chunk */
  char *data = xcalloc (1, (size_t) size);

  layout_new ("L");
  d = add_blob ("L", data, (size_t) size);
  cleanup_close int fd = layout_fd ("L");
  cr_assert_eq (blob_open (r, fd, &d, size, &err), 0, "%s", err.msg);
  /* Grow the same inode by 1 MiB after the open-time size check.  */
  sh ("head -c 1048576 /dev/zero >> '%s'", T ("L/blobs/sha256/%s", d.hex));
  while ((n = blob_read (r, &buf, &err)) > 0)
    total += n;
  cr_assert_eq (n, -1);
  assert_msg (&err, "size mismatch: expected 300000 bytes, got more");
  cr_assert_leq (total, size, "more than SIZE bytes returned");
  cr_assert_eq (lseek (r->fd, 0, SEEK_CUR), size + 1, "read past size+1");
  cr_assert_eq (blob_read (r, &buf, &err), -1, "a failed reader stays failed");
  assert_msg (&err, "read after an earlier error");
  blob_close (r);
  blob_close (r); /* twice is fine */
  free (r);
  free (data);
}

Test (blob, file_shrinking_after_open)
{
  struct husk_err err;
  struct blob_reader *r = xmalloc (sizeof *r);
  const void *buf;
  ssize_t n;
  struct digest d;

  layout_new ("L");
  d = add_blob ("L", "0123456789", 10);
  cleanup_close int fd = layout_fd ("L");
  cr_assert_eq (blob_open (r, fd, &d, 10, &err), 0, "%s", err.msg);
  cr_assert_eq (truncate (T ("L/blobs/sha256/%s", d.hex), 4), 0);
  while ((n = blob_read (r, &buf, &err)) > 0)
    ;
  cr_assert_eq (n, -1);
  assert_msg (&err, "size mismatch: expected 10 bytes, got 4");
  blob_close (r);
  free (r);
}

Test (blob, end_is_sticky_and_close_is_safe)
{
  struct husk_err err;
  struct blob_reader *r = xcalloc (1, sizeof *r);
  const void *buf;
  struct digest d;

  blob_close (r); /* zeroed: must not close fd 0 */
  cr_assert_neq (fcntl (0, F_GETFD), -1, "fd 0 was closed");
  layout_new ("L");
  d = add_blob ("L", "", 0);
  cleanup_close int fd = layout_fd ("L");
  cr_assert_eq (blob_open (r, fd, &d, 0, &err), 0, "%s", err.msg);
  cr_assert_eq (blob_read (r, &buf, &err), 0, "%s", err.msg);
  cr_assert_eq (blob_read (r, &buf, &err), 0);
  blob_close (r);
  cr_assert_eq (blob_read (r, &buf, &err), -1);
  free (r);
}

/* ---- stream ---------------------------------------------------------------------------------- */

/* Make FILE (under tmp) of N pseudo-random bytes; returns its sha256 digest.  */
static struct digest
make_data (const char *file, size_t n)
{
  char *data = xmalloc (n + 1);
  char hex[65];
  uint32_t x = 12345;

  for (size_t i = 0; i < n; i++)
    {
      x = x * 1103515245 + 12345;
      data[i] = (char) (x >> 16);
    }
  write_bytes (T ("%s", file), data, n);
  ref_sha256 (data, n, hex);
  free (data);
  return D (hex);
}

/* Add the file FILE (under tmp) as a blob of layout L; *SIZE gets its size.  */
static struct digest
blob_from (const char *file, int64_t *size)
{
  struct digest out;
  int64_t sz;

  free (desc_of_file ("L", MT_TAR, T ("%s", file), &out, &sz));
  *size = sz;
  return out;
}

Test (stream, gzip_zstd_and_plain)
{
  struct husk_err err;
  uint64_t bytes = 0;
  int64_t size;
  struct digest diff, d;

  layout_new ("L");
  diff = make_data ("data", 1000000);
  sh ("cd '%s' && gzip -n -c data > data.gz && zstd -q -c data > data.zst", tmp);
  cleanup_close int fd = layout_fd ("L");

  d = blob_from ("data.gz", &size);
  cr_assert_lt (size, 1100000);
  cr_assert_eq (stream_all (fd, d, size, IMAGE_LAYER_GZIP, diff, 1u << 30, &bytes, &err), 0, "%s", err.msg);
  cr_assert_eq (bytes, 1000000);
  d = blob_from ("data.zst", &size);
  cr_assert_eq (stream_all (fd, d, size, IMAGE_LAYER_ZSTD, diff, 1u << 30, &bytes, &err), 0, "%s", err.msg);
  cr_assert_eq (bytes, 1000000);
  d = blob_from ("data", &size);
  cr_assert_eq (stream_all (fd, d, size, IMAGE_LAYER_TAR, diff, 1u << 30, &bytes, &err), 0, "%s", err.msg);
  cr_assert_eq (bytes, 1000000);
}

Test (stream, real_layer_tar_uncompressed_and_gzip)
{
  struct husk_err err;
  int64_t size;
  uint64_t bytes;
  size_t len;
  char hex[65];
  cleanup_free char *tar = slurp (WH_TAR, &len);

  ref_sha256 (tar, len, hex);
  layout_new ("L");
  sh ("cp '%s' '%s/wh.tar' && gzip -n -c '%s' > '%s/wh.tar.gz'", WH_TAR, tmp, WH_TAR, tmp);
  cleanup_close int fd = layout_fd ("L");
  struct digest d = blob_from ("wh.tar", &size);
  cr_assert_str_eq (d.hex, hex, "uncompressed layer: blob digest = diff_id");
  cr_assert_eq (stream_all (fd, d, size, IMAGE_LAYER_TAR, D (hex), 1u << 20, &bytes, &err), 0, "%s", err.msg);
  cr_assert_eq (bytes, len);
  d = blob_from ("wh.tar.gz", &size);
  cr_assert_eq (stream_all (fd, d, size, IMAGE_LAYER_GZIP, D (hex), 1u << 20, &bytes, &err), 0, "%s", err.msg);
  cr_assert_eq (bytes, 10240);
}

Test (stream, partial_read_then_finish_drains_and_verifies)
{
  struct husk_err err;
  struct blob_reader *r = xmalloc (sizeof *r);
  struct layer_stream *s;
  const void *buf;
  int64_t size;
  uint64_t bytes = 0;

  layout_new ("L");
  struct digest diff = make_data ("data", 500000);
  sh ("cd '%s' && gzip -n -c data > data.gz", tmp);
  struct digest d = blob_from ("data.gz", &size);
  cleanup_close int fd = layout_fd ("L");
  cr_assert_eq (blob_open (r, fd, &d, size, &err), 0, "%s", err.msg);
  s = layer_stream_open (r, IMAGE_LAYER_GZIP, &diff, 1u << 30, &err);
  cr_assert_not_null (s, "%s", err.msg);
  cr_assert_gt (layer_stream_read (s, &buf, &err), 0, "%s", err.msg);
  cr_assert_eq (layer_stream_finish (s, &bytes, &err), 0, "%s", err.msg);
  cr_assert_eq (bytes, 500000);
  cr_assert (r->verified, "finish must read the blob to its verified end");
  layer_stream_free (s);
  blob_close (r);
  free (r);
}

Test (stream, multi_member_gzip)
{
  struct husk_err err;
  int64_t size;
  uint64_t bytes;

  layout_new ("L");
  make_data ("a", 70000);
  sh ("cd '%s' && head -c 30000 /dev/urandom > b && cat a b > ab && gzip -n -c a > m.gz && gzip -n -c b >> m.gz",
      tmp);
  size_t len;
  cleanup_free char *ab = slurp (T ("ab"), &len);
  char hex[65];
  ref_sha256 (ab, len, hex);
  struct digest d = blob_from ("m.gz", &size);
  cleanup_close int fd = layout_fd ("L");
  cr_assert_eq (stream_all (fd, d, size, IMAGE_LAYER_GZIP, D (hex), 1u << 30, &bytes, &err), 0, "%s", err.msg);
  cr_assert_eq (bytes, 100000, "both members are decompressed");
}

/* T33: trailing bytes after the gzip data are accepted and ignored (the policy in stream.c), but
 * they still belong to the blob: its size and digest are verified.  */
Test (stream, gzip_trailing_bytes_policy)
{
  struct husk_err err;
  int64_t size;
  uint64_t bytes;

  layout_new ("L");
  struct digest diff = make_data ("data", 100000);
  sh ("cd '%s' && gzip -n -c data > g.gz && cp g.gz junk.gz && printf 'trailing garbage' >> junk.gz"
      " && cp g.gz zeros.gz && head -c 4096 /dev/zero >> zeros.gz",
      tmp);
  cleanup_close int fd = layout_fd ("L");
  struct digest d = blob_from ("junk.gz", &size);
  cr_assert_eq (stream_all (fd, d, size, IMAGE_LAYER_GZIP, diff, 1u << 30, &bytes, &err), 0, "%s", err.msg);
  cr_assert_eq (bytes, 100000);
  d = blob_from ("zeros.gz", &size);
  cr_assert_eq (stream_all (fd, d, size, IMAGE_LAYER_GZIP, diff, 1u << 30, &bytes, &err), 0, "%s", err.msg);
  /* The trailing bytes are covered by the blob digest: change one of them.  */
  sh ("printf 'X' | dd of='%s' bs=1 seek=%lld conv=notrunc status=none", T ("L/blobs/sha256/%s", d.hex),
      (long long) size - 1);
  cr_assert_eq (stream_all (fd, d, size, IMAGE_LAYER_GZIP, diff, 1u << 30, &bytes, &err), -1);
  assert_msg (&err, "digest mismatch");
  /* zstd is strict about bytes after its frames.  */
  sh ("cd '%s' && zstd -q -c data > z.zst && printf 'garbage' >> z.zst", tmp);
  d = blob_from ("z.zst", &size);
  cr_assert_eq (stream_all (fd, d, size, IMAGE_LAYER_ZSTD, diff, 1u << 30, &bytes, &err), -1);
  assert_msg (&err, "zstd");
}

Test (stream, wrong_or_double_compression)
{
  struct husk_err err;
  int64_t size;
  uint64_t bytes;

  layout_new ("L");
  struct digest diff = make_data ("data", 10000);
  sh ("cd '%s' && gzip -n -c data | gzip -n -c > gg.gz && zstd -q -c data > z.zst", tmp);
  cleanup_close int fd = layout_fd ("L");
  struct digest d = blob_from ("data", &size);
  cr_assert_eq (stream_all (fd, d, size, IMAGE_LAYER_GZIP, diff, 1u << 30, &bytes, &err), -1);
  assert_msg (&err, "not gzip-compressed data");
  cr_assert_eq (stream_all (fd, d, size, IMAGE_LAYER_ZSTD, diff, 1u << 30, &bytes, &err), -1);
  assert_msg (&err, "not zstd-compressed data");
  d = blob_from ("z.zst", &size);
  cr_assert_eq (stream_all (fd, d, size, IMAGE_LAYER_GZIP, diff, 1u << 30, &bytes, &err), -1);
  assert_msg (&err, "not gzip-compressed data");
  d = blob_from ("gg.gz", &size);
  cr_assert_eq (stream_all (fd, d, size, IMAGE_LAYER_GZIP, diff, 1u << 30, &bytes, &err), -1);
  assert_msg (&err, "compressed more than once");
}

Test (stream, truncated_gzip)
{
  struct husk_err err;
  int64_t size;
  uint64_t bytes;

  layout_new ("L");
  struct digest diff = make_data ("data", 200000);
  sh ("cd '%s' && gzip -n -c data | head -c 100000 > cut.gz", tmp);
  cleanup_close int fd = layout_fd ("L");
  struct digest d = blob_from ("cut.gz", &size);
  cr_assert_eq (stream_all (fd, d, size, IMAGE_LAYER_GZIP, diff, 1u << 30, &bytes, &err), -1);
  assert_msg (&err, d.hex);
  assert_msg (&err, "gzip");
}

Test (stream, empty_compressed_stream)
{
  struct husk_err err;
  int64_t size;
  uint64_t bytes = 99;
  char hex[65];

  ref_sha256 ("", 0, hex);
  layout_new ("L");
  sh ("cd '%s' && : > e && gzip -n -c e > e.gz && zstd -q -c e > e.zst", tmp);
  cleanup_close int fd = layout_fd ("L");
  struct digest d = blob_from ("e.gz", &size);
  cr_assert_eq (stream_all (fd, d, size, IMAGE_LAYER_GZIP, D (hex), 1, &bytes, &err), 0, "%s", err.msg);
  cr_assert_eq (bytes, 0);
  d = blob_from ("e.zst", &size);
  cr_assert_eq (stream_all (fd, d, size, IMAGE_LAYER_ZSTD, D (hex), 1, &bytes, &err), 0, "%s", err.msg);
}

/* T27: 64 MiB of zeros in a ~64 KiB gzip blob against a 1 MiB cap fails at once.  */
Test (stream, gzip_bomb_capped)
{
  struct husk_err err;
  int64_t size;
  uint64_t bytes = 0;
  struct timespec t0, t1;
  char hex[65];
  struct blob_reader *r = xmalloc (sizeof *r);
  struct layer_stream *s;
  const void *buf;
  ssize_t n;
  uint64_t seen = 0;

  layout_new ("L");
  sh ("cd '%s' && head -c 67108864 /dev/zero | gzip -n -c > bomb.gz && head -c 67108864 /dev/zero | sha256sum "
      "| cut -c1-64 | tr -d '\\n' > bomb.sha",
      tmp);
  cleanup_free char *sha = slurp (T ("bomb.sha"), NULL);
  snprintf (hex, sizeof hex, "%s", sha);
  struct digest d = blob_from ("bomb.gz", &size);
  cr_assert_lt (size, 200000, "the bomb is small: %lld", (long long) size);
  cleanup_close int fd = layout_fd ("L");

  clock_gettime (CLOCK_MONOTONIC, &t0);
  cr_assert_eq (blob_open (r, fd, &d, size, &err), 0, "%s", err.msg);
  s = layer_stream_open (r, IMAGE_LAYER_GZIP, &(struct digest) { 0 }, 1u << 20, &err);
  cr_assert_not_null (s, "%s", err.msg);
  while ((n = layer_stream_read (s, &buf, &err)) > 0)
    seen += (uint64_t) n;
  clock_gettime (CLOCK_MONOTONIC, &t1);
  cr_assert_eq (n, -1);
  cr_assert_str_eq (err.msg, xasprintf ("blob sha256:%s: uncompressed size exceeds 1048576 bytes", d.hex));
  cr_assert_eq (err.errnum, EFBIG);
  cr_assert_leq (seen, 1u << 20, "never more than the cap is returned");
  double secs = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
  cr_assert_lt (secs, 1.0, "took %.3f s", secs);
  layer_stream_free (s);
  blob_close (r);
  free (r);
  /* Exactly at the cap it is fine, and the diff_id of the whole is checked.  */
  cr_assert_eq (stream_all (fd, d, size, IMAGE_LAYER_GZIP, D (hex), 64u << 20, &bytes, &err), 0, "%s", err.msg);
  cr_assert_eq (bytes, 64u << 20);
  cr_assert_eq (stream_all (fd, d, size, IMAGE_LAYER_GZIP, D (hex), (64u << 20) - 1, &bytes, &err), -1);
  assert_msg (&err, "uncompressed size exceeds 67108863 bytes");
}

Test (stream, zstd_bomb_capped)
{
  struct husk_err err;
  int64_t size;
  uint64_t bytes;

  layout_new ("L");
  sh ("cd '%s' && head -c 268435456 /dev/zero | zstd -q -c > bomb.zst", tmp);
  struct digest d = blob_from ("bomb.zst", &size);
  cr_assert_lt (size, 100000);
  cleanup_close int fd = layout_fd ("L");
  cr_assert_eq (stream_all (fd, d, size, IMAGE_LAYER_ZSTD, D (HEX64), 1u << 20, &bytes, &err), -1);
  assert_msg (&err, "uncompressed size exceeds 1048576 bytes");
}

Test (stream, uncompressed_cap)
{
  struct husk_err err;
  int64_t size;
  uint64_t bytes;

  layout_new ("L");
  struct digest diff = make_data ("data", 300000);
  struct digest d = blob_from ("data", &size);
  cleanup_close int fd = layout_fd ("L");
  cr_assert_eq (stream_all (fd, d, size, IMAGE_LAYER_TAR, diff, 299999, &bytes, &err), -1);
  assert_msg (&err, "uncompressed size exceeds 299999 bytes");
  cr_assert_eq (stream_all (fd, d, size, IMAGE_LAYER_TAR, diff, 300000, &bytes, &err), 0, "%s", err.msg);
}

/* T32.  */
Test (stream, diff_id_mismatch)
{
  struct husk_err err;
  int64_t size;
  uint64_t bytes;
  char want[512];

  layout_new ("L");
  make_data ("data", 50000);
  sh ("cd '%s' && gzip -n -c data > data.gz", tmp);
  struct digest d = blob_from ("data.gz", &size);
  struct digest wrong = D (HEX64);
  size_t len;
  cleanup_free char *data = slurp (T ("data"), &len);
  char got[65];
  ref_sha256 (data, len, got);
  cleanup_close int fd = layout_fd ("L");
  cr_assert_eq (stream_all (fd, d, size, IMAGE_LAYER_GZIP, wrong, 1u << 30, &bytes, &err), -1);
  snprintf (want, sizeof want, "blob sha256:%s: diff_id mismatch: expected sha256:%s, got sha256:%s", d.hex, HEX64,
            got);
  cr_assert_str_eq (err.msg, want);
  /* For a plain tar layer the diff_id is the blob digest; a wrong one is still caught.  */
  d = blob_from ("data", &size);
  cr_assert_eq (stream_all (fd, d, size, IMAGE_LAYER_TAR, wrong, 1u << 30, &bytes, &err), -1);
  assert_msg (&err, "diff_id mismatch");
}

/* T31 through the stream: the blob is checked even though the data decompresses fine.  */
Test (stream, blob_digest_and_size_mismatch)
{
  struct husk_err err;
  int64_t size;
  uint64_t bytes;
  struct blob_reader *r = xmalloc (sizeof *r);
  struct layer_stream *s;

  layout_new ("L");
  struct digest diff = make_data ("data", 50000);
  sh ("cd '%s' && gzip -n -c data > a.gz && gzip -n -9 -c data > b.gz && ! cmp -s a.gz b.gz", tmp);
  struct digest da = blob_from ("a.gz", &size);
  int64_t size_b;
  struct digest db = blob_from ("b.gz", &size_b);
  /* Valid gzip of the same data, under another blob's name.  */
  sh ("cp '%s' '%s'", T ("b.gz"), T ("L/blobs/sha256/%s", da.hex));
  cleanup_close int fd = layout_fd ("L");
  cr_assert_eq (stream_all (fd, da, size_b, IMAGE_LAYER_GZIP, diff, 1u << 30, &bytes, &err), -1);
  cr_assert (has_prefix (err.msg, xasprintf ("blob sha256:%s: digest mismatch (got sha256:%s)", da.hex, db.hex)),
             "%s", err.msg);
  /* Size: descriptor says shorter or longer than the file.  */
  cr_assert_eq (stream_all (fd, db, size_b - 1, IMAGE_LAYER_GZIP, diff, 1u << 30, &bytes, &err), -1);
  assert_msg (&err, "size mismatch");
  cr_assert_eq (stream_all (fd, db, size_b + 1, IMAGE_LAYER_GZIP, diff, 1u << 30, &bytes, &err), -1);
  assert_msg (&err, "size mismatch");
  /* The file grows after the open: the stream stops with the blob's error.  */
  cr_assert_eq (blob_open (r, fd, &db, size_b, &err), 0, "%s", err.msg);
  sh ("printf 'more' >> '%s'", T ("L/blobs/sha256/%s", db.hex));
  s = layer_stream_open (r, IMAGE_LAYER_GZIP, &diff, 1u << 30, &err);
  /* libarchive reads ahead: the small blob may fail already while the stream is set up.  */
  if (s != NULL)
    cr_assert_eq (layer_stream_finish (s, &bytes, &err), -1);
  cr_assert (has_prefix (err.msg, xasprintf ("blob sha256:%s: size mismatch: expected %lld bytes, got more", db.hex,
                                             (long long) size_b)),
             "%s", err.msg);
  layer_stream_free (s);
  blob_close (r);
  free (r);
}

/* ---- layout: the regclient fixture ----------------------------------------------------------- */

Test (layout, regclient_platforms)
{
  struct image_source src;
  struct image_manifest m;
  struct husk_err err;

  cr_assert_eq (image_source_open (&src, REGCLIENT, NULL, 0, &err), 0, "%s", err.msg);
  cr_assert_null (src.staged);
  resolve_ok (&src, "v1", "linux/amd64", &m);
  cr_assert_str_eq (m.digest.hex, V1_AMD64);
  cr_assert_str_eq (m.config.digest.hex, V1_CONFIG);
  cr_assert_str_eq (m.config.media_type, MT_CONFIG);
  cr_assert_eq (m.n_layers, 2);
  cr_assert_eq (image_layer_compression (m.layers[0].media_type), IMAGE_LAYER_GZIP);
  cr_assert_str_eq (m.ref_name, "v1");
  image_manifest_free (&m);
  resolve_ok (&src, "v1", "linux/arm64", &m);
  cr_assert_str_eq (m.digest.hex, V1_ARM64);
  image_manifest_free (&m);
  /* b1: amd64, arm64, arm/v7, arm/v6 (in that order).  */
  resolve_ok (&src, "b1", "linux/arm/v6", &m);
  cr_assert_str_eq (m.digest.hex, B1_ARMV6);
  image_manifest_free (&m);
  resolve_ok (&src, "b1", "linux/arm/v7", &m);
  cr_assert_str_eq (m.digest.hex, B1_ARMV7);
  image_manifest_free (&m);
  resolve_ok (&src, "b1", "linux/arm", &m); /* any variant: the first arm entry wins */
  cr_assert_str_eq (m.digest.hex, B1_ARMV7);
  image_manifest_free (&m);
  resolve_ok (&src, "b1", "linux/arm64/v8", &m); /* entry has no variant: arm64 means v8 */
  cr_assert_str_eq (m.digest.hex, B1_ARM64);
  image_manifest_free (&m);
  resolve_ok (&src, "b1", NULL, &m); /* no platform: the first entry */
  cr_assert_str_eq (m.digest.hex, B1_AMD64);
  image_manifest_free (&m);
  resolve_fails (&src, "b1", "linux/arm64/v9", "no manifest for platform linux/arm64/v9 in index sha256:" B1_INDEX);
  resolve_fails (&src, "b1", "linux/s390x", "no manifest for platform linux/s390x in index sha256:" B1_INDEX);
  resolve_fails (&src, "b1", "windows/amd64", "no manifest for platform windows/amd64");
  resolve_ok (&src, "v3", "linux/amd64", &m);
  cr_assert_gt (m.n_layers, 2);
  image_manifest_free (&m);
  image_source_close (&src);
  image_source_close (&src);
  /* A zeroed source must not close fd 0.  */
  struct image_source zero = { 0 };
  image_source_close (&zero);
  cr_assert_neq (fcntl (0, F_GETFD), -1, "fd 0 was closed");
}

Test (layout, regclient_refs_and_artifacts)
{
  struct image_source src;
  struct husk_err err;
  char **names;
  size_t n;
  bool b1 = false, loop = false, v1 = false;

  cr_assert_eq (image_source_open (&src, REGCLIENT, NULL, 0, &err), 0, "%s", err.msg);
  resolve_fails (&src, "nosuch", "linux/amd64", REGCLIENT ": no image named 'nosuch'");
  resolve_fails (&src, NULL, "linux/amd64", REGCLIENT ": holds several images, name one: 'b1', 'b2'");
  /* Artifacts are not images: an empty config, layers of unknown media types.  */
  resolve_fails (&src, "child", NULL, "config.mediaType: 'application/vnd.oci.empty.v1+json' is not an image "
                                      "configuration");
  resolve_fails (&src, "loop", NULL, "is not an image configuration");
  resolve_fails (&src, "a-docker", NULL,
                 "layers[0].mediaType: 'application/vnd.example.build-type+json' is not a layer media type");
  cr_assert_eq (image_ref_names (&src, &names, &n, &err), 0, "%s", err.msg);
  cr_assert_eq (n, strv_len (names));
  for (size_t i = 0; i < n; i++)
    {
      b1 |= strcmp (names[i], "b1") == 0;
      v1 |= strcmp (names[i], "v1") == 0;
      loop |= strcmp (names[i], "loop") == 0;
    }
  cr_assert (b1 && v1 && loop);
  cr_assert_eq (n, 24, "24 distinct ref names, got %zu", n);
  strv_free (names);
  image_source_close (&src);
}

Test (layout, regclient_config_and_layers_verify)
{
  struct image_source src;
  struct image_manifest m;
  struct image_config c;
  struct husk_err err;
  uint64_t bytes;

  cr_assert_eq (image_source_open (&src, REGCLIENT, NULL, 0, &err), 0, "%s", err.msg);
  resolve_ok (&src, "v1", "linux/amd64", &m);
  cr_assert_eq (image_config_load (&src, &m, &c, &err), 0, "%s", err.msg);
  cr_assert_str_eq (c.os, "linux");
  cr_assert_str_eq (c.architecture, "amd64");
  cr_assert_str_eq (c.created, "2021-01-01T00:00:00Z");
  cr_assert_null (c.user);
  cr_assert_null (c.entrypoint);
  cr_assert_str_eq (c.cmd[0], "sh");
  cr_assert_null (c.cmd[1]);
  cr_assert_str_eq (c.env[0], "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  cr_assert_str_eq (c.volumes[0], "/volume");
  cr_assert_null (c.exposed_ports);
  cr_assert_eq (strv_len (c.label_keys), 2);
  cr_assert_str_eq (c.label_keys[1], "version");
  cr_assert_str_eq (c.label_values[1], "1");
  cr_assert_eq (c.n_diff_ids, 2);
  cr_assert_str_eq (c.diff_ids[0].hex, V1_DIFF0);
  cr_assert_str_eq (c.diff_ids[1].hex, V1_DIFF1);
  for (size_t i = 0; i < m.n_layers; i++)
    cr_assert_eq (stream_all (src.dirfd, m.layers[i].digest, m.layers[i].size,
                              image_layer_compression (m.layers[i].media_type), c.diff_ids[i], 1u << 20, &bytes, &err),
                  0, "layer %zu: %s", i, err.msg);
  /* A swapped diff_id is caught.  */
  cr_assert_eq (stream_all (src.dirfd, m.layers[0].digest, m.layers[0].size, IMAGE_LAYER_GZIP, c.diff_ids[1], 1u << 20,
                            &bytes, &err),
                -1);
  assert_msg (&err, "diff_id mismatch");
  image_config_free (&c);
  image_manifest_free (&m);
  image_source_close (&src);
}

/* ---- layout: built here ---------------------------------------------------------------------- */

Test (layout, oci_layout_checks)
{
  struct image_source src;
  struct husk_err err;

  layout_new ("L");
  write_index ("L", "");
  cr_assert_eq (open_source (&src, T ("L"), &err), 0, "%s", err.msg);
  image_source_close (&src);
  put (T ("L/oci-layout"), "{\"imageLayoutVersion\":\"2.0.0\"}");
  cr_assert_eq (open_source (&src, T ("L"), &err), -1);
  cr_assert_str_eq (err.msg, xasprintf ("%s: oci-layout: imageLayoutVersion: unsupported version '2.0.0'", T ("L")));
  put (T ("L/oci-layout"), "[]");
  cr_assert_eq (open_source (&src, T ("L"), &err), -1);
  assert_msg (&err, "oci-layout: expected object");
  unlink (T ("L/oci-layout"));
  cr_assert_eq (open_source (&src, T ("L"), &err), -1);
  assert_msg (&err, "oci-layout: open");
  cr_assert_eq (err.errnum, ENOENT);
  layout_new ("L");
  sh ("mv '%s' '%s' && ln -s ../index.real '%s'", T ("L/index.json"), T ("index.real"), T ("L/index.json"));
  cr_assert_eq (open_source (&src, T ("L"), &err), -1);
  assert_msg (&err, "index.json: open");
  cr_assert_eq (err.errnum, ELOOP);
  sh ("rm '%s' && mkfifo '%s'", T ("L/index.json"), T ("L/index.json"));
  cr_assert_eq (open_source (&src, T ("L"), &err), -1);
  assert_msg (&err, "index.json: not a regular file");
  cr_assert_eq (open_source (&src, T ("nonexistent"), &err), -1);
  cr_assert_eq (err.errnum, ENOENT);
}

Test (layout, manifests_null_and_empty)
{
  struct image_source src;
  struct husk_err err;
  char **names;
  size_t n;

  layout_new ("L");
  put (T ("L/index.json"), "{\"schemaVersion\":2,\"mediaType\":\"" MT_INDEX "\",\"manifests\":null}");
  cr_assert_eq (open_source (&src, T ("L"), &err), 0, "%s", err.msg);
  resolve_fails (&src, NULL, NULL, "no image in index.json");
  resolve_fails (&src, "latest", NULL, "no image named 'latest'");
  cr_assert_eq (image_ref_names (&src, &names, &n, &err), 0, "%s", err.msg);
  cr_assert_eq (n, 0);
  strv_free (names);
  image_source_close (&src);
}

Test (layout, single_image_without_ref_and_unknown_types_skipped)
{
  struct image_source src;
  struct image_manifest m;
  struct husk_err err;
  cleanup_free char *img = NULL;
  cleanup_free char *idx = NULL;

  layout_new ("L");
  img = make_image ("L", "", ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"latest\"}");
  /* Unknown media types first, with digests husk could not even parse: never an error.  */
  idx = xasprintf ("{\"mediaType\":\"application/vnd.example.sbom\",\"digest\":\"sha512:abc\",\"size\":-5,"
                   "\"annotations\":{\"org.opencontainers.image.ref.name\":\"latest\"}},"
                   "{\"mediaType\":\"application/vnd.example.thing\",\"digest\":\"md5:../../x\",\"size\":1,"
                   "\"annotations\":{\"org.opencontainers.image.ref.name\":42}},%s",
                   img);
  write_index ("L", idx);
  cr_assert_eq (open_source (&src, T ("L"), &err), 0, "%s", err.msg);
  resolve_ok (&src, NULL, "linux/amd64", &m);
  cr_assert_str_eq (m.ref_name, "latest");
  cr_assert_eq (m.n_layers, 1);
  image_manifest_free (&m);
  resolve_ok (&src, "latest", NULL, &m);
  image_manifest_free (&m);
  image_source_close (&src);
}

Test (layout, index_json_errors_name_the_field)
{
  struct image_source src;
  struct husk_err err;
  cleanup_free char *img = NULL;

  layout_new ("L");
  cr_assert_eq (open_source (&src, T ("L"), &err), -1, "index.json is missing");
  write_index ("L", "{\"mediaType\":\"" MT_MANIFEST "\",\"digest\":\"sha256:../../../../etc/passwd\",\"size\":1}");
  cr_assert_eq (open_source (&src, T ("L"), &err), 0, "%s", err.msg);
  resolve_fails (&src, NULL, NULL,
                 xasprintf ("%s: index.json: manifests[0].digest: invalid digest 'sha256:../../../../etc/passwd'",
                            T ("L")));
  write_index ("L", "{\"mediaType\":\"" MT_MANIFEST "\",\"digest\":\"sha256:" HEX64 "\",\"size\":-1}");
  resolve_fails (&src, NULL, NULL, "index.json: manifests[0].size: negative size -1");
  write_index ("L", "{\"mediaType\":\"" MT_MANIFEST "\",\"digest\":\"sha256:" HEX64 "\"}");
  resolve_fails (&src, NULL, NULL, "index.json: manifests[0].size: missing");
  write_index ("L", "{\"mediaType\":\"" MT_MANIFEST "\",\"digest\":\"sha256:" HEX64 "\",\"size\":1,"
                    "\"annotations\":{\"org.opencontainers.image.ref.name\":7}}");
  resolve_fails (&src, NULL, NULL,
                 "index.json: manifests[0].annotations[\"org.opencontainers.image.ref.name\"]: expected string");
  write_index ("L", "{\"mediaType\":\"" MT_MANIFEST "\",\"digest\":\"sha256:" HEX64 "\",\"size\":1}");
  resolve_fails (&src, NULL, NULL, "blob sha256:" HEX64 ": not found");
  put (T ("L/index.json"), "{\"schemaVersion\":1,\"manifests\":[]}");
  resolve_fails (&src, NULL, NULL, "index.json: schemaVersion: unsupported schemaVersion 1");
  put (T ("L/index.json"), "{\"schemaVersion\":2,\"manifests\":[]");
  resolve_fails (&src, NULL, NULL, "index.json: invalid JSON");
  /* The blob a descriptor names is verified: size and digest.  */
  layout_new ("L");
  img = make_image ("L", "", "");
  cleanup_free char *bad = xstrdup (img);
  *strstr (bad, "\"size\":") = '\0';
  write_index ("L", xasprintf ("%s\"size\":5}", bad));
  resolve_fails (&src, NULL, NULL, "size mismatch: expected 5 bytes");
  image_source_close (&src);
}

Test (layout, ambiguous_refs_and_platform_choice)
{
  struct image_source src;
  struct image_manifest m;
  struct husk_err err;
  cleanup_free char *a = NULL;
  cleanup_free char *b = NULL;
  cleanup_free char *c = NULL;

  layout_new ("L");
  a = make_image ("L", ",\"author\":\"a\"", ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"t\"}");
  b = make_image ("L", ",\"author\":\"b\"", ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"t\"}");
  write_index ("L", xasprintf ("%s,%s", a, b));
  cr_assert_eq (open_source (&src, T ("L"), &err), 0, "%s", err.msg);
  resolve_fails (&src, "t", "linux/amd64", "reference 't' is ambiguous");
  /* The same digest twice is not ambiguous.  */
  write_index ("L", xasprintf ("%s,%s", a, a));
  resolve_ok (&src, "t", NULL, &m);
  image_manifest_free (&m);
  /* Platforms in index.json pick one.  */
  a = make_image ("L", ",\"author\":\"a\"",
                  ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"t\"},"
                  "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}");
  c = make_image ("L", ",\"author\":\"c\"",
                  ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"t\"},"
                  "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}");
  write_index ("L", xasprintf ("%s,%s", a, c));
  resolve_ok (&src, "t", "linux/amd64", &m);
  struct image_config cfg;
  cr_assert_eq (image_config_load (&src, &m, &cfg, &err), 0, "%s", err.msg);
  cr_assert_str_eq (cfg.author, "c");
  image_config_free (&cfg);
  image_manifest_free (&m);
  resolve_fails (&src, "t", "linux/ppc64le", "reference 't' is ambiguous");
  image_source_close (&src);
}

/* Nested indexes: N levels of index above one image manifest.  */
static void
nest (int levels)
{
  cleanup_free char *cur = make_image ("L", "", "");

  for (int i = 0; i < levels; i++)
    {
      cleanup_free char *idx = xasprintf ("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[%s]}", MT_INDEX,
                                          cur);
      free (cur);
      cur = desc_of ("L", MT_INDEX, idx,
                     i == levels - 1 ? ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"deep\"}" : "");
    }
  write_index ("L", cur);
}

Test (layout, nested_index_depth)
{
  struct image_source src;
  struct image_manifest m;
  struct husk_err err;

  layout_new ("L");
  nest (IMAGE_INDEX_MAX_DEPTH);
  cr_assert_eq (open_source (&src, T ("L"), &err), 0, "%s", err.msg);
  resolve_ok (&src, "deep", "linux/amd64", &m);
  image_manifest_free (&m);
  nest (IMAGE_INDEX_MAX_DEPTH + 1);
  resolve_fails (&src, "deep", "linux/amd64", "image indexes nested deeper than 8 levels");
  image_source_close (&src);
}

Test (layout, nested_index_falls_through_to_next_entry)
{
  struct image_source src;
  struct image_manifest m;
  struct husk_err err;
  cleanup_free char *arm = NULL;
  cleanup_free char *inner = NULL;
  cleanup_free char *img = NULL;
  cleanup_free char *outer = NULL;

  layout_new ("L");
  arm = make_image ("L", ",\"author\":\"arm\"", ",\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}");
  inner = desc_of ("L", MT_INDEX, xasprintf ("{\"schemaVersion\":2,\"manifests\":[%s]}", arm), "");
  img = make_image ("L", ",\"author\":\"amd\"", ",\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}");
  outer = desc_of ("L", MT_INDEX, xasprintf ("{\"schemaVersion\":2,\"manifests\":[%s,%s]}", inner, img),
                   ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"x\"}");
  write_index ("L", outer);
  cr_assert_eq (open_source (&src, T ("L"), &err), 0, "%s", err.msg);
  resolve_ok (&src, "x", "linux/amd64", &m);
  struct image_config cfg;
  cr_assert_eq (image_config_load (&src, &m, &cfg, &err), 0, "%s", err.msg);
  cr_assert_str_eq (cfg.author, "amd");
  image_config_free (&cfg);
  image_manifest_free (&m);
  image_source_close (&src);
}

/* T34 / CVE-2021-41190.  */
Test (layout, media_type_confusion)
{
  struct image_source src;
  struct husk_err err;
  cleanup_free char *img = NULL;
  const char *tag = ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"x\"}";

  layout_new ("L");
  img = make_image ("L", "", "");
  cr_assert_eq ((write_index ("L", ""), open_source (&src, T ("L"), &err)), 0, "%s", err.msg);

  /* An index (its own mediaType says so) where the descriptor says manifest.  */
  cleanup_free char *idx_text = xasprintf ("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[%s]}", MT_INDEX, img);
  write_index ("L", desc_of ("L", MT_MANIFEST, idx_text, tag));
  resolve_fails (&src, "x", NULL, xasprintf ("mediaType: '%s' where an image manifest was expected", MT_INDEX));
  /* The same without its own mediaType: "manifests" gives it away.  */
  cleanup_free char *idx_bare = xasprintf ("{\"schemaVersion\":2,\"manifests\":[%s]}", img);
  write_index ("L", desc_of ("L", MT_MANIFEST, idx_bare, tag));
  resolve_fails (&src, "x", NULL, "has manifests: an index where an image manifest was expected");

  /* A manifest where the descriptor says index.  */
  char *p = strstr (img, "\"digest\":\"sha256:") + strlen ("\"digest\":\"sha256:");
  char hex[65];
  memcpy (hex, p, 64);
  hex[64] = '\0';
  size_t mlen;
  cleanup_free char *mtext = slurp (T ("L/blobs/sha256/%s", hex), &mlen);
  write_index ("L", xasprintf ("{\"mediaType\":\"%s\",\"digest\":\"sha256:%s\",\"size\":%zu%s}", MT_INDEX, hex, mlen,
                               tag));
  resolve_fails (&src, "x", NULL, xasprintf ("blob sha256:%s: mediaType: '%s' where an image index was expected", hex,
                                             MT_MANIFEST));
  /* Without its mediaType: config and layers give it away.  */
  cleanup_free char *m_bare = xstrdup (mtext);
  char *mt = strstr (m_bare, "\"mediaType\":\"" MT_MANIFEST "\",");
  cr_assert_not_null (mt);
  memmove (mt, mt + strlen ("\"mediaType\":\"" MT_MANIFEST "\","), strlen (mt + strlen ("\"mediaType\":\"" MT_MANIFEST "\",")) + 1);
  write_index ("L", desc_of ("L", MT_INDEX, m_bare, tag));
  resolve_fails (&src, "x", NULL, "has config or layers: a manifest where an image index was expected");
  /* The manifest without mediaType under a manifest descriptor is fine (mediaType is optional).  */
  write_index ("L", desc_of ("L", MT_MANIFEST, m_bare, tag));
  struct image_manifest m;
  resolve_ok (&src, "x", NULL, &m);
  image_manifest_free (&m);
  image_source_close (&src);
}

Test (layout, config_media_type_and_layer_types)
{
  struct image_source src;
  struct husk_err err;
  const char *tag = ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"x\"}";
  cleanup_free char *cfg = NULL;
  cleanup_free char *layer = NULL;

  layout_new ("L");
  write_index ("L", "");
  cr_assert_eq (open_source (&src, T ("L"), &err), 0, "%s", err.msg);
  cfg = desc_of ("L", "application/vnd.oci.image.manifest.v1+json", "{}", "");
  layer = desc_of ("L", MT_TAR, "x", "");
  write_index ("L", desc_of ("L", MT_MANIFEST,
                             xasprintf ("{\"schemaVersion\":2,\"config\":%s,\"layers\":[%s]}", cfg, layer), tag));
  resolve_fails (&src, "x", NULL,
                 "config.mediaType: 'application/vnd.oci.image.manifest.v1+json' is not an image configuration");
  free (cfg);
  cfg = desc_of ("L", MT_CONFIG, "{}", "");
  write_index ("L", desc_of ("L", MT_MANIFEST,
                             xasprintf ("{\"schemaVersion\":2,\"config\":%s,\"layers\":[%s,%s]}", cfg, layer,
                                        "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+bzip2\","
                                        "\"digest\":\"sha256:" HEX64 "\",\"size\":1}"),
                             tag));
  resolve_fails (&src, "x", NULL, "layers[1].mediaType: 'application/vnd.oci.image.layer.v1.tar+bzip2' is not a "
                                  "layer media type");
  write_index ("L", desc_of ("L", MT_MANIFEST, xasprintf ("{\"schemaVersion\":2,\"config\":%s}", cfg), tag));
  resolve_fails (&src, "x", NULL, "layers: missing");
  write_index ("L", desc_of ("L", MT_MANIFEST,
                             xasprintf ("{\"schemaVersion\":2,\"config\":%s,\"layers\":[{\"mediaType\":\"" MT_GZIP
                                        "\",\"digest\":\"sha256:" HEX64 "x\",\"size\":1}]}",
                                        cfg),
                             tag));
  resolve_fails (&src, "x", NULL, "layers[0].digest: invalid digest");
  image_source_close (&src);
}

/* Docker media types: manifest list -> manifest v2 -> container config, rootfs.diff.tar.gzip.  */
Test (layout, docker_media_types)
{
  struct image_source src;
  struct image_manifest m;
  struct image_config c;
  struct husk_err err;
  size_t len;
  char diff[65];
  uint64_t bytes;
  cleanup_free char *tar = slurp (WH_TAR, &len);

  ref_sha256 (tar, len, diff);
  layout_new ("L");
  sh ("gzip -n -c '%s' > '%s'", WH_TAR, T ("layer.tgz"));
  cleanup_free char *layer = desc_of_file ("L", "application/vnd.docker.image.rootfs.diff.tar.gzip", T ("layer.tgz"),
                                           NULL, NULL);
  cleanup_free char *cfg = desc_of (
      "L", "application/vnd.docker.container.image.v1+json",
      xasprintf ("{\"architecture\":\"arm64\",\"variant\":\"v8\",\"os\":\"linux\",\"config\":{\"User\":\"1000:1000\","
                 "\"Entrypoint\":[\"/bin/app\"],\"Cmd\":null,\"WorkingDir\":\"/w\",\"StopSignal\":\"SIGINT\","
                 "\"ExposedPorts\":{\"80/tcp\":{}},\"Env\":null},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:%s\"]}}",
                 diff),
      "");
  cleanup_free char *man = desc_of (
      "L", "application/vnd.docker.distribution.manifest.v2+json",
      xasprintf ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
                 "\"config\":%s,\"layers\":[%s]}",
                 cfg, layer),
      ",\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}");
  cleanup_free char *list = desc_of (
      "L", "application/vnd.docker.distribution.manifest.list.v2+json",
      xasprintf ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.list.v2+json\","
                 "\"manifests\":[%s]}",
                 man),
      ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"d\"}");
  write_index ("L", list);
  cr_assert_eq (open_source (&src, T ("L"), &err), 0, "%s", err.msg);
  resolve_ok (&src, "d", "linux/arm64", &m);
  cr_assert_eq (image_layer_compression (m.layers[0].media_type), IMAGE_LAYER_GZIP);
  cr_assert_eq (image_config_load (&src, &m, &c, &err), 0, "%s", err.msg);
  cr_assert_str_eq (c.user, "1000:1000");
  cr_assert_str_eq (c.entrypoint[0], "/bin/app");
  cr_assert_null (c.cmd);
  cr_assert_not_null (c.env);
  cr_assert_null (c.env[0]);
  cr_assert_str_eq (c.working_dir, "/w");
  cr_assert_str_eq (c.stop_signal, "SIGINT");
  cr_assert_str_eq (c.exposed_ports[0], "80/tcp");
  cr_assert_str_eq (c.variant, "v8");
  cr_assert_eq (stream_all (src.dirfd, m.layers[0].digest, m.layers[0].size, IMAGE_LAYER_GZIP, c.diff_ids[0], 1u << 20,
                            &bytes, &err),
                0, "%s", err.msg);
  image_config_free (&c);
  image_manifest_free (&m);
  resolve_fails (&src, "d", "linux/arm64/v7", "no manifest for platform linux/arm64/v7");
  image_source_close (&src);
}

/* Build a manifest over CONFIG_TEXT with one layer in layout L tagged "x"; load its config.  */
static int
load_config_text (struct image_source *src, const char *config_text, struct image_config *c, struct husk_err *err,
                  char *cfg_hex)
{
  struct image_manifest m;
  cleanup_free char *cfg = desc_of ("L", MT_CONFIG, config_text, "");
  cleanup_free char *layer = desc_of ("L", MT_TAR, "x", "");
  int r;

  memcpy (cfg_hex, strstr (cfg, "sha256:") + 7, 64);
  cfg_hex[64] = '\0';
  write_index ("L", desc_of ("L", MT_MANIFEST,
                             xasprintf ("{\"schemaVersion\":2,\"config\":%s,\"layers\":[%s]}", cfg, layer),
                             ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"x\"}"));
  resolve_ok (src, "x", NULL, &m);
  r = image_config_load (src, &m, c, err);
  image_manifest_free (&m);
  return r;
}

Test (layout, config_errors)
{
  struct image_source src;
  struct image_config c;
  struct husk_err err;
  char hex[65];

  layout_new ("L");
  write_index ("L", "");
  cr_assert_eq (open_source (&src, T ("L"), &err), 0, "%s", err.msg);
  cr_assert_eq (load_config_text (&src, "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:" HEX64 "\"]}}", &c,
                                  &err, hex),
                0, "%s", err.msg);
  cr_assert_not_null (c.env);
  image_config_free (&c);
  cr_assert_eq (load_config_text (&src, "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:" HEX64 "\"]},"
                                        "\"config\":{\"Env\":[\"A=1\",\"B=2\",3]}}",
                                  &c, &err, hex),
                -1);
  cr_assert_str_eq (err.msg, xasprintf ("blob sha256:%s: config.Env[2]: expected string", hex));
  cr_assert_eq (load_config_text (&src, "{\"rootfs\":{\"type\":\"foo\",\"diff_ids\":[\"sha256:" HEX64 "\"]}}", &c,
                                  &err, hex),
                -1);
  cr_assert_str_eq (err.msg, xasprintf ("blob sha256:%s: rootfs.type: unsupported rootfs type 'foo'", hex));
  cr_assert_eq (load_config_text (&src, "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}", &c, &err, hex), -1);
  assert_msg (&err, "rootfs.diff_ids has 0 entries but the manifest has 1 layers");
  cr_assert_eq (load_config_text (&src, "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:abc\"]}}", &c, &err,
                                  hex),
                -1);
  cr_assert_str_eq (err.msg,
                    xasprintf ("blob sha256:%s: rootfs.diff_ids[0]: invalid digest 'sha256:abc': expected 64 lowercase "
                               "hex digits",
                               hex));
  cr_assert_eq (load_config_text (&src, "{\"architecture\":\"amd64\"}", &c, &err, hex), -1);
  assert_msg (&err, "rootfs: missing");
  cr_assert_eq (load_config_text (&src, "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:" HEX64 "\"]},"
                                        "\"config\":{\"Labels\":{\"a\":\"b\",\"c\":1}}}",
                                  &c, &err, hex),
                -1);
  assert_msg (&err, "config.Labels.c: expected string");
  image_source_close (&src);
}

Test (layout, platforms)
{
  struct image_platform p;
  struct husk_err err;

  cr_assert_eq (image_platform_parse ("linux/arm/v7", &p, &err), 0);
  cr_assert_str_eq (p.os, "linux");
  cr_assert_str_eq (p.architecture, "arm");
  cr_assert_str_eq (p.variant, "v7");
  image_platform_free (&p);
  cr_assert_eq (image_platform_parse ("linux/amd64", &p, &err), 0);
  cr_assert_null (p.variant);
  image_platform_free (&p);
  static const char *bad[] = { "linux", "", "/amd64", "linux/", "linux//v7", "a/b/c/d", "linux/arm/" };
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      cr_assert_eq (image_platform_parse (bad[i], &p, &err), -1, "accepted '%s'", bad[i]);
      assert_msg (&err, "expected os/arch[/variant]");
    }
  image_platform_host (&p);
  cr_assert_str_eq (p.os, "linux");
#if defined(__x86_64__)
  cr_assert_str_eq (p.architecture, "amd64");
#endif
  image_platform_free (&p);
}

Test (layout, layer_media_types)
{
  cr_assert_eq (image_layer_compression ("application/vnd.oci.image.layer.v1.tar"), IMAGE_LAYER_TAR);
  cr_assert_eq (image_layer_compression ("application/vnd.oci.image.layer.v1.tar+gzip"), IMAGE_LAYER_GZIP);
  cr_assert_eq (image_layer_compression ("application/vnd.oci.image.layer.v1.tar+zstd"), IMAGE_LAYER_ZSTD);
  cr_assert_eq (image_layer_compression ("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"),
                IMAGE_LAYER_GZIP);
  cr_assert_eq (image_layer_compression ("application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"),
                IMAGE_LAYER_ZSTD);
  cr_assert_eq (image_layer_compression ("application/vnd.oci.image.layer.nondistributable.v1.tar"), IMAGE_LAYER_TAR);
  cr_assert_eq (image_layer_compression ("application/vnd.docker.image.rootfs.diff.tar.gzip"), IMAGE_LAYER_GZIP);
  cr_assert_eq (image_layer_compression ("application/vnd.docker.image.rootfs.diff.tar"), IMAGE_LAYER_TAR);
  cr_assert_eq (image_layer_compression ("application/vnd.oci.image.layer.v1.tar+bzip2"), IMAGE_LAYER_UNKNOWN);
  cr_assert_eq (image_layer_compression ("application/vnd.oci.image.config.v1+json"), IMAGE_LAYER_UNKNOWN);
  cr_assert_eq (image_layer_compression (NULL), IMAGE_LAYER_UNKNOWN);
}

/* ---- archives -------------------------------------------------------------------------------- */

struct tentry
{
  const char *name;
  int type;         /* AE_IFREG, AE_IFDIR, AE_IFLNK; 0 = hard link to LINK */
  const char *data; /* regular: contents (or file path when FROM_FILE) */
  const char *link;
  bool from_file;
};

/* Write a tar (pax) with FILTER ("none", "gzip", "zstd") to PATH.  */
static void
tar_write (const char *path, const struct tentry *e, size_t n, const char *filter)
{
  struct archive *a = archive_write_new ();

  cr_assert_eq (archive_write_set_format_pax_restricted (a), ARCHIVE_OK);
  if (strcmp (filter, "gzip") == 0)
    cr_assert_eq (archive_write_add_filter_gzip (a), ARCHIVE_OK);
  else if (strcmp (filter, "zstd") == 0)
    cr_assert_eq (archive_write_add_filter_zstd (a), ARCHIVE_OK);
  cr_assert_eq (archive_write_open_filename (a, path), ARCHIVE_OK, "%s", archive_error_string (a));
  for (size_t i = 0; i < n; i++)
    {
      struct archive_entry *en = archive_entry_new ();
      cleanup_free char *data = NULL;
      size_t len = 0;

      archive_entry_set_pathname (en, e[i].name);
      archive_entry_set_mtime (en, 0, 0);
      if (e[i].type == 0)
        {
          archive_entry_set_filetype (en, AE_IFREG);
          archive_entry_set_hardlink (en, e[i].link);
          archive_entry_set_perm (en, 0644);
        }
      else
        {
          archive_entry_set_filetype (en, (unsigned) e[i].type);
          archive_entry_set_perm (en, e[i].type == AE_IFDIR ? 0755 : 0644);
        }
      if (e[i].type == AE_IFLNK)
        archive_entry_set_symlink (en, e[i].link);
      if (e[i].type == AE_IFREG)
        {
          data = e[i].from_file ? slurp (e[i].data, &len) : xstrdup (e[i].data);
          if (!e[i].from_file)
            len = strlen (data);
          archive_entry_set_size (en, (la_int64_t) len);
        }
      cr_assert_eq (archive_write_header (a, en), ARCHIVE_OK, "%s: %s", e[i].name, archive_error_string (a));
      if (len > 0)
        cr_assert_eq (archive_write_data (a, data, len), (la_ssize_t) len);
      archive_entry_free (en);
    }
  cr_assert_eq (archive_write_close (a), ARCHIVE_OK);
  archive_write_free (a);
}

/* After a failed open, nothing may be left in the staging parent.  */
static void
archive_fails (const char *path, uint64_t max, const char *part)
{
  struct image_source src;
  struct husk_err err;

  sh ("mkdir -p '%s'", T ("stage"));
  cr_assert_eq (image_source_open (&src, path, T ("stage"), max, &err), -1, "opened %s", path);
  assert_msg (&err, part);
  cr_assert (has_prefix (err.msg, path), "error must name the source: %s", err.msg);
  cr_assert_eq (count_entries (T ("stage")), 0, "staging directory left behind");
  cr_assert_eq (src.dirfd, -1);
}

Test (archive, skopeo_oci_archive_plain_gzip_zstd)
{
  struct image_source src;
  struct image_manifest m;
  struct image_config c;
  struct husk_err err;
  struct stat st;
  uint64_t bytes;
  static const char *forms[] = { "o.tar", "o.tar.gz", "o.tar.zst" };

  sh ("cd '%s' && mkdir stage && skopeo copy -q oci:" REGCLIENT ":v1 oci-archive:o.tar:v1 >/dev/null 2>&1 && gzip -n -c "
      "o.tar > o.tar.gz && zstd -q -c o.tar > o.tar.zst",
      tmp);
  for (size_t i = 0; i < ARRAY_SIZE (forms); i++)
    {
      cr_assert_eq (image_source_open (&src, T ("%s", forms[i]), T ("stage"), 1u << 30, &err), 0, "%s: %s", forms[i],
                    err.msg);
      cr_assert_not_null (src.staged);
      cr_assert (!src.docker);
      cr_assert (has_prefix (src.staged, T ("stage/husk-image-")), "%s", src.staged);
      cr_assert_eq (stat (src.staged, &st), 0);
      cr_assert_eq (st.st_mode & 07777, 0700);
      resolve_ok (&src, "v1", NULL, &m);
      cr_assert_str_eq (m.digest.hex, V1_AMD64); /* skopeo copied the host's (amd64) image */
      cr_assert_eq (image_config_load (&src, &m, &c, &err), 0, "%s", err.msg);
      for (size_t l = 0; l < m.n_layers; l++)
        cr_assert_eq (stream_all (src.dirfd, m.layers[l].digest, m.layers[l].size,
                                  image_layer_compression (m.layers[l].media_type), c.diff_ids[l], 1u << 20, &bytes,
                                  &err),
                      0, "%s", err.msg);
      image_config_free (&c);
      image_manifest_free (&m);
      image_source_close (&src);
      cr_assert_eq (count_entries (T ("stage")), 0, "close must remove the staged directory");
    }
}

Test (archive, skopeo_docker_archive)
{
  struct image_source src;
  struct image_manifest m, m2;
  struct image_config c;
  struct husk_err err;
  uint64_t bytes;
  char **names;
  size_t n;

  sh ("cd '%s' && mkdir stage && skopeo copy -q oci:" REGCLIENT ":v1 docker-archive:d.tar:foo:bar >/dev/null 2>&1"
      " && gzip -n -c d.tar > d.tar.gz",
      tmp);
  cr_assert_eq (open_source (&src, T ("d.tar"), &err), 0, "%s", err.msg);
  cr_assert (src.docker);
  cr_assert_eq (image_ref_names (&src, &names, &n, &err), 0, "%s", err.msg);
  cr_assert_eq (n, 2);
  cr_assert_str_eq (names[0], "docker.io/library/foo:bar");
  cr_assert_str_eq (names[1], "foo:bar");
  strv_free (names);
  resolve_ok (&src, "foo:bar", NULL, &m);
  resolve_ok (&src, NULL, "linux/amd64", &m2);
  cr_assert_str_eq (m.digest.hex, m2.digest.hex);
  image_manifest_free (&m2);
  resolve_ok (&src, "docker.io/library/foo:bar", NULL, &m2);
  cr_assert_str_eq (m.digest.hex, m2.digest.hex);
  image_manifest_free (&m2);
  cr_assert_str_eq (m.config.media_type, "application/vnd.docker.container.image.v1+json");
  cr_assert_str_eq (m.config.digest.hex, V1_CONFIG);
  cr_assert_eq (m.n_layers, 2);
  cr_assert_str_eq (m.layers[0].media_type, "application/vnd.docker.image.rootfs.diff.tar");
  /* skopeo wrote the layers uncompressed: their blob digests are the diff_ids.  */
  cr_assert_str_eq (m.layers[0].digest.hex, V1_DIFF0);
  cr_assert_str_eq (m.layers[1].digest.hex, V1_DIFF1);
  cr_assert_eq (image_config_load (&src, &m, &c, &err), 0, "%s", err.msg);
  for (size_t l = 0; l < m.n_layers; l++)
    cr_assert_eq (stream_all (src.dirfd, m.layers[l].digest, m.layers[l].size, IMAGE_LAYER_TAR, c.diff_ids[l], 1u << 20,
                              &bytes, &err),
                  0, "%s", err.msg);
  image_config_free (&c);
  image_manifest_free (&m);
  image_source_close (&src);
  cr_assert_eq (count_entries (T ("stage")), 0);

  cr_assert_eq (open_source (&src, T ("d.tar.gz"), &err), 0, "%s", err.msg);
  resolve_ok (&src, "foo:bar", NULL, &m);
  cr_assert_str_eq (m.config.digest.hex, V1_CONFIG);
  image_manifest_free (&m);
  resolve_fails (&src, "bar", NULL, "no image named 'bar'");
  image_source_close (&src);
  cr_assert_eq (count_entries (T ("stage")), 0);
}

/* A docker-archive written here: layer files at odd paths, one gzip-compressed, a hard link and a
 * symlink that are skipped, several images.  */
Test (archive, handmade_docker_archive)
{
  struct image_source src;
  struct image_manifest m;
  struct image_config c;
  struct husk_err err;
  uint64_t bytes;
  size_t len;
  char diff[65], cfg_hex[65];
  cleanup_free char *tar = slurp (WH_TAR, &len);

  ref_sha256 (tar, len, diff);
  sh ("mkdir -p '%s' && gzip -n -c '%s' > '%s'", T ("stage"), WH_TAR, T ("l.tgz"));
  cleanup_free char *config = xasprintf (
      "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:%s\","
      "\"sha256:%s\"]}}",
      diff, diff);
  ref_sha256 (config, strlen (config), cfg_hex);
  cleanup_free char *manifest = xasprintf ("[{\"Config\":\"./cfg/c.json\",\"RepoTags\":[\"example.com/a:1\"],"
                                           "\"Layers\":[\"x/y/layer.tar\",\"gz/layer\"]},"
                                           "{\"Config\":\"cfg/c.json\",\"RepoTags\":null,\"Layers\":[\"x/y/layer.tar\","
                                           "\"gz/layer\"]}]");
  struct tentry e[] = {
    { "cfg/", AE_IFDIR, NULL, NULL, false },
    { "cfg/c.json", AE_IFREG, config, NULL, false },
    { "x/y/layer.tar", AE_IFREG, WH_TAR, NULL, true },
    { "gz/layer", AE_IFREG, T ("l.tgz"), NULL, true },
    { "hard", 0, NULL, "cfg/c.json", false },
    { "link", AE_IFLNK, NULL, "/etc/passwd", false },
    { "manifest.json", AE_IFREG, manifest, NULL, false },
  };
  tar_write (T ("h.tar"), e, ARRAY_SIZE (e), "zstd");
  cr_assert_eq (open_source (&src, T ("h.tar"), &err), 0, "%s", err.msg);
  cr_assert (src.docker);
  /* Two images with the same manifest: no ref needed, the digests agree.  */
  resolve_ok (&src, NULL, NULL, &m);
  image_manifest_free (&m);
  resolve_ok (&src, "example.com/a:1", NULL, &m);
  cr_assert_str_eq (m.config.digest.hex, cfg_hex);
  cr_assert_str_eq (m.layers[0].media_type, "application/vnd.docker.image.rootfs.diff.tar");
  cr_assert_str_eq (m.layers[1].media_type, "application/vnd.docker.image.rootfs.diff.tar.gzip");
  cr_assert_eq (image_config_load (&src, &m, &c, &err), 0, "%s", err.msg);
  for (size_t l = 0; l < m.n_layers; l++)
    cr_assert_eq (stream_all (src.dirfd, m.layers[l].digest, m.layers[l].size,
                              image_layer_compression (m.layers[l].media_type), c.diff_ids[l], 1u << 20, &bytes, &err),
                  0, "layer %zu: %s", l, err.msg);
  /* Skipped entries were not written.  */
  cr_assert_eq (faccessat (src.dirfd, "hard", F_OK, AT_SYMLINK_NOFOLLOW), -1);
  cr_assert_eq (faccessat (src.dirfd, "link", F_OK, AT_SYMLINK_NOFOLLOW), -1);
  image_config_free (&c);
  image_manifest_free (&m);
  image_source_close (&src);
  cr_assert_eq (count_entries (T ("stage")), 0);
}

Test (archive, docker_manifest_errors)
{
  struct tentry e[] = {
    { "c.json", AE_IFREG, "{}", NULL, false },
    { "manifest.json", AE_IFREG, "[{\"Config\":\"c.json\",\"Layers\":[\"missing.tar\"]}]", NULL, false },
  };
  tar_write (T ("m.tar"), e, ARRAY_SIZE (e), "none");
  archive_fails (T ("m.tar"), 1u << 30, "manifest.json: [0].Layers[0]: 'missing.tar' is not a file in the archive");
  e[1].data = "[{\"Config\":\"../c.json\",\"Layers\":[]}]";
  tar_write (T ("m.tar"), e, ARRAY_SIZE (e), "none");
  archive_fails (T ("m.tar"), 1u << 30, "manifest.json: [0].Config: '../c.json' is not a file in the archive");
  e[1].data = "{}";
  tar_write (T ("m.tar"), e, ARRAY_SIZE (e), "none");
  archive_fails (T ("m.tar"), 1u << 30, "manifest.json: expected array");
  e[1].data = "[]";
  tar_write (T ("m.tar"), e, ARRAY_SIZE (e), "none");
  archive_fails (T ("m.tar"), 1u << 30, "manifest.json: no images");
  e[1].data = "[{\"Config\":\"c.json\"}]";
  tar_write (T ("m.tar"), e, ARRAY_SIZE (e), "none");
  archive_fails (T ("m.tar"), 1u << 30, "manifest.json: [0].Layers: missing");
}

Test (archive, hostile_names_and_limits)
{
  struct tentry dotdot[] = { { "a/../../escape", AE_IFREG, "x", NULL, false } };
  struct tentry abs[] = { { "/abs/x", AE_IFREG, "x", NULL, false } };
  struct tentry deep[] = { { "1/2/3/4/5/6/7/8/9", AE_IFREG, "x", NULL, false } };
  struct tentry dup[] = { { "oci-layout", AE_IFREG, "{}", NULL, false }, { "./oci-layout", AE_IFREG, "{}", NULL, false } };
  struct tentry none[] = { { "readme", AE_IFREG, "hello", NULL, false } };
  /* A symlink planted first, then files "through" it: the symlink is skipped, so the files land in a
   * real directory of the staging area, never in /etc.  */
  struct tentry through[] = {
    { "blobs", AE_IFLNK, NULL, "/etc", false },
    { "blobs/husk-test-must-not-exist", AE_IFREG, "x", NULL, false },
    { "index.json", AE_IFLNK, NULL, "/etc/passwd", false },
    { "oci-layout", AE_IFREG, "{\"imageLayoutVersion\":\"1.0.0\"}", NULL, false },
  };
  struct tentry big[] = { { "oci-layout", AE_IFREG, "{\"imageLayoutVersion\":\"1.0.0\"}", NULL, false },
                          { "index.json", AE_IFREG, "{\"schemaVersion\":2,\"manifests\":[]}", NULL, false } };

  tar_write (T ("a.tar"), dotdot, 1, "none");
  archive_fails (T ("a.tar"), 1u << 30, "archive entry 'a/../../escape': '..' in name");
  tar_write (T ("a.tar"), abs, 1, "gzip");
  archive_fails (T ("a.tar"), 1u << 30, "archive entry '/abs/x': absolute name");
  tar_write (T ("a.tar"), deep, 1, "none");
  archive_fails (T ("a.tar"), 1u << 30, "deeper than 8 levels");
  tar_write (T ("a.tar"), dup, 2, "none");
  archive_fails (T ("a.tar"), 1u << 30, "archive entry 'oci-layout': duplicate name");
  tar_write (T ("a.tar"), none, 1, "none");
  archive_fails (T ("a.tar"), 1u << 30, "neither an OCI layout (oci-layout) nor a docker-archive (manifest.json)");
  tar_write (T ("a.tar"), through, ARRAY_SIZE (through), "none");
  archive_fails (T ("a.tar"), 1u << 30, "index.json: open");
  cr_assert_eq (access ("/etc/husk-test-must-not-exist", F_OK), -1);
  /* Byte cap: the two small files are 30 + 34 bytes.  */
  tar_write (T ("a.tar"), big, 2, "none");
  archive_fails (T ("a.tar"), 63, "archive content exceeds 63 bytes");
  struct image_source src;
  struct husk_err err;
  cr_assert_eq (image_source_open (&src, T ("a.tar"), T ("stage"), 64, &err), 0, "%s", err.msg);
  image_source_close (&src);
  /* Not a tar at all, and not a regular file.  */
  put (T ("junk"), "this is not a tar archive, just text that goes on for a while ......................");
  archive_fails (T ("junk"), 1u << 30, "not a tar archive");
  sh ("mkfifo '%s'", T ("fifo"));
  archive_fails (T ("fifo"), 1u << 30, "not a directory or a regular file");
  /* A gzip bomb as the archive: the cap stops it.  */
  sh ("cd '%s' && head -c 10000000 /dev/zero > zeros && tar cf - zeros | gzip -c > bomb.tar.gz", tmp);
  archive_fails (T ("bomb.tar.gz"), 1u << 20, "archive content exceeds 1048576 bytes");
}
