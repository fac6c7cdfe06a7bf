/*
 * ops.c - the mount's state made and freed (tgfs_new, tgfs_free): the API
 * client, the cache and the stores every operation uses.  The operations
 * themselves: attrs.c (attributes, links, the node-type table),
 * listing.c (folders), fileops.c (files), nameops.c (names).
 */
#include <stdlib.h>
#include <time.h>

#include "draft.h"
#include "inval.h"
#include "kcache.h"
#include "node.h"
#include "ops.h"
#include "holds.h"
#include "write.h"
#include "removals.h"
#include "scratch.h"
#include "secret.h"
#include "state.h"
#include "versions.h"


/* The user call this thread works for was interrupted (llcall.c): a
 * wait on another's fill ends. */
static bool call_gone(void)
{
	return tg_call_cancelled(tg_call_current());
}

struct tgfs *tgfs_new(const struct tgfs_config *conf,
		      void (*inval)(void *arg, const struct inval_note *n),
		      void *inval_arg)
{
	struct tgfs *fs = calloc(1, sizeof(*fs));

	if (!fs)
		return NULL;
	fs->cfg = conf;
	fs->node_types = tgfs_node_types;
	fs->mount_time = time(NULL);
	pthread_mutex_init(&fs->lock, NULL);
	pthread_mutex_init(&fs->apply_lock, NULL);
	/* Threads and curl handles are made here, after any fork. */
	fs->api = tg_api_new(&conf->api);
	if (fs->api)
		tg_api_set_health(fs->api, &conf->checked);
	fs->cache = tg_cache_new(conf->cache_ttl, conf->cache_max_bytes);
	if (fs->cache)
		tg_cache_set_gone(fs->cache, call_gone);
	fs->seen = seen_open(conf->api.url);
	fs->scratch = scratch_new();
	fs->drafts = draft_store_new();
	fs->versions = versions_new();
	fs->inval = inval_start(inval, inval_arg);
	fs->kcache = kcache_new(TGFS_KCACHE_FILES_LOG2, TGFS_KCACHE_DIRS_LOG2);
	fs->removals = removals_new();
	fs->holds = holds_new(&linkholds_ops, fs, &conf->api);
	if (!fs->api || !fs->cache || !fs->seen || !fs->scratch ||
	    !fs->drafts || !fs->versions || !fs->inval || !fs->kcache ||
	    !fs->removals || !fs->holds) {
		tgfs_free(fs);
		return NULL;
	}
	return fs;
}

void tgfs_free(struct tgfs *fs)
{
	if (!fs)
		return;
	/* What is still held is sent while the API and the queue run. */
	holds_free(fs->holds);
	fs->holds = NULL;
	/* Each of these takes NULL (a tgfs_new that failed half way). */
	inval_stop(fs->inval);
	kcache_free(fs->kcache);
	tg_cache_free(fs->cache);
	tg_api_free(fs->api);
	seen_close(fs->seen);
	scratch_free(fs->scratch);
	draft_store_free(fs->drafts);
	removals_free(fs->removals);
	versions_free(fs->versions);
	secrets_free(fs);
	pthread_mutex_destroy(&fs->lock);
	pthread_mutex_destroy(&fs->apply_lock);
	free(fs);
}
