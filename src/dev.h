/* /dev inside the container: the default devices (null, zero, full, random, urandom, tty), the
 * /dev symlinks (fd, stdin, stdout, stderr, core, ptmx -> pts/ptmx), and linux.devices.
 * Runs in the child after the config's mounts, before pivot_root.  config-linux.md "Devices",
 * "Default Devices"; runtime.md / config-linux.md "Default Filesystems".  */
#ifndef HUSK_DEV_H
#define HUSK_DEV_H

#include <stdbool.h>

#include "error.h"
#include "spec.h"

/* Create the default devices and symlinks and the config's devices inside ROOTFD (an O_PATH fd of
 * the rootfs).  Each node is made with mknodat on a parent fd resolved in the root; in a user
 * namespace (USERNS) where mknod is not allowed, the host device is bind-mounted instead (fd-based).
 * An existing entry of the right type, device number, mode and owner is kept (outside a user namespace;
 * inside one, type and number must match), anything else but a directory is replaced; a symlink is
 * never followed.  Skipped when /dev is
 * bind-mounted from the host (then the config owns it).  Returns 0, or -1 with ERR
 * ("config.json: linux.devices[2]: ...").  */
int dev_setup (const struct husk_spec *spec, int rootfd, bool userns, struct husk_err *err);

#endif
