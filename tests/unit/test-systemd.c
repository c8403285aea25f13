/* Unit tests for the systemd cgroup driver (src/cgroup/systemd.c and its hook in cgroup.c):
 *  - cgroupsPath parsing: defaults, slice expansion, scopes and slices, every refusal;
 *  - the mapping of linux.resources to unit properties, for each resource, v2 and v1;
 *  - the bus client failing cleanly: no library, no bus (nothing left behind: no fd, no process,
 *    no cgroup), and libsystemd never loaded by the cgroupfs driver;
 *  - the bus client against a fake systemd: a private dbus-daemon and a child process owning
 *    org.freedesktop.systemd1 that logs what it receives (every property type on the wire),
 *    answers StartTransientUnit/StopUnit and emits JobRemoved; as root on a host with a v1
 *    name=systemd hierarchy, the fake also does what systemd does to the cgroups (makes the
 *    scope, moves its PIDs in, removes it on StopUnit), so that cgroup_prepare_driver, cgroup_make,
 *    cgroup_enter_self, cgroup_destroy and cgroup_open run end to end.
 * What the fake cannot prove is how the real systemd treats these properties.  Test cgroups are
 * under "husksdtest<pid>.slice" in every hierarchy and removed in every case (also from .fini).
 * Tests skip without libsystemd.so.0 (libsystemd0), /usr/bin/dbus-daemon (dbus), or root and a
 * hybrid layout (the end-to-end one).  */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

#include "cgroup/cgroup.h"
#include "cgroup/resources.h"
#include "cgroup/systemd.h"
#include "spec.h"
#include "util.h"

#define CONFIG(linux_json) "{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, \"linux\": " linux_json "}"
#define INF UINT64_MAX

static struct husk_spec *
parse (const char *json)
{
  struct husk_err err = { 0 };
  struct husk_spec *spec = spec_parse (json, strlen (json), "config.json", &err);
  cr_assert_not_null (spec, "%s", err.msg);
  return spec;
}

/* ---- path parsing ---------------------------------------------------------------------------- */

static void
check_path (const char *cfg, const char *slice, const char *unit, const char *path, bool is_slice)
{
  struct systemd_cgroup_path p;
  struct husk_err err = { 0 };

  cr_assert_eq (systemd_parse_path (cfg, "c1", &p, &err), 0, "'%s': %s", cfg ? cfg : "(null)", err.msg);
  cr_expect_str_eq (p.slice, slice, "'%s'", cfg ? cfg : "(null)");
  cr_expect_str_eq (p.unit, unit, "'%s'", cfg ? cfg : "(null)");
  cr_expect_str_eq (p.path, path, "'%s'", cfg ? cfg : "(null)");
  cr_expect_eq (p.is_slice, is_slice, "'%s'", cfg ? cfg : "(null)");
  systemd_path_release (&p);
}

static void
check_path_error (const char *cfg, const char *what)
{
  struct systemd_cgroup_path p;
  struct husk_err err = { 0 };

  cr_assert_eq (systemd_parse_path (cfg, "c1", &p, &err), -1, "'%s' accepted", cfg);
  cr_expect (has_prefix (err.msg, "config.json: linux.cgroupsPath: "), "'%s': %s", cfg, err.msg);
  cr_expect_not_null (strstr (err.msg, what), "'%s': '%s' lacks '%s'", cfg, err.msg, what);
  cr_expect_null (p.unit);
  cr_expect_null (p.path);
}

Test (path, defaults)
{
  /* Absent or empty: husk's scope in system.slice (root; user.slice is for rootless).  */
  check_path (NULL, "system.slice", "husk-c1.scope", "/system.slice/husk-c1.scope", false);
  check_path ("", "system.slice", "husk-c1.scope", "/system.slice/husk-c1.scope", false);
  check_path (":crio:abc", "system.slice", "crio-abc.scope", "/system.slice/crio-abc.scope", false);
}

Test (path, scopes)
{
  check_path ("system.slice:docker:1234", "system.slice", "docker-1234.scope", "/system.slice/docker-1234.scope",
              false);
  check_path ("machine.slice:libpod:ab_cd.ef", "machine.slice", "libpod-ab_cd.ef.scope",
              "/machine.slice/libpod-ab_cd.ef.scope", false);
  /* Nested slices expand to one directory per '-'.  */
  check_path ("kubepods-besteffort-pod12.slice:cri-containerd:c9", "kubepods-besteffort-pod12.slice",
              "cri-containerd-c9.scope",
              "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod12.slice/cri-containerd-c9.scope",
              false);
  /* The root slice.  */
  check_path ("-.slice:p:n", "-.slice", "p-n.scope", "/p-n.scope", false);
  /* No prefix: no leading '-'.  */
  check_path ("system.slice::n", "system.slice", "n.scope", "/system.slice/n.scope", false);
}

Test (path, slices)
{
  /* A name ending in ".slice" makes the container a slice, placed by its own name.  */
  check_path ("::system-c1.slice", "system.slice", "system-c1.slice", "/system.slice/system-c1.slice", true);
  check_path ("system.slice:p:system-c1.slice", "system.slice", "system-c1.slice", "/system.slice/system-c1.slice",
              true);
  check_path ("-.slice:p:c1.slice", "-.slice", "c1.slice", "/c1.slice", true);
  check_path ("a-b.slice::a-b-c.slice", "a-b.slice", "a-b-c.slice", "/a.slice/a-b.slice/a-b-c.slice", true);
}

Test (path, expand_slice)
{
  static const struct
  {
    const char *in, *out;
  } good[] = {
    { "system.slice", "/system.slice" },
    { "a-b-c.slice", "/a.slice/a-b.slice/a-b-c.slice" },
    { "-.slice", "" },
    { "a.b-c.slice", "/a.b.slice/a.b-c.slice" },
    { "x\\x2d.slice", "/x\\x2d.slice" },
  };
  static const char *const bad[] = {
    "", ".slice", "system", "foo.service", "a--b.slice", "-a.slice", "a-.slice", "a/b.slice", "a:b.slice",
    "a b.slice", "--.slice",
  };

  for (size_t i = 0; i < ARRAY_SIZE (good); i++)
    {
      struct husk_err err = { 0 };
      cleanup_free char *out = systemd_expand_slice (good[i].in, &err);
      cr_assert_not_null (out, "'%s': %s", good[i].in, err.msg);
      cr_expect_str_eq (out, good[i].out);
    }
  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      struct husk_err err = { 0 };
      cr_expect_null (systemd_expand_slice (bad[i], &err), "'%s' accepted", bad[i]);
      cr_expect_not_null (strstr (err.msg, "invalid slice name"), "'%s': %s", bad[i], err.msg);
    }
}

Test (path, refused)
{
  char long_name[300];

  check_path_error ("/system.slice/foo", "expected \"slice:prefix:name\"");
  check_path_error ("relative/path", "expected \"slice:prefix:name\"");
  check_path_error ("system.slice:foo", "expected \"slice:prefix:name\"");
  check_path_error ("a.slice:b:c:d", "expected \"slice:prefix:name\"");
  check_path_error ("system.slice:p:", "the name (after the second ':') is empty");
  check_path_error ("system:p:n", "invalid slice name 'system'");
  check_path_error ("a--b.slice:p:n", "invalid slice name 'a--b.slice'");
  check_path_error ("-a.slice:p:n", "invalid slice name '-a.slice'");
  check_path_error ("a-.slice:p:n", "invalid slice name 'a-.slice'");
  check_path_error ("a/b.slice:p:n", "invalid slice name 'a/b.slice'");
  check_path_error ("system.slice:p/q:n", "prefix and name may only hold");
  check_path_error ("system.slice:p:n/../x", "prefix and name may only hold");
  check_path_error ("system.slice:p:a b", "prefix and name may only hold");
  check_path_error ("system.slice:p:a@b", "prefix and name may only hold");
  /* A slice container's parent is given by its name.  */
  check_path_error ("user.slice:p:system-c1.slice", "slice 'system-c1.slice' is not a child of 'user.slice'");
  check_path_error ("system.slice:p:c1.slice", "is not a child of 'system.slice'");
  check_path_error ("system.slice:p:system--c1.slice", "invalid slice name 'system--c1.slice'");
  /* Unit names are at most 255 bytes.  */
  memset (long_name, 'x', 250);
  long_name[250] = '\0';
  cleanup_free char *cfg = xasprintf ("system.slice:prefix:%s", long_name);
  check_path_error (cfg, "is not valid (at most 255 bytes)");
}

