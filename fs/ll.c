/*
 * ll.c - the operations (ops.c, fileops.c: by path, as libfuse's
 * high-level API has them) served over libfuse's low-level API, with the
 * node ids in our own table (inodes.c).
 *
 * This is what libfuse's high-level layer did for us, with a node a
 * quarter of the size: the kernel keeps a node id for each file and folder
 * it looked up until memory runs short, so a walk of a large tenant kept
 * one for every folder (find) or every file (rsync).  As there: a lookup
 * is a getattr of the path; a setattr is chmod, chown, truncate and
 * utimens in that order; a listing is made whole at offset 0 and handed
 * out in pieces.  Folders are not opened (ENOSYS to OPENDIR, unless
 * -o dir_open): the kernel lists them from its cache, and a folder's
 * generation in its mtime, or a drop after a change, tells it when not
 * to (readdir_unopened, attrs_for, folders_changed).  Unlike libfuse's
 * default, a file unlinked (or replaced by a rename) while open goes at
 * once, not to a .fuse_hidden* name until its last release: the RELEASE
 * of a close(2) comes after close(2) has returned, so vim's swap file,
 * closed then removed, could still be seen as .fuse_hidden* right after
 * vim exited.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inodes.h"
#include "kcache.h"
#include "ops.h"

/* A listing made for the kernel without an OPENDIR, while it reads it in
 * pieces (see readdir_unopened). */
struct snap {
	uint64_t ino;
	uint32_t tag; /* 0: a free slot */
	uint64_t used;
	char *buf;
	size_t len;
};
#define SNAPS 16

struct ll {
	struct tgfs_config *conf;
	struct inodes *nodes;
	struct fuse_session *se;
	struct fuse_config cfg; /* timeouts, from .init */
	struct tgfs *fs; /* fs->no_opendir: folders are never opened */
	pthread_mutex_t snap_lock;
	struct snap snaps[SNAPS];
	uint64_t snap_clock;
};

/* An open folder: its listing, made at the readdir of offset 0. */
struct ll_dir {
	pthread_mutex_t lock;
	uint64_t fh; /* what opendir set */
	char *buf;
	size_t len, cap;
	bool filled;
	int error;
	fuse_req_t req;
};

static struct ll *ll_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static void reply_rc(fuse_req_t req, int rc)
{
	fuse_reply_err(req, rc < 0 ? -rc : 0);
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

/* Gives the kernel an entry for @name in @parent, whose path is @path:
 * its attributes and a node id or, for a lookup (@lookup) of what does not
 * exist, a negative entry it may keep (after a mkdir or a symlink, that
 * would be an EIO: ENOENT then). */
static void reply_entry(fuse_req_t req, fuse_ino_t parent, const char *name,
			const char *path, bool lookup)
{
	struct ll *ll = ll_of(req);
	struct fuse_entry_param e = { 0 };
	int rc = tgfs_ops.getattr(path, &e.attr, NULL);

	if (rc == -ENOENT && lookup && ll->cfg.negative_timeout > 0) {
		e.entry_timeout = ll->cfg.negative_timeout;
		fuse_reply_entry(req, &e);
		return;
	}
	if (!rc)
		rc = inodes_lookup(ll->nodes, parent, name, &e.ino,
				   &e.generation);
	if (rc) {
		reply_rc(req, rc);
		return;
	}
	e.entry_timeout = ll->cfg.entry_timeout;
	e.attr_timeout = attrs_for(ll, path, &e.attr);
	/* An interrupted lookup: the kernel never got the id. */
	if (fuse_reply_entry(req, &e) == -ENOENT)
		inodes_forget(ll->nodes, e.ino, 1);
}

static void ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	char *path;
	int rc = inodes_path(ll_of(req)->nodes, parent, name, &path);

	if (rc)
		reply_rc(req, rc);
	else
		reply_entry(req, parent, name, path, true);
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

static void reply_attr(fuse_req_t req, const char *path,
		       struct fuse_file_info *fi)
{
	struct stat st;
	int rc = tgfs_ops.getattr(path, &st, fi);

