//! The domain model: Gaia versions, CPUSE packages and the inventory of a fleet.

pub mod inventory;
pub mod package;
pub mod version;

pub use inventory::{
    Cluster, ClusterKind, Gateway, Inventory, Member, MemberRole, Platform, Reachability,
};
pub use package::{Package, PackageKind};
pub use version::{InstalledVersion, Version};
