//! libFuzzer entry for the `ecl` target; the body is `tests::fuzz_targets::ecl`, which the stable smoke run shares.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tests::fuzz_targets::ecl(data));
