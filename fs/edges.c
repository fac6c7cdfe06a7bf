/*
 * edges.c - access edges as folders (DESIGN.md §2 "Access edges"): in
 * resources/R/access/groups/ (and service-accounts/) each group or
 * service account allowed onto R is a folder holding a link to it
 * (`group` or `service-account`), its `security-policy` link when the
 * edge has one, and the edge's setting files (expires-at,
 * autolock-days, approval-mode, access-policy) that the kinds table
 * lists (struct tg_rel edge_fields).  mkdir grants, rmdir revokes, a
 * write of a setting sends one resourceAccessAdd carrying that setting;
 * `ln -s` into the folder of edges still grants (links.c).
 *
 * An edge made to a restore folder (a principal that rsync is putting
 * back, whose id file has not arrived yet) is held: a scratch folder,
 * holding what is made in it, registered with the restore folder, and
 * made when that is an object (edge_held_apply) or dropped with it (by
 * its scratch key, node.h node_scratch_key: an edge held in a resource
 * renamed meanwhile is still its; the path is found again from the
 * key, tgfs_key_path, when it is applied or swept).  One
 * made as rsync makes folders (mode 0700) to a name nothing holds yet
 * (rsync makes resources/ before service-accounts/) is held while its
 * maker runs, for a restore folder or an object that takes the name
 * (edge_sweep, at each request on a node while any is held: ll_on_node).
 *
 * The edges' settings come with the resource (its access connection
 * asks for them), so reading them costs nothing more.  Errors are
 * -errno, recorded in the errors log as every change's are.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coll.h"
#include "draft.h"
#include "inval.h"
#include "node.h"
#include "scratch.h"
#include "write.h"

bool edge_rel(const struct tg_rel *r)
{
	return r->many && r->path && r->edge_target_file;
}

/* The file name of object @id of top kind @dir, into @out. */
static int name_of(struct tgfs *fs, const char *dir, const char *id,
		   char *out, size_t size)
{
	const struct tg_kind *k = tg_kind_by_dir(NULL, dir);
	struct tg_cache_ref *ref;
	const char *name = NULL;
	int rc;

	if (!k)
		return -ENOENT;
	rc = coll_get_names(fs, k, &ref);
	if (rc)
		return rc;
	if (coll_by_id(coll_of(ref, k), id, &name))
		snprintf(out, size, "%s", name);
	tg_cache_put(ref);
	return name ? 0 : -ENOENT;
}

int edge_enter(struct tgfs *fs, struct node *n, const char *name)
{
	const struct tg_rel *r = &n->kind->rels[n->rel_index];
	const struct tg_kind *tk = tg_kind_by_dir(NULL, r->target);
	const struct tg_ids *ids = &n->obj->links[n->rel_index];
	struct tg_cache_ref *ref;
	const struct coll *c;
	int rc = -ENOENT;

	if (!tk || strlen(name) > TGFS_NAME_MAX)
		return -ENOENT;
	if ((rc = coll_get_names(fs, tk, &ref)))
		return rc;
	c = coll_of(ref, tk);
	rc = -ENOENT;
	for (size_t i = 0; i < ids->n && rc; i++) {
		const char *shown;

		if (coll_by_id(c, ids->ids[i], &shown) &&
		    !strcmp(shown, name) &&
		    strlen(ids->ids[i]) < sizeof(n->edge_id)) {
			strcpy(n->edge_id, ids->ids[i]);
			rc = 0;
		}
	}
	tg_cache_put(ref);
	if (rc)
		return rc;
	strcpy(n->edge_name, name);
	n->type = NODE_EDGE;
	return 0;
}

int node_step_edge(struct tgfs *fs, struct node *n, const char *name)
{
	const struct tg_rel *r = &n->kind->rels[n->rel_index];
	char pid[256], pname[TGFS_NAME_MAX + 1];
	int rc;

	if (!strcmp(name, r->edge_target_file)) {
		node_link_target(n->depth - 1, r->target, n->edge_name, n->target,
			  sizeof(n->target));
		strcpy(n->target_id, n->edge_id);
		n->type = NODE_LINK;
		n->edge_part = 1;
		return 0;
	}
	if (r->edge_link_file && !strcmp(name, r->edge_link_file)) {
		if (!tg_edge_link(n->obj, (size_t)n->rel_index, n->edge_id,
				  pid, sizeof(pid)))
			return -ENOENT;
		rc = name_of(fs, r->edge_link_target, pid, pname,
			     sizeof(pname));
		if (rc)
			return rc;
		node_link_target(n->depth - 1, r->edge_link_target, pname, n->target,
			  sizeof(n->target));
		strcpy(n->target_id, pid);
		n->type = NODE_LINK;
		n->edge_part = 2;
		return 0;
	}
	for (size_t i = 0; i < r->nedge_fields; i++)
		if (!strcmp(r->edge_fields[i].file, name)) {
			n->type = NODE_EDGEFIELD;
			n->field = i;
			return 0;
		}
	return -ENOENT;
}

