/* husk's in-memory form of an OCI runtime configuration (runtime-spec v1.2: config.md,
 * config-linux.md).  spec.c is the only runtime file that knows JSON: it fills these structs from
 * config.json, and every other module reads only these types.
 *
 * Conventions: arrays are a pointer plus an `n_` count; string vectors (args, env, options...) are
 * also NULL-terminated; an optional scalar has a `has_` flag; an optional object is a pointer that is
 * NULL when absent.  Capability sets are bit masks (bit N = capability number N); rlimit types and
 * namespace types are already converted to numbers, so nothing downstream compares names.
 */
#ifndef HUSK_SPEC_H
#define HUSK_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

/* gnu11 predefines `linux` as 1; husk names the config's "linux" object after the spec.  */
#undef linux

/* ---- config.md ---------------------------------------------------------------------------- */

struct husk_id_mapping /* config-linux.md "User namespace mappings", also mounts[].uidMappings */
{
  uint32_t container_id;
  uint32_t host_id;
  uint32_t size;
};

struct husk_mount /* config.md "Mounts" */
{
  char *destination; /* required; absolute after validation (a relative one is warned about) */
  char *type;        /* NULL when absent: then "bind" if options hold bind/rbind */
  char *source;      /* NULL when absent */
  char **options;    /* NULL-terminated */
  size_t n_options;
  struct husk_id_mapping *uid_mappings; /* idmapped mount, config.md v1.1+ */
  size_t n_uid_mappings;
  struct husk_id_mapping *gid_mappings;
  size_t n_gid_mappings;
};

struct husk_rlimit /* config.md "POSIX process" rlimits */
{
  int resource; /* RLIMIT_* number, converted from "RLIMIT_NOFILE" by the parser */
  uint64_t hard;
  uint64_t soft;
};

struct husk_capabilities /* config.md "Linux process" capabilities; bit N = capability N */
{
  uint64_t bounding;
  uint64_t effective;
  uint64_t inheritable;
  uint64_t permitted;
  uint64_t ambient;
};

struct husk_scheduler /* config.md "Linux process" scheduler (sched_setattr) */
{
  int policy;        /* SCHED_OTHER, SCHED_FIFO, ... converted from "SCHED_OTHER" */
  bool has_nice;
  int32_t nice;
  bool has_priority;
  int32_t priority;
  uint32_t flags;    /* SCHED_FLAG_* bits converted from the names */
  bool has_runtime;
  uint64_t runtime;  /* nanoseconds */
  bool has_deadline;
  uint64_t deadline; /* nanoseconds */
  bool has_period;
  uint64_t period;   /* nanoseconds */
};

struct husk_io_priority /* config.md "Linux process" ioPriority */
{
  int class;    /* IOPRIO_CLASS_RT=1, _BE=2, _IDLE=3 */
  int priority; /* 0..7 */
};

struct husk_exec_cpu_affinity /* config.md "Linux process" execCPUAffinity */
{
  char *initial; /* cpu list string such as "0-3,7", or NULL */
  char *final;
};

struct husk_user /* config.md "POSIX process" user */
{
  uint32_t uid;
  uint32_t gid;
  bool has_umask;
  uint32_t umask;
  uint32_t *additional_gids;
  size_t n_additional_gids;
};

struct husk_process /* config.md "Process" */
{
  bool terminal;
  bool has_console_size;
  uint32_t console_height;
  uint32_t console_width;
  struct husk_user user;
  char **args; /* NULL-terminated, at least one entry after validation */
  size_t n_args;
  char **env; /* NULL-terminated */
  size_t n_env;
  char *cwd; /* absolute */
  struct husk_capabilities *capabilities; /* NULL when absent: all sets empty */
  struct husk_rlimit *rlimits;
  size_t n_rlimits;
  bool no_new_privileges;
  char *apparmor_profile;
  char *selinux_label;
  bool has_oom_score_adj;
  int oom_score_adj;
  struct husk_scheduler *scheduler;
  struct husk_io_priority *io_priority;
  struct husk_exec_cpu_affinity *exec_cpu_affinity;
};

