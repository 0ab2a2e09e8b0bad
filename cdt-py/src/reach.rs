//! How a deployment reaches its gateways from Python: over SSH ([`SshSettings`], secrets as
//! [`Secret`]s), or through a transport written in Python ([`PyConnector`]): any object with
//! `exec`, `put` and `get`, plain methods or coroutine functions.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use cdt_core::model::Inventory;
use cdt_core::transport::{Connector, ExecOutput, Session, TransportError};
use cdt_ssh::{Auth, SshConnector};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};
use secrecy::SecretString;

use crate::errors;

/// A secret (a password, a passphrase): kept out of every `repr`, log, event, journal and
/// report. Made from a string, an environment variable or the first line of a file.
#[pyclass(module = "cdt._cdt", frozen)]
#[derive(Clone)]
pub struct Secret {
    pub(crate) inner: SecretString,
    /// Where it came from, as run folders record it (never the secret itself).
    source: String,
}

#[pymethods]
impl Secret {
    /// The secret `value`.
    #[new]
    fn new(value: String) -> Secret {
        Secret {
            inner: SecretString::from(value),
            source: "given".into(),
        }
    }

    /// The secret in the environment variable `name` (read now).
    #[staticmethod]
    fn from_env(name: &str) -> PyResult<Secret> {
        Ok(Secret {
            inner: Auth::secret_from_env(name).map_err(PyValueError::new_err)?,
            source: format!("environment variable {name}"),
        })
    }

    /// The secret on the first line of the file `path` (read now, without its line ending).
    #[staticmethod]
    fn from_file(path: PathBuf) -> PyResult<Secret> {
        Ok(Secret {
            inner: Auth::secret_from_file(&path).map_err(PyValueError::new_err)?,
            source: format!("file {}", path.display()),
        })
    }

    fn __repr__(&self) -> String {
        format!("Secret(<{}>)", self.source)
    }
}

/// A secret argument: a [`Secret`], or a plain string taken as one.
fn secret(value: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Secret>> {
    let Some(value) = value else { return Ok(None) };
    if let Ok(s) = value.cast::<Secret>() {
        return Ok(Some(s.get().clone()));
    }
    match value.extract::<String>() {
        Ok(text) => Ok(Some(Secret::new(text))),
        Err(_) => Err(PyTypeError::new_err("a secret is a cdt.Secret or a str")),
    }
}

fn seconds(name: &str, value: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| {
            PyValueError::new_err(format!("{name} must be a positive number of seconds"))
        })
}

/// How to reach gateways over SSH: the user, how to authenticate (a key file, the
/// ssh-agent, or a password), which host keys to trust (only those in `known_hosts` unless
/// `trust_on_first_use`), and whether to go through the Management Server (`relay`).
#[pyclass(module = "cdt._cdt", frozen)]
#[derive(Clone)]
pub struct SshSettings {
    user: String,
    key_file: Option<PathBuf>,
    passphrase: Option<Secret>,
    agent: bool,
    password: Option<Secret>,
    keyboard_interactive: bool,
    known_hosts: PathBuf,
    trust_on_first_use: bool,
    rekey: Vec<String>,
    port: u16,
    clish: Vec<String>,
    expert_password: Option<Secret>,
    kept_shells: bool,
    connect_timeout: Duration,
    relay: bool,
}

impl SshSettings {
    fn auth(&self) -> Auth {
        if let Some(path) = &self.key_file {
            Auth::KeyFile {
                path: path.clone(),
                passphrase: self.passphrase.as_ref().map(|s| s.inner.clone()),
            }
        } else if self.agent {
            Auth::Agent
        } else {
            // The constructor makes sure one of the three is there.
            let password = self
                .password
                .as_ref()
                .map(|s| s.inner.clone())
                .unwrap_or_else(|| SecretString::from(String::new()));
            if self.keyboard_interactive {
                Auth::KeyboardInteractive(password)
            } else {
                Auth::Password(password)
            }
        }
    }

    /// These settings as the SSH transport's profile.
    fn profile(&self) -> cdt_ssh::Profile {
        let mut p = cdt_ssh::Profile::new(&self.user, self.auth(), &self.known_hosts);
        p.expert_password = self.expert_password.as_ref().map(|e| e.inner.clone());
        p.trust_on_first_use = self.trust_on_first_use;
        p.rekey = self.rekey.clone();
        p.port = self.port;
        p.clish = self.clish.clone();
        p.kept_shells = self.kept_shells;
        p.connect_timeout = self.connect_timeout;
        p.relay = self.relay;
        p
    }

    /// The connector for `inventory`'s gateways and the Management Server `management`.
    pub(crate) fn connector(
        &self,
        inventory: &Inventory,
        management: Option<(&str, &str)>,
    ) -> Arc<dyn Connector> {
        self.profile().connector(inventory, management)
    }

