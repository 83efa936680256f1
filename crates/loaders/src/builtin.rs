//! The terminology the FHIR R4 specification defines itself (administrative-gender,
//! publication-status, …), compiled into the binary so every server knows it without a load.
//!
//! The file is an extract of the hl7.fhir.r4.examples 4.0.1 package made by
//! `scripts/extract-fhir-core`: complete CodeSystems and all ValueSets under `http://hl7.org/fhir/`.

use crate::{LoadError, LoadOptions, Loaded, MemorySource};
use std::io::Read;

/// Where the compiled-in content came from, for logs and the README.
pub const FHIR_R4_CORE_SOURCE: &str = "hl7.fhir.r4.examples#4.0.1 (crates/loaders/builtin/fhir-r4-core-terminology.json.gz)";

const FHIR_R4_CORE: &[u8] = include_bytes!("../builtin/fhir-r4-core-terminology.json.gz");

/// The FHIR R4 core code systems and value sets, read from the compiled-in extract.
pub fn fhir_r4_core() -> Result<Loaded, LoadError> {
    let name = "fhir-r4-core-terminology.json";
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(FHIR_R4_CORE)
        .read_to_end(&mut json)
        .map_err(|error| LoadError::new(format!("{name}.gz"), format!("cannot decompress the compiled-in content: {error}")))?;
    let loaded = crate::fhir::load(&MemorySource::new([(name, json)]), &LoadOptions::default())?;
    if let Some(diagnostic) = loaded.diagnostics.first() {
        return Err(LoadError::new(diagnostic.path.clone(), diagnostic.message.clone()));
    }
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_the_core_code_systems_and_value_sets() {
        let loaded = fhir_r4_core().unwrap();
        assert_eq!(loaded.code_systems.len(), 262);
        assert_eq!(loaded.resources.len(), 672);
        let gender = loaded.code_systems.iter().find(|code_system| code_system.url == "http://hl7.org/fhir/administrative-gender").unwrap();
        assert_eq!(gender.version.as_deref(), Some("4.0.1"));
        let codes: Vec<&str> = gender.concepts.iter().map(|concept| concept.code.as_str()).collect();
        assert_eq!(codes, ["male", "female", "other", "unknown"]);
    }
}
