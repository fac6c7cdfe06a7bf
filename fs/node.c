/*
 * node.c - path resolution (node.h): what a path names, stepped through
 * one component at a time over the store of collections (coll.h), the
 * drafts (draft.h) and the status files (status.h).  Relations show as
 * symlinks: a forward one by the ids the object holds, an inverse one
 * (a user's devices) by the index of the objects linking to it.
 *
 * When a name is looked up in a folder whose collection is not cached,
 * only that object is asked for (coll_for_name), so
 * `cat devices/<id>/trust` costs one request, not the whole listing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coll.h"
#include "draft.h"
#include "holds.h"
#include "node.h"
#include "secret.h"
#include "status.h"
#include "versions.h"

/* ---- relations ---- */

void node_link_target(unsigned depth, const char *dir, const char *name,
		      char *out, size_t outsz)
{
	size_t o = 0;

	for (unsigned i = 0; i < depth && o + 3 < outsz; i++, o += 3)
		memcpy(out + o, "../", 3);
	snprintf(out + o, outsz - o, "%s/%s", dir, name);
}

struct rel_walk {
	int (*fn)(void *arg, const char *name, const char *target);
	/* instead of @fn: also given the id of the link's target */
	int (*fn_id)(void *arg, const char *name, const char *target,
		     const char *id);
	void *arg;
	const char *dir;
	unsigned depth;
	const char *want_id; /* inverse: the linking object's rel holds it */
	size_t inv_rel;
	/* links whose removal is held (holds.h) are skipped */
	struct holds *holds;
	const char *oid;
	size_t rel;
	const struct tg_kind *kind;
};

/* The link @name to object @id (its target). */
static int rel_visit_id(struct rel_walk *w, const char *id, const char *name)
{
	char target[1024];

	if (w->holds &&
	    holds_hidden(w->holds, w->kind, w->oid, w->rel, name))
		return 0;
	node_link_target(w->depth, w->dir, name, target, sizeof(target));
	return w->fn_id ? w->fn_id(w->arg, name, target, id)
			: w->fn(w->arg, name, target);
}

/* An inverse link: @obj links to the object walked, and is the target. */
static int rel_visit(void *arg, const struct tg_object *obj, const char *name)
{
	return rel_visit_id(arg, obj->id, name);
}

/* rel_each, with the callbacks in @w (fn or fn_id, and arg) */
static int rel_scan(struct tgfs *fs, const struct tg_object *obj, size_t rel,
		    unsigned depth, struct rel_walk *w)
{
	const struct tg_rel *r = &obj->kind->rels[rel];
	const struct tg_kind *tk = tg_kind_by_dir(NULL, r->target);
	struct tg_cache_ref *ref;
	const struct coll *c;
	int rc;

	w->dir = r->target;
	w->depth = depth;
	w->holds = holds_any(fs->holds) ? fs->holds : NULL;
	w->oid = obj->id;
	w->rel = rel;
	w->kind = obj->kind;
	if (!tk)
		return -ENOENT;
	/* Forward links need the targets' names only; inverse ones the
	 * linking objects' links, nested pages included. */
	rc = r->path ? coll_get_names(fs, tk, &ref) : coll_get(fs, tk, &ref);
	if (rc)
		return rc;
	c = coll_of(ref, tk);
	if (r->path) {
		/* Forward: the ids are ours; names come from the target. */
		for (size_t i = 0; !rc && i < obj->links[rel].n; i++) {
			const char *name;

			if (coll_by_id(c, obj->links[rel].ids[i], &name))
				rc = rel_visit_id(w, obj->links[rel].ids[i],
						  name);
		}
	} else {
		int inv = tg_rel_index(tk, r->inverse);

		rc = inv < 0 ? -ENOENT
			     : coll_each_linked(c, (size_t)inv, obj->id,
						rel_visit, w);
	}
	tg_cache_put(ref);
	return rc;
}

int rel_each(struct tgfs *fs, const struct tg_object *obj, size_t rel,
	     unsigned depth,
	     int (*fn)(void *arg, const char *name, const char *target),
	     void *arg)
{
	struct rel_walk w = { .fn = fn, .arg = arg };

	return rel_scan(fs, obj, rel, depth, &w);
}

/* The link named @name in a rel folder: its target, and its target's id
 * (an unlink removes the link by that id, with no look-up by name). */
struct rel_find {
	const char *name;
	char *target;
	size_t targetsz;
	char *id;
	size_t idsz;
	bool found;
};