    /// What a run folder records of these settings: where secrets come from, never them.
    pub(crate) fn record(&self, management: Option<(&str, &str)>) -> serde_json::Value {
        let auth = match (&self.key_file, self.agent) {
            (Some(path), _) => serde_json::json!({
                "key_file": path,
                "passphrase": self.passphrase.as_ref().map(|s| s.source.clone()),
            }),
            (None, true) => serde_json::json!("agent"),
            (None, false) => serde_json::json!({
                "password": self.password.as_ref().map(|s| s.source.clone()),
                "keyboard_interactive": self.keyboard_interactive,
            }),
        };
        self.profile().record("python", auth, management)
    }
}

#[pymethods]
impl SshSettings {
    /// Settings to log in as `user` with exactly one of `key_file` (its `passphrase` if it has
    /// one), `agent=True` (the keys of `SSH_AUTH_SOCK`'s agent) or `password` (typed at
    /// keyboard-interactive prompts with `keyboard_interactive=True`). Host keys must be
    /// listed in `known_hosts` (default `~/.ssh/known_hosts`); `trust_on_first_use` adds a
    /// host not listed yet (a changed key is still refused) and `rekey` names hosts whose
    /// changed key replaces the listed one. `clish` names hosts whose login shell is clish
    /// (their Expert shell reached with `expert_password`); `kept_shells` sends commands to
    /// shells kept open instead of a channel each; `relay` reaches every gateway through the
    /// Management Server. Secrets are `cdt.Secret`s or strings.
    #[new]
    #[pyo3(signature = (user = "admin".to_string(), *, key_file = None, passphrase = None, agent = false, password = None, keyboard_interactive = false, known_hosts = None, trust_on_first_use = false, rekey = Vec::new(), port = 22, clish = Vec::new(), expert_password = None, kept_shells = false, connect_timeout = 30.0, relay = false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        user: String,
        key_file: Option<PathBuf>,
        passphrase: Option<&Bound<'_, PyAny>>,
        agent: bool,
        password: Option<&Bound<'_, PyAny>>,
        keyboard_interactive: bool,
        known_hosts: Option<PathBuf>,
        trust_on_first_use: bool,
        rekey: Vec<String>,
        port: u16,
        clish: Vec<String>,
        expert_password: Option<&Bound<'_, PyAny>>,
        kept_shells: bool,
        connect_timeout: f64,
        relay: bool,
    ) -> PyResult<SshSettings> {
        let password = secret(password)?;
        let ways =
            usize::from(key_file.is_some()) + usize::from(agent) + usize::from(password.is_some());
        if ways != 1 {
            return Err(PyValueError::new_err(
                "give exactly one way to authenticate: key_file=, agent=True or password=",
            ));
        }
        if passphrase.is_some() && key_file.is_none() {
            return Err(PyValueError::new_err("passphrase= goes with key_file="));
        }
        let absolute = |p: PathBuf| {
            std::path::absolute(&p)
                .map_err(|e| PyValueError::new_err(format!("{}: {e}", p.display())))
        };
        let known_hosts = match known_hosts {
            Some(p) => absolute(p)?,
            None => PathBuf::from(
                std::env::var("HOME")
                    .map_err(|_| PyValueError::new_err("HOME is not set: give known_hosts="))?,
            )
            .join(".ssh/known_hosts"),
        };
        Ok(SshSettings {
            user,
            key_file: key_file.map(absolute).transpose()?,
            passphrase: secret(passphrase)?,
            agent,
            password,
            keyboard_interactive,
            known_hosts,
            trust_on_first_use,
            rekey,
            port,
            clish,
            expert_password: secret(expert_password)?,
            kept_shells,
            connect_timeout: seconds("connect_timeout", connect_timeout)?,
            relay,
        })
    }

    /// The user logged in as.
    #[getter]
    fn user(&self) -> &str {
        &self.user
    }

    /// The `known_hosts` file.
    #[getter]
    fn known_hosts(&self) -> String {
        self.known_hosts.display().to_string()
    }

    /// Whether gateways are reached through the Management Server.
    #[getter]
    pub(crate) fn relay(&self) -> bool {
        self.relay
    }

    /// Runs `command` on the host at `address` (its `port`, these settings' by default) and
    /// returns `(exit, stdout, stderr)` (`exit` is `None` when the connection dropped before
    /// the command ended), the GIL released: to check a box before a deployment. Raises
    /// `HostKeyError` for a key not trusted, `AuthError` for refused credentials,
    /// `ConnectTimeout` when the host does not answer within the connect timeout (or the
    /// command within `timeout` seconds), and `TransportError` otherwise.
    #[pyo3(signature = (address, command, *, port = None, timeout = 60.0))]
    fn exec(
        &self,
        py: Python<'_>,
        address: &str,
        command: &str,
        port: Option<u16>,
        timeout: f64,
    ) -> PyResult<(Option<i32>, String, String)> {
        let timeout = seconds("timeout", timeout)?;
        let mut profile = self.profile();
        profile.port = port.unwrap_or(self.port);
        let mut settings = profile.settings();
        settings
            .targets
            .insert(address.to_string(), profile.target(address, address));
        let connect_timeout = settings.connect_timeout;
        // The connector's own limit a little later, so a host that does not answer is this
        // call's timeout (a ConnectTimeout), not a refusal.
        settings.connect_timeout = connect_timeout + Duration::from_secs(1);
        let host = address.to_string();
        let timed_out = |what: &str, limit: Duration| {
            Err(Called::TimedOut(format!(
                "{host}: {what} within {} s",
                limit.as_secs_f64()
            )))
        };
        let result = py.detach(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| {
                    Called::Failed(TransportError::Other {
                        host: host.clone(),
                        message: format!("cannot start a runtime: {e}"),
                    })
                })?;
            runtime.block_on(async {
                let connector = SshConnector::new(settings);
                let session =
                    match tokio::time::timeout(connect_timeout, connector.connect(address)).await {
                        Ok(session) => session.map_err(Called::Failed)?,
                        Err(_) => return timed_out("no connection", connect_timeout),
                    };
                match tokio::time::timeout(timeout, session.exec(command)).await {
                    Ok(out) => out.map_err(Called::Failed),
                    Err(_) => timed_out("the command did not end", timeout),
                }
            })
        });
        match result {
            Ok(out) => Ok((out.exit, out.stdout, out.stderr)),
            Err(Called::Failed(e)) => Err(errors::transport(&e)),
            Err(Called::TimedOut(message)) => Err(errors::connect_timeout(address, message)),
        }
    }

    fn __repr__(&self) -> String {
        let auth = match (&self.key_file, self.agent, &self.password) {
            (Some(path), _, _) => format!("key_file={:?}", path.display().to_string()),
            (None, true, _) => "agent=True".to_string(),
            (None, false, Some(p)) => format!("password={}", p.__repr__()),
            (None, false, None) => String::new(),
        };
        format!(
            "SshSettings(user={:?}, {auth}, known_hosts={:?}, relay={})",
            self.user,
            self.known_hosts.display().to_string(),
            if self.relay { "True" } else { "False" }
        )
    }
}