Test (path, syntax_and_names)
{
  cr_expect (systemd_path_syntax ("a.slice:b:c"));
  cr_expect (systemd_path_syntax (":b:c"));
  cr_expect (systemd_path_syntax ("a:b")); /* refused later, by systemd_parse_path, with its reason */
  cr_expect_not (systemd_path_syntax ("/husk/c1"));
  cr_expect_not (systemd_path_syntax ("husk/c1"));
  cr_expect_not (systemd_path_syntax (NULL));
  cr_expect (systemd_unit_name_valid ("husk-c1.scope"));
  cr_expect (systemd_unit_name_valid ("a:b.scope"));
  cr_expect_not (systemd_unit_name_valid ("husk-c1"));
  cr_expect_not (systemd_unit_name_valid (".scope"));
  cr_expect_not (systemd_unit_name_valid ("a.scope/../b.scope"));
  cr_expect_not (systemd_unit_name_valid ("a@b.scope"));
  cr_expect_not (systemd_unit_name_valid (""));
}

/* ---- bitmasks ---------------------------------------------------------------------------------- */

static void
check_mask (const char *list, const uint8_t *want, size_t n_want)
{
  struct husk_err err = { 0 };
  size_t n;
  cleanup_free uint8_t *bits = systemd_list_bitmask (list, &n, &err);

  cr_assert_not_null (bits, "'%s': %s", list, err.msg);
  cr_assert_eq (n, n_want, "'%s': %zu bytes", list, n);
  for (size_t i = 0; i < n; i++)
    cr_expect_eq (bits[i], want[i], "'%s' byte %zu: %#x, not %#x", list, i, bits[i], want[i]);
}

Test (bitmask, lists)
{
  check_mask ("0", (const uint8_t[]) { 0x01 }, 1);
  check_mask ("0-3", (const uint8_t[]) { 0x0f }, 1);
  check_mask ("0,8", (const uint8_t[]) { 0x01, 0x01 }, 2);
  check_mask ("1-2,7,9-10", (const uint8_t[]) { 0x86, 0x06 }, 2);
  check_mask ("63", (const uint8_t[]) { 0, 0, 0, 0, 0, 0, 0, 0x80 }, 8);
  check_mask ("8-15,0-7", (const uint8_t[]) { 0xff, 0xff }, 2);
  check_mask ("2\n", (const uint8_t[]) { 0x04 }, 1);
}

Test (bitmask, invalid)
{
  static const char *const bad[] = { "", "a", "3-1", "1,", ",1", "1--2", "1-", "-1", "65536", "0-65536", "1 2" };

  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      struct husk_err err = { 0 };
      size_t n;
      cr_expect_null (systemd_list_bitmask (bad[i], &n, &err), "'%s' accepted", bad[i]);
      cr_expect_not_null (strstr (err.msg, "invalid list"), "'%s': %s", bad[i], err.msg);
    }
}

/* ---- property mapping -------------------------------------------------------------------------- */

static const char proc_devices[] = "Character devices:\n  1 mem\n  4 /dev/vc/0\n  4 tty\n  4 ttyS\n"
                                   "  5 /dev/tty\n 10 misc\n136 pts\n137 pts\n226 drm\n\n"
                                   "Block devices:\n  7 loop\n  8 sd\n";

static struct systemd_props props;
static struct systemd_cgroup_path ppath;

static void
props_fini (void)
{
  systemd_props_release (&props);
  systemd_path_release (&ppath);
}

/* Map the config LINUX_JSON for cgroupsPath CFG.  Returns 0 or -1 (ERR).  */
static int
map (const char *cfg, const char *linux_json, bool v2, unsigned version, struct husk_err *err)
{
  cleanup_free char *json = xasprintf (CONFIG ("%s"), linux_json);
  cleanup_spec struct husk_spec *spec = parse (json);
  struct systemd_map_opts o = {
    .v2 = v2, .version = version, .description = "husk container c1", .pid = 4242, .proc_devices = proc_devices,
  };

  systemd_props_release (&props);
  systemd_path_release (&ppath);
  cr_assert_eq (systemd_parse_path (cfg, "c1", &ppath, err), 0, "%s", err->msg);
  return systemd_unit_properties (&ppath, spec, &o, &props, err);
}

static void
map_ok (const char *linux_json, bool v2, unsigned version)
{
  struct husk_err err = { 0 };
  cr_assert_eq (map (NULL, linux_json, v2, version, &err), 0, "%s", err.msg);
}

static const struct systemd_prop *
want (const char *name, const char *sig)
{
  const struct systemd_prop *p = systemd_props_find (&props, name);
  cr_assert_not_null (p, "no %s", name);
  cr_assert_str_eq (p->sig, sig, "%s", name);
  return p;
}

static void
want_u64 (const char *name, uint64_t v)
{
  const struct systemd_prop *p = want (name, "t");
  cr_expect_eq (p->u64, v, "%s = %" PRIu64 ", not %" PRIu64, name, p->u64, v);
}

static void
want_bool (const char *name, bool v)
{
  cr_expect_eq (want (name, "b")->b, v, "%s", name);
}

static void
want_none (const char *name)
{
  cr_expect_null (systemd_props_find (&props, name), "unexpected %s", name);
}

TestSuite (props, .fini = props_fini);

Test (props, scope_basics)
{
  map_ok ("{}", true, 0);
  cr_expect_str_eq (want ("Description", "s")->str, "husk container c1");
  cr_expect_str_eq (want ("Slice", "s")->str, "system.slice");
  want_bool ("Delegate", true);
  const struct systemd_prop *p = want ("PIDs", "au");
  cr_assert_eq (p->n, 1);
  cr_expect_eq (p->u32s[0], 4242);
  want_bool ("DefaultDependencies", false);
  want_bool ("MemoryAccounting", true);
  want_bool ("CPUAccounting", true);
  want_bool ("TasksAccounting", true);
  want_bool ("IOAccounting", true);
  want_none ("BlockIOAccounting");
  /* Nothing asked, nothing set; and on v2 no device policy (husk's eBPF program is the allowlist).  */
  want_none ("MemoryMax");
  want_none ("TasksMax");
  want_none ("CPUWeight");
  want_none ("DevicePolicy");
  want_none ("DeviceAllow");
  cr_expect_str_eq (props.v[0].name, "Description");
}

Test (props, slice_unit)
{
  struct husk_err err = { 0 };
  cr_assert_eq (map ("::system-c1.slice", "{}", true, 0, &err), 0, "%s", err.msg);
  want ("Description", "s");
  want_none ("Slice");
  want_none ("Delegate");
  want_none ("PIDs");
  want_bool ("DefaultDependencies", false);
}

Test (props, memory_v2)
{
  map_ok ("{\"resources\": {\"memory\": {\"limit\": 1048576, \"reservation\": 524288, \"swap\": 3145728}}}", true, 0);
  want_u64 ("MemoryMax", 1048576);
  want_u64 ("MemoryLow", 524288);
  want_u64 ("MemorySwapMax", 2097152); /* swap counts memory+swap: 3 MiB - 1 MiB */
  want_none ("MemoryLimit");

  map_ok ("{\"resources\": {\"memory\": {\"limit\": -1}}}", true, 0);
  want_u64 ("MemoryMax", INF);
  want_u64 ("MemorySwapMax", INF); /* unlimited memory, no swap given: swap unlimited too */
  want_none ("MemoryLow");

  map_ok ("{\"resources\": {\"memory\": {\"limit\": 1048576, \"swap\": -1, \"reservation\": -1}}}", true, 0);
  want_u64 ("MemorySwapMax", INF);
  want_u64 ("MemoryLow", INF);

  /* 0 is "not set".  */
  map_ok ("{\"resources\": {\"memory\": {\"limit\": 0, \"swap\": 0}}}", true, 0);
  want_none ("MemoryMax");
  want_none ("MemorySwapMax");

  struct husk_err err = { 0 };
  cr_expect_eq (map (NULL, "{\"resources\": {\"memory\": {\"swap\": 1048576}}}", true, 0, &err), -1);
  cr_expect_not_null (strstr (err.msg, "config.json: linux.resources.memory.swap: "), "%s", err.msg);
  cr_expect_eq (map (NULL, "{\"resources\": {\"memory\": {\"limit\": 2097152, \"swap\": 1048576}}}", true, 0, &err),
                -1);
  cr_expect_not_null (strstr (err.msg, "config.json: linux.resources.memory.swap: "), "%s", err.msg);
}

