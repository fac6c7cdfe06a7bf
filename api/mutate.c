/*
 * mutate.c - changes to the tenant: one mutation per call, built from the
 * kinds table's tg_op rows.
 *
 * A row's call names its variables ($id, $t, $parent, $name, $v); only
 * those it uses are declared (GraphQL refuses unused ones), all travel as
 * variables (never spliced into the text), and the payload asks for the
 * entity with the same selection a listing uses, so the cache can take
 * the changed object straight from the answer without a read.
 *
 * Mutations are never retried here: the API is not idempotent.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "schema_int.h"

static enum tg_err mutate_one(struct tg_api *api, const struct tg_op *op,
			      const struct tg_vars *vars,
			      struct tg_result *out);

void tg_result_release(struct tg_result *r)
{
	if (r->entity.kind)
		tg_object_release(&r->entity);
	if (r->secret) {
		explicit_bzero(r->secret, strlen(r->secret));
		free(r->secret);
	}
	memset(r, 0, sizeof(*r));
}

/* True when @call uses variable @name ("$t" but not "$tags"). */
static bool uses(const char *call, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = strstr(call, name); p; p = strstr(p + 1, name)) {
		char c = p[n];

		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
		    !(c >= '0' && c <= '9') && c != '_')
			return true;
	}
	return false;
}

/* Renders the secret of payload @r as op->secret_fmt says. */
static char *render_secret(const struct tg_op *op, const cJSON *r)
{
	struct buf out = { .max = 64 * 1024 };
	const char *p = op->secret_fmt;

	while (*p) {
		size_t len = strcspn(p, "\n");
		char line[256], *eq;
		const cJSON *v;

		if (len >= sizeof(line))
			goto bad;
		memcpy(line, p, len);
		line[len] = '\0';
		p += len + (p[len] == '\n');
		eq = strchr(line, '=');
		v = json_at(r, eq ? eq + 1 : line);
		if (!cJSON_IsString(v))
			goto bad;
		if (eq) {
			eq[1] = '\0';
			if (!buf_add(&out, line, strlen(line)))
				goto bad;
		}
		if (!buf_add(&out, v->valuestring, strlen(v->valuestring)) ||
		    !buf_add(&out, "\n", 1))
			goto bad;
	}
	return out.s;
bad:
	if (out.s)
		explicit_bzero(out.s, out.len);
	buf_release(&out);
	return NULL;
}

/* Zeroes every string in @j. */
static void wipe(cJSON *j)
{
	for (; j; j = j->next) {
		if (cJSON_IsString(j) && j->valuestring)
			explicit_bzero(j->valuestring, strlen(j->valuestring));
		wipe(j->child);
	}
}

/* Adds "$name: type" to the declarations and the value to @vars. */
static bool declare(struct buf *decl, cJSON *vars, const char *call,
		    const char *name, const char *type, const char *value,
		    bool json)
{
	cJSON *v;

	if (!uses(call, name))
		return true;
	if (!value)
		return false;
	v = json ? cJSON_Parse(value) : cJSON_CreateString(value);
	if (!v)
		return false;
	cJSON_AddItemToObject(vars, name + 1, v);
	return buf_addf(decl, "%s%s: %s", decl->len ? ", " : "", name, type);
}

/* Whether word @w (@len bytes) is one of the space-separated @words. */
static bool in_words(const char *words, const char *w, size_t len)
{
	for (const char *p = words; p && *p;) {
		size_t n = strcspn(p, " ");

		if (n == len && !strncmp(p, w, len))
			return true;
		p += n + (p[n] == ' ');
	}
	return false;
}

/*
 * The call @call for @obj's concrete type (kinds.c variants): NULL in
 * *typed when it stays as it is, else the same arguments to the type's
 * own update, a new string the caller frees.  TG_ENOTSUP, said in this
 * thread's message, when that update lacks an argument @call passes;
 * TG_ENOMEM.
 */
static enum tg_err typed_call(const struct tg_object *obj, const char *call,
			      char **typed)
{
	const struct tg_kind *k = obj ? obj->kind : NULL;
	const struct tg_variant *var;
	size_t len = strcspn(call, "(");
	char type[64], msg[256];

	*typed = NULL;
	if (!k || !k->nvariants || !k->update_call ||
	    strlen(k->update_call) != len ||
	    strncmp(call, k->update_call, len) != 0 ||
	    !api_object_string(obj, "__typename", type, sizeof(type)))
		return TG_OK;
	var = tg_variant_named(type);
	if (!var || !var->update)
		return TG_OK;
	for (const char *a = call + len + (call[len] == '('); *a;) {
		size_t n = strcspn(a, ":,)");

		while (*a == ' ') {
			a++;
			n--;
		}
		if (in_words(var->lacks, a, n)) {
			snprintf(msg, sizeof(msg), "%s takes no %.*s (a %s)",
				 var->update, (int)n, a, type);
			tg_log(TG_LOG_WARN, "%s", msg);
			api_set_message(msg);
			return TG_ENOTSUP;
		}
		a += strcspn(a, ",");
		a += *a == ',';
	}
	if (asprintf(typed, "%s%s", var->update, call + len) < 0) {
		*typed = NULL;
		return TG_ENOMEM;
	}
	return TG_OK;
}

