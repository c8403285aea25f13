/* husk create [--bundle DIR] [--pid-file FILE] ... ID  (runtime.md "create")
 * husk run [--bundle DIR] [--pid-file FILE] [--detach] ... ID  (create + start + wait).  */
#include "config.h"

#include <getopt.h>
#include <string.h>

#include "commands.h"
#include "container.h"
#include "util.h"

static int
create_or_run (const struct husk_globals *g, bool run, int argc, char **argv, struct husk_err *err)
{
  const char *cmd = run ? "run" : "create";
  static const struct option opts[] = {
    { "bundle", required_argument, NULL, 'b' },     { "pid-file", required_argument, NULL, 'p' },
    { "detach", no_argument, NULL, 'd' },           { "console-socket", required_argument, NULL, 'c' },
    { "no-pivot", no_argument, NULL, 'P' },         { "no-new-keyring", no_argument, NULL, 'k' },
    { "preserve-fds", required_argument, NULL, 'f' }, { "keep", no_argument, NULL, 'K' },
    { NULL, 0, NULL, 0 },
  };
  struct husk_run_opts o = { .root = g->root, .bundle = ".", .systemd_cgroup = g->systemd_cgroup, .run = run };
  int c;

  optind = 0;
  opterr = 0;
  while ((c = getopt_long (argc, argv, "+:b:p:d", opts, NULL)) != -1)
    switch (c)
      {
      case 'b':
        o.bundle = optarg;
        break;
      case 'p':
        o.pid_file = optarg;
        break;
      case 'd':
        if (!run)
          return husk_err_set (err, 0, "create: unknown option '%s'", argv[optind - 1]);
        o.detach = true;
        break;
      case 'k':
        break; /* husk never joins a session keyring: nothing to turn off */
      case 'c':
        o.console_socket = optarg;
        break;
      case 'P':
        return husk_err_set (err, 0, "%s: --no-pivot: not supported (pivot_root is always used)", cmd);
      case 'f':
        {
          uint64_t n;
          if (parse_u64 (optarg, &n) < 0 || n > 1024)
            return husk_err_set (err, 0, "%s: --preserve-fds: invalid number '%s'", cmd, optarg);
          o.preserve_fds = (unsigned int) n;
        }
        break;
      case 'K':
        return husk_err_set (err, 0, "%s: --keep: not supported yet", cmd);
      case ':':
        return husk_err_set (err, 0, "%s: option '%s' needs an argument", cmd, argv[optind - 1]);
      default:
        return husk_err_set (err, 0, "%s: unknown option '%s'", cmd, argv[optind - 1]);
      }
  if (optind != argc - 1)
    return husk_err_set (err, 0, "%s: expected one container id, usage: husk %s [--bundle DIR] "
                                 "[--pid-file FILE]%s ID", cmd, cmd, run ? " [--detach]" : "");
  o.id = argv[optind];
  return container_run (&o, err);
}

int
cmd_create (const struct husk_globals *g, int argc, char **argv, struct husk_err *err)
{
  return create_or_run (g, false, argc, argv, err);
}

int
cmd_run (const struct husk_globals *g, int argc, char **argv, struct husk_err *err)
{
  return create_or_run (g, true, argc, argv, err);
}
