/*
 * test_tree.c - fs/ without a kernel: a mount's state made by tgfs_new,
 * paths resolved to nodes (node_resolve, and once known to the kernel's
 * node table from their keys: node_resolve_chain), and mutation results applied to
 * the cached collections (cache_apply), over the fixed tenant of
 * tests/fixture (tests/fuzz/tenant.json) with reads counted and no
 * network.  What each resolution costs in reads is asserted: a name is
 * one lookup, a listing one list, and an applied change none.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdbool.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <curl/curl.h>

#include "coll.h"
#include "inodes.h"
#include "inval.h"
#include "node.h"
#include "ops.h"
#include "../fixture/tenant.h"

static struct tgfs_config conf;

/* What the store told the kernel to forget (on the queue's thread). */
static pthread_mutex_t noted_lock = PTHREAD_MUTEX_INITIALIZER;
static char noted[16][300];
static size_t nnoted;

static void note_inval(void *arg, const struct inval_note *n)
{
	(void)arg;
	pthread_mutex_lock(&noted_lock);
	if (nnoted < 16 && n->kind == INVAL_OBJECT)
		snprintf(noted[nnoted++], sizeof(noted[0]), "%s %s", n->id,
			 n->name ? n->name : "(unknown)");
	pthread_mutex_unlock(&noted_lock);
}

/* Whether the store asked the kernel to forget @want ("id name") since
 * the test began. */
static bool was_noted(struct tgfs *fs, const char *want)
{
	bool found = false;

	assert_true(inval_wait(fs, 5000));
	pthread_mutex_lock(&noted_lock);
	for (size_t i = 0; i < nnoted; i++)
		found |= strcmp(noted[i], want) == 0;
	pthread_mutex_unlock(&noted_lock);
	return found;
}

static int setup(void **state)
{
	struct tgfs *fs = tgfs_new(&conf, note_inval, NULL);

	if (!fs)
		return -1;
	nnoted = 0;
	fixture_lists = fixture_lookups = 0;
	*state = fs;
	return 0;
}

static int teardown(void **state)
{
	tgfs_free(*state);
	return 0;
}

static unsigned reads(void)
{
	return fixture_lists + fixture_lookups;
}

/* Resolves @path, expecting @type; the node is released. */
static void expect_node(struct tgfs *fs, const char *path,
			enum node_type type)
{
	struct node n;
	int rc = node_resolve(fs, path, &n);

	if (rc)
		fail_msg("%s: %s", path, strerror(-rc));
	assert_int_equal(n.type, type);
	node_release(&n);
}

static void expect_err(struct tgfs *fs, const char *path, int err)
{
	struct node n;

	assert_int_equal(node_resolve(fs, path, &n), err);
}

/* The fixture's object of @dir called @name, as a new object with
 * @field set to @value (a string), as a mutation would return it. */
static void changed_copy(const char *dir, const char *name,
			 const char *field, const char *value,
			 struct tg_object *out)
{
	const struct tg_kind *k = tg_kind_named(dir);
	const struct tg_list *l = fixture_objects(k);
	const struct tg_object *o = NULL;
	char *buf = NULL, *text;
	cJSON *j;

	for (size_t i = 0; i < l->n && !o; i++)
		if (l->items[i].name && strcmp(l->items[i].name, name) == 0)
			o = &l->items[i];
	assert_non_null(o);
	j = cJSON_Parse(tg_object_json(o, &buf));
	free(buf);
	assert_non_null(j);
	cJSON_ReplaceItemInObject(j, field, cJSON_CreateString(value));
	text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	assert_int_equal(tg_object_from_json(k, text, strlen(text), out),
			 TG_OK);
	cJSON_free(text);
}

