/* unit.h: the one main() every CUnit test binary uses.  A test file defines
 * `static const struct unit_case cases[]` ending with {NULL, NULL} and calls
 * UNIT_MAIN("suite name", cases). */
#ifndef ONEBOX_UNIT_H
#define ONEBOX_UNIT_H

#include <CUnit/Basic.h>
#include <stdlib.h>

struct unit_case {
    const char *name;
    void (*fn)(void);
};

static inline int unit_run(const char *suite, const struct unit_case *cases)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite(suite, NULL, NULL);
    for (int i = 0; s && cases[i].name; i++)
        CU_add_test(s, cases[i].name, cases[i].fn);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}

#define UNIT_MAIN(suite, cases) \
    int main(void) { return unit_run(suite, cases); }

#endif
