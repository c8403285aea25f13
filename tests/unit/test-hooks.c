/* Unit tests for hooks_run (config.md "POSIX-platform Hooks"): order, state on stdin, exact argv and
 * environment, timeouts that leave nothing behind, failure messages, hooks that do not read stdin,
 * closed fds, a clean signal mask.  The hooks are /bin/sh and coreutils.  */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "hooks.h"
#include "util.h"

static char dir[] = "/tmp/husk-test-hooks.XXXXXX";

static void
make_dir (void)
{
  strcpy (dir, "/tmp/husk-test-hooks.XXXXXX");
  cr_assert_not_null (mkdtemp (dir));
}

static void
remove_dir (void)
{
  char *cmd = xasprintf ("rm -rf '%s'", dir);
  cr_assert_eq (system (cmd), 0);
  free (cmd);
}

TestSuite (hooks, .init = make_dir, .fini = remove_dir, .timeout = 30);

/* DIR/NAME, to free.  */
static char *
in_dir (const char *name)
{
  return xasprintf ("%s/%s", dir, name);
}

/* The whole content of DIR/NAME (free it), NULL when it does not exist.  */
static char *
slurp (const char *name, size_t *len)
{
  struct husk_err err = { 0 };
  char *path = in_dir (name);
  char *s = read_file_at (AT_FDCWD, path, 16 << 20, len, &err);
  free (path);
  return s;
}

/* A `/bin/sh -c SCRIPT` hook (argv[0] "sh"), with no environment: everything it needs is in SCRIPT.  */
static struct husk_hook
sh_hook (const char *script)
{
  char **args = xcalloc (4, sizeof *args);

  args[0] = xstrdup ("sh");
  args[1] = xstrdup ("-c");
  args[2] = xstrdup (script);
  return (struct husk_hook) { .path = xstrdup ("/bin/sh"), .args = args, .n_args = 3 };
}

static void
hook_free (struct husk_hook *h)
{
  free (h->path);
  strv_free (h->args);
  strv_free (h->env);
}

/* True when PID no longer runs: gone or a zombie of someone else (waits up to 2 s for that).  */
static bool
pid_gone (pid_t pid)
{
  for (int i = 0; i < 200; i++)
    {
      char path[64], *status;
      struct husk_err err = { 0 };

      (void) snprintf (path, sizeof path, "/proc/%d/status", (int) pid);
      status = read_file_at (AT_FDCWD, path, 1 << 16, NULL, &err);
      if (status == NULL)
        return true;
      bool zombie = strstr (status, "State:\tZ") != NULL;
      free (status);
      if (zombie)
        return true;
      usleep (10000);
    }
  return false;
}

static double
now_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

Test (hooks, run_in_order)
{
  struct husk_err err = { 0 };
  struct husk_hook h[3];
  char *script, *out;

  for (int i = 0; i < 3; i++)
    {
      script = xasprintf ("echo hook%d >> '%s/order'", i, dir);
      h[i] = sh_hook (script);
      free (script);
    }
  cr_assert_eq (hooks_run (h, 3, "createRuntime", "{}", &err), 0, "%s", err.msg);
  out = slurp ("order", NULL);
  cr_assert_str_eq (out, "hook0\nhook1\nhook2\n");
  free (out);
  for (int i = 0; i < 3; i++)
    hook_free (&h[i]);
}

Test (hooks, zero_hooks_is_success)
{
  struct husk_err err = { 0 };
  cr_assert_eq (hooks_run (NULL, 0, "poststop", "{}", &err), 0);
}

Test (hooks, state_on_stdin_then_eof)
{
  static const char state[] = "{\"ociVersion\":\"1.2.0\",\"id\":\"c1\",\"status\":\"creating\",\"pid\":42,"
                              "\"bundle\":\"/b\",\"annotations\":{\"k\":\"v\"}}";
  struct husk_err err = { 0 };
  char *script = xasprintf ("cat > '%s/state'", dir);
  struct husk_hook h = sh_hook (script);
  size_t len;
  char *out;

  /* cat returns only at EOF: a missing EOF would hang here until the suite's timeout.  */
  cr_assert_eq (hooks_run (&h, 1, "prestart", state, &err), 0, "%s", err.msg);
  out = slurp ("state", &len);
  cr_assert_eq (len, strlen (state));
  cr_assert_str_eq (out, state);
  free (out);
  free (script);
  hook_free (&h);
}

