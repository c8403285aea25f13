/* A layer's uncompressed tar stream (layer.md, config.md "rootfs.diff_ids"): the verified blob
 * reader, decompressed by libarchive (gzip, zstd or none, chosen by the media type), hashed as it
 * goes so the caller can check it against the config's diff_id, and capped in bytes against
 * decompression bombs.  IMAGES.md T27, T28, T32, T33.  */
#ifndef HUSK_IMAGE_STREAM_H
#define HUSK_IMAGE_STREAM_H

#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "image/blob.h"
#include "image/digest.h"
#include "image/layout.h"

struct layer_stream;

/* Start reading BLOB (opened, nothing read yet; the stream borrows it and never closes it) as
 * COMPRESSION.  DIFF_ID is what the uncompressed bytes must hash to; MAX_BYTES caps them.
 * Returns the stream, or NULL with ERR.  */
struct layer_stream *layer_stream_open (struct blob_reader *blob, enum image_compression compression,
                                        const struct digest *diff_id, uint64_t max_bytes, struct husk_err *err);

/* The next uncompressed bytes: *BUF points into the stream.  Returns their count (> 0), 0 at the end
 * of the uncompressed data, or -1 with ERR: "blob sha256:<hex>: uncompressed size exceeds N bytes",
 * a decompression error naming the blob, or a blob_read error.  */
ssize_t layer_stream_read (struct layer_stream *s, const void **buf, struct husk_err *err);

/* After the tar reader stopped: read what is left of the uncompressed data (a tar ends with zero
 * blocks that are part of the diff_id), then of the blob (so its size and digest are verified),
 * and compare the uncompressed sha256 with the diff_id.  Returns 0, or -1 with ERR: "blob
 * sha256:<hex>: diff_id mismatch: expected sha256:<hex>, got sha256:<hex>".  *BYTES (may be NULL)
 * gets the uncompressed size.  */
int layer_stream_finish (struct layer_stream *s, uint64_t *bytes, struct husk_err *err);

/* Free S (safe on NULL).  */
void layer_stream_free (struct layer_stream *s);

#endif
