/*
 * fuzz_response.c - the client's handling of whole GraphQL responses
 * (api/client.c, api/paging.c, api/nested.c, api/mutate.c), without a
 * network.
 *
 * Link with -Wl,--wrap=http_post,--wrap=clock_nanosleep: the transport
 * is replaced by answers taken from the input, and the client's waits
 * (backoff, 429) return at once.  Everything above the transport runs as
 * in the mount: api_gql() (status codes, retries, errors[] next to data,
 * unreadable bodies), paging with offset cursors and aliases, nested
 * connections completed by later requests, page-size halving, lookups by
 * name and by id, every mutation of the kinds table (payload ok/error,
 * entity, secrets), tg_api_update()'s merging and tg_api_create().
 *
 * Input:
 *     <operation> [page size] [batch pages]
 *     --- 200
 *     {"data": ...}                  <- the answer to the first request
 *     --- 429 1
 *     {"errors": ...}                <- the second (Retry-After 1)
 *     --- ENET                       <- a transport failure (or EPROTO)
 * Operations: "list <dir>", "lookup <dir>", "check", "update <dir>",
 * "create <dir>" (a draft's create), "mutate <dir>.<what>" (create, pre_delete, remove, set.<file>,
 * trans.<to>, add.<rel>, del.<rel>).  A first line that names none picks
 * one with its first byte (the next two: page size, batch).  Requests past
 * the last answer fail as transport failures.  Each request the client
 * sends is checked: JSON with a "query" whose brackets balance (an id or
 * cursor from an answer cannot break out of its string).
 */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../api/internal.h"
#include "../unit/canned.h"
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
enum tg_err __wrap_http_post(struct http *h, const char *body, bool fresh,
			     struct http_resp *out, char *err, size_t errsz);
int __wrap_clock_nanosleep(clockid_t clock, int flags,
			   const struct timespec *req, struct timespec *rem);

/* ---- the answers ---- */

static const uint8_t *answers;
static size_t answers_len;

/* A request's brackets balance outside string literals. */
static void check_request(const char *body)
{
	cJSON *root = cJSON_Parse(body), *q, *vars;
	int brace = 0, paren = 0, square = 0;
	bool in_str = false;

	FZ_CHECK(root, "request is not JSON: %.200s", body);
	q = cJSON_GetObjectItemCaseSensitive(root, "query");
	FZ_CHECK(cJSON_IsString(q), "request without a query");
	vars = cJSON_GetObjectItemCaseSensitive(root, "variables");
	FZ_CHECK(!vars || cJSON_IsObject(vars), "variables not an object");
	for (const char *p = q->valuestring; *p; p++) {
		if (in_str) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '"')
				in_str = false;
			continue;
		}
		switch (*p) {
		case '"': in_str = true; break;
		case '{': brace++; break;
		case '}': brace--; break;
		case '(': paren++; break;
		case ')': paren--; break;
		case '[': square++; break;
		case ']': square--; break;
		}
		FZ_CHECK(brace >= 0 && paren >= 0 && square >= 0,
			 "query closes what it did not open: %s",
			 q->valuestring);
	}
	FZ_CHECK(!in_str && !brace && !paren && !square,
		 "query does not balance: %s", q->valuestring);
	cJSON_Delete(root);
}

/* Finds the next "--- " marker at a line start at or after @from. */
static const uint8_t *next_marker(const uint8_t *from, const uint8_t *end)
{
	for (const uint8_t *p = from; p + 4 <= end; p++)
		if ((p == answers || p[-1] == '\n') && !memcmp(p, "--- ", 4))
			return p;
	return NULL;
}

enum tg_err __wrap_http_post(struct http *h, const char *body, bool fresh,
			     struct http_resp *out, char *err, size_t errsz)
{
	const uint8_t *end = answers + answers_len, *m, *line_end, *next;
	const uint8_t *b, *bend;
	char status[32];
	size_t n;

