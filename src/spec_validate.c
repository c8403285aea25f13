/* spec_validate(): the runtime-spec rules that need more than one field or more than a type check
 * (config.md and config-linux.md "MUST" rules, plus the checks that stop husk from touching host
 * state by mistake, e.g. a net.* sysctl without a network namespace).  Reads the spec only; the
 * one visible effect is a husk_warn() for a relative mount destination, which is accepted.  */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"
#include "spec_names.h"
#include "util.h"

/* "FILE: <message>".  Returns -1.  */
static int
fail (struct husk_err *err, const char *file, const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));

static int
fail (struct husk_err *err, const char *file, const char *fmt, ...)
{
  char msg[HUSK_ERR_MSG_MAX];
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  return husk_err_set (err, 0, "%s: %s", file, msg);
}

static bool
is_absolute (const char *path)
{
  return path != NULL && path[0] == '/';
}

/* Every string of V (N entries) is an absolute path; WHAT is the JSON path of V.  */
static int
check_absolute_list (char *const *v, size_t n, const char *what, const char *file,
                     struct husk_err *err)
{
  for (size_t i = 0; i < n; i++)
    if (!is_absolute (v[i]))
      return fail (err, file, "%s[%zu]: '%s' is not an absolute path", what, i, v[i]);
  return 0;
}

/* A namespace of TYPE that the container gets (new or joined by path).  */
static bool
has_ns (const struct husk_spec *spec, enum husk_ns_type type)
{
  return spec_namespace (spec, type) != NULL;
}

/* A namespace of TYPE that husk creates.  */
static bool
has_new_ns (const struct husk_spec *spec, enum husk_ns_type type)
{
  const struct husk_namespace *ns = spec_namespace (spec, type);
  return ns != NULL && ns->path == NULL;
}

/* ---- config.md ----------------------------------------------------------------------------- */

static int
check_version (const struct husk_spec *spec, const char *file, struct husk_err *err)
{
  const char *v = spec->oci_version;
  char *end;
  unsigned long major;

  if (v == NULL)
    return fail (err, file, "ociVersion: missing");
  major = strtoul (v, &end, 10);
  if (end == v || (*end != '.' && *end != '\0') || major != 1 || v[0] < '0' || v[0] > '9')
    return fail (err, file, "ociVersion: unsupported version '%s', expected 1.x", v);
  return 0;
}

static int
check_root (const struct husk_spec *spec, const char *file, struct husk_err *err)
{
  if (spec->root == NULL)
    return fail (err, file, "root: missing");
  if (spec->root->path == NULL || spec->root->path[0] == '\0')
    return fail (err, file, "root.path: must not be empty");
  return 0;
}

static int
check_mounts (const struct husk_spec *spec, const char *file, struct husk_err *err)
{
  for (size_t i = 0; i < spec->n_mounts; i++)
    {
      const struct husk_mount *m = &spec->mounts[i];

      if (m->destination == NULL || m->destination[0] == '\0')
        return fail (err, file, "mounts[%zu].destination: must not be empty", i);
      /* config.md: "This value SHOULD be an absolute path"; runc and crun take a relative one as
       * relative to the container root, and so does husk.  */
      if (!is_absolute (m->destination))
        husk_warn ("%s: mounts[%zu].destination: '%s' is not an absolute path, taking it relative "
                   "to the root",
                   file, i, m->destination);
    }
  return 0;
}

static int
check_rlimits (const struct husk_process *p, const char *file, struct husk_err *err)
{
  for (size_t i = 0; i < p->n_rlimits; i++)
    {
      const struct husk_rlimit *r = &p->rlimits[i];

      for (size_t j = 0; j < i; j++)
        if (p->rlimits[j].resource == r->resource)
          return fail (err, file, "process.rlimits[%zu]: duplicate rlimit '%s'", i,
                       spec_rlimit_name (r->resource));
      if (r->soft > r->hard)
        return fail (err, file,
                     "process.rlimits[%zu]: soft limit %" PRIu64 " is above hard limit %" PRIu64,
                     i, r->soft, r->hard);
    }
  return 0;
}

