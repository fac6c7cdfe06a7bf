/*
 * ll.c - the one FUSE face of twingatefs: libfuse's low-level API, with
 * the node ids the kernel holds in our own table (inodes.c).
 *
 * Every handler takes the mount from its request (ll_of: the session's
 * userdata, as passthrough_ll.c's lo_data).  A handler on a node id
 * resolves it once (ll_on_node): the node table (inodes.c) gives the
 * node's chain (its names, the key of each node: type, kind, field, and
 * each object folder's object id), and node_resolve_chain (nodekey.c)
 * makes the node from the nearest one its key allows (an object by its
 * id), stepping through the names below it only; the operation of
 * attrs.c, listing.c, fileops.c or nameops.c gets that node.  So an
 * object's folder is its object, whatever it is called now: a shell's
 * cwd and an editor's open file outlive a rename (through a name file,
 * mv, object.json, or someone else, seen at a refresh).  READ, WRITE,
 * FLUSH, FSYNC and RELEASE need the open handle only.  The operations
 * on names (mkdir, symlink, unlink, rmdir, rename) take the name with
 * its folder's chain (on_name): it is resolved from the folder's key,
 * one step; a rename on the way that made them say ENOENT is followed
 * and they are tried once more (follow).
 *
 * What the kernel must forget after a change is said by what changed
 * (inval.h): the store names the object by its id (coll_apply.c), and
 * ll_invalidate (llinval.c) finds every node the kernel holds of it,
 * under whatever name, and the entry of its old name; a followed rename
 * drops the old name's entry, and a refresh expires every object
 * folder's.
 * All of it goes through the queue's thread; a write, flush, fsync or
 * release waits for it (settle), so the next command sees the change.
 *
 * The kernel keeps a node id for each file and folder it looked up until
 * memory runs short, so a walk of a large tenant keeps one for every
 * folder (find) or every file (rsync): a node here is 32 bytes, its key
 * included (libfuse's high-level layer took ~240).  A setattr is chmod, chown, truncate and
 * utimens in that order; a listing is made whole at offset 0 and handed
 * out in pieces.  Folders are not opened (ENOSYS to OPENDIR, unless
 * -o dir_open): the kernel lists them from its cache, and a folder's
 * generation in its mtime, or a drop after a change, tells it when not
 * to (lldir.c; attrs_for here, ll_folders_changed in llinval.c).  A file
 * unlinked (or replaced by a rename) while open goes at once, not to a
 * .fuse_hidden* name until its last release: the RELEASE of a close(2)
 * comes after close(2) has returned, so vim's swap file, closed then
 * removed, could still be seen as .fuse_hidden* right after vim exited.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "inodes.h"
#include "inval.h"
#include "kcache.h"
#include "write.h"
#include "ll.h"
#include "node.h"
#include "removals.h"

/*
 * After an operation said ENOENT: the object folders on the way to @ino
 * (itself included) that their objects' renames left under an old name
 * take their new ones, so that every node id the kernel holds under
 * them stays valid (a shell's cwd, an editor's open file).  True when
 * one did: the operation is worth trying again.
 */
static bool follow(struct ll *ll, fuse_ino_t ino)
{
	uint64_t ids[8];
	size_t n = inodes_objects(ll->nodes, ino, ids, 8);
	bool moved = false;

	for (size_t i = 0; i < n; i++) {
		char *dir, *name, *id, now[TGFS_NAME_MAX + 1];
		uint64_t parent;
		bool hashed;

		if (inodes_object(ll->nodes, ids[i], &dir, &name, &id))
			break;
		if (!tgfs_object_file(ll->fs, dir, name, id, now) &&
		    strcmp(now, name) != 0 &&
		    !inodes_entry(ll->nodes, ids[i], &parent, NULL, 0,
				  &hashed) &&
		    !inodes_rehash(ll->nodes, ids[i], now)) {
			tg_log(TG_LOG_DEBUG, "%s/%s is %s now", dir, name,
			       now);
			/* The kernel forgets the old name at once (from the
			 * queue's thread: this request may hold the lock of
			 * the folder that entry is in). */
			if (hashed)
				inval_entry(ll->fs, parent, name);
			moved = true;
		}
		free(dir);
		free(name);
		free(id);
	}
	return moved;
}

