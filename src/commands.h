/* The command table: one function per command, each in its own cmd_<name>.c.  */
#ifndef HUSK_COMMANDS_H
#define HUSK_COMMANDS_H

#include <stdbool.h>

#include "error.h"

/* Global options, parsed by main() before the command name.  */
struct husk_globals
{
  const char *root; /* state root: --root, default /run/husk (or $XDG_RUNTIME_DIR/husk) */
  bool systemd_cgroup;
  const char *log_path;   /* --log, or NULL */
  const char *log_format; /* --log-format as given, or NULL */
  bool debug;
  const char *exe; /* the path husk was started from (before its sealed re-execution) */
};

/* Each command parses its own options from ARGC/ARGV (ARGV[0] is the command name).  Returns the
 * exit status for husk (>= 0), or -1 with ERR, which main() prints.  */
int cmd_create (const struct husk_globals *g, int argc, char **argv, struct husk_err *err);
int cmd_start (const struct husk_globals *g, int argc, char **argv, struct husk_err *err);
int cmd_run (const struct husk_globals *g, int argc, char **argv, struct husk_err *err);
int cmd_state (const struct husk_globals *g, int argc, char **argv, struct husk_err *err);
int cmd_kill (const struct husk_globals *g, int argc, char **argv, struct husk_err *err);
int cmd_delete (const struct husk_globals *g, int argc, char **argv, struct husk_err *err);
int cmd_list (const struct husk_globals *g, int argc, char **argv, struct husk_err *err);
int cmd_exec (const struct husk_globals *g, int argc, char **argv, struct husk_err *err);
int cmd_features (const struct husk_globals *g, int argc, char **argv, struct husk_err *err);
int cmd_pause (const struct husk_globals *g, int argc, char **argv, struct husk_err *err);
int cmd_resume (const struct husk_globals *g, int argc, char **argv, struct husk_err *err);
int cmd_update (const struct husk_globals *g, int argc, char **argv, struct husk_err *err);
int cmd_events (const struct husk_globals *g, int argc, char **argv, struct husk_err *err);
int cmd_ps (const struct husk_globals *g, int argc, char **argv, struct husk_err *err);
int cmd_spec (const struct husk_globals *g, int argc, char **argv, struct husk_err *err);
int cmd_sandbox (const struct husk_globals *g, int argc, char **argv, struct husk_err *err);
int cmd_image (const struct husk_globals *g, int argc, char **argv, struct husk_err *err);
/* The husk-image program beside this husk (G->exe), else the installed one (free it).  */
char *husk_image_path (const struct husk_globals *g);

#endif
