/*
 * fieldtypes.c - what each type of field file is, as data: the table of
 * field types, one row per enum tg_ftype (as kinds.c is one row per kind),
 * with its callbacks and flags in the manner of redis's dictType.
 *
 * A row says how a JSON value of the API becomes the text its file shows
 * (render: booleans true/false, enums in lower case, times as RFC 3339
 * UTC, lists one item a line, each value with one trailing newline), how
 * what a user writes becomes the API's value again (parse, the same
 * grammar read back; values.c does the checks every type shares), whether
 * the file holds several lines, and whether it is a secret the mount holds
 * rather than a value of the API's objects.  Nothing else in api/ or fs/
 * looks at a field's type: they ask this table.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

/* ------------------------------------------------------------------ */
/* Rendering: the API's value as its file shows it                     */
/* ------------------------------------------------------------------ */

/* "text" + '\n' in a new string. */
static char *line_of(const char *text)
{
	size_t n = strlen(text);
	char *s = malloc(n + 2);

	if (!s)
		return NULL;
	memcpy(s, text, n);
	s[n] = '\n';
	s[n + 1] = '\0';
	return s;
}

/* "tcp: allow-all", "tcp: deny-all" or "tcp: 22,443,8000-8080". */
static bool render_protocol(const char *name, const cJSON *p, struct buf *b)
{
	const cJSON *policy = json_at(p, "policy"), *ports = json_at(p, "ports");
	const cJSON *r;
	bool first = true;

	if (!cJSON_IsString(policy) || !buf_addf(b, "%s: ", name))
		return false;
	if (strcmp(policy->valuestring, "ALLOW_ALL") == 0)
		return buf_add(b, "allow-all\n", 10);
	if (strcmp(policy->valuestring, "RESTRICTED") != 0)
		return false;
	if (!cJSON_IsArray(ports))
		return false;
	if (!cJSON_GetArraySize(ports))
		return buf_add(b, "deny-all\n", 9);
	cJSON_ArrayForEach(r, ports) {
		const cJSON *lo = json_at(r, "start"), *hi = json_at(r, "end");

		if (!cJSON_IsNumber(lo) || !cJSON_IsNumber(hi))
			return false;
		if (!buf_addf(b, "%s%d", first ? "" : ",", lo->valueint))
			return false;
		if (hi->valueint != lo->valueint &&
		    !buf_addf(b, "-%d", hi->valueint))
			return false;
		first = false;
	}
	return buf_add(b, "\n", 1);
}

static bool render_protocols(const cJSON *v, char **out)
{
	const cJSON *icmp = json_at(v, "allowIcmp");
	struct buf b = { 0 };

	if (!cJSON_IsBool(icmp) ||
	    !buf_addf(&b, "icmp: %s\n", cJSON_IsTrue(icmp) ? "allow" : "deny") ||
	    !render_protocol("tcp", json_at(v, "tcp"), &b) ||
	    !render_protocol("udp", json_at(v, "udp"), &b)) {
		buf_release(&b);
		return false;
	}
	*out = b.s;
	return true;
}

/* One "key=value" line per tag; an empty file for none. */
static bool render_tags(const cJSON *v, char **out)
{
	struct buf b = { 0 };
	const cJSON *t;

	if (!cJSON_IsArray(v))
		return false;
	cJSON_ArrayForEach(t, v) {
		const cJSON *k = json_at(t, "key"), *val = json_at(t, "value");

		if (!cJSON_IsString(k) || !cJSON_IsString(val) ||
		    !buf_addf(&b, "%s=%s\n", k->valuestring,
			      val->valuestring)) {
			buf_release(&b);
			return false;
		}
	}
	*out = b.s ? b.s : strdup("");
	return *out != NULL;
}

static bool render_string(const cJSON *v, char **out)
{
	if (!cJSON_IsString(v))
		return false;
	*out = line_of(v->valuestring);
	return *out != NULL;
}

/* The API's value in lower case. */
static bool render_enum(const cJSON *v, char **out)
{
	char *s;

	if (!cJSON_IsString(v))
		return false;
	s = line_of(v->valuestring);
	for (char *c = s; c && *c; c++)
		*c = (char)tolower((unsigned char)*c);
	*out = s;
	return *out != NULL;
}

