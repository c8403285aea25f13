/* What husk's parent process does around a process it started (the container's init, or an exec'd
 * process): its pid file, its oom_score_adj, waiting for it while forwarding signals, reaping.  */
#ifndef HUSK_PARENT_H
#define HUSK_PARENT_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "spec.h"

/* Reap the child *PID (retrying on EINTR) and set *PID to -1; nothing when *PID <= 0.  */
void parent_reap (pid_t *pid);

/* On a failure path: SIGKILL the child *PID (when > 0) and reap it.  */
void parent_kill (pid_t *pid);

/* With a terminal and no console socket: proxy between husk's stdio and the pty MASTER until the
 * process (PIDFD) ends, forwarding signals read from SFD; a proxy error is a warning.  */
void parent_proxy_console (int master, int pidfd, int sfd);

/* Write PID to PATH as digits only, no newline (what containerd and conmon read), atomically through
 * a temp file and rename.  Returns 0, or -1 with ERR.  */
int parent_write_pid_file (const char *path, pid_t pid, struct husk_err *err);

/* Wait for husk's child PID, forwarding every signal read from the signalfd SFD (husk blocks them
 * all) to it through PIDFD; its end is seen on PIDFD, not through SIGCHLD, which a caller may have set
 * to be ignored.  With KILL_UNCAUGHT, a forwarded signal whose default action ends a process and
 * that PID leaves at its default (pid 1 of a pid namespace then ignores it) is followed by SIGKILL,
 * and the status reports death by the forwarded signal, as for a plain process.  Returns its exit
 * status as a shell reports it (128+N for death by signal N; 255 if waiting failed).  */
int parent_wait_forwarding (pid_t pid, int pidfd, int sfd, bool kill_uncaught);

/* With process.terminal: take the pty master stage 2 sends over the sync socket SYNC (SYNC_CONSOLE +
 * one fd), then hand it to CONSOLE_SOCKET when given (*MASTER stays -1), or keep it in *MASTER for
 * terminal_proxy.  Returns 0, or -1 with ERR.  */
int parent_receive_console (int sync, const char *console_socket, int *master, struct husk_err *err);

/* Stage 2 announced PID over SYNC: open a pidfd of it, write PROCESS->oomScoreAdj, send SYNC_GO,
 * and with a terminal take its pty master (parent_receive_console with CONSOLE_SOCKET, *MASTER).
 * Returns the pidfd (close it), or -1 with ERR.  */
int parent_adopt (int sync, pid_t pid, const struct husk_process *process, const char *console_socket,
                  int *master, struct husk_err *err);

/* A terminal_proxy on_signal callback: forward SI's signal (not SIGCHLD) through the pidfd *DATA.  */
struct signalfd_siginfo;
void parent_forward_signal (const struct signalfd_siginfo *si, void *data);

/* Write PROCESS->oomScoreAdj (when set) for PID from the parent, as host root: a non-dumpable process
 * in a user namespace may not write its own, and the value survives execve.  Returns 0, or -1 with
 * ERR.  config.md "Linux process" oomScoreAdj.  */
int parent_set_oom_score_adj (const struct husk_process *process, pid_t pid, struct husk_err *err);

/* The fds 3..3+N-1 that --preserve-fds (and LISTEN_FDS) hand to the process must be the caller's:
 * each open, and none of husk's own (its --log file), or husk's fds would reach the container.
 * WHAT names the option in the error ("run: --preserve-fds 2: fd 4 is not open").  Returns 0, or -1
 * with ERR.  */
int parent_check_preserved_fds (unsigned int n, const char *what, struct husk_err *err);

/* In a child about to become the container's or an exec'd process: every fd from 3+N up closes at
 * execve (CVE-2024-21626: nothing of husk's or the caller's leaks), fds 3..3+N-1 stay open across it.  */
void parent_keep_fds (unsigned int n);

#endif
