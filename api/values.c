/*
 * values.c - what users write to field files, parsed into the values the
 * API takes, before any request: a bad value fails with EINVAL and the
 * tenant never hears of it.
 *
 * The grammar of each field type is the one its file shows (object.c
 * renders, this parses back): booleans true/false, enums in either case,
 * trusted/untrusted, the three protocol lines, key=value tag lines.  One
 * trailing newline is allowed; any other line is an error.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* True when @s (@len bytes) is well-formed UTF-8 without NUL or other
 * control characters than tab and newline. */
static bool clean_utf8(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned c = s[i];
		size_t n;

		if (c < 0x80) {
			if (c == 0 || (c < 0x20 && c != '\t' && c != '\n') ||
			    c == 0x7f)
				return false;
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0 && c >= 0xc2)
			n = 1;
		else if ((c & 0xf0) == 0xe0)
			n = 2;
		else if ((c & 0xf8) == 0xf0 && c <= 0xf4)
			n = 3;
		else
			return false;
		for (size_t k = 1; k <= n; k++)
			if (i + k >= len || (s[i + k] & 0xc0) != 0x80)
				return false;
		/* No overlong three-byte forms or surrogates. */
		if (n == 2 && ((c == 0xe0 && s[i + 1] < 0xa0) ||
			       (c == 0xed && s[i + 1] >= 0xa0)))
			return false;
		if (n == 3 && ((c == 0xf0 && s[i + 1] < 0x90) ||
			       (c == 0xf4 && s[i + 1] >= 0x90)))
			return false;
		i += n + 1;
	}
	return true;
}

/* True when JSON text @s (@len bytes) has no \u0000 escape in a string:
 * cJSON would cut the string there and the cut value would be sent. */
static bool no_nul_escape(const char *s, size_t len)
{
	bool in_string = false;

	for (size_t i = 0; i < len; i++) {
		if (!in_string) {
			in_string = s[i] == '"';
		} else if (s[i] == '"') {
			in_string = false;
		} else if (s[i] == '\\' && i + 1 < len) {
			if (s[i + 1] == 'u' && i + 5 < len &&
			    strncmp(s + i + 2, "0000", 4) == 0)
				return false;
			i++;
		}
	}
	return true;
}

/* A copy of @s without surrounding blanks. */
static char *trimmed(const char *s, size_t len)
{
	char *out;

	while (len && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	out = malloc(len + 1);
	if (out) {
		memcpy(out, s, len);
		out[len] = '\0';
	}
	return out;
}

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

/* The three lines "icmp: ...", "tcp: ...", "udp: ...", in any order. */
static cJSON *protocols(char *text)
{
	cJSON *out = cJSON_CreateObject();
	bool icmp = false, tcp = false, udp = false;
	char *line, *save = NULL;

	if (!out)
		return NULL;
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':'), *key, *val;
		bool ok = false;

		if (!colon)
			goto bad;
		key = trimmed(line, (size_t)(colon - line));
		val = trimmed(colon + 1, strlen(colon + 1));
		if (key && val) {
			if (ieq(key, "icmp") && !icmp &&
			    (ieq(val, "allow") || ieq(val, "deny"))) {
				cJSON_AddBoolToObject(out, "allowIcmp",
						      ieq(val, "allow"));
				ok = icmp = true;
			} else if ((ieq(key, "tcp") && !tcp) ||
				   (ieq(key, "udp") && !udp)) {
				cJSON *p = protocol(val);

				if (p) {
					cJSON_AddItemToObject(
						out, ieq(key, "tcp") ? "tcp"
								     : "udp",
						p);
					*(ieq(key, "tcp") ? &tcp : &udp) = true;
					ok = true;
				}
			}
		}
		free(key);
		free(val);
		if (!ok)
			goto bad;
	}
	if (icmp && tcp && udp)
		return out;
bad:
	cJSON_Delete(out);
	return NULL;
}

/* "key=value" lines; none is an empty list. */
static cJSON *tags(char *text)
{
	cJSON *out = cJSON_CreateArray();
	char *line, *save = NULL;

	if (!out)
		return NULL;
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '='), *key;
		cJSON *t;

		if (!eq || eq == line)
			goto bad;
		key = trimmed(line, (size_t)(eq - line));
		t = cJSON_CreateObject();
		if (!key || !*key || !t) {
			free(key);
			cJSON_Delete(t);
			goto bad;
		}
		cJSON_AddStringToObject(t, "key", key);
		cJSON_AddStringToObject(t, "value", eq + 1);
		cJSON_AddItemToArray(out, t);
		free(key);
	}
	return out;
bad:
	cJSON_Delete(out);
	return NULL;
}

