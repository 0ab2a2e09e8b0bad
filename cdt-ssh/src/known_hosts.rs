//! OpenSSH `known_hosts` files: reading them, checking a host's key, and learning a key.
//!
//! Supported, as OpenSSH writes and reads them: one host pattern list per line (`a,b,*.lab`,
//! `!` negation, `*` and `?` wildcards), hashed names (`|1|salt|hash`, as `ssh-keygen -H`
//! writes), `[host]:port` for ports other than 22, comments, and the `@revoked` marker.
//! `@cert-authority` lines are understood but host certificates are not accepted: a host
//! covered only by one is refused with a message saying so.
//!
//! A malformed line is an error naming the file and the line (OpenSSH skips such lines; a
//! deployment tool should not guess what a broken trust file meant).

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use russh::keys::{HashAlg, PublicKey};

/// The largest `known_hosts` file read.
const MAX_BYTES: u64 = 16 << 20;

/// A `known_hosts` file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KnownHostsError {
    /// A line that is not a `known_hosts` entry.
    #[error("{path}:{line}: {message}")]
    Malformed {
        /// The file.
        path: String,
        /// The line (from 1).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// What a `known_hosts` file says about a host's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The key is listed for the host.
    Known,
    /// Nothing is listed for the host.
    Unknown,
    /// Other keys are listed for the host: the key changed.
    Changed {
        /// The fingerprints (`SHA256:…`) of the listed keys.
        expected: Vec<String>,
        /// The line of the first listed key.
        line: usize,
    },
    /// The key is marked `@revoked`.
    Revoked {
        /// The line of the `@revoked` entry.
        line: usize,
    },
    /// Only a `@cert-authority` entry covers the host; host certificates are not accepted.
    CertificateAuthority {
        /// The line of the entry.
        line: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    None,
    Revoked,
    CertAuthority,
}

#[derive(Debug, Clone)]
enum Hosts {
    Hashed { salt: Vec<u8>, hash: Vec<u8> },
    Patterns(Vec<(bool, String)>),
}

#[derive(Debug, Clone)]
struct Entry {
    line: usize,
    marker: Marker,
    hosts: Hosts,
    key: PublicKey,
}

/// A parsed `known_hosts` file.
#[derive(Debug, Clone, Default)]
pub struct KnownHosts {
    entries: Vec<Entry>,
}

/// How a host appears in `known_hosts`: `name` for port 22, `[name]:port` otherwise.
pub fn host_key_name(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

/// A key's fingerprint as OpenSSH prints it (`SHA256:…`).
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

impl KnownHosts {
    /// Reads `path`; a missing file lists nothing.
    pub fn load(path: &Path) -> Result<KnownHosts, KnownHostsError> {
        let io = |source| KnownHostsError::Io {
            path: path.display().to_string(),
            source,
        };
        let text = match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(KnownHosts::default()),
            Err(e) => return Err(io(e)),
            Ok(m) if m.len() > MAX_BYTES => {
                return Err(KnownHostsError::Malformed {
                    path: path.display().to_string(),
                    line: 0,
                    message: format!("larger than {MAX_BYTES} bytes"),
                });
            }
            Ok(_) => std::fs::read_to_string(path).map_err(io)?,
        };
        KnownHosts::parse(&text, &path.display().to_string())
    }

    /// Parses the text of a `known_hosts` file; `path` names it in errors.
    pub fn parse(text: &str, path: &str) -> Result<KnownHosts, KnownHostsError> {
        let mut entries = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let bad = |message: String| KnownHostsError::Malformed {
                path: path.to_string(),
                line,
                message,
            };
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let mut fields = trimmed.split_ascii_whitespace();
            let mut first = fields.next().unwrap_or_default();
            let marker = match first {
                "@revoked" => Marker::Revoked,
                "@cert-authority" => Marker::CertAuthority,
                m if m.starts_with('@') => return Err(bad(format!("unknown marker {m}"))),
                _ => Marker::None,
            };
            if marker != Marker::None {
                first = fields
                    .next()
                    .ok_or_else(|| bad("no host after the marker".into()))?;
            }
            let (Some(kind), Some(base64)) = (fields.next(), fields.next()) else {
                return Err(bad("expected hosts, key type and key".into()));
            };
            let key = russh::keys::parse_public_key_base64(base64)
                .map_err(|e| bad(format!("unreadable {kind} key: {e}")))?;
            if key.algorithm().as_str() != kind {
                return Err(bad(format!(
                    "the key is {}, the line says {kind}",
                    key.algorithm().as_str()
                )));
            }
            let hosts = if let Some(hashed) = first.strip_prefix("|1|") {
                let (salt, hash) = hashed
                    .split_once('|')
                    .ok_or_else(|| bad("a hashed host needs |1|salt|hash".into()))?;
                let decode = |s: &str| {
                    STANDARD
                        .decode(s)
                        .map_err(|e| bad(format!("hashed host: {e}")))
                };
                Hosts::Hashed {
                    salt: decode(salt)?,
                    hash: decode(hash)?,
                }
            } else {
                Hosts::Patterns(
                    first
                        .split(',')
                        .filter(|p| !p.is_empty())
                        .map(|p| match p.strip_prefix('!') {
                            Some(p) => (true, p.to_ascii_lowercase()),
                            None => (false, p.to_ascii_lowercase()),
                        })
                        .collect(),
                )
            };
            entries.push(Entry {
                line,
                marker,
                hosts,
                key,
            });
        }
        Ok(KnownHosts { entries })
    }

    /// What the file says about `key` presented by `names` (the name the host was reached by,
    /// and its address if different; each in [`host_key_name`] form).
    pub fn check(&self, names: &[String], key: &PublicKey) -> Verdict {
        let matching: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| names.iter().any(|n| e.hosts.matches(n)))
            .collect();
        if let Some(e) = matching
            .iter()
            .find(|e| e.marker == Marker::Revoked && e.key.key_data() == key.key_data())
        {
            return Verdict::Revoked { line: e.line };
        }
        let plain: Vec<&&Entry> = matching
            .iter()
            .filter(|e| e.marker == Marker::None)
            .collect();
        if plain.iter().any(|e| e.key.key_data() == key.key_data()) {
            return Verdict::Known;
        }
        if let Some(first) = plain.first() {
            return Verdict::Changed {
                expected: plain.iter().map(|e| fingerprint(&e.key)).collect(),
                line: first.line,
            };
        }
        if let Some(e) = matching.iter().find(|e| e.marker == Marker::CertAuthority) {
            return Verdict::CertificateAuthority { line: e.line };
        }
        Verdict::Unknown
    }
}

