/* The device cgroup (see devices.h for the rule list and its semantics): v1 devices.allow /
 * devices.deny writes, and the v2 eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE) written by hand.
 *
 * The v2 program.  The context is struct bpf_cgroup_dev_ctx: access_type (low 16 bits the device
 * type BPF_DEVCG_DEV_BLOCK/CHAR, high 16 bits the requested BPF_DEVCG_ACC_MKNOD/READ/WRITE bits),
 * major, minor; the program returns 1 to allow, 0 to deny.  Registers:
 *   r2 device type, r3 access bits not decided yet, r4 major, r5 minor, r1 scratch.
 * An access bit husk does not know is denied first.  Then the rules are checked from the LAST to
 * the first; for a rule whose type/major/minor match:
 *   allow: its bits are decided "allowed" (r3 &= ~bits); nothing left undecided -> return 1;
 *   deny:  if it names a bit still undecided -> return 0.
 * Past the first rule: return 0.  A rule matching every device with "rwm" always returns, so
 * the rules before it are not emitted (the verifier refuses unreachable code); husk's own deny-all
 * rule is such a rule, which ends every program husk builds.  Jumps go forward only, to the next
 * rule, so every offset is small; each rule costs at most 8 instructions.  */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/bpf.h>

#include "cgroup/devices.h"
#include "util.h"

/* Access bits, in the encoding of the eBPF context (high half of access_type).  */
#define ACC_M BPF_DEVCG_ACC_MKNOD
#define ACC_R BPF_DEVCG_ACC_READ
#define ACC_W BPF_DEVCG_ACC_WRITE
#define ACC_ALL (ACC_M | ACC_R | ACC_W)

/* Verifier log kept on a load failure, to report its last line.  */
#define BPF_LOG_SIZE (256 * 1024)

/* What every container may use, after the config's rules: the union of runc's and crun's lists
 * (runc has no console 5:1, crun has it; both keep tun 10:200 for compatibility).  -1 = '*'.  */
static const struct
{
  char type;
  int major, minor;
  const char *access;
} default_rules[] = {
  { 'c', -1, -1, "m" },    /* mknod of any char device (using it is decided by the rules) */
  { 'b', -1, -1, "m" },    /* mknod of any block device */
  { 'c', 1, 3, "rwm" },    /* /dev/null */
  { 'c', 1, 5, "rwm" },    /* /dev/zero */
  { 'c', 1, 7, "rwm" },    /* /dev/full */
  { 'c', 1, 8, "rwm" },    /* /dev/random */
  { 'c', 1, 9, "rwm" },    /* /dev/urandom */
  { 'c', 5, 0, "rwm" },    /* /dev/tty */
  { 'c', 5, 1, "rwm" },    /* /dev/console */
  { 'c', 5, 2, "rwm" },    /* /dev/ptmx */
  { 'c', 136, -1, "rwm" }, /* /dev/pts/N */
  { 'c', 10, 200, "rwm" }, /* /dev/net/tun */
};

/* Where an effective rule comes from, for error messages.  */
enum origin_kind
{
  FROM_DENY_ALL,
  FROM_RESOURCES, /* linux.resources.devices[index] */
  FROM_DEFAULT,
  FROM_DEVICES, /* linux.devices[index] */
};

struct origin
{
  enum origin_kind kind;
  size_t index;
};

static unsigned int
access_bits (const char *s)
{
  unsigned int bits = 0;

  for (; *s != '\0'; s++)
    bits |= *s == 'r' ? ACC_R : *s == 'w' ? ACC_W : *s == 'm' ? ACC_M : 0;
  return bits;
}

/* BITS as "rwm" in that order into OUT (4 bytes).  */
static void
access_string (unsigned int bits, char *out)
{
  char *p = out;

  if (bits & ACC_R)
    *p++ = 'r';
  if (bits & ACC_W)
    *p++ = 'w';
  if (bits & ACC_M)
    *p++ = 'm';
  *p = '\0';
}

static void
set_rule (struct husk_device_rule *r, bool allow, char type, int64_t major, int64_t minor,
          unsigned int bits)
{
  r->allow = allow;
  r->type = type;
  r->major = major < 0 ? -1 : major;
  r->minor = minor < 0 ? -1 : minor;
  access_string (bits, r->access);
}

