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

#include <stdbool.h>
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

/* As commit_field, for the node @n already resolved (a handle's file,
 * found by its chain), which it takes over and releases in every case
 * (@n is left empty); @path names it in the errors log.  @mtime as
 * commit_field_from. */
struct node;
int commit_node(struct tgfs *fs, const char *path, struct node *n,
		const char *text, size_t len, int64_t mtime);

/* As commit_field, for a file put in place (renamed onto the field) with
 * mtime @mtime (nanoseconds; 0: none): when that is the mtime an older
 * version of the object this mount saw showed, a value equal to that version's
 * is a copy of it and sends nothing, so a restore never undoes a change
 * made since; a value changed from it while the tenant's changed too is
 * -EAGAIN (recorded). */
int commit_field_from(struct tgfs *fs, const char *path, const char *text,
		      size_t len, int64_t mtime);

/*
 * The operations below on a name (mkdir, rmdir, rename, ln -s, rm) take
 * it as a struct tgfs_name (node.h): resolved from its folder's key when
 * it has its chain (the mount's operations), from the root when it is a
 * path only (tgfs_name_of_path: held edges made later, the fuzzers).
 * rmdir and rm resolve the name once (nameops.c) and hand its node @n
 * down: the caller owns @n and releases it after (a callee may release
 * it early, before it applies what it sent; node_release twice is
 * harmless).
 */
struct tgfs_name;
struct node;

/* mkdir of an object: its create mutation, or a draft (a kind whose
 * create needs more than a name), or in a folder of links whose other
 * side takes drafts, a draft linked to its object.  -EEXIST, -EINVAL
 * (no name).  By @path, from the root. */
int tgfs_make_object(struct tgfs *fs, const char *path);

/* As tgfs_make_object, for a mkdir of @nm asking for @mode, in @parent,
 * the folder @nm is in (resolved by the caller, and released here: it is
 * ours).  With no group or other permissions (rsync, tar), a kind
 * created from its name alone makes a restore folder, which its first
 * file written decides (its id: the object it is, renamed back if need
 * be; anything else: a create).  *@made (may be NULL) says whether an
 * object of the tenant was made (neither a draft nor a restore folder). */
int tgfs_make_object_in(struct tgfs *fs, const struct tgfs_name *nm,
			struct node *parent, mode_t mode, bool *made);

/* rmdir of an object by @pid (@n: @nm resolved): its delete (after a
 * revoke, for active keys); a draft goes as it came; a folder inside an
 * object @pid is taking apart (wr_taken_apart): nothing.  -ENOTDIR for a
 * file. */
int tgfs_remove_object(struct tgfs *fs, const struct tgfs_name *nm,
		       struct node *n, pid_t pid);

/* mv of an object within its folder: a rename (a write of its name
 * file).  -EEXIST when @to is taken, -EPERM across folders. */
int tgfs_rename_object(struct tgfs *fs, const struct tgfs_name *from,
		       const struct tgfs_name *to);

/* ln -s @target @nm (by @pid; 0: the mount's own) / rm @nm (@n: @nm
 * resolved) of a relation link.  -ENOTSUP: @nm is no relation (the caller makes a
 * scratch file); -EINVAL when a link is not named as what it points to;
 * -ENOENT for no such target; 0 with nothing sent when it is there. */
int tgfs_link_add(struct tgfs *fs, const char *target,
		  const struct tgfs_name *nm, pid_t pid);
int tgfs_link_remove(struct tgfs *fs, const struct tgfs_name *nm,
		     struct node *n, pid_t pid);


/* ---- shared by write.c, objects.c and links.c only ---- */

struct tg_result;
struct draft_values;

/* The folder of name @nm, resolved into @n (release it), and its last
 * component into @name (@namesz bytes; NULL: only checked to fit).
 * 0, -ENAMETOOLONG or -errno of the resolve. */
