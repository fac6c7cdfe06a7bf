/*
 * state.h - first-seen times for objects the API gives no updatedAt
 * (devices), kept in a state file across mounts so their files keep one
 * mtime (DESIGN.md §6).  Uses nothing of fs/ but the hash of mount.h.
 * Every function takes the store's lock: any thread.
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
/* Sets the mtime of each object of @list: the time its content was first
 * seen, kept across mounts (the file is rewritten when something new was
 * seen; a failure to write is logged, and the times stay in memory). */
void seen_stamp(struct seen *s, struct tg_list *list);

#endif /* TGFS_STATE_H */
