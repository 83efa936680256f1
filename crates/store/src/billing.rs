//! A practice's billing list checked against the loaded releases, and made into the resources a
//! practice means by it: one ValueSet per category (its pick lists), a versioned `fragment`
//! CodeSystem where no complete release of the system is loaded (CPT without the AMA files), and
//! a complete local CodeSystem for `custom` codes.
//!
//! # Brief overview
//! [`Terminology::check_billing`] reads the rows the loader typed
//! ([`model::terminology::billing::BillingSheet`]) against the registry snapshot and answers a
//! [`BillingPlan`] (resources, warnings, diffs) or a [`BillingRejected`] naming every bad row;
//! [`Terminology::store_billing`] stores a plan in one transaction.
//!
//! # Rules
//! - A row of `cpt`, `icd10` or `hcpcs` is checked against the complete release of its system:
//!   the current one, or else the newest complete one loaded. A code of the wrong form, or one the
//!   release does not hold, is an error; where a repair of it (trimmed, upper case, ICD-10-CM's
//!   dot) is a code of the release, the message asks "did you mean …?". A code the release holds
//!   but has retired is a warning, since practices keep such codes for older claims, and so is an
//!   ICD-10-CM code that is not billable (a header with subcodes).
//! - Without a complete release, the rows of that system form a `fragment` CodeSystem under the
//!   official URL, versioned (the upload's version, else the day of the upload); its form is still
//!   checked. A loaded release is never replaced or fragmented.
//! - `custom` rows form a complete CodeSystem at `{code system base}{custom system name}`, one
//!   version per upload.
//! - Each non-empty category becomes a ValueSet at `{value set base}{code type}-{category slug}`,
//!   enumerating its codes with the version they were checked against and their displays. A later
//!   upload of the same category replaces it (same id and url, the upload's version).
//! - Diffs compare like with like: each category's value set against its previous content, and
//!   each fragment or custom system against its previous version; never a loaded release.
//!
//! Tests: `tests/it/billing.rs`, through the upload endpoint and the CLI's path alike.

use crate::diff::{diff_code_systems, CodeSystemDiff, DisplayChange};
use crate::index::{CodeSystemIndex, Registry};
use crate::{LoadSummary, Terminology};
use model::terminology::billing::{
    category_slug, category_value_set_url, with_trailing_slash, BillingRow, BillingSheet, CodeType, RowProblem, DEFAULT_CODE_SYSTEM_BASE,
    DEFAULT_CUSTOM_SYSTEM, DEFAULT_VALUE_SET_BASE,
};
use model::terminology::{CodeSystem, Concept, ConceptProperty};
use model::Json;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

/// Where the resources of a billing upload go, and what version they carry.
#[derive(Clone, Debug)]
pub struct BillingOptions {
    /// Base of the category value sets' URLs.
    pub value_set_base: String,
    /// Base of the `custom` code system's URL.
    pub code_system_base: String,
    /// The `custom` code system's name, the last segment of its URL.
    pub custom_system: String,
    /// The upload's version; without one, `today`.
    pub version: Option<String>,
    /// The day of the upload (`YYYY-MM-DD`): the version when none is given, and the value sets' date.
    pub today: String,
}

impl Default for BillingOptions {
    fn default() -> BillingOptions {
        BillingOptions {
            value_set_base: DEFAULT_VALUE_SET_BASE.to_owned(),
            code_system_base: DEFAULT_CODE_SYSTEM_BASE.to_owned(),
            custom_system: DEFAULT_CUSTOM_SYSTEM.to_owned(),
            version: None,
            today: chrono::Utc::now().format("%Y-%m-%d").to_string(),
        }
    }
}

impl BillingOptions {
    fn version(&self) -> String {
        self.version.clone().unwrap_or_else(|| self.today.clone())
    }

    /// The canonical URL of the `custom` code system.
    pub fn custom_system_url(&self) -> String {
        format!("{}{}", with_trailing_slash(&self.code_system_base), category_slug(&self.custom_system))
    }
}

