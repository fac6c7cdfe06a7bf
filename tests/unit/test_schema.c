/*
 * test_schema.c - the live schema (api/schema.c, api/prune.c): the parse
 * of an introspection answer, selections pruned to it (fields left out,
 * subtype-only fields put into fragments, fragments that cannot match
 * dropped), mutation calls checked against it, its SDL, and the schema
 * put in use for the real kinds table (a field's file absent).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../api/schema_int.h"

/* Introspection JSON, written small. */
#define Q(s) "\"" s "\""
#define T(k, n) "{\"kind\":" Q(k) ",\"name\":" Q(n) ",\"ofType\":null}"
#define NN(t) "{\"kind\":\"NON_NULL\",\"name\":null,\"ofType\":" t "}"
#define LIST(t) "{\"kind\":\"LIST\",\"name\":null,\"ofType\":" t "}"
#define S(n) T("SCALAR", n)
#define O(n) T("OBJECT", n)
#define ARG(n, t) "{\"name\":" Q(n) ",\"type\":" t "}"
#define FA(n, args, t) "{\"name\":" Q(n) ",\"args\":[" args "],\"type\":" t "}"
#define F(n, t) FA(n, "", t)
#define NM(n) "{\"name\":" Q(n) "}"
#define TYPE(kind, n, fields, ifaces, possible, values, inputs)             \
	"{\"kind\":" Q(kind) ",\"name\":" Q(n) ",\"fields\":" fields         \
	",\"interfaces\":" ifaces ",\"possibleTypes\":" possible           \
	",\"enumValues\":" values ",\"inputFields\":" inputs "}"
#define OBJ(n, ifaces, ...) \
	TYPE("OBJECT", n, "[" __VA_ARGS__ "]", "[" ifaces "]", "null", "null", "null")

#define RES_FIELDS F("id", NN(S("ID"))) "," F("name", NN(S("String"))) "," \
	F("address", NN(O("ResourceAddress")))

static const char introspection[] =
	"{\"data\":{\"__schema\":{\"queryType\":{\"name\":\"Query\"},"
	"\"mutationType\":{\"name\":\"Mutation\"},\"types\":["
	OBJ("Query", "",
	    FA("resources", ARG("first", S("Int")),
	       NN(O("ResourceConnection"))) ","
	    F("connectors", NN(O("ConnectorConnection")))) ","
	OBJ("ResourceConnection", "", F("totalCount", NN(S("Int"))) ","
	    F("edges", NN(LIST(NN(O("ResourceEdge")))))) ","
	OBJ("ResourceEdge", "", F("node", NN(T("INTERFACE", "Resource")))) ","
	OBJ("ConnectorConnection", "", F("totalCount", NN(S("Int")))) ","
	TYPE("INTERFACE", "Resource", "[" RES_FIELDS "," F("access",
	     NN(O("AccessConnection"))) "]", "[]",
	     "[" NM("NetworkResource") "," NM("KubernetesResource") "]",
	     "null", "null") ","
	OBJ("NetworkResource", NM("Resource"), RES_FIELDS ","
	    F("isBrowserShortcutEnabled", NN(S("Boolean"))) ","
	    F("routingMode", T("ENUM", "RoutingMode")) ","
	    F("access", NN(O("AccessConnection")))) ","
	OBJ("KubernetesResource", NM("Resource"), RES_FIELDS ","
	    F("gateway", O("Gateway")) ","
	    F("access", NN(O("AccessConnection")))) ","
	OBJ("Gateway", "", F("id", NN(S("ID")))) ","
	OBJ("AccessConnection", "", F("edges",
	    NN(LIST(NN(O("AccessEdge")))))) ","
	OBJ("AccessEdge", "", F("node", NN(T("UNION", "Principal")))) ","
	TYPE("UNION", "Principal", "null", "null",
	     "[" NM("Group") "," NM("ServiceAccount") "]", "null", "null") ","
	OBJ("Group", "", F("id", NN(S("ID"))) "," F("name", S("String"))) ","
	OBJ("ServiceAccount", "", F("id", NN(S("ID")))) ","
	OBJ("ResourceAddress", "", F("type", NN(T("ENUM", "AddressType"))) ","
	    F("value", NN(S("String")))) ","
	OBJ("Connector", "", F("id", NN(S("ID"))) "," F("name", S("String"))) ","
	TYPE("ENUM", "AddressType", "null", "null", "null",
	     "[" NM("DNS") "," NM("IP") "]", "null") ","
	TYPE("ENUM", "RoutingMode", "null", "null", "null",
	     "[" NM("THROUGH_TWINGATE") "]", "null") ","
	TYPE("INPUT_OBJECT", "ProtocolsInput", "null", "null", "null",
	     "null", "[" ARG("allowIcmp", S("Boolean")) "," ARG("tcp",
	     LIST(NN(S("Int")))) "]") ","
	OBJ("Mutation", "",
	    FA("resourceUpdate", ARG("id", NN(S("ID"))) ","
	       ARG("name", S("String")) ","
	       ARG("protocols", T("INPUT_OBJECT", "ProtocolsInput")) ","
	       ARG("securityPolicyId", S("ID")),
	       NN(O("ResourceUpdateMutation"))) ","
	    FA("resourceAccessAdd", ARG("resourceId", NN(S("ID"))) ","
	       ARG("access", LIST(S("ID"))),
	       NN(O("ResourceUpdateMutation")))) ","
	OBJ("ResourceUpdateMutation", "", F("ok", NN(S("Boolean"))) ","
	    F("entity", O("NetworkResource"))) ","
	TYPE("SCALAR", "ID", "null", "null", "null", "null", "null") ","
	TYPE("SCALAR", "DateTime", "null", "null", "null", "null", "null") ","
	OBJ("__Type", "", F("name", S("String")))
	"]}}}";

