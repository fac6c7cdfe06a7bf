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
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "coll.h"
#include "draft.h"
#include "inval.h"
#include "node.h"
#include "removals.h"
#include "secret.h"
#include "versions.h"
#include "write.h"

/* ---- committing ---- */

/* The folder part of @path into @dir. */
void wr_dirname_of(const char *path, char *dir, size_t dirsz)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;

	snprintf(dir, dirsz, "%.*s", (int)n, path);
}

/* The kernel forgets the object folder @dir and every file in it. */
void wr_inval_object(struct tgfs *fs, const char *dir,
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
void wr_take_result(struct tgfs *fs, struct tg_result *r,
			const struct tg_kind *holder)
{
	if (r->entity.kind)
		cache_apply(fs, r->entity.kind, &r->entity, NULL);
	else if (holder)
		cache_apply(fs, holder, NULL, NULL);
}

/* Logs and records a failed change; returns -errno. */
int wr_failed(struct tgfs *fs, const char *path, enum tg_err err)
{
	int rc = -tgfs_errno(err);
	const char *msg = tg_api_last_message();

	tgfs_record_error(fs, path, rc, *msg ? msg : tg_err_str(err));
	return rc;
}


/* Sends the create of a complete draft (draft_create's @send). */
int wr_send_create(void *arg, const struct tg_kind *k,
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
int wr_draft_changed(struct tgfs *fs, const char *path,
			 const struct node *n)
{
	struct tg_result res = { 0 };
	struct send_arg sa = { fs, n->draft_file, &res };
	char dir[4096], top[4096 + TGFS_NAME_MAX + 2];
	bool sent;
	int rc;

	rc = draft_create(fs->drafts, n->kind, n->draft_file, wr_send_create,
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
	wr_take_result(fs, &res, n->kind);
	tg_result_release(&res);
	/* Where it was written, and where it now lives. */
	wr_dirname_of(path, dir, sizeof(dir));
	wr_inval_object(fs, dir, n->kind);
	inval_path(fs, path);
	snprintf(top, sizeof(top), "/%s/%s", n->kind->dir, n->draft_file);
	inval_path(fs, top);
	wr_dirname_of(dir, top, sizeof(top));
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
int wr_name_free(struct tgfs *fs, const struct node *kdir,
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

/* As wr_name_free, for the kind folder holding the object folder @objdir. */
int wr_name_free_at(struct tgfs *fs, const char *objdir, const char *raw,
			const char *except_id)
{
	char kdir[4096];
	struct node n;
	int rc;

	wr_dirname_of(objdir, kdir, sizeof(kdir));
	rc = node_resolve(fs, kdir[0] ? kdir : "/", &n);
	if (rc)
		return rc;
	rc = n.type == NODE_KINDDIR ? wr_name_free(fs, &n, raw, except_id) : 0;
	node_release(&n);
	return rc;
}

/* Whether field @f of @k is the one its folders are named by. */
bool wr_names_folder(const struct tg_kind *k, const struct tg_field *f)
{
	return f->path && k->name_path && strcmp(f->path, k->name_path) == 0;
}

/* A new name (@json, a JSON string as tg_value_parse makes it) for the
 * object in folder @objdir: -EEXIST when another object there has it,
 * recorded in the errors log. */
int wr_rename_allowed(struct tgfs *fs, const char *path,
			  const char *objdir, const struct tg_object *obj,
			  const char *json)
{
	cJSON *v = cJSON_Parse(json);
	int rc = 0;

	if (cJSON_IsString(v) && v->valuestring)
		rc = wr_name_free_at(fs, objdir, v->valuestring, obj->id);
	cJSON_Delete(v);
	if (rc == -EEXIST)
		tgfs_record_error(fs, path, rc,
				  "that name is already held in this folder");
	return rc;
}

/* ---- object.json from an older version (DESIGN.md §3) ---- */

/* The value of field @i of @obj as a write of its file would send it;
 * NULL when it cannot be had.  The caller frees it. */
static char *field_json(const struct tg_object *obj, size_t i)
{
	char *shown = NULL, *json = NULL;
	const char *v = tg_object_value(obj, i, &shown);

	if (!v || tg_value_parse(&obj->kind->fields[i], v, strlen(v),
				 &json) != TG_OK)
		json = NULL;
	free(shown);
	return json;
}

/* The item at dotted @path ("address.value") of @node, or NULL. */
static const cJSON *json_path(const cJSON *node, const char *path)
{
	char key[128];

	while (node && *path) {
		size_t n = strcspn(path, ".");

		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		node = cJSON_GetObjectItemCaseSensitive(node, key);
		path += n + (path[n] == '.');
	}
	return node;
}

/* The node @obj shows in object.json, parsed; NULL when it cannot be. */
static cJSON *object_tree(const struct tg_object *obj)
{
	char *buf = NULL;
	const char *text = tg_object_json(obj, &buf);
	cJSON *node = text ? cJSON_Parse(text) : NULL;

	free(buf);
	return node;
}

static void drop_values(char **values, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(values[i]);
}

/*
 * The changes an object.json write (@text, @len bytes) asks of @cur, by
 * the version it was made from (DESIGN.md §3):
 * - it shows the tenant's updatedAt (or the kind has none and it is not a
 *   copy of an older version this mount showed): what differs from the
 *   tenant, as always;
 * - it shows an older updatedAt (a backup): only what the writer changed
 *   from that version, which this mount saw (a backup read it, or a
 *   change was made from it): a field the tenant changed since is kept,
 *   unless the writer changed it too, to another value: -EAGAIN, nothing
 *   sent;
 * - an older version this mount never saw: its values cannot be told
 *   from changes made since: accepted with nothing to send when its
 *   writable fields hold the tenant's values, else -EAGAIN.
 * Fills *changed, *values and *n as tg_json_diff does (the caller frees
 * them); *err is tg_json_diff's error.  Returns 0 or -EAGAIN (recorded).
 */
static int versioned_diff(struct tgfs *fs, const char *path,
			  const struct tg_object *cur, const char *text,
			  size_t len, size_t **changed, char ***values,
			  size_t *n, enum tg_err *err)
{
	const struct tg_kind *k = cur->kind;
	cJSON *w = cJSON_ParseWithLength(text, len), *now = NULL;
	const cJSON *wid = cJSON_GetObjectItemCaseSensitive(w, "id");
	const cJSON *ws = k->mtime_path
				  ? cJSON_GetObjectItemCaseSensitive(
					    w, k->mtime_path)
				  : NULL;
	const cJSON *cs;
	const char *id = cJSON_IsString(wid) ? wid->valuestring : cur->id;
	struct tg_object base = { 0 };
	char msg[512];
	int rc = 0;

	*err = TG_OK;
	now = object_tree(cur);
	cs = k->mtime_path ? cJSON_GetObjectItemCaseSensitive(now,
							       k->mtime_path)
			   : NULL;
	if (!cJSON_IsObject(w) || !now)
		goto plain;
	{
		/* A byte copy of a version shown before (a backup's, even
		 * where updatedAt did not move: a service account whose key
		 * was renamed) carries no edit of its own. */
		uint64_t h = fnv_add(FNV_INIT, text, len);

		if (h != cur->hash &&
		    versions_find(fs->versions, id, NULL, h, &base))
			goto merge;
	}
	if (k->mtime_path) {
		if (!cJSON_IsString(ws) ||
		    (cJSON_IsString(cs) &&
		     strcmp(ws->valuestring, cs->valuestring) == 0 &&
		     strcmp(id, cur->id) == 0))
			goto plain;
		if (!versions_find(fs->versions, id, ws->valuestring, 0,
				   &base))
			/* Another object's id: a read-only key changed. */
			goto unknown_or_plain;
	} else {
		/* No updatedAt: an older version is known by its bytes
		 * only (above). */
		goto plain;
	}
merge:
	/* What the writer changed from the version it had. */
	*err = tg_json_diff(&base, text, len, changed, values, n);
	if (*err != TG_OK)
		goto out;
	for (size_t i = 0; i < *n;) {
		size_t f = (*changed)[i];
		char *c = field_json(cur, f), *b = field_json(&base, f);
		bool same = c && strcmp(c, (*values)[i]) == 0;
		bool moved = !c || !b || strcmp(c, b) != 0;

		free(c);
		free(b);
		if (same) {
			/* The tenant holds it already. */
			free((*values)[i]);
			memmove(&(*changed)[i], &(*changed)[i + 1],
				(*n - i - 1) * sizeof(**changed));
			memmove(&(*values)[i], &(*values)[i + 1],
				(*n - i - 1) * sizeof(**values));
			(*n)--;
			continue;
		}
		if (moved) {
			snprintf(msg, sizeof(msg),
				 "object.json of updatedAt %s changes %s, "
				 "which was changed since (the object's "
				 "updatedAt is %s): nothing sent; read "
				 "object.json again and edit that",
				 cJSON_IsString(ws) ? ws->valuestring : "?",
				 k->fields[f].file,
				 cJSON_IsString(cs) ? cs->valuestring : "?");
			rc = -EAGAIN;
			goto refuse;
		}
		i++;
	}
	goto out;
unknown_or_plain:
	if (strcmp(id, cur->id) != 0)
		goto plain;
	/* Never seen here: no field may differ from the tenant's. */
	for (size_t i = 0; i < k->nfields; i++) {
		const struct tg_field *f = &k->fields[i];
		const cJSON *a, *b;

		if (!f->path || !f->writable)
			continue;
		a = json_path(w, f->path);
		b = json_path(now, f->path);
		if (!a || cJSON_Compare(a, b, true))
			continue;
		snprintf(msg, sizeof(msg),
			 "object.json of updatedAt %s, older than the "
			 "object's (%s), which this mount has not seen: its "
			 "%s cannot be told from a change made since; nothing "
			 "sent; write the field file, or edit the current "
			 "object.json",
			 ws->valuestring,
			 cJSON_IsString(cs) ? cs->valuestring : "?", f->file);
		rc = -EAGAIN;
		goto refuse;
	}
	*changed = calloc(1, sizeof(**changed));
	*values = calloc(1, sizeof(**values));
	if (!*changed || !*values)
		*err = TG_ENOMEM;
	goto out;
refuse:
	tgfs_record_error(fs, path, rc, msg);
	if (*values)
		drop_values(*values, *n);
	*n = 0;
	goto out;
plain:
	*err = tg_json_diff(cur, text, len, changed, values, n);
out:
	if (base.kind)
		tg_object_release(&base);
	cJSON_Delete(w);
	cJSON_Delete(now);
	return rc;
}


int commit_field(struct tgfs *fs, const char *path, const char *text,
		 size_t len)
{
	return commit_field_from(fs, path, text, len, 0);
}

/*
 * A read-only field put in place: accepted with no request when it holds
 * the bytes it shows, or (renamed into place with the mtime of an older
 * version of the object, as rsync does) that version's bytes: a restore
 * copies created-at, id and updated-at back.  Else -EACCES, recorded.
 */
static int read_only_copy(struct tgfs *fs, const char *path,
			  const struct node *node, const char *text,
			  size_t len, int64_t mtime)
{
	struct tg_object base = { 0 };
	char *shown = NULL;
	const char *v = tg_field_secret(&node->kind->fields[node->field])
				? NULL
				: tg_object_value(node->obj, node->field,
						  &shown);
	bool same = v && strlen(v) == len && memcmp(v, text, len) == 0;

	free(shown);
	shown = NULL;
	if (!same && mtime && v &&
	    versions_find_at(fs->versions, node->obj->id, mtime, &base)) {
		v = tg_object_value(&base, node->field, &shown);
		same = v && strlen(v) == len && memcmp(v, text, len) == 0;
		free(shown);
		tg_object_release(&base);
	}
	/* In an object a restore created anew: the backup's, of the
	 * object deleted since (draft_anew). */
	if (same || draft_is_anew(fs->drafts, node->obj->id))
		return 0;
	tgfs_record_error(fs, path, -EACCES,
			  "a read-only file: the API sets it");
	return -EACCES;
}

/*
 * A field file put in place with the mtime of an older version of its
 * object (rsync sets the backup's mtime before it renames the file into
 * place): -EALREADY when the value is that version's (the writer did not
 * change it: a change made since is not undone); -EAGAIN (recorded) when
 * the writer changed it and so did someone since, to another value; 0 to
 * send it.
 */
static int field_version(struct tgfs *fs, const char *path,
			 const struct node *node, const char *json,
			 int64_t mtime)
{
	struct tg_object base = { 0 };
	char *b, *c;
	int rc = 0;

	if (!mtime || !node->kind->mtime_path || mtime == node->obj->mtime ||
	    !versions_find_at(fs->versions, node->obj->id, mtime, &base))
		return 0;
	b = field_json(&base, node->field);
	c = field_json(node->obj, node->field);
	if (b && strcmp(b, json) == 0)
		rc = -EALREADY;
	else if (!b || !c || strcmp(b, c) != 0)
		rc = -EAGAIN;
	if (rc == -EAGAIN)
		tgfs_record_error(fs, path, rc,
				  "this file is of an older version of its"
				  " object, and its value was changed since:"
				  " nothing sent; read it again and write that");
	free(b);
	free(c);
	tg_object_release(&base);
	return rc;
}

/* Whether @n at @path is in an object just made by mkdir (cp -r A B,
 * nameops.c) and is what the API sets for the new object itself: its
 * id, times, type, name (its folder's) and object.json, which a copy of
 * A's files writes and which the clone keeps as they are. */
static bool clone_keeps_own(struct tgfs *fs, const char *path,
			    const struct node *n)
{
	const struct tg_field *f =
		n->type == NODE_FIELD ? &n->kind->fields[n->field] : NULL;

	if (n->draft || !removals_is_copy(fs->removals, path))
		return false;
	return n->type == NODE_JSON ||
	       (f && (!f->writable || wr_names_folder(n->kind, f)));
}

/* After a mutation that uses its object up (a request decided): the
 * object leaves its folder @dir, and the kind it changed too is read
 * again at its next use.  Releases @node. */
static void consumed(struct tgfs *fs, struct node *node,
		     const struct tg_op *op, const char *dir)
{
	const struct tg_kind *k = node->kind;
	const struct tg_kind *other = op->touches ? tg_kind_named(op->touches)
						  : NULL;
	char *id = strdup(node->obj->id), parent[4096];
	/* A nested kind's folder is its parent object's (a service
	 * account's keys): known by that object's id. */
	struct node up = { .type = NODE_KINDDIR, .kind = k, .rel_index = -1 };
	char *pid = k->parent && node->obj->parent_id
			    ? strdup(node->obj->parent_id)
			    : NULL;

	node_release(node);
	/* Which of its objects changed the API does not say: all of them
	 * are read again at their next use (kept meanwhile, for a read the
	 * API cannot answer). */
	if (other)
		cache_expire(fs, other);
	if (id)
		cache_apply(fs, k, NULL, id);
	else
		cache_apply(fs, k, NULL, NULL);
	/* Its folders and their files went with its id (cache_apply). */
	if (!id)
		wr_inval_object(fs, dir, k);
	free(id);
	/* The folder it leaves: a top kind's has no id, and no other name
	 * than its path. */
	if (pid)
		inval_keyed(fs, pid, node_key_of(&up), INVAL_SELF, NULL);
	else {
		wr_dirname_of(dir, parent, sizeof(parent));
		inval_path(fs, parent);
	}
	free(pid);
}

int commit_field_from(struct tgfs *fs, const char *path, const char *text,
		      size_t len, int64_t mtime)
{
	struct node node;
	int rc;

	if (fs->cfg->read_only)
		return -EROFS;
	rc = node_resolve(fs, path, &node);
	if (rc)
		return rc == -ENOENT ? -ESTALE : rc;
	return commit_node(fs, path, &node, text, len, mtime);
}

int commit_node(struct tgfs *fs, const char *path, struct node *np,
		const char *text, size_t len, int64_t mtime)
{
	struct tg_result res = { 0 };
	enum tg_err err = TG_OK;
	char dir[4096], *json = NULL, *cur = NULL, **values = NULL;
	size_t *changed = NULL, n = 0;
	const char *local = NULL; /* a refusal of ours: what to record */
	const struct tg_op *sent = NULL; /* a field's mutation */
	struct node *node = np; /* ours: released on the way out */
	int rc = 0;

	if (fs->cfg->read_only) {
		node_release(node);
		return -EROFS;
	}
	wr_dirname_of(path, dir, sizeof(dir));
	if (node->draft && draft_is_pending(node->obj)) {
		rc = wr_pending_commit(fs, path, node, text, len);
		goto out;
	}
	if (node->draft) {
		rc = node->type != NODE_FIELD
			     ? -EACCES
			     : draft_set_field(fs->drafts, node->kind,
					       node->draft_file, node->field,
					       text, len);
		if (rc == -EINVAL)
			tgfs_record_error(fs, node->draft_file, rc,
					  "not a value this file takes");
		if (!rc)
			rc = wr_draft_changed(fs, path, node);
		goto out;
	}
	if (clone_keeps_own(fs, path, node)) {
		rc = 0; /* cp -r into a new object: B keeps its own */
		goto out;
	}
	if (node->type == NODE_EDGEFIELD) {
		rc = edge_commit(fs, path, node, text, len);
		goto out;
	}
	if (node->type == NODE_JSON) {
		rc = versioned_diff(fs, path, node->obj, text, len, &changed,
				    &values, &n, &err);
		if (rc)
			goto out;
		/* Refused here: its own words, not the API's last ones. */
		if (err == TG_EPERM)
			local = "object.json changes a read-only field or key";
		else if (err == TG_EINVAL)
			local = "object.json is not one JSON object, or holds"
				" a value its field does not take";
		else if (err == TG_E2BIG)
			local = "object.json is too large";
		for (size_t i = 0; err == TG_OK && i < n; i++)
			if (wr_names_folder(node->kind,
					 &node->kind->fields[changed[i]]) &&
			    (rc = wr_rename_allowed(fs, path, dir, node->obj,
						 values[i])))
				goto out;
		if (err == TG_OK && n) {
			/* The version this change was made from. */
			versions_note(fs->versions, node->obj);
			err = tg_api_update(fs->api, node->obj, changed, values,
					    n, &res);
		}
	} else if (node->type == NODE_FIELD) {
		const struct tg_field *f = &node->kind->fields[node->field];
		struct tg_vars vars = { .id = node->obj->id,
					.obj = node->obj };
		const struct tg_op *op;
		const char *now;

		/* A value is rendered from the object's node: no memory for
		 * that is an error, not an empty value. */
		now = tg_field_secret(f)
			      ? ""
			      : tg_object_value(node->obj, node->field,
						&node->shown);
		if (!now) {
			err = TG_ENOMEM;
			goto done;
		}
		/* The bytes it holds (rsync rewrites a file whose time
		 * changed): nothing to send, read-only fields too, and a
		 * secret written back as the mount shows it (not "": a
		 * touch of it makes a new one, DESIGN.md §5). */
		{
			const char *shown = tg_field_secret(f)
						    ? node_text(fs, node)
						    : now;

			if ((len || !tg_field_secret(f)) &&
			    len == strlen(shown) &&
			    memcmp(text, shown, len) == 0)
				goto out;
		}
		/* A read-only file: its bytes of an older version this
		 * mount showed are taken too (rsync of a backup), anything
		 * else is refused. */
		if (!f->writable || (!f->set && !f->ntrans)) {
			rc = read_only_copy(fs, path, node, text, len, mtime);
			goto out;
		}
		if (!tg_field_secret(f)) {
			/* A refusal says why (the parser's words, through
			 * tg_api_last_message: wr_failed()). */
			err = tg_value_parse(f, text, len, &json);
			if (err != TG_OK)
				goto done;
			/* What the tenant holds already: nothing to send. */
			if (tg_value_parse(f, now, strlen(now), &cur) ==
				    TG_OK &&
			    strcmp(cur, json) == 0)
				goto out;
			/* A copy of an older version: what it did not
			 * change is not sent back. */
			rc = field_version(fs, path, node, json, mtime);
			if (rc == -EALREADY) {
				rc = 0;
				goto out;
			}
			if (rc)
				goto out;
			if (wr_names_folder(node->kind, f) &&
			    (rc = wr_rename_allowed(fs, path, dir, node->obj,
						 json)))
				goto out;
		}
		op = tg_field_op(f, now, json);
		if (!op) {
			err = TG_EINVAL;
			local = "no change of state leads from the value now"
				" to that one";
			goto done;
		}
		vars.v_json = json;
		vars.idempotent = tg_field_idempotent(f);
		if (!tg_field_secret(f))
			versions_note(fs->versions, node->obj);
		err = tg_api_mutate(fs->api, op, &vars, &res);
		sent = op;
		if (err == TG_OK && res.secret) {
			secret_put(fs, node->obj->id, f->file, res.secret);
			res.secret = NULL;
		}
	} else {
		rc = -EISDIR;
		goto out;
	}
done:
	if (err != TG_OK && (local || err == TG_ENOMEM)) {
		rc = -tgfs_errno(err);
		tgfs_record_error(fs, path, rc, local ? local : "out of memory");
		goto out;
	}
	if (err != TG_OK) {
		/* Sent, and its answer lost (a timeout, an interrupt): the
		 * change may have landed, so the next read asks the API. */
		if (tgfs_outcome_unknown(err))
			cache_expire(fs, node->kind);
		rc = wr_failed(fs, path, err);
		goto out;
	}
	if (sent && sent->consumes) {
		consumed(fs, node, sent, dir);
		goto out;
	}
	/* The store tells the kernel what changed (cache_apply); with no
	 * object in the answer, this does. */
	if (!res.entity.kind)
		inval_object(fs, node->obj->id, NULL);
	wr_take_result(fs, &res, NULL);
out:
	tg_result_release(&res);
	for (size_t i = 0; i < n; i++)
		free(values[i]);
	free(values);
	free(changed);
	free(json);
	free(cur);
	node_release(node);
	return rc;
}

