/*
 * object.c - turning the API's JSON nodes into struct tg_object, and the
 * life of one: its id, name, parent, links and embedded children read
 * from the node, copies, a link set by hand, release.
 *
 * A node is checked and measured when it arrives (every field rendered
 * once, by its type's row in fieldtypes.c, for the length stat tells) and
 * kept as compact JSON (objectjson.c); a field's file is rendered from it
 * when read, from the node last parsed on the thread when it is the same.
 * A value the API returns as null renders as NULL (an empty file).  The
 * decoder of global IDs is a pure function with unit tests.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

bool tg_global_id_decode(const char *id, char *type, size_t typesz,
			 char *pk, size_t pksz)
{
	char buf[256];
	size_t n = 0, len;
	unsigned acc = 0;
	int bits = 0;
	char *colon;

	if (!id)
		return false;
	len = strlen(id);
	while (len && id[len - 1] == '=')
		len--;
	for (size_t i = 0; i < len; i++) {
		int v = b64val((unsigned char)id[i]);

		if (v < 0)
			return false;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n + 1 >= sizeof(buf))
				return false;
			buf[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	buf[n] = '\0';
	if (memchr(buf, '\0', n))
		return false;
	colon = strchr(buf, ':');
	if (!colon || colon == buf || colon[1] == '\0')
		return false;
	*colon = '\0';
	if (strlen(buf) >= typesz || strlen(colon + 1) >= pksz)
		return false;
	strcpy(type, buf);
	strcpy(pk, colon + 1);
	return true;
}

cJSON *json_at(const cJSON *node, const char *path)
{
	char part[64];
	const char *p = path, *dot;

	while (node && *p) {
		size_t len;

		dot = strchr(p, '.');
		len = dot ? (size_t)(dot - p) : strlen(p);
		if (len >= sizeof(part))
			return NULL;
		memcpy(part, p, len);
		part[len] = '\0';
		if (!cJSON_IsObject(node))
			return NULL;
		node = cJSON_GetObjectItemCaseSensitive(node, part);
		p = dot ? dot + 1 : p + len;
	}
	return (cJSON *)node;
}

void tg_object_release(struct tg_object *obj)
{
	if (!obj)
		return;
	if (obj->values)
		for (size_t i = 0; i < obj->kind->nfields; i++)
			free(obj->values[i]);
	free(obj->values);
	free(obj->lens);
	if (obj->links)
		for (size_t i = 0; i < obj->kind->nrels; i++) {
			for (size_t j = 0; j < obj->links[i].n; j++)
				free(obj->links[i].ids[j]);
			free(obj->links[i].ids);
		}
	free(obj->links);
	tg_list_release(&obj->children);
	free(obj->id);
	free(obj->name);
	free(obj->parent_id);
	free(obj->json);
	free(obj->packed);
	memset(obj, 0, sizeof(*obj));
}

/* A string at @path, or NULL when absent, null or not a string. */
static const char *str_at(const cJSON *node, const char *path)
{
	const cJSON *v = json_at(node, path);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Appends a copy of @id to @ids. */
static bool ids_add(struct tg_ids *ids, const char *id)
{
	char **v = realloc(ids->ids, (ids->n + 1) * sizeof(*v));

	if (!v)
		return false;
	ids->ids = v;
	ids->ids[ids->n] = strdup(id);
	return ids->ids[ids->n++] != NULL;
}

/* The target ids of forward relation @rel in @node. */
static enum tg_err read_rel(const struct tg_rel *rel, const cJSON *node,
			    struct tg_ids *ids)
{
	const cJSON *edges, *edge;
	const char *s;

	if (!rel->many) {
		s = str_at(node, rel->path);
		return s && *s && !ids_add(ids, s) ? TG_ENOMEM : TG_OK;
	}
	edges = json_at(node, rel->path);
	if (!edges || cJSON_IsNull(edges))
		return TG_OK; /* not asked for */
	/* A plain list of objects (a serial number's matchedDevices). */
	if (cJSON_IsArray(edges)) {
		cJSON_ArrayForEach(edge, edges) {
			s = str_at(edge, "id");
			if (s && !ids_add(ids, s))
				return TG_ENOMEM;
		}
		return TG_OK;
	}
	edges = json_at(edges, "edges");
	if (!cJSON_IsArray(edges))
		return TG_EPROTO;
	cJSON_ArrayForEach(edge, edges) {
		const cJSON *n = json_at(edge, "node");
		const char *type = str_at(n, "__typename");

		if (rel->type_name && (!type || strcmp(type, rel->type_name)))
			continue;
		s = str_at(n, "id");
		if (s && !ids_add(ids, s))
			return TG_ENOMEM;
	}
	return TG_OK;
}

/* The embedded child objects (a service account's keys) of @node. */
static enum tg_err read_children(const struct tg_kind *child,
				 const cJSON *node, struct tg_object *o)
{
	const cJSON *edges = json_at(node, child->parent_conn);
	const cJSON *edge;
	size_t n;

	if (!edges || cJSON_IsNull(edges))
		return TG_OK; /* not asked for */
	edges = json_at(edges, "edges");
	if (!cJSON_IsArray(edges))
		return TG_EPROTO;
	n = (size_t)cJSON_GetArraySize(edges);
	o->children.items = calloc(n + 1, sizeof(struct tg_object));
	if (!o->children.items)
		return TG_ENOMEM;
	cJSON_ArrayForEach(edge, edges) {
		struct tg_object *c = &o->children.items[o->children.n];
		enum tg_err err = object_from_node(child, json_at(edge, "node"),
						   c);

		if (err != TG_OK)
			return err;
		o->children.n++;
		c->parent_id = strdup(o->id);
		if (!c->parent_id)
			return TG_ENOMEM;
	}
	return TG_OK;
}

/* False when @v holds a number that prints as null (infinite: 1e999):
 * the node kept would not give back the values measured. */
static bool numbers_finite(const cJSON *v)
{
	if (cJSON_IsNumber(v))
		return isfinite(v->valuedouble);
	for (const cJSON *c = v ? v->child : NULL; c; c = c->next)
		if (!numbers_finite(c))
			return false;
	return true;
}

/* Whether @node has the first key of @path ("address" of
 * "address.value"), null or not: a fragment's field of another type has
 * none. */
static bool has_key(const cJSON *node, const char *path)
{
	char key[64];
	size_t len = strcspn(path, ".");

	if (len >= sizeof(key))
		return true;
	memcpy(key, path, len);
	key[len] = '\0';
	return cJSON_GetObjectItemCaseSensitive(node, key) != NULL;
}

bool tg_object_has_field(const struct tg_object *obj, size_t i)
{
	return obj->values || !obj->lens || obj->lens[i] != TG_LEN_ABSENT;
}

/*
 * Renders each field of @node to check it and keep its length in @lens
 * (what stat tells without rendering).  TG_EPROTO, said in the log, for
 * a value of the wrong type (or no memory to render it).
 */
static enum tg_err measure_values(const struct tg_kind *kind,
				  const cJSON *node, const char *id,
				  uint8_t *lens)
{
	for (size_t i = 0; i < kind->nfields; i++) {
		const struct tg_field *f = &kind->fields[i];
		char *v = NULL;
		size_t n;

		lens[i] = 0;
		if (!f->path)
			continue;
		if (!has_key(node, f->path)) {
			lens[i] = TG_LEN_ABSENT;
			continue;
		}
		if (!render_value(f, json_at(node, f->path), &v)) {
			tg_log(TG_LOG_WARN, "%s %s: bad value for %s",
			       kind->type_name, id, f->path);
			free(v);
			return TG_EPROTO;
		}
		n = v ? strlen(v) : 0;
		lens[i] = n < TG_LEN_ABSENT ? (uint8_t)n : TG_LEN_LONG;
		free(v);
	}
	return TG_OK;
}

/*
 * The node last read on this thread, for the next field of the same
 * object (rsync and cat * read an object's files one after the other):
 * known by its packed bytes' address, size and hash, so that another
 * object put at the same address is another node unless its content is
 * the same.  Freed when the thread ends.
 */
struct last_node {
	const unsigned char *packed;
	uint32_t size;
	uint64_t hash;
	cJSON *node;
};

static pthread_key_t last_key;
static pthread_once_t last_once = PTHREAD_ONCE_INIT;
static bool last_ok;

static void last_free(void *p)
{
	struct last_node *l = p;

	cJSON_Delete(l->node);
	free(l);
}

static void last_init(void)
{
	last_ok = pthread_key_create(&last_key, last_free) == 0;
}

/* @obj's node, parsed: this thread's, not to be deleted; NULL when out
 * of memory. */
static const cJSON *read_node(const struct tg_object *obj)
{
	struct last_node *l;

	pthread_once(&last_once, last_init);
	l = last_ok ? pthread_getspecific(last_key) : NULL;
	if (!l && last_ok && (l = calloc(1, sizeof(*l))) &&
	    pthread_setspecific(last_key, l) != 0) {
		free(l);
		l = NULL;
	}
	if (!l)
		return NULL;
	if (l->node && l->packed == obj->packed &&
	    l->size == obj->packed_size && l->hash == obj->hash)
		return l->node;
	cJSON_Delete(l->node);
	l->node = object_node(obj);
	l->packed = obj->packed;
	l->size = obj->packed_size;
	l->hash = obj->hash;
	return l->node;
}

const char *tg_object_value(const struct tg_object *obj, size_t i,
			    char **buf)
{
	const struct tg_field *f = &obj->kind->fields[i];
	const cJSON *node;
	char *v = NULL;

	if (obj->values)
		return obj->values[i] ? obj->values[i] : "";
	if (!obj->packed || !f->path)
		return "";
	/* The fields' paths go through no connection, so the node kept
	 * (its connections flattened) renders as the node that came. */
	node = read_node(obj);
	if (!node || !render_value(f, json_at(node, f->path), &v)) {
		free(v);
		return NULL;
	}
	free(*buf);
	*buf = v;
	return v ? v : "";
}

bool api_object_string(const struct tg_object *obj, const char *path,
		       char *out, size_t size)
{
	const cJSON *node, *v;

	if (obj->values || !obj->packed)
		return false;
	node = read_node(obj);
	v = node ? json_at(node, path) : NULL;
	if (!cJSON_IsString(v) || strlen(v->valuestring) >= size)
		return false;
	strcpy(out, v->valuestring);
	return true;
}

/* The item of @obj's link @rel to @target_id in its node's (flattened)
 * connection, or NULL. */
static const cJSON *edge_item(const struct tg_object *obj, size_t rel,
			      const char *target_id)
{
	const struct tg_rel *r = &obj->kind->rels[rel];
	const cJSON *node, *list, *item;

	if (obj->values || !obj->packed || !r->path || !r->many)
		return NULL;
	node = read_node(obj);
	list = node ? json_at(node, r->path) : NULL;
	cJSON_ArrayForEach(item, list) {
		const char *id = str_at(item, "id");

		if (id && !strcmp(id, target_id))
			return item;
	}
	return NULL;
}

const char *tg_edge_value(const struct tg_object *obj, size_t rel,
			  const char *target_id, size_t field, char **buf)
{
	const struct tg_field *f = &obj->kind->rels[rel].edge_fields[field];
	const cJSON *item = edge_item(obj, rel, target_id);
	char *v = NULL;

	if (!item || !render_value(f, json_at(item, f->path), &v)) {
		free(v);
		return NULL;
	}
	free(*buf);
	*buf = v;
	return v ? v : "";
}

bool tg_edge_link(const struct tg_object *obj, size_t rel,
		  const char *target_id, char *out, size_t size)
{
	const char *path = obj->kind->rels[rel].edge_link_path;
	const cJSON *item = path ? edge_item(obj, rel, target_id) : NULL;
	const char *id = item ? str_at(item, path) : NULL;

	if (!id || !*id || strlen(id) >= size)
		return false;
	strcpy(out, id);
	return true;
}

size_t tg_object_value_len(const struct tg_object *obj, size_t i)
{
	char *buf = NULL;
	const char *v;
	size_t n;

	if (obj->values)
		return obj->values[i] ? strlen(obj->values[i]) : 0;
	if (obj->lens && obj->lens[i] == TG_LEN_ABSENT)
		return 0;
	if (obj->lens && obj->lens[i] != TG_LEN_LONG)
		return obj->lens[i];
	v = tg_object_value(obj, i, &buf);
	n = v ? strlen(v) : 0;
	free(buf);
	return n;
}

enum tg_err object_from_node(const struct tg_kind *kind, cJSON *node,
			     struct tg_object *out)
{
	enum tg_err err = TG_ENOMEM;
	struct tg_object o = { .kind = kind };
	const struct tg_kind *child = tg_kind_embedded(kind);
	const char *id, *name, *s;

	memset(out, 0, sizeof(*out));
	id = str_at(node, "id");
	if (!id || !*id) {
		tg_log(TG_LOG_WARN, "a %s without an id in a response",
		       kind->type_name);
		return TG_EPROTO;
	}
	name = str_at(node, kind->name_path);
	if (!name || !*name)
		name = id;
	o.id = strdup(id);
	o.name = strdup(name);
	o.lens = calloc(kind->nfields + 1, sizeof(*o.lens));
	o.links = calloc(kind->nrels + 1, sizeof(*o.links));
	if (!o.id || !o.name || !o.lens || !o.links)
		goto out;
	if (kind->parent_path) {
		s = str_at(node, kind->parent_path);
		if (!s) {
			err = TG_EPROTO;
			goto out;
		}
		o.parent_id = strdup(s);
		if (!o.parent_id)
			goto out;
	}
	if (!numbers_finite(node)) {
		tg_log(TG_LOG_WARN, "%s %s: a number out of range",
		       kind->type_name, id);
		err = TG_EPROTO;
		goto out;
	}
	err = measure_values(kind, node, id, o.lens);
	if (err != TG_OK)
		goto out;
	for (size_t i = 0; i < kind->nrels; i++) {
		if (!kind->rels[i].path)
			continue;
		err = read_rel(&kind->rels[i], node, &o.links[i]);
		if (err != TG_OK)
			goto out;
	}
	if (child) {
		err = read_children(child, node, &o);
		if (err != TG_OK)
			goto out;
	}
	if (kind->mtime_path && (s = str_at(node, kind->mtime_path)) &&
	    !tg_time_parse_ns(s, &o.mtime))
		o.mtime = 0;
	flatten_conns(kind, node);
	err = keep_json(node, &o);
	if (err != TG_OK)
		goto out;
	*out = o;
	memset(&o, 0, sizeof(o));
	err = TG_OK;
out:
	if (o.kind)
		tg_object_release(&o);
	return err;
}

enum tg_err tg_object_from_json(const struct tg_kind *kind, const char *json,
				size_t len, struct tg_object *out)
{
	cJSON *node = cJSON_ParseWithLength(json, len);
	enum tg_err err;

	memset(out, 0, sizeof(*out));
	if (!node)
		return TG_EPROTO;
	err = object_from_node(kind, node, out);
	cJSON_Delete(node);
	return err;
}

void tg_list_release(struct tg_list *list)
{
	for (size_t i = 0; i < list->n; i++)
		tg_object_release(&list->items[i]);
	free(list->items);
	list->items = NULL;
	list->n = 0;
}

size_t tg_list_bytes(const struct tg_list *list)
{
	size_t total = list->n * sizeof(struct tg_object);

	for (size_t i = 0; i < list->n; i++) {
		const struct tg_object *o = &list->items[i];

		total += strlen(o->id) + strlen(o->name) + 3 +
			 (o->json ? strlen(o->json) : 0) + o->packed_size;
		if (o->lens)
			total += o->kind->nfields * sizeof(*o->lens);
		for (size_t j = 0; o->values && j < o->kind->nfields; j++)
			total += sizeof(char *) +
				 (o->values[j] ? strlen(o->values[j]) + 1 : 0);
	}
	return total;
}

static char *dup_or_null(const char *s, bool *ok)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*ok = false;
	return d;
}

