/* The foundation's cgroup driver (see cgroup.h): one directory per hierarchy, made at
 * linux.cgroupsPath; device rules on v1; everything else in linux.resources is refused until the
 * cgroup issue implements it.  */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

#include "cgroup/cgroup.h"
#include "cgroup/devices.h"
#include "cgroup/resources.h"
#include "cgroup/systemd.h"
#include "util.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#define MAX_HIERARCHIES 24

struct hierarchy
{
  char *mount;       /* "/sys/fs/cgroup/cpu,cpuacct" */
  char *name;        /* "cpu,cpuacct", "systemd", "unified", or "" for a v2-only host */
  char *options;     /* the v1 super options ("rw,cpu,cpuacct"), to match /proc/self/cgroup */
  char *rel;         /* the container's cgroup path in it ("/husk-test/c1") */
  char *dir;         /* the container's directory in it: mount + rel */
  char *made[16];    /* directories this cgroup made, outermost first */
  size_t n_made;
  bool v2;
};

struct husk_cgroup
{
  enum husk_cgroup_mode mode;
  char *path;
  struct hierarchy h[MAX_HIERARCHIES];
  size_t n;
  /* The systemd driver (systemd.h), when sd.unit is not NULL: systemd makes and removes the unit,
   * everything else is the cgroupfs code below.  */
  struct systemd_cgroup_path sd;
  struct systemd_bus *bus;  /* connected by cgroup_prepare; by cgroup_destroy after cgroup_open */
  struct systemd_pin pin;   /* holds the new scope until stage 1 is in it */
  bool unit_owned;          /* the unit is this container's: started here, or recorded as such */
  char *description;        /* "husk container ID" */
  char *unit_record;        /* SYSTEMD_RECORD + unit, what cgroup_made_top returns */
};

/* What cgroup_made_top records for a cgroup of the systemd driver, before the unit's name.  */
#define SYSTEMD_RECORD "systemd:"

