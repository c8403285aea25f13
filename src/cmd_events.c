/* husk events [--stats] [--interval DURATION] ID: the container's resource usage as JSON lines,
 * runc's `events` command.  With --stats one {"type":"stats",...} line and exit; otherwise a stats
 * line every DURATION (default 5s) and an {"type":"oom","id":ID} line whenever the OOM killer
 * struck in the container's memory cgroup, until the container's process exits (status 0).  */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "cgroup/stats.h"
#include "commands.h"
#include "state.h"
#include "util.h"

#define EVENTS_MAX_DIRS 24

/* The container's cgroup directories, open (see cgroup_stat_dirs).  */
struct events_dirs
{
  struct resources_v1_dir v1[EVENTS_MAX_DIRS];
  size_t n;
  int v2fd;
};

static void
events_dirs_close (struct events_dirs *d)
{
  for (size_t i = 0; i < d->n; i++)
    (void) close (d->v1[i].dirfd);
  if (d->v2fd >= 0)
    (void) close (d->v2fd);
  d->n = 0;
  d->v2fd = -1;
}

/* Print one event line and flush it (a reader sees each event as it happens).  Returns 0, or -1
 * with ERR when stdout is gone (the reader closed the pipe, with SIGPIPE ignored).  */
static int
print_event (const char *type, const char *id, const struct cgroup_stats *st, struct husk_err *err)
{
  cleanup_free char *json = stats_event_json (type, id, st);

  if (printf ("%s\n", json) < 0 || fflush (stdout) != 0)
    return husk_err_set (err, errno, "write event to stdout");
  return 0;
}

/* Read and print one stats event; a failed read is a warning (the next may work).  Returns 0, or -1
 * with ERR when the event cannot be written.  */
static int
print_stats (const struct stats_source *src, const char *id, struct husk_err *err)
{
  struct cgroup_stats st;
  struct husk_err rerr;
  int ret;

  if (stats_read (src, &st, &rerr) < 0)
    {
      husk_warn ("events: %s", rerr.msg);
      return 0;
    }
  ret = print_event ("stats", id, &st, err);
  stats_release (&st);
  return ret;
}

/* Print an "oom" event when the OOM kill counter grew past *LAST (and remember it).  Returns 0, or
 * -1 with ERR when the event cannot be written.  */
static int
check_oom (const struct stats_source *src, const char *id, uint64_t *last, struct husk_err *err)
{
  uint64_t now;

  if (stats_oom_kills (src, &now) < 0 || now <= *last)
    return 0;
  *last = now;
  return print_event ("oom", id, NULL, err);
}

