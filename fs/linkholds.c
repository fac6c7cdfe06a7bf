/*
 * linkholds.c - the write layer's side of held link removals (holds.h;
 * declared in write.h): the store (holds.c) keeps them by object and knows no
 * path, node or mutation; here a removal is judged (a recursive
 * remover's, not of a rel the API keeps: the kinds table's `frozen`),
 * a request's node is placed (its object folder's object, by the id its
 * chain carries), and what the store lets go is sent: per relation, one
 * call with every target where the rel has a list form (`remove_all`,
 * the ids as a JSON list), else one call a target.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "coll.h"
#include "holds.h"
#include "inodes.h"
#include "inval.h"
#include "node.h"
#include "write.h"

/* Whether the API keeps the link @name (target @tid) of rel @r of link
 * node @n as it is (the kinds table's frozen entry, of @n's object or,
 * for an inverse rel, of the target's): never held, sent to be
 * refused there. */
static bool frozen(struct tgfs *fs, const struct node *n,
		   const struct tg_rel *r, const char *name, const char *tid)
{
	const struct tg_kind *tk;
	struct node t;
	bool yes;

	if (r->path)
		return tg_rel_frozen(n->kind, r->dir, n->obj);
	tk = tg_kind_by_dir(NULL, r->target);
	if (!tk || !tk->frozen || strcmp(tk->frozen->rel, r->inverse) != 0)
		return false;
	if (node_resolve_top(fs, tk, name, &t))
		return false;
	yes = t.type == NODE_OBJECT && !t.draft && t.obj->id &&
	      !strcmp(t.obj->id, tid) && tg_rel_frozen(tk, r->inverse, t.obj);
	node_release(&t);
	return yes;
}

int lh_take(struct tgfs *fs, const char *path, const struct node *n,
	    const char *tid, pid_t pid)
{
	const char *name = strrchr(path, '/');
	const struct tg_rel *r;

	if (!fs->holds || n->draft || n->type != NODE_LINK ||
	    n->rel_index < 0 || !n->obj || !n->obj->id || !name || !tid ||
	    fs->cfg->read_only)
		return -ENOTSUP;
	r = &n->kind->rels[n->rel_index];
	name++;
	if (!r->many || !r->remove ||
	    !holds_listed_by(fs->holds, n->kind, n->obj->id, pid) ||
	    frozen(fs, n, r, name, tid) ||
	    holds_take(fs->holds, n->kind, n->obj->id, (size_t)n->rel_index,
		       name, tid, pid) != 0)
		return -ENOTSUP;
	/* Gone from listings now: the kernel drops what it holds of it
	 * (its folder by its object's id, whatever it is called now). */
	node_inval(fs, n, INVAL_SELF, name);
	return 0;
}

/* ---- where a request is ---- */

/* The place of the node of chain @c: the root, a top kind's folder, or
 * in an object's folder (its object's id from the chain, or, for a name
 * the chain ends in, the object of that name now: @id, @idsz bytes). */
static void place_of(struct tgfs *fs, const struct inodes_chain *c,
		     struct holds_place *p, char *id, size_t idsz)
{
	const struct inodes_hop *k = c->n ? &c->hop[1] : NULL;
	struct node n;

	*p = (struct holds_place){ HOLDS_AT_ROOT, NULL, NULL };
	if (!k)
		return;
	p->kind = k->key.set && k->key.type == NODE_KINDDIR &&
				  k->key.kind < tg_nkinds
			  ? tg_kinds[k->key.kind]
			  : tg_kind_by_dir(NULL, k->name);
	if (!p->kind || p->kind->parent) {
		*p = (struct holds_place){ HOLDS_AT_OTHER, NULL, NULL };
		return;
	}
	p->at = c->n == 1 ? HOLDS_AT_KIND : HOLDS_AT_OBJECT;
	if (c->n == 1 || (p->id = c->hop[2].id))
		return;
	/* A name in the kind's folder (a LOOKUP, an rmdir): its object. */
	if (node_resolve_top(fs, p->kind, c->hop[2].name, &n) == 0) {
		if (n.type == NODE_OBJECT && !n.draft && n.obj->id &&
		    strlen(n.obj->id) < idsz)
			p->id = strcpy(id, n.obj->id);
		node_release(&n);
	}
}

int lh_request(struct tgfs *fs, const struct inodes_chain *c, pid_t pid)
{
	struct holds_place p;
	char id[256];

	if (!holds_any(fs->holds))
		return 0;
	place_of(fs, c, &p, id, sizeof(id));
	return holds_request(fs->holds, &p, pid);
}

