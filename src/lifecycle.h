/* Operations on a container that exists: start, kill, delete.  runtime.md "Operations".  */
#ifndef HUSK_LIFECYCLE_H
#define HUSK_LIFECYCLE_H

#include <stdbool.h>

#include "error.h"

/* `husk start`: let the "created" container ROOT/ID run its process (open exec.fifo, which the
 * process waits on, read its byte, remove the FIFO).  Errors: "container 'ID' does not exist",
 * "cannot start an already running container", "cannot start a container that has stopped", "the
 * container process exited before start".  Returns 0, or -1 with ERR.  runtime.md "start".  */
int container_start (const char *root, const char *id, struct husk_err *err);

/* `husk kill`: send SIG to the container's process (through a pidfd, after checking its start time:
 * a reused pid is never signalled), or with ALL to every process of its cgroup.  Errors: "container
 * 'ID' does not exist", "container not running" (the texts containerd matches).  Returns 0, or -1 with
 * ERR.  runtime.md "kill".  */
int container_kill (const char *root, const char *id, int sig, bool all, struct husk_err *err);

/* `husk delete`: remove a stopped (or created) container: kill what is left in its cgroup, remove
 * the cgroup and the parents it made, and the state directory.  A running container needs FORCE
 * (it is killed first).  A corrupt state file still lets FORCE clean up.  Errors: "container 'ID'
 * does not exist", "cannot delete container 'ID' that is not stopped: running".  Returns 0, or -1 with
 * ERR.  runtime.md "delete".  */
int container_delete (const char *root, const char *id, bool force, struct husk_err *err);

/* `husk pause` (FREEZE true) / `husk resume`: freeze or thaw every process of the running (paused)
 * container through its cgroup.  Errors: "container 'ID' does not exist", "container not running",
 * "container 'ID' is not paused".  Returns 0, or -1 with ERR.  */
int container_pause (const char *root, const char *id, bool freeze, struct husk_err *err);

/* Parse a signal given as a number ("9"), a name ("KILL", "SIGKILL", "sigkill").  Returns the
 * number, or -1 with ERR ("unknown signal 'FOO'").  */
int parse_signal (const char *s, struct husk_err *err);

#endif
