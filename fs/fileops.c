/*
 * fileops.c - open files: opens (by node type), reads, writes, flush,
 * truncate and release; names are nameops.c's.
 *
 * When a change is sent (DESIGN.md §3): a single-line field written
 * plainly (O_TRUNC or ftruncate(0), then writes one after the other from
 * offset 0: echo, printf, cp, vim) at the write(2) that completes its
 * line, so the writer's write fails if the API refuses; anything else
 * (protocols, tags, object.json, a value without its newline, a writer
 * that overlays bytes in place: rsync --inplace, dd conv=notrunc) at
 * flush or fsync, whose return carries the error, judged on the content
 * as the writer left it; or at the rename(2) of a scratch file onto a
 * field (sed -i, os.replace).  O_TRUNC and ftruncate(0) mean "new content
 * follows": a file still empty at close is the value (null, or EINVAL
 * for a field that takes no null).  Content equal to the tenant's sends
 * nothing.  A write is judged whole: a write(2) that would leave a
 * plainly written one-line field with two lines, or a list appended to
 * (>>) with a line it refuses, is refused and kept out of the file.
 * `>>` adds to a list (protocols, tags); to a one-value file it is EINVAL.
 *
 * Files that are not the tenant's (editors' swap and backup files) go to
 * the scratch store.
 *
 * READ, WRITE, FLUSH and RELEASE work from the handle alone: a writer's
 * handle keeps a copy of its file's chain (inodes.h) and finds the file
 * again by it at each send (node_resolve_chain: its object by its id,
 * whatever it is called by then); its path at the open only names it in
 * the errors log.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inodes.h"
#include "kcache.h"
#include "node.h"
#include "ops.h"
#include "removals.h"
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
	/* its path at the open: its name in the errors log; FH_SCRATCH:
	 * its key in the scratch store (node_scratch_key: by its object's
	 * id, so that a rename of its folder leaves it open) */
	char *path;
	/* FH_FIELD: how its file is found again at each send, whatever
	 * its object is called by then (node_resolve_chain); NULL: by
	 * @path (a file opened by path) */
	struct inodes_chain *chain;
	/* FH_READ: the snapshot (with unread: NULL until rendered, then
	 * set once); FH_FIELD: what is written */
	char *data;
	size_t len, cap, max;
	struct unread *unread;
	const struct tg_field *field; /* NULL: object.json */
	bool dirty;   /* written (or cut to a size > 0) since the last send */
	bool emptied; /* made empty (O_TRUNC, ftruncate(0)) and not written
		       * since: the empty value, set at release */
	bool fresh;   /* new content follows: empty at the open or at an
		       * ftruncate(0), written one write after the other */
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
	inodes_chain_free(h->chain);
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

/* Refuses a write of ours (-errno @rc) with @why in the errors file. */
static int refuse(struct tgfs *fs, const char *path, int rc, const char *why)
{
	tgfs_record_error(fs, path, rc, why);
	return rc;
}

/* Sets @h up to take a field's new value (content @now, kept unless the
 * open truncated).  A read-only field opens too: writing it the bytes it
 * holds is no change (rsync --inplace), anything else fails at its send. */
static int open_for_write(struct tgfs *fs, struct node *n,
			  const char *path, struct fuse_file_info *fi,
			  bool truncated)
{
	const struct tg_field *f = node_field(n);
	const char *now;
	struct fh *h;

	if (fs->cfg->read_only)
		return -EROFS;
	/* Appending adds to a list; to a one-value file (or object.json)
	 * it cannot mean replace. */
	if ((fi->flags & O_APPEND) && !truncated &&
	    (!f || !tg_field_multiline(f)))
		return refuse(fs, path, -EINVAL,
			      "appending (>>) to a one-value file: write "
			      "it with > instead");
	now = node_text(fs, n);
	h = fh_new(FH_FIELD, path, truncated ? "" : now,
		   truncated ? 0 : strlen(now));
	if (!h)
		return -ENOMEM;
	/* A write through the kernel changes the size it holds. */
	kcache_forget(fs->kcache, path);
	h->field = f;
	h->max = n->type == NODE_JSON ? TG_JSON_MAX : TG_FIELD_MAX;
	/* Secrets too: any write generates, and the write carries the
	 * error (shells ignore close errors). */
	/* (A list the API alone sets, private-ips, is lines too: a
	 * rewrite of it with its bytes is taken, tar x makes one.) */
	h->oneline = f && !tg_field_multiline(f) && f->type != TG_FT_LIST;
	h->secret = f && tg_field_secret(f);
	h->fresh = h->len == 0;
	/* Emptied by the open: if nothing is written, empty is the value
	 * (but only a write makes a new secret). */
	h->emptied = truncated && !h->secret;
	/* The kernel puts an appending write at the size it knows, which
	 * is the old value's, not what this handle holds. */
	h->append = fi->flags & O_APPEND;
	fi->fh = (uint64_t)(uintptr_t)h;
	fi->direct_io = 1;
	return 0;
}

