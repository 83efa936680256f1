//! Code system filters (`is-a`, `regex`, `in`, property filters, …): checked once, compiled
//! once per call, and applied to concepts.
//!
//! A Coding-valued property matches its code or its display (a LOINC axis by LP code or by part
//! name), and in a code system whose codes ignore case its values do too. The hierarchy gives
//! `ancestor` and `descendant` (unless the code system has properties of those names), and LOINC
//! adds `LIST` and `answers-for` (answers, in the list's sequence order, read through the
//! properties named in `model::terminology::loinc`) and `copyright` (`LOINC` or `3rdParty`).

use crate::index::CodeSystemIndex;
use crate::{StoreError, StoreErrorKind};
use model::fhir::Issue;
use model::terminology::{loinc, Filter, PropertyValue};
use regex::Regex;
use roaring::RoaringBitmap;

pub(crate) fn bad_filter(filter: &Filter, code_system: &CodeSystemIndex, why: &str) -> StoreError {
    StoreError::with_issue(
        StoreErrorKind::Invalid,
        Issue::error(
            "invalid",
            format!(
                "The filter \"{} {} {}\" for the code system {} is not understood: {why}",
                filter.property,
                filter.op,
                filter.value,
                code_system.url()
            ),
        )
        .tx("vs-invalid"),
    )
}

fn full_match(pattern: &str) -> Result<Regex, regex::Error> {
    Regex::new(&format!("^(?:{pattern})$"))
}

/// Whether one concept satisfies one filter (a filter used once; loops compile it first).
pub fn filter_matches(code_system: &CodeSystemIndex, concept_idx: u32, filter: &Filter) -> Result<bool, StoreError> {
    CompiledFilter::new(code_system, filter)?.matches(code_system, concept_idx)
}

/// A filter with what does not depend on the concept worked out once: its regex compiled, its
/// target concept found and its listed values split, so that testing many concepts costs only
/// the test itself.
pub(crate) struct CompiledFilter<'f> {
    filter: &'f Filter,
    regex: Option<Regex>,
    target: Option<u32>,
    listed: Vec<&'f str>,
    /// The members of an ECL `constraint` filter, evaluated once (and cached by `crate::ecl`).
    constraint: Option<std::sync::Arc<roaring::RoaringBitmap>>,
    /// The members of a filter that names them through other concepts (LOINC's `LIST` and
    /// `answers-for`, the hierarchy's `ancestor` and `descendant`), worked out once: in the
    /// order they are listed in (an answer list's sequence), and as a set.
    listed_members: Option<(Vec<u32>, RoaringBitmap)>,
}

fn is_declared(code_system: &CodeSystemIndex, property: &str) -> bool {
    code_system.code_system.properties.iter().any(|definition| definition.code == property)
}

/// The concepts a Coding-valued property of `concept_idx` names, in property order.
fn coded_targets<'c>(code_system: &'c CodeSystemIndex, concept_idx: u32, property: &'c str) -> impl Iterator<Item = u32> + 'c {
    code_system
        .concept(concept_idx)
        .properties
        .iter()
        .filter(move |candidate| candidate.code == property)
        .filter_map(|candidate| candidate.value_text())
        .filter_map(|code| code_system.find(&code))
}

/// The members of the filters that name them through other concepts, in their listed order;
/// `None` for every other filter.
fn listed_members(code_system: &CodeSystemIndex, filter: &Filter) -> Option<Vec<u32>> {
    let property = filter.property.as_str();
    let targets = || filter.value.split(',').map(str::trim).filter_map(|code| code_system.find_lenient(code).map(|(idx, _)| idx));
    // `ancestor` and `descendant` are the hierarchy's, unless the code system has properties of those names.
    let hierarchy_filter = !is_declared(code_system, property);
    let members = match (property, filter.op.as_str()) {
        ("ancestor", "=" | "in") if hierarchy_filter => {
            let mut all: Vec<u32> = targets().flat_map(|root| code_system.descendants(root)).collect();
            all.sort_unstable();
            all.dedup();
            all
        }
        ("descendant", "=" | "in") if hierarchy_filter => {
            let mut all: Vec<u32> = targets().flat_map(|leaf| code_system.ancestors(leaf)).collect();
            all.sort_unstable();
            all.dedup();
            all
        }
        _ if code_system.url() != loinc::SYSTEM => return None,
        (loinc::LIST_FILTER, "=") => targets().flat_map(|list| coded_targets(code_system, list, loinc::ANSWER)).collect(),
        (loinc::ANSWERS_FOR_FILTER, "=") => {
            let lists: Vec<u32> = targets()
                .flat_map(|target| {
                    if loinc::is_answer_list_code(&code_system.concept(target).code) {
                        vec![target]
                    } else {
                        coded_targets(code_system, target, loinc::ANSWER_LIST).collect()
                    }
                })
                .collect();
            let mut seen = RoaringBitmap::new();
            lists
                .into_iter()
                .flat_map(|list| coded_targets(code_system, list, loinc::ANSWER))
                .filter(|answer| seen.insert(*answer))
                .collect()
        }
        _ => return None,
    };
    Some(members)
}

