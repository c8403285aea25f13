/* Internal to the image source code (layout.c and archive.c): staging a tarball source into a
 * private directory that then reads as an OCI image layout (image-layout.md), converting a
 * docker-archive (`docker save`) on the way; and what both files share.  The user-facing contract is
 * image_source_open in layout.h.  IMAGES.md §7.1, T29, T30.  */
#ifndef HUSK_IMAGE_ARCHIVE_H
#define HUSK_IMAGE_ARCHIVE_H

#include <stdint.h>

#include "error.h"
#include "image/layout.h"

/* Media types (media-types.md; docker's from the distribution spec): read by layout.c, written into
 * a converted docker-archive by archive.c.  */
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar"
#define MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
/* The descriptor annotation holding an image's reference name (annotations.md).  */
#define ANNOTATION_REF_NAME "org.opencontainers.image.ref.name"

/* Stage the tar archive (plain, gzip or zstd, through libarchive) open as FD into a new 0700
 * directory "husk-image-XXXXXX" under TMPDIR (NULL or empty: $TMPDIR, else /tmp), for the source
 * SRC (SRC->name set, SRC->dirfd -1, nothing staged yet).  Only directories and regular files are
 * written (symlinks, hard links and special files are skipped, their declared size still counted),
 * by cleaned names: absolute names, "..", components longer than NAME_MAX, more than 8 levels and
 * duplicate names are errors; at most 100000 entries and MAX_BYTES bytes of content in all (EFBIG).
 * When the archive has no `oci-layout` but a `manifest.json`, it is a docker-archive and is
 * converted in place (config and layer files moved to blobs/sha256/<their sha256>, one docker
 * manifest v2 blob per image, index.json with the RepoTags and their short forms as ref names,
 * oci-layout) and SRC->docker is set.  The layout itself is not checked (the caller does that).
 * Returns 0 with SRC->staged (the directory's path, free it) and SRC->dirfd (an O_RDONLY directory
 * fd of it) set; or -1 with ERR prefixed with SRC->name ("neither an OCI layout (oci-layout) nor a
 * docker-archive (manifest.json)", "not a tar archive: ...", "archive entry '../x': '..' in name",
 * a manifest.json member naming no staged file).  On failure SRC->staged may still be set: the caller removes it with
 * image_archive_remove (image_source_close does).  */
int image_archive_stage (struct image_source *src, int fd, const char *tmpdir, uint64_t max_bytes,
                         struct husk_err *err);

/* Remove the staging directory PATH and everything in it, never following symlinks.  Best effort:
 * failures are ignored.  */
void image_archive_remove (const char *path);

/* Provided by layout.c.  Open NAME beneath DIRFD for reading: no symlinks, no magic links
 * (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS, EAGAIN retried), must be a
 * regular file, and a FIFO never blocks (O_NONBLOCK); O_CLOEXEC.  Returns the fd, or -1 with errno
 * set (EINVAL: not a regular file).  */
int image_open_beneath (int dirfd, const char *name);

#endif
