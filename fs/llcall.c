/*
 * llcall.c - each FUSE request is one user call (struct tg_call): its
 * clock starts when it comes in, so that everything it asks of the API
 * ends within `timeout` (api/deadline.c), and an INTERRUPT of it (the
 * process got a signal: Ctrl-C, kill -9) cancels it, so that whatever it
 * waits on gives up at once and the syscall returns EINTR.
 *
 * A decorator around ll.c's table of operations, as sshfs's cache.c is
 * around its own: each wrapper starts the call, makes it the thread's,
 * registers the interrupt with libfuse (fuse_req_interrupt_func) and runs
 * ll.c's handler, which replies before it returns.
 *
 * libfuse may call an interrupt function a moment after the request was
 * answered (it reads the function under one lock and calls it under
 * another), when the thread may be on its next call already.  So the
 * function is given a number, not a pointer: the number of the call,
 * looked up among the calls running; one that has ended is not found.
 *
 * Each call is also its process's read in the cache (tg_cache_walk_begin):
 * the calls a process makes without pausing are one walk, served the
 * cache as it was when the walk began; the walk ends when the process
 * does (ll_reader_alive), or when it opens a file it opened before in
 * that walk (tg_cache_walk_visit): a poller (a script that reads one
 * file every second) is served what is at most cache_ttl old, not a
 * snapshot as old as its life.  A node id the kernel forgot may be
 * given to another file: a walk that opens that one ends early, which
 * costs a read again, never an older value.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>

#include "inodes.h"
#include "ll.h"

/* The thread's call: a thread runs one request at a time. */
static __thread struct tg_call this_call;
static __thread struct ll_running this_entry;
static __thread pid_t this_pid;

pid_t ll_caller(void)
{
	return this_pid;
}

static void on_interrupt(fuse_req_t req, void *data)
{
	struct ll *ll = ll_of(req);
	uint64_t id = (uint64_t)(uintptr_t)data;

	pthread_mutex_lock(&ll->calls_lock);
	for (struct ll_running *r = ll->calls; r; r = r->next)
		if (r->id == id) {
			tg_call_cancel(r->call);
			tg_log(TG_LOG_DEBUG, "a call was interrupted");
		}
	pthread_mutex_unlock(&ll->calls_lock);
}

static struct ll *begin(fuse_req_t req)
{
	struct ll *ll = ll_of(req);

	tg_call_start(&this_call, &ll->conf->api);
	this_pid = fuse_req_ctx(req)->pid;
	if (ll->fs)
		tg_cache_walk_begin(ll->fs->cache,
				    (uint64_t)fuse_req_ctx(req)->pid);
	pthread_mutex_lock(&ll->calls_lock);
	this_entry.id = ++ll->last_call;
	this_entry.call = &this_call;
	this_entry.next = ll->calls;
	ll->calls = &this_entry;
	pthread_mutex_unlock(&ll->calls_lock);
	/* Calls on_interrupt at once when the INTERRUPT came first. */
	fuse_req_interrupt_func(req, on_interrupt,
				(void *)(uintptr_t)this_entry.id);
	return ll;
}

static void end(struct ll *ll)
{
	struct ll_running **pp;

	pthread_mutex_lock(&ll->calls_lock);
	for (pp = &ll->calls; *pp; pp = &(*pp)->next)
		if (*pp == &this_entry) {
			*pp = this_entry.next;
			break;
		}
	pthread_mutex_unlock(&ll->calls_lock);
	tg_call_finish();
	if (ll->fs)
		tg_cache_walk_end(ll->fs->cache);
}