int
cgroup_detect_mode (struct husk_err *err)
{
  struct statfs fs;

  if (statfs (CGROUP_ROOT, &fs) < 0)
    return husk_err_set (err, errno, "statfs '%s'", CGROUP_ROOT);
  if (fs.f_type == CGROUP2_SUPER_MAGIC)
    return HUSK_CGROUP_UNIFIED;
  if (fs.f_type != TMPFS_MAGIC)
    return husk_err_set (err, 0, "'%s' is neither cgroup2 nor a tmpfs of v1 hierarchies", CGROUP_ROOT);
  if (statfs (CGROUP_ROOT "/unified", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC)
    return HUSK_CGROUP_HYBRID;
  return HUSK_CGROUP_LEGACY;
}

const char *
cgroup_path (const struct husk_cgroup *cg)
{
  return cg->path;
}

void
cgroup_free (struct husk_cgroup *cg)
{
  if (cg == NULL)
    return;
  systemd_pin_release (&cg->pin);
  systemd_bus_close (cg->bus);
  systemd_path_release (&cg->sd);
  free (cg->description);
  free (cg->unit_record);
  for (size_t i = 0; i < cg->n; i++)
    {
      free (cg->h[i].mount);
      free (cg->h[i].name);
      free (cg->h[i].options);
      free (cg->h[i].dir);
      free (cg->h[i].rel);
      for (size_t j = 0; j < cg->h[i].n_made; j++)
        free (cg->h[i].made[j]);
    }
  free (cg->path);
  free (cg);
}

/* Fill CG->h from /proc/self/mountinfo: every cgroup hierarchy mounted right under /sys/fs/cgroup
 * (v1 and hybrid), or /sys/fs/cgroup itself (v2).  */
static int
find_hierarchies (struct husk_cgroup *cg, struct husk_err *err)
{
  cleanup_fclose FILE *f = fopen ("/proc/self/mountinfo", "re");
  cleanup_free char *line = NULL;
  size_t cap = 0;

  if (f == NULL)
    return husk_err_set (err, errno, "open '/proc/self/mountinfo'");
  while (getline (&line, &cap, f) > 0 && cg->n < MAX_HIERARCHIES)
    {
      char mnt[512], fstype[64], source[256], opts[512];
      const char *sep = strstr (line, " - ");
      if (sep == NULL || sscanf (line, "%*s %*s %*s %*s %511s", mnt) != 1
          || sscanf (sep, " - %63s %255s %511s", fstype, source, opts) != 3)
        continue;
      bool v2 = strcmp (fstype, "cgroup2") == 0;
      if (!v2 && strcmp (fstype, "cgroup") != 0)
        continue;
      if (cg->mode == HUSK_CGROUP_UNIFIED ? strcmp (mnt, CGROUP_ROOT) != 0
                                          : (!has_prefix (mnt, CGROUP_ROOT "/") || strchr (mnt + 15, '/')))
        continue;
      bool dup = false;
      for (size_t i = 0; i < cg->n; i++)
        dup |= strcmp (cg->h[i].mount, mnt) == 0;
      if (dup)
        continue;
      struct hierarchy *h = &cg->h[cg->n++];
      h->mount = xstrdup (mnt);
      h->name = xstrdup (cg->mode == HUSK_CGROUP_UNIFIED ? "" : mnt + strlen (CGROUP_ROOT "/"));
      h->options = xstrdup (opts);
      h->v2 = v2;
    }
  if (cg->n == 0)
    return husk_err_set (err, 0, "no cgroup hierarchy found under '%s'", CGROUP_ROOT);
  return 0;
}

/* The calling process's own cgroup in hierarchy H, from /proc/self/cgroup.  */
static char *
own_cgroup (const struct hierarchy *h, struct husk_err *err)
{
  cleanup_fclose FILE *f = fopen ("/proc/self/cgroup", "re");
  cleanup_free char *line = NULL;
  size_t cap = 0;

  if (f == NULL)
    return husk_err_set (err, errno, "open '/proc/self/cgroup'"), NULL;
  while (getline (&line, &cap, f) > 0)
    {
      char *ctrl = strchr (line, ':'), *path;
      if (ctrl == NULL || (path = strchr (++ctrl, ':')) == NULL)
        continue;
      *path++ = '\0';
      path[strcspn (path, "\n")] = '\0';
      bool match;
      if (h->v2)
        match = *ctrl == '\0';
      else
        {
          /* "cpu,cpuacct" or "name=systemd": every listed controller must be in the super options.  */
          match = *ctrl != '\0';
          for (char *c = strtok (ctrl, ","); c != NULL && match; c = strtok (NULL, ","))
            {
              size_t n = strlen (c);
              const char *o = h->options;
              bool found = false;
              while ((o = strstr (o, c)) != NULL && !found)
                {
                  found = (o == h->options || o[-1] == ',') && (o[n] == ',' || o[n] == '\0');
                  o += n;
                }
              match = found;
            }
        }
      if (match)
        return xstrdup (path);
    }
  return husk_err_set (err, 0, "no entry for '%s' in /proc/self/cgroup", h->mount), NULL;
}

/* A new v1 cpuset cgroup starts with empty cpuset.cpus and cpuset.mems, and no task may join it
 * (ENOSPC) until they are filled: copy the parent's.  */
static int
cpuset_inherit (const char *dir, struct husk_err *err)
{
  static const char *files[] = { "cpuset.cpus", "cpuset.mems" };
  cleanup_free char *parent = xstrdup (dir);
  cleanup_close int pfd = -1, dfd = -1;

  *strrchr (parent, '/') = '\0';
  pfd = open (parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
  dfd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (pfd < 0 || dfd < 0)
    return husk_err_set (err, errno, "open cpuset cgroup '%s'", dir);
  for (size_t i = 0; i < ARRAY_SIZE (files); i++)
    {
      size_t len;
      cleanup_free char *v = read_file_at (pfd, files[i], 4096, &len, err);
      if (v == NULL || write_file_at (dfd, files[i], v, len, err) < 0)
        return husk_err_prefix (err, "cgroup '%s'", dir);
    }
  return 0;
}

/* mkdir every missing component of H->rel under H->mount, remembering what was made.  */
static int
make_dirs (struct hierarchy *h, struct husk_err *err)
{
  cleanup_free char *dir = xasprintf ("%s%s", h->mount, h->rel);
  size_t base = strlen (h->mount);

  for (char *p = dir + base + 1;; p++)
    {
      char c = *p;
      if (c != '/' && c != '\0')
        continue;
      *p = '\0';
      if (mkdir (dir, 0755) == 0)
        {
          if (h->n_made < ARRAY_SIZE (h->made))
            h->made[h->n_made++] = xstrdup (dir);
          if (!h->v2 && strstr (h->name, "cpuset") != NULL && cpuset_inherit (dir, err) < 0)
            return -1;
        }
      else if (errno != EEXIST)
        return husk_err_set (err, errno, "mkdir cgroup '%s'", dir);
      *p = c;
      if (c == '\0')
        break;
    }
  return 0;
}


/* True when the v1 hierarchy named NAME ("cpu,cpuacct", "devices") holds CONTROLLER.  */
static bool
has_controller (const char *name, const char *controller)
{
  size_t len = strlen (controller);

  for (const char *p = name;; p++)
    {
      if (strncmp (p, controller, len) == 0 && (p[len] == ',' || p[len] == '\0'))
        return true;
      p = strchr (p, ',');
      if (p == NULL)
        return false;
    }
}


/* True when hierarchy H of CG is one linux.resources is written to: the cgroup2 tree on a v2 host;
 * on v1 and hybrid hosts every v1 hierarchy but devices and name=systemd.  */
static bool
takes_resources (const struct husk_cgroup *cg, const struct hierarchy *h)
{
  if (cg->mode == HUSK_CGROUP_UNIFIED)
    return h->v2;
  return !h->v2 && !has_controller (h->name, "devices") && strncmp (h->name, "systemd", 7) != 0;
}

/* True when R asks for a limit, anything but device rules (see apply_devices for those).  */
static bool
asks_limits (const struct husk_resources *r)
{
  return r != NULL
         && (r->memory != NULL || r->cpu != NULL || r->has_pids_limit || r->block_io != NULL
             || r->n_hugepage_limits > 0 || r->network != NULL || r->n_rdma > 0 || r->n_unified > 0);
}

/* The longest common ancestor of the cgroup paths A and B ("/a/b", "/a/c" -> "/a"; "/" at least),
 * malloc'd.  */
static char *
common_ancestor (const char *a, const char *b)
{
  size_t end = 0;

  for (size_t i = 0;; i++)
    {
      bool a_end = a[i] == '\0' || a[i] == '/', b_end = b[i] == '\0' || b[i] == '/';
      if (a_end && b_end)
        end = i;
      if (a[i] != b[i] || a[i] == '\0')
        break;
    }
  return end == 0 ? xstrdup ("/") : xasprintf ("%.*s", (int) end, a);
}

/* Rootless: whether the calling user may use H's directory for the container (config-linux.md
 * "cgroupsPath"; the kernel's delegation rules, cgroup-v2.rst "Delegation Containment").  An
 * existing directory needs its `cgroup.procs` (v2) or `tasks` (v1) writable; a missing one needs
 * its deepest existing ancestor writable (mkdir gives the new directory and its files to the
 * maker).  cgroup v2 also needs the `cgroup.procs` of the common ancestor of the caller's cgroup and
 * the destination writable, or no process could move (or be born: CLONE_INTO_CGROUP) there.
 * Returns NULL when it may, or what it may not write (malloc'd).  */
static char *
hierarchy_unwritable (const struct hierarchy *h)
{
  cleanup_free char *dir = xstrdup (h->dir), *want = NULL;
  size_t base = strlen (h->mount);
  struct stat st;

  while (stat (dir, &st) < 0 && strlen (dir) > base)
    *strrchr (dir, '/') = '\0';
  if (strcmp (dir, h->dir) == 0)
    want = xasprintf ("%s/%s", dir, h->v2 ? "cgroup.procs" : "tasks");
  if (faccessat (AT_FDCWD, want != NULL ? want : dir, want != NULL ? W_OK : W_OK | X_OK, AT_EACCESS) < 0)
    return want != NULL ? steal_ptr (&want) : steal_ptr (&dir);
  if (h->v2)
    {
      struct husk_err ignored;
      cleanup_free char *own = own_cgroup (h, &ignored), *top = NULL, *procs = NULL;
      if (own == NULL)
        return xasprintf ("%s (no cgroup of ours in it)", h->mount);
      top = common_ancestor (own, h->rel);
      procs = xasprintf ("%s%s/cgroup.procs", h->mount, strcmp (top, "/") == 0 ? "" : top);
      if (faccessat (AT_FDCWD, procs, W_OK, AT_EACCESS) < 0)
        return steal_ptr (&procs);
    }
  return NULL;
}

/* Forget hierarchy I of CG (rootless: not ours to write).  */
static void
drop_hierarchy (struct husk_cgroup *cg, size_t i)
{
  struct hierarchy *h = &cg->h[i];

  free (h->mount);
  free (h->name);
  free (h->options);
  free (h->rel);
  free (h->dir);
  memmove (h, h + 1, (cg->n - i - 1) * sizeof *h);
  cg->n--;
  memset (&cg->h[cg->n], 0, sizeof cg->h[cg->n]);
}

/* Rootless (not husk_privileged ()): keep only the hierarchies of CG the user may write (see
 * hierarchy_unwritable), as runc and crun do without root.  A hierarchy linux.resources needs (see
 * takes_resources) is required when SPEC asks for limits: "config.json: linux.resources: ..." with
 * EACCES otherwise, naming what is not writable.  Without limits the container goes without the
 * hierarchies it may not write (a warning when EXPLICIT, the config's own cgroupsPath; said with
 * --debug for the default), and with none of them it has no cgroup at all (cgroup_path NULL).
 * Returns 0, or -1 with ERR.  */
static int
keep_delegated (struct husk_cgroup *cg, const struct husk_spec *spec, bool explicit, struct husk_err *err)
{
  bool limits = spec->linux != NULL && asks_limits (spec->linux->resources), lost_controller = false;
  cleanup_free char *first = NULL;

  for (size_t i = 0; i < cg->n;)
    {
      char *denied = hierarchy_unwritable (&cg->h[i]);
      if (denied == NULL)
        {
          i++;
          continue;
        }
      if (limits && takes_resources (cg, &cg->h[i]))
        {
          husk_err_set (err, EACCES,
                        "config.json: linux.resources: limits need a cgroup that uid %u may write (rootless: "
                        "a delegated linux.cgroupsPath), not '%s'",
                        (unsigned) geteuid (), denied);
          free (denied);
          return -1;
        }
      if (first == NULL || (!lost_controller && takes_resources (cg, &cg->h[i])))
        {
          free (first);
          first = denied;
        }
      else
        free (denied);
      lost_controller |= takes_resources (cg, &cg->h[i]);
      drop_hierarchy (cg, i);
    }
  /* A hybrid host's cgroup2 and name=systemd hierarchies only track membership: losing them alone
   * is not worth a warning.  */
  if (first != NULL && explicit && (cg->n == 0 || lost_controller))
    husk_warn ("cgroup: uid %u may not write '%s' (rootless): the container goes without %s", (unsigned) geteuid (),
               first, cg->n == 0 ? "a cgroup" : "the hierarchies it cannot write");
  else if (first != NULL)
    husk_debug ("cgroup: uid %u may not write '%s' (rootless): %s", (unsigned) geteuid (), first,
                cg->n == 0 ? "no cgroup" : "not every hierarchy");
  return 0;
}

/* The device allowlist, always (deny-all, the config's rules, the defaults, linux.devices): on a v2
 * host an eBPF program on the container's directory, otherwise (v1, hybrid) the devices hierarchy.
 * Runs before any process enters the cgroup.  No devices controller at all fails closed.
 * config-linux.md "Device allowlist".  */
static int
apply_devices (const struct husk_cgroup *cg, const struct husk_spec *spec, struct husk_err *err)
{
  bool v2 = cg->mode == HUSK_CGROUP_UNIFIED;

  /* Rootless: v1 devices.deny/allow need CAP_SYS_ADMIN and a v2 BPF_CGROUP_DEVICE program a
   * privileged bpf(2): no allowlist.  The container's user namespace has no mknod of devices, and
   * the nodes bound from the host keep the host's permissions (a nodev mount refuses them all).  */
  if (!husk_privileged ())
    {
      husk_debug ("cgroup: rootless: no device allowlist");
      return 0;
    }
  for (size_t i = 0; i < cg->n; i++)
    {
      const struct hierarchy *h = &cg->h[i];
      if (v2 ? !h->v2 : h->v2 || !has_controller (h->name, "devices"))
        continue;
      cleanup_close int fd = open (h->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0)
        return husk_err_set (err, errno, "open cgroup '%s'", h->dir);
      return v2 ? devices_v2_attach (fd, spec, err) : devices_v1_apply (fd, spec, err);
    }
  return husk_err_set (err, 0, "no devices cgroup on this host: cannot restrict device access");
}

/* v2: enable the controllers R needs in every ancestor's cgroup.subtree_control, from the root
 * down to the container's parent (the "no internal processes" rule may refuse it: EBUSY).  */
static int
v2_enable_controllers (const struct hierarchy *h, unsigned mask, struct husk_err *err)
{
  cleanup_free char *dir = xstrdup (h->dir);
  size_t root = strlen (h->mount);

  /* Each '/' after the mount point ends an ancestor: the root itself, then each parent; the
   * container's own directory (after the last '/') is not one.  */
  for (char *p = dir + root; p != NULL && *p == '/'; p = strchr (p + 1, '/'))
    {
      *p = '\0';
      cleanup_close int fd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
      int r = fd < 0 ? husk_err_set (err, errno, "open cgroup '%s'", dir) : resources_v2_enable (fd, mask, err);
      *p = '/';
      if (r < 0)
        return husk_err_prefix (err, "cgroup '%s'", h->dir);
    }
  return 0;
}

/* linux.resources into the container's cgroup directories (see resources.h).  */
static int
apply_resources (const struct husk_cgroup *cg, const struct husk_resources *r, struct husk_err *err)
{
  struct resources_v1_dir dirs[MAX_HIERARCHIES] = { { 0 } };
  size_t n = 0;
  int ret = 0;

  if (cg->mode == HUSK_CGROUP_UNIFIED)
    {
      const struct hierarchy *h = &cg->h[0];
      cleanup_close int fd = -1;
      if (v2_enable_controllers (h, resources_v2_controllers (r), err) < 0)
        return -1;
      fd = open (h->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0)
        return husk_err_set (err, errno, "open cgroup '%s'", h->dir);
      return resources_apply_v2 (r, fd, err);
    }
  for (size_t i = 0; i < cg->n; i++)
    {
      const struct hierarchy *h = &cg->h[i];
      if (!takes_resources (cg, h))
        continue;
      int fd = open (h->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0)
        {
          ret = husk_err_set (err, errno, "open cgroup '%s'", h->dir);
          break;
        }
      dirs[n].controllers = h->name;
      dirs[n++].dirfd = fd;
    }
  if (ret == 0)
    ret = resources_apply_v1 (r, dirs, n, err);
  for (size_t i = 0; i < n; i++)
    (void) close (dirs[i].dirfd);
  return ret;
}

static bool
bad_path (const char *p)
{
  for (const char *s = p; (s = strstr (s, "..")) != NULL; s += 2)
    if ((s == p || s[-1] == '/') && (s[2] == '/' || s[2] == '\0'))
      return true;
  return false;
}

/* A zeroed cgroup, with no pin process.  */
static struct husk_cgroup *
cgroup_new (void)
{
  struct husk_cgroup *cg = xcalloc (1, sizeof *cg);
  cg->pin = (struct systemd_pin) SYSTEMD_PIN_NONE;
  return cg;
}

struct husk_cgroup *
cgroup_prepare (const struct husk_spec *spec, const char *id, struct husk_err *err)
{
  return cgroup_prepare_driver (spec, id, false, err);
}

struct husk_cgroup *
cgroup_prepare_driver (const struct husk_spec *spec, const char *id, bool systemd, struct husk_err *err)
{
  struct husk_cgroup *cg = cgroup_new ();
  const struct husk_linux *lx = spec->linux;
  const char *cfg = lx != NULL ? lx->cgroups_path : NULL;
  cleanup_free char *path = NULL;
  int mode;

  mode = cgroup_detect_mode (err);
  if (mode < 0)
    goto fail;
  cg->mode = mode;
  if (lx != NULL && lx->resources != NULL
      && resources_check (lx->resources, cg->mode == HUSK_CGROUP_UNIFIED, err) < 0)
    goto fail;
  if (systemd || systemd_path_syntax (cfg))
    {
      /* The systemd driver: the path is the unit's; the bus is needed now, so that a host without
       * systemd fails here, before anything exists.  */
      if (systemd_parse_path (cfg, id, &cg->sd, err) < 0)
        goto fail;
      path = xstrdup (cg->sd.path);
      cg->description = xasprintf ("husk container %s", id);
      cg->bus = systemd_bus_open (err);
      if (cg->bus == NULL)
        goto fail;
    }
  else if (cfg != NULL && bad_path (cfg))
    {
      husk_err_set (err, 0, "config.json: linux.cgroupsPath: invalid path '%s'", cfg);
      goto fail;
    }
  else
    /* Absent: "/husk/<id>" under each hierarchy root, never inside the caller's own cgroup.  */
    path = cfg == NULL || *cfg == '\0' ? xasprintf ("/husk/%s", id) : xstrdup (cfg);
  if (find_hierarchies (cg, err) < 0)
    goto fail;
  for (size_t i = 0; i < cg->n; i++)
    {
      struct hierarchy *h = &cg->h[i];
      if (*path == '/')
        h->rel = xstrdup (path);
      else
        {
          cleanup_free char *own = own_cgroup (h, err);
          if (own == NULL)
            goto fail;
          h->rel = xasprintf ("%s/%s", strcmp (own, "/") == 0 ? "" : own, path);
        }
      h->dir = xasprintf ("%s%s", h->mount, h->rel);
    }
  if (cg->sd.unit == NULL && !husk_privileged () && keep_delegated (cg, spec, cfg != NULL && *cfg != '\0', err) < 0)
    goto fail;
  /* What later commands find the cgroup by: the path in the first hierarchy, made absolute (none
   * for a rootless container without a cgroup).  */
  cg->path = cg->n > 0 ? xstrdup (cg->h[0].rel) : NULL;
  return cg;

fail:
  cgroup_free (cg);
  return NULL;
}

/* Point every hierarchy of CG at PATH (absolute, from the hierarchy root).  */
static void
cgroup_relocate (struct husk_cgroup *cg, const char *path)
{
  free (cg->path);
  cg->path = xstrdup (path);
  for (size_t i = 0; i < cg->n; i++)
    {
      free (cg->h[i].rel);
      free (cg->h[i].dir);
      cg->h[i].rel = xstrdup (path);
      cg->h[i].dir = xasprintf ("%s%s", cg->h[i].mount, path);
    }
}

/* The systemd driver's part of cgroup_make: start the unit (a scope holding the pin process, or a
 * slice) with SPEC's resources as properties, and check where systemd put it.  */
static int
systemd_make (struct husk_cgroup *cg, const struct husk_spec *spec, struct husk_err *err)
{
  struct systemd_map_opts o = {
    .v2 = cg->mode == HUSK_CGROUP_UNIFIED, .version = systemd_bus_version (cg->bus), .description = cg->description,
  };
  struct systemd_props props;
  cleanup_free char *where = NULL;
  int r;

  if (!cg->sd.is_slice)
    {
      if (systemd_pin_start (&cg->pin, err) < 0)
        return -1;
      o.pid = cg->pin.pid;
    }
  if (systemd_unit_properties (&cg->sd, spec, &o, &props, err) < 0)
    return -1;
  r = systemd_bus_start_unit (cg->bus, cg->sd.unit, &props, err);
  systemd_props_release (&props);
  if (r < 0)
    return -1;
  cg->unit_owned = true;
  cg->unit_record = xasprintf (SYSTEMD_RECORD "%s", cg->sd.unit);
  if (cg->sd.is_slice)
    return 0;
  /* Where the pin is now.  A systemd whose root is not the hierarchy's root (no cgroup namespace)
   * puts it at "<its root>/<our path>": follow it; anything else is not the unit we asked for.  */
  where = systemd_pid_cgroup (cg->pin.pid, cg->mode == HUSK_CGROUP_LEGACY, err);
  if (where == NULL)
    return husk_err_prefix (err, "systemd cgroup driver: unit '%s'", cg->sd.unit);
  size_t wl = strlen (where), pl = strlen (cg->path);
  if (wl < pl || strcmp (where + wl - pl, cg->path) != 0)
    return husk_err_set (err, 0, "systemd cgroup driver: unit '%s' is in cgroup '%s', not '%s'", cg->sd.unit,
                         where, cg->path);
  if (wl > pl)
    {
      husk_debug ("systemd cgroup driver: unit '%s' is in '%s'", cg->sd.unit, where);
      cgroup_relocate (cg, where);
    }
  return 0;
}

int
cgroup_make (struct husk_cgroup *cg, const struct husk_spec *spec, struct husk_err *err)
{
  /* systemd first: it makes the unit's directories; the loop below makes those it does not (v1
   * hierarchies of controllers systemd leaves alone), then devices and resources as always.  */
  if (cg->sd.unit != NULL && systemd_make (cg, spec, err) < 0)
    return -1;
  for (size_t i = 0; i < cg->n; i++)
    {
      /* A parent directory shared with another container may vanish between our mkdirs when that
       * container is deleted (ENOENT): start again from the top a few times.  */
      int r;
      for (int attempt = 0; (r = make_dirs (&cg->h[i], err)) < 0 && err->errnum == ENOENT && attempt < 8; attempt++)
        ;
      if (r < 0)
        return -1;
    }
  if (apply_devices (cg, spec, err) < 0)
    return -1;
  if (spec->linux != NULL && spec->linux->resources != NULL && apply_resources (cg, spec->linux->resources, err) < 0)
    return -1;
  return 0;
}

const char *
cgroup_made_top (const struct husk_cgroup *cg)
{
  const char *top = NULL;

  if (cg->sd.unit != NULL)
    return cg->unit_record;
  for (size_t i = 0; i < cg->n; i++)
    if (cg->h[i].n_made > 0)
      {
        const char *d = cg->h[i].made[0] + strlen (cg->h[i].mount);
        if (top == NULL || strlen (d) < strlen (top))
          top = d;
      }
  return top;
}

struct husk_cgroup *
cgroup_open (const char *path, const char *made_top, struct husk_err *err)
{
  struct husk_cgroup *cg = cgroup_new ();
  int mode;

  if (path == NULL || *path != '/' || bad_path (path))
    {
      husk_err_set (err, 0, "invalid recorded cgroup path '%s'", path != NULL ? path : "");
      goto fail;
    }
  mode = cgroup_detect_mode (err);
  if (mode < 0)
    goto fail;
  cg->mode = mode;
  if (find_hierarchies (cg, err) < 0)
    goto fail;
  cg->path = xstrdup (path);
  if (made_top != NULL && has_prefix (made_top, SYSTEMD_RECORD))
    {
      /* Made by the systemd driver: cgroup_destroy stops the unit (and makes no other parents).  */
      const char *unit = made_top + strlen (SYSTEMD_RECORD);
      if (!systemd_unit_name_valid (unit))
        {
          husk_err_set (err, 0, "invalid recorded systemd unit '%s'", unit);
          goto fail;
        }
      cg->sd.unit = xstrdup (unit);
      cg->sd.is_slice = strlen (unit) > 6 && strcmp (unit + strlen (unit) - 6, ".slice") == 0;
      cg->unit_record = xstrdup (made_top);
      cg->unit_owned = true;
      made_top = NULL;
    }
  for (size_t i = 0; i < cg->n; i++)
    {
      struct hierarchy *h = &cg->h[i];
      h->rel = xstrdup (path);
      h->dir = xasprintf ("%s%s", h->mount, path);
      /* The parents this container made, outermost first, so cgroup_destroy removes them too.  */
      size_t top = made_top != NULL ? strlen (made_top) : 0;
      if (top == 0 || strncmp (path, made_top, top) != 0 || path[top] != '/')
        continue;
      for (const char *p = path + top;; p = strchr (p + 1, '/'))
        {
          if (h->n_made < ARRAY_SIZE (h->made))
            h->made[h->n_made++] = xasprintf ("%s%.*s", h->mount, (int) (p - path), path);
          if (strchr (p + 1, '/') == NULL)
            break;
        }
    }
  return cg;

fail:
  cgroup_free (cg);
  return NULL;
}

/* The pids listed in the container's cgroup (a v1 hierarchy holds every process of the container in
 * each hierarchy, so the first is enough).  */
int
cgroup_pids (const struct husk_cgroup *cg, pid_t **pids, size_t *n, struct husk_err *err)
{
  cleanup_free char *path = NULL;
  cleanup_fclose FILE *f = NULL;
  size_t cap = 16;
  int pid;

  *n = 0;
  *pids = NULL;
  /* A rootless container may lack the hierarchies its user could not write: the first it has.  */
  for (size_t i = 0; i < cg->n && f == NULL; i++)
    {
      free (path);
      path = xasprintf ("%s/cgroup.procs", cg->h[i].dir);
      f = fopen (path, "re");
      if (f == NULL && errno != ENOENT)
        break;
    }
  if (f == NULL)
    return husk_err_set (err, path != NULL ? errno : ENOENT, "open '%s'", path != NULL ? path : cg->path);
  *pids = xmalloc (cap * sizeof **pids);
  while (fscanf (f, "%d", &pid) == 1)
    {
      if (*n == cap)
        *pids = xrealloc (*pids, (cap *= 2) * sizeof **pids);
      (*pids)[(*n)++] = pid;
    }
  return 0;
}

int
cgroup_signal_all (const struct husk_cgroup *cg, int sig, struct husk_err *err)
{
  cleanup_free pid_t *pids = NULL;
  size_t n;

  if (cgroup_pids (cg, &pids, &n, err) < 0)
    return -1;
  /* SIGKILL on v2 (5.14+): cgroup.kill, which also reaches a process forked while we read the list.  */
  if (sig == SIGKILL && cg->mode == HUSK_CGROUP_UNIFIED)
    {
      cleanup_close int fd = open (cg->h[0].dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
      struct husk_err ignored;
      if (fd >= 0 && write_file_at (fd, "cgroup.kill", "1", 1, &ignored) == 0)
        return (int) n;
    }
  for (size_t i = 0; i < n; i++)
    if (kill (pids[i], sig) < 0 && errno != ESRCH)
      return husk_err_set (err, errno, "kill %d", (int) pids[i]);
  return (int) n;
}

int
cgroup_v2_fd (const struct husk_cgroup *cg)
{
  for (size_t i = 0; i < cg->n; i++)
    if (cg->h[i].v2)
      return open (cg->h[i].dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  return -1;
}

int
cgroup_enter_self (const struct husk_cgroup *cg, bool in_v2, struct husk_err *err)
{
  for (size_t i = 0; i < cg->n; i++)
    {
      const struct hierarchy *h = &cg->h[i];
      if (h->v2 && in_v2)
        continue;
      cleanup_close int fd = open (h->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0 || write_file_at (fd, h->v2 ? "cgroup.procs" : "tasks", "0", 1, err) < 0)
        return husk_err_set (err, errno, "enter cgroup '%s'", h->dir);
    }
  /* The systemd driver's scope has its first process now: the pin can go.  */
  systemd_pin_kill (&cg->pin);
  return 0;
}

/* SIGKILL every process listed in DIR/cgroup.procs (all of them are the container's).
 * Returns how many were signalled.  */
static int
kill_procs (const char *dir)
{
  cleanup_free char *path = xasprintf ("%s/cgroup.procs", dir);
  cleanup_fclose FILE *f = fopen (path, "re");
  int pid, n = 0;

  if (f == NULL)
    return 0;
  while (fscanf (f, "%d", &pid) == 1)
    if (pid > 0 && kill (pid, SIGKILL) == 0)
      n++;
  return n;
}

/* Stop CG's unit: the processes are killed first (StopUnit would send SIGTERM and wait up to
 * systemd's stop timeout), and an empty scope that systemd already stopped is fine.  A failure is a
 * warning: the cgroupfs removal that follows is what delete needs, and an emptied scope goes away
 * by itself.  */
static void
systemd_stop (struct husk_cgroup *cg)
{
  struct husk_err e;

  if (cgroup_path_frozen (cg->path))
    {
      (void) cgroup_signal_all (cg, SIGKILL, &e);
      (void) cgroup_freeze (cg, false, &e);
    }
  (void) cgroup_signal_all (cg, SIGKILL, &e);
  if (cg->bus == NULL)
    cg->bus = systemd_bus_open (&e);
  if (cg->bus == NULL || systemd_bus_stop_unit (cg->bus, cg->sd.unit, &e) < 0)
    {
      char text[HUSK_ERR_MSG_MAX + 128];
      husk_warn ("%s, removing its cgroup without systemd", husk_err_text (&e, text, sizeof text));
    }
}

int
cgroup_destroy (struct husk_cgroup *cg, struct husk_err *err)
{
  int ret = 0;

  if (cg == NULL)
    return 0;
  if (cg->sd.unit != NULL)
    {
      systemd_pin_release (&cg->pin);
      /* A unit that is not ours (its start failed: another container's of the same name, perhaps)
       * is left alone, and with it the directories, which husk did not make.  */
      if (!cg->unit_owned)
        return 0;
      systemd_stop (cg);
    }
  /* Frozen tasks do not die until thawed: kill them, then thaw (delete --force of a paused one).  */
  if (cg->path != NULL && cgroup_path_frozen (cg->path))
    {
      struct husk_err ignored;
      (void) cgroup_signal_all (cg, SIGKILL, &ignored);
      (void) cgroup_freeze (cg, false, &ignored);
    }
  for (size_t i = 0; i < cg->n; i++)
    {
      struct hierarchy *h = &cg->h[i];
      /* The leaf: kill what is left, then rmdir, retrying while the kernel still counts exiting tasks.
       * (No leaf when creating it failed half-way; the parents made are still removed below.)  */
      bool removed = h->dir == NULL;
      for (int attempt = 0; attempt < 200 && !removed; attempt++)
        {
          if (rmdir (h->dir) == 0 || errno == ENOENT)
            removed = true;
          else if (errno == EBUSY)
            {
              struct husk_err ignored;
              cleanup_close int fd = h->v2 ? open (h->dir, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
              if (fd < 0 || write_file_at (fd, "cgroup.kill", "1", 1, &ignored) < 0)
                (void) kill_procs (h->dir);
              struct timespec ts = { 0, 5 * 1000 * 1000 };
              (void) nanosleep (&ts, NULL);
            }
          else
            break;
        }
      if (!removed && ret == 0)
        ret = husk_err_set (err, errno, "remove cgroup '%s'", h->dir);
      /* Parents this container made, innermost first; another container may still use them.  */
      while (h->n_made > 0)
        {
          char *d = h->made[--h->n_made];
          if (h->dir == NULL || strcmp (d, h->dir) != 0)
            (void) rmdir (d);
          free (d);
        }
    }
  return ret;
}

int
cgroup_mount (const struct husk_cgroup *cg, int targetfd, bool cgroupns, unsigned int mount_attr,
              struct husk_err *err)
{
  struct mount_attr attr = { .attr_set = mount_attr };
  cleanup_close int fsfd = -1, mfd = -1;
  int mode;

  /* A rootless container without a cgroup (cgroup_prepare): as with none at all.  */
  if (cg != NULL && cg->n == 0)
    cg = NULL;
  mode = cg != NULL ? (int) cg->mode : cgroup_detect_mode (err);

  if (mode < 0)
    return -1;
  if (mode == HUSK_CGROUP_UNIFIED && (cgroupns || cg == NULL))
    {
      /* A new cgroup2 instance: in a cgroup namespace its root is the container's cgroup.  */
      fsfd = fsopen ("cgroup2", FSOPEN_CLOEXEC);
      if (fsfd < 0 || fsconfig (fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
        return husk_err_set (err, errno, "create cgroup2 filesystem");
      mfd = fsmount (fsfd, FSMOUNT_CLOEXEC, mount_attr);
      if (mfd < 0)
        return husk_err_set (err, errno, "mount cgroup2 filesystem");
      if (move_mount (mfd, "", targetfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        return husk_err_set (err, errno, "attach cgroup2 filesystem");
      return 0;
    }
  if (mode == HUSK_CGROUP_UNIFIED)
    {
      mfd = open_tree (AT_FDCWD, cg->h[0].dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
      if (mfd < 0 || mount_setattr (mfd, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0
          || move_mount (mfd, "", targetfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        return husk_err_set (err, errno, "bind cgroup '%s'", cg->h[0].dir);
      return 0;
    }

  /* v1 and hybrid: a tmpfs holding a bind of the container's directory of each hierarchy (in a cgroup
   * namespace whose root is that directory, this is the view a fresh mount would give).  */
  fsfd = fsopen ("tmpfs", FSOPEN_CLOEXEC);
  if (fsfd < 0 || fsconfig (fsfd, FSCONFIG_SET_STRING, "mode", "755", 0) < 0
      || fsconfig (fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return husk_err_set (err, errno, "create tmpfs for cgroup mounts");
  mfd = fsmount (fsfd, FSMOUNT_CLOEXEC, mount_attr & ~MOUNT_ATTR_RDONLY);
  if (mfd < 0)
    return husk_err_set (err, errno, "mount tmpfs for cgroup mounts");
  for (size_t i = 0; cg != NULL && i < cg->n; i++)
    {
      const struct hierarchy *h = &cg->h[i];
      cleanup_close int sub = -1, bind = -1;
      if (mkdirat (mfd, h->name, 0755) < 0 && errno != EEXIST)
        return husk_err_set (err, errno, "mkdir cgroup mount point '%s'", h->name);
      sub = openat (mfd, h->name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      bind = open_tree (AT_FDCWD, h->dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
      if (sub < 0 || bind < 0 || mount_setattr (bind, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0
          || move_mount (bind, "", sub, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        return husk_err_set (err, errno, "bind cgroup '%s'", h->dir);
      /* "cpu,cpuacct" is also reachable as "cpu" and "cpuacct", as on the host.  */
      if (strchr (h->name, ',') != NULL)
        {
          cleanup_free char *names = xstrdup (h->name);
          for (char *c = strtok (names, ","); c != NULL; c = strtok (NULL, ","))
            (void) symlinkat (h->name, mfd, c);
        }
    }
  if (move_mount (mfd, "", targetfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return husk_err_set (err, errno, "attach cgroup tmpfs");
  if (mount_attr & MOUNT_ATTR_RDONLY)
    {
      struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
      if (mount_setattr (mfd, "", AT_EMPTY_PATH, &ro, sizeof ro) < 0)
        return husk_err_set (err, errno, "make cgroup tmpfs read-only");
    }
  return 0;
}

/* The freezer's directory and files of CG: v1 freezer hierarchy or the v2 tree; NULL when none.  */
static const struct hierarchy *
freezer_hierarchy (const struct husk_cgroup *cg)
{
  for (size_t i = 0; i < cg->n; i++)
    if ((cg->mode == HUSK_CGROUP_UNIFIED && cg->h[i].v2) || (!cg->h[i].v2 && has_controller (cg->h[i].name, "freezer")))
      return &cg->h[i];
  return NULL;
}

int
cgroup_freeze (const struct husk_cgroup *cg, bool freeze, struct husk_err *err)
{
  const struct hierarchy *h = freezer_hierarchy (cg);
  cleanup_close int fd = -1;

  if (h == NULL)
    return husk_err_set (err, 0, "no freezer cgroup on this host");
  fd = open (h->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return husk_err_set (err, errno, "open cgroup '%s'", h->dir);
  const char *file = h->v2 ? "cgroup.freeze" : "freezer.state";
  const char *value = h->v2 ? (freeze ? "1" : "0") : (freeze ? "FROZEN" : "THAWED");
  if (write_file_at (fd, file, value, strlen (value), err) < 0)
    return husk_err_prefix (err, "cgroup '%s'", h->dir);
  /* Freezing completes asynchronously: v1 reports FREEZING until every task stopped, v2 sets
   * "frozen 1" in cgroup.events.  */
  for (int i = 0; i < 1000; i++)
    {
      struct husk_err ignored;
      cleanup_free char *now = read_file_at (fd, h->v2 ? "cgroup.events" : "freezer.state", 4096, NULL, &ignored);
      bool done;
      if (now == NULL)
        break;
      if (h->v2)
        done = strstr (now, freeze ? "frozen 1" : "frozen 0") != NULL;
      else
        done = strncmp (now, value, strlen (value)) == 0;
      if (done)
        return 0;
      struct timespec ts = { 0, 5 * 1000 * 1000 };
      (void) nanosleep (&ts, NULL);
      /* v1 can stay FREEZING while a task is in uninterruptible sleep: ask again.  */
      if (!h->v2 && freeze && i % 20 == 19)
        (void) write_file_at (fd, file, value, strlen (value), &ignored);
    }
  return husk_err_set (err, 0, "cgroup '%s' did not become %s", h->dir, freeze ? "frozen" : "thawed");
}

bool
cgroup_path_frozen (const char *path)
{
  struct husk_err ignored;
  cleanup_free char *v1 = xasprintf (CGROUP_ROOT "/freezer%s/freezer.state", path);
  cleanup_free char *v2 = xasprintf (CGROUP_ROOT "%s/cgroup.freeze", path);
  cleanup_free char *s = read_file_at (AT_FDCWD, v1, 64, NULL, &ignored);

  if (s != NULL)
    return strncmp (s, "FROZEN", 6) == 0 || strncmp (s, "FREEZING", 8) == 0;
  s = read_file_at (AT_FDCWD, v2, 64, NULL, &ignored);
  return s != NULL && s[0] == '1';
}

int
cgroup_update (const struct husk_cgroup *cg, const struct husk_resources *r, struct husk_err *err)
{
  if (resources_check (r, cg->mode == HUSK_CGROUP_UNIFIED, err) < 0)
    return -1;
  return apply_resources (cg, r, err);
}

int
cgroup_stat_dirs (const struct husk_cgroup *cg, struct resources_v1_dir *out, size_t max, int *v2fd,
                  struct husk_err *err)
{
  size_t n = 0;

  *v2fd = -1;
  if (cg->mode == HUSK_CGROUP_UNIFIED)
    {
      *v2fd = open (cg->h[0].dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
      return *v2fd < 0 ? husk_err_set (err, errno, "open cgroup '%s'", cg->h[0].dir) : 0;
    }
  for (size_t i = 0; i < cg->n && n < max; i++)
    {
      const struct hierarchy *h = &cg->h[i];
      int fd;
      if (h->v2 || strncmp (h->name, "systemd", 7) == 0
          || (fd = open (h->dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
        continue;
      out[n].controllers = h->name;
      out[n++].dirfd = fd;
    }
  if (n == 0)
    return husk_err_set (err, ENOENT, "open cgroup '%s'", cg->path);
  return (int) n;
}
