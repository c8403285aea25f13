/* Unit tests for `husk sandbox`'s configuration builder (sandbox.c): the option parsers, the host
 * mount list, where a destination lands, and the config.json it makes, read back through the same
 * parser and validator the runtime uses (and the default seccomp profile through the compiler).  */
#include "config.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox.h"
#include "seccomp.h"
#include "spec.h"
#include "spec_names.h"
#include "util.h"

#define CAP(n) (UINT64_C (1) << (n))

/* ---- option values ------------------------------------------------------------------------- */

Test (sandbox_parse, sizes)
{
  struct husk_err err = { 0 };
  int64_t v = 0;

  cr_assert_eq (sandbox_parse_size ("512", "--memory", &v, &err), 0);
  cr_assert_eq (v, 512);
  cr_assert_eq (sandbox_parse_size ("64m", "--memory", &v, &err), 0);
  cr_assert_eq (v, 64LL << 20);
  cr_assert_eq (sandbox_parse_size ("2G", "--memory", &v, &err), 0);
  cr_assert_eq (v, 2LL << 30);
  cr_assert_eq (sandbox_parse_size ("10kb", "--memory", &v, &err), 0);
  cr_assert_eq (v, 10LL << 10);
  cr_assert_eq (sandbox_parse_size ("1t", "--memory", &v, &err), 0);
  cr_assert_eq (v, 1LL << 40);
  cr_assert_eq (sandbox_parse_size ("0", "--memory", &v, &err), -1);
  cr_assert_str_eq (err.msg, "--memory: must be more than 0");
  cr_assert_eq (sandbox_parse_size ("1.5m", "--memory", &v, &err), -1);
  cr_assert_eq (sandbox_parse_size ("m", "--memory", &v, &err), -1);
  cr_assert_eq (sandbox_parse_size ("12q", "--memory", &v, &err), -1);
  cr_assert_str_eq (err.msg, "--memory: expected a number of bytes with an optional k, m, g or t, got '12q'");
  cr_assert_eq (sandbox_parse_size ("9999999t", "--memory", &v, &err), -1);
  cr_assert_str_eq (err.msg, "--memory: '9999999t' is too large");
  cr_assert_eq (sandbox_parse_size ("99999999999999999999999", "--memory", &v, &err), -1);
}

Test (sandbox_parse, cpus)
{
  struct husk_err err = { 0 };
  int64_t quota = 0;
  uint64_t period = 0;

  cr_assert_eq (sandbox_parse_cpus ("1.5", &quota, &period, &err), 0);
  cr_assert_eq (quota, 150000);
  cr_assert_eq (period, 100000);
  cr_assert_eq (sandbox_parse_cpus ("2", &quota, &period, &err), 0);
  cr_assert_eq (quota, 200000);
  cr_assert_eq (sandbox_parse_cpus ("0.01", &quota, &period, &err), 0);
  cr_assert_eq (quota, 1000);
  cr_assert_eq (sandbox_parse_cpus (".25", &quota, &period, &err), 0);
  cr_assert_eq (quota, 25000);
  cr_assert_eq (sandbox_parse_cpus ("0.005", &quota, &period, &err), -1);
  cr_assert_str_eq (err.msg, "--cpus: '0.005' is less than the minimum 0.01");
  cr_assert_eq (sandbox_parse_cpus ("1.2345", &quota, &period, &err), -1);
  cr_assert_eq (sandbox_parse_cpus ("x", &quota, &period, &err), -1);
  cr_assert_eq (sandbox_parse_cpus ("1.", &quota, &period, &err), 0);
  cr_assert_eq (quota, 100000);
  cr_assert_eq (sandbox_parse_cpus ("", &quota, &period, &err), -1);
}