/*
 * Calls @fn(@ll, nm, @arg) with the name @name in folder @parent: its
 * chain from the kernel's node table (inodes_chain), so that resolving
 * it starts at the folder's key (node_resolve_name: one step, none from
 * the root); once more when it said the name is gone and a rename of a
 * folder on the way was followed (-ENOENT when there was none).
 */
static int on_name(struct ll *ll, fuse_ino_t parent, const char *name,
		   int (*fn)(struct ll *ll, const struct tgfs_name *nm,
			     void *arg),
		   void *arg)
{
	int rc = 0;

	for (int tries = 0; tries < 2; tries++) {
		struct inodes_chain *c = NULL;

		if (tries && !follow(ll, parent))
			return -ENOENT;
		rc = inodes_chain(ll->nodes, parent, name, &c);
		/* Held removals this request ends are sent first (holds.h). */
		if (!rc && !tries)
			rc = lh_request(ll->fs, c, ll_caller());
		if (!rc) {
			struct tgfs_name nm = { .chain = c, .path = c->path,
						.name = c->hop[c->n].name,
						.key = node_scratch_key(c) };

			rc = nm.key ? fn(ll, &nm, arg) : -ENOMEM;
			free((char *)nm.key);
		}
		inodes_chain_free(c);
		if (!ll_gone(rc, tries))
			break;
	}
	return rc;
}

int ll_on_node(struct ll *ll, fuse_ino_t ino, const char *child,
	       char **path,
	       int (*fn)(struct ll *ll, const struct tgfs_at *at, void *arg),
	       void *arg)
{
	struct inodes_chain *c = NULL;
	struct tgfs_at at;
	struct node n;
	int rc;

	*path = NULL;
	rc = inodes_chain(ll->nodes, ino, child, &c);
	if (rc)
		return rc;
	edge_sweep(ll->fs); /* held access edges made or dropped (edges.c) */
	/* Held link removals this request ends are sent first (holds.h). */
	rc = lh_request(ll->fs, c, ll_caller());
	if (rc) {
		*path = c->path;
		c->path = NULL;
		inodes_chain_free(c);
		return rc;
	}
	at = (struct tgfs_at){ .path = c->path, .n = &n, .chain = c,
			       .key = node_scratch_key(c), .rc = -ENOMEM };
	if (at.key)
		at.rc = node_resolve_chain(ll->fs, c, &n);
	rc = at.key ? fn(ll, &at, arg) : -ENOMEM;
	free((char *)at.key);
	if (!at.rc)
		node_release(&n);
	*path = c->path; /* the caller's now */
	c->path = NULL;
	inodes_chain_free(c);
	return rc;
}

/* ---- the operations as ll_on_node and on_name call them ---- */

static int call_getattr(struct ll *ll, const struct tgfs_at *at, void *st)
{
	return tgfs_getattr(ll->fs, at, st, NULL, 0, NULL);
}

struct setattr_args {
	const struct stat *attr;
	int valid;
	struct fuse_file_info *fi;
	struct stat *st; /* the attributes after */
};

static int set_attrs(struct tgfs *fs, const struct tgfs_at *at,
		     const struct stat *attr, int valid,
		     struct fuse_file_info *fi);

/* The SETATTR, then the node's attributes as it left them: found again
 * (from its chain: no walk) when it was there, as a change replaces its
 * object. */
