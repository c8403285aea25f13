/* husk sandbox [OPTIONS] -- COMMAND [ARG...]: run one command isolated, without a bundle.
 *
 * The command reads the host facts the configuration needs (current directory, environment, mount
 * table, user), builds the config.json text with sandbox_config_json(), parses it like any bundle's
 * and runs it with container_run(), which forwards signals, waits and removes everything.
 *
 * A watchdog process (a child of husk in its own session, so a signal to husk's process group does
 * not reach it) holds one end of a socket pair: when husk ends in any way without saying so on the
 * socket (SIGKILL included), it reads EOF and deletes the container (`delete --force`: the
 * container's processes, its cgroup and its state).  It also enforces --timeout.  */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "container.h"
#include "fs.h"
#include "lifecycle.h"
#include "sandbox.h"
#include "spec.h"
#include "util.h"

extern char **environ;

/* Exit status when --timeout killed the command, as timeout(1).  */
#define SANDBOX_TIMEOUT_STATUS 124

static const char usage_text[]
    = "usage: husk sandbox [OPTIONS] [--] COMMAND [ARG...]\n"
      "  --rootfs DIR            root filesystem (default: the host's /, read-only)\n"
      "  --image SOURCE[:REF]    root filesystem from an OCI image (husk image unpack), throw-away upper\n"
      "  --store DIR             the image layer store (default /var/lib/husk)\n"
      "  --bind SRC[:DST][:ro]   bind SRC at DST (default: the same path)\n"
      "  --tmpfs DST             an empty tmpfs at DST\n"
      "  --chdir DIR             working directory (default: the current one)\n"
      "  --env K=V, --env K      set K (K alone: the caller's value)\n"
      "  --clearenv              start from an empty environment (PATH only)\n"
      "  --hostname NAME         host name in the sandbox\n"
      "  --user UID[:GID]        run as this user (a name: from the host's passwd)\n"
      "  --network none|host     default none: only lo\n"
      "  --memory BYTES          memory limit (k, m, g suffixes)\n"
      "  --cpus N                CPU time limit (fractional)\n"
      "  --pids N                process limit\n"
      "  --timeout SECONDS       kill the command after this long (exit status 124)\n"
      "  --cap-add CAP, --cap-drop CAP   change the capability set (ALL for all)\n"
      "  --seccomp default|unconfined|FILE\n"
      "  --readonly              nothing of the host writable, the current directory included\n"
      "  --tty                   give the command a terminal\n"
      "  --name ID               container id (default: sandbox-<pid>-<random>)\n"
      "  --cgroup-parent PATH    cgroup parent (default: /husk)\n"
      "  --print-config          print the config.json and exit\n";

enum
{
  OPT_ROOTFS = 256,
  OPT_IMAGE,
  OPT_STORE,
  OPT_BIND,
  OPT_TMPFS,
  OPT_CHDIR,
  OPT_ENV,
  OPT_CLEARENV,
  OPT_HOSTNAME,
  OPT_USER,
  OPT_NETWORK,
  OPT_MEMORY,
  OPT_CPUS,
  OPT_PIDS,
  OPT_TIMEOUT,
  OPT_CAP_ADD,
  OPT_CAP_DROP,
  OPT_SECCOMP,
  OPT_READONLY,
  OPT_TTY,
  OPT_NAME,
  OPT_CGROUP_PARENT,
  OPT_PRINT_CONFIG,
  OPT_HELP,
};

