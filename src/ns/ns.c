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

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

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

  bool join_user = plan->join_fd[HUSK_NS_USER] >= 0;
  for (int t = 0; t < HUSK_NS_COUNT; t++)
    {
      if (!plan->new_ns[t])
        continue;
      /* cgroup: unshared after the child entered its cgroup.  time: made by the parent (offsets).  */
      if (t == HUSK_NS_CGROUP)
        plan->unshare_flags |= CLONE_NEWCGROUP;
      else if (t == HUSK_NS_TIME)
        continue;
      else if (t == HUSK_NS_PID || !join_user)
        plan->clone_flags |= (unsigned long) spec_ns_clone_flag (t);
      else
        plan->unshare_flags |= (unsigned long) spec_ns_clone_flag (t);
    }
  return 0;

fail:
  ns_plan_release (plan);
  return -1;
}

static int
save_and_enter (const char *self_name, int target_fd, int nstype, int *saved, struct husk_err *err)
{
  char path[64];

  (void) snprintf (path, sizeof path, "/proc/self/ns/%s", self_name);
  *saved = open (path, O_RDONLY | O_CLOEXEC);
  if (*saved < 0)
    return husk_err_set (err, errno, "open '%s'", path);
  if (target_fd >= 0 && setns (target_fd, nstype) < 0)
    return husk_err_set (err, errno, "setns %s", self_name);
  return 0;
}

static int
restore (int *saved, int nstype, const char *what, struct husk_err *err)
{
  int ret = 0;

  if (*saved < 0)
    return 0;
  if (setns (*saved, nstype) < 0)
    ret = husk_err_set (err, errno, "restore own %s namespace", what);
  (void) close (*saved);
  *saved = -1;
  return ret;
}

int
ns_enter_pid_for_children (const struct husk_ns_plan *plan, int *saved, struct husk_err *err)
{
  *saved = -1;
  if (plan->join_fd[HUSK_NS_PID] < 0)
    return 0;
  return save_and_enter ("pid_for_children", plan->join_fd[HUSK_NS_PID], CLONE_NEWPID, saved, err);
}

int
ns_restore_pid (int *saved, struct husk_err *err)
{
  return restore (saved, CLONE_NEWPID, "pid", err);
}

int
ns_prepare_time (const struct husk_spec *spec, const struct husk_ns_plan *plan, int *saved,
                 struct husk_err *err)
{
  char buf[128];
  int n = 0;

  *saved = -1;
  if (!plan->new_ns[HUSK_NS_TIME])
    return 0;
  if (save_and_enter ("time", -1, 0, saved, err) < 0)
    return -1;
  if (unshare (CLONE_NEWTIME) < 0)
    return husk_err_set (err, errno, "unshare time namespace");
  /* CLOCK_MONOTONIC is 1, CLOCK_BOOTTIME is 7 in the timens_offsets format.  */
  const struct husk_time_offset *mono = &spec->linux->time_monotonic;
  const struct husk_time_offset *boot = &spec->linux->time_boottime;
  if (mono->present)
    n += snprintf (buf + n, sizeof buf - (size_t) n, "monotonic %lld %u\n", (long long) mono->secs,
                   mono->nanosecs);
  if (boot->present)
    n += snprintf (buf + n, sizeof buf - (size_t) n, "boottime %lld %u\n", (long long) boot->secs,
                   boot->nanosecs);
  if (n > 0)
    {
      cleanup_close int fd = open ("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
      if (fd < 0 || write_all (fd, buf, (size_t) n) < 0)
        return husk_err_set (err, errno, "config.json: linux.timeOffsets: write /proc/self/timens_offsets");
    }
  return 0;
}

int
ns_restore_time (int *saved, struct husk_err *err)
{
  return restore (saved, CLONE_NEWTIME, "time", err);
}

int
ns_join_and_unshare (const struct husk_ns_plan *plan, struct husk_err *err)
{
  /* The user namespace first: it gives the capabilities the other joins and unshares need.  */
  static const enum husk_ns_type order[] = { HUSK_NS_USER,  HUSK_NS_MOUNT, HUSK_NS_NETWORK, HUSK_NS_IPC,
                                             HUSK_NS_UTS,   HUSK_NS_CGROUP, HUSK_NS_TIME };

  for (size_t i = 0; i < ARRAY_SIZE (order); i++)
    {
      enum husk_ns_type t = order[i];
      if (plan->join_fd[t] >= 0 && setns (plan->join_fd[t], spec_ns_clone_flag (t)) < 0)
        return husk_err_set (err, errno, "join %s namespace", spec_ns_type_name (t));
    }
  if (plan->unshare_flags != 0 && unshare ((int) plan->unshare_flags) < 0)
    return husk_err_set (err, errno, "unshare namespaces 0x%lx", plan->unshare_flags);
  return 0;
}
