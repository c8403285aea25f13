/* spec_default_json(): the config.json written by `husk spec` (config.md "Configuration Schema
 * Example"; the same shape as `runc spec` / `crun spec` produce).  */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>

#include "spec.h"
#include "json_gen.h"
#include "util.h"

/* "KEY": [ V... ] for the NULL-terminated V.  */
static void
gen_key_strv (yajl_gen g, const char *key, const char *const *v)
{
  json_gen_str (g, key);
  yajl_gen_array_open (g);
  for (; *v != NULL; v++)
    json_gen_str (g, *v);
  yajl_gen_array_close (g);
}

static const char *const default_caps[] = {
  "CAP_AUDIT_WRITE",
  "CAP_KILL",
  "CAP_NET_BIND_SERVICE",
  NULL,
};

static void
gen_process (yajl_gen g)
{
  static const char *const args[] = { "sh", NULL };
  static const char *const env[] = {
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "TERM=xterm",
    NULL,
  };

  json_gen_str (g, "process");
  yajl_gen_map_open (g);
  /* runc writes true here; husk writes false so that the default bundle runs without a terminal
   * and without --console-socket (e.g. from a script or a test).  */
  json_gen_key_bool (g, "terminal", false);
  json_gen_str (g, "user");
  yajl_gen_map_open (g);
  json_gen_key_int (g, "uid", 0);
  json_gen_key_int (g, "gid", 0);
  yajl_gen_map_close (g);
  gen_key_strv (g, "args", args);
  gen_key_strv (g, "env", env);
  json_gen_key_str (g, "cwd", "/");
  json_gen_str (g, "capabilities");
  yajl_gen_map_open (g);
  gen_key_strv (g, "bounding", default_caps);
  gen_key_strv (g, "effective", default_caps);
  gen_key_strv (g, "permitted", default_caps);
  yajl_gen_map_close (g);
  json_gen_str (g, "rlimits");
  yajl_gen_array_open (g);
  yajl_gen_map_open (g);
  json_gen_key_str (g, "type", "RLIMIT_NOFILE");
  json_gen_key_int (g, "hard", 1024);
  json_gen_key_int (g, "soft", 1024);
  yajl_gen_map_close (g);
  yajl_gen_array_close (g);
  json_gen_key_bool (g, "noNewPrivileges", true);
  yajl_gen_map_close (g);
}

static void
gen_mount (yajl_gen g, const char *destination, const char *type, const char *source,
           const char *const *options)
{
  yajl_gen_map_open (g);
  json_gen_key_str (g, "destination", destination);
  json_gen_key_str (g, "type", type);
  json_gen_key_str (g, "source", source);
  if (options != NULL)
    gen_key_strv (g, "options", options);
  yajl_gen_map_close (g);
}

static void
gen_mounts (yajl_gen g, bool rootless)
{
  static const char *const dev[] = { "nosuid", "strictatime", "mode=755", "size=65536k", NULL };
  static const char *const pts[] = {
    "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL,
  };
  static const char *const shm[] = {
    "nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL,
  };
  static const char *const mqueue[] = { "nosuid", "noexec", "nodev", NULL };
  static const char *const sys[] = { "nosuid", "noexec", "nodev", "ro", NULL };
  static const char *const sys_bind[] = { "rbind", "nosuid", "noexec", "nodev", "ro", NULL };
  static const char *const cgroup[] = { "nosuid", "noexec", "nodev", "relatime", "ro", NULL };
  const char *pts_rootless[ARRAY_SIZE (pts)];

  /* Without real root the gid 5 (tty) may not be mapped, so devpts gets the caller's group.  */
  memcpy (pts_rootless, pts, sizeof pts);
  pts_rootless[ARRAY_SIZE (pts) - 2] = NULL;

  json_gen_str (g, "mounts");
  yajl_gen_array_open (g);
  gen_mount (g, "/proc", "proc", "proc", NULL);
  gen_mount (g, "/dev", "tmpfs", "tmpfs", dev);
  gen_mount (g, "/dev/pts", "devpts", "devpts", rootless ? pts_rootless : pts);
  gen_mount (g, "/dev/shm", "tmpfs", "shm", shm);
  gen_mount (g, "/dev/mqueue", "mqueue", "mqueue", mqueue);
  /* A new sysfs needs a network namespace owned by the mounter's user namespace; rootless keeps
   * the host network, so it binds the host's /sys read-only instead.  */
  if (rootless)
    gen_mount (g, "/sys", "none", "/sys", sys_bind);
  else
    gen_mount (g, "/sys", "sysfs", "sysfs", sys);
  if (!rootless)
    gen_mount (g, "/sys/fs/cgroup", "cgroup", "cgroup", cgroup);
  yajl_gen_array_close (g);
}

