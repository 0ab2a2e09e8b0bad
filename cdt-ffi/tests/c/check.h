/* A small test harness for the C tests: CHECK counts and reports, each program ends with
 * `N passed, N failed` and exits non-zero when a check failed. */
#ifndef CDT_TEST_CHECK_H
#define CDT_TEST_CHECK_H

#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdt.h"

static int checks_passed = 0;
static int checks_failed = 0;

static void check_report(int ok, const char *file, int line, const char *what, const char *detail) {
    if (ok) {
        checks_passed++;
        return;
    }
    checks_failed++;
    const char *last = cdt_last_error_message();
    fprintf(stderr, "%s:%d: check failed: %s (%s); last error: %s\n", file, line, what, detail,
            last ? last : "none");
}

/* Checks `cond`; `detail` says what was being checked. */
#define CHECK(cond, detail) check_report((cond) ? 1 : 0, __FILE__, __LINE__, #cond, (detail))

static void check_status_report(cdt_status got, cdt_status expected, const char *file, int line,
                                const char *what, const char *detail) {
    if (got == expected) {
        checks_passed++;
        return;
    }
    checks_failed++;
    const char *last = cdt_last_error_message();
    fprintf(stderr, "%s:%d: check failed: %s (%s): got status %d, expected %d; last error: %s\n", file,
            line, what, detail, (int)got, (int)expected, last ? last : "none");
}

/* Checks that a call returned `expected`. */
#define CHECK_STATUS(call, expected, detail) \
    check_status_report((call), (expected), __FILE__, __LINE__, #call, (detail))

#define CHECK_OK(call, detail) CHECK_STATUS(call, CDT_OK, detail)

/* Runs one test function, printing its name and how long it took. */
#include <time.h>
#define RUN(test)                                                                              \
    do {                                                                                       \
        struct timespec run_t0, run_t1;                                                        \
        clock_gettime(CLOCK_MONOTONIC, &run_t0);                                               \
        int run_failed_before = checks_failed;                                                 \
        test();                                                                                \
        clock_gettime(CLOCK_MONOTONIC, &run_t1);                                               \
        printf("%s %s (%.2f s)\n", checks_failed == run_failed_before ? "ok    " : "FAILED", #test, \
               (double)(run_t1.tv_sec - run_t0.tv_sec) + (double)(run_t1.tv_nsec - run_t0.tv_nsec) / 1e9); \
    } while (0)

/* Prints the summary line and gives the exit status. */
static inline int checks_end(void) {
    printf("%d passed, %d failed\n", checks_passed, checks_failed);
    return checks_failed == 0 ? 0 : 1;
}

/* `a` and `b` joined with a slash, in `out` of `size` bytes. */
static inline const char *join(char *out, size_t size, const char *a, const char *b) {
    snprintf(out, size, "%s/%s", a, b);
    return out;
}

#endif