static const struct option long_opts[] = {
  { "rootfs", required_argument, NULL, OPT_ROOTFS },
  { "image", required_argument, NULL, OPT_IMAGE },
  { "store", required_argument, NULL, OPT_STORE },
  { "bind", required_argument, NULL, OPT_BIND },
  { "tmpfs", required_argument, NULL, OPT_TMPFS },
  { "chdir", required_argument, NULL, OPT_CHDIR },
  { "env", required_argument, NULL, OPT_ENV },
  { "clearenv", no_argument, NULL, OPT_CLEARENV },
  { "hostname", required_argument, NULL, OPT_HOSTNAME },
  { "user", required_argument, NULL, OPT_USER },
  { "network", required_argument, NULL, OPT_NETWORK },
  { "memory", required_argument, NULL, OPT_MEMORY },
  { "cpus", required_argument, NULL, OPT_CPUS },
  { "pids", required_argument, NULL, OPT_PIDS },
  { "timeout", required_argument, NULL, OPT_TIMEOUT },
  { "cap-add", required_argument, NULL, OPT_CAP_ADD },
  { "cap-drop", required_argument, NULL, OPT_CAP_DROP },
  { "seccomp", required_argument, NULL, OPT_SECCOMP },
  { "readonly", no_argument, NULL, OPT_READONLY },
  { "tty", no_argument, NULL, OPT_TTY },
  { "name", required_argument, NULL, OPT_NAME },
  { "cgroup-parent", required_argument, NULL, OPT_CGROUP_PARENT },
  { "print-config", no_argument, NULL, OPT_PRINT_CONFIG },
  { "help", no_argument, NULL, OPT_HELP },
  { NULL, 0, NULL, 0 },
};

/* Everything the command line gave, and what it owns.  */
struct sandbox_cmd
{
  struct sandbox_opts o;
  char **env; /* --env values, NULL-terminated */
  size_t n_env;
  const char *user;
  const char *seccomp_arg;
  const char *name;
  const char *cgroup_parent;
  uint64_t timeout_ms;
  bool print_config;
  const char *image; /* --image SOURCE[:REF] */
  const char *store; /* --store DIR */
  char *bundle;      /* with --image: the temp bundle husk image unpack made */
};

static void
sandbox_cmd_release (struct sandbox_cmd *c)
{
  for (size_t i = 0; i < c->o.n_mounts; i++)
    {
      free (c->o.mounts[i].source);
      free (c->o.mounts[i].destination);
    }
  free (c->o.mounts);
  strv_free (c->env);
  free ((char *) c->o.rootfs);
  free ((char *) c->o.cwd);
  free ((char *) c->o.chdir);
  free ((char *) c->o.seccomp_json);
  free ((char *) c->o.cgroups_path);
  free ((char *) c->o.mountinfo);
  free (c->bundle);
}

static struct sandbox_mount *
add_mount (struct sandbox_cmd *c)
{
  c->o.mounts = xrealloc (c->o.mounts, (c->o.n_mounts + 1) * sizeof *c->o.mounts);
  return memset (&c->o.mounts[c->o.n_mounts++], 0, sizeof *c->o.mounts);
}

/* A positive decimal for --pids.  */
static int
parse_count (const char *s, const char *what, int64_t *out, struct husk_err *err)
{
  int64_t v;

  if (parse_i64 (s, &v) < 0 || v <= 0)
    return husk_err_set (err, 0, "%s: expected a positive number, got '%s'", what, s);
  *out = v;
  return 0;
}

