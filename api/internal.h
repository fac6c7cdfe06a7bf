/*
 * internal.h - what the files of api/ share with each other and nobody
 * else.  cJSON appears here and in no header outside api/.
 */
#ifndef TG_API_INTERNAL_H
#define TG_API_INTERNAL_H

#include <cjson/cJSON.h>
#include <pthread.h>

#include "tg_api.h"
#include "window.h"

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
	 * to it; any other takes one line, and appending to it is refused
	 * (EINVAL: it cannot mean replace). */
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

/*
 * Builds @out from a parsed node of @kind: the caller now owns it and
 * tg_object_release()s it.  @node stays the caller's but is changed (its
 * nested connections flattened): build from a copy to keep it whole.  On
 * error @out is left empty: TG_EPROTO (no id, no parent id, a number out
 * of range), TG_ENOMEM.  Any thread.
 */
enum tg_err object_from_node(const struct tg_kind *kind, cJSON *node,
			     struct tg_object *out) TG_WARN_UNUSED;

/*
 * The client's state (client.c makes and frees it): its transport, its
 * helpers, its settings, the pacers of both classes, its counters and its
 * health.  paging.c and nested.c read cfg and ahead and add to stats
 * (STAT_ADD), paging.c halves page_size and keeps windows, first.c
 * keeps big and no_extras; every other field is client.c's.
 * Shared by all threads: the pacers and ops under their locks, stats,
 * page_size and the health fields through __atomic builtins, the rest
 * read-only once tg_api_new returned.
 */
struct pacer {
	pthread_mutex_t lock;
	unsigned limit;
	double *ring; /* send times of the last `limit` requests */
	size_t head, count;
	double blocked_until; /* after a 429 */
};

/* More than tg_nkinds (kinds.c checks it). */
#define TG_MAX_KINDS 16

struct tg_api {
	struct http *http;
	struct ahead *ahead; /* NULL with concurrency 1 */
	struct tg_api_config cfg;
	unsigned page_size; /* current; halved if the API refuses it */
	struct tg_windows windows; /* pages per request (window.c) */
	/* first.c's, atomically: root lists known to need more than one
	 * page (by their place in tg_kinds), and extras refused for good */
	unsigned char big[TG_MAX_KINDS];
	int no_extras;
	struct pacer read, write;
	struct tg_api_stats stats;
	/* requests per operation name ("tgfsList_devices"), for stats */
	pthread_mutex_t ops_lock;
	struct {
		char name[56];
		uint64_t n;
	} ops[TG_MAX_OPS];
	size_t nops;
	char *url;
	/* health, updated atomically */
	int reachable;
	int64_t last_ok, limited_until;
};

/* Adds @n to counter @field of @api's stats; any thread. */
#define STAT_ADD(api, field, n) \
	__atomic_add_fetch(&(api)->stats.field, (n), __ATOMIC_RELAXED)

/*
 * Sends one GraphQL document (client.c): paced under its class's rate,
 * retried (cfg.retries more tries, backing off) when a query or an
 * idempotent mutation, never when another mutation; a 429 waits its
 * Retry-After, up to cfg.max_wait_s in all.  @vars (may be NULL) is
 * copied, never taken.  Any thread may call it.
 *
 * On TG_OK *data is the "data" object: the caller now owns it and
 * cJSON_Delete()s it.  On error *data is NULL and the error is TG_ENOMEM,
 * TG_ENET, TG_ESERVER, TG_EPROTO (after the retries a query gets),
 * TG_EAUTH, TG_ERATE, or from the API's errors[] what api_answer_err
 * says (TG_EQUERY, or from its words TG_EPERM, TG_EINVAL, TG_ENOTFOUND,
 * TG_EEXIST, TG_ENOTEMPTY or TG_EDENIED).  This thread's
 * tg_api_last_message() is emptied first and says what went wrong where
 * there are words for it; *msg (when @msg is not NULL) gets the API's
 * errors[] message as a copy the caller frees (NULL for other failures).
 */
enum gql_kind {
	GQL_QUERY,                /* retried */
	GQL_MUTATION,             /* never retried (a create, a token) */
	GQL_MUTATION_IDEMPOTENT,  /* sets a value: sent again is the same */
};
enum tg_err api_gql(struct tg_api *api, enum gql_kind kind, const char *doc,
		    cJSON *vars, cJSON **data, char **msg) TG_WARN_UNUSED;

