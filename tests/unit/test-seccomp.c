/* Unit tests for seccomp.c (compile + install), caps.c and process.c.  Filters, capability changes,
 * uid changes and chroots are done in a forked child so the criterion worker keeps working; the
 * child reports through its exit status (0 = as expected, N = check N failed).  */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caps.h"
#include "process.h"
#include "seccomp.h"
#include "util.h"

#define X32_BIT 0x40000000L
#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1 /* si_code of a SIGSYS sent by seccomp */
#endif

/* ---- helpers ------------------------------------------------------------------------------- */

/* Run FN (ARG) in a child; returns its wait status.  FN returns the exit code.  */
static int
in_child (int (*fn) (void *), void *arg)
{
  int status;
  pid_t pid = fork ();

  cr_assert_geq (pid, 0, "fork");
  if (pid == 0)
    _exit (fn (arg));
  cr_assert_eq (waitpid (pid, &status, 0), pid);
  return status;
}

#define cr_assert_child_ok(expr)                                                                       \
  do                                                                                                   \
    {                                                                                                  \
      int st_ = (expr);                                                                                \
      cr_assert (WIFEXITED (st_) && WEXITSTATUS (st_) == 0, "child: %s %d", WIFEXITED (st_) ? "exit" : "signal", \
                 WIFEXITED (st_) ? WEXITSTATUS (st_) : WTERMSIG (st_));                                \
    }                                                                                                  \
  while (0)

static struct husk_seccomp_bpf compiled;

/* Install COMPILED with no_new_privs; 100 + 1/2 on failure.  */
static int
install (void)
{
  struct husk_err err;

  if (caps_set_no_new_privs (&err) < 0)
    return 101;
  if (seccomp_apply (&compiled, &err) < 0)
    return 102;
  return 0;
}

static void
compile_ok (const struct husk_seccomp *s)
{
  struct husk_err err = { 0 };
  seccomp_bpf_release (&compiled);
  cr_assert_eq (seccomp_compile (s, &compiled, &err), 0, "seccomp_compile: %s", err.msg);
  cr_assert_gt (compiled.n_insns, 0);
}

static void
compile_fails (const struct husk_seccomp *s, const char *msg)
{
  struct husk_err err = { 0 };
  struct husk_seccomp_bpf bpf = { 0 };
  cr_assert_eq (seccomp_compile (s, &bpf, &err), -1);
  cr_assert_str_eq (err.msg, msg);
  cr_assert_eq (bpf.n_insns, 0);
  cr_assert_null (bpf.insns);
}

/* syscall() result check: R must be -1 with errno E.  */
#define FAILS_WITH(r, e) ((r) == -1 && errno == (e))

static char *n_getpid[] = { "getpid", NULL };
static char *n_getppid[] = { "getppid", NULL };
static char *n_getpgid[] = { "getpgid", NULL };
static char *n_getsid[] = { "getsid", NULL };
static char *n_exit[] = { "exit_group", "exit", "getpid", NULL };

/* ---- seccomp: actions ---------------------------------------------------------------------- */

static int
child_getpid_errno_42 (void *arg)
{
  int rc = install ();
  if (rc != 0)
    return rc;
  long r = syscall (SYS_getpid);
  if (!FAILS_WITH (r, 42))
    return 1;
  if (syscall (SYS_getppid) <= 0) /* other syscalls untouched */
    return 2;
  return 0;
}

Test (seccomp, rule_errno_ret)
{
  struct husk_seccomp_syscall rules[] = {
    { .names = n_getpid, .n_names = 1, .action = HUSK_SCMP_ERRNO, .has_errno_ret = true, .errno_ret = 42 },
  };
  struct husk_seccomp s = { .default_action = HUSK_SCMP_ALLOW, .syscalls = rules, .n_syscalls = 1 };

  compile_ok (&s);
  cr_assert_child_ok (in_child (child_getpid_errno_42, NULL));
}

Test (seccomp, unknown_syscall_names_are_skipped)
{
  char *names[] = { "no_such_syscall_at_all", "getpid", NULL };
  struct husk_seccomp_syscall rules[] = {
    { .names = names, .n_names = 2, .action = HUSK_SCMP_ERRNO, .has_errno_ret = true, .errno_ret = 42 },
  };
  struct husk_seccomp s = { .default_action = HUSK_SCMP_ALLOW, .syscalls = rules, .n_syscalls = 1 };

  compile_ok (&s);
  cr_assert_child_ok (in_child (child_getpid_errno_42, NULL));
}