/* Sort one option C with argument ARG into *CMD.  Returns 0, 1 for --help, or -1 with ERR.  */
static int
parse_one (struct sandbox_cmd *cmd, int c, const char *arg, struct husk_err *err)
{
  struct sandbox_opts *o = &cmd->o;
  uint64_t cap;

  switch (c)
    {
    case OPT_ROOTFS:
      free ((char *) o->rootfs);
      o->rootfs = realpath (arg, NULL);
      if (o->rootfs == NULL)
        return husk_err_set (err, errno, "--rootfs '%s'", arg);
      return 0;
    case OPT_IMAGE:
      cmd->image = arg;
      return 0;
    case OPT_STORE:
      cmd->store = arg;
      return 0;
    case OPT_BIND:
      return sandbox_parse_bind (arg, add_mount (cmd), err) < 0 ? (cmd->o.n_mounts--, -1) : 0;
    case OPT_TMPFS:
      {
        char *dest = sandbox_clean_path (arg, "--tmpfs", err);
        if (dest == NULL)
          return -1;
        struct sandbox_mount *m = add_mount (cmd);
        m->kind = SANDBOX_TMPFS;
        m->destination = dest;
        return 0;
      }
    case OPT_CHDIR:
      free ((char *) o->chdir);
      o->chdir = sandbox_clean_path (arg, "--chdir", err);
      return o->chdir == NULL ? -1 : 0;
    case OPT_ENV:
      if (arg[0] == '\0' || arg[0] == '=')
        return husk_err_set (err, 0, "--env: expected K=V or K, got '%s'", arg);
      cmd->env = xrealloc (cmd->env, (cmd->n_env + 2) * sizeof *cmd->env);
      cmd->env[cmd->n_env++] = xstrdup (arg);
      cmd->env[cmd->n_env] = NULL;
      return 0;
    case OPT_CLEARENV:
      o->clearenv = true;
      return 0;
    case OPT_HOSTNAME:
      o->hostname = arg;
      return 0;
    case OPT_USER:
      cmd->user = arg;
      return 0;
    case OPT_NETWORK:
      if (strcmp (arg, "none") == 0)
        o->network = SANDBOX_NET_NONE;
      else if (strcmp (arg, "host") == 0)
        o->network = SANDBOX_NET_HOST;
      else
        return husk_err_set (err, 0, "--network: expected 'none' or 'host', got '%s'", arg);
      return 0;
    case OPT_MEMORY:
      return sandbox_parse_size (arg, "--memory", &o->memory, err);
    case OPT_CPUS:
      return sandbox_parse_cpus (arg, &o->cpu_quota, &o->cpu_period, err);
    case OPT_PIDS:
      return parse_count (arg, "--pids", &o->pids, err);
    case OPT_TIMEOUT:
      return sandbox_parse_duration (arg, &cmd->timeout_ms, err);
    case OPT_CAP_ADD:
    case OPT_CAP_DROP:
      cap = sandbox_parse_cap (arg, c == OPT_CAP_ADD ? "--cap-add" : "--cap-drop", err);
      if (cap == 0)
        return -1;
      if (c == OPT_CAP_ADD)
        o->cap_add |= cap, o->cap_drop &= ~cap;
      else
        o->cap_drop |= cap, o->cap_add &= ~cap;
      return 0;
    case OPT_SECCOMP:
      cmd->seccomp_arg = arg;
      return 0;
    case OPT_READONLY:
      o->readonly = true;
      return 0;
    case OPT_TTY:
      o->tty = true;
      return 0;
    case OPT_NAME:
      cmd->name = arg;
      return 0;
    case OPT_CGROUP_PARENT:
      cmd->cgroup_parent = arg;
      return 0;
    case OPT_PRINT_CONFIG:
      cmd->print_config = true;
      return 0;
    case OPT_HELP:
      return 1;
    }
  return husk_err_set (err, 0, "sandbox: unknown option");
}

/* --user: numbers, or a name from the host's passwd (host-root mode: the sandbox sees that file).
 * Without a group, the user's group from the host's passwd, else the uid.  Without --user: the
 * caller.  Returns 0, or -1 with ERR.  */
