/* Resource usage of a container's cgroup (see stats.h): control files in, runc's event JSON out.
 * The control files and their formats are the kernel's (Documentation/admin-guide/cgroup-v1/
 * memory.rst, cpuacct.rst, blkio-controller.rst, pids.rst; cgroup-v2.rst); the JSON field names
 * are those runc's `events` prints.  */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>

#include "cgroup/stats.h"
#include "json_gen.h"
#include "util.h"

/* The largest control file read (io.stat grows with the number of devices).  */
#define STAT_FILE_MAX (1u << 20)

/* ---- reading control files ---- */

/* The whole control file NAME of DIRFD (free it), or NULL when DIRFD is -1 or the file is
 * missing or unreadable.  */
static char *
slurp (int dirfd, const char *name)
{
  struct husk_err ignored;

  if (dirfd < 0)
    return NULL;
  return read_file_at (dirfd, name, STAT_FILE_MAX, NULL, &ignored);
}

/* Parse the decimal number at *P (advancing *P past it).  True when there was one.  */
static bool
scan_u64 (const char **p, uint64_t *out)
{
  char *end;

  if (!isdigit ((unsigned char) **p))
    return false;
  errno = 0;
  unsigned long long v = strtoull (*p, &end, 10);
  if (errno != 0)
    return false;
  *out = v;
  *p = end;
  return true;
}

/* Read the one-number control file NAME of DIRFD into *OUT; "max" reads as MAX_VALUE.  False (and
 * *OUT untouched) when the file is missing or holds something else.  */
static bool
read_u64 (int dirfd, const char *name, uint64_t max_value, uint64_t *out)
{
  cleanup_free char *s = slurp (dirfd, name);

  if (s == NULL)
    return false;
  s[strcspn (s, "\n")] = '\0';
  if (strcmp (s, "max") == 0)
    {
      *out = max_value;
      return true;
    }
  return parse_u64 (s, out) == 0;
}

/* The value of KEY in BUF, a flat keyed file of "key value" lines (cpu.stat, memory.stat,
 * memory.events, memory.oom_control).  False when BUF is NULL or has no such line.  */
static bool
kv_get (const char *buf, const char *key, uint64_t *out)
{
  size_t n = strlen (key);

  for (const char *line = buf; line != NULL && *line != '\0';)
    {
      const char *nl = strchr (line, '\n');
      if (strncmp (line, key, n) == 0 && line[n] == ' ')
        {
          const char *p = line + n + 1;
          uint64_t v;
          if (scan_u64 (&p, &v) && (*p == '\n' || *p == '\0'))
            {
              *out = v;
              return true;
            }
          return false;
        }
      line = nl != NULL ? nl + 1 : NULL;
    }
  return false;
}

/* The space-separated numbers of control file NAME (cpuacct.usage_percpu) into a new array *OUT
 * (NULL when none).  Returns how many.  */
static size_t
read_u64_list (int dirfd, const char *name, uint64_t **out)
{
  cleanup_free char *s = slurp (dirfd, name);
  size_t n = 0, cap = 0;
  uint64_t v;

  *out = NULL;
  for (const char *p = s; p != NULL && *p != '\0';)
    {
      while (*p == ' ' || *p == '\n' || *p == '\t')
        p++;
      if (*p == '\0' || !scan_u64 (&p, &v))
        break;
      if (n == cap)
        *out = xrealloc (*out, (cap = cap == 0 ? 16 : cap * 2) * sizeof **out);
      (*out)[n++] = v;
    }
  return n;
}

static int
kv_compare (const void *a, const void *b)
{
  return strcmp (((const struct stats_kv *) a)->key, ((const struct stats_kv *) b)->key);
}

