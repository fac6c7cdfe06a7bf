/*
 * objects.c - the changes of whole objects (DESIGN.md §3): mkdir makes an
 * object (or a draft, or a restore folder that waits for its id file),
 * rmdir deletes one (a key revoked first), mv renames one within its
 * folder; and an object being taken apart file by file (rm -r, rsync
 * --delete) keeps its links.  Each is one mutation, its result taken into
 * the cache (coll_apply.c); a create whose answer was lost is looked up,
 * never sent twice.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coll.h"
#include "draft.h"
#include "inval.h"
#include "node.h"
#include "holds.h"
#include "removals.h"
#include "scratch.h"
#include "secret.h"
#include "versions.h"
#include "write.h"

/* Splits @nm into its folder (resolved: from its key when @nm has its
 * chain) and last component. */
int wr_resolve_parent(struct tgfs *fs, const struct tgfs_name *nm,
		      struct node *n, char *name, size_t namesz)
{
	if (!strchr(nm->path, '/') || strlen(nm->name) >= namesz)
		return -ENAMETOOLONG;
	if (name)
		snprintf(name, namesz, "%s", nm->name);
	return node_resolve_dir(fs, nm, n);
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
	struct node other = { 0 };
	int rc;

	if (inv < 0 || !tk->draft || tk->parent)
		return -EPERM;
	if (fs->cfg->read_only)
		return -EROFS;
	if (tgfs_name_decode(name, raw, sizeof(raw)) < 0 || !raw[0])
		return -EINVAL;
	snprintf(top, sizeof(top), "/%s", tk->dir);
	/* Its kind's folder (a top kind's): made as its key makes it, no
	 * resolve from the root. */
	other.type = NODE_KINDDIR;
	other.kind = tk;
	other.rel_index = -1;
	other.depth = 1;
	rc = wr_name_free(fs, &other, raw, NULL);
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
		rc = wr_failed(fs, path, err);
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
	wr_take_result(fs, &res, k);
	inval_path(fs, path);
out:
	tg_result_release(&res);
	return rc;
}

/* Whether a mkdir of @k with @mode makes a restore folder: a kind
 * created from a name alone (a top kind, or one nested in another's
 * folder: a service account's keys), asked for with no group or other
 * permissions, as rsync and tar make the folders they fill. */
static bool restore_folder(const struct tg_kind *k, mode_t mode)
{
	return k->create && !k->draft && k->name_path &&
	       strcmp(k->name_path, "name") == 0 && (mode & 077) == 0;
}

int tgfs_make_object_in(struct tgfs *fs, const struct tgfs_name *nm,
			struct node *parent, mode_t mode, bool *made)
{
	const char *path = nm->path, *name = nm->name;
	char raw[4 * TGFS_NAME_MAX];
	const struct tg_kind *k;
	int rc;

	if (made)
		*made = false;
	if (parent->type == NODE_RELDIR && parent->rel_index >= 0) {
		rc = make_draft_in(fs, parent, name);
		goto out;
	}
	if (parent->type != NODE_KINDDIR) {
		rc = -EPERM;
		goto out;
	}
	k = parent->kind;
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
	rc = k->parent && draft_id_pending(parent->parent_id)
		     ? (restore_folder(k, mode) ? 0 : -EPERM)
		     : wr_name_free(fs, parent, raw, NULL);
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
		char key[TGFS_NAME_MAX + 1];

		rc = draft_key(k, parent->parent_id, name, key, sizeof(key));
		if (rc)
			goto out;
		rc = k->create ? draft_new_pending(fs->drafts, k, key, raw)
			       : draft_new(fs->drafts, k, name, raw, -1, NULL);
		if (!rc)
			tgfs_folders_changed(fs);
		node_release(parent);
		/* Access edges made to that name before it are its now. */
		if (!rc && k->create)
			edge_sweep(fs);
		return rc;
	}
	rc = create_named(fs, path, k, raw, parent->parent_id);
	if (made)
		*made = rc == 0;
out:
	node_release(parent);
	return rc;
}