static void
gen_mapping (yajl_gen g, const char *key, unsigned long host_id)
{
  json_gen_str (g, key);
  yajl_gen_array_open (g);
  yajl_gen_map_open (g);
  json_gen_key_int (g, "containerID", 0);
  json_gen_key_int (g, "hostID", (long long) host_id);
  json_gen_key_int (g, "size", 1);
  yajl_gen_map_close (g);
  yajl_gen_array_close (g);
}

static void
gen_linux (yajl_gen g, bool rootless)
{
  static const char *const masked[] = {
    "/proc/acpi",        "/proc/asound",     "/proc/kcore",       "/proc/keys",
    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
    "/sys/firmware",     "/proc/scsi",       NULL,
  };
  static const char *const readonly[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
  };
  const char *namespaces[] = { "pid", "network", "ipc", "uts", "mount", "cgroup", NULL, NULL };

  json_gen_str (g, "linux");
  yajl_gen_map_open (g);
  if (rootless)
    {
      gen_mapping (g, "uidMappings", (unsigned long) getuid ());
      gen_mapping (g, "gidMappings", (unsigned long) getgid ());
      /* No network namespace (it would have no connectivity), a user namespace instead.  */
      namespaces[1] = "ipc";
      namespaces[2] = "uts";
      namespaces[3] = "mount";
      namespaces[4] = "cgroup";
      namespaces[5] = "user";
    }
  /* Only the device allowlist's deny-all rule, as `runc spec` writes it: husk starts from deny-all
   * anyway, and the rule keeps the config safe under any runtime.  No limits.  Rootless: none, as
   * with runc (an unprivileged user has no cgroup to write).  */
  if (!rootless)
    {
      json_gen_str (g, "resources");
      yajl_gen_map_open (g);
      json_gen_str (g, "devices");
      yajl_gen_array_open (g);
      yajl_gen_map_open (g);
      json_gen_key_bool (g, "allow", false);
      json_gen_key_str (g, "access", "rwm");
      yajl_gen_map_close (g);
      yajl_gen_array_close (g);
      yajl_gen_map_close (g);
    }
  json_gen_str (g, "namespaces");
  yajl_gen_array_open (g);
  for (size_t i = 0; namespaces[i] != NULL; i++)
    {
      yajl_gen_map_open (g);
      json_gen_key_str (g, "type", namespaces[i]);
      yajl_gen_map_close (g);
    }
  yajl_gen_array_close (g);
  gen_key_strv (g, "maskedPaths", masked);
  gen_key_strv (g, "readonlyPaths", readonly);
  yajl_gen_map_close (g);
}

char *
spec_default_json (bool rootless)
{
  yajl_gen g = yajl_gen_alloc (NULL);

  if (g == NULL)
    abort ();
  yajl_gen_config (g, yajl_gen_beautify, 1);
  yajl_gen_config (g, yajl_gen_indent_string, "\t");
  yajl_gen_map_open (g);
  json_gen_key_str (g, "ociVersion", "1.2.0");
  gen_process (g);
  json_gen_str (g, "root");
  yajl_gen_map_open (g);
  json_gen_key_str (g, "path", "rootfs");
  json_gen_key_bool (g, "readonly", true);
  yajl_gen_map_close (g);
  json_gen_key_str (g, "hostname", "husk");
  gen_mounts (g, rootless);
  gen_linux (g, rootless);
  yajl_gen_map_close (g);
  return json_gen_finish (g);
}
