//! `ValueSet/$compare`: how the codes of one value set ("this") relate to those of another ("other").
//!
//! The answer is `same`, `subset`, `superset`, `overlapping`, `disjoint`, `empty` or `indeterminate`,
//! with a message and, when the caller asks for `diagnostics`, whether an expansion was needed and
//! which codes only this one has (`missing-codes`), only the other has (`extra-codes`) or both have
//! (`common-codes`).
//!
//! # How it decides
//! First from the definitions, one code system at a time: the includes of both value sets are
//! grouped by system (by `system|version` where the version matters: the include names one and
//! some include of that system filters, or the code system says `versionNeeded`), then each group
//! is judged. A whole-system include covers any other include of the same system; two concept
//! lists are compared code by code; two single-filter includes are compared when the filters are
//! equal, or are `is-a` filters whose roots subsume one another in a single hierarchy; includes
//! that are identical after sorting match. Anything else (imports, excludes, concepts against
//! filters, a system in two versions) cannot be decided that way, and both value sets are
//! expanded and their members matched by system and code (and version, where it matters).
//! An expansion that fails or is not closed (a grammar code system listing only common codes)
//! makes the answer `indeterminate`.
//!
//! The design conversation behind HL7's `related` tests (`tx-tests/related/claude.md`) and the
//! expected answers there are the specification; where they report the code lists of one system
//! only (the last one compared list against list), so does this.

use super::context::Context;
use super::membership::{compute, value_set_canonical, value_set_not_found, ImportWalk};
use crate::index::{CodeSystemIndex, Expansion, Member};
use crate::StoreError;
use model::fhir::{Json, Parameters};
use model::terminology::{ConceptSet, Filter, ValueSet};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

/// The largest expansion a comparison will make.
const COMPARE_EXPANSION_LIMIT: usize = 10_000;

/// What the comparison found so far: whether the sets share codes, whether this one has codes the
/// other lacks (`this_only`), and the reverse (`other_only`).
#[derive(Default)]
struct Verdict {
    common: bool,
    this_only: bool,
    other_only: bool,
    empty: bool,
    /// The definitions could not decide (or the expansions failed, with the reason).
    undecided: bool,
    reason: Option<String>,
}

/// The code lists the answer reports.
#[derive(Default)]
struct CodeLists {
    missing: Vec<String>,
    extra: Vec<String>,
    common: Vec<String>,
}

/// The includes and excludes of both value sets that draw on one system (or one system version).
#[derive(Default)]
struct SystemGroup {
    this: Vec<ConceptSet>,
    other: Vec<ConceptSet>,
    this_excludes: Vec<ConceptSet>,
    other_excludes: Vec<ConceptSet>,
}

/// Which list of a [`SystemGroup`] a set of includes or excludes goes to.
type SideOf = fn(&mut SystemGroup) -> &mut Vec<ConceptSet>;

/// `ValueSet/$compare`.
pub fn compare(context: &Context<'_>) -> Result<Json, StoreError> {
    let this = named_value_set(context, "this")?;
    let other = named_value_set(context, "other")?;
    let this_name = value_set_canonical(&this);
    let other_name = value_set_canonical(&other);
    let diagnostics_wanted = context.params.bool("diagnostics").unwrap_or(false);
    let mut out = Parameters::default();
    let (Some(this_compose), Some(other_compose)) = (&this.compose, &other.compose) else {
        let without = if this.compose.is_none() { &this_name } else { &other_name };
        out.push_value("result", "valueCode", json!("indeterminate"));
        out.push_value("message", "valueString", json!(format!("The ValueSet {without} has no compose")));
        return Ok(out.to_resource());
    };

    let mut lists = CodeLists::default();
    let mut verdict = from_definitions(context, this_compose, other_compose, &mut lists);
    let performed_expansion = verdict.undecided;
    if verdict.undecided {
        lists = CodeLists::default();
        verdict = from_expansions(context, &this, &other, &mut lists);
    }
    let (result, message) = if verdict.undecided {
        ("indeterminate", format!("Unable to compare {this_name} and {other_name}: {}", verdict.reason.unwrap_or_default()))
    } else if verdict.empty {
        ("empty", format!("Both the value sets {this_name} and {other_name} are empty"))
    } else if !verdict.common {
        ("disjoint", format!("No shared codes between the value sets {this_name} and {other_name}"))
    } else if !verdict.this_only && !verdict.other_only {
        ("same", format!("The value sets {this_name} and {other_name} contain the same codes"))
    } else if verdict.this_only && verdict.other_only {
        (
            "overlapping",
            format!("Both value sets {this_name} and {other_name} contain the codes the other doesn't, but there is some overlap"),
        )
    } else if verdict.this_only {
        ("superset", format!("The valueSet {this_name} is a super-set of the valueSet {other_name}"))
    } else {
        ("subset", format!("The valueSet {this_name} is a sub-set of the valueSet {other_name}"))
    };
    out.push_value("result", "valueCode", json!(result));
    out.push_value("message", "valueString", json!(message));
    if diagnostics_wanted {
        out.push_value("performed-expansion", "valueBoolean", json!(performed_expansion));
        for (name, codes) in [("missing-codes", &lists.missing), ("extra-codes", &lists.extra), ("common-codes", &lists.common)] {
            if !codes.is_empty() {
                out.push_value(name, "valueString", json!(codes.join(",")));
            }
        }
    }
    Ok(out.to_resource())
}

