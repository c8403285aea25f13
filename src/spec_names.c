/* Name tables: OCI spec strings <-> kernel numbers (see spec_names.h).  */
#include "config.h"

#include <ctype.h>
#include <sched.h>
#include <stddef.h>
#include <string.h>
#include <sys/resource.h>

#include <seccomp.h>

#include "spec_names.h"
#include "util.h"

struct name_value
{
  const char *name;
  int value;
};

static int
lookup_value (const struct name_value *t, size_t n, const char *name)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp (t[i].name, name) == 0)
      return t[i].value;
  return -1;
}

static const char *
lookup_name (const struct name_value *t, size_t n, int value)
{
  for (size_t i = 0; i < n; i++)
    if (t[i].value == value)
      return t[i].name;
  return NULL;
}

#define FROM_NAME(table, name) lookup_value (table, ARRAY_SIZE (table), name)
#define TO_NAME(table, value) lookup_name (table, ARRAY_SIZE (table), value)

/* ---- capabilities: index = number (linux/capability.h) -------------------------------------- */

static const char *const cap_names[SPEC_CAP_LAST + 1] = {
  "CAP_CHOWN",            "CAP_DAC_OVERRIDE",     "CAP_DAC_READ_SEARCH",  "CAP_FOWNER",
  "CAP_FSETID",           "CAP_KILL",             "CAP_SETGID",           "CAP_SETUID",
  "CAP_SETPCAP",          "CAP_LINUX_IMMUTABLE",  "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
  "CAP_NET_ADMIN",        "CAP_NET_RAW",          "CAP_IPC_LOCK",         "CAP_IPC_OWNER",
  "CAP_SYS_MODULE",       "CAP_SYS_RAWIO",        "CAP_SYS_CHROOT",       "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT",        "CAP_SYS_ADMIN",        "CAP_SYS_BOOT",         "CAP_SYS_NICE",
  "CAP_SYS_RESOURCE",     "CAP_SYS_TIME",         "CAP_SYS_TTY_CONFIG",   "CAP_MKNOD",
  "CAP_LEASE",            "CAP_AUDIT_WRITE",      "CAP_AUDIT_CONTROL",    "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE",     "CAP_MAC_ADMIN",        "CAP_SYSLOG",           "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND",    "CAP_AUDIT_READ",       "CAP_PERFMON",          "CAP_BPF",
  "CAP_CHECKPOINT_RESTORE",
};

int
spec_cap_from_name (const char *name)
{
  for (int i = 0; i <= SPEC_CAP_LAST; i++)
    if (strcmp (cap_names[i], name) == 0)
      return i;
  return -1;
}

const char *
spec_cap_name (int cap)
{
  if (cap < 0 || cap > SPEC_CAP_LAST)
    return NULL;
  return cap_names[cap];
}

/* ---- rlimits ------------------------------------------------------------------------------- */

