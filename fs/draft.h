/*
 * draft.h - objects that exist only in this mount until they can be
 * created (DESIGN.md §4): a store of drafts, as scratch.h is of scratch
 * files.  It uses nothing of fs/ but the names of tgfs.h: it sends no
 * request and tells no one of a change; the caller does both (write.c
 * sends the create, and says folders changed after draft_new,
 * draft_remove, draft_set_link and a create sent).
 *
 * Every function takes the store's lock and may be called from any
 * thread.  A draft is known by its kind and its file name in the kind's
 * folder (@file).
 */
#ifndef TGFS_DRAFT_H
#define TGFS_DRAFT_H

#include <stdbool.h>
#include <stddef.h>

#include "tg_api.h"
#include "tgfs.h"

/* The file in a draft's folder that says what its create still needs. */
#define TGFS_DRAFT_FILE ".draft"

struct draft_store;

/* A new empty store, or NULL when out of memory.  Free it with
 * draft_store_free(), which frees its drafts too (NULL: nothing). */
struct draft_store *draft_store_new(void);
void draft_store_free(struct draft_store *s);

/* True when a draft of @k takes the field or one-link @file.  Pure. */
bool draft_takes(const struct tg_kind *k, const char *file);

/*
 * Makes the draft @file (the object named @raw_name) of @k, its one-link
 * @rel (or -1) set to @target_id.  0, -EEXIST when there is one, -EINVAL
 * when @raw_name is no name, -ENOMEM (nothing is made).
 */
int draft_new(struct draft_store *s, const struct tg_kind *k, const char *file,
	      const char *raw_name, int rel, const char *target_id);

/*
 * Copies the draft @file of @k into *@copy, which the caller then owns
 * (tg_object_release); with @rel >= 0, only when its one-link @rel is
 * @target_id.  False when there is none (or no memory for the copy).
 */
bool draft_get(struct draft_store *s, const struct tg_kind *k, const char *file,
	       int rel, const char *target_id, struct tg_object *copy);

/*
 * Calls @fn for each draft of @k (whose one-link @rel is @target_id, with
 * @rel >= 0), with its object and file name, both valid during the call
 * only.  Holds the store's lock meanwhile: @fn must not call the store.
 * Stops at @fn's first non-zero result and returns it, else 0.
 */
int draft_each(struct draft_store *s, const struct tg_kind *k, int rel,
	       const char *target_id,
	       int (*fn)(void *arg, const struct tg_object *obj,
			 const char *file),
	       void *arg);

/*
 * A restore folder (DESIGN.md §3, "Rewrites and restores"): a folder made
 * by mkdir with no group or other permissions (rsync and tar make the
 * folders they fill so) in the folder of a kind whose create needs only a
 * name, kept here as a draft of @k named @file (@raw_name) until its
 * first file is written: its `id` tells whether it is an object that
 * exists (write.c).  0, -EEXIST, -EINVAL, -ENOMEM.
 */
int draft_new_pending(struct draft_store *s, const struct tg_kind *k,
		      const char *file, const char *raw_name);

/*
 * The file a draft of @k named @name (in the folder of @parent_id's, for
 * a nested kind, whose only drafts are restore folders) is known by, into
 * @key: @name for a top kind, "<parent_id>/<name>" for a nested one (a
 * name holds no '/').  0, or -ENAMETOOLONG.  Pure.
 */
int draft_key(const struct tg_kind *k, const char *parent_id,
	      const char *name, char *key, size_t keysz);

/* The name part of draft key @key (the key itself for a top kind).  Pure. */
const char *draft_key_name(const char *key);

/* Whether @id is a restore folder's.  Pure. */
bool draft_id_pending(const char *id);

/* Whether @obj (a draft's copy) is a restore folder.  Pure. */
bool draft_is_pending(const struct tg_object *obj);

/*
 * A link made in or to restore folder @file of @k before its id said what
 * it is (the caller keeps it as a scratch link, or a held edge's
 * folder, of scratch key @key, node.h node_scratch_key, and makes it
 * once the folder is an object).  @key is copied.  0 (held already: 0),
 * -ENOENT when @file is no restore folder, -ENOMEM.
 */
int draft_hold(struct draft_store *s, const struct tg_kind *k,
	       const char *file, const char *key);

/* The restore folders of nested kinds under @old_parent (a restore
 * folder's id) are under @new_parent now (the object it turned out to
 * be, or was created as): their keys (draft_key) say so. */
void draft_rekey(struct draft_store *s, const char *old_parent,
		 const char *new_parent);

/*
 * Object @id was created anew by a restore folder (it was deleted since
 * the backup): the backup's read-only files of the object it stood for
 * (id, created-at, updated-at) are taken with no effect in its folder
 * for the mount's life (write.c).  0 or -ENOMEM.
 */
int draft_anew(struct draft_store *s, const char *id);
bool draft_is_anew(struct draft_store *s, const char *id);

/* The scratch keys held for @file of @k (their number in *@n), which the
 * caller then owns (each key and the array: free); the folder holds none
 * after.
 * NULL with *@n 0 when none. */
char **draft_take_held(struct draft_store *s, const struct tg_kind *k,
		       const char *file, size_t *n);

/* Drops the draft @file of @k (and what it held).  0 or -ENOENT. */
int draft_remove(struct draft_store *s, const struct tg_kind *k,
		 const char *file);

/*
 * Keeps what was written (@text, @len bytes) to field @field of draft
 * @file.  0; -EINVAL (before anything is sent) when the value does not
 * parse, -EACCES when a draft does not take that field, -ENOENT, -ENOMEM.
 */
int draft_set_field(struct draft_store *s, const struct tg_kind *k,
		    const char *file, size_t field, const char *text,
		    size_t len);

/* Sets (or with NULL clears) the one-link @rel of draft @file.  0;
 * -EPERM when a draft does not take it, -ENOENT, -ENOMEM. */
int draft_set_link(struct draft_store *s, const struct tg_kind *k,
		   const char *file, size_t rel, const char *target_id);

/* What a draft's create sends: as tg_api_create() takes them. */
struct draft_values {
	char name[4 * TGFS_NAME_MAX]; /* the object's name, decoded */
	size_t fields[TG_MAX_VALUES];
	char *values[TG_MAX_VALUES];
	size_t n;
	size_t rels[TG_MAX_VALUES];
	char *ids[TG_MAX_VALUES];
	size_t nl;
};

/*
 * When draft @file of @k has all its create needs, calls @send(@arg, @k,
 * values) with what to send (valid during the call), and sets *@sent.
 * @send returns 0 when the object was created, and the draft is then
 * dropped, or -errno, and it stays.  One create runs at a time in a store,
 * so two writers completing one draft make one create.  Returns 0 (sent
 * or not), @send's error, -ENOENT or -ENOMEM.
 */
int draft_create(struct draft_store *s, const struct tg_kind *k,
		 const char *file,
		 int (*send)(void *arg, const struct tg_kind *k,
			     const struct draft_values *v),
		 void *arg, bool *sent);

#endif /* TGFS_DRAFT_H */
