//! What one operation call can see: the snapshot, its `tx-resource` overlay and its version rules.

use super::request::{DeniedSystem, OpRequest};
use crate::index::{CodeSystemIndex, Registry, ValueSetEntry};
use crate::StoreError;
use model::fhir::{str_of, Parameters};
use model::terminology::{loinc, CodeSystem, ValueSet};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

pub struct Context<'a> {
    base: &'a Registry,
    /// The call's `tx-resource`s; `None` for the common call that sends none, which then builds nothing.
    overlay: Option<Registry>,
    /// Supplements in force for this call (`useSupplement`, or named by the value set).
    supplements: RefCell<Vec<Arc<CodeSystemIndex>>>,
    /// Version rules that decided a version, for the expansion to echo.
    rules_used: RefCell<Vec<(String, String)>>,
    /// Code systems with the supplements in force merged in, built on first use.
    supplemented: RefCell<HashMap<String, Arc<CodeSystemIndex>>>,
    pub request: &'a OpRequest,
    pub params: &'a Parameters,
    /// `system-version`: the version to use when none is given.
    default_versions: Vec<(String, String)>,
    /// `check-system-version`: the version a coding must name.
    pub check_versions: Vec<(String, String)>,
    /// `force-system-version`: the version to use whatever is given.
    force_versions: Vec<(String, String)>,
    /// `default-valueset-version`: the version of a value set to import when the import names none.
    default_value_set_versions: Vec<(String, String)>,
    /// The first denied code system this call reached; the call is then refused as a whole.
    denial: RefCell<Option<DeniedSystem>>,
    /// `date`: the day (`YYYY-MM-DD`) the answer is for, such as a claim's date of service.
    pub date: Option<String>,
    /// Why no version of a dated code system was in force on `date`; the call then says so.
    out_of_period: RefCell<Option<String>>,
    /// While an expansion that snapshots may share is worked out: the canonical URLs it looked
    /// up in the snapshot, found or not (see [`Context::recording_reads`]).
    reads: RefCell<Option<Vec<String>>>,
}

/// What a date of service chooses among the versions of a code system.
enum DayChoice {
    /// None of the versions says when it is in force, so the day does not choose.
    Undated,
    /// The version in force that day.
    InForce(Arc<CodeSystemIndex>),
    /// Versions say when they are in force, and none was that day.
    NoneInForce,
}

fn canonical_pairs(params: &Parameters, name: &str) -> Vec<(String, String)> {
    params
        .strs(name)
        .into_iter()
        .filter_map(|canonical| canonical.split_once('|').map(|(url, version)| (url.to_owned(), version.to_owned())))
        .collect()
}

