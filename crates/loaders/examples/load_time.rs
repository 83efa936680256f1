//! Times one loader on a release and prints what it gave: `cargo run --release -p loaders
//! --example load_time -- loinc PATH` (no database: the parse alone, as `fhirterm load` does
//! before it stores anything).

use std::path::PathBuf;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut arguments = std::env::args().skip(1);
    let (Some(format_name), Some(path)) = (arguments.next(), arguments.next()) else {
        return Err("usage: load_time FORMAT PATH (FORMAT as `fhirterm load` names it: loinc, snomed, …)".into());
    };
    let format = loaders::Format::parse(&format_name).ok_or_else(|| format!("unknown format {format_name}"))?;
    let started = Instant::now();
    let source = loaders::open_paths(&[PathBuf::from(&path)])?;
    let loaded = loaders::load(format, source.as_ref(), &loaders::LoadOptions::default())?;
    let elapsed = started.elapsed();
    for code_system in &loaded.code_systems {
        let n_properties: usize = code_system.concepts.iter().map(|concept| concept.properties.len()).sum();
        let n_designations: usize = code_system.concepts.iter().map(|concept| concept.designations.len()).sum();
        println!(
            "{}|{}: {} concepts, {} properties, {} designations",
            code_system.url,
            code_system.version.as_deref().unwrap_or("-"),
            code_system.concepts.len(),
            n_properties,
            n_designations
        );
    }
    println!("{} diagnostics; loaded in {:.2} s", loaded.diagnostics.len(), elapsed.as_secs_f64());
    Ok(())
}
