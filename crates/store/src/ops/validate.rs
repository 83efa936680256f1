//! `$validate-code` for CodeSystem and ValueSet, and `$batch-validate-code`.
//!
//! Findings are issues in the tx-issue-type vocabulary; `result` is true only when some coding is
//! a known, active-or-allowed member and nothing of severity error was found. With a `date`, the
//! release in force that day answers, and a code counts only if it was in force then.

use super::context::Context;
use super::membership::{include_for_coding, list_versions, requested_value_set, requested_value_set_contains, value_set_canonical};
use super::presentation::{display_for, language_fits, status_label, status_message_id, value_set_language};
use super::request::{CodedInput, Coding, InputShape, ValidateCodeRequest};
use crate::index::{member_of, CodeSystemIndex, NotInForce};
use crate::{StoreError, StoreErrorKind};
use model::fhir::render::Parameter;
use model::fhir::{str_of, Issue, IssueSeverity, Json, OperationOutcome};
use model::terminology::{ConceptSet, ValueSet, Version};
use std::sync::Arc;

/// The answer of `$validate-code`, field by field in the order FHIR JSON lists them; it
/// serializes straight to a `Parameters` resource ([`model::fhir::render`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ValidateCodeOutcome {
    /// The CodeableConcept that was checked, as sent.
    pub codeable_concept: Option<Json>,
    pub code: Option<String>,
    pub system: Option<String>,
    pub version: Option<String>,
    pub display: Option<String>,
    pub inactive: bool,
    /// The concept's status when it is not `active`.
    pub status: Option<String>,
    /// The code as the code system spells it, when only a case-insensitive match found it.
    pub normalized_code: Option<String>,
    /// Systems that could not be found, each with whether other versions of it are known.
    pub unknown_systems: Vec<(String, bool)>,
    pub issues: Option<OperationOutcome>,
    pub message: Option<String>,
    pub result: bool,
}

impl ValidateCodeOutcome {
    fn parameters(&self) -> Vec<Parameter<'_>> {
        let mut out = Vec::with_capacity(8);
        if let Some(concept) = &self.codeable_concept {
            out.push(Parameter::json("codeableConcept", "valueCodeableConcept", concept));
        }
        if let Some(code) = &self.code {
            out.push(Parameter::str("code", "valueCode", code));
        }
        if let Some(system) = &self.system {
            out.push(Parameter::str("system", "valueUri", system));
        }
        if let Some(version) = &self.version {
            out.push(Parameter::str("version", "valueString", version));
        }
        if let Some(display) = &self.display {
            out.push(Parameter::str("display", "valueString", display));
        }
        if self.inactive {
            out.push(Parameter::bool("inactive", true));
        }
        if let Some(status) = &self.status {
            out.push(Parameter::str("status", "valueCode", status));
        }
        if let Some(normalized) = &self.normalized_code {
            out.push(Parameter::str("normalized-code", "valueCode", normalized));
        }
        for (system, other_versions_known) in &self.unknown_systems {
            let name = if *other_versions_known { "x-caused-by-unknown-system" } else { "x-unknown-system" };
            out.push(Parameter::str(name, "valueCanonical", system));
        }
        if let Some(outcome) = &self.issues {
            out.push(Parameter::Outcome { name: "issues", outcome });
        }
        if let Some(message) = &self.message {
            out.push(Parameter::str("message", "valueString", message));
        }
        out.push(Parameter::bool("result", self.result));
        out
    }

    /// The answer as a JSON value, for XML and for batch validation.
    pub fn to_json(&self) -> Json {
        model::fhir::render::to_json(self)
    }
}

impl serde::Serialize for ValidateCodeOutcome {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        model::fhir::render::serialize_parameters(serializer, &self.parameters())
    }
}

fn no_code_to_validate() -> StoreError {
    StoreError::invalid(
        "Unable to find code to validate (looked for coding | codeableConcept | code+system | code+inferSystem in parameters",
    )
}

fn path(shape: InputShape, coding_idx: usize, element: &str) -> String {
    match shape {
        InputShape::Code => element.to_owned(),
        InputShape::Coding => format!("Coding.{element}"),
        InputShape::CodeableConcept => format!("CodeableConcept.coding[{coding_idx}].{element}"),
    }
}

fn coding_path(shape: InputShape, coding_idx: usize) -> String {
    match shape {
        InputShape::Code | InputShape::Coding => "Coding".to_owned(),
        InputShape::CodeableConcept => format!("CodeableConcept.coding[{coding_idx}]"),
    }
}

/// What checking one coding found.
#[derive(Default)]
struct CodingFinding {
    code_system: Option<Arc<CodeSystemIndex>>,
    concept_idx: Option<u32>,
    /// The code as the code system spells it, when only a case-insensitive match found it.
    normalized_code: Option<String>,
    in_value_set: bool,
    /// The code is not in a fragment code system, which cannot say it is invalid.
    fragment_unknown: bool,
    /// The value set's own version pin cannot be resolved, so membership was not judged.
    membership_unknown: bool,
    issues: Vec<Issue>,
    /// The system that could not be found, and whether other versions of it are known.
    unknown_system: Option<(String, bool)>,
    display: Option<String>,
}

fn lenient_display(context: &Context<'_>) -> bool {
    context.params.bool("lenient-display-validation").unwrap_or(false)
}