/// What a code type's rows were checked against.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckedAgainst {
    pub code_type: CodeType,
    /// `url|version` of the complete release, or of the fragment or custom system the rows form.
    pub canonical: String,
    /// `complete` (checked against a loaded release), `fragment` or `custom`.
    pub how: &'static str,
    pub n_rows: usize,
}

/// A checked billing upload, ready to store.
#[derive(Debug, Default)]
pub struct BillingPlan {
    pub code_systems: Vec<CodeSystem>,
    pub value_sets: Vec<Json>,
    /// Rows taken with a remark (a retired code).
    pub warnings: Vec<RowProblem>,
    pub checked: Vec<CheckedAgainst>,
    pub code_system_diffs: Vec<CodeSystemDiff>,
    pub value_set_diffs: Vec<CodeSystemDiff>,
    pub n_rows: usize,
}

impl BillingPlan {
    /// The diffs as a job shows them, each list cut at `limit`; a value set's diff says so with
    /// `resourceType`, and its `retired` lists the codes no longer in the pick list.
    pub fn diff_json(&self, limit: usize) -> Json {
        let mut all = Vec::new();
        for (resource_type, diffs) in [("CodeSystem", &self.code_system_diffs), ("ValueSet", &self.value_set_diffs)] {
            for diff in diffs {
                let mut entry = diff.to_json(limit);
                entry["resourceType"] = json!(resource_type);
                all.push(entry);
            }
        }
        Json::Array(all)
    }

    /// One line on what the rows became.
    pub fn summary(&self) -> String {
        let checked: Vec<String> = self
            .checked
            .iter()
            .map(|checked| format!("{} {} rows against {} ({})", checked.n_rows, checked.code_type.name(), checked.canonical, checked.how))
            .collect();
        format!("{} rows checked: {}; {} value sets", self.n_rows, checked.join(", "), self.value_sets.len())
    }
}

/// A billing upload refused: every bad row, in file and line order.
#[derive(Clone, Debug, PartialEq)]
pub struct BillingRejected {
    pub problems: Vec<RowProblem>,
}

impl fmt::Display for BillingRejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n_rows: BTreeSet<(&str, Option<u64>)> = self.problems.iter().map(|problem| (problem.path.as_str(), problem.line)).collect();
        write!(f, "{} rows of the billing list are in error; nothing was stored", n_rows.len())?;
        if let Some(first) = self.problems.first() {
            write!(f, " (first: {first})")?;
        }
        Ok(())
    }
}

/// The complete release a code type's rows are checked against: the current version when it is
/// complete, else the newest complete version loaded.
fn complete_release(registry: &Registry, url: &str) -> Option<Arc<CodeSystemIndex>> {
    let is_complete = |index: &CodeSystemIndex| index.code_system.content == "complete" && index.url() == url;
    registry
        .code_system(url, None)
        .filter(|index| is_complete(index))
        .or_else(|| registry.code_system_versions(url).iter().rev().find(|index| is_complete(index)).cloned())
}

/// A code as a category lists it.
struct Member {
    code: String,
    display: String,
}

/// What one category's value set enumerates, by system: (code type, system, version) → members.
type Includes = BTreeMap<(String, Option<String>), Vec<Member>>;