/* ---- opens, by node type (rows of the node-type table, attrs.c) ---- */

/* Keeps @h as @fi's handle, read and written direct; -ENOMEM for none. */
static int hand_out(struct fuse_file_info *fi, struct fh *h)
{
	if (!h)
		return -ENOMEM;
	fi->fh = (uint64_t)(uintptr_t)h;
	fi->direct_io = 1;
	return 0;
}

int tgfs_open_statfile(struct tgfs *fs, struct node *n, const char *path,
		       struct fuse_file_info *fi)
{
	struct fh *h;
	char *status;

	/* Its size changes under the kernel's feet: no caching. */
	if ((fi->flags & O_ACCMODE) != O_RDONLY) {
		if (!status_writable(n->field))
			return -EACCES;
		h = fh_new(FH_STATUS, path, "", 0);
	} else {
		/* errors: with the held edges that ended (edges.c). */
		edge_sweep(fs);
		status = status_render(fs, n->field);
		h = status ? fh_new(FH_READ, path, status, strlen(status))
			   : NULL;
		free(status);
	}
	if (h)
		h->status_file = n->field;
	return hand_out(fi, h);
}

int tgfs_open_value(struct tgfs *fs, struct node *n, const char *path,
		    struct fuse_file_info *fi)
{
	enum kcache_use use = KC_DIRECT;
	struct fh *h;

	if ((fi->flags & O_ACCMODE) != O_RDONLY)
		return open_for_write(fs, n, path, fi, fi->flags & O_TRUNC);
	/* Through the kernel's page cache when the size it holds is this
	 * content's; a warm cat is then an OPEN and a RELEASE (kcache.c),
	 * and the file of an object as listed is not even rendered: its
	 * object's hash tells its content.  Otherwise (secrets, drafts)
	 * every read asks us. */
	if (page_cacheable(n) && n->obj->packed && !n->obj->values) {
		h = fh_unread(path, n, node_content_len(n));
		if (h)
			use = kcache_open(fs->kcache, path, n->obj->hash,
					  h->len);
	} else {
		const char *text = node_text(fs, n);

		h = fh_new(FH_READ, path, text, strlen(text));
	}
	if (!h)
		return -ENOMEM;
	fi->fh = (uint64_t)(uintptr_t)h;
	fi->direct_io = use == KC_DIRECT;
	fi->keep_cache = use == KC_KEEP;
	/* Nothing to send at close(2) of a reader: spare the kernel the
	 * FLUSH round trip (a third of a warm cat's requests). */
	fi->noflush = 1;
	return 0;
}

int tgfs_open_draftinfo(struct tgfs *fs, struct node *n, const char *path,
			struct fuse_file_info *fi)
{
	/* read like a field, never written */
	if ((fi->flags & O_ACCMODE) != O_RDONLY)
		return -EACCES;
	return tgfs_open_value(fs, n, path, fi);
}

int tgfs_open_link(struct tgfs *fs, struct node *n, const char *path,
		   struct fuse_file_info *fi)
{
	(void)fs;
	(void)n;
	(void)path;
	(void)fi;
	return -ELOOP;
}

/* The file at @at was made again (opened to be written). */
static void clear_removal(struct tgfs *fs, const struct tgfs_at *at)
{
	char key[REMOVALS_KEY_MAX];

	node_removals_key(at->chain, at->path, key, sizeof(key));
	removals_clear(fs->removals, key);
}

int tgfs_open(struct tgfs *fs, const struct tgfs_at *at,
	      struct fuse_file_info *fi)
{
	const char *path = at->path, *key = at->key;
	struct node *n = at->n;
	int rc = at->rc;
	struct fh *h;

