/* husk delete [--force] ID  (runtime.md "delete").  */
#include "config.h"

#include <getopt.h>

#include "commands.h"
#include "lifecycle.h"

int
cmd_delete (const struct husk_globals *g, int argc, char **argv, struct husk_err *err)
{
  static const struct option opts[] = {
    { "force", no_argument, NULL, 'f' },
    { NULL, 0, NULL, 0 },
  };
  bool force = false;
  int c;

  optind = 0;
  opterr = 0;
  while ((c = getopt_long (argc, argv, "+:f", opts, NULL)) != -1)
    if (c == 'f')
      force = true;
    else
      return husk_err_set (err, 0, "delete: unknown option '%s'", argv[optind - 1]);
  if (optind != argc - 1)
    return husk_err_set (err, 0, "delete: usage: husk delete [--force] ID");
  return container_delete (g->root, argv[optind], force, err);
}
