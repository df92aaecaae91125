/* mail_class: categorizer glue; see mail_class.h.  Every message gets the
 * local classifier's verdict (rules from cfg.categories_file); when an LLM
 * backend is configured, messages that will be announced are refined by it
 * (bounded by cfg.llm_timeout_ms, falling back to the local verdict), while
 * the bulk of a first sync keeps the local result so that a slow model
 * cannot stall it. */
#include "mail_class.h"

#include "categorize.h"
#include "categorize_llm.h"
#include "mail_store.h"
#include "ob_log.h"
#include "sync_ctx.h"

#include <stdio.h>

void mail_class_apply(struct sync_ctx *ctx, struct mail_item *it)
{
    struct cat_result local, out;
    if (!ctx->rules || categorize_local(ctx->rules, &it->msg, &local) < 0) {
        snprintf(local.category, sizeof local.category, "%s", CAT_UNCATEGORIZED);
        local.confidence = 0;
    }
    out = local;
    const struct ob_config *cfg = ctx->cfg;
    if (it->announce && cfg->llm_url && cfg->llm_url[0]) {
        struct cat_llm_config lc = {
            .url = cfg->llm_url, .api_key = cfg->llm_key, .model = cfg->llm_model,
            .timeout_ms = cfg->llm_timeout_ms,
        };
        char err[200];
        if (cat_llm_classify(&lc, &it->msg, &local, &out, err, sizeof err) < 0)
            ob_info("LLM categorizer unavailable for UID %u (%s); local result kept", it->uid, err);
    }
    snprintf(it->category, sizeof it->category, "%s", out.category);
    it->confidence = out.confidence < 0 ? 0 : out.confidence > 1 ? 1 : out.confidence;
    ob_time_iso_now(it->categorized_at);
}
