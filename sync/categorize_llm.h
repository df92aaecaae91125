/* categorize_llm.h — optional LLM refinement of the local classifier: asks an
 * OpenAI-compatible chat-completions endpoint (over libcurl) for one of the
 * six categories, and falls back to the local result on any timeout, error
 * or answer that is not exactly a known category.
 */
#ifndef ONEBOX_CATEGORIZE_LLM_H
#define ONEBOX_CATEGORIZE_LLM_H

#include <stddef.h>

#include "categorize.h"
#include "mime_decode.h"

/* Strings are the caller's and must outlive the call. */
struct cat_llm_config {
	const char *url;     /* full endpoint, e.g. https://host/v1/chat/completions */
	const char *api_key; /* sent as "Authorization: Bearer ..."; NULL or "": none */
	const char *model;   /* "model" of the request */
	long timeout_ms;     /* whole request, connect included; 0: 10000 */
	size_t max_chars;    /* bytes of body text sent; 0: 4000 */
};

/* Asks the model about m. On success fills *out with its answer (category
 * one of the CAT_* names, confidence clamped to [0,1]) and returns 0.
 * Otherwise copies *local into *out (Uncategorized/0 when local is NULL),
 * writes why into err and returns -1. The API key never appears in err.
 * The key is only sent over https, or over http to a loopback host.
 * Thread-safe; each call uses its own connection. libcurl is initialised on
 * the first call (thread-safe in libcurl >= 7.84); main() may also call
 * curl_global_init() itself before starting threads. */
int cat_llm_classify(const struct cat_llm_config *cfg, const struct mime_msg *m,
                     const struct cat_result *local, struct cat_result *out, char *err,
                     size_t errlen);

/* The JSON request body for m (malloc'd, caller frees), or NULL when out of
 * memory or the config lacks a model. Exposed for tests. */
char *cat_llm_request_json(const struct cat_llm_config *cfg, const struct mime_msg *m);

/* Parses a chat-completions response body: choices[0].message.content must
 * be a JSON object {"category": "<known name>", "confidence": <number>},
 * optionally inside a ``` fence. Returns 0 and fills *out, or -1 with the
 * reason in err. Exposed for tests. */
int cat_llm_parse_reply(const char *body, size_t len, struct cat_result *out, char *err,
                        size_t errlen);

#endif
