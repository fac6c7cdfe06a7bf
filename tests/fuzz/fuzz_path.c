/*
 * fuzz_path.c - path resolution (fs/node.c node_resolve) over a fixed
 * tenant, with the cache (cache/cache.c) and without a network.
 *
 * The mount is made as the daemon makes it (tgfs_new), over the fixed
 * tenant of tests/fixture (linked with its --wrap flags, run.sh): reads
 * are answered from tests/fuzz/tenant.json (the simulator's "small"
 * tenant plus a few awkward names: ".", "..", quote marks, a long name,
 * an empty one, an id that is no global ID), and every change the mount
 * sends fails as a lost connection (so the write paths run up to the API
 * and through their error handling, and a create whose reply was "lost"
 * is looked up by name).  The tenant file is FUZZ_TENANT, else the path
 * compiled in as FUZZ_TENANT_FILE.
 *
 * Input: lines, each one command (at most 64; "\n" and "\t" in a line
 * stand for a newline and a tab):
 *   /some/path          resolve it; a folder is also listed (as readdir
 *                       does) and every entry resolved again
 *   = <dir>             fetch the whole collection of <dir> (as ls does)
 *   ? <dir>             toggle: reads of <dir> fail (EIO, errors file)
 *   # x                 drop the whole cache (the refresh file)
 *   ~ <dir> <i> <name>  object i of <dir> was renamed (cache_apply)
 *   - <dir> <i>         object i of <dir> was deleted (cache_apply)
 *   * <dir>             a change to <dir> the mount cannot apply
 *   ^ <dir> <i> <r> <tdir> <j>  one-link r of object i now points at
 *                       object j of <tdir> (cache_set_link)
 *   + /path             mkdir (drafts are made in the mount)
 *   > /path<TAB>text    write text to a file (commit_field)
 *   x /path             rmdir        m /from<TAB>/to   mv
 *   l target<TAB>/path  ln -s        u /path           rm of a link
 * Checked: every listed entry is a valid file name (no '/', not "." or
 * "..", at most NAME_MAX bytes), unique in its folder, and resolves to
 * what was listed (the same object, the same link target).  Each input
 * starts from an empty cache and ends with everything freed.
 */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../fs/coll.h"
#include "../../fs/draft.h"
#include "../../fs/kcache.h"
#include "../../fs/mount.h"
#include "../../fs/node.h"
#include "../../fs/ops.h"
#include "../../fs/scratch.h"
#include "../../fs/secret.h"
#include "../../fs/status.h"
#include "../../fs/write.h"
#include "fuzz_common.h"
#include "../fixture/tenant.h"

#ifndef FUZZ_TENANT_FILE
#define FUZZ_TENANT_FILE "tests/fuzz/tenant.json"
#endif

#define MAX_COMMANDS 64
#define MAX_LISTED 48

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- the tenant ---- */

static struct tgfs_config cfg;
static bool trace; /* FUZZ_PATH_TRACE=1: say what each command did */

static void no_inval(void *arg, const struct inval_note *n)
{
	(void)arg;
	(void)n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct tg_api_config acfg = { .url = "http://127.0.0.1:9/api/graphql/",
				      .token = "fuzz" };

	(void)argc;
	(void)argv;
	const char *tenant = getenv("FUZZ_TENANT");
	static char state[] = "/tmp/fuzz_path.XXXXXX";

	tg_log_set_level(TG_LOG_ERR);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	fixture_load(tenant && *tenant ? tenant : FUZZ_TENANT_FILE);
	/* first-seen times of this run's own */
	FZ_CHECK(mkdtemp(state), "mkdtemp");
	setenv("XDG_STATE_HOME", state, 1);
	cfg.api = acfg;
	cfg.cache_ttl = 3600;
	trace = getenv("FUZZ_PATH_TRACE") && *getenv("FUZZ_PATH_TRACE") == '1';
	return 0;
}

/* ---- the mount ---- */

/* The mount's record of what the kernel holds (fs/kcache.c) is sized for
 * a large tenant: 3 MB of slots, made and zeroed again for each input, cost
 * the target 95% of its time (47 inputs a second).  A few sets of slots
 * (linked with --wrap=kcache_new, run.sh) do for the few paths one input
 * names, and make evictions likely. */
