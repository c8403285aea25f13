/* husk-image: the image side of husk (`husk image ...` runs it).  A program of its own so that
 * libarchive and libcrypto, which cost ~4 ms of loading per exec, stay out of the runtime.  */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "image/store.h"
#include "image/unpack.h"
#include "overlay.h"
#include "util.h"

static void
usage (FILE *out)
{
  fprintf (out, "Usage: husk image COMMAND [OPTIONS] ARGS\n\n"
                "  unpack [--store DIR] [--platform OS/ARCH[/VARIANT]] [--rootfs-only] [--quiet] SOURCE[:REF] BUNDLE\n"
                "  ls [--store DIR] [--layers] [--format table|json]\n"
                "  rm [--store DIR] IMAGE...\n"
                "  gc [--store DIR]\n"
                "  mount [--store DIR] BUNDLE DIR\n"
                "  umount DIR\n"
                "\nSOURCE: an OCI image layout directory, an OCI archive or a docker-archive tar.\n"
                "The store defaults to " STORE_DEFAULT ".\n");
}

/* Options common to the subcommands; returns the index of the first operand, or -1 with ERR.  */
struct opts
{
  const char *store, *platform, *format;
  bool rootfs_only, quiet, layers;
};

static int
parse (int argc, char **argv, struct opts *o, struct husk_err *err)
{
  static const struct option longopts[] = {
    { "store", required_argument, NULL, 's' },   { "platform", required_argument, NULL, 'p' },
    { "rootfs-only", no_argument, NULL, 'r' },   { "quiet", no_argument, NULL, 'q' },
    { "layers", no_argument, NULL, 'l' },        { "format", required_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },          { NULL, 0, NULL, 0 },
  };
  int c;

  o->store = STORE_DEFAULT;
  optind = 0;
  opterr = 0;
  while ((c = getopt_long (argc, argv, "+:qh", longopts, NULL)) != -1)
    switch (c)
      {
      case 's':
        o->store = optarg;
        break;
      case 'p':
        o->platform = optarg;
        break;
      case 'r':
        o->rootfs_only = true;
        break;
      case 'q':
        o->quiet = true;
        break;
      case 'l':
        o->layers = true;
        break;
      case 'f':
        if (strcmp (optarg, "json") != 0 && strcmp (optarg, "table") != 0)
          return husk_err_set (err, 0, "--format: expected 'table' or 'json', got '%s'", optarg);
        o->format = optarg;
        break;
      case 'h':
        usage (stdout);
        exit (0);
      case ':':
        return husk_err_set (err, 0, "option '%s' needs a value", argv[optind - 1]);
      default:
        return husk_err_set (err, 0, "unknown option '%s'", argv[optind - 1]);
      }
  return optind;
}

static int
need_args (int have, int want, const char *cmd, struct husk_err *err)
{
  if (have != want)
    return husk_err_set (err, 0, "image %s: expected %d argument%s, got %d (see husk image --help)", cmd, want,
                         want == 1 ? "" : "s", have);
  return 0;
}

