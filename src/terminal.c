/* The container's pseudo-terminal (see terminal.h).
 *
 * The pty is made by stage 2 from the container's own devpts, so its number and /dev/console are
 * the container's.  The peer is never looked up by name: TIOCGPTPEER hands it over as an fd, which
 * is also what gets bind-mounted on /dev/console (CVE-2025-52565).  The master leaves stage 2 as an
 * fd over the sync socket and goes on to the console socket, or to `husk run`'s proxy.  */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "fs.h"
#include "terminal.h"
#include "util.h"

/* The ptmx character device, and the major of the Unix98 pty slaves: pty N is 136:N (the kernel
 * registers one region of 20-bit minors; "ls -l /dev/pts/300" shows 136, 300).  */
#define PTMX_MAJOR 5
#define PTMX_MINOR 2
#define PTY_SLAVE_MAJOR 136

/* The payload that goes with the fd: a stream socket carries no ancillary data without one byte.  */
#define SEND_FD_PAYLOAD "/dev/ptmx"

/* How many fds a received message may carry before the control data is truncated: more than one
 * is refused anyway, this only lets us close what a misbehaving sender put in.  */
#define RECV_MAX_FDS 16

/* Size of each copy between the master and husk's stdio.  */
#define PROXY_BUF 8192

/* ---- making the pty ---------------------------------------------------------------------------- */

/* Check that FD (opened as NAME) is the ptmx (5:2) of a devpts; *ST gets its stat.  Returns 0, or -1
 * with ERR.  */
static int
check_ptmx (int fd, const char *name, struct stat *st, struct husk_err *err)
{
  struct statfs sfs;

  if (fstat (fd, st) < 0 || fstatfs (fd, &sfs) < 0)
    return husk_err_set (err, errno, "stat '%s' in the container root", name);
  if (!S_ISCHR (st->st_mode) || st->st_rdev != makedev (PTMX_MAJOR, PTMX_MINOR) || sfs.f_type != DEVPTS_SUPER_MAGIC)
    return husk_err_set (err, ENODEV, "'%s' in the container root is not the ptmx (5:2) of a devpts", name);
  return 0;
}

/* Open "/dev/pts/ptmx" in the root, never following a symlink: looked at through an O_PATH fd
 * first, so nothing but a devpts ptmx is ever opened, then opened for real and checked to be the
 * same inode.  O_NONBLOCK for the open, cleared after.  (A "/dev/ptmx" node or symlink is not
 * tried: the kernel takes the devpts at its sibling "pts", which holds this same ptmx.)  Returns
 * the fd, or -1 with ERR.  */
static int
open_ptmx (int rootfd, struct husk_err *err)
{
  const char *name = "/dev/pts/ptmx";
  struct stat want, got;
  cleanup_close int pathfd = fs_open_in_root (rootfd, name, O_PATH | O_NOFOLLOW, err);

  if (pathfd < 0 && err->errnum == ENOENT)
    return husk_err_set (err, ENOENT, "config.json: process.terminal: no '%s' in the container (mount a devpts "
                                      "on /dev/pts)", name);
  if (pathfd < 0 || check_ptmx (pathfd, name, &want, err) < 0)
    return -1;

  cleanup_close int fd = fs_open_in_root (rootfd, name, O_RDWR | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW, err);
  if (fd < 0 || check_ptmx (fd, name, &got, err) < 0)
    return -1;
  if (got.st_dev != want.st_dev || got.st_ino != want.st_ino)
    return husk_err_set (err, EXDEV, "'%s' in the container root changed while it was opened", name);
  if (fcntl (fd, F_SETFL, O_RDWR) < 0)
    return husk_err_set (err, errno, "clear O_NONBLOCK on '%s'", name);
  return steal_fd (&fd);
}

/* Unlock MASTER and open its peer through it.  The peer must be the slave numbered as MASTER says,
 * on a devpts.  Returns the peer fd, or -1 with ERR.  */