struct husk_root /* config.md "Root" */
{
  char *path; /* as written; relative paths are relative to the bundle */
  bool readonly;
};

struct husk_hook /* config.md "POSIX-platform Hooks" */
{
  char *path; /* absolute */
  char **args; /* NULL-terminated, may be NULL */
  size_t n_args;
  char **env;
  size_t n_env;
  bool has_timeout;
  int timeout; /* seconds, > 0 */
};

struct husk_hooks
{
  struct husk_hook *prestart; /* deprecated in the spec, still run */
  size_t n_prestart;
  struct husk_hook *create_runtime;
  size_t n_create_runtime;
  struct husk_hook *create_container;
  size_t n_create_container;
  struct husk_hook *start_container;
  size_t n_start_container;
  struct husk_hook *poststart;
  size_t n_poststart;
  struct husk_hook *poststop;
  size_t n_poststop;
};

struct husk_annotation
{
  char *key;
  char *value;
};

/* ---- config-linux.md ------------------------------------------------------------------------ */

enum husk_ns_type /* config-linux.md "Namespaces" */
{
  HUSK_NS_PID,
  HUSK_NS_NETWORK,
  HUSK_NS_MOUNT,
  HUSK_NS_IPC,
  HUSK_NS_UTS,
  HUSK_NS_USER,
  HUSK_NS_CGROUP,
  HUSK_NS_TIME,
  HUSK_NS_COUNT
};

struct husk_namespace
{
  enum husk_ns_type type;
  char *path; /* NULL: create a new one; else join this namespace file */
};

struct husk_time_offset /* config-linux.md "Offset for Time Namespace" */
{
  bool present;
  int64_t secs;
  uint32_t nanosecs;
};

struct husk_device /* config-linux.md "Devices" */
{
  char *path;
  char type; /* 'c', 'b', 'u' or 'p' */
  int64_t major; /* required for c, b, u */
  int64_t minor;
  bool has_file_mode;
  uint32_t file_mode; /* permission bits only */
  bool has_uid;
  uint32_t uid;
  bool has_gid;
  uint32_t gid;
};

struct husk_device_rule /* config-linux.md "Device allowlist" */
{
  bool allow;
  char type;     /* 'a', 'c' or 'b'; 'a' when absent */
  int64_t major; /* -1 = wildcard (absent) */
  int64_t minor; /* -1 = wildcard */
  char access[4]; /* subset of "rwm"; "rwm" when absent */
};

struct husk_memory /* config-linux.md "Memory"; -1 means unlimited where the spec allows it */
{
  bool has_limit;
  int64_t limit; /* bytes */
  bool has_reservation;
  int64_t reservation;
  bool has_swap;
  int64_t swap;
  bool has_kernel;
  int64_t kernel;
  bool has_kernel_tcp;
  int64_t kernel_tcp;
  bool has_swappiness;
  uint64_t swappiness;
  bool has_disable_oom_killer;
  bool disable_oom_killer;
  bool has_use_hierarchy;
  bool use_hierarchy;
  bool has_check_before_update;
  bool check_before_update;
};

struct husk_cpu /* config-linux.md "CPU" */
{
  bool has_shares;
  uint64_t shares;
  bool has_quota;
  int64_t quota; /* microseconds */
  bool has_burst;
  uint64_t burst;
  bool has_period;
  uint64_t period; /* microseconds */
  bool has_realtime_runtime;
  int64_t realtime_runtime;
  bool has_realtime_period;
  uint64_t realtime_period;
  char *cpus; /* cpu list string, NULL when absent */
  char *mems;
  bool has_idle;
  int64_t idle;
};

struct husk_weight_device
{
  int64_t major;
  int64_t minor;
  bool has_weight;
  uint16_t weight;
  bool has_leaf_weight;
  uint16_t leaf_weight;
};

struct husk_throttle_device
{
  int64_t major;
  int64_t minor;
  uint64_t rate; /* bytes or operations per second */
};

