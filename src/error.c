/* husk's error values and log sinks (see error.h for the convention).  */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "error.h"

static int log_fd = STDERR_FILENO;
static enum husk_log_format log_format = HUSK_LOG_TEXT;
static bool log_debug;

int
husk_err_set (struct husk_err *err, int errnum, const char *fmt, ...)
{
  va_list ap;

  err->errnum = errnum;
  va_start (ap, fmt);
  (void) vsnprintf (err->msg, sizeof err->msg, fmt, ap);
  va_end (ap);
  return -1;
}

int
husk_err_prefix (struct husk_err *err, const char *fmt, ...)
{
  char prefix[HUSK_ERR_MSG_MAX];
  char old[HUSK_ERR_MSG_MAX];
  va_list ap;
  int n;

  va_start (ap, fmt);
  n = vsnprintf (prefix, sizeof prefix, fmt, ap);
  va_end (ap);
  if (n < 0)
    return -1;
  memcpy (old, err->msg, sizeof old);
  n = snprintf (err->msg, sizeof err->msg, "%s: %s", prefix, old);
  if (n >= (int) sizeof err->msg)
    err->msg[sizeof err->msg - 1] = '\0'; /* truncated: the start is the useful part */
  return -1;
}

const char *
husk_err_text (const struct husk_err *err, char *buf, size_t size)
{
  int n;

  if (err->errnum != 0)
    n = snprintf (buf, size, "%s: %s", err->msg, strerror (err->errnum));
  else
    n = snprintf (buf, size, "%s", err->msg);
  (void) n;
  return buf;
}

int
husk_log_init (const char *path, enum husk_log_format format, bool debug, struct husk_err *err)
{
  log_format = format;
  log_debug = debug;
  if (path == NULL)
    return 0;
  int fd = open (path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0)
    return husk_err_set (err, errno, "open log file '%s'", path);
  log_fd = fd;
  return 0;
}

/* Append S to OUT as a JSON string body (without quotes).  */
static size_t
json_escape (char *out, size_t size, const char *s)
{
  size_t n = 0;

  for (; *s != '\0' && n + 7 < size; s++)
    {
      unsigned char c = (unsigned char) *s;
      if (c == '"' || c == '\\')
        {
          out[n++] = '\\';
          out[n++] = (char) c;
        }
      else if (c == '\n')
        {
          out[n++] = '\\';
          out[n++] = 'n';
        }
      else if (c < 0x20)
        n += (size_t) snprintf (out + n, size - n, "\\u%04x", c);
      else
        out[n++] = (char) c;
    }
  out[n] = '\0';
  return n;
}

static void
log_write (const char *level, const char *msg)
{
  char line[HUSK_ERR_MSG_MAX * 6 + 256];
  int n;

  if (log_format == HUSK_LOG_JSON)
    {
      char esc[HUSK_ERR_MSG_MAX * 6];
      char stamp[64];
      struct timespec ts;
      struct tm tm;

      (void) clock_gettime (CLOCK_REALTIME, &ts);
      (void) gmtime_r (&ts.tv_sec, &tm);
      n = (int) strftime (stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
      (void) snprintf (stamp + n, sizeof stamp - (size_t) n, ".%09ldZ", ts.tv_nsec);
      json_escape (esc, sizeof esc, msg);
      n = snprintf (line, sizeof line, "{\"level\":\"%s\",\"msg\":\"%s\",\"time\":\"%s\"}\n", level, esc,
                    stamp);
    }
  else if (strcmp (level, "error") == 0)
    n = snprintf (line, sizeof line, "husk: %s\n", msg);
  else
    n = snprintf (line, sizeof line, "husk: %s: %s\n", level, msg);
  if (n < 0)
    return;
  if ((size_t) n >= sizeof line)
    n = sizeof line - 1;
  /* One write per line, so concurrent writers to one log file never interleave within a line.  */
  (void) !write (log_fd, line, (size_t) n);
}

int
husk_log_fd (void)
{
  return log_fd;
}

void
husk_log_error (const struct husk_err *err)
{
  char buf[HUSK_ERR_MSG_MAX + 256];

  log_write ("error", husk_err_text (err, buf, sizeof buf));
}

static void
log_vprintf (const char *level, const char *fmt, va_list ap)
{
  char msg[HUSK_ERR_MSG_MAX];

  (void) vsnprintf (msg, sizeof msg, fmt, ap);
  log_write (level, msg);
}

void
husk_warn (const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  log_vprintf ("warning", fmt, ap);
  va_end (ap);
}

void
husk_debug (const char *fmt, ...)
{
  va_list ap;

  if (!log_debug)
    return;
  va_start (ap, fmt);
  log_vprintf ("debug", fmt, ap);
  va_end (ap);
}