	(void)h;
	(void)fresh;
	canned_begin(out, err, errsz);
	check_request(body);
	m = answers_len ? next_marker(answers, end) : NULL;
	if (!m) {
		snprintf(err, errsz, "no more answers");
		return TG_ENET;
	}
	line_end = memchr(m, '\n', (size_t)(end - m));
	if (!line_end)
		line_end = end;
	n = (size_t)(line_end - (m + 4));
	snprintf(status, sizeof(status), "%.*s",
		 (int)(n < sizeof(status) ? n : sizeof(status) - 1), m + 4);
	b = line_end < end ? line_end + 1 : end;
	next = next_marker(b, end);
	bend = next ? next : end;
	if (next && bend > b && bend[-1] == '\n')
		bend--;
	answers_len = (size_t)(end - (next ? next : end));
	answers = next ? next : end;

	if (!strncmp(status, "ENET", 4)) {
		snprintf(err, errsz, "connection refused");
		return TG_ENET;
	}
	if (!strncmp(status, "EPROTO", 6)) {
		snprintf(err, errsz, "body too large");
		return TG_EPROTO;
	}
	{
		char *e;
		long s = strtol(status, &e, 10);

		out->status = e != status && s > 0 && s < 1000 ? s : 200;
		if (*e == ' ') {
			long ra = strtol(e + 1, NULL, 10);

			out->retry_after = ra >= 0 && ra < 100000 ? ra : -1;
		}
	}
	if (bend > b && !buf_add(&out->body, b, (size_t)(bend - b)))
		abort();
	return TG_OK;
}

int __wrap_clock_nanosleep(clockid_t clock, int flags,
			   const struct timespec *req, struct timespec *rem)
{
	(void)clock;
	(void)flags;
	(void)req;
	(void)rem;
	return 0;
}

/* ---- the operations ---- */

enum op_type { OP_LIST, OP_LOOKUP, OP_CHECK, OP_MUTATE, OP_UPDATE, OP_CREATE };

/* What the client is asked for (ids of the simulator's "small" tenant, so
 * the seeds could be recorded from it). */
static const char *lookup_name = "prod-db";
static const char *lookup_id = "RGV2aWNlOjYyMDIzMA==";
static const char *update_id = "UmVzb3VyY2U6NzY4MTcw";
static const char *link_id = "UmVtb3RlTmV0d29yazo0OTAxNTA=";
static struct tg_vars mut_vars = {
	.id = "UmVzb3VyY2U6NzY4MTcw",
	.t = "R3JvdXA6Mzk2NzQx",
	.parent = "UmVtb3RlTmV0d29yazo0OTAxNTA=",
	.name = "new \"name\" / x",
	.v_json = "\"value\"",
};

struct op {
	char name[128];
	enum op_type type;
	const struct tg_kind *kind;
	const struct tg_op *mut;
};

static struct op *ops;
static size_t nops, capops;

static void add_op(enum op_type type, const struct tg_kind *k,
		   const struct tg_op *mut, const char *fmt, const char *a,
		   const char *b)
{
	if (type == OP_MUTATE && !mut)
		return;
	if (nops == capops) {
		capops = capops ? 2 * capops : 64;
		ops = realloc(ops, capops * sizeof(*ops));
		FZ_CHECK(ops, "oom");
	}
	ops[nops] = (struct op){ .type = type, .kind = k, .mut = mut };
	snprintf(ops[nops].name, sizeof(ops[nops].name), fmt, a, b);
	nops++;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	tg_log_set_level(TG_LOG_ERR);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	add_op(OP_CHECK, NULL, NULL, "check", "", "");
	for (size_t i = 0; i < tg_nkinds; i++) {
		const struct tg_kind *k = tg_kinds[i];

		if (k->list_field)
			add_op(OP_LIST, k, NULL, "list %s", k->dir, "");
		add_op(OP_LOOKUP, k, NULL, "lookup %s", k->dir, "");
		add_op(OP_UPDATE, k, NULL, "update %s", k->dir, "");
		if (k->draft)
			add_op(OP_CREATE, k, NULL, "create %s", k->dir, "");
		add_op(OP_MUTATE, k, k->create, "mutate %s.create", k->dir,
		       "");
		add_op(OP_MUTATE, k, k->pre_delete, "mutate %s.pre_delete",
		       k->dir, "");
		add_op(OP_MUTATE, k, k->remove, "mutate %s.remove", k->dir,
		       "");
		for (size_t f = 0; f < k->nfields; f++) {
			const struct tg_field *fd = &k->fields[f];

			add_op(OP_MUTATE, k, fd->set, "mutate %s.set.%s",
			       k->dir, fd->file);
			for (size_t t = 0; t < fd->ntrans; t++) {
				char to[64];

				snprintf(to, sizeof(to), "%s%s%s",
					 fd->trans[t].to,
					 fd->trans[t].from ? "-from-" : "",
					 fd->trans[t].from ? fd->trans[t].from
							   : "");
				add_op(OP_MUTATE, k, &fd->trans[t].op,
				       "mutate %s.trans.%s", k->dir, to);
			}
		}
		for (size_t r = 0; r < k->nrels; r++) {
			add_op(OP_MUTATE, k, k->rels[r].add, "mutate %s.add.%s",
			       k->dir, k->rels[r].dir);
			add_op(OP_MUTATE, k, k->rels[r].remove,
			       "mutate %s.del.%s", k->dir, k->rels[r].dir);
		}
	}
	if (getenv("FUZZ_LIST_OPS"))
		for (size_t i = 0; i < nops; i++)
			printf("%s\n", ops[i].name);
	return 0;
}

