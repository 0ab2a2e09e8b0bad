//! What the SSH tests share: settings for the test fleet's user with a key file.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use cdt_ssh::{Auth, SshSettings, Target};
use cdt_testfleet::USER;

/// Logs in with the (passphrase-less) key file `key`.
pub(crate) fn key(key: &Path) -> Auth {
    Auth::KeyFile {
        path: key.to_path_buf(),
        passphrase: None,
    }
}

/// Settings for `targets` as the test fleet's user, trusting `known_hosts`, connections given
/// up after 10 s.
pub(crate) fn settings(
    targets: BTreeMap<String, Target>,
    auth: Auth,
    known_hosts: &Path,
) -> SshSettings {
    let mut s = SshSettings::new(targets, USER, auth, known_hosts);
    s.connect_timeout = Duration::from_secs(10);
    s
}
