/* Seccomp (config-linux.md "Seccomp"): compile linux.seccomp with libseccomp in the parent, export
 * the classic BPF program, and install it in the child with the raw seccomp(2) call.
 *
 * Three things libseccomp does not do for us:
 *
 * 1. -ENOSYS for syscalls the profile does not know.  A profile written before a syscall existed
 *    (clone3, openat2, ...) would give it the default action, usually EPERM, and glibc only falls
 *    back to the older call on ENOSYS.  When the default action denies (anything but ALLOW, LOG,
 *    TRACE, or ERRNO(ENOSYS) itself), husk puts a short stub in front of libseccomp's program: for
 *    each architecture in the filter, a syscall number greater than the highest number any rule of
 *    the profile names on that architecture returns ENOSYS; everything else goes on to the filter.
 *    (The same idea as runc's patchbpf; the stub here is husk's own.)  SECURITY.md §2.12, §4.4.
 *
 * 2. Several conditions on the same argument.  The OCI profile ANDs all conditions of an entry;
 *    libseccomp accepts one comparison per argument in a rule (EINVAL otherwise).  husk merges the
 *    conditions on one argument into the single comparison with the same meaning (an interval, a
 *    mask, an exclusion or an exact value).  When they can never hold together the rule is skipped
 *    with a warning; when no single comparison says the same thing it is a configuration error,
 *    never a silent OR (runc and crun split such entries into one rule per condition, which ORs
 *    them; SECURITY.md §2.12).
 *
 * 3. Flags such as SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV that libseccomp 2.5.4 has no attribute
 *    for: husk passes the flags to seccomp(2) itself, so every flag works the same way.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h> /* libseccomp's; ours is "seccomp.h" (src/ is an -iquote directory) */

#include "seccomp.h"
#include "util.h"

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

#define X32_SYSCALL_BIT 0x40000000U
#define MAX_ARGS 6

static void
cleanup_scmp_ctx (scmp_filter_ctx *ctx)
{
  if (*ctx != NULL)
    seccomp_release (*ctx);
}
#define cleanup_scmp __attribute__ ((cleanup (cleanup_scmp_ctx)))

/* ---- actions ------------------------------------------------------------------------------- */

static const char *const action_names[] = {
  [HUSK_SCMP_KILL] = "SCMP_ACT_KILL",
  [HUSK_SCMP_KILL_PROCESS] = "SCMP_ACT_KILL_PROCESS",
  [HUSK_SCMP_KILL_THREAD] = "SCMP_ACT_KILL_THREAD",
  [HUSK_SCMP_TRAP] = "SCMP_ACT_TRAP",
  [HUSK_SCMP_ERRNO] = "SCMP_ACT_ERRNO",
  [HUSK_SCMP_TRACE] = "SCMP_ACT_TRACE",
  [HUSK_SCMP_ALLOW] = "SCMP_ACT_ALLOW",
  [HUSK_SCMP_LOG] = "SCMP_ACT_LOG",
  [HUSK_SCMP_NOTIFY] = "SCMP_ACT_NOTIFY",
};

static const char *
action_name (enum husk_seccomp_action action)
{
  if ((size_t) action < ARRAY_SIZE (action_names) && action_names[action] != NULL)
    return action_names[action];
  return "?";
}

/* Convert ACTION (with the optional errno value) to libseccomp's uint32_t action in *OUT.  FIELD is
 * the JSON path of the object holding the action ("linux.seccomp.syscalls[3]"), ACTION_KEY and
 * ERRNO_KEY the names of its members.  ERRNO and TRACE without a value use EPERM, as runc and crun
 * do.  Returns 0, or -1 with ERR.  */
