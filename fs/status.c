/*
 * status.c - the hidden /.twingatefs/ folder (DESIGN.md §8): not listed,
 * so find, ls -a and rsync never see it, but readable by path.
 *
 *   status   endpoint, reachable or not, rate-limit state, cache age
 *   stats    requests by kind, pages, cache hits and misses, 429s, bytes
 *   errors   the last API errors: time, path, message
 *   refresh  write anything: everything cached is asked for again (and
 *            shown stale while the API does not answer)
 *   schema.graphql  the live schema as read at mount (SDL)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "inodes.h"
#include "inval.h"
#include "kcache.h"
#include "status.h"

static void rfc3339(int64_t t, char *out, size_t outsz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t || !gmtime_r(&tt, &tm)) {
		snprintf(out, outsz, "never");
		return;
	}
	strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static char *render_status(struct tgfs *fs)
{
	struct tg_api_health h;
	char ok[32], until[32], *s = NULL;
	double age = tg_cache_oldest_age(fs->cache);
	time_t now = time(NULL);
	bool stale = tgfs_serving_stale(fs);

	tg_api_get_health(fs->api, &h);
	rfc3339(h.last_ok, ok, sizeof(ok));
	rfc3339(h.limited_until, until, sizeof(until));
	if (asprintf(&s,
		     "endpoint: %s\n"
		     "reachable: %s\n"
		     "last-success: %s\n"
		     "rate-limited: %s%s%s\n"
		     "serving-stale: %s\n"
		     "cache-ttl: %u\n"
		     "cache-oldest-age: %.0f\n"
		     "page-size: %u\n",
		     tg_api_url(fs->api), h.reachable ? "yes" : "no", ok,
		     h.limited_until > now ? "yes, until " : "no",
		     h.limited_until > now ? until : "", "",
		     stale ? "yes" : "no", fs->cfg->cache_ttl,
		     age < 0 ? 0 : age, tg_api_page_size(fs->api)) < 0)
		return NULL;
	return s;
}

static char *render_stats(struct tgfs *fs)
{
	struct tg_api_stats a;
	struct tg_cache_stats c;
	uint64_t opens[3], dir_opens[2];
	size_t held = 0, most = 0;
	char *s = NULL;

	tg_api_get_stats(fs->api, &a);
	tg_cache_get_stats(fs->cache, &c);
	kcache_counts(fs->kcache, opens, dir_opens);
	if (fs->nodes)
		inodes_count(fs->nodes, &held, &most);
	if (asprintf(&s,
		     "requests: %llu\n"
		     "queries: %llu\n"
		     "mutations: %llu\n"
		     "pages: %llu\n"
		     "retries: %llu\n"
		     "rate-limited: %llu\n"
		     "failures: %llu\n"
		     "bytes-received: %llu\n"
		     "cache-hits: %llu\n"
		     "cache-misses: %llu\n"
		     "cache-waits: %llu\n"
		     "cache-stale-served: %llu\n"
		     "cache-evictions: %llu\n"
		     "cache-fills-discarded: %llu\n"
		     "cache-entries: %zu\n"
		     "cache-bytes: %zu\n"
		     "walk-passes: %llu\n"
		     "opens-direct: %llu\n"
		     "opens-page-fill: %llu\n"
		     "opens-page-keep: %llu\n"
		     "reads: %llu\n"
		     "opendirs-fill: %llu\n"
		     "opendirs-keep: %llu\n"
		     "readdirs: %llu\n"
		     "kernel-nodes: %zu\n"
		     "kernel-nodes-most: %zu\n"
		     "resolves: %llu\n"
		     "resolve-steps: %llu\n"
		     "resolves-keyed: %llu\n",
		     (unsigned long long)a.requests,
		     (unsigned long long)a.queries,
		     (unsigned long long)a.mutations,
		     (unsigned long long)a.pages,
		     (unsigned long long)a.retries,
		     (unsigned long long)a.rate_limited,
		     (unsigned long long)a.failures,
		     (unsigned long long)a.bytes, (unsigned long long)c.hits,
		     (unsigned long long)c.misses, (unsigned long long)c.waits,
		     (unsigned long long)c.stale,
		     (unsigned long long)c.evictions,
		     (unsigned long long)c.fills_discarded, c.entries, c.bytes,
		     (unsigned long long)c.walk_passes,
		     (unsigned long long)opens[KC_DIRECT],
		     (unsigned long long)opens[KC_FILL],
		     (unsigned long long)opens[KC_KEEP],
		     (unsigned long long)__atomic_load_n(&fs->reads,
							 __ATOMIC_RELAXED),
		     (unsigned long long)dir_opens[0],
		     (unsigned long long)dir_opens[1],
		     (unsigned long long)__atomic_load_n(&fs->readdirs,
							 __ATOMIC_RELAXED),
		     held, most,
		     (unsigned long long)__atomic_load_n(&fs->resolves,
							 __ATOMIC_RELAXED),
		     (unsigned long long)__atomic_load_n(&fs->resolve_steps,
							 __ATOMIC_RELAXED),
		     (unsigned long long)__atomic_load_n(&fs->resolve_keyed,
							 __ATOMIC_RELAXED)) < 0)
		return NULL;
	/* Then what each kind of request cost. */
	{
		char names[TG_MAX_OPS][56], *t;
		uint64_t counts[TG_MAX_OPS];
		size_t n = tg_api_get_ops(fs->api, names, counts, TG_MAX_OPS);

		for (size_t i = 0; i < n; i++) {
			if (asprintf(&t, "%srequests %s: %llu\n", s, names[i],
				     (unsigned long long)counts[i]) < 0) {
				free(s);
				return NULL;
			}
			free(s);
			s = t;
		}
	}
	return s;
}

