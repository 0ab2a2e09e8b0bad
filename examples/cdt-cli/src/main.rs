//! `cdt`: the command-line tool operators use, built on the `cdt-core` API.
//!
//! ```text
//! cdt plan check PLAN.xml
//! cdt config check CentralDeploymentTool.xml [--strict]
//! cdt candidates generate --inventory FLEET.toml (--package PKG | --plan PLAN.xml | --config CFG.xml)
//!                         [--filter FILE | --include-only FILE] [--output LIST.csv] [--json]
//! cdt candidates validate --generated GENERATED.csv EDITED.csv
//! cdt demo --out DIR [--scale N] [--quiet]
//! cdt execute --sim FLEET.toml --list LIST.csv --plan PLAN.xml --out DIR [--scale N] [--quiet]
//! cdt execute --inventory FLEET.toml --list LIST.csv --plan PLAN.xml --out DIR
//!             [--user U] (--key FILE | --agent | --password-env VAR | --password-file F | --password-prompt)
//!             [--known-hosts FILE] [--trust-on-first-use] [--rekey HOST]...
//!             [--management NAME --management-address ADDR [--relay]] [--quiet]
//! cdt discover --management NAME --management-address ADDR --output FLEET.toml [--domain D]
//!              [SSH options as for execute] [--relay]
//! cdt resume DIR [--quiet]
//! ```
//!
//! Exit status: 0 when the input is valid, 1 on bad input (every problem printed to stderr as
//! `FILE:LINE:COL: message` for XML and `FILE:LINE: object NAME: message` for a list), 2 on a
//! usage error.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use cdt_core::candidates::CandidatesList;
use cdt_core::candidates::filter::{FilterMode, ObjectFilter};
use cdt_core::candidates::generate::{GenerateOptions, generate};
use cdt_core::candidates::validate::validate_edit;
use cdt_core::formats::config::{Mode, PrimaryConfig};
use cdt_core::formats::plan::Plan;
use cdt_core::model::Inventory;
use clap::{Args, Parser, Subcommand};

mod run;
mod ssh;

/// mimalloc rather than the system allocator: a whole run allocates millions of small strings
/// (commands, replies, journal lines); compare the two with
/// `cargo bench -p cdt-benches --bench engine [--features mimalloc]`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Deploy packages to Check Point gateway fleets: check CDT files, generate and validate
/// candidates lists.
#[derive(Parser)]
#[command(name = "cdt", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once per process: the size of its largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Deployment plans (Advanced Mode).
    #[command(subcommand)]
    Plan(PlanCommand),
    /// The primary configuration, CentralDeploymentTool.xml.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Candidates lists.
    #[command(subcommand)]
    Candidates(CandidatesCommand),
    /// A whole deployment on a built-in simulated fleet of 61 targets: a version upgrade with
    /// Connectivity Upgrade in three batches, in scaled real time, journaled in DIR.
    Demo {
        /// The run folder (journal, fleet state, reports).
        #[arg(long)]
        out: PathBuf,
        /// Simulated seconds per real second.
        #[arg(long, default_value_t = 1500.0)]
        scale: f64,
        /// Print only the summary.
        #[arg(long)]
        quiet: bool,
    },
    /// Run a deployment: a list and a plan, on a simulated fleet (--sim) or on the gateways
    /// of an inventory over SSH (--inventory).
    #[command(group(clap::ArgGroup::new("fleet").required(true).args(["sim", "inventory"])))]
    Execute {
        /// The simulated fleet file.
        #[arg(long)]
        sim: Option<PathBuf>,
        /// The inventory of real gateways (TOML or JSON), reached over SSH.
        #[arg(long)]
        inventory: Option<PathBuf>,
        /// The Management Server's object name (version and policy steps run there).
        #[arg(long, requires = "inventory")]
        management: Option<String>,
        /// The policy package installed after an upgrade.
        #[arg(long, default_value = "Standard")]
        policy_package: String,
        /// How to reach the gateways over SSH.
        #[command(flatten)]
        ssh: ssh::SshArgs,
        /// The candidates list (validated against the generated one beforehand).
        #[arg(long)]
        list: PathBuf,
        /// The deployment plan.
        #[arg(long)]
        plan: PathBuf,
        /// The run folder.
        #[arg(long)]
        out: PathBuf,
        /// Simulated seconds per real second.
        #[arg(long, default_value_t = 1500.0)]
        scale: f64,
        /// Print only the summary.
        #[arg(long)]
        quiet: bool,
    },
    /// Read the fleet from the Management Server (and each box's take and role) into an
    /// inventory file.
    Discover {
        /// The Management Server's object name.
        #[arg(long)]
        management: String,
        /// A Domain of a Multi-Domain Server.
        #[arg(long)]
        domain: Option<String>,
        /// The inventory file to write (JSON for `.json`, TOML otherwise).
        #[arg(long)]
        output: PathBuf,
        /// How to reach the Management Server and the gateways over SSH.
        #[command(flatten)]
        ssh: ssh::SshArgs,
    },
    /// Finish an interrupted run and rewrite its reports.
    Resume {
        /// The run folder.
        dir: PathBuf,
        /// Print only the summary.
        #[arg(long)]
        quiet: bool,
    },
}