/// The value set a side names: `{side}ValueSet` (a resource), or `{side}Url` (with `valueSetVersion`).
fn named_value_set(context: &Context<'_>, side: &str) -> Result<Arc<ValueSet>, StoreError> {
    if let Some(resource) = context.params.resource(&format!("{side}ValueSet")) {
        return ValueSet::from_json(resource)
            .map(Arc::new)
            .map_err(|error| StoreError::invalid(format!("invalid {side}ValueSet parameter: {error}")));
    }
    let url = context
        .params
        .str(&format!("{side}Url"))
        .ok_or_else(|| StoreError::invalid(format!("no {side} value set was given: use {side}ValueSet or {side}Url")))?;
    let version = context.params.str("valueSetVersion");
    context
        .value_set(&url, version.as_deref())
        .map(|entry| entry.value_set.clone())
        .ok_or_else(|| value_set_not_found(&url, version.as_deref()))
}

/// Judges both composes system by system; `undecided` when the definitions are not enough.
fn from_definitions(
    context: &Context<'_>,
    this: &model::terminology::Compose,
    other: &model::terminology::Compose,
    lists: &mut CodeLists,
) -> Verdict {
    let mut verdict = Verdict::default();
    let all_sets: Vec<&ConceptSet> = this.include.iter().chain(&this.exclude).chain(&other.include).chain(&other.exclude).collect();
    // Per system URL: whether its version matters (so groups are per version).
    let mut version_matters: HashMap<String, bool> = HashMap::new();
    let mut groups: Vec<(String, SystemGroup)> = Vec::new();
    let sides: [(&[ConceptSet], SideOf); 4] = [
        (&this.include, |group| &mut group.this),
        (&other.include, |group| &mut group.other),
        (&this.exclude, |group| &mut group.this_excludes),
        (&other.exclude, |group| &mut group.other_excludes),
    ];
    for (sets, side_of) in sides {
        for set in sets {
            let system = set.system.clone().unwrap_or_default();
            let mut key = system.clone();
            if !system.is_empty() {
                let code_system = context.code_system(&system, set.version.as_deref());
                let filtered =
                    all_sets.iter().any(|other_set| other_set.system.as_deref() == Some(system.as_str()) && !other_set.filters.is_empty());
                let already = version_matters.get(&system).copied().unwrap_or(false);
                let matters = code_system.as_ref().is_some_and(|code_system| {
                    already || ((set.version.is_some() || code_system.version().is_some()) && (version_needed(code_system) || filtered))
                });
                version_matters.entry(system.clone()).or_insert(matters);
                if matters {
                    let version =
                        set.version.clone().or_else(|| code_system.and_then(|code_system| code_system.version().map(str::to_owned)));
                    key = format!("{system}|{}", version.unwrap_or_default());
                }
            }
            let position = match groups.iter().position(|(existing, _)| *existing == key) {
                Some(position) => position,
                None => {
                    groups.push((key, SystemGroup::default()));
                    groups.len() - 1
                }
            };
            side_of(&mut groups[position].1).push(set.clone());
        }
    }
    // A system whose version matters and appears in two versions cannot be judged group by group.
    let in_several_versions = version_matters.iter().any(|(system, matters)| {
        *matters && groups.iter().filter(|(key, _)| key.split_once('|').map(|(url, _)| url) == Some(system.as_str())).count() > 1
    });
    if in_several_versions {
        verdict.undecided = true;
        return verdict;
    }
    for (key, group) in groups {
        if key.is_empty() {
            // Imports without a system: not judged from the definitions.
            verdict.undecided = true;
            continue;
        }
        let (system, version) = match key.split_once('|') {
            Some((system, version)) => (system.to_owned(), Some(version.to_owned())),
            None => (key.clone(), None),
        };
        let code_system = context.code_system(&system, version.as_deref());
        compare_group(code_system.as_deref(), group, &mut verdict, lists);
    }
    verdict
}