static int
child_allow_list (void *arg)
{
  bool x32 = arg != NULL;
  int rc = install ();
  if (rc != 0)
    return rc;
  /* Known to the profile's era (below its highest syscall) but not allowed: the default, EPERM.  */
  if (!FAILS_WITH (syscall (SYS_getppid), EPERM))
    return 1;
  /* Newer than anything the profile names: ENOSYS, so libc falls back.  */
  if (!FAILS_WITH (syscall (1000), ENOSYS))
    return 2;
  if (!FAILS_WITH (syscall (SYS_clone3, NULL, 0), ENOSYS))
    return 3;
  if (syscall (SYS_getpid) <= 0)
    return 4;
  if (x32)
    {
      if (!FAILS_WITH (syscall (X32_BIT | 1000), ENOSYS))
        return 5;
      if (!FAILS_WITH (syscall (X32_BIT | 110 /* x32 getppid */), EPERM))
        return 6;
    }
  return 0;
}

Test (seccomp, default_errno_allow_list_gives_enosys_for_unknown)
{
  struct husk_seccomp_syscall rules[] = { { .names = n_exit, .n_names = 3, .action = HUSK_SCMP_ALLOW } };
  struct husk_seccomp s = { .default_action = HUSK_SCMP_ERRNO, .syscalls = rules, .n_syscalls = 1 };

  compile_ok (&s);
  cr_assert_child_ok (in_child (child_allow_list, NULL));
}

Test (seccomp, enosys_with_architectures_x86_x32)
{
  char *arches[] = { "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", NULL };
  struct husk_seccomp_syscall rules[] = { { .names = n_exit, .n_names = 3, .action = HUSK_SCMP_ALLOW } };
  struct husk_seccomp s = { .default_action = HUSK_SCMP_ERRNO,
                            .architectures = arches,
                            .n_architectures = 3,
                            .syscalls = rules,
                            .n_syscalls = 1 };

  compile_ok (&s);
  cr_assert_child_ok (in_child (child_allow_list, (void *) 1));
}

static int
child_default_errno_value (void *arg)
{
  int rc = install ();
  if (rc != 0)
    return rc;
  if (!FAILS_WITH (syscall (SYS_getppid), 13))
    return 1;
  if (!FAILS_WITH (syscall (1000), ENOSYS))
    return 2;
  return 0;
}

Test (seccomp, default_errno_ret)
{
  struct husk_seccomp_syscall rules[] = { { .names = n_exit, .n_names = 3, .action = HUSK_SCMP_ALLOW } };
  struct husk_seccomp s = { .default_action = HUSK_SCMP_ERRNO,
                            .has_default_errno_ret = true,
                            .default_errno_ret = 13,
                            .syscalls = rules,
                            .n_syscalls = 1 };

  compile_ok (&s);
  cr_assert_child_ok (in_child (child_default_errno_value, NULL));
}

static int
child_call_getppid (void *arg)
{
  int rc = install ();
  if (rc != 0)
    return rc;
  (void) syscall (SYS_getppid);
  return 0;
}

Test (seccomp, kill_process_and_kill_send_sigsys)
{
  enum husk_seccomp_action actions[] = { HUSK_SCMP_KILL_PROCESS, HUSK_SCMP_KILL, HUSK_SCMP_KILL_THREAD };

  for (size_t i = 0; i < ARRAY_SIZE (actions); i++)
    {
      struct husk_seccomp_syscall rules[] = { { .names = n_getppid, .n_names = 1, .action = actions[i] } };
      struct husk_seccomp s = { .default_action = HUSK_SCMP_ALLOW, .syscalls = rules, .n_syscalls = 1 };
      int status;

      compile_ok (&s);
      status = in_child (child_call_getppid, NULL);
      cr_assert (WIFSIGNALED (status) && WTERMSIG (status) == SIGSYS, "action %zu: status 0x%x", i, status);
    }
}

static void
on_sigsys (int sig, siginfo_t *info, void *ctx)
{
  _exit (info->si_syscall == SYS_getppid && info->si_code == SYS_SECCOMP ? 0 : 1);
}

static int
child_trap (void *arg)
{
  struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
  int rc;

  sigaction (SIGSYS, &sa, NULL);
  rc = install ();
  if (rc != 0)
    return rc;
  (void) syscall (SYS_getppid);
  return 3; /* the handler should have exited */
}

Test (seccomp, trap_delivers_sigsys_with_the_syscall)
{
  struct husk_seccomp_syscall rules[] = { { .names = n_getppid, .n_names = 1, .action = HUSK_SCMP_TRAP } };
  struct husk_seccomp s = { .default_action = HUSK_SCMP_ALLOW, .syscalls = rules, .n_syscalls = 1 };

  compile_ok (&s);
  cr_assert_child_ok (in_child (child_trap, NULL));
}

static int
child_trace_and_log (void *arg)
{
  int rc = install ();
  if (rc != 0)
    return rc;
  /* TRACE with no tracer attached: the kernel fails the call with ENOSYS.  */
  if (!FAILS_WITH (syscall (SYS_getppid), ENOSYS))
    return 1;
  /* LOG: the call runs (and is logged).  */
  if (syscall (SYS_getpid) <= 0)
    return 2;
  return 0;
}