Test (sandbox_parse, durations)
{
  struct husk_err err = { 0 };
  uint64_t ms = 1;

  cr_assert_eq (sandbox_parse_duration ("10", &ms, &err), 0);
  cr_assert_eq (ms, 10000);
  cr_assert_eq (sandbox_parse_duration ("2.5", &ms, &err), 0);
  cr_assert_eq (ms, 2500);
  cr_assert_eq (sandbox_parse_duration ("0.05s", &ms, &err), 0);
  cr_assert_eq (ms, 50);
  cr_assert_eq (sandbox_parse_duration ("1m", &ms, &err), 0);
  cr_assert_eq (ms, 60000);
  cr_assert_eq (sandbox_parse_duration ("2h", &ms, &err), 0);
  cr_assert_eq (ms, 7200000);
  cr_assert_eq (sandbox_parse_duration ("1d", &ms, &err), 0);
  cr_assert_eq (ms, 86400000);
  cr_assert_eq (sandbox_parse_duration ("0", &ms, &err), 0);
  cr_assert_eq (ms, 0);
  cr_assert_eq (sandbox_parse_duration ("1ms", &ms, &err), -1);
  cr_assert_eq (sandbox_parse_duration ("1x", &ms, &err), -1);
  cr_assert_str_eq (err.msg, "--timeout: expected seconds such as 10 or 2.5, with an optional s, m, h or d, got '1x'");
  cr_assert_eq (sandbox_parse_duration ("-1", &ms, &err), -1);
  cr_assert_eq (sandbox_parse_duration ("", &ms, &err), -1);
}

Test (sandbox_parse, users)
{
  struct husk_err err = { 0 };
  uint32_t uid = 7, gid = 7;
  bool has_gid = true;

  cr_assert_eq (sandbox_parse_user ("1000", &uid, &gid, &has_gid, &err), 0);
  cr_assert_eq (uid, 1000);
  cr_assert_not (has_gid);
  cr_assert_eq (sandbox_parse_user ("0:100", &uid, &gid, &has_gid, &err), 0);
  cr_assert_eq (uid, 0);
  cr_assert_eq (gid, 100);
  cr_assert (has_gid);
  cr_assert_eq (sandbox_parse_user ("nobody", &uid, &gid, &has_gid, &err), -1);
  cr_assert_str_eq (err.msg, "--user: expected UID[:GID] (numbers), got 'nobody'");
  cr_assert_eq (sandbox_parse_user ("1:x", &uid, &gid, &has_gid, &err), -1);
  cr_assert_eq (sandbox_parse_user ("4294967295", &uid, &gid, &has_gid, &err), -1);
  cr_assert_eq (sandbox_parse_user ("4294967294", &uid, &gid, &has_gid, &err), 0);
}

Test (sandbox_parse, capabilities)
{
  struct husk_err err = { 0 };

  cr_assert_eq (sandbox_parse_cap ("net_raw", "--cap-add", &err), CAP (13));
  cr_assert_eq (sandbox_parse_cap ("CAP_SYS_ADMIN", "--cap-add", &err), CAP (21));
  cr_assert_eq (sandbox_parse_cap ("cap_chown", "--cap-add", &err), CAP (0));
  cr_assert_eq (sandbox_parse_cap ("all", "--cap-drop", &err), (CAP (SPEC_CAP_LAST) << 1) - 1);
  cr_assert_eq (sandbox_parse_cap ("FLY", "--cap-drop", &err), 0);
  cr_assert_str_eq (err.msg, "--cap-drop: unknown capability 'FLY'");
}

