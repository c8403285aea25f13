/* linux.resources into cgroup v1 and v2 control files (see resources.h for the semantics).  */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/resources.h"
#include "util.h"

#define PFX "config.json: linux.resources."

/* cgroup v1 shows an unlimited page counter as PAGE_COUNTER_MAX * PAGE_SIZE (9223372036854771712
 * with 4 KiB pages): anything from 2^62 up is "unlimited".  */
#define V1_UNLIMITED_FROM (UINT64_C (1) << 62)

/* ---- writing control files ----------------------------------------------------------------- */

/* The error for a failed open of FILE for the value at json path FIELD (after PFX).  */
static int
open_error (const char *file, const char *field, struct husk_err *err)
{
  if (errno == ENOENT)
    return husk_err_set (err, 0, PFX "%s: not supported on this host (no '%s')", field, file);
  return husk_err_set (err, errno, PFX "%s: open '%s'", field, file);
}

/* Write VALUE as the whole content of the control file FILE in DIRFD (O_TRUNC: a no-op on
 * cgroupfs, and a plain file then holds the last value written).  FIELD names the json path.  */
static int
put (int dirfd, const char *file, const char *value, const char *field, struct husk_err *err)
{
  cleanup_close int fd = openat (dirfd, file, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);

  if (fd < 0)
    return open_error (file, field, err);
  if (write_all (fd, value, strlen (value)) < 0)
    return husk_err_set (err, errno, PFX "%s: write '%s' to '%s'", field, value, file);
  return 0;
}

/* Write LINE plus a newline, in one write(2), to the multi-entry control file FILE ("MAJ:MIN
 * RATE" lists).  O_APPEND changes nothing on cgroupfs and keeps every line in a plain file.  */
