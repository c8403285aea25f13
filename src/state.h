/* The container's state directory under --root: <root>/<id>/state.json.  runtime.md "State".
 * Created atomically (mkdir fails when the id exists), written with temp file + fsync + rename.  */
#ifndef HUSK_STATE_H
#define HUSK_STATE_H

#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "spec.h"

struct husk_state
{
  const char *id;
  const char *status; /* "creating", "created", "running", "stopped" */
  pid_t pid;          /* 0 when unknown */
  uint64_t start_time; /* the pid's start time, clock ticks since boot (/proc/PID/stat field 22) */
  const char *bundle;  /* absolute */
  const char *cgroup_path; /* what cgroup_create made, recorded before it is made */
  const struct husk_spec *spec; /* for annotations; may be NULL */
};

/* Refuse ids that are empty, ".", "..", longer than 255 bytes, or hold anything outside
 * [A-Za-z0-9_+.-].  Returns 0, or -1 with ERR ("invalid container id '../x'").  */
int state_check_id (const char *id, struct husk_err *err);

/* Make ROOT (0700, parents too) and the directory ROOT/ID (0700); fails with "container 'ID' already
 * exists" when it does.  Returns an O_DIRECTORY fd of the new directory, or -1 with ERR.  */
int state_create (const char *root, const char *id, struct husk_err *err);

/* Write STATE as state.json in the directory DIRFD (temp file, fsync, rename, fsync of the dir).
 * Returns 0, or -1 with ERR.  */
int state_write (int dirfd, const struct husk_state *state, struct husk_err *err);

/* Remove ROOT/ID and its files.  Missing is not an error.  Returns 0, or -1 with ERR.  */
int state_remove (const char *root, const char *id, struct husk_err *err);

/* The start time of PID (field 22 of /proc/PID/stat, clock ticks since boot), or 0 when unknown.  */
uint64_t state_pid_start_time (pid_t pid);

#endif
