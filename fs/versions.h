/*
 * versions.h - the versions of objects this mount has seen (versions.c):
 * what object.json looked like at an earlier updatedAt, so that writing
 * an older object.json back (a restore from a backup) can be told apart
 * from an edit (DESIGN.md §3, "Rewrites and restores").
 *
 * A version is noted when object.json is looked up (a backup reads it)
 * and before each change this mount sends (the base of the change).  At
 * most TGFS_VERSIONS_PER_OBJECT versions an object and TGFS_VERSIONS_MAX
 * in all are kept, oldest dropped first; they live in memory only, until
 * unmount.  Any thread.
 */
#ifndef TGFS_VERSIONS_H
#define TGFS_VERSIONS_H

#include <stdbool.h>

#include "tg_api.h"

#define TGFS_VERSIONS_PER_OBJECT 4
#define TGFS_VERSIONS_MAX 65536

struct versions;

/* A new empty store, or NULL when out of memory; versions_free(NULL) is
 * nothing. */
struct versions *versions_new(void);
void versions_free(struct versions *v);

/* Notes @obj (an object as listed, with its node) as a version of its id:
 * nothing when the newest one noted has the same content.  Out of memory
 * notes nothing.  Never fails. */
void versions_note(struct versions *v, const struct tg_object *obj);

/* Copies into *@out the version of object @id whose object.json shows
 * @stamp at its kind's mtime path (updatedAt), or, with @stamp NULL, the
 * one whose object.json hash is @hash.  The caller owns *@out
 * (tg_object_release).  False when none is known. */
bool versions_find(struct versions *v, const char *id, const char *stamp,
		   uint64_t hash, struct tg_object *out);

/* Copies into *@out the version of object @id whose mtime (as its files
 * showed it, in nanoseconds: state.h) is @ns; false when none is known
 * (or @ns is 0).  The caller owns *@out. */
bool versions_find_at(struct versions *v, const char *id, int64_t ns,
		      struct tg_object *out);

#endif /* TGFS_VERSIONS_H */