Test (props, memory_v1)
{
  map_ok ("{\"resources\": {\"memory\": {\"limit\": 1048576, \"reservation\": 524288, \"swap\": 3145728}}}", false,
          0);
  want_u64 ("MemoryLimit", 1048576);
  /* systemd has no v1 reservation nor memsw: cgroupfs writes them.  */
  want_none ("MemoryMax");
  want_none ("MemoryLow");
  want_none ("MemorySwapMax");
  want_bool ("BlockIOAccounting", true);
  want_none ("IOAccounting");
}

Test (props, cpu_v2)
{
  map_ok ("{\"resources\": {\"cpu\": {\"shares\": 1024, \"quota\": 50000, \"period\": 100000, "
          "\"cpus\": \"0-3\", \"mems\": \"0\"}}}",
          true, 0);
  want_u64 ("CPUWeight", resources_shares_to_weight (1024));
  want_u64 ("CPUWeight", 39); /* 1 + (1024 - 2) * 9999 / 262142, as cgroupfs writes cpu.weight */
  want_u64 ("CPUQuotaPerSecUSec", 500000);
  want_u64 ("CPUQuotaPeriodUSec", 100000);
  const struct systemd_prop *p = want ("AllowedCPUs", "ay");
  cr_assert_eq (p->n, 1);
  cr_expect_eq (p->bytes[0], 0x0f);
  p = want ("AllowedMemoryNodes", "ay");
  cr_assert_eq (p->n, 1);
  cr_expect_eq (p->bytes[0], 0x01);
  want_none ("CPUShares");

  /* Whole percents, rounded up: 12345 us per 100 ms is 123450 us per s -> 13%.  */
  map_ok ("{\"resources\": {\"cpu\": {\"quota\": 12345, \"period\": 100000}}}", true, 0);
  want_u64 ("CPUQuotaPerSecUSec", 130000);
  /* No period: the kernel's 100 ms, not sent.  */
  map_ok ("{\"resources\": {\"cpu\": {\"quota\": 20000}}}", true, 0);
  want_u64 ("CPUQuotaPerSecUSec", 200000);
  want_none ("CPUQuotaPeriodUSec");
  /* A period alone, or quota -1: no quota.  */
  map_ok ("{\"resources\": {\"cpu\": {\"period\": 50000}}}", true, 0);
  want_u64 ("CPUQuotaPerSecUSec", INF);
  want_u64 ("CPUQuotaPeriodUSec", 50000);
  map_ok ("{\"resources\": {\"cpu\": {\"quota\": -1}}}", true, 0);
  want_u64 ("CPUQuotaPerSecUSec", INF);
  /* 250 ms per 1 s period: 25%.  */
  map_ok ("{\"resources\": {\"cpu\": {\"quota\": 250000, \"period\": 1000000}}}", true, 0);
  want_u64 ("CPUQuotaPerSecUSec", 250000);
  /* shares 0 is "not set".  */
  map_ok ("{\"resources\": {\"cpu\": {\"shares\": 0}}}", true, 0);
  want_none ("CPUWeight");
}

Test (props, cpu_old_systemd)
{
  /* CPUQuotaPeriodUSec= since 242, AllowedCPUs= since 244: older ones get them through cgroupfs.  */
  const char *cfg = "{\"resources\": {\"cpu\": {\"quota\": 50000, \"period\": 200000, \"cpus\": \"1\"}}}";
  map_ok (cfg, true, 241);
  want_u64 ("CPUQuotaPerSecUSec", 250000);
  want_none ("CPUQuotaPeriodUSec");
  want_none ("AllowedCPUs");
  map_ok (cfg, true, 243);
  want_u64 ("CPUQuotaPeriodUSec", 200000);
  want_none ("AllowedCPUs");
  map_ok (cfg, true, 244);
  want ("AllowedCPUs", "ay");
}

Test (props, cpu_v1)
{
  map_ok ("{\"resources\": {\"cpu\": {\"shares\": 512, \"quota\": 50000, \"period\": 100000, \"cpus\": \"0-1\"}}}",
          false, 0);
  want_u64 ("CPUShares", 512);
  want_u64 ("CPUQuotaPerSecUSec", 500000);
  want_u64 ("CPUQuotaPeriodUSec", 100000);
  want_none ("CPUWeight");
  want_none ("AllowedCPUs"); /* systemd has no v1 cpuset */
}

Test (props, cpu_list_error)
{
  struct husk_err err = { 0 };
  cr_expect_eq (map (NULL, "{\"resources\": {\"cpu\": {\"cpus\": \"3-1\"}}}", true, 0, &err), -1);
  cr_expect_str_eq (err.msg, "config.json: linux.resources.cpu.cpus: invalid list '3-1'");
  cr_expect_eq (map (NULL, "{\"resources\": {\"cpu\": {\"mems\": \"x\"}}}", true, 0, &err), -1);
  cr_expect_str_eq (err.msg, "config.json: linux.resources.cpu.mems: invalid list 'x'");
}

Test (props, pids)
{
  map_ok ("{\"resources\": {\"pids\": {\"limit\": 100}}}", true, 0);
  want_u64 ("TasksMax", 100);
  map_ok ("{\"resources\": {\"pids\": {\"limit\": -1}}}", true, 0);
  want_u64 ("TasksMax", INF);
  map_ok ("{\"resources\": {\"pids\": {\"limit\": 0}}}", false, 0);
  want_u64 ("TasksMax", INF); /* <= 0 is unlimited, as pids.max "max" */
}

Test (props, block_io)
{
  map_ok ("{\"resources\": {\"blockIO\": {\"weight\": 500}}}", true, 0);
  want_u64 ("IOWeight", resources_blkio_to_io_weight (500));
  want_u64 ("IOWeight", 4950); /* 1 + (500 - 10) * 9999 / 990 */
  want_none ("BlockIOWeight");
  map_ok ("{\"resources\": {\"blockIO\": {\"weight\": 500}}}", false, 0);
  want_u64 ("BlockIOWeight", 500);
  want_none ("IOWeight");
}

static bool
has_device (const struct systemd_prop *p, const char *node, const char *access)
{
  for (size_t i = 0; i < p->n; i++)
    if (strcmp (p->devices[i].node, node) == 0 && strcmp (p->devices[i].access, access) == 0)
      return true;
  return false;
}

Test (props, devices_v1_default)
{
  map_ok ("{}", false, 0);
  cr_expect_str_eq (want ("DevicePolicy", "s")->str, "strict");
  const struct systemd_prop *p = want ("DeviceAllow", "a(ss)");
  static const char *const expect[][2] = {
    { "char-*", "m" },         { "block-*", "m" },        { "/dev/char/1:3", "rwm" }, { "/dev/char/1:5", "rwm" },
    { "/dev/char/1:7", "rwm" }, { "/dev/char/1:8", "rwm" }, { "/dev/char/1:9", "rwm" }, { "/dev/char/5:0", "rwm" },
    { "/dev/char/5:1", "rwm" }, { "/dev/char/5:2", "rwm" }, { "char-pts", "rwm" },      { "/dev/char/10:200", "rwm" },
  };
  for (size_t i = 0; i < ARRAY_SIZE (expect); i++)
    cr_expect (has_device (p, expect[i][0], expect[i][1]), "no %s %s", expect[i][0], expect[i][1]);
  cr_expect_eq (p->n, ARRAY_SIZE (expect), "%zu entries", p->n);
}

