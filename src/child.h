/* The CHILD side of creating a container: the ordered steps from clone to execve.  */
#ifndef HUSK_CHILD_H
#define HUSK_CHILD_H

#include <sys/types.h>

#include "cgroup/cgroup.h"
#include "ns/ns.h"
#include "seccomp.h"
#include "spec.h"

struct husk_child_ctx
{
  const struct husk_spec *spec;
  const char *bundle;  /* absolute */
  const char *rootfs;  /* absolute */
  int sync_fd;         /* child end of the sync socket (CLOEXEC: closes on execve) */
  const struct husk_ns_plan *ns;
  const struct husk_cgroup *cgroup; /* may be NULL */
  const struct husk_seccomp_bpf *seccomp;
};

/* Run in the freshly cloned child: wait for SYNC_GO, build the container, report SYNC_CREATED, wait
 * for SYNC_START, execve the process.  Never returns: on any failure the error goes to the parent as
 * SYNC_ERROR and the child exits 1; if execve fails, 127.  */
__attribute__ ((noreturn)) void child_main (const struct husk_child_ctx *ctx);

#endif
