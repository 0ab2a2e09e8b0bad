/* Deployments over SSH through the C API, against real OpenSSH servers on loopback (the SSH
 * test bed, `cdt-testfleet`, one server per simulated gateway): direct with kept shells and
 * relayed through the Management Server, each checked against the fleet's own record; a
 * resume that needs its SSH settings again; and host keys that are not trusted.
 *
 * Usage: ssh FIXTURES_DIR WORK_DIR CDT_TESTFLEET
 * Without root or sshd, every test is skipped (and said so). */
#include "check.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#define UPGRADE "Check_Point_R82_T777_Fresh_Install_and_Upgrade_Security_Gateway.tgz"

extern char **environ;

static const char *fixtures;
static const char *work;
static const char *testfleet;
static char package[1024];

typedef struct {
    pid_t pid;
    FILE *commands; /* its standard input: closed, the fleet stops */
    char line[16384];
    char user[64], key[1024], known_hosts[1024], state[1024], mgmt[64];
    char inventory[1100];
} fleet;

/* The string value of `"name":"...` in the JSON line (no escapes in these values). */
static int field(const char *json, const char *name, char *out, size_t size) {
    char key[128];
    snprintf(key, sizeof key, "\"%s\":\"", name);
    const char *at = strstr(json, key);
    if (!at) return 0;
    at += strlen(key);
    const char *end = strchr(at, '"');
    if (!end || (size_t)(end - at) >= size) return 0;
    memcpy(out, at, (size_t)(end - at));
    out[end - at] = '\0';
    return 1;
}

static int start(fleet *f, const char *name) {
    snprintf(f->inventory, sizeof f->inventory, "%s/%s-inventory.json", work, name);
    char fleet_file[1200];
    snprintf(fleet_file, sizeof fleet_file, "%s/fleets/ssh-fleet.toml", fixtures);
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) return 0;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addclose(&actions, in[1]);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    char *argv[] = {(char *)testfleet, fleet_file, "--scale", "300", "--inventory", f->inventory, NULL};
    int spawned = posix_spawn(&f->pid, testfleet, &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(in[0]);
    close(out[1]);
    if (spawned != 0) return 0;
    f->commands = fdopen(in[1], "w");
    FILE *answers = fdopen(out[0], "r");
    int ok = answers && fgets(f->line, sizeof f->line, answers) != NULL;
    if (answers) fclose(answers);
    ok = ok && field(f->line, "user", f->user, sizeof f->user) && field(f->line, "client_key", f->key, sizeof f->key) &&
         field(f->line, "known_hosts", f->known_hosts, sizeof f->known_hosts) &&
         field(f->line, "state", f->state, sizeof f->state);
    const char *m = strstr(f->line, "\"mgmt\":{\"address\":\"");
    ok = ok && m && sscanf(m + strlen("\"mgmt\":{\"address\":\""), "%63[^\"]", f->mgmt) == 1;
    CHECK(ok, "the test fleet started and described itself");
    return ok;
}

static void stop(fleet *f) {
    if (f->commands) fclose(f->commands);
    int status;
    waitpid(f->pid, &status, 0);
}

typedef struct {
    cdt_inventory *inventory;
    cdt_candidates *list;
    cdt_plan *plan;
    cdt_ssh *ssh;
    cdt_options *options;
} inputs;

static inputs prepare(const fleet *f, int relay) {
    inputs in = {0};
    CHECK_OK(cdt_inventory_load(f->inventory, &in.inventory), "the fleet's inventory");
    CHECK_OK(cdt_candidates_generate(in.inventory, package, NULL, NULL, NULL, NULL, &in.list, NULL), "its list");
    char xml[2048];
    snprintf(xml, sizeof xml,
             "<CDT_Deployment_Plan><plan_settings><update_cpuse value=\"false\"/></plan_settings>"
             "<install_package path=\"%s\"/></CDT_Deployment_Plan>",
             package);
    CHECK_OK(cdt_plan_parse(xml, strlen(xml), NULL, &in.plan), "the plan");
    CHECK_OK(cdt_ssh_new(f->user, f->known_hosts, &in.ssh), "SSH settings");
    CHECK_OK(cdt_ssh_use_key_file(in.ssh, f->key, NULL), "the client key");
    CHECK_OK(cdt_ssh_set_kept_shells(in.ssh, !relay), "kept shells");
    CHECK_OK(cdt_ssh_set_relay(in.ssh, relay), "relay");
    CHECK_OK(cdt_options_new(&in.options), "options");
    CHECK_OK(cdt_options_set_scale(in.options, 300), "the driver's clock as fast as the fleet's");
    CHECK_OK(cdt_options_set_management(in.options, "mgmt", f->mgmt, NULL), "the Management Server");
    return in;
}

