//! Integration tests for fhirterm live in `it/`; this library is empty.
