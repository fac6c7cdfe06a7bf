/*
 * prune.c - what the live schema does to the kinds table (schema.h):
 * selections pruned to the fields the API has (subtype-only fields put
 * into inline fragments), mutation calls checked before they are sent,
 * and the schema in use with each kind's pruned selection, made once at
 * start-up.
 *
 * A selection is parsed into a small tree (fields with their aliases,
 * arguments kept as written, sub-selections, inline fragments) and
 * written back as it is pruned: the kinds table's selections are all of
 * that shape.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "schema_int.h"

/* ---- selections as trees -------------------------------------------- */

struct sel {
	char *alias, *name, *args; /* args: "(first: 1)" as written */
	char *on;                  /* an inline fragment's type */
	struct sel *sub;
	size_t nsub;
	bool has_sub;
};

static void sel_free(struct sel *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].alias);
		free(v[i].name);
		free(v[i].args);
		free(v[i].on);
		sel_free(v[i].sub, v[i].nsub);
	}
	free(v);
}

static void skip_blank(const char **p)
{
	while (**p && (isspace((unsigned char)**p) || **p == ','))
		(*p)++;
}

static char *name_at(const char **p)
{
	const char *s = *p;

	if (!isalpha((unsigned char)*s) && *s != '_')
		return NULL;
	while (isalnum((unsigned char)**p) || **p == '_')
		(*p)++;
	return strndup(s, (size_t)(*p - s));
}

/* The text from '(' to its ')', strings skipped whole. */
static char *args_at(const char **p)
{
	const char *s = *p;
	int depth = 0;

	for (; **p; (*p)++) {
		if (**p == '"') {
			for ((*p)++; **p && **p != '"'; (*p)++)
				if (**p == '\\' && (*p)[1])
					(*p)++;
			if (!**p)
				return NULL;
		} else if (**p == '(') {
			depth++;
		} else if (**p == ')' && --depth == 0) {
			(*p)++;
			return strndup(s, (size_t)(*p - s));
		}
	}
	return NULL;
}

/* Parses items up to '}' (or the end at depth 0) into *out. */
static bool parse_set(const char **p, struct sel **out, size_t *n, int depth)
{
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	for (;;) {
		struct sel it = { 0 };

		skip_blank(p);
		if (!**p)
			return depth == 0;
		if (**p == '}') {
			if (depth == 0)
				return false;
			(*p)++;
			return true;
		}
		if (depth > 16)
			return false;
		if (*n == cap) {
			struct sel *v;

			cap = cap ? cap * 2 : 8;
			v = realloc(*out, cap * sizeof(*v));
			if (!v)
				return false;
			*out = v;
		}
		if (strncmp(*p, "...", 3) == 0) {
			*p += 3;
			skip_blank(p);
			if (strncmp(*p, "on", 2) != 0 || isalnum((unsigned char)(*p)[2]))
				return false;
			*p += 2;
			skip_blank(p);
			it.on = name_at(p);
		} else {
			it.name = name_at(p);
			skip_blank(p);
			if (it.name && **p == ':') {
				(*p)++;
				skip_blank(p);
				it.alias = it.name;
				it.name = name_at(p);
				skip_blank(p);
			}
			if (it.name && **p == '(' && !(it.args = args_at(p))) {
				free(it.alias);
				free(it.name);
				return false;
			}
		}
		(*out)[(*n)++] = it;
		if (!it.on && !it.name)
			return false;
		skip_blank(p);
		if (**p == '{') {
			(*p)++;
			(*out)[*n - 1].has_sub = true;
			if (!parse_set(p, &(*out)[*n - 1].sub,
				       &(*out)[*n - 1].nsub, depth + 1))
				return false;
		} else if (it.on) {
			return false;
		}
	}
}

struct pruner {
	const struct tg_schema *s;
	void (*dropped)(void *ctx, const char *what);
	void *ctx;
};

