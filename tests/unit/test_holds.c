/*
 * test_holds.c - the store of held link removals (fs/holds.c), with no
 * mount: keyed by object (kind and id), never by a path; sent through
 * the sender it is given, when a request's place ends them; dropped with
 * the object; taken back when the link is made again; a failed send
 * owed to its remover as EIO.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "holds.h"

/* What the sender was given, and what it answers. */
static struct {
	unsigned calls, changed;
	const struct tg_kind *kind;
	char oid[64];
	size_t n;
	char names[8][64];
	int rc;
} sent;

static void fake_send(void *ctx, const struct tg_kind *kind, const char *oid,
		      struct holds_link *links, size_t n)
{
	(void)ctx;
	sent.calls++;
	sent.kind = kind;
	snprintf(sent.oid, sizeof(sent.oid), "%s", oid);
	sent.n = n;
	for (size_t i = 0; i < n; i++) {
		if (i < 8)
			snprintf(sent.names[i], sizeof(sent.names[i]), "%s",
				 links[i].name);
		links[i].rc = sent.rc;
	}
}

static void fake_changed(void *ctx)
{
	(void)ctx;
	sent.changed++;
}

static const struct holds_ops fake = { fake_send, fake_changed };

static int reset(void **state)
{
	(void)state;
	memset(&sent, 0, sizeof(sent));
	return 0;
}

#define GROUPS tg_kind_by_dir(NULL, "groups")
#define USERS tg_kind_by_dir(NULL, "users")
#define AT(w, k, i) (&(struct holds_place){ (w), (k), (i) })

/* The remover (this process) listed group G1 and removed two members. */
static struct holds *two_held(void)
{
	struct holds *h = holds_new(&fake, NULL, NULL);
	pid_t me = getpid();

	assert_non_null(h);
	/* not listed: not held, the caller sends at once */
	assert_int_equal(holds_take(h, GROUPS, "G1", 1, "a@x", "U1", me),
			 -ENOTSUP);
	holds_listed(h, GROUPS, "G1", me);
	assert_true(holds_listed_by(h, GROUPS, "G1", me));
	assert_false(holds_listed_by(h, GROUPS, "G2", me));
	assert_false(holds_listed_by(h, USERS, "G1", me));
	assert_int_equal(holds_take(h, GROUPS, "G1", 1, "a@x", "U1", me), 0);
	assert_int_equal(holds_take(h, GROUPS, "G1", 1, "b@x", "U2", me), 0);
	assert_true(holds_any(h));
	return h;
}

static void test_keyed_by_object(void **state)
{
	struct holds *h = two_held();

	(void)state;
	assert_true(holds_hidden(h, GROUPS, "G1", 1, "a@x"));
	assert_false(holds_hidden(h, GROUPS, "G1", 2, "a@x"));
	assert_false(holds_hidden(h, GROUPS, "G2", 1, "a@x"));
	assert_false(holds_hidden(h, USERS, "G1", 1, "a@x"));
	assert_int_equal(sent.changed, 2);
	assert_int_equal(sent.calls, 0);
	holds_free(h);
	/* at the end, what is still held goes: once, both together */
	assert_int_equal(sent.calls, 1);
	assert_int_equal(sent.n, 2);
}

static void test_sent_when_the_remover_moves_on(void **state)
{
	struct holds *h = two_held();
	pid_t me = getpid();

	(void)state;
	/* on the way (the root, the groups folder) and in G1, whatever
	 * G1 is called: nothing sent */
	assert_int_equal(holds_request(h, AT(HOLDS_AT_ROOT, NULL, NULL), me),
			 0);
	assert_int_equal(
		holds_request(h, AT(HOLDS_AT_KIND, GROUPS, NULL), me), 0);
	assert_int_equal(
		holds_request(h, AT(HOLDS_AT_OBJECT, GROUPS, "G1"), me), 0);
	assert_int_equal(sent.calls, 0);
	/* another folder (users/U1: not on the way to G1): sent, one call
	 * with both, to G1 */
	assert_int_equal(
		holds_request(h, AT(HOLDS_AT_OBJECT, USERS, "U1"), me), 0);
	assert_int_equal(sent.calls, 1);
	assert_ptr_equal(sent.kind, GROUPS);
	assert_string_equal(sent.oid, "G1");
	assert_int_equal(sent.n, 2);
	assert_string_equal(sent.names[0], "a@x");
	assert_string_equal(sent.names[1], "b@x");
	assert_false(holds_hidden(h, GROUPS, "G1", 1, "a@x"));
	assert_false(holds_any(h));
	holds_free(h);
	assert_int_equal(sent.calls, 1);
}

