/* husk run [--bundle DIR] [--pid-file FILE] [--detach] ID  (runtime.md "create" + "start").  */
#include "config.h"

#include <getopt.h>
#include <string.h>

#include "commands.h"
#include "container.h"

int
cmd_run (const struct husk_globals *g, int argc, char **argv, struct husk_err *err)
{
  static const struct option opts[] = {
    { "bundle", required_argument, NULL, 'b' },     { "pid-file", required_argument, NULL, 'p' },
    { "detach", no_argument, NULL, 'd' },           { "console-socket", required_argument, NULL, 'c' },
    { "no-pivot", no_argument, NULL, 'P' },         { "no-new-keyring", no_argument, NULL, 'k' },
    { "preserve-fds", required_argument, NULL, 'f' }, { "keep", no_argument, NULL, 'K' },
    { NULL, 0, NULL, 0 },
  };
  struct husk_run_opts o = { .root = g->root, .bundle = ".", .systemd_cgroup = g->systemd_cgroup };
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
        o.detach = true;
        break;
      case 'k':
        break; /* husk never joins a session keyring: nothing to turn off */
      case 'c':
        return husk_err_set (err, 0, "run: --console-socket: not supported yet");
      case 'P':
        return husk_err_set (err, 0, "run: --no-pivot: not supported (pivot_root is always used)");
      case 'f':
        return husk_err_set (err, 0, "run: --preserve-fds: not supported yet");
      case 'K':
        return husk_err_set (err, 0, "run: --keep: not supported yet");
      case ':':
        return husk_err_set (err, 0, "run: option '%s' needs an argument", argv[optind - 1]);
      default:
        return husk_err_set (err, 0, "run: unknown option '%s'", argv[optind - 1]);
      }
  if (optind != argc - 1)
    return husk_err_set (err, 0, "run: expected one container id, usage: husk run [--bundle DIR] "
                                 "[--pid-file FILE] [--detach] ID");
  o.id = argv[optind];
  return container_run (&o, err);
}