static void drop(const struct pruner *pr, const char *type, const char *f)
{
	char what[256];

	if (!pr->dropped)
		return;
	snprintf(what, sizeof(what), "%s%s%s", type, f ? "." : "",
		 f ? f : "");
	pr->dropped(pr->ctx, what);
}

static bool prune_set(const struct pruner *pr, const struct sch_type *t,
		      const struct sel *v, size_t n, struct buf *out);

/* Appends " " when @out has content. */
static bool sep(struct buf *out)
{
	return !out->len || buf_add(out, " ", 1);
}

/* Appends field @it as asked for on @t (its field @f), sub-selection
 * pruned to f's type.  *kept: whether anything was left to ask. */
static bool add_field(const struct pruner *pr, const struct sch_field *f,
		      const struct sel *it, struct buf *out, bool *kept)
{
	struct buf sub = { .max = out->max };
	bool ok;

	*kept = false;
	if (it->has_sub &&
	    !prune_set(pr, schema_type(pr->s, f->base), it->sub, it->nsub,
		       &sub)) {
		buf_release(&sub);
		return false;
	}
	if (it->has_sub && !sub.len) {
		buf_release(&sub);
		return true;
	}
	*kept = true;
	ok = sep(out) &&
	     buf_addf(out, "%s%s%s%s", it->alias ? it->alias : "",
		      it->alias ? ": " : "", it->name,
		      it->args ? it->args : "") &&
	     (!it->has_sub || buf_addf(out, " { %s }", sub.s));
	buf_release(&sub);
	return ok;
}

/* Appends @v as written (for a type the schema does not know). */
static bool add_raw(const struct sel *v, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n; i++) {
		const struct sel *it = &v[i];

		if (!sep(out) ||
		    (it->on ? !buf_addf(out, "... on %s", it->on)
			    : !buf_addf(out, "%s%s%s%s",
					it->alias ? it->alias : "",
					it->alias ? ": " : "", it->name,
					it->args ? it->args : "")))
			return false;
		if (it->has_sub) {
			struct buf sub = { .max = out->max };
			bool ok = add_raw(it->sub, it->nsub, &sub) &&
				  buf_addf(out, " { %s }", sub.s ? sub.s : "");

			buf_release(&sub);
			if (!ok)
				return false;
		}
	}
	return true;
}

/* Appends "... on P { sub }" for the selection @v pruned to P. */
static bool add_fragment(const struct pruner *pr, const struct sch_type *p,
			 const struct sel *v, size_t n, struct buf *out)
{
	struct buf sub = { .max = out->max };
	bool ok = prune_set(pr, p, v, n, &sub);

	if (ok && sub.len)
		ok = sep(out) && buf_addf(out, "... on %s { %s }", p->name,
					  sub.s);
	buf_release(&sub);
	return ok;
}

/* Whether @t has @name among the object types it may be. */
static bool may_be(const struct sch_type *t, const char *name)
{
	if (strcmp(t->name, name) == 0)
		return true;
	for (size_t i = 0; i < t->npossible; i++)
		if (strcmp(t->possible[i], name) == 0)
			return true;
	return false;
}

/* Whether a fragment on @p may match within @t (GraphQL's rule: the
 * object types each may be have one in common). */
static bool overlap(const struct tg_schema *s, const struct sch_type *t,
		    const struct sch_type *p)
{
	(void)s;
	if (may_be(t, p->name) || may_be(p, t->name))
		return true;
	for (size_t i = 0; i < t->npossible; i++)
		if (may_be(p, t->possible[i]))
			return true;
	return false;
}

