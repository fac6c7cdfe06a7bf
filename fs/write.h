/*
 * write.h - what changes the tenant (write.c): each call is one mutation
 * (two for a key's revoke-then-delete) whose result goes into the cached
 * collections (coll.h), then the kernel is told to forget what it held
 * of the paths changed (inval.h).  Drafts (draft.h) are made, filled and
 * created here too.
 *
 * Paths are absolute paths in the mount.  Any thread may call these; they
 * block on the API.  Each returns 0 or -errno: -EROFS on a read-only
 * mount, -EPERM/-EACCES for what the kinds table does not allow, the
 * errno of a refused or failed mutation (tgfs_errno, recorded in the
 * errors log), and a mutation whose outcome is unknown makes the next
 * read of its kind ask the API again (cache_expire).
 */
#ifndef TGFS_WRITE_H
#define TGFS_WRITE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mount.h"

/* Sends what was written (@text, @len bytes) to the field or object.json
 * at @path: one mutation, none when it equals what the tenant holds; in a
 * draft, keeps it and creates the object once the draft is complete.
 * -EISDIR for a folder, -EINVAL for a value that does not parse. */
int commit_field(struct tgfs *fs, const char *path, const char *text,
		 size_t len);

/* As commit_field, for a file put in place (renamed onto the field) with
 * mtime @mtime (nanoseconds; 0: none): when that is the mtime an older
 * version of the object this mount saw showed, a value equal to that version's
 * is a copy of it and sends nothing, so a restore never undoes a change
 * made since; a value changed from it while the tenant's changed too is
 * -EAGAIN (recorded). */
int commit_field_from(struct tgfs *fs, const char *path, const char *text,
		      size_t len, int64_t mtime);

/* mkdir of an object: its create mutation, or a draft (a kind whose
 * create needs more than a name), or in a folder of links whose other
 * side takes drafts, a draft linked to its object.  -EEXIST, -EINVAL
 * (no name). */
int tgfs_make_object(struct tgfs *fs, const char *path);

/* As tgfs_make_object, for a mkdir asking for @mode: with no group or
 * other permissions (rsync, tar), a kind created from its name alone
 * makes a restore folder, which its first file written decides (its id:
 * the object it is, renamed back if need be; anything else: a create). */
int tgfs_make_object_as(struct tgfs *fs, const char *path, mode_t mode);

/* rmdir of an object: its delete (after a revoke, for active keys); a
 * draft goes as it came.  -ENOTDIR for a file. */
int tgfs_remove_object(struct tgfs *fs, const char *path);

/* mv of an object within its folder: a rename (a write of its name
 * file).  -EEXIST when @to is taken, -EPERM across folders. */
int tgfs_rename_object(struct tgfs *fs, const char *from, const char *to);

/* ln -s @target @path / rm @path of a relation link.  -ENOTSUP: @path is
 * no relation (the caller makes a scratch file); -EINVAL when a link is
 * not named as what it points to; -ENOENT for no such target. */
int tgfs_link_add(struct tgfs *fs, const char *target, const char *path);
int tgfs_link_remove(struct tgfs *fs, const char *path);

#endif /* TGFS_WRITE_H */
