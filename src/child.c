/* The CHILD side of creating a container, from clone to execve (see child.h).
 *
 * Read stage1() and then stage2_setup() top to bottom: they are the container being built.  Every
 * step is one call; the comment on it says why it sits where it does.  The parent's side is
 * container_run() in container.c; the SYNC_* messages (sync.h) line the three processes up.  */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/sched.h>

#include "child.h"
#include "dev.h"
#include "fs.h"
#include "hooks.h"
#include "mount.h"
#include "ns/netns.h"
#include "ns/userns.h"
#include "parent.h"
#include "process.h"
#include "state.h"
#include "sync.h"
#include "terminal.h"
#include "util.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* In a new user namespace, become its root (when mapped) so files made during setup have a mapped
 * owner; process_set_user() sets the final ids later.  */
static int
become_userns_root (struct husk_err *err)
{
  if (setresgid (0, 0, 0) < 0)
    return husk_err_set (err, errno, "setresgid 0 in the user namespace (is gid 0 mapped?)");
  if (setresuid (0, 0, 0) < 0)
    return husk_err_set (err, errno, "setresuid 0 in the user namespace (is uid 0 mapped?)");
  return 0;
}

static int
set_names (const struct husk_spec *spec, struct husk_err *err)
{
  if (spec->hostname != NULL && sethostname (spec->hostname, strlen (spec->hostname)) < 0)
    return husk_err_set (err, errno, "config.json: hostname: sethostname '%s'", spec->hostname);
  if (spec->domainname != NULL && setdomainname (spec->domainname, strlen (spec->domainname)) < 0)
    return husk_err_set (err, errno, "config.json: domainname: setdomainname '%s'", spec->domainname);
  return 0;
}

/* Run the container-side hooks HOOKS of KIND with the state JSON (STATUS, our pid as the container
 * sees it) on stdin.  Returns 0, or -1 with ERR.  */
static int
run_hooks (const struct husk_child_ctx *c, const struct husk_hook *hooks, size_t n, const char *kind,
           const char *status, struct husk_err *err)
{
  cleanup_free char *json = state_hook_json (c->id, status, getpid (), c->bundle, c->spec);

  return hooks_run (hooks, n, kind, json, err);
}

/* create: block until `husk start` opens <state>/exec.fifo for reading, then tell it we go on.  The
 * FIFO is reopened for writing through the private procfs (PROCFD) from the O_PATH fd FIFO taken
 * before pivot_root; no path of the container's is involved.  The write end stays open (CLOEXEC) in
 * *OUT: `start` reads until it closes at execve, or reads our error if we fail before.
 * runtime.md "start".  */
