/* husk kill [--all] ID [SIGNAL]  (runtime.md "kill"; SIGNAL defaults to SIGTERM, as runc).  */
#include "config.h"

#include <getopt.h>
#include <signal.h>

#include "commands.h"
#include "lifecycle.h"

int
cmd_kill (const struct husk_globals *g, int argc, char **argv, struct husk_err *err)
{
  static const struct option opts[] = {
    { "all", no_argument, NULL, 'a' },
    { NULL, 0, NULL, 0 },
  };
  bool all = false;
  int c, sig = SIGTERM;

  optind = 0;
  opterr = 0;
  while ((c = getopt_long (argc, argv, "+:a", opts, NULL)) != -1)
    if (c == 'a')
      all = true;
    else
      return husk_err_set (err, 0, "kill: unknown option '%s'", argv[optind - 1]);
  if (optind != argc - 1 && optind != argc - 2)
    return husk_err_set (err, 0, "kill: usage: husk kill [--all] ID [SIGNAL]");
  if (optind == argc - 2 && (sig = parse_signal (argv[optind + 1], err)) < 0)
    return -1;
  return container_kill (g->root, argv[optind], sig, all, err);
}
