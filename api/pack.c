/*
 * pack.c - object.json kept deflated.
 *
 * An object as listed keeps its node as compact JSON, and the nodes of
 * one kind share their keys, enum values and shapes: deflated on their
 * own they keep 60-70% of their bytes, deflated against a dictionary of
 * a few nodes of their kind 20-30% (the large simulated tenant's 18.6 MB
 * of texts).  So each kind's dictionary is the first nodes of that kind
 * packed (DICT_NODES of them, the first DICT_MAX bytes), fixed from then
 * on; those first nodes are kept as they are.
 *
 * A packed text is one byte of method (STORED: the text follows;
 * DEFLATED: raw deflate against the kind's dictionary follows), then the
 * text's length (uint32, in the machine's order: packed texts live in
 * memory only).  zlib streams are made per
 * call (a deflate state is ~64 KB at these settings, freed at once).
 * A dictionary is made under a lock and read without one once ready.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "internal.h"

#define DICT_NODES PACK_DICT_NODES
#define DICT_MAX 6144
#define WINDOW_BITS 13 /* 8 KiB: holds the whole dictionary */
#define MEM_LEVEL 6
#define MAX_KINDS 32
#define HEAD 5

enum { STORED = 0, DEFLATED = 1 };

struct dict {
	const struct tg_kind *kind;
	unsigned nodes;
	size_t len;
	bool ready; /* set with release: bytes and len fixed from then on */
	unsigned char bytes[DICT_MAX];
};

static struct dict dicts[MAX_KINDS];
static size_t ndicts;
static pthread_mutex_t dict_lock = PTHREAD_MUTEX_INITIALIZER;

/* @kind's dictionary when ready, else NULL; @text (when not NULL) goes
 * into it while it is being made. */
static const struct dict *dict_of(const struct tg_kind *kind,
				  const char *text, size_t len)
{
	struct dict *d = NULL;

	for (size_t i = 0; i < __atomic_load_n(&ndicts, __ATOMIC_ACQUIRE);
	     i++)
		if (dicts[i].kind == kind) {
			d = &dicts[i];
			break;
		}
	if (d && __atomic_load_n(&d->ready, __ATOMIC_ACQUIRE))
		return d;
	if (!text)
		return NULL;
	pthread_mutex_lock(&dict_lock);
	if (!d) {
		for (size_t i = 0; i < ndicts && !d; i++)
			if (dicts[i].kind == kind)
				d = &dicts[i];
		if (!d && ndicts < MAX_KINDS) {
			d = &dicts[ndicts];
			d->kind = kind;
			__atomic_store_n(&ndicts, ndicts + 1, __ATOMIC_RELEASE);
		}
	}
	if (d && !d->ready) {
		size_t n = len < DICT_MAX - d->len ? len : DICT_MAX - d->len;

		memcpy(d->bytes + d->len, text, n);
		d->len += n;
		if (++d->nodes >= DICT_NODES || d->len == DICT_MAX)
			__atomic_store_n(&d->ready, true, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&dict_lock);
	return NULL;
}

static unsigned char *stored(const char *text, size_t len, uint32_t *size)
{
	unsigned char *p = malloc(HEAD + len);

	if (!p)
		return NULL;
	p[0] = STORED;
	memcpy(p + 1, &(uint32_t){ (uint32_t)len }, 4);
	memcpy(p + HEAD, text, len);
	*size = (uint32_t)(HEAD + len);
	return p;
}

unsigned char *json_pack(const struct tg_kind *kind, const char *text,
			 size_t len, uint32_t *size)
{
	const struct dict *d;
	z_stream z = { 0 };
	unsigned char *out = NULL, *fit;
	uLong bound;

	*size = 0;
	if (len > UINT32_MAX - HEAD)
		return NULL;
	d = dict_of(kind, text, len);
	if (!d)
		return stored(text, len, size);
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -WINDOW_BITS,
			 MEM_LEVEL, Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	bound = deflateBound(&z, (uLong)len);
	out = malloc(HEAD + bound);
	if (!out ||
	    deflateSetDictionary(&z, d->bytes, (uInt)d->len) != Z_OK)
		goto fail;
	z.next_in = (Bytef *)text;
	z.avail_in = (uInt)len;
	z.next_out = out + HEAD;
	z.avail_out = (uInt)bound;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		goto fail;
	deflateEnd(&z);
	if (z.total_out >= len) { /* deflating did not pay */
		free(out);
		return stored(text, len, size);
	}
	out[0] = DEFLATED;
	memcpy(out + 1, &(uint32_t){ (uint32_t)len }, 4);
	*size = (uint32_t)(HEAD + z.total_out);
	fit = realloc(out, *size);
	return fit ? fit : out;
fail:
	deflateEnd(&z);
	free(out);
	return NULL;
}

char *json_unpack(const struct tg_kind *kind, const unsigned char *packed,
		  uint32_t size)
{
	const struct dict *d;
	z_stream z = { 0 };
	uint32_t len;
	char *text;
	int rc;

	if (!packed || size < HEAD)
		return NULL;
	memcpy(&len, packed + 1, 4);
	if (len == UINT32_MAX || !(text = malloc((size_t)len + 1)))
		return NULL;
	text[len] = '\0';
	if (packed[0] == STORED && size - HEAD == len) {
		memcpy(text, packed + HEAD, len);
		return text;
	}
	d = dict_of(kind, NULL, 0);
	if (packed[0] != DEFLATED || !d ||
	    inflateInit2(&z, -WINDOW_BITS) != Z_OK) {
		free(text);
		return NULL;
	}
	rc = inflateSetDictionary(&z, d->bytes, (uInt)d->len);
	z.next_in = (Bytef *)packed + HEAD;
	z.avail_in = size - HEAD;
	z.next_out = (Bytef *)text;
	z.avail_out = len;
	if (rc == Z_OK)
		rc = inflate(&z, Z_FINISH);
	inflateEnd(&z);
	if (rc != Z_STREAM_END || z.total_out != len) {
		free(text);
		return NULL;
	}
	return text;
}
