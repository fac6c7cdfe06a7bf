/*
 * secret.h - the secrets made by this mount: a connector's tokens, a
 * service key's token, which the API shows once, in the answer to the
 * mutation that makes them.  They are kept in memory (fs->secrets, under
 * fs->lock) and shown by the secret files of their object until unmount,
 * then wiped.  Any thread may call these.
 */
#ifndef TGFS_SECRET_H
#define TGFS_SECRET_H

#include "mount.h"

/*
 * The content of secret file @file of the object @id made by this mount,
 * or NULL when there is none.  The string belongs to the mount and stays
 * valid until secrets_free(): the caller neither frees nor changes it.
 */
const char *secret_get(struct tgfs *fs, const char *id, const char *file);

/*
 * Keeps @value (malloc'd, taken over in every case) as secret file @file
 * of object @id.  Out of memory: the value is wiped and freed, the
 * secret is lost, and that is logged.
 */
void secret_put(struct tgfs *fs, const char *id, const char *file, char *value);

/* Wipes and frees every secret: at unmount, when no thread can use them. */
void secrets_free(struct tgfs *fs);

#endif /* TGFS_SECRET_H */