fn normalize_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Checks a given display against the concept's display and designations, in the languages the
/// caller asked for (`displayLanguage`, `Accept-Language`, or the value set's language).
fn check_display(
    context: &Context<'_>,
    value_set: Option<&ValueSet>,
    code_system: &CodeSystemIndex,
    concept_idx: u32,
    given: &str,
    shape: InputShape,
    coding_idx: usize,
) -> Option<Issue> {
    let concept = code_system.concept(concept_idx);
    let raw_languages = context.raw_display_language(value_set.and_then(value_set_language).as_deref());
    let languages = context.display_languages_for(value_set.and_then(value_set_language).as_deref());
    let default_language = code_system.code_system.language.as_deref();
    // Every valid display with its language; the code system's display speaks the code system's language.
    let mut candidates: Vec<(&str, Option<&str>)> = Vec::new();
    if let Some(display) = &concept.display {
        candidates.push((display.as_str(), default_language));
    }
    // A designation is a valid display in its language; one with no language is another kind of name.
    let retired = |designation: &&model::terminology::Designation| {
        let extensions = model::fhir::extensions_of(designation.extra.as_deref());
        let status = model::fhir::extension_value(extensions, model::fhir::EXT_STANDARDS_STATUS).and_then(Json::as_str);
        matches!(status, Some("withdrawn" | "deprecated"))
    };
    for designation in concept.designations.iter().filter(|designation| designation.language.is_some() && !retired(designation)) {
        if !candidates.iter().any(|(value, language)| *value == designation.value && *language == designation.language.as_deref()) {
            candidates.push((designation.value.as_str(), designation.language.as_deref().or(default_language)));
        }
    }
    if candidates.is_empty() {
        return None;
    }
    let wanted: Vec<&String> = languages.iter().filter(|language| language.as_str() != "*").collect();
    let in_language: Vec<&(&str, Option<&str>)> = if wanted.is_empty() {
        candidates.iter().collect()
    } else {
        candidates
            .iter()
            .filter(|(_, language)| language.is_none() || wanted.iter().any(|wanted| language_fits(language.as_deref(), wanted)))
            .collect()
    };
    let matches = |value: &str| value == given || value.to_lowercase() == given.to_lowercase();
    if in_language.iter().any(|(value, _)| matches(value)) {
        return None;
    }
    // A code left to users (ISO 3166's XY) takes its display from a supplement: one sent with the
    // request counts, and any other display is only a note, since the code system cannot know it.
    if concept.property_text("user-assigned").as_deref() == Some("true") {
        if context.request_supplement_names(code_system.url(), &concept.code).iter().any(|value| matches(value)) {
            return None;
        }
        let known: Vec<String> = candidates
            .iter()
            .map(|(value, language)| match language {
                Some(language) => format!("'{value}' ({language})"),
                None => format!("'{value}'"),
            })
            .collect();
        let text = format!(
            "The display name '{given}' is not a known display name for {}#{}. Known display is {} (for the language(s) '{}'). Use a supplement to define displays for user assigned codes",
            code_system.url(),
            concept.code,
            known.join(", "),
            raw_languages.clone().unwrap_or_else(|| "--".to_owned())
        );
        return Some(
            Issue::information("invalid", text)
                .tx("invalid-display")
                .message_id("Display_Name_Not_Fixed_use_Supplement")
                .at(path(shape, coding_idx, "display")),
        );
    }
    // A display that was valid once: a warning, and the coding stays valid.
    if concept.designations.iter().filter(retired).any(|designation| matches(&designation.value)) {
        let correct: Vec<String> = in_language.iter().map(|(value, _)| format!("\"{value}\"")).collect();
        let text = format!(
            "'{given}' is no longer considered a correct display for code '{}' (status = deprecated). The correct display is one of {}.",
            concept.code,
            correct.join(", ")
        );
        return Some(
            Issue::warning("invalid", text)
                .tx("display-comment")
                .message_id("INACTIVE_DISPLAY_FOUND")
                .at(path(shape, coding_idx, "display"))
                .not_in_message(),
        );
    }
    let languages_text = raw_languages.clone().unwrap_or_else(|| "--".to_owned());
    let coding_text = format!("{}#{}", code_system.url(), concept.code);
    let severity = if lenient_display(context) { IssueSeverity::Warning } else { IssueSeverity::Error };
    if in_language.is_empty() {
        let default_display = concept.display.clone().unwrap_or_default();
        if candidates.iter().any(|(value, _)| matches(value)) {
            let text = format!(
                "There are no valid display names found for the code {coding_text} for language(s) '{languages_text}'. The display is '{given}' which is a valid display for the default language"
            );
            return Some(
                Issue::information("invalid", text)
                    .tx("invalid-display")
                    .message_id("NO_VALID_DISPLAY_FOUND_NONE_FOR_LANG_OK")
                    .at(path(shape, coding_idx, "display")),
            );
        }
        let text = format!(
            "Wrong Display Name '{given}' for {coding_text}. There are no valid display names found for language(s) '{languages_text}'. Default display is '{default_display}'"
        );
        return Some(
            Issue::new(severity, "invalid", text)
                .tx("invalid-display")
                .message_id("NO_VALID_DISPLAY_FOUND_NONE_FOR_LANG_ERR")
                .at(path(shape, coding_idx, "display")),
        );
    }
    let whitespace_only = in_language.iter().any(|(value, _)| normalize_whitespace(value) == normalize_whitespace(given));
    let quoted: Vec<String> = in_language
        .iter()
        .map(|(value, language)| match language {
            Some(language) => format!("'{value}' ({language})"),
            None => format!("'{value}'"),
        })
        .collect();
    let valid = match quoted.as_slice() {
        [single] => format!("Valid display is {single}"),
        several => format!("Valid display is one of {} choices: {}", several.len(), list_versions(several)),
    };
    let text = format!(
        "{} '{given}' for {coding_text}. {valid} (for the language(s) '{languages_text}')",
        if whitespace_only { "Wrong whitespace in Display Name" } else { "Wrong Display Name" }
    );
    let message_id = if whitespace_only {
        "Display_Name_WS_for__should_be_one_of__instead_of"
    } else {
        "Display_Name_for__should_be_one_of__instead_of"
    };
    Some(Issue::new(severity, "invalid", text).tx("invalid-display").message_id(message_id).at(path(shape, coding_idx, "display")))
}