struct husk_block_io /* config-linux.md "Block IO" */
{
  bool has_weight;
  uint16_t weight;
  bool has_leaf_weight;
  uint16_t leaf_weight;
  struct husk_weight_device *weight_device;
  size_t n_weight_device;
  struct husk_throttle_device *throttle_read_bps_device;
  size_t n_throttle_read_bps_device;
  struct husk_throttle_device *throttle_write_bps_device;
  size_t n_throttle_write_bps_device;
  struct husk_throttle_device *throttle_read_iops_device;
  size_t n_throttle_read_iops_device;
  struct husk_throttle_device *throttle_write_iops_device;
  size_t n_throttle_write_iops_device;
};

struct husk_hugepage_limit
{
  char *page_size; /* "2MB", "1GB", ... */
  uint64_t limit;  /* bytes */
};

struct husk_net_priority
{
  char *name;
  uint32_t priority;
};

struct husk_network /* config-linux.md "Network" (v1 net_cls / net_prio) */
{
  bool has_class_id;
  uint32_t class_id;
  struct husk_net_priority *priorities;
  size_t n_priorities;
};

struct husk_rdma
{
  char *device;
  bool has_hca_handles;
  uint32_t hca_handles;
  bool has_hca_objects;
  uint32_t hca_objects;
};

struct husk_resources /* config-linux.md "Control groups" */
{
  struct husk_device_rule *devices;
  size_t n_devices;
  struct husk_memory *memory;
  struct husk_cpu *cpu;
  bool has_pids_limit;
  int64_t pids_limit; /* <= 0 means unlimited */
  struct husk_block_io *block_io;
  struct husk_hugepage_limit *hugepage_limits;
  size_t n_hugepage_limits;
  struct husk_network *network;
  struct husk_rdma *rdma;
  size_t n_rdma;
  struct husk_annotation *unified; /* raw cgroup v2 "file": "value" pairs */
  size_t n_unified;
};

struct husk_intel_rdt /* config-linux.md "IntelRdt" */
{
  char *clos_id;
  char *l3_cache_schema;
  char *mem_bw_schema;
  char **schemata;
  size_t n_schemata;
  bool enable_cmt;
  bool enable_mbm;
};

struct husk_sysctl
{
  char *key;   /* "net.ipv4.ip_forward" */
  char *value;
};

enum husk_seccomp_action /* config-linux.md "Seccomp" actions */
{
  HUSK_SCMP_KILL,         /* SCMP_ACT_KILL (= KILL_THREAD) */
  HUSK_SCMP_KILL_PROCESS,
  HUSK_SCMP_KILL_THREAD,
  HUSK_SCMP_TRAP,
  HUSK_SCMP_ERRNO,
  HUSK_SCMP_TRACE,
  HUSK_SCMP_ALLOW,
  HUSK_SCMP_LOG,
  HUSK_SCMP_NOTIFY,
};

enum husk_seccomp_op /* config-linux.md "Seccomp" args operators */
{
  HUSK_SCMP_CMP_NE,
  HUSK_SCMP_CMP_LT,
  HUSK_SCMP_CMP_LE,
  HUSK_SCMP_CMP_EQ,
  HUSK_SCMP_CMP_GE,
  HUSK_SCMP_CMP_GT,
  HUSK_SCMP_CMP_MASKED_EQ,
};

struct husk_seccomp_arg
{
  uint32_t index; /* 0..5 */
  uint64_t value;
  uint64_t value_two;
  enum husk_seccomp_op op;
};

struct husk_seccomp_syscall
{
  char **names; /* NULL-terminated, at least one */
  size_t n_names;
  enum husk_seccomp_action action;
  bool has_errno_ret;
  uint32_t errno_ret;
  struct husk_seccomp_arg *args;
  size_t n_args;
};

struct husk_seccomp
{
  enum husk_seccomp_action default_action;
  bool has_default_errno_ret;
  uint32_t default_errno_ret;
  char **architectures; /* "SCMP_ARCH_X86_64", ...; NULL-terminated */
  size_t n_architectures;
  char **flags; /* "SECCOMP_FILTER_FLAG_LOG", ...; NULL-terminated */
  size_t n_flags;
  bool has_flags; /* an empty list differs from an absent one (spec) */
  char *listener_path;
  char *listener_metadata;
  struct husk_seccomp_syscall *syscalls;
  size_t n_syscalls;
};