	/* tar's placeholder in a link's place (tgfs_create) */
	if (rc == 0 && n->type == NODE_LINK &&
	    scratch_stat(fs->scratch, key, &(struct stat){ 0 }) == 0)
		rc = -ENOENT;
	if (rc == -ENOENT &&
	    scratch_stat(fs->scratch, key, &(struct stat){ 0 }) == 0) {
		if (fi->flags & O_TRUNC)
			scratch_truncate(fs->scratch, key, 0);
		return hand_out(fi, fh_new(FH_SCRATCH, key, "", 0));
	}
	if (rc)
		return rc;
	rc = fs->node_types[n->type].open
		     ? fs->node_types[n->type].open(fs, n, path, fi)
		     : -EISDIR;
	/* A writer's handle finds its file again by the node's chain; its
	 * file is made again for whoever removed it (removals.h). */
	h = rc ? NULL : fh_of(fi);
	if (h && h->type == FH_FIELD)
		clear_removal(fs, at);
	if (h && h->type == FH_FIELD && at->chain &&
	    !(h->chain = inodes_chain_dup(at->chain))) {
		fh_free(h);
		fi->fh = 0;
		rc = -ENOMEM;
	}
	return rc;
}

/* 0 when @nm is directly in an object folder or an edge's (where
 * scratch files may be made), or with @links in a folder of links too;
 * -EPERM elsewhere, or the error resolving its folder (one resolve). */
static int in_scratch_folder(struct tgfs *fs, const struct tgfs_name *nm,
			     bool links)
{
	const char *key = nm->key, *slash = strrchr(key, '/');
	char dir[4096];
	struct node n;
	int rc;

	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - key), key);
	rc = node_resolve_dir(fs, nm, &n);
	if (rc == -ENOENT && scratch_is_dir(fs->scratch, dir))
		return 0; /* a held access edge's (edges.c) */
	if (rc)
		return rc;
	rc = n.type == NODE_OBJECT || n.type == NODE_EDGE ||
			     (links && n.type == NODE_RELDIR &&
			      n.rel_index >= 0)
		     ? 0
		     : -EPERM;
	node_release(&n);
	return rc;
}

int tgfs_in_object_folder(struct tgfs *fs, const struct tgfs_name *nm)
{
	return in_scratch_folder(fs, nm, false);
}

/*
 * GNU tar makes each symlink at the end of its run: first an empty file of
 * mode 0 in its place (removing what is there: a link's removal by the
 * process taking its object apart changes nothing, objects.c), then it
 * removes that placeholder and makes the link, which is the same as the
 * tenant's (nothing sent) or a new one.  A placeholder is a scratch file,
 * also where a link is (which it shows in place of) or in a folder of
 * links.
 */
static bool placeholder(mode_t mode)
{
	return (mode & 07777) == 0;
}

int tgfs_create(struct tgfs *fs, const struct tgfs_at *at, mode_t mode,
		struct fuse_file_info *fi)
{
	const char *path = at->path;
	char key[REMOVALS_KEY_MAX];
	int rc = at->rc;

