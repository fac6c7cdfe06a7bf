/*
 * llinval.c - the kernel's side of invalidation (ll.h): what the store
 * or a followed rename says changed (inval.h notes, on the queue's
 * thread), and what folders' entries are made of (folders_changed, on a
 * request's thread), turned into the node ids and entries the kernel
 * holds (inodes.h) and told to it: an object's and a keyed node's by the
 * object's id (inodes_with_id, inodes_keyed), whatever it is called now.
 */
#include <stdlib.h>
#include <string.h>

#include "inodes.h"
#include "inval.h"
#include "ll.h"

/* The kernel asks again for @name in @parent at its next use; a kernel
 * before 6.2 (no expiry) drops the entry instead. */
static void expire(struct ll *ll, uint64_t parent, const char *name)
{
	if (fuse_lowlevel_notify_expire_entry(ll->se, parent, name,
					      strlen(name),
					      FUSE_LL_EXPIRE_ONLY) == -ENOSYS)
		fuse_lowlevel_notify_inval_entry(ll->se, parent, name,
						 strlen(name));
}

/* The kernel forgets object folder @ino and every file in it and under
 * it; when its
 * object's name is now @name ("" gone, NULL unknown) and the kernel
 * finds it by another, that entry too. */
static void forget_folder(struct ll *ll, uint64_t ino, const char *name)
{
	char old[TGFS_NAME_MAX + 1];
	uint64_t parent, kids[64], from = 0;
	bool hashed;
	size_t n;

	if (name &&
	    !inodes_entry(ll->nodes, ino, &parent, old, sizeof(old),
			  &hashed) &&
	    hashed && strcmp(old, name) != 0) {
		fuse_lowlevel_notify_inval_entry(ll->se, parent, old,
						 strlen(old));
		/* A name looked up while it was free (a negative entry):
		 * asked again at its next use.  The node takes the new name
		 * (a shell's cwd there: its paths say it, and its next
		 * LOOKUP by that name finds the same node id). */
		if (*name) {
			expire(ll, parent, name);
			inodes_rehash(ll->nodes, ino, name);
		}
	}
	fuse_lowlevel_notify_inval_inode(ll->se, ino, 0, 0);
	/* Its files, and those of its folders (an access edge's settings
	 * show the object's time too). */
	while ((n = inodes_descendants(ll->nodes, ino, &from, kids, 64)) > 0)
		for (size_t i = 0; i < n; i++)
			fuse_lowlevel_notify_inval_inode(ll->se, kids[i], 0, 0);
}

/* Every object folder's entry expires: the kernel asks for each again
 * at its next use (after a refresh, which may have seen renames). */
static void expire_names(struct ll *ll)
{
	char name[TGFS_NAME_MAX + 1];
	uint64_t ids[256], from = 0, parent;
	bool hashed;
	size_t n;

	while ((n = inodes_with_id(ll->nodes, NULL, &from, ids, 256)) > 0)
		for (size_t i = 0; i < n; i++)
			if (!inodes_entry(ll->nodes, ids[i], &parent, name,
					  sizeof(name), &hashed) &&
			    hashed)
				expire(ll, parent, name);
}

/* The kernel drops its folder's entry of @path's name, negative (a name
 * it was told is not there, kcache_negative) or not. */
static void forget_entry(struct ll *ll, const char *path)
{
	const char *base = path ? strrchr(path, '/') : NULL;
	uint64_t ino;
	char *dir;

	if (!base || !base[1] || !(dir = strndup(path, (size_t)(base - path))))
		return;
	ino = *dir ? inodes_find(ll->nodes, dir) : FUSE_ROOT_ID;
	if (ino)
		fuse_lowlevel_notify_inval_entry(ll->se, ino, base + 1,
						 strlen(base + 1));
	free(dir);
}

/* What @n (INVAL_KEYED) says to forget of node @ino. */
static void forget_keyed(struct ll *ll, uint64_t ino,
			 const struct inval_note *n)
{
	uint64_t child;

	if (n->what & INVAL_SELF)
		fuse_lowlevel_notify_inval_inode(ll->se, ino, 0, 0);
	if (!n->name || !*n->name)
		return;
	/* its entry: the node the kernel holds by that name, else the
	 * entry (negative or not), as a path's note does */
	child = n->what & INVAL_NAME_ONLY
			? 0
			: inodes_child(ll->nodes, ino, n->name);
	if (child)
		fuse_lowlevel_notify_inval_inode(ll->se, child, 0, 0);
	else
		fuse_lowlevel_notify_inval_entry(ll->se, ino, n->name,
						 strlen(n->name));
}

/* Every node of key @n->key in the folders of object @n->id the kernel
 * holds (one per place it is shown, whatever it is called now). */
static void keyed(struct ll *ll, const struct inval_note *n)
{
	uint64_t tops[16], ids[64], tfrom = 0, from;
	size_t t, k;

	while ((t = inodes_with_id(ll->nodes, n->id, &tfrom, tops, 16)) > 0)
		for (size_t i = 0; i < t; i++) {
			from = 0;
			while ((k = inodes_keyed(ll->nodes, tops[i], n->key,
						 &from, ids, 64)) > 0)
				for (size_t j = 0; j < k; j++)
					forget_keyed(ll, ids[j], n);
		}
}

/* The inval queue's way to the kernel (inval.c), on its thread: each
 * note turned into the node ids the kernel holds.  Errors (the kernel
 * has no such node or entry) mean there was nothing to forget. */
void ll_invalidate(void *arg, const struct inval_note *note)
{
	struct ll *ll = arg;
	uint64_t ids[64], from = 0, ino;
	size_t n;

	switch (note->kind) {
	case INVAL_PATH:
		ino = inodes_find(ll->nodes, note->path);
		if (ino)
			fuse_lowlevel_notify_inval_inode(ll->se, ino, 0, 0);
		else
			forget_entry(ll, note->path);
		break;
	case INVAL_NAME:
		/* Its folder's entry of that name, negative or not. */
		forget_entry(ll, note->path);
		break;
	case INVAL_OBJECT:
		while ((n = inodes_with_id(ll->nodes, note->id, &from, ids,
					   64)) > 0)
			for (size_t i = 0; i < n; i++)
				forget_folder(ll, ids[i], note->name);
		break;
	case INVAL_ENTRY:
		fuse_lowlevel_notify_inval_entry(ll->se, note->parent,
						 note->name,
						 strlen(note->name));
		break;
	case INVAL_NAMES:
		expire_names(ll);
		break;
	case INVAL_KEYED:
		keyed(ll, note);
		break;
	}
}

/*
 * Something changed that folders' entries are made of (a change made
 * here, or the cache dropped): the kernel drops the entries it holds of
 * every folder it was given entries of, before the change's request is
 * answered, so that the next listing shows it.  Without OPENDIR nothing
 * else would tell it before the folder's generation goes stale.  Dropping
 * a folder's pages waits on nothing of ours, so this is safe from a
 * request's thread.
 */
void ll_folders_changed(void *arg)
{
	struct ll *ll = arg;
	uint64_t ids[256], from = 0;
	size_t n;

	if (!ll->fs->no_opendir)
		return;
	/* In batches, outside the table's lock: lookups go on meanwhile. */
	while ((n = inodes_take_listed(ll->nodes, &from, ids, 256)) > 0)
		for (size_t i = 0; i < n; i++)
			fuse_lowlevel_notify_inval_inode(ll->se, ids[i], 0, 0);
}
