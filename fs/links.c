/*
 * links.c - relations changed by links (DESIGN.md §3): ln -s in a folder
 * of links adds one (groupUpdate, resourceAccessAdd, securityPolicyUpdate
 * ...), rm removes it, ln -sfn sets a single one; the other side's
 * folders show it at once (cache_set_link).  A removal by a recursive
 * remover (a process that listed the object's folder) is held a moment
 * and sent with the others of that object, or dropped by its rmdir
 * (holds.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coll.h"
#include "draft.h"
#include "holds.h"
#include "inval.h"
#include "node.h"
#include "removals.h"
#include "secret.h"
#include "versions.h"
#include "write.h"

/* The object named @name in top folder @dir: its id copied to @id. */
static int find_target(struct tgfs *fs, const char *dir, const char *name,
		       char *id, size_t idsz)
{
	/* As a lookup finds it: from the cached list, else by its name
	 * alone (one object, where the list is pages); one step from its
	 * kind's folder. */
	const struct tg_kind *k = tg_kind_by_dir(NULL, dir);
	struct node n;
	int rc;

	if (!k || strchr(name, '/'))
		return -ENOENT;
	rc = node_resolve_top(fs, k, name, &n);
	if (rc)
		return rc;
	if (n.type != NODE_OBJECT || n.draft)
		rc = -ENOENT;
	else
		snprintf(id, idsz, "%s", n.obj->id);
	node_release(&n);
	return rc;
}

/* Whether a link by relation @r at @nm, made by @pid, is in an object
 * @pid just made (cp -r, nameops.c) and would move its target there:
 * the target holds one such link (a resource's network). */
static bool moves_target(struct tgfs *fs, const struct tg_rel *r,
			 const struct tgfs_name *nm, pid_t pid)
{
	const struct tg_kind *tk = tg_kind_by_dir(NULL, r->target);
	int inv = tk && !r->path ? tg_rel_index(tk, r->inverse) : -1;
	char key[REMOVALS_KEY_MAX];

	if (inv < 0 || tk->rels[inv].many || !pid)
		return false;
	node_removals_key(nm->chain, nm->path, key, sizeof(key));
	return removals_in_fresh(fs->removals, key, pid);
}

/* Whether @nm is a link to @target already. */
static bool same_link(struct tgfs *fs, const struct tgfs_name *nm,
		      const char *target)
{
	struct node n;
	bool same;

	if (node_resolve_name(fs, nm, &n))
		return false;
	same = n.type == NODE_LINK && strcmp(n.target, target) == 0;
	node_release(&n);
	return same;
}

/* The kernel forgets the folder of link @path and the link (@n: the
 * folder, or the link): by its object's id, so a shell whose cwd is that
 * folder sees it even when the object was renamed meanwhile; a draft's,
 * which has no id yet, by path. */
static void inval_link(struct tgfs *fs, const struct node *n,
		       const char *path)
{
	const char *base = strrchr(path, '/');
	char dir[4096];

	if (node_inval(fs, n, INVAL_SELF, base ? base + 1 : path))
		return;
	wr_dirname_of(path, dir, sizeof(dir));
	inval_path(fs, dir);
	inval_path(fs, path);
}

/* Sends rel op @op of @obj against target @tid, and takes its result. */
static int rel_change(struct tgfs *fs, const char *path, struct node *n,
		      const struct tg_rel *r, const struct tg_op *op,
		      const char *tid)
{
	/* Adding a link that is there, or removing one that is not,
	 * changes nothing: safe to send again. */
	struct tg_vars vars = { .id = n->obj->id, .t = tid,
				.obj = r->path ? n->obj : NULL,
				.idempotent = true };
	const struct tg_kind *holder =
		r->path ? n->kind : tg_kind_by_dir(NULL, r->target);
	struct tg_result res = { 0 };
	enum tg_err err;
	int fwd, rc;

	if (n->draft) {
		if (r->many)
			return -EPERM;
		rc = draft_set_link(fs->drafts, n->kind, n->draft_file,
				    (size_t)(r - n->kind->rels),
				    op == r->add ? tid : NULL);
		if (!rc) {
			tgfs_folders_changed(fs);
			rc = wr_draft_changed(fs, path, n);
		}
		inval_link(fs, n, path);
		return rc;
	}
	if (!op)
		return -EPERM;
	if (fs->cfg->read_only)
		return -EROFS;
	err = tg_api_mutate(fs->api, op, &vars, &res);
	if (err != TG_OK)
		return wr_failed(fs, path, err);
	/* The forward side holds the data: what the payload says of it, or
	 * for a one-link (a group's policy) moved by the other side's
	 * mutation, the link set here; anything else is read again. */
	fwd = r->path ? -1 : tg_rel_index(holder, r->inverse);
	if (res.entity.kind == holder)
		wr_take_result(fs, &res, holder);
	else if (op == r->add && fwd >= 0 && !holder->rels[fwd].many)
		cache_set_link(fs, holder, tid, (size_t)fwd, n->obj->id,
			       n->obj->name);
	else
		cache_apply(fs, holder, NULL, NULL);
	tg_result_release(&res);
	inval_link(fs, n, path);
	return 0;
}

