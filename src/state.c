/* Container state directories (see state.h).  */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/file.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "cgroup/cgroup.h"
#include "state.h"
#include "json_gen.h"
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

int
state_write (int dirfd, const struct husk_state *st, struct husk_err *err)
{
  yajl_gen g = yajl_gen_alloc (NULL);
  const unsigned char *buf;
  size_t len;
  int fd, ret = -1;

  yajl_gen_map_open (g);
  json_gen_str (g, "ociVersion");
  json_gen_str (g, "1.2.0");
  json_gen_str (g, "id");
  json_gen_str (g, st->id);
  json_gen_str (g, "status");
  json_gen_str (g, st->status);
  json_gen_str (g, "pid");
  yajl_gen_integer (g, st->pid);
  json_gen_str (g, "bundle");
  json_gen_str (g, st->bundle);
  if (st->created != NULL)
    {
      json_gen_str (g, "created");
      json_gen_str (g, st->created);
    }
  json_gen_str (g, "annotations");
  yajl_gen_map_open (g);
  if (st->spec != NULL)
    for (size_t i = 0; i < st->spec->n_annotations; i++)
      {
        json_gen_str (g, st->spec->annotations[i].key);
        json_gen_str (g, st->spec->annotations[i].value);
      }
  yajl_gen_map_close (g);
  /* husk's own fields, used by later commands; runtime.md allows more than the required ones.  */
  json_gen_str (g, "husk.startTime");
  yajl_gen_integer (g, (long long) st->start_time);
  if (st->cgroup_path != NULL)
    {
      json_gen_str (g, "husk.cgroupPath");
      json_gen_str (g, st->cgroup_path);
    }
  if (st->cgroup_made_top != NULL)
    {
      json_gen_str (g, "husk.cgroupMadeTop");
      json_gen_str (g, st->cgroup_made_top);
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
state_write_path (int dirfd, const char *name, const char *path, struct husk_err *err)
{
  cleanup_close int fd = openat (dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

  if (fd < 0 || write_all (fd, path, strlen (path)) < 0 || fsync (fd) < 0)
    return husk_err_set (err, errno, "write the state's %s", name);
  return 0;
}

char *
state_read_path (const char *root, const char *id, const char *name)
{
  cleanup_free char *file = xasprintf ("%s/%s/%s", root, id, name);
  struct husk_err ignored;
  char *path = read_file_at (AT_FDCWD, file, 4096, NULL, &ignored);

  if (path != NULL && (path[0] != '/' || strchr (path, '\n') != NULL))
    {
      free (path);
      return NULL;
    }
  return path;
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

/* True when PID is a zombie (field 3 of /proc/PID/stat is 'Z'): it has exited.  */
static bool
pid_is_zombie (pid_t pid)
{
  char path[64];
  struct husk_err err;
  cleanup_free char *stat = NULL;
  const char *p;

  (void) snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
  stat = read_file_at (AT_FDCWD, path, 4096, NULL, &err);
  if (stat == NULL || (p = strrchr (stat, ')')) == NULL)
    return false;
  return p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
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

static char *
dup_string (yajl_val root, const char *key)
{
  const char *path[] = { key, NULL };
  yajl_val v = yajl_tree_get (root, path, yajl_t_string);

  return v != NULL && YAJL_IS_STRING (v) ? xstrdup (v->u.string) : NULL;
}

static long long
get_integer (yajl_val root, const char *key)
{
  const char *path[] = { key, NULL };
  yajl_val v = yajl_tree_get (root, path, yajl_t_number);

  return v != NULL && YAJL_IS_INTEGER (v) ? YAJL_GET_INTEGER (v) : 0;
}

/* The "annotations" object of ROOT into REC.  */
static void
load_annotations (yajl_val root, struct husk_state_rec *rec)
{
  const char *path[] = { "annotations", NULL };
  yajl_val v = yajl_tree_get (root, path, yajl_t_object);

  if (v == NULL)
    return;
  rec->annotations = xcalloc (v->u.object.len, sizeof *rec->annotations);
  for (size_t i = 0; i < v->u.object.len; i++)
    if (YAJL_IS_STRING (v->u.object.values[i]))
      {
        rec->annotations[rec->n_annotations].key = xstrdup (v->u.object.keys[i]);
        rec->annotations[rec->n_annotations].value = xstrdup (v->u.object.values[i]->u.string);
        rec->n_annotations++;
      }
}

int
state_load (const char *root, const char *id, struct husk_state_rec *rec, struct husk_err *err)
{
  cleanup_free char *path = NULL, *text = NULL;
  char ebuf[256];
  yajl_val v;

  memset (rec, 0, sizeof *rec);
  if (state_check_id (id, err) < 0)
    return -1;
  path = xasprintf ("%s/%s/state.json", root, id);
  text = read_file_at (AT_FDCWD, path, 1 << 20, NULL, err);
  if (text == NULL)
    {
      if (err->errnum == ENOENT)
        return husk_err_set (err, 0, "container '%s' does not exist", id);
      return -1;
    }
  v = yajl_tree_parse (text, ebuf, sizeof ebuf);
  if (v == NULL || !YAJL_IS_OBJECT (v))
    {
      yajl_tree_free (v);
      return husk_err_set (err, 0, "container '%s': corrupt state file '%s'", id, path);
    }
  rec->id = xstrdup (id);
  rec->status = dup_string (v, "status");
  rec->pid = (pid_t) get_integer (v, "pid");
  rec->start_time = (uint64_t) get_integer (v, "husk.startTime");
  rec->bundle = dup_string (v, "bundle");
  rec->cgroup_path = dup_string (v, "husk.cgroupPath");
  rec->cgroup_made_top = dup_string (v, "husk.cgroupMadeTop");
  rec->created = dup_string (v, "created");
  load_annotations (v, rec);
  yajl_tree_free (v);
  if (rec->status == NULL || rec->bundle == NULL)
    {
      state_rec_release (rec);
      return husk_err_set (err, 0, "container '%s': corrupt state file '%s'", id, path);
    }
  return 0;
}

void
state_rec_release (struct husk_state_rec *rec)
{
  free (rec->id);
  free (rec->status);
  free (rec->bundle);
  free (rec->cgroup_path);
  free (rec->cgroup_made_top);
  free (rec->created);
  for (size_t i = 0; i < rec->n_annotations; i++)
    {
      free (rec->annotations[i].key);
      free (rec->annotations[i].value);
    }
  free (rec->annotations);
  memset (rec, 0, sizeof *rec);
}

const char *
state_status_now (const char *root, const struct husk_state_rec *rec)
{
  cleanup_free char *fifo = NULL;
  struct stat st;

  if (rec->pid <= 0)
    return strcmp (rec->status, "creating") == 0 ? "creating" : "stopped";
  /* A zombie has exited: it counts as stopped.  A live pid with another start time is somebody else.  */
  uint64_t now = state_pid_start_time (rec->pid);
  if (now == 0 || (rec->start_time != 0 && now != rec->start_time) || pid_is_zombie (rec->pid))
    return "stopped";
  fifo = xasprintf ("%s/%s/exec.fifo", root, rec->id);
  if (lstat (fifo, &st) == 0 && S_ISFIFO (st.st_mode))
    return "created";
  if (rec->cgroup_path != NULL && cgroup_path_frozen (rec->cgroup_path))
    return "paused";
  return "running";
}

char *
state_rec_json (const struct husk_state_rec *rec, const char *status, bool pretty)
{
  yajl_gen g = yajl_gen_alloc (NULL);

  if (pretty)
    {
      yajl_gen_config (g, yajl_gen_beautify, 1);
      yajl_gen_config (g, yajl_gen_indent_string, "  ");
    }
  yajl_gen_map_open (g);
  json_gen_str (g, "ociVersion");
  json_gen_str (g, "1.2.0");
  json_gen_str (g, "id");
  json_gen_str (g, rec->id);
  json_gen_str (g, "status");
  json_gen_str (g, status);
  json_gen_str (g, "pid");
  yajl_gen_integer (g, strcmp (status, "stopped") == 0 ? 0 : rec->pid);
  json_gen_str (g, "bundle");
  json_gen_str (g, rec->bundle);
  json_gen_str (g, "annotations");
  yajl_gen_map_open (g);
  for (size_t i = 0; i < rec->n_annotations; i++)
    {
      json_gen_str (g, rec->annotations[i].key);
      json_gen_str (g, rec->annotations[i].value);
    }
  yajl_gen_map_close (g);
  if (rec->created != NULL)
    {
      json_gen_str (g, "created");
      json_gen_str (g, rec->created);
    }
  yajl_gen_map_close (g);
  return json_gen_finish (g);
}

int
state_lock (const char *root, const char *id, struct husk_err *err)
{
  cleanup_free char *path = NULL;
  int fd;

  if (state_check_id (id, err) < 0)
    return -1;
  path = xasprintf ("%s/%s", root, id);
  fd = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    {
      if (errno == ENOENT)
        return husk_err_set (err, 0, "container '%s' does not exist", id);
      return husk_err_set (err, errno, "open state dir '%s'", path);
    }
  while (flock (fd, LOCK_EX) < 0)
    if (errno != EINTR)
      {
        int e = errno;
        (void) close (fd);
        return husk_err_set (err, e, "lock state dir '%s'", path);
      }
  return fd;
}

char *
state_hook_json (const char *id, const char *status, pid_t pid, const char *bundle, const struct husk_spec *spec)
{
  struct husk_state_rec rec = {
    .id = (char *) id,
    .status = (char *) status,
    .pid = pid,
    .bundle = (char *) bundle,
    .annotations = spec != NULL ? spec->annotations : NULL,
    .n_annotations = spec != NULL ? spec->n_annotations : 0,
  };

  return state_rec_json (&rec, status, false);
}
