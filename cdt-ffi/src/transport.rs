//! Transports written in C: a struct of function pointers the engine calls to run commands
//! and copy files, in place of SSH.
//!
//! Each call runs on one of the deployment's blocking threads, with the time it may take
//! (`timeout_ms`, the driver's command timeout in real time). Calls overlap, for different
//! hosts and for one host (the Management Server serves every target's version and policy
//! steps at once): `userdata` must be safe to use from several threads at once, or the
//! transport guards itself with a lock. A call the driver gave up on (its time passed) is not
//! waited for: it may still be running when the deployment ends, and `free` is called once
//! the last call has returned, possibly after `cdt_deployment_free` returned, on any thread.

use std::ffi::{CString, c_char, c_int, c_void};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use cdt_core::transport::{Connector, ExecOutput, Session, TransportError};

use crate::args;
use crate::cdt_status;
use crate::error::call;

/// What a transport's call reports: `CDT_TRANSPORT_OK`, or why it failed. The engine treats
/// each failure as it treats SSH's: an unreachable host may be rebooting, a refused host key
/// or login is never retried.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum cdt_transport_status {
    /// The call ran (a command's own exit status is in the reply).
    CDT_TRANSPORT_OK = 0,
    /// The host does not answer (connection refused or timed out, host down or rebooting).
    CDT_TRANSPORT_UNREACHABLE = 1,
    /// The connection was lost during the call.
    CDT_TRANSPORT_CONNECTION_LOST = 2,
    /// The host's key is not trusted.
    CDT_TRANSPORT_HOST_KEY = 3,
    /// The host refused the credentials.
    CDT_TRANSPORT_AUTH = 4,
    /// A file could not be copied.
    CDT_TRANSPORT_TRANSFER = 5,
    /// Anything else.
    CDT_TRANSPORT_OTHER = 6,
}

/// Where a transport's call puts what it saw: a command's exit status and output
/// ([`cdt_reply_set_output`], [`cdt_reply_set_dropped`]) or why it failed
/// ([`cdt_reply_set_error`]). Valid only during the call it is given to.
#[derive(Default)]
pub struct cdt_reply {
    output: ExecOutput,
    error: Option<String>,
}

/// Runs `command` (one shell command line for the host's Expert shell) on `host` (the
/// object name of a gateway, member or the Management Server).
pub type cdt_exec_fn = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        host: *const c_char,
        command: *const c_char,
        timeout_ms: u64,
        reply: *mut cdt_reply,
    ) -> c_int,
>;

/// Copies the local file `from` to the path `to` on `host` (`put`), or the path `from` on
/// `host` to the local file `to` (`get`).
pub type cdt_copy_fn = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        host: *const c_char,
        from: *const c_char,
        to: *const c_char,
        timeout_ms: u64,
        reply: *mut cdt_reply,
    ) -> c_int,
>;

/// A transport written in C. Each function returns a [`cdt_transport_status`] (as an `int`;
/// an unknown number is `CDT_TRANSPORT_OTHER`) and may describe a failure with
/// [`cdt_reply_set_error`]. `free` (may be NULL) releases `userdata` once the engine no
/// longer calls the transport.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct cdt_transport {
    /// Passed first to every function.
    pub userdata: *mut c_void,
    /// Runs a command.
    pub exec: cdt_exec_fn,
    /// Copies a local file to a host.
    pub put: cdt_copy_fn,
    /// Copies a file from a host.
    pub get: cdt_copy_fn,
    /// Releases `userdata`.
    pub free: Option<unsafe extern "C" fn(userdata: *mut c_void)>,
}

/// Sets a command's reply: its `exit` status, the `stdout_len` bytes at `out` and the
/// `stderr_len` bytes at `err` (either may be NULL when its length is 0; bytes that are not
/// UTF-8 are replaced). Called from inside the transport's `exec` only.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_reply_set_output(
    reply: *mut cdt_reply,
    exit: c_int,
    out: *const c_char,
    stdout_len: usize,
    err: *const c_char,
    stderr_len: usize,
) -> cdt_status {
    call(|| {
        let reply = args::handle_mut(reply, "reply")?;
        let bytes = |p: *const c_char, len: usize, name: &str| {
            if len == 0 {
                Ok(String::new())
            } else if p.is_null() {
                Err(crate::error::Failure::new(
                    cdt_status::CDT_ERR_NULL,
                    format!("{name} is NULL"),
                ))
            } else {
                // `p` points to `len` bytes (the caller's contract).
                let b = std::slice::from_raw_parts(p.cast::<u8>(), len);
                Ok(String::from_utf8_lossy(b).into_owned())
            }
        };
        reply.output = ExecOutput {
            exit: Some(exit),
            stdout: bytes(out, stdout_len, "stdout")?,
            stderr: bytes(err, stderr_len, "stderr")?,
        };
        Ok(())
    })
}

/// Says the connection dropped before the command's exit status arrived (as a reboot does);
/// what was printed so far may be set before with [`cdt_reply_set_output`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_reply_set_dropped(reply: *mut cdt_reply) -> cdt_status {
    call(|| {
        args::handle_mut(reply, "reply")?.output.exit = None;
        Ok(())
    })
}

/// Describes why the call failed (copied; shown in the step's error).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_reply_set_error(
    reply: *mut cdt_reply,
    message: *const c_char,
) -> cdt_status {
    call(|| {
        let reply = args::handle_mut(reply, "reply")?;
        reply.error = Some(args::text(message, "message")?.to_string());
        Ok(())
    })
}

/// The C transport, owned: `free` is called when the last reference goes.
struct Owned(cdt_transport);