/*
 * api_gql of a query in two halves, so that an answer can wait unparsed
 * (a body is a fifth of its parse tree).  Any thread may call either, and
 * a body may be taken on another thread than the one that got it.
 *
 * api_gql_body sends @doc, paced and retried as api_gql does, and leaves
 * the answer's body in *@body: the caller owns it and passes it to
 * api_gql_take (or buf_release()s it).  On error *@body is empty and the
 * error is one of api_gql's transport errors (not the API's errors[],
 * which only api_gql_take reads).
 *
 * api_gql_take parses @body and releases it, whatever it returns, and
 * gives the data or the API's error as api_gql does (*data the caller's
 * to cJSON_Delete, NULL on error).  An unreadable body: @doc is sent
 * again with api_gql, once more than api_gql alone would.
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
 * message as this thread's tg_api_last_message().  @n may be a bound:
 * make leaving @doc empty says there are no more requests (i is then
 * not taken).
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

/* Monotonic seconds (deadline.c). */
double api_now(void);

/* Sleeps until monotonic time @t; false, at once or within TG_CALL_POLL_S,
 * when this thread's operation is cancelled (deadline.c). */
bool api_sleep_until(double t) TG_WARN_UNUSED;

/* Sets this thread's tg_api_last_message() to @msg (copied, cut at 511
 * bytes).  Cannot fail. */
void api_set_message(const char *msg);

/*
 * What an answer says went wrong (refusals.c): the structure first, then
 * the one table of wordings.
 *
 * api_answer_err reads a whole answer @root: TG_OK when it has no
 * errors[]; else *msg is the first error's message (in @root) and the
 * error TG_EQUERY when @root has no "data" (the request was refused
 * before it ran), else what the words say, TG_EQUERY when they say
 * nothing known.  *msg is NULL on TG_OK.
 *
 * api_payload_err reads a mutation's payload {ok error ...}: TG_OK for
 * ok:true (*msg NULL), TG_EPROTO without a boolean ok (*msg NULL), and for
 * ok:false a refusal whatever it says: *msg its error (in @payload), or
 * "refused" when it has none, and the error what the words say, TG_EINVAL
 * when they say nothing known.
 *
 * api_refusal_words is the table alone: the error that the first row
 * with a pattern in @msg gives (case-insensitive, whole words), else
 * @otherwise (also for @msg NULL).
 */
enum tg_err api_answer_err(const cJSON *root, const char **msg);
enum tg_err api_payload_err(const cJSON *payload, const char **msg);
enum tg_err api_refusal_words(const char *msg, enum tg_err otherwise);

/*
 * Paging (paging.c, nested.c).  A lister gathers one listing: the objects
 * built so far in *out, and the nodes whose nested connections have pages
 * left (pending, kept as JSON, each with its slot in out->items).  It
 * belongs to the one thread that lists; ahead_run's helpers never see it.
 */
struct pending {
	cJSON *node;
	size_t slot; /* its place in the list */
};

struct lister {
	struct tg_api *api;
	const struct tg_kind *kind;
	unsigned first;
	struct tg_list *out;
	struct pending *pending;
	size_t npending;
	/* Objects with nested pages left go in the list with their first
	 * nested page (else their slot stays empty until completed). */
	bool partial;
};

/* What a partial listing left to fetch (tg_api_list_partial): it owns
 * the pending nodes; tg_pending_free frees them. */
struct tg_pending {
	const struct tg_kind *kind;
	unsigned first;
	struct pending *pending;
	size_t npending;
};

/* The string at JSON @path of @obj's node, copied into @out (@size
 * bytes): false for a draft, no such string, one too long, or out of
 * memory.  Any thread (object.c). */
bool api_object_string(const struct tg_object *obj, const char *path,
		       char *out, size_t size);

/*
 * Appends to @doc the selection of one node of @kind, nested connections
 * included, asking for pages of @first (paging.c).  False when @doc would
 * pass its cap or out of memory; @doc may then hold part of it.  Any
 * thread.
 */
bool api_selection(struct buf *doc, const struct tg_kind *kind,
		   unsigned first);

/* Writes to @out the API's offset cursor for @offset: base64 of
 * "arrayconnection:<offset>", NUL-terminated, cut to fit @outsz (64 is
 * plenty).  Cannot fail. */
void api_offset_cursor(long offset, char *out, size_t outsz);

/* True when @s may go into a document as a literal (an id, a cursor):
 * not empty, and only base64 and the like, so that a hostile answer
 * cannot inject GraphQL. */
bool api_safe_literal(const char *s);

/* A count in an answer (a totalCount) into *@out.  False, *@out untouched,
 * when @v is not a number from 0 to TG_MAX_COUNT: no connection here
 * holds more objects, and a bigger count (or one that is not a count) is
 * a broken or hostile answer, refused rather than planned for. */
#define TG_MAX_COUNT 1000000
bool api_count_of(const cJSON *v, long *out);

/*
 * A root list's pages (paging.c), for first.c.  api_add_page appends page
 * p<alias> of @kind's root list (pages of @first, after cursor @after and
 * with @filter when not NULL) to @doc: false past its cap or out of
 * memory.  api_take_page takes page p<alias> of @data into @l and
 * reports its page info (*total when not NULL): TG_EPROTO when the page
 * is missing or its count implausible, TG_ENOMEM.  api_first_page sends
 * the first page of @l's kind alone (with @filter, @vars and @vdecl when
 * not NULL), halving the page size while the API refuses it, and takes
 * it; api_gql's errors.  The lister's thread only.
 */