static int
convert_action (enum husk_seccomp_action action, bool has_errno_ret, uint32_t errno_ret, const char *field,
                const char *action_key, const char *errno_key, uint32_t *out, struct husk_err *err)
{
  uint32_t ret = has_errno_ret ? errno_ret : EPERM;

  if (has_errno_ret && action != HUSK_SCMP_ERRNO && action != HUSK_SCMP_TRACE)
    return husk_err_set (err, 0, "config.json: %s.%s: only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not %s",
                         field, errno_key, action_name (action));
  if (has_errno_ret && errno_ret > 0xffff)
    return husk_err_set (err, 0, "config.json: %s.%s: %u is out of range (0-65535)", field, errno_key, errno_ret);
  switch (action)
    {
    case HUSK_SCMP_KILL:
    case HUSK_SCMP_KILL_THREAD:
      *out = SCMP_ACT_KILL_THREAD;
      return 0;
    case HUSK_SCMP_KILL_PROCESS:
      *out = SCMP_ACT_KILL_PROCESS;
      return 0;
    case HUSK_SCMP_TRAP:
      *out = SCMP_ACT_TRAP;
      return 0;
    case HUSK_SCMP_ERRNO:
      *out = SCMP_ACT_ERRNO (ret);
      return 0;
    case HUSK_SCMP_TRACE:
      *out = SCMP_ACT_TRACE (ret);
      return 0;
    case HUSK_SCMP_ALLOW:
      *out = SCMP_ACT_ALLOW;
      return 0;
    case HUSK_SCMP_LOG:
      *out = SCMP_ACT_LOG;
      return 0;
    case HUSK_SCMP_NOTIFY:
      return husk_err_set (err, 0, "config.json: %s.%s: SCMP_ACT_NOTIFY: not supported yet", field, action_key);
    }
  return husk_err_set (err, 0, "config.json: %s.%s: unknown action %d", field, action_key, (int) action);
}

/* ---- architectures and flags --------------------------------------------------------------- */

/* "SCMP_ARCH_X86_64" -> libseccomp's token (SCMP_ARCH_X86_64), 0 when unknown.  */
static uint32_t
resolve_arch (const char *name)
{
  char lower[32];
  size_t i;

  if (!has_prefix (name, "SCMP_ARCH_"))
    return 0;
  name += strlen ("SCMP_ARCH_");
  for (i = 0; name[i] != '\0' && i + 1 < sizeof lower; i++)
    lower[i] = (char) tolower ((unsigned char) name[i]);
  if (name[i] != '\0' || i == 0)
    return 0;
  lower[i] = '\0';
  return seccomp_arch_resolve_name (lower);
}

