//! CDT's XML files: the deployment plan (with its steps) and the primary configuration.

use std::path::PathBuf;

use cdt_core::formats::config::{Mode, PackageToInstall, PrimaryConfig};
use cdt_core::formats::plan;
use pyo3::exceptions::PyIndexError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict};

use crate::convert;
use crate::errors::IntoPy;

fn path_text(p: &std::path::Path) -> String {
    p.display().to_string()
}

/// A deployment plan: its settings and its steps, in order.
#[pyclass(module = "cdt._cdt", eq)]
#[derive(Clone, PartialEq)]
pub struct Plan {
    pub(crate) inner: plan::Plan,
}

/// One action of a plan, built from its element name and attributes as in a plan file.
#[pyclass(module = "cdt._cdt", eq)]
#[derive(Clone, PartialEq)]
pub struct Step {
    pub(crate) inner: plan::Step,
}

/// Normalises an index the Python way (negative from the end); for an insert, any index is
/// clamped into `0..=len`.
pub(crate) fn index(i: isize, len: usize, insert: bool) -> PyResult<usize> {
    let n = len as isize;
    let i = if i < 0 { i + n } else { i };
    let end = if insert { n } else { n - 1 };
    if insert {
        return Ok(i.clamp(0, n) as usize);
    }
    if i < 0 || i > end {
        return Err(PyIndexError::new_err("index out of range"));
    }
    Ok(i as usize)
}

#[pymethods]
impl Plan {
    /// A plan with `steps` and the given settings, checked as a plan file is.
    #[new]
    #[pyo3(signature = (steps = Vec::new(), *, name = None, description = None, update_cpuse = None, connectivity_upgrade = None))]
    fn new(
        steps: Vec<PyRef<'_, Step>>,
        name: Option<String>,
        description: Option<String>,
        update_cpuse: Option<bool>,
        connectivity_upgrade: Option<bool>,
    ) -> PyResult<Plan> {
        let mut inner = plan::Plan::default();
        inner.settings.name = name;
        inner.settings.description = description;
        inner.settings.update_cpuse = update_cpuse;
        inner.settings.connectivity_upgrade = connectivity_upgrade;
        inner.steps = steps.iter().map(|s| s.inner.clone()).collect();
        inner.validate().py()?;
        Ok(Plan { inner })
    }

    /// Reads and checks the plan file at `path`.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Plan> {
        let inner = py.detach(|| plan::Plan::load(&path)).py()?;
        Ok(Plan { inner })
    }

    /// Parses and checks a plan from `text` (`path` only names it in errors).
    #[staticmethod]
    #[pyo3(signature = (text, path = None))]
    fn parse(text: &str, path: Option<PathBuf>) -> PyResult<Plan> {
        let inner = plan::Plan::parse(text, path.as_deref()).py()?;
        Ok(Plan { inner })
    }

    /// Checks the plan as a plan file is checked (after edits in code).
    fn validate(&self) -> PyResult<()> {
        self.inner.validate().py()
    }

    /// The plan as XML, written canonically (operator comments kept).
    fn to_xml(&self) -> PyResult<String> {
        self.inner.to_xml().py()
    }

    /// Writes the plan to `path`.
    fn save(&self, path: PathBuf) -> PyResult<()> {
        self.inner.save(&path).py()
    }

    /// `<name value=".."/>`.
    #[getter]
    fn name(&self) -> Option<String> {
        self.inner.settings.name.clone()
    }

    #[setter]
    fn set_name(&mut self, value: Option<String>) {
        self.inner.settings.name = value;
    }

    /// `<description value=".."/>`.
    #[getter]
    fn description(&self) -> Option<String> {
        self.inner.settings.description.clone()
    }

    #[setter]
    fn set_description(&mut self, value: Option<String>) {
        self.inner.settings.description = value;
    }

    /// `<update_cpuse value=".."/>` as written (`None`: not given, which means true).
    #[getter]
    fn update_cpuse(&self) -> Option<bool> {
        self.inner.settings.update_cpuse
    }

    #[setter]
    fn set_update_cpuse(&mut self, value: Option<bool>) {
        self.inner.settings.update_cpuse = value;
    }

    /// `<connectivityupgrade value=".."/>` as written (`None`: not given, which means true).
    #[getter]
    fn connectivity_upgrade(&self) -> Option<bool> {
        self.inner.settings.connectivity_upgrade
    }

    #[setter]
    fn set_connectivity_upgrade(&mut self, value: Option<bool>) {
        self.inner.settings.connectivity_upgrade = value;
    }

    /// The steps, in order (copies: edit the plan with `append`, `insert`, item assignment
    /// and `del`).
    #[getter]
    fn steps(&self) -> Vec<Step> {
        self.inner
            .steps
            .iter()
            .map(|s| Step { inner: s.clone() })
            .collect()
    }

    /// The first package the plan imports or installs, if any.
    fn first_package(&self) -> Option<String> {
        self.inner.first_package().map(path_text)
    }

    /// Adds `step` at the end.
    fn append(&mut self, step: PyRef<'_, Step>) {
        self.inner.steps.push(step.inner.clone());
    }

    /// Inserts `step` before position `index`.
    fn insert(&mut self, index: isize, step: PyRef<'_, Step>) -> PyResult<()> {
        let at = self::index(index, self.inner.steps.len(), true)?;
        self.inner.steps.insert(at, step.inner.clone());
        Ok(())
    }

    fn __len__(&self) -> usize {
        self.inner.steps.len()
    }

    fn __getitem__(&self, index: isize) -> PyResult<Step> {
        let at = self::index(index, self.inner.steps.len(), false)?;
        Ok(Step {
            inner: self.inner.steps[at].clone(),
        })
    }

    fn __setitem__(&mut self, index: isize, step: PyRef<'_, Step>) -> PyResult<()> {
        let at = self::index(index, self.inner.steps.len(), false)?;
        self.inner.steps[at] = step.inner.clone();
        Ok(())
    }

    fn __delitem__(&mut self, index: isize) -> PyResult<()> {
        let at = self::index(index, self.inner.steps.len(), false)?;
        self.inner.steps.remove(at);
        Ok(())
    }

    /// The plan as plain Python data: its settings and its steps.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        let s = &self.inner.settings;
        d.set_item("name", s.name.clone())?;
        d.set_item("description", s.description.clone())?;
        d.set_item("update_cpuse", s.update_cpuse)?;
        d.set_item("connectivity_upgrade", s.connectivity_upgrade)?;
        let steps = self
            .inner
            .steps
            .iter()
            .map(|st| Step { inner: st.clone() }.to_dict(py))
            .collect::<PyResult<Vec<_>>>()?;
        d.set_item("steps", steps)?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        let names: Vec<&str> = self
            .inner
            .steps
            .iter()
            .map(|s| s.action.element_name())
            .collect();
        format!(
            "Plan(name={}, steps=[{}])",
            self.inner
                .settings
                .name
                .as_deref()
                .map_or_else(|| "None".to_string(), |n| format!("{n:?}")),
            names.join(", ")
        )
    }
}

