/* What husk's parent process does around a process it started (container init or exec): pid file,
 * oom_score_adj, waiting with signal forwarding, reaping (see parent.h).  */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "parent.h"
#include "process.h"
#include "sync.h"
#include "terminal.h"
#include "util.h"

void
parent_reap (pid_t *pid)
{
  if (*pid <= 0)
    return;
  while (waitpid (*pid, NULL, 0) < 0 && errno == EINTR)
    ;
  *pid = -1;
}

int
parent_write_pid_file (const char *path, pid_t pid, struct husk_err *err)
{
  cleanup_free char *tmp = xasprintf ("%s.husk-tmp", path);
  char buf[16];
  int n = snprintf (buf, sizeof buf, "%d", (int) pid);
  int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);

  if (fd < 0)
    return husk_err_set (err, errno, "open pid file '%s'", tmp);
  if (write_all (fd, buf, (size_t) n) < 0)
    {
      int e = errno;
      (void) close (fd);
      (void) unlink (tmp);
      return husk_err_set (err, e, "write pid file '%s'", tmp);
    }
  (void) close (fd);
  if (rename (tmp, path) < 0)
    {
      int e = errno;
      (void) unlink (tmp);
      return husk_err_set (err, e, "rename pid file to '%s'", path);
    }
  return 0;
}

/* True when the default action of SIG ends the process (terminate or core dump).  */
static bool
sig_default_ends (int sig)
{
  switch (sig)
    {
    case SIGCHLD:
    case SIGCONT:
    case SIGURG:
    case SIGWINCH:
    case SIGSTOP:
    case SIGTSTP:
    case SIGTTIN:
    case SIGTTOU:
      return false;
    default:
      return sig > 0 && sig < NSIG;
    }
}

/* True when PID leaves SIG at its default action: neither caught nor ignored (SigCgt and SigIgn
 * of /proc/PID/status).  False when that cannot be read.  */
static bool
sig_at_default (pid_t pid, int sig)
{
  char path[32], buf[4096];
  unsigned long long cgt = 0, ign = 0;
  ssize_t n;
  int fd;

  (void) snprintf (path, sizeof path, "/proc/%d/status", (int) pid);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  n = read (fd, buf, sizeof buf - 1);
  (void) close (fd);
  if (n <= 0)
    return false;
  buf[n] = '\0';
  const char *c = strstr (buf, "\nSigIgn:"), *d = strstr (buf, "\nSigCgt:");
  if (c == NULL || d == NULL || sscanf (c, "\nSigIgn: %llx", &ign) != 1 || sscanf (d, "\nSigCgt: %llx", &cgt) != 1)
    return false;
  return ((ign | cgt) & (1ULL << (sig - 1))) == 0;
}

int
parent_wait_forwarding (pid_t pid, int pidfd, int sfd, bool kill_uncaught)
{
  int escalated = 0;

  for (;;)
    {
      struct pollfd fds[2] = { { .fd = pidfd, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
      struct signalfd_siginfo si;
      int status;

      if (poll (fds, 2, -1) < 0 && errno != EINTR)
        return 255;
      if (fds[0].revents != 0)
        {
          if (waitpid (pid, &status, 0) != pid)
            return 255;
          if (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL && escalated != 0)
            return 128 + escalated;
          return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
        }
      if (fds[1].revents != 0 && read (sfd, &si, sizeof si) == sizeof si && si.ssi_signo != SIGCHLD)
        {
          int sig = (int) si.ssi_signo;
          bool escalate = kill_uncaught && sig_default_ends (sig) && sig_at_default (pid, sig);
          (void) syscall (SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
          if (escalate && syscall (SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) == 0 && escalated == 0)
            escalated = sig;
        }
    }
}

int
parent_set_oom_score_adj (const struct husk_process *process, pid_t pid, struct husk_err *err)
{
  char path[32];
  cleanup_close int dirfd = -1;

  if (!process->has_oom_score_adj)
    return 0;
  (void) snprintf (path, sizeof path, "/proc/%d", (int) pid);
  dirfd = open (path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return husk_err_set (err, errno, "open '%s'", path);
  return process_set_oom_score_adj (process, dirfd, err);
}

void
parent_forward_signal (const struct signalfd_siginfo *si, void *data)
{
  if (si->ssi_signo != SIGCHLD)
    (void) syscall (SYS_pidfd_send_signal, *(int *) data, (int) si->ssi_signo, NULL, 0);
}

int
parent_check_preserved_fds (unsigned int n, const char *what, struct husk_err *err)
{
  for (unsigned int fd = 3; fd < 3 + n; fd++)
    {
      if (fcntl ((int) fd, F_GETFD) < 0)
        return husk_err_set (err, errno, "%s %u: fd %u is not open", what, n, fd);
      if ((int) fd == husk_log_fd ())
        return husk_err_set (err, 0, "%s %u: fd %u is husk's --log file", what, n, fd);
    }
  return 0;
}

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

void
parent_keep_fds (unsigned int n)
{
  (void) syscall (SYS_close_range, 3U + n, ~0U, CLOSE_RANGE_CLOEXEC);
  for (unsigned int fd = 3; fd < 3 + n; fd++)
    (void) fcntl ((int) fd, F_SETFD, 0);
}

int
parent_receive_console (int sync, const char *console_socket, int *master, struct husk_err *err)
{
  if (sync_wait (sync, SYNC_CONSOLE, NULL, err) < 0 || terminal_recv_fd (sync, master, err) < 0)
    return -1;
  if (console_socket != NULL)
    {
      cleanup_close int cs = terminal_connect (console_socket, err);
      if (cs < 0 || terminal_send_fd (cs, *master, err) < 0)
        return -1;
      (void) close (steal_fd (master));
    }
  return 0;
}

void
parent_kill (pid_t *pid)
{
  if (*pid <= 0)
    return;
  (void) kill (*pid, SIGKILL);
  parent_reap (pid);
}

void
parent_proxy_console (int master, int pidfd, int sfd)
{
  struct husk_err err = { 0 };
  struct terminal_proxy tp = { .master = master, .in = 0, .out = 1, .pidfd = pidfd, .sfd = sfd,
                               .on_signal = parent_forward_signal, .data = &pidfd };

  if (terminal_proxy (&tp, &err) < 0)
    husk_warn ("%s, ignoring", err.msg);
}

int
parent_adopt (int sync, pid_t pid, const struct husk_process *process, const char *console_socket,
              int *master, struct husk_err *err)
{
  cleanup_close int pidfd = (int) syscall (SYS_pidfd_open, pid, 0);

  if (pidfd < 0)
    return husk_err_set (err, errno, "pidfd_open %d", (int) pid);
  if (parent_set_oom_score_adj (process, pid, err) < 0 || sync_send (sync, SYNC_GO, 0, NULL, err) < 0)
    return -1;
  if (process->terminal && parent_receive_console (sync, console_socket, master, err) < 0)
    return -1;
  return steal_fd (&pidfd);
}
