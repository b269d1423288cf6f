//! The sockwarden binary: parse arguments, run, map the result to an exit status.

use sockwarden::app::{self, ExitStatus};
use sockwarden::cli::Cli;

/// The static musl build allocates through mimalloc: with musl's own malloc it was markedly slower
/// than the glibc build (docs/PERFORMANCE.md). The glibc build keeps glibc's allocator.
/// The static musl build copies memory through crates/fastcopy, not musl's slow `memcpy` (that
/// crate's docs say why); naming the crate links it, and its exported symbols win the static link.
#[cfg(target_env = "musl")]
use fastcopy as _;

#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc for memory, not only speed: arenas are not committed up front and freed pages go back
/// to the kernel at once (`mi_option_arena_eager_commit` 0, `mi_option_purge_delay` 0). With its
/// defaults the static build peaked at 155-180 MB at 100k sockets, twice glibc's 82 MB and above
/// the 1 KiB-per-socket target; tuned, 87 MB (docs/PERFORMANCE.md). The indices are those of
/// `enum mi_option_e` in the mimalloc v3 header libmimalloc-sys 0.1.49 builds (it exports no
/// constant for either), and `tune_allocator` checks that each value took.
#[cfg(target_env = "musl")]
#[allow(unsafe_code)]
fn tune_allocator() {
    const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    for (option, wanted) in [(ARENA_EAGER_COMMIT, 0), (PURGE_DELAY, 0)] {
        // SAFETY: needed because mi_option_set/get are C functions (FFI); they take and return
        // plain integers, touch only mimalloc's own option table, have no preconditions and may
        // be called at any time (mimalloc reads an option each time it uses it).
        let value = unsafe {
            libmimalloc_sys::mi_option_set(option, wanted);
            libmimalloc_sys::mi_option_get(option)
        };
        debug_assert_eq!(value, wanted, "mimalloc option {option} did not take");
    }
}

fn main() {
    #[cfg(target_env = "musl")]
    tune_allocator();
    let cli = Cli::parse_args(std::env::args_os());
    let status = match app::run(cli) {
        Ok(status) => status,
        Err(e) => {
            eprintln!("sockwarden: error: {e:#}");
            ExitStatus::Error
        }
    };
    std::process::exit(status.code());
}
