//! The walk through a value set's imports during one call: the path (for cycles and the depth
//! limit) and the per-call memos, so that a value set imported along many paths is worked out once.

use crate::index::Expansion;
use crate::ops::context::Context;
use crate::{StoreError, StoreErrorKind, MAX_IMPORT_DEPTH};
use model::fhir::Issue;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// The value sets one call is inside of while it follows imports: the path (for cycles and the
/// depth limit) and what each import already gave, so that a value set imported along many paths
/// (a diamond) is worked out once per call.
#[derive(Default)]
pub(crate) struct ImportWalk {
    path: Vec<String>,
    pub(super) expansions: HashMap<String, Arc<Expansion>>,
    /// Value sets whose imports were already checked for cycles.
    pub(super) cycle_checked: HashSet<String>,
    /// Membership answers, by value set canonical, code system canonical and concept.
    pub(crate) memberships: HashMap<(String, String, u32), bool>,
}

impl ImportWalk {
    /// Steps into a value set: a cycle is `vs-invalid`, nesting past [`MAX_IMPORT_DEPTH`]
    /// and a call past its deadline are `too-costly`.
    pub(crate) fn enter(&mut self, context: &Context<'_>, canonical: String) -> Result<(), StoreError> {
        if self.path.contains(&canonical) {
            let message =
                format!("Found a circularity pointing to {canonical} processing ValueSet with pathway [{}]", self.path.join(", "));
            return Err(StoreError::with_issue(
                StoreErrorKind::Unprocessable,
                Issue::error("processing", message).tx("vs-invalid").message_id("VALUESET_CIRCULAR_REFERENCE"),
            ));
        }
        if self.path.len() >= MAX_IMPORT_DEPTH {
            let message = format!(
                "Value sets import value sets more than {} levels deep (at {canonical}); this server does not follow chains that long",
                MAX_IMPORT_DEPTH
            );
            return Err(StoreError::with_issue(StoreErrorKind::TooCostly, Issue::error("too-costly", message)));
        }
        context.check_budget()?;
        self.path.push(canonical);
        Ok(())
    }

    pub(crate) fn leave(&mut self) {
        self.path.pop();
    }
}
