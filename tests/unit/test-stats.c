/* Unit tests for cgroup stats (src/cgroup/stats.c): fake v1 and v2 control files in temporary
 * directories read into struct cgroup_stats and written as runc's event JSON (exact text), files
 * left out (fields 0 or omitted), the OOM counter and its v2 inotify watch, Go-style durations.  */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/stats.h"
#include "util.h"

/* ---- fake cgroup directories ---- */

#define MAX_FAKES 4
static char fake_paths[MAX_FAKES][64];
static size_t n_fakes;

/* A temporary directory holding the files of the NULL-terminated FILES, each "name=content".
 * Returns an O_PATH fd of it (as the real callers pass).  */
static int
fake_dir (const char *const *files)
{
  cr_assert_lt (n_fakes, MAX_FAKES);
  char *path = fake_paths[n_fakes++];
  strcpy (path, "/tmp/husk-statstest-XXXXXX");
  cr_assert_not_null (mkdtemp (path));
  int dfd = open (path, O_DIRECTORY | O_CLOEXEC);
  cr_assert_geq (dfd, 0);
  for (size_t i = 0; files[i] != NULL; i++)
    {
      cleanup_free char *name = xstrdup (files[i]);
      char *content = strchr (name, '=');
      cr_assert_not_null (content, "fake file '%s' needs '='", files[i]);
      *content++ = '\0';
      int fd = openat (dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      cr_assert_geq (fd, 0, "create %s", name);
      cr_assert_eq (write (fd, content, strlen (content)), (ssize_t) strlen (content));
      close (fd);
    }
  int pfd = open (path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  cr_assert_geq (pfd, 0);
  close (dfd);
  return pfd;
}

static void
fake_dirs_remove (void)
{
  for (size_t k = 0; k < n_fakes; k++)
    {
      DIR *d = opendir (fake_paths[k]);
      struct dirent *e;
      if (d == NULL)
        continue;
      while ((e = readdir (d)) != NULL)
        if (e->d_name[0] != '.')
          (void) unlinkat (dirfd (d), e->d_name, 0);
      closedir (d);
      (void) rmdir (fake_paths[k]);
    }
  n_fakes = 0;
}

TestSuite (stats, .fini = fake_dirs_remove);

static uint64_t
ticks_to_ns (uint64_t ticks)
{
  return ticks * (1000000000u / (uint64_t) sysconf (_SC_CLK_TCK));
}

/* ---- cgroup v1 ---- */

static const char *const v1_cpu_files[] = {
  "cpuacct.usage=123456789\n",
  "cpuacct.usage_percpu=100000000 23456789 \n",
  "cpuacct.usage_percpu_sys=5 6 \n",
  "cpuacct.usage_percpu_user=7 8 \n",
  "cpuacct.stat=user 150\nsystem 50\n",
  "cpu.stat=nr_periods 10\nnr_throttled 3\nthrottled_time 4000\n",
  NULL,
};

static const char *const v1_other_files[] = {
  "memory.usage_in_bytes=1048576\n",
  "memory.limit_in_bytes=268435456\n",
  "memory.max_usage_in_bytes=2097152\n",
  "memory.failcnt=2\n",
  "memory.memsw.usage_in_bytes=1052672\n",
  "memory.memsw.limit_in_bytes=536870912\n",
  "memory.memsw.max_usage_in_bytes=2101248\n",
  "memory.memsw.failcnt=0\n",
  "memory.stat=rss 4096\ncache 8192\ntotal_rss 4096\n",
  "memory.oom_control=oom_kill_disable 0\nunder_oom 0\noom_kill 4\n",
  "pids.current=3\n",
  "pids.max=max\n",
  "blkio.throttle.io_service_bytes_recursive=8:0 Read 4096\n8:0 Write 512\n8:0 Total 4608\nTotal 4608\n",
  "blkio.throttle.io_serviced_recursive=8:0 Read 1\n8:0 Write 2\nTotal 3\n",
  "hugetlb.2MB.usage_in_bytes=2097152\n",
  "hugetlb.2MB.max_usage_in_bytes=4194304\n",
  "hugetlb.2MB.failcnt=1\n",
  "hugetlb.1GB.usage_in_bytes=0\n",
  "hugetlb.1GB.failcnt=0\n",
  NULL,
};

Test (stats, v1_files_into_struct_and_json)
{
  /* Two hierarchies, as mounted on a host with cpu,cpuacct together; a third one (net_cls) holds
   * decoy files that must not be read.  */
  static const char *const decoy[] = { "memory.usage_in_bytes=999\n", "pids.current=999\n", NULL };
  struct resources_v1_dir dirs[] = {
    { "net_cls,net_prio", fake_dir (decoy) },
    { "cpu,cpuacct", fake_dir (v1_cpu_files) },
    { "memory,pids,blkio,hugetlb", fake_dir (v1_other_files) },
  };
  struct stats_source src = { dirs, ARRAY_SIZE (dirs), -1 };
  struct cgroup_stats st;
  struct husk_err err;

  cr_assert_eq (stats_read (&src, &st, &err), 0);
  cr_assert_eq (st.cpu.total, 123456789);
  cr_assert_eq (st.cpu.n_percpu, 2);
  cr_assert_eq (st.cpu.percpu[0], 100000000);
  cr_assert_eq (st.cpu.percpu[1], 23456789);
  cr_assert_eq (st.cpu.user, ticks_to_ns (150));
  cr_assert_eq (st.cpu.kernel, ticks_to_ns (50));
  cr_assert_eq (st.cpu.periods, 10);
  cr_assert_eq (st.cpu.throttled_periods, 3);
  cr_assert_eq (st.cpu.throttled_time, 4000);
  cr_assert_eq (st.memory.usage.usage, 1048576);
  cr_assert_eq (st.memory.usage.limit, 268435456);
  cr_assert_eq (st.memory.usage.max, 2097152);
  cr_assert_eq (st.memory.usage.failcnt, 2);
  cr_assert_eq (st.memory.swap.limit, 536870912);
  cr_assert_eq (st.memory.cache, 8192);
  cr_assert_eq (st.memory.n_raw, 3);
  cr_assert_str_eq (st.memory.raw[0].key, "cache"); /* sorted */
  cr_assert_eq (st.memory.oom_kills, 4);
  cr_assert_eq (st.pids.current, 3);
  cr_assert_eq (st.pids.limit, 0);
  cr_assert_eq (st.blkio.n_service_bytes, 3);
  cr_assert_eq (st.blkio.n_serviced, 2);
  cr_assert_eq (st.n_hugetlb, 2);

  cleanup_free char *json = stats_event_json ("stats", "c1", &st);
  cleanup_free char *want = xasprintf (
      "{\"type\":\"stats\",\"id\":\"c1\",\"data\":{"
      "\"cpu\":{\"usage\":{\"total\":123456789,\"percpu\":[100000000,23456789],\"percpu_kernel\":[5,6],"
      "\"percpu_user\":[7,8],\"kernel\":%llu,\"user\":%llu},"
      "\"throttling\":{\"periods\":10,\"throttledPeriods\":3,\"throttledTime\":4000}},"
      "\"memory\":{\"cache\":8192,"
      "\"usage\":{\"limit\":268435456,\"usage\":1048576,\"max\":2097152,\"failcnt\":2},"
      "\"swap\":{\"limit\":536870912,\"usage\":1052672,\"max\":2101248,\"failcnt\":0},"
      "\"kernel\":{\"limit\":0,\"failcnt\":0},\"kernelTCP\":{\"limit\":0,\"failcnt\":0},"
      "\"raw\":{\"cache\":8192,\"rss\":4096,\"total_rss\":4096}},"
      "\"pids\":{\"current\":3},"
      "\"blkio\":{\"ioServiceBytesRecursive\":[{\"major\":8,\"op\":\"Read\",\"value\":4096},"
      "{\"major\":8,\"op\":\"Write\",\"value\":512},{\"major\":8,\"op\":\"Total\",\"value\":4608}],"
      "\"ioServicedRecursive\":[{\"major\":8,\"op\":\"Read\",\"value\":1},{\"major\":8,\"op\":\"Write\",\"value\":2}]},"
      "\"hugetlb\":{\"1GB\":{\"failcnt\":0},\"2MB\":{\"usage\":2097152,\"max\":4194304,\"failcnt\":1}}}}",
      (unsigned long long) ticks_to_ns (50), (unsigned long long) ticks_to_ns (150));
  cr_assert_str_eq (json, want);
  stats_release (&st);
  cr_assert_null (st.memory.raw);
  for (size_t i = 0; i < ARRAY_SIZE (dirs); i++)
    close (dirs[i].dirfd);
}

Test (stats, v1_missing_files_are_zero)
{
  static const char *const none[] = { NULL };
  struct resources_v1_dir dirs[] = { { "cpu,cpuacct", fake_dir (none) }, { "memory", fake_dir (none) } };
  struct stats_source src = { dirs, ARRAY_SIZE (dirs), -1 };
  struct cgroup_stats st;
  struct husk_err err;
  uint64_t ooms = 77;

  cr_assert_eq (stats_read (&src, &st, &err), 0);
  cleanup_free char *json = stats_event_json ("stats", "c1", &st);
  cr_assert_str_eq (json, "{\"type\":\"stats\",\"id\":\"c1\",\"data\":{"
                          "\"cpu\":{\"usage\":{\"kernel\":0,\"user\":0},\"throttling\":{}},"
                          "\"memory\":{\"usage\":{\"limit\":0,\"failcnt\":0},\"swap\":{\"limit\":0,\"failcnt\":0},"
                          "\"kernel\":{\"limit\":0,\"failcnt\":0},\"kernelTCP\":{\"limit\":0,\"failcnt\":0}},"
                          "\"pids\":{},\"blkio\":{},\"hugetlb\":{}}}");
  cr_assert_eq (stats_oom_kills (&src, &ooms), -1);
  cr_assert_eq (ooms, 77);
  stats_release (&st);
}

Test (stats, no_directory_is_an_error)
{
  struct stats_source src = { NULL, 0, -1 };
  struct cgroup_stats st;
  struct husk_err err;

  cr_assert_eq (stats_read (&src, &st, &err), -1);
  cr_assert_str_eq (err.msg, "no cgroup directory to read stats from");
}

/* ---- cgroup v2 ---- */

static const char *const v2_files[] = {
  "cpu.stat=usage_usec 2500\nuser_usec 2000\nsystem_usec 500\nnr_periods 7\nnr_throttled 1\nthrottled_usec 30\n",
  "memory.current=1048576\n",
  "memory.max=max\n",
  "memory.peak=3145728\n",
  "memory.swap.current=4096\n",
  "memory.swap.max=1048576\n",
  "memory.stat=anon 4096\nfile 12288\n",
  "memory.events=low 0\nhigh 0\nmax 5\noom 2\noom_kill 1\noom_group_kill 0\n",
  "pids.current=2\n",
  "pids.max=50\n",
  "io.stat=8:16 rbytes=1024 wbytes=2048 rios=3 wios=4 dbytes=0 dios=0\n",
  "hugetlb.2MB.current=2097152\n",
  "hugetlb.2MB.rsvd.current=999\n",
  "hugetlb.2MB.events=max 6\n",
  NULL,
};

Test (stats, v2_files_into_struct_and_json)
{
  int fd = fake_dir (v2_files);
  struct stats_source src = { NULL, 0, fd };
  struct cgroup_stats st;
  struct husk_err err;
  uint64_t ooms;

  cr_assert_eq (stats_read (&src, &st, &err), 0);
  cr_assert_eq (st.cpu.total, 2500000);
  cr_assert_eq (st.cpu.user, 2000000);
  cr_assert_eq (st.cpu.kernel, 500000);
  cr_assert_eq (st.cpu.throttled_time, 30000);
  cr_assert_eq (st.memory.usage.limit, UINT64_MAX);
  cr_assert_eq (st.memory.usage.max, 3145728);
  /* memory+swap, as v1: usage 1 MiB + 4 KiB; limit "max" + 1 MiB stays unlimited */
  cr_assert_eq (st.memory.swap.usage, 1052672);
  cr_assert_eq (st.memory.swap.limit, UINT64_MAX);
  cr_assert_eq (st.memory.cache, 12288);
  cr_assert_eq (st.memory.oom_kills, 1);
  cr_assert_eq (st.n_hugetlb, 1);
  cr_assert_eq (stats_oom_kills (&src, &ooms), 0);
  cr_assert_eq (ooms, 1);

  cleanup_free char *json = stats_event_json ("stats", "c2", &st);
  cr_assert_str_eq (json, "{\"type\":\"stats\",\"id\":\"c2\",\"data\":{"
                          "\"cpu\":{\"usage\":{\"total\":2500000,\"kernel\":500000,\"user\":2000000},"
                          "\"throttling\":{\"periods\":7,\"throttledPeriods\":1,\"throttledTime\":30000}},"
                          "\"memory\":{\"cache\":12288,"
                          "\"usage\":{\"limit\":18446744073709551615,\"usage\":1048576,\"max\":3145728,\"failcnt\":0},"
                          "\"swap\":{\"limit\":18446744073709551615,\"usage\":1052672,\"failcnt\":0},"
                          "\"kernel\":{\"limit\":0,\"failcnt\":0},\"kernelTCP\":{\"limit\":0,\"failcnt\":0},"
                          "\"raw\":{\"anon\":4096,\"file\":12288}},"
                          "\"pids\":{\"current\":2,\"limit\":50},"
                          "\"blkio\":{\"ioServiceBytesRecursive\":[{\"major\":8,\"minor\":16,\"op\":\"Read\",\"value\":1024},"
                          "{\"major\":8,\"minor\":16,\"op\":\"Write\",\"value\":2048}],"
                          "\"ioServicedRecursive\":[{\"major\":8,\"minor\":16,\"op\":\"Read\",\"value\":3},"
                          "{\"major\":8,\"minor\":16,\"op\":\"Write\",\"value\":4}]},"
                          "\"hugetlb\":{\"2MB\":{\"usage\":2097152,\"failcnt\":6}}}}");
  stats_release (&st);
  close (fd);
}

Test (stats, v2_limits_and_fallbacks)
{
  /* A swap limit adds the memory limit; no pids controller: pids counted from cgroup.procs.  */
  static const char *const files[] = {
    "memory.current=100\n", "memory.max=1000\n", "memory.swap.current=10\n", "memory.swap.max=500\n",
    "cgroup.procs=12\n34\n56\n", NULL,
  };
  int fd = fake_dir (files);
  struct stats_source src = { NULL, 0, fd };
  struct cgroup_stats st;
  struct husk_err err;

  cr_assert_eq (stats_read (&src, &st, &err), 0);
  cr_assert_eq (st.memory.swap.usage, 110);
  cr_assert_eq (st.memory.swap.limit, 1500);
  cr_assert_eq (st.pids.current, 3);
  cr_assert_eq (st.pids.limit, 0);
  cr_assert_eq (st.cpu.total, 0);
  stats_release (&st);
  close (fd);
}

Test (stats, v2_oom_watch_fires_on_memory_events_change)
{
  static const char *const files[] = { "memory.events=oom_kill 0\n", NULL };
  int fd = fake_dir (files);
  struct stats_source src = { NULL, 0, fd };
  struct husk_err err;
  uint64_t ooms;

  int w = stats_oom_watch (&src, &err);
  cr_assert_geq (w, 0, "%s", err.msg);
  struct pollfd p = { .fd = w, .events = POLLIN };
  cr_assert_eq (poll (&p, 1, 0), 0, "readable before any change");
  int f = openat (fd, "memory.events", O_WRONLY | O_TRUNC | O_CLOEXEC);
  cr_assert_geq (f, 0);
  cr_assert_eq (write (f, "oom_kill 3\n", 11), 11);
  close (f);
  cr_assert_eq (poll (&p, 1, 1000), 1);
  cr_assert_eq (stats_oom_kills (&src, &ooms), 0);
  cr_assert_eq (ooms, 3);
  close (w);
  close (fd);
}

/* ---- events and durations ---- */

Test (stats, oom_event_has_no_data)
{
  cleanup_free char *json = stats_event_json ("oom", "my-ctr", NULL);

  cr_assert_str_eq (json, "{\"type\":\"oom\",\"id\":\"my-ctr\"}");
}

Test (stats, durations)
{
  static const struct
  {
    const char *s;
    uint64_t ns;
  } ok[] = {
    { "5s", 5000000000u },  { "500ms", 500000000u }, { "1m", 60000000000u }, { "1m30s", 90000000000u },
    { "1.5s", 1500000000u }, { "100us", 100000u },    { "250ns", 250 },        { "2h", 7200000000000u },
    { "0", 0 },             { ".5s", 500000000u },
  };
  static const char *const bad[] = { "", "5", "5x", "s", "-1s", "1.s.", "ms5", "1e3s" };
  struct husk_err err;
  uint64_t ns;

  for (size_t i = 0; i < ARRAY_SIZE (ok); i++)
    {
      cr_assert_eq (stats_parse_duration (ok[i].s, &ns, &err), 0, "'%s': %s", ok[i].s, err.msg);
      cr_assert_eq (ns, ok[i].ns, "'%s' gave %llu", ok[i].s, (unsigned long long) ns);
    }
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    cr_assert_eq (stats_parse_duration (bad[i], &ns, &err), -1, "'%s' accepted", bad[i]);
  cr_assert_eq (stats_parse_duration ("5x", &ns, &err), -1);
  cr_assert_str_eq (err.msg, "invalid duration '5x': unknown unit");
}
