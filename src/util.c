/* Small shared helpers (see util.h).  */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

void
cleanup_freep (void *p)
{
  free (*(void **) p);
}

void
cleanup_closep (int *fd)
{
  if (*fd >= 0)
    (void) close (*fd);
}

void
cleanup_fclosep (FILE **f)
{
  if (*f != NULL)
    (void) fclose (*f);
}

void
cleanup_closedirp (DIR **d)
{
  if (*d != NULL)
    (void) closedir (*d);
}

void
cleanup_strvp (char ***v)
{
  strv_free (*v);
}

static void
oom (void)
{
  static const char msg[] = "husk: out of memory\n";
  (void) !write (STDERR_FILENO, msg, sizeof msg - 1);
  abort ();
}

void *
xmalloc (size_t size)
{
  void *p = malloc (size == 0 ? 1 : size);
  if (p == NULL)
    oom ();
  return p;
}

void *
xcalloc (size_t n, size_t size)
{
  void *p = calloc (n == 0 ? 1 : n, size == 0 ? 1 : size);
  if (p == NULL)
    oom ();
  return p;
}

void *
xrealloc (void *p, size_t size)
{
  void *q = realloc (p, size == 0 ? 1 : size);
  if (q == NULL)
    oom ();
  return q;
}

char *
xstrdup (const char *s)
{
  char *p = strdup (s);
  if (p == NULL)
    oom ();
  return p;
}

char *
xasprintf (const char *fmt, ...)
{
  va_list ap;
  char *s;

  va_start (ap, fmt);
  if (vasprintf (&s, fmt, ap) < 0)
    oom ();
  va_end (ap);
  return s;
}

size_t
strv_len (char *const *v)
{
  size_t n = 0;
  if (v != NULL)
    while (v[n] != NULL)
      n++;
  return n;
}

void
strv_free (char **v)
{
  if (v == NULL)
    return;
  for (char **p = v; *p != NULL; p++)
    free (*p);
  free (v);
}

char *
read_fd_all (int fd, const char *name, size_t max, size_t *len, struct husk_err *err)
{
  cleanup_free char *buf = NULL;
  size_t used = 0, cap = 4096;

  buf = xmalloc (cap);
  for (;;)
    {
      if (used + 1 >= cap)
        {
          if (cap > max)
            return husk_err_set (err, EFBIG, "read '%s': larger than %zu bytes", name, max), NULL;
          cap *= 2;
          buf = xrealloc (buf, cap);
        }
      ssize_t n = read (fd, buf + used, cap - used - 1);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return husk_err_set (err, errno, "read '%s'", name), NULL;
      if (n == 0)
        break;
      used += (size_t) n;
      if (used > max)
        return husk_err_set (err, EFBIG, "read '%s': larger than %zu bytes", name, max), NULL;
    }
  buf[used] = '\0';
  if (len != NULL)
    *len = used;
  return steal_ptr (&buf);
}

char *
read_file_at (int dirfd, const char *name, size_t max, size_t *len, struct husk_err *err)
{
  cleanup_close int fd = openat (dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

  if (fd < 0)
    return husk_err_set (err, errno, "open '%s'", name), NULL;
  return read_fd_all (fd, name, max, len, err);
}

char *
readlink_at (int dirfd, const char *path)
{
  char buf[PATH_MAX];
  ssize_t n = readlinkat (dirfd, path, buf, sizeof buf);

  if (n < 0)
    return NULL;
  if ((size_t) n >= sizeof buf)
    return errno = ENAMETOOLONG, NULL;
  buf[n] = '\0';
  return xstrdup (buf);
}

int
write_all (int fd, const void *buf, size_t len)
{
  const char *p = buf;

  while (len > 0)
    {
      ssize_t n = write (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -1;
      p += n;
      len -= (size_t) n;
    }
  return 0;
}

int
write_file_at (int dirfd, const char *name, const void *data, size_t len, struct husk_err *err)
{
  cleanup_close int fd = openat (dirfd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);

  if (fd < 0)
    return husk_err_set (err, errno, "open '%s'", name);
  if (write_all (fd, data, len) < 0)
    return husk_err_set (err, errno, "write '%s'", name);
  return 0;
}

int
parse_u64 (const char *s, uint64_t *out)
{
  char *end;
  unsigned long long v;

  if (s == NULL || *s < '0' || *s > '9')
    return errno = EINVAL, -1;
  errno = 0;
  v = strtoull (s, &end, 10);
  if (errno != 0)
    return -1;
  if (*end != '\0')
    return errno = EINVAL, -1;
  *out = v;
  return 0;
}

int
parse_i64 (const char *s, int64_t *out)
{
  char *end;
  long long v;

  if (s == NULL || *s == '\0')
    return errno = EINVAL, -1;
  errno = 0;
  v = strtoll (s, &end, 10);
  if (errno != 0)
    return -1;
  if (*end != '\0')
    return errno = EINVAL, -1;
  *out = v;
  return 0;
}

void
signals_reset_default (void)
{
  /* The kernel's struct sigaction for rt_sigaction (not glibc's): handler, flags, restorer, mask.  */
  struct
  {
    void (*handler) (int);
    unsigned long flags;
    void (*restorer) (void);
    uint64_t mask;
  } dfl = { SIG_DFL, 0, NULL, 0 };
  sigset_t none;

  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      (void) syscall (SYS_rt_sigaction, sig, &dfl, NULL, sizeof dfl.mask);
  sigemptyset (&none);
  (void) sigprocmask (SIG_SETMASK, &none, NULL);
}

bool
husk_privileged (void)
{
  static int cached = -1;

  if (cached < 0)
    {
      struct husk_err ignored;
      cleanup_free char *map = geteuid () == 0 ? read_file_at (AT_FDCWD, "/proc/self/uid_map", 4096, NULL, &ignored)
                                               : NULL;
      unsigned long inside, outside, count;
      cached = map != NULL && sscanf (map, "%lu %lu %lu", &inside, &outside, &count) == 3 && inside == 0
               && outside == 0 && count == 4294967295UL;
    }
  return cached == 1;
}
