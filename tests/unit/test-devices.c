/* Unit tests for the device cgroup (src/cgroup/devices.c): the effective rule list; the v1 writes
 * (plain files, then a real v1 devices cgroup when the host has one); the v2 eBPF program, run by
 * a small interpreter against an independent model of the semantics, loaded by the kernel's
 * verifier, and attached to a real cgroup2 directory where a child process opens device nodes.
 * The kernel tests need root; they skip when the hierarchy they need is not mounted.  Each test
 * cgroup is "husk-devtest-<pid>-<n>" directly under the hierarchy root and is removed in every
 * case (also from .fini when an assertion fails).  */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <linux/magic.h>

#include "cgroup/devices.h"
#include "spec.h"
#include "util.h"

#define CONFIG(linux_json) "{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}, \"linux\": " linux_json "}"

#define DEFAULTS                                                                                       \
  "allow c *:* m", "allow b *:* m", "allow c 1:3 rwm", "allow c 1:5 rwm", "allow c 1:7 rwm",           \
      "allow c 1:8 rwm", "allow c 1:9 rwm", "allow c 5:0 rwm", "allow c 5:1 rwm", "allow c 5:2 rwm",   \
      "allow c 136:* rwm", "allow c 10:200 rwm"

#define DEFAULT_V1_LINES                                                                               \
  "c *:* m\nb *:* m\nc 1:3 rwm\nc 1:5 rwm\nc 1:7 rwm\nc 1:8 rwm\nc 1:9 rwm\nc 5:0 rwm\nc 5:1 rwm\n"   \
  "c 5:2 rwm\nc 136:* rwm\nc 10:200 rwm\n"

/* containerd's shape (deny all, then its own list) plus the cases the semantics talk about:
 *   1:11 (/dev/kmsg) read only; 240:7 allowed then "w" denied with the same pattern; 240:9 allowed
 *   by two partial rules; 241:* allowed, then 241:5 denied by a narrower pattern (v1 ignores it).  */
#define TEST_RESOURCES                                                                                 \
  "\"resources\": {\"devices\": ["                                                                      \
  "{\"allow\": false, \"access\": \"rwm\"},"                                                            \
  "{\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 11, \"access\": \"r\"},"                 \
  "{\"allow\": true, \"type\": \"c\", \"major\": 240, \"minor\": 7, \"access\": \"rwm\"},"              \
  "{\"allow\": false, \"type\": \"c\", \"major\": 240, \"minor\": 7, \"access\": \"w\"},"               \
  "{\"allow\": true, \"type\": \"c\", \"major\": 240, \"minor\": 9, \"access\": \"r\"},"                \
  "{\"allow\": true, \"type\": \"c\", \"major\": 240, \"minor\": 9, \"access\": \"w\"},"                \
  "{\"allow\": true, \"type\": \"c\", \"major\": 241, \"access\": \"rw\"},"                             \
  "{\"allow\": false, \"type\": \"c\", \"major\": 241, \"minor\": 5, \"access\": \"rwm\"}"              \
  "]}"

static struct husk_spec *
parse (const char *json)
{
  struct husk_err err = { 0 };
  struct husk_spec *spec = spec_parse (json, strlen (json), "config.json", &err);

  cr_assert_not_null (spec, "%s", err.msg);
  return spec;
}

static char *
rule_text (const struct husk_device_rule *r)
{
  char ma[24] = "*", mi[24] = "*";

  if (r->major >= 0)
    snprintf (ma, sizeof ma, "%lld", (long long) r->major);
  if (r->minor >= 0)
    snprintf (mi, sizeof mi, "%lld", (long long) r->minor);
  return xasprintf ("%s %c %s:%s %s", r->allow ? "allow" : "deny", r->type, ma, mi, r->access);
}

static void
assert_rules (const struct husk_spec *spec, const char *const *want, size_t n_want)
{
  size_t n;
  cleanup_free struct husk_device_rule *rules = devices_effective_rules (spec, &n);

  for (size_t i = 0; i < n && i < n_want; i++)
    {
      cleanup_free char *t = rule_text (&rules[i]);
      cr_assert_str_eq (t, want[i], "rule %zu", i);
    }
  cr_assert_eq (n, n_want, "got %zu rules, want %zu", n, n_want);
}

/* ---- the rule list ------------------------------------------------------------------------- */

Test (devices_rules, no_linux_section_is_deny_all_plus_defaults)
{
  cleanup_spec struct husk_spec *spec = parse ("{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}}");
  static const char *const want[] = { "deny a *:* rwm", DEFAULTS };

  assert_rules (spec, want, ARRAY_SIZE (want));
}

