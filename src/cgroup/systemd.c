/* The systemd cgroup driver (see systemd.h): cgroupsPath parsing, linux.resources -> unit
 * properties, an sd-bus client loaded with dlopen, and the pin process that starts a scope.  */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/close_range.h>

#include "cgroup/devices.h"
#include "cgroup/resources.h"
#include "cgroup/systemd.h"
#include "util.h"

#define FIELD "config.json: linux.cgroupsPath"
#define RES "config.json: linux.resources."
#define UNIT_NAME_MAX 255
#define DEFAULT_SLICE "system.slice"
#define DEFAULT_PREFIX "husk"
#define USEC_INFINITY UINT64_MAX
#define LIST_MAX 65536

/* ---- path parsing ---------------------------------------------------------------------------- */

/* The characters of unit names but ':' (the field separator of cgroupsPath).  */
static bool
unit_chars_valid (const char *s, size_t len)
{
  for (size_t i = 0; i < len; i++)
    {
      char c = s[i];
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'
            || c == '.' || c == '\\'))
        return false;
    }
  return true;
}

static bool
has_suffix (const char *s, const char *suffix)
{
  size_t n = strlen (s), m = strlen (suffix);
  return n >= m && strcmp (s + n - m, suffix) == 0;
}

bool
systemd_unit_name_valid (const char *name)
{
  size_t len = strlen (name);
  const char *dot = strrchr (name, '.');

  if (len == 0 || len > UNIT_NAME_MAX || dot == NULL || dot == name || dot[1] == '\0')
    return false;
  for (const char *p = name; *p != '\0'; p++)
    if (*p != ':' && !unit_chars_valid (p, 1))
      return false;
  return true;
}

bool
systemd_path_syntax (const char *cgroups_path)
{
  return cgroups_path != NULL && strchr (cgroups_path, ':') != NULL;
}

char *
systemd_expand_slice (const char *slice, struct husk_err *err)
{
  size_t len = strlen (slice), base;
  char *out, *o;

  if (!has_suffix (slice, ".slice") || strchr (slice, '/') != NULL || len > UNIT_NAME_MAX
      || !unit_chars_valid (slice, len))
    return husk_err_set (err, 0, "invalid slice name '%s'", slice), NULL;
  base = len - strlen (".slice");
  if (base == 1 && slice[0] == '-')
    return xstrdup (""); /* "-.slice", the root slice */
  /* Each '-' of the base ends a parent: "a-b-c" has components "a", "a-b", "a-b-c", none empty.  */
  if (base == 0 || slice[0] == '-' || slice[base - 1] == '-' || strstr (slice, "--") != NULL)
    return husk_err_set (err, 0, "invalid slice name '%s'", slice), NULL;
  /* At most one "/<prefix>.slice" per component: len components of at most len + 7 bytes.  */
  out = o = xmalloc ((len + 8) * (len + 1) + 1);
  for (size_t i = 0; i <= base; i++)
    if (i == base || slice[i] == '-')
      o += sprintf (o, "/%.*s.slice", (int) i, slice);
  *o = '\0';
  return out;
}

void
systemd_path_release (struct systemd_cgroup_path *p)
{
  free (p->slice);
  free (p->unit);
  free (p->path);
  p->slice = p->unit = p->path = NULL;
}

int
systemd_parse_path (const char *cgroups_path, const char *id, struct systemd_cgroup_path *out,
                    struct husk_err *err)
{
  cleanup_free char *spec = NULL;
  cleanup_free char *slice_path = NULL;
  const char *slice, *prefix, *name;
  char *c1, *c2;
  struct husk_err e;

  memset (out, 0, sizeof *out);
  spec = cgroups_path == NULL || *cgroups_path == '\0' ? xasprintf (":" DEFAULT_PREFIX ":%s", id)
                                                       : xstrdup (cgroups_path);
  c1 = strchr (spec, ':');
  c2 = c1 != NULL ? strchr (c1 + 1, ':') : NULL;
  if (c1 == NULL || c2 == NULL || strchr (c2 + 1, ':') != NULL)
    return husk_err_set (err, 0, FIELD ": expected \"slice:prefix:name\" for the systemd cgroup driver, got '%s'",
                         cgroups_path);
  *c1 = *c2 = '\0';
  slice = *spec != '\0' ? spec : DEFAULT_SLICE;
  prefix = c1 + 1;
  name = c2 + 1;

  slice_path = systemd_expand_slice (slice, &e);
  if (slice_path == NULL)
    return husk_err_set (err, 0, FIELD ": '%s': %s", cgroups_path, e.msg);
  if (*name == '\0')
    return husk_err_set (err, 0, FIELD ": '%s': the name (after the second ':') is empty", cgroups_path);
  if (!unit_chars_valid (prefix, strlen (prefix)) || !unit_chars_valid (name, strlen (name)))
    return husk_err_set (err, 0,
                         FIELD ": '%s': prefix and name may only hold letters, digits and \"-_.\\\"",
                         cgroups_path);

