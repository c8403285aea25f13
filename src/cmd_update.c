/* husk update [--resources FILE|-] [--memory N] [--cpu-quota N] ... ID: change the cgroup limits of a
 * running container (runc's update; containerd sends a LinuxResources object on stdin).
 * config-linux.md "Control groups".  */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "commands.h"
#include "spec.h"
#include "state.h"
#include "util.h"

/* The LinuxResources object in FILE ("-": stdin), parsed by the config parser so errors name the
 * field ("--resources: linux.resources.memory.limit: expected integer").  */
static struct husk_spec *
load_resources (const char *file, struct husk_err *err)
{
  cleanup_free char *text = NULL, *wrapped = NULL;
  size_t len;

  if (strcmp (file, "-") == 0)
    text = read_fd_all (STDIN_FILENO, "stdin", 1 << 20, &len, err);
  else
    text = read_file_at (AT_FDCWD, file, 1 << 20, &len, err);
  if (text == NULL)
    return husk_err_prefix (err, "--resources"), NULL;
  wrapped = xasprintf ("{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"/\"},\"linux\":{\"resources\":%s}}", text);
  return spec_parse (wrapped, strlen (wrapped), "--resources", err);
}

static int
parse_flag_number (const char *flag, const char *s, int64_t *out, struct husk_err *err)
{
  if (parse_i64 (s, out) < 0)
    return husk_err_set (err, 0, "update: %s: invalid number '%s'", flag, s);
  return 0;
}

int
cmd_update (const struct husk_globals *g, int argc, char **argv, struct husk_err *err)
{
  enum
  {
    OPT_RESOURCES = 256, OPT_MEMORY, OPT_MEMORY_RESERVATION, OPT_MEMORY_SWAP, OPT_CPU_SHARE, OPT_CPU_QUOTA,
    OPT_CPU_PERIOD, OPT_CPUSET_CPUS, OPT_CPUSET_MEMS, OPT_PIDS_LIMIT, OPT_BLKIO_WEIGHT,
  };
  static const struct option opts[] = {
    { "resources", required_argument, NULL, OPT_RESOURCES },
    { "memory", required_argument, NULL, OPT_MEMORY },
    { "memory-reservation", required_argument, NULL, OPT_MEMORY_RESERVATION },
    { "memory-swap", required_argument, NULL, OPT_MEMORY_SWAP },
    { "cpu-share", required_argument, NULL, OPT_CPU_SHARE },
    { "cpu-quota", required_argument, NULL, OPT_CPU_QUOTA },
    { "cpu-period", required_argument, NULL, OPT_CPU_PERIOD },
    { "cpuset-cpus", required_argument, NULL, OPT_CPUSET_CPUS },
    { "cpuset-mems", required_argument, NULL, OPT_CPUSET_MEMS },
    { "pids-limit", required_argument, NULL, OPT_PIDS_LIMIT },
    { "blkio-weight", required_argument, NULL, OPT_BLKIO_WEIGHT },
    { NULL, 0, NULL, 0 },
  };
  cleanup_spec struct husk_spec *from_file = NULL;
  struct husk_memory mem = { 0 };
  struct husk_cpu cpu = { 0 };
  struct husk_block_io bio = { 0 };
  struct husk_resources flags = { 0 }, *r = &flags;
  struct husk_state_rec rec;
  struct husk_cgroup *cg;
  const char *resources_file = NULL;
  int64_t v;
  int c, ret;

  optind = 0;
  opterr = 0;
  while ((c = getopt_long (argc, argv, "+:r:", opts, NULL)) != -1)
    {
      const char *flag = argv[optind - 1];
      switch (c)
        {
        case 'r':
        case OPT_RESOURCES:
          resources_file = optarg;
          continue;
        case OPT_CPUSET_CPUS:
          cpu.cpus = optarg;
          flags.cpu = &cpu;
          continue;
        case OPT_CPUSET_MEMS:
          cpu.mems = optarg;
          flags.cpu = &cpu;
          continue;
        case ':':
          return husk_err_set (err, 0, "update: option '%s' needs an argument", flag);
        case '?':
          return husk_err_set (err, 0, "update: unknown option '%s'", flag);
        }
      if (parse_flag_number (flag, optarg, &v, err) < 0)
        return -1;
      switch (c)
        {
        case OPT_MEMORY:
          mem.has_limit = true, mem.limit = v, flags.memory = &mem;
          break;
        case OPT_MEMORY_RESERVATION:
          mem.has_reservation = true, mem.reservation = v, flags.memory = &mem;
          break;
        case OPT_MEMORY_SWAP:
          mem.has_swap = true, mem.swap = v, flags.memory = &mem;
          break;
        case OPT_CPU_SHARE:
          cpu.has_shares = true, cpu.shares = (uint64_t) v, flags.cpu = &cpu;
          break;
        case OPT_CPU_QUOTA:
          cpu.has_quota = true, cpu.quota = v, flags.cpu = &cpu;
          break;
        case OPT_CPU_PERIOD:
          cpu.has_period = true, cpu.period = (uint64_t) v, flags.cpu = &cpu;
          break;
        case OPT_PIDS_LIMIT:
          flags.has_pids_limit = true, flags.pids_limit = v;
          break;
        case OPT_BLKIO_WEIGHT:
          bio.has_weight = true, bio.weight = (uint16_t) v, flags.block_io = &bio;
          break;
        }
    }
  if (optind != argc - 1)
    return husk_err_set (err, 0, "update: usage: husk update [--resources FILE|-] [--memory N] ... ID");
  if (resources_file != NULL)
    {
      from_file = load_resources (resources_file, err);
      if (from_file == NULL)
        return -1;
      if (from_file->linux == NULL || from_file->linux->resources == NULL)
        return 0;
      r = from_file->linux->resources;
    }
  if (state_load (g->root, argv[optind], &rec, err) < 0)
    return -1;
  if (strcmp (state_status_now (g->root, &rec), "stopped") == 0 || rec.cgroup_path == NULL)
    {
      state_rec_release (&rec);
      return husk_err_set (err, 0, "container not running");
    }
  cg = cgroup_open (rec.cgroup_path, NULL, err);
  state_rec_release (&rec);
  if (cg == NULL)
    return -1;
  ret = cgroup_update (cg, r, err);
  cgroup_free (cg);
  return ret;
}
