/* The C side of the faces comparison (benches/faces.py): the engine benchmark's run through
 * the C API, from the files `cdt-bench-run write` makes.
 *
 *   bench-run DIR RUN
 *
 * Loads DIR/fleet.json, DIR/plan.xml and DIR/list.csv, then runs them in the new run folder
 * RUN on the simulator in memory (zero latency, the driver polling every millisecond) and
 * prints the seconds from making the deployment to its end (loading not counted) and how
 * many targets succeeded, as `cdt-bench-run run` does. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <time.h>

#include "cdt.h"

#define JUMBO "Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T89_FULL.tgz"

static int fail(const char *what) {
    const char *m = cdt_last_error_message();
    fprintf(stderr, "bench-run: %s: %s\n", what, m ? m : "failed");
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s DIR RUN\n", argv[0]);
        return 2;
    }
    char path[4096];
    cdt_fleet *fleet = NULL;
    cdt_plan *plan = NULL;
    cdt_candidates *list = NULL;
    cdt_options *options = NULL;
    snprintf(path, sizeof path, "%s/fleet.json", argv[1]);
    if (cdt_fleet_load(path, &fleet) != CDT_OK) return fail(path);
    snprintf(path, sizeof path, "%s/plan.xml", argv[1]);
    if (cdt_plan_load(path, &plan) != CDT_OK) return fail(path);
    snprintf(path, sizeof path, "%s/list.csv", argv[1]);
    if (cdt_candidates_load(path, &list) != CDT_OK) return fail(path);
    snprintf(path, sizeof path, "%s/%s", argv[1], JUMBO);
    if (cdt_options_new(&options) != CDT_OK || cdt_options_set_scale(options, 1.0) != CDT_OK ||
        cdt_options_set_keep_fleet_state(options, false) != CDT_OK || cdt_options_set_package(options, path) != CDT_OK ||
        cdt_options_set_timing(options, 0.001, 0) != CDT_OK)
        return fail("options");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cdt_deployment *d = NULL;
    cdt_report *report = NULL;
    if (cdt_deployment_simulated(argv[2], fleet, list, plan, options, &d) != CDT_OK) return fail(argv[2]);
    if (cdt_deployment_run(d, NULL, NULL, &report) != CDT_OK) return fail("the run");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    cdt_totals totals;
    cdt_report_totals(report, &totals);
    printf("%.4f s, %zu succeeded\n",
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, totals.succeeded);
    cdt_report_free(report);
    cdt_deployment_free(d);
    cdt_options_free(options);
    cdt_candidates_free(list);
    cdt_plan_free(plan);
    cdt_fleet_free(fleet);
    return 0;
}
