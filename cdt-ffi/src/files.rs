//! CDT's three file formats (deployment plans, primary configurations, candidates lists),
//! inventories and simulated fleets: load, parse, validate, write; candidates lists generated
//! and an operator's edit of one validated.
//!
//! Thread safety: a handle may be read (every function taking a `const` pointer) from several
//! threads at once; one changed (a non-`const` pointer) or freed must not be used by another
//! thread meanwhile.

use std::ffi::c_char;

use cdt_core::candidates::filter::{FilterMode, ObjectFilter};
use cdt_core::candidates::generate::{GenerateOptions, generate};
use cdt_core::candidates::{self, CandidatesList};
use cdt_core::formats::config::PrimaryConfig;
use cdt_core::formats::plan::Plan;
use cdt_core::model::Inventory;
use cdt_core::sim::FleetFile;

use crate::args;
use crate::cdt_status::{self, CDT_ERR_ARGUMENT};
use crate::error::{Failure, call, guard};

/// A deployment plan (Advanced Mode's XML).
pub struct cdt_plan {
    pub(crate) inner: Plan,
}

/// A primary configuration (`CentralDeploymentTool.xml`).
pub struct cdt_config {
    pub(crate) inner: PrimaryConfig,
}

/// An inventory: the gateways, clusters and packages a candidates list is generated from.
pub struct cdt_inventory {
    pub(crate) inner: Inventory,
}

/// A simulated fleet: its inventory, Management Server, latencies and faults.
pub struct cdt_fleet {
    pub(crate) inner: FleetFile,
}

/// A candidates list (CDT's CSV).
pub struct cdt_candidates {
    pub(crate) inner: CandidatesList,
}

/// Loads the deployment plan at `path` (validated) into `*out`.
/// `CDT_ERR_XML` or `CDT_ERR_PLAN` with the file, line and column for a bad file.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_plan_load(path: *const c_char, out: *mut *mut cdt_plan) -> cdt_status {
    call(|| {
        args::out(out, "out")?;
        let inner = Plan::load(&args::path(path, "path")?)?;
        args::give(out, cdt_plan { inner });
        Ok(())
    })
}

/// Parses the plan in the `len` bytes at `text` (validated); `name` (may be NULL) is the file
/// name errors give.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_plan_parse(
    text: *const c_char,
    len: usize,
    name: *const c_char,
    out: *mut *mut cdt_plan,
) -> cdt_status {
    call(|| {
        args::out(out, "out")?;
        let name = args::opt_text(name, "name")?.map(std::path::Path::new);
        let inner = Plan::parse(args::buffer(text, len, "text")?, name)?;
        args::give(out, cdt_plan { inner });
        Ok(())
    })
}

/// Checks the plan against CDT's rules again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_plan_validate(plan: *const cdt_plan) -> cdt_status {
    call(|| Ok(args::handle(plan, "plan")?.inner.validate()?))
}

/// The plan as XML, a new string in `*out` and its length in `*len` (`len` may be NULL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_plan_to_xml(
    plan: *const cdt_plan,
    out: *mut *mut c_char,
    len: *mut usize,
) -> cdt_status {
    call(|| {
        let xml = args::handle(plan, "plan")?.inner.to_xml()?;
        args::give_string(xml, out, len)
    })
}

/// Writes the plan as XML to `path` (atomically).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_plan_save(plan: *const cdt_plan, path: *const c_char) -> cdt_status {
    call(|| {
        Ok(args::handle(plan, "plan")?
            .inner
            .save(&args::path(path, "path")?)?)
    })
}

/// How many steps (actions) the plan has.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_plan_steps(plan: *const cdt_plan) -> usize {
    guard(0, || plan.as_ref().map_or(0, |p| p.inner.steps.len()))
}

/// Releases a plan (NULL accepted).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_plan_free(plan: *mut cdt_plan) {
    args::free(plan);
}

