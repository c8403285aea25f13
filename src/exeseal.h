/* Protection of the host's husk binary from the container (CVE-2019-5736).
 *
 * While husk sets a container up, and if the container's entrypoint resolves to /proc/self/exe
 * (`#!/proc/self/exe`), the container can reach the binary its runtime runs from.  husk therefore
 * runs every command that starts a container process from a sealed, anonymous copy of itself: a
 * memfd with F_SEAL_SEAL|SHRINK|GROW|WRITE (and F_SEAL_EXEC where the kernel has it).  Writing to it
 * fails whatever the container's privileges, and it is not the host file.  Costs one copy of the
 * binary (~0.3 MB) and one execve per command; see bench/.  SECURITY.md CVE-2019-5736.  */
#ifndef HUSK_EXESEAL_H
#define HUSK_EXESEAL_H

#include "error.h"

/* When /proc/self/exe is not yet a sealed memfd, copy it into one and re-execute it with ARGV and
 * ENVP (does not return on success).  Returns 0 when already running from a sealed copy, or -1 with
 * ERR.  */
int exeseal_ensure (char **argv, char **envp, struct husk_err *err);

#endif
