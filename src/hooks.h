/* OCI hooks: run the programs of config.json's "hooks" (config.md "POSIX-platform Hooks") with the
 * container's state on stdin.  This module only runs a list of hooks where the caller stands; which
 * list runs where, and what a failure means, is the lifecycle's business (runtime.md "Lifecycle"):
 *
 *   prestart, createRuntime   runtime namespace, create operation, after the environment exists,
 *                             before pivot_root; failure: error, stop the container, delete it
 *   createContainer           container namespace (path resolved in the runtime's), same moment,
 *                             after createRuntime; failure: as above
 *   startContainer            container namespace (path resolved there), start operation, before
 *                             the user program runs; failure: as above
 *   poststart                 runtime namespace, after the user program started, before start
 *                             returns; failure: warning only
 *   poststop                  runtime namespace, after the container is deleted, before delete
 *                             returns; failure: warning only
 */
#ifndef HUSK_HOOKS_H
#define HUSK_HOOKS_H

#include <stddef.h>

#include "error.h"
#include "spec.h"

/* Run HOOKS[0..N) of KIND ("prestart", "createRuntime", ... as the spec names the list; used in
 * messages only) in order, each one to its end before the next starts.  Each hook gets:
 *   - hook->path (absolute) executed with hook->args as argv (args[0] is argv[0], as with execv);
 *     argv is {path} when args is NULL or empty;
 *   - exactly hook->env as its environment (empty when NULL);
 *   - STATE_JSON (runtime.md "State"; NULL is taken as "") on stdin through a pipe, then EOF.  A
 *     hook need not read it: EPIPE is ignored and no SIGPIPE reaches the caller;
 *   - husk's stdout and stderr; every other fd is closed at exec;
 *   - default signal dispositions, an empty signal mask and its own process group;
 *   - hook->timeout seconds when has_timeout: then its process group gets SIGKILL and it is reaped.
 * Works whether or not the caller blocks signals (the end of a hook is seen on a pidfd, never
 * through SIGCHLD or alarm), so it may be called from husk's parent while signals go to a
 * signalfd, or from the container's stage 2.  SIGCHLD must not be ignored (SIG_IGN), nor the hook
 * reaped by a handler of the caller's (then: an error "wait for '/path'", ECHILD).
 *
 * Returns 0 when every hook exited with status 0, or -1 with ERR at the first failing hook (the
 * rest are not run):
 *   "hooks.createRuntime[1]: '/path' exited with status 3"
 *   "hooks.createRuntime[1]: '/path' killed by signal 9"
 *   "hooks.createRuntime[1]: '/path' timed out after 5 s"
 *   "hooks.createRuntime[1]: exec '/path'" (errno of execve, e.g. ENOENT)
 * No hook process is left behind on any path.  */
int hooks_run (const struct husk_hook *hooks, size_t n, const char *kind, const char *state_json,
               struct husk_err *err);

#endif