fn status_issues(code_system: &CodeSystemIndex, concept_idx: u32, shape: InputShape, coding_idx: usize) -> Vec<Issue> {
    // A bare code is pointed at as `code`; a coding as a whole.
    let at = if shape == InputShape::Code { "code".to_owned() } else { coding_path(shape, coding_idx) };
    let flags = &code_system.flags[concept_idx as usize];
    let code = &code_system.concept(concept_idx).code;
    let mut issues = Vec::new();
    if flags.inactive {
        let status = flags.status().unwrap_or("inactive").to_owned();
        let described = if status == "inactive" { status } else { format!("{status} and inactive") };
        issues.push(
            Issue::warning("business-rule", format!("The concept '{code}' has a status of {described} and its use should be reviewed"))
                .tx("code-comment")
                .message_id("INACTIVE_CONCEPT_FOUND")
                .at(at.clone()),
        );
    } else if flags.deprecated {
        issues.push(
            Issue::warning("business-rule", format!("The concept '{code}' is deprecated and its use should be reviewed"))
                .tx("code-comment")
                .message_id("DEPRECATED_CONCEPT_FOUND")
                .at(at.clone()),
        );
    }
    issues
}

/// For a code unknown to a release that says when it is in force: the newest other loaded
/// release that holds the code, and when that one was in force, as words to add to the message
/// ("valid in version '2025', in force from 2024-10-01 to 2025-09-30").
fn dated_version_holding(context: &Context<'_>, code_system: &CodeSystemIndex, code: &str) -> Option<String> {
    code_system.effective_period.as_ref()?;
    let mut holding: Vec<Arc<CodeSystemIndex>> = context
        .versions_of(code_system.url())
        .into_iter()
        .filter(|other| other.version() != code_system.version() && other.effective_period.is_some() && other.find(code).is_some())
        .collect();
    holding.sort_by(|left, right| crate::index::compare_versions(left.version(), right.version()));
    let newest = holding.last()?;
    let period = newest.effective_period.as_ref()?;
    Some(format!(
        "; it is valid in version '{}', in force from {} to {}",
        newest.version().unwrap_or_default(),
        period.start,
        period.end.as_deref().unwrap_or("(open)")
    ))
}

/// The code systems a value set draws on, for inferring a coding's system.
fn systems_of(value_set: &ValueSet) -> Vec<String> {
    let mut systems = Vec::new();
    if let Some(compose) = &value_set.compose {
        for include in &compose.include {
            if let Some(system) = &include.system {
                if !systems.contains(system) {
                    systems.push(system.clone());
                }
            }
        }
    }
    systems
}

/// A coding as tx servers quote it: `system|version#code ('display')`.
fn describe(system: &str, coding: &Coding) -> String {
    let mut text = system.to_owned();
    if let Some(version) = &coding.version {
        text.push('|');
        text.push_str(version);
    }
    text.push('#');
    text.push_str(&coding.code);
    if let Some(display) = &coding.display {
        text.push_str(&format!(" ('{display}')"));
    }
    text
}

/// Which code system version a coding is judged against, and what the version rules found on the way.
struct VersionChoice {
    code_system: Option<Arc<CodeSystemIndex>>,
    /// The value set's own pin cannot be resolved, so membership cannot be judged at all.
    membership_unknown: bool,
    issues: Vec<Issue>,
    unknown: Option<(String, bool)>,
}

