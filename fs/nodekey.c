/*
 * nodekey.c - resolve once: a node the kernel holds found again from what
 * the kernel's node table keeps of it (inodes.h: each node's key, and its
 * object's id for an object's folder), not by a walk from the root.
 *
 * A node's key (node type, kind, field) is set when the kernel learns
 * the node (ll.c reply_entry, lldir.c plus_entry).  A request on node id
 * X then starts at the deepest node on X's way down that its key lets us
 * make at once (node_resolve_chain): the root, a kind's folder, the
 * status folder or file, an object's folder (its object found by its id
 * in the collection its name is in: no walk, whatever the object is
 * called now), a field or object.json of such a folder (by its field's
 * index), or its rel folders and single links (by the rel's index), an
 * access edge's folder (by its rel, then its principal's name) and the
 * setting files in it (by the setting's index).  Only the names below
 * that are stepped through (node.c), so a LOOKUP costs one step (the new
 * name), and a request on a known file none.  The operations on names
 * (mkdir, unlink, rename...) resolve their name, or its folder, from the
 * chain of the name's folder in the same way (node_resolve_name,
 * node_resolve_dir).  Identity is the object's id: a rename of the
 * object (through the mount or by someone else) leaves the node valid.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "coll.h"
#include "inodes.h"
#include "inval.h"
#include "node.h"
#include "status.h"
#include "versions.h"

/* The index of @k in tg_kinds (tg_nkinds when not there). */
static size_t kind_index(const struct tg_kind *k)
{
	size_t i = 0;

	while (i < tg_nkinds && tg_kinds[i] != k)
		i++;
	return i;
}

struct inodes_key node_key_of(const struct node *n)
{
	struct inodes_key key = { .set = true, .type = (uint8_t)n->type };
	size_t k = n->kind ? kind_index(n->kind) : 0;

	if (k < tg_nkinds && k <= UINT8_MAX)
		key.kind = (uint8_t)k;
	if ((n->type == NODE_FIELD || n->type == NODE_STATFILE) &&
	    n->field <= UINT16_MAX)
		key.index = (uint16_t)n->field;
	/* a rel's folder or single link: its rel, 0 for a folder on the
	 * way to rels ("access") */
	if ((n->type == NODE_RELDIR || n->type == NODE_LINK) &&
	    n->rel_index >= 0 && n->rel_index < UINT16_MAX)
		key.index = (uint16_t)(n->rel_index + 1);
	/* an access edge's folder: its rel (its principal goes by its
	 * name); a setting file in it: its setting */
	if (n->type == NODE_EDGE && n->rel_index >= 0 &&
	    n->rel_index < UINT16_MAX)
		key.index = (uint16_t)(n->rel_index + 1);
	if (n->type == NODE_EDGEFIELD && n->field <= UINT16_MAX)
		key.index = (uint16_t)n->field;
	return key;
}

bool node_inval(struct tgfs *fs, const struct node *n, unsigned what,
		const char *name)
{
	struct node at = *n;

	if (n->draft || !n->obj || !n->obj->id || !*n->obj->id ||
	    n->edge_part || n->type == NODE_EDGE ||
	    n->type == NODE_EDGEFIELD)
		return false;
	switch (n->type) {
	case NODE_LINK:
		/* its folder; @at is a shallow copy, never released: only
		 * its fields make the key */
		at.type = n->kind->rels[n->rel_index].many ? NODE_RELDIR
							    : NODE_OBJECT;
		break;
	case NODE_OBJECT:
	case NODE_FIELD:
	case NODE_JSON:
	case NODE_RELDIR:
		break;
	default:
		return false;
	}
	inval_keyed(fs, n->obj->id, node_key_of(&at), what, name);
	return true;
}

static int jump(struct tgfs *fs, const struct inodes_chain *c, size_t k,
		struct node *n);
static int jump_whole(struct tgfs *fs, const struct inodes_chain *c,
		      size_t k, const struct tg_kind *kind, struct node *n);

/* The object of folder @k of @c, of kind @kind, found by its id: in the
 * collection of its name (a look-up by name when its list is not
 * cached), or of its parent's object for a kind listed with its parent;
 * renamed since, in its kind's list. */