static int rel_match(void *arg, const char *name, const char *target,
		     const char *id)
{
	struct rel_find *f = arg;

	if (strcmp(name, f->name) != 0)
		return 0;
	snprintf(f->target, f->targetsz, "%s", target);
	snprintf(f->id, f->idsz, "%s", id);
	f->found = true;
	return 1;
}

/* ---- nodes ---- */

void node_release(struct node *n)
{
	free(n->shown);
	n->shown = NULL;
	tg_cache_put(n->ref);
	n->ref = NULL;
	n->obj = NULL;
	if (n->draft && n->own.kind)
		tg_object_release(&n->own);
	n->draft = false;
}

/* Makes @n the draft @name of @k (with @rel >= 0: only the one whose
 * one-link @rel is @target_id).  False when there is no such draft. */
static bool step_draft(struct tgfs *fs, struct node *n,
		       const struct tg_kind *k, const char *name, int rel,
		       const char *target_id)
{
	struct tg_object copy;

	if (!draft_get(fs->drafts, k, name, rel, target_id, &copy))
		return false;
	node_release(n);
	n->own = copy;
	n->draft = true;
	n->obj = &n->own;
	n->kind = k;
	n->type = NODE_OBJECT;
	n->rel_index = -1;
	n->rel[0] = '\0';
	snprintf(n->draft_file, sizeof(n->draft_file), "%s", name);
	return true;
}

const struct tg_field *node_field(const struct node *n)
{
	if (n->type == NODE_FIELD)
		return &n->kind->fields[n->field];
	if (n->type == NODE_EDGEFIELD)
		return &n->kind->rels[n->rel_index].edge_fields[n->field];
	return NULL;
}

const char *node_content(struct node *n)
{
	const char *v = NULL;

	if (n->type == NODE_EDGEFIELD)
		return edge_content(n);

	if (n->type == NODE_JSON)
		v = tg_object_json(n->obj, &n->shown);
	else if (n->type == NODE_DRAFTINFO)
		v = n->obj->json;
	else if (n->type == NODE_FIELD)
		v = tg_object_value(n->obj, n->field, &n->shown);
	return v ? v : "";
}

size_t node_content_len(const struct node *n)
{
	const char *v = NULL;

	if (n->type == NODE_JSON && n->obj->packed)
		return n->obj->json_len;
	if (n->type == NODE_FIELD)
		return tg_object_value_len(n->obj, n->field);
	if (n->type == NODE_EDGEFIELD)
		return edge_content_len(n);
	if (n->type == NODE_JSON || n->type == NODE_DRAFTINFO)
		v = n->obj->json;
	return v ? strlen(v) : 0;
}

static bool is_secret(const struct node *n)
{
	return n->type == NODE_FIELD &&
	       tg_field_secret(&n->kind->fields[n->field]);
}

size_t node_text_len(struct tgfs *fs, const struct node *n)
{
	if (is_secret(n)) {
		const char *s = secret_get(fs, n->obj->id,
					   n->kind->fields[n->field].file);

		return s ? strlen(s) : 0;
	}
	return node_content_len(n);
}

const char *node_text(struct tgfs *fs, struct node *n)
{
	if (is_secret(n)) {
		const char *s = secret_get(fs, n->obj->id,
					   n->kind->fields[n->field].file);

		return s ? s : "";
	}
	return node_content(n);
}

bool page_cacheable(const struct node *n)
{
	return !n->draft && (n->type == NODE_JSON ||
			     (n->type == NODE_FIELD && !is_secret(n)));
}

/* True when some rel dir of @k is @prefix or starts with "@prefix/". */
static bool rel_prefix(const struct tg_kind *k, const char *prefix)
{
	size_t n = strlen(prefix);

	for (size_t i = 0; i < k->nrels; i++)
		if (strncmp(k->rels[i].dir, prefix, n) == 0 &&
		    (k->rels[i].dir[n] == '\0' || k->rels[i].dir[n] == '/'))
			return true;
	return false;
}

bool link_known(struct tgfs *fs, const struct tg_object *obj, size_t rel)
{
	const struct tg_kind *tk =
		tg_kind_by_dir(NULL, obj->kind->rels[rel].target);

	return !obj->links[rel].n || !tk || coll_cached(fs, tk);
}

