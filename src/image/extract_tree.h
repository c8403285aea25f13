/* Internal to layer extraction (extract.c): a tree of path names, one node per path component,
 * found by (parent, name) through a hash, so extraction can remember the whiteouts a layer made
 * (and the directories it made only to hold them) and later drop everything below one directory in
 * time proportional to what is there, never by scanning (T19, T22); also used as a set of the names
 * seen at the lower roots.  Memory comes from xmalloc (never fails); nothing here makes syscalls.  */
#ifndef HUSK_IMAGE_EXTRACT_TREE_H
#define HUSK_IMAGE_EXTRACT_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "No node": an absent parent, child, sibling or hash link, and what lookups return when a name is
 * not in the tree.  */
#define TREE_NONE UINT32_MAX

/* A node: one path component.  Node 0 is the root ("").  */
struct tnode
{
  uint32_t parent, child, sibling, hnext; /* TREE_NONE when absent; parent TREE_NONE: removed */
  uint32_t off;                           /* name in the arena, NUL-terminated */
  uint16_t len;                           /* bytes of the name */
  bool whiteout; /* this layer made a whiteout here */
  bool made;     /* this layer made this directory only to hold whiteouts */
};

/* The tree: nodes in one array (indexes stay valid as it grows; pointers into it do not), their
 * names in one arena.  The caller reads and sets the nodes' fields directly.  */
struct tree
{
  struct tnode *n;
  uint32_t count, cap;
  uint32_t *bucket; /* heads of hash chains */
  uint32_t nbucket; /* a power of two */
  char *arena;
  size_t alen, acap;
};

/* Make T an empty tree holding only its root, node 0.  Free it with tree_free.  */
void tree_init (struct tree *t);

/* Free what T holds and zero it.  */
void tree_free (struct tree *t);

/* The name of node I (NUL-terminated, inside T's arena: valid until the next tree_add).  */
const char *tree_name (const struct tree *t, uint32_t i);

/* The child NAME (LEN bytes, not NUL-terminated) of node PARENT, or TREE_NONE.  */
uint32_t tree_find (const struct tree *t, uint32_t parent, const char *name, size_t len);

/* The child NAME (LEN bytes, at most NAME_MAX) of node PARENT, made when missing (whiteout and made
 * false).  Returns its index.  */
uint32_t tree_add (struct tree *t, uint32_t parent, const char *name, size_t len);

/* Take node I out of the hash, so lookups no longer find it (its subtree becomes unreachable).  Its
 * parent's child list is left alone: the caller unlinks it.  */
void tree_unhash (struct tree *t, uint32_t i);

/* The node of the directory PATH (a cleaned path: no empty, "." or ".." components; "" = the root),
 * made with its missing ancestors when ADD; else TREE_NONE when PATH is not in T.  */
uint32_t tree_node_of (struct tree *t, const char *path, bool add);

#endif