const char *edge_content(struct node *n)
{
	const char *v = tg_edge_value(n->obj, (size_t)n->rel_index,
				      n->edge_id, n->field, &n->shown);

	return v ? v : "";
}

size_t edge_content_len(const struct node *n)
{
	char *buf = NULL;
	const char *v = tg_edge_value(n->obj, (size_t)n->rel_index,
				      n->edge_id, n->field, &buf);
	size_t len = v ? strlen(v) : 0;

	free(buf);
	return len;
}

/* Sends @op for the edge of node @n (at @path) with @v_json, takes
 * the resource it gives back, and lets the kernel see it. */
static int edge_send(struct tgfs *fs, const char *path, struct node *n, const struct tg_op *op,
		     const char *v_json)
{
	struct tg_vars vars = { .id = n->obj->id, .t = n->edge_id,
				.v_json = v_json, .idempotent = true };
	struct tg_result res = { 0 };
	enum tg_err err;

	if (fs->cfg->read_only)
		return -EROFS;
	if (!op)
		return -EPERM;
	err = tg_api_mutate(fs->api, op, &vars, &res);
	if (err != TG_OK)
		return wr_failed(fs, path, err);
	/* The resource's change reaches the kernel by its id, with what
	 * it holds under its folder, the edges' files too (llinval.c). */
	wr_take_result(fs, &res, n->kind);
	tg_result_release(&res);
	return 0;
}

int edge_commit(struct tgfs *fs, const char *path, struct node *n,
		const char *text, size_t len)
{
	const struct tg_field *f = node_field(n);
	char *json = NULL, *cur = NULL;
	const char *now = edge_content(n);
	enum tg_err err;
	int rc;

	err = tg_value_parse(f, text, len, &json);
	if (err != TG_OK) {
		rc = -tgfs_errno(err);
		tgfs_record_error(fs, path, rc, tg_api_last_message());
		return rc;
	}
	/* What the edge holds already: nothing to send. */
	if (tg_value_parse(f, now, strlen(now), &cur) == TG_OK &&
	    !strcmp(cur, json)) {
		rc = 0;
		goto out;
	}
	rc = edge_send(fs, path, n, f->set, json);
out:
	free(json);
	free(cur);
	return rc;
}

int edge_grant(struct tgfs *fs, const char *path, struct node *parent,
	       const char *name)
{
	const struct tg_rel *r = &parent->kind->rels[parent->rel_index];
	char target[TGFS_NAME_MAX * 2 + 8];
	struct node t;
	int rc;

	/* The principal is named as its own folder is. */
	if (snprintf(target, sizeof(target), "/%s/%s", r->target, name) >=
	    (int)sizeof(target))
		return -ENOENT;
	rc = node_resolve(fs, target, &t);
	if (rc)
		return rc;
	if (t.type != NODE_OBJECT || t.draft ||
	    strlen(t.obj->id) >= sizeof(parent->edge_id)) {
		node_release(&t);
		return -ENOENT;
	}
	strcpy(parent->edge_id, t.obj->id);
	node_release(&t);
	return edge_send(fs, path, parent, r->add, NULL);
}

int edge_revoke(struct tgfs *fs, const char *path, struct node *n)
{
	const struct tg_rel *r = &n->kind->rels[n->rel_index];

	return edge_send(fs, path, n, r->remove, NULL);
}

int edge_policy(struct tgfs *fs, const char *path, struct node *n,
		const char *target)
{
	const struct tg_rel *r = &n->kind->rels[n->rel_index];
	const char *base = target ? strrchr(target, '/') : NULL;
	char tpath[TGFS_NAME_MAX * 2 + 8], json[300];
	struct node t;
	int rc;

	if (!r->edge_link_set)
		return -EPERM;
	if (!target) /* rm: no policy of its own */
		return edge_send(fs, path, n, r->edge_link_set, "null");
	base = base ? base + 1 : target;
	if (snprintf(tpath, sizeof(tpath), "/%s/%s", r->edge_link_target,
		     base) >= (int)sizeof(tpath))
		return -ENOENT;
	rc = node_resolve(fs, tpath, &t);
	if (rc)
		return rc;
	if (t.type != NODE_OBJECT || t.draft) {
		node_release(&t);
		return -ENOENT;
	}
	snprintf(json, sizeof(json), "\"%s\"", t.obj->id);
	node_release(&t);
	return edge_send(fs, path, n, r->edge_link_set, json);
}

