/* Namespaces: which the container gets new, which it joins by path, and in what order.
 * config-linux.md "Namespaces".  */
#ifndef HUSK_NS_H
#define HUSK_NS_H

#include <stdbool.h>

#include "error.h"
#include "spec.h"

struct husk_ns_plan
{
  unsigned long clone_flags;   /* new namespaces made by clone3 in the parent */
  unsigned long unshare_flags; /* new namespaces made by unshare in the child (after joins) */
  int join_fd[HUSK_NS_COUNT];  /* an fd of each namespace to join, or -1 */
  bool new_ns[HUSK_NS_COUNT];  /* true for each namespace the container gets new */
};

/* Work out PLAN from SPEC: open each namespace given by path (O_RDONLY|O_CLOEXEC) and check it is a
 * namespace of the right type (NS_GET_NSTYPE).  The cgroup namespace is always unshared in the child,
 * after it was moved into its cgroup, so that its root is the container's cgroup; when a user
 * namespace is joined, the other new namespaces are unshared after the join so the joined one owns
 * them.  Errors: "config.json: linux.namespaces[2].path: '/x': not a network namespace".
 * Returns 0, or -1 with ERR (PLAN released).  */
int ns_plan_make (const struct husk_spec *spec, struct husk_ns_plan *plan, struct husk_err *err);

/* Close the fds of PLAN; safe to call twice.  */
void ns_plan_release (struct husk_ns_plan *plan);

/* In the parent, before clone: enter the pid namespace to join (setns on pid_for_children), so the
 * child is born in it.  *SAVED gets an fd of the parent's own pid namespace to restore afterwards with
 * ns_restore_pid (or -1 when nothing was done).  Returns 0, or -1 with ERR.  */
int ns_enter_pid_for_children (const struct husk_ns_plan *plan, int *saved, struct husk_err *err);
int ns_restore_pid (int *saved, struct husk_err *err);

/* In the parent, before clone: make a new time namespace for the child with linux.timeOffsets
 * (unshare(CLONE_NEWTIME) + /proc/self/timens_offsets: offsets can only be written before any process
 * lives in it).  *SAVED gets an fd of the parent's own time namespace, to restore with
 * ns_restore_time.  Does nothing when the plan has no new time namespace.  Returns 0, or -1 with ERR. */
int ns_prepare_time (const struct husk_spec *spec, const struct husk_ns_plan *plan, int *saved,
                     struct husk_err *err);
int ns_restore_time (int *saved, struct husk_err *err);

/* In the child: join the namespaces of PLAN (user first, then the others; not pid, which the parent
 * handled), then unshare PLAN->unshare_flags.  Returns 0, or -1 with ERR.  */
int ns_join_and_unshare (const struct husk_ns_plan *plan, struct husk_err *err);

#endif
