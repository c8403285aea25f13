/* Namespaces: plan, join, unshare (see ns.h).  */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/nsfs.h>

#include "ns/ns.h"
#include "spec_names.h"
#include "util.h"


void
ns_plan_release (struct husk_ns_plan *plan)
{
  for (int t = 0; t < HUSK_NS_COUNT; t++)
    if (plan->join_fd[t] >= 0)
      {
        (void) close (plan->join_fd[t]);
        plan->join_fd[t] = -1;
      }
}

int
ns_plan_make (const struct husk_spec *spec, struct husk_ns_plan *plan, struct husk_err *err)
{
  const struct husk_linux *lx = spec->linux;

  memset (plan, 0, sizeof *plan);
  for (int t = 0; t < HUSK_NS_COUNT; t++)
    plan->join_fd[t] = -1;
  for (size_t i = 0; lx != NULL && i < lx->n_namespaces; i++)
    {
      const struct husk_namespace *ns = &lx->namespaces[i];
      if (ns->path == NULL)
        {
          plan->new_ns[ns->type] = true;
          continue;
        }
      int fd = open (ns->path, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        {
          husk_err_set (err, errno, "config.json: linux.namespaces[%zu].path: '%s'", i, ns->path);
          goto fail;
        }
      plan->join_fd[ns->type] = fd;
      int type = ioctl (fd, NS_GET_NSTYPE);
      if (type < 0 || type != spec_ns_clone_flag (ns->type))
        {
          husk_err_set (err, 0, "config.json: linux.namespaces[%zu].path: '%s': not a %s namespace", i, ns->path,
                        spec_ns_type_name (ns->type));
          goto fail;
        }
    }

  return 0;

fail:
  ns_plan_release (plan);
  return -1;
}

bool
ns_private (const struct husk_ns_plan *plan, enum husk_ns_type type)
{
  return plan->new_ns[type] || plan->join_fd[type] >= 0;
}

int
ns_join (const struct husk_ns_plan *plan, struct husk_err *err)
{
  static const enum husk_ns_type order[] = { HUSK_NS_USER, HUSK_NS_MOUNT, HUSK_NS_NETWORK, HUSK_NS_IPC,
                                             HUSK_NS_UTS,  HUSK_NS_CGROUP, HUSK_NS_PID,   HUSK_NS_TIME };

  for (size_t i = 0; i < ARRAY_SIZE (order); i++)
    {
      enum husk_ns_type t = order[i];
      if (plan->join_fd[t] >= 0 && setns (plan->join_fd[t], spec_ns_clone_flag (t)) < 0)
        return husk_err_set (err, errno, "join %s namespace", spec_ns_type_name (t));
    }
  return 0;
}

static int
write_time_offsets (const struct husk_linux *lx, struct husk_err *err)
{
  char buf[128];
  int n = 0;

  /* The timens_offsets format names the clocks: monotonic and boottime.  */
  if (lx->time_monotonic.present)
    n += snprintf (buf + n, sizeof buf - (size_t) n, "monotonic %lld %u\n", (long long) lx->time_monotonic.secs,
                   lx->time_monotonic.nanosecs);
  if (lx->time_boottime.present)
    n += snprintf (buf + n, sizeof buf - (size_t) n, "boottime %lld %u\n", (long long) lx->time_boottime.secs,
                   lx->time_boottime.nanosecs);
  if (n == 0)
    return 0;
  cleanup_close int fd = open ("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write_all (fd, buf, (size_t) n) < 0)
    return husk_err_set (err, errno, "config.json: linux.timeOffsets: write /proc/self/timens_offsets");
  return 0;
}

int
ns_unshare_rest (const struct husk_spec *spec, const struct husk_ns_plan *plan, struct husk_err *err)
{
  int flags = 0;

  for (int t = 0; t < HUSK_NS_COUNT; t++)
    if (plan->new_ns[t] && t != HUSK_NS_USER)
      flags |= spec_ns_clone_flag (t);
  if (flags != 0 && unshare (flags) < 0)
    return husk_err_set (err, errno, "unshare namespaces 0x%x", (unsigned) flags);
  if (plan->new_ns[HUSK_NS_TIME] && write_time_offsets (spec->linux, err) < 0)
    return -1;
  return 0;
}