/// Chooses the version to validate against: the value set's include (a pin, a wildcard, or the
/// latest for a versionless include), `force-system-version`, `system-version` for versionless
/// codings, and the coding's own version; mismatches between them are issues.
fn choose_version(
    context: &Context<'_>,
    value_set: Option<&ValueSet>,
    system: &str,
    coding: &Coding,
    shape: InputShape,
    coding_idx: usize,
) -> VersionChoice {
    let coding_version = coding.version.as_deref();
    let mut choice = VersionChoice { code_system: None, membership_unknown: false, issues: Vec::new(), unknown: None };
    // The known versions are listed only for a message, so only when one is written.
    let known_cell = std::cell::OnceCell::new();
    let known = || known_cell.get_or_init(|| context.known_versions(system));
    let not_found = |version: &str| {
        let known = known();
        let text = if known.is_empty() {
            format!("A definition for CodeSystem '{system}' version '{version}' could not be found, so the code cannot be validated. No versions of this code system are known")
        } else {
            format!(
                "A definition for CodeSystem '{system}' version '{version}' could not be found, so the code cannot be validated. Valid versions: {}",
                list_versions(known)
            )
        };
        let message_id = if known.is_empty() { "UNKNOWN_CODESYSTEM_VERSION_NONE" } else { "UNKNOWN_CODESYSTEM_VERSION" };
        Issue::error("not-found", text).tx("not-found").message_id(message_id).at(path(shape, coding_idx, "system"))
    };
    // The unknown version as `x-(caused-by-)unknown-system` names it: a system with no version known at all is named bare.
    let unknown = |version: &str| {
        let known = known();
        Some((if known.is_empty() { system.to_owned() } else { format!("{system}|{version}") }, !known.is_empty()))
    };
    // The value set's include and the coding disagree on the version.
    let mismatch = |severity: IssueSeverity, text: String, message_id: &'static str| {
        Issue::new(severity, "invalid", text).tx("vs-invalid").message_id(message_id).at(path(shape, coding_idx, "version"))
    };
    let coding_code_system = coding_version.and_then(|version| context.code_system_exact(system, Some(version)));
    if let (Some(version), None) = (coding_version, &coding_code_system) {
        choice.issues.push(not_found(version));
        choice.unknown = unknown(version);
    }
    let include = value_set.and_then(|value_set| value_set.compose.as_ref()).and_then(|compose| {
        let includes: Vec<&ConceptSet> = compose
            .include
            .iter()
            .filter(|include| {
                include.system.as_deref() == Some(system)
                    || include.system.as_deref().and_then(model::uris::canonical_for_oid) == Some(system)
            })
            .collect();
        include_for_coding(context, value_set?, system, includes, &coding.code, coding.version.as_deref(), coding.display.as_deref())
    });
    let forced = context.forced_version(system);
    let pattern: Option<String> = forced.map(str::to_owned).or_else(|| include.and_then(|include| include.version.clone()));
    let Some(_) = value_set.filter(|_| include.is_some()) else {
        // No value set (or it does not draw on this system): the coding's version, the rules, or the latest.
        choice.code_system = match coding_version {
            Some(_) => coding_code_system,
            None => context.code_system(system, None),
        };
        return choice;
    };
    match pattern {
        Some(pattern) => {
            let pinned = match (coding_version, &coding_code_system) {
                (Some(version), Some(code_system)) if crate::index::version_matches(&pattern, version) => Some(code_system.clone()),
                _ => context.code_system_exact(system, Some(&pattern)),
            };
            if let Some(version) = coding_version {
                if !crate::index::version_matches(&pattern, version) {
                    let text = match (forced, include.and_then(|include| include.version.as_deref())) {
                        (Some(forced), None) => format!(
                            "The code system '{system}' version '{forced}' resulting from the version '' in the ValueSet include is different to the one in the value ('{version}')"
                        ),
                        (Some(forced), Some(included)) if forced != included => format!(
                            "The code system '{system}' version '{forced}' resulting from the version '{included}' in the ValueSet include is different to the one in the value ('{version}')"
                        ),
                        _ => format!("The code system '{system}' version '{pattern}' in the ValueSet include is different to the one in the value ('{version}')"),
                    };
                    let message_id = if forced.is_some() { "VALUESET_VALUE_MISMATCH_CHANGED" } else { "VALUESET_VALUE_MISMATCH" };
                    choice.issues.insert(0, mismatch(IssueSeverity::Error, text, message_id));
                }
            }
            if pinned.is_none() {
                choice.issues.push(not_found(&pattern));
                choice.unknown = unknown(&pattern);
                choice.membership_unknown = true;
            }
            choice.code_system = pinned.or(coding_code_system);
        }
        None => {
            let latest = context.code_system_exact(system, None);
            let default_pattern = context.default_version(system).or_else(|| context.checked_version(system));
            let defaulted = default_pattern.and_then(|pattern| context.code_system_exact(system, Some(pattern)));
            match (coding_version, &coding_code_system, &latest) {
                (Some(version), Some(_), Some(latest)) if latest.version() != Some(version) => {
                    let text = format!(
                        "The code system '{system}' version '{}' in the ValueSet include is different to the one in the value ('{version}')",
                        latest.version().unwrap_or_default()
                    );
                    choice.issues.insert(0, mismatch(IssueSeverity::Error, text, "VALUESET_VALUE_MISMATCH"));
                    choice.code_system = Some(latest.clone());
                }
                (Some(version), None, Some(latest)) => match &defaulted {
                    Some(defaulted) => {
                        let text = format!(
                            "The code system '{system}' version '{}' resulting from the version '' in the ValueSet include is different to the one in the value ('{version}')",
                            default_pattern.unwrap_or_else(|| defaulted.version().unwrap_or_default())
                        );
                        choice.issues.insert(0, mismatch(IssueSeverity::Error, text, "VALUESET_VALUE_MISMATCH_CHANGED"));
                        choice.code_system = Some(defaulted.clone());
                    }
                    None => {
                        let text = format!(
                            "The code system '{system}' version '{}' for the versionless include in the ValueSet include is different to the one in the value ('{version}')",
                            latest.version().unwrap_or_default()
                        );
                        choice.issues.push(mismatch(IssueSeverity::Warning, text, "VALUESET_VALUE_MISMATCH_DEFAULT"));
                        choice.code_system = Some(latest.clone());
                    }
                },
                (Some(_), Some(coded), _) => choice.code_system = Some(coded.clone()),
                _ => choice.code_system = defaulted.or_else(|| context.code_system(system, None)),
            }
        }
    }
    if let (Some(check), Some(code_system)) = (context.checked_version(system), &choice.code_system) {
        let actual = code_system.version().unwrap_or_default();
        if !crate::index::version_matches(check, actual) {
            let text = format!(
                "The version '{actual}' is not allowed for system '{system}': required to be '{check}' by a version-check parameter"
            );
            choice.issues.insert(
                0,
                Issue::error("exception", text)
                    .tx("version-error")
                    .message_id("VALUESET_VERSION_CHECK")
                    .at(path(shape, coding_idx, "version")),
            );
        }
    }
    choice
}