int tgfs_make_object(struct tgfs *fs, const char *path)
{
	struct tgfs_name nm = tgfs_name_of_path(path);
	struct node parent;
	int rc;

	rc = wr_resolve_parent(fs, &nm, &parent, NULL, TGFS_NAME_MAX + 1);
	return rc ? rc : tgfs_make_object_in(fs, &nm, &parent, 0755, NULL);
}

/* ---- restore folders (DESIGN.md §3, "Rewrites and restores") ---- */

/*
 * The links made in or to a restore folder before its id arrived (rsync's
 * generator makes links while its receiver still copies the files): each
 * was kept as a scratch link (its scratch key in @held, @n of them: freed
 * here; its path now from it, tgfs_key_path)
 * and is made now that the folder is an object, as ln -s makes it; where
 * the object has that link already, nothing is sent.  The first failure
 * is returned (each is in errors); the others are still made.
 */
static int apply_held(struct tgfs *fs, char **held, size_t n)
{
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		bool link = false;
		size_t len;
		char *target = scratch_get(fs->scratch, held[i], &len, &link);
		char path[4096];
		struct node ln;
		int r = 0;

		if (tgfs_key_path(fs, held[i], path, sizeof(path)))
			snprintf(path, sizeof(path), "%s", held[i]);
		if (scratch_is_dir(fs->scratch, held[i]))
			r = edge_held_apply(fs, held[i]);
		else if (target && link) {
			/* Gone by then (rm of the held link): nothing. */
			scratch_remove(fs->scratch, held[i]);
			r = node_resolve(fs, path, &ln);
			if (r == 0) {
				r = ln.type == NODE_LINK &&
						    strcmp(ln.target, target) == 0
					    ? 0
					    : 1;
				node_release(&ln);
			}
			if (r) {
				struct tgfs_name nm = tgfs_name_of_path(path);

				nm.key = held[i];
				r = tgfs_link_add(fs, target, &nm, 0);
			}
			inval_path(fs, path);
		}
		if (r && !rc)
			rc = r;
		free(target);
		free(held[i]);
	}
	free(held);
	return rc;
}

/* Drops the scratch links a restore folder held (it was removed). */
static void drop_held(struct tgfs *fs, char **held, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char path[4096];

		if (tgfs_key_path(fs, held[i], path, sizeof(path)))
			snprintf(path, sizeof(path), "%s", held[i]);
		if (scratch_rmdir(fs->scratch, held[i], SCRATCH_TREE) == 0)
			tgfs_record_error(fs, path, -ENOENT,
					  "an access edge held for a restore"
					  " folder that was removed: not made");
		else
			scratch_remove(fs->scratch, held[i]);
		inval_path(fs, path);
		free(held[i]);
	}
	free(held);
}

/* The id of the parent of restore folder @n of a nested kind (its key's
 * first part, draft_key), into @out; "" for a top kind. */
static void pending_parent(const struct node *n, char *out, size_t outsz)
{
	const char *name = draft_key_name(n->draft_file);

	snprintf(out, outsz, "%.*s",
		 name > n->draft_file ? (int)(name - n->draft_file - 1) : 0,
		 n->draft_file);
}

/* Creates the object restore folder @n (a pending draft, at @path)
 * stands for, under its own name, drops the folder, and makes the links
 * it held. */
static int pending_create(struct tgfs *fs, const struct node *n,
			  const char *path)
{
	char parent[256];
	int rc;

	/* A key (an object with a secret) is never made anew by a restore:
	 * its secret is not in the backup, and a new one no one asked for
	 * is a credential.  mkdir makes one. */
	for (size_t i = 0; i < n->kind->nfields; i++)
		if (tg_field_secret(&n->kind->fields[i])) {
			tgfs_record_error(fs, path, -EPERM,
					  "no such object (deleted since the"
					  " backup?): a restore does not make"
					  " one with a secret anew; mkdir"
					  " does");
			return -EPERM;
		}
	pending_parent(n, parent, sizeof(parent));
	rc = create_named(fs, path, n->kind, n->obj->name,
			  parent[0] ? parent : NULL);
	if (!rc) {
		size_t nh;
		char **held = draft_take_held(fs->drafts, n->kind,
					      n->draft_file, &nh);
		struct node made;

		draft_remove(fs->drafts, n->kind, n->draft_file);
		/* Its nested restore folders are the new object's. */
		if (node_resolve(fs, path, &made) == 0) {
			if (made.type == NODE_OBJECT && !made.draft) {
				draft_rekey(fs->drafts, n->obj->id,
					    made.obj->id);
				draft_anew(fs->drafts, made.obj->id);
			}
			node_release(&made);
		}
		tgfs_folders_changed(fs);
		inval_path(fs, path);
		rc = apply_held(fs, held, nh);
	}
	return rc;
}