static char *render_errors(struct tgfs *fs)
{
	struct buf_s {
		char *s;
		size_t len;
	} b = { NULL, 0 };
	struct tgfs_error errors[TGFS_ERRORS_KEPT];
	unsigned n = tgfs_errors(fs, errors);
	FILE *f = open_memstream(&b.s, &b.len);

	if (!f)
		return NULL;
	for (unsigned i = 0; i < n; i++) {
		char when[32];

		rfc3339(errors[i].when, when, sizeof(when));
		fprintf(f, "%s %s: %s\n", when, errors[i].path,
			errors[i].message);
	}
	fclose(f);
	return b.s;
}

static void drop_negative(void *arg, const char *path)
{
	inval_path(arg, path);
}

/*
 * refresh: everything cached is asked for again at its next use, but
 * kept, to be shown (stale) when the API does not answer.  The kernel
 * forgets the listings it holds and the names it was told are not there
 * before the write returns, so that a name made elsewhere is found at
 * once (the wait is bounded: the kernel may wait on a call in the
 * folder).
 */
static int write_refresh(struct tgfs *fs)
{
	size_t n;

	tg_cache_expire_prefix(fs->cache, "");
	tgfs_folders_changed(fs);
	inval_names(fs);
	n = kcache_take_negatives(fs->kcache, drop_negative, fs);
	if (!inval_wait(fs, 2000))
		tg_log(TG_LOG_INFO, "refresh: the kernel is still busy "
		       "forgetting names");
	tg_log(TG_LOG_INFO, "cache expired on request (%zu names not there "
	       "forgotten)", n);
	return 0;
}

/* schema.graphql: the schema read at mount, or why there is none. */
static char *render_schema(struct tgfs *fs)
{
	const struct tg_schema *s = tg_schema_live();

	(void)fs;
	return s ? tg_schema_sdl(s)
		 : strdup("# The live schema could not be read at mount: "
			  "selections are the built-in kinds table's.\n");
}

const struct status_file tgfs_status_files[] = {
	{ "status", render_status, NULL },
	{ "stats", render_stats, NULL },
	{ "errors", render_errors, NULL },
	{ "refresh", NULL, write_refresh },
	{ "schema.graphql", render_schema, NULL },
};
const size_t tgfs_nstatus_files =
	sizeof(tgfs_status_files) / sizeof(tgfs_status_files[0]);

char *status_render(struct tgfs *fs, size_t i)
{
	const struct status_file *f = &tgfs_status_files[i];

	return f->render ? f->render(fs) : strdup("");
}

bool status_writable(size_t i)
{
	return tgfs_status_files[i].write != NULL;
}

int status_write(struct tgfs *fs, size_t i)
{
	if (!status_writable(i))
		return -EACCES;
	return tgfs_status_files[i].write(fs);
}
