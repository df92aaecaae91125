/* bws: WebSocket client handshake and framing (RFC 6455 §4.1, §5.2). */
#include "bws.h"

#include "ob_b64.h"
#include "ob_rand.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

int bws_key_new(char key[BWS_KEY_LEN + 1], char accept[BWS_ACCEPT_LEN + 1])
{
    unsigned char nonce[16], md[SHA_DIGEST_LENGTH];
    char cat[BWS_KEY_LEN + sizeof GUID];
    if (ob_rand_bytes(nonce, sizeof nonce) < 0 ||
        ob_b64_encode(nonce, sizeof nonce, key, BWS_KEY_LEN + 1) != BWS_KEY_LEN)
        return -1;
    snprintf(cat, sizeof cat, "%s%s", key, GUID);
    SHA1((const unsigned char *)cat, strlen(cat), md);
    return ob_b64_encode(md, sizeof md, accept, BWS_ACCEPT_LEN + 1) == BWS_ACCEPT_LEN ? 0 : -1;
}

int bws_request(char *buf, size_t cap, const char *host_port, const char *path,
                const char *key, const char *protocol)
{
    int n = snprintf(buf, cap,
                     "GET %s HTTP/1.1\r\n"
                     "Host: %s\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\n"
                     "%s%s%s"
                     "\r\n",
                     path, host_port, key,
                     protocol ? "Sec-WebSocket-Protocol: " : "",
                     protocol ? protocol : "", protocol ? "\r\n" : "");
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

/* Finds header `name` in the head [p, end) and copies its trimmed value. */
static int header_value(const char *p, const char *end, const char *name,
                        char *out, size_t cap)
{
    size_t nl = strlen(name);
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1, *ve = eol;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            size_t n = (size_t)(ve - v);
            if (n >= cap)
                return -1;
            memcpy(out, v, n);
            out[n] = '\0';
            return 0;
        }
        p = eol + 1;
    }
    return -1;
}

int bws_response_check(const char *buf, size_t len, const char *accept,
                       size_t *hdr_len, char *err, size_t errlen)
{
    const char *end = NULL;
    for (size_t i = 3; i < len; i++)
        if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r') {
            end = buf + i + 1;
            break;
        }
    if (!end) {
        if (len > 16384) {
            snprintf(err, errlen, "response head over 16 KiB");
            return -1;
        }
        return 0;
    }
    if (len < 12 || strncmp(buf, "HTTP/1.1 101", 12) != 0) {
        const char *eol = memchr(buf, '\r', (size_t)(end - buf));
        int n = eol ? (int)(eol - buf) : 12;
        snprintf(err, errlen, "not upgraded: %.*s", n > 80 ? 80 : n, buf);
        return -1;
    }
    char got[64];
    if (header_value(buf, end, "Sec-WebSocket-Accept", got, sizeof got) < 0 ||
        strcmp(got, accept) != 0) {
        snprintf(err, errlen, "missing or wrong Sec-WebSocket-Accept");
        return -1;
    }
    *hdr_len = (size_t)(end - buf);
    return 1;
}

long bws_frame_parse(const unsigned char *buf, size_t len, struct bws_frame *f)
{
    if (len < 2)
        return 0;
    if (buf[0] & 0x70)
        return -1;                         /* no extension was negotiated */
    if (buf[1] & 0x80)
        return -1;                         /* servers never mask (§5.1) */
    int op = buf[0] & 0x0f;
    uint64_t plen = buf[1] & 0x7f;
    size_t hdr = 2;
    if (plen == 126) {
        if (len < 4)
            return 0;
        plen = ((uint64_t)buf[2] << 8) | buf[3];
        hdr = 4;
    } else if (plen == 127) {
        if (len < 10)
            return 0;
        plen = 0;
        for (int i = 0; i < 8; i++)
            plen = (plen << 8) | buf[2 + i];
        hdr = 10;
    }
    if ((op & 0x8) && (plen > 125 || !(buf[0] & 0x80)))
        return -1;
    if (plen > BWS_MAX_PAYLOAD)
        return -1;
    if (len - hdr < plen)
        return 0;
    f->fin = (buf[0] & 0x80) != 0;
    f->opcode = op;
    f->payload = buf + hdr;
    f->len = (size_t)plen;
    return (long)(hdr + plen);
}

long bws_frame_build(unsigned char *out, size_t cap, int opcode,
                     const void *payload, size_t n)
{
    size_t hdr = n < 126 ? 2 : n <= 0xffff ? 4 : 10;
    if (cap < hdr + 4 + n)
        return -1;
    out[0] = (unsigned char)(0x80 | (opcode & 0x0f));
    if (n < 126) {
        out[1] = (unsigned char)(0x80 | n);
    } else if (n <= 0xffff) {
        out[1] = 0x80 | 126;
        out[2] = (unsigned char)(n >> 8);
        out[3] = (unsigned char)n;
    } else {
        out[1] = 0x80 | 127;
        for (int i = 0; i < 8; i++)
            out[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
    }
    /* The mask only defeats cache poisoning by browsers' scripts (§10.3); a
     * loader may use a fixed one. */
    static const unsigned char mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
    memcpy(out + hdr, mask, 4);
    const unsigned char *p = payload;
    for (size_t i = 0; i < n; i++)
        out[hdr + 4 + i] = p[i] ^ mask[i & 3];
    return (long)(hdr + 4 + n);
}
