/* Deployments through the C API: on the simulated fleet, blocking with a callback and
 * started then polled; cancelled from another thread and by the callback, then resumed;
 * paused and approved from another thread; two at once in parallel threads; a handle used
 * after its deployment was cancelled; and a whole deployment through a transport written
 * here in C, which runs the Gaia emulator (`cdt-gaia`) as a process for every command.
 *
 * Usage: deploy FIXTURES_DIR WORK_DIR CDT_GAIA
 * With CDT_TEST_SMALL set (under valgrind), the long whole-fleet run is left out. */
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define UPGRADE "Check_Point_R82_T777_Fresh_Install_and_Upgrade_Security_Gateway.tgz"

static const char *fixtures;
static const char *work;
static const char *gaia;
static char package[1024];

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* The plan: install the R82 package (a real local file, copied to the gateways). */
static cdt_plan *upgrade_plan(void) {
    char xml[2048];
    snprintf(xml, sizeof xml,
             "<CDT_Deployment_Plan><plan_settings><update_cpuse value=\"false\"/></plan_settings>"
             "<install_package path=\"%s\"/></CDT_Deployment_Plan>",
             package);
    cdt_plan *plan = NULL;
    CHECK_OK(cdt_plan_parse(xml, strlen(xml), "upgrade.xml", &plan), "the upgrade plan");
    return plan;
}

typedef struct {
    cdt_fleet *fleet;
    cdt_inventory *inventory;
    cdt_candidates *list;
    cdt_plan *plan;
    size_t batched;
} inputs;

/* The fleet file `name` under fixtures/fleets, its list for the R82 upgrade and the plan. */
static inputs load(const char *name) {
    inputs in = {0};
    char path[1200];
    snprintf(path, sizeof path, "%s/fleets/%s", fixtures, name);
    CHECK_OK(cdt_fleet_load(path, &in.fleet), name);
    CHECK_OK(cdt_fleet_inventory(in.fleet, &in.inventory), "its inventory");
    CHECK_OK(cdt_candidates_generate(in.inventory, package, NULL, NULL, NULL, NULL, &in.list, NULL), "the list");
    cdt_counts counts = {0};
    CHECK_OK(cdt_candidates_counts(in.list, &counts), "counts");
    in.batched = counts.batched;
    in.plan = upgrade_plan();
    return in;
}

static void unload(inputs *in) {
    cdt_plan_free(in->plan);
    cdt_candidates_free(in->list);
    cdt_inventory_free(in->inventory);
    cdt_fleet_free(in->fleet);
}

static const char *run_dir(const char *name) {
    static char dirs[32][1100];
    static int next = 0;
    char *d = dirs[next++ % 32];
    snprintf(d, 1100, "%s/%s", work, name);
    return d;
}

static cdt_options *options_with(double scale, const char *settings) {
    cdt_options *o = NULL;
    CHECK_OK(cdt_options_new(&o), "options");
    CHECK_OK(cdt_options_set_scale(o, scale), "scale");
    if (settings) CHECK_OK(cdt_options_set_settings_json(o, settings), settings);
    return o;
}

static cdt_totals totals_of(cdt_report *r) {
    cdt_totals t = {0};
    CHECK_OK(cdt_report_totals(r, &t), "totals");
    return t;
}

/* --- blocking, with a callback ------------------------------------------------------- */

typedef struct {
    int events;
    int targets_finished;
    int named;
    int after_cancel;
    int cancel_at; /* return non-zero at this many finished targets (0: never) */
    int cancelled;
} tally;

static int on_event(void *userdata, const cdt_event *e) {
    tally *t = userdata;
    if (t->cancelled) t->after_cancel++;
    t->events++;
    size_t len = 0;
    const char *json = cdt_event_json(e, &len);
    if (strlen(json) != len || json[0] != '{') t->named = -1000;
    if (strcmp(cdt_event_kind(e), "target_finished") == 0) {
        t->targets_finished++;
        if (cdt_event_target(e) != NULL) t->named++;
        if (t->cancel_at && t->targets_finished == t->cancel_at) {
            t->cancelled = 1;
            return 1;
        }
    }
    return 0;
}

