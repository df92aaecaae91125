/* genmail: writes the sync benchmark's mailbox — N RFC 5322 messages of
 * 2-5 KB each into a Maildir's new/ directory, the same every run (a fixed
 * seed).  The mix looks like a work inbox and exercises the decoder:
 *   50 % text/plain 7bit, 25 % multipart/alternative (text + HTML),
 *   15 % UTF-8 quoted-printable, 10 % base64; some RFC 2047 subjects,
 *   some auto-replies (Auto-Submitted) and some bulk mail
 *   (List-Unsubscribe, Precedence: bulk).
 *
 *   genmail MAILDIR COUNT     (MAILDIR/new must exist) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rs = 0x2545f4914f6cdd1dull;

static uint32_t rnd(uint32_t n)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (uint32_t)(rs % n);
}

static const char *const words[] = {
    "meeting", "proposal", "budget", "quarter", "review", "schedule", "contract",
    "invoice", "delivery", "customer", "feedback", "design", "release", "update",
    "thanks", "please", "attached", "question", "tomorrow", "afternoon", "call",
    "team", "project", "deadline", "pricing", "support", "account", "renewal",
    "interested", "demo", "availability", "Tuesday", "Thursday", "office", "agenda",
    "notes", "follow", "discuss", "numbers", "draft", "agreement", "signed", "the",
    "and", "for", "with", "we", "you", "our", "next", "week", "could", "would", "to",
};
static const char *const utf8_words[] = {
    "réunion", "über", "Grüße", "mañana", "café", "naïve", "señal", "Straße", "déjà",
};
static const char *const subjects[] = {
    "Re: proposal for the next quarter", "Meeting tomorrow at 3pm?", "Invoice %u attached",
    "Quick question about the contract", "Out of Office: back on Monday",
    "Your weekly newsletter #%u", "Not interested, please remove me", "Demo booked for Thursday",
    "=?UTF-8?B?UsOpdW5pb24gZGUgbCfDqXF1aXBl?= %u", "=?ISO-8859-1?Q?Gr=FC=DFe_aus_Berlin?= %u",
};
#define NW (sizeof words / sizeof words[0])
#define NU (sizeof utf8_words / sizeof utf8_words[0])
#define NS (sizeof subjects / sizeof subjects[0])

/* Appends words (and line breaks) to out until it holds about want bytes. */
static size_t prose(char *out, size_t cap, size_t want, int utf8)
{
    size_t n = 0, col = 0;
    while (n < want && n + 32 < cap) {
        const char *w = utf8 && rnd(6) == 0 ? utf8_words[rnd(NU)] : words[rnd(NW)];
        int k = snprintf(out + n, cap - n, "%s%s", w, rnd(12) == 0 ? "." : "");
        n += (size_t)k;
        col += (size_t)k;
        if (col > 66) {
            out[n++] = '\n';
            col = 0;
        } else {
            out[n++] = ' ';
            col++;
        }
    }
    out[n] = '\0';
    return n;
}

static size_t qp(const char *in, char *out, size_t cap)
{
    size_t n = 0, col = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && n + 8 < cap; p++) {
        if (*p == '\n') {
            out[n++] = '\n';
            col = 0;
            continue;
        }
        if (col > 70) {
            out[n++] = '=';
            out[n++] = '\n';
            col = 0;
        }
        if (*p >= 128 || *p == '=')
            n += (size_t)snprintf(out + n, cap - n, "=%02X", *p), col += 3;
        else
            out[n++] = (char)*p, col++;
    }
    out[n] = '\0';
    return n;
}