impl<'f> CompiledFilter<'f> {
    pub(crate) fn new(code_system: &CodeSystemIndex, filter: &'f Filter) -> Result<CompiledFilter<'f>, StoreError> {
        let regex = match filter.op.as_str() {
            "regex" => Some(full_match(&filter.value).map_err(|error| bad_filter(filter, code_system, &error.to_string()))?),
            _ => None,
        };
        let target = code_system.find_lenient(&filter.value).map(|(idx, _)| idx);
        let listed = filter.value.split(',').map(str::trim).collect();
        let constraint = match filter.property.as_str() {
            "constraint" => Some(crate::ecl::constraint_members(code_system, &filter.value, None)?),
            _ => None,
        };
        let listed_members = listed_members(code_system, filter).map(|members| {
            let set = members.iter().copied().collect();
            (members, set)
        });
        Ok(CompiledFilter { filter, regex, target, listed, constraint, listed_members })
    }

    /// The members in their listed order, for a filter that lists them.
    pub(crate) fn members_in_order(&self) -> Option<&[u32]> {
        self.listed_members.as_ref().map(|(members, _)| members.as_slice())
    }

    fn regex_matches(&self, text: &str) -> bool {
        self.regex.as_ref().is_some_and(|regex| regex.is_match(text))
    }

    pub(crate) fn matches(&self, code_system: &CodeSystemIndex, concept_idx: u32) -> Result<bool, StoreError> {
        let filter = self.filter;
        let concept = code_system.concept(concept_idx);
        if let Some(binding) = &code_system.grammar {
            if let Some(answer) = binding.grammar.filter_matches(&concept.code, filter) {
                return answer.map_err(|why| bad_filter(filter, code_system, &why));
            }
        }
        if let Some(members) = &self.constraint {
            return Ok(members.contains(concept_idx));
        }
        if let Some((_, members)) = &self.listed_members {
            return Ok(members.contains(concept_idx));
        }
        let target = self.target;
        let property = filter.property.as_str();
        let is_concept_property = matches!(property, "concept" | "code");
        match (property, filter.op.as_str()) {
            (_, "is-a") if is_concept_property => Ok(target.is_some_and(|root| code_system.subsumes(root, concept_idx))),
            (_, "descendent-of") if is_concept_property => {
                Ok(target.is_some_and(|root| root != concept_idx && code_system.subsumes(root, concept_idx)))
            }
            (_, "is-not-a") if is_concept_property => Ok(!target.is_some_and(|root| code_system.subsumes(root, concept_idx))),
            (_, "generalizes") if is_concept_property => Ok(target.is_some_and(|leaf| code_system.subsumes(concept_idx, leaf))),
            (_, "child-of") if is_concept_property => {
                Ok(target.is_some_and(|parent| code_system.parents[concept_idx as usize].contains(&parent)))
            }
            (_, "descendent-leaf") if is_concept_property => Ok(code_system.children[concept_idx as usize].is_empty()
                && target.is_some_and(|root| root != concept_idx && code_system.subsumes(root, concept_idx))),
            (_, "=") if is_concept_property => Ok(concept.code == filter.value),
            (_, "in") if is_concept_property => Ok(self.listed.contains(&concept.code.as_str())),
            (_, "not-in") if is_concept_property => Ok(!self.listed.contains(&concept.code.as_str())),
            (_, "regex") if is_concept_property => Ok(self.regex_matches(&concept.code)),
            ("display", op) => {
                let display = concept.display.as_deref().unwrap_or_default();
                match op {
                    "=" => Ok(display == filter.value),
                    "regex" => Ok(self.regex_matches(display)),
                    "exists" => Ok(concept.display.is_some() == (filter.value == "true")),
                    _ => Err(bad_filter(filter, code_system, "unsupported operator for display")),
                }
            }
            (loinc::COPYRIGHT_FILTER, "=") if code_system.url() == loinc::SYSTEM => {
                let third_party = concept.properties.iter().any(|candidate| candidate.code == loinc::EXTERNAL_COPYRIGHT_NOTICE);
                match filter.value.as_str() {
                    "LOINC" => Ok(!third_party),
                    "3rdParty" => Ok(third_party),
                    _ => Err(bad_filter(filter, code_system, "the copyright filter takes LOINC or 3rdParty")),
                }
            }
            (loinc::LIST_FILTER | loinc::ANSWERS_FOR_FILTER, _) if code_system.url() == loinc::SYSTEM => {
                Err(bad_filter(filter, code_system, &format!("'{property}' takes the operator '=' only")))
            }
            ("ancestor" | "descendant", _) if self.listed_members.is_none() && !is_declared(code_system, property) => {
                Err(bad_filter(filter, code_system, &format!("'{property}' takes the operators '=' and 'in'")))
            }
            (_, op) => {
                let known = code_system.code_system.properties.iter().any(|definition| definition.code == property)
                    || matches!(property, "status" | "inactive" | "notSelectable" | "parent" | "child" | "deprecated");
                if !known {
                    return Err(bad_filter(filter, code_system, &format!("unknown property '{property}'")));
                }
                let mut values: Vec<String> = concept
                    .properties
                    .iter()
                    .filter(|candidate| candidate.code == property)
                    .filter_map(|candidate| candidate.value_text())
                    .collect();
                // A Coding value also answers to its display, in any case: LOINC's `SCALE_TYP = DOC`
                // names the Doc part by its name, as well as `SCALE_TYP = LP…` by its code.
                let names: Vec<&str> = concept
                    .properties
                    .iter()
                    .filter(|candidate| candidate.code == property)
                    .filter_map(|candidate| match &candidate.value {
                        PropertyValue::Coding(coding) => coding.display.as_deref(),
                        PropertyValue::Other { key, value } if key == "valueCoding" => {
                            value.get("display").and_then(serde_json::Value::as_str)
                        }
                        _ => None,
                    })
                    .collect();
                let named = |wanted: &str| names.iter().any(|name| name.eq_ignore_ascii_case(wanted));
                let flags = &code_system.flags[concept_idx as usize];
                match property {
                    "inactive" if values.is_empty() => values.push(flags.inactive.to_string()),
                    "parent" => {
                        values.extend(code_system.parents[concept_idx as usize].iter().map(|idx| code_system.concept(*idx).code.clone()))
                    }
                    "child" => {
                        values.extend(code_system.children[concept_idx as usize].iter().map(|idx| code_system.concept(*idx).code.clone()))
                    }
                    _ => {}
                }
                // In a code system whose codes ignore case, so do its property values (HL7 says so
                // of LOINC's: `SCALE_TYP = DOC` is "Doc").
                let case_sensitive = code_system.case_sensitive();
                let same = |value: &str, wanted: &str| if case_sensitive { value == wanted } else { value.eq_ignore_ascii_case(wanted) };
                let in_listed = || {
                    values.iter().any(|value| self.listed.iter().any(|wanted| same(value, wanted)))
                        || self.listed.iter().any(|wanted| named(wanted))
                };
                match op {
                    "=" => Ok(values.iter().any(|value| same(value, &filter.value)) || named(&filter.value)),
                    "in" => Ok(in_listed()),
                    "not-in" => Ok(!in_listed()),
                    "regex" => {
                        Ok(values.iter().any(|value| self.regex_matches(value)) || names.iter().any(|name| self.regex_matches(name)))
                    }
                    "exists" => Ok(values.is_empty() != (filter.value == "true")),
                    _ => Err(bad_filter(filter, code_system, &format!("unsupported operator '{op}'"))),
                }
            }
        }
    }
}

/// Checks a filter once against the code system, so that a broken one fails even with no concepts.
pub(crate) fn validate_filter(code_system: &CodeSystemIndex, filter: &Filter) -> Result<(), StoreError> {
    const OPERATORS: &[&str] =
        &["=", "is-a", "descendent-of", "is-not-a", "regex", "in", "not-in", "generalizes", "child-of", "descendent-leaf", "exists"];
    if !OPERATORS.contains(&filter.op.as_str()) {
        return Err(bad_filter(filter, code_system, &format!("unknown operator '{}'", filter.op)));
    }
    if filter.value.is_empty() && filter.op != "exists" {
        let text = format!("The system {} filter with property = {}, op = {} has no value", code_system.url(), filter.property, filter.op);
        return Err(StoreError::with_issue(
            StoreErrorKind::Invalid,
            Issue::error("invalid", text).tx("vs-invalid").message_id("UNABLE_TO_HANDLE_SYSTEM_FILTER_WITH_NO_VALUE"),
        ));
    }
    if filter.op == "regex" {
        full_match(&filter.value).map_err(|error| bad_filter(filter, code_system, &error.to_string()))?;
    }
    if matches!(filter.op.as_str(), "is-a" | "descendent-of" | "generalizes" | "child-of" | "descendent-leaf")
        && !matches!(filter.property.as_str(), "concept" | "code")
    {
        return Err(bad_filter(filter, code_system, "hierarchy operators apply to the 'concept' property"));
    }
    Ok(())
}

/// The literal text every full match of a regex starts with (`E1` for `E1[01]\..*`), read
/// conservatively: plain and escaped punctuation characters up to the first other construct; none
/// when the pattern has an alternation anywhere, or the last literal is optional or repeated.
fn regex_literal_prefix(pattern: &str) -> String {
    if pattern.contains('|') {
        return String::new();
    }
    let mut prefix = String::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        let literal = match c {
            '\\' => match chars.peek() {
                Some(escaped) if escaped.is_ascii_punctuation() => chars.next(),
                _ => None,
            },
            c if c.is_alphanumeric()
                || matches!(c, ' ' | '_' | '-' | ':' | '/' | ',' | ';' | '=' | '@' | '%' | '\'' | '"' | '<' | '>' | '!') =>
            {
                Some(c)
            }
            _ => None,
        };
        let Some(literal) = literal else { break };
        if matches!(chars.peek(), Some('?' | '*' | '{')) {
            break;
        }
        prefix.push(literal);
    }
    prefix
}

