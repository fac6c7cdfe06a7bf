/*
 * listing.c - folders' entries, by node type: what ls shows, given to the
 * kernel's filler one entry at a time with its type and inode number,
 * and a hash of them (kcache.h: whether the kernel may keep what it
 * holds).  The lists are rows of the node-type table (attrs.c).
 *
 * The operations take the folder's node ll.c resolved (struct tgfs_at);
 * any thread, 0 or -errno.  A listing may fetch its collection.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coll.h"
#include "draft.h"
#include "kcache.h"
#include "node.h"
#include "ops.h"
#include "scratch.h"
#include "status.h"

struct dir_fill {
	struct tgfs *fs;
	void *buf;
	tgfs_fill_fn filler;
	struct node child; /* scratch node for each entry's stat */
	uint64_t hash;     /* of the entries given so far */
	double age;        /* of the cached content listed, in seconds */
};

/* The age of what @ref holds, as the cache judges it (a walk holding it
 * keeps it fresh, and the kernel's entries with it), if older than what
 * @df knew. */
static void dir_age(struct dir_fill *df, const struct tg_cache_ref *ref)
{
	double age = ref ? tg_cache_age(df->fs->cache, ref) : 0;

	if (age > df->age)
		df->age = age;
}

/*
 * Entries carry a name, a type and an inode number only, never
 * attributes (FUSE_FILL_DIR_PLUS): libfuse 3.14 lists a folder in one
 * pass (offset 0) and then sends readdirplus entries with node id 0, so
 * the kernel drops their attributes, while the lookup it made for each
 * keeps a node in its table that no FORGET ever frees: a find over
 * 69,058 entries peaked at 29 MiB with them and 18 MiB without, and
 * ls -l made as many LOOKUPs either way.  Readdirplus is off (init).
 */
static int add_typed(struct dir_fill *df, const char *name, mode_t type,
		     ino_t ino)
{
	/* d_ino 0 would hide the entry: readdir(3) skips those. */
	struct stat st = { .st_mode = type, .st_ino = ino };
	uint64_t t = type, i = ino;

	df->hash = fnv_add(df->hash, name, strlen(name) + 1);
	df->hash = fnv_add(df->hash, &t, sizeof(t));
	df->hash = fnv_add(df->hash, &i, sizeof(i));
	return df->filler(df->buf, name, &st) ? 1 : 0;
}

static int add_entry(struct dir_fill *df, const char *name)
{
	struct stat st;

	tgfs_fill_stat(df->fs, &df->child, &st);
	return add_typed(df, name, st.st_mode & S_IFMT, st.st_ino);
}

static int add_object(void *arg, const struct tg_object *obj,
		      const char *name)
{
	struct dir_fill *df = arg;

	df->child.type = NODE_OBJECT;
	df->child.kind = obj->kind;
	df->child.obj = obj;
	return add_entry(df, name);
}

static int add_draft(void *arg, const struct tg_object *obj,
		     const char *name)
{
	struct dir_fill *df = arg;

	df->child = (struct node){ .type = NODE_OBJECT, .kind = obj->kind,
				   .obj = obj, .rel_index = -1 };
	return add_entry(df, name);
}

/* A nested kind's restore folders under one parent (draft_key). */
struct nested_drafts {
	struct dir_fill *df;
	const char *parent_id;
};

static int add_nested_draft(void *arg, const struct tg_object *obj,
			    const char *key)
{
	struct nested_drafts *nd = arg;
	const char *name = draft_key_name(key);
	size_t len = strlen(nd->parent_id);

	if ((size_t)(name - key) != len + 1 ||
	    strncmp(key, nd->parent_id, len) != 0)
		return 0;
	return add_draft(nd->df, obj, name);
}