/* Every "key value" line of memory.stat into ST's raw table, sorted by key.  */
static void
read_memory_stat (int dirfd, struct cgroup_stats *st)
{
  cleanup_free char *s = slurp (dirfd, "memory.stat");
  size_t cap = 0;

  for (char *line = s; line != NULL && *line != '\0';)
    {
      char *nl = strchr (line, '\n'), *sp = strchr (line, ' ');
      if (nl != NULL)
        *nl = '\0';
      const char *p = sp != NULL ? sp + 1 : NULL;
      uint64_t v;
      if (sp != NULL && sp > line && scan_u64 (&p, &v) && *p == '\0')
        {
          if (st->memory.n_raw == cap)
            st->memory.raw = xrealloc (st->memory.raw, (cap = cap == 0 ? 64 : cap * 2) * sizeof *st->memory.raw);
          *sp = '\0';
          st->memory.raw[st->memory.n_raw].key = xstrdup (line);
          st->memory.raw[st->memory.n_raw++].value = v;
        }
      line = nl != NULL ? nl + 1 : NULL;
    }
  if (st->memory.n_raw > 1)
    qsort (st->memory.raw, st->memory.n_raw, sizeof *st->memory.raw, kv_compare);
}

/* The value of KEY in ST's raw memory.stat, or 0.  */
static uint64_t
raw_get (const struct cgroup_stats *st, const char *key)
{
  for (size_t i = 0; i < st->memory.n_raw; i++)
    if (strcmp (st->memory.raw[i].key, key) == 0)
      return st->memory.raw[i].value;
  return 0;
}

static void
blkio_add (struct stats_blkio_entry **v, size_t *n, uint64_t major, uint64_t minor, const char *op,
           uint64_t value)
{
  *v = xrealloc (*v, (*n + 1) * sizeof **v);
  (*v)[*n].major = major;
  (*v)[*n].minor = minor;
  (void) snprintf ((*v)[*n].op, sizeof (*v)[*n].op, "%s", op);
  (*v)[*n].value = value;
  (*n)++;
}

static int
hugetlb_compare (const void *a, const void *b)
{
  return strcmp (((const struct stats_hugetlb *) a)->size, ((const struct stats_hugetlb *) b)->size);
}

/* One entry per huge page size found as "hugetlb.<size>.<USAGE_SUFFIX>" in DIRFD: v1
 * usage_in_bytes / max_usage_in_bytes / failcnt, v2 current / events "max".  */