Test (props, devices_v1_rules)
{
  /* A major with two driver names (4: tty, ttyS; "/dev/vc/0" is no driver name), a whole type, a
   * block device, an allow narrowed by a later deny (left out: systemd cannot deny), an allow
   * with no access, and "any major, one minor" (no systemd form).  */
  map_ok ("{\"resources\": {\"devices\": ["
          "{\"allow\": true, \"type\": \"c\", \"major\": 4, \"access\": \"rw\"},"
          "{\"allow\": true, \"type\": \"b\", \"major\": 8, \"minor\": 0, \"access\": \"r\"},"
          "{\"allow\": true, \"type\": \"c\", \"major\": 226, \"access\": \"rw\"},"
          "{\"allow\": false, \"type\": \"c\", \"major\": 226, \"minor\": 128, \"access\": \"w\"},"
          "{\"allow\": true, \"type\": \"c\", \"minor\": 3, \"access\": \"r\"},"
          "{\"allow\": true, \"type\": \"a\", \"major\": 7, \"access\": \"r\"}"
          "]}, \"devices\": [{\"path\": \"/dev/sda\", \"type\": \"b\", \"major\": 8, \"minor\": 1}]}",
          false, 0);
  cr_expect_str_eq (want ("DevicePolicy", "s")->str, "strict");
  const struct systemd_prop *p = want ("DeviceAllow", "a(ss)");
  cr_expect (has_device (p, "char-tty", "rw"));
  cr_expect (has_device (p, "char-ttyS", "rw"));
  cr_expect (has_device (p, "/dev/block/8:0", "r"));
  cr_expect (has_device (p, "block-loop", "r")); /* 'a' 7:* -> its block half ("loop") */
  cr_expect (has_device (p, "/dev/block/8:1", "rwm")); /* linux.devices */
  for (size_t i = 0; i < p->n; i++)
    {
      cr_expect_null (strstr (p->devices[i].node, "drm"), "%s: a later deny narrows it", p->devices[i].node);
      cr_expect_null (strstr (p->devices[i].node, "/dev/vc"), "%s", p->devices[i].node);
      cr_expect (strcmp (p->devices[i].node, "char-*") != 0 || strcmp (p->devices[i].access, "m") == 0,
                 "%s %s: '*:3' widened", p->devices[i].node, p->devices[i].access);
    }
  cr_expect_eq (p->n, 12 + 5, "%zu entries", p->n);
}

Test (props, devices_v1_allow_all)
{
  /* Every device allowed (privileged): systemd's "auto" with no list allows everything too.  */
  map_ok ("{\"resources\": {\"devices\": [{\"allow\": true, \"access\": \"rwm\"}]}}", false, 0);
  cr_expect_str_eq (want ("DevicePolicy", "s")->str, "auto");
  want_none ("DeviceAllow");
  /* ... unless a later rule denies something: then strict, without the allow-all.  */
  map_ok ("{\"resources\": {\"devices\": [{\"allow\": true, \"access\": \"rwm\"},"
          "{\"allow\": false, \"type\": \"c\", \"major\": 1, \"minor\": 1, \"access\": \"rwm\"}]}}",
          false, 0);
  cr_expect_str_eq (want ("DevicePolicy", "s")->str, "strict");
  const struct systemd_prop *p = want ("DeviceAllow", "a(ss)");
  cr_expect_not (has_device (p, "char-*", "rwm"));
  cr_expect (has_device (p, "/dev/char/1:3", "rwm"));
}

/* ---- failure without systemd ------------------------------------------------------------------- */

static size_t
count_fds (void)
{
  DIR *d = opendir ("/proc/self/fd");
  size_t n = 0;
  struct dirent *e;

  cr_assert_not_null (d);
  while ((e = readdir (d)) != NULL)
    n += e->d_name[0] != '.';
  closedir (d);
  return n - 1; /* the directory's own fd */
}

static bool
maps_have (const char *what)
{
  struct husk_err err;
  cleanup_free char *maps = read_file_at (AT_FDCWD, "/proc/self/maps", 1 << 24, NULL, &err);
  cr_assert_not_null (maps, "%s", err.msg);
  return strstr (maps, what) != NULL;
}

static bool
no_children (void)
{
  return waitpid (-1, NULL, WNOHANG) < 0 && errno == ECHILD;
}

/* Skip a test that needs libsystemd.so.0 on a host without it (the library stays loaded).  */
static void
need_libsystemd (void)
{
  if (dlopen ("libsystemd.so.0", RTLD_LAZY | RTLD_LOCAL) == NULL)
    cr_skip_test ("no libsystemd.so.0 (libsystemd0)");
}

Test (nobus, no_library)
{
  struct husk_err err = { 0 };
  size_t fds = count_fds ();

  systemd_library_override ("libsystemd-husk-test-missing.so.0");
  cr_assert_null (systemd_bus_open (&err));
  cr_expect (has_prefix (err.msg, "systemd cgroup driver: cannot connect to the system bus: "
                                  "libsystemd-husk-test-missing.so.0: cannot open shared object file"),
             "%s", err.msg);
  cr_expect_not (systemd_library_loaded ());
  cr_expect_eq (count_fds (), fds);
  systemd_library_override (NULL);
}

Test (nobus, no_bus)
{
  struct husk_err err = { 0 };
  char text[2048];
  size_t fds;

  need_libsystemd ();
  cr_assert_eq (setenv ("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/husk-test/system_bus_socket", 1), 0);
  fds = count_fds ();
  cr_assert_null (systemd_bus_open (&err));
  cr_expect_str_eq (err.msg, "systemd cgroup driver: cannot connect to the system bus");
  cr_expect_eq (err.errnum, ENOENT, "%s", husk_err_text (&err, text, sizeof text));
  cr_expect (systemd_library_loaded ());
  cr_expect_eq (count_fds (), fds, "an fd was left open");
}

/* The hook in cgroup.c: a "slice:prefix:name" path (or --systemd-cgroup) fails in cgroup_prepare
 * when there is no bus, before anything exists; the cgroupfs driver never loads libsystemd.  */
Test (nobus, cgroup_prepare_fails_clean)
{
  struct husk_err err = { 0 };
  char dir[256];
  struct stat st;
  size_t fds;

  need_libsystemd ();
  cr_assert_eq (setenv ("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/husk-test/system_bus_socket", 1), 0);
  cleanup_free char *json = xasprintf (CONFIG ("{\"cgroupsPath\": \"husksdtest%d.slice:husk:c1\"}"), (int) getpid ());
  cleanup_spec struct husk_spec *spec = parse (json);
  cleanup_spec struct husk_spec *plain = parse (CONFIG ("{}"));

  fds = count_fds ();
  cr_assert_null (cgroup_prepare_driver (spec, "c1", false, &err));
  cr_expect_str_eq (err.msg, "systemd cgroup driver: cannot connect to the system bus");
  cr_expect_null (cgroup_prepare_driver (plain, "c1", true, &err));
  cr_expect_str_eq (err.msg, "systemd cgroup driver: cannot connect to the system bus");
  cr_expect_eq (count_fds (), fds, "an fd was left open");
  cr_expect (no_children (), "a process was left behind");
  snprintf (dir, sizeof dir, "/sys/fs/cgroup/unified/husksdtest%d.slice", (int) getpid ());
  cr_expect (stat (dir, &st) < 0 && errno == ENOENT, "%s exists", dir);
  snprintf (dir, sizeof dir, "/sys/fs/cgroup/husksdtest%d.slice", (int) getpid ());
  cr_expect (stat (dir, &st) < 0 && errno == ENOENT, "%s exists", dir);

  /* Malformed systemd paths fail before any connection.  */
  cleanup_spec struct husk_spec *bad = parse (CONFIG ("{\"cgroupsPath\": \"a:b\"}"));
  cr_expect_null (cgroup_prepare_driver (bad, "c1", false, &err));
  cr_expect (has_prefix (err.msg, "config.json: linux.cgroupsPath: expected \"slice:prefix:name\""), "%s", err.msg);
  cleanup_spec struct husk_spec *abs = parse (CONFIG ("{\"cgroupsPath\": \"/husk/c1\"}"));
  cr_expect_null (cgroup_prepare_driver (abs, "c1", true, &err));
  cr_expect (has_prefix (err.msg, "config.json: linux.cgroupsPath: expected \"slice:prefix:name\""), "%s", err.msg);
}

Test (nobus, cgroupfs_never_loads_libsystemd)
{
  struct husk_err err = { 0 };
  cleanup_spec struct husk_spec *spec = parse (CONFIG ("{\"cgroupsPath\": \"/husk-test/sd-c1\"}"));
  struct systemd_cgroup_path p;
  struct systemd_props pr;
  struct systemd_map_opts o = { .v2 = false, .proc_devices = proc_devices };

  cr_assert_not (maps_have ("libsystemd"));
  /* Parsing and mapping need no library either.  */
  cr_assert_eq (systemd_parse_path (NULL, "c1", &p, &err), 0);
  cr_assert_eq (systemd_unit_properties (&p, spec, &o, &pr, &err), 0);
  systemd_props_release (&pr);
  systemd_path_release (&p);
  struct husk_cgroup *cg = cgroup_prepare (spec, "c1", &err);
  if (cg == NULL)
    cr_log_warn ("cgroup_prepare: %s", err.msg); /* a host without cgroups: the check below still holds */
  cgroup_free (cg);
  cr_expect_not (systemd_library_loaded ());
  cr_expect_not (maps_have ("libsystemd"));
}

