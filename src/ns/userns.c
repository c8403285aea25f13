/* User namespace id mappings (see userns.h).  */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ns/userns.h"
#include "util.h"

static int
write_map (int procfd, const char *name, const struct husk_id_mapping *m, size_t n, struct husk_err *err)
{
  cleanup_free char *buf = xmalloc (n * 36 + 1);
  size_t len = 0;

  buf[0] = '\0';
  for (size_t i = 0; i < n; i++)
    len += (size_t) sprintf (buf + len, "%u %u %u\n", m[i].container_id, m[i].host_id, m[i].size);
  if (write_file_at (procfd, name, buf, len, err) < 0)
    return husk_err_prefix (err, "config.json: linux.%s", strcmp (name, "uid_map") == 0 ? "uidMappings"
                                                                                       : "gidMappings");
  return 0;
}

int
userns_write_mappings (pid_t pid, const struct husk_linux *lx, struct husk_err *err)
{
  char path[64];
  cleanup_close int procfd = -1;

  (void) snprintf (path, sizeof path, "/proc/%d", (int) pid);
  procfd = open (path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (procfd < 0)
    return husk_err_set (err, errno, "open '%s'", path);
  if (geteuid () != 0 && write_file_at (procfd, "setgroups", "deny", 4, err) < 0)
    return -1;
  if (lx->n_uid_mappings > 0 && write_map (procfd, "uid_map", lx->uid_mappings, lx->n_uid_mappings, err) < 0)
    return -1;
  if (lx->n_gid_mappings > 0 && write_map (procfd, "gid_map", lx->gid_mappings, lx->n_gid_mappings, err) < 0)
    return -1;
  return 0;
}

int
userns_setgroups_allowed (void)
{
  struct husk_err err;
  cleanup_free char *s = read_file_at (AT_FDCWD, "/proc/self/setgroups", 64, NULL, &err);

  return s == NULL || strncmp (s, "allow", 5) == 0;
}
