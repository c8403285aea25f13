/* `husk sandbox`: options -> config.json text (see sandbox.h).  Pure: no file, process or
 * environment of the host is read here.  */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "json_gen.h"
#include "sandbox.h"
#include "spec.h"
#include "spec_json.h"
#include "spec_names.h"
#include "util.h"

/* process.c's default $PATH, also what --clearenv leaves.  */
#define SANDBOX_DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Mount points the sandbox replaces with its own filesystems (host-root mode).  */
static const char *const own_mounts[] = { "/proc", "/sys", "/dev", "/tmp" };

/* Variables of the caller's environment that describe husk's own process, not the sandbox's:
 * systemd's socket activation and notification (husk sandbox passes neither).  */
static const char *const env_not_passed[] = { "NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES" };

/* ---- JSON writing -------------------------------------------------------------------------- */

/* "KEY": [ V... ] for the NULL-terminated V.  */
static void
gen_key_strv (yajl_gen g, const char *key, char *const *v)
{
  json_gen_str (g, key);
  yajl_gen_array_open (g);
  for (; v != NULL && *v != NULL; v++)
    json_gen_str (g, *v);
  yajl_gen_array_close (g);
}


/* ---- the default seccomp profile ----------------------------------------------------------- */

/* Syscalls refused with EPERM.  Names a kernel or architecture lacks are skipped by the compiler.  */
static const char *const seccomp_denied[] = {
  /* kernel code, the running kernel, the machine */
  "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "create_module",
  "get_kernel_syms", "query_module", "reboot", "swapon", "swapoff", "acct", "syslog", "_sysctl",
  "uselib", "iopl", "ioperm", "vm86", "vm86old", "nfsservctl", "lookup_dcookie", "ustat", "sysfs",
  "quotactl", "quotactl_fd",
  /* the clock */
  "settimeofday", "stime", "clock_settime", "clock_settime64", "clock_adjtime", "clock_adjtime64",
  /* mounts and namespaces: the sandbox's file system view is fixed */
  "mount", "umount", "umount2", "mount_setattr", "move_mount", "open_tree", "fsopen", "fsconfig",
  "fsmount", "fspick", "pivot_root", "setns",
  /* keyrings (not namespaced) */
  "keyctl", "add_key", "request_key",
  /* large kernel attack surfaces */
  "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
  /* other processes' memory and files */
  "ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "pidfd_getfd", "kcmp",
  /* file handles bypass path permission checks (the "shocker" escape) */
  "open_by_handle_at", "name_to_handle_at",
};

#define CLONE_NEWUSER_FLAG 0x10000000LL
#define ERRNO_EPERM 1
#define ERRNO_ENOSYS 38

/* An architecture list covering the native ABI and the 32-bit ones the kernel also runs.  */
static const char *const *
seccomp_arches (void)
{
#if defined(__x86_64__)
  static const char *const a[] = { "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", NULL };
#elif defined(__aarch64__)
  static const char *const a[] = { "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM", NULL };
#else
  static const char *const a[] = { NULL }; /* the native architecture only */
#endif
  return a;
}

/* { "names": [NAME], "action": ..., "errnoRet": ERRNO, "args": [ARG0 & MASK == MASK] }.  */
static void
gen_rule_masked (yajl_gen g, const char *name, long long mask, int errno_ret)
{
  yajl_gen_map_open (g);
  json_gen_str (g, "names");
  yajl_gen_array_open (g);
  json_gen_str (g, name);
  yajl_gen_array_close (g);
  json_gen_key_str (g, "action", "SCMP_ACT_ERRNO");
  json_gen_key_int (g, "errnoRet", errno_ret);
  if (mask != 0)
    {
      json_gen_str (g, "args");
      yajl_gen_array_open (g);
      yajl_gen_map_open (g);
      json_gen_key_int (g, "index", 0);
      json_gen_key_int (g, "value", mask);
      json_gen_key_int (g, "valueTwo", mask);
      json_gen_key_str (g, "op", "SCMP_CMP_MASKED_EQ");
      yajl_gen_map_close (g);
      yajl_gen_array_close (g);
    }
  yajl_gen_map_close (g);
}

