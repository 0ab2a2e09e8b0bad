//! CDT's own files: the primary configuration XML, the deployment plan XML and the candidates
//! list CSV, each parsed into typed values with located errors and written back.

pub mod candidates_csv;
pub mod config;
pub mod plan;
mod xml;