impl Terminology {
    /// Checks a billing list against the loaded releases and works out what it becomes; nothing is
    /// written. Every row that is in error is named in the refusal.
    pub fn check_billing(&self, sheet: &BillingSheet, options: &BillingOptions) -> Result<BillingPlan, BillingRejected> {
        let registry = self.registry();
        let mut problems = sheet.problems.clone();
        let mut plan = BillingPlan { n_rows: sheet.rows.len(), ..BillingPlan::default() };
        let version = options.version();
        // Rows taken, with the display they get and the system version they were checked against.
        let mut taken: Vec<(&BillingRow, String, String, Option<String>)> = Vec::new();
        let mut own_systems: BTreeMap<CodeType, Vec<&BillingRow>> = BTreeMap::new();
        let code_types: BTreeSet<CodeType> = sheet.rows.iter().map(|row| row.code_type).collect();
        for code_type in code_types {
            let rows: Vec<&BillingRow> = sheet.rows.iter().filter(|row| row.code_type == code_type).collect();
            let release = code_type.official_url().and_then(|url| complete_release(&registry, url));
            let mut refuse = |row: &BillingRow, message: String| {
                problems.push(RowProblem { path: row.path.clone(), line: Some(row.line), value: row.code.clone(), message });
            };
            match &release {
                Some(release) => {
                    let release_name = format!("{} {}", code_type.system_title(), release.version().unwrap_or("(no version)"));
                    let suggestion =
                        |code: &str| code_type.repair_candidates(code).into_iter().find(|candidate| release.find(candidate).is_some());
                    for row in &rows {
                        let did_you_mean =
                            suggestion(&row.code).map(|candidate| format!("; did you mean {candidate}?")).unwrap_or_default();
                        if !code_type.has_form(&row.code) {
                            refuse(row, format!("not of the {} form ({}){did_you_mean}", code_type.system_title(), code_type.form_text()));
                            continue;
                        }
                        let Some(concept_idx) = release.find(&row.code) else {
                            refuse(row, format!("not a code of {release_name}{did_you_mean}"));
                            continue;
                        };
                        if release.flags[concept_idx as usize].inactive {
                            let retired_on = release
                                .concept(concept_idx)
                                .property_text(model::terminology::lifecycle::PROPERTY_RETIREMENT_DATE)
                                .map(|day| format!(" on {day}"))
                                .unwrap_or_default();
                            plan.warnings.push(RowProblem {
                                path: row.path.clone(),
                                line: Some(row.line),
                                value: row.code.clone(),
                                message: format!("retired in {release_name}{retired_on}; kept in the list for older claims"),
                            });
                        }
                        // A diagnosis header (it has subcodes) cannot go on a claim: taken, with a warning.
                        if release.concept(concept_idx).property_text("billable").as_deref() == Some("false") {
                            plan.warnings.push(RowProblem {
                                path: row.path.clone(),
                                line: Some(row.line),
                                value: row.code.clone(),
                                message: format!("not billable in {release_name}: it has subcodes, and a claim needs one of them"),
                            });
                        }
                        let display = release.concept(concept_idx).display.clone().unwrap_or_else(|| row.description.clone());
                        taken.push((row, display, release.url().to_owned(), release.version().map(str::to_owned)));
                    }
                    plan.checked.push(CheckedAgainst { code_type, canonical: release.canonical(), how: "complete", n_rows: rows.len() });
                }
                None => {
                    let url = code_type.official_url().map(str::to_owned).unwrap_or_else(|| options.custom_system_url());
                    let mut form_ok = Vec::new();
                    for row in &rows {
                        if code_type.has_form(&row.code) {
                            form_ok.push(*row);
                            continue;
                        }
                        let did_you_mean = code_type
                            .repair_candidates(&row.code)
                            .into_iter()
                            .find(|candidate| code_type.has_form(candidate))
                            .map(|candidate| format!("; did you mean {candidate}?"))
                            .unwrap_or_default();
                        refuse(row, format!("not of the {} form ({}){did_you_mean}", code_type.system_title(), code_type.form_text()));
                    }
                    for row in &form_ok {
                        taken.push((row, row.description.clone(), url.clone(), Some(version.clone())));
                    }
                    let how = if code_type == CodeType::Custom { "custom" } else { "fragment" };
                    plan.checked.push(CheckedAgainst { code_type, canonical: format!("{url}|{version}"), how, n_rows: rows.len() });
                    own_systems.insert(code_type, form_ok);
                }
            }
        }
        if !problems.is_empty() {
            problems.sort_by(|left, right| (&left.path, left.line).cmp(&(&right.path, right.line)));
            return Err(BillingRejected { problems });
        }
        for (code_type, rows) in own_systems {
            let code_system = own_code_system(code_type, &rows, options, &version);
            if let Some(previous) = registry.code_system(&code_system.url, None).filter(|previous| previous.url() == code_system.url) {
                plan.code_system_diffs.push(diff_code_systems(&previous, &code_system));
            }
            plan.code_systems.push(code_system);
        }
        // One value set per (code type, category), codes in the order the list gives them.
        let mut categories: BTreeMap<(CodeType, String), (String, Includes)> = BTreeMap::new();
        for (row, display, system, system_version) in &taken {
            if row.category.is_empty() {
                continue;
            }
            let (_, includes) =
                categories.entry((row.code_type, category_slug(&row.category))).or_insert_with(|| (row.category.clone(), Includes::new()));
            let members = includes.entry((system.clone(), system_version.clone())).or_default();
            if !members.iter().any(|member| member.code == row.code) {
                members.push(Member { code: row.code.clone(), display: display.clone() });
            }
        }
        for ((code_type, slug), (category, includes)) in categories {
            let url = category_value_set_url(&options.value_set_base, code_type, &category);
            let previous = registry.value_set(&url, None);
            let id = previous
                .as_ref()
                .and_then(|entry| entry.id.clone())
                .unwrap_or_else(|| crate::ids::slug(&format!("{}-{slug}", code_type.name())));
            let include: Vec<Json> = includes
                .iter()
                .map(|((system, system_version), members)| {
                    let concepts: Vec<Json> =
                        members.iter().map(|member| json!({"code": member.code, "display": member.display})).collect();
                    let mut include = json!({"system": system});
                    if let Some(system_version) = system_version {
                        include["version"] = json!(system_version);
                    }
                    include["concept"] = Json::Array(concepts);
                    include
                })
                .collect();
            let value_set = json!({
                "resourceType": "ValueSet",
                "id": id,
                "url": url,
                "version": version,
                "name": computable_name(&format!("{} {category}", code_type.name())),
                "title": category,
                "status": "active",
                "date": options.today,
                "description": format!("The {} codes of the practice's billing category '{category}', from its billing list", code_type.system_title()),
                "compose": {"include": include},
            });
            if let Some(previous) = previous {
                plan.value_set_diffs.push(value_set_diff(&url, &previous.value_set.resource, &value_set));
            }
            plan.value_sets.push(value_set);
        }
        Ok(plan)
    }

