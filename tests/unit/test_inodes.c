/*
 * test_inodes.c - the node ids the kernel holds (fs/inodes.c): paths
 * built from them, lookups and forgets, unlink and rename, names shared,
 * a table that grows past its first size, object folders that follow
 * their objects' renames by id, and the keys and chains that let a node
 * be found again without a walk from the root (node_resolve_chain).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "inodes.h"

#define ROOT 1

static size_t held(struct inodes *t)
{
	size_t n, most;

	inodes_count(t, &n, &most);
	return n;
}

static size_t most_held(struct inodes *t)
{
	size_t n, most;

	inodes_count(t, &n, &most);
	return most;
}

static uint64_t look(struct inodes *t, uint64_t parent, const char *name)
{
	uint64_t ino = 0, gen = 0;

	assert_int_equal(inodes_lookup(t, parent, name, NULL, &ino, &gen), 0);
	assert_true(ino > ROOT);
	assert_true(gen > 0);
	return ino;
}

static void assert_path(struct inodes *t, uint64_t ino, const char *child,
			const char *want)
{
	struct inodes_chain *c = NULL;

	assert_int_equal(inodes_chain(t, ino, child, &c), 0);
	assert_string_equal(c->path, want);
	inodes_chain_free(c);
}

static void test_paths(void **state)
{
	struct inodes *t = inodes_new();
	uint64_t dev, d1, name;

	(void)state;
	assert_non_null(t);
	assert_path(t, ROOT, NULL, "/");
	assert_path(t, ROOT, "devices", "/devices");
	dev = look(t, ROOT, "devices");
	d1 = look(t, dev, "RGV2aWNlOjE=");
	name = look(t, d1, "name");
	assert_path(t, name, NULL, "/devices/RGV2aWNlOjE=/name");
	assert_path(t, d1, "trust", "/devices/RGV2aWNlOjE=/trust");
	/* the same entry looked up again keeps its id */
	assert_int_equal(look(t, d1, "name"), name);
	assert_int_equal(inodes_find(t, "/devices/RGV2aWNlOjE=/name"), name);
	assert_int_equal(inodes_find(t, "/"), ROOT);
	assert_int_equal(inodes_find(t, "/devices/nope"), 0);
	assert_int_equal(held(t), 4);
	inodes_free(t);
}

static void test_unknown_ids(void **state)
{
	struct inodes *t = inodes_new();
	uint64_t ino, gen;
	struct inodes_chain *c = (struct inodes_chain *)t; /* not NULL */

	(void)state;
	assert_int_equal(inodes_chain(t, 99, NULL, &c), -ENOENT);
	assert_null(c);
	assert_int_equal(inodes_chain(t, 0, NULL, &c), -ENOENT);
	assert_int_equal(inodes_lookup(t, 42, "a", NULL, &ino, &gen), -ENOENT);
	/* forgetting the root or an unknown id changes nothing */
	inodes_forget(t, ROOT, 1);
	inodes_forget(t, 77, 1);
	assert_path(t, ROOT, NULL, "/");
	inodes_free(t);
}

/* An id goes with its last lookup, and only once nothing is under it. */
static void test_forget(void **state)
{
	struct inodes *t = inodes_new();
	uint64_t dir, file, again, gen, stamp;
	struct inodes_chain *c;

	(void)state;
	dir = look(t, ROOT, "groups");
	assert_int_equal(look(t, ROOT, "groups"), dir); /* nlookup 2 */
	file = look(t, dir, "Engineering");
	stamp = inodes_stamp(t, dir);
	assert_int_equal(stamp & 0xffffffffu, dir);
	inodes_forget(t, dir, 2);
	/* the folder stays while its child is known: paths still work */
	assert_path(t, file, NULL, "/groups/Engineering");
	assert_int_equal(held(t), 3);
	inodes_forget(t, file, 1);
	/* both gone now */
	assert_int_equal(held(t), 1);
	assert_int_equal(inodes_chain(t, file, NULL, &c), -ENOENT);
	assert_int_equal(inodes_chain(t, dir, NULL, &c), -ENOENT);
	/* a reused slot has a new generation */
	assert_int_equal(inodes_lookup(t, ROOT, "users", NULL, &again, &gen), 0);
	assert_true(gen > 1);
	/* the stamp names the use, not the slot: a forgotten id given out
	 * again is not the node it named (a walk's "visited before") */
	assert_int_equal(again, dir); /* the last slot freed */
	assert_int_equal(inodes_stamp(t, file), 0);
	assert_true(inodes_stamp(t, again) != 0);
	assert_true(inodes_stamp(t, again) != stamp);
	inodes_free(t);
}

