/* The PARENT side of the container lifecycle.  runtime.md "Lifecycle", "Operations".  */
#ifndef HUSK_CONTAINER_H
#define HUSK_CONTAINER_H

#include <stdbool.h>

#include "error.h"

struct husk_run_opts
{
  const char *root;     /* state root, e.g. /run/husk */
  const char *id;
  const char *bundle;   /* as given; made absolute here */
  const char *pid_file; /* NULL: none */
  bool detach;
  bool systemd_cgroup;
};

/* `husk run`: create the container from BUNDLE/config.json, start its process and, unless DETACH,
 * wait for it, forwarding signals, then remove everything it made.  Returns the process's exit status
 * (0..255; death by signal N gives 128+N), or -1 with ERR when the container could not be made
 * (nothing is left behind then).  With DETACH, returns 0 once the process runs, and its state and
 * cgroup stay until `husk delete`.  runtime.md "create", "start".  */
int container_run (const struct husk_run_opts *opts, struct husk_err *err);

#endif
