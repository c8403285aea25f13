/* probe: a static test helper copied into every integration-test rootfs as /probe.
 *
 * Each subcommand prints one fact about the process it runs in, seen from inside the container, in a
 * form a bats test can compare with `[ "$output" = ... ]`:
 *
 *   pid | ppid | hostname | domainname | umask | cwd
 *   ns NAME            readlink /proc/self/ns/NAME               ("net:[4026531840]")
 *   status FIELD       value of a /proc/self/status line, tabs as single spaces ("0 0 0 0")
 *   fds                open fds, ascending, on one line          ("0 1 2")
 *   fd N               readlink /proc/self/fd/N
 *   read PATH          the file's content, or the directory's sorted entries one per line
 *   write PATH TEXT    "ok", after open(O_WRONLY|O_CREAT|O_TRUNC) and write
 *   syscall NAME [ARG] "ok" when the raw syscall succeeded: getpid getppid personality socket
 *                      sethostname, mkdir|mkdirat PATH, unshare [user|uts|ipc|net|mnt], or a number
 *   rlimit NAME        "SOFT HARD" ("unlimited" for RLIM_INFINITY); NAME is NOFILE or RLIMIT_NOFILE
 *   env NAME           the variable's value, or "(unset)"
 *   ifup IFNAME        "up" or "down" (IFF_UP from SIOCGIFFLAGS)
 *   sysctl KEY         /proc/sys/KEY with dots as slashes, without the final newline
 *   mountinfo PATH     the last /proc/self/mountinfo line whose mount point is PATH, or "not mounted"
 *   stat|lstat PATH    "type=chr mode=0666 rdev=1:3 uid=0 gid=0 size=0"
 *   isatty FD          "yes" or "no"
 *   exit N             exit with status N
 *   kill-self SIG      kill(getpid(), SIG); prints "error: still alive" when the signal was ignored
 *                      (it is for PID 1 of a PID namespace, whatever the signal)
 *   sleep SECONDS      sleep, then print nothing
 *
 * Any failing system call prints "error: ENAME" (e.g. "error: EACCES") and still exits 0: the error
 * is the answer.  A usage error prints "probe: ..." on stderr and exits 2.  Several subcommands can be
 * run in one go, separated by "--":  /probe ns net -- ns ipc -- status CapEff
 * Build: gcc -std=gnu11 -Wall -Wextra -Werror -static -o probe probe.c
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#define MAX_READ (1024 * 1024) /* `read` prints at most this many bytes */

static void __attribute__ ((noreturn, format (printf, 1, 2)))
usage (const char *fmt, ...)
{
  va_list ap;

  fputs ("probe: ", stderr);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fputc ('\n', stderr);
  exit (2);
}

/* Print "error: ENAME" for ERRNUM; always returns 0 (an error is a valid answer).  */
static int
print_error (int errnum)
{
  const char *name = strerrorname_np (errnum);

  if (name != NULL)
    printf ("error: %s\n", name);
  else
    printf ("error: %d\n", errnum);
  return 0;
}

/* Close FD, keeping errno, and print the error of the call that failed before.  */
static int
close_error (int fd)
{
  int saved = errno;

  close (fd);
  fflush (stdout);
  return print_error (saved);
}

/* Print the target of the symbolic link PATH (e.g. a /proc/self/ns or /proc/self/fd entry).  */
static int
print_link (const char *path)
{
  char link[PATH_MAX];
  ssize_t n = readlink (path, link, sizeof link - 1);

  if (n < 0)
    return print_error (errno);
  link[n] = '\0';
  puts (link);
  return 0;
}

static long
parse_long (const char *s)
{
  char *end;
  long v;

  errno = 0;
  v = strtol (s, &end, 0);
  if (errno != 0 || end == s || *end != '\0')
    usage ("not a number: '%s'", s);
  return v;
}

/* ---- identity ------------------------------------------------------------------------------ */

