//! Packages, inventories, simulated fleets and candidates lists.

use std::path::PathBuf;

use cdt_core::candidates::filter::{FilterMode, ObjectFilter};
use cdt_core::candidates::generate::GenerateOptions;
use cdt_core::candidates::{self, UpgradeOrder};
use cdt_core::model::inventory::InventoryFormat;
use cdt_core::model::{self, PackageKind};
use cdt_core::sim::FleetFile;
use pyo3::exceptions::{PyIndexError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert;
use crate::errors::IntoPy;
use crate::files::{Config, Plan};

fn format_of(format: &str) -> PyResult<InventoryFormat> {
    match format {
        "json" => Ok(InventoryFormat::Json),
        "toml" => Ok(InventoryFormat::Toml),
        other => Err(PyValueError::new_err(format!(
            "format must be \"json\" or \"toml\", not {other:?}"
        ))),
    }
}

/// A CPUSE package: its file, and the kind and version derived from the vendor's file name
/// (or given in an inventory).
#[pyclass(module = "cdt._cdt", eq, frozen)]
#[derive(Clone, PartialEq)]
pub struct Package {
    pub(crate) inner: model::Package,
}

#[pymethods]
impl Package {
    /// The package at `path`, its kind read from the file name
    /// (`Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T89_FULL.tgz` is Jumbo Take 89 for R81.20).
    #[new]
    fn new(path: PathBuf) -> PyResult<Package> {
        Ok(Package {
            inner: model::Package::from_path(path).py()?,
        })
    }

    /// The package file.
    #[getter]
    fn path(&self) -> String {
        self.inner.path.display().to_string()
    }

    /// The file name.
    #[getter]
    fn file_name(&self) -> String {
        self.inner.file_name()
    }

    /// `"hotfix"`, `"jumbo"` or `"upgrade"`.
    #[getter]
    fn kind(&self) -> &'static str {
        match self.inner.kind {
            PackageKind::Hotfix { .. } => "hotfix",
            PackageKind::Jumbo { .. } => "jumbo",
            PackageKind::Upgrade { .. } => "upgrade",
        }
    }

    /// The Gaia version it applies to (hotfix, Jumbo) or installs (upgrade), as `R81.20`.
    #[getter]
    fn version(&self) -> String {
        match self.inner.kind {
            PackageKind::Hotfix { version } | PackageKind::Jumbo { version, .. } => {
                version.to_string()
            }
            PackageKind::Upgrade { target, .. } => target.to_string(),
        }
    }

    /// The Jumbo take, when there is one.
    #[getter]
    fn take(&self) -> Option<u32> {
        match self.inner.kind {
            PackageKind::Jumbo { take, .. } => Some(take),
            PackageKind::Upgrade { take, .. } => take,
            PackageKind::Hotfix { .. } => None,
        }
    }

    /// The package as plain Python data.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_py(py, &self.inner)
    }

    fn __repr__(&self) -> String {
        format!("Package({:?}: {})", self.file_name(), self.inner.kind)
    }
}

/// The fleet: gateways and clusters with their members, roles and versions.
#[pyclass(module = "cdt._cdt", eq)]
#[derive(Clone, PartialEq)]
pub struct Inventory {
    pub(crate) inner: model::Inventory,
}

#[pymethods]
impl Inventory {
    /// Reads an inventory file (JSON for `.json`, TOML for `.toml`).
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Inventory> {
        let inner = py.detach(|| model::Inventory::load(&path)).py()?;
        Ok(Inventory { inner })
    }

    /// Parses an inventory from `text` in `format` (`"json"` or `"toml"`).
    #[staticmethod]
    #[pyo3(signature = (text, format = "json", path = None))]
    fn parse(text: &str, format: &str, path: Option<PathBuf>) -> PyResult<Inventory> {
        let inner = model::Inventory::parse(text, format_of(format)?, path.as_deref()).py()?;
        Ok(Inventory { inner })
    }

    /// An inventory built in Python: a dict in the inventory file's layout
    /// (`{"gateways": [...], "clusters": [...]}`), checked as a file is.
    #[staticmethod]
    fn from_dict(data: &Bound<'_, PyAny>) -> PyResult<Inventory> {
        let text = convert::py_to_json_text(data)?;
        Inventory::parse(&text, "json", None)
    }