fn check_coding(
    context: &Context<'_>,
    value_set: Option<&ValueSet>,
    coding: &Coding,
    shape: InputShape,
    coding_idx: usize,
) -> Result<CodingFinding, StoreError> {
    let mut finding = CodingFinding::default();
    // Written into messages only, so worked out only then.
    let vs_canonical = || value_set.map(value_set_canonical).unwrap_or_default();
    // `valueset-membership-only`: say whether the code is in the value set, and nothing about its display or validity.
    let membership_only = value_set.is_some() && context.params.bool("valueset-membership-only") == Some(true);
    let not_in_value_set_as = |severity: IssueSeverity, tx_code: &'static str, system: &str| {
        let text = format!("The provided code '{}' was not found in the value set '{}'", describe(system, coding), vs_canonical());
        Issue::new(severity, "code-invalid", text)
            .tx(tx_code)
            .message_id("None_of_the_provided_codes_are_in_the_value_set_one")
            .at(path(shape, coding_idx, "code"))
    };
    let not_in_value_set = |system: &str| not_in_value_set_as(IssueSeverity::Error, "not-in-vs", system);
    // Inside a CodeableConcept one coding's absence is information; the verdict is for the whole.
    let code_not_in_value_set = |system: &str| match shape {
        InputShape::CodeableConcept => not_in_value_set_as(IssueSeverity::Information, "this-code-not-in-vs", system),
        _ => not_in_value_set(system),
    };
    let system = match &coding.system {
        Some(system) => system.to_string(),
        None if shape != InputShape::Code => {
            if value_set.is_some() {
                finding.issues.push(not_in_value_set(""));
            }
            finding.issues.push(
                Issue::warning(
                    "invalid",
                    "Coding has no system. A code with no system has no defined meaning, and it cannot be validated. A system should be provided",
                )
                .tx("invalid-data")
                .at(coding_path(shape, coding_idx)),
            );
            return Ok(finding);
        }
        None => {
            let candidates = value_set.map(systems_of).unwrap_or_default();
            let matching: Vec<&String> = candidates
                .iter()
                .filter(|system| {
                    context.code_system(system, None).is_some_and(|code_system| code_system.find_lenient(&coding.code).is_some())
                })
                .collect();
            match (matching.as_slice(), value_set) {
                ([system], Some(_)) => (*system).clone(),
                _ => {
                    if value_set.is_some() {
                        finding.issues.push(not_in_value_set(""));
                    }
                    let mut text = format!(
                        "The System URI could not be determined for the code '{}' in the ValueSet '{}'",
                        coding.code,
                        vs_canonical()
                    );
                    let message_id = if matching.len() > 1 {
                        let listed: Vec<&str> = matching.iter().map(|system| system.as_str()).collect();
                        text.push_str(&format!(": value set expansion has multiple matches: [{}]", listed.join(", ")));
                        "Unable_to_resolve_system__value_set_has_multiple_matches"
                    } else {
                        "UNABLE_TO_INFER_CODESYSTEM"
                    };
                    finding.issues.push(
                        Issue::error("not-found", text).tx("cannot-infer").message_id(message_id).at(path(shape, coding_idx, "code")),
                    );
                    return Ok(finding);
                }
            }
        }
    };
    if context.value_set(&system, None).is_some() && context.code_system(&system, None).is_none() {
        let text = format!("The Coding references a value set, not a code system ('{system}')");
        finding.issues.push(Issue::error("invalid", text).tx("invalid-data").at(path(shape, coding_idx, "system")));
        if value_set.is_some() {
            finding.issues.push(not_in_value_set(&system));
        }
        return Ok(finding);
    }
    let choice = choose_version(context, value_set, &system, coding, shape, coding_idx);
    // A supplement only adds to another code system; it cannot be the system of a coding.
    if let Some(supplement) = choice.code_system.as_ref().filter(|code_system| code_system.code_system.content == "supplement") {
        let text = format!(
            "CodeSystem {} is a supplement, so can't be used as a value in {}.system",
            supplement.canonical(),
            coding_path(shape, coding_idx)
        );
        finding.issues.push(
            Issue::error("invalid", text)
                .tx("invalid-data")
                .message_id("CODESYSTEM_CS_NO_SUPPLEMENT")
                .at(path(shape, coding_idx, "system")),
        );
        return Ok(finding);
    }
    finding.issues.extend(choice.issues);
    finding.unknown_system = choice.unknown.clone();
    let membership_unknown = choice.membership_unknown;
    finding.membership_unknown = membership_unknown;
    let Some(code_system) = choice.code_system else {
        // When the value set itself draws on the missing system, the value set cannot be judged at all.
        let value_set_needs_it = value_set.and_then(|value_set| value_set.compose.as_ref()).is_some_and(|compose| {
            compose.include.iter().chain(compose.exclude.iter()).any(|set| set.system.as_deref() == Some(system.as_str()))
        });
        if choice.unknown.is_none() {
            let known = context.known_versions(&system);
            if !system.contains(':') {
                let text = format!("{}.system must be an absolute reference, not a local reference", coding_path(shape, coding_idx));
                finding.issues.push(Issue::error("invalid", text).tx("invalid-data").at(path(shape, coding_idx, "system")));
            }
            let message = format!("A definition for CodeSystem '{system}' could not be found, so the code cannot be validated");
            finding.issues.push(
                Issue::error("not-found", message).tx("not-found").message_id("UNKNOWN_CODESYSTEM").at(path(shape, coding_idx, "system")),
            );
            // Without a value set (`CodeSystem/$validate-code`), the unknown system is what made the answer false.
            finding.unknown_system = Some((system.clone(), !known.is_empty() || value_set_needs_it || value_set.is_none()));
        }
        if value_set.is_some() && !membership_unknown && !value_set_needs_it {
            finding.issues.push(code_not_in_value_set(&system));
        }
        return Ok(finding);
    };
    finding.code_system = Some(code_system.clone());
    // A grammar code system reads a code it does not list; the answer carries the code as a concept of its own.
    let resolved = match code_system.resolve(&coding.code) {
        crate::grammar::Resolved::Found(holder, concept_idx, case_folded) => Some((holder, concept_idx, case_folded)),
        crate::grammar::Resolved::NotACode(not_a_code) => {
            if let Some(detail) = not_a_code.detail {
                finding.issues.push(
                    Issue::information("code-invalid", detail).tx("invalid-code").at(path(shape, coding_idx, "code")).not_in_message(),
                );
            }
            None
        }
    };
    let Some((code_system, concept_idx, case_folded)) = resolved else {
        let version_text = code_system.version().map(|version| format!(" version '{version}'")).unwrap_or_default();
        if code_system.code_system.content == "fragment" {
            // A fragment does not list every code: an unknown one may be valid, so it is a warning and no verdict.
            let text = format!(
                "Unknown Code '{}' in the CodeSystem '{}'{version_text} - note that the code system is labeled as a fragment, so the code may be valid in some other fragment",
                coding.code,
                code_system.url()
            );
            finding.issues.push(
                Issue::warning("code-invalid", text)
                    .tx("invalid-code")
                    .message_id("UNKNOWN_CODE_IN_FRAGMENT")
                    .at(path(shape, coding_idx, "code"))
                    .not_in_message(),
            );
            finding.in_value_set = true;
            finding.fragment_unknown = true;
            return Ok(finding);
        }
        let mut text = format!("Unknown code '{}' in the CodeSystem '{}'{version_text}", coding.code, code_system.url());
        if let Some(elsewhere) = dated_version_holding(context, &code_system, &coding.code) {
            text.push_str(&elsewhere);
        }
        let mut unknown = Issue::error("code-invalid", text).tx("invalid-code").at(path(shape, coding_idx, "code"));
        if code_system.version().is_some() {
            unknown = unknown.message_id("Unknown_Code_in_Version");
        }
        if !membership_only {
            finding.issues.push(unknown);
        }
        if value_set.is_some() {
            finding.issues.push(code_not_in_value_set(code_system.url()));
        }
        return Ok(finding);
    };
    finding.code_system = Some(code_system.clone());
    finding.concept_idx = Some(concept_idx);
    if case_folded {
        finding.normalized_code = Some(code_system.concept(concept_idx).code.clone());
    }
    // On a date of service, a code counts only if it was in force that day.
    if let Some(day) = &context.date {
        if let Err(why) = code_system.in_force_on(concept_idx, day) {
            let code = &code_system.concept(concept_idx).code;
            let version_text = code_system.version().map(|version| format!(" version '{version}'")).unwrap_or_default();
            let reason = match why {
                NotInForce::NotYet(effective) => format!("it took effect on {effective}"),
                NotInForce::Retired(retired) => format!("it was retired after {retired}"),
            };
            let text =
                format!("The code '{code}' in the CodeSystem '{}'{version_text} was not in force on {day}: {reason}", code_system.url());
            finding.issues.push(Issue::error("business-rule", text).tx("code-rule").at(path(shape, coding_idx, "code")));
            if value_set.is_some() {
                finding.issues.push(code_not_in_value_set(code_system.url()));
            }
            return Ok(finding);
        }
    }
    let member = member_of(&code_system, concept_idx);
    finding.display = display_for(&member, &context.display_languages_for(value_set.and_then(value_set_language).as_deref()));
    finding.in_value_set = match value_set {
        Some(_) if membership_unknown => {
            return Ok(finding);
        }
        Some(value_set) => requested_value_set_contains(context, value_set, &code_system, concept_idx)?,
        None => true,
    };
    if let (Some(value_set), Some(binding), false) = (value_set, &code_system.grammar, finding.in_value_set) {
        finding.issues.extend(grammar_filter_failures(value_set, binding.grammar.as_ref(), &member.code));
    }
    let active_only = context.params.bool("activeOnly").unwrap_or(false)
        || value_set.and_then(|value_set| value_set.compose.as_ref()).is_some_and(|compose| compose.inactive == Some(false));
    if active_only && member.inactive {
        finding.in_value_set = false;
        finding.issues.push(
            Issue::error("business-rule", format!("The concept '{}' is valid but is not active", member.code))
                .tx("code-rule")
                .message_id("STATUS_CODE_WARNING_CODE")
                .at(path(shape, coding_idx, "code")),
        );
    }
    if case_folded {
        let canonical = code_system.canonical();
        let text = format!(
            "The code '{}' differs from the correct code '{}' by case. Although the code system '{canonical}' is case insensitive, implementers are strongly encouraged to use the correct case anyway",
            coding.code, member.code
        );
        finding.issues.push(
            Issue::information("business-rule", text)
                .tx("code-rule")
                .message_id("CODE_CASE_DIFFERENCE")
                .at(path(shape, coding_idx, "code")),
        );
    }
    if finding.in_value_set && context.params.bool("abstract") == Some(false) && member.not_selectable {
        finding.in_value_set = false;
        finding.issues.push(
            Issue::error(
                "business-rule",
                format!("Code '{}#{}' is abstract, and not allowed in this context", code_system.url(), member.code),
            )
            .tx("code-rule")
            .message_id("ABSTRACT_CODE_NOT_ALLOWED")
            .at(path(shape, coding_idx, "code")),
        );
    }
    if !finding.in_value_set {
        finding.issues.push(code_not_in_value_set(code_system.url()));
    }
    if let Some(given) = coding.display.as_ref().filter(|_| !membership_only) {
        if let Some(issue) = check_display(context, value_set, &code_system, concept_idx, given, shape, coding_idx) {
            finding.issues.push(issue);
        }
    }
    finding.issues.extend(status_issues(&code_system, concept_idx, shape, coding_idx));
    if let Some(value_set) = value_set.filter(|_| finding.in_value_set) {
        finding.issues.extend(value_set_concept_status(value_set, code_system.url(), &member.code, shape, coding_idx));
    }
    Ok(finding)
}