/* The effective rules of SPEC (see devices_effective_rules); *ORIGINS (when ORIGINS is not NULL)
 * gets a parallel array saying where each rule comes from.  */
static struct husk_device_rule *
build_rules (const struct husk_spec *spec, size_t *n, struct origin **origins)
{
  const struct husk_linux *lx = spec->linux;
  const struct husk_resources *res = lx != NULL ? lx->resources : NULL;
  size_t n_res = res != NULL ? res->n_devices : 0;
  size_t n_dev = lx != NULL ? lx->n_devices : 0;
  size_t max = 1 + n_res + ARRAY_SIZE (default_rules) + n_dev, k = 0;
  struct husk_device_rule *rules = xcalloc (max, sizeof *rules);
  struct origin *o = xcalloc (max, sizeof *o);

  set_rule (&rules[k], false, 'a', -1, -1, ACC_ALL);
  o[k++] = (struct origin) { FROM_DENY_ALL, 0 };
  for (size_t i = 0; i < n_res; i++)
    {
      const struct husk_device_rule *d = &res->devices[i];
      set_rule (&rules[k], d->allow, d->type, d->major, d->minor, access_bits (d->access));
      o[k++] = (struct origin) { FROM_RESOURCES, i };
    }
  for (size_t i = 0; i < ARRAY_SIZE (default_rules); i++)
    {
      set_rule (&rules[k], true, default_rules[i].type, default_rules[i].major,
                default_rules[i].minor, access_bits (default_rules[i].access));
      o[k++] = (struct origin) { FROM_DEFAULT, i };
    }
  for (size_t i = 0; i < n_dev; i++)
    {
      const struct husk_device *d = &lx->devices[i];
      /* A FIFO needs no rule; a missing number (spec_validate refuses it) must not become '*'.  */
      if (d->type == 'p' || d->major < 0 || d->minor < 0)
        continue;
      set_rule (&rules[k], true, d->type == 'b' ? 'b' : 'c', d->major, d->minor, ACC_ALL);
      o[k++] = (struct origin) { FROM_DEVICES, i };
    }
  *n = k;
  if (origins != NULL)
    *origins = o;
  else
    free (o);
  return rules;
}

struct husk_device_rule *
devices_effective_rules (const struct husk_spec *spec, size_t *n)
{
  return build_rules (spec, n, NULL);
}

/* Prefix ERR with the place rule O came from.  Returns -1.  */
static int
origin_prefix (const struct origin *o, struct husk_err *err)
{
  switch (o->kind)
    {
    case FROM_RESOURCES:
      return husk_err_prefix (err, "config.json: linux.resources.devices[%zu]", o->index);
    case FROM_DEVICES:
      return husk_err_prefix (err, "config.json: linux.devices[%zu]", o->index);
    case FROM_DEFAULT:
      return husk_err_prefix (err, "default device rules");
    case FROM_DENY_ALL:
    default:
      return husk_err_prefix (err, "deny-all device rule");
    }
}

/* Refuse a type other than a/c/b and numbers the kernel's 32-bit fields cannot hold.  */
static int
check_rule (const struct husk_device_rule *r, struct husk_err *err)
{
  if (r->type != 'a' && r->type != 'c' && r->type != 'b')
    return husk_err_set (err, EINVAL, "unknown device type '%c'", r->type);
  if (r->major > (int64_t) UINT32_MAX)
    return husk_err_set (err, EINVAL, "major %lld out of range", (long long) r->major);
  if (r->minor > (int64_t) UINT32_MAX)
    return husk_err_set (err, EINVAL, "minor %lld out of range", (long long) r->minor);
  return 0;
}

static int
check_rules (const struct husk_device_rule *rules, const struct origin *origins, size_t n,
             struct husk_err *err)
{
  for (size_t i = 0; i < n; i++)
    if (check_rule (&rules[i], err) < 0)
      return origin_prefix (&origins[i], err);
  return 0;
}

/* ---- cgroup v1 ------------------------------------------------------------------------------ */

