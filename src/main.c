/* husk: an OCI container runtime.  main() parses the global options, picks the log sink, finds the
 * command in the table and runs it; it is the only place an error is printed.  */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

#include "commands.h"
#include "error.h"
#include "exeseal.h"
#include "util.h"

struct command
{
  const char *name;
  int (*fn) (const struct husk_globals *g, int argc, char **argv, struct husk_err *err);
  bool starts_process; /* runs a container process: re-executes from a sealed copy first */
  const char *summary;
};

static const struct command commands[] = {
  { "create", cmd_create, true, "create a container, its process waits for start" },
  { "start", cmd_start, false, "start the process of a created container" },
  { "run", cmd_run, true, "create and start a container, wait for it" },
  { "exec", cmd_exec, true, "run a process in a running container" },
  { "state", cmd_state, false, "print the state of a container as JSON" },
  { "kill", cmd_kill, false, "send a signal to a container's process (or all, --all)" },
  { "delete", cmd_delete, false, "delete a stopped container (--force: any)" },
  { "pause", cmd_pause, false, "freeze every process of a container" },
  { "resume", cmd_resume, false, "thaw a paused container" },
  { "update", cmd_update, false, "change the cgroup limits of a running container" },
  { "events", cmd_events, false, "print a container's resource usage and OOM events (JSON)" },
  { "list", cmd_list, false, "list the containers" },
  { "ps", cmd_ps, false, "list the processes of a container" },
  { "features", cmd_features, false, "print what this husk supports (JSON, features.md)" },
  { "spec", cmd_spec, false, "write a default config.json" },
  { "sandbox", cmd_sandbox, true, "run one command in a throw-away sandbox, no bundle needed" },
  { "image", cmd_image, false, "unpack OCI images into bundles; list, remove, gc the layer store" },
};

static void
usage (FILE *out)
{
  fprintf (out, "Usage: husk [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]\n\n"
                "An OCI container runtime (runtime-spec 1.2).\n\nCommands:\n");
  for (size_t i = 0; i < ARRAY_SIZE (commands); i++)
    fprintf (out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\nGlobal options:\n"
                "  --root DIR            state directory (default /run/husk; other users\n"
                "                        $XDG_RUNTIME_DIR/husk, /run/user/UID/husk or /tmp/husk-UID)\n"
                "  --log FILE            write messages to FILE instead of stderr\n"
                "  --log-format FORMAT   text (default) or json\n"
                "  --debug               print debug messages\n"
                "  --systemd-cgroup      use the systemd cgroup driver\n"
                "  --version, --help\n");
}

/* A fallback state directory for a user without $XDG_RUNTIME_DIR: DIR, made 0700 if missing, must
 * be a real directory (not a symlink) owned by the effective uid with no access for anyone else.
 * Returns 0, 1 when DIR does not exist and CREATE is false, or -1 with ERR.  */
static int
own_private_dir (const char *dir, bool create, struct husk_err *err)
{
  struct stat st;

  if (create && mkdir (dir, 0700) < 0 && errno != EEXIST)
    return husk_err_set (err, errno, "mkdir state root '%s'", dir);
  if (lstat (dir, &st) < 0)
    return !create && errno == ENOENT ? 1 : husk_err_set (err, errno, "state root '%s'", dir);
  if (!S_ISDIR (st.st_mode) || st.st_uid != geteuid () || (create && (st.st_mode & 077) != 0))
    return husk_err_set (err, 0,
                         "state root '%s' is not a private directory of uid %u: give --root or set "
                         "XDG_RUNTIME_DIR",
                         dir, (unsigned) geteuid ());
  return 0;
}


/* The state directory when --root is not given.  root: /run/husk.  Anyone else ("rootless", root
 * of a user namespace included), as runc and crun: $XDG_RUNTIME_DIR/husk.  Without
 * $XDG_RUNTIME_DIR: /run/user/UID/husk when /run/user/UID is the user's own directory (where
 * pam_systemd points $XDG_RUNTIME_DIR), else /tmp/husk-UID, made 0700 and checked to be the
 * user's (not a symlink, no access for others; in the sticky /tmp no one else can replace it
 * afterwards).  Returns the path (free it), or NULL with ERR.  */