/* A boolean as one of two words. */
static bool render_words(const cJSON *v, const char *yes, const char *no,
			 char **out)
{
	if (!cJSON_IsBool(v))
		return false;
	*out = line_of(cJSON_IsTrue(v) ? yes : no);
	return *out != NULL;
}

static bool render_bool(const cJSON *v, char **out)
{
	return render_words(v, "true", "false", out);
}

static bool render_trust(const cJSON *v, char **out)
{
	return render_words(v, "trusted", "untrusted", out);
}

static bool render_time(const cJSON *v, char **out)
{
	char buf[96];

	if (!cJSON_IsString(v) ||
	    !tg_time_render(v->valuestring, buf, sizeof(buf)))
		return false;
	*out = line_of(buf);
	return *out != NULL;
}

static bool render_int(const cJSON *v, char **out)
{
	char buf[96];

	if (!cJSON_IsNumber(v))
		return false;
	snprintf(buf, sizeof(buf), "%.0f", v->valuedouble);
	*out = line_of(buf);
	return *out != NULL;
}

/* One string a line. */
static bool render_list(const cJSON *v, char **out)
{
	const cJSON *it;
	size_t len = 0;
	char *s, *p;

	if (!cJSON_IsArray(v))
		return false;
	cJSON_ArrayForEach(it, v) {
		if (!cJSON_IsString(it))
			return false;
		len += strlen(it->valuestring) + 1;
	}
	s = malloc(len + 1);
	if (!s)
		return false;
	p = s;
	cJSON_ArrayForEach(it, v) {
		size_t n = strlen(it->valuestring);

		memcpy(p, it->valuestring, n);
		p += n;
		*p++ = '\n';
	}
	*p = '\0';
	*out = s;
	return true;
}

/* A secret is in no node: its file is empty until the mount holds one. */
static bool render_none(const cJSON *v, char **out)
{
	(void)v;
	(void)out;
	return true;
}

/* ------------------------------------------------------------------ */
/* Parsing: what a user wrote as the API's value                       */
/* ------------------------------------------------------------------ */

static bool ieq(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

/* "22", "8000-8080" into a port range; false out of 1..65535. */
static bool port_range(const char *s, long *lo, long *hi)
{
	char *end;

	*lo = strtol(s, &end, 10);
	if (end == s || !isdigit((unsigned char)*s))
		return false;
	if (*end == '-') {
		const char *p = end + 1;

		if (!isdigit((unsigned char)*p))
			return false;
		*hi = strtol(p, &end, 10);
	} else {
		*hi = *lo;
	}
	return *end == '\0' && *lo >= 1 && *hi <= 65535 && *lo <= *hi;
}

/* "allow-all", "deny-all" or "22,443,8000-8080" into a ProtocolInput. */
static cJSON *protocol(const char *v)
{
	cJSON *p = cJSON_CreateObject(), *ports;
	char *copy, *tok, *save = NULL;

	if (!p)
		return NULL;
	ports = cJSON_CreateArray();
	if (!ports) {
		cJSON_Delete(p);
		return NULL;
	}
	if (ieq(v, "allow-all") || ieq(v, "deny-all")) {
		cJSON_AddStringToObject(p, "policy",
					ieq(v, "allow-all") ? "ALLOW_ALL"
							    : "RESTRICTED");
		cJSON_AddItemToObject(p, "ports", ports);
		return p;
	}
	cJSON_AddStringToObject(p, "policy", "RESTRICTED");
	cJSON_AddItemToObject(p, "ports", ports);
	copy = strdup(v);
	if (!copy || !*copy) {
		free(copy);
		cJSON_Delete(p);
		return NULL;
	}
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *t = trimmed(tok, strlen(tok));
		long lo, hi;
		cJSON *r;

		if (!t || !port_range(t, &lo, &hi) ||
		    !(r = cJSON_CreateObject())) {
			free(t);
			free(copy);
			cJSON_Delete(p);
			return NULL;
		}
		free(t);
		cJSON_AddNumberToObject(r, "start", (double)lo);
		cJSON_AddNumberToObject(r, "end", (double)hi);
		cJSON_AddItemToArray(ports, r);
	}
	free(copy);
	return p;
}

/* Calls @one(@ctx, line) for each line of @text (cut up in place):
 * false at the first line it refuses. */
static bool each_line(char *text, bool (*one)(void *ctx, char *line),
		      void *ctx)
{
	char *line, *save = NULL;

	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (!one(ctx, line))
			return false;
	return true;
}

