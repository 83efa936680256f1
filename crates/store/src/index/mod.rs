//! The in-memory indexes the operations are answered from: derived from the rows, rebuilt at will,
//! and published as one immutable [`Registry`] snapshot that readers share through an `Arc`.

mod adjacency;
mod code_lookup;
mod code_system;
pub(crate) mod ecl_index;
mod expansion;
mod grammar_binding;
mod registry;
pub mod text;

pub use adjacency::Adjacency;
pub use code_system::{CodeSystemIndex, ConceptFlags, NotInForce};
pub use expansion::{member_of, Expansion, Member, VersionedKey};
pub use grammar_binding::{GrammarBinding, GrammarCodeSystem, NotACode, Resolved};
pub use registry::{compare_versions, expansion_cache_counts, version_matches, CachedExpansion, ConceptMapEntry, Registry, ValueSetEntry};