  if (has_suffix (name, ".slice"))
    {
      /* The container's own slice: systemd places it by its name alone.  */
      cleanup_free char *own = systemd_expand_slice (name, &e);
      if (own == NULL)
        return husk_err_set (err, 0, FIELD ": '%s': %s", cgroups_path, e.msg);
      if (*spec != '\0')
        {
          size_t n = strlen (slice_path);
          if (strncmp (own, slice_path, n) != 0 || own[n] != '/' || strchr (own + n + 1, '/') != NULL)
            return husk_err_set (err, 0,
                                 FIELD ": '%s': slice '%s' is not a child of '%s' (a slice's parent is "
                                 "the part of its name before the last '-')",
                                 cgroups_path, name, slice);
        }
      out->is_slice = true;
      out->unit = xstrdup (name);
      out->path = steal_ptr (&own);
    }
  else
    {
      out->unit = *prefix != '\0' ? xasprintf ("%s-%s.scope", prefix, name) : xasprintf ("%s.scope", name);
      out->path = xasprintf ("%s/%s", slice_path, out->unit);
    }
  if (!systemd_unit_name_valid (out->unit))
    {
      husk_err_set (err, 0, FIELD ": '%s': unit name '%s' is not valid (at most %d bytes)", cgroups_path,
                    out->unit, UNIT_NAME_MAX);
      systemd_path_release (out);
      return -1;
    }
  out->slice = xstrdup (slice);
  return 0;
}

/* ---- property mapping -------------------------------------------------------------------------- */

uint8_t *
systemd_list_bitmask (const char *list, size_t *n, struct husk_err *err)
{
  uint8_t *bits = NULL;
  size_t len = 0;
  const char *p = list;

  *n = 0;
  for (;;)
    {
      char *end;
      unsigned long lo, hi;
      if (*p < '0' || *p > '9')
        goto bad;
      lo = hi = strtoul (p, &end, 10);
      p = end;
      if (*p == '-')
        {
          p++;
          if (*p < '0' || *p > '9')
            goto bad;
          hi = strtoul (p, &end, 10);
          p = end;
        }
      if (hi < lo || hi >= LIST_MAX)
        goto bad;
      if (hi / 8 + 1 > len)
        {
          bits = xrealloc (bits, hi / 8 + 1);
          memset (bits + len, 0, hi / 8 + 1 - len);
          len = hi / 8 + 1;
        }
      for (unsigned long i = lo; i <= hi; i++)
        bits[i / 8] |= (uint8_t) (1u << (i % 8));
      if (*p == '\0' || (*p == '\n' && p[1] == '\0'))
        break;
      if (*p++ != ',')
        goto bad;
    }
  *n = len;
  return bits;

bad:
  free (bits);
  return husk_err_set (err, 0, "invalid list '%s'", list), NULL;
}

static struct systemd_prop *
prop_add (struct systemd_props *props, const char *name, const char *sig)
{
  struct systemd_prop *p;

  props->v = xrealloc (props->v, (props->n + 1) * sizeof *props->v);
  p = &props->v[props->n++];
  memset (p, 0, sizeof *p);
  p->name = name;
  p->sig = sig;
  return p;
}

static void
prop_bool (struct systemd_props *props, const char *name, bool v)
{
  prop_add (props, name, "b")->b = v;
}

static void
prop_u64 (struct systemd_props *props, const char *name, uint64_t v)
{
  prop_add (props, name, "t")->u64 = v;
}

static void
prop_str (struct systemd_props *props, const char *name, const char *v)
{
  prop_add (props, name, "s")->str = xstrdup (v);
}

void
systemd_props_release (struct systemd_props *props)
{
  for (size_t i = 0; i < props->n; i++)
    {
      struct systemd_prop *p = &props->v[i];
      free (p->str);
      free (p->u32s);
      free (p->bytes);
      for (size_t j = 0; p->devices != NULL && j < p->n; j++)
        free (p->devices[j].node);
      free (p->devices);
    }
  free (props->v);
  props->v = NULL;
  props->n = 0;
}

const struct systemd_prop *
systemd_props_find (const struct systemd_props *props, const char *name)
{
  for (size_t i = 0; i < props->n; i++)
    if (strcmp (props->v[i].name, name) == 0)
      return &props->v[i];
  return NULL;
}

/* Bytes, -1 meaning infinity.  */
static uint64_t
bytes_or_infinity (int64_t v)
{
  return v < 0 ? USEC_INFINITY : (uint64_t) v;
}

/* CPUQuotaPerSecUSec for quota Q us per period P us: Q * 1 s / P, rounded up to whole percents
 * (systemd stores the quota as a percentage, so anything finer would be lost).  */
