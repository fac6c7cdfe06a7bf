/*
 * nameops.c - the operations on names in the tree (DESIGN.md §3): mkdir,
 * rmdir, unlink, symlink, rename, and chmod, chown and touch (which change
 * nothing real).  A name is the tenant's (an object, a link, a field),
 * or a scratch file's in memory (an editor's swap and backup files, a
 * temporary name); each operation says which, then hands the change to
 * write.c, objects.c or links.c.  Removing a field or object.json (mv
 * from another filesystem removes the target, then copies) sends nothing:
 * the file stays, but the process that removed it is told it is gone
 * until it creates it again (for REMOVALS_HIDDEN_S at most, removals.h),
 * so that its O_CREAT|O_EXCL finds no file.  Renaming a field onto a
 * scratch name (vim's backup) only snapshots it: the field stays.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kcache.h"
#include "node.h"
#include "ops.h"
#include "removals.h"
#include "scratch.h"
#include "status.h"
#include "write.h"

/* @pid made object @nm (removals key @key): what is in it is hidden from
 * @pid a while.  A new object in a kind's folder had no key by id before
 * it was made: what is in it has (its id, once made), so its record has. */
static void fresh_add(struct tgfs *fs, const struct tgfs_name *nm,
		      char *key, pid_t pid)
{
	const char *p = key + strspn(key, "/"), *slash = strchr(p, '/');
	struct node n;

	if (slash && !strchr(slash + 1, '/') &&
	    (!strchr(p, '#') || strchr(p, '#') > slash) &&
	    node_resolve_name(fs, nm, &n) == 0) {
		if (n.type == NODE_OBJECT && !n.draft) {
			size_t at = (size_t)(slash - key) + 1;

			key[at - 1] = '#';
			for (const char *c = n.obj->id;
			     *c && at + 1 < REMOVALS_KEY_MAX; c++)
				key[at++] = *c == '/' ? '%' : *c;
			key[at] = '\0';
		}
		node_release(&n);
	}
	removals_fresh_add(fs->removals, key, pid);
}

/*
 * cp -r groups/A groups/B clones A (DESIGN.md §3): its mkdir of B creates
 * B, then it copies A's files into B, which has files of those names
 * already.  So what is in B is hidden from the process that made it for a
 * few seconds (removals.h) until it makes each anew: a folder B has (a
 * folder of links) is "made" with nothing sent, a writable field it
 * writes is sent if it differs, a link is added; what the API sets for B
 * itself (its id, times, name, object.json) is taken with no effect
 * (write.c), and a link that would move its target from A (a resource's
 * network) is refused (links.c).
 */
int tgfs_mkdir(struct tgfs *fs, const struct tgfs_name *nm, mode_t mode,
	       pid_t pid)
{
	char key[REMOVALS_KEY_MAX];
	struct node parent, n;
	bool made;
	int rc;

	/* Its folder, once, for whichever makes it. */
	rc = wr_resolve_parent(fs, nm, &parent, NULL, TGFS_NAME_MAX + 1);
	if (rc)
		return rc;
	if (edge_folder(&parent))
		return edge_mkdir(fs, nm, &parent, mode, pid);
	node_removals_key(nm->chain, nm->path, key, sizeof(key));
	if (removals_in_fresh(fs->removals, key, pid) &&
	    node_resolve_name(fs, nm, &n) == 0) {
		/* There already: it reached us hidden, in a clone. */
		node_release(&parent);
		rc = n.type == NODE_RELDIR || n.type == NODE_KINDDIR ? 0
								      : -EEXIST;
		node_release(&n);
		if (!rc)
			removals_copied(fs->removals, key, nm->path);
		return rc;
	}
	rc = tgfs_make_object_in(fs, nm, &parent, mode, &made);
	/* A new object in a clone (a network's connector): its maker sees
	 * it, as any object it made, also when the kernel asks again. */
	if (!rc)
		removals_copied(fs->removals, key, nm->path);
	if (made)
		fresh_add(fs, nm, key, pid);
	return rc;
}

