/*
 * node.h - path resolution: what a path of the mount names (a node), and
 * what a file node shows.  node.c steps through a path one component at
 * a time over the collections (coll.h), the drafts (draft.h) and the
 * status files (status.h); a secret file shows what secret.h keeps.
 *
 * Any thread may resolve; a node belongs to the caller, who releases it.
 * Functions that may fetch block on the API and fail with the -errno of
 * tgfs_errno() (recorded in the errors log by the collections).
 */
#ifndef TGFS_NODE_H
#define TGFS_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mount.h"

/* What a path names. */
enum node_type {
	NODE_ROOT,     /* "/" */
	NODE_KINDDIR,  /* a folder of objects of one kind: "/networks" */
	NODE_OBJECT,   /* an object's folder */
	NODE_FIELD,    /* a field file */
	NODE_JSON,     /* object.json */
	NODE_RELDIR,   /* a folder of links, or one on the way ("access") */
	NODE_LINK,     /* a symlink to a related object */
	NODE_STATDIR,  /* /.twingatefs */
	NODE_STATFILE, /* a file in it */
	NODE_DRAFTINFO, /* ".draft" in a draft's folder */
	NODE_EDGE,     /* an access edge's folder (edges.c) */
	NODE_EDGEFIELD, /* a setting file in it */
	NODE_TYPES
};

struct node {
	enum node_type type;
	const struct tg_kind *kind; /* KINDDIR: listed kind; else obj's kind */
	char parent_id[256];        /* KINDDIR of a nested kind: its parent */
	int64_t parent_mtime;       /* KINDDIR of a nested kind */
	struct tg_cache_ref *ref;   /* holds obj's collection */
	const struct tg_object *obj;
	size_t field;               /* FIELD: index in kind->fields;
				     * STATFILE: index in tgfs_status_files */
	char rel[64];               /* RELDIR: the rel dir or a prefix */
	int rel_index;              /* RELDIR of a whole rel, LINK: the rel */
	char target[1024];          /* LINK: where it points */
	char target_id[256];        /* LINK: the id of what it points to,
				     * as the relation's data holds it
				     * ("" when not known) */
	unsigned depth;             /* components in the path */
	bool draft;                 /* obj is a draft: own, a copy */
	struct tg_object own;
	char draft_file[TGFS_NAME_MAX + 1]; /* the draft's name */
	char *shown; /* JSON: object.json as shown, once asked for */
	/* EDGE, EDGEFIELD and the links in an edge's folder: the edge's
	 * target id (the principal) and folder name; edge_part 1 for its
	 * principal link, 2 for its policy link, 0 elsewhere. */
	char edge_id[256];
	char edge_name[TGFS_NAME_MAX + 1];
	unsigned char edge_part;
};

struct dir_fill;
struct fuse_file_info;
struct stat;

/*
 * What a node of one type does: a row of the table of node types (attrs.c
 * tgfs_node_types, reached through fs->node_types), as redis's dictType.
 * A NULL member: the type has no such operation (a file has no step or
 * listing: ENOTDIR; a folder no open: EISDIR).  Each returns 0 or -errno.
 */
struct node_ops {
	/* Steps folder node @n into its entry @name, in place (node.c). */
	int (*step)(struct tgfs *fs, struct node *n, const char *name);
	/* @n's st_mode (type and permissions), st_ino, st_size, and
	 * st_mtime when the type has a time of its own (attrs.c). */
	void (*stat)(struct tgfs *fs, const struct node *n, struct stat *st);
	/* Gives folder @n's entries to @df (listing.c); @key: its scratch
	 * key (node_scratch_key), for the scratch files in it. */
	int (*list)(struct tgfs *fs, struct dir_fill *df, struct node *n,
		    const char *key);
	/* Opens file @n (at @path) as @fi asks (fileops.c). */
	int (*open)(struct tgfs *fs, struct node *n, const char *path,
		    struct fuse_file_info *fi);
};

/* The table itself, a row for each enum node_type: defined by the
 * operations above this module (attrs.c), which fill it with their stat,
 * list and open and these steps, and handed to node_resolve through
 * fs->node_types (tgfs_new). */
extern const struct node_ops tgfs_node_types[NODE_TYPES];

/* The steps of the folder types (rows of the table): from the root, a
 * kind folder, an object's folder, a rel folder, the status folder. */
int node_step_root(struct tgfs *fs, struct node *n, const char *name);
int node_step_kinddir(struct tgfs *fs, struct node *n, const char *name);
int node_step_object(struct tgfs *fs, struct node *n, const char *name);
int node_step_reldir(struct tgfs *fs, struct node *n, const char *name);
int node_step_statdir(struct tgfs *fs, struct node *n, const char *name);