static void test_unlink(void **state)
{
	struct inodes *t = inodes_new();
	uint64_t dir, f, f2;

	(void)state;
	dir = look(t, ROOT, "networks");
	f = look(t, dir, "old");
	inodes_unlink(t, dir, "old");
	assert_int_equal(inodes_find(t, "/networks/old"), 0);
	/* the id lives on until forgotten, and a new lookup makes another */
	assert_path(t, f, NULL, "/networks/old");
	f2 = look(t, dir, "old");
	assert_true(f2 != f);
	inodes_forget(t, f, 1);
	assert_int_equal(inodes_find(t, "/networks/old"), f2);
	inodes_free(t);
}

static void test_rename(void **state)
{
	struct inodes *t = inodes_new();
	uint64_t a, b, x, y, child;

	(void)state;
	a = look(t, ROOT, "a");
	b = look(t, ROOT, "b");
	x = look(t, a, "x");
	child = look(t, x, "name");
	y = look(t, b, "y");
	/* x replaces y: y's id is no longer found, x's subtree moves */
	assert_int_equal(inodes_rename(t, a, "x", b, "y"), 0);
	assert_int_equal(inodes_find(t, "/b/y"), x);
	assert_int_equal(inodes_find(t, "/a/x"), 0);
	assert_path(t, child, NULL, "/b/y/name");
	assert_path(t, y, NULL, "/b/y"); /* its last name, until forgotten */
	inodes_forget(t, y, 1);
	/* a folder that lost its last child goes with its last lookup */
	inodes_forget(t, a, 1);
	assert_int_equal(held(t), 4); /* root, b, y (x), name */
	/* renaming what the kernel never looked up changes nothing */
	assert_int_equal(inodes_rename(t, b, "zzz", ROOT, "q"), 0);
	assert_int_equal(inodes_find(t, "/q"), 0);
	inodes_free(t);
}

/* Many more ids than the first table holds (buckets and slots grow), all
 * found by path, then all forgotten. */
static void test_many(void **state)
{
	enum { N = 20000 };
	struct inodes *t = inodes_new();
	uint64_t dir = look(t, ROOT, "devices");
	uint64_t *ids = calloc(N, sizeof(*ids));
	char name[32], path[64];

	(void)state;
	assert_non_null(ids);
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "dev%d", i);
		ids[i] = look(t, dir, name);
	}
	assert_int_equal(held(t), N + 2);
	for (int i = 0; i < N; i += 997) {
		snprintf(path, sizeof(path), "/devices/dev%d", i);
		assert_int_equal(inodes_find(t, path), ids[i]);
		assert_path(t, ids[i], NULL, path);
	}
	for (int i = 0; i < N; i++)
		inodes_forget(t, ids[i], 1);
	assert_int_equal(held(t), 2);
	assert_int_equal(most_held(t), N + 2);
	/* The same again takes the freed ids: none is made. */
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "again%d", i);
		ids[i] = look(t, dir, name);
	}
	assert_int_equal(held(t), N + 2);
	assert_int_equal(most_held(t), N + 2);
	for (int i = 0; i < N; i++)
		inodes_forget(t, ids[i], 1);
	free(ids);
	inodes_free(t);
}

/* Nodes of one name share it: forgetting some leaves the others' paths
 * whole (under ASan in CI, a name freed too soon is a failure). */
static void test_shared_names(void **state)
{
	enum { N = 300 };
	struct inodes *t = inodes_new();
	uint64_t dirs[N], files[N];
	char name[32], path[64];

	(void)state;
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "obj%d", i);
		dirs[i] = look(t, ROOT, name);
		files[i] = look(t, dirs[i], "object.json");
	}
	for (int i = 0; i < N; i += 2)
		inodes_forget(t, files[i], 1);
	for (int i = 1; i < N; i += 2) {
		snprintf(path, sizeof(path), "/obj%d/object.json", i);
		assert_path(t, files[i], NULL, path);
		assert_int_equal(inodes_find(t, path), files[i]);
	}
	/* a rename onto a name in use elsewhere shares it too */
	assert_int_equal(inodes_rename(t, dirs[1], "object.json", dirs[0],
				       "object.json"), 0);
	assert_path(t, files[1], NULL, "/obj0/object.json");
	for (int i = 1; i < N; i += 2)
		inodes_forget(t, files[i], 1);
	for (int i = 0; i < N; i++)
		inodes_forget(t, dirs[i], 1);
	assert_int_equal(held(t), 1);
	inodes_free(t);
}

