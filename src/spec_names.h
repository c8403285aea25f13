/* Name tables for config.json: the strings of the OCI runtime spec and their kernel numbers.
 * Lookups are exact and case-sensitive, as the spec spells them ("CAP_CHOWN", "RLIMIT_NOFILE").
 * Every *_from_name() returns -1 for an unknown name; every *_name() returns NULL for an unknown
 * number.  No function here allocates or fails otherwise.  */
#ifndef HUSK_SPEC_NAMES_H
#define HUSK_SPEC_NAMES_H

#include <stdint.h>

#include "spec.h"

/* Highest capability number husk knows (CAP_CHECKPOINT_RESTORE, Linux 5.9).  Capability masks in
 * struct husk_capabilities only ever have bits 0..SPEC_CAP_LAST set.  */
#define SPEC_CAP_LAST 40

/* config.md "Linux process" capabilities: "CAP_CHOWN" -> 0 ... "CAP_CHECKPOINT_RESTORE" -> 40.
 * The "CAP_" prefix is required.  */
int spec_cap_from_name (const char *name);
/* 0..SPEC_CAP_LAST -> "CAP_CHOWN"...; NULL otherwise.  */
const char *spec_cap_name (int cap);

/* config.md "POSIX process" rlimits: "RLIMIT_CPU" ... "RLIMIT_RTTIME" -> RLIMIT_* number.  */
int spec_rlimit_from_name (const char *name);
const char *spec_rlimit_name (int resource);

/* config-linux.md "Namespaces": "pid" "network" "mount" "ipc" "uts" "user" "cgroup" "time" ->
 * enum husk_ns_type (as an int, -1 when unknown).  */
int spec_ns_type_from_name (const char *name);
/* The spec's name of T ("network"), NULL when T is out of range.  */
const char *spec_ns_type_name (enum husk_ns_type t);
/* The CLONE_NEW* flag for T (CLONE_NEWNET for HUSK_NS_NETWORK...), 0 when T is out of range.  */
int spec_ns_clone_flag (enum husk_ns_type t);
/* The file name of T under /proc/<pid>/ns/ ("net", "mnt", "pid"...), NULL when out of range.  */
const char *spec_ns_proc_name (enum husk_ns_type t);

/* config-linux.md "Seccomp": "SCMP_ACT_ALLOW" -> HUSK_SCMP_ALLOW, ...  */
int spec_seccomp_action_from_name (const char *name);
const char *spec_seccomp_action_name (enum husk_seccomp_action a);
/* "SCMP_CMP_EQ" -> HUSK_SCMP_CMP_EQ, ...  */
int spec_seccomp_op_from_name (const char *name);
const char *spec_seccomp_op_name (enum husk_seccomp_op op);
/* "SCMP_ARCH_X86_64" -> libseccomp's SCMP_ARCH_X86_64 token (via seccomp_arch_resolve_name);
 * 0 when the name is not of that form or libseccomp does not know the architecture.  */
uint32_t spec_seccomp_arch_token (const char *name);
/* "SECCOMP_FILTER_FLAG_TSYNC" / _LOG / _SPEC_ALLOW / _WAIT_KILLABLE_RECV -> the seccomp(2) flag
 * bit (1, 2, 4, 32).  */
int spec_seccomp_flag_from_name (const char *name);

/* config.md "Linux process" scheduler: "SCHED_OTHER" 0, "SCHED_FIFO" 1, "SCHED_RR" 2,
 * "SCHED_BATCH" 3, "SCHED_ISO" 4, "SCHED_IDLE" 5, "SCHED_DEADLINE" 6 (sched_setattr(2) policy).  */
int spec_sched_policy_from_name (const char *name);
const char *spec_sched_policy_name (int policy);
/* "SCHED_FLAG_RESET_ON_FORK" 0x01, _RECLAIM 0x02, _DL_OVERRUN 0x04, _KEEP_POLICY 0x08,
 * _KEEP_PARAMS 0x10, _UTIL_CLAMP_MIN 0x20, _UTIL_CLAMP_MAX 0x40 -> that sched_attr flag bit.  */
int spec_sched_flag_from_name (const char *name);

/* config.md "Linux process" ioPriority: "IOPRIO_CLASS_RT" 1, "IOPRIO_CLASS_BE" 2,
 * "IOPRIO_CLASS_IDLE" 3.  */
int spec_ioprio_class_from_name (const char *name);
const char *spec_ioprio_class_name (int class);

/* config-linux.md "Memory policy" (set_mempolicy(2)): "MPOL_DEFAULT" 0, "MPOL_PREFERRED" 1,
 * "MPOL_BIND" 2, "MPOL_INTERLEAVE" 3, "MPOL_LOCAL" 4, "MPOL_PREFERRED_MANY" 5,
 * "MPOL_WEIGHTED_INTERLEAVE" 6.  */
int spec_mpol_mode_from_name (const char *name);
/* "MPOL_F_NUMA_BALANCING" 1<<13, "MPOL_F_RELATIVE_NODES" 1<<14, "MPOL_F_STATIC_NODES" 1<<15.  */
int spec_mpol_flag_from_name (const char *name);

#endif