static bool prune_set(const struct pruner *pr, const struct sch_type *t,
		      const struct sel *v, size_t n, struct buf *out)
{
	if (!t)
		return add_raw(v, n, out);
	for (size_t i = 0; i < n; i++) {
		const struct sel *it = &v[i];
		const struct sch_field *f;
		bool kept = false;

		if (it->on) {
			const struct sch_type *p = schema_type(pr->s, it->on);

			if (!p)
				drop(pr, it->on, NULL);
			else if (!overlap(pr->s, t, p))
				continue; /* never matches here */
			else if (!add_fragment(pr, p, it->sub, it->nsub, out))
				return false;
			continue;
		}
		if (strncmp(it->name, "__", 2) == 0) {
			if (!add_raw(it, 1, out))
				return false;
			continue;
		}
		f = schema_field(t, it->name);
		if (f) {
			if (!add_field(pr, f, it, out, &kept))
				return false;
			if (!kept)
				drop(pr, t->name, it->name);
			continue;
		}
		/* Not on the interface: on those of its types that have it. */
		for (size_t j = 0; j < t->npossible; j++) {
			const struct sch_type *p =
				schema_type(pr->s, t->possible[j]);

			if (!schema_field(p, it->name))
				continue;
			kept = true;
			if (!add_fragment(pr, p, it, 1, out))
				return false;
		}
		if (!kept)
			drop(pr, t->name, it->name);
	}
	return true;
}

char *tg_schema_prune(const struct tg_schema *s, const char *type,
		      const char *selection,
		      void (*dropped)(void *ctx, const char *what), void *ctx)
{
	struct pruner pr = { s, dropped, ctx };
	struct buf out = { .max = 1024 * 1024 };
	const char *p = selection;
	struct sel *v;
	size_t n;
	bool ok;

	ok = parse_set(&p, &v, &n, 0) &&
	     prune_set(&pr, schema_type(s, type), v, n, &out);
	sel_free(v, n);
	if (!ok) {
		buf_release(&out);
		return NULL;
	}
	return out.s ? out.s : strdup("");
}

/* ---- mutation calls ------------------------------------------------- */

static const struct sch_ref *arg_of(const struct sch_field *f,
				    const char *name)
{
	for (size_t i = 0; i < f->nargs; i++)
		if (strcmp(f->args[i].name, name) == 0)
			return &f->args[i];
	return NULL;
}

enum tg_err tg_schema_check_call(const struct tg_schema *s, const char *call,
				 char *why, size_t whysz)
{
	const struct sch_field *f;
	char name[128];
	const char *p;
	int depth = 0;

	if (!s)
		return TG_OK;
	snprintf(name, sizeof(name), "%.*s", (int)strcspn(call, "( "), call);
	f = schema_field(schema_type(s, s->mutation), name);
	if (!f) {
		snprintf(why, whysz, "the live schema has no mutation %s",
			 name);
		return TG_ENOTSUP;
	}
	p = strchr(call, '(');
	if (!p)
		return TG_OK;
	/* Each argument name at depth 1: "(a: v, b: [{c: $t}])". */
	for (p++; *p; p++) {
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++)
				if (*p == '\\' && p[1])
					p++;
			if (!*p)
				break;
		} else if (*p == '(' || *p == '[' || *p == '{') {
			depth++;
		} else if (*p == ')' || *p == ']' || *p == '}') {
			if (depth-- == 0)
				break;
		} else if (depth == 0 && (isalpha((unsigned char)*p) ||
					  *p == '_') &&
			   (p[-1] == '(' || p[-1] == ',' ||
			    isspace((unsigned char)p[-1]))) {
			const char *q = p;
			char arg[128];

			while (isalnum((unsigned char)*q) || *q == '_')
				q++;
			while (isspace((unsigned char)*q))
				q++;
			if (*q != ':')
				continue; /* a value (null, true...) */
			snprintf(arg, sizeof(arg), "%.*s",
				 (int)strcspn(p, ": \t\n"), p);
			if (!arg_of(f, arg)) {
				snprintf(why, whysz,
					 "the live schema has no argument %s "
					 "of %s", arg, name);
				return TG_ENOTSUP;
			}
			p = q;
		}
	}
	return TG_OK;
}

/* ---- the schema in use ---------------------------------------------- */

struct live_kind {
	char *sel;           /* NULL: the table's */
	bool *field_absent;  /* per field */
	bool *conn_absent;   /* per nested connection */
	char **conn_sel;     /* per nested connection; NULL: the table's */
};

