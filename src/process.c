/* The process attributes the child sets just before execve: config.md "Process", "POSIX process",
 * "Linux process"; config-linux.md "Sysctl", "Personality".  */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/ioprio.h>
#include <linux/openat2.h>
#include <linux/sched/types.h>

#include "caps.h"
#include "process.h"
#include "seccomp.h"
#include "util.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* ---- rlimits ------------------------------------------------------------------------------- */

static const char *const rlimit_names[] = {
  [RLIMIT_CPU] = "RLIMIT_CPU",         [RLIMIT_FSIZE] = "RLIMIT_FSIZE",
  [RLIMIT_DATA] = "RLIMIT_DATA",       [RLIMIT_STACK] = "RLIMIT_STACK",
  [RLIMIT_CORE] = "RLIMIT_CORE",       [RLIMIT_RSS] = "RLIMIT_RSS",
  [RLIMIT_NPROC] = "RLIMIT_NPROC",     [RLIMIT_NOFILE] = "RLIMIT_NOFILE",
  [RLIMIT_MEMLOCK] = "RLIMIT_MEMLOCK", [RLIMIT_AS] = "RLIMIT_AS",
  [RLIMIT_LOCKS] = "RLIMIT_LOCKS",     [RLIMIT_SIGPENDING] = "RLIMIT_SIGPENDING",
  [RLIMIT_MSGQUEUE] = "RLIMIT_MSGQUEUE", [RLIMIT_NICE] = "RLIMIT_NICE",
  [RLIMIT_RTPRIO] = "RLIMIT_RTPRIO",   [RLIMIT_RTTIME] = "RLIMIT_RTTIME",
};

static rlim_t
to_rlim (uint64_t v)
{
  return v == UINT64_MAX ? RLIM_INFINITY : (rlim_t) v;
}

int
process_set_rlimits (const struct husk_process *process, struct husk_err *err)
{
  for (size_t i = 0; i < process->n_rlimits; i++)
    {
      const struct husk_rlimit *r = &process->rlimits[i];
      struct rlimit limit = { to_rlim (r->soft), to_rlim (r->hard) };
      const char *name = (size_t) r->resource < ARRAY_SIZE (rlimit_names) && rlimit_names[r->resource] != NULL
                             ? rlimit_names[r->resource]
                             : "?";

      if (setrlimit ((__rlimit_resource_t) r->resource, &limit) < 0)
        return husk_err_set (err, errno, "config.json: process.rlimits[%zu]: set '%s' to soft %llu, hard %llu", i, name,
                             (unsigned long long) r->soft, (unsigned long long) r->hard);
    }
  return 0;
}

/* ---- procfs writes ------------------------------------------------------------------------- */

int
process_set_oom_score_adj (const struct husk_process *process, int piddirfd, struct husk_err *err)
{
  char text[32];
  int n;

  if (!process->has_oom_score_adj)
    return 0;
  n = snprintf (text, sizeof text, "%d", process->oom_score_adj);
  if (write_file_at (piddirfd, "oom_score_adj", text, (size_t) n, err) < 0)
    return husk_err_prefix (err, "config.json: process.oomScoreAdj: set %d", process->oom_score_adj);
  return 0;
}

/* Turn the sysctl KEY into a path under /proc/sys ("net.ipv4.ip_forward" -> "net/ipv4/ip_forward").
 * As sysctl(8) does, when the first separator is '/', the key is already a path and its dots belong
 * to names ("net/ipv4/conf/eth0.100/rp_filter"); when it is '.', a '/' stands for a dot in a name
 * ("net.ipv4.conf.eth0/100.rp_filter").  Every component must be a plain name.  Returns the path
 * (free it), or NULL when the key is not valid.  */
static char *
sysctl_path (const char *key)
{
  size_t sep = strcspn (key, "./");
  bool dots = key[sep] == '.';
  cleanup_free char *path = xasprintf ("sys/%s", key);
  char *rel = path + strlen ("sys/");

  if (dots)
    for (char *p = rel; *p != '\0'; p++)
      *p = *p == '.' ? '/' : *p == '/' ? '.' : *p;
  for (const char *c = rel;;)
    {
      size_t len = strcspn (c, "/");
      if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
        return NULL;
      if (c[len] == '\0')
        break;
      c += len + 1;
    }
  return steal_ptr (&path);
}

