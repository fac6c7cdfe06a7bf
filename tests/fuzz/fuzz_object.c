/*
 * fuzz_object.c - one JSON node of the API as an object
 * (tg_object_from_json, api/object.c), for every kind.
 *
 * Input: "<kind dir>\n" then the node's JSON (or: a first byte picking
 * the kind, then the JSON).  The JSON is handed over in an exact-size
 * buffer without a NUL, as the client does.  On success the object is
 * checked and pushed through what the mount does with objects:
 *   - id and name are set, every value file ends in a newline, an
 *     embedded child points at its parent, object.json ends in '\n';
 *   - tg_object_copy() gives the same object; tg_list_bytes();
 *   - tg_object_set_link() on each one-link relation;
 *   - tg_json_diff() of object.json against itself changes nothing
 *     (saving object.json unedited is a no-op), for nodes whose keys the
 *     diff can address (not empty, no '.', shorter than 64) and never
 *     repeat;
 *   - tg_value_parse() of each writable field's own value (no check:
 *     values from the API need not be writable as they are shown).
 */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	tg_log_set_level(TG_LOG_ERR);
	return 0;
}

static void check_object(const struct tg_kind *k, const struct tg_object *o,
			 const char *parent_id)
{
	size_t jl;

	FZ_CHECK(o->kind == k, "kind %s != %s", o->kind ? o->kind->dir : "-",
		 k->dir);
	FZ_CHECK(o->id && *o->id, "no id");
	FZ_CHECK(o->name && *o->name, "no name");
	FZ_CHECK(!o->values && o->lens, "values held, or no lengths");
	FZ_CHECK(o->links || !k->nrels, "no links");
	{
		/* kept compact, shown pretty: what is shown from the compact
		 * text has the length taken from the node at parse */
		char *buf = NULL;
		const char *shown = tg_object_json(o, &buf);

		FZ_CHECK(shown && (jl = strlen(shown)) && shown[jl - 1] == '\n',
			 "object.json does not end in a newline");
		FZ_CHECK(o->packed && jl == o->json_len,
			 "object.json shown is %zu bytes, not %u", jl,
			 (unsigned)o->json_len);
		free(buf);
	}
	if (parent_id)
		FZ_CHECK(o->parent_id && !strcmp(o->parent_id, parent_id),
			 "child's parent %s != %s",
			 o->parent_id ? o->parent_id : "(null)", parent_id);
	if (k->parent_path)
		FZ_CHECK(o->parent_id, "nested %s without parent id", k->dir);
	for (size_t i = 0; i < k->nfields; i++) {
		/* rendered from the node as kept (its connections flattened),
		 * as long as measured on the node that came */
		char *buf = NULL;
		const char *v = tg_object_value(o, i, &buf);
		size_t n = v ? strlen(v) : 0;

		FZ_CHECK(v, "%s: no value", k->fields[i].file);
		FZ_CHECK(n == tg_object_value_len(o, i),
			 "%s: shown %zu bytes, measured %zu", k->fields[i].file,
			 n, tg_object_value_len(o, i));
		if (k->fields[i].type == TG_FT_SECRET)
			FZ_CHECK(!n, "secret %s from JSON", k->fields[i].file);
		FZ_CHECK(!n || v[n - 1] == '\n', "%s: value without newline",
			 k->fields[i].file);
		free(buf);
	}
	for (size_t r = 0; o->links && r < k->nrels; r++)
		for (size_t j = 0; j < o->links[r].n; j++)
			FZ_CHECK(o->links[r].ids[j], "NULL link id");
	for (size_t c = 0; c < o->children.n; c++)
		check_object(tg_kind_embedded(k), &o->children.items[c], o->id);
}

/* What @a and @b show in field @i (object.json for -1) is the same. */
static bool same_shown(const struct tg_object *a, const struct tg_object *b,
		       long i)
{
	char *ba = NULL, *bb = NULL;
	const char *x = i < 0 ? tg_object_json(a, &ba)
			      : tg_object_value(a, (size_t)i, &ba);
	const char *y = i < 0 ? tg_object_json(b, &bb)
			      : tg_object_value(b, (size_t)i, &bb);
	bool same = x && y && !strcmp(x, y);

	free(ba);
	free(bb);
	return same;
}