int tgfs_link_add(struct tgfs *fs, const char *target,
		  const struct tgfs_name *nm, pid_t pid)
{
	const char *path = nm->path;
	char name[TGFS_NAME_MAX + 1], tid[256];
	const char *tbase = strrchr(target, '/');
	const struct tg_rel *r;
	struct node n;
	int rc, ri = -1;

	/* In an access edge's folder: its policy (edges.c). */
	if ((rc = edge_symlink(fs, target, nm)) != -ENOTSUP)
		return rc;
	rc = wr_resolve_parent(fs, nm, &n, name, sizeof(name));
	if (rc)
		return rc;
	tbase = tbase ? tbase + 1 : target;
	if (n.type == NODE_RELDIR && n.rel_index >= 0) {
		ri = n.rel_index; /* a folder of links */
	} else if (n.type == NODE_OBJECT) {
		ri = tg_rel_index(n.kind, name); /* one link */
		if (ri >= 0 && n.kind->rels[ri].many)
			ri = -1;
		if (ri >= 0)
			snprintf(name, sizeof(name), "%s", tbase);
	}
	if (ri < 0 && n.type == NODE_OBJECT && strchr(target, '/') &&
	    strcmp(tbase, name) == 0) {
		/* ln -s onto a one-link that is set: the kernel follows it
		 * and asks for the link inside the folder it points at,
		 * named as its target.  Never a scratch link there (backups
		 * would copy it): the relation is set already. */
		tgfs_record_error(fs, path, -EEXIST,
				  "a link named as what it points to belongs"
				  " in a folder of links; to replace a link"
				  " that is set, use ln -sfn");
		rc = -EEXIST;
		goto out;
	}
	if (ri < 0) {
		rc = -ENOTSUP; /* not a relation: the caller makes scratch */
		goto out;
	}
	r = &n.kind->rels[ri];
	if (strcmp(tbase, name) != 0) {
		rc = -EINVAL; /* a link is named as what it points to */
		goto out;
	}
	if (moves_target(fs, r, nm, pid)) {
		tgfs_record_error(fs, path, -EPERM,
				  "a copy of an object does not take this"
				  " link's target from the original (it has"
				  " one such link)");
		rc = -EPERM;
		goto out;
	}
	if (!n.draft && n.type == NODE_RELDIR &&
	    holds_cancel(fs->holds, n.kind, n.obj->id, (size_t)ri, name)) {
		rc = 0; /* its removal was held: it is still there */
		goto out;
	}
	if (same_link(fs, nm, target)) {
		rc = 0; /* there already (tar makes links anew) */
		goto out;
	}
	rc = find_target(fs, r->target, name, tid, sizeof(tid));
	if (rc == -ENOENT &&
	    wr_pending_named(fs, tg_kind_by_dir(NULL, r->target), name)) {
		/* To a restore folder: made once it knows its object. */
		rc = wr_pending_hold(fs, tg_kind_by_dir(NULL, r->target),
				     name, target, nm->key);
		goto out;
	}
	if (!rc && n.draft && draft_is_pending(n.obj)) {
		/* In a restore folder: the same. */
		rc = wr_pending_hold(fs, n.kind, n.draft_file, target,
				     nm->key);
		goto out;
	}
	if (rc == -ENOENT) {
		/* The kernel keeps the name's absence it looked up first;
		 * once the target has that name (an object renamed back by
		 * a restore), the link is there, which it would not see. */
		if (!node_inval(fs, &n, INVAL_NAME_ONLY, nm->name))
			inval_name(fs, path);
	}
	if (rc)
		goto out;
	rc = rel_change(fs, path, &n, r, r->add, tid);
out:
	node_release(&n);
	return rc;
}

int tgfs_link_remove(struct tgfs *fs, const struct tgfs_name *nm,
		     struct node *n, pid_t pid)
{
	const char *path = nm->path, *tid = n->target_id;
	const struct tg_rel *r;
	int rc;

	if ((rc = edge_unlink(fs, nm, n, pid)) != -ENOTSUP)
		return rc;
	if (n->type != NODE_LINK)
		return -ENOTSUP;
	if (!n->draft && wr_taken_apart(fs, nm, pid))
		return 0; /* its object's rmdir deletes it whole */
	r = &n->kind->rels[n->rel_index];
	if (r->many) {
		/* Its target's id came with the link, from the relation's
		 * data (node.c): no look-up by its name. */
		if (!tid[0])
			return -ENOENT;
		/* A recursive remover's: held a moment (holds.h). */
		if (lh_take(fs, path, n, tid, pid) == 0)
			return 0;
	}
	return rel_change(fs, path, n, r, r->remove, r->many ? tid : NULL);
}
