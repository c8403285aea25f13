/* Finishing a JSON document made with yajl_gen (the writers: spec, state, features, events).  */
#ifndef HUSK_JSON_GEN_H
#define HUSK_JSON_GEN_H

#include <string.h>
#include <yajl/yajl_gen.h>

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

#endif
