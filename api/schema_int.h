/*
 * schema_int.h - the parsed live schema, shared by schema.c (reading and
 * rendering it) and prune.c (what it does to selections and mutations).
 * Nothing outside api/ sees these structs.  A schema owns every string
 * and array in it; tg_schema_free frees them all.
 */
#ifndef TG_SCHEMA_INT_H
#define TG_SCHEMA_INT_H

#include <cjson/cJSON.h>

#include "schema.h"

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

#endif
