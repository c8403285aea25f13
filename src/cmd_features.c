/* husk features: print the features document (runtime-spec features.md, features-linux.md) as
 * JSON on stdout.  Every field says what husk really does; a field husk could not fill truthfully
 * is left out (the spec allows any field but the two versions to be absent).  Mostly fixed at
 * build time as features.md asks; the two exceptions are the seccomp architectures (those the
 * linked libseccomp can put in a filter of this build's byte order) and seccomp's supportedFlags
 * (those of husk's flags the running kernel accepts, as features-linux.md allows).  */
#include "config.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>
#include <seccomp.h> /* libseccomp's, for seccomp_version(); ours is "seccomp.h" */

#include "commands.h"
#include "spec.h"
#include "spec_names.h"
#include "json_gen.h"
#include "util.h"

/* config.md "Hooks": all six lists.  */
static const char *const hook_kinds[] = {
  "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop", NULL,
};

/* The option names src/mount.c's parse_option() knows itself, in the order of its tables: mount
 * attributes, atime modes, propagation, then bind/rbind/defaults/tmpcopyup.  Not listed: the ones it
 * refuses ("idmap", "ridmap"), "x-" options (any name), and filesystem data options, which go
 * to the kernel as they are (features.md: SHOULD NOT be listed).  Keep in step with mount.c.  */
static const char *const mount_options[] = {
  "ro", "rw", "nosuid", "suid", "nodev", "dev", "noexec", "exec", "nodiratime", "diratime",
  "nosymfollow", "symfollow",
  "relatime", "norelatime", "strictatime", "nostrictatime", "noatime", "atime",
  "private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable",
  "bind", "rbind", "defaults", "tmpcopyup",
  NULL,
};

/* Every architecture name config-linux.md "Seccomp" lists; the usable ones are printed.  */
static const char *const seccomp_arch_candidates[] = {
  "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64",
  "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64",
  "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390",
  "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64", "SCMP_ARCH_LOONGARCH64",
  "SCMP_ARCH_M68K", "SCMP_ARCH_SH", "SCMP_ARCH_SHEB",
};

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

/* The names linux.seccomp.flags may hold (src/seccomp.c's table), and whether husk passes the flag
 * to seccomp(2): WAIT_KILLABLE_RECV is accepted but dropped with a warning, as it only means
 * something with SCMP_ACT_NOTIFY, which husk does not support yet.  */