/// How a direct call failed.
enum Called {
    Failed(TransportError),
    TimedOut(String),
}

/// A transport written in Python: any object with `exec(host, command)` (returning
/// `(exit, stdout, stderr)`), `put(host, local, remote)` and `get(host, remote, local)`, all
/// plain methods or all coroutine functions. Plain methods are called on the runtime's
/// blocking threads, holding the GIL while they run; coroutines are run on the event loop
/// the deployment's `run_async` runs on.
#[derive(Clone)]
pub struct PyConnector {
    transport: Arc<Py<PyAny>>,
    /// The event loop coroutines run on (an asynchronous transport).
    event_loop: Option<Arc<Py<PyAny>>>,
}

impl PyConnector {
    /// A connector for `transport`; checks its methods, and whether they are coroutine
    /// functions (then `event_loop` must be given before the run).
    pub(crate) fn new(transport: &Bound<'_, PyAny>) -> PyResult<(PyConnector, bool)> {
        let py = transport.py();
        let inspect = py.import("inspect")?;
        let mut kinds = Vec::new();
        for name in ["exec", "put", "get"] {
            let method = transport.getattr(name).map_err(|_| {
                PyTypeError::new_err(format!("a transport needs an `{name}` method"))
            })?;
            if !method.is_callable() {
                return Err(PyTypeError::new_err(format!(
                    "the transport's `{name}` is not callable"
                )));
            }
            kinds.push(
                inspect
                    .call_method1("iscoroutinefunction", (method,))?
                    .is_truthy()?,
            );
        }
        let is_async = kinds[0];
        if kinds.iter().any(|k| *k != is_async) {
            return Err(PyTypeError::new_err(
                "a transport's exec, put and get are all plain methods or all coroutine functions",
            ));
        }
        Ok((
            PyConnector {
                transport: Arc::new(transport.clone().unbind()),
                event_loop: None,
            },
            is_async,
        ))
    }

    /// The same transport, its coroutines run on `event_loop`.
    pub(crate) fn on_loop(&self, event_loop: Py<PyAny>) -> PyConnector {
        PyConnector {
            transport: self.transport.clone(),
            event_loop: Some(Arc::new(event_loop)),
        }
    }

