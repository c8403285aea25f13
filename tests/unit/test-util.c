/* Unit tests for the error convention, util helpers and the state directory.  */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "error.h"
#include "state.h"
#include "util.h"

Test (error, set_and_text)
{
  struct husk_err err = { 0 };
  char buf[256];

  cr_assert_eq (husk_err_set (&err, ENOENT, "open '%s'", "/x"), -1);
  cr_assert_str_eq (husk_err_text (&err, buf, sizeof buf), "open '/x': No such file or directory");
  cr_assert_eq (husk_err_set (&err, 0, "config.json: process.args: expected array"), -1);
  cr_assert_str_eq (husk_err_text (&err, buf, sizeof buf), "config.json: process.args: expected array");
}

Test (error, prefix_keeps_errno_and_truncates_safely)
{
  struct husk_err err = { 0 };
  char big[2000];

  husk_err_set (&err, EPERM, "mount 'tmpfs'");
  cr_assert_eq (husk_err_prefix (&err, "config.json: mounts[%d]", 3), -1);
  cr_assert_str_eq (err.msg, "config.json: mounts[3]: mount 'tmpfs'");
  cr_assert_eq (err.errnum, EPERM);
  memset (big, 'a', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  husk_err_prefix (&err, "%s", big);
  cr_assert_eq (strlen (err.msg), sizeof err.msg - 1);
}

Test (util, parse_numbers)
{
  uint64_t u;
  int64_t i;

  cr_assert_eq (parse_u64 ("18446744073709551615", &u), 0);
  cr_assert_eq (u, UINT64_MAX);
  cr_assert_eq (parse_u64 ("18446744073709551616", &u), -1);
  cr_assert_eq (errno, ERANGE);
  cr_assert_eq (parse_u64 ("-1", &u), -1);
  cr_assert_eq (parse_u64 ("12x", &u), -1);
  cr_assert_eq (parse_u64 ("", &u), -1);
  cr_assert_eq (parse_i64 ("-42", &i), 0);
  cr_assert_eq (i, -42);
  cr_assert_eq (parse_i64 ("4 2", &i), -1);
}

Test (util, read_file_at_caps_size_and_refuses_symlinks)
{
  char dir[] = "/tmp/husk-unit-XXXXXX";
  struct husk_err err = { 0 };
  size_t len;
  int dfd;

  cr_assert_not_null (mkdtemp (dir));
  dfd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  int fd = openat (dfd, "f", O_WRONLY | O_CREAT, 0600);
  cr_assert_eq (write (fd, "hello", 5), 5);
  close (fd);
  cr_assert_eq (symlinkat ("f", dfd, "l"), 0);

  char *s = read_file_at (dfd, "f", 100, &len, &err);
  cr_assert_str_eq (s, "hello");
  cr_assert_eq (len, 5);
  free (s);
  cr_assert_null (read_file_at (dfd, "f", 3, &len, &err));
  cr_assert_eq (err.errnum, EFBIG);
  cr_assert_null (read_file_at (dfd, "l", 100, &len, &err));
  cr_assert_eq (err.errnum, ELOOP);

  unlinkat (dfd, "l", 0);
  unlinkat (dfd, "f", 0);
  close (dfd);
  rmdir (dir);
}

Test (state, ids)
{
  static const char *bad[] = { "", ".", "..", "../x", "a/b", "/", "a b", "é", "x\n" };
  static const char *good[] = { "a", "my-container_1.2+3", "0123456789abcdef" };
  struct husk_err err = { 0 };
  char longid[300];

  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_assert_eq (state_check_id (bad[i], &err), -1, "id '%s' accepted", bad[i]);
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
    cr_assert_eq (state_check_id (good[i], &err), 0, "id '%s' refused: %s", good[i], err.msg);
  memset (longid, 'a', sizeof longid - 1);
  longid[sizeof longid - 1] = '\0';
  cr_assert_eq (state_check_id (longid, &err), -1);
  state_check_id ("../x", &err);
  cr_assert_str_eq (err.msg, "invalid container id '../x': only [A-Za-z0-9_+.-] allowed");
}

Test (state, create_once_write_and_remove)
{
  char dir[] = "/tmp/husk-unit-XXXXXX";
  struct husk_err err = { 0 };
  char root[64], state[128];

  cr_assert_not_null (mkdtemp (dir));
  snprintf (root, sizeof root, "%s/a/b", dir);
  int fd = state_create (root, "c1", &err);
  cr_assert_geq (fd, 0, "%s", err.msg);
  cr_assert_eq (state_create (root, "c1", &err), -1);
  cr_assert_str_eq (err.msg, "container 'c1' already exists");

  struct husk_state st = { .id = "c1", .status = "created", .pid = 42, .bundle = "/b" };
  cr_assert_eq (state_write (fd, &st, &err), 0);
  snprintf (state, sizeof state, "%s/c1/state.json", root);
  char *text = read_file_at (AT_FDCWD, state, 65536, NULL, &err);
  cr_assert_not_null (text);
  yajl_val v = yajl_tree_parse (text, NULL, 0);
  cr_assert_not_null (v, "state.json is not JSON: %s", text);
  const char *p_status[] = { "status", NULL }, *p_pid[] = { "pid", NULL };
  cr_assert_str_eq (YAJL_GET_STRING (yajl_tree_get (v, p_status, yajl_t_string)), "created");
  cr_assert_eq (YAJL_GET_INTEGER (yajl_tree_get (v, p_pid, yajl_t_number)), 42);
  yajl_tree_free (v);
  free (text);
  close (fd);

  cr_assert_eq (state_remove (root, "c1", &err), 0);
  cr_assert_eq (access (state, F_OK), -1);
  cr_assert_eq (state_remove (root, "c1", &err), 0, "removing a missing state dir is not an error");
  snprintf (state, sizeof state, "rm -rf %s", dir);
  cr_assert_eq (system (state), 0);
}

Test (state, pid_start_time)
{
  cr_assert_gt (state_pid_start_time (getpid ()), 0);
  cr_assert_eq (state_pid_start_time (0x7ffffff0), 0);
}
