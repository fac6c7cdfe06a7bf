/*
 * tg_model.h - the Admin API's data as twingatefs sees it, without the
 * client: errors and logging, the kinds table (every Twingate object
 * kind is one row: its folder, its GraphQL names and selection, its field
 * files; the generic code in fs/ and api/ walks the table, nothing else
 * knows about kinds), plain object structs (struct tg_object, each field
 * rendered to the text its file shows when asked, so no JSON leaves
 * api/), and the pure rendering functions.
 *
 * Included by tg_api.h, which adds the client, changes and the live
 * schema; include tg_api.h.  The rules of tg_api.h's header hold here:
 * errors are enum tg_err, a call that fails leaves its outputs empty
 * unless its comment says otherwise, what a call returns through a
 * pointer the caller owns and frees as its comment says, and every
 * function may be called from any thread unless its comment says
 * otherwise.
 */
#ifndef TG_MODEL_H
#define TG_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TG_WARN_UNUSED __attribute__((warn_unused_result))

/* ------------------------------------------------------------------ */
/* Errors and logging                                                  */
/* ------------------------------------------------------------------ */

enum tg_err {
	TG_OK = 0,
	TG_ENOMEM,    /* out of memory */
	TG_ENET,      /* network, TLS, timeout: the API could not be reached */
	TG_EAUTH,     /* the token was refused (HTTP 401/403) */
	TG_EPERM,     /* the token lacks the permission level */
	TG_ERATE,     /* still rate-limited after waiting the allowed time */
	TG_ESERVER,   /* HTTP 5xx after retries */
	TG_EPROTO,    /* a response we cannot understand (malformed, truncated) */
	TG_EQUERY,    /* the API rejected the request (GraphQL errors[]) */
	TG_ENOTFOUND, /* the object does not exist */
	TG_EINVAL,    /* a value the API or our parser rejects */
	TG_EEXIST,    /* the name is taken */
	TG_ENOTEMPTY, /* refused: the object still has things in it */
	TG_EDENIED,   /* refused: the API does not allow it for this object */
	TG_E2BIG,     /* a value past the size we accept */
	TG_ENOTSUP,   /* the API (its live schema, or the kinds table for the
			 object's type) has no mutation or argument for it */
	TG_EINTR,     /* the caller gave up (an interrupt): a request cut
		       * short may still have taken effect */
};

/* A short English description of @err, in static storage: never NULL
 * ("unknown error" for a value not in the enum), never to be freed. */
const char *tg_err_str(enum tg_err err);

enum tg_log_level { TG_LOG_ERR, TG_LOG_WARN, TG_LOG_INFO, TG_LOG_DEBUG };

/*
 * Logs one line (no trailing newline in @fmt).  Goes to stderr, or to
 * syslog once tg_log_use_syslog() was called.  Lines above the level set
 * by tg_log_set_level() (TG_LOG_INFO until then) are dropped.  Never pass
 * the API token or any other secret.  Any thread; lines of several threads
 * do not interleave.  A line that cannot be written is lost, silently.
 */