enum tg_err tg_object_copy(const struct tg_object *src, struct tg_object *dst)
{
	const struct tg_kind *k = src->kind;
	bool ok = true;

	memset(dst, 0, sizeof(*dst));
	dst->kind = k;
	dst->mtime = src->mtime;
	dst->hash = src->hash;
	dst->id = dup_or_null(src->id, &ok);
	dst->name = dup_or_null(src->name, &ok);
	dst->parent_id = dup_or_null(src->parent_id, &ok);
	dst->json = dup_or_null(src->json, &ok);
	dst->json_len = src->json_len;
	if (src->packed) {
		dst->packed = malloc(src->packed_size);
		if (dst->packed) {
			memcpy(dst->packed, src->packed, src->packed_size);
			dst->packed_size = src->packed_size;
		} else {
			ok = false;
		}
	}
	dst->links = calloc(k->nrels + 1, sizeof(*dst->links));
	if (!dst->links)
		ok = false;
	if (ok && src->values) {
		dst->values = calloc(k->nfields + 1, sizeof(*dst->values));
		ok = dst->values != NULL;
		for (size_t i = 0; ok && i < k->nfields; i++)
			dst->values[i] = dup_or_null(src->values[i], &ok);
	}
	if (ok && src->lens) {
		dst->lens = malloc((k->nfields + 1) * sizeof(*dst->lens));
		ok = dst->lens != NULL;
		if (ok)
			memcpy(dst->lens, src->lens,
			       (k->nfields + 1) * sizeof(*dst->lens));
	}
	for (size_t i = 0; ok && src->links && i < k->nrels; i++)
		for (size_t j = 0; ok && j < src->links[i].n; j++)
			ok = ids_add(&dst->links[i], src->links[i].ids[j]);
	if (ok && src->children.n) {
		dst->children.items = calloc(src->children.n,
					     sizeof(*dst->children.items));
		ok = dst->children.items != NULL;
		for (size_t i = 0; ok && i < src->children.n; i++) {
			ok = tg_object_copy(&src->children.items[i],
					    &dst->children.items[i]) == TG_OK;
			if (ok)
				dst->children.n++;
		}
	}
	if (!ok) {
		tg_object_release(dst);
		return TG_ENOMEM;
	}
	return TG_OK;
}

