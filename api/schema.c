/*
 * schema.c - the live schema as read by introspection (schema.h): the
 * one query that reads it, the parse of its answer into types, fields
 * and arguments, lookups, and its rendering as SDL.  What the schema
 * does to selections and mutations is prune.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "schema_int.h"

/* Type references deep enough for [[T!]!]! and the like. */
#define TYPEREF "kind name ofType { kind name ofType { kind name ofType { " \
		"kind name ofType { kind name ofType { kind name } } } } }"

static const char introspection[] =
	"query tgfsSchema { __schema { queryType { name } mutationType { "
	"name } types { kind name fields(includeDeprecated: true) { name "
	"args { name type { ...R } } type { ...R } } inputFields { name "
	"type { ...R } } interfaces { name } possibleTypes { name } "
	"enumValues(includeDeprecated: true) { name } } } } "
	"fragment R on __Type { " TYPEREF " }";

static void free_refs(struct sch_ref *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].name);
		free(r[i].type);
		free(r[i].base);
	}
	free(r);
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void tg_schema_free(struct tg_schema *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->ntypes; i++) {
		struct sch_type *t = &s->types[i];

		free(t->name);
		free(t->kind);
		for (size_t j = 0; j < t->nfields; j++) {
			free(t->fields[j].name);
			free(t->fields[j].type);
			free(t->fields[j].base);
			free_refs(t->fields[j].args, t->fields[j].nargs);
		}
		free(t->fields);
		free_refs(t->inputs, t->ninputs);
		free_names(t->ifaces, t->nifaces);
		free_names(t->possible, t->npossible);
		free_names(t->values, t->nvalues);
	}
	free(s->types);
	free(s->query);
	free(s->mutation);
	free(s);
}

/* Renders type reference @t ("[Tag!]!") into @b; its named type into
 * *base (a new string).  False when it is not one, or out of memory. */
static bool typeref(const cJSON *t, struct buf *b, char **base, int depth)
{
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(t, "kind");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(t, "name");
	const cJSON *of = cJSON_GetObjectItemCaseSensitive(t, "ofType");

	if (depth > 8 || !cJSON_IsString(kind))
		return false;
	if (strcmp(kind->valuestring, "NON_NULL") == 0)
		return typeref(of, b, base, depth + 1) && buf_add(b, "!", 1);
	if (strcmp(kind->valuestring, "LIST") == 0)
		return buf_add(b, "[", 1) && typeref(of, b, base, depth + 1) &&
		       buf_add(b, "]", 1);
	if (!cJSON_IsString(name) || !*name->valuestring)
		return false;
	*base = strdup(name->valuestring);
	return *base && buf_add(b, name->valuestring, strlen(name->valuestring));
}

/* One name, type and base from {name type}. */
static bool parse_ref(const cJSON *j, struct sch_ref *r)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "name");
	struct buf b = { .max = 4096 };

	if (!cJSON_IsString(name))
		return false;
	r->name = strdup(name->valuestring);
	if (!r->name ||
	    !typeref(cJSON_GetObjectItemCaseSensitive(j, "type"), &b, &r->base,
		     0)) {
		buf_release(&b);
		return false;
	}
	r->type = b.s;
	return true;
}

static bool parse_refs(const cJSON *arr, struct sch_ref **out, size_t *n)
{
	const cJSON *j;
	size_t cap = (size_t)cJSON_GetArraySize(arr);

	*n = 0;
	*out = calloc(cap + 1, sizeof(**out));
	if (!*out)
		return false;
	cJSON_ArrayForEach(j, arr) {
		if (!parse_ref(j, &(*out)[*n])) {
			free_refs(*out, *n + 1);
			*out = NULL;
			*n = 0;
			return false;
		}
		(*n)++;
	}
	return true;
}

/* The "name" of each item of @arr. */
static bool parse_names(const cJSON *arr, char ***out, size_t *n)
{
	const cJSON *j;

	*n = 0;
	*out = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(**out));
	if (!*out)
		return false;
	cJSON_ArrayForEach(j, arr) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "name");

		if (!cJSON_IsString(name) ||
		    !((*out)[*n] = strdup(name->valuestring)))
			return false;
		(*n)++;
	}
	return true;
}

