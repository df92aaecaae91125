/* throttle: failed-login windows per key; see throttle.h. */
#include "throttle.h"
#include "ob_rand.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PROBES 16

struct slot {
    uint64_t h;        /* 0 = empty */
    time_t start;      /* first failure of the current window */
    long count;
};

struct throttle {
    pthread_mutex_t mu;
    long max, window;
    size_t mask;
    unsigned char key[32];
    struct slot *slots;
};

struct throttle *throttle_new(long max_failures, long window, size_t capacity)
{
    struct throttle *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    size_t cap = 64;
    while (cap < capacity)
        cap <<= 1;
    t->slots = calloc(cap, sizeof *t->slots);
    if (!t->slots || ob_rand_bytes(t->key, sizeof t->key) < 0) {
        free(t->slots);
        free(t);
        return NULL;
    }
    t->mask = cap - 1;
    t->max = max_failures;
    t->window = window;
    pthread_mutex_init(&t->mu, NULL);
    return t;
}

void throttle_free(struct throttle *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->mu);
    free(t->slots);
    free(t);
}

static uint64_t hash_key(const struct throttle *t, const char *key)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    uint64_t h = 0;
    if (HMAC(EVP_sha256(), t->key, sizeof t->key, (const unsigned char *)key, strlen(key),
             mac, &n) && n >= 8)
        memcpy(&h, mac, 8);
    return h ? h : 1;
}

/* The slot holding h, or NULL; caller holds the lock. */
static struct slot *find(struct throttle *t, uint64_t h)
{
    for (size_t i = 0; i < PROBES; i++) {
        struct slot *s = &t->slots[(h + i) & t->mask];
        if (s->h == h)
            return s;
    }
    return NULL;
}

long throttle_wait(struct throttle *t, const char *key, time_t now)
{
    uint64_t h = hash_key(t, key);
    long wait = 0;
    pthread_mutex_lock(&t->mu);
    struct slot *s = find(t, h);
    if (s && now < s->start + t->window && s->count >= t->max)
        wait = (long)(s->start + t->window - now);
    pthread_mutex_unlock(&t->mu);
    return wait;
}

void throttle_fail(struct throttle *t, const char *key, time_t now)
{
    uint64_t h = hash_key(t, key);
    pthread_mutex_lock(&t->mu);
    struct slot *s = find(t, h);
    if (!s) {
        /* an empty or expired slot in the probe run, else the oldest window */
        struct slot *oldest = NULL;
        for (size_t i = 0; i < PROBES; i++) {
            struct slot *c = &t->slots[(h + i) & t->mask];
            if (c->h == 0 || now >= c->start + t->window) {
                s = c;
                break;
            }
            if (!oldest || c->start < oldest->start)
                oldest = c;
        }
        if (!s)
            s = oldest;
        s->h = h;
        s->count = 0;
        s->start = now;
    }
    if (now >= s->start + t->window) {
        s->start = now;
        s->count = 0;
    }
    s->count++;
    pthread_mutex_unlock(&t->mu);
}

void throttle_reset(struct throttle *t, const char *key)
{
    uint64_t h = hash_key(t, key);
    pthread_mutex_lock(&t->mu);
    struct slot *s = find(t, h);
    if (s)
        memset(s, 0, sizeof *s);
    pthread_mutex_unlock(&t->mu);
}
