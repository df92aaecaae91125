/* categorize.h — the local, offline email classifier of onebox-syncd.
 *
 * Sorts a decoded message (struct mime_msg) into one of the six categories of
 * DESIGN.md (Interested, Meeting Booked, Not Interested, Spam, Out of Office,
 * Uncategorized) with a confidence in [0,1]. Scoring is driven by a rules
 * file a user can edit (contrib/categories.rules documents the format):
 * weighted phrases in any language matched against the subject, the fresh
 * part of the body (quoted replies and signatures cut off), the sender and
 * header signals such as RFC 3834 Auto-Submitted or RFC 2369 List-Unsubscribe.
 */
#ifndef ONEBOX_CATEGORIZE_H
#define ONEBOX_CATEGORIZE_H

#include <stddef.h>

#include "mime_decode.h"

#define CAT_INTERESTED     "Interested"
#define CAT_MEETING_BOOKED "Meeting Booked"
#define CAT_NOT_INTERESTED "Not Interested"
#define CAT_SPAM           "Spam"
#define CAT_OUT_OF_OFFICE  "Out of Office"
#define CAT_UNCATEGORIZED  "Uncategorized"

enum cat_id {
	CAT_ID_INTERESTED,
	CAT_ID_MEETING_BOOKED,
	CAT_ID_NOT_INTERESTED,
	CAT_ID_SPAM,
	CAT_ID_OUT_OF_OFFICE,
	CAT_ID_UNCATEGORIZED,
	CAT_ID_COUNT
};

struct cat_result {
	char category[32]; /* one of the CAT_* names */
	double confidence; /* [0,1] */
};

struct cat_rules;

/* The canonical name of a category, or NULL when out of range. */
const char *cat_name(enum cat_id id);

/* The category named name (case-insensitive, surrounding blanks ignored),
 * or -1 when it is not one of the six. */
int cat_lookup(const char *name);

/* Loads and compiles a rules file (at most 1 MiB).
 * Returns a new rule set (release with cat_rules_free), or NULL with
 * "path:line: reason" in err. */
struct cat_rules *cat_rules_load(const char *path, char *err, size_t errlen);

/* Same as cat_rules_load() for rules already in memory; name prefixes the
 * error messages. */
struct cat_rules *cat_rules_parse(const char *text, size_t len, const char *name, char *err,
                                  size_t errlen);

/* Accepts NULL. */
void cat_rules_free(struct cat_rules *rules);

/* Number of rules (not counting directives) in a loaded set. */
size_t cat_rules_count(const struct cat_rules *rules);

/* Classifies m with rules and fills *out. A loaded rule set is read-only:
 * any number of threads may classify with it at once.
 * Returns 0, or -1 (with *out set to Uncategorized, confidence 0) when an
 * argument is NULL or memory runs out. */
int categorize_local(const struct cat_rules *rules, const struct mime_msg *m,
                     struct cat_result *out);

/* Like categorize_local(), and also writes to buf (always NUL-terminated,
 * cut at buflen) the score of each category and the rules that fired with
 * their line numbers: what a user needs to tune the rules file. */
int categorize_explain(const struct cat_rules *rules, const struct mime_msg *m,
                       struct cat_result *out, char *buf, size_t buflen);

#endif
