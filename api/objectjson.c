/*
 * objectjson.c - an object's object.json: the node as the API sent it,
 * kept and shown.  A node is kept compact and packed (pack.c) with the
 * length and hash of its pretty text, its nested connections flattened to
 * the lists of their nodes; it is shown pretty-printed as jq prints it,
 * keys in the API's order.  Field files are rendered from the same node
 * (object.c, fieldtypes.c); an edit of object.json is read back by
 * tg_json_diff (values.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

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

/*
 * In object.json a nested connection is shown as the list of its nodes:
 * edges and page info are transport, not the object.
 */
void flatten_conns(const struct tg_kind *kind, cJSON *node)
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

			/* The edge's own fields follow its node's keys. */
			if (n && kind->conns[i].edge_sel && cJSON_IsObject(n))
				for (cJSON *x = edge->child; x; x = x->next)
					if (strcmp(x->string, "node") &&
					    strcmp(x->string, "cursor"))
						cJSON_AddItemReferenceToObject(
							n, x->string, x);
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

/*
 * Keeps @node as @o's object.json: compact (pretty-printed it was a fifth
 * larger) and packed (pack.c: 18.6 MB of compact texts for the large
 * tenant), with the length and hash of the pretty text, which is what is
 * shown.  The pretty text is the same from the compact one: pretty()
 * prints every scalar and key as cJSON's unformatted printer does, and
 * parsing that back gives them again.
 */
enum tg_err keep_json(const cJSON *node, struct tg_object *o)
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