static int
cmd_mount (const struct opts *o, const char *bundle, const char *dir, struct husk_err *err)
{
  cleanup_free char *abs = realpath (bundle, NULL);
  struct husk_overlay ovl = { 0 };
  cleanup_close int mfd = -1;
  int r;

  if (abs == NULL)
    return husk_err_set (err, errno, "bundle '%s'", bundle);
  r = overlay_load (abs, &ovl, err);
  if (r == 0)
    return husk_err_set (err, ENOENT, "bundle '%s': no %s (not made by husk image unpack)", bundle, OVERLAY_BUNDLE_FILE);
  if (r < 0)
    return -1;
  mfd = overlay_mount_fd (&ovl, NULL, NULL, err);
  overlay_release (&ovl);
  if (mfd < 0)
    return -1;
  if (move_mount (mfd, "", AT_FDCWD, dir, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    return husk_err_set (err, errno, "mount on '%s'", dir);
  return 0;
}

static int
run (int argc, char **argv, struct husk_err *err)
{
  struct opts o = { 0 };
  struct image_store s;
  const char *cmd;
  int first, n, ret;

  if (argc < 1)
    {
      usage (stderr);
      return husk_err_set (err, 0, "image: a command is needed");
    }
  cmd = argv[0];
  if (strcmp (cmd, "--help") == 0 || strcmp (cmd, "-h") == 0 || strcmp (cmd, "help") == 0)
    {
      usage (stdout);
      return 0;
    }
  first = parse (argc, argv, &o, err);
  if (first < 0)
    return -1;
  n = argc - first;
  argv += first;
  if (strcmp (cmd, "unpack") == 0)
    {
      struct unpack_opts u = { .store = o.store, .platform = o.platform, .rootfs_only = o.rootfs_only, .quiet = o.quiet };
      if (need_args (n, 2, cmd, err) < 0)
        return -1;
      u.source_ref = argv[0];
      u.bundle = argv[1];
      return image_unpack (&u, err) < 0 ? -1 : 0;
    }
  if (strcmp (cmd, "mount") == 0)
    return need_args (n, 2, cmd, err) < 0 || cmd_mount (&o, argv[0], argv[1], err) < 0 ? -1 : 0;
  if (strcmp (cmd, "umount") == 0)
    {
      if (need_args (n, 1, cmd, err) < 0)
        return -1;
      if (umount2 (argv[0], UMOUNT_NOFOLLOW) < 0)
        return husk_err_set (err, errno, "umount '%s'", argv[0]);
      return 0;
    }
  if (strcmp (cmd, "ls") == 0 || strcmp (cmd, "gc") == 0 || strcmp (cmd, "rm") == 0)
    {
      bool exclusive = strcmp (cmd, "ls") != 0;
      if (strcmp (cmd, "rm") == 0 ? n < 1 : need_args (n, 0, cmd, err) < 0)
        return n < 1 ? husk_err_set (err, 0, "image rm: name at least one image") : -1;
      if (store_open (&s, o.store, false, exclusive, err) < 0)
        return -1;
      if (strcmp (cmd, "ls") == 0)
        ret = store_list (&s, o.layers, o.format != NULL && strcmp (o.format, "json") == 0, err);
      else if (strcmp (cmd, "gc") == 0)
        ret = store_gc (&s, err);
      else
        {
          ret = 0;
          for (int i = 0; ret == 0 && i < n; i++)
            ret = store_remove_image (&s, argv[i], err);
        }
      store_close (&s);
      return ret < 0 ? -1 : 0;
    }
  return husk_err_set (err, 0, "image: unknown command '%s'", cmd);
}

int
main (int argc, char **argv)
{
  static const struct option opts[] = {
    { "log", required_argument, NULL, 'l' }, { "log-format", required_argument, NULL, 'f' },
    { "debug", no_argument, NULL, 'd' },     { NULL, 0, NULL, 0 },
  };
  struct husk_err err = { 0 };
  enum husk_log_format format = HUSK_LOG_TEXT;
  const char *log_path = NULL;
  bool debug = false;
  int c;

  opterr = 0;
  while ((c = getopt_long (argc, argv, "+", opts, NULL)) != -1)
    switch (c)
      {
      case 'l':
        log_path = optarg;
        break;
      case 'f':
        format = strcmp (optarg, "json") == 0 ? HUSK_LOG_JSON : HUSK_LOG_TEXT;
        break;
      case 'd':
        debug = true;
        break;
      default:
        usage (stderr);
        return 1;
      }
  if (husk_log_init (log_path, format, debug, &err) < 0)
    {
      husk_log_error (&err);
      return 1;
    }
  /* Layers hold setuid files and devices: nothing the store makes is for other users.  */
  umask (022);
  if (run (argc - optind, argv + optind, &err) < 0)
    {
      husk_log_error (&err);
      return 1;
    }
  return 0;
}