static int
cmd_uname (char **a)
{
  struct utsname u;

  if (uname (&u) < 0)
    return print_error (errno);
  puts (strcmp (a[-1], "hostname") == 0 ? u.nodename : u.domainname);
  return 0;
}

static int
cmd_ns (char **a)
{
  char path[PATH_MAX];

  snprintf (path, sizeof path, "/proc/self/ns/%s", a[0]);
  return print_link (path);
}

static int
cmd_status (char **a)
{
  const char *field = a[0];
  FILE *f = fopen ("/proc/self/status", "re");
  char line[4096];
  size_t len = strlen (field);

  if (f == NULL)
    return print_error (errno);
  while (fgets (line, sizeof line, f) != NULL)
    {
      if (strncmp (line, field, len) != 0 || line[len] != ':')
        continue;
      /* Print the value's words separated by one space.  */
      const char *sep = "";
      for (char *save, *w = strtok_r (line + len + 1, " \t\n", &save); w != NULL;
           w = strtok_r (NULL, " \t\n", &save), sep = " ")
        printf ("%s%s", sep, w);
      putchar ('\n');
      fclose (f);
      return 0;
    }
  fclose (f);
  printf ("error: no field '%s'\n", field);
  return 0;
}

/* ---- file descriptors ------------------------------------------------------------------------ */

static int
cmp_int (const void *a, const void *b)
{
  return *(const int *) a - *(const int *) b;
}

static int
cmd_fds (char **a __attribute__ ((unused)))
{
  DIR *d = opendir ("/proc/self/fd");
  struct dirent *e;
  int fds[1024];
  size_t n = 0;

  if (d == NULL)
    return print_error (errno);
  while ((e = readdir (d)) != NULL && n < 1024)
    {
      if (e->d_name[0] == '.')
        continue;
      int fd = atoi (e->d_name);
      if (fd != dirfd (d))
        fds[n++] = fd;
    }
  closedir (d);
  qsort (fds, n, sizeof fds[0], cmp_int);
  for (size_t i = 0; i < n; i++)
    printf ("%s%d", i > 0 ? " " : "", fds[i]);
  putchar ('\n');
  return 0;
}

static int
cmd_fd (char **a)
{
  char path[64];

  snprintf (path, sizeof path, "/proc/self/fd/%ld", parse_long (a[0]));
  return print_link (path);
}

static int
cmd_isatty (char **a)
{
  puts (isatty ((int) parse_long (a[0])) ? "yes" : "no");
  return 0;
}

/* ---- files ----------------------------------------------------------------------------------- */

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static int
read_dir (int fd)
{
  DIR *d = fdopendir (fd);
  struct dirent *e;
  char *names[4096];
  size_t n = 0;

  if (d == NULL)
    return print_error (errno);
  while ((e = readdir (d)) != NULL && n < 4096)
    if (strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0)
      names[n++] = strdup (e->d_name);
  closedir (d);
  qsort (names, n, sizeof names[0], cmp_str);
  for (size_t i = 0; i < n; i++)
    {
      puts (names[i]);
      free (names[i]);
    }
  return 0;
}

static int
cmd_read (char **a)
{
  const char *path = a[0];
  static char buf[65536];
  struct stat st;
  size_t total = 0;
  ssize_t n;
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

  if (fd < 0)
    return print_error (errno);
  if (fstat (fd, &st) == 0 && S_ISDIR (st.st_mode))
    return read_dir (fd);
  while (total < MAX_READ && (n = read (fd, buf, sizeof buf)) != 0)
    {
      if (n < 0)
        return close_error (fd);
      fwrite (buf, 1, (size_t) n, stdout);
      total += (size_t) n;
    }
  close (fd);
  return 0;
}

static int
cmd_write (char **a)
{
  const char *path = a[0], *text = a[1];
  size_t len = strlen (text);
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644);

  if (fd < 0)
    return print_error (errno);
  if (len > 0 && write (fd, text, len) < 0)
    return close_error (fd);
  if (close (fd) < 0)
    return print_error (errno);
  puts ("ok");
  return 0;
}

