/* User namespace id mappings, written by the parent for the child.  config-linux.md
 * "User namespace mappings".  */
#ifndef HUSK_USERNS_H
#define HUSK_USERNS_H

#include <sys/types.h>

#include "error.h"
#include "spec.h"

/* Write linux.uidMappings and gidMappings to /proc/PID/uid_map and gid_map (one write each, as the
 * kernel requires).  When husk is not root, "deny" is written to /proc/PID/setgroups first (the
 * kernel requires it for an unprivileged gid_map).  Returns 0, or -1 with ERR.  */
int userns_write_mappings (pid_t pid, const struct husk_linux *linux_, struct husk_err *err);

/* True when /proc/self/setgroups says "allow" (or does not exist).  */
int userns_setgroups_allowed (void);

#endif
