/* sync_ctx: what every part of onebox-syncd shares — the configuration, the
 * events.sock publisher, the sealing key, the TLS trust store, the account
 * registry, the IDLE loop and the worker pool.  main.c builds it once before
 * any thread starts and frees it after every thread has been joined; the
 * fields themselves never change in between (each part does its own locking). */
#ifndef SYNC_CTX_H
#define SYNC_CTX_H

#include "ob_config.h"
#include "ob_pub.h"
#include "ob_seal.h"

#include <stdatomic.h>

struct registry;
struct imap_idle;
struct workers;
struct tls_verify;
struct cat_rules;

struct sync_ctx {
    const struct ob_config *cfg;
    struct ob_pub *pub;                        /* may be NULL in unit tests */
    unsigned char seal_key[OB_SEAL_KEY_LEN];
    struct tls_verify *tls;
    struct cat_rules *rules;                   /* NULL: no usable rules file */
    struct registry *reg;
    struct imap_idle *loop;
    struct workers *workers;
    atomic_int stopping;                       /* set once on SIGTERM */
};

#endif