Test (seccomp, trace_without_tracer_and_log)
{
  struct husk_seccomp_syscall rules[] = {
    { .names = n_getppid, .n_names = 1, .action = HUSK_SCMP_TRACE, .has_errno_ret = true, .errno_ret = 5 },
    { .names = n_getpid, .n_names = 1, .action = HUSK_SCMP_LOG },
  };
  struct husk_seccomp s = { .default_action = HUSK_SCMP_ALLOW, .syscalls = rules, .n_syscalls = 2 };

  compile_ok (&s);
  cr_assert_child_ok (in_child (child_trace_and_log, NULL));
}

static int
child_default_allow_no_stub (void *arg)
{
  int rc = install ();
  if (rc != 0)
    return rc;
  /* Under a permissive default the kernel answers, and a syscall newer than the profile still works.  */
  if (syscall (SYS_getppid) <= 0)
    return 1;
  if (!FAILS_WITH (syscall (SYS_clone3, NULL, 0), EINVAL))
    return 2;
  return 0;
}

Test (seccomp, permissive_default_has_no_enosys_stub)
{
  struct husk_seccomp_syscall rules[] = {
    { .names = n_getpid, .n_names = 1, .action = HUSK_SCMP_ERRNO, .has_errno_ret = true, .errno_ret = 42 },
  };
  enum husk_seccomp_action defaults[] = { HUSK_SCMP_ALLOW, HUSK_SCMP_LOG };

  for (size_t i = 0; i < ARRAY_SIZE (defaults); i++)
    {
      struct husk_seccomp s = { .default_action = defaults[i], .syscalls = rules, .n_syscalls = 1 };
      compile_ok (&s);
      cr_assert_child_ok (in_child (child_default_allow_no_stub, NULL));
    }
}

Test (seccomp, rule_with_the_default_action_is_skipped)
{
  struct husk_seccomp_syscall rules[] = {
    { .names = n_getppid, .n_names = 1, .action = HUSK_SCMP_ERRNO }, /* EPERM = the default */
    { .names = n_exit, .n_names = 3, .action = HUSK_SCMP_ALLOW },
  };
  struct husk_seccomp s = { .default_action = HUSK_SCMP_ERRNO, .syscalls = rules, .n_syscalls = 2 };

  compile_ok (&s);
  cr_assert_child_ok (in_child (child_allow_list, NULL));
}

/* ---- seccomp: argument conditions ---------------------------------------------------------- */

static int
child_args (void *arg)
{
  int rc = install ();
  if (rc != 0)
    return rc;
  /* getpgid: arg0 == 12345 -> ERRNO 7, other values reach the kernel (ESRCH).  */
  if (!FAILS_WITH (syscall (SYS_getpgid, 12345), 7))
    return 1;
  if (!FAILS_WITH (syscall (SYS_getpgid, 12346), ESRCH))
    return 2;
  if (syscall (SYS_getpgid, 0) <= 0)
    return 3;
  /* getsid: (arg0 & 0xff00) == 0x1200 -> ERRNO 8.  */
  if (!FAILS_WITH (syscall (SYS_getsid, 0x1234), 8))
    return 4;
  if (!FAILS_WITH (syscall (SYS_getsid, 0x1334), ESRCH))
    return 5;
  return 0;
}

Test (seccomp, argument_conditions_eq_and_masked_eq)
{
  struct husk_seccomp_arg eq[] = { { .index = 0, .value = 12345, .op = HUSK_SCMP_CMP_EQ } };
  struct husk_seccomp_arg masked[] = {
    { .index = 0, .value = 0xff00, .value_two = 0x1200, .op = HUSK_SCMP_CMP_MASKED_EQ },
  };
  struct husk_seccomp_syscall rules[] = {
    { .names = n_getpgid, .n_names = 1, .action = HUSK_SCMP_ERRNO, .has_errno_ret = true, .errno_ret = 7,
      .args = eq, .n_args = 1 },
    { .names = n_getsid, .n_names = 1, .action = HUSK_SCMP_ERRNO, .has_errno_ret = true, .errno_ret = 8,
      .args = masked, .n_args = 1 },
  };
  struct husk_seccomp s = { .default_action = HUSK_SCMP_ALLOW, .syscalls = rules, .n_syscalls = 2 };

  compile_ok (&s);
  cr_assert_child_ok (in_child (child_args, NULL));
}

static int
child_personality (void *arg)
{
  int rc = install ();
  if (rc != 0)
    return rc;
  if (!FAILS_WITH (syscall (SYS_personality, 0xffffffffUL), 9))
    return 1;
  if (syscall (SYS_personality, PER_LINUX) < 0)
    return 2;
  return 0;
}

Test (seccomp, personality_query_denied_by_argument)
{
  struct husk_seccomp_arg a[] = { { .index = 0, .value = 0xffffffff, .op = HUSK_SCMP_CMP_EQ } };
  char *names[] = { "personality", NULL };
  struct husk_seccomp_syscall rules[] = {
    { .names = names, .n_names = 1, .action = HUSK_SCMP_ERRNO, .has_errno_ret = true, .errno_ret = 9, .args = a,
      .n_args = 1 },
  };
  struct husk_seccomp s = { .default_action = HUSK_SCMP_ALLOW, .syscalls = rules, .n_syscalls = 1 };

  compile_ok (&s);
  cr_assert_child_ok (in_child (child_personality, NULL));
}

