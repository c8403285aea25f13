/* husk's one error convention.
 *
 * A function that can fail takes `struct husk_err *err` as its last argument and returns an int:
 * >= 0 on success (it may be an fd or a count), -1 on failure with *err filled in. A function that
 * returns a pointer returns NULL on failure and fills *err.  Only main() prints an error.
 *
 * Messages say what failed first, name the subject in single quotes, start in lower case and have no
 * final period.  Configuration errors read `config.json: <json path>: <problem>`.  The errno text
 * (when errnum != 0) is appended when the error is printed, never stored in msg.
 *
 * struct husk_err has a fixed size and holds no pointers, so it lives on the caller's stack, needs no
 * freeing, and crosses the parent/child sync socket as it is.
 */
#ifndef HUSK_ERROR_H
#define HUSK_ERROR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define HUSK_ERR_MSG_MAX 1024

struct husk_err
{
  int errnum;                 /* errno value, or 0 when the message says everything */
  char msg[HUSK_ERR_MSG_MAX]; /* NUL-terminated, never empty once set */
};

/* Fill ERR with ERRNUM (0 for none) and the printf-style message.  Returns -1 always, so that
 * `return husk_err_set (err, errno, "open '%s'", path);` is the whole error path.  */
int husk_err_set (struct husk_err *err, int errnum, const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));

/* Prepend "CONTEXT: " to ERR's message (truncating at the end if needed).  Returns -1 always.  */
int husk_err_prefix (struct husk_err *err, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

/* Write ERR's full text ("msg" or "msg: strerror(errnum)") into BUF of SIZE bytes.  Returns BUF.  */
const char *husk_err_text (const struct husk_err *err, char *buf, size_t size);

/* Where messages go.  Text to stderr by default; `--log FILE --log-format json` writes one JSON
 * object per line with "level", "msg" and an RFC 3339 "time" (what containerd reads).  */
enum husk_log_format
{
  HUSK_LOG_TEXT,
  HUSK_LOG_JSON,
};

/* Set the log sink.  PATH NULL means stderr.  DEBUG enables husk_debug().  Returns 0, or -1 with ERR
 * when PATH cannot be opened (O_APPEND|O_CLOEXEC).  */
int husk_log_init (const char *path, enum husk_log_format format, bool debug, struct husk_err *err);

/* The fd messages go to (2, or the --log file's).  */
int husk_log_fd (void);

/* Print ERR once, at level "error", to the log sink.  Called by main() only.  */
void husk_log_error (const struct husk_err *err);

/* A problem that does not stop the command; say ", ignoring" or what happens instead.  */
void husk_warn (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

/* Printed only with --debug.  */
void husk_debug (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

#endif
