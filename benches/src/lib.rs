//! Shared fixtures of the cdt benchmarks: large in-memory fleets.

use cdt_core::model::{Cluster, ClusterKind, Gateway, Inventory, Member, Version};

/// A fleet of `targets` boxes: a fifth in ClusterXL HA pairs, a tenth in VRRP pairs, the rest
/// standalone gateways, on R81.20 with mixed Jumbo takes (so generation gives batches,
/// `Installed` and `N/A` rows).
pub fn fleet(targets: usize) -> Inventory {
    let mut inventory = Inventory::default();
    let address = |i: usize| -> std::net::IpAddr {
        std::net::Ipv4Addr::from(0x0a00_0000u32 + u32::try_from(i).unwrap_or(0)).into()
    };
    let boxed = |i: usize| {
        let mut g = Gateway::new(format!("gw-{i:06}"), address(i), Version::R81_20);
        g.take = Some([41, 53, 89, 92][i % 4]);
        g
    };
    let mut i = 0;
    while i < targets {
        let remaining = targets - i;
        let slot = i % 10;
        if remaining >= 2 && slot <= 2 {
            let kind = if slot == 2 {
                ClusterKind::Vrrp
            } else {
                ClusterKind::ClusterXlHa
            };
            let mut first = boxed(i);
            let mut second = boxed(i + 1);
            second.take = first.take;
            first.name = format!("m-{i:06}");
            second.name = format!("m-{:06}", i + 1);
            inventory.clusters.push(Cluster {
                name: format!("cl-{i:06}"),
                kind,
                members: vec![
                    Member {
                        gateway: first,
                        role: kind.first_wave_role(),
                    },
                    Member {
                        gateway: second,
                        role: kind.last_role(),
                    },
                ],
            });
            i += 2;
        } else {
            inventory.gateways.push(boxed(i));
            i += 1;
        }
    }
    inventory
}

/// A simulated fleet of `targets` boxes: two thirds standalone gateways, one third in
/// ClusterXL HA pairs, all on R81.20 Take 41, with a Management Server, zero latency, and a
/// reply for the plan's `fw stat`.
pub fn sim_fleet(targets: usize) -> cdt_core::sim::FleetFile {
    sim_fleet_clustered(targets, targets / 3 / 2 * 2)
}

/// Like [`sim_fleet`], with `in_clusters` (rounded down to an even number) of the boxes in HA
/// pairs and the others standalone.
pub fn sim_fleet_clustered(targets: usize, in_clusters: usize) -> cdt_core::sim::FleetFile {
    let mut fleet = cdt_core::sim::FleetFile {
        latency: cdt_core::sim::Latency::default().scaled(0.0),
        management: Some(cdt_core::sim::ManagementSpec {
            name: "mgmt".into(),
            address: std::net::Ipv4Addr::new(192, 0, 2, 250).into(),
            policy_package: "Standard".into(),
        }),
        commands: vec![cdt_core::sim::UserCommand {
            command: "fw stat".into(),
            exit: 0,
            stdout: "HOST      POLICY     DATE\nlocalhost Standard  1Dec2026  1:00:00 :  [>eth0] [<eth0]\n".into(),
        }],
        ..Default::default()
    };
    let in_clusters = in_clusters.min(targets) / 2 * 2;
    let standalone: Vec<Gateway> = (0..targets - in_clusters)
        .map(|i| {
            Gateway::new(
                format!("gw-{i:05}"),
                std::net::Ipv4Addr::from(0x0a00_0000u32 + u32::try_from(i).unwrap_or(0)).into(),
                Version::R81_20,
            )
        })
        .collect();
    let mut clusters = Vec::new();
    for i in 0..in_clusters / 2 {
        let member = |j: usize, role| {
            let mut g = Gateway::new(
                format!("m-{i:05}-{j}"),
                std::net::Ipv4Addr::from(0x0b00_0000u32 + u32::try_from(i * 2 + j).unwrap_or(0))
                    .into(),
                Version::R81_20,
            );
            g.take = Some(41);
            Member { gateway: g, role }
        };
        clusters.push(Cluster {
            name: format!("cl-{i:05}"),
            kind: ClusterKind::ClusterXlHa,
            members: vec![
                member(0, cdt_core::model::MemberRole::Active),
                member(1, cdt_core::model::MemberRole::Standby),
            ],
        });
    }
    fleet.gateways = standalone
        .into_iter()
        .map(|mut g| {
            g.take = Some(41);
            g
        })
        .collect();
    fleet.clusters = clusters;
    fleet
}

/// The Jumbo package the engine benchmarks deploy.
pub const JUMBO: &str = "Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T89_FULL.tgz";

/// The ten-action plan of the engine benchmarks (snapshot, command, script, the package sent,
/// imported, verified and installed, a file pushed, a log line, a snapshot), its files in
/// `dir`, which it writes: the package, the script and the file pushed.
pub fn ten_action_plan(dir: &std::path::Path) -> std::io::Result<String> {
    let write = |name: &str, text: &str| -> std::io::Result<std::path::PathBuf> {
        let p = dir.join(name);
        std::fs::write(&p, text)?;
        Ok(p)
    };
    let package = write(JUMBO, "jumbo")?;
    let script = write("pre.sh", "#!/bin/sh\nexit 0\n")?;
    let note = write("note.txt", "deployed by cdt\n")?;
    Ok(format!(
        r#"<CDT_Deployment_Plan><plan_settings><update_cpuse value="false"/></plan_settings>
<create_snapshot name="before"/>
<execute_command command="fw stat"/>
<execute_script path="{script}"/>
<send_package path="{package}"/>
<import_package path="{package}"/>
<verify_package path="{package}"/>
<install_package path="{package}"/>
<push_file local_path="{note}" remote_path="/var/tmp/note.txt"/>
<log level="NORMAL" value="installed"/>
<create_snapshot name="after"/>
</CDT_Deployment_Plan>"#,
        script = script.display(),
        package = package.display(),
        note = note.display(),
    ))
}