enum tg_err tg_value_parse(const struct tg_field *f, const char *text,
			   size_t len, char **json)
{
	enum tg_err err = TG_EINVAL;
	cJSON *v = NULL;
	char *body = NULL, *word = NULL;
	bool multi = f->type == TG_FT_PROTOCOLS || f->type == TG_FT_TAGS;

	*json = NULL;
	if (len > TG_FIELD_MAX)
		return TG_E2BIG;
	if (!clean_utf8((const unsigned char *)text, len))
		return TG_EINVAL;
	if (len && text[len - 1] == '\n')
		len--;
	if (!multi && memchr(text, '\n', len))
		return TG_EINVAL; /* one line, one value */
	body = malloc(len + 1);
	if (!body)
		return TG_ENOMEM;
	memcpy(body, text, len);
	body[len] = '\0';
	word = trimmed(body, len);
	if (!word) {
		err = TG_ENOMEM;
		goto out;
	}
	switch (f->type) {
	case TG_FT_STRING:
		if (f->required && !*word)
			goto out;
		if (strchr(body, '\t'))
			goto out;
		/* Empty clears the value, where the mutation takes null. */
		if (!*body && f->set && f->set->vtype &&
		    f->set->vtype[strlen(f->set->vtype) - 1] == '!')
			goto out;
		v = *body ? cJSON_CreateString(body) : cJSON_CreateNull();
		break;
	case TG_FT_BOOL:
		if (ieq(word, "true") || ieq(word, "false"))
			v = cJSON_CreateBool(ieq(word, "true"));
		break;
	case TG_FT_TRUST:
		if (ieq(word, "trusted") || ieq(word, "untrusted"))
			v = cJSON_CreateBool(ieq(word, "trusted"));
		break;
	case TG_FT_ENUM:
		for (const char *const *e = f->values; e && *e; e++)
			if (ieq(word, *e))
				v = cJSON_CreateString(*e);
		break;
	case TG_FT_INT: {
		char *end;
		long n = strtol(word, &end, 10);

		if (*word && !*end)
			v = cJSON_CreateNumber((double)n);
		break;
	}
	case TG_FT_PROTOCOLS:
		v = protocols(body);
		break;
	case TG_FT_TAGS:
		v = tags(body);
		break;
	case TG_FT_SECRET:
		err = TG_OK; /* any write: no value */
		goto out;
	case TG_FT_TIME:
	case TG_FT_LIST:
		break;
	}
	if (!v)
		goto out;
	*json = cJSON_PrintUnformatted(v);
	err = *json ? TG_OK : TG_ENOMEM;
out:
	cJSON_Delete(v);
	free(body);
	free(word);
	return err;
}

enum tg_err tg_json_diff(const struct tg_object *obj, const char *text,
			 size_t len, size_t **changed, char ***values,
			 size_t *n)
{
	const struct tg_kind *k = obj->kind;
	cJSON *old = NULL, *new = NULL, *item;
	enum tg_err err = TG_EINVAL;
	const char *end = NULL, *shown;
	char *shown_buf = NULL;
	bool same;

	*changed = NULL;
	*values = NULL;
	*n = 0;
	if (len > TG_JSON_MAX)
		return TG_E2BIG;
	/* Saved as shown: nothing to send (whatever bytes the API gave). */
	shown = tg_object_json(obj, &shown_buf);
	if (!shown)
		return TG_ENOMEM;
	same = len == strlen(shown) && memcmp(text, shown, len) == 0;
	free(shown_buf);
	if (same) {
		*changed = calloc(1, sizeof(**changed));
		*values = calloc(1, sizeof(**values));
		if (*changed && *values)
			return TG_OK;
		free(*changed);
		free(*values);
		*changed = NULL;
		*values = NULL;
		return TG_ENOMEM;
	}
	/* Strict: one object and nothing after it, no control bytes but
	 * JSON's blanks, no NUL (cJSON takes any byte up to 0x20 for white
	 * space, stops at the end of the first value, and cuts a string at
	 * \u0000).  Changed values are checked (UTF-8 too) as a field's. */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
			return TG_EINVAL;
	}
	if (!no_nul_escape(text, len))
		return TG_EINVAL;
	new = cJSON_ParseWithLengthOpts(text, len, &end, false);
	for (const char *p = end; new && p < text + len; p++)
		if (!strchr(" \t\n\r", *p))
			goto out;
	old = object_node(obj);
	if (!cJSON_IsObject(new) || !old)
		goto out;
	*changed = calloc(k->nfields + 1, sizeof(**changed));
	*values = calloc(k->nfields + 1, sizeof(**values));
	if (!*changed || !*values) {
		err = TG_ENOMEM;
		goto out;
	}
	/* Keys no field shows (ids, relations, lists) must stay as they
	 * are; a key left out counts as unchanged. */
	cJSON_ArrayForEach(item, new) {
		bool is_field = false;

		for (size_t i = 0; i < k->nfields && !is_field; i++) {
			const char *p = k->fields[i].path;
			size_t kl = strlen(item->string);

			is_field = p && strncmp(p, item->string, kl) == 0 &&
				   (p[kl] == '\0' || p[kl] == '.');
		}
		if (!is_field &&
		    !cJSON_Compare(item, json_at(old, item->string), true)) {
			err = TG_EPERM;
			goto out;
		}
	}
	for (size_t i = 0; i < k->nfields; i++) {
		const struct tg_field *f = &k->fields[i];
		const cJSON *nv, *ov;
		char *shown = NULL;

		if (!f->path)
			continue;
		nv = json_at(new, f->path);
		ov = json_at(old, f->path);
		if (!nv || cJSON_Compare(nv, ov, true))
			continue;
		if (!f->writable || (!f->set && !f->ntrans)) {
			err = TG_EPERM;
			goto out;
		}
		/* The value through the file's own grammar: the same
		 * checks as `echo`. */
		if (!render_value(f, nv, &shown)) {
			err = TG_EINVAL;
			goto out;
		}
		err = tg_value_parse(f, shown ? shown : "",
				     shown ? strlen(shown) : 0,
				     &(*values)[*n]);
		free(shown);
		if (err != TG_OK)
			goto out;
		(*changed)[(*n)++] = i;
	}
	err = TG_OK;
out:
	if (err != TG_OK && *values) {
		for (size_t i = 0; i < *n; i++)
			free((*values)[i]);
		free(*values);
		free(*changed);
		*values = NULL;
		*changed = NULL;
		*n = 0;
	}
	cJSON_Delete(old);
	cJSON_Delete(new);
	return err;
}