static int
check_process (const struct husk_process *p, const char *file, struct husk_err *err)
{
  if (p->n_args == 0)
    return fail (err, file, "process.args: must not be empty");
  if (!is_absolute (p->cwd))
    return fail (err, file, "process.cwd: '%s' is not an absolute path", p->cwd ? p->cwd : "");
  for (size_t i = 0; i < p->n_env; i++)
    if (p->env[i][0] == '=' || strchr (p->env[i], '=') == NULL)
      return fail (err, file, "process.env[%zu]: '%s' is not of the form NAME=VALUE", i,
                   p->env[i]);
  if (check_rlimits (p, file, err) < 0)
    return -1;
  if (p->has_oom_score_adj && (p->oom_score_adj < -1000 || p->oom_score_adj > 1000))
    return fail (err, file, "process.oomScoreAdj: %d is outside -1000..1000", p->oom_score_adj);
  if (p->io_priority != NULL && (p->io_priority->priority < 0 || p->io_priority->priority > 7))
    return fail (err, file, "process.ioPriority.priority: %d is outside 0..7",
                 p->io_priority->priority);
  if (p->scheduler != NULL && p->scheduler->has_nice
      && (p->scheduler->nice < -20 || p->scheduler->nice > 19))
    return fail (err, file, "process.scheduler.nice: %d is outside -20..19", p->scheduler->nice);
  return 0;
}

static int
check_hook_list (const struct husk_hook *h, size_t n, const char *name, const char *file,
                 struct husk_err *err)
{
  for (size_t i = 0; i < n; i++)
    {
      if (!is_absolute (h[i].path))
        return fail (err, file, "hooks.%s[%zu].path: '%s' is not an absolute path", name, i,
                     h[i].path);
      if (h[i].has_timeout && h[i].timeout <= 0)
        return fail (err, file, "hooks.%s[%zu].timeout: must be greater than zero", name, i);
    }
  return 0;
}

static int
check_hooks (const struct husk_hooks *h, const char *file, struct husk_err *err)
{
  if (check_hook_list (h->prestart, h->n_prestart, "prestart", file, err) < 0
      || check_hook_list (h->create_runtime, h->n_create_runtime, "createRuntime", file, err) < 0
      || check_hook_list (h->create_container, h->n_create_container, "createContainer", file, err)
             < 0
      || check_hook_list (h->start_container, h->n_start_container, "startContainer", file, err)
             < 0
      || check_hook_list (h->poststart, h->n_poststart, "poststart", file, err) < 0
      || check_hook_list (h->poststop, h->n_poststop, "poststop", file, err) < 0)
    return -1;
  return 0;
}

/* config.md: hostname/domainname change the container's UTS namespace; without one they would
 * change the host's.  */
static int
check_uts (const struct husk_spec *spec, const char *file, struct husk_err *err)
{
  if (spec->hostname != NULL && spec->hostname[0] != '\0' && !has_ns (spec, HUSK_NS_UTS))
    return fail (err, file, "hostname: requires a uts namespace");
  if (spec->domainname != NULL && spec->domainname[0] != '\0' && !has_ns (spec, HUSK_NS_UTS))
    return fail (err, file, "domainname: requires a uts namespace");
  return 0;
}

/* ---- config-linux.md ----------------------------------------------------------------------- */

static int
check_namespaces (const struct husk_linux *l, const char *file, struct husk_err *err)
{
  for (size_t i = 0; i < l->n_namespaces; i++)
    {
      const struct husk_namespace *ns = &l->namespaces[i];

      for (size_t j = 0; j < i; j++)
        if (l->namespaces[j].type == ns->type)
          return fail (err, file, "linux.namespaces[%zu]: duplicate namespace type '%s'", i,
                       spec_ns_type_name (ns->type));
      if (ns->path != NULL && !is_absolute (ns->path))
        return fail (err, file, "linux.namespaces[%zu].path: '%s' is not an absolute path", i,
                     ns->path);
    }
  return 0;
}

static int
check_mappings (const struct husk_id_mapping *m, size_t n, const char *what, const char *file,
                struct husk_err *err)
{
  for (size_t i = 0; i < n; i++)
    {
      if (m[i].size == 0)
        return fail (err, file, "%s[%zu].size: must be greater than zero", what, i);
      if ((uint64_t) m[i].container_id + m[i].size - 1 > UINT32_MAX
          || (uint64_t) m[i].host_id + m[i].size - 1 > UINT32_MAX)
        return fail (err, file, "%s[%zu]: range goes beyond 4294967295", what, i);
    }
  return 0;
}

