//! One module per command group; `main.rs` only parses and dispatches.

pub mod audit;
pub mod bench_lists;
pub mod bench_load;
pub mod chains;
mod csv_report;
pub mod demo;
pub mod demo_scenario;
pub mod face;
pub mod import;
pub mod keys;
pub mod orders;
pub mod serve;
pub mod sim;
pub mod sim_outbreak;
pub mod tests_cmd;
pub mod token;
pub mod trace;
pub mod users;