static int
resolve_user (struct sandbox_cmd *cmd, struct husk_err *err)
{
  struct sandbox_opts *o = &cmd->o;
  bool has_gid = false;
  struct husk_err numeric;
  const struct passwd *pw;

  if (o->userns)
    {
      /* One id can be mapped without privileges (no newuidmap): the caller's, as root inside.  */
      if (cmd->user != NULL && strcmp (cmd->user, "0") != 0 && strcmp (cmd->user, "0:0") != 0)
        return husk_err_set (err, 0, "--user '%s': without root only 0 (the caller, mapped) is possible", cmd->user);
      o->uid = o->gid = 0;
      return 0;
    }
  if (cmd->user == NULL)
    {
      o->uid = (uint32_t) getuid ();
      o->gid = (uint32_t) getgid ();
      return 0;
    }
  if (sandbox_parse_user (cmd->user, &o->uid, &o->gid, &has_gid, &numeric) < 0)
    {
      if (o->rootfs != NULL || strchr (cmd->user, ':') != NULL || (pw = getpwnam (cmd->user)) == NULL)
        return husk_err_set (err, 0, "--user: expected UID[:GID] or a user name of the host, got '%s'", cmd->user);
      o->uid = (uint32_t) pw->pw_uid;
      o->gid = (uint32_t) pw->pw_gid;
      return 0;
    }
  if (!has_gid)
    {
      pw = o->rootfs == NULL ? getpwuid ((uid_t) o->uid) : NULL;
      o->gid = pw != NULL ? (uint32_t) pw->pw_gid : o->uid;
    }
  return 0;
}

/* True when --memory should also cap swap: the host has swap, and (on cgroup v1) swap accounting.  */
static bool
host_limits_swap (void)
{
  struct husk_err ignored;
  cleanup_free char *swaps = read_file_at (AT_FDCWD, "/proc/swaps", 1 << 20, NULL, &ignored);
  struct stat st;

  /* /proc/swaps has a header line, then one line per swap area.  */
  if (swaps == NULL || strchr (swaps, '\n') == NULL || strchr (swaps, '\n')[1] == '\0')
    return false;
  if (stat ("/sys/fs/cgroup/memory", &st) == 0)
    return stat ("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", &st) == 0;
  return true;
}


/* The host facts and checks that complete CMD->o after parsing.  Returns 0, or -1 with ERR.  */
static int
complete_opts (struct sandbox_cmd *cmd, const char *id, struct husk_err *err)
{
  struct sandbox_opts *o = &cmd->o;
  char buf[4096];

  o->host_env = environ;
  o->env = cmd->env;
  o->userns = !husk_privileged ();
  o->host_uid = (uint32_t) geteuid ();
  o->host_gid = (uint32_t) getegid ();
  if (resolve_user (cmd, err) < 0)
    return -1;
  if (o->memory > 0)
    o->memory_swap = host_limits_swap ();
  if (cmd->cgroup_parent != NULL)
    {
      size_t n = strlen (cmd->cgroup_parent);
      while (n > 1 && cmd->cgroup_parent[n - 1] == '/')
        n--;
      o->cgroups_path = xasprintf ("%.*s/%s", (int) n, cmd->cgroup_parent, id);
    }
  if (cmd->seccomp_arg == NULL || strcmp (cmd->seccomp_arg, "default") == 0)
    o->seccomp = SANDBOX_SECCOMP_DEFAULT;
  else if (strcmp (cmd->seccomp_arg, "unconfined") == 0)
    o->seccomp = SANDBOX_SECCOMP_UNCONFINED;
  else
    {
      o->seccomp = SANDBOX_SECCOMP_FILE;
      o->seccomp_json = read_file_at (AT_FDCWD, cmd->seccomp_arg, 4 << 20, NULL, err);
      if (o->seccomp_json == NULL)
        return husk_err_prefix (err, "--seccomp");
    }
  /* Bind sources are resolved on the host, now: they must exist.  */
  for (size_t i = 0; i < o->n_mounts; i++)
    if (o->mounts[i].kind == SANDBOX_BIND)
      {
        char *real = realpath (o->mounts[i].source, NULL);
        if (real == NULL)
          return husk_err_set (err, errno, "--bind: source '%s'", o->mounts[i].source);
        free (o->mounts[i].source);
        o->mounts[i].source = real;
      }
  if (o->rootfs != NULL)
    return 0;

  /* Host-root mode.  */
  if (getcwd (buf, sizeof buf) != NULL)
    o->cwd = xstrdup (buf);
  else
    husk_warn ("sandbox: cannot get the current directory (%s), not binding it", strerror (errno));
  o->mountinfo = read_file_at (AT_FDCWD, "/proc/self/mountinfo", 64 << 20, NULL, err);
  if (o->mountinfo == NULL)
    return -1;
  /* The host's root is shared read-only: husk must not create a missing mount point on it.  */
  for (size_t i = 0; i < o->n_mounts; i++)
    {
      cleanup_free char *host = sandbox_dest_host_path (o, i);
      struct stat st;
      if (host != NULL && stat (host, &st) < 0)
        return husk_err_set (err, errno, "--%s: destination '%s' (on the host: '%s'): it must exist unless it is "
                             "under /tmp or a --tmpfs", o->mounts[i].kind == SANDBOX_BIND ? "bind" : "tmpfs",
                             o->mounts[i].destination, host);
    }
  return 0;
}