static void
gen_seccomp_default (yajl_gen g)
{
  yajl_gen_map_open (g);
  json_gen_key_str (g, "defaultAction", "SCMP_ACT_ALLOW");
  gen_key_strv (g, "architectures", (char *const *) seccomp_arches ());
  json_gen_str (g, "syscalls");
  yajl_gen_array_open (g);
  yajl_gen_map_open (g);
  json_gen_str (g, "names");
  yajl_gen_array_open (g);
  for (size_t i = 0; i < ARRAY_SIZE (seccomp_denied); i++)
    json_gen_str (g, seccomp_denied[i]);
  yajl_gen_array_close (g);
  json_gen_key_str (g, "action", "SCMP_ACT_ERRNO");
  json_gen_key_int (g, "errnoRet", ERRNO_EPERM);
  yajl_gen_map_close (g);
  /* A new user namespace would give the command a full capability set over new namespaces.  The
   * flags are argument 0 of unshare, and of clone on every architecture listed above.  */
  gen_rule_masked (g, "unshare", CLONE_NEWUSER_FLAG, ERRNO_EPERM);
  gen_rule_masked (g, "clone", CLONE_NEWUSER_FLAG, ERRNO_EPERM);
  /* clone3 takes its flags in memory, out of seccomp's reach: ENOSYS makes glibc use clone.  */
  gen_rule_masked (g, "clone3", 0, ERRNO_ENOSYS);
  yajl_gen_array_close (g);
  yajl_gen_map_close (g);
}

static yajl_gen
new_gen (void)
{
  yajl_gen g = yajl_gen_alloc (NULL);

  if (g == NULL)
    abort ();
  yajl_gen_config (g, yajl_gen_beautify, 1);
  yajl_gen_config (g, yajl_gen_indent_string, "\t");
  return g;
}

char *
sandbox_seccomp_default_json (void)
{
  yajl_gen g = new_gen ();

  gen_seccomp_default (g);
  return json_gen_finish (g);
}

/* ---- paths --------------------------------------------------------------------------------- */

bool
sandbox_path_under (const char *dest, const char *prefix)
{
  size_t n = strlen (prefix);

  if (strcmp (prefix, "/") == 0)
    return true;
  return strncmp (dest, prefix, n) == 0 && (dest[n] == '\0' || dest[n] == '/');
}

char *
sandbox_clean_path (const char *path, const char *what, struct husk_err *err)
{
  cleanup_free char *copy = xstrdup (path);
  char *out = xmalloc (strlen (path) + 2), *save = NULL;
  size_t n = 0;

  if (path[0] != '/')
    {
      free (out);
      return husk_err_set (err, 0, "%s: '%s' is not an absolute path", what, path), NULL;
    }
  for (char *c = strtok_r (copy, "/", &save); c != NULL; c = strtok_r (NULL, "/", &save))
    {
      if (strcmp (c, ".") == 0 || strcmp (c, "..") == 0)
        {
          free (out);
          return husk_err_set (err, 0, "%s: '%s' has a '%s' component", what, path, c), NULL;
        }
      out[n++] = '/';
      strcpy (out + n, c);
      n += strlen (c);
    }
  if (n == 0)
    out[n++] = '/';
  out[n] = '\0';
  return out;
}