/* One devices.allow/deny line for R with type TYPE: "c 1:3 rwm\n".  */
static void
v1_line (const struct husk_device_rule *r, char type, char *buf, size_t size)
{
  char ma[24] = "*", mi[24] = "*";

  if (r->major >= 0)
    (void) snprintf (ma, sizeof ma, "%lld", (long long) r->major);
  if (r->minor >= 0)
    (void) snprintf (mi, sizeof mi, "%lld", (long long) r->minor);
  (void) snprintf (buf, size, "%c %s:%s %s\n", type, ma, mi, r->access);
}

/* One write(2) per rule: the kernel parses each write as one rule.  */
static int
v1_write (int fd, const char *file, const char *line, struct husk_err *err)
{
  size_t len = strlen (line);
  ssize_t w;

  do
    w = write (fd, line, len);
  while (w < 0 && errno == EINTR);
  if (w < 0)
    return husk_err_set (err, errno, "write '%.*s' to '%s'", (int) len - 1, line, file);
  if ((size_t) w != len)
    return husk_err_set (err, EIO, "short write of '%.*s' to '%s'", (int) len - 1, line, file);
  return 0;
}

static int
v1_write_rule (int allow_fd, int deny_fd, const struct husk_device_rule *r, struct husk_err *err)
{
  int fd = r->allow ? allow_fd : deny_fd;
  const char *file = r->allow ? "devices.allow" : "devices.deny";
  char line[96];

  if (r->access[0] == '\0')
    return 0; /* names no access: changes nothing */
  if (r->type != 'a')
    {
      v1_line (r, r->type, line, sizeof line);
      return v1_write (fd, file, line, err);
    }
  /* The v1 kernel reads any 'a' line as "all devices, all access"; say exactly that only when it
   * is meant, and write a narrower 'a' rule as its char and block halves.  */
  if (r->major < 0 && r->minor < 0 && access_bits (r->access) == ACC_ALL)
    return v1_write (fd, file, "a\n", err);
  v1_line (r, 'c', line, sizeof line);
  if (v1_write (fd, file, line, err) < 0)
    return -1;
  v1_line (r, 'b', line, sizeof line);
  return v1_write (fd, file, line, err);
}

