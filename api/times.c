/*
 * times.c - the API's times (RFC 3339 with an optional fraction and a
 * zone) as seconds or nanoseconds since the epoch, and as the UTC text a
 * time field's file shows.  Declared in tg_api.h; pure functions, any
 * thread.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
/* Parses exactly @n digits at @s into *v. */
static bool digits(const char *s, int n, int *v)
{
	int x = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		x = x * 10 + (s[i] - '0');
	}
	*v = x;
	return true;
}

/*
 * Splits an RFC 3339 time into UTC seconds and the fraction digits (without
 * the dot; *fraclen 0 when none).
 */
static bool time_split(const char *s, int64_t *secs, const char **frac,
		       size_t *fraclen)
{
	int y, mo, d, h, mi, se, oh = 0, om = 0, sign = 0;
	struct tm tm = { 0 };
	const char *p;

	if (!s || strlen(s) < 20)
		return false;
	if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    !digits(s + 11, 2, &h) || s[13] != ':' ||
	    !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &se))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    se > 60)
		return false;
	p = s + 19;
	*frac = p;
	*fraclen = 0;
	if (*p == '.') {
		p++;
		*frac = p;
		while (isdigit((unsigned char)*p))
			p++;
		*fraclen = (size_t)(p - *frac);
		if (*fraclen == 0 || *fraclen > 9)
			return false;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		if (!digits(p + 1, 2, &oh) || p[3] != ':' ||
		    !digits(p + 4, 2, &om) || oh > 23 || om > 59)
			return false;
		p += 6;
	} else {
		return false;
	}
	if (*p != '\0')
		return false;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	*secs = (int64_t)timegm(&tm) - sign * (oh * 3600 + om * 60);
	return true;
}

bool tg_time_parse(const char *s, int64_t *secs)
{
	const char *frac;
	size_t fraclen;

	return time_split(s, secs, &frac, &fraclen);
}

bool tg_time_parse_ns(const char *s, int64_t *ns)
{
	const int64_t giga = 1000000000;
	const char *frac;
	size_t fraclen;
	int64_t secs, sub = 0;

	if (!time_split(s, &secs, &frac, &fraclen))
		return false;
	/* int64_t nanoseconds reach from 1677 to 2262. */
	if (secs <= INT64_MIN / giga || secs >= INT64_MAX / giga)
		return false;
	for (size_t i = 0; i < 9; i++)
		sub = sub * 10 + (i < fraclen ? frac[i] - '0' : 0);
	*ns = secs * giga + sub;
	return true;
}

bool tg_time_render(const char *s, char *out, size_t outsz)
{
	const char *frac;
	size_t fraclen;
	int64_t secs;
	time_t t;
	struct tm tm;
	int n;

	if (!time_split(s, &secs, &frac, &fraclen))
		return false;
	t = (time_t)secs;
	if (!gmtime_r(&t, &tm))
		return false;
	n = snprintf(out, outsz, "%04d-%02d-%02dT%02d:%02d:%02d%s%.*sZ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		     tm.tm_min, tm.tm_sec, fraclen ? "." : "", (int)fraclen,
		     frac);
	return n > 0 && (size_t)n < outsz;
}