    /// The inventory as plain Python data (the layout `from_dict` takes).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_py(py, &self.inner)
    }

    /// The inventory as JSON text.
    fn to_json(&self) -> String {
        self.inner.to_json()
    }

    /// The inventory as TOML text.
    fn to_toml(&self) -> PyResult<String> {
        self.inner.to_toml().py()
    }

    /// The names of the standalone gateways.
    #[getter]
    fn gateways(&self) -> Vec<String> {
        self.inner.gateways.iter().map(|g| g.name.clone()).collect()
    }

    /// The names of the clusters.
    #[getter]
    fn clusters(&self) -> Vec<String> {
        self.inner.clusters.iter().map(|c| c.name.clone()).collect()
    }

    /// The number of boxes: standalone gateways and cluster members.
    fn __len__(&self) -> usize {
        self.inner.target_count()
    }

    /// The package at `path` as the inventory knows it (its explicit packages first, then
    /// the vendor's file name).
    fn package(&self, path: PathBuf) -> PyResult<Package> {
        Ok(Package {
            inner: self.inner.resolve_package(&path).py()?,
        })
    }

    fn __repr__(&self) -> String {
        format!(
            "Inventory({} gateways, {} clusters, {} boxes)",
            self.inner.gateways.len(),
            self.inner.clusters.len(),
            self.inner.target_count()
        )
    }
}

/// A simulated fleet: the inventory, a Management Server, latencies and a fault schedule.
/// A deployment on it behaves as on real gateways, and its record is the ground truth.
#[pyclass(module = "cdt._cdt", eq)]
#[derive(Clone, PartialEq)]
pub struct Fleet {
    pub(crate) inner: FleetFile,
}

#[pymethods]
impl Fleet {
    /// The ground truth of a simulated fleet whose state is kept in the folder `dir` (a run
    /// folder's `fleet`, or a test fleet's shared state): as `Deployment.fleet_state`.
    #[staticmethod]
    fn state_in<'py>(py: Python<'py>, dir: PathBuf) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        crate::deploy::fleet_state_in(py, &dir)
    }

    /// Reads a fleet file (TOML, or JSON for `.json`).
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Fleet> {
        let inner = py.detach(|| FleetFile::load(&path)).py()?;
        Ok(Fleet { inner })
    }

    /// Parses a fleet from `text` in `format` (`"toml"` or `"json"`).
    #[staticmethod]
    #[pyo3(signature = (text, format = "toml", path = None))]
    fn parse(text: &str, format: &str, path: Option<PathBuf>) -> PyResult<Fleet> {
        let inner = FleetFile::parse(text, format_of(format)?, path.as_deref()).py()?;
        Ok(Fleet { inner })
    }

    /// A fleet built in Python, in the fleet file's layout.
    #[staticmethod]
    fn from_dict(data: &Bound<'_, PyAny>) -> PyResult<Fleet> {
        let text = convert::py_to_json_text(data)?;
        Fleet::parse(&text, "json", None)
    }

    /// The fleet's inventory.
    fn inventory(&self) -> Inventory {
        Inventory {
            inner: self.inner.inventory(),
        }
    }

    /// Adds a fault, in the fleet file's layout: `kind` is `command_fails`,
    /// `command_hangs`, `connection_drops`, `unreachable`, `package_fails`,
    /// `failover_does_not_happen` or `process_down`, with its fields as keywords (say
    /// `add_fault("package_fails", host="gw-3", package="JUMBO")`).
    #[pyo3(signature = (kind, **fields))]
    fn add_fault(
        &mut self,
        py: Python<'_>,
        kind: &str,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        let py_fields = match fields {
            Some(f) => f.copy()?,
            None => PyDict::new(py),
        };
        py_fields.set_item("kind", kind)?;
        let text = convert::py_to_json_text(py_fields.as_any())?;
        let fault = serde_json::from_str(&text)
            .map_err(|e| PyValueError::new_err(format!("fault {kind:?}: {e}")))?;
        self.inner.faults.push(fault);
        Ok(())
    }

    /// The faults, in the fleet file's layout.
    #[getter]
    fn faults<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_py(py, &self.inner.faults)
    }

    /// Every latency multiplied by `factor` (0 for a fleet that answers at once).
    fn scale_latency(&mut self, factor: f64) {
        self.inner.latency = self.inner.latency.scaled(factor);
    }

    /// The fleet as plain Python data.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_py(py, &self.inner)
    }

    fn __repr__(&self) -> String {
        format!(
            "Fleet({} gateways, {} clusters, {} faults)",
            self.inner.gateways.len(),
            self.inner.clusters.len(),
            self.inner.faults.len()
        )
    }
}

