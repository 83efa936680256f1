//! The `fhirterm` binary: parses the command line and runs it; errors print as one line.

use clap::Parser;

/// jemalloc instead of glibc's allocator: a release load allocates and frees a few hundred MB on
/// a blocking-pool thread, and glibc keeps such memory in per-thread arenas, so resident memory
/// climbed with every upload and did not come back (8 HCPCS uploads: 179 MB to 409 MB; a soak
/// settled at 1.2 GB). jemalloc hands freed memory back within seconds (10 uploads, then 168 MB
/// at rest); mimalloc held on to it (268 to 412 MB).
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read at its start: a background thread returns freed pages after a
/// second, rather than waiting for later allocations (between bursts of whole expansions, memory
/// otherwise stayed high), and one arena: a whole expansion's transient memory (about 100 MB of
/// JSON for ICD-10-CM) is freed on whichever worker thread ran it, and with an arena per thread
/// each kept its own freed pages. `bench/run` on 2 cores: resident memory over 20 whole
/// ICD-10-CM expansions +5 MB instead of +135 MB, peak 500 MB instead of 800 MB, with the
/// operation rows' ratios within the run-to-run spread. On many cores, give more arenas with
/// `_RJEM_MALLOC_CONF=narenas:N` (the environment overrides this). The symbol is prefixed
/// `_rjem_` because tikv-jemallocator prefixes jemalloc's API on Linux.
#[allow(non_upper_case_globals)]
#[export_name = "_rjem_malloc_conf"]
pub static malloc_conf: &[u8] = b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:1000,narenas:1\0";

fn main() {
    let cli = server::cli::Cli::parse();
    if let Err(error) = server::cli::run(cli) {
        eprintln!("fhirterm: error: {error:#}");
        std::process::exit(1);
    }
}