static void blocking_run_with_a_callback(void) {
    inputs in = load("demo-fleet.toml");
    cdt_options *o = options_with(3000, NULL);
    cdt_deployment *d = NULL;
    const char *dir = run_dir("whole");
    CHECK_OK(cdt_deployment_simulated(dir, in.fleet, in.list, in.plan, o, &d), "a deployment");
    CHECK(cdt_deployment_targets(d) == cdt_candidates_rows(in.list), "its targets are the list's rows");
    CHECK(cdt_deployment_in_flight(d) == 0, "a new run has nothing in flight");
    tally t = {0};
    cdt_report *r = NULL;
    CHECK_OK(cdt_deployment_run(d, on_event, &t, &r), "runs to its end");
    cdt_totals totals = totals_of(r);
    CHECK(totals.succeeded == in.batched, "every batched target succeeded");
    CHECK(totals.failed == 0 && totals.unreachable == 0, "none failed");
    CHECK(t.targets_finished == (int)cdt_deployment_targets(d), "one target_finished per target");
    CHECK(t.named == t.targets_finished, "each names its target");
    CHECK(cdt_deployment_finished(d), "finished");
    char *json = NULL;
    size_t len = 0;
    CHECK_OK(cdt_report_json(r, &json, &len), "report JSON");
    CHECK(json && strstr(json, "\"targets\"") && strstr(json, "\"clusters\"") && strstr(json, "\"totals\""),
          "report.json's three parts");
    cdt_string_free(json);
    char *csv = NULL;
    CHECK_OK(cdt_report_results_csv(r, &csv, &len), "results.csv");
    cdt_string_free(csv);
    char path[1200];
    snprintf(path, sizeof path, "%s/report.json", dir);
    CHECK(access(path, R_OK) == 0, "the run folder has report.json");
    CHECK_OK(cdt_report_save(r, run_dir("saved-report")), "the report's files saved elsewhere");
    snprintf(path, sizeof path, "%s/saved-report/results.csv", work);
    CHECK(access(path, R_OK) == 0, "results.csv saved");
    /* The simulated fleet's own record. */
    snprintf(path, sizeof path, "%s/fleet", dir);
    CHECK_OK(cdt_fleet_state_json(path, &json, &len), "the fleet's ground truth");
    CHECK(json && strstr(json, "\"gw-01\":\"R82\""), "gw-01 runs R82 now");
    cdt_string_free(json);
    /* A second run in the same folder is refused. */
    cdt_deployment *again = NULL;
    CHECK_STATUS(cdt_deployment_simulated(dir, in.fleet, in.list, in.plan, o, &again), CDT_ERR_JOURNAL,
                 "a folder that holds a run");
    CHECK(again == NULL, "no handle on failure");
    cdt_report_free(r);
    cdt_deployment_free(d);
    cdt_options_free(o);
    unload(&in);
}

/* --- started, then polled -------------------------------------------------------------- */

