//! The facade: every read, write and operation goes through [`Terminology`].

use crate::db::Database;
use crate::ids::slug;
use crate::index::{CodeSystemIndex, Registry};
use crate::index_files::{IndexDir, IndexSaver};
use crate::ops::{self, OpRequest};
use crate::repo::{self, PutItem};
use crate::{StoreError, StoreErrorKind};
use arc_swap::ArcSwap;
use model::fhir::{str_of, Json, TERMINOLOGY_RESOURCE_TYPES};
use model::terminology::{CodeSystem, ValueSet};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

/// One stored resource as the registry sees it.
#[derive(Clone)]
enum Entry {
    CodeSystem(Arc<CodeSystemIndex>, IndexOrigin),
    /// Shared by every snapshot while unchanged, which is how a snapshot tells what a write changed.
    ValueSet(Arc<ValueSet>),
    ConceptMap(Json),
}

/// Where the index of a code system came from, and the write key of the row it is the index of.
#[derive(Clone)]
struct IndexOrigin {
    /// `None` for base content, which is not stored.
    write_key: Option<String>,
    source: IndexSource,
}

impl IndexOrigin {
    fn written(write_key: &str) -> IndexOrigin {
        IndexOrigin { write_key: Some(write_key.to_owned()), source: IndexSource::Written }
    }

    fn base() -> IndexOrigin {
        IndexOrigin { write_key: None, source: IndexSource::Written }
    }
}

/// How the index of a stored code system was made, as [`Terminology::code_system_summaries`]
/// reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IndexSource {
    /// From the content this server stored (a load, an upload, a REST write).
    Written,
    /// Rebuilt from the database rows (at start, or after another replica wrote).
    Rows,
    /// Read back from its saved index file.
    SavedFile,
}

impl IndexSource {
    pub fn as_str(self) -> &'static str {
        match self {
            IndexSource::Written => "written",
            IndexSource::Rows => "rows",
            IndexSource::SavedFile => "saved-file",
        }
    }
}

/// A fresh write key (see `repo::PutItem::write_key`).
fn new_write_key() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// What the operations read: the registry, and the stored entries it was derived from.
struct Snapshot {
    entries: HashMap<(String, String), Entry>,
    /// The version of each code system marked current, by canonical URL.
    current_versions: HashMap<String, String>,
    registry: Arc<Registry>,
    generation: i64,
}

impl Snapshot {
    /// Builds the registry from the base content first and the stored entries over it, so a stored
    /// resource with the url and version (or the id) of a base one replaces it.
    fn build(
        base: &[((String, String), Entry)],
        entries: HashMap<(String, String), Entry>,
        current_versions: HashMap<String, String>,
        generation: i64,
        index_text_in_background: bool,
    ) -> Snapshot {
        let mut registry = Registry::default();
        registry.set_current_versions(current_versions.clone());
        let mut keys: Vec<&(String, String)> = entries.keys().collect();
        keys.sort();
        let stored = keys.into_iter().map(|key| (key, &entries[key]));
        for (key, entry) in base.iter().map(|(key, entry)| (key, entry)).chain(stored) {
            let id = Some(key.1.clone());
            match entry {
                Entry::CodeSystem(index, _) => registry.add_code_system_arc(index.clone()),
                Entry::ValueSet(value_set) => registry.add_value_set_arc(value_set.clone(), id),
                Entry::ConceptMap(resource) => registry.add_concept_map(resource.clone(), id),
            }
        }
        // Text filters must not pay for the word index on a caller's request: large code systems
        // get theirs built in the background as soon as they are first published (the snapshots
        // published after it, at start and after each write, find it claimed).
        let unindexed: Vec<Arc<CodeSystemIndex>> = entries
            .values()
            .filter_map(|entry| match entry {
                Entry::CodeSystem(index, _)
                    if index_text_in_background && index.len() >= WORD_INDEX_IN_BACKGROUND && index.claim_text_indexing() =>
                {
                    Some(index.clone())
                }
                _ => None,
            })
            .collect();
        if !unindexed.is_empty() {
            // The cheap sorted code lists of all come first, then the word indexes.
            std::thread::spawn(move || {
                for index in &unindexed {
                    index.build_code_list();
                }
                for index in unindexed {
                    index.build_text_indexes();
                }
            });
        }
        Snapshot { entries, current_versions, registry: Arc::new(registry), generation }
    }
}

/// Reads and indexes the stored code systems, several at once (a release's rows take seconds to
/// read, and each code system reads on its own connection): one worker per core, as many as the
/// pool has connections for. A code system with a saved index file for its write key is read from
/// the file instead; a file that cannot be used is named in a warning and the rows are read.
fn read_code_system_indexes(
    database: &Database,
    index_dir: Option<&IndexDir>,
    code_systems: Vec<repo::StoredResource>,
) -> Result<Vec<(String, CodeSystemIndex, IndexOrigin)>, StoreError> {
    let workers =
        std::thread::available_parallelism().map_or(1, usize::from).min(database.max_connections()).min(code_systems.len()).max(1);
    let queue = Mutex::new(code_systems.into_iter());
    let read_some = || -> Result<Vec<(String, CodeSystemIndex, IndexOrigin)>, StoreError> {
        let mut read = Vec::new();
        loop {
            let next = queue.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).next();
            let Some(stored) = next else {
                return Ok(read);
            };
            let started = std::time::Instant::now();
            let saved = index_dir.and_then(|dir| match dir.read(&stored.id, &stored.write_key, &stored.json) {
                Ok(found) => found,
                Err(error) => {
                    tracing::warn!(
                        path = %error.path.display(),
                        reason = %error.reason,
                        "the saved index of code system {} cannot be used; reading it from rows",
                        stored.id
                    );
                    None
                }
            });
            let (index, source) = match saved {
                Some(index) => (index, IndexSource::SavedFile),
                None => {
                    let code_system = repo::read_code_system(database, stored.pk, stored.json)?;
                    (CodeSystemIndex::new(code_system, Some(stored.id.clone())), IndexSource::Rows)
                }
            };
            tracing::debug!(
                id = stored.id,
                n_concepts = index.len(),
                source = source.as_str(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "code system indexed"
            );
            read.push((stored.id, index, IndexOrigin { write_key: Some(stored.write_key), source }));
        }
    };
    std::thread::scope(|scope| {
        let handles: Vec<_> = (1..workers).map(|_| scope.spawn(read_some)).collect();
        let mut all = read_some()?;
        for handle in handles {
            all.extend(handle.join().expect("a code system reader panicked")?);
        }
        Ok(all)
    })
}