static uint64_t
now_ns (void)
{
  struct timespec ts;

  (void) clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/* The loop: stats every INTERVAL ns, oom events as they come, until PIDFD (the container's
 * process) becomes readable, which it does when the process exits.  The OOM notification can come
 * before the kill is counted (v1 signals "under OOM"), so after one the counter is looked at every
 * 20 ms for a second.  */
static int
watch (const struct stats_source *src, const char *id, int pidfd, uint64_t interval, struct husk_err *err)
{
  const uint64_t recheck_step = 20000000u, recheck_time = 1000000000u;
  struct husk_err werr;
  cleanup_close int oomfd = stats_oom_watch (src, &werr);
  uint64_t ooms = 0, next = now_ns () + interval, recheck_until = 0;

  if (oomfd < 0)
    husk_debug ("events: no OOM notification (%s), counting at each interval", werr.msg);
  (void) stats_oom_kills (src, &ooms);
  for (;;)
    {
      struct pollfd fds[2] = { { .fd = pidfd, .events = POLLIN }, { .fd = oomfd, .events = POLLIN } };
      uint64_t t = now_ns (), wait = next > t ? next - t : 0;
      if (recheck_until > t && wait > recheck_step)
        wait = recheck_step;
      struct timespec ts = { (time_t) (wait / 1000000000u), (long) (wait % 1000000000u) };
      int n = ppoll (fds, oomfd >= 0 ? 2 : 1, &ts, NULL);
      if (n < 0 && errno != EINTR)
        return husk_err_set (err, errno, "poll");
      if (n > 0 && oomfd >= 0 && (fds[1].revents & POLLIN))
        {
          char buf[4096];
          while (read (oomfd, buf, sizeof buf) > 0)
            ;
          recheck_until = now_ns () + recheck_time;
        }
      uint64_t before = ooms;
      if (check_oom (src, id, &ooms, err) < 0)
        return -1;
      if (ooms != before)
        recheck_until = 0;
      /* The process is gone (the OOM kill, just counted, may be why): done.  */
      if (n > 0 && fds[0].revents != 0)
        return 0;
      if (now_ns () >= next)
        {
          if (print_stats (src, id, err) < 0)
            return -1;
          next += interval;
          if (next <= now_ns ())
            next = now_ns () + interval;
        }
    }
}

/* A pidfd of REC's process when it is still the recorded one, else -1.  */
static int
open_init (const struct husk_state_rec *rec)
{
  int fd = rec->pid > 0 ? (int) syscall (SYS_pidfd_open, rec->pid, 0) : -1;

  if (fd >= 0 && rec->start_time != 0 && state_pid_start_time (rec->pid) != rec->start_time)
    {
      (void) close (fd);
      fd = -1;
    }
  return fd;
}

int
cmd_events (const struct husk_globals *g, int argc, char **argv, struct husk_err *err)
{
  static const struct option opts[] = {
    { "stats", no_argument, NULL, 's' },
    { "interval", required_argument, NULL, 'i' },
    { NULL, 0, NULL, 0 },
  };
  struct husk_state_rec rec;
  struct events_dirs dirs = { .v2fd = -1 };
  struct stats_source src;
  struct husk_cgroup *cg = NULL;
  cleanup_close int pidfd = -1;
  uint64_t interval = 5000000000u;
  bool once = false;
  const char *id;
  int c, ret;

  optind = 0;
  opterr = 0;
  while ((c = getopt_long (argc, argv, "+:", opts, NULL)) != -1)
    if (c == 's')
      once = true;
    else if (c == 'i' && stats_parse_duration (optarg, &interval, err) < 0)
      return husk_err_prefix (err, "events: --interval");
    else if (c == 'i' && interval == 0)
      return husk_err_set (err, 0, "events: --interval: the interval must be greater than 0");
    else if (c == ':')
      return husk_err_set (err, 0, "events: option '%s' needs a value", argv[optind - 1]);
    else if (c != 'i')
      return husk_err_set (err, 0, "events: unknown option '%s'", argv[optind - 1]);
  if (optind != argc - 1)
    return husk_err_set (err, 0, "events: usage: husk events [--stats] [--interval DURATION] ID");
  id = argv[optind];

  if (state_load (g->root, id, &rec, err) < 0)
    return -1;
  const char *status = state_status_now (g->root, &rec);
  if (strcmp (status, "stopped") == 0 || strcmp (status, "creating") == 0)
    ret = husk_err_set (err, 0, "container not running");
  else if (rec.cgroup_path == NULL)
    ret = husk_err_set (err, 0, "container '%s' has no recorded cgroup", id);
  else if ((cg = cgroup_open (rec.cgroup_path, NULL, err)) == NULL)
    ret = -1;
  else
    {
      int n = cgroup_stat_dirs (cg, dirs.v1, EVENTS_MAX_DIRS, &dirs.v2fd, err);
      ret = n < 0 ? -1 : 0;
      dirs.n = n < 0 ? 0 : (size_t) n;
    }
  if (ret == 0 && !once)
    {
      pidfd = open_init (&rec);
      if (pidfd < 0)
        ret = husk_err_set (err, 0, "container not running");
    }
  state_rec_release (&rec);
  if (ret < 0)
    {
      events_dirs_close (&dirs);
      cgroup_free (cg);
      return -1;
    }

  src.v1 = dirs.v1;
  src.n_v1 = dirs.n;
  src.v2fd = dirs.v2fd;
  ret = once ? print_stats (&src, id, err) : watch (&src, id, pidfd, interval, err);
  events_dirs_close (&dirs);
  cgroup_free (cg);
  return ret < 0 ? -1 : 0;
}
