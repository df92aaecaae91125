/* valid: the checks every field and path parameter of onebox-api goes
 * through before it reaches SQL, sync.sock or a log — email addresses (a
 * conservative subset of RFC 5322 §3.4.1 addr-spec), phone numbers (E.164),
 * the password policy, IMAP host names (RFC 1123 §2.1, IP literals), OAuth
 * token URLs and numeric ids.  Each predicate returns 1 for valid, 0 not. */
#ifndef VALID_H
#define VALID_H

#include <stddef.h>

#define VALID_EMAIL_MAX 254
#define VALID_PHONE_MAX 16
#define VALID_PASSWORD_MIN 8
#define VALID_PASSWORD_MAX 1024
#define VALID_HOST_MAX 253
#define VALID_URL_MAX 2048

/* local@domain: local part of atext and single dots, domain of
 * letter/digit/hyphen labels; no '/', no "..", no spaces or controls. */
int valid_email(const char *s);
/* "+" then 7 to 15 digits, the first not 0 (E.164); "+" is optional. */
int valid_phone(const char *s);
/* 8..1024 bytes, at least one letter and one digit, no control characters,
 * not equal to the login identifier.  On 0, err says which rule failed. */
int valid_password(const char *pw, const char *identifier, char *err, size_t errlen);
/* A DNS name of letter/digit/hyphen labels, an IPv4 address or an IPv6
 * literal (with or without brackets). */
int valid_host(const char *s);
/* https://host[...] — or http:// to localhost/127.0.0.1/[::1] for tests. */
int valid_token_url(const char *s);
/* Printable text of at most maxlen bytes: no control characters (UTF-8
 * above 0x7f is allowed). */
int valid_text(const char *s, size_t maxlen);
/* A decimal id in 1..2^53 with no sign or leading zero; sets *out. */
int valid_row_id(const char *s, long long *out);

#endif