bool ll_reader_alive(uint64_t pid)
{
	/* EPERM: there, another user's. */
	return pid && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

/* One wrapper per operation: W(name, (params), (args)).  The request
 * is answered (and may be freed) once the handler returns: @ll is taken
 * before. */
#define W(op, params, args)                      \
	static void call_##op params             \
	{                                        \
		struct ll *ll = begin(req);      \
		ll->inner->op args;              \
		end(ll);                         \
	}

W(lookup, (fuse_req_t req, fuse_ino_t p, const char *n), (req, p, n))
W(getattr, (fuse_req_t req, fuse_ino_t i, struct fuse_file_info *fi),
  (req, i, fi))
W(setattr, (fuse_req_t req, fuse_ino_t i, struct stat *a, int set,
	    struct fuse_file_info *fi), (req, i, a, set, fi))
W(readlink, (fuse_req_t req, fuse_ino_t i), (req, i))
W(mkdir, (fuse_req_t req, fuse_ino_t p, const char *n, mode_t m),
  (req, p, n, m))
W(unlink, (fuse_req_t req, fuse_ino_t p, const char *n), (req, p, n))
W(rmdir, (fuse_req_t req, fuse_ino_t p, const char *n), (req, p, n))
W(symlink, (fuse_req_t req, const char *l, fuse_ino_t p, const char *n),
  (req, l, p, n))
W(rename, (fuse_req_t req, fuse_ino_t p, const char *n, fuse_ino_t np,
	   const char *nn, unsigned int fl), (req, p, n, np, nn, fl))

/* OPEN: the process visits the file (a second OPEN of it: a new pass). */
static void call_open(fuse_req_t req, fuse_ino_t i, struct fuse_file_info *fi)
{
	struct ll *ll = begin(req);

	/* By id and generation: an id the kernel forgot and was given
	 * again names another file, not one visited twice. */
	if (ll->fs)
		tg_cache_walk_visit(ll->fs->cache,
				    inodes_stamp(ll->nodes, i));
	ll->inner->open(req, i, fi);
	end(ll);
}

W(create, (fuse_req_t req, fuse_ino_t p, const char *n, mode_t m,
	   struct fuse_file_info *fi), (req, p, n, m, fi))
W(read, (fuse_req_t req, fuse_ino_t i, size_t s, off_t o,
	 struct fuse_file_info *fi), (req, i, s, o, fi))
W(write, (fuse_req_t req, fuse_ino_t i, const char *b, size_t s, off_t o,
	  struct fuse_file_info *fi), (req, i, b, s, o, fi))
W(flush, (fuse_req_t req, fuse_ino_t i, struct fuse_file_info *fi),
  (req, i, fi))
W(fsync, (fuse_req_t req, fuse_ino_t i, int d, struct fuse_file_info *fi),
  (req, i, d, fi))
W(release, (fuse_req_t req, fuse_ino_t i, struct fuse_file_info *fi),
  (req, i, fi))
W(opendir, (fuse_req_t req, fuse_ino_t i, struct fuse_file_info *fi),
  (req, i, fi))
W(readdir, (fuse_req_t req, fuse_ino_t i, size_t s, off_t o,
	    struct fuse_file_info *fi), (req, i, s, o, fi))
W(readdirplus, (fuse_req_t req, fuse_ino_t i, size_t s, off_t o,
		struct fuse_file_info *fi), (req, i, s, o, fi))
W(releasedir, (fuse_req_t req, fuse_ino_t i, struct fuse_file_info *fi),
  (req, i, fi))

const struct fuse_lowlevel_ops *ll_calls(struct ll *ll,
					 const struct fuse_lowlevel_ops *ops)
{
	ll->inner = ops;
	ll->outer = *ops;
#define SET(op)                          \
	if (ops->op)                     \
		ll->outer.op = call_##op
	SET(lookup);
	SET(getattr);
	SET(setattr);
	SET(readlink);
	SET(mkdir);
	SET(unlink);
	SET(rmdir);
	SET(symlink);
	SET(rename);
	SET(open);
	SET(create);
	SET(read);
	SET(write);
	SET(flush);
	SET(fsync);
	SET(release);
	SET(opendir);
	SET(readdir);
	SET(readdirplus);
	SET(releasedir);
#undef SET
	return &ll->outer;
}
