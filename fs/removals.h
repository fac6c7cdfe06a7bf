/*
 * removals.h - files of the tenant a process removed lately, which the
 * removal did not take from the tenant (removals.c).
 *
 * Removing a field or object.json sends nothing (DESIGN.md §3): mv from
 * another filesystem removes the target, then copies, so the remover is
 * told the file is gone until it creates it again (removals_hidden).
 * rm -r and rsync --delete remove an object's files before its folder:
 * once a process removed a file of an object, its removals of the
 * object's links and inner folders are part of taking the object apart
 * (removals_apart), which the rmdir of the object then deletes whole.
 * A store belongs to one mount (struct tgfs); any thread may call these,
 * under the store's lock.  Few at a time (REMOVALS_MAX): the oldest goes.
 *
 * What is named here goes by key (node.h node_removals_key): a file of an
 * object by "/<kind folder>#<top object's id>/<names below>", so that a
 * record still holds when that object is renamed meanwhile (by someone
 * else too); a name with no object's folder above it (a restore folder,
 * a new name in a kind's folder, a name known by its path alone) is its
 * own key, its path.  An object's folder is a key's first name when that
 * has a '#', else a path's first two names ("/<kind>/<object>").
 */
#ifndef TGFS_REMOVALS_H
#define TGFS_REMOVALS_H

#include <stdbool.h>
#include <sys/types.h>

#define REMOVALS_MAX 64
#define REMOVALS_KEY_MAX 4096 /* node_removals_key's @size */
#define REMOVALS_HIDDEN_S 5.0 /* the remover is told it is gone */
#define REMOVALS_APART_S 30.0 /* its remover is taking its object apart */

struct removals;

/* An empty store, or NULL when out of memory; free with removals_free()
 * (NULL: nothing). */
struct removals *removals_new(void);
void removals_free(struct removals *s);

/* @pid removed the file of key @key (an object's file).  -ENOMEM:
 * nothing is kept. */
int removals_add(struct removals *s, const char *key, pid_t pid);
/* The file of key @key was made again: no longer hidden from anyone. */
void removals_clear(struct removals *s, const char *key);
/* True when @pid removed @key in the last REMOVALS_HIDDEN_S, or @key is
 * in a folder @pid made then, and it was not made again since.  Takes no
 * lock while the store is empty. */
bool removals_hidden(struct removals *s, const char *key, pid_t pid);
/* True when @key is strictly below an object folder a file of which @pid
 * removed in the last REMOVALS_APART_S. */
bool removals_apart(struct removals *s, const char *key, pid_t pid);
/* @pid made object folder @dir (mkdir; its key by the new object's id):
 * for REMOVALS_HIDDEN_S, what is in it is hidden from @pid until made
 * again (removals_clear), so that a copy into it (cp -r) reaches the
 * mount.  0 or -ENOMEM. */
int removals_fresh_add(struct removals *s, const char *dir, pid_t pid);
/* True when @key is strictly below a folder made so lately, by @pid (0:
 * by anyone). */
bool removals_in_fresh(struct removals *s, const char *key, pid_t pid);
/* @key, below a folder made so lately and hidden from its maker, was
 * made anew (a create, mkdir or symlink that reached the mount because
 * it was hidden: the copy's), at path @file: shown again, and true;
 * false otherwise. */
bool removals_copied(struct removals *s, const char *key, const char *file);
/* True when the file at path @file was made so (removals_copied) lately:
 * what is written to it is the copy's.  By path: its asker (a commit,
 * write.c) has no chain to make a key of. */
bool removals_is_copy(struct removals *s, const char *file);
/* Forgets the removals below folder @dir (a key: its object was
 * deleted). */
void removals_forget(struct removals *s, const char *dir);

#endif /* TGFS_REMOVALS_H */