struct husk_personality
{
  char *domain; /* "LINUX" or "LINUX32" */
  char **flags;
  size_t n_flags;
};

struct husk_net_device /* config-linux.md "Network Devices" */
{
  char *host_name; /* the key of linux.netDevices */
  char *name;      /* name inside the container; NULL = same */
};

struct husk_memory_policy /* config-linux.md "Memory policy" (set_mempolicy) */
{
  char *mode;  /* "MPOL_INTERLEAVE", ... */
  char *nodes; /* node list string */
  char **flags;
  size_t n_flags;
};

struct husk_linux /* config-linux.md */
{
  struct husk_namespace *namespaces;
  size_t n_namespaces;
  struct husk_id_mapping *uid_mappings;
  size_t n_uid_mappings;
  struct husk_id_mapping *gid_mappings;
  size_t n_gid_mappings;
  struct husk_time_offset time_monotonic;
  struct husk_time_offset time_boottime;
  struct husk_device *devices;
  size_t n_devices;
  char *cgroups_path;
  struct husk_resources *resources;
  struct husk_intel_rdt *intel_rdt;
  struct husk_sysctl *sysctl;
  size_t n_sysctl;
  struct husk_seccomp *seccomp;
  char *rootfs_propagation; /* "shared", "slave", "private", "unbindable", or NULL */
  char **masked_paths;
  size_t n_masked_paths;
  char **readonly_paths;
  size_t n_readonly_paths;
  char *mount_label;
  struct husk_personality *personality;
  struct husk_net_device *net_devices;
  size_t n_net_devices;
  struct husk_memory_policy *memory_policy;
};

struct husk_spec /* the whole config.json */
{
  char *oci_version;
  struct husk_root *root;       /* required on Linux */
  struct husk_mount *mounts;
  size_t n_mounts;
  struct husk_process *process; /* required for create/run */
  char *hostname;
  char *domainname;
  struct husk_hooks *hooks;
  struct husk_annotation *annotations;
  size_t n_annotations;
  struct husk_linux *linux; /* NULL when absent */
};

/* Parse the JSON text TEXT (LEN bytes) into a new spec.  FILE names the source in error messages
 * ("config.json").  Checks JSON types and converts names (capabilities, rlimits, namespaces, seccomp
 * actions and operators...) but not cross-field rules: call spec_validate() too.
 * Returns the spec (free with spec_free), or NULL with ERR ("config.json: process.args: expected
 * array of strings").  config.md "Configuration".  */
struct husk_spec *spec_parse (const char *text, size_t len, const char *file, struct husk_err *err);

/* Read PATH (at most 4 MiB) and parse it as spec_parse() does, naming the file by its base name.
 * Returns the spec, or NULL with ERR (open/read errors carry errno).  */
struct husk_spec *spec_load (const char *path, struct husk_err *err);

/* Check the rules that need more than one field: ociVersion major 1, absolute paths, no duplicate
 * namespaces, mappings required by a user namespace, device types, seccomp argument indexes, ...
 * Side-effect free.  FILE names the source in messages.  Returns 0, or -1 with ERR.
 * config.md and config-linux.md "MUST" rules.  */
int spec_validate (const struct husk_spec *spec, const char *file, struct husk_err *err);

/* Free SPEC and everything it owns; NULL is allowed.  */
void spec_free (struct husk_spec *spec);

/* The default configuration `husk spec` writes (like `runc spec`): a busybox-friendly `sh` process,
 * the default capability set, the usual mounts and masked/readonly paths, pid/network/ipc/uts/mount
 * namespaces (plus user with mappings for the current uid/gid when ROOTLESS).  Returns the JSON text
 * (free it), never NULL.  config.md "Configuration Schema Example".  */
char *spec_default_json (bool rootless);

/* Look up a namespace of TYPE in SPEC; returns it or NULL.  */
const struct husk_namespace *spec_namespace (const struct husk_spec *spec, enum husk_ns_type type);

/* Convenience for the cleanup attribute.  */
void cleanup_specp (struct husk_spec **spec);
#define cleanup_spec __attribute__ ((cleanup (cleanup_specp)))

#endif
