/* bws: the client side of the WebSocket protocol (RFC 6455) for the bench
 * tools — the opening handshake (§4.1: request, and the server's 101 with its
 * Sec-WebSocket-Accept checked) and frames (§5.2: masked client frames out,
 * unmasked server frames in).  No I/O here: the callers own their sockets,
 * blocking (imapidle) or epoll-driven (wsload). */
#ifndef BWS_H
#define BWS_H

#include <stddef.h>
#include <stdint.h>

#define BWS_KEY_LEN 24        /* base64 of 16 bytes */
#define BWS_ACCEPT_LEN 28     /* base64 of a SHA-1 */
#define BWS_MAX_PAYLOAD (1u << 20)

enum bws_op {
    BWS_OP_CONT = 0x0, BWS_OP_TEXT = 0x1, BWS_OP_BINARY = 0x2,
    BWS_OP_CLOSE = 0x8, BWS_OP_PING = 0x9, BWS_OP_PONG = 0xA
};

struct bws_frame {
    int fin, opcode;
    const unsigned char *payload;
    size_t len;
};

/* A fresh random Sec-WebSocket-Key and the Sec-WebSocket-Accept the server
 * must answer with.  Returns 0 or -1. */
int bws_key_new(char key[BWS_KEY_LEN + 1], char accept[BWS_ACCEPT_LEN + 1]);

/* Writes the GET request (path includes the query).  protocol may be NULL.
 * Returns its length, or -1 if cap is too small. */
int bws_request(char *buf, size_t cap, const char *host_port, const char *path,
                const char *key, const char *protocol);

/* Looks at what the server sent so far.  Returns 1 when a complete 101 with
 * the right accept value is there (*hdr_len = bytes of the response head;
 * frames may follow it in buf), 0 when the head is not complete yet, -1 when
 * it is refused or malformed (a short reason in err). */
int bws_response_check(const char *buf, size_t len, const char *accept,
                       size_t *hdr_len, char *err, size_t errlen);

/* Parses one server frame at buf.  Returns the bytes it takes (> 0) and
 * fills f, 0 if more bytes are needed, -1 if it is invalid (masked, reserved
 * bits, control frame too long, payload over BWS_MAX_PAYLOAD). */
long bws_frame_parse(const unsigned char *buf, size_t len, struct bws_frame *f);

/* Writes one masked client frame (FIN set).  Returns its length, or -1 if
 * cap is too small. */
long bws_frame_build(unsigned char *out, size_t cap, int opcode,
                     const void *payload, size_t n);

#endif