static struct tg_schema *parsed(void)
{
	struct tg_schema *s = NULL;

	assert_int_equal(tg_schema_parse(introspection, strlen(introspection),
					 &s), TG_OK);
	assert_non_null(s);
	return s;
}

/* The fields left out, one "Type.field " each. */
static void note(void *ctx, const char *what)
{
	strcat(ctx, what);
	strcat(ctx, " ");
}

static void expect_prune(const struct tg_schema *s, const char *type,
			 const char *sel, const char *want,
			 const char *want_dropped)
{
	char dropped[512] = "";
	char *got = tg_schema_prune(s, type, sel, note, dropped);

	assert_non_null(got);
	assert_string_equal(got, want);
	assert_string_equal(dropped, want_dropped);
	free(got);
}

static void test_parse(void **state)
{
	struct tg_schema *s = parsed();

	(void)state;
	assert_true(tg_schema_has_type(s, "Resource"));
	assert_true(tg_schema_has_field(s, "NetworkResource", "routingMode"));
	assert_false(tg_schema_has_field(s, "Resource", "routingMode"));
	assert_false(tg_schema_has_field(s, "Connector", "hostname"));
	assert_false(tg_schema_has_type(s, "Nope"));
	tg_schema_free(s);
}

static void test_parse_refused(void **state)
{
	static const char *const bad[] = {
		"", "{", "[]", "{\"data\":{}}", "{\"data\":{\"__schema\":{}}}",
		/* a type without a name */
		"{\"__schema\":{\"queryType\":{\"name\":\"Q\"},\"types\":"
		"[{\"kind\":\"OBJECT\"}]}}",
		/* the query type is not among the types */
		"{\"__schema\":{\"queryType\":{\"name\":\"Q\"},\"types\":[]}}",
		/* a field whose type names nothing */
		"{\"__schema\":{\"queryType\":{\"name\":\"Q\"},\"types\":"
		"[{\"kind\":\"OBJECT\",\"name\":\"Q\",\"fields\":[{\"name\":"
		"\"a\",\"args\":[],\"type\":{\"kind\":\"NON_NULL\"}}]}]}}",
	};
	struct tg_schema *s = (void *)1;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(tg_schema_parse(bad[i], strlen(bad[i]), &s),
				 TG_EPROTO);
		assert_null(s);
	}
	/* The data object alone, and __schema alone, are taken too. */
	assert_int_equal(tg_schema_parse(introspection + 8,
					 strlen(introspection) - 9, &s),
			 TG_OK);
	tg_schema_free(s);
}