bool api_add_page(struct buf *doc, const struct tg_kind *kind,
		  unsigned alias, unsigned first, const char *after,
		  const char *filter) TG_WARN_UNUSED;
enum tg_err api_take_page(struct lister *l, cJSON *data, unsigned alias,
			  bool *has_next, char *end_cursor, size_t ecsz,
			  long *total) TG_WARN_UNUSED;
enum tg_err api_first_page(struct lister *l, const char *filter,
			   cJSON *vars, const char *vdecl, bool *has_next,
			   char *cursor, size_t csz, long *total)
	TG_WARN_UNUSED;

/*
 * The first page of @l's kind and, in the same request, the first pages
 * of @extras (first.c): as many of them as the window of first pages
 * holds (window.c), each taken as if listed alone (struct tg_extra says
 * what came whole).  A request the API refuses for its size is asked
 * again with fewer extras, down to the first page alone
 * (api_first_page); one the API refuses for another reason before it
 * ran is asked again alone, and if that one is answered, extras are not
 * sent again by this client (a field the API lacks).  A part of the
 * answer that failed spoils only its own collection.  Returns and
 * reports as api_first_page for @l's kind.  The lister's thread only.
 */
enum tg_err api_first_batch(struct lister *l, struct tg_extra *extras,
			    size_t nextras, bool *has_next, char *cursor,
			    size_t csz, long *total) TG_WARN_UNUSED;

/* Notes that @kind's root list was found to need more than one page
 * (@big) or not: a list known to be big is not asked as an extra.
 * Any thread; cannot fail (first.c). */
void api_note_size(struct tg_api *api, const struct tg_kind *kind, bool big);

/*
 * The GraphQL document of the first pages of @kinds[0..n-1], aliased p0,
 * p1... in that order, pages of @first, named after the first one
 * (tgfsList_<its list field>, as its first page alone is): appended to
 * @doc.  False past @doc's cap or out of memory.  Any thread (first.c).
 */
bool api_first_doc(struct buf *doc, const struct tg_kind *const *kinds,
		   size_t n, unsigned first) TG_WARN_UNUSED;

/*
 * Whether the part p<alias> of an answer whose data is @data and errors
 * @errors (NULL: none) came: true when it is an object.  Otherwise false
 * and *@msg (never NULL then) the API's message about it: the first
 * error whose path starts at that alias, else the first error with no
 * path, else a message of ours.  Errors about the other parts are not
 * its.  Cannot fail; any thread (first.c).
 */
bool api_part_of(const cJSON *data, const cJSON *errors, unsigned alias,
		 const char **msg);

/*
 * api_gql of a query whose parts may fail apart (aliased root fields):
 * with a "data" object in the answer, TG_OK and *@data the data (root
 * fields an error nulled stay null) and *@errors the answer's errors[]
 * (NULL when none), both the caller's to cJSON_Delete.  Without data,
 * api_gql's error for it (*@msg as api_gql's); an unreadable body is
 * asked once more.  Any thread (client.c).
 */
enum tg_err api_gql_parts(struct tg_api *api, const char *doc, cJSON **data,
			  cJSON **errors, char **msg) TG_WARN_UNUSED;

/*
 * Fetches the later pages of every pending node's nested connections
 * (nested.c; offset cursors: all addressable at once, batch_pages to a
 * request, up to cfg.concurrency at once), then turns the nodes into
 * objects in their slots of l->out.  The nodes stay @l's: lister_release
 * frees them either way.  On error some slots may be completed and the
 * others as they were: TG_ENOMEM, TG_EPROTO (an id or count the answer
 * should not have), or api_gql's error.  The lister's thread only.
 */
enum tg_err lister_complete(struct lister *l) TG_WARN_UNUSED;

/* Frees @l's pending nodes and leaves it none (not l->out).  Cannot
 * fail. */
void lister_release(struct lister *l);

/* @l's pending nodes, with its kind and first, moved into a new struct
 * tg_pending that the caller owns (tg_pending_free); @l is left none.
 * NULL when out of memory, @l as it was. */
struct tg_pending *lister_take_pending(struct lister *l);

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
 * copied into @err when not NULL); TG_EPROTO a body past the size cap;
 * TG_EINTR when this thread's operation (tg_call_current) was cancelled
 * meanwhile (the transfer is cut within TG_CALL_POLL_S).  The transfer
 * takes the client's timeout at most, less when the operation has less
 * left (tg_call_attempt; with none left, TG_ENET and timed_out at once).
 * @out is emptied first; the caller releases out->body.
 */
enum tg_err http_post(struct http *h, const char *body, bool fresh,
		      struct http_resp *out, char *err, size_t errsz)
	TG_WARN_UNUSED;

#endif
