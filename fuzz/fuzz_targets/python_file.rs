//! Arbitrary bytes as a Python file in each role the classifier knows: module, settings
//! (production and dev), migration, models, test. The first byte picks the role.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    preflight::fuzzing::check(preflight::fuzzing::PYTHON_NAMES, data);
});