/* A new container id: sandbox-<pid>-<6 random hex digits>.  */
static char *
new_id (void)
{
  uint32_t r = 0;

  if (getrandom (&r, sizeof r, GRND_NONBLOCK) != sizeof r)
    r = (uint32_t) time (NULL) ^ (uint32_t) clock ();
  return xasprintf ("sandbox-%d-%06x", (int) getpid (), r & 0xffffff);
}

/* ---- --image --------------------------------------------------------------------------------- */

/* Unpack --image into a temp bundle /tmp/husk-sandbox-ID (rootfs only: the overlay of the store's
 * layers, with an upper layer thrown away with the container) by running husk-image, and make its
 * rootfs the sandbox's.  Returns 0, or -1 with ERR (husk-image printed its own error).  */
static int
unpack_image (const struct husk_globals *g, struct sandbox_cmd *cmd, const char *id, struct husk_err *err)
{
  cleanup_free char *prog = husk_image_path (g);
  const char *store = cmd->store != NULL ? cmd->store : "/var/lib/husk";
  int status;
  pid_t pid;

  if (cmd->o.rootfs != NULL)
    return husk_err_set (err, 0, "sandbox: --image and --rootfs exclude each other");
  cmd->bundle = xasprintf ("/tmp/husk-sandbox-%s", id);
  pid = fork ();
  if (pid < 0)
    return husk_err_set (err, errno, "sandbox: fork");
  if (pid == 0)
    {
      char *args[] = { prog, (char *) "unpack", (char *) "--quiet", (char *) "--rootfs-only", (char *) "--store",
                       (char *) store, (char *) cmd->image, cmd->bundle, NULL };
      execv (prog, args);
      fprintf (stderr, "husk: sandbox: run '%s': %s\n", prog, strerror (errno));
      _exit (127);
    }
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return husk_err_set (err, errno, "sandbox: wait for husk image unpack");
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    {
      free (cmd->bundle);
      cmd->bundle = NULL;
      return husk_err_set (err, 0, "sandbox: --image '%s': the image could not be unpacked", cmd->image);
    }
  cmd->o.rootfs = xasprintf ("%s/rootfs", cmd->bundle);
  return 0;
}

/* Remove the temp bundle of --image (its record in the store goes at the next `husk image gc`).  */
static void
remove_bundle (const char *bundle)
{
  struct husk_err e;

  if (bundle != NULL && fs_remove_tree (AT_FDCWD, bundle, &e) < 0)
    husk_warn ("sandbox: %s", e.msg);
}

/* ---- the watchdog -------------------------------------------------------------------------- */

struct watchdog
{
  pid_t pid;
  int sock; /* husk's end: 'D' when done; the watchdog answers 'T' (it fired --timeout) or 'N' */
};

static int64_t
now_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The watchdog: waits on SOCK.  'D' (husk is done): answer and exit.  EOF (husk died): delete the
 * container ROOT/ID with --force.  After TIMEOUT_MS (0: never): SIGKILL the container's process,
 * retrying every 10 ms until it runs.  Only SIGKILL ends it otherwise.  */