static const struct
{
  const char *name;
  unsigned int flag;
  bool passed;
} seccomp_flags[] = {
  { "SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC, true },
  { "SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG, true },
  { "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW, true },
  { "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, false },
};

/* True when the kernel knows seccomp filter flag FLAG: with a NULL program it fails with EFAULT
 * after checking the flags (EINVAL for an unknown one), and installs nothing.  */
static bool
kernel_has_seccomp_flag (unsigned int flag)
{
  return syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, flag, NULL) < 0 && errno == EFAULT;
}

/* True when seccomp_compile can put architecture NAME in a filter: libseccomp resolves it (as husk's
 * parser does) and adds it next to the native one.  libseccomp refuses (EDOM) an architecture of
 * the other byte order, so a little-endian husk cannot filter for SCMP_ARCH_S390X, for example.  */
static bool
seccomp_arch_usable (const char *name)
{
  uint32_t token = spec_seccomp_arch_token (name);
  scmp_filter_ctx ctx;
  int rc;

  if (token == 0)
    return false;
  ctx = seccomp_init (SCMP_ACT_ALLOW);
  if (ctx == NULL)
    return false;
  rc = seccomp_arch_add (ctx, token);
  seccomp_release (ctx);
  return rc == 0 || rc == -EEXIST;
}

/* ---- yajl helpers -------------------------------------------------------------------------- */

static void
gen_key_strv (yajl_gen g, const char *key, const char *const *v)
{
  json_gen_str (g, key);
  (void) yajl_gen_array_open (g);
  for (; *v != NULL; v++)
    json_gen_str (g, *v);
  (void) yajl_gen_array_close (g);
}

/* "KEY": {"enabled": ENABLED}  */
static void
gen_key_enabled (yajl_gen g, const char *key, bool enabled)
{
  json_gen_str (g, key);
  (void) yajl_gen_map_open (g);
  json_gen_key_bool (g, "enabled", enabled);
  (void) yajl_gen_map_close (g);
}

/* ---- the document -------------------------------------------------------------------------- */

/* features-linux.md "Seccomp".  */
static void
gen_seccomp (yajl_gen g)
{
  json_gen_str (g, "seccomp");
  (void) yajl_gen_map_open (g);
  json_gen_key_bool (g, "enabled", true);

  /* Every action the parser knows but SCMP_ACT_NOTIFY, which seccomp_compile refuses.  */
  json_gen_str (g, "actions");
  (void) yajl_gen_array_open (g);
  for (int a = 0; spec_seccomp_action_name ((enum husk_seccomp_action) a) != NULL; a++)
    if (a != HUSK_SCMP_NOTIFY)
      json_gen_str (g, spec_seccomp_action_name ((enum husk_seccomp_action) a));
  (void) yajl_gen_array_close (g);

  json_gen_str (g, "operators");
  (void) yajl_gen_array_open (g);
  for (int op = 0; spec_seccomp_op_name ((enum husk_seccomp_op) op) != NULL; op++)
    json_gen_str (g, spec_seccomp_op_name ((enum husk_seccomp_op) op));
  (void) yajl_gen_array_close (g);

  json_gen_str (g, "archs");
  (void) yajl_gen_array_open (g);
  for (size_t i = 0; i < ARRAY_SIZE (seccomp_arch_candidates); i++)
    if (seccomp_arch_usable (seccomp_arch_candidates[i]))
      json_gen_str (g, seccomp_arch_candidates[i]);
  (void) yajl_gen_array_close (g);

  json_gen_str (g, "knownFlags");
  (void) yajl_gen_array_open (g);
  for (size_t i = 0; i < ARRAY_SIZE (seccomp_flags); i++)
    json_gen_str (g, seccomp_flags[i].name);
  (void) yajl_gen_array_close (g);

  json_gen_str (g, "supportedFlags");
  (void) yajl_gen_array_open (g);
  for (size_t i = 0; i < ARRAY_SIZE (seccomp_flags); i++)
    if (seccomp_flags[i].passed && kernel_has_seccomp_flag (seccomp_flags[i].flag))
      json_gen_str (g, seccomp_flags[i].name);
  (void) yajl_gen_array_close (g);

  (void) yajl_gen_map_close (g);
}

/* features-linux.md.  */
static void
gen_linux (yajl_gen g)
{
  json_gen_str (g, "linux");
  (void) yajl_gen_map_open (g);

  json_gen_str (g, "namespaces");
  (void) yajl_gen_array_open (g);
  for (int t = 0; t < HUSK_NS_COUNT; t++)
    json_gen_str (g, spec_ns_type_name ((enum husk_ns_type) t));
  (void) yajl_gen_array_close (g);

  json_gen_str (g, "capabilities");
  (void) yajl_gen_array_open (g);
  for (int cap = 0; cap <= SPEC_CAP_LAST; cap++)
    json_gen_str (g, spec_cap_name (cap));
  (void) yajl_gen_array_close (g);

  /* v1 (and hybrid) and v2 hierarchies are driven directly; --systemd-cgroup makes a transient
   * unit of systemd's system instance (cgroup/systemd.h; no user instance); linux.resources.rdma is
   * refused.  */
  json_gen_str (g, "cgroup");
  (void) yajl_gen_map_open (g);
  json_gen_key_bool (g, "v1", true);
  json_gen_key_bool (g, "v2", true);
  json_gen_key_bool (g, "systemd", true);
  json_gen_key_bool (g, "systemdUser", false);
  json_gen_key_bool (g, "rdma", false);
  (void) yajl_gen_map_close (g);

  gen_seccomp (g);

  /* process.apparmorProfile, process.selinuxLabel, linux.mountLabel, linux.intelRdt and
   * mounts[].uidMappings/gidMappings are refused ("not supported yet").  */
  gen_key_enabled (g, "apparmor", false);
  gen_key_enabled (g, "selinux", false);
  gen_key_enabled (g, "intelRdt", false);
  json_gen_str (g, "mountExtensions");
  (void) yajl_gen_map_open (g);
  gen_key_enabled (g, "idmap", false);
  (void) yajl_gen_map_close (g);

  (void) yajl_gen_map_close (g);
}

/* The whole document into a new string (free it).  */
static char *
features_json (void)
{
  yajl_gen g = yajl_gen_alloc (NULL);

  if (g == NULL)
    return xstrdup ("{}");
  yajl_gen_config (g, yajl_gen_beautify, 1);
  yajl_gen_config (g, yajl_gen_indent_string, "\t");
  (void) yajl_gen_map_open (g);
  json_gen_key_str (g, "ociVersionMin", "1.0.0");
  json_gen_key_str (g, "ociVersionMax", "1.2.0");
  gen_key_strv (g, "hooks", hook_kinds);
  gen_key_strv (g, "mountOptions", mount_options);
  gen_linux (g);

  json_gen_str (g, "annotations");
  (void) yajl_gen_map_open (g);
  json_gen_key_str (g, "io.github.husk.version", PACKAGE_VERSION);
  {
    const struct scmp_version *v = seccomp_version ();
    if (v != NULL)
      {
        cleanup_free char *s = xasprintf ("%u.%u.%u", v->major, v->minor, v->micro);
        json_gen_key_str (g, "io.github.seccomp.libseccomp.version", s);
      }
  }
  (void) yajl_gen_map_close (g);

  (void) yajl_gen_map_close (g);
  return json_gen_finish (g);
}

/* husk features: no options, no arguments.  Returns 0, or -1 with ERR (a bad argument, or stdout
 * cannot be written).  */
int
cmd_features (const struct husk_globals *g, int argc, char **argv, struct husk_err *err)
{
  cleanup_free char *json = NULL;
  size_t len;

  if (argc > 1 && argv[1][0] == '-')
    return husk_err_set (err, 0, "features: unknown option '%s'", argv[1]);
  if (argc > 1)
    return husk_err_set (err, 0, "features: unexpected argument '%s'", argv[1]);
  json = features_json ();
  len = strlen (json);
  /* yajl's beautified output ends with a newline; add one if a version does not.  */
  if (write_all (STDOUT_FILENO, json, len) < 0
      || (len > 0 && json[len - 1] != '\n' && write_all (STDOUT_FILENO, "\n", 1) < 0))
    return husk_err_set (err, errno, "features: write to stdout");
  return 0;
}
