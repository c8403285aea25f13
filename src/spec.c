/* config.json -> struct husk_spec (runtime-spec v1.2 config.md and config-linux.md, plus the v1.3
 * additions linux.netDevices and linux.memoryPolicy).
 *
 * One parse function per object of the schema, named after it, each taking the object's value at
 * the current JSON path.  Everything allocated is linked into the spec at once (arrays before
 * their elements are filled), so on any error spec_free() of the half-built spec frees it all.
 * Cross-field rules are in spec_validate.c.  */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"
#include "spec_json.h"
#include "spec_names.h"
#include "util.h"

#define REQ true
#define OPT false

/* ---- small helpers ------------------------------------------------------------------------- */

/* Fail with "unknown <what> '<name>'" when LOOKUP gave -1.  */
static int
unknown (struct sj *c, const char *what, const char *name)
{
  return sj_fail (c, "unknown %s '%s'", what, name);
}

/* Member KEY of OBJ is a string naming a constant; convert it with FROM_NAME into *OUT.  */
static int
field_name (struct sj *c, yajl_val obj, const char *key, bool required, const char *what,
            int (*from_name) (const char *), bool *has, int *out)
{
  cleanup_free char *s = NULL;
  size_t mark;
  int v;

  if (has != NULL)
    *has = false;
  if (sj_field_string (c, obj, key, required, &s) < 0)
    return -1;
  if (s == NULL)
    return 0;
  v = from_name (s);
  if (v < 0)
    {
      mark = sj_push_key (c, key);
      unknown (c, what, s);
      sj_pop (c, mark);
      return -1;
    }
  *out = v;
  if (has != NULL)
    *has = true;
  return 0;
}

/* Member KEY of OBJ is an array of names; OR together the bits (1 << number when SHIFT, else the
 * value itself) into *OUT.  */
