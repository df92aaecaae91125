/* test_backoff: reconnect delays grow 2 s x1.5 up to the cap, carry +-20 %
 * jitter, and start over only after a connection survived a while. */
#include "../unit.h"
#include "../../../sync/backoff.h"

static void test_growth_and_cap(void)
{
    CU_ASSERT_EQUAL(backoff_base_delay(1), 2000);
    CU_ASSERT_EQUAL(backoff_base_delay(2), 3000);
    CU_ASSERT_EQUAL(backoff_base_delay(3), 4500);
    CU_ASSERT_EQUAL(backoff_base_delay(50), BACKOFF_CAP_MS);
    CU_ASSERT_EQUAL(backoff_base_delay(100000), BACKOFF_CAP_MS);
    for (unsigned n = 1; n < 40; n++)
        CU_ASSERT(backoff_base_delay(n + 1) >= backoff_base_delay(n));
}

static void test_jitter_bounds(void)
{
    struct backoff b = { 0 };
    for (int i = 1; i <= 30; i++) {
        int64_t d = backoff_next(&b, 0, 1000);
        int64_t base = backoff_base_delay((unsigned)i);
        CU_ASSERT(d >= base * 8 / 10 - 1);
        CU_ASSERT(d <= base * 12 / 10 + 1);
    }
}

static void test_reset_only_after_survival(void)
{
    struct backoff b = { 0 };
    int64_t now = 10 * 60 * 1000;
    for (int i = 0; i < 5; i++)
        backoff_next(&b, 0, now);
    CU_ASSERT_EQUAL(b.failures, 5);
    /* Logged in, dropped a second later: that is not survival. */
    backoff_next(&b, now - 1000, now);
    CU_ASSERT_EQUAL(b.failures, 6);
    /* Up for longer than BACKOFF_SURVIVE_MS: start over. */
    int64_t d = backoff_next(&b, now - BACKOFF_SURVIVE_MS - 1, now);
    CU_ASSERT_EQUAL(b.failures, 1);
    CU_ASSERT(d <= BACKOFF_BASE_MS * 12 / 10 + 1);
    backoff_reset(&b);
    CU_ASSERT_EQUAL(b.failures, 0);
}

static const struct unit_case cases[] = {
    { "delays grow x1.5 up to the cap", test_growth_and_cap },
    { "jitter stays within +-20 %", test_jitter_bounds },
    { "reset only after a connection survived", test_reset_only_after_survival },
    { NULL, NULL },
};

UNIT_MAIN("sync backoff", cases)
