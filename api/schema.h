/*
 * schema.h - the live schema: what the tenant's API has, read once at
 * mount by introspection, and what the kinds table asks of it.
 *
 * The kinds table states what twingatefs knows how to show and change;
 * the live schema says what this API has today.  Once a schema is in use
 * (tg_schema_use) every selection is the table's, pruned to the live
 * schema: a field the API lacks is left out (its file absent, one log
 * line at start-up), a field that lives only on a subtype of an
 * interface is asked for inside "... on Subtype { f }", and a mutation
 * or argument the API lacks makes the call fail with TG_ENOTSUP before
 * anything is sent.  With no schema in use (introspection failed, unit
 * tests), the table is used as written.
 *
 * Ownership: tg_schema_parse / tg_api_schema hand a schema to the caller
 * (tg_schema_free); tg_schema_use takes it for good.  Strings returned by
 * tg_schema_sdl and tg_schema_prune are the caller's to free.  Everything
 * else returned points into the schema in use or the kinds table and is
 * never freed.
 *
 * Threads: tg_schema_use must run before any other thread uses the client
 * (at start-up); everything else is pure or read-only afterwards and may
 * be called from any thread.
 */
#ifndef TG_SCHEMA_H
#define TG_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include "tg_api.h"

struct tg_schema;

/*
 * Parses an introspection answer (the JSON text of {"data": {"__schema":
 * ...}}, or of the data object, or of __schema itself) into *out, the
 * caller's to tg_schema_free.  On error *out is NULL: TG_EPROTO for text
 * that is not an introspection answer (no types, a type without a name),
 * TG_ENOMEM.
 */
enum tg_err tg_schema_parse(const char *json, size_t len,
			    struct tg_schema **out) TG_WARN_UNUSED;
/* Frees @s.  NULL: nothing. */
void tg_schema_free(struct tg_schema *s);

/*
 * Reads the live schema: one introspection query (a read, retried as
 * one), parsed into *out, the caller's to tg_schema_free.  On error *out
 * is NULL and the error is the request's (TG_ENET, TG_EAUTH, TG_EQUERY
 * when the API refuses introspection...) or tg_schema_parse's; the API's
 * message is this thread's tg_api_last_message().
 */
enum tg_err tg_api_schema(struct tg_api *api, struct tg_schema **out)
	TG_WARN_UNUSED;

/*
 * The schema as SDL (types, fields with their arguments and types,
 * interfaces, unions, enums, input types; built-in scalars and the
 * introspection types left out), in the order the API gave its types.
 * A new string the caller frees; NULL when out of memory.
 */
char *tg_schema_sdl(const struct tg_schema *s);

/* What the schema has.  @type NULL or unknown: false. */
bool tg_schema_has_type(const struct tg_schema *s, const char *type);
bool tg_schema_has_field(const struct tg_schema *s, const char *type,
			 const char *field);

/*
 * @selection (a selection set's content, as the kinds table writes it:
 * fields, aliases, arguments, sub-selections, inline fragments) pruned to
 * what type @type of @s has, in a new string the caller frees (NULL when
 * out of memory or @selection does not parse).  Each field left out is
 * handed to @dropped as "Type.field" (may be NULL).  A field @type lacks
 * that some of its possible types have goes into "... on P { }" for each
 * such P.  An unknown @type: the selection as it is.
 */
char *tg_schema_prune(const struct tg_schema *s, const char *type,
		      const char *selection,
		      void (*dropped)(void *ctx, const char *what),
		      void *ctx);

/*
 * Checks a mutation call as the kinds table writes it
 * ("resourceUpdate(id: $id, name: $v)") against @s: TG_OK when the
 * mutation and every argument it passes exist, else TG_ENOTSUP with what
 * is missing in @why ("no mutation serialNumbersCreate", "no argument
 * alias of resourceUpdate").  @s NULL: TG_OK.
 */
enum tg_err tg_schema_check_call(const struct tg_schema *s, const char *call,
				 char *why, size_t whysz);

/*
 * Puts @s in use for the rest of the program (it is taken, never freed):
 * every kind's selection is pruned to it now, and each field left out is
 * logged once.  @s NULL: the kinds table as written (and one log line
 * saying so).  Call it once, at start-up, before other threads use the
 * client.
 */
void tg_schema_use(struct tg_schema *s);
/* The schema in use, or NULL. */
const struct tg_schema *tg_schema_live(void);

/* Whether field @i of @kind is in the live schema (its file shown).
 * True with no schema in use, and for fields the mount holds (secrets). */
bool tg_field_present(const struct tg_kind *kind, size_t i);

/* Whether @kind's root list is in the live schema: false when a schema
 * is in use and its query type lacks kind->list_field (the folder then
 * shows empty, and nothing is asked).  True with no schema in use and
 * for kinds without a root list. */
bool tg_kind_listed(const struct tg_kind *kind);

/* For api/: the selection of one node of @kind (pruned; the table's with
 * no schema in use), whether nested connection @i is asked for at all,
 * and the selection of its nodes (NULL: the embedded kind's). */
const char *schema_kind_selection(const struct tg_kind *kind);
bool schema_conn_present(const struct tg_kind *kind, size_t i);
const char *schema_conn_selection(const struct tg_kind *kind, size_t i);
/* For api/: appends to @doc the selection of the entity of @mutation's
 * payload, an object of @kind (api_selection's, pruned to the payload's
 * entity type when the live schema types it otherwise than @kind, e.g.
 * NetworkResource for Resource).  False when out of memory. */
struct buf;
bool schema_entity_selection(struct buf *doc, const struct tg_kind *kind,
			     unsigned first, const char *mutation);

#endif /* TG_SCHEMA_H */