static void
read_hugetlb (int dirfd, bool v2, struct cgroup_stats *st)
{
  const char *suffix = v2 ? ".current" : ".usage_in_bytes";
  cleanup_close int fd = dirfd < 0 ? -1 : openat (dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_dir DIR *d = NULL;
  struct dirent *e;

  if (fd < 0 || (d = fdopendir (fd)) == NULL)
    return;
  (void) steal_fd (&fd);
  while ((e = readdir (d)) != NULL)
    {
      const char *size = e->d_name + strlen ("hugetlb.");
      size_t len = strlen (e->d_name), slen = strlen (suffix);
      if (!has_prefix (e->d_name, "hugetlb.") || len <= strlen ("hugetlb.") + slen
          || strcmp (e->d_name + len - slen, suffix) != 0)
        continue;
      struct stats_hugetlb h = { .usage = 0 };
      size_t n = len - slen - strlen ("hugetlb.");
      /* "hugetlb.2MB.rsvd.current" is the reservation counter, not a size of its own.  */
      if (n == 0 || n >= sizeof h.size || memchr (size, '.', n) != NULL)
        continue;
      memcpy (h.size, size, n);
      h.size[n] = '\0';
      (void) read_u64 (dirfd, e->d_name, UINT64_MAX, &h.usage);
      cleanup_free char *max = xasprintf ("hugetlb.%s.max_usage_in_bytes", h.size);
      cleanup_free char *fail = xasprintf ("hugetlb.%s.%s", h.size, v2 ? "events" : "failcnt");
      if (v2)
        {
          cleanup_free char *events = slurp (dirfd, fail);
          (void) kv_get (events, "max", &h.failcnt);
        }
      else
        {
          (void) read_u64 (dirfd, max, UINT64_MAX, &h.max);
          (void) read_u64 (dirfd, fail, UINT64_MAX, &h.failcnt);
        }
      st->hugetlb = xrealloc (st->hugetlb, (st->n_hugetlb + 1) * sizeof *st->hugetlb);
      st->hugetlb[st->n_hugetlb++] = h;
    }
  if (st->n_hugetlb > 1)
    qsort (st->hugetlb, st->n_hugetlb, sizeof *st->hugetlb, hugetlb_compare);
}

/* ---- cgroup v1 ---- */

/* True when the v1 hierarchy named NAME ("cpu,cpuacct") holds CONTROLLER.  */
static bool
has_controller (const char *name, const char *controller)
{
  size_t len = strlen (controller);

  for (const char *p = name; p != NULL; p = strchr (p, ','), p = p != NULL ? p + 1 : NULL)
    if (strncmp (p, controller, len) == 0 && (p[len] == ',' || p[len] == '\0'))
      return true;
  return false;
}

/* The fd of SRC's v1 directory of CONTROLLER, or -1.  */
static int
v1_fd (const struct stats_source *src, const char *controller)
{
  for (size_t i = 0; i < src->n_v1; i++)
    if (src->v1[i].controllers != NULL && has_controller (src->v1[i].controllers, controller))
      return src->v1[i].dirfd;
  return -1;
}

/* memory.<PREFIX>usage_in_bytes, limit_in_bytes, max_usage_in_bytes, failcnt into E.  */
static void
read_v1_memory_entry (int dirfd, const char *prefix, struct stats_memory_entry *e)
{
  static const char *const names[] = { "usage_in_bytes", "limit_in_bytes", "max_usage_in_bytes", "failcnt" };
  uint64_t *fields[] = { &e->usage, &e->limit, &e->max, &e->failcnt };

  for (size_t i = 0; i < ARRAY_SIZE (names); i++)
    {
      cleanup_free char *name = xasprintf ("memory.%s%s", prefix, names[i]);
      (void) read_u64 (dirfd, name, UINT64_MAX, fields[i]);
    }
}

/* Lines "MAJ:MIN Op value" of a v1 blkio table (the "Total value" summary line has no device and
 * is left out).  */
static void
read_v1_blkio (int dirfd, const char *name, struct stats_blkio_entry **v, size_t *n)
{
  cleanup_free char *s = slurp (dirfd, name);

  for (char *line = s; line != NULL && *line != '\0';)
    {
      char *nl = strchr (line, '\n');
      uint64_t major, minor, value;
      char op[16];
      if (nl != NULL)
        *nl = '\0';
      if (sscanf (line, "%" SCNu64 ":%" SCNu64 " %15s %" SCNu64, &major, &minor, op, &value) == 4)
        blkio_add (v, n, major, minor, op, value);
      line = nl != NULL ? nl + 1 : NULL;
    }
}

static void
read_v1 (const struct stats_source *src, struct cgroup_stats *st)
{
  int cpuacct = v1_fd (src, "cpuacct"), cpu = v1_fd (src, "cpu"), memory = v1_fd (src, "memory");
  int pids = v1_fd (src, "pids"), blkio = v1_fd (src, "blkio");
  long hz = sysconf (_SC_CLK_TCK);
  uint64_t ticks;

  /* cpuacct: ns, except cpuacct.stat in USER_HZ ticks.  */
  (void) read_u64 (cpuacct, "cpuacct.usage", 0, &st->cpu.total);
  st->cpu.n_percpu = read_u64_list (cpuacct, "cpuacct.usage_percpu", &st->cpu.percpu);
  st->cpu.n_percpu_kernel = read_u64_list (cpuacct, "cpuacct.usage_percpu_sys", &st->cpu.percpu_kernel);
  st->cpu.n_percpu_user = read_u64_list (cpuacct, "cpuacct.usage_percpu_user", &st->cpu.percpu_user);
  cleanup_free char *acct = slurp (cpuacct, "cpuacct.stat");
  if (hz <= 0)
    hz = 100;
  if (kv_get (acct, "user", &ticks))
    st->cpu.user = ticks * (1000000000u / (uint64_t) hz);
  if (kv_get (acct, "system", &ticks))
    st->cpu.kernel = ticks * (1000000000u / (uint64_t) hz);
  cleanup_free char *cpustat = slurp (cpu, "cpu.stat");
  (void) kv_get (cpustat, "nr_periods", &st->cpu.periods);
  (void) kv_get (cpustat, "nr_throttled", &st->cpu.throttled_periods);
  (void) kv_get (cpustat, "throttled_time", &st->cpu.throttled_time);

  read_v1_memory_entry (memory, "", &st->memory.usage);
  read_v1_memory_entry (memory, "memsw.", &st->memory.swap);
  read_v1_memory_entry (memory, "kmem.", &st->memory.kernel);
  read_v1_memory_entry (memory, "kmem.tcp.", &st->memory.kernel_tcp);
  read_memory_stat (memory, st);
  st->memory.cache = raw_get (st, "cache");
  cleanup_free char *oom = slurp (memory, "memory.oom_control");
  (void) kv_get (oom, "oom_kill", &st->memory.oom_kills);

  (void) read_u64 (pids, "pids.current", 0, &st->pids.current);
  (void) read_u64 (pids, "pids.max", 0, &st->pids.limit);

  read_v1_blkio (blkio, "blkio.throttle.io_service_bytes_recursive", &st->blkio.service_bytes,
                 &st->blkio.n_service_bytes);
  read_v1_blkio (blkio, "blkio.throttle.io_serviced_recursive", &st->blkio.serviced, &st->blkio.n_serviced);

  read_hugetlb (v1_fd (src, "hugetlb"), false, st);
}

/* ---- cgroup v2 ---- */

/* Lines "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N" of io.stat, as the v1 tables:
 * bytes read/written, operations read/written.  The other keys have no v1 counterpart.  */
static void
read_v2_io (int dirfd, struct cgroup_stats *st)
{
  static const struct
  {
    const char *key, *op;
    bool bytes;
  } keys[] = {
    { "rbytes", "Read", true },
    { "wbytes", "Write", true },
    { "rios", "Read", false },
    { "wios", "Write", false },
  };
  cleanup_free char *s = slurp (dirfd, "io.stat");

  for (char *line = s; line != NULL && *line != '\0';)
    {
      char *nl = strchr (line, '\n');
      uint64_t major, minor, v;
      int off = 0;
      if (nl != NULL)
        *nl = '\0';
      if (sscanf (line, "%" SCNu64 ":%" SCNu64 "%n", &major, &minor, &off) == 2 && off > 0)
        for (size_t k = 0; k < ARRAY_SIZE (keys); k++)
          {
            cleanup_free char *pat = xasprintf (" %s=", keys[k].key);
            const char *p = strstr (line + off, pat);
            if (p == NULL)
              continue;
            p += strlen (pat);
            if (!scan_u64 (&p, &v))
              continue;
            if (keys[k].bytes)
              blkio_add (&st->blkio.service_bytes, &st->blkio.n_service_bytes, major, minor, keys[k].op, v);
            else
              blkio_add (&st->blkio.serviced, &st->blkio.n_serviced, major, minor, keys[k].op, v);
          }
      line = nl != NULL ? nl + 1 : NULL;
    }
}

/* The number of lines (pids) of cgroup.procs: pids.current when the pids controller is off.  */
static uint64_t
count_procs (int dirfd)
{
  cleanup_free char *s = slurp (dirfd, "cgroup.procs");
  uint64_t n = 0;

  for (const char *p = s; p != NULL && *p != '\0'; p++)
    n += *p == '\n';
  return n;
}

static void
read_v2 (int fd, struct cgroup_stats *st)
{
  cleanup_free char *cpustat = slurp (fd, "cpu.stat");
  cleanup_free char *events = slurp (fd, "memory.events");
  struct stats_memory_entry swap = { .usage = 0 };
  uint64_t us;

  /* cpu.stat counts microseconds.  */
  if (kv_get (cpustat, "usage_usec", &us))
    st->cpu.total = us * 1000;
  if (kv_get (cpustat, "user_usec", &us))
    st->cpu.user = us * 1000;
  if (kv_get (cpustat, "system_usec", &us))
    st->cpu.kernel = us * 1000;
  (void) kv_get (cpustat, "nr_periods", &st->cpu.periods);
  (void) kv_get (cpustat, "nr_throttled", &st->cpu.throttled_periods);
  if (kv_get (cpustat, "throttled_usec", &us))
    st->cpu.throttled_time = us * 1000;

  (void) read_u64 (fd, "memory.current", UINT64_MAX, &st->memory.usage.usage);
  (void) read_u64 (fd, "memory.max", UINT64_MAX, &st->memory.usage.limit);
  (void) read_u64 (fd, "memory.peak", UINT64_MAX, &st->memory.usage.max);
  /* v2 counts swap alone; report memory+swap, the v1 meaning (as runc does).  */
  (void) read_u64 (fd, "memory.swap.current", UINT64_MAX, &swap.usage);
  (void) read_u64 (fd, "memory.swap.max", UINT64_MAX, &swap.limit);
  (void) read_u64 (fd, "memory.swap.peak", UINT64_MAX, &swap.max);
  swap.usage += st->memory.usage.usage;
  if (swap.limit != UINT64_MAX)
    swap.limit = st->memory.usage.limit == UINT64_MAX ? UINT64_MAX : swap.limit + st->memory.usage.limit;
  st->memory.swap = swap;
  read_memory_stat (fd, st);
  st->memory.cache = raw_get (st, "file");
  (void) kv_get (events, "oom_kill", &st->memory.oom_kills);

  if (!read_u64 (fd, "pids.current", 0, &st->pids.current))
    st->pids.current = count_procs (fd);
  (void) read_u64 (fd, "pids.max", 0, &st->pids.limit);

  read_v2_io (fd, st);
  read_hugetlb (fd, true, st);
}

int
stats_read (const struct stats_source *src, struct cgroup_stats *st, struct husk_err *err)
{
  memset (st, 0, sizeof *st);
  if (src->v2fd >= 0)
    read_v2 (src->v2fd, st);
  else if (src->n_v1 > 0)
    read_v1 (src, st);
  else
    return husk_err_set (err, 0, "no cgroup directory to read stats from");
  return 0;
}

void
stats_release (struct cgroup_stats *st)
{
  free (st->cpu.percpu);
  free (st->cpu.percpu_kernel);
  free (st->cpu.percpu_user);
  for (size_t i = 0; i < st->memory.n_raw; i++)
    free (st->memory.raw[i].key);
  free (st->memory.raw);
  free (st->blkio.service_bytes);
  free (st->blkio.serviced);
  free (st->hugetlb);
  memset (st, 0, sizeof *st);
}

/* ---- OOM ---- */

int
stats_oom_kills (const struct stats_source *src, uint64_t *count)
{
  bool v2 = src->v2fd >= 0;
  cleanup_free char *s = slurp (v2 ? src->v2fd : v1_fd (src, "memory"), v2 ? "memory.events" : "memory.oom_control");

  return kv_get (s, "oom_kill", count) ? 0 : -1;
}

int
stats_oom_watch (const struct stats_source *src, struct husk_err *err)
{
  if (src->v2fd >= 0)
    {
      cleanup_close int fd = inotify_init1 (IN_CLOEXEC | IN_NONBLOCK);
      char path[64];
      if (fd < 0)
        return husk_err_set (err, errno, "inotify_init1");
      (void) snprintf (path, sizeof path, "/proc/self/fd/%d/memory.events", src->v2fd);
      if (inotify_add_watch (fd, path, IN_MODIFY | IN_DELETE_SELF) < 0)
        return husk_err_set (err, errno, "watch 'memory.events'");
      return steal_fd (&fd);
    }
  /* v1: "<eventfd> <fd of memory.oom_control>" into cgroup.event_control (memory.rst, "OOM
   * Control"); the kernel keeps what it needs, so the memory.oom_control fd can be closed.  */
  int mem = v1_fd (src, "memory");
  cleanup_close int efd = -1, ofd = -1;
  char line[32];
  if (mem < 0)
    return husk_err_set (err, 0, "no memory cgroup");
  efd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  ofd = openat (mem, "memory.oom_control", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (efd < 0 || ofd < 0)
    return husk_err_set (err, errno, "open 'memory.oom_control'");
  int len = snprintf (line, sizeof line, "%d %d", efd, ofd);
  if (write_file_at (mem, "cgroup.event_control", line, (size_t) len, err) < 0)
    return -1;
  return steal_fd (&efd);
}

/* ---- JSON ---- */

static void
gen_key (yajl_gen g, const char *k)
{
  yajl_gen_string (g, (const unsigned char *) k, strlen (k));
}

/* Numbers as text: yajl_gen_integer takes a signed long long, and limits reach UINT64_MAX.  */
static void
gen_u64 (yajl_gen g, uint64_t v)
{
  char buf[24];
  int n = snprintf (buf, sizeof buf, "%" PRIu64, v);

  yajl_gen_number (g, buf, (size_t) n);
}

/* "K": V, left out when OMITEMPTY and V is 0 (Go's `json:",omitempty"`).  */
static void
gen_field (yajl_gen g, const char *k, uint64_t v, bool omitempty)
{
  if (omitempty && v == 0)
    return;
  gen_key (g, k);
  gen_u64 (g, v);
}

static void
gen_list (yajl_gen g, const char *k, const uint64_t *v, size_t n)
{
  if (n == 0)
    return;
  gen_key (g, k);
  yajl_gen_array_open (g);
  for (size_t i = 0; i < n; i++)
    gen_u64 (g, v[i]);
  yajl_gen_array_close (g);
}

static void
gen_memory_entry (yajl_gen g, const char *k, const struct stats_memory_entry *e)
{
  gen_key (g, k);
  yajl_gen_map_open (g);
  gen_field (g, "limit", e->limit, false);
  gen_field (g, "usage", e->usage, true);
  gen_field (g, "max", e->max, true);
  gen_field (g, "failcnt", e->failcnt, false);
  yajl_gen_map_close (g);
}

static void
gen_blkio (yajl_gen g, const char *k, const struct stats_blkio_entry *v, size_t n)
{
  if (n == 0)
    return;
  gen_key (g, k);
  yajl_gen_array_open (g);
  for (size_t i = 0; i < n; i++)
    {
      yajl_gen_map_open (g);
      gen_field (g, "major", v[i].major, true);
      gen_field (g, "minor", v[i].minor, true);
      if (v[i].op[0] != '\0')
        {
          gen_key (g, "op");
          gen_key (g, v[i].op);
        }
      gen_field (g, "value", v[i].value, true);
      yajl_gen_map_close (g);
    }
  yajl_gen_array_close (g);
}

static void
gen_stats (yajl_gen g, const struct cgroup_stats *st)
{
  yajl_gen_map_open (g);

  gen_key (g, "cpu");
  yajl_gen_map_open (g);
  gen_key (g, "usage");
  yajl_gen_map_open (g);
  gen_field (g, "total", st->cpu.total, true);
  gen_list (g, "percpu", st->cpu.percpu, st->cpu.n_percpu);
  gen_list (g, "percpu_kernel", st->cpu.percpu_kernel, st->cpu.n_percpu_kernel);
  gen_list (g, "percpu_user", st->cpu.percpu_user, st->cpu.n_percpu_user);
  gen_field (g, "kernel", st->cpu.kernel, false);
  gen_field (g, "user", st->cpu.user, false);
  yajl_gen_map_close (g);
  gen_key (g, "throttling");
  yajl_gen_map_open (g);
  gen_field (g, "periods", st->cpu.periods, true);
  gen_field (g, "throttledPeriods", st->cpu.throttled_periods, true);
  gen_field (g, "throttledTime", st->cpu.throttled_time, true);
  yajl_gen_map_close (g);
  yajl_gen_map_close (g);

  gen_key (g, "memory");
  yajl_gen_map_open (g);
  gen_field (g, "cache", st->memory.cache, true);
  gen_memory_entry (g, "usage", &st->memory.usage);
  gen_memory_entry (g, "swap", &st->memory.swap);
  gen_memory_entry (g, "kernel", &st->memory.kernel);
  gen_memory_entry (g, "kernelTCP", &st->memory.kernel_tcp);
  if (st->memory.n_raw > 0)
    {
      gen_key (g, "raw");
      yajl_gen_map_open (g);
      for (size_t i = 0; i < st->memory.n_raw; i++)
        gen_field (g, st->memory.raw[i].key, st->memory.raw[i].value, false);
      yajl_gen_map_close (g);
    }
  yajl_gen_map_close (g);

  gen_key (g, "pids");
  yajl_gen_map_open (g);
  gen_field (g, "current", st->pids.current, true);
  gen_field (g, "limit", st->pids.limit, true);
  yajl_gen_map_close (g);

  gen_key (g, "blkio");
  yajl_gen_map_open (g);
  gen_blkio (g, "ioServiceBytesRecursive", st->blkio.service_bytes, st->blkio.n_service_bytes);
  gen_blkio (g, "ioServicedRecursive", st->blkio.serviced, st->blkio.n_serviced);
  yajl_gen_map_close (g);

  gen_key (g, "hugetlb");
  yajl_gen_map_open (g);
  for (size_t i = 0; i < st->n_hugetlb; i++)
    {
      gen_key (g, st->hugetlb[i].size);
      yajl_gen_map_open (g);
      gen_field (g, "usage", st->hugetlb[i].usage, true);
      gen_field (g, "max", st->hugetlb[i].max, true);
      gen_field (g, "failcnt", st->hugetlb[i].failcnt, false);
      yajl_gen_map_close (g);
    }
  yajl_gen_map_close (g);

  yajl_gen_map_close (g);
}

char *
stats_event_json (const char *type, const char *id, const struct cgroup_stats *st)
{
  yajl_gen g = yajl_gen_alloc (NULL);

  yajl_gen_map_open (g);
  gen_key (g, "type");
  gen_key (g, type);
  gen_key (g, "id");
  gen_key (g, id);
  if (st != NULL)
    {
      gen_key (g, "data");
      gen_stats (g, st);
    }
  yajl_gen_map_close (g);
  return json_gen_finish (g);
}

/* ---- --interval ---- */

int
stats_parse_duration (const char *s, uint64_t *ns, struct husk_err *err)
{
  /* "ms" before "m": the first unit that matches is taken.  */
  static const struct
  {
    const char *name;
    double ns;
  } units[] = {
    { "ns", 1 }, { "us", 1e3 }, { "\xc2\xb5s", 1e3 }, { "\xce\xbcs", 1e3 }, { "ms", 1e6 },
    { "s", 1e9 }, { "m", 60e9 }, { "h", 3600e9 },
  };
  double total = 0;
  const char *p = s;

  if (strcmp (s, "0") == 0)
    return *ns = 0, 0;
  if (*p == '\0')
    return husk_err_set (err, 0, "invalid duration '%s'", s);
  while (*p != '\0')
    {
      double v = 0, scale = 1;
      bool digits = false;
      for (; isdigit ((unsigned char) *p); p++, digits = true)
        v = v * 10 + (*p - '0');
      if (*p == '.')
        for (p++; isdigit ((unsigned char) *p); p++, digits = true)
          v += (*p - '0') * (scale /= 10);
      size_t u = 0;
      while (u < ARRAY_SIZE (units) && !has_prefix (p, units[u].name))
        u++;
      if (!digits)
        return husk_err_set (err, 0, "invalid duration '%s'", s);
      if (u == ARRAY_SIZE (units))
        return husk_err_set (err, 0, "invalid duration '%s': %s", s,
                             *p == '\0' ? "missing unit" : "unknown unit");
      total += v * units[u].ns;
      p += strlen (units[u].name);
    }
  if (total >= 9.2e18)
    return husk_err_set (err, 0, "invalid duration '%s': too large", s);
  *ns = (uint64_t) (total + 0.5);
  return 0;
}
