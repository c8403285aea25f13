/* Image configuration to config.json (see convert.h).  */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "image/convert.h"
#include "json_gen.h"
#include "spec.h"
#include "util.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static void
gen_strv (yajl_gen g, char *const *v)
{
  for (size_t i = 0; v != NULL && v[i] != NULL; i++)
    json_gen_str (g, v[i]);
}

static bool
env_has_path (char *const *env)
{
  for (size_t i = 0; env != NULL && env[i] != NULL; i++)
    if (has_prefix (env[i], "PATH="))
      return true;
  return false;
}

/* The process object: the default's members (capabilities, rlimits, noNewPrivileges) with the
 * image's args, env, cwd and user.  */
static void
gen_process (yajl_gen g, yajl_val dflt, const struct image_config *cfg, const struct image_user *user)
{
  yajl_gen_map_open (g);
  json_gen_str (g, "terminal");
  yajl_gen_bool (g, 0);
  json_gen_str (g, "user");
  yajl_gen_map_open (g);
  json_gen_str (g, "uid");
  yajl_gen_integer (g, user != NULL ? user->uid : 0);
  json_gen_str (g, "gid");
  yajl_gen_integer (g, user != NULL ? user->gid : 0);
  if (user != NULL && user->n_additional_gids > 0)
    {
      json_gen_str (g, "additionalGids");
      yajl_gen_array_open (g);
      for (size_t i = 0; i < user->n_additional_gids; i++)
        yajl_gen_integer (g, user->additional_gids[i]);
      yajl_gen_array_close (g);
    }
  yajl_gen_map_close (g);
  json_gen_str (g, "args");
  yajl_gen_array_open (g);
  gen_strv (g, cfg->entrypoint);
  gen_strv (g, cfg->cmd);
  yajl_gen_array_close (g);
  json_gen_str (g, "env");
  yajl_gen_array_open (g);
  if (!env_has_path (cfg->env))
    json_gen_str (g, DEFAULT_PATH);
  gen_strv (g, cfg->env);
  yajl_gen_array_close (g);
  json_gen_str (g, "cwd");
  json_gen_str (g, cfg->working_dir != NULL && cfg->working_dir[0] != '\0' ? cfg->working_dir : "/");
  for (size_t i = 0; dflt != NULL && YAJL_IS_OBJECT (dflt) && i < dflt->u.object.len; i++)
    {
      const char *k = dflt->u.object.keys[i];
      if (strcmp (k, "terminal") == 0 || strcmp (k, "user") == 0 || strcmp (k, "args") == 0
          || strcmp (k, "env") == 0 || strcmp (k, "cwd") == 0)
        continue;
      json_gen_str (g, k);
      json_gen_value (g, dflt->u.object.values[i]);
    }
  yajl_gen_map_close (g);
}

static void
annotation (yajl_gen g, const struct image_config *cfg, const char *key, const char *value)
{
  /* Labels win over the image's own fields (conversion.md "Annotation Fields").  */
  for (size_t i = 0; cfg->label_keys != NULL && cfg->label_keys[i] != NULL; i++)
    if (strcmp (cfg->label_keys[i], key) == 0)
      return;
  if (value == NULL || value[0] == '\0')
    return;
  json_gen_str (g, key);
  json_gen_str (g, value);
}

static void
gen_annotations (yajl_gen g, const struct image_config *cfg)
{
  cleanup_free char *ports = NULL;

  for (size_t i = 0; cfg->exposed_ports != NULL && cfg->exposed_ports[i] != NULL; i++)
    {
      char *p = ports == NULL ? xstrdup (cfg->exposed_ports[i]) : xasprintf ("%s,%s", ports, cfg->exposed_ports[i]);
      free (ports);
      ports = p;
    }
  yajl_gen_map_open (g);
  annotation (g, cfg, "org.opencontainers.image.os", cfg->os);
  annotation (g, cfg, "org.opencontainers.image.architecture", cfg->architecture);
  annotation (g, cfg, "org.opencontainers.image.variant", cfg->variant);
  annotation (g, cfg, "org.opencontainers.image.author", cfg->author);
  annotation (g, cfg, "org.opencontainers.image.created", cfg->created);
  annotation (g, cfg, "org.opencontainers.image.stopSignal", cfg->stop_signal);
  annotation (g, cfg, "org.opencontainers.image.exposedPorts", ports);
  for (size_t i = 0; cfg->label_keys != NULL && cfg->label_keys[i] != NULL; i++)
    {
      json_gen_str (g, cfg->label_keys[i]);
      json_gen_str (g, cfg->label_values[i]);
    }
  yajl_gen_map_close (g);
}

char *
convert_config (const struct image_config *cfg, const struct image_user *user, struct husk_err *err)
{
  cleanup_free char *text = spec_default_json (false);
  char errbuf[256];
  yajl_val root;
  yajl_gen g;
  char *out;

  if ((cfg->entrypoint == NULL || cfg->entrypoint[0] == NULL) && (cfg->cmd == NULL || cfg->cmd[0] == NULL))
    return husk_err_set (err, 0, "image config: config.Cmd: the image names no command (no Entrypoint or Cmd)"), NULL;
  if (cfg->working_dir != NULL && cfg->working_dir[0] != '\0' && cfg->working_dir[0] != '/')
    return husk_err_set (err, 0, "image config: config.WorkingDir: '%s' is not absolute", cfg->working_dir), NULL;
  root = yajl_tree_parse (text, errbuf, sizeof errbuf);
  if (root == NULL || !YAJL_IS_OBJECT (root))
    {
      yajl_tree_free (root);
      return husk_err_set (err, 0, "the default config does not parse: %s", errbuf), NULL;
    }
  g = yajl_gen_alloc (NULL);
  yajl_gen_config (g, yajl_gen_beautify, 1);
  yajl_gen_map_open (g);
  for (size_t i = 0; i < root->u.object.len; i++)
    {
      const char *k = root->u.object.keys[i];
      yajl_val v = root->u.object.values[i];
      if (strcmp (k, "annotations") == 0)
        continue;
      json_gen_str (g, k);
      if (strcmp (k, "process") == 0)
        gen_process (g, v, cfg, user);
      else if (strcmp (k, "root") == 0)
        {
          yajl_gen_map_open (g);
          json_gen_str (g, "path");
          json_gen_str (g, "rootfs");
          json_gen_str (g, "readonly");
          yajl_gen_bool (g, 0);
          yajl_gen_map_close (g);
        }
      else
        json_gen_value (g, v);
    }
  json_gen_str (g, "annotations");
  gen_annotations (g, cfg);
  yajl_gen_map_close (g);
  yajl_tree_free (root);
  out = json_gen_finish (g);
  return out;
}