static const struct name_value rlimits[] = {
  { "RLIMIT_CPU", RLIMIT_CPU },         { "RLIMIT_FSIZE", RLIMIT_FSIZE },
  { "RLIMIT_DATA", RLIMIT_DATA },       { "RLIMIT_STACK", RLIMIT_STACK },
  { "RLIMIT_CORE", RLIMIT_CORE },       { "RLIMIT_RSS", RLIMIT_RSS },
  { "RLIMIT_NPROC", RLIMIT_NPROC },     { "RLIMIT_NOFILE", RLIMIT_NOFILE },
  { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK }, { "RLIMIT_AS", RLIMIT_AS },
  { "RLIMIT_LOCKS", RLIMIT_LOCKS },     { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
  { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE }, { "RLIMIT_NICE", RLIMIT_NICE },
  { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },   { "RLIMIT_RTTIME", RLIMIT_RTTIME },
};

int
spec_rlimit_from_name (const char *name)
{
  return FROM_NAME (rlimits, name);
}

const char *
spec_rlimit_name (int resource)
{
  return TO_NAME (rlimits, resource);
}

/* ---- namespaces: index = enum husk_ns_type ------------------------------------------------- */

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const struct
{
  const char *type; /* config-linux.md name */
  const char *proc; /* /proc/<pid>/ns/ entry */
  int flag;         /* clone(2) / setns(2) flag */
} namespaces[HUSK_NS_COUNT] = {
  [HUSK_NS_PID] = { "pid", "pid", CLONE_NEWPID },
  [HUSK_NS_NETWORK] = { "network", "net", CLONE_NEWNET },
  [HUSK_NS_MOUNT] = { "mount", "mnt", CLONE_NEWNS },
  [HUSK_NS_IPC] = { "ipc", "ipc", CLONE_NEWIPC },
  [HUSK_NS_UTS] = { "uts", "uts", CLONE_NEWUTS },
  [HUSK_NS_USER] = { "user", "user", CLONE_NEWUSER },
  [HUSK_NS_CGROUP] = { "cgroup", "cgroup", CLONE_NEWCGROUP },
  [HUSK_NS_TIME] = { "time", "time", CLONE_NEWTIME },
};

int
spec_ns_type_from_name (const char *name)
{
  for (int i = 0; i < HUSK_NS_COUNT; i++)
    if (strcmp (namespaces[i].type, name) == 0)
      return i;
  return -1;
}

const char *
spec_ns_type_name (enum husk_ns_type t)
{
  return (unsigned) t < HUSK_NS_COUNT ? namespaces[t].type : NULL;
}

int
spec_ns_clone_flag (enum husk_ns_type t)
{
  return (unsigned) t < HUSK_NS_COUNT ? namespaces[t].flag : 0;
}

const char *
spec_ns_proc_name (enum husk_ns_type t)
{
  return (unsigned) t < HUSK_NS_COUNT ? namespaces[t].proc : NULL;
}

/* ---- seccomp ------------------------------------------------------------------------------- */

static const struct name_value seccomp_actions[] = {
  { "SCMP_ACT_KILL", HUSK_SCMP_KILL },   { "SCMP_ACT_KILL_PROCESS", HUSK_SCMP_KILL_PROCESS },
  { "SCMP_ACT_KILL_THREAD", HUSK_SCMP_KILL_THREAD }, { "SCMP_ACT_TRAP", HUSK_SCMP_TRAP },
  { "SCMP_ACT_ERRNO", HUSK_SCMP_ERRNO }, { "SCMP_ACT_TRACE", HUSK_SCMP_TRACE },
  { "SCMP_ACT_ALLOW", HUSK_SCMP_ALLOW }, { "SCMP_ACT_LOG", HUSK_SCMP_LOG },
  { "SCMP_ACT_NOTIFY", HUSK_SCMP_NOTIFY },
};

int
spec_seccomp_action_from_name (const char *name)
{
  return FROM_NAME (seccomp_actions, name);
}

const char *
spec_seccomp_action_name (enum husk_seccomp_action a)
{
  return TO_NAME (seccomp_actions, (int) a);
}

static const struct name_value seccomp_ops[] = {
  { "SCMP_CMP_NE", HUSK_SCMP_CMP_NE }, { "SCMP_CMP_LT", HUSK_SCMP_CMP_LT },
  { "SCMP_CMP_LE", HUSK_SCMP_CMP_LE }, { "SCMP_CMP_EQ", HUSK_SCMP_CMP_EQ },
  { "SCMP_CMP_GE", HUSK_SCMP_CMP_GE }, { "SCMP_CMP_GT", HUSK_SCMP_CMP_GT },
  { "SCMP_CMP_MASKED_EQ", HUSK_SCMP_CMP_MASKED_EQ },
};

int
spec_seccomp_op_from_name (const char *name)
{
  return FROM_NAME (seccomp_ops, name);
}

const char *
spec_seccomp_op_name (enum husk_seccomp_op op)
{
  return TO_NAME (seccomp_ops, (int) op);
}

uint32_t
spec_seccomp_arch_token (const char *name)
{
  static const char prefix[] = "SCMP_ARCH_";
  char lower[32];
  size_t n;

  /* libseccomp names architectures in lower case without the prefix: "x86_64", "aarch64".  */
  if (!has_prefix (name, prefix))
    return 0;
  name += sizeof prefix - 1;
  n = strlen (name);
  if (n == 0 || n >= sizeof lower)
    return 0;
  for (size_t i = 0; i <= n; i++)
    lower[i] = (char) tolower ((unsigned char) name[i]);
  return seccomp_arch_resolve_name (lower);
}

static const struct name_value seccomp_flags[] = {
  { "SECCOMP_FILTER_FLAG_TSYNC", 1 },
  { "SECCOMP_FILTER_FLAG_LOG", 2 },
  { "SECCOMP_FILTER_FLAG_SPEC_ALLOW", 4 },
  { "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", 32 },
};

int
spec_seccomp_flag_from_name (const char *name)
{
  return FROM_NAME (seccomp_flags, name);
}

/* ---- scheduler, I/O priority, memory policy ------------------------------------------------ */

static const struct name_value sched_policies[] = {
  { "SCHED_OTHER", 0 }, { "SCHED_FIFO", 1 }, { "SCHED_RR", 2 },       { "SCHED_BATCH", 3 },
  { "SCHED_ISO", 4 },   { "SCHED_IDLE", 5 }, { "SCHED_DEADLINE", 6 },
};

int
spec_sched_policy_from_name (const char *name)
{
  return FROM_NAME (sched_policies, name);
}

const char *
spec_sched_policy_name (int policy)
{
  return TO_NAME (sched_policies, policy);
}

static const struct name_value sched_flags[] = {
  { "SCHED_FLAG_RESET_ON_FORK", 0x01 }, { "SCHED_FLAG_RECLAIM", 0x02 },
  { "SCHED_FLAG_DL_OVERRUN", 0x04 },    { "SCHED_FLAG_KEEP_POLICY", 0x08 },
  { "SCHED_FLAG_KEEP_PARAMS", 0x10 },   { "SCHED_FLAG_UTIL_CLAMP_MIN", 0x20 },
  { "SCHED_FLAG_UTIL_CLAMP_MAX", 0x40 },
};

int
spec_sched_flag_from_name (const char *name)
{
  return FROM_NAME (sched_flags, name);
}

static const struct name_value ioprio_classes[] = {
  { "IOPRIO_CLASS_RT", 1 },
  { "IOPRIO_CLASS_BE", 2 },
  { "IOPRIO_CLASS_IDLE", 3 },
};

int
spec_ioprio_class_from_name (const char *name)
{
  return FROM_NAME (ioprio_classes, name);
}

const char *
spec_ioprio_class_name (int class)
{
  return TO_NAME (ioprio_classes, class);
}

static const struct name_value mpol_modes[] = {
  { "MPOL_DEFAULT", 0 },        { "MPOL_PREFERRED", 1 },          { "MPOL_BIND", 2 },
  { "MPOL_INTERLEAVE", 3 },     { "MPOL_LOCAL", 4 },              { "MPOL_PREFERRED_MANY", 5 },
  { "MPOL_WEIGHTED_INTERLEAVE", 6 },
};

int
spec_mpol_mode_from_name (const char *name)
{
  return FROM_NAME (mpol_modes, name);
}

static const struct name_value mpol_flags[] = {
  { "MPOL_F_NUMA_BALANCING", 1 << 13 },
  { "MPOL_F_RELATIVE_NODES", 1 << 14 },
  { "MPOL_F_STATIC_NODES", 1 << 15 },
};

int
spec_mpol_flag_from_name (const char *name)
{
  return FROM_NAME (mpol_flags, name);
}