enum tg_err tg_api_mutate(struct tg_api *api, const struct tg_op *op,
			  const struct tg_vars *vars, struct tg_result *out)
{
	struct tg_op typed_op;
	char *typed = NULL;
	enum tg_err terr;

	memset(out, 0, sizeof(*out));
	terr = typed_call(vars->obj, op->call, &typed);
	if (terr != TG_OK)
		return terr;
	if (typed) {
		struct tg_vars plain = *vars;

		typed_op = *op;
		typed_op.call = typed;
		plain.obj = NULL;
		terr = tg_api_mutate(api, &typed_op, &plain, out);
		free(typed);
		return terr;
	}
	return mutate_one(api, op, vars, out);
}

/* Sends @op as it is (tg_api_mutate, once its call is the type's). */
static enum tg_err mutate_one(struct tg_api *api, const struct tg_op *op,
			      const struct tg_vars *vars,
			      struct tg_result *out)
{
	const struct tg_kind *ek = op->entity ? tg_kind_named(op->entity)
					      : NULL;
	struct buf decl = { 0 }, doc = { 0 };
	enum tg_err err = TG_ENOMEM;
	cJSON *v = cJSON_CreateObject(), *data = NULL, *r, *e;
	const char *msg;
	char name[64], why[256];

	memset(out, 0, sizeof(*out));
	snprintf(name, sizeof(name), "%.*s", (int)strcspn(op->call, "("),
		 op->call);
	if (!v)
		goto out;
	/* What the live schema lacks is never sent. */
	err = tg_schema_check_call(tg_schema_live(), op->call, why,
				   sizeof(why));
	if (err != TG_OK) {
		tg_log(TG_LOG_WARN, "%s: not sent", why);
		api_set_message(why);
		goto out;
	}
	err = TG_ENOMEM;
	if (!declare(&decl, v, op->call, "$id", "ID!", vars->id, false) ||
	    !declare(&decl, v, op->call, "$t", "ID!", vars->t, false) ||
	    !declare(&decl, v, op->call, "$parent", "ID!", vars->parent,
		     false) ||
	    !declare(&decl, v, op->call, "$name", "String!", vars->name,
		     false) ||
	    !declare(&decl, v, op->call, "$v", op->vtype ? op->vtype : "String",
		     vars->v_json, true)) {
		err = TG_EINVAL;
		goto out;
	}
	for (size_t i = 0; i < vars->nv && i < TG_MAX_VALUES; i++) {
		char vn[16];

		snprintf(vn, sizeof(vn), "$v%zu", i);
		if (!declare(&decl, v, op->call, vn, vars->vn_type[i],
			     vars->vn_json[i], true)) {
			err = TG_EINVAL;
			goto out;
		}
	}
	if (!buf_addf(&doc, "mutation tgfs_%s%s%s%s { r: %s { ok error", name,
		      decl.len ? "(" : "", decl.len ? decl.s : "",
		      decl.len ? ")" : "", op->call))
		goto out;
	if (ek && (!buf_addf(&doc, " %s { ",
			     op->entities ? op->entities : "entity") ||
		   !schema_entity_selection(&doc, ek, tg_api_page_size(api),
					    name, op->entities ? op->entities
							       : "entity") ||
		   !buf_add(&doc, " }", 2)))
		goto out;
	if (op->secret_sel && !buf_addf(&doc, " %s", op->secret_sel))
		goto out;
	if (!buf_add(&doc, " } }", 4))
		goto out;

