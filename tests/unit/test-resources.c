/* Unit tests for linux.resources (src/cgroup/resources.c): the pure conversions; the v1 and v2
 * writers against a temporary directory of plain files standing in for the control files (a file
 * left out plays a control file this host does not have); then, as root on a host with v1
 * memory, cpu and pids hierarchies, the real thing in "husk-restest-<pid>" directly under each
 * hierarchy root, removed in every case (also from .fini when an assertion fails).  */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/resources.h"
#include "spec.h"
#include "util.h"

/* ---- a fake cgroup directory ---- */

static char fake_path[64];

/* A temporary directory holding the files of the NULL-terminated FILES; "name=content" gives
 * a file content.  Returns an O_PATH fd of it.  */
static int
fake_dir (const char *const *files)
{
  strcpy (fake_path, "/tmp/husk-restest-XXXXXX");
  cr_assert_not_null (mkdtemp (fake_path));
  int dfd = open (fake_path, O_DIRECTORY | O_CLOEXEC);
  cr_assert_geq (dfd, 0);
  for (size_t i = 0; files[i] != NULL; i++)
    {
      cleanup_free char *name = xstrdup (files[i]);
      char *content = strchr (name, '=');
      if (content != NULL)
        *content++ = '\0';
      int fd = openat (dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      cr_assert_geq (fd, 0, "create %s", name);
      if (content != NULL)
        cr_assert_eq (write (fd, content, strlen (content)), (ssize_t) strlen (content));
      close (fd);
    }
  int pfd = open (fake_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  cr_assert_geq (pfd, 0);
  close (dfd);
  return pfd;
}

static void
fake_dir_remove (void)
{
  if (fake_path[0] == '\0')
    return;
  DIR *d = opendir (fake_path);
  if (d != NULL)
    {
      struct dirent *e;
      while ((e = readdir (d)) != NULL)
        if (e->d_name[0] != '.')
          unlinkat (dirfd (d), e->d_name, 0);
      closedir (d);
    }
  rmdir (fake_path);
  fake_path[0] = '\0';
}

/* The content of NAME in DIRFD (asserts it exists).  */
static char *
content (int dirfd, const char *name)
{
  struct husk_err err = { 0 };
  char *s = read_file_at (dirfd, name, 65536, NULL, &err);
  cr_assert_not_null (s, "read %s: %s", name, err.msg);
  return s;
}

#define assert_file(fd, name, want)                                                                          \
  do                                                                                                         \
    {                                                                                                        \
      cleanup_free char *_got = content (fd, name);                                                          \
      cr_assert_str_eq (_got, want, "%s: got '%s', want '%s'", name, _got, want);                            \
    }                                                                                                        \
  while (0)

/* Run CALL (which uses `err`), expect -1 and an error message containing SUBSTR.  */
#define expect_fail(call, substr)                                                                            \
  do                                                                                                         \
    {                                                                                                        \
      struct husk_err err = { 0 };                                                                           \
      cr_assert_eq ((call), -1, "expected failure with '%s'", substr);                                       \
      cr_assert_not_null (strstr (err.msg, substr), "message '%s' lacks '%s'", err.msg, substr);             \
    }                                                                                                        \
  while (0)

#define expect_ok(call)                                                                                      \
  do                                                                                                         \
    {                                                                                                        \
      struct husk_err err = { 0 };                                                                           \
      cr_assert_eq ((call), 0, "failed: %s (errno %d)", err.msg, err.errnum);                                \
    }                                                                                                        \
  while (0)

/* ---- pure conversions ---- */

Test (conv, shares_to_weight)
{
  cr_assert_eq (resources_shares_to_weight (2), 1);
  cr_assert_eq (resources_shares_to_weight (1024), 39);
  cr_assert_eq (resources_shares_to_weight (262144), 10000);
  cr_assert_eq (resources_shares_to_weight (1), 1);
  cr_assert_eq (resources_shares_to_weight (1000000), 10000);
  cr_assert_eq (resources_shares_to_weight (512), 1 + 510 * 9999 / 262142);
}

Test (conv, blkio_to_io_weight)
{
  cr_assert_eq (resources_blkio_to_io_weight (10), 1);
  cr_assert_eq (resources_blkio_to_io_weight (1000), 10000);
  cr_assert_eq (resources_blkio_to_io_weight (100), 910);
  cr_assert_eq (resources_blkio_to_io_weight (500), 4950);
}

Test (conv, cpu_max)
{
  char buf[64];

  cr_assert (resources_v2_cpu_max (&(struct husk_cpu){ .has_quota = true, .quota = -1 }, buf, sizeof buf));
  cr_assert_str_eq (buf, "max 100000");
  cr_assert (resources_v2_cpu_max (&(struct husk_cpu){ .has_quota = true, .quota = 0 }, buf, sizeof buf));
  cr_assert_str_eq (buf, "max 100000");
  cr_assert (resources_v2_cpu_max (&(struct husk_cpu){ .has_quota = true, .quota = 50000 }, buf, sizeof buf));
  cr_assert_str_eq (buf, "50000 100000");
  cr_assert (resources_v2_cpu_max (
      &(struct husk_cpu){ .has_quota = true, .quota = 150000, .has_period = true, .period = 200000 }, buf,
      sizeof buf));
  cr_assert_str_eq (buf, "150000 200000");
  cr_assert (
      resources_v2_cpu_max (&(struct husk_cpu){ .has_period = true, .period = 50000 }, buf, sizeof buf));
  cr_assert_str_eq (buf, "max 50000");
  cr_assert_not (
      resources_v2_cpu_max (&(struct husk_cpu){ .has_shares = true, .shares = 5 }, buf, sizeof buf));
}

#define MB (INT64_C (1) << 20)

Test (conv, v2_swap_max)
{
  struct husk_err err = { 0 };
  int64_t out = 12345;

  cr_assert_eq (
      resources_v2_swap_max (
          &(struct husk_memory){ .has_limit = true, .limit = 100 * MB, .has_swap = true, .swap = 300 * MB },
          &out, &err),
      1);
  cr_assert_eq (out, 200 * MB);
  cr_assert_eq (
      resources_v2_swap_max (
          &(struct husk_memory){ .has_limit = true, .limit = 100 * MB, .has_swap = true, .swap = 100 * MB },
          &out, &err),
      1);
  cr_assert_eq (out, 0);
  cr_assert_eq (
      resources_v2_swap_max (
          &(struct husk_memory){ .has_limit = true, .limit = 100 * MB, .has_swap = true, .swap = -1 }, &out,
          &err),
      1);
  cr_assert_eq (out, -1);
  cr_assert_eq (resources_v2_swap_max (&(struct husk_memory){ .has_limit = true, .limit = -1 }, &out, &err),
                1);
  cr_assert_eq (out, -1);
  out = 7;
  cr_assert_eq (
      resources_v2_swap_max (&(struct husk_memory){ .has_limit = true, .limit = 100 * MB }, &out, &err), 0);
  cr_assert_eq (
      resources_v2_swap_max (
          &(struct husk_memory){ .has_limit = true, .limit = 100 * MB, .has_swap = true, .swap = 0 }, &out,
          &err),
      0);
  cr_assert_eq (out, 7);
  expect_fail (
      resources_v2_swap_max (
          &(struct husk_memory){ .has_limit = true, .limit = 100 * MB, .has_swap = true, .swap = 50 * MB },
          &out, &err),
      "linux.resources.memory.swap: must be >= memory.limit");
  expect_fail (resources_v2_swap_max (&(struct husk_memory){ .has_swap = true, .swap = 50 * MB }, &out, &err),
               "memory.swap: a swap limit needs a memory.limit");
  expect_fail (resources_v2_swap_max (
                   &(struct husk_memory){ .has_limit = true, .limit = -1, .has_swap = true, .swap = 50 * MB },
                   &out, &err),
               "memory.swap: a swap limit needs a memory.limit");
}

Test (conv, v1_memsw_order)
{
  const uint64_t unlimited = UINT64_C (9223372036854771712);

  /* A new cgroup: memsw unlimited, so the memory limit can go first.  */
  cr_assert_not (resources_v1_memsw_first (unlimited, 100 * MB));
  /* Growing past the current memsw limit: memsw first.  */
  cr_assert (resources_v1_memsw_first (200 * MB, 300 * MB));
  /* Shrinking, or growing within the current memsw: the limit first.  */
  cr_assert_not (resources_v1_memsw_first (200 * MB, 100 * MB));
  cr_assert_not (resources_v1_memsw_first (200 * MB, 200 * MB));
  /* Unlimited memory: memsw must become unlimited first, unless it already is.  */
  cr_assert (resources_v1_memsw_first (200 * MB, -1));
  cr_assert_not (resources_v1_memsw_first (unlimited, -1));
}

Test (conv, v2_controllers)
{
  struct husk_annotation unified[]
      = { { "memory.high", "1M" }, { "misc.max", "x 1" }, { "cgroup.max.depth", "3" } };
  struct husk_resources r = {
    .cpu = &(struct husk_cpu){ .cpus = "0-1" },
    .has_pids_limit = true,
    .pids_limit = 5,
    .unified = unified,
    .n_unified = 3,
  };

  cr_assert_eq (resources_v2_controllers (&r),
                RESOURCES_V2_CPUSET | RESOURCES_V2_PIDS | RESOURCES_V2_MEMORY | RESOURCES_V2_MISC);
  r.cpu = &(struct husk_cpu){ .has_shares = true, .shares = 100 };
  r.n_unified = 0;
  r.block_io = &(struct husk_block_io){ .has_weight = true, .weight = 100 };
  r.n_hugepage_limits = 1;
  r.hugepage_limits = &(struct husk_hugepage_limit){ "2MB", 0 };
  cr_assert_eq (resources_v2_controllers (&r),
                RESOURCES_V2_CPU | RESOURCES_V2_PIDS | RESOURCES_V2_IO | RESOURCES_V2_HUGETLB);
  cr_assert_eq (resources_v2_controllers (NULL), 0);
  cr_assert_str_eq (resources_v2_controller_name (RESOURCES_V2_IO), "io");
  cr_assert_null (resources_v2_controller_name (3));
}

Test (check, ranges_and_versions)
{
  struct husk_resources r;

  r = (struct husk_resources){ .memory = &(struct husk_memory){ .has_swappiness = true, .swappiness = 101 } };
  expect_fail (resources_check (&r, false, &err), "linux.resources.memory.swappiness: must be 0..100");
  r = (struct husk_resources){ .memory = &(struct husk_memory){ .has_swappiness = true, .swappiness = 0 } };
  expect_fail (resources_check (&r, true, &err), "memory.swappiness: not supported on cgroup v2");
  expect_ok (resources_check (&r, false, &err));
  r = (struct husk_resources){ .memory = &(struct husk_memory){ .has_limit = true, .limit = -2 } };
  expect_fail (resources_check (&r, false, &err), "memory.limit: must be -1");
  r = (struct husk_resources){ .memory = &(struct husk_memory){ .has_disable_oom_killer = true,
                                                                .disable_oom_killer = true } };
  expect_fail (resources_check (&r, true, &err), "memory.disableOOMKiller: not supported on cgroup v2");
  r = (struct husk_resources){ .cpu = &(struct husk_cpu){ .has_shares = true, .shares = 1 } };
  expect_fail (resources_check (&r, false, &err), "cpu.shares: must be 2..262144");
  r = (struct husk_resources){ .cpu = &(struct husk_cpu){ .has_idle = true, .idle = 2 } };
  expect_fail (resources_check (&r, true, &err), "cpu.idle: must be 0 or 1");
  r = (struct husk_resources){ .cpu
                               = &(struct husk_cpu){ .has_realtime_runtime = true, .realtime_runtime = 5 } };
  expect_fail (resources_check (&r, true, &err), "cpu.realtimeRuntime: not supported on cgroup v2");
  r = (struct husk_resources){ .cpu = &(struct husk_cpu){ .cpus = "0-1\n+x" } };
  expect_fail (resources_check (&r, false, &err), "cpu.cpus: invalid cpu list");
  r = (struct husk_resources){ .block_io = &(struct husk_block_io){ .has_weight = true, .weight = 5 } };
  expect_fail (resources_check (&r, false, &err), "blockIO.weight: must be 10..1000");
  r = (struct husk_resources){ .block_io
                               = &(struct husk_block_io){ .has_leaf_weight = true, .leaf_weight = 50 } };
  expect_fail (resources_check (&r, true, &err), "blockIO.leafWeight: not supported on cgroup v2");
  r = (struct husk_resources){ .n_hugepage_limits = 1,
                               .hugepage_limits = &(struct husk_hugepage_limit){ "../2MB", 1 } };
  expect_fail (resources_check (&r, false, &err), "hugepageLimits[0].pageSize: invalid page size '../2MB'");
  r = (struct husk_resources){ .network = &(struct husk_network){ .has_class_id = true, .class_id = 1 } };
  expect_fail (resources_check (&r, true, &err), "linux.resources.network: not supported on cgroup v2");
  r = (struct husk_resources){ .n_unified = 1, .unified = &(struct husk_annotation){ "memory.high", "1" } };
  expect_fail (resources_check (&r, false, &err), "linux.resources.unified: needs cgroup v2");
  expect_ok (resources_check (&r, true, &err));
  const char *bad_keys[]
      = { "cgroup.procs", "cgroup.kill", "cgroup.subtree_control", "../memory.max", "a/b", "..", "" };
  for (size_t i = 0; i < ARRAY_SIZE (bad_keys); i++)
    {
      r.unified = &(struct husk_annotation){ (char *) bad_keys[i], "1" };
      expect_fail (resources_check (&r, true, &err), "is not a writable cgroup file name");
    }
  r.unified = &(struct husk_annotation){ "cgroup.max.descendants", "10" };
  expect_ok (resources_check (&r, true, &err));
}

/* ---- cgroup v1, plain files ---- */

#define V1_UNLIMITED "9223372036854771712"

Test (v1, every_field, .fini = fake_dir_remove)
{
  static const char *const files[] = {
    "memory.limit_in_bytes",
    "memory.memsw.limit_in_bytes=" V1_UNLIMITED,
    "memory.soft_limit_in_bytes",
    "memory.kmem.tcp.limit_in_bytes",
    "memory.swappiness",
    "memory.oom_control",
    "memory.use_hierarchy",
    "cpu.shares",
    "cpu.cfs_quota_us",
    "cpu.cfs_period_us",
    "cpu.cfs_burst_us",
    "cpu.rt_period_us",
    "cpu.rt_runtime_us",
    "cpu.idle",
    "cpuset.cpus",
    "cpuset.mems",
    "pids.max",
    "blkio.bfq.weight",
    "blkio.leaf_weight",
    "blkio.bfq.weight_device",
    "blkio.leaf_weight_device",
    "blkio.throttle.read_bps_device",
    "blkio.throttle.write_bps_device",
    "blkio.throttle.read_iops_device",
    "blkio.throttle.write_iops_device",
    "hugetlb.2MB.limit_in_bytes",
    "hugetlb.2MB.rsvd.limit_in_bytes",
    "hugetlb.1GB.limit_in_bytes",
    "net_cls.classid",
    "net_prio.ifpriomap",
    "rdma.max",
    NULL,
  };
  int fd = fake_dir (files);
  struct husk_weight_device wd[] = { { 8, 0, true, 300, true, 200 }, { 8, 16, true, 20, false, 0 } };
  struct husk_throttle_device rbps[] = { { 8, 0, 1048576 }, { 8, 16, 2048 } }, wiops[] = { { 253, 1, 77 } };
  struct husk_hugepage_limit huge[] = { { "2MB", 4 * MB }, { "1GB", 1 << 30 } };
  struct husk_net_priority prio[] = { { "eth0", 5 }, { "lo", 2 } };
  struct husk_rdma rdma[] = { { "mlx5_0", true, 3, true, 10 }, { "mlx4_1", false, 0, true, 7 } };
  struct husk_resources r = {
    .memory = &(struct husk_memory){ .has_limit = true,
                                     .limit = 100 * MB,
                                     .has_swap = true,
                                     .swap = 200 * MB,
                                     .has_reservation = true,
                                     .reservation = 50 * MB,
                                     .has_kernel = true,
                                     .kernel = 10 * MB, /* no file: warned, ignored */
                                     .has_kernel_tcp = true,
                                     .kernel_tcp = 3 * MB,
                                     .has_swappiness = true,
                                     .swappiness = 0,
                                     .has_disable_oom_killer = true,
                                     .disable_oom_killer = true,
                                     .has_use_hierarchy = true,
                                     .use_hierarchy = true,
                                     .has_check_before_update = true,
                                     .check_before_update = true },
    .cpu = &(struct husk_cpu){ .has_shares = true,
                               .shares = 512,
                               .has_quota = true,
                               .quota = 50000,
                               .has_period = true,
                               .period = 200000,
                               .has_burst = true,
                               .burst = 1000,
                               .has_realtime_runtime = true,
                               .realtime_runtime = 950,
                               .has_realtime_period = true,
                               .realtime_period = 1000,
                               .cpus = "0-1,3",
                               .mems = "0",
                               .has_idle = true,
                               .idle = 1 },
    .has_pids_limit = true,
    .pids_limit = 64,
    .block_io = &(struct husk_block_io){ .has_weight = true,
                                         .weight = 500,
                                         .has_leaf_weight = true,
                                         .leaf_weight = 400,
                                         .weight_device = wd,
                                         .n_weight_device = 2,
                                         .throttle_read_bps_device = rbps,
                                         .n_throttle_read_bps_device = 2,
                                         .throttle_write_iops_device = wiops,
                                         .n_throttle_write_iops_device = 1 },
    .hugepage_limits = huge,
    .n_hugepage_limits = 2,
    .network = &(struct husk_network){ .has_class_id = true,
                                       .class_id = 0x100001,
                                       .priorities = prio,
                                       .n_priorities = 2 },
    .rdma = rdma,
    .n_rdma = 2,
  };
  struct resources_v1_dir dirs[] = {
    { "memory", fd },  { "cpu,cpuacct", fd },      { "cpuset", fd }, { "pids", fd },         { "blkio", fd },
    { "hugetlb", fd }, { "net_cls,net_prio", fd }, { "rdma", fd },   { "name=systemd", -1 },
  };

  expect_ok (resources_apply_v1 (&r, dirs, ARRAY_SIZE (dirs), &err));
  assert_file (fd, "memory.limit_in_bytes", "104857600");
  assert_file (fd, "memory.memsw.limit_in_bytes", "209715200");
  assert_file (fd, "memory.soft_limit_in_bytes", "52428800");
  assert_file (fd, "memory.kmem.tcp.limit_in_bytes", "3145728");
  assert_file (fd, "memory.swappiness", "0");
  assert_file (fd, "memory.oom_control", "1");
  assert_file (fd, "memory.use_hierarchy", "1");
  assert_file (fd, "cpu.shares", "512");
  assert_file (fd, "cpu.cfs_quota_us", "50000");
  assert_file (fd, "cpu.cfs_period_us", "200000");
  assert_file (fd, "cpu.cfs_burst_us", "1000");
  assert_file (fd, "cpu.rt_runtime_us", "950");
  assert_file (fd, "cpu.rt_period_us", "1000");
  assert_file (fd, "cpu.idle", "1");
  assert_file (fd, "cpuset.cpus", "0-1,3");
  assert_file (fd, "cpuset.mems", "0");
  assert_file (fd, "pids.max", "64");
  assert_file (fd, "blkio.bfq.weight", "500");
  assert_file (fd, "blkio.leaf_weight", "400");
  assert_file (fd, "blkio.bfq.weight_device", "8:0 300\n8:16 20\n");
  assert_file (fd, "blkio.leaf_weight_device", "8:0 200\n");
  assert_file (fd, "blkio.throttle.read_bps_device", "8:0 1048576\n8:16 2048\n");
  assert_file (fd, "blkio.throttle.write_bps_device", "");
  assert_file (fd, "blkio.throttle.write_iops_device", "253:1 77\n");
  assert_file (fd, "hugetlb.2MB.limit_in_bytes", "4194304");
  assert_file (fd, "hugetlb.2MB.rsvd.limit_in_bytes", "4194304");
  assert_file (fd, "hugetlb.1GB.limit_in_bytes", "1073741824");
  assert_file (fd, "net_cls.classid", "1048577");
  assert_file (fd, "net_prio.ifpriomap", "eth0 5\nlo 2\n");
  assert_file (fd, "rdma.max", "mlx5_0 hca_handle=3 hca_object=10\nmlx4_1 hca_object=7\n");
  close (fd);
}

Test (v1, unlimited_values, .fini = fake_dir_remove)
{
  static const char *const files[] = { "memory.limit_in_bytes",
                                       "memory.memsw.limit_in_bytes=" V1_UNLIMITED,
                                       "cpu.cfs_quota_us",
                                       "pids.max",
                                       "blkio.weight",
                                       "blkio.bfq.weight",
                                       NULL };
  int fd = fake_dir (files);
  struct husk_resources r = {
    .memory = &(struct husk_memory){ .has_limit = true, .limit = -1 },
    .cpu = &(struct husk_cpu){ .has_quota = true, .quota = -1 },
    .has_pids_limit = true,
    .pids_limit = -1,
    .block_io = &(struct husk_block_io){ .has_weight = true, .weight = 10 },
  };
  struct resources_v1_dir dirs[]
      = { { "memory", fd }, { "cpu,cpuacct", fd }, { "pids", fd }, { "blkio", fd } };

  expect_ok (resources_apply_v1 (&r, dirs, ARRAY_SIZE (dirs), &err));
  assert_file (fd, "memory.limit_in_bytes", "-1");
  assert_file (fd, "memory.memsw.limit_in_bytes", "-1"); /* unlimited memory makes swap unlimited */
  assert_file (fd, "cpu.cfs_quota_us", "-1");
  assert_file (fd, "pids.max", "max");
  assert_file (fd, "blkio.weight", "10"); /* the CFQ file when it exists */
  assert_file (fd, "blkio.bfq.weight", "");
  close (fd);
}

Test (v1, zero_means_unset, .fini = fake_dir_remove)
{
  static const char *const files[]
      = { "memory.limit_in_bytes=x", "cpu.shares=x", "cpu.cfs_period_us=x", NULL };
  int fd = fake_dir (files);
  struct husk_resources r = {
    .memory = &(struct husk_memory){ .has_limit = true, .limit = 0, .has_swap = true, .swap = 0 },
    .cpu = &(struct husk_cpu){ .has_shares = true, .shares = 0, .has_period = true, .period = 0 },
  };
  struct resources_v1_dir dirs[] = { { "memory", fd }, { "cpu", fd } };

  expect_ok (resources_apply_v1 (&r, dirs, ARRAY_SIZE (dirs), &err));
  assert_file (fd, "memory.limit_in_bytes", "x");
  assert_file (fd, "cpu.shares", "x");
  assert_file (fd, "cpu.cfs_period_us", "x");
  close (fd);
}

Test (v1, errors, .fini = fake_dir_remove)
{
  static const char *const files[] = { "memory.limit_in_bytes", "cpu.shares", NULL };
  int fd = fake_dir (files);
  struct resources_v1_dir dirs[] = { { "memory", fd }, { "cpu,cpuacct", fd } };
  struct husk_resources r;

  /* No swap accounting on this "host".  */
  r = (struct husk_resources){ .memory = &(struct husk_memory){
                                   .has_limit = true, .limit = MB, .has_swap = true, .swap = 2 * MB } };
  expect_fail (resources_apply_v1 (&r, dirs, 2, &err),
               "config.json: linux.resources.memory.swap: not supported on this host (no "
               "'memory.memsw.limit_in_bytes')");
  r = (struct husk_resources){ .memory = &(struct husk_memory){
                                   .has_limit = true, .limit = 2 * MB, .has_swap = true, .swap = MB } };
  expect_fail (resources_apply_v1 (&r, dirs, 2, &err), "memory.swap: must be >= memory.limit");
  r = (struct husk_resources){ .n_hugepage_limits = 1,
                               .hugepage_limits = &(struct husk_hugepage_limit){ "2MB", MB } };
  expect_fail (resources_apply_v1 (&r, dirs, 2, &err),
               "config.json: linux.resources.hugepageLimits: the 'hugetlb' controller is not available");
  /* "cpu" must not match "cpuset" or "cpuacct".  */
  struct resources_v1_dir only_acct[] = { { "cpuacct", fd }, { "cpuset", fd } };
  r = (struct husk_resources){ .cpu = &(struct husk_cpu){ .has_shares = true, .shares = 100 } };
  expect_fail (resources_apply_v1 (&r, only_acct, 2, &err), "cpu: the 'cpu' controller is not available");
  r = (struct husk_resources){ .cpu = &(struct husk_cpu){ .has_quota = true, .quota = 20000 } };
  expect_fail (resources_apply_v1 (&r, dirs, 2, &err),
               "cpu.quota: not supported on this host (no 'cpu.cfs_quota_us')");
  r = (struct husk_resources){ .memory = &(struct husk_memory){ .has_swappiness = true, .swappiness = 5 } };
  expect_fail (resources_apply_v1 (&r, dirs, 2, &err), "memory.swappiness: not supported on this host");
  r = (struct husk_resources){ .n_unified = 1, .unified = &(struct husk_annotation){ "memory.high", "1" } };
  expect_fail (resources_apply_v1 (&r, dirs, 2, &err), "unified: needs cgroup v2");
  /* Nothing asked: no controller needed.  */
  r = (struct husk_resources){ .memory = &(struct husk_memory){ 0 }, .network = &(struct husk_network){ 0 } };
  expect_ok (resources_apply_v1 (&r, NULL, 0, &err));
  close (fd);
}

/* ---- cgroup v2, plain files ---- */

#define V2_CONTROLLERS "cgroup.controllers=cpuset cpu io memory hugetlb pids rdma misc\n"

Test (v2, every_field, .fini = fake_dir_remove)
{
  static const char *const files[] = {
    V2_CONTROLLERS,         "memory.max",      "memory.swap.max", "memory.low",       "memory.high",
    "cpu.weight",           "cpu.max",         "cpu.max.burst",   "cpu.idle",         "cpuset.cpus",
    "cpuset.mems",          "pids.max",        "io.weight",       "io.max",           "hugetlb.2MB.max",
    "hugetlb.2MB.rsvd.max", "hugetlb.1GB.max", "rdma.max",        "cgroup.max.depth", NULL,
  };
  int fd = fake_dir (files);
  struct husk_weight_device wd[] = { { 8, 0, true, 100, false, 0 } };
  struct husk_throttle_device rbps[] = { { 8, 0, 1000 }, { 8, 16, 2000 } }, wbps[] = { { 8, 16, 3000 } },
                              riops[] = { { 8, 0, 40 } }, wiops[] = { { 253, 0, 50 } };
  struct husk_hugepage_limit huge[] = { { "2MB", 4 * MB }, { "1GB", 1 << 30 } };
  struct husk_rdma rdma[] = { { "mlx5_0", true, 3, true, 10 } };
  struct husk_annotation unified[]
      = { { "memory.high", "50000000" }, { "cgroup.max.depth", "4" }, { "pids.max", "99" } };
  struct husk_resources r = {
    .memory = &(struct husk_memory){ .has_limit = true,
                                     .limit = 100 * MB,
                                     .has_swap = true,
                                     .swap = 300 * MB,
                                     .has_reservation = true,
                                     .reservation = 10 * MB,
                                     .has_kernel = true,
                                     .kernel = MB,
                                     .has_disable_oom_killer = true,
                                     .disable_oom_killer = false,
                                     .has_use_hierarchy = true,
                                     .use_hierarchy = true },
    .cpu = &(struct husk_cpu){ .has_shares = true,
                               .shares = 1024,
                               .has_quota = true,
                               .quota = 50000,
                               .has_burst = true,
                               .burst = 2000,
                               .cpus = "1",
                               .mems = "0",
                               .has_idle = true,
                               .idle = 0 },
    .has_pids_limit = true,
    .pids_limit = 0,
    .block_io = &(struct husk_block_io){ .has_weight = true,
                                         .weight = 1000,
                                         .weight_device = wd,
                                         .n_weight_device = 1,
                                         .throttle_read_bps_device = rbps,
                                         .n_throttle_read_bps_device = 2,
                                         .throttle_write_bps_device = wbps,
                                         .n_throttle_write_bps_device = 1,
                                         .throttle_read_iops_device = riops,
                                         .n_throttle_read_iops_device = 1,
                                         .throttle_write_iops_device = wiops,
                                         .n_throttle_write_iops_device = 1 },
    .hugepage_limits = huge,
    .n_hugepage_limits = 2,
    .rdma = rdma,
    .n_rdma = 1,
    .unified = unified,
    .n_unified = 3,
  };

  expect_ok (resources_apply_v2 (&r, fd, &err));
  assert_file (fd, "memory.max", "104857600");
  assert_file (fd, "memory.swap.max", "209715200");
  assert_file (fd, "memory.low", "10485760");
  assert_file (fd, "memory.high", "50000000");
  assert_file (fd, "cpu.weight", "39");
  assert_file (fd, "cpu.max", "50000 100000");
  assert_file (fd, "cpu.max.burst", "2000");
  assert_file (fd, "cpu.idle", "0");
  assert_file (fd, "cpuset.cpus", "1");
  assert_file (fd, "cpuset.mems", "0");
  assert_file (fd, "pids.max", "99"); /* "max" from pids.limit 0, then unified has the last word */
  assert_file (fd, "io.weight", "10000\n8:0 910\n");
  assert_file (fd, "io.max", "8:0 rbps=1000 riops=40\n8:16 rbps=2000 wbps=3000\n253:0 wiops=50\n");
  assert_file (fd, "hugetlb.2MB.max", "4194304");
  assert_file (fd, "hugetlb.2MB.rsvd.max", "4194304");
  assert_file (fd, "hugetlb.1GB.max", "1073741824");
  assert_file (fd, "rdma.max", "mlx5_0 hca_handle=3 hca_object=10\n");
  assert_file (fd, "cgroup.max.depth", "4");
  close (fd);
}

Test (v2, weights_and_unlimited, .fini = fake_dir_remove)
{
  static const char *const files[]
      = { V2_CONTROLLERS, "memory.max", "memory.swap.max", "memory.low", "cpu.weight",
          "cpu.max",      "pids.max",   "io.bfq.weight",   "io.weight",  NULL };
  int fd = fake_dir (files);
  struct husk_resources r = {
    .memory
    = &(struct husk_memory){ .has_limit = true, .limit = -1, .has_reservation = true, .reservation = -1 },
    .cpu = &(struct husk_cpu){ .has_shares = true, .shares = 2, .has_quota = true, .quota = -1 },
    .has_pids_limit = true,
    .pids_limit = -1,
    .block_io = &(struct husk_block_io){ .has_weight = true, .weight = 500 },
  };

  expect_ok (resources_apply_v2 (&r, fd, &err));
  assert_file (fd, "memory.max", "max");
  assert_file (fd, "memory.swap.max", "max");
  assert_file (fd, "memory.low", "max");
  assert_file (fd, "cpu.weight", "1");
  assert_file (fd, "cpu.max", "max 100000");
  assert_file (fd, "pids.max", "max");
  assert_file (fd, "io.bfq.weight", "500\n"); /* BFQ: the blkio weight unconverted */
  assert_file (fd, "io.weight", "");
  close (fd);

  /* shares 262144 -> weight 10000; swap == limit -> swap.max 0; memory.swap.max missing and "max".  */
  fake_dir_remove ();
  static const char *const files2[] = { V2_CONTROLLERS, "memory.max", "memory.swap.max", "cpu.weight", NULL };
  fd = fake_dir (files2);
  r = (struct husk_resources){
    .memory = &(struct husk_memory){ .has_limit = true, .limit = 64 * MB, .has_swap = true, .swap = 64 * MB },
    .cpu = &(struct husk_cpu){ .has_shares = true, .shares = 262144 },
  };
  expect_ok (resources_apply_v2 (&r, fd, &err));
  assert_file (fd, "memory.swap.max", "0");
  assert_file (fd, "cpu.weight", "10000");
  close (fd);
  fake_dir_remove ();
  static const char *const files3[] = { V2_CONTROLLERS, "memory.max", NULL };
  fd = fake_dir (files3);
  r = (struct husk_resources){ .memory = &(struct husk_memory){
                                   .has_limit = true, .limit = 64 * MB, .has_swap = true, .swap = -1 } };
  expect_ok (resources_apply_v2 (&r, fd, &err));
  r.memory->swap = 128 * MB;
  expect_fail (resources_apply_v2 (&r, fd, &err),
               "memory.swap: not supported on this host (no 'memory.swap.max')");
  close (fd);
}

Test (v2, errors, .fini = fake_dir_remove)
{
  static const char *const files[] = { "cgroup.controllers=cpu pids\n", "cpu.weight", "pids.max", NULL };
  int fd = fake_dir (files);
  struct husk_resources r;

  r = (struct husk_resources){ .memory = &(struct husk_memory){ .has_limit = true, .limit = MB } };
  expect_fail (resources_apply_v2 (&r, fd, &err),
               "config.json: linux.resources.memory: the 'memory' controller is not available");
  r = (struct husk_resources){ .n_hugepage_limits = 1,
                               .hugepage_limits = &(struct husk_hugepage_limit){ "2MB", MB } };
  expect_fail (resources_apply_v2 (&r, fd, &err),
               "hugepageLimits: the 'hugetlb' controller is not available");
  r = (struct husk_resources){ .n_unified = 1, .unified = &(struct husk_annotation){ "memory.high", "1" } };
  expect_fail (resources_apply_v2 (&r, fd, &err),
               "unified[\"memory.high\"]: the 'memory' controller is not available");
  r = (struct husk_resources){ .n_unified = 1, .unified = &(struct husk_annotation){ "pids.nope", "1" } };
  expect_fail (resources_apply_v2 (&r, fd, &err),
               "unified[\"pids.nope\"]: not supported on this host (no 'pids.nope')");
  r = (struct husk_resources){ .cpu = &(struct husk_cpu){ .has_quota = true, .quota = 10000 } };
  expect_fail (resources_apply_v2 (&r, fd, &err), "cpu.quota: not supported on this host (no 'cpu.max')");
  r = (struct husk_resources){ .block_io = &(struct husk_block_io){ .has_weight = true, .weight = 100 } };
  expect_fail (resources_apply_v2 (&r, fd, &err), "blockIO: the 'io' controller is not available");
  r = (struct husk_resources){ .cpu = &(struct husk_cpu){ .has_shares = true, .shares = 100 } };
  expect_ok (resources_apply_v2 (&r, fd, &err));
  assert_file (fd, "cpu.weight", "4");
  close (fd);
}

Test (v2, enable_controllers, .fini = fake_dir_remove)
{
  static const char *const files[]
      = { "cgroup.controllers=cpu memory pids io\n", "cgroup.subtree_control=memory\n", NULL };
  int fd = fake_dir (files);

  expect_ok (resources_v2_enable (
      fd, RESOURCES_V2_CPU | RESOURCES_V2_MEMORY | RESOURCES_V2_HUGETLB | RESOURCES_V2_IO, &err));
  /* memory was enabled already, hugetlb is not available: only cpu and io are written, one each.  */
  assert_file (fd, "cgroup.subtree_control", "memory\n+cpu\n+io\n");
  close (fd);
}

/* ---- cgroup v1, for real (root, v1 memory/cpu/pids hierarchies) ---- */

static char real_dirs[3][128];

static void
real_remove (void)
{
  for (size_t i = 0; i < ARRAY_SIZE (real_dirs); i++)
    if (real_dirs[i][0] != '\0')
      {
        rmdir (real_dirs[i]);
        real_dirs[i][0] = '\0';
      }
}

Test (real_v1, memory_cpu_pids, .fini = real_remove)
{
  static const char *const ctl[] = { "memory", "cpu", "pids" };
  struct resources_v1_dir dirs[3];
  int fds[3];

  for (size_t i = 0; i < 3; i++)
    {
      char hier[64];
      snprintf (hier, sizeof hier, "/sys/fs/cgroup/%s", ctl[i]);
      if (geteuid () != 0 || access (hier, W_OK) != 0)
        cr_skip_test ("no writable v1 '%s' hierarchy", hier);
    }
  for (size_t i = 0; i < 3; i++)
    {
      snprintf (real_dirs[i], sizeof real_dirs[i], "/sys/fs/cgroup/%s/husk-restest-%d", ctl[i],
                (int) getpid ());
      cr_assert_eq (mkdir (real_dirs[i], 0755), 0, "mkdir %s: %s", real_dirs[i], strerror (errno));
      fds[i] = open (real_dirs[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
      cr_assert_geq (fds[i], 0);
      dirs[i] = (struct resources_v1_dir){ ctl[i], fds[i] };
    }
  bool memsw = access ("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK) == 0;
  struct husk_memory mem = { .has_limit = true,
                             .limit = 64 * MB,
                             .has_swap = memsw,
                             .swap = 128 * MB,
                             .has_reservation = true,
                             .reservation = 32 * MB,
                             .has_swappiness = true,
                             .swappiness = 10 };
  struct husk_cpu cpu = {
    .has_shares = true, .shares = 512, .has_quota = true, .quota = 50000, .has_period = true, .period = 100000
  };
  struct husk_resources r = { .memory = &mem, .cpu = &cpu, .has_pids_limit = true, .pids_limit = 100 };

  expect_ok (resources_apply_v1 (&r, dirs, 3, &err));
  assert_file (fds[0], "memory.limit_in_bytes", "67108864\n");
  assert_file (fds[0], "memory.soft_limit_in_bytes", "33554432\n");
  assert_file (fds[0], "memory.swappiness", "10\n");
  assert_file (fds[1], "cpu.shares", "512\n");
  assert_file (fds[1], "cpu.cfs_quota_us", "50000\n");
  assert_file (fds[1], "cpu.cfs_period_us", "100000\n");
  assert_file (fds[2], "pids.max", "100\n");
  if (memsw)
    {
      assert_file (fds[0], "memory.memsw.limit_in_bytes", "134217728\n");
      /* Growing both past the current memsw (256M > 128M): memsw must go first, or EINVAL.  */
      mem.limit = 256 * MB, mem.swap = 512 * MB;
      expect_ok (resources_apply_v1 (&r, dirs, 3, &err));
      assert_file (fds[0], "memory.limit_in_bytes", "268435456\n");
      assert_file (fds[0], "memory.memsw.limit_in_bytes", "536870912\n");
      /* Shrinking both below the current limit: the limit must go first.  */
      mem.limit = 16 * MB, mem.swap = 32 * MB;
      expect_ok (resources_apply_v1 (&r, dirs, 3, &err));
      assert_file (fds[0], "memory.limit_in_bytes", "16777216\n");
      assert_file (fds[0], "memory.memsw.limit_in_bytes", "33554432\n");
      /* The kernel enforces the invariant (so the tests above prove the order).  */
      struct husk_err err = { 0 };
      cr_assert_eq (write_file_at (fds[0], "memory.limit_in_bytes", "67108864", 8, &err), -1);
      /* Unlimited memory: memsw first, both unlimited.  */
      mem.limit = -1, mem.has_swap = false;
      expect_ok (resources_apply_v1 (&r, dirs, 3, &err));
      assert_file (fds[0], "memory.memsw.limit_in_bytes", V1_UNLIMITED "\n");
      assert_file (fds[0], "memory.limit_in_bytes", V1_UNLIMITED "\n");
    }
  /* Unlimited pids and quota.  */
  r.has_pids_limit = true, r.pids_limit = 0;
  cpu.quota = -1;
  r.memory = NULL;
  expect_ok (resources_apply_v1 (&r, dirs, 3, &err));
  assert_file (fds[2], "pids.max", "max\n");
  assert_file (fds[1], "cpu.cfs_quota_us", "-1\n");
  /* Kernel range errors come back naming the field.  */
  struct husk_resources bad
      = { .cpu = &(struct husk_cpu){ .has_realtime_runtime = true, .realtime_runtime = 2000000 } };
  expect_fail (resources_apply_v1 (&bad, dirs, 3, &err),
               "config.json: linux.resources.cpu.realtimeRuntime: write '2000000' to 'cpu.rt_runtime_us'");
  for (size_t i = 0; i < 3; i++)
    close (fds[i]);
  real_remove ();
  for (size_t i = 0; i < 3; i++)
    {
      char p[128];
      snprintf (p, sizeof p, "/sys/fs/cgroup/%s/husk-restest-%d", ctl[i], (int) getpid ());
      cr_assert_neq (access (p, F_OK), 0, "%s left behind", p);
    }
}
