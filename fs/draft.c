/*
 * draft.c - objects that exist only in this mount until they can be
 * created (DESIGN.md §4).
 *
 * A kind whose create needs more than a name (kind->draft: a resource
 * needs an address and a network) is made by mkdir as a draft: a folder
 * holding the files its create takes.  What is written to them is checked
 * by the same parsers as any write and kept here; the create is sent by
 * the caller (write.c) when the last file the draft needs is written.
 * This file sends nothing and tells no one: it is a store, as scratch.c.  A
 * node that resolves to a draft holds its own copy of the draft's object, so
 * the store can change under it.  Drafts are never sent anywhere else and
 * vanish at unmount.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "draft.h"

struct draft {
	char *file;            /* its name in the kind's folder */
	struct tg_object obj;  /* values as written; obj.json: .draft */
	char **json;           /* per field: the value to send, or NULL */
	char **held;           /* a restore folder's held links and edges
				* (scratch keys, scratch.h) */
	size_t nheld;
	struct draft *next;
};

struct draft_store {
	pthread_mutex_t lock;
	pthread_mutex_t create_lock; /* one create at a time */
	struct draft *list;
	char **anew; /* ids of objects restore folders created (draft_anew) */
	size_t nanew;
	unsigned npending; /* restore folders among them (atomic) */
};

#define PENDING_ID "pending:"

bool draft_id_pending(const char *id)
{
	return id && strncmp(id, PENDING_ID, sizeof(PENDING_ID) - 1) == 0;
}

bool draft_is_pending(const struct tg_object *obj)
{
	return draft_id_pending(obj->id);
}

int draft_key(const struct tg_kind *k, const char *parent_id,
	      const char *name, char *key, size_t keysz)
{
	int n = k->parent ? snprintf(key, keysz, "%s/%s",
				     parent_id ? parent_id : "", name)
			  : snprintf(key, keysz, "%s", name);

	return n < 0 || (size_t)n >= keysz ? -ENAMETOOLONG : 0;
}

const char *draft_key_name(const char *key)
{
	const char *slash = strrchr(key, '/');

	return slash ? slash + 1 : key;
}

/* Whether the store may hold a draft of @k. */
static bool may_hold(struct draft_store *s, const struct tg_kind *k)
{
	return k->draft || __atomic_load_n(&s->npending, __ATOMIC_RELAXED);
}

struct draft_store *draft_store_new(void)
{
	struct draft_store *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->create_lock, NULL);
	return s;
}

static void draft_free(struct draft *d)
{
	if (!d)
		return;
	for (size_t i = 0; d->json && i < d->obj.kind->nfields; i++)
		free(d->json[i]);
	free(d->json);
	for (size_t i = 0; i < d->nheld; i++)
		free(d->held[i]);
	free(d->held);
	if (d->obj.kind)
		tg_object_release(&d->obj);
	free(d->file);
	free(d);
}

void draft_store_free(struct draft_store *s)
{
	if (!s)
		return;
	while (s->list) {
		struct draft *d = s->list;

		s->list = d->next;
		draft_free(d);
	}
	for (size_t i = 0; i < s->nanew; i++)
		free(s->anew[i]);
	free(s->anew);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->create_lock);
	free(s);
}

/* True when word @w is one of the space-separated @words. */
static bool has_word(const char *words, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = words; p && *p;) {
		size_t len = strcspn(p, " ");

		if (len == n && strncmp(p, w, n) == 0)
			return true;
		p += len;
		p += strspn(p, " ");
	}
	return false;
}

bool draft_takes(const struct tg_kind *k, const char *file)
{
	return k->draft && has_word(k->draft->files, file);
}

/* The next file (field or one-link) of the create's needs, from *@p on,
 * that draft @d still lacks, into @w; *@p moves past it.  False: none. */
static bool next_missing(const struct draft *d, const char **p, char *w,
			 size_t wsz)
{
	const struct tg_kind *k = d->obj.kind;

	while (**p) {
		size_t len = strcspn(*p, " ");
		int f, r;

		snprintf(w, wsz, "%.*s", (int)len, *p);
		*p += len;
		*p += strspn(*p, " ");
		f = tg_field_index(k, w);
		r = tg_rel_index(k, w);
		if ((f >= 0 && !d->json[f]) || (r >= 0 && !d->obj.links[r].n))
			return true;
	}
	return false;
}