/* open PATH (r, w or rw) and close it again: "ok" or "error: E...".  Reads and writes nothing, so
 * it is safe on any device node.  */
static int
cmd_open (char **a)
{
  int flags = strcmp (a[1], "rw") == 0 ? O_RDWR : strcmp (a[1], "w") == 0 ? O_WRONLY : O_RDONLY;
  int fd = open (a[0], flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

  if (fd < 0)
    return print_error (errno);
  close (fd);
  puts ("ok");
  return 0;
}

/* The memfd seals of PATH (F_GET_SEALS) in hex, e.g. to check that husk runs from a sealed copy.  */
static int
cmd_seals (char **a)
{
  int fd = open (a[0], O_RDONLY | O_CLOEXEC);
  int seals;

  if (fd < 0)
    return print_error (errno);
  seals = fcntl (fd, F_GET_SEALS);
  if (seals < 0)
    return close_error (fd);
  close (fd);
  printf ("0x%x\n", (unsigned) seals);
  return 0;
}

static const char *
file_type (mode_t m)
{
  switch (m & S_IFMT)
    {
    case S_IFREG: return "reg";
    case S_IFDIR: return "dir";
    case S_IFLNK: return "lnk";
    case S_IFCHR: return "chr";
    case S_IFBLK: return "blk";
    case S_IFIFO: return "fifo";
    case S_IFSOCK: return "sock";
    default: return "unknown";
    }
}

static int
cmd_stat (char **a)
{
  const char *path = a[0];
  int follow = a[-1][0] == 's';
  struct stat st;

  if ((follow ? stat (path, &st) : lstat (path, &st)) < 0)
    return print_error (errno);
  printf ("type=%s mode=%04o rdev=%u:%u uid=%u gid=%u size=%lld\n", file_type (st.st_mode),
          (unsigned) (st.st_mode & 07777), major (st.st_rdev), minor (st.st_rdev), st.st_uid,
          st.st_gid, (long long) st.st_size);
  return 0;
}

static int
cmd_mountinfo (char **a)
{
  const char *path = a[0];
  FILE *f = fopen ("/proc/self/mountinfo", "re");
  char line[8192], found[8192] = "";

  if (f == NULL)
    return print_error (errno);
  while (fgets (line, sizeof line, f) != NULL)
    {
      char mnt[PATH_MAX];
      /* fields: id parent major:minor root mount-point ...  */
      if (sscanf (line, "%*s %*s %*s %*s %4095s", mnt) == 1 && strcmp (mnt, path) == 0)
        snprintf (found, sizeof found, "%s", line);
    }
  fclose (f);
  if (found[0] == '\0')
    puts ("not mounted");
  else
    fputs (found, stdout);
  return 0;
}

static int
cmd_sysctl (char **a)
{
  const char *key = a[0];
  char path[PATH_MAX], buf[4096];
  ssize_t n;
  int fd;

  snprintf (path, sizeof path, "/proc/sys/%s", key);
  for (char *p = path + strlen ("/proc/sys/"); *p != '\0'; p++)
    if (*p == '.')
      *p = '/';
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return print_error (errno);
  n = read (fd, buf, sizeof buf - 1);
  if (n < 0)
    return close_error (fd);
  close (fd);
  while (n > 0 && buf[n - 1] == '\n')
    n--;
  buf[n] = '\0';
  puts (buf);
  return 0;
}

/* ---- syscalls and limits --------------------------------------------------------------------- */

/* Run one raw system call by name (or number) with ARG (may be NULL) and print "ok" or the error.
 * Only calls that are harmless inside a container are known by name.  */
static int
cmd_syscall (char **a)
{
  const char *name = a[0], *arg = a[1];
  const char *path = arg != NULL ? arg : "/probe-mkdir";
  long r;

  if (strcmp (name, "getpid") == 0)
    r = syscall (SYS_getpid);
  else if (strcmp (name, "getppid") == 0)
    r = syscall (SYS_getppid);
  else if (strcmp (name, "mkdir") == 0)
    r = syscall (SYS_mkdir, path, 0755);
  else if (strcmp (name, "mkdirat") == 0)
    r = syscall (SYS_mkdirat, AT_FDCWD, path, 0755);
  else if (strcmp (name, "personality") == 0) /* 0xffffffff only queries */
    r = syscall (SYS_personality, 0xffffffffUL);
  else if (strcmp (name, "unshare") == 0) /* ARG: user (default), uts, ipc, net, mnt */
    {
      const char *ns = arg != NULL ? arg : "user";
      long flag = strcmp (ns, "uts") == 0   ? CLONE_NEWUTS
                  : strcmp (ns, "ipc") == 0 ? CLONE_NEWIPC
                  : strcmp (ns, "net") == 0 ? CLONE_NEWNET
                  : strcmp (ns, "mnt") == 0 ? CLONE_NEWNS
                                            : CLONE_NEWUSER;
      r = syscall (SYS_unshare, flag);
    }
  else if (strcmp (name, "sethostname") == 0)
    r = syscall (SYS_sethostname, "probe", strlen ("probe"));
  else if (strcmp (name, "socket") == 0) /* an AF_UNIX datagram socket */
    {
      r = syscall (SYS_socket, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      if (r >= 0)
        close ((int) r);
    }
  else if (name[0] >= '0' && name[0] <= '9')
    r = syscall (parse_long (name), 0L, 0L, 0L, 0L, 0L, 0L);
  else
    usage ("unknown syscall '%s'", name);
  if (r < 0)
    return print_error (errno);
  puts ("ok");
  return 0;
}

static const struct
{
  const char *name;
  int resource;
} rlimits[] = {
  { "AS", RLIMIT_AS },         { "CORE", RLIMIT_CORE },       { "CPU", RLIMIT_CPU },
  { "DATA", RLIMIT_DATA },     { "FSIZE", RLIMIT_FSIZE },     { "LOCKS", RLIMIT_LOCKS },
  { "MEMLOCK", RLIMIT_MEMLOCK }, { "MSGQUEUE", RLIMIT_MSGQUEUE }, { "NICE", RLIMIT_NICE },
  { "NOFILE", RLIMIT_NOFILE }, { "NPROC", RLIMIT_NPROC },     { "RSS", RLIMIT_RSS },
  { "RTPRIO", RLIMIT_RTPRIO }, { "RTTIME", RLIMIT_RTTIME },   { "SIGPENDING", RLIMIT_SIGPENDING },
  { "STACK", RLIMIT_STACK },
};

static void
print_rlim (rlim_t v, const char *sep)
{
  v == RLIM_INFINITY ? printf ("unlimited%s", sep) : printf ("%llu%s", (unsigned long long) v, sep);
}

static int
cmd_rlimit (char **a)
{
  const char *name = a[0];
  struct rlimit rl;

  if (strncmp (name, "RLIMIT_", 7) == 0)
    name += 7;
  for (size_t i = 0; i < sizeof rlimits / sizeof rlimits[0]; i++)
    if (strcmp (rlimits[i].name, name) == 0)
      {
        if (getrlimit (rlimits[i].resource, &rl) < 0)
          return print_error (errno);
        print_rlim (rl.rlim_cur, " ");
        print_rlim (rl.rlim_max, "\n");
        return 0;
      }
  usage ("unknown rlimit '%s'", name);
}

/* ---- environment ----------------------------------------------------------------------------- */

static int
cmd_umask (char **a __attribute__ ((unused)))
{
  mode_t m = umask (0);

  umask (m);
  printf ("%04o\n", (unsigned) m);
  return 0;
}

static int
cmd_cwd (char **a __attribute__ ((unused)))
{
  char buf[PATH_MAX];

  if (getcwd (buf, sizeof buf) == NULL)
    return print_error (errno);
  puts (buf);
  return 0;
}

static int
cmd_ifup (char **a)
{
  const char *ifname = a[0];
  struct ifreq ifr;
  int s = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  if (s < 0)
    return print_error (errno);
  memset (&ifr, 0, sizeof ifr);
  snprintf (ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
  if (ioctl (s, SIOCGIFFLAGS, &ifr) < 0)
    return close_error (s);
  close (s);
  puts ((ifr.ifr_flags & IFF_UP) ? "up" : "down");
  return 0;
}

static int
cmd_kill_self (char **a)
{
  const char *sig = a[0];
  int signum = (int) parse_long (sig);

  fflush (stdout);
  if (kill (getpid (), signum) < 0)
    return print_error (errno);
  /* A fatal signal is delivered before kill() returns; give a stopped/ignored one a moment.  */
  usleep (100 * 1000);
  puts ("error: still alive");
  return 0;
}

static int
cmd_pid (char **a)
{
  printf ("%d\n", (int) (strcmp (a[-1], "ppid") == 0 ? getppid () : getpid ()));
  return 0;
}

static int
cmd_env (char **a)
{
  const char *v = getenv (a[0]);

  puts (v != NULL ? v : "(unset)");
  return 0;
}

static int
cmd_exit (char **a)
{
  fflush (stdout);
  exit ((int) parse_long (a[0]));
}

static int
cmd_sleep (char **a)
{
  fflush (stdout);
  sleep ((unsigned) parse_long (a[0]));
  return 0;
}

/* ---- dispatch ---------------------------------------------------------------------------------- */

static const struct
{
  const char *name;
  int min_args, max_args;
  int (*fn) (char **args); /* args[-1] is the subcommand's name, args[] ends with NULL */
} commands[] = {
  { "pid", 0, 0, cmd_pid },           { "ppid", 0, 0, cmd_pid },
  { "hostname", 0, 0, cmd_uname },    { "domainname", 0, 0, cmd_uname },
  { "umask", 0, 0, cmd_umask },       { "cwd", 0, 0, cmd_cwd },
  { "fds", 0, 0, cmd_fds },           { "fd", 1, 1, cmd_fd },
  { "ns", 1, 1, cmd_ns },             { "status", 1, 1, cmd_status },
  { "read", 1, 1, cmd_read },         { "write", 2, 2, cmd_write },
  { "seals", 1, 1, cmd_seals },       { "open", 2, 2, cmd_open },
  { "syscall", 1, 2, cmd_syscall },   { "rlimit", 1, 1, cmd_rlimit },
  { "env", 1, 1, cmd_env },           { "ifup", 1, 1, cmd_ifup },
  { "sysctl", 1, 1, cmd_sysctl },     { "mountinfo", 1, 1, cmd_mountinfo },
  { "stat", 1, 1, cmd_stat },         { "lstat", 1, 1, cmd_stat },
  { "isatty", 1, 1, cmd_isatty },     { "exit", 1, 1, cmd_exit },
  { "kill-self", 1, 1, cmd_kill_self }, { "sleep", 1, 1, cmd_sleep },
};

int
main (int argc, char **argv)
{
  int start = 1;

  if (argc < 2)
    usage ("usage: probe SUBCOMMAND [ARG...] [-- SUBCOMMAND [ARG...]]...");
  setvbuf (stdout, NULL, _IOLBF, 0);
  for (int i = 1; i <= argc; i++)
    {
      if (i < argc && strcmp (argv[i], "--") != 0)
        continue;
      size_t c, nargs = (size_t) (i - start - 1);
      if (i == start)
        usage ("empty subcommand");
      for (c = 0; c < sizeof commands / sizeof commands[0]; c++)
        if (strcmp (commands[c].name, argv[start]) == 0)
          break;
      if (c == sizeof commands / sizeof commands[0])
        usage ("unknown subcommand '%s'", argv[start]);
      if (nargs < (size_t) commands[c].min_args || nargs > (size_t) commands[c].max_args)
        usage ("wrong number of arguments for '%s'", argv[start]);
      argv[i < argc ? i : argc] = NULL; /* each subcommand's args end with NULL */
      if (commands[c].fn (argv + start + 1) != 0)
        return 1;
      start = i + 1;
    }
  return 0;
}
