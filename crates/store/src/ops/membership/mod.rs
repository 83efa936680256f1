//! Value set membership, the one place both `$expand` and `$validate-code` (and `$compare`) learn
//! what a value set holds: compose includes and excludes, imports, filters and version choice.
//!
//! # Brief overview
//! - `requested` finds the value set a call is about and checks it before any work.
//! - `compose` lists its members ([`crate::index::Expansion`]), through the snapshot's cache when
//!   the call may share it; `contains` answers whether one concept is a member without listing.
//! - `filter` compiles code system filters once per call; `walk` follows imports once per value
//!   set per call, refusing cycles and chains past [`crate::MAX_IMPORT_DEPTH`].
//! - `definition` reads what a value set says about itself (canonical, expansion parameters).
//! - [`RequestScope`] is the rule a call's `activeOnly` and date of service set on every member,
//!   whichever path listed it.
//!
//! The operations import from here and never from each other.

mod compose;
mod contains;
mod definition;
mod filter;
mod requested;
mod walk;

pub(crate) use compose::{cached_compute, compute, include_code_system};
pub(crate) use contains::{include_for_coding, requested_value_set_contains};
pub(crate) use definition::{list_versions, value_set_canonical, value_set_parameter};
pub(crate) use requested::{requested_value_set, value_set_not_found};
pub(crate) use walk::ImportWalk;

use crate::index::{CodeSystemIndex, Member};

/// What a call's `activeOnly` and date of service (`date`) leave of a value set: inactive codes
/// go when `activeOnly` is set, and on a date only the codes in force that day stay. Both the
/// indexed text search and the general listing apply this one rule.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RequestScope<'a> {
    pub(crate) active_only: bool,
    pub(crate) date: Option<&'a str>,
}

impl RequestScope<'_> {
    /// Whether a concept of a code system index stays.
    pub(crate) fn admits_concept(&self, code_system: &CodeSystemIndex, concept_idx: u32) -> bool {
        !(self.active_only && code_system.flags[concept_idx as usize].inactive) && self.in_force(code_system, concept_idx)
    }

    /// Whether a listed member stays; a member no code system index backs has no dates to check.
    pub(crate) fn admits(&self, member: &Member) -> bool {
        !(self.active_only && member.inactive)
            && member.code_system.as_ref().zip(member.concept_idx).is_none_or(|(code_system, idx)| self.in_force(code_system, idx))
    }

    fn in_force(&self, code_system: &CodeSystemIndex, concept_idx: u32) -> bool {
        self.date.is_none_or(|day| code_system.in_force_on(concept_idx, day).is_ok())
    }
}
