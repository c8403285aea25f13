/* The parent/child synchronisation protocol: fixed-size messages over a SOCK_SEQPACKET socketpair
 * (both ends SOCK_CLOEXEC).  Each message type is sent by one side only, in this order:
 *
 *   parent                                   child
 *   (clone) ------------------------------>  waits for GO
 *   writes id maps, enters the cgroup
 *   SYNC_GO ------------------------------>  joins namespaces, builds the rootfs, pivots, sets the
 *                                            process attributes
 *           <------------------------------  SYNC_CREATED (everything but seccomp + execve done)
 *   pid file, state "created"
 *   SYNC_START --------------------------->  seccomp, execve
 *           <------------------------------  EOF: the exec happened (the child's end is CLOEXEC)
 *
 * At any point the child may send SYNC_ERROR carrying its struct husk_err and exit: the parent adopts
 * the error, rolls back, and main() prints it once.  (musl's posix_spawn uses the same CLOEXEC trick.)
 */
#ifndef HUSK_SYNC_H
#define HUSK_SYNC_H

#include "error.h"

enum husk_sync_type
{
  SYNC_GO = 1,  /* parent -> child: id maps written and cgroup entered; set yourself up */
  SYNC_CREATED, /* child -> parent: set up, waiting for SYNC_START */
  SYNC_START,   /* parent -> child: run the process (seccomp, execve) */
  SYNC_ERROR,   /* child -> parent: setup failed; the message carries the error */
};

/* Make the socketpair into FDS[0] (parent end) and FDS[1] (child end).  Returns 0, or -1 with ERR.  */
int sync_pair (int fds[2], struct husk_err *err);

/* Send TYPE (with CHILD_ERR for SYNC_ERROR, else NULL) on FD.  Returns 0, or -1 with ERR.  */
int sync_send (int fd, enum husk_sync_type type, const struct husk_err *child_err, struct husk_err *err);

/* Wait for message EXPECTED on FD.  A SYNC_ERROR from the other side is copied into ERR (returns -1);
 * EOF becomes "container process exited during setup".  EXPECTED 0 waits for EOF (the exec) and
 * returns 0 on EOF.  Returns 0, or -1 with ERR.  */
int sync_wait (int fd, enum husk_sync_type expected, struct husk_err *err);

#endif
