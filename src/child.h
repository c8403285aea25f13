/* The CHILD side of creating a container: two processes, from clone to execve.
 *
 * Stage 1 (child_stage1) is cloned by husk with no new namespace.  It joins the namespaces given by
 * path, makes the new user namespace (husk writes its id maps), then the other new namespaces, and
 * clones stage 2 with CLONE_PARENT, so stage 2 is husk's own child and, with a new pid namespace,
 * its PID 1; stage 1 then exits.  Doing this in a process of its own lets every combination work:
 * host-owned namespaces joined before a new user namespace exists, and a new pid namespace owned by a
 * joined user namespace.  Stage 2 (child_stage2) builds the container and execs its process.  */
#ifndef HUSK_CHILD_H
#define HUSK_CHILD_H

#include <stdbool.h>
#include <sys/types.h>

#include "cgroup/cgroup.h"
#include "ns/ns.h"
#include "seccomp.h"
#include "spec.h"

struct husk_child_ctx
{
  const struct husk_spec *spec;
  const char *id;
  const char *bundle;  /* absolute */
  const char *rootfs;  /* absolute */
  int sync_fd;         /* child end of the sync socket (CLOEXEC: closes on execve) */
  const struct husk_ns_plan *ns;
  const struct husk_cgroup *cgroup; /* may be NULL */
  bool in_v2_cgroup;   /* stage 1 was born in the cgroup2 hierarchy (CLONE_INTO_CGROUP) */
  const struct husk_seccomp_bpf *seccomp;
  int exec_fifo;       /* create: O_PATH fd of <state>/exec.fifo to wait on for `start`; run: -1 */
  unsigned int preserve_fds; /* fds 3..3+N-1 of the caller pass to the process */
  int rootfs_mount;    /* the image overlay to attach on the rootfs (overlay.h), or -1 */
};

/* Stage 1, in the process husk cloned.  Never returns: exits 0 once stage 2 exists and its pid was
 * sent (SYNC_PID), or sends SYNC_ERROR and exits 1.  */
__attribute__ ((noreturn)) void child_stage1 (const struct husk_child_ctx *ctx);

#endif
