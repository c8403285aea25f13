/* Parent/child synchronisation messages (see sync.h).  */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sync.h"

struct sync_msg
{
  int type;
  pid_t pid;
  struct husk_err err;
};

int
sync_pair (int fds[2], struct husk_err *err)
{
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
    return husk_err_set (err, errno, "socketpair");
  return 0;
}

int
sync_send (int fd, enum husk_sync_type type, pid_t pid, const struct husk_err *child_err,
           struct husk_err *err)
{
  struct sync_msg m;

  memset (&m, 0, sizeof m);
  m.type = type;
  m.pid = pid;
  if (child_err != NULL)
    m.err = *child_err;
  for (;;)
    {
      ssize_t n = send (fd, &m, sizeof m, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return husk_err_set (err, errno, "send sync message %d", type);
      return 0;
    }
}

int
sync_wait (int fd, enum husk_sync_type expected, pid_t *pid, struct husk_err *err)
{
  struct sync_msg m;
  ssize_t n;

  do
    n = recv (fd, &m, sizeof m, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return husk_err_set (err, errno, "receive sync message");
  if (n == 0)
    {
      if (expected == 0)
        return 0;
      return husk_err_set (err, 0, "container process exited during setup");
    }
  if (n != sizeof m)
    return husk_err_set (err, 0, "sync message of %zd bytes, expected %zu", n, sizeof m);
  if (m.type == SYNC_ERROR)
    {
      *err = m.err;
      err->msg[sizeof err->msg - 1] = '\0';
      return -1;
    }
  if (m.type != (int) expected)
    return husk_err_set (err, 0, "sync message %d, expected %d", m.type, expected);
  if (pid != NULL)
    *pid = m.pid;
  return 0;
}
