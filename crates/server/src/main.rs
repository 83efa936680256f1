//! The `fhirterm` binary: parses the command line and runs it; errors print as one line.

use clap::Parser;

/// jemalloc instead of glibc's allocator: a release load allocates and frees a few hundred MB on
/// a blocking-pool thread, and glibc keeps such memory in per-thread arenas, so resident memory
/// climbed with every upload and did not come back (8 HCPCS uploads: 179 MB to 409 MB; a soak
/// settled at 1.2 GB). jemalloc hands freed memory back within seconds (10 uploads, then 168 MB
/// at rest); mimalloc held on to it (268 to 412 MB).
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    let cli = server::cli::Cli::parse();
    if let Err(error) = server::cli::run(cli) {
        eprintln!("fhirterm: error: {error:#}");
        std::process::exit(1);
    }
}