/* A draft's folder: the files its create takes, its links, .draft. */
static int list_draft(struct tgfs *fs, struct dir_fill *df,
		      const struct node *n)
{
	const struct tg_kind *k = n->kind;
	int rc;

	df->child = *n;
	df->child.type = NODE_DRAFTINFO;
	if (add_entry(df, TGFS_DRAFT_FILE))
		return 0;
	df->child.type = NODE_FIELD;
	for (size_t i = 0; i < k->nfields; i++) {
		if (!draft_takes(k, k->fields[i].file) ||
		    !tg_field_present(k, i))
			continue;
		df->child.field = i;
		if (add_entry(df, k->fields[i].file))
			return 0;
	}
	for (size_t i = 0; i < k->nrels; i++) {
		if (k->rels[i].many || !draft_takes(k, k->rels[i].dir))
			continue;
		df->child = *n;
		df->child.draft = false; /* a view: n owns the object */
		df->child.depth = n->depth + 1;
		rc = node_step_rel(fs, &df->child, k->rels[i].dir);
		if (rc == -ENOENT)
			continue;
		if (rc)
			return rc;
		if (add_entry(df, k->rels[i].dir))
			return 0;
	}
	return 0;
}

static int add_scratch(void *arg, const char *name, const struct stat *st)
{
	struct dir_fill *df = arg;

	return add_typed(df, name, st->st_mode & S_IFMT, st->st_ino);
}

static int add_link(void *arg, const char *name, const char *target)
{
	struct dir_fill *df = arg;

	snprintf(df->child.target, sizeof(df->child.target), "%s", target);
	return add_entry(df, name);
}

/*
 * Lists the rel entries of an object folder directly under @prefix ("" for
 * the object folder itself, "access" for its access folder): one link
 * for a set single relation, a folder for the rest, each name once.
 */
static int list_rels(struct tgfs *fs, struct dir_fill *df,
		     const struct node *n, const char *prefix)
{
	const struct tg_kind *k = n->kind;
	size_t plen = strlen(prefix);

	for (size_t i = 0; i < k->nrels; i++) {
		const char *dir = k->rels[i].dir, *rest, *slash;
		char name[64], sub[160];
		bool seen = false;

		if (plen && (strncmp(dir, prefix, plen) || dir[plen] != '/'))
			continue;
		rest = dir + (plen ? plen + 1 : 0);
		slash = strchr(rest, '/');
		snprintf(name, sizeof(name), "%.*s",
			 (int)(slash ? (size_t)(slash - rest) : strlen(rest)),
			 rest);
		/* Several rels may share a first component. */
		for (size_t j = 0; j < i && !seen; j++) {
			const char *d = k->rels[j].dir;

			if (plen && (strncmp(d, prefix, plen) || d[plen] != '/'))
				continue;
			d += plen ? plen + 1 : 0;
			seen = strncmp(d, name, strlen(name)) == 0 &&
			       (d[strlen(name)] == '/' || !d[strlen(name)]);
		}
		if (seen)
			continue;
		snprintf(sub, sizeof(sub), "%s%s%s", prefix, plen ? "/" : "",
			 name);
		df->child = *n;
		df->child.ref = NULL;
		df->child.depth = n->depth + 1;
		if (!slash && !k->rels[i].many) {
			int rc;

			/* A single link: there only when set.  Its target
			 * (hence its size) needs the target's list: a walk
			 * that never reads the link (grep -r, find) should
			 * not fetch it. */
			if (!link_known(fs, n->obj, i)) {
				if (add_typed(df, name, S_IFLNK,
					      tgfs_link_ino(n->obj, i)))
					return 0;
				continue;
			}
			df->child.type = NODE_OBJECT;
			rc = node_step_rel(fs, &df->child, sub);
			if (rc == -ENOENT)
				continue;
			if (rc)
				return rc;
		} else {
			df->child.type = NODE_RELDIR;
			df->child.rel_index = slash ? -1 : (int)i;
			if (strlen(sub) >= sizeof(df->child.rel))
				continue;
			memcpy(df->child.rel, sub, strlen(sub) + 1);
		}
		if (add_entry(df, name))
			return 0;
	}
	return 0;
}

static int skip_entry(void *buf, const char *name, const struct stat *st)
{
	(void)buf;
	(void)name;
	(void)st;
	return 0;
}

/* ---- listings, by node type: the entries of a folder node @n (at
 * @path) given to @df, past "." and ".."; 0 or -errno ---- */

int tgfs_list_root(struct tgfs *fs, struct dir_fill *df, struct node *n,
		     const char *key)
{
	(void)fs;
	(void)n;
	(void)key;
	for (size_t i = 0; i < tg_nkinds; i++) {
		if (tg_kinds[i]->parent)
			continue;
		df->child = (struct node){ .type = NODE_KINDDIR,
					  .kind = tg_kinds[i] };
		if (add_entry(df, tg_kinds[i]->dir))
			break;
	}
	return 0;
}