/*
 * Resolves @path ("/" or "/a/b", an absolute path in the mount) into
 * *@n.  Returns 0, and the caller owns @n until node_release(); or
 * -errno (ENOENT for a name that is not there, ENOTDIR, ENAMETOOLONG,
 * or a failed fetch), with nothing to release.
 */
int node_resolve(struct tgfs *fs, const char *path, struct node *n);

/* ---- resolve once (nodekey.c) ---- */

struct inodes_chain;
struct inodes_key;

/* What the kernel's node table keeps of @n (inodes_set_key) to find it
 * again: its type, its kind's index in tg_kinds, its field's.  Pure. */
struct inodes_key node_key_of(const struct node *n);

/*
 * The kernel forgets node @n (resolved) by its object's id and its key,
 * wherever it holds it and whatever the object is called now (inval.h
 * inval_keyed: @what INVAL_SELF..., and @n's entry @name, NULL none).
 * For a link, its folder is meant: the folder of links of its relation,
 * or its object's folder for a one-link.  False, and nothing queued,
 * when @n has no object's id to go by (a draft, the root, a kind's or
 * the status folder, an access edge's folder or what is in it: a key
 * names every edge of the relation): the caller names it by path.
 */
bool node_inval(struct tgfs *fs, const struct node *n, unsigned what,
		const char *name);

/*
 * Resolves the node of chain @c (inodes_chain: a node id the kernel
 * holds, or its entry) into *@n, starting from the deepest node on its
 * way that its key lets be made at once (an object's folder by its
 * object's id, a field by its index...) and stepping through the names
 * below it only.  As node_resolve otherwise: 0 and the caller releases
 * @n, or -errno with nothing to release.  An object no longer there by
 * its id is looked for by its path, as node_resolve does.
 */
int node_resolve_chain(struct tgfs *fs, const struct inodes_chain *c,
		       struct node *n);

/*
 * A name an operation on names works on (mkdir, symlink, unlink, rmdir,
 * rename): @chain, the chain of the name's entry in its folder
 * (inodes_chain of the folder's node id and the name: its last hop is
 * the name, keyless), whose path (@path) names it to the stores kept by
 * path (removals, the errors log, the kernel's caches) and whose @key
 * (node_scratch_key) names it in the scratch store.  Resolving it starts
 * at the folder's key (node_resolve_chain): one step, none from the
 * root.  A name known by its path alone (a held edge made later, a
 * fuzzer's line) has no chain (tgfs_name_of_path) and is resolved from
 * the root.  The caller owns what it points to.
 */
struct tgfs_name {
	const struct inodes_chain *chain; /* NULL: by @path */
	const char *path;
	const char *name; /* its last component */
	const char *key;  /* in the scratch store */
};

/* The name of @path (kept, not copied), with no chain; its key is @path
 * (set .key when it goes by an object's id).  Pure. */
struct tgfs_name tgfs_name_of_path(const char *path);

/*
 * The scratch store's key (scratch.h) of the node of chain @c: at or
 * below an object's folder, "/<kind folder>#<object id>" and the names
 * below the deepest such folder (the id's '/' written '%'), so that it
 * stays the same when the object is renamed; with no object's folder on
 * the way (a restore folder: no id yet), the path.  A new string the
 * caller frees; NULL when out of memory.  Pure (skey.c).
 */
char *node_scratch_key(const struct inodes_chain *c);

/*
 * The key of the removals store (removals.h) of @path, found by chain @c
 * (NULL: none), into @out (@size bytes): as node_scratch_key, but by the
 * top object's folder ("/<kind folder>#<id>" and the path's names below
 * it), which the store takes for the object being taken apart, so that
 * an object's nested objects (a network's connectors) are in it.  @path
 * itself when there is no chain, no object's folder on the way, or no
 * room.  Pure (skey.c).
 */
void node_removals_key(const struct inodes_chain *c, const char *path,
		       char *out, size_t size);

/*
 * The file name now of the object @id, whose folder the kernel knows as
 * @name in the kind folder @dir: @name when it still is, its new name
 * after a rename (by the kernel's path, a name file, object.json or
 * someone else), in @out (TGFS_NAME_MAX + 1 bytes).  A look by id needs
 * the whole listing of @dir, so it is made only when @name ("": not
 * known) no longer names the object.  0, -ENOENT (no such object now)
 * or -errno.
 */
int tgfs_object_file(struct tgfs *fs, const char *dir, const char *name,
		     const char *id, char *out);
/*
 * The path now of scratch key @key, into @out (@size bytes): the key
 * itself when it names no object's id; otherwise the object's folder
 * found by its id, where the kernel knows it (a scan of its node table)
 * under its name now (tgfs_object_file; the kind's listing when the
 * kernel does not know it: top kinds only).  For callers that have the
 * key alone (held edges and links, their sweeps); any thread.  0,
 * -ENOENT (no such object now), -ENAMETOOLONG, -ENOMEM, or -errno of a
 * fetch.
 */
