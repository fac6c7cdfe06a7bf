/*
 * write.c - what changes the tenant (write.h): committing what a user
 * wrote to a field or to object.json, making, removing, renaming and
 * linking objects, and creating drafts once complete.  The FUSE operations in fileops.c decide *when* (the
 * write that completes a line, flush, fsync, rename); this file does it.
 *
 * Every change is one mutation (two for a key's revoke-then-delete) with
 * no read before or after: the changed object comes back in the payload
 * and replaces the cached one, and the kernel is told to forget what it
 * cached of the object's files.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "coll.h"
#include "draft.h"
#include "inval.h"
#include "node.h"
#include "secret.h"
#include "write.h"

/* ---- committing ---- */

/* The folder part of @path into @dir. */
static void dirname_of(const char *path, char *dir, size_t dirsz)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;

	snprintf(dir, dirsz, "%.*s", (int)n, path);
}

/* The kernel forgets the object folder @dir and every file in it. */
static void inval_object(struct tgfs *fs, const char *dir,
			 const struct tg_kind *k)
{
	char p[4096 + 128];

	inval_path(fs, dir);
	for (size_t i = 0; i < k->nfields; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, k->fields[i].file);
		inval_path(fs, p);
	}
	snprintf(p, sizeof(p), "%s/object.json", dir);
	inval_path(fs, p);
	for (size_t i = 0; i < k->nrels; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, k->rels[i].dir);
		inval_path(fs, p);
	}
}

/* Takes a mutation's result into the cache; a result without an entity
 * makes the collection of @holder be read again. */
static void take_result(struct tgfs *fs, struct tg_result *r,
			const struct tg_kind *holder)
{
	if (r->entity.kind)
		cache_apply(fs, r->entity.kind, &r->entity, NULL);
	else if (holder)
		cache_apply(fs, holder, NULL, NULL);
}

/* Logs and records a failed change; returns -errno. */
static int failed(struct tgfs *fs, const char *path, enum tg_err err)
{
	int rc = -tgfs_errno(err);
	const char *msg = tg_api_last_message();

	tgfs_record_error(fs, path, rc, *msg ? msg : tg_err_str(err));
	return rc;
}

struct send_arg {
	struct tgfs *fs;
	const char *file;
	struct tg_result *res;
};

/* Sends the create of a complete draft (draft_create's @send). */
static int send_create(void *arg, const struct tg_kind *k,
		       const struct draft_values *v)
{
	struct send_arg *sa = arg;
	struct tgfs *fs = sa->fs;
	enum tg_err err;

	err = tg_api_create(fs->api, k, v->fields, v->values, v->n, v->rels,
			    v->ids, v->nl, sa->res);
	/* The answer was lost: did the create happen?  Ask by name rather
	 * than create again (the API is not idempotent). */
	if (tgfs_outcome_unknown(err) &&
	    tg_api_find_lost_create(fs->api, k, v->name, NULL,
				    fs->cfg->api.timeout_s,
				    &sa->res->entity)) {
		tg_log(TG_LOG_WARN, "%s: created, though its answer was lost",
		       sa->file);
		err = TG_OK;
	}
	return -tgfs_errno(err);
}

/*
 * A draft whose field or link at @path (in draft folder @n) was just set:
 * creates the object if the draft now has all it needs.  A refused create
 * fails the write that completed the draft, and the draft stays.
 */
static int draft_changed(struct tgfs *fs, const char *path,
			 const struct node *n)
{
	struct tg_result res = { 0 };
	struct send_arg sa = { fs, n->draft_file, &res };
	char dir[4096], top[4096 + TGFS_NAME_MAX + 2];
	bool sent;
	int rc;

	rc = draft_create(fs->drafts, n->kind, n->draft_file, send_create,
			  &sa, &sent);
	if (rc) {
		const char *msg = tg_api_last_message();

		tgfs_record_error(fs, path, rc,
				  *msg ? msg : "the create was refused");
		return rc;
	}
	if (!sent)
		return 0;
	/* The draft is gone from its folders. */
	tgfs_folders_changed(fs);
	take_result(fs, &res, n->kind);
	tg_result_release(&res);
	/* Where it was written, and where it now lives. */
	dirname_of(path, dir, sizeof(dir));
	inval_object(fs, dir, n->kind);
	inval_path(fs, path);
	snprintf(top, sizeof(top), "/%s/%s", n->kind->dir, n->draft_file);
	inval_path(fs, top);
	dirname_of(dir, top, sizeof(top));
	inval_path(fs, top);
	return 0;
}