static int call_setattr(struct ll *ll, const struct tgfs_at *at, void *arg)
{
	struct setattr_args *a = arg;
	struct tgfs_at after = *at;
	int rc = set_attrs(ll->fs, at, a->attr, a->valid, a->fi);

	if (rc)
		return rc;
	if (!at->rc) {
		node_release(at->n);
		after.rc = node_resolve_chain(ll->fs, at->chain, at->n);
	}
	rc = tgfs_getattr(ll->fs, &after, a->st, NULL, 0, NULL);
	/* (ll_on_node releases it again: harmless) */
	return rc;
}

static int call_readlink(struct ll *ll, const struct tgfs_at *at,
			 void *target)
{
	return tgfs_readlink(ll->fs, at, target, PATH_MAX + 1);
}

struct make_args {
	const char *target; /* NULL: mkdir */
	mode_t mode;
	pid_t pid; /* the caller's */
};

/* mkdir or symlink */
static int call_make(struct ll *ll, const struct tgfs_name *nm, void *arg)
{
	struct make_args *a = arg;

	return a->target ? tgfs_symlink(ll->fs, a->target, nm, a->pid)
			 : tgfs_mkdir(ll->fs, nm, a->mode, a->pid);
}

struct remove_args {
	int (*op)(struct tgfs *fs, const struct tgfs_name *nm, pid_t pid);
	pid_t pid; /* the caller's */
};

static int call_remove(struct ll *ll, const struct tgfs_name *nm, void *arg)
{
	struct remove_args *a = arg;

	return a->op(ll->fs, nm, a->pid);
}

/*
 * The attribute timeout of @st, the attributes of @path.  Without
 * OPENDIR, a folder's mtime carries its generation in its nanoseconds
 * (kcache_dir_gen): the kernel lists the folder again once it changes,
 * and asks for it again no later than the entries it holds go stale.
 */
static double attrs_for(struct ll *ll, const char *path, struct stat *st)
{
	double left, t = ll->cfg.attr_timeout;

	if (!ll->fs->no_opendir || !S_ISDIR(st->st_mode))
		return t;
	st->st_mtim.tv_nsec =
		kcache_dir_gen(ll->fs->kcache, path, mono_now(), &left);
	return left >= 0 && left < t ? left : t;
}

double ll_attrs_for(struct ll *ll, const char *path, struct stat *st)
{
	return attrs_for(ll, path, st);
}

/* Gives the kernel an entry for @name in @parent, resolved in @at: its
 * attributes and a node id (an object's folder's by its object's id),
 * which keeps the node's key (inodes_set_key) to be found again without
 * a walk.  0, or -errno not replied yet. */
int ll_entry(struct ll *ll, fuse_ino_t parent, const char *name,
	     const struct tgfs_at *at, bool by_id, struct fuse_entry_param *e)
{
	struct inodes_key key;
	char id[256];
	int rc = tgfs_getattr(ll->fs, at, &e->attr, id, sizeof(id), &key);

	if (!rc)
		rc = inodes_lookup(ll->nodes, parent, name,
				   by_id && id[0] ? id : NULL, &e->ino,
				   &e->generation);
	if (rc)
		return rc;
	if (key.set)
		inodes_set_key(ll->nodes, e->ino, key.type, key.kind,
			       key.index);
	e->entry_timeout = ll->cfg.entry_timeout;
	e->attr_timeout = attrs_for(ll, at->path, &e->attr);
	return 0;
}

static int reply_entry(fuse_req_t req, fuse_ino_t parent, const char *name,
		       const struct tgfs_at *at, const char *link)
{
	struct ll *ll = ll_of(req);
	struct fuse_entry_param e = { 0 };
	int rc = ll_entry(ll, parent, name, at, true, &e);

	if (rc)
		return rc;
	/* ln -s that made a folder (an access edge, edges.c): the kernel
	 * takes only a link for its symlink(2), so it gets one it keeps
	 * for no time; its next look finds the folder. */
	if (link && !S_ISLNK(e.attr.st_mode)) {
		e.attr.st_mode = S_IFLNK | 0777;
		e.attr.st_size = (off_t)strlen(link);
		e.attr.st_nlink = 1;
		e.entry_timeout = e.attr_timeout = 0;
	}
	ll_looked_up(req, parent, &e.attr);
	/* An interrupted lookup: the kernel never got the id. */
	if (fuse_reply_entry(req, &e) == -ENOENT)
		inodes_forget(ll->nodes, e.ino, 1);
	return 0;
}