static int
put_line (int dirfd, const char *file, const char *line, const char *field, struct husk_err *err)
{
  cleanup_close int fd = openat (dirfd, file, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
  cleanup_free char *buf = xasprintf ("%s\n", line);

  if (fd < 0)
    return open_error (file, field, err);
  if (write_all (fd, buf, strlen (buf)) < 0)
    return husk_err_set (err, errno, PFX "%s: write '%s' to '%s'", field, line, file);
  return 0;
}

static int
put_i64 (int dirfd, const char *file, int64_t v, const char *field, struct husk_err *err)
{
  char buf[32];

  snprintf (buf, sizeof buf, "%" PRId64, v);
  return put (dirfd, file, buf, field, err);
}

static int
put_u64 (int dirfd, const char *file, uint64_t v, const char *field, struct husk_err *err)
{
  char buf[32];

  snprintf (buf, sizeof buf, "%" PRIu64, v);
  return put (dirfd, file, buf, field, err);
}

/* v2 limits: -1 (any negative) is "max".  */
static int
put_max (int dirfd, const char *file, int64_t v, const char *field, struct husk_err *err)
{
  return v < 0 ? put (dirfd, file, "max", field, err) : put_i64 (dirfd, file, v, field, err);
}

static bool
exists (int dirfd, const char *file)
{
  struct stat st;

  return fstatat (dirfd, file, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* True when the comma- or space-separated LIST holds the word WORD.  */
static bool
has_word (const char *list, const char *word)
{
  size_t len = strlen (word);

  for (const char *p = list; *p != '\0';)
    {
      size_t n = strcspn (p, ", \t\n");
      if (n == len && strncmp (p, word, len) == 0)
        return true;
      p += n;
      p += strspn (p, ", \t\n");
    }
  return false;
}

/* ---- pure conversions ---------------------------------------------------------------------- */

uint64_t
resources_shares_to_weight (uint64_t shares)
{
  if (shares <= 2)
    return 1;
  if (shares >= 262144)
    return 10000;
  return 1 + (shares - 2) * 9999 / 262142;
}

uint64_t
resources_blkio_to_io_weight (uint64_t weight)
{
  if (weight <= 10)
    return 1;
  if (weight >= 1000)
    return 10000;
  return 1 + (weight - 10) * 9999 / 990;
}

int
resources_v2_swap_max (const struct husk_memory *m, int64_t *out, struct husk_err *err)
{
  bool limit = m->has_limit && m->limit != 0;

  if (!m->has_swap || m->swap == 0)
    {
      /* An unlimited memory limit with no swap limit: swap unlimited too (as on v1).  */
      if (limit && m->limit == -1)
        return *out = -1, 1;
      return 0;
    }
  if (m->swap == -1)
    return *out = -1, 1;
  if (m->swap < -1)
    return husk_err_set (err, 0, PFX "memory.swap: must be -1 or >= 0");
  if (!limit || m->limit < 0)
    return husk_err_set (err, 0, PFX "memory.swap: a swap limit needs a memory.limit other than -1");
  if (m->swap < m->limit)
    return husk_err_set (err, 0, PFX "memory.swap: must be >= memory.limit (it counts memory+swap)");
  return *out = m->swap - m->limit, 1;
}

bool
resources_v2_cpu_max (const struct husk_cpu *c, char *buf, size_t size)
{
  bool quota = c->has_quota, period = c->has_period && c->period != 0;
  uint64_t p = period ? c->period : 100000;

  if (!quota && !period)
    return false;
  if (quota && c->quota > 0)
    snprintf (buf, size, "%" PRId64 " %" PRIu64, c->quota, p);
  else
    snprintf (buf, size, "max %" PRIu64, p);
  return true;
}

bool
resources_v1_memsw_first (uint64_t cur_memsw, int64_t new_limit)
{
  uint64_t cur = cur_memsw >= V1_UNLIMITED_FROM ? UINT64_MAX : cur_memsw;
  uint64_t lim
      = new_limit < 0 || (uint64_t) new_limit >= V1_UNLIMITED_FROM ? UINT64_MAX : (uint64_t) new_limit;

  return lim > cur;
}

/* ---- checks -------------------------------------------------------------------------------- */

static bool
memory_any (const struct husk_memory *m)
{
  return m != NULL
         && (m->has_limit || m->has_reservation || m->has_swap || m->has_kernel || m->has_kernel_tcp
             || m->has_swappiness || m->has_disable_oom_killer || m->has_use_hierarchy);
}

static bool
cpu_any (const struct husk_cpu *c)
{
  return c != NULL
         && (c->has_shares || c->has_quota || c->has_burst || c->has_period || c->has_realtime_runtime
             || c->has_realtime_period || c->has_idle);
}

static bool
cpuset_any (const struct husk_cpu *c)
{
  return c != NULL && ((c->cpus != NULL && *c->cpus != '\0') || (c->mems != NULL && *c->mems != '\0'));
}

static bool
blkio_any (const struct husk_block_io *b)
{
  return b != NULL
         && (b->has_weight || b->has_leaf_weight || b->n_weight_device > 0
             || b->n_throttle_read_bps_device > 0 || b->n_throttle_write_bps_device > 0
             || b->n_throttle_read_iops_device > 0 || b->n_throttle_write_iops_device > 0);
}

static bool
network_any (const struct husk_network *n)
{
  return n != NULL && (n->has_class_id || n->n_priorities > 0);
}

static bool
rdma_any (const struct husk_resources *r)
{
  for (size_t i = 0; i < r->n_rdma; i++)
    if (r->rdma[i].has_hca_handles || r->rdma[i].has_hca_objects)
      return true;
  return false;
}

static int
v2_unsupported (const char *field, struct husk_err *err)
{
  return husk_err_set (err, 0, PFX "%s: not supported on cgroup v2", field);
}

static int
check_memory (const struct husk_memory *m, bool v2, struct husk_err *err)
{
  const struct
  {
    bool has;
    int64_t v;
    const char *name;
  } limits[] = {
    { m->has_limit, m->limit, "limit" },
    { m->has_reservation, m->reservation, "reservation" },
    { m->has_swap, m->swap, "swap" },
    { m->has_kernel, m->kernel, "kernel" },
    { m->has_kernel_tcp, m->kernel_tcp, "kernelTCP" },
  };
  int64_t swap;

  for (size_t i = 0; i < ARRAY_SIZE (limits); i++)
    if (limits[i].has && limits[i].v < -1)
      return husk_err_set (err, 0, PFX "memory.%s: must be -1 (unlimited) or >= 0", limits[i].name);
  if (resources_v2_swap_max (m, &swap, err) < 0)
    return -1;
  if (m->has_swappiness && v2)
    return v2_unsupported ("memory.swappiness", err);
  if (m->has_swappiness && m->swappiness > 100)
    return husk_err_set (err, 0, PFX "memory.swappiness: must be 0..100");
  if (m->has_disable_oom_killer && m->disable_oom_killer && v2)
    return v2_unsupported ("memory.disableOOMKiller", err);
  if (m->has_use_hierarchy && !m->use_hierarchy && v2)
    return husk_err_set (err, 0, PFX "memory.useHierarchy: false is not supported on cgroup v2");
  return 0;
}

/* A cpuset list: digits, ',' and '-' only ("0-3,8").  */
static bool
good_cpu_list (const char *s)
{
  return s == NULL || s[strspn (s, "0123456789,-")] == '\0';
}

static int
check_cpu (const struct husk_cpu *c, bool v2, struct husk_err *err)
{
  if (c->has_shares && c->shares != 0 && (c->shares < 2 || c->shares > 262144))
    return husk_err_set (err, 0, PFX "cpu.shares: must be 2..262144 (or 0 for the default)");
  if (c->has_period && c->period != 0 && (c->period < 1000 || c->period > 1000000))
    return husk_err_set (err, 0, PFX "cpu.period: must be 1000..1000000 microseconds");
  if (c->has_quota && c->quota > 0 && c->quota < 1000)
    return husk_err_set (err, 0, PFX "cpu.quota: must be >= 1000 microseconds, or <= 0 for unlimited");
  if (c->has_idle && c->idle != 0 && c->idle != 1)
    return husk_err_set (err, 0, PFX "cpu.idle: must be 0 or 1");
  if (v2 && c->has_realtime_runtime)
    return v2_unsupported ("cpu.realtimeRuntime", err);
  if (v2 && c->has_realtime_period)
    return v2_unsupported ("cpu.realtimePeriod", err);
  if (!good_cpu_list (c->cpus))
    return husk_err_set (err, 0, PFX "cpu.cpus: invalid cpu list '%s'", c->cpus);
  if (!good_cpu_list (c->mems))
    return husk_err_set (err, 0, PFX "cpu.mems: invalid node list '%s'", c->mems);
  return 0;
}

static bool
good_dev (int64_t major, int64_t minor)
{
  return major >= 0 && minor >= 0 && major <= UINT32_MAX && minor <= UINT32_MAX;
}

static int
check_blkio (const struct husk_block_io *b, bool v2, struct husk_err *err)
{
  static const char range[] = PFX "blockIO.%s: must be 10..1000";
  const struct
  {
    const struct husk_throttle_device *d;
    size_t n;
    const char *name;
  } thr[] = {
    { b->throttle_read_bps_device, b->n_throttle_read_bps_device, "throttleReadBpsDevice" },
    { b->throttle_write_bps_device, b->n_throttle_write_bps_device, "throttleWriteBpsDevice" },
    { b->throttle_read_iops_device, b->n_throttle_read_iops_device, "throttleReadIOPSDevice" },
    { b->throttle_write_iops_device, b->n_throttle_write_iops_device, "throttleWriteIOPSDevice" },
  };

  if (b->has_weight && b->weight != 0 && (b->weight < 10 || b->weight > 1000))
    return husk_err_set (err, 0, range, "weight");
  if (b->has_leaf_weight && v2)
    return v2_unsupported ("blockIO.leafWeight", err);
  if (b->has_leaf_weight && (b->leaf_weight < 10 || b->leaf_weight > 1000))
    return husk_err_set (err, 0, range, "leafWeight");
  for (size_t i = 0; i < b->n_weight_device; i++)
    {
      const struct husk_weight_device *d = &b->weight_device[i];
      if (!good_dev (d->major, d->minor))
        return husk_err_set (err, 0, PFX "blockIO.weightDevice[%zu]: invalid major or minor", i);
      if (d->has_weight && (d->weight < 10 || d->weight > 1000))
        return husk_err_set (err, 0, PFX "blockIO.weightDevice[%zu].weight: must be 10..1000", i);
      if (d->has_leaf_weight && v2)
        return husk_err_set (err, 0, PFX "blockIO.weightDevice[%zu].leafWeight: not supported on cgroup v2",
                             i);
      if (d->has_leaf_weight && (d->leaf_weight < 10 || d->leaf_weight > 1000))
        return husk_err_set (err, 0, PFX "blockIO.weightDevice[%zu].leafWeight: must be 10..1000", i);
    }
  for (size_t t = 0; t < ARRAY_SIZE (thr); t++)
    for (size_t i = 0; i < thr[t].n; i++)
      if (!good_dev (thr[t].d[i].major, thr[t].d[i].minor))
        return husk_err_set (err, 0, PFX "blockIO.%s[%zu]: invalid major or minor", thr[t].name, i);
  return 0;
}

/* A huge page size as the kernel names it in hugetlb files: digits then KB, MB, GB or TB.  */
static bool
good_page_size (const char *s)
{
  size_t digits = s != NULL ? strspn (s, "0123456789") : 0;

  return digits > 0 && s[digits] != '\0' && strchr ("KMGT", s[digits]) != NULL && s[digits + 1] == 'B'
         && s[digits + 2] == '\0';
}

/* A word that goes into a "NAME VALUE" line: non-empty, no white space.  */
static bool
good_word (const char *s)
{
  return s != NULL && *s != '\0' && s[strcspn (s, " \t\n")] == '\0';
}

/* A linux.resources.unified key: a plain file name in the container's cgroup, and not one of the
 * cgroup core files that move, kill or restructure (only cgroup.max.* is allowed).  */
static bool
good_unified_key (const char *k)
{
  if (k == NULL || *k == '\0' || strchr (k, '/') != NULL || strcmp (k, ".") == 0 || strcmp (k, "..") == 0)
    return false;
  if (has_prefix (k, "cgroup."))
    return has_prefix (k, "cgroup.max.");
  return true;
}

int
resources_check (const struct husk_resources *r, bool v2, struct husk_err *err)
{
  if (r == NULL)
    return 0;
  if (r->memory != NULL && check_memory (r->memory, v2, err) < 0)
    return -1;
  if (r->cpu != NULL && check_cpu (r->cpu, v2, err) < 0)
    return -1;
  if (r->block_io != NULL && check_blkio (r->block_io, v2, err) < 0)
    return -1;
  for (size_t i = 0; i < r->n_hugepage_limits; i++)
    if (!good_page_size (r->hugepage_limits[i].page_size))
      return husk_err_set (err, 0, PFX "hugepageLimits[%zu].pageSize: invalid page size '%s'", i,
                           r->hugepage_limits[i].page_size != NULL ? r->hugepage_limits[i].page_size : "");
  if (network_any (r->network) && v2)
    return v2_unsupported ("network", err);
  for (size_t i = 0; r->network != NULL && i < r->network->n_priorities; i++)
    if (!good_word (r->network->priorities[i].name))
      return husk_err_set (err, 0, PFX "network.priorities[%zu].name: invalid interface name", i);
  for (size_t i = 0; i < r->n_rdma; i++)
    if (!good_word (r->rdma[i].device))
      return husk_err_set (err, 0, PFX "rdma: invalid device name '%s'",
                           r->rdma[i].device != NULL ? r->rdma[i].device : "");
  if (r->n_unified > 0 && !v2)
    return husk_err_set (err, 0, PFX "unified: needs cgroup v2 (this host uses cgroup v1)");
  for (size_t i = 0; i < r->n_unified; i++)
    if (!good_unified_key (r->unified[i].key))
      return husk_err_set (err, 0, PFX "unified: key '%s' is not a writable cgroup file name",
                           r->unified[i].key != NULL ? r->unified[i].key : "");
  return 0;
}

/* ---- cgroup v1 ----------------------------------------------------------------------------- */

/* The dir fd of the v1 hierarchy holding CONTROLLER, or -1 with ERR for json path FIELD.  */
static int
v1_dir (const struct resources_v1_dir *dirs, size_t n, const char *controller, const char *field,
        struct husk_err *err)
{
  for (size_t i = 0; i < n; i++)
    if (dirs[i].controllers != NULL && has_word (dirs[i].controllers, controller))
      return dirs[i].dirfd;
  return husk_err_set (err, 0, PFX "%s: the '%s' controller is not available", field, controller);
}

/* memory.limit_in_bytes and memory.memsw.limit_in_bytes, in the order the kernel accepts.  */
static int
v1_memory_limits (int fd, const struct husk_memory *m, struct husk_err *err)
{
  static const char memsw_file[] = "memory.memsw.limit_in_bytes";
  bool limit = m->has_limit && m->limit != 0, memsw = false, swap_first = false;
  int64_t memsw_v = 0;

  if (m->has_swap && m->swap != 0)
    memsw = true, memsw_v = m->swap;
  else if (limit && m->limit == -1 && exists (fd, memsw_file))
    memsw = true, memsw_v = -1; /* unlimited memory, no swap limit given: unlimited swap too */
  if (memsw && !exists (fd, memsw_file)) /* no swap accounting (swapaccount=0) */
    return errno = ENOENT, open_error (memsw_file, "memory.swap", err);
  if (limit && memsw)
    {
      cleanup_free char *cur = read_file_at (fd, memsw_file, 64, NULL, err);
      uint64_t cur_v;
      if (cur == NULL)
        return husk_err_prefix (err, PFX "memory.swap");
      cur[strcspn (cur, "\n")] = '\0';
      if (parse_u64 (cur, &cur_v) < 0)
        return husk_err_set (err, 0, PFX "memory.swap: cannot parse '%s' in '%s'", cur, memsw_file);
      swap_first = resources_v1_memsw_first (cur_v, m->limit);
    }
  if (memsw && swap_first && put_i64 (fd, memsw_file, memsw_v, "memory.swap", err) < 0)
    return -1;
  if (limit && put_i64 (fd, "memory.limit_in_bytes", m->limit, "memory.limit", err) < 0)
    return -1;
  if (memsw && !swap_first && put_i64 (fd, memsw_file, memsw_v, "memory.swap", err) < 0)
    return -1;
  return 0;
}

/* The deprecated kernel memory limits: written when the kernel still takes them, else a warning.  */
static int
v1_kmem (int fd, const char *file, int64_t v, const char *field, struct husk_err *err)
{
  if (put_i64 (fd, file, v, field, err) == 0)
    return 0;
  if (err->errnum != 0 && err->errnum != EOPNOTSUPP && err->errnum != ENOTSUP)
    return -1;
  husk_warn (PFX "%s: not supported by this kernel (deprecated), ignoring", field);
  return 0;
}

static int
v1_memory (const struct husk_memory *m, const struct resources_v1_dir *dirs, size_t n, struct husk_err *err)
{
  int fd = v1_dir (dirs, n, "memory", "memory", err);

  if (fd < 0)
    return -1;
  if (m->has_use_hierarchy
      && put (fd, "memory.use_hierarchy", m->use_hierarchy ? "1" : "0", "memory.useHierarchy", err) < 0)
    return -1;
  if (v1_memory_limits (fd, m, err) < 0)
    return -1;
  if (m->has_reservation
      && put_i64 (fd, "memory.soft_limit_in_bytes", m->reservation, "memory.reservation", err) < 0)
    return -1;
  if (m->has_kernel && v1_kmem (fd, "memory.kmem.limit_in_bytes", m->kernel, "memory.kernel", err) < 0)
    return -1;
  if (m->has_kernel_tcp
      && v1_kmem (fd, "memory.kmem.tcp.limit_in_bytes", m->kernel_tcp, "memory.kernelTCP", err) < 0)
    return -1;
  if (m->has_swappiness && put_u64 (fd, "memory.swappiness", m->swappiness, "memory.swappiness", err) < 0)
    return -1;
  if (m->has_disable_oom_killer
      && put (fd, "memory.oom_control", m->disable_oom_killer ? "1" : "0", "memory.disableOOMKiller", err)
             < 0)
    return -1;
  return 0;
}

static int
v1_cpu (const struct husk_cpu *c, const struct resources_v1_dir *dirs, size_t n, struct husk_err *err)
{
  int fd = v1_dir (dirs, n, "cpu", "cpu", err);

  if (fd < 0)
    return -1;
  if (c->has_shares && c->shares != 0 && put_u64 (fd, "cpu.shares", c->shares, "cpu.shares", err) < 0)
    return -1;
  /* The period first: a quota is checked against the period in force.  */
  if (c->has_period && c->period != 0 && put_u64 (fd, "cpu.cfs_period_us", c->period, "cpu.period", err) < 0)
    return -1;
  if (c->has_quota && put_i64 (fd, "cpu.cfs_quota_us", c->quota > 0 ? c->quota : -1, "cpu.quota", err) < 0)
    return -1;
  if (c->has_burst && put_u64 (fd, "cpu.cfs_burst_us", c->burst, "cpu.burst", err) < 0)
    return -1;
  if (c->has_realtime_period
      && put_u64 (fd, "cpu.rt_period_us", c->realtime_period, "cpu.realtimePeriod", err) < 0)
    return -1;
  if (c->has_realtime_runtime
      && put_i64 (fd, "cpu.rt_runtime_us", c->realtime_runtime, "cpu.realtimeRuntime", err) < 0)
    return -1;
  if (c->has_idle && put_i64 (fd, "cpu.idle", c->idle, "cpu.idle", err) < 0)
    return -1;
  return 0;
}

/* cpuset.cpus and cpuset.mems (the same file names on v1 and v2).  */
static int
put_cpuset (int fd, const struct husk_cpu *c, struct husk_err *err)
{
  if (c->cpus != NULL && *c->cpus != '\0' && put (fd, "cpuset.cpus", c->cpus, "cpu.cpus", err) < 0)
    return -1;
  if (c->mems != NULL && *c->mems != '\0' && put (fd, "cpuset.mems", c->mems, "cpu.mems", err) < 0)
    return -1;
  return 0;
}

/* The first of FILES (NULL-terminated) that exists in FD, or FILES[0] (so the error names it).  */
static const char *
first_existing (int fd, const char *const *files)
{
  for (size_t i = 0; files[i] != NULL; i++)
    if (exists (fd, files[i]))
      return files[i];
  return files[0];
}

static int
v1_blkio (const struct husk_block_io *b, const struct resources_v1_dir *dirs, size_t n, struct husk_err *err)
{
  static const char *const weight_files[] = { "blkio.weight", "blkio.bfq.weight", NULL };
  static const char *const weight_dev_files[] = { "blkio.weight_device", "blkio.bfq.weight_device", NULL };
  const struct
  {
    const struct husk_throttle_device *d;
    size_t n;
    const char *file, *name;
  } thr[] = {
    { b->throttle_read_bps_device, b->n_throttle_read_bps_device, "blkio.throttle.read_bps_device",
      "throttleReadBpsDevice" },
    { b->throttle_write_bps_device, b->n_throttle_write_bps_device, "blkio.throttle.write_bps_device",
      "throttleWriteBpsDevice" },
    { b->throttle_read_iops_device, b->n_throttle_read_iops_device, "blkio.throttle.read_iops_device",
      "throttleReadIOPSDevice" },
    { b->throttle_write_iops_device, b->n_throttle_write_iops_device, "blkio.throttle.write_iops_device",
      "throttleWriteIOPSDevice" },
  };
  int fd = v1_dir (dirs, n, "blkio", "blockIO", err);

  if (fd < 0)
    return -1;
  if (b->has_weight && b->weight != 0
      && put_u64 (fd, first_existing (fd, weight_files), b->weight, "blockIO.weight", err) < 0)
    return -1;
  if (b->has_leaf_weight && put_u64 (fd, "blkio.leaf_weight", b->leaf_weight, "blockIO.leafWeight", err) < 0)
    return -1;
  for (size_t i = 0; i < b->n_weight_device; i++)
    {
      const struct husk_weight_device *d = &b->weight_device[i];
      cleanup_free char *field = xasprintf ("blockIO.weightDevice[%zu]", i);
      char line[64];
      if (d->has_weight)
        {
          snprintf (line, sizeof line, "%" PRId64 ":%" PRId64 " %u", d->major, d->minor,
                    (unsigned) d->weight);
          if (put_line (fd, first_existing (fd, weight_dev_files), line, field, err) < 0)
            return -1;
        }
      if (d->has_leaf_weight)
        {
          snprintf (line, sizeof line, "%" PRId64 ":%" PRId64 " %u", d->major, d->minor,
                    (unsigned) d->leaf_weight);
          if (put_line (fd, "blkio.leaf_weight_device", line, field, err) < 0)
            return -1;
        }
    }
  for (size_t t = 0; t < ARRAY_SIZE (thr); t++)
    for (size_t i = 0; i < thr[t].n; i++)
      {
        const struct husk_throttle_device *d = &thr[t].d[i];
        cleanup_free char *field = xasprintf ("blockIO.%s[%zu]", thr[t].name, i);
        char line[80];
        snprintf (line, sizeof line, "%" PRId64 ":%" PRId64 " %" PRIu64, d->major, d->minor, d->rate);
        if (put_line (fd, thr[t].file, line, field, err) < 0)
          return -1;
      }
  return 0;
}

/* hugetlb.<size>.<LIMIT_SUFFIX> for every entry, and hugetlb.<size>.<RSVD_SUFFIX> where the kernel
 * has reservation accounting (5.7+).  The controller's directory is FD.  */
static int
put_hugetlb (int fd, const struct husk_resources *r, const char *limit_suffix, const char *rsvd_suffix,
             struct husk_err *err)
{
  for (size_t i = 0; i < r->n_hugepage_limits; i++)
    {
      const struct husk_hugepage_limit *h = &r->hugepage_limits[i];
      cleanup_free char *file = xasprintf ("hugetlb.%s.%s", h->page_size, limit_suffix);
      cleanup_free char *rsvd = xasprintf ("hugetlb.%s.%s", h->page_size, rsvd_suffix);
      cleanup_free char *field = xasprintf ("hugepageLimits[%zu]", i);
      if (!exists (fd, file))
        return husk_err_set (err, 0, PFX "%s.pageSize: huge page size '%s' not supported on this host", field,
                             h->page_size);
      if (put_u64 (fd, file, h->limit, field, err) < 0)
        return -1;
      if (exists (fd, rsvd) && put_u64 (fd, rsvd, h->limit, field, err) < 0)
        return -1;
    }
  return 0;
}

static int
v1_network (const struct husk_network *net, const struct resources_v1_dir *dirs, size_t n,
            struct husk_err *err)
{
  if (net->has_class_id)
    {
      int fd = v1_dir (dirs, n, "net_cls", "network.classID", err);
      if (fd < 0 || put_u64 (fd, "net_cls.classid", net->class_id, "network.classID", err) < 0)
        return -1;
    }
  for (size_t i = 0; i < net->n_priorities; i++)
    {
      cleanup_free char *field = xasprintf ("network.priorities[%zu]", i);
      cleanup_free char *line
          = xasprintf ("%s %" PRIu32, net->priorities[i].name, net->priorities[i].priority);
      int fd = v1_dir (dirs, n, "net_prio", field, err);
      if (fd < 0 || put_line (fd, "net_prio.ifpriomap", line, field, err) < 0)
        return -1;
    }
  return 0;
}

/* rdma.max lines "DEV hca_handle=N hca_object=M" (the same on v1 and v2).  */
static int
put_rdma (int fd, const struct husk_resources *r, struct husk_err *err)
{
  for (size_t i = 0; i < r->n_rdma; i++)
    {
      const struct husk_rdma *d = &r->rdma[i];
      cleanup_free char *field = xasprintf ("rdma.%s", d->device);
      char handles[40] = "", objects[40] = "";
      if (!d->has_hca_handles && !d->has_hca_objects)
        continue;
      if (d->has_hca_handles)
        snprintf (handles, sizeof handles, " hca_handle=%" PRIu32, d->hca_handles);
      if (d->has_hca_objects)
        snprintf (objects, sizeof objects, " hca_object=%" PRIu32, d->hca_objects);
      cleanup_free char *line = xasprintf ("%s%s%s", d->device, handles, objects);
      if (put_line (fd, "rdma.max", line, field, err) < 0)
        return -1;
    }
  return 0;
}

int
resources_apply_v1 (const struct husk_resources *r, const struct resources_v1_dir *dirs, size_t n,
                    struct husk_err *err)
{
  int fd;

  if (r == NULL)
    return 0;
  if (resources_check (r, false, err) < 0)
    return -1;
  if (memory_any (r->memory) && v1_memory (r->memory, dirs, n, err) < 0)
    return -1;
  if (cpuset_any (r->cpu)
      && ((fd = v1_dir (dirs, n, "cpuset", "cpu.cpus", err)) < 0 || put_cpuset (fd, r->cpu, err) < 0))
    return -1;
  if (cpu_any (r->cpu) && v1_cpu (r->cpu, dirs, n, err) < 0)
    return -1;
  if (r->has_pids_limit
      && ((fd = v1_dir (dirs, n, "pids", "pids", err)) < 0
          || put_max (fd, "pids.max", r->pids_limit > 0 ? r->pids_limit : -1, "pids.limit", err) < 0))
    return -1;
  if (blkio_any (r->block_io) && v1_blkio (r->block_io, dirs, n, err) < 0)
    return -1;
  if (r->n_hugepage_limits > 0
      && ((fd = v1_dir (dirs, n, "hugetlb", "hugepageLimits", err)) < 0
          || put_hugetlb (fd, r, "limit_in_bytes", "rsvd.limit_in_bytes", err) < 0))
    return -1;
  if (network_any (r->network) && v1_network (r->network, dirs, n, err) < 0)
    return -1;
  if (rdma_any (r) && ((fd = v1_dir (dirs, n, "rdma", "rdma", err)) < 0 || put_rdma (fd, r, err) < 0))
    return -1;
  return 0;
}

/* ---- cgroup v2 ----------------------------------------------------------------------------- */

static const char *const v2_names[] = { "cpu", "cpuset", "memory", "io", "pids", "hugetlb", "rdma", "misc" };

const char *
resources_v2_controller_name (unsigned bit)
{
  for (size_t i = 0; i < ARRAY_SIZE (v2_names); i++)
    if (bit == 1u << i)
      return v2_names[i];
  return NULL;
}

unsigned
resources_v2_controllers (const struct husk_resources *r)
{
  unsigned mask = 0;

  if (r == NULL)
    return 0;
  if (memory_any (r->memory))
    mask |= RESOURCES_V2_MEMORY;
  if (cpu_any (r->cpu))
    mask |= RESOURCES_V2_CPU;
  if (cpuset_any (r->cpu))
    mask |= RESOURCES_V2_CPUSET;
  if (r->has_pids_limit)
    mask |= RESOURCES_V2_PIDS;
  if (blkio_any (r->block_io))
    mask |= RESOURCES_V2_IO;
  if (r->n_hugepage_limits > 0)
    mask |= RESOURCES_V2_HUGETLB;
  if (rdma_any (r))
    mask |= RESOURCES_V2_RDMA;
  for (size_t i = 0; i < r->n_unified; i++)
    {
      const char *k = r->unified[i].key, *dot = k != NULL ? strchr (k, '.') : NULL;
      for (size_t j = 0; dot != NULL && j < ARRAY_SIZE (v2_names); j++)
        if (strlen (v2_names[j]) == (size_t) (dot - k) && strncmp (k, v2_names[j], dot - k) == 0)
          mask |= 1u << j;
    }
  return mask;
}

int
resources_v2_enable (int dirfd, unsigned mask, struct husk_err *err)
{
  cleanup_free char *avail = read_file_at (dirfd, "cgroup.controllers", 4096, NULL, err);
  cleanup_free char *enabled
      = avail != NULL ? read_file_at (dirfd, "cgroup.subtree_control", 4096, NULL, err) : NULL;

  if (enabled == NULL)
    return -1;
  for (size_t i = 0; i < ARRAY_SIZE (v2_names); i++)
    {
      char buf[16];
      if (!(mask & (1u << i)) || !has_word (avail, v2_names[i]) || has_word (enabled, v2_names[i]))
        continue;
      /* One controller per write, so that the error names it.  */
      snprintf (buf, sizeof buf, "+%s\n", v2_names[i]);
      cleanup_close int fd
          = openat (dirfd, "cgroup.subtree_control", O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0 || write_all (fd, buf, strlen (buf)) < 0)
        return husk_err_set (err, errno, "enable the '%s' controller in 'cgroup.subtree_control'",
                             v2_names[i]);
    }
  return 0;
}

/* Fail for json path FIELD unless CONTROLLER is in the container's cgroup.controllers CTLS.  */
static int
v2_need (const char *ctls, const char *controller, const char *field, struct husk_err *err)
{
  if (has_word (ctls, controller))
    return 0;
  return husk_err_set (err, 0, PFX "%s: the '%s' controller is not available", field, controller);
}

static int
v2_memory (int fd, const struct husk_memory *m, struct husk_err *err)
{
  int64_t swap;
  int r;

  if (m->has_limit && m->limit != 0 && put_max (fd, "memory.max", m->limit, "memory.limit", err) < 0)
    return -1;
  r = resources_v2_swap_max (m, &swap, err);
  if (r < 0)
    return -1;
  /* No memory.swap.max without swap accounting: fine when the value asked for is "max".  */
  if (r > 0 && !(swap < 0 && !exists (fd, "memory.swap.max"))
      && put_max (fd, "memory.swap.max", swap, "memory.swap", err) < 0)
    return -1;
  if (m->has_reservation && put_max (fd, "memory.low", m->reservation, "memory.reservation", err) < 0)
    return -1;
  if (m->has_kernel)
    husk_warn (PFX "memory.kernel: not supported on cgroup v2 (deprecated), ignoring");
  if (m->has_kernel_tcp)
    husk_warn (PFX "memory.kernelTCP: not supported on cgroup v2 (deprecated), ignoring");
  return 0;
}

static int
v2_cpu (int fd, const struct husk_cpu *c, struct husk_err *err)
{
  char buf[64];

  if (c->has_shares && c->shares != 0
      && put_u64 (fd, "cpu.weight", resources_shares_to_weight (c->shares), "cpu.shares", err) < 0)
    return -1;
  if (resources_v2_cpu_max (c, buf, sizeof buf) && put (fd, "cpu.max", buf, "cpu.quota", err) < 0)
    return -1;
  if (c->has_burst && put_u64 (fd, "cpu.max.burst", c->burst, "cpu.burst", err) < 0)
    return -1;
  if (c->has_idle && put_i64 (fd, "cpu.idle", c->idle, "cpu.idle", err) < 0)
    return -1;
  return 0;
}

/* One io.max line per device, with the keys the config gives for it, in order of first mention.  */
static int
v2_io_max (int fd, const struct husk_block_io *b, struct husk_err *err)
{
  const struct
  {
    const struct husk_throttle_device *d;
    size_t n;
    const char *key;
  } thr[] = {
    { b->throttle_read_bps_device, b->n_throttle_read_bps_device, "rbps" },
    { b->throttle_write_bps_device, b->n_throttle_write_bps_device, "wbps" },
    { b->throttle_read_iops_device, b->n_throttle_read_iops_device, "riops" },
    { b->throttle_write_iops_device, b->n_throttle_write_iops_device, "wiops" },
  };

  for (size_t t = 0; t < ARRAY_SIZE (thr); t++)
    for (size_t i = 0; i < thr[t].n; i++)
      {
        const struct husk_throttle_device *d = &thr[t].d[i];
        bool seen = false;
        /* Done already when an earlier list (or an earlier entry of this one) named the device.  */
        for (size_t u = 0; u <= t && !seen; u++)
          for (size_t j = 0; j < (u == t ? i : thr[u].n) && !seen; j++)
            seen = thr[u].d[j].major == d->major && thr[u].d[j].minor == d->minor;
        if (seen)
          continue;
        cleanup_free char *line = xasprintf ("%" PRId64 ":%" PRId64, d->major, d->minor);
        for (size_t u = t; u < ARRAY_SIZE (thr); u++)
          for (size_t j = 0; j < thr[u].n; j++)
            if (thr[u].d[j].major == d->major && thr[u].d[j].minor == d->minor)
              {
                char *l = xasprintf ("%s %s=%" PRIu64, line, thr[u].key, thr[u].d[j].rate);
                free (line);
                line = l;
              }
        if (put_line (fd, "io.max", line, "blockIO", err) < 0)
          return -1;
      }
  return 0;
}

static int
v2_io (int fd, const struct husk_block_io *b, struct husk_err *err)
{
  /* BFQ takes the blkio weight as it is; otherwise io.weight (iocost), scaled to 1..10000.  */
  bool bfq = exists (fd, "io.bfq.weight");
  const char *file = bfq ? "io.bfq.weight" : "io.weight";

  char line[64];

  if (b->has_weight && b->weight != 0)
    {
      /* The default weight, as a line of the same file as the per-device ones.  */
      snprintf (line, sizeof line, "%" PRIu64,
                bfq ? (uint64_t) b->weight : resources_blkio_to_io_weight (b->weight));
      if (put_line (fd, file, line, "blockIO.weight", err) < 0)
        return -1;
    }
  for (size_t i = 0; i < b->n_weight_device; i++)
    {
      const struct husk_weight_device *d = &b->weight_device[i];
      cleanup_free char *field = xasprintf ("blockIO.weightDevice[%zu]", i);
      if (!d->has_weight)
        continue;
      snprintf (line, sizeof line, "%" PRId64 ":%" PRId64 " %" PRIu64, d->major, d->minor,
                bfq ? (uint64_t) d->weight : resources_blkio_to_io_weight (d->weight));
      if (put_line (fd, file, line, field, err) < 0)
        return -1;
    }
  return v2_io_max (fd, b, err);
}

/* linux.resources.unified, after everything else so that it has the last word (as runc, crun).  */
static int
v2_unified (int fd, const struct husk_resources *r, const char *ctls, struct husk_err *err)
{
  for (size_t i = 0; i < r->n_unified; i++)
    {
      const char *k = r->unified[i].key, *v = r->unified[i].value != NULL ? r->unified[i].value : "";
      cleanup_free char *field = xasprintf ("unified[\"%s\"]", k);
      if (!exists (fd, k) && strchr (k, '.') != NULL)
        {
          /* "memory.high" without the memory controller: say so rather than "no such file".  */
          cleanup_free char *ctl = xstrdup (k);
          *strchr (ctl, '.') = '\0';
          if (strcmp (ctl, "cgroup") != 0 && v2_need (ctls, ctl, field, err) < 0)
            return -1;
        }
      if (put (fd, k, v, field, err) < 0)
        return -1;
    }
  return 0;
}

int
resources_apply_v2 (const struct husk_resources *r, int dirfd, struct husk_err *err)
{
  cleanup_free char *ctls = NULL;

  if (r == NULL)
    return 0;
  if (resources_check (r, true, err) < 0)
    return -1;
  ctls = read_file_at (dirfd, "cgroup.controllers", 4096, NULL, err);
  if (ctls == NULL)
    return -1;
  if (memory_any (r->memory)
      && (v2_need (ctls, "memory", "memory", err) < 0 || v2_memory (dirfd, r->memory, err) < 0))
    return -1;
  if (cpuset_any (r->cpu)
      && (v2_need (ctls, "cpuset", "cpu.cpus", err) < 0 || put_cpuset (dirfd, r->cpu, err) < 0))
    return -1;
  if (cpu_any (r->cpu) && (v2_need (ctls, "cpu", "cpu", err) < 0 || v2_cpu (dirfd, r->cpu, err) < 0))
    return -1;
  if (r->has_pids_limit
      && (v2_need (ctls, "pids", "pids", err) < 0
          || put_max (dirfd, "pids.max", r->pids_limit > 0 ? r->pids_limit : -1, "pids.limit", err) < 0))
    return -1;
  if (blkio_any (r->block_io)
      && (v2_need (ctls, "io", "blockIO", err) < 0 || v2_io (dirfd, r->block_io, err) < 0))
    return -1;
  if (r->n_hugepage_limits > 0
      && (v2_need (ctls, "hugetlb", "hugepageLimits", err) < 0
          || put_hugetlb (dirfd, r, "max", "rsvd.max", err) < 0))
    return -1;
  if (rdma_any (r) && (v2_need (ctls, "rdma", "rdma", err) < 0 || put_rdma (dirfd, r, err) < 0))
    return -1;
  return v2_unified (dirfd, r, ctls, err);
}
