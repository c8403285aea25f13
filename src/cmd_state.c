/* husk state ID: the state JSON of runtime.md "State" on stdout.  */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "state.h"

int
cmd_state (const struct husk_globals *g, int argc, char **argv, struct husk_err *err)
{
  struct husk_state_rec rec;
  char *json;

  if (argc != 2 || argv[1][0] == '-')
    return husk_err_set (err, 0, "state: usage: husk state ID");
  if (state_load (g->root, argv[1], &rec, err) < 0)
    return -1;
  json = state_rec_json (&rec, state_status_now (g->root, &rec), true);
  printf ("%s\n", json);
  free (json);
  state_rec_release (&rec);
  return 0;
}