    /// Stores a checked billing upload in one transaction: its code systems (made current with
    /// `make_current`) and its value sets, each replacing the value set of the same URL.
    pub fn store_billing(&self, plan: BillingPlan, make_current: bool) -> Result<LoadSummary, crate::StoreError> {
        self.load_replacing_value_sets(plan.code_systems, plan.value_sets, make_current, None)
    }

    /// As [`Terminology::store_billing`] for an upload job, whose end is written in the same transaction.
    pub fn store_billing_as_job(
        &self,
        plan: BillingPlan,
        make_current: bool,
        job_id: &str,
        finish: impl FnOnce(&LoadSummary) -> crate::JobUpdate,
    ) -> Result<LoadSummary, crate::StoreError> {
        self.load_replacing_value_sets(plan.code_systems, plan.value_sets, make_current, Some((job_id, Box::new(finish))))
    }
}

/// A FHIR computable name: the words of `text`, each capitalised, letters and digits only.
fn computable_name(text: &str) -> String {
    let name: String = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map(|first| first.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect();
    if name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        name
    } else {
        format!("List{name}")
    }
}

/// The code system a code type's rows form where no complete release is loaded: a CPT, HCPCS or
/// ICD-10-CM `fragment` under the official URL, or the complete `custom` system.
fn own_code_system(code_type: CodeType, rows: &[&BillingRow], options: &BillingOptions, version: &str) -> CodeSystem {
    let mut concepts: Vec<Concept> = Vec::new();
    for row in rows {
        let category =
            (!row.category.is_empty()).then(|| ConceptProperty::new("category", "valueString", Json::String(row.category.clone())));
        if let Some(concept) = concepts.iter_mut().find(|concept| concept.code == row.code) {
            if concept.display.is_none() && !row.description.is_empty() {
                concept.display = Some(row.description.clone());
            }
            concept.properties.extend(category);
            continue;
        }
        concepts.push(Concept {
            code: row.code.clone(),
            display: (!row.description.is_empty()).then(|| row.description.clone()),
            definition: None,
            designations: Vec::new(),
            properties: category.into_iter().collect(),
            extra: None,
            nest_parent: None,
        });
    }
    let category_property =
        json!([{"code": "category", "type": "string", "description": "The billing category the practice's list gives the code"}]);
    let mut resource = match code_type {
        CodeType::Custom => json!({
            "resourceType": "CodeSystem",
            "url": options.custom_system_url(),
            "name": computable_name(&options.custom_system),
            "title": format!("Local codes: {}", options.custom_system),
            "status": "active",
            "content": "complete",
        }),
        official => {
            let (name, title, oid) = match official {
                CodeType::Cpt => ("CPT", "Current Procedural Terminology (CPT)", "2.16.840.1.113883.6.12"),
                CodeType::Hcpcs => ("HCPCS", "Healthcare Common Procedure Coding System (HCPCS) Level II", "2.16.840.1.113883.6.285"),
                _ => (
                    "ICD10CM",
                    "International Classification of Diseases, Tenth Revision, Clinical Modification (ICD-10-CM)",
                    "2.16.840.1.113883.6.90",
                ),
            };
            json!({
                "resourceType": "CodeSystem",
                "url": official.official_url(),
                "identifier": [{"system": "urn:ietf:rfc:3986", "value": format!("urn:oid:{oid}")}],
                "name": name,
                "title": title,
                "status": "active",
                "content": "fragment",
                "description": "The codes of a practice's billing list, where no complete release of the system is loaded",
            })
        }
    };
    resource["version"] = json!(version);
    resource["date"] = json!(options.today);
    resource["caseSensitive"] = json!(true);
    resource["count"] = json!(concepts.len());
    resource["property"] = category_property;
    let mut code_system = CodeSystem::from_json(&resource).expect("a billing CodeSystem header is valid");
    code_system.concepts = concepts;
    code_system
}

