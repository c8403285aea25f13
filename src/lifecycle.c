/* start, kill and delete of an existing container (see lifecycle.h).  */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "container.h"
#include "overlay.h"
#include "spec.h"
#include "lifecycle.h"
#include "state.h"
#include "util.h"

/* The config of the bundle BUNDLE, for its hooks, or NULL (with a warning) when it cannot be read.  */
static struct husk_spec *
load_bundle_spec (const char *bundle)
{
  cleanup_free char *path = xasprintf ("%s/config.json", bundle);
  struct husk_err err = { 0 };
  struct husk_spec *spec = spec_load (path, &err);

  if (spec == NULL)
    husk_warn ("%s; no hooks run", err.msg);
  return spec;
}

static void
cleanup_recp (struct husk_state_rec *rec)
{
  state_rec_release (rec);
}
#define cleanup_rec __attribute__ ((cleanup (cleanup_recp)))

/* A pidfd of REC's process, checked after opening to be the recorded process (same start time), so a
 * pid reused since is never signalled.  Returns the fd, or -1 (errno ESRCH) when it is gone.  */
static int
open_init (const struct husk_state_rec *rec)
{
  int fd;

  if (rec->pid <= 0)
    return errno = ESRCH, -1;
  fd = (int) syscall (SYS_pidfd_open, rec->pid, 0);
  if (fd < 0)
    return -1;
  if (rec->start_time != 0 && state_pid_start_time (rec->pid) != rec->start_time)
    {
      (void) close (fd);
      return errno = ESRCH, -1;
    }
  return fd;
}

/* After the start byte: read FIFO until EOF (the process exec'd, or died without a word), collecting
 * an error message the process may have written.  Returns 0, or -1 with ERR.  */
static int
wait_exec (int fifo, struct husk_err *err)
{
  char msg[HUSK_ERR_MSG_MAX];
  size_t len = 0;

  for (;;)
    {
      struct pollfd fds[1] = { { .fd = fifo, .events = POLLIN } };
      ssize_t n;
      if (poll (fds, 1, -1) < 0 && errno != EINTR)
        return husk_err_set (err, errno, "wait for the container process to exec");
      n = read (fifo, msg + len, sizeof msg - 1 - len);
      if (n > 0)
        {
          len += (size_t) n;
          if (len < sizeof msg - 1)
            continue;
        }
      if (n < 0 && (errno == EAGAIN || errno == EINTR))
        continue;
      break;
    }
  if (len == 0)
    return 0;
  msg[len] = '\0';
  return husk_err_set (err, 0, "%s", msg);
}

