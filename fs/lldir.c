/*
 * lldir.c - folders for the kernel: listed whole at offset 0 and handed
 * out in pieces.  Folders are not opened (ENOSYS to OPENDIR, unless
 * -o dir_open): the kernel lists them from its cache, and a folder's
 * generation in its mtime (ll.c attrs_for), or a drop after a change
 * (ll.c folders_changed), tells it when not to.  Without an open, a
 * listing is kept as a snapshot by node id while the kernel reads it in
 * pieces (readdir_unopened).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "inodes.h"
#include "kcache.h"
#include "ll.h"

/* An open folder: its listing, made at the readdir of offset 0. */
struct ll_dir {
	pthread_mutex_t lock;
	char *buf;
	size_t len, cap;
	bool filled;
	int error;
	fuse_req_t req;
};

static int call_opendir(struct ll *ll, const char *path, void *fi)
{
	return tgfs_opendir(ll->fs, path, fi);
}

void ll_opendir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct ll *ll = ll_of(req);
	char *path = NULL;
	struct ll_dir *d = NULL;
	int rc = 0;

	/* The kernel takes this as "never ask again": it lists every
	 * folder from its cache (FOPEN_CACHE_DIR, FOPEN_KEEP_CACHE) until
	 * the folder's mtime changes or we drop its entries, and sends no
	 * RELEASEDIR. */
	if (ll->fs->no_opendir) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	rc = ll_on_path(ll, ino, NULL, &path, call_opendir, fi);
	if (!rc && !(d = calloc(1, sizeof(*d))))
		rc = -ENOMEM;
	if (rc) {
		free(d);
		ll_reply_rc(req, rc);
		goto out;
	}
	pthread_mutex_init(&d->lock, NULL);
	fi->fh = (uint64_t)(uintptr_t)d;
	if (fuse_reply_open(req, fi) == -ENOENT) {
		pthread_mutex_destroy(&d->lock);
		free(d);
	}
out:
	free(path);
}

/* Adds an entry to the listing being made (a tgfs_fill_fn). */
static int add_entry(void *buf, const char *name, const struct stat *st)
{
	struct ll_dir *d = buf;
	size_t need = fuse_add_direntry(d->req, NULL, 0, name, NULL, 0);
	/* "." and "..": an inode number unknown (as libfuse's filler) */
	struct stat unknown = { .st_ino = 0xffffffff };

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

/* Lists the folder at @path into @d (a second try starts afresh). */
static int call_readdir(struct ll *ll, const char *path, void *arg)
{
	struct ll_dir *d = arg;

	d->len = 0;
	d->error = 0;
	return tgfs_readdir(ll->fs, path, d, add_entry);
}

/* Lists the folder @ino into @d (its buffer emptied first).  0 or
 * -errno. */
static int list_folder(fuse_req_t req, fuse_ino_t ino, struct ll_dir *d)
{
	struct ll *ll = ll_of(req);
	char *path = NULL;
	int rc = 0;

	d->req = req;
	rc = ll_on_path(ll, ino, NULL, &path, call_readdir, d);
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
	rc = list_folder(req, ino, &d);
	if (!rc && !d.buf)
		rc = -EIO; /* "." and ".." at least */
	if (rc) {
		free(d.buf);
		ll_reply_rc(req, rc);
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

void ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
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
		rc = list_folder(req, ino, d);
		d->filled = rc == 0;
	}
	/* Replied under the lock: once the reply is in, the folder may be
	 * closed, and its RELEASEDIR waits for the lock to free @d. */
	if (rc)
		ll_reply_rc(req, rc);
	else
		reply_piece(req, d->buf, d->len, off < 0 ? d->len : (size_t)off,
			    size);
	pthread_mutex_unlock(&d->lock);
}

void ll_releasedir(fuse_req_t req, fuse_ino_t ino,
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
