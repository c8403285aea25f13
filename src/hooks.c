/* OCI hooks (see hooks.h): config.md "POSIX-platform Hooks", runtime.md "Lifecycle".
 *
 * One hook is: two pipes (the state for stdin, and one that carries execve's errno back), fork,
 * execve in the child, then one poll loop in the parent over a pidfd of the hook (its end) and the
 * non-blocking write end of the stdin pipe (the state, as far as the hook reads it), with the
 * timeout as poll's.  No SIGCHLD, no alarm: the loop works the same with every signal blocked (husk's
 * parent reads its signals from a signalfd while a container runs) or none.  SIGPIPE is blocked
 * while the state is written and a SIGPIPE this write raised is taken back before the mask is
 * restored, so it never reaches a handler or the caller's signalfd.  */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hooks.h"
#include "util.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Everything the child needs, made before fork: the child makes only async-signal-safe calls.  */
struct hook_exec
{
  const char *path;
  char *const *argv;
  char *const *envp;
  int stdin_fd;      /* read end of the state pipe */
  int errpipe;       /* write end of the pipe for execve's errno (O_CLOEXEC) */
  unsigned int nofile; /* fds to mark close-on-exec when close_range cannot */
};

/* The hook's side, from fork to execve.  */
static __attribute__ ((noreturn)) void
hook_child (const struct hook_exec *x)
{
  int e;

  /* Its own process group, so a timeout kills what it started too.  */
  (void) setpgid (0, 0);
  /* The caller's ignored signals would survive execve, its mask too (husk's parent blocks all).  */
  signals_reset_default ();

  /* dup2 clears close-on-exec on fd 0; a pipe that already is fd 0 needs it cleared by hand.  */
  if (x->stdin_fd == STDIN_FILENO)
    e = fcntl (STDIN_FILENO, F_SETFD, 0);
  else
    e = dup2 (x->stdin_fd, STDIN_FILENO);
  if (e < 0)
    goto fail;
  /* Nothing of husk's above stdio reaches the hook, leaked fds included.  */
  if (syscall (SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    for (unsigned int fd = 3; fd < x->nofile; fd++)
      (void) fcntl ((int) fd, F_SETFD, FD_CLOEXEC);
  execve (x->path, x->argv, x->envp);
fail:
  e = errno;
  if (write (x->errpipe, &e, sizeof e) < 0)
    _exit (126);
  _exit (127);
}

/* ---- SIGPIPE ------------------------------------------------------------------------------- */

struct sigpipe_guard
{
  sigset_t old;
  bool was_pending; /* pending before us: not ours to take */
};

static void
sigpipe_block (struct sigpipe_guard *g)
{
  sigset_t set, pending;

  sigemptyset (&set);
  sigaddset (&set, SIGPIPE);
  sigemptyset (&pending);
  (void) sigpending (&pending);
  g->was_pending = sigismember (&pending, SIGPIPE) == 1;
  (void) pthread_sigmask (SIG_BLOCK, &set, &g->old);
}

/* Take back a SIGPIPE our writes raised, then restore the caller's mask.  */
static void
sigpipe_restore (struct sigpipe_guard *g)
{
  static const struct timespec zero = { 0, 0 };
  sigset_t set, pending;

  sigemptyset (&set);
  sigaddset (&set, SIGPIPE);
  sigemptyset (&pending);
  if (!g->was_pending && sigpending (&pending) == 0 && sigismember (&pending, SIGPIPE) == 1)
    (void) sigtimedwait (&set, NULL, &zero);
  (void) pthread_sigmask (SIG_SETMASK, &g->old, NULL);
}

/* ---- the parent's side --------------------------------------------------------------------- */

static void
closep (int *fd)
{
  if (*fd >= 0)
    (void) close (*fd);
  *fd = -1;
}

static long long
now_ms (void)
{
  struct timespec ts;

  (void) clock_gettime (CLOCK_MONOTONIC, &ts);
  return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* waitpid for PID into *STATUS.  Returns 0, or -1 with errno (ECHILD: someone else reaped it).  */
static int
reap (pid_t pid, int *status)
{
  while (waitpid (pid, status, 0) < 0)
    if (errno != EINTR)
      return -1;
  return 0;
}

/* SIGKILL the hook's process group and the hook itself, then reap it.  */
static void
kill_and_reap (pid_t pid, int pidfd)
{
  int status;

  (void) kill (-pid, SIGKILL);
  if (pidfd < 0 || syscall (SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) < 0)
    (void) kill (pid, SIGKILL);
  (void) reap (pid, &status);
}

/* Feed STATE (LEN bytes) to the hook on *IN_W (closed here) until it exits or reads no more, and
 * wait for its end on PIDFD at most TIMEOUT_MS (< 0: forever).  Returns 0 with *STATUS (the hook is
 * reaped), 1 when the timeout passed (the hook is killed and reaped), or -1 with errno (poll failed:
 * the hook is killed and reaped; or waitpid failed).  */
static int
feed_and_wait (pid_t pid, int pidfd, int *in_w, const char *state, size_t len, long long timeout_ms,
               int *status)
{
  long long deadline = timeout_ms >= 0 ? now_ms () + timeout_ms : -1;
  size_t off = 0;

  if (len == 0 || fcntl (*in_w, F_SETFL, O_NONBLOCK) < 0)
    closep (in_w);
  for (;;)
    {
      struct pollfd fds[2] = { { .fd = pidfd, .events = POLLIN }, { .fd = *in_w, .events = POLLOUT } };
      nfds_t nfds = *in_w >= 0 ? 2 : 1;
      int wait_ms = -1, r;

      if (deadline >= 0)
        {
          long long left = deadline - now_ms ();
          if (left <= 0)
            {
              kill_and_reap (pid, pidfd);
              return 1;
            }
          wait_ms = left > 1000000 ? 1000000 : (int) left;
        }
      r = poll (fds, nfds, wait_ms);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        {
          int e = errno;
          kill_and_reap (pid, pidfd);
          errno = e;
          return -1;
        }
      if (nfds == 2 && fds[1].revents != 0)
        {
          ssize_t w = write (*in_w, state + off, len - off);
          if (w > 0)
            off += (size_t) w;
          /* EPIPE: the hook closed stdin without reading it all, which is its right.  */
          if (off == len || (w < 0 && errno != EAGAIN && errno != EINTR))
            closep (in_w);
        }
      if (fds[0].revents != 0)
        {
          closep (in_w);
          return reap (pid, status);
        }
    }
}

/* Run hook I of KIND.  Returns 0, or -1 with ERR.  */
static int
run_hook (const struct husk_hook *h, const char *kind, size_t i, const char *state, size_t len,
          struct husk_err *err)
{
  static char *no_env[] = { NULL };
  char *path_only[] = { h->path, NULL };
  cleanup_close int in_r = -1, in_w = -1, err_r = -1, err_w = -1, pidfd = -1;
  struct hook_exec x;
  struct sigpipe_guard guard;
  struct rlimit rl;
  int p[2], status = 0, exec_errno = 0, r;
  ssize_t n;
  pid_t pid;

  if (h->path == NULL || h->path[0] != '/')
    return husk_err_set (err, 0, "hooks.%s[%zu]: path '%s' is not absolute", kind, i,
                         h->path != NULL ? h->path : "");
  /* The stdin pipe first: when husk runs with fd 0 closed it becomes fd 0, never the errno pipe.  */
  if (pipe2 (p, O_CLOEXEC) < 0)
    return husk_err_set (err, errno, "hooks.%s[%zu]: pipe", kind, i);
  in_r = p[0];
  in_w = p[1];
  if (pipe2 (p, O_CLOEXEC) < 0)
    return husk_err_set (err, errno, "hooks.%s[%zu]: pipe", kind, i);
  err_r = p[0];
  err_w = p[1];
  x = (struct hook_exec) {
    .path = h->path,
    .argv = h->args != NULL && h->args[0] != NULL ? h->args : path_only,
    .envp = h->env != NULL ? h->env : no_env,
    .stdin_fd = in_r,
    .errpipe = err_w,
    .nofile = getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (1U << 20) ? (unsigned int) rl.rlim_cur
                                                                              : (1U << 20),
  };
  husk_debug ("hooks.%s[%zu]: run '%s'", kind, i, h->path);

  pid = fork ();
  if (pid < 0)
    return husk_err_set (err, errno, "hooks.%s[%zu]: fork for '%s'", kind, i, h->path);
  if (pid == 0)
    hook_child (&x);
  (void) setpgid (pid, pid); /* also here: no window where a timeout's kill misses the group */
  closep (&in_r);
  closep (&err_w);

  pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
  if (pidfd < 0)
    {
      int e = errno;
      kill_and_reap (pid, -1);
      return husk_err_set (err, e, "hooks.%s[%zu]: pidfd_open for '%s'", kind, i, h->path);
    }
  /* EOF when execve succeeded (the pipe is close-on-exec), else execve's errno.  */
  do
    n = read (err_r, &exec_errno, sizeof exec_errno);
  while (n < 0 && errno == EINTR);
  if (n == (ssize_t) sizeof exec_errno)
    {
      (void) reap (pid, &status);
      return husk_err_set (err, exec_errno, "hooks.%s[%zu]: exec '%s'", kind, i, h->path);
    }

  sigpipe_block (&guard);
  r = feed_and_wait (pid, pidfd, &in_w, state, len, h->has_timeout ? (long long) h->timeout * 1000 : -1,
                     &status);
  sigpipe_restore (&guard);
  if (r < 0)
    return husk_err_set (err, errno, "hooks.%s[%zu]: wait for '%s'", kind, i, h->path);
  if (r > 0)
    return husk_err_set (err, 0, "hooks.%s[%zu]: '%s' timed out after %d s", kind, i, h->path, h->timeout);
  if (WIFSIGNALED (status))
    return husk_err_set (err, 0, "hooks.%s[%zu]: '%s' killed by signal %d", kind, i, h->path, WTERMSIG (status));
  if (WIFEXITED (status) && WEXITSTATUS (status) != 0)
    return husk_err_set (err, 0, "hooks.%s[%zu]: '%s' exited with status %d", kind, i, h->path,
                         WEXITSTATUS (status));
  return 0;
}

int
hooks_run (const struct husk_hook *hooks, size_t n, const char *kind, const char *state_json,
           struct husk_err *err)
{
  size_t len = state_json != NULL ? strlen (state_json) : 0;

  for (size_t i = 0; i < n; i++)
    if (run_hook (&hooks[i], kind, i, state_json, len, err) < 0)
      return -1;
  return 0;
}