	if (rc)
		reply_rc(req, rc);
	else
		fuse_reply_attr(req, &st, attrs_for(ll_of(req), path, &st));
}

static void ll_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	char *path;
	int rc = inodes_path(ll_of(req)->nodes, ino, NULL, &path);

	if (rc)
		reply_rc(req, rc);
	else
		reply_attr(req, path, fi);
	free(path);
}

static int set_times(const char *path, const struct stat *attr, int valid,
		     struct fuse_file_info *fi)
{
	struct timespec tv[2] = { { .tv_nsec = UTIME_OMIT },
				  { .tv_nsec = UTIME_OMIT } };

	if (valid & FUSE_SET_ATTR_ATIME_NOW)
		tv[0].tv_nsec = UTIME_NOW;
	else if (valid & FUSE_SET_ATTR_ATIME)
		tv[0] = attr->st_atim;
	if (valid & FUSE_SET_ATTR_MTIME_NOW)
		tv[1].tv_nsec = UTIME_NOW;
	else if (valid & FUSE_SET_ATTR_MTIME)
		tv[1] = attr->st_mtim;
	return tgfs_ops.utimens(path, tv, fi);
}

static void ll_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int valid, struct fuse_file_info *fi)
{
	char *path;
	int rc = inodes_path(ll_of(req)->nodes, ino, NULL, &path);

	if (!rc && (valid & FUSE_SET_ATTR_MODE))
		rc = tgfs_ops.chmod(path, attr->st_mode, fi);
	if (!rc && (valid & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)))
		rc = tgfs_ops.chown(path,
				    valid & FUSE_SET_ATTR_UID ? attr->st_uid
							      : (uid_t)-1,
				    valid & FUSE_SET_ATTR_GID ? attr->st_gid
							      : (gid_t)-1,
				    fi);
	if (!rc && (valid & FUSE_SET_ATTR_SIZE))
		rc = tgfs_ops.truncate(path, attr->st_size, fi);
	if (!rc && (valid & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME)))
		rc = set_times(path, attr, valid, fi);
	if (rc)
		reply_rc(req, rc);
	else
		reply_attr(req, path, fi);
	free(path);
}

static void ll_readlink(fuse_req_t req, fuse_ino_t ino)
{
	char *path, target[PATH_MAX + 1];
	int rc = inodes_path(ll_of(req)->nodes, ino, NULL, &path);

	if (!rc)
		rc = tgfs_ops.readlink(path, target, sizeof(target));
	if (rc)
		reply_rc(req, rc);
	else
		fuse_reply_readlink(req, target);
	free(path);
}

/* Makes @name in @parent with mkdir (@target NULL) or symlink, and gives
 * the kernel its entry. */
static void make(fuse_req_t req, fuse_ino_t parent, const char *name,
		 mode_t mode, const char *target)
{
	char *path;
	int rc = inodes_path(ll_of(req)->nodes, parent, name, &path);

	if (!rc)
		rc = target ? tgfs_ops.symlink(target, path)
			    : tgfs_ops.mkdir(path, mode);
	if (rc)
		reply_rc(req, rc);
	else
		reply_entry(req, parent, name, path, false);
	free(path);
}

static void ll_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	make(req, parent, name, mode, NULL);
}

static void ll_symlink(fuse_req_t req, const char *target,
		       fuse_ino_t parent, const char *name)
{
	make(req, parent, name, 0, target);
}

/* Removes @name from @parent with @op (unlink or rmdir). */
static void take_out(fuse_req_t req, fuse_ino_t parent, const char *name,
		     int (*op)(const char *path))
{
	struct ll *ll = ll_of(req);
	char *path;
	int rc = inodes_path(ll->nodes, parent, name, &path);

	if (!rc)
		rc = op(path);
	if (!rc)
		inodes_unlink(ll->nodes, parent, name);
	reply_rc(req, rc);
	free(path);
}

static void ll_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	take_out(req, parent, name, tgfs_ops.unlink);
}

