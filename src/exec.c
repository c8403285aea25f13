/* husk exec: one more process in a running container (see exec.h).
 *
 * exec_run() is the parent's list; exec_stage1() and exec_stage2() are the children's.  Everything
 * about the container is found from its init process (pid and start time from state.json): its
 * namespaces are opened from /proc/<pid>/ns after a pidfd pins the pid, and its start time is checked
 * again once they are open, so a reused pid is never joined.  */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <linux/sched.h>

#include "caps.h"
#include "exec.h"
#include "process.h"
#include "seccomp.h"
#include "spec.h"
#include "spec_names.h"
#include "state.h"
#include "sync.h"
#include "parent.h"
#include "terminal.h"
#include "util.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#define CGROUP_ROOT "/sys/fs/cgroup"
#define MAX_HIERARCHIES 24

/* ---- the container's recorded state ------------------------------------------------------- */

/* True while REC's init runs (or waits for `start`): its pid is alive, not a zombie, and started at
 * the recorded time, so it is the container's init and not a process that reused its pid.  */
static bool
init_alive (const char *root, const struct husk_state_rec *rec)
{
  const char *status = state_status_now (root, rec);

  return strcmp (status, "running") == 0 || strcmp (status, "created") == 0;
}

/* ---- namespaces ------------------------------------------------------------------------------ */

/* The namespaces of the init that differ from husk's: an fd of each (-1: the same as husk's, or the
 * kernel has no such namespace), and whether husk's own user namespace owns it (then it is joined
 * before the container's user namespace, while husk still has its capabilities there).  */
struct exec_ns
{
  int fd[HUSK_NS_COUNT];
  bool ours[HUSK_NS_COUNT];
};

static void
exec_ns_release (struct exec_ns *ns)
{
  for (int t = 0; t < HUSK_NS_COUNT; t++)
    if (ns->fd[t] >= 0)
      {
        (void) close (ns->fd[t]);
        ns->fd[t] = -1;
      }
}

