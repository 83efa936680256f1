//! The fuzz targets, shared by `cargo +nightly fuzz` (`fuzz/`) and the stable smoke run in
//! `tests/it/fuzz_smoke.rs`, so that both exercise exactly the same code. Integration tests
//! themselves live in `it/`.
//!
//! Each target takes arbitrary bytes and must never panic, overflow the stack or hang: every
//! failure is an ordinary error value.

pub mod fuzz_targets;