/* ---- a fake systemd on a private bus ----------------------------------------------------------- */

/* sd-bus, server side, for the fake (declared here: no libsystemd headers needed).  */
static struct
{
  int (*open_system) (void **bus);
  int (*request_name) (void *bus, const char *name, uint64_t flags);
  int (*add_filter) (void *bus, void **slot, int (*cb) (void *, void *, void *), void *ud);
  int (*is_method_call) (void *m, const char *iface, const char *member);
  int (*read) (void *m, const char *types, ...);
  int (*enter) (void *m, char type, const char *contents);
  int (*exit) (void *m);
  int (*peek) (void *m, char *type, const char **contents);
  int (*read_array) (void *m, char type, const void **ptr, size_t *size);
  int (*reply) (void *m, const char *types, ...);
  int (*reply_errorf) (void *m, const char *name, const char *fmt, ...);
  int (*emit) (void *bus, const char *path, const char *iface, const char *member, const char *types, ...);
  int (*process) (void *bus, void **r);
  int (*wait) (void *bus, uint64_t usec);
  void *(*get_bus) (void *m);
} fk;

static int fake_log_fd = -1;
static uint32_t fake_job_id;

static void __attribute__ ((format (printf, 1, 2)))
fake_log (const char *fmt, ...)
{
  char buf[4096];
  va_list ap;
  va_start (ap, fmt);
  int n = vsnprintf (buf, sizeof buf, fmt, ap);
  va_end (ap);
  (void) write_all (fake_log_fd, buf, (size_t) n < sizeof buf ? (size_t) n : sizeof buf - 1);
}

/* What systemd would do to the cgroups for a scope at PATH holding PID: make it in the hierarchies
 * systemd tracks (name=systemd, the cgroup2 "unified" one) and move PID there; or remove it.  */
static void
fake_cgroup (const char *path, pid_t pid, bool make)
{
  static const char *const roots[] = { "/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified" };

  for (size_t i = 0; i < ARRAY_SIZE (roots); i++)
    {
      char dir[512], procs[600], num[32];
      snprintf (dir, sizeof dir, "%s%s", roots[i], path);
      if (!make)
        {
          (void) rmdir (dir);
          continue;
        }
      char *slash = strrchr (dir, '/');
      *slash = '\0';
      (void) mkdir (dir, 0755);
      *slash = '/';
      (void) mkdir (dir, 0755);
      snprintf (procs, sizeof procs, "%s/cgroup.procs", dir);
      int fd = open (procs, O_WRONLY | O_CLOEXEC);
      int n = snprintf (num, sizeof num, "%d", (int) pid);
      if (fd < 0 || write (fd, num, (size_t) n) != n)
        fake_log ("FAKE-ERROR move %d to %s: %s\n", (int) pid, dir, strerror (errno));
      if (fd >= 0)
        close (fd);
    }
}

/* Log one property "(sv)" of StartTransientUnit as "Name sig value".  Returns 0 at the array's end,
 * 1 after a property, <0 on error.  */
static int
fake_read_prop (void *m, pid_t *pid, char *slice, size_t slice_size)
{
  const char *name, *contents;
  char type;
  int r = fk.enter (m, 'r', "sv");

  if (r <= 0)
    return r;
  if ((r = fk.read (m, "s", &name)) < 0 || (r = fk.peek (m, &type, &contents)) < 0
      || (r = fk.enter (m, 'v', contents)) < 0)
    return r;
  fake_log ("%s %s ", name, contents);
  if (strcmp (contents, "b") == 0)
    {
      int b;
      r = fk.read (m, "b", &b);
      fake_log ("%s", b ? "yes" : "no");
    }
  else if (strcmp (contents, "t") == 0)
    {
      uint64_t t;
      r = fk.read (m, "t", &t);
      if (t == UINT64_MAX)
        fake_log ("infinity");
      else
        fake_log ("%" PRIu64, t);
    }
  else if (strcmp (contents, "s") == 0)
    {
      const char *s;
      r = fk.read (m, "s", &s);
      fake_log ("%s", s);
      if (r >= 0 && strcmp (name, "Slice") == 0)
        snprintf (slice, slice_size, "%s", s);
    }
  else if (strcmp (contents, "au") == 0)
    {
      uint32_t u;
      r = fk.enter (m, 'a', "u");
      while (r >= 0 && (r = fk.read (m, "u", &u)) > 0)
        {
          fake_log ("%" PRIu32 ",", u);
          if (strcmp (name, "PIDs") == 0)
            *pid = (pid_t) u;
        }
      if (r >= 0)
        r = fk.exit (m);
    }
  else if (strcmp (contents, "ay") == 0)
    {
      const uint8_t *p;
      size_t n;
      r = fk.read_array (m, 'y', (const void **) &p, &n);
      for (size_t i = 0; r >= 0 && i < n; i++)
        fake_log ("%02x", p[i]);
    }
  else if (strcmp (contents, "a(ss)") == 0)
    {
      const char *node, *acc;
      r = fk.enter (m, 'a', "(ss)");
      while (r >= 0 && (r = fk.read (m, "(ss)", &node, &acc)) > 0)
        fake_log ("%s=%s,", node, acc);
      if (r >= 0)
        r = fk.exit (m);
    }
  else
    fake_log ("?");
  fake_log ("\n");
  if (r < 0 || (r = fk.exit (m)) < 0 || (r = fk.exit (m)) < 0)
    return r;
  return 1;
}

/* Units the fake started, for StopUnit: name and cgroup path.  */
static char fake_units[8][2][256];
static size_t n_fake_units;

static int
fake_job (void *m, const char *unit, const char *result, bool early)
{
  char job[64];
  void *bus = fk.get_bus (m);

  snprintf (job, sizeof job, "/org/freedesktop/systemd1/job/%" PRIu32, ++fake_job_id);
  if (early)
    (void) fk.emit (bus, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager", "JobRemoved", "uoss",
                    fake_job_id, job, unit, result);
  /* Another unit's job first: the client must wait for its own.  */
  (void) fk.emit (bus, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager", "JobRemoved", "uoss",
                  fake_job_id + 1000, "/org/freedesktop/systemd1/job/9999", "other.scope", "failed");
  int r = fk.reply (m, "o", job);
  if (!early)
    (void) fk.emit (bus, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager", "JobRemoved", "uoss",
                    fake_job_id, job, unit, result);
  return r < 0 ? r : 1;
}