void lh_listed(struct tgfs *fs, const struct inodes_chain *c, pid_t pid)
{
	struct holds_place p;
	char id[256];

	if (!fs->holds || !c || c->n < 2)
		return;
	place_of(fs, c, &p, id, sizeof(id));
	if (p.at == HOLDS_AT_OBJECT && p.id)
		holds_listed(fs->holds, p.kind, p.id, pid);
}

/* ---- sending ---- */

/* Sends one removal by rel @r of object @oid (@obj, when known: a call
 * its concrete type picks) of the @nt targets @tids, and takes its
 * result as a single removal's is taken (links.c). */
static enum tg_err send_call(struct tgfs *fs, const struct tg_kind *k,
			     const struct tg_rel *r, const char *oid,
			     const struct tg_object *obj, const char **tids,
			     size_t nt)
{
	const struct tg_kind *holder =
		r->path ? k : tg_kind_by_dir(NULL, r->target);
	struct tg_vars vars = { .id = oid, .t = tids[0],
				.obj = r->path ? obj : NULL,
				.idempotent = true };
	const struct tg_op *op = r->remove;
	struct tg_result res = { 0 };
	char *json = NULL;
	enum tg_err err;

	if (nt > 1) {
		/* the list form: $v the targets' ids */
		cJSON *ids = cJSON_CreateStringArray(tids, (int)nt);

		json = ids ? cJSON_PrintUnformatted(ids) : NULL;
		cJSON_Delete(ids);
		if (!json)
			return TG_ENOMEM;
		op = r->remove_all;
		vars.t = NULL;
		vars.v_json = json;
	}
	err = tg_api_mutate(fs->api, op, &vars, &res);
	cJSON_free(json);
	if (err != TG_OK)
		return err;
	if (res.entity.kind == holder)
		wr_take_result(fs, &res, holder);
	else
		cache_apply(fs, holder, NULL, NULL);
	tg_result_release(&res);
	return TG_OK;
}

/* The store's sender (holds_ops.send): @links of object @oid of @kind,
 * grouped by rel where the rel has a list form.  The object itself is
 * found by its id, and only when needed: for a call its concrete type
 * picks, or to name its folder in a failure's line in errors. */
static void lh_send(void *ctx, const struct tg_kind *kind, const char *oid,
		    struct holds_link *links, size_t n)
{
	struct tgfs *fs = ctx;
	struct tg_cache_ref *ref = NULL;
	const struct tg_object *obj = NULL;
	const char *name = NULL, **tids = calloc(n, sizeof(*tids));
	size_t *pick = calloc(n, sizeof(*pick));
	bool *done = calloc(n, sizeof(*done)), looked = false;

	for (size_t i = 0; i < n; i++) {
		const struct tg_rel *r = &kind->rels[links[i].rel];
		size_t nt = 0;
		enum tg_err err = TG_ENOMEM;
		int rc;

		if (done && done[i])
			continue;
		for (size_t j = i; tids && pick && done && j < n; j++)
			if (!done[j] && links[j].rel == links[i].rel &&
			    (j == i || r->remove_all)) {
				done[j] = true;
				pick[nt] = j;
				tids[nt++] = links[j].tid;
			}
		if (!looked && kind->nvariants && r->path) {
			looked = true;
			if (!coll_get_names(fs, kind, &ref))
				obj = coll_by_id(coll_of(ref, kind), oid,
						 &name);
		}
		if (nt)
			err = send_call(fs, kind, r, oid, obj, tids, nt);
		if (err == TG_OK)
			continue;
		if (!looked) {
			looked = true;
			if (!coll_get_names(fs, kind, &ref))
				obj = coll_by_id(coll_of(ref, kind), oid,
						 &name);
		}
		{
			char where[TGFS_NAME_MAX * 2 + 128];

			snprintf(where, sizeof(where), "/%s/%s/%s", kind->dir,
				 name ? name : oid, r->dir);
			rc = wr_failed(fs, where, err);
		}
		if (!nt) {
			links[i].rc = rc; /* out of memory: each alone */
			continue;
		}
		for (size_t j = 0; j < nt; j++)
			links[pick[j]].rc = rc;
	}
	if (ref)
		tg_cache_put(ref);
	free(tids);
	free(pick);
	free(done);
}

static void lh_changed(void *ctx)
{
	tgfs_folders_changed(ctx);
}

const struct holds_ops linkholds_ops = { lh_send, lh_changed };
