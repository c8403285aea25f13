/* Unit tests of terminal.c: fd passing (SCM_RIGHTS), --console-socket connect, the container's pty
 * and /dev/console, the controlling terminal, and `husk run`'s proxy.  Criterion runs every test in
 * its own process; the tests that mount first get a private mount namespace with a fresh tmpfs on
 * /tmp and a new devpts instance in it, so nothing reaches the host.  Needs root.  */
#include "config.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "terminal.h"
#include "util.h"

#define ROOT "/tmp/root"

/* ---- helpers --------------------------------------------------------------------------------- */

static int
count_fds (void)
{
  DIR *d = opendir ("/proc/self/fd");
  struct dirent *e;
  int n = 0;

  cr_assert_not_null (d);
  while ((e = readdir (d)) != NULL)
    if (e->d_name[0] != '.')
      n++;
  closedir (d);
  return n - 1; /* the directory's own fd */
}

static void
assert_same_file (int a, int b)
{
  struct stat sa, sb;
  cr_assert_eq (fstat (a, &sa), 0);
  cr_assert_eq (fstat (b, &sb), 0);
  cr_assert_eq (sa.st_dev, sb.st_dev);
  cr_assert_eq (sa.st_ino, sb.st_ino);
}

static bool
has_cloexec (int fd)
{
  int f = fcntl (fd, F_GETFD);
  cr_assert_geq (f, 0, "F_GETFD %d: %s", fd, strerror (errno));
  return (f & FD_CLOEXEC) != 0;
}

