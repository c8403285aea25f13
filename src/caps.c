/* Capabilities and no_new_privs: config.md "Linux process" capabilities and noNewPrivileges.
 *
 * What the process ends up with after execve is the kernel's computation (capabilities(7),
 * "Transformation of capabilities during execve()"), not just what caps_apply() set:
 *
 * - uid 0 (no SECBIT_NOROOT): the new program is treated as having every file capability, so
 *   permitted = effective = bounding | inheritable (| ambient).  With the usual configuration
 *   (bounding == effective == permitted, no inheritable) that is exactly the configured set; the
 *   bounding set is what really limits a root process.
 * - any other uid, program without file capabilities: permitted = effective = ambient.  That is why
 *   the ambient set exists; a non-root process with an empty ambient set runs without capabilities
 *   (what runc and crun give too).
 * - CapBnd and CapInh are kept as set here; the ambient set is kept unless the program is setuid or
 *   has file capabilities.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "caps.h"
#include "util.h"

int
caps_last_cap (void)
{
  cap_value_t bits = cap_max_bits ();
  int value;
  cleanup_free char *text = NULL;
  struct husk_err err;

  if (bits > 0)
    return (int) bits - 1;
  /* libcap could not tell: ask procfs.  */
  text = read_file_at (-1, "/proc/sys/kernel/cap_last_cap", 64, NULL, &err);
  if (text != NULL && sscanf (text, "%d", &value) == 1 && value >= 0 && value < 64)
    return value;
  return CAP_LAST_CAP;
}

/* "CAP_NET_RAW" for CAP, or "capability N" when libcap has no name for it; free the result.  */
static char *
cap_label (int cap)
{
  char *name = cap_to_name ((cap_value_t) cap);
  char *label;

  if (name == NULL)
    return xasprintf ("capability %d", cap);
  for (char *p = name; *p != '\0'; p++)
    if (*p >= 'a' && *p <= 'z')
      *p = (char) (*p - 'a' + 'A');
  label = has_prefix (name, "CAP_") ? xstrdup (name) : xasprintf ("capability %d", cap);
  cap_free (name);
  return label;
}

/* Warn about bits of MASK above LAST (not known to this kernel); FIELD names the set.  Returns MASK
 * without them.  */
static uint64_t
known_caps (uint64_t mask, int last, const char *field)
{
  uint64_t known = last >= 63 ? UINT64_MAX : (UINT64_C (1) << (last + 1)) - 1;

  for (int cap = last + 1; cap < 64; cap++)
    if (mask & (UINT64_C (1) << cap))
      husk_warn ("config.json: process.capabilities.%s: capability %d is not known to this kernel (the last is %d), "
                 "ignoring",
                 field, cap, last);
  return mask & known;
}

int
caps_drop_bounding (const struct husk_capabilities *caps, struct husk_err *err)
{
  int last = caps_last_cap ();
  uint64_t keep = known_caps (caps != NULL ? caps->bounding : 0, last, "bounding");

  for (int cap = 0; cap <= last; cap++)
    {
      int in;

      if (keep & (UINT64_C (1) << cap))
        continue;
      in = prctl (PR_CAPBSET_READ, (unsigned long) cap, 0, 0, 0);
      if (in < 0 && errno == EINVAL)
        continue; /* not known to this kernel after all */
      if (in == 0)
        continue;
      if (prctl (PR_CAPBSET_DROP, (unsigned long) cap, 0, 0, 0) < 0)
        {
          cleanup_free char *label = cap_label (cap);
          return husk_err_set (err, errno, "drop '%s' from the bounding set", label);
        }
    }
  return 0;
}

/* Set FLAG of CAPS to the capabilities in MASK.  */
static int
set_flag (cap_t caps, cap_flag_t flag, uint64_t mask)
{
  cap_value_t values[64];
  int n = 0;

  for (int cap = 0; cap < 64; cap++)
    if (mask & (UINT64_C (1) << cap))
      values[n++] = (cap_value_t) cap;
  if (n == 0)
    return 0;
  return cap_set_flag (caps, flag, n, values, CAP_SET);
}

static void
cleanup_capp (cap_t *caps)
{
  if (*caps != NULL)
    cap_free (*caps);
}

int
caps_apply (const struct husk_capabilities *caps, struct husk_err *err)
{
  static const struct husk_capabilities none = { 0, 0, 0, 0, 0 };
  __attribute__ ((cleanup (cleanup_capp))) cap_t state = NULL;
  int last = caps_last_cap ();
  uint64_t effective, permitted, inheritable, ambient;

  if (caps == NULL)
    caps = &none;
  effective = known_caps (caps->effective, last, "effective");
  permitted = known_caps (caps->permitted, last, "permitted");
  inheritable = known_caps (caps->inheritable, last, "inheritable");
  ambient = known_caps (caps->ambient, last, "ambient");

  state = cap_init ();
  if (state == NULL)
    return husk_err_set (err, errno, "cap_init");
  if (set_flag (state, CAP_EFFECTIVE, effective) < 0 || set_flag (state, CAP_PERMITTED, permitted) < 0
      || set_flag (state, CAP_INHERITABLE, inheritable) < 0)
    return husk_err_set (err, errno, "cap_set_flag");
  if (cap_set_proc (state) < 0)
    {
      if (errno == EPERM && (effective & ~permitted) != 0)
        return husk_err_set (err, errno, "config.json: process.capabilities.effective: set capabilities: the "
                                         "effective set must be a subset of the permitted set");
      return husk_err_set (err, errno, "set capabilities (capset)");
    }

  /* PR_CAP_AMBIENT_CLEAR_ALL fails with EINVAL on kernels before 4.3, which have no ambient set.  */
  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
    {
      if (errno == EINVAL && ambient == 0)
        return 0;
      return husk_err_set (err, errno, "clear the ambient capability set");
    }
  for (int cap = 0; cap <= last; cap++)
    {
      if (!(ambient & (UINT64_C (1) << cap)))
        continue;
      if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long) cap, 0, 0) < 0)
        {
          cleanup_free char *label = cap_label (cap);
          if (errno == EPERM)
            return husk_err_set (err, errno,
                                 "config.json: process.capabilities.ambient: raise '%s': an ambient capability "
                                 "must also be permitted and inheritable",
                                 label);
          return husk_err_set (err, errno, "raise the ambient capability '%s'", label);
        }
    }
  return 0;
}

int
caps_set_no_new_privs (struct husk_err *err)
{
  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return husk_err_set (err, errno, "set no_new_privs");
  return 0;
}
