/*
 * main.c - twingatefs's command line: options, the token, the check at
 * mount, then the FUSE session (ll.c).
 *
 * The token never comes from argv: TWINGATE_API_TOKEN, or a file named by
 * TWINGATE_API_TOKEN_FILE or -o api_token_file (refused when group or
 * others may read it, as s3fs does).  Both variables are removed from the
 * environment once read.  One query checks the endpoint and the token
 * before mounting, so a wrong token fails the mount with one line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "tgfs.h"

#include <fuse_lowlevel.h>

struct options {
	char *url;
	char *network;
	char *token_file;
	unsigned cache_ttl, page_size, batch_pages, concurrency, rate_read,
		rate_write;
	unsigned timeout, retries, max_wait;
	int uid, gid;
	char *umask;
	int show_help, show_version, read_only, allow_other, dir_open;
	char *pos[3]; /* [source] mountpoint, and anything more */
	int npos;
};

#define OPT(t, p) { t, offsetof(struct options, p), 1 }

enum { KEY_RO, KEY_ALLOW_OTHER };

static const struct fuse_opt option_spec[] = {
	OPT("url=%s", url),
	OPT("network=%s", network),
	OPT("api_token_file=%s", token_file),
	OPT("cache_ttl=%u", cache_ttl),
	OPT("page_size=%u", page_size),
	OPT("batch_pages=%u", batch_pages),
	OPT("concurrency=%u", concurrency),
	OPT("rate_read=%u", rate_read),
	OPT("rate_write=%u", rate_write),
	OPT("timeout=%u", timeout),
	OPT("retries=%u", retries),
	OPT("max_wait=%u", max_wait),
	OPT("uid=%d", uid),
	OPT("gid=%d", gid),
	OPT("umask=%s", umask),
	OPT("dir_open", dir_open),
	OPT("-h", show_help),
	OPT("--help", show_help),
	OPT("-V", show_version),
	OPT("--version", show_version),
	FUSE_OPT_KEY("ro", KEY_RO),
	FUSE_OPT_KEY("allow_other", KEY_ALLOW_OTHER),
	FUSE_OPT_END
};

static int opt_proc(void *data, const char *arg, int key,
		    struct fuse_args *outargs)
{
	struct options *o = data;

	(void)outargs;
	if (key == KEY_RO)
		o->read_only = 1;
	if (key == KEY_ALLOW_OTHER)
		o->allow_other = 1;
	if (key == FUSE_OPT_KEY_NONOPT) {
		/* "twingatefs [SOURCE] MOUNTPOINT": mount.fuse3 passes the
		 * fstab source first.  Sorted out after parsing. */
		if (o->npos < 3)
			o->pos[o->npos] = strdup(arg);
		o->npos++;
		return 0;
	}
	return 1; /* keep it for FUSE too */
}

/* Takes the tenant from an fstab source: "acme", "twingatefs#acme" or a
 * URL.  Options given with -o win. */
static int take_source(struct options *o, const char *src)
{
	const char *hash = strchr(src, '#');

	if (hash)
		src = hash + 1;
	if (!strncmp(src, "https://", 8) || !strncmp(src, "http://", 7)) {
		if (!o->url && !(o->url = strdup(src)))
			return -1;
	} else if (*src && !o->url && !o->network) {
		if (!(o->network = strdup(src)))
			return -1;
	}
	return 0;
}

/*
 * Serves the kernel's first request (INIT) here, from a buffer freed
 * after it.  libfuse sizes its receive buffers from max_write only once
 * INIT is done (ll.c's .init sets 128 KiB): the workers that start before
 * it would keep 1 MiB buffers for good, and after a walk of the large
 * tenant such buffers were wholly resident.  A failure is left for the
 * loop to meet again.
 */
static void first_request(struct fuse_session *se)
{
	struct fuse_buf buf = { 0 };

	if (fuse_session_receive_buf(se, &buf) > 0)
		fuse_session_process_buf(se, &buf);
	free(buf.mem);
}

/* The live schema, by one introspection query, put in use: selections
 * follow it from now on.  When it cannot be read, the kinds table is
 * used as written (one log line), and the mount goes on. */