fn version_needed(code_system: &CodeSystemIndex) -> bool {
    code_system.code_system.resource.get("versionNeeded").and_then(Json::as_bool).unwrap_or(false)
}

/// Judges the includes of one system.
fn compare_group(code_system: Option<&CodeSystemIndex>, mut group: SystemGroup, verdict: &mut Verdict, lists: &mut CodeLists) {
    if !group.this_excludes.is_empty() || !group.other_excludes.is_empty() {
        verdict.undecided = true;
        verdict.common = true;
        return;
    }
    let mixed =
        |sets: &[ConceptSet]| sets.iter().any(|set| !set.value_sets.is_empty() || (!set.concepts.is_empty() && !set.filters.is_empty()));
    if mixed(&group.this) || mixed(&group.other) {
        verdict.undecided = true;
        return;
    }
    tidy(&mut group.this);
    tidy(&mut group.other);
    let whole = |set: &ConceptSet| set.concepts.is_empty() && set.filters.is_empty();
    match (group.this.first(), group.other.first()) {
        (None, None) => {}
        (None, Some(_)) => verdict.other_only = true,
        (Some(_), None) => verdict.this_only = true,
        (Some(this), Some(other)) if whole(this) && whole(other) => verdict.common = true,
        (Some(this), Some(_)) if whole(this) => {
            verdict.common = true;
            verdict.this_only = true;
        }
        (Some(_), Some(other)) if whole(other) => {
            verdict.common = true;
            verdict.other_only = true;
        }
        (Some(_), Some(_)) if group.this.len() > 1 || group.other.len() > 1 => {
            // Several includes on a side overlap in too many ways to reason about: only identical ones match.
            verdict.common = true;
            let identical = group.this.len() == group.other.len()
                && group.this.iter().zip(&group.other).all(|(this, other)| {
                    this.concepts.iter().map(|c| &c.code).eq(other.concepts.iter().map(|c| &c.code)) && this.filters == other.filters
                });
            if !identical {
                verdict.undecided = true;
            }
        }
        (Some(this), Some(other)) if !this.concepts.is_empty() && !other.concepts.is_empty() => {
            let this_codes = unique_codes(this);
            let other_codes = unique_codes(other);
            lists.common = this_codes.iter().filter(|code| other_codes.contains(code)).cloned().collect();
            lists.missing = this_codes.iter().filter(|code| !other_codes.contains(code)).cloned().collect();
            lists.extra = other_codes.iter().filter(|code| !this_codes.contains(code)).cloned().collect();
            verdict.common |= !lists.common.is_empty();
            verdict.this_only |= !lists.missing.is_empty();
            verdict.other_only |= !lists.extra.is_empty();
        }
        (Some(this), Some(other)) if !this.filters.is_empty() && !other.filters.is_empty() => {
            if !compare_filters(code_system, &this.filters, &other.filters, verdict) {
                verdict.undecided = true;
            }
        }
        _ => verdict.undecided = true,
    }
}

fn unique_codes(set: &ConceptSet) -> Vec<String> {
    let mut codes: Vec<String> = Vec::new();
    for reference in &set.concepts {
        if !codes.contains(&reference.code) {
            codes.push(reference.code.clone());
        }
    }
    codes
}

/// Orders text as people read it: case-insensitively first, lower case before upper on a tie.
fn reading_order(left: &str, right: &str) -> std::cmp::Ordering {
    left.to_lowercase().cmp(&right.to_lowercase()).then_with(|| right.cmp(left))
}

fn filter_order(left: &Filter, right: &Filter) -> std::cmp::Ordering {
    reading_order(&left.property, &right.property)
        .then_with(|| reading_order(&left.op, &right.op))
        .then_with(|| reading_order(&left.value, &right.value))
}