static struct tg_schema *live_schema;
static struct live_kind *live_kinds; /* tg_nkinds of them */

const struct tg_schema *tg_schema_live(void)
{
	return live_schema;
}

static const struct live_kind *live_of(const struct tg_kind *kind)
{
	for (size_t i = 0; live_kinds && i < tg_nkinds; i++)
		if (tg_kinds[i] == kind)
			return &live_kinds[i];
	return NULL;
}

/* A field of @t, or of one of its possible types; NULL: none has it. */
static const struct sch_field *field_any(const struct tg_schema *s,
					 const struct sch_type *t,
					 const char *name)
{
	const struct sch_field *f = schema_field(t, name);

	for (size_t j = 0; !f && t && j < t->npossible; j++)
		f = schema_field(schema_type(s, t->possible[j]), name);
	return f;
}

/* Whether dotted @path leads somewhere from type @type. */
static bool path_present(const struct tg_schema *s, const char *type,
			 const char *path)
{
	const struct sch_type *t = schema_type(s, type);
	char seg[128];

	while (t && *path) {
		size_t len = strcspn(path, ".");
		const struct sch_field *f;

		snprintf(seg, sizeof(seg), "%.*s", (int)len, path);
		if (strcmp(seg, "__typename") == 0)
			return true; /* every object type answers it */
		f = field_any(s, t, seg);
		if (!f)
			return false;
		t = schema_type(s, f->base);
		path += len + (path[len] == '.');
	}
	return true;
}

struct drop_log {
	const struct tg_kind *kind;
};

static void log_drop(void *ctx, const char *what)
{
	const struct drop_log *d = ctx;

	tg_log(TG_LOG_WARN, "the live schema has no %s: left out of %s/",
	       what, d->kind->dir);
}

/* The node type of connection @field of type @type: field.edges.node. */
static const char *conn_node_type(const struct tg_schema *s,
				  const char *type, const char *field)
{
	const struct sch_field *f = field_any(s, schema_type(s, type), field);
	const struct sch_field *e, *n;

	e = f ? schema_field(schema_type(s, f->base), "edges") : NULL;
	n = e ? schema_field(schema_type(s, e->base), "node") : NULL;
	return n ? n->base : NULL;
}

static bool use_kind(const struct tg_schema *s, const struct tg_kind *k,
		     struct live_kind *lk)
{
	struct drop_log d = { k };

	if (!schema_type(s, k->type_name)) {
		tg_log(TG_LOG_WARN, "the live schema has no type %s: %s/ "
		       "asks as the built-in table says", k->type_name, k->dir);
		return true;
	}
	lk->sel = tg_schema_prune(s, k->type_name, k->selection, log_drop, &d);
	lk->field_absent = calloc(k->nfields + 1, sizeof(bool));
	lk->conn_absent = calloc(k->nconns + 1, sizeof(bool));
	lk->conn_sel = calloc(k->nconns + 1, sizeof(char *));
	if (!lk->sel || !lk->field_absent || !lk->conn_absent ||
	    !lk->conn_sel)
		return false;
	for (size_t i = 0; i < k->nfields; i++)
		lk->field_absent[i] = k->fields[i].path &&
			!path_present(s, k->type_name, k->fields[i].path);
	for (size_t i = 0; i < k->nconns; i++) {
		const struct tg_conn *c = &k->conns[i];

		if (!field_any(s, schema_type(s, k->type_name), c->field)) {
			lk->conn_absent[i] = true;
			log_drop(&d, c->field);
			continue;
		}
		if (c->node_sel) {
			lk->conn_sel[i] = tg_schema_prune(
				s, conn_node_type(s, k->type_name, c->field),
				c->node_sel, log_drop, &d);
			if (!lk->conn_sel[i])
				return false;
		}
	}
	return true;
}