static int
child_same_arg_and (void *arg)
{
  int rc = install ();
  if (rc != 0)
    return rc;
  /* 256 <= arg0 <= 511 (both must hold) -> ERRNO 7  */
  if (!FAILS_WITH (syscall (SYS_getpgid, 300), 7))
    return 1;
  if (!FAILS_WITH (syscall (SYS_getpgid, 600), ESRCH))
    return 2;
  if (!FAILS_WITH (syscall (SYS_getpgid, 200), ESRCH))
    return 3;
  /* arg0 > 0x1000 and arg0 >= 0x2000 (merged: arg0 >= 0x2000) -> ERRNO 8 on getsid  */
  if (!FAILS_WITH (syscall (SYS_getsid, 0x2000), 8))
    return 4;
  if (!FAILS_WITH (syscall (SYS_getsid, 0x1800), ESRCH))
    return 5;
  return 0;
}

Test (seccomp, conditions_on_the_same_argument_are_anded)
{
  struct husk_seccomp_arg range[] = {
    { .index = 0, .value = 256, .op = HUSK_SCMP_CMP_GE },
    { .index = 0, .value = 511, .op = HUSK_SCMP_CMP_LE },
  };
  struct husk_seccomp_arg lower[] = {
    { .index = 0, .value = 0x1000, .op = HUSK_SCMP_CMP_GT },
    { .index = 0, .value = 0x2000, .op = HUSK_SCMP_CMP_GE },
  };
  struct husk_seccomp_syscall rules[] = {
    { .names = n_getpgid, .n_names = 1, .action = HUSK_SCMP_ERRNO, .has_errno_ret = true, .errno_ret = 7,
      .args = range, .n_args = 2 },
    { .names = n_getsid, .n_names = 1, .action = HUSK_SCMP_ERRNO, .has_errno_ret = true, .errno_ret = 8,
      .args = lower, .n_args = 2 },
  };
  struct husk_seccomp s = { .default_action = HUSK_SCMP_ALLOW, .syscalls = rules, .n_syscalls = 2 };

  compile_ok (&s);
  cr_assert_child_ok (in_child (child_same_arg_and, NULL));
}

static int
child_never_matching_rule (void *arg)
{
  int rc = install ();
  if (rc != 0)
    return rc;
  if (syscall (SYS_getpgid, 0) <= 0) /* the rule (arg0 == 1 and arg0 == 2) never matches */
    return 1;
  if (syscall (SYS_getpgid, 1) < 0) /* 0 when pid 1's group is outside our pid namespace */
    return 2;
  return 0;
}

Test (seccomp, contradictory_conditions_skip_the_rule)
{
  struct husk_seccomp_arg a[] = {
    { .index = 0, .value = 1, .op = HUSK_SCMP_CMP_EQ },
    { .index = 0, .value = 2, .op = HUSK_SCMP_CMP_EQ },
  };
  struct husk_seccomp_syscall rules[] = {
    { .names = n_getpgid, .n_names = 1, .action = HUSK_SCMP_KILL_PROCESS, .args = a, .n_args = 2 },
  };
  struct husk_seccomp s = { .default_action = HUSK_SCMP_ALLOW, .syscalls = rules, .n_syscalls = 1 };

  compile_ok (&s);
  cr_assert_child_ok (in_child (child_never_matching_rule, NULL));
}

Test (seccomp, inexpressible_same_argument_conditions_are_an_error)
{
  struct husk_seccomp_arg a[] = {
    { .index = 1, .value = 5, .op = HUSK_SCMP_CMP_NE },
    { .index = 1, .value = 6, .op = HUSK_SCMP_CMP_NE },
  };
  struct husk_seccomp_syscall rules[] = {
    { .names = n_getpgid, .n_names = 1, .action = HUSK_SCMP_ALLOW },
    { .names = n_getpgid, .n_names = 1, .action = HUSK_SCMP_KILL_PROCESS, .args = a, .n_args = 2 },
  };
  struct husk_seccomp s = { .default_action = HUSK_SCMP_ERRNO, .syscalls = rules, .n_syscalls = 2 };

  compile_fails (&s, "config.json: linux.seccomp.syscalls[1].args: the 2 conditions on argument 1 cannot be "
                     "expressed as one comparison (libseccomp compares an argument once per rule); split the entry");
}

/* ---- seccomp: configuration errors and flags ----------------------------------------------- */

