//! What a new release of a code system changes against the version served now.
//!
//! [`diff_code_systems`] compares two versions concept by concept:
//! - added: codes new in the release (active there);
//! - retired: codes active before that are absent from the release or inactive in it;
//! - reactivated: codes inactive before that are active in the release;
//! - display changed: codes in both whose display differs;
//! - moved: codes in both whose set of is-a parents (by code) differs.
//!
//! Activity follows the index's status flags (`status`, `inactive` properties). Every list is
//! complete in the typed [`CodeSystemDiff`]; [`CodeSystemDiff::to_json`] keeps the counts exact and
//! cuts each list at a limit, saying when it did.

use crate::index::{Adjacency, CodeSystemIndex, ConceptFlags};
use model::terminology::{CodeSystem, Concept};
use model::Json;
use serde_json::json;
use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

/// A change of display: code, before, after.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisplayChange {
    pub code: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// A change of parents: code, parent codes before, parent codes after.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HierarchyMove {
    pub code: String,
    pub before: Vec<String>,
    pub after: Vec<String>,
}

/// The changes from one version of a code system to another, codes in code order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CodeSystemDiff {
    pub url: String,
    pub from_version: Option<String>,
    pub to_version: Option<String>,
    pub n_before: usize,
    pub n_after: usize,
    pub added: Vec<String>,
    pub retired: Vec<String>,
    pub reactivated: Vec<String>,
    pub display_changed: Vec<DisplayChange>,
    pub moved: Vec<HierarchyMove>,
}

/// One version as the diff reads it: its concepts, their status flags and their is-a parents.
struct Side<'a> {
    concepts: &'a [Concept],
    flags: Cow<'a, [ConceptFlags]>,
    parents: Cow<'a, Adjacency>,
    by_code: HashMap<&'a str, usize>,
}