static __attribute__ ((noreturn)) void
watchdog_main (const char *root, const char *id, const char *bundle, uint64_t timeout_ms, int sock)
{
  sigset_t all;
  int64_t deadline = timeout_ms > 0 ? now_ms () + (int64_t) timeout_ms : -1;
  bool fired = false;
  int devnull;

  sigfillset (&all);
  (void) sigprocmask (SIG_BLOCK, &all, NULL);
  (void) setsid ();
  (void) prctl (PR_SET_NAME, "husk:[watchdog]");
  /* Not the caller's stdin or stdout: `$(husk sandbox ...)` ends when husk does.  */
  devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull >= 0)
    {
      (void) dup2 (devnull, STDIN_FILENO);
      (void) dup2 (devnull, STDOUT_FILENO);
    }
  for (;;)
    {
      struct pollfd p = { .fd = sock, .events = POLLIN };
      int wait = -1, r;
      char c;

      if (deadline >= 0 && !fired)
        {
          int64_t left = deadline - now_ms ();
          wait = left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int) left;
        }
      r = poll (&p, 1, wait);
      if (r < 0 && errno != EINTR)
        _exit (1);
      if (r == 0)
        {
          struct husk_err e;
          if (container_kill (root, id, SIGKILL, false, &e) == 0)
            fired = true;
          else
            deadline = now_ms () + 10;
          continue;
        }
      if (r < 0)
        continue;
      ssize_t n = read (sock, &c, 1);
      if (n < 0 && errno == EINTR)
        continue;
      if (n == 1 && c == 'D')
        {
          (void) send (sock, fired ? "T" : "N", 1, MSG_NOSIGNAL);
          _exit (0);
        }
      /* husk is gone without a word: remove what is left of the container.  delete warns that the
       * bundle (/proc) has no config.json, which is the point: stderr is muted meanwhile.  */
      struct husk_err e;
      cleanup_free char *dir = xasprintf ("%s/%s", root, id);
      if (access (dir, F_OK) < 0 && errno == ENOENT)
        {
          remove_bundle (bundle);
          _exit (0); /* husk died before it made anything else */
        }
      int saved = fcntl (STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
      if (saved >= 0 && devnull >= 0)
        (void) dup2 (devnull, STDERR_FILENO);
      r = container_delete (root, id, true, &e);
      if (saved >= 0)
        (void) dup2 (saved, STDERR_FILENO);
      if (r < 0)
        husk_warn ("sandbox watchdog: %s", e.msg);
      remove_bundle (bundle);
      _exit (0);
    }
}

/* Start the watchdog for container ROOT/ID into *W.  Returns 0, or -1 with ERR.  */
static int
watchdog_start (struct watchdog *w, const char *root, const char *id, const char *bundle, uint64_t timeout_ms,
                struct husk_err *err)
{
  int sv[2];

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    return husk_err_set (err, errno, "sandbox: socketpair");
  w->pid = fork ();
  if (w->pid < 0)
    {
      (void) close (sv[0]);
      (void) close (sv[1]);
      return husk_err_set (err, errno, "sandbox: fork the watchdog");
    }
  if (w->pid == 0)
    {
      (void) close (sv[0]);
      watchdog_main (root, id, bundle, timeout_ms, sv[1]);
    }
  (void) close (sv[1]);
  w->sock = sv[0];
  return 0;
}

/* Tell the watchdog husk is done, reap it.  Returns true when it fired --timeout.  */
static bool
watchdog_finish (struct watchdog *w)
{
  char c = 'N';

  /* MSG_NOSIGNAL: a watchdog someone killed must not cost husk a SIGPIPE.  */
  if (send (w->sock, "D", 1, MSG_NOSIGNAL) != 1 || read (w->sock, &c, 1) != 1)
    c = 'N';
  (void) close (w->sock);
  while (waitpid (w->pid, NULL, 0) < 0 && errno == EINTR)
    ;
  return c == 'T';
}

/* ---- the command --------------------------------------------------------------------------- */

/* Run the sandbox described by JSON as container ID.  Returns the command's exit status, or -1 with
 * ERR.  */
