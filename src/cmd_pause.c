/* husk pause ID / husk resume ID: freeze or thaw the container's processes (its cgroup).  */
#include "config.h"

#include "commands.h"
#include "lifecycle.h"

int
cmd_pause (const struct husk_globals *g, int argc, char **argv, struct husk_err *err)
{
  if (argc != 2 || argv[1][0] == '-')
    return husk_err_set (err, 0, "pause: usage: husk pause ID");
  return container_pause (g->root, argv[1], true, err);
}

int
cmd_resume (const struct husk_globals *g, int argc, char **argv, struct husk_err *err)
{
  if (argc != 2 || argv[1][0] == '-')
    return husk_err_set (err, 0, "resume: usage: husk resume ID");
  return container_pause (g->root, argv[1], false, err);
}