Test (hooks, args_and_env_exact)
{
  struct husk_err err = { 0 };
  char *script = xasprintf ("cat /proc/$$/cmdline > '%s/cmdline'; cat /proc/$$/environ > '%s/environ'", dir, dir);
  char *args[] = { "custom-argv0", "-c", script, "one", "two words", NULL };
  char *env[] = { "A=1", "B=two words", "EMPTY=", NULL };
  struct husk_hook h = { .path = "/bin/sh", .args = args, .n_args = 5, .env = env, .n_env = 3 };
  static const char want_env[] = "A=1\0B=two words\0EMPTY=";
  size_t len, want_len;
  char *want, *out;

  cr_assert_eq (hooks_run (&h, 1, "createContainer", "{}", &err), 0, "%s", err.msg);

  want = xasprintf ("custom-argv0%c-c%c%s%cone%ctwo words", 0, 0, script, 0, 0);
  want_len = strlen ("custom-argv0") + 1 + 3 + strlen (script) + 1 + 4 + strlen ("two words") + 1;
  out = slurp ("cmdline", &len);
  cr_assert_eq (len, want_len);
  cr_assert_eq (memcmp (out, want, len), 0);
  free (out);
  free (want);

  out = slurp ("environ", &len);
  cr_assert_eq (len, sizeof want_env); /* each entry NUL-terminated */
  cr_assert_eq (memcmp (out, want_env, len), 0);
  free (out);
  free (script);
}

Test (hooks, no_args_means_argv_is_path_and_no_env_is_empty)
{
  struct husk_err err = { 0 };
  /* argv {"/bin/sh"}: sh reads its script from stdin, which is the state.  */
  char *state = xasprintf ("cat /proc/$$/cmdline > '%s/cmdline'; cat /proc/$$/environ > '%s/environ'\n", dir, dir);
  struct husk_hook h = { .path = "/bin/sh" };
  size_t len;
  char *out;

  cr_assert_eq (hooks_run (&h, 1, "poststart", state, &err), 0, "%s", err.msg);
  out = slurp ("cmdline", &len);
  cr_assert_eq (len, sizeof "/bin/sh");
  cr_assert_eq (memcmp (out, "/bin/sh", len), 0);
  free (out);
  out = slurp ("environ", &len);
  cr_assert_eq (len, 0);
  free (out);
  free (state);
}

Test (hooks, timeout_kills_and_reaps_the_hook_and_its_children)
{
  struct husk_err err = { 0 };
  char *script = xasprintf ("sleep 10 & echo $! > '%s/child'; echo $$ > '%s/pid'; wait", dir, dir);
  struct husk_hook h = sh_hook (script);
  pid_t pid, child;
  double t0, dt;
  char *s;

  h.has_timeout = true;
  h.timeout = 1;
  t0 = now_s ();
  cr_assert_eq (hooks_run (&h, 1, "createRuntime", "{}", &err), -1);
  dt = now_s () - t0;
  cr_assert (dt >= 0.9 && dt < 2.5, "took %.2f s", dt);
  cr_assert_str_eq (err.msg, "hooks.createRuntime[0]: '/bin/sh' timed out after 1 s");

  s = slurp ("pid", NULL);
  cr_assert_not_null (s);
  pid = atoi (s);
  free (s);
  s = slurp ("child", NULL);
  cr_assert_not_null (s);
  child = atoi (s);
  free (s);
  /* Reaped by hooks_run: not even a zombie (it was our child).  */
  cr_assert_eq (kill (pid, 0), -1);
  cr_assert_eq (errno, ESRCH);
  /* Its own child was in its process group: killed (init reaps it).  */
  cr_assert (pid_gone (child), "the hook's child %d still runs", (int) child);
  free (script);
  hook_free (&h);
}

