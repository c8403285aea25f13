/* Typed accessors over yajl_tree with JSON-path error messages (see spec_json.h).  */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec_json.h"
#include "util.h"

void
sj_init (struct sj *c, const char *file, struct husk_err *err)
{
  c->file = file;
  c->err = err;
  c->len = 0;
  c->path[0] = '\0';
}

static void
path_append (struct sj *c, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
path_append (struct sj *c, const char *fmt, ...)
{
  va_list ap;
  size_t room = sizeof c->path - c->len;
  int n;

  if (room <= 1)
    return;
  va_start (ap, fmt);
  n = vsnprintf (c->path + c->len, room, fmt, ap);
  va_end (ap);
  if (n < 0)
    c->path[c->len] = '\0';
  else if ((size_t) n >= room)
    c->len = sizeof c->path - 1;
  else
    c->len += (size_t) n;
}

static bool
is_identifier (const char *s)
{
  if (*s == '\0')
    return false;
  for (; *s != '\0'; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')
          || *s == '_'))
      return false;
  return true;
}

size_t
sj_push_key (struct sj *c, const char *key)
{
  size_t mark = c->len;

  if (!is_identifier (key))
    path_append (c, "[\"%s\"]", key);
  else if (c->len == 0)
    path_append (c, "%s", key);
  else
    path_append (c, ".%s", key);
  return mark;
}

size_t
sj_push_index (struct sj *c, size_t i)
{
  size_t mark = c->len;

  path_append (c, "[%zu]", i);
  return mark;
}

void
sj_pop (struct sj *c, size_t mark)
{
  if (mark < c->len)
    {
      c->len = mark;
      c->path[mark] = '\0';
    }
}

int
sj_fail (struct sj *c, const char *fmt, ...)
{
  char msg[HUSK_ERR_MSG_MAX];
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  if (c->len == 0)
    return husk_err_set (c->err, 0, "%s: %s", c->file, msg);
  return husk_err_set (c->err, 0, "%s: %s: %s", c->file, c->path, msg);
}

/* ---- parsing ------------------------------------------------------------------------------- */

/* Walk the raw text once before yajl: NUL bytes, "\u0000" escapes and nesting depth.  */
static int
prescan (struct sj *c, const char *text, size_t len)
{
  bool in_string = false;
  size_t depth = 0;

  for (size_t i = 0; i < len; i++)
    {
      char ch = text[i];

      if (ch == '\0')
        return sj_fail (c, "invalid JSON: NUL byte at offset %zu", i);
      if (in_string)
        {
          if (ch == '"')
            in_string = false;
          else if (ch == '\\' && i + 1 < len)
            {
              if (text[i + 1] == 'u' && i + 5 < len && memcmp (text + i + 2, "0000", 4) == 0)
                return sj_fail (c, "invalid JSON: \\u0000 in a string at offset %zu", i);
              i++; /* skip the escaped character, which may be '"' or '\\' */
            }
          continue;
        }
      if (ch == '"')
        in_string = true;
      else if (ch == '[' || ch == '{')
        {
          if (++depth > SJ_MAX_DEPTH)
            return sj_fail (c, "invalid JSON: nested deeper than %d levels", SJ_MAX_DEPTH);
        }
      else if ((ch == ']' || ch == '}') && depth > 0)
        depth--;
    }
  return 0;
}