enum tg_err tg_object_set_link(const struct tg_object *src, size_t rel,
			       const char *id, const char *name,
			       struct tg_object *out)
{
	const struct tg_kind *k = src->kind;
	const struct tg_rel *r;
	char obj_path[128];
	const char *dot;
	cJSON *node = NULL, *link = NULL, *old, *parent;
	const char *pdot;
	enum tg_err err;
	size_t plen;

	memset(out, 0, sizeof(*out));
	if (rel >= k->nrels)
		return TG_EINVAL;
	r = &k->rels[rel];
	dot = r->path ? strrchr(r->path, '.') : NULL;
	if (r->many || !dot ||
	    (plen = (size_t)(dot - r->path)) >= sizeof(obj_path))
		return TG_EINVAL;
	memcpy(obj_path, r->path, plen);
	obj_path[plen] = '\0';
	err = tg_object_copy(src, out);
	if (err != TG_OK)
		return err;
	err = TG_ENOMEM;
	node = object_node(src);
	old = node ? json_at(node, obj_path) : NULL;
	pdot = strrchr(obj_path, '.');
	if (pdot) {
		char up[sizeof(obj_path)];

		snprintf(up, sizeof(up), "%.*s", (int)(pdot - obj_path),
			 obj_path);
		parent = json_at(node, up);
	} else {
		parent = node;
	}
	if (!old || !parent) {
		err = TG_EPROTO;
		goto fail;
	}
	link = cJSON_CreateObject();
	if (!link || !cJSON_AddStringToObject(link, "id", id) ||
	    !cJSON_AddStringToObject(link, "name", name) ||
	    !(link->string = strdup(old->string)) ||
	    !cJSON_ReplaceItemViaPointer(parent, old, link)) {
		cJSON_Delete(link);
		goto fail;
	}
	/* Fields read from the link ("securityPolicy.name"). */
	if (!out->lens) {
		err = TG_EINVAL;
		goto fail;
	}
	err = measure_values(k, node, src->id, out->lens);
	if (err == TG_OK)
		err = keep_json(node, out);
	if (err != TG_OK)
		goto fail;
	err = TG_ENOMEM;
	for (size_t j = 0; j < out->links[rel].n; j++)
		free(out->links[rel].ids[j]);
	out->links[rel].n = 0;
	if (!ids_add(&out->links[rel], id))
		goto fail;
	cJSON_Delete(node);
	return TG_OK;
fail:
	cJSON_Delete(node);
	tg_object_release(out);
	return err;
}