/* Restore folder @n (at @top)'s id named object @now of its kind: the
 * folder is that object, renamed to the folder's name if need be (one
 * update), and the links it held are made. */
static int pending_is(struct tgfs *fs, const struct node *n, const char *top,
		      const char *id, const char *now)
{
	const struct tg_kind *k = n->kind;
	char dir[4096];
	size_t nh;
	char **held = draft_take_held(fs->drafts, k, n->draft_file, &nh);
	int rc = 0;

	wr_dirname_of(top, dir, sizeof(dir));
	draft_rekey(fs->drafts, n->obj->id, id);
	draft_remove(fs->drafts, k, n->draft_file);
	tgfs_folders_changed(fs);
	inval_path(fs, top);
	if (strcmp(now, draft_key_name(n->draft_file)) != 0) {
		char npath[4096 + TGFS_NAME_MAX + 16];
		char *nl = NULL;

		snprintf(npath, sizeof(npath), "%s/%s/name", dir, now);
		if (asprintf(&nl, "%s\n", n->obj->name) < 0)
			rc = -ENOMEM;
		else
			rc = commit_field(fs, npath, nl, strlen(nl));
		free(nl);
		if (rc) {
			/* Not renamed back: the folder stays, with what it
			 * held, to try again, and says why in errors. */
			draft_new_pending(fs->drafts, k, n->draft_file,
					  n->obj->name);
			for (size_t i = 0; i < nh; i++)
				draft_hold(fs->drafts, k, n->draft_file,
					   held[i]);
			for (size_t i = 0; i < nh; i++)
				free(held[i]);
			free(held);
			tgfs_folders_changed(fs);
			return rc;
		}
		/* The object's folder by the name it had: by its id. */
		{
			struct node o = { .type = NODE_OBJECT, .kind = k,
					  .rel_index = -1 };

			inval_keyed(fs, id, node_key_of(&o), INVAL_SELF,
				    NULL);
		}
	}
	return apply_held(fs, held, nh);
}

/*
 * A file written in restore folder @n at @path: an `id` naming an object
 * of the kind makes the folder that object (renamed to the folder's name
 * when it was renamed since: one update); an `id` naming none (the object
 * was deleted since) creates it anew under the folder's name, and so does
 * the first writable field or object.json, which is then written to it.
 * A read-only field before the id (created-at) is taken with no effect:
 * the object shows its own once it is there.  Either way, the links made
 * in or to the folder meanwhile are made then (apply_held).
 */
int wr_pending_commit(struct tgfs *fs, const char *path,
			  const struct node *n, const char *text, size_t len)
{
	const struct tg_kind *k = n->kind;
	const struct tg_field *f =
		n->type == NODE_FIELD ? &k->fields[n->field] : NULL;
	char top[4096];
	int rc;

	wr_dirname_of(path, top, sizeof(top));
	if (f && f->path && strcmp(f->path, "id") == 0) {
		struct tg_cache_ref *ref;
		const struct tg_object *o;
		const char *fname = NULL;
		char id[256], now[TGFS_NAME_MAX + 1] = "", parent[256];
		size_t l = len;

		while (l && (text[l - 1] == '\n' || text[l - 1] == ' '))
			l--;
		snprintf(id, sizeof(id), "%.*s", (int)l, text);
		rc = coll_get_names(fs, k, &ref);
		if (rc)
			return rc;
		o = coll_by_id(coll_of(ref, k), id, &fname);
		pending_parent(n, parent, sizeof(parent));
		/* A nested object is that one only in its own parent's
		 * folder (a key of another service account is not). */
		if (o && (!parent[0] ||
			  (o->parent_id && !strcmp(o->parent_id, parent))))
			snprintf(now, sizeof(now), "%s", fname);
		tg_cache_put(ref);
		if (!now[0])
			return pending_create(fs, n, top);
		rc = pending_is(fs, n, top, id, now);
		inval_path(fs, path);
		return rc;
	}
	if (f && !f->writable)
		return 0;
	rc = pending_create(fs, n, top);
	return rc ? rc : commit_field(fs, path, text, len);
}