int
devices_v1_apply (int dirfd, const struct husk_spec *spec, struct husk_err *err)
{
  cleanup_free struct origin *origins = NULL;
  size_t n;
  cleanup_free struct husk_device_rule *rules = build_rules (spec, &n, &origins);
  cleanup_close int allow_fd = -1;
  cleanup_close int deny_fd = -1;

  if (check_rules (rules, origins, n, err) < 0)
    return -1;
  allow_fd = openat (dirfd, "devices.allow", O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
  if (allow_fd < 0)
    return husk_err_set (err, errno, "open 'devices.allow'");
  deny_fd = openat (dirfd, "devices.deny", O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
  if (deny_fd < 0)
    return husk_err_set (err, errno, "open 'devices.deny'");
  for (size_t i = 0; i < n; i++)
    if (v1_write_rule (allow_fd, deny_fd, &rules[i], err) < 0)
      return origin_prefix (&origins[i], err);
  return 0;
}

/* ---- cgroup v2: the eBPF program ------------------------------------------------------------ */

/* <linux/bpf.h> has the opcodes but not the instruction macros of the kernel's filter.h.  */
static struct bpf_insn
insn (uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
  return (struct bpf_insn) { .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm };
}
#define LDX_W(dst, src, off) insn (BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0)
#define MOV32_REG(dst, src) insn (BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0)
#define ALU32_IMM(op, dst, imm) insn (BPF_ALU | (op) | BPF_K, dst, 0, 0, imm)
#define MOV64_IMM(dst, imm) insn (BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define JMP_IMM(op, dst, imm, off) insn (BPF_JMP | (op) | BPF_K, dst, 0, off, imm)
#define JMP32_IMM(op, dst, imm, off) insn (BPF_JMP32 | (op) | BPF_K, dst, 0, off, imm)
#define EXIT_INSN() insn (BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

struct prog
{
  struct bpf_insn *v;
  size_t n, cap;
};

static void
emit (struct prog *p, struct bpf_insn i)
{
  if (p->n == p->cap)
    {
      p->cap = p->cap == 0 ? 64 : p->cap * 2;
      p->v = xrealloc (p->v, p->cap * sizeof *p->v);
    }
  p->v[p->n++] = i;
}

/* "if REG != VALUE goto +0" (offset filled later).  REG holds a zero-extended u32; an immediate is
 * sign-extended, so values above INT32_MAX compare on the low 32 bits (BPF_JMP32, Linux 5.1).  */
static struct bpf_insn
jne_value (uint8_t reg, int64_t value)
{
  if (value <= INT32_MAX)
    return JMP_IMM (BPF_JNE, reg, (int32_t) value, 0);
  return JMP32_IMM (BPF_JNE, reg, (int32_t) (uint32_t) value, 0);
}

/* Emit rule R (BITS its access bits, not 0).  Returns true when R decides every request it sees
 * (all devices, rwm), so that nothing after it can run.  */
static bool
emit_rule (struct prog *p, const struct husk_device_rule *r, unsigned int bits)
{
  struct bpf_insn code[8];
  size_t n = 0, n_jumps, jump_in_action = SIZE_MAX;
  bool all_devices = r->type == 'a' && r->major < 0 && r->minor < 0;

  if (r->type != 'a')
    code[n++] = JMP_IMM (BPF_JNE, BPF_REG_2,
                         r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR, 0);
  if (r->major >= 0)
    code[n++] = jne_value (BPF_REG_4, r->major);
  if (r->minor >= 0)
    code[n++] = jne_value (BPF_REG_5, r->minor);
  n_jumps = n;
  if (bits == ACC_ALL)
    ; /* decides every bit: return at once */
  else if (r->allow)
    {
      code[n++] = ALU32_IMM (BPF_AND, BPF_REG_3, (int32_t) ~bits);
      jump_in_action = n;
      code[n++] = JMP_IMM (BPF_JNE, BPF_REG_3, 0, 0);
    }
  else
    {
      code[n++] = MOV32_REG (BPF_REG_1, BPF_REG_3);
      code[n++] = ALU32_IMM (BPF_AND, BPF_REG_1, (int32_t) bits);
      jump_in_action = n;
      code[n++] = JMP_IMM (BPF_JEQ, BPF_REG_1, 0, 0);
    }
  code[n++] = MOV64_IMM (BPF_REG_0, r->allow ? 1 : 0);
  code[n++] = EXIT_INSN ();
  /* Every jump goes to the first instruction after this rule.  */
  for (size_t i = 0; i < n_jumps; i++)
    code[i].off = (int16_t) (n - i - 1);
  if (jump_in_action != SIZE_MAX)
    code[jump_in_action].off = (int16_t) (n - jump_in_action - 1);
  for (size_t i = 0; i < n; i++)
    emit (p, code[i]);
  return all_devices && bits == ACC_ALL;
}

int
devices_v2_program (const struct husk_device_rule *rules, size_t n, struct bpf_insn **out,
                    size_t *n_insns, struct husk_err *err)
{
  struct prog p = { NULL, 0, 0 };
  bool done = false;

  for (size_t i = 0; i < n; i++)
    if (check_rule (&rules[i], err) < 0)
      return husk_err_prefix (err, "device rule %zu", i);

  emit (&p, LDX_W (BPF_REG_2, BPF_REG_1, offsetof (struct bpf_cgroup_dev_ctx, access_type)));
  emit (&p, LDX_W (BPF_REG_4, BPF_REG_1, offsetof (struct bpf_cgroup_dev_ctx, major)));
  emit (&p, LDX_W (BPF_REG_5, BPF_REG_1, offsetof (struct bpf_cgroup_dev_ctx, minor)));
  emit (&p, MOV32_REG (BPF_REG_3, BPF_REG_2));
  emit (&p, ALU32_IMM (BPF_RSH, BPF_REG_3, 16));
  emit (&p, ALU32_IMM (BPF_AND, BPF_REG_2, 0xffff));
  /* An access bit no rule can name: deny.  */
  emit (&p, MOV32_REG (BPF_REG_1, BPF_REG_3));
  emit (&p, ALU32_IMM (BPF_AND, BPF_REG_1, (int32_t) ~(uint32_t) ACC_ALL));
  emit (&p, JMP_IMM (BPF_JEQ, BPF_REG_1, 0, 2));
  emit (&p, MOV64_IMM (BPF_REG_0, 0));
  emit (&p, EXIT_INSN ());

  for (size_t i = n; i-- > 0 && !done;)
    {
      unsigned int bits = access_bits (rules[i].access);
      if (bits != 0)
        done = emit_rule (&p, &rules[i], bits);
    }
  if (!done)
    {
      emit (&p, MOV64_IMM (BPF_REG_0, 0));
      emit (&p, EXIT_INSN ());
    }
  *out = p.v;
  *n_insns = p.n;
  return 0;
}

static int
sys_bpf (int cmd, union bpf_attr *attr)
{
  return (int) syscall (SYS_bpf, cmd, attr, sizeof *attr);
}

/* The verifier's message in LOG (modified in place): its last line, not counting the statistics
 * it ends with ("processed N insns ...", "verification time ...").  */
static const char *
verifier_message (char *log)
{
  size_t len = strnlen (log, BPF_LOG_SIZE - 1);

  log[len] = '\0';
  for (;;)
    {
      char *line;
      while (len > 0 && (log[len - 1] == '\n' || log[len - 1] == ' '))
        log[--len] = '\0';
      line = strrchr (log, '\n');
      line = line != NULL ? line + 1 : log;
      if (line == log
          || !(has_prefix (line, "processed ") || has_prefix (line, "verification time")))
        return line;
      len = (size_t) (line - log);
    }
}

int
devices_v2_load (const struct bpf_insn *insns, size_t n_insns, struct husk_err *err)
{
  /* No helper is called, so the license does not matter to the kernel (any string loads).  */
  static const char license[] = "GPL";
  cleanup_free char *log = NULL;
  union bpf_attr attr;
  int fd, saved;

  memset (&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.expected_attach_type = BPF_CGROUP_DEVICE;
  attr.insns = (uint64_t) (uintptr_t) insns;
  attr.insn_cnt = (uint32_t) n_insns;
  attr.license = (uint64_t) (uintptr_t) license;
  fd = sys_bpf (BPF_PROG_LOAD, &attr); /* bpf(2) fds are always O_CLOEXEC */
  if (fd >= 0)
    return fd;
  saved = errno;
  if (saved != EINVAL && saved != EACCES)
    return husk_err_set (err, saved, "load the device cgroup eBPF program");
  /* Load again with the verifier log, only to say why.  */
  log = xcalloc (1, BPF_LOG_SIZE);
  attr.log_level = 1;
  attr.log_buf = (uint64_t) (uintptr_t) log;
  attr.log_size = BPF_LOG_SIZE;
  fd = sys_bpf (BPF_PROG_LOAD, &attr);
  if (fd >= 0)
    close (fd);
  return husk_err_set (err, saved,
                       "load the device cgroup eBPF program (%zu instructions): verifier: %s",
                       n_insns, verifier_message (log));
}

int
devices_v2_attach_rules (int cgroup_fd, const struct husk_device_rule *rules, size_t n,
                         struct husk_err *err)
{
  cleanup_free struct bpf_insn *insns = NULL;
  cleanup_close int dirfd = -1;
  cleanup_close int progfd = -1;
  union bpf_attr attr;
  size_t n_insns;

  if (devices_v2_program (rules, n, &insns, &n_insns, err) < 0)
    return -1;
  /* A plain directory fd for BPF_PROG_ATTACH: Linux 6.18 also takes an O_PATH one, but that is not
   * documented, and CGROUP_FD may be O_PATH.  */
  dirfd = openat (cgroup_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return husk_err_set (err, errno, "open the cgroup directory");
  progfd = devices_v2_load (insns, n_insns, err);
  if (progfd < 0)
    return -1;
  memset (&attr, 0, sizeof attr);
  attr.target_fd = (uint32_t) dirfd;
  attr.attach_bpf_fd = (uint32_t) progfd;
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (sys_bpf (BPF_PROG_ATTACH, &attr) < 0)
    return husk_err_set (err, errno, "attach the device cgroup eBPF program");
  return 0;
}

int
devices_v2_attach (int cgroup_fd, const struct husk_spec *spec, struct husk_err *err)
{
  cleanup_free struct origin *origins = NULL;
  size_t n;
  cleanup_free struct husk_device_rule *rules = build_rules (spec, &n, &origins);

  if (check_rules (rules, origins, n, err) < 0)
    return -1;
  return devices_v2_attach_rules (cgroup_fd, rules, n, err);
}