static void test_sent_at_another_process_request_in_it(void **state)
{
	struct holds *h = two_held();
	pid_t other = getppid();

	(void)state;
	/* elsewhere, or on the way: not its business */
	assert_int_equal(
		holds_request(h, AT(HOLDS_AT_OBJECT, GROUPS, "G2"), other), 0);
	assert_int_equal(
		holds_request(h, AT(HOLDS_AT_KIND, GROUPS, NULL), other), 0);
	assert_int_equal(sent.calls, 0);
	/* in G1 (by its id: an mv of G1 by its old name is in G1) */
	assert_int_equal(
		holds_request(h, AT(HOLDS_AT_OBJECT, GROUPS, "G1"), other), 0);
	assert_int_equal(sent.calls, 1);
	assert_int_equal(sent.n, 2);
	holds_free(h);
	assert_int_equal(sent.calls, 1);
}

static void test_dropped_with_the_object_taken_back_when_made(void **state)
{
	struct holds *h = two_held();

	(void)state;
	assert_false(holds_cancel(h, GROUPS, "G1", 1, "c@x"));
	assert_true(holds_cancel(h, GROUPS, "G1", 1, "a@x"));
	assert_false(holds_hidden(h, GROUPS, "G1", 1, "a@x"));
	holds_drop(h, GROUPS, "G2"); /* another object: nothing */
	assert_true(holds_hidden(h, GROUPS, "G1", 1, "b@x"));
	holds_drop(h, GROUPS, "G1");
	assert_false(holds_any(h));
	holds_free(h);
	assert_int_equal(sent.calls, 0);
}

static void test_a_failed_send_is_eio_to_its_remover(void **state)
{
	struct holds *h = two_held();
	pid_t me = getpid();

	(void)state;
	sent.rc = -EIO;
	/* the remover's own request ends them: it hears at once */
	assert_int_equal(
		holds_request(h, AT(HOLDS_AT_OTHER, NULL, NULL), me), -EIO);
	assert_int_equal(sent.calls, 1);
	assert_false(holds_hidden(h, GROUPS, "G1", 1, "a@x")); /* back */
	assert_int_equal(holds_request(h, AT(HOLDS_AT_OTHER, NULL, NULL), me),
			 0);
	/* ended by another's request: the remover's next one is EIO */
	holds_listed(h, GROUPS, "G1", me);
	assert_int_equal(holds_take(h, GROUPS, "G1", 1, "a@x", "U1", me), 0);
	assert_int_equal(holds_request(h, AT(HOLDS_AT_OBJECT, GROUPS, "G1"),
				       getppid()),
			 0);
	assert_int_equal(sent.calls, 2);
	assert_int_equal(holds_request(h, AT(HOLDS_AT_ROOT, NULL, NULL), me),
			 -EIO);
	assert_int_equal(holds_request(h, AT(HOLDS_AT_ROOT, NULL, NULL), me),
			 0);
	holds_free(h);
	assert_int_equal(sent.calls, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_keyed_by_object, reset),
		cmocka_unit_test_setup(test_sent_when_the_remover_moves_on,
				       reset),
		cmocka_unit_test_setup(
			test_sent_at_another_process_request_in_it, reset),
		cmocka_unit_test_setup(
			test_dropped_with_the_object_taken_back_when_made,
			reset),
		cmocka_unit_test_setup(test_a_failed_send_is_eio_to_its_remover,
				       reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
