//! libFuzzer entry for the `json_reader` target; the body is `tests::fuzz_targets::json_reader`, which the stable smoke run shares.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tests::fuzz_targets::json_reader(data));