static void ll_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	take_out(req, parent, name, tgfs_ops.rmdir);
}

static void ll_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      unsigned int flags)
{
	struct ll *ll = ll_of(req);
	char *from = NULL, *to = NULL;
	int rc = inodes_path(ll->nodes, parent, name, &from);

	if (!rc)
		rc = inodes_path(ll->nodes, newparent, newname, &to);
	if (!rc)
		rc = tgfs_ops.rename(from, to, flags);
	/* RENAME_EXCHANGE is refused (fileops.c).  The tenant has it now,
	 * so the rename succeeded even if the table cannot follow (out of
	 * memory: the node then goes by its old path, which says ENOENT). */
	if (!rc && inodes_rename(ll->nodes, parent, name, newparent,
				 newname) != 0)
		tg_log(TG_LOG_ERR, "%s: out of memory after rename", to);
	reply_rc(req, rc);
	free(from);
	free(to);
}

static void ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct ll *ll = ll_of(req);
	char *path;
	int rc = inodes_path(ll->nodes, ino, NULL, &path);

	if (!rc)
		rc = tgfs_ops.open(path, fi);
	if (rc)
		reply_rc(req, rc);
	/* An interrupted open: the kernel never got the handle. */
	else if (fuse_reply_open(req, fi) == -ENOENT)
		tgfs_ops.release(path, fi);
	free(path);
}

static void ll_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	struct ll *ll = ll_of(req);
	struct fuse_entry_param e = { 0 };
	char *path;
	int rc = inodes_path(ll->nodes, parent, name, &path);

	if (!rc)
		rc = tgfs_ops.create(path, mode, fi);
	if (rc)
		goto out;
	rc = tgfs_ops.getattr(path, &e.attr, fi);
	if (!rc)
		rc = inodes_lookup(ll->nodes, parent, name, &e.ino,
				   &e.generation);
	if (rc) {
		tgfs_ops.release(path, fi);
		goto out;
	}
	e.entry_timeout = ll->cfg.entry_timeout;
	e.attr_timeout = ll->cfg.attr_timeout;
	if (fuse_reply_create(req, &e, fi) == -ENOENT) {
		tgfs_ops.release(path, fi);
		inodes_forget(ll->nodes, e.ino, 1);
	}
out:
	if (rc)
		reply_rc(req, rc);
	free(path);
}

static void ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	char *path, *buf = NULL;
	int rc = inodes_path(ll_of(req)->nodes, ino, NULL, &path);

	if (!rc && !(buf = malloc(size ? size : 1)))
		rc = -ENOMEM;
	if (!rc)
		rc = tgfs_ops.read(path, buf, size, off, fi);
	if (rc < 0)
		reply_rc(req, rc);
	else
		fuse_reply_buf(req, buf, (size_t)rc);
	free(buf);
	free(path);
}

static void ll_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	char *path;
	int rc = inodes_path(ll_of(req)->nodes, ino, NULL, &path);

	if (!rc)
		rc = tgfs_ops.write(path, buf, size, off, fi);
	if (rc < 0)
		reply_rc(req, rc);
	else
		fuse_reply_write(req, (size_t)rc);
	free(path);
}

static void ll_flush(fuse_req_t req, fuse_ino_t ino,
		     struct fuse_file_info *fi)
{
	char *path;
	int rc = inodes_path(ll_of(req)->nodes, ino, NULL, &path);

	if (!rc)
		rc = tgfs_ops.flush(path, fi);
	reply_rc(req, rc);
	free(path);
}

static void ll_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		     struct fuse_file_info *fi)
{
	char *path;
	int rc = inodes_path(ll_of(req)->nodes, ino, NULL, &path);

	if (!rc)
		rc = tgfs_ops.fsync(path, datasync, fi);
	reply_rc(req, rc);
	free(path);
}

static void ll_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct ll *ll = ll_of(req);
	char *path = NULL;

	/* The handle is freed even when the node has no path any more. */
	inodes_path(ll->nodes, ino, NULL, &path);
	tgfs_ops.release(path ? path : "", fi);
	fuse_reply_err(req, 0);
	free(path);
}