/// Code systems with at least this many concepts have their word index built in the background.
const WORD_INDEX_IN_BACKGROUND: usize = 1_000;

/// A search over one resource type.
#[derive(Clone, Debug, Default)]
pub struct SearchQuery {
    pub id: Option<String>,
    pub url: Option<String>,
    pub version: Option<String>,
    pub name: Option<String>,
    pub title: Option<String>,
    pub status: Option<String>,
    pub offset: usize,
    pub count: usize,
    /// Leave out CodeSystem concepts (`_summary=true`).
    pub summary: bool,
}

/// What a create did: stored a new resource, or found the one `If-None-Exist` named.
#[derive(Debug)]
pub enum Created {
    New(Json),
    Existing(Json),
}

/// A resource checked and indexed, waiting for the write lock.
struct Prepared {
    resource_type: String,
    id: String,
    resource: Json,
    entry: PreparedEntry,
    expected_version: Option<i64>,
    /// Whether the caller wants the stored resource back (REST create and update do; a bulk load
    /// does not, and building a large CodeSystem's JSON again would double its memory).
    answer_resource: bool,
    /// The key this write gives the row (`repo::PutItem::write_key`), which the entry's origin
    /// holds too.
    write_key: String,
}

/// What a prepared resource brings to the write: the index entry the next snapshot serves, or,
/// on a store opened only to load ([`Terminology::open_for_loading`]), which serves nothing it
/// stores, the code system alone: its rows are written and no index is built for it.
enum PreparedEntry {
    Served(Entry),
    StoredOnly(CodeSystem),
}

pub struct SearchResult {
    pub total: usize,
    pub resources: Vec<Json>,
}

/// What a bulk load stored.
#[derive(Debug, Default)]
pub struct LoadSummary {
    pub n_code_systems: usize,
    pub n_concepts: usize,
    pub n_value_sets: usize,
    pub n_concept_maps: usize,
}

/// One stored version of a code system, for an administrator's overview.
#[derive(Clone, Debug, PartialEq)]
pub struct CodeSystemVersionSummary {
    /// The resource id, for REST reads.
    pub id: String,
    pub version: Option<String>,
    pub n_concepts: usize,
    /// When this version was stored (RFC 3339).
    pub last_updated: String,
    /// Whether a call naming the system without a version gets this one.
    pub current: bool,
    /// How its index was made (`None` when it is not indexed: a server opened only to load).
    pub index_source: Option<IndexSource>,
}

/// Every stored version of one code system, newest first.
#[derive(Clone, Debug, PartialEq)]
pub struct CodeSystemSummary {
    pub url: String,
    /// A key of `model::uris::SYSTEM_FAMILIES`.
    pub family: &'static str,
    /// The name and title of the newest version.
    pub name: Option<String>,
    pub title: Option<String>,
    pub current_version: Option<String>,
    pub versions: Vec<CodeSystemVersionSummary>,
}

/// The terminology service: storage, indexes and operations.
pub struct Terminology {
    database: Database,
    snapshot: ArcSwap<Snapshot>,
    write_lock: Mutex<()>,
    /// Content every snapshot starts from and no write changes: the FHIR specification's own
    /// code systems and value sets, when the caller provides them.
    base: Vec<((String, String), Entry)>,
    /// The URL of a PostgreSQL database (with its connect timeout), for a connection of its own
    /// that `LISTEN`s.
    postgres_url: Option<String>,
    /// Opened only to store releases ([`Terminology::open_for_loading`]): nothing stored is read
    /// into indexes and no word index is built.
    loading_only: bool,
    /// Saves the index of each code system as a file, and reads them back at start
    /// ([`Terminology::open_with_index_dir`]).
    saver: Option<IndexSaver>,
}

fn prefix_matches(value: &Option<String>, wanted: &Option<String>) -> bool {
    match wanted {
        None => true,
        Some(wanted) => value.as_deref().is_some_and(|value| model_fold(value).starts_with(&model_fold(wanted))),
    }
}

fn model_fold(text: &str) -> String {
    crate::index::text::fold(text)
}

fn exact_matches(value: &Option<String>, wanted: &Option<String>) -> bool {
    match wanted {
        None => true,
        Some(wanted) => wanted.split(',').any(|alternative| value.as_deref() == Some(alternative)),
    }
}

impl Terminology {
    /// Opens the database at `url`, migrates it and builds the indexes from its rows.
    pub fn open(url: &str) -> Result<Terminology, StoreError> {
        Self::open_with_index_dir(url, None)
    }