int wr_resolve_parent(struct tgfs *fs, const struct tgfs_name *nm,
		      struct node *n, char *name, size_t namesz);

struct send_arg {
	struct tgfs *fs;
	const char *file;
	struct tg_result *res;
};

/* The folder part of @path into @dir. */
void wr_dirname_of(const char *path, char *dir, size_t dirsz);

/* The kernel forgets the object folder @dir and every file in it. */
void wr_inval_object(struct tgfs *fs, const char *dir,
			 const struct tg_kind *k);

/* Takes a mutation's result into the cache; a result without an entity
 * makes the collection of @holder be read again. */
void wr_take_result(struct tgfs *fs, struct tg_result *r,
			const struct tg_kind *holder);

/* Logs and records a failed change; returns -errno. */
int wr_failed(struct tgfs *fs, const char *path, enum tg_err err);

/* Sends the create of a complete draft (draft_create's @send). */
int wr_send_create(void *arg, const struct tg_kind *k,
		       const struct draft_values *v);

/*
 * A draft whose field or link at @path (in draft folder @n) was just set:
 * creates the object if the draft now has all it needs.  A refused create
 * fails the write that completed the draft, and the draft stays.
 */
int wr_draft_changed(struct tgfs *fs, const char *path,
			 const struct node *n);

/*
 * 0 when no object in the kind folder @kdir (a KINDDIR node), other than
 * @except_id, is named @raw (a raw name) and no draft holds it there;
 * -EEXIST when one or several do (shown as "<name>~<short id>"); -errno
 * of the read that tells.  The name was looked up by the kernel before a
 * mkdir, so that costs no request; a rename's new name may cost one.
 */
int wr_name_free(struct tgfs *fs, const struct node *kdir,
		     const char *raw, const char *except_id);

/* As wr_name_free, for the kind folder holding the object folder @objdir. */
int wr_name_free_at(struct tgfs *fs, const char *objdir, const char *raw,
			const char *except_id);

/* A new name (@json, a JSON string as tg_value_parse makes it) for the
 * object in folder @objdir: -EEXIST when another object there has it,
 * recorded in the errors log. */
int wr_rename_allowed(struct tgfs *fs, const char *path,
			  const char *objdir, const struct tg_object *obj,
			  const char *json);

/* Whether field @f of @k is the one its folders are named by. */
bool wr_names_folder(const struct tg_kind *k, const struct tg_field *f);

/*
 * A file written in restore folder @n at @path: an `id` naming an object
 * of the kind makes the folder that object (renamed to the folder's name
 * when it was renamed since: one update); an `id` naming none (the object
 * was deleted since) creates it anew under the folder's name, and so does
 * the first writable field or object.json, which is then written to it.
 * A read-only field before the id (created-at) is taken with no effect:
 * the object shows its own once it is there.
 */
int wr_pending_commit(struct tgfs *fs, const char *path,
			  const struct node *n, const char *text, size_t len);

/* ln -s in or to restore folder @file of @k before its id arrived: held
 * as a scratch link of scratch key @key (node.h node_scratch_key; to
 * @target), made once the folder is an object.  0 or -errno. */
int wr_pending_hold(struct tgfs *fs, const struct tg_kind *k,
		    const char *file, const char *target, const char *key);
/* Whether @name (a file name in the top folder of @k) is a restore folder
 * still waiting for its id: links to it are held until then. */
bool wr_pending_named(struct tgfs *fs, const struct tg_kind *k,
		      const char *name);

/* True when @nm is strictly below an object @pid is taking apart (rm
 * -r, rsync --delete: it removed a file of it lately): its removal is
 * then accepted with nothing sent, gone for @pid alone, as the rmdir of
 * the object deletes it whole. */
bool wr_taken_apart(struct tgfs *fs, const struct tgfs_name *nm, pid_t pid);

/* ---- access edges as folders (edges.c) ---- */

