/*
 * ops.c - the operations that read: attributes, listings, links, and the
 * mount's state made and freed.
 *
 * ll.c calls them with the path of a node id; each resolves it to a node
 * (node.c), answers from the node, and releases it.  Reads snapshot a
 * file's content at open, so a reader sees one consistent value even if
 * the cache refreshes meanwhile.
 * The operations that change the tenant are in fileops.c and write.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "coll.h"
#include "draft.h"
#include "inval.h"
#include "kcache.h"
#include "node.h"
#include "ops.h"
#include "removals.h"
#include "scratch.h"
#include "secret.h"
#include "state.h"
#include "status.h"
#include "versions.h"

/* A stable inode number from the identity of what a node shows. */
static ino_t ino_of(const char *a, const char *b)
{
	uint64_t h = fnv_add(FNV_INIT, a ? a : "", a ? strlen(a) : 0);

	h = fnv_add(h, "/", 1);
	h = fnv_add(h, b ? b : "", b ? strlen(b) : 0);
	return (ino_t)(h ? h : 1);
}

/* A single link is its object's rel entry, whatever it points at (the
 * links of a rel folder are told apart by their targets). */
static ino_t single_link_ino(const struct tg_object *obj, size_t rel)
{
	return ino_of(obj->id, obj->kind->rels[rel].dir);
}

/* ---- attributes, by node type: st_mode, st_ino, st_size and, where
 * the type has a time of its own, st_mtime ---- */

static void stat_folder(struct stat *st, ino_t ino)
{
	st->st_mode = S_IFDIR | 0755;
	st->st_ino = ino;
	st->st_size = 4096;
}

static void stat_root(struct tgfs *fs, const struct node *n, struct stat *st)
{
	(void)fs;
	(void)n;
	stat_folder(st, 1);
}

static void stat_kinddir(struct tgfs *fs, const struct node *n,
			 struct stat *st)
{
	(void)fs;
	stat_folder(st, ino_of(n->parent_id, n->kind->dir));
	if (n->kind->parent && n->parent_mtime)
		st->st_mtime = (time_t)(n->parent_mtime / 1000000000);
}

static void stat_object(struct tgfs *fs, const struct node *n,
			struct stat *st)
{
	(void)fs;
	stat_folder(st, ino_of(n->obj->id, NULL));
}

static void stat_reldir(struct tgfs *fs, const struct node *n,
			struct stat *st)
{
	(void)fs;
	stat_folder(st, ino_of(n->obj->id, n->rel));
}

static void stat_statdir(struct tgfs *fs, const struct node *n,
			 struct stat *st)
{
	(void)fs;
	(void)n;
	stat_folder(st, ino_of(TGFS_STATUS_DIR, NULL));
}

static void stat_field(struct tgfs *fs, const struct node *n,
		       struct stat *st)
{
	const struct tg_field *f = &n->kind->fields[n->field];

	st->st_mode = S_IFREG | (tg_field_secret(f) ? 0600
				 : f->writable	     ? 0644
						     : 0444);
	st->st_ino = ino_of(n->obj->id, f->file);
	st->st_size = (off_t)node_text_len(fs, n);
}

static void stat_json(struct tgfs *fs, const struct node *n, struct stat *st)
{
	st->st_mode = S_IFREG | 0644;
	st->st_ino = ino_of(n->obj->id, "object.json");
	st->st_size = (off_t)node_text_len(fs, n);
}

static void stat_draftinfo(struct tgfs *fs, const struct node *n,
			   struct stat *st)
{
	st->st_mode = S_IFREG | 0444;
	st->st_ino = ino_of(n->obj->id, TGFS_DRAFT_FILE);
	st->st_size = (off_t)node_text_len(fs, n);
}

static void stat_link(struct tgfs *fs, const struct node *n, struct stat *st)
{
	(void)fs;
	st->st_mode = S_IFLNK | 0777;
	if (n->rel_index >= 0 && !n->kind->rels[n->rel_index].many)
		st->st_ino = single_link_ino(n->obj, (size_t)n->rel_index);
	else
		st->st_ino = ino_of(n->obj->id, n->target);
	st->st_size = (off_t)strlen(n->target);
}

static void stat_edge(struct tgfs *fs, const struct node *n, struct stat *st)
{
	(void)fs;
	stat_folder(st, ino_of(n->obj->id, n->target));
}