/// Loads the primary configuration at `path` into `*out`. `CDT_ERR_XML` or
/// `CDT_ERR_CONFIG` with the file, line and column for a bad file.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_config_load(
    path: *const c_char,
    out: *mut *mut cdt_config,
) -> cdt_status {
    call(|| {
        args::out(out, "out")?;
        let inner = PrimaryConfig::load(&args::path(path, "path")?)?;
        args::give(out, cdt_config { inner });
        Ok(())
    })
}

/// Parses the primary configuration in the `len` bytes at `text`; `name` (may be NULL) is
/// the file name errors give.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_config_parse(
    text: *const c_char,
    len: usize,
    name: *const c_char,
    out: *mut *mut cdt_config,
) -> cdt_status {
    call(|| {
        args::out(out, "out")?;
        let name = args::opt_text(name, "name")?.map(std::path::Path::new);
        let inner = PrimaryConfig::parse(args::buffer(text, len, "text")?, name)?;
        args::give(out, cdt_config { inner });
        Ok(())
    })
}

/// Checks the configuration against CDT's rules again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_config_validate(config: *const cdt_config) -> cdt_status {
    call(|| Ok(args::handle(config, "config")?.inner.validate()?))
}

/// The configuration as XML, a new string in `*out` and its length in `*len` (may be NULL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_config_to_xml(
    config: *const cdt_config,
    out: *mut *mut c_char,
    len: *mut usize,
) -> cdt_status {
    call(|| {
        let xml = args::handle(config, "config")?.inner.to_xml();
        args::give_string(xml, out, len)
    })
}

/// Writes the configuration as XML to `path` (atomically).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_config_save(
    config: *const cdt_config,
    path: *const c_char,
) -> cdt_status {
    call(|| {
        Ok(args::handle(config, "config")?
            .inner
            .save(&args::path(path, "path")?)?)
    })
}

/// Releases a configuration (NULL accepted).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_config_free(config: *mut cdt_config) {
    args::free(config);
}

/// Loads the inventory at `path` (TOML or JSON, by its extension) into `*out`.
/// `CDT_ERR_INVENTORY` with the file, line and object for a bad file.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_inventory_load(
    path: *const c_char,
    out: *mut *mut cdt_inventory,
) -> cdt_status {
    call(|| {
        args::out(out, "out")?;
        let inner = Inventory::load(&args::path(path, "path")?)?;
        args::give(out, cdt_inventory { inner });
        Ok(())
    })
}

/// Parses the inventory in the `len` bytes at `text`, in `format` (`"toml"` or `"json"`);
/// `name` (may be NULL) is the file name errors give.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_inventory_parse(
    text: *const c_char,
    len: usize,
    format: *const c_char,
    name: *const c_char,
    out: *mut *mut cdt_inventory,
) -> cdt_status {
    call(|| {
        args::out(out, "out")?;
        let format = args::format(args::text(format, "format")?)?;
        let name = args::opt_text(name, "name")?.map(std::path::Path::new);
        let inner = Inventory::parse(args::buffer(text, len, "text")?, format, name)?;
        args::give(out, cdt_inventory { inner });
        Ok(())
    })
}

/// The inventory as JSON, a new string in `*out` and its length in `*len` (may be NULL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_inventory_to_json(
    inventory: *const cdt_inventory,
    out: *mut *mut c_char,
    len: *mut usize,
) -> cdt_status {
    call(|| {
        let json = args::handle(inventory, "inventory")?.inner.to_json();
        args::give_string(json, out, len)
    })
}

/// How many boxes (standalone gateways and cluster members) the inventory has.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_inventory_boxes(inventory: *const cdt_inventory) -> usize {
    guard(0, || {
        inventory.as_ref().map_or(0, |i| i.inner.boxes().count())
    })
}

/// Releases an inventory (NULL accepted).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_inventory_free(inventory: *mut cdt_inventory) {
    args::free(inventory);
}

/// Loads the simulated fleet file at `path` (TOML or JSON) into `*out`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_fleet_load(
    path: *const c_char,
    out: *mut *mut cdt_fleet,
) -> cdt_status {
    call(|| {
        args::out(out, "out")?;
        let inner = FleetFile::load(&args::path(path, "path")?)?;
        args::give(out, cdt_fleet { inner });
        Ok(())
    })
}

