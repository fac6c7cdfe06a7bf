/*
 * lldir.c - folders for the kernel: listed whole at offset 0 and handed
 * out in pieces.  Folders are not opened (ENOSYS to OPENDIR, unless
 * -o dir_open): the kernel lists them from its cache, and a folder's
 * generation in its mtime (ll.c attrs_for), or a drop after a change
 * (ll.c folders_changed), tells it when not to.  Without an open, a
 * listing is kept as a snapshot by node id while the kernel reads it in
 * pieces (readdir_unopened).  To READDIRPLUS each piece goes with the
 * attributes of its entries and a node id each, as LOOKUP gives them
 * (reply_plus), so a walk's lstats cost no LOOKUP of their own.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "inodes.h"
#include "kcache.h"
#include "write.h"
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

static int call_opendir(struct ll *ll, const struct tgfs_at *at, void *fi)
{
	return tgfs_opendir(ll->fs, at, fi);
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
	rc = ll_on_node(ll, ino, NULL, &path, call_opendir, fi);
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

/* Lists the folder @at into @d. */
static int call_readdir(struct ll *ll, const struct tgfs_at *at, void *arg)
{
	struct ll_dir *d = arg;

	d->len = 0;
	d->error = 0;
	/* A recursive remover lists what it removes (holds.h). */
	lh_listed(ll->fs, at->chain, fuse_req_ctx(d->req)->pid);
	return tgfs_readdir(ll->fs, at, d, add_entry);
}

/* Lists the folder @ino into @d (its buffer emptied first).  0 or
 * -errno. */
static int list_folder(fuse_req_t req, fuse_ino_t ino, struct ll_dir *d)
{
	struct ll *ll = ll_of(req);
	char *path = NULL;
	int rc = 0;

	d->req = req;
	rc = ll_on_node(ll, ino, NULL, &path, call_readdir, d);
	free(path);
	return rc ? rc : d->error;
}

/*
 * Who gets attributes.  A node id for each entry costs memory for as long
 * as the kernel keeps it (~90 bytes here, all of a large tenant's 690,000
 * entries after a find): entries go with attributes to a process that
 * looks at what it lists (rsync, ls -l, du: an lstat of each entry, each a
 * LOOKUP otherwise), and as names alone to one that only walks (find,
 * which looks up the folders it enters, not the files).  A process is
 * known by the lookup of a file in the folder it listed last (struct
 * looker, ll.h).
 */

/* Under ll->lookers_lock: @pid's slot; with @make, a new one in place of the
 * one used longest ago when it has none. */
static struct looker *looker_of(struct ll *ll, pid_t pid, bool make)
{
	struct looker *old = &ll->lookers[0];

	for (size_t i = 0; i < LOOKERS; i++) {
		if (ll->lookers[i].pid == pid) {
			ll->lookers[i].used = ++ll->lookers_clock;
			return &ll->lookers[i];
		}
		if (ll->lookers[i].used < old->used)
			old = &ll->lookers[i];
	}
	if (!make)
		return NULL;
	*old = (struct looker){ .pid = pid, .used = ++ll->lookers_clock };
	return old;
}

void ll_looked_up(fuse_req_t req, fuse_ino_t parent, const struct stat *st)
{
	struct ll *ll = ll_of(req);
	struct looker *l;

	if (S_ISDIR(st->st_mode))
		return;
	pthread_mutex_lock(&ll->lookers_lock);
	l = looker_of(ll, fuse_req_ctx(req)->pid, false);
	if (l && l->listed == parent)
		l->looks = true;
	pthread_mutex_unlock(&ll->lookers_lock);
}

/* The caller of @req lists folder @ino: true when it looks at what it
 * lists. */
static bool wants_attrs(fuse_req_t req, fuse_ino_t ino)
{
	struct looker *l;
	bool looks;

	struct ll *ll = ll_of(req);

	pthread_mutex_lock(&ll->lookers_lock);
	l = looker_of(ll, fuse_req_ctx(req)->pid, true);
	l->listed = ino;
	looks = l->looks;
	pthread_mutex_unlock(&ll->lookers_lock);
	return looks;
}

/*
 * The entry @name of folder @parent for READDIRPLUS, as a LOOKUP would
 * give it: its attributes and a node id with one more lookup (the
 * kernel counts one for each entry it takes).  0 or -errno (the entry
 * then goes without attributes).
 */
struct plus_args {
	fuse_ino_t parent;
	const char *name;
	struct fuse_entry_param *e;
};

static int call_plus(struct ll *ll, const struct tgfs_at *at, void *arg)
{
	struct plus_args *a = arg;

	return ll_entry(ll, a->parent, a->name, at, true, a->e);
}

static int plus_entry(struct ll *ll, fuse_ino_t parent, const char *name,
		      struct fuse_entry_param *e)
{
	char *path = NULL;
	int rc = ll_on_node(ll, parent, name, &path, call_plus,
			    &(struct plus_args){ parent, name, e });

	free(path);
	return rc;
}

/*
 * Replies READDIRPLUS from @len bytes of plain entries (struct
 * fuse_dirent, as add_entry made them, offsets and all): as many as fit
 * in @size with their attributes.  "." and ".." and an entry whose
 * attributes cannot be had go with node id 0, which the kernel takes as
 * a name alone (no lookup counted); so do symlinks, and every entry to
 * a process that only walks (wants_attrs).
 */
