/* Unit tests of image/passwd.c: config.User against an image's /etc/passwd and /etc/group text.
 * IMAGES.md T36 (CVE-2024-40635, CVE-2026-46680) and T37 (CVE-2026-47262).  Pure text, no files.  */
#include "config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/passwd.h"
#include "util.h"

static const char PASSWD[] = "# comment line\n"
                             "root:x:0:0:root:/root:/bin/sh\n"
                             "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
                             "\n"
                             "broken line without colons\n"
                             "alice:x:notanumber:100:::\n"
                             "alice:x:1000:99999999999:::\n"
                             "alice:x:1000:1000:Alice:/home/alice:/bin/sh\n"
                             "alice:x:2000:2000:second alice, never used:/:/bin/sh\n"
                             "bob:x:1001:1001::/home/bob:/bin/sh\n"
                             "+nis:x:0:0:::\n"
                             "-nis2:x:0:0:::\n"
                             "1000:x:0:0:a user named like a number:/:/bin/sh\n"
                             "4294967296:x:0:0:another:/:/bin/sh\n"
                             "short:x:5\n"
                             "nogroup-user:x:3000:3000:::\n";

static const char GROUP[] = "root:x:0:\n"
                            "wheel:x:10:bob,alice\n"
                            "audio:x:29:alice\n"
                            "audio-again:x:29:alice\n"
                            "alice:x:1000:\n"
                            "staff:x:50:bob\n"
                            "badgid:x:-3:alice\n"
                            "huge:x:4294967296:alice\n"
                            "nomembers:x:60\n"
                            "rootish:x:0:root\n"
                            "adm:x:4:root,daemon\n"
                            "123:x:777:\n";

/* Resolve USER and assert success.  */
static struct image_user
ok (const char *user, const char *passwd, const char *group)
{
  struct image_user u;
  struct husk_err err = { 0 };

  cr_assert_eq (image_user_resolve (user, passwd, group, &u, &err), 0, "'%s': %s", user, err.msg);
  return u;
}

/* Resolve USER, assert failure with a message holding PART.  */
static void
fails (const char *user, const char *passwd, const char *group, const char *part)
{
  struct image_user u = { 0 };
  struct husk_err err = { 0 };

  cr_assert_eq (image_user_resolve (user, passwd, group, &u, &err), -1, "'%s' resolved to %u:%u", user, u.uid,
                u.gid);
  cr_assert_not_null (strstr (err.msg, part), "'%s': got '%s', want '%s'", user, err.msg, part);
  cr_assert (has_prefix (err.msg, "config.User: "), "%s", err.msg);
  image_user_free (&u);
}

static bool
has_gid (const struct image_user *u, uint32_t gid)
{
  for (size_t i = 0; i < u->n_additional_gids; i++)
    if (u->additional_gids[i] == gid)
      return true;
  return false;
}

/* ---- numeric ids (T36) ---------------------------------------------------------------------- */

Test (numeric, uid_only_not_in_passwd)
{
  struct image_user u = ok ("4242", PASSWD, GROUP);
  cr_assert_eq (u.uid, 4242);
  cr_assert_eq (u.gid, 0);
  cr_assert_eq (u.n_additional_gids, 0);
  image_user_free (&u);
}

Test (numeric, uid_in_passwd_takes_its_group_and_supplementary_groups)
{
  struct image_user u = ok ("1000", PASSWD, GROUP);
  /* The numeric 1000 is alice (first line with uid 1000), never the user named "1000" (uid 0).  */
  cr_assert_eq (u.uid, 1000);
  cr_assert_eq (u.gid, 1000);
  cr_assert (has_gid (&u, 10) && has_gid (&u, 29));
  cr_assert_eq (u.n_additional_gids, 2, "audio listed twice must count once: %zu", u.n_additional_gids);
  image_user_free (&u);
}

Test (numeric, uid_and_gid)
{
  struct image_user u = ok ("1000:50", PASSWD, GROUP);
  cr_assert_eq (u.uid, 1000);
  cr_assert_eq (u.gid, 50);
  cr_assert_eq (u.n_additional_gids, 0, "an explicit group means no supplementary groups");
  image_user_free (&u);
}