static void read_schema(struct tg_api *api)
{
	struct tg_schema *s = NULL;
	enum tg_err err = tg_api_schema(api, &s);

	if (err != TG_OK)
		tg_log(TG_LOG_WARN, "introspection failed: %s%s%s",
		       tg_err_str(err), *tg_api_last_message() ? ": " : "",
		       tg_api_last_message());
	tg_schema_use(s);
}

/* One cheap query before mounting, once every option is known good.  Its
 * curl handle is gone before the daemon forks.  False (said on stderr)
 * when the endpoint or the token does not work. */
static bool api_answers(const struct tg_api_config *cfg,
			struct tg_api_health *seen)
{
	struct tg_api *check = tg_api_new(cfg);
	char *msg = NULL;
	enum tg_err err;

	if (!check) {
		fprintf(stderr, "twingatefs: out of memory\n");
		return false;
	}
	err = tg_api_check(check, &msg);
	if (err == TG_OK)
		read_schema(check);
	tg_api_get_health(check, seen);
	tg_api_free(check);
	if (err != TG_OK)
		fprintf(stderr, "twingatefs: cannot mount %s: %s%s%s\n",
			cfg->url, tg_err_str(err), msg ? ": " : "",
			msg ? msg : "");
	free(msg);
	return err == TG_OK;
}

/* Mounts and serves until unmounted, as fuse_main() does, but daemonizes
 * only once mounted, so that every error before that reaches stderr (the
 * caller of mount(8) sees why), and the log moves to syslog after. */
static int serve(struct fuse_args *args, struct tgfs_config *conf)
{
	struct fuse_cmdline_opts co;
	struct fuse_loop_config *lc = NULL;
	struct fuse_session *se;
	struct ll *ll;
	int ret = 1;

	if (fuse_parse_cmdline(args, &co) != 0)
		return 1;
	if (!co.mountpoint) {
		fprintf(stderr, "twingatefs: no mount point (see --help)\n");
		goto out;
	}
	ll = tgfs_ll_new(args, conf);
	if (!ll)
		goto out; /* libfuse said which option it did not know */
	se = tgfs_ll_session(ll);
	if (!api_answers(&conf->api, &conf->checked))
		goto out_destroy;
	if (tgfs_ll_mount(ll, co.mountpoint) != 0)
		goto out_destroy;
	if (fuse_daemonize(co.foreground) != 0)
		goto out_unmount;
	if (!co.foreground)
		tg_log_use_syslog();
	if (fuse_set_signal_handlers(se) != 0)
		goto out_unmount;
	first_request(se);
	if (co.singlethread) {
		ret = fuse_session_loop(se);
	} else {
		lc = fuse_loop_cfg_create();
		if (!lc)
			goto out_signals;
		fuse_loop_cfg_set_clone_fd(lc, (unsigned)co.clone_fd);
		fuse_loop_cfg_set_idle_threads(lc, co.max_idle_threads);
		fuse_loop_cfg_set_max_threads(lc, co.max_threads);
		ret = fuse_session_loop_mt(se, lc);
	}
	/* A signal (SIGTERM, SIGINT) ends the loop with its number, and
	 * fusermount3 -u with 0: both are a clean unmount. */
	ret = ret < 0 ? 1 : 0;
out_signals:
	fuse_remove_signal_handlers(se);
out_unmount:
	fuse_session_unmount(se);
out_destroy:
	tgfs_ll_free(ll);
out:
	if (lc)
		fuse_loop_cfg_destroy(lc);
	free(co.mountpoint);
	return ret;
}

