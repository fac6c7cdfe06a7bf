/*
 * versions.c - the versions of objects this mount has seen (versions.h).
 *
 * One hash from id to that object's versions, newest first, each a copy
 * of the object as listed (its packed node: a few hundred bytes).  A count of all versions kept bounds
 * the memory: past TGFS_VERSIONS_MAX, the oldest version of the object
 * noted gives way.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "versions.h"

static __thread bool hash_oom;
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(obj) (hash_oom = true)
#include <uthash.h>

struct version {
	struct tg_object obj;
};

struct entry {
	char *id;
	struct version v[TGFS_VERSIONS_PER_OBJECT];
	size_t n;
	UT_hash_handle hh;
};

struct versions {
	pthread_mutex_t lock;
	struct entry *by_id;
	size_t total;
};

struct versions *versions_new(void)
{
	struct versions *v = calloc(1, sizeof(*v));

	if (v)
		pthread_mutex_init(&v->lock, NULL);
	return v;
}

static void version_release(struct version *x)
{
	tg_object_release(&x->obj);
}

void versions_free(struct versions *v)
{
	struct entry *e, *tmp;

	if (!v)
		return;
	HASH_ITER(hh, v->by_id, e, tmp) {
		HASH_DEL(v->by_id, e);
		for (size_t i = 0; i < e->n; i++)
			version_release(&e->v[i]);
		free(e->id);
		free(e);
	}
	pthread_mutex_destroy(&v->lock);
	free(v);
}

/* The updatedAt (the kind's mtime path) @obj's object.json shows, or
 * NULL; the caller frees it. */
static char *stamp_of(const struct tg_object *obj)
{
	const char *path = obj->kind->mtime_path;
	char *buf = NULL, *out = NULL;
	const char *text;
	cJSON *node, *it;

	if (!path || !obj->packed)
		return NULL;
	text = tg_object_json(obj, &buf);
	node = text ? cJSON_Parse(text) : NULL;
	it = cJSON_GetObjectItemCaseSensitive(node, path);
	if (cJSON_IsString(it) && it->valuestring)
		out = strdup(it->valuestring);
	cJSON_Delete(node);
	free(buf);
	return out;
}

void versions_note(struct versions *v, const struct tg_object *obj)
{
	struct version nv = { 0 };
	struct entry *e;

	if (!v || !obj || !obj->packed || !obj->id)
		return;
	pthread_mutex_lock(&v->lock);
	HASH_FIND_STR(v->by_id, obj->id, e);
	if (e && e->n && e->v[0].obj.hash == obj->hash) {
		pthread_mutex_unlock(&v->lock);
		return;
	}
	pthread_mutex_unlock(&v->lock);
	/* Copied outside the lock: it renders and parses. */
	if (tg_object_copy(obj, &nv.obj) != TG_OK)
		return;
	pthread_mutex_lock(&v->lock);
	HASH_FIND_STR(v->by_id, obj->id, e);
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e || !(e->id = strdup(obj->id))) {
			free(e);
			goto fail;
		}
		hash_oom = false;
		HASH_ADD_KEYPTR(hh, v->by_id, e->id, strlen(e->id), e);
		if (hash_oom) {
			free(e->id);
			free(e);
			goto fail;
		}
	}
	for (size_t i = 0; i < e->n; i++)
		if (e->v[i].obj.hash == obj->hash)
			goto fail; /* noted meanwhile, or an older one again */
	if (e->n == TGFS_VERSIONS_PER_OBJECT ||
	    (v->total >= TGFS_VERSIONS_MAX && e->n)) {
		version_release(&e->v[--e->n]);
		v->total--;
	}
	if (v->total >= TGFS_VERSIONS_MAX)
		goto fail;
	memmove(&e->v[1], &e->v[0], e->n * sizeof(e->v[0]));
	e->v[0] = nv;
	e->n++;
	v->total++;
	pthread_mutex_unlock(&v->lock);
	return;
fail:
	pthread_mutex_unlock(&v->lock);
	version_release(&nv);
}

bool versions_find(struct versions *v, const char *id, const char *stamp,
		   uint64_t hash, struct tg_object *out)
{
	struct entry *e;
	bool ok = false;

	if (!v || !id)
		return false;
	pthread_mutex_lock(&v->lock);
	HASH_FIND_STR(v->by_id, id, e);
	for (size_t i = 0; e && i < e->n && !ok; i++) {
		const struct version *x = &e->v[i];

		char *xs = stamp ? stamp_of(&x->obj) : NULL;

		/* Rendered here, for the few a restore asks about, rather
		 * than for every object a walk looks at. */
		if (stamp ? xs && strcmp(xs, stamp) == 0
			  : x->obj.hash == hash)
			ok = tg_object_copy(&x->obj, out) == TG_OK;
		free(xs);
	}
	pthread_mutex_unlock(&v->lock);
	return ok;
}

bool versions_find_at(struct versions *v, const char *id, int64_t ns,
		      struct tg_object *out)
{
	struct entry *e;
	bool ok = false;

	if (!v || !id || !ns)
		return false;
	pthread_mutex_lock(&v->lock);
	HASH_FIND_STR(v->by_id, id, e);
	for (size_t i = 0; e && i < e->n && !ok; i++)
		if (e->v[i].obj.mtime == ns)
			ok = tg_object_copy(&e->v[i].obj, out) == TG_OK;
	pthread_mutex_unlock(&v->lock);
	return ok;
}
