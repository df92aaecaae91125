/* mail_class: the glue between a fetched message and the categorizer
 * (categorize.h, local rules plus the optional LLM backend): fills a
 * mail_item's category, confidence and categorizedAt. */
#ifndef SYNC_MAIL_CLASS_H
#define SYNC_MAIL_CLASS_H

struct sync_ctx;
struct mail_item;

/* Categorizes a decoded item in place; never fails (Uncategorized, 0 when
 * nothing applies). */
void mail_class_apply(struct sync_ctx *ctx, struct mail_item *it);

#endif
