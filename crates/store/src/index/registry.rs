//! The registry snapshot: every code system, value set and concept map by canonical URL and by id,
//! several versions side by side, with `urn:oid:` aliases.

use super::CodeSystemIndex;
use model::fhir::{array_of, str_of};
use model::terminology::ValueSet;
use model::Json;
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::Arc;

#[derive(Debug)]
pub struct ValueSetEntry {
    /// Shared, so answering a request never copies a stored value set.
    pub value_set: Arc<ValueSet>,
    pub id: Option<String>,
}

#[derive(Debug)]
pub struct ConceptMapEntry {
    pub resource: Json,
    pub id: Option<String>,
}

/// Everything the operations can see, immutable once built.
#[derive(Default, Debug)]
pub struct Registry {
    code_systems: HashMap<String, Vec<Arc<CodeSystemIndex>>>,
    value_sets: HashMap<String, Vec<Arc<ValueSetEntry>>>,
    concept_maps: Vec<Arc<ConceptMapEntry>>,
    code_systems_by_id: HashMap<String, Arc<CodeSystemIndex>>,
    value_sets_by_id: HashMap<String, Arc<ValueSetEntry>>,
    concept_maps_by_id: HashMap<String, Arc<ConceptMapEntry>>,
    /// The version that answers when none is named, by canonical URL (else the latest).
    current_versions: HashMap<String, String>,
    /// Expansions computed against this snapshot, by value set canonical.
    expansions: std::sync::Mutex<HashMap<String, CachedExpansion>>,
    /// Which concepts of a code system version a stored value set holds, worked out once per
    /// snapshot for `$validate-code` (`ops::membership`).
    memberships: std::sync::RwLock<Vec<SnapshotMembership>>,
}

/// The members one stored value set draws from one code system index, as concept positions.
/// The entry holds both `Arc`s, so their addresses, by which it is found, stay theirs.
#[derive(Debug)]
struct SnapshotMembership {
    value_set: Arc<ValueSet>,
    code_system: Arc<CodeSystemIndex>,
    members: Arc<roaring::RoaringBitmap>,
}

/// An expansion kept for the life of a snapshot, with the canonical URLs (and `urn:oid:` aliases)
/// of everything its computation looked up, found or not: a later snapshot in which none of them
/// changed gives the same expansion, so it takes this one over (see [`Registry::carry_caches_from`]).
#[derive(Clone, Debug)]
pub struct CachedExpansion {
    pub expansion: Arc<super::Expansion>,
    pub reads: Arc<[String]>,
}

/// How many expansions one snapshot keeps before starting afresh.
const EXPANSION_CACHE_LIMIT: usize = 64;

/// How many (value set, code system) memberships one snapshot keeps before starting afresh.
const MEMBERSHIP_CACHE_LIMIT: usize = 256;

/// Lookups of cacheable expansions that found one, and that did not, since the process started.
static EXPANSION_CACHE_HITS: AtomicU64 = AtomicU64::new(0);
static EXPANSION_CACHE_MISSES: AtomicU64 = AtomicU64::new(0);

/// (hits, misses) of the expansion caches of every snapshot since the process started.
pub fn expansion_cache_counts() -> (u64, u64) {
    (EXPANSION_CACHE_HITS.load(AtomicOrdering::Relaxed), EXPANSION_CACHE_MISSES.load(AtomicOrdering::Relaxed))
}

/// Orders versions the way people mean them: numeric parts numerically (`1.10` after `1.9`),
/// the rest as text, a missing version first.
pub fn compare_versions(left: Option<&str>, right: Option<&str>) -> Ordering {
    match (left, right) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(left), Some(right)) => {
            let left_parts: Vec<&str> = left.split(['.', '-', '+']).collect();
            let right_parts: Vec<&str> = right.split(['.', '-', '+']).collect();
            for (left_part, right_part) in left_parts.iter().zip(right_parts.iter()) {
                let ordering = match (left_part.parse::<u64>(), right_part.parse::<u64>()) {
                    (Ok(left_number), Ok(right_number)) => left_number.cmp(&right_number),
                    _ => left_part.cmp(right_part),
                };
                if ordering != Ordering::Equal {
                    return ordering;
                }
            }
            left_parts.len().cmp(&right_parts.len())
        }
    }
}

