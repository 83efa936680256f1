//! One operation call as the store receives it: its parameters and the limits and refusals that
//! come with the caller (size guard, deadline, denied code systems).

use model::fhir::Parameters;

/// The default size guard for `$expand`: larger unbounded expansions answer `too-costly`.
pub const TOO_COSTLY_DEFAULT: usize = 10_000;

/// How deeply value sets may import value sets: deeper chains answer `too-costly`.
pub const MAX_IMPORT_DEPTH: usize = 64;

/// A code system this caller may not use (licensed content without the scope), and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeniedSystem {
    /// The system's canonical URL (its OID alias is denied with it).
    pub url: String,
    /// What the caller is told, for example the scope that would unlock it.
    pub message: String,
}

/// One operation call.
#[derive(Clone, Debug, Default)]
pub struct OpRequest {
    pub params: Parameters,
    /// The resource id for instance-level calls (`/ValueSet/{id}/$expand`).
    pub instance_id: Option<String>,
    /// The HTTP `Accept-Language` header, when sent.
    pub accept_language: Option<String>,
    /// The expansion size guard for this call.
    pub too_costly_threshold: Option<usize>,
    /// The code systems this call may not touch, however it reaches them: directly, by OID,
    /// through implicit, stored, inline or imported value sets, `tx-resource`, or a ConceptMap.
    pub denied_systems: Vec<DeniedSystem>,
    /// When the call must give up and answer `too-costly`.
    pub deadline: Option<std::time::Instant>,
}