impl<'a> Side<'a> {
    fn of_index(index: &'a CodeSystemIndex) -> Side<'a> {
        Side::new(&index.code_system.concepts, Cow::Borrowed(&index.flags), Cow::Borrowed(&index.parents))
    }

    /// The release as it came, read in place: its flags and is-a graph are worked out as an index
    /// would (the index itself is built once, when the release is stored).
    fn of_release(code_system: &'a CodeSystem) -> Side<'a> {
        Side::new(
            &code_system.concepts,
            Cow::Owned(CodeSystemIndex::concept_flags(code_system)),
            Cow::Owned(CodeSystemIndex::upward_graph(code_system)),
        )
    }

    fn new(concepts: &'a [Concept], flags: Cow<'a, [ConceptFlags]>, parents: Cow<'a, Adjacency>) -> Side<'a> {
        let by_code = concepts.iter().enumerate().map(|(idx, concept)| (concept.code.as_str(), idx)).collect();
        Side { concepts, flags, parents, by_code }
    }

    fn active(&self, idx: usize) -> bool {
        !self.flags.get(idx).is_some_and(|flags| flags.inactive)
    }

    fn parent_codes(&self, idx: usize) -> Vec<String> {
        let codes: BTreeSet<String> = self.parents[idx].iter().map(|parent| self.concepts[*parent as usize].code.clone()).collect();
        codes.into_iter().collect()
    }
}

/// Compares the served version `before` with the release `after`.
pub fn diff_code_systems(before: &CodeSystemIndex, after: &CodeSystem) -> CodeSystemDiff {
    let old = Side::of_index(before);
    let new = Side::of_release(after);
    let mut diff = CodeSystemDiff {
        url: after.url.clone(),
        from_version: before.version().map(str::to_owned),
        to_version: after.version.clone(),
        n_before: before.code_system.concepts.len(),
        n_after: after.concepts.len(),
        ..CodeSystemDiff::default()
    };
    for (code, &new_idx) in &new.by_code {
        match old.by_code.get(code) {
            None => {
                if new.active(new_idx) {
                    diff.added.push((*code).to_owned());
                }
            }
            Some(&old_idx) => {
                match (old.active(old_idx), new.active(new_idx)) {
                    (true, false) => diff.retired.push((*code).to_owned()),
                    (false, true) => diff.reactivated.push((*code).to_owned()),
                    _ => {}
                }
                let before_display = &old.concepts[old_idx].display;
                let after_display = &new.concepts[new_idx].display;
                if before_display != after_display {
                    diff.display_changed.push(DisplayChange {
                        code: (*code).to_owned(),
                        before: before_display.clone(),
                        after: after_display.clone(),
                    });
                }
                let (before_parents, after_parents) = (old.parent_codes(old_idx), new.parent_codes(new_idx));
                if before_parents != after_parents {
                    diff.moved.push(HierarchyMove { code: (*code).to_owned(), before: before_parents, after: after_parents });
                }
            }
        }
    }
    for (code, &old_idx) in &old.by_code {
        if !new.by_code.contains_key(code) && old.active(old_idx) {
            diff.retired.push((*code).to_owned());
        }
    }
    diff.added.sort();
    diff.retired.sort();
    diff.reactivated.sort();
    diff.display_changed.sort_by(|left, right| left.code.cmp(&right.code));
    diff.moved.sort_by(|left, right| left.code.cmp(&right.code));
    diff
}

impl CodeSystemDiff {
    /// True when the two versions hold the same active codes, displays and hierarchy.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.retired.is_empty()
            && self.reactivated.is_empty()
            && self.display_changed.is_empty()
            && self.moved.is_empty()
    }

    /// The diff as JSON: exact counts, and each list cut at `limit` entries.
    pub fn to_json(&self, limit: usize) -> Json {
        let codes = |list: &[String]| json!(list.iter().take(limit).collect::<Vec<_>>());
        let truncated = [self.added.len(), self.retired.len(), self.reactivated.len(), self.display_changed.len(), self.moved.len()]
            .iter()
            .any(|n| *n > limit);
        json!({
            "system": self.url,
            "fromVersion": self.from_version,
            "toVersion": self.to_version,
            "conceptsBefore": self.n_before,
            "conceptsAfter": self.n_after,
            "counts": {
                "added": self.added.len(),
                "retired": self.retired.len(),
                "reactivated": self.reactivated.len(),
                "displayChanged": self.display_changed.len(),
                "moved": self.moved.len(),
            },
            "added": codes(&self.added),
            "retired": codes(&self.retired),
            "reactivated": codes(&self.reactivated),
            "displayChanged": self.display_changed.iter().take(limit)
                .map(|change| json!({"code": change.code, "before": change.before, "after": change.after}))
                .collect::<Vec<_>>(),
            "moved": self.moved.iter().take(limit)
                .map(|change| json!({"code": change.code, "parentsBefore": change.before, "parentsAfter": change.after}))
                .collect::<Vec<_>>(),
            "truncated": truncated,
        })
    }
}

impl crate::Terminology {
    /// Diffs each release code system against the version of the same system served now (the
    /// default version of its url); systems not served yet have no diff.
    pub fn diff_against_current(&self, code_systems: &[CodeSystem]) -> Vec<CodeSystemDiff> {
        let registry = self.registry();
        code_systems
            .iter()
            .filter_map(|code_system| {
                let current = registry.code_system(&code_system.url, None)?;
                (current.url() == code_system.url).then(|| diff_code_systems(&current, code_system))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_system(version: &str, concepts: Json) -> CodeSystem {
        CodeSystem::from_json(&json!({"resourceType": "CodeSystem", "url": "http://example.org/cs", "version": version,
            "status": "active", "content": "complete", "concept": concepts}))
        .expect("valid CodeSystem")
    }

    #[test]
    fn diff_names_every_kind_of_change() {
        let before = code_system(
            "1",
            json!([
                {"code": "a", "display": "A", "concept": [{"code": "a1", "display": "A one"}]},
                {"code": "b", "display": "B"},
                {"code": "gone", "display": "Gone"},
                {"code": "dormant", "display": "Dormant", "property": [{"code": "status", "valueCode": "retired"}]},
                {"code": "stays", "display": "Stays"}
            ]),
        );
        let after = code_system(
            "2",
            json!([
                {"code": "a", "display": "A"},
                {"code": "b", "display": "B renamed", "concept": [{"code": "a1", "display": "A one"}]},
                {"code": "dormant", "display": "Dormant"},
                {"code": "stays", "display": "Stays", "property": [{"code": "status", "valueCode": "retired"}]},
                {"code": "new", "display": "New"}
            ]),
        );
        let diff = diff_code_systems(&CodeSystemIndex::new(before, None), &after);
        assert_eq!(diff.added, ["new"]);
        assert_eq!(diff.retired, ["gone", "stays"]);
        assert_eq!(diff.reactivated, ["dormant"]);
        assert_eq!(diff.display_changed.iter().map(|change| change.code.as_str()).collect::<Vec<_>>(), ["b"]);
        assert_eq!(diff.moved, [HierarchyMove { code: "a1".into(), before: vec!["a".into()], after: vec!["b".into()] }]);
        let as_json = diff.to_json(1);
        assert_eq!(as_json["counts"]["retired"], 2);
        assert_eq!(as_json["retired"].as_array().map(Vec::len), Some(1));
        assert_eq!(as_json["truncated"], true);
        assert_eq!(as_json["fromVersion"], "1");
    }
}
