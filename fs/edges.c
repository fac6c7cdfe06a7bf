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
 * The edges' settings come with the resource (its access connection
 * asks for them), so reading them costs nothing more.  Errors are
 * -errno, recorded in the errors log as every change's are.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coll.h"
#include "inval.h"
#include "node.h"
#include "write.h"

bool edge_rel(const struct tg_rel *r)
{
	return r->many && r->path && r->nedge_fields > 0;
}

/* "groups" -> "group": the principal link's name in an edge folder. */
static void principal_link(const struct tg_rel *r, char *out, size_t size)
{
	size_t n = strlen(r->target);

	if (n && r->target[n - 1] == 's')
		n--;
	snprintf(out, size, "%.*s", (int)n, r->target);
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
	char link[64], pid[256], pname[TGFS_NAME_MAX + 1];
	int rc;

	principal_link(r, link, sizeof(link));
	if (!strcmp(name, link)) {
		node_link_target(n->depth - 1, r->target, n->edge_name, n->target,
			  sizeof(n->target));
		n->type = NODE_LINK;
		n->edge_part = 1;
		return 0;
	}
	if (r->edge_link_path && !strcmp(name, "security-policy")) {
		if (!tg_edge_link(n->obj, (size_t)n->rel_index, n->edge_id,
				  pid, sizeof(pid)))
			return -ENOENT;
		rc = name_of(fs, r->edge_link_target, pid, pname,
			     sizeof(pname));
		if (rc)
			return rc;
		node_link_target(n->depth - 1, r->edge_link_target, pname, n->target,
			  sizeof(n->target));
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

/* Sends @op for the edge of folder node @n (at @dir) with @v_json, takes
 * the resource it gives back, and lets the kernel see it. */
static int edge_send(struct tgfs *fs, const char *path, const char *dir,
		     struct node *n, const struct tg_op *op,
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
	wr_take_result(fs, &res, n->kind);
	tg_result_release(&res);
	inval_path(fs, dir);
	inval_path(fs, path);
	/* The resource changed too (updated-at, object.json): its folder
	 * is what comes before "/access/groups/" in the path. */
	{
		const struct tg_rel *r = &n->kind->rels[n->rel_index];
		char rdir[4096], mark[80];
		const char *at;

		snprintf(mark, sizeof(mark), "/%s/", r->dir);
		at = strstr(path, mark);
		if (at && (size_t)(at - path) < sizeof(rdir)) {
			snprintf(rdir, sizeof(rdir), "%.*s", (int)(at - path),
				 path);
			wr_inval_object(fs, rdir, n->kind);
		}
	}
	return 0;
}

/* The edge folder of @path (itself, or the folder of its entry). */
static void edge_dir(const struct node *n, const char *path, char *dir,
		     size_t size)
{
	if (n->type == NODE_EDGE)
		snprintf(dir, size, "%s", path);
	else
		wr_dirname_of(path, dir, size);
}

int edge_commit(struct tgfs *fs, const char *path, struct node *n,
		const char *text, size_t len)
{
	const struct tg_field *f = node_field(n);
	char *json = NULL, *cur = NULL, dir[4096];
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
	edge_dir(n, path, dir, sizeof(dir));
	rc = edge_send(fs, path, dir, n, f->set, json);
	if (!rc) {
		char p[4096 + 128];

		for (size_t i = 0; i < n->kind->rels[n->rel_index].nedge_fields;
		     i++) {
			snprintf(p, sizeof(p), "%s/%s", dir,
				 n->kind->rels[n->rel_index].edge_fields[i]
					 .file);
			inval_path(fs, p);
		}
	}
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
	{
		char dir[4096];

		wr_dirname_of(path, dir, sizeof(dir));
		return edge_send(fs, path, dir, parent, r->add, NULL);
	}
}

int edge_revoke(struct tgfs *fs, const char *path, struct node *n)
{
	const struct tg_rel *r = &n->kind->rels[n->rel_index];
	char dir[4096];

	wr_dirname_of(path, dir, sizeof(dir));
	return edge_send(fs, path, dir, n, r->remove, NULL);
}

int edge_policy(struct tgfs *fs, const char *path, struct node *n,
		const char *target)
{
	const struct tg_rel *r = &n->kind->rels[n->rel_index];
	const char *base = target ? strrchr(target, '/') : NULL;
	char tpath[TGFS_NAME_MAX * 2 + 8], json[300], dir[4096];
	struct node t;
	int rc;

	edge_dir(n, path, dir, sizeof(dir));
	if (!r->edge_link_set)
		return -EPERM;
	if (!target) /* rm: no policy of its own */
		return edge_send(fs, path, dir, n, r->edge_link_set, "null");
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
	return edge_send(fs, path, dir, n, r->edge_link_set, json);
}

/* The node of @path's folder, with the entry's name in @name: 0 when it
 * is an edge rel folder (@want NODE_RELDIR) or an edge folder
 * (NODE_EDGE), -ENOTSUP (nothing held) when not. */
static int parent_is(struct tgfs *fs, const char *path, enum node_type want,
		     struct node *n, char *name, size_t size)
{
	int rc = wr_resolve_parent(fs, path, n, name, size);

	if (rc)
		return rc == -ENOENT ? -ENOTSUP : rc;
	if (n->type != want ||
	    (want == NODE_RELDIR &&
	     (n->rel_index < 0 || !edge_rel(&n->kind->rels[n->rel_index])))) {
		node_release(n);
		return -ENOTSUP;
	}
	return 0;
}

int edge_mkdir(struct tgfs *fs, const char *path)
{
	char name[TGFS_NAME_MAX + 1];
	struct node n;
	int rc = parent_is(fs, path, NODE_RELDIR, &n, name, sizeof(name));

	if (rc)
		return rc;
	rc = edge_grant(fs, path, &n, name);
	node_release(&n);
	if (rc == -ENOENT) {
		/* No principal of that name (yet: a restore renames it back
		 * after rsync made this folder).  The kernel keeps the
		 * name's absence it looked up first; once the principal has
		 * that name, the edge is there, which it would not see. */
		inval_name(fs, path);
	}
	return rc;
}

int edge_rmdir(struct tgfs *fs, const char *path)
{
	struct node n;
	int rc = node_resolve(fs, path, &n);

	if (rc)
		return rc == -ENOENT ? -ENOTSUP : rc;
	rc = n.type == NODE_EDGE ? edge_revoke(fs, path, &n) : -ENOTSUP;
	node_release(&n);
	return rc;
}

int edge_symlink(struct tgfs *fs, const char *target, const char *path)
{
	char name[TGFS_NAME_MAX + 1];
	struct node n, l;
	int rc = parent_is(fs, path, NODE_EDGE, &n, name, sizeof(name));

	if (rc)
		return rc;
	if (node_resolve(fs, path, &l) == 0) {
		/* The link there already, made anew (tar x): nothing. */
		bool same = l.type == NODE_LINK && l.edge_part &&
			    strcmp(l.target, target) == 0;

		node_release(&l);
		if (same) {
			node_release(&n);
			return 0;
		}
	}
	if (!strcmp(name, "security-policy"))
		rc = edge_policy(fs, path, &n, target);
	else
		rc = -ENOTSUP; /* a temporary name (ln -sfn): scratch */
	node_release(&n);
	return rc;
}

int edge_unlink(struct tgfs *fs, const char *path, pid_t pid)
{
	struct node n;
	int rc = node_resolve(fs, path, &n);

	if (rc)
		return rc == -ENOENT ? -ENOTSUP : rc;
	if (n.type == NODE_LINK && n.edge_part && !n.draft &&
	    wr_taken_apart(fs, path, pid))
		rc = 0; /* tar x replacing it, rm -r: nothing sent */
	else if (n.type == NODE_LINK && n.edge_part == 2)
		rc = edge_policy(fs, path, &n, NULL);
	else if (n.type == NODE_LINK && n.edge_part == 1)
		rc = -EPERM; /* revoke with rmdir of the edge */
	else
		rc = -ENOTSUP;
	node_release(&n);
	return rc;
}

/* Queues every file of every edge folder of object folder @dir (whose
 * kind is @k) for the kernel to forget: their times are the resource's,
 * which a change of it moves.  Only what is cached is looked at: nothing
 * is fetched for it. */
void edge_inval(struct tgfs *fs, const char *dir, const struct tg_kind *k)
{
	struct node n;
	bool any = false;

	for (size_t i = 0; i < k->nrels; i++)
		any |= edge_rel(&k->rels[i]);
	if (!any || !coll_cached(fs, k) || node_resolve(fs, dir, &n))
		return;
	for (size_t i = 0; n.type == NODE_OBJECT && !n.draft && i < k->nrels;
	     i++) {
		const struct tg_rel *r = &k->rels[i];
		const struct tg_kind *tk = tg_kind_by_dir(NULL, r->target);
		struct tg_cache_ref *ref;
		char p[4096 + 3 * TGFS_NAME_MAX], link[64];

		if (!edge_rel(r) || !tk || !coll_cached(fs, tk) ||
		    coll_get_names(fs, tk, &ref))
			continue;
		principal_link(r, link, sizeof(link));
		for (size_t j = 0; j < n.obj->links[i].n; j++) {
			const char *name;

			if (!coll_by_id(coll_of(ref, tk), n.obj->links[i].ids[j],
					&name))
				continue;
			snprintf(p, sizeof(p), "%s/%s/%s", dir, r->dir, name);
			inval_path(fs, p);
			for (size_t f = 0; f < r->nedge_fields; f++) {
				snprintf(p, sizeof(p), "%s/%s/%s/%s", dir,
					 r->dir, name, r->edge_fields[f].file);
				inval_path(fs, p);
			}
			snprintf(p, sizeof(p), "%s/%s/%s/%s", dir, r->dir, name,
				 link);
			inval_path(fs, p);
			snprintf(p, sizeof(p), "%s/%s/%s/security-policy", dir,
				 r->dir, name);
			inval_path(fs, p);
		}
		tg_cache_put(ref);
	}
	node_release(&n);
}