/// One row of a candidates list: a standalone gateway or a cluster member.
#[pyclass(module = "cdt._cdt", eq)]
#[derive(Clone, PartialEq)]
pub struct Candidate {
    pub(crate) inner: candidates::Candidate,
}

#[pymethods]
impl Candidate {
    /// `Object Name`.
    #[getter]
    fn object_name(&self) -> String {
        self.inner.object_name.clone()
    }

    /// `Cluster Name` (`None` for a standalone gateway).
    #[getter]
    fn cluster_name(&self) -> Option<String> {
        self.inner.cluster_name.clone()
    }

    /// `IP Address`.
    #[getter]
    fn address(&self) -> String {
        self.inner.address.to_string()
    }

    /// `Version/JHF Take`, as CDT writes it.
    #[getter]
    fn version(&self) -> String {
        self.inner.version.to_string()
    }

    /// `State`: the member's role (`None` for a standalone gateway).
    #[getter]
    fn state(&self) -> Option<String> {
        self.inner.state.map(|s| s.to_string())
    }

    /// `Upgrade Order` as written: a batch number, `N/A`, `Installed` or `-`.
    #[getter]
    fn order(&self) -> String {
        self.inner.order.to_string()
    }

    /// Sets `Upgrade Order` (a batch number, or `"-"` to exclude the row); the list's rules
    /// are checked when it is validated against the generated one.
    #[setter]
    fn set_order(&mut self, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let text = match value.extract::<u32>() {
            Ok(n) => n.to_string(),
            Err(_) => value.str()?.extract::<String>()?,
        };
        self.inner.order = text
            .parse::<UpgradeOrder>()
            .map_err(|e| PyValueError::new_err(format!("upgrade order {text:?}: {e}")))?;
        Ok(())
    }

    /// The batch number, for a row to upgrade.
    #[getter]
    fn batch(&self) -> Option<u32> {
        self.inner.order.batch_number()
    }

    /// Why the row is `N/A`: `(code, message)`.
    #[getter]
    fn reason(&self) -> Option<(String, String)> {
        self.inner
            .reason
            .as_ref()
            .map(|r| (r.code.to_string(), r.message.clone()))
    }

    /// Warnings about the row: `(code, message)` each.
    #[getter]
    fn warnings(&self) -> Vec<(String, String)> {
        self.inner
            .warnings
            .iter()
            .map(|r| (r.code.to_string(), r.message.clone()))
            .collect()
    }

    /// The row as plain Python data.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_py(py, &self.inner)
    }

    fn __repr__(&self) -> String {
        format!(
            "Candidate({:?}, cluster={}, order={:?})",
            self.inner.object_name,
            self.inner
                .cluster_name
                .as_deref()
                .map_or_else(|| "None".to_string(), |c| format!("{c:?}")),
            self.order()
        )
    }
}

/// A candidates list: CDT's six columns, one row per gateway or member, in file order.
#[pyclass(module = "cdt._cdt", eq)]
#[derive(Clone, PartialEq)]
pub struct CandidatesList {
    pub(crate) inner: candidates::CandidatesList,
}

#[pymethods]
impl CandidatesList {
    /// Reads a list (and its reasons file beside it, if there is one).
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<CandidatesList> {
        let inner = py.detach(|| candidates::CandidatesList::load(&path)).py()?;
        Ok(CandidatesList { inner })
    }

    /// Parses a list from CSV `text` (`path` only names it in errors).
    #[staticmethod]
    #[pyo3(signature = (text, path = None))]
    fn parse(text: &str, path: Option<PathBuf>) -> PyResult<CandidatesList> {
        let inner = candidates::CandidatesList::parse_csv(text, path.as_deref()).py()?;
        Ok(CandidatesList { inner })
    }

    /// The list as CDT writes it (padded columns, CRLF).
    fn to_csv(&self) -> String {
        self.inner.to_csv()
    }

    /// The reasons file's content (`Object Name, Severity, Code, Message`).
    fn reasons_csv(&self) -> String {
        self.inner.reasons_csv()
    }

    /// Writes the list to `path`, and its reasons to `<stem>.reasons.csv` beside it.
    fn save(&self, path: PathBuf) -> PyResult<()> {
        self.inner.save(&path).py()
    }