static void reply_plus(fuse_req_t req, fuse_ino_t parent, const char *plain,
		       size_t len, size_t size)
{
	struct ll *ll = ll_of(req);
	char *out = malloc(size ? size : 1);
	uint64_t *inos = malloc((size / 24 + 1) * sizeof(*inos));
	size_t used = 0, n = 0;
	bool attrs = wants_attrs(req, parent);

	if (!out || !inos) {
		free(out);
		free(inos);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	for (size_t p = 0; p + 24 <= len;) {
		uint64_t ino, off;
		uint32_t namelen, type;
		char name[256];
		struct fuse_entry_param e = { 0 };
		size_t step, need;

		memcpy(&ino, plain + p, 8);
		memcpy(&off, plain + p + 8, 8);
		memcpy(&namelen, plain + p + 16, 4);
		memcpy(&type, plain + p + 20, 4);
		step = (24 + (size_t)namelen + 7) & ~(size_t)7;
		if (namelen >= sizeof(name) || p + step > len)
			break; /* the cut end of a piece */
		memcpy(name, plain + p + 24, namelen);
		name[namelen] = '\0';
		need = fuse_add_direntry_plus(req, NULL, 0, name, NULL, 0);
		if (used + need > size)
			break;
		/* A link's size is its target's length, which may need
		 * another collection (a device's user): it is looked up
		 * when someone looks at it. */
		if (attrs && type != DT_LNK && strcmp(name, ".") &&
		    strcmp(name, "..") &&
		    plus_entry(ll, parent, name, &e) == 0) {
			inos[n++] = e.ino;
		} else {
			memset(&e, 0, sizeof(e));
			e.attr.st_ino = ino;
			e.attr.st_mode = type << 12;
		}
		fuse_add_direntry_plus(req, out + used, size - used, name, &e,
				       (off_t)off);
		used += need;
		p += step;
	}
	/* An interrupted readdir: the kernel took none of them. */
	if (fuse_reply_buf(req, out, used) == -ENOENT)
		for (size_t i = 0; i < n; i++)
			inodes_forget(ll->nodes, inos[i], 1);
	free(out);
	free(inos);
}

/* Replies the piece @piece of @len bytes, the entries from @ino's
 * listing at some offset: as they are, or with attributes (@plus). */
static void reply_entries(fuse_req_t req, fuse_ino_t ino, bool plus,
			  const char *piece, size_t len, size_t size)
{
	if (plus && len)
		reply_plus(req, ino, piece, len, size);
	else
		fuse_reply_buf(req, piece, len < size ? len : size);
}

/*
 * A readdir without OPENDIR.  At offset 0 the folder is listed whole, as
 * it is now, and kept while the kernel reads it in pieces.  Offsets carry
 * a hash of the listing in their high half, so a piece is only ever cut
 * from the listing its offset came from: one no longer kept is made
 * again, and a listing that changed meanwhile fails that read with EIO
 * rather than hand out entries cut at the wrong places.  The piece is
 * copied out (at most @size bytes: entries with attributes are bigger),
 * so attributes are looked up with no lock held; past the end, the
 * listing is let go.
 */
static void readdir_unopened(fuse_req_t req, fuse_ino_t ino, size_t size,
			     off_t off, bool plus)
{
	struct ll *ll = ll_of(req);
	uint32_t tag = (uint32_t)((uint64_t)off >> 32), made;
	size_t at = (size_t)((uint64_t)off & 0xffffffffu), n = 0;
	struct ll_dir d = { 0 };
	struct snap *s;
	char *piece = NULL;
	int rc;

	if (off < 0 || (off > 0 && !tag)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	pthread_mutex_lock(&ll->snap_lock);
	s = off ? snap_find(ll, ino, tag) : NULL;
	if (!s) {
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
		/* Entries the kernel holds: dropped after a change
		 * (folders_changed). */
		inodes_mark_listed(ll->nodes, ino);
		pthread_mutex_lock(&ll->snap_lock);
		s = snap_put(ll, ino, made, d.buf, d.len);
	}
	if (at >= s->len) {
		free(s->buf);
		memset(s, 0, sizeof(*s));
	} else {
		n = s->len - at < size ? s->len - at : size;
		piece = malloc(n);
		if (piece)
			memcpy(piece, s->buf + at, n);
	}
	pthread_mutex_unlock(&ll->snap_lock);
	if (n && !piece)
		fuse_reply_err(req, ENOMEM);
	else
		reply_entries(req, ino, plus, piece, n, size);
	free(piece);
}

static void readdir_any(fuse_req_t req, fuse_ino_t ino, size_t size,
			off_t off, struct fuse_file_info *fi, bool plus)
{
	struct ll_dir *d = (struct ll_dir *)(uintptr_t)fi->fh;
	size_t at;
	int rc = 0;

	if (!d) {
		readdir_unopened(req, ino, size, off, plus);
		return;
	}
	pthread_mutex_lock(&d->lock);
	if (off == 0 || !d->filled) {
		rc = list_folder(req, ino, d);
		d->filled = rc == 0;
	}
	/* Replied under the lock: once the reply is in, the folder may be
	 * closed, and its RELEASEDIR waits for the lock to free @d. */
	at = off < 0 || (size_t)off > d->len ? d->len : (size_t)off;
	if (rc)
		ll_reply_rc(req, rc);
	else
		reply_entries(req, ino, plus, d->buf + at, d->len - at, size);
	pthread_mutex_unlock(&d->lock);
}

void ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		struct fuse_file_info *fi)
{
	readdir_any(req, ino, size, off, fi, false);
}

void ll_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	readdir_any(req, ino, size, off, fi, true);
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