static uint64_t
quota_per_sec (int64_t quota, uint64_t period)
{
  unsigned __int128 v;

  if (quota <= 0)
    return USEC_INFINITY;
  v = (unsigned __int128) quota * 1000000u / period;
  if (v % 10000 != 0)
    v = (v / 10000 + 1) * 10000;
  return v >= USEC_INFINITY ? USEC_INFINITY - 1 : (uint64_t) v;
}

static int
map_memory (const struct husk_memory *m, const struct systemd_map_opts *o, struct systemd_props *props,
            struct husk_err *err)
{
  if (m->has_limit && m->limit != 0)
    prop_u64 (props, o->v2 ? "MemoryMax" : "MemoryLimit", bytes_or_infinity (m->limit));
  if (!o->v2)
    return 0; /* reservation and swap: memory.soft_limit_in_bytes, memsw, through cgroupfs */
  if (m->has_reservation)
    prop_u64 (props, "MemoryLow", bytes_or_infinity (m->reservation));
  int64_t swap;
  int r = resources_v2_swap_max (m, &swap, err);
  if (r < 0)
    return -1;
  if (r > 0)
    prop_u64 (props, "MemorySwapMax", bytes_or_infinity (swap));
  return 0;
}

static int
map_cpuset (const char *name, const char *list, const char *field, struct systemd_props *props,
            struct husk_err *err)
{
  struct systemd_prop *p;
  size_t n;
  uint8_t *bits;

  if (list == NULL || *list == '\0')
    return 0;
  bits = systemd_list_bitmask (list, &n, err);
  if (bits == NULL)
    return husk_err_prefix (err, RES "%s", field);
  p = prop_add (props, name, "ay");
  p->bytes = bits;
  p->n = n;
  return 0;
}

static int
map_cpu (const struct husk_cpu *c, const struct systemd_map_opts *o, struct systemd_props *props,
         struct husk_err *err)
{
  bool recent = o->version == 0;
  bool period = c->has_period && c->period != 0;

  if (c->has_shares && c->shares != 0)
    {
      if (o->v2)
        prop_u64 (props, "CPUWeight", resources_shares_to_weight (c->shares));
      else
        prop_u64 (props, "CPUShares", c->shares);
    }
  if (c->has_quota || period)
    {
      /* CPUQuotaPeriodUSec= exists since systemd 242; older ones get the period through cgroupfs.  */
      if (period && (recent || o->version >= 242))
        prop_u64 (props, "CPUQuotaPeriodUSec", c->period);
      prop_u64 (props, "CPUQuotaPerSecUSec",
                quota_per_sec (c->has_quota ? c->quota : 0, period ? c->period : 100000));
    }
  /* AllowedCPUs=/AllowedMemoryNodes= (cgroup v2 cpuset) exist since systemd 244.  */
  if (o->v2 && (recent || o->version >= 244))
    {
      if (map_cpuset ("AllowedCPUs", c->cpus, "cpu.cpus", props, err) < 0
          || map_cpuset ("AllowedMemoryNodes", c->mems, "cpu.mems", props, err) < 0)
        return -1;
    }
  return 0;
}

/* ---- devices (cgroup v1) ---- */

static bool
overlap (int64_t a, int64_t b)
{
  return a < 0 || b < 0 || a == b;
}

/* True when a deny rule after RULES[I] may take away some of what it allows.  */
static bool
denied_later (const struct husk_device_rule *rules, size_t n, size_t i)
{
  const struct husk_device_rule *a = &rules[i];

  for (size_t j = i + 1; j < n; j++)
    {
      const struct husk_device_rule *d = &rules[j];
      if (d->allow || !(a->type == 'a' || d->type == 'a' || a->type == d->type))
        continue;
      if (overlap (a->major, d->major) && overlap (a->minor, d->minor) && strpbrk (a->access, d->access) != NULL)
        return true;
    }
  return false;
}

static void
device_add (struct systemd_prop *p, const char *node, const char *access)
{
  p->devices = xrealloc (p->devices, (p->n + 1) * sizeof *p->devices);
  p->devices[p->n].node = xstrdup (node);
  snprintf (p->devices[p->n].access, sizeof p->devices[p->n].access, "%s", access);
  p->n++;
}

/* DeviceAllow= entries for "char-NAME"/"block-NAME": each driver name /proc/devices gives MAJOR in
 * the section of TYPE.  systemd matches the name against /proc/devices again (a glob), so names with
 * glob characters or a '/' are left out.  */