	node_removals_key(at->chain, path, key, sizeof(key));
	/* A field the kernel believes gone (vim renamed it to its backup
	 * name): writing it anew is writing the field. */
	if (rc == 0) {
		enum node_type type = at->n->type;

		/* (In an object cp -r made: the copy's file.) */
		if (type == NODE_FIELD || type == NODE_JSON ||
		    type == NODE_EDGEFIELD) {
			removals_copied(fs->removals, key, path);
			rc = open_for_write(fs, at->n, path, fi, true);
			if (!rc)
				removals_clear(fs->removals, key);
			if (!rc && at->chain &&
			    !(fh_of(fi)->chain = inodes_chain_dup(at->chain))) {
				fh_free(fh_of(fi));
				fi->fh = 0;
				rc = -ENOMEM;
			}
		}
		else
			rc = -EEXIST;
		if (type != NODE_LINK || !placeholder(mode))
			return rc;
	} else {
		struct tgfs_name nm = tgfs_name_of_path(path);

		nm.chain = at->chain; /* the new name's, in its folder */
		nm.key = at->key;
		rc = in_scratch_folder(fs, &nm, placeholder(mode));
		if (rc)
			return rc;
	}
	if (fs->cfg->read_only)
		return -EROFS;
	/* tar's placeholder of a link it makes at the end: a scratch file
	 * shown in the link's place until tar replaces it (attrs.c). */
	removals_clear(fs->removals, key);
	rc = scratch_create(fs->scratch, at->key, mode, NULL);
	if (rc)
		return rc;
	/* Opened as made: the scratch file, empty (what the name would
	 * resolve to now, shown in a link's place as tgfs_open shows it). */
	return hand_out(fi, fh_new(FH_SCRATCH, at->key, "", 0));
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

/* The file of writer @h, found again: by its chain (its object by its
 * id, whatever it is called now), or by its path.  0 (release @n), or
 * -ESTALE when it is gone, or -errno. */
static int fh_node(struct tgfs *fs, const struct fh *h, struct node *n)
{
	int rc = h->chain ? node_resolve_chain(fs, h->chain, n)
			  : node_resolve(fs, h->path, n);

	return rc == -ENOENT ? -ESTALE : rc;
}

/* Sends @text (@len bytes) to the file of writer @h.  -ESTALE: it is
 * gone, and nothing was sent. */
static int commit_handle(struct tgfs *fs, struct fh *h, const char *text,
			 size_t len)
{
	struct node n;
	int rc;

	if (fs->cfg->read_only)
		return -EROFS;
	rc = fh_node(fs, h, &n);
	return rc ? rc : commit_node(fs, h->path, &n, text, len, 0);
}

/* Sends what @h holds, if anything new.  -ESTALE: its file is gone, and
 * nothing was sent. */
static int send(struct tgfs *fs, struct fh *h)
{
	int rc;

	if (h->type != FH_FIELD || !h->dirty)
		return 0;
	h->dirty = false;
	rc = commit_handle(fs, h, h->data, h->len);
	if (rc == -ESTALE)
		h->dirty = true;
	return rc;
}

/* True when @old (@olen bytes) followed by @buf (@n) holds more than one
 * line: a newline before its last byte. */
static bool two_lines(const char *old, size_t olen, const char *buf, size_t n)
{
	const char *nl = memchr(old, '\n', olen);

	if (nl)
		return n > 0 || (size_t)(nl - old) + 1 < olen;
	nl = memchr(buf, '\n', n);
	return nl && (size_t)(nl - buf) + 1 < n;
}

/* An append to a list (>>) adds lines, which no later write can take
 * back: a complete content its field refuses fails the write that
 * leaves it (-EINVAL, the words in this thread's API message). */
static int append_check(const struct fh *h, const char *buf, size_t size)
{
	char *text, *json = NULL;
	enum tg_err err;

	if (!h->field || !size || buf[size - 1] != '\n')
		return 0;
	text = malloc(h->len + size + 1);
	if (!text)
		return -ENOMEM;
	memcpy(text, h->data, h->len);
	memcpy(text + h->len, buf, size);
	err = tg_value_parse(h->field, text, h->len + size, &json);
	free(json);
	free(text);
	return -tgfs_errno(err);
}

int tgfs_write(struct tgfs *fs, const char *buf, size_t size, off_t off,
	       struct fuse_file_info *fi)
{
	struct fh *h = fh_of(fi);
	const char *path;
	size_t end, had;
	bool plain;