fn render(
    result: bool,
    shape: InputShape,
    codings: &[Coding],
    concept: Option<Json>,
    findings: &[CodingFinding],
    mut issues: Vec<Issue>,
) -> ValidateCodeOutcome {
    let mut out = ValidateCodeOutcome { codeable_concept: concept, result, ..ValidateCodeOutcome::default() };
    // Report the coding that decided the answer: the first valid one, else the first that was found.
    let valid = findings.iter().position(|finding| finding.in_value_set && finding.concept_idx.is_some());
    // A CodeableConcept reports only a coding that was valid; a single code or Coding reports what was found.
    let chosen = if shape == InputShape::CodeableConcept {
        valid
            .or_else(|| findings.iter().position(|finding| finding.membership_unknown && finding.concept_idx.is_some()))
            .or_else(|| findings.iter().position(|finding| finding.fragment_unknown))
    } else {
        valid.or_else(|| findings.iter().position(|finding| finding.concept_idx.is_some())).or(if findings.len() == 1 {
            Some(0)
        } else {
            None
        })
    };
    if let Some(chosen) = chosen {
        let finding = &findings[chosen];
        let coding = &codings[chosen];
        if shape != InputShape::CodeableConcept || finding.concept_idx.is_some() || finding.fragment_unknown {
            // A CodeableConcept whose coding could not be judged against the value set names the
            // version and display it found, but not the code and system as an answer.
            let judged = shape != InputShape::CodeableConcept || Some(chosen) == valid || finding.fragment_unknown;
            if judged {
                out.code = Some(coding.code.to_string());
            }
            if let Some(code_system) = &finding.code_system {
                if judged {
                    out.system = Some(code_system.url().to_owned());
                }
                if let Some(version) = code_system.version() {
                    out.version = Some(version.to_owned());
                }
            } else if let Some(system) = &coding.system {
                out.system = Some(system.to_string());
            }
            if let Some(display) = &finding.display {
                out.display = Some(display.clone());
            }
            if let (Some(code_system), Some(idx)) = (&finding.code_system, finding.concept_idx) {
                let flags = &code_system.flags[idx as usize];
                if flags.inactive {
                    out.inactive = true;
                }
                if let Some(status) = flags.status().filter(|status| *status != "active") {
                    out.status = Some(status.to_owned());
                }
            }
            if let Some(normalized) = &finding.normalized_code {
                out.normalized_code = Some(normalized.clone());
            }
        }
    }
    for finding in findings {
        if let Some(unknown) = &finding.unknown_system {
            out.unknown_systems.push(unknown.clone());
        }
    }
    issues.sort_by(|left, right| left.severity.cmp(&right.severity));
    // The message gathers errors and warnings (not a versionless include's version note) and the
    // information that a display was only valid in the default language, as tx servers word it.
    let messages: Vec<String> = issues
        .iter()
        .filter(|issue| match issue.severity {
            IssueSeverity::Fatal | IssueSeverity::Error => true,
            IssueSeverity::Warning => issue.in_message && issue.tx_code != Some("vs-invalid"),
            IssueSeverity::Information => issue.tx_code == Some("invalid-display"),
        })
        .map(|issue| issue.text.clone())
        .collect();
    if issues.iter().any(|issue| issue.in_outcome) {
        out.issues = Some(OperationOutcome { issues });
    }
    if !messages.is_empty() {
        out.message = Some(messages.join("; "));
    }
    out
}

