/* valid: field and parameter checks; see valid.h. */
#include "valid.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* RFC 5322 atext minus '/' (a path separator is never useful in a mailbox
 * name we route on, and refusing it keeps every parameter traversal-free). */
static int is_atext(unsigned char c)
{
    return isalnum(c) || (c && strchr("!#$%&'*+-=?^_`{|}~", c));
}

static int valid_label(const char *s, size_t n)
{
    if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-')
            return 0;
    return 1;
}

static int valid_dns_name(const char *s, size_t n)
{
    if (n == 0 || n > VALID_HOST_MAX)
        return 0;
    const char *p = s, *end = s + n;
    while (p < end) {
        const char *dot = memchr(p, '.', (size_t)(end - p));
        size_t len = dot ? (size_t)(dot - p) : (size_t)(end - p);
        if (!valid_label(p, len))
            return 0;
        p += len;
        if (dot && ++p == end)
            return 0;   /* trailing dot */
    }
    return 1;
}

int valid_email(const char *s)
{
    if (!s)
        return 0;
    size_t n = strlen(s);
    const char *at = strrchr(s, '@');
    if (n == 0 || n > VALID_EMAIL_MAX || !at || at == s || strchr(s, '@') != at)
        return 0;
    size_t local = (size_t)(at - s);
    if (local > 64 || s[0] == '.' || s[local - 1] == '.')
        return 0;
    for (size_t i = 0; i < local; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (s[i + 1] == '.')
                return 0;
        } else if (!is_atext(c)) {
            return 0;
        }
    }
    return valid_dns_name(at + 1, strlen(at + 1));
}

int valid_phone(const char *s)
{
    if (!s)
        return 0;
    if (*s == '+')
        s++;
    size_t n = strlen(s);
    if (n < 7 || n > 15 || s[0] == '0')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

int valid_password(const char *pw, const char *identifier, char *err, size_t errlen)
{
    size_t n = pw ? strlen(pw) : 0;
    if (n < VALID_PASSWORD_MIN || n > VALID_PASSWORD_MAX) {
        snprintf(err, errlen, "field 'password' must be %d to %d bytes long",
                 VALID_PASSWORD_MIN, VALID_PASSWORD_MAX);
        return 0;
    }
    int letter = 0, digit = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)pw[i];
        if (c < 0x20 || c == 0x7f) {
            snprintf(err, errlen, "field 'password' must not contain control characters");
            return 0;
        }
        letter |= isalpha(c) || c >= 0x80;
        digit |= isdigit(c) != 0;
    }
    if (!letter || !digit) {
        snprintf(err, errlen, "field 'password' must contain at least one letter and one digit");
        return 0;
    }
    if (identifier && strcasecmp(pw, identifier) == 0) {
        snprintf(err, errlen, "field 'password' must not be the same as the login name");
        return 0;
    }
    return 1;
}

static int is_ip_literal(const char *s, size_t n)
{
    char buf[64];
    unsigned char addr[16];
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
        s++;
        n -= 2;
        if (n >= sizeof buf)
            return 0;
        memcpy(buf, s, n);
        buf[n] = '\0';
        return inet_pton(AF_INET6, buf, addr) == 1;
    }
    if (n >= sizeof buf)
        return 0;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return inet_pton(AF_INET, buf, addr) == 1 || inet_pton(AF_INET6, buf, addr) == 1;
}

int valid_host(const char *s)
{
    if (!s)
        return 0;
    size_t n = strlen(s);
    return is_ip_literal(s, n) || valid_dns_name(s, n);
}

int valid_token_url(const char *s)
{
    if (!s || strlen(s) > VALID_URL_MAX || !valid_text(s, VALID_URL_MAX))
        return 0;
    const char *host;
    int local_only;
    if (strncasecmp(s, "https://", 8) == 0) {
        host = s + 8;
        local_only = 0;
    } else if (strncasecmp(s, "http://", 7) == 0) {
        host = s + 7;
        local_only = 1;
    } else {
        return 0;
    }
    size_t n = strcspn(host, "/?#");
    if (memchr(host, '@', n) || strchr(host, ' '))
        return 0;   /* userinfo in a token URL is a phishing shape, not a need */
    /* strip ":port" (after "]" for IPv6 literals) */
    size_t hn = n;
    const char *colon = NULL;
    if (host[0] == '[') {
        const char *rb = memchr(host, ']', n);
        if (!rb)
            return 0;
        hn = (size_t)(rb - host) + 1;
        if (hn < n)
            colon = host + hn;
    } else {
        colon = memchr(host, ':', n);
        if (colon)
            hn = (size_t)(colon - host);
    }
    if (colon) {
        if (*colon != ':' || colon + 1 == host + n)
            return 0;
        for (const char *p = colon + 1; p < host + n; p++)
            if (!isdigit((unsigned char)*p))
                return 0;
    }
    if (!is_ip_literal(host, hn) && !valid_dns_name(host, hn))
        return 0;
    if (local_only) {
        return (hn == 9 && strncasecmp(host, "localhost", 9) == 0) ||
               (hn == 9 && strncmp(host, "127.0.0.1", 9) == 0) ||
               (hn == 5 && strncmp(host, "[::1]", 5) == 0);
    }
    return 1;
}

int valid_text(const char *s, size_t maxlen)
{
    if (!s)
        return 0;
    size_t n = 0;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];
        if (n >= maxlen || c < 0x20 || c == 0x7f)
            return 0;
    }
    return n > 0;
}

int valid_row_id(const char *s, long long *out)
{
    if (!s || !*s || *s == '0' || strlen(s) > 16)
        return 0;
    long long v = 0;
    for (const char *p = s; *p; p++) {
        if (!isdigit((unsigned char)*p))
            return 0;
        v = v * 10 + (*p - '0');
    }
    if (v > (1LL << 53))
        return 0;
    *out = v;
    return 1;
}
