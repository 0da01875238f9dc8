#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc options (the same indices in its v2 and v3).
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
const MI_OPTION_ALLOW_LARGE_OS_PAGES: libmimalloc_sys::mi_option_t = 6;

/// Commit arena memory as it is touched, in 4 KiB pages: eager commit with transparent huge
/// pages had the kernel zero 2 MiB at a time, ~9% of a run's CPU, and 25 MB more peak RSS. Set
/// from a constructor, before the first allocation reserves the first arena.
extern "C" fn mimalloc_options() {
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0);
        libmimalloc_sys::mi_option_set(MI_OPTION_ALLOW_LARGE_OS_PAGES, 0);
    }
}

#[used]
#[cfg_attr(target_os = "linux", link_section = ".init_array")]
static MIMALLOC_OPTIONS: extern "C" fn() = mimalloc_options;

fn main() {
    // Tree-sitter's own allocations (parse stacks, subtrees) go to the same allocator. Nothing
    // has touched tree-sitter yet, as `set_allocator` requires.
    unsafe {
        tree_sitter::set_allocator(
            Some(libmimalloc_sys::mi_malloc),
            Some(libmimalloc_sys::mi_calloc),
            Some(libmimalloc_sys::mi_realloc),
            Some(libmimalloc_sys::mi_free),
        );
    }
    std::process::exit(preflight::cli::main());
}
