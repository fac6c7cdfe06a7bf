/*
 * secret.c - the secrets this mount was given (secret.h): a connector's
 * tokens, a service key's token, shown once by the API and kept here, in
 * memory only, until unmount.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secret.h"

struct secret {
	char *key; /* id "/" file */
	char *value;
	struct secret *next;
};

const char *secret_get(struct tgfs *fs, const char *id, const char *file)
{
	size_t n = strlen(id);
	const char *v = NULL;

	pthread_mutex_lock(&fs->lock);
	for (struct secret *s = fs->secrets; s && !v; s = s->next)
		if (strncmp(s->key, id, n) == 0 && s->key[n] == '/' &&
		    strcmp(s->key + n + 1, file) == 0)
			v = s->value;
	pthread_mutex_unlock(&fs->lock);
	/* Entries are never freed before unmount: v stays valid. */
	return v;
}

void secret_put(struct tgfs *fs, const char *id, const char *file, char *value)
{
	struct secret *s = calloc(1, sizeof(*s));

	if (!s || asprintf(&s->key, "%s/%s", id, file) < 0) {
		free(s);
		explicit_bzero(value, strlen(value));
		free(value);
		tg_log(TG_LOG_ERR, "out of memory keeping a secret");
		return;
	}
	s->value = value;
	pthread_mutex_lock(&fs->lock);
	s->next = fs->secrets;
	fs->secrets = s;
	pthread_mutex_unlock(&fs->lock);
}

void secrets_free(struct tgfs *fs)
{
	while (fs->secrets) {
		struct secret *s = fs->secrets;

		fs->secrets = s->next;
		explicit_bzero(s->value, strlen(s->value));
		free(s->value);
		free(s->key);
		free(s);
	}
}
