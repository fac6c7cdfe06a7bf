/*
 * linkholds.h - the write layer's side of held link removals (holds.h):
 * which removal is held (links.c asks), how the held ones go out (the
 * store's sender, linkholds_ops), and where a request or a listing is,
 * from the chain of its node (ll.c, lldir.c ask).
 *
 * Any thread; each function takes what the store, the collections and
 * the API take.  A mount without a store (fs->holds NULL) holds nothing.
 */
#ifndef TGFS_LINKHOLDS_H
#define TGFS_LINKHOLDS_H

#include <sys/types.h>

#include "mount.h"

struct node;
struct inodes_chain;

/* The sender the store is made with (ops.c tgfs_new): its context is
 * the mount.  Static storage. */
extern const struct holds_ops linkholds_ops;

/* @pid removes link @n (a link of a folder of links; target id @tid) at
 * @path: 0 when held (the caller answers 0, nothing sent; the kernel told
 * to forget the link and its folder), -ENOTSUP when not to be held (not
 * a recursive remover's, no mutation, a frozen rel: the caller sends as
 * before). */
int lh_take(struct tgfs *fs, const char *path, const struct node *n,
	    const char *tid, pid_t pid);

/* A request of @pid on the node of chain @c (inodes.h; its entry's when
 * the chain ends in a name): holds_request at where that node is (its
 * object folder's object by its id).  0 or -EIO as holds_request. */
int lh_request(struct tgfs *fs, const struct inodes_chain *c, pid_t pid);

/* @pid lists the folder of chain @c: holds_listed of its object folder's
 * object, when it is in one. */
void lh_listed(struct tgfs *fs, const struct inodes_chain *c, pid_t pid);

#endif /* TGFS_LINKHOLDS_H */