fn validate(
    context: &Context<'_>,
    value_set: Option<&ValueSet>,
    shape: InputShape,
    codings: &[Coding],
    concept: Option<Json>,
) -> Result<ValidateCodeOutcome, StoreError> {
    let mut findings = Vec::new();
    for (coding_idx, coding) in codings.iter().enumerate() {
        match check_coding(context, value_set, coding, shape, coding_idx) {
            Ok(finding) => findings.push(finding),
            // A value set importing one we do not have cannot say yes: that is an answer, not an HTTP error.
            Err(error) if error.kind == StoreErrorKind::NotFound && value_set.is_some() => {
                let issues = error
                    .outcome
                    .issues
                    .into_iter()
                    .map(|mut issue| {
                        issue.expression.clear();
                        issue
                    })
                    .collect();
                // The value set could not be judged, so "no valid coding" is not said for it either.
                findings.push(CodingFinding { issues, membership_unknown: true, ..CodingFinding::default() });
            }
            Err(error) => return Err(error),
        }
    }
    let mut issues: Vec<Issue> = findings.iter().flat_map(|finding| finding.issues.clone()).collect();
    issues.extend(status_check_issues(context, value_set, &findings));
    let valid_coding = findings.iter().any(|finding| {
        finding.in_value_set
            && (finding.concept_idx.is_some() || finding.fragment_unknown)
            && !finding.issues.iter().any(|issue| issue.severity <= IssueSeverity::Error)
    });
    if shape == InputShape::CodeableConcept
        && !findings.iter().any(|finding| {
            finding.membership_unknown || (finding.in_value_set && (finding.concept_idx.is_some() || finding.fragment_unknown))
        })
    {
        if let Some(value_set) = value_set {
            issues.insert(
                0,
                Issue::error("code-invalid", format!("No valid coding was found for the value set '{}'", value_set_canonical(value_set)))
                    .tx("not-in-vs")
                    .message_id("TX_GENERAL_CC_ERROR_MESSAGE"),
            );
        }
    }
    let result = valid_coding && !issues.iter().any(|issue| issue.severity <= IssueSeverity::Error);
    Ok(render(result, shape, codings, concept, &findings, issues))
}

/// Information issues for draft, experimental, deprecated or withdrawn content the answer relied on.
fn status_check_issues(context: &Context<'_>, value_set: Option<&ValueSet>, findings: &[CodingFinding]) -> Vec<Issue> {
    let mut issues = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for code_system in findings.iter().filter_map(|finding| finding.code_system.as_ref()) {
        let canonical = code_system.canonical();
        if seen.contains(&canonical) {
            continue;
        }
        if let Some(label) = status_label(&code_system.code_system.resource) {
            issues.push(
                Issue::information("business-rule", format!("Reference to {label} CodeSystem {canonical}"))
                    .tx("status-check")
                    .message_id(status_message_id(label)),
            );
        }
        seen.push(canonical);
    }
    // The value set asked about, then every value set it imports, each once.
    let visit = |current: &ValueSet, pending: &mut Vec<Arc<ValueSet>>, seen: &mut Vec<String>, issues: &mut Vec<Issue>| {
        let canonical = value_set_canonical(current);
        if seen.contains(&canonical) || seen.len() > 64 {
            return;
        }
        if let Some(label) = status_label(&current.resource).filter(|label| matches!(*label, "withdrawn" | "deprecated")) {
            issues.push(
                Issue::information("business-rule", format!("Reference to {label} ValueSet {canonical}"))
                    .tx("status-check")
                    .message_id(status_message_id(label)),
            );
        }
        seen.push(canonical);
        for include in current.compose.iter().flat_map(|compose| compose.include.iter()) {
            for imported in &include.value_sets {
                if let Some(entry) = context.value_set(imported, None) {
                    pending.push(entry.value_set.clone());
                }
            }
        }
    };
    let mut pending: Vec<Arc<ValueSet>> = Vec::new();
    if let Some(value_set) = value_set {
        visit(value_set, &mut pending, &mut seen, &mut issues);
    }
    while let Some(current) = pending.pop() {
        visit(&current, &mut pending, &mut seen, &mut issues);
    }
    issues
}

