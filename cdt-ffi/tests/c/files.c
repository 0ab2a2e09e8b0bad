/* CDT's files through the C API: every bad fixture file loaded and its status, line, column
 * or object and message checked against its folder's EXPECTED.tsv (the tables the Rust and
 * Python tests read); good files written back and read again; candidates generated and an
 * operator's edits validated; NULL, invalid UTF-8 and bad arguments refused with a message.
 *
 * Usage: files FIXTURES_DIR WORK_DIR */
#include "check.h"

static const char *fixtures;
static const char *work;

static cdt_status status_of_kind(const char *kind) {
    if (strcmp(kind, "Xml") == 0) return CDT_ERR_XML;
    if (strcmp(kind, "Plan") == 0) return CDT_ERR_PLAN;
    if (strcmp(kind, "Config") == 0) return CDT_ERR_CONFIG;
    if (strcmp(kind, "Inventory") == 0) return CDT_ERR_INVENTORY;
    if (strcmp(kind, "Candidates") == 0) return CDT_ERR_CANDIDATES;
    if (strcmp(kind, "Io") == 0) return CDT_ERR_IO;
    if (strcmp(kind, "TooLarge") == 0) return CDT_ERR_TOO_LARGE;
    return CDT_OK;
}

/* Splits `line` at tabs into at most `max` fields; returns how many. */
static int split(char *line, char **fields, int max) {
    int n = 0;
    line[strcspn(line, "\r\n")] = '\0';
    char *rest = line;
    while (n < max) {
        fields[n++] = rest;
        char *tab = strchr(rest, '\t');
        if (!tab) break;
        *tab = '\0';
        rest = tab + 1;
    }
    return n;
}

/* The diagnostic of the last error whose message contains `needle`, if any. */
static int find_diagnostic(const char *needle, cdt_diagnostic *out) {
    size_t n = cdt_last_error_diagnostics();
    for (size_t i = 0; i < n; i++) {
        if (cdt_last_error_diagnostic(i, out) == CDT_OK && strstr(out->message, needle)) return 1;
    }
    return 0;
}

typedef cdt_status (*loader)(const char *path);

static cdt_status load_plan(const char *path) {
    cdt_plan *p = NULL;
    cdt_status s = cdt_plan_load(path, &p);
    cdt_plan_free(p);
    return s;
}
static cdt_status load_config(const char *path) {
    cdt_config *c = NULL;
    cdt_status s = cdt_config_load(path, &c);
    cdt_config_free(c);
    return s;
}
static cdt_status load_inventory(const char *path) {
    cdt_inventory *i = NULL;
    cdt_status s = cdt_inventory_load(path, &i);
    cdt_inventory_free(i);
    return s;
}
static cdt_status load_candidates(const char *path) {
    cdt_candidates *c = NULL;
    cdt_status s = cdt_candidates_load(path, &c);
    cdt_candidates_free(c);
    return s;
}

/* Every row of `folder`/EXPECTED.tsv: file, kind, line, then the column (`by_column`) or
 * the object ("-" for none), then a message substring. */
static void bad_files(const char *folder, loader load, int by_column) {
    char dir[1024], path[1200], line[2048];
    join(dir, sizeof dir, fixtures, folder);
    FILE *table = fopen(join(path, sizeof path, dir, "EXPECTED.tsv"), "r");
    CHECK(table != NULL, folder);
    if (!table) return;
    int rows = 0;
    while (fgets(line, sizeof line, table)) {
        if (line[0] == '#' || line[0] == '\n') continue;
        char *f[5];
        if (split(line, f, 5) != 5) continue;
        rows++;
        char what[1400];
        snprintf(what, sizeof what, "%s/%s", folder, f[0]);
        cdt_status got = load(join(path, sizeof path, dir, f[0]));
        CHECK_STATUS(got, status_of_kind(f[1]), what);
        CHECK(cdt_last_error_status() == got, what);
        CHECK(cdt_last_error_message() != NULL && strlen(cdt_last_error_message()) > 0, what);
        cdt_diagnostic d;
        int found = find_diagnostic(f[4], &d);
        CHECK(found, what);
        if (!found) continue;
        CHECK(d.line == (uint32_t)atoi(f[2]), what);
        if (by_column) {
            CHECK(d.column == (uint32_t)atoi(f[3]), what);
        } else if (strcmp(f[3], "-") == 0) {
            CHECK(d.object == NULL, what);
        } else {
            CHECK(d.object != NULL && strcmp(d.object, f[3]) == 0, what);
        }
        CHECK(d.file != NULL && strstr(d.file, f[0]) != NULL, what);
    }
    fclose(table);
    CHECK(rows > 0, folder);
}