/// Parses the simulated fleet in the `len` bytes at `text`, in `format` (`"toml"` or
/// `"json"`); `name` (may be NULL) is the file name errors give.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_fleet_parse(
    text: *const c_char,
    len: usize,
    format: *const c_char,
    name: *const c_char,
    out: *mut *mut cdt_fleet,
) -> cdt_status {
    call(|| {
        args::out(out, "out")?;
        let format = args::format(args::text(format, "format")?)?;
        let name = args::opt_text(name, "name")?.map(std::path::Path::new);
        let inner = FleetFile::parse(args::buffer(text, len, "text")?, format, name)?;
        args::give(out, cdt_fleet { inner });
        Ok(())
    })
}

/// Adds a fault to the fleet, given as one JSON object in the fleet file's layout
/// (`{"kind": "command_fails", "host": "gw-1", "command": "installer", "exit": 1}`, ...).
/// `CDT_ERR_ARGUMENT` with the reason for an unknown kind or field.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_fleet_add_fault(
    fleet: *mut cdt_fleet,
    fault_json: *const c_char,
) -> cdt_status {
    call(|| {
        let fleet = args::handle_mut(fleet, "fleet")?;
        let text = args::text(fault_json, "fault_json")?;
        let fault = serde_json::from_str(text)
            .map_err(|e| Failure::new(CDT_ERR_ARGUMENT, format!("fault {text}: {e}")))?;
        fleet.inner.faults.push(fault);
        Ok(())
    })
}

/// Multiplies every latency of the fleet by `factor` (0 for a fleet that answers at once).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_fleet_scale_latency(fleet: *mut cdt_fleet, factor: f64) -> cdt_status {
    call(|| {
        let fleet = args::handle_mut(fleet, "fleet")?;
        if !(factor.is_finite() && factor >= 0.0) {
            return Err(Failure::new(
                CDT_ERR_ARGUMENT,
                format!("factor must be 0 or more, not {factor}"),
            ));
        }
        fleet.inner.latency = fleet.inner.latency.scaled(factor);
        Ok(())
    })
}

/// The fleet's inventory, a new handle in `*out`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_fleet_inventory(
    fleet: *const cdt_fleet,
    out: *mut *mut cdt_inventory,
) -> cdt_status {
    call(|| {
        args::out(out, "out")?;
        let inner = args::handle(fleet, "fleet")?.inner.inventory();
        args::give(out, cdt_inventory { inner });
        Ok(())
    })
}

/// Releases a fleet (NULL accepted).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_fleet_free(fleet: *mut cdt_fleet) {
    args::free(fleet);
}

/// Loads the candidates list at `path` into `*out`. `CDT_ERR_CANDIDATES` with the file, line
/// and object for a malformed list.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_candidates_load(
    path: *const c_char,
    out: *mut *mut cdt_candidates,
) -> cdt_status {
    call(|| {
        args::out(out, "out")?;
        let inner = CandidatesList::load(&args::path(path, "path")?)?;
        args::give(out, cdt_candidates { inner });
        Ok(())
    })
}

/// Parses the candidates list in the `len` bytes at `text`; `name` (may be NULL) is the file
/// name errors give.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_candidates_parse(
    text: *const c_char,
    len: usize,
    name: *const c_char,
    out: *mut *mut cdt_candidates,
) -> cdt_status {
    call(|| {
        args::out(out, "out")?;
        let name = args::opt_text(name, "name")?.map(std::path::Path::new);
        let inner = CandidatesList::parse_csv(args::buffer(text, len, "text")?, name)?;
        args::give(out, cdt_candidates { inner });
        Ok(())
    })
}