/* The protocols read so far, into out. */
struct protocols {
	cJSON *out;
	bool icmp, tcp, udp;
};

/*
 * A second line of one protocol adds to the first (`>>` adds ports): the
 * union of what each allows, allow-all being all ports and deny-all none.
 * @into gets what @more allows; ranges already there are not repeated.
 */
static bool protocol_merge(cJSON *into, const cJSON *more)
{
	const cJSON *mp = cJSON_GetObjectItem(more, "policy");
	cJSON *ip = cJSON_GetObjectItem(into, "policy");
	cJSON *ports = cJSON_GetObjectItem(into, "ports"), *r;

	if (!cJSON_IsString(ip) || !cJSON_IsString(mp) || !ports)
		return false;
	if (strcmp(ip->valuestring, "ALLOW_ALL") == 0)
		return true;
	if (strcmp(mp->valuestring, "ALLOW_ALL") == 0)
		return cJSON_ReplaceItemInObject(into, "policy",
						 cJSON_CreateString("ALLOW_ALL")) &&
		       cJSON_ReplaceItemInObject(into, "ports",
						 cJSON_CreateArray());
	cJSON_ArrayForEach(r, cJSON_GetObjectItem(more, "ports")) {
		const cJSON *have;
		bool dup = false;
		cJSON *copy;

		cJSON_ArrayForEach(have, ports)
			dup = dup || cJSON_Compare(have, r, true);
		if (dup)
			continue;
		copy = cJSON_Duplicate(r, true);
		if (!copy || !cJSON_AddItemToArray(ports, copy)) {
			cJSON_Delete(copy);
			return false;
		}
	}
	return true;
}

/* One of the lines "icmp: ..." (once), "tcp: ...", "udp: ..." (a second
 * line of a protocol adds to the first). */
static bool protocol_line(void *ctx, char *line)
{
	struct protocols *ps = ctx;
	char *colon = strchr(line, ':'), *key, *val;
	bool ok = false;

	if (!colon)
		return false;
	key = trimmed(line, (size_t)(colon - line));
	val = trimmed(colon + 1, strlen(colon + 1));
	if (key && val) {
		if (ieq(key, "icmp") && !ps->icmp &&
		    (ieq(val, "allow") || ieq(val, "deny"))) {
			cJSON_AddBoolToObject(ps->out, "allowIcmp",
					      ieq(val, "allow"));
			ok = ps->icmp = true;
		} else if (ieq(key, "tcp") || ieq(key, "udp")) {
			cJSON *p = protocol(val);
			bool tcp = ieq(key, "tcp");
			const char *name = tcp ? "tcp" : "udp";

			if (p && *(tcp ? &ps->tcp : &ps->udp)) {
				ok = protocol_merge(
					cJSON_GetObjectItem(ps->out, name), p);
				cJSON_Delete(p);
			} else if (p) {
				cJSON_AddItemToObject(ps->out, name, p);
				*(tcp ? &ps->tcp : &ps->udp) = true;
				ok = true;
			}
		}
	}
	free(key);
	free(val);
	return ok;
}

/* The three lines "icmp: ...", "tcp: ...", "udp: ...", in any order; more
 * tcp: and udp: lines add ports. */
static cJSON *parse_protocols(const struct tg_field *f, char *text,
			      const char *word)
{
	struct protocols ps = { .out = cJSON_CreateObject() };

	(void)f;
	(void)word;
	if (ps.out && each_line(text, protocol_line, &ps) && ps.icmp &&
	    ps.tcp && ps.udp)
		return ps.out;
	cJSON_Delete(ps.out);
	return NULL;
}

/* One "key=value" line, appended to the array @ctx. */
static bool tag_line(void *ctx, char *line)
{
	char *eq = strchr(line, '='), *key;
	cJSON *t;

	if (!eq || eq == line)
		return false;
	key = trimmed(line, (size_t)(eq - line));
	t = cJSON_CreateObject();
	if (!key || !*key || !t) {
		free(key);
		cJSON_Delete(t);
		return false;
	}
	cJSON_AddStringToObject(t, "key", key);
	cJSON_AddStringToObject(t, "value", eq + 1);
	cJSON_AddItemToArray(ctx, t);
	free(key);
	return true;
}

