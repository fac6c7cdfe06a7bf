/*
 * internal.h - what the files of api/ share with each other and nobody
 * else.  cJSON appears here and in no header outside api/.
 */
#ifndef TG_API_INTERNAL_H
#define TG_API_INTERNAL_H

#include <cjson/cJSON.h>

#include "tg_api.h"

/* The item at a dotted path ("address.value") under @node, or NULL. */
cJSON *json_at(const cJSON *node, const char *path);

/*
 * A type of field file (fieldtypes.c): one row per enum tg_ftype, as
 * redis's dictType is one per kind of dict.
 */
struct field_type {
	/* The file's text of the API's value @v (not null) into *out, a new
	 * string with one trailing newline (left NULL: an empty file).
	 * False for a value of the wrong type or out of memory. */
	bool (*render)(const cJSON *v, char **out);
	/* The API's value of what a user wrote to field @f: @body without
	 * its trailing newline (the callback's to cut up), @word the same
	 * trimmed.  NULL when it is not one.  NULL: the type is never
	 * written (the API sets it). */
	cJSON *(*parse)(const struct tg_field *f, char *body,
			const char *word);
	/* The file holds several lines (protocols, tags): appending adds
	 * to it; any other takes one line, and appending replaces it. */
	bool multiline;
	/* Not in the API's objects but held by the mount (tokens): shown
	 * to the owner alone, any write makes a new one. */
	bool secret;
};

/* The row of @type (an empty row, which renders and parses nothing, for
 * a type out of range). */
const struct field_type *field_type(enum tg_ftype type);

/* Renders field @f's JSON value @v as its file shows it (*out NULL for
 * null), by its type's row.  False for a value of the wrong type or out
 * of memory. */
bool render_value(const struct tg_field *f, const cJSON *v, char **out);

/* A copy of @s (@len bytes) without surrounding blanks; NULL when out
 * of memory (values.c). */
char *trimmed(const char *s, size_t len);

/*
 * The compact JSON text @text (@len bytes) of a node of @kind, packed
 * (pack.c) into a new allocation of *@size bytes.  NULL when out of
 * memory.  json_unpack gives the text back, NUL-terminated, in a new
 * allocation: NULL when out of memory or @packed is not a packed text.
 */
#define PACK_DICT_NODES 8 /* the first nodes of a kind, its dictionary */
unsigned char *json_pack(const struct tg_kind *kind, const char *text,
			 size_t len, uint32_t *size);
char *json_unpack(const struct tg_kind *kind, const unsigned char *packed,
		  uint32_t size);

/* @obj's node as kept (an object as listed), parsed: the caller's to
 * cJSON_Delete.  NULL when there is none or out of memory. */
cJSON *object_node(const struct tg_object *obj);

/* In @node (of @kind), each nested connection replaced by the list of
 * its nodes, as object.json shows it (objectjson.c). */
void flatten_conns(const struct tg_kind *kind, cJSON *node);

/* Keeps @node as @o's object.json (packed, with the length and hash of
 * its pretty text).  TG_EPROTO when it cannot be printed, TG_ENOMEM. */
enum tg_err keep_json(const cJSON *node, struct tg_object *o)
	TG_WARN_UNUSED;

/* Builds @out from a parsed node; on error @out is left empty. */
enum tg_err object_from_node(const struct tg_kind *kind, cJSON *node,
			     struct tg_object *out) TG_WARN_UNUSED;

/*
 * Sends one GraphQL document (client.c): paced, retried when a query or an
 * idempotent mutation, never when another mutation.  On TG_OK *data is
 * the "data" object (caller cJSON_Delete()s it).  *msg (may be NULL) gets
 * the API's message of a failure.
 */
struct tg_api;
enum gql_kind {
	GQL_QUERY,                /* retried */
	GQL_MUTATION,             /* never retried (a create, a token) */
	GQL_MUTATION_IDEMPOTENT,  /* sets a value: sent again is the same */
};
enum tg_err api_gql(struct tg_api *api, enum gql_kind kind, const char *doc,
		    cJSON *vars, cJSON **data, char **msg) TG_WARN_UNUSED;

/*
 * api_gql of a query in two halves, so that an answer can wait unparsed
 * (a body is a fifth of its parse tree): api_gql_body sends @doc and
 * leaves the answer's body in *@body; api_gql_take parses and releases
 * it, and gives the data or the API's error as api_gql does (an
 * unreadable body: @doc is sent again, once more than api_gql would).
 */
struct buf;
enum tg_err api_gql_body(struct tg_api *api, const char *doc,
			 struct buf *body) TG_WARN_UNUSED;
enum tg_err api_gql_take(struct tg_api *api, const char *doc,
			 struct buf *body, cJSON **data) TG_WARN_UNUSED;

/*
 * Requests sent ahead (ahead.c).  ahead_run sends n queries, document i
 * made by make(ctx, i, doc), at most @depth at once (the calling thread
 * sends one, helpers of @a the others; @a NULL: one at a time), and hands
 * answer i to take(ctx, i, data) in order; data stays the runner's.  It
 * stops at the first failure (of a request, of make, or of take), returns
 * it after every request it sent has ended, and leaves that request's
 * message as this thread's tg_api_last_message().
 */
struct ahead;
struct buf;
struct ahead *ahead_new(struct tg_api *api, unsigned helpers);
void ahead_free(struct ahead *a);
enum tg_err ahead_run(struct tg_api *api, struct ahead *a, size_t n,
		      unsigned depth,
		      bool (*make)(void *ctx, size_t i, struct buf *doc),
		      enum tg_err (*take)(void *ctx, size_t i, cJSON *data),
		      void *ctx) TG_WARN_UNUSED;

/* Sets this thread's tg_api_last_message(). */
void api_set_message(const char *msg);

/* Appends the selection of one node of @kind (client.c). */
struct buf;
bool api_selection(struct buf *doc, const struct tg_kind *kind,
		   unsigned first);

/*
 * A growable buffer with a hard cap (as curl's dynbuf).  s is always
 * NUL-terminated once anything was added.  buf_add fails (false) past
 * max bytes or on allocation failure, leaving the content as it was.
 */
struct buf {
	char *s;
	size_t len, cap, max;
};

bool buf_add(struct buf *b, const void *data, size_t n) TG_WARN_UNUSED;
bool buf_addf(struct buf *b, const char *fmt, ...) TG_WARN_UNUSED
	__attribute__((format(printf, 2, 3)));
void buf_release(struct buf *b);

/* Result of one HTTP POST. */
struct http_resp {
	long status;      /* HTTP status, 0 when none arrived */
	long retry_after; /* Retry-After in seconds, -1 when absent */
	bool timed_out;   /* no answer within the timeout: the request may
			   * still be running at the API */
	struct buf body;
};

struct http;

/* The transport: curl easy handles per thread and one curl share. */
struct http *http_new(const char *url, const char *token, unsigned timeout_s,
		      unsigned connect_timeout_s);
void http_free(struct http *h);

/*
 * POSTs @body (JSON) to the endpoint.  TG_OK means an HTTP response came
 * back (any status); TG_ENET a transport failure (message logged at debug,
 * copied into @err when not NULL); TG_EPROTO a body past the size cap.
 * @out is emptied first; the caller releases out->body.
 */
enum tg_err http_post(struct http *h, const char *body, bool fresh,
		      struct http_resp *out, char *err, size_t errsz)
	TG_WARN_UNUSED;

#endif