bool edge_folder(const struct node *n)
{
	return n->type == NODE_RELDIR && n->rel_index >= 0 &&
	       edge_rel(&n->kind->rels[n->rel_index]);
}

/* The node of @nm's folder, with the entry's name in @name: 0 when it
 * is an edge rel folder (@want NODE_RELDIR) or an edge folder
 * (NODE_EDGE), -ENOTSUP (nothing held) when not. */
static int parent_is(struct tgfs *fs, const struct tgfs_name *nm,
		     enum node_type want, struct node *n, char *name,
		     size_t size)
{
	int rc = wr_resolve_parent(fs, nm, n, name, size);

	if (rc)
		return rc == -ENOENT ? -ENOTSUP : rc;
	if (n->type != want || (want == NODE_RELDIR && !edge_folder(n))) {
		node_release(n);
		return -ENOTSUP;
	}
	return 0;
}

int edge_mkdir(struct tgfs *fs, const struct tgfs_name *nm, struct node *parent,
	       mode_t mode, pid_t pid)
{
	const char *path = nm->path, *name = nm->name;
	const struct tg_kind *tk;
	struct inodes_key key = node_key_of(parent);
	char id[256] = "";
	bool pending;
	int rc;

	/* the folder's object, by which the kernel's entry is named */
	if (!parent->draft && parent->obj && parent->obj->id)
		snprintf(id, sizeof(id), "%s", parent->obj->id);
	rc = edge_grant(fs, path, parent, name);
	tk = tg_kind_by_dir(NULL, parent->kind->rels[parent->rel_index].target);
	node_release(parent);
	if (rc != -ENOENT)
		return rc;
	/* To a restore folder still waiting for its id (rsync's generator
	 * makes folders while its receiver copies the id), or, made as
	 * rsync and tar make folders (no group or other permissions), to a
	 * name that may be one later in the same run: held, made with it
	 * (edge_held_apply), or dropped (edge_sweep). */
	pending = wr_pending_named(fs, tk, name);
	if (pending || (mode & 077) == 0) {
		if (fs->cfg->read_only)
			return -EROFS;
		rc = scratch_mkdir(fs->scratch, nm->key, mode & 07777, pid);
		if (!rc && pending &&
		    (rc = draft_hold(fs->drafts, tk, name, nm->key)))
			scratch_rmdir(fs->scratch, nm->key, SCRATCH_TREE);
		return rc;
	}
	/* No principal of that name.  The kernel keeps the name's absence
	 * it looked up first; once the principal has that name, the edge
	 * is there, which it would not see. */
	if (id[0])
		inval_keyed(fs, id, key, INVAL_NAME_ONLY, name);
	else
		inval_name(fs, path);
	return rc;
}

int edge_rmdir(struct tgfs *fs, const struct tgfs_name *nm, struct node *n)
{
	return n->type == NODE_EDGE ? edge_revoke(fs, nm->path, n) : -ENOTSUP;
}

/* Whether scratch key @key is in a held edge's folder (a scratch
 * folder). */
static bool in_held(struct tgfs *fs, const char *key)
{
	char dir[4096];

	wr_dirname_of(key, dir, sizeof(dir));
	return scratch_is_dir(fs->scratch, dir);
}

int edge_symlink(struct tgfs *fs, const char *target,
		 const struct tgfs_name *nm)
{
	const char *path = nm->path;
	char name[TGFS_NAME_MAX + 1];
	const struct tg_rel *r;
	struct node n, l;
	int rc;

	/* In a held edge: held with it, made with it. */
	if (in_held(fs, nm->key))
		return scratch_create(fs->scratch, nm->key, 0777, target);
	rc = parent_is(fs, nm, NODE_EDGE, &n, name, sizeof(name));
	if (rc)
		return rc;
	if (node_resolve_name(fs, nm, &l) == 0) {
		/* The link there already, made anew (tar x): nothing. */
		bool same = l.type == NODE_LINK && l.edge_part &&
			    strcmp(l.target, target) == 0;

		node_release(&l);
		if (same) {
			node_release(&n);
			return 0;
		}
	}
	r = &n.kind->rels[n.rel_index];
	if (r->edge_link_file && !strcmp(name, r->edge_link_file))
		rc = edge_policy(fs, path, &n, target);
	else
		rc = -ENOTSUP; /* a temporary name (ln -sfn): scratch */
	node_release(&n);
	return rc;
}