static void test_every_node_type(void **state)
{
	struct tgfs *fs = *state;
	struct node n;

	expect_node(fs, "/", NODE_ROOT);
	expect_node(fs, "/networks", NODE_KINDDIR);
	expect_node(fs, "/.twingatefs", NODE_STATDIR);
	expect_node(fs, "/.twingatefs/stats", NODE_STATFILE);
	assert_int_equal(reads(), 0);

	assert_int_equal(node_resolve(fs, "/networks/AWS prod/location", &n),
			 0);
	assert_int_equal(n.type, NODE_FIELD);
	assert_string_equal(n.kind->fields[n.field].file, "location");
	assert_string_equal(n.obj->name, "AWS prod");
	node_release(&n);
	expect_node(fs, "/networks/AWS prod", NODE_OBJECT);
	expect_node(fs, "/networks/AWS prod/object.json", NODE_JSON);
	expect_node(fs, "/networks/AWS prod/connectors", NODE_KINDDIR);
	expect_node(fs, "/networks/AWS prod/connectors/quiet-heron",
		    NODE_OBJECT);
	expect_node(fs, "/resources/prod-db/access", NODE_RELDIR);

	assert_int_equal(node_resolve(fs, "/resources/prod-db/network", &n),
			 0);
	assert_int_equal(n.type, NODE_LINK);
	assert_string_equal(n.target, "../../networks/AWS prod");
	node_release(&n);
	/* names a file cannot hold, and names shared */
	expect_node(fs, "/networks/Office \xef\xbc\x8f HQ", NODE_OBJECT);
	expect_err(fs, "/networks/Duplicate", -ENOENT);
}

/* Every row of the node-type table: a folder steps, lists and stats and
 * does not open; a file or a link stats and opens and does neither of
 * the others. */
static void test_node_type_table(void **state)
{
	struct tgfs *fs = *state;

	assert_ptr_equal(fs->node_types, tgfs_node_types);
	for (int t = 0; t < NODE_TYPES; t++) {
		const struct node_ops *o = &tgfs_node_types[t];
		bool folder = t == NODE_ROOT || t == NODE_KINDDIR ||
			      t == NODE_OBJECT || t == NODE_RELDIR ||
			      t == NODE_STATDIR || t == NODE_EDGE;

		assert_non_null(o->stat);
		assert_true((o->step != NULL) == folder);
		assert_true((o->list != NULL) == folder);
		assert_true((o->open != NULL) == !folder);
	}
}

/* An access edge is a folder: the principal's link, the settings. */
static void test_access_edges_are_folders(void **state)
{
	struct tgfs *fs = *state;
	const char *e = "/resources/prod-db/access/groups/Engineering";
	char p[256];
	struct node n;

	expect_node(fs, e, NODE_EDGE);
	snprintf(p, sizeof(p), "%s/group", e);
	assert_int_equal(node_resolve(fs, p, &n), 0);
	assert_int_equal(n.type, NODE_LINK);
	assert_string_equal(n.target, "../../../../../groups/Engineering");
	assert_int_equal(n.edge_part, 1);
	node_release(&n);
	snprintf(p, sizeof(p), "%s/expires-at", e);
	assert_int_equal(node_resolve(fs, p, &n), 0);
	assert_int_equal(n.type, NODE_EDGEFIELD);
	assert_string_equal(node_field(&n)->file, "expires-at");
	assert_string_equal(node_content(&n), "");
	node_release(&n);
	/* No policy of its own, no such file, no such edge. */
	snprintf(p, sizeof(p), "%s/security-policy", e);
	expect_err(fs, p, -ENOENT);
	snprintf(p, sizeof(p), "%s/service-account", e);
	expect_err(fs, p, -ENOENT);
	expect_err(fs, "/resources/prod-db/access/groups/Everyone", -ENOENT);
}

static void test_errors(void **state)
{
	struct tgfs *fs = *state;

	expect_err(fs, "/nope", -ENOENT);
	expect_err(fs, "/networks/no such network", -ENOENT);
	expect_err(fs, "/networks/AWS prod/location/x", -ENOTDIR);
	expect_err(fs, "/networks/AWS prod/no-such-file", -ENOENT);
	expect_err(fs, "/.twingatefs/nope", -ENOENT);
}

/* One name is one lookup, kept: the second resolution reads nothing. */
static void test_a_name_costs_one_lookup(void **state)
{
	struct tgfs *fs = *state;

	expect_node(fs, "/groups/Engineering/name", NODE_FIELD);
	assert_int_equal(fixture_lookups, 1);
	assert_int_equal(fixture_lists, 0);
	expect_node(fs, "/groups/Engineering/name", NODE_FIELD);
	expect_node(fs, "/groups/Engineering", NODE_OBJECT);
	assert_int_equal(reads(), 1);
}

/* The whole collection of @k cached, and the id of the object at
 * @path in @id (256 bytes). */
static void cached_id(struct tgfs *fs, const struct tg_kind *k,
		      const char *path, char *id)
{
	struct tg_cache_ref *ref;
	struct node n;

	assert_int_equal(coll_get(fs, k, &ref), 0);
	tg_cache_put(ref);
	assert_int_equal(node_resolve(fs, path, &n), 0);
	snprintf(id, 256, "%s", n.obj->id);
	node_release(&n);
}