/* rmdir and unlink resolve the name once, and hand the node to the
 * branch it is for (an edge, a link, an object, a field). */
int tgfs_rmdir(struct tgfs *fs, const struct tgfs_name *nm, pid_t pid)
{
	struct node n;
	int rc;

	/* A held edge (never sent, edges.c): it goes as it came. */
	if (scratch_is_dir(fs->scratch, nm->key))
		return scratch_rmdir(fs->scratch, nm->key, SCRATCH_EMPTY);
	rc = node_resolve_name(fs, nm, &n);
	if (rc)
		return rc;
	rc = edge_rmdir(fs, nm, &n);
	if (rc == -ENOTSUP)
		rc = tgfs_remove_object(fs, nm, &n, pid);
	node_release(&n);
	return rc;
}

int tgfs_unlink(struct tgfs *fs, const struct tgfs_name *nm, pid_t pid)
{
	char key[REMOVALS_KEY_MAX];
	struct node n;
	int rc;

	node_removals_key(nm->chain, nm->path, key, sizeof(key));
	if (scratch_remove(fs->scratch, nm->key) == 0) {
		/* tar's placeholder in a link's place: the link is gone for
		 * tar alone, which makes it anew next (fileops.c). */
		if (node_resolve_name(fs, nm, &n) == 0) {
			if (n.type == NODE_LINK)
				removals_add(fs->removals, key, pid);
			node_release(&n);
		}
		return 0;
	}
	if (fs->cfg->read_only)
		return -EROFS;
	rc = node_resolve_name(fs, nm, &n);
	if (rc)
		return rc;
	rc = tgfs_link_remove(fs, nm, &n, pid);
	if (rc == -ENOTSUP) {
		/* A field or object.json: "replaced next" (mv from another
		 * filesystem, rsync's --delete-before of a file it sends
		 * again).  Nothing is sent; the copy that follows commits. */
		rc = n.type == NODE_FIELD || n.type == NODE_JSON ||
				     n.type == NODE_EDGEFIELD
			     ? removals_add(fs->removals, key, pid)
			     : -EPERM;
	}
	node_release(&n);
	return rc;
}

int tgfs_symlink(struct tgfs *fs, const char *target,
		 const struct tgfs_name *nm, pid_t pid)
{
	char key[REMOVALS_KEY_MAX];
	int rc;

	if (fs->cfg->read_only)
		return -EROFS;
	rc = tgfs_link_add(fs, target, nm, pid);
	if (rc == 0) {
		/* made again (by tar, by cp -r into a new object) */
		node_removals_key(nm->chain, nm->path, key, sizeof(key));
		removals_clear(fs->removals, key);
		removals_copied(fs->removals, key, nm->path);
	}
	if (rc != -ENOTSUP)
		return rc;
	/* Not a relation: a lock link or a temporary name, in memory. */
	rc = tgfs_in_object_folder(fs, nm);
	return rc ? rc : scratch_create(fs->scratch, nm->key, 0777, target);
}

