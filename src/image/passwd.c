/* Resolving config.User against the image's /etc/passwd and /etc/group text (see passwd.h).
 * OCI image-spec config.md "User", conversion.md.  IMAGES.md T36, T37.
 *
 * The rules, in one place:
 * - USER is "user" or "user:group"; neither part may be empty and there is at most one ':'.
 * - A part made only of decimal digits is an id: 0..4294967294 (4294967295 is (uid_t)-1), and it is
 *   never looked up as a name, even when a passwd line has that name (CVE-2026-46680).
 * - Anything else is a name.  A name that starts with '-' or '+' or holds white space or '/' is
 *   refused outright ("-1", "+5", " 7" are not names but mangled numbers).
 * - passwd lines are name:password:uid:gid[:...], group lines name:password:gid[:members]; comment,
 *   NIS ("+"/"-") and malformed lines (too few fields, ids that are not in range) are skipped; the
 *   first matching line wins.
 * - Text longer than PASSWD_MAX_BYTES or with more than PASSWD_MAX_LINES lines is an error
 *   (CVE-2026-47262), checked before anything is parsed.  */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "image/passwd.h"
#include "util.h"

/* Largest id accepted (4294967295 is (uid_t)-1, "no change" for setresuid).  */
#define ID_MAX UINT32_C (4294967294)

/* Most supplementary groups collected (Linux NGROUPS_MAX).  */
#define MAX_GROUPS 65536

struct span
{
  const char *p;
  size_t n;
};

static bool
span_eq (struct span s, const char *str)
{
  return strlen (str) == s.n && memcmp (s.p, str, s.n) == 0;
}

static bool
is_all_digits (const char *p, size_t n)
{
  if (n == 0)
    return false;
  for (size_t i = 0; i < n; i++)
    if (p[i] < '0' || p[i] > '9')
      return false;
  return true;
}

/* Parse N decimal digits at P into *OUT (0..ID_MAX).  Returns 0, or -1 when not digits or too big.  */
static int
parse_id (const char *p, size_t n, uint32_t *out)
{
  uint64_t v = 0;

  if (!is_all_digits (p, n))
    return -1;
  for (size_t i = 0; i < n; i++)
    {
      v = v * 10 + (uint64_t) (p[i] - '0');
      if (v > ID_MAX)
        return -1;
    }
  *out = (uint32_t) v;
  return 0;
}

/* Split LINE (LEN bytes) at ':' into at most MAX fields (the last takes the rest).  Returns the count.  */
static size_t
split_fields (const char *line, size_t len, struct span *f, size_t max)
{
  size_t n = 0, start = 0;

  for (size_t i = 0; i <= len && n < max; i++)
    if (i == len || (line[i] == ':' && n + 1 < max))
      {
        f[n].p = line + start;
        f[n].n = i - start;
        n++;
        start = i + 1;
      }
  return n;
}

/* Check that TEXT (FILE names it) is within the byte and line caps.  Returns 0 or -1 with ERR.  */
static int
check_caps (const char *text, const char *file, struct husk_err *err)
{
  size_t lines = 0, len = 0;

  if (text == NULL)
    return 0;
  for (const char *p = text; *p != '\0'; p++, len++)
    {
      if (len >= PASSWD_MAX_BYTES)
        return husk_err_set (err, EFBIG, "config.User: %s: larger than %u bytes", file, PASSWD_MAX_BYTES);
      if (*p == '\n')
        lines++;
    }
  if (len > 0 && text[len - 1] != '\n')
    lines++;
  if (lines > PASSWD_MAX_LINES)
    return husk_err_set (err, EFBIG, "config.User: %s: more than %d lines", file, PASSWD_MAX_LINES);
  return 0;
}

/* Call FN on each usable line of TEXT (not empty, not a comment, not a NIS "+"/"-" entry), split into
 * at most MAX fields, until FN returns non-zero.  Returns what FN returned last, or 0.  */
typedef int (*line_fn) (struct span *f, size_t n, void *arg);

static int
for_each_line (const char *text, size_t max, line_fn fn, void *arg)
{
  struct span f[8];
  const char *p = text;

  if (text == NULL)
    return 0;
  while (*p != '\0')
    {
      const char *end = strchr (p, '\n');
      size_t len = end != NULL ? (size_t) (end - p) : strlen (p);
      int r;

      if (len > 0 && p[len - 1] == '\r')
        len--;
      if (len > 0 && p[0] != '#' && p[0] != '+' && p[0] != '-')
        {
          r = fn (f, split_fields (p, len, f, max), arg);
          if (r != 0)
            return r;
        }
      if (end == NULL)
        break;
      p = end + 1;
    }
  return 0;
}

/* ---- /etc/passwd ----------------------------------------------------------------------------- */

struct passwd_query
{
  const char *name; /* look up by name, or */
  uint32_t uid;     /* by uid when NAME is NULL */
  /* results */
  struct span found_name;
  uint32_t found_uid, found_gid;
};

static int
passwd_match (struct span *f, size_t n, void *arg)
{
  struct passwd_query *q = arg;
  uint32_t uid, gid;

  if (n < 4 || f[0].n == 0 || parse_id (f[2].p, f[2].n, &uid) < 0 || parse_id (f[3].p, f[3].n, &gid) < 0)
    return 0; /* malformed: skipped */
  if (q->name != NULL ? !span_eq (f[0], q->name) : uid != q->uid)
    return 0;
  q->found_name = f[0];
  q->found_uid = uid;
  q->found_gid = gid;
  return 1;
}