static bool same_object(const struct tg_object *a, const struct tg_object *b)
{
	if (a->kind != b->kind || strcmp(a->id, b->id) ||
	    strcmp(a->name, b->name) || a->json_len != b->json_len ||
	    a->hash != b->hash || a->mtime != b->mtime ||
	    !a->parent_id != !b->parent_id ||
	    (a->parent_id && strcmp(a->parent_id, b->parent_id)) ||
	    a->children.n != b->children.n)
		return false;
	for (long i = -1; i < (long)a->kind->nfields; i++)
		if (!same_shown(a, b, i))
			return false;
	for (size_t r = 0; r < a->kind->nrels; r++) {
		if (a->links[r].n != b->links[r].n)
			return false;
		for (size_t j = 0; j < a->links[r].n; j++)
			if (strcmp(a->links[r].ids[j], b->links[r].ids[j]))
				return false;
	}
	for (size_t c = 0; c < a->children.n; c++)
		if (!same_object(&a->children.items[c], &b->children.items[c]))
			return false;
	return true;
}

/* True when no object in @v repeats a key (cJSON_Compare() matches the
 * first of repeated keys only, so such a node never equals itself). */
static bool unique_keys(const cJSON *v)
{
	const cJSON *a, *b;

	for (a = v ? v->child : NULL; a; a = a->next) {
		if (cJSON_IsObject(v))
			for (b = a->next; b; b = b->next)
				if (!strcmp(a->string, b->string))
					return false;
		if (!unique_keys(a))
			return false;
	}
	return true;
}

/* True when tg_json_diff() can address every top-level key of @json
 * (not empty, no '.', shorter than 64) and no key repeats: what the API
 * sends. */
static bool diffable(const char *json)
{
	cJSON *root = cJSON_Parse(json), *a;
	bool ok = root != NULL && unique_keys(root);

	cJSON_ArrayForEach(a, root)
		if (!*a->string || strchr(a->string, '.') ||
		    strlen(a->string) >= 64)
			ok = false;
	cJSON_Delete(root);
	return ok && strlen(json) <= TG_JSON_MAX;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct tg_kind *k = fz_kind(&data, &size);
	struct tg_object o, copy;
	char *json;
	enum tg_err err;

	if (!k)
		return 0;
	json = fz_memdup(data, size);
	err = tg_object_from_json(k, json, size, &o);
	free(json);
	if (err != TG_OK) {
		FZ_CHECK(!o.kind && !o.id && !o.lens && !o.packed,
			 "failed (%d) but the object is not empty", err);
		return 0;
	}
	check_object(k, &o, NULL);

	FZ_CHECK(tg_object_copy(&o, &copy) == TG_OK, "copy failed");
	FZ_CHECK(same_object(&o, &copy), "the copy differs");
	tg_object_release(&copy);
	{
		struct tg_list l = { &o, 1 };

		FZ_CHECK(tg_list_bytes(&l) > o.packed_size, "list bytes");
	}

	for (size_t r = 0; r < k->nrels; r++) {
		struct tg_object c;

		if (k->rels[r].many || !k->rels[r].path)
			continue;
		err = tg_object_set_link(&o, r, "VGFyZ2V0OjE=", "Linked \"x\"",
					 &c);
		if (err != TG_OK) {
			FZ_CHECK(!c.kind && !c.json, "set_link left an object");
			continue;
		}
		check_object(k, &c, NULL);
		FZ_CHECK(c.links[r].n == 1 &&
				 !strcmp(c.links[r].ids[0], "VGFyZ2V0OjE="),
			 "set_link did not set the link");
		tg_object_release(&c);
	}

	if (diffable(o.json)) {
		size_t *changed, n;
		char **values;

		err = tg_json_diff(&o, o.json, strlen(o.json), &changed,
				   &values, &n);
		FZ_CHECK(err == TG_OK && n == 0,
			 "object.json saved unedited: err %d, %zu changes", err,
			 n);
		free(changed);
		free(values);
	}

	for (size_t i = 0; i < k->nfields; i++) {
		char *out = NULL, *buf = NULL;
		const char *v = tg_object_value(&o, i, &buf);

		if (k->fields[i].writable && v && *v) {
			if (tg_value_parse(&k->fields[i], v, strlen(v),
					   &out) == TG_OK)
				free(out);
			else
				FZ_CHECK(!out,
					 "value_parse failed but gave a value");
		}
		free(buf);
	}
	tg_object_release(&o);
	return 0;
}
