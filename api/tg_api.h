/*
 * tg_api.h - the Twingate Admin API as twingatefs sees it.
 *
 * Four things live behind this header (the first two in tg_model.h,
 * which it includes):
 *   - the kinds table: every Twingate object kind is one row (its folder,
 *     its GraphQL names and selection, its field files).  The generic code
 *     in fs/ and api/ walks the table; nothing else knows about kinds;
 *   - plain object structs: responses are parsed with cJSON inside api/ and
 *     handed out as struct tg_object, which keeps its node packed and
 *     renders each field to the text its file shows when asked
 *     (tg_object_value), so no JSON ever leaves this module;
 *   - the client: GraphQL over libcurl with pacing under the rate limits,
 *     retries for reads, and bounded timeouts on every request; whole
 *     collections read page by page, several pages to a request;
 *   - the live schema, read by introspection at mount: every selection is
 *     the table's pruned to it, and what it lacks is never sent.
 *
 * Errors are reported as enum tg_err; fs/ maps them to errno in one place.
 * A call that fails leaves its outputs empty (NULL, 0, an empty list or
 * object) unless its comment says otherwise.  What a call returns through
 * a pointer the caller owns and frees as its comment says; what it takes
 * as const stays the caller's.  Every function may be called from any
 * thread, the client's by many at once, unless its comment says
 * otherwise.  Logging for the whole program goes through tg_log().
 */
#ifndef TG_API_H
#define TG_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tg_model.h"

/* ------------------------------------------------------------------ */
/* The client                                                          */
/* ------------------------------------------------------------------ */

/* What tg_api_new takes; a 0 in a field marked so means its default. */
struct tg_api_config {
	const char *url;    /* full GraphQL endpoint */
	const char *token;  /* X-API-KEY; copied, then wiped on free */
	unsigned page_size; /* first: for connections; halved once if refused
			     * (0: 100) */
	unsigned batch_pages; /* pages sent in one request as aliases (0: 1) */
	unsigned concurrency; /* requests of one listing in flight at once
			       * (0: 1) */
	unsigned rate_read;  /* queries a minute; 0 = no pacing */
	unsigned rate_write; /* mutations a minute; 0 = no pacing */
	unsigned timeout_s;  /* total time of one HTTP request (0: 30) */
	unsigned connect_timeout_s; /* (0: 10) */
	unsigned retries;    /* extra tries of a failed read */
	unsigned max_wait_s; /* longest total wait on 429s for one call */
	bool max_wait_set;   /* the user set max_wait: longer than the
			      * timeout, a 429 may be waited out past a
			      * call's timeout (else the timeout bounds
			      * that wait too) */
};

/*
 * One user operation's bound on the API (deadline.c).  tg_call_start
 * starts its clock (timeout_s of @cfg from now, 30 for 0) and makes it
 * this thread's: every request the thread sends until tg_call_finish ends
 * by then, tries, pauses and waits on 429s included (past it only to
 * wait out a 429 within a max_wait set longer than the timeout; a
 * shorter one bounds the 429 waits within it), each try cut to
 * the time left; no try starts with less than TG_CALL_MIN_TRY_S left.
 * Pacing under rate_read/rate_write moves the deadline on by the time
 * it took (it is not waiting for the API).  Without an operation (a
 * thread that never started one) each try has timeout_s, and 429s are
 * waited out up to max_wait_s (120 when not set).
 *
 * tg_call_cancel (any thread, an interrupt) makes whatever the operation
 * waits on give up within TG_CALL_POLL_S with TG_EINTR: a transfer is cut
 * (a mutation cut short may still take effect), a pause or a wait for
 * a 429 ends.  The op stays the caller's; it must outlive tg_call_finish
 * and every thread that adopted it (tg_call_adopt: a helper working for
 * the operation).  None of these can fail.
 */