/* ---- /etc/group ------------------------------------------------------------------------------ */

struct group_query
{
  const char *name;
  uint32_t found_gid;
};

static int
group_match (struct span *f, size_t n, void *arg)
{
  struct group_query *q = arg;
  uint32_t gid;

  if (n < 3 || f[0].n == 0 || parse_id (f[2].p, f[2].n, &gid) < 0)
    return 0;
  if (!span_eq (f[0], q->name))
    return 0;
  q->found_gid = gid;
  return 1;
}

struct member_query
{
  struct span user;
  uint32_t primary;
  struct image_user *out;
};

/* True when the comma-separated list MEMBERS names USER.  */
static bool
members_include (struct span members, struct span user)
{
  size_t start = 0;

  for (size_t i = 0; i <= members.n; i++)
    if (i == members.n || members.p[i] == ',')
      {
        if (i - start == user.n && memcmp (members.p + start, user.p, user.n) == 0)
          return true;
        start = i + 1;
      }
  return false;
}

static int
member_match (struct span *f, size_t n, void *arg)
{
  struct member_query *q = arg;
  struct image_user *u = q->out;
  uint32_t gid;

  if (n < 4 || f[0].n == 0 || parse_id (f[2].p, f[2].n, &gid) < 0 || !members_include (f[3], q->user))
    return 0;
  if (gid == q->primary)
    return 0;
  for (size_t i = 0; i < u->n_additional_gids; i++)
    if (u->additional_gids[i] == gid)
      return 0;
  if (u->n_additional_gids >= MAX_GROUPS)
    return 0;
  u->additional_gids = xrealloc (u->additional_gids, (u->n_additional_gids + 1) * sizeof *u->additional_gids);
  u->additional_gids[u->n_additional_gids++] = gid;
  return 0;
}

/* ---- USER ------------------------------------------------------------------------------------ */

/* Check a name part of USER (KIND "user" or "group").  Returns 0 or -1 with ERR.  */
static int
check_name (const char *s, const char *kind, struct husk_err *err)
{
  if (*s == '-' || *s == '+')
    return husk_err_set (err, 0, "config.User: invalid %s '%.64s'", kind, s);
  for (const char *p = s; *p != '\0'; p++)
    if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\v' || *p == '\f' || *p == '/')
      return husk_err_set (err, 0, "config.User: invalid %s '%.64s'", kind, s);
  return 0;
}

/* Parse an id part of USER (all digits).  Returns 0 or -1 with ERR "uid '...' out of range".  */
static int
parse_id_part (const char *s, const char *kind, uint32_t *out, struct husk_err *err)
{
  if (parse_id (s, strlen (s), out) < 0)
    return husk_err_set (err, ERANGE, "config.User: %s '%.64s' out of range", kind, s);
  return 0;
}

void
image_user_free (struct image_user *u)
{
  free (u->additional_gids);
  u->additional_gids = NULL;
  u->n_additional_gids = 0;
}

int
image_user_resolve (const char *user, const char *passwd, const char *group, struct image_user *out,
                    struct husk_err *err)
{
  cleanup_free char *copy = NULL;
  char *upart, *gpart;
  struct passwd_query pq = { 0 };
  bool have_name = false;
  cleanup_free char *name = NULL;

  memset (out, 0, sizeof *out);
  if (check_caps (passwd, "/etc/passwd", err) < 0 || check_caps (group, "/etc/group", err) < 0)
    return -1;
  copy = xstrdup (user != NULL && *user != '\0' ? user : "0");
  upart = copy;
  gpart = strchr (copy, ':');
  if (gpart != NULL)
    {
      *gpart++ = '\0';
      if (*upart == '\0' || *gpart == '\0' || strchr (gpart, ':') != NULL)
        return husk_err_set (err, 0, "config.User: invalid '%.64s': expected user[:group]", user);
    }

  /* The user.  */
  if (is_all_digits (upart, strlen (upart)))
    {
      if (parse_id_part (upart, "uid", &out->uid, err) < 0)
        return -1;
      pq.uid = out->uid;
      if (for_each_line (passwd, 8, passwd_match, &pq) > 0)
        {
          out->gid = pq.found_gid;
          have_name = true;
        }
    }
  else
    {
      if (check_name (upart, "user", err) < 0)
        return -1;
      pq.name = upart;
      if (for_each_line (passwd, 8, passwd_match, &pq) == 0)
        return husk_err_set (err, ENOENT, "config.User: user '%.64s' not found in /etc/passwd", upart);
      out->uid = pq.found_uid;
      out->gid = pq.found_gid;
      have_name = true;
    }
  if (have_name)
    name = xasprintf ("%.*s", (int) pq.found_name.n, pq.found_name.p);

  /* The group: given, or the primary group plus the supplementary groups.  */
  if (gpart != NULL)
    {
      if (is_all_digits (gpart, strlen (gpart)))
        return parse_id_part (gpart, "gid", &out->gid, err);
      struct group_query gq = { .name = gpart };
      if (check_name (gpart, "group", err) < 0)
        return -1;
      if (for_each_line (group, 4, group_match, &gq) == 0)
        return husk_err_set (err, ENOENT, "config.User: group '%.64s' not found in /etc/group", gpart);
      out->gid = gq.found_gid;
      return 0;
    }
  if (name != NULL)
    {
      struct member_query mq = { .user = { name, strlen (name) }, .primary = out->gid, .out = out };
      for_each_line (group, 4, member_match, &mq);
    }
  return 0;
}
