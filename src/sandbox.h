/* `husk sandbox`: the options of a one-command sandbox and the config.json they make.
 *
 * Everything here is pure: the command (cmd_sandbox.c) reads what the host has (its current
 * directory, environment, mount table, a seccomp file) and passes it in; this module turns options
 * into the JSON text of an OCI configuration, which the command parses with spec_parse() and hands
 * to container_run() like any bundle's config.json.  So the sandbox has no setup code of its own,
 * and `husk sandbox --print-config` prints exactly what runs.
 *
 * The root filesystem (host-root mode, no --rootfs): the host's "/" as root.path "/proc/.." (the
 * parent of /proc: the host's root, which husk binds as a new mount of its own; a root.path of "/"
 * would make husk open the bind's mountpoint instead of the bind), read-only, with every host mount
 * below it bound again recursively read-only (root.readonly alone covers only the root mount), a
 * fresh /proc, husk's minimal /dev, a fresh read-only /sys, a private /tmp (tmpfs) and the current
 * directory bound read-write at its own path (read-only with --readonly).  */
#ifndef HUSK_SANDBOX_H
#define HUSK_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* root.path of the host-root mode: the host's "/" reached through the mountpoint of /proc.  */
#define SANDBOX_HOST_ROOT "/proc/.."

enum sandbox_mount_kind
{
  SANDBOX_BIND,  /* --bind SRC:DST[:ro] */
  SANDBOX_TMPFS, /* --tmpfs DST */
};

struct sandbox_mount /* one --bind or --tmpfs, in command-line order */
{
  enum sandbox_mount_kind kind;
  char *source;      /* absolute host path (binds), NULL for tmpfs */
  char *destination; /* absolute, clean (no "." or ".." component, no repeated or final "/") */
  bool readonly;
};

enum sandbox_network
{
  SANDBOX_NET_NONE, /* a new network namespace with only "lo" (default) */
  SANDBOX_NET_HOST, /* the host's network namespace */
};

enum sandbox_seccomp
{
  SANDBOX_SECCOMP_DEFAULT,    /* sandbox_seccomp_default_json(): a denylist, EPERM */
  SANDBOX_SECCOMP_UNCONFINED, /* no filter */
  SANDBOX_SECCOMP_FILE,       /* SECCOMP_JSON: a linux.seccomp object read from a file */
};

struct sandbox_opts
{
  char *const *argv;  /* the command, NULL-terminated, at least one word */
  const char *rootfs; /* absolute directory (--rootfs), or NULL: the host's root */
  const char *cwd;    /* the caller's current directory (absolute): bound in host-root mode; NULL: none */
  const char *chdir;  /* process.cwd; NULL: CWD in host-root mode, "/" with a rootfs */
  struct sandbox_mount *mounts;
  size_t n_mounts;
  char *const *host_env; /* the caller's environment (NULL-terminated), passed on unless CLEARENV */
  bool clearenv;         /* start from PATH=<default> only */
  char *const *env;      /* --env K=V or K (copied from HOST_ENV), in order; NULL-terminated or NULL */
  const char *hostname;  /* NULL: the uts namespace keeps the host's name */
  uint32_t uid, gid;     /* process.user */
  bool userns;           /* a user namespace mapping 0 to HOST_UID/HOST_GID (non-root caller) */
  uint32_t host_uid, host_gid;
  enum sandbox_network network;
  int64_t memory;      /* bytes, 0: no limit */
  bool memory_swap;    /* also set memory.swap = MEMORY (the kernel accounts swap) */
  int64_t cpu_quota;   /* microseconds per CPU_PERIOD, 0: no limit */
  uint64_t cpu_period; /* microseconds */
  int64_t pids;        /* 0: no limit */
  uint64_t cap_add, cap_drop; /* capability bit masks (bit N = capability N); drop wins */
  enum sandbox_seccomp seccomp;
  const char *seccomp_json; /* SANDBOX_SECCOMP_FILE: the object's JSON text */
  bool readonly;            /* root, current directory and the rootfs read-only */
  bool tty;                 /* process.terminal */
  const char *cgroups_path; /* linux.cgroupsPath, or NULL for husk's default /husk/<id> */
  const char *mountinfo;    /* the caller's /proc/self/mountinfo text (host-root mode), or NULL */
};

/* The configuration OPTS describe, as pretty-printed config.json text (free it).  Starts from
 * spec_default_json(OPTS->userns) for the capability set, rlimits, the /proc, /dev and /sys mounts,
 * masked and read-only paths; adds the namespaces (pid, ipc, uts, mount, cgroup, network unless
 * SANDBOX_NET_HOST, user when USERNS), the mounts (host-root mode: see the top of this file), the
 * limits, the seccomp profile, noNewPrivileges.  Errors: a bad seccomp JSON text ("--seccomp:
 * ...").  Returns the text, or NULL with ERR.  */