impl Hosts {
    fn matches(&self, name: &str) -> bool {
        match self {
            Hosts::Hashed { salt, hash } => {
                let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(salt) else {
                    return false;
                };
                mac.update(name.as_bytes());
                mac.verify_slice(hash).is_ok()
            }
            Hosts::Patterns(patterns) => {
                let name = name.to_ascii_lowercase();
                let mut positive = false;
                for (negated, p) in patterns {
                    if glob(p.as_bytes(), name.as_bytes()) {
                        if *negated {
                            return false;
                        }
                        positive = true;
                    }
                }
                positive
            }
        }
    }
}

/// `*` (any run) and `?` (any one character) matching, as OpenSSH's host patterns.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    match (pattern.split_first(), text.split_first()) {
        (None, None) => true,
        (Some((b'*', rest)), _) => {
            glob(rest, text) || text.split_first().is_some_and(|(_, t)| glob(pattern, t))
        }
        (Some((b'?', rest)), Some((_, t))) => glob(rest, t),
        (Some((p, rest)), Some((c, t))) if p == c => glob(rest, t),
        _ => false,
    }
}

/// A `known_hosts` line for `name` (in [`host_key_name`] form) and `key`.
pub fn line_for(name: &str, key: &PublicKey) -> String {
    use russh::keys::PublicKeyBase64;
    format!(
        "{name} {} {}\n",
        key.algorithm().as_str(),
        key.public_key_base64()
    )
}