static void check_list(const struct tg_kind *k, const struct tg_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct tg_object *o = &l->items[i];

		FZ_CHECK(o->kind == k, "item %zu of another kind", i);
		FZ_CHECK(o->id && *o->id && o->name && o->packed,
			 "item %zu incomplete", i);
		for (size_t c = 0; c < o->children.n; c++)
			FZ_CHECK(o->children.items[c].parent_id &&
					 !strcmp(o->children.items[c].parent_id,
						 o->id),
				 "child of item %zu without its parent", i);
	}
	(void)tg_list_bytes(l);
}

/* A value for each type, as a user would write it. */
static const char *sample_text(const struct tg_field *f)
{
	switch (f->type) {
	case TG_FT_BOOL: return "false\n";
	case TG_FT_TRUST: return "trusted\n";
	case TG_FT_ENUM: return f->values ? f->values[0] : "active";
	case TG_FT_PROTOCOLS: return "icmp: allow\ntcp: 22,443,8000-8080\n"
				     "udp: deny-all\n";
	case TG_FT_TAGS: return "env=prod\nteam=db\n";
	case TG_FT_STRING: return "fuzz.example.internal\n";
	default: return NULL;
	}
}

/* True when word @w is one of the space-separated @words. */
static bool has_word(const char *words, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = words; p && *p;) {
		size_t len = strcspn(p, " ");

		if (len == n && !strncmp(p, w, n))
			return true;
		p += len;
		p += strspn(p, " ");
	}
	return false;
}

/* A create from a draft holding every field it takes and the links it
 * needs. */
static void run_create(struct tg_api *api, const struct tg_kind *k)
{
	size_t fields[TG_MAX_VALUES], rels[TG_MAX_VALUES], n = 0, nl = 0;
	char *values[TG_MAX_VALUES], *ids[TG_MAX_VALUES];
	struct tg_result res;

	for (size_t i = 0; i < k->nfields && n < TG_MAX_VALUES / 2; i++) {
		const struct tg_field *f = &k->fields[i];
		const char *t = sample_text(f);

		if (!t || !has_word(k->draft->files, f->file) ||
		    tg_value_parse(f, t, strlen(t), &values[n]) != TG_OK)
			continue;
		fields[n++] = i;
	}
	for (size_t r = 0; r < k->nrels && nl < TG_MAX_VALUES / 2; r++)
		if (!k->rels[r].many && has_word(k->draft->needs,
						 k->rels[r].dir)) {
			ids[nl] = (char *)link_id;
			rels[nl++] = r;
		}
	/* ok:true without an entity is taken (the cache is then dropped). */
	if (tg_api_create(api, k, fields, values, n, rels, ids, nl, &res) ==
		    TG_OK &&
	    res.entity.kind)
		FZ_CHECK(res.entity.kind == k && res.entity.id,
			 "created another kind");
	tg_result_release(&res);
	for (size_t i = 0; i < n; i++)
		free(values[i]);
}