struct kcache *__real_kcache_new(unsigned files_log2, unsigned dirs_log2);
struct kcache *__wrap_kcache_new(unsigned files_log2, unsigned dirs_log2);

struct kcache *__wrap_kcache_new(unsigned files_log2, unsigned dirs_log2)
{
	(void)files_log2;
	(void)dirs_log2;
	return __real_kcache_new(4, 4);
}

/* Each mount starts its invalidation thread (fs/inval.c); ASan clears the
 * shadow of a thread's whole stack when it ends, 1 MB for the default
 * 8 MB, which with the tables above was 60% of the rest.  The mount's
 * threads (--wrap=pthread_create, run.sh: only calls from the library)
 * get a stack of 256 KB. */
int __real_pthread_create(pthread_t *t, const pthread_attr_t *attr,
			  void *(*fn)(void *), void *arg);
int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *attr,
			  void *(*fn)(void *), void *arg);

int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *attr,
			  void *(*fn)(void *), void *arg)
{
	pthread_attr_t small;
	int rc;

	if (attr)
		return __real_pthread_create(t, attr, fn, arg);
	pthread_attr_init(&small);
	pthread_attr_setstacksize(&small, 256 * 1024);
	rc = __real_pthread_create(t, &small, fn, arg);
	pthread_attr_destroy(&small);
	return rc;
}

static struct tgfs *mount_new(void)
{
	struct tgfs *fs = tgfs_new(&cfg, no_inval, NULL);

	FZ_CHECK(fs, "oom");
	fixture_reset();
	return fs;
}

/* ---- checks ---- */

struct listing {
	char names[MAX_LISTED][TGFS_NAME_MAX + 1];
	char ids[MAX_LISTED][256];      /* objects */
	char targets[MAX_LISTED][1024]; /* links */
	size_t n;
	bool more;
};

static void check_entry_name(const char *dir, const char *name)
{
	FZ_CHECK(*name && !strchr(name, '/') && strcmp(name, ".") &&
			 strcmp(name, "..") && strlen(name) <= TGFS_NAME_MAX,
		 "%s lists an invalid name '%s'", dir, name);
}

static int list_object(void *arg, const struct tg_object *obj,
		       const char *name)
{
	struct listing *l = arg;

	if (l->n == MAX_LISTED) {
		l->more = true;
		return 1;
	}
	snprintf(l->names[l->n], sizeof(l->names[0]), "%s", name);
	snprintf(l->ids[l->n], sizeof(l->ids[0]), "%s", obj->id);
	l->n++;
	return 0;
}

static int list_link(void *arg, const char *name, const char *target)
{
	struct listing *l = arg;

	if (l->n == MAX_LISTED) {
		l->more = true;
		return 1;
	}
	snprintf(l->names[l->n], sizeof(l->names[0]), "%s", name);
	snprintf(l->targets[l->n], sizeof(l->targets[0]), "%s", target);
	l->n++;
	return 0;
}

/* Every entry of @l (in folder @path) is valid, unique and resolves to
 * what was listed. */
static void check_listing(struct tgfs *fs, const char *path,
			  const struct listing *l, bool links)
{
	for (size_t i = 0; i < l->n; i++) {
		char child[8192];
		struct node n;
		int rc;

		if (trace)
			fprintf(stderr, "  %s/%s%s%s\n", path, l->names[i],
				links ? " -> " : "", links ? l->targets[i] : "");
		check_entry_name(path, l->names[i]);
		for (size_t j = 0; j < i; j++)
			FZ_CHECK(strcmp(l->names[i], l->names[j]),
				 "%s lists '%s' twice", path, l->names[i]);
		if ((size_t)snprintf(child, sizeof(child), "%s/%s", path,
				     l->names[i]) >= sizeof(child))
			continue;
		rc = node_resolve(fs, child, &n);
		FZ_CHECK(rc == 0, "%s was listed but does not resolve (%d)",
			 child, rc);
		if (n.draft) {
			/* A draft of the same name shows instead. */
		} else if (links) {
			/* (An access edge is a folder naming its principal.) */
			FZ_CHECK((n.type == NODE_LINK || n.type == NODE_EDGE) &&
					 !strcmp(n.target, l->targets[i]),
				 "%s: listed -> %s, resolves to type %d -> %s",
				 child, l->targets[i], n.type, n.target);
		} else {
			FZ_CHECK(n.type == NODE_OBJECT && n.obj &&
					 !strcmp(n.obj->id, l->ids[i]),
				 "%s: listed as %s, resolves to %s", child,
				 l->ids[i], n.obj ? n.obj->id : "(no object)");
		}
		node_release(&n);
	}
}

