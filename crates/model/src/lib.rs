//! The vocabulary every other fhirterm crate speaks: FHIR R4 resources on the wire and the terminology model behind them.
//!
//! # Brief overview
//! - [`fhir`] holds FHIR JSON as `serde_json::Value` plus the helpers that build and read
//!   `Parameters`, `OperationOutcome` and `Bundle`, and the XML <-> JSON conversion (fhirbolt's
//!   element model, so every element name and cardinality rule comes from the FHIR R4 definitions).
//! - [`terminology`] holds the typed views a terminology server reasons about: [`terminology::CodeSystem`]
//!   with its flattened concepts, [`terminology::ValueSet`] with its compose, [`terminology::ConceptMap`].
//! - [`uris`] knows the canonical URIs and OIDs of the well-known code systems.
//!
//! # Design decisions
//! Resources are kept as JSON values, not fully typed structs, so that whatever a client sends
//! (extensions, R5 elements carried in R4, unknown elements in lax mode) is stored and read back
//! unchanged. Only the parts the engine reasons about are typed, and parsed once.
//!
//! # What this crate does not do
//! No I/O of any kind: no files, no sockets, no database. Callers hand it strings and values.
//!
//! Tests live next to each module (`#[cfg(test)]`) and, end to end, in `tests/it`.

pub mod ecl;
pub mod fhir;
pub mod name;
pub mod terminology;
pub mod uris;

pub use compact_str::CompactString;
pub use fhir::Json;
pub use name::Name;