Test (devices_rules, empty_resources_still_deny_all)
{
  cleanup_spec struct husk_spec *spec = parse (CONFIG ("{\"resources\": {}}"));
  static const char *const want[] = { "deny a *:* rwm", DEFAULTS };

  assert_rules (spec, want, ARRAY_SIZE (want));
}

Test (devices_rules, containerd_shaped_config_in_order_then_defaults)
{
  cleanup_spec struct husk_spec *spec = parse (CONFIG (
      "{\"resources\": {\"devices\": ["
      "{\"allow\": false, \"access\": \"rwm\"},"
      "{\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 3, \"access\": \"mwr\"},"
      "{\"allow\": true, \"type\": \"c\", \"major\": 10, \"access\": \"rrw\"},"
      "{\"allow\": false, \"type\": \"b\", \"minor\": 0, \"access\": \"m\"},"
      "{\"allow\": true}"
      "]}}"));
  static const char *const want[] = {
    "deny a *:* rwm", "deny a *:* rwm", "allow c 1:3 rwm", "allow c 10:* rw", "deny b *:0 m",
    "allow a *:* rwm", DEFAULTS,
  };

  assert_rules (spec, want, ARRAY_SIZE (want));
}

Test (devices_rules, linux_devices_allowed_after_defaults)
{
  cleanup_spec struct husk_spec *spec = parse (CONFIG (
      "{\"devices\": ["
      "{\"path\": \"/dev/fuse\", \"type\": \"c\", \"major\": 10, \"minor\": 229},"
      "{\"path\": \"/dev/sda\", \"type\": \"b\", \"major\": 8, \"minor\": 0},"
      "{\"path\": \"/dev/fifo\", \"type\": \"p\"},"
      "{\"path\": \"/dev/ttyS9\", \"type\": \"u\", \"major\": 4, \"minor\": 73}"
      "], \"resources\": {\"devices\": [{\"allow\": true, \"type\": \"c\", \"major\": 7, "
      "\"minor\": 1, \"access\": \"r\"}]}}"));
  static const char *const want[] = {
    "deny a *:* rwm", "allow c 7:1 r", DEFAULTS, "allow c 10:229 rwm", "allow b 8:0 rwm",
    "allow c 4:73 rwm",
  };

  assert_rules (spec, want, ARRAY_SIZE (want));
}

/* ---- cgroup v1 into plain files ----------------------------------------------------------- */

static char tmpdir[64];

static void
make_tmpdir (void)
{
  strcpy (tmpdir, "/tmp/husk-devtest-XXXXXX");
  cr_assert_not_null (mkdtemp (tmpdir));
}

static void
remove_tmpdir (void)
{
  static const char *const names[] = { "devices.allow", "devices.deny", "null", "zero", "kmsg",
                                       "c240-7", "c240-8", "c240-9", "c241-5", "c241-6", "b240-7",
                                       "mk" };

  if (tmpdir[0] == '\0')
    return;
  for (size_t i = 0; i < ARRAY_SIZE (names); i++)
    {
      cleanup_free char *p = xasprintf ("%s/%s", tmpdir, names[i]);
      (void) unlink (p);
    }
  (void) rmdir (tmpdir);
  tmpdir[0] = '\0';
}

static void
touch (const char *name)
{
  cleanup_free char *p = xasprintf ("%s/%s", tmpdir, name);
  int fd = open (p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

  cr_assert_geq (fd, 0);
  close (fd);
}

static char *
slurp (const char *dir, const char *name)
{
  struct husk_err err = { 0 };
  cleanup_free char *p = xasprintf ("%s/%s", dir, name);
  char *s = read_file_at (AT_FDCWD, p, 1 << 20, NULL, &err);

  cr_assert_not_null (s, "%s", err.msg);
  return s;
}

static int
apply_v1_in (const char *dir, const struct husk_spec *spec, struct husk_err *err)
{
  cleanup_close int fd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);

  cr_assert_geq (fd, 0);
  return devices_v1_apply (fd, spec, err);
}

