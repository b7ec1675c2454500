//! The server's integration tests, one binary (one link step) with a module per subject.
//! `support` holds the one harness they share (test clock, announcers, server on a free
//! port, the API client, the fixture photos); `browser` drives headless Chromium.

mod browser;
mod support;

mod airport_story;
mod api;
mod audit;
mod checkins;
mod console;
mod console_cases;
mod console_exports;
mod console_follow_up;
mod console_imports;
mod console_orders;
mod console_overview;
mod console_what_if;
mod delivery_lease;
mod districts;
mod exports;
mod follow_up;
mod hardening;
mod login;
mod matrix;
mod my_data;
mod notify;
mod orders;
mod pages;
mod self_enrolment;
mod symptoms;
mod transport_keys;