Test (seccomp, unknown_architecture)
{
  char *arches[] = { "SCMP_ARCH_X86_64", "SCMP_ARCH_PDP11", NULL };
  struct husk_seccomp s = { .default_action = HUSK_SCMP_ALLOW, .architectures = arches, .n_architectures = 2 };

  compile_fails (&s, "config.json: linux.seccomp.architectures[1]: unknown architecture 'SCMP_ARCH_PDP11'");
  arches[1] = "x86";
  compile_fails (&s, "config.json: linux.seccomp.architectures[1]: unknown architecture 'x86'");
}

Test (seccomp, flags)
{
  char *flags[] = { "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_TSYNC", NULL };
  char *bad[] = { "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_FOO", NULL };
  struct husk_seccomp s = { .default_action = HUSK_SCMP_ALLOW };

  compile_ok (&s); /* absent: SPEC_ALLOW, as runc and crun */
  cr_assert_eq (compiled.flags, SECCOMP_FILTER_FLAG_SPEC_ALLOW);
  s.has_flags = true; /* an empty list: none */
  compile_ok (&s);
  cr_assert_eq (compiled.flags, 0);
  s.flags = flags;
  s.n_flags = 2;
  compile_ok (&s);
  cr_assert_eq (compiled.flags, SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_TSYNC);
  s.flags = bad;
  compile_fails (&s, "config.json: linux.seccomp.flags[1]: unknown flag 'SECCOMP_FILTER_FLAG_FOO'");
}

Test (seccomp, notify_is_refused)
{
  struct husk_seccomp_syscall rules[] = { { .names = n_getpid, .n_names = 1, .action = HUSK_SCMP_NOTIFY } };
  struct husk_seccomp s = { .default_action = HUSK_SCMP_ALLOW, .syscalls = rules, .n_syscalls = 1 };

  compile_fails (&s, "config.json: linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY: not supported yet");
  s.n_syscalls = 0;
  s.default_action = HUSK_SCMP_NOTIFY;
  compile_fails (&s, "config.json: linux.seccomp.defaultAction: SCMP_ACT_NOTIFY: not supported yet");
}

Test (seccomp, errno_ret_needs_errno_or_trace)
{
  struct husk_seccomp_syscall rules[] = {
    { .names = n_getpid, .n_names = 1, .action = HUSK_SCMP_KILL_PROCESS, .has_errno_ret = true, .errno_ret = 1 },
  };
  struct husk_seccomp s = { .default_action = HUSK_SCMP_ALLOW, .syscalls = rules, .n_syscalls = 1 };

  compile_fails (&s, "config.json: linux.seccomp.syscalls[0].errnoRet: only valid with SCMP_ACT_ERRNO or "
                     "SCMP_ACT_TRACE, not SCMP_ACT_KILL_PROCESS");
}

Test (seccomp, bad_argument_index)
{
  struct husk_seccomp_arg a[] = { { .index = 6, .value = 1, .op = HUSK_SCMP_CMP_EQ } };
  struct husk_seccomp_syscall rules[] = {
    { .names = n_getpid, .n_names = 1, .action = HUSK_SCMP_ERRNO, .args = a, .n_args = 1 },
  };
  struct husk_seccomp s = { .default_action = HUSK_SCMP_ALLOW, .syscalls = rules, .n_syscalls = 1 };

  compile_fails (&s, "config.json: linux.seccomp.syscalls[0].args[0].index: 6 is out of range (0-5)");
}

Test (seccomp, null_profile_is_a_no_op)
{
  struct husk_seccomp_bpf bpf = { (void *) 1, 7, 7 };
  struct husk_err err = { 0 };

  cr_assert_eq (seccomp_compile (NULL, &bpf, &err), 0);
  cr_assert_eq (bpf.n_insns, 0);
  cr_assert_null (bpf.insns);
  cr_assert_eq (seccomp_apply (&bpf, &err), 0);
  seccomp_bpf_release (&bpf);
}

/* ---- capabilities -------------------------------------------------------------------------- */

/* The hex value of FIELD ("CapBnd") in /proc/self/status, or UINT64_MAX.  */
static uint64_t
status_caps (const char *field)
{
  cleanup_free char *text = NULL;
  struct husk_err err;
  char *p;
  size_t len = strlen (field);

  text = read_file_at (-1, "/proc/self/status", 1 << 16, NULL, &err);
  if (text == NULL)
    return UINT64_MAX;
  for (p = text; p != NULL && *p != '\0'; p = strchr (p, '\n'), p = p ? p + 1 : NULL)
    if (strncmp (p, field, len) == 0 && p[len] == ':')
      return strtoull (p + len + 1, NULL, 16);
  return UINT64_MAX;
}

#define CAPBIT(c) (UINT64_C (1) << (c))

static int
child_drop_bounding (void *arg)
{
  struct husk_capabilities caps = { .bounding = CAPBIT (0) | CAPBIT (5) | CAPBIT (21) };
  struct husk_err err;

  if (caps_drop_bounding (&caps, &err) < 0)
    return 1;
  if (status_caps ("CapBnd") != caps.bounding)
    return 2;
  return 0;
}