Test (devices_v1, writes_each_rule_in_order_to_its_file, .init = make_tmpdir, .fini = remove_tmpdir)
{
  cleanup_spec struct husk_spec *spec = parse (CONFIG (
      "{\"resources\": {\"devices\": ["
      "{\"allow\": false, \"access\": \"rwm\"},"
      "{\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 11, \"access\": \"r\"},"
      "{\"allow\": false, \"type\": \"c\", \"major\": 1, \"minor\": 3, \"access\": \"w\"},"
      "{\"allow\": true, \"type\": \"a\", \"major\": 2, \"access\": \"rw\"},"
      "{\"allow\": false, \"type\": \"a\", \"access\": \"rwm\"}"
      "]}, \"devices\": [{\"path\": \"/dev/fuse\", \"type\": \"c\", \"major\": 10, \"minor\": 229}]}"));
  struct husk_err err = { 0 };

  touch ("devices.allow");
  touch ("devices.deny");
  cr_assert_eq (apply_v1_in (tmpdir, spec, &err), 0, "%s", err.msg);
  cleanup_free char *deny = slurp (tmpdir, "devices.deny");
  cleanup_free char *allow = slurp (tmpdir, "devices.allow");
  /* husk's deny-all, the config's deny-all, the partial deny, the last deny-all.  */
  cr_assert_str_eq (deny, "a\na\nc 1:3 w\na\n");
  /* A narrower 'a' rule becomes its c and b halves.  */
  cr_assert_str_eq (allow, "c 1:11 r\nc 2:* rw\nb 2:* rw\n" DEFAULT_V1_LINES "c 10:229 rwm\n");
}

Test (devices_v1, error_names_the_rule, .init = make_tmpdir, .fini = remove_tmpdir)
{
  cleanup_spec struct husk_spec *spec = parse (CONFIG (
      "{\"resources\": {\"devices\": ["
      "{\"allow\": false, \"access\": \"rwm\"},"
      "{\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 11, \"access\": \"rw\"}]}}"));
  struct husk_err err = { 0 };
  cleanup_free char *full = NULL;

  /* No devices.allow at all.  */
  touch ("devices.deny");
  cr_assert_eq (apply_v1_in (tmpdir, spec, &err), -1);
  cr_assert_str_eq (err.msg, "open 'devices.allow'");
  cr_assert_eq (err.errnum, ENOENT);
  /* devices.allow is /dev/full: every write fails with ENOSPC; the first one is the config's.  */
  if (geteuid () != 0)
    return; /* mknod needs root */
  full = xasprintf ("%s/devices.allow", tmpdir);
  cr_assert_eq (mknod (full, S_IFCHR | 0600, makedev (1, 7)), 0, "mknod: %s", strerror (errno));
  cr_assert_eq (apply_v1_in (tmpdir, spec, &err), -1);
  cr_assert_str_eq (err.msg, "config.json: linux.resources.devices[1]: write 'c 1:11 rw' to 'devices.allow'");
  cr_assert_eq (err.errnum, ENOSPC);
}