/* A rename applied from a mutation's answer: the old name is gone, the
 * new one is the same object with what is under it, and the look-up of
 * the object's file name by its id finds it; none of it reads. */
static void test_applied_rename(void **state)
{
	struct tgfs *fs = *state;
	const struct tg_kind *nets = tg_kind_named("networks");
	struct tg_object renamed;
	char id[256], now[TGFS_NAME_MAX + 1];
	struct node n;
	unsigned before;

	cached_id(fs, nets, "/networks/AWS prod", id);
	expect_node(fs, "/networks/AWS prod/connectors/quiet-heron",
		    NODE_OBJECT);
	before = reads();

	changed_copy("networks", "AWS prod", "name", "AWS renamed", &renamed);
	cache_apply(fs, nets, &renamed, NULL);
	expect_err(fs, "/networks/AWS prod", -ENOENT);
	assert_int_equal(node_resolve(fs, "/networks/AWS renamed", &n), 0);
	assert_string_equal(n.obj->id, id);
	node_release(&n);
	expect_node(fs, "/networks/AWS renamed/connectors/quiet-heron",
		    NODE_OBJECT);
	assert_int_equal(tgfs_object_file(fs, "/networks", "AWS prod", id,
					  now),
			 0);
	assert_string_equal(now, "AWS renamed");
	assert_int_equal(tgfs_object_file(fs, "/networks", "AWS renamed", id,
					  now),
			 0);
	assert_string_equal(now, "AWS renamed");
	assert_int_equal(reads(), before);
	/* The kernel is told by the object's id, with its new name: its
	 * folder loses the old name's entry wherever it is held. */
	{
		char want[300];

		snprintf(want, sizeof(want), "%s AWS renamed", id);
		assert_true(was_noted(fs, want));
	}
}

/* The kernel learns each folder and file down @path (as LOOKUP does,
 * ll.c): a node id with its object's id and its key.  The last id. */
static uint64_t learn(struct tgfs *fs, struct inodes *t, const char *path)
{
	char prefix[1024];
	uint64_t ino = 1, gen;
	const char *p = path;

	while (*p) {
		const char *slash = strchr(p + 1, '/');
		size_t len = slash ? (size_t)(slash - path) : strlen(path);
		struct inodes_key key;
		struct node n;

		snprintf(prefix, sizeof(prefix), "%.*s", (int)len, path);
		assert_int_equal(node_resolve(fs, prefix, &n), 0);
		key = node_key_of(&n);
		assert_int_equal(
			inodes_lookup(t, ino, strrchr(prefix, '/') + 1,
				      n.type == NODE_OBJECT && !n.draft
					      ? n.obj->id
					      : NULL,
				      &ino, &gen),
			0);
		inodes_set_key(t, ino, key.type, key.kind, key.index);
		node_release(&n);
		p = path + len;
	}
	return ino;
}

/* Resolves node @ino of @t (its entry @child) from its chain: the
 * names stepped through in *@steps.  0 or -errno; @n as node_resolve. */
static int by_chain(struct tgfs *fs, struct inodes *t, uint64_t ino,
		    const char *child, struct node *n, uint64_t *steps)
{
	struct inodes_chain *c;
	uint64_t before = fs->resolve_steps;
	int rc;

	assert_int_equal(inodes_chain(t, ino, child, &c), 0);
	rc = node_resolve_chain(fs, c, n);
	inodes_chain_free(c);
	*steps = fs->resolve_steps - before;
	return rc;
}

/* Resolve once: a file the kernel holds is found again with no step and
 * no read, a new name in a known folder with one step, and an embedded
 * kind's object (a connector) by its parent's and its own ids. */
