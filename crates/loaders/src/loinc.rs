//! LOINC (placeholder).
use crate::{LoadError, LoadOptions, Loaded, Source};
pub fn is_loinc_table(_name: &str) -> bool {
    false
}
pub fn load(_source: &dyn Source, _options: &LoadOptions) -> Result<Loaded, LoadError> {
    Err(LoadError::new("", "not yet"))
}
