/*
 * skey.c - the keys of the scratch store (scratch.h): what is at or below
 * an object's folder goes by the object's identity, not its name, so
 * that a rename of the object (through its name file, mv, object.json,
 * or by someone else) keeps the scratch files in it (an editor's swap
 * file, sed -i's and rsync's temporary files, an access edge held for a
 * restore) in the renamed folder, and leaves none under the old name for
 * a new object of that name to show.
 *
 * A key is "/<kind folder>#<object id>" (the id's '/' written '%')
 * followed by the names below the deepest object's folder of the path;
 * a path with no object's folder (a restore folder, a draft: no id yet)
 * is its own key.
 *
 * Also here, as both go from an object's id to its name now:
 * tgfs_object_file (node.h), which ll.c asks when it follows a rename.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coll.h"
#include "inodes.h"
#include "node.h"

char *node_scratch_key(const struct inodes_chain *c)
{
	size_t k = c->n, len;
	char *key, *at;

	while (k > 0 && !c->hop[k].id)
		k--;
	if (k < 2)
		return strdup(c->path);
	len = strlen(c->hop[k - 1].name) + strlen(c->hop[k].id) + 3;
	for (size_t j = k + 1; j <= c->n; j++)
		len += strlen(c->hop[j].name) + 1;
	if (!(key = malloc(len)))
		return NULL;
	at = key + sprintf(key, "/%s#", c->hop[k - 1].name);
	for (const char *p = c->hop[k].id; *p; p++)
		*at++ = *p == '/' ? '%' : *p;
	*at = '\0';
	for (size_t j = k + 1; j <= c->n; j++)
		at += sprintf(at, "/%s", c->hop[j].name);
	return key;
}

void node_removals_key(const struct inodes_chain *c, const char *path,
		       char *out, size_t size)
{
	size_t k = 2, at;
	const char *p;
	int len;

	while (c && k <= c->n && !c->hop[k].id)
		k++;
	if (!c || k > c->n ||
	    (len = snprintf(out, size, "/%s#", c->hop[k - 1].name)) < 0 ||
	    (size_t)len >= size)
		goto path;
	at = (size_t)len;
	for (p = c->hop[k].id; *p && at + 1 < size; p++)
		out[at++] = *p == '/' ? '%' : *p;
	out[at] = '\0';
	if (*p)
		goto path;
	for (size_t j = k + 1; j <= c->n && at < size; j++) {
		len = snprintf(out + at, size - at, "/%s", c->hop[j].name);
		at = len < 0 ? size : at + (size_t)len;
	}
	if (at < size)
		return;
path:
	snprintf(out, size, "%s", path);
}

int tgfs_key_path(struct tgfs *fs, const char *key, char *out, size_t size)
{
	/* A key by id has its '#' in its first name (a kind's folder,
	 * which has none of its own); a path's names may have one. */
	const char *slash = strchr(key + (key[0] != '\0'), '/');
	const char *hash = strchr(key, '#'), *rest;
	char kind[TGFS_NAME_MAX + 1], id[256], now[TGFS_NAME_MAX + 1];
	char *dir = NULL, *name = NULL, *kid = NULL;
	const struct tg_kind *k;
	size_t idlen;
	int rc;

	if (!hash || (slash && slash < hash))
		return snprintf(out, size, "%s", key) < (int)size
			       ? 0
			       : -ENAMETOOLONG;
	rest = hash + strcspn(hash, "/");
	idlen = (size_t)(rest - hash - 1);
	if (key[0] != '/' || (size_t)(hash - key - 1) >= sizeof(kind) ||
	    idlen >= sizeof(id))
		return -ENOENT;
	snprintf(kind, sizeof(kind), "%.*s", (int)(hash - key - 1), key + 1);
	for (size_t i = 0; i < idlen; i++)
		id[i] = hash[1 + i] == '%' ? '/' : hash[1 + i];
	id[idlen] = '\0';
	/* Where the kernel knows the object's folder (a scan of its table,
	 * made only for the holds and sweeps that go by key alone). */
	if (fs->nodes) {
		uint64_t from = 0, ino;

		if (inodes_with_id(fs->nodes, id, &from, &ino, 1) == 1 &&
		    inodes_object(fs->nodes, ino, &dir, &name, &kid) == -ENOMEM)
			return -ENOMEM;
	}
	free(kid);
	if (!dir) {
		/* Not known to the kernel: a top kind's, by its listing. */
		k = tg_kind_by_dir(NULL, kind);
		if (!k || k->parent)
			return -ENOENT;
		if (asprintf(&dir, "/%s", kind) < 0)
			return -ENOMEM;
	}
	rc = tgfs_object_file(fs, dir, name ? name : "", id, now);
	if (rc == -ENOENT && (k = tg_kind_by_dir(NULL, kind)) && !k->parent &&
	    strcmp(dir + 1, kind) != 0) {
		/* The kernel's node was a copy in a folder of links (a
		 * network's resources/R), which lists it under no new name:
		 * its own kind's folder does. */
		free(dir);
		free(name);
		name = NULL;
		if (asprintf(&dir, "/%s", kind) < 0)
			return -ENOMEM;
		rc = tgfs_object_file(fs, dir, "", id, now);
	}
	if (!rc && snprintf(out, size, "%s/%s%s", dir, now, rest) >= (int)size)
		rc = -ENAMETOOLONG;
	free(dir);
	free(name);
	return rc;
}

int tgfs_object_file(struct tgfs *fs, const char *dir, const char *name,
		     const char *id, char *out)
{
	struct node n;
	char *path = NULL;
	const char *now = NULL;
	int rc;

	/* Still there by its name: the usual case, and no request more
	 * than the operation that failed just made. */
	if (asprintf(&path, "%s/%s", strcmp(dir, "/") ? dir : "", name) < 0)
		return -ENOMEM;
	rc = name[0] ? node_resolve(fs, path, &n) : -ENOENT;
	free(path);
	if (!rc) {
		bool same = n.type == NODE_OBJECT && !n.draft &&
			    strcmp(n.obj->id, id) == 0;

		node_release(&n);
		if (same) {
			snprintf(out, TGFS_NAME_MAX + 1, "%s", name);
			return 0;
		}
	}
	rc = node_resolve(fs, dir, &n);
	if (rc)
		return rc;
	if (n.type != NODE_KINDDIR) {
		node_release(&n);
		return -ENOENT;
	}
	/* As a listing: an embedded kind is in its parent's collection. */
	if (!n.ref || !n.kind->parent_conn) {
		node_release(&n);
		rc = coll_get_names(fs, n.kind, &n.ref);
	}
	if (!rc && !coll_by_id(coll_of(n.ref, n.kind), id, &now))
		rc = -ENOENT;
	if (!rc)
		snprintf(out, TGFS_NAME_MAX + 1, "%s", now);
	node_release(&n);
	return rc;
}
