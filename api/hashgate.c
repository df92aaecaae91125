/* hashgate: a counting semaphore around password hashing; see hashgate.h. */
#include "hashgate.h"
#include "ob_passwd.h"

#include <errno.h>
#include <semaphore.h>
#include <stdlib.h>

struct hashgate {
    sem_t sem;
};

struct hashgate *hashgate_new(int slots)
{
    struct hashgate *g = malloc(sizeof *g);
    if (!g)
        return NULL;
    if (sem_init(&g->sem, 0, (unsigned)(slots < 1 ? 1 : slots)) < 0) {
        free(g);
        return NULL;
    }
    return g;
}

void hashgate_free(struct hashgate *g)
{
    if (!g)
        return;
    sem_destroy(&g->sem);
    free(g);
}

static void enter(struct hashgate *g)
{
    while (sem_wait(&g->sem) < 0 && errno == EINTR)
        ;
}

char *hashgate_hash(struct hashgate *g, const char *password)
{
    enter(g);
    char *h = ob_passwd_hash(password, OB_PASSWD_LN);
    sem_post(&g->sem);
    return h;
}

int hashgate_verify(struct hashgate *g, const char *password, const char *stored)
{
    enter(g);
    int rc = ob_passwd_verify(password, stored);
    sem_post(&g->sem);
    return rc;
}