static void started_then_polled(void) {
    inputs in = load("ssh-fleet.toml");
    cdt_options *o = options_with(3000, NULL);
    cdt_deployment *d = NULL;
    CHECK_OK(cdt_deployment_simulated(run_dir("polled"), in.fleet, in.list, in.plan, o, &d), "a deployment");
    cdt_event *e = NULL;
    CHECK_STATUS(cdt_deployment_next_event(d, 0, &e), CDT_ERR_STATE, "polling before the start");
    CHECK_OK(cdt_deployment_start(d, 16), "started");
    CHECK_STATUS(cdt_deployment_start(d, 16), CDT_ERR_STATE, "started twice");
    int events = 0, finished = 0, empty = 0;
    for (;;) {
        cdt_status s = cdt_deployment_next_event(d, 20, &e);
        if (s == CDT_FINISHED) break;
        if (s == CDT_NO_EVENT) {
            empty++;
            continue;
        }
        CHECK_OK(s, "an event");
        if (s != CDT_OK) break;
        events++;
        if (strcmp(cdt_event_kind(e), "target_finished") == 0) finished++;
        cdt_event_free(e);
    }
    CHECK(cdt_last_error_message() == NULL, "CDT_NO_EVENT and CDT_FINISHED are not errors");
    CHECK(events > 0 && finished == (int)in.batched, "every target's end was seen");
    cdt_report *r = NULL, *r2 = NULL;
    CHECK_OK(cdt_deployment_wait(d, &r), "waited for");
    CHECK_OK(cdt_deployment_wait(d, &r2), "waited for again: the same report");
    CHECK(totals_of(r).succeeded == in.batched && totals_of(r2).succeeded == in.batched, "all succeeded");
    CHECK_STATUS(cdt_deployment_next_event(d, 0, &e), CDT_FINISHED, "no events after the end");
    cdt_report_free(r);
    cdt_report_free(r2);
    cdt_deployment_free(d);
    cdt_options_free(o);
    unload(&in);
}

/* --- cancelled, then resumed ------------------------------------------------------------ */

typedef struct {
    const cdt_deployment *d;
    long after_ms;
} canceller;

static void *cancel_later(void *arg) {
    canceller *c = arg;
    sleep_ms(c->after_ms);
    cdt_deployment_cancel(c->d);
    return NULL;
}

/* A cancelled run is over: resumed, it checks nothing again and starts nothing new. */
static void resume_starts_nothing(const char *dir, cdt_totals cancelled) {
    cdt_deployment *d = NULL;
    CHECK_OK(cdt_deployment_resume(dir, NULL, NULL, NULL, NULL, &d), "resumed");
    CHECK(cdt_deployment_in_flight(d) == 0, "nothing was in flight");
    cdt_report *r = NULL;
    CHECK_OK(cdt_deployment_run(d, NULL, NULL, &r), "the resumed run ends");
    cdt_totals t = totals_of(r);
    CHECK(memcmp(&t, &cancelled, sizeof t) == 0, "with the cancelled run's totals");
    char path[1200], *json = NULL;
    snprintf(path, sizeof path, "%s/fleet", dir);
    CHECK_OK(cdt_fleet_state_json(path, &json, NULL), "the fleet's ground truth");
    CHECK(json && strstr(json, "\"cluster_down\":{\"ha\":[]}"), "the cluster never stopped serving");
    cdt_string_free(json);
    cdt_report_free(r);
    cdt_deployment_free(d);
}

static void cancelled_from_another_thread_then_resumed(void) {
    inputs in = load("ssh-fleet.toml");
    /* One target at a time, slowly enough to be cancelled midway. */
    cdt_options *o = options_with(1500, "{\"concurrency\": 1}");
    const char *dir = run_dir("cancelled");
    cdt_deployment *d = NULL;
    CHECK_OK(cdt_deployment_simulated(dir, in.fleet, in.list, in.plan, o, &d), "a deployment");
    pthread_t thread;
    canceller c = {d, 150};
    pthread_create(&thread, NULL, cancel_later, &c);
    cdt_report *r = NULL;
    CHECK_OK(cdt_deployment_run(d, NULL, NULL, &r), "a cancelled run ends with a report");
    pthread_join(thread, NULL);
    cdt_totals t = totals_of(r);
    CHECK(t.not_started > 0, "targets were left");
    CHECK(t.failed == 0, "nothing failed");
    cdt_report_free(r);
    cdt_deployment_free(d);
    resume_starts_nothing(dir, t);
    cdt_options_free(o);
    unload(&in);
}