static size_t b64(const char *in, char *out, size_t cap)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t len = strlen(in), n = 0, col = 0;
    for (size_t i = 0; i < len && n + 8 < cap; i += 3) {
        uint32_t v = (uint32_t)(unsigned char)in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)(unsigned char)in[i + 1] << 8;
        if (i + 2 < len)
            v |= (unsigned char)in[i + 2];
        out[n++] = t[(v >> 18) & 63];
        out[n++] = t[(v >> 12) & 63];
        out[n++] = i + 1 < len ? t[(v >> 6) & 63] : '=';
        out[n++] = i + 2 < len ? t[v & 63] : '=';
        if ((col += 4) >= 76) {
            out[n++] = '\n';
            col = 0;
        }
    }
    out[n++] = '\n';
    out[n] = '\0';
    return n;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: genmail MAILDIR COUNT\n");
        return 2;
    }
    long count = atol(argv[2]);
    if (count < 1 || count > 10000000) {
        fprintf(stderr, "genmail: COUNT 1..10000000\n");
        return 2;
    }
    static char text[8192], enc[12288], msg[24576];
    for (long i = 1; i <= count; i++) {
        uint32_t kind = rnd(100), want = 1800 + rnd(2500); /* body; headers add ~600 B */
        char subj[128], date[64];
        snprintf(subj, sizeof subj, subjects[rnd(NS)], (unsigned)i);
        long t = 1767225600L - (count - i) * 97;          /* 2026-01-01, 97 s apart */
        snprintf(date, sizeof date, "Thu, 01 Jan 2026 %02ld:%02ld:%02ld +0000",
                 (t / 3600) % 24, (t / 60) % 60, t % 60);
        int n = snprintf(msg, sizeof msg,
                         "Return-Path: <sender%u@example.org>\n"
                         "Message-ID: <bench-%ld-%u@example.org>\n"
                         "Date: %s\n"
                         "From: \"Sender %u\" <sender%u@example.org>\n"
                         "To: bench@bench.invalid\n"
                         "Subject: %s\n"
                         "MIME-Version: 1.0\n"
                         "%s%s",
                         (unsigned)(i % 97), i, rnd(1000000), date, (unsigned)(i % 97),
                         (unsigned)(i % 97), subj,
                         strstr(subj, "Office") ? "Auto-Submitted: auto-replied\n" : "",
                         strstr(subj, "newsletter")
                             ? "Precedence: bulk\nList-Unsubscribe: <mailto:unsub@example.org>\n" : "");
        if (kind < 50) {
            prose(text, sizeof text, want, 0);
            n += snprintf(msg + n, sizeof msg - (size_t)n,
                          "Content-Type: text/plain; charset=us-ascii\n"
                          "Content-Transfer-Encoding: 7bit\n\n%s", text);
        } else if (kind < 75) {
            prose(text, sizeof text, want / 2, 0);
            n += snprintf(msg + n, sizeof msg - (size_t)n,
                          "Content-Type: multipart/alternative; boundary=\"b%ld\"\n\n"
                          "--b%ld\nContent-Type: text/plain; charset=us-ascii\n\n%s\n"
                          "--b%ld\nContent-Type: text/html; charset=us-ascii\n\n"
                          "<html><head><style>p{margin:0}</style></head><body><p>%s</p>"
                          "<script>var x=1;</script></body></html>\n--b%ld--\n",
                          i, i, text, i, text, i);
        } else if (kind < 90) {
            prose(text, sizeof text, want * 9 / 10, 1);
            qp(text, enc, sizeof enc);
            n += snprintf(msg + n, sizeof msg - (size_t)n,
                          "Content-Type: text/plain; charset=utf-8\n"
                          "Content-Transfer-Encoding: quoted-printable\n\n%s", enc);
        } else {
            prose(text, sizeof text, want * 3 / 4, 1);
            b64(text, enc, sizeof enc);
            n += snprintf(msg + n, sizeof msg - (size_t)n,
                          "Content-Type: text/plain; charset=utf-8\n"
                          "Content-Transfer-Encoding: base64\n\n%s", enc);
        }
        if (n < 0 || (size_t)n >= sizeof msg) {
            fprintf(stderr, "genmail: message %ld too long\n", i);
            return 1;
        }
        /* ,W= is the size with CRLF line ends (RFC822.SIZE), which Dovecot's
         * own delivery puts in the name so that it never reads a file to
         * answer RFC822.SIZE; a Maildir it filled looks like this. */
        long lines = 0;
        for (int k = 0; k < n; k++)
            lines += msg[k] == '\n';
        char path[4096];
        snprintf(path, sizeof path, "%s/new/1767225600.M%ldP1.bench,S=%d,W=%ld", argv[1], i, n,
                 n + lines);
        FILE *f = fopen(path, "w");
        if (!f || fwrite(msg, 1, (size_t)n, f) != (size_t)n || fclose(f) != 0) {
            perror(path);
            return 1;
        }
    }
    return 0;
}