char *sandbox_config_json (const struct sandbox_opts *opts, struct husk_err *err);

/* The default seccomp profile as a linux.seccomp JSON object (free it): SCMP_ACT_ALLOW by default,
 * EPERM for a list of syscalls a sandboxed command has no business making (kernel modules, kexec,
 * mount and the new mount API, pivot_root, swap, reboot, clock setting, keyrings, bpf,
 * perf_event_open, userfaultfd, ptrace and process_vm_*, open_by_handle_at, io_uring, setns,
 * quotactl, acct, syslog...), EPERM for unshare/clone asking for CLONE_NEWUSER, ENOSYS for clone3
 * (its flags cannot be inspected; glibc then falls back to clone).  The native architecture and its
 * 32-bit companions are listed, so the rules hold for every ABI the kernel runs.  */
char *sandbox_seccomp_default_json (void);

/* The host mounts to bind again read-only in host-root mode: every mount point of MOUNTINFO (a
 * /proc/self/mountinfo text) other than "/", except those at or under /proc, /sys, /dev and /tmp
 * (replaced by the sandbox's own) or under one of the N_SKIP paths SKIP, keeping only the topmost
 * (a recursive bind of /a carries /a/b).  Mount points are unescaped (\040).  Returns a
 * NULL-terminated, sorted, duplicate-free vector (free with strv_free), never NULL.  */
char **sandbox_host_submounts (const char *mountinfo, const char *const *skip, size_t n_skip);

/* True when DEST (clean, absolute) is PREFIX or below it ("/a/b" is under "/a", "/ab" is not; every
 * path is under "/").  */
bool sandbox_path_under (const char *dest, const char *prefix);

/* In host-root mode, where the destination of OPTS->mounts[I] lands when husk mounts it: NULL on
 * the sandbox's own tmpfs (/tmp, /dev, or an earlier --tmpfs), where husk may create it; else the
 * host path it reaches (through an earlier --bind: that bind's source), which must exist, since
 * the host is shared read-only and must not get new directories.  Returns a new string or NULL.  */
char *sandbox_dest_host_path (const struct sandbox_opts *opts, size_t i);

/* ---- option values ------------------------------------------------------------------------- */

/* Clean the absolute path PATH for a destination: repeated and final "/" removed.  Errors: a
 * relative path, a "." or ".." component.  WHAT names the option.  Returns a new string, or NULL
 * with ERR.  */
char *sandbox_clean_path (const char *path, const char *what, struct husk_err *err);

/* Parse --bind SRC[:DST][:ro|:rw] into *OUT (DST defaults to SRC; it must be absolute and is
 * cleaned; SRC is kept as given, the caller resolves it).  Paths holding ':' cannot be given.
 * Returns 0, or -1 with ERR ("--bind 'x': expected SRC[:DST][:ro]").  */
int sandbox_parse_bind (const char *arg, struct sandbox_mount *out, struct husk_err *err);

/* Parse a size: a decimal number of bytes with an optional suffix k, m, g or t (powers of 1024,
 * either case, an optional trailing "b"/"B").  Returns 0 with *OUT > 0, or -1 with ERR.  */
int sandbox_parse_size (const char *s, const char *what, int64_t *out, struct husk_err *err);

/* Parse --cpus N (a decimal with at most 3 fractional digits, at least 0.01) into a CFS quota and
 * period in microseconds (period 100000).  Returns 0, or -1 with ERR.  */
int sandbox_parse_cpus (const char *s, int64_t *quota, uint64_t *period, struct husk_err *err);

/* Parse --timeout: seconds as a decimal (at most 3 fractional digits) with an optional suffix s, m,
 * h or d, as timeout(1) takes it; "0" means none.  *MS gets milliseconds.  Returns 0, or -1 with ERR. */
int sandbox_parse_duration (const char *s, uint64_t *ms, struct husk_err *err);

/* Parse --user UID[:GID] (numbers) into *UID and, when given, *GID (*HAS_GID).  Returns 0, or -1
 * with ERR.  */
int sandbox_parse_user (const char *s, uint32_t *uid, uint32_t *gid, bool *has_gid, struct husk_err *err);

/* Parse a capability name for --cap-add/--cap-drop: "NET_RAW", "CAP_NET_RAW", any case, or "ALL".
 * Returns its bit mask (all known capabilities for ALL), or 0 with ERR.  */
uint64_t sandbox_parse_cap (const char *name, const char *what, struct husk_err *err);

#endif