Test (sandbox_parse, binds)
{
  struct husk_err err = { 0 };
  struct sandbox_mount m;

  cr_assert_eq (sandbox_parse_bind ("/a:/b", &m, &err), 0);
  cr_assert_eq (m.kind, SANDBOX_BIND);
  cr_assert_str_eq (m.source, "/a");
  cr_assert_str_eq (m.destination, "/b");
  cr_assert_not (m.readonly);
  free (m.source), free (m.destination);
  cr_assert_eq (sandbox_parse_bind ("/a:/b//c/:ro", &m, &err), 0);
  cr_assert_str_eq (m.destination, "/b/c");
  cr_assert (m.readonly);
  free (m.source), free (m.destination);
  cr_assert_eq (sandbox_parse_bind ("/data", &m, &err), 0);
  cr_assert_str_eq (m.source, "/data");
  cr_assert_str_eq (m.destination, "/data");
  free (m.source), free (m.destination);
  cr_assert_eq (sandbox_parse_bind ("/data:ro", &m, &err), 0);
  cr_assert_str_eq (m.destination, "/data");
  cr_assert (m.readonly);
  free (m.source), free (m.destination);
  cr_assert_eq (sandbox_parse_bind ("rel/dir:/x:rw", &m, &err), 0);
  cr_assert_str_eq (m.source, "rel/dir");
  cr_assert_not (m.readonly);
  free (m.source), free (m.destination);

  cr_assert_eq (sandbox_parse_bind ("/a:b", &m, &err), -1);
  cr_assert_str_eq (err.msg, "--bind '/a:b': the destination: 'b' is not an absolute path");
  cr_assert_eq (sandbox_parse_bind ("/a:/b/../c", &m, &err), -1);
  cr_assert_str_eq (err.msg, "--bind '/a:/b/../c': the destination: '/b/../c' has a '..' component");
  cr_assert_eq (sandbox_parse_bind ("/a:/b:/c", &m, &err), -1);
  cr_assert_str_eq (err.msg, "--bind '/a:/b:/c': expected SRC[:DST][:ro]");
  cr_assert_eq (sandbox_parse_bind (":/b", &m, &err), -1);
  cr_assert_eq (sandbox_parse_bind ("rel", &m, &err), -1);
}

Test (sandbox_parse, paths)
{
  struct husk_err err = { 0 };
  char *p;

  p = sandbox_clean_path ("/a//b/", "--tmpfs", &err);
  cr_assert_str_eq (p, "/a/b");
  free (p);
  p = sandbox_clean_path ("///", "--tmpfs", &err);
  cr_assert_str_eq (p, "/");
  free (p);
  cr_assert_null (sandbox_clean_path ("a/b", "--tmpfs", &err));
  cr_assert_str_eq (err.msg, "--tmpfs: 'a/b' is not an absolute path");
  cr_assert_null (sandbox_clean_path ("/a/./b", "--chdir", &err));
  cr_assert_str_eq (err.msg, "--chdir: '/a/./b' has a '.' component");

  cr_assert (sandbox_path_under ("/a/b", "/a"));
  cr_assert (sandbox_path_under ("/a", "/a"));
  cr_assert_not (sandbox_path_under ("/ab", "/a"));
  cr_assert_not (sandbox_path_under ("/a", "/a/b"));
  cr_assert (sandbox_path_under ("/anything", "/"));
}

/* ---- host mounts and destinations ---------------------------------------------------------- */

static const char mountinfo[]
    = "22 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
      "23 22 0:21 / /proc rw - proc proc rw\n"
      "24 22 0:22 / /sys rw - sysfs sysfs rw\n"
      "25 24 0:23 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"
      "26 22 0:6 / /dev rw - devtmpfs devtmpfs rw\n"
      "27 26 0:24 / /dev/shm rw - tmpfs tmpfs rw\n"
      "28 22 0:25 / /run rw - tmpfs tmpfs rw\n"
      "29 28 0:26 / /run/user/1000 rw - tmpfs tmpfs rw\n"
      "30 22 254:1 / /home rw - ext4 /dev/vdb rw\n"
      "31 30 254:2 / /home/x\\040y rw - ext4 /dev/vdc rw\n"
      "32 22 0:27 / /tmp/foo rw - tmpfs tmpfs rw\n"
      "33 22 0:28 / /srv/data rw - tmpfs tmpfs rw\n"
      "34 22 0:29 / /run rw - tmpfs tmpfs rw\n"
      "35 22 0:30 / /a-b rw - tmpfs tmpfs rw\n"
      "36 22 0:31 / /a/b rw - tmpfs tmpfs rw\n"
      "37 22 0:32 / /media\\040disk rw - tmpfs tmpfs rw\n"
      "truncated line\n";