#define TG_CALL_MIN_TRY_S 0.05
#define TG_CALL_POLL_S 0.1
struct tg_call {
	double start, timeout;
	double deadline;      /* CLOCK_MONOTONIC seconds */
	double rate_deadline; /* a 429 may be waited out until then */
	bool rate_extends;    /* ... and then gets a timeout of its own */
	int cancelled;        /* atomic */
};
void tg_call_start(struct tg_call *op, const struct tg_api_config *cfg);
void tg_call_finish(void);
struct tg_call *tg_call_current(void);
void tg_call_adopt(struct tg_call *op);
void tg_call_cancel(struct tg_call *op);
/* True once @op (may be NULL: false) was cancelled. */
bool tg_call_cancelled(const struct tg_call *op);

/*
 * The arithmetic (pure but for tg_call_rate_wait and tg_call_paced, which
 * move @op's deadline; @op NULL: no operation).  tg_call_attempt: the
 * seconds a try starting at @now may take, @timeout at most; 0 when
 * less than TG_CALL_MIN_TRY_S is left.  tg_call_may_retry: whether a try
 * after a pause of @pause seconds still has TG_CALL_MIN_TRY_S.
 * tg_call_rate_wait: whether a 429 may be waited out until @until (without
 * an operation: until @no_op_bound).  tg_call_paced: pacing took @waited
 * seconds.
 */
double tg_call_attempt(const struct tg_call *op, double now, double timeout);
bool tg_call_may_retry(const struct tg_call *op, double now, double pause);
bool tg_call_rate_wait(struct tg_call *op, double until,
		     double no_op_bound);
void tg_call_paced(struct tg_call *op, double waited);

struct tg_api;

/* Counters of what the client did, for /.twingatefs/stats. */
struct tg_api_stats {
	uint64_t requests, queries, mutations, pages, retries, rate_limited,
		failures, bytes;
};

/*
 * Makes a client from @cfg, which it copies (url and token included: @cfg
 * may go once this returns).  curl_global_init() must have been called.
 * Makes no request and starts no thread (helpers start with the first
 * listing that wants them).  Call it from one thread; the client it
 * returns, the caller's to tg_api_free, may then be used by any number
 * of threads at once, each with its own curl handle.  On error (out of
 * memory, or curl's shared state could not be made) NULL is returned
 * and nothing is left allocated.
 */
struct tg_api *tg_api_new(const struct tg_api_config *cfg);
/* Frees the client, its helpers and curl handles, and wipes the token.
 * No call into @api may be running or start, on any thread.  @api NULL:
 * nothing. */
void tg_api_free(struct tg_api *api);

/*
 * One cheap query that checks the endpoint and the token (retried as a
 * query is).  TG_EPROTO when the answer is not what the query asks for;
 * else api errors as for any query (TG_ENET, TG_EAUTH, TG_EPERM...).  On
 * failure *msg (if @msg is not NULL) gets the API's own message when it
 * gave one (a copy the caller frees), else NULL, and
 * tg_api_last_message() says what went wrong where there are words for
 * it.  *msg is NULL on success.  Any thread.
 */
enum tg_err tg_api_check(struct tg_api *api, char **msg) TG_WARN_UNUSED;

/*
 * Fetches every object of @kind, all pages and the later pages of their
 * nested connections, into @out (emptied first): the caller now owns the
 * list and tg_list_release()s it.  The first page tells the total; the
 * others then go batch_pages to a request, up to `concurrency` requests
 * at once (the caller's thread sends one, the client's helpers the
 * others).  Any thread, several at once.
 *
 * On error @out is left empty, the API's message (if any) is logged and
 * is this thread's tg_api_last_message(), and the error is TG_EINVAL for
 * a kind without a root list, TG_EPROTO for an answer that lacks a page
 * or carries an implausible count, TG_ENOMEM, or that of the request
 * that failed (TG_ENET, TG_ERATE, TG_EAUTH...).  Every request sent has
 * ended by the time it returns.
 */
enum tg_err tg_api_list(struct tg_api *api, const struct tg_kind *kind,
			struct tg_list *out) TG_WARN_UNUSED;

