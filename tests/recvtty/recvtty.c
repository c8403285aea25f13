/* recvtty: the other end of `husk run --console-socket`, for the integration tests.
 *
 *   recvtty [-m proxy|null] [-w FILE] SOCKET
 *
 * Listens on the unix stream socket SOCKET (made under a temporary name and renamed into place
 * once it listens, so `[ -S SOCKET ]` means connects will succeed), accepts one connection,
 * receives exactly one fd (SCM_RIGHTS) from it, checks that it is a terminal, and then:
 *   proxy (default)  copies the terminal's output to stdout and stdin to the terminal;
 *   null             reads and discards the terminal's output;
 * until the terminal hangs up (every peer closed: the container is gone).  SOCKET is removed
 * after the accept.  -w FILE writes the terminal's window size as "ROWS COLS\n" to FILE as soon
 * as the fd arrives.  Exit status 0, or 1 with a message on stderr (a message carrying no fd or
 * more than one is an error).  */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#define MAX_FDS 16

static __attribute__ ((noreturn, format (printf, 1, 2))) void
die (const char *fmt, ...)
{
  int e = errno;
  va_list ap;

  fputs ("recvtty: ", stderr);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  if (e != 0)
    fprintf (stderr, ": %s", strerror (e));
  fputc ('\n', stderr);
  exit (1);
}

/* Listen on PATH, atomically: bind a temporary name next to it, listen, rename.  */
static int
listen_at (const char *path)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int fd;

  if (snprintf (addr.sun_path, sizeof addr.sun_path, "%s.%d.tmp", path, (int) getpid ())
      >= (int) sizeof addr.sun_path)
    {
      errno = ENAMETOOLONG;
      die ("socket '%s'", path);
    }
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    die ("socket");
  (void) unlink (addr.sun_path);
  if (bind (fd, (struct sockaddr *) &addr, sizeof addr) < 0)
    die ("bind '%s'", addr.sun_path);
  if (listen (fd, 1) < 0)
    die ("listen '%s'", addr.sun_path);
  if (rename (addr.sun_path, path) < 0)
    die ("rename '%s' to '%s'", addr.sun_path, path);
  return fd;
}

/* Receive one message carrying exactly one fd.  */
static int
recv_one_fd (int sock)
{
  char data[256];
  union
  {
    char buf[CMSG_SPACE (MAX_FDS * sizeof (int))];
    struct cmsghdr align;
  } u;
  struct iovec iov = { .iov_base = data, .iov_len = sizeof data };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
  int fds[MAX_FDS], n = 0;
  ssize_t r;

  memset (&u, 0, sizeof u);
  do
    r = recvmsg (sock, &msg, MSG_CMSG_CLOEXEC);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    die ("recvmsg");
  for (struct cmsghdr *c = CMSG_FIRSTHDR (&msg); c != NULL; c = CMSG_NXTHDR (&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN (0)) / sizeof (int) && n < MAX_FDS; i++)
        memcpy (&fds[n++], CMSG_DATA (c) + i * sizeof (int), sizeof (int));
  errno = 0;
  if ((msg.msg_flags & MSG_CTRUNC) != 0)
    die ("the message carried more than %d file descriptors", MAX_FDS);
  if (n != 1)
    die ("the message carried %d file descriptors, not 1", n);
  return fds[0];
}

static void
write_size (int tty, const char *file)
{
  struct winsize ws;
  FILE *f;

  if (ioctl (tty, TIOCGWINSZ, &ws) < 0)
    die ("TIOCGWINSZ");
  f = fopen (file, "we");
  if (f == NULL)
    die ("open '%s'", file);
  fprintf (f, "%u %u\n", (unsigned) ws.ws_row, (unsigned) ws.ws_col);
  if (fclose (f) != 0)
    die ("write '%s'", file);
}

static void
write_all (int fd, const char *buf, size_t len)
{
  while (len > 0)
    {
      ssize_t n = write (fd, buf, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        die ("write");
      buf += n;
      len -= (size_t) n;
    }
}

/* Copy TTY's output to stdout (PROXY) or nowhere, and stdin to TTY (PROXY), until TTY hangs up.  */
static void
serve (int tty, bool proxy)
{
  bool in_open = proxy;
  char buf[8192];

  for (;;)
    {
      struct pollfd fds[2] = { { .fd = tty, .events = POLLIN }, { .fd = in_open ? 0 : -1, .events = POLLIN } };
      ssize_t n;

      if (poll (fds, 2, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          die ("poll");
        }
      if (fds[0].revents != 0)
        {
          n = read (tty, buf, sizeof buf);
          if (n == 0 || (n < 0 && errno == EIO))
            return;
          if (n < 0 && errno != EINTR && errno != EAGAIN)
            die ("read the terminal");
          if (n > 0 && proxy)
            write_all (1, buf, (size_t) n);
        }
      if (fds[1].revents != 0)
        {
          n = read (0, buf, sizeof buf);
          if (n <= 0)
            in_open = false;
          else
            write_all (tty, buf, (size_t) n);
        }
    }
}

static void
usage (void)
{
  fputs ("usage: recvtty [-m proxy|null] [-w FILE] SOCKET\n", stderr);
  exit (2);
}

int
main (int argc, char **argv)
{
  const char *mode = "proxy", *size_file = NULL;
  int opt, lsock, conn, tty;

  while ((opt = getopt (argc, argv, "m:w:")) != -1)
    switch (opt)
      {
      case 'm':
        mode = optarg;
        break;
      case 'w':
        size_file = optarg;
        break;
      default:
        usage ();
      }
  if (optind + 1 != argc || (strcmp (mode, "proxy") != 0 && strcmp (mode, "null") != 0))
    usage ();
  (void) signal (SIGPIPE, SIG_IGN);

  lsock = listen_at (argv[optind]);
  do
    conn = accept4 (lsock, NULL, NULL, SOCK_CLOEXEC);
  while (conn < 0 && errno == EINTR);
  if (conn < 0)
    die ("accept");
  (void) close (lsock);
  (void) unlink (argv[optind]);

  tty = recv_one_fd (conn);
  (void) close (conn);
  if (!isatty (tty))
    {
      errno = 0;
      die ("the received file descriptor is not a terminal");
    }
  if (size_file != NULL)
    write_size (tty, size_file);
  serve (tty, strcmp (mode, "proxy") == 0);
  return 0;
}