struct entry_args {
	fuse_req_t req;
	fuse_ino_t parent;
	const char *name;
	const char *link; /* made by symlink(2): its target */
	bool hidden;      /* removed by the caller (removals.h) */
};

static int call_entry(struct ll *ll, const struct tgfs_at *at, void *arg)
{
	struct entry_args *a = arg;

	/* A field its caller removed to write anew (mv from another
	 * filesystem): gone for it alone, and not a negative entry the
	 * kernel would keep for everyone. */
	char key[REMOVALS_KEY_MAX];

	if (!a->link)
		node_removals_key(at->chain, at->path, key, sizeof(key));
	if (!a->link && removals_hidden(ll->fs->removals, key,
					fuse_req_ctx(a->req)->pid)) {
		a->hidden = true;
		return -ENOENT;
	}
	return reply_entry(a->req, a->parent, a->name, at, a->link);
}

/* A name is resolved once: its folder found from the kernel's node
 * table (by its object's id: a renamed folder, a shell's cwd, is still
 * itself), then the name stepped into (node_resolve_chain). */
static void ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct ll *ll = ll_of(req);
	struct entry_args a = { req, parent, name, NULL, false };
	char *path = NULL;
	int rc = ll_on_node(ll, parent, name, &path, call_entry, &a);

	/* An entry the kernel may keep: after a mkdir or a symlink, that
	 * would be an EIO (ENOENT there). */
	if (rc == -ENOENT && !a.hidden && ll->cfg.negative_timeout > 0) {
		struct fuse_entry_param e = {
			.entry_timeout = ll->cfg.negative_timeout
		};

		if (path)
			kcache_negative(ll->fs->kcache, path);
		fuse_reply_entry(req, &e);
		rc = 0;
	}
	if (rc)
		ll_reply_rc(req, rc);
	free(path);
}

static void ll_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	inodes_forget(ll_of(req)->nodes, ino, nlookup);
	fuse_reply_none(req);
}

static void ll_forget_multi(fuse_req_t req, size_t count,
			    struct fuse_forget_data *forgets)
{
	for (size_t i = 0; i < count; i++)
		inodes_forget(ll_of(req)->nodes, forgets[i].ino,
			      forgets[i].nlookup);
	fuse_reply_none(req);
}

static void ll_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct ll *ll = ll_of(req);
	struct stat st;
	char *path = NULL;
	int rc;

	(void)fi;
	rc = ll_on_node(ll, ino, NULL, &path, call_getattr, &st);
	if (rc)
		ll_reply_rc(req, rc);
	else
		fuse_reply_attr(req, &st, attrs_for(ll, path, &st));
	free(path);
}

/* A setattr is chmod, chown, truncate and utimens, in that order, on
 * one resolved node (a truncate that sent its change released it: only
 * its type and field are looked at after). */
static int set_attrs(struct tgfs *fs, const struct tgfs_at *at,
		     const struct stat *attr, int valid,
		     struct fuse_file_info *fi)
{
	struct timespec tv[2] = { { .tv_nsec = UTIME_OMIT },
				  { .tv_nsec = UTIME_OMIT } };
	int rc = 0;

