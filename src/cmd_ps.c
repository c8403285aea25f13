/* husk ps [--format table|json] ID: the processes of the container's cgroup.  */
#include "config.h"

#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/cgroup.h"
#include "commands.h"
#include "state.h"
#include "util.h"

int
cmd_ps (const struct husk_globals *g, int argc, char **argv, struct husk_err *err)
{
  static const struct option opts[] = {
    { "format", required_argument, NULL, 'f' },
    { NULL, 0, NULL, 0 },
  };
  struct husk_state_rec rec;
  struct husk_cgroup *cg;
  cleanup_free pid_t *pids = NULL;
  bool json = false;
  size_t n;
  int c, ret;

  optind = 0;
  opterr = 0;
  while ((c = getopt_long (argc, argv, "+:f:", opts, NULL)) != -1)
    if (c == 'f' && (strcmp (optarg, "json") == 0 || strcmp (optarg, "table") == 0))
      json = strcmp (optarg, "json") == 0;
    else if (c == 'f')
      return husk_err_set (err, 0, "ps: --format: expected 'table' or 'json', got '%s'", optarg);
    else
      return husk_err_set (err, 0, "ps: unknown option '%s'", argv[optind - 1]);
  if (optind != argc - 1)
    return husk_err_set (err, 0, "ps: usage: husk ps [--format table|json] ID");
  if (state_load (g->root, argv[optind], &rec, err) < 0)
    return -1;
  if (rec.cgroup_path == NULL)
    {
      state_rec_release (&rec);
      return husk_err_set (err, 0, "container '%s' has no recorded cgroup", argv[optind]);
    }
  cg = cgroup_open (rec.cgroup_path, NULL, err);
  state_rec_release (&rec);
  if (cg == NULL)
    return -1;
  ret = cgroup_pids (cg, &pids, &n, err);
  cgroup_free (cg);
  if (ret < 0)
    return -1;
  if (json)
    {
      /* containerd reads a JSON array of pids.  */
      printf ("[");
      for (size_t i = 0; i < n; i++)
        printf ("%s%d", i > 0 ? "," : "", (int) pids[i]);
      printf ("]\n");
      return 0;
    }
  printf ("%-8s %s\n", "PID", "CMD");
  for (size_t i = 0; i < n; i++)
    {
      char path[64];
      struct husk_err ignored;
      size_t len;
      (void) snprintf (path, sizeof path, "/proc/%d/cmdline", (int) pids[i]);
      cleanup_free char *cmd = read_file_at (AT_FDCWD, path, 4096, &len, &ignored);
      for (size_t k = 0; cmd != NULL && k + 1 < len; k++)
        if (cmd[k] == '\0')
          cmd[k] = ' ';
      printf ("%-8d %s\n", (int) pids[i], cmd != NULL ? cmd : "");
    }
  return 0;
}
