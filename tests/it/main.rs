//! fhirterm's integration tests: one binary that drives the whole app in-process.
//!
//! Each test that touches storage runs on SQLite and, when `TEST_DATABASE_URL` is set, on
//! PostgreSQL too (`.ci/run` sets it; an unreachable database is then a failure, not a skip).

mod support;
mod synthetic;

mod auth;
mod billing;
mod builtin;
mod console;
mod date_of_service;
mod ecl;
mod errors;
mod fuzz_smoke;
mod grammar;
mod hardening;
mod loaded;
mod operating;
mod operations;
mod real_data;
mod replicas;
mod rest;
mod rest_promises;
mod saved_index;
mod terminology_rules;
mod text_filter;
mod upload;