Test (hooks, timeout_of_a_plain_sleep)
{
  struct husk_err err = { 0 };
  char *args[] = { "sleep", "10", NULL };
  struct husk_hook h = { .path = "/bin/sleep", .args = args, .n_args = 2, .has_timeout = true, .timeout = 1 };
  double t0 = now_s ();

  cr_assert_eq (hooks_run (&h, 1, "poststop", NULL, &err), -1);
  cr_assert (now_s () - t0 < 2.5);
  cr_assert_str_eq (err.msg, "hooks.poststop[0]: '/bin/sleep' timed out after 1 s");
  /* No child of ours is left, running or zombie.  */
  cr_assert_eq (waitpid (-1, NULL, WNOHANG), -1);
  cr_assert_eq (errno, ECHILD);
}

Test (hooks, a_timeout_that_is_not_reached)
{
  struct husk_err err = { 0 };
  struct husk_hook h = sh_hook ("exit 0");

  h.has_timeout = true;
  h.timeout = 5;
  cr_assert_eq (hooks_run (&h, 1, "startContainer", "{}", &err), 0, "%s", err.msg);
  hook_free (&h);
}

Test (hooks, nonzero_exit_stops_the_list)
{
  struct husk_err err = { 0 };
  char *script = xasprintf ("touch '%s/third-ran'", dir);
  struct husk_hook h[3] = { sh_hook ("true"), sh_hook ("exit 3"), sh_hook (script) };
  char *third = in_dir ("third-ran");

  cr_assert_eq (hooks_run (h, 3, "createRuntime", "{}", &err), -1);
  cr_assert_str_eq (err.msg, "hooks.createRuntime[1]: '/bin/sh' exited with status 3");
  cr_assert_eq (err.errnum, 0);
  cr_assert_eq (access (third, F_OK), -1, "the hook after the failing one ran");
  free (third);
  free (script);
  for (int i = 0; i < 3; i++)
    hook_free (&h[i]);
}

Test (hooks, killed_by_a_signal)
{
  struct husk_err err = { 0 };
  struct husk_hook h = sh_hook ("kill -9 $$");

  cr_assert_eq (hooks_run (&h, 1, "prestart", "{}", &err), -1);
  cr_assert_str_eq (err.msg, "hooks.prestart[0]: '/bin/sh' killed by signal 9");
  hook_free (&h);
}

Test (hooks, exec_failure_carries_errno)
{
  struct husk_err err = { 0 };
  struct husk_hook h = { .path = "/nonexistent/hook" };

  cr_assert_eq (hooks_run (&h, 1, "poststop", "{}", &err), -1);
  cr_assert_str_eq (err.msg, "hooks.poststop[0]: exec '/nonexistent/hook'");
  cr_assert_eq (err.errnum, ENOENT);
}

Test (hooks, relative_path_is_refused)
{
  struct husk_err err = { 0 };
  struct husk_hook h = { .path = "bin/true" };

  cr_assert_eq (hooks_run (&h, 1, "poststop", "{}", &err), -1);
  cr_assert_str_eq (err.msg, "hooks.poststop[0]: path 'bin/true' is not absolute");
}

/* A 1 MiB state: much more than a pipe holds.  */
static char *
big_state (void)
{
  size_t n = 1 << 20;
  char *s = xmalloc (n + 1);

  memset (s, 'x', n);
  memcpy (s, "{\"id\":\"", 7);
  memcpy (s + n - 2, "\"}", 2);
  s[n] = '\0';
  return s;
}

Test (hooks, a_hook_that_does_not_read_stdin_with_a_big_state)
{
  struct husk_err err = { 0 };
  struct husk_hook h = sh_hook ("exit 0");
  char *state = big_state ();
  sigset_t pending;
  double t0 = now_s ();

  /* A SIGPIPE with its default action would kill this test process.  */
  cr_assert_eq (hooks_run (&h, 1, "poststart", state, &err), 0, "%s", err.msg);
  cr_assert (now_s () - t0 < 5);
  sigemptyset (&pending);
  sigpending (&pending);
  cr_assert_eq (sigismember (&pending, SIGPIPE), 0);
  free (state);
  hook_free (&h);
}

