//! Turns official terminology release files into `model` values.
//!
//! # Brief overview
//! - A [`Source`] names the files of one release, whether they sit in a folder, a zip or (in tests)
//!   in memory, and opens them for streaming reads.
//! - Each format module (`fhir`, …) reads a `Source` and returns [`Loaded`]: code systems, value
//!   sets and concept maps as `model` values, plus [`Diagnostic`]s for rows it had to skip.
//! - [`load`] dispatches on a [`Format`], and [`detect`] guesses the format from file names.
//!
//! # Design decisions
//! A malformed row is a [`Diagnostic`] with its file, line and value, and the load goes on; a file
//! that is wrong as a whole (missing, unreadable, not the format it claims) is a [`LoadError`].
//!
//! # What this crate does not do
//! It never touches the database, never depends on `store` and never opens a socket. Fetching a
//! package from a registry is the caller's job.
//!
//! Tests live in each format module and use tiny fixtures in the official layout.

pub mod builtin;
pub mod cpt;
pub mod csv_codes;
pub mod fhir;
pub mod hcpcs;
pub mod icd10cm;
pub mod icd10pcs;
pub mod loinc;
pub mod ndc;
pub mod rxnorm_rrf;
pub mod sniff;
pub mod snomed_rf2;
mod source;
mod text;

pub use source::{CountingSource, DirSource, MemorySource, Source, ZipSource};

use model::terminology::CodeSystem;
use model::Json;
use std::fmt;
use std::path::{Path, PathBuf};

/// The release formats fhirterm reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Fhir,
    Icd10cm,
    Icd10pcs,
    Hcpcs,
    Cpt,
    Ndc,
    Csv,
    Snomed,
    Loinc,
    Rxnorm,
}

impl Format {
    pub const NAMES: &'static [&'static str] = &["fhir", "icd10cm", "icd10pcs", "hcpcs", "cpt", "ndc", "csv", "snomed", "loinc", "rxnorm"];

    pub fn parse(name: &str) -> Option<Format> {
        match name {
            "fhir" => Some(Format::Fhir),
            "icd10cm" => Some(Format::Icd10cm),
            "icd10pcs" => Some(Format::Icd10pcs),
            "hcpcs" => Some(Format::Hcpcs),
            "cpt" => Some(Format::Cpt),
            "ndc" => Some(Format::Ndc),
            "csv" => Some(Format::Csv),
            "snomed" => Some(Format::Snomed),
            "loinc" => Some(Format::Loinc),
            "rxnorm" => Some(Format::Rxnorm),
            _ => None,
        }
    }
}

/// A row the loader skipped or repaired, with where it is and what it held.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub path: String,
    pub line: Option<u64>,
    pub value: String,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {} ({:?})", self.path, line, self.message, self.value),
            None => write!(f, "{}: {} ({:?})", self.path, self.message, self.value),
        }
    }
}

/// A release that cannot be loaded at all, with the file, line and value at fault.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadError {
    pub path: String,
    pub line: Option<u64>,
    pub value: Option<String>,
    pub message: String,
}

impl LoadError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> LoadError {
        LoadError { path: path.into(), line: None, value: None, message: message.into() }
    }

    pub fn at_line(mut self, line: u64) -> LoadError {
        self.line = Some(line);
        self
    }

    pub fn with_value(mut self, value: impl Into<String>) -> LoadError {
        self.value = Some(value.into());
        self
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(value) = &self.value {
            write!(f, " ({value:?})")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadError {}

/// What one release yields.
#[derive(Debug, Default)]
pub struct Loaded {
    pub code_systems: Vec<CodeSystem>,
    /// ValueSet and ConceptMap resources, as FHIR JSON.
    pub resources: Vec<Json>,
    pub diagnostics: Vec<Diagnostic>,
    /// Packages this release depends on (`name@version`), as its manifest lists them.
    pub dependencies: Vec<String>,
    /// A practice's billing list (the `csv` format): rows the store checks against the loaded
    /// releases before they become value sets and code systems.
    pub billing: Option<model::terminology::billing::BillingSheet>,
}

/// Options shared by every loader.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Overrides the version the release names itself.
    pub version: Option<String>,
}

/// Opens the given paths (folders, zips, tarballs or single files) as one [`Source`].
pub fn open_paths(paths: &[PathBuf]) -> Result<Box<dyn Source>, LoadError> {
    source::open_paths(paths)
}

/// Guesses the format of a release from its file names.
pub fn detect(source: &dyn Source) -> Result<Format, LoadError> {
    let names = source.names();
    if names.iter().any(|name| icd10cm::is_tabular_file(name) || icd10cm::is_order_file(name)) {
        return Ok(Format::Icd10cm);
    }
    if names.iter().any(|name| icd10pcs::is_order_file(name) || icd10pcs::is_tables_file(name)) {
        return Ok(Format::Icd10pcs);
    }
    if names.iter().any(|name| hcpcs::is_contractor_file(name) || hcpcs::is_hcpcs_zip(name)) {
        return Ok(Format::Hcpcs);
    }
    // The clinical releases come before the billing CSV, which opens every `.csv` to look.
    if names.iter().any(|name| snomed_rf2::is_concept_snapshot_file(name)) {
        return Ok(Format::Snomed);
    }
    if names.iter().any(|name| loinc::is_loinc_table(name)) {
        return Ok(Format::Loinc);
    }
    if names.iter().any(|name| rxnorm_rrf::is_rxnconso(name)) {
        return Ok(Format::Rxnorm);
    }
    if names.iter().any(|name| cpt::is_cpt_file(name)) {
        return Ok(Format::Cpt);
    }
    if names.iter().any(|name| ndc::is_ndc_file(name)) {
        return Ok(Format::Ndc);
    }
    // An official file renamed (`x.xml`, `codes.txt`) is still known by its content.
    for name in &names {
        match sniff::kind_of(source, name) {
            Some(sniff::FileKind::Icd10cmTabular | sniff::FileKind::Icd10cmOrder) => return Ok(Format::Icd10cm),
            Some(sniff::FileKind::Icd10pcsTables | sniff::FileKind::Icd10pcsOrder | sniff::FileKind::Icd10pcsCodeList) => {
                return Ok(Format::Icd10pcs)
            }
            Some(sniff::FileKind::HcpcsContractor) => return Ok(Format::Hcpcs),
            None => {}
        }
    }
    if names.iter().any(|name| csv_codes::is_billing_csv(source, name)) {
        return Ok(Format::Csv);
    }
    if names.iter().any(|name| name.ends_with(".json") || name.ends_with(".xml") || name.ends_with(".tgz")) {
        return Ok(Format::Fhir);
    }
    Err(LoadError::new(names.first().cloned().unwrap_or_default(), "cannot tell the format of these files; name it explicitly"))
}

/// Loads a release in the given format.
pub fn load(format: Format, source: &dyn Source, options: &LoadOptions) -> Result<Loaded, LoadError> {
    match format {
        Format::Fhir => fhir::load(source, options),
        Format::Icd10cm => icd10cm::load(source, options),
        Format::Icd10pcs => icd10pcs::load(source, options),
        Format::Hcpcs => hcpcs::load(source, options),
        Format::Cpt => cpt::load(source, options),
        Format::Ndc => ndc::load(source, options),
        Format::Csv => csv_codes::load(source, options),
        Format::Snomed => snomed_rf2::load(source, options),
        Format::Loinc => loinc::load(source, options),
        Format::Rxnorm => rxnorm_rrf::load(source, options),
    }
}

/// The file name part of a path, for messages.
pub(crate) fn file_name(path: &Path) -> String {
    path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}