static int
run_sandbox (const struct husk_globals *g, const char *id, const char *json, const char *bundle, uint64_t timeout_ms,
             struct husk_err *err)
{
  cleanup_spec struct husk_spec *spec = spec_parse (json, strlen (json), "config.json", err);
  /* No bundle: /proc can never hold a config.json whose hooks `delete` would run.  */
  struct husk_run_opts ro = { .root = g->root, .id = id, .bundle = bundle != NULL ? bundle : "/proc", .systemd_cgroup = g->systemd_cgroup,
                              .run = true, .spec = spec, .kill_uncaught = true };
  struct watchdog w = { .pid = -1, .sock = -1 };
  int ret;

  if (spec == NULL)
    return -1;
  /* These describe husk's own process, for systemd; the sandbox gets neither.  */
  (void) unsetenv ("NOTIFY_SOCKET");
  (void) unsetenv ("LISTEN_FDS");
  (void) unsetenv ("LISTEN_PID");
  if (watchdog_start (&w, g->root, id, bundle, timeout_ms, err) < 0)
    return -1;
  ret = container_run (&ro, err);
  if (watchdog_finish (&w) && ret >= 0)
    ret = SANDBOX_TIMEOUT_STATUS;
  return ret;
}

int
cmd_sandbox (const struct husk_globals *g, int argc, char **argv, struct husk_err *err)
{
  struct sandbox_cmd cmd = { 0 };
  cleanup_free char *id = NULL, *json = NULL;
  int c, ret = -1;

  optind = 0;
  opterr = 0;
  while ((c = getopt_long (argc, argv, "+:", long_opts, NULL)) != -1)
    {
      int r;
      if (c == ':')
        {
          husk_err_set (err, 0, "sandbox: option '%s' needs an argument", argv[optind - 1]);
          goto out;
        }
      if (c == '?')
        {
          husk_err_set (err, 0, "sandbox: unknown option '%s'", argv[optind - 1]);
          goto out;
        }
      r = parse_one (&cmd, c, optarg, err);
      if (r < 0)
        goto out;
      if (r == 1)
        {
          fputs (usage_text, stdout);
          ret = 0;
          goto out;
        }
    }
  if (optind >= argc)
    {
      husk_err_set (err, 0, "sandbox: no command given; usage: husk sandbox [OPTIONS] -- COMMAND [ARG...]");
      goto out;
    }
  cmd.o.argv = argv + optind;
  id = cmd.name != NULL ? xstrdup (cmd.name) : new_id ();
  if (cmd.image != NULL && !cmd.print_config && unpack_image (g, &cmd, id, err) < 0)
    goto out;
  if (cmd.image != NULL && cmd.print_config)
    cmd.o.rootfs = xasprintf ("/tmp/husk-sandbox-%s/rootfs", id);
  if (complete_opts (&cmd, id, err) < 0)
    goto out;
  json = sandbox_config_json (&cmd.o, err);
  if (json == NULL)
    goto out;
  if (cmd.print_config)
    {
      ret = 0;
      if (fputs (json, stdout) == EOF || fputc ('\n', stdout) == EOF || fflush (stdout) == EOF)
        ret = husk_err_set (err, errno, "sandbox: write the configuration");
      goto out;
    }
  ret = run_sandbox (g, id, json, cmd.bundle, cmd.timeout_ms, err);
  /* Without root, limits need a cgroup delegated to the user (cgroup_prepare says which file it
   * cannot write, in config.json's words): say which options asked for them.  */
  if (ret < 0 && cmd.o.userns && (cmd.o.memory > 0 || cmd.o.cpu_quota > 0 || cmd.o.pids > 0)
      && has_prefix (err->msg, "config.json: linux.resources:"))
    husk_err_prefix (err, "sandbox: without root, --memory, --cpus and --pids need a --cgroup-parent delegated to uid %u",
                     (unsigned) geteuid ());
out:
  remove_bundle (cmd.bundle);
  sandbox_cmd_release (&cmd);
  return ret;
}