static void cancelled_by_its_callback_then_resumed(void) {
    inputs in = load("ssh-fleet.toml");
    cdt_options *o = options_with(1500, "{\"concurrency\": 1}");
    const char *dir = run_dir("callback-cancelled");
    cdt_deployment *d = NULL;
    CHECK_OK(cdt_deployment_simulated(dir, in.fleet, in.list, in.plan, o, &d), "a deployment");
    tally t = {0};
    t.cancel_at = 1;
    cdt_report *r = NULL;
    CHECK_OK(cdt_deployment_run(d, on_event, &t, &r), "the run ends");
    CHECK(t.cancelled && t.after_cancel == 0, "no event is passed after the callback cancelled");
    cdt_totals t2 = totals_of(r);
    CHECK(t2.not_started > 0, "targets were left");
    cdt_report_free(r);
    cdt_deployment_free(d);
    resume_starts_nothing(dir, t2);
    cdt_options_free(o);
    unload(&in);
}

/* --- a handle used after its deployment was cancelled ------------------------------------ */

static void used_after_cancel(void) {
    inputs in = load("ssh-fleet.toml");
    cdt_deployment *d = NULL;
    CHECK_OK(cdt_deployment_simulated(run_dir("cancel-first"), in.fleet, in.list, in.plan, NULL, &d), "made");
    CHECK_OK(cdt_deployment_cancel(d), "cancelled before it starts");
    CHECK_OK(cdt_deployment_cancel(d), "cancelled again: harmless");
    cdt_report *r = NULL;
    CHECK_OK(cdt_deployment_run(d, NULL, NULL, &r), "it ends at once");
    CHECK(totals_of(r).succeeded == 0 && totals_of(r).not_started == cdt_deployment_targets(d),
          "nothing was started");
    cdt_report_free(r);
    CHECK_STATUS(cdt_deployment_run(d, NULL, NULL, &r), CDT_ERR_STATE, "run again");
    CHECK(strstr(cdt_last_error_message(), "started already") != NULL, "with a message");
    CHECK_STATUS(cdt_deployment_start(d, 0), CDT_ERR_STATE, "started again");
    cdt_event *e = NULL;
    CHECK_STATUS(cdt_deployment_next_event(d, 0, &e), CDT_FINISHED, "no events");
    CHECK_OK(cdt_deployment_approve(d), "approving is harmless");
    CHECK_OK(cdt_deployment_wait(d, &r), "its report again");
    cdt_report_free(r);
    CHECK_STATUS(cdt_deployment_resume(run_dir("cancel-first"), NULL, NULL, NULL, NULL, NULL), CDT_ERR_NULL,
                 "resume without an output");
    CHECK_STATUS(cdt_deployment_run(NULL, NULL, NULL, NULL), CDT_ERR_NULL, "a NULL deployment");
    CHECK_STATUS(cdt_deployment_cancel(NULL), CDT_ERR_NULL, "cancel NULL");
    CHECK(!cdt_deployment_finished(NULL), "NULL is not finished");
    cdt_deployment_free(d);
    cdt_options *o = NULL;
    CHECK_OK(cdt_options_new(&o), "options");
    CHECK_STATUS(cdt_options_set_scale(o, -2), CDT_ERR_ARGUMENT, "a negative scale");
    CHECK_STATUS(cdt_options_set_timing(o, -1, 0), CDT_ERR_ARGUMENT, "a negative poll");
    CHECK_STATUS(cdt_options_set_settings_json(o, "{\"concurency\": 2}"), CDT_ERR_ARGUMENT, "a misspelt setting");
    CHECK(strstr(cdt_last_error_message(), "concurency") != NULL, "named");
    cdt_options_free(o);
    unload(&in);
}

/* --- paused after each batch, approved from another thread ------------------------------- */

static void *approve_later(void *arg) {
    sleep_ms(200);
    cdt_deployment_approve(arg);
    return NULL;
}

