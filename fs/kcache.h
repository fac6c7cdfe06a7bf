/*
 * kcache.h - what the kernel holds of each value file and folder
 * (kcache.c), so that warm reads and listings come from its caches
 * instead of round trips.  Records are told apart by hashes of paths;
 * forgetting one is always safe.  Every function takes the records'
 * lock: any thread.  Nothing here fails: a record that cannot be kept is
 * forgotten.  Uses nothing of fs/ (the hash of mount.h only).
 */
#ifndef TGFS_KCACHE_H
#define TGFS_KCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Records of 16 bytes: 65,536 for files (grep -r over 20,000 devices'
 * trust keeps them all) and 131,072 for folders (a walk of the large
 * tenant lists ~120,000): 3 MiB at most, touched as used. */
#define TGFS_KCACHE_FILES_LOG2 16
#define TGFS_KCACHE_DIRS_LOG2 17

struct kcache;

/* Tables of 2^@files_log2 file and 2^@dirs_log2 folder records, or NULL
 * when out of memory.  Free with kcache_free() (NULL: nothing). */
struct kcache *kcache_new(unsigned files_log2, unsigned dirs_log2);
void kcache_free(struct kcache *kc);

/* A getattr told the kernel @size for the file at @path.  True when it
 * had been told another size before (the content changed under it).
 * Only files opened before are followed. */
bool kcache_sized(struct kcache *kc, const char *path, size_t size);

/* How an open for reading of the file at @path, whose content is now
 * @len bytes known by @content (a hash that changes whenever the content
 * does: its object's, for an object's files), may use the kernel's page
 * cache: direct at a first open, then through it once a getattr has told
 * the kernel the size. */
enum kcache_use {
	KC_DIRECT, /* every read asks us (direct_io) */
	KC_FILL,   /* through the page cache, dropping what it held */
	KC_KEEP,   /* through the page cache, which holds this content */
};
enum kcache_use kcache_open(struct kcache *kc, const char *path,
			    uint64_t content, size_t len);

/* The kernel's size or pages for @path may change by other means (a write
 * or a truncate through it): read it direct until the next getattr. */
void kcache_forget(struct kcache *kc, const char *path);

/* False at the first open of the folder at @path (or once its record is
 * gone): the kernel lists it afresh, and nothing need be compared. */
bool kcache_dir_known(struct kcache *kc, const char *path);
/* An open of the folder at @path, whose entries now hash to @listing
 * (fnv_add from FNV_INIT): true when the kernel's cached entries are these
 * and may be kept. */
bool kcache_dir_open(struct kcache *kc, const char *path, uint64_t listing);
/* The kernel was given the entries hashing to @listing for @path: the
 * folder's first listing, or one that changed since its open. */
void kcache_dir_listed(struct kcache *kc, const char *path, uint64_t listing);

/*
 * The kernel was told that nothing is at @path (a negative entry, which
 * it keeps for negative_timeout).  kcache_take_negatives hands each path
 * so told since the last take to @fn (outside the lock) and forgets
 * them; it returns how many.  At most 1,024 are kept: a path may take
 * the place of another, which the kernel then keeps as long as it
 * likes.  Out of memory, a path is not kept.
 */
void kcache_negative(struct kcache *kc, const char *path);
size_t kcache_take_negatives(struct kcache *kc,
			     void (*fn)(void *arg, const char *path),
			     void *arg);

/*
 * Without OPENDIR (ll.c), the kernel lists a folder from the entries it
 * holds until the folder's mtime, as a getattr tells it, changes.  So a
 * folder's mtime carries a generation in its nanoseconds, which changes
 * once the entries the kernel was given may be out of date: when the
 * content they were made from is older than the cache's TTL, and when the
 * record is gone (forgetting is safe).  kcache_dir_gen gives the
 * generation of the folder at @path at monotonic time @now (seconds), and
 * in *@left how long the kernel may keep attributes with it (-1: as long
 * as it likes).  kcache_dir_filled: the kernel was given its entries,
 * made from content that goes stale at @stale_at.
 */
uint32_t kcache_dir_gen(struct kcache *kc, const char *path, double now,
			double *left);
void kcache_dir_filled(struct kcache *kc, const char *path,
		       double stale_at);

/* How many read opens went each way, by enum kcache_use; how many folder
 * opens refilled the kernel's entries and how many kept them. */
void kcache_counts(struct kcache *kc, uint64_t opens[3],
		   uint64_t dir_opens[2]);

#endif /* TGFS_KCACHE_H */