/* obj.json of a draft: what .draft shows, the files still missing. */
static int draft_render(struct draft *d)
{
	const struct tg_kind *k = d->obj.kind;
	char out[1024], w[64];
	size_t o;
	const char *p = k->draft ? k->draft->needs : "";

	if (draft_is_pending(&d->obj)) {
		free(d->obj.json);
		d->obj.json = strdup("a restore folder: its first file written"
				     " decides; an id naming an object of"
				     " this folder makes it that object"
				     " (renamed back if need be), any other"
				     " file creates it\n");
		return d->obj.json ? 0 : -ENOMEM;
	}
	o = (size_t)snprintf(out, sizeof(out),
			     "a draft: it is created when these are set:"
			     " %s\nmissing:", p);
	while (o < sizeof(out) && next_missing(d, &p, w, sizeof(w)))
		o += (size_t)snprintf(out + o, sizeof(out) - o, " %s", w);
	if (o < sizeof(out))
		snprintf(out + o, sizeof(out) - o, "\n");
	free(d->obj.json);
	d->obj.json = strdup(out);
	return d->obj.json ? 0 : -ENOMEM;
}

static struct draft *find(struct draft_store *s, const struct tg_kind *k,
			  const char *file)
{
	for (struct draft *d = s->list; d; d = d->next)
		if (d->obj.kind == k && strcmp(d->file, file) == 0)
			return d;
	return NULL;
}

/* Sets field @f of @d to @text (shown) and @json (sent); takes @json. */
static int set_value(struct draft *d, int f, const char *text, size_t len,
		     char *json)
{
	char *shown = malloc(len + 2);

	if (!shown) {
		free(json);
		return -ENOMEM;
	}
	memcpy(shown, text, len);
	if (!len || text[len - 1] != '\n')
		shown[len++] = '\n';
	shown[len] = '\0';
	free(d->obj.values[f]);
	d->obj.values[f] = shown;
	free(d->json[f]);
	d->json[f] = json;
	return 0;
}

/* Appends @str to the array *@v of *@n strings, which then owns it;
 * false (nothing changed, @str still the caller's) when out of memory. */
static bool strv_push(char ***v, size_t *n, char *str)
{
	char **more = realloc(*v, (*n + 1) * sizeof(*more));

	if (!more)
		return false;
	more[(*n)++] = str;
	*v = more;
	return true;
}

int draft_anew(struct draft_store *s, const char *id)
{
	char *copy = strdup(id);
	int rc = -ENOMEM;

	if (!copy)
		return -ENOMEM;
	pthread_mutex_lock(&s->lock);
	if (strv_push(&s->anew, &s->nanew, copy)) {
		copy = NULL;
		rc = 0;
	}
	pthread_mutex_unlock(&s->lock);
	free(copy);
	return rc;
}

bool draft_is_anew(struct draft_store *s, const char *id)
{
	bool yes = false;

	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->nanew && !yes; i++)
		yes = strcmp(s->anew[i], id) == 0;
	pthread_mutex_unlock(&s->lock);
	return yes;
}

void draft_rekey(struct draft_store *s, const char *old_parent,
		 const char *new_parent)
{
	size_t len = strlen(old_parent);

	pthread_mutex_lock(&s->lock);
	for (struct draft *d = s->list; d; d = d->next) {
		const char *name = draft_key_name(d->file);
		char *key;

		if (!draft_is_pending(&d->obj) ||
		    (size_t)(name - d->file) != len + 1 ||
		    strncmp(d->file, old_parent, len) != 0 ||
		    asprintf(&key, "%s/%s", new_parent, name) < 0)
			continue;
		free(d->file);
		d->file = key;
	}
	pthread_mutex_unlock(&s->lock);
}