int
container_start (const char *root, const char *id, struct husk_err *err)
{
  cleanup_close int lock = -1, pidfd = -1, fifo = -1;
  cleanup_rec struct husk_state_rec rec = { 0 };
  const char *status;
  char byte;

  lock = state_lock (root, id, err);
  if (lock < 0 || state_load (root, id, &rec, err) < 0)
    return -1;
  status = state_status_now (root, &rec);
  if (strcmp (status, "running") == 0)
    return husk_err_set (err, 0, "cannot start an already running container");
  if (strcmp (status, "stopped") == 0)
    return husk_err_set (err, 0, "cannot start a container that has stopped");
  if (strcmp (status, "created") != 0)
    return husk_err_set (err, 0, "cannot start container '%s' in state '%s'", id, status);
  pidfd = open_init (&rec);
  if (pidfd < 0)
    return husk_err_set (err, 0, "cannot start a container that has stopped");
  /* Non-blocking, so a process that died meanwhile cannot leave us waiting for a writer.  */
  fifo = openat (lock, "exec.fifo", O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
  if (fifo < 0)
    return husk_err_set (err, errno, "open '%s/%s/exec.fifo'", root, id);
  for (;;)
    {
      struct pollfd fds[2] = { { .fd = fifo, .events = POLLIN }, { .fd = pidfd, .events = POLLIN } };
      if (poll (fds, 2, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          return husk_err_set (err, errno, "wait for the container process");
        }
      if (fds[0].revents & POLLIN)
        {
          ssize_t n = read (fifo, &byte, 1);
          if (n == 1)
            break;
          if (n < 0 && errno != EAGAIN && errno != EINTR)
            return husk_err_set (err, errno, "read exec.fifo");
        }
      if (fds[1].revents != 0)
        return husk_err_set (err, 0, "the container process exited before start");
    }
  /* From now on the container is "running".  */
  if (unlinkat (lock, "exec.fifo", 0) < 0)
    return husk_err_set (err, errno, "remove '%s/%s/exec.fifo'", root, id);
  /* The process keeps its end open until execve (CLOEXEC): EOF means it runs; anything read is the
   * error that stopped it (a startContainer hook, the exec itself).  */
  if (wait_exec (fifo, err) < 0)
    return -1;
  cleanup_spec struct husk_spec *spec = load_bundle_spec (rec.bundle);
  if (spec != NULL)
    run_poststart (spec, id, rec.pid, rec.bundle);
  return 0;
}

int
container_pause (const char *root, const char *id, bool freeze, struct husk_err *err)
{
  cleanup_close int lock = -1;
  cleanup_rec struct husk_state_rec rec = { 0 };
  struct husk_cgroup *cg;
  const char *status;
  int ret;

  lock = state_lock (root, id, err);
  if (lock < 0 || state_load (root, id, &rec, err) < 0)
    return -1;
  status = state_status_now (root, &rec);
  if (freeze && strcmp (status, "running") != 0)
    return husk_err_set (err, 0, strcmp (status, "paused") == 0 ? "container '%s' is already paused"
                                                                 : "container not running", id);
  if (!freeze && strcmp (status, "paused") != 0)
    return husk_err_set (err, 0, "container '%s' is not paused", id);
  if (rec.cgroup_path == NULL)
    return husk_err_set (err, 0, "container '%s' has no recorded cgroup", id);
  cg = cgroup_open (rec.cgroup_path, NULL, err);
  if (cg == NULL)
    return -1;
  ret = cgroup_freeze (cg, freeze, err);
  cgroup_free (cg);
  return ret;
}

int
parse_signal (const char *s, struct husk_err *err)
{
  const char *name = s;
  uint64_t n;

  if (parse_u64 (s, &n) == 0)
    {
      if (n == 0 || n >= (uint64_t) NSIG)
        return husk_err_set (err, 0, "invalid signal number '%s'", s);
      return (int) n;
    }
  if (strncasecmp (name, "SIG", 3) == 0)
    name += 3;
  for (int sig = 1; sig < NSIG; sig++)
    {
      const char *abbrev = sigabbrev_np (sig);
      if (abbrev != NULL && strcasecmp (abbrev, name) == 0)
        return sig;
    }
  return husk_err_set (err, 0, "unknown signal '%s'", s);
}

int
container_kill (const char *root, const char *id, int sig, bool all, struct husk_err *err)
{
  cleanup_rec struct husk_state_rec rec = { 0 };
  cleanup_close int pidfd = -1;
  const char *status;

  if (state_load (root, id, &rec, err) < 0)
    return -1;
  status = state_status_now (root, &rec);
  if (all)
    {
      struct husk_cgroup *cg;
      if (rec.cgroup_path == NULL)
        return husk_err_set (err, 0, "container '%s' has no recorded cgroup", id);
      cg = cgroup_open (rec.cgroup_path, NULL, err);
      if (cg == NULL)
        return -1;
      int n = cgroup_signal_all (cg, sig, err);
      cgroup_free (cg);
      if (n < 0)
        return -1;
      if (n == 0 && strcmp (status, "stopped") == 0)
        return husk_err_set (err, 0, "container not running");
      return 0;
    }
  if (strcmp (status, "stopped") == 0 || strcmp (status, "creating") == 0)
    return husk_err_set (err, 0, "container not running");
  pidfd = open_init (&rec);
  if (pidfd < 0 || syscall (SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
    {
      if (errno == ESRCH)
        return husk_err_set (err, 0, "container not running");
      return husk_err_set (err, errno, "kill container '%s'", id);
    }
  return 0;
}

int
container_delete (const char *root, const char *id, bool force, struct husk_err *err)
{
  cleanup_close int lock = -1;
  cleanup_rec struct husk_state_rec rec = { 0 };
  struct husk_cgroup *cg = NULL;
  const char *status;
  int ret;

  lock = state_lock (root, id, err);
  if (lock < 0)
    return -1;
  if (state_load (root, id, &rec, err) < 0)
    {
      /* A corrupt state file, or none (husk was killed between claiming the id and writing it; the
       * lock above proved the directory exists): with --force, still remove what the id names.  */
      if (!force)
        return -1;
      cleanup_free char *path = state_read_path (root, id, "cgroup.path");
      husk_warn ("%s; removing container '%s' with its cgroup '%s'", err->msg, id, path != NULL ? path : "(unknown)");
      if (path != NULL)
        cg = cgroup_open (path, NULL, err);
    }
  else
    {
      status = state_status_now (root, &rec);
      if (strcmp (status, "running") == 0 && !force)
        return husk_err_set (err, 0, "cannot delete container '%s' that is not stopped: %s", id, status);
      if (rec.cgroup_path != NULL)
        cg = cgroup_open (rec.cgroup_path, rec.cgroup_made_top, err);
      /* The init first (it may be outside the cgroup if the cgroup was never made).  */
      cleanup_close int pidfd = open_init (&rec);
      if (pidfd >= 0)
        (void) syscall (SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
    }
  /* cgroup_destroy kills what is left and removes the directories, waiting for the processes to go.  */
  ret = cg != NULL ? cgroup_destroy (cg, err) : 0;
  cgroup_free (cg);
  /* An image rootfs's upper and work directories: the overlay went with the mount namespace.  */
  if (ret == 0)
    {
      cleanup_free char *ovldir = state_read_path (root, id, "overlay.dir");
      if (ovldir != NULL)
        ret = overlay_remove_private (ovldir, err);
    }
  if (ret < 0 || state_remove (root, id, err) < 0)
    return -1;
  if (rec.bundle != NULL)
    {
      cleanup_spec struct husk_spec *spec = load_bundle_spec (rec.bundle);
      if (spec != NULL)
        run_poststop (spec, id, rec.bundle);
    }
  return 0;
}