/* ---- names stay unique through the mount (DESIGN.md §2) ---- */

struct name_probe {
	const char *file;   /* the bare file name asked for */
	const char *except; /* the object being renamed, or NULL */
	bool held;
};

static int probe_name(void *arg, const struct tg_object *o, const char *name)
{
	struct name_probe *p = arg;
	char enc[TGFS_NAME_MAX + 1];

	(void)name;
	if (p->except && strcmp(o->id, p->except) == 0)
		return 0;
	/* Its name as a file name, without the "~<short id>" duplicates
	 * get: several objects sharing the name are caught too. */
	tgfs_entry_name(o->name, o->id, false, enc);
	if (strcmp(enc, p->file) != 0)
		return 0;
	p->held = true;
	return 1;
}

/*
 * 0 when no object in the kind folder @kdir (a KINDDIR node), other than
 * @except_id, is named @raw (a raw name) and no draft holds it there;
 * -EEXIST when one or several do (shown as "<name>~<short id>"); -errno
 * of the read that tells.  The name was looked up by the kernel before a
 * mkdir, so that costs no request; a rename's new name may cost one.
 */
static int name_free(struct tgfs *fs, const struct node *kdir,
		     const char *raw, const char *except_id)
{
	const struct tg_kind *k = kdir->kind;
	char file[TGFS_NAME_MAX + 1];
	struct name_probe p = { file, except_id, false };
	struct tg_cache_ref *ref = NULL;
	const struct coll *c;
	struct tg_object copy;
	int rc;

	tgfs_entry_name(raw, "", false, file);
	if (!k->parent && k->draft &&
	    draft_get(fs->drafts, k, file, -1, NULL, &copy)) {
		tg_object_release(&copy);
		return -EEXIST;
	}
	if (kdir->ref && k->parent_conn) {
		c = coll_of(kdir->ref, k);
	} else {
		rc = coll_for_name(fs, k, file, &ref);
		if (rc)
			return rc;
		c = coll_of(ref, k);
	}
	if (c)
		coll_each(c, k->parent ? kdir->parent_id : NULL, probe_name,
			  &p);
	tg_cache_put(ref);
	return p.held ? -EEXIST : 0;
}

/* As name_free, for the kind folder holding the object folder @objdir. */
static int name_free_at(struct tgfs *fs, const char *objdir, const char *raw,
			const char *except_id)
{
	char kdir[4096];
	struct node n;
	int rc;

	dirname_of(objdir, kdir, sizeof(kdir));
	rc = node_resolve(fs, kdir[0] ? kdir : "/", &n);
	if (rc)
		return rc;
	rc = n.type == NODE_KINDDIR ? name_free(fs, &n, raw, except_id) : 0;
	node_release(&n);
	return rc;
}

/* Whether field @f of @k is the one its folders are named by. */
static bool names_folder(const struct tg_kind *k, const struct tg_field *f)
{
	return f->path && k->name_path && strcmp(f->path, k->name_path) == 0;
}

/* A new name (@json, a JSON string as tg_value_parse makes it) for the
 * object in folder @objdir: -EEXIST when another object there has it,
 * recorded in the errors log. */
static int rename_allowed(struct tgfs *fs, const char *path,
			  const char *objdir, const struct tg_object *obj,
			  const char *json)
{
	cJSON *v = cJSON_Parse(json);
	int rc = 0;

	if (cJSON_IsString(v) && v->valuestring)
		rc = name_free_at(fs, objdir, v->valuestring, obj->id);
	cJSON_Delete(v);
	if (rc == -EEXIST)
		tgfs_record_error(fs, path, rc,
				  "that name is already held in this folder");
	return rc;
}

