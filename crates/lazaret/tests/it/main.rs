//! The `lazaret` binary end to end, one test binary (one link step) with a module per
//! subject; `support` holds what they share.

mod support;

mod audit;
mod cli;
mod crash;
mod serve_worker;
mod simulated_day;
mod start_checks;
mod users;
