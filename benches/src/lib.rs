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
