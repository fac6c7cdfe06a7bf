/*
 * refusals.c - what an answer of the API says went wrong, as an enum
 * tg_err.  The structure of the answer decides first, the words only
 * where the structure cannot tell:
 *
 *  1. HTTP status (client.c, where it also decides retries and waits):
 *     401/403 -> TG_EAUTH, 429 -> a wait, then TG_ERATE, 5xx -> retries,
 *     then TG_ESERVER.
 *  2. GraphQL errors[] (api_answer_err): with no "data" at all the request
 *     itself was refused before it ran (syntax, validation, a variable of
 *     the wrong type; HTTP 400 on the real API): TG_EQUERY whatever it
 *     says.  Next to "data" an error raised while running (a bad ID, a
 *     permission): the words below, else TG_EQUERY.
 *  3. A mutation's payload (api_payload_err): ok:true is success, ok:false
 *     is a refusal whatever its message says (TG_EINVAL unless the words
 *     below say more), anything else TG_EPROTO.
 *
 * The API publishes no error codes (no extensions in any client's
 * samples, REFERENCE.md §5 and §11), so refusals whose meaning depends on
 * the words -- the object does not exist, the name is taken, it is still
 * in use, it may not be changed, the token may not do it -- are read from
 * the message through the one table below.  Its wording comes from the
 * real API as the public clients show it and from the simulator; a
 * phrasing no row knows stays TG_EINVAL (TG_EQUERY for errors[]), never
 * success, and the message is kept for the errors file by the caller.
 */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

/*
 * One kind of refusal: any of its patterns in the message, matched
 * case-insensitively and as whole words (a pattern ending in '*' may go
 * on into a longer word: "permission*" is in "PermissionDenied").  Rows
 * are tried in order and the first that matches decides, so a message
 * that says both "in use" and "cannot be deleted" is TG_ENOTEMPTY.
 */
struct refusal_row {
	const char *patterns[8]; /* NULL after the last */
	enum tg_err err;
};

static const struct refusal_row rows[] = {
	/* "Resource with id '...' does not exist" (REFERENCE §3, the
	 * operator's samples), "Gateway does not exist.", "Resource not
	 * found" (Twingate-Labs' CLI), Django's "... matching query does not
	 * exist." */
	{ { "does not exist", "do not exist", "doesn't exist", "don't exist",
	    "not found", "no such", NULL },
	  TG_ENOTFOUND },
	/* "A Remote Network with this name already exists" (Terraform
	 * provider), Django's "... with this Email already exists.",
	 * Postgres' "duplicate key value violates unique constraint". */
	{ { "already exist*", "is taken", "already taken", "already in use",
	    "duplicate*", NULL },
	  TG_EEXIST },
	/* "Cannot delete. This Gateway is being used by Resource.", "This
	 * CA is currently in use and cannot be deleted." (the operator's
	 * samples), Django's "... referenced through protected foreign keys",
	 * the simulator's "... still has 2 connector(s) ...". */
	{ { "still has", "still have", "not empty", "being used", "in use",
	    "referenced through", NULL },
	  TG_ENOTEMPTY },
	/* The level of the token (REFERENCE §2: no client shows the
	 * wording): "Permission denied: ...", "You do not have permission to
	 * perform this action" (graphene-django's default). */
	{ { "permission*", "not authorized", "unauthorized", NULL },
	  TG_EPERM },
	/* The object's own rules: the simulator's "... is a system group and
	 * cannot be modified.", "... cannot be changed here.". */
	{ { "cannot be modified", "cannot be deleted", "cannot be changed",
	    "not allowed", NULL },
	  TG_EDENIED },
	/* "{'id': ['Unable to parse global ID']}" (Terraform's acceptance
	 * tests against the live API, the operator's samples): a value, not
	 * a broken request, so a lookup can say "no such object". */
	{ { "unable to parse global id", NULL }, TG_EINVAL },
};

static bool word_char(char c)
{
	return isalnum((unsigned char)c);
}

/* True when @pat (see struct refusal_row) is in @msg. */
static bool says(const char *msg, const char *pat)
{
	size_t n = strlen(pat);
	bool prefix = n && pat[n - 1] == '*';

	if (prefix)
		n--;
	if (!n)
		return false;
	for (const char *p = msg; *p; p++) {
		if (strncasecmp(p, pat, n) != 0)
			continue;
		if (p > msg && word_char(p[-1]) && word_char(pat[0]))
			continue;
		if (!prefix && word_char(p[n]) && word_char(pat[n - 1]))
			continue;
		return true;
	}
	return false;
}

enum tg_err api_refusal_words(const char *msg, enum tg_err otherwise)
{
	if (!msg)
		return otherwise;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		for (const char *const *p = rows[i].patterns; *p; p++)
			if (says(msg, *p))
				return rows[i].err;
	return otherwise;
}

/* The first message of an errors[] array, or NULL. */
static const char *first_error(const cJSON *root)
{
	const cJSON *errs = cJSON_GetObjectItemCaseSensitive(root, "errors");
	const cJSON *msg;

	if (!cJSON_IsArray(errs) || !cJSON_GetArraySize(errs))
		return NULL;
	msg = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(errs, 0),
					       "message");
	return cJSON_IsString(msg) ? msg->valuestring : "unknown error";
}

enum tg_err api_answer_err(const cJSON *root, const char **msg)
{
	const char *m = first_error(root);

	*msg = m;
	if (!m)
		return TG_OK;
	if (!cJSON_HasObjectItem(root, "data"))
		return TG_EQUERY; /* refused before it ran */
	return api_refusal_words(m, TG_EQUERY);
}

enum tg_err api_payload_err(const cJSON *payload, const char **msg)
{
	const cJSON *ok = cJSON_GetObjectItemCaseSensitive(payload, "ok");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(payload, "error");

	*msg = NULL;
	if (!cJSON_IsBool(ok))
		return TG_EPROTO;
	if (cJSON_IsTrue(ok))
		return TG_OK;
	*msg = cJSON_IsString(m) && *m->valuestring ? m->valuestring
						    : "refused";
	return api_refusal_words(*msg, TG_EINVAL);
}
