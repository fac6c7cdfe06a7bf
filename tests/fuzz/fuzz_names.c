/*
 * fuzz_names.c - the file-name codec (fs/names.c).
 *
 * Input: one flags byte, then the name, then optionally a NUL and an
 * object id (a Relay global ID by default).  Checked:
 *   - tgfs_name_decode() of arbitrary bytes, into exact-size buffers of
 *     every size, never writes past them and returns what it wrote;
 *   - tgfs_name_encode() then tgfs_name_decode() is the identity, and an
 *     encoded name is a valid file name (no '/', not "", "." or "..");
 *     a buffer one byte short makes encode fail cleanly;
 *   - tgfs_entry_name() gives a valid file name of at most NAME_MAX bytes:
 *     the encoded name itself when it fits and is unique, else a prefix of
 *     it cut on a character boundary and "~<short id>";
 *   - tgfs_short_id() into small buffers.
 * A violated property aborts (a crash libFuzzer keeps).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "tgfs.h"

#define DEFAULT_ID "UmVtb3RlTmV0d29yazo0MDA2NA==" /* RemoteNetwork:40064 */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	tg_log_set_level(TG_LOG_ERR);
	return 0;
}

static bool valid_file_name(const char *s)
{
	return *s && !strchr(s, '/') && strcmp(s, ".") != 0 &&
	       strcmp(s, "..") != 0;
}

static void check_decode_any(const char *file, size_t len, uint8_t flags)
{
	/* Decoding never makes a name longer than the file name. */
	size_t full = len + 1;
	size_t sizes[3] = { full, 1 + flags % full, 1 + (flags >> 4) % full };

	for (size_t i = 0; i < 3; i++) {
		char *out = malloc(sizes[i]);
		int r;

		FZ_CHECK(out, "oom");
		r = tgfs_name_decode(file, out, sizes[i]);
		if (r >= 0) {
			FZ_CHECK((size_t)r < sizes[i], "decode: %d in %zu", r,
				 sizes[i]);
			FZ_CHECK(strlen(out) == (size_t)r,
				 "decode: returned %d, wrote %zu", r,
				 strlen(out));
			FZ_CHECK((size_t)r <= len, "decode grew: %d > %zu", r,
				 len);
		} else {
			FZ_CHECK(i != 0, "decode failed with room to spare");
		}
		free(out);
	}
}

static void check_round_trip(const char *name, size_t len, uint8_t flags,
			     char **encoded)
{
	size_t big = 3 * len + 4; /* '/' takes 3 bytes; nothing takes more */
	char *enc = malloc(big), *dec, *small;
	size_t smallsz;
	int r, d;

	FZ_CHECK(enc, "oom");
	r = tgfs_name_encode(name, enc, big);
	FZ_CHECK(r >= 0, "encode failed in %zu bytes for a %zu-byte name",
		 big, len);
	FZ_CHECK(strlen(enc) == (size_t)r, "encode: returned %d, wrote %zu",
		 r, strlen(enc));
	FZ_CHECK(valid_file_name(enc), "encoded name is no file name: '%s'",
		 enc);

	dec = malloc(len + 1);
	FZ_CHECK(dec, "oom");
	d = tgfs_name_decode(enc, dec, len + 1);
	FZ_CHECK(d == (int)len && memcmp(dec, name, len) == 0,
		 "round trip: '%s' -> '%s' -> '%.*s' (%d)", name, enc,
		 d < 0 ? 0 : d, dec, d);
	free(dec);

	/* Exact-size buffers: enough succeeds, one byte short fails. */
	smallsz = 1 + flags % ((size_t)r + 1);
	small = malloc(smallsz);
	FZ_CHECK(small, "oom");
	d = tgfs_name_encode(name, small, smallsz);
	if (smallsz > (size_t)r)
		FZ_CHECK(d == r && strcmp(small, enc) == 0,
			 "encode in %zu bytes: %d, want %d", smallsz, d, r);
	else
		FZ_CHECK(d == -1, "encode in %zu bytes: %d, needs %d",
			 smallsz, d, r + 1);
	free(small);
	*encoded = enc;
}

static void check_entry_name(const char *name, const char *enc,
			     const char *id, bool duplicate)
{
	char *out = malloc(TGFS_NAME_MAX + 1);
	char sid[16], suffix[20];
	size_t elen = strlen(enc), olen, slen;

	FZ_CHECK(out, "oom");
	tgfs_short_id(id, sid, sizeof(sid));
	snprintf(suffix, sizeof(suffix), "~%s", sid);
	slen = strlen(suffix);
	tgfs_entry_name(name, id, duplicate, out);
	olen = strlen(out);
	FZ_CHECK(olen <= TGFS_NAME_MAX, "entry name of %zu bytes", olen);
	FZ_CHECK(valid_file_name(out),
		 "entry name is no file name: '%s' (name '%s', id '%s')", out,
		 name, id);
	if (!duplicate && elen <= TGFS_NAME_MAX) {
		FZ_CHECK(strcmp(out, enc) == 0, "entry '%s' != encoded '%s'",
			 out, enc);
	} else {
		size_t keep;

		FZ_CHECK(olen >= slen && strcmp(out + olen - slen, suffix) == 0,
			 "entry '%s' does not end in '%s'", out, suffix);
		keep = olen - slen;
		FZ_CHECK(strncmp(out, enc, keep) == 0,
			 "entry '%s' is no prefix of '%s'", out, enc);
		/* Cut on a character boundary (a name that is no UTF-8 may
		 * lose all of it). */
		FZ_CHECK(keep == elen || !keep ||
				 ((unsigned char)enc[keep] & 0xc0) != 0x80,
			 "entry '%s' cuts a character", out);
		if (elen + slen <= TGFS_NAME_MAX)
			FZ_CHECK(keep == elen, "entry '%s' cut needlessly",
				 out);
	}
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *z;
	char *name, *id, *enc = NULL;
	size_t nlen;
	uint8_t flags;

	if (!size)
		return 0;
	flags = data[0];
	data++;
	size--;
	z = memchr(data, '\0', size);
	nlen = z ? (size_t)(z - data) : size;
	name = fz_strndup(data, nlen);
	if (z) {
		const uint8_t *idp = z + 1;
		size_t left = size - nlen - 1;
		const uint8_t *z2 = memchr(idp, '\0', left);

		id = fz_strndup(idp, z2 ? (size_t)(z2 - idp) : left);
	} else {
		id = fz_strndup((const uint8_t *)DEFAULT_ID,
				strlen(DEFAULT_ID));
	}

	check_decode_any(name, nlen, flags);
	check_round_trip(name, nlen, flags, &enc);
	check_entry_name(name, enc, id, flags & 1);

	/* The short id into buffers of every small size. */
	{
		size_t sz = 1 + (flags >> 1) % 16;
		char *sid = malloc(sz);

		FZ_CHECK(sid, "oom");
		tgfs_short_id(id, sid, sz);
		FZ_CHECK(strlen(sid) < sz, "short id overflow");
		free(sid);
	}
	free(enc);
	free(name);
	free(id);
	return 0;
}