static int
open_peer (int master, struct husk_err *err)
{
  int unlock = 0;
  unsigned int n;
  struct stat st;
  struct statfs sfs;

  if (ioctl (master, TIOCSPTLCK, &unlock) < 0)
    return husk_err_set (err, errno, "unlock the pty (TIOCSPTLCK)");
  if (ioctl (master, TIOCGPTN, &n) < 0)
    return husk_err_set (err, errno, "get the pty number (TIOCGPTN)");

  cleanup_close int peer = ioctl (master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (peer < 0)
    return husk_err_set (err, errno, "open the pty peer (TIOCGPTPEER)");
  if (fstat (peer, &st) < 0 || fstatfs (peer, &sfs) < 0)
    return husk_err_set (err, errno, "stat the pty peer");
  if (!S_ISCHR (st.st_mode) || sfs.f_type != DEVPTS_SUPER_MAGIC
      || st.st_rdev != makedev (PTY_SLAVE_MAJOR, n))
    return husk_err_set (err, ENOTTY, "the pty peer is not pty %u on a devpts", n);
  return steal_fd (&peer);
}

/* consoleSize onto the pty.  Returns 0, or -1 with ERR.  */
static int
set_console_size (int master, const struct husk_process *process, struct husk_err *err)
{
  struct winsize ws = { 0 };

  if (!process->has_console_size)
    return 0;
  if (process->console_height > USHRT_MAX)
    return husk_err_set (err, 0, "config.json: process.consoleSize.height: %u is larger than %u",
                         process->console_height, (unsigned) USHRT_MAX);
  if (process->console_width > USHRT_MAX)
    return husk_err_set (err, 0, "config.json: process.consoleSize.width: %u is larger than %u",
                         process->console_width, (unsigned) USHRT_MAX);
  ws.ws_row = (unsigned short) process->console_height;
  ws.ws_col = (unsigned short) process->console_width;
  if (ioctl (master, TIOCSWINSZ, &ws) < 0)
    return husk_err_set (err, errno, "config.json: process.consoleSize: set the window size (TIOCSWINSZ)");
  return 0;
}

/* Make the process's user the owner of the pty PEER, so that after the uid change it can still
 * open /dev/console and /dev/pts/N (devpts gives a new pty to its opener, root here).  Kept as it is
 * when that user already owns it (root: the devpts gid= group stays).  Returns 0, or -1 with ERR.  */
static int
give_to_user (int peer, const struct husk_user *user, struct husk_err *err)
{
  struct stat st;

  if (fstat (peer, &st) < 0)
    return husk_err_set (err, errno, "stat the pty peer");
  if (st.st_uid == (uid_t) user->uid)
    return 0;
  if (fchown (peer, (uid_t) user->uid, (gid_t) user->gid) < 0)
    return husk_err_set (err, errno, "chown the pty peer to %u:%u", user->uid, user->gid);
  return 0;
}

/* Bind PEER onto /dev/console in ROOTFD and check the result.  Returns 0, or -1 with ERR.  */
static int
mount_console (int rootfd, int peer, struct husk_err *err)
{
  struct stat want, got;
  cleanup_close int target = fs_mkfile_in_root (rootfd, "/dev/console", 0600, err);
  if (target < 0)
    return -1;
  cleanup_close int mfd = open_tree (peer, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
  if (mfd < 0)
    return husk_err_set (err, errno, "clone the pty peer's mount for '/dev/console' (open_tree)");
  if (move_mount (mfd, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return husk_err_set (err, errno, "mount the pty peer on '/dev/console'");

  cleanup_close int check = fs_open_in_root (rootfd, "/dev/console", O_PATH | O_NOFOLLOW, err);
  if (check < 0)
    return -1;
  if (fstat (peer, &want) < 0 || fstat (check, &got) < 0)
    return husk_err_set (err, errno, "stat '/dev/console' in the container root");
  if (got.st_dev != want.st_dev || got.st_ino != want.st_ino)
    return husk_err_set (err, EXDEV, "'/dev/console' in the container root is not the pty after its mount");
  return 0;
}

int
terminal_open_pty (int rootfd, const struct husk_process *process, int *master, int *peer,
                   struct husk_err *err)
{
  cleanup_close int m = open_ptmx (rootfd, err);
  if (m < 0)
    return -1;
  cleanup_close int p = open_peer (m, err);
  if (p < 0)
    return -1;
  if (set_console_size (m, process, err) < 0)
    return -1;
  if (give_to_user (p, &process->user, err) < 0)
    return -1;
  *master = steal_fd (&m);
  *peer = steal_fd (&p);
  return 0;
}

int
terminal_create (int rootfd, const struct husk_process *process, int *master, int *peer,
                 struct husk_err *err)
{
  cleanup_close int m = -1, p = -1;

  if (terminal_open_pty (rootfd, process, &m, &p, err) < 0)
    return -1;
  if (mount_console (rootfd, p, err) < 0)
    return -1;
  *master = steal_fd (&m);
  *peer = steal_fd (&p);
  return 0;
}

int
terminal_become_controlling (int peer, struct husk_err *err)
{
  cleanup_close int high = -1;

  /* dup2 onto itself would keep FD_CLOEXEC: move a peer sitting on 0..2 out of the way first.  */
  if (peer <= STDERR_FILENO)
    {
      high = fcntl (peer, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
      if (high < 0)
        return husk_err_set (err, errno, "dup the pty peer");
      peer = high;
    }
  if (setsid () < 0)
    return husk_err_set (err, errno, "setsid");
  if (ioctl (peer, TIOCSCTTY, 0) < 0)
    return husk_err_set (err, errno, "make the pty the controlling terminal (TIOCSCTTY)");
  for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++)
    if (dup2 (peer, fd) < 0)
      return husk_err_set (err, errno, "dup2 the pty onto fd %d", fd);
  if (high < 0)
    (void) close (peer);
  return 0;
}

/* ---- passing the master -------------------------------------------------------------------------- */

int
terminal_send_fd (int sock, int fd, struct husk_err *err)
{
  char payload[] = SEND_FD_PAYLOAD;
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } u;
  struct iovec iov = { .iov_base = payload, .iov_len = sizeof payload - 1 };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
  struct cmsghdr *c;
  ssize_t n;

  memset (&u, 0, sizeof u);
  c = CMSG_FIRSTHDR (&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (c), &fd, sizeof fd);

  do
    n = sendmsg (sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return husk_err_set (err, errno, "send the pty master");
  return 0;
}

/* Close every fd carried by MSG's SCM_RIGHTS messages; return how many there were and put the
 * first into *FIRST (left open when it is the only one).  */
static size_t
collect_fds (struct msghdr *msg, int *first)
{
  size_t count = 0;

  *first = -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR (msg); c != NULL; c = CMSG_NXTHDR (msg, c))
    {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len < CMSG_LEN (0))
        continue;
      size_t n = (c->cmsg_len - CMSG_LEN (0)) / sizeof (int);
      for (size_t i = 0; i < n; i++)
        {
          int fd;
          memcpy (&fd, CMSG_DATA (c) + i * sizeof (int), sizeof fd);
          if (count++ == 0)
            *first = fd;
          else
            (void) close (fd);
        }
    }
  if (count > 1 && *first >= 0)
    {
      (void) close (*first);
      *first = -1;
    }
  return count;
}

int
terminal_recv_fd (int sock, int *fd, struct husk_err *err)
{
  char payload[256];
  union
  {
    char buf[CMSG_SPACE (RECV_MAX_FDS * sizeof (int))];
    struct cmsghdr align;
  } u;
  struct iovec iov = { .iov_base = payload, .iov_len = sizeof payload };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
  ssize_t n;
  size_t count;
  int got;

  memset (&u, 0, sizeof u);
  do
    n = recvmsg (sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return husk_err_set (err, errno, "receive the pty master");
  count = collect_fds (&msg, &got);
  if (n == 0 && count == 0)
    return husk_err_set (err, 0, "receive the pty master: the other end closed");
  if ((msg.msg_flags & MSG_CTRUNC) != 0)
    {
      if (got >= 0)
        (void) close (got);
      return husk_err_set (err, EBADMSG, "receive the pty master: too many file descriptors");
    }
  if (count != 1)
    return husk_err_set (err, EBADMSG, "receive the pty master: the message carried %zu file descriptors, not 1",
                         count);
  *fd = got;
  return 0;
}

int
terminal_connect (const char *path, struct husk_err *err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  size_t len = strlen (path);

  if (len == 0)
    return husk_err_set (err, EINVAL, "--console-socket '%s'", path);
  if (len >= sizeof addr.sun_path)
    return husk_err_set (err, ENAMETOOLONG, "--console-socket '%s'", path);
  memcpy (addr.sun_path, path, len + 1);

  cleanup_close int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return husk_err_set (err, errno, "--console-socket '%s': socket", path);
  while (connect (fd, (struct sockaddr *) &addr, (socklen_t) (offsetof (struct sockaddr_un, sun_path) + len + 1)) < 0)
    if (errno != EINTR)
      return husk_err_set (err, errno, "--console-socket '%s': connect", path);
  return steal_fd (&fd);
}

/* ---- husk run's own proxy ------------------------------------------------------------------------ */

/* Bytes read from IN and not yet taken by the master.  */
struct pending
{
  char buf[PROXY_BUF];
  size_t off, len;
};

/* Give the window size of the terminal TTY (none when -1) to MASTER.  Errors are ignored: the size
 * is a courtesy.  */
static void
copy_window_size (int tty, int master)
{
  struct winsize ws;

  if (tty >= 0 && ioctl (tty, TIOCGWINSZ, &ws) == 0)
    (void) ioctl (master, TIOCSWINSZ, &ws);
}

/* Copy everything MASTER has now to OUT (unless *OUT_OK is false: then discard it).  Returns 1 when
 * the master hung up (EIO or end of file), 0 when it has nothing more for now, -1 with ERR.  */
static int
drain_master (int master, int out, bool *out_ok, struct husk_err *err)
{
  char buf[PROXY_BUF];

  for (;;)
    {
      ssize_t n = read (master, buf, sizeof buf);
      if (n == 0 || (n < 0 && errno == EIO))
        return 1;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return 0;
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return husk_err_set (err, errno, "read the pty master");
      if (*out_ok && write_all (out, buf, (size_t) n) < 0)
        *out_ok = false;
    }
}

/* Read what IN has into PEND (empty).  Returns false when IN is finished (end of file, error).  */
static bool
fill_pending (int in, struct pending *pend)
{
  ssize_t n;

  do
    n = read (in, pend->buf, sizeof pend->buf);
  while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    return true;
  if (n <= 0)
    return false;
  pend->off = 0;
  pend->len = (size_t) n;
  return true;
}

/* Write what the master takes of PEND.  Returns 0, or -1 with errno (the master is gone).  */
static int
flush_pending (int master, struct pending *pend)
{
  while (pend->len > 0)
    {
      ssize_t n = write (master, pend->buf + pend->off, pend->len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return 0;
      if (n < 0)
        return -1;
      pend->off += (size_t) n;
      pend->len -= (size_t) n;
    }
  return 0;
}

/* Read one signal from SFD: a window change is handled here, anything else goes to P's callback.  */
static void
handle_signal (const struct terminal_proxy *p, int tty)
{
  struct signalfd_siginfo si;

  if (read (p->sfd, &si, sizeof si) != (ssize_t) sizeof si)
    return;
  if (si.ssi_signo == SIGWINCH)
    copy_window_size (tty, p->master);
  else if (p->on_signal != NULL)
    p->on_signal (&si, p->data);
}

/* The poll loop of terminal_proxy, with TTY the terminal whose size the pty follows (or -1).
 * Returns 0, or -1 with ERR.  */
static int
proxy_loop (const struct terminal_proxy *p, int tty, struct husk_err *err)
{
  struct pending pend = { .len = 0 };
  bool in_open = p->in >= 0, out_ok = true;

  for (;;)
    {
      enum { PIDFD, SFD, MASTER, IN };
      struct pollfd fds[4] = {
        [PIDFD] = { .fd = p->pidfd, .events = POLLIN },
        [SFD] = { .fd = p->sfd, .events = POLLIN },
        [MASTER] = { .fd = p->master, .events = POLLIN | (pend.len > 0 ? POLLOUT : 0) },
        [IN] = { .fd = in_open && pend.len == 0 ? p->in : -1, .events = POLLIN },
      };
      int r;

      if (poll (fds, 4, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          return husk_err_set (err, errno, "poll the pty master");
        }
      if (fds[MASTER].revents != 0)
        {
          r = drain_master (p->master, p->out, &out_ok, err);
          if (r != 0)
            return r < 0 ? -1 : 0;
          if ((fds[MASTER].revents & POLLOUT) != 0 && flush_pending (p->master, &pend) < 0)
            return 0;
        }
      if (fds[PIDFD].revents != 0)
        return drain_master (p->master, p->out, &out_ok, err) < 0 ? -1 : 0;
      if (fds[SFD].revents != 0)
        handle_signal (p, tty);
      if (fds[IN].revents != 0)
        {
          in_open = fill_pending (p->in, &pend);
          if (flush_pending (p->master, &pend) < 0)
            return 0;
        }
    }
}

int
terminal_proxy (const struct terminal_proxy *p, struct husk_err *err)
{
  struct termios saved, raw;
  bool restore = false;
  int tty = -1, flags, ret;

  flags = fcntl (p->master, F_GETFL);
  if (flags < 0 || fcntl (p->master, F_SETFL, flags | O_NONBLOCK) < 0)
    return husk_err_set (err, errno, "set O_NONBLOCK on the pty master");

  if (p->in >= 0 && isatty (p->in))
    tty = p->in;
  else if (isatty (p->out))
    tty = p->out;
  copy_window_size (tty, p->master);

  if (p->in >= 0 && tty == p->in && tcgetattr (p->in, &saved) == 0)
    {
      raw = saved;
      cfmakeraw (&raw);
      if (tcsetattr (p->in, TCSANOW, &raw) < 0)
        return husk_err_set (err, errno, "put the terminal in raw mode");
      restore = true;
    }

  ret = proxy_loop (p, tty, err);

  if (restore)
    (void) tcsetattr (p->in, TCSANOW, &saved);
  return ret;
}