/* config-linux.md "User namespace mappings": husk writes the maps of a user namespace it creates,
 * so it needs both; mappings without any user namespace make no sense.  Mappings next to a user
 * namespace joined by path are accepted (Podman writes them for pods) and not applied.  */
static int
check_userns (const struct husk_spec *spec, const char *file, struct husk_err *err)
{
  const struct husk_linux *l = spec->linux;

  if (check_mappings (l->uid_mappings, l->n_uid_mappings, "linux.uidMappings", file, err) < 0
      || check_mappings (l->gid_mappings, l->n_gid_mappings, "linux.gidMappings", file, err) < 0)
    return -1;
  if (has_new_ns (spec, HUSK_NS_USER))
    {
      if (l->n_uid_mappings == 0)
        return fail (err, file, "linux.uidMappings: required with a new user namespace");
      if (l->n_gid_mappings == 0)
        return fail (err, file, "linux.gidMappings: required with a new user namespace");
    }
  else if (!has_ns (spec, HUSK_NS_USER))
    {
      if (l->n_uid_mappings > 0)
        return fail (err, file, "linux.uidMappings: set without a user namespace");
      if (l->n_gid_mappings > 0)
        return fail (err, file, "linux.gidMappings: set without a user namespace");
    }
  return 0;
}

static int
check_time_offsets (const struct husk_spec *spec, const char *file, struct husk_err *err)
{
  const struct husk_linux *l = spec->linux;

  if (!l->time_monotonic.present && !l->time_boottime.present)
    return 0;
  /* The offsets can only be written into a time namespace nobody has entered yet.  */
  if (!has_new_ns (spec, HUSK_NS_TIME))
    return fail (err, file, "linux.timeOffsets: requires a new time namespace");
  if (l->time_monotonic.nanosecs >= 1000000000)
    return fail (err, file, "linux.timeOffsets.monotonic.nanosecs: must be below 1000000000");
  if (l->time_boottime.nanosecs >= 1000000000)
    return fail (err, file, "linux.timeOffsets.boottime.nanosecs: must be below 1000000000");
  return 0;
}

static int
check_devices (const struct husk_linux *l, const char *file, struct husk_err *err)
{
  for (size_t i = 0; i < l->n_devices; i++)
    {
      const struct husk_device *d = &l->devices[i];

      if (strchr ("cbup", d->type) == NULL || d->type == '\0')
        return fail (err, file, "linux.devices[%zu].type: unknown device type '%c'", i, d->type);
      if (!is_absolute (d->path))
        return fail (err, file, "linux.devices[%zu].path: '%s' is not an absolute path", i,
                     d->path);
      if (d->type != 'p' && d->major < 0)
        return fail (err, file, "linux.devices[%zu].major: missing (required for type '%c')", i,
                     d->type);
      if (d->type != 'p' && d->minor < 0)
        return fail (err, file, "linux.devices[%zu].minor: missing (required for type '%c')", i,
                     d->type);
    }
  return 0;
}

static int
check_resources (const struct husk_resources *r, const char *file, struct husk_err *err)
{
  for (size_t i = 0; i < r->n_devices; i++)
    {
      const struct husk_device_rule *d = &r->devices[i];

      if (strchr ("acb", d->type) == NULL || d->type == '\0')
        return fail (err, file,
                     "linux.resources.devices[%zu].type: unknown device type '%c', expected a, c "
                     "or b",
                     i, d->type);
      if (d->access[0] == '\0' || strspn (d->access, "rwm") != strlen (d->access))
        return fail (err, file,
                     "linux.resources.devices[%zu].access: invalid access '%s', expected a subset "
                     "of 'rwm'",
                     i, d->access);
    }
  if (r->block_io != NULL)
    for (size_t i = 0; i < r->block_io->n_weight_device; i++)
      if (!r->block_io->weight_device[i].has_weight
          && !r->block_io->weight_device[i].has_leaf_weight)
        return fail (err, file,
                     "linux.resources.blockIO.weightDevice[%zu]: needs weight or leafWeight", i);
  for (size_t i = 0; i < r->n_rdma; i++)
    if (!r->rdma[i].has_hca_handles && !r->rdma[i].has_hca_objects)
      return fail (err, file, "linux.resources.rdma[\"%s\"]: needs hcaHandles or hcaObjects",
                   r->rdma[i].device);
  /* Each key names a file in the container's cgroup directory: never a path out of it.  */
  for (size_t i = 0; i < r->n_unified; i++)
    {
      const char *k = r->unified[i].key;
      if (k[0] == '\0' || strchr (k, '/') != NULL || strcmp (k, ".") == 0 || strcmp (k, "..") == 0)
        return fail (err, file, "linux.resources.unified: invalid file name '%s'", k);
    }
  return 0;
}

