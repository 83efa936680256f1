//! `$expand` answered from one code system's indexes: a whole code system or one is-a branch of
//! it, with or without a text filter, with members built for the page only.

use super::{too_costly, ExpandOptions};
use crate::index::text;
use crate::index::{member_of, CodeSystemIndex, Expansion};
use crate::ops::context::Context;
use crate::ops::membership::{include_code_system, value_set_canonical, ImportWalk};
use crate::StoreError;
use model::terminology::ValueSet;
use std::sync::Arc;

/// An expansion answered from one code system's indexes, with members built for the page only.
pub(super) struct IndexedSearch {
    /// The page's members, and the code system used.
    pub(super) expansion: Expansion,
    /// How many members matched, at every offset.
    pub(super) total: usize,
    /// The code system, when the value set (before any filter) holds at least one of its concepts.
    pub(super) source: Option<Arc<CodeSystemIndex>>,
}

/// The concepts an indexed expansion selects, in code-system order, without copying a branch.
enum Selection {
    /// Every concept of the code system.
    Everything(usize),
    /// A cached is-a branch, less the concept at `skip` (the root of a `descendent-of`).
    Branch {
        members: Arc<Vec<u32>>,
        skip: Option<usize>,
    },
    Listed(Vec<u32>),
}

impl Selection {
    fn len(&self) -> usize {
        match self {
            Selection::Everything(n_concepts) => *n_concepts,
            Selection::Branch { members, skip } => members.len() - usize::from(skip.is_some()),
            Selection::Listed(listed) => listed.len(),
        }
    }

    fn get(&self, position: usize) -> u32 {
        match self {
            Selection::Everything(_) => position as u32,
            Selection::Branch { members, skip } => members[if skip.is_some_and(|skip| position >= skip) { position + 1 } else { position }],
            Selection::Listed(listed) => listed[position],
        }
    }
}

/// From this many text matches on, a branch filter reads the branch's members rather than
/// walking up from each match.
const BRANCH_LOOKUP_FROM: usize = 64;

/// Answers the expansion of a whole code system, or of one `is-a` or `descendent-of` branch of
/// it, with or without a text filter, from the code system's indexes (the cached branch, the word
/// index and the sorted code list) without listing the value set: members are built for the page
/// only. The answer and its order are those of [`compute`] followed by the filters of
/// [`expand_operation`]. `None` when the value set has any other shape; the general path answers it.
pub(super) fn indexed_expansion(
    context: &Context<'_>,
    value_set: &ValueSet,
    options: &ExpandOptions,
) -> Result<Option<IndexedSearch>, StoreError> {
    let Some(compose) = &value_set.compose else { return Ok(None) };
    let [include] = compose.include.as_slice() else { return Ok(None) };
    let Some(system) = &include.system else { return Ok(None) };
    if !compose.exclude.is_empty() || compose.inactive == Some(false) || !include.concepts.is_empty() || !include.value_sets.is_empty() {
        return Ok(None);
    }
    let branch_filter = match include.filters.as_slice() {
        [] => None,
        [branch_filter]
            if matches!(branch_filter.property.as_str(), "concept" | "code")
                && matches!(branch_filter.op.as_str(), "is-a" | "descendent-of") =>
        {
            Some(branch_filter)
        }
        _ => return Ok(None),
    };
    let mut walk = ImportWalk::default();
    walk.enter(context, value_set_canonical(value_set))?;
    walk.leave();
    let code_system = include_code_system(context, system, include.version.as_deref(), value_set)?;
    // A grammar lists only common codes, and a code listed twice is one member: both stay general.
    if code_system.grammar.is_some() || !code_system.has_unique_codes() {
        return Ok(None);
    }
    // The branch's root, and whether the root itself is left out (`descendent-of`).
    let branch = match branch_filter {
        None => None,
        Some(branch_filter) => match code_system.find_lenient(&branch_filter.value) {
            Some((root, _)) => Some((root, branch_filter.op == "descendent-of")),
            None => return Ok(None),
        },
    };
    let holds_any = match branch {
        None => !code_system.is_empty(),
        Some((root, strict)) => !strict || !code_system.children[root as usize].is_empty(),
    };
    let scope = options.scope(context);
    let selection = match &options.filter {
        Some(filter) => {
            let candidates = text::union(&code_system.text_search(filter), &code_system.codes_starting_with(&filter.to_lowercase()));
            // Many matches are checked against the (cached) branch, a few by walking up from each.
            let branch_members = branch.filter(|_| candidates.len() > BRANCH_LOOKUP_FROM).map(|(root, _)| code_system.branch(root));
            Selection::Listed(
                candidates
                    .into_iter()
                    .filter(|idx| match branch {
                        None => true,
                        Some((root, strict)) => {
                            !(strict && root == *idx)
                                && match &branch_members {
                                    Some(members) => members.binary_search(idx).is_ok(),
                                    None => code_system.subsumes(root, *idx),
                                }
                        }
                    })
                    .filter(|idx| scope.admits_concept(&code_system, *idx))
                    .collect(),
            )
        }
        None => {
            let unscoped = match branch {
                None => Selection::Everything(code_system.len()),
                Some((root, strict)) => {
                    let members = code_system.branch(root);
                    let skip = strict.then(|| members.partition_point(|idx| *idx < root));
                    Selection::Branch { members, skip }
                }
            };
            if scope.active_only || scope.date.is_some() {
                let admitted = (0..unscoped.len()).map(|position| unscoped.get(position));
                Selection::Listed(admitted.filter(|idx| scope.admits_concept(&code_system, *idx)).collect())
            } else {
                unscoped
            }
        }
    };
    let total = selection.len();
    too_costly(context, value_set, options.count, total)?;
    let page_end = match options.count {
        Some(count) => options.offset.saturating_add(count).min(total),
        None => total,
    };
    let expansion = Expansion {
        members: (options.offset.min(page_end)..page_end).map(|position| member_of(&code_system, selection.get(position))).collect(),
        used_code_systems: vec![code_system.canonical()],
        ..Expansion::default()
    };
    Ok(Some(IndexedSearch { expansion, total, source: holds_any.then_some(code_system) }))
}
