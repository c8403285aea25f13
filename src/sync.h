/* The parent/child synchronisation protocol: fixed-size messages over a SOCK_SEQPACKET socketpair
 * (both ends SOCK_CLOEXEC).  The child side is two processes, stage 1 and stage 2 (see child.h);
 * each message type is sent by one side only, in this order:
 *
 *   parent                          stage 1                          stage 2
 *   (clone stage 1)                 enters the cgroup, joins the
 *                                   namespaces given by path,
 *                                   unshares a new user namespace
 *           <---------------------- SYNC_USERNS (only with a new user namespace)
 *   writes uid_map/gid_map
 *   SYNC_MAPPED ------------------> unshares the other namespaces,
 *                                   clones stage 2 (CLONE_PARENT) --> (born: husk's child, PID 1)
 *           <---------------------- SYNC_PID (stage 2's pid), exits
 *   SYNC_GO ------------------------------------------------------> builds the rootfs, pivots, sets
 *                                                                   the process attributes
 *           <------------------------------------------------------ [SYNC_CONSOLE + pty master]
 *           <------------------------------------------------------ [SYNC_HOOKS] (before pivot_root)
 *   prestart, createRuntime hooks
 *   SYNC_HOOKS_DONE ----------------------------------------------> createContainer hooks, pivot...
 *           <------------------------------------------------------ SYNC_CREATED
 *   pid file, state
 *   SYNC_START ---------------------------------------------------> seccomp, execve
 *           <------------------------------------------------------ EOF: the exec happened (CLOEXEC)
 *
 * Either stage may send SYNC_ERROR carrying its struct husk_err and exit: the parent adopts the
 * error, rolls back, and main() prints it once.  (musl's posix_spawn uses the same CLOEXEC trick.)
 */
#ifndef HUSK_SYNC_H
#define HUSK_SYNC_H

#include <sys/types.h>

#include "error.h"

enum husk_sync_type
{
  SYNC_GO = 1,  /* parent -> stage 2: its pid is known, go on */
  SYNC_USERNS,  /* stage 1 -> parent: new user namespace made, write its id maps */
  SYNC_MAPPED,  /* parent -> stage 1: id maps written */
  SYNC_PID,     /* stage 1 -> parent: stage 2 was born with this pid (in husk's pid namespace) */
  SYNC_CREATED, /* stage 2 -> parent: set up, waiting for SYNC_START */
  SYNC_START,   /* parent -> stage 2: run the process (seccomp, execve) */
  SYNC_ERROR,   /* stage 1 or 2 -> parent: setup failed; the message carries the error */
  SYNC_CONSOLE, /* stage 2 -> parent: the next message carries the pty master */
  SYNC_HOOKS,   /* stage 2 -> parent: mounts done, before pivot_root: run prestart + createRuntime */
  SYNC_HOOKS_DONE, /* parent -> stage 2: they succeeded, go on */
};

/* Make the socketpair into FDS[0] (parent end) and FDS[1] (child end).  Returns 0, or -1 with ERR.  */
int sync_pair (int fds[2], struct husk_err *err);

/* Send TYPE on FD, with CHILD_ERR for SYNC_ERROR (else NULL) and PID for SYNC_PID (else 0).
 * Returns 0, or -1 with ERR.  */
int sync_send (int fd, enum husk_sync_type type, pid_t pid, const struct husk_err *child_err,
               struct husk_err *err);

/* Wait for message EXPECTED on FD; *PID (when not NULL) gets the pid a SYNC_PID carries.  A SYNC_ERROR
 * from the other side is copied into ERR (returns -1); EOF becomes "container process exited during
 * setup".  EXPECTED 0 waits for EOF (the exec) and returns 0 on EOF.  Returns 0, or -1 with ERR.  */
int sync_wait (int fd, enum husk_sync_type expected, pid_t *pid, struct husk_err *err);

#endif