	if (!h || off < 0)
		return -EBADF;
	path = h->path;
	had = h->len;
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
	if (end > h->max) {
		/* A value was meant, too long: not the empty value. */
		h->emptied = false;
		return -EFBIG;
	}
	/* Written plainly: one write after the other from an empty file. */
	plain = h->fresh && (size_t)off == h->len;
	if (!plain)
		h->fresh = false; /* an overlay: judged at close */
	/* Refused whole: kept out of the file, and the file not taken
	 * for emptied either (a value was meant, and refused). */
	if (plain && h->oneline && !h->secret &&
	    two_lines(h->data, h->len, buf, size)) {
		h->emptied = false;
		return refuse(fs, path, -EINVAL,
			      "two lines in a one-line field");
	}
	if (h->append && !h->oneline) {
		int rc = append_check(h, buf, size);

		if (rc) {
			h->emptied = false;
			return refuse(fs, path, rc, tg_api_last_message());
		}
	}
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
	h->emptied = false;
	/* The line is complete: send now, so the write carries the error.
	 * An overlay waits for close: its first newline may be an old one. */
	if (h->secret ||
	    (h->oneline && plain && memchr(h->data, '\n', h->len))) {
		int rc = send(fs, h);

		/* Nothing was sent: its file is gone (the writer's write
		 * fails; an append is not kept twice). */
		if (rc == -ESTALE)
			h->len = had;
		if (rc)
			return rc;
	}
	return (int)size;
}

/*
 * What sending the empty value to the file at @path would say, without
 * sending it or recording anything: 0 (it takes null, or is empty
 * already, or is a draft's), -EINVAL (a field that needs a value,
 * object.json), -EACCES (a read-only field).
 */
static int empty_refused(struct tgfs *fs, const struct fh *h)
{
	struct node n;
	const char *now;
	char *json = NULL;
	int rc = fh_node(fs, h, &n);

	if (rc)
		return rc;
	now = node_text(fs, &n);
	if (!*now || n.draft) {
		rc = 0;
	} else if (n.type == NODE_JSON) {
		rc = -EINVAL;
	} else if (n.type == NODE_FIELD || n.type == NODE_EDGEFIELD) {
		const struct tg_field *f = node_field(&n);

		if (!f->writable || (!f->set && !f->ntrans))
			rc = -EACCES;
		else
			rc = -tgfs_errno(tg_value_parse(f, "", 0, &json));
		free(json);
	}
	node_release(&n);
	return rc;
}

/*
 * FLUSH comes at every close(2), of every descriptor: bash opens `> f` as
 * a descriptor it moves to 1, closing the first before echo writes.  So a
 * file emptied and not written is set at the RELEASE of its last close;
 * its FLUSH says what that will say, for truncate(1) and `: >` to see.
 */
int tgfs_flush(struct tgfs *fs, struct fuse_file_info *fi)
{
	struct fh *h = fh_of(fi);

	if (!h)
		return 0;
	if (h->type == FH_FIELD && h->emptied && !h->dirty && !h->len)
		return empty_refused(fs, h);
	return send(fs, h);
}

int tgfs_release(struct tgfs *fs, struct fuse_file_info *fi)
{
	struct fh *h = fh_of(fi);

	/* Emptied and left empty: that is its value (null), or a refusal
	 * in the errors file.  Sent to its file, found as at each send:
	 * if it is gone, nothing is sent. */
	if (h && h->type == FH_FIELD && h->emptied && !h->dirty && !h->len)
		commit_handle(fs, h, "", 0);
	fh_free(h);
	return 0;
}

/* truncate(2) by name of field @n at @path: its content cut (or made
 * longer with NUL bytes, which no field takes) to @size is its value,
 * sent at once; the same content sends nothing. */
static int truncate_field(struct tgfs *fs, const char *path,
			  struct node *n, size_t size)
{
	const char *now = node_text(fs, n);
	size_t len = strlen(now);
	char *text;
	int rc;

	if (size == len)
		return 0;
	if (size > (n->type == NODE_JSON ? TG_JSON_MAX : TG_FIELD_MAX))
		return -EFBIG;
	text = calloc(1, size + 1);
	if (!text)
		return -ENOMEM;
	memcpy(text, now, size < len ? size : len);
	rc = commit_node(fs, path, n, text, size, 0);
	free(text);
	return rc;
}

int tgfs_truncate(struct tgfs *fs, const struct tgfs_at *at, off_t size,
		  struct fuse_file_info *fi)
{
	struct fh *h = fi ? fh_of(fi) : NULL;
	const char *path = at->path;
	struct node *n = at->n;
	int rc;

	if (size < 0)
		return -EINVAL;
	if (h && h->type == FH_FIELD) {
		/* The content is what the writer leaves: sent at close (a
		 * size of 0 means "new content follows", and an empty file
		 * at close is the value; only a write makes a secret). */
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
		if (size == 0) {
			h->fresh = true;
			h->emptied = !h->secret;
			h->dirty = false;
		} else if (!h->secret) {
			h->dirty = true;
		}
		return 0;
	}
	rc = scratch_truncate(fs->scratch, at->key, size);
	if (rc != -ENOENT)
		return rc;
	if (at->rc)
		return at->rc;
	if (n->type == NODE_STATFILE)
		rc = status_writable(n->field) ? 0 : -EACCES;
	else if (n->type != NODE_FIELD && n->type != NODE_JSON &&
		 n->type != NODE_EDGEFIELD)
		rc = -EISDIR;
	else if (fs->cfg->read_only)
		rc = -EROFS;
	else if (n->type == NODE_FIELD &&
		 tg_field_secret(&n->kind->fields[n->field]))
		rc = 0; /* only a write makes a new secret */
	else
		rc = truncate_field(fs, path, n, (size_t)size);
	return rc;
}