static int jump_object(struct tgfs *fs, const struct inodes_chain *c,
		       size_t k, const struct tg_kind *kind, struct node *n)
{
	const struct inodes_hop *h = &c->hop[k];
	const struct tg_object *obj = NULL;
	int rc;

	if (kind->parent_conn) {
		/* Listed with its parent: its folder is two up. */
		if (k < 3 || !c->hop[k - 2].id)
			return -EAGAIN;
		/* whole, as node_step_object makes it before stepping
		 * into its nested folders */
		rc = jump_whole(fs, c, k - 2, kind->parent, n);
		if (rc)
			return rc;
		if (strlen(n->obj->id) >= sizeof(n->parent_id)) {
			node_release(n);
			return -EAGAIN;
		}
		strcpy(n->parent_id, n->obj->id);
		n->parent_mtime = n->obj->mtime;
		obj = coll_by_id(coll_of(n->ref, kind), h->id, NULL);
	} else {
		memset(n, 0, sizeof(*n));
		n->rel_index = -1;
		if (kind->parent && k >= 3 && c->hop[k - 2].id &&
		    strlen(c->hop[k - 2].id) < sizeof(n->parent_id))
			strcpy(n->parent_id, c->hop[k - 2].id);
		rc = coll_for_name(fs, kind, h->name, &n->ref);
		if (rc)
			return rc;
		obj = coll_by_id(coll_of(n->ref, kind), h->id, NULL);
	}
	if (!obj) {
		/* Renamed since (by someone else): its kind's list says. */
		tg_cache_put(n->ref);
		n->ref = NULL;
		rc = coll_get_names(fs, kind, &n->ref);
		if (rc) {
			node_release(n);
			return rc;
		}
		obj = coll_by_id(coll_of(n->ref, kind), h->id, NULL);
	}
	if (!obj) {
		node_release(n);
		return -ENOENT;
	}
	n->type = NODE_OBJECT;
	n->kind = kind;
	n->obj = obj;
	n->rel_index = -1;
	n->rel[0] = '\0';
	n->depth = (unsigned)k;
	return 0;
}

/* Makes @n the object of folder hop @k of @c, of @kind and no draft,
 * whole (as node_step_object makes it before stepping into its
 * files): 0, -EAGAIN (not such a folder: @n holds nothing) or -errno. */
static int jump_whole(struct tgfs *fs, const struct inodes_chain *c,
		      size_t k, const struct tg_kind *kind, struct node *n)
{
	int rc = jump(fs, c, k, n);

	if (rc)
		return rc;
	if (n->type != NODE_OBJECT || n->kind != kind || n->draft)
		rc = -EAGAIN;
	else
		rc = node_complete(fs, n);
	if (rc)
		node_release(n);
	return rc;
}

/* A field or object.json (hop @k) of an object's folder, by its key. */
static int jump_file(struct tgfs *fs, const struct inodes_chain *c, size_t k,
		     const struct inodes_key *key, struct node *n)
{
	const struct inodes_hop *h = &c->hop[k];
	const struct tg_kind *kind = tg_kinds[key->kind];
	int rc;

	if (key->type == NODE_FIELD &&
	    (key->index >= kind->nfields ||
	     strcmp(kind->fields[key->index].file, h->name) != 0 ||
	     !tg_field_present(kind, key->index)))
		return -EAGAIN;
	if (key->type == NODE_JSON && strcmp(h->name, "object.json") != 0)
		return -EAGAIN;
	rc = jump_whole(fs, c, k - 1, kind, n);
	if (rc)
		return rc;
	n->depth = (unsigned)k;
	if (key->type == NODE_JSON) {
		versions_note(fs->versions, n->obj);
		n->type = NODE_JSON;
		return 0;
	}
	if (!tg_object_has_field(n->obj, key->index)) {
		node_release(n);
		return -ENOENT;
	}
	n->type = NODE_FIELD;
	n->field = key->index;
	return 0;
}

/* A rel's folder or single link (hop @k), or a folder on the way to
 * rels, of an object's folder, by its key: the object's, then its rel
 * entry as node_step_object makes it (node_step_rel). */
static int jump_rel(struct tgfs *fs, const struct inodes_chain *c, size_t k,
		    const struct inodes_key *key, struct node *n)
{
	const struct tg_kind *kind = tg_kinds[key->kind];
	const char *dir;
	char joined[sizeof(n->rel)];
	size_t m = 1, at = 0;
	int rc;

	if (key->index > kind->nrels)
		return -EAGAIN;
	dir = key->index ? kind->rels[key->index - 1].dir : c->hop[k].name;
	for (const char *p = dir; *p; p++)
		m += *p == '/';
	if (k <= m || !c->hop[k - m].id || strlen(dir) >= sizeof(joined))
		return -EAGAIN;
	/* the names on the way are the rel's */
	for (size_t j = k - m + 1; j <= k; j++)
		at += (size_t)snprintf(joined + at, sizeof(joined) - at, "%s%s",
				       j > k - m + 1 ? "/" : "",
				       c->hop[j].name);
	if (at >= sizeof(joined) || strcmp(joined, dir) != 0)
		return -EAGAIN;
	rc = jump_whole(fs, c, k - m, kind, n);
	if (rc)
		return rc;
	n->depth = (unsigned)k;
	rc = node_step_rel(fs, n, dir);
	if (!rc && n->type != key->type)
		rc = -EAGAIN;
	if (rc)
		node_release(n);
	return rc;
}

