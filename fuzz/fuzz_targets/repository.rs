//! Bytes as a whole repository on disk: files with any names and contents, symlinks (loops,
//! out of the tree, to devices), sockets, configs, ignore files and a `.git`, run through the
//! whole pipeline as a tree scan and as a pre-commit run (see `preflight::fuzzing::check_repo`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    preflight::fuzzing::check_repo(data);
});