Test (numeric, largest_ids)
{
  struct image_user u = ok ("4294967294:4294967294", NULL, NULL);
  cr_assert_eq (u.uid, 4294967294u);
  cr_assert_eq (u.gid, 4294967294u);
  image_user_free (&u);
  u = ok ("0007", NULL, NULL);
  cr_assert_eq (u.uid, 7);
  image_user_free (&u);
}

Test (numeric, out_of_range_is_an_error_never_a_name)
{
  /* PASSWD has a user literally named "4294967296" with uid 0: it must not be found.  */
  fails ("4294967296", PASSWD, GROUP, "uid '4294967296' out of range");
  fails ("4294967295", PASSWD, GROUP, "uid '4294967295' out of range");
  fails ("99999999999999999999999999", PASSWD, GROUP, "out of range");
  fails ("0:4294967296", PASSWD, GROUP, "gid '4294967296' out of range");
  fails ("alice:18446744073709551617", PASSWD, GROUP, "gid '18446744073709551617' out of range");
}

Test (numeric, signs_and_spaces_are_not_names)
{
  fails ("-1", PASSWD, GROUP, "invalid user '-1'");
  fails ("+5", PASSWD, GROUP, "invalid user '+5'");
  fails (" 5", PASSWD, GROUP, "invalid user ' 5'");
  fails ("5 ", PASSWD, GROUP, "invalid user '5 '");
  fails ("0:-1", PASSWD, GROUP, "invalid group '-1'");
  fails ("0: 7", PASSWD, GROUP, "invalid group ' 7'");
  fails ("../etc", PASSWD, GROUP, "invalid user");
}

Test (numeric, name_that_looks_numeric_is_an_id)
{
  /* "1000:x:0:0" exists in PASSWD; "1000" must still mean uid 1000.  And group "123" is a gid
   * (123), not the group named "123" (777).  */
  struct image_user u = ok ("3000:123", PASSWD, GROUP);
  cr_assert_eq (u.uid, 3000);
  cr_assert_eq (u.gid, 123);
  image_user_free (&u);
}

/* ---- names --------------------------------------------------------------------------------- */

Test (names, user_name)
{
  struct image_user u = ok ("bob", PASSWD, GROUP);
  cr_assert_eq (u.uid, 1001);
  cr_assert_eq (u.gid, 1001);
  cr_assert_eq (u.n_additional_gids, 2);
  cr_assert (has_gid (&u, 10) && has_gid (&u, 50));
  image_user_free (&u);
}

Test (names, first_valid_line_wins_malformed_skipped)
{
  /* Lines for alice with a non-numeric uid and an out-of-range gid come first and are skipped;
   * the valid 1000:1000 line wins over the later 2000:2000 one.  */
  struct image_user u = ok ("alice", PASSWD, GROUP);
  cr_assert_eq (u.uid, 1000);
  cr_assert_eq (u.gid, 1000);
  /* wheel (10) and audio (29) list alice; badgid and huge are malformed and skipped.  */
  cr_assert_eq (u.n_additional_gids, 2);
  cr_assert (has_gid (&u, 10) && has_gid (&u, 29));
  image_user_free (&u);
}

Test (names, user_and_group_names)
{
  struct image_user u = ok ("alice:staff", PASSWD, GROUP);
  cr_assert_eq (u.uid, 1000);
  cr_assert_eq (u.gid, 50);
  cr_assert_eq (u.n_additional_gids, 0);
  image_user_free (&u);
  u = ok ("1001:wheel", PASSWD, GROUP);
  cr_assert_eq (u.uid, 1001);
  cr_assert_eq (u.gid, 10);
  image_user_free (&u);
  u = ok ("alice:0", PASSWD, GROUP);
  cr_assert_eq (u.gid, 0);
  image_user_free (&u);
}

Test (names, empty_user_is_root)
{
  struct image_user u = ok ("", PASSWD, GROUP);
  cr_assert_eq (u.uid, 0);
  cr_assert_eq (u.gid, 0);
  /* root is listed in adm (4) and rootish (gid 0 = its primary group, not repeated).  */
  cr_assert_eq (u.n_additional_gids, 1);
  cr_assert (has_gid (&u, 4));
  image_user_free (&u);
  u = ok (NULL, NULL, NULL);
  cr_assert_eq (u.uid, 0);
  cr_assert_eq (u.gid, 0);
  image_user_free (&u);
}