    /// The rows (copies: change a row's order with `set_order`).
    #[getter]
    fn rows(&self) -> Vec<Candidate> {
        self.inner
            .rows
            .iter()
            .map(|r| Candidate { inner: r.clone() })
            .collect()
    }

    /// Sets the `Upgrade Order` of the row of `object_name` (a batch number or `"-"`).
    fn set_order(&mut self, object_name: &str, order: &Bound<'_, PyAny>) -> PyResult<()> {
        let Some(row) = self
            .inner
            .rows
            .iter_mut()
            .find(|r| r.object_name == object_name)
        else {
            return Err(PyIndexError::new_err(format!("no row for {object_name:?}")));
        };
        let mut c = Candidate { inner: row.clone() };
        c.set_order(order)?;
        *row = c.inner;
        Ok(())
    }

    /// `(batched, not applicable, installed, excluded)` row counts.
    fn counts(&self) -> (usize, usize, usize, usize) {
        self.inner.counts()
    }

    fn __len__(&self) -> usize {
        self.inner.rows.len()
    }

    fn __getitem__(&self, index: isize) -> PyResult<Candidate> {
        let at = crate::files::index(index, self.inner.rows.len(), false)?;
        Ok(Candidate {
            inner: self.inner.rows[at].clone(),
        })
    }

    /// The list as plain Python data.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_py(py, &self.inner)
    }

    fn __repr__(&self) -> String {
        let (batched, na, installed, excluded) = self.inner.counts();
        format!(
            "CandidatesList({} rows: {batched} batched, {na} N/A, {installed} installed, {excluded} excluded)",
            self.inner.rows.len()
        )
    }
}

/// Generates the candidates list of `package` (or of the first package of `plan`, or of a
/// Basic-mode `config`) for `inventory`, by SPEC's eligibility and ordering rules. `exclude`
/// names objects to leave out, `include_only` the only ones to keep (a member or a cluster
/// stands for the whole cluster). Returns the list and the filter names that matched nothing.
#[pyfunction]
#[pyo3(signature = (inventory, package = None, *, plan = None, config = None, exclude = None, include_only = None))]
pub fn generate(
    py: Python<'_>,
    inventory: PyRef<'_, Inventory>,
    package: Option<PyRef<'_, Package>>,
    plan: Option<PyRef<'_, Plan>>,
    config: Option<PyRef<'_, Config>>,
    exclude: Option<Vec<String>>,
    include_only: Option<Vec<String>>,
) -> PyResult<(CandidatesList, Vec<String>)> {
    let inv = &inventory.inner;
    let (found, mut options) = match (&package, &plan, &config) {
        (Some(p), None, None) => (Some(p.inner.clone()), GenerateOptions::default()),
        (None, Some(plan), config) => {
            GenerateOptions::from_plan(&plan.inner, config.as_ref().map(|c| &c.inner), inv).py()?
        }
        (None, None, Some(config)) => GenerateOptions::from_config(&config.inner, inv).py()?,
        _ => {
            return Err(PyValueError::new_err(
                "give a package, or a plan (with or without a config), or a Basic-mode config",
            ));
        }
    };
    let package = found.ok_or_else(|| {
        PyValueError::new_err("the plan or configuration names no package to install")
    })?;
    options.filter = match (exclude, include_only) {
        (Some(_), Some(_)) => {
            return Err(PyValueError::new_err(
                "give exclude or include_only, not both",
            ));
        }
        (Some(names), None) => Some(ObjectFilter::from_names(names, FilterMode::Exclude)),
        (None, Some(names)) => Some(ObjectFilter::from_names(names, FilterMode::IncludeOnly)),
        (None, None) => None,
    };
    let generated = py.detach(|| candidates::generate::generate(inv, &package, &options));
    Ok((
        CandidatesList {
            inner: generated.list,
        },
        generated.unmatched_filter_names,
    ))
}

/// Checks an operator's `edited` list against the `generated` one by every rule of SPEC
/// 2.3; raises `CandidatesError` with every problem (each with its file, line and object).
#[pyfunction]
pub fn validate_edit(
    generated: PyRef<'_, CandidatesList>,
    edited: PyRef<'_, CandidatesList>,
) -> PyResult<()> {
    candidates::validate::validate_edit(&generated.inner, &edited.inner).py()
}