    /// Calls the transport's `method` with `args` on a blocking thread and converts what it
    /// returns with `convert`; an exception it raises is the call's error.
    async fn call<T: Send + 'static>(
        &self,
        host: &str,
        method: &'static str,
        args: impl for<'py> FnOnce(Python<'py>) -> PyResult<Bound<'py, PyTuple>> + Send + 'static,
        convert: impl for<'py> FnOnce(&Bound<'py, PyAny>) -> PyResult<T> + Send + 'static,
    ) -> Result<T, TransportError> {
        let transport = self.transport.clone();
        let event_loop = self.event_loop.clone();
        let owner = host.to_string();
        let joined = tokio::task::spawn_blocking(move || {
            Python::attach(|py| -> Result<T, TransportError> {
                let attempt = || -> PyResult<T> {
                    let result = transport.bind(py).call_method1(method, args(py)?)?;
                    let result = match &event_loop {
                        Some(event_loop) => {
                            // The coroutine runs on the loop; this thread waits for it (the
                            // wait releases the GIL).
                            let future = py.import("asyncio")?.call_method1(
                                "run_coroutine_threadsafe",
                                (result, event_loop.bind(py)),
                            )?;
                            future.call_method0("result")?
                        }
                        None => result,
                    };
                    convert(&result)
                };
                attempt().map_err(|e| from_python(py, &owner, method, &e))
            })
        })
        .await;
        joined.unwrap_or_else(|e| {
            Err(TransportError::Other {
                host: host.to_string(),
                message: format!("the transport's {method} did not finish: {e}"),
            })
        })
    }
}

/// A Python exception raised by a transport as the transport error it stands for:
/// `cdt.errors.HostKeyError` and `AuthError` as theirs, `ConnectionRefusedError` and
/// `TimeoutError` as an unreachable host, other `ConnectionError`s as a lost connection,
/// anything else as itself; the message is the exception's class and text.
fn from_python(py: Python<'_>, host: &str, method: &str, error: &PyErr) -> TransportError {
    let value = error.value(py);
    let class = value
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "Exception".into());
    let message = format!("{method}: {class}: {value}");
    let host = host.to_string();
    let is = |module: &str, name: &str| -> bool {
        py.import(module)
            .and_then(|m| m.getattr(name))
            .and_then(|c| value.is_instance(&c))
            .unwrap_or(false)
    };
    if is("cdt.errors", "HostKeyError") {
        TransportError::HostKey { host, message }
    } else if is("cdt.errors", "AuthError") {
        TransportError::Auth { host, message }
    } else if is("builtins", "ConnectionRefusedError") || is("builtins", "TimeoutError") {
        TransportError::Unreachable { host, message }
    } else if is("builtins", "ConnectionError") {
        TransportError::ConnectionLost { host, message }
    } else {
        TransportError::Other { host, message }
    }
}

fn text(value: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(bytes) = value.cast::<PyBytes>() {
        return Ok(String::from_utf8_lossy(bytes.as_bytes()).into_owned());
    }
    value.extract::<String>()
}

fn exec_output(value: &Bound<'_, PyAny>) -> PyResult<ExecOutput> {
    let (exit, stdout, stderr): (Option<i32>, Bound<'_, PyAny>, Bound<'_, PyAny>) =
        value.extract().map_err(|_| {
            PyTypeError::new_err("exec must return (exit status or None, stdout, stderr)")
        })?;
    Ok(ExecOutput {
        exit,
        stdout: text(&stdout)?,
        stderr: text(&stderr)?,
    })
}

#[async_trait]
impl Connector for PyConnector {
    async fn connect(&self, host: &str) -> Result<Arc<dyn Session>, TransportError> {
        Ok(Arc::new(PySession {
            connector: self.clone(),
            host: host.to_string(),
        }))
    }
}

/// One host through a Python transport.
struct PySession {
    connector: PyConnector,
    host: String,
}

fn path_text(path: &Path) -> String {
    path.display().to_string()
}

#[async_trait]
impl Session for PySession {
    async fn exec(&self, command: &str) -> Result<ExecOutput, TransportError> {
        let (host, command) = (self.host.clone(), command.to_string());
        self.connector
            .call(
                &self.host,
                "exec",
                move |py| PyTuple::new(py, [host, command]),
                exec_output,
            )
            .await
    }

    async fn put(&self, local: &Path, remote: &str) -> Result<(), TransportError> {
        self.copy("put", path_text(local), remote.to_string()).await
    }

    async fn get(&self, remote: &str, local: &Path) -> Result<(), TransportError> {
        self.copy("get", remote.to_string(), path_text(local)).await
    }
}

impl PySession {
    /// Calls the transport's `put` or `get` with the host, the source and the destination.
    async fn copy(
        &self,
        method: &'static str,
        from: String,
        to: String,
    ) -> Result<(), TransportError> {
        let args = [self.host.clone(), from, to];
        self.connector
            .call(
                &self.host,
                method,
                move |py| PyTuple::new(py, args),
                |_| Ok(()),
            )
            .await
    }
}
