/*
 * state.h - the mtimes shown for objects (updatedAt, or first-seen times
 * for devices; a new second for each new content), kept in a state file
 * across mounts so that a change is always a new mtime and an unchanged
 * object keeps its own (DESIGN.md §6; state.c tells the rule).  Uses
 * nothing of fs/ but the hash of mount.h.  Every function takes the
 * store's lock: any thread.
 */
#ifndef TGFS_STATE_H
#define TGFS_STATE_H

#include "tg_api.h"

struct seen;

/* Loads the state file for the endpoint @url (a missing or unreadable
 * file: empty, and times are not kept where there is no home).  NULL
 * only when out of memory.  Free with seen_close(). */
struct seen *seen_open(const char *url);
/* Frees @s (NULL: nothing). */
void seen_close(struct seen *s);
/* Sets the mtime of each object of @list (and of its children), which
 * holds its updatedAt (0: none) on entry: that, or the time its content
 * was first seen, a new second for new content, kept across mounts (the
 * file is rewritten at most once a second when something new was seen,
 * and at the close; a failure to write is logged, and the times stay in
 * memory).  The objects @pending still lacks nested pages of are judged
 * when complete. */
void seen_stamp(struct seen *s, struct tg_list *list,
		const struct tg_pending *pending);

#endif /* TGFS_STATE_H */