int commit_field(struct tgfs *fs, const char *path, const char *text,
		 size_t len)
{
	struct tg_result res = { 0 };
	enum tg_err err = TG_OK;
	char dir[4096], *json = NULL, *cur = NULL, **values = NULL;
	size_t *changed = NULL, n = 0;
	struct node node;
	int rc;

	if (fs->cfg->read_only)
		return -EROFS;
	rc = node_resolve(fs, path, &node);
	if (rc)
		return rc == -ENOENT ? -ESTALE : rc;
	dirname_of(path, dir, sizeof(dir));
	if (node.draft) {
		rc = node.type != NODE_FIELD
			     ? -EACCES
			     : draft_set_field(fs->drafts, node.kind,
					       node.draft_file, node.field,
					       text, len);
		if (rc == -EINVAL)
			tgfs_record_error(fs, node.draft_file, rc,
					  "not a value this file takes");
		if (!rc)
			rc = draft_changed(fs, path, &node);
		goto out;
	}
	if (node.type == NODE_JSON) {
		err = tg_json_diff(node.obj, text, len, &changed, &values, &n);
		for (size_t i = 0; err == TG_OK && i < n; i++)
			if (names_folder(node.kind,
					 &node.kind->fields[changed[i]]) &&
			    (rc = rename_allowed(fs, path, dir, node.obj,
						 values[i])))
				goto out;
		if (err == TG_OK && n)
			err = tg_api_update(fs->api, node.obj, changed, values,
					    n, &res);
	} else if (node.type == NODE_FIELD) {
		const struct tg_field *f = &node.kind->fields[node.field];
		struct tg_vars vars = { .id = node.obj->id };
		const struct tg_op *op;
		const char *now;

		if (!f->writable || (!f->set && !f->ntrans)) {
			rc = -EACCES;
			goto out;
		}
		/* A value is rendered from the object's node: no memory for
		 * that is an error, not an empty value. */
		now = tg_field_secret(f)
			      ? ""
			      : tg_object_value(node.obj, node.field,
						&node.shown);
		if (!now) {
			err = TG_ENOMEM;
			goto done;
		}
		if (!tg_field_secret(f)) {
			err = tg_value_parse(f, text, len, &json);
			if (err != TG_OK)
				goto done;
			/* What the tenant holds already: nothing to send. */
			if (tg_value_parse(f, now, strlen(now), &cur) ==
				    TG_OK &&
			    strcmp(cur, json) == 0)
				goto out;
			if (names_folder(node.kind, f) &&
			    (rc = rename_allowed(fs, path, dir, node.obj,
						 json)))
				goto out;
		}
		op = tg_field_op(f, now, json);
		if (!op) {
			err = TG_EINVAL;
			goto done;
		}
		vars.v_json = json;
		vars.idempotent = tg_field_idempotent(f);
		err = tg_api_mutate(fs->api, op, &vars, &res);
		if (err == TG_OK && res.secret) {
			secret_put(fs, node.obj->id, f->file, res.secret);
			res.secret = NULL;
		}
	} else {
		rc = -EISDIR;
		goto out;
	}
done:
	if (err != TG_OK) {
		rc = failed(fs, path, err);
		goto out;
	}
	take_result(fs, &res, NULL);
	inval_object(fs, dir, node.kind);
out:
	tg_result_release(&res);
	for (size_t i = 0; i < n; i++)
		free(values[i]);
	free(values);
	free(changed);
	free(json);
	free(cur);
	node_release(&node);
	return rc;
}

/* Splits @path into its folder (resolved) and last component. */
static int resolve_parent(struct tgfs *fs, const char *path, struct node *n,
			  char *name, size_t namesz)
{
	char dir[4096];
	const char *base = strrchr(path, '/');

	if (!base || strlen(base + 1) >= namesz)
		return -ENAMETOOLONG;
	snprintf(name, namesz, "%s", base + 1);
	dirname_of(path, dir, sizeof(dir));
	return node_resolve(fs, dir[0] ? dir : "/", n);
}

/*
 * mkdir in a folder of links whose other side takes drafts
 * (networks/N/resources/R): a draft with its link to N set.  The name must
 * not be taken in the kind's own folder, where the draft shows too.
 */