/* Decode the octal escapes (\040) of a mountinfo field in place.  */
static void
unescape_octal (char *s)
{
  char *w = s;

  for (char *r = s; *r != '\0'; r++)
    if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' && r[3] <= '7')
      {
        *w++ = (char) (((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
        r += 3;
      }
    else
      *w++ = *r;
  *w = '\0';
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

char **
sandbox_host_submounts (const char *mountinfo, const char *const *skip, size_t n_skip)
{
  cleanup_free char *text = xstrdup (mountinfo != NULL ? mountinfo : "");
  char **all = NULL, **out;
  size_t n = 0, kept = 0;
  char *save = NULL;

  for (char *line = strtok_r (text, "\n", &save); line != NULL; line = strtok_r (NULL, "\n", &save))
    {
      /* mount-id parent-id major:minor root mount-point options ...  */
      char *f = line;
      for (int k = 0; k < 4 && f != NULL; k++)
        f = strchr (f, ' ') != NULL ? strchr (f, ' ') + 1 : NULL;
      if (f == NULL)
        continue;
      cleanup_free char *mp = strndup (f, strcspn (f, " "));
      bool drop = false;
      if (mp == NULL)
        abort ();
      unescape_octal (mp);
      if (mp[0] != '/' || strcmp (mp, "/") == 0)
        continue;
      for (size_t k = 0; k < ARRAY_SIZE (own_mounts) && !drop; k++)
        drop = sandbox_path_under (mp, own_mounts[k]);
      for (size_t k = 0; k < n_skip && !drop; k++)
        drop = sandbox_path_under (mp, skip[k]);
      if (drop)
        continue;
      all = xrealloc (all, (n + 1) * sizeof *all);
      all[n++] = steal_ptr (&mp);
    }
  if (n > 0)
    qsort (all, n, sizeof *all, cmp_str);
  out = xcalloc (n + 1, sizeof *out);
  for (size_t i = 0; i < n; i++)
    {
      bool covered = false;
      for (size_t k = 0; k < kept && !covered; k++)
        covered = sandbox_path_under (all[i], out[k]);
      if (covered)
        free (all[i]);
      else
        out[kept++] = all[i];
    }
  free (all);
  return out;
}

char *
sandbox_dest_host_path (const struct sandbox_opts *o, size_t i)
{
  const char *dest = o->mounts[i].destination;

  /* The last mount made before this one that covers DEST decides where it lands.  */
  for (size_t k = i; k-- > 0;)
    {
      const struct sandbox_mount *m = &o->mounts[k];
      if (!sandbox_path_under (dest, m->destination))
        continue;
      if (m->kind == SANDBOX_TMPFS)
        return NULL;
      const char *rest = strcmp (m->destination, "/") == 0 ? dest : dest + strlen (m->destination);
      if (*rest == '\0')
        return xstrdup (m->source);
      return strcmp (m->source, "/") == 0 ? xstrdup (rest) : xasprintf ("%s%s", m->source, rest);
    }
  if (sandbox_path_under (dest, "/tmp") || sandbox_path_under (dest, "/dev"))
    return NULL;
  return xstrdup (dest); /* the host's root, its mounts and the current directory are all at their own path */
}

/* ---- environment --------------------------------------------------------------------------- */

/* Set "K=V" in the environment vector *ENV (*N entries), replacing an entry of the same name.  */
static void
env_put (char ***env, size_t *n, const char *kv)
{
  size_t len = strcspn (kv, "=");

  for (size_t i = 0; i < *n; i++)
    if (strncmp ((*env)[i], kv, len) == 0 && (*env)[i][len] == '=')
      {
        free ((*env)[i]);
        (*env)[i] = xstrdup (kv);
        return;
      }
  *env = xrealloc (*env, (*n + 2) * sizeof **env);
  (*env)[(*n)++] = xstrdup (kv);
  (*env)[*n] = NULL;
}

/* The value of NAME in ENV as "NAME=VALUE", or NULL.  */
static const char *
env_find (char *const *env, const char *name)
{
  size_t len = strlen (name);

  for (; env != NULL && *env != NULL; env++)
    if (strncmp (*env, name, len) == 0 && (*env)[len] == '=')
      return *env;
  return NULL;
}

/* The process's environment (NULL-terminated, free with strv_free).  */
static char **
build_env (const struct sandbox_opts *o)
{
  char **env = xcalloc (1, sizeof *env);
  size_t n = 0;

  if (o->clearenv)
    env_put (&env, &n, SANDBOX_DEFAULT_PATH);
  else
    for (char *const *e = o->host_env; e != NULL && *e != NULL; e++)
      {
        bool skip = strchr (*e, '=') == NULL;
        for (size_t k = 0; k < ARRAY_SIZE (env_not_passed) && !skip; k++)
          skip = has_prefix (*e, env_not_passed[k]) && (*e)[strlen (env_not_passed[k])] == '=';
        if (!skip)
          env_put (&env, &n, *e);
      }
  for (char *const *e = o->env; e != NULL && *e != NULL; e++)
    {
      const char *kv = *e;
      if (strchr (kv, '=') == NULL)
        {
          /* "--env NAME": the caller's value, when it has one.  */
          kv = env_find (o->host_env, kv);
          if (kv == NULL)
            continue;
        }
      env_put (&env, &n, kv);
    }
  if (o->tty && env_find (env, "TERM") == NULL)
    env_put (&env, &n, "TERM=xterm");
  if (env_find (env, "PATH") == NULL)
    env_put (&env, &n, SANDBOX_DEFAULT_PATH);
  return env;
}

/* ---- the configuration --------------------------------------------------------------------- */

/* "KEY": [ capability names of MASK ].  */
static void
gen_key_caps (yajl_gen g, const char *key, uint64_t mask)
{
  json_gen_str (g, key);
  yajl_gen_array_open (g);
  for (int c = 0; c <= SPEC_CAP_LAST; c++)
    if (mask & (1ULL << c))
      json_gen_str (g, spec_cap_name (c));
  yajl_gen_array_close (g);
}

static void
gen_process (yajl_gen g, const struct sandbox_opts *o, const struct husk_spec *def, const char *cwd)
{
  const struct husk_capabilities *dc = def->process->capabilities;
  uint64_t caps = ((dc != NULL ? dc->effective : 0) | o->cap_add) & ~o->cap_drop;
  cleanup_strv char **env = build_env (o);

  json_gen_str (g, "process");
  yajl_gen_map_open (g);
  json_gen_key_bool (g, "terminal", o->tty);
  json_gen_str (g, "user");
  yajl_gen_map_open (g);
  json_gen_key_int (g, "uid", o->uid);
  json_gen_key_int (g, "gid", o->gid);
  yajl_gen_map_close (g);
  gen_key_strv (g, "args", o->argv);
  gen_key_strv (g, "env", env);
  json_gen_key_str (g, "cwd", cwd);
  json_gen_str (g, "capabilities");
  yajl_gen_map_open (g);
  gen_key_caps (g, "bounding", caps);
  gen_key_caps (g, "effective", caps);
  gen_key_caps (g, "permitted", caps);
  /* A user other than root loses its permitted set at execve unless the capabilities are ambient.  */
  if (o->uid != 0)
    {
      gen_key_caps (g, "inheritable", caps);
      gen_key_caps (g, "ambient", caps);
    }
  yajl_gen_map_close (g);
  json_gen_str (g, "rlimits");
  yajl_gen_array_open (g);
  for (size_t i = 0; i < def->process->n_rlimits; i++)
    {
      const struct husk_rlimit *r = &def->process->rlimits[i];
      yajl_gen_map_open (g);
      json_gen_key_str (g, "type", spec_rlimit_name (r->resource));
      json_gen_key_int (g, "hard", (long long) r->hard);
      json_gen_key_int (g, "soft", (long long) r->soft);
      yajl_gen_map_close (g);
    }
  yajl_gen_array_close (g);
  json_gen_key_bool (g, "noNewPrivileges", true);
  yajl_gen_map_close (g);
}

/* One mount: DEST, TYPE, SOURCE and the NULL-terminated OPTIONS.  */
static void
gen_mount (yajl_gen g, const char *dest, const char *type, const char *source, char *const *options)
{
  yajl_gen_map_open (g);
  json_gen_key_str (g, "destination", dest);
  json_gen_key_str (g, "type", type);
  json_gen_key_str (g, "source", source);
  gen_key_strv (g, "options", options);
  yajl_gen_map_close (g);
}

/* A recursive bind of SOURCE on DEST, nosuid and nodev, read-only when RO.  */
static void
gen_bind (yajl_gen g, const char *source, const char *dest, bool ro)
{
  char *opts[] = { "rbind", "nosuid", "nodev", ro ? "ro" : NULL, NULL };
  gen_mount (g, dest, "bind", source, opts);
}

static void
gen_tmpfs (yajl_gen g, const char *dest)
{
  char *opts[] = { "nosuid", "nodev", "mode=1777", NULL };
  gen_mount (g, dest, "tmpfs", "tmpfs", opts);
}

/* True when the caller's directory is bound at its own path (host-root mode).  */
static bool
cwd_bound (const struct sandbox_opts *o)
{
  if (o->rootfs != NULL || o->cwd == NULL || strcmp (o->cwd, "/") == 0)
    return false;
  for (size_t k = 0; k < ARRAY_SIZE (own_mounts); k++)
    if (strcmp (own_mounts[k], "/tmp") != 0 && sandbox_path_under (o->cwd, own_mounts[k]))
      return false;
  return true;
}

static void
gen_mounts (yajl_gen g, const struct sandbox_opts *o, const struct husk_spec *def)
{
  json_gen_str (g, "mounts");
  yajl_gen_array_open (g);
  if (o->rootfs == NULL)
    {
      /* Every host mount below "/" again, recursively read-only, before anything is mounted on
       * top of them; user --tmpfs destinations hide what is below them anyway.  */
      const char **skip = xcalloc (o->n_mounts + 1, sizeof *skip);
      size_t n_skip = 0;
      for (size_t i = 0; i < o->n_mounts; i++)
        if (o->mounts[i].kind == SANDBOX_TMPFS)
          skip[n_skip++] = o->mounts[i].destination;
      cleanup_strv char **subs = sandbox_host_submounts (o->mountinfo, skip, n_skip);
      free (skip);
      for (char **s = subs; *s != NULL; s++)
        gen_bind (g, *s, *s, true);
    }
  for (size_t i = 0; i < def->n_mounts; i++)
    {
      const struct husk_mount *m = &def->mounts[i];
      gen_mount (g, m->destination, m->type, m->source, m->options);
    }
  gen_tmpfs (g, "/tmp");
  if (cwd_bound (o))
    gen_bind (g, o->cwd, o->cwd, o->readonly);
  for (size_t i = 0; i < o->n_mounts; i++)
    {
      const struct sandbox_mount *m = &o->mounts[i];
      if (m->kind == SANDBOX_TMPFS)
        gen_tmpfs (g, m->destination);
      else
        gen_bind (g, m->source, m->destination, m->readonly);
    }
  yajl_gen_array_close (g);
}

static void
gen_mapping (yajl_gen g, const char *key, uint32_t container_id, uint32_t host_id)
{
  json_gen_str (g, key);
  yajl_gen_array_open (g);
  yajl_gen_map_open (g);
  json_gen_key_int (g, "containerID", container_id);
  json_gen_key_int (g, "hostID", host_id);
  json_gen_key_int (g, "size", 1);
  yajl_gen_map_close (g);
  yajl_gen_array_close (g);
}

static void
gen_resources (yajl_gen g, const struct sandbox_opts *o)
{
  json_gen_str (g, "resources");
  yajl_gen_map_open (g);
  if (!o->userns)
    {
      /* husk starts every container from deny-all; the rule keeps the config safe elsewhere.  */
      json_gen_str (g, "devices");
      yajl_gen_array_open (g);
      yajl_gen_map_open (g);
      json_gen_key_bool (g, "allow", false);
      json_gen_key_str (g, "access", "rwm");
      yajl_gen_map_close (g);
      yajl_gen_array_close (g);
    }
  if (o->memory > 0)
    {
      json_gen_str (g, "memory");
      yajl_gen_map_open (g);
      json_gen_key_int (g, "limit", o->memory);
      if (o->memory_swap)
        json_gen_key_int (g, "swap", o->memory); /* memory + swap: no swap on top of the limit */
      yajl_gen_map_close (g);
    }
  if (o->cpu_quota > 0)
    {
      json_gen_str (g, "cpu");
      yajl_gen_map_open (g);
      json_gen_key_int (g, "quota", o->cpu_quota);
      json_gen_key_int (g, "period", (long long) o->cpu_period);
      yajl_gen_map_close (g);
    }
  if (o->pids > 0)
    {
      json_gen_str (g, "pids");
      yajl_gen_map_open (g);
      json_gen_key_int (g, "limit", o->pids);
      yajl_gen_map_close (g);
    }
  yajl_gen_map_close (g);
}

/* "seccomp": the profile OPTS ask for (nothing when unconfined).  Returns 0, or -1 with ERR.  */
static int
gen_seccomp (yajl_gen g, const struct sandbox_opts *o, struct husk_err *err)
{
  if (o->seccomp == SANDBOX_SECCOMP_UNCONFINED)
    return 0;
  json_gen_str (g, "seccomp");
  if (o->seccomp == SANDBOX_SECCOMP_DEFAULT)
    {
      gen_seccomp_default (g);
      return 0;
    }
  struct sj c;
  const char *text = o->seccomp_json != NULL ? o->seccomp_json : "";
  sj_init (&c, "--seccomp", err);
  yajl_val tree = sj_parse (&c, text, strlen (text));
  if (tree == NULL)
    return -1;
  if (!YAJL_IS_OBJECT (tree))
    {
      yajl_tree_free (tree);
      return husk_err_set (err, 0, "--seccomp: expected a JSON object (a config.json linux.seccomp)");
    }
  json_gen_value (g, tree);
  yajl_tree_free (tree);
  return 0;
}

static int
gen_linux (yajl_gen g, const struct sandbox_opts *o, const struct husk_spec *def, struct husk_err *err)
{
  const char *namespaces[] = { "pid", "ipc", "uts", "mount", "cgroup", NULL, NULL, NULL };
  size_t n = 5;

  if (o->network == SANDBOX_NET_NONE)
    namespaces[n++] = "network";
  if (o->userns)
    namespaces[n++] = "user";

  json_gen_str (g, "linux");
  yajl_gen_map_open (g);
  if (o->userns)
    {
      /* Only the caller's own ids can be mapped without privileges; husk's setup runs as root in
       * the namespace, so that is what they map to.  */
      gen_mapping (g, "uidMappings", 0, o->host_uid);
      gen_mapping (g, "gidMappings", 0, o->host_gid);
    }
  gen_resources (g, o);
  if (o->cgroups_path != NULL)
    json_gen_key_str (g, "cgroupsPath", o->cgroups_path);
  json_gen_str (g, "namespaces");
  yajl_gen_array_open (g);
  for (size_t i = 0; namespaces[i] != NULL; i++)
    {
      yajl_gen_map_open (g);
      json_gen_key_str (g, "type", namespaces[i]);
      yajl_gen_map_close (g);
    }
  yajl_gen_array_close (g);
  if (gen_seccomp (g, o, err) < 0)
    return -1;
  gen_key_strv (g, "maskedPaths", def->linux != NULL ? def->linux->masked_paths : NULL);
  gen_key_strv (g, "readonlyPaths", def->linux != NULL ? def->linux->readonly_paths : NULL);
  yajl_gen_map_close (g);
  return 0;
}

char *
sandbox_config_json (const struct sandbox_opts *o, struct husk_err *err)
{
  cleanup_free char *def_json = spec_default_json (o->userns);
  cleanup_spec struct husk_spec *def = spec_parse (def_json, strlen (def_json), "default config", err);
  const char *cwd;
  yajl_gen g;

  if (def == NULL)
    return NULL;
  if (o->argv == NULL || o->argv[0] == NULL)
    return husk_err_set (err, 0, "sandbox: no command given"), NULL;
  if (o->chdir != NULL)
    cwd = o->chdir;
  else if (o->rootfs == NULL && o->cwd != NULL && (cwd_bound (o) || strcmp (o->cwd, "/") == 0))
    cwd = o->cwd;
  else
    cwd = "/";

  g = new_gen ();
  yajl_gen_map_open (g);
  json_gen_key_str (g, "ociVersion", "1.2.0");
  gen_process (g, o, def, cwd);
  json_gen_str (g, "root");
  yajl_gen_map_open (g);
  json_gen_key_str (g, "path", o->rootfs != NULL ? o->rootfs : SANDBOX_HOST_ROOT);
  json_gen_key_bool (g, "readonly", o->rootfs == NULL || o->readonly);
  yajl_gen_map_close (g);
  if (o->hostname != NULL)
    json_gen_key_str (g, "hostname", o->hostname);
  gen_mounts (g, o, def);
  if (gen_linux (g, o, def, err) < 0)
    {
      yajl_gen_free (g);
      return NULL;
    }
  yajl_gen_map_close (g);
  return json_gen_finish (g);
}

/* ---- option values ------------------------------------------------------------------------- */

int
sandbox_parse_bind (const char *arg, struct sandbox_mount *out, struct husk_err *err)
{
  cleanup_free char *copy = xstrdup (arg);
  char *parts[4] = { NULL };
  size_t n = 0;
  bool ro = false;

  for (char *p = copy, *colon; n < 4; p = colon + 1)
    {
      parts[n++] = p;
      colon = strchr (p, ':');
      if (colon == NULL)
        break;
      *colon = '\0';
    }
  /* A last part "ro" or "rw" is the mode; SRC alone means the same path inside.  */
  if (n >= 2 && (strcmp (parts[n - 1], "ro") == 0 || strcmp (parts[n - 1], "rw") == 0))
    ro = strcmp (parts[--n], "ro") == 0;
  if (n == 1)
    parts[n++] = parts[0];
  if (n != 2 || parts[0][0] == '\0')
    return husk_err_set (err, 0, "--bind '%s': expected SRC[:DST][:ro]", arg);
  cleanup_free char *what = xasprintf ("--bind '%s': the destination", arg);
  char *dest = sandbox_clean_path (parts[1], what, err);
  if (dest == NULL)
    return -1;
  *out = (struct sandbox_mount) { .kind = SANDBOX_BIND, .source = xstrdup (parts[0]), .destination = dest,
                                  .readonly = ro };
  return 0;
}

/* Parse "D[.F]" (at most MAX_FRAC fractional digits) into thousandths in *OUT; *END gets the first
 * character after it.  Returns 0, or -1 on no digits, too many fractional digits or overflow.  */
static int
parse_milli (const char *s, uint64_t *out, const char **end)
{
  uint64_t whole = 0, frac = 0;
  int digits = 0, fdigits = 0;

  for (; isdigit ((unsigned char) *s); s++, digits++)
    {
      if (whole > (UINT64_MAX / 1000 - 9) / 10)
        return -1;
      whole = whole * 10 + (uint64_t) (*s - '0');
    }
  if (*s == '.')
    for (s++; isdigit ((unsigned char) *s); s++, fdigits++)
      {
        if (fdigits == 3)
          return -1;
        frac = frac * 10 + (uint64_t) (*s - '0');
      }
  if (digits + fdigits == 0)
    return -1;
  for (int k = fdigits; k < 3; k++)
    frac *= 10;
  *out = whole * 1000 + frac;
  *end = s;
  return 0;
}

int
sandbox_parse_size (const char *s, const char *what, int64_t *out, struct husk_err *err)
{
  uint64_t v = 0, mult = 1;
  const char *p = s;

  for (; isdigit ((unsigned char) *p); p++)
    {
      if (v > (UINT64_MAX - 9) / 10)
        return husk_err_set (err, 0, "%s: '%s' is too large", what, s);
      v = v * 10 + (uint64_t) (*p - '0');
    }
  if (p == s)
    return husk_err_set (err, 0, "%s: expected a number of bytes with an optional k, m, g or t, got '%s'", what, s);
  switch (tolower ((unsigned char) *p))
    {
    case 'k':
      mult = 1ULL << 10, p++;
      break;
    case 'm':
      mult = 1ULL << 20, p++;
      break;
    case 'g':
      mult = 1ULL << 30, p++;
      break;
    case 't':
      mult = 1ULL << 40, p++;
      break;
    }
  if (*p == 'b' || *p == 'B')
    p++;
  if (*p != '\0')
    return husk_err_set (err, 0, "%s: expected a number of bytes with an optional k, m, g or t, got '%s'", what, s);
  if (v == 0)
    return husk_err_set (err, 0, "%s: must be more than 0", what);
  if (v > (uint64_t) INT64_MAX / mult)
    return husk_err_set (err, 0, "%s: '%s' is too large", what, s);
  *out = (int64_t) (v * mult);
  return 0;
}

int
sandbox_parse_cpus (const char *s, int64_t *quota, uint64_t *period, struct husk_err *err)
{
  uint64_t milli;
  const char *end;

  if (parse_milli (s, &milli, &end) < 0 || *end != '\0')
    return husk_err_set (err, 0, "--cpus: expected a number such as 1 or 0.5 (at most 3 decimals), got '%s'", s);
  if (milli < 10)
    return husk_err_set (err, 0, "--cpus: '%s' is less than the minimum 0.01", s);
  if (milli > 1000000)
    return husk_err_set (err, 0, "--cpus: '%s' is too large", s);
  *period = 100000;
  *quota = (int64_t) milli * 100;
  return 0;
}

int
sandbox_parse_duration (const char *s, uint64_t *ms, struct husk_err *err)
{
  uint64_t milli, mult = 1;
  const char *end;

  if (parse_milli (s, &milli, &end) < 0)
    goto bad;
  switch (*end)
    {
    case '\0':
    case 's':
      break;
    case 'm':
      mult = 60;
      break;
    case 'h':
      mult = 3600;
      break;
    case 'd':
      mult = 86400;
      break;
    default:
      goto bad;
    }
  if (*end != '\0' && end[1] != '\0')
    goto bad;
  if (milli > UINT64_MAX / 86400 / 1000)
    return husk_err_set (err, 0, "--timeout: '%s' is too large", s);
  *ms = milli * mult;
  return 0;

bad:
  return husk_err_set (err, 0, "--timeout: expected seconds such as 10 or 2.5, with an optional s, m, h or d, got '%s'", s);
}

/* Parse a uid or gid: decimal, below 2^32-1 (which means "none" to the kernel).  */
static int
parse_id (const char *s, uint32_t *out)
{
  uint64_t v;

  if (parse_u64 (s, &v) < 0 || v >= UINT32_MAX)
    return -1;
  *out = (uint32_t) v;
  return 0;
}

int
sandbox_parse_user (const char *s, uint32_t *uid, uint32_t *gid, bool *has_gid, struct husk_err *err)
{
  cleanup_free char *copy = xstrdup (s);
  char *colon = strchr (copy, ':');

  *has_gid = colon != NULL;
  if (colon != NULL)
    *colon++ = '\0';
  if (parse_id (copy, uid) < 0 || (colon != NULL && parse_id (colon, gid) < 0))
    return husk_err_set (err, 0, "--user: expected UID[:GID] (numbers), got '%s'", s);
  return 0;
}

uint64_t
sandbox_parse_cap (const char *name, const char *what, struct husk_err *err)
{
  cleanup_free char *up = NULL;
  int cap;

  if (strcasecmp (name, "ALL") == 0)
    return SPEC_CAP_LAST == 63 ? UINT64_MAX : (1ULL << (SPEC_CAP_LAST + 1)) - 1;
  up = xasprintf ("%s%s", strncasecmp (name, "CAP_", 4) == 0 ? "" : "CAP_", name);
  for (char *p = up; *p != '\0'; p++)
    *p = (char) toupper ((unsigned char) *p);
  cap = spec_cap_from_name (up);
  if (cap < 0)
    return husk_err_set (err, 0, "%s: unknown capability '%s'", what, name), 0;
  return 1ULL << cap;
}