static void
device_add_major (struct systemd_prop *p, const char *proc_devices, char type, int64_t major, const char *access)
{
  const char *section = type == 'c' ? "Character devices:" : "Block devices:";
  const char *s = proc_devices != NULL ? strstr (proc_devices, section) : NULL;

  if (s == NULL)
    return;
  s += strlen (section);
  while (*s == '\n')
    s++;
  while (*s != '\0' && *s != '\n')
    {
      const char *eol = strchrnul (s, '\n');
      char name[128];
      long m;
      if (sscanf (s, "%ld %127s", &m, name) == 2 && m == major && strpbrk (name, "/*?[]\\") == NULL)
        {
          cleanup_free char *node = xasprintf ("%s-%s", type == 'c' ? "char" : "block", name);
          device_add (p, node, access);
        }
      s = *eol == '\n' ? eol + 1 : eol;
    }
}

/* DevicePolicy= and DeviceAllow= for cgroup v1, where systemd rewrites devices.allow/deny of the
 * unit at each daemon-reload ("auto" with no entries means allow everything): the entries allow at
 * most what husk's rules allow.  A rule that systemd cannot express, or that a later deny rule may
 * narrow, is left out, so systemd may only ever allow less.  */
static void
map_devices_v1 (const struct husk_spec *spec, const struct systemd_map_opts *o, struct systemd_props *props)
{
  size_t n;
  cleanup_free struct husk_device_rule *rules = devices_effective_rules (spec, &n);
  cleanup_free char *owned = NULL;
  const char *proc_devices = o->proc_devices;
  struct systemd_prop *p;

  for (size_t i = 0; i < n; i++)
    if (rules[i].allow && rules[i].type == 'a' && rules[i].major < 0 && rules[i].minor < 0
        && strcmp (rules[i].access, "rwm") == 0 && !denied_later (rules, n, i))
      {
        prop_str (props, "DevicePolicy", "auto");
        return;
      }
  prop_str (props, "DevicePolicy", "strict");
  if (proc_devices == NULL)
    {
      struct husk_err ignored;
      proc_devices = owned = read_file_at (AT_FDCWD, "/proc/devices", 1 << 16, NULL, &ignored);
    }
  p = prop_add (props, "DeviceAllow", "a(ss)");
  for (size_t i = 0; i < n; i++)
    {
      const struct husk_device_rule *r = &rules[i];
      if (!r->allow || r->access[0] == '\0' || denied_later (rules, n, i))
        continue;
      for (int half = 0; half < 2; half++)
        {
          char type = half == 0 ? 'c' : 'b';
          const char *cls = half == 0 ? "char" : "block";
          if (r->type != 'a' && r->type != type)
            continue;
          if (r->major < 0 && r->minor < 0)
            {
              cleanup_free char *node = xasprintf ("%s-*", cls);
              device_add (p, node, r->access);
            }
          else if (r->major >= 0 && r->minor < 0)
            device_add_major (p, proc_devices, type, r->major, r->access);
          else if (r->major >= 0)
            {
              cleanup_free char *node = xasprintf ("/dev/%s/%" PRId64 ":%" PRId64, cls, r->major, r->minor);
              device_add (p, node, r->access);
            }
          /* "any major, one minor" has no systemd form: left out.  */
        }
    }
}

int
systemd_unit_properties (const struct systemd_cgroup_path *path, const struct husk_spec *spec,
                         const struct systemd_map_opts *o, struct systemd_props *out, struct husk_err *err)
{
  const struct husk_resources *r = spec->linux != NULL ? spec->linux->resources : NULL;

  memset (out, 0, sizeof *out);
  if (o->description != NULL)
    prop_str (out, "Description", o->description);
  if (!path->is_slice)
    {
      struct systemd_prop *p;
      prop_str (out, "Slice", path->slice);
      prop_bool (out, "Delegate", true);
      if (o->pid > 0)
        {
          p = prop_add (out, "PIDs", "au");
          p->u32s = xmalloc (sizeof *p->u32s);
          p->u32s[0] = (uint32_t) o->pid;
          p->n = 1;
        }
    }
  prop_bool (out, "DefaultDependencies", false);
  prop_bool (out, "MemoryAccounting", true);
  prop_bool (out, "CPUAccounting", true);
  prop_bool (out, "TasksAccounting", true);
  prop_bool (out, o->v2 ? "IOAccounting" : "BlockIOAccounting", true);

  if (r != NULL && r->memory != NULL && map_memory (r->memory, o, out, err) < 0)
    goto fail;
  if (r != NULL && r->cpu != NULL && map_cpu (r->cpu, o, out, err) < 0)
    goto fail;
  if (r != NULL && r->has_pids_limit)
    prop_u64 (out, "TasksMax", r->pids_limit <= 0 ? USEC_INFINITY : (uint64_t) r->pids_limit);
  if (r != NULL && r->block_io != NULL && r->block_io->has_weight && r->block_io->weight != 0)
    {
      if (o->v2)
        prop_u64 (out, "IOWeight", resources_blkio_to_io_weight (r->block_io->weight));
      else
        prop_u64 (out, "BlockIOWeight", r->block_io->weight);
    }
  /* cgroup v2: husk's eBPF program is the allowlist; with no DeviceAllow= and DevicePolicy=auto
   * systemd attaches none of its own (one would only narrow husk's).  */
  if (!o->v2)
    map_devices_v1 (spec, o, out);
  return 0;

fail:
  systemd_props_release (out);
  return -1;
}