Test (devices_v1, numbers_out_of_range_refused_with_the_rule, .init = make_tmpdir, .fini = remove_tmpdir)
{
  cleanup_spec struct husk_spec *spec = parse (CONFIG (
      "{\"resources\": {\"devices\": [{\"allow\": true, \"type\": \"c\", \"major\": 4294967296, "
      "\"access\": \"r\"}]}}"));
  struct husk_err err = { 0 };
  cleanup_close int fd = -1;

  touch ("devices.allow");
  touch ("devices.deny");
  cr_assert_eq (apply_v1_in (tmpdir, spec, &err), -1);
  cr_assert_str_eq (err.msg, "config.json: linux.resources.devices[0]: major 4294967296 out of range");
  /* Nothing was written: the whole list is checked first.  */
  cleanup_free char *deny = slurp (tmpdir, "devices.deny");
  cr_assert_str_eq (deny, "");
  fd = open (tmpdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  cr_assert_eq (devices_v2_attach (fd, spec, &err), -1);
  cr_assert_str_eq (err.msg, "config.json: linux.resources.devices[0]: major 4294967296 out of range");
}

/* ---- the eBPF program: an interpreter and a model --------------------------------------------- */

/* Run P (N instructions) on one request the way the kernel would, for the instructions
 * devices_v2_program uses; anything else fails the test.  */
static int
run_prog (const struct bpf_insn *p, size_t n, uint32_t access_type, uint32_t major, uint32_t minor)
{
  const uint32_t ctx[3] = { access_type, major, minor };
  uint64_t r[11] = { 0 };
  bool r1_is_ctx = true, r0_set = false;

  for (size_t pc = 0, steps = 0; steps < 100000; steps++)
    {
      cr_assert_lt (pc, n, "fell off the end of the program");
      const struct bpf_insn *i = &p[pc++];
      uint8_t cls = BPF_CLASS (i->code), op = BPF_OP (i->code), dst = i->dst_reg;
      cr_assert_leq (dst, 10);
      switch (cls)
        {
        case BPF_LDX:
          cr_assert_eq (i->code, BPF_LDX | BPF_MEM | BPF_W);
          cr_assert (i->src_reg == BPF_REG_1 && r1_is_ctx && i->off >= 0 && i->off <= 8 && i->off % 4 == 0,
                     "bad context load at %zu", pc - 1);
          r[dst] = ctx[i->off / 4];
          break;
        case BPF_ALU:
        case BPF_ALU64:
          {
            uint64_t src = BPF_SRC (i->code) == BPF_X ? r[i->src_reg] : (uint64_t) (int64_t) i->imm;
            uint64_t v;
            cr_assert (BPF_SRC (i->code) == BPF_K || !(i->src_reg == BPF_REG_1 && r1_is_ctx));
            if (op == BPF_MOV)
              v = src;
            else if (op == BPF_AND)
              v = r[dst] & src;
            else if (op == BPF_RSH)
              v = cls == BPF_ALU ? (uint32_t) r[dst] >> (src & 31) : r[dst] >> (src & 63);
            else
              cr_assert_fail ("unexpected ALU op %#x at %zu", op, pc - 1);
            r[dst] = cls == BPF_ALU ? (uint32_t) v : v;
            if (dst == BPF_REG_0)
              r0_set = true;
            break;
          }
        case BPF_JMP:
        case BPF_JMP32:
          {
            if (op == BPF_EXIT)
              {
                cr_assert (r0_set, "exit with r0 unset");
                cr_assert (r[0] == 0 || r[0] == 1);
                return (int) r[0];
              }
            cr_assert_eq (BPF_SRC (i->code), BPF_K);
            uint64_t a = r[dst], b = (uint64_t) (int64_t) i->imm;
            bool taken;
            if (cls == BPF_JMP32)
              a = (uint32_t) a, b = (uint32_t) b;
            if (op == BPF_JEQ)
              taken = a == b;
            else if (op == BPF_JNE)
              taken = a != b;
            else
              cr_assert_fail ("unexpected jump op %#x at %zu", op, pc - 1);
            cr_assert_geq (i->off, 0, "backward jump");
            if (taken)
              pc += (size_t) i->off;
            break;
          }
        default:
          cr_assert_fail ("unexpected class %#x at %zu", cls, pc - 1);
        }
      if (dst == BPF_REG_1)
        r1_is_ctx = false;
    }
  cr_assert_fail ("loop");
  return -1;
}

static unsigned int
bits_of (const char *access)
{
  unsigned int b = 0;

  for (; *access != '\0'; access++)
    b |= *access == 'r' ? BPF_DEVCG_ACC_READ : *access == 'w' ? BPF_DEVCG_ACC_WRITE : BPF_DEVCG_ACC_MKNOD;
  return b;
}

/* The semantics of devices.h, written directly: each requested bit is decided by the last rule that
 * matches the device and names the bit; undecided bits and unknown bits are denied.  */
static int
model (const struct husk_device_rule *rules, size_t n, int devtype, uint32_t major, uint32_t minor,
       unsigned int access)
{
  if (access & ~7u)
    return 0;
  for (unsigned int bit = 1; bit <= 4; bit <<= 1)
    {
      int decided = 0;
      if (!(access & bit))
        continue;
      for (size_t i = n; i-- > 0;)
        {
          const struct husk_device_rule *r = &rules[i];
          bool type_ok = r->type == 'a' || (r->type == 'c') == (devtype == BPF_DEVCG_DEV_CHAR);
          if (type_ok && (r->major < 0 || (uint32_t) r->major == major)
              && (r->minor < 0 || (uint32_t) r->minor == minor) && (bits_of (r->access) & bit))
            {
              decided = r->allow ? 1 : -1;
              break;
            }
        }
      if (decided != 1)
        return 0;
    }
  return 1;
}

static struct bpf_insn *
program (const struct husk_device_rule *rules, size_t n, size_t *n_insns)
{
  struct husk_err err = { 0 };
  struct bpf_insn *insns = NULL;

  cr_assert_eq (devices_v2_program (rules, n, &insns, n_insns, &err), 0, "%s", err.msg);
  return insns;
}

static int
decide (const struct bpf_insn *p, size_t n, int devtype, uint32_t major, uint32_t minor, unsigned int access)
{
  return run_prog (p, n, (access << 16) | (uint32_t) devtype, major, minor);
}

#define R(allow, type, major, minor, access) { allow, type, major, minor, access }

Test (devices_v2_program, semantics_of_the_documented_cases)
{
  const struct husk_device_rule rules[] = {
    R (false, 'a', -1, -1, "rwm"),
    R (true, 'c', 240, 7, "rwm"), R (false, 'c', 240, 7, "w"),   /* 240:7 loses w */
    R (true, 'c', 240, 9, "r"), R (true, 'c', 240, 9, "w"),      /* both halves add up */
    R (true, 'c', 241, -1, "rw"), R (false, 'c', 241, 5, "rwm"), /* the narrower deny wins */
    R (true, 'b', 8, -1, "r"),
  };
  const int C = BPF_DEVCG_DEV_CHAR, B = BPF_DEVCG_DEV_BLOCK;
  const unsigned int r = BPF_DEVCG_ACC_READ, w = BPF_DEVCG_ACC_WRITE, m = BPF_DEVCG_ACC_MKNOD;
  size_t n;
  cleanup_free struct bpf_insn *p = program (rules, ARRAY_SIZE (rules), &n);

  cr_assert_eq (decide (p, n, C, 240, 7, r), 1);
  cr_assert_eq (decide (p, n, C, 240, 7, m), 1);
  cr_assert_eq (decide (p, n, C, 240, 7, w), 0);
  cr_assert_eq (decide (p, n, C, 240, 7, r | w), 0);
  cr_assert_eq (decide (p, n, C, 240, 9, r | w), 1);
  cr_assert_eq (decide (p, n, C, 240, 9, m), 0);
  cr_assert_eq (decide (p, n, C, 241, 4, r | w), 1);
  cr_assert_eq (decide (p, n, C, 241, 5, r), 0);
  cr_assert_eq (decide (p, n, B, 8, 3, r), 1);
  cr_assert_eq (decide (p, n, B, 8, 3, w), 0);
  cr_assert_eq (decide (p, n, C, 8, 3, r), 0, "type must match");
  cr_assert_eq (decide (p, n, B, 240, 7, r), 0, "type must match");
  cr_assert_eq (decide (p, n, C, 1, 3, r), 0);
  cr_assert_eq (decide (p, n, C, 240, 7, r | 8), 0, "an unknown access bit is denied");
}

Test (devices_v2_program, zero_rules_deny_everything)
{
  size_t n;
  cleanup_free struct bpf_insn *p = program (NULL, 0, &n);

  cr_assert_eq (decide (p, n, BPF_DEVCG_DEV_CHAR, 1, 3, BPF_DEVCG_ACC_READ), 0);
  cr_assert_eq (decide (p, n, BPF_DEVCG_DEV_BLOCK, 0, 0, BPF_DEVCG_ACC_MKNOD), 0);
}

Test (devices_v2_program, rules_before_a_full_rule_are_not_emitted)
{
  const struct husk_device_rule a[] = { R (true, 'c', 1, 3, "rwm"), R (false, 'a', -1, -1, "rwm") };
  const struct husk_device_rule b[] = { R (false, 'a', -1, -1, "rwm") };
  size_t na, nb;
  cleanup_free struct bpf_insn *pa = program (a, 2, &na);
  cleanup_free struct bpf_insn *pb = program (b, 1, &nb);

  cr_assert_eq (na, nb);
  cr_assert_eq (decide (pa, na, BPF_DEVCG_DEV_CHAR, 1, 3, BPF_DEVCG_ACC_READ), 0);
}

Test (devices_v2_program, unknown_type_and_big_numbers_refused)
{
  const struct husk_device_rule bad_type[] = { R (true, 'x', 1, 3, "r") };
  const struct husk_device_rule bad_minor[] = { R (true, 'c', 1, 4294967296LL, "r") };
  struct husk_err err = { 0 };
  struct bpf_insn *p = NULL;
  size_t n;

  cr_assert_eq (devices_v2_program (bad_type, 1, &p, &n, &err), -1);
  cr_assert_str_eq (err.msg, "device rule 0: unknown device type 'x'");
  cr_assert_eq (devices_v2_program (bad_minor, 1, &p, &n, &err), -1);
  cr_assert_str_eq (err.msg, "device rule 0: minor 4294967296 out of range");
}

/* A small deterministic generator, so that a failure can be replayed.  */
static uint64_t rng_state = 42;

static uint32_t
rng (uint32_t bound)
{
  rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (uint32_t) (rng_state >> 33) % bound;
}

static void
random_rule (struct husk_device_rule *r)
{
  static const char types[] = "acb";
  static const int64_t majors[] = { -1, 1, 5, 136, 3000000000LL };
  static const int64_t minors[] = { -1, 0, 3, 5, 4294967295LL };
  static const char *const acc[] = { "r", "w", "m", "rw", "rm", "wm", "rwm" };

  r->allow = rng (2) == 1;
  r->type = types[rng (3)];
  r->major = majors[rng (ARRAY_SIZE (majors))];
  r->minor = minors[rng (ARRAY_SIZE (minors))];
  strcpy (r->access, acc[rng (ARRAY_SIZE (acc))]);
}

static int
load (const struct husk_device_rule *rules, size_t n, struct husk_err *err)
{
  cleanup_free struct bpf_insn *p = NULL;
  size_t n_insns;

  if (devices_v2_program (rules, n, &p, &n_insns, err) < 0)
    return -1;
  return devices_v2_load (p, n_insns, err);
}

Test (devices_v2_program, matches_the_model_on_random_rule_lists)
{
  static const uint32_t majors[] = { 1, 5, 7, 136, 3000000000U };
  static const uint32_t minors[] = { 0, 3, 5, 9, 4294967295U };
  bool can_load = geteuid () == 0;

  for (int list = 0; list < 400; list++)
    {
      struct husk_device_rule rules[16];
      size_t n = rng (ARRAY_SIZE (rules) + 1), n_insns;
      for (size_t i = 0; i < n; i++)
        random_rule (&rules[i]);
      cleanup_free struct bpf_insn *p = program (rules, n, &n_insns);
      for (int q = 0; q < 200; q++)
        {
          int devtype = rng (2) ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK;
          uint32_t major = majors[rng (ARRAY_SIZE (majors))], minor = minors[rng (ARRAY_SIZE (minors))];
          unsigned int access = 1 + rng (7) + (rng (20) == 0 ? 8 : 0);
          cr_assert_eq (decide (p, n_insns, devtype, major, minor, access),
                        model (rules, n, devtype, major, minor, access),
                        "list %d request type %d %u:%u access %u", list, devtype, major, minor, access);
        }
      if (can_load && list % 10 == 0)
        {
          struct husk_err err = { 0 };
          int fd = devices_v2_load (p, n_insns, &err);
          cr_assert_geq (fd, 0, "list %d (%zu rules): %s", list, n, err.msg);
          close (fd);
        }
    }
}

/* ---- the eBPF program: the kernel's verifier ------------------------------------------------- */

static void
need_root (void)
{
  if (geteuid () != 0)
    cr_skip_test ("needs root");
}

Test (devices_v2_load, verifier_accepts_0_1_defaults_and_100_rules, .init = need_root)
{
  cleanup_spec struct husk_spec *spec = parse (CONFIG ("{" TEST_RESOURCES "}"));
  struct husk_device_rule many[100];
  const struct husk_device_rule one[] = { R (true, 'c', 1, 3, "rwm") };
  struct husk_err err = { 0 };
  size_t n;
  cleanup_free struct husk_device_rule *eff = devices_effective_rules (spec, &n);
  int fd;

  fd = load (NULL, 0, &err);
  cr_assert_geq (fd, 0, "0 rules: %s", err.msg);
  close (fd);
  fd = load (one, 1, &err);
  cr_assert_geq (fd, 0, "1 rule: %s", err.msg);
  close (fd);
  fd = load (eff, n, &err);
  cr_assert_geq (fd, 0, "effective rules: %s", err.msg);
  close (fd);
  /* 100 rules of every shape, the largest numbers included, and no full rule: all emitted.  */
  for (size_t i = 0; i < ARRAY_SIZE (many); i++)
    {
      static const char *const acc[] = { "r", "w", "m", "rw", "rm", "wm", "rwm" };
      many[i] = (struct husk_device_rule) { i % 3 == 0, "acb"[i % 3], i % 5 == 0 ? -1 : (int64_t) i,
                                            i % 7 == 0 ? -1 : (i % 11 == 0 ? 4294967295LL : (int64_t) i * 3),
                                            "" };
      if (many[i].type == 'a' && many[i].major < 0 && many[i].minor < 0)
        many[i].major = 4000000000LL;
      strcpy (many[i].access, acc[i % 7]);
    }
  fd = load (many, ARRAY_SIZE (many), &err);
  cr_assert_geq (fd, 0, "100 rules: %s", err.msg);
  close (fd);
}

Test (devices_v2_load, rejection_reports_the_verifier, .init = need_root)
{
  /* "exit" with r0 never written.  */
  const struct bpf_insn bad[] = { { .code = BPF_JMP | BPF_EXIT } };
  struct husk_err err = { 0 };

  cr_assert_eq (devices_v2_load (bad, 1, &err), -1);
  cr_assert_eq (err.errnum, EACCES, "%s", err.msg);
  cr_assert (strstr (err.msg, "verifier: R0 !read_ok") != NULL, "%s", err.msg);
}

/* ---- real cgroups: a child opens device nodes ------------------------------------------------ */

enum probe_op
{
  OPEN_R,
  OPEN_W,
  OPEN_RW,
  MKNOD_C,
};

struct probe
{
  const char *name; /* node in tmpdir, made by the parent with DEV */
  int major, minor;
  char type; /* 'c' or 'b' */
  enum probe_op op;
  int want; /* errno expected, 0 for success */
};

static char cgdir[256];

static void
remove_cgdir (void)
{
  if (cgdir[0] == '\0')
    return;
  for (int i = 0; i < 100 && rmdir (cgdir) < 0 && errno == EBUSY; i++)
    usleep (10000);
  cgdir[0] = '\0';
}

static void
fini_all (void)
{
  remove_cgdir ();
  remove_tmpdir ();
}

/* Make DIR/husk-devtest-<pid>-<n> the test cgroup.  */
static void
make_cgdir (const char *root)
{
  static int counter;

  snprintf (cgdir, sizeof cgdir, "%s/husk-devtest-%d-%d", root, (int) getpid (), counter++);
  if (mkdir (cgdir, 0755) < 0)
    {
      int e = errno;
      cgdir[0] = '\0';
      cr_assert_fail ("mkdir test cgroup: %s", strerror (e));
    }
}

static void
make_nodes (const struct probe *probes, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      if (probes[i].op == MKNOD_C)
        continue;
      cleanup_free char *p = xasprintf ("%s/%s", tmpdir, probes[i].name);
      mode_t type = probes[i].type == 'b' ? S_IFBLK : S_IFCHR;
      if (mknod (p, type | 0666, makedev (probes[i].major, probes[i].minor)) < 0 && errno != EEXIST)
        cr_assert_fail ("mknod %s: %s", p, strerror (errno));
    }
}