static void stat_edgefield(struct tgfs *fs, const struct node *n,
			   struct stat *st)
{
	const struct tg_field *f = node_field(n);

	st->st_mode = S_IFREG | (f->writable ? 0644 : 0444);
	st->st_ino = ino_of(n->target, f->file);
	st->st_size = (off_t)node_text_len(fs, n);
}

static void stat_statfile(struct tgfs *fs, const struct node *n,
			  struct stat *st)
{
	char *s = status_render(fs, n->field);

	st->st_mode = S_IFREG | (status_writable(n->field) ? 0200 : 0444);
	st->st_ino = ino_of(TGFS_STATUS_DIR, tgfs_status_files[n->field].name);
	st->st_size = s ? (off_t)strlen(s) : 0;
	st->st_mtime = time(NULL);
	free(s);
}

static void fill_stat(struct tgfs *fs, const struct node *n, struct stat *st)
{
	const struct tgfs_config *cfg = fs->cfg;
	time_t t;
	int64_t mtime;
	long nsec = 0;

	memset(st, 0, sizeof(*st));
	tgfs_node_types[n->type].stat(fs, n, st);
	t = st->st_mtime ? st->st_mtime : fs->mount_time;
	if (n->obj && (mtime = __atomic_load_n(&n->obj->mtime,
					      __ATOMIC_RELAXED))) {
		/* Files and links to the nanosecond; a folder's nanoseconds
		 * are its generation's (ll.c attrs_for). */
		t = (time_t)(mtime / 1000000000);
		if (!S_ISDIR(st->st_mode))
			nsec = (long)(mtime % 1000000000);
	}
	st->st_uid = cfg->uid;
	st->st_gid = cfg->gid;
	st->st_nlink = S_ISDIR(st->st_mode) ? 2 : 1;
	st->st_mode &= ~cfg->umask | S_IFMT;
	st->st_blksize = 4096;
	st->st_blocks = (st->st_size + 511) / 512;
	st->st_mtim = (struct timespec){ .tv_sec = t, .tv_nsec = nsec };
	st->st_atim = st->st_ctim = st->st_mtim;
}

int tgfs_getattr(struct tgfs *fs, const char *path, struct stat *st,
		 char *id, size_t idsz)
{
	struct node n;
	int rc;

	if (id && idsz)
		id[0] = '\0';
	rc = node_resolve(fs, path, &n);
	/* A link's place may hold tar's placeholder (fileops.c), shown
	 * instead of it. */
	if (rc == 0 && n.type == NODE_LINK &&
	    scratch_stat(fs->scratch, path, st) == 0) {
		node_release(&n);
		rc = -ENOENT;
	}
	if (rc == -ENOENT && scratch_stat(fs->scratch, path, st) == 0) {
		st->st_uid = fs->cfg->uid;
		st->st_gid = fs->cfg->gid;
		st->st_blksize = 4096;
		return 0;
	}
	if (rc)
		return rc;
	fill_stat(fs, &n, st);
	/* An object's folder is known by its id: the node id the kernel
	 * holds for it follows its renames (ll.c). */
	if (id && n.type == NODE_OBJECT && !n.draft &&
	    strlen(n.obj->id) < idsz)
		strcpy(id, n.obj->id);
	/* The kernel will cut page-cache reads at this size. */
	if (page_cacheable(&n) &&
	    kcache_sized(fs->kcache, path, (size_t)st->st_size))
		inval_path(fs, path);
	node_release(&n);
	return 0;
}

int tgfs_object_file(struct tgfs *fs, const char *dir, const char *name,
		     const char *id, char *out)
{
	struct node n;
	char *path = NULL;
	const char *now = NULL;
	int rc;

	/* Still there by its name: the usual case, and no request more
	 * than the operation that failed just made. */
	if (asprintf(&path, "%s/%s", strcmp(dir, "/") ? dir : "", name) < 0)
		return -ENOMEM;
	rc = node_resolve(fs, path, &n);
	free(path);
	if (!rc) {
		bool same = n.type == NODE_OBJECT && !n.draft &&
			    strcmp(n.obj->id, id) == 0;

		node_release(&n);
		if (same) {
			snprintf(out, TGFS_NAME_MAX + 1, "%s", name);
			return 0;
		}
	}
	rc = node_resolve(fs, dir, &n);
	if (rc)
		return rc;
	if (n.type != NODE_KINDDIR) {
		node_release(&n);
		return -ENOENT;
	}
	/* As a listing: an embedded kind is in its parent's collection. */
	if (!n.ref || !n.kind->parent_conn) {
		node_release(&n);
		rc = coll_get_names(fs, n.kind, &n.ref);
	}
	if (!rc && !coll_by_id(coll_of(n.ref, n.kind), id, &now))
		rc = -ENOENT;
	if (!rc)
		snprintf(out, TGFS_NAME_MAX + 1, "%s", now);
	node_release(&n);
	return rc;
}

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

	fill_stat(df->fs, &df->child, &st);
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
					      single_link_ino(n->obj, i)))
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