int tgfs_list_kinddir(struct tgfs *fs, struct dir_fill *df, struct node *n,
			const char *key)
{
	const char *parent = n->kind->parent ? n->parent_id : NULL;
	const struct coll *c;
	int rc;

	(void)key;
	/* Listing needs the names of the whole collection, not the nested
	 * pages of its big objects (an embedded kind's is already held:
	 * its parent's). */
	if (!n->ref || !n->kind->parent_conn) {
		node_release(n);
		rc = coll_get_names(fs, n->kind, &n->ref);
		if (rc)
			return rc;
		dir_age(df, n->ref);
	}
	c = coll_of(n->ref, n->kind);
	if (c && !coll_each(c, parent, add_object, df)) {
		struct nested_drafts nd = { df, parent };

		if (!parent)
			draft_each(fs->drafts, n->kind, -1, NULL, add_draft,
				   df);
		else
			draft_each(fs->drafts, n->kind, -1, NULL,
				   add_nested_draft, &nd);
	}
	return 0;
}

int tgfs_list_object(struct tgfs *fs, struct dir_fill *df, struct node *n,
		       const char *key)
{
	const struct tg_kind *k = n->kind;
	int rc = node_complete(fs, n);

	if (rc)
		return rc;
	if (n->draft) {
		rc = list_draft(fs, df, n);
		if (!rc)
			scratch_each(fs->scratch, key, add_scratch, df);
		return rc;
	}
	df->child = *n;
	df->child.type = NODE_FIELD;
	for (size_t i = 0; i < k->nfields; i++) {
		if (!tg_field_present(k, i) || !tg_object_has_field(n->obj, i))
			continue; /* the live schema or the type lacks it */
		df->child.field = i;
		if (add_entry(df, k->fields[i].file))
			return 0;
	}
	df->child.type = NODE_JSON;
	if (add_entry(df, "object.json"))
		return 0;
	for (size_t i = 0; i < tg_nkinds; i++) {
		if (tg_kinds[i]->parent != k)
			continue;
		df->child = (struct node){ .type = NODE_KINDDIR,
					  .kind = tg_kinds[i],
					  .parent_mtime = n->obj->mtime };
		snprintf(df->child.parent_id, sizeof(df->child.parent_id), "%s",
			 n->obj->id);
		if (add_entry(df, tg_kinds[i]->dir))
			return 0;
	}
	rc = list_rels(fs, df, n, "");
	if (!rc)
		scratch_each(fs->scratch, key, add_scratch, df);
	return rc;
}

/* A held access edge (edges.c): a scratch folder. */
static int add_held(void *arg, const char *name, const struct stat *st)
{
	return S_ISDIR(st->st_mode) ? add_scratch(arg, name, st) : 0;
}

int tgfs_list_reldir(struct tgfs *fs, struct dir_fill *df, struct node *n,
		       const char *key)
{
	const struct tg_rel *r;
	const struct tg_kind *tk;
	int rc, inv;

	if (n->rel_index < 0)
		return list_rels(fs, df, n, n->rel);
	df->child = *n;
	/* Access edges are folders (edges.c). */
	df->child.type = edge_rel(&n->kind->rels[n->rel_index]) ? NODE_EDGE
								 : NODE_LINK;
	rc = rel_each(fs, n->obj, (size_t)n->rel_index, n->depth, add_link,
		      df);
	if (rc)
		return rc > 0 ? 0 : rc;
	if (df->child.type == NODE_EDGE &&
	    scratch_each(fs->scratch, key, add_held, df))
		return 0;
	/* Drafts tied to this object, as folders. */
	r = &n->kind->rels[n->rel_index];
	tk = tg_kind_by_dir(NULL, r->target);
	inv = tk && !r->path ? tg_rel_index(tk, r->inverse) : -1;
	if (inv >= 0)
		rc = draft_each(fs->drafts, tk, inv, n->obj->id, add_draft, df);
	return rc > 0 ? 0 : rc;
}

/* An access edge's folder: its principal link, its policy link when it
 * has one, its setting files. */
