/*
 * http.c - the transport under the GraphQL client.
 *
 * One curl easy handle per thread (curl handles must not be used by two
 * threads at once), created on a thread's first request and kept for
 * connection reuse.  A curl share holds only DNS and TLS sessions, which
 * curl supports sharing across threads (connections it does not).  Every
 * request has a connect timeout and a total timeout (the client's, or
 * what the thread's operation has left: tg_call_attempt), runs on the
 * thread's own curl multi handle so that an interrupt cuts it within
 * TG_CALL_POLL_S (curl_easy_perform polls a second at a time), runs with
 * CURLOPT_NOSIGNAL (signals and threads do not mix), and collects the body
 * into a capped buffer.  The token lives in one header list built here.
 */
#include <pthread.h>
#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "internal.h"

/* Largest response body we accept: far above any page of 100 objects. */
#define HTTP_MAX_BODY (64u << 20)

struct handle {
	CURL *curl;
	CURLM *multi; /* runs curl's transfers, so that a wait can be cut */
	struct http *owner;
	struct handle *next;
};

struct http {
	char *url;
	struct curl_slist *headers; /* holds the X-API-KEY line */
	unsigned timeout_s, connect_timeout_s;
	CURLSH *share;
	pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
	pthread_key_t key;
	pthread_mutex_t lock; /* guards handles */
	struct handle *handles;
};

static void share_lock(CURL *c, curl_lock_data data, curl_lock_access a,
		       void *user)
{
	struct http *h = user;

	(void)c;
	(void)a;
	pthread_mutex_lock(&h->share_locks[data]);
}

static void share_unlock(CURL *c, curl_lock_data data, void *user)
{
	struct http *h = user;

	(void)c;
	pthread_mutex_unlock(&h->share_locks[data]);
}

/* Unlinks and frees one handle; runs at thread exit or in http_free. */
static void handle_free(void *p)
{
	struct handle *hd = p, **pp;
	struct http *h = hd->owner;

	pthread_mutex_lock(&h->lock);
	for (pp = &h->handles; *pp; pp = &(*pp)->next)
		if (*pp == hd) {
			*pp = hd->next;
			break;
		}
	pthread_mutex_unlock(&h->lock);
	curl_multi_cleanup(hd->multi);
	curl_easy_cleanup(hd->curl);
	free(hd);
}

/* Wipes a string that held a secret before freeing it. */
static void free_secret(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

struct http *http_new(const char *url, const char *token, unsigned timeout_s,
		      unsigned connect_timeout_s)
{
	struct http *h = calloc(1, sizeof(*h));
	char *line = NULL;
	size_t n;

	if (!h)
		return NULL;
	pthread_mutex_init(&h->lock, NULL);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&h->share_locks[i], NULL);
	h->timeout_s = timeout_s;
	h->connect_timeout_s = connect_timeout_s;
	h->url = strdup(url);
	n = strlen(token) + sizeof("X-API-KEY: ");
	line = malloc(n);
	if (!h->url || !line)
		goto fail;
	snprintf(line, n, "X-API-KEY: %s", token);
	h->headers = curl_slist_append(NULL, "Content-Type: application/json");
	if (h->headers)
		h->headers = curl_slist_append(h->headers, line);
	if (!h->headers || !h->headers->next)
		goto fail;
	h->headers = curl_slist_append(h->headers, "Expect:");
	if (!h->headers)
		goto fail;
	free_secret(line);
	line = NULL;
	h->share = curl_share_init();
	if (!h->share)
		goto fail;
	curl_share_setopt(h->share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(h->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(h->share, CURLSHOPT_USERDATA, h);
	curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(h->share, CURLSHOPT_SHARE,
			  CURL_LOCK_DATA_SSL_SESSION);
	if (pthread_key_create(&h->key, handle_free) != 0) {
		curl_share_cleanup(h->share);
		h->share = NULL;
		goto fail;
	}
	return h;
fail:
	free_secret(line);
	if (h->headers) {
		for (struct curl_slist *l = h->headers; l; l = l->next)
			explicit_bzero(l->data, strlen(l->data));
		curl_slist_free_all(h->headers);
	}
	free(h->url);
	free(h);
	return NULL;
}

void http_free(struct http *h)
{
	if (!h)
		return;
	pthread_key_delete(h->key);
	while (h->handles)
		handle_free(h->handles);
	curl_share_cleanup(h->share);
	for (struct curl_slist *l = h->headers; l; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(h->headers);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&h->share_locks[i]);
	pthread_mutex_destroy(&h->lock);
	free(h->url);
	free(h);
}

static size_t on_body(char *data, size_t size, size_t n, void *user)
{
	struct buf *b = user;

	if (!buf_add(b, data, size * n))
		return 0; /* past the cap: curl fails with CURLE_WRITE_ERROR */
	return size * n;
}

static size_t on_header(char *data, size_t size, size_t n, void *user)
{
	struct http_resp *r = user;
	size_t len = size * n;
	static const char name[] = "retry-after:";

	if (len > sizeof(name) - 1 &&
	    strncasecmp(data, name, sizeof(name) - 1) == 0) {
		char tmp[32];
		size_t vlen = len - (sizeof(name) - 1);
		char *end;
		long v;

		if (vlen >= sizeof(tmp))
			vlen = sizeof(tmp) - 1;
		memcpy(tmp, data + sizeof(name) - 1, vlen);
		tmp[vlen] = '\0';
		v = strtol(tmp, &end, 10);
		if (end != tmp && v >= 0)
			r->retry_after = v;
	}
	return len;
}

/* This thread's handle, made on first use. */
static struct handle *thread_handle(struct http *h)
{
	struct handle *hd = pthread_getspecific(h->key);
	CURL *c;

	if (hd)
		return hd;
	hd = calloc(1, sizeof(*hd));
	if (!hd)
		return NULL;
	c = curl_easy_init();
	hd->multi = curl_multi_init();
	if (!c || !hd->multi) {
		curl_easy_cleanup(c);
		curl_multi_cleanup(hd->multi);
		free(hd);
		return NULL;
	}
	curl_easy_setopt(c, CURLOPT_URL, h->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_SHARE, h->share);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->headers);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "twingatefs/" TG_VERSION);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	/* TLS verification stays on: curl's defaults, never turned off. */
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	hd->curl = c;
	hd->owner = h;
	pthread_mutex_lock(&h->lock);
	hd->next = h->handles;
	h->handles = hd;
	pthread_mutex_unlock(&h->lock);
	pthread_setspecific(h->key, hd);
	return hd;
}

