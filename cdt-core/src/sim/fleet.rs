//! The fleet file: a simulated fleet's initial state, its timings and its fault schedule.
//!
//! JSON or TOML. The gateways, clusters and packages are those of an inventory file
//! ([`crate::model::inventory`]); the other tables are the simulator's:
//!
//! ```toml
//! start = "2026-12-01T01:00:00Z"     # the virtual clock's start (optional)
//!
//! [latency]                          # seconds; every field optional (defaults shown)
//! command = 1                        # any command not listed below
//! import = 60                        # installer import
//! verify = 20                        # installer verify
//! install = 600                      # installer install (hotfix, Jumbo)
//! upgrade = 1800                     # installer upgrade (major version)
//! uninstall = 300
//! agent = 120                        # installer agent install
//! reboot = 300                       # a reboot, until SSH answers again
//! snapshot = 120
//! backup = 180
//! failover = 5                       # until an upgraded member is Active
//! policy = 60                        # an install-policy task
//! copy_per_mib = 0.05                # put/get, per MiB
//!
//! [management]                       # the Management Server (optional)
//! name = "mgmt"
//! address = "192.0.2.250"
//! policy_package = "Standard"
//!
//! [virtual_systems]                  # VSX VSLS clusters: how many Virtual Systems
//! cl-vienna = 3
//!
//! [[faults]]                         # see Fault
//! host = "gw-rome"
//! kind = "package_fails"
//! package = "JUMBO"
//!
//! [[commands]]                       # replies to user commands (execute_command)
//! command = "fw stat"
//! stdout = "HOST      POLICY     DATE\nlocalhost Standard  1Dec2026  1:00:00 :  [>eth0] [<eth0]\n"
//!
//! [[scripts]]                        # exit status of user scripts, by file name
//! name = "pre_check.sh"
//! exit = 0
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::{Diagnostic, Error, Location, Result};
use crate::input::{DEFAULT_INPUT_CAP, check_text_cap, read_text_capped};
use crate::model::inventory::{Inventory, InventoryFormat};
use crate::model::{Cluster, Gateway, Package};

/// Durations of simulated operations, in seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Latency {
    /// Any command not listed below.
    pub command: f64,
    /// `installer import`.
    pub import: f64,
    /// `installer verify`.
    pub verify: f64,
    /// `installer install` of a hotfix or Jumbo.
    pub install: f64,
    /// `installer upgrade` to a major version.
    pub upgrade: f64,
    /// `installer uninstall`.
    pub uninstall: f64,
    /// `installer agent install`.
    pub agent: f64,
    /// A reboot, until the gateway answers again.
    pub reboot: f64,
    /// `add snapshot`.
    pub snapshot: f64,
    /// `add backup local`.
    pub backup: f64,
    /// A failover, until an upgraded member is active.
    pub failover: f64,
    /// An install-policy task on the Management Server.
    pub policy: f64,
    /// File copies, per MiB.
    pub copy_per_mib: f64,
}

impl Default for Latency {
    fn default() -> Self {
        Latency {
            command: 1.0,
            import: 60.0,
            verify: 20.0,
            install: 600.0,
            upgrade: 1800.0,
            uninstall: 300.0,
            agent: 120.0,
            reboot: 300.0,
            snapshot: 120.0,
            backup: 180.0,
            failover: 5.0,
            policy: 60.0,
            copy_per_mib: 0.05,
        }
    }
}

impl Latency {
    /// Every latency multiplied by `factor` (0 for a zero-latency simulator).
    pub fn scaled(&self, factor: f64) -> Latency {
        let f = |x: f64| (x * factor).max(0.0);
        Latency {
            command: f(self.command),
            import: f(self.import),
            verify: f(self.verify),
            install: f(self.install),
            upgrade: f(self.upgrade),
            uninstall: f(self.uninstall),
            agent: f(self.agent),
            reboot: f(self.reboot),
            snapshot: f(self.snapshot),
            backup: f(self.backup),
            failover: f(self.failover),
            policy: f(self.policy),
            copy_per_mib: f(self.copy_per_mib),
        }
    }
}

/// The simulated Management Server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManagementSpec {
    /// Its host name.
    pub name: String,
    /// Its address.
    pub address: std::net::IpAddr,
    /// The policy package installed on gateways (default `Standard`).
    #[serde(default = "standard")]
    pub policy_package: String,
}

fn standard() -> String {
    "Standard".to_string()
}