#[derive(Subcommand)]
enum PlanCommand {
    /// Parse and validate a deployment plan.
    Check {
        /// The plan file.
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Parse and validate a primary configuration; unknown elements are warnings.
    Check {
        /// The configuration file.
        file: PathBuf,
        /// Treat unknown elements as errors, as a run does.
        #[arg(long)]
        strict: bool,
    },
}

#[derive(Subcommand)]
enum CandidatesCommand {
    /// Generate a candidates list for a package from an inventory.
    Generate(GenerateArgs),
    /// Check an edited candidates list against the generated one.
    Validate {
        /// The list as generated.
        #[arg(long)]
        generated: PathBuf,
        /// The list as edited by the operator.
        edited: PathBuf,
    },
}

#[derive(Args)]
struct GenerateArgs {
    /// The inventory file (JSON or TOML).
    #[arg(long)]
    inventory: PathBuf,
    /// The package to install (its kind derived from its name, or described in the inventory).
    #[arg(long, group = "source")]
    package: Option<PathBuf>,
    /// A deployment plan: the list is generated for its first package.
    #[arg(long, group = "source")]
    plan: Option<PathBuf>,
    /// A primary configuration: with --plan, its Debug settings; alone, its PackageToInstall.
    #[arg(long)]
    config: Option<PathBuf>,
    /// A filter file: objects to leave out.
    #[arg(long, conflicts_with = "include_only")]
    filter: Option<PathBuf>,
    /// A filter file: the only objects to keep.
    #[arg(long)]
    include_only: Option<PathBuf>,
    /// Write the list here (and its reasons beside it) instead of to standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Print the list as JSON, with reasons and warnings.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Plan(PlanCommand::Check { file }) => plan_check(&file),
        Command::Config(ConfigCommand::Check { file, strict }) => config_check(&file, strict),
        Command::Candidates(CandidatesCommand::Generate(args)) => candidates_generate(&args),
        Command::Candidates(CandidatesCommand::Validate { generated, edited }) => {
            candidates_validate(&generated, &edited)
        }
        Command::Demo { out, scale, quiet } => run::demo(&out, scale, quiet),
        Command::Execute {
            sim,
            inventory,
            management,
            policy_package,
            ssh,
            list,
            plan,
            out,
            scale,
            quiet,
        } => match (sim, inventory) {
            (Some(sim), _) => run::execute_sim(&sim, &list, &plan, &out, scale, quiet),
            (None, Some(inventory)) => run::execute_ssh(
                &inventory,
                &list,
                &plan,
                &out,
                &ssh,
                management.as_deref(),
                &policy_package,
                quiet,
            ),
            (None, None) => Err("give --sim or --inventory".into()),
        },
        Command::Discover {
            management,
            domain,
            output,
            ssh,
        } => run::discover(&ssh, &management, domain.as_deref(), &output),
        Command::Resume { dir, quiet } => run::resume(&dir, quiet),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

type CliResult = Result<(), Box<dyn std::error::Error>>;

fn plan_check(file: &Path) -> CliResult {
    let plan = Plan::load(file)?;
    let name = plan.settings.name.as_deref().unwrap_or("(unnamed)");
    let first = plan
        .first_package()
        .map_or("none".to_string(), |p| p.display().to_string());
    println!(
        "{}: valid plan {name:?}: {} steps, first package {first}",
        file.display(),
        plan.steps.len()
    );
    Ok(())
}

fn config_check(file: &Path, strict: bool) -> CliResult {
    let config = PrimaryConfig::load(file)?;
    for warning in config.warnings() {
        eprintln!("{warning} (warning)");
    }
    if strict {
        config.check_for_execute(false)?;
    }
    let mode = match config.mode() {
        Mode::Basic => "Basic",
        Mode::Advanced => "Advanced",
    };
    println!("{}: valid configuration, {mode} Mode", file.display());
    Ok(())
}

fn candidates_generate(args: &GenerateArgs) -> CliResult {
    let inventory = Inventory::load(&args.inventory)?;
    let config = args
        .config
        .as_deref()
        .map(PrimaryConfig::load)
        .transpose()?;
    let (package, mut options) = if let Some(path) = &args.package {
        let options = match &config {
            Some(c) => GenerateOptions::from_config(c, &inventory)?.1,
            None => GenerateOptions::default(),
        };
        (Some(inventory.resolve_package(path)?), options)
    } else if let Some(plan) = &args.plan {
        GenerateOptions::from_plan(&Plan::load(plan)?, config.as_ref(), &inventory)?
    } else if let Some(config) = &config {
        GenerateOptions::from_config(config, &inventory)?
    } else {
        return Err("give the package with --package, --plan or --config".into());
    };
    let Some(package) = package else {
        return Err("the plan or configuration names no package to generate the list for".into());
    };
    options.filter = match (&args.filter, &args.include_only) {
        (Some(f), _) => Some(ObjectFilter::load(f, FilterMode::Exclude)?),
        (None, Some(f)) => Some(ObjectFilter::load(f, FilterMode::IncludeOnly)?),
        (None, None) => None,
    };
    let generated = generate(&inventory, &package, &options);
    for name in &generated.unmatched_filter_names {
        eprintln!("warning: filter names {name:?}, which is not in the inventory");
    }
    let list = &generated.list;
    for row in &list.rows {
        for w in &row.warnings {
            eprintln!("warning: object {}: {}", row.object_name, w.message);
        }
    }
    let (batched, na, installed, _) = list.counts();
    let summary = format!(
        "{} rows for {} ({}): {batched} batched, {na} N/A, {installed} Installed",
        list.rows.len(),
        package.file_name(),
        package.kind
    );
    match &args.output {
        Some(out) => {
            list.save(out)?;
            eprintln!("{summary}; wrote {}", out.display());
        }
        None => {
            let text = if args.json {
                list.to_json() + "\n"
            } else {
                list.to_csv()
            };
            std::io::stdout().write_all(text.as_bytes())?;
            eprintln!("{summary}");
        }
    }
    Ok(())
}

fn candidates_validate(generated: &Path, edited: &Path) -> CliResult {
    let generated_list = CandidatesList::load(generated)?;
    let edited_list = CandidatesList::load(edited)?;
    validate_edit(&generated_list, &edited_list)?;
    let (batched, na, installed, excluded) = edited_list.counts();
    println!(
        "{}: valid: {batched} batched, {excluded} excluded, {na} N/A, {installed} Installed",
        edited.display()
    );
    Ok(())
}