static int
run_probe (const struct probe *pr)
{
  static const int flags[] = { [OPEN_R] = O_RDONLY, [OPEN_W] = O_WRONLY, [OPEN_RW] = O_RDWR };
  char path[128];
  int fd;

  snprintf (path, sizeof path, "%s/%s", tmpdir, pr->name);
  if (pr->op == MKNOD_C)
    {
      if (mknod (path, S_IFCHR | 0600, makedev (pr->major, pr->minor)) < 0)
        return errno;
      unlink (path);
      return 0;
    }
  fd = open (path, flags[pr->op] | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0)
    return errno;
  close (fd);
  return 0;
}

/* Fork a child that moves itself into cgdir, runs PROBES and reports each errno; the cgroup is
 * removed before anything is asserted.  */
static void
probe_in_cgroup (const struct probe *probes, size_t n, const char *what)
{
  int got[32] = { 0 }, pipefd[2], status = 0;
  ssize_t len;
  pid_t pid;

  cr_assert_leq (n, ARRAY_SIZE (got));
  make_nodes (probes, n);
  cr_assert_eq (pipe2 (pipefd, O_CLOEXEC), 0);
  pid = fork ();
  cr_assert_geq (pid, 0);
  if (pid == 0)
    {
      char procs[300];
      int fd, res[32];
      snprintf (procs, sizeof procs, "%s/cgroup.procs", cgdir);
      fd = open (procs, O_WRONLY | O_CLOEXEC);
      if (fd < 0 || write (fd, "0", 1) != 1)
        _exit (2);
      close (fd);
      for (size_t i = 0; i < n; i++)
        res[i] = run_probe (&probes[i]);
      if (write (pipefd[1], res, n * sizeof *res) != (ssize_t) (n * sizeof *res))
        _exit (3);
      _exit (0);
    }
  close (pipefd[1]);
  len = read (pipefd[0], got, sizeof got);
  close (pipefd[0]);
  waitpid (pid, &status, 0);
  remove_cgdir ();
  cr_assert (WIFEXITED (status) && WEXITSTATUS (status) == 0, "%s: child status %#x", what, status);
  cr_assert_eq (len, (ssize_t) (n * sizeof *got));
  for (size_t i = 0; i < n; i++)
    {
      static const char *const ops[] = { "open r", "open w", "open rw", "mknod" };
      cr_expect_eq (got[i], probes[i].want, "%s: %s %c %d:%d: got '%s', want '%s'", what, ops[probes[i].op],
                    probes[i].type, probes[i].major, probes[i].minor, strerror (got[i]),
                    strerror (probes[i].want));
    }
}