static void paused_and_approved(void) {
    inputs in = load("ssh-fleet.toml");
    /* Two batches: the cluster first, then the standalone gateways. */
    cdt_candidates *two = NULL;
    char *csv = NULL;
    size_t len = 0;
    CHECK_OK(cdt_candidates_to_csv(in.list, &csv, &len), "the list");
    CHECK_OK(cdt_candidates_parse(csv, len, "two-batches.csv", &two), "a copy");
    cdt_string_free(csv);
    CHECK_OK(cdt_candidates_set_order(two, "gw-1", "2"), "gw-1 in the second batch");
    CHECK_OK(cdt_candidates_set_order(two, "gw-2", "2"), "gw-2 too");
    CHECK_OK(cdt_candidates_set_order(two, "gw-3", "2"), "gw-3 too");
    CHECK_OK(cdt_candidates_validate_edit(in.list, two), "a valid edit");
    CHECK_STATUS(cdt_candidates_set_order(two, "nobody", "2"), CDT_ERR_ARGUMENT, "an unknown object");
    CHECK_STATUS(cdt_candidates_set_order(two, "gw-1", "soon"), CDT_ERR_ARGUMENT, "an order that is not one");
    cdt_options *o = options_with(3000, "{\"pause_after_batch\": true}");
    cdt_deployment *d = NULL;
    CHECK_OK(cdt_deployment_simulated(run_dir("paused"), in.fleet, two, in.plan, o, &d), "a deployment");
    CHECK_OK(cdt_deployment_start(d, 0), "started");
    int awaiting = 0, batches = 0;
    pthread_t thread;
    cdt_event *e = NULL;
    cdt_status s;
    while ((s = cdt_deployment_next_event(d, 50, &e)) != CDT_FINISHED) {
        if (s != CDT_OK) continue;
        const char *kind = cdt_event_kind(e);
        if (strcmp(kind, "batch_started") == 0) batches++;
        if (strcmp(kind, "awaiting_approval") == 0) {
            awaiting++;
            pthread_create(&thread, NULL, approve_later, d);
        }
        cdt_event_free(e);
    }
    if (awaiting) pthread_join(thread, NULL);
    CHECK(batches == 2 && awaiting == 1, "one pause between the two batches");
    cdt_report *r = NULL;
    CHECK_OK(cdt_deployment_wait(d, &r), "the run ends");
    CHECK(totals_of(r).succeeded == in.batched, "all succeeded after the approval");
    cdt_report_free(r);
    cdt_deployment_free(d);
    cdt_options_free(o);
    cdt_candidates_free(two);
    unload(&in);
}

/* --- two deployments at once ------------------------------------------------------------ */

typedef struct {
    const char *dir;
    cdt_status status;
    size_t succeeded;
    size_t batched;
} parallel_run;

static void *run_one(void *arg) {
    parallel_run *p = arg;
    inputs in = load("ssh-fleet.toml");
    p->batched = in.batched;
    cdt_options *o = options_with(3000, NULL);
    cdt_deployment *d = NULL;
    p->status = cdt_deployment_simulated(p->dir, in.fleet, in.list, in.plan, o, &d);
    if (p->status == CDT_OK) {
        cdt_report *r = NULL;
        p->status = cdt_deployment_run(d, NULL, NULL, &r);
        if (r) {
            cdt_totals t = {0};
            cdt_report_totals(r, &t);
            p->succeeded = t.succeeded;
        }
        cdt_report_free(r);
    }
    cdt_deployment_free(d);
    cdt_options_free(o);
    unload(&in);
    return NULL;
}

static void two_deployments_in_parallel_threads(void) {
    parallel_run a = {run_dir("parallel-a"), CDT_ERR_PANIC, 0, 0};
    parallel_run b = {run_dir("parallel-b"), CDT_ERR_PANIC, 0, 0};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, run_one, &a);
    pthread_create(&tb, NULL, run_one, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    CHECK_OK(a.status, "the first");
    CHECK_OK(b.status, "the second");
    CHECK(a.succeeded == a.batched && b.succeeded == b.batched && a.batched > 0, "both succeeded");
}

