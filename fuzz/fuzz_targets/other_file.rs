//! Arbitrary bytes as the other text kinds: dotenv files, templates, config and plain text.
//! The first byte picks the name.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    preflight::fuzzing::check(preflight::fuzzing::OTHER_NAMES, data);
});