static int
fake_filter (void *m, void *userdata, void *ret_error)
{
  const char *unit, *mode;

  if (fk.is_method_call (m, "org.freedesktop.DBus.Properties", "Get") > 0)
    {
      const char *iface, *prop;
      if (fk.read (m, "ss", &iface, &prop) >= 0 && strcmp (prop, "Version") == 0)
        return fk.reply (m, "v", "s", "252.39-1~deb12u2") < 0 ? -1 : 1;
      return fk.reply_errorf (m, "org.freedesktop.DBus.Error.UnknownProperty", "no %s", prop) < 0 ? -1 : 1;
    }
  if (fk.is_method_call (m, "org.freedesktop.systemd1.Manager", "StartTransientUnit") > 0)
    {
      pid_t pid = 0;
      char slice[256] = "";
      int r;
      if (fk.read (m, "ss", &unit, &mode) < 0 || fk.enter (m, 'a', "(sv)") < 0)
        return -1;
      fake_log ("START %s %s\n", unit, mode);
      while ((r = fake_read_prop (m, &pid, slice, sizeof slice)) > 0)
        ;
      if (r < 0)
        fake_log ("FAKE-ERROR reading properties: %s\n", strerror (-r));
      (void) fk.exit (m);
      if (has_prefix (unit, "exists-"))
        return fk.reply_errorf (m, "org.freedesktop.systemd1.UnitExists", "Unit %s already exists.", unit) < 0 ? -1 : 1;
      if (has_prefix (unit, "jobfail-"))
        return fake_job (m, unit, "failed", false);
      if (pid > 0 && getenv ("FAKE_CGROUPS") != NULL && n_fake_units < ARRAY_SIZE (fake_units))
        {
          struct husk_err err;
          cleanup_free char *sp = systemd_expand_slice (slice, &err);
          snprintf (fake_units[n_fake_units][0], 256, "%s", unit);
          snprintf (fake_units[n_fake_units][1], 256, "%s/%s", sp != NULL ? sp : "/bad", unit);
          fake_cgroup (fake_units[n_fake_units++][1], pid, true);
        }
      return fake_job (m, unit, "done", has_prefix (unit, "early-"));
    }
  if (fk.is_method_call (m, "org.freedesktop.systemd1.Manager", "StopUnit") > 0)
    {
      if (fk.read (m, "ss", &unit, &mode) < 0)
        return -1;
      fake_log ("STOP %s %s\n", unit, mode);
      for (size_t i = 0; i < n_fake_units; i++)
        if (strcmp (fake_units[i][0], unit) == 0)
          {
            fake_cgroup (fake_units[i][1], 0, false);
            fake_units[i][0][0] = '\0';
            return fake_job (m, unit, "done", false);
          }
      if (has_prefix (unit, "stopme-"))
        return fake_job (m, unit, "done", false);
      return fk.reply_errorf (m, "org.freedesktop.systemd1.NoSuchUnit", "Unit %s not loaded.", unit) < 0 ? -1 : 1;
    }
  return 0;
}

/* The fake could not start: tell bus_up (or the test) why on READY_FD, as "WHAT: error\n".  */
static void __attribute__ ((noreturn))
fake_fail (int ready_fd, const char *what, int r)
{
  dprintf (ready_fd, "%s: %s\n", what, r < 0 ? strerror (-r) : "failed");
  _exit (4);
}

/* The fake systemd's process: own org.freedesktop.systemd1, write "R\n" on READY_FD, then answer
 * calls until the bus goes away.  */
static void __attribute__ ((noreturn))
fake_systemd (int ready_fd)
{
  void *h = dlopen ("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL), *bus = NULL, *slot = NULL;
  static const char *const names[] = {
    "sd_bus_open_system", "sd_bus_request_name", "sd_bus_add_filter", "sd_bus_message_is_method_call",
    "sd_bus_message_read", "sd_bus_message_enter_container", "sd_bus_message_exit_container",
    "sd_bus_message_peek_type", "sd_bus_message_read_array", "sd_bus_reply_method_return",
    "sd_bus_reply_method_errorf", "sd_bus_emit_signal", "sd_bus_process", "sd_bus_wait", "sd_bus_message_get_bus",
  };
  void **slots = (void **) &fk;
  int r;

  if (h == NULL)
    fake_fail (ready_fd, "dlopen libsystemd.so.0", 0);
  for (size_t i = 0; i < ARRAY_SIZE (names); i++)
    if ((slots[i] = dlsym (h, names[i])) == NULL)
      fake_fail (ready_fd, names[i], 0);
  if ((r = fk.open_system (&bus)) < 0)
    fake_fail (ready_fd, "connect to the bus", r);
  if ((r = fk.request_name (bus, "org.freedesktop.systemd1", 0)) < 0)
    fake_fail (ready_fd, "request org.freedesktop.systemd1", r);
  if ((r = fk.add_filter (bus, &slot, fake_filter, NULL)) < 0)
    fake_fail (ready_fd, "add the filter", r);
  (void) write (ready_fd, "R\n", 2);
  close (ready_fd);
  for (;;)
    {
      int r = fk.process (bus, NULL);
      if (r < 0)
        _exit (0); /* the bus went away */
      if (r == 0 && fk.wait (bus, UINT64_MAX) < 0)
        _exit (0);
    }
}

static char bus_dir[64];
static pid_t daemon_pid = -1, fake_pid = -1;
static char fake_log_path[128];

static void
stop_pid (pid_t *pid)
{
  if (*pid > 0)
    {
      (void) kill (*pid, SIGKILL);
      (void) waitpid (*pid, NULL, 0);
    }
  *pid = -1;
}

/* Read one line (without its '\n') from FD into BUF (SIZE bytes), waiting at most TIMEOUT_MS in all.
 * Returns its length, or -1 on EOF before a newline, a timeout, or an error (BUF holds what came).  */
static ssize_t
read_line (int fd, char *buf, size_t size, int timeout_ms)
{
  struct timespec start, now;
  size_t n = 0;

  clock_gettime (CLOCK_MONOTONIC, &start);
  buf[0] = '\0';
  while (n + 1 < size)
    {
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      clock_gettime (CLOCK_MONOTONIC, &now);
      long left = timeout_ms - ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000);
      if (left <= 0)
        return -1;
      int p = poll (&pfd, 1, (int) left);
      if (p < 0 && errno == EINTR)
        continue;
      if (p <= 0)
        return -1;
      ssize_t r = read (fd, buf + n, 1);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        return -1;
      if (buf[n] == '\n')
        {
          buf[n] = '\0';
          return (ssize_t) n;
        }
      buf[++n] = '\0';
    }
  return -1;
}

/* Fork the fake systemd (into fake_pid) and return once it owns its name on the bus; a fake that
 * could not start fails the test with its reason.  */
static void
start_fake (void)
{
  int ready[2];
  char line[512];

  cr_assert_eq (pipe2 (ready, O_CLOEXEC), 0);
  fake_pid = fork ();
  cr_assert_geq (fake_pid, 0);
  if (fake_pid == 0)
    {
      close (ready[0]);
      (void) prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
      fake_systemd (ready[1]);
    }
  close (ready[1]);
  ssize_t n = read_line (ready[0], line, sizeof line, 30 * 1000);
  close (ready[0]);
  cr_assert (n >= 0 && strcmp (line, "R") == 0, "the fake systemd did not start: %s",
             line[0] != '\0' ? line : "no answer");
}

/* Start a private dbus-daemon and the fake systemd on it, and point DBUS_SYSTEM_BUS_ADDRESS there.
 * The daemon is waited for through --print-address, which it writes only once it listens: its
 * socket file appears at bind(), before listen(), and a connect() in between is refused.  */