Test (caps, drop_bounding)
{
  cr_assert_geq (caps_last_cap (), 30);
  cr_assert_child_ok (in_child (child_drop_bounding, NULL));
}

static int
child_user_and_caps (void *arg)
{
  const uint64_t net = CAPBIT (10) | CAPBIT (12); /* CAP_NET_BIND_SERVICE, CAP_NET_ADMIN */
  struct husk_capabilities caps = { .bounding = net, .effective = net, .permitted = net, .inheritable = net,
                                    .ambient = CAPBIT (10) };
  uint32_t gids[] = { 5, 6 };
  struct husk_user user = { .uid = 1000, .gid = 1001, .has_umask = true, .umask = 027, .additional_gids = gids,
                            .n_additional_gids = 2 };
  struct husk_err err;
  uid_t r, e, s;
  gid_t groups[8];

  if (caps_drop_bounding (&caps, &err) < 0)
    return 1;
  if (process_set_user (&user, 1, &err) < 0)
    return 2;
  if (getresuid (&r, &e, &s) < 0 || r != 1000 || e != 1000 || s != 1000 || getgid () != 1001)
    return 3;
  if (getgroups (8, groups) != 2 || groups[0] != 5 || groups[1] != 6)
    return 4;
  if (umask (0) != 027)
    return 5;
  /* PR_SET_KEEPCAPS kept the permitted set across the uid change; effective was cleared.  */
  if (status_caps ("CapPrm") == 0 || status_caps ("CapEff") != 0)
    return 6;
  if (caps_apply (&caps, &err) < 0)
    return 7;
  if (status_caps ("CapEff") != net || status_caps ("CapPrm") != net || status_caps ("CapInh") != net
      || status_caps ("CapAmb") != CAPBIT (10) || status_caps ("CapBnd") != net)
    return 8;
  return 0;
}

Test (caps, user_then_caps_apply)
{
  cr_assert_child_ok (in_child (child_user_and_caps, NULL));
}

static int
child_ambient_not_permitted (void *arg)
{
  struct husk_capabilities caps = { .effective = CAPBIT (10), .permitted = CAPBIT (10), .ambient = CAPBIT (12) };
  struct husk_err err;

  if (caps_apply (&caps, &err) != -1)
    return 1;
  if (strcmp (err.msg, "config.json: process.capabilities.ambient: raise 'CAP_NET_ADMIN': an ambient capability "
                       "must also be permitted and inheritable")
      != 0)
    return 2;
  return 0;
}

Test (caps, ambient_must_be_permitted_and_inheritable)
{
  cr_assert_child_ok (in_child (child_ambient_not_permitted, NULL));
}

static int
child_setgroups_denied (void *arg)
{
  uint32_t gids[] = { 5 };
  struct husk_user user = { .uid = 0, .gid = 0, .additional_gids = gids, .n_additional_gids = 1 };
  struct husk_err err;

  if (process_set_user (&user, 0, &err) != -1 || err.errnum != EPERM)
    return 1;
  user.n_additional_gids = 0;
  if (process_set_user (&user, 0, &err) < 0)
    return 2;
  return 0;
}

Test (process, setgroups_denied)
{
  cr_assert_child_ok (in_child (child_setgroups_denied, NULL));
}

/* ---- process: sysctl ----------------------------------------------------------------------- */

static char tmp[64];

static void
make_tmp (void)
{
  strcpy (tmp, "/tmp/husk-test-XXXXXX");
  cr_assert_not_null (mkdtemp (tmp));
}

static void
remove_tmp (void)
{
  char *cmd = xasprintf ("rm -rf '%s'", tmp);
  (void) !system (cmd);
  free (cmd);
}

static void
make_file (const char *rel, mode_t mode)
{
  char *path = xasprintf ("%s/%s", tmp, rel);
  char *dir = xstrdup (path);
  char *cmd;
  int fd;

  *strrchr (dir, '/') = '\0';
  cmd = xasprintf ("mkdir -p '%s'", dir);
  cr_assert_eq (system (cmd), 0);
  fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  cr_assert_geq (fd, 0);
  close (fd);
  cr_assert_eq (chmod (path, mode), 0);
  free (cmd);
  free (dir);
  free (path);
}

static char *
slurp (const char *rel)
{
  char *path = xasprintf ("%s/%s", tmp, rel);
  struct husk_err err;
  char *text = read_file_at (-1, path, 4096, NULL, &err);
  free (path);
  cr_assert_not_null (text);
  return text;
}