static void usage(const char *prog)
{
	printf("usage: %s [SOURCE] MOUNTPOINT [options]\n\n"
	       "SOURCE (as fstab's first field): the tenant's name, or the\n"
	       "GraphQL endpoint's URL.\n\n"
	       "Mounts a Twingate tenant (the Admin API) as a directory tree.\n\n"
	       "twingatefs options:\n"
	       "    -o network=NAME        tenant subdomain (NAME.twingate.com)\n"
	       "    -o url=URL             whole GraphQL endpoint (http:// only "
	       "for loopback)\n"
	       "    -o api_token_file=PATH file holding the API token (mode "
	       "0600 or stricter)\n"
	       "    -o cache_ttl=SECONDS   how long listings are kept (60)\n"
	       "    -o page_size=N         objects per page (100)\n"
	       "    -o batch_pages=N       pages sent in one request (10)\n"
	       "    -o concurrency=N       requests of one listing at once (3)\n"
	       "    -o rate_read=N         queries per minute (60)\n"
	       "    -o rate_write=N        mutations per minute (20)\n"
	       "    -o timeout=SECONDS     longest a call waits on the API (30)\n"
	       "    -o retries=N           extra tries of a failed read (3)\n"
	       "    -o max_wait=SECONDS    longest wait on rate limits (timeout)\n"
	       "    -o uid=N,gid=N,umask=M owner and mode bits of the files\n"
	       "    -o dir_open            ask the daemon at every opendir (the\n"
	       "                           kernel otherwise lists folders from\n"
	       "                           its cache until they change)\n\n"
	       "environment:\n"
	       "    TWINGATE_NETWORK, TWINGATE_URL, TWINGATE_API_TOKEN,\n"
	       "    TWINGATE_API_TOKEN_FILE\n\n",
	       prog);
}

/* True for http://127.x.x.x, http://localhost and http://[::1]. */
static bool loopback_url(const char *url)
{
	char *scheme = NULL, *user = NULL, *host = NULL;
	struct in_addr a;
	bool ok = false;
	CURLU *u;

	/* libcurl's own parser, so the host checked is the host it will
	 * connect to ("http://127.0.0.1:1@evil/" has host "evil").  A URL
	 * with user info is refused whatever its host. */
	u = curl_url();
	if (!u)
		return false;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    strcmp(scheme, "http") != 0 ||
	    curl_url_get(u, CURLUPART_USER, &user, 0) != CURLUE_NO_USER ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto out;
	if (strcmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0)
		ok = true;
	else
		ok = inet_pton(AF_INET, host, &a) == 1 &&
		     (ntohl(a.s_addr) >> 24) == 127;
out:
	curl_free(scheme);
	curl_free(user);
	curl_free(host);
	curl_url_cleanup(u);
	return ok;
}

/* Reads the token from @path into a new string.  NULL (message printed)
 * when the file is missing, readable by others, or empty. */
static char *read_token_file(const char *path)
{
	char buf[4096];
	struct stat st;
	size_t n;
	FILE *f;

	f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "twingatefs: cannot open token file %s: %s\n",
			path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "twingatefs: token file %s is not a file\n",
			path);
		fclose(f);
		return NULL;
	}
	if (st.st_mode & 077) {
		fprintf(stderr, "twingatefs: token file %s may be read by "
			"others (mode %03o): chmod 600 it\n", path,
			(unsigned)st.st_mode & 0777);
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' ||
		     buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		buf[--n] = '\0';
	if (!n || strpbrk(buf, "\r\n")) {
		fprintf(stderr, "twingatefs: token file %s must hold one "
			"token\n", path);
		explicit_bzero(buf, sizeof(buf));
		return NULL;
	}
	{
		char *t = strdup(buf);

		explicit_bzero(buf, sizeof(buf));
		return t;
	}
}

/*
 * Removes a variable and wipes its value where the kernel shows it
 * (/proc/PID/environ reads the original block, which unsetenv leaves).
 */