static void test_prune(void **state)
{
	struct tg_schema *s = parsed();

	(void)state;
	/* a field the type lacks is left out, and said */
	expect_prune(s, "Connector", "id name hostname", "id name",
		     "Connector.hostname ");
	/* sub-selections pruned to the field's type */
	expect_prune(s, "Resource", "id address { type value bogus }",
		     "id address { type value }", "ResourceAddress.bogus ");
	/* a field whose sub-selection is left empty goes too */
	expect_prune(s, "Resource", "id address { bogus }", "id",
		     "ResourceAddress.bogus Resource.address ");
	/* an interface's field on some of its types: in fragments */
	expect_prune(s, "Resource",
		     "id isBrowserShortcutEnabled "
		     "... on NetworkResource { routingMode }",
		     "id ... on NetworkResource { isBrowserShortcutEnabled } "
		     "... on NetworkResource { routingMode }", "");
	/* on several types, one fragment each */
	expect_prune(s, "Resource", "access { edges { node { __typename } } }",
		     "access { edges { node { __typename } } }", "");
	/* a union: fragments kept, fields of its types pruned */
	expect_prune(s, "AccessEdge",
		     "node { __typename ... on Group { id name nope } "
		     "... on ServiceAccount { id name } ... on Nope { id } }",
		     "node { __typename ... on Group { id name } "
		     "... on ServiceAccount { id } }",
		     "Group.nope ServiceAccount.name Nope ");
	/* in an object type, a fragment on another object never matches:
	 * left out (not an error, nothing to log) */
	expect_prune(s, "NetworkResource",
		     "id ... on KubernetesResource { gateway { id } } "
		     "... on NetworkResource { routingMode } "
		     "... on Resource { name }",
		     "id ... on NetworkResource { routingMode } "
		     "... on Resource { name }", "");
	/* aliases and arguments as written */
	expect_prune(s, "Query",
		     "p0: resources(first: 5, after: \"a)b\") { totalCount } "
		     "connectors { totalCount hostnames }",
		     "p0: resources(first: 5, after: \"a)b\") { totalCount } "
		     "connectors { totalCount }",
		     "ConnectorConnection.hostnames ");
	/* a type the schema does not know: as written */
	expect_prune(s, "Nope", "a b { c } ... on X { d }",
		     "a b { c } ... on X { d }", "");
	/* text that is not a selection */
	assert_null(tg_schema_prune(s, "Connector", "id { name", NULL, NULL));
	assert_null(tg_schema_prune(s, "Connector", "id } name", NULL, NULL));
	assert_null(tg_schema_prune(s, "Connector", "... on { id }", NULL,
				    NULL));
	assert_null(tg_schema_prune(s, "Query", "resources(first: 1", NULL,
				    NULL));
	tg_schema_free(s);
}

static void test_check_call(void **state)
{
	struct tg_schema *s = parsed();
	char why[256] = "";

	(void)state;
	assert_int_equal(tg_schema_check_call(s, "resourceUpdate(id: $id, "
					      "name: $v)", why, sizeof(why)),
			 TG_OK);
	assert_int_equal(tg_schema_check_call(s, "resourceUpdate(id: $id, "
					      "securityPolicyId: null)", why,
					      sizeof(why)), TG_OK);
	/* names inside values are not arguments */
	assert_int_equal(tg_schema_check_call(s, "resourceAccessAdd("
					      "resourceId: $id, access: "
					      "[{principalId: $t}])", why,
					      sizeof(why)), TG_OK);
	assert_int_equal(tg_schema_check_call(s, "resourceUpdate(id: $id, "
					      "protocols: {allowIcmp: true, "
					      "tcp: [1, 2]})", why,
					      sizeof(why)), TG_OK);
	assert_int_equal(tg_schema_check_call(s, "resourceUpdate(id: $id, "
					      "alias: $v)", why, sizeof(why)),
			 TG_ENOTSUP);
	assert_string_equal(why, "the live schema has no argument alias of "
			    "resourceUpdate");
	assert_int_equal(tg_schema_check_call(s, "serialNumbersCreate("
					      "serialNumbers: [$name])", why,
					      sizeof(why)), TG_ENOTSUP);
	assert_string_equal(why, "the live schema has no mutation "
			    "serialNumbersCreate");
	/* no schema in use: nothing to check against */
	assert_int_equal(tg_schema_check_call(NULL, "anything(x: 1)", why,
					      sizeof(why)), TG_OK);
	tg_schema_free(s);
}

