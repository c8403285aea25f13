/* A tree of path names for layer extraction (see extract_tree.h): nodes in an array, names in an
 * arena, children in singly linked lists, and an FNV-1a hash of (parent, name) into chains that
 * doubles when the nodes outnumber the buckets.  */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "image/extract_tree.h"
#include "util.h"

static uint32_t
tree_hash (uint32_t parent, const char *s, size_t len)
{
  uint32_t h = 2166136261u ^ parent;
  for (size_t i = 0; i < len; i++)
    h = (h ^ (unsigned char) s[i]) * 16777619u;
  return h ^ (h >> 15);
}

const char *
tree_name (const struct tree *t, uint32_t i)
{
  return t->arena + t->n[i].off;
}

static void
tree_rehash (struct tree *t, uint32_t nbucket)
{
  free (t->bucket);
  t->nbucket = nbucket;
  t->bucket = xmalloc (nbucket * sizeof *t->bucket);
  memset (t->bucket, 0xff, nbucket * sizeof *t->bucket);
  for (uint32_t i = 1; i < t->count; i++)
    {
      struct tnode *n = &t->n[i];
      if (n->parent == TREE_NONE) /* unhashed (removed) */
        continue;
      uint32_t b = tree_hash (n->parent, tree_name (t, i), n->len) & (nbucket - 1);
      n->hnext = t->bucket[b];
      t->bucket[b] = i;
    }
}

void
tree_init (struct tree *t)
{
  memset (t, 0, sizeof *t);
  t->cap = 64;
  t->n = xmalloc (t->cap * sizeof *t->n);
  t->acap = 4096;
  t->arena = xmalloc (t->acap);
  t->arena[0] = '\0';
  t->alen = 1;
  t->n[0] = (struct tnode){ .parent = TREE_NONE, .child = TREE_NONE, .sibling = TREE_NONE, .hnext = TREE_NONE };
  t->count = 1;
  tree_rehash (t, 64);
}

void
tree_free (struct tree *t)
{
  free (t->n);
  free (t->bucket);
  free (t->arena);
  memset (t, 0, sizeof *t);
}

uint32_t
tree_find (const struct tree *t, uint32_t parent, const char *name, size_t len)
{
  uint32_t b = tree_hash (parent, name, len) & (t->nbucket - 1);
  for (uint32_t i = t->bucket[b]; i != TREE_NONE; i = t->n[i].hnext)
    if (t->n[i].parent == parent && t->n[i].len == len && memcmp (tree_name (t, i), name, len) == 0)
      return i;
  return TREE_NONE;
}

uint32_t
tree_add (struct tree *t, uint32_t parent, const char *name, size_t len)
{
  uint32_t i = tree_find (t, parent, name, len);
  if (i != TREE_NONE)
    return i;
  if (t->count == t->cap)
    {
      t->cap *= 2;
      t->n = xrealloc (t->n, t->cap * sizeof *t->n);
    }
  if (t->alen + len + 1 > t->acap)
    {
      while (t->alen + len + 1 > t->acap)
        t->acap *= 2;
      t->arena = xrealloc (t->arena, t->acap);
    }
  i = t->count++;
  memcpy (t->arena + t->alen, name, len);
  t->arena[t->alen + len] = '\0';
  t->n[i] = (struct tnode){ .parent = parent, .child = TREE_NONE, .sibling = t->n[parent].child,
                            .off = (uint32_t) t->alen, .len = (uint16_t) len };
  t->alen += len + 1;
  t->n[parent].child = i;
  uint32_t b = tree_hash (parent, name, len) & (t->nbucket - 1);
  t->n[i].hnext = t->bucket[b];
  t->bucket[b] = i;
  if (t->count > t->nbucket)
    tree_rehash (t, t->nbucket * 2);
  return i;
}

void
tree_unhash (struct tree *t, uint32_t i)
{
  struct tnode *n = &t->n[i];
  uint32_t b = tree_hash (n->parent, tree_name (t, i), n->len) & (t->nbucket - 1);
  for (uint32_t *p = &t->bucket[b]; *p != TREE_NONE; p = &t->n[*p].hnext)
    if (*p == i)
      {
        *p = n->hnext;
        break;
      }
  n->parent = TREE_NONE;
}

uint32_t
tree_node_of (struct tree *t, const char *path, bool add)
{
  uint32_t node = 0;
  for (const char *s = path, *e; *s != '\0' && node != TREE_NONE; s = *e ? e + 1 : e)
    {
      e = strchrnul (s, '/');
      node = add ? tree_add (t, node, s, (size_t) (e - s)) : tree_find (t, node, s, (size_t) (e - s));
    }
  return node;
}