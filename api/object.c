/*
 * object.c - turning the API's JSON nodes into struct tg_object.
 *
 * Every field file's text is rendered here: booleans as true/false, enums
 * in lower case, times as RFC 3339 UTC, lists one item a line, each value
 * with one trailing newline.  A value the API returns as null renders as
 * NULL (an empty file).  A node is checked and measured when it arrives
 * and kept as compact JSON; a field is rendered from it when read.  The
 * helpers for times and global IDs are pure functions with unit tests.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

/* Parses exactly @n digits at @s into *v. */
static bool digits(const char *s, int n, int *v)
{
	int x = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		x = x * 10 + (s[i] - '0');
	}
	*v = x;
	return true;
}

/*
 * Splits an RFC 3339 time into UTC seconds and the fraction digits (without
 * the dot; *fraclen 0 when none).
 */
static bool time_split(const char *s, int64_t *secs, const char **frac,
		       size_t *fraclen)
{
	int y, mo, d, h, mi, se, oh = 0, om = 0, sign = 0;
	struct tm tm = { 0 };
	const char *p;

	if (!s || strlen(s) < 20)
		return false;
	if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    !digits(s + 11, 2, &h) || s[13] != ':' ||
	    !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &se))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    se > 60)
		return false;
	p = s + 19;
	*frac = p;
	*fraclen = 0;
	if (*p == '.') {
		p++;
		*frac = p;
		while (isdigit((unsigned char)*p))
			p++;
		*fraclen = (size_t)(p - *frac);
		if (*fraclen == 0 || *fraclen > 9)
			return false;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		if (!digits(p + 1, 2, &oh) || p[3] != ':' ||
		    !digits(p + 4, 2, &om) || oh > 23 || om > 59)
			return false;
		p += 6;
	} else {
		return false;
	}
	if (*p != '\0')
		return false;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	*secs = (int64_t)timegm(&tm) - sign * (oh * 3600 + om * 60);
	return true;
}

bool tg_time_parse(const char *s, int64_t *secs)
{
	const char *frac;
	size_t fraclen;

	return time_split(s, secs, &frac, &fraclen);
}

bool tg_time_render(const char *s, char *out, size_t outsz)
{
	const char *frac;
	size_t fraclen;
	int64_t secs;
	time_t t;
	struct tm tm;
	int n;

	if (!time_split(s, &secs, &frac, &fraclen))
		return false;
	t = (time_t)secs;
	if (!gmtime_r(&t, &tm))
		return false;
	n = snprintf(out, outsz, "%04d-%02d-%02dT%02d:%02d:%02d%s%.*sZ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		     tm.tm_min, tm.tm_sec, fraclen ? "." : "", (int)fraclen,
		     frac);
	return n > 0 && (size_t)n < outsz;
}

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

/* "text" + '\n' in a new string. */
static char *line(const char *text)
{
	size_t n = strlen(text);
	char *s = malloc(n + 2);

	if (!s)
		return NULL;
	memcpy(s, text, n);
	s[n] = '\n';
	s[n + 1] = '\0';
	return s;
}

/* "tcp: allow-all", "tcp: deny-all" or "tcp: 22,443,8000-8080". */
static bool render_protocol(const char *name, const cJSON *p, struct buf *b)
{
	const cJSON *policy = json_at(p, "policy"), *ports = json_at(p, "ports");
	const cJSON *r;
	bool first = true;

	if (!cJSON_IsString(policy) || !buf_addf(b, "%s: ", name))
		return false;
	if (strcmp(policy->valuestring, "ALLOW_ALL") == 0)
		return buf_add(b, "allow-all\n", 10);
	if (strcmp(policy->valuestring, "RESTRICTED") != 0)
		return false;
	if (!cJSON_IsArray(ports))
		return false;
	if (!cJSON_GetArraySize(ports))
		return buf_add(b, "deny-all\n", 9);
	cJSON_ArrayForEach(r, ports) {
		const cJSON *lo = json_at(r, "start"), *hi = json_at(r, "end");

		if (!cJSON_IsNumber(lo) || !cJSON_IsNumber(hi))
			return false;
		if (!buf_addf(b, "%s%d", first ? "" : ",", lo->valueint))
			return false;
		if (hi->valueint != lo->valueint &&
		    !buf_addf(b, "-%d", hi->valueint))
			return false;
		first = false;
	}
	return buf_add(b, "\n", 1);
}

static bool render_protocols(const cJSON *v, char **out)
{
	const cJSON *icmp = json_at(v, "allowIcmp");
	struct buf b = { 0 };

	if (!cJSON_IsBool(icmp) ||
	    !buf_addf(&b, "icmp: %s\n", cJSON_IsTrue(icmp) ? "allow" : "deny") ||
	    !render_protocol("tcp", json_at(v, "tcp"), &b) ||
	    !render_protocol("udp", json_at(v, "udp"), &b)) {
		buf_release(&b);
		return false;
	}
	*out = b.s;
	return true;
}

