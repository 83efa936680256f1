//! ECL 2.2 evaluation: an expression constraint (parsed by `model::ecl`) answered over one code
//! system index as the set of its concepts that satisfy it.
//!
//! # Brief overview
//! [`constraint_members`] parses, evaluates and caches; `index::ecl_index::EclIndex` is what
//! evaluation reads besides the index's is-a graph: every attribute relationship with its role
//! group (read back from the property layout the SNOMED loader writes, see `loaders::snomed_rf2`),
//! concrete values, refset membership and the historical associations. It is built once per code
//! system snapshot, on first use, like the word index, and never per request; it lives in `index`
//! so that `index` never reaches into this module.
//!
//! # Design decisions
//! Sets are `roaring` bitmaps of concept indexes. The sets ECL works with are large and dense
//! (`<< 404684003` holds a fifth of SNOMED CT) and are combined with AND, OR and MINUS all the
//! time; a roaring bitmap of 100,000 indexes is about 12 KB and intersects in microseconds, where
//! a sorted `Vec<u32>` costs 400 KB and a merge per operation. Iterating one yields indexes in
//! code-system order, which is the order expansions list.
//!
//! Relationships are kept by attribute type (`by_type`), so a refinement reads only the
//! relationships of the types it names. A role group is a 64-bit key (concept, group); an
//! ungrouped (group 0) relationship is a group of its own, as SNOMED's description logic reads it.
//!
//! Evaluation runs against a deadline (the request's, else [`DEFAULT_BUDGET`]) checked as it
//! walks, so a pathological expression answers `too-costly` rather than hanging.
//!
//! # What it does not do
//! Description filters that need what the store does not keep (dialect and acceptability,
//! description module, effective time or id, case significance) and member filters other than
//! `active`, and alternate identifiers, answer "not supported" naming the feature.
//!
//! Tests: `tests/it/ecl.rs`, on the fixture `crates/loaders/test_data/snomed_rf2/ecl/`.

use crate::index::ecl_index::{is_sctid, ConcreteValue, EclIndex, Target, ASSOCIATIONS, ROLE_GROUP_PROPERTY};
use crate::index::CodeSystemIndex;
use crate::{StoreError, StoreErrorKind};
use model::ecl::ast::*;
use model::fhir::Issue;
use roaring::RoaringBitmap;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long one evaluation may run when the caller gives no deadline.
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(30);
/// How many evaluated expressions each code system keeps.
const CACHED_RESULTS: usize = 128;

const DEFINED: &str = "900000000000073002";
const PRIMITIVE: &str = "900000000000074008";
const FSN: &str = "900000000000003001";
const SYNONYM: &str = "900000000000013009";
const DEFINITION: &str = "900000000000550004";

/// The association refsets of the history profiles (ECL 2.2, "History Supplements").
const HISTORY_MIN: &[&str] = &["900000000000527005"];
const HISTORY_MOD: &[&str] = &["900000000000527005", "900000000000526001", "900000000000528000", "1186921001"];

/// The ECL behind `?fhir_vs=refset`: every reference set concept.
pub const ALL_REFSETS: &str = "< 900000000000455006 |Reference set|";