Test (sandbox_host, submounts)
{
  const char *skip[] = { "/srv" };
  char **v = sandbox_host_submounts (mountinfo, skip, 1);
  const char *want[] = { "/a-b", "/a/b", "/home", "/media disk", "/run", NULL };

  for (size_t i = 0; want[i] != NULL; i++)
    {
      cr_assert_not_null (v[i], "missing '%s'", want[i]);
      cr_assert_str_eq (v[i], want[i]);
    }
  cr_assert_null (v[5], "extra '%s'", v[5]);
  strv_free (v);

  v = sandbox_host_submounts (NULL, NULL, 0);
  cr_assert_null (v[0]);
  strv_free (v);
}

Test (sandbox_host, destinations)
{
  struct sandbox_mount m[] = {
    { SANDBOX_TMPFS, NULL, "/work", false },         { SANDBOX_BIND, "/src", "/mnt/a", false },
    { SANDBOX_BIND, "/s2", "/work/x", false },       { SANDBOX_BIND, "/s3", "/mnt/a/b", false },
    { SANDBOX_BIND, "/s4", "/etc/foo", false },      { SANDBOX_BIND, "/s5", "/tmp/z", false },
    { SANDBOX_BIND, "/s6", "/dev/thing", false },    { SANDBOX_BIND, "/", "/rootcopy", false },
    { SANDBOX_BIND, "/s7", "/rootcopy/etc", false },
  };
  struct sandbox_opts o = { .mounts = m, .n_mounts = ARRAY_SIZE (m) };
  const char *want[] = { "/work", "/mnt/a", NULL, "/src/b", "/etc/foo", NULL, NULL, "/rootcopy", "/etc" };

  for (size_t i = 0; i < ARRAY_SIZE (m); i++)
    {
      cleanup_free char *p = sandbox_dest_host_path (&o, i);
      if (want[i] == NULL)
        cr_assert_null (p, "mounts[%zu]: '%s'", i, p);
      else
        cr_assert_str_eq (p, want[i], "mounts[%zu]", i);
    }
}

/* ---- the configuration --------------------------------------------------------------------- */

static char *cmd_true[] = { "true", NULL };
static char *host_env[] = { "HOME=/root", "NOTIFY_SOCKET=/run/n", "LISTEN_FDS=2", "FOO=host", "BAR=b", "JUNK", NULL };

/* Options for host-root mode as root, with the mount table above and cwd /home/u/proj.  */
static struct sandbox_opts
host_opts (void)
{
  return (struct sandbox_opts) {
    .argv = cmd_true, .cwd = "/home/u/proj", .host_env = host_env, .mountinfo = mountinfo,
    .seccomp = SANDBOX_SECCOMP_DEFAULT,
  };
}

/* Build, parse and validate the configuration of O; fails the test on any error.  */
static struct husk_spec *
build (const struct sandbox_opts *o)
{
  struct husk_err err = { 0 };
  cleanup_free char *json = sandbox_config_json (o, &err);
  struct husk_spec *spec;

  cr_assert_not_null (json, "sandbox_config_json: %s", err.msg);
  spec = spec_parse (json, strlen (json), "config.json", &err);
  cr_assert_not_null (spec, "spec_parse: %s\n%s", err.msg, json);
  cr_assert_eq (spec_validate (spec, "config.json", &err), 0, "spec_validate: %s", err.msg);
  return spec;
}

static bool
has_ns (const struct husk_spec *s, enum husk_ns_type t)
{
  return spec_namespace (s, t) != NULL;
}

static const char *
env_of (const struct husk_spec *s, const char *name)
{
  size_t len = strlen (name);
  for (size_t i = 0; i < s->process->n_env; i++)
    if (strncmp (s->process->env[i], name, len) == 0 && s->process->env[i][len] == '=')
      return s->process->env[i] + len + 1;
  return NULL;
}