static void scrub_env(const char *name)
{
	extern char **environ;
	size_t n = strlen(name);

	for (char **e = environ; e && *e; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			explicit_bzero(*e + n + 1, strlen(*e + n + 1));
	unsetenv(name);
}

static void fuse_log_to_tg(enum fuse_log_level level, const char *fmt,
			   va_list ap)
{
	/* libfuse may write one message in several calls: gather them up
	 * to the newline, so each message is one log line. */
	static __thread char line[1024];
	static __thread size_t n;

	vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	n = strlen(line);
	if (n && line[n - 1] != '\n' && n < sizeof(line) - 1)
		return;
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	n = 0;
	tg_log(level <= FUSE_LOG_ERR ? TG_LOG_ERR
	       : level <= FUSE_LOG_WARNING ? TG_LOG_WARN
	       : level <= FUSE_LOG_INFO ? TG_LOG_INFO
					: TG_LOG_DEBUG,
	       "%s", line);
}

/* max_wait not given: a call waits on 429s within its timeout. */
#define MAX_WAIT_UNSET UINT_MAX

/* Says which option is out of its range, if one is. */
static bool options_in_range(const struct options *o)
{
	const struct {
		const char *name;
		unsigned v, min, max;
	} r[] = {
		{ "cache_ttl", o->cache_ttl, 0, 86400 },
		{ "page_size", o->page_size, 1, 1000 },
		{ "batch_pages", o->batch_pages, 1, 100 },
		{ "concurrency", o->concurrency, 1, 16 },
		{ "rate_read", o->rate_read, 0, 1000000 },
		{ "rate_write", o->rate_write, 0, 1000000 },
		{ "timeout", o->timeout, 1, 3600 },
		{ "retries", o->retries, 0, 20 },
		{ "max_wait", o->max_wait == MAX_WAIT_UNSET ? 0 : o->max_wait,
		  0, 86400 },
	};
	char *end = NULL;
	unsigned long m;

	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		if (r[i].v < r[i].min || r[i].v > r[i].max) {
			fprintf(stderr, "twingatefs: option %s=%u is out of "
				"range (%u to %u)\n", r[i].name, r[i].v,
				r[i].min, r[i].max);
			return false;
		}
	if (o->umask) {
		m = strtoul(o->umask, &end, 8);
		if (!*o->umask || *end || m > 0777) {
			fprintf(stderr, "twingatefs: option umask=%s is not "
				"an octal mode (0 to 777)\n", o->umask);
			return false;
		}
	}
	return true;
}

/* True when argv asks for the foreground (-f, -d, -o debug). */
static bool foreground(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-f") || !strcmp(argv[i], "-d") ||
		    strstr(argv[i], "debug"))
			return true;
	return false;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct options o = { .cache_ttl = 60, .page_size = 100,
			     .batch_pages = 10, .concurrency = 3,
			     .rate_read = 60,
			     .rate_write = 20, .timeout = 30, .retries = 3,
			     .max_wait = MAX_WAIT_UNSET, .uid = -1,
			     .gid = -1 };
	static struct tgfs_config conf;
	char *url = NULL, *token = NULL, fsname[300];
	const char *env;
	int ret = 1;

	/* glibc gives each busy thread an arena of its own; a listing
	 * parsed on one thread and freed on another leaves them all
	 * half full.  One: with two, the FUSE threads fell on either at
	 * random, and a find of the large tenant peaked at 49.7-59.7 MiB
	 * (cache and nodes the same, 28-40 MB of arenas); with one, at
	 * 47.2-48.8 MiB run after run, at the same speed (the daemon
	 * waits on the API far more than on the arena's lock). */
	mallopt(M_ARENA_MAX, 1);
	/* Answers of many pages (batching grows to 24 pages of devices,
	 * ~2 MB) would raise glibc's mmap threshold as they are freed, and
	 * the next ones would stay in the heap for good: a find of the
	 * large tenant peaked at 56 MiB against 47 with a fixed one. */
	mallopt(M_MMAP_THRESHOLD, 256 << 10);
	if (fuse_opt_parse(&args, &o, option_spec, opt_proc) == -1)
		goto out; /* libfuse named the option */
	if (!options_in_range(&o))
		goto out;
	if (o.npos > 2) {
		fprintf(stderr, "twingatefs: too many arguments: '%s' (usage: "
			"twingatefs [SOURCE] MOUNTPOINT [-o options])\n",
			o.pos[2]);
		goto out;
	}
	if (o.npos == 2 && take_source(&o, o.pos[0]) != 0)
		goto out;
	if (o.npos)
		fuse_opt_add_arg(&args, o.pos[o.npos - 1]);
	/* Other users may see the mount only if the kernel checks the
	 * modes we show (no one else writes with our token otherwise). */
	if (o.allow_other)
		fuse_opt_add_arg(&args, "-odefault_permissions");
	if (o.show_version) {
		printf("twingatefs %s\n", TG_VERSION);
		printf("libfuse %s, %s\n", fuse_pkgversion(),
		       curl_version());
		ret = 0;
		goto out;
	}
	if (o.show_help) {
		usage(argv[0]);
		printf("FUSE options:\n");
		fuse_cmdline_help();
		fuse_lowlevel_help();
		ret = 0;
		goto out;
	}
	if (foreground(argc, argv)) {
		for (int i = 1; i < argc; i++)
			if (!strcmp(argv[i], "-d"))
				tg_log_set_level(TG_LOG_DEBUG);
	}
	fuse_set_log_func(fuse_log_to_tg);

	/* The endpoint. */
	env = getenv("TWINGATE_URL");
	if (o.url)
		url = strdup(o.url);
	else if (env && *env)
		url = strdup(env);
	else {
		const char *net = o.network ? o.network
					    : getenv("TWINGATE_NETWORK");

		if (!net || !*net) {
			fprintf(stderr, "twingatefs: no tenant: set "
				"TWINGATE_NETWORK or -o network=NAME (or "
				"-o url=URL)\n");
			goto out;
		}
		if (strspn(net, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
		    strlen(net)) {
			fprintf(stderr, "twingatefs: bad network name '%s'\n",
				net);
			goto out;
		}
		if (asprintf(&url, "https://%s.twingate.com/api/graphql/",
			     net) < 0)
			url = NULL;
	}
	if (!url)
		goto out;
	if (strncmp(url, "https://", 8) != 0 &&
	    !(strncmp(url, "http://", 7) == 0 && loopback_url(url))) {
		fprintf(stderr, "twingatefs: refusing %s: only https:// "
			"(or http:// to a loopback address)\n", url);
		goto out;
	}

	/* The token: environment, else a file; never argv. */
	env = getenv("TWINGATE_API_TOKEN");
	if (env && *env) {
		token = strdup(env);
	} else {
		const char *file = o.token_file
					   ? o.token_file
					   : getenv("TWINGATE_API_TOKEN_FILE");

		if (!file || !*file) {
			fprintf(stderr, "twingatefs: no API token: set "
				"TWINGATE_API_TOKEN, TWINGATE_API_TOKEN_FILE "
				"or -o api_token_file=PATH\n");
			goto out;
		}
		token = read_token_file(file);
	}
	scrub_env("TWINGATE_API_TOKEN");
	unsetenv("TWINGATE_API_TOKEN_FILE");
	if (!token)
		goto out;

	conf.api = (struct tg_api_config){
		.url = url,
		.token = token,
		.page_size = o.page_size,
		.batch_pages = o.batch_pages,
		.concurrency = o.concurrency,
		.rate_read = o.rate_read,
		.rate_write = o.rate_write,
		.timeout_s = o.timeout,
		.connect_timeout_s = o.timeout < 10 ? o.timeout : 10,
		.retries = o.retries,
		.max_wait_s = o.max_wait == MAX_WAIT_UNSET ? 0 : o.max_wait,
		.max_wait_set = o.max_wait != MAX_WAIT_UNSET,
	};
	conf.cache_ttl = o.cache_ttl;
	conf.cache_max_bytes = (size_t)1 << 30;
	conf.uid = o.uid >= 0 ? (uid_t)o.uid : getuid();
	conf.gid = o.gid >= 0 ? (gid_t)o.gid : getgid();
	conf.umask = o.umask ? (mode_t)strtoul(o.umask, NULL, 8) & 0777 : 0;
	conf.read_only = o.read_only;
	conf.dir_open = o.dir_open;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "twingatefs: cannot initialise libcurl\n");
		goto out;
	}

	snprintf(fsname, sizeof(fsname), "-ofsname=twingatefs,subtype=twingatefs,max_threads=64,max_idle_threads=16");
	fuse_opt_insert_arg(&args, 1, fsname);
	ret = serve(&args, &conf);
	curl_global_cleanup();
out:
	if (token) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
	free(url);
	free(o.url);
	free(o.network);
	free(o.token_file);
	free(o.umask);
	for (int i = 0; i < 3; i++)
		free(o.pos[i]);
	fuse_opt_free_args(&args);
	return ret;
}