	if (valid & FUSE_SET_ATTR_MODE)
		rc = tgfs_chmod(fs, at, attr->st_mode);
	if (!rc && (valid & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)))
		rc = tgfs_chown(fs, at);
	if (!rc && (valid & FUSE_SET_ATTR_SIZE))
		rc = tgfs_truncate(fs, at, attr->st_size, fi);
	if (rc || !(valid & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME)))
		return rc;
	if (valid & FUSE_SET_ATTR_ATIME_NOW)
		tv[0].tv_nsec = UTIME_NOW;
	else if (valid & FUSE_SET_ATTR_ATIME)
		tv[0] = attr->st_atim;
	if (valid & FUSE_SET_ATTR_MTIME_NOW)
		tv[1].tv_nsec = UTIME_NOW;
	else if (valid & FUSE_SET_ATTR_MTIME)
		tv[1] = attr->st_mtim;
	return tgfs_utimens(fs, at, tv);
}

static void ll_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int valid, struct fuse_file_info *fi)
{
	struct ll *ll = ll_of(req);
	struct stat st;
	char *path = NULL;
	int rc;

	rc = ll_on_node(ll, ino, NULL, &path, call_setattr,
			&(struct setattr_args){ attr, valid, fi, &st });
	if (rc)
		ll_reply_rc(req, rc);
	else
		fuse_reply_attr(req, &st, attrs_for(ll, path, &st));
	free(path);
}

static void ll_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct ll *ll = ll_of(req);
	char *path = NULL, target[PATH_MAX + 1];
	int rc;

	rc = ll_on_node(ll, ino, NULL, &path, call_readlink, target);
	if (rc)
		ll_reply_rc(req, rc);
	else
		fuse_reply_readlink(req, target);
	free(path);
}

/* Makes @name in @parent with mkdir (@target NULL) or symlink, and gives
 * the kernel its entry. */
static void make(fuse_req_t req, fuse_ino_t parent, const char *name,
		 const char *target, mode_t mode)
{
	struct ll *ll = ll_of(req);
	char *path = NULL;
	int rc = on_name(ll, parent, name, call_make,
			 &(struct make_args){ target, mode,
					      fuse_req_ctx(req)->pid });

	if (!rc)
		rc = ll_on_node(ll, parent, name, &path, call_entry,
				&(struct entry_args){ req, parent, name,
						      target, false });
	if (rc)
		ll_reply_rc(req, rc);
	free(path);
}

static void ll_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	make(req, parent, name, NULL, mode);
}

static void ll_symlink(fuse_req_t req, const char *target,
		       fuse_ino_t parent, const char *name)
{
	make(req, parent, name, target, 0777);
}

/* Removes @name from @parent with @op (unlink or rmdir), for the caller
 * of @req.  (rm -r of an object removes its files, links and inner
 * folders, which change nothing, then the folder: one delete,
 * objects.c.) */
static void take_out(fuse_req_t req, fuse_ino_t parent, const char *name,
		     int (*op)(struct tgfs *fs, const struct tgfs_name *nm,
			       pid_t pid))
{
	struct ll *ll = ll_of(req);
	int rc = on_name(ll, parent, name, call_remove,
			 &(struct remove_args){ op, fuse_req_ctx(req)->pid });

	if (!rc)
		inodes_unlink(ll->nodes, parent, name);
	ll_reply_rc(req, rc);
}

static void ll_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	take_out(req, parent, name, tgfs_unlink);
}

static void ll_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	take_out(req, parent, name, tgfs_rmdir);
}

/* Both names from their folders' chains (either folder may be the one
 * renamed: a second try follows both). */