static bool
has_option (const struct husk_mount *m, const char *o)
{
  for (size_t i = 0; i < m->n_options; i++)
    if (strcmp (m->options[i], o) == 0)
      return true;
  return false;
}

/* The index of the mount at DEST (the last one), or -1.  */
static ssize_t
mount_at (const struct husk_spec *s, const char *dest)
{
  for (size_t i = s->n_mounts; i-- > 0;)
    if (strcmp (s->mounts[i].destination, dest) == 0)
      return (ssize_t) i;
  return -1;
}

Test (sandbox_config, host_root_defaults)
{
  struct sandbox_opts o = host_opts ();
  cleanup_spec struct husk_spec *s = build (&o);

  cr_assert_str_eq (s->root->path, SANDBOX_HOST_ROOT);
  cr_assert (s->root->readonly);
  cr_assert_str_eq (s->process->args[0], "true");
  cr_assert_str_eq (s->process->cwd, "/home/u/proj");
  cr_assert (s->process->no_new_privileges);
  cr_assert_not (s->process->terminal);
  cr_assert_eq (s->process->user.uid, 0);
  cr_assert_null (s->hostname);
  /* pid, ipc, uts, mount, cgroup and network namespaces; no user namespace as root */
  cr_assert (has_ns (s, HUSK_NS_PID) && has_ns (s, HUSK_NS_IPC) && has_ns (s, HUSK_NS_UTS));
  cr_assert (has_ns (s, HUSK_NS_MOUNT) && has_ns (s, HUSK_NS_CGROUP) && has_ns (s, HUSK_NS_NETWORK));
  cr_assert_not (has_ns (s, HUSK_NS_USER));
  cr_assert_eq (s->linux->n_uid_mappings, 0);
  /* the default capability set of `husk spec` */
  cr_assert_eq (s->process->capabilities->effective, CAP (5) | CAP (10) | CAP (29));
  cr_assert_eq (s->process->capabilities->bounding, CAP (5) | CAP (10) | CAP (29));
  cr_assert_eq (s->process->capabilities->ambient, 0);
  cr_assert_not_null (s->linux->seccomp);
  cr_assert_gt (s->linux->n_masked_paths, 0);
  cr_assert_gt (s->linux->n_readonly_paths, 0);
  cr_assert_null (s->linux->cgroups_path);
  cr_assert_not_null (s->linux->resources);
  cr_assert_eq (s->linux->resources->n_devices, 1);
  cr_assert_not (s->linux->resources->devices[0].allow);
  cr_assert_null (s->linux->resources->memory);
  cr_assert_not (s->linux->resources->has_pids_limit);

  /* the host's own mounts first, read-only, then /proc, /dev..., /tmp, the current directory */
  const char *order[] = { "/a-b", "/a/b", "/home", "/media disk", "/run", "/srv/data", "/proc", "/dev", "/sys", "/tmp",
                          "/home/u/proj" };
  ssize_t last = -1;
  for (size_t i = 0; i < ARRAY_SIZE (order); i++)
    {
      ssize_t k = mount_at (s, order[i]);
      cr_assert_gt (k, last, "mount '%s' at %zd, after %zd", order[i], k, last);
      last = k;
    }
  for (size_t i = 0; i < 6; i++)
    {
      const struct husk_mount *m = &s->mounts[i];
      cr_assert_str_eq (m->source, m->destination);
      cr_assert (has_option (m, "rbind") && has_option (m, "ro") && has_option (m, "nosuid") && has_option (m, "nodev"),
                 "mounts[%zu] '%s'", i, m->destination);
    }
  cr_assert_eq (mount_at (s, "/tmp/foo"), -1);
  cr_assert_eq (mount_at (s, "/run/user/1000"), -1);
  const struct husk_mount *tmp = &s->mounts[mount_at (s, "/tmp")];
  cr_assert_str_eq (tmp->type, "tmpfs");
  const struct husk_mount *cwd = &s->mounts[mount_at (s, "/home/u/proj")];
  cr_assert_str_eq (cwd->source, "/home/u/proj");
  cr_assert (has_option (cwd, "rbind"));
  cr_assert_not (has_option (cwd, "ro"));
  cr_assert_not (has_option (cwd, "rw")); /* never clears a read-only flag of the host */

  /* the caller's environment, without what describes husk's own process */
  cr_assert_str_eq (env_of (s, "HOME"), "/root");
  cr_assert_str_eq (env_of (s, "FOO"), "host");
  cr_assert_null (env_of (s, "NOTIFY_SOCKET"));
  cr_assert_null (env_of (s, "LISTEN_FDS"));
  cr_assert_null (env_of (s, "JUNK"));
  cr_assert_not_null (env_of (s, "PATH"));
}