int tgfs_list_edge(struct tgfs *fs, struct dir_fill *df, struct node *n,
		     const char *key)
{
	const struct tg_rel *r = &n->kind->rels[n->rel_index];
	int rc;

	(void)key;
	for (int i = 0; i < 2; i++) {
		const char *name = i ? r->edge_link_file : r->edge_target_file;

		if (!name)
			continue;

		df->child = *n;
		df->child.ref = NULL;
		df->child.shown = NULL;
		df->child.depth = n->depth + 1;
		rc = node_step_edge(fs, &df->child, name);
		if (rc == -ENOENT)
			continue;
		if (rc)
			return rc;
		if (add_entry(df, name))
			return 0;
	}
	df->child = *n;
	df->child.ref = NULL;
	df->child.shown = NULL;
	df->child.type = NODE_EDGEFIELD;
	for (size_t i = 0; i < r->nedge_fields; i++) {
		df->child.field = i;
		if (add_entry(df, r->edge_fields[i].file))
			return 0;
	}
	return 0;
}

int tgfs_list_statdir(struct tgfs *fs, struct dir_fill *df, struct node *n,
			const char *key)
{
	(void)fs;
	(void)key;
	df->child = *n;
	df->child.type = NODE_STATFILE;
	for (size_t i = 0; i < tgfs_nstatus_files; i++) {
		df->child.field = i;
		if (add_entry(df, tgfs_status_files[i].name))
			break;
	}
	return 0;
}

/* Gives the entries of the folder at @path to @df; its hash is theirs. */
static int list_dir(struct tgfs *fs, const struct tgfs_at *at,
		    struct dir_fill *df)
{
	struct node *n = at->n;

	if (at->rc == -ENOENT && scratch_is_dir(fs->scratch, at->key)) {
		/* A held access edge (edges.c): what was made in it. */
		df->filler(df->buf, ".", NULL);
		df->filler(df->buf, "..", NULL);
		scratch_each(fs->scratch, at->key, add_scratch, df);
		return 0;
	}
	if (at->rc)
		return at->rc;
	if (!tgfs_node_types[n->type].list)
		return -ENOTDIR;
	dir_age(df, n->ref);
	df->filler(df->buf, ".", NULL);
	df->filler(df->buf, "..", NULL);
	return tgfs_node_types[n->type].list(fs, df, n, at->key);
}

int tgfs_readdir(struct tgfs *fs, const struct tgfs_at *at, void *buf,
		 tgfs_fill_fn filler)
{
	const char *path = at->path;
	struct dir_fill df = { .fs = fs, .buf = buf, .filler = filler,
			       .hash = FNV_INIT };
	int rc;

	__atomic_fetch_add(&fs->readdirs, 1, __ATOMIC_RELAXED);
	rc = list_dir(fs, at, &df);
	/* Without OPENDIR: the kernel holds these entries until what they
	 * were made of goes stale (ll.c).  Else: what the kernel now
	 * caches, if the listing changed since its open said what it
	 * would be. */
	if (!rc && fs->no_opendir)
		kcache_dir_filled(fs->kcache, path,
				  mono_now() - df.age + fs->cfg->cache_ttl);
	else if (!rc)
		kcache_dir_listed(fs->kcache, path, df.hash);
	return rc;
}

/*
 * With -o dir_open (else the kernel never sends OPENDIR, ll.c): the kernel
 * keeps a folder's entries (FOPEN_CACHE_DIR) and lists it again from them
 * while its open says they still hold (FOPEN_KEEP_CACHE): a warm folder is
 * then an OPENDIR and a RELEASEDIR, where it was those and two READDIRs
 * and the GETATTR the kernel makes after each listing.  So an open lists
 * the folder, hash only, and tells which.
 */

int tgfs_opendir(struct tgfs *fs, const struct tgfs_at *at,
		 struct fuse_file_info *fi)
{
	const char *path = at->path;
	struct dir_fill df = { .fs = fs, .filler = skip_entry,
			       .hash = FNV_INIT };
	int rc;

	fi->cache_readdir = 1;
	/* A walk's first visit lists once, at the readdir. */
	if (kcache_dir_known(fs->kcache, path)) {
		rc = list_dir(fs, at, &df);
		if (rc)
			return rc;
		fi->keep_cache = kcache_dir_open(fs->kcache, path, df.hash);
	}
	return 0;
}