/* A write of an edge's setting file @n at @path: one resourceAccessAdd
 * with that setting, nothing when it holds that value.  0 or -errno. */
int edge_commit(struct tgfs *fs, const char *path, struct node *n,
		const char *text, size_t len);
/* Grants @name (a folder name of the rel's target kind) the access of
 * rel folder @parent (mkdir at @path). */
int edge_grant(struct tgfs *fs, const char *path, struct node *parent,
	       const char *name);
/* The access edge folder of scratch key @key (node.h node_scratch_key:
 * its path now found from it, tgfs_key_path), held (a scratch folder)
 * while its
 * principal's restore folder waited for its id, which it now has: the
 * edge is granted unless it is there (one resourceAccessAdd at most), and
 * what rsync made in it meanwhile is applied as if made now (links as ln
 * -s, setting files as written; a temporary file stays scratch in the
 * edge's folder).  0, or the first failure (each one in errors; an edge
 * not made sends nothing for its files). */
int edge_held_apply(struct tgfs *fs, const char *key);
/* Revokes the edge of folder @n (rmdir at @path). */
int edge_revoke(struct tgfs *fs, const char *path, struct node *n);
/* Sets the edge's policy to the folder @target names (NULL: none). */
int edge_policy(struct tgfs *fs, const char *path, struct node *n,
		const char *target);
/* Whether folder node @n is a folder of access edges (mkdir there is
 * edge_mkdir's).  Pure. */
bool edge_folder(const struct node *n);
/* mkdir of @nm in @parent, the folder of edges it is in (edge_folder,
 * resolved by the caller, and released here: it is ours).  0 or -errno. */
int edge_mkdir(struct tgfs *fs, const struct tgfs_name *nm,
	       struct node *parent, mode_t mode, pid_t pid);
/* rmdir, symlink, unlink in the edges' folders: -ENOTSUP when @nm is not
 * one of theirs (the caller goes on as before).  rmdir and unlink take
 * @nm resolved (@n, the caller's); rmdir of a held edge (a scratch
 * folder) is the caller's (nameops.c). */
int edge_rmdir(struct tgfs *fs, const struct tgfs_name *nm, struct node *n);
int edge_symlink(struct tgfs *fs, const char *target,
		 const struct tgfs_name *nm);
int edge_unlink(struct tgfs *fs, const struct tgfs_name *nm, struct node *n,
		pid_t pid);

/*
 * Held link removals (linkholds.c): the write layer's side of the store
 * of holds.h: which removal is held (links.c asks), how the held ones go
 * out (the store's sender, linkholds_ops), and where a request or a
 * listing is, from the chain of its node (ll.c, lldir.c ask).
 *
 * Any thread; each function takes what the store, the collections and
 * the API take.  A mount without a store (fs->holds NULL) holds nothing.
 */
struct inodes_chain;

/* The sender the store is made with (ops.c tgfs_new): its context is
 * the mount.  Static storage. */
extern const struct holds_ops linkholds_ops;

/* @pid removes link @n (a link of a folder of links; target id @tid) at
 * @path: 0 when held (the caller answers 0, nothing sent; the kernel told
 * to forget the link and its folder), -ENOTSUP when not to be held (not
 * a recursive remover's, no mutation, a frozen rel: the caller sends as
 * before). */
int lh_take(struct tgfs *fs, const char *path, const struct node *n,
	    const char *tid, pid_t pid);

/* A request of @pid on the node of chain @c (inodes.h; its entry's when
 * the chain ends in a name): holds_request at where that node is (its
 * object folder's object by its id).  0 or -EIO as holds_request. */
int lh_request(struct tgfs *fs, const struct inodes_chain *c, pid_t pid);

/* @pid lists the folder of chain @c: holds_listed of its object folder's
 * object, when it is in one. */
void lh_listed(struct tgfs *fs, const struct inodes_chain *c, pid_t pid);

#endif /* TGFS_WRITE_H */
