/* husk start ID  (runtime.md "start").  */
#include "config.h"

#include "commands.h"
#include "lifecycle.h"

int
cmd_start (const struct husk_globals *g, int argc, char **argv, struct husk_err *err)
{
  if (argc != 2 || argv[1][0] == '-')
    return husk_err_set (err, 0, "start: usage: husk start ID");
  return container_start (g->root, argv[1], err);
}
