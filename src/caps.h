/* Capabilities and no_new_privs (libcap).  config.md "Linux process" capabilities,
 * noNewPrivileges.  */
#ifndef HUSK_CAPS_H
#define HUSK_CAPS_H

#include <stdint.h>

#include "error.h"
#include "spec.h"

/* Highest capability number this kernel knows (/proc/sys/kernel/cap_last_cap, via libcap).  */
int caps_last_cap (void);

/* Drop every capability not in CAPS->bounding from the bounding set (PR_CAPBSET_DROP).  Needs
 * CAP_SETPCAP, so call it while still privileged.  CAPS NULL means all sets empty.  Bits above
 * caps_last_cap() are ignored with a warning.  Returns 0, or -1 with ERR.  */
int caps_drop_bounding (const struct husk_capabilities *caps, struct husk_err *err);

/* Set the effective, permitted and inheritable sets (capset) and raise the ambient set
 * (PR_CAP_AMBIENT_RAISE after clearing it) to CAPS.  Call after the uid change (the process keeps
 * its caps across setresuid with PR_SET_KEEPCAPS).  Returns 0, or -1 with ERR.  */
int caps_apply (const struct husk_capabilities *caps, struct husk_err *err);

/* PR_SET_NO_NEW_PRIVS.  Returns 0, or -1 with ERR.  */
int caps_set_no_new_privs (struct husk_err *err);

#endif
