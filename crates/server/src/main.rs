//! The `fhirterm` binary: parses the command line and runs it; errors print as one line.

use clap::Parser;

fn main() {
    let cli = server::cli::Cli::parse();
    if let Err(error) = server::cli::run(cli) {
        eprintln!("fhirterm: error: {error:#}");
        std::process::exit(1);
    }
}