int edge_unlink(struct tgfs *fs, const struct tgfs_name *nm, struct node *n,
		pid_t pid)
{
	if (n->type != NODE_LINK || !n->edge_part)
		return -ENOTSUP;
	if (!n->draft && wr_taken_apart(fs, nm, pid))
		return 0; /* tar x replacing it, rm -r: nothing sent */
	if (n->edge_part == 2)
		return edge_policy(fs, nm->path, n, NULL);
	return -EPERM; /* its principal link: revoke with rmdir of the edge */
}

/* ---- edges held for a restore folder (DESIGN.md §3) ---- */

struct held_file {
	char name[TGFS_NAME_MAX + 1];
	bool link;
	struct timespec mtime;
};

struct held_list {
	struct held_file *v;
	size_t n, cap;
};

static int collect(void *arg, const char *name, const struct stat *st)
{
	struct held_list *l = arg;

	if (S_ISDIR(st->st_mode) || strlen(name) > TGFS_NAME_MAX)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct held_file *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	strcpy(l->v[l->n].name, name);
	l->v[l->n].link = S_ISLNK(st->st_mode);
	l->v[l->n].mtime = st->st_mtim;
	l->n++;
	return 0;
}

/* Held file @f of the edge at @dir (scratch key @dkey; rel @r) applied:
 * a link made as ln -s makes it (nothing when the edge has it), a
 * setting file written as rename(2) of it onto the setting would;
 * anything else (a temporary file still being written) stays scratch in
 * the edge's folder. */
static int apply_file(struct tgfs *fs, const char *dir, const char *dkey,
		      const struct tg_rel *r, const struct held_file *f)
{
	char path[4096 + TGFS_NAME_MAX + 2], key[4096 + TGFS_NAME_MAX + 2];
	bool setting = false, link = false;
	size_t len;
	char *data;
	struct node n;
	int rc;

	for (size_t i = 0; i < r->nedge_fields; i++)
		setting |= !strcmp(r->edge_fields[i].file, f->name);
	if (!f->link && !setting)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", dir, f->name);
	snprintf(key, sizeof(key), "%s/%s", dkey, f->name);
	data = scratch_get(fs->scratch, key, &len, &link);
	if (!data)
		return 0; /* gone meanwhile */
	scratch_remove(fs->scratch, key);
	if (link) {
		rc = node_resolve(fs, path, &n);
		if (rc == 0) {
			rc = n.type == NODE_LINK && !strcmp(n.target, data) ? 0
									     : 1;
			node_release(&n);
		}
		if (rc) {
			struct tgfs_name nm = tgfs_name_of_path(path);

			nm.key = key;
			rc = tgfs_link_add(fs, data, &nm, 0);
		}
		if (rc == -ENOTSUP) /* not the edge's: scratch, as it was */
			rc = scratch_create(fs->scratch, key, 0777, data);
	} else {
		rc = commit_field_from(fs, path, data, len,
				       (int64_t)f->mtime.tv_sec * 1000000000 +
					       f->mtime.tv_nsec);
	}
	if (rc)
		tgfs_record_error(fs, path, rc,
				  "held in an access edge made by a restore:"
				  " not applied");
	explicit_bzero(data, len);
	free(data);
	inval_path(fs, path);
	return rc;
}

static void drop_files(struct tgfs *fs, const char *dkey,
		       const struct held_list *l)
{
	char p[4096 + TGFS_NAME_MAX + 2];

	for (size_t i = 0; i < l->n; i++) {
		snprintf(p, sizeof(p), "%s/%s", dkey, l->v[i].name);
		scratch_remove(fs->scratch, p);
	}
}