Test (sandbox_config, options)
{
  struct sandbox_mount m[] = {
    { SANDBOX_TMPFS, NULL, "/srv", false },
    { SANDBOX_BIND, "/data", "/srv/in", true },
  };
  char *env[] = { "FOO=mine", "BAR", "NEW=1", "MISSING", NULL };
  struct sandbox_opts o = host_opts ();
  o.mounts = m;
  o.n_mounts = ARRAY_SIZE (m);
  o.env = env;
  o.hostname = "box";
  o.chdir = "/srv";
  o.uid = 1000;
  o.gid = 100;
  o.network = SANDBOX_NET_HOST;
  o.memory = 64 << 20;
  o.memory_swap = true;
  o.cpu_quota = 50000;
  o.cpu_period = 100000;
  o.pids = 20;
  o.cap_add = CAP (13);
  o.cap_drop = CAP (5);
  o.readonly = true;
  o.tty = true;
  o.cgroups_path = "/husk-test/x/sandbox-1";
  cleanup_spec struct husk_spec *s = build (&o);

  cr_assert_str_eq (s->hostname, "box");
  cr_assert_str_eq (s->process->cwd, "/srv");
  cr_assert_eq (s->process->user.uid, 1000);
  cr_assert_eq (s->process->user.gid, 100);
  cr_assert (s->process->terminal);
  cr_assert_not (has_ns (s, HUSK_NS_NETWORK));
  cr_assert (has_ns (s, HUSK_NS_PID));
  cr_assert_eq (s->linux->resources->memory->limit, 64 << 20);
  cr_assert_eq (s->linux->resources->memory->swap, 64 << 20);
  cr_assert_eq (s->linux->resources->cpu->quota, 50000);
  cr_assert_eq (s->linux->resources->cpu->period, 100000);
  cr_assert_eq (s->linux->resources->pids_limit, 20);
  cr_assert_str_eq (s->linux->cgroups_path, "/husk-test/x/sandbox-1");
  /* KILL dropped, NET_RAW added; a non-root user keeps them as ambient capabilities */
  uint64_t caps = CAP (10) | CAP (13) | CAP (29);
  cr_assert_eq (s->process->capabilities->effective, caps);
  cr_assert_eq (s->process->capabilities->ambient, caps);
  cr_assert_eq (s->process->capabilities->inheritable, caps);
  /* --env: replaced, copied from the caller, added; a name the caller lacks is left out */
  cr_assert_str_eq (env_of (s, "FOO"), "mine");
  cr_assert_str_eq (env_of (s, "BAR"), "b");
  cr_assert_str_eq (env_of (s, "NEW"), "1");
  cr_assert_null (env_of (s, "MISSING"));
  cr_assert_str_eq (env_of (s, "TERM"), "xterm");
  /* --readonly: the current directory too; user mounts last, in order; a --tmpfs hides the host
   * mounts below it */
  cr_assert (has_option (&s->mounts[mount_at (s, "/home/u/proj")], "ro"));
  ssize_t t = mount_at (s, "/srv"), b = mount_at (s, "/srv/in");
  cr_assert_eq (b, (ssize_t) s->n_mounts - 1);
  cr_assert_eq (t, b - 1);
  cr_assert_str_eq (s->mounts[t].type, "tmpfs");
  cr_assert (has_option (&s->mounts[b], "ro"));
  cr_assert_str_eq (s->mounts[b].source, "/data");
  cr_assert_eq (mount_at (s, "/srv/data"), -1);
}