/* One "key=value" line per tag; an empty file for none. */
static bool render_tags(const cJSON *v, char **out)
{
	struct buf b = { 0 };
	const cJSON *t;

	if (!cJSON_IsArray(v))
		return false;
	cJSON_ArrayForEach(t, v) {
		const cJSON *k = json_at(t, "key"), *val = json_at(t, "value");

		if (!cJSON_IsString(k) || !cJSON_IsString(val) ||
		    !buf_addf(&b, "%s=%s\n", k->valuestring,
			      val->valuestring)) {
			buf_release(&b);
			return false;
		}
	}
	*out = b.s ? b.s : strdup("");
	return *out != NULL;
}

/*
 * Renders one field's value.  Sets *out to NULL for a JSON null (or a
 * missing key); returns false when the value has the wrong type or on
 * allocation failure.
 */
bool render_value(const struct tg_field *f, const cJSON *v, char **out)
{
	char buf[96];

	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return true;
	switch (f->type) {
	case TG_FT_STRING:
		if (!cJSON_IsString(v))
			return false;
		*out = line(v->valuestring);
		break;
	case TG_FT_ENUM: {
		char *s;

		if (!cJSON_IsString(v))
			return false;
		s = line(v->valuestring);
		for (char *c = s; c && *c; c++)
			*c = (char)tolower((unsigned char)*c);
		*out = s;
		break;
	}
	case TG_FT_BOOL:
		if (!cJSON_IsBool(v))
			return false;
		*out = line(cJSON_IsTrue(v) ? "true" : "false");
		break;
	case TG_FT_TIME:
		if (!cJSON_IsString(v) ||
		    !tg_time_render(v->valuestring, buf, sizeof(buf)))
			return false;
		*out = line(buf);
		break;
	case TG_FT_INT:
		if (!cJSON_IsNumber(v))
			return false;
		snprintf(buf, sizeof(buf), "%.0f", v->valuedouble);
		*out = line(buf);
		break;
	case TG_FT_LIST: {
		const cJSON *it;
		size_t len = 0;
		char *s, *p;

		if (!cJSON_IsArray(v))
			return false;
		cJSON_ArrayForEach(it, v) {
			if (!cJSON_IsString(it))
				return false;
			len += strlen(it->valuestring) + 1;
		}
		s = malloc(len + 1);
		if (!s)
			return false;
		p = s;
		cJSON_ArrayForEach(it, v) {
			size_t n = strlen(it->valuestring);

			memcpy(p, it->valuestring, n);
			p += n;
			*p++ = '\n';
		}
		*p = '\0';
		*out = s;
		break;
	}
	case TG_FT_TRUST:
		if (!cJSON_IsBool(v))
			return false;
		*out = line(cJSON_IsTrue(v) ? "trusted" : "untrusted");
		break;
	case TG_FT_PROTOCOLS:
		return render_protocols(v, out);
	case TG_FT_TAGS:
		return render_tags(v, out);
	case TG_FT_SECRET:
		return true;
	}
	return *out != NULL;
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

/* Appends @s as a JSON string.  Text with nothing to escape (the usual
 * names, ids and values) is copied between quotes; the rest is printed by
 * cJSON, which does the escaping: the same bytes either way. */
static bool add_string(struct buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	cJSON str = { .type = cJSON_String, .valuestring = (char *)s };
	char *printed;
	bool ok;

	while (*p >= 0x20 && *p != '"' && *p != '\\')
		p++;
	if (!*p)
		return buf_add(out, "\"", 1) &&
		       buf_add(out, s, (size_t)(p - (const unsigned char *)s)) &&
		       buf_add(out, "\"", 1);
	printed = cJSON_PrintUnformatted(&str);
	if (!printed)
		return false;
	ok = buf_add(out, printed, strlen(printed));
	cJSON_free(printed);
	return ok;
}

/* Appends @n spaces. */
static bool add_indent(struct buf *out, int n)
{
	static const char spaces[] = "                                ";

	for (; n > 0; n -= (int)sizeof(spaces) - 1)
		if (!buf_add(out, spaces,
			     n < (int)sizeof(spaces) - 1 ? (size_t)n
							 : sizeof(spaces) - 1))
			return false;
	return true;
}

/*
 * Pretty-prints @v as jq does (two-space indent, "key": value), keys in
 * the order the API sent them.  Numbers are printed by cJSON.
 */
static bool pretty(const cJSON *v, int depth, struct buf *out)
{
	bool obj = cJSON_IsObject(v);
	const cJSON *it;
	char *s;
	bool ok;

	if (depth > 64)
		return false;
	if (cJSON_IsString(v))
		return add_string(out, v->valuestring ? v->valuestring : "");
	if (cJSON_IsTrue(v) || cJSON_IsFalse(v) || cJSON_IsNull(v)) {
		const char *lit = cJSON_IsTrue(v) ? "true"
				  : cJSON_IsFalse(v) ? "false" : "null";

		return buf_add(out, lit, strlen(lit));
	}
	if (!obj && !cJSON_IsArray(v)) {
		s = cJSON_PrintUnformatted(v);
		if (!s)
			return false;
		ok = buf_add(out, s, strlen(s));
		cJSON_free(s);
		return ok;
	}
	if (!v->child)
		return buf_add(out, obj ? "{}" : "[]", 2);
	if (!buf_add(out, obj ? "{\n" : "[\n", 2))
		return false;
	cJSON_ArrayForEach(it, v) {
		if (!add_indent(out, 2 * (depth + 1)))
			return false;
		if (obj && (!add_string(out, it->string ? it->string : "") ||
			    !buf_add(out, ": ", 2)))
			return false;
		if (!pretty(it, depth + 1, out) ||
		    !buf_add(out, it->next ? ",\n" : "\n", it->next ? 2 : 1))
			return false;
	}
	return add_indent(out, 2 * depth) &&
	       buf_add(out, obj ? "}" : "]", 1);
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

/*
 * In object.json a nested connection is shown as the list of its nodes:
 * edges and page info are transport, not the object.
 */
static void flatten_conns(const struct tg_kind *kind, cJSON *node)
{
	for (size_t i = 0; i < kind->nconns; i++) {
		const char *f = kind->conns[i].field;
		cJSON *conn = cJSON_GetObjectItemCaseSensitive(node, f);
		cJSON *edges = cJSON_GetObjectItemCaseSensitive(conn, "edges");
		cJSON *list, *edge;

		if (!cJSON_IsArray(edges) || !(list = cJSON_CreateArray()))
			continue;
		cJSON_ArrayForEach(edge, edges) {
			cJSON *n = cJSON_GetObjectItemCaseSensitive(edge,
								    "node");

			if (n)
				cJSON_AddItemReferenceToArray(list, n);
		}
		/* The references point into edges: print before freeing. */
		{
			cJSON *dup = cJSON_Duplicate(list, true);

			cJSON_Delete(list);
			if (dup)
				cJSON_ReplaceItemInObjectCaseSensitive(node, f,
								       dup);
		}
	}
}

static uint64_t fnv64(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
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
		if (!render_value(f, json_at(node, f->path), &v)) {
			tg_log(TG_LOG_WARN, "%s %s: bad value for %s",
			       kind->type_name, id, f->path);
			free(v);
			return TG_EPROTO;
		}
		n = v ? strlen(v) : 0;
		lens[i] = n < TG_LEN_LONG ? (uint8_t)n : TG_LEN_LONG;
		free(v);
	}
	return TG_OK;
}

/*
 * Keeps @node as @o's object.json: compact (pretty-printed it was a fifth
 * larger) and packed (pack.c: 18.6 MB of compact texts for the large
 * tenant), with the length and hash of the pretty text, which is what is
 * shown.  The pretty text is the same from the compact one: pretty()
 * prints every scalar and key as cJSON's unformatted printer does, and
 * parsing that back gives them again.
 */
static enum tg_err keep_json(const cJSON *node, struct tg_object *o)
{
	struct buf printed = { 0 };
	unsigned char *packed = NULL;
	uint32_t size;
	char *compact;

	if (!pretty(node, 0, &printed) || !buf_add(&printed, "\n", 1) ||
	    printed.len >= UINT32_MAX) {
		enum tg_err err = printed.s ? TG_EPROTO : TG_ENOMEM;

		buf_release(&printed);
		return err;
	}
	compact = cJSON_PrintUnformatted(node);
	if (compact)
		packed = json_pack(o->kind, compact, strlen(compact), &size);
	cJSON_free(compact);
	if (!packed) {
		buf_release(&printed);
		return TG_ENOMEM;
	}
	free(o->packed);
	o->packed = packed;
	o->packed_size = size;
	o->json_len = (uint32_t)printed.len;
	o->hash = fnv64(printed.s);
	buf_release(&printed);
	return TG_OK;
}

cJSON *object_node(const struct tg_object *obj)
{
	char *text = obj->packed ? json_unpack(obj->kind, obj->packed,
					       obj->packed_size)
				 : NULL;
	cJSON *node = text ? cJSON_Parse(text) : NULL;

	free(text);
	return node;
}

const char *tg_object_json(const struct tg_object *obj, char **buf)
{
	struct buf printed = { 0 };
	cJSON *node;
	bool ok;

	if (!obj->packed)
		return obj->json ? obj->json : "";
	node = object_node(obj);
	ok = node && pretty(node, 0, &printed) && buf_add(&printed, "\n", 1);
	cJSON_Delete(node);
	if (!ok) {
		buf_release(&printed);
		return NULL;
	}
	free(*buf);
	*buf = printed.s;
	return *buf;
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

size_t tg_object_value_len(const struct tg_object *obj, size_t i)
{
	char *buf = NULL;
	const char *v;
	size_t n;

	if (obj->values)
		return obj->values[i] ? strlen(obj->values[i]) : 0;
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
	    !tg_time_parse(s, &o.mtime))
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
	const struct tg_rel *r = &k->rels[rel];
	char obj_path[128];
	const char *dot = r->path ? strrchr(r->path, '.') : NULL;
	cJSON *node = NULL, *link = NULL, *old, *parent;
	const char *pdot;
	enum tg_err err;
	size_t plen;

	memset(out, 0, sizeof(*out));
	if (rel >= k->nrels || r->many || !dot ||
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
