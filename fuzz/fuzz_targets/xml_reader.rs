//! libFuzzer entry for the `xml_reader` target; the body is `tests::fuzz_targets::xml_reader`, which the stable smoke run shares.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tests::fuzz_targets::xml_reader(data));
