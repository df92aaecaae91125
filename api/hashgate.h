/* hashgate: bounds how many password hashes (ob_passwd scrypt, N=2^15:
 * 32 MiB and ~80 ms each) run at once, so api_threads x 32 MiB cannot be
 * asked of the machine by a burst of logins; the rest wait their turn. */
#ifndef HASHGATE_H
#define HASHGATE_H

struct hashgate;

/* slots: hashes allowed at once (>= 1).  NULL on failure. */
struct hashgate *hashgate_new(int slots);
void hashgate_free(struct hashgate *g);

/* ob_passwd_hash / ob_passwd_verify inside the gate; same contracts. */
char *hashgate_hash(struct hashgate *g, const char *password);
int hashgate_verify(struct hashgate *g, const char *password, const char *stored);

#endif