/*
 * ln -s in or to restore folder @file of @k (at @path, to @target) before
 * its id arrived: kept as a scratch link, which shows at once, and made
 * when the folder is an object (apply_held).  0 or -errno.
 */
int wr_pending_hold(struct tgfs *fs, const struct tg_kind *k,
		    const char *file, const char *target, const char *key)
{
	int rc = scratch_create(fs->scratch, key, 0777, target);

	if (rc)
		return rc;
	rc = draft_hold(fs->drafts, k, file, key);
	if (rc)
		scratch_remove(fs->scratch, key);
	return rc;
}

bool wr_pending_named(struct tgfs *fs, const struct tg_kind *k,
		      const char *name)
{
	struct tg_object copy;
	bool pending;

	if (!k || !draft_get(fs->drafts, k, name, -1, NULL, &copy))
		return false;
	pending = draft_is_pending(&copy);
	tg_object_release(&copy);
	return pending;
}

/* ---- taking an object apart (rm -r, rsync --delete) ---- */

/*
 * rm -r and rsync --delete remove a folder's files and links before the
 * folder.  Removing a field file or object.json changes nothing (the file
 * stays), and so does the rmdir of an emptied folder of links (rsync
 * empties subfolders first).  Once a process did either, its removals of
 * that object's links and inner folders (folders of links, access edges,
 * nested objects) are taking the object apart: each is accepted with nothing
 * sent and is gone for that process alone (removals.h), and the rmdir of
 * the object that ends it deletes it whole, with one delete.  Anyone
 * else's removals are changes, as always.  The links rsync removes first
 * (groups/G/users/, before any file), by a process that listed the
 * object, are held (holds.h), and the rmdir of the object drops them.
 */
bool wr_taken_apart(struct tgfs *fs, const struct tgfs_name *nm, pid_t pid)
{
	char key[REMOVALS_KEY_MAX];

	node_removals_key(nm->chain, nm->path, key, sizeof(key));
	if (!removals_apart(fs->removals, key, pid))
		return false;
	removals_add(fs->removals, key, pid); /* no memory: still shown */
	return true;
}

static int count_link(void *arg, const char *name, const char *target)
{
	(void)name;
	(void)target;
	++*(size_t *)arg;
	return 0;
}

/* Whether @n is a folder of links that holds none (which no one can
 * remove but by taking its object apart). */
static bool links_folder_empty(struct tgfs *fs, const struct node *n)
{
	size_t count = 0;

	return n->type == NODE_RELDIR && n->rel_index >= 0 &&
	       n->kind->rels[n->rel_index].many &&
	       rel_each(fs, n->obj, (size_t)n->rel_index, n->depth,
			count_link, &count) >= 0 &&
	       count == 0;
}

int tgfs_remove_object(struct tgfs *fs, const struct tgfs_name *nm,
		       struct node *n, pid_t pid)
{
	const char *path = nm->path;
	struct tg_result res = { 0 };
	enum tg_err err = TG_OK;
	int rc = 0;

