/* Size-capped, digest-verified blob reads (see blob.h).  OCI image-spec image-layout.md "Blobs",
 * descriptor.md "size" and "digest".  IMAGES.md T30, T31.  */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "image/blob.h"
#include "util.h"

/* openat2 retries when the kernel reports a concurrent rename (EAGAIN).  */
#define OPENAT2_RETRIES 32

/* True when D holds exactly 64 lowercase hex digits (digest_parse made it; checked again because a
 * path is built from it).  */
static bool
digest_is_sane (const struct digest *d)
{
  for (size_t i = 0; i < DIGEST_HEX_LEN; i++)
    if (!((d->hex[i] >= '0' && d->hex[i] <= '9') || (d->hex[i] >= 'a' && d->hex[i] <= 'f')))
      return false;
  return d->hex[DIGEST_HEX_LEN] == '\0';
}

int
blob_open (struct blob_reader *r, int layout_fd, const struct digest *digest, int64_t size,
           struct husk_err *err)
{
  struct open_how how = {
    .flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
  };
  char path[sizeof "blobs/sha256/" + DIGEST_HEX_LEN];
  cleanup_close int fd = -1;
  struct stat st;

  r->opened = false;
  r->verified = false;
  r->failed = false;
  r->fd = -1;
  r->hash.evp = NULL;
  if (!digest_is_sane (digest))
    return husk_err_set (err, 0, "blob: invalid digest");
  r->digest = *digest;
  r->size = size;
  r->done = 0;
  if (size < 0)
    return husk_err_set (err, 0, "blob sha256:%s: negative size %" PRId64, digest->hex, size);
  snprintf (path, sizeof path, "blobs/sha256/%s", digest->hex);
  for (int i = 0; i < OPENAT2_RETRIES; i++)
    {
      fd = (int) syscall (SYS_openat2, layout_fd, path, &how, sizeof how);
      if (fd >= 0 || errno != EAGAIN)
        break;
    }
  if (fd < 0 && errno == ENOENT)
    return husk_err_set (err, ENOENT, "blob sha256:%s: not found", digest->hex);
  if (fd < 0)
    return husk_err_set (err, errno, "blob sha256:%s: open '%s'", digest->hex, path);
  if (fstat (fd, &st) < 0)
    return husk_err_set (err, errno, "blob sha256:%s: fstat", digest->hex);
  if (!S_ISREG (st.st_mode))
    return husk_err_set (err, 0, "blob sha256:%s: not a regular file", digest->hex);
  if (st.st_size != size)
    return husk_err_set (err, 0, "blob sha256:%s: size mismatch: expected %" PRId64 " bytes, got %jd",
                         digest->hex, size, (intmax_t) st.st_size);
  if (sha256_init (&r->hash, err) < 0)
    return husk_err_prefix (err, "blob sha256:%s", digest->hex);
  r->fd = steal_fd (&fd);
  r->opened = true;
  return 0;
}

/* The end of the file was reached: check the length and the digest.  Returns 0 or -1 with ERR.  */
static int
blob_verify_end (struct blob_reader *r, struct husk_err *err)
{
  struct digest got;

  if (r->done != r->size)
    return husk_err_set (err, 0, "blob sha256:%s: size mismatch: expected %" PRId64 " bytes, got %" PRId64,
                         r->digest.hex, r->size, r->done);
  sha256_final (&r->hash, &got);
  if (strcmp (got.hex, r->digest.hex) != 0)
    return husk_err_set (err, 0, "blob sha256:%s: digest mismatch (got sha256:%s)", r->digest.hex, got.hex);
  r->verified = true;
  return 0;
}

/* One step of blob_read.  */
static ssize_t
blob_read_step (struct blob_reader *r, const void **buf, struct husk_err *err)
{
  for (;;)
    {
      /* At most one byte past the size, to see that the file is longer than it should be.  */
      uint64_t left = (uint64_t) (r->size - r->done) + 1;
      size_t want = left < sizeof r->buf ? (size_t) left : sizeof r->buf;
      ssize_t n = read (r->fd, r->buf, want);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return husk_err_set (err, errno, "blob sha256:%s: read", r->digest.hex);
      if (n == 0)
        return blob_verify_end (r, err) < 0 ? -1 : 0;
      if ((uint64_t) n >= left)
        return husk_err_set (err, 0, "blob sha256:%s: size mismatch: expected %" PRId64 " bytes, got more",
                             r->digest.hex, r->size);
      r->done += n;
      sha256_update (&r->hash, r->buf, (size_t) n);
      *buf = r->buf;
      return n;
    }
}

ssize_t
blob_read (struct blob_reader *r, const void **buf, struct husk_err *err)
{
  ssize_t n;

  if (!r->opened)
    return husk_err_set (err, EBADF, "blob: read of a closed reader");
  if (r->failed)
    return husk_err_set (err, 0, "blob sha256:%s: read after an earlier error", r->digest.hex);
  if (r->verified)
    return 0;
  n = blob_read_step (r, buf, err);
  if (n < 0)
    r->failed = true;
  return n;
}

void
blob_close (struct blob_reader *r)
{
  if (!r->opened)
    return;
  if (r->fd >= 0)
    close (r->fd);
  r->fd = -1;
  sha256_free (&r->hash);
  r->opened = false;
}

char *
blob_read_all (int layout_fd, const struct digest *digest, int64_t size, size_t max, struct husk_err *err)
{
  struct blob_reader *r;
  cleanup_free char *data = NULL;
  size_t used = 0;
  ssize_t n;
  const void *chunk;

  if (size >= 0 && (uint64_t) size > max)
    return husk_err_set (err, EFBIG, "blob sha256:%s: size %" PRId64 " exceeds the limit of %zu bytes",
                         digest->hex, size, max),
           NULL;
  r = xmalloc (sizeof *r);
  if (blob_open (r, layout_fd, digest, size, err) < 0)
    {
      free (r);
      return NULL;
    }
  data = xmalloc ((size_t) size + 1);
  while ((n = blob_read (r, &chunk, err)) > 0)
    {
      /* blob_read never returns more than SIZE bytes in total without failing.  */
      memcpy (data + used, chunk, (size_t) n);
      used += (size_t) n;
    }
  blob_close (r);
  free (r);
  if (n < 0)
    return NULL;
  data[used] = '\0';
  return steal_ptr (&data);
}
