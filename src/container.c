/* The PARENT side of creating and running a container (see container.h).
 *
 * container_run() reads as the ordered list of what the parent does; the child's list is
 * child_setup() in child.c, and the SYNC_* messages line the two up.  Everything made on the host
 * (state dir, cgroup, process) is undone on the one `fail:` path.  */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/sched.h>

#include "cgroup/cgroup.h"
#include "child.h"
#include "hooks.h"
#include "container.h"
#include "ns/ns.h"
#include "overlay.h"
#include "ns/userns.h"
#include "process.h"
#include "seccomp.h"
#include "spec.h"
#include "state.h"
#include "sync.h"
#include "terminal.h"
#include "parent.h"
#include "util.h"

/* Fields the config may hold that later issues implement: refused clearly, never ignored.  */
static int
check_supported (const struct husk_spec *spec, struct husk_err *err)
{
  static const char fmt[] = "config.json: %s: not supported yet";
  const struct husk_process *p = spec->process;
  const struct husk_linux *lx = spec->linux;

  if (p == NULL)
    return husk_err_set (err, 0, "config.json: process: missing");
  if (p->apparmor_profile != NULL && *p->apparmor_profile != '\0')
    return husk_err_set (err, 0, fmt, "process.apparmorProfile");
  if (p->selinux_label != NULL && *p->selinux_label != '\0')
    return husk_err_set (err, 0, fmt, "process.selinuxLabel");
  if (p->exec_cpu_affinity != NULL)
    return husk_err_set (err, 0, fmt, "process.execCPUAffinity");
  if (lx == NULL)
    return 0;
  if (lx->intel_rdt != NULL)
    return husk_err_set (err, 0, fmt, "linux.intelRdt");
  if (lx->n_net_devices > 0)
    return husk_err_set (err, 0, fmt, "linux.netDevices");
  if (lx->memory_policy != NULL)
    return husk_err_set (err, 0, fmt, "linux.memoryPolicy");
  if (lx->mount_label != NULL && *lx->mount_label != '\0')
    return husk_err_set (err, 0, fmt, "linux.mountLabel");
  if (lx->seccomp != NULL && lx->seccomp->listener_path != NULL)
    return husk_err_set (err, 0, fmt, "linux.seccomp.listenerPath");
  return 0;
}

/* Clone stage 1, with no new namespace (it makes them itself, see child.h), born in the container's
 * cgroup2 directory when CGROUP_FD is one (CLONE_INTO_CGROUP: no migration at all).  *IN_CGROUP
 * says whether that happened; kernels before 5.7 refuse the flag (EINVAL, E2BIG), and a move the
 * caller is not allowed to make (EACCES, EPERM: rootless, outside its delegated cgroups) is
 * refused too: stage 1 is then cloned where husk is and moves itself, or fails saying where.  */
static pid_t
clone_stage1 (int cgroup_fd, bool *in_cgroup)
{
  struct clone_args args = { .exit_signal = SIGCHLD };
  pid_t pid;

  *in_cgroup = false;
  if (cgroup_fd >= 0)
    {
      args.flags = CLONE_INTO_CGROUP;
      args.cgroup = (uint64_t) cgroup_fd;
      pid = (pid_t) syscall (SYS_clone3, &args, sizeof args);
      if (pid >= 0 || (errno != EINVAL && errno != E2BIG && errno != EACCES && errno != EPERM))
        {
          *in_cgroup = true;
          return pid;
        }
      args.flags = 0;
      args.cgroup = 0;
    }
  return (pid_t) syscall (SYS_clone3, &args, sizeof args);
}