/// Decodes `%XX` escapes (an ECL expression inside an implicit value set url); text that is not
/// a valid escape is kept as it is.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut position = 0;
    while position < bytes.len() {
        let escaped = (bytes[position] == b'%' && position + 2 < bytes.len())
            .then(|| std::str::from_utf8(&bytes[position + 1..position + 3]).ok().and_then(|hex| u8::from_str_radix(hex, 16).ok()))
            .flatten();
        match escaped {
            Some(byte) => {
                out.push(byte);
                position += 3;
            }
            None => {
                out.push(bytes[position]);
                position += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
}

/// Splits `url|version` when the url is an ECL implicit value set, whose expression may hold the
/// pipes of concept terms unencoded (`…?fhir_vs=ecl/<< 19829001 |Disorder of lung|`): the terms'
/// pipes come in pairs, so only an odd last pipe separates a version. `None` for any other url.
pub fn split_ecl_canonical(canonical: &str) -> Option<(&str, Option<&str>)> {
    let start = canonical.find("?fhir_vs=ecl/")?;
    let expression = &canonical[start..];
    if expression.matches('|').count().is_multiple_of(2) {
        return Some((canonical, None));
    }
    let (url, version) = canonical.rsplit_once('|')?;
    Some((url, (!version.is_empty()).then_some(version)))
}

/// Why an expression cannot be answered.
#[derive(Clone, Debug, PartialEq)]
pub enum EclError {
    Parse(model::ecl::ParseError),
    UnknownConcept(String),
    Unsupported(String),
    TooCostly,
}

impl EclError {
    /// The store error for this, naming the expression.
    pub fn into_store_error(self, expression: &str) -> StoreError {
        let expression = match expression.char_indices().nth(200) {
            Some((cut, _)) => format!("{}…", &expression[..cut]),
            None => expression.to_owned(),
        };
        match self {
            EclError::Parse(error) => {
                StoreError::with_issue(StoreErrorKind::Invalid, Issue::error("invalid", error.to_string()).tx("vs-invalid"))
            }
            EclError::UnknownConcept(id) => StoreError::with_issue(
                StoreErrorKind::Invalid,
                Issue::error(
                    "invalid",
                    format!("ECL expression '{expression}' names the concept {id}, which this code system does not have"),
                )
                .tx("vs-invalid"),
            ),
            EclError::Unsupported(what) => StoreError::with_issue(
                StoreErrorKind::Unprocessable,
                Issue::error("not-supported", format!("ECL expression '{expression}': {what} is not supported by this server")),
            ),
            EclError::TooCostly => StoreError::with_issue(
                StoreErrorKind::TooCostly,
                Issue::error(
                    "too-costly",
                    format!("ECL expression '{expression}' ran past this server's time budget for one request and was stopped"),
                ),
            ),
        }
    }
}

/// The concepts of `index` that satisfy the ECL `expression`: parsed, evaluated against
/// `deadline` (else [`DEFAULT_BUDGET`] from now) and cached in the index's snapshot.
pub fn constraint_members(index: &CodeSystemIndex, expression: &str, deadline: Option<Instant>) -> Result<Arc<RoaringBitmap>, StoreError> {
    let ecl = index.ecl_index();
    if let Some(found) = ecl.results.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).get(expression) {
        return Ok(found.clone());
    }
    let evaluated = evaluate(index, expression, deadline).map_err(|error| error.into_store_error(expression))?;
    let evaluated = Arc::new(evaluated);
    let mut results = ecl.results.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if results.len() >= CACHED_RESULTS {
        results.clear();
    }
    results.insert(expression.to_owned(), evaluated.clone());
    Ok(evaluated)
}

/// Parses and evaluates without the cache.
pub fn evaluate(index: &CodeSystemIndex, expression: &str, deadline: Option<Instant>) -> Result<RoaringBitmap, EclError> {
    let parsed = model::ecl::parse(expression).map_err(EclError::Parse)?;
    let evaluator = Evaluator {
        index,
        ecl: index.ecl_index(),
        deadline: deadline.unwrap_or_else(|| Instant::now() + DEFAULT_BUDGET),
        steps: std::cell::Cell::new(0),
    };
    evaluator.expression(&parsed)
}

struct Evaluator<'a> {
    index: &'a CodeSystemIndex,
    ecl: &'a EclIndex,
    deadline: Instant,
    steps: std::cell::Cell<u64>,
}

type Eval<T> = Result<T, EclError>;

/// A cardinality's bounds, `[1..*]` when none is written.
fn bounds(cardinality: Option<Cardinality>) -> (u32, u32) {
    let cardinality = cardinality.unwrap_or(Cardinality { min: 1, max: None });
    (cardinality.min, cardinality.max.unwrap_or(u32::MAX))
}

fn group_key(source: u32, group: u32) -> u64 {
    (u64::from(source) << 32) | u64::from(group)
}

/// A plain bitset over a code system's concepts, for the inner loops: setting and testing a bit
/// costs one memory access, where a roaring bitmap searches its containers. Results go back to
/// roaring (in order, so the conversion is linear).
struct Dense {
    words: Vec<u64>,
}

impl Dense {
    fn new(n_concepts: usize) -> Dense {
        Dense { words: vec![0; n_concepts.div_ceil(64)] }
    }

    fn of(n_concepts: usize, set: &RoaringBitmap) -> Dense {
        let mut dense = Dense::new(n_concepts);
        for concept_idx in set {
            dense.insert(concept_idx);
        }
        dense
    }

    /// Sets the bit; says whether it was clear.
    fn insert(&mut self, concept_idx: u32) -> bool {
        let word = &mut self.words[(concept_idx >> 6) as usize];
        let bit = 1u64 << (concept_idx & 63);
        let was_clear = *word & bit == 0;
        *word |= bit;
        was_clear
    }

    fn contains(&self, concept_idx: u32) -> bool {
        self.words.get((concept_idx >> 6) as usize).is_some_and(|word| word & (1u64 << (concept_idx & 63)) != 0)
    }

    fn to_roaring(&self) -> RoaringBitmap {
        let members = self.words.iter().enumerate().flat_map(|(word_idx, word)| {
            let mut word = *word;
            std::iter::from_fn(move || {
                (word != 0).then(|| {
                    let bit = word.trailing_zeros();
                    word &= word - 1;
                    (word_idx as u32) * 64 + bit
                })
            })
        });
        RoaringBitmap::from_sorted_iter(members).expect("a bitset iterates in order")
    }
}

/// Sorted, deduplicated role-group keys.
fn intersect_sorted(left: &[u64], right: &[u64]) -> Vec<u64> {
    let (mut left_idx, mut right_idx) = (0, 0);
    let mut out = Vec::new();
    while left_idx < left.len() && right_idx < right.len() {
        match left[left_idx].cmp(&right[right_idx]) {
            std::cmp::Ordering::Less => left_idx += 1,
            std::cmp::Ordering::Greater => right_idx += 1,
            std::cmp::Ordering::Equal => {
                out.push(left[left_idx]);
                left_idx += 1;
                right_idx += 1;
            }
        }
    }
    out
}