static int
wait_for_start (int procfd, int fifo, int *out, struct husk_err *err)
{
  char link[32];
  int fd;

  (void) snprintf (link, sizeof link, "self/fd/%d", fifo);
  do
    fd = openat (procfd, link, O_WRONLY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return husk_err_set (err, errno, "open exec.fifo to wait for start");
  *out = fd;
  if (write_all (fd, "0", 1) < 0)
    return husk_err_set (err, errno, "write exec.fifo");
  return 0;
}

/* With create: the write end of exec.fifo once `start` opened it (see wait_for_start), or -1.  */
static int start_fd = -1;

/* Stage 2: from its birth as husk's child to the moment before execve.  *REPORTED becomes true once
 * `create` has been told the container exists (errors then go to the log, no one reads the socket).
 * Returns 0 with *EXE set, or -1 with ERR.  */
static int
stage2_setup (const struct husk_child_ctx *c, char **exe, bool *reported, struct husk_err *err)
{
  const struct husk_spec *spec = c->spec;
  const struct husk_process *proc = spec->process;
  const struct husk_linux *lx = spec->linux;
  const struct husk_hooks *hooks = spec->hooks;
  struct husk_mount_ctx mctx = {
    .spec = spec,
    .bundle = c->bundle,
    .rootfs = c->rootfs,
    .rootfd = -1,
    .userns = ns_private (c->ns, HUSK_NS_USER),
    .cgroupns = ns_private (c->ns, HUSK_NS_CGROUP),
    .cgroup = c->cgroup,
    .rootfs_mount = c->rootfs_mount,
  };
  cleanup_close int procfd = -1, peer = -1;

  /* sync: the parent knows our pid.  */
  if (sync_wait (c->sync_fd, SYNC_GO, NULL, err) < 0)
    return -1;
  if (ns_private (c->ns, HUSK_NS_UTS) && set_names (spec, err) < 0)
    return -1;
  if (c->ns->new_ns[HUSK_NS_NETWORK] && netns_loopback_up (err) < 0)
    return -1;

  /* The root filesystem, in our own mount namespace: nothing below propagates to the host.  */
  if (mount_prepare_rootfs (&mctx, err) < 0)
    return -1;
  if (mount_spec_mounts (&mctx, err) < 0)
    return -1;
  if (dev_setup (spec, mctx.rootfd, mctx.userns, err) < 0)
    return -1;
  if (proc->terminal)
    {
      cleanup_close int master = -1;
      if (terminal_create (mctx.rootfd, proc, &master, &peer, err) < 0)
        return -1;
      if (sync_send (c->sync_fd, SYNC_CONSOLE, 0, NULL, err) < 0 || terminal_send_fd (c->sync_fd, master, err) < 0)
        return -1;
    }
  /* Hooks before pivot_root (runtime.md "Lifecycle" 3-5): prestart and createRuntime in the
   * runtime's namespaces, so the parent runs them; createContainer here, in the container's
   * namespaces with the runtime's filesystem still visible.  */
  if (hooks != NULL && (hooks->n_prestart > 0 || hooks->n_create_runtime > 0))
    {
      if (sync_send (c->sync_fd, SYNC_HOOKS, 0, NULL, err) < 0
          || sync_wait (c->sync_fd, SYNC_HOOKS_DONE, NULL, err) < 0)
        return -1;
    }
  if (hooks != NULL && hooks->n_create_container > 0
      && run_hooks (c, hooks->create_container, hooks->n_create_container, "createContainer", "creating", err) < 0)
    return -1;
  if (mount_pivot_root (&mctx, err) < 0)
    return -1;
  if (mount_finalize (&mctx, err) < 0)
    return -1;

  /* /proc writes go through a private procfs instance, never through the container's /proc, which
   * its image could have shaped (CVE-2025-52881).  */
  procfd = fs_open_procfs (err);
  if (procfd < 0)
    return -1;
  if (lx != NULL && process_set_sysctl (lx, procfd, err) < 0)
    return -1;
  /* The pty becomes our controlling terminal and stdio before any filter is loaded, so no profile
   * has to allow setsid and TIOCSCTTY.  */
  if (peer >= 0 && terminal_become_controlling (peer, err) < 0)
    return -1;
  peer = -1;
  /* The process attributes and privileges, in the one order both `run` and `exec` use.  */
  *exe = process_prepare_exec (proc, lx, c->seccomp, userns_setgroups_allowed (), err);
  if (*exe == NULL)
    return -1;

  /* The death signal would survive execve, and the container must outlive husk (create, --detach,
   * or a runtime killed by its caller, as with runc and crun).  Cleared before the filter goes in,
   * which may forbid prctl; with create, before husk exits.  */
  if (c->exec_fifo >= 0)
    {
      if (prctl (PR_SET_PDEATHSIG, 0) < 0)
        return husk_err_set (err, errno, "clear the parent-death signal");
      /* sync: set up; `husk create` records the state and exits.  */
      if (sync_send (c->sync_fd, SYNC_CREATED, 0, NULL, err) < 0)
        return -1;
      *reported = true;
      if (wait_for_start (procfd, c->exec_fifo, &start_fd, err) < 0)
        return -1;
    }
  else
    {
      /* sync: set up; the parent records the state and lets us run.  */
      if (sync_send (c->sync_fd, SYNC_CREATED, 0, NULL, err) < 0)
        return -1;
      if (sync_wait (c->sync_fd, SYNC_START, NULL, err) < 0)
        return -1;
      if (prctl (PR_SET_PDEATHSIG, 0) < 0)
        return husk_err_set (err, errno, "clear the parent-death signal");
    }
  /* startContainer: in the container, as its user, just before the process (runtime.md 7).  */
  if (hooks != NULL && hooks->n_start_container > 0
      && run_hooks (c, hooks->start_container, hooks->n_start_container, "startContainer", "created", err) < 0)
    return -1;
  /* Last, so the filter need not allow anything husk itself does above.  */
  if (proc->no_new_privileges && seccomp_apply (c->seccomp, err) < 0)
    return -1;
  return 0;
}

static __attribute__ ((noreturn)) void
stage2 (const struct husk_child_ctx *c)
{
  struct husk_err err = { 0 };
  char *exe = NULL;
  bool reported = false;

  /* Die with husk (our parent, through CLONE_PARENT) until execve.  If husk died before this line,
   * its end of the sync socket is closed and the wait for SYNC_GO fails.  */
  (void) prctl (PR_SET_PDEATHSIG, SIGKILL);
  (void) prctl (PR_SET_NAME, "husk:[stage2]");
  signals_reset_default ();

  int status = 1;
  if (stage2_setup (c, &exe, &reported, &err) == 0)
    {
      static char *no_env[] = { NULL };
      char **env = c->spec->process->env != NULL ? c->spec->process->env : no_env;
      execve (exe, c->spec->process->args, env);
      husk_err_set (&err, errno, "exec '%s'", exe);
      status = 127;
    }
  /* Before `create` returned, the parent reports the error; after, nobody reads the socket: log it
   * (stderr, or the --log file, which containerd reads).  */
  if (reported)
    {
      /* `start` is reading exec.fifo: it reports the error as its own.  */
      if (start_fd >= 0)
        (void) write_all (start_fd, err.msg, strlen (err.msg));
      husk_log_error (&err);
    }
  else
    (void) sync_send (c->sync_fd, SYNC_ERROR, 0, &err, &err);
  _exit (status);
}

/* True when stage 1 turns non-dumpable at its birth.  A non-dumpable process's /proc/<pid> files
 * belong to root (proc(5) "PR_SET_DUMPABLE"), so a husk without root could not write the
 * setgroups, uid_map and gid_map of the user namespace stage 1 makes: then stage 1 turns
 * non-dumpable only once they are written (SYNC_MAPPED), before anything of the container's
 * exists or runs.  */
static bool
dumpable_early (const struct husk_child_ctx *c)
{
  return geteuid () == 0 || !c->ns->new_ns[HUSK_NS_USER];
}

/* Stage 1: namespaces, then stage 2.  Returns stage 2's pid, or -1 with ERR.  */
static pid_t
stage1 (const struct husk_child_ctx *c, struct husk_err *err)
{
  struct clone_args args = { .flags = CLONE_PARENT };
  pid_t pid;

  /* The container's cgroup first: everything we make, stage 2 included, is born in it, and a new
   * cgroup namespace has it as its root.  */
  if (c->cgroup != NULL && cgroup_enter_self (c->cgroup, c->in_v2_cgroup, err) < 0)
    return -1;
  if (ns_join (c->ns, err) < 0)
    return -1;
  if (c->ns->new_ns[HUSK_NS_USER])
    {
      if (unshare (CLONE_NEWUSER) < 0)
        return husk_err_set (err, errno, "unshare user namespace");
      /* sync: the parent writes uid_map and gid_map for us.  */
      if (sync_send (c->sync_fd, SYNC_USERNS, 0, NULL, err) < 0 || sync_wait (c->sync_fd, SYNC_MAPPED, NULL, err) < 0)
        return -1;
      /* Rootless: only now, see child_stage1.  */
      if (!dumpable_early (c))
        (void) prctl (PR_SET_DUMPABLE, 0);
    }
  /* In a user namespace, new or joined, husk's host uid means nothing: be the namespace's root.  */
  if (ns_private (c->ns, HUSK_NS_USER) && become_userns_root (err) < 0)
    return -1;
  if (ns_unshare_rest (c->spec, c->ns, err) < 0)
    return -1;
  /* CLONE_PARENT: stage 2 is husk's child, so husk waits for it and can be a subreaper's direct
   * descendant; its exit signal is ours (SIGCHLD), which clone3 requires to be left 0 here.  */
  pid = (pid_t) syscall (SYS_clone3, &args, sizeof args);
  if (pid == 0)
    stage2 (c);
  if (pid < 0)
    return husk_err_set (err, errno, "clone3 the container process");
  return pid;
}

void
child_stage1 (const struct husk_child_ctx *c)
{
  struct husk_err err = { 0 };
  pid_t pid;

  /* Die with husk; if it already died, the wait for SYNC_GO fails on the closed socket.  */
  (void) prctl (PR_SET_PDEATHSIG, SIGKILL);
  (void) prctl (PR_SET_NAME, "husk:[stage1]");
  /* No /proc/<pid> access for the container to these processes while they still are husk.  */
  if (dumpable_early (c))
    (void) prctl (PR_SET_DUMPABLE, 0);
  /* Every fd above stdio and the preserved ones (--preserve-fds, LISTEN_FDS) closes at execve,
   * including ones the caller leaked to husk without O_CLOEXEC (CVE-2024-21626): nothing else of the
   * host reaches the container.  */
  parent_keep_fds (c->preserve_fds);

  pid = stage1 (c, &err);
  if (pid > 0 && sync_send (c->sync_fd, SYNC_PID, pid, NULL, &err) == 0)
    _exit (0);
  (void) sync_send (c->sync_fd, SYNC_ERROR, 0, &err, &err);
  _exit (1);
}