/* An access edge's folder (hop @k) by its key: its rel folder's, by
 * the rel (jump_rel), then its principal by the name (edge_enter, in
 * the principal kind's cached list), as node_step_reldir makes it. */
static int jump_edge(struct tgfs *fs, const struct inodes_chain *c, size_t k,
		     const struct inodes_key *key, struct node *n)
{
	const struct tg_kind *kind = tg_kinds[key->kind];
	struct inodes_key rel = { .set = true, .type = NODE_RELDIR,
				  .kind = key->kind, .index = key->index };
	const struct tg_rel *r;
	int rc;

	if (key->index == 0 || key->index > kind->nrels ||
	    !edge_rel(&kind->rels[key->index - 1]) || k < 2)
		return -EAGAIN;
	r = &kind->rels[key->index - 1];
	rc = jump_rel(fs, c, k - 1, &rel, n);
	if (rc)
		return rc;
	n->depth = (unsigned)k;
	rc = edge_enter(fs, n, c->hop[k].name);
	if (rc) {
		node_release(n);
		return rc;
	}
	node_link_target(n->depth - 1, r->target, n->edge_name, n->target,
			 sizeof(n->target));
	return 0;
}

/* A setting file of an access edge's folder (hop @k) by its key. */
static int jump_edgefield(struct tgfs *fs, const struct inodes_chain *c,
			  size_t k, const struct inodes_key *key,
			  struct node *n)
{
	const struct inodes_hop *up = &c->hop[k - 1];
	const struct tg_kind *kind = tg_kinds[key->kind];
	const struct tg_rel *r;
	int rc;

	if (!up->key.set || up->key.type != NODE_EDGE ||
	    up->key.kind != key->kind || up->key.index == 0 ||
	    up->key.index > kind->nrels)
		return -EAGAIN;
	r = &kind->rels[up->key.index - 1];
	if (key->index >= r->nedge_fields ||
	    strcmp(r->edge_fields[key->index].file, c->hop[k].name) != 0)
		return -EAGAIN;
	rc = jump_edge(fs, c, k - 1, &up->key, n);
	if (rc)
		return rc;
	n->depth = (unsigned)k;
	n->type = NODE_EDGEFIELD;
	n->field = key->index;
	return 0;
}

/*
 * Makes @n hop @k of @c at once, when its key allows: 0, -EAGAIN (it
 * must be stepped to by name; @n holds nothing), or -errno.
 */
static int jump(struct tgfs *fs, const struct inodes_chain *c, size_t k,
		struct node *n)
{
	const struct inodes_hop *h = &c->hop[k];
	const struct tg_kind *kind;

	if (k == 0) {
		memset(n, 0, sizeof(*n));
		n->type = NODE_ROOT;
		n->rel_index = -1;
		return 0;
	}
	if (!h->key.set)
		return -EAGAIN;
	kind = h->key.kind < tg_nkinds ? tg_kinds[h->key.kind] : NULL;
	switch (h->key.type) {
	case NODE_STATDIR:
	case NODE_KINDDIR:
		if (k != 1 || (h->key.type == NODE_KINDDIR &&
			       (!kind || kind->parent ||
				strcmp(kind->dir, h->name) != 0)) ||
		    (h->key.type == NODE_STATDIR &&
		     strcmp(h->name, TGFS_STATUS_DIR) != 0))
			return -EAGAIN;
		memset(n, 0, sizeof(*n));
		n->type = h->key.type;
		n->kind = h->key.type == NODE_KINDDIR ? kind : NULL;
		n->rel_index = -1;
		n->depth = 1;
		return 0;
	case NODE_STATFILE:
		if (k != 2 || h->key.index >= tgfs_nstatus_files ||
		    strcmp(tgfs_status_files[h->key.index].name, h->name) != 0)
			return -EAGAIN;
		memset(n, 0, sizeof(*n));
		n->type = NODE_STATFILE;
		n->field = h->key.index;
		n->rel_index = -1;
		n->depth = 2;
		return 0;
	case NODE_OBJECT:
		return kind && h->id ? jump_object(fs, c, k, kind, n) : -EAGAIN;
	case NODE_FIELD:
	case NODE_JSON:
		return kind && k >= 2 && c->hop[k - 1].id
			       ? jump_file(fs, c, k, &h->key, n)
			       : -EAGAIN;
	case NODE_RELDIR:
	case NODE_LINK:
		return kind ? jump_rel(fs, c, k, &h->key, n) : -EAGAIN;
	case NODE_EDGE:
		return kind ? jump_edge(fs, c, k, &h->key, n) : -EAGAIN;
	case NODE_EDGEFIELD:
		return kind && k >= 2 ? jump_edgefield(fs, c, k, &h->key, n)
				      : -EAGAIN;
	default:
		return -EAGAIN;
	}
}