    /// As [`Terminology::open`], with the index of each stored code system saved as a file in
    /// `index_dir` (see `store::index_files`): a code system whose file is there and current is
    /// read from it instead of from rows, and the index of each one read from rows or written
    /// later is saved in the background.
    pub fn open_with_index_dir(url: &str, index_dir: Option<&Path>) -> Result<Terminology, StoreError> {
        let terminology = Self::open_unindexed(url, false, index_dir)?;
        terminology.reload()?;
        Ok(terminology)
    }

    /// As [`Terminology::open_with_index_dir`], without reading what is stored: base content
    /// ([`Terminology::with_base_content`]) goes in first, and [`Terminology::reload`] then builds
    /// the snapshot of everything once. Not ready until then.
    pub fn open_unread(url: &str, index_dir: Option<&Path>) -> Result<Terminology, StoreError> {
        Self::open_unindexed(url, false, index_dir)
    }

    /// Opens and migrates the database to store releases into it (`fhirterm load`), without
    /// reading what it holds into indexes: a load then costs the memory and time of the release
    /// it stores, not of everything stored before. Operations on it answer nothing stored.
    pub fn open_for_loading(url: &str) -> Result<Terminology, StoreError> {
        Self::open_for_loading_with_index_dir(url, None)
    }

    /// As [`Terminology::open_for_loading`], saving the index of each code system it stores as a
    /// file in `index_dir`, for the next start; [`Terminology::wait_for_saved_indexes`] waits for
    /// the files.
    pub fn open_for_loading_with_index_dir(url: &str, index_dir: Option<&Path>) -> Result<Terminology, StoreError> {
        Self::open_unindexed(url, true, index_dir)
    }

    /// Waits until every index file queued so far is saved (or has failed, with a warning): the
    /// CLI's `load` waits before it exits, and tests before they start again.
    pub fn wait_for_saved_indexes(&self) {
        if let Some(saver) = &self.saver {
            saver.wait();
        }
    }

    /// The folder index files are saved in, when they are.
    pub fn index_dir(&self) -> Option<&Path> {
        self.saver.as_ref().map(|saver| saver.dir().path())
    }

    fn open_unindexed(url: &str, loading_only: bool, index_dir: Option<&Path>) -> Result<Terminology, StoreError> {
        let database = Database::open(url)?;
        let database_is_postgres = matches!(database, Database::Postgres(_));
        Ok(Terminology {
            database,
            snapshot: ArcSwap::from_pointee(Snapshot::build(&[], HashMap::new(), HashMap::new(), -1, false)),
            write_lock: Mutex::new(()),
            base: Vec::new(),
            postgres_url: database_is_postgres.then(|| crate::db::with_connect_timeout(url)),
            loading_only,
            saver: index_dir.map(|dir| IndexSaver::start(IndexDir::new(dir))),
        })
    }

    /// Adds content that every snapshot holds underneath what is stored, without storing it: the
    /// operations see it, REST read and search do not, and a stored resource with the same url and
    /// version replaces it. The server passes the FHIR R4 core terminology here.
    pub fn with_base_content(mut self, code_systems: Vec<CodeSystem>, resources: Vec<Json>) -> Result<Terminology, StoreError> {
        let mut base = Vec::with_capacity(code_systems.len() + resources.len());
        for code_system in code_systems {
            let id = code_system.resource.get("id").and_then(Json::as_str).map(str::to_owned).unwrap_or_else(|| slug(&code_system.url));
            let index = Arc::new(CodeSystemIndex::new(code_system, Some(id.clone())));
            base.push((("CodeSystem".to_owned(), id), Entry::CodeSystem(index, IndexOrigin::base())));
        }
        for resource in resources {
            let resource_type = match str_of(&resource, "resourceType") {
                Some(resource_type @ ("ValueSet" | "ConceptMap")) => resource_type.to_owned(),
                _ => continue,
            };
            let id = str_of(&resource, "id").map(str::to_owned).unwrap_or_else(|| slug(str_of(&resource, "url").unwrap_or(&resource_type)));
            let entry = Self::entry_of(&resource_type, &id, &resource, "")?;
            base.push(((resource_type, id), entry));
        }
        self.base = base;
        self.rebuild_over_base();
        Ok(self)
    }

    /// Rebuilds the snapshot from the same stored entries over a changed base.
    fn rebuild_over_base(&self) {
        let current = self.snapshot.load_full();
        self.snapshot.store(Arc::new(Snapshot::build(
            &self.base,
            current.entries.clone(),
            current.current_versions.clone(),
            current.generation,
            !self.loading_only,
        )));
    }

    /// Adds code systems defined by a grammar (UCUM, BCP-47, MIME types) to the base content,
    /// beside what [`Terminology::with_base_content`] put there: each answers as its common codes,
    /// with the grammar reading any other code.
    pub fn with_grammar_code_systems(mut self, grammars: Vec<Arc<dyn crate::grammar::GrammarCodeSystem>>) -> Terminology {
        for grammar in grammars {
            let index = crate::grammar::grammar_index(grammar);
            let id = index.id.clone().unwrap_or_default();
            self.base.push((("CodeSystem".to_owned(), id), Entry::CodeSystem(Arc::new(index), IndexOrigin::base())));
        }
        self.rebuild_over_base();
        self
    }

    pub(crate) fn database(&self) -> &Database {
        &self.database
    }

