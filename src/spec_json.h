/* Typed accessors over yajl_tree for spec.c: every failure becomes a husk_err that names the file
 * and the JSON path of the offending value, e.g.
 *   config.json: linux.resources.pids.limit: expected integer
 *   config.json: process.args[2]: expected string
 *   config.json: mounts[0].destination: missing
 *
 * A `struct sj` carries the file name, the error and the current path.  Descending pushes ".key"
 * or "[i]" and returns a mark; sj_pop() goes back to the mark.  JSON null counts as absent
 * everywhere (config.md: optional fields may be null).  Unknown members are ignored (the spec is
 * forward compatible).
 *
 * The sj_field_* helpers look up member KEY of object OBJ, push it onto the path, convert it and
 * pop again.  They return 0 (also when the member is absent and not REQUIRED; *HAS, when not NULL,
 * then tells whether it was present) or -1 with the error set ("missing" when REQUIRED and
 * absent).  On -1, *OUT may already hold an allocation; it is always safe to free.
 */
#ifndef HUSK_SPEC_JSON_H
#define HUSK_SPEC_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_tree.h>

#include "error.h"

/* Deepest nesting of arrays and objects accepted in a document.  A real config.json needs about
 * 7; the limit keeps yajl_tree_free()'s recursion from running off the stack on hostile input.  */
#define SJ_MAX_DEPTH 64

struct sj
{
  const char *file;     /* "config.json", the first word of every message */
  struct husk_err *err; /* where failures go */
  size_t len;           /* strlen (path) */
  char path[512];       /* "linux.resources.pids.limit"; truncated (not overflowed) when deeper */
};

/* Start a context for FILE reporting into ERR, at the document root (empty path).  */
void sj_init (struct sj *c, const char *file, struct husk_err *err);

/* Append ".KEY" to the path (or `["KEY"]` when KEY is not a plain identifier; no dot at the root).
 * Returns the mark to give to sj_pop().  */
size_t sj_push_key (struct sj *c, const char *key);

/* Append "[I]" to the path.  Returns the mark for sj_pop().  */
size_t sj_push_index (struct sj *c, size_t i);

/* Cut the path back to MARK.  */
void sj_pop (struct sj *c, size_t mark);

/* Set the error to "FILE: PATH: <printf message>" (or "FILE: <message>" at the root).
 * Returns -1.  */
int sj_fail (struct sj *c, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

/* Parse TEXT (LEN bytes, need not be NUL-terminated).  Rejects NUL bytes, "\u0000" escapes (C
 * strings would silently truncate) and nesting deeper than SJ_MAX_DEPTH before yajl sees the text;
 * a yajl error keeps its first line: "config.json: invalid JSON: parse error: premature EOF".
 * Also rejects duplicate keys in any object (readers could disagree on which one wins).
 * Returns the tree (yajl_tree_free it) or NULL with the error set.  */
yajl_val sj_parse (struct sj *c, const char *text, size_t len);

/* Member KEY of OBJ (an object), or NULL when absent or JSON null.  */
yajl_val sj_get (yajl_val obj, const char *key);

/* Conversions of the value V found at the current path (V not NULL).  Each returns 0 or -1 with
 * "expected <type>" or "value N is out of range for <type>".  Strings are copied.  */
int sj_object (struct sj *c, yajl_val v);
int sj_array (struct sj *c, yajl_val v);
int sj_string (struct sj *c, yajl_val v, char **out);
int sj_bool (struct sj *c, yajl_val v, bool *out);
int sj_int (struct sj *c, yajl_val v, int64_t min, int64_t max, const char *type, int64_t *out);
int sj_u64 (struct sj *c, yajl_val v, uint64_t *out);
/* A NULL-terminated copy of an array of strings, with its length in *N.  */
int sj_strv (struct sj *c, yajl_val v, char ***out, size_t *n);

/* Member lookups (see the top of this file for the return convention).  */
int sj_field_object (struct sj *c, yajl_val obj, const char *key, bool required, yajl_val *out);
int sj_field_array (struct sj *c, yajl_val obj, const char *key, bool required, yajl_val *out);
int sj_field_string (struct sj *c, yajl_val obj, const char *key, bool required, char **out);
int sj_field_bool (struct sj *c, yajl_val obj, const char *key, bool required, bool *has,
                   bool *out);
int sj_field_i64 (struct sj *c, yajl_val obj, const char *key, bool required, bool *has,
                  int64_t *out);
int sj_field_i32 (struct sj *c, yajl_val obj, const char *key, bool required, bool *has,
                  int32_t *out);
int sj_field_u64 (struct sj *c, yajl_val obj, const char *key, bool required, bool *has,
                  uint64_t *out);
int sj_field_u32 (struct sj *c, yajl_val obj, const char *key, bool required, bool *has,
                  uint32_t *out);
int sj_field_u16 (struct sj *c, yajl_val obj, const char *key, bool required, bool *has,
                  uint16_t *out);
/* A string vector; *HAS (may be NULL) tells an empty array from an absent member.  */
int sj_field_strv (struct sj *c, yajl_val obj, const char *key, bool required, bool *has,
                   char ***out, size_t *n);

/* Parse one element of an array into ELEM (zeroed memory of the element type).  */
typedef int (*sj_elem_fn) (struct sj *c, yajl_val v, void *elem);

/* Member KEY must be an array; allocate *OUT with one zeroed ELEM_SIZE slot per element, set *N,
 * and call FN on each element with "[i]" pushed.  *OUT and *N are set before the first call, so a
 * half-filled array is freed by the normal free path.  */
int sj_field_array_of (struct sj *c, yajl_val obj, const char *key, bool required, size_t elem_size,
                       sj_elem_fn fn, void *out, size_t *n);

/* Parse one member of a map-like object (KEY chosen by the user) into ELEM.  */
typedef int (*sj_entry_fn) (struct sj *c, const char *key, yajl_val v, void *elem);

/* Member KEY must be an object; like sj_field_array_of() but one slot per member, with the member
 * name pushed as path.  */
int sj_field_map_of (struct sj *c, yajl_val obj, const char *key, bool required, size_t elem_size,
                     sj_entry_fn fn, void *out, size_t *n);

#endif