/* Objects of a list whose nested connections have pages left to fetch,
 * owned by whoever holds the pointer; one thread at a time. */
struct tg_pending;

/*
 * As tg_api_list, but the later pages of nested connections (a group's
 * members past the first page) are left for tg_api_complete: a listing
 * of names does not pay for them.  Objects that lack them are in @out
 * with their first nested page only, and *pending (NULL when there are
 * none) says which: the caller now owns it and hands it to
 * tg_api_complete or tg_pending_free.  On error @out is empty and
 * *pending NULL.  Only for kinds without an embedded kind.  Any thread.
 */
enum tg_err tg_api_list_partial(struct tg_api *api, const struct tg_kind *kind,
				struct tg_list *out,
				struct tg_pending **pending) TG_WARN_UNUSED;

/*
 * A collection asked along with another's first page (tg_api_list_with):
 * its own first page goes in the same request, and when that page is its
 * whole list, the list comes back as if listed alone.  The caller sets
 * kind (a kind tg_api_extra_ok allowed) and partial (as for
 * tg_api_list_partial: nested pages past the first may be left in
 * pending; else a list that lacks them does not come whole), and owns
 * list and pending after the call (tg_extras_release frees what it did
 * not take).
 */
struct tg_extra {
	const struct tg_kind *kind; /* in */
	bool partial;               /* in */
	bool whole;   /* out: list (and pending, when partial) hold it all */
	struct tg_list list;
	struct tg_pending *pending;
};

/*
 * Whether @kind may go as an extra: it has a root list, the live schema
 * confirms it (a field the API might lack would fail the whole request:
 * without a schema read at mount, none may), and it is not known to need
 * more than one page.  Any thread; cannot fail.
 */
bool tg_api_extra_ok(struct tg_api *api, const struct tg_kind *kind);

/*
 * As tg_api_list_partial (@pending NULL: as tg_api_list for a kind
 * without an embedded kind), and the first pages of @extras go with
 * @kind's first page in one request, up to the client's window of pages
 * (fewer, down to none, while the API refuses a request for its size).
 * An extra whose page is its whole list comes back whole; one that did
 * not fit in the request, needs more pages or failed (its own error in
 * the answer, which spoils no other part) does not, and costs nothing
 * more.  Errors are @kind's only, as tg_api_list_partial's.  Any thread.
 */
enum tg_err tg_api_list_with(struct tg_api *api, const struct tg_kind *kind,
			     struct tg_list *out, struct tg_pending **pending,
			     struct tg_extra *extras,
			     size_t nextras) TG_WARN_UNUSED;

/* Frees the lists and pending of @extras[0..n-1] and empties them.
 * Cannot fail. */
void tg_extras_release(struct tg_extra *extras, size_t n);

/*
 * Fetches what @pending lacks and completes those objects of @list (the
 * list tg_api_list_partial made).  Only their nested content changes:
 * links, values, object.json and hash; id, name, parent and mtime are
 * kept as they are, so readers of those need no lock (readers of the
 * others must be kept out by the caller).  @pending is spent and freed
 * either way; NULL: nothing to do, TG_OK.  On failure (TG_ENOMEM,
 * TG_EPROTO, or a request's error as tg_api_list's) @list may hold some
 * completed objects and the others as listed: fetch the list again.
 */
enum tg_err tg_api_complete(struct tg_api *api, struct tg_list *list,
			    struct tg_pending *pending) TG_WARN_UNUSED;
/* Frees @pending (the nodes it kept), sending nothing.  NULL: nothing. */
void tg_pending_free(struct tg_pending *pending);

/* Whether object @id of the list still lacks nested pages (false for
 * @pending NULL).  Cannot fail.  The thread that holds @pending. */
bool tg_pending_has(const struct tg_pending *pending, const char *id);
/* Whether no object is left (true for @pending NULL): @pending can be
 * freed.  Cannot fail.  The thread that holds @pending. */
