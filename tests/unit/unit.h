/* unit.h: the one main() every CUnit test binary uses.  A test file defines
 * `static const struct unit_case cases[]` ending with {NULL, NULL} and calls
 * UNIT_MAIN("suite name", cases). */
#ifndef ONEBOX_UNIT_H
#define ONEBOX_UNIT_H

#include <CUnit/Basic.h>
#include <stdio.h>
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

/* Reads a whole test-data file into a malloc'd, NUL-terminated buffer
 * (caller frees); NULL if it cannot be read. */
static inline char *unit_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) != NULL) {
        *len = fread(buf, 1, (size_t)n, f);
        buf[*len] = '\0';
    }
    fclose(f);
    return buf;
}

#define UNIT_MAIN(suite, cases) \
    int main(void) { return unit_run(suite, cases); }

#endif
