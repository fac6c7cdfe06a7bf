/*
 * names.c - object names as file names, reversibly (DESIGN.md §2).
 *
 * A Twingate name may hold '/', be "." or "..", be longer than a file name
 * may be, or be shared by several objects.  Following rclone, the
 * characters a file name cannot hold are shown as their full-width twins,
 * and a literal twin in a name is quoted with U+201B so the mapping is
 * exact both ways.  Duplicates get "~<short id>", derived from the id, so
 * the same object has the same file name on every mount.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tgfs.h"

#define FW_SLASH "\xef\xbc\x8f" /* U+FF0F */
#define FW_DOT "\xef\xbc\x8e"   /* U+FF0E */
#define QUOTE "\xe2\x80\x9b"    /* U+201B */

static bool put(char *out, size_t outsz, size_t *o, const char *s, size_t n)
{
	if (*o + n + 1 > outsz)
		return false;
	memcpy(out + *o, s, n);
	*o += n;
	return true;
}

/* Whether @p starts with one of the three characters a name's file quotes
 * when the name holds it literally (each is 3 bytes of UTF-8). */
static bool escaped_char(const char *p)
{
	return strncmp(p, FW_SLASH, 3) == 0 || strncmp(p, FW_DOT, 3) == 0 ||
	       strncmp(p, QUOTE, 3) == 0;
}

int tgfs_name_encode(const char *name, char *out, size_t outsz)
{
	size_t o = 0;

	if (!outsz)
		return -1;
	if (name[0] == '\0') {
		if (!put(out, outsz, &o, QUOTE, 3))
			return -1;
	} else if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		for (const char *p = name; *p; p++)
			if (!put(out, outsz, &o, FW_DOT, 3))
				return -1;
	} else {
		for (const char *p = name; *p; p++) {
			bool ok;

			if (*p == '/') {
				ok = put(out, outsz, &o, FW_SLASH, 3);
			} else if (escaped_char(p)) {
				ok = put(out, outsz, &o, QUOTE, 3) &&
				     put(out, outsz, &o, p, 3);
				p += 2;
			} else {
				ok = put(out, outsz, &o, p, 1);
			}
			if (!ok)
				return -1;
		}
	}
	out[o] = '\0';
	return (int)o;
}

int tgfs_name_decode(const char *file, char *out, size_t outsz)
{
	size_t o = 0;

	if (!outsz)
		return -1;
	if (strcmp(file, QUOTE) == 0) {
		out[0] = '\0';
		return 0;
	}
	if (strcmp(file, FW_DOT) == 0)
		return put(out, outsz, &o, ".", 1) ? (out[o] = '\0', 1) : -1;
	if (strcmp(file, FW_DOT FW_DOT) == 0)
		return put(out, outsz, &o, "..", 2) ? (out[o] = '\0', 2) : -1;
	for (const char *p = file; *p; p++) {
		bool ok;

		if (strncmp(p, QUOTE, 3) == 0 && escaped_char(p + 3)) {
			ok = put(out, outsz, &o, p + 3, 3);
			p += 5;
		} else if (strncmp(p, FW_SLASH, 3) == 0) {
			ok = put(out, outsz, &o, "/", 1);
			p += 2;
		} else {
			ok = put(out, outsz, &o, p, 1);
		}
		if (!ok)
			return -1;
	}
	out[o] = '\0';
	return (int)o;
}

void tgfs_short_id(const char *id, char *out, size_t outsz)
{
	char type[64], pk[128];
	uint32_t h = 2166136261u;

	/* The primary key when it is plain (digits, as the API makes
	 * them), else a hash: a short id must never bring a '/' or a
	 * broken character into a file name. */
	if (tg_global_id_decode(id, type, sizeof(type), pk, sizeof(pk)) &&
	    pk[0] && strspn(pk, "0123456789abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ_-") == strlen(pk)) {
		snprintf(out, outsz, "%.8s", pk);
		return;
	}
	for (const char *p = id; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	snprintf(out, outsz, "%08x", h);
}

/* The longest prefix of @s within @max bytes that ends on a UTF-8
 * character boundary. */
static size_t utf8_cut(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return n;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

void tgfs_entry_name(const char *name, const char *id, bool duplicate,
		     char *out)
{
	char enc[4 * 1024], sid[16];
	int len = tgfs_name_encode(name, enc, sizeof(enc));
	size_t keep, slen;

	tgfs_short_id(id, sid, sizeof(sid));
	slen = strlen(sid) + 1;
	if (len < 0 || (size_t)len > TGFS_NAME_MAX) {
		/* Too long: cut, and the short id keeps it unique. */
		if (len < 0) {
			enc[sizeof(enc) - 1] = '\0';
			len = (int)strlen(enc);
		}
		duplicate = true;
	}
	keep = duplicate ? utf8_cut(enc, TGFS_NAME_MAX - slen)
			 : (size_t)len;
	memcpy(out, enc, keep);
	if (duplicate)
		snprintf(out + keep, TGFS_NAME_MAX + 1 - keep, "~%s", sid);
	else
		out[keep] = '\0';
}
