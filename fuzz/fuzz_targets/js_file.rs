//! Arbitrary bytes as a JS/JSX/TS/TSX file, production and test. The first byte picks the name.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    preflight::fuzzing::check(preflight::fuzzing::JS_NAMES, data);
});