int edge_held_apply(struct tgfs *fs, const char *key)
{
	struct held_list l = { 0 };
	char name[TGFS_NAME_MAX + 1], dir[4096], path[4096];
	const struct tg_rel *r;
	struct tgfs_name nm;
	struct node n, e;
	int rc, first = 0;

	snprintf(path, sizeof(path), "%s", key);
	rc = scratch_each(fs->scratch, key, collect, &l);
	if (rc) {
		scratch_rmdir(fs->scratch, key, SCRATCH_TREE);
		goto out;
	}
	/* Taken by one caller (a restore folder's id, a sweep). */
	if (scratch_rmdir(fs->scratch, key, SCRATCH_ENTRY)) {
		free(l.v);
		return 0;
	}
	/* Its path now (its resource may have been renamed meanwhile; not
	 * found: deleted, and the edge with it). */
	if (tgfs_key_path(fs, key, path, sizeof(path)))
		snprintf(path, sizeof(path), "%s", key);
	nm = tgfs_name_of_path(path);
	nm.key = key;
	rc = parent_is(fs, &nm, NODE_RELDIR, &n, name, sizeof(name));
	if (rc) {
		drop_files(fs, key, &l);
		goto out;
	}
	r = &n.kind->rels[n.rel_index];
	/* The edge is the tenant's from now on: made, unless it is there
	 * (the principal renamed back by its id has its edges). */
	if (node_resolve(fs, path, &e) == 0) {
		rc = e.type == NODE_EDGE ? 0 : -EEXIST;
		node_release(&e);
	} else {
		rc = edge_grant(fs, path, &n, name);
	}
	if (rc == -ENOENT || rc == -EEXIST)
		tgfs_record_error(fs, path, rc,
				  "an access edge held for a restore folder:"
				  " its principal is not there; not made");
	if (rc) {
		/* Not made: nothing of it is sent. */
		drop_files(fs, key, &l);
		node_release(&n);
		goto out;
	}
	for (size_t i = 0; i < l.n; i++) {
		int r2 = apply_file(fs, path, key, r, &l.v[i]);

		if (r2 && !first)
			first = r2;
	}
	node_release(&n);
	rc = first;
out:
	wr_dirname_of(path, dir, sizeof(dir));
	inval_path(fs, dir);
	inval_path(fs, path);
	free(l.v);
	return rc;
}

struct held_dirs {
	char **paths; /* scratch keys */
	pid_t *pids;
	size_t n, cap;
};

static int collect_dir(void *arg, const char *path, pid_t pid)
{
	struct held_dirs *d = arg;

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		char **p = realloc(d->paths, cap * sizeof(*p));
		pid_t *q = p ? realloc(d->pids, cap * sizeof(*q)) : NULL;

		if (p)
			d->paths = p;
		if (!q)
			return -ENOMEM;
		d->pids = q;
		d->cap = cap;
	}
	if (!(d->paths[d->n] = strdup(path)))
		return -ENOMEM;
	d->pids[d->n++] = pid;
	return 0;
}

/* Whether @pid (a held edge's maker) has ended. */
static bool ended(pid_t pid)
{
	return pid <= 0 || (kill(pid, 0) == -1 && errno == ESRCH);
}

/* Held edge @key (made by @pid) looked at again (edge_sweep). */
static void sweep_one(struct tgfs *fs, const char *key, pid_t pid)
{
	char name[TGFS_NAME_MAX + 1], tpath[TGFS_NAME_MAX * 2 + 8];
	char path[4096];
	const struct tg_kind *tk = NULL;
	struct tgfs_name nm;
	struct node n;
	bool there = false;
	int rc = tgfs_key_path(fs, key, path, sizeof(path));

	/* Its resource not found (deleted since): dropped below, as one
	 * whose folder of edges is not there. */
	if (rc)
		snprintf(path, sizeof(path), "%s", key);
	nm = tgfs_name_of_path(path);
	nm.key = key;
	if (!rc &&
	    parent_is(fs, &nm, NODE_RELDIR, &n, name, sizeof(name)) == 0) {
		tk = tg_kind_by_dir(NULL, n.kind->rels[n.rel_index].target);
		node_release(&n);
	}
	if (tk && wr_pending_named(fs, tk, name)) {
		draft_hold(fs->drafts, tk, name, key); /* held: 0 */
		return;
	}
	if (tk && snprintf(tpath, sizeof(tpath), "/%s/%s", tk->dir, name) <
			  (int)sizeof(tpath) &&
	    node_resolve(fs, tpath, &n) == 0) {
		there = n.type == NODE_OBJECT && !n.draft;
		node_release(&n);
	}
	if (there) {
		edge_held_apply(fs, key);
	} else if (!tk || ended(pid)) {
		char dir[4096];

		if (scratch_rmdir(fs->scratch, key, SCRATCH_TREE) == 0)
			tgfs_record_error(fs, path, -ENOENT,
					  "an access edge made to a name no"
					  " object or restore folder took"
					  " before its maker ended: not made");
		wr_dirname_of(path, dir, sizeof(dir));
		inval_path(fs, dir);
		inval_path(fs, path);
	}
}

void edge_sweep(struct tgfs *fs)
{
	struct held_dirs d = { 0 };

	scratch_each_dir(fs->scratch, collect_dir, &d);
	for (size_t i = 0; i < d.n; i++) {
		sweep_one(fs, d.paths[i], d.pids[i]);
		free(d.paths[i]);
	}
	free(d.paths);
	free(d.pids);
}