/// Whether a stored version answers a requested one: equal, or matching a `1.x` / `1.0.*` wildcard,
/// or a shorter dotted prefix (`1.0` answers for `1.0.0`).
pub fn version_matches(requested: &str, actual: &str) -> bool {
    if requested == actual {
        return true;
    }
    // A SNOMED CT edition URI without a version names every version of that edition.
    if requested.starts_with("http://snomed.info/sct/") && !requested.contains("/version/") {
        return actual.strip_prefix(requested.trim_end_matches('/')).is_some_and(|rest| rest.starts_with("/version/"));
    }
    let requested_parts: Vec<&str> = requested.split('.').collect();
    let actual_parts: Vec<&str> = actual.split('.').collect();
    if requested_parts.iter().any(|part| *part == "x" || *part == "*") {
        return requested_parts.len() <= actual_parts.len()
            && requested_parts.iter().zip(actual_parts.iter()).all(|(want, have)| *want == "x" || *want == "*" || want == have);
    }
    false
}

fn aliases_of(url: &str, resource: &Json) -> Vec<String> {
    let mut aliases = Vec::new();
    if let Some(oid) = model::uris::oid_for_canonical(url) {
        aliases.push(oid);
    }
    for identifier in array_of(resource, "identifier") {
        if str_of(identifier, "system") == Some("urn:ietf:rfc:3986") {
            if let Some(value) = str_of(identifier, "value").filter(|value| value.starts_with("urn:oid:")) {
                if !aliases.iter().any(|alias| alias == value) {
                    aliases.push(value.to_owned());
                }
            }
        }
    }
    aliases
}

impl Registry {
    pub fn add_code_system(&mut self, index: CodeSystemIndex) {
        self.add_code_system_arc(Arc::new(index));
    }

    pub fn add_code_system_arc(&mut self, index: Arc<CodeSystemIndex>) {
        if let Some(id) = &index.id {
            self.code_systems_by_id.insert(id.clone(), index.clone());
        }
        let url = index.url().to_owned();
        if url.is_empty() {
            return;
        }
        let mut keys = vec![url.clone()];
        keys.extend(aliases_of(&url, &index.code_system.resource));
        for key in keys {
            let versions = self.code_systems.entry(key).or_default();
            versions.retain(|existing| existing.version() != index.version());
            versions.push(index.clone());
            versions.sort_by(|left, right| compare_versions(left.version(), right.version()));
        }
    }

    pub fn add_value_set(&mut self, value_set: ValueSet, id: Option<String>) {
        self.add_value_set_arc(Arc::new(value_set), id);
    }

    /// As [`Registry::add_value_set`], for a value set other snapshots share.
    pub fn add_value_set_arc(&mut self, value_set: Arc<ValueSet>, id: Option<String>) {
        let entry = Arc::new(ValueSetEntry { value_set, id });
        if let Some(id) = &entry.id {
            self.value_sets_by_id.insert(id.clone(), entry.clone());
        }
        if let Some(url) = entry.value_set.url.clone() {
            let versions = self.value_sets.entry(url).or_default();
            versions.retain(|existing| existing.value_set.version != entry.value_set.version);
            versions.push(entry);
            versions.sort_by(|left, right| compare_versions(left.value_set.version.as_deref(), right.value_set.version.as_deref()));
        }
    }

    pub fn add_concept_map(&mut self, resource: Json, id: Option<String>) {
        let entry = Arc::new(ConceptMapEntry { resource, id });
        if let Some(id) = &entry.id {
            self.concept_maps_by_id.insert(id.clone(), entry.clone());
        }
        self.concept_maps.push(entry);
    }