	err = api_gql(api, vars->idempotent ? GQL_MUTATION_IDEMPOTENT
					     : GQL_MUTATION,
		      doc.s, v, &data, NULL);
	if (err != TG_OK)
		goto out;
	r = json_at(data, "r");
	/* ok:false is a refusal whatever its message says; the words only
	 * tell which. */
	err = api_payload_err(r, &msg);
	if (msg) {
		tg_log(TG_LOG_WARN, "%s refused: %s", name, msg);
		api_set_message(msg);
	}
	if (err != TG_OK)
		goto out;
	if (op->secret_sel) {
		out->secret = render_secret(op, r);
		if (!out->secret) {
			err = TG_EPROTO;
			goto out;
		}
	}
	e = json_at(r, op->entities ? op->entities : "entity");
	if (op->entities)
		e = cJSON_IsArray(e) ? cJSON_GetArrayItem(e, 0) : NULL;
	if (ek && cJSON_IsObject(e)) {
		err = object_from_node(ek, e, &out->entity);
		if (err != TG_OK)
			goto out;
		if (!ek->parent_path && ek->parent_conn && vars->parent)
			out->entity.parent_id = strdup(vars->parent);
	}
	err = TG_OK;
out:
	if (err != TG_OK)
		tg_result_release(out);
	/* The payload may hold a secret: wipe it before freeing. */
	if (op->secret_sel)
		wipe(data);
	cJSON_Delete(data);
	cJSON_Delete(v);
	buf_release(&decl);
	buf_release(&doc);
	return err;
}

bool tg_field_idempotent(const struct tg_field *f)
{
	return !f->ntrans && !tg_field_secret(f);
}

const struct tg_op *tg_field_op(const struct tg_field *f, const char *cur,
				const char *json)
{
	char to[64], from[64];
	size_t n;

	if (!f->ntrans)
		return f->set;
	/* json is "\"ARCHIVED\"", cur is "active\n". */
	n = strlen(json);
	if (n < 2 || n - 2 >= sizeof(to))
		return NULL;
	memcpy(to, json + 1, n - 2);
	to[n - 2] = '\0';
	snprintf(from, sizeof(from), "%.*s", (int)strcspn(cur ? cur : "", "\n"),
		 cur ? cur : "");
	for (char *c = from; *c; c++)
		*c = (char)toupper((unsigned char)*c);
	for (size_t i = 0; i < f->ntrans; i++)
		if (!strcmp(f->trans[i].to, to) &&
		    (!f->trans[i].from || !strcmp(f->trans[i].from, from)))
			return &f->trans[i].op;
	return NULL;
}

/* "remoteNetworkUpdate(id: $id, name: $v)" -> "remoteNetworkUpdate" and
 * "name" (@var "$v"; "$t" for a relation's call).  False for a call of
 * another shape. */
static bool split_call(const char *call, const char *var, char *mut,
		       size_t msz, char *arg, size_t asz)
{
	const char *open = strchr(call, '('), *comma, *colon;
	char tail[16];

	if (!open || strncmp(open, "(id: $id, ", 10) != 0)
		return false;
	comma = open + 10;
	snprintf(tail, sizeof(tail), ": %s)", var);
	colon = strstr(comma, tail);
	if (!colon || (size_t)(open - call) >= msz ||
	    (size_t)(colon - comma) >= asz)
		return false;
	snprintf(mut, msz, "%.*s", (int)(open - call), call);
	snprintf(arg, asz, "%.*s", (int)(colon - comma), comma);
	return true;
}

enum tg_err tg_api_update(struct tg_api *api, const struct tg_object *obj,
			  const size_t *fields, char *const *values, size_t n,
			  struct tg_result *out)
{
	const struct tg_kind *k = obj->kind;
	bool *done = calloc(n + 1, sizeof(*done));
	enum tg_err err = TG_OK;

	memset(out, 0, sizeof(*out));
	if (!done)
		return TG_ENOMEM;
	/* The values transitions start from are rendered before anything
	 * is sent: out of memory then changes nothing. */
	for (size_t i = 0; i < n && err == TG_OK; i++) {
		char *shown = NULL;

		if (k->fields[fields[i]].ntrans &&
		    !tg_object_value(obj, fields[i], &shown))
			err = TG_ENOMEM;
		free(shown);
	}
	for (size_t i = 0; i < n && err == TG_OK; i++) {
		const struct tg_field *f = &k->fields[fields[i]];
		char *shown = NULL;
		const char *now = f->ntrans ? tg_object_value(obj, fields[i],
							      &shown)
					    : NULL;
		const struct tg_op *op = tg_field_op(f, now, values[i]);
		struct tg_vars vars = { .id = obj->id, .obj = obj };
		struct tg_op merged = { 0 };
		struct buf call = { 0 };
		char mut[64], arg[64];

		free(shown);
		if (f->ntrans && !now) {
			err = TG_ENOMEM;
			break;
		}
		if (done[i])
			continue;
		if (!op) {
			err = TG_EINVAL;
			break;
		}
		tg_result_release(out);
		vars.idempotent = tg_field_idempotent(f);
		if (f->ntrans || !split_call(op->call, "$v", mut, sizeof(mut),
					     arg, sizeof(arg))) {
			vars.v_json = values[i];
			err = tg_api_mutate(api, op, &vars, out);
			done[i] = true;
			continue;
		}
		/* Every later field set by the same mutation joins in. */
		if (!buf_addf(&call, "%s(id: $id", mut)) {
			err = TG_ENOMEM;
			break;
		}
		for (size_t j = i; j < n && vars.nv < TG_MAX_VALUES; j++) {
			const struct tg_field *g = &k->fields[fields[j]];
			char mj[64], aj[64];

			if (done[j] || g->ntrans || !g->set ||
			    !split_call(g->set->call, "$v", mj, sizeof(mj), aj,
					sizeof(aj)) ||
			    strcmp(mj, mut) != 0)
				continue;
			if (!buf_addf(&call, ", %s: $v%zu", aj, vars.nv)) {
				err = TG_ENOMEM;
				break;
			}
			vars.vn_json[vars.nv] = values[j];
			vars.vn_type[vars.nv++] = g->set->vtype;
			done[j] = true;
		}
		if (err == TG_OK && buf_add(&call, ")", 1)) {
			merged = *op;
			merged.call = call.s;
			err = tg_api_mutate(api, &merged, &vars, out);
		} else if (err == TG_OK) {
			err = TG_ENOMEM;
		}
		buf_release(&call);
	}
	free(done);
	return err;
}