impl<'a> Context<'a> {
    pub fn new(base: &'a Registry, request: &'a OpRequest) -> Result<Context<'a>, StoreError> {
        let params = &request.params;
        let mut overlay: Option<Registry> = None;
        for resource in params.resources("tx-resource") {
            let overlay = overlay.get_or_insert_with(Registry::default);
            match str_of(resource, "resourceType") {
                Some("CodeSystem") => {
                    let code_system = CodeSystem::from_json(resource)
                        .map_err(|error| StoreError::invalid(format!("invalid tx-resource CodeSystem: {error}")))?;
                    overlay.add_code_system(CodeSystemIndex::new(code_system, str_of(resource, "id").map(str::to_owned)));
                }
                Some("ValueSet") => {
                    let value_set = ValueSet::from_json(resource)
                        .map_err(|error| StoreError::invalid(format!("invalid tx-resource ValueSet: {error}")))?;
                    overlay.add_value_set(value_set, str_of(resource, "id").map(str::to_owned));
                }
                Some("ConceptMap") => overlay.add_concept_map(resource.clone(), str_of(resource, "id").map(str::to_owned)),
                _ => {}
            }
        }
        if let Some(language) = params.str("displayLanguage") {
            let valid = language.split(',').all(|part| {
                let tag = part.split(';').next().unwrap_or_default().trim();
                tag == "*"
                    || (!tag.is_empty()
                        && tag
                            .split('-')
                            .all(|piece| !piece.is_empty() && piece.len() <= 8 && piece.chars().all(|c| c.is_ascii_alphanumeric())))
            });
            if !valid {
                return Err(StoreError::with_issue(
                    crate::StoreErrorKind::Invalid,
                    model::fhir::Issue::error("processing", format!("Invalid displayLanguage: '{language}'")).tx("invalid-display"),
                ));
            }
        }
        let date = match params.str("date") {
            None => None,
            Some(text) => Some(model::terminology::lifecycle::day_of(&text).ok_or_else(|| {
                StoreError::with_issue(
                    crate::StoreErrorKind::Invalid,
                    model::fhir::Issue::error(
                        "invalid",
                        format!("The parameter 'date' must be a FHIR date or dateTime (such as 2025-03-01), not '{text}'"),
                    )
                    .at("date"),
                )
            })?),
        };
        let context = Context {
            date,
            out_of_period: RefCell::new(None),
            reads: RefCell::new(None),
            base,
            overlay,
            supplements: RefCell::new(Vec::new()),
            supplemented: RefCell::new(HashMap::new()),
            rules_used: RefCell::new(Vec::new()),
            request,
            params,
            default_versions: canonical_pairs(params, "system-version"),
            check_versions: canonical_pairs(params, "check-system-version"),
            force_versions: canonical_pairs(params, "force-system-version"),
            default_value_set_versions: canonical_pairs(params, "default-valueset-version"),
            denial: RefCell::new(None),
        };
        for canonical in params.strs("useSupplement") {
            context.use_supplement(&canonical)?;
        }
        Ok(context)
    }

    /// Why no version of a dated code system was in force on the call's `date`, if that happened.
    pub fn out_of_period(&self) -> Option<String> {
        self.out_of_period.borrow().clone()
    }

    /// Every version of a code system this call can see, overlay first.
    pub fn versions_of(&self, url: &str) -> Vec<Arc<CodeSystemIndex>> {
        if !self.admits(url) {
            return Vec::new();
        }
        self.note_read(url);
        self.overlay_versions(url).iter().chain(self.base.code_system_versions(url)).cloned().collect()
    }

    /// The versions of a code system the call's `tx-resource`s hold.
    fn overlay_versions(&self, url: &str) -> &[Arc<CodeSystemIndex>] {
        self.overlay.as_ref().map(|overlay| overlay.code_system_versions(url)).unwrap_or_default()
    }

    /// The version of a code system in force on `day`, among those that say when they are in
    /// force; when none was, the reason is recorded for the call to answer with.
    fn version_in_force(&self, url: &str, day: &str) -> DayChoice {
        let versions = self.versions_of(url);
        let mut dated: Vec<&Arc<CodeSystemIndex>> = versions.iter().filter(|index| index.effective_period.is_some()).collect();
        if dated.is_empty() {
            return DayChoice::Undated;
        }
        dated.sort_by(|left, right| {
            left.effective_period.as_ref().map(|period| &period.start).cmp(&right.effective_period.as_ref().map(|period| &period.start))
        });
        match dated.iter().rev().find(|index| index.effective_period.as_ref().is_some_and(|period| period.contains(day))) {
            Some(index) => DayChoice::InForce((*index).clone()),
            None => {
                let periods: Vec<String> = dated
                    .iter()
                    .map(|index| {
                        let period = index.effective_period.as_ref().expect("dated");
                        format!(
                            "{} from {} to {}",
                            index.version().unwrap_or("(no version)"),
                            period.start,
                            period.end.as_deref().unwrap_or("(open)")
                        )
                    })
                    .collect();
                let when = if dated.iter().all(|index| index.effective_period.as_ref().is_some_and(|period| day < period.start.as_str())) {
                    "before every version loaded here"
                } else {
                    "after the newest version loaded here ended"
                };
                let message = format!(
                    "No version of the code system '{url}' loaded here was in force on {day}, which is {when}; the versions loaded here are in force: {}",
                    periods.join("; ")
                );
                self.out_of_period.borrow_mut().get_or_insert(message);
                DayChoice::NoneInForce
            }
        }
    }

    /// The denied code system this call reached, if any.
    pub fn denial(&self) -> Option<DeniedSystem> {
        self.denial.borrow().clone()
    }

    /// The answer the call gives once its work is done: a call that reached a denied code system
    /// anywhere in its resolution is refused as a whole, whatever it computed, and a date of
    /// service that no loaded version covers is the answer, whatever else was found.
    pub fn conclude<T>(&self, answer: Result<T, StoreError>) -> Result<T, StoreError> {
        if let Some(denied) = self.denial() {
            return Err(StoreError::with_issue(crate::StoreErrorKind::Forbidden, model::fhir::Issue::error("forbidden", denied.message)));
        }
        if let Some(message) = self.out_of_period() {
            return Err(StoreError::with_issue(
                crate::StoreErrorKind::NotFound,
                model::fhir::Issue::error("not-found", message).at("date"),
            ));
        }
        answer
    }

    /// Whether the caller may use a code system (by canonical URL or OID); a denied one is
    /// recorded, so that the call is refused whatever else it computed.
    pub fn admits(&self, system: &str) -> bool {
        let denied = &self.request.denied_systems;
        if denied.is_empty() {
            return true;
        }
        let url = system.split('|').next().unwrap_or(system);
        let canonical = model::uris::canonical_for_oid(url).unwrap_or(url);
        match denied.iter().find(|denied| denied.url == url || denied.url == canonical) {
            None => true,
            Some(denied) => {
                self.denial.borrow_mut().get_or_insert_with(|| denied.clone());
                false
            }
        }
    }

    /// As [`Context::admits`], for a resolved code system: `None` when it is denied.
    fn admitted(&self, index: Option<Arc<CodeSystemIndex>>) -> Option<Arc<CodeSystemIndex>> {
        index.filter(|index| self.admits(index.url()))
    }

    /// Answers `too-costly` once the call has run past its deadline.
    pub fn check_budget(&self) -> Result<(), StoreError> {
        match self.request.deadline {
            Some(deadline) if std::time::Instant::now() > deadline => Err(StoreError::with_issue(
                crate::StoreErrorKind::TooCostly,
                model::fhir::Issue::error("too-costly", "The operation ran past this server's time budget for one request and was stopped"),
            )),
            _ => Ok(()),
        }
    }

    /// Whether this call sees exactly the snapshot (no `tx-resource`, supplements or version rules),
    /// so that expansions computed for it can be shared with other calls.
    pub fn shares_snapshot_expansions(&self) -> bool {
        self.overlay.as_ref().is_none_or(Registry::is_empty)
            && self.supplements.borrow().is_empty()
            && self.default_versions.is_empty()
            && self.check_versions.is_empty()
            && self.force_versions.is_empty()
            && self.default_value_set_versions.is_empty()
            && self.date.is_none()
    }

    /// Records that a version rule decided a version.
    pub fn note_rule_used(&self, name: &str, canonical: &str) {
        let mut used = self.rules_used.borrow_mut();
        let entry = (name.to_owned(), canonical.to_owned());
        if !used.contains(&entry) {
            used.push(entry);
        }
    }

    pub fn rules_used(&self) -> Vec<(String, String)> {
        self.rules_used.borrow().clone()
    }

    /// Puts a supplement in force for this call; an unknown one is an error.
    pub fn use_supplement(&self, canonical: &str) -> Result<(), StoreError> {
        let (url, version) = model::uris::split_canonical(canonical);
        let supplement =
            self.code_system_unsupplemented(url, version).filter(|index| index.code_system.content == "supplement").ok_or_else(|| {
                StoreError::with_issue(
                    crate::StoreErrorKind::NotFound,
                    model::fhir::Issue::error("not-found", format!("Required supplement not found: '{canonical}'"))
                        .tx("not-found")
                        .message_id("VALUESET_SUPPLEMENT_MISSING"),
                )
            })?;
        let mut supplements = self.supplements.borrow_mut();
        if !supplements.iter().any(|existing| Arc::ptr_eq(existing, &supplement)) {
            supplements.push(supplement);
            self.supplemented.borrow_mut().clear();
        }
        Ok(())
    }

    /// The supplements in force that supplement a code system.
    fn supplements_for(&self, base_url: &str) -> Vec<Arc<CodeSystemIndex>> {
        self.supplements
            .borrow()
            .iter()
            .filter(|supplement| {
                supplement.code_system.supplements.as_deref().map(|base| model::uris::split_canonical(base).0) == Some(base_url)
            })
            .cloned()
            .collect()
    }

    /// The displays and designations that supplements sent with the request (`tx-resource`) give
    /// a code, whether or not the call names them: they define the displays of user-assigned codes.
    pub fn request_supplement_names(&self, base_url: &str, code: &str) -> Vec<String> {
        let Some(overlay) = &self.overlay else { return Vec::new() };
        overlay
            .all_code_systems()
            .iter()
            .filter(|supplement| {
                supplement.code_system.content == "supplement"
                    && supplement.code_system.supplements.as_deref().map(|base| model::uris::split_canonical(base).0) == Some(base_url)
            })
            .filter_map(|supplement| supplement.find(code).map(|idx| supplement.concept(idx).clone()))
            .flat_map(|concept| concept.display.into_iter().chain(concept.designations.into_iter().map(|designation| designation.value)))
            .collect()
    }

    /// `url|version` of the supplements in force for a code system.
    pub fn supplements_used(&self, base_url: &str) -> Vec<String> {
        self.supplements_for(base_url).iter().map(|supplement| supplement.canonical()).collect()
    }

    /// The supplement in force that gave a concept this designation, as `url|version`.
    pub fn designation_source(&self, base_url: &str, code: &str, designation: &model::terminology::Designation) -> Option<String> {
        self.supplements_for(base_url)
            .into_iter()
            .find(|supplement| {
                supplement.find(code).is_some_and(|idx| {
                    supplement
                        .concept(idx)
                        .designations
                        .iter()
                        .any(|own| own.value == designation.value && own.language == designation.language)
                })
            })
            .map(|supplement| supplement.canonical())
    }

    /// A code system with the supplements in force merged in (designations and properties).
    fn with_supplements(&self, index: Arc<CodeSystemIndex>) -> Arc<CodeSystemIndex> {
        let applicable = self.supplements_for(index.url());
        if applicable.is_empty() {
            return index;
        }
        let key = index.canonical();
        if let Some(merged) = self.supplemented.borrow().get(&key) {
            return merged.clone();
        }
        let mut code_system = index.code_system.clone();
        for supplement in &applicable {
            for definition in &supplement.code_system.properties {
                if !code_system.properties.iter().any(|existing| existing.code == definition.code) {
                    code_system.properties.push(definition.clone());
                }
            }
            for concept in &supplement.code_system.concepts {
                if let Some(target) = index.find(&concept.code) {
                    let merged = &mut code_system.concepts[target as usize];
                    merged.designations.extend(concept.designations.iter().cloned());
                    merged.properties.extend(concept.properties.iter().cloned());
                    // Concept extensions (label, itemWeight, rendering hints) join the concept's own.
                    let added = model::fhir::extensions_of(concept.extra.as_deref());
                    if !added.is_empty() {
                        let extra = merged.extra.get_or_insert_with(|| Box::new(serde_json::json!({})));
                        if !extra["extension"].is_array() {
                            extra["extension"] = serde_json::json!([]);
                        }
                        if let Some(list) = extra["extension"].as_array_mut() {
                            list.extend(added.iter().cloned());
                        }
                    }
                }
            }
        }
        let merged = Arc::new(CodeSystemIndex::new(code_system, index.id.clone()));
        self.supplemented.borrow_mut().insert(key, merged.clone());
        merged
    }

    fn rule<'r>(rules: &'r [(String, String)], url: &str) -> Option<&'r str> {
        rules.iter().find(|(rule_url, _)| rule_url == url).map(|(_, version)| version.as_str())
    }

    /// The version the rules choose for a system, given the version the content or caller named.
    pub fn effective_version<'v>(&'v self, url: &str, named: Option<&'v str>) -> Option<&'v str> {
        if let Some(forced) = Self::rule(&self.force_versions, url) {
            return Some(forced);
        }
        named.or_else(|| Self::rule(&self.default_versions, url))
    }

    /// The `force-system-version` pattern for a system, if any.
    pub fn forced_version(&self, url: &str) -> Option<&str> {
        Self::rule(&self.force_versions, url)
    }

    /// The `system-version` default for a system, if any.
    pub fn default_version(&self, url: &str) -> Option<&str> {
        Self::rule(&self.default_versions, url)
    }

    /// The `check-system-version` pattern for a system, if any.
    pub fn checked_version(&self, url: &str) -> Option<&str> {
        Self::rule(&self.check_versions, url)
    }

    /// A code system exactly as named (no version rules applied).
    pub fn code_system_exact(&self, url: &str, version: Option<&str>) -> Option<Arc<CodeSystemIndex>> {
        self.code_system_unsupplemented(url, version).map(|index| self.with_supplements(index))
    }

    fn code_system_unsupplemented(&self, url: &str, version: Option<&str>) -> Option<Arc<CodeSystemIndex>> {
        if !self.admits(url) {
            return None;
        }
        // A date of service, and no version named: the version in force that day.
        if let (None, Some(day)) = (version, &self.date) {
            match self.version_in_force(url, day) {
                DayChoice::InForce(index) => return self.admitted(Some(index)),
                DayChoice::NoneInForce => return None,
                DayChoice::Undated => {}
            }
        }
        let from_overlay = self.overlay.as_ref().and_then(|overlay| overlay.code_system(url, version));
        self.note_read(url);
        let from_base = self.base.code_system(url, version);
        let chosen = match (from_overlay, from_base) {
            (Some(overlay), Some(base)) if version.is_none() => {
                if crate::index::compare_versions(base.version(), overlay.version()) == std::cmp::Ordering::Greater {
                    Some(base)
                } else {
                    Some(overlay)
                }
            }
            (Some(overlay), _) => Some(overlay),
            (None, base) => base,
        };
        self.admitted(chosen)
    }

    /// A code system with the version rules applied and the supplements in force merged in.
    pub fn code_system(&self, url: &str, version: Option<&str>) -> Option<Arc<CodeSystemIndex>> {
        self.code_system_exact(url, self.effective_version(url, version))
    }

    /// Every known version of a code system, for messages.
    pub fn known_versions(&self, url: &str) -> Vec<String> {
        if !self.admits(url) {
            return Vec::new();
        }
        self.note_read(url);
        let mut versions: Vec<String> = self
            .overlay_versions(url)
            .iter()
            .chain(self.base.code_system_versions(url))
            .filter_map(|index| index.version().map(str::to_owned))
            .collect();
        versions.sort_by(|left, right| crate::index::compare_versions(Some(left), Some(right)));
        versions.dedup();
        versions
    }

    /// A value set by `url` or `url|version`, overlay first, then the implicit value sets of the
    /// loaded code systems (`{system}?fhir_vs`, `?fhir_vs=isa/{code}`, `?fhir_vs=refset/{id}`, `http://loinc.org/vs`,
    /// `http://loinc.org/vs/LL…` and `…/vs/LP…`).
    pub fn value_set(&self, canonical: &str, version: Option<&str>) -> Option<Arc<ValueSetEntry>> {
        let (url, pinned) = crate::ecl::split_ecl_canonical(canonical).unwrap_or_else(|| model::uris::split_canonical(canonical));
        let version = pinned.or(version);
        self.note_read(url);
        self.overlay
            .as_ref()
            .and_then(|overlay| overlay.value_set(url, version))
            .or_else(|| self.base.value_set(url, version))
            .or_else(|| self.implicit_value_set(url))
    }

    /// A value set that `owner` imports: `#id` names one of its contained resources.
    pub fn imported_value_set(&self, owner: &ValueSet, canonical: &str) -> Option<Arc<ValueSet>> {
        match canonical.strip_prefix('#') {
            Some(id) => model::fhir::array_of(&owner.resource, "contained")
                .iter()
                .find(|contained| {
                    model::fhir::str_of(contained, "id") == Some(id) && model::fhir::str_of(contained, "resourceType") == Some("ValueSet")
                })
                .and_then(|contained| ValueSet::from_json(contained).ok())
                .map(Arc::new),
            None => {
                let effective = self.imported_canonical(canonical);
                if effective != canonical {
                    self.note_rule_used("default-valueset-version", &effective);
                }
                self.value_set(&effective, None).map(|entry| entry.value_set.clone())
            }
        }
    }

    /// The canonical an import resolves to: as written, or with the `default-valueset-version`
    /// the caller gave for a versionless one.
    pub fn imported_canonical(&self, canonical: &str) -> String {
        let (url, version) = model::uris::split_canonical(canonical);
        match (version, Self::rule(&self.default_value_set_versions, url)) {
            (None, Some(default)) => format!("{url}|{default}"),
            _ => canonical.to_owned(),
        }
    }

    fn implicit_value_set(&self, url: &str) -> Option<Arc<ValueSetEntry>> {
        let (system, filter) = match url.split_once("?fhir_vs") {
            Some((system, rest)) => (system.to_owned(), rest.strip_prefix('=').map(str::to_owned)),
            None if url == loinc::VALUE_SET_BASE => (loinc::SYSTEM.to_owned(), None),
            None => {
                let code = url.strip_prefix(loinc::VALUE_SET_BASE)?.strip_prefix('/')?;
                (loinc::SYSTEM.to_owned(), Some(format!("loinc/{code}")))
            }
        };
        let code_system = self.code_system(&system, None)?;
        let filter = match filter.as_deref() {
            None | Some("") => serde_json::Value::Null,
            Some(rest) => match rest.split_once('/') {
                // `http://loinc.org/vs/LL…` holds the list's answers in sequence order, and
                // `…/vs/LP…` the codes under the part in the component hierarchy; other codes
                // (and codes the release lacks) name no value set.
                Some(("loinc", code)) => {
                    code_system.find(code)?;
                    if loinc::is_answer_list_code(code) {
                        serde_json::json!([{"property": loinc::LIST_FILTER, "op": "=", "value": code}])
                    } else if code.starts_with("LP") {
                        serde_json::json!([{"property": "concept", "op": "descendent-of", "value": code}])
                    } else {
                        return None;
                    }
                }
                Some(("isa", code)) => serde_json::json!([{"property": "concept", "op": "is-a", "value": code}]),
                Some(("refset", id)) => serde_json::json!([{"property": "refset", "op": "=", "value": id}]),
                // ECL (SNOMED CT's implicit value sets), percent-encoded inside the url.
                Some(("ecl", expression)) => {
                    serde_json::json!([{"property": "constraint", "op": "=", "value": crate::ecl::percent_decode(expression)}])
                }
                None if rest == "refset" => serde_json::json!([{"property": "constraint", "op": "=", "value": crate::ecl::ALL_REFSETS}]),
                _ => return None,
            },
        };
        let mut include = serde_json::json!({"system": system, "version": code_system.version()});
        if !filter.is_null() {
            include["filter"] = filter;
        }
        let resource = serde_json::json!({"resourceType": "ValueSet", "url": url, "status": "active", "compose": {"include": [include]}});
        let value_set = ValueSet::from_json(&resource).ok()?;
        Some(Arc::new(ValueSetEntry { value_set: Arc::new(value_set), id: None }))
    }

    pub fn value_set_by_id(&self, id: &str) -> Option<Arc<ValueSetEntry>> {
        self.base.value_set_by_id(id)
    }

    pub fn code_system_by_id(&self, id: &str) -> Option<Arc<CodeSystemIndex>> {
        self.admitted(self.base.code_system_by_id(id))
    }

    pub fn concept_maps(&self) -> Vec<Arc<crate::index::ConceptMapEntry>> {
        let overlay = self.overlay.as_ref().map(Registry::concept_maps).unwrap_or_default();
        overlay.iter().chain(self.base.concept_maps()).cloned().collect()
    }

    pub fn concept_map_by_id(&self, id: &str) -> Option<Arc<crate::index::ConceptMapEntry>> {
        self.base.concept_map_by_id(id)
    }

    /// Runs `work`, and gives the canonical URLs (and `urn:oid:` aliases) it looked up in the
    /// snapshot besides its answer; an enclosing recording gets them too, since what an import
    /// drew on, its importer drew on.
    pub fn recording_reads<T>(&self, work: impl FnOnce() -> T) -> (T, Vec<String>) {
        let enclosing = self.reads.replace(Some(Vec::new()));
        let answer = work();
        let mut reads = self.reads.replace(enclosing).unwrap_or_default();
        reads.sort_unstable();
        reads.dedup();
        self.note_reads(&reads);
        (answer, reads)
    }

    /// Adds lookups made earlier (by a cached expansion's computation) to the recording under way.
    pub fn note_reads(&self, reads: &[String]) {
        if let Some(recording) = self.reads.borrow_mut().as_mut() {
            recording.extend(reads.iter().cloned());
        }
    }

    fn note_read(&self, url: &str) {
        if let Some(recording) = self.reads.borrow_mut().as_mut() {
            recording.push(url.to_owned());
            // The registry files a well-known OID under the canonical URL it stands for.
            if let Some(canonical) = model::uris::canonical_for_oid(url) {
                recording.push(canonical.to_owned());
            }
        }
    }

    pub fn base_registry(&self) -> &'a Registry {
        self.base
    }

    /// The languages the caller prefers: `displayLanguage`, else `Accept-Language`, best first.
    pub fn display_languages(&self) -> Vec<String> {
        self.display_languages_for(None)
    }

    /// Whether the caller refused every other language (`*; q=0`), so displays must not fall back.
    pub fn wildcard_language_refused(&self) -> bool {
        let Some(raw) = self.params.str("displayLanguage").or_else(|| self.request.accept_language.clone()) else { return false };
        raw.split(',').any(|part| {
            let mut pieces = part.split(';');
            pieces.next().map(str::trim) == Some("*")
                && pieces.any(|piece| piece.trim().strip_prefix("q=").and_then(|q| q.trim().parse::<f32>().ok()) == Some(0.0))
        })
    }

    /// The language preference as the caller wrote it, for messages.
    pub fn raw_display_language(&self, value_set_language: Option<&str>) -> Option<String> {
        self.params
            .str("displayLanguage")
            .or_else(|| self.request.accept_language.clone())
            .or_else(|| value_set_language.map(str::to_owned))
    }

    /// As [`Context::display_languages`], falling back to the value set's own language.
    pub fn display_languages_for(&self, value_set_language: Option<&str>) -> Vec<String> {
        let raw = self
            .params
            .str("displayLanguage")
            .or_else(|| self.request.accept_language.clone())
            .or_else(|| value_set_language.map(str::to_owned));
        let Some(raw) = raw else { return Vec::new() };
        let mut weighted: Vec<(f32, usize, String)> = raw
            .split(',')
            .enumerate()
            .filter_map(|(position, part)| {
                let mut pieces = part.split(';');
                let tag = pieces.next()?.trim().to_owned();
                if tag.is_empty() {
                    return None;
                }
                let quality = pieces.find_map(|piece| piece.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok())).unwrap_or(1.0);
                Some((quality, position, tag))
            })
            .collect();
        weighted.sort_by(|left, right| right.0.partial_cmp(&left.0).unwrap_or(std::cmp::Ordering::Equal).then(left.1.cmp(&right.1)));
        weighted.into_iter().filter(|(quality, _, _)| *quality > 0.0).map(|(_, _, tag)| tag).collect()
    }
}
