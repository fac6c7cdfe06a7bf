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

static int pending_commit(struct tgfs *fs, const char *path,
			  const struct node *n, const char *text, size_t len);

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
	if (same)
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

int commit_field_from(struct tgfs *fs, const char *path, const char *text,
		      size_t len, int64_t mtime)
{
	struct tg_result res = { 0 };
	enum tg_err err = TG_OK;
	char dir[4096], *json = NULL, *cur = NULL, **values = NULL;
	size_t *changed = NULL, n = 0;
	const char *local = NULL; /* a refusal of ours: what to record */
	struct node node;
	int rc;

	if (fs->cfg->read_only)
		return -EROFS;
	rc = node_resolve(fs, path, &node);
	if (rc)
		return rc == -ENOENT ? -ESTALE : rc;
	dirname_of(path, dir, sizeof(dir));
	if (node.draft && draft_is_pending(node.obj)) {
		rc = pending_commit(fs, path, &node, text, len);
		goto out;
	}
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
		rc = versioned_diff(fs, path, node.obj, text, len, &changed,
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
			if (names_folder(node.kind,
					 &node.kind->fields[changed[i]]) &&
			    (rc = rename_allowed(fs, path, dir, node.obj,
						 values[i])))
				goto out;
		if (err == TG_OK && n) {
			/* The version this change was made from. */
			versions_note(fs->versions, node.obj);
			err = tg_api_update(fs->api, node.obj, changed, values,
					    n, &res);
		}
	} else if (node.type == NODE_FIELD) {
		const struct tg_field *f = &node.kind->fields[node.field];
		struct tg_vars vars = { .id = node.obj->id };
		const struct tg_op *op;
		const char *now;

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
		/* The bytes it holds (rsync rewrites a file whose time
		 * changed): nothing to send, read-only fields too, and a
		 * secret written back as the mount shows it (not "": a
		 * touch of it makes a new one, DESIGN.md §5). */
		{
			const char *shown = tg_field_secret(f)
						    ? node_text(fs, &node)
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
			rc = read_only_copy(fs, path, &node, text, len, mtime);
			goto out;
		}
		if (!tg_field_secret(f)) {
			/* A refusal says why (the parser's words, through
			 * tg_api_last_message: failed()). */
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
			rc = field_version(fs, path, &node, json, mtime);
			if (rc == -EALREADY) {
				rc = 0;
				goto out;
			}
			if (rc)
				goto out;
			if (names_folder(node.kind, f) &&
			    (rc = rename_allowed(fs, path, dir, node.obj,
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
			versions_note(fs->versions, node.obj);
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
	if (err != TG_OK && (local || err == TG_ENOMEM)) {
		rc = -tgfs_errno(err);
		tgfs_record_error(fs, path, rc, local ? local : "out of memory");
		goto out;
	}
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

/* Sends the create of @k named @raw (with parent @parent_id for a nested
 * kind), for the folder @path, and takes the new object in. */
static int create_named(struct tgfs *fs, const char *path,
			const struct tg_kind *k, const char *raw,
			const char *parent_id)
{
	struct tg_result res = { 0 };
	struct tg_vars vars = { 0 };
	enum tg_err err;
	int rc = 0;

	vars.name = raw;
	vars.parent = k->parent ? parent_id : NULL;
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
	return rc;
}

/* Whether a mkdir of @k with @mode makes a restore folder: a top kind
 * created from a name alone, asked for with no group or other
 * permissions, as rsync and tar make the folders they fill. */
static bool restore_folder(const struct tg_kind *k, mode_t mode)
{
	return k->create && !k->parent && !k->draft && k->name_path &&
	       strcmp(k->name_path, "name") == 0 && (mode & 077) == 0;
}

int tgfs_make_object_as(struct tgfs *fs, const char *path, mode_t mode)
{
	char name[TGFS_NAME_MAX + 1], raw[4 * TGFS_NAME_MAX];
	struct node parent;
	const struct tg_kind *k;
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
		tgfs_record_error(fs, path, -EPERM,
				  "objects of this kind cannot be made here");
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
	if (!k->create || restore_folder(k, mode)) {
		/* Only in this mount until it has what its create needs,
		 * or (a restore folder) until its id says what it is. */
		rc = k->create ? draft_new_pending(fs->drafts, k, name, raw)
			       : draft_new(fs->drafts, k, name, raw, -1, NULL);
		if (!rc)
			tgfs_folders_changed(fs);
		goto out;
	}
	rc = create_named(fs, path, k, raw, parent.parent_id);
out:
	node_release(&parent);
	return rc;
}

int tgfs_make_object(struct tgfs *fs, const char *path)
{
	return tgfs_make_object_as(fs, path, 0755);
}

/* ---- restore folders (DESIGN.md §3, "Rewrites and restores") ---- */

/* Creates the object restore folder @n (a pending draft) stands for,
 * under its own name, and drops the folder. */
static int pending_create(struct tgfs *fs, const struct node *n)
{
	char path[TGFS_NAME_MAX + 128];
	int rc;

	snprintf(path, sizeof(path), "/%s/%s", n->kind->dir, n->draft_file);
	rc = create_named(fs, path, n->kind, n->obj->name, NULL);
	if (!rc) {
		draft_remove(fs->drafts, n->kind, n->draft_file);
		tgfs_folders_changed(fs);
		inval_path(fs, path);
	}
	return rc;
}

/*
 * A file written in restore folder @n at @path: an `id` naming an object
 * of the kind makes the folder that object (renamed to the folder's name
 * when it was renamed since: one update); an `id` naming none (the object
 * was deleted since) creates it anew under the folder's name, and so does
 * the first writable field or object.json, which is then written to it.
 * A read-only field before the id (created-at) is taken with no effect:
 * the object shows its own once it is there.
 */
static int pending_commit(struct tgfs *fs, const char *path,
			  const struct node *n, const char *text, size_t len)
{
	const struct tg_kind *k = n->kind;
	const struct tg_field *f =
		n->type == NODE_FIELD ? &k->fields[n->field] : NULL;
	char top[TGFS_NAME_MAX + 128];
	int rc;

	snprintf(top, sizeof(top), "/%s/%s", k->dir, n->draft_file);
	if (f && f->path && strcmp(f->path, "id") == 0) {
		struct tg_cache_ref *ref;
		const struct tg_object *o;
		const char *fname = NULL;
		char id[256], now[TGFS_NAME_MAX + 1] = "";
		size_t l = len;

		while (l && (text[l - 1] == '\n' || text[l - 1] == ' '))
			l--;
		snprintf(id, sizeof(id), "%.*s", (int)l, text);
		rc = coll_get_names(fs, k, &ref);
		if (rc)
			return rc;
		o = coll_by_id(coll_of(ref, k), id, &fname);
		if (o)
			snprintf(now, sizeof(now), "%s", fname);
		tg_cache_put(ref);
		if (!now[0])
			return pending_create(fs, n);
		/* That object: the folder is it, under the folder's name. */
		draft_remove(fs->drafts, k, n->draft_file);
		tgfs_folders_changed(fs);
		inval_path(fs, top);
		if (strcmp(now, n->draft_file) != 0) {
			char npath[2 * TGFS_NAME_MAX + 128];
			char *nl = NULL;

			snprintf(npath, sizeof(npath), "/%s/%s/name", k->dir,
				 now);
			if (asprintf(&nl, "%s\n", n->obj->name) < 0)
				return -ENOMEM;
			rc = commit_field(fs, npath, nl, strlen(nl));
			free(nl);
			if (rc) {
				/* Not renamed back: the folder stays to try
				 * again, and says why in errors. */
				draft_new_pending(fs->drafts, k, n->draft_file,
						  n->obj->name);
				tgfs_folders_changed(fs);
				return rc;
			}
			snprintf(npath, sizeof(npath), "/%s/%s", k->dir, now);
			inval_path(fs, npath);
		}
		inval_path(fs, path);
		return 0;
	}
	if (f && !f->writable)
		return 0;
	rc = pending_create(fs, n);
	return rc ? rc : commit_field(fs, path, text, len);
}

/* ---- taking an object apart (rm -r, rsync --delete) ---- */

/*
 * rm -r and rsync --delete remove a folder's files and links before the
 * folder.  Removing a field file or object.json changes nothing (the file
 * stays), but removing links one by one would be a partial change of an
 * object its user meant to delete whole.  So the removal of a file of an
 * object marks the object (its top folder, /<kind>/<name>) as being taken
 * apart for REMOVALS_APART_S seconds (removals.h; tgfs_unlink records it): meanwhile the removal of a link, a
 * folder of links, an access edge or a nested object under it is refused
 * with EPERM and sends nothing.  rmdir of the object itself deletes it
 * with one delete, as always.
 */
/* -EPERM (recorded) when @path is strictly below an object being taken
 * apart; 0 otherwise. */
static int taken_apart(struct tgfs *fs, const char *path)
{
	if (!removals_apart(fs->removals, path))
		return 0;
	tgfs_record_error(fs, path, -EPERM,
			  "its object is being removed file by file (rm -r,"
			  " rsync --delete): its links are not removed one by"
			  " one; rmdir the object to delete it whole");
	return -EPERM;
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
	if (!n.draft && (rc = taken_apart(fs, path)))
		goto out;
	if (n.draft) {
		/* Never sent: it goes as it came. */
		rc = draft_remove(fs->drafts, n.kind, n.draft_file);
		if (!rc)
			tgfs_folders_changed(fs);
		inval_path(fs, path);
		goto out;
	}
	if (!n.kind->remove) {
		tgfs_record_error(fs, path, -EPERM,
				  "objects of this kind cannot be deleted");
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
	if (strcmp(fdir, tdir) != 0) {
		/* An object stays in its folder. */
		tgfs_record_error(fs, to, -EPERM,
				  "an object is renamed within its folder only");
		return -EPERM;
	}
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
	if (!n.draft && (rc = taken_apart(fs, path)))
		goto out;
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