/* Which namespace makes sysctl KEY safe to write; -1 when it is not namespaced at all (writing it
 * would change the host).  The list follows the kernel's per-namespace sysctl tables.  */
static int
sysctl_namespace (const char *key)
{
  static const char *const ipc[] = {
    "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",          "kernel.sem",
    "kernel.shmall", "kernel.shmmax", "kernel.shmmni",          "kernel.shm_rmid_forced",
  };

  if (has_prefix (key, "net."))
    return HUSK_NS_NETWORK;
  if (has_prefix (key, "fs.mqueue."))
    return HUSK_NS_IPC;
  for (size_t i = 0; i < ARRAY_SIZE (ipc); i++)
    if (strcmp (key, ipc[i]) == 0)
      return HUSK_NS_IPC;
  if (strcmp (key, "kernel.hostname") == 0 || strcmp (key, "kernel.domainname") == 0)
    return HUSK_NS_UTS;
  return -1;
}

static int
check_sysctl (const struct husk_spec *spec, const char *file, struct husk_err *err)
{
  const struct husk_linux *l = spec->linux;

  for (size_t i = 0; i < l->n_sysctl; i++)
    {
      const char *k = l->sysctl[i].key;
      int ns;

      if (k[0] == '\0' || strchr (k, '/') != NULL || strstr (k, "..") != NULL || k[0] == '.')
        return fail (err, file, "linux.sysctl: invalid key '%s'", k);
      ns = sysctl_namespace (k);
      if (ns < 0)
        return fail (err, file, "linux.sysctl[\"%s\"]: not a namespaced sysctl", k);
      /* A namespace given by path may be the host's own, but that is the caller's choice.  */
      if (!has_ns (spec, (enum husk_ns_type) ns))
        return fail (err, file, "linux.sysctl[\"%s\"]: requires a %s namespace", k,
                     spec_ns_type_name ((enum husk_ns_type) ns));
    }
  return 0;
}

static bool
action_takes_errno (enum husk_seccomp_action a)
{
  return a == HUSK_SCMP_ERRNO || a == HUSK_SCMP_TRACE;
}

static int
check_seccomp (const struct husk_seccomp *s, const char *file, struct husk_err *err)
{
  bool notify = false;

  /* The kernel cannot use a user notification as the default action (libseccomp refuses).  */
  if (s->default_action == HUSK_SCMP_NOTIFY)
    return fail (err, file, "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default");
  if (s->has_default_errno_ret && !action_takes_errno (s->default_action))
    return fail (err, file, "linux.seccomp.defaultErrnoRet: not allowed with defaultAction '%s'",
                 spec_seccomp_action_name (s->default_action));
  for (size_t i = 0; i < s->n_architectures; i++)
    if (spec_seccomp_arch_token (s->architectures[i]) == 0)
      return fail (err, file, "linux.seccomp.architectures[%zu]: unknown architecture '%s'", i,
                   s->architectures[i]);
  for (size_t i = 0; i < s->n_flags; i++)
    if (spec_seccomp_flag_from_name (s->flags[i]) < 0)
      return fail (err, file, "linux.seccomp.flags[%zu]: unknown flag '%s'", i, s->flags[i]);
  if (s->listener_metadata != NULL && s->listener_path == NULL)
    return fail (err, file, "linux.seccomp.listenerMetadata: set without listenerPath");
  if (s->listener_path != NULL && !is_absolute (s->listener_path))
    return fail (err, file, "linux.seccomp.listenerPath: '%s' is not an absolute path",
                 s->listener_path);
  for (size_t i = 0; i < s->n_syscalls; i++)
    {
      const struct husk_seccomp_syscall *sc = &s->syscalls[i];

      if (sc->n_names == 0)
        return fail (err, file, "linux.seccomp.syscalls[%zu].names: must not be empty", i);
      if (sc->has_errno_ret && !action_takes_errno (sc->action))
        return fail (err, file,
                     "linux.seccomp.syscalls[%zu].errnoRet: not allowed with action '%s'", i,
                     spec_seccomp_action_name (sc->action));
      for (size_t j = 0; j < sc->n_args; j++)
        if (sc->args[j].index > 5)
          return fail (err, file,
                       "linux.seccomp.syscalls[%zu].args[%zu].index: %u is outside 0..5", i, j,
                       sc->args[j].index);
      notify = notify || sc->action == HUSK_SCMP_NOTIFY;
    }
  /* Without a listener nobody could answer the notifications: the syscalls would hang.  */
  if (notify && s->listener_path == NULL)
    return fail (err, file, "linux.seccomp.listenerPath: required by SCMP_ACT_NOTIFY");
  return 0;
}