static void test_resolve_once(void **state)
{
	struct tgfs *fs = *state;
	struct inodes *t = inodes_new();
	uint64_t field, conn, steps;
	unsigned before;
	struct node n;

	field = learn(fs, t, "/groups/Engineering/name");
	conn = learn(fs, t, "/networks/AWS prod/connectors/quiet-heron");
	before = reads();
	assert_int_equal(by_chain(fs, t, field, NULL, &n, &steps), 0);
	assert_int_equal(n.type, NODE_FIELD);
	assert_string_equal(n.kind->fields[n.field].file, "name");
	assert_int_equal(n.depth, 3);
	assert_int_equal(steps, 0);
	node_release(&n);
	assert_int_equal(by_chain(fs, t, conn, NULL, &n, &steps), 0);
	assert_int_equal(n.type, NODE_OBJECT);
	assert_string_equal(n.kind->dir, "connectors");
	assert_int_equal(steps, 0);
	node_release(&n);
	/* a new name: one step from its folder */
	assert_int_equal(by_chain(fs, t, conn, "object.json", &n, &steps), 0);
	assert_int_equal(n.type, NODE_JSON);
	assert_int_equal(steps, 1);
	node_release(&n);
	assert_int_equal(by_chain(fs, t, conn, "no-such-file", &n, &steps),
			 -ENOENT);
	assert_int_equal(steps, 1);
	assert_int_equal(reads(), before);

	/* a single link and a rel folder by their rel: no step; an edge's
	 * folder by its rel and its name, and its setting files by their
	 * setting: no step either (a new name in it: one) */
	{
		uint64_t link, groups, edge, setting;
		const char *e = "/resources/prod-db/access/groups/Engineering";
		struct node byp;

		link = learn(fs, t, "/resources/prod-db/network");
		groups = learn(fs, t, "/resources/prod-db/access/groups");
		edge = learn(fs, t, e);
		setting = learn(fs, t,
				"/resources/prod-db/access/groups/Engineering/"
				"expires-at");
		before = reads();
		assert_int_equal(by_chain(fs, t, link, NULL, &n, &steps), 0);
		assert_int_equal(n.type, NODE_LINK);
		assert_int_equal(steps, 0);
		node_release(&n);
		assert_int_equal(by_chain(fs, t, groups, NULL, &n, &steps), 0);
		assert_int_equal(n.type, NODE_RELDIR);
		assert_string_equal(n.rel, "access/groups");
		assert_int_equal(steps, 0);
		node_release(&n);
		/* the edge's folder as a walk makes it */
		assert_int_equal(by_chain(fs, t, edge, NULL, &n, &steps), 0);
		assert_int_equal(n.type, NODE_EDGE);
		assert_int_equal(steps, 0);
		assert_int_equal(node_resolve(fs, e, &byp), 0);
		assert_string_equal(n.edge_id, byp.edge_id);
		assert_string_equal(n.edge_name, byp.edge_name);
		assert_string_equal(n.target, byp.target);
		assert_int_equal(n.depth, byp.depth);
		assert_int_equal(n.rel_index, byp.rel_index);
		node_release(&byp);
		node_release(&n);
		assert_int_equal(by_chain(fs, t, setting, NULL, &n, &steps), 0);
		assert_int_equal(n.type, NODE_EDGEFIELD);
		assert_string_equal(node_field(&n)->file, "expires-at");
		assert_int_equal(n.depth, 6);
		assert_int_equal(steps, 0);
		node_release(&n);
		assert_int_equal(by_chain(fs, t, edge, "access-policy", &n,
					  &steps),
				 0);
		assert_int_equal(n.type, NODE_EDGEFIELD);
		assert_int_equal(steps, 1);
		node_release(&n);
		assert_int_equal(reads(), before);
	}
	inodes_free(t);
}

/* A node keeps its object across a rename the kernel has not followed:
 * the chain's old names find it by its id, with no read. */
static void test_resolve_once_after_rename(void **state)
{
	struct tgfs *fs = *state;
	const struct tg_kind *nets = tg_kind_named("networks");
	struct inodes *t = inodes_new();
	struct tg_object renamed;
	uint64_t net, conn, steps;
	unsigned before;
	char id[256];
	struct node n;

	cached_id(fs, nets, "/networks/AWS prod", id);
	net = learn(fs, t, "/networks/AWS prod");
	conn = learn(fs, t, "/networks/AWS prod/connectors/quiet-heron");
	before = reads();
	changed_copy("networks", "AWS prod", "name", "AWS renamed", &renamed);
	cache_apply(fs, nets, &renamed, NULL);
	assert_int_equal(by_chain(fs, t, net, NULL, &n, &steps), 0);
	assert_string_equal(n.obj->id, id);
	assert_int_equal(steps, 0);
	node_release(&n);
	assert_int_equal(by_chain(fs, t, conn, "name", &n, &steps), 0);
	assert_int_equal(n.type, NODE_FIELD);
	assert_int_equal(steps, 1);
	node_release(&n);
	assert_int_equal(reads(), before);
	inodes_free(t);
}

/* The name @child in folder @ino of @t, with its chain and its scratch
 * key, as ll.c hands it to an operation on names; *@c and the key are
 * the caller's to free (names_free). */