static int
field_name_bits (struct sj *c, yajl_val obj, const char *key, const char *what,
                 int (*from_name) (const char *), bool shift, uint64_t *out)
{
  cleanup_strv char **names = NULL;
  size_t n = 0;

  *out = 0;
  if (sj_field_strv (c, obj, key, OPT, NULL, &names, &n) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    {
      int v = from_name (names[i]);
      if (v < 0)
        {
          sj_push_key (c, key);
          sj_push_index (c, i);
          return unknown (c, what, names[i]);
        }
      *out |= shift ? UINT64_C (1) << v : (uint64_t) v;
    }
  return 0;
}

/* Allocate a zeroed object for an optional member KEY of OBJ and parse it with FN.  *OUT stays
 * NULL when the member is absent.  */
static int
field_struct (struct sj *c, yajl_val obj, const char *key, size_t size,
              int (*fn) (struct sj *, yajl_val, void *), void *out)
{
  yajl_val v = sj_get (obj, key);
  size_t mark;
  void *p;

  if (v == NULL)
    return 0;
  mark = sj_push_key (c, key);
  if (sj_object (c, v) < 0)
    return -1;
  p = xcalloc (1, size);
  *(void **) out = p;
  if (fn (c, v, p) < 0)
    return -1;
  sj_pop (c, mark);
  return 0;
}

/* ---- config.md ----------------------------------------------------------------------------- */

static int
parse_id_mapping (struct sj *c, yajl_val v, void *elem)
{
  struct husk_id_mapping *m = elem;

  if (sj_object (c, v) < 0 || sj_field_u32 (c, v, "containerID", REQ, NULL, &m->container_id) < 0
      || sj_field_u32 (c, v, "hostID", REQ, NULL, &m->host_id) < 0
      || sj_field_u32 (c, v, "size", REQ, NULL, &m->size) < 0)
    return -1;
  return 0;
}

static int
parse_mount (struct sj *c, yajl_val v, void *elem)
{
  struct husk_mount *m = elem;

  if (sj_object (c, v) < 0 || sj_field_string (c, v, "destination", REQ, &m->destination) < 0
      || sj_field_string (c, v, "type", OPT, &m->type) < 0
      || sj_field_string (c, v, "source", OPT, &m->source) < 0
      || sj_field_strv (c, v, "options", OPT, NULL, &m->options, &m->n_options) < 0
      || sj_field_array_of (c, v, "uidMappings", OPT, sizeof *m->uid_mappings, parse_id_mapping,
                            &m->uid_mappings, &m->n_uid_mappings)
             < 0
      || sj_field_array_of (c, v, "gidMappings", OPT, sizeof *m->gid_mappings, parse_id_mapping,
                            &m->gid_mappings, &m->n_gid_mappings)
             < 0)
    return -1;
  return 0;
}

static int
parse_root (struct sj *c, yajl_val v, void *p)
{
  struct husk_root *r = p;

  if (sj_field_string (c, v, "path", REQ, &r->path) < 0
      || sj_field_bool (c, v, "readonly", OPT, NULL, &r->readonly) < 0)
    return -1;
  return 0;
}

static int
parse_rlimit (struct sj *c, yajl_val v, void *elem)
{
  struct husk_rlimit *r = elem;

  if (sj_object (c, v) < 0
      || field_name (c, v, "type", REQ, "rlimit", spec_rlimit_from_name, NULL, &r->resource) < 0
      || sj_field_u64 (c, v, "hard", REQ, NULL, &r->hard) < 0
      || sj_field_u64 (c, v, "soft", REQ, NULL, &r->soft) < 0)
    return -1;
  return 0;
}

static int
parse_capabilities (struct sj *c, yajl_val v, void *p)
{
  struct husk_capabilities *caps = p;
  const struct
  {
    const char *key;
    uint64_t *mask;
  } sets[] = {
    { "bounding", &caps->bounding },   { "effective", &caps->effective },
    { "inheritable", &caps->inheritable }, { "permitted", &caps->permitted },
    { "ambient", &caps->ambient },
  };

  for (size_t i = 0; i < ARRAY_SIZE (sets); i++)
    if (field_name_bits (c, v, sets[i].key, "capability", spec_cap_from_name, true, sets[i].mask)
        < 0)
      return -1;
  return 0;
}

static int
parse_scheduler (struct sj *c, yajl_val v, void *p)
{
  struct husk_scheduler *s = p;
  uint64_t flags = 0;

  if (field_name (c, v, "policy", REQ, "scheduler policy", spec_sched_policy_from_name, NULL,
                  &s->policy)
          < 0
      || sj_field_i32 (c, v, "nice", OPT, &s->has_nice, &s->nice) < 0
      || sj_field_i32 (c, v, "priority", OPT, &s->has_priority, &s->priority) < 0
      || field_name_bits (c, v, "flags", "scheduler flag", spec_sched_flag_from_name, false, &flags)
             < 0
      || sj_field_u64 (c, v, "runtime", OPT, &s->has_runtime, &s->runtime) < 0
      || sj_field_u64 (c, v, "deadline", OPT, &s->has_deadline, &s->deadline) < 0
      || sj_field_u64 (c, v, "period", OPT, &s->has_period, &s->period) < 0)
    return -1;
  s->flags = (uint32_t) flags;
  return 0;
}

static int
parse_io_priority (struct sj *c, yajl_val v, void *p)
{
  struct husk_io_priority *io = p;
  int32_t prio = 0;

  if (field_name (c, v, "class", REQ, "ioPriority class", spec_ioprio_class_from_name, NULL,
                  &io->class)
          < 0
      || sj_field_i32 (c, v, "priority", REQ, NULL, &prio) < 0)
    return -1;
  io->priority = prio;
  return 0;
}

static int
parse_exec_cpu_affinity (struct sj *c, yajl_val v, void *p)
{
  struct husk_exec_cpu_affinity *a = p;

  if (sj_field_string (c, v, "initial", OPT, &a->initial) < 0
      || sj_field_string (c, v, "final", OPT, &a->final) < 0)
    return -1;
  return 0;
}

static int
parse_user (struct sj *c, yajl_val v, struct husk_user *u)
{
  yajl_val gids;

  if (sj_field_u32 (c, v, "uid", REQ, NULL, &u->uid) < 0
      || sj_field_u32 (c, v, "gid", REQ, NULL, &u->gid) < 0
      || sj_field_u32 (c, v, "umask", OPT, &u->has_umask, &u->umask) < 0
      || sj_field_array (c, v, "additionalGids", OPT, &gids) < 0)
    return -1;
  if (gids == NULL)
    return 0;
  u->additional_gids = xcalloc (gids->u.array.len, sizeof *u->additional_gids);
  u->n_additional_gids = gids->u.array.len;
  for (size_t i = 0; i < gids->u.array.len; i++)
    {
      int64_t gid;
      size_t mark = sj_push_key (c, "additionalGids");
      sj_push_index (c, i);
      if (sj_int (c, gids->u.array.values[i], 0, UINT32_MAX, "uint32", &gid) < 0)
        return -1;
      u->additional_gids[i] = (uint32_t) gid;
      sj_pop (c, mark);
    }
  return 0;
}

static int
parse_process (struct sj *c, yajl_val v, void *p)
{
  struct husk_process *pr = p;
  yajl_val o;
  int32_t oom = 0;

  if (sj_field_bool (c, v, "terminal", OPT, NULL, &pr->terminal) < 0
      || sj_field_object (c, v, "consoleSize", OPT, &o) < 0)
    return -1;
  if (o != NULL)
    {
      size_t mark = sj_push_key (c, "consoleSize");
      if (sj_field_u32 (c, o, "height", REQ, NULL, &pr->console_height) < 0
          || sj_field_u32 (c, o, "width", REQ, NULL, &pr->console_width) < 0)
        return -1;
      sj_pop (c, mark);
      pr->has_console_size = true;
    }
  if (sj_field_object (c, v, "user", OPT, &o) < 0)
    return -1;
  if (o != NULL)
    {
      size_t mark = sj_push_key (c, "user");
      if (parse_user (c, o, &pr->user) < 0)
        return -1;
      sj_pop (c, mark);
    }
  if (sj_field_strv (c, v, "args", OPT, NULL, &pr->args, &pr->n_args) < 0
      || sj_field_strv (c, v, "env", OPT, NULL, &pr->env, &pr->n_env) < 0
      || sj_field_string (c, v, "cwd", REQ, &pr->cwd) < 0
      || field_struct (c, v, "capabilities", sizeof *pr->capabilities, parse_capabilities,
                       &pr->capabilities)
             < 0
      || sj_field_array_of (c, v, "rlimits", OPT, sizeof *pr->rlimits, parse_rlimit, &pr->rlimits,
                            &pr->n_rlimits)
             < 0
      || sj_field_bool (c, v, "noNewPrivileges", OPT, NULL, &pr->no_new_privileges) < 0
      || sj_field_string (c, v, "apparmorProfile", OPT, &pr->apparmor_profile) < 0
      || sj_field_string (c, v, "selinuxLabel", OPT, &pr->selinux_label) < 0
      || sj_field_i32 (c, v, "oomScoreAdj", OPT, &pr->has_oom_score_adj, &oom) < 0
      || field_struct (c, v, "scheduler", sizeof *pr->scheduler, parse_scheduler, &pr->scheduler)
             < 0
      || field_struct (c, v, "ioPriority", sizeof *pr->io_priority, parse_io_priority,
                       &pr->io_priority)
             < 0
      || field_struct (c, v, "execCPUAffinity", sizeof *pr->exec_cpu_affinity,
                       parse_exec_cpu_affinity, &pr->exec_cpu_affinity)
             < 0)
    return -1;
  pr->oom_score_adj = oom;
  return 0;
}

static int
parse_hook (struct sj *c, yajl_val v, void *elem)
{
  struct husk_hook *h = elem;
  int32_t timeout = 0;

  if (sj_object (c, v) < 0 || sj_field_string (c, v, "path", REQ, &h->path) < 0
      || sj_field_strv (c, v, "args", OPT, NULL, &h->args, &h->n_args) < 0
      || sj_field_strv (c, v, "env", OPT, NULL, &h->env, &h->n_env) < 0
      || sj_field_i32 (c, v, "timeout", OPT, &h->has_timeout, &timeout) < 0)
    return -1;
  h->timeout = timeout;
  return 0;
}

static int
parse_hooks (struct sj *c, yajl_val v, void *p)
{
  struct husk_hooks *h = p;
  size_t sz = sizeof (struct husk_hook);

  if (sj_field_array_of (c, v, "prestart", OPT, sz, parse_hook, &h->prestart, &h->n_prestart) < 0
      || sj_field_array_of (c, v, "createRuntime", OPT, sz, parse_hook, &h->create_runtime,
                            &h->n_create_runtime)
             < 0
      || sj_field_array_of (c, v, "createContainer", OPT, sz, parse_hook, &h->create_container,
                            &h->n_create_container)
             < 0
      || sj_field_array_of (c, v, "startContainer", OPT, sz, parse_hook, &h->start_container,
                            &h->n_start_container)
             < 0
      || sj_field_array_of (c, v, "poststart", OPT, sz, parse_hook, &h->poststart, &h->n_poststart)
             < 0
      || sj_field_array_of (c, v, "poststop", OPT, sz, parse_hook, &h->poststop, &h->n_poststop)
             < 0)
    return -1;
  return 0;
}

/* A "key": "string value" member of annotations or resources.unified.  */
static int
parse_string_pair (struct sj *c, const char *key, yajl_val v, void *elem)
{
  struct husk_annotation *a = elem;

  a->key = xstrdup (key);
  return sj_string (c, v, &a->value);
}

/* ---- config-linux.md ----------------------------------------------------------------------- */

static int
parse_sysctl (struct sj *c, const char *key, yajl_val v, void *elem)
{
  struct husk_sysctl *s = elem;

  s->key = xstrdup (key);
  return sj_string (c, v, &s->value);
}

static int
parse_namespace (struct sj *c, yajl_val v, void *elem)
{
  struct husk_namespace *ns = elem;
  int type = 0;

  if (sj_object (c, v) < 0
      || field_name (c, v, "type", REQ, "namespace type", spec_ns_type_from_name, NULL, &type) < 0
      || sj_field_string (c, v, "path", OPT, &ns->path) < 0)
    return -1;
  ns->type = (enum husk_ns_type) type;
  return 0;
}

static int
parse_time_offsets (struct sj *c, yajl_val v, struct husk_linux *l)
{
  for (size_t i = 0; i < v->u.object.len; i++)
    {
      const char *clock = v->u.object.keys[i];
      yajl_val o = v->u.object.values[i];
      struct husk_time_offset *t;
      size_t mark;

      if (YAJL_IS_NULL (o))
        continue;
      if (strcmp (clock, "monotonic") == 0)
        t = &l->time_monotonic;
      else if (strcmp (clock, "boottime") == 0)
        t = &l->time_boottime;
      else
        return sj_fail (c, "unknown clock '%s'", clock);
      mark = sj_push_key (c, clock);
      if (sj_object (c, o) < 0 || sj_field_i64 (c, o, "secs", OPT, NULL, &t->secs) < 0
          || sj_field_u32 (c, o, "nanosecs", OPT, NULL, &t->nanosecs) < 0)
        return -1;
      t->present = true;
      sj_pop (c, mark);
    }
  return 0;
}

/* major/minor of a device node: absent is -1 (spec_validate() decides whether that is allowed).  */
static int
field_dev_number (struct sj *c, yajl_val obj, const char *key, bool required, int64_t *out)
{
  yajl_val v = sj_get (obj, key);
  size_t mark;

  *out = -1;
  if (v == NULL && !required)
    return 0;
  if (v == NULL)
    {
      sj_push_key (c, key);
      return sj_fail (c, "missing");
    }
  mark = sj_push_key (c, key);
  if (sj_int (c, v, 0, INT64_MAX, "a device number", out) < 0)
    return -1;
  sj_pop (c, mark);
  return 0;
}

static int
parse_device (struct sj *c, yajl_val v, void *elem)
{
  struct husk_device *d = elem;
  cleanup_free char *type = NULL;

  if (sj_object (c, v) < 0 || sj_field_string (c, v, "type", REQ, &type) < 0)
    return -1;
  if (strlen (type) != 1 || strchr ("cbup", type[0]) == NULL)
    {
      sj_push_key (c, "type");
      return sj_fail (c, "unknown device type '%s', expected c, b, u or p", type);
    }
  d->type = type[0];
  if (sj_field_string (c, v, "path", REQ, &d->path) < 0
      || field_dev_number (c, v, "major", OPT, &d->major) < 0
      || field_dev_number (c, v, "minor", OPT, &d->minor) < 0
      || sj_field_u32 (c, v, "fileMode", OPT, &d->has_file_mode, &d->file_mode) < 0
      || sj_field_u32 (c, v, "uid", OPT, &d->has_uid, &d->uid) < 0
      || sj_field_u32 (c, v, "gid", OPT, &d->has_gid, &d->gid) < 0)
    return -1;
  /* Some writers include the S_IFCHR/S_IFBLK type bits; the type is in "type" already.  */
  d->file_mode &= 07777;
  return 0;
}

static int
parse_device_rule (struct sj *c, yajl_val v, void *elem)
{
  struct husk_device_rule *r = elem;
  cleanup_free char *type = NULL;
  cleanup_free char *access = NULL;
  bool has_major, has_minor;

  if (sj_object (c, v) < 0 || sj_field_bool (c, v, "allow", REQ, NULL, &r->allow) < 0
      || sj_field_string (c, v, "type", OPT, &type) < 0
      || sj_field_i64 (c, v, "major", OPT, &has_major, &r->major) < 0
      || sj_field_i64 (c, v, "minor", OPT, &has_minor, &r->minor) < 0
      || sj_field_string (c, v, "access", OPT, &access) < 0)
    return -1;
  /* Absent and negative numbers are the "*" wildcard.  */
  if (!has_major || r->major < 0)
    r->major = -1;
  if (!has_minor || r->minor < 0)
    r->minor = -1;
  if (type == NULL)
    r->type = 'a';
  else if (strlen (type) != 1)
    {
      sj_push_key (c, "type");
      return sj_fail (c, "unknown device type '%s', expected a, c or b", type);
    }
  else
    r->type = type[0];
  if (access == NULL)
    strcpy (r->access, "rwm");
  else if (strlen (access) >= sizeof r->access)
    {
      sj_push_key (c, "access");
      return sj_fail (c, "invalid access '%s', expected a subset of 'rwm'", access);
    }
  else
    strcpy (r->access, access);
  return 0;
}

static int
parse_memory (struct sj *c, yajl_val v, void *p)
{
  struct husk_memory *m = p;

  if (sj_field_i64 (c, v, "limit", OPT, &m->has_limit, &m->limit) < 0
      || sj_field_i64 (c, v, "reservation", OPT, &m->has_reservation, &m->reservation) < 0
      || sj_field_i64 (c, v, "swap", OPT, &m->has_swap, &m->swap) < 0
      || sj_field_i64 (c, v, "kernel", OPT, &m->has_kernel, &m->kernel) < 0
      || sj_field_i64 (c, v, "kernelTCP", OPT, &m->has_kernel_tcp, &m->kernel_tcp) < 0
      || sj_field_u64 (c, v, "swappiness", OPT, &m->has_swappiness, &m->swappiness) < 0
      || sj_field_bool (c, v, "disableOOMKiller", OPT, &m->has_disable_oom_killer,
                        &m->disable_oom_killer)
             < 0
      || sj_field_bool (c, v, "useHierarchy", OPT, &m->has_use_hierarchy, &m->use_hierarchy) < 0
      || sj_field_bool (c, v, "checkBeforeUpdate", OPT, &m->has_check_before_update,
                        &m->check_before_update)
             < 0)
    return -1;
  return 0;
}

static int
parse_cpu (struct sj *c, yajl_val v, void *p)
{
  struct husk_cpu *cpu = p;

  if (sj_field_u64 (c, v, "shares", OPT, &cpu->has_shares, &cpu->shares) < 0
      || sj_field_i64 (c, v, "quota", OPT, &cpu->has_quota, &cpu->quota) < 0
      || sj_field_u64 (c, v, "burst", OPT, &cpu->has_burst, &cpu->burst) < 0
      || sj_field_u64 (c, v, "period", OPT, &cpu->has_period, &cpu->period) < 0
      || sj_field_i64 (c, v, "realtimeRuntime", OPT, &cpu->has_realtime_runtime,
                       &cpu->realtime_runtime)
             < 0
      || sj_field_u64 (c, v, "realtimePeriod", OPT, &cpu->has_realtime_period,
                       &cpu->realtime_period)
             < 0
      || sj_field_string (c, v, "cpus", OPT, &cpu->cpus) < 0
      || sj_field_string (c, v, "mems", OPT, &cpu->mems) < 0
      || sj_field_i64 (c, v, "idle", OPT, &cpu->has_idle, &cpu->idle) < 0)
    return -1;
  return 0;
}

static int
parse_weight_device (struct sj *c, yajl_val v, void *elem)
{
  struct husk_weight_device *w = elem;

  if (sj_object (c, v) < 0 || sj_field_i64 (c, v, "major", REQ, NULL, &w->major) < 0
      || sj_field_i64 (c, v, "minor", REQ, NULL, &w->minor) < 0
      || sj_field_u16 (c, v, "weight", OPT, &w->has_weight, &w->weight) < 0
      || sj_field_u16 (c, v, "leafWeight", OPT, &w->has_leaf_weight, &w->leaf_weight) < 0)
    return -1;
  return 0;
}

static int
parse_throttle_device (struct sj *c, yajl_val v, void *elem)
{
  struct husk_throttle_device *t = elem;

  if (sj_object (c, v) < 0 || sj_field_i64 (c, v, "major", REQ, NULL, &t->major) < 0
      || sj_field_i64 (c, v, "minor", REQ, NULL, &t->minor) < 0
      || sj_field_u64 (c, v, "rate", REQ, NULL, &t->rate) < 0)
    return -1;
  return 0;
}

static int
parse_block_io (struct sj *c, yajl_val v, void *p)
{
  struct husk_block_io *b = p;
  size_t tsz = sizeof (struct husk_throttle_device);

  if (sj_field_u16 (c, v, "weight", OPT, &b->has_weight, &b->weight) < 0
      || sj_field_u16 (c, v, "leafWeight", OPT, &b->has_leaf_weight, &b->leaf_weight) < 0
      || sj_field_array_of (c, v, "weightDevice", OPT, sizeof *b->weight_device,
                            parse_weight_device, &b->weight_device, &b->n_weight_device)
             < 0
      || sj_field_array_of (c, v, "throttleReadBpsDevice", OPT, tsz, parse_throttle_device,
                            &b->throttle_read_bps_device, &b->n_throttle_read_bps_device)
             < 0
      || sj_field_array_of (c, v, "throttleWriteBpsDevice", OPT, tsz, parse_throttle_device,
                            &b->throttle_write_bps_device, &b->n_throttle_write_bps_device)
             < 0
      || sj_field_array_of (c, v, "throttleReadIOPSDevice", OPT, tsz, parse_throttle_device,
                            &b->throttle_read_iops_device, &b->n_throttle_read_iops_device)
             < 0
      || sj_field_array_of (c, v, "throttleWriteIOPSDevice", OPT, tsz, parse_throttle_device,
                            &b->throttle_write_iops_device, &b->n_throttle_write_iops_device)
             < 0)
    return -1;
  return 0;
}

static int
parse_hugepage_limit (struct sj *c, yajl_val v, void *elem)
{
  struct husk_hugepage_limit *h = elem;

  if (sj_object (c, v) < 0 || sj_field_string (c, v, "pageSize", REQ, &h->page_size) < 0
      || sj_field_u64 (c, v, "limit", REQ, NULL, &h->limit) < 0)
    return -1;
  return 0;
}

static int
parse_net_priority (struct sj *c, yajl_val v, void *elem)
{
  struct husk_net_priority *np = elem;

  if (sj_object (c, v) < 0 || sj_field_string (c, v, "name", REQ, &np->name) < 0
      || sj_field_u32 (c, v, "priority", REQ, NULL, &np->priority) < 0)
    return -1;
  return 0;
}

static int
parse_network (struct sj *c, yajl_val v, void *p)
{
  struct husk_network *n = p;

  if (sj_field_u32 (c, v, "classID", OPT, &n->has_class_id, &n->class_id) < 0
      || sj_field_array_of (c, v, "priorities", OPT, sizeof *n->priorities, parse_net_priority,
                            &n->priorities, &n->n_priorities)
             < 0)
    return -1;
  return 0;
}

static int
parse_rdma (struct sj *c, const char *key, yajl_val v, void *elem)
{
  struct husk_rdma *r = elem;

  r->device = xstrdup (key);
  if (sj_object (c, v) < 0
      || sj_field_u32 (c, v, "hcaHandles", OPT, &r->has_hca_handles, &r->hca_handles) < 0
      || sj_field_u32 (c, v, "hcaObjects", OPT, &r->has_hca_objects, &r->hca_objects) < 0)
    return -1;
  return 0;
}

static int
parse_resources (struct sj *c, yajl_val v, void *p)
{
  struct husk_resources *r = p;
  yajl_val pids;

  if (sj_field_array_of (c, v, "devices", OPT, sizeof *r->devices, parse_device_rule, &r->devices,
                         &r->n_devices)
          < 0
      || field_struct (c, v, "memory", sizeof *r->memory, parse_memory, &r->memory) < 0
      || field_struct (c, v, "cpu", sizeof *r->cpu, parse_cpu, &r->cpu) < 0
      || sj_field_object (c, v, "pids", OPT, &pids) < 0)
    return -1;
  if (pids != NULL)
    {
      size_t mark = sj_push_key (c, "pids");
      if (sj_field_i64 (c, pids, "limit", REQ, &r->has_pids_limit, &r->pids_limit) < 0)
        return -1;
      sj_pop (c, mark);
    }
  if (field_struct (c, v, "blockIO", sizeof *r->block_io, parse_block_io, &r->block_io) < 0
      || sj_field_array_of (c, v, "hugepageLimits", OPT, sizeof *r->hugepage_limits,
                            parse_hugepage_limit, &r->hugepage_limits, &r->n_hugepage_limits)
             < 0
      || field_struct (c, v, "network", sizeof *r->network, parse_network, &r->network) < 0
      || sj_field_map_of (c, v, "rdma", OPT, sizeof *r->rdma, parse_rdma, &r->rdma, &r->n_rdma) < 0
      || sj_field_map_of (c, v, "unified", OPT, sizeof *r->unified, parse_string_pair, &r->unified,
                          &r->n_unified)
             < 0)
    return -1;
  return 0;
}

static int
parse_intel_rdt (struct sj *c, yajl_val v, void *p)
{
  struct husk_intel_rdt *rdt = p;
  yajl_val schemata = sj_get (v, "schemata");

  if (sj_field_string (c, v, "closID", OPT, &rdt->clos_id) < 0
      || sj_field_string (c, v, "l3CacheSchema", OPT, &rdt->l3_cache_schema) < 0
      || sj_field_string (c, v, "memBwSchema", OPT, &rdt->mem_bw_schema) < 0
      || sj_field_bool (c, v, "enableCMT", OPT, NULL, &rdt->enable_cmt) < 0
      || sj_field_bool (c, v, "enableMBM", OPT, NULL, &rdt->enable_mbm) < 0)
    return -1;
  /* The spec text says string, runtime-tools and runc write an array of lines: take both.  */
  if (schemata != NULL && YAJL_IS_STRING (schemata))
    {
      rdt->schemata = xcalloc (2, sizeof *rdt->schemata);
      rdt->schemata[0] = xstrdup (schemata->u.string);
      rdt->n_schemata = 1;
      return 0;
    }
  return sj_field_strv (c, v, "schemata", OPT, NULL, &rdt->schemata, &rdt->n_schemata);
}

static int
parse_seccomp_arg (struct sj *c, yajl_val v, void *elem)
{
  struct husk_seccomp_arg *a = elem;
  int op = 0;

  if (sj_object (c, v) < 0 || sj_field_u32 (c, v, "index", REQ, NULL, &a->index) < 0
      || sj_field_u64 (c, v, "value", REQ, NULL, &a->value) < 0
      || sj_field_u64 (c, v, "valueTwo", OPT, NULL, &a->value_two) < 0
      || field_name (c, v, "op", REQ, "seccomp operator", spec_seccomp_op_from_name, NULL, &op) < 0)
    return -1;
  a->op = (enum husk_seccomp_op) op;
  return 0;
}

static int
parse_seccomp_syscall (struct sj *c, yajl_val v, void *elem)
{
  struct husk_seccomp_syscall *s = elem;
  int action = 0;

  if (sj_object (c, v) < 0 || sj_field_strv (c, v, "names", REQ, NULL, &s->names, &s->n_names) < 0
      || field_name (c, v, "action", REQ, "seccomp action", spec_seccomp_action_from_name, NULL,
                     &action)
             < 0
      || sj_field_u32 (c, v, "errnoRet", OPT, &s->has_errno_ret, &s->errno_ret) < 0
      || sj_field_array_of (c, v, "args", OPT, sizeof *s->args, parse_seccomp_arg, &s->args,
                            &s->n_args)
             < 0)
    return -1;
  s->action = (enum husk_seccomp_action) action;
  return 0;
}

static int
parse_seccomp (struct sj *c, yajl_val v, void *p)
{
  struct husk_seccomp *s = p;
  int action = 0;

  if (field_name (c, v, "defaultAction", REQ, "seccomp action", spec_seccomp_action_from_name, NULL,
                  &action)
          < 0
      || sj_field_u32 (c, v, "defaultErrnoRet", OPT, &s->has_default_errno_ret,
                       &s->default_errno_ret)
             < 0
      || sj_field_strv (c, v, "architectures", OPT, NULL, &s->architectures, &s->n_architectures)
             < 0
      || sj_field_strv (c, v, "flags", OPT, &s->has_flags, &s->flags, &s->n_flags) < 0
      || sj_field_string (c, v, "listenerPath", OPT, &s->listener_path) < 0
      || sj_field_string (c, v, "listenerMetadata", OPT, &s->listener_metadata) < 0
      || sj_field_array_of (c, v, "syscalls", OPT, sizeof *s->syscalls, parse_seccomp_syscall,
                            &s->syscalls, &s->n_syscalls)
             < 0)
    return -1;
  s->default_action = (enum husk_seccomp_action) action;
  return 0;
}

static int
parse_personality (struct sj *c, yajl_val v, void *p)
{
  struct husk_personality *pe = p;

  if (sj_field_string (c, v, "domain", REQ, &pe->domain) < 0
      || sj_field_strv (c, v, "flags", OPT, NULL, &pe->flags, &pe->n_flags) < 0)
    return -1;
  return 0;
}

static int
parse_net_device (struct sj *c, const char *key, yajl_val v, void *elem)
{
  struct husk_net_device *d = elem;

  d->host_name = xstrdup (key);
  if (sj_object (c, v) < 0 || sj_field_string (c, v, "name", OPT, &d->name) < 0)
    return -1;
  return 0;
}

static int
parse_memory_policy (struct sj *c, yajl_val v, void *p)
{
  struct husk_memory_policy *m = p;

  if (sj_field_string (c, v, "mode", REQ, &m->mode) < 0
      || sj_field_string (c, v, "nodes", OPT, &m->nodes) < 0
      || sj_field_strv (c, v, "flags", OPT, NULL, &m->flags, &m->n_flags) < 0)
    return -1;
  return 0;
}

static int
parse_linux (struct sj *c, yajl_val v, void *p)
{
  struct husk_linux *l = p;
  yajl_val o;

  if (sj_field_array_of (c, v, "namespaces", OPT, sizeof *l->namespaces, parse_namespace,
                         &l->namespaces, &l->n_namespaces)
          < 0
      || sj_field_array_of (c, v, "uidMappings", OPT, sizeof *l->uid_mappings, parse_id_mapping,
                            &l->uid_mappings, &l->n_uid_mappings)
             < 0
      || sj_field_array_of (c, v, "gidMappings", OPT, sizeof *l->gid_mappings, parse_id_mapping,
                            &l->gid_mappings, &l->n_gid_mappings)
             < 0
      || sj_field_object (c, v, "timeOffsets", OPT, &o) < 0)
    return -1;
  if (o != NULL)
    {
      size_t mark = sj_push_key (c, "timeOffsets");
      if (parse_time_offsets (c, o, l) < 0)
        return -1;
      sj_pop (c, mark);
    }
  if (sj_field_array_of (c, v, "devices", OPT, sizeof *l->devices, parse_device, &l->devices,
                         &l->n_devices)
          < 0
      || sj_field_string (c, v, "cgroupsPath", OPT, &l->cgroups_path) < 0
      || field_struct (c, v, "resources", sizeof *l->resources, parse_resources, &l->resources) < 0
      || field_struct (c, v, "intelRdt", sizeof *l->intel_rdt, parse_intel_rdt, &l->intel_rdt) < 0
      || sj_field_map_of (c, v, "sysctl", OPT, sizeof *l->sysctl, parse_sysctl, &l->sysctl,
                          &l->n_sysctl)
             < 0
      || field_struct (c, v, "seccomp", sizeof *l->seccomp, parse_seccomp, &l->seccomp) < 0
      || sj_field_string (c, v, "rootfsPropagation", OPT, &l->rootfs_propagation) < 0
      || sj_field_strv (c, v, "maskedPaths", OPT, NULL, &l->masked_paths, &l->n_masked_paths) < 0
      || sj_field_strv (c, v, "readonlyPaths", OPT, NULL, &l->readonly_paths, &l->n_readonly_paths)
             < 0
      || sj_field_string (c, v, "mountLabel", OPT, &l->mount_label) < 0
      || field_struct (c, v, "personality", sizeof *l->personality, parse_personality,
                       &l->personality)
             < 0
      || sj_field_map_of (c, v, "netDevices", OPT, sizeof *l->net_devices, parse_net_device,
                          &l->net_devices, &l->n_net_devices)
             < 0
      || field_struct (c, v, "memoryPolicy", sizeof *l->memory_policy, parse_memory_policy,
                       &l->memory_policy)
             < 0)
    return -1;
  return 0;
}

static int
parse_spec (struct sj *c, yajl_val v, struct husk_spec *s)
{
  if (sj_object (c, v) < 0 || sj_field_string (c, v, "ociVersion", OPT, &s->oci_version) < 0
      || field_struct (c, v, "root", sizeof *s->root, parse_root, &s->root) < 0
      || sj_field_array_of (c, v, "mounts", OPT, sizeof *s->mounts, parse_mount, &s->mounts,
                            &s->n_mounts)
             < 0
      || field_struct (c, v, "process", sizeof *s->process, parse_process, &s->process) < 0
      || sj_field_string (c, v, "hostname", OPT, &s->hostname) < 0
      || sj_field_string (c, v, "domainname", OPT, &s->domainname) < 0
      || field_struct (c, v, "hooks", sizeof *s->hooks, parse_hooks, &s->hooks) < 0
      || sj_field_map_of (c, v, "annotations", OPT, sizeof *s->annotations, parse_string_pair,
                          &s->annotations, &s->n_annotations)
             < 0
      || field_struct (c, v, "linux", sizeof *s->linux, parse_linux, &s->linux) < 0)
    return -1;
  return 0;
}

struct husk_spec *
spec_parse (const char *text, size_t len, const char *file, struct husk_err *err)
{
  cleanup_spec struct husk_spec *spec = NULL;
  struct sj c;
  yajl_val tree;
  int r;

  sj_init (&c, file, err);
  tree = sj_parse (&c, text, len);
  if (tree == NULL)
    return NULL;
  spec = xcalloc (1, sizeof *spec);
  r = parse_spec (&c, tree, spec);
  yajl_tree_free (tree);
  if (r < 0)
    return NULL;
  return steal_ptr (&spec);
}

struct husk_spec *
spec_load (const char *path, struct husk_err *err)
{
  cleanup_free char *text = NULL;
  const char *base = strrchr (path, '/');
  size_t len = 0;

  text = read_file_at (AT_FDCWD, path, 4 << 20, &len, err);
  if (text == NULL)
    return NULL;
  return spec_parse (text, len, base != NULL ? base + 1 : path, err);
}

const struct husk_namespace *
spec_namespace (const struct husk_spec *spec, enum husk_ns_type type)
{
  if (spec == NULL || spec->linux == NULL)
    return NULL;
  for (size_t i = 0; i < spec->linux->n_namespaces; i++)
    if (spec->linux->namespaces[i].type == type)
      return &spec->linux->namespaces[i];
  return NULL;
}

/* ---- freeing ------------------------------------------------------------------------------- */

static void
free_pairs (struct husk_annotation *a, size_t n)
{
  for (size_t i = 0; a != NULL && i < n; i++)
    {
      free (a[i].key);
      free (a[i].value);
    }
  free (a);
}

static void
free_hooks (struct husk_hook *h, size_t n)
{
  for (size_t i = 0; h != NULL && i < n; i++)
    {
      free (h[i].path);
      strv_free (h[i].args);
      strv_free (h[i].env);
    }
  free (h);
}

static void
free_process (struct husk_process *p)
{
  if (p == NULL)
    return;
  free (p->user.additional_gids);
  strv_free (p->args);
  strv_free (p->env);
  free (p->cwd);
  free (p->capabilities);
  free (p->rlimits);
  free (p->apparmor_profile);
  free (p->selinux_label);
  free (p->scheduler);
  free (p->io_priority);
  if (p->exec_cpu_affinity != NULL)
    {
      free (p->exec_cpu_affinity->initial);
      free (p->exec_cpu_affinity->final);
      free (p->exec_cpu_affinity);
    }
  free (p);
}

static void
free_resources (struct husk_resources *r)
{
  if (r == NULL)
    return;
  free (r->devices);
  free (r->memory);
  if (r->cpu != NULL)
    {
      free (r->cpu->cpus);
      free (r->cpu->mems);
      free (r->cpu);
    }
  if (r->block_io != NULL)
    {
      free (r->block_io->weight_device);
      free (r->block_io->throttle_read_bps_device);
      free (r->block_io->throttle_write_bps_device);
      free (r->block_io->throttle_read_iops_device);
      free (r->block_io->throttle_write_iops_device);
      free (r->block_io);
    }
  for (size_t i = 0; r->hugepage_limits != NULL && i < r->n_hugepage_limits; i++)
    free (r->hugepage_limits[i].page_size);
  free (r->hugepage_limits);
  if (r->network != NULL)
    {
      for (size_t i = 0; r->network->priorities != NULL && i < r->network->n_priorities; i++)
        free (r->network->priorities[i].name);
      free (r->network->priorities);
      free (r->network);
    }
  for (size_t i = 0; r->rdma != NULL && i < r->n_rdma; i++)
    free (r->rdma[i].device);
  free (r->rdma);
  free_pairs (r->unified, r->n_unified);
  free (r);
}

static void
free_seccomp (struct husk_seccomp *s)
{
  if (s == NULL)
    return;
  strv_free (s->architectures);
  strv_free (s->flags);
  free (s->listener_path);
  free (s->listener_metadata);
  for (size_t i = 0; s->syscalls != NULL && i < s->n_syscalls; i++)
    {
      strv_free (s->syscalls[i].names);
      free (s->syscalls[i].args);
    }
  free (s->syscalls);
  free (s);
}

static void
free_linux (struct husk_linux *l)
{
  if (l == NULL)
    return;
  for (size_t i = 0; l->namespaces != NULL && i < l->n_namespaces; i++)
    free (l->namespaces[i].path);
  free (l->namespaces);
  free (l->uid_mappings);
  free (l->gid_mappings);
  for (size_t i = 0; l->devices != NULL && i < l->n_devices; i++)
    free (l->devices[i].path);
  free (l->devices);
  free (l->cgroups_path);
  free_resources (l->resources);
  if (l->intel_rdt != NULL)
    {
      free (l->intel_rdt->clos_id);
      free (l->intel_rdt->l3_cache_schema);
      free (l->intel_rdt->mem_bw_schema);
      strv_free (l->intel_rdt->schemata);
      free (l->intel_rdt);
    }
  for (size_t i = 0; l->sysctl != NULL && i < l->n_sysctl; i++)
    {
      free (l->sysctl[i].key);
      free (l->sysctl[i].value);
    }
  free (l->sysctl);
  free_seccomp (l->seccomp);
  free (l->rootfs_propagation);
  strv_free (l->masked_paths);
  strv_free (l->readonly_paths);
  free (l->mount_label);
  if (l->personality != NULL)
    {
      free (l->personality->domain);
      strv_free (l->personality->flags);
      free (l->personality);
    }
  for (size_t i = 0; l->net_devices != NULL && i < l->n_net_devices; i++)
    {
      free (l->net_devices[i].host_name);
      free (l->net_devices[i].name);
    }
  free (l->net_devices);
  if (l->memory_policy != NULL)
    {
      free (l->memory_policy->mode);
      free (l->memory_policy->nodes);
      strv_free (l->memory_policy->flags);
      free (l->memory_policy);
    }
  free (l);
}

void
spec_free (struct husk_spec *spec)
{
  if (spec == NULL)
    return;
  free (spec->oci_version);
  if (spec->root != NULL)
    {
      free (spec->root->path);
      free (spec->root);
    }
  for (size_t i = 0; spec->mounts != NULL && i < spec->n_mounts; i++)
    {
      free (spec->mounts[i].destination);
      free (spec->mounts[i].type);
      free (spec->mounts[i].source);
      strv_free (spec->mounts[i].options);
      free (spec->mounts[i].uid_mappings);
      free (spec->mounts[i].gid_mappings);
    }
  free (spec->mounts);
  free_process (spec->process);
  free (spec->hostname);
  free (spec->domainname);
  if (spec->hooks != NULL)
    {
      free_hooks (spec->hooks->prestart, spec->hooks->n_prestart);
      free_hooks (spec->hooks->create_runtime, spec->hooks->n_create_runtime);
      free_hooks (spec->hooks->create_container, spec->hooks->n_create_container);
      free_hooks (spec->hooks->start_container, spec->hooks->n_start_container);
      free_hooks (spec->hooks->poststart, spec->hooks->n_poststart);
      free_hooks (spec->hooks->poststop, spec->hooks->n_poststop);
      free (spec->hooks);
    }
  free_pairs (spec->annotations, spec->n_annotations);
  free_linux (spec->linux);
  free (spec);
}

void
cleanup_specp (struct husk_spec **spec)
{
  spec_free (*spec);
}