Test (process, sysctl_paths, .init = make_tmp, .fini = remove_tmp)
{
  struct husk_sysctl entries[] = {
    { "net.ipv4.ip_forward", "1" },
    { "net.ipv4.conf.eth0/100.rp_filter", "2" },
    { "net/ipv4/conf/eth0.200/rp_filter", "3" },
  };
  struct husk_linux linux_ = { .sysctl = entries, .n_sysctl = 3 };
  struct husk_err err = { 0 };
  cleanup_close int fd = -1;
  cleanup_free char *a = NULL, *b = NULL, *c = NULL;

  make_file ("sys/net/ipv4/ip_forward", 0644);
  make_file ("sys/net/ipv4/conf/eth0.100/rp_filter", 0644);
  make_file ("sys/net/ipv4/conf/eth0.200/rp_filter", 0644);
  fd = open (tmp, O_PATH | O_DIRECTORY | O_CLOEXEC);
  cr_assert_eq (process_set_sysctl (&linux_, fd, &err), 0, "%s", err.msg);
  a = slurp ("sys/net/ipv4/ip_forward");
  b = slurp ("sys/net/ipv4/conf/eth0.100/rp_filter");
  c = slurp ("sys/net/ipv4/conf/eth0.200/rp_filter");
  cr_assert_str_eq (a, "1");
  cr_assert_str_eq (b, "2");
  cr_assert_str_eq (c, "3");
}

Test (process, sysctl_bad_keys, .init = make_tmp, .fini = remove_tmp)
{
  const char *bad[] = { "", "net..ipv4", "..", "net/../../etc/passwd", "kernel.", ".kernel", "/etc/passwd" };
  cleanup_close int fd = open (tmp, O_PATH | O_DIRECTORY | O_CLOEXEC);

  for (size_t i = 0; i < ARRAY_SIZE (bad); i++)
    {
      struct husk_sysctl e = { (char *) bad[i], "1" };
      struct husk_linux linux_ = { .sysctl = &e, .n_sysctl = 1 };
      struct husk_err err = { 0 };
      char *want = xasprintf ("config.json: linux.sysctl: invalid key '%s'", bad[i]);

      cr_assert_eq (process_set_sysctl (&linux_, fd, &err), -1, "key '%s'", bad[i]);
      cr_assert_str_eq (err.msg, want);
      free (want);
    }
}

Test (process, sysctl_refuses_symlinks, .init = make_tmp, .fini = remove_tmp)
{
  struct husk_sysctl e = { "kernel.link", "1" };
  struct husk_linux linux_ = { .sysctl = &e, .n_sysctl = 1 };
  struct husk_err err = { 0 };
  char *target = xasprintf ("%s/target", tmp);
  char *link = xasprintf ("%s/sys/kernel/link", tmp);
  cleanup_close int fd = -1;
  cleanup_free char *text = NULL;

  make_file ("target", 0644);
  make_file ("sys/kernel/other", 0644);
  cr_assert_eq (symlink (target, link), 0);
  fd = open (tmp, O_PATH | O_DIRECTORY | O_CLOEXEC);
  cr_assert_eq (process_set_sysctl (&linux_, fd, &err), -1);
  cr_assert_eq (err.errnum, ELOOP, "%s", err.msg);
  text = slurp ("target");
  cr_assert_str_eq (text, "");
  free (target);
  free (link);
}