enum tg_err tg_api_create(struct tg_api *api, const struct tg_kind *kind,
			  const size_t *fields, char *const *values, size_t n,
			  const size_t *rels, char *const *ids, size_t nl,
			  struct tg_result *out)
{
	struct tg_op op = { .entity = kind->dir };
	struct tg_vars vars = { 0 };
	struct buf call = { 0 };
	char *quoted[TG_MAX_VALUES] = { 0 };
	enum tg_err err = TG_EINVAL;

	memset(out, 0, sizeof(*out));
	if (!kind->draft || n + nl > TG_MAX_VALUES)
		return TG_EINVAL;
	if (!buf_addf(&call, "%s(", kind->draft->mutation))
		return TG_ENOMEM;
	/* Each argument is named as the field's (or link's) update names
	 * it: resourceUpdate(id: $id, address: $v) -> address: $vN. */
	for (size_t i = 0; i < n + nl; i++) {
		const struct tg_op *set = i < n ? kind->fields[fields[i]].set
						: kind->rels[rels[i - n]].add;
		char mut[64], arg[64];

		if (!set || !split_call(set->call, i < n ? "$v" : "$t", mut,
					sizeof(mut), arg, sizeof(arg)))
			goto out;
		if (i >= n) {
			cJSON *s = cJSON_CreateString(ids[i - n]);

			quoted[i] = s ? cJSON_PrintUnformatted(s) : NULL;
			cJSON_Delete(s);
			if (!quoted[i]) {
				err = TG_ENOMEM;
				goto out;
			}
		}
		vars.vn_json[vars.nv] = i < n ? values[i] : quoted[i];
		vars.vn_type[vars.nv] = i < n ? set->vtype : "ID!";
		if (!buf_addf(&call, "%s%s: $v%zu", i ? ", " : "", arg,
			      vars.nv++)) {
			err = TG_ENOMEM;
			goto out;
		}
	}
	if (!buf_add(&call, ")", 1)) {
		err = TG_ENOMEM;
		goto out;
	}
	op.call = call.s;
	err = tg_api_mutate(api, &op, &vars, out);
out:
	for (size_t i = 0; i < TG_MAX_VALUES; i++)
		cJSON_free(quoted[i]);
	buf_release(&call);
	return err;
}

/* ---- a create whose answer was lost ---- */

/* Monotonic seconds. */
static double mono_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

bool tg_api_find_lost_create(struct tg_api *api, const struct tg_kind *kind,
			     const char *name, const char *parent_id,
			     double wait_s, struct tg_object *out)
{
	double deadline = mono_now() + wait_s, step = 0.25;

	for (;;) {
		struct tg_list found = { 0 };
		size_t hits = 0, at = 0;
		double left;

		/* A lookup that fails (retries included) says the API is
		 * not answering: asking again would only make the writer
		 * wait longer. */
		if (tg_api_lookup(api, kind, name, &found) != TG_OK)
			return false;
		for (size_t i = 0; i < found.n; i++) {
			const char *pid = found.items[i].parent_id;

			if (parent_id && (!pid || strcmp(pid, parent_id)))
				continue;
			hits++;
			at = i;
		}
		if (hits == 1) {
			*out = found.items[at];
			memset(&found.items[at], 0, sizeof(found.items[at]));
		}
		tg_list_release(&found);
		left = deadline - mono_now();
		if (hits || left <= 0)
			return hits == 1;
		step = step * 2 < left ? step * 2 : left;
		if (!api_sleep_until(mono_now() + step))
			return false; /* the caller is gone */
	}
}