static uint64_t look_obj(struct inodes *t, uint64_t parent, const char *name,
			 const char *id)
{
	uint64_t ino = 0, gen = 0;

	assert_int_equal(inodes_lookup(t, parent, name, id, &ino, &gen), 0);
	return ino;
}

/* An object's folder renamed: its node, and the nodes under it, keep
 * their ids and build the new path; its old name finds nothing. */
static void test_object_rename(void **state)
{
	struct inodes *t = inodes_new();
	uint64_t groups, eng, file, net, conn, ids[8];
	char *dir, *name, *id;

	(void)state;
	groups = look(t, ROOT, "groups");
	eng = look_obj(t, groups, "Engineering", "R3JvdXA6MQ==");
	file = look(t, eng, "name");
	/* the same object again: the same node */
	assert_int_equal(look_obj(t, groups, "Engineering", "R3JvdXA6MQ=="),
			 eng);
	assert_int_equal(inodes_objects(t, file, ids, 8), 1);
	assert_int_equal(ids[0], eng);
	assert_int_equal(inodes_object(t, eng, &dir, &name, &id), 0);
	assert_string_equal(dir, "/groups");
	assert_string_equal(name, "Engineering");
	assert_string_equal(id, "R3JvdXA6MQ==");
	free(dir);
	free(name);
	free(id);
	assert_int_equal(inodes_object(t, file, &dir, &name, &id), -ENOENT);

	assert_int_equal(inodes_rehash(t, eng, "EngRenamed"), 0);
	assert_path(t, file, NULL, "/groups/EngRenamed/name");
	assert_path(t, eng, "id", "/groups/EngRenamed/id");
	assert_int_equal(inodes_find(t, "/groups/Engineering"), 0);
	assert_int_equal(inodes_find(t, "/groups/EngRenamed"), eng);
	/* it keeps its id: a lookup by the new name finds the node */
	assert_int_equal(look_obj(t, groups, "EngRenamed", "R3JvdXA6MQ=="),
			 eng);
	/* a new object by the old name is a node of its own */
	assert_true(look_obj(t, groups, "Engineering", "R3JvdXA6Mg==") !=
		    eng);

	/* nested: a network's connector, top down */
	net = look_obj(t, look(t, ROOT, "networks"), "AWS", "TjoxMA==");
	conn = look_obj(t, look(t, net, "connectors"), "c1", "Qzox");
	file = look(t, conn, "state");
	assert_int_equal(inodes_objects(t, file, ids, 8), 2);
	assert_int_equal(ids[0], net);
	assert_int_equal(ids[1], conn);
	assert_int_equal(inodes_objects(t, file, ids, 1), 0);
	assert_int_equal(inodes_rehash(t, net, "AWS prod"), 0);
	assert_path(t, file, NULL, "/networks/AWS prod/connectors/c1/state");
	/* a mv keeps the id too */
	assert_int_equal(inodes_rename(t, look(t, net, "connectors"), "c1",
				       look(t, net, "connectors"), "c2"),
			 0);
	assert_int_equal(inodes_object(t, conn, &dir, &name, &id), 0);
	assert_string_equal(dir, "/networks/AWS prod/connectors");
	assert_string_equal(name, "c2");
	assert_string_equal(id, "Qzox");
	free(dir);
	free(name);
	free(id);
	inodes_free(t);
}

/* What a change to an object invalidates is found by its id, wherever
 * the kernel holds it: renamed, duplicated, or taken by another. */
