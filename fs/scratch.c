/*
 * scratch.c - files that are not the tenant's: editors' swap, backup and
 * temporary files, emacs lock links, `touch notes`.  They live in memory
 * for this mount only, in the folder they were made in (by its key, which
 * names an object's folder by its id: scratch.h), and never reach the
 * tenant unless renamed onto a field (DESIGN.md §3).
 *
 * Each file holds at most TGFS_SCRATCH_MAX bytes and all of them together
 * TGFS_SCRATCH_TOTAL, so a runaway writer gets EFBIG/ENOSPC, not our
 * memory.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "scratch.h"

static __thread bool hash_oom;
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(obj) (hash_oom = true)
#include <uthash.h>

struct scratch {
	char *key;
	bool link;
	bool dir; /* a held access edge's folder (edges.c) */
	pid_t pid; /* a folder's maker */
	mode_t mode;
	char *data; /* content, or the link's target */
	size_t len;
	struct timespec mtime; /* to the nanosecond: rsync sets it so */
	ino_t ino;
	UT_hash_handle hh;
};

struct scratch_store {
	pthread_mutex_t lock;
	struct scratch *table;
	size_t total;
	ino_t next_ino;
	size_t ndirs;
};

struct scratch_store *scratch_new(void)
{
	struct scratch_store *s = calloc(1, sizeof(*s));

	if (s) {
		pthread_mutex_init(&s->lock, NULL);
		s->next_ino = (ino_t)1 << 62; /* apart from the hashed ones */
	}
	return s;
}

static void drop(struct scratch_store *s, struct scratch *f)
{
	if (f->dir)
		__atomic_fetch_sub(&s->ndirs, 1, __ATOMIC_RELEASE);
	HASH_DEL(s->table, f);
	s->total -= f->len;
	free(f->key);
	free(f->data);
	free(f);
}