/*
 * Runs @hd's transfer to its end, as curl_easy_perform would, looking at
 * the thread's operation every TG_CALL_POLL_S: *@cut set when it was
 * cancelled and the transfer abandoned (curl closes its connection).
 */
static CURLcode run(struct handle *hd, const struct tg_call *op, bool *cut)
{
	CURLcode rc = CURLE_OK;
	bool done = false;

	*cut = false;
	if (curl_multi_add_handle(hd->multi, hd->curl) != CURLM_OK)
		return CURLE_OUT_OF_MEMORY;
	for (;;) {
		int running = 0, left;
		CURLMsg *m;

		if (curl_multi_perform(hd->multi, &running) != CURLM_OK) {
			rc = CURLE_FAILED_INIT;
			break;
		}
		while ((m = curl_multi_info_read(hd->multi, &left)))
			if (m->msg == CURLMSG_DONE && m->easy_handle == hd->curl) {
				rc = m->data.result;
				done = true;
			}
		if (done)
			break;
		if (!running) {
			rc = CURLE_RECV_ERROR; /* ended without a result */
			break;
		}
		if (tg_call_cancelled(op)) {
			*cut = true;
			rc = CURLE_ABORTED_BY_CALLBACK;
			break;
		}
		if (curl_multi_poll(hd->multi, NULL, 0,
				    (int)(TG_CALL_POLL_S * 1000), NULL) !=
		    CURLM_OK) {
			rc = CURLE_FAILED_INIT;
			break;
		}
	}
	curl_multi_remove_handle(hd->multi, hd->curl);
	return rc;
}

enum tg_err http_post(struct http *h, const char *body, bool fresh,
		      struct http_resp *out, char *err, size_t errsz)
{
	char ebuf[CURL_ERROR_SIZE] = "";
	struct handle *hd = thread_handle(h);
	const struct tg_call *op = tg_call_current();
	double limit = tg_call_attempt(op, api_now(), h->timeout_s);
	long ms = (long)(limit * 1000);
	CURL *c;
	CURLcode rc;
	bool cut;

	memset(out, 0, sizeof(*out));
	out->retry_after = -1;
	out->body.max = HTTP_MAX_BODY;
	if (err && errsz)
		err[0] = '\0';
	if (!hd)
		return TG_ENOMEM;
	if (tg_call_cancelled(op))
		return TG_EINTR;
	if (ms < 1) {
		out->timed_out = true;
		if (err)
			snprintf(err, errsz, "no time left to ask the API");
		return TG_ENET;
	}
	c = hd->curl;
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			 ms < (long)h->connect_timeout_s * 1000
				 ? ms : (long)h->connect_timeout_s * 1000);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &out->body);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	/* libcurl resends a request whose reused connection died before an
	 * answer: harmless for a query, a duplicate for a create.  A
	 * mutation gets a connection of its own. */
	curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, fresh ? 1L : 0L);
	rc = run(hd, op, &cut);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	if (cut) {
		buf_release(&out->body);
		if (err)
			snprintf(err, errsz, "interrupted");
		return TG_EINTR;
	}
	if (rc == CURLE_WRITE_ERROR && out->body.len + CURL_MAX_WRITE_SIZE >
						   HTTP_MAX_BODY) {
		buf_release(&out->body);
		if (err)
			snprintf(err, errsz, "response larger than %u bytes",
				 HTTP_MAX_BODY);
		return TG_EPROTO;
	}
	if (rc != CURLE_OK) {
		out->timed_out = rc == CURLE_OPERATION_TIMEDOUT;
		buf_release(&out->body);
		if (err)
			snprintf(err, errsz, "%s",
				 ebuf[0] ? ebuf : curl_easy_strerror(rc));
		return TG_ENET;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	return TG_OK;
}