static char *
default_root (struct husk_err *err)
{
  const char *xdg = getenv ("XDG_RUNTIME_DIR");
  unsigned uid = (unsigned) geteuid ();
  cleanup_free char *run_user = NULL, *tmp = NULL;

  if (husk_privileged ())
    return xstrdup ("/run/husk");
  if (xdg != NULL && *xdg == '/')
    return xasprintf ("%s/husk", xdg);
  run_user = xasprintf ("/run/user/%u", uid);
  if (own_private_dir (run_user, false, err) == 0)
    return xasprintf ("%s/husk", run_user);
  tmp = xasprintf ("/tmp/husk-%u", uid);
  if (own_private_dir (tmp, true, err) < 0)
    return NULL;
  return steal_ptr (&tmp);
}

int
main (int argc, char **argv, char **envp)
{
  static const struct option opts[] = {
    { "root", required_argument, NULL, 'r' },   { "log", required_argument, NULL, 'l' },
    { "log-format", required_argument, NULL, 'f' }, { "debug", no_argument, NULL, 'd' },
    { "systemd-cgroup", no_argument, NULL, 's' }, { "version", no_argument, NULL, 'v' },
    { "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 },
  };
  struct husk_err err = { 0 };
  struct husk_globals g = { 0 };
  cleanup_free char *root = NULL, *exe = NULL;
  const char *log_path = NULL;
  enum husk_log_format format = HUSK_LOG_TEXT;
  bool debug = false;
  int c, ret;

  /* The file husk was started from, which its sealed re-execution (exeseal.h) hands on in
   * _HUSK_EXE: husk-image is found beside it.  Read and dropped at once, so nothing husk starts
   * inherits it.  */
  {
    const char *e = getenv ("_HUSK_EXE");
    exe = e != NULL && e[0] == '/' ? xstrdup (e) : readlink_at (AT_FDCWD, "/proc/self/exe");
    (void) unsetenv ("_HUSK_EXE");
    g.exe = exe;
  }

  /* A caller may have set SIGCHLD to be ignored; husk waits for its children.  */
  (void) signal (SIGCHLD, SIG_DFL);

  /* "+": stop at the command name; the command parses the rest.  */
  while ((c = getopt_long (argc, argv, "+h", opts, NULL)) != -1)
    switch (c)
      {
      case 'r':
        root = xstrdup (optarg);
        break;
      case 'l':
        log_path = g.log_path = optarg;
        break;
      case 'f':
        g.log_format = optarg;
        if (strcmp (optarg, "json") == 0)
          format = HUSK_LOG_JSON;
        else if (strcmp (optarg, "text") == 0)
          format = HUSK_LOG_TEXT;
        else
          {
            fprintf (stderr, "husk: --log-format: expected 'text' or 'json', got '%s'\n", optarg);
            return 1;
          }
        break;
      case 'd':
        debug = g.debug = true;
        break;
      case 's':
        g.systemd_cgroup = true;
        break;
      case 'v':
        printf ("husk version %s\nspec: 1.2.0\n", PACKAGE_VERSION);
        return 0;
      case 'h':
        usage (stdout);
        return 0;
      default:
        usage (stderr);
        return 1;
      }
  if (husk_log_init (log_path, format, debug, &err) < 0)
    {
      husk_log_error (&err);
      return 1;
    }
  if (optind >= argc)
    {
      usage (stderr);
      return 1;
    }
  if (root == NULL)
    root = default_root (&err);
  if (root == NULL)
    {
      husk_log_error (&err);
      return 1;
    }
  g.root = root;

  for (size_t i = 0; i < ARRAY_SIZE (commands); i++)
    {
      if (strcmp (argv[optind], commands[i].name) != 0)
        continue;
      if (commands[i].starts_process && exe != NULL)
        (void) setenv ("_HUSK_EXE", exe, 1);
      if (commands[i].starts_process && exeseal_ensure (argv, environ, &err) < 0)
        {
          husk_log_error (&err);
          return 1;
        }
      (void) unsetenv ("_HUSK_EXE");
      /* The command parses its own options from its name on.  */
      optind++;
      ret = commands[i].fn (&g, argc - optind + 1, argv + optind - 1, &err);
      if (ret < 0)
        {
          husk_log_error (&err);
          return 1;
        }
      return ret;
    }
  husk_err_set (&err, 0, "unknown command '%s'", argv[optind]);
  husk_log_error (&err);
  return 1;
}
