/* process.terminal: the container's pseudo-terminal, its /dev/console, handing the master to the
 * caller of `--console-socket` (one fd, SCM_RIGHTS), and `husk run`'s own proxy when there is no
 * socket.  config.md "Process" (terminal, consoleSize); runtime.md / config-linux.md "/dev/console";
 * SECURITY.md CVE-2025-52565 (the peer comes from TIOCGPTPEER, never from a /dev/pts/N path).
 *
 * Where each call goes (see child.c and container.c):
 *   stage 2   terminal_create        after dev_setup, before mount_pivot_root (needs the rootfs fd,
 *                                    the container's devpts at /dev/pts and a writable /dev)
 *             terminal_send_fd       right after, the master to the parent over the sync socket
 *             terminal_become_controlling   before the first seccomp_apply (setsid/ioctl/dup2 then
 *                                    need no allowance in the profile)
 *   parent    terminal_connect       before anything is made, so a bad socket fails early
 *             terminal_recv_fd       between SYNC_GO and SYNC_CREATED
 *             terminal_send_fd       the master to the console socket, or
 *             terminal_proxy         `husk run` in the foreground without a console socket
 *   husk exec terminal_open_pty      in the child, once in the container's mount namespace (no
 *                                    /dev/console: the container already has one)  */
#ifndef HUSK_TERMINAL_H
#define HUSK_TERMINAL_H

#include <sys/signalfd.h>

#include "error.h"
#include "spec.h"

/* Open a pty from the devpts instance of the root ROOTFD (an O_PATH fd of a root directory: the
 * rootfs before pivot_root, or "/" of the container's mount namespace for `husk exec`).
 *
 * Opens "/dev/pts/ptmx" inside ROOTFD without following a symlink; it must be the character device
 * 5:2 on a devpts (looked at through O_PATH before it is opened).  Unlocks it, gets the peer with
 * TIOCGPTPEER (checked to be the pty slave of that number, on a devpts), sets
 * PROCESS->console_height/width with TIOCSWINSZ when has_console_size (rows and columns, each at
 * most 65535), and makes PROCESS->user (uid and gid) the peer's owner when that uid does not own it
 * yet, so the process can reopen it after its uid change.  No /dev/console: see terminal_create.
 *
 * Returns 0 with *MASTER (O_RDWR|O_NOCTTY|O_CLOEXEC, blocking) and *PEER (O_RDWR|O_NOCTTY|O_CLOEXEC)
 * set, or -1 with ERR ("config.json: process.terminal: no '/dev/pts/ptmx' in the container (mount a
 * devpts on /dev/pts): No such file or directory", "config.json: process.consoleSize.width: 70000
 * is larger than 65535", "'/dev/pts/ptmx' in the container root is not the ptmx (5:2) of a
 * devpts", ...).  */
int terminal_open_pty (int rootfd, const struct husk_process *process, int *master, int *peer,
                       struct husk_err *err);

/* The container's console (config-linux.md "/dev/console"), in stage 2, after dev_setup and
 * before mount_pivot_root: terminal_open_pty, then the peer is bind-mounted onto /dev/console in
 * ROOTFD (made as an empty regular file with fs_mkfile_in_root, which refuses a symlink or a
 * directory; the mount goes through fds, open_tree(peer) + move_mount onto the file's fd, and
 * /dev/console is then checked to be the peer's inode).  Returns as terminal_open_pty, or -1 with
 * ERR ("make file '/dev/console' in the container root: it is a symlink: Too many levels of
 * symbolic links").  */
int terminal_create (int rootfd, const struct husk_process *process, int *master, int *peer,
                     struct husk_err *err);

/* Stage 2, before the seccomp filter and execve: start a new session (setsid), make PEER its
 * controlling terminal (TIOCSCTTY, without stealing it from another session), put it on stdin,
 * stdout and stderr (without FD_CLOEXEC, also when PEER is one of them).  PEER is used up: on
 * success it is closed, or is one of 0..2.  Returns 0, or -1 with ERR (setsid fails with EPERM in a
 * process group leader).  */
int terminal_become_controlling (int peer, struct husk_err *err);

/* Send FD over the unix socket SOCK as exactly one SCM_RIGHTS fd, with the bytes "/dev/ptmx" as the
 * payload (a stream socket needs at least one byte; console-socket receivers may show it as the
 * file's name).  SIGPIPE is never raised (MSG_NOSIGNAL).  Returns 0, or -1 with ERR.  */
int terminal_send_fd (int sock, int fd, struct husk_err *err);

/* Receive one message on SOCK carrying exactly one fd (SCM_RIGHTS, received MSG_CMSG_CLOEXEC).
 * A message with no fd, with more than one (all of them are closed), or with truncated control
 * data is refused (EBADMSG); end of file is "the other end closed" (errno 0).  Returns 0 with *FD
 * set, or -1 with ERR.  */
int terminal_recv_fd (int sock, int *fd, struct husk_err *err);

/* Connect to the unix stream socket at PATH (`--console-socket PATH`).  Returns the fd
 * (SOCK_CLOEXEC), or -1 with ERR ("--console-socket '/x': connect: No such file or directory"; a
 * path longer than sun_path is ENAMETOOLONG).  */
int terminal_connect (const char *path, struct husk_err *err);

/* Called by terminal_proxy for each signal read from its signalfd other than SIGWINCH (SIGCHLD
 * included: the callback decides what to forward).  */
typedef void (*terminal_signal_fn) (const struct signalfd_siginfo *si, void *data);

struct terminal_proxy
{
  int master;                  /* the pty master; made O_NONBLOCK */
  int in;                      /* what is typed: copied to the master (normally 0); -1 for none */
  int out;                     /* where the container's output goes (normally 1) */
  int pidfd;                   /* the container process: the proxy ends when it is readable */
  int sfd;                     /* signalfd of husk's blocked signals, or -1 */
  terminal_signal_fn on_signal; /* for every signal but SIGWINCH (may be NULL) */
  void *data;                  /* passed to ON_SIGNAL */
};

/* `husk run` with process.terminal and no --console-socket: copy P->in to the master and the
 * master to P->out until the process behind P->pidfd exits (the output still in the pty is copied
 * first; the process is not reaped) or the master hangs up (every peer fd closed).  When P->in is
 * a terminal it is put in raw mode (restored on every return) and its window size is given to the
 * pty at the start and on each SIGWINCH read from P->sfd; other signals go to P->on_signal, so the
 * caller keeps forwarding them.  End of file on P->in stops reading it (no EOF character is
 * sent); a failed write to P->out discards the rest of the output.  Returns 0, or -1 with ERR
 * (poll or read of the master failing).  */
int terminal_proxy (const struct terminal_proxy *p, struct husk_err *err);

#endif