static bool parse_type(const cJSON *j, struct sch_type *t)
{
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(j, "kind");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "name");
	const cJSON *fields = cJSON_GetObjectItemCaseSensitive(j, "fields");
	const cJSON *f;

	if (!cJSON_IsString(kind) || !cJSON_IsString(name))
		return false;
	t->kind = strdup(kind->valuestring);
	t->name = strdup(name->valuestring);
	if (!t->kind || !t->name)
		return false;
	t->fields = calloc((size_t)cJSON_GetArraySize(fields) + 1,
			   sizeof(*t->fields));
	if (!t->fields)
		return false;
	cJSON_ArrayForEach(f, fields) {
		struct sch_field *sf = &t->fields[t->nfields];
		struct sch_ref r = { 0 };

		if (!parse_ref(f, &r)) {
			free(r.name);
			free(r.base);
			return false;
		}
		t->nfields++;
		sf->name = r.name;
		sf->type = r.type;
		sf->base = r.base;
		if (!parse_refs(cJSON_GetObjectItemCaseSensitive(f, "args"),
				&sf->args, &sf->nargs))
			return false;
	}
	return parse_refs(cJSON_GetObjectItemCaseSensitive(j, "inputFields"),
			  &t->inputs, &t->ninputs) &&
	       parse_names(cJSON_GetObjectItemCaseSensitive(j, "interfaces"),
			   &t->ifaces, &t->nifaces) &&
	       parse_names(cJSON_GetObjectItemCaseSensitive(j,
							    "possibleTypes"),
			   &t->possible, &t->npossible) &&
	       parse_names(cJSON_GetObjectItemCaseSensitive(j, "enumValues"),
			   &t->values, &t->nvalues);
}

static char *root_name(const cJSON *sch, const char *which)
{
	const cJSON *n = json_at(json_at(sch, which), "name");

	return cJSON_IsString(n) ? strdup(n->valuestring) : NULL;
}

enum tg_err schema_from_json(const cJSON *root, struct tg_schema **out)
{
	const cJSON *sch = root, *types, *t;
	struct tg_schema *s;

	*out = NULL;
	if (json_at(root, "data"))
		root = json_at(root, "data");
	if (json_at(root, "__schema"))
		sch = json_at(root, "__schema");
	types = json_at(sch, "types");
	if (!cJSON_IsArray(types))
		return TG_EPROTO;
	s = calloc(1, sizeof(*s));
	if (!s)
		return TG_ENOMEM;
	s->types = calloc((size_t)cJSON_GetArraySize(types) + 1,
			  sizeof(*s->types));
	if (!s->types)
		goto nomem;
	cJSON_ArrayForEach(t, types) {
		s->ntypes++;
		if (!parse_type(t, &s->types[s->ntypes - 1])) {
			tg_schema_free(s);
			return TG_EPROTO;
		}
	}
	s->query = root_name(sch, "queryType");
	s->mutation = root_name(sch, "mutationType");
	if (!s->query || !schema_type(s, s->query)) {
		tg_schema_free(s);
		return TG_EPROTO;
	}
	*out = s;
	return TG_OK;
nomem:
	tg_schema_free(s);
	return TG_ENOMEM;
}

enum tg_err tg_schema_parse(const char *json, size_t len,
			    struct tg_schema **out)
{
	cJSON *root = cJSON_ParseWithLength(json, len);
	enum tg_err err;

	*out = NULL;
	if (!root)
		return TG_EPROTO;
	err = schema_from_json(root, out);
	cJSON_Delete(root);
	return err;
}

enum tg_err tg_api_schema(struct tg_api *api, struct tg_schema **out)
{
	cJSON *data = NULL;
	enum tg_err err;

	*out = NULL;
	err = api_gql(api, GQL_QUERY, introspection, NULL, &data, NULL);
	if (err != TG_OK)
		return err;
	err = schema_from_json(data, out);
	if (err == TG_EPROTO)
		api_set_message("the introspection answer has no schema");
	cJSON_Delete(data);
	return err;
}