    pub fn backend_name(&self) -> &'static str {
        self.database.backend_name()
    }

    pub(crate) fn postgres_url(&self) -> Option<&str> {
        self.postgres_url.as_deref()
    }

    /// Rebuilds every index from the database. A code system whose row has the write key of the
    /// one indexed now keeps its index; the others are read from their saved index files, when
    /// there are, or from rows. Indexes read from rows are then saved in the background, and the
    /// files of code systems no longer stored are removed.
    pub fn reload(&self) -> Result<(), StoreError> {
        let started = std::time::Instant::now();
        let generation = repo::generation(&self.database)?;
        let current = self.snapshot.load_full();
        let mut entries = HashMap::new();
        let (code_systems, others): (Vec<_>, Vec<_>) =
            repo::all_resources(&self.database)?.into_iter().partition(|stored| stored.resource_type == "CodeSystem");
        tracing::debug!(elapsed_ms = started.elapsed().as_millis() as u64, "resource rows read");
        let live_keys: HashSet<String> = code_systems.iter().map(|stored| stored.write_key.clone()).collect();
        let mut to_read = Vec::new();
        for stored in code_systems {
            let key = ("CodeSystem".to_owned(), stored.id.clone());
            match current.entries.get(&key) {
                Some(entry @ Entry::CodeSystem(_, origin))
                    if !stored.write_key.is_empty() && origin.write_key.as_deref() == Some(stored.write_key.as_str()) =>
                {
                    entries.insert(key, entry.clone());
                }
                _ => to_read.push(stored),
            }
        }
        let mut to_save = Vec::new();
        for (id, index, origin) in read_code_system_indexes(&self.database, self.saver.as_ref().map(IndexSaver::dir), to_read)? {
            let index = Arc::new(index);
            if let (IndexSource::Rows, Some(write_key)) = (origin.source, &origin.write_key) {
                if crate::index_files::is_file_key(write_key) {
                    to_save.push((id.clone(), write_key.clone(), index.clone()));
                }
            }
            entries.insert(("CodeSystem".to_owned(), id), Entry::CodeSystem(index, origin));
        }
        tracing::debug!(elapsed_ms = started.elapsed().as_millis() as u64, "code systems indexed");
        for stored in others {
            let repo::StoredResource { resource_type, id, json, .. } = stored;
            let entry = match resource_type.as_str() {
                "ValueSet" => match ValueSet::from_json(&json) {
                    Ok(value_set) => Entry::ValueSet(Arc::new(value_set)),
                    Err(error) => {
                        tracing::warn!(id, %error, "stored ValueSet cannot be indexed");
                        continue;
                    }
                },
                "ConceptMap" => Entry::ConceptMap(json),
                _ => continue,
            };
            entries.insert((resource_type, id), entry);
        }
        let current_versions = repo::current_versions(&self.database)?;
        tracing::debug!(elapsed_ms = started.elapsed().as_millis() as u64, "value sets and concept maps read");
        let next = Snapshot::build(&self.base, entries, current_versions, generation, !self.loading_only);
        // Another server's write, or a start: what it cannot have changed is kept.
        next.registry.carry_caches_from(&current.registry);
        self.snapshot.store(Arc::new(next));
        tracing::debug!(elapsed_ms = started.elapsed().as_millis() as u64, "snapshot published");
        if let Some(saver) = &self.saver {
            saver.submit(to_save, Some(live_keys));
        }
        Ok(())
    }

    /// Rebuilds the indexes when another process (a replica) has written since they were built.
    pub fn refresh_if_changed(&self) -> Result<bool, StoreError> {
        let generation = repo::generation(&self.database)?;
        if generation == self.snapshot.load().generation {
            return Ok(false);
        }
        let _guard = self.write_lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // A write by this server may have committed while we waited for the lock: its snapshot
        // is already current, and rebuilding it would only cost time.
        if repo::generation(&self.database)? == self.snapshot.load().generation {
            return Ok(false);
        }
        self.reload()?;
        Ok(true)
    }

    /// Whether the database answers and the indexes are built.
    pub fn ready(&self) -> Result<(), StoreError> {
        self.database.ping()?;
        if self.snapshot.load().generation < 0 {
            return Err(StoreError::new(StoreErrorKind::Unavailable, "indexes are not built yet"));
        }
        Ok(())
    }

    /// The current registry snapshot.
    pub fn registry(&self) -> Arc<Registry> {
        self.snapshot.load().registry.clone()
    }

    fn check_type(resource_type: &str) -> Result<(), StoreError> {
        if TERMINOLOGY_RESOURCE_TYPES.contains(&resource_type) {
            Ok(())
        } else {
            Err(StoreError::not_found(format!("resource type '{resource_type}' is not served here")))
        }
    }

    /// The index entry of a resource; a CodeSystem's index holds the typed CodeSystem that is
    /// also what gets stored, so it is parsed once and never copied.
    fn entry_of(resource_type: &str, id: &str, resource: &Json, write_key: &str) -> Result<Entry, StoreError> {
        let invalid = |error: model::terminology::ModelError| StoreError::invalid(format!("invalid {resource_type}: {error}"));
        Ok(match resource_type {
            "CodeSystem" => {
                let code_system = CodeSystem::from_json(resource).map_err(invalid)?;
                Entry::CodeSystem(Arc::new(CodeSystemIndex::new(code_system, Some(id.to_owned()))), IndexOrigin::written(write_key))
            }
            "ValueSet" => Entry::ValueSet(Arc::new(ValueSet::from_json(resource).map_err(invalid)?)),
            _ => Entry::ConceptMap(resource.clone()),
        })
    }

    /// Stores resources in one transaction and publishes them in one snapshot swap, marking code
    /// system versions current (`url`, `version`) and recording the end of an upload job (when
    /// given) in the same transaction.
    fn write_finishing(
        &self,
        prepared: Vec<Prepared>,
        make_current: &[(String, String)],
        finish_job: Option<(&str, &crate::jobs::JobChanges)>,
    ) -> Result<Vec<repo::Written>, StoreError> {
        let guard = self.write_lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        self.store_prepared(&guard, prepared, make_current, finish_job)
    }

    /// Checks and indexes resources before the write lock is taken.
    fn prepare(items: impl IntoIterator<Item = (String, String, Json, Option<i64>)>) -> Result<Vec<Prepared>, StoreError> {
        let mut prepared = Vec::new();
        for (resource_type, id, resource, expected_version) in items {
            Self::check_type(&resource_type)?;
            let write_key = new_write_key();
            let entry = Self::entry_of(&resource_type, &id, &resource, &write_key)?;
            prepared.push(Prepared {
                resource_type,
                id,
                resource,
                entry: PreparedEntry::Served(entry),
                expected_version,
                answer_resource: true,
                write_key,
            });
        }
        Ok(prepared)
    }

    /// Writes prepared resources in one transaction and swaps the snapshot; the caller holds the
    /// write lock (the guard proves it).
    fn store_prepared(
        &self,
        _guard: &MutexGuard<'_, ()>,
        prepared: Vec<Prepared>,
        make_current: &[(String, String)],
        finish_job: Option<(&str, &crate::jobs::JobChanges)>,
    ) -> Result<Vec<repo::Written>, StoreError> {
        let put_items: Vec<PutItem<'_>> = prepared
            .iter()
            .map(|item| PutItem {
                resource_type: &item.resource_type,
                id: &item.id,
                resource: &item.resource,
                code_system: match &item.entry {
                    PreparedEntry::Served(Entry::CodeSystem(index, _)) => Some(&index.code_system),
                    PreparedEntry::StoredOnly(code_system) => Some(code_system),
                    PreparedEntry::Served(_) => None,
                },
                expected_version: item.expected_version,
                answer_resource: item.answer_resource,
                write_key: &item.write_key,
            })
            .collect();
        // The next snapshot is built before the transaction, so that it is published the moment
        // the transaction commits: a job found `succeeded` (written in that transaction) is then
        // served at once, not after the registry has been rebuilt.
        let current = self.snapshot.load();
        let mut entries = current.entries.clone();
        for item in &prepared {
            if let PreparedEntry::Served(entry) = &item.entry {
                entries.insert((item.resource_type.clone(), item.id.clone()), entry.clone());
            }
        }
        let mut current_versions = current.current_versions.clone();
        current_versions.extend(make_current.iter().cloned());
        let mut phases = crate::timing::Phases::start();
        let mut next = Snapshot::build(&self.base, entries, current_versions, current.generation, !self.loading_only);
        next.registry.carry_caches_from(&current.registry);
        phases.lap("next snapshot built", 0);
        let (written, generation) = repo::put_all(&self.database, &put_items, make_current, finish_job)?;
        phases.lap("transaction committed", put_items.len());
        next.generation = generation;
        let saved: Vec<(String, String, Arc<CodeSystemIndex>)> = prepared
            .iter()
            .filter_map(|item| match &item.entry {
                PreparedEntry::Served(Entry::CodeSystem(index, _)) => Some((item.id.clone(), item.write_key.clone(), index.clone())),
                _ => None,
            })
            .collect();
        let next = Arc::new(next);
        self.snapshot.store(next.clone());
        phases.lap("snapshot swapped", 0);
        self.save_indexes_after_write(saved, &next);
        Ok(written)
    }

    /// After a write committed and its snapshot is published: queues saving the index files of the
    /// code systems it wrote, and removing the files of any it replaced or deleted. Opened only to
    /// load, the snapshot does not hold everything stored, so nothing is removed then (the next
    /// start does it).
    fn save_indexes_after_write(&self, saved: Vec<(String, String, Arc<CodeSystemIndex>)>, published: &Snapshot) {
        let Some(saver) = &self.saver else { return };
        let keep_only = (!self.loading_only).then(|| {
            published
                .entries
                .values()
                .filter_map(|entry| match entry {
                    Entry::CodeSystem(_, origin) => origin.write_key.clone(),
                    _ => None,
                })
                .collect::<HashSet<String>>()
        });
        saver.submit(saved, keep_only);
    }

    /// `POST /Type`: stores a new resource under a fresh id.
    pub fn create(&self, resource_type: &str, resource: Json) -> Result<Json, StoreError> {
        match self.create_unless_exists(resource_type, resource, None)? {
            Created::New(resource) | Created::Existing(resource) => Ok(resource),
        }
    }

    /// `POST /Type` with `If-None-Exist`: when `condition` is given and matches one stored
    /// resource, that one is answered and nothing is written; several matches are a failed
    /// precondition. The search and the write happen under the write lock, so two conditional
    /// creates cannot both create.
    pub fn create_unless_exists(
        &self,
        resource_type: &str,
        mut resource: Json,
        condition: Option<&SearchQuery>,
    ) -> Result<Created, StoreError> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        resource["id"] = Json::String(id.clone());
        let prepared = Self::prepare([(resource_type.to_owned(), id, resource, None)])?;
        let guard = self.write_lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(condition) = condition {
            let query = SearchQuery { offset: 0, count: 1, summary: false, ..condition.clone() };
            let mut found = self.search(resource_type, &query)?;
            match found.total {
                0 => {}
                1 => return Ok(Created::Existing(found.resources.remove(0))),
                n_matches => {
                    return Err(StoreError::precondition_failed(format!(
                        "If-None-Exist matches {n_matches} {resource_type} resources; it must match at most one"
                    )))
                }
            }
        }
        Ok(Created::New(self.store_prepared(&guard, prepared, &[], None)?.remove(0).resource))
    }

    /// `PUT /Type/id`: replaces or creates; the flag says whether it was created.
    pub fn update(&self, resource_type: &str, id: &str, resource: Json) -> Result<(Json, bool), StoreError> {
        self.update_if_version(resource_type, id, resource, None)
    }

    /// As [`Terminology::update`], only if `expected_version` (`If-Match`) is the stored version.
    pub fn update_if_version(
        &self,
        resource_type: &str,
        id: &str,
        mut resource: Json,
        expected_version: Option<i64>,
    ) -> Result<(Json, bool), StoreError> {
        resource["id"] = Json::String(id.to_owned());
        let prepared = Self::prepare([(resource_type.to_owned(), id.to_owned(), resource, expected_version)])?;
        let guard = self.write_lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let written = self.store_prepared(&guard, prepared, &[], None)?.remove(0);
        Ok((written.resource, written.created))
    }

    pub fn read(&self, resource_type: &str, id: &str) -> Result<Json, StoreError> {
        self.read_parts(resource_type, id, true)
    }

    /// Reads a resource; without `with_concepts` a CodeSystem comes back without its concepts,
    /// which spares reading their rows (`_summary`, `_elements`).
    pub fn read_parts(&self, resource_type: &str, id: &str, with_concepts: bool) -> Result<Json, StoreError> {
        Self::check_type(resource_type)?;
        let pk = repo::find_pk(&self.database, resource_type, id)?
            .ok_or_else(|| StoreError::not_found(format!("{resource_type}/{id} is not known")))?;
        if with_concepts {
            repo::read(&self.database, pk)
        } else {
            repo::read_shell(&self.database, pk)
        }
    }

    /// `GET /Type/id/_history/vid`: only the current version is kept, so any other version is
    /// not found, and the answer names the current one.
    pub fn read_version(&self, resource_type: &str, id: &str, version_id: &str, with_concepts: bool) -> Result<Json, StoreError> {
        let resource = self.read_parts(resource_type, id, with_concepts)?;
        let current = resource.get("meta").and_then(|meta| str_of(meta, "versionId")).unwrap_or_default().to_owned();
        if current != version_id {
            return Err(StoreError::not_found(format!(
                "{resource_type}/{id} has no version '{version_id}' here: only the current version, {current}, is kept"
            )));
        }
        Ok(resource)
    }

    pub fn delete(&self, resource_type: &str, id: &str) -> Result<(), StoreError> {
        self.delete_if_version(resource_type, id, None)
    }

    /// As [`Terminology::delete`], only if `expected_version` (`If-Match`) is the stored version.
    pub fn delete_if_version(&self, resource_type: &str, id: &str, expected_version: Option<i64>) -> Result<(), StoreError> {
        Self::check_type(resource_type)?;
        let _guard = self.write_lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if !repo::delete(&self.database, resource_type, id, expected_version)? {
            return Err(StoreError::not_found(format!("{resource_type}/{id} is not known")));
        }
        let current = self.snapshot.load();
        let mut entries = current.entries.clone();
        entries.remove(&(resource_type.to_owned(), id.to_owned()));
        let generation = repo::generation(&self.database).unwrap_or(current.generation + 1);
        let next = Arc::new(Snapshot::build(&self.base, entries, current.current_versions.clone(), generation, !self.loading_only));
        next.registry.carry_caches_from(&current.registry);
        self.snapshot.store(next.clone());
        if resource_type == "CodeSystem" {
            self.save_indexes_after_write(Vec::new(), &next);
        }
        Ok(())
    }

    pub fn search(&self, resource_type: &str, query: &SearchQuery) -> Result<SearchResult, StoreError> {
        Self::check_type(resource_type)?;
        let matching: Vec<repo::ResourceHeader> = repo::headers(&self.database, resource_type)?
            .into_iter()
            .filter(|header| {
                exact_matches(&Some(header.id.clone()), &query.id)
                    && exact_matches(&header.url, &query.url)
                    && exact_matches(&header.version, &query.version)
                    && exact_matches(&header.status, &query.status)
                    && prefix_matches(&header.name, &query.name)
                    && prefix_matches(&header.title, &query.title)
            })
            .collect();
        let total = matching.len();
        let mut resources = Vec::new();
        for header in matching.iter().skip(query.offset).take(query.count) {
            // A summary leaves concepts out, so their rows are not read at all.
            let resource =
                if query.summary { repo::read_shell(&self.database, header.pk)? } else { repo::read(&self.database, header.pk)? };
            resources.push(resource);
        }
        Ok(SearchResult { total, resources })
    }

    /// Every stored code system with its versions, concept counts and load times, ordered by
    /// family (as `model::uris::SYSTEM_FAMILIES` lists them) and then by URL. The built-in base
    /// content is not stored and not listed; [`Terminology::n_base_code_systems`] counts it.
    pub fn code_system_summaries(&self) -> Result<Vec<CodeSystemSummary>, StoreError> {
        let snapshot = self.snapshot.load();
        let mut by_url: HashMap<String, Vec<repo::ResourceHeader>> = HashMap::new();
        for header in repo::headers(&self.database, "CodeSystem")? {
            let url = header.url.clone().unwrap_or_default();
            by_url.entry(url).or_default().push(header);
        }
        let family_rank = |family: &str| model::uris::SYSTEM_FAMILIES.iter().position(|(key, _, _)| *key == family).unwrap_or(usize::MAX);
        let mut summaries: Vec<CodeSystemSummary> = by_url
            .into_iter()
            .map(|(url, mut headers)| {
                headers.sort_by(|left, right| {
                    crate::index::compare_versions(right.version.as_deref(), left.version.as_deref())
                        .then_with(|| right.last_updated.cmp(&left.last_updated))
                });
                let current_version = snapshot.registry.code_system(&url, None).and_then(|index| index.version().map(str::to_owned));
                let versions = headers
                    .iter()
                    .map(|header| {
                        let n_concepts = match snapshot.entries.get(&("CodeSystem".to_owned(), header.id.clone())) {
                            Some(Entry::CodeSystem(index, _)) => index.len(),
                            _ => 0,
                        };
                        let index_source = match snapshot.entries.get(&("CodeSystem".to_owned(), header.id.clone())) {
                            Some(Entry::CodeSystem(_, origin)) => Some(origin.source),
                            _ => None,
                        };
                        CodeSystemVersionSummary {
                            id: header.id.clone(),
                            version: header.version.clone(),
                            n_concepts,
                            last_updated: header.last_updated.clone(),
                            current: header.version == current_version,
                            index_source,
                        }
                    })
                    .collect();
                let newest = headers.first();
                CodeSystemSummary {
                    family: model::uris::family_of(&url),
                    name: newest.and_then(|header| header.name.clone()),
                    title: newest.and_then(|header| header.title.clone()),
                    url,
                    current_version,
                    versions,
                }
            })
            .collect();
        summaries.sort_by(|left, right| family_rank(left.family).cmp(&family_rank(right.family)).then_with(|| left.url.cmp(&right.url)));
        Ok(summaries)
    }

    /// How many stored code systems have their index from each source, in the current snapshot.
    pub fn index_source_counts(&self) -> HashMap<IndexSource, usize> {
        let mut counts = HashMap::new();
        for entry in self.snapshot.load().entries.values() {
            if let Entry::CodeSystem(_, origin) = entry {
                *counts.entry(origin.source).or_insert(0) += 1;
            }
        }
        counts
    }

    /// How many code systems the built-in base content holds (never stored, never listed by REST).
    pub fn n_base_code_systems(&self) -> usize {
        self.base.iter().filter(|(_, entry)| matches!(entry, Entry::CodeSystem(..))).count()
    }

    /// Stores a whole release (code systems, value sets, concept maps) in one transaction.
    /// A resource with the url and version of a stored one replaces it; other versions stay.
    pub fn load(&self, code_systems: Vec<CodeSystem>, resources: Vec<Json>) -> Result<LoadSummary, StoreError> {
        self.load_finishing(code_systems, resources, false, false, None)
    }

    /// As [`Terminology::load`]; with `make_current`, the versions loaded become the ones that
    /// answer when no version is named, whatever their order among the versions already served.
    pub fn load_release(&self, code_systems: Vec<CodeSystem>, resources: Vec<Json>, make_current: bool) -> Result<LoadSummary, StoreError> {
        self.load_finishing(code_systems, resources, make_current, false, None)
    }

    /// As [`Terminology::load`] for an upload job: the job's end, built from what is about to be
    /// stored, is written in the same transaction as the release.
    pub fn load_as_job(
        &self,
        code_systems: Vec<CodeSystem>,
        resources: Vec<Json>,
        make_current: bool,
        job_id: &str,
        finish: impl FnOnce(&LoadSummary) -> crate::JobUpdate,
    ) -> Result<LoadSummary, StoreError> {
        self.load_finishing(code_systems, resources, make_current, false, Some((job_id, Box::new(finish))))
    }

    /// As [`Terminology::load_release`], except that a ValueSet replaces the stored ValueSet of the
    /// same URL whatever its version (a billing category's value set is one resource, updated).
    #[allow(clippy::type_complexity)]
    pub(crate) fn load_replacing_value_sets(
        &self,
        code_systems: Vec<CodeSystem>,
        resources: Vec<Json>,
        make_current: bool,
        finish_job: Option<(&str, Box<dyn FnOnce(&LoadSummary) -> crate::JobUpdate + '_>)>,
    ) -> Result<LoadSummary, StoreError> {
        self.load_finishing(code_systems, resources, make_current, true, finish_job)
    }

    #[allow(clippy::type_complexity)]
    fn load_finishing(
        &self,
        code_systems: Vec<CodeSystem>,
        resources: Vec<Json>,
        make_current: bool,
        value_sets_replace_by_url: bool,
        finish_job: Option<(&str, Box<dyn FnOnce(&LoadSummary) -> crate::JobUpdate + '_>)>,
    ) -> Result<LoadSummary, StoreError> {
        let current_marks: Vec<(String, String)> = if make_current {
            code_systems.iter().filter_map(|code_system| Some((code_system.url.clone(), code_system.version.clone()?))).collect()
        } else {
            Vec::new()
        };
        let mut phases = crate::timing::Phases::start();
        let mut summary = LoadSummary::default();
        let snapshot = self.snapshot.load();
        let mut taken: HashMap<(String, String), (Option<String>, Option<String>)> = HashMap::new();
        for ((resource_type, id), entry) in &snapshot.entries {
            let key = match entry {
                Entry::CodeSystem(index, _) => (Some(index.url().to_owned()), index.version().map(str::to_owned)),
                Entry::ValueSet(value_set) => (value_set.url.clone(), value_set.version.clone()),
                Entry::ConceptMap(resource) => (str_of(resource, "url").map(str::to_owned), str_of(resource, "version").map(str::to_owned)),
            };
            taken.insert((resource_type.clone(), id.clone()), key);
        }
        if self.loading_only {
            // Nothing stored is in the snapshot: the ids and canonicals taken come from the rows.
            for resource_type in TERMINOLOGY_RESOURCE_TYPES {
                for header in repo::headers(&self.database, resource_type)? {
                    taken.insert((resource_type.to_string(), header.id), (header.url, header.version));
                }
            }
        }
        phases.lap("ids taken", taken.len());
        let mut items = Vec::new();
        // A code system goes to the index and the rows as the typed value the loader made, with
        // its resource (which has no concepts) for the header: never as one JSON of every concept.
        let mut pending: Vec<(String, Json, Option<CodeSystem>)> = code_systems
            .into_iter()
            .map(|code_system| {
                summary.n_code_systems += 1;
                summary.n_concepts += code_system.concepts.len();
                ("CodeSystem".to_owned(), code_system.resource.clone(), Some(code_system))
            })
            .collect();
        for resource in resources {
            match str_of(&resource, "resourceType") {
                Some("ValueSet") => summary.n_value_sets += 1,
                Some("ConceptMap") => summary.n_concept_maps += 1,
                _ => continue,
            }
            pending.push((str_of(&resource, "resourceType").unwrap_or_default().to_owned(), resource, None));
        }
        for (resource_type, resource, code_system) in pending {
            let key = (str_of(&resource, "url").map(str::to_owned), str_of(&resource, "version").map(str::to_owned));
            let replaces_by_url = value_sets_replace_by_url && resource_type == "ValueSet";
            let same_canonical = taken.iter().find(|((taken_type, _), taken_key)| {
                *taken_type == resource_type && key.0.is_some() && (**taken_key == key || (replaces_by_url && taken_key.0 == key.0))
            });
            let id = match same_canonical {
                Some(((_, id), _)) => id.clone(),
                None => {
                    let base = str_of(&resource, "id")
                        .map(str::to_owned)
                        .unwrap_or_else(|| slug(key.0.as_deref().and_then(|url| url.rsplit('/').next()).unwrap_or("resource")));
                    let mut candidate = base.clone();
                    let mut attempt = 1;
                    while taken.contains_key(&(resource_type.clone(), candidate.clone())) {
                        candidate = match (&key.1, attempt) {
                            (Some(version), 1) => slug(&format!("{base}-{version}")),
                            _ => slug(&format!("{base}-{attempt}")),
                        };
                        attempt += 1;
                    }
                    candidate
                }
            };
            taken.insert((resource_type.clone(), id.clone()), key);
            let write_key = new_write_key();
            let entry = match code_system {
                // Indexing a release costs about a tenth of storing it, for nothing when it will
                // be neither served from here (`fhirterm load`) nor saved as an index file.
                Some(code_system) if self.loading_only && self.saver.is_none() => PreparedEntry::StoredOnly(code_system),
                Some(code_system) => PreparedEntry::Served(Entry::CodeSystem(
                    Arc::new(CodeSystemIndex::new(code_system, Some(id.clone()))),
                    IndexOrigin::written(&write_key),
                )),
                None => {
                    Self::check_type(&resource_type)?;
                    PreparedEntry::Served(Self::entry_of(&resource_type, &id, &resource, &write_key)?)
                }
            };
            items.push(Prepared { resource_type, id, resource, entry, expected_version: None, answer_resource: false, write_key });
        }
        phases.lap("ids chosen, code systems indexed", summary.n_concepts);
        let finish_job = finish_job.map(|(job_id, finish)| (job_id, crate::jobs::JobChanges::of(&finish(&summary))));
        self.write_finishing(items, &current_marks, finish_job.as_ref().map(|(job_id, changes)| (*job_id, changes)))?;
        phases.lap("stored and published", summary.n_concepts);
        Ok(summary)
    }

    /// Answers an operation against the current snapshot plus the request's `tx-resource`s.
    pub fn operation(&self, name: &str, request: &OpRequest) -> Result<Json, StoreError> {
        let registry = self.registry();
        ops::run(name, &registry, request)
    }

    /// `$validate-code` against a code system or a value set: a typed request, a typed answer.
    pub fn validate_code(&self, request: &ops::ValidateCodeRequest) -> Result<ops::ValidateCodeOutcome, StoreError> {
        ops::validate_code(&self.registry(), request)
    }

    /// `ValueSet/$batch-validate-code`: a typed request, a typed answer.
    pub fn validate_code_batch(&self, request: &ops::BatchValidateRequest) -> Result<ops::BatchValidateOutcome, StoreError> {
        ops::validate_code_batch(&self.registry(), request)
    }

    /// `ConceptMap/$translate`: a typed request, a typed answer.
    pub fn translate(&self, request: &ops::TranslateRequest) -> Result<ops::TranslateOutcome, StoreError> {
        ops::translate(&self.registry(), request)
    }

    /// `CodeSystem/$subsumes`: a typed request, a typed answer.
    pub fn subsumes(&self, request: &ops::SubsumesRequest) -> Result<ops::SubsumesOutcome, StoreError> {
        ops::subsumes(&self.registry(), request)
    }

    /// `CodeSystem/$lookup`: a typed request, a typed answer.
    pub fn lookup(&self, request: &ops::LookupRequest) -> Result<ops::LookupOutcome, StoreError> {
        ops::lookup(&self.registry(), request)
    }

    /// `ValueSet/$expand`: a typed request, and an answer whose entries are written when it is
    /// serialized (so a large one can be streamed).
    pub fn expand(&self, request: &ops::ExpandRequest) -> Result<ops::ExpandOutcome, StoreError> {
        ops::expand(&self.registry(), request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_valid_ids() {
        assert_eq!(slug("http://hl7.org/fhir/sid/icd-10-cm"), "http-hl7.org-fhir-sid-icd-10-cm");
        assert_eq!(slug("icd-10-cm-2026"), "icd-10-cm-2026");
    }
}