int
process_set_sysctl (const struct husk_linux *linux_, int procfd, struct husk_err *err)
{
  if (linux_ == NULL)
    return 0;
  for (size_t i = 0; i < linux_->n_sysctl; i++)
    {
      const struct husk_sysctl *s = &linux_->sysctl[i];
      struct open_how how = {
        .flags = O_WRONLY | O_CLOEXEC,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
      };
      cleanup_free char *path = sysctl_path (s->key);
      cleanup_close int fd = -1;

      if (path == NULL)
        return husk_err_set (err, EINVAL, "config.json: linux.sysctl: invalid key '%s'", s->key);
      fd = (int) syscall (SYS_openat2, procfd, path, &how, sizeof how);
      if (fd < 0)
        return husk_err_set (err, errno, "config.json: linux.sysctl: open '/proc/%s' for '%s'", path, s->key);
      if (write_all (fd, s->value, strlen (s->value)) < 0)
        return husk_err_set (err, errno, "config.json: linux.sysctl: write '%s' to '/proc/%s'", s->value, path);
    }
  return 0;
}

/* ---- scheduler, I/O priority, personality --------------------------------------------------- */

int
process_set_scheduler (const struct husk_process *process, struct husk_err *err)
{
  const struct husk_scheduler *s = process->scheduler;
  struct sched_attr attr;

  if (s == NULL)
    return 0;
  memset (&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.sched_policy = (uint32_t) s->policy;
  attr.sched_flags = s->flags;
  attr.sched_nice = s->has_nice ? s->nice : 0;
  attr.sched_priority = s->has_priority ? (uint32_t) s->priority : 0;
  attr.sched_runtime = s->has_runtime ? s->runtime : 0;
  attr.sched_deadline = s->has_deadline ? s->deadline : 0;
  attr.sched_period = s->has_period ? s->period : 0;
  if (syscall (SYS_sched_setattr, 0, &attr, 0) < 0)
    return husk_err_set (err, errno, "config.json: process.scheduler: sched_setattr (policy %d, priority %u, nice %d)", s->policy,
                         attr.sched_priority, attr.sched_nice);
  return 0;
}

int
process_set_io_priority (const struct husk_process *process, struct husk_err *err)
{
  const struct husk_io_priority *io = process->io_priority;

  if (io == NULL)
    return 0;
  if (io->class < IOPRIO_CLASS_RT || io->class > IOPRIO_CLASS_IDLE)
    return husk_err_set (err, EINVAL, "config.json: process.ioPriority.class: unknown class %d", io->class);
  if (io->priority < 0 || io->priority > 7)
    return husk_err_set (err, EINVAL, "config.json: process.ioPriority.priority: %d is out of range (0-7)",
                         io->priority);
  if (syscall (SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, IOPRIO_PRIO_VALUE (io->class, io->priority)) < 0)
    return husk_err_set (err, errno, "config.json: process.ioPriority: ioprio_set (class %d, priority %d)", io->class,
                         io->priority);
  return 0;
}

int
process_set_personality (const struct husk_linux *linux_, struct husk_err *err)
{
  const struct husk_personality *p = linux_ != NULL ? linux_->personality : NULL;
  unsigned long persona;

  if (p == NULL)
    return 0;
  if (p->domain != NULL && strcmp (p->domain, "LINUX") == 0)
    persona = PER_LINUX;
  else if (p->domain != NULL && strcmp (p->domain, "LINUX32") == 0)
    persona = PER_LINUX32;
  else
    return husk_err_set (err, EINVAL, "config.json: linux.personality.domain: unknown domain '%s'",
                         p->domain != NULL ? p->domain : "");
  /* The spec defines no flag values yet.  */
  for (size_t i = 0; i < p->n_flags; i++)
    husk_warn ("config.json: linux.personality.flags[%zu]: unknown flag '%s', ignoring", i, p->flags[i]);
  if (personality (persona) < 0)
    return husk_err_set (err, errno, "config.json: linux.personality: set domain '%s'", p->domain);
  return 0;
}

/* ---- user ---------------------------------------------------------------------------------- */

int
process_set_user (const struct husk_user *user, int setgroups_allowed, struct husk_err *err)
{
  if (setgroups_allowed)
    {
      if (setgroups (user->n_additional_gids, (const gid_t *) user->additional_gids) < 0)
        return husk_err_set (err, errno, "config.json: process.user.additionalGids: setgroups (%zu groups)",
                             user->n_additional_gids);
    }
  else if (user->n_additional_gids > 0)
    return husk_err_set (err, EPERM,
                         "config.json: process.user.additionalGids: setgroups is denied in this user namespace, cannot set %zu "
                         "groups",
                         user->n_additional_gids);
  /* Keep the permitted set across the change to a non-zero uid; caps_apply() sets the final sets.  */
  if (prctl (PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return husk_err_set (err, errno, "prctl PR_SET_KEEPCAPS");
  if (setresgid (user->gid, user->gid, user->gid) < 0)
    return husk_err_set (err, errno, "config.json: process.user.gid: setresgid to %u", user->gid);
  if (setresuid (user->uid, user->uid, user->uid) < 0)
    return husk_err_set (err, errno, "config.json: process.user.uid: setresuid to %u", user->uid);
  if (user->has_umask)
    umask ((mode_t) (user->umask & 07777));
  return 0;
}

/* ---- cwd ----------------------------------------------------------------------------------- */

int
process_chdir (const char *cwd, struct husk_err *err)
{
  char buf[PATH_MAX + 1];
  long n;

  if (chdir (cwd) < 0)
    return husk_err_set (err, errno, "config.json: process.cwd: chdir to '%s'", cwd);
  /* The raw syscall: glibc's getcwd() hides the "(unreachable)" prefix behind ENOENT.  */
  n = syscall (SYS_getcwd, buf, sizeof buf);
  if (n < 0)
    return husk_err_set (err, errno, "config.json: process.cwd: getcwd after chdir to '%s'", cwd);
  if (n == 0 || buf[0] != '/')
    return husk_err_set (err, 0, "config.json: process.cwd: '%s' is outside the container's root", cwd);
  return 0;
}

/* ---- executable lookup --------------------------------------------------------------------- */

/* 0 when PATH is an executable regular file, else -1 with errno (EACCES for anything that exists but
 * cannot be executed, as execve says).  */
static int
check_executable (const char *path)
{
  struct stat st;

  if (stat (path, &st) < 0)
    return -1;
  if (!S_ISREG (st.st_mode))
    return errno = EACCES, -1;
  if (faccessat (AT_FDCWD, path, X_OK, AT_EACCESS) < 0)
    return -1;
  return 0;
}

/* PATH made absolute against the current directory.  */
static char *
absolute (const char *path)
{
  char cwd[PATH_MAX];

  if (path[0] == '/' || getcwd (cwd, sizeof cwd) == NULL)
    return xstrdup (path);
  return xasprintf ("%s/%s", strcmp (cwd, "/") == 0 ? "" : cwd, path);
}

char *
process_find_executable (const char *arg0, char *const *env, struct husk_err *err)
{
  const char *search = NULL;
  bool denied = false;

  if (arg0 == NULL || arg0[0] == '\0')
    return husk_err_set (err, ENOENT, "config.json: process.args[0]: empty executable name"), NULL;
  if (strchr (arg0, '/') != NULL)
    {
      if (check_executable (arg0) < 0)
        return husk_err_set (err, errno, "exec '%s'", arg0), NULL;
      return absolute (arg0);
    }
  for (size_t i = 0; env != NULL && env[i] != NULL; i++)
    if (has_prefix (env[i], "PATH="))
      search = env[i] + strlen ("PATH=");
  if (search == NULL)
    search = DEFAULT_PATH;

  for (const char *dir = search;;)
    {
      size_t len = strcspn (dir, ":");
      /* An empty entry means the current directory, as for execvp.  */
      cleanup_free char *candidate = len == 0 ? xasprintf ("%s", arg0) : xasprintf ("%.*s/%s", (int) len, dir, arg0);

      if (check_executable (candidate) == 0)
        return absolute (candidate);
      if (errno == EACCES)
        denied = true;
      if (dir[len] == '\0')
        break;
      dir += len + 1;
    }
  if (denied)
    return husk_err_set (err, EACCES, "exec '%s': found in $PATH '%s' but not executable", arg0, search), NULL;
  return husk_err_set (err, ENOENT, "executable '%s' not found in $PATH '%s'", arg0, search), NULL;
}

char *
process_prepare_exec (const struct husk_process *proc, const struct husk_linux *lx,
                      const struct husk_seccomp_bpf *seccomp, int setgroups_allowed, struct husk_err *err)
{
  char *exe;

  if (process_set_rlimits (proc, err) < 0)
    return NULL;
  if (process_set_scheduler (proc, err) < 0 || process_set_io_priority (proc, err) < 0)
    return NULL;
  if (lx != NULL && process_set_personality (lx, err) < 0)
    return NULL;
  if (caps_drop_bounding (proc->capabilities, err) < 0)
    return NULL;
  if (!proc->no_new_privileges && seccomp_apply (seccomp, err) < 0)
    return NULL;
  /* The uid change keeps the permitted set (PR_SET_KEEPCAPS) so caps_apply can set the final sets.  */
  if (process_set_user (&proc->user, setgroups_allowed, err) < 0)
    return NULL;
  if (caps_apply (proc->capabilities, err) < 0)
    return NULL;
  if (process_chdir (proc->cwd, err) < 0)
    return NULL;
  exe = process_find_executable (proc->args[0], proc->env, err);
  if (exe == NULL)
    return NULL;
  if (proc->no_new_privileges && caps_set_no_new_privs (err) < 0)
    {
      free (exe);
      return NULL;
    }
  return exe;
}
