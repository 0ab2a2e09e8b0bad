//! The small simulated fleet the simulator, driver and journal tests share: two standalone
//! gateways (one with a Jumbo, one without), a ClusterXL HA pair, a VRRP pair, a 3-member VSX
//! VSLS cluster with three Virtual Systems, and a Management Server; all on R81.20.

/// The fleet file; append `[[faults]]` and other tables to it.
pub const SMALL_FLEET: &str = r#"
start = "2026-12-01T01:00:00Z"

[management]
name = "mgmt"
address = "192.0.2.250"

[virtual_systems]
vs = 3

[[gateways]]
name = "gw-1"
address = "192.0.2.1"
version = "R81.20"
take = 41

[[gateways]]
name = "gw-2"
address = "192.0.2.2"
version = "R81.20"

[[clusters]]
name = "ha"
kind = "clusterxl_ha"
[[clusters.members]]
name = "ha-a"
address = "198.51.100.1"
version = "R81.20"
take = 41
role = "Active"
[[clusters.members]]
name = "ha-b"
address = "198.51.100.2"
version = "R81.20"
take = 41
role = "Standby"

[[clusters]]
name = "vr"
kind = "vrrp"
[[clusters.members]]
name = "vr-a"
address = "198.51.100.11"
version = "R81.20"
take = 41
role = "Master"
[[clusters.members]]
name = "vr-b"
address = "198.51.100.12"
version = "R81.20"
take = 41
role = "Backup"

[[clusters]]
name = "vs"
kind = "vsx_vsls"
[[clusters.members]]
name = "vs-1"
address = "198.51.100.21"
version = "R81.20"
take = 41
role = "VSLS member"
[[clusters.members]]
name = "vs-2"
address = "198.51.100.22"
version = "R81.20"
take = 41
role = "VSLS member"
[[clusters.members]]
name = "vs-3"
address = "198.51.100.23"
version = "R81.20"
take = 41
role = "VSLS active member"
"#;

/// Every gateway and member of [`SMALL_FLEET`].
pub const SMALL_FLEET_HOSTS: [&str; 9] = [
    "gw-1", "gw-2", "ha-a", "ha-b", "vr-a", "vr-b", "vs-1", "vs-2", "vs-3",
];

/// Runs `command` on `host` of `sim` now, waits for its reply, and returns its standard output
/// (exit 0 expected).
pub fn run_ok(sim: &mut cdt_core::sim::Sim, host: &str, command: &str) -> String {
    let at = sim.now();
    let r = sim.exec(host, command, at).unwrap();
    assert_eq!(
        r.kind,
        cdt_core::sim::ReplyKind::Exited(0),
        "{command}: {}{}",
        r.stdout,
        r.stderr
    );
    sim.advance(at + r.duration);
    r.stdout
}
