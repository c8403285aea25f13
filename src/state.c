/* Container state directories (see state.h).  */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "state.h"
#include "util.h"

int
state_check_id (const char *id, struct husk_err *err)
{
  size_t n = strlen (id);

  if (n == 0 || n > 255 || strcmp (id, ".") == 0 || strcmp (id, "..") == 0)
    return husk_err_set (err, 0, "invalid container id '%s'", id);
  for (const char *p = id; *p != '\0'; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'
          || *p == '+' || *p == '.' || *p == '-'))
      return husk_err_set (err, 0, "invalid container id '%s': only [A-Za-z0-9_+.-] allowed", id);
  return 0;
}

/* mkdir -p for the state root, which is trusted (root-owned, given by the caller).  */
static int
mkdir_parents (const char *path, mode_t mode, struct husk_err *err)
{
  cleanup_free char *copy = xstrdup (path);

  for (char *p = copy + 1; *p != '\0'; p++)
    {
      if (*p != '/')
        continue;
      *p = '\0';
      if (mkdir (copy, mode) < 0 && errno != EEXIST)
        return husk_err_set (err, errno, "mkdir '%s'", copy);
      *p = '/';
    }
  if (mkdir (copy, mode) < 0 && errno != EEXIST)
    return husk_err_set (err, errno, "mkdir '%s'", copy);
  return 0;
}

int
state_create (const char *root, const char *id, struct husk_err *err)
{
  cleanup_close int rootfd = -1;
  int fd;

  if (mkdir_parents (root, 0700, err) < 0)
    return -1;
  rootfd = open (root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return husk_err_set (err, errno, "open state root '%s'", root);
  /* mkdir is the atomic claim on the id: of concurrent creators exactly one succeeds.  */
  if (mkdirat (rootfd, id, 0700) < 0)
    {
      if (errno == EEXIST)
        return husk_err_set (err, 0, "container '%s' already exists", id);
      return husk_err_set (err, errno, "mkdir '%s/%s'", root, id);
    }
  fd = openat (rootfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    {
      int e = errno;
      (void) unlinkat (rootfd, id, AT_REMOVEDIR);
      return husk_err_set (err, e, "open '%s/%s'", root, id);
    }
  return fd;
}

static void
gen_str (yajl_gen g, const char *s)
{
  yajl_gen_string (g, (const unsigned char *) s, strlen (s));
}

int
state_write (int dirfd, const struct husk_state *st, struct husk_err *err)
{
  yajl_gen g = yajl_gen_alloc (NULL);
  const unsigned char *buf;
  size_t len;
  int fd, ret = -1;

  yajl_gen_map_open (g);
  gen_str (g, "ociVersion");
  gen_str (g, "1.2.0");
  gen_str (g, "id");
  gen_str (g, st->id);
  gen_str (g, "status");
  gen_str (g, st->status);
  gen_str (g, "pid");
  yajl_gen_integer (g, st->pid);
  gen_str (g, "bundle");
  gen_str (g, st->bundle);
  gen_str (g, "annotations");
  yajl_gen_map_open (g);
  if (st->spec != NULL)
    for (size_t i = 0; i < st->spec->n_annotations; i++)
      {
        gen_str (g, st->spec->annotations[i].key);
        gen_str (g, st->spec->annotations[i].value);
      }
  yajl_gen_map_close (g);
  /* husk's own fields, used by later commands; runtime.md allows more than the required ones.  */
  gen_str (g, "husk.startTime");
  yajl_gen_integer (g, (long long) st->start_time);
  if (st->cgroup_path != NULL)
    {
      gen_str (g, "husk.cgroupPath");
      gen_str (g, st->cgroup_path);
    }
  yajl_gen_map_close (g);
  yajl_gen_get_buf (g, &buf, &len);

  fd = openat (dirfd, "state.json.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      husk_err_set (err, errno, "create state file");
      goto out;
    }
  if (write_all (fd, buf, len) < 0 || fsync (fd) < 0)
    {
      husk_err_set (err, errno, "write state file");
      (void) close (fd);
      goto out;
    }
  (void) close (fd);
  if (renameat (dirfd, "state.json.tmp", dirfd, "state.json") < 0)
    {
      husk_err_set (err, errno, "rename state file");
      goto out;
    }
  (void) fsync (dirfd);
  ret = 0;
out:
  yajl_gen_free (g);
  return ret;
}

int
state_remove (const char *root, const char *id, struct husk_err *err)
{
  cleanup_close int rootfd = open (root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int dirfd = -1;

  if (rootfd < 0)
    return errno == ENOENT ? 0 : husk_err_set (err, errno, "open state root '%s'", root);
  dirfd = openat (rootfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dirfd < 0)
    return errno == ENOENT ? 0 : husk_err_set (err, errno, "open state dir '%s'", id);
  {
    cleanup_dir DIR *d = fdopendir (dup (dirfd));
    struct dirent *de;
    if (d == NULL)
      return husk_err_set (err, errno, "read state dir '%s'", id);
    while ((de = readdir (d)) != NULL)
      if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0)
        (void) unlinkat (dirfd, de->d_name, 0);
  }
  if (unlinkat (rootfd, id, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return husk_err_set (err, errno, "remove state dir '%s/%s'", root, id);
  return 0;
}

uint64_t
state_pid_start_time (pid_t pid)
{
  char path[64];
  struct husk_err err;
  cleanup_free char *stat = NULL;
  const char *p;
  uint64_t v = 0;

  (void) snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
  stat = read_file_at (AT_FDCWD, path, 4096, NULL, &err);
  if (stat == NULL)
    return 0;
  /* Field 2 (comm) may hold spaces and parentheses: count fields after the last ')'.  */
  p = strrchr (stat, ')');
  if (p == NULL)
    return 0;
  for (int field = 2; field < 22 && p != NULL; field++)
    p = strchr (p + 1, ' ');
  if (p == NULL)
    return 0;
  v = strtoull (p + 1, NULL, 10);
  return v;
}
