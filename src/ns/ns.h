/* Namespaces: which the container gets new, which it joins by path, and in what order.
 * config-linux.md "Namespaces", "Offset for Time Namespace".  */
#ifndef HUSK_NS_H
#define HUSK_NS_H

#include <stdbool.h>

#include "error.h"
#include "spec.h"

struct husk_ns_plan
{
  int join_fd[HUSK_NS_COUNT]; /* an fd of each namespace to join, or -1 */
  bool new_ns[HUSK_NS_COUNT]; /* true for each namespace the container gets new */
};

/* Work out PLAN from SPEC: open each namespace given by path (O_RDONLY|O_CLOEXEC) and check it is a
 * namespace of the right type (NS_GET_NSTYPE).  Errors: "config.json: linux.namespaces[2].path:
 * '/x': not a network namespace".  Returns 0, or -1 with ERR (PLAN released).  */
int ns_plan_make (const struct husk_spec *spec, struct husk_ns_plan *plan, struct husk_err *err);

/* Close the fds of PLAN; safe to call twice.  */
void ns_plan_release (struct husk_ns_plan *plan);

/* True when the container has a namespace of TYPE of its own, new or joined by path.  */
bool ns_private (const struct husk_ns_plan *plan, enum husk_ns_type type);

/* Stage 1: join every namespace given by path, the user namespace first (it gives the capabilities
 * the other joins need), all while still in husk's own user namespace, so namespaces owned by the
 * host can be joined even when the container gets a new user namespace afterwards.  A joined pid
 * namespace holds the processes stage 1 creates.  Returns 0, or -1 with ERR.  */
int ns_join (const struct husk_ns_plan *plan, struct husk_err *err);

/* Stage 1, after ns_join and the new user namespace: unshare every other new namespace (mount, uts,
 * ipc, network, cgroup, pid and time: the pid and time ones take effect for the processes stage 1
 * creates).  The new user namespace owns them all.  Writes linux.timeOffsets into
 * /proc/self/timens_offsets, which the kernel accepts only before any process lives in the new time
 * namespace.  Returns 0, or -1 with ERR.  */
int ns_unshare_rest (const struct husk_spec *spec, const struct husk_ns_plan *plan, struct husk_err *err);

#endif