/* ---- the bus ----------------------------------------------------------------------------------- */

/* sd-bus's public ABI, declared here so that building husk needs no libsystemd headers.  */
typedef struct
{
  const char *name;
  const char *message;
  int need_free;
} sd_error;

typedef int (*sd_handler) (void *msg, void *userdata, sd_error *ret_error);

static struct
{
  int (*open_system) (void **bus);
  void *(*flush_close_unref) (void *bus);
  int (*new_method_call) (void *bus, void **msg, const char *dest, const char *path, const char *iface,
                          const char *member);
  int (*append) (void *msg, const char *types, ...);
  int (*append_basic) (void *msg, char type, const void *p);
  int (*append_array) (void *msg, char type, const void *ptr, size_t size);
  int (*open_container) (void *msg, char type, const char *contents);
  int (*close_container) (void *msg);
  int (*call) (void *bus, void *msg, uint64_t usec, sd_error *ret_error, void **reply);
  int (*read) (void *msg, const char *types, ...);
  void *(*message_unref) (void *msg);
  int (*add_match) (void *bus, void **slot, const char *match, sd_handler cb, void *userdata);
  void *(*slot_unref) (void *slot);
  int (*process) (void *bus, void **msg);
  int (*wait) (void *bus, uint64_t timeout_usec);
  void (*error_free) (sd_error *e);
  int (*get_property_string) (void *bus, const char *dest, const char *path, const char *iface,
                              const char *member, sd_error *ret_error, char **ret);
} sd;

static const struct
{
  const char *symbol;
  size_t offset;
} sd_symbols[] = {
  { "sd_bus_open_system", offsetof (__typeof__ (sd), open_system) },
  { "sd_bus_flush_close_unref", offsetof (__typeof__ (sd), flush_close_unref) },
  { "sd_bus_message_new_method_call", offsetof (__typeof__ (sd), new_method_call) },
  { "sd_bus_message_append", offsetof (__typeof__ (sd), append) },
  { "sd_bus_message_append_basic", offsetof (__typeof__ (sd), append_basic) },
  { "sd_bus_message_append_array", offsetof (__typeof__ (sd), append_array) },
  { "sd_bus_message_open_container", offsetof (__typeof__ (sd), open_container) },
  { "sd_bus_message_close_container", offsetof (__typeof__ (sd), close_container) },
  { "sd_bus_call", offsetof (__typeof__ (sd), call) },
  { "sd_bus_message_read", offsetof (__typeof__ (sd), read) },
  { "sd_bus_message_unref", offsetof (__typeof__ (sd), message_unref) },
  { "sd_bus_add_match", offsetof (__typeof__ (sd), add_match) },
  { "sd_bus_slot_unref", offsetof (__typeof__ (sd), slot_unref) },
  { "sd_bus_process", offsetof (__typeof__ (sd), process) },
  { "sd_bus_wait", offsetof (__typeof__ (sd), wait) },
  { "sd_bus_error_free", offsetof (__typeof__ (sd), error_free) },
  { "sd_bus_get_property_string", offsetof (__typeof__ (sd), get_property_string) },
};

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define PFX "systemd cgroup driver: "
#define CONNECT PFX "cannot connect to the system bus"
#define JOB_TIMEOUT_USEC (30ull * 1000 * 1000)
#define CALL_TIMEOUT_USEC (25ull * 1000 * 1000)

static const char *sd_soname = "libsystemd.so.0";
static void *sd_handle;

void
systemd_library_override (const char *soname)
{
  sd_soname = soname != NULL ? soname : "libsystemd.so.0";
}

bool
systemd_library_loaded (void)
{
  return sd_handle != NULL;
}

/* dlopen libsystemd and resolve the functions above, once.  */
static int
sd_load (struct husk_err *err)
{
  void *h;

  if (sd_handle != NULL)
    return 0;
  h = dlopen (sd_soname, RTLD_LAZY | RTLD_LOCAL);
  if (h == NULL)
    return husk_err_set (err, 0, CONNECT ": %s", dlerror ());
  for (size_t i = 0; i < ARRAY_SIZE (sd_symbols); i++)
    {
      void *f = dlsym (h, sd_symbols[i].symbol);
      if (f == NULL)
        {
          husk_err_set (err, 0, CONNECT ": '%s' has no '%s'", sd_soname, sd_symbols[i].symbol);
          (void) dlclose (h);
          memset (&sd, 0, sizeof sd);
          return -1;
        }
      memcpy ((char *) &sd + sd_symbols[i].offset, &f, sizeof f);
    }
  sd_handle = h;
  return 0;
}

struct systemd_bus
{
  void *bus;
  unsigned version;
};

