/* husk image ...: runs the program husk-image (installed beside husk), so that the image unpacker's
 * libraries (libarchive, libcrypto: ~4 ms of loading) are never loaded by the runtime's commands.  */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "util.h"

#ifndef HUSK_BINDIR
#define HUSK_BINDIR "/usr/local/bin"
#endif

/* The husk-image beside this husk (the directory of the file it was started from), else the one
 * installed in BINDIR.  */
char *
husk_image_path (const struct husk_globals *g)
{
  cleanup_free char *self = g->exe != NULL ? xstrdup (g->exe) : NULL;
  char *slash = self != NULL ? strrchr (self, '/') : NULL;

  if (slash != NULL)
    {
      *slash = '\0';
      char *p = xasprintf ("%s/husk-image", self);
      if (access (p, X_OK) == 0)
        return p;
      free (p);
    }
  return xstrdup (HUSK_BINDIR "/husk-image");
}

int
cmd_image (const struct husk_globals *g, int argc, char **argv, struct husk_err *err)
{
  cleanup_free char *prog = husk_image_path (g);
  char **args = xcalloc ((size_t) argc + 8, sizeof *args);
  size_t n = 0;

  args[n++] = prog;
  if (g->log_path != NULL)
    {
      args[n++] = (char *) "--log";
      args[n++] = (char *) g->log_path;
    }
  if (g->log_format != NULL)
    {
      args[n++] = (char *) "--log-format";
      args[n++] = (char *) g->log_format;
    }
  if (g->debug)
    args[n++] = (char *) "--debug";
  for (int i = 1; i < argc; i++)
    args[n++] = argv[i];
  args[n] = NULL;
  execv (prog, args);
  husk_err_set (err, errno, "run '%s'", prog);
  free (args);
  return -1;
}