void scratch_free(struct scratch_store *s)
{
	struct scratch *f, *tmp;

	if (!s)
		return;
	HASH_ITER(hh, s->table, f, tmp)
		drop(s, f);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static int make(struct scratch_store *s, const char *key, mode_t mode,
		const char *link_target, bool dir, pid_t pid);

int scratch_create(struct scratch_store *s, const char *key, mode_t mode,
		   const char *link_target)
{
	return make(s, key, mode, link_target, false, 0);
}

int scratch_mkdir(struct scratch_store *s, const char *key, mode_t mode,
		  pid_t pid)
{
	return make(s, key, mode, NULL, true, pid);
}

static mode_t type_of(const struct scratch *f)
{
	return f->dir ? S_IFDIR : f->link ? S_IFLNK : S_IFREG;
}

static int make(struct scratch_store *s, const char *key, mode_t mode,
		const char *link_target, bool dir, pid_t pid)
{
	struct scratch *f;
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	HASH_FIND_STR(s->table, key, f);
	if (f) {
		rc = -EEXIST;
		goto out;
	}
	f = calloc(1, sizeof(*f));
	if (!f || !(f->key = strdup(key)) ||
	    (link_target && !(f->data = strdup(link_target)))) {
		if (f)
			free(f->key);
		free(f);
		rc = -ENOMEM;
		goto out;
	}
	f->link = link_target != NULL;
	f->dir = dir;
	f->pid = pid;
	f->len = link_target ? strlen(link_target) : 0;
	s->total += f->len; /* drop() takes it off again */
	f->mode = mode & 07777;
	clock_gettime(CLOCK_REALTIME, &f->mtime);
	f->ino = s->next_ino++;
	hash_oom = false;
	HASH_ADD_KEYPTR(hh, s->table, f->key, strlen(f->key), f);
	if (hash_oom) {
		free(f->key);
		free(f->data);
		free(f);
		rc = -ENOMEM;
	} else if (dir) {
		__atomic_fetch_add(&s->ndirs, 1, __ATOMIC_RELEASE);
	}
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int scratch_stat(struct scratch_store *s, const char *key, struct stat *st)
{
	struct scratch *f;
	int rc = -ENOENT;

	pthread_mutex_lock(&s->lock);
	HASH_FIND_STR(s->table, key, f);
	if (f) {
		st->st_mode = type_of(f) | f->mode;
		st->st_nlink = f->dir ? 2 : 1;
		st->st_size = (off_t)f->len;
		st->st_ino = f->ino;
		st->st_mtim = st->st_ctim = st->st_atim = f->mtime;
		st->st_blocks = (st->st_size + 511) / 512;
		rc = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

char *scratch_get(struct scratch_store *s, const char *key, size_t *len,
		  bool *is_link)
{
	struct scratch *f;
	char *copy = NULL;

	pthread_mutex_lock(&s->lock);
	HASH_FIND_STR(s->table, key, f);
	if (f && !f->dir) {
		copy = malloc(f->len + 1);
		if (copy) {
			if (f->len)
				memcpy(copy, f->data, f->len);
			copy[f->len] = '\0';
			*len = f->len;
			if (is_link)
				*is_link = f->link;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return copy;
}

int scratch_write(struct scratch_store *s, const char *key, const char *buf,
		  size_t size, off_t off)
{
	struct scratch *f;
	size_t end;
	int rc;

	if (off < 0)
		return -EINVAL;
	end = (size_t)off + size;
	pthread_mutex_lock(&s->lock);
	HASH_FIND_STR(s->table, key, f);
	if (!f || f->link || f->dir) {
		rc = !f ? -ENOENT : f->dir ? -EISDIR : -EINVAL;
	} else if (end > TGFS_SCRATCH_MAX) {
		rc = -EFBIG;
	} else if (end > f->len && s->total + (end - f->len) >
					   TGFS_SCRATCH_TOTAL) {
		rc = -ENOSPC;
	} else {
		if (end > f->len) {
			char *d = realloc(f->data, end);

			if (!d) {
				rc = -ENOMEM;
				goto out;
			}
			memset(d + f->len, 0, end - f->len);
			s->total += end - f->len;
			f->data = d;
			f->len = end;
		}
		memcpy(f->data + off, buf, size);
		clock_gettime(CLOCK_REALTIME, &f->mtime);
		rc = (int)size;
	}
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int scratch_truncate(struct scratch_store *s, const char *key, off_t size)
{
	struct scratch *f;
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	HASH_FIND_STR(s->table, key, f);
	if (!f || f->dir) {
		rc = f ? -EISDIR : -ENOENT;
	} else if (size < 0 || size > TGFS_SCRATCH_MAX) {
		rc = size < 0 ? -EINVAL : -EFBIG;
	} else if ((size_t)size > f->len) {
		char *d = realloc(f->data, (size_t)size);

		if (!d || s->total + ((size_t)size - f->len) >
				  TGFS_SCRATCH_TOTAL) {
			if (d)
				f->data = d;
			rc = d ? -ENOSPC : -ENOMEM;
		} else {
			memset(d + f->len, 0, (size_t)size - f->len);
			s->total += (size_t)size - f->len;
			f->data = d;
			f->len = (size_t)size;
		}
	} else {
		s->total -= f->len - (size_t)size;
		f->len = (size_t)size;
	}
	if (f && !rc && !f->dir)
		clock_gettime(CLOCK_REALTIME, &f->mtime);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int scratch_set_mode(struct scratch_store *s, const char *key, mode_t mode,
		     const struct timespec *mtime)
{
	struct scratch *f;
	int rc = -ENOENT;

	pthread_mutex_lock(&s->lock);
	HASH_FIND_STR(s->table, key, f);
	if (f) {
		if (mode != (mode_t)-1)
			f->mode = mode & 07777;
		if (mtime && mtime->tv_nsec == UTIME_NOW)
			clock_gettime(CLOCK_REALTIME, &f->mtime);
		else if (mtime && mtime->tv_nsec != UTIME_OMIT)
			f->mtime = *mtime;
		rc = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int scratch_remove(struct scratch_store *s, const char *key)
{
	struct scratch *f;
	int rc = -ENOENT;

	pthread_mutex_lock(&s->lock);
	HASH_FIND_STR(s->table, key, f);
	if (f && f->dir) {
		rc = -EISDIR;
	} else if (f) {
		drop(s, f);
		rc = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int scratch_rename(struct scratch_store *s, const char *from, const char *to)
{
	struct scratch *f, *old;
	char *p;
	int rc = -ENOENT;

	pthread_mutex_lock(&s->lock);
	HASH_FIND_STR(s->table, from, f);
	if (f && f->dir) {
		rc = -EPERM; /* a held edge is named by its principal */
	} else if (f) {
		p = strdup(to);
		if (!p) {
			rc = -ENOMEM;
			goto out;
		}
		HASH_FIND_STR(s->table, to, old);
		if (old && old != f)
			drop(s, old);
		HASH_DEL(s->table, f);
		free(f->key);
		f->key = p;
		HASH_ADD_KEYPTR(hh, s->table, f->key, strlen(f->key), f);
		rc = 0;
	}
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int scratch_each(struct scratch_store *s, const char *dir,
		 int (*fn)(void *arg, const char *name, const struct stat *st),
		 void *arg)
{
	struct scratch *f, *tmp;
	size_t n = strlen(dir);
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	HASH_ITER(hh, s->table, f, tmp) {
		struct stat st = { 0 };
		const char *name;

		if (strncmp(f->key, dir, n) || f->key[n] != '/' ||
		    strchr(f->key + n + 1, '/'))
			continue;
		name = f->key + n + 1;
		st.st_mode = type_of(f) | f->mode;
		st.st_nlink = f->dir ? 2 : 1;
		st.st_size = (off_t)f->len;
		st.st_ino = f->ino;
		st.st_mtim = f->mtime;
		rc = fn(arg, name, &st);
		if (rc)
			break;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* Whether @f is below folder @dir (at any depth). */
static bool below(const struct scratch *f, const char *dir, size_t n)
{
	return !strncmp(f->key, dir, n) && f->key[n] == '/';
}

bool scratch_is_dir(struct scratch_store *s, const char *key)
{
	struct scratch *f;
	bool dir;

	pthread_mutex_lock(&s->lock);
	HASH_FIND_STR(s->table, key, f);
	dir = f && f->dir;
	pthread_mutex_unlock(&s->lock);
	return dir;
}

int scratch_rmdir(struct scratch_store *s, const char *key,
		  enum scratch_rmdir how)
{
	struct scratch *f, *c, *tmp;
	size_t n = strlen(key);
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	HASH_FIND_STR(s->table, key, f);
	if (!f || !f->dir) {
		rc = f ? -ENOTDIR : -ENOENT;
		goto out;
	}
	HASH_ITER(hh, s->table, c, tmp) {
		if (how == SCRATCH_EMPTY && below(c, key, n)) {
			rc = -ENOTEMPTY;
			goto out;
		}
	}
	HASH_ITER(hh, s->table, c, tmp)
		if (how == SCRATCH_TREE && below(c, key, n))
			drop(s, c);
	drop(s, f);
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int scratch_each_dir(struct scratch_store *s,
		     int (*fn)(void *arg, const char *key, pid_t pid),
		     void *arg)
{
	struct scratch *f, *tmp;
	int rc = 0;

	/* Read without the lock: every getattr asks (edges.c). */
	if (!__atomic_load_n(&s->ndirs, __ATOMIC_ACQUIRE))
		return 0;
	pthread_mutex_lock(&s->lock);
	HASH_ITER(hh, s->table, f, tmp) {
		if (f->dir && (rc = fn(arg, f->key, f->pid)))
			break;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}