static bool
same_file (const struct stat *a, const struct stat *b)
{
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

static int
exec_ns_open (pid_t pid, struct exec_ns *ns, struct husk_err *err)
{
  struct stat self_user;

  for (int t = 0; t < HUSK_NS_COUNT; t++)
    {
      ns->fd[t] = -1;
      ns->ours[t] = false;
    }
  if (stat ("/proc/self/ns/user", &self_user) < 0)
    return husk_err_set (err, errno, "stat '/proc/self/ns/user'");
  for (int t = 0; t < HUSK_NS_COUNT; t++)
    {
      const char *name = spec_ns_proc_name ((enum husk_ns_type) t);
      char path[64], self[64];
      struct stat st, mine;
      int fd;

      (void) snprintf (path, sizeof path, "/proc/%d/ns/%s", (int) pid, name);
      (void) snprintf (self, sizeof self, "/proc/self/ns/%s", name);
      fd = open (path, O_RDONLY | O_CLOEXEC);
      if (fd < 0 && errno == ENOENT && stat (self, &mine) < 0 && errno == ENOENT)
        continue; /* the kernel has no namespace of this type */
      if (fd < 0)
        return husk_err_set (err, errno, "open '%s'", path);
      ns->fd[t] = fd;
      if (fstat (fd, &st) < 0 || stat (self, &mine) < 0)
        return husk_err_set (err, errno, "stat '%s'", path);
      if (same_file (&st, &mine))
        {
          (void) close (fd);
          ns->fd[t] = -1;
          continue;
        }
      if (t != HUSK_NS_USER)
        {
          cleanup_close int owner = ioctl (fd, NS_GET_USERNS);
          struct stat ost;
          ns->ours[t] = owner >= 0 && fstat (owner, &ost) == 0 && same_file (&ost, &self_user);
        }
    }
  return 0;
}

static int
join_one (const struct exec_ns *ns, enum husk_ns_type t, struct husk_err *err)
{
  if (ns->fd[t] >= 0 && setns (ns->fd[t], spec_ns_clone_flag (t)) < 0)
    return husk_err_set (err, errno, "join the container's %s namespace", spec_ns_type_name (t));
  return 0;
}

/* Stage 1: join the namespaces husk's user namespace owns, then the container's user namespace
 * (which gives the capabilities the other joins need), then the rest.  The pid and time namespaces
 * take effect for the process stage 1 creates next.  */
static int
exec_ns_join (const struct exec_ns *ns, struct husk_err *err)
{
  static const enum husk_ns_type order[] = { HUSK_NS_CGROUP, HUSK_NS_IPC, HUSK_NS_UTS, HUSK_NS_NETWORK,
                                             HUSK_NS_PID,    HUSK_NS_TIME, HUSK_NS_MOUNT };

  for (size_t i = 0; i < ARRAY_SIZE (order); i++)
    if (ns->ours[order[i]] && join_one (ns, order[i], err) < 0)
      return -1;
  if (join_one (ns, HUSK_NS_USER, err) < 0)
    return -1;
  if (ns->fd[HUSK_NS_USER] >= 0)
    {
      /* Host root means nothing in the container's user namespace: be its root (when mapped) until
       * process_set_user sets the final ids, which does not need this step to succeed.  */
      (void) setresgid (0, 0, 0);
      (void) setresuid (0, 0, 0);
    }
  for (size_t i = 0; i < ARRAY_SIZE (order); i++)
    if (!ns->ours[order[i]] && join_one (ns, order[i], err) < 0)
      return -1;
  return 0;
}

/* ---- cgroups --------------------------------------------------------------------------------- */

/* The directories to enter, one per hierarchy: the container's (husk.cgroupPath), and the init's own
 * as the fallback for a cgroup2 directory that holds no processes because its controllers are
 * delegated to children (EBUSY), or for a hierarchy where husk.cgroupPath does not exist.  */
struct exec_cgroup
{
  int fd[MAX_HIERARCHIES];       /* O_PATH fds of the directories */
  int fallback[MAX_HIERARCHIES]; /* the init's directory, or -1 */
  bool v2[MAX_HIERARCHIES];
  size_t n;
};

static void
exec_cgroup_release (struct exec_cgroup *cg)
{
  for (size_t i = 0; i < cg->n; i++)
    {
      if (cg->fd[i] >= 0)
        (void) close (cg->fd[i]);
      if (cg->fallback[i] >= 0)
        (void) close (cg->fallback[i]);
    }
  cg->n = 0;
}

/* The init's cgroup in the hierarchy mounted at CGROUP_ROOT/NAME (NAME "" for the v2-only host),
 * from /proc/PID/cgroup, or NULL.  A v1 hierarchy's line lists the mount's controllers ("cpu,cpuacct")
 * or "name=systemd".  */
static char *
init_cgroup (pid_t pid, const char *name, bool v2)
{
  char path[64];
  cleanup_fclose FILE *f = NULL;
  cleanup_free char *line = NULL;
  size_t cap = 0;

  (void) snprintf (path, sizeof path, "/proc/%d/cgroup", (int) pid);
  f = fopen (path, "re");
  if (f == NULL)
    return NULL;
  while (getline (&line, &cap, f) > 0)
    {
      char *ctrl = strchr (line, ':'), *rel;
      if (ctrl == NULL || (rel = strchr (++ctrl, ':')) == NULL)
        continue;
      *rel++ = '\0';
      rel[strcspn (rel, "\n")] = '\0';
      if (has_prefix (ctrl, "name="))
        ctrl += 5;
      if (v2 ? *ctrl == '\0' && line[0] == '0' : strcmp (ctrl, name) == 0)
        return xstrdup (rel);
    }
  return NULL;
}

static int
add_hierarchy (struct exec_cgroup *cg, const char *name, bool v2, const struct husk_state_rec *st,
               struct husk_err *err)
{
  cleanup_free char *mount = *name == '\0' ? xstrdup (CGROUP_ROOT) : xasprintf ("%s/%s", CGROUP_ROOT, name);
  cleanup_free char *init = init_cgroup (st->pid, name, v2);
  size_t i = cg->n;

  if (i == MAX_HIERARCHIES)
    return husk_err_set (err, 0, "more than %d cgroup hierarchies", MAX_HIERARCHIES);
  cg->v2[i] = v2;
  cg->fd[i] = -1;
  cg->fallback[i] = -1;
  cg->n++;
  if (st->cgroup_path != NULL)
    {
      cleanup_free char *dir = xasprintf ("%s/%s", mount, st->cgroup_path);
      cg->fd[i] = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (cg->fd[i] < 0 && errno != ENOENT)
        return husk_err_set (err, errno, "open cgroup '%s'", dir);
    }
  if (init != NULL && (st->cgroup_path == NULL || strcmp (init, st->cgroup_path) != 0))
    {
      cleanup_free char *dir = xasprintf ("%s/%s", mount, init);
      cg->fallback[i] = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    }
  if (cg->fd[i] < 0)
    cg->fd[i] = steal_fd (&cg->fallback[i]);
  if (cg->fd[i] < 0)
    return husk_err_set (err, ENOENT, "no cgroup of the container in '%s'", mount);
  return 0;
}

/* Every hierarchy mounted at CGROUP_ROOT (v2) or right under it (v1, and the v2 "unified" one of a
 * hybrid host).  Symlinks such as cpu -> cpu,cpuacct are skipped: their target is listed too.  */
static int
exec_cgroup_open (const struct husk_state_rec *st, struct exec_cgroup *cg, struct husk_err *err)
{
  struct statfs fs;
  cleanup_dir DIR *d = NULL;
  struct dirent *de;

  cg->n = 0;
  if (statfs (CGROUP_ROOT, &fs) < 0)
    return husk_err_set (err, errno, "statfs '%s'", CGROUP_ROOT);
  if (fs.f_type == CGROUP2_SUPER_MAGIC)
    return add_hierarchy (cg, "", true, st, err);
  d = opendir (CGROUP_ROOT);
  if (d == NULL)
    return husk_err_set (err, errno, "open '%s'", CGROUP_ROOT);
  while ((de = readdir (d)) != NULL)
    {
      cleanup_free char *mount = NULL;
      if (de->d_type != DT_DIR || de->d_name[0] == '.')
        continue;
      mount = xasprintf ("%s/%s", CGROUP_ROOT, de->d_name);
      if (statfs (mount, &fs) < 0 || (fs.f_type != CGROUP_SUPER_MAGIC && fs.f_type != CGROUP2_SUPER_MAGIC))
        continue;
      if (add_hierarchy (cg, de->d_name, fs.f_type == CGROUP2_SUPER_MAGIC, st, err) < 0)
        return -1;
    }
  if (cg->n == 0)
    return husk_err_set (err, 0, "no cgroup hierarchy found under '%s'", CGROUP_ROOT);
  return 0;
}

/* Stage 1, still single-threaded and in husk's namespaces: move into each directory ("0" written to
 * cgroup.procs on v2, to tasks on v1, as cgroup_enter_self does).  */
static int
exec_cgroup_enter (const struct exec_cgroup *cg, struct husk_err *err)
{
  for (size_t i = 0; i < cg->n; i++)
    {
      const char *file = cg->v2[i] ? "cgroup.procs" : "tasks";
      if (write_file_at (cg->fd[i], file, "0", 1, err) == 0)
        continue;
      if (cg->fallback[i] >= 0 && write_file_at (cg->fallback[i], file, "0", 1, err) == 0)
        continue;
      /* Rootless: a hierarchy not delegated to us (a container made without a cgroup there, whose
       * init stayed in the caller's) is left as it is, as for the container's init.  */
      if ((err->errnum == EACCES || err->errnum == EPERM) && !husk_privileged ())
        continue;
      return husk_err_prefix (err, "enter the container's cgroup");
    }
  return 0;
}

/* ---- the process ----------------------------------------------------------------------------- */

static char **
strv_copy (char *const *v)
{
  size_t n = strv_len (v);
  char **copy = xcalloc (n + 1, sizeof *copy);

  for (size_t i = 0; i < n; i++)
    copy[i] = xstrdup (v[i]);
  return copy;
}

/* Set NAME=VALUE in P's environment: replace the entry of the same name, else append.  */
static void
env_set (struct husk_process *p, const char *kv)
{
  size_t name_len = strcspn (kv, "=");

  for (size_t i = 0; i < p->n_env; i++)
    if (strncmp (p->env[i], kv, name_len) == 0 && p->env[i][name_len] == '=')
      {
        free (p->env[i]);
        p->env[i] = xstrdup (kv);
        return;
      }
  p->env = xrealloc (p->env, (p->n_env + 2) * sizeof *p->env);
  p->env[p->n_env++] = xstrdup (kv);
  p->env[p->n_env] = NULL;
}

/* --process FILE: a runtime-spec "process" object, parsed and checked by the spec parser inside a
 * minimal configuration.  Replaces SPEC's process.  */
static int
load_process_file (const char *file, struct husk_spec *spec, struct husk_err *err)
{
  cleanup_free char *text = NULL, *doc = NULL;
  cleanup_spec struct husk_spec *wrap = NULL;
  struct husk_process *old;
  size_t len;

  /* TODO(lead): a spec_parse_process() in spec.c would name the fields without the "process." the
   * wrapping adds.  */
  text = read_file_at (AT_FDCWD, file, 4 << 20, &len, err);
  if (text == NULL)
    return husk_err_prefix (err, "exec: --process");
  doc = xasprintf ("{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"/\"},\"process\":%s}", text);
  wrap = spec_parse (doc, strlen (doc), file, err);
  if (wrap == NULL || wrap->process == NULL)
    return wrap == NULL ? -1 : husk_err_set (err, 0, "%s: not a process object", file);
  if (spec_validate (wrap, file, err) < 0)
    return -1;
  old = spec->process;
  spec->process = wrap->process;
  wrap->process = old;
  return 0;
}

/* Without --process: the config's process, with the command line's args and overrides (runc's
 * rules: env added, --cap added to the bounding, effective and permitted sets and never to the
 * inheritable one, terminal only with --tty).  */
static int
override_process (const struct husk_exec_opts *o, struct husk_spec *spec, struct husk_err *err)
{
  struct husk_process *p = spec->process;

  if (p == NULL)
    return husk_err_set (err, 0, "config.json: process: missing");
  if (o->args == NULL || o->args[0] == NULL)
    return husk_err_set (err, 0, "exec: no command given (and no --process)");
  strv_free (p->args);
  p->args = strv_copy (o->args);
  p->n_args = strv_len (p->args);
  p->terminal = o->tty;
  if (o->cwd != NULL)
    {
      free (p->cwd);
      p->cwd = xstrdup (o->cwd);
    }
  for (size_t i = 0; o->env != NULL && o->env[i] != NULL; i++)
    env_set (p, o->env[i]);
  if (o->has_user)
    {
      p->user.uid = o->uid;
      if (o->has_gid)
        p->user.gid = o->gid;
    }
  if (o->n_additional_gids > 0)
    {
      p->user.additional_gids = xrealloc (p->user.additional_gids,
                                          (p->user.n_additional_gids + o->n_additional_gids) * sizeof (uint32_t));
      memcpy (p->user.additional_gids + p->user.n_additional_gids, o->additional_gids,
              o->n_additional_gids * sizeof (uint32_t));
      p->user.n_additional_gids += o->n_additional_gids;
    }
  if (o->caps_add != 0)
    {
      if (p->capabilities == NULL)
        p->capabilities = xcalloc (1, sizeof *p->capabilities);
      p->capabilities->bounding |= o->caps_add;
      p->capabilities->effective |= o->caps_add;
      p->capabilities->permitted |= o->caps_add;
      /* The kernel raises an ambient capability only when it is also inheritable, and --cap never
       * touches the inheritable set (CVE-2022-29162): ambient gets those already inheritable.  */
      p->capabilities->ambient |= o->caps_add & p->capabilities->inheritable;
    }
  if (o->no_new_privs)
    p->no_new_privileges = true;
  if (o->process_label != NULL)
    {
      free (p->selinux_label);
      p->selinux_label = xstrdup (o->process_label);
    }
  if (o->apparmor != NULL)
    {
      free (p->apparmor_profile);
      p->apparmor_profile = xstrdup (o->apparmor);
    }
  return spec_validate (spec, "config.json", err);
}

/* What the process may ask for that husk does not do yet: refused, never ignored.  */
static int
check_supported (const struct husk_exec_opts *o, const struct husk_process *p, struct husk_err *err)
{
  /* Someone must receive the pty master: the console socket, or husk itself in the foreground.  */
  if (p->terminal && o->console_socket == NULL && o->detach)
    return husk_err_set (err, 0, "exec: --tty with --detach needs --console-socket");
  if (!p->terminal && o->console_socket != NULL)
    return husk_err_set (err, 0, "exec: --console-socket needs --tty (or process.terminal)");
  if (p->apparmor_profile != NULL && *p->apparmor_profile != '\0')
    return husk_err_set (err, 0, "exec: apparmor profile: not supported yet");
  if (p->selinux_label != NULL && *p->selinux_label != '\0')
    return husk_err_set (err, 0, "exec: selinux process label: not supported yet");
  if (p->exec_cpu_affinity != NULL)
    return husk_err_set (err, 0, "exec: process.execCPUAffinity: not supported yet");
  return 0;
}

/* ---- the children ---------------------------------------------------------------------------- */

struct exec_ctx
{
  const struct husk_spec *spec; /* its process is the one to run */
  const struct exec_ns *ns;
  const struct exec_cgroup *cgroup;
  const struct husk_seccomp_bpf *seccomp;
  int sync_fd;            /* child end of the sync socket (CLOEXEC) */
  bool setgroups_allowed; /* the container's user namespace allows setgroups */
};

/* Stage 2, in the container's namespaces and cgroup: the process attributes in the order stage 2 of
 * `husk run` sets them (see child.c).  Returns 0 with *EXE set, or -1 with ERR.  */
static int
stage2_setup (const struct exec_ctx *c, char **exe, struct husk_err *err)
{
  const struct husk_process *proc = c->spec->process;
  const struct husk_linux *lx = c->spec->linux;

  /* sync: the parent knows our pid (and wrote oomScoreAdj).  */
  if (sync_wait (c->sync_fd, SYNC_GO, NULL, err) < 0)
    return -1;
  if (proc->terminal)
    {
      /* A pty of the container's devpts ("/" is its root now); the master goes to the parent, the
       * peer becomes our controlling terminal and stdio before any filter is loaded.  */
      cleanup_close int rootfd = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
      cleanup_close int master = -1;
      int peer = -1;
      if (rootfd < 0)
        return husk_err_set (err, errno, "open the container's root");
      if (terminal_open_pty (rootfd, proc, &master, &peer, err) < 0)
        return -1;
      if (sync_send (c->sync_fd, SYNC_CONSOLE, 0, NULL, err) < 0 || terminal_send_fd (c->sync_fd, master, err) < 0
          || terminal_become_controlling (peer, err) < 0)
        return -1;
    }
  *exe = process_prepare_exec (proc, lx, c->seccomp, c->setgroups_allowed, err);
  if (*exe == NULL)
    return -1;
  /* The process must outlive husk (--detach); cleared before the filter, which may forbid prctl.  */
  if (prctl (PR_SET_PDEATHSIG, 0) < 0)
    return husk_err_set (err, errno, "clear the parent-death signal");
  if (proc->no_new_privileges && seccomp_apply (c->seccomp, err) < 0)
    return -1;
  return 0;
}

static __attribute__ ((noreturn)) void
exec_stage2 (const struct exec_ctx *c)
{
  struct husk_err err = { 0 };
  char *exe = NULL;

  (void) prctl (PR_SET_PDEATHSIG, SIGKILL);
  (void) prctl (PR_SET_NAME, "husk:[exec2]");
  signals_reset_default ();
  if (stage2_setup (c, &exe, &err) == 0)
    {
      static char *no_env[] = { NULL };
      char **env = c->spec->process->env != NULL ? c->spec->process->env : no_env;
      execve (exe, c->spec->process->args, env);
      husk_err_set (&err, errno, "exec '%s'", exe);
      (void) sync_send (c->sync_fd, SYNC_ERROR, 0, &err, &err);
      _exit (127);
    }
  (void) sync_send (c->sync_fd, SYNC_ERROR, 0, &err, &err);
  _exit (1);
}

/* Stage 1: cgroup, namespaces, then stage 2 (CLONE_PARENT: husk's own child, so husk waits for it;
 * born in the container's pid namespace).  Returns stage 2's pid, or -1 with ERR.  */
static pid_t
stage1 (const struct exec_ctx *c, struct husk_err *err)
{
  struct clone_args args = { .flags = CLONE_PARENT };
  pid_t pid;

  /* The cgroup first, as host root: after joining a user namespace the cgroup files are not ours.  */
  if (exec_cgroup_enter (c->cgroup, err) < 0)
    return -1;
  if (exec_ns_join (c->ns, err) < 0)
    return -1;
  pid = (pid_t) syscall (SYS_clone3, &args, sizeof args);
  if (pid == 0)
    exec_stage2 (c);
  if (pid < 0)
    return husk_err_set (err, errno, "clone3 the exec process");
  return pid;
}

static __attribute__ ((noreturn)) void
exec_stage1 (const struct exec_ctx *c, unsigned int preserve_fds)
{
  struct husk_err err = { 0 };
  pid_t pid;

  (void) prctl (PR_SET_PDEATHSIG, SIGKILL);
  (void) prctl (PR_SET_NAME, "husk:[exec1]");
  /* No /proc/<pid> access for the container to husk's processes while they join it (CVE-2016-9962);
   * stage 2 inherits this until its execve.  */
  (void) prctl (PR_SET_DUMPABLE, 0);
  /* Every fd above stdio and the preserved ones closes at execve (CVE-2024-21626); the preserved ones
   * stay open across it.  */
  parent_keep_fds (preserve_fds);

  pid = stage1 (c, &err);
  if (pid > 0 && sync_send (c->sync_fd, SYNC_PID, pid, NULL, &err) == 0)
    _exit (0);
  (void) sync_send (c->sync_fd, SYNC_ERROR, 0, &err, &err);
  _exit (1);
}

/* ---- the parent ------------------------------------------------------------------------------ */

/* True unless /proc/PID/setgroups (the init's user namespace) says "deny".  */
static bool
setgroups_allowed (pid_t pid)
{
  char path[64];
  struct husk_err ignored;
  cleanup_free char *s = NULL;

  (void) snprintf (path, sizeof path, "/proc/%d/setgroups", (int) pid);
  s = read_file_at (AT_FDCWD, path, 64, NULL, &ignored);
  return s == NULL || strncmp (s, "allow", 5) == 0;
}

/* The container's config (bundle from the state) with the process to run, checked.  */
static struct husk_spec *
load_spec (const struct husk_exec_opts *o, const struct husk_state_rec *st, struct husk_err *err)
{
  cleanup_free char *config = xasprintf ("%s/config.json", st->bundle);
  cleanup_spec struct husk_spec *spec = spec_load (config, err);

  if (spec == NULL)
    return NULL;
  if (o->process_file != NULL ? load_process_file (o->process_file, spec, err) < 0
                              : override_process (o, spec, err) < 0)
    return NULL;
  if (check_supported (o, spec->process, err) < 0)
    return NULL;
  return steal_ptr (&spec);
}

int
exec_run (const struct husk_exec_opts *o, struct husk_err *err)
{
  struct husk_state_rec st = { 0 };
  cleanup_spec struct husk_spec *spec = NULL;
  cleanup_close int lockfd = -1, initfd = -1, pidfd = -1, sfd = -1, master = -1;
  struct husk_seccomp_bpf bpf = { 0 };
  struct exec_ns ns;
  struct exec_cgroup cg = { .n = 0 };
  int sync[2] = { -1, -1 }, ret = -1;
  pid_t stage1_pid = -1, pid = -1;
  bool pid_file_written = false, blocked = false;
  sigset_t all, old;

  for (int t = 0; t < HUSK_NS_COUNT; t++)
    ns.fd[t] = -1;
  if (parent_check_preserved_fds (o->preserve_fds, "exec: --preserve-fds", err) < 0 || state_check_id (o->id, err) < 0)
    return -1;
  /* Held until the process is in the container's cgroup, so a concurrent `delete` either runs
   * before us (we see the container gone) or after (its cgroup kill includes our process).  */
  lockfd = state_lock (o->root, o->id, err);
  if (lockfd < 0)
    return -1;
  if (state_load (o->root, o->id, &st, err) < 0)
    return -1;
  if (!init_alive (o->root, &st))
    {
      husk_err_set (err, 0, "container '%s' is not running", o->id);
      goto out;
    }
  spec = load_spec (o, &st, err);
  if (spec == NULL)
    goto out;
  if (spec->linux != NULL && seccomp_compile (spec->linux->seccomp, &bpf, err) < 0)
    goto out;

  /* Pin the init, open what it has, then check it is still the init: everything opened is its.  */
  initfd = (int) syscall (SYS_pidfd_open, st.pid, 0);
  if (initfd < 0)
    {
      husk_err_set (err, errno, "container '%s' is not running", o->id);
      goto out;
    }
  if ((exec_ns_open (st.pid, &ns, err) < 0 || exec_cgroup_open (&st, &cg, err) < 0) && init_alive (o->root, &st))
    goto out;
  if (!init_alive (o->root, &st) || syscall (SYS_pidfd_send_signal, initfd, 0, NULL, 0) < 0)
    {
      husk_err_set (err, 0, "container '%s' is not running", o->id);
      goto out;
    }

  if (sync_pair (sync, err) < 0)
    goto out;
  /* Signals are read through a signalfd from here and forwarded once the process runs.  */
  sigfillset (&all);
  (void) sigprocmask (SIG_BLOCK, &all, &old);
  blocked = true;
  sfd = signalfd (-1, &all, SFD_CLOEXEC);
  if (sfd < 0)
    {
      husk_err_set (err, errno, "signalfd");
      goto fail;
    }
  stage1_pid = fork ();
  if (stage1_pid == 0)
    {
      struct exec_ctx ctx = { .spec = spec, .ns = &ns, .cgroup = &cg, .seccomp = &bpf, .sync_fd = sync[1],
                              .setgroups_allowed = setgroups_allowed (st.pid) };
      (void) close (sync[0]);
      exec_stage1 (&ctx, o->preserve_fds);
    }
  if (stage1_pid < 0)
    {
      husk_err_set (err, errno, "fork the exec's first stage");
      goto fail;
    }
  (void) close (sync[1]);
  sync[1] = -1;

  if (sync_wait (sync[0], SYNC_PID, &pid, err) < 0)
    goto fail;
  parent_reap (&stage1_pid);
  (void) close (steal_fd (&lockfd));
  /* Stage 2 is born: hold it by a pidfd, write oomScoreAdj, let it go, take its pty master.  */
  pidfd = parent_adopt (sync[0], pid, spec->process, o->console_socket, &master, err);
  if (pidfd < 0)
    goto fail;
  /* EOF: stage 2's end of the socket closed at execve.  */
  if (sync_wait (sync[0], 0, NULL, err) < 0)
    goto fail;
  if (o->pid_file != NULL)
    {
      if (parent_write_pid_file (o->pid_file, pid, err) < 0)
        goto fail;
      pid_file_written = true;
    }
  if (!o->detach && master >= 0)
    parent_proxy_console (master, pidfd, sfd);
  ret = o->detach ? 0 : parent_wait_forwarding (pid, pidfd, sfd, false);
  goto out;

fail:
  parent_kill (&stage1_pid);
  parent_kill (&pid);
  if (pid_file_written)
    (void) unlink (o->pid_file);
  ret = -1;
out:
  if (blocked)
    (void) sigprocmask (SIG_SETMASK, &old, NULL);
  for (int i = 0; i < 2; i++)
    if (sync[i] >= 0)
      (void) close (sync[i]);
  exec_cgroup_release (&cg);
  exec_ns_release (&ns);
  seccomp_bpf_release (&bpf);
  state_rec_release (&st);
  return ret;
}