/* An sd-bus failure R (negative errno) with E (may be empty) into ERR, after the printf-style
 * context.  A D-Bus error reply gives "context: message (name)"; a local failure gives the errno.  */
static int __attribute__ ((format (printf, 4, 5)))
bus_error (struct husk_err *err, int r, const sd_error *e, const char *fmt, ...)
{
  char ctx[512];
  va_list ap;

  va_start (ap, fmt);
  (void) vsnprintf (ctx, sizeof ctx, fmt, ap);
  va_end (ap);
  if (e != NULL && e->name != NULL && !has_prefix (e->name, "System.Error."))
    return husk_err_set (err, 0, "%s: %s (%s)", ctx, e->message != NULL ? e->message : "", e->name);
  return husk_err_set (err, r < 0 ? -r : EIO, "%s", ctx);
}

static bool
error_is (const sd_error *e, const char *name)
{
  return e->name != NULL && strcmp (e->name, name) == 0;
}

/* "252.39-1~deb12u2", "v255" -> 252, 255; 0 when there is no number.  */
static unsigned
parse_version (const char *s)
{
  while (*s != '\0' && (*s < '0' || *s > '9'))
    s++;
  return (unsigned) strtoul (s, NULL, 10);
}

struct systemd_bus *
systemd_bus_open (struct husk_err *err)
{
  struct systemd_bus *b;
  sd_error e = { 0 };
  char *version = NULL;
  void *bus = NULL;
  int r;

  if (sd_load (err) < 0)
    return NULL;
  r = sd.open_system (&bus);
  if (r < 0)
    return husk_err_set (err, -r, CONNECT), NULL;
  /* The first call completes the connection (authentication, Hello) and proves systemd is there.  */
  r = sd.get_property_string (bus, SD_DEST, SD_PATH, SD_MANAGER, "Version", &e, &version);
  if (r < 0 && (e.name == NULL || has_prefix (e.name, "System.Error.")))
    bus_error (err, r, &e, CONNECT);
  else if (r < 0 && (error_is (&e, "org.freedesktop.DBus.Error.ServiceUnknown")
                     || error_is (&e, "org.freedesktop.DBus.Error.NameHasNoOwner")
                     || has_prefix (e.name, "org.freedesktop.DBus.Error.Spawn.")))
    /* No systemd: nothing owns its name, or dbus-daemon failed to start the placeholder service
     * file systemd's package installs (Exec=/bin/false).  */
    bus_error (err, r, &e, PFX "systemd does not answer on the system bus");
  else
    {
      b = xcalloc (1, sizeof *b);
      b->bus = bus;
      b->version = version != NULL ? parse_version (version) : 0;
      free (version);
      sd.error_free (&e);
      return b;
    }
  sd.error_free (&e);
  (void) sd.flush_close_unref (bus);
  return NULL;
}

unsigned
systemd_bus_version (const struct systemd_bus *bus)
{
  return bus != NULL ? bus->version : 0;
}

void
systemd_bus_close (struct systemd_bus *bus)
{
  if (bus == NULL)
    return;
  (void) sd.flush_close_unref (bus->bus);
  free (bus);
}

/* One (sv) entry of StartTransientUnit's property array.  */
static int
append_prop (void *m, const struct systemd_prop *p)
{
  int r;

  if (strcmp (p->sig, "b") == 0)
    return sd.append (m, "(sv)", p->name, "b", (int) p->b);
  if (strcmp (p->sig, "t") == 0)
    return sd.append (m, "(sv)", p->name, "t", p->u64);
  if (strcmp (p->sig, "s") == 0)
    return sd.append (m, "(sv)", p->name, "s", p->str);
  if ((r = sd.open_container (m, 'r', "sv")) < 0 || (r = sd.append_basic (m, 's', p->name)) < 0
      || (r = sd.open_container (m, 'v', p->sig)) < 0)
    return r;
  if (strcmp (p->sig, "au") == 0)
    r = sd.append_array (m, 'u', p->u32s, p->n * sizeof *p->u32s);
  else if (strcmp (p->sig, "ay") == 0)
    r = sd.append_array (m, 'y', p->bytes, p->n);
  else if (strcmp (p->sig, "a(ss)") == 0)
    {
      if ((r = sd.open_container (m, 'a', "(ss)")) < 0)
        return r;
      for (size_t i = 0; i < p->n && r >= 0; i++)
        r = sd.append (m, "(ss)", p->devices[i].node, p->devices[i].access);
      if (r >= 0)
        r = sd.close_container (m);
    }
  else
    r = -EINVAL;
  if (r < 0 || (r = sd.close_container (m)) < 0)
    return r;
  return sd.close_container (m);
}

/* JobRemoved signals seen for one unit, until its job's is there.  */
struct job_wait
{
  const char *unit;
  struct
  {
    char *job;
    char *result;
  } seen[8];
  size_t n_seen;
};

