//! Helpers shared by the integration tests: the fixture folder and small fleets.
#![allow(dead_code, unreachable_pub)]

pub mod drive;
pub mod fleets;

use std::path::PathBuf;

use cdt_core::model::{Cluster, ClusterKind, Gateway, Member, MemberRole, Version};

/// The workspace's shared fixture folder.
pub fn fixtures() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures"))
}

/// A reachable gateway at `192.0.2.<n>` running `version` with Jumbo `take`.
pub fn gateway(name: &str, n: u8, version: Version, take: Option<u32>) -> Gateway {
    let mut g = Gateway::new(name, format!("192.0.2.{n}").parse().unwrap(), version);
    g.take = take;
    g
}

/// A cluster of `kind` whose members all run `version`/`take`; the last member holds the
/// kind's last role, the others its first-wave role.
pub fn cluster(
    name: &str,
    kind: ClusterKind,
    members: usize,
    first_address: u8,
    version: Version,
    take: Option<u32>,
) -> Cluster {
    Cluster {
        name: name.to_string(),
        kind,
        members: (0..members)
            .map(|i| Member {
                gateway: gateway(
                    &format!("{name}-m{i}"),
                    first_address + i as u8,
                    version,
                    take,
                ),
                role: if i + 1 == members {
                    kind.last_role()
                } else {
                    kind.first_wave_role()
                },
            })
            .collect(),
    }
}

/// Reads a fixture's tab-separated EXPECTED table, skipping `#` comments and blank lines.
pub fn expected_table(dir: &std::path::Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(dir.join("EXPECTED.tsv"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

/// The role a member of `kind` has at position `i` of `n`.
pub fn role_at(kind: ClusterKind, i: usize, n: usize) -> MemberRole {
    if i + 1 == n {
        kind.last_role()
    } else {
        kind.first_wave_role()
    }
}