static int
cmp_strp (const void *a, const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Fail on the first object (depth first) holding the same key twice.  */
static int
check_duplicates (struct sj *c, yajl_val v)
{
  if (YAJL_IS_OBJECT (v))
    {
      size_t n = v->u.object.len;

      if (n > 1)
        {
          cleanup_free const char **keys = xcalloc (n, sizeof *keys);

          memcpy (keys, v->u.object.keys, n * sizeof *keys);
          qsort (keys, n, sizeof *keys, cmp_strp);
          for (size_t i = 1; i < n; i++)
            if (strcmp (keys[i - 1], keys[i]) == 0)
              return sj_fail (c, "duplicate key '%s'", keys[i]);
        }
      for (size_t i = 0; i < n; i++)
        {
          size_t mark = sj_push_key (c, v->u.object.keys[i]);
          if (check_duplicates (c, v->u.object.values[i]) < 0)
            return -1;
          sj_pop (c, mark);
        }
    }
  else if (YAJL_IS_ARRAY (v))
    for (size_t i = 0; i < v->u.array.len; i++)
      {
        size_t mark = sj_push_index (c, i);
        if (check_duplicates (c, v->u.array.values[i]) < 0)
          return -1;
        sj_pop (c, mark);
      }
  return 0;
}

yajl_val
sj_parse (struct sj *c, const char *text, size_t len)
{
  cleanup_free char *copy = NULL;
  char errbuf[512] = "";
  yajl_val tree;

  if (prescan (c, text, len) < 0)
    return NULL;
  copy = xmalloc (len + 1);
  memcpy (copy, text, len);
  copy[len] = '\0';
  tree = yajl_tree_parse (copy, errbuf, sizeof errbuf);
  if (tree == NULL)
    {
      /* yajl adds the offending text and an arrow on further lines; keep the first line, without
       * the final period some of its messages have.  */
      size_t n = strcspn (errbuf, "\n");
      while (n > 0 && (errbuf[n - 1] == '.' || errbuf[n - 1] == ' '))
        n--;
      errbuf[n] = '\0';
      sj_fail (c, "invalid JSON: %s", n > 0 ? errbuf : "parse error");
      return NULL;
    }
  if (check_duplicates (c, tree) < 0)
    {
      yajl_tree_free (tree);
      return NULL;
    }
  return tree;
}

/* ---- values -------------------------------------------------------------------------------- */

yajl_val
sj_get (yajl_val obj, const char *key)
{
  if (obj == NULL || !YAJL_IS_OBJECT (obj))
    return NULL;
  for (size_t i = 0; i < obj->u.object.len; i++)
    if (strcmp (obj->u.object.keys[i], key) == 0)
      {
        yajl_val v = obj->u.object.values[i];
        return YAJL_IS_NULL (v) ? NULL : v;
      }
  return NULL;
}

int
sj_object (struct sj *c, yajl_val v)
{
  if (!YAJL_IS_OBJECT (v))
    return sj_fail (c, "expected object");
  return 0;
}

int
sj_array (struct sj *c, yajl_val v)
{
  if (!YAJL_IS_ARRAY (v))
    return sj_fail (c, "expected array");
  return 0;
}

int
sj_string (struct sj *c, yajl_val v, char **out)
{
  if (!YAJL_IS_STRING (v))
    return sj_fail (c, "expected string");
  free (*out);
  *out = xstrdup (v->u.string);
  return 0;
}

int
sj_bool (struct sj *c, yajl_val v, bool *out)
{
  if (YAJL_IS_TRUE (v))
    *out = true;
  else if (YAJL_IS_FALSE (v))
    *out = false;
  else
    return sj_fail (c, "expected boolean");
  return 0;
}

/* True when the number's text is an integer literal ("-12", "340"): then a value that did not fit
 * in int64 is out of range rather than of the wrong type.  */
static bool
is_integer_text (const char *r)
{
  if (*r == '-')
    r++;
  if (*r == '\0')
    return false;
  return strspn (r, "0123456789") == strlen (r);
}

static int
out_of_range (struct sj *c, yajl_val v, const char *type)
{
  return sj_fail (c, "value %.40s is out of range for %s", v->u.number.r, type);
}

int
sj_int (struct sj *c, yajl_val v, int64_t min, int64_t max, const char *type, int64_t *out)
{
  if (!YAJL_IS_NUMBER (v) || !is_integer_text (v->u.number.r))
    return sj_fail (c, "expected integer");
  if (!YAJL_IS_INTEGER (v))
    return out_of_range (c, v, type);
  if (v->u.number.i < min || v->u.number.i > max)
    return out_of_range (c, v, type);
  *out = v->u.number.i;
  return 0;
}

int
sj_u64 (struct sj *c, yajl_val v, uint64_t *out)
{
  if (!YAJL_IS_NUMBER (v) || !is_integer_text (v->u.number.r))
    return sj_fail (c, "expected integer");
  if (YAJL_IS_INTEGER (v) && v->u.number.i >= 0)
    {
      *out = (uint64_t) v->u.number.i;
      return 0;
    }
  /* Above INT64_MAX: yajl only kept the text ("18446744073709551615" is common in rlimits).  */
  if (v->u.number.r[0] == '-' || parse_u64 (v->u.number.r, out) < 0)
    return out_of_range (c, v, "uint64");
  return 0;
}

int
sj_strv (struct sj *c, yajl_val v, char ***out, size_t *n)
{
  char **vec;
  size_t len;

  if (!YAJL_IS_ARRAY (v))
    return sj_fail (c, "expected array of strings");
  len = v->u.array.len;
  strv_free (*out);
  *out = vec = xcalloc (len + 1, sizeof *vec);
  *n = 0;
  for (size_t i = 0; i < len; i++)
    {
      yajl_val e = v->u.array.values[i];
      if (!YAJL_IS_STRING (e))
        {
          size_t mark = sj_push_index (c, i);
          sj_fail (c, "expected string");
          sj_pop (c, mark);
          return -1;
        }
      vec[i] = xstrdup (e->u.string);
      *n = i + 1;
    }
  return 0;
}

/* ---- member lookups ------------------------------------------------------------------------ */

/* Find KEY in OBJ and push it.  Returns 1 (found, *V set), 0 (absent, nothing pushed) or -1 when
 * absent but REQUIRED.  */
static int
field_begin (struct sj *c, yajl_val obj, const char *key, bool required, yajl_val *v,
             size_t *mark)
{
  *v = sj_get (obj, key);
  if (*v == NULL)
    {
      if (!required)
        return 0;
      *mark = sj_push_key (c, key);
      sj_fail (c, "missing");
      sj_pop (c, *mark);
      return -1;
    }
  *mark = sj_push_key (c, key);
  return 1;
}

/* Shared body of the scalar sj_field_* helpers: CONVERT is an expression using `v`.  */
#define FIELD_BODY(convert)                                                                        \
  do                                                                                               \
    {                                                                                              \
      yajl_val v;                                                                                  \
      size_t mark;                                                                                 \
      int r = field_begin (c, obj, key, required, &v, &mark);                                      \
      if (has != NULL)                                                                             \
        *has = r > 0;                                                                              \
      if (r <= 0)                                                                                  \
        return r;                                                                                  \
      r = (convert);                                                                               \
      if (r == 0)                                                                                  \
        sj_pop (c, mark);                                                                          \
      return r;                                                                                    \
    }                                                                                              \
  while (0)

int
sj_field_object (struct sj *c, yajl_val obj, const char *key, bool required, yajl_val *out)
{
  bool *has = NULL;

  *out = NULL;
  FIELD_BODY ((*out = v, sj_object (c, v)));
}

int
sj_field_array (struct sj *c, yajl_val obj, const char *key, bool required, yajl_val *out)
{
  bool *has = NULL;

  *out = NULL;
  FIELD_BODY ((*out = v, sj_array (c, v)));
}

int
sj_field_string (struct sj *c, yajl_val obj, const char *key, bool required, char **out)
{
  bool *has = NULL;

  FIELD_BODY (sj_string (c, v, out));
}

int
sj_field_bool (struct sj *c, yajl_val obj, const char *key, bool required, bool *has, bool *out)
{
  FIELD_BODY (sj_bool (c, v, out));
}

int
sj_field_i64 (struct sj *c, yajl_val obj, const char *key, bool required, bool *has, int64_t *out)
{
  FIELD_BODY (sj_int (c, v, INT64_MIN, INT64_MAX, "int64", out));
}

int
sj_field_i32 (struct sj *c, yajl_val obj, const char *key, bool required, bool *has, int32_t *out)
{
  int64_t x = 0;

  FIELD_BODY ((sj_int (c, v, INT32_MIN, INT32_MAX, "int32", &x) < 0 ? -1
                                                                    : (*out = (int32_t) x, 0)));
}

int
sj_field_u64 (struct sj *c, yajl_val obj, const char *key, bool required, bool *has, uint64_t *out)
{
  FIELD_BODY (sj_u64 (c, v, out));
}

int
sj_field_u32 (struct sj *c, yajl_val obj, const char *key, bool required, bool *has, uint32_t *out)
{
  int64_t x = 0;

  FIELD_BODY ((sj_int (c, v, 0, UINT32_MAX, "uint32", &x) < 0 ? -1 : (*out = (uint32_t) x, 0)));
}

int
sj_field_u16 (struct sj *c, yajl_val obj, const char *key, bool required, bool *has, uint16_t *out)
{
  int64_t x = 0;

  FIELD_BODY ((sj_int (c, v, 0, UINT16_MAX, "uint16", &x) < 0 ? -1 : (*out = (uint16_t) x, 0)));
}

int
sj_field_strv (struct sj *c, yajl_val obj, const char *key, bool required, bool *has, char ***out,
               size_t *n)
{
  FIELD_BODY (sj_strv (c, v, out, n));
}

int
sj_field_array_of (struct sj *c, yajl_val obj, const char *key, bool required, size_t elem_size,
                   sj_elem_fn fn, void *out, size_t *n)
{
  yajl_val v;
  size_t mark;
  char *arr;
  int r = field_begin (c, obj, key, required, &v, &mark);

  if (r <= 0)
    return r;
  if (sj_array (c, v) < 0)
    return -1;
  arr = xcalloc (v->u.array.len, elem_size);
  *(void **) out = arr;
  *n = v->u.array.len;
  for (size_t i = 0; i < v->u.array.len; i++)
    {
      size_t m = sj_push_index (c, i);
      if (fn (c, v->u.array.values[i], arr + i * elem_size) < 0)
        return -1;
      sj_pop (c, m);
    }
  sj_pop (c, mark);
  return 0;
}

int
sj_field_map_of (struct sj *c, yajl_val obj, const char *key, bool required, size_t elem_size,
                 sj_entry_fn fn, void *out, size_t *n)
{
  yajl_val v;
  size_t mark;
  char *arr;
  int r = field_begin (c, obj, key, required, &v, &mark);

  if (r <= 0)
    return r;
  if (sj_object (c, v) < 0)
    return -1;
  arr = xcalloc (v->u.object.len, elem_size);
  *(void **) out = arr;
  *n = v->u.object.len;
  for (size_t i = 0; i < v->u.object.len; i++)
    {
      size_t m = sj_push_key (c, v->u.object.keys[i]);
      if (fn (c, v->u.object.keys[i], v->u.object.values[i], arr + i * elem_size) < 0)
        return -1;
      sj_pop (c, m);
    }
  sj_pop (c, mark);
  return 0;
}
