/* Loads a deployment plan, a simulated fleet and (optionally) an operator's candidates list,
 * checks the list against the one generated for the plan's package (or uses the generated
 * one), runs the deployment on the simulator and prints its progress from the event
 * callback, then the totals.
 *
 *   sed "s|@ROOT@|$PWD|" examples/c/upgrade.xml.in > /tmp/upgrade.xml
 *   cc -std=c11 -I cdt-ffi/include examples/c/deploy.c -L target/debug -lcdt -o /tmp/deploy
 *   LD_LIBRARY_PATH=target/debug /tmp/deploy /tmp/upgrade.xml fixtures/fleets/demo-fleet.toml /tmp/cdt-c-run
 */
#include <stdio.h>
#include <string.h>

#include "cdt.h"

static int fail(const char *what) {
    const char *message = cdt_last_error_message();
    fprintf(stderr, "%s: %s\n", what, message ? message : "failed");
    cdt_diagnostic d;
    for (size_t i = 0; cdt_last_error_diagnostic(i, &d) == CDT_OK; i++) {
        fprintf(stderr, "  %s:%u: %s%s%s\n", d.file ? d.file : "<input>", d.line, d.object ? d.object : "",
                d.object ? ": " : "", d.message);
    }
    return 1;
}

/* Called on the run's behalf for every event; returning non-zero would cancel the run. */
static int progress(void *userdata, const cdt_event *event) {
    int *finished = userdata;
    const char *kind = cdt_event_kind(event);
    const char *target = cdt_event_target(event);
    if (strcmp(kind, "batch_started") == 0 || strcmp(kind, "failover") == 0) {
        printf("%s\n", cdt_event_json(event, NULL));
    } else if (strcmp(kind, "target_finished") == 0) {
        ++*finished;
        printf("%3d finished: %s\n", *finished, target ? target : "?");
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: %s PLAN.xml FLEET.toml RUN_DIR [LIST.csv]\n", argv[0]);
        return 2;
    }
    cdt_plan *plan = NULL;
    cdt_fleet *fleet = NULL;
    cdt_inventory *inventory = NULL;
    cdt_candidates *list = NULL;
    cdt_candidates *edited = NULL;
    cdt_options *options = NULL;
    cdt_deployment *deployment = NULL;
    cdt_report *report = NULL;
    int status = 1;
    if (cdt_plan_load(argv[1], &plan) != CDT_OK) {
        status = fail(argv[1]);
    } else if (cdt_fleet_load(argv[2], &fleet) != CDT_OK) {
        status = fail(argv[2]);
    } else if (cdt_fleet_inventory(fleet, &inventory) != CDT_OK ||
               cdt_candidates_generate(inventory, NULL, plan, NULL, NULL, NULL, &list, NULL) != CDT_OK) {
        status = fail("generating the candidates list");
    } else if (argc == 5 && cdt_candidates_load(argv[4], &edited) != CDT_OK) {
        status = fail(argv[4]);
    } else if (edited && cdt_candidates_validate_edit(list, edited) != CDT_OK) {
        status = fail("the edited list breaks the rules");
    } else if (cdt_options_new(&options) != CDT_OK || cdt_options_set_scale(options, 3000) != CDT_OK) {
        status = fail("options");
    } else if (cdt_deployment_simulated(argv[3], fleet, edited ? edited : list, plan, options, &deployment) != CDT_OK) {
        status = fail(argv[3]);
    } else {
        printf("%zu targets, %zu steps in the plan\n", cdt_deployment_targets(deployment), cdt_plan_steps(plan));
        int finished = 0;
        if (cdt_deployment_run(deployment, progress, &finished, &report) != CDT_OK) {
            status = fail("the run");
        } else {
            cdt_totals t;
            cdt_report_totals(report, &t);
            printf("succeeded %zu, failed %zu, unreachable %zu, skipped %zu, not started %zu\n", t.succeeded,
                   t.failed, t.unreachable, t.skipped, t.not_started);
            printf("report: %s/report.json\n", argv[3]);
            status = t.failed + t.unreachable == 0 ? 0 : 1;
        }
    }
    cdt_report_free(report);
    cdt_deployment_free(deployment);
    cdt_options_free(options);
    cdt_candidates_free(edited);
    cdt_candidates_free(list);
    cdt_inventory_free(inventory);
    cdt_fleet_free(fleet);
    cdt_plan_free(plan);
    return status;
}