/* Steps into the link or rel folder @rel of n->obj. */
int node_step_rel(struct tgfs *fs, struct node *n, const char *rel)
{
	int i = tg_rel_index(n->kind, rel);

	if (i >= 0 && !n->kind->rels[i].many) {
		/* One link: there only when set and its target is known. */
		bool found = false;
		struct tg_cache_ref *ref;
		const struct tg_kind *tk =
			tg_kind_by_dir(NULL, n->kind->rels[i].target);
		const char *name;
		int rc;

		if (!n->obj->links[i].n || !tk)
			return -ENOENT;
		rc = coll_get_names(fs, tk, &ref); /* its name is enough */
		if (rc)
			return rc;
		if (coll_by_id(coll_of(ref, tk), n->obj->links[i].ids[0],
			       &name)) {
			node_link_target(n->depth - 1, tk->dir, name, n->target,
				    sizeof(n->target));
			snprintf(n->target_id, sizeof(n->target_id), "%s",
				 n->obj->links[i].ids[0]);
			found = true;
		}
		tg_cache_put(ref);
		if (!found)
			return -ENOENT;
		n->type = NODE_LINK;
		n->rel_index = i;
		return 0;
	}
	if (!rel_prefix(n->kind, rel) || strlen(rel) >= sizeof(n->rel))
		return -ENOENT;
	n->type = NODE_RELDIR;
	n->rel_index = i;
	strcpy(n->rel, rel);
	return 0;
}

int node_complete(struct tgfs *fs, const struct node *n)
{
	if (n->draft || !n->ref)
		return 0;
	return coll_complete(fs, n->ref, n->obj->id);
}

/* Steps from an object folder @n to its entry @name. */
int node_step_object(struct tgfs *fs, struct node *n, const char *name)
{
	const struct tg_kind *k = n->kind, *child;
	int rc = node_complete(fs, n);

	if (rc)
		return rc;

	if (n->draft) {
		/* A draft holds the files its create takes, and .draft. */
		if (strcmp(name, TGFS_DRAFT_FILE) == 0) {
			n->type = NODE_DRAFTINFO;
			return 0;
		}
		/* A restore folder takes any file of its kind. */
		if (!draft_is_pending(n->obj) && !draft_takes(k, name))
			return -ENOENT;
	}
	for (size_t i = 0; i < k->nfields; i++)
		if (strcmp(k->fields[i].file, name) == 0 &&
		    tg_field_present(k, i)) {
			/* A field of another concrete type: no file. */
			if (!tg_object_has_field(n->obj, i))
				return -ENOENT;
			n->type = NODE_FIELD;
			n->field = i;
			return 0;
		}
	if (strcmp(name, "object.json") == 0) {
		/* What a backup took: a restore writes it back. */
		if (!n->draft)
			versions_note(fs->versions, n->obj);
		n->type = NODE_JSON;
		return 0;
	}
	child = tg_kind_by_dir(k, name);
	if (!child)
		return node_step_rel(fs, n, name);
	if (n->draft && !draft_is_pending(n->obj))
		return -ENOENT; /* nothing is nested in a draft */
	if (strlen(n->obj->id) >= sizeof(n->parent_id))
		return -ENOENT;
	strcpy(n->parent_id, n->obj->id);
	n->parent_mtime = n->obj->mtime;
	if (n->draft) {
		/* A restore folder's nested folders hold restore folders
		 * only (keyed by its pending id) until its id arrives. */
		node_release(n);
		n->type = NODE_KINDDIR;
		n->kind = child;
		return 0;
	}
	/* An embedded kind's objects are in the collection we hold. */
	if (!child->parent_conn)
		node_release(n);
	n->obj = NULL;
	n->type = NODE_KINDDIR;
	n->kind = child;
	return 0;
}

/* Steps from a rel folder (or a prefix of one) to @name. */
int node_step_reldir(struct tgfs *fs, struct node *n, const char *name)
{
	char rel[sizeof(n->rel)];
	struct rel_find f = { name, n->target, sizeof(n->target),
			      n->target_id, sizeof(n->target_id), false };
	struct rel_walk w = { .fn_id = rel_match, .arg = &f };
	int rc;

	if (n->rel_index < 0) {
		/* A prefix such as "access": go one level down. */
		if (snprintf(rel, sizeof(rel), "%s/%s", n->rel, name) >=
		    (int)sizeof(rel))
			return -ENOENT;
		return node_step_rel(fs, n, rel);
	}
	{
		/* A draft tied to this object (networks/N/resources/R). */
		const struct tg_rel *r = &n->kind->rels[n->rel_index];
		const struct tg_kind *tk = tg_kind_by_dir(NULL, r->target);
		int inv = tk && !r->path ? tg_rel_index(tk, r->inverse) : -1;
		char id[256];

		snprintf(id, sizeof(id), "%s", n->obj->id);
		if (inv >= 0 && step_draft(fs, n, tk, name, inv, id))
			return 0;
	}
	rc = rel_scan(fs, n->obj, (size_t)n->rel_index, n->depth - 1, &w);
	if (rc < 0)
		return rc;
	if (!f.found)
		return -ENOENT;
	/* An access edge: a folder of its own. */
	if (edge_rel(&n->kind->rels[n->rel_index]))
		return edge_enter(fs, n, name);
	n->type = NODE_LINK;
	return 0;
}