static void ll_opendir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	char *path;
	struct ll_dir *d = NULL;
	int rc;

	/* The kernel takes this as "never ask again": it lists every
	 * folder from its cache (FOPEN_CACHE_DIR, FOPEN_KEEP_CACHE) until
	 * the folder's mtime changes or we drop its entries, and sends no
	 * RELEASEDIR. */
	if (ll_of(req)->fs->no_opendir) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	rc = inodes_path(ll_of(req)->nodes, ino, NULL, &path);

	if (!rc && !(d = calloc(1, sizeof(*d))))
		rc = -ENOMEM;
	if (!rc)
		rc = tgfs_ops.opendir(path, fi);
	if (rc) {
		free(d);
		reply_rc(req, rc);
		goto out;
	}
	pthread_mutex_init(&d->lock, NULL);
	d->fh = fi->fh;
	fi->fh = (uint64_t)(uintptr_t)d;
	if (fuse_reply_open(req, fi) == -ENOENT) {
		pthread_mutex_destroy(&d->lock);
		free(d);
	}
out:
	free(path);
}

/* Adds an entry to the listing being made (a fuse_fill_dir_t). */
static int add_entry(void *buf, const char *name, const struct stat *st,
		     off_t off, enum fuse_fill_dir_flags flags)
{
	struct ll_dir *d = buf;
	size_t need = fuse_add_direntry(d->req, NULL, 0, name, NULL, 0);
	/* "." and "..": an inode number unknown (as libfuse's filler) */
	struct stat unknown = { .st_ino = 0xffffffff };

	(void)off;
	(void)flags;
	if (!st)
		st = &unknown;
	if (d->len + need > d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 4096;
		char *b;

		while (cap < d->len + need)
			cap *= 2;
		if (!(b = realloc(d->buf, cap))) {
			d->error = -ENOMEM;
			return 1;
		}
		d->buf = b;
		d->cap = cap;
	}
	fuse_add_direntry(d->req, d->buf + d->len, d->cap - d->len, name, st,
			  (off_t)(d->len + need));
	d->len += need;
	return 0;
}

/* The high half of an offset given out without OPENDIR: 31 bits of the
 * listing's hash, never 0 (offset 0 is the start). */
static uint32_t tag_listing(char *buf, size_t len)
{
	uint32_t tag = (uint32_t)(fnv_add(FNV_INIT, buf, len) >> 33) | 1;

	/* Each entry: ino (8 bytes), off (8), namelen (4), type (4), the
	 * name, padded to 8 bytes (struct fuse_dirent). */
	for (size_t p = 0; p + 24 <= len;) {
		uint64_t off;
		uint32_t namelen;

		memcpy(&off, buf + p + 8, sizeof(off));
		memcpy(&namelen, buf + p + 16, sizeof(namelen));
		off |= (uint64_t)tag << 32;
		memcpy(buf + p + 8, &off, sizeof(off));
		p += (24 + (size_t)namelen + 7) & ~(size_t)7;
	}
	return tag;
}

/* Under snap_lock: the snapshot of @ino tagged @tag, or NULL. */
static struct snap *snap_find(struct ll *ll, uint64_t ino, uint32_t tag)
{
	for (size_t i = 0; i < SNAPS; i++)
		if (ll->snaps[i].tag == tag && ll->snaps[i].ino == ino) {
			ll->snaps[i].used = ++ll->snap_clock;
			return &ll->snaps[i];
		}
	return NULL;
}

/* Under snap_lock: keeps @buf (taken over) as the snapshot of @ino, in
 * place of the same or of the one used longest ago. */
static struct snap *snap_put(struct ll *ll, uint64_t ino, uint32_t tag,
			     char *buf, size_t len)
{
	struct snap *s = snap_find(ll, ino, tag);

	if (!s) {
		s = &ll->snaps[0];
		for (size_t i = 1; i < SNAPS; i++)
			if (ll->snaps[i].used < s->used)
				s = &ll->snaps[i];
	}
	free(s->buf);
	*s = (struct snap){ .ino = ino, .tag = tag, .buf = buf, .len = len,
			    .used = ++ll->snap_clock };
	return s;
}

