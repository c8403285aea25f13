/* Small helpers shared by all of husk: cleanup attributes, ownership hand-off, allocation that
 * cannot fail, whole-file reads and writes relative to a directory fd, number parsing.  */
#ifndef HUSK_UTIL_H
#define HUSK_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <dirent.h>

#include "error.h"

#define ARRAY_SIZE(a) (sizeof (a) / sizeof ((a)[0]))

/* Cleanup attributes: the variable is released when it goes out of scope.  */
void cleanup_freep (void *p);
void cleanup_closep (int *fd);
void cleanup_fclosep (FILE **f);
void cleanup_closedirp (DIR **d);
void cleanup_strvp (char ***v);
#define cleanup_free __attribute__ ((cleanup (cleanup_freep)))
#define cleanup_close __attribute__ ((cleanup (cleanup_closep)))
#define cleanup_fclose __attribute__ ((cleanup (cleanup_fclosep)))
#define cleanup_dir __attribute__ ((cleanup (cleanup_closedirp)))
#define cleanup_strv __attribute__ ((cleanup (cleanup_strvp)))

/* Hand ownership out of a cleanup variable: returns the value and leaves NULL / -1 behind.  */
#define steal_ptr(pp)                                                                                  \
  ({                                                                                                   \
    __typeof__ (*(pp)) _v = *(pp);                                                                     \
    *(pp) = NULL;                                                                                      \
    _v;                                                                                                \
  })
static inline int
steal_fd (int *fd)
{
  int v = *fd;
  *fd = -1;
  return v;
}

/* Allocation: husk treats out-of-memory as fatal (abort with a message), so callers need no checks.  */
void *xmalloc (size_t size);
void *xcalloc (size_t n, size_t size);
void *xrealloc (void *p, size_t size);
char *xstrdup (const char *s);
char *xasprintf (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

/* NULL-terminated string vectors.  */
size_t strv_len (char *const *v);
void strv_free (char **v);

/* Read the whole regular file NAME (relative to DIRFD, or absolute) into a NUL-terminated buffer of
 * at most MAX bytes; *LEN gets its length in bytes when LEN is not NULL.  The last component is not
 * followed if it is a symlink (O_NOFOLLOW).  Returns the buffer (free it), or NULL with ERR: errno from
 * open/read, EFBIG when larger than MAX.  */
char *read_file_at (int dirfd, const char *name, size_t max, size_t *len, struct husk_err *err);

/* Read FD to its end (at most MAX bytes) into a NUL-terminated buffer, as read_file_at; NAME names it
 * in errors.  Returns the buffer (free it), or NULL with ERR.  */
char *read_fd_all (int fd, const char *name, size_t max, size_t *len, struct husk_err *err);

/* Write LEN bytes of DATA to the existing file NAME relative to DIRFD (O_WRONLY|O_NOFOLLOW|O_CLOEXEC,
 * no creation, no truncation: for /proc and /sys control files).  Returns 0, or -1 with ERR.  */
int write_file_at (int dirfd, const char *name, const void *data, size_t len, struct husk_err *err);

/* readlinkat(DIRFD, PATH) into a new string (free it).  PATH "" reads the symlink open as the O_PATH
 * fd DIRFD itself.  Returns the target, or NULL with errno (ENAMETOOLONG past PATH_MAX).  */
char *readlink_at (int dirfd, const char *path);

/* write(2) all of BUF to FD, retrying on EINTR and short writes.  Returns 0, or -1 with errno set.  */
int write_all (int fd, const void *buf, size_t len);

/* Set every signal's disposition to SIG_DFL and empty the signal mask, in a process about to execve
 * something else (ignored signals and the mask survive execve; husk's parent blocks every signal).
 * Uses the raw rt_sigaction syscall, because glibc refuses to touch the signals it reserves (32, 33),
 * which a caller may have left ignored.  */
void signals_reset_default (void);

/* True when husk runs with full privileges: effective uid 0 in the initial user namespace (uid_map
 * "0 0 4294967295").  Anyone else ("rootless": a normal user, or root of a user namespace) gets
 * the rootless behaviour: its own state root, delegated cgroups only, a user namespace for the
 * sandbox.  Read once.  */
bool husk_privileged (void);

/* Parse a whole decimal string into *OUT.  Returns 0, or -1 with errno EINVAL/ERANGE.  */
int parse_u64 (const char *s, uint64_t *out);
int parse_i64 (const char *s, int64_t *out);

/* True when S starts with PREFIX.  */
static inline bool
has_prefix (const char *s, const char *prefix)
{
  while (*prefix != '\0')
    if (*s++ != *prefix++)
      return false;
  return true;
}

#endif