static void test_sdl(void **state)
{
	struct tg_schema *s = parsed();
	char *sdl = tg_schema_sdl(s);

	(void)state;
	assert_non_null(sdl);
	assert_non_null(strstr(sdl, "schema {\n  query: Query\n"
				    "  mutation: Mutation\n}\n"));
	assert_non_null(strstr(sdl, "\ninterface Resource {\n  id: ID!\n"
				    "  name: String!\n"
				    "  address: ResourceAddress!\n"));
	assert_non_null(strstr(sdl, "\ntype NetworkResource implements "
				    "Resource {\n"));
	assert_non_null(strstr(sdl, "\nunion Principal = Group | "
				    "ServiceAccount\n"));
	assert_non_null(strstr(sdl, "\nenum AddressType {\n  DNS\n  IP\n}\n"));
	assert_non_null(strstr(sdl, "\ninput ProtocolsInput {\n"
				    "  allowIcmp: Boolean\n  tcp: [Int!]\n}\n"));
	assert_non_null(strstr(sdl, "  resourceUpdate(id: ID!, name: String, "
				    "protocols: ProtocolsInput, "
				    "securityPolicyId: ID): "
				    "ResourceUpdateMutation!\n"));
	assert_non_null(strstr(sdl, "  resources(first: Int): "
				    "ResourceConnection!\n"));
	assert_non_null(strstr(sdl, "  edges: [ResourceEdge!]!\n"));
	assert_non_null(strstr(sdl, "\nscalar DateTime\n"));
	/* built-in scalars and introspection types are not written */
	assert_null(strstr(sdl, "scalar ID"));
	assert_null(strstr(sdl, "__Type"));
	free(sdl);
	tg_schema_free(s);
}

/* The real kinds table under a schema whose Connector lacks hostname and
 * whose Resource has isBrowserShortcutEnabled on NetworkResource only. */
static void test_use(void **state)
{
	const struct tg_kind *conn = tg_kind_named("connectors");
	const struct tg_kind *res = tg_kind_named("resources");
	int host = tg_field_index(conn, "hostname");
	int bs = tg_field_index(res, "browser-shortcut");
	const char *sel;

	(void)state;
	assert_non_null(conn);
	assert_true(host >= 0 && bs >= 0);
	/* nothing in use yet: the table as written */
	assert_null(tg_schema_live());
	assert_true(tg_field_present(conn, (size_t)host));
	assert_string_equal(schema_kind_selection(conn), conn->selection);

	tg_schema_use(parsed());
	assert_non_null(tg_schema_live());
	/* hostname: not asked, its file absent; the others kept */
	assert_false(tg_field_present(conn, (size_t)host));
	assert_true(tg_field_present(conn, (size_t)tg_field_index(conn,
								   "name")));
	sel = schema_kind_selection(conn);
	assert_null(strstr(sel, "hostname"));
	assert_non_null(strstr(sel, "id name"));
	/* a resource's type is its __typename, which every type answers */
	assert_true(tg_field_present(res, (size_t)tg_field_index(res, "type")));
	/* the shortcut: still shown, asked for inside a fragment */
	assert_true(tg_field_present(res, (size_t)bs));
	sel = schema_kind_selection(res);
	assert_non_null(strstr(sel, "... on NetworkResource { "
				    "isBrowserShortcutEnabled "));
	/* the address, a field of the interface, is kept as it is */
	assert_non_null(strstr(sel, "address { type value }"));
	/* the access connection: present, its union pruned (ServiceAccount
	 * has no name here) */
	assert_true(schema_conn_present(res, 0));
	assert_string_equal(schema_conn_selection(res, 0),
			    "__typename ... on Group { id name } "
			    "... on ServiceAccount { id }");
	/* a root list the query type lacks: the folder shows empty */
	assert_true(tg_kind_listed(res));
	assert_true(tg_kind_listed(conn));
	assert_false(tg_kind_listed(tg_kind_named("networks")));
	/* a kind embedded in its parent has no root list to lack */
	assert_true(tg_kind_listed(tg_kind_named("keys")));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_refused),
		cmocka_unit_test(test_prune),
		cmocka_unit_test(test_check_call),
		cmocka_unit_test(test_sdl),
		cmocka_unit_test(test_use),
	};

	tg_log_set_level(TG_LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
