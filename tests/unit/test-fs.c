/* Unit tests of fs.c (in-root resolution, procfs, /dev/null check), mount.c (config mounts, pivot,
 * masked and readonly paths) and dev.c (/dev).  Criterion runs every test in its own process; each
 * test first gets a private mount namespace with a fresh tmpfs on /tmp, so whatever it mounts or
 * creates vanishes with the process and the host is never touched.  Needs root.  */
#include "config.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dev.h"
#include "fs.h"
#include "mount.h"
#include "util.h"

#define ROOT "/tmp/root"

static void
private_tmp (void)
{
  cr_assert_eq (unshare (CLONE_NEWNS), 0, "unshare: %s", strerror (errno));
  cr_assert_eq (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
  cr_assert_eq (mount ("tmpfs", "/tmp", "tmpfs", 0, "mode=1777"), 0, "mount /tmp: %s", strerror (errno));
  cr_assert_eq (mkdir (ROOT, 0755), 0);
}

TestSuite (fs, .init = private_tmp);

/* ---- helpers --------------------------------------------------------------------------------- */

static void
put (const char *path, const char *text)
{
  FILE *f = fopen (path, "w");
  cr_assert_not_null (f, "fopen '%s': %s", path, strerror (errno));
  fputs (text, f);
  fclose (f);
}

static void
mkdirs (const char *path)
{
  char *p = xstrdup (path);
  for (char *s = p + 1; *s; s++)
    if (*s == '/')
      {
        *s = '\0';
        mkdir (p, 0755);
        *s = '/';
      }
  mkdir (p, 0755);
  free (p);
}

/* Read up to 255 bytes of FD into a static buffer.  */
static const char *
slurp_fd (int fd)
{
  static char buf[256];
  ssize_t n = read (fd, buf, sizeof buf - 1);
  cr_assert_geq (n, 0, "read: %s", strerror (errno));
  buf[n] = '\0';
  return buf;
}

static bool
exists (const char *path)
{
  struct stat st;
  return lstat (path, &st) == 0;
}

static int
open_root (void)
{
  int fd = open (ROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
  cr_assert_geq (fd, 0);
  return fd;
}

/* A mount context for ROOT with SPEC, as the child would have it.  */
static struct husk_mount_ctx
make_ctx (const struct husk_spec *spec)
{
  struct husk_mount_ctx ctx = { .spec = spec, .bundle = "/tmp", .rootfs = ROOT, .rootfd = -1, .rootfs_mount = -1 };
  return ctx;
}

/* ---- fs_open_in_root ------------------------------------------------------------------------- */

Test (fs, open_in_root_keeps_absolute_symlink_inside)
{
  struct husk_err err = { 0 };
  mkdirs (ROOT "/etc");
  put (ROOT "/etc/passwd", "inside\n");
  cr_assert_eq (symlink ("/etc", ROOT "/x"), 0);
  cr_assert_eq (symlink ("/usr/bin", ROOT "/z"), 0);
  cleanup_close int rootfd = open_root ();

  cleanup_close int fd = fs_open_in_root (rootfd, "x/passwd", O_RDONLY, &err);
  cr_assert_geq (fd, 0, "%s", err.msg);
  cr_assert_str_eq (slurp_fd (fd), "inside\n");

  /* /usr/bin/env exists on the host but not in the root.  */
  cr_assert_eq (fs_open_in_root (rootfd, "/z/env", O_PATH, &err), -1);
  cr_assert_eq (err.errnum, ENOENT);
  cr_assert (strstr (err.msg, "'/z/env'") != NULL, "%s", err.msg);
}

Test (fs, open_in_root_dotdot_stays_inside)
{
  struct husk_err err = { 0 };
  mkdirs (ROOT "/etc");
  mkdirs (ROOT "/a/b");
  put (ROOT "/etc/passwd", "root's\n");
  cr_assert_eq (symlink ("../../../../../etc", ROOT "/a/b/up"), 0);
  cleanup_close int rootfd = open_root ();

  cleanup_close int fd = fs_open_in_root (rootfd, "../../etc/passwd", O_RDONLY, &err);
  cr_assert_geq (fd, 0, "%s", err.msg);
  cr_assert_str_eq (slurp_fd (fd), "root's\n");
  cleanup_close int fd2 = fs_open_in_root (rootfd, "/a/b/up/passwd", O_RDONLY, &err);
  cr_assert_geq (fd2, 0, "%s", err.msg);
  cr_assert_str_eq (slurp_fd (fd2), "root's\n");
}

Test (fs, open_in_root_nofollow_and_magic_links)
{
  struct husk_err err = { 0 };
  put (ROOT "/target", "t");
  cr_assert_eq (symlink ("/target", ROOT "/link"), 0);
  cr_assert_eq (symlink ("/proc/self/root", ROOT "/magic"), 0);
  cleanup_close int rootfd = open_root ();

  cr_assert_eq (fs_open_in_root (rootfd, "/link", O_RDONLY | O_NOFOLLOW, &err), -1);
  cr_assert_eq (err.errnum, ELOOP);
  /* The root has no /proc: the symlink cannot reach the host's magic link.  */
  cr_assert_eq (fs_open_in_root (rootfd, "/magic/etc/passwd", O_RDONLY, &err), -1);
  /* Nor can a path given to us.  */
  cleanup_close int hostroot = open ("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  char path[64];
  snprintf (path, sizeof path, "/proc/self/fd/%d/etc/passwd", hostroot);
  cr_assert_eq (fs_open_in_root (rootfd, path, O_RDONLY, &err), -1);
}

/* ---- fs_mkdir_in_root / fs_mkfile_in_root ---------------------------------------------------- */

Test (fs, mkdir_in_root_symlink_component_stays_inside)
{
  struct husk_err err = { 0 };
  struct stat st;
  cr_assert_eq (symlink ("/tmp/outside", ROOT "/a"), 0);
  cr_assert_eq (symlink ("../../../../../../outside2", ROOT "/r"), 0);
  cleanup_close int rootfd = open_root ();

  cleanup_close int fd = fs_mkdir_in_root (rootfd, "a/b/c", 0755, &err);
  cr_assert_geq (fd, 0, "%s", err.msg);
  cr_assert (!exists ("/tmp/outside"), "created on the host");
  cr_assert_eq (stat (ROOT "/tmp/outside/b/c", &st), 0);
  cr_assert (S_ISDIR (st.st_mode));
  /* The returned fd is that directory.  */
  struct stat fst;
  cr_assert_eq (fstat (fd, &fst), 0);
  cr_assert_eq (fst.st_ino, st.st_ino);

  cleanup_close int fd2 = fs_mkdir_in_root (rootfd, "/r/d", 0700, &err);
  cr_assert_geq (fd2, 0, "%s", err.msg);
  cr_assert_eq (stat (ROOT "/outside2/d", &st), 0);
  cr_assert_eq (st.st_mode & 0777, 0700);

  /* Existing directories and ".." are fine and stay inside.  */
  cleanup_close int fd3 = fs_mkdir_in_root (rootfd, "/../../x/../y//z/.", 0755, &err);
  cr_assert_geq (fd3, 0, "%s", err.msg);
  cr_assert (exists (ROOT "/y/z"));
  cr_assert (!exists ("/tmp/y"));
}

Test (fs, mkdir_in_root_refuses_final_symlink)
{
  struct husk_err err = { 0 };
  cr_assert_eq (symlink ("/tmp/outside2", ROOT "/l"), 0);
  cr_assert_eq (symlink ("/l", ROOT "/l2"), 0);
  put (ROOT "/file", "");
  cleanup_close int rootfd = open_root ();

  cr_assert_eq (fs_mkdir_in_root (rootfd, "l", 0755, &err), -1);
  cr_assert_eq (err.errnum, ELOOP, "%s", err.msg);
  cr_assert_eq (fs_mkdir_in_root (rootfd, "/l2/", 0755, &err), -1);
  cr_assert_eq (err.errnum, ELOOP, "%s", err.msg);
  cr_assert (!exists (ROOT "/tmp/outside2"));
  cr_assert (!exists ("/tmp/outside2"));
  cr_assert_eq (fs_mkdir_in_root (rootfd, "file/sub", 0755, &err), -1);
  cr_assert_eq (err.errnum, ENOTDIR, "%s", err.msg);
}

Test (fs, mkdir_in_root_symlink_loop)
{
  struct husk_err err = { 0 };
  cr_assert_eq (symlink ("/loop2", ROOT "/loop1"), 0);
  cr_assert_eq (symlink ("/loop1", ROOT "/loop2"), 0);
  cleanup_close int rootfd = open_root ();
  cr_assert_eq (fs_mkdir_in_root (rootfd, "loop1/x", 0755, &err), -1);
  cr_assert_eq (err.errnum, ELOOP, "%s", err.msg);
}

Test (fs, mkfile_in_root)
{
  struct husk_err err = { 0 };
  struct stat st;
  cr_assert_eq (symlink ("/tmp/hostfile", ROOT "/dangling"), 0);
  mkdirs (ROOT "/dir");
  cleanup_close int rootfd = open_root ();

  cr_assert_eq (fs_mkfile_in_root (rootfd, "/dangling", 0644, &err), -1);
  cr_assert_eq (err.errnum, ELOOP, "%s", err.msg);
  cr_assert (!exists ("/tmp/hostfile"));
  cr_assert (!exists (ROOT "/tmp/hostfile"));

  cleanup_close int fd = fs_mkfile_in_root (rootfd, "/new/sub/file", 0644, &err);
  cr_assert_geq (fd, 0, "%s", err.msg);
  cr_assert_eq (lstat (ROOT "/new/sub/file", &st), 0);
  cr_assert (S_ISREG (st.st_mode));

  /* An existing file is kept, a directory is not a file.  */
  put (ROOT "/dir/keep", "data");
  cleanup_close int fd2 = fs_mkfile_in_root (rootfd, "/dir/keep", 0644, &err);
  cr_assert_geq (fd2, 0, "%s", err.msg);
  cr_assert_eq (stat (ROOT "/dir/keep", &st), 0);
  cr_assert_eq (st.st_size, 4);
  cr_assert_eq (fs_mkfile_in_root (rootfd, "/dir", 0644, &err), -1);
  cr_assert_eq (err.errnum, EISDIR);
}

/* ---- fs_open_procfs, fs_is_dev_null ---------------------------------------------------------- */

Test (fs, open_procfs_is_a_real_procfs)
{
  struct husk_err err = { 0 };
  struct statfs sfs;
  struct stat st;

  cleanup_close int fd = fs_open_procfs (&err);
  cr_assert_geq (fd, 0, "%s", err.msg);
  cr_assert_eq (fstatfs (fd, &sfs), 0);
  cr_assert_eq (sfs.f_type, PROC_SUPER_MAGIC);
  cr_assert_eq (fstat (fd, &st), 0);
  cr_assert_eq (st.st_ino, 1);
  cr_assert (S_ISDIR (st.st_mode));
  cleanup_close int os = openat (fd, "sys/kernel/ostype", O_RDONLY | O_CLOEXEC);
  cr_assert_geq (os, 0);
  cr_assert_str_eq (slurp_fd (os), "Linux\n");
  cr_assert_eq (fcntl (fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
}

Test (fs, open_procfs_ignores_overmounted_proc)
{
  struct husk_err err = { 0 };
  /* Cover /proc/sys with a tmpfs: the private procfs must not see it.  */
  cr_assert_eq (mount ("tmpfs", "/proc/sys", "tmpfs", 0, NULL), 0);
  cleanup_close int fd = fs_open_procfs (&err);
  cr_assert_geq (fd, 0, "%s", err.msg);
  cleanup_close int os = openat (fd, "sys/kernel/ostype", O_RDONLY | O_CLOEXEC);
  cr_assert_geq (os, 0);
}

Test (fs, is_dev_null)
{
  put ("/tmp/regular", "");
  cr_assert_eq (symlink ("/dev/null", "/tmp/null-link"), 0);
  cleanup_close int null = open ("/dev/null", O_PATH | O_CLOEXEC);
  cleanup_close int zero = open ("/dev/zero", O_PATH | O_CLOEXEC);
  cleanup_close int reg = open ("/tmp/regular", O_RDONLY | O_CLOEXEC);
  cleanup_close int link = open ("/tmp/null-link", O_PATH | O_NOFOLLOW | O_CLOEXEC);
  cr_assert (fs_is_dev_null (null));
  cr_assert (!fs_is_dev_null (zero));
  cr_assert (!fs_is_dev_null (reg));
  cr_assert (!fs_is_dev_null (link));
  cr_assert (!fs_is_dev_null (-1));
}

/* ---- mount_prepare_rootfs / mount_spec_mounts ------------------------------------------------ */

Test (fs, prepare_rootfs_missing)
{
  struct husk_err err = { 0 };
  struct husk_spec spec = { 0 };
  struct husk_mount_ctx ctx = make_ctx (&spec);
  ctx.rootfs = "/tmp/nope";
  cr_assert_eq (mount_prepare_rootfs (&ctx, &err), -1);
  cr_assert_str_eq (err.msg, "config.json: root.path: '/tmp/nope'");
  cr_assert_eq (err.errnum, ENOENT);
  put ("/tmp/file", "");
  ctx.rootfs = "/tmp/file";
  cr_assert_eq (mount_prepare_rootfs (&ctx, &err), -1);
  cr_assert_eq (err.errnum, ENOTDIR);
}

Test (fs, spec_mounts_tmpfs_bind_proc)
{
  struct husk_err err = { 0 };
  struct statvfs sv;
  struct statfs sfs;
  struct stat st;

  mkdirs ("/tmp/src");
  put ("/tmp/src/hello", "hi");
  put ("/tmp/srcfile", "file");
  struct husk_mount mounts[] = {
    { .destination = "/data", .type = "tmpfs", .source = "tmpfs",
      .options = (char *[]){ "mode=700", "nosuid", "size=65536k", "rprivate", NULL }, .n_options = 4 },
    { .destination = "/ro", .source = "/tmp/src", .options = (char *[]){ "bind", "ro", NULL }, .n_options = 2 },
    { .destination = "/proc", .type = "proc", .source = "proc" },
    { .destination = "/etc/hostname", .type = "bind", .source = "srcfile" }, /* relative to the bundle */
  };
  struct husk_spec spec = { .mounts = mounts, .n_mounts = ARRAY_SIZE (mounts) };
  struct husk_mount_ctx ctx = make_ctx (&spec);
  cr_assert_eq (mount_prepare_rootfs (&ctx, &err), 0, "%s", err.msg);
  cr_assert_eq (mount_spec_mounts (&ctx, &err), 0, "%s", err.msg);

  cr_assert_eq (stat (ROOT "/data", &st), 0);
  cr_assert_eq (st.st_mode & 07777, 0700);
  cr_assert_eq (statvfs (ROOT "/data", &sv), 0);
  cr_assert (sv.f_flag & ST_NOSUID);
  cr_assert (!(sv.f_flag & ST_RDONLY));
  cr_assert_eq ((unsigned long long) sv.f_blocks * sv.f_frsize, 65536ULL * 1024);

  cr_assert_eq (statvfs (ROOT "/ro", &sv), 0);
  cr_assert (sv.f_flag & ST_RDONLY);
  cr_assert (exists (ROOT "/ro/hello"));
  cr_assert_eq (open (ROOT "/ro/new", O_CREAT | O_WRONLY | O_CLOEXEC, 0644), -1);
  cr_assert_eq (errno, EROFS);
  /* The source itself stays writable.  */
  cr_assert_eq (statvfs ("/tmp/src", &sv), 0);
  cr_assert (!(sv.f_flag & ST_RDONLY));

  cr_assert_eq (statfs (ROOT "/proc", &sfs), 0);
  cr_assert_eq (sfs.f_type, PROC_SUPER_MAGIC);

  cr_assert_eq (lstat (ROOT "/etc/hostname", &st), 0);
  cr_assert (S_ISREG (st.st_mode));
  cleanup_close int fd = open (ROOT "/etc/hostname", O_RDONLY | O_CLOEXEC);
  cr_assert_str_eq (slurp_fd (fd), "file");
}

Test (fs, spec_mounts_symlinked_destination_stays_inside)
{
  struct husk_err err = { 0 };
  struct statfs sfs;
  mkdirs ("/tmp/canary");
  cr_assert_eq (symlink ("/tmp/canary", ROOT "/link"), 0);
  struct husk_mount mounts[] = { { .destination = "/link/x", .type = "tmpfs", .source = "tmpfs" } };
  struct husk_spec spec = { .mounts = mounts, .n_mounts = 1 };
  struct husk_mount_ctx ctx = make_ctx (&spec);
  cr_assert_eq (mount_prepare_rootfs (&ctx, &err), 0, "%s", err.msg);
  cr_assert_eq (mount_spec_mounts (&ctx, &err), 0, "%s", err.msg);
  cr_assert (!exists ("/tmp/canary/x"), "mount point made on the host");
  cr_assert_eq (statfs (ROOT "/tmp/canary/x", &sfs), 0);
  cr_assert_eq (sfs.f_type, TMPFS_MAGIC);
  cr_assert_eq (statfs ("/tmp/canary", &sfs), 0);
}

Test (fs, spec_mounts_proc_on_symlink_refused)
{
  struct husk_err err = { 0 };
  mkdirs (ROOT "/evil");
  cr_assert_eq (symlink ("/evil", ROOT "/proc"), 0);
  struct husk_mount mounts[] = { { .destination = "/proc", .type = "proc", .source = "proc" } };
  struct husk_spec spec = { .mounts = mounts, .n_mounts = 1 };
  struct husk_mount_ctx ctx = make_ctx (&spec);
  cr_assert_eq (mount_prepare_rootfs (&ctx, &err), 0, "%s", err.msg);
  cr_assert_eq (mount_spec_mounts (&ctx, &err), -1);
  cr_assert_str_eq (err.msg, "config.json: mounts[0].destination: '/proc' must be mounted on an ordinary "
                             "directory");
  cr_assert_eq (err.errnum, 0);
  cr_assert (!exists (ROOT "/evil/self"), "procfs landed on the symlink's target");

  /* sysfs on a file is refused the same way.  */
  put (ROOT "/sysfile", "");
  mounts[0] = (struct husk_mount){ .destination = "/sysfile", .type = "sysfs", .source = "sysfs" };
  cr_assert_eq (mount_spec_mounts (&ctx, &err), -1);
  cr_assert_str_eq (err.msg, "config.json: mounts[0].destination: '/sysfile' must be mounted on an "
                             "ordinary directory");
}

Test (fs, spec_mounts_nothing_but_procfs_under_proc)
{
  struct husk_err err = { 0 };
  mkdirs ("/tmp/hostdir");
  put ("/tmp/fakemem", "MemTotal: 1 kB\n");
  struct husk_mount mounts[] = {
    { .destination = "/proc", .type = "proc", .source = "proc" },
    { .destination = "/proc/sys", .type = "tmpfs", .source = "tmpfs" },
  };
  struct husk_spec spec = { .mounts = mounts, .n_mounts = 2 };
  struct husk_mount_ctx ctx = make_ctx (&spec);
  cr_assert_eq (mount_prepare_rootfs (&ctx, &err), 0, "%s", err.msg);
  cr_assert_eq (mount_spec_mounts (&ctx, &err), -1);
  cr_assert (has_prefix (err.msg, "config.json: mounts[1].destination: '/proc/sys': only procfs"), "%s",
             err.msg);

  /* A bind of a host directory onto /proc.  */
  mounts[0] = (struct husk_mount){ .destination = "/proc", .source = "/tmp/hostdir",
                                   .options = (char *[]){ "rbind", NULL }, .n_options = 1 };
  spec.n_mounts = 1;
  cr_assert_eq (mount_spec_mounts (&ctx, &err), -1);
  cr_assert (has_prefix (err.msg, "config.json: mounts[0].destination: '/proc'"), "%s", err.msg);

  /* Through a symlink in the rootfs: /p -> /proc, tmpfs on /p/sys.  */
  cr_assert_eq (symlink ("/proc", ROOT "/p"), 0);
  mkdirs (ROOT "/proc/sys");
  mounts[0] = (struct husk_mount){ .destination = "/p/sys", .type = "tmpfs", .source = "tmpfs" };
  cr_assert_eq (mount_spec_mounts (&ctx, &err), -1);
  cr_assert (strstr (err.msg, "'/proc/sys': only procfs") != NULL, "%s", err.msg);

  /* procfs on /proc, then an lxcfs-style file bind: allowed.  */
  mounts[0] = (struct husk_mount){ .destination = "/proc", .type = "proc", .source = "proc" };
  mounts[1] = (struct husk_mount){ .destination = "/proc/meminfo", .source = "/tmp/fakemem",
                                   .options = (char *[]){ "bind", NULL }, .n_options = 1 };
  spec.n_mounts = 2;
  cr_assert_eq (mount_spec_mounts (&ctx, &err), 0, "%s", err.msg);
  cleanup_close int fd = open (ROOT "/proc/meminfo", O_RDONLY | O_CLOEXEC);
  cr_assert_str_eq (slurp_fd (fd), "MemTotal: 1 kB\n");
}

Test (fs, spec_mounts_option_errors)
{
  struct husk_err err = { 0 };
  struct husk_mount mounts[] = {
    { .destination = "/t", .type = "tmpfs", .source = "tmpfs", .options = (char *[]){ "size=abc", NULL },
      .n_options = 1 },
  };
  struct husk_spec spec = { .mounts = mounts, .n_mounts = 1 };
  struct husk_mount_ctx ctx = make_ctx (&spec);
  cr_assert_eq (mount_prepare_rootfs (&ctx, &err), 0, "%s", err.msg);
  cr_assert_eq (mount_spec_mounts (&ctx, &err), -1);
  cr_assert (has_prefix (err.msg, "config.json: mounts[0]: mount 'tmpfs' on '/t': option 'size=abc'"), "%s",
             err.msg);
  cr_assert_eq (err.errnum, EINVAL);

  mounts[0].options = (char *[]){ "idmap", NULL };
  cr_assert_eq (mount_spec_mounts (&ctx, &err), -1);
  cr_assert_str_eq (err.msg, "config.json: mounts[0].options: 'idmap': not supported yet");

  mounts[0].options = (char *[]){ "tmpcopyup", NULL };
  mounts[0].type = "proc";
  mounts[0].destination = "/proc";
  cr_assert_eq (mount_spec_mounts (&ctx, &err), -1);
  cr_assert_str_eq (err.msg, "config.json: mounts[0].options: 'tmpcopyup' needs type tmpfs");
  mounts[0].type = "tmpfs";
  mounts[0].destination = "/t";

  mounts[0].options = (char *[]){ "rw", NULL };
  mounts[0].type = "nosuchfs";
  cr_assert_eq (mount_spec_mounts (&ctx, &err), -1);
  cr_assert_str_eq (err.msg, "config.json: mounts[0]: mount 'nosuchfs' on '/t'");
  cr_assert_eq (err.errnum, ENODEV);

  mounts[0].type = NULL;
  cr_assert_eq (mount_spec_mounts (&ctx, &err), -1);
  cr_assert (has_prefix (err.msg, "config.json: mounts[0].type: required"), "%s", err.msg);

  mounts[0] = (struct husk_mount){ .destination = "/b", .source = "/tmp/none", .options = (char *[]){ "bind", NULL },
                                   .n_options = 1 };
  cr_assert_eq (mount_spec_mounts (&ctx, &err), -1);
  cr_assert_str_eq (err.msg, "config.json: mounts[0].source: '/tmp/none'");
  cr_assert_eq (err.errnum, ENOENT);
}

/* ---- dev_setup ------------------------------------------------------------------------------- */

Test (fs, dev_setup_defaults_and_devices)
{
  struct husk_err err = { 0 };
  struct stat st;
  mkdirs (ROOT "/dev");
  put ("/tmp/evil", "evil");
  cr_assert_eq (symlink ("/tmp/evil", ROOT "/dev/null"), 0); /* replaced, never followed */
  cr_assert_eq (symlink ("/tmp/evil", ROOT "/dev/ptmx"), 0);
  struct husk_device devices[] = {
    { .path = "/dev/myfifo", .type = 'p', .has_file_mode = true, .file_mode = 0600, .has_uid = true,
      .uid = 1000, .has_gid = true, .gid = 1001 },
    { .path = "/dev/sub/zero2", .type = 'u', .major = 1, .minor = 5 },
  };
  struct husk_linux lx = { .devices = devices, .n_devices = 2 };
  struct husk_spec spec = { .linux = &lx };
  cleanup_close int rootfd = open_root ();

  cr_assert_eq (dev_setup (&spec, rootfd, false, &err), 0, "%s", err.msg);
  cr_assert_eq (lstat (ROOT "/dev/null", &st), 0);
  cr_assert (S_ISCHR (st.st_mode));
  cr_assert_eq (st.st_rdev, makedev (1, 3));
  cr_assert_eq (st.st_mode & 07777, 0666);
  cr_assert_eq (lstat (ROOT "/dev/tty", &st), 0);
  cr_assert_eq (st.st_rdev, makedev (5, 0));
  cr_assert_eq (lstat (ROOT "/dev/urandom", &st), 0);
  cr_assert_eq (st.st_rdev, makedev (1, 9));

  char buf[64];
  ssize_t n = readlink (ROOT "/dev/ptmx", buf, sizeof buf - 1);
  cr_assert_gt (n, 0);
  buf[n] = '\0';
  cr_assert_str_eq (buf, "pts/ptmx");
  n = readlink (ROOT "/dev/fd", buf, sizeof buf - 1);
  cr_assert_gt (n, 0);
  buf[n] = '\0';
  cr_assert_str_eq (buf, "/proc/self/fd");
  n = readlink (ROOT "/dev/stderr", buf, sizeof buf - 1);
  buf[n] = '\0';
  cr_assert_str_eq (buf, "/proc/self/fd/2");

  cr_assert_eq (lstat (ROOT "/dev/myfifo", &st), 0);
  cr_assert (S_ISFIFO (st.st_mode));
  cr_assert_eq (st.st_mode & 07777, 0600);
  cr_assert_eq (st.st_uid, 1000);
  cr_assert_eq (st.st_gid, 1001);
  cr_assert_eq (lstat (ROOT "/dev/sub/zero2", &st), 0);
  cr_assert (S_ISCHR (st.st_mode));
  cr_assert_eq (st.st_rdev, makedev (1, 5));

  cleanup_close int ev = open ("/tmp/evil", O_RDONLY | O_CLOEXEC);
  cr_assert_str_eq (slurp_fd (ev), "evil");

  /* A second run keeps everything.  */
  cr_assert_eq (dev_setup (&spec, rootfd, false, &err), 0, "%s", err.msg);
}

Test (fs, dev_setup_refuses_dev_symlink)
{
  struct husk_err err = { 0 };
  mkdirs ("/tmp/hostdev");
  mkdirs (ROOT "/tmp/hostdev");
  cr_assert_eq (symlink ("/tmp/hostdev", ROOT "/dev"), 0);
  struct husk_spec spec = { 0 };
  cleanup_close int rootfd = open_root ();
  cr_assert_eq (dev_setup (&spec, rootfd, false, &err), -1);
  cr_assert_eq (err.errnum, ELOOP, "%s", err.msg);
  cr_assert (!exists ("/tmp/hostdev/null"));
  cr_assert (!exists (ROOT "/tmp/hostdev/null"));
}

Test (fs, dev_setup_userns_binds_host_devices)
{
  struct husk_err err = { 0 };
  struct stat st;
  struct husk_spec spec = { 0 };
  cleanup_close int rootfd = open_root ();
  /* As root in the initial user namespace mknod would work; USERNS forces the bind path.  */
  cr_assert_eq (dev_setup (&spec, rootfd, true, &err), 0, "%s", err.msg);
  cr_assert_eq (stat (ROOT "/dev/null", &st), 0);
  cr_assert (S_ISCHR (st.st_mode));
  cr_assert_eq (st.st_rdev, makedev (1, 3));
  cleanup_close int fd = open (ROOT "/dev/zero", O_RDONLY | O_CLOEXEC);
  cr_assert_geq (fd, 0);
  char c = 1;
  cr_assert_eq (read (fd, &c, 1), 1);
  cr_assert_eq (c, 0);
}

Test (fs, dev_setup_skipped_when_dev_is_bound)
{
  struct husk_err err = { 0 };
  struct husk_mount mounts[] = {
    { .destination = "/dev/", .source = "/dev", .options = (char *[]){ "rbind", NULL }, .n_options = 1 },
  };
  struct husk_spec spec = { .mounts = mounts, .n_mounts = 1 };
  cleanup_close int rootfd = open_root ();
  cr_assert_eq (dev_setup (&spec, rootfd, false, &err), 0, "%s", err.msg);
  cr_assert (!exists (ROOT "/dev"));
}

/* ---- pivot_root and mount_finalize ----------------------------------------------------------- */

/* Build a small root: /dev tmpfs with devices, /proc, a few files; prepare it, mount, pivot.  */
static void
build_and_pivot (struct husk_spec *spec)
{
  struct husk_err err = { 0 };
  mkdirs (ROOT "/etc");
  mkdirs (ROOT "/secret");
  mkdirs (ROOT "/rw-dir");
  put (ROOT "/etc/secretfile", "secret");
  put (ROOT "/secret/inner", "inner");
  struct husk_mount_ctx ctx = make_ctx (spec);
  cr_assert_eq (mount_prepare_rootfs (&ctx, &err), 0, "%s", err.msg);
  cr_assert_eq (mount_spec_mounts (&ctx, &err), 0, "%s", err.msg);
  cr_assert_eq (dev_setup (spec, ctx.rootfd, false, &err), 0, "%s", err.msg);
  cr_assert_eq (mount_pivot_root (&ctx, &err), 0, "%s", err.msg);
  cr_assert_eq (ctx.rootfd, -1);
  cr_assert (exists ("/etc/secretfile"));
  cr_assert (!exists ("/tmp/root"), "still sees the old root");
  char cwd[64];
  cr_assert_not_null (getcwd (cwd, sizeof cwd));
  cr_assert_str_eq (cwd, "/");
  cr_assert_eq (mount_finalize (&ctx, &err), 0, "%s", err.msg);
}

static struct husk_mount finalize_mounts[] = {
  { .destination = "/proc", .type = "proc", .source = "proc" },
  { .destination = "/dev", .type = "tmpfs", .source = "tmpfs",
    .options = (char *[]){ "nosuid", "mode=755", NULL }, .n_options = 2 },
};

Test (fs, finalize_masks_and_readonly)
{
  struct stat st;
  struct husk_linux lx = {
    .masked_paths = (char *[]){ "/etc/secretfile", "/secret", "/proc/version", "/nonexistent",
                                "/etc/secretfile/x", NULL },
    .n_masked_paths = 5,
    .readonly_paths = (char *[]){ "/proc/sys", "/rw-dir", "/gone", NULL },
    .n_readonly_paths = 3,
  };
  struct husk_root root = { .path = ROOT, .readonly = true };
  struct husk_spec spec = { .root = &root, .mounts = finalize_mounts, .n_mounts = 2, .linux = &lx };
  build_and_pivot (&spec);

  cr_assert_eq (stat ("/etc/secretfile", &st), 0);
  cr_assert (S_ISCHR (st.st_mode));
  cr_assert_eq (st.st_rdev, makedev (1, 3));
  cleanup_close int fd = open ("/etc/secretfile", O_RDONLY | O_CLOEXEC);
  cr_assert_geq (fd, 0);
  cr_assert_str_eq (slurp_fd (fd), "");

  cr_assert (!exists ("/secret/inner"));
  cr_assert_eq (mkdir ("/secret/x", 0755), -1);
  cr_assert_eq (errno, EROFS);

  cleanup_close int kc = open ("/proc/version", O_RDONLY | O_CLOEXEC);
  cr_assert_geq (kc, 0, "%s", strerror (errno));
  cr_assert_str_eq (slurp_fd (kc), "");

  cr_assert_eq (open ("/proc/sys/kernel/hostname", O_WRONLY | O_CLOEXEC), -1);
  cr_assert_eq (errno, EROFS);
  cr_assert_eq (open ("/rw-dir/new", O_CREAT | O_WRONLY | O_CLOEXEC, 0644), -1);
  cr_assert_eq (errno, EROFS);
  cr_assert_eq (open ("/newfile", O_CREAT | O_WRONLY | O_CLOEXEC, 0644), -1);
  cr_assert_eq (errno, EROFS);
  /* /dev is its own mount and stays writable.  */
  cleanup_close int null = open ("/dev/null", O_WRONLY | O_CLOEXEC);
  cr_assert_geq (null, 0);
  cr_assert_eq (write (null, "x", 1), 1);

  /* mountinfo agrees: "/" and /rw-dir are ro mounts.  */
  struct husk_err err = { 0 };
  cleanup_free char *mi = read_file_at (AT_FDCWD, "/proc/self/mountinfo", 1 << 20, NULL, &err);
  cr_assert_not_null (mi, "%s", err.msg);
  cr_assert (strstr (mi, " / ro,") != NULL, "%s", mi);
  cr_assert (strstr (mi, " /rw-dir ro,") != NULL, "%s", mi);
  cr_assert (strstr (mi, " /secret ro,") != NULL, "%s", mi);
  cr_assert (strstr (mi, " /etc/secretfile ro,") != NULL, "%s", mi);
  cr_assert (strstr (mi, " /proc/version ro,") != NULL, "%s", mi);
  cr_assert (strstr (mi, " /proc/sys ro,") != NULL, "%s", mi);
}

Test (fs, finalize_refuses_fake_dev_null)
{
  struct husk_err err = { 0 };
  struct husk_linux lx = { .masked_paths = (char *[]){ "/proc/timer_list", NULL }, .n_masked_paths = 1 };
  struct husk_spec spec = { .mounts = finalize_mounts, .n_mounts = 1, .linux = &lx };
  mkdirs (ROOT "/dev");
  put (ROOT "/evil", "evil");
  cr_assert_eq (symlink ("/evil", ROOT "/dev/null"), 0);
  struct husk_mount_ctx ctx = make_ctx (&spec);
  cr_assert_eq (mount_prepare_rootfs (&ctx, &err), 0, "%s", err.msg);
  cr_assert_eq (mount_spec_mounts (&ctx, &err), 0, "%s", err.msg);
  cr_assert_eq (mount_pivot_root (&ctx, &err), 0, "%s", err.msg);
  cr_assert_eq (mount_finalize (&ctx, &err), -1);
  cr_assert (strstr (err.msg, "not the null device") != NULL, "%s", err.msg);

  /* A regular file named null is no better.  */
  cr_assert_eq (unlink ("/dev/null"), 0);
  put ("/dev/null", "");
  cr_assert_eq (mount_finalize (&ctx, &err), -1);
  cr_assert (strstr (err.msg, "not the null device") != NULL, "%s", err.msg);
  cleanup_close int fd = open ("/proc/timer_list", O_RDONLY | O_CLOEXEC);
  cr_assert_neq (strcmp (slurp_fd (fd), "evil"), 0);
}

Test (fs, pivot_with_rootfs_propagation)
{
  const char *modes[] = { "private", "rshared", "slave", "runbindable" };
  for (size_t i = 0; i < ARRAY_SIZE (modes); i++)
    {
      pid_t pid = fork ();
      cr_assert_geq (pid, 0);
      if (pid == 0)
        {
          struct husk_err err = { 0 };
          struct husk_linux lx = { .rootfs_propagation = (char *) modes[i] };
          struct husk_spec spec = { .linux = &lx };
          struct husk_mount_ctx ctx = make_ctx (&spec);
          if (unshare (CLONE_NEWNS) < 0 || mount_prepare_rootfs (&ctx, &err) < 0
              || mount_pivot_root (&ctx, &err) < 0)
            {
              fprintf (stderr, "%s: %s (%s)\n", modes[i], err.msg, strerror (err.errnum));
              _exit (1);
            }
          _exit (access ("/tmp/root", F_OK) == 0 ? 2 : 0);
        }
      int status;
      cr_assert_eq (waitpid (pid, &status, 0), pid);
      cr_assert (WIFEXITED (status) && WEXITSTATUS (status) == 0, "mode %s: status %d", modes[i], status);
    }

  struct husk_err err = { 0 };
  struct husk_linux lx = { .rootfs_propagation = "sideways" };
  struct husk_spec spec = { .linux = &lx };
  struct husk_mount_ctx ctx = make_ctx (&spec);
  cr_assert_eq (mount_prepare_rootfs (&ctx, &err), -1);
  cr_assert_str_eq (err.msg, "config.json: linux.rootfsPropagation: unknown value 'sideways'");
}