bool tg_pending_empty(const struct tg_pending *pending);

/*
 * As tg_api_complete for object @id alone (one object entered after a
 * listing of names needs its own pages, not every object's): it leaves
 * @pending, which stays the caller's, less that object.  @id not in
 * @pending (or @pending NULL): nothing sent, TG_OK.  On failure the
 * object is left as listed and taken out of @pending all the same: fetch
 * the list again; but TG_ENOMEM before anything is sent leaves @pending
 * as it was.  The thread that holds @pending.
 */
enum tg_err tg_api_complete_one(struct tg_api *api, struct tg_list *list,
				struct tg_pending *pending,
				const char *id) TG_WARN_UNUSED;

/*
 * Fetches the objects of @kind named @name (by the kind's lookup: a root
 * list filtered by name, or the single-object query by id) into @out
 * (emptied first; the caller tg_list_release()s it), complete with their
 * nested pages.  One request, but for more than a page of matches,
 * nested pages past the first, or a page size the API refuses.  Nested
 * kinds with their own root list are filtered by name across all
 * parents.  An empty list (TG_OK) means no such object, an id the API
 * cannot parse or says does not exist included.  On error @out is empty: TG_EINVAL for a kind
 * looked up by name without a root list, else as tg_api_list.  Any
 * thread.
 */
enum tg_err tg_api_lookup(struct tg_api *api, const struct tg_kind *kind,
			  const char *name, struct tg_list *out)
	TG_WARN_UNUSED;

/*
 * The API's message (or the client's words: "rate limited (HTTP 429)")
 * for the last failed call made by this thread, "" when none: emptied by
 * each request the thread sends.  Static per-thread storage, valid until
 * the thread's next call into the client; never NULL, never freed.  For
 * the log and the errors file.
 */
const char *tg_api_last_message(void);

/* Health, for /.twingatefs/status. */
struct tg_api_health {
	bool reachable;      /* the last request got an HTTP answer */
	int64_t last_ok;     /* wall time of the last good answer, 0: none */
	int64_t limited_until; /* wall time a 429 told us to wait until */
};
/* Copies @api's health into @out.  Any thread; each field is read
 * atomically, not the three together. */
void tg_api_get_health(struct tg_api *api, struct tg_api_health *out);
/* Starts @api's health from another client's (the mount's check), so the
 * status file tells what that request saw until this one makes its own.
 * Any thread; each field is set atomically, not the three together. */
void tg_api_set_health(struct tg_api *api, const struct tg_api_health *h);

/* The endpoint URL (for the status file): @api's, valid until
 * tg_api_free.  Never NULL.  Any thread. */
const char *tg_api_url(struct tg_api *api);

/* ------------------------------------------------------------------ */
/* Changes                                                             */
/* ------------------------------------------------------------------ */

/* Longest value a field file takes (bytes); object.json may be larger. */
#define TG_FIELD_MAX 4096
#define TG_JSON_MAX (256 * 1024)

/*
 * Parses what a user wrote to field @f (@len bytes, one trailing newline
 * allowed) into *json, the GraphQL value as JSON text: the caller frees
 * it.  On error *json is NULL: TG_EINVAL for a value of the wrong shape
 * (extra lines, NUL bytes, invalid UTF-8, an unknown enum, ports out of
 * range...), TG_E2BIG past TG_FIELD_MAX, TG_ENOMEM.  Makes no request.
 * Any thread.
 */
enum tg_err tg_value_parse(const struct tg_field *f, const char *text,
			   size_t len, char **json) TG_WARN_UNUSED;

/*
 * Compares an edited object.json (@text, @len bytes) with @obj's current
 * one: *changed gets the index of each writable field whose value differs
 * (as JSON texts in *values, same order, as tg_value_parse makes them),
 * *n their count; the caller frees both arrays and the strings, arrays
 * allocated even when *n is 0.  On error *changed and *values are NULL
 * and *n 0: TG_EINVAL for text that is not one JSON object, TG_EPERM
 * when a read-only field or key was changed, TG_E2BIG past TG_JSON_MAX,
 * tg_value_parse's error for a changed value its field refuses,
 * TG_ENOMEM.  Makes no request.  Any thread.
 */
