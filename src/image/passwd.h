/* Resolving an image config's `User` (config.md "User", conversion.md) against the image's own
 * /etc/passwd and /etc/group, given as text already read (size-capped, never through NSS).
 * IMAGES.md T36, T37 (CVE-2024-40635, CVE-2026-46680, CVE-2026-47262).  */
#ifndef HUSK_IMAGE_PASSWD_H
#define HUSK_IMAGE_PASSWD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

/* Largest /etc/passwd or /etc/group read: 4 MiB; more lines than this are an error.  */
#define PASSWD_MAX_BYTES (4u << 20)
#define PASSWD_MAX_LINES 100000

struct image_user
{
  uint32_t uid, gid;
  uint32_t *additional_gids; /* supplementary groups from /etc/group (user listed as a member) */
  size_t n_additional_gids;
};
void image_user_free (struct image_user *u);

/* Resolve USER ("", "name", "uid", "name:group", "uid:gid", "name:gid", ...) with PASSWD and GROUP
 * (NUL-terminated text, either may be NULL when the image has no such file).  A field of decimal
 * digits is an id and must fit in 0..4294967294 (never reinterpreted as a name); a name must be
 * found in the file, or it is an error.  With no group given, the gid is the user's primary group
 * (0 for a numeric uid not in PASSWD).  Supplementary groups are those of GROUP listing the user's
 * name, only when no group was given.  Returns 0, or -1 with ERR: "config.User: user 'x' not found
 * in /etc/passwd", "config.User: uid '4294967296' out of range".  */
int image_user_resolve (const char *user, const char *passwd, const char *group, struct image_user *out,
                        struct husk_err *err);

#endif