/// Generates the candidates list for `inventory` by SPEC's eligibility and ordering rules:
/// of `package` (a package file name or path the inventory knows), or of the first package
/// of `plan` (with `config`'s options if given), or of a Basic-mode `config`; give exactly
/// one of `package` and `plan`, or `config` alone. `exclude` or `include_only` (each may be
/// NULL, not both given) are object names separated by commas. Writes the list to `*out` and,
/// when `unmatched` is not NULL, the filter names that matched nothing (comma-separated, a new
/// string) to `*unmatched`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_candidates_generate(
    inventory: *const cdt_inventory,
    package: *const c_char,
    plan: *const cdt_plan,
    config: *const cdt_config,
    exclude: *const c_char,
    include_only: *const c_char,
    out: *mut *mut cdt_candidates,
    unmatched: *mut *mut c_char,
) -> cdt_status {
    call(|| {
        args::out(out, "out")?;
        let inv = &args::handle(inventory, "inventory")?.inner;
        let names = |s: &str| -> Vec<String> {
            s.split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_string)
                .collect()
        };
        let filter = match (
            args::opt_text(exclude, "exclude")?,
            args::opt_text(include_only, "include_only")?,
        ) {
            (Some(_), Some(_)) => {
                return Err(Failure::new(
                    CDT_ERR_ARGUMENT,
                    "give exclude or include_only, not both",
                ));
            }
            (Some(n), None) => Some(ObjectFilter::from_names(names(n), FilterMode::Exclude)),
            (None, Some(n)) => Some(ObjectFilter::from_names(names(n), FilterMode::IncludeOnly)),
            (None, None) => None,
        };
        let package = args::opt_text(package, "package")?;
        let plan = plan.as_ref().map(|p| &p.inner);
        let config = config.as_ref().map(|c| &c.inner);
        let (found, mut options) = match (package, plan, config) {
            (Some(p), None, None) => (
                Some(inv.resolve_package(std::path::Path::new(p))?),
                GenerateOptions::default(),
            ),
            (None, Some(plan), config) => GenerateOptions::from_plan(plan, config, inv)?,
            (None, None, Some(config)) => GenerateOptions::from_config(config, inv)?,
            _ => {
                return Err(Failure::new(
                    CDT_ERR_ARGUMENT,
                    "give a package, or a plan (with or without a config), or a Basic-mode config",
                ));
            }
        };
        let package = found.ok_or_else(|| {
            Failure::new(
                CDT_ERR_ARGUMENT,
                "the plan or configuration names no package to install",
            )
        })?;
        options.filter = filter;
        let generated = generate(inv, &package, &options);
        if !unmatched.is_null() {
            args::give_string(
                generated.unmatched_filter_names.join(","),
                unmatched,
                std::ptr::null_mut(),
            )?;
        }
        args::give(
            out,
            cdt_candidates {
                inner: generated.list,
            },
        );
        Ok(())
    })
}

/// Checks an operator's `edited` list against the `generated` one by every rule of SPEC 2.3.
/// `CDT_ERR_CANDIDATES` with every problem as a diagnostic (file, line, object).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_candidates_validate_edit(
    generated: *const cdt_candidates,
    edited: *const cdt_candidates,
) -> cdt_status {
    call(|| {
        let generated = &args::handle(generated, "generated")?.inner;
        let edited = &args::handle(edited, "edited")?.inner;
        Ok(candidates::validate::validate_edit(generated, edited)?)
    })
}

/// The list as CSV, a new string in `*out` and its length in `*len` (may be NULL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_candidates_to_csv(
    list: *const cdt_candidates,
    out: *mut *mut c_char,
    len: *mut usize,
) -> cdt_status {
    call(|| {
        let csv = args::handle(list, "list")?.inner.to_csv();
        args::give_string(csv, out, len)
    })
}

/// The list as JSON (each row with its reason and warnings), a new string in `*out` and its
/// length in `*len` (may be NULL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_candidates_to_json(
    list: *const cdt_candidates,
    out: *mut *mut c_char,
    len: *mut usize,
) -> cdt_status {
    call(|| {
        let json = args::handle(list, "list")?.inner.to_json();
        args::give_string(json, out, len)
    })
}

/// Writes the list as CSV to `path` (atomically), with its reasons file beside it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_candidates_save(
    list: *const cdt_candidates,
    path: *const c_char,
) -> cdt_status {
    call(|| {
        Ok(args::handle(list, "list")?
            .inner
            .save(&args::path(path, "path")?)?)
    })
}