// SAFETY: the transport's contract (documented in the header): its functions may be called
// from any thread, several at once, and `free` once from any thread.
unsafe impl Send for Owned {}
// SAFETY: as for Send.
unsafe impl Sync for Owned {}

impl Drop for Owned {
    fn drop(&mut self) {
        if let Some(free) = self.0.free {
            // SAFETY: `free` releases the userdata given with it, once (the contract).
            unsafe { free(self.0.userdata) };
        }
    }
}

/// A connector over a C transport.
#[derive(Clone)]
pub(crate) struct CConnector {
    transport: Arc<Owned>,
    timeout: Duration,
}

impl CConnector {
    /// Takes `transport` over (its `free` is called when the engine is done with it); each
    /// call may take `timeout` (real time).
    pub(crate) fn new(transport: cdt_transport, timeout: Duration) -> CConnector {
        CConnector {
            transport: Arc::new(Owned(transport)),
            timeout,
        }
    }

    /// Checks that the three functions are there.
    pub(crate) fn check(transport: &cdt_transport) -> crate::error::Result<()> {
        for (name, missing) in [
            ("exec", transport.exec.is_none()),
            ("put", transport.put.is_none()),
            ("get", transport.get.is_none()),
        ] {
            if missing {
                return Err(crate::error::Failure::new(
                    cdt_status::CDT_ERR_NULL,
                    format!("the transport's {name} is NULL"),
                ));
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Connector for CConnector {
    async fn connect(&self, host: &str) -> Result<Arc<dyn Session>, TransportError> {
        let c_host = CString::new(host).map_err(|_| TransportError::Other {
            host: host.to_string(),
            message: "the host name holds a NUL byte".into(),
        })?;
        Ok(Arc::new(CSession {
            connector: self.clone(),
            host: host.to_string(),
            c_host,
        }))
    }
}

struct CSession {
    connector: CConnector,
    host: String,
    c_host: CString,
}

enum Call {
    Exec(CString),
    Put(CString, CString),
    Get(CString, CString),
}

fn c_string(host: &str, s: &str) -> Result<CString, TransportError> {
    CString::new(s).map_err(|_| TransportError::Other {
        host: host.to_string(),
        message: format!("{s:?} holds a NUL byte"),
    })
}

fn path_text(host: &str, p: &Path) -> Result<CString, TransportError> {
    let s = p.to_str().ok_or_else(|| TransportError::Other {
        host: host.to_string(),
        message: format!("{} is not UTF-8", p.display()),
    })?;
    c_string(host, s)
}

impl CSession {
    async fn call(&self, what: Call) -> Result<ExecOutput, TransportError> {
        let transport = self.connector.transport.clone();
        let host = self.c_host.clone();
        let timeout_ms = u64::try_from(self.connector.timeout.as_millis()).unwrap_or(u64::MAX);
        let name = self.host.clone();
        let joined = tokio::task::spawn_blocking(move || {
            let t = &transport.0;
            let mut reply = cdt_reply::default();
            let r: *mut cdt_reply = &mut reply;
            let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                // SAFETY: the functions follow the transport's contract; the strings live
                // for the call, and `reply` outlives it.
                unsafe {
                    match &what {
                        Call::Exec(cmd) => t.exec.map_or(6, |f| {
                            f(t.userdata, host.as_ptr(), cmd.as_ptr(), timeout_ms, r)
                        }),
                        Call::Put(from, to) => t.put.map_or(6, |f| {
                            f(
                                t.userdata,
                                host.as_ptr(),
                                from.as_ptr(),
                                to.as_ptr(),
                                timeout_ms,
                                r,
                            )
                        }),
                        Call::Get(from, to) => t.get.map_or(6, |f| {
                            f(
                                t.userdata,
                                host.as_ptr(),
                                from.as_ptr(),
                                to.as_ptr(),
                                timeout_ms,
                                r,
                            )
                        }),
                    }
                }
            }))
            .unwrap_or(6);
            (code, reply)
        })
        .await;
        let (code, reply) = joined.map_err(|e| TransportError::Other {
            host: name.clone(),
            message: format!("the transport's call did not end: {e}"),
        })?;
        let message = || {
            reply
                .error
                .clone()
                .unwrap_or_else(|| "the transport failed".into())
        };
        let host = name;
        Err(match code {
            0 => return Ok(reply.output),
            1 => TransportError::Unreachable {
                host,
                message: message(),
            },
            2 => TransportError::ConnectionLost {
                host,
                message: message(),
            },
            3 => TransportError::HostKey {
                host,
                message: message(),
            },
            4 => TransportError::Auth {
                host,
                message: message(),
            },
            5 => TransportError::Transfer {
                host,
                message: message(),
            },
            n => TransportError::Other {
                host,
                message: match &reply.error {
                    Some(m) => m.clone(),
                    None => format!("the transport failed (status {n})"),
                },
            },
        })
    }
}

#[async_trait]
impl Session for CSession {
    async fn exec(&self, command: &str) -> Result<ExecOutput, TransportError> {
        self.call(Call::Exec(c_string(&self.host, command)?)).await
    }

    async fn put(&self, local: &Path, remote: &str) -> Result<(), TransportError> {
        let call = Call::Put(path_text(&self.host, local)?, c_string(&self.host, remote)?);
        self.call(call).await.map(|_| ())
    }

    async fn get(&self, remote: &str, local: &Path) -> Result<(), TransportError> {
        let call = Call::Get(c_string(&self.host, remote)?, path_text(&self.host, local)?);
        self.call(call).await.map(|_| ())
    }
}