static int
check_linux_misc (const struct husk_spec *spec, const char *file, struct husk_err *err)
{
  static const char *const propagations[] = {
    "shared", "slave", "private", "unbindable", "rshared", "rslave", "rprivate", "runbindable",
  };
  const struct husk_linux *l = spec->linux;

  if (l->rootfs_propagation != NULL)
    {
      size_t i;
      for (i = 0; i < ARRAY_SIZE (propagations); i++)
        if (strcmp (l->rootfs_propagation, propagations[i]) == 0)
          break;
      if (i == ARRAY_SIZE (propagations))
        return fail (err, file, "linux.rootfsPropagation: unknown propagation '%s'",
                     l->rootfs_propagation);
    }
  if (check_absolute_list (l->masked_paths, l->n_masked_paths, "linux.maskedPaths", file, err) < 0
      || check_absolute_list (l->readonly_paths, l->n_readonly_paths, "linux.readonlyPaths", file,
                              err)
             < 0)
    return -1;
  if (l->personality != NULL && strcmp (l->personality->domain, "LINUX") != 0
      && strcmp (l->personality->domain, "LINUX32") != 0)
    return fail (err, file,
                 "linux.personality.domain: unknown domain '%s', expected LINUX or LINUX32",
                 l->personality->domain);
  if (l->intel_rdt != NULL && l->intel_rdt->mem_bw_schema != NULL
      && (!has_prefix (l->intel_rdt->mem_bw_schema, "MB:")
          || strchr (l->intel_rdt->mem_bw_schema, '\n') != NULL))
    return fail (err, file,
                 "linux.intelRdt.memBwSchema: must start with 'MB:' and be a single line");
  if (l->memory_policy != NULL)
    {
      if (spec_mpol_mode_from_name (l->memory_policy->mode) < 0)
        return fail (err, file, "linux.memoryPolicy.mode: unknown mode '%s'",
                     l->memory_policy->mode);
      for (size_t i = 0; i < l->memory_policy->n_flags; i++)
        if (spec_mpol_flag_from_name (l->memory_policy->flags[i]) < 0)
          return fail (err, file, "linux.memoryPolicy.flags[%zu]: unknown flag '%s'", i,
                       l->memory_policy->flags[i]);
    }
  if (l->n_net_devices > 0 && !has_ns (spec, HUSK_NS_NETWORK))
    return fail (err, file, "linux.netDevices: requires a network namespace");
  return 0;
}

static int
check_linux (const struct husk_spec *spec, const char *file, struct husk_err *err)
{
  const struct husk_linux *l = spec->linux;

  if (check_namespaces (l, file, err) < 0 || check_userns (spec, file, err) < 0
      || check_time_offsets (spec, file, err) < 0 || check_devices (l, file, err) < 0
      || (l->resources != NULL && check_resources (l->resources, file, err) < 0)
      || check_sysctl (spec, file, err) < 0
      || (l->seccomp != NULL && check_seccomp (l->seccomp, file, err) < 0)
      || check_linux_misc (spec, file, err) < 0)
    return -1;
  return 0;
}

int
spec_validate (const struct husk_spec *spec, const char *file, struct husk_err *err)
{
  if (check_version (spec, file, err) < 0 || check_root (spec, file, err) < 0
      || check_mounts (spec, file, err) < 0
      || (spec->process != NULL && check_process (spec->process, file, err) < 0)
      || (spec->hooks != NULL && check_hooks (spec->hooks, file, err) < 0)
      || check_uts (spec, file, err) < 0
      || (spec->linux != NULL && check_linux (spec, file, err) < 0))
    return -1;
  return 0;
}