	if (n->type == NODE_FIELD || n->type == NODE_JSON) {
		rc = -ENOTDIR;
		goto out;
	}
	if (!n->draft && wr_taken_apart(fs, nm, pid))
		goto out; /* its object's rmdir deletes it */
	if (!n->draft && links_folder_empty(fs, n)) {
		/* rsync --delete empties a folder's subfolders first: the
		 * rmdir of one, emptied, starts taking the object apart. */
		char key[REMOVALS_KEY_MAX];

		node_removals_key(nm->chain, path, key, sizeof(key));
		removals_add(fs->removals, key, pid);
		goto out;
	}
	if (n->type != NODE_OBJECT) {
		rc = -EPERM;
		goto out;
	}
	if (n->draft) {
		/* Never sent: it goes as it came, with what it held. */
		size_t nh;
		char **held = draft_take_held(fs->drafts, n->kind,
					      n->draft_file, &nh);

		drop_held(fs, held, nh);
		rc = draft_remove(fs->drafts, n->kind, n->draft_file);
		if (!rc)
			tgfs_folders_changed(fs);
		inval_path(fs, path);
		goto out;
	}
	if (!n->kind->remove) {
		tgfs_record_error(fs, path, -EPERM,
				  "objects of this kind cannot be deleted");
		rc = -EPERM;
		goto out;
	}
	if (fs->cfg->read_only) {
		rc = -EROFS;
		goto out;
	}
	/* the delete alone is sent (holds.h) */
	holds_drop(fs->holds, n->kind, n->obj->id);
	{
		struct tg_vars vars = { .id = n->obj->id,
					.name = n->obj->name };
		const struct tg_op *pre = n->kind->pre_delete;
		int wf = pre ? tg_field_index(n->kind, pre->when_file) : -1;
		char *shown = NULL;
		const char *now = wf < 0 ? NULL
				       : tg_object_value(n->obj, (size_t)wf,
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
			err = tg_api_mutate(fs->api, n->kind->remove, &vars,
					    &res);
	}
	if (err != TG_OK) {
		rc = wr_failed(fs, path, err);
		if (tgfs_outcome_unknown(err)) {
			const struct tg_kind *k = n->kind;

			node_inval(fs, n, INVAL_SELF, NULL);
			node_release(n);
			cache_expire(fs, k);
		}
		goto out;
	}
	{
		char *id = strdup(n->obj->id);
		const struct tg_kind *k = n->kind;

		/* The kernel forgets its folders with its id (cache_apply,
		 * coll_apply.c). */
		if (!id)
			node_inval(fs, n, INVAL_SELF, NULL);
		node_release(n);
		if (id)
			cache_apply(fs, k, NULL, id);
		free(id);
	}
	{
		char key[REMOVALS_KEY_MAX];

		node_removals_key(nm->chain, path, key, sizeof(key));
		removals_forget(fs->removals, key);
	}
out:
	tg_result_release(&res);
	return rc;
}

int tgfs_rename_object(struct tgfs *fs, const struct tgfs_name *fromnm,
		       const struct tgfs_name *tonm)
{
	const char *from = fromnm->path, *to = tonm->path;
	char fdir[4096], tdir[4096], raw[4 * TGFS_NAME_MAX + 2];
	struct node n;
	int rc, name;

	wr_dirname_of(from, fdir, sizeof(fdir));
	wr_dirname_of(to, tdir, sizeof(tdir));
	if (strcmp(fdir, tdir) != 0) {
		/* An object stays in its folder. */
		tgfs_record_error(fs, to, -EPERM,
				  "an object is renamed within its folder only");
		return -EPERM;
	}
	rc = node_resolve_name(fs, tonm, &n);
	if (rc == 0) {
		node_release(&n);
		tgfs_record_error(fs, to, -EEXIST,
				  "that name is already held in this folder");
		return -EEXIST;
	}
	rc = node_resolve_name(fs, fromnm, &n);
	if (rc)
		return rc;
	/* A draft keeps the name it was made with (rmdir and mkdir it). */
	name = n.type == NODE_OBJECT && !n.draft
		       ? tg_field_index(n.kind, "name")
		       : -1;
	if (name < 0) {
		node_release(&n);
		return -EPERM;
	}
	if (tgfs_name_decode(tonm->name, raw, sizeof(raw) - 1) < 0) {
		node_release(&n);
		return -EINVAL;
	}
	strcat(raw, "\n");
	{
		char fpath[4096 + 16];

		/* its name file, one step from the folder just resolved */
		snprintf(fpath, sizeof(fpath), "%s/name", from);
		rc = node_step(fs, &n, "name");
		if (rc)
			return rc == -ENOENT ? -ESTALE : rc;
		return commit_node(fs, fpath, &n, raw, strlen(raw), 0);
	}
}