/* The current time as RFC 3339 with nanoseconds, UTC (state "created").  */
static void
rfc3339_now (char *buf, size_t size)
{
  struct timespec ts;
  struct tm tm;
  size_t n;

  (void) clock_gettime (CLOCK_REALTIME, &ts);
  (void) gmtime_r (&ts.tv_sec, &tm);
  n = strftime (buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
  (void) snprintf (buf + n, size - n, ".%09ldZ", ts.tv_nsec);
}

/* Add NAME=VALUE to the process's environment, replacing a NAME already there.  */
static void
env_put (struct husk_process *p, const char *name, const char *value)
{
  size_t len = strlen (name);

  for (size_t i = 0; i < p->n_env; i++)
    if (strncmp (p->env[i], name, len) == 0 && p->env[i][len] == '=')
      {
        free (p->env[i]);
        p->env[i] = xasprintf ("%s=%s", name, value);
        return;
      }
  p->env = xrealloc (p->env, (p->n_env + 2) * sizeof *p->env);
  p->env[p->n_env++] = xasprintf ("%s=%s", name, value);
  p->env[p->n_env] = NULL;
}

/* The fds the process gets besides stdio, as runc: the socket-activation fds systemd gave husk
 * (LISTEN_FDS, when LISTEN_PID is husk's pid) first, then --preserve-fds N more; the process then
 * sees LISTEN_FDS and LISTEN_PID=1.  *TOTAL gets the count.  Returns 0, or -1 with ERR.  */
static int
pass_fds (struct husk_spec *spec, unsigned int preserve, unsigned int *total, struct husk_err *err)
{
  const char *fds = getenv ("LISTEN_FDS"), *pid = getenv ("LISTEN_PID");
  uint64_t n = 0, p = 0;

  if (fds != NULL && pid != NULL && parse_u64 (fds, &n) == 0 && parse_u64 (pid, &p) == 0
      && p == (uint64_t) getpid () && n > 0 && n < 1024)
    {
      env_put (spec->process, "LISTEN_FDS", fds);
      env_put (spec->process, "LISTEN_PID", "1");
    }
  else
    n = 0;
  *total = (unsigned int) n + preserve;
  return parent_check_preserved_fds (*total, n > 0 ? "LISTEN_FDS + --preserve-fds" : "--preserve-fds", err);
}

/* sd_notify: when husk's caller gave it a NOTIFY_SOCKET (a path), bind that socket into the container
 * at /run/notify/notify.sock and point the process's NOTIFY_SOCKET there, so READY=1 and the rest
 * reach the caller's listener.  An abstract socket ("@...") cannot be bound: warned about.  */
static int
pass_notify_socket (struct husk_spec *spec, struct husk_err *err)
{
  static const char dest[] = "/run/notify/notify.sock";
  const char *path = getenv ("NOTIFY_SOCKET");
  struct stat st;

  if (path == NULL || *path == '\0')
    return 0;
  if (*path != '/')
    {
      husk_warn ("NOTIFY_SOCKET '%s' is not a path, not passed to the container", path);
      return 0;
    }
  if (stat (path, &st) < 0 || !S_ISSOCK (st.st_mode))
    return husk_err_set (err, errno != 0 ? errno : ENOTSOCK, "NOTIFY_SOCKET '%s'", path);
  spec->mounts = xrealloc (spec->mounts, (spec->n_mounts + 1) * sizeof *spec->mounts);
  struct husk_mount *m = &spec->mounts[spec->n_mounts++];
  memset (m, 0, sizeof *m);
  m->destination = xstrdup (dest);
  m->type = xstrdup ("bind");
  m->source = xstrdup (path);
  m->options = xcalloc (5, sizeof *m->options);
  m->options[0] = xstrdup ("bind");
  m->options[1] = xstrdup ("nosuid");
  m->options[2] = xstrdup ("nodev");
  m->options[3] = xstrdup ("noexec");
  m->n_options = 4;
  env_put (spec->process, "NOTIFY_SOCKET", dest);
  return 0;
}

/* poststart (runtime.md "Lifecycle" 9): after the process started; a failure is a warning.  */
void
run_poststart (const struct husk_spec *spec, const char *id, pid_t pid, const char *bundle)
{
  struct husk_err err = { 0 };

  if (spec->hooks == NULL || spec->hooks->n_poststart == 0)
    return;
  cleanup_free char *json = state_hook_json (id, "running", pid, bundle, spec);
  if (hooks_run (spec->hooks->poststart, spec->hooks->n_poststart, "poststart", json, &err) < 0)
    husk_warn ("%s, ignoring", err.msg);
}

/* poststop (runtime.md "Lifecycle" 13): after the container is deleted; a failure is a warning.  */
void
run_poststop (const struct husk_spec *spec, const char *id, const char *bundle)
{
  struct husk_err err = { 0 };

  if (spec->hooks == NULL || spec->hooks->n_poststop == 0)
    return;
  cleanup_free char *json = state_hook_json (id, "stopped", 0, bundle, spec);
  if (hooks_run (spec->hooks->poststop, spec->hooks->n_poststop, "poststop", json, &err) < 0)
    husk_warn ("%s, ignoring", err.msg);
}

int
container_run (const struct husk_run_opts *o, struct husk_err *err)
{
  cleanup_free char *bundle = NULL, *config = NULL, *rootfs = NULL;
  cleanup_spec struct husk_spec *loaded = NULL;
  struct husk_spec *spec = o->spec;
  cleanup_close int statefd = -1, pidfd = -1, sfd = -1, fifofd = -1, master = -1, ovlfd = -1;
  struct husk_overlay ovl = { 0 };
  cleanup_free char *ovldir = NULL;
  int has_ovl;
  char created[64];
  struct husk_seccomp_bpf bpf = { 0 };
  struct husk_ns_plan plan;
  struct husk_cgroup *cg = NULL;
  int sync[2] = { -1, -1 }, ret = -1;
  pid_t stage1 = -1, pid = -1;
  bool pid_file_written = false, in_v2 = false, hooks_started = false;
  unsigned int preserve = 0;
  const struct husk_hooks *hooks = NULL;
  sigset_t all, old;
  struct husk_err ignored;

  for (int t = 0; t < HUSK_NS_COUNT; t++)
    plan.join_fd[t] = -1;
  (void) sigprocmask (SIG_BLOCK, NULL, &old);

  /* Nothing exists yet: bad input fails here with nothing to undo.  */
  if (state_check_id (o->id, err) < 0)
    return -1;
  bundle = realpath (o->bundle, NULL);
  if (bundle == NULL)
    return husk_err_set (err, errno, "bundle '%s'", o->bundle);
  if (spec == NULL)
    {
      config = xasprintf ("%s/config.json", bundle);
      spec = loaded = spec_load (config, err);
    }
  if (spec == NULL || spec_validate (spec, "config.json", err) < 0 || check_supported (spec, err) < 0)
    return -1;
  hooks = spec->hooks;
  if (pass_fds (spec, o->preserve_fds, &preserve, err) < 0 || pass_notify_socket (spec, err) < 0)
    return -1;
  /* Someone must receive the pty master: the console socket, or `run` itself in the foreground.  */
  if (spec->process->terminal && o->console_socket == NULL && (!o->run || o->detach))
    return husk_err_set (err, 0, "config.json: process.terminal: needs --console-socket with %s",
                         o->run ? "--detach" : "create");
  if (!spec->process->terminal && o->console_socket != NULL)
    return husk_err_set (err, 0, "--console-socket: config.json: process.terminal is false");
  rootfs = spec->root->path[0] == '/' ? xstrdup (spec->root->path)
                                      : xasprintf ("%s/%s", bundle, spec->root->path);
  {
    struct stat st;
    if (stat (rootfs, &st) < 0)
      return husk_err_set (err, errno, "config.json: root.path: '%s'", rootfs);
    if (!S_ISDIR (st.st_mode))
      return husk_err_set (err, ENOTDIR, "config.json: root.path: '%s'", rootfs);
  }
  /* An image bundle (husk image unpack): its rootfs is an overlay of the store's layers.  */
  has_ovl = overlay_load (bundle, &ovl, err);
  if (has_ovl < 0)
    return -1;
  if (has_ovl && (spec_namespace (spec, HUSK_NS_MOUNT) == NULL || spec_namespace (spec, HUSK_NS_MOUNT)->path != NULL))
    {
      overlay_release (&ovl);
      return husk_err_set (err, 0, "config.json: linux.namespaces: an image rootfs (%s) needs a new mount namespace",
                           OVERLAY_BUNDLE_FILE);
    }
  /* The layers belong to the host's root: in a new user namespace they would need idmapped layer
   * mounts.  */
  if (has_ovl && spec_namespace (spec, HUSK_NS_USER) != NULL)
    {
      overlay_release (&ovl);
      return husk_err_set (err, 0, "config.json: linux.namespaces: an image rootfs (%s) in a user namespace: not supported yet",
                           OVERLAY_BUNDLE_FILE);
    }
  /* Compiled before the child exists, so a bad profile fails early and the child runs no libseccomp. */
  if (spec->linux != NULL && seccomp_compile (spec->linux->seccomp, &bpf, err) < 0)
    return -1;
  if (ns_plan_make (spec, &plan, err) < 0)
    goto fail_early;

  cg = cgroup_prepare_driver (spec, o->id, o->systemd_cgroup, err);
  if (cg == NULL)
    goto fail_early;
  rfc3339_now (created, sizeof created);

  /* The first thing made on the host: the state directory claims the id.  It records the cgroup
   * before the cgroup exists, so `delete --force` finds everything even if husk is killed here.  */
  statefd = state_create (o->root, o->id, err);
  if (statefd < 0)
    goto fail_early;
  {
    struct husk_state st = { .id = o->id, .status = "creating", .bundle = bundle, .cgroup_path = cgroup_path (cg),
                             .created = created, .spec = spec };
    /* A rootless container may have no cgroup (see cgroup_prepare): nothing to record then.  */
    if (state_write (statefd, &st, err) < 0
        || (cgroup_path (cg) != NULL && state_write_path (statefd, "cgroup.path", cgroup_path (cg), err) < 0))
      goto fail;
  }
  if (has_ovl)
    {
      /* Recorded before it is made, as the cgroup is.  The overlay itself is a detached mount that
       * only the container's mount namespace ever holds.  */
      ovldir = overlay_private_dir (&ovl, o->id);
      if (state_write_path (statefd, "overlay.dir", ovldir, err) < 0 || overlay_make_private (&ovl, ovldir, err) < 0)
        goto fail;
      {
        cleanup_free char *upper = xasprintf ("%s/upper", ovldir), *work = xasprintf ("%s/work", ovldir);
        ovlfd = overlay_mount_fd (&ovl, upper, work, err);
      }
      if (ovlfd < 0)
        goto fail;
    }
  if (cgroup_make (cg, spec, err) < 0)
    goto fail;
  /* create: the container's process waits on this FIFO until `husk start` opens it.  */
  if (!o->run)
    {
      /* 0622: the process may be a non-root user by the time it opens the FIFO; the state directory
       * is 0700, so no one else on the host reaches it.  */
      if (mkfifoat (statefd, "exec.fifo", 0622) < 0 || fchmodat (statefd, "exec.fifo", 0622, 0) < 0)
        {
          husk_err_set (err, errno, "mkfifo '%s/%s/exec.fifo'", o->root, o->id);
          goto fail;
        }
      fifofd = openat (statefd, "exec.fifo", O_PATH | O_NOFOLLOW | O_CLOEXEC);
      if (fifofd < 0)
        {
          husk_err_set (err, errno, "open '%s/%s/exec.fifo'", o->root, o->id);
          goto fail;
        }
    }
  if (sync_pair (sync, err) < 0)
    goto fail;

  /* Signals are blocked from here and read through a signalfd, to be forwarded once the process runs;
   * the child unblocks them for itself.  */
  sigfillset (&all);
  (void) sigprocmask (SIG_BLOCK, &all, &old);
  sfd = signalfd (-1, &all, SFD_CLOEXEC);
  if (sfd < 0)
    {
      husk_err_set (err, errno, "signalfd");
      goto fail;
    }

  {
    cleanup_close int v2fd = cgroup_v2_fd (cg);
    stage1 = clone_stage1 (v2fd, &in_v2);
  }
  if (stage1 == 0)
    {
      struct husk_child_ctx ctx = {
        .spec = spec, .id = o->id, .bundle = bundle, .rootfs = rootfs, .sync_fd = sync[1], .ns = &plan,
        .cgroup = cg, .in_v2_cgroup = in_v2, .seccomp = &bpf, .exec_fifo = fifofd, .preserve_fds = preserve,
        .rootfs_mount = ovlfd,
      };
      (void) close (sync[0]);
      child_stage1 (&ctx);
    }
  if (stage1 < 0)
    {
      husk_err_set (err, errno, "clone3 the container's first stage");
      goto fail;
    }
  (void) close (sync[1]);
  sync[1] = -1;
  if (ovlfd >= 0)
    (void) close (steal_fd (&ovlfd)); /* the child holds it now */

  if (plan.new_ns[HUSK_NS_USER])
    {
      if (sync_wait (sync[0], SYNC_USERNS, NULL, err) < 0
          || userns_write_mappings (stage1, spec->linux, err) < 0
          || sync_send (sync[0], SYNC_MAPPED, 0, NULL, err) < 0)
        goto fail;
    }
  if (sync_wait (sync[0], SYNC_PID, &pid, err) < 0)
    goto fail;
  parent_reap (&stage1);
  /* Stage 2 is born: hold it by a pidfd, write oomScoreAdj, let it go, take its pty master.  */
  pidfd = parent_adopt (sync[0], pid, spec->process, o->console_socket, &master, err);
  if (pidfd < 0)
    goto fail;
  if (hooks != NULL && (hooks->n_prestart > 0 || hooks->n_create_runtime > 0))
    {
      /* runtime.md "Lifecycle" 3-4, in the runtime's namespaces, before pivot_root.  */
      cleanup_free char *json = state_hook_json (o->id, "creating", pid, bundle, spec);
      hooks_started = true;
      if (sync_wait (sync[0], SYNC_HOOKS, NULL, err) < 0
          || hooks_run (hooks->prestart, hooks->n_prestart, "prestart", json, err) < 0
          || hooks_run (hooks->create_runtime, hooks->n_create_runtime, "createRuntime", json, err) < 0
          || sync_send (sync[0], SYNC_HOOKS_DONE, 0, NULL, err) < 0)
        goto fail;
    }
  hooks_started = true;
  if (sync_wait (sync[0], SYNC_CREATED, NULL, err) < 0)
    goto fail;
  if (o->pid_file != NULL)
    {
      if (parent_write_pid_file (o->pid_file, pid, err) < 0)
        goto fail;
      pid_file_written = true;
    }
  {
    struct husk_state st = { .id = o->id, .status = o->run ? "running" : "created", .pid = pid,
                             .start_time = state_pid_start_time (pid), .bundle = bundle,
                             .cgroup_path = cgroup_path (cg), .cgroup_made_top = cgroup_made_top (cg),
                             .created = created, .spec = spec };
    if (state_write (statefd, &st, err) < 0)
      goto fail;
  }
  if (!o->run)
    {
      /* create: stage 2 waits on exec.fifo for `husk start`.  */
      ret = 0;
      (void) sigprocmask (SIG_SETMASK, &old, NULL);
      goto out;
    }
  if (sync_send (sync[0], SYNC_START, 0, NULL, err) < 0)
    goto fail;
  /* EOF: stage 2's end of the socket closed at execve.  */
  if (sync_wait (sync[0], 0, NULL, err) < 0)
    goto fail;
  run_poststart (spec, o->id, pid, bundle);
  if (o->detach)
    ret = 0;
  else
    {
      if (master >= 0)
        parent_proxy_console (master, pidfd, sfd);
      ret = parent_wait_forwarding (pid, pidfd, sfd, o->kill_uncaught);
      pid = -1;
      if (cgroup_destroy (cg, err) < 0)
        husk_warn ("%s, ignoring", err->msg);
      if (ovldir != NULL && overlay_remove_private (ovldir, err) < 0)
        husk_warn ("%s, ignoring", err->msg);
      (void) state_remove (o->root, o->id, &ignored);
      run_poststop (spec, o->id, bundle);
    }
  (void) sigprocmask (SIG_SETMASK, &old, NULL);
  goto out;

fail:
  /* Stage 1 and stage 2 are husk's children; anything else they made is in the cgroup, which
   * cgroup_destroy empties.  */
  parent_kill (&stage1);
  parent_kill (&pid);
  (void) cgroup_destroy (cg, &ignored);
  if (ovlfd >= 0)
    (void) close (steal_fd (&ovlfd));
  if (ovldir != NULL)
    (void) overlay_remove_private (ovldir, &ignored);
  if (statefd >= 0)
    (void) state_remove (o->root, o->id, &ignored);
  if (pid_file_written)
    (void) unlink (o->pid_file);
  /* A failed hook (or anything after the hooks began) continues the lifecycle at delete, then the
   * poststop hooks (runtime.md "Lifecycle" 12-13).  */
  if (hooks_started)
    run_poststop (spec, o->id, bundle);
  (void) sigprocmask (SIG_SETMASK, &old, NULL);
fail_early:
  ret = -1;
out:
  for (int i = 0; i < 2; i++)
    if (sync[i] >= 0)
      (void) close (sync[i]);
  cgroup_free (cg);
  overlay_release (&ovl);
  ns_plan_release (&plan);
  seccomp_bpf_release (&bpf);
  return ret;
}