/*
 * Resolves hop @last of chain @c (@c->n: its node; one less: the folder
 * of its last name) into @n, @path being that hop's path: as
 * node_resolve_chain says.
 */
static int resolve_upto(struct tgfs *fs, const struct inodes_chain *c,
			size_t last, const char *path, struct node *n)
{
	size_t k = last, steps = 0;
	int rc;

	/* The deepest node on the way that can be made at once (the root
	 * always can). */
	while ((rc = jump(fs, c, k, n)) == -EAGAIN)
		k--;
	/* Not there by its id: as a path, as before keys (a name another
	 * object took is that object's). */
	if (rc == -ENOENT)
		return node_resolve(fs, path, n);
	if (rc)
		goto out;
	for (size_t j = k + 1; j <= last; j++) {
		const char *name = c->hop[j].name;

		if (strlen(name) > TGFS_NAME_MAX) {
			rc = -ENAMETOOLONG;
			break;
		}
		n->depth = (unsigned)j;
		steps++;
		rc = fs->node_types[n->type].step
			     ? fs->node_types[n->type].step(fs, n, name)
			     : -ENOTDIR;
		if (rc)
			break;
	}
	if (rc)
		node_release(n);
out:
	__atomic_fetch_add(&fs->resolves, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&fs->resolve_steps, steps, __ATOMIC_RELAXED);
	__atomic_fetch_add(&fs->resolve_keyed, 1, __ATOMIC_RELAXED);
	return rc;
}

int node_resolve_chain(struct tgfs *fs, const struct inodes_chain *c,
		       struct node *n)
{
	return resolve_upto(fs, c, c->n, c->path, n);
}

/* ---- names ---- */

struct tgfs_name tgfs_name_of_path(const char *path)
{
	const char *slash = strrchr(path, '/');

	return (struct tgfs_name){ .chain = NULL, .path = path,
				   .name = slash ? slash + 1 : path,
				   .key = path };
}

int node_resolve_name(struct tgfs *fs, const struct tgfs_name *nm,
		      struct node *n)
{
	if (!nm->chain)
		return node_resolve(fs, nm->path, n);
	return resolve_upto(fs, nm->chain, nm->chain->n, nm->path, n);
}

int node_resolve_dir(struct tgfs *fs, const struct tgfs_name *nm,
		     struct node *n)
{
	const char *slash = strrchr(nm->path, '/');
	char dir[4096];

	if (!slash || (size_t)(slash - nm->path) >= sizeof(dir))
		return -ENAMETOOLONG;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - nm->path),
		 nm->path);
	if (!dir[0])
		strcpy(dir, "/");
	if (!nm->chain || nm->chain->n == 0)
		return node_resolve(fs, dir, n);
	return resolve_upto(fs, nm->chain, nm->chain->n - 1, dir, n);
}

int node_step(struct tgfs *fs, struct node *n, const char *name)
{
	int rc;

	if (strlen(name) > TGFS_NAME_MAX)
		rc = -ENAMETOOLONG;
	else {
		n->depth++;
		rc = fs->node_types[n->type].step
			     ? fs->node_types[n->type].step(fs, n, name)
			     : -ENOTDIR;
	}
	__atomic_fetch_add(&fs->resolve_steps, 1, __ATOMIC_RELAXED);
	if (rc)
		node_release(n);
	return rc;
}

int node_resolve_top(struct tgfs *fs, const struct tg_kind *k,
		     const char *name, struct node *n)
{
	int rc = -ENOENT;

	memset(n, 0, sizeof(*n));
	n->rel_index = -1;
	if (k && !k->parent) {
		n->type = NODE_KINDDIR;
		n->kind = k;
		n->depth = 1;
		rc = node_step(fs, n, name);
	}
	__atomic_fetch_add(&fs->resolves, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&fs->resolve_keyed, 1, __ATOMIC_RELAXED);
	return rc;
}