/// Why a grammar code fails the value set's filters on its system ("Code mL has canonical form m3,
/// not g as required"), as text for the message only.
fn grammar_filter_failures(value_set: &ValueSet, grammar: &dyn crate::grammar::GrammarCodeSystem, code: &str) -> Vec<Issue> {
    let Some(compose) = &value_set.compose else { return Vec::new() };
    compose
        .include
        .iter()
        .filter(|include| include.system.as_deref() == Some(grammar.url()))
        .flat_map(|include| include.filters.iter())
        .filter_map(|filter| grammar.filter_failure(code, filter))
        .map(|text| Issue::error("code-invalid", text).tx("not-in-vs").message_only())
        .collect()
}

/// A warning when the value set itself marks the code as deprecated.
fn value_set_concept_status(value_set: &ValueSet, system: &str, code: &str, shape: InputShape, coding_idx: usize) -> Option<Issue> {
    let compose = value_set.compose.as_ref()?;
    let reference = compose
        .include
        .iter()
        .filter(|include| include.system.as_deref() == Some(system))
        .flat_map(|include| include.concepts.iter())
        .find(|reference| reference.code == code)?;
    let extensions = model::fhir::extensions_of(reference.extra.as_ref());
    let deprecated = extensions.iter().any(|extension| {
        let url = str_of(extension, "url");
        (url == Some("http://hl7.org/fhir/StructureDefinition/valueset-deprecated")
            && model::fhir::params::primitive_text(extension).as_deref() == Some("true"))
            || (url == Some(model::fhir::EXT_STANDARDS_STATUS) && str_of(extension, "valueCode") == Some("deprecated"))
    });
    deprecated.then(|| {
        Issue::warning(
            "business-rule",
            format!(
                "The presence of the concept '{code}' in the system '{system}' in the value set {} is marked with a status of deprecated and its use should be reviewed",
                value_set_canonical(value_set)
            ),
        )
        .tx("code-comment")
        .message_id("CONCEPT_DEPRECATED_IN_VALUESET")
        .at(path(shape, coding_idx, "code"))
        .not_in_message()
    })
}

/// `CodeSystem/$validate-code`.
pub fn validate_code_system(context: &Context<'_>, input: Option<&CodedInput>) -> Result<ValidateCodeOutcome, StoreError> {
    let input = input.ok_or_else(no_code_to_validate)?;
    // The codings as sent, copied only when the instance or the `system` parameter fills them in.
    let (shape, mut codings, concept) = (input.shape, std::borrow::Cow::Borrowed(&input.codings[..]), input.codeable_concept.clone());
    if let Some(id) = &context.request.instance_id {
        let code_system = context.code_system_by_id(id).ok_or_else(|| StoreError::not_found(format!("CodeSystem/{id} is not known")))?;
        for coding in codings.to_mut() {
            coding.system.get_or_insert_with(|| code_system.url().into());
            if coding.version.is_none() {
                coding.version = code_system.version().map(Version::from);
            }
        }
    }
    if shape == InputShape::Code && codings.first().is_some_and(|coding| coding.system.is_none()) {
        if let Some(coding) = codings.to_mut().first_mut() {
            coding.system = input.fallback_system.clone();
            if coding.system.is_none() {
                return Err(StoreError::invalid("no code system was named: give url or system"));
            }
        }
    }
    validate(context, None, shape, &codings, concept)
}

/// `ValueSet/$validate-code`.
pub fn validate_value_set(context: &Context<'_>, input: Option<&CodedInput>) -> Result<ValidateCodeOutcome, StoreError> {
    let value_set = requested_value_set(context)?;
    let input = input.ok_or_else(no_code_to_validate)?;
    validate(context, Some(&value_set), input.shape, &input.codings, input.codeable_concept.clone())
}

/// The answer of `$batch-validate-code`: per `validation` entry, in order, its outcome, or the
/// OperationOutcome of the error that entry met.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BatchValidateOutcome {
    pub validations: Vec<Result<ValidateCodeOutcome, OperationOutcome>>,
}

impl BatchValidateOutcome {
    /// The answer as a JSON value, for XML and for callers that work on values.
    pub fn to_json(&self) -> Json {
        model::fhir::render::to_json(self)
    }
}

impl serde::Serialize for BatchValidateOutcome {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        struct Entry<'a>(&'a Result<ValidateCodeOutcome, OperationOutcome>);
        impl serde::Serialize for Entry<'_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("name", "validation")?;
                match self.0 {
                    Ok(outcome) => map.serialize_entry("resource", outcome)?,
                    Err(outcome) => map.serialize_entry("resource", outcome)?,
                }
                map.end()
            }
        }
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("resourceType", "Parameters")?;
        map.serialize_entry("parameter", &self.validations.iter().map(Entry).collect::<Vec<_>>())?;
        map.end()
    }
}

/// `ValueSet/$batch-validate-code`: each `validation` entry is one `$validate-code` call.
pub fn batch_validate(context: &Context<'_>, entries: &[ValidateCodeRequest]) -> Result<BatchValidateOutcome, StoreError> {
    let mut out = BatchValidateOutcome::default();
    for entry in entries {
        context.check_budget()?;
        // Each entry is its own call (its own `tx-resource` overlay, version rules and date), judged
        // by the same typed validation as a single `$validate-code`, not re-dispatched by name.
        let validated = Context::new(context.base_registry(), &entry.call)
            .and_then(|entry_context| entry_context.conclude(validate_value_set(&entry_context, entry.input.as_ref())));
        match validated {
            Ok(answer) => out.validations.push(Ok(answer)),
            // Licensed content binds the whole batch, not one entry.
            Err(error) if error.kind == StoreErrorKind::Forbidden => return Err(error),
            Err(error) => out.validations.push(Err(error.outcome)),
        }
    }
    Ok(out)
}