/// Runs of equal values in a sorted slice, as (value, count).
fn runs<T: Copy + PartialEq>(sorted: impl IntoIterator<Item = T>) -> Vec<(T, u32)> {
    let mut out: Vec<(T, u32)> = Vec::new();
    for value in sorted {
        match out.last_mut() {
            Some((last, count)) if *last == value => *count += 1,
            _ => out.push((value, 1)),
        }
    }
    out
}

impl Evaluator<'_> {
    /// Counts work and answers `TooCostly` past the deadline (checked every 4,096 steps).
    fn tick(&self, n_steps: u64) -> Eval<()> {
        let before = self.steps.get();
        let after = before + n_steps;
        self.steps.set(after);
        if before >> 12 != after >> 12 && Instant::now() > self.deadline {
            return Err(EclError::TooCostly);
        }
        Ok(())
    }

    fn concept(&self, id: &str) -> Eval<u32> {
        self.index.find(id).ok_or_else(|| EclError::UnknownConcept(id.to_owned()))
    }

    fn expression(&self, expression: &Expression) -> Eval<RoaringBitmap> {
        match expression {
            Expression::Sub(sub) => self.sub(sub),
            Expression::Refined { focus, refinement } => {
                let focus = self.sub(focus)?;
                let refined = self.refinement(refinement)?;
                Ok(focus & refined)
            }
            Expression::And(parts) => {
                let mut result = self.sub(&parts[0])?;
                for part in &parts[1..] {
                    result &= self.sub(part)?;
                }
                Ok(result)
            }
            Expression::Or(parts) => {
                let mut result = RoaringBitmap::new();
                for part in parts {
                    result |= self.sub(part)?;
                }
                Ok(result)
            }
            Expression::Minus(left, right) => Ok(self.sub(left)? - self.sub(right)?),
            Expression::Dotted { focus, attributes } => {
                let mut current = self.sub(focus)?;
                for attribute in attributes {
                    let types = self.sub(attribute)?;
                    let sources = Dense::of(self.index.len(), &current);
                    let mut targets = Dense::new(self.index.len());
                    for list in self.relationship_lists(&types) {
                        self.tick(list.len() as u64)?;
                        for relationship_idx in list {
                            let relationship = &self.ecl.relationships[*relationship_idx as usize];
                            if let (true, Target::Concept(target)) = (sources.contains(relationship.source), relationship.target) {
                                targets.insert(target);
                            }
                        }
                    }
                    current = targets.to_roaring();
                }
                Ok(current)
            }
        }
    }

    fn sub(&self, sub: &SubExpression) -> Eval<RoaringBitmap> {
        let mut set = match &sub.focus {
            Focus::Concept(reference) => {
                let mut single = RoaringBitmap::new();
                single.insert(self.concept(&reference.id)?);
                single
            }
            Focus::Wildcard => self.ecl.all.clone(),
            Focus::AlternateIdentifier { scheme, code } => {
                return Err(EclError::Unsupported(format!("the alternate identifier {scheme}#{code}")));
            }
            Focus::Nested(expression) => self.expression(expression)?,
        };
        if let Some(member_of) = &sub.member_of {
            set = self.members_of(&set, member_of, &sub.member_filters)?;
        }
        if let Some(operator) = sub.operator {
            set = self.hierarchy(operator, set)?;
        }
        for filter in &sub.filters {
            set = match filter {
                FilterConstraint::Description(filters) => self.description_filters(set, filters)?,
                FilterConstraint::Concept(filters) => self.concept_filters(set, filters)?,
            };
        }
        if let Some(history) = &sub.history {
            set = self.history(set, history)?;
        }
        Ok(set)
    }

    fn members_of(&self, refsets: &RoaringBitmap, member_of: &MemberOf, filters: &[Vec<MemberFilter>]) -> Eval<RoaringBitmap> {
        for filter in filters.iter().flatten() {
            match filter {
                // Only active members are kept, so `active = true` holds for every member.
                MemberFilter::Active { negated, value } if *negated != *value => {}
                MemberFilter::Active { .. } => return Ok(RoaringBitmap::new()),
                _ => return Err(EclError::Unsupported("a member filter other than active (refset rows are not kept)".into())),
            }
        }
        let mut members = RoaringBitmap::new();
        let wants_targets = match &member_of.fields {
            None => false,
            Some(fields) => match fields.as_slice() {
                [RefsetField::Name(name)] if name.eq_ignore_ascii_case("referencedComponentId") => false,
                [RefsetField::Name(name)] if name.eq_ignore_ascii_case("targetComponentId") => true,
                _ => {
                    return Err(EclError::Unsupported(
                        "a refset field selection other than referencedComponentId or targetComponentId".into(),
                    ))
                }
            },
        };
        if wants_targets {
            for association in &self.ecl.associations {
                self.tick(1)?;
                if self.index.find(association.refset_id).is_some_and(|refset| refsets.contains(refset)) {
                    members.insert(association.target);
                }
            }
            return Ok(members);
        }
        for refset in refsets {
            self.tick(1)?;
            if let Some(found) = self.ecl.refset_members.get(&refset) {
                members |= found;
            }
        }
        Ok(members)
    }

    /// Every concept reachable from `start` in one direction (not `start` itself unless a cycle
    /// leads back), as one multi-source walk.
    fn reachable(&self, start: &RoaringBitmap, downwards: bool) -> Eval<RoaringBitmap> {
        let edges = if downwards { &self.index.children } else { &self.index.parents };
        let mut seen = Dense::new(self.index.len());
        let mut stack: Vec<u32> = Vec::new();
        for concept_idx in start {
            for next in &edges[concept_idx as usize] {
                if seen.insert(*next) {
                    stack.push(*next);
                }
            }
        }
        while let Some(current) = stack.pop() {
            self.tick(1)?;
            for next in &edges[current as usize] {
                if seen.insert(*next) {
                    stack.push(*next);
                }
            }
        }
        Ok(seen.to_roaring())
    }

    fn one_step(&self, start: &RoaringBitmap, downwards: bool) -> Eval<RoaringBitmap> {
        let edges = if downwards { &self.index.children } else { &self.index.parents };
        let mut out = RoaringBitmap::new();
        for concept_idx in start {
            self.tick(1)?;
            out.extend(edges[concept_idx as usize].iter().copied());
        }
        Ok(out)
    }

    fn hierarchy(&self, operator: ConstraintOperator, set: RoaringBitmap) -> Eval<RoaringBitmap> {
        Ok(match operator {
            ConstraintOperator::DescendantOf => self.reachable(&set, true)?,
            ConstraintOperator::DescendantOrSelfOf => self.reachable(&set, true)? | set,
            ConstraintOperator::ChildOf => self.one_step(&set, true)?,
            ConstraintOperator::ChildOrSelfOf => self.one_step(&set, true)? | set,
            ConstraintOperator::AncestorOf => self.reachable(&set, false)?,
            ConstraintOperator::AncestorOrSelfOf => self.reachable(&set, false)? | set,
            ConstraintOperator::ParentOf => self.one_step(&set, false)?,
            ConstraintOperator::ParentOrSelfOf => self.one_step(&set, false)? | set,
            ConstraintOperator::TopOf => {
                let below = self.reachable(&set, true)?;
                set - below
            }
            ConstraintOperator::BottomOf => {
                let above = self.reachable(&set, false)?;
                set - above
            }
        })
    }

    /// The relationship indexes whose type is in `types`, type by type.
    fn relationship_lists(&self, types: &RoaringBitmap) -> Vec<&[u32]> {
        if types.len() as usize > self.ecl.by_type.len() {
            self.ecl.by_type.iter().filter(|(type_idx, _)| types.contains(**type_idx)).map(|(_, indexes)| indexes.as_slice()).collect()
        } else {
            types.iter().filter_map(|type_idx| self.ecl.by_type.get(&type_idx)).map(Vec::as_slice).collect()
        }
    }

    /// Calls `each` with (counted concept, role group key) for every relationship an attribute's
    /// name and comparison accept; a reverse attribute counts the relationship's target.
    fn for_each_match(&self, attribute: &Attribute, mut each: impl FnMut(u32, u64)) -> Eval<()> {
        let types = self.sub(&attribute.name)?;
        let lists = self.relationship_lists(&types);
        match &attribute.comparison {
            Comparison::Expression { negated, value } => {
                let values = Dense::of(self.index.len(), &self.sub(value)?);
                for list in lists {
                    self.tick(list.len() as u64)?;
                    for relationship_idx in list {
                        let relationship = &self.ecl.relationships[*relationship_idx as usize];
                        let Target::Concept(target) = relationship.target else { continue };
                        if attribute.reverse {
                            if values.contains(relationship.source) != *negated {
                                each(target, group_key(target, relationship.group));
                            }
                        } else if values.contains(target) != *negated {
                            each(relationship.source, group_key(relationship.source, relationship.group));
                        }
                    }
                }
            }
            comparison => {
                if attribute.reverse {
                    return Err(EclError::Unsupported("a reverse attribute compared with a concrete value".into()));
                }
                for list in lists {
                    self.tick(list.len() as u64)?;
                    for relationship_idx in list {
                        let relationship = &self.ecl.relationships[*relationship_idx as usize];
                        let Target::Concrete(value_idx) = relationship.target else { continue };
                        if concrete_matches(&self.ecl.concrete[value_idx as usize], comparison)? {
                            each(relationship.source, group_key(relationship.source, relationship.group));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// The concepts with at least one match, or with a count within an explicit cardinality.
    fn attribute_concepts(&self, attribute: &Attribute) -> Eval<RoaringBitmap> {
        if attribute.cardinality.is_none() {
            let mut found = Dense::new(self.index.len());
            self.for_each_match(attribute, |concept, _| {
                found.insert(concept);
            })?;
            return Ok(found.to_roaring());
        }
        let mut concepts = Vec::new();
        self.for_each_match(attribute, |concept, _| concepts.push(concept))?;
        concepts.sort_unstable();
        let counts: HashMap<u32, u32> = runs(concepts).into_iter().collect();
        Ok(self.within(&counts, attribute.cardinality))
    }

    /// Concepts whose count is within the bounds; with a minimum of 0, concepts without any count too.
    fn within(&self, counts: &HashMap<u32, u32>, cardinality: Option<Cardinality>) -> RoaringBitmap {
        let (min, max) = bounds(cardinality);
        if min == 0 {
            let too_many: RoaringBitmap = counts.iter().filter(|(_, count)| **count > max).map(|(concept, _)| *concept).collect();
            return &self.ecl.all - too_many;
        }
        counts.iter().filter(|(_, count)| (min..=max).contains(*count)).map(|(concept, _)| *concept).collect()
    }

    fn refinement(&self, refinement: &Refinement) -> Eval<RoaringBitmap> {
        match refinement {
            Refinement::And(parts) => {
                let mut result = self.refinement(&parts[0])?;
                for part in &parts[1..] {
                    result &= self.refinement(part)?;
                }
                Ok(result)
            }
            Refinement::Or(parts) => {
                let mut result = RoaringBitmap::new();
                for part in parts {
                    result |= self.refinement(part)?;
                }
                Ok(result)
            }
            Refinement::Attribute(attribute) => self.attribute_concepts(attribute),
            Refinement::Group(group) => {
                let satisfied = self.group_refinement(&group.attributes)?;
                if group.cardinality.is_none() {
                    let mut found = Dense::new(self.index.len());
                    for key in satisfied {
                        found.insert((key >> 32) as u32);
                    }
                    return Ok(found.to_roaring());
                }
                let counts: HashMap<u32, u32> = runs(satisfied.iter().map(|key| (key >> 32) as u32)).into_iter().collect();
                Ok(self.within(&counts, group.cardinality))
            }
        }
    }

    /// The role groups (as sorted keys) in which an attribute set holds.
    fn group_refinement(&self, refinement: &Refinement) -> Eval<Vec<u64>> {
        match refinement {
            Refinement::And(parts) => {
                let mut result = self.group_refinement(&parts[0])?;
                for part in &parts[1..] {
                    result = intersect_sorted(&result, &self.group_refinement(part)?);
                }
                Ok(result)
            }
            Refinement::Or(parts) => {
                let mut result = Vec::new();
                for part in parts {
                    result.extend(self.group_refinement(part)?);
                }
                result.sort_unstable();
                result.dedup();
                Ok(result)
            }
            Refinement::Attribute(attribute) => {
                if attribute.reverse {
                    return Err(EclError::Unsupported("a reverse attribute inside an attribute group".into()));
                }
                let mut keys = Vec::new();
                self.for_each_match(attribute, |_, key| keys.push(key))?;
                keys.sort_unstable();
                let (min, max) = bounds(attribute.cardinality);
                let counted = runs(keys);
                if min == 0 {
                    // Every group of every concept, less those with too many matches.
                    self.tick(self.ecl.relationships.len() as u64)?;
                    let mut all_groups: Vec<u64> =
                        self.ecl.relationships.iter().map(|relationship| group_key(relationship.source, relationship.group)).collect();
                    all_groups.sort_unstable();
                    all_groups.dedup();
                    let too_many: Vec<u64> = counted.iter().filter(|(_, count)| *count > max).map(|(key, _)| *key).collect();
                    all_groups.retain(|key| too_many.binary_search(key).is_err());
                    return Ok(all_groups);
                }
                Ok(counted.into_iter().filter(|(_, count)| (min..=max).contains(count)).map(|(key, _)| key).collect())
            }
            Refinement::Group(_) => Err(EclError::Unsupported("an attribute group inside an attribute group".into())),
        }
    }

    fn concept_codes(&self, set: &ConceptSet) -> Eval<Vec<String>> {
        Ok(match set {
            ConceptSet::References(references) => references.iter().map(|reference| reference.id.clone()).collect(),
            // A filter may name metadata (a module, a description type) the release does not hold
            // as a concept; a bare id is compared as it is.
            ConceptSet::Expression(sub)
                if sub.operator.is_none() && sub.member_of.is_none() && sub.filters.is_empty() && sub.history.is_none() =>
            {
                match &sub.focus {
                    Focus::Concept(reference) => vec![reference.id.clone()],
                    _ => self.sub(sub)?.iter().map(|idx| self.index.concept(idx).code.clone()).collect(),
                }
            }
            ConceptSet::Expression(sub) => self.sub(sub)?.iter().map(|idx| self.index.concept(idx).code.clone()).collect(),
        })
    }

    fn description_filters(&self, set: RoaringBitmap, filters: &[DescriptionFilter]) -> Eval<RoaringBitmap> {
        let mut type_ids: Vec<Option<(bool, Vec<String>)>> = Vec::new();
        for filter in filters {
            type_ids.push(match filter {
                DescriptionFilter::TypeId { negated, types } => Some((*negated, self.concept_codes(types)?)),
                DescriptionFilter::Dialect { .. }
                | DescriptionFilter::PreferredIn { .. }
                | DescriptionFilter::AcceptableIn { .. }
                | DescriptionFilter::LanguageRefset { .. } => {
                    return Err(EclError::Unsupported("a dialect or acceptability filter (language refset rows are not kept)".into()))
                }
                DescriptionFilter::Module { .. }
                | DescriptionFilter::EffectiveTime { .. }
                | DescriptionFilter::Id { .. }
                | DescriptionFilter::CaseSignificance { .. } => {
                    return Err(EclError::Unsupported("a description module, effectiveTime, id or case significance filter".into()))
                }
                _ => None,
            });
        }
        // A match term narrows the candidates through the word index first (a superset: it
        // folds as the matcher does, and does not ask that one description hold every filter).
        let mut set = set;
        for filter in filters {
            if let DescriptionFilter::Term { negated: false, terms } = filter {
                let indexable = |term: &SearchTerm| match term {
                    SearchTerm::Match(words) => words.iter().any(|word| !crate::index::text::words(word).is_empty()),
                    SearchTerm::Wild(_) => false,
                };
                if terms.iter().all(indexable) {
                    let mut candidates = RoaringBitmap::new();
                    for term in terms {
                        if let SearchTerm::Match(words) = term {
                            candidates.extend(self.index.text_search(&words.join(" ")));
                        }
                    }
                    set &= candidates;
                }
            }
        }
        let language = self.index.code_system.language.as_deref().unwrap_or("");
        let mut out = RoaringBitmap::new();
        for concept_idx in &set {
            self.tick(1)?;
            let concept = self.index.concept(concept_idx);
            let designations = concept
                .designations
                .iter()
                .map(|designation| {
                    let type_code = designation.use_coding.as_ref().and_then(|coding| coding["code"].as_str()).unwrap_or(SYNONYM);
                    (designation.value.as_str(), designation.language.as_deref().unwrap_or(""), type_code)
                })
                .chain(concept.definition.as_deref().map(|text| (text, "en", DEFINITION)))
                // A concept without designations (outside SNOMED CT) is described by its display.
                .chain(concept.display.as_deref().filter(|_| concept.designations.is_empty()).map(|text| (text, language, SYNONYM)));
            let mut found = false;
            for (text, language, type_code) in designations {
                let mut all = true;
                for (filter, type_id) in filters.iter().zip(&type_ids) {
                    let holds = match filter {
                        DescriptionFilter::Term { negated, terms } => terms.iter().any(|term| term_matches(term, text)) != *negated,
                        DescriptionFilter::Language { negated, codes } => {
                            let primary = language.split('-').next().unwrap_or_default().to_lowercase();
                            codes.contains(&primary) != *negated
                        }
                        DescriptionFilter::Type { negated, types } => {
                            let this = match type_code {
                                FSN => DescriptionType::FullySpecifiedName,
                                DEFINITION => DescriptionType::Definition,
                                _ => DescriptionType::Synonym,
                            };
                            types.contains(&this) != *negated
                        }
                        DescriptionFilter::TypeId { .. } => {
                            let (negated, codes) = type_id.as_ref().expect("type ids worked out above");
                            codes.iter().any(|code| code == type_code) != *negated
                        }
                        // Only active descriptions are kept.
                        DescriptionFilter::Active { negated, value } => *negated != *value,
                        DescriptionFilter::SemanticTag { negated, terms } => {
                            let tag =
                                (type_code == FSN).then(|| text.rsplit_once('(').and_then(|(_, tag)| tag.strip_suffix(')'))).flatten();
                            tag.is_some_and(|tag| terms.iter().any(|term| term_matches(term, tag))) != *negated
                        }
                        _ => false,
                    };
                    if !holds {
                        all = false;
                        break;
                    }
                }
                if all {
                    found = true;
                    break;
                }
            }
            if found {
                out.insert(concept_idx);
            }
        }
        Ok(out)
    }

    fn property_text(&self, concept_idx: u32, code: &str) -> Option<String> {
        self.index.concept(concept_idx).properties.iter().find(|property| property.code == code).and_then(|property| property.value_text())
    }

    fn concept_filters(&self, set: RoaringBitmap, filters: &[ConceptFilter]) -> Eval<RoaringBitmap> {
        let mut module_codes = Vec::new();
        let mut status_codes = Vec::new();
        for filter in filters {
            match filter {
                ConceptFilter::Module { modules, .. } => module_codes.push(self.concept_codes(modules)?),
                ConceptFilter::DefinitionStatusId { ids, .. } => status_codes.push(self.concept_codes(ids)?),
                _ => {}
            }
        }
        let mut out = RoaringBitmap::new();
        for concept_idx in &set {
            self.tick(1)?;
            let (mut module_idx, mut status_idx) = (0, 0);
            let mut all = true;
            for filter in filters {
                let holds = match filter {
                    ConceptFilter::Active { negated, value } => (self.index.flags[concept_idx as usize].inactive != *value) != *negated,
                    ConceptFilter::DefinitionStatus { negated, statuses } => {
                        let defined = self.property_text(concept_idx, "sufficientlyDefined").as_deref() == Some("true");
                        let status = if defined { DefinitionStatus::Defined } else { DefinitionStatus::Primitive };
                        statuses.contains(&status) != *negated
                    }
                    ConceptFilter::DefinitionStatusId { negated, .. } => {
                        let defined = self.property_text(concept_idx, "sufficientlyDefined").as_deref() == Some("true");
                        let code = if defined { DEFINED } else { PRIMITIVE };
                        status_idx += 1;
                        status_codes[status_idx - 1].iter().any(|wanted| wanted == code) != *negated
                    }
                    ConceptFilter::Module { negated, .. } => {
                        let module = self.property_text(concept_idx, "moduleId").unwrap_or_default();
                        module_idx += 1;
                        module_codes[module_idx - 1].contains(&module) != *negated
                    }
                    ConceptFilter::EffectiveTime { operator, dates } => {
                        let effective_time = self.property_text(concept_idx, "effectiveTime").unwrap_or_default();
                        compare_dates(&effective_time, *operator, dates)
                    }
                };
                if !holds {
                    all = false;
                    break;
                }
            }
            if all {
                out.insert(concept_idx);
            }
        }
        Ok(out)
    }

    fn history(&self, set: RoaringBitmap, history: &HistorySupplement) -> Eval<RoaringBitmap> {
        let refsets: Option<Vec<&str>> = match history {
            HistorySupplement::Profile(HistoryProfile::Min) => Some(HISTORY_MIN.to_vec()),
            HistorySupplement::Profile(HistoryProfile::Moderate) => Some(HISTORY_MOD.to_vec()),
            HistorySupplement::Profile(HistoryProfile::Max) => None,
            HistorySupplement::Subset(expression) => {
                let chosen = self.expression(expression)?;
                Some(
                    ASSOCIATIONS
                        .iter()
                        .map(|(id, _)| *id)
                        .filter(|id| self.index.find(id).is_some_and(|idx| chosen.contains(idx)))
                        .collect(),
                )
            }
        };
        let mut out = set.clone();
        for association in &self.ecl.associations {
            self.tick(1)?;
            if set.contains(association.target) && refsets.as_ref().is_none_or(|refsets| refsets.contains(&association.refset_id)) {
                out.insert(association.source);
            }
        }
        Ok(out)
    }
}

fn compare_dates(value: &str, operator: NumericOperator, dates: &[String]) -> bool {
    match operator {
        NumericOperator::Equal => dates.iter().any(|date| date == value),
        NumericOperator::NotEqual => !dates.iter().any(|date| date == value),
        NumericOperator::Less => dates.iter().any(|date| value < date.as_str()),
        NumericOperator::LessOrEqual => dates.iter().any(|date| value <= date.as_str()),
        NumericOperator::Greater => dates.iter().any(|date| value > date.as_str()),
        NumericOperator::GreaterOrEqual => dates.iter().any(|date| value >= date.as_str()),
    }
}

fn concrete_matches(value: &ConcreteValue, comparison: &Comparison) -> Eval<bool> {
    Ok(match (value, comparison) {
        (ConcreteValue::Number(number), Comparison::Numeric { operator, value }) => {
            let wanted: f64 = value.parse().map_err(|_| EclError::Unsupported(format!("the number {value}")))?;
            match operator {
                NumericOperator::Equal => number == &wanted,
                NumericOperator::NotEqual => number != &wanted,
                NumericOperator::Less => *number < wanted,
                NumericOperator::LessOrEqual => *number <= wanted,
                NumericOperator::Greater => *number > wanted,
                NumericOperator::GreaterOrEqual => *number >= wanted,
            }
        }
        (ConcreteValue::Text(text), Comparison::String { negated, terms }) => {
            terms.iter().any(|term| match term {
                SearchTerm::Match(words) => words.join(" ") == *text,
                SearchTerm::Wild(pattern) => wild_matches(pattern, text),
            }) != *negated
        }
        (ConcreteValue::Text(text), Comparison::Boolean { negated, value }) => (text.eq_ignore_ascii_case(&value.to_string())) != *negated,
        _ => false,
    })
}

/// ECL's `match` search: every word of the search is a prefix of some word of the term,
/// ignoring case and accents (folded as the word index folds them).
fn term_matches(term: &SearchTerm, text: &str) -> bool {
    match term {
        SearchTerm::Match(words) => {
            let text_words = crate::index::text::words(text);
            words
                .iter()
                .flat_map(|word| crate::index::text::words(word))
                .all(|word| text_words.iter().any(|text_word| text_word.starts_with(&word)))
        }
        SearchTerm::Wild(pattern) => wild_matches(&pattern.to_lowercase(), &text.to_lowercase()),
    }
}

/// A `wild` pattern against the whole text: `*` matches any run of characters, `\*` a star.
fn wild_matches(pattern: &str, text: &str) -> bool {
    let mut pieces: Vec<String> = vec![String::new()];
    let mut characters = pattern.chars();
    while let Some(character) = characters.next() {
        match character {
            '\\' => pieces.last_mut().expect("a piece").push(characters.next().unwrap_or('\\')),
            '*' => pieces.push(String::new()),
            other => pieces.last_mut().expect("a piece").push(other),
        }
    }
    let Some((first, rest)) = pieces.split_first() else { return true };
    let Some(mut remaining) = text.strip_prefix(first.as_str()) else { return false };
    if rest.is_empty() {
        return remaining.is_empty();
    }
    let (last, middle) = rest.split_last().expect("not empty");
    for piece in middle {
        match remaining.find(piece.as_str()) {
            Some(position) => remaining = &remaining[position + piece.len()..],
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last.as_str())
}

/// The role group of each of a SNOMED CT concept's properties, by position (0 for group 0 and
/// for properties that are not attributes), read from the loader's layout; `roleGroup` markers
/// themselves get their own group.
pub fn property_groups(concept: &model::terminology::Concept) -> Vec<u32> {
    let mut group = 0u32;
    concept
        .properties
        .iter()
        .map(|property| {
            if property.code == ROLE_GROUP_PROPERTY {
                group = property.value.as_u64().unwrap_or(0) as u32;
            } else if !is_sctid(&property.code) {
                group = 0;
                return 0;
            }
            group
        })
        .collect()
}

fn with_term(index: &CodeSystemIndex, code: &str) -> String {
    match index.find(code).and_then(|idx| index.concept(idx).display.as_deref()) {
        Some(term) => format!("{code} |{term}|"),
        None => code.to_owned(),
    }
}

fn attribute_text(index: &CodeSystemIndex, property: &model::terminology::ConceptProperty) -> String {
    let value = match property.value_key() {
        "valueCode" | "valueCoding" => with_term(index, &property.value_text().unwrap_or_default()),
        "valueString" => format!("\"{}\"", property.value.as_str().unwrap_or_default().replace('"', "\\\"")),
        _ => format!("#{}", property.value_text().unwrap_or_default()),
    };
    format!("{} = {value}", with_term(index, &property.code))
}

/// A concept's definition in SNOMED CT compositional grammar, as `$lookup` shows it as
/// `normalForm`: `===` (defined) or `<<<` (primitive), its parents, then its attributes, each role
/// group in braces. `None` for a concept without parents (the root, inactive concepts).
pub fn normal_form(index: &CodeSystemIndex, concept_idx: u32) -> Option<String> {
    let parents = &index.parents[concept_idx as usize];
    if parents.is_empty() {
        return None;
    }
    let concept = index.concept(concept_idx);
    let defined =
        concept.properties.iter().any(|property| property.code == "sufficientlyDefined" && property.value.as_bool() == Some(true));
    let focus: Vec<String> = parents.iter().map(|parent| with_term(index, &index.concept(*parent).code)).collect();
    let groups = property_groups(concept);
    let mut ungrouped = Vec::new();
    let mut grouped: Vec<(u32, Vec<String>)> = Vec::new();
    for (property, group) in concept.properties.iter().zip(groups) {
        if !is_sctid(&property.code) {
            continue;
        }
        let text = attribute_text(index, property);
        match group {
            0 => ungrouped.push(text),
            group => match grouped.iter_mut().find(|(found, _)| *found == group) {
                Some((_, attributes)) => attributes.push(text),
                None => grouped.push((group, vec![text])),
            },
        }
    }
    let mut refinement: Vec<String> = ungrouped;
    refinement.extend(grouped.into_iter().map(|(_, attributes)| format!("{{ {} }}", attributes.join(", "))));
    let mut text = format!("{} {}", if defined { "===" } else { "<<<" }, focus.join(" + "));
    if !refinement.is_empty() {
        text.push_str(" : ");
        text.push_str(&refinement.join(", "));
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecl_urls_keep_the_pipes_of_their_terms() {
        let url = "http://snomed.info/sct?fhir_vs=ecl/<< 19829001 |Disorder of lung|";
        assert_eq!(split_ecl_canonical(url), Some((url, None)));
        assert_eq!(split_ecl_canonical(&format!("{url}|20250101")), Some((url, Some("20250101"))));
        assert_eq!(split_ecl_canonical("http://snomed.info/sct?fhir_vs=isa/1|2"), None);
        assert_eq!(percent_decode("%3C%3C%2019829001%20%7Cx%7C"), "<< 19829001 |x|");
        assert_eq!(percent_decode("100%"), "100%");
    }

    #[test]
    fn wild_patterns_match_the_whole_text() {
        assert!(wild_matches("cardi*opathy", "cardiomyopathy"));
        assert!(!wild_matches("cardi*opathy", "cardiomyopathy of"));
        assert!(wild_matches("*heart*", "disease of heart and lung"));
        assert!(wild_matches("a\\*b", "a*b"));
        assert!(!wild_matches("a\\*b", "axb"));
    }

    #[test]
    fn match_terms_are_word_prefixes() {
        let term = SearchTerm::Match(vec!["heart".into(), "att".into()]);
        assert!(term_matches(&term, "Heart attack"));
        assert!(!term_matches(&term, "Heart disease"));
    }
}
