/* husk exec [OPTIONS] ID [COMMAND [ARG...]]: run a process in a running container (runc's command;
 * the runtime-spec has no exec).  */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "exec.h"
#include "spec_names.h"
#include "util.h"

#define USAGE                                                                                          \
  "usage: husk exec [--process FILE] [--detach] [--pid-file FILE] [--cwd DIR] [--env K=V]... "        \
  "[--user UID[:GID]] [--additional-gids GID]... [--cap CAP]... [--no-new-privs] [--preserve-fds N] "  \
  "ID [COMMAND [ARG...]]"

static int
parse_u32 (const char *s, uint32_t *out)
{
  uint64_t v;

  if (parse_u64 (s, &v) < 0 || v > UINT32_MAX)
    return -1;
  *out = (uint32_t) v;
  return 0;
}

/* --user UID[:GID], numbers only (runc's form).  */
static int
parse_user (const char *arg, struct husk_exec_opts *o, struct husk_err *err)
{
  cleanup_free char *copy = xstrdup (arg);
  char *colon = strchr (copy, ':');

  if (colon != NULL)
    {
      *colon = '\0';
      if (parse_u32 (colon + 1, &o->gid) < 0)
        return husk_err_set (err, 0, "exec: --user: invalid gid in '%s'", arg);
      o->has_gid = true;
    }
  if (parse_u32 (copy, &o->uid) < 0)
    return husk_err_set (err, 0, "exec: --user: invalid uid in '%s' (expected UID[:GID])", arg);
  o->has_user = true;
  return 0;
}

/* --cap NAME: "CAP_SYS_PTRACE", or without the prefix as some callers write it ("SYS_PTRACE").  */
static int
parse_cap (const char *arg, uint64_t *mask, struct husk_err *err)
{
  cleanup_free char *name = has_prefix (arg, "CAP_") ? xstrdup (arg) : xasprintf ("CAP_%s", arg);
  int cap = spec_cap_from_name (name);

  if (cap < 0)
    return husk_err_set (err, 0, "exec: --cap: unknown capability '%s'", arg);
  *mask |= UINT64_C (1) << cap;
  return 0;
}

/* Append ARG to the NULL-terminated vector *V.  */
static void
strv_push (char ***v, const char *arg)
{
  size_t n = strv_len (*v);

  *v = xrealloc (*v, (n + 2) * sizeof **v);
  (*v)[n] = (char *) arg;
  (*v)[n + 1] = NULL;
}

int
cmd_exec (const struct husk_globals *g, int argc, char **argv, struct husk_err *err)
{
  enum
  {
    OPT_CONSOLE_SOCKET = 256,
    OPT_PID_FILE,
    OPT_CWD,
    OPT_NO_NEW_PRIVS,
    OPT_PRESERVE_FDS,
    OPT_PROCESS_LABEL,
    OPT_APPARMOR,
    OPT_IGNORE_PAUSED,
    OPT_CGROUP,
  };
  static const struct option opts[] = {
    { "process", required_argument, NULL, 'p' },
    { "tty", no_argument, NULL, 't' },
    { "console-socket", required_argument, NULL, OPT_CONSOLE_SOCKET },
    { "detach", no_argument, NULL, 'd' },
    { "pid-file", required_argument, NULL, OPT_PID_FILE },
    { "cwd", required_argument, NULL, OPT_CWD },
    { "env", required_argument, NULL, 'e' },
    { "user", required_argument, NULL, 'u' },
    { "additional-gids", required_argument, NULL, 'g' },
    { "cap", required_argument, NULL, 'c' },
    { "no-new-privs", no_argument, NULL, OPT_NO_NEW_PRIVS },
    { "preserve-fds", required_argument, NULL, OPT_PRESERVE_FDS },
    { "process-label", required_argument, NULL, OPT_PROCESS_LABEL },
    { "apparmor", required_argument, NULL, OPT_APPARMOR },
    { "ignore-paused", no_argument, NULL, OPT_IGNORE_PAUSED },
    { "cgroup", required_argument, NULL, OPT_CGROUP },
    { NULL, 0, NULL, 0 },
  };
  struct husk_exec_opts o = { .root = g->root };
  cleanup_free char **env = NULL;
  cleanup_free uint32_t *gids = NULL;
  uint64_t n;
  int c, ret;

  optind = 0;
  opterr = 0;
  /* "+": options end at the container id; what follows is the command's.  */
  while ((c = getopt_long (argc, argv, "+:p:tde:u:g:c:", opts, NULL)) != -1)
    switch (c)
      {
      case 'p':
        o.process_file = optarg;
        break;
      case 't':
        o.tty = true;
        break;
      case OPT_CONSOLE_SOCKET:
        o.console_socket = optarg;
        break;
      case 'd':
        o.detach = true;
        break;
      case OPT_PID_FILE:
        o.pid_file = optarg;
        break;
      case OPT_CWD:
        if (optarg[0] != '/')
          return husk_err_set (err, 0, "exec: --cwd: '%s' is not an absolute path", optarg);
        o.cwd = optarg;
        break;
      case 'e':
        if (strchr (optarg, '=') == NULL || optarg[0] == '=')
          return husk_err_set (err, 0, "exec: --env: '%s' is not of the form NAME=VALUE", optarg);
        strv_push (&env, optarg);
        break;
      case 'u':
        if (parse_user (optarg, &o, err) < 0)
          return -1;
        break;
      case 'g':
        {
          uint32_t gid;
          if (parse_u32 (optarg, &gid) < 0)
            return husk_err_set (err, 0, "exec: --additional-gids: invalid gid '%s'", optarg);
          gids = xrealloc (gids, (o.n_additional_gids + 1) * sizeof *gids);
          gids[o.n_additional_gids++] = gid;
          break;
        }
      case 'c':
        if (parse_cap (optarg, &o.caps_add, err) < 0)
          return -1;
        break;
      case OPT_NO_NEW_PRIVS:
        o.no_new_privs = true;
        break;
      case OPT_PRESERVE_FDS:
        if (parse_u64 (optarg, &n) < 0 || n > 65536)
          return husk_err_set (err, 0, "exec: --preserve-fds: invalid number '%s'", optarg);
        o.preserve_fds = (unsigned int) n;
        break;
      case OPT_PROCESS_LABEL:
        o.process_label = optarg;
        break;
      case OPT_APPARMOR:
        o.apparmor = optarg;
        break;
      case OPT_IGNORE_PAUSED:
        break; /* husk cannot pause a container yet: nothing is ever paused */
      case OPT_CGROUP:
        return husk_err_set (err, 0, "exec: --cgroup: not supported yet");
      case ':':
        return husk_err_set (err, 0, "exec: option '%s' needs an argument", argv[optind - 1]);
      default:
        return husk_err_set (err, 0, "exec: unknown option '%s'", argv[optind - 1]);
      }
  if (optind >= argc)
    return husk_err_set (err, 0, "exec: expected a container id, " USAGE);
  o.id = argv[optind];
  if (o.process_file != NULL && optind + 1 < argc)
    return husk_err_set (err, 0, "exec: give either --process or a command, not both");
  if (o.process_file == NULL && optind + 1 >= argc)
    return husk_err_set (err, 0, "exec: no command given, " USAGE);
  o.args = o.process_file == NULL ? argv + optind + 1 : NULL;
  o.env = env;
  o.additional_gids = gids;
  ret = exec_run (&o, err);
  return ret;
}