/* The operator's edits of generated.csv, each verdict as the table says. */
static void bad_plans(void) { bad_files("plans/bad", load_plan, 1); }
static void bad_configs(void) { bad_files("configs/bad", load_config, 1); }
static void bad_inventories(void) { bad_files("inventories/bad", load_inventory, 0); }
static void bad_lists(void) { bad_files("candidates/bad", load_candidates, 0); }

static void edits(void) {
    char dir[1024], path[1200], line[2048];
    join(dir, sizeof dir, fixtures, "candidates/edits");
    cdt_candidates *generated = NULL;
    CHECK_OK(cdt_candidates_load(join(path, sizeof path, dir, "generated.csv"), &generated), "generated.csv");
    FILE *table = fopen(join(path, sizeof path, dir, "EXPECTED.tsv"), "r");
    CHECK(table != NULL, "edits table");
    if (!table || !generated) {
        if (table) fclose(table);
        cdt_candidates_free(generated);
        return;
    }
    while (fgets(line, sizeof line, table)) {
        if (line[0] == '#' || line[0] == '\n') continue;
        char *f[6];
        int n = split(line, f, 6);
        if (n < 2) continue;
        cdt_candidates *edited = NULL;
        CHECK_OK(cdt_candidates_load(join(path, sizeof path, dir, f[0]), &edited), f[0]);
        cdt_status s = cdt_candidates_validate_edit(generated, edited);
        if (strcmp(f[1], "ok") == 0) {
            CHECK_OK(s, f[0]);
        } else if (n == 6) {
            CHECK_STATUS(s, CDT_ERR_CANDIDATES, f[0]);
            cdt_diagnostic d;
            CHECK_OK(cdt_last_error_diagnostic(0, &d), f[0]);
            const char *in = strcmp(f[2], "edited") == 0 ? f[0] : "generated.csv";
            CHECK(d.file != NULL && strstr(d.file, in) != NULL, f[0]);
            CHECK(d.line == (uint32_t)atoi(f[3]), f[0]);
            CHECK(d.object != NULL && strcmp(d.object, f[4]) == 0, f[0]);
            CHECK(strstr(d.message, f[5]) != NULL, f[0]);
        }
        cdt_candidates_free(edited);
    }
    fclose(table);
    cdt_candidates_free(generated);
}