static void
bus_up (void)
{
  char sock[128], listen_addr[160], print_addr[32], addr[512];
  int addr_pipe[2];

  /* Orphaned pin processes come back to us.  */
  (void) prctl (PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  if (access ("/usr/bin/dbus-daemon", X_OK) != 0)
    cr_skip_test ("no dbus-daemon (package dbus)");
  need_libsystemd ();
  strcpy (bus_dir, "/tmp/husk-sdtest-XXXXXX");
  cr_assert_not_null (mkdtemp (bus_dir));
  snprintf (sock, sizeof sock, "%s/bus", bus_dir);
  snprintf (listen_addr, sizeof listen_addr, "--address=unix:path=%s", sock);
  snprintf (fake_log_path, sizeof fake_log_path, "%s/log", bus_dir);
  cr_assert_eq (pipe2 (addr_pipe, O_CLOEXEC), 0);
  daemon_pid = fork ();
  cr_assert_geq (daemon_pid, 0);
  if (daemon_pid == 0)
    {
      int null = open ("/dev/null", O_RDWR);
      (void) prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
      dup2 (null, 0), dup2 (null, 1), dup2 (null, 2);
      (void) fcntl (addr_pipe[1], F_SETFD, 0); /* the write end survives exec */
      snprintf (print_addr, sizeof print_addr, "--print-address=%d", addr_pipe[1]);
      execl ("/usr/bin/dbus-daemon", "dbus-daemon", "--session", "--nofork", "--nopidfile", listen_addr,
             print_addr, (char *) NULL);
      _exit (127);
    }
  close (addr_pipe[1]);
  ssize_t n = read_line (addr_pipe[0], addr, sizeof addr, 30 * 1000);
  close (addr_pipe[0]);
  cr_assert (n > 0, "dbus-daemon did not start: '%s'", addr);
  snprintf (listen_addr, sizeof listen_addr, "unix:path=%s,", sock);
  cr_assert (has_prefix (addr, listen_addr), "dbus-daemon listens on '%s', not on %s", addr, sock);
  cr_assert_eq (setenv ("DBUS_SYSTEM_BUS_ADDRESS", addr, 1), 0);
  fake_log_fd = open (fake_log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  cr_assert_geq (fake_log_fd, 0);
  start_fake ();
}

static char test_slice[64];

/* Remove DIR's subdirectories and DIR (cgroup directories: rmdir only).  */
static void
rmdir_tree (const char *dir)
{
  DIR *d = opendir (dir);
  struct dirent *e;

  if (d == NULL)
    return;
  while ((e = readdir (d)) != NULL)
    if (e->d_type == DT_DIR && e->d_name[0] != '.')
      {
        cleanup_free char *sub = xasprintf ("%s/%s", dir, e->d_name);
        rmdir_tree (sub);
      }
  closedir (d);
  /* Processes this test left in its own slice (after a failed assertion): kill them first.  */
  for (int i = 0; i < 200 && rmdir (dir) < 0 && errno == EBUSY; i++)
    {
      struct husk_err err;
      cleanup_free char *procs_file = xasprintf ("%s/cgroup.procs", dir);
      cleanup_free char *procs = read_file_at (AT_FDCWD, procs_file, 1 << 16, NULL, &err);
      for (char *l = procs != NULL ? strtok (procs, "\n") : NULL; l != NULL; l = strtok (NULL, "\n"))
        if (atoi (l) > 0)
          (void) kill (atoi (l), SIGKILL);
      while (waitpid (-1, NULL, WNOHANG) > 0)
        ;
      struct timespec ts = { 0, 10 * 1000 * 1000 };
      nanosleep (&ts, NULL);
    }
}

static void
cgroups_cleanup (void)
{
  DIR *d;
  struct dirent *e;

  if (test_slice[0] == '\0' || (d = opendir ("/sys/fs/cgroup")) == NULL)
    return;
  while ((e = readdir (d)) != NULL)
    if (e->d_name[0] != '.')
      {
        cleanup_free char *dir = xasprintf ("/sys/fs/cgroup/%s/%s", e->d_name, test_slice);
        rmdir_tree (dir);
      }
  closedir (d);
}

static void
bus_down (void)
{
  stop_pid (&fake_pid);
  stop_pid (&daemon_pid);
  cgroups_cleanup ();
  while (waitpid (-1, NULL, WNOHANG) > 0)
    ;
  if (fake_log_fd >= 0)
    close (fake_log_fd);
  if (bus_dir[0] != '\0')
    {
      cleanup_free char *cmd = xasprintf ("rm -rf '%s'", bus_dir);
      (void) system (cmd);
    }
}

static char *
fake_log_text (void)
{
  struct husk_err err;
  char *s = read_file_at (AT_FDCWD, fake_log_path, 1 << 20, NULL, &err);
  cr_assert_not_null (s, "%s", err.msg);
  return s;
}

static void
expect_log (const char *log, const char *line)
{
  cleanup_free char *l = xasprintf ("%s\n", line);
  cr_expect_not_null (strstr (log, l), "the fake systemd did not get '%s':\n%s", line, log);
}

TestSuite (fakebus, .init = bus_up, .fini = bus_down, .timeout = 60);

Test (fakebus, connect_and_version)
{
  struct husk_err err = { 0 };
  struct systemd_bus *b = systemd_bus_open (&err);
  cr_assert_not_null (b, "%s", err.msg);
  cr_expect_eq (systemd_bus_version (b), 252);
  systemd_bus_close (b);
}

Test (fakebus, no_systemd_on_the_bus)
{
  struct husk_err err = { 0 };
  stop_pid (&fake_pid);
  cr_assert_null (systemd_bus_open (&err));
  cr_expect (has_prefix (err.msg, "systemd cgroup driver: systemd does not answer on the system bus: "), "%s",
             err.msg);
  /* ServiceUnknown, or Spawn.ChildExited where systemd's package left a bus service file.  */
  cr_expect_not_null (strstr (err.msg, "(org.freedesktop.DBus.Error."), "%s", err.msg);
}

/* Every property type on the wire, and the waiting for the job.  */
Test (fakebus, start_transient_unit)
{
  struct husk_err err = { 0 };
  struct systemd_cgroup_path p;
  struct systemd_props pr;
  struct systemd_map_opts o = { .v2 = false, .version = 252, .description = "husk container c1", .pid = 4242,
                                .proc_devices = proc_devices };
  cleanup_spec struct husk_spec *spec = parse (CONFIG (
      "{\"resources\": {\"memory\": {\"limit\": 1048576}, \"pids\": {\"limit\": -1}, \"cpu\": {\"cpus\": \"0-3\"}}}"));
  struct systemd_bus *b = systemd_bus_open (&err);
  cr_assert_not_null (b, "%s", err.msg);

  cr_assert_eq (systemd_parse_path ("machine.slice:sdtest:c1", "c1", &p, &err), 0, "%s", err.msg);
  cr_assert_eq (systemd_unit_properties (&p, spec, &o, &pr, &err), 0, "%s", err.msg);
  /* A v2 property list too, for "ay" (AllowedCPUs).  */
  struct systemd_props pr2;
  o.v2 = true;
  cr_assert_eq (systemd_unit_properties (&p, spec, &o, &pr2, &err), 0, "%s", err.msg);
  cr_assert_eq (systemd_bus_start_unit (b, p.unit, &pr, &err), 0, "%s", err.msg);
  cr_assert_eq (systemd_bus_start_unit (b, "early-c2.scope", &pr2, &err), 0, "%s", err.msg);
  systemd_props_release (&pr);
  systemd_props_release (&pr2);
  systemd_path_release (&p);
  systemd_bus_close (b);

  cleanup_free char *log = fake_log_text ();
  expect_log (log, "START sdtest-c1.scope fail");
  expect_log (log, "Description s husk container c1");
  expect_log (log, "Slice s machine.slice");
  expect_log (log, "Delegate b yes");
  expect_log (log, "PIDs au 4242,");
  expect_log (log, "DefaultDependencies b no");
  expect_log (log, "BlockIOAccounting b yes");
  expect_log (log, "MemoryLimit t 1048576");
  expect_log (log, "TasksMax t infinity");
  expect_log (log, "DevicePolicy s strict");
  expect_log (log, "DeviceAllow a(ss) char-*=m,block-*=m,/dev/char/1:3=rwm,/dev/char/1:5=rwm,/dev/char/1:7=rwm,"
                   "/dev/char/1:8=rwm,/dev/char/1:9=rwm,/dev/char/5:0=rwm,/dev/char/5:1=rwm,/dev/char/5:2=rwm,"
                   "char-pts=rwm,/dev/char/10:200=rwm,");
  expect_log (log, "START early-c2.scope fail");
  expect_log (log, "MemoryMax t 1048576");
  expect_log (log, "AllowedCPUs ay 0f");
  cr_expect_null (strstr (log, "FAKE-ERROR"), "%s", log);
}

Test (fakebus, start_errors)
{
  struct husk_err err = { 0 };
  struct systemd_bus *b = systemd_bus_open (&err);
  cr_assert_not_null (b, "%s", err.msg);

  cr_expect_eq (systemd_bus_start_unit (b, "exists-c1.scope", NULL, &err), -1);
  cr_expect_str_eq (err.msg, "systemd cgroup driver: start unit 'exists-c1.scope': Unit exists-c1.scope already "
                             "exists. (org.freedesktop.systemd1.UnitExists)");
  cr_expect_eq (systemd_bus_start_unit (b, "jobfail-c1.scope", NULL, &err), -1);
  cr_expect (has_prefix (err.msg, "systemd cgroup driver: start unit 'jobfail-c1.scope': job "
                                  "/org/freedesktop/systemd1/job/"),
             "%s", err.msg);
  cr_expect_not_null (strstr (err.msg, " ended 'failed'"), "%s", err.msg);
  systemd_bus_close (b);
}

Test (fakebus, stop_unit)
{
  struct husk_err err = { 0 };
  struct systemd_bus *b = systemd_bus_open (&err);
  cr_assert_not_null (b, "%s", err.msg);

  cr_expect_eq (systemd_bus_stop_unit (b, "stopme-c1.scope", &err), 0, "%s", err.msg);
  /* Gone already (an emptied scope stops by itself): fine.  */
  cr_expect_eq (systemd_bus_stop_unit (b, "gone-c1.scope", &err), 0, "%s", err.msg);
  systemd_bus_close (b);
  cleanup_free char *log = fake_log_text ();
  expect_log (log, "STOP stopme-c1.scope replace");
  expect_log (log, "STOP gone-c1.scope replace");
}

/* ---- the whole driver, with the fake doing systemd's part of the cgroup work -------------------- */

static bool
pid_in (const char *procs_file, pid_t pid)
{
  struct husk_err err;
  cleanup_free char *s = read_file_at (AT_FDCWD, procs_file, 1 << 16, NULL, &err);
  if (s == NULL)
    return false;
  for (char *line = strtok (s, "\n"); line != NULL; line = strtok (NULL, "\n"))
    if (atoi (line) == (int) pid)
      return true;
  return false;
}

/* waitpid (PID) for at most 10 s (a bug must fail the test, not hang it).  Returns PID or -1.  */
static pid_t
wait_bounded (pid_t pid, int *status)
{
  for (int i = 0; i < 1000; i++)
    {
      pid_t r = waitpid (pid, status, WNOHANG);
      if (r != 0)
        return r;
      struct timespec ts = { 0, 10 * 1000 * 1000 };
      nanosleep (&ts, NULL);
    }
  return -1;
}

static bool
exists (const char *path)
{
  struct stat st;
  return stat (path, &st) == 0;
}

Test (fakebus, cgroup_driver_end_to_end)
{
  struct statfs fs;
  struct husk_err err = { 0 };
  char path[256], f[512];
  int status;

  if (geteuid () != 0 || statfs ("/sys/fs/cgroup/systemd", &fs) < 0 || fs.f_type != CGROUP_SUPER_MAGIC
      || statfs ("/sys/fs/cgroup/unified", &fs) < 0 || fs.f_type != CGROUP2_SUPER_MAGIC
      || statfs ("/sys/fs/cgroup/pids", &fs) < 0 || fs.f_type != CGROUP_SUPER_MAGIC)
    cr_skip_test ("needs root on a hybrid host with a v1 pids hierarchy");
  snprintf (test_slice, sizeof test_slice, "husksdtest%d.slice", (int) getpid ());
  cr_assert_eq (setenv ("FAKE_CGROUPS", "1", 1), 0);
  /* The fake forked before FAKE_CGROUPS was set: start a new one.  */
  stop_pid (&fake_pid);
  start_fake ();
  snprintf (path, sizeof path, "/%s/husk-c1.scope", test_slice);
  cleanup_free char *json = xasprintf (
      CONFIG ("{\"cgroupsPath\": \"%s:husk:c1\", \"resources\": {\"pids\": {\"limit\": 50}}}"), test_slice);
  cleanup_spec struct husk_spec *spec = parse (json);

  struct husk_cgroup *cg = cgroup_prepare_driver (spec, "c1", false, &err);
  cr_assert_not_null (cg, "%s", err.msg);
  cr_expect_str_eq (cgroup_path (cg), path);
  cr_expect_null (cgroup_made_top (cg));
  cr_assert_eq (cgroup_make (cg, spec, &err), 0, "%s", err.msg);
  cr_expect_str_eq (cgroup_made_top (cg), "systemd:husk-c1.scope");

  /* systemd (the fake) made the scope with the pin in it; husk made the rest and wrote pids.max.  */
  cleanup_free char *log = fake_log_text ();
  expect_log (log, "START husk-c1.scope fail");
  expect_log (log, "TasksMax t 50");
  cr_expect_null (strstr (log, "FAKE-ERROR"), "%s", log);
  const char *pids_line = strstr (log, "PIDs au ");
  cr_assert_not_null (pids_line);
  pid_t pin = (pid_t) atoi (pids_line + strlen ("PIDs au "));
  cr_assert_gt (pin, 0);
  snprintf (f, sizeof f, "/sys/fs/cgroup/unified%s/cgroup.procs", path);
  cr_expect (pid_in (f, pin), "the pin %d is not in %s", (int) pin, f);
  snprintf (f, sizeof f, "/sys/fs/cgroup/pids%s/pids.max", path);
  cleanup_free char *max = read_file_at (AT_FDCWD, f, 64, NULL, &err);
  cr_assert_not_null (max, "%s", err.msg);
  cr_expect_str_eq (max, "50\n");

  /* Stage 1 enters and kills the pin; the pin was orphaned, so it is our (subreaper's) zombie.  */
  pid_t child = fork ();
  cr_assert_geq (child, 0);
  if (child == 0)
    {
      struct husk_err e;
      (void) prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
      if (cgroup_enter_self (cg, false, &e) < 0)
        _exit (1);
      for (;;)
        pause ();
    }
  cr_assert_eq (wait_bounded (pin, &status), pin, "the pin was not killed");
  cr_expect (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL, "pin status %#x", status);
  snprintf (f, sizeof f, "/sys/fs/cgroup/pids%s/cgroup.procs", path);
  cr_expect (pid_in (f, child), "the child %d is not in %s", (int) child, f);

  /* destroy: the processes are killed, StopUnit sent, the directories gone everywhere.  */
  cr_expect_eq (cgroup_destroy (cg, &err), 0, "%s", err.msg);
  cgroup_free (cg);
  cr_assert_eq (wait_bounded (child, &status), child, "the container's process was not killed");
  cr_expect (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL, "child status %#x", status);
  free (log);
  log = fake_log_text ();
  expect_log (log, "STOP husk-c1.scope replace");
  static const char *const hier[] = { "systemd", "unified", "pids", "memory", "devices", "cpuset", "freezer" };
  for (size_t i = 0; i < ARRAY_SIZE (hier); i++)
    {
      snprintf (f, sizeof f, "/sys/fs/cgroup/%s%s", hier[i], path);
      cr_expect_not (exists (f), "%s is left", f);
    }

  /* A later delete: cgroup_open with the record stops the unit again (systemd no longer knows it).  */
  cg = cgroup_open (path, "systemd:husk-c1.scope", &err);
  cr_assert_not_null (cg, "%s", err.msg);
  cr_expect_eq (cgroup_destroy (cg, &err), 0, "%s", err.msg);
  cgroup_free (cg);
  cr_expect_null (cgroup_open (path, "systemd:../x", &err));
  cr_expect_str_eq (err.msg, "invalid recorded systemd unit '../x'");
  free (log);
  log = fake_log_text ();
  const char *first = strstr (log, "STOP husk-c1.scope replace\n");
  cr_assert_not_null (first, "%s", log);
  cr_expect_not_null (strstr (first + 1, "STOP husk-c1.scope replace\n"), "no second StopUnit:\n%s", log);
}

/* A unit whose start fails is not ours: nothing is stopped or removed, and the pin is gone.  */
Test (fakebus, cgroup_driver_start_fails)
{
  struct husk_err err = { 0 };
  int status;

  if (geteuid () != 0)
    cr_skip_test ("needs root");
  snprintf (test_slice, sizeof test_slice, "husksdtest%d.slice", (int) getpid ());
  cleanup_free char *json = xasprintf (CONFIG ("{\"cgroupsPath\": \"%s:exists:c1\"}"), test_slice);
  cleanup_spec struct husk_spec *spec = parse (json);
  struct husk_cgroup *cg = cgroup_prepare_driver (spec, "c1", false, &err);
  cr_assert_not_null (cg, "%s", err.msg);
  cr_expect_eq (cgroup_make (cg, spec, &err), -1);
  cr_expect_str_eq (err.msg, "systemd cgroup driver: start unit 'exists-c1.scope': Unit exists-c1.scope already "
                             "exists. (org.freedesktop.systemd1.UnitExists)");
  cr_expect_null (cgroup_made_top (cg));
  cr_expect_eq (cgroup_destroy (cg, &err), 0, "%s", err.msg);
  cgroup_free (cg);
  /* The pin: killed and reaped (by us, the subreaper); no other process left.  */
  pid_t p = wait_bounded (-1, &status);
  cr_expect_gt (p, 0);
  cr_expect (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL, "status %#x", status);
  cr_expect_eq (waitpid (-1, NULL, WNOHANG), 0); /* only the fake and the daemon remain */
  cleanup_free char *log = fake_log_text ();
  cr_expect_null (strstr (log, "STOP"), "%s", log);
  cleanup_free char *dir = xasprintf ("/sys/fs/cgroup/pids/%s", test_slice);
  cr_expect_not (exists (dir), "%s was made", dir);
}