static void test_by_object(void **state)
{
	struct inodes *t = inodes_new();
	uint64_t groups, eng, dup, other, name, json, ids[8], from = 0,
						      parent;
	char old[64];
	bool hashed;
	size_t n;

	(void)state;
	groups = look(t, ROOT, "groups");
	eng = look_obj(t, groups, "Eng", "R3JvdXA6MQ==");
	name = look(t, eng, "name");
	json = look(t, eng, "object.json");
	other = look_obj(t, groups, "Ops", "R3JvdXA6Mg==");
	look(t, other, "name");
	/* the same object by another name (looked up before a rename was
	 * followed): a node of its own, with the same id */
	dup = look_obj(t, groups, "EngNew", "R3JvdXA6MQ==");

	n = inodes_with_id(t, "R3JvdXA6MQ==", &from, ids, 8);
	assert_int_equal(n, 2);
	assert_int_equal(ids[0], eng);
	assert_int_equal(ids[1], dup);
	assert_int_equal(inodes_with_id(t, "R3JvdXA6MQ==", &from, ids, 8), 0);
	/* in batches */
	from = 0;
	assert_int_equal(inodes_with_id(t, "R3JvdXA6MQ==", &from, ids, 1), 1);
	assert_int_equal(ids[0], eng);
	assert_int_equal(inodes_with_id(t, "R3JvdXA6MQ==", &from, ids, 1), 1);
	assert_int_equal(ids[0], dup);
	/* any object */
	from = 0;
	assert_int_equal(inodes_with_id(t, NULL, &from, ids, 8), 3);

	from = 0;
	n = inodes_children(t, eng, &from, ids, 8);
	assert_int_equal(n, 2);
	assert_int_equal(ids[0], name);
	assert_int_equal(ids[1], json);
	/* below it too: a folder in it, and what is in that */
	{
		uint64_t users = look(t, eng, "users");
		uint64_t ada = look(t, users, "ada");

		from = 0;
		assert_int_equal(inodes_children(t, eng, &from, ids, 8), 3);
		from = 0;
		n = inodes_descendants(t, eng, &from, ids, 8);
		assert_int_equal(n, 4);
		assert_int_equal(ids[2], users);
		assert_int_equal(ids[3], ada);
		from = 0;
		assert_int_equal(inodes_descendants(t, users, &from, ids, 8),
				 1);
		assert_int_equal(ids[0], ada);
	}

	assert_int_equal(inodes_entry(t, eng, &parent, old, sizeof(old),
				      &hashed), 0);
	assert_int_equal(parent, groups);
	assert_string_equal(old, "Eng");
	assert_true(hashed);
	/* another object takes the name: the old node is not found by it */
	look_obj(t, groups, "Eng", "R3JvdXA6Mw==");
	assert_int_equal(inodes_entry(t, eng, &parent, NULL, 0, &hashed), 0);
	assert_false(hashed);
	assert_int_equal(inodes_entry(t, ROOT, &parent, old, sizeof(old),
				      &hashed), -ENOENT);
	inodes_free(t);
}

/* A node found by its object's id and its key (inval.h INVAL_KEYED):
 * in every folder of the object, whatever it is called, and not in a
 * nested object's folder; where the path finds another object's node
 * (the name taken by another), or none. */
static void test_keyed(void **state)
{
	/* a group's users folder: a rel folder (type 5) of kind 3, rel 2 */
	const struct inodes_key users_key = { true, 5, 3, 2 };
	struct inodes *t = inodes_new();
	uint64_t groups, eng, dup, users, dusers, other, ousers, nested,
		nusers, ada, ids[8], from = 0;

	(void)state;
	groups = look(t, ROOT, "groups");
	eng = look_obj(t, groups, "Eng", "R3JvdXA6MQ==");
	users = look(t, eng, "users");
	inodes_set_key(t, users, 5, 3, 2);
	ada = look(t, users, "ada");
	inodes_set_key(t, ada, 6, 3, 2); /* a link in it */
	inodes_set_key(t, eng, 2, 3, 0);
	/* a nested object's folder with a node of the same key: its own */
	nested = look_obj(t, eng, "Sub", "U3ViOjE=");
	nusers = look(t, nested, "users");
	inodes_set_key(t, nusers, 5, 3, 2);
	/* the same group by its new name (renamed by someone else) */
	dup = look_obj(t, groups, "EngNew", "R3JvdXA6MQ==");
	dusers = look(t, dup, "users");
	inodes_set_key(t, dusers, 5, 3, 2);

	assert_int_equal(inodes_keyed(t, eng, users_key, &from, ids, 8), 1);
	assert_int_equal(ids[0], users);
	assert_int_equal(inodes_keyed(t, eng, users_key, &from, ids, 8), 0);
	from = 0;
	assert_int_equal(inodes_keyed(t, dup, users_key, &from, ids, 8), 1);
	assert_int_equal(ids[0], dusers);
	/* the object's folder itself, by its own key */
	from = 0;
	assert_int_equal(inodes_keyed(t, eng,
				      (struct inodes_key){ true, 2, 3, 0 },
				      &from, ids, 8),
			 1);
	assert_int_equal(ids[0], eng);
	/* no key: none */
	from = 0;
	assert_int_equal(inodes_keyed(t, eng, (struct inodes_key){ 0 },
				      &from, ids, 8),
			 0);
	assert_int_equal(inodes_child(t, users, "ada"), ada);
	assert_int_equal(inodes_child(t, users, "bob"), 0);

	/* Another group takes the old name: the path finds its folder, the
	 * key still the renamed group's. */
	other = look_obj(t, groups, "Eng", "R3JvdXA6Mw==");
	ousers = look(t, other, "users");
	inodes_set_key(t, ousers, 5, 3, 2);
	assert_int_equal(inodes_find(t, "/groups/Eng/users"), ousers);
	from = 0;
	assert_int_equal(inodes_keyed(t, eng, users_key, &from, ids, 8), 1);
	assert_int_equal(ids[0], users);
	assert_int_equal(inodes_child(t, groups, "Eng"), other);
	inodes_free(t);
}

