/*
 * fuzz_common.h - helpers shared by the libFuzzer targets in tests/fuzz/.
 *
 * Inputs that pick a kind (or a field) say it by name on a first line
 * ("resources\n{...}", "resources/protocols\ntcp: 22\n"), so the seeds are
 * readable and stay valid when rows are added to the kinds table.  When
 * the first line names nothing, the first byte picks one instead, so
 * every mutated input still reaches the code under test.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tg_api.h"

/* Aborts with a message: libFuzzer keeps the input as a crash. */
#define FZ_CHECK(cond, ...)                                                  \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "fuzz check failed: %s (%s:%d): ",   \
				#cond, __FILE__, __LINE__);                  \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			abort();                                             \
		}                                                            \
	} while (0)

/* A heap copy of @n bytes with exactly @n + 1 bytes allocated (NUL
 * added), so ASan sees any read past the end. */
static inline char *fz_strndup(const uint8_t *data, size_t n)
{
	char *s = malloc(n + 1);

	if (!s)
		abort();
	memcpy(s, data, n);
	s[n] = '\0';
	return s;
}

/* A heap copy of @n bytes, not NUL-terminated (malloc(0) avoided). */
static inline char *fz_memdup(const uint8_t *data, size_t n)
{
	char *s = malloc(n ? n : 1);

	if (!s)
		abort();
	if (n)
		memcpy(s, data, n);
	return s;
}

/* Consumes a first line of at most @max bytes when it is a word @ok
 * accepts; returns that word (static storage) or NULL, input untouched. */
static inline const char *fz_first_line(const uint8_t **data, size_t *size,
					size_t max)
{
	static char word[128];
	const uint8_t *nl;
	size_t n;

	if (max >= sizeof(word))
		max = sizeof(word) - 1;
	nl = memchr(*data, '\n', *size < max + 1 ? *size : max + 1);
	if (!nl)
		return NULL;
	n = (size_t)(nl - *data);
	if (memchr(*data, '\0', n))
		return NULL;
	memcpy(word, *data, n);
	word[n] = '\0';
	return word;
}

/* The kind an input is about: its first line names it, or its first byte
 * picks it.  Consumes what was used.  NULL for an empty input. */
static inline const struct tg_kind *fz_kind(const uint8_t **data,
					    size_t *size)
{
	const char *w;
	const struct tg_kind *k;

	if (!*size)
		return NULL;
	w = fz_first_line(data, size, 40);
	if (w && (k = tg_kind_named(w))) {
		*data += strlen(w) + 1;
		*size -= strlen(w) + 1;
		return k;
	}
	k = tg_kinds[(*data)[0] % tg_nkinds];
	(*data)++;
	(*size)--;
	return k;
}

#endif
