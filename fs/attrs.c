/*
 * attrs.c - what a node looks like: its attributes (a stat, by node type),
 * its link's target, and the table of what each node type does
 * (tgfs_node_types: how a folder steps into an entry, node.c; a node's
 * attributes, here; a folder's listing, listing.c; a file's open,
 * fileops.c).
 *
 * The operations take the node ll.c resolved (struct tgfs_at) and answer
 * from it; any thread, 0 or -errno.
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
#include "inodes.h"
#include "inval.h"
#include "kcache.h"
#include "node.h"
#include "ops.h"
#include "scratch.h"
#include "status.h"

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
ino_t tgfs_link_ino(const struct tg_object *obj, size_t rel)
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
		st->st_ino = tgfs_link_ino(n->obj, (size_t)n->rel_index);
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

void tgfs_fill_stat(struct tgfs *fs, const struct node *n, struct stat *st)
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

int tgfs_getattr(struct tgfs *fs, const struct tgfs_at *at, struct stat *st,
		 char *id, size_t idsz, struct inodes_key *key)
{
	const char *path = at->path;
	struct node *n = at->n;
	int rc = at->rc;

	if (id && idsz)
		id[0] = '\0';
	/* A link's place may hold tar's placeholder (fileops.c), shown
	 * instead of it. */
	if (rc == 0 && n->type == NODE_LINK &&
	    scratch_stat(fs->scratch, at->key, st) == 0)
		rc = -ENOENT;
	if (rc == -ENOENT && scratch_stat(fs->scratch, at->key, st) == 0) {
		st->st_uid = fs->cfg->uid;
		st->st_gid = fs->cfg->gid;
		st->st_blksize = 4096;
		if (key)
			*key = (struct inodes_key){ 0 };
		return 0;
	}
	if (rc)
		return rc;
	tgfs_fill_stat(fs, n, st);
	/* An object's folder is known by its id: the node id the kernel
	 * holds for it follows its renames (ll.c). */
	if (id && n->type == NODE_OBJECT && !n->draft &&
	    strlen(n->obj->id) < idsz)
		strcpy(id, n->obj->id);
	if (key)
		*key = node_key_of(n);
	/* The kernel will cut page-cache reads at this size. */
	if (page_cacheable(n) &&
	    kcache_sized(fs->kcache, path, (size_t)st->st_size) &&
	    !node_inval(fs, n, INVAL_SELF, NULL))
		inval_path(fs, path); /* a draft's, a status file */
	return 0;
}

int tgfs_readlink(struct tgfs *fs, const struct tgfs_at *at, char *buf,
		  size_t size)
{
	(void)fs;
	if (!size)
		return -EINVAL;
	if (at->rc == -ENOENT) {
		size_t len;
		bool link = false;
		char *t = scratch_get(fs->scratch, at->key, &len, &link);
		int rc = !t ? -ENOENT : link ? 0 : -EINVAL;

		if (t && link)
			snprintf(buf, size, "%s", t);
		free(t);
		return rc;
	}
	if (at->rc)
		return at->rc;
	if (at->n->type != NODE_LINK)
		return -EINVAL;
	snprintf(buf, size, "%s", at->n->target);
	return 0;
}


/*
 * What each type of node does, as redis's dictType: how a folder steps
 * into an entry (node.c), a node's attributes and a folder's listing
 * (here), a file's open (fileops.c).  node_resolve reaches it through
 * fs->node_types (tgfs_new).
 */
const struct node_ops tgfs_node_types[NODE_TYPES] = {
	[NODE_ROOT] = { .step = node_step_root, .stat = stat_root,
			.list = tgfs_list_root },
	[NODE_KINDDIR] = { .step = node_step_kinddir, .stat = stat_kinddir,
			   .list = tgfs_list_kinddir },
	[NODE_OBJECT] = { .step = node_step_object, .stat = stat_object,
			  .list = tgfs_list_object },
	[NODE_FIELD] = { .stat = stat_field, .open = tgfs_open_value },
	[NODE_JSON] = { .stat = stat_json, .open = tgfs_open_value },
	[NODE_RELDIR] = { .step = node_step_reldir, .stat = stat_reldir,
			  .list = tgfs_list_reldir },
	[NODE_LINK] = { .stat = stat_link, .open = tgfs_open_link },
	[NODE_STATDIR] = { .step = node_step_statdir, .stat = stat_statdir,
			   .list = tgfs_list_statdir },
	[NODE_STATFILE] = { .stat = stat_statfile,
			    .open = tgfs_open_statfile },
	[NODE_DRAFTINFO] = { .stat = stat_draftinfo,
			     .open = tgfs_open_draftinfo },
	[NODE_EDGE] = { .step = node_step_edge, .stat = stat_edge,
			.list = tgfs_list_edge },
	[NODE_EDGEFIELD] = { .stat = stat_edgefield, .open = tgfs_open_value },
};
