/* mail_class: categorizer glue; see mail_class.h. */
#include "mail_class.h"

#include "mail_store.h"
#include "sync_ctx.h"

#include <stdio.h>

void mail_class_apply(struct sync_ctx *ctx, struct mail_item *it)
{
    (void)ctx;
    snprintf(it->category, sizeof it->category, "Uncategorized");
    it->confidence = 0;
    ob_time_iso_now(it->categorized_at);
}