static int list_root(struct tgfs *fs, struct dir_fill *df, struct node *n,
		     const char *path)
{
	(void)fs;
	(void)n;
	(void)path;
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

static int list_kinddir(struct tgfs *fs, struct dir_fill *df, struct node *n,
			const char *path)
{
	const char *parent = n->kind->parent ? n->parent_id : NULL;
	const struct coll *c;
	int rc;

	(void)path;
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

static int list_object(struct tgfs *fs, struct dir_fill *df, struct node *n,
		       const char *path)
{
	const struct tg_kind *k = n->kind;
	int rc = node_complete(fs, n);

	if (rc)
		return rc;
	if (n->draft) {
		rc = list_draft(fs, df, n);
		if (!rc)
			scratch_each(fs->scratch, path, add_scratch, df);
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
		scratch_each(fs->scratch, path, add_scratch, df);
	return rc;
}

static int list_reldir(struct tgfs *fs, struct dir_fill *df, struct node *n,
		       const char *path)
{
	const struct tg_rel *r;
	const struct tg_kind *tk;
	int rc, inv;

	(void)path;
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
static int list_edge(struct tgfs *fs, struct dir_fill *df, struct node *n,
		     const char *path)
{
	const struct tg_rel *r = &n->kind->rels[n->rel_index];
	char link[64];
	int rc;

	(void)path;
	snprintf(link, sizeof(link), "%.*s",
		 (int)(strlen(r->target) - (r->target[strlen(r->target) - 1] ==
					    's')),
		 r->target);
	for (int i = 0; i < 2; i++) {
		const char *name = i ? "security-policy" : link;

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

static int list_statdir(struct tgfs *fs, struct dir_fill *df, struct node *n,
			const char *path)
{
	(void)fs;
	(void)path;
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
static int list_dir(struct tgfs *fs, const char *path, struct dir_fill *df)
{
	struct node n;
	int rc = node_resolve(fs, path, &n);

	if (rc)
		return rc;
	if (!tgfs_node_types[n.type].list) {
		node_release(&n);
		return -ENOTDIR;
	}
	dir_age(df, n.ref);
	df->filler(df->buf, ".", NULL);
	df->filler(df->buf, "..", NULL);
	rc = tgfs_node_types[n.type].list(fs, df, &n, path);
	node_release(&n);
	return rc;
}

/*
 * What each type of node does, as redis's dictType: how a folder steps
 * into an entry (node.c), a node's attributes and a folder's listing
 * (here), a file's open (fileops.c).  node_resolve reaches it through
 * fs->node_types (tgfs_new).
 */
const struct node_ops tgfs_node_types[NODE_TYPES] = {
	[NODE_ROOT] = { .step = node_step_root, .stat = stat_root,
			.list = list_root },
	[NODE_KINDDIR] = { .step = node_step_kinddir, .stat = stat_kinddir,
			   .list = list_kinddir },
	[NODE_OBJECT] = { .step = node_step_object, .stat = stat_object,
			  .list = list_object },
	[NODE_FIELD] = { .stat = stat_field, .open = tgfs_open_value },
	[NODE_JSON] = { .stat = stat_json, .open = tgfs_open_value },
	[NODE_RELDIR] = { .step = node_step_reldir, .stat = stat_reldir,
			  .list = list_reldir },
	[NODE_LINK] = { .stat = stat_link, .open = tgfs_open_link },
	[NODE_STATDIR] = { .step = node_step_statdir, .stat = stat_statdir,
			   .list = list_statdir },
	[NODE_STATFILE] = { .stat = stat_statfile,
			    .open = tgfs_open_statfile },
	[NODE_DRAFTINFO] = { .stat = stat_draftinfo,
			     .open = tgfs_open_draftinfo },
	[NODE_EDGE] = { .step = node_step_edge, .stat = stat_edge,
			.list = list_edge },
	[NODE_EDGEFIELD] = { .stat = stat_edgefield, .open = tgfs_open_value },
};

int tgfs_readdir(struct tgfs *fs, const char *path, void *buf,
		 tgfs_fill_fn filler)
{
	struct dir_fill df = { .fs = fs, .buf = buf, .filler = filler,
			       .hash = FNV_INIT };
	int rc;

	__atomic_fetch_add(&fs->readdirs, 1, __ATOMIC_RELAXED);
	rc = list_dir(fs, path, &df);
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

int tgfs_opendir(struct tgfs *fs, const char *path, struct fuse_file_info *fi)
{
	struct dir_fill df = { .fs = fs, .filler = skip_entry,
			       .hash = FNV_INIT };
	int rc;

	fi->cache_readdir = 1;
	/* A walk's first visit lists once, at the readdir. */
	if (kcache_dir_known(fs->kcache, path)) {
		rc = list_dir(fs, path, &df);
		if (rc)
			return rc;
		fi->keep_cache = kcache_dir_open(fs->kcache, path, df.hash);
	}
	return 0;
}

int tgfs_readlink(struct tgfs *fs, const char *path, char *buf, size_t size)
{
	struct node n;
	int rc;

	if (!size)
		return -EINVAL;
	rc = node_resolve(fs, path, &n);
	if (rc == -ENOENT) {
		size_t len;
		bool link = false;
		char *t = scratch_get(fs->scratch, path, &len, &link);

		rc = !t ? -ENOENT : link ? 0 : -EINVAL;
		if (t && link)
			snprintf(buf, size, "%s", t);
		free(t);
		return rc;
	}
	if (rc)
		return rc;
	if (n.type != NODE_LINK)
		rc = -EINVAL;
	else
		snprintf(buf, size, "%s", n.target);
	node_release(&n);
	return rc;
}

/* The user call this thread works for was interrupted (llcall.c): a
 * wait on another's fill ends. */
static bool call_gone(void)
{
	return tg_call_cancelled(tg_call_current());
}

struct tgfs *tgfs_new(const struct tgfs_config *conf,
		      void (*inval)(void *arg, const struct inval_note *n),
		      void *inval_arg)
{
	struct tgfs *fs = calloc(1, sizeof(*fs));

	if (!fs)
		return NULL;
	fs->cfg = conf;
	fs->node_types = tgfs_node_types;
	fs->mount_time = time(NULL);
	pthread_mutex_init(&fs->lock, NULL);
	pthread_mutex_init(&fs->apply_lock, NULL);
	/* Threads and curl handles are made here, after any fork. */
	fs->api = tg_api_new(&conf->api);
	if (fs->api)
		tg_api_set_health(fs->api, &conf->checked);
	fs->cache = tg_cache_new(conf->cache_ttl, conf->cache_max_bytes);
	if (fs->cache)
		tg_cache_set_gone(fs->cache, call_gone);
	fs->seen = seen_open(conf->api.url);
	fs->scratch = scratch_new();
	fs->drafts = draft_store_new();
	fs->versions = versions_new();
	fs->inval = inval_start(inval, inval_arg);
	fs->kcache = kcache_new(TGFS_KCACHE_FILES_LOG2, TGFS_KCACHE_DIRS_LOG2);
	fs->removals = removals_new();
	if (!fs->api || !fs->cache || !fs->seen || !fs->scratch ||
	    !fs->drafts || !fs->versions || !fs->inval || !fs->kcache ||
	    !fs->removals) {
		tgfs_free(fs);
		return NULL;
	}
	return fs;
}

void tgfs_free(struct tgfs *fs)
{
	if (!fs)
		return;
	if (fs->inval)
		inval_stop(fs->inval);
	if (fs->kcache)
		kcache_free(fs->kcache);
	if (fs->cache)
		tg_cache_free(fs->cache);
	if (fs->api)
		tg_api_free(fs->api);
	if (fs->seen)
		seen_close(fs->seen);
	if (fs->scratch)
		scratch_free(fs->scratch);
	if (fs->drafts)
		draft_store_free(fs->drafts);
	removals_free(fs->removals);
	versions_free(fs->versions);
	secrets_free(fs);
	pthread_mutex_destroy(&fs->lock);
	pthread_mutex_destroy(&fs->apply_lock);
	free(fs);
}