/* Lists the folder @ino into @d (its buffer emptied first; @fh: what the
 * readdir operation gets as its handle).  0 or -errno. */
static int list_folder(fuse_req_t req, fuse_ino_t ino, struct ll_dir *d,
		       uint64_t fh)
{
	struct fuse_file_info fi = { .fh = fh };
	char *path = NULL;
	int rc = inodes_path(ll_of(req)->nodes, ino, NULL, &path);

	d->len = 0;
	d->error = 0;
	d->req = req;
	if (!rc)
		rc = tgfs_ops.readdir(path, d, add_entry, 0, &fi, 0);
	free(path);
	return rc ? rc : d->error;
}

/* Replies the piece of @buf (@len bytes of entries) at byte @at, at most
 * @size bytes; past the end, an empty one.  True at the end.  The kernel
 * drops an entry the piece cuts, and asks from it next time. */
static bool reply_piece(fuse_req_t req, const char *buf, size_t len,
			size_t at, size_t size)
{
	if (at >= len) {
		fuse_reply_buf(req, NULL, 0);
		return true;
	}
	fuse_reply_buf(req, buf + at, len - at < size ? len - at : size);
	return false;
}

/* Under snap_lock: the piece of @s at byte @at; the last (empty) one
 * frees it. */
static void snap_reply(fuse_req_t req, struct snap *s, size_t at,
		       size_t size)
{
	if (reply_piece(req, s->buf, s->len, at, size)) {
		free(s->buf);
		memset(s, 0, sizeof(*s));
	}
}

/*
 * A readdir without OPENDIR.  At offset 0 the folder is listed whole, as
 * it is now, and kept while the kernel reads it in pieces.  Offsets carry
 * a hash of the listing in their high half, so a piece is only ever cut
 * from the listing its offset came from: one no longer kept is made
 * again, and a listing that changed meanwhile fails that read with EIO
 * rather than hand out entries cut at the wrong places.
 */
static void readdir_unopened(fuse_req_t req, fuse_ino_t ino, size_t size,
			     off_t off)
{
	struct ll *ll = ll_of(req);
	uint32_t tag = (uint32_t)((uint64_t)off >> 32), made;
	size_t at = (size_t)((uint64_t)off & 0xffffffffu);
	struct ll_dir d = { 0 };
	struct snap *s;
	int rc;

	if (off < 0 || (off > 0 && !tag)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	pthread_mutex_lock(&ll->snap_lock);
	s = off ? snap_find(ll, ino, tag) : NULL;
	if (s) {
		snap_reply(req, s, at, size);
		pthread_mutex_unlock(&ll->snap_lock);
		return;
	}
	pthread_mutex_unlock(&ll->snap_lock);
	rc = list_folder(req, ino, &d, 0);
	if (!rc && !d.buf)
		rc = -EIO; /* "." and ".." at least */
	if (rc) {
		free(d.buf);
		reply_rc(req, rc);
		return;
	}
	made = tag_listing(d.buf, d.len);
	if (off && made != tag) {
		free(d.buf);
		fuse_reply_err(req, EIO);
		return;
	}
	/* Entries the kernel holds: dropped after a change (folders_changed). */
	inodes_mark_listed(ll->nodes, ino);
	pthread_mutex_lock(&ll->snap_lock);
	s = snap_put(ll, ino, made, d.buf, d.len);
	snap_reply(req, s, at, size);
	pthread_mutex_unlock(&ll->snap_lock);
}

static void ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
		       off_t off, struct fuse_file_info *fi)
{
	struct ll_dir *d = (struct ll_dir *)(uintptr_t)fi->fh;
	int rc = 0;

	if (!d) {
		readdir_unopened(req, ino, size, off);
		return;
	}
	pthread_mutex_lock(&d->lock);
	if (off == 0 || !d->filled) {
		rc = list_folder(req, ino, d, d->fh);
		d->filled = rc == 0;
	}
	/* Replied under the lock: once the reply is in, the folder may be
	 * closed, and its RELEASEDIR waits for the lock to free @d. */
	if (rc)
		reply_rc(req, rc);
	else
		reply_piece(req, d->buf, d->len, off < 0 ? d->len : (size_t)off,
			    size);
	pthread_mutex_unlock(&d->lock);
}