/// Puts one side's includes of a system in a canonical form: every concept list merged into one,
/// concepts and filters sorted, whole-system includes first, then concept lists, then filters.
fn tidy(sets: &mut Vec<ConceptSet>) {
    let mut merged: Option<ConceptSet> = None;
    sets.retain(|set| {
        if !set.concepts.is_empty() && set.filters.is_empty() {
            match &mut merged {
                Some(collector) => collector.concepts.extend(set.concepts.iter().cloned()),
                None => merged = Some(set.clone()),
            }
            false
        } else {
            true
        }
    });
    sets.extend(merged);
    for set in sets.iter_mut() {
        set.concepts.sort_by(|left, right| reading_order(&left.code, &right.code));
        set.filters.sort_by(filter_order);
    }
    let rank = |set: &ConceptSet| match (set.concepts.is_empty(), set.filters.is_empty()) {
        (true, true) => 1,
        (false, true) => 2,
        (true, false) => 3,
        (false, false) => 4,
    };
    sets.sort_by(|left, right| {
        rank(left).cmp(&rank(right)).then_with(|| match (left.filters.first(), right.filters.first()) {
            (Some(left), Some(right)) => filter_order(left, right),
            (None, Some(_)) => std::cmp::Ordering::Less,
            (Some(_), None) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        })
    });
}

/// Compares the filters of two includes of one system; false when they cannot be compared.
fn compare_filters(code_system: Option<&CodeSystemIndex>, this: &[Filter], other: &[Filter], verdict: &mut Verdict) -> bool {
    if this.len() != other.len() {
        return false;
    }
    if this.len() > 1 {
        // Several filters interact in ways not worth guessing: only identical sets match.
        let identical = this.iter().zip(other).all(|(left, right)| left == right);
        verdict.common |= identical;
        return identical;
    }
    let (this_filter, other_filter) = (&this[0], &other[0]);
    if this_filter.property != other_filter.property || this_filter.op != other_filter.op {
        return false;
    }
    if this_filter.value == other_filter.value {
        verdict.common = true;
        return true;
    }
    if this_filter.op != "is-a" {
        return false;
    }
    let Some(code_system) = code_system else { return false };
    let (Some(this_root), Some(other_root)) = (code_system.find(&this_filter.value), code_system.find(&other_filter.value)) else {
        return false;
    };
    if code_system.subsumes(this_root, other_root) {
        verdict.common = true;
        verdict.this_only = true;
    } else if code_system.subsumes(other_root, this_root) {
        verdict.common = true;
        verdict.other_only = true;
    } else if code_system.parents.iter().all(|parents| parents.len() <= 1) {
        // Unrelated roots in a single hierarchy share no descendants.
        verdict.this_only = true;
        verdict.other_only = true;
    } else {
        return false;
    }
    true
}

/// Expands one side for comparison: the members, or why that failed.
fn expand_side(context: &Context<'_>, value_set: &ValueSet) -> Result<Expansion, String> {
    let expansion = compute(context, value_set, &mut ImportWalk::default()).map_err(|error| error.message())?;
    if expansion.members.len() > COMPARE_EXPANSION_LIMIT {
        return Err(format!(
            "The value set '{}' expansion has too many codes to produce (>{COMPARE_EXPANSION_LIMIT})",
            value_set.url.as_deref().unwrap_or("(unidentified)")
        ));
    }
    Ok(expansion)
}