Test (process, oom_score_adj)
{
  struct husk_process p = { .has_oom_score_adj = true, .oom_score_adj = 321 };
  struct husk_err err = { 0 };
  cleanup_close int piddirfd = open ("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
  cleanup_free char *text = NULL;

  cr_assert_eq (process_set_oom_score_adj (&p, piddirfd, &err), 0, "%s", err.msg);
  text = read_file_at (-1, "/proc/self/oom_score_adj", 64, NULL, &err);
  cr_assert_str_eq (text, "321\n");
}

/* ---- process: rlimits, personality --------------------------------------------------------- */

static int
child_rlimits (void *arg)
{
  struct husk_rlimit limits[] = {
    { RLIMIT_NOFILE, 200, 100 },
    { RLIMIT_CORE, UINT64_MAX, 0 },
  };
  struct husk_process p = { .rlimits = limits, .n_rlimits = 2 };
  struct husk_rlimit too_high[] = { { RLIMIT_NOFILE, 300, 300 } };
  struct husk_process q = { .rlimits = too_high, .n_rlimits = 1 };
  struct husk_err err;
  struct rlimit rl;

  if (process_set_rlimits (&p, &err) < 0)
    return 1;
  if (getrlimit (RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur != 100 || rl.rlim_max != 200)
    return 2;
  if (getrlimit (RLIMIT_CORE, &rl) < 0 || rl.rlim_cur != 0 || rl.rlim_max != RLIM_INFINITY)
    return 3;
  /* Raising a hard limit needs CAP_SYS_RESOURCE: drop it and check the error names the field.  */
  if (prctl (PR_CAPBSET_DROP, 24 /* CAP_SYS_RESOURCE */, 0, 0, 0) < 0)
    return 4;
  struct husk_capabilities none = { 0 };
  if (caps_apply (&none, &err) < 0)
    return 5;
  if (process_set_rlimits (&q, &err) != -1)
    return 6;
  if (strcmp (err.msg, "config.json: process.rlimits[0]: set 'RLIMIT_NOFILE' to soft 300, hard 300") != 0 || err.errnum != EPERM)
    return 7;
  return 0;
}

Test (process, rlimits)
{
  cr_assert_child_ok (in_child (child_rlimits, NULL));
}

static int
child_personality_linux32 (void *arg)
{
  struct husk_personality per = { .domain = "LINUX32" };
  struct husk_linux linux_ = { .personality = &per };
  struct husk_err err;

  if (process_set_personality (&linux_, &err) < 0)
    return 1;
  if ((personality (0xffffffff) & PER_MASK) != PER_LINUX32)
    return 2;
  per.domain = "LINUX64";
  if (process_set_personality (&linux_, &err) != -1
      || strcmp (err.msg, "config.json: linux.personality.domain: unknown domain 'LINUX64'") != 0)
    return 3;
  return 0;
}

Test (process, personality)
{
  cr_assert_child_ok (in_child (child_personality_linux32, NULL));
}

/* ---- process: cwd and executable lookup ---------------------------------------------------- */

static int
child_chdir_outside_root (void *arg)
{
  struct husk_err err;
  char *root = xasprintf ("%s/root", tmp);
  int outside;

  if (mkdir (root, 0755) < 0)
    return 1;
  outside = open (tmp, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (outside < 0 || chroot (root) < 0 || chdir ("/") < 0)
    return 2;
  if (process_chdir ("/", &err) < 0)
    return 3;
  /* A directory fd from outside the root (the CVE-2024-21626 leak) */
  if (fchdir (outside) < 0)
    return 4;
  if (process_chdir (".", &err) != -1 || !strstr (err.msg, "is outside the container's root"))
    return 5;
  return 0;
}

Test (process, chdir, .init = make_tmp, .fini = remove_tmp)
{
  struct husk_err err = { 0 };

  cr_assert_eq (process_chdir (tmp, &err), 0, "%s", err.msg);
  cr_assert_eq (process_chdir ("/no/such/dir", &err), -1);
  cr_assert_eq (err.errnum, ENOENT);
  cr_assert_str_eq (err.msg, "config.json: process.cwd: chdir to '/no/such/dir'");
  cr_assert_child_ok (in_child (child_chdir_outside_root, NULL));
}

Test (process, find_executable, .init = make_tmp, .fini = remove_tmp)
{
  struct husk_err err = { 0 };
  char *path_env = xasprintf ("PATH=%s/missing:%s/bin:%s/bin2", tmp, tmp, tmp);
  char *env[] = { "HOME=/", path_env, NULL };
  char *found, *want;

  make_file ("bin/tool", 0755);
  make_file ("bin/data", 0644);
  make_file ("bin2/data", 0755);
  make_file ("bin/only-here", 0644);
  make_file ("bin/dir/x", 0644);

  found = process_find_executable ("tool", env, &err);
  want = xasprintf ("%s/bin/tool", tmp);
  cr_assert_str_eq (found, want);
  free (found), free (want);

  /* Not executable in the first directory: the search goes on, as execvp's.  */
  found = process_find_executable ("data", env, &err);
  want = xasprintf ("%s/bin2/data", tmp);
  cr_assert_str_eq (found, want);
  free (found), free (want);

  cr_assert_null (process_find_executable ("only-here", env, &err));
  cr_assert_eq (err.errnum, EACCES);
  want = xasprintf ("exec 'only-here': found in $PATH '%s' but not executable", path_env + 5);
  cr_assert_str_eq (err.msg, want);
  free (want);

  cr_assert_null (process_find_executable ("dir", env, &err));
  cr_assert_eq (err.errnum, EACCES);

  cr_assert_null (process_find_executable ("nothere", env, &err));
  cr_assert_eq (err.errnum, ENOENT);
  want = xasprintf ("executable 'nothere' not found in $PATH '%s'", path_env + 5);
  cr_assert_str_eq (err.msg, want);
  free (want);

  /* No PATH in env: the default one.  */
  found = process_find_executable ("sh", NULL, &err);
  cr_assert_not_null (found, "%s", err.msg);
  cr_assert (has_prefix (found, "/usr/") || has_prefix (found, "/bin/"), "%s", found);
  free (found);
  cr_assert_null (process_find_executable ("nothere", NULL, &err));
  cr_assert_str_eq (err.msg, "executable 'nothere' not found in $PATH "
                             "'/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'");

  /* A name with a slash is used as it is.  */
  want = xasprintf ("%s/bin/tool", tmp);
  found = process_find_executable (want, env, &err);
  cr_assert_str_eq (found, want);
  free (found);
  free (want);
  want = xasprintf ("%s/bin/data", tmp);
  cr_assert_null (process_find_executable (want, env, &err));
  cr_assert_eq (err.errnum, EACCES);
  free (want);
  cr_assert_eq (chdir (tmp), 0);
  found = process_find_executable ("bin/tool", env, &err);
  want = xasprintf ("%s/bin/tool", tmp);
  cr_assert_str_eq (found, want);
  free (found);
  free (want);
  free (path_env);
}
