/* The PARENT side of the container lifecycle.  runtime.md "Lifecycle", "Operations".  */
#ifndef HUSK_CONTAINER_H
#define HUSK_CONTAINER_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

struct husk_spec;

struct husk_run_opts
{
  const char *root;     /* state root, e.g. /run/husk */
  const char *id;
  const char *bundle;   /* as given; made absolute here */
  const char *pid_file; /* NULL: none */
  bool detach;
  bool systemd_cgroup;
  const char *console_socket;
  unsigned int preserve_fds; /* --preserve-fds N */
  bool run; /* true: `run` (start at once, wait unless detach); false: `create` */
  /* When not NULL, the container is made from this spec (borrowed, already validated or not: it is
   * validated here) instead of BUNDLE/config.json; BUNDLE is still the directory a relative root.path
   * and the hooks' state refer to (`husk sandbox` builds its spec in memory).  */
  struct husk_spec *spec;
  /* `husk sandbox`: SIGKILL the process after forwarding a signal that would end a plain process
   * but that it leaves at its default, which pid 1 of a pid namespace ignores (parent_wait_forwarding). */
  bool kill_uncaught;
};

/* `husk create` (OPTS->run false): build the container up to the point where only execve is left,
 * record it as "created" with its pid, and return 0; its process waits on <root>/<id>/exec.fifo
 * until `husk start` (container_start).  It is left as a direct child of husk's parent (a subreaper
 * such as containerd-shim or conmon gets it).  Returns -1 with ERR when the container could not be
 * made (nothing is left behind then).  runtime.md "create".
 *
 * `husk run` (OPTS->run true): create the container from BUNDLE/config.json, start its process and, unless DETACH,
 * wait for it, forwarding signals, then remove everything it made.  Returns the process's exit status
 * (0..255; death by signal N gives 128+N), or -1 with ERR when the container could not be made
 * (nothing is left behind then).  With DETACH, returns 0 once the process runs, and its state and
 * cgroup stay until `husk delete`.  runtime.md "create", "start".  */
int container_run (const struct husk_run_opts *opts, struct husk_err *err);

/* Run SPEC's poststart hooks (after the process of container ID, PID on the host, started) or its
 * poststop hooks (after the container was deleted), with the state JSON on stdin.  Failures are
 * warnings, as runtime.md "Lifecycle" 9 and 13 say.  */
void run_poststart (const struct husk_spec *spec, const char *id, pid_t pid, const char *bundle);
void run_poststop (const struct husk_spec *spec, const char *id, const char *bundle);

#endif