/* A node's key stays with it (across a rename, and in 32 bytes a node);
 * its chain gives each name on its way, with keys and object ids. */
static void test_keys_chain(void **state)
{
	struct inodes *t = inodes_new();
	struct inodes_chain *c = NULL, *d;
	uint64_t nets, net, conns, conn, file;

	(void)state;
	nets = look(t, ROOT, "networks");
	net = look_obj(t, nets, "AWS prod", "UmVtb3RlTmV0d29yazox");
	conns = look(t, net, "connectors");
	conn = look_obj(t, conns, "c1", "Q29ubmVjdG9yOjE=");
	file = look(t, conn, "state");
	inodes_set_key(t, nets, 1, 0, 0);
	inodes_set_key(t, net, 2, 0, 0);
	inodes_set_key(t, conn, 2, 1, 0);
	inodes_set_key(t, file, 3, 1, 40000);
	inodes_set_key(t, conns, 1, 1, 70000); /* out of range: not kept */
	inodes_set_key(t, 9999, 1, 1, 1);       /* unknown: ignored */

	assert_int_equal(inodes_chain(t, file, NULL, &c), 0);
	assert_string_equal(c->path, "/networks/AWS prod/connectors/c1/state");
	assert_int_equal(c->n, 5);
	assert_string_equal(c->hop[0].name, "");
	assert_false(c->hop[0].key.set);
	assert_string_equal(c->hop[1].name, "networks");
	assert_true(c->hop[1].key.set);
	assert_int_equal(c->hop[1].key.type, 1);
	assert_null(c->hop[1].id);
	assert_string_equal(c->hop[2].name, "AWS prod");
	assert_string_equal(c->hop[2].id, "UmVtb3RlTmV0d29yazox");
	assert_false(c->hop[3].key.set);
	assert_string_equal(c->hop[4].id, "Q29ubmVjdG9yOjE=");
	assert_int_equal(c->hop[4].key.kind, 1);
	assert_string_equal(c->hop[5].name, "state");
	assert_int_equal(c->hop[5].key.index, 40000);
	assert_null(c->hop[5].id);
	/* a copy holds its own names */
	d = inodes_chain_dup(c);
	inodes_chain_free(c);
	assert_non_null(d);
	assert_string_equal(d->hop[2].name, "AWS prod");
	assert_string_equal(d->hop[4].id, "Q29ubmVjdG9yOjE=");
	assert_string_equal(d->path, "/networks/AWS prod/connectors/c1/state");
	inodes_chain_free(d);

	/* an entry not looked up yet: keyless, last */
	assert_int_equal(inodes_chain(t, net, "name", &c), 0);
	assert_string_equal(c->path, "/networks/AWS prod/name");
	assert_int_equal(c->n, 3);
	assert_true(c->hop[2].key.set);
	assert_string_equal(c->hop[3].name, "name");
	assert_false(c->hop[3].key.set);
	inodes_chain_free(c);
	/* the root alone, and its entry */
	assert_int_equal(inodes_chain(t, ROOT, NULL, &c), 0);
	assert_string_equal(c->path, "/");
	assert_int_equal(c->n, 0);
	inodes_chain_free(c);
	assert_int_equal(inodes_chain(t, ROOT, "devices", &c), 0);
	assert_int_equal(c->n, 1);
	assert_string_equal(c->hop[1].name, "devices");
	inodes_chain_free(c);

	/* renamed: the key and the id stay, the names follow */
	assert_int_equal(inodes_rehash(t, net, "AWS"), 0);
	assert_int_equal(inodes_chain(t, file, NULL, &c), 0);
	assert_string_equal(c->path, "/networks/AWS/connectors/c1/state");
	assert_true(c->hop[2].key.set);
	assert_int_equal(c->hop[2].key.type, 2);
	assert_string_equal(c->hop[2].id, "UmVtb3RlTmV0d29yazox");
	inodes_chain_free(c);
	assert_int_equal(inodes_chain(t, 9999, NULL, &c), -ENOENT);
	assert_null(c);
	inodes_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_unknown_ids),
		cmocka_unit_test(test_forget),
		cmocka_unit_test(test_unlink),
		cmocka_unit_test(test_rename),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_shared_names),
		cmocka_unit_test(test_object_rename),
		cmocka_unit_test(test_by_object),
		cmocka_unit_test(test_keys_chain),
		cmocka_unit_test(test_keyed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