/* What TEST_RESOURCES lets a process do; V1 selects the one documented difference.  240:* and
 * 241:* have no driver: an open the cgroup allows fails with ENXIO, one it denies with EPERM.  */
static size_t
resource_probes (struct probe *out, bool v1)
{
  const struct probe p[] = {
    { "null", 1, 3, 'c', OPEN_RW, 0 },
    { "zero", 1, 5, 'c', OPEN_RW, 0 },
    { "kmsg", 1, 11, 'c', OPEN_R, 0 },
    { "kmsg", 1, 11, 'c', OPEN_W, EPERM }, /* the hole this module closes */
    { "c240-7", 240, 7, 'c', OPEN_R, ENXIO },
    { "c240-7", 240, 7, 'c', OPEN_W, EPERM },
    { "c240-7", 240, 7, 'c', OPEN_RW, EPERM },
    { "c240-8", 240, 8, 'c', OPEN_R, EPERM },
    { "c240-9", 240, 9, 'c', OPEN_RW, ENXIO },
    { "c241-6", 241, 6, 'c', OPEN_RW, ENXIO },
    { "c241-5", 241, 5, 'c', OPEN_R, v1 ? ENXIO : EPERM },
    { "b240-7", 240, 7, 'b', OPEN_R, EPERM },
    { "mk", 242, 1, 'c', MKNOD_C, 0 }, /* default "c *:* m" */
  };

  memcpy (out, p, sizeof p);
  return ARRAY_SIZE (p);
}

