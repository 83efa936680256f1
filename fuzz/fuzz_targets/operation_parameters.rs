//! libFuzzer entry for the `operation_parameters` target; the body is `tests::fuzz_targets::operation_parameters`, which the stable smoke run shares.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tests::fuzz_targets::operation_parameters(data));