static int new_draft(struct draft_store *s, const struct tg_kind *k,
		     const char *file, const char *raw_name, int rel,
		     const char *target_id, bool pending)
{
	int nf = tg_field_index(k, "name");
	struct draft *d = calloc(1, sizeof(*d));
	char *json = NULL;
	int rc = -ENOMEM;

	if (!d || nf < 0)
		goto fail;
	if (tg_value_parse(&k->fields[nf], raw_name, strlen(raw_name),
			   &json) != TG_OK) {
		rc = -EINVAL;
		goto fail;
	}
	d->obj.kind = k;
	d->file = strdup(file);
	if (asprintf(&d->obj.id, "%s%s/%s", pending ? PENDING_ID : "draft:",
		     k->dir, file) < 0)
		d->obj.id = NULL;
	d->obj.name = strdup(raw_name);
	d->obj.values = calloc(k->nfields + 1, sizeof(*d->obj.values));
	d->obj.links = calloc(k->nrels + 1, sizeof(*d->obj.links));
	d->json = calloc(k->nfields + 1, sizeof(*d->json));
	if (!d->file || !d->obj.id || !d->obj.name || !d->obj.values ||
	    !d->obj.links || !d->json)
		goto fail;
	rc = set_value(d, nf, raw_name, strlen(raw_name), json);
	json = NULL;
	if (!rc && rel >= 0) {
		d->obj.links[rel].ids = calloc(1, sizeof(char *));
		if (!d->obj.links[rel].ids ||
		    !(d->obj.links[rel].ids[0] = strdup(target_id)))
			rc = -ENOMEM;
		else
			d->obj.links[rel].n = 1;
	}
	if (!rc)
		rc = draft_render(d);
	if (rc)
		goto fail;
	pthread_mutex_lock(&s->lock);
	if (find(s, k, file)) {
		rc = -EEXIST;
	} else {
		d->next = s->list;
		s->list = d;
		d = NULL;
		if (pending)
			__atomic_fetch_add(&s->npending, 1, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&s->lock);
fail:
	free(json);
	draft_free(d);
	return rc;
}

int draft_new(struct draft_store *s, const struct tg_kind *k, const char *file,
	      const char *raw_name, int rel, const char *target_id)
{
	return new_draft(s, k, file, raw_name, rel, target_id, false);
}

int draft_new_pending(struct draft_store *s, const struct tg_kind *k,
		      const char *file, const char *raw_name)
{
	return new_draft(s, k, file, raw_name, -1, NULL, true);
}

bool draft_get(struct draft_store *s, const struct tg_kind *k, const char *file,
	       int rel, const char *target_id, struct tg_object *copy)
{
	struct draft *d;
	bool ok = false;

	if (!may_hold(s, k))
		return false;
	pthread_mutex_lock(&s->lock);
	d = find(s, k, file);
	if (d && rel >= 0)
		d = d->obj.links[rel].n &&
			    strcmp(d->obj.links[rel].ids[0], target_id) == 0
			    ? d
			    : NULL;
	if (d)
		ok = tg_object_copy(&d->obj, copy) == TG_OK;
	pthread_mutex_unlock(&s->lock);
	return ok;
}

int draft_each(struct draft_store *s, const struct tg_kind *k, int rel,
	       const char *target_id,
	       int (*fn)(void *arg, const struct tg_object *obj,
			 const char *file),
	       void *arg)
{
	int rc = 0;

	if (!may_hold(s, k))
		return 0;
	pthread_mutex_lock(&s->lock);
	for (struct draft *d = s->list; d && !rc; d = d->next) {
		if (d->obj.kind != k)
			continue;
		if (rel >= 0 && (!d->obj.links[rel].n ||
				 strcmp(d->obj.links[rel].ids[0], target_id)))
			continue;
		rc = fn(arg, &d->obj, d->file);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int draft_remove(struct draft_store *s, const struct tg_kind *k,
		 const char *file)
{
	struct draft **pp, *d = NULL;

	pthread_mutex_lock(&s->lock);
	for (pp = &s->list; *pp; pp = &(*pp)->next)
		if ((*pp)->obj.kind == k && strcmp((*pp)->file, file) == 0) {
			d = *pp;
			*pp = d->next;
			if (draft_is_pending(&d->obj))
				__atomic_fetch_sub(&s->npending, 1,
						   __ATOMIC_RELAXED);
			break;
		}
	pthread_mutex_unlock(&s->lock);
	if (!d)
		return -ENOENT;
	draft_free(d);
	return 0;
}

int draft_hold(struct draft_store *s, const struct tg_kind *k,
	       const char *file, const char *key)
{
	struct draft *d;
	char *copy = strdup(key);
	int rc = -ENOMEM;

	if (!copy)
		return -ENOMEM;
	pthread_mutex_lock(&s->lock);
	d = find(s, k, file);
	if (!d || !draft_is_pending(&d->obj)) {
		rc = -ENOENT;
	} else {
		for (size_t i = 0; i < d->nheld && rc; i++)
			if (strcmp(d->held[i], key) == 0)
				rc = 0; /* held already */
		if (rc && strv_push(&d->held, &d->nheld, copy)) {
			copy = NULL;
			rc = 0;
		}
	}
	pthread_mutex_unlock(&s->lock);
	free(copy);
	return rc;
}

char **draft_take_held(struct draft_store *s, const struct tg_kind *k,
		       const char *file, size_t *n)
{
	struct draft *d;
	char **held = NULL;

	*n = 0;
	pthread_mutex_lock(&s->lock);
	d = find(s, k, file);
	if (d) {
		held = d->held;
		*n = d->nheld;
		d->held = NULL;
		d->nheld = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return held;
}

int draft_set_field(struct draft_store *s, const struct tg_kind *k,
		    const char *file, size_t field, const char *text,
		    size_t len)
{
	struct draft *d;
	char *json = NULL;
	int rc;

	if (!draft_takes(k, k->fields[field].file))
		return -EACCES;
	if (tg_value_parse(&k->fields[field], text, len, &json) != TG_OK)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	d = find(s, k, file);
	rc = !d ? -ENOENT : set_value(d, (int)field, text, len, json);
	json = NULL;
	if (!rc)
		rc = draft_render(d);
	pthread_mutex_unlock(&s->lock);
	free(json);
	return rc;
}

int draft_set_link(struct draft_store *s, const struct tg_kind *k,
		   const char *file, size_t rel, const char *target_id)
{
	struct tg_ids *ids;
	struct draft *d;
	char *id = target_id ? strdup(target_id) : NULL;
	int rc = 0;

	if (!draft_takes(k, k->rels[rel].dir) || k->rels[rel].many) {
		free(id);
		return -EPERM;
	}
	if (target_id && !id)
		return -ENOMEM;
	pthread_mutex_lock(&s->lock);
	d = find(s, k, file);
	if (!d) {
		rc = -ENOENT;
	} else {
		ids = &d->obj.links[rel];
		if (!ids->ids && !(ids->ids = calloc(1, sizeof(char *))))
			rc = -ENOMEM;
		if (!rc) {
			if (ids->n)
				free(ids->ids[0]);
			ids->ids[0] = id;
			ids->n = id ? 1 : 0;
			id = NULL;
			rc = draft_render(d);
		}
	}
	pthread_mutex_unlock(&s->lock);
	free(id);
	return rc;
}

/* The values a create of @d sends, when it has all it needs: 1, with
 * @v filled (copies); 0 when something is missing. */
static int ready(const struct draft *d, struct draft_values *v)
{
	const struct tg_kind *k = d->obj.kind;
	const char *p = k->draft->needs;
	size_t *fields = v->fields, *n = &v->n, *rels = v->rels, *nl = &v->nl;
	char **values = v->values, **ids = v->ids, w[64];

	*n = *nl = 0;
	if (next_missing(d, &p, w, sizeof(w)))
		return 0;
	for (size_t i = 0; i < k->nfields && *n < TG_MAX_VALUES; i++) {
		if (!d->json[i])
			continue;
		fields[*n] = i;
		values[(*n)++] = d->json[i];
	}
	for (size_t r = 0; r < k->nrels && *n + *nl < TG_MAX_VALUES; r++) {
		if (k->rels[r].many || !d->obj.links[r].n)
			continue;
		rels[*nl] = r;
		ids[(*nl)++] = d->obj.links[r].ids[0];
	}
	for (size_t i = 0; i < *n; i++)
		if (!(values[i] = strdup(values[i])))
			return -ENOMEM;
	for (size_t i = 0; i < *nl; i++)
		if (!(ids[i] = strdup(ids[i])))
			return -ENOMEM;
	return 1;
}

int draft_create(struct draft_store *s, const struct tg_kind *k,
		 const char *file,
		 int (*send)(void *arg, const struct tg_kind *k,
			     const struct draft_values *v),
		 void *arg, bool *sent)
{
	struct draft_values v = { 0 };
	struct draft *d;
	int rc;

	*sent = false;
	/* Two writers completing the same draft make one create. */
	pthread_mutex_lock(&s->create_lock);
	pthread_mutex_lock(&s->lock);
	d = find(s, k, file);
	rc = d ? ready(d, &v) : -ENOENT;
	if (d)
		snprintf(v.name, sizeof(v.name), "%s", d->obj.name);
	pthread_mutex_unlock(&s->lock);
	if (rc <= 0)
		goto out;
	*sent = true;
	rc = send(arg, k, &v);
	if (!rc)
		draft_remove(s, k, file);
out:
	pthread_mutex_unlock(&s->create_lock);
	for (size_t i = 0; i < TG_MAX_VALUES; i++) {
		free(v.values[i]);
		free(v.ids[i]);
	}
	return rc < 0 ? rc : 0;
}