static int make_draft_in(struct tgfs *fs, const struct node *parent,
			 const char *name)
{
	const struct tg_rel *r = &parent->kind->rels[parent->rel_index];
	const struct tg_kind *tk = tg_kind_by_dir(NULL, r->target);
	int inv = tk && !r->path ? tg_rel_index(tk, r->inverse) : -1;
	char raw[4 * TGFS_NAME_MAX], top[TGFS_NAME_MAX + 128];
	struct node other;
	int rc;

	if (inv < 0 || !tk->draft || tk->parent)
		return -EPERM;
	if (fs->cfg->read_only)
		return -EROFS;
	if (tgfs_name_decode(name, raw, sizeof(raw)) < 0 || !raw[0])
		return -EINVAL;
	snprintf(top, sizeof(top), "/%s", tk->dir);
	rc = node_resolve(fs, top, &other);
	if (rc)
		return rc;
	rc = name_free(fs, &other, raw, NULL);
	node_release(&other);
	if (rc) {
		if (rc == -EEXIST)
			tgfs_record_error(fs, top, rc,
					  "that name is already held in this"
					  " folder");
		return rc;
	}
	snprintf(top, sizeof(top), "/%s/%s", tk->dir, name);
	rc = draft_new(fs->drafts, tk, name, raw, inv, parent->obj->id);
	if (!rc) {
		/* Listed in its kind's folder and its target's. */
		tgfs_folders_changed(fs);
		inval_path(fs, top);
	}
	return rc;
}

int tgfs_make_object(struct tgfs *fs, const char *path)
{
	struct tg_result res = { 0 };
	struct tg_vars vars = { 0 };
	char name[TGFS_NAME_MAX + 1], raw[4 * TGFS_NAME_MAX];
	struct node parent;
	const struct tg_kind *k;
	enum tg_err err;
	int rc;

	rc = resolve_parent(fs, path, &parent, name, sizeof(name));
	if (rc)
		return rc;
	if (parent.type == NODE_RELDIR && parent.rel_index >= 0) {
		rc = make_draft_in(fs, &parent, name);
		goto out;
	}
	if (parent.type != NODE_KINDDIR) {
		rc = -EPERM;
		goto out;
	}
	k = parent.kind;
	if (!k->create && !(k->draft && !k->parent)) {
		rc = -EPERM;
		goto out;
	}
	if (fs->cfg->read_only) {
		rc = -EROFS;
		goto out;
	}
	if (tgfs_name_decode(name, raw, sizeof(raw)) < 0 || !raw[0]) {
		rc = -EINVAL;
		goto out;
	}
	/* Names stay unique: one object or several (<name>~<id>) holding
	 * it already, or a draft, and nothing is sent. */
	rc = name_free(fs, &parent, raw, NULL);
	if (rc) {
		if (rc == -EEXIST)
			tgfs_record_error(fs, path, rc,
					  "that name is already held in this"
					  " folder");
		goto out;
	}
	if (!k->create) {
		/* Only in this mount until it has what its create needs. */
		rc = draft_new(fs->drafts, k, name, raw, -1, NULL);
		if (!rc)
			tgfs_folders_changed(fs);
		goto out;
	}
	vars.name = raw;
	vars.parent = k->parent ? parent.parent_id : NULL;
	err = tg_api_mutate(fs->api, k->create, &vars, &res);
	if (tgfs_outcome_unknown(err) && k->list_field &&
	    tg_api_find_lost_create(fs->api, k, raw, vars.parent,
				    fs->cfg->api.timeout_s, &res.entity)) {
		tg_log(TG_LOG_WARN, "%s: created, though its answer was lost",
		       path);
		err = TG_OK;
	}
	if (err != TG_OK) {
		rc = failed(fs, path, err);
		if (tgfs_outcome_unknown(err)) {
			/* It may still appear: the next look asks the API,
			 * so a second mkdir says EEXIST rather than make
			 * another. */
			cache_expire(fs, k);
			inval_path(fs, path);
		}
		goto out;
	}
	if (res.secret && res.entity.kind) {
		const struct tg_field *f = NULL;

		for (size_t i = 0; i < k->nfields; i++)
			if (tg_field_secret(&k->fields[i]))
				f = &k->fields[i];
		if (f) {
			secret_put(fs, res.entity.id, f->file, res.secret);
			res.secret = NULL;
		}
	}
	if (res.entity.kind && !res.entity.parent_id && vars.parent)
		res.entity.parent_id = strdup(vars.parent);
	take_result(fs, &res, k);
	inval_path(fs, path);
out:
	tg_result_release(&res);
	node_release(&parent);
	return rc;
}