/// The codes (and displays) a value set's `compose` enumerates.
fn enumerated(value_set: &Json) -> BTreeMap<String, Option<String>> {
    let mut codes = BTreeMap::new();
    for include in value_set["compose"]["include"].as_array().into_iter().flatten() {
        for concept in include["concept"].as_array().into_iter().flatten() {
            if let Some(code) = concept["code"].as_str() {
                codes.insert(code.to_owned(), concept["display"].as_str().map(str::to_owned));
            }
        }
    }
    codes
}

/// A category's value set against its previous content: codes added, codes no longer listed
/// (`retired`), displays changed.
fn value_set_diff(url: &str, before: &Json, after: &Json) -> CodeSystemDiff {
    let (before_codes, after_codes) = (enumerated(before), enumerated(after));
    let mut diff = CodeSystemDiff {
        url: url.to_owned(),
        from_version: before["version"].as_str().map(str::to_owned),
        to_version: after["version"].as_str().map(str::to_owned),
        n_before: before_codes.len(),
        n_after: after_codes.len(),
        ..CodeSystemDiff::default()
    };
    for (code, display) in &after_codes {
        match before_codes.get(code) {
            None => diff.added.push(code.clone()),
            Some(before_display) if before_display != display => {
                diff.display_changed.push(DisplayChange { code: code.clone(), before: before_display.clone(), after: display.clone() })
            }
            Some(_) => {}
        }
    }
    diff.retired = before_codes.keys().filter(|code| !after_codes.contains_key(*code)).cloned().collect();
    diff
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_value_set_diffs() {
        assert_eq!(computable_name("icd10 diabetes-diagnosis codes"), "Icd10DiabetesDiagnosisCodes");
        assert_eq!(computable_name("2026 list"), "List2026List");
        let before = json!({"version": "1", "compose": {"include": [{"system": "s", "concept": [{"code": "a", "display": "A"}, {"code": "b", "display": "B"}]}]}});
        let after = json!({"version": "2", "compose": {"include": [{"system": "s", "concept": [{"code": "b", "display": "B2"}, {"code": "c", "display": "C"}]}]}});
        let diff = value_set_diff("http://x/vs", &before, &after);
        assert_eq!((diff.added.as_slice(), diff.retired.as_slice()), (&["c".to_owned()][..], &["a".to_owned()][..]));
        assert_eq!(diff.display_changed.len(), 1);
    }
}
