/* husk spec [--bundle DIR] [--rootless]: write a default config.json, like `runc spec`.  */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "spec.h"
#include "util.h"

int
cmd_spec (const struct husk_globals *g, int argc, char **argv, struct husk_err *err)
{
  static const struct option opts[] = {
    { "bundle", required_argument, NULL, 'b' },
    { "rootless", no_argument, NULL, 'r' },
    { NULL, 0, NULL, 0 },
  };
  const char *bundle = ".";
  bool rootless = false;
  cleanup_free char *json = NULL;
  cleanup_close int dirfd = -1, fd = -1;
  int c;

  optind = 0;
  opterr = 0;
  while ((c = getopt_long (argc, argv, "+:b:", opts, NULL)) != -1)
    switch (c)
      {
      case 'b':
        bundle = optarg;
        break;
      case 'r':
        rootless = true;
        break;
      case ':':
        return husk_err_set (err, 0, "spec: option '%s' needs an argument", argv[optind - 1]);
      default:
        return husk_err_set (err, 0, "spec: unknown option '%s'", argv[optind - 1]);
      }
  if (optind != argc)
    return husk_err_set (err, 0, "spec: unexpected argument '%s'", argv[optind]);

  dirfd = open (bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return husk_err_set (err, errno, "bundle '%s'", bundle);
  json = spec_default_json (rootless);
  /* O_EXCL: never overwrite a config someone wrote.  */
  fd = openat (dirfd, "config.json", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0 && errno == EEXIST)
    return husk_err_set (err, 0, "spec: '%s/config.json' already exists", bundle);
  if (fd < 0)
    return husk_err_set (err, errno, "create '%s/config.json'", bundle);
  if (write_all (fd, json, strlen (json)) < 0)
    return husk_err_set (err, errno, "write '%s/config.json'", bundle);
  return 0;
}