static int
on_job_removed (void *msg, void *userdata, sd_error *ret_error)
{
  struct job_wait *w = userdata;
  const char *job, *unit, *result;
  uint32_t id;

  if (sd.read (msg, "uoss", &id, &job, &unit, &result) < 0 || strcmp (unit, w->unit) != 0)
    return 0;
  if (w->n_seen == ARRAY_SIZE (w->seen))
    {
      free (w->seen[0].job);
      free (w->seen[0].result);
      memmove (&w->seen[0], &w->seen[1], sizeof w->seen - sizeof w->seen[0]);
      w->n_seen--;
    }
  w->seen[w->n_seen].job = xstrdup (job);
  w->seen[w->n_seen++].result = xstrdup (result);
  return 0;
}

static uint64_t
now_usec (void)
{
  struct timespec ts;
  (void) clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

/* Call Manager.METHOD(UNIT, MODE[, PROPS, []]) and wait for the job's JobRemoved.  Returns 0 when
 * the job ends "done", 1 when systemd does not know UNIT (OK_MISSING), or -1 with ERR.  */
static int
unit_job (struct systemd_bus *b, const char *method, const char *unit, const char *mode,
          const struct systemd_props *props, bool ok_missing, struct husk_err *err)
{
  const char *verb = props != NULL ? "start" : "stop";
  struct job_wait w = { .unit = unit };
  void *slot = NULL, *m = NULL, *reply = NULL;
  sd_error e = { 0 };
  const char *job;
  uint64_t deadline;
  int r, ret = -1;

  r = sd.add_match (b->bus, &slot,
                    "type='signal',sender='" SD_DEST "',path='" SD_PATH "',interface='" SD_MANAGER
                    "',member='JobRemoved'",
                    on_job_removed, &w);
  if (r < 0)
    {
      bus_error (err, r, NULL, PFX "%s unit '%s': subscribe to JobRemoved", verb, unit);
      goto out;
    }
  r = sd.new_method_call (b->bus, &m, SD_DEST, SD_PATH, SD_MANAGER, method);
  if (r >= 0)
    r = sd.append (m, "ss", unit, mode);
  if (r >= 0 && props != NULL)
    {
      r = sd.open_container (m, 'a', "(sv)");
      for (size_t i = 0; i < props->n && r >= 0; i++)
        {
          r = append_prop (m, &props->v[i]);
          if (r < 0)
            {
              bus_error (err, r, NULL, PFX "%s unit '%s': property '%s'", verb, unit, props->v[i].name);
              goto out;
            }
        }
      if (r >= 0)
        r = sd.close_container (m);
      if (r >= 0)
        r = sd.append (m, "a(sa(sv))", 0); /* no auxiliary units */
    }
  if (r < 0)
    {
      bus_error (err, r, NULL, PFX "%s unit '%s': build the %s call", verb, unit, method);
      goto out;
    }
  r = sd.call (b->bus, m, CALL_TIMEOUT_USEC, &e, &reply);
  if (r < 0)
    {
      if (ok_missing && (error_is (&e, "org.freedesktop.systemd1.NoSuchUnit")
                         || error_is (&e, "org.freedesktop.systemd1.LoadFailed")))
        ret = 1;
      else
        bus_error (err, r, &e, PFX "%s unit '%s'", verb, unit);
      goto out;
    }
  r = sd.read (reply, "o", &job);
  if (r < 0)
    {
      bus_error (err, r, NULL, PFX "%s unit '%s': read the reply", verb, unit);
      goto out;
    }
  deadline = now_usec () + JOB_TIMEOUT_USEC;
  for (;;)
    {
      for (size_t i = 0; i < w.n_seen; i++)
        if (strcmp (w.seen[i].job, job) == 0)
          {
            if (strcmp (w.seen[i].result, "done") == 0)
              ret = 0;
            else
              husk_err_set (err, 0, PFX "%s unit '%s': job %s ended '%s'", verb, unit, job, w.seen[i].result);
            goto out;
          }
      r = sd.process (b->bus, NULL);
      if (r > 0)
        continue;
      uint64_t now = now_usec ();
      if (r == 0 && now >= deadline)
        {
          husk_err_set (err, ETIMEDOUT, PFX "%s unit '%s': waiting for job %s", verb, unit, job);
          goto out;
        }
      if (r == 0)
        r = sd.wait (b->bus, deadline - now);
      if (r < 0)
        {
          bus_error (err, r, NULL, PFX "%s unit '%s': waiting for job %s", verb, unit, job);
          goto out;
        }
    }

out:
  for (size_t i = 0; i < w.n_seen; i++)
    {
      free (w.seen[i].job);
      free (w.seen[i].result);
    }
  sd.error_free (&e);
  if (reply != NULL)
    (void) sd.message_unref (reply);
  if (m != NULL)
    (void) sd.message_unref (m);
  if (slot != NULL)
    (void) sd.slot_unref (slot);
  return ret;
}

int
systemd_bus_start_unit (struct systemd_bus *bus, const char *unit, const struct systemd_props *props,
                        struct husk_err *err)
{
  static const struct systemd_props none = { 0 };
  return unit_job (bus, "StartTransientUnit", unit, "fail", props != NULL ? props : &none, false, err);
}

int
systemd_bus_stop_unit (struct systemd_bus *bus, const char *unit, struct husk_err *err)
{
  return unit_job (bus, "StopUnit", unit, "replace", NULL, true, err) < 0 ? -1 : 0;
}

/* ---- the pin process --------------------------------------------------------------------------- */

/* The pin itself: keep only READ_FD, wait for EOF on it (or a signal), exit.  */
static void __attribute__ ((noreturn))
pin_main (int read_fd)
{
  char c;

  signals_reset_default ();
  (void) prctl (PR_SET_NAME, "husk-pin", 0, 0, 0);
  if (read_fd > 0)
    (void) syscall (SYS_close_range, 0, (unsigned) read_fd - 1, 0);
  (void) syscall (SYS_close_range, (unsigned) read_fd + 1, ~0u, 0);
  while (read (read_fd, &c, 1) < 0 && errno == EINTR)
    ;
  _exit (0);
}

int
systemd_pin_start (struct systemd_pin *pin, struct husk_err *err)
{
  int keep[2] = { -1, -1 }, report[2] = { -1, -1 };
  pid_t mid, pid = -1;
  int status, saved;

  *pin = (struct systemd_pin) SYSTEMD_PIN_NONE;
  if (pipe2 (keep, O_CLOEXEC) < 0)
    return husk_err_set (err, errno, PFX "pipe for the scope's first process");
  if (pipe2 (report, O_CLOEXEC) < 0)
    {
      saved = errno;
      (void) close (keep[0]);
      (void) close (keep[1]);
      return husk_err_set (err, saved, PFX "pipe for the scope's first process");
    }
  /* Fork twice so that the pin is nobody's child here: init (or the subreaper) reaps it.  */
  mid = fork ();
  if (mid == 0)
    {
      pid_t p = fork ();
      if (p == 0)
        pin_main (keep[0]);
      if (p < 0)
        p = -errno;
      (void) write_all (report[1], &p, sizeof p);
      _exit (0);
    }
  saved = errno;
  (void) close (keep[0]);
  (void) close (report[1]);
  if (mid > 0)
    {
      ssize_t n;
      while ((n = read (report[0], &pid, sizeof pid)) < 0 && errno == EINTR)
        ;
      if (n != (ssize_t) sizeof pid)
        pid = -EIO;
      while (waitpid (mid, &status, 0) < 0 && errno == EINTR)
        ;
    }
  (void) close (report[0]);
  if (mid < 0 || pid < 0)
    {
      (void) close (keep[1]);
      return husk_err_set (err, mid < 0 ? saved : -pid, PFX "fork the scope's first process");
    }
  /* The pin cannot exit (nor be reaped) before keep[1] is closed or it is killed: the pid is its.  */
  pin->pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
  if (pin->pidfd < 0)
    {
      saved = errno;
      (void) close (keep[1]);
      return husk_err_set (err, saved, PFX "pidfd_open of the scope's first process %d", (int) pid);
    }
  pin->pid = pid;
  pin->keep_fd = keep[1];
  return 0;
}

void
systemd_pin_kill (const struct systemd_pin *pin)
{
  if (pin->pidfd >= 0)
    (void) syscall (SYS_pidfd_send_signal, pin->pidfd, SIGKILL, NULL, 0);
}

void
systemd_pin_release (struct systemd_pin *pin)
{
  systemd_pin_kill (pin);
  if (pin->pidfd >= 0)
    (void) close (pin->pidfd);
  if (pin->keep_fd >= 0)
    (void) close (pin->keep_fd);
  *pin = (struct systemd_pin) SYSTEMD_PIN_NONE;
}

char *
systemd_pid_cgroup (pid_t pid, bool legacy, struct husk_err *err)
{
  cleanup_free char *file = xasprintf ("/proc/%d/cgroup", (int) pid);
  cleanup_free char *text = read_file_at (AT_FDCWD, file, 1 << 16, NULL, err);
  const char *want = legacy ? ":name=systemd:" : "0::";

  if (text == NULL)
    return NULL;
  for (char *line = text, *next; line != NULL && *line != '\0'; line = next)
    {
      next = strchr (line, '\n');
      if (next != NULL)
        *next++ = '\0';
      char *hit = strstr (line, want);
      if (hit != NULL && (legacy || hit == line))
        return xstrdup (hit + strlen (want));
    }
  return husk_err_set (err, 0, "no '%s' line in '%s'", want, file), NULL;
}