/// Adds `key` for `name` to the file at `path` (created if missing), holding a kernel lock on
/// it meanwhile so concurrent learners do not interleave. With `replace`, the host's other
/// plain entries are removed first (an explicit re-key).
pub fn learn(
    path: &Path,
    name: &str,
    key: &PublicKey,
    replace: bool,
) -> Result<(), KnownHostsError> {
    let io = |source| KnownHostsError::Io {
        path: path.display().to_string(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(path)
        .map_err(io)?;
    file.lock().map_err(io)?;
    if replace {
        let text = std::fs::read_to_string(path).map_err(io)?;
        let parsed = KnownHosts::parse(&text, &path.display().to_string())?;
        let drop_lines: Vec<usize> = parsed
            .entries
            .iter()
            .filter(|e| e.marker == Marker::None && e.hosts.matches(name))
            .map(|e| e.line)
            .collect();
        let mut kept: String = text
            .lines()
            .enumerate()
            .filter(|(i, _)| !drop_lines.contains(&(i + 1)))
            .map(|(_, l)| format!("{l}\n"))
            .collect();
        kept.push_str(&line_for(name, key));
        let tmp = PathBuf::from(format!("{}.cdt-rekey", path.display()));
        std::fs::write(&tmp, kept).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)?;
    } else {
        file.write_all(line_for(name, key).as_bytes())
            .and_then(|()| file.sync_data())
            .map_err(io)?;
    }
    Ok(())
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Known => f.write_str("known"),
            Verdict::Unknown => f.write_str("not in known_hosts"),
            Verdict::Changed { expected, line } => write!(
                f,
                "the host key changed (known_hosts line {line} lists {})",
                expected.join(", ")
            ),
            Verdict::Revoked { line } => write!(f, "the host key is revoked (line {line})"),
            Verdict::CertificateAuthority { line } => write!(
                f,
                "only a @cert-authority entry (line {line}) covers this host; host certificates \
                 are not supported: list the host's key instead"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Two real ed25519 public keys (from ssh-keygen).
    const K1: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIMDvhnVWqGy5smXTVy8FISo43sNSMXc8VKOgwXnEY9ih";
    const K2: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIMfqe+so9mp77CeTYqcHatWzeHtSwtM0G0+ShKMAgVsL";

    fn key(b64: &str) -> PublicKey {
        russh::keys::parse_public_key_base64(b64).unwrap()
    }

    fn names(n: &str) -> Vec<String> {
        vec![n.to_string()]
    }

    #[test]
    fn a_listed_key_is_known_and_another_one_changed() {
        let kh = KnownHosts::parse(&format!("10.0.0.1,gw-1 ssh-ed25519 {K1}\n"), "kh").unwrap();
        assert_eq!(kh.check(&names("gw-1"), &key(K1)), Verdict::Known);
        assert_eq!(kh.check(&names("10.0.0.1"), &key(K1)), Verdict::Known);
        let Verdict::Changed { expected, line } = kh.check(&names("gw-1"), &key(K2)) else {
            panic!()
        };
        assert_eq!(line, 1);
        assert_eq!(expected, [fingerprint(&key(K1))]);
        assert_eq!(kh.check(&names("gw-2"), &key(K1)), Verdict::Unknown);
    }

    #[test]
    fn ports_other_than_22_are_bracketed() {
        let kh = KnownHosts::parse(&format!("[10.0.0.1]:2222 ssh-ed25519 {K1}\n"), "kh").unwrap();
        assert_eq!(
            kh.check(&names(&host_key_name("10.0.0.1", 2222)), &key(K1)),
            Verdict::Known
        );
        assert_eq!(
            kh.check(&names(&host_key_name("10.0.0.1", 22)), &key(K1)),
            Verdict::Unknown
        );
    }

    #[test]
    fn hashed_names_match_as_ssh_keygen_writes_them() {
        // |1|salt|HMAC-SHA1(salt, "gw-1"), computed here the way ssh-keygen -H does.
        let salt = [7u8; 20];
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(&salt).unwrap();
        mac.update(b"gw-1");
        let hash = mac.finalize().into_bytes();
        let line = format!(
            "|1|{}|{} ssh-ed25519 {K1}\n",
            STANDARD.encode(salt),
            STANDARD.encode(hash)
        );
        let kh = KnownHosts::parse(&line, "kh").unwrap();
        assert_eq!(kh.check(&names("gw-1"), &key(K1)), Verdict::Known);
        assert_eq!(kh.check(&names("gw-2"), &key(K1)), Verdict::Unknown);
    }

    #[test]
    fn wildcards_and_negations_follow_openssh() {
        let kh =
            KnownHosts::parse(&format!("*.lab,!bad.lab,gw-? ssh-ed25519 {K1}\n"), "kh").unwrap();
        assert_eq!(kh.check(&names("a.lab"), &key(K1)), Verdict::Known);
        assert_eq!(kh.check(&names("bad.lab"), &key(K1)), Verdict::Unknown);
        assert_eq!(kh.check(&names("gw-7"), &key(K1)), Verdict::Known);
        assert_eq!(kh.check(&names("gw-17"), &key(K1)), Verdict::Unknown);
    }

    #[test]
    fn a_revoked_key_is_refused_even_when_also_listed() {
        let kh = KnownHosts::parse(
            &format!("gw-1 ssh-ed25519 {K1}\n@revoked * ssh-ed25519 {K1}\n"),
            "kh",
        )
        .unwrap();
        assert_eq!(
            kh.check(&names("gw-1"), &key(K1)),
            Verdict::Revoked { line: 2 }
        );
    }

    #[test]
    fn a_cert_authority_alone_is_refused_with_its_line() {
        let kh = KnownHosts::parse(
            &format!("# CA\n@cert-authority *.lab ssh-ed25519 {K2}\n"),
            "kh",
        )
        .unwrap();
        let v = kh.check(&names("gw.lab"), &key(K1));
        assert_eq!(v, Verdict::CertificateAuthority { line: 2 });
        assert!(v.to_string().contains("not supported"));
    }

    #[test]
    fn malformed_lines_are_errors_naming_file_and_line() {
        for (text, want) in [
            ("gw-1 ssh-ed25519\n", "expected hosts"),
            (
                &format!("\n@trusted gw ssh-ed25519 {K1}\n") as &str,
                "unknown marker",
            ),
            ("gw-1 ssh-ed25519 !!!\n", "unreadable"),
            (&format!("gw-1 ssh-rsa {K1}\n"), "the line says ssh-rsa"),
            (&format!("|1|nope ssh-ed25519 {K1}\n"), "|1|salt|hash"),
        ] {
            let e = KnownHosts::parse(text, "/etc/kh").unwrap_err().to_string();
            assert!(e.starts_with("/etc/kh:"), "{e}");
            assert!(e.contains(want), "{e}");
        }
    }

    #[test]
    fn learning_appends_and_rekeying_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("known_hosts");
        std::fs::write(&path, format!("# mine\nother ssh-ed25519 {K2}\n")).unwrap();
        learn(&path, "gw-1", &key(K1), false).unwrap();
        let kh = KnownHosts::load(&path).unwrap();
        assert_eq!(kh.check(&names("gw-1"), &key(K1)), Verdict::Known);
        learn(&path, "gw-1", &key(K2), true).unwrap();
        let kh = KnownHosts::load(&path).unwrap();
        assert_eq!(kh.check(&names("gw-1"), &key(K2)), Verdict::Known);
        assert!(matches!(
            kh.check(&names("gw-1"), &key(K1)),
            Verdict::Changed { .. }
        ));
        assert_eq!(kh.check(&names("other"), &key(K2)), Verdict::Known);
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .starts_with("# mine\n")
        );
    }

    #[test]
    fn a_missing_file_lists_nothing() {
        let kh = KnownHosts::load(Path::new("/nonexistent/known_hosts")).unwrap();
        assert_eq!(kh.check(&names("gw-1"), &key(K1)), Verdict::Unknown);
    }
}