/* Lists folder node @n (at @path) as readdir does, then checks it. */
static void list_and_check(struct tgfs *fs, const char *path,
			   const struct node *n)
{
	/* One buffer for every listing (72 KB: a new one each time cost a
	 * page fault per 4 KB under ASan); a listing resolves its entries
	 * but lists none of them. */
	static struct listing buf;
	struct listing *l = &buf;

	l->n = 0;
	l->more = false;
	if (n->type == NODE_KINDDIR) {
		struct tg_cache_ref *ref = NULL;
		const struct coll *c;

		if (n->kind->parent_conn && n->ref)
			ref = tg_cache_ref_dup(n->ref);
		else if (coll_get(fs, n->kind, &ref))
			ref = NULL;
		c = ref ? coll_of(ref, n->kind) : NULL;
		if (c)
			coll_each(c, n->kind->parent ? n->parent_id : NULL,
				  list_object, l);
		if (ref)
			tg_cache_put(ref);
		check_listing(fs, path, l, false);
	} else if (n->type == NODE_RELDIR && n->rel_index >= 0) {
		if (rel_each(fs, n->obj, (size_t)n->rel_index, n->depth,
			     list_link, l) >= 0)
			check_listing(fs, path, l, true);
	}
}

static void resolve(struct tgfs *fs, const char *path)
{
	struct node n;
	int rc = node_resolve(fs, path, &n);

	if (trace)
		fprintf(stderr, "%s: %s\n", path,
			rc ? strerror(-rc) : "found");
	if (rc)
		return;
	switch (n.type) {
	case NODE_FIELD:
	case NODE_JSON:
	case NODE_DRAFTINFO:
		(void)strlen(node_text(fs, &n));
		(void)strlen(node_content(&n));
		break;
	case NODE_STATFILE:
		free(status_render(fs, n.field));
		break;
	case NODE_LINK:
		FZ_CHECK(n.target[0] && n.target[0] != '/',
			 "%s: link target '%s'", path, n.target);
		break;
	case NODE_KINDDIR:
	case NODE_RELDIR:
		list_and_check(fs, path, &n);
		break;
	default:
		break;
	}
	node_release(&n);
}

/* ---- commands ---- */

/* Object @idx (modulo the count) of the kind named @dir, or NULL. */
static const struct tg_object *tenant_object(const char *dir, long idx,
					     const struct tg_kind **kind)
{
	const struct tg_kind *k = tg_kind_named(dir);
	const struct tg_list *l;

	if (!k)
		return NULL;
	l = fixture_objects(k);
	if (!l->n)
		return NULL;
	*kind = k;
	return &l->items[(size_t)(idx < 0 ? -idx : idx) % l->n];
}

/* A copy of @o renamed to @name (the name file too); an empty name is
 * shown as the id, as object.c does. */
static bool renamed_copy(const struct tg_object *o, const char *name,
			 struct tg_object *out)
{
	const struct tg_kind *k = o->kind;

	if (tg_object_copy(o, out) != TG_OK)
		return false;
	free(out->name);
	out->name = strdup(*name ? name : o->id);
	FZ_CHECK(out->name, "oom");
	/* The copy holds its values, as a draft does, so that the name
	 * file can differ from the node kept. */
	out->values = calloc(k->nfields + 1, sizeof(*out->values));
	FZ_CHECK(out->values, "oom");
	for (size_t i = 0; i < k->nfields; i++) {
		const char *v = tg_object_value(o, i, &out->values[i]);

		FZ_CHECK(v, "oom");
		if (!out->values[i])
			FZ_CHECK(out->values[i] = strdup(v), "oom");
		if (k->fields[i].path &&
		    !strcmp(k->fields[i].path, k->name_path)) {
			free(out->values[i]);
			FZ_CHECK(asprintf(&out->values[i], "%s\n", name) > 0,
				 "oom");
		}
	}
	return true;
}