static void run_update(struct tg_api *api, const struct tg_kind *k)
{
	char node[256];
	struct tg_object obj;
	struct tg_result res;
	size_t fields[64], n = 0;
	char *values[64];

	snprintf(node, sizeof(node),
		 "{\"id\":\"%s\",\"name\":\"n\",\"activeState\":"
		 "\"ARCHIVED\",\"isTrusted\":false,\"tags\":[],"
		 "\"remoteNetwork\":{\"id\":\"%s\",\"name\":\"n\"}}",
		 update_id, link_id);
	if (tg_object_from_json(k, node, strlen(node), &obj) != TG_OK)
		return;
	for (size_t i = 0; i < k->nfields && n < 64; i++) {
		const struct tg_field *f = &k->fields[i];
		const char *t = sample_text(f);

		if (!f->writable || !t || (!f->set && !f->ntrans))
			continue;
		if (tg_value_parse(f, t, strlen(t), &values[n]) != TG_OK)
			continue;
		fields[n++] = i;
	}
	if (tg_api_update(api, &obj, fields, values, n, &res) == TG_OK &&
	    res.entity.kind)
		FZ_CHECK(res.entity.id, "entity without an id");
	tg_result_release(&res);
	for (size_t i = 0; i < n; i++)
		free(values[i]);
	tg_object_release(&obj);
}

static void run(const struct op *op, unsigned page, unsigned batch)
{
	struct tg_api_config cfg = canned_config(page, batch);
	struct tg_api *api;
	struct tg_list list;
	enum tg_err err;

	cfg.max_wait_s = 30;
	api = tg_api_new(&cfg);
	FZ_CHECK(api, "tg_api_new");
	switch (op->type) {
	case OP_CHECK: {
		char *msg = NULL;

		(void)tg_api_check(api, &msg);
		free(msg);
		break;
	}
	case OP_LIST:
		err = tg_api_list(api, op->kind, &list);
		if (err == TG_OK)
			check_list(op->kind, &list);
		else
			FZ_CHECK(!list.n && !list.items, "error with items");
		tg_list_release(&list);
		break;
	case OP_LOOKUP:
		err = tg_api_lookup(api, op->kind,
				    op->kind->lookup == TG_LOOKUP_ID
					    ? lookup_id
					    : lookup_name,
				    &list);
		if (err == TG_OK)
			check_list(op->kind, &list);
		else
			FZ_CHECK(!list.n && !list.items, "error with items");
		tg_list_release(&list);
		break;
	case OP_MUTATE: {
		struct tg_result res;

		err = tg_api_mutate(api, op->mut, &mut_vars, &res);
		if (err != TG_OK)
			FZ_CHECK(!res.entity.kind && !res.secret,
				 "error %d with a result", err);
		else if (op->mut->secret_sel)
			FZ_CHECK(res.secret, "ok without the secret");
		tg_result_release(&res);
		break;
	}
	case OP_UPDATE:
		run_update(api, op->kind);
		break;
	case OP_CREATE:
		run_create(api, op->kind);
		break;
	}
	tg_api_free(api);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct op *op = NULL;
	unsigned page = 2, batch = 2;
	const char *w;

	if (!size)
		return 0;
	w = fz_first_line(&data, &size, 120);
	if (w) {
		size_t best = 0;

		for (size_t i = 0; i < nops; i++) {
			size_t n = strlen(ops[i].name);

			if (n > best && !strncmp(w, ops[i].name, n) &&
			    (w[n] == '\0' || w[n] == ' ')) {
				op = &ops[i];
				best = n;
			}
		}
		if (op) {
			const char *p = w + best;
			char *e;
			unsigned long v = strtoul(p, &e, 10);

			if (e != p) {
				page = (unsigned)(v % 200);
				p = e;
				v = strtoul(p, &e, 10);
				if (e != p)
					batch = (unsigned)(v % 8);
			}
			data += strlen(w) + 1;
			size -= strlen(w) + 1;
		}
	}
	if (!op) {
		op = &ops[data[0] % nops];
		if (size >= 3) {
			page = data[1] % 8;
			batch = data[2] % 4;
		}
		data += size >= 3 ? 3 : 1;
		size -= size >= 3 ? 3 : 1;
	}
	answers = data;
	answers_len = size;
	run(op, page, batch);
	return 0;
}