/// Something that goes wrong on purpose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// Commands on `host` containing `command` fail with `exit` and `message` on stderr, the
    /// first `times` times (every time when `times` is absent).
    CommandFails {
        /// The gateway.
        host: String,
        /// A substring of the command line.
        command: String,
        /// The exit status (default 1).
        #[serde(default = "one")]
        exit: i32,
        /// The message printed on stderr.
        #[serde(default)]
        message: String,
        /// How many times; `None`: always.
        #[serde(default)]
        times: Option<u32>,
    },
    /// Commands on `host` containing `command` never return.
    CommandHangs {
        /// The gateway.
        host: String,
        /// A substring of the command line.
        command: String,
    },
    /// The connection drops in the middle of commands on `host` containing `command` (the
    /// command's effect still happens).
    ConnectionDrops {
        /// The gateway.
        host: String,
        /// A substring of the command line.
        command: String,
        /// How many times; `None`: always.
        #[serde(default)]
        times: Option<u32>,
    },
    /// `host` does not answer from `from` seconds after the start until `until` seconds (for
    /// ever when absent).
    Unreachable {
        /// The gateway.
        host: String,
        /// Seconds after the start (default 0).
        #[serde(default)]
        from: f64,
        /// Seconds after the start; `None`: for ever.
        #[serde(default)]
        until: Option<f64>,
    },
    /// Installing a package whose file name contains `package` fails on `host` (CPUSE rolls
    /// back; the gateway stays on its version).
    PackageFails {
        /// The gateway.
        host: String,
        /// A substring of the package file name.
        package: String,
    },
    /// Taking the active member of `cluster` down does not make another member active.
    FailoverDoesNotHappen {
        /// The cluster.
        cluster: String,
    },
    /// The Management Server's API restarts `at` seconds after the start (`api restart`):
    /// every session opened before then is forgotten.
    ApiRestarts {
        /// Seconds after the start.
        at: f64,
    },
    /// After an install or reboot, process `process` does not come back on `host`.
    ProcessDown {
        /// The gateway.
        host: String,
        /// The process (`cpwd_admin` APP name), e.g. `FWD`.
        process: String,
    },
}

fn one() -> i32 {
    1
}

/// The reply to a user command (`execute_command`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserCommand {
    /// The command line, exactly.
    pub command: String,
    /// Exit status (default 0).
    #[serde(default)]
    pub exit: i32,
    /// Standard output.
    #[serde(default)]
    pub stdout: String,
}

/// The exit status of a user script (`execute_script`, pre/post-installation scripts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserScriptReply {
    /// The script's file name.
    pub name: String,
    /// Exit status (default 0; 222 asks for a reboot).
    #[serde(default)]
    pub exit: i32,
    /// Standard output.
    #[serde(default)]
    pub stdout: String,
    /// On which hosts (all when empty).
    #[serde(default)]
    pub hosts: Vec<String>,
}

/// A simulated fleet: its initial state and schedule.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetFile {
    /// The virtual clock's start.
    #[serde(default)]
    pub start: Option<Timestamp>,
    /// Standalone gateways (as in an inventory).
    #[serde(default)]
    pub gateways: Vec<Gateway>,
    /// Clusters (as in an inventory).
    #[serde(default)]
    pub clusters: Vec<Cluster>,
    /// Packages whose kind cannot be derived from their names.
    #[serde(default)]
    pub packages: Vec<Package>,
    /// The Management Server.
    #[serde(default)]
    pub management: Option<ManagementSpec>,
    /// Virtual Systems per VSX VSLS cluster (default 2).
    #[serde(default)]
    pub virtual_systems: BTreeMap<String, u32>,
    /// Operation durations.
    #[serde(default)]
    pub latency: Latency,
    /// The fault schedule.
    #[serde(default)]
    pub faults: Vec<Fault>,
    /// Replies to user commands.
    #[serde(default)]
    pub commands: Vec<UserCommand>,
    /// Exit statuses of user scripts.
    #[serde(default)]
    pub scripts: Vec<UserScriptReply>,
}

impl FleetFile {
    /// Reads a fleet file (JSON for `.json`, else TOML), capped at 16 MiB, and checks it.
    pub fn load(path: &Path) -> Result<FleetFile> {
        let text = read_text_capped(path, DEFAULT_INPUT_CAP)?;
        let json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        FleetFile::parse(
            &text,
            if json {
                InventoryFormat::Json
            } else {
                InventoryFormat::Toml
            },
            Some(path),
        )
    }

    /// Parses and checks a fleet file given as text.
    pub fn parse(text: &str, format: InventoryFormat, path: Option<&Path>) -> Result<FleetFile> {
        check_text_cap(path, text, DEFAULT_INPUT_CAP)?;
        let fail = |line: usize, column: usize, message: String| {
            Error::Inventory(Diagnostic::new(
                Location::new(
                    path,
                    u32::try_from(line).unwrap_or(u32::MAX),
                    Some(u32::try_from(column).unwrap_or(u32::MAX)),
                ),
                message,
            ))
        };
        let fleet: FleetFile = match format {
            InventoryFormat::Json => {
                serde_json::from_str(text).map_err(|e| fail(e.line(), e.column(), e.to_string()))?
            }
            InventoryFormat::Toml => toml::from_str(text).map_err(|e| {
                let (line, column) = e
                    .span()
                    .map(|s| crate::model::inventory::line_column(text, s.start))
                    .unwrap_or((1, 1));
                fail(line, column, e.message().to_string())
            })?,
        };
        fleet.inventory().validate()?;
        Ok(fleet)
    }

    /// The fleet as an inventory (what a Management Server would report).
    pub fn inventory(&self) -> Inventory {
        Inventory {
            gateways: self.gateways.clone(),
            clusters: self.clusters.clone(),
            packages: self.packages.clone(),
        }
    }
}
