/* Finishing a JSON document made with yajl_gen (the writers: spec, state, features, events).  */
#ifndef HUSK_JSON_GEN_H
#define HUSK_JSON_GEN_H

#include <stdbool.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "util.h"

/* The text generated into G as a new NUL-terminated string (free it); G is freed.  Never NULL.  */
static inline char *
json_gen_finish (yajl_gen g)
{
  const unsigned char *buf;
  size_t len;
  char *out;

  yajl_gen_get_buf (g, &buf, &len);
  out = xmalloc (len + 1);
  memcpy (out, buf, len);
  out[len] = '\0';
  yajl_gen_free (g);
  return out;
}

/* STR as a JSON string; "KEY": value pairs inside an open map.  The writers of every JSON document
 * husk makes (spec, state, features, events, list, sandbox, image records) use these.  */
static inline void
json_gen_str (yajl_gen g, const char *s)
{
  yajl_gen_string (g, (const unsigned char *) s, strlen (s));
}

static inline void
json_gen_key_str (yajl_gen g, const char *key, const char *value)
{
  json_gen_str (g, key);
  json_gen_str (g, value);
}

static inline void
json_gen_key_int (yajl_gen g, const char *key, long long value)
{
  json_gen_str (g, key);
  yajl_gen_integer (g, value);
}

static inline void
json_gen_key_bool (yajl_gen g, const char *key, bool value)
{
  json_gen_str (g, key);
  yajl_gen_bool (g, value);
}

/* Write the parsed JSON value V into G as it is (numbers keep their text; NULL writes null).  */
static inline void
json_gen_value (yajl_gen g, yajl_val v)
{
  if (v == NULL || YAJL_IS_NULL (v))
    yajl_gen_null (g);
  else if (YAJL_IS_STRING (v))
    json_gen_str (g, v->u.string);
  else if (YAJL_IS_NUMBER (v))
    yajl_gen_number (g, v->u.number.r, strlen (v->u.number.r));
  else if (YAJL_IS_TRUE (v) || YAJL_IS_FALSE (v))
    yajl_gen_bool (g, YAJL_IS_TRUE (v));
  else if (YAJL_IS_ARRAY (v))
    {
      yajl_gen_array_open (g);
      for (size_t i = 0; i < v->u.array.len; i++)
        json_gen_value (g, v->u.array.values[i]);
      yajl_gen_array_close (g);
    }
  else
    {
      yajl_gen_map_open (g);
      for (size_t i = 0; i < v->u.object.len; i++)
        {
          json_gen_str (g, v->u.object.keys[i]);
          json_gen_value (g, v->u.object.values[i]);
        }
      yajl_gen_map_close (g);
    }
}

#endif