/* True when @name is an id of @k's type, and @k's lookup is by name. */
static bool named_by_id(const struct tg_kind *k, const char *name)
{
	char type[64], pk[64];

	return k->lookup == TG_LOOKUP_NAME &&
	       tg_global_id_decode(name, type, sizeof(type), pk, sizeof(pk)) &&
	       strcmp(type, k->type_name) == 0;
}

/* Steps from a kind folder to the object @name. */
int node_step_kinddir(struct tgfs *fs, struct node *n, const char *name)
{
	const struct tg_kind *k = n->kind;
	const char *parent = k->parent ? n->parent_id : NULL;
	char key[TGFS_NAME_MAX + 1];
	int rc;

	/* A nested kind's restore folder is known by its parent's id and
	 * its name (draft_key). */
	if (!draft_key(k, parent, name, key, sizeof(key)) &&
	    step_draft(fs, n, k, key, -1, NULL))
		return 0;
	if (parent && draft_id_pending(parent))
		return -ENOENT; /* in a restore folder: nothing else */
	if (!k->parent_conn) {
		rc = coll_for_name(fs, k, name, &n->ref);
		if (rc)
			return rc;
	}
	n->obj = coll_find(coll_of(n->ref, k), parent, name);
	if (!n->obj && !k->parent_conn && named_by_id(k, name)) {
		/* An object without a name is named by its id, which a lookup
		 * by name cannot find (a user without an email): the list
		 * can. */
		tg_cache_put(n->ref);
		n->ref = NULL;
		rc = coll_get_names(fs, k, &n->ref);
		if (rc)
			return rc;
		n->obj = coll_find(coll_of(n->ref, k), parent, name);
	}
	if (!n->obj)
		return -ENOENT;
	n->type = NODE_OBJECT;
	return 0;
}

int node_step_root(struct tgfs *fs, struct node *n, const char *name)
{
	(void)fs;
	if (strcmp(name, TGFS_STATUS_DIR) == 0) {
		n->type = NODE_STATDIR;
		return 0;
	}
	n->kind = tg_kind_by_dir(NULL, name);
	if (!n->kind)
		return -ENOENT;
	n->type = NODE_KINDDIR;
	return 0;
}

int node_step_statdir(struct tgfs *fs, struct node *n, const char *name)
{
	(void)fs;
	for (size_t i = 0; i < tgfs_nstatus_files; i++)
		if (strcmp(name, tgfs_status_files[i].name) == 0) {
			n->type = NODE_STATFILE;
			n->field = i;
			return 0;
		}
	return -ENOENT;
}

int node_resolve(struct tgfs *fs, const char *path, struct node *n)
{
	char comp[TGFS_NAME_MAX + 1];
	const char *p = path;
	int rc = 0;

	memset(n, 0, sizeof(*n));
	n->type = NODE_ROOT;
	n->rel_index = -1;
	while (*p) {
		size_t len;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		len = strcspn(p, "/");
		if (len > TGFS_NAME_MAX) {
			rc = -ENAMETOOLONG;
			goto fail;
		}
		memcpy(comp, p, len);
		comp[len] = '\0';
		p += len;
		n->depth++;

		rc = fs->node_types[n->type].step
			     ? fs->node_types[n->type].step(fs, n, comp)
			     : -ENOTDIR;
		if (rc)
			goto fail;
	}
	__atomic_fetch_add(&fs->resolves, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&fs->resolve_steps, n->depth, __ATOMIC_RELAXED);
	return 0;
fail:
	__atomic_fetch_add(&fs->resolves, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&fs->resolve_steps, n->depth, __ATOMIC_RELAXED);
	node_release(n);
	return rc;
}