/// An attribute value as a plan file writes it: booleans as `true`/`false`, the rest as
/// their `str()`.
fn attribute_text(value: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(b) = value.cast::<PyBool>() {
        return Ok(if b.is_true() { "true" } else { "false" }.to_string());
    }
    value.str()?.extract()
}

#[pymethods]
impl Step {
    /// The step `<action attribute="value" …/>` (say `Step("install_package",
    /// path="/var/pkg/x.tgz")`), checked as in a plan file; `critical=False` is
    /// `iscritical="false"`.
    #[new]
    #[pyo3(signature = (action, /, *, critical = None, **attributes))]
    fn new(
        action: &str,
        critical: Option<bool>,
        attributes: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Step> {
        let mut attrs: Vec<(String, String)> = Vec::new();
        if let Some(a) = attributes {
            for (k, v) in a.iter() {
                attrs.push((k.extract()?, attribute_text(&v)?));
            }
        }
        if let Some(c) = critical {
            attrs.push(("iscritical".into(), c.to_string()));
        }
        let inner = plan::Step::from_element(action, &attrs).py()?;
        Ok(Step { inner })
    }

    /// The element name (`install_package`, `execute_command`, ...).
    #[getter]
    fn action(&self) -> &'static str {
        self.inner.action.element_name()
    }

    /// Whether a failure stops the target's plan (`iscritical`, default true).
    #[getter]
    fn critical(&self) -> bool {
        self.inner.critical
    }

    #[setter]
    fn set_critical(&mut self, value: bool) {
        self.inner.critical = value;
    }

    /// Operator comments written before the element.
    #[getter]
    fn comments(&self) -> Vec<String> {
        self.inner.comments.clone()
    }

    /// The element's attributes (paths as text, `execute_always` as a boolean).
    #[getter]
    fn attributes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let all = convert::to_py(py, &self.inner.action)?;
        let d = all.cast_into::<PyDict>()?;
        d.del_item("action")?;
        Ok(d)
    }

    /// The step as plain Python data: `action`, `critical` and the attributes.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("action", self.action())?;
        d.set_item("critical", self.inner.critical)?;
        for (k, v) in self.attributes(py)?.iter() {
            d.set_item(k, v)?;
        }
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let mut parts = vec![
            pyo3::types::PyString::new(py, self.action())
                .repr()?
                .to_string(),
        ];
        for (k, v) in self.attributes(py)?.iter() {
            parts.push(format!("{}={}", k.str()?, v.repr()?));
        }
        if !self.inner.critical {
            parts.push("critical=False".into());
        }
        Ok(format!("Step({})", parts.join(", ")))
    }
}