int tgfs_key_path(struct tgfs *fs, const char *key, char *out, size_t size);
/* Resolves name @nm (node_resolve_chain, else node_resolve): as
 * node_resolve, 0 and the caller releases @n, or -errno. */
int node_resolve_name(struct tgfs *fs, const struct tgfs_name *nm,
		      struct node *n);
/* Resolves the folder @nm is in, the same way. */
int node_resolve_dir(struct tgfs *fs, const struct tgfs_name *nm,
		     struct node *n);
/* Steps folder node @n (resolved) into its entry @name, in place, as a
 * resolve would (counted as a step); on failure @n is released. */
int node_step(struct tgfs *fs, struct node *n, const char *name);

/* The object @name in the folder of top kind @k (/<k->dir>/<name>): the
 * kind's folder made at once (as its key makes it), then one step.  As
 * node_resolve; -ENOENT for a nested kind. */
int node_resolve_top(struct tgfs *fs, const struct tg_kind *k,
		     const char *name, struct node *n);

/* Lets go of what @n holds (its collection, its draft copy, what it
 * showed); @n may then be resolved again.  Twice is harmless. */
void node_release(struct node *n);

/* Makes sure the object of folder @n has all its nested content (links
 * past the first page), which a node resolved from a listing of names
 * may lack: before reading its files, links or entries.  0 or -errno. */
int node_complete(struct tgfs *fs, const struct node *n);

/* Steps from object folder @n (depth counting @rel's last component) to
 * its rel entry @rel ("network", "access", "access/groups"): a LINK or a
 * RELDIR.  0, -ENOENT (no such rel, or a one-link not set or not
 * found), or -errno of a fetch. */
int node_step_rel(struct tgfs *fs, struct node *n, const char *rel);
/* A relative link's target into @out (@outsz bytes, cut to fit): "../"
 * @depth times, then "@dir/@name". */
void node_link_target(unsigned depth, const char *dir, const char *name,
		      char *out, size_t outsz);

/* Whether node_step_rel() can tell single link @rel of object @obj
 * without a request: unset, or its target's collection is cached.
 * Never fetches. */
bool link_known(struct tgfs *fs, const struct tg_object *obj, size_t rel);

/* The field a FIELD or EDGEFIELD node shows (the kind's, or the edge's
 * setting), or NULL for any other node.  Pure. */
const struct tg_field *node_field(const struct node *n);

/* ---- access edges as folders (edges.c) ---- */

/* Whether rel @r of an object shows its links as edge folders. */
bool edge_rel(const struct tg_rel *r);
/* From the rel folder @n, found entry @name (n->target already set):
 * makes @n the edge's folder.  0 or -errno. */
int edge_enter(struct tgfs *fs, struct node *n, const char *name);
/* Steps from an edge folder to its entry @name. */
int node_step_edge(struct tgfs *fs, struct node *n, const char *name);
/* The content of an EDGEFIELD node into n->shown: never NULL. */
const char *edge_content(struct node *n);
size_t edge_content_len(const struct node *n);
/*
 * The held edges (edge_mkdir) looked at again: one to a restore folder
 * is that folder's (made or dropped with it); one whose principal is
 * there by its name now is made (edge_held_apply); one to a name neither
 * holds, whose maker has ended, is dropped, nothing sent, with a line in
 * errors.  Costs nothing when none is held.  Any thread, holding no
 * cache reference.
 */
void edge_sweep(struct tgfs *fs);

/* The content of a file node (FIELD, JSON, DRAFTINFO), secrets aside
 * (see node_text): valid until @n is released, never NULL ("" when it
 * cannot be rendered). */
const char *node_content(struct node *n);
/* Its length, without showing a compact object.json. */
size_t node_content_len(const struct node *n);

/* What a file node shows, secrets included (secret.h): valid until @n is
 * released (a secret's until unmount), never NULL. */
const char *node_text(struct tgfs *fs, struct node *n);
/* The length of node_text(@n), without showing a compact object.json. */
size_t node_text_len(struct tgfs *fs, const struct node *n);

/* Whether reads of @n may come from the kernel's page cache (kcache.h):
 * values of the tenant, not secrets, drafts or status files.  Pure. */
bool page_cacheable(const struct node *n);

/*
 * Calls @fn for each link in the rel folder of @obj's rel @rel (folder
 * depth @depth), with the link's name and target (valid during the call).
 * Returns 0, the first non-zero @fn result, or -errno when a collection
 * cannot be had.
 */
int rel_each(struct tgfs *fs, const struct tg_object *obj, size_t rel,
	     unsigned depth,
	     int (*fn)(void *arg, const char *name, const char *target),
	     void *arg);

#endif /* TGFS_NODE_H */