    /// All versions of a code system, oldest first; the name may be a URL or a `urn:oid:`.
    pub fn code_system_versions(&self, url: &str) -> &[Arc<CodeSystemIndex>] {
        let key = model::uris::canonical_for_oid(url).unwrap_or(url);
        self.code_systems.get(key).or_else(|| self.code_systems.get(url)).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Sets which version answers for each code system when none is named.
    pub fn set_current_versions(&mut self, current_versions: HashMap<String, String>) {
        self.current_versions = current_versions;
    }

    /// The version of a code system marked current, when one is.
    pub fn current_version(&self, url: &str) -> Option<&str> {
        let canonical = self.code_system_versions(url).first().map(|index| index.url().to_owned())?;
        self.current_versions.get(&canonical).map(String::as_str)
    }

    /// A code system by URL and version: the exact or wildcard-matched version, else the current
    /// one (marked by `make_current`), else the latest.
    pub fn code_system(&self, url: &str, version: Option<&str>) -> Option<Arc<CodeSystemIndex>> {
        let versions = self.code_system_versions(url);
        match version {
            None => {
                let current = self.current_version(url);
                current
                    .and_then(|current| versions.iter().find(|index| index.version() == Some(current)))
                    .or_else(|| versions.last())
                    .cloned()
            }
            Some(requested) => {
                versions.iter().rev().find(|index| index.version().is_some_and(|actual| version_matches(requested, actual))).cloned()
            }
        }
    }

    pub fn value_set(&self, url: &str, version: Option<&str>) -> Option<Arc<ValueSetEntry>> {
        let versions = self.value_sets.get(url)?;
        match version {
            None => versions.last().cloned(),
            Some(requested) => versions
                .iter()
                .rev()
                .find(|entry| entry.value_set.version.as_deref().is_some_and(|actual| version_matches(requested, actual)))
                .cloned(),
        }
    }

    pub fn value_set_versions(&self, url: &str) -> &[Arc<ValueSetEntry>] {
        self.value_sets.get(url).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Every code system version held, each once (an `urn:oid:` alias names the same one again).
    pub fn all_code_systems(&self) -> Vec<Arc<CodeSystemIndex>> {
        let mut all: Vec<Arc<CodeSystemIndex>> = Vec::new();
        for index in self.code_systems.values().flatten() {
            if !all.iter().any(|seen| Arc::ptr_eq(seen, index)) {
                all.push(index.clone());
            }
        }
        all
    }

    pub fn concept_maps(&self) -> &[Arc<ConceptMapEntry>] {
        &self.concept_maps
    }

    pub fn code_system_by_id(&self, id: &str) -> Option<Arc<CodeSystemIndex>> {
        self.code_systems_by_id.get(id).cloned()
    }

    pub fn value_set_by_id(&self, id: &str) -> Option<Arc<ValueSetEntry>> {
        self.value_sets_by_id.get(id).cloned()
    }

    pub fn concept_map_by_id(&self, id: &str) -> Option<Arc<ConceptMapEntry>> {
        self.concept_maps_by_id.get(id).cloned()
    }

    /// Every loaded code system version as (url, version), for TerminologyCapabilities.
    pub fn code_system_list(&self) -> Vec<(String, Option<String>)> {
        let mut list: Vec<(String, Option<String>)> = self
            .code_systems
            .iter()
            .filter(|(key, _)| !key.starts_with("urn:oid:") || model::uris::canonical_for_oid(key).is_none())
            .flat_map(|(_, versions)| versions.iter().map(|index| (index.url().to_owned(), index.version().map(str::to_owned))))
            .collect();
        list.sort();
        list.dedup();
        list
    }

    pub fn cached_expansion(&self, key: &str) -> Option<CachedExpansion> {
        let found = self.expansions.lock().ok()?.get(key).cloned();
        let counter = if found.is_some() { &EXPANSION_CACHE_HITS } else { &EXPANSION_CACHE_MISSES };
        counter.fetch_add(1, AtomicOrdering::Relaxed);
        found
    }

    /// How many code system versions are served, and how many concepts they hold together.
    pub fn code_system_counts(&self) -> (usize, usize) {
        // One index is listed under its url and each `urn:oid:` alias; count it once.
        let mut seen = std::collections::HashSet::new();
        self.code_systems
            .values()
            .flatten()
            .filter(|index| seen.insert(Arc::as_ptr(index)))
            .fold((0, 0), |(n_code_systems, n_concepts), index| (n_code_systems + 1, n_concepts + index.len()))
    }

    pub fn cache_expansion(&self, key: String, cached: CachedExpansion) {
        if let Ok(mut expansions) = self.expansions.lock() {
            if expansions.len() >= EXPANSION_CACHE_LIMIT {
                expansions.clear();
            }
            expansions.insert(key, cached);
        }
    }

    /// The canonical URLs (and `urn:oid:` aliases) under which `previous` and this registry hold
    /// different code systems or value sets, or mark a different version current.
    fn changed_since(&self, previous: &Registry) -> HashSet<String> {
        // Each snapshot makes its own entries; what they hold is shared while it is unchanged.
        fn differ<T, U>(left: Option<&Vec<Arc<T>>>, right: Option<&Vec<Arc<T>>>, held: impl Fn(&Arc<T>) -> &Arc<U>) -> bool {
            let (left, right) = (left.map(Vec::as_slice).unwrap_or(&[]), right.map(Vec::as_slice).unwrap_or(&[]));
            left.len() != right.len() || left.iter().zip(right).any(|(left, right)| !Arc::ptr_eq(held(left), held(right)))
        }
        let mut changed = HashSet::new();
        for key in self.code_systems.keys().chain(previous.code_systems.keys()) {
            if differ(self.code_systems.get(key), previous.code_systems.get(key), |index: &Arc<CodeSystemIndex>| index) {
                changed.insert(key.clone());
            }
        }
        for key in self.value_sets.keys().chain(previous.value_sets.keys()) {
            if differ(self.value_sets.get(key), previous.value_sets.get(key), |entry: &Arc<ValueSetEntry>| &entry.value_set) {
                changed.insert(key.clone());
            }
        }
        for key in self.current_versions.keys().chain(previous.current_versions.keys()) {
            if self.current_versions.get(key) != previous.current_versions.get(key) {
                changed.insert(key.clone());
            }
        }
        changed
    }

    /// Takes over what `previous` (the snapshot this one replaces) worked out that this one would
    /// work out alike: the expansions none of whose lookups changed, and the value set memberships
    /// whose value set and code system index this snapshot still holds. A write to one code
    /// system then leaves the cached expansions of the others in place.
    pub fn carry_caches_from(&self, previous: &Registry) {
        let changed = self.changed_since(previous);
        if let (Ok(previous), Ok(mut expansions)) = (previous.expansions.lock(), self.expansions.lock()) {
            for (key, cached) in previous.iter() {
                if !cached.reads.iter().any(|read| changed.contains(read)) {
                    expansions.entry(key.clone()).or_insert_with(|| cached.clone());
                }
            }
        }
        if let (Ok(previous), Ok(mut memberships)) = (previous.memberships.read(), self.memberships.write()) {
            for entry in previous.iter() {
                let value_set = &entry.value_set;
                let same_value_set = value_set
                    .url
                    .as_deref()
                    .and_then(|url| self.value_set(url, value_set.version.as_deref()))
                    .is_some_and(|held| Arc::ptr_eq(&held.value_set, value_set));
                let same_code_system =
                    self.code_system_versions(entry.code_system.url()).iter().any(|held| Arc::ptr_eq(held, &entry.code_system));
                if same_value_set && same_code_system && memberships.len() < MEMBERSHIP_CACHE_LIMIT {
                    memberships.push(SnapshotMembership {
                        value_set: value_set.clone(),
                        code_system: entry.code_system.clone(),
                        members: entry.members.clone(),
                    });
                }
            }
        }
    }

    /// The concepts of `code_system` that `value_set` holds, if worked out for this snapshot:
    /// found by identity, so only the snapshot's own value sets and indexes ever match.
    pub fn cached_membership(&self, value_set: &ValueSet, code_system: &Arc<CodeSystemIndex>) -> Option<Arc<roaring::RoaringBitmap>> {
        let memberships = self.memberships.read().ok()?;
        memberships
            .iter()
            .find(|entry| std::ptr::eq(Arc::as_ptr(&entry.value_set), value_set) && Arc::ptr_eq(&entry.code_system, code_system))
            .map(|entry| entry.members.clone())
    }

    /// Keeps the concepts of `code_system` that `value_set` holds for the life of this snapshot.
    pub fn cache_membership(&self, value_set: Arc<ValueSet>, code_system: Arc<CodeSystemIndex>, members: Arc<roaring::RoaringBitmap>) {
        if let Ok(mut memberships) = self.memberships.write() {
            if memberships.iter().any(|entry| Arc::ptr_eq(&entry.value_set, &value_set) && Arc::ptr_eq(&entry.code_system, &code_system)) {
                return;
            }
            if memberships.len() >= MEMBERSHIP_CACHE_LIMIT {
                memberships.clear();
            }
            memberships.push(SnapshotMembership { value_set, code_system, members });
        }
    }

    pub fn is_empty(&self) -> bool {
        self.code_systems.is_empty() && self.value_sets.is_empty() && self.concept_maps.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_versions_numerically() {
        assert_eq!(compare_versions(Some("1.10.0"), Some("1.9.0")), Ordering::Greater);
        assert_eq!(compare_versions(Some("2026"), Some("2025")), Ordering::Greater);
        assert!(version_matches("1.x", "1.2.0"));
        assert!(!version_matches("1.x", "2.0.0"));
        let edition = "http://snomed.info/sct/900000000000207008";
        assert!(version_matches(edition, "http://snomed.info/sct/900000000000207008/version/20250101"));
        assert!(!version_matches(edition, "http://snomed.info/sct/45991000052106/version/20241130"));
        assert!(!version_matches("http://snomed.info/sct/9000000000002070", "http://snomed.info/sct/900000000000207008/version/20250101"));
    }
}
