/* husk list [--format table|json] [-q]: the containers under --root.  */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "commands.h"
#include "state.h"
#include "json_gen.h"
#include "util.h"

int
cmd_list (const struct husk_globals *g, int argc, char **argv, struct husk_err *err)
{
  static const struct option opts[] = {
    { "format", required_argument, NULL, 'f' },
    { "quiet", no_argument, NULL, 'q' },
    { NULL, 0, NULL, 0 },
  };
  bool json = false, quiet = false;
  cleanup_dir DIR *d = NULL;
  struct dirent *de;
  yajl_gen gen = NULL;
  int c;

  optind = 0;
  opterr = 0;
  while ((c = getopt_long (argc, argv, "+:f:q", opts, NULL)) != -1)
    switch (c)
      {
      case 'f':
        if (strcmp (optarg, "json") != 0 && strcmp (optarg, "table") != 0)
          return husk_err_set (err, 0, "list: --format: expected 'table' or 'json', got '%s'", optarg);
        json = strcmp (optarg, "json") == 0;
        break;
      case 'q':
        quiet = true;
        break;
      default:
        return husk_err_set (err, 0, "list: unknown option '%s'", argv[optind - 1]);
      }
  d = opendir (g->root);
  if (d == NULL && errno != ENOENT)
    return husk_err_set (err, errno, "open state root '%s'", g->root);
  if (quiet)
    json = false;
  if (json)
    {
      gen = yajl_gen_alloc (NULL);
      yajl_gen_array_open (gen);
    }
  else if (!quiet)
    printf ("%-24s %-8s %-10s %-40s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED");
  while (d != NULL && (de = readdir (d)) != NULL)
    {
      struct husk_state_rec rec;
      struct husk_err ignored;
      if (de->d_name[0] == '.' || state_load (g->root, de->d_name, &rec, &ignored) < 0)
        continue;
      const char *status = state_status_now (g->root, &rec);
      int pid = strcmp (status, "stopped") == 0 ? 0 : rec.pid;
      if (quiet)
        printf ("%s\n", rec.id);
      else if (json)
        {
          yajl_gen_map_open (gen);
          json_gen_str (gen, "id");
          json_gen_str (gen, rec.id);
          json_gen_str (gen, "pid");
          yajl_gen_integer (gen, pid);
          json_gen_str (gen, "status");
          json_gen_str (gen, status);
          json_gen_str (gen, "bundle");
          json_gen_str (gen, rec.bundle);
          json_gen_str (gen, "created");
          json_gen_str (gen, rec.created != NULL ? rec.created : "");
          yajl_gen_map_close (gen);
        }
      else
        printf ("%-24s %-8d %-10s %-40s %s\n", rec.id, pid, status, rec.bundle, rec.created != NULL ? rec.created : "");
      state_rec_release (&rec);
    }
  if (json)
    {
      const unsigned char *buf;
      size_t len;
      yajl_gen_array_close (gen);
      yajl_gen_get_buf (gen, &buf, &len);
      printf ("%.*s\n", (int) len, buf);
      yajl_gen_free (gen);
    }
  return 0;
}
