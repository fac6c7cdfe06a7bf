/*
 * fuzz_values.c - what users write to field files (tg_value_parse,
 * api/values.c), for every writable field of every kind: names and other
 * strings, enums, booleans, trust, protocols, tags, the token files; plus
 * synthetic fields for the types no row makes writable (int, time, list).
 *
 * Input: "<kind dir>/<file>\n" then the text written (or: a first byte
 * picking the field, then the text).  The text is handed over in an
 * exact-size buffer without a NUL, as write() gives it.  Checked:
 *   - a failure leaves *json NULL; an accepted value is valid JSON;
 *   - what is accepted is stable through the file's own grammar: the
 *     value rendered as its file shows it (render_value, fieldtypes.c) parses
 *     back to the same value (cJSON_Compare).  So `cat f > f` after a
 *     write changes nothing.
 */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../api/internal.h"
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct slot {
	const struct tg_kind *kind; /* NULL: synthetic */
	const struct tg_field *f;
	char name[96];
};

static const struct tg_field synthetic[] = {
	{ "count", "count", TG_FT_INT, true },
	{ "when", "when", TG_FT_TIME, true },
	{ "items", "items", TG_FT_LIST, true },
	{ "note", "note", TG_FT_STRING, true },
};

static struct slot *slots;
static size_t nslots;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t cap = sizeof(synthetic) / sizeof(synthetic[0]);

	(void)argc;
	(void)argv;
	tg_log_set_level(TG_LOG_ERR);
	for (size_t i = 0; i < tg_nkinds; i++)
		cap += tg_kinds[i]->nfields;
	slots = calloc(cap, sizeof(*slots));
	FZ_CHECK(slots, "oom");
	for (size_t i = 0; i < tg_nkinds; i++)
		for (size_t j = 0; j < tg_kinds[i]->nfields; j++) {
			const struct tg_field *f = &tg_kinds[i]->fields[j];

			if (!f->writable)
				continue;
			slots[nslots].kind = tg_kinds[i];
			slots[nslots].f = f;
			snprintf(slots[nslots].name, sizeof(slots[0].name),
				 "%s/%s", tg_kinds[i]->dir, f->file);
			nslots++;
		}
	for (size_t i = 0; i < sizeof(synthetic) / sizeof(synthetic[0]); i++) {
		slots[nslots].f = &synthetic[i];
		snprintf(slots[nslots].name, sizeof(slots[0].name), "test/%s",
			 synthetic[i].file);
		nslots++;
	}
	return 0;
}

static const struct slot *pick(const uint8_t **data, size_t *size)
{
	const char *w = fz_first_line(data, size, 95);

	if (w)
		for (size_t i = 0; i < nslots; i++)
			if (!strcmp(slots[i].name, w)) {
				*data += strlen(w) + 1;
				*size -= strlen(w) + 1;
				return &slots[i];
			}
	if (!*size)
		return NULL;
	(*data)++;
	(*size)--;
	return &slots[(*data)[-1] % nslots];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct slot *s = pick(&data, &size);
	char *text, *json = NULL, *again = NULL, *shown = NULL;
	cJSON *v;
	enum tg_err err;

	if (!s)
		return 0;
	text = fz_memdup(data, size);
	err = tg_value_parse(s->f, text, size, &json);
	free(text);
	if (err != TG_OK) {
		FZ_CHECK(!json, "%s: error %d with a value", s->name, err);
		return 0;
	}
	if (s->f->type == TG_FT_SECRET) {
		free(json);
		return 0;
	}
	FZ_CHECK(json, "%s: accepted without a value", s->name);
	v = cJSON_Parse(json);
	FZ_CHECK(v, "%s: accepted value is not JSON: %s", s->name, json);

	/* As the file shows it, then written back. */
	FZ_CHECK(render_value(s->f, v, &shown),
		 "%s: accepted value %s does not render", s->name, json);
	err = tg_value_parse(s->f, shown ? shown : "",
			     shown ? strlen(shown) : 0, &again);
	{
		cJSON *w = again ? cJSON_Parse(again) : NULL;

		/* The same value; keys may come in another order (the
		 * protocol lines may be written in any). */
		FZ_CHECK(err == TG_OK && w && cJSON_Compare(v, w, true),
			 "%s: %s shows as '%s', which parses to %s (err %d)",
			 s->name, json, shown ? shown : "",
			 again ? again : "(none)", err);
		cJSON_Delete(w);
	}
	cJSON_Delete(v);
	free(shown);
	free(again);
	free(json);
	return 0;
}