static void ll_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      unsigned int flags)
{
	struct ll *ll = ll_of(req);
	int rc = 0;

	for (int tries = 0; tries < 2; tries++) {
		struct inodes_chain *fc = NULL, *tc = NULL;

		if (tries && !follow(ll, parent) && !follow(ll, newparent))
			break;
		rc = inodes_chain(ll->nodes, parent, name, &fc);
		if (!rc)
			rc = inodes_chain(ll->nodes, newparent, newname, &tc);
		if (!rc && !tries)
			rc = lh_request(ll->fs, fc, ll_caller());
		if (!rc && !tries)
			rc = lh_request(ll->fs, tc, ll_caller());
		if (!rc) {
			struct tgfs_name from = { fc, fc->path,
						  fc->hop[fc->n].name,
						  node_scratch_key(fc) },
					 to = { tc, tc->path,
						tc->hop[tc->n].name,
						node_scratch_key(tc) };

			rc = from.key && to.key
				     ? tgfs_rename(ll->fs, &from, &to, flags)
				     : -ENOMEM;
			free((char *)from.key);
			free((char *)to.key);
		}
		inodes_chain_free(fc);
		inodes_chain_free(tc);
		if (!ll_gone(rc, tries))
			break;
	}
	/* RENAME_EXCHANGE is refused (fileops.c).  The tenant has it now,
	 * so the rename succeeded even if the table cannot follow (out of
	 * memory: the node then goes by its old path, which says ENOENT). */
	if (!rc && inodes_rename(ll->nodes, parent, name, newparent,
				 newname) != 0)
		tg_log(TG_LOG_ERR, "%s: out of memory after rename", newname);
	ll_reply_rc(req, rc);
}

static void ll_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv = { .f_bsize = 4096, .f_frsize = 4096,
			      .f_namemax = TGFS_NAME_MAX };

	(void)ino;
	fuse_reply_statfs(req, &sv);
}

static void ll_init(void *userdata, struct fuse_conn_info *conn)
{
	struct ll *ll = userdata;
	struct tgfs *fs;
	unsigned ttl = ll->conf->cache_ttl;

	/* Lookups and readdirs of one folder may run at once: each can
	 * wait on the API, and one slow page must not stall the others. */
	if (conn->capable & FUSE_CAP_PARALLEL_DIROPS) {
		conn->want |= FUSE_CAP_PARALLEL_DIROPS;
		ll->want_parallel_dirops = true;
	}
	/* READDIRPLUS: a walk's lstats need no LOOKUP each (lldir.c). */
	conn->want |= conn->capable & (FUSE_CAP_READDIRPLUS |
				       FUSE_CAP_READDIRPLUS_AUTO);
	/* libfuse gives each worker thread a receive buffer of max_write
	 * (1 MiB by default), wholly resident after a walk of the large
	 * tenant: files here are small, so 128 KiB writes are plenty. */
	conn->max_write = TGFS_MAX_WRITE;
	/* The kernel may not keep what the cache would already drop. */
	ll->cfg.entry_timeout = ttl;
	ll->cfg.attr_timeout = ttl;
	ll->cfg.negative_timeout = ttl < 5 ? ttl : 5;
	/* Threads and curl handles are made here, after any fork. */
	fs = tgfs_new(ll->conf, ll_invalidate, ll);
	if (!fs) {
		tg_log(TG_LOG_ERR, "out of memory at mount");
		abort();
	}
	fs->nodes = ll->nodes; /* the stats; scratch keys to paths (skey.c) */
	tg_cache_set_alive(fs->cache, ll_reader_alive);
	ll->fs = fs;
	/* Kernels since 5.1 take an ENOSYS to OPENDIR as "never again"
	 * (FUSE_NO_OPENDIR_SUPPORT); before that it would fail the open. */
	fs->no_opendir = !ll->conf->dir_open &&
			 (conn->capable & FUSE_CAP_NO_OPENDIR_SUPPORT);
	fs->folders_changed = ll_folders_changed;
	fs->folders_arg = ll;
}

static void ll_destroy(void *userdata)
{
	struct ll *ll = userdata;

	tgfs_free(ll->fs);
	ll->fs = NULL;
}

