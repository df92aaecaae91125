/* oauth2: XOAUTH2 access tokens for IMAP accounts — the refresh_token grant
 * of RFC 6749 §6 against the provider's token endpoint over libcurl
 * (form-encoded POST, JSON reply), and the SASL XOAUTH2 initial response
 * is built by libetpan.  Secrets (client secret, refresh token, access
 * token) are wiped from every buffer this file allocates and never logged. */
#ifndef SYNC_OAUTH2_H
#define SYNC_OAUTH2_H

#include <stddef.h>

struct oauth2_secret {
    char *client_secret;
    char *refresh_token;
};

/* Parses the account's unsealed secret {"clientSecret":..,"refreshToken":..}.
 * 0 or -1 (err says which field is wrong, never its value). */
int oauth2_secret_parse(const unsigned char *secret, size_t len, struct oauth2_secret *s,
                        char *err, size_t errlen);
/* Wipes and frees; s may be zeroed. */
void oauth2_secret_clear(struct oauth2_secret *s);

/* POSTs grant_type=refresh_token to token_url within timeout_s.  Returns 0
 * with *token (malloc'd; wipe with OPENSSL_cleanse before free) and
 * *expires_in seconds (3600 when the reply does not say); -1 on a transient
 * failure (unreachable, timeout, 5xx, unreadable reply); -2 when the
 * provider refused the grant (4xx: revoked or wrong credentials).  err gets
 * the reason (the provider's "error" code and description, sanitized). */
int oauth2_refresh(const char *token_url, const char *client_id, const struct oauth2_secret *s,
                   long timeout_s, char **token, long *expires_in, char *err, size_t errlen);

#endif
