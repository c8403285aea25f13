/* From an image configuration to a bundle's config.json (image-spec conversion.md): husk spec's
 * default configuration (namespaces, mounts, capabilities, masked paths) with the image's process:
 * Entrypoint+Cmd as args, Env, WorkingDir, the User resolved against the image's own files, and
 * the image's metadata and Labels as annotations (Labels win).  Volumes are not mounted (a bundle
 * owner adds mounts; IMAGES.md T38); ExposedPorts become an annotation only.  */
#ifndef HUSK_IMAGE_CONVERT_H
#define HUSK_IMAGE_CONVERT_H

#include "error.h"
#include "image/layout.h"
#include "image/passwd.h"

/* The config.json text (free it) for CFG run as USER (NULL: uid 0, gid 0), with a writable root
 * (the image's overlay has a private upper layer).  Errors: an image with neither Entrypoint nor Cmd
 * ("config.Cmd: the image names no command"), a relative WorkingDir.  Returns NULL with ERR then.  */
char *convert_config (const struct image_config *cfg, const struct image_user *user, struct husk_err *err);

#endif