/// The concepts of one code system that satisfy every filter, in code system order.
pub(crate) fn filtered_concepts(code_system: &CodeSystemIndex, filters: &[Filter]) -> Result<Vec<u32>, StoreError> {
    for filter in filters {
        validate_filter(code_system, filter)?;
    }
    // Start from the cheapest candidate set a hierarchy filter (or a regex's literal prefix)
    // gives, then test the rest; the filter that gave exactly its own members is not tested again.
    let mut candidates: Option<Vec<u32>> = None;
    let mut answered: Option<usize> = None;
    let is_concept_filter = |filter: &Filter| matches!(filter.property.as_str(), "concept" | "code");
    if let Some(filter) = filters.iter().find(|filter| filter.property == "constraint") {
        candidates = Some(crate::ecl::constraint_members(code_system, &filter.value, None)?.iter().collect());
    } else if let Some((position, filter)) = filters.iter().enumerate().find(|(_, filter)| {
        is_concept_filter(filter) && matches!(filter.op.as_str(), "is-a" | "descendent-of" | "child-of" | "descendent-leaf" | "=")
    }) {
        let root = code_system.find_lenient(&filter.value).map(|(idx, _)| idx);
        candidates = Some(match (filter.op.as_str(), root) {
            (_, None) => Vec::new(),
            ("child-of", Some(root)) => {
                let mut children = code_system.children[root as usize].to_vec();
                children.sort_unstable();
                children
            }
            ("=", Some(root)) => vec![root],
            (_, Some(root)) => code_system.branch(root).as_ref().clone(),
        });
        if matches!(filter.op.as_str(), "is-a" | "child-of") && code_system.grammar.is_none() {
            answered = Some(position);
        }
    } else if let Some(prefix) = filters
        .iter()
        .filter(|filter| is_concept_filter(filter) && filter.op == "regex")
        .map(|filter| regex_literal_prefix(&filter.value))
        .find(|prefix| !prefix.is_empty())
    {
        candidates = Some(code_system.codes_with_prefix(&prefix));
    }
    let compiled = filters
        .iter()
        .enumerate()
        .filter(|(position, _)| Some(*position) != answered)
        .map(|(_, filter)| CompiledFilter::new(code_system, filter))
        .collect::<Result<Vec<_>, _>>()?;
    // A filter that lists its members gives them in its own order (an answer list's sequence).
    if let Some(members) = compiled.iter().find_map(CompiledFilter::members_in_order) {
        if candidates.is_none() {
            candidates = Some(members.to_vec());
        }
    }
    let candidates = candidates.unwrap_or_else(|| (0..code_system.len() as u32).collect());
    let mut out = Vec::with_capacity(candidates.len());
    for concept_idx in candidates {
        let mut keep = true;
        for filter in &compiled {
            if !filter.matches(code_system, concept_idx)? {
                keep = false;
                break;
            }
        }
        if keep {
            out.push(concept_idx);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::regex_literal_prefix;

    #[test]
    fn a_regex_literal_prefix_is_only_what_every_match_starts_with() {
        assert_eq!(regex_literal_prefix(r"E1[01]\..*"), "E1");
        assert_eq!(regex_literal_prefix(r"S72\.0.*"), "S72.0");
        assert_eq!(regex_literal_prefix(r"E11?.*"), "E1");
        assert_eq!(regex_literal_prefix(r"E1+"), "E1");
        assert_eq!(regex_literal_prefix(r"E1|F2"), "");
        assert_eq!(regex_literal_prefix(r"(?i)e1.*"), "");
        assert_eq!(regex_literal_prefix(r"\d+"), "");
        assert_eq!(regex_literal_prefix(r"A{2}"), "");
    }
}