int tgfs_remove_object(struct tgfs *fs, const char *path)
{
	struct tg_result res = { 0 };
	struct node n;
	enum tg_err err = TG_OK;
	int rc;

	rc = node_resolve(fs, path, &n);
	if (rc)
		return rc;
	if (n.type != NODE_OBJECT) {
		rc = n.type == NODE_FIELD || n.type == NODE_JSON ? -ENOTDIR
								 : -EPERM;
		goto out;
	}
	if (n.draft) {
		/* Never sent: it goes as it came. */
		rc = draft_remove(fs->drafts, n.kind, n.draft_file);
		if (!rc)
			tgfs_folders_changed(fs);
		inval_path(fs, path);
		goto out;
	}
	if (!n.kind->remove) {
		rc = -EPERM;
		goto out;
	}
	if (fs->cfg->read_only) {
		rc = -EROFS;
		goto out;
	}
	{
		struct tg_vars vars = { .id = n.obj->id };
		const struct tg_op *pre = n.kind->pre_delete;
		int wf = pre ? tg_field_index(n.kind, pre->when_file) : -1;
		char *shown = NULL;
		const char *now = wf < 0 ? NULL
				       : tg_object_value(n.obj, (size_t)wf,
							 &shown);

		/* Nothing is sent when the value deciding the first
		 * mutation cannot be rendered. */
		if (wf >= 0 && !now)
			err = TG_ENOMEM;
		else if (pre && (wf < 0 || !strcmp(now, pre->when_value))) {
			err = tg_api_mutate(fs->api, pre, &vars, &res);
			tg_result_release(&res);
		}
		free(shown);
		if (err == TG_OK)
			err = tg_api_mutate(fs->api, n.kind->remove, &vars,
					    &res);
	}
	if (err != TG_OK) {
		rc = failed(fs, path, err);
		if (tgfs_outcome_unknown(err)) {
			const struct tg_kind *k = n.kind;

			node_release(&n);
			cache_expire(fs, k);
			inval_path(fs, path);
		}
		goto out;
	}
	{
		char *id = strdup(n.obj->id);
		const struct tg_kind *k = n.kind;

		node_release(&n);
		if (id)
			cache_apply(fs, k, NULL, id);
		free(id);
	}
	inval_path(fs, path);
out:
	tg_result_release(&res);
	node_release(&n);
	return rc;
}

int tgfs_rename_object(struct tgfs *fs, const char *from, const char *to)
{
	char fdir[4096], tdir[4096], raw[4 * TGFS_NAME_MAX + 2];
	const char *base = strrchr(to, '/');
	struct node n;
	int rc, name;

	dirname_of(from, fdir, sizeof(fdir));
	dirname_of(to, tdir, sizeof(tdir));
	if (strcmp(fdir, tdir) != 0)
		return -EPERM; /* an object stays in its folder */
	rc = node_resolve(fs, to, &n);
	if (rc == 0) {
		node_release(&n);
		tgfs_record_error(fs, to, -EEXIST,
				  "that name is already held in this folder");
		return -EEXIST;
	}
	rc = node_resolve(fs, from, &n);
	if (rc)
		return rc;
	/* A draft keeps the name it was made with (rmdir and mkdir it). */
	name = n.type == NODE_OBJECT && !n.draft
		       ? tg_field_index(n.kind, "name")
		       : -1;
	node_release(&n);
	if (name < 0)
		return -EPERM;
	if (tgfs_name_decode(base + 1, raw, sizeof(raw) - 1) < 0)
		return -EINVAL;
	strcat(raw, "\n");
	{
		char fpath[4096 + 16];

		snprintf(fpath, sizeof(fpath), "%s/name", from);
		return commit_field(fs, fpath, raw, strlen(raw));
	}
}