/* "key=value" lines; none is an empty list. */
static cJSON *parse_tags(const struct tg_field *f, char *text,
			 const char *word)
{
	cJSON *out = cJSON_CreateArray();

	(void)f;
	(void)word;
	if (out && each_line(text, tag_line, out))
		return out;
	cJSON_Delete(out);
	return NULL;
}

/* Whether @f's mutation takes null (its $v type has no '!'). */
static bool nullable(const struct tg_field *f)
{
	return !f->required && f->set && f->set->vtype &&
	       f->set->vtype[strlen(f->set->vtype) - 1] != '!';
}

/* The text as written; empty is null, where the mutation takes null. */
static cJSON *parse_string(const struct tg_field *f, char *body,
			   const char *word)
{
	if (f->required && !*word)
		return NULL;
	if (strchr(body, '\t'))
		return NULL;
	/* Empty clears the value, where the mutation takes null. */
	if (!*body && f->set && f->set->vtype &&
	    f->set->vtype[strlen(f->set->vtype) - 1] == '!')
		return NULL;
	return *body ? cJSON_CreateString(body) : cJSON_CreateNull();
}

/* A boolean as one of two words, in either case. */
static cJSON *parse_words(const char *word, const char *yes, const char *no)
{
	if (ieq(word, yes) || ieq(word, no))
		return cJSON_CreateBool(ieq(word, yes));
	return NULL;
}

static cJSON *parse_bool(const struct tg_field *f, char *body,
			 const char *word)
{
	(void)f;
	(void)body;
	return parse_words(word, "true", "false");
}

static cJSON *parse_trust(const struct tg_field *f, char *body,
			  const char *word)
{
	(void)f;
	(void)body;
	return parse_words(word, "trusted", "untrusted");
}

/* One of the field's values, in either case, as the API spells it. */
static cJSON *parse_enum(const struct tg_field *f, char *body,
			 const char *word)
{
	const char *hit = NULL;

	(void)body;
	if (!*word && nullable(f))
		return cJSON_CreateNull();
	for (const char *const *e = f->values; e && *e; e++)
		if (ieq(word, *e))
			hit = *e;
	return hit ? cJSON_CreateString(hit) : NULL;
}

static cJSON *parse_int(const struct tg_field *f, char *body,
			const char *word)
{
	char *end;
	long n = strtol(word, &end, 10);

	(void)body;
	if (!*word && nullable(f))
		return cJSON_CreateNull();
	return *word && !*end ? cJSON_CreateNumber((double)n) : NULL;
}

/* ------------------------------------------------------------------ */
/* Resource types and access policies (the 2026 revision)              */
/* ------------------------------------------------------------------ */

/* "KubernetesResource" -> "kubernetes" (its variant's word), or the
 * type name in lower case for a type the table does not know. */
static bool render_variant(const cJSON *v, char **out)
{
	const struct tg_variant *var;

	if (!cJSON_IsString(v))
		return false;
	var = tg_variant_named(v->valuestring);
	if (var) {
		*out = line_of(var->shown);
		return *out != NULL;
	}
	return render_enum(v, out);
}

/* {mode, durationSeconds} -> "mode: auto_lock\nduration: 604800\n"
 * (duration empty when null). */
static bool render_access_policy(const cJSON *v, char **out)
{
	const cJSON *mode = cJSON_GetObjectItemCaseSensitive(v, "mode");
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(v,
							  "durationSeconds");
	struct buf b = { 0 };

	if (!cJSON_IsObject(v) || !cJSON_IsString(mode) ||
	    (d && !cJSON_IsNull(d) && !cJSON_IsNumber(d)))
		return false;
	if (!buf_add(&b, "mode: ", 6))
		return false;
	for (const char *c = mode->valuestring; *c; c++) {
		char l = (char)tolower((unsigned char)*c);

		if (!buf_add(&b, &l, 1))
			goto bad;
	}
	if (cJSON_IsNumber(d) ? !buf_addf(&b, "\nduration: %.0f\n",
					  d->valuedouble)
			      : !buf_addf(&b, "\nduration:\n"))
		goto bad;
	*out = b.s;
	return true;
bad:
	buf_release(&b);
	return false;
}

/* An RFC 3339 time, sent as written once it reads as one (in UTC, as
 * the file shows it); empty is null where the mutation takes it. */