static void release(inputs *in) {
    cdt_options_free(in->options);
    cdt_ssh_free(in->ssh);
    cdt_plan_free(in->plan);
    cdt_candidates_free(in->list);
    cdt_inventory_free(in->inventory);
}

/* From the fleet's own record: every box on R82, the cluster never down. */
static void check_fleet(const fleet *f) {
    char *json = NULL;
    CHECK_OK(cdt_fleet_state_json(f->state, &json, NULL), "the fleet's record");
    const char *boxes[] = {"gw-1", "gw-2", "gw-3", "ha-a", "ha-b"};
    for (size_t i = 0; json && i < sizeof boxes / sizeof boxes[0]; i++) {
        char want[64];
        snprintf(want, sizeof want, "\"%s\":\"R82\"", boxes[i]);
        CHECK(strstr(json, want) != NULL, boxes[i]);
    }
    CHECK(json && strstr(json, "\"cluster_down\":{\"ha\":[]}"), "the cluster never stopped serving");
    cdt_string_free(json);
}

/* A whole deployment over SSH in the run folder `dir`, checked against the fleet's record. */
static void upgrade_all(const fleet *f, const inputs *in, const char *dir, const char *how) {
    cdt_deployment *d = NULL;
    CHECK_OK(cdt_deployment_over_ssh(dir, in->inventory, in->list, in->plan, in->ssh, in->options, &d), "a deployment");
    cdt_report *r = NULL;
    CHECK_OK(cdt_deployment_run(d, NULL, NULL, &r), "runs to its end");
    cdt_totals t = {0};
    CHECK_OK(cdt_report_totals(r, &t), "totals");
    CHECK(t.succeeded == 5, how);
    check_fleet(f);
    cdt_report_free(r);
    cdt_deployment_free(d);
}

static void direct_with_kept_shells_then_resumed(void) {
    fleet f = {0};
    if (!start(&f, "direct")) return;
    inputs in = prepare(&f, 0);
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/direct", work);
    upgrade_all(&f, &in, dir, "all five boxes upgraded over SSH");
    cdt_deployment *d = NULL;
    cdt_report *r = NULL;
    cdt_totals t = {0};
    /* The run folder keeps no secret: resuming needs the settings again. */
    char path[1300], *text = NULL;
    snprintf(path, sizeof path, "%s/run.json", dir);
    FILE *run = fopen(path, "r");
    CHECK(run != NULL, "run.json");
    if (run) {
        char buf[8192];
        size_t n = fread(buf, 1, sizeof buf - 1, run);
        buf[n] = '\0';
        fclose(run);
        CHECK(strstr(buf, "\"face\": \"c\"") != NULL && strstr(buf, f.key) != NULL, "it records the key file's path");
    }
    CHECK_STATUS(cdt_deployment_resume(dir, NULL, NULL, NULL, NULL, &d), CDT_ERR_STATE, "resumed without settings");
    CHECK(strstr(cdt_last_error_message(), "SSH") != NULL, "says what it needs");
    CHECK_STATUS(cdt_deployment_resume(dir, NULL, in.ssh, NULL, NULL, &d), CDT_ERR_NULL, "without the inventory");
    CHECK_OK(cdt_deployment_resume(dir, in.inventory, in.ssh, NULL, in.options, &d), "resumed with them");
    CHECK_OK(cdt_deployment_run(d, NULL, NULL, &r), "the finished run ends at once");
    CHECK_OK(cdt_report_totals(r, &t), "totals");
    CHECK(t.succeeded == 5, "the same totals");
    CHECK_OK(cdt_report_json(r, &text, NULL), "the report");
    cdt_string_free(text);
    cdt_report_free(r);
    cdt_deployment_free(d);
    release(&in);
    stop(&f);
}

