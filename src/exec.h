/* husk exec: run one more process in a running container.  The runtime-spec has no such operation;
 * husk follows runc's command (`runc exec`), as containerd and Podman/conmon call it.
 *
 * The new process joins everything the container's init has: each of its namespaces that differs from
 * husk's own (the user namespace between the ones husk can join as host root and the rest), its cgroup
 * in every hierarchy, and then gets the attributes of a runtime-spec "process" object applied as the
 * init got them (rlimits, user and groups, capabilities, no_new_privs, the container's seccomp
 * filter, cwd checked to be inside the root, env), with every fd above stdio closed.
 *
 * Three processes, as for `husk run` (see child.h, sync.h):
 *
 *   husk                            stage 1                          stage 2
 *   (fork stage 1)                  enters the cgroup, joins the
 *                                   namespaces, clones stage 2
 *                                   (CLONE_PARENT) ----------------> (born: husk's child, in the
 *           <---------------------- SYNC_PID, exits                   container's pid namespace)
 *   oomScoreAdj
 *   SYNC_GO ------------------------------------------------------> process attributes, execve
 *           <------------------------------------------------------ EOF (CLOEXEC) or SYNC_ERROR
 *   pid file; waits (forwarding signals) unless detached  */
#ifndef HUSK_EXEC_H
#define HUSK_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* What `husk exec` was asked for (runc's options).  Every pointer may be NULL / every count 0.  */
struct husk_exec_opts
{
  const char *root;         /* the state root (--root) */
  const char *id;           /* the container */
  const char *process_file; /* --process: a runtime-spec "process" object; the flags below are then
                               ignored (as runc does), except detach, pid_file, preserve_fds */
  char **args;              /* the command and its arguments, NULL-terminated (without --process) */
  bool tty;                 /* --tty */
  const char *console_socket;
  bool detach;              /* --detach: return once the process runs */
  const char *pid_file;     /* --pid-file: the process's pid, digits only */
  const char *cwd;          /* --cwd, absolute */
  char **env;               /* --env K=V..., NULL-terminated: added to (or replacing in) the config's */
  bool has_user;            /* --user uid[:gid] */
  uint32_t uid;
  bool has_gid;
  uint32_t gid;
  uint32_t *additional_gids; /* --additional-gids, appended to the config's */
  size_t n_additional_gids;
  uint64_t caps_add;        /* --cap: bit N = capability N, added to the bounding, effective,
                               permitted and ambient sets; never inheritable (CVE-2022-29162) */
  bool no_new_privs;        /* --no-new-privs (sets it; the config's true stays true) */
  unsigned int preserve_fds; /* --preserve-fds N: fds 3..3+N-1 stay open in the process */
  const char *process_label; /* --process-label: refused, not supported yet */
  const char *apparmor;      /* --apparmor: refused, not supported yet */
};

/* Run the process O describes in container O->id, recorded under O->root.  Errors:
 * "container 'ID' does not exist", "container 'ID' is not running" (stopped, or never started),
 * "exec: --tty: not supported yet", config and process-file errors naming the field, and whatever
 * setting up the process failed on (reported by stage 1 or 2).  Returns, in the foreground, the
 * process's exit status as a shell reports it (128+N for death by signal N); with O->detach 0 once
 * it runs; or -1 with ERR.  */
int exec_run (const struct husk_exec_opts *o, struct husk_err *err);

#endif