const struct sch_type *schema_type(const struct tg_schema *s,
				   const char *name)
{
	for (size_t i = 0; s && name && i < s->ntypes; i++)
		if (strcmp(s->types[i].name, name) == 0)
			return &s->types[i];
	return NULL;
}

const struct sch_field *schema_field(const struct sch_type *t,
				     const char *name)
{
	for (size_t i = 0; t && i < t->nfields; i++)
		if (strcmp(t->fields[i].name, name) == 0)
			return &t->fields[i];
	return NULL;
}

bool tg_schema_has_type(const struct tg_schema *s, const char *type)
{
	return schema_type(s, type) != NULL;
}

bool tg_schema_has_field(const struct tg_schema *s, const char *type,
			 const char *field)
{
	return field && schema_field(schema_type(s, type), field) != NULL;
}

/* ---- SDL ------------------------------------------------------------ */

static bool builtin(const char *name)
{
	static const char *const b[] = { "String", "Int", "Float", "Boolean",
					 "ID", NULL };

	if (strncmp(name, "__", 2) == 0)
		return true;
	for (size_t i = 0; b[i]; i++)
		if (strcmp(name, b[i]) == 0)
			return true;
	return false;
}

static bool sdl_refs(struct buf *b, const struct sch_ref *r, size_t n,
		     const char *open, const char *sep, const char *close)
{
	if (!n)
		return true;
	if (!buf_add(b, open, strlen(open)))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!buf_addf(b, "%s%s: %s", i ? sep : "", r[i].name,
			      r[i].type))
			return false;
	return buf_add(b, close, strlen(close));
}

static bool sdl_type(struct buf *b, const struct sch_type *t)
{
	const char *kw = strcmp(t->kind, "OBJECT") == 0 ? "type"
		       : strcmp(t->kind, "INTERFACE") == 0 ? "interface"
		       : strcmp(t->kind, "UNION") == 0 ? "union"
		       : strcmp(t->kind, "ENUM") == 0 ? "enum"
		       : strcmp(t->kind, "INPUT_OBJECT") == 0 ? "input"
		       : "scalar";

	if (!buf_addf(b, "\n%s %s", kw, t->name))
		return false;
	if (strcmp(kw, "scalar") == 0)
		return buf_add(b, "\n", 1);
	if (strcmp(kw, "union") == 0) {
		for (size_t i = 0; i < t->npossible; i++)
			if (!buf_addf(b, "%s%s", i ? " | " : " = ",
				      t->possible[i]))
				return false;
		return buf_add(b, "\n", 1);
	}
	for (size_t i = 0; i < t->nifaces; i++)
		if (!buf_addf(b, "%s%s", i ? " & " : " implements ",
			      t->ifaces[i]))
			return false;
	if (!buf_add(b, " {\n", 3))
		return false;
	for (size_t i = 0; i < t->nvalues; i++)
		if (!buf_addf(b, "  %s\n", t->values[i]))
			return false;
	for (size_t i = 0; i < t->ninputs; i++)
		if (!buf_addf(b, "  %s: %s\n", t->inputs[i].name,
			      t->inputs[i].type))
			return false;
	for (size_t i = 0; i < t->nfields; i++) {
		const struct sch_field *f = &t->fields[i];

		if (!buf_addf(b, "  %s", f->name) ||
		    !sdl_refs(b, f->args, f->nargs, "(", ", ", ")") ||
		    !buf_addf(b, ": %s\n", f->type))
			return false;
	}
	return buf_add(b, "}\n", 2);
}

char *tg_schema_sdl(const struct tg_schema *s)
{
	struct buf b = { .max = 16 * 1024 * 1024 };

	if (!buf_addf(&b, "schema {\n  query: %s\n", s->query) ||
	    (s->mutation && !buf_addf(&b, "  mutation: %s\n", s->mutation)) ||
	    !buf_add(&b, "}\n", 2))
		goto fail;
	for (size_t i = 0; i < s->ntypes; i++)
		if (!builtin(s->types[i].name) && !sdl_type(&b, &s->types[i]))
			goto fail;
	return b.s;
fail:
	buf_release(&b);
	return NULL;
}
