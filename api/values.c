/*
 * values.c - what users write to field files and to object.json, parsed
 * into the values the API takes, before any request: a bad value fails
 * with EINVAL and the tenant never hears of it.
 *
 * The checks every field shares are here (size, UTF-8 without control
 * bytes, one trailing newline allowed and no other line but in the
 * multi-line types); the grammar of each field type, the one its file
 * shows, is its row's parse in the field-type table (fieldtypes.c):
 * booleans true/false, enums in either case, trusted/untrusted, the three
 * protocol lines, key=value tag lines.  An edit of object.json is checked
 * field by field through the same grammar (tg_json_diff).
 */
#include <ctype.h>
#include <stdio.h>
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

char *trimmed(const char *s, size_t len)
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

/* Why @word (trimmed, @body as written) is not a value of field @f, in
 * plain words, as this thread's message; nothing when out of memory. */
static void say_why(const struct tg_field *f, const char *body,
		    const char *word)
{
	struct buf b = { 0 };

	if (!field_type(f->type)->parse) {
		api_set_message("the API sets this field: it cannot be written");
		return;
	}
	if (!*word && f->type != TG_FT_PROTOCOLS) {
		api_set_message("empty, and this field cannot be null");
		return;
	}
	switch (f->type) {
	case TG_FT_STRING:
		api_set_message(strchr(body, '\t') ? "a tab in the value"
						    : "not a value this file takes");
		return;
	case TG_FT_BOOL:
		api_set_message("not true or false");
		return;
	case TG_FT_TRUST:
		api_set_message("not trusted or untrusted");
		return;
	case TG_FT_INT:
		api_set_message("not a whole number");
		return;
	case TG_FT_PROTOCOLS:
		api_set_message("not the lines icmp: allow|deny, tcp: and udp: "
				"allow-all|deny-all|PORTS (ports 1-65535, "
				"icmp once)");
		return;
	case TG_FT_TAGS:
		api_set_message("not key=value lines");
		return;
	case TG_FT_DEADLINE:
		api_set_message("not an RFC 3339 time "
				"(2026-12-31T00:00:00Z)");
		return;
	case TG_FT_ACCESS_POLICY:
		api_set_message("not the lines mode: manual|auto_lock|"
				"access_request and duration: SECONDS");
		return;
	case TG_FT_ENUM:
		if (!buf_addf(&b, "not one of:"))
			break;
		for (const char *const *e = f->values; e && *e; e++) {
			if (!buf_addf(&b, " %s", *e))
				break;
		}
		for (char *c = b.s; c && *c; c++)
			*c = (char)tolower((unsigned char)*c);
		if (b.s)
			api_set_message(b.s);
		buf_release(&b);
		return;
	default:
		break;
	}
	api_set_message("not a value this file takes");
}

enum tg_err tg_value_parse(const struct tg_field *f, const char *text,
			   size_t len, char **json)
{
	enum tg_err err = TG_EINVAL;
	cJSON *v = NULL;
	char *body = NULL, *word = NULL;
	const struct field_type *t = field_type(f->type);

	*json = NULL;
	/* A refusal says why, in this thread's message; a value leaves it
	 * empty (no older request's words on a refusal of ours). */
	api_set_message("");
	if (len > TG_FIELD_MAX) {
		api_set_message("longer than a field file may be (4096 bytes)");
		return TG_E2BIG;
	}
	if (!clean_utf8((const unsigned char *)text, len)) {
		api_set_message("not UTF-8 text, or a control character in it");
		return TG_EINVAL;
	}
	if (len && text[len - 1] == '\n')
		len--;
	if (!t->multiline && memchr(text, '\n', len)) {
		api_set_message("two lines in a one-line field");
		return TG_EINVAL; /* one line, one value */
	}
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
	/* A secret takes any write, which makes a new one: no value. */
	if (t->secret) {
		err = TG_OK;
		goto out;
	}
	if (t->parse)
		v = t->parse(f, body, word);
	if (!v) {
		say_why(f, body, word);
		goto out;
	}
	*json = cJSON_PrintUnformatted(v);
	err = *json ? TG_OK : TG_ENOMEM;
out:
	cJSON_Delete(v);
	free(body);
	free(word);
	return err;
}

/* "KEY WHY" as this thread's message. */
static void say_key(const char *key, const char *why)
{
	char msg[1024];

	snprintf(msg, sizeof(msg), "%.300s %.600s", key, why);
	api_set_message(msg);
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
	api_set_message("");
	if (len > TG_JSON_MAX) {
		api_set_message("longer than object.json may be (256 KiB)");
		return TG_E2BIG;
	}
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

		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
			api_set_message("a control character in the JSON");
			return TG_EINVAL;
		}
	}
	if (!no_nul_escape(text, len)) {
		api_set_message("a \\u0000 in a JSON string");
		return TG_EINVAL;
	}
	api_set_message("not one JSON object");
	new = cJSON_ParseWithLengthOpts(text, len, &end, false);
	for (const char *p = end; new && p < text + len; p++)
		if (!strchr(" \t\n\r", *p))
			goto out;
	old = object_node(obj);
	if (!cJSON_IsObject(new) || !old)
		goto out;
	api_set_message("");
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
			say_key(item->string, "is the API's: it cannot change");
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
			say_key(f->path, "is read-only: it cannot change");
			err = TG_EPERM;
			goto out;
		}
		/* The value through the file's own grammar: the same
		 * checks as `echo`. */
		if (!render_value(f, nv, &shown)) {
			say_key(f->path, "is not of the type the API gives");
			err = TG_EINVAL;
			goto out;
		}
		err = tg_value_parse(f, shown ? shown : "",
				     shown ? strlen(shown) : 0,
				     &(*values)[*n]);
		free(shown);
		if (err != TG_OK) {
			char why[512];

			snprintf(why, sizeof(why), "%.500s",
				 tg_api_last_message());
			say_key(f->path, why);
			goto out;
		}
		(*changed)[(*n)++] = i;
	}
	err = TG_OK;
out:
	if (err != TG_OK) {
		for (size_t i = 0; *values && i < *n; i++)
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
