/* The CHILD side of creating a container, from clone to execve (see child.h).
 *
 * Read child_setup() top to bottom: it is the container being built.  Every step is one call; the
 * comment on it says why it sits where it does.  The parent's side is container_run() in container.c;
 * the SYNC_* messages line the two up.  */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "caps.h"
#include "child.h"
#include "dev.h"
#include "fs.h"
#include "mount.h"
#include "ns/netns.h"
#include "ns/userns.h"
#include "process.h"
#include "sync.h"
#include "util.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Undo what the child inherited from husk's process: signal dispositions and mask.  The parent blocks
 * signals to forward them; ignored signals would survive execve.  */
static void
reset_signals (void)
{
  struct sigaction sa = { .sa_handler = SIG_DFL };
  sigset_t all;

  for (int sig = 1; sig < NSIG; sig++)
    (void) sigaction (sig, &sa, NULL);
  sigemptyset (&all);
  (void) sigprocmask (SIG_SETMASK, &all, NULL);
}

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

static int
child_setup (const struct husk_child_ctx *c, char **exe, struct husk_err *err)
{
  const struct husk_spec *spec = c->spec;
  const struct husk_process *proc = spec->process;
  const struct husk_linux *lx = spec->linux;
  bool userns = c->ns->new_ns[HUSK_NS_USER] || c->ns->join_fd[HUSK_NS_USER] >= 0;
  struct husk_mount_ctx mctx = {
    .spec = spec,
    .bundle = c->bundle,
    .rootfs = c->rootfs,
    .rootfd = -1,
    .userns = userns,
    .cgroupns = c->ns->new_ns[HUSK_NS_CGROUP],
    .cgroup = c->cgroup,
  };
  cleanup_close int procfd = -1;

  /* sync 1: the parent has written our id maps and put us in the cgroup.  */
  if (sync_wait (c->sync_fd, SYNC_GO, err) < 0)
    return -1;
  /* Joins come first, unshares after, so a joined user namespace owns what is unshared; the cgroup
   * namespace is unshared only now that we are in the container's cgroup, so that is its root.  */
  if (ns_join_and_unshare (c->ns, err) < 0)
    return -1;
  if (c->ns->new_ns[HUSK_NS_USER] && become_userns_root (err) < 0)
    return -1;
  if (c->ns->new_ns[HUSK_NS_UTS] && set_names (spec, err) < 0)
    return -1;
  if (c->ns->new_ns[HUSK_NS_NETWORK] && netns_loopback_up (err) < 0)
    return -1;

  /* The root filesystem, in our own mount namespace: nothing below propagates to the host.  */
  if (mount_prepare_rootfs (&mctx, err) < 0)
    return -1;
  if (mount_spec_mounts (&mctx, err) < 0)
    return -1;
  if (dev_setup (spec, mctx.rootfd, userns, err) < 0)
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
  if (process_set_rlimits (proc, err) < 0)
    return -1;
  if (process_set_oom_score_adj (proc, procfd, err) < 0)
    return -1;
  if (process_set_scheduler (proc, err) < 0 || process_set_io_priority (proc, err) < 0)
    return -1;
  if (lx != NULL && process_set_personality (lx, err) < 0)
    return -1;

  /* Privileges, in the order the kernel allows: the bounding set needs CAP_SETPCAP, so it is dropped
   * while we are still root; the uid change keeps the permitted set (PR_SET_KEEPCAPS) so caps_apply
   * can set the final sets after it.  */
  if (caps_drop_bounding (proc->capabilities, err) < 0)
    return -1;
  if (process_set_user (&proc->user, userns_setgroups_allowed (), err) < 0)
    return -1;
  /* Without no_new_privs, installing a filter needs CAP_SYS_ADMIN, which caps_apply may drop: load
   * it now.  With no_new_privs it waits until just before execve (fewer syscalls to allow).  */
  if (!proc->no_new_privileges && seccomp_apply (c->seccomp, err) < 0)
    return -1;
  if (caps_apply (proc->capabilities, err) < 0)
    return -1;
  /* As the container's user, so permissions on the way apply; checked to be inside the root
   * (CVE-2024-21626).  */
  if (process_chdir (proc->cwd, err) < 0)
    return -1;
  *exe = process_find_executable (proc->args[0], proc->env, err);
  if (*exe == NULL)
    return -1;
  if (proc->no_new_privileges && caps_set_no_new_privs (err) < 0)
    return -1;

  /* sync 2: set up; the parent records "created" and lets us run.  */
  if (sync_send (c->sync_fd, SYNC_CREATED, NULL, err) < 0)
    return -1;
  if (sync_wait (c->sync_fd, SYNC_START, err) < 0)
    return -1;
  /* Last, so the filter need not allow anything husk itself does above.  */
  if (proc->no_new_privileges && seccomp_apply (c->seccomp, err) < 0)
    return -1;
  return 0;
}

void
child_main (const struct husk_child_ctx *c)
{
  struct husk_err err = { 0 };
  char *exe = NULL;

  /* Die with the parent until execve.  A parent that died before this line closed its end of the
   * sync socket, so the wait for SYNC_GO below fails and we exit.  */
  (void) prctl (PR_SET_PDEATHSIG, SIGKILL);
  (void) prctl (PR_SET_NAME, "husk:[child]");
  /* No /proc/<pid> access for the container to this process while it still is husk.  */
  (void) prctl (PR_SET_DUMPABLE, 0);
  reset_signals ();
  /* Every fd above stdio closes at execve, including ones the caller leaked to husk without
   * O_CLOEXEC (CVE-2024-21626): nothing of the host reaches the container.  */
  (void) syscall (SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);

  if (child_setup (c, &exe, &err) == 0)
    {
      static char *no_env[] = { NULL };
      char **env = c->spec->process->env != NULL ? c->spec->process->env : no_env;
      /* The death signal would survive execve: the container must outlive husk (--detach, and a
       * runtime killed by its caller leaves the container to `delete`, as runc and crun do).  */
      (void) prctl (PR_SET_PDEATHSIG, 0);
      execve (exe, c->spec->process->args, env);
      husk_err_set (&err, errno, "exec '%s'", exe);
      (void) sync_send (c->sync_fd, SYNC_ERROR, &err, &err);
      _exit (127);
    }
  (void) sync_send (c->sync_fd, SYNC_ERROR, &err, &err);
  _exit (1);
}