static const struct fuse_lowlevel_ops ll_ops = {
	.init = ll_init,
	.destroy = ll_destroy,
	.lookup = ll_lookup,
	.forget = ll_forget,
	.forget_multi = ll_forget_multi,
	.getattr = ll_getattr,
	.setattr = ll_setattr,
	.readlink = ll_readlink,
	.mkdir = ll_mkdir,
	.symlink = ll_symlink,
	.unlink = ll_unlink,
	.rmdir = ll_rmdir,
	.rename = ll_rename,
	.open = ll_open,
	.create = ll_create,
	.read = ll_read,
	.write = ll_write,
	.flush = ll_flush,
	.fsync = ll_fsync,
	.release = ll_release,
	.opendir = ll_opendir,
	.readdir = ll_readdir,
	.readdirplus = ll_readdirplus,
	.releasedir = ll_releasedir,
	.statfs = ll_statfs,
};

struct ll *tgfs_ll_new(struct fuse_args *args, struct tgfs_config *conf)
{
	struct ll *ll = calloc(1, sizeof(*ll));

	if (!ll)
		return NULL;
	ll->conf = conf;
	pthread_mutex_init(&ll->snap_lock, NULL);
	pthread_mutex_init(&ll->lookers_lock, NULL);
	pthread_mutex_init(&ll->calls_lock, NULL);
	ll->nodes = inodes_new();
	if (ll->nodes)
		ll->se = fuse_session_new(args, ll_calls(ll, &ll_ops),
					  sizeof(ll_ops), ll);
	if (!ll->se) {
		tgfs_ll_free(ll);
		return NULL;
	}
	return ll;
}

struct fuse_session *tgfs_ll_session(struct ll *ll)
{
	return ll->se;
}

/*
 * libfuse before 3.16 (Debian 12 has 3.14) takes FUSE_CAP_PARALLEL_DIROPS
 * in conn->want but never sets FUSE_PARALLEL_DIROPS in its INIT reply
 * (libfuse pull request #861), so the kernel runs one lookup at a time in
 * a folder: four cats of four devices waited for each other's requests.
 * The session's writes go through here, and the first one, the INIT
 * reply (a fuse_out_header, then a fuse_init_out whose fourth 32-bit word
 * is flags), gets the bit that .init asked for.  libfuse hands these
 * callbacks the session's userdata (se->userdata, as fuse_req_userdata):
 * the struct ll.
 */
#define KERNEL_INIT_PARALLEL_DIROPS (1u << 18)

static ssize_t io_read(int fd, void *buf, size_t len, void *userdata)
{
	(void)userdata;
	return read(fd, buf, len);
}

static ssize_t io_writev(int fd, struct iovec *iov, int count,
			 void *userdata)
{
	struct ll *ll = userdata;

	if (!__atomic_exchange_n(&ll->init_reply_seen, true,
				 __ATOMIC_ACQ_REL) &&
	    ll->want_parallel_dirops && count >= 2 &&
	    iov[0].iov_len == 16 && iov[1].iov_len >= 16) {
		const int32_t *head = iov[0].iov_base; /* len, error, unique */
		uint32_t *init = iov[1].iov_base;

		if (head[1] == 0 && init[0] == 7)
			init[3] |= KERNEL_INIT_PARALLEL_DIROPS;
	}
	return writev(fd, iov, count);
}

static const struct fuse_custom_io session_io = {
	.read = io_read,
	.writev = io_writev,
};

int tgfs_ll_mount(struct ll *ll, const char *mountpoint)
{
	if (fuse_session_mount(ll->se, mountpoint) != 0)
		return -1;
	if (fuse_version() < 316 &&
	    fuse_session_custom_io(ll->se, &session_io,
				   fuse_session_fd(ll->se)) != 0) {
		fuse_session_unmount(ll->se);
		return -1;
	}
	return 0;
}

void tgfs_ll_free(struct ll *ll)
{
	if (!ll)
		return;
	if (ll->se)
		fuse_session_destroy(ll->se);
	inodes_free(ll->nodes);
	for (size_t i = 0; i < SNAPS; i++)
		free(ll->snaps[i].buf);
	pthread_mutex_destroy(&ll->snap_lock);
	pthread_mutex_destroy(&ll->lookers_lock);
	pthread_mutex_destroy(&ll->calls_lock);
	free(ll);
}