static bool
is_fs (const char *path, long magic)
{
  struct statfs fs;

  return statfs (path, &fs) == 0 && fs.f_type == magic;
}

/* The cgroup2 mount: /sys/fs/cgroup on a unified host, /sys/fs/cgroup/unified on a hybrid one.  */
static const char *
cgroup2_root (void)
{
  if (is_fs ("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC))
    return "/sys/fs/cgroup";
  if (is_fs ("/sys/fs/cgroup/unified", CGROUP2_SUPER_MAGIC))
    return "/sys/fs/cgroup/unified";
  return NULL;
}

Test (devices_v1_kernel, rules_in_a_real_devices_cgroup, .init = make_tmpdir, .fini = fini_all)
{
  cleanup_spec struct husk_spec *spec = parse (CONFIG ("{" TEST_RESOURCES "}"));
  struct husk_err err = { 0 };
  struct probe probes[32];
  size_t n = resource_probes (probes, true);
  cleanup_free char *list = NULL;

  if (geteuid () != 0 || !is_fs ("/sys/fs/cgroup/devices", CGROUP_SUPER_MAGIC))
    cr_skip_test ("needs root and a v1 devices hierarchy at /sys/fs/cgroup/devices");
  make_cgdir ("/sys/fs/cgroup/devices");
  if (apply_v1_in (cgdir, spec, &err) < 0)
    {
      remove_cgdir ();
      cr_assert_fail ("%s", err.msg);
    }
  list = slurp (cgdir, "devices.list");
  /* The kernel's own view: deny by default, these exceptions in order (240:7 lost its w, 240:9's
   * halves merged, the 241:5 deny found no exact entry to shrink).  */
  cr_expect_str_eq (list, "c 1:11 r\nc 240:7 rm\nc 240:9 rw\nc 241:* rw\n" DEFAULT_V1_LINES);
  probe_in_cgroup (probes, n, "v1");
}

Test (devices_v2_kernel, only_null_allowed, .init = make_tmpdir, .fini = fini_all)
{
  const struct husk_device_rule rules[] = { R (true, 'c', 1, 3, "rwm") };
  const struct probe probes[] = {
    { "null", 1, 3, 'c', OPEN_RW, 0 },
    { "zero", 1, 5, 'c', OPEN_R, EPERM },
    { "mk", 1, 5, 'c', MKNOD_C, EPERM },
    { "mk", 1, 3, 'c', MKNOD_C, 0 },
  };
  const char *root = cgroup2_root ();
  struct husk_err err = { 0 };
  cleanup_close int fd = -1;

  if (geteuid () != 0 || root == NULL)
    cr_skip_test ("needs root and a cgroup2 mount");
  make_cgdir (root);
  fd = open (cgdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || devices_v2_attach_rules (fd, rules, ARRAY_SIZE (rules), &err) < 0)
    {
      remove_cgdir ();
      cr_assert_fail ("attach: %s", err.msg);
    }
  probe_in_cgroup (probes, ARRAY_SIZE (probes), "v2 only 1:3");
}

Test (devices_v2_kernel, spec_rules_in_a_real_cgroup2, .init = make_tmpdir, .fini = fini_all)
{
  cleanup_spec struct husk_spec *spec = parse (CONFIG ("{" TEST_RESOURCES "}"));
  const char *root = cgroup2_root ();
  struct husk_err err = { 0 };
  struct probe probes[32];
  size_t n = resource_probes (probes, false);
  cleanup_close int fd = -1;

  if (geteuid () != 0 || root == NULL)
    cr_skip_test ("needs root and a cgroup2 mount");
  make_cgdir (root);
  fd = open (cgdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || devices_v2_attach (fd, spec, &err) < 0)
    {
      remove_cgdir ();
      cr_assert_fail ("attach: %s", err.msg);
    }
  probe_in_cgroup (probes, n, "v2");
}