static void relayed_through_the_management_server(void) {
    fleet f = {0};
    if (!start(&f, "relayed")) return;
    inputs in = prepare(&f, 1);
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/relayed", work);
    upgrade_all(&f, &in, dir, "all five boxes upgraded through the Management Server");
    cdt_deployment *d = NULL;
    /* Relaying needs the Management Server named. */
    cdt_options *bare = NULL;
    CHECK_OK(cdt_options_new(&bare), "options");
    snprintf(dir, sizeof dir, "%s/relayed-2", work);
    CHECK_STATUS(cdt_deployment_over_ssh(dir, in.inventory, in.list, in.plan, in.ssh, bare, &d), CDT_ERR_ARGUMENT,
                 "relayed without a Management Server");
    cdt_options_free(bare);
    release(&in);
    stop(&f);
}

static void host_keys_not_trusted_are_refused(void) {
    fleet f = {0};
    if (!start(&f, "untrusted")) return;
    inputs in = prepare(&f, 0);
    char empty[1200];
    snprintf(empty, sizeof empty, "%s/empty_known_hosts", work);
    FILE *e = fopen(empty, "w");
    if (e) fclose(e);
    cdt_ssh *strict = NULL;
    CHECK_OK(cdt_ssh_new(f.user, empty, &strict), "strict settings with no known host");
    CHECK_OK(cdt_ssh_use_key_file(strict, f.key, NULL), "the client key");
    CHECK_OK(cdt_options_set_settings_json(in.options, "{\"failure_budget\": {\"count\": 10}}"), "no stop");
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/untrusted", work);
    cdt_deployment *d = NULL;
    CHECK_OK(cdt_deployment_over_ssh(dir, in.inventory, in.list, in.plan, strict, in.options, &d), "a deployment");
    cdt_report *r = NULL;
    CHECK_OK(cdt_deployment_run(d, NULL, NULL, &r), "runs to its end");
    cdt_totals t = {0};
    CHECK_OK(cdt_report_totals(r, &t), "totals");
    CHECK(t.succeeded == 0, "nothing was done on a host whose key is not trusted");
    char *json = NULL;
    CHECK_OK(cdt_report_json(r, &json, NULL), "the report");
    CHECK(json && strstr(json, "host key refused"), "it says why");
    cdt_string_free(json);
    cdt_report_free(r);
    cdt_deployment_free(d);
    cdt_ssh_free(strict);
    CHECK_STATUS(cdt_ssh_new(NULL, empty, &strict), CDT_ERR_NULL, "no user");
    CHECK_OK(cdt_ssh_new("admin", empty, &strict), "settings");
    snprintf(dir, sizeof dir, "%s/no-login", work);
    CHECK_STATUS(cdt_deployment_over_ssh(dir, in.inventory, in.list, in.plan, strict, in.options, &d),
                 CDT_ERR_ARGUMENT, "settings without a way to log in");
    CHECK_STATUS(cdt_ssh_set_port(strict, 0), CDT_ERR_ARGUMENT, "port 0");
    CHECK_STATUS(cdt_ssh_set_connect_timeout(strict, -1), CDT_ERR_ARGUMENT, "a negative timeout");
    CHECK_OK(cdt_ssh_use_password(strict, "hunter2-secret", false), "a password");
    cdt_ssh_free(strict);
    release(&in);
    stop(&f);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s FIXTURES_DIR WORK_DIR CDT_TESTFLEET\n", argv[0]);
        return 2;
    }
    fixtures = argv[1];
    work = argv[2];
    testfleet = argv[3];
    if (geteuid() != 0 || access("/usr/sbin/sshd", X_OK) != 0) {
        printf("skipped: the SSH test fleet needs root and openssh-server\n");
        return checks_end();
    }
    signal(SIGPIPE, SIG_IGN);
    snprintf(package, sizeof package, "%s/%s", work, UPGRADE);
    FILE *p = fopen(package, "w");
    if (!p) return 2;
    fputs("the upgrade package\n", p);
    fclose(p);
    RUN(direct_with_kept_shells_then_resumed);
    RUN(relayed_through_the_management_server);
    RUN(host_keys_not_trusted_are_refused);
    return checks_end();
}
