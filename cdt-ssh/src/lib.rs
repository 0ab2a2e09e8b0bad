//! # cdt-ssh (not yet implemented)
//!
//! This crate will hold the SSH implementation of `cdt-core`'s transport traits
//! (`Connector`, `Session`, `Management`), built on russh and russh-sftp: key, agent, password
//! and keyboard-interactive authentication with secrets that are never formatted; Expert (bash)
//! and clish login shells; strict OpenSSH `known_hosts` checking; SFTP or streamed copies; and a
//! connector relayed through the Management Server with `cprid_util`, plus `mgmt_cli` management.
//!
//! Those traits come with the deployment engine, which is not built yet, so this crate exports
//! nothing today. It exists so the workspace has its final shape.