static void ll_releasedir(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	struct ll_dir *d = (struct ll_dir *)(uintptr_t)fi->fh;

	(void)ino;
	/* a readdir of it may still be writing its reply */
	pthread_mutex_lock(&d->lock);
	pthread_mutex_unlock(&d->lock);
	pthread_mutex_destroy(&d->lock);
	free(d->buf);
	free(d);
	fuse_reply_err(req, 0);
}

static void ll_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;
	int rc;

	(void)ino;
	rc = tgfs_ops.statfs("/", &sv);
	if (rc)
		reply_rc(req, rc);
	else
		fuse_reply_statfs(req, &sv);
}

/* The inval queue's way to the kernel (write.c). */
static void invalidate(void *arg, const char *path)
{
	struct ll *ll = arg;
	uint64_t ino = inodes_find(ll->nodes, path);

	/* 0: the kernel never looked it up; nothing to do. */
	if (ino)
		fuse_lowlevel_notify_inval_inode(ll->se, ino, 0, 0);
}

/*
 * Something changed that folders' entries are made of (a change made
 * here, or the cache dropped): the kernel drops the entries it holds of
 * every folder it was given entries of, before the change's request is
 * answered, so that the next listing shows it.  Without OPENDIR nothing
 * else would tell it before the folder's generation goes stale.  Dropping
 * a folder's pages waits on nothing of ours, so this is safe from a
 * request's thread.
 */
static void folders_changed(void *arg)
{
	struct ll *ll = arg;
	uint64_t ids[256], from = 0;
	size_t n;

	if (!ll->fs->no_opendir)
		return;
	/* In batches, outside the table's lock: lookups go on meanwhile. */
	while ((n = inodes_take_listed(ll->nodes, &from, ids, 256)) > 0)
		for (size_t i = 0; i < n; i++)
			fuse_lowlevel_notify_inval_inode(ll->se, ids[i], 0, 0);
}

static void ll_init(void *userdata, struct fuse_conn_info *conn)
{
	struct ll *ll = userdata;

	struct tgfs *fs = tgfs_init(conn, &ll->cfg, ll->conf, invalidate, ll);

	fs->nodes = ll->nodes; /* for the stats */
	ll->fs = fs;
	/* Kernels since 5.1 take an ENOSYS to OPENDIR as "never again"
	 * (FUSE_NO_OPENDIR_SUPPORT); before that it would fail the open. */
	fs->no_opendir = !ll->conf->dir_open &&
			 (conn->capable & FUSE_CAP_NO_OPENDIR_SUPPORT);
	fs->folders_changed = folders_changed;
	fs->folders_arg = ll;
}

static void ll_destroy(void *userdata)
{
	struct ll *ll = userdata;

	if (ll->fs)
		tgfs_destroy(ll->fs);
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
	ll->nodes = inodes_new();
	if (ll->nodes)
		ll->se = fuse_session_new(args, &ll_ops, sizeof(ll_ops), ll);
	if (!ll->se) {
		inodes_free(ll->nodes);
		pthread_mutex_destroy(&ll->snap_lock);
		free(ll);
		return NULL;
	}
	return ll;
}

struct fuse_session *tgfs_ll_session(struct ll *ll)
{
	return ll->se;
}

void tgfs_ll_free(struct ll *ll)
{
	if (!ll)
		return;
	fuse_session_destroy(ll->se);
	inodes_free(ll->nodes);
	for (size_t i = 0; i < SNAPS; i++)
		free(ll->snaps[i].buf);
	pthread_mutex_destroy(&ll->snap_lock);
	free(ll);
}
