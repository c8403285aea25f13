/* The process attributes set in the child just before execve: rlimits, oom_score_adj, sysctl,
 * user and groups, umask, cwd, scheduler, I/O priority, personality, env lookup of the executable.
 * config.md "Process", "POSIX process", "Linux process"; config-linux.md "Sysctl", "Personality".  */
#ifndef HUSK_PROCESS_H
#define HUSK_PROCESS_H

#include "error.h"
#include "spec.h"

/* setrlimit each of PROCESS->rlimits.  Returns 0, or -1 with ERR ("process.rlimits[1]: ...").  */
int process_set_rlimits (const struct husk_process *process, struct husk_err *err);

/* Write PROCESS->oom_score_adj (when set) to oom_score_adj in PIDDIRFD, an O_PATH fd of /proc/PID.
 * husk's parent does it for stage 2, as host root: a non-dumpable process in a user namespace may
 * not write its own, and the value survives execve.  Returns 0, or -1 with ERR.  */
int process_set_oom_score_adj (const struct husk_process *process, int piddirfd, struct husk_err *err);

/* Write each linux.sysctl entry to sys/<key with . -> /> under PROCFD (the key must not contain
 * "..", and the file is opened without following symlinks).  Returns 0, or -1 with ERR.  */
int process_set_sysctl (const struct husk_linux *linux_, int procfd, struct husk_err *err);

/* Scheduler (sched_setattr), ioPriority (ioprio_set), personality: each only when present.
 * Returns 0, or -1 with ERR naming the field.  */
int process_set_scheduler (const struct husk_process *process, struct husk_err *err);
int process_set_io_priority (const struct husk_process *process, struct husk_err *err);
int process_set_personality (const struct husk_linux *linux_, struct husk_err *err);

/* setgroups(additionalGids), setresgid, setresuid to USER, keeping capabilities across the uid
 * change (PR_SET_KEEPCAPS) so caps_apply() can set them afterwards; then umask when set.
 * SETGROUPS_ALLOWED false (a user namespace whose setgroups is "deny") skips setgroups when the list
 * is empty and fails otherwise.  Returns 0, or -1 with ERR.  */
int process_set_user (const struct husk_user *user, int setgroups_allowed, struct husk_err *err);

/* chdir to CWD and check with getcwd that it is inside the container's root (the kernel prefixes
 * "(unreachable)" otherwise).  SECURITY.md CVE-2024-21626.  Returns 0, or -1 with ERR.  */
int process_chdir (const char *cwd, struct husk_err *err);

/* Find ARGS[0] like execvp with PATH from ENV (NULL-terminated; "/usr/local/sbin:...:/bin" when it
 * has none).  Returns a malloc'd absolute path of an executable regular file, or NULL with ERR
 * ("executable 'foo' not found in $PATH").  */
char *process_find_executable (const char *arg0, char *const *env, struct husk_err *err);

struct husk_seccomp_bpf;

/* The last steps before execve shared by stage 2 of `run`/`create` and of `exec`, in the only order
 * the kernel allows: rlimits, scheduler, I/O priority, personality (LX may be NULL); drop the bounding
 * set (needs CAP_SETPCAP, so while still root); without no_new_privs load SECCOMP now (it needs
 * CAP_SYS_ADMIN, which the uid change clears; the profile must then allow what follows, as with
 * runc); the user and groups (keeping the permitted set); the capability sets; chdir as that user,
 * checked to be inside the root (CVE-2024-21626); the executable's path; no_new_privs.  With
 * no_new_privs the caller loads SECCOMP itself, last before execve.  Returns the executable's path
 * (free it), or NULL with ERR.  config.md "Process", "POSIX process", "Linux process".  */
char *process_prepare_exec (const struct husk_process *process, const struct husk_linux *linux_,
                            const struct husk_seccomp_bpf *seccomp, int setgroups_allowed,
                            struct husk_err *err);

#endif