/* The object named @name in top folder @dir: its id copied to @id. */
static int find_target(struct tgfs *fs, const char *dir, const char *name,
		       char *id, size_t idsz)
{
	/* As a lookup finds it: from the cached list, else by its name
	 * alone (one object, where the list is pages). */
	char path[TGFS_NAME_MAX * 2 + 8];
	struct node n;
	int rc;

	if (!tg_kind_by_dir(NULL, dir) || strchr(name, '/') ||
	    snprintf(path, sizeof(path), "/%s/%s", dir, name) >=
		    (int)sizeof(path))
		return -ENOENT;
	rc = node_resolve(fs, path, &n);
	if (rc)
		return rc;
	if (n.type != NODE_OBJECT || n.draft)
		rc = -ENOENT;
	else
		snprintf(id, idsz, "%s", n.obj->id);
	node_release(&n);
	return rc;
}

/* Sends rel op @op of @obj against target @tid, and takes its result. */
static int rel_change(struct tgfs *fs, const char *path, struct node *n,
		      const struct tg_rel *r, const struct tg_op *op,
		      const char *tid)
{
	/* Adding a link that is there, or removing one that is not,
	 * changes nothing: safe to send again. */
	struct tg_vars vars = { .id = n->obj->id, .t = tid,
				.idempotent = true };
	const struct tg_kind *holder =
		r->path ? n->kind : tg_kind_by_dir(NULL, r->target);
	struct tg_result res = { 0 };
	char dir[4096];
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
			rc = draft_changed(fs, path, n);
		}
		dirname_of(path, dir, sizeof(dir));
		inval_path(fs, dir);
		inval_path(fs, path);
		return rc;
	}
	if (!op)
		return -EPERM;
	if (fs->cfg->read_only)
		return -EROFS;
	err = tg_api_mutate(fs->api, op, &vars, &res);
	if (err != TG_OK)
		return failed(fs, path, err);
	/* The forward side holds the data: what the payload says of it, or
	 * for a one-link (a group's policy) moved by the other side's
	 * mutation, the link set here; anything else is read again. */
	fwd = r->path ? -1 : tg_rel_index(holder, r->inverse);
	if (res.entity.kind == holder)
		take_result(fs, &res, holder);
	else if (op == r->add && fwd >= 0 && !holder->rels[fwd].many)
		cache_set_link(fs, holder, tid, (size_t)fwd, n->obj->id,
			       n->obj->name);
	else
		cache_apply(fs, holder, NULL, NULL);
	tg_result_release(&res);
	dirname_of(path, dir, sizeof(dir));
	inval_path(fs, dir);
	inval_path(fs, path);
	return 0;
}

int tgfs_link_add(struct tgfs *fs, const char *target, const char *path)
{
	char name[TGFS_NAME_MAX + 1], tid[256];
	const char *tbase = strrchr(target, '/');
	const struct tg_rel *r;
	struct node n;
	int rc, ri = -1;

	rc = resolve_parent(fs, path, &n, name, sizeof(name));
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
	if (ri < 0) {
		rc = -ENOTSUP; /* not a relation: the caller makes scratch */
		goto out;
	}
	r = &n.kind->rels[ri];
	if (strcmp(tbase, name) != 0) {
		rc = -EINVAL; /* a link is named as what it points to */
		goto out;
	}
	rc = find_target(fs, r->target, name, tid, sizeof(tid));
	if (rc)
		goto out;
	rc = rel_change(fs, path, &n, r, r->add, tid);
out:
	node_release(&n);
	return rc;
}

int tgfs_link_remove(struct tgfs *fs, const char *path)
{
	const char *base = strrchr(path, '/') + 1;
	const struct tg_rel *r;
	char tid[256] = "";
	struct node n;
	int rc;

	rc = node_resolve(fs, path, &n);
	if (rc)
		return rc;
	if (n.type != NODE_LINK) {
		rc = -ENOTSUP;
		goto out;
	}
	r = &n.kind->rels[n.rel_index];
	if (r->many) {
		rc = find_target(fs, r->target, base, tid, sizeof(tid));
		if (rc)
			goto out;
	}
	rc = rel_change(fs, path, &n, r, r->remove, r->many ? tid : NULL);
out:
	node_release(&n);
	return rc;
}