/// Expands both value sets and matches their members.
fn from_expansions(context: &Context<'_>, this: &ValueSet, other: &ValueSet, lists: &mut CodeLists) -> Verdict {
    let mut verdict = Verdict::default();
    let (this_expansion, other_expansion) = match (expand_side(context, this), expand_side(context, other)) {
        (Ok(this), Ok(other)) => (this, other),
        (this_result, other_result) => {
            verdict.undecided = true;
            verdict.reason = Some(match (this_result.err(), other_result.err()) {
                (Some(this_error), Some(other_error)) if this_error == other_error => format!("Both expansions failed: {this_error}"),
                (Some(this_error), Some(other_error)) => {
                    format!("Both expansions failed with different errors: {this_error}; {other_error}")
                }
                (Some(this_error), None) => format!("This expansion failed: {this_error}"),
                (None, Some(other_error)) => format!("Other expansion failed: {other_error}"),
                (None, None) => unreachable!("one expansion failed"),
            });
            return verdict;
        }
    };
    match (this_expansion.unclosed.is_some(), other_expansion.unclosed.is_some()) {
        (false, false) => {}
        (this_unclosed, other_unclosed) => {
            verdict.undecided = true;
            verdict.reason = Some(
                match (this_unclosed, other_unclosed) {
                    (true, true) => "Both expansions are unclosed.",
                    (true, false) => "This expansion is unclosed.",
                    _ => "Other expansion is unclosed.",
                }
                .to_owned(),
            );
            return verdict;
        }
    }
    if this_expansion.members.is_empty() && other_expansion.members.is_empty() {
        verdict.empty = true;
        return verdict;
    }
    // Members match by system and code, and by version too where the code system says versions matter.
    let key = |member: &Member| {
        let versioned = member.code_system.as_deref().is_some_and(version_needed);
        (member.system.clone(), member.code.clone(), if versioned { member.version.clone() } else { None })
    };
    let mut unmatched_other: HashMap<(std::sync::Arc<str>, String, Option<std::sync::Arc<str>>), Vec<usize>> = HashMap::new();
    for (position, member) in other_expansion.members.iter().enumerate().rev() {
        unmatched_other.entry(key(member)).or_default().push(position);
    }
    let mut other_matched = vec![false; other_expansion.members.len()];
    let mut common = Vec::new();
    for member in &this_expansion.members {
        match unmatched_other.get_mut(&key(member)).and_then(Vec::pop) {
            Some(position) => {
                other_matched[position] = true;
                common.push(member.code.clone());
            }
            None => lists.missing.push(member.code.clone()),
        }
    }
    lists.extra = other_expansion
        .members
        .iter()
        .zip(&other_matched)
        .filter(|(_, matched)| !**matched)
        .map(|(member, _)| member.code.clone())
        .collect();
    verdict.common = !common.is_empty();
    verdict.this_only = !lists.missing.is_empty();
    verdict.other_only = !lists.extra.is_empty();
    if verdict.this_only || verdict.other_only {
        lists.common = common;
    }
    verdict
}

#[cfg(test)]
mod tests {
    use super::*;

    fn concept_set(json: Json) -> ConceptSet {
        let value_set = ValueSet::from_json(&json!({"resourceType": "ValueSet", "compose": {"include": [json]}})).unwrap();
        value_set.compose.unwrap().include.remove(0)
    }

    #[test]
    fn tidy_merges_concept_lists_and_puts_whole_systems_first() {
        let mut sets = vec![
            concept_set(json!({"system": "s", "filter": [{"property": "concept", "op": "is-a", "value": "A"}]})),
            concept_set(json!({"system": "s", "concept": [{"code": "b"}]})),
            concept_set(json!({"system": "s"})),
            concept_set(json!({"system": "s", "concept": [{"code": "A"}]})),
        ];
        tidy(&mut sets);
        let shape: Vec<(Vec<&str>, usize)> =
            sets.iter().map(|set| (set.concepts.iter().map(|c| c.code.as_str()).collect(), set.filters.len())).collect();
        assert_eq!(shape, [(vec![], 0), (vec!["A", "b"], 0), (vec![], 1)]);
    }

    #[test]
    fn concept_lists_are_compared_code_by_code() {
        let mut group = SystemGroup::default();
        group.this.push(concept_set(json!({"system": "s", "concept": [{"code": "c1"}, {"code": "c2"}, {"code": "c3"}]})));
        group.other.push(concept_set(json!({"system": "s", "concept": [{"code": "c2"}, {"code": "c2b"}, {"code": "c2a"}]})));
        let mut verdict = Verdict::default();
        let mut lists = CodeLists::default();
        compare_group(None, group, &mut verdict, &mut lists);
        assert!(verdict.common && verdict.this_only && verdict.other_only && !verdict.undecided);
        assert_eq!(
            (lists.common, lists.missing, lists.extra),
            (vec!["c2".to_owned()], vec!["c1".to_owned(), "c3".to_owned()], vec!["c2a".to_owned(), "c2b".to_owned()])
        );
    }

    #[test]
    fn excludes_and_imports_need_an_expansion() {
        let mut group = SystemGroup::default();
        group.this.push(concept_set(json!({"system": "s"})));
        group.this_excludes.push(concept_set(json!({"system": "s", "concept": [{"code": "c"}]})));
        group.other.push(concept_set(json!({"system": "s"})));
        let mut verdict = Verdict::default();
        compare_group(None, group, &mut verdict, &mut CodeLists::default());
        assert!(verdict.undecided);
    }
}