/* Good files written back as text and to disk read the same. */
static void round_trips(void) {
    char path[1200], out_path[1200];
    cdt_plan *plan = NULL;
    CHECK_OK(cdt_plan_load(join(path, sizeof path, fixtures, "plans/good/full.xml"), &plan), "full plan");
    CHECK(cdt_plan_steps(plan) > 0, "the full plan has steps");
    CHECK_OK(cdt_plan_validate(plan), "validate");
    char *xml = NULL;
    size_t len = 0;
    CHECK_OK(cdt_plan_to_xml(plan, &xml, &len), "plan to XML");
    CHECK(xml != NULL && strlen(xml) == len, "the length is the string's");
    cdt_plan *again = NULL;
    CHECK_OK(cdt_plan_parse(xml, len, "again.xml", &again), "the written plan parses");
    CHECK(cdt_plan_steps(again) == cdt_plan_steps(plan), "same steps");
    CHECK_OK(cdt_plan_save(plan, join(out_path, sizeof out_path, work, "plan.xml")), "save");
    cdt_plan *loaded = NULL;
    CHECK_OK(cdt_plan_load(out_path, &loaded), "the saved plan loads");
    cdt_string_free(xml);
    cdt_plan_free(plan);
    cdt_plan_free(again);
    cdt_plan_free(loaded);

    cdt_inventory *inv = NULL;
    CHECK_OK(cdt_inventory_load(join(path, sizeof path, fixtures, "inventories/sample-fleet.toml"), &inv), "inventory");
    CHECK(cdt_inventory_boxes(inv) == 17, "the sample fleet has 17 boxes");
    char *json = NULL;
    CHECK_OK(cdt_inventory_to_json(inv, &json, &len), "inventory to JSON");
    cdt_inventory *from_json = NULL;
    CHECK_OK(cdt_inventory_parse(json, len, "json", NULL, &from_json), "the JSON parses");
    CHECK(cdt_inventory_boxes(from_json) == 17, "same boxes");
    CHECK_STATUS(cdt_inventory_parse(json, len, "yaml", NULL, &from_json), CDT_ERR_ARGUMENT, "unknown format");
    cdt_string_free(json);
    cdt_inventory_free(from_json);

    /* Candidates generated for a Jumbo take, written, read back and validated. */
    cdt_candidates *list = NULL;
    char *unmatched = NULL;
    CHECK_OK(cdt_candidates_generate(inv, "Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T89_FULL.tgz", NULL, NULL,
                                     "no-such-box", NULL, &list, &unmatched),
             "generate");
    CHECK(unmatched != NULL && strcmp(unmatched, "no-such-box") == 0, "the filter name that matched nothing");
    cdt_string_free(unmatched);
    cdt_counts counts;
    CHECK_OK(cdt_candidates_counts(list, &counts), "counts");
    CHECK(counts.batched + counts.not_applicable + counts.installed + counts.excluded == cdt_candidates_rows(list),
          "the counts add up to the rows");
    CHECK(counts.batched > 0, "something to do");
    CHECK_OK(cdt_candidates_save(list, join(out_path, sizeof out_path, work, "list.csv")), "save the list");
    cdt_candidates *read = NULL;
    CHECK_OK(cdt_candidates_load(out_path, &read), "read it back");
    CHECK_OK(cdt_candidates_validate_edit(list, read), "an unchanged list is a valid edit");
    char *csv = NULL;
    CHECK_OK(cdt_candidates_to_csv(read, &csv, &len), "to CSV");
    CHECK(strncmp(csv, "Object Name", 11) == 0 && strlen(csv) == len, "CSV text with CDT's header");
    cdt_string_free(csv);
    CHECK_OK(cdt_candidates_to_json(read, &json, &len), "to JSON");
    CHECK(json[0] == '{' || json[0] == '[', "JSON text");
    cdt_string_free(json);
    CHECK_STATUS(cdt_candidates_generate(inv, "x.tgz", NULL, NULL, "a", "b", &list, NULL), CDT_ERR_ARGUMENT,
                 "exclude and include_only together");
    CHECK_STATUS(cdt_candidates_generate(inv, NULL, NULL, NULL, NULL, NULL, &list, NULL), CDT_ERR_ARGUMENT,
                 "nothing to generate for");
    cdt_candidates_free(read);
    cdt_candidates_free(list);
    cdt_inventory_free(inv);

    cdt_config *config = NULL;
    CHECK_OK(cdt_config_load(join(path, sizeof path, fixtures, "configs/good/basic.xml"), &config), "config");
    if (config) {
        CHECK_OK(cdt_config_to_xml(config, &xml, &len), "config to XML");
        cdt_config *c2 = NULL;
        CHECK_OK(cdt_config_parse(xml, len, NULL, &c2), "the written config parses");
        CHECK_OK(cdt_config_validate(c2), "and is valid");
        CHECK_OK(cdt_config_save(c2, join(out_path, sizeof out_path, work, "CentralDeploymentTool.xml")), "save");
        cdt_string_free(xml);
        cdt_config_free(c2);
    }
    cdt_config_free(config);
}

/* The simulated fleet, with a fault added from C. */
static void fleets(void) {
    char path[1200];
    cdt_fleet *fleet = NULL;
    CHECK_OK(cdt_fleet_load(join(path, sizeof path, fixtures, "fleets/demo-fleet.toml"), &fleet), "demo fleet");
    CHECK_OK(cdt_fleet_add_fault(fleet, "{\"kind\": \"package_fails\", \"host\": \"gw-01\", \"package\": \"R82\"}"),
             "a fault");
    CHECK_STATUS(cdt_fleet_add_fault(fleet, "{\"kind\": \"gremlins\"}"), CDT_ERR_ARGUMENT, "an unknown fault");
    CHECK(strstr(cdt_last_error_message(), "gremlins") != NULL, "the message names it");
    CHECK_STATUS(cdt_fleet_scale_latency(fleet, -1.0), CDT_ERR_ARGUMENT, "a negative factor");
    CHECK_OK(cdt_fleet_scale_latency(fleet, 0.0), "no latency");
    cdt_inventory *inv = NULL;
    CHECK_OK(cdt_fleet_inventory(fleet, &inv), "its inventory");
    CHECK(cdt_inventory_boxes(inv) >= 60, "the demo fleet has at least 60 boxes");
    cdt_inventory_free(inv);
    cdt_fleet_free(fleet);
    const char *bad = "start = \"2026-12-01T01:00:00Z\"\n[[gateways]]\nname = \"a\"\naddress = \"10.0.0.1\"\nversion = \"R81.20\"\ncolour = 1\n";
    CHECK_STATUS(cdt_fleet_parse(bad, strlen(bad), "toml", "bad-fleet.toml", &fleet), CDT_ERR_INVENTORY, "a bad fleet");
    CHECK(cdt_last_error_line() == 6, "the line of the unknown field");
}

