/* The container's state directory under --root: <root>/<id>/state.json.  runtime.md "State".
 * Created atomically (mkdir fails when the id exists), written with temp file + fsync + rename.  */
#ifndef HUSK_STATE_H
#define HUSK_STATE_H

#include <stdbool.h>
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
  const char *created;     /* RFC 3339 creation time, or NULL */
  const char *cgroup_made_top; /* cgroup_made_top(): parents to remove on delete, or NULL */
  const struct husk_spec *spec; /* for annotations; may be NULL */
};

/* A container's recorded state, as read back from state.json by state_load.  Strings are owned.  */
struct husk_state_rec
{
  char *id;
  char *status;      /* as recorded: "creating", "created", "running" */
  pid_t pid;         /* 0 when none was recorded */
  uint64_t start_time; /* clock ticks since boot; 0 when unknown */
  char *bundle;
  char *cgroup_path; /* NULL when none was recorded */
  char *cgroup_made_top; /* NULL when none */
  char *created;     /* RFC 3339 creation time, or NULL */
  struct husk_annotation *annotations; /* the recorded annotations */
  size_t n_annotations;
};

/* Read ROOT/ID/state.json into REC.  Errors: "container 'ID' does not exist" (ENOENT, the text
 * containerd matches), "container 'ID': corrupt state file" for unparsable JSON.  Returns 0, or -1
 * with ERR.  */
int state_load (const char *root, const char *id, struct husk_state_rec *rec, struct husk_err *err);

/* Free what state_load filled.  */
void state_rec_release (struct husk_state_rec *rec);

/* The status runtime.md reports for REC (of state root ROOT) now: "creating" while no process was
 * recorded, "stopped" when its process is gone or its pid now belongs to another process (start time
 * differs), "created" while the process waits on exec.fifo for `start`, "paused" while its cgroup is
 * frozen, else "running".  */
const char *state_status_now (const char *root, const struct husk_state_rec *rec);

/* Write REC as state JSON (runtime.md "State": ociVersion, id, status STATUS, pid, bundle,
 * annotations, plus "created") into a new string; the form hooks get on stdin and `husk state`
 * prints.  */
char *state_rec_json (const struct husk_state_rec *rec, const char *status, bool pretty);

/* Take an exclusive flock on ROOT/ID (the directory), waiting for other husk commands on the same
 * container.  Returns the locked O_DIRECTORY fd (closing it unlocks), or -1 with ERR
 * ("container 'ID' does not exist").  */
int state_lock (const char *root, const char *id, struct husk_err *err);

/* The state JSON a hook gets on stdin (runtime.md "State"): ID, STATUS, PID (as the hook's namespace
 * sees it), BUNDLE and SPEC's annotations.  Returns a new string.  config.md "POSIX-platform Hooks". */
char *state_hook_json (const char *id, const char *status, pid_t pid, const char *bundle,
                       const struct husk_spec *spec);

/* Refuse ids that are empty, ".", "..", longer than 255 bytes, or hold anything outside
 * [A-Za-z0-9_+.-].  Returns 0, or -1 with ERR ("invalid container id '../x'").  */
int state_check_id (const char *id, struct husk_err *err);

/* Make ROOT (0700, parents too) and the directory ROOT/ID (0700); fails with "container 'ID' already
 * exists" when it does.  Returns an O_DIRECTORY fd of the new directory, or -1 with ERR.  */
int state_create (const char *root, const char *id, struct husk_err *err);

/* Write STATE as state.json in the directory DIRFD (temp file, fsync, rename, fsync of the dir).
 * Returns 0, or -1 with ERR.  */
int state_write (int dirfd, const struct husk_state *state, struct husk_err *err);

/* Record the absolute PATH of something the container owns on the host in the plain file NAME of
 * the state directory DIRFD, before it is made: "cgroup.path" (the cgroup), "overlay.dir" (an image
 * rootfs's private directory), so that `delete --force` finds everything even when state.json is
 * corrupt or husk died half-way.  Returns 0, or -1 with ERR.  */
int state_write_path (int dirfd, const char *name, const char *path, struct husk_err *err);

/* The path recorded by state_write_path as NAME for ROOT/ID (free it), or NULL.  */
char *state_read_path (const char *root, const char *id, const char *name);

/* Remove ROOT/ID and its files.  Missing is not an error.  Returns 0, or -1 with ERR.  */
int state_remove (const char *root, const char *id, struct husk_err *err);

/* The start time of PID (field 22 of /proc/PID/stat, clock ticks since boot), or 0 when unknown.  */
uint64_t state_pid_start_time (pid_t pid);

#endif
