/* A layer's uncompressed stream (see stream.h): blob_read -> libarchive filter (gzip or zstd, raw
 * format) -> sha256 + byte cap.  OCI image-spec layer.md "Distributable Format", config.md
 * "rootfs.diff_ids".  IMAGES.md T27, T28, T32, T33.
 *
 * Trailing bytes (T33), policy: accept and ignore.  A gzip blob may hold several members one after
 * the other (RFC 1952 "member"; pigz and `cat a.gz b.gz` make them): all complete members are
 * decompressed, in order, as one stream.  After a member, libarchive's gzip filter stops quietly at
 * anything that does not start with a whole gzip member header (garbage, zero padding; measured
 * with libarchive 3.6.2), while a member that starts but is cut short is an error ("truncated gzip
 * input").  husk accepts the ignored bytes: they are still
 * covered by the blob's size and digest, which layer_stream_finish verifies by reading the blob to
 * its end, and whatever was decompressed is covered by the diff_id, so nothing unverified is used
 * (a producer that meant the dropped bytes to count gets a diff_id mismatch).  umoci 0.4.7 refuses
 * such blobs instead ("discard trailing archive bits: gzip: invalid header").  zstd is stricter:
 * libarchive's zstd filter decodes consecutive frames (and skips skippable frames) but fails on
 * bytes that are not a frame ("Unknown frame descriptor"), and that error is passed on.
 * Data compressed twice (gzip inside gzip) is refused: exactly one filter must apply.  */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "image/stream.h"
#include "util.h"

struct layer_stream
{
  struct blob_reader *blob;     /* borrowed */
  enum image_compression compression;
  struct digest diff_id;        /* expected sha256 of the uncompressed bytes */
  uint64_t max_bytes, total;    /* cap and count of uncompressed bytes */
  struct sha256_ctx hash;       /* of the uncompressed bytes */
  struct archive *archive;      /* NULL for an uncompressed layer */
  bool eof;                     /* the uncompressed data ended */
  bool blob_failed;             /* blob_read failed inside libarchive's callback: BLOB_ERR says why */
  struct husk_err blob_err;
  char buf[64 * 1024];
};

/* libarchive's read callback: the next verified chunk of the blob.  */
static la_ssize_t
stream_archive_read (struct archive *a, void *arg, const void **buf)
{
  struct layer_stream *s = arg;
  ssize_t n = blob_read (s->blob, buf, &s->blob_err);

  if (n < 0)
    {
      s->blob_failed = true;
      archive_set_error (a, EIO, "blob read failed");
      return -1;
    }
  return n;
}

/* Set ERR from S's archive (or from the blob error that caused it), prefixed with WHAT.  */
static int
stream_archive_error (struct layer_stream *s, const char *what, struct husk_err *err)
{
  const char *msg;

  if (s->blob_failed)
    {
      *err = s->blob_err;
      return -1;
    }
  msg = archive_error_string (s->archive);
  return husk_err_set (err, 0, "blob sha256:%s: %s: %s", s->blob->digest.hex, what,
                       msg != NULL ? msg : "invalid compressed data");
}

/* Set up libarchive for S: the one filter COMPRESSION names, raw format (and "empty" for a
 * compressed stream of no bytes), reading through stream_archive_read.  Returns 0 or -1 with ERR.  */
static int
stream_archive_open (struct layer_stream *s, struct husk_err *err)
{
  const char *name = s->compression == IMAGE_LAYER_GZIP ? "gzip" : "zstd";
  int want = s->compression == IMAGE_LAYER_GZIP ? ARCHIVE_FILTER_GZIP : ARCHIVE_FILTER_ZSTD;
  struct archive_entry *entry;
  int r;

  s->archive = archive_read_new ();
  if (s->archive == NULL)
    return husk_err_set (err, ENOMEM, "blob sha256:%s: archive_read_new", s->blob->digest.hex);
  r = s->compression == IMAGE_LAYER_GZIP ? archive_read_support_filter_gzip (s->archive)
                                         : archive_read_support_filter_zstd (s->archive);
  /* ARCHIVE_WARN means libarchive would run an external program: not in husk.  */
  if (r != ARCHIVE_OK)
    return husk_err_set (err, 0, "blob sha256:%s: libarchive has no built-in %s support", s->blob->digest.hex,
                         name);
  if (archive_read_support_format_raw (s->archive) != ARCHIVE_OK
      || archive_read_support_format_empty (s->archive) != ARCHIVE_OK)
    return stream_archive_error (s, "libarchive setup", err);
  if (archive_read_open (s->archive, s, NULL, stream_archive_read, NULL) != ARCHIVE_OK || s->blob_failed)
    return stream_archive_error (s, name, err);
  /* Bidding picked filters from the content: exactly WANT over the client's bytes, nothing else
   * (plain bytes under a +gzip media type, or gzip inside gzip, are refused).  */
  if (archive_filter_count (s->archive) > 2)
    return husk_err_set (err, 0, "blob sha256:%s: compressed more than once", s->blob->digest.hex);
  if (archive_filter_count (s->archive) != 2 || archive_filter_code (s->archive, 0) != want)
    return husk_err_set (err, 0, "blob sha256:%s: not %s-compressed data", s->blob->digest.hex, name);
  r = archive_read_next_header (s->archive, &entry);
  if (s->blob_failed)
    return stream_archive_error (s, name, err);
  if (r == ARCHIVE_EOF)
    s->eof = true; /* decompresses to nothing */
  else if (r != ARCHIVE_OK)
    return stream_archive_error (s, name, err);
  return 0;
}