/* Bad arguments: NULL, invalid UTF-8, an output pointer missing; outputs untouched. */
static void bad_arguments(void) {
    cdt_plan *plan = (cdt_plan *)0x1; /* must stay as it is on failure */
    CHECK_STATUS(cdt_plan_load(NULL, &plan), CDT_ERR_NULL, "a NULL path");
    CHECK(plan == (cdt_plan *)0x1, "the output is untouched on failure");
    CHECK(strstr(cdt_last_error_message(), "path") != NULL, "the message names the argument");
    CHECK_STATUS(cdt_plan_load("x.xml", NULL), CDT_ERR_NULL, "a NULL output");
    CHECK_STATUS(cdt_plan_load("\xff\xfe.xml", &plan), CDT_ERR_UTF8, "a path that is not UTF-8");
    CHECK_STATUS(cdt_plan_parse("<a>\xc3(</a>", 9, NULL, &plan), CDT_ERR_UTF8, "text that is not UTF-8");
    CHECK_STATUS(cdt_plan_parse(NULL, 5, NULL, &plan), CDT_ERR_NULL, "NULL text with a length");
    CHECK_STATUS(cdt_plan_load("/no/such/plan.xml", &plan), CDT_ERR_IO, "a missing file");
    CHECK(strstr(cdt_last_error_message(), "/no/such/plan.xml") != NULL, "the message names the file");
    CHECK(cdt_last_error_diagnostics() == 0, "an I/O error has no diagnostics");
    cdt_diagnostic d;
    CHECK_STATUS(cdt_last_error_diagnostic(0, &d), CDT_ERR_ARGUMENT, "no such diagnostic");
    CHECK_STATUS(cdt_plan_validate(NULL), CDT_ERR_NULL, "a NULL plan");
    CHECK(cdt_plan_steps(NULL) == 0, "no steps in NULL");
    CHECK_STATUS(cdt_candidates_validate_edit(NULL, NULL), CDT_ERR_NULL, "NULL lists");
    CHECK_STATUS(cdt_inventory_load(NULL, NULL), CDT_ERR_NULL, "all NULL");
    CHECK_STATUS(cdt_fleet_add_fault(NULL, "{}"), CDT_ERR_NULL, "a NULL fleet");
    char *s = NULL;
    CHECK_STATUS(cdt_report_json(NULL, &s, NULL), CDT_ERR_NULL, "a NULL report");
    CHECK(s == NULL, "no string on failure");
    cdt_plan *ok = NULL;
    const char *text = "<CDT_Deployment_Plan><plan_settings/></CDT_Deployment_Plan>";
    CHECK_OK(cdt_plan_parse(text, strlen(text), NULL, &ok), "a minimal plan");
    CHECK(cdt_last_error_message() == NULL, "success clears the last error");
    cdt_plan_free(ok);
    /* Freeing NULL is harmless. */
    cdt_plan_free(NULL);
    cdt_config_free(NULL);
    cdt_inventory_free(NULL);
    cdt_fleet_free(NULL);
    cdt_candidates_free(NULL);
    cdt_string_free(NULL);
    cdt_report_free(NULL);
    cdt_event_free(NULL);
    cdt_options_free(NULL);
    cdt_ssh_free(NULL);
    cdt_deployment_free(NULL);
    CHECK(strlen(cdt_version()) > 0, "a version");
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s FIXTURES_DIR WORK_DIR\n", argv[0]);
        return 2;
    }
    fixtures = argv[1];
    work = argv[2];
    RUN(bad_plans);
    RUN(bad_configs);
    RUN(bad_inventories);
    RUN(bad_lists);
    RUN(edits);
    RUN(round_trips);
    RUN(fleets);
    RUN(bad_arguments);
    return checks_end();
}