int tgfs_rename(struct tgfs *fs, const struct tgfs_name *fromnm,
		const struct tgfs_name *tonm, unsigned int flags)
{
	/* paths to the tenant's files, keys to the scratch store's */
	const char *to = tonm->path, *from_key = fromnm->key,
		   *to_key = tonm->key;
	struct node n;
	size_t len;
	bool link = false;
	char *data;
	int rc;

	if (flags & RENAME_EXCHANGE)
		return -EINVAL;
	if (fs->cfg->read_only)
		return -EROFS;
	data = scratch_get(fs->scratch, from_key, &len, &link);
	if (data) {
		/* A scratch file onto a field or object.json commits it; a
		 * scratch link onto a relation sets it (ln -sfn). */
		rc = node_resolve_name(fs, tonm, &n);
		if (rc == 0 && !link &&
		    (n.type == NODE_FIELD || n.type == NODE_JSON ||
		     n.type == NODE_EDGEFIELD)) {
			struct stat st = { 0 };

			char key[REMOVALS_KEY_MAX];

			node_removals_key(tonm->chain, to, key, sizeof(key));
			removals_clear(fs->removals, key);
			/* Its mtime says which version it is of (rsync sets
			 * it before the rename).  The field resolved above
			 * is the one sent to (commit_node releases it). */
			scratch_stat(fs->scratch, from_key, &st);
			rc = commit_node(fs, to, &n, data, len,
					 (int64_t)st.st_mtim.tv_sec *
							 1000000000 +
						 st.st_mtim.tv_nsec);
		} else if (link && (rc == 0 ? n.type == NODE_LINK : true)) {
			if (rc == 0)
				node_release(&n);
			rc = tgfs_link_add(fs, data, tonm, 0);
			if (rc == -ENOTSUP)
				rc = scratch_rename(fs->scratch, from_key,
						    to_key);
			else if (rc == 0)
				scratch_remove(fs->scratch, from_key);
			free(data);
			return rc;
		} else if (rc == -ENOENT) {
			rc = scratch_rename(fs->scratch, from_key, to_key);
			free(data);
			return rc;
		} else {
			if (rc == 0)
				node_release(&n);
			rc = -EPERM;
		}
		if (rc == 0)
			scratch_remove(fs->scratch, from_key);
		explicit_bzero(data, len);
		free(data);
		return rc;
	}
	rc = node_resolve_name(fs, fromnm, &n);
	if (rc)
		return rc;
	if (n.type == NODE_FIELD || n.type == NODE_JSON ||
	    n.type == NODE_EDGEFIELD) {
		/* vim's backup: the field stays; its copy is scratch. */
		const char *text = node_text(fs, &n);

		rc = scratch_create(fs->scratch, to_key, 0644, NULL);
		if (rc == -EEXIST) {
			scratch_truncate(fs->scratch, to_key, 0);
			rc = 0;
		}
		if (!rc && *text)
			rc = scratch_write(fs->scratch, to_key, text,
					   strlen(text), 0);
		rc = rc < 0 ? rc : 0;
	} else if (n.type == NODE_OBJECT) {
		rc = 1;
	} else {
		rc = -EPERM;
	}
	node_release(&n);
	if (rc == 1)
		rc = tgfs_rename_object(fs, fromnm, tonm);
	return rc;
}

/* chmod, chown and touch change nothing real: they succeed where the
 * node exists, and scratch files keep what they are told.  A touch of a
 * connector's tokens generates new ones (DESIGN.md §5). */
int tgfs_chmod(struct tgfs *fs, const struct tgfs_at *at, mode_t mode)
{
	if (scratch_set_mode(fs->scratch, at->key, mode, NULL) == 0)
		return 0;
	return at->rc;
}

int tgfs_chown(struct tgfs *fs, const struct tgfs_at *at)
{
	if (scratch_stat(fs->scratch, at->key, &(struct stat){ 0 }) == 0)
		return 0;
	return at->rc;
}

int tgfs_utimens(struct tgfs *fs, const struct tgfs_at *at,
		 const struct timespec tv[2])
{
	const struct node *n = at->n;
	bool secret;

	if (scratch_set_mode(fs->scratch, at->key, (mode_t)-1,
			     tv ? &tv[1] : NULL) == 0)
		return 0;
	if (at->rc)
		return at->rc;
	/* touch (times set to now) of a secret generates it; times copied
	 * from elsewhere (tar, rsync, cp -p) are not a touch. */
	secret = n->type == NODE_FIELD &&
		 tg_field_secret(&n->kind->fields[n->field]) &&
		 n->kind->fields[n->field].set &&
		 (!tv || tv[1].tv_nsec == UTIME_NOW);
	return secret ? commit_node(fs, at->path, at->n, "", 0, 0) : 0;
}