void tg_log(enum tg_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Keeps lines up to @level from now on.  Not synchronized: call it before
 * other threads log (at start-up). */
void tg_log_set_level(enum tg_log_level level);
/* True when lines of @level are kept (to skip building costly ones).  Any
 * thread. */
bool tg_log_enabled(enum tg_log_level level);
/* Sends later lines to syslog (facility daemon, tagged "twingatefs"), for
 * a daemon that has left its terminal.  Not synchronized: call it while
 * no other thread logs (before the daemon's threads start).  Cannot
 * fail; a syslog that is not there loses the lines. */
void tg_log_use_syslog(void);

/* ------------------------------------------------------------------ */
/* The kinds table                                                     */
/* ------------------------------------------------------------------ */

/* How a field's JSON value becomes the text of its file: each type is a
 * row of the field-type table (fieldtypes.c). */
enum tg_ftype {
	TG_FT_STRING, /* the string; null -> empty file */
	TG_FT_BOOL,   /* true / false */
	TG_FT_ENUM,   /* API value in lower case */
	TG_FT_TIME,   /* RFC 3339 UTC */
	TG_FT_INT,    /* decimal */
	TG_FT_LIST,   /* list of strings, one a line */
	TG_FT_PROTOCOLS, /* icmp/tcp/udp, three lines (DESIGN.md §2) */
	TG_FT_TAGS,   /* one key=value a line */
	TG_FT_TRUST,  /* a boolean shown as trusted / untrusted */
	TG_FT_SECRET, /* not in the API's objects: held by the mount (tokens) */
	TG_FT_VARIANT, /* a __typename shown as its variant's word (type) */
	TG_FT_ACCESS_POLICY, /* mode: and duration: lines (DESIGN.md §2) */
	TG_FT_DEADLINE, /* a time a user sets (RFC 3339 UTC); empty: none */
	TG_FT_COUNT   /* not a type: how many there are */
};

/*
 * A mutation as the table states it: the call, with $-variables the client
 * declares and fills ($id the object, $v a field's new value of type vtype,
 * $t a relation's target, $parent the parent object, $name a new object's
 * name), and what its payload carries.
 */
struct tg_op {
	const char *call;   /* "remoteNetworkUpdate(id: $id, name: $v)" */
	const char *vtype;  /* GraphQL type of $v, "String!" */
	const char *entity; /* dir of the kind of payload.entity; NULL: none */
	/* A secret in the payload, and how its file shows it: lines of
	 * "LABEL=path" or "path" ("token", "connectorTokens.accessToken"). */
	const char *secret_sel;
	const char *secret_fmt;
	/* Run only when field @when_file of the object shows @when_value
	 * (revoke a key before deleting it, if it is still active). */
	const char *when_file;
	const char *when_value;
	/* The payload's list holding the entity (its first), in place of
	 * `entity` (serialNumbersCreate: "entities"); NULL: entity. */
	const char *entities;
	/* The dir of a kind whose cached objects the call changes too
	 * (approving a request adds a user to a group): read again. */
	const char *touches;
	/* The object is gone once it has run (a decided request). */
	bool consumes;
};

/* A change of state whose mutation depends on the state before it. */
struct tg_transition {
	const char *to;   /* the value written, as the API spells it */
	const char *from; /* the value now; NULL: any */
	struct tg_op op;
};

struct tg_field {
	const char *file;  /* file name in the object folder, "is-active" */
	const char *path;  /* JSON path in the node, "isActive", "address.value" */
	enum tg_ftype type;
	bool writable;     /* mode 0644 rather than 0444 */
	const struct tg_op *set;             /* how a write changes it */
	const char *const *values;           /* enums: what it may be */
	const struct tg_transition *trans;   /* or: state changes */
	size_t ntrans;
	bool required;     /* not empty (names) */
};

/*
 * A nested connection asked for inside every node of a kind (a group's
 * users, a resource's access, a service account's keys).  Pages past the
 * first are fetched by the client, so objects come complete (from
 * tg_api_list_partial, once tg_api_complete has run).
 */
struct tg_conn {
	const char *field;    /* connection field in the node, "users" */
	const char *node_sel; /* selection of its nodes; NULL: the embedded
			       * child kind's selection */
	/* Fields of each edge itself, beside its node (an access edge's
	 * settings); NULL: none.  object.json shows each of them after its
	 * node's keys, in the item of the node. */
	const char *edge_sel;
};

/*
 * A relation, shown as symlinks to the related objects' folders.  Forward
 * relations read the target ids from this kind's nodes; inverse ones are
 * the mirror of a forward relation of the target kind (a network's
 * resources are the resources whose `network` is that network).
 */
struct tg_rel {
	const char *dir;    /* "network" (one link) or "access/groups" */
	bool many;          /* a folder of links rather than one link */
	const char *target; /* dir of the target kind (a top folder) */
	const char *path;   /* forward: JSON path of the target id (one), or
			     * the connection field (many); NULL: inverse */
	const char *type_name; /* many over a union: nodes of this type */
	const char *inverse;   /* inverse: the target kind's rel dir */
	const struct tg_op *add;    /* ln -s (or set, for one link) */
	const struct tg_op *remove; /* rm; NULL: not allowed */
	/* The removal of several targets in one call, $v the JSON list of
	 * their ids (vtype "[ID!]!"): what a recursive remover's held
	 * removals go out as (fs/holds.h); NULL: one `remove` a target. */
	const struct tg_op *remove_all;
	/* Settings of each link (an access edge's expiry, policy...), read
	 * from the connection's edge (struct tg_conn edge_sel) and set with
	 * $id the object and $t the target: files of the link's folder. */
	const struct tg_field *edge_fields;
	size_t nedge_fields;
	/* The file names in a link's folder of the link to its target
	 * ("group") and of its own one-link setting ("security-policy"). */
	const char *edge_target_file;
	const char *edge_link_file;
	/* The link's own one-link setting (its security policy): JSON path
	 * of the target's id in the edge, its top folder, and the call that
	 * sets it ($v the id as JSON, or null to clear). */
	const char *edge_link_path;
	const char *edge_link_target;
	const struct tg_op *edge_link_set;
};

/*
 * A relation of a kind that the API will not change while a field of the
 * object shows one of some values (a group's members, when the group is
 * synced from an identity provider or is the system group): a removal
 * of such a link is never held (fs/holds.h), it is sent and refused.
 */
struct tg_frozen {
	const char *rel;  /* the rel's dir, "users" */
	const char *file; /* the field deciding, "type" */
	const char *const *values; /* as its file shows them, NULL-ended */
};

/* How one object is found when its collection is not cached. */
enum tg_lookup {
	TG_LOOKUP_NAME, /* root list with filter {<name_path>: {eq: name}} */
	TG_LOOKUP_ID,   /* the single-object query <one_field>(id:) */
};

struct tg_kind {
	const char *dir;       /* folder name, "networks" */
	const char *type_name; /* GraphQL type, "RemoteNetwork" */
	const char *list_field; /* root connection field, "remoteNetworks";
				 * NULL for kinds embedded in their parent */
	const char *one_field; /* single-object query, "remoteNetwork" */
	const char *selection; /* GraphQL selection of one node, schema order */
	const char *name_path; /* JSON path of the folder name, "name" */
	enum tg_lookup lookup;
	const char *mtime_path; /* JSON path of the mtime, "updatedAt"; NULL:
				 * first-seen times kept by the mount */
	/* A nested kind lives in <parent object>/<dir>/.  Either it has its
	 * own root list and parent_path is the JSON path of the parent's id,
	 * or it is embedded: its nodes come in the parent's connection
	 * parent_conn. */
	const struct tg_kind *parent;
	const char *parent_path;
	const char *parent_conn;
	const struct tg_field *fields;
	size_t nfields;
	const struct tg_conn *conns;
	size_t nconns;
	const struct tg_rel *rels;
	size_t nrels;
	/* Changes of the kind as a whole; NULL: not allowed (EPERM). */
	const struct tg_op *create;     /* mkdir */
	const struct tg_op *pre_delete; /* before delete, when it applies */
	const struct tg_op *remove;     /* rmdir */
	const struct tg_draft *draft;   /* mkdir of a draft, when no create */
	/* Concrete types (an interface's), picked by the node's
	 * __typename; update_call is the mutation they replace. */
	const struct tg_variant *variants;
	size_t nvariants;
	const char *update_call;
	/* A relation the API keeps as it is for some objects; NULL: none. */
	const struct tg_frozen *frozen;
};

/*
 * A concrete type of a kind whose API type is an interface (a resource is
 * a NetworkResource, KubernetesResource, SSHResource or WebAppResource):
 * what its `type` file shows, and the update mutation it takes in place
 * of the kind's own (kind->update_call), with the arguments that one
 * lacks (a write that needs one fails with TG_ENOTSUP, nothing sent).
 */
struct tg_variant {
	const char *type_name; /* "KubernetesResource" */
	const char *shown;     /* "kubernetes" */
	const char *update;    /* "kubernetesResourceUpdate"; NULL: the
				* kind's own */
	const char *lacks;     /* arguments, space-separated; NULL: none */
};

/*
 * A kind whose create needs more than a name (a resource: an address and a
 * network) is made through a draft (DESIGN.md §4): mkdir makes it in the
 * mount only, and the create goes out when the last file it needs is
 * written.
 */
struct tg_draft {
	const char *mutation; /* "resourceCreate" */
	const char *files;    /* fields and one-links it takes, by file
			       * name, space-separated (the create's
			       * arguments, named as their updates name
			       * them) */
	const char *needs;    /* those it cannot be created without */
};

/*
 * The table: every kind, parents before children, tg_nkinds of them.
 * Constant, in static storage: every pointer the functions below return
 * points into it, lives as long as the program and is never freed.  The
 * lookups below are pure (any thread) and cannot fail but by finding
 * nothing.
 */
extern const struct tg_kind *const tg_kinds[];
extern const size_t tg_nkinds;

/* The row whose dir is @dir among kinds with parent @parent (NULL: the
 * top folders), or NULL when there is none. */
const struct tg_kind *tg_kind_by_dir(const struct tg_kind *parent,
				     const char *dir);

/* The kind embedded in @kind (its parent_conn child), or NULL. */
const struct tg_kind *tg_kind_embedded(const struct tg_kind *kind);

/* The row whose dir is @dir, at any level (the first in table order), or
 * NULL. */
const struct tg_kind *tg_kind_named(const char *dir);

/* The variant (of any kind) whose type_name is @type_name, or NULL. */
const struct tg_variant *tg_variant_named(const char *type_name);

/* The index of @kind's field shown as @file, or -1. */
int tg_field_index(const struct tg_kind *kind, const char *file);

/* The index of @kind's rel whose dir is @dir, or -1. */
int tg_rel_index(const struct tg_kind *kind, const char *dir);

/* Whether the API keeps rel @dir of @obj (of @kind) as it is: @kind's
 * frozen entry names @dir and @obj's field shows one of its values.
 * False when it cannot tell (no such field, out of memory).  Any
 * thread. */
struct tg_object;
bool tg_rel_frozen(const struct tg_kind *kind, const char *dir,
		   const struct tg_object *obj);

/* What field @f's type says of its file (fieldtypes.c): whether it holds
 * several lines (protocols, tags: appending adds to them, where it
 * replaces a one-line value), and whether it is a secret the mount holds
 * (tokens: mode 0600, in no node, any write makes a new one). */
bool tg_field_multiline(const struct tg_field *f);
bool tg_field_secret(const struct tg_field *f);

/* ------------------------------------------------------------------ */
/* Objects                                                             */
/* ------------------------------------------------------------------ */

/* Target ids of one relation. */
struct tg_ids {
	char **ids;
	size_t n;
};

/* A whole collection, in the API's order. */
struct tg_list {
	struct tg_object *items;
	size_t n;
};

/*
 * One object as the files show it.  All strings are owned by the object.
 * An object as listed keeps its node as compact JSON and renders a field's
 * file from it when read (tg_object_value); a draft keeps its values as
 * written, values[i] being the content of kind->fields[i] (with its
 * trailing newline) or NULL for an empty file.
 */
struct tg_object {
	const struct tg_kind *kind;
	char *id;
	char *name;      /* raw name, never NULL (falls back to the id) */
	char *parent_id; /* id of the parent object for nested kinds, or NULL */
	char **values;   /* a draft's: kind->nfields entries; NULL as listed */
	/* as listed: each field's length as shown (TG_LEN_LONG: that or
	 * longer, rendered to tell; most values are shorter) */
	uint8_t *lens;
	/* object.json of an object as listed: its node without white
	 * space, packed (deflated against others of its kind); shown
	 * pretty-printed (tg_object_json), json_len bytes */
	unsigned char *packed;
	uint32_t packed_size;
	uint32_t json_len;
	char *json;      /* a draft's object.json: the text shown */
	/* nanoseconds since the epoch: the API's updatedAt as parsed, then
	 * the time shown (fs/state.c seen_stamp); 0 when unknown */
	int64_t mtime;
	uint64_t hash;   /* of object.json as shown: tells changed content */
	struct tg_ids *links;    /* kind->nrels entries (forward rels) */
	struct tg_list children; /* objects of the embedded kind */
};

#define TG_LEN_LONG UINT8_MAX
/* lens[i] of a field the node has no key for (its type lacks it). */
#define TG_LEN_ABSENT (UINT8_MAX - 1)

/*
 * The content of edge setting @field (rel->edge_fields) of @obj's link
 * @rel to @target_id, as its file shows it: rendered into *@buf as
 * tg_object_value does ("" when the edge has no value, NULL for a link
 * @obj lacks, out of memory or a value of the wrong type).  Any thread.
 */
const char *tg_edge_value(const struct tg_object *obj, size_t rel,
			  const char *target_id, size_t field, char **buf);
/* The id the edge's one-link setting (rel->edge_link_path) points at,
 * copied into @out (@size bytes): false when unset or no such link. */
bool tg_edge_link(const struct tg_object *obj, size_t rel,
		  const char *target_id, char *out, size_t size);

/* Whether @obj shows field @i: false for one its node has no key for (a
 * field of another concrete type: a Kubernetes resource's routing mode),
 * true for a draft's.  Pure: any thread. */
bool tg_object_has_field(const struct tg_object *obj, size_t i);

/*
 * Frees what @obj owns (not the struct itself) and leaves it zeroed, an
 * empty object that may be released again.  @obj NULL: nothing.  No other
 * thread may be reading it.
 */
void tg_object_release(struct tg_object *obj);

/*
 * object.json of @obj as shown: pretty-printed, ending in '\n'.  For an
 * object as listed it is rendered into a new allocation left in *@buf
 * (whose old content, NULL or a string of an earlier call, is freed): the
 * caller frees *@buf.  For a draft it is the draft's text itself, @obj's
 * (valid while @obj is unchanged), and *@buf is untouched.  On error
 * (out of memory, or a packed node that does not unpack) NULL is returned
 * and *@buf is untouched.  Any thread; readers of one object may run at
 * once.
 */
const char *tg_object_json(const struct tg_object *obj, char **buf);
/*
 * The content of @obj's field @i as its file shows it ("" for an empty
 * file), as tg_object_json gives object.json: rendered into *@buf (old
 * content freed, the caller frees the new; set to NULL for a null value)
 * for an object as listed, else the value @obj holds.  On error
 * (out of memory, or a value of the wrong type for the field) NULL is
 * returned and *@buf is untouched.  Any thread: the node last parsed is
 * kept per thread, for the next field of the same object.
 */
const char *tg_object_value(const struct tg_object *obj, size_t i,
			    char **buf);
/* The length of what tg_object_value gives, without rendering it (most
 * of the time).  0 where tg_object_value would fail.  Any thread. */
size_t tg_object_value_len(const struct tg_object *obj, size_t i);
/* Frees every object and the array, and leaves @list empty (may be
 * released again).  No other thread may be reading it. */
void tg_list_release(struct tg_list *list);
/* Approximate heap bytes held by @list (for the cache's bound).  Cannot
 * fail.  Any thread. */
size_t tg_list_bytes(const struct tg_list *list);

/* ------------------------------------------------------------------ */
/* Rendering (pure functions, exposed for the unit tests)              */
/* ------------------------------------------------------------------ */

/*
 * Parses an RFC 3339 / ISO 8601 time ("2024-02-15T01:13:51.059028+00:00",
 * "2024-01-01T00:00:00.000Z") into seconds since the epoch.  Returns false
 * on a malformed time (or @s NULL), and *@secs is then untouched.
 */
bool tg_time_parse(const char *s, int64_t *secs);

/*
 * The same time in nanoseconds since the epoch, its fraction kept to the
 * digit (up to 9; "…51.059028+00:00" ends in 059028000).  False as
 * tg_time_parse, or outside int64_t nanoseconds (years 1678 to 2261 fit);
 * *@ns is then untouched.
 */
bool tg_time_parse_ns(const char *s, int64_t *ns);

/*
 * Renders the API's time @s as RFC 3339 UTC with its fraction kept
 * ("2024-02-15T01:13:51.059028Z") into @out, NUL-terminated.  Returns
 * false when @s is malformed or @out too small; @out may then hold part
 * of the text.
 */
bool tg_time_render(const char *s, char *out, size_t outsz);

/*
 * Decodes a Relay global ID (base64 "Type:pk") into @type and @pk,
 * NUL-terminated.  Returns false when @id is not one or a part does not
 * fit, and @type and @pk are then untouched.
 */
bool tg_global_id_decode(const char *id, char *type, size_t typesz,
			 char *pk, size_t pksz);

/*
 * Builds one object of @kind from a JSON node given as text, into @out:
 * the caller now owns it and tg_object_release()s it.  The client builds
 * the nodes it receives by the same code (object_from_node, on nodes
 * already parsed); this entry is for the unit tests and the fuzzers.  On
 * error @out is left empty: TG_EPROTO for text that is not a node of
 * @kind (no id, no parent id, a number out of range), TG_ENOMEM.
 */
enum tg_err tg_object_from_json(const struct tg_kind *kind, const char *json,
				size_t len, struct tg_object *out)
	TG_WARN_UNUSED;

#endif /* TG_MODEL_H */