/// The primary configuration (`CentralDeploymentTool.xml`).
#[pyclass(module = "cdt._cdt", eq)]
#[derive(Clone, PartialEq)]
pub struct Config {
    pub(crate) inner: PrimaryConfig,
}

#[pymethods]
impl Config {
    /// An empty configuration (Advanced Mode: the run follows a plan).
    #[new]
    fn new() -> Config {
        Config {
            inner: PrimaryConfig::default(),
        }
    }

    /// Reads and checks the configuration file at `path`.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Config> {
        let inner = py.detach(|| PrimaryConfig::load(&path)).py()?;
        Ok(Config { inner })
    }

    /// Parses and checks a configuration from `text` (`path` only names it in errors).
    #[staticmethod]
    #[pyo3(signature = (text, path = None))]
    fn parse(text: &str, path: Option<PathBuf>) -> PyResult<Config> {
        let inner = PrimaryConfig::parse(text, path.as_deref()).py()?;
        Ok(Config { inner })
    }

    /// Checks the configuration (after edits in code).
    fn validate(&self) -> PyResult<()> {
        self.inner.validate().py()
    }

    /// Refuses a configuration a run must not start from (unknown elements, unless
    /// `allow_unknown`).
    #[pyo3(signature = (allow_unknown = false))]
    fn check_for_execute(&self, allow_unknown: bool) -> PyResult<()> {
        self.inner.check_for_execute(allow_unknown).py()
    }

    /// What the file holds that CDT does not know (unknown elements), one message each.
    fn warnings(&self) -> Vec<String> {
        self.inner
            .warnings()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    /// The configuration as XML (operator comments kept).
    fn to_xml(&self) -> String {
        self.inner.to_xml()
    }

    /// Writes the configuration to `path`.
    fn save(&self, path: PathBuf) -> PyResult<()> {
        self.inner.save(&path).py()
    }

    /// `"basic"` when a package to install is configured, else `"advanced"`.
    #[getter]
    fn mode(&self) -> &'static str {
        match self.inner.mode() {
            Mode::Basic => "basic",
            Mode::Advanced => "advanced",
        }
    }

    /// `<PackageToInstall Path=".."/>`: the package Basic Mode installs.
    #[getter]
    fn package_to_install(&self) -> Option<String> {
        self.inner
            .package_to_install
            .as_ref()
            .map(|p| path_text(&p.path))
    }

    #[setter]
    fn set_package_to_install(&mut self, value: Option<PathBuf>) {
        self.inner.package_to_install = value.map(|path| PackageToInstall {
            path,
            ..PackageToInstall::default()
        });
    }

    /// Whether Connectivity Upgrade is on (default true).
    #[getter]
    fn connectivity_upgrade(&self) -> bool {
        self.inner.connectivity_upgrade()
    }

    /// `<CPUSE Path=".."/>`: the CPUSE agent package, if given.
    #[getter]
    fn cpuse(&self) -> Option<String> {
        self.inner.cpuse.as_deref().map(path_text)
    }

    /// `<BatchEndTime value=".."/>`: the cut-off, as written (RFC 3339 with its offset).
    #[getter]
    fn batch_end_time(&self) -> Option<String> {
        self.inner.batch_end_time.as_ref().map(ToString::to_string)
    }

    /// The pre-installation scripts: `(path, is_blocking)` each.
    #[getter]
    fn pre_installation_scripts(&self) -> Vec<(String, bool)> {
        self.inner
            .pre_installation_scripts
            .iter()
            .map(|s| (path_text(&s.path), s.is_blocking))
            .collect()
    }

    /// The post-installation scripts: `(path, is_blocking)` each.
    #[getter]
    fn post_installation_scripts(&self) -> Vec<(String, bool)> {
        self.inner
            .post_installation_scripts
            .iter()
            .map(|s| (path_text(&s.path), s.is_blocking))
            .collect()
    }

    /// The configuration as plain Python data.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("mode", self.mode())?;
        d.set_item("package_to_install", self.package_to_install())?;
        d.set_item("connectivity_upgrade", self.connectivity_upgrade())?;
        d.set_item("cpuse", self.cpuse())?;
        d.set_item("batch_end_time", self.batch_end_time())?;
        d.set_item("pre_installation_scripts", self.pre_installation_scripts())?;
        d.set_item(
            "post_installation_scripts",
            self.post_installation_scripts(),
        )?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "Config(mode={:?}, package_to_install={})",
            self.mode(),
            self.package_to_install()
                .map_or_else(|| "None".to_string(), |p| format!("{p:?}"))
        )
    }
}