static void command(struct tgfs *fs, char *line)
{
	char dir[64], tdir[64], *tab;
	const struct tg_kind *k = NULL, *tk = NULL;
	const struct tg_object *o, *t;
	struct tgfs_name from, to;
	struct node n;
	long i, j, r;
	int off = 0;

	tab = strchr(line, '\t');
	if (trace && line[0] != '/')
		fprintf(stderr, "command: %s\n", line);
	switch (line[0]) {
	case '/':
		resolve(fs, line);
		return;
	case '=':
		if (sscanf(line + 1, " %63s", dir) == 1 &&
		    (k = tg_kind_named(dir))) {
			struct tg_cache_ref *ref;

			if (!coll_get(fs, k, &ref))
				tg_cache_put(ref);
		}
		return;
	case '?':
		if (sscanf(line + 1, " %63s", dir) == 1 &&
		    (k = tg_kind_named(dir)))
			fixture_fail(k, !fixture_failing(k));
		return;
	case '#':
		tg_cache_clear(fs->cache);
		return;
	case '~':
		if (sscanf(line + 1, " %63s %ld %n", dir, &i, &off) >= 2 &&
		    off && (o = tenant_object(dir, i, &k))) {
			struct tg_object copy;

			if (renamed_copy(o, line + 1 + off, &copy))
				cache_apply(fs, k, &copy, NULL);
		}
		return;
	case '-':
		if (sscanf(line + 1, " %63s %ld", dir, &i) == 2 &&
		    (o = tenant_object(dir, i, &k)))
			cache_apply(fs, k, NULL, o->id);
		return;
	case '*':
		if (sscanf(line + 1, " %63s", dir) == 1 &&
		    (k = tg_kind_named(dir)))
			cache_apply(fs, k, NULL, NULL);
		return;
	case '^':
		if (sscanf(line + 1, " %63s %ld %ld %63s %ld", dir, &i, &r,
			   tdir, &j) == 5 &&
		    (o = tenant_object(dir, i, &k)) &&
		    (t = tenant_object(tdir, j, &tk)) && k->nrels)
			cache_set_link(fs, k, o->id,
				       (size_t)(r < 0 ? -r : r) % k->nrels,
				       t->id, t->name);
		return;
	/* FUSE hands the operations absolute paths: so do we. */
	case '+':
		if (line[1] == ' ' && line[2] == '/')
			(void)tgfs_make_object(fs, line + 2);
		return;
	case 'x':
		if (line[1] == ' ' && line[2] == '/') {
			from = tgfs_name_of_path(line + 2);
			if (node_resolve_name(fs, &from, &n) == 0) {
				(void)tgfs_remove_object(fs, &from, &n, 0);
				node_release(&n);
			}
		}
		return;
	case 'u':
		if (line[1] == ' ' && line[2] == '/') {
			from = tgfs_name_of_path(line + 2);
			if (node_resolve_name(fs, &from, &n) == 0) {
				(void)tgfs_link_remove(fs, &from, &n, 0);
				node_release(&n);
			}
		}
		return;
	case '>':
	case 'm':
	case 'l':
		if (line[1] != ' ' || !tab ||
		    (line[0] != 'l' && line[2] != '/') ||
		    (line[0] != '>' && tab[1] != '/'))
			return;
		*tab = '\0';
		from = tgfs_name_of_path(line + 2);
		to = tgfs_name_of_path(tab + 1);
		if (line[0] == '>')
			(void)commit_field(fs, line + 2, tab + 1,
					   strlen(tab + 1));
		else if (line[0] == 'm')
			(void)tgfs_rename_object(fs, &from, &to);
		else
			(void)tgfs_link_add(fs, line + 2, &to, 0);
		return;
	}
}

/* "\n" and "\t" (two characters) to a newline and a tab, in place. */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && (s[1] == 'n' || s[1] == 't')) {
			*o++ = s[1] == 'n' ? '\n' : '\t';
			s++;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fz_strndup(data, size), *line, *save = NULL;
	struct tgfs *fs = mount_new();
	unsigned count = 0;

	for (line = strtok_r(text, "\n", &save);
	     line && count < MAX_COMMANDS; line = strtok_r(NULL, "\n", &save)) {
		unescape(line);
		command(fs, line);
		count++;
	}
	tgfs_free(fs);
	free(text);
	return 0;
}