struct layer_stream *
layer_stream_open (struct blob_reader *blob, enum image_compression compression, const struct digest *diff_id,
                   uint64_t max_bytes, struct husk_err *err)
{
  struct layer_stream *s;

  if (compression != IMAGE_LAYER_TAR && compression != IMAGE_LAYER_GZIP && compression != IMAGE_LAYER_ZSTD)
    return husk_err_set (err, 0, "blob sha256:%s: not a layer media type", blob->digest.hex), NULL;
  s = xcalloc (1, sizeof *s);
  s->blob = blob;
  s->compression = compression;
  s->diff_id = *diff_id;
  s->max_bytes = max_bytes;
  if (sha256_init (&s->hash, err) < 0)
    {
      free (s);
      return NULL;
    }
  if (compression != IMAGE_LAYER_TAR && stream_archive_open (s, err) < 0)
    {
      layer_stream_free (s);
      return NULL;
    }
  return s;
}

/* The next chunk of uncompressed bytes before counting: from the blob itself or from libarchive.  */
static ssize_t
stream_next (struct layer_stream *s, const void **buf, struct husk_err *err)
{
  la_ssize_t n;

  if (s->archive == NULL)
    return blob_read (s->blob, buf, err);
  n = archive_read_data (s->archive, s->buf, sizeof s->buf);
  /* A failed blob read can look like the end of the data to libarchive (the gzip filter takes an
   * unreadable next member header for the end), so the blob's own error always wins.  */
  if (n < 0 || s->blob_failed)
    return stream_archive_error (s, s->compression == IMAGE_LAYER_GZIP ? "gzip" : "zstd", err);
  *buf = s->buf;
  return n;
}

ssize_t
layer_stream_read (struct layer_stream *s, const void **buf, struct husk_err *err)
{
  ssize_t n;

  if (s->eof)
    return 0;
  n = stream_next (s, buf, err);
  if (n < 0)
    return -1;
  if (n == 0)
    {
      s->eof = true;
      return 0;
    }
  if ((uint64_t) n > s->max_bytes - s->total)
    return husk_err_set (err, EFBIG, "blob sha256:%s: uncompressed size exceeds %" PRIu64 " bytes",
                         s->blob->digest.hex, s->max_bytes);
  s->total += (uint64_t) n;
  sha256_update (&s->hash, *buf, (size_t) n);
  return n;
}

int
layer_stream_finish (struct layer_stream *s, uint64_t *bytes, struct husk_err *err)
{
  const void *buf;
  ssize_t n;
  struct digest got;

  while ((n = layer_stream_read (s, &buf, err)) > 0)
    ;
  if (n < 0)
    return -1;
  /* Whatever follows the compressed data in the blob (see the top of this file).  */
  while ((n = blob_read (s->blob, &buf, err)) > 0)
    ;
  if (n < 0)
    return -1;
  sha256_final (&s->hash, &got);
  if (strcmp (got.hex, s->diff_id.hex) != 0)
    return husk_err_set (err, 0, "blob sha256:%s: diff_id mismatch: expected sha256:%s, got sha256:%s",
                         s->blob->digest.hex, s->diff_id.hex, got.hex);
  if (bytes != NULL)
    *bytes = s->total;
  return 0;
}

void
layer_stream_free (struct layer_stream *s)
{
  if (s == NULL)
    return;
  if (s->archive != NULL)
    archive_read_free (s->archive);
  sha256_free (&s->hash);
  free (s);
}
