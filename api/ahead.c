/*
 * ahead.c - the requests of one listing, sent ahead of their turn.
 *
 * A listing's later batches are all known once its first page is in
 * (offset cursors), so the next ones can be on the wire while the current
 * one is parsed and taken: up to `depth` of them at once.  The listing's
 * own thread sends one request itself and hands the others to a few
 * helper threads shared by all listings (each helper keeps its curl
 * handle, so its connection is reused).  Answers are taken in order, and
 * those that wait are kept as their bodies, parsed in turn by the
 * listing's thread: a parse tree is five times its body.
 *
 * A request still queued when its listing comes to it is taken back and
 * sent by the listing's thread: a listing never waits on helpers that are
 * busy with other listings.  Helpers start at the first request handed
 * to them (so a daemon that forks after making its client has them).
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

enum { QUEUED, RUNNING, DONE };

struct job {
	struct job *next; /* in the queue */
	struct buf doc;
	struct buf body; /* a helper's answer, parsed by the lister */
	cJSON *data;
	enum tg_err err;
	int state;
	bool queued; /* handed to the helpers (else sent by the lister) */
	char msg[256]; /* the helper's tg_api_last_message() of a failure */
	struct tg_call *op; /* the listing's operation, taken on by a helper:
			   * it outlives the job (drop waits for it) */
};

struct ahead {
	struct tg_api *api;
	pthread_mutex_t lock;
	pthread_cond_t work, done;
	struct job *head, **tail;
	pthread_t *threads;
	unsigned nthreads, started;
	bool stop;
};

static void *helper(void *arg)
{
	struct ahead *a = arg;

	pthread_mutex_lock(&a->lock);
	for (;;) {
		struct job *j;

		while (!a->head && !a->stop)
			pthread_cond_wait(&a->work, &a->lock);
		if (!a->head)
			break;
		j = a->head;
		a->head = j->next;
		if (!a->head)
			a->tail = &a->head;
		j->state = RUNNING;
		pthread_mutex_unlock(&a->lock);
		tg_call_adopt(j->op);
		j->err = api_gql_body(a->api, j->doc.s, &j->body);
		tg_call_adopt(NULL);
		if (j->err != TG_OK)
			snprintf(j->msg, sizeof(j->msg), "%s",
				 tg_api_last_message());
		pthread_mutex_lock(&a->lock);
		j->state = DONE;
		pthread_cond_broadcast(&a->done);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

struct ahead *ahead_new(struct tg_api *api, unsigned helpers)
{
	struct ahead *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->threads = calloc(helpers ? helpers : 1, sizeof(*a->threads));
	if (!a->threads) {
		free(a);
		return NULL;
	}
	a->api = api;
	a->nthreads = helpers;
	a->tail = &a->head;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->work, NULL);
	pthread_cond_init(&a->done, NULL);
	return a;
}

void ahead_free(struct ahead *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	a->stop = true;
	pthread_cond_broadcast(&a->work);
	pthread_mutex_unlock(&a->lock);
	for (unsigned i = 0; i < a->started; i++)
		pthread_join(a->threads[i], NULL);
	pthread_cond_destroy(&a->work);
	pthread_cond_destroy(&a->done);
	pthread_mutex_destroy(&a->lock);
	free(a->threads);
	free(a);
}

/* Hands @j to the helpers, starting one more while fewer than nthreads
 * run.  False when there are none (the lister then sends it itself). */
static bool hand_over(struct ahead *a, struct job *j)
{
	pthread_mutex_lock(&a->lock);
	if (a->started < a->nthreads) {
		sigset_t all, old;

		/* Signals stay with the threads FUSE made for them (a
		 * listing may run on the main thread, with -s). */
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		if (pthread_create(&a->threads[a->started], NULL, helper,
				   a) == 0)
			a->started++;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	if (!a->started) {
		pthread_mutex_unlock(&a->lock);
		return false;
	}
	j->state = QUEUED;
	j->queued = true;
	j->op = tg_call_current();
	j->next = NULL;
	*a->tail = j;
	a->tail = &j->next;
	pthread_cond_signal(&a->work);
	pthread_mutex_unlock(&a->lock);
	return true;
}

/* Unlinks @j from the queue; a->lock held. */
static void unqueue(struct ahead *a, struct job *j)
{
	struct job **pp = &a->head;

	while (*pp && *pp != j)
		pp = &(*pp)->next;
	if (!*pp)
		return;
	*pp = j->next;
	if (!*pp)
		a->tail = pp;
}

/*
 * Makes @j's answer ready: takes it back from the queue and sends it here
 * when no helper has started it, else waits for the helper.
 */
static void finish(struct tg_api *api, struct ahead *a, struct job *j)
{
	bool mine = !j->queued;

	if (j->queued) {
		pthread_mutex_lock(&a->lock);
		if (j->state == QUEUED) {
			unqueue(a, j);
			mine = true;
		}
		while (!mine && j->state != DONE)
			pthread_cond_wait(&a->done, &a->lock);
		pthread_mutex_unlock(&a->lock);
	}
	if (mine) {
		j->err = api_gql(api, GQL_QUERY, j->doc.s, NULL, &j->data,
				 NULL);
		j->msg[0] = '\0';
	} else if (j->err == TG_OK) {
		j->err = api_gql_take(api, j->doc.s, &j->body, &j->data);
	} else if (j->msg[0]) {
		api_set_message(j->msg);
	}
	j->state = DONE;
}

/* Drops @j and its answer; one still with the helpers is taken out of
 * the queue or waited for.  @a may be NULL when @j was not handed over. */
static void drop(struct ahead *a, struct job *j)
{
	if (j->queued) {
		pthread_mutex_lock(&a->lock);
		if (j->state == QUEUED)
			unqueue(a, j);
		else
			while (j->state != DONE)
				pthread_cond_wait(&a->done, &a->lock);
		pthread_mutex_unlock(&a->lock);
	}
	cJSON_Delete(j->data);
	buf_release(&j->body);
	buf_release(&j->doc);
	memset(j, 0, sizeof(*j));
}

enum tg_err ahead_run(struct tg_api *api, struct ahead *a, size_t n,
		      unsigned depth,
		      bool (*make)(void *ctx, size_t i, struct buf *doc),
		      enum tg_err (*take)(void *ctx, size_t i, cJSON *data),
		      void *ctx)
{
	struct job *ring;
	size_t sent = 0, i;
	enum tg_err err = TG_OK;

	if (!n)
		return TG_OK;
	if (!a || depth < 1)
		depth = 1;
	ring = calloc(depth, sizeof(*ring));
	if (!ring)
		return TG_ENOMEM;
	for (i = 0; i < n && err == TG_OK; i++) {
		struct job *j = &ring[i % depth];

		/* The ones after this, then this one (here, if it was not
		 * handed over), so that they are all on the wire at once. */
		for (; sent < n && sent < i + depth; sent++) {
			struct job *s = &ring[sent % depth];

			if (!make(ctx, sent, &s->doc)) {
				err = TG_ENOMEM;
				break;
			}
			if (!s->doc.len) {
				n = sent; /* make has no more */
				break;
			}
			if (sent > i)
				hand_over(a, s);
		}
		if (err != TG_OK || i >= n)
			break;
		finish(api, a, j);
		err = j->err;
		if (err == TG_OK)
			err = take(ctx, i, j->data);
		drop(a, j);
	}
	/* After a failure: what was sent ahead is not wanted. */
	for (size_t k = 0; k < depth; k++)
		drop(a, &ring[k]);
	free(ring);
	return err;
}