enum tg_err tg_json_diff(const struct tg_object *obj, const char *text,
			 size_t len, size_t **changed, char ***values,
			 size_t *n) TG_WARN_UNUSED;

/* The values of a mutation's variables (NULL: not used). */
#define TG_MAX_VALUES 16
struct tg_vars {
	const char *id, *t, *parent, *name;
	const char *v_json; /* $v as JSON text, of type op->vtype */
	/* $v0, $v1...: several values in one call (object.json edits) */
	size_t nv;
	const char *vn_json[TG_MAX_VALUES];
	const char *vn_type[TG_MAX_VALUES];
	/* The object the call changes, when its concrete type may pick
	 * another mutation (kind->variants): NULL, the call as stated. */
	const struct tg_object *obj;
	/* Sent twice, it leaves the tenant as sent once (it sets values,
	 * adds or removes a link): retried like a query when its answer is
	 * lost.  Never for a create, a delete, a state change or a token. */
	bool idempotent;
};

/* What a mutation gave back. */
struct tg_result {
	struct tg_object entity; /* when op->entity; kind NULL otherwise */
	char *secret;            /* the rendered secret, when op has one */
};

/* Frees what @r holds, wiping the secret first, and leaves it empty (may
 * be released again).  Any thread. */
void tg_result_release(struct tg_result *r);

/*
 * Sends one mutation @op with @vars.  Retried like a query only when
 * vars->idempotent; otherwise never: on a transport failure the caller
 * must find out whether it took effect before trying again.  On TG_OK
 * @out (emptied first) holds what the payload gave back: the caller now
 * owns it and tg_result_release()s it.  On error @out is empty.  On
 * ok:false (a refusal, whatever its message says) the API's message is
 * logged and in tg_api_last_message(), and the error is TG_ENOTFOUND,
 * TG_EEXIST, TG_ENOTEMPTY, TG_EDENIED or TG_EPERM when its wording says
 * so (refusals.c's table), else TG_EINVAL.  Else TG_EINVAL for a variable the call
 * uses that @vars lacks or that is not JSON, TG_EPROTO for a payload
 * without ok or its secret, TG_ENOMEM, or a request's error (TG_ENET,
 * TG_ERATE, TG_EAUTH...).  Any thread.
 */
enum tg_err tg_api_mutate(struct tg_api *api, const struct tg_op *op,
			  const struct tg_vars *vars, struct tg_result *out)
	TG_WARN_UNUSED;

/*
 * Sends the changes of several fields of @obj (@values[i] for field
 * @fields[i], as tg_value_parse() makes them), one mutation per distinct
 * mutation name: fields set by the same mutation share one call.  Fields
 * whose change depends on the state (transitions) go one by one.  On
 * TG_OK out->entity is the object after the last call (the caller
 * tg_result_release()s @out).  Stops at the first failure, as
 * tg_api_mutate's, or TG_EINVAL for a value no transition leads to, or
 * TG_ENOMEM: calls made before it stand, @out is empty.  Any thread.
 */
enum tg_err tg_api_update(struct tg_api *api, const struct tg_object *obj,
			  const size_t *fields, char *const *values, size_t n,
			  struct tg_result *out) TG_WARN_UNUSED;

/*
 * Creates an object of @kind from a draft (kind->draft): one mutation
 * taking @values[i] (as tg_value_parse() makes them) for fields @fields[i]
 * and target ids @ids[j] for one-links @rels[j].  On TG_OK out->entity is
 * the new object (the caller tg_result_release()s @out).  Never retried.
 * On error @out is empty: TG_EINVAL for a kind without a draft, more than
 * TG_MAX_VALUES arguments, or a field or link without an update to name
 * its argument; else as tg_api_mutate.  Any thread.
 */
