/*
 * tgfs.h - the filesystem: the tree of a Twingate tenant, served by FUSE.
 * What main.c sees of fs/, and the names every module uses (names.c).
 *
 * fs/ turns the kinds table and the objects of api/ into folders, files and
 * symlinks.  Every operation returns 0 or -errno; tgfs_errno() (mount.h) is
 * the one place where api/'s enum tg_err becomes an errno.  The modules of
 * fs/ have one header each; mount.h is the base they all may use.
 */
#ifndef TGFS_H
#define TGFS_H

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tg_api.h"

/* What the mount was asked for (filled by main.c from the command line). */
struct tgfs_config {
	struct tg_api_config api;
	unsigned cache_ttl;  /* seconds */
	size_t cache_max_bytes;
	uid_t uid;
	gid_t gid;
	mode_t umask;
	bool read_only;
	bool dir_open; /* ask at every opendir, as kernels before 5.1 do */
	struct tg_api_health checked; /* what the check before mounting saw */
};

/*
 * Makes the mount's state from @conf, which must outlive it, with no
 * FUSE: the client, the cache and their threads (so: after any fork).
 * @inval (never NULL) tells the kernel to drop what it holds of what a
 * note names (inval.h), from a thread of ours.  Tests and fuzzers make one for themselves.
 * NULL when out of memory (nothing is left made).  You own the result:
 * free it with tgfs_free(), which stops the threads.
 */
struct tgfs;
struct inval_note;
struct tgfs *tgfs_new(const struct tgfs_config *conf,
		      void (*inval)(void *arg, const struct inval_note *n),
		      void *inval_arg);
void tgfs_free(struct tgfs *fs);

/*
 * The low-level session (ll.c), the one FUSE face, with the node ids
 * the kernel holds in a table of its own.  tgfs_ll_new parses @args' FUSE
 * options (NULL on a bad one, said on stderr); @conf must outlive it.
 */
struct ll;
struct ll *tgfs_ll_new(struct fuse_args *args, struct tgfs_config *conf);
struct fuse_session *tgfs_ll_session(struct ll *ll);
/* fuse_session_mount on @mountpoint; with a libfuse before 3.16, also
 * routes the session's I/O through ll.c, so that the kernel hears that
 * lookups in one folder may run at once.  0, or -1 (said by libfuse)
 * with nothing left mounted.  Before the session's loop, one thread. */
int tgfs_ll_mount(struct ll *ll, const char *mountpoint);
void tgfs_ll_free(struct ll *ll);

/* ------------------------------------------------------------------ */
/* Names (pure functions, unit-tested)                                 */
/* ------------------------------------------------------------------ */

/* Longest file name we make, in bytes (NAME_MAX). */
#define TGFS_NAME_MAX 255

/*
 * Encodes an object's name as a file name: '/' becomes U+FF0F '／', a name
 * that is exactly "." or ".." becomes "．" / "．．", and the quote mark
 * U+201B '‛' is put before any of those full-width characters that were in
 * the name already, so decoding is exact.  An empty name becomes "‛".
 * Returns the length written, or -1 if @out (with its NUL) is too small.
 */
int tgfs_name_encode(const char *name, char *out, size_t outsz);

/* The inverse of tgfs_name_encode().  Returns the length or -1. */
int tgfs_name_decode(const char *file, char *out, size_t outsz);

/*
 * The short id that tells apart objects of the same name: the primary key
 * inside the global ID ("RemoteNetwork:40064" -> "40064"), at most 8
 * characters, or 8 hex digits of a hash when the id is not a global ID.
 */
void tgfs_short_id(const char *id, char *out, size_t outsz);

/*
 * The file name of an object: the encoded name, with "~<short id>" after it
 * when @duplicate, cut (on a UTF-8 boundary, then suffixed) to fit
 * TGFS_NAME_MAX.  @out must hold TGFS_NAME_MAX + 1 bytes.
 */
void tgfs_entry_name(const char *name, const char *id, bool duplicate,
		     char *out);

#endif /* TGFS_H */
