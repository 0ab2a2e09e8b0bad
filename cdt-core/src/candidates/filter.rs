//! The filter file: object names to leave out of generation (or, with `--include-only`, the
//! only ones to keep).
//!
//! One name per line; blank lines and lines starting with `#` are ignored; names are trimmed.
//! A name may be a standalone gateway, a cluster, or a cluster member: a cluster is deployed as
//! a unit, so naming a member (or the cluster) filters the whole cluster.
//!
//! ```
//! use cdt_core::candidates::filter::{FilterMode, ObjectFilter};
//! let filter = ObjectFilter::parse("# lab boxes\ngw-lab-1\n\ngw-lab-2\n", FilterMode::Exclude);
//! assert!(!filter.keeps(["gw-lab-1"]));
//! assert!(filter.keeps(["gw-paris"]));
//! ```

use std::collections::HashSet;
use std::path::Path;

use crate::error::Result;
use crate::input::{DEFAULT_INPUT_CAP, read_text_capped};
use crate::model::Inventory;

/// What the names of a filter file mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterMode {
    /// The named objects are left out (CDT's filter file).
    Exclude,
    /// Only the named objects are kept (`--include-only`).
    IncludeOnly,
}

/// A set of object names to exclude or to keep exclusively.
#[derive(Debug, Clone)]
pub struct ObjectFilter {
    mode: FilterMode,
    names: Vec<String>,
    set: HashSet<String>,
}

impl ObjectFilter {
    /// A filter from the text of a filter file.
    pub fn parse(text: &str, mode: FilterMode) -> ObjectFilter {
        let names: Vec<String> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_string)
            .collect();
        ObjectFilter::from_names(names, mode)
    }

    /// A filter from a list of names.
    pub fn from_names(names: Vec<String>, mode: FilterMode) -> ObjectFilter {
        let set = names.iter().cloned().collect();
        ObjectFilter { mode, names, set }
    }

    /// Reads a filter file (capped at 16 MiB).
    pub fn load(path: &Path, mode: FilterMode) -> Result<ObjectFilter> {
        Ok(ObjectFilter::parse(
            &read_text_capped(path, DEFAULT_INPUT_CAP)?,
            mode,
        ))
    }

    /// The mode.
    pub fn mode(&self) -> FilterMode {
        self.mode
    }

    /// Whether an object known by any of `names` (a gateway; or a cluster and all its
    /// members) stays in the list.
    pub fn keeps<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> bool {
        let named = names.into_iter().any(|n| self.set.contains(n));
        match self.mode {
            FilterMode::Exclude => !named,
            FilterMode::IncludeOnly => named,
        }
    }

    /// The names that match no object of `inventory` (probably misspelled), in file order.
    pub fn unmatched(&self, inventory: &Inventory) -> Vec<String> {
        let known: HashSet<&str> = inventory
            .gateways
            .iter()
            .map(|g| g.name.as_str())
            .chain(inventory.clusters.iter().flat_map(|c| {
                std::iter::once(c.name.as_str())
                    .chain(c.members.iter().map(|m| m.gateway.name.as_str()))
            }))
            .collect();
        self.names
            .iter()
            .filter(|n| !known.contains(n.as_str()))
            .cloned()
            .collect()
    }
}