enum tg_err tg_api_create(struct tg_api *api, const struct tg_kind *kind,
			  const size_t *fields, char *const *values, size_t n,
			  const size_t *rels, char *const *ids, size_t nl,
			  struct tg_result *out) TG_WARN_UNUSED;

/*
 * After a create whose answer was lost (TG_ENET, TG_EPROTO, TG_ESERVER
 * from tg_api_mutate or tg_api_create: it may have taken effect), looks
 * the object of @kind up by @name (with @parent_id, only one whose parent
 * that is) until exactly one shows or @wait_s seconds (one more request
 * timeout: the create may still be running at the API) have passed,
 * sleeping between lookups.  Stops at a lookup that fails (the API is not
 * answering), or when two match (it cannot tell which is ours).  True
 * with the object in @out, which the caller owns (tg_object_release);
 * false leaves @out as it was.  Any thread; blocks for up to @wait_s
 * plus the lookups' time.
 */
bool tg_api_find_lost_create(struct tg_api *api, const struct tg_kind *kind,
			     const char *name, const char *parent_id,
			     double wait_s, struct tg_object *out);

/* True when field @f's mutation may be sent again (struct tg_vars
 * idempotent): it sets a value.  A state change (transitions) may refuse
 * to run twice; a secret's makes a new secret each time.  Pure: any
 * thread. */
bool tg_field_idempotent(const struct tg_field *f);

/* The mutation that sets field @f from the value now (@cur, as the file
 * shows it; NULL: unknown) to @json (as tg_value_parse() makes it): @f's
 * own, in the kinds table, never freed.  NULL when no transition leads
 * from @cur to @json.  Pure: any thread. */
const struct tg_op *tg_field_op(const struct tg_field *f, const char *cur,
				const char *json);

/* A deep copy of @src into @dst: the caller now owns it and
 * tg_object_release()s it.  TG_ENOMEM leaves @dst empty.  Any thread. */
enum tg_err tg_object_copy(const struct tg_object *src,
			   struct tg_object *dst) TG_WARN_UNUSED;

/*
 * Makes in *out a copy of @src whose one-link forward relation @rel points
 * at @id (named @name): the link, the {id name} object in object.json and
 * the fields read from it.  For a change the API made to @src that its
 * reply did not show (a policy's mutation moving a group).  The caller
 * now owns *out and tg_object_release()s it.  On error *out is empty:
 * TG_EINVAL when @rel is not a one-link forward relation of @src's kind
 * (@rel must be below kind->nrels: it is read before it is checked),
 * TG_EPROTO when @src has no node kept (a draft) or it lacks the linked
 * object, TG_ENOMEM.  Any thread.
 */
enum tg_err tg_object_set_link(const struct tg_object *src, size_t rel,
			       const char *id, const char *name,
			       struct tg_object *out);

/* Copies @api's counters into @out.  Any thread; each counter is read
 * atomically, not all of them together. */
void tg_api_get_stats(struct tg_api *api, struct tg_api_stats *out);

/* Requests per GraphQL operation name ("tgfsList_devices",
 * "tgfs_deviceUpdate"), in first-seen order: up to @max into @names
 * (NUL-terminated, cut at 55 bytes) and @counts; returns how many.  The
 * first TG_MAX_OPS names are counted, later ones not.  Any thread. */
#define TG_MAX_OPS 64
size_t tg_api_get_ops(struct tg_api *api, char (*names)[56], uint64_t *counts,
		      size_t max);

/* The page size in use (after any halving).  Any thread. */
unsigned tg_api_page_size(struct tg_api *api);

/* ------------------------------------------------------------------ */
/* The live schema                                                     */
/* ------------------------------------------------------------------ */

/*
 * What the tenant's API has, read once at mount by introspection, and
 * what the kinds table asks of it (schema.c, prune.c).
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


#endif /* TG_API_H */