Test (names, not_found)
{
  fails ("mallory", PASSWD, GROUP, "user 'mallory' not found in /etc/passwd");
  fails ("alice:nosuch", PASSWD, GROUP, "group 'nosuch' not found in /etc/group");
  /* Group lines with too few fields or a bad gid are skipped.  */
  fails ("alice:badgid", PASSWD, GROUP, "group 'badgid' not found");
  fails ("alice:huge", PASSWD, GROUP, "group 'huge' not found");
  /* A passwd line with fewer than 4 fields is skipped.  */
  fails ("short", PASSWD, GROUP, "user 'short' not found");
}

Test (names, missing_files)
{
  fails ("alice", NULL, GROUP, "user 'alice' not found in /etc/passwd");
  fails ("0:staff", PASSWD, NULL, "group 'staff' not found in /etc/group");
  struct image_user u = ok ("alice", PASSWD, NULL);
  cr_assert_eq (u.uid, 1000);
  cr_assert_eq (u.n_additional_gids, 0);
  image_user_free (&u);
  u = ok ("5:6", NULL, NULL);
  cr_assert_eq (u.uid, 5);
  cr_assert_eq (u.gid, 6);
  image_user_free (&u);
}

Test (names, invalid_forms)
{
  fails ("alice:", PASSWD, GROUP, "expected user[:group]");
  fails (":staff", PASSWD, GROUP, "expected user[:group]");
  fails ("alice:staff:extra", PASSWD, GROUP, "expected user[:group]");
}

Test (names, crlf_lines)
{
  struct image_user u = ok ("carol:grp", "carol:x:7:8:::\r\n", "grp:x:9:\r\n");
  cr_assert_eq (u.uid, 7);
  cr_assert_eq (u.gid, 9);
  image_user_free (&u);
  u = ok ("carol", "carol:x:7:8\r\n", "g1:x:11:dave,carol\r\n");
  cr_assert_eq (u.gid, 8);
  cr_assert_eq (u.n_additional_gids, 1);
  cr_assert_eq (u.additional_gids[0], 11, "the member list must not keep the '\\r'");
  image_user_free (&u);
}

Test (names, member_match_is_exact)
{
  struct image_user u = ok ("al", "al:x:5:5\n", "g:x:20:alice,bal,al2\ng2:x:21:x,al\n");
  cr_assert_eq (u.n_additional_gids, 1);
  cr_assert_eq (u.additional_gids[0], 21);
  image_user_free (&u);
}

/* ---- caps (T37) ---------------------------------------------------------------------------- */

/* N lines "uN:x:N:N\n" followed by TAIL.  */
static char *
many_lines (size_t n, const char *tail)
{
  size_t cap = n * 32 + strlen (tail) + 1, len = 0;
  char *s = xmalloc (cap);

  for (size_t i = 0; i < n; i++)
    len += (size_t) snprintf (s + len, cap - len, "u%zu:x:%zu:%zu\n", i, i + 1, i + 1);
  snprintf (s + len, cap - len, "%s", tail);
  return s;
}

Test (caps, line_cap)
{
  cleanup_free char *at_cap = many_lines (PASSWD_MAX_LINES - 1, "last:x:42:43");
  cleanup_free char *over = many_lines (PASSWD_MAX_LINES, "last:x:42:43");
  struct image_user u = ok ("last", at_cap, NULL);

  cr_assert_eq (u.uid, 42);
  image_user_free (&u);
  fails ("last", over, NULL, "/etc/passwd: more than 100000 lines");
  /* The cap applies to /etc/group too, even when the user is numeric.  */
  fails ("0", NULL, over, "/etc/group: more than 100000 lines");
}

Test (caps, byte_cap)
{
  size_t n = PASSWD_MAX_BYTES + 1;
  cleanup_free char *big = xmalloc (n + 1);

  memset (big, '#', n);
  big[n] = '\0';
  fails ("0", big, NULL, "/etc/passwd: larger than 4194304 bytes");
  big[n - 1] = '\0'; /* exactly the cap: fine */
  struct image_user u = ok ("0", big, NULL);
  image_user_free (&u);
}

Test (caps, free_is_idempotent)
{
  struct image_user u = ok ("alice", PASSWD, GROUP);
  image_user_free (&u);
  image_user_free (&u);
  cr_assert_null (u.additional_gids);
}