static struct tgfs_name name_in(struct inodes *t, uint64_t ino,
				const char *child, struct inodes_chain **c)
{
	assert_int_equal(inodes_chain(t, ino, child, c), 0);
	return (struct tgfs_name){ .chain = *c, .path = (*c)->path,
				   .name = (*c)->hop[(*c)->n].name,
				   .key = node_scratch_key(*c) };
}

static void name_free(struct tgfs_name *nm, struct inodes_chain *c)
{
	free((char *)nm->key);
	inodes_chain_free(c);
}

/* The operations on names resolve from their folder's key: a name costs
 * one step (none for its folder), where by its path from the root it
 * cost one for each component; and no read. */
static void test_name_ops_resolve_once(void **state)
{
	struct tgfs *fs = *state;
	struct inodes *t = inodes_new();
	struct inodes_chain *c, *c2;
	struct tgfs_name nm, to;
	uint64_t groups, eng, members, before, resolves;
	unsigned reads_before;

	groups = learn(fs, t, "/groups");
	eng = learn(fs, t, "/groups/Engineering");
	members = learn(fs, t, "/groups/Engineering/users");
	learn(fs, t, "/groups/Engineering/users/ada.lovelace@example.com");
	reads_before = reads();

	/* mkdir of a name taken: its folder from its key, once, no step */
	nm = name_in(t, groups, "Engineering", &c);
	before = fs->resolve_steps;
	resolves = fs->resolves;
	assert_int_equal(tgfs_mkdir(fs, &nm, 0755, 4242), -EEXIST);
	assert_int_equal(fs->resolve_steps - before, 0);
	assert_int_equal(fs->resolves - resolves, 1);
	name_free(&nm, c);

	/* rm of a member link: the link, one step; its target's id comes
	 * with it (none for the target, which was one more by its name in
	 * users/).  The fixture's mutations fail: nothing is removed. */
	nm = name_in(t, members, "ada.lovelace@example.com", &c);
	before = fs->resolve_steps;
	resolves = fs->resolves;
	assert_int_equal(tgfs_unlink(fs, &nm, 4242), -EIO);
	assert_int_equal(fs->resolve_steps - before, 1);
	assert_int_equal(fs->resolves - resolves, 1);
	name_free(&nm, c);

	/* rm of a field (mv from elsewhere: replaced next, nothing sent):
	 * the name, one step from its keyed folder, once for the three
	 * that look at it (an edge's link? a relation link? a field) */
	nm = name_in(t, eng, "name", &c);
	before = fs->resolve_steps;
	assert_int_equal(tgfs_unlink(fs, &nm, 4242), 0);
	assert_int_equal(fs->resolve_steps - before, 1);
	name_free(&nm, c);

	/* rmdir of a field: the name, one step, for both that look at it
	 * (an edge? an object?) */
	nm = name_in(t, eng, "id", &c);
	before = fs->resolve_steps;
	assert_int_equal(tgfs_rmdir(fs, &nm, 4242), -ENOTDIR);
	assert_int_equal(fs->resolve_steps - before, 1);
	name_free(&nm, c);

	/* mv of a field onto a new name (vim's backup): the field, one
	 * step; its copy is a scratch file */
	nm = name_in(t, eng, "name", &c);
	to = name_in(t, eng, "name~", &c2);
	before = fs->resolve_steps;
	assert_int_equal(tgfs_rename(fs, &nm, &to, 0), 0);
	assert_int_equal(fs->resolve_steps - before, 1);
	name_free(&nm, c);
	name_free(&to, c2);

	/* the same rm by its path alone: a step for each component */
	nm = tgfs_name_of_path("/groups/Engineering/id");
	before = fs->resolve_steps;
	assert_int_equal(tgfs_unlink(fs, &nm, 4242), 0);
	assert_int_equal(fs->resolve_steps - before, 3);

	assert_int_equal(reads(), reads_before);
	inodes_free(t);
}

/* Scratch files go by their object's id: the key of a name in an
 * object's folder stays when the folder is renamed, and is found again
 * at the object's path now; a path with no object's folder is its own
 * key. */