Test (hooks, timeout_while_the_state_is_unread)
{
  struct husk_err err = { 0 };
  char *args[] = { "sleep", "10", NULL };
  struct husk_hook h = { .path = "/bin/sleep", .args = args, .n_args = 2, .has_timeout = true, .timeout = 1 };
  char *state = big_state ();
  double t0 = now_s ();

  /* A blocking write of the state would wait for the reader that never comes, past the timeout.  */
  cr_assert_eq (hooks_run (&h, 1, "createContainer", state, &err), -1);
  cr_assert (now_s () - t0 < 2.5, "took %.2f s", now_s () - t0);
  cr_assert_str_eq (err.msg, "hooks.createContainer[0]: '/bin/sleep' timed out after 1 s");
  free (state);
}

Test (hooks, big_state_with_all_signals_blocked_leaves_no_sigpipe_pending)
{
  struct husk_err err = { 0 };
  struct husk_hook h = sh_hook ("head -c 10 > /dev/null");
  char *script = xasprintf ("cat > '%s/state'", dir);
  struct husk_hook reader = sh_hook (script);
  char *state = big_state (), *out;
  sigset_t all, old, pending;
  size_t len;

  /* As husk's parent runs while a container exists: everything blocked, read from a signalfd.  */
  sigfillset (&all);
  sigprocmask (SIG_BLOCK, &all, &old);
  cr_assert_eq (hooks_run (&h, 1, "poststart", state, &err), 0, "%s", err.msg);
  sigemptyset (&pending);
  sigpending (&pending);
  cr_assert_eq (sigismember (&pending, SIGPIPE), 0, "a SIGPIPE was left for the caller");
  /* and a hook that reads everything gets everything */
  cr_assert_eq (hooks_run (&reader, 1, "poststart", state, &err), 0, "%s", err.msg);
  sigprocmask (SIG_SETMASK, &old, NULL);
  out = slurp ("state", &len);
  cr_assert_eq (len, strlen (state));
  cr_assert_eq (memcmp (out, state, len), 0);
  free (out);
  free (state);
  free (script);
  hook_free (&h);
  hook_free (&reader);
}

Test (hooks, only_stdio_is_open_in_the_hook)
{
  struct husk_err err = { 0 };
  /* ls itself, with its stdout on a file: a shell would add fds of its own (pipes, a saved stdout).
   * ls's listing holds fd 3 too: the directory it reads.  */
  char *args[] = { "ls", "/proc/self/fd", NULL };
  struct husk_hook h = { .path = "/bin/ls", .args = args, .n_args = 2 };
  int leaked = open ("/dev/null", O_RDONLY); /* no O_CLOEXEC: a leak the hook must not see */
  char *path = in_dir ("fds"), *out;
  int out_fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int saved = dup (STDOUT_FILENO);
  int ret;

  cr_assert_geq (leaked, 3);
  cr_assert_geq (out_fd, 0);
  fflush (stdout);
  dup2 (out_fd, STDOUT_FILENO);
  ret = hooks_run (&h, 1, "createRuntime", "{}", &err);
  dup2 (saved, STDOUT_FILENO);
  close (saved);
  close (out_fd);
  cr_assert_eq (ret, 0, "%s", err.msg);
  out = slurp ("fds", NULL);
  cr_assert_str_eq (out, "0\n1\n2\n3\n");
  free (out);
  free (path);
  close (leaked);
}

Test (hooks, the_hook_gets_an_empty_signal_mask_and_default_actions)
{
  struct husk_err err = { 0 };
  char *script = xasprintf ("exec grep -E '^Sig(Blk|Ign)' /proc/self/status > '%s/sig'", dir);
  struct husk_hook h = sh_hook (script);
  sigset_t all, old;
  char *out;

  sigfillset (&all);
  sigprocmask (SIG_BLOCK, &all, &old);
  signal (SIGUSR1, SIG_IGN);
  cr_assert_eq (hooks_run (&h, 1, "createRuntime", "{}", &err), 0, "%s", err.msg);
  signal (SIGUSR1, SIG_DFL);
  sigprocmask (SIG_SETMASK, &old, NULL);
  out = slurp ("sig", NULL);
  /* grep itself, exec'd by the shell: a waiting dash blocks signals of its own.  dash ignores
   * nothing in `sh -c`.  */
  cr_assert_str_eq (out, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
  free (out);
  free (script);
  hook_free (&h);
}