/* --- a transport written in C ------------------------------------------------------------ */

typedef struct {
    const char *gaia;
    char state[1024];
    pthread_mutex_t lock;
    int calls;
    int freed;
    const char *unreachable; /* a host this transport cannot reach, or NULL */
} gaia_transport;

/* Runs the emulator for `host` with `command`, standard input from `input` (or nothing),
 * standard output to `out_fd` (or a buffer), within `timeout_ms`. */
static int run_gaia(gaia_transport *t, const char *host, const char *command, const char *input, int out_fd,
                    uint64_t timeout_ms, cdt_reply *reply) {
    char env_host[512], env_state[1200], *env_command;
    snprintf(env_host, sizeof env_host, "CDT_GAIA_HOST=%s", host);
    snprintf(env_state, sizeof env_state, "CDT_GAIA_STATE=%s", t->state);
    size_t n = strlen(command) + 32;
    env_command = malloc(n);
    snprintf(env_command, n, "SSH_ORIGINAL_COMMAND=%s", command);
    char *envp[] = {env_host, env_state, env_command, NULL};
    char *argv[] = {(char *)t->gaia, NULL};
    int out_pipe[2], err_pipe[2];
    if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0) {
        free(env_command);
        cdt_reply_set_error(reply, strerror(errno));
        return CDT_TRANSPORT_OTHER;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (input) {
        posix_spawn_file_actions_addopen(&actions, 0, input, O_RDONLY, 0);
    } else {
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    }
    posix_spawn_file_actions_adddup2(&actions, out_fd >= 0 ? out_fd : out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
    posix_spawn_file_actions_addclose(&actions, err_pipe[0]);
    pid_t pid;
    int spawned = posix_spawn(&pid, t->gaia, &actions, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    free(env_command);
    close(out_pipe[1]);
    close(err_pipe[1]);
    if (spawned != 0) {
        close(out_pipe[0]);
        close(err_pipe[0]);
        cdt_reply_set_error(reply, strerror(spawned));
        return CDT_TRANSPORT_UNREACHABLE;
    }
    char *bufs[2] = {NULL, NULL};
    size_t lens[2] = {0, 0}, caps[2] = {0, 0};
    struct pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int open_fds = 2, timed_out = 0;
    while (open_fds > 0) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long long spent_ms = (long long)(now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        uint64_t spent = spent_ms < 0 ? 0 : (uint64_t)spent_ms;
        if (spent >= timeout_ms) {
            timed_out = 1;
            break;
        }
        uint64_t left = timeout_ms - spent;
        if (poll(fds, 2, left > 1000 ? 1000 : (int)left) < 0 && errno != EINTR) break;
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            if (caps[i] - lens[i] < 4096) {
                caps[i] = caps[i] * 2 + 8192;
                bufs[i] = realloc(bufs[i], caps[i]);
            }
            ssize_t got = read(fds[i].fd, bufs[i] + lens[i], caps[i] - lens[i]);
            if (got > 0) {
                lens[i] += (size_t)got;
            } else {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
            }
        }
    }
    for (int i = 0; i < 2; i++)
        if (fds[i].fd >= 0) close(fds[i].fd);
    if (timed_out) kill(pid, SIGKILL);
    int wstatus = 0;
    while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
    int result = CDT_TRANSPORT_OK;
    if (timed_out) {
        cdt_reply_set_error(reply, "the command did not end in time");
        result = CDT_TRANSPORT_CONNECTION_LOST;
    } else {
        cdt_reply_set_output(reply, WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1, bufs[0], lens[0], bufs[1],
                             lens[1]);
        /* The emulator aborts where a real gateway's connection drops (a reboot). */
        if (!WIFEXITED(wstatus)) cdt_reply_set_dropped(reply);
    }
    if (getenv("CDT_TEST_TRACE")) {
        struct timespec end;
        clock_gettime(CLOCK_MONOTONIC, &end);
        long ms = (end.tv_sec - start.tv_sec) * 1000 + (end.tv_nsec - start.tv_nsec) / 1000000;
        fprintf(stderr, "trace: %s %ld ms (limit %llu) status %d: %.100s\n", host, ms,
                (unsigned long long)timeout_ms, wstatus, command);
    }
    free(bufs[0]);
    free(bufs[1]);
    return result;
}

static int count_call(gaia_transport *t, const char *host) {
    pthread_mutex_lock(&t->lock);
    t->calls++;
    pthread_mutex_unlock(&t->lock);
    return t->unreachable && strcmp(host, t->unreachable) == 0;
}

static int gaia_exec(void *userdata, const char *host, const char *command, uint64_t timeout_ms, cdt_reply *reply) {
    gaia_transport *t = userdata;
    if (count_call(t, host)) {
        cdt_reply_set_error(reply, "no route to host");
        return CDT_TRANSPORT_UNREACHABLE;
    }
    return run_gaia(t, host, command, NULL, -1, timeout_ms, reply);
}

static char *cat_command(const char *verb, const char *path) {
    /* Paths the engine copies to are plain (no quote in them); quoted for the shell. */
    size_t n = strlen(path) + 16;
    char *c = malloc(n);
    snprintf(c, n, "cat %s'%s'", verb, path);
    return c;
}

static int gaia_put(void *userdata, const char *host, const char *local, const char *remote, uint64_t timeout_ms,
                    cdt_reply *reply) {
    gaia_transport *t = userdata;
    if (count_call(t, host)) {
        cdt_reply_set_error(reply, "no route to host");
        return CDT_TRANSPORT_UNREACHABLE;
    }
    char *command = cat_command("> ", remote);
    int r = run_gaia(t, host, command, local, -1, timeout_ms, reply);
    free(command);
    return r;
}

static int gaia_get(void *userdata, const char *host, const char *remote, const char *local, uint64_t timeout_ms,
                    cdt_reply *reply) {
    gaia_transport *t = userdata;
    if (count_call(t, host)) {
        cdt_reply_set_error(reply, "no route to host");
        return CDT_TRANSPORT_UNREACHABLE;
    }
    int fd = open(local, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        cdt_reply_set_error(reply, strerror(errno));
        return CDT_TRANSPORT_TRANSFER;
    }
    char *command = cat_command("", remote);
    int r = run_gaia(t, host, command, NULL, fd, timeout_ms, reply);
    close(fd);
    free(command);
    return r;
}

static void gaia_free(void *userdata) {
    gaia_transport *t = userdata;
    t->freed++;
}

static cdt_transport transport_of(gaia_transport *t) {
    cdt_transport c = {t, gaia_exec, gaia_put, gaia_get, gaia_free};
    return c;
}

static void a_whole_deployment_through_a_c_transport(void) {
    inputs in = load("ssh-fleet.toml");
    gaia_transport t = {0};
    t.gaia = gaia;
    pthread_mutex_init(&t.lock, NULL);
    snprintf(t.state, sizeof t.state, "%s/gaia-state", work);
    const double scale = 1000;
    CHECK_OK(cdt_fleet_write_state(in.fleet, t.state, scale), "the emulator's state");
    cdt_options *o = options_with(scale, NULL);
    CHECK_OK(cdt_options_set_management(o, "mgmt", NULL, NULL), "the Management Server");
    cdt_transport c = transport_of(&t);
    const char *dir = run_dir("c-transport");
    cdt_deployment *d = NULL;
    CHECK_OK(cdt_deployment_over_transport(dir, in.inventory, in.list, in.plan, &c, o, &d), "a deployment");
    tally events = {0};
    cdt_report *r = NULL;
    CHECK_OK(cdt_deployment_run(d, on_event, &events, &r), "runs to its end");
    cdt_totals totals = totals_of(r);
    CHECK(totals.succeeded == in.batched && in.batched == 5, "all five boxes upgraded");
    char *json = NULL;
    CHECK_OK(cdt_fleet_state_json(t.state, &json, NULL), "the emulator's ground truth");
    CHECK(json && strstr(json, "\"gw-3\":\"R82\"") && strstr(json, "\"ha-a\":\"R82\""), "R82 everywhere");
    CHECK(json && strstr(json, "\"cluster_down\":{\"ha\":[]}") != NULL, "the cluster never stopped serving");
    cdt_string_free(json);
    CHECK(t.calls > 20, "the transport ran the commands");
    cdt_report_free(r);
    cdt_deployment_free(d);
    CHECK(t.freed == 1, "freed once, when the deployment is done with it");

    /* Resuming needs the transport again; SSH settings are refused. */
    cdt_deployment *resumed = NULL;
    CHECK_STATUS(cdt_deployment_resume(dir, NULL, NULL, NULL, NULL, &resumed), CDT_ERR_STATE,
                 "a transport run resumed without one");
    CHECK(strstr(cdt_last_error_message(), "transport") != NULL, "says what it needs");

    /* A host the transport cannot reach fails that target only, with the transport's words. */
    inputs again = load("ssh-fleet.toml");
    gaia_transport u = {0};
    u.gaia = gaia;
    u.unreachable = "gw-2";
    pthread_mutex_init(&u.lock, NULL);
    snprintf(u.state, sizeof u.state, "%s/gaia-state-2", work);
    CHECK_OK(cdt_fleet_write_state(again.fleet, u.state, scale), "a second emulator state");
    cdt_transport cu = transport_of(&u);
    CHECK_OK(cdt_options_set_settings_json(o, "{\"failure_budget\": {\"count\": 1}}"), "one failure tolerated");
    CHECK_OK(cdt_deployment_over_transport(run_dir("c-transport-2"), again.inventory, again.list, again.plan, &cu, o, &d),
             "a second deployment");
    CHECK_OK(cdt_deployment_run(d, NULL, NULL, &r), "runs to its end");
    totals = totals_of(r);
    CHECK(totals.unreachable == 1 && totals.succeeded == 4, "only gw-2 is unreachable");
    CHECK_OK(cdt_report_json(r, &json, NULL), "the report");
    CHECK(json && strstr(json, "no route to host"), "with the transport's words");
    cdt_string_free(json);
    cdt_report_free(r);
    cdt_deployment_free(d);
    CHECK(u.freed == 1, "the second transport freed once");

    /* A transport without its functions is refused, and not taken over. */
    gaia_transport v = {0};
    cdt_transport broken = transport_of(&v);
    broken.put = NULL;
    CHECK_STATUS(cdt_deployment_over_transport(run_dir("c-transport-3"), again.inventory, again.list, again.plan,
                                               &broken, o, &d),
                 CDT_ERR_NULL, "a transport without put");
    CHECK(v.freed == 0, "a refused transport is still the caller's");
    pthread_mutex_destroy(&t.lock);
    pthread_mutex_destroy(&u.lock);
    cdt_options_free(o);
    unload(&again);
    unload(&in);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s FIXTURES_DIR WORK_DIR CDT_GAIA\n", argv[0]);
        return 2;
    }
    fixtures = argv[1];
    work = argv[2];
    gaia = argv[3];
    snprintf(package, sizeof package, "%s/%s", work, UPGRADE);
    FILE *p = fopen(package, "w");
    if (!p) {
        perror(package);
        return 2;
    }
    fputs("a simulated major version package\n", p);
    fclose(p);
    if (!getenv("CDT_TEST_SMALL")) RUN(blocking_run_with_a_callback);
    RUN(started_then_polled);
    RUN(cancelled_from_another_thread_then_resumed);
    RUN(cancelled_by_its_callback_then_resumed);
    RUN(used_after_cancel);
    RUN(paused_and_approved);
    RUN(two_deployments_in_parallel_threads);
    RUN(a_whole_deployment_through_a_c_transport);
    return checks_end();
}