static void test_scratch_key_by_id(void **state)
{
	struct tgfs *fs = *state;
	struct inodes *t = inodes_new();
	struct inodes_chain *c;
	uint64_t groups, eng;
	char *key, *again, path[4096];

	groups = learn(fs, t, "/groups");
	eng = learn(fs, t, "/groups/Engineering");
	assert_int_equal(inodes_chain(t, eng, ".name.swp", &c), 0);
	key = node_scratch_key(c);
	inodes_chain_free(c);
	assert_non_null(key);
	assert_int_equal(strncmp(key, "/groups#", 8), 0);
	assert_non_null(strstr(key, "/.name.swp"));
	assert_null(strstr(key, "Engineering"));
	assert_int_equal(tgfs_key_path(fs, key, path, sizeof(path)), 0);
	assert_string_equal(path, "/groups/Engineering/.name.swp");

	/* the folder renamed (as the kernel's table follows it): the same */
	assert_int_equal(inodes_rehash(t, eng, "Eng2"), 0);
	assert_int_equal(inodes_chain(t, eng, ".name.swp", &c), 0);
	again = node_scratch_key(c);
	inodes_chain_free(c);
	assert_string_equal(again, key);
	free(again);
	free(key);

	/* no object's folder on the way: the path, even with a '#' in a
	 * name (not a kind#id) */
	for (size_t i = 0; i < 2; i++) {
		const char *name = i ? "Team #2" : "Restored";
		char want[64];

		snprintf(want, sizeof(want), "/groups/%s", name);
		assert_int_equal(inodes_chain(t, groups, name, &c), 0);
		key = node_scratch_key(c);
		inodes_chain_free(c);
		assert_string_equal(key, want);
		assert_int_equal(tgfs_key_path(fs, key, path, sizeof(path)),
				 0);
		assert_string_equal(path, want);
		free(key);
	}

	/* an id no object has (deleted since): not found */
	assert_int_equal(tgfs_key_path(fs, "/groups#R3JvdXA6OTk5OTk=/x", path,
				       sizeof(path)),
			 -ENOENT);
	inodes_free(t);
}

/* A rename onto a name another object holds: both show as name~id. */
static void test_applied_rename_onto_a_taken_name(void **state)
{
	struct tgfs *fs = *state;
	const struct tg_kind *nets = tg_kind_named("networks");
	struct tg_cache_ref *ref;
	struct tg_object renamed;

	assert_int_equal(coll_get(fs, nets, &ref), 0);
	tg_cache_put(ref);
	expect_node(fs, "/networks/legacy", NODE_OBJECT);
	changed_copy("networks", "AWS prod", "name", "legacy", &renamed);
	cache_apply(fs, nets, &renamed, NULL);
	expect_err(fs, "/networks/legacy", -ENOENT);
	expect_err(fs, "/networks/AWS prod", -ENOENT);
}

/* A delete applied: gone at once, with no read. */
static void test_applied_delete(void **state)
{
	struct tgfs *fs = *state;
	const struct tg_kind *groups = tg_kind_named("groups");
	char id[256];
	unsigned before;

	cached_id(fs, groups, "/groups/Engineering", id);
	before = reads();
	cache_apply(fs, groups, NULL, id);
	expect_err(fs, "/groups/Engineering", -ENOENT);
	expect_node(fs, "/groups/Everyone", NODE_OBJECT);
	assert_int_equal(reads(), before);
	/* gone: "" as its name */
	strcat(id, " ");
	assert_true(was_noted(fs, id));
}

/* A read that fails with nothing cached is an EIO, and is not kept. */
static void test_failed_read(void **state)
{
	struct tgfs *fs = *state;
	const struct tg_kind *users = tg_kind_named("users");

	fixture_fail(users, true);
	expect_err(fs, "/users/ada.lovelace@example.com", -EIO);
	fixture_fail(users, false);
	expect_node(fs, "/users/ada.lovelace@example.com", NODE_OBJECT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_every_node_type, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_node_type_table, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_access_edges_are_folders,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_name_costs_one_lookup,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolve_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_resolve_once_after_rename,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_scratch_key_by_id, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_name_ops_resolve_once,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_applied_rename, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_applied_rename_onto_a_taken_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_applied_delete, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_failed_read, setup,
						teardown),
	};
	char state_dir[] = "/tmp/test_tree.XXXXXX";
	int rc;

	/* First-seen times go to a folder of this run's own. */
	if (!mkdtemp(state_dir))
		return 1;
	setenv("XDG_STATE_HOME", state_dir, 1);
	tg_log_set_level(TG_LOG_ERR);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	conf.api.url = "http://127.0.0.1:9/api/graphql/";
	conf.api.token = "test";
	conf.cache_ttl = 3600;
	fixture_load(FIXTURE_TENANT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	/* what seen_close wrote, and the folders it made */
	{
		char cmd[64];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", state_dir);
		if (system(cmd) != 0)
			rc = rc ? rc : 1;
	}
	return rc;
}
