/* Resource usage of a container's cgroup, for `husk events`: cpu, memory, pids, block IO and huge
 * pages read from the control files of cgroup v1 or cgroup v2, and written as the JSON event
 * runc's `events` prints ({"type":"stats","id":ID,"data":{...}}), which containerd's runc shim
 * reads.  The OCI runtime spec has no operation for statistics; this is runc's command line.
 *
 * Every control file is optional: one the host lacks (a controller not mounted, no swap
 * accounting, an older kernel) leaves its fields 0, never an error.  Units: bytes, nanoseconds,
 * counts.  */
#ifndef HUSK_CGROUP_STATS_H
#define HUSK_CGROUP_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgroup/resources.h"
#include "error.h"

/* Where the stats come from: the container's directory in each v1 hierarchy (V1, N_V1 of them;
 * the controllers are told apart by their names, e.g. "cpu,cpuacct"), or, when V2FD >= 0, its
 * cgroup2 directory (and V1 is ignored).  The fds may be O_PATH; they stay the caller's.  */
struct stats_source
{
  const struct resources_v1_dir *v1;
  size_t n_v1;
  int v2fd;
};

/* One line of a block IO table: device MAJOR:MINOR, operation ("Read", "Write", "Sync", "Async",
 * "Discard", "Total"), VALUE in bytes or operations.  */
struct stats_blkio_entry
{
  uint64_t major, minor;
  char op[16];
  uint64_t value;
};

/* Usage (bytes now), limit (bytes; "max" on v2 is UINT64_MAX), max (the peak, bytes) and failcnt
 * (times the limit was hit) of one memory counter.  */
struct stats_memory_entry
{
  uint64_t usage, limit, max, failcnt;
};

/* One huge page size ("2MB", "1GB"): usage and peak in bytes, failcnt.  */
struct stats_hugetlb
{
  char size[16];
  uint64_t usage, max, failcnt;
};

/* One "key value" line of memory.stat.  */
struct stats_kv
{
  char *key;
  uint64_t value;
};

struct cgroup_stats
{
  struct
  {
    uint64_t total, kernel, user;          /* ns of CPU time since the cgroup was made */
    uint64_t *percpu;                      /* ns per CPU (v1 only), N_PERCPU of them */
    uint64_t *percpu_kernel, *percpu_user; /* the same split by mode (v1 only), or NULL */
    size_t n_percpu, n_percpu_kernel, n_percpu_user;
    uint64_t periods, throttled_periods, throttled_time; /* CFS bandwidth; throttled_time in ns */
  } cpu;
  struct
  {
    uint64_t cache; /* page cache bytes: memory.stat "cache" (v1) or "file" (v2) */
    struct stats_memory_entry usage, swap, kernel, kernel_tcp; /* swap is memory+swap, as v1 */
    struct stats_kv *raw; /* memory.stat, sorted by key */
    size_t n_raw;
    uint64_t oom_kills; /* processes killed by the OOM killer in the cgroup */
  } memory;
  struct
  {
    uint64_t current, limit; /* limit 0: unlimited ("max") */
  } pids;
  struct
  {
    struct stats_blkio_entry *service_bytes, *serviced;
    size_t n_service_bytes, n_serviced;
  } blkio;
  struct stats_hugetlb *hugetlb;
  size_t n_hugetlb;
};

/* Read the stats of SRC into ST (zeroed first; free with stats_release).  A missing or unreadable
 * control file is skipped.  Returns 0, or -1 with ERR when SRC has no directory at all.  */
int stats_read (const struct stats_source *src, struct cgroup_stats *st, struct husk_err *err);

/* Free what stats_read put in ST and zero it.  */
void stats_release (struct cgroup_stats *st);

/* The event line runc's `events` prints, without the newline: {"type":TYPE,"id":ID} plus
 * "data":{...} when ST is not NULL.  Field names and omissions follow runc's types/events.go
 * (cpu, memory, pids, blkio, hugetlb; map keys sorted).  Returns a new string.  */
char *stats_event_json (const char *type, const char *id, const struct cgroup_stats *st);

/* How many OOM kills SRC's memory cgroup counted (v1 memory.oom_control, v2 memory.events
 * "oom_kill").  Returns 0 with *COUNT, or -1 (no errno) when the host has no such counter.  */
int stats_oom_kills (const struct stats_source *src, uint64_t *count);

/* An fd that becomes readable (POLLIN) when SRC's memory cgroup may have had an OOM event: on v1
 * an eventfd registered in cgroup.event_control for memory.oom_control (read 8 bytes to clear),
 * on v2 an inotify watch of memory.events (read the events to clear).  Also signalled when the
 * cgroup is removed.  Returns the fd (O_CLOEXEC | O_NONBLOCK), or -1 with ERR.  */
int stats_oom_watch (const struct stats_source *src, struct husk_err *err);

/* Parse a Go-style duration ("5s", "500ms", "1m30s", "1.5s", "100us"; units ns us µs ms s m h)
 * into *NS nanoseconds.  Returns 0, or -1 with ERR ("invalid duration '5x'").  */
int stats_parse_duration (const char *s, uint64_t *ns, struct husk_err *err);

#endif
