/* cmd_demo: `onebox demo send` — drops a message into the demo mailbox that
 * `make run` sets up (a local Dovecot; see contrib/demo.sh), so a new user
 * can watch it arrive live and categorized.  It talks IMAP APPEND through
 * libcurl, exactly as any mail client would deliver into the mailbox. */
#include "cli.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct { const char *from, *subject, *body; } samples[] = {
    { "Dana Whitfield <dana@northwind.example>", "Re: your proposal",
      "Thanks for sending this over. We are very interested and would love to learn more "
      "about pricing for a team of 40. Could you share a quote?" },
    { "Calendar <noreply@calendar.example>", "Invitation: Demo call - Thu 10:00",
      "Your meeting has been booked for Thursday at 10:00 (30 min). A calendar invite is "
      "attached. Join link: https://meet.example/abc" },
    { "Marco Rossi <marco@acme.example>", "Re: quick question",
      "Thanks for reaching out, but we are not interested at this time. Please remove me "
      "from your list." },
    { "Prize Center <winner@lucky-draw.example>", "You have WON a $1000 gift card!!!",
      "Congratulations! Click here to claim your prize now. Limited time offer. "
      "Unsubscribe at any time." },
    { "Sam Lee <sam@contoso.example>", "Automatic reply: Out of Office",
      "I am out of the office until Monday with limited access to email. For urgent matters "
      "contact my colleague." },
};
#define NSAMPLES (sizeof samples / sizeof samples[0])

struct upload { const char *p; size_t left; };

static size_t feed(char *buf, size_t size, size_t nmemb, void *ud)
{
    struct upload *u = ud;
    size_t n = size * nmemb < u->left ? size * nmemb : u->left;
    memcpy(buf, u->p, n);
    u->p += n;
    u->left -= n;
    return n;
}

static json_t *demo_settings(void)
{
    const char *file = getenv("ONEBOX_DEMO_FILE");
    char path[1024];
    if (!file || !*file) {
        const char *dir = getenv("ONEBOX_DATA_DIR");
        snprintf(path, sizeof path, "%s/demo/demo.json", dir && *dir ? dir : "./var");
        file = path;
    }
    json_t *o = json_load_file(file, JSON_REJECT_DUPLICATES, NULL);
    if (!o)
        fprintf(stderr, "onebox: no demo mailbox at %s (is `make run` running?)\n", file);
    return o;
}

int cli_cmd_demo(struct cli *c, int argc, char **argv)
{
    (void)c;
    if (argc < 1 || cli_wants_help(argc, argv) || strcmp(argv[0], "send") != 0) {
        printf("usage: onebox demo send [--subject TEXT] [--body TEXT] [--from ADDRESS]\n"
               "  Delivers a message into the demo mailbox of `make run`; without --subject\n"
               "  a random sample (interested, meeting, not interested, spam, out of office).\n");
        return argc >= 1 && cli_wants_help(argc, argv) ? CLI_OK : CLI_USAGE;
    }
    json_t *cfg = demo_settings();
    if (!cfg)
        return CLI_UNREACHABLE;
    const char *url = json_string_value(json_object_get(cfg, "imapUrl"));
    const char *user = json_string_value(json_object_get(cfg, "username"));
    const char *pass = json_string_value(json_object_get(cfg, "password"));
    const char *to = json_string_value(json_object_get(cfg, "email"));
    if (!url || !user || !pass || !to) {
        fprintf(stderr, "onebox: the demo settings file is incomplete\n");
        json_decref(cfg);
        return CLI_REFUSED;
    }
    srand((unsigned)time(NULL) ^ (unsigned)clock());
    size_t k = (size_t)rand() % NSAMPLES;
    const char *subject = cli_opt(argc, argv, "--subject");
    const char *body = cli_opt(argc, argv, "--body");
    const char *from = cli_opt(argc, argv, "--from");
    if (!subject)
        subject = samples[k].subject;
    if (!body)
        body = subject == samples[k].subject ? samples[k].body : "Hello from the onebox demo.";
    if (!from)
        from = samples[k].from;
    char date[64], msgid[64], msg[8192];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    snprintf(msgid, sizeof msgid, "<demo.%lld.%d@onebox.local>", (long long)now, rand());
    int n = snprintf(msg, sizeof msg,
                     "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: %s\r\n"
                     "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
                     from, to, subject, date, msgid, body);
    if (n < 0 || (size_t)n >= sizeof msg) {
        fprintf(stderr, "onebox: message too long\n");
        json_decref(cfg);
        return CLI_USAGE;
    }
    char full[1100];
    snprintf(full, sizeof full, "%s/INBOX", url);
    struct upload up = { msg, (size_t)n };
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, full);
    curl_easy_setopt(h, CURLOPT_USERNAME, user);
    curl_easy_setopt(h, CURLOPT_PASSWORD, pass);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, feed);
    curl_easy_setopt(h, CURLOPT_READDATA, &up);
    curl_easy_setopt(h, CURLOPT_INFILESIZE, (long)n);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 15L);
    CURLcode rc = curl_easy_perform(h);
    curl_easy_cleanup(h);
    if (rc == CURLE_OK)
        printf("delivered \"%s\" from %s to %s\n", subject, from, to);
    else
        fprintf(stderr, "onebox: could not deliver to the demo mailbox: %s\n", curl_easy_strerror(rc));
    json_decref(cfg);        /* owns `to` and the other settings */
    return rc == CURLE_OK ? CLI_OK : CLI_UNREACHABLE;
}