/* Logs each mutation of the table the schema lacks, once. */
static void log_call(const struct tg_schema *s, const struct tg_op *op,
		     const struct tg_kind *k)
{
	char why[256];

	if (op && tg_schema_check_call(s, op->call, why, sizeof(why)) !=
			  TG_OK)
		tg_log(TG_LOG_WARN, "%s: writes that need it fail "
		       "(EOPNOTSUPP) in %s/", why, k->dir);
}

void tg_schema_use(struct tg_schema *s)
{
	if (!s) {
		tg_log(TG_LOG_WARN, "the live schema could not be read: "
		       "selections are the built-in table's");
		return;
	}
	live_kinds = calloc(tg_nkinds + 1, sizeof(*live_kinds));
	if (!live_kinds) {
		tg_log(TG_LOG_ERR, "out of memory: the live schema is not "
		       "used");
		tg_schema_free(s);
		return;
	}
	for (size_t i = 0; i < tg_nkinds; i++) {
		const struct tg_kind *k = tg_kinds[i];

		if (!use_kind(s, k, &live_kinds[i])) {
			tg_log(TG_LOG_ERR, "out of memory: %s/ asks as the "
			       "built-in table says", k->dir);
			free(live_kinds[i].sel);
			memset(&live_kinds[i], 0, sizeof(live_kinds[i]));
		}
		log_call(s, k->create, k);
		log_call(s, k->remove, k);
		for (size_t j = 0; j < k->nfields; j++)
			log_call(s, k->fields[j].set, k);
		for (size_t j = 0; j < k->nrels; j++) {
			log_call(s, k->rels[j].add, k);
			log_call(s, k->rels[j].remove, k);
		}
	}
	live_schema = s;
	for (size_t i = 0; i < tg_nkinds; i++)
		if (!tg_kind_listed(tg_kinds[i]))
			tg_log(TG_LOG_WARN, "the live schema has no %s.%s: %s/ "
			       "shows empty", s->query, tg_kinds[i]->list_field,
			       tg_kinds[i]->dir);
}

bool tg_kind_listed(const struct tg_kind *kind)
{
	const struct tg_schema *s = live_schema;

	return !s || !kind->list_field ||
	       schema_field(schema_type(s, s->query), kind->list_field);
}

bool tg_field_present(const struct tg_kind *kind, size_t i)
{
	const struct live_kind *lk = live_of(kind);

	return !lk || !lk->field_absent || i >= kind->nfields ||
	       !lk->field_absent[i];
}

const char *schema_kind_selection(const struct tg_kind *kind)
{
	const struct live_kind *lk = live_of(kind);

	return lk && lk->sel ? lk->sel : kind->selection;
}

bool schema_conn_present(const struct tg_kind *kind, size_t i)
{
	const struct live_kind *lk = live_of(kind);

	return !lk || !lk->conn_absent || !lk->conn_absent[i];
}

const char *schema_conn_selection(const struct tg_kind *kind, size_t i)
{
	const struct live_kind *lk = live_of(kind);

	return lk && lk->conn_sel && lk->conn_sel[i] ? lk->conn_sel[i]
						     : kind->conns[i].node_sel;
}

bool schema_entity_selection(struct buf *doc, const struct tg_kind *kind,
			     unsigned first, const char *mutation,
			     const char *field)
{
	const struct tg_schema *s = live_schema;
	const struct sch_field *m, *e;
	struct buf full = { 0 };
	char *pruned;
	bool ok;

	m = s ? schema_field(schema_type(s, s->mutation), mutation) : NULL;
	e = m ? schema_field(schema_type(s, m->base), field) : NULL;
	if (!e || strcmp(e->base, kind->type_name) == 0)
		return api_selection(doc, kind, first);
	if (!api_selection(&full, kind, first)) {
		buf_release(&full);
		return false;
	}
	pruned = tg_schema_prune(s, e->base, full.s, NULL, NULL);
	buf_release(&full);
	ok = pruned && buf_add(doc, pruned, strlen(pruned));
	free(pruned);
	return ok;
}