static const struct
{
  const char *name;
  unsigned int flag;
} filter_flags[] = {
  { "SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC },
  { "SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG },
  { "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW },
  { "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV },
};

/* The flags for seccomp(2).  An absent list means SECCOMP_FILTER_FLAG_SPEC_ALLOW (what runc and crun
 * do); an empty list means none.  WAIT_KILLABLE_RECV only has a meaning with a notify listener,
 * which husk does not support yet (the kernel refuses it alone), so it is dropped with a warning.  */
static int
convert_flags (const struct husk_seccomp *seccomp, unsigned int *out, struct husk_err *err)
{
  unsigned int flags = 0;

  if (!seccomp->has_flags)
    {
      *out = SECCOMP_FILTER_FLAG_SPEC_ALLOW;
      return 0;
    }
  for (size_t i = 0; i < seccomp->n_flags; i++)
    {
      size_t k;

      for (k = 0; k < ARRAY_SIZE (filter_flags); k++)
        if (strcmp (seccomp->flags[i], filter_flags[k].name) == 0)
          break;
      if (k == ARRAY_SIZE (filter_flags))
        return husk_err_set (err, 0, "config.json: linux.seccomp.flags[%zu]: unknown flag '%s'", i,
                             seccomp->flags[i]);
      if (filter_flags[k].flag == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
        {
          husk_warn ("config.json: linux.seccomp.flags[%zu]: %s has no effect without SCMP_ACT_NOTIFY, ignoring", i,
                     seccomp->flags[i]);
          continue;
        }
      flags |= filter_flags[k].flag;
    }
  *out = flags;
  return 0;
}

/* ---- argument conditions ------------------------------------------------------------------- */

static enum scmp_compare
convert_op (enum husk_seccomp_op op)
{
  switch (op)
    {
    case HUSK_SCMP_CMP_NE:
      return SCMP_CMP_NE;
    case HUSK_SCMP_CMP_LT:
      return SCMP_CMP_LT;
    case HUSK_SCMP_CMP_LE:
      return SCMP_CMP_LE;
    case HUSK_SCMP_CMP_EQ:
      return SCMP_CMP_EQ;
    case HUSK_SCMP_CMP_GE:
      return SCMP_CMP_GE;
    case HUSK_SCMP_CMP_GT:
      return SCMP_CMP_GT;
    case HUSK_SCMP_CMP_MASKED_EQ:
      return SCMP_CMP_MASKED_EQ;
    }
  return _SCMP_CMP_MIN;
}

/* What the conditions on one argument allow, all ANDed: the interval [lo, hi], the values whose
 * bits under MASK equal MVAL, and none of the NE values.  */
struct arg_constraint
{
  bool never;
  uint64_t lo, hi;
  uint64_t mask, mval;
  uint64_t ne[MAX_ARGS * 8];
  size_t n_ne;
};

static bool
constraint_admits (const struct arg_constraint *c, uint64_t v)
{
  if (v < c->lo || v > c->hi || (v & c->mask) != c->mval)
    return false;
  for (size_t i = 0; i < c->n_ne; i++)
    if (c->ne[i] == v)
      return false;
  return true;
}

static void
constraint_add (struct arg_constraint *c, const struct husk_seccomp_arg *a)
{
  switch (a->op)
    {
    case HUSK_SCMP_CMP_EQ:
      c->lo = a->value > c->lo ? a->value : c->lo;
      c->hi = a->value < c->hi ? a->value : c->hi;
      break;
    case HUSK_SCMP_CMP_LT:
      if (a->value == 0)
        c->never = true;
      else if (a->value - 1 < c->hi)
        c->hi = a->value - 1;
      break;
    case HUSK_SCMP_CMP_LE:
      c->hi = a->value < c->hi ? a->value : c->hi;
      break;
    case HUSK_SCMP_CMP_GT:
      if (a->value == UINT64_MAX)
        c->never = true;
      else if (a->value + 1 > c->lo)
        c->lo = a->value + 1;
      break;
    case HUSK_SCMP_CMP_GE:
      c->lo = a->value > c->lo ? a->value : c->lo;
      break;
    case HUSK_SCMP_CMP_MASKED_EQ:
      /* (arg & value) == valueTwo */
      if ((a->value_two & ~a->value) != 0 || ((c->mval ^ a->value_two) & c->mask & a->value) != 0)
        c->never = true;
      c->mask |= a->value;
      c->mval |= a->value_two;
      break;
    case HUSK_SCMP_CMP_NE:
      if (c->n_ne < ARRAY_SIZE (c->ne))
        c->ne[c->n_ne++] = a->value;
      break;
    }
  if (c->lo > c->hi)
    c->never = true;
}

/* Turn the merged constraint C into at most one comparison of argument INDEX in *OUT.  Returns 1 when
 * *OUT was filled, 0 when the argument needs no comparison, 2 when the conditions can never hold,
 * -1 when no single comparison expresses them.  */
static int
constraint_to_cmp (struct arg_constraint *c, unsigned int index, struct scmp_arg_cmp *out)
{
  size_t n = 0, kept = 0;
  bool has_lo, has_hi, has_mask;

  if (c->never)
    return 2;
  if (c->lo == c->hi)
    {
      if (!constraint_admits (c, c->lo))
        return 2;
      *out = (struct scmp_arg_cmp) { index, SCMP_CMP_EQ, c->lo, 0 };
      return 1;
    }
  /* NE values the other conditions already exclude add nothing.  */
  for (size_t i = 0; i < c->n_ne; i++)
    {
      uint64_t v = c->ne[i];
      bool dup = false;

      for (size_t k = 0; k < kept; k++)
        dup = dup || c->ne[k] == v;
      if (!dup && v >= c->lo && v <= c->hi && (v & c->mask) == c->mval)
        c->ne[kept++] = v;
    }
  c->n_ne = kept;
  has_lo = c->lo > 0;
  has_hi = c->hi < UINT64_MAX;
  has_mask = c->mask != 0;
  n = (size_t) has_lo + (size_t) has_hi + (size_t) has_mask + c->n_ne;
  if (n == 0)
    return 0;
  if (n == 1)
    {
      if (has_lo)
        *out = (struct scmp_arg_cmp) { index, SCMP_CMP_GE, c->lo, 0 };
      else if (has_hi)
        *out = (struct scmp_arg_cmp) { index, SCMP_CMP_LE, c->hi, 0 };
      else if (has_mask)
        *out = (struct scmp_arg_cmp) { index, SCMP_CMP_MASKED_EQ, c->mask, c->mval };
      else
        *out = (struct scmp_arg_cmp) { index, SCMP_CMP_NE, c->ne[0], 0 };
      return 1;
    }
  if (n == 2 && has_lo && has_hi)
    {
      /* An aligned power-of-two block [k * 2^b, (k + 1) * 2^b - 1] is a mask comparison.  */
      uint64_t size = c->hi - c->lo + 1;
      if ((size & (size - 1)) == 0 && (c->lo & (size - 1)) == 0)
        {
          *out = (struct scmp_arg_cmp) { index, SCMP_CMP_MASKED_EQ, ~(size - 1), c->lo };
          return 1;
        }
    }
  return -1;
}

/* Build the comparisons of syscalls[I] into CMPS (at most one per argument).  *N gets their number;
 * *NEVER is set when the conditions can never all hold (the rule would never match).  */
static int
build_conditions (const struct husk_seccomp_syscall *sc, size_t i, struct scmp_arg_cmp cmps[MAX_ARGS], unsigned *n,
                  bool *never, struct husk_err *err)
{
  size_t count[MAX_ARGS] = { 0 };

  *n = 0;
  *never = false;
  for (size_t j = 0; j < sc->n_args; j++)
    {
      if (sc->args[j].index >= MAX_ARGS)
        return husk_err_set (err, 0,
                             "config.json: linux.seccomp.syscalls[%zu].args[%zu].index: %u is out of range (0-5)", i,
                             j, sc->args[j].index);
      if (convert_op (sc->args[j].op) == _SCMP_CMP_MIN)
        return husk_err_set (err, 0, "config.json: linux.seccomp.syscalls[%zu].args[%zu].op: unknown operator %d", i,
                             j, (int) sc->args[j].op);
      count[sc->args[j].index]++;
    }
  for (unsigned index = 0; index < MAX_ARGS; index++)
    {
      struct arg_constraint c = { .never = false, .lo = 0, .hi = UINT64_MAX };
      int r;

      if (count[index] == 0)
        continue;
      if (count[index] == 1)
        {
          for (size_t j = 0; j < sc->n_args; j++)
            if (sc->args[j].index == index)
              cmps[(*n)++] = (struct scmp_arg_cmp) { index, convert_op (sc->args[j].op), sc->args[j].value,
                                                     sc->args[j].value_two };
          continue;
        }
      if (count[index] > ARRAY_SIZE (c.ne))
        return husk_err_set (err, 0,
                             "config.json: linux.seccomp.syscalls[%zu].args: too many conditions on argument %u", i,
                             index);
      for (size_t j = 0; j < sc->n_args; j++)
        if (sc->args[j].index == index)
          constraint_add (&c, &sc->args[j]);
      r = constraint_to_cmp (&c, index, &cmps[*n]);
      if (r == 1)
        (*n)++;
      else if (r == 2)
        *never = true;
      else if (r < 0)
        return husk_err_set (err, 0,
                             "config.json: linux.seccomp.syscalls[%zu].args: the %zu conditions on argument %u "
                             "cannot be expressed as one comparison (libseccomp compares an argument once per "
                             "rule); split the entry",
                             i, count[index], index);
    }
  return 0;
}

/* ---- the -ENOSYS stub ---------------------------------------------------------------------- */

/* The architectures of the filter: libseccomp's native one and those listed (tokens, deduplicated).  */
struct arch_set
{
  uint32_t tokens[32];
  size_t n;
};

static void
arch_set_add (struct arch_set *set, uint32_t token)
{
  for (size_t i = 0; i < set->n; i++)
    if (set->tokens[i] == token)
      return;
  if (set->n < ARRAY_SIZE (set->tokens))
    set->tokens[set->n++] = token;
}

static bool
default_needs_enosys_stub (uint32_t default_action)
{
  if (default_action == SCMP_ACT_ALLOW || default_action == SCMP_ACT_LOG)
    return false;
  /* A tracer is expected to cope with new syscalls itself.  */
  if ((default_action & SECCOMP_RET_ACTION_FULL) == SCMP_ACT_TRACE (0))
    return false;
  return default_action != SCMP_ACT_ERRNO (ENOSYS);
}

/* The highest syscall number that any rule of SECCOMP names on ARCH, or -1 when none resolves.
 * Pseudo numbers (negative, for multiplexed calls) do not count.  */
static long
highest_syscall (const struct husk_seccomp *seccomp, uint32_t arch)
{
  long max = -1;

  for (size_t i = 0; i < seccomp->n_syscalls; i++)
    for (size_t j = 0; j < seccomp->syscalls[i].n_names; j++)
      {
        int nr = seccomp_syscall_resolve_name_arch (arch, seccomp->syscalls[i].names[j]);
        if (nr >= 0 && nr > max)
          max = nr;
      }
  return max;
}

struct prog
{
  struct sock_filter *insns;
  size_t n, cap;
};

static size_t
emit (struct prog *p, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
  if (p->n == p->cap)
    {
      p->cap = p->cap == 0 ? 64 : p->cap * 2;
      p->insns = xrealloc (p->insns, p->cap * sizeof *p->insns);
    }
  p->insns[p->n] = (struct sock_filter) { code, jt, jf, k };
  return p->n++;
}

/* Jumps are fixed up once the stub is complete: these mark a jump offset's target.  */
enum stub_target
{
  TO_NEXT_ARCH = 1, /* the next architecture check */
  TO_ENOSYS,        /* the `ret ERRNO(ENOSYS)` */
  TO_FILTER,        /* the first instruction of libseccomp's program */
};

struct fixup
{
  size_t insn;
  bool jt; /* which offset: jt, else jf */
  enum stub_target target;
  size_t section; /* for TO_NEXT_ARCH: the index of the check that follows */
};

/* Emit the stub for ARCHES into P: for each audit architecture,
 *
 *     ld  [arch]                      (once, at the start)
 *     jeq #AUDIT_ARCH, 0, <next arch>
 *     ld  [nr]
 *     (x86_64)  jset #X32_BIT, <x32 part>, 0
 *     (s390)    jeq #0, <enosys>, 0            the multiplexer of unknown calls, setup(2)
 *     jgt #MAX, <enosys>, <filter>
 *     (x32 part) jgt #MAX_X32, <enosys>, <filter>   or  ja <filter> when x32 is not filtered
 *   ...
 *     ja  <filter>                    (an architecture not in the filter: libseccomp decides)
 *     ret ERRNO(ENOSYS)
 *
 * Returns 0, or -1 with ERR when a jump would not fit the 8-bit offsets (too many architectures).  */
static int
emit_enosys_stub (struct prog *p, const struct husk_seccomp *seccomp, const struct arch_set *arches,
                  struct husk_err *err)
{
  struct fixup fix[256];
  size_t n_fix = 0, section_start[ARRAY_SIZE (arches->tokens) + 1], n_sections = 0;
  size_t enosys_at, filter_at;
  long max_x86_64 = -1, max_x32 = -1;
  bool have_x86_64 = false;

#define FIX(insn_, jt_, target_)                                                                       \
  fix[n_fix++] = (struct fixup) { (insn_), (jt_), (target_), n_sections + 1 }

  for (size_t i = 0; i < arches->n; i++)
    {
      uint32_t t = arches->tokens[i];
      if (t == SCMP_ARCH_X86_64)
        have_x86_64 = true, max_x86_64 = highest_syscall (seccomp, t);
      else if (t == SCMP_ARCH_X32)
        max_x32 = highest_syscall (seccomp, t);
    }

  emit (p, BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof (struct seccomp_data, arch));
  for (size_t i = 0; i < arches->n; i++)
    {
      uint32_t t = arches->tokens[i];
      long max;
      size_t at;

      if (t == SCMP_ARCH_X32)
        {
          if (have_x86_64)
            continue; /* handled in the x86_64 section, both share AUDIT_ARCH_X86_64 */
          max = -1;
        }
      else
        max = highest_syscall (seccomp, t);
      if (t == SCMP_ARCH_X86_64 || t == SCMP_ARCH_X32)
        {
          if (max_x86_64 < 0 && max_x32 < 0)
            continue;
        }
      else if (max < 0)
        {
          husk_debug ("seccomp: no syscall of the profile resolves on architecture 0x%x, no ENOSYS stub for it", t);
          continue;
        }
      if (n_fix + 8 > ARRAY_SIZE (fix))
        return husk_err_set (err, 0, "seccomp: too many architectures for the ENOSYS stub");

      section_start[n_sections] = emit (p, BPF_JMP | BPF_JEQ | BPF_K, 0, 0,
                                        t == SCMP_ARCH_X32 ? (uint32_t) AUDIT_ARCH_X86_64 : t);
      FIX (section_start[n_sections], false, TO_NEXT_ARCH);
      emit (p, BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof (struct seccomp_data, nr));
      if (t == SCMP_ARCH_X86_64 || t == SCMP_ARCH_X32)
        {
          size_t jset = emit (p, BPF_JMP | BPF_JSET | BPF_K, 0, 0, X32_SYSCALL_BIT);
          /* x86_64 calls (X32 bit clear) */
          if (max_x86_64 >= 0)
            {
              at = emit (p, BPF_JMP | BPF_JGT | BPF_K, 0, 0, (uint32_t) max_x86_64);
              FIX (at, true, TO_ENOSYS);
              FIX (at, false, TO_FILTER);
            }
          else
            {
              at = emit (p, BPF_JMP | BPF_JA, 0, 0, 0);
              FIX (at, false, TO_FILTER); /* k is patched below for BPF_JA */
            }
          /* x32 calls */
          p->insns[jset].jt = (uint8_t) (p->n - jset - 1);
          if (max_x32 >= 0)
            {
              at = emit (p, BPF_JMP | BPF_JGT | BPF_K, 0, 0, (uint32_t) max_x32);
              FIX (at, true, TO_ENOSYS);
              FIX (at, false, TO_FILTER);
            }
          else
            {
              at = emit (p, BPF_JMP | BPF_JA, 0, 0, 0);
              FIX (at, false, TO_FILTER);
            }
        }
      else
        {
          if (t == SCMP_ARCH_S390 || t == SCMP_ARCH_S390X)
            {
              at = emit (p, BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 0);
              FIX (at, true, TO_ENOSYS);
            }
          at = emit (p, BPF_JMP | BPF_JGT | BPF_K, 0, 0, (uint32_t) max);
          FIX (at, true, TO_ENOSYS);
          FIX (at, false, TO_FILTER);
        }
      n_sections++;
    }
  section_start[n_sections] = emit (p, BPF_JMP | BPF_JA, 0, 0, 1); /* over the ret, to the filter */
  enosys_at = emit (p, BPF_RET | BPF_K, 0, 0, SCMP_ACT_ERRNO (ENOSYS));
  filter_at = p->n;
#undef FIX

  for (size_t f = 0; f < n_fix; f++)
    {
      struct sock_filter *insn = &p->insns[fix[f].insn];
      size_t target = fix[f].target == TO_ENOSYS ? enosys_at
                      : fix[f].target == TO_FILTER ? filter_at
                                                   : section_start[fix[f].section];
      size_t off = target - fix[f].insn - 1;

      if (BPF_OP (insn->code) == BPF_JA)
        insn->k = (uint32_t) off;
      else if (off > 255)
        return husk_err_set (err, 0, "seccomp: the ENOSYS stub is too long (%zu instructions)", p->n);
      else if (fix[f].jt)
        insn->jt = (uint8_t) off;
      else
        insn->jf = (uint8_t) off;
    }
  return 0;
}

/* ---- export -------------------------------------------------------------------------------- */

/* Append the BPF program of CTX to P (seccomp_export_bpf into a memfd, read back).  */
static int
append_exported (scmp_filter_ctx ctx, struct prog *p, struct husk_err *err)
{
  cleanup_close int fd = -1;
  cleanup_free char *buf = NULL;
  off_t size;
  int rc;

  fd = memfd_create ("husk-seccomp", MFD_CLOEXEC);
  if (fd < 0)
    return husk_err_set (err, errno, "memfd_create for the seccomp filter");
  rc = seccomp_export_bpf (ctx, fd);
  if (rc < 0)
    return husk_err_set (err, -rc, "export the seccomp filter");
  size = lseek (fd, 0, SEEK_END);
  if (size < 0)
    return husk_err_set (err, errno, "seek in the exported seccomp filter");
  if (size == 0 || size % (off_t) sizeof (struct sock_filter) != 0)
    return husk_err_set (err, 0, "the exported seccomp filter has a bad size (%lld bytes)", (long long) size);
  buf = xmalloc ((size_t) size);
  for (off_t done = 0; done < size;)
    {
      ssize_t n = pread (fd, buf + done, (size_t) (size - done), done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return husk_err_set (err, n < 0 ? errno : EIO, "read the exported seccomp filter");
      done += n;
    }
  for (off_t off = 0; off < size; off += (off_t) sizeof (struct sock_filter))
    {
      struct sock_filter insn;
      memcpy (&insn, buf + off, sizeof insn);
      emit (p, insn.code, insn.jt, insn.jf, insn.k);
    }
  return 0;
}

/* ---- compile ------------------------------------------------------------------------------- */

static int
add_architectures (scmp_filter_ctx ctx, const struct husk_seccomp *seccomp, struct arch_set *arches,
                   struct husk_err *err)
{
  arch_set_add (arches, seccomp_arch_native ());
  for (size_t i = 0; i < seccomp->n_architectures; i++)
    {
      uint32_t token = resolve_arch (seccomp->architectures[i]);
      int rc;

      if (token == 0)
        return husk_err_set (err, 0, "config.json: linux.seccomp.architectures[%zu]: unknown architecture '%s'", i,
                             seccomp->architectures[i]);
      rc = seccomp_arch_add (ctx, token);
      if (rc < 0 && rc != -EEXIST)
        return husk_err_set (err, -rc, "config.json: linux.seccomp.architectures[%zu]: add architecture '%s'", i,
                             seccomp->architectures[i]);
      arch_set_add (arches, token);
    }
  return 0;
}

static int
add_rule (scmp_filter_ctx ctx, const struct husk_seccomp *seccomp, uint32_t default_action, size_t i,
          struct husk_err *err)
{
  const struct husk_seccomp_syscall *sc = &seccomp->syscalls[i];
  struct scmp_arg_cmp cmps[MAX_ARGS];
  char field[64];
  uint32_t action;
  unsigned n_cmps;
  bool never;

  (void) snprintf (field, sizeof field, "linux.seccomp.syscalls[%zu]", i);
  if (convert_action (sc->action, sc->has_errno_ret, sc->errno_ret, field, "action", "errnoRet", &action, err) < 0)
    return -1;
  if (build_conditions (sc, i, cmps, &n_cmps, &never, err) < 0)
    return -1;
  if (never)
    {
      husk_warn ("config.json: %s.args: the conditions can never all hold, so the rule never matches, ignoring",
                 field);
      return 0;
    }
  if (action == default_action)
    {
      husk_debug ("seccomp: %s has the default action, nothing to add", field);
      return 0;
    }
  for (size_t j = 0; j < sc->n_names; j++)
    {
      const char *name = sc->names[j];
      int nr = seccomp_syscall_resolve_name (name);
      int rc;

      if (nr == __NR_SCMP_ERROR)
        {
          husk_debug ("seccomp: %s.names[%zu]: syscall '%s' unknown on this architecture, skipped", field, j, name);
          continue;
        }
      rc = seccomp_rule_add_array (ctx, action, nr, n_cmps, cmps);
      if (rc < 0)
        return husk_err_set (err, -rc, "config.json: %s.names[%zu]: add the rule for syscall '%s'", field, j, name);
    }
  return 0;
}

int
seccomp_compile (const struct husk_seccomp *seccomp, struct husk_seccomp_bpf *out, struct husk_err *err)
{
  cleanup_scmp scmp_filter_ctx ctx = NULL;
  struct prog prog = { NULL, 0, 0 };
  struct arch_set arches = { .n = 0 };
  uint32_t default_action;
  unsigned int flags = 0;
  int rc;

  *out = (struct husk_seccomp_bpf) { NULL, 0, 0 };
  if (seccomp == NULL)
    return 0;
  if (seccomp->listener_path != NULL)
    return husk_err_set (err, 0,
                         "config.json: linux.seccomp.listenerPath: seccomp notify listeners are not supported yet");
  if (convert_action (seccomp->default_action, seccomp->has_default_errno_ret, seccomp->default_errno_ret,
                      "linux.seccomp", "defaultAction", "defaultErrnoRet", &default_action, err)
      < 0)
    return -1;
  if (convert_flags (seccomp, &flags, err) < 0)
    return -1;

  ctx = seccomp_init (default_action);
  if (ctx == NULL)
    return husk_err_set (err, EINVAL, "seccomp_init with default action %s", action_name (seccomp->default_action));
  /* no_new_privs is the child's business (caps_set_no_new_privs), not a side effect of loading.  */
  rc = seccomp_attr_set (ctx, SCMP_FLTATR_CTL_NNP, 0);
  if (rc < 0)
    return husk_err_set (err, -rc, "seccomp: clear the no_new_privs attribute");
  if (add_architectures (ctx, seccomp, &arches, err) < 0)
    return -1;
  for (size_t i = 0; i < seccomp->n_syscalls; i++)
    if (add_rule (ctx, seccomp, default_action, i, err) < 0)
      return -1;

  if (default_needs_enosys_stub (default_action) && emit_enosys_stub (&prog, seccomp, &arches, err) < 0)
    goto fail;
  if (append_exported (ctx, &prog, err) < 0)
    goto fail;
  if (prog.n > BPF_MAXINSNS)
    {
      husk_err_set (err, E2BIG, "the seccomp filter has %zu instructions, more than the kernel's %d", prog.n,
                    BPF_MAXINSNS);
      goto fail;
    }
  out->insns = prog.insns;
  out->n_insns = prog.n;
  out->flags = flags;
  return 0;

fail:
  free (prog.insns);
  return -1;
}

int
seccomp_apply (const struct husk_seccomp_bpf *bpf, struct husk_err *err)
{
  struct sock_fprog fprog;
  long rc;

  if (bpf == NULL || bpf->n_insns == 0)
    return 0;
  fprog.len = (unsigned short) bpf->n_insns;
  fprog.filter = bpf->insns;
  rc = syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, bpf->flags, &fprog);
  if (rc < 0)
    return husk_err_set (err, errno, "install the seccomp filter (flags 0x%x)", bpf->flags);
  if (rc > 0) /* TSYNC: the id of a thread that could not be synchronized */
    return husk_err_set (err, 0, "install the seccomp filter: thread %ld could not be synchronized", rc);
  return 0;
}

void
seccomp_bpf_release (struct husk_seccomp_bpf *bpf)
{
  if (bpf == NULL)
    return;
  free (bpf->insns);
  *bpf = (struct husk_seccomp_bpf) { NULL, 0, 0 };
}