Test (sandbox_config, clearenv)
{
  char *env[] = { "A=1", NULL };
  struct sandbox_opts o = host_opts ();
  o.clearenv = true;
  o.env = env;
  cleanup_spec struct husk_spec *s = build (&o);

  cr_assert_eq (s->process->n_env, 2);
  cr_assert_str_eq (s->process->env[0], "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  cr_assert_str_eq (s->process->env[1], "A=1");
}

Test (sandbox_config, cwd_choices)
{
  struct sandbox_opts o = host_opts ();
  o.cwd = "/";
  {
    cleanup_spec struct husk_spec *s = build (&o);
    cr_assert_str_eq (s->process->cwd, "/");
    cr_assert_eq (mount_at (s, "/"), -1);
  }
  o.cwd = "/proc/sys";
  {
    cleanup_spec struct husk_spec *s = build (&o);
    cr_assert_str_eq (s->process->cwd, "/");
  }
  o.cwd = "/tmp/work";
  {
    cleanup_spec struct husk_spec *s = build (&o);
    cr_assert_str_eq (s->process->cwd, "/tmp/work");
    cr_assert_gt (mount_at (s, "/tmp/work"), mount_at (s, "/tmp"));
  }
}

Test (sandbox_config, rootfs)
{
  struct sandbox_opts o = host_opts ();
  o.rootfs = "/var/lib/r";
  {
    cleanup_spec struct husk_spec *s = build (&o);
    cr_assert_str_eq (s->root->path, "/var/lib/r");
    cr_assert_not (s->root->readonly);
    cr_assert_str_eq (s->process->cwd, "/");
    /* no host mount and no current directory: /proc first */
    cr_assert_str_eq (s->mounts[0].destination, "/proc");
    cr_assert_eq (mount_at (s, "/home/u/proj"), -1);
    cr_assert_eq (mount_at (s, "/home"), -1);
    cr_assert_gt (mount_at (s, "/tmp"), 0);
  }
  o.readonly = true;
  {
    cleanup_spec struct husk_spec *s = build (&o);
    cr_assert (s->root->readonly);
  }
}

Test (sandbox_config, userns)
{
  struct sandbox_opts o = host_opts ();
  o.userns = true;
  o.host_uid = 1001;
  o.host_gid = 1002;
  cleanup_spec struct husk_spec *s = build (&o);

  cr_assert (has_ns (s, HUSK_NS_USER));
  cr_assert (has_ns (s, HUSK_NS_NETWORK));
  cr_assert_eq (s->linux->n_uid_mappings, 1);
  cr_assert_eq (s->linux->uid_mappings[0].container_id, 0);
  cr_assert_eq (s->linux->uid_mappings[0].host_id, 1001);
  cr_assert_eq (s->linux->uid_mappings[0].size, 1);
  cr_assert_eq (s->linux->gid_mappings[0].host_id, 1002);
  /* no device rule to write (an unprivileged user cannot) */
  cr_assert (s->linux->resources == NULL || s->linux->resources->n_devices == 0);
}

Test (sandbox_config, seccomp_choices)
{
  struct husk_err err = { 0 };
  struct sandbox_opts o = host_opts ();

  o.seccomp = SANDBOX_SECCOMP_UNCONFINED;
  {
    cleanup_spec struct husk_spec *s = build (&o);
    cr_assert_null (s->linux->seccomp);
  }
  o.seccomp = SANDBOX_SECCOMP_FILE;
  o.seccomp_json = "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"mkdir\", \"mkdirat\"], "
                   "\"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 13}]}";
  {
    cleanup_spec struct husk_spec *s = build (&o);
    cr_assert_eq (s->linux->seccomp->default_action, HUSK_SCMP_ALLOW);
    cr_assert_eq (s->linux->seccomp->n_syscalls, 1);
    cr_assert_str_eq (s->linux->seccomp->syscalls[0].names[1], "mkdirat");
    cr_assert_eq (s->linux->seccomp->syscalls[0].errno_ret, 13);
  }
  o.seccomp_json = "[1, 2]";
  cr_assert_null (sandbox_config_json (&o, &err));
  cr_assert_str_eq (err.msg, "--seccomp: expected a JSON object (a config.json linux.seccomp)");
  o.seccomp_json = "{\"defaultAction\": ";
  cr_assert_null (sandbox_config_json (&o, &err));
  cr_assert (strstr (err.msg, "--seccomp") == err.msg, "%s", err.msg);
}

Test (sandbox_config, no_command)
{
  struct husk_err err = { 0 };
  char *none[] = { NULL };
  struct sandbox_opts o = host_opts ();

  o.argv = none;
  cr_assert_null (sandbox_config_json (&o, &err));
  cr_assert_str_eq (err.msg, "sandbox: no command given");
}

/* ---- the default seccomp profile ----------------------------------------------------------- */

static bool
denied (const struct husk_seccomp *sc, const char *name, uint32_t *errno_ret, size_t *n_args)
{
  for (size_t i = 0; i < sc->n_syscalls; i++)
    for (size_t k = 0; k < sc->syscalls[i].n_names; k++)
      if (strcmp (sc->syscalls[i].names[k], name) == 0 && sc->syscalls[i].action == HUSK_SCMP_ERRNO)
        {
          *errno_ret = sc->syscalls[i].errno_ret;
          *n_args = sc->syscalls[i].n_args;
          return true;
        }
  return false;
}

Test (sandbox_seccomp, default_profile_compiles)
{
  struct husk_err err = { 0 };
  struct sandbox_opts o = host_opts ();
  cleanup_spec struct husk_spec *s = build (&o);
  const struct husk_seccomp *sc = s->linux->seccomp;
  struct husk_seccomp_bpf bpf = { 0 };
  uint32_t e;
  size_t n;

  cr_assert_eq (sc->default_action, HUSK_SCMP_ALLOW);
  const char *eperm[] = { "mount", "umount2", "kexec_load", "init_module", "finit_module", "ptrace", "keyctl",
                          "add_key", "bpf", "perf_event_open", "userfaultfd", "open_by_handle_at", "setns",
                          "pivot_root", "fsopen", "move_mount", "io_uring_setup", "reboot", "swapon" };
  for (size_t i = 0; i < ARRAY_SIZE (eperm); i++)
    {
      cr_assert (denied (sc, eperm[i], &e, &n), "%s not denied", eperm[i]);
      cr_assert_eq (e, 1, "%s: errno %u", eperm[i], e);
      cr_assert_eq (n, 0);
    }
  cr_assert (denied (sc, "unshare", &e, &n));
  cr_assert_eq (n, 1);
  cr_assert (denied (sc, "clone", &e, &n));
  cr_assert_eq (n, 1);
  cr_assert (denied (sc, "clone3", &e, &n));
  cr_assert_eq (e, 38);
  cr_assert_not (denied (sc, "read", &e, &n));
  cr_assert_not (denied (sc, "execve", &e, &n));
  cr_assert_eq (seccomp_compile (sc, &bpf, &err), 0, "seccomp_compile: %s", err.msg);
  cr_assert_gt (bpf.n_insns, 10);
  seccomp_bpf_release (&bpf);

  cleanup_free char *json = sandbox_seccomp_default_json ();
  cr_assert (strstr (json, "\"SCMP_ACT_ALLOW\"") != NULL);
}
