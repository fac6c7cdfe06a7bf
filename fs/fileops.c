/*
 * fileops.c - the FUSE operations that open, write and change things.
 *
 * When a change is sent (DESIGN.md §3): a single-line field at the
 * write(2) that completes its line, so the writer's write fails if the
 * API refuses; anything else (protocols, tags, object.json, a value
 * without its newline) at flush or fsync, whose return carries the error;
 * or at the rename(2) of a scratch file onto a field (sed -i, os.replace).
 * O_TRUNC and ftruncate(0) only mean "new content follows".  Only a handle
 * that wrote bytes sends, and content equal to the tenant's sends nothing.
 *
 * Files that are not the tenant's (editors' swap and backup files) go to
 * the scratch store; renaming a field onto a scratch name (vim's backup)
 * only snapshots it, the field stays.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kcache.h"
#include "node.h"
#include "ops.h"
#include "scratch.h"
#include "status.h"
#include "write.h"

enum fh_type { FH_READ, FH_FIELD, FH_SCRATCH, FH_STATUS };

/*
 * A file of an object as listed, opened to read: its node (packed, as
 * the object keeps it) is copied at the open and the file rendered at
 * the first read, so that an open the kernel answers from its page cache
 * renders nothing.
 */
struct unread {
	struct tg_object obj; /* kind, packed, packed_size, hash only */
	long field;           /* -1: object.json */
};

/* An open file. */
struct fh {
	enum fh_type type;
	char *path;
	/* FH_READ: the snapshot (with unread: NULL until rendered, then
	 * set once); FH_FIELD: what is written */
	char *data;
	size_t len, cap, max;
	struct unread *unread;
	bool dirty;   /* bytes written since the last send */
	bool oneline; /* sent at the write that completes the line */
	bool secret;  /* a secret: sent at the first write */
	bool append;  /* O_APPEND: every write goes at the end of ours */
	size_t status_file;
};

static struct fh *fh_of(struct fuse_file_info *fi)
{
	return (struct fh *)(uintptr_t)fi->fh;
}

static void fh_free(struct fh *h)
{
	if (!h)
		return;
	if (h->data) {
		explicit_bzero(h->data, h->len);
		free(h->data);
	}
	free(h->path);
	if (h->unread)
		free(h->unread->obj.packed);
	free(h->unread);
	free(h);
}

/* A read handle of @n (a file of an object as listed), @len bytes, not
 * rendered yet. */
static struct fh *fh_unread(const char *path, const struct node *n,
			    size_t len)
{
	struct fh *h = calloc(1, sizeof(*h));
	struct unread *u = calloc(1, sizeof(*u));

	if (!h || !u || !(h->path = strdup(path)) ||
	    !(u->obj.packed = malloc(n->obj->packed_size))) {
		free(u);
		if (h)
			free(h->path);
		free(h);
		return NULL;
	}
	memcpy(u->obj.packed, n->obj->packed, n->obj->packed_size);
	u->obj.kind = n->obj->kind;
	u->obj.packed_size = n->obj->packed_size;
	u->obj.hash = n->obj->hash;
	u->field = n->type == NODE_JSON ? -1 : (long)n->field;
	h->type = FH_READ;
	h->unread = u;
	h->len = len;
	return h;
}

/* The content of read handle @h, rendered at its first read; NULL when
 * out of memory.  Reads may come at once: the first rendering set wins. */