/* Send FDS (N of them) with one byte over SOCK, the way a misbehaving peer would.  */
static void
send_raw_fds (int sock, const int *fds, size_t n)
{
  char byte = 'x';
  union
  {
    char buf[CMSG_SPACE (8 * sizeof (int))];
    struct cmsghdr align;
  } u;
  struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

  memset (&u, 0, sizeof u);
  if (n > 0)
    {
      msg.msg_control = u.buf;
      msg.msg_controllen = CMSG_SPACE (n * sizeof (int));
      struct cmsghdr *c = CMSG_FIRSTHDR (&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN (n * sizeof (int));
      memcpy (CMSG_DATA (c), fds, n * sizeof (int));
    }
  cr_assert_eq (sendmsg (sock, &msg, 0), 1, "sendmsg: %s", strerror (errno));
}

/* A pty pair from the host's devpts: *MASTER, *PEER (both O_CLOEXEC).  */
static void
host_pty (int *master, int *peer)
{
  int unlock = 0;
  *master = open ("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  cr_assert_geq (*master, 0, "open /dev/ptmx: %s", strerror (errno));
  cr_assert_eq (ioctl (*master, TIOCSPTLCK, &unlock), 0);
  *peer = ioctl (*master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  cr_assert_geq (*peer, 0, "TIOCGPTPEER: %s", strerror (errno));
}

/* Read from FD (with a 5 s budget) until NEEDLE shows up in what was read; return all of it.  */
static const char *
read_until (int fd, const char *needle)
{
  static char buf[4096];
  size_t len = 0;

  buf[0] = '\0';
  while (strstr (buf, needle) == NULL && len < sizeof buf - 1)
    {
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      cr_assert_eq (poll (&pfd, 1, 5000), 1, "timed out waiting for '%s', got '%s'", needle, buf);
      ssize_t n = read (fd, buf + len, sizeof buf - 1 - len);
      if (n <= 0)
        break;
      len += (size_t) n;
      buf[len] = '\0';
    }
  return buf;
}

/* ---- fd passing ------------------------------------------------------------------------------ */

static void
round_trip (int type)
{
  int sp[2];
  struct husk_err err = { 0 };
  int fd = open ("/proc/self/exe", O_RDONLY | O_CLOEXEC), got = -1;

  cr_assert_geq (fd, 0);
  cr_assert_eq (socketpair (AF_UNIX, type | SOCK_CLOEXEC, 0, sp), 0);
  cr_assert_eq (terminal_send_fd (sp[0], fd, &err), 0, "%s", err.msg);
  cr_assert_eq (terminal_recv_fd (sp[1], &got, &err), 0, "%s", err.msg);
  cr_assert_neq (got, fd);
  assert_same_file (fd, got);
  cr_assert (has_cloexec (got), "the received fd has no FD_CLOEXEC");
}

Test (fdpass, round_trip_stream) { round_trip (SOCK_STREAM); }
Test (fdpass, round_trip_seqpacket) { round_trip (SOCK_SEQPACKET); }

Test (fdpass, refuses_two_fds_and_closes_them)
{
  int sp[2], fds[2], got = -7;
  struct husk_err err = { 0 };

  cr_assert_eq (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
  fds[0] = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  fds[1] = open ("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  send_raw_fds (sp[0], fds, 2);
  int before = count_fds ();
  cr_assert_eq (terminal_recv_fd (sp[1], &got, &err), -1);
  cr_assert_eq (err.errnum, EBADMSG);
  cr_assert_not_null (strstr (err.msg, "2 file descriptors"), "%s", err.msg);
  cr_assert_eq (got, -7, "*FD was set on failure");
  cr_assert_eq (count_fds (), before, "the refused fds were not closed");
}

Test (fdpass, refuses_too_many_fds_for_the_buffer)
{
  int sp[2], fds[8], got = -7;
  struct husk_err err = { 0 };

  cr_assert_eq (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
  for (int i = 0; i < 8; i++)
    fds[i] = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  send_raw_fds (sp[0], fds, 8);
  int before = count_fds ();
  cr_assert_eq (terminal_recv_fd (sp[1], &got, &err), -1);
  cr_assert_eq (err.errnum, EBADMSG);
  cr_assert_eq (count_fds (), before, "the refused fds were not closed");
}

Test (fdpass, refuses_a_message_without_fd)
{
  int sp[2], got = -7;
  struct husk_err err = { 0 };

  cr_assert_eq (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
  send_raw_fds (sp[0], NULL, 0);
  cr_assert_eq (terminal_recv_fd (sp[1], &got, &err), -1);
  cr_assert_eq (err.errnum, EBADMSG);
  cr_assert_not_null (strstr (err.msg, "0 file descriptors"), "%s", err.msg);
}

Test (fdpass, end_of_file)
{
  int sp[2], got = -7;
  struct husk_err err = { 0 };

  cr_assert_eq (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
  close (sp[0]);
  cr_assert_eq (terminal_recv_fd (sp[1], &got, &err), -1);
  cr_assert_eq (err.errnum, 0);
  cr_assert_str_eq (err.msg, "receive the pty master: the other end closed");
}

Test (fdpass, send_to_a_closed_socket_fails_without_sigpipe)
{
  int sp[2];
  struct husk_err err = { 0 };

  cr_assert_eq (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
  close (sp[1]);
  cr_assert_eq (terminal_send_fd (sp[0], 0, &err), -1);
  cr_assert_eq (err.errnum, EPIPE);
}

/* ---- --console-socket ------------------------------------------------------------------------ */

Test (connect, missing_socket)
{
  struct husk_err err = { 0 };
  cr_assert_eq (terminal_connect ("/nonexistent/husk-console.sock", &err), -1);
  cr_assert_eq (err.errnum, ENOENT);
  cr_assert_str_eq (err.msg, "--console-socket '/nonexistent/husk-console.sock': connect");
}

Test (connect, not_a_socket)
{
  struct husk_err err = { 0 };
  cr_assert_eq (terminal_connect ("/proc/self/exe", &err), -1);
  cr_assert_eq (err.errnum, ECONNREFUSED);
}

Test (connect, path_too_long)
{
  struct husk_err err = { 0 };
  char path[200];

  memset (path, 'a', sizeof path - 1);
  path[0] = '/';
  path[sizeof path - 1] = '\0';
  cr_assert_eq (terminal_connect (path, &err), -1);
  cr_assert_eq (err.errnum, ENAMETOOLONG);
}

Test (connect, connects_and_passes_one_fd)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  struct husk_err err = { 0 };
  char dir[] = "/tmp/husk-test-console-XXXXXX";
  int lsock, csock, asock, got = -1;

  cr_assert_not_null (mkdtemp (dir));
  (void) snprintf (addr.sun_path, sizeof addr.sun_path, "%s/sock", dir);
  lsock = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  cr_assert_eq (bind (lsock, (struct sockaddr *) &addr, sizeof addr), 0);
  cr_assert_eq (listen (lsock, 1), 0);

  csock = terminal_connect (addr.sun_path, &err);
  unlink (addr.sun_path);
  rmdir (dir);
  cr_assert_geq (csock, 0, "%s", err.msg);
  cr_assert (has_cloexec (csock));
  asock = accept4 (lsock, NULL, NULL, SOCK_CLOEXEC);
  cr_assert_geq (asock, 0);
  cr_assert_eq (terminal_send_fd (csock, STDERR_FILENO, &err), 0, "%s", err.msg);
  cr_assert_eq (terminal_recv_fd (asock, &got, &err), 0, "%s", err.msg);
  assert_same_file (STDERR_FILENO, got);
}

/* ---- terminal_create ------------------------------------------------------------------------- */

/* A private mount namespace, a tmpfs on /tmp, and ROOT with /dev/pts a new devpts instance and
 * /dev/ptmx -> pts/ptmx (what mount_spec_mounts and dev_setup leave for stage 2).  */
static void
private_root (void)
{
  cr_assert_eq (unshare (CLONE_NEWNS), 0, "unshare: %s", strerror (errno));
  cr_assert_eq (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
  cr_assert_eq (mount ("tmpfs", "/tmp", "tmpfs", 0, "mode=1777"), 0, "mount /tmp: %s", strerror (errno));
  cr_assert_eq (mkdir (ROOT, 0755), 0);
  cr_assert_eq (mkdir (ROOT "/dev", 0755), 0);
  cr_assert_eq (mkdir (ROOT "/dev/pts", 0755), 0);
  cr_assert_eq (symlink ("pts/ptmx", ROOT "/dev/ptmx"), 0);
}

static void
mount_devpts (void)
{
  cr_assert_eq (mount ("devpts", ROOT "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                       "newinstance,ptmxmode=0666,mode=0620,gid=5"),
                0, "mount devpts: %s", strerror (errno));
}

static void
private_root_with_devpts (void)
{
  private_root ();
  mount_devpts ();
}

static int
open_root (void)
{
  int fd = open (ROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
  cr_assert_geq (fd, 0);
  return fd;
}

TestSuite (create, .init = private_root_with_devpts);

Test (create, pty_with_console_size)
{
  struct husk_process proc = { .terminal = true, .has_console_size = true, .console_height = 40,
                               .console_width = 132 };
  struct husk_err err = { 0 };
  int rootfd = open_root (), master = -1, peer = -1;
  struct winsize ws;
  struct stat pst, cst, dst;
  struct statfs sfs;

  cr_assert_eq (terminal_create (rootfd, &proc, &master, &peer, &err), 0, "%s", err.msg);
  cr_assert (isatty (peer));
  cr_assert (has_cloexec (master) && has_cloexec (peer));
  cr_assert_eq (fcntl (master, F_GETFL) & O_NONBLOCK, 0, "the master is left non-blocking");

  cr_assert_eq (ioctl (peer, TIOCGWINSZ, &ws), 0);
  cr_assert_eq (ws.ws_row, 40);
  cr_assert_eq (ws.ws_col, 132);

  /* The pty is from the container's devpts, and /dev/console is that pty.  */
  cr_assert_eq (fstat (peer, &pst), 0);
  cr_assert_eq (fstatfs (peer, &sfs), 0);
  cr_assert_eq (sfs.f_type, DEVPTS_SUPER_MAGIC);
  cr_assert_eq (stat (ROOT "/dev/pts", &dst), 0);
  cr_assert_eq (pst.st_dev, dst.st_dev, "the peer is not in the container's devpts");
  cr_assert_eq (stat (ROOT "/dev/console", &cst), 0);
  cr_assert (S_ISCHR (cst.st_mode));
  cr_assert_eq (cst.st_rdev, pst.st_rdev);
  cr_assert_eq (cst.st_ino, pst.st_ino);

  /* Root keeps what devpts gave it (owner 0, the gid= group).  */
  cr_assert_eq (pst.st_uid, 0);
  cr_assert_eq (pst.st_gid, 5);

  /* Data flows: peer -> master (with the line discipline's \r\n), master -> /dev/console.  */
  cr_assert_eq (write (peer, "hello\n", 6), 6);
  cr_assert_str_eq (read_until (master, "\n"), "hello\r\n");
  int console = open (ROOT "/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);
  cr_assert_geq (console, 0, "open /dev/console: %s", strerror (errno));
  cr_assert_eq (write (console, "via console\n", 12), 12);
  cr_assert_str_eq (read_until (master, "\n"), "via console\r\n");
  cr_assert_eq (write (master, "typed\n", 6), 6);
  cr_assert_not_null (strstr (read_until (peer, "\n"), "typed"));
}

Test (create, without_console_size)
{
  struct husk_process proc = { .terminal = true };
  struct husk_err err = { 0 };
  int rootfd = open_root (), master = -1, peer = -1;
  struct winsize ws;

  cr_assert_eq (terminal_create (rootfd, &proc, &master, &peer, &err), 0, "%s", err.msg);
  cr_assert_eq (ioctl (peer, TIOCGWINSZ, &ws), 0);
  cr_assert_eq (ws.ws_row, 0);
  cr_assert_eq (ws.ws_col, 0);
}

Test (create, peer_belongs_to_the_process_user)
{
  struct husk_process proc = { .terminal = true, .user = { .uid = 1000, .gid = 1001 } };
  struct husk_err err = { 0 };
  int rootfd = open_root (), master = -1, peer = -1;
  struct stat st;

  cr_assert_eq (terminal_create (rootfd, &proc, &master, &peer, &err), 0, "%s", err.msg);
  cr_assert_eq (stat (ROOT "/dev/console", &st), 0);
  cr_assert_eq (st.st_uid, 1000);
  cr_assert_eq (st.st_gid, 1001);
}

/* Pty numbers past 255 (the peer check must know how the kernel numbers them).  */
Test (create, pty_number_above_255)
{
  struct husk_process proc = { .terminal = true };
  struct husk_err err = { 0 };
  int rootfd = open_root (), master = -1, peer = -1;
  unsigned int n;

  for (int i = 0; i < 300; i++)
    cr_assert_geq (open (ROOT "/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC), 0, "%s", strerror (errno));
  cr_assert_eq (terminal_create (rootfd, &proc, &master, &peer, &err), 0, "%s", err.msg);
  cr_assert_eq (ioctl (master, TIOCGPTN, &n), 0);
  cr_assert_eq (n, 300);
  cr_assert (isatty (peer));
}

/* For `husk exec`: a pty of the container's devpts, and no /dev/console.  */
Test (create, open_pty_makes_no_console)
{
  struct husk_process proc = { .terminal = true, .has_console_size = true, .console_height = 5, .console_width = 6 };
  struct husk_err err = { 0 };
  int rootfd = open_root (), master = -1, peer = -1;
  struct winsize ws;
  struct stat pst, dst;

  cr_assert_eq (terminal_open_pty (rootfd, &proc, &master, &peer, &err), 0, "%s", err.msg);
  cr_assert_eq (access (ROOT "/dev/console", F_OK), -1);
  cr_assert_eq (ioctl (master, TIOCGWINSZ, &ws), 0);
  cr_assert_eq (ws.ws_row, 5);
  cr_assert_eq (ws.ws_col, 6);
  cr_assert_eq (fstat (peer, &pst), 0);
  cr_assert_eq (stat (ROOT "/dev/pts", &dst), 0);
  cr_assert_eq (pst.st_dev, dst.st_dev);
}

Test (create, console_size_too_large)
{
  struct husk_process proc = { .terminal = true, .has_console_size = true, .console_height = 24,
                               .console_width = 70000 };
  struct husk_err err = { 0 };
  int rootfd = open_root (), master = -7, peer = -7;

  cr_assert_eq (terminal_create (rootfd, &proc, &master, &peer, &err), -1);
  cr_assert_str_eq (err.msg, "config.json: process.consoleSize.width: 70000 is larger than 65535");
  cr_assert_eq (master, -7);
  cr_assert_eq (peer, -7);
}

Test (create, existing_console_file_is_mounted_over)
{
  struct husk_process proc = { .terminal = true };
  struct husk_err err = { 0 };
  int rootfd = open_root (), master = -1, peer = -1;
  struct stat st;

  close (open (ROOT "/dev/console", O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  cr_assert_eq (terminal_create (rootfd, &proc, &master, &peer, &err), 0, "%s", err.msg);
  cr_assert_eq (stat (ROOT "/dev/console", &st), 0);
  cr_assert (S_ISCHR (st.st_mode));
}

/* CVE-2025-52565: a /dev/console symlink must not get the pty mounted onto its target.  */
Test (create, console_symlink_is_refused)
{
  struct husk_process proc = { .terminal = true };
  struct husk_err err = { 0 };
  int rootfd = open_root (), master = -1, peer = -1;
  struct stat st;
  FILE *f = fopen ("/tmp/canary", "w");

  cr_assert_not_null (f);
  fputs ("canary", f);
  fclose (f);
  cr_assert_eq (symlink ("/tmp/canary", ROOT "/dev/console"), 0);
  cr_assert_eq (terminal_create (rootfd, &proc, &master, &peer, &err), -1);
  cr_assert_eq (err.errnum, ELOOP, "%s", err.msg);
  cr_assert_eq (stat ("/tmp/canary", &st), 0);
  cr_assert (S_ISREG (st.st_mode), "the canary was mounted over");
  cr_assert_eq (st.st_size, 6);
}

Test (create, console_dir_is_refused)
{
  struct husk_process proc = { .terminal = true };
  struct husk_err err = { 0 };
  int rootfd = open_root (), master = -1, peer = -1;

  cr_assert_eq (mkdir (ROOT "/dev/console", 0755), 0);
  cr_assert_eq (terminal_create (rootfd, &proc, &master, &peer, &err), -1);
  cr_assert_eq (err.errnum, EISDIR, "%s", err.msg);
}

TestSuite (create_bad_pts, .init = private_root);

/* The image's /dev/pts/ptmx is a symlink out of the root: refused, never followed.  */
Test (create_bad_pts, ptmx_symlink_is_refused)
{
  struct husk_process proc = { .terminal = true };
  struct husk_err err = { 0 };
  int rootfd = open_root (), master = -1, peer = -1;

  cr_assert_eq (symlink ("/dev/ptmx", ROOT "/dev/pts/ptmx"), 0);
  cr_assert_eq (terminal_create (rootfd, &proc, &master, &peer, &err), -1);
  cr_assert_eq (err.errnum, ENODEV, "%s", err.msg);
  cr_assert_eq (access (ROOT "/dev/console", F_OK), -1, "/dev/console made before the pty");
}

Test (create_bad_pts, ptmx_regular_file_is_refused)
{
  struct husk_process proc = { .terminal = true };
  struct husk_err err = { 0 };
  int rootfd = open_root (), master = -1, peer = -1;

  close (open (ROOT "/dev/pts/ptmx", O_WRONLY | O_CREAT | O_CLOEXEC, 0666));
  cr_assert_eq (terminal_create (rootfd, &proc, &master, &peer, &err), -1);
  cr_assert_eq (err.errnum, ENODEV, "%s", err.msg);
  cr_assert_str_eq (err.msg, "'/dev/pts/ptmx' in the container root is not the ptmx (5:2) of a devpts");
}

Test (create_bad_pts, no_ptmx_at_all)
{
  struct husk_process proc = { .terminal = true };
  struct husk_err err = { 0 };
  int rootfd = open_root (), master = -1, peer = -1;

  cr_assert_eq (terminal_create (rootfd, &proc, &master, &peer, &err), -1);
  cr_assert_eq (err.errnum, ENOENT, "%s", err.msg);
  cr_assert_str_eq (err.msg, "config.json: process.terminal: no '/dev/pts/ptmx' in the container (mount a "
                             "devpts on /dev/pts)");
}

/* A ptmx device node that is not on a devpts (the image's own, on the rootfs) is refused.  */
Test (create_bad_pts, ptmx_node_outside_devpts_is_refused)
{
  struct husk_process proc = { .terminal = true };
  struct husk_err err = { 0 };
  int rootfd = open_root (), master = -1, peer = -1;

  cr_assert_eq (mknod (ROOT "/dev/pts/ptmx", S_IFCHR | 0666, makedev (5, 2)), 0);
  cr_assert_eq (terminal_create (rootfd, &proc, &master, &peer, &err), -1);
  cr_assert_eq (err.errnum, ENODEV, "%s", err.msg);
}

/* The devpts's ptmx over-mounted with another device: refused.  */
Test (create_bad_pts, ptmx_covered_by_dev_null_is_refused)
{
  struct husk_process proc = { .terminal = true };
  struct husk_err err = { 0 };
  int rootfd = open_root (), master = -1, peer = -1;

  mount_devpts ();
  cr_assert_eq (mount ("/dev/null", ROOT "/dev/pts/ptmx", NULL, MS_BIND, NULL), 0);
  cr_assert_eq (terminal_create (rootfd, &proc, &master, &peer, &err), -1, "a /dev/null ptmx was taken");
  cr_assert_eq (err.errnum, ENODEV, "%s", err.msg);
}

/* ---- terminal_become_controlling ------------------------------------------------------------- */

/* In a child: become_controlling (PEER, after moving it to TARGET when >= 0), then check the
 * result; the exit status says which check failed.  */
static int
controlling_child (int master, int peer, int target)
{
  struct husk_err err = { 0 };
  struct stat want, got;

  close (master);
  if (fstat (peer, &want) < 0)
    return 10;
  if (target >= 0)
    {
      if (dup3 (peer, target, O_CLOEXEC) < 0)
        return 11;
      close (peer);
      peer = target;
    }
  if (terminal_become_controlling (peer, &err) < 0)
    return 12;
  if (getsid (0) != getpid ())
    return 13;
  for (int fd = 0; fd <= 2; fd++)
    {
      int fl = fcntl (fd, F_GETFD);
      if (fl < 0 || (fl & FD_CLOEXEC) != 0)
        return 14;
      if (fstat (fd, &got) < 0 || got.st_rdev != want.st_rdev)
        return 15;
      if (tcgetsid (fd) != getpid ())
        return 16;
    }
  if (peer > 2 && fcntl (peer, F_GETFD) >= 0)
    return 17;
  /* /dev/tty is now this pty (its window size is the one set on the master).  */
  struct winsize ws;
  int tty = open ("/dev/tty", O_RDWR | O_CLOEXEC);
  if (tty < 0 || ioctl (tty, TIOCGWINSZ, &ws) < 0 || ws.ws_row != 12 || ws.ws_col != 34)
    return 18;
  return 0;
}

static void
check_controlling (int target)
{
  int master, peer, status;
  pid_t pid;

  struct winsize ws = { .ws_row = 12, .ws_col = 34 };

  host_pty (&master, &peer);
  cr_assert_eq (ioctl (master, TIOCSWINSZ, &ws), 0);
  pid = fork ();
  cr_assert_geq (pid, 0);
  if (pid == 0)
    _exit (controlling_child (master, peer, target));
  cr_assert_eq (waitpid (pid, &status, 0), pid);
  cr_assert (WIFEXITED (status));
  cr_assert_eq (WEXITSTATUS (status), 0, "check %d failed", WEXITSTATUS (status));
}

Test (controlling, peer_above_stdio) { check_controlling (-1); }
Test (controlling, peer_on_stdin_loses_cloexec) { check_controlling (0); }

/* ---- terminal_proxy -------------------------------------------------------------------------- */

static int
pidfd_of (pid_t pid)
{
  int fd = (int) syscall (SYS_pidfd_open, pid, 0);
  cr_assert_geq (fd, 0, "pidfd_open: %s", strerror (errno));
  return fd;
}

/* Everything readable now from FD (non-blocking), as a string.  */
static const char *
slurp_now (int fd)
{
  static char buf[4096];
  size_t len = 0;
  ssize_t n;

  (void) fcntl (fd, F_SETFL, O_NONBLOCK);
  while (len < sizeof buf - 1 && (n = read (fd, buf + len, sizeof buf - 1 - len)) > 0)
    len += (size_t) n;
  buf[len] = '\0';
  return buf;
}

/* The container side: read one line from the pty, answer, exit at once (its output must still
 * reach the proxy after the exit).  */
static void
echo_child (int peer)
{
  char line[64];
  FILE *f = fdopen (peer, "r+");

  if (f == NULL || fgets (line, sizeof line, f) == NULL)
    _exit (1);
  line[strcspn (line, "\n")] = '\0';
  fprintf (f, "got:%s\n", line);
  fflush (f);
  _exit (0);
}

Test (proxy, copies_both_ways_until_exit, .timeout = 20)
{
  int master, peer, in[2], out[2], status;
  struct husk_err err = { 0 };
  pid_t pid;

  host_pty (&master, &peer);
  cr_assert_eq (pipe2 (in, O_CLOEXEC), 0);
  cr_assert_eq (pipe2 (out, O_CLOEXEC), 0);
  pid = fork ();
  if (pid == 0)
    {
      close (master);
      echo_child (peer);
    }
  close (peer);
  cr_assert_eq (write (in[1], "abc\n", 4), 4);
  struct terminal_proxy p = { .master = master, .in = in[0], .out = out[1], .pidfd = pidfd_of (pid), .sfd = -1 };
  cr_assert_eq (terminal_proxy (&p, &err), 0, "%s", err.msg);
  cr_assert_eq (waitpid (pid, &status, 0), pid);
  cr_assert_eq (status, 0);
  cr_assert_not_null (strstr (slurp_now (out[0]), "got:abc\r\n"));
}

/* The peer closes while the process lives on: the proxy ends on the hang-up.  */
Test (proxy, ends_on_hangup, .timeout = 20)
{
  int master, peer, out[2], status;
  struct husk_err err = { 0 };
  pid_t pid;

  host_pty (&master, &peer);
  cr_assert_eq (pipe2 (out, O_CLOEXEC), 0);
  pid = fork ();
  if (pid == 0)
    {
      close (master);
      (void) write (peer, "bye\n", 4);
      close (peer);
      pause ();
      _exit (0);
    }
  close (peer);
  struct terminal_proxy p = { .master = master, .in = -1, .out = out[1], .pidfd = pidfd_of (pid), .sfd = -1 };
  cr_assert_eq (terminal_proxy (&p, &err), 0, "%s", err.msg);
  cr_assert_eq (waitpid (pid, &status, WNOHANG), 0, "the proxy waited for the exit");
  kill (pid, SIGKILL);
  waitpid (pid, &status, 0);
  cr_assert_not_null (strstr (slurp_now (out[0]), "bye\r\n"));
}

static int usr1_seen, other_seen;

static void
on_signal (const struct signalfd_siginfo *si, void *data)
{
  if (si->ssi_signo == SIGUSR1)
    usr1_seen++;
  else
    other_seen++;
  cr_assert_eq (data, &usr1_seen);
}

/* Wait (5 s at most) until FD's window is ROWS x COLS.  */
static bool
wait_size (int fd, unsigned short rows, unsigned short cols)
{
  for (int i = 0; i < 500; i++)
    {
      struct winsize ws;
      if (ioctl (fd, TIOCGWINSZ, &ws) == 0 && ws.ws_row == rows && ws.ws_col == cols)
        return true;
      usleep (10000);
    }
  return false;
}

/* husk's stdin is a terminal (another pty's slave, TTY): raw mode while proxying, restored after;
 * its size is copied at the start and on SIGWINCH; other signals reach the callback.  */
Test (proxy, terminal_stdin_raw_mode_and_resize, .timeout = 20)
{
  int master, peer, tty_master, tty, out[2], status, sfd;
  struct husk_err err = { 0 };
  struct winsize ws = { .ws_row = 33, .ws_col = 77 };
  struct termios before, after;
  sigset_t set;
  pid_t pid;

  host_pty (&master, &peer);
  host_pty (&tty_master, &tty);
  cr_assert_eq (pipe2 (out, O_CLOEXEC), 0);
  cr_assert_eq (ioctl (tty, TIOCSWINSZ, &ws), 0);
  cr_assert_eq (tcgetattr (tty, &before), 0);
  cr_assert (before.c_lflag & ICANON);
  sigemptyset (&set);
  sigaddset (&set, SIGWINCH);
  sigaddset (&set, SIGUSR1);
  cr_assert_eq (sigprocmask (SIG_BLOCK, &set, NULL), 0);
  sfd = signalfd (-1, &set, SFD_CLOEXEC);
  cr_assert_geq (sfd, 0);

  pid = fork ();
  if (pid == 0)
    {
      struct termios t;
      struct winsize big = { .ws_row = 44, .ws_col = 88 };
      FILE *f = fdopen (peer, "w");
      close (master);
      if (!wait_size (peer, 33, 77))
        _exit (2);
      if (tcgetattr (tty, &t) < 0 || (t.c_lflag & ICANON) != 0)
        _exit (3);
      fprintf (f, "raw\n");
      fflush (f);
      /* The user resizes the terminal husk runs in.  */
      if (ioctl (tty, TIOCSWINSZ, &big) < 0 || kill (getppid (), SIGWINCH) < 0)
        _exit (4);
      if (!wait_size (peer, 44, 88))
        _exit (5);
      kill (getppid (), SIGUSR1);
      usleep (100000);
      fprintf (f, "done\n");
      fflush (f);
      _exit (0);
    }
  close (peer);
  struct terminal_proxy p = { .master = master, .in = tty, .out = out[1], .pidfd = pidfd_of (pid), .sfd = sfd,
                              .on_signal = on_signal, .data = &usr1_seen };
  cr_assert_eq (terminal_proxy (&p, &err), 0, "%s", err.msg);
  cr_assert_eq (waitpid (pid, &status, 0), pid);
  cr_assert (WIFEXITED (status));
  cr_assert_eq (WEXITSTATUS (status), 0, "child check %d failed", WEXITSTATUS (status));
  const char *text = slurp_now (out[0]);
  cr_assert_not_null (strstr (text, "raw\r\n"), "%s", text);
  cr_assert_not_null (strstr (text, "done\r\n"), "%s", text);
  cr_assert_eq (usr1_seen, 1);
  cr_assert_eq (other_seen, 0, "SIGWINCH went to the callback");
  cr_assert_eq (tcgetattr (tty, &after), 0);
  cr_assert_eq (after.c_lflag, before.c_lflag, "the terminal was not restored");
  cr_assert_eq (after.c_iflag, before.c_iflag);
  cr_assert_eq (after.c_oflag, before.c_oflag);
}
