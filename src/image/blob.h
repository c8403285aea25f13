/* Reading blobs of an OCI image layout (image-layout.md "Blobs"): every read is capped by the
 * descriptor's size and the sha256 is verified while streaming; a blob whose length or digest does
 * not match is an error naming it, reported before the reader returns end of file.  IMAGES.md T31.  */
#ifndef HUSK_IMAGE_BLOB_H
#define HUSK_IMAGE_BLOB_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "image/digest.h"

/* Largest JSON blob (index, manifest, config) read into memory: 4 MiB.  IMAGES.md T29.  */
#define BLOB_JSON_MAX (4u << 20)

struct blob_reader
{
  int fd;                 /* the blob file, O_RDONLY */
  struct digest digest;   /* expected */
  int64_t size;           /* expected, bytes */
  int64_t done;           /* bytes returned so far */
  struct sha256_ctx hash; /* running hash */
  bool opened;            /* blob_open succeeded and blob_close has not run: FD is ours */
  bool verified;          /* the end was reached with the right size and digest */
  bool failed;            /* blob_read failed: every later call fails too */
  char buf[128 * 1024];   /* blob_read's buffer */
};

/* Open blobs/sha256/<DIGEST> under the layout directory LAYOUT_FD: resolved beneath it with no
 * symlinks at all (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS), O_NOFOLLOW and
 * O_NONBLOCK (a FIFO planted there never blocks the open), must be a regular file whose length is
 * SIZE (bytes, must be >= 0).  Returns 0, or -1 with ERR ("blob sha256:<hex>: not found" with
 * ENOENT when missing, "...: not a regular file", "...: size mismatch: expected N bytes, got M",
 * "...: negative size -1").  */
int blob_open (struct blob_reader *r, int layout_fd, const struct digest *digest, int64_t size,
               struct husk_err *err);

/* Next chunk of the blob: *BUF points into R's buffer.  Returns the number of bytes (> 0), 0 at the
 * end once the length equals the size and the digest matched (and 0 again on later calls), or -1
 * with ERR: "blob sha256:<hex>: size mismatch: expected N bytes, got M" (shorter, or "got more"
 * when longer; never reads more than SIZE+1 bytes) or "blob sha256:<hex>: digest mismatch (got
 * sha256:<hex>)"; after a failure every call fails ("...: read after an earlier error").  blob_open already refuses a file whose current length differs from SIZE; this
 * check covers a file that changes while it is read.  */
ssize_t blob_read (struct blob_reader *r, const void **buf, struct husk_err *err);

/* Close R (safe twice and on a zeroed or failed reader).  */
void blob_close (struct blob_reader *r);

/* Read a whole blob of at most MAX bytes (SIZE larger than MAX is refused before reading) into a
 * NUL-terminated buffer, verified.  Returns it (free it), or NULL with ERR.  */
char *blob_read_all (int layout_fd, const struct digest *digest, int64_t size, size_t max,
                     struct husk_err *err);

#endif