/// How many rows the list has (0 for NULL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_candidates_rows(list: *const cdt_candidates) -> usize {
    guard(0, || list.as_ref().map_or(0, |l| l.inner.rows.len()))
}

/// Row counts of a list, as [`cdt_candidates_counts`] writes them.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct cdt_counts {
    /// Rows in a batch.
    pub batched: usize,
    /// Rows not applicable (`N/A`).
    pub not_applicable: usize,
    /// Rows already installed.
    pub installed: usize,
    /// Rows excluded by the operator.
    pub excluded: usize,
}

/// Writes the list's row counts to `*out`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_candidates_counts(
    list: *const cdt_candidates,
    out: *mut cdt_counts,
) -> cdt_status {
    call(|| {
        args::out(out, "out")?;
        let (batched, not_applicable, installed, excluded) =
            args::handle(list, "list")?.inner.counts();
        *out = cdt_counts {
            batched,
            not_applicable,
            installed,
            excluded,
        };
        Ok(())
    })
}

/// Sets the `Upgrade Order` of the row of `object_name`: a batch number (`"1"`, `"2"`, ...)
/// or `"-"` to exclude it, as an operator edits the file. The list's rules are checked when
/// it is validated against the generated one ([`cdt_candidates_validate_edit`]).
/// `CDT_ERR_ARGUMENT` for an unknown object or order.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_candidates_set_order(
    list: *mut cdt_candidates,
    object_name: *const c_char,
    order: *const c_char,
) -> cdt_status {
    call(|| {
        let list = args::handle_mut(list, "list")?;
        let name = args::text(object_name, "object_name")?;
        let text = args::text(order, "order")?;
        let order = text
            .parse::<candidates::UpgradeOrder>()
            .map_err(|e| Failure::new(CDT_ERR_ARGUMENT, format!("upgrade order {text:?}: {e}")))?;
        let row = list
            .inner
            .rows
            .iter_mut()
            .find(|r| r.object_name == name)
            .ok_or_else(|| Failure::new(CDT_ERR_ARGUMENT, format!("no row for {name:?}")))?;
        row.order = order;
        Ok(())
    })
}

/// Releases a candidates list (NULL accepted).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_candidates_free(list: *mut cdt_candidates) {
    args::free(list);
}

/// Writes the fleet's initial state and clock (`scale` simulated seconds per real second)
/// into the folder `dir`, where the Gaia emulator (`cdt-gaia`, the command a test fleet's
/// SSH servers run) and [`cdt_fleet_state_json`] find them: for a transport of one's own
/// over simulated gateways.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_fleet_write_state(
    fleet: *const cdt_fleet,
    dir: *const c_char,
    scale: f64,
) -> cdt_status {
    call(|| {
        let fleet = &args::handle(fleet, "fleet")?.inner;
        let dir = args::path(dir, "dir")?;
        let scale = args::positive(scale, "scale")?;
        cdt_core::sim::SimConnector::new(cdt_core::sim::Sim::new(fleet), scale)
            .keep_state_in(&dir)?;
        Ok(())
    })
}

/// The ground truth of a simulated fleet whose state is kept in `dir` (a run folder's
/// `fleet/`, or a folder [`cdt_fleet_write_state`] wrote) as JSON: `record` (when each box
/// and cluster was out of service, every install delivered) and `installed` (each box's
/// version). A new string in `*out`, its length in `*len` (may be NULL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_fleet_state_json(
    dir: *const c_char,
    out: *mut *mut c_char,
    len: *mut usize,
) -> cdt_status {
    call(|| {
        args::out(out, "out")?;
        let sim = cdt_core::sim::Sim::load(&args::path(dir, "dir")?)?;
        let installed: serde_json::Map<String, serde_json::Value> = sim
            .hosts()
            .filter_map(|h| {
                sim.installed(h)
                    .map(|v| (h.to_string(), v.to_string().into()))
            })
            .collect();
        let json = serde_json::json!({"record": sim.record(), "installed": installed});
        args::give_string(json.to_string(), out, len)
    })
}