static const char *fh_text(struct fh *h)
{
	char *data = __atomic_load_n(&h->data, __ATOMIC_ACQUIRE), *buf = NULL;
	const struct unread *u = h->unread;
	const char *v;
	size_t n;

	if (data || !u)
		return data;
	v = u->field < 0 ? tg_object_json(&u->obj, &buf)
			 : tg_object_value(&u->obj, (size_t)u->field, &buf);
	/* as long as measured; the file cannot be longer than stat said */
	if (!v || !(data = calloc(1, h->len + 1))) {
		free(buf);
		return NULL;
	}
	n = strlen(v);
	memcpy(data, v, n < h->len ? n : h->len);
	free(buf);
	if (!__atomic_compare_exchange_n(&h->data, &(char *){ NULL }, data,
					 false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		free(data);
		data = __atomic_load_n(&h->data, __ATOMIC_ACQUIRE);
	}
	return data;
}

static struct fh *fh_new(enum fh_type type, const char *path,
			 const char *data, size_t len)
{
	struct fh *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->type = type;
	h->path = strdup(path);
	h->data = malloc(len + 1);
	if (!h->path || !h->data) {
		fh_free(h);
		return NULL;
	}
	memcpy(h->data, data, len);
	h->len = h->cap = len;
	return h;
}

/* Sets @h up to take a field's new value (content @now, kept unless the
 * open truncated). */
static int open_for_write(struct tgfs *fs, struct node *n,
			  const char *path, struct fuse_file_info *fi,
			  bool truncated)
{
	const char *now = node_text(fs, n);
	struct fh *h;

	if (fs->cfg->read_only)
		return -EROFS;
	if (n->type == NODE_FIELD) {
		const struct tg_field *f = &n->kind->fields[n->field];

		if (!f->writable || (!f->set && !f->ntrans))
			return -EACCES;
	}
	/* Appending to a one-value field (echo v >> f) gives it a new value;
	 * appending to a list (tags) adds to it. */
	if (n->type == NODE_FIELD && (fi->flags & O_APPEND) &&
	    !tg_field_multiline(&n->kind->fields[n->field]))
		truncated = true;
	h = fh_new(FH_FIELD, path, truncated ? "" : now,
		   truncated ? 0 : strlen(now));
	if (!h)
		return -ENOMEM;
	/* A write through the kernel changes the size it holds. */
	kcache_forget(fs->kcache, path);
	h->max = n->type == NODE_JSON ? TG_JSON_MAX : TG_FIELD_MAX;
	/* Secrets too: any write generates, and the write carries the
	 * error (shells ignore close errors). */
	h->oneline = n->type == NODE_FIELD &&
		     !tg_field_multiline(&n->kind->fields[n->field]);
	h->secret = n->type == NODE_FIELD &&
		    tg_field_secret(&n->kind->fields[n->field]);
	/* The kernel puts an appending write at the size it knows, which
	 * is the old value's, not what this handle holds. */
	h->append = fi->flags & O_APPEND;
	fi->fh = (uint64_t)(uintptr_t)h;
	fi->direct_io = 1;
	return 0;
}

int tgfs_open(struct tgfs *fs, const char *path, struct fuse_file_info *fi)
{
	bool writing = (fi->flags & O_ACCMODE) != O_RDONLY;
	struct node n;
	struct fh *h = NULL;
	char *status = NULL;
	const char *text;
	enum kcache_use use;
	int rc;

	rc = node_resolve(fs, path, &n);
	if (rc == -ENOENT && scratch_stat(fs->scratch, path,
					  &(struct stat){ 0 }) == 0) {
		if (fi->flags & O_TRUNC)
			scratch_truncate(fs->scratch, path, 0);
		h = fh_new(FH_SCRATCH, path, "", 0);
		if (!h)
			return -ENOMEM;
		fi->fh = (uint64_t)(uintptr_t)h;
		fi->direct_io = 1;
		return 0;
	}
	if (rc)
		return rc;
	switch (n.type) {
	case NODE_STATFILE:
		if (writing) {
			rc = status_writable(n.field) ? 0 : -EACCES;
			h = fh_new(FH_STATUS, path, "", 0);
		} else {
			status = status_render(fs, n.field);
			h = status ? fh_new(FH_READ, path, status,
					    strlen(status))
				   : NULL;
		}
		if (!h) {
			rc = rc ? rc : -ENOMEM;
			break;
		}
		h->status_file = n.field;
		fi->fh = (uint64_t)(uintptr_t)h;
		/* Its size changes under the kernel's feet: no caching. */
		fi->direct_io = 1;
		break;
	case NODE_DRAFTINFO:
		if (writing) {
			rc = -EACCES;
			break;
		}
		/* read like a field */
		__attribute__((fallthrough));
	case NODE_FIELD:
	case NODE_JSON:
		if (writing) {
			rc = open_for_write(fs, &n, path, fi,
					    fi->flags & O_TRUNC);
			break;
		}
		/* Through the kernel's page cache when the size it holds is
		 * this content's; a warm cat is then an OPEN and a RELEASE
		 * (kcache.c), and the file of an object as listed is not
		 * even rendered: its object's hash tells its content.
		 * Otherwise (secrets, drafts) every read asks us. */
		if (page_cacheable(&n) && n.obj->packed && !n.obj->values) {
			h = fh_unread(path, &n, node_content_len(&n));
			use = h ? kcache_open(fs->kcache, path, n.obj->hash,
					      h->len)
				: KC_DIRECT;
		} else {
			text = node_text(fs, &n);
			h = fh_new(FH_READ, path, text, strlen(text));
			use = KC_DIRECT;
		}
		if (!h) {
			rc = -ENOMEM;
			break;
		}
		fi->fh = (uint64_t)(uintptr_t)h;
		fi->direct_io = use == KC_DIRECT;
		fi->keep_cache = use == KC_KEEP;
		/* Nothing to send at close(2) of a reader: spare the kernel
		 * the FLUSH round trip (a third of a warm cat's requests). */
		fi->noflush = 1;
		break;
	case NODE_LINK:
		rc = -ELOOP;
		break;
	default:
		rc = -EISDIR;
		break;
	}
	if (rc && h && !fi->fh)
		fh_free(h);
	free(status);
	node_release(&n);
	return rc;
}

/* 0 when @path is directly in an object folder (where scratch files may
 * be made), -EPERM elsewhere, or the error resolving its folder. */
static int in_object_folder(struct tgfs *fs, const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[4096];
	struct node n;
	int rc;

	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	rc = node_resolve(fs, dir[0] ? dir : "/", &n);
	if (rc)
		return rc;
	rc = n.type == NODE_OBJECT ? 0 : -EPERM;
	node_release(&n);
	return rc;
}

int tgfs_create(struct tgfs *fs, const char *path, mode_t mode,
		struct fuse_file_info *fi)
{
	struct node n;
	int rc;

	/* A field the kernel believes gone (vim renamed it to its backup
	 * name): writing it anew is writing the field. */
	rc = node_resolve(fs, path, &n);
	if (rc == 0) {
		if (n.type == NODE_FIELD || n.type == NODE_JSON)
			rc = open_for_write(fs, &n, path, fi, true);
		else
			rc = -EEXIST;
		node_release(&n);
		return rc;
	}
	if (fs->cfg->read_only)
		return -EROFS;
	rc = in_object_folder(fs, path);
	if (rc)
		return rc;
	rc = scratch_create(fs->scratch, path, mode, NULL);
	if (rc)
		return rc;
	return tgfs_open(fs, path, fi);
}

int tgfs_read(struct tgfs *fs, char *buf, size_t size, off_t off,
	      struct fuse_file_info *fi)
{
	struct fh *h = fh_of(fi);
	char *data = NULL;
	size_t len;
	bool link;

	if (!h || h->type == FH_STATUS)
		return -EBADF;
	__atomic_fetch_add(&fs->reads, 1, __ATOMIC_RELAXED);
	if (h->type == FH_SCRATCH) {
		data = scratch_get(fs->scratch, h->path, &len, &link);
		if (!data)
			return -ENOENT;
	} else {
		len = h->len;
	}
	if (off < 0 || (size_t)off >= len) {
		size = 0;
	} else {
		const char *text = data ? data : fh_text(h);

		if (!text)
			return -ENOMEM;
		if (size > len - (size_t)off)
			size = len - (size_t)off;
		memcpy(buf, text + off, size);
	}
	free(data);
	return (int)size;
}

static bool secret_field(const struct fh *h)
{
	return h->secret;
}

/* Sends what @h holds, if anything new, to the file at @path (its path
 * now: the folders on the way may have been renamed since the open).
 * -ESTALE: @path names nothing now, and nothing was sent. */
static int send(struct tgfs *fs, const char *path, struct fh *h)
{
	int rc;

	if (h->type != FH_FIELD || !h->dirty)
		return 0;
	h->dirty = false;
	rc = commit_field(fs, path, h->data, h->len);
	if (rc == -ESTALE)
		h->dirty = true;
	return rc;
}

int tgfs_write(struct tgfs *fs, const char *path, const char *buf,
	       size_t size, off_t off, struct fuse_file_info *fi)
{
	struct fh *h = fh_of(fi);
	size_t end;

	if (!h || off < 0)
		return -EBADF;
	if (h->type == FH_FIELD && h->append)
		off = (off_t)h->len;
	end = (size_t)off + size;
	if (h->type == FH_SCRATCH)
		return scratch_write(fs->scratch, h->path, buf, size, off);
	if (h->type == FH_STATUS) {
		int rc = status_write(fs, h->status_file);

		return rc ? rc : (int)size;
	}
	if (h->type != FH_FIELD)
		return -EBADF;
	if (end > h->max)
		return -EFBIG;
	if (end > h->cap) {
		size_t cap = end * 2 > h->max ? h->max : end * 2;
		char *d = realloc(h->data, cap + 1);

		if (!d)
			return -ENOMEM;
		h->data = d;
		h->cap = cap;
	}
	if ((size_t)off > h->len)
		memset(h->data + h->len, 0, (size_t)off - h->len);
	memcpy(h->data + off, buf, size);
	if (end > h->len)
		h->len = end;
	h->dirty = true;
	/* The line is complete: send now, so the write carries the error. */
	if (h->oneline && (memchr(h->data, '\n', h->len) || secret_field(h))) {
		int rc = send(fs, path, h);

		if (rc)
			return rc;
	}
	return (int)size;
}

int tgfs_flush(struct tgfs *fs, const char *path, struct fuse_file_info *fi)
{
	struct fh *h = fh_of(fi);

	return h ? send(fs, path, h) : 0;
}

int tgfs_release(struct tgfs *fs, struct fuse_file_info *fi)
{
	(void)fs;
	fh_free(fh_of(fi));
	return 0;
}

int tgfs_truncate(struct tgfs *fs, const char *path, off_t size,
		  struct fuse_file_info *fi)
{
	struct fh *h = fi ? fh_of(fi) : NULL;
	struct node n;
	int rc;

	if (size < 0)
		return -EINVAL;
	if (h && h->type == FH_FIELD) {
		/* "New content follows": nothing is sent for this. */
		if ((size_t)size > h->max)
			return -EFBIG;
		if ((size_t)size > h->len) {
			char *d = realloc(h->data, (size_t)size + 1);

			if (!d)
				return -ENOMEM;
			memset(d + h->len, 0, (size_t)size - h->len);
			h->data = d;
			h->cap = (size_t)size;
		}
		h->len = (size_t)size;
		return 0;
	}
	rc = scratch_truncate(fs->scratch, path, size);
	if (rc != -ENOENT)
		return rc;
	rc = node_resolve(fs, path, &n);
	if (rc)
		return rc;
	if (n.type == NODE_STATFILE)
		rc = status_writable(n.field) ? 0 : -EACCES;
	else if (n.type != NODE_FIELD && n.type != NODE_JSON)
		rc = -EISDIR;
	else if (fs->cfg->read_only)
		rc = -EROFS;
	else if (n.type == NODE_FIELD &&
		 !n.kind->fields[n.field].writable)
		rc = -EACCES;
	/* truncate(2) by name sets nothing: a value comes with a write. */
	node_release(&n);
	return rc;
}

int tgfs_mkdir(struct tgfs *fs, const char *path, mode_t mode)
{
	return tgfs_make_object_as(fs, path, mode);
}

int tgfs_rmdir(struct tgfs *fs, const char *path)
{
	return tgfs_remove_object(fs, path);
}

int tgfs_unlink(struct tgfs *fs, const char *path)
{
	int rc;

	if (scratch_remove(fs->scratch, path) == 0)
		return 0;
	if (fs->cfg->read_only)
		return -EROFS;
	rc = tgfs_link_remove(fs, path);
	return rc == -ENOTSUP ? -EPERM : rc;
}

int tgfs_symlink(struct tgfs *fs, const char *target, const char *path)
{
	int rc;

	if (fs->cfg->read_only)
		return -EROFS;
	rc = tgfs_link_add(fs, target, path);
	if (rc != -ENOTSUP)
		return rc;
	/* Not a relation: a lock link or a temporary name, in memory. */
	rc = in_object_folder(fs, path);
	return rc ? rc : scratch_create(fs->scratch, path, 0777, target);
}

int tgfs_rename(struct tgfs *fs, const char *from, const char *to,
		unsigned int flags)
{
	struct node n;
	size_t len;
	bool link = false;
	char *data;
	int rc;

	if (flags & RENAME_EXCHANGE)
		return -EINVAL;
	if (fs->cfg->read_only)
		return -EROFS;
	data = scratch_get(fs->scratch, from, &len, &link);
	if (data) {
		/* A scratch file onto a field or object.json commits it; a
		 * scratch link onto a relation sets it (ln -sfn). */
		rc = node_resolve(fs, to, &n);
		if (rc == 0 && !link &&
		    (n.type == NODE_FIELD || n.type == NODE_JSON)) {
			struct stat st = { 0 };

			node_release(&n);
			/* Its mtime says which version it is of (rsync sets
			 * it before the rename). */
			scratch_stat(fs->scratch, from, &st);
			rc = commit_field_from(fs, to, data, len,
					       (int64_t)st.st_mtime);
		} else if (link && (rc == 0 ? n.type == NODE_LINK : true)) {
			if (rc == 0)
				node_release(&n);
			rc = tgfs_link_add(fs, data, to);
			if (rc == -ENOTSUP)
				rc = scratch_rename(fs->scratch, from, to);
			else if (rc == 0)
				scratch_remove(fs->scratch, from);
			free(data);
			return rc;
		} else if (rc == -ENOENT) {
			rc = scratch_rename(fs->scratch, from, to);
			free(data);
			return rc;
		} else {
			if (rc == 0)
				node_release(&n);
			rc = -EPERM;
		}
		if (rc == 0)
			scratch_remove(fs->scratch, from);
		explicit_bzero(data, len);
		free(data);
		return rc;
	}
	rc = node_resolve(fs, from, &n);
	if (rc)
		return rc;
	if (n.type == NODE_FIELD || n.type == NODE_JSON) {
		/* vim's backup: the field stays; its copy is scratch. */
		const char *text = node_text(fs, &n);

		rc = scratch_create(fs->scratch, to, 0644, NULL);
		if (rc == -EEXIST) {
			scratch_truncate(fs->scratch, to, 0);
			rc = 0;
		}
		if (!rc && *text)
			rc = scratch_write(fs->scratch, to, text, strlen(text),
					   0);
		rc = rc < 0 ? rc : 0;
	} else if (n.type == NODE_OBJECT) {
		rc = 1;
	} else {
		rc = -EPERM;
	}
	node_release(&n);
	if (rc == 1)
		rc = tgfs_rename_object(fs, from, to);
	return rc;
}

/* chmod, chown and touch change nothing real: they succeed where the
 * path exists, and scratch files keep what they are told.  A touch of a
 * connector's tokens generates new ones (DESIGN.md §5). */
static int exists(struct tgfs *fs, const char *path, struct node *n)
{
	int rc = node_resolve(fs, path, n);

	return rc;
}

int tgfs_chmod(struct tgfs *fs, const char *path, mode_t mode)
{
	struct node n;
	int rc;

	if (scratch_set_mode(fs->scratch, path, mode, NULL) == 0)
		return 0;
	rc = exists(fs, path, &n);
	if (!rc)
		node_release(&n);
	return rc;
}

int tgfs_chown(struct tgfs *fs, const char *path)
{
	struct node n;
	int rc;

	if (scratch_stat(fs->scratch, path, &(struct stat){ 0 }) == 0)
		return 0;
	rc = exists(fs, path, &n);
	if (!rc)
		node_release(&n);
	return rc;
}

int tgfs_utimens(struct tgfs *fs, const char *path,
		 const struct timespec tv[2])
{
	struct node n;
	bool secret;
	int rc;

	if (scratch_set_mode(fs->scratch, path, (mode_t)-1,
			     tv ? &tv[1] : NULL) == 0)
		return 0;
	rc = exists(fs, path, &n);
	if (rc)
		return rc;
	secret = n.type == NODE_FIELD &&
		 tg_field_secret(&n.kind->fields[n.field]) &&
		 n.kind->fields[n.field].set;
	node_release(&n);
	return secret ? commit_field(fs, path, "", 0) : 0;
}
