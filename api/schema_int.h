/*
 * schema_int.h - the parsed live schema, shared by schema.c (reading and
 * rendering it) and prune.c (what it does to selections and mutations),
 * and what the rest of api/ asks of the schema in use (paging.c,
 * nested.c, mutate.c).  Nothing outside api/ sees it (tg_api.h has the
 * public side, "The live schema").  A schema owns every string
 * and array in it; tg_schema_free frees them all.
 */
#ifndef TG_SCHEMA_INT_H
#define TG_SCHEMA_INT_H

#include <cjson/cJSON.h>

#include "tg_api.h"

/* An argument or input field: its name, its type as SDL writes it
 * ("[Tag!]!") and the named type inside ("Tag"). */
struct sch_ref {
	char *name, *type, *base;
};

struct sch_field {
	char *name, *type, *base;
	struct sch_ref *args;
	size_t nargs;
};

struct sch_type {
	char *name;
	char *kind; /* OBJECT INTERFACE UNION ENUM INPUT_OBJECT SCALAR */
	struct sch_field *fields;
	size_t nfields;
	struct sch_ref *inputs;
	size_t ninputs;
	char **ifaces, **possible, **values;
	size_t nifaces, npossible, nvalues;
};

struct tg_schema {
	struct sch_type *types;
	size_t ntypes;
	char *query, *mutation; /* root type names; mutation may be NULL */
};

/* The type named @name (NULL: none, or @s NULL). */
const struct sch_type *schema_type(const struct tg_schema *s,
				   const char *name);
/* The field of @t named @name (NULL: none, or @t NULL). */
const struct sch_field *schema_field(const struct sch_type *t,
				     const char *name);
/* A schema from a parsed introspection answer (see tg_schema_parse). */
enum tg_err schema_from_json(const cJSON *root, struct tg_schema **out)
	TG_WARN_UNUSED;

/* For api/: the selection of one node of @kind (pruned; the table's with
 * no schema in use), whether nested connection @i is asked for at all,
 * and the selection of its nodes (NULL: the embedded kind's). */
const char *schema_kind_selection(const struct tg_kind *kind);
bool schema_conn_present(const struct tg_kind *kind, size_t i);
const char *schema_conn_selection(const struct tg_kind *kind, size_t i);
/* For api/: appends to @doc the selection of the entity (the payload's
 * field @field: "entity", or "entities" for a list) of @mutation's
 * payload, an object of @kind (api_selection's, pruned to the payload's
 * entity type when the live schema types it otherwise than @kind, e.g.
 * NetworkResource for Resource).  False when out of memory. */
struct buf;
bool schema_entity_selection(struct buf *doc, const struct tg_kind *kind,
			     unsigned first, const char *mutation,
			     const char *field);

#endif
