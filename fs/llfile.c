/*
 * llfile.c - files for the kernel: OPEN and CREATE on the node ll_on_node
 * resolved (an O_CREAT's entry given with the handle), and READ, WRITE,
 * FLUSH, FSYNC and RELEASE on the open handle alone, as passthrough_ll.c's
 * lo_read needs only fi->fh: a writer's handle keeps its file's chain and
 * finds it again at each send, whatever its object is called by then
 * (fileops.c).  A change sent through a file is told to the kernel before
 * it is answered (ll_settle).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>

#include "inodes.h"
#include "inval.h"
#include "ll.h"
#include "node.h"

static int call_open(struct ll *ll, const struct tgfs_at *at, void *fi)
{
	return tgfs_open(ll->fs, at, fi);
}

void ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct ll *ll = ll_of(req);
	char *path = NULL;
	int rc;

	rc = ll_on_node(ll, ino, NULL, &path, call_open, fi);
	if (rc)
		ll_reply_rc(req, rc);
	/* An interrupted open: the kernel never got the handle. */
	else if (fuse_reply_open(req, fi) == -ENOENT)
		tgfs_release(ll->fs, fi);
	free(path);
}

struct create_args {
	fuse_req_t req;
	fuse_ino_t parent;
	const char *name;
	mode_t mode;
	struct fuse_file_info *fi;
};

/* O_CREAT of @name: the file made or opened (tgfs_create), then its
 * entry and handle given to the kernel (replied: 0). */
static int call_create(struct ll *ll, const struct tgfs_at *at, void *arg)
{
	struct create_args *a = arg;
	struct fuse_entry_param e = { 0 };
	int rc = tgfs_create(ll->fs, at, a->mode, a->fi);

	if (rc)
		return rc;
	/* Now there: a scratch file where nothing was (at->rc), or the
	 * field opened to be written. */
	rc = ll_entry(ll, a->parent, a->name, at, false, &e);
	if (rc) {
		tgfs_release(ll->fs, a->fi);
		return rc;
	}
	e.attr_timeout = ll->cfg.attr_timeout;
	if (fuse_reply_create(a->req, &e, a->fi) == -ENOENT) {
		tgfs_release(ll->fs, a->fi);
		inodes_forget(ll->nodes, e.ino, 1);
	}
	return 0;
}

void ll_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	struct ll *ll = ll_of(req);
	char *path = NULL;
	int rc = ll_on_node(ll, parent, name, &path, call_create,
			    &(struct create_args){ req, parent, name, mode,
						   fi });

	if (rc)
		ll_reply_rc(req, rc);
	free(path);
}

/*
 * What a change made through a file (a write, or its flush, fsync or
 * release) told the kernel to forget has reached it before the change
 * is answered: a name file's rename is seen by the next command (the old
 * name gone), not cache_ttl later.  These requests hold no folder's lock
 * that the queue's thread could wait on; the wait is bounded all the
 * same (a queue behind a slow lookup's folder lock).
 */
#define SETTLE_MS 1000

void ll_settle(struct ll *ll)
{
	if (!inval_wait(ll->fs, SETTLE_MS))
		tg_log(TG_LOG_DEBUG, "kernel invalidations still queued");
}

/* READ, WRITE, FLUSH, FSYNC and RELEASE need their handle only (the
 * node id is not looked at): a writer's handle finds its file again by
 * its chain, whatever its object is called by then (fileops.c). */
void ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	char *buf = malloc(size ? size : 1);
	int rc = buf ? tgfs_read(ll_of(req)->fs, buf, size, off, fi) : -ENOMEM;

	(void)ino;
	if (rc < 0)
		ll_reply_rc(req, rc);
	else
		fuse_reply_buf(req, buf, (size_t)rc);
	free(buf);
}

void ll_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	struct ll *ll = ll_of(req);
	int rc = tgfs_write(ll->fs, buf, size, off, fi);

	(void)ino;
	ll_settle(ll);
	if (rc < 0)
		ll_reply_rc(req, rc);
	else
		fuse_reply_write(req, (size_t)rc);
}

/* FLUSH and FSYNC: what the handle holds is sent, if anything new. */
static void sync_handle(fuse_req_t req, fuse_ino_t ino,
			struct fuse_file_info *fi)
{
	struct ll *ll = ll_of(req);
	int rc = tgfs_flush(ll->fs, fi);

	(void)ino;
	ll_settle(ll);
	ll_reply_rc(req, rc);
}

void ll_flush(fuse_req_t req, fuse_ino_t ino,
		     struct fuse_file_info *fi)
{
	sync_handle(req, ino, fi);
}

void ll_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		     struct fuse_file_info *fi)
{
	(void)datasync;
	sync_handle(req, ino, fi);
}

void ll_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	(void)ino;
	tgfs_release(ll_of(req)->fs, fi);
	/* A reader's release changed nothing (FLUSH has no flags to say
	 * so; readers of values ask for none). */
	if ((fi->flags & O_ACCMODE) != O_RDONLY)
		ll_settle(ll_of(req));
	fuse_reply_err(req, 0);
}