static cJSON *parse_deadline(const struct tg_field *f, char *body,
			     const char *word)
{
	char buf[96];

	(void)body;
	if (!*word)
		return nullable(f) ? cJSON_CreateNull() : NULL;
	if (!tg_time_render(word, buf, sizeof(buf)))
		return NULL;
	return cJSON_CreateString(buf);
}

static const char *const policy_modes[] = { "MANUAL", "AUTO_LOCK",
					    "ACCESS_REQUEST", NULL };

/* One "mode: X" or "duration: N" line into the object @ctx. */
static bool policy_line(void *ctx, char *line)
{
	cJSON *out = ctx;
	char *colon = strchr(line, ':'), *key, *val;
	bool ok = false;

	if (!colon)
		return false;
	*colon = '\0';
	key = trimmed(line, strlen(line));
	val = trimmed(colon + 1, strlen(colon + 1));
	if (key && val && ieq(key, "mode")) {
		for (const char *const *m = policy_modes; *m && !ok; m++)
			if (ieq(val, *m)) {
				cJSON_DeleteItemFromObject(out, "mode");
				ok = cJSON_AddStringToObject(out, "mode", *m);
			}
	} else if (key && val && ieq(key, "duration")) {
		char *end;
		long n = strtol(val, &end, 10);

		cJSON_DeleteItemFromObject(out, "durationSeconds");
		if (!*val)
			ok = cJSON_AddNullToObject(out, "durationSeconds");
		else if (!*end && n >= 0 && n <= 0x7fffffffL)
			ok = cJSON_AddNumberToObject(out, "durationSeconds",
						     (double)n) != NULL;
	}
	free(key);
	free(val);
	return ok;
}

/* "mode: ..." and an optional "duration: ..." line, in any order (a
 * later line of either replaces the earlier); empty is null. */
static cJSON *parse_access_policy(const struct tg_field *f, char *text,
				  const char *word)
{
	cJSON *out;

	(void)f;
	if (!*word)
		return cJSON_CreateNull();
	out = cJSON_CreateObject();
	if (out && each_line(text, policy_line, out) &&
	    cJSON_GetObjectItemCaseSensitive(out, "mode"))
		return out;
	cJSON_Delete(out);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The table                                                           */
/* ------------------------------------------------------------------ */

/*
 * The columns: render, parse, multiline, secret (struct field_type in
 * internal.h says what each means).
 *
 * Times and lists are the API's alone (no parse: writing them is EINVAL).
 * A secret is in no node (its file is empty until the mount holds one)
 * and takes any write, which makes a new one (values.c).  Protocols and
 * tags are the files of several lines: appending to them adds a line,
 * where appending to any other is refused (EINVAL).
 */
static const struct field_type types[TG_FT_COUNT] = {
	[TG_FT_STRING]    = { render_string,    parse_string,    false, false },
	[TG_FT_BOOL]      = { render_bool,      parse_bool,      false, false },
	[TG_FT_ENUM]      = { render_enum,      parse_enum,      false, false },
	[TG_FT_TIME]      = { render_time,      NULL,            false, false },
	[TG_FT_INT]       = { render_int,       parse_int,       false, false },
	[TG_FT_LIST]      = { render_list,      NULL,            false, false },
	[TG_FT_PROTOCOLS] = { render_protocols, parse_protocols, true,  false },
	[TG_FT_TAGS]      = { render_tags,      parse_tags,      true,  false },
	[TG_FT_TRUST]     = { render_trust,     parse_trust,     false, false },
	[TG_FT_SECRET]    = { render_none,      NULL,            false, true  },
	[TG_FT_VARIANT]   = { render_variant,   NULL,            false, false },
	[TG_FT_ACCESS_POLICY] = { render_access_policy, parse_access_policy,
				  true, false },
	[TG_FT_DEADLINE]  = { render_time,      parse_deadline,  false, false },
};

const struct field_type *field_type(enum tg_ftype type)
{
	static const struct field_type none = { 0 };

	return (unsigned)type < TG_FT_COUNT ? &types[type] : &none;
}

bool render_value(const struct tg_field *f, const cJSON *v, char **out)
{
	const struct field_type *t = field_type(f->type);

	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return true;
	return t->render && t->render(v, out);
}

bool tg_field_multiline(const struct tg_field *f)
{
	return field_type(f->type)->multiline;
}

bool tg_field_secret(const struct tg_field *f)
{
	return field_type(f->type)->secret;
}
