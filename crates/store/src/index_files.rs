//! The saved index: each stored code system's index as a file beside the database (one folder per
//! database), so that a start reads it back instead of rebuilding it from rows; its format, how it
//! is read, written (in the background, atomically) and cleaned up.
//!
//! A file is named by the write key of the code system's row (`repo::PutItem::write_key`), which
//! every write of the resource draws afresh: a file whose key is no longer stored is simply never
//! looked up, and is removed at the next clean-up. The file repeats the key inside, carries a
//! format version, and checks each of its sections with a CRC-32; a file that is truncated,
//! corrupt, of another format or for another key is refused with a reason, and the caller rebuilds
//! from rows. The database stays the ground state: deleting the folder loses nothing.
//!
//! Layout: `MAGIC`, the format version (u32, little-endian), then sections, each a length (u64),
//! a CRC-32 (u32) and a postcard payload: the head (key, id, counts, the names and designation
//! uses the concepts refer to by number), blocks of concepts, and the derived parts of the index
//! (the is-a graph both ways, its roots, each concept's status flags). Nothing follows the last.
//! Values that are JSON (a concept's `extra`, `PropertyValue::Other`, a designation's `use`) are
//! written as JSON text: serde_json here keeps numbers as their text (`arbitrary_precision`), which
//! a format that does not describe itself cannot read back as a `serde_json::Value`. The resource
//! header is not in the file: it is read from its row, whose write key vouches for the file.

use crate::index::{Adjacency, CodeSystemIndex, ConceptFlags};
use model::terminology::{CodeSystem, Concept, ConceptProperty, Designation, PropertyCoding, PropertyValue};
use model::{CompactString, Json, Name};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Condvar, Mutex};

/// The first bytes of every saved index file.
const MAGIC: &[u8; 16] = b"fhirterm-index\n\0";
/// Raised whenever the layout or the meaning of a field changes: files of another version are
/// ignored (and replaced once rebuilt from rows).
pub const FORMAT_VERSION: u32 = 2;
/// How saved index files end their name.
const SUFFIX: &str = ".csindex";
/// How many concepts one section holds: reading needs one section in memory at a time.
const CONCEPTS_PER_BLOCK: usize = 8192;
/// Temporary files of a write older than this are left by a process that died while writing.
const ABANDONED_AFTER: std::time::Duration = std::time::Duration::from_secs(3600);

/// Why a saved index file cannot be used (or written): the file and the reason.
#[derive(Debug)]
pub struct IndexFileError {
    pub path: PathBuf,
    pub reason: String,
}

impl std::fmt::Display for IndexFileError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{}: {}", self.path.display(), self.reason)
    }
}

impl std::error::Error for IndexFileError {}

/// The folder where the file of each code system stored in one database is saved, for SQLite
/// beside the database file, and for PostgreSQL under the user's cache folder, named after the
/// server and database (each replica has its own disk). `None` for an in-memory database, or when
/// there is no home folder to put it in.
pub fn default_index_dir(database_url: &str) -> Option<PathBuf> {
    if let Some(rest) = database_url.strip_prefix("sqlite:") {
        let path = rest.trim_start_matches("//");
        if path.is_empty() || path == ":memory:" {
            return None;
        }
        return Some(PathBuf::from(format!("{path}.index")));
    }
    let rest = database_url.strip_prefix("postgres://").or_else(|| database_url.strip_prefix("postgresql://"))?;
    // The credentials are no part of which database it is, and must not be written in a path.
    let without_credentials = rest.rsplit_once('@').map_or(rest, |(_, after)| after);
    let without_query = without_credentials.split('?').next().unwrap_or_default();
    let folder: String =
        without_query.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_' { c } else { '-' }).collect();
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").filter(|value| !value.is_empty()).map(|home| PathBuf::from(home).join(".cache")))?;
    Some(cache.join("fhirterm").join("index").join(format!("postgres-{folder}")))
}

/// Whether a write key can name a file: the 32 lower-case hex digits every write and the
/// migration give (a row written by an older version has an empty key, and gets no file).
pub fn is_file_key(write_key: &str) -> bool {
    write_key.len() == 32 && write_key.bytes().all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
}

/// A folder of saved index files.
#[derive(Clone, Debug)]
pub struct IndexDir {
    path: PathBuf,
}

/// The head section: what the concept blocks refer to by number.
#[derive(Serialize, Deserialize)]
struct Head<S> {
    write_key: S,
    id: S,
    n_concepts: u32,
    n_blocks: u32,
    /// Property codes, languages, and the system, version and display of typed Codings.
    names: Vec<S>,
    /// Designation uses, as JSON text.
    uses: Vec<String>,
}

/// One concept; `S` is `&str` when written and `String` when read, `V` is `&str` and
/// `CompactString` (postcard writes both alike).
#[derive(Serialize, Deserialize)]
struct SavedConcept<S, V> {
    code: S,
    display: Option<S>,
    definition: Option<S>,
    nest_parent: Option<u32>,
    /// JSON text.
    extra: Option<String>,
    designations: Vec<SavedDesignation<S>>,
    properties: Vec<SavedProperty<V>>,
}

#[derive(Serialize, Deserialize)]
struct SavedDesignation<S> {
    /// A number in [`Head::names`].
    language: Option<u32>,
    /// A number in [`Head::uses`].
    use_coding: Option<u32>,
    value: S,
    /// JSON text.
    extra: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct SavedProperty<V> {
    /// A number in [`Head::names`].
    code: u32,
    value: SavedValue<V>,
    /// JSON text.
    extra: Option<String>,
}

#[derive(Serialize, Deserialize)]
enum SavedValue<V> {
    Code(V),
    String(V),
    DateTime(V),
    Boolean(bool),
    Integer(i64),
    Decimal(V),
    Coding { system: Option<u32>, version: Option<u32>, code: V, display: Option<u32> },
    Other { key: u32, json: String },
}

/// The last section: the parts of the index derived from every property of every concept.
#[derive(Serialize, Deserialize)]
struct Derived<A> {
    parents_offsets: A,
    parents_targets: A,
    children_offsets: A,
    children_targets: A,
    roots: A,
    /// [`ConceptFlags::to_bits`] of each concept.
    flags: Vec<u8>,
}

/// The section after the derived parts: the text indexes of a code system large enough to build
/// them in the background ([`TEXT_INDEXES_FROM`] concepts), so that a start has them at once and
/// the first text filter after it needs no scan; `None` for a smaller one.
#[derive(Serialize, Deserialize)]
struct TextIndexes<W, C> {
    /// The word index: each word and the concepts whose texts have it.
    words: Vec<(W, C)>,
    /// Every concept's position, ordered by its code in lower case.
    sorted_codes: C,
}

/// Code systems with at least this many concepts keep their text indexes in their file (smaller
/// ones build theirs on a caller's first text filter, in well under a millisecond).
const TEXT_INDEXES_FROM: usize = 1_000;

/// Numbers the names of a code system as they are first met, for the head section.
#[derive(Default)]
struct NameTable<'a> {
    numbers: HashMap<&'a str, u32>,
    names: Vec<&'a str>,
}

impl<'a> NameTable<'a> {
    fn number(&mut self, name: &'a str) -> u32 {
        *self.numbers.entry(name).or_insert_with(|| {
            self.names.push(name);
            (self.names.len() - 1) as u32
        })
    }

    fn known(&self, name: &str) -> u32 {
        self.numbers[name]
    }
}

/// Numbers the designation uses, each shared `Arc` once and each distinct text once.
#[derive(Default)]
struct UseTable {
    by_pointer: HashMap<*const Json, u32>,
    by_text: HashMap<String, u32>,
    texts: Vec<String>,
}

impl UseTable {
    fn number(&mut self, use_coding: &Arc<Json>) -> u32 {
        let pointer = Arc::as_ptr(use_coding);
        if let Some(number) = self.by_pointer.get(&pointer) {
            return *number;
        }
        let text = use_coding.to_string();
        let number = match self.by_text.get(&text) {
            Some(number) => *number,
            None => {
                self.texts.push(text.clone());
                self.by_text.insert(text, (self.texts.len() - 1) as u32);
                (self.texts.len() - 1) as u32
            }
        };
        self.by_pointer.insert(pointer, number);
        number
    }
}

fn json_text(value: Option<&Json>) -> Option<String> {
    value.map(Json::to_string)
}

impl IndexDir {
    pub fn new(path: impl Into<PathBuf>) -> IndexDir {
        IndexDir { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file of the code system stored under `id` by the write that drew `write_key`.
    pub fn file_of(&self, id: &str, write_key: &str) -> PathBuf {
        let shown_id: String =
            id.chars().take(64).map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '_' }).collect();
        self.path.join(format!("{write_key}.{shown_id}{SUFFIX}"))
    }

    /// Reads back the index of the code system stored under `id` whose row has `write_key` and
    /// `header` (its resource without concepts). `Ok(None)` when no file was saved for that key;
    /// an error when one was, but cannot be used.
    pub fn read(&self, id: &str, write_key: &str, header: &Json) -> Result<Option<CodeSystemIndex>, IndexFileError> {
        if !is_file_key(write_key) {
            return Ok(None);
        }
        let path = self.file_of(id, write_key);
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(IndexFileError { path, reason: format!("cannot open: {error}") }),
        };
        read_index(file, id, write_key, header).map(Some).map_err(|reason| IndexFileError { path, reason })
    }

    /// Writes the file of `index`, stored under `id` with `write_key`: to a temporary name first,
    /// then renamed, so that no reader ever finds half a file under the real name.
    pub fn write(&self, id: &str, write_key: &str, index: &CodeSystemIndex) -> Result<PathBuf, IndexFileError> {
        let path = self.file_of(id, write_key);
        let failed = |what: &str, error: &dyn std::fmt::Display| IndexFileError { path: path.clone(), reason: format!("{what}: {error}") };
        if !is_file_key(write_key) {
            return Err(failed("not written", &format!("'{write_key}' is not a write key")));
        }
        std::fs::create_dir_all(&self.path).map_err(|error| failed("cannot create the folder", &error))?;
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_nanos());
        let temporary = self.path.join(format!(".{write_key}.{}.{nanos}.tmp", std::process::id()));
        // Not synced to the disk before the rename: a crash of the process leaves the written
        // bytes in the page cache, and what a power loss might tear is refused by the checks on
        // read (and read from rows), while a sync per file cost HL7 Terminology's 897 small code
        // systems seconds.
        let written = File::create(&temporary).map_err(|error| error.to_string()).and_then(|file| {
            let mut writer = BufWriter::with_capacity(1 << 20, file);
            write_index(&mut writer, id, write_key, index)?;
            writer.into_inner().map(drop).map_err(|error| error.to_string())
        });
        if let Err(reason) = written.and_then(|()| std::fs::rename(&temporary, &path).map_err(|error| error.to_string())) {
            let _ = std::fs::remove_file(&temporary);
            return Err(failed("cannot write", &reason));
        }
        Ok(path)
    }

    /// Removes every saved index file whose write key is not in `live_keys` (code systems deleted
    /// or written since), and temporary files abandoned by a write that never finished. Only files
    /// named as this module names them are touched. Answers how many were removed.
    pub fn remove_all_but(&self, live_keys: &HashSet<String>) -> usize {
        let Ok(entries) = std::fs::read_dir(&self.path) else { return 0 };
        let mut n_removed = 0;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let stale = if let Some(rest) = name.strip_prefix('.').filter(|rest| rest.ends_with(".tmp")) {
                is_file_key(rest.get(..32).unwrap_or_default())
                    && entry
                        .metadata()
                        .and_then(|metadata| metadata.modified())
                        .is_ok_and(|modified| modified.elapsed().is_ok_and(|age| age > ABANDONED_AFTER))
            } else if name.ends_with(SUFFIX) && name.as_bytes().get(32) == Some(&b'.') {
                let key = &name[..32];
                is_file_key(key) && !live_keys.contains(key)
            } else {
                false
            };
            if stale {
                match std::fs::remove_file(entry.path()) {
                    Ok(()) => n_removed += 1,
                    Err(error) => tracing::warn!(path = %entry.path().display(), %error, "cannot remove a stale saved index file"),
                }
            }
        }
        n_removed
    }
}

/// Writes one section: its length, its CRC-32 and its payload.
fn write_section(writer: &mut impl Write, value: &impl Serialize) -> Result<(), String> {
    let payload = postcard::to_allocvec(value).map_err(|error| format!("cannot encode: {error}"))?;
    writer.write_all(&(payload.len() as u64).to_le_bytes()).map_err(|error| error.to_string())?;
    writer.write_all(&crc32fast::hash(&payload).to_le_bytes()).map_err(|error| error.to_string())?;
    writer.write_all(&payload).map_err(|error| error.to_string())
}

fn write_index(writer: &mut impl Write, id: &str, write_key: &str, index: &CodeSystemIndex) -> Result<(), String> {
    let concepts = &index.code_system.concepts;
    let mut names = NameTable::default();
    let mut uses = UseTable::default();
    for concept in concepts {
        for designation in &concept.designations {
            if let Some(language) = &designation.language {
                names.number(language);
            }
            if let Some(use_coding) = &designation.use_coding {
                uses.number(use_coding);
            }
        }
        for property in &concept.properties {
            names.number(&property.code);
            match &property.value {
                PropertyValue::Coding(coding) => {
                    for name in [&coding.system, &coding.version, &coding.display].into_iter().flatten() {
                        names.number(name);
                    }
                }
                PropertyValue::Other { key, .. } => {
                    names.number(key);
                }
                _ => {}
            }
        }
    }
    writer.write_all(MAGIC).map_err(|error| error.to_string())?;
    writer.write_all(&FORMAT_VERSION.to_le_bytes()).map_err(|error| error.to_string())?;
    let n_blocks = concepts.len().div_ceil(CONCEPTS_PER_BLOCK);
    let head = Head {
        write_key,
        id,
        n_concepts: concepts.len() as u32,
        n_blocks: n_blocks as u32,
        names: names.names.clone(),
        uses: uses.texts.clone(),
    };
    write_section(writer, &head)?;
    for block in concepts.chunks(CONCEPTS_PER_BLOCK) {
        let saved: Vec<SavedConcept<&str, &str>> = block.iter().map(|concept| saved_concept(concept, &names, &mut uses)).collect();
        write_section(writer, &saved)?;
    }
    let derived = Derived {
        parents_offsets: index.parents.offsets(),
        parents_targets: index.parents.targets(),
        children_offsets: index.children.offsets(),
        children_targets: index.children.targets(),
        roots: &index.roots[..],
        flags: index.flags.iter().map(ConceptFlags::to_bits).collect(),
    };
    write_section(writer, &derived)?;
    // Built here (the saver's own thread) when not yet built: the index in memory keeps them too,
    // as the background build of a large index would.
    let text = (index.len() >= TEXT_INDEXES_FROM).then(|| {
        index.build_text_indexes();
        index.text_indexes()
    });
    let text = text.flatten().map(|(words, sorted_codes)| TextIndexes {
        words: words.entries().iter().map(|(word, postings)| (&**word, &postings[..])).collect(),
        sorted_codes,
    });
    write_section(writer, &text)?;
    writer.flush().map_err(|error| error.to_string())
}

fn saved_concept<'a>(concept: &'a Concept, names: &NameTable<'a>, uses: &mut UseTable) -> SavedConcept<&'a str, &'a str> {
    let designations = concept
        .designations
        .iter()
        .map(|designation| SavedDesignation {
            language: designation.language.as_deref().map(|language| names.known(language)),
            use_coding: designation.use_coding.as_ref().map(|use_coding| uses.number(use_coding)),
            value: designation.value.as_str(),
            extra: json_text(designation.extra.as_deref()),
        })
        .collect();
    let properties = concept
        .properties
        .iter()
        .map(|property| SavedProperty {
            code: names.known(&property.code),
            value: match &property.value {
                PropertyValue::Code(text) => SavedValue::Code(text.as_str()),
                PropertyValue::String(text) => SavedValue::String(text.as_str()),
                PropertyValue::DateTime(text) => SavedValue::DateTime(text.as_str()),
                PropertyValue::Boolean(flag) => SavedValue::Boolean(*flag),
                PropertyValue::Integer(integer) => SavedValue::Integer(*integer),
                PropertyValue::Decimal(text) => SavedValue::Decimal(text.as_str()),
                PropertyValue::Coding(coding) => SavedValue::Coding {
                    system: coding.system.as_deref().map(|name| names.known(name)),
                    version: coding.version.as_deref().map(|name| names.known(name)),
                    code: coding.code.as_str(),
                    display: coding.display.as_deref().map(|name| names.known(name)),
                },
                PropertyValue::Other { key, value } => SavedValue::Other { key: names.known(key), json: value.to_string() },
            },
            extra: json_text(property.extra.as_deref()),
        })
        .collect();
    SavedConcept {
        code: concept.code.as_str(),
        display: concept.display.as_deref(),
        definition: concept.definition.as_deref(),
        nest_parent: concept.nest_parent.map(|parent| parent as u32),
        extra: json_text(concept.extra.as_deref()),
        designations,
        properties,
    }
}

/// Reads sections from a file, each checked against its CRC-32, never past the file's end.
struct SectionReader {
    reader: BufReader<File>,
    remaining: u64,
    buffer: Vec<u8>,
    n_read: usize,
}

impl SectionReader {
    fn next<T: serde::de::DeserializeOwned>(&mut self, what: &str) -> Result<T, String> {
        let section = self.n_read;
        self.n_read += 1;
        let mut frame = [0u8; 12];
        if self.remaining < 12 {
            return Err(format!("the file ends before section {section} ({what}): truncated"));
        }
        self.reader.read_exact(&mut frame).map_err(|error| format!("section {section} ({what}): {error}"))?;
        self.remaining -= 12;
        let length = u64::from_le_bytes(frame[..8].try_into().expect("8 bytes"));
        let crc = u32::from_le_bytes(frame[8..].try_into().expect("4 bytes"));
        if length > self.remaining {
            return Err(format!("section {section} ({what}) says {length} bytes, but {} are left: truncated", self.remaining));
        }
        self.buffer.clear();
        self.buffer.resize(length as usize, 0);
        self.reader.read_exact(&mut self.buffer).map_err(|error| format!("section {section} ({what}): {error}"))?;
        self.remaining -= length;
        if crc32fast::hash(&self.buffer) != crc {
            return Err(format!("section {section} ({what}) fails its checksum: corrupt"));
        }
        postcard::from_bytes(&self.buffer).map_err(|error| format!("section {section} ({what}) cannot be decoded: {error}"))
    }
}

fn read_index(file: File, id: &str, write_key: &str, header: &Json) -> Result<CodeSystemIndex, String> {
    let length = file.metadata().map_err(|error| error.to_string())?.len();
    // Most code systems are small (HL7 Terminology has hundreds): no larger buffer than the file.
    let mut reader = BufReader::with_capacity((length as usize).clamp(64, 1 << 20), file);
    let mut start = [0u8; 20];
    if length < start.len() as u64 {
        return Err(format!("{length} bytes is too short for a saved index: truncated"));
    }
    reader.read_exact(&mut start).map_err(|error| error.to_string())?;
    if &start[..16] != MAGIC {
        return Err("not a saved index file".to_owned());
    }
    let format = u32::from_le_bytes(start[16..].try_into().expect("4 bytes"));
    if format != FORMAT_VERSION {
        return Err(format!("format version {format}, and this server reads {FORMAT_VERSION}"));
    }
    let mut sections = SectionReader { reader, remaining: length - start.len() as u64, buffer: Vec::new(), n_read: 0 };
    let head: Head<String> = sections.next("head")?;
    if head.write_key != write_key || head.id != id {
        return Err(format!("it holds {}/{}, not {id}/{write_key}", head.id, head.write_key));
    }
    let n_concepts = head.n_concepts as usize;
    // Every concept takes at least a byte: a count past the bytes left is not to be allocated.
    if n_concepts as u64 > sections.remaining {
        return Err(format!("{n_concepts} concepts in {} bytes", sections.remaining));
    }
    if head.n_blocks as usize != n_concepts.div_ceil(CONCEPTS_PER_BLOCK) {
        return Err(format!("{} blocks for {n_concepts} concepts", head.n_blocks));
    }
    let mut interned = model::name::Names::default();
    let names: Vec<Name> = head.names.iter().map(|name| interned.name(name)).collect();
    let uses: Vec<Arc<Json>> = head
        .uses
        .iter()
        .map(|text| serde_json::from_str(text).map(Arc::new).map_err(|error| format!("designation use {text}: {error}")))
        .collect::<Result<_, _>>()?;
    let mut concepts: Vec<Concept> = Vec::with_capacity(n_concepts);
    for _ in 0..head.n_blocks {
        let block: Vec<SavedConcept<String, CompactString>> = sections.next("concepts")?;
        for saved in block {
            let position = concepts.len();
            concepts.push(concept_of(saved, position, &names, &uses).map_err(|reason| format!("concept {position}: {reason}"))?);
        }
    }
    if concepts.len() != n_concepts {
        return Err(format!("{} concepts where the head says {n_concepts}", concepts.len()));
    }
    let derived: Derived<Vec<u32>> = sections.next("derived parts")?;
    let text: Option<TextIndexes<String, Vec<u32>>> = sections.next("text indexes")?;
    if sections.remaining != 0 {
        return Err(format!("{} bytes after the last section", sections.remaining));
    }
    let parents = Adjacency::from_parts(n_concepts, derived.parents_offsets, derived.parents_targets)
        .map_err(|reason| format!("parents: {reason}"))?;
    let children = Adjacency::from_parts(n_concepts, derived.children_offsets, derived.children_targets)
        .map_err(|reason| format!("children: {reason}"))?;
    let flags = derived
        .flags
        .iter()
        .map(|bits| ConceptFlags::from_bits(*bits).ok_or_else(|| format!("status flags {bits:#x}")))
        .collect::<Result<Vec<_>, _>>()?;
    let mut code_system = CodeSystem::from_json(header).map_err(|error| format!("its stored header: {error}"))?;
    code_system.concepts = concepts;
    let index = CodeSystemIndex::with_derived_parts(code_system, Some(id.to_owned()), parents, children, derived.roots, flags)?;
    if let Some(text) = text {
        let words = text.words.into_iter().map(|(word, postings)| (word.into_boxed_str(), postings)).collect();
        let words = crate::index::text::WordIndex::from_entries(words, n_concepts).map_err(|reason| format!("word index: {reason}"))?;
        index.set_text_indexes(words, text.sorted_codes).map_err(|reason| format!("sorted codes: {reason}"))?;
    }
    Ok(index)
}

fn concept_of(saved: SavedConcept<String, CompactString>, position: usize, names: &[Name], uses: &[Arc<Json>]) -> Result<Concept, String> {
    let name = |number: u32| names.get(number as usize).cloned().ok_or_else(|| format!("name {number} of {}", names.len()));
    let json = |text: Option<String>| -> Result<Option<Box<Json>>, String> {
        text.map(|text| serde_json::from_str(&text).map(Box::new).map_err(|error| format!("JSON {text}: {error}"))).transpose()
    };
    if saved.nest_parent.is_some_and(|parent| parent as usize >= position) {
        return Err(format!("nested under {:?}, which does not come before it", saved.nest_parent));
    }
    let mut designations = Vec::with_capacity(saved.designations.len());
    for designation in saved.designations {
        designations.push(Designation {
            language: designation.language.map(name).transpose()?,
            use_coding: match designation.use_coding {
                Some(number) => Some(uses.get(number as usize).cloned().ok_or_else(|| format!("use {number} of {}", uses.len()))?),
                None => None,
            },
            value: designation.value,
            extra: json(designation.extra)?,
        });
    }
    let mut properties = Vec::with_capacity(saved.properties.len());
    for property in saved.properties {
        let value = match property.value {
            SavedValue::Code(text) => PropertyValue::Code(text),
            SavedValue::String(text) => PropertyValue::String(text),
            SavedValue::DateTime(text) => PropertyValue::DateTime(text),
            SavedValue::Boolean(flag) => PropertyValue::Boolean(flag),
            SavedValue::Integer(integer) => PropertyValue::Integer(integer),
            SavedValue::Decimal(text) => PropertyValue::Decimal(text),
            SavedValue::Coding { system, version, code, display } => PropertyValue::Coding(Box::new(PropertyCoding {
                system: system.map(name).transpose()?,
                version: version.map(name).transpose()?,
                code,
                display: display.map(name).transpose()?,
            })),
            SavedValue::Other { key, json: text } => PropertyValue::Other {
                key: name(key)?,
                value: Box::new(serde_json::from_str(&text).map_err(|error| format!("JSON {text}: {error}"))?),
            },
        };
        properties.push(ConceptProperty { code: name(property.code)?, value, extra: json(property.extra)? });
    }
    Ok(Concept {
        code: saved.code,
        display: saved.display,
        definition: saved.definition,
        designations,
        properties,
        extra: json(saved.extra)?,
        nest_parent: saved.nest_parent.map(|parent| parent as usize),
    })
}

/// What the background writer is asked to do, in order.
struct SaveJob {
    /// Code systems to save: (id, write key, index).
    save: Vec<(String, String, Arc<CodeSystemIndex>)>,
    /// When given, the write keys of every code system stored now: other files are removed.
    keep_only: Option<HashSet<String>>,
}

/// Saves index files on a thread of its own, one job after the other, never on a caller's
/// request or inside a write transaction. A failure (a read-only disk, a full one) is a warning:
/// the database still holds everything, and the next start reads from rows.
pub(crate) struct IndexSaver {
    dir: IndexDir,
    sender: Mutex<mpsc::Sender<SaveJob>>,
    /// Jobs submitted and not yet done, and the condition waiters wait on.
    pending: Arc<(Mutex<usize>, Condvar)>,
}

impl IndexSaver {
    pub(crate) fn start(dir: IndexDir) -> IndexSaver {
        let (sender, receiver) = mpsc::channel::<SaveJob>();
        let pending = Arc::new((Mutex::new(0usize), Condvar::new()));
        let thread_dir = dir.clone();
        let thread_pending = pending.clone();
        let spawned = std::thread::Builder::new().name("fhirterm-index-saver".to_owned()).spawn(move || {
            for job in receiver {
                // A panic must not leave the job counted as pending, or `wait` would never return.
                if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_job(&thread_dir, job))).is_err() {
                    tracing::warn!(dir = %thread_dir.path().display(), "saving index files failed; the next start reads rows");
                }
                let (count, done) = &*thread_pending;
                let mut count = count.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                *count -= 1;
                done.notify_all();
            }
        });
        if let Err(error) = spawned {
            tracing::warn!(%error, "cannot start the thread that saves index files; none will be saved");
        }
        IndexSaver { dir, sender: Mutex::new(sender), pending }
    }

    pub(crate) fn dir(&self) -> &IndexDir {
        &self.dir
    }

    /// Queues saving these code systems (id, write key, index), then, when `keep_only` is given,
    /// removing the files of every other key.
    pub(crate) fn submit(&self, save: Vec<(String, String, Arc<CodeSystemIndex>)>, keep_only: Option<HashSet<String>>) {
        if save.is_empty() && keep_only.is_none() {
            return;
        }
        let (count, _) = &*self.pending;
        *count.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) += 1;
        let sent = self.sender.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).send(SaveJob { save, keep_only });
        if sent.is_err() {
            // The thread could not start: nothing will run the job.
            *count.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) -= 1;
        }
    }

    /// Waits until every job submitted so far is done.
    pub(crate) fn wait(&self) {
        let (count, done) = &*self.pending;
        let mut count = count.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        while *count > 0 {
            count = done.wait(count).unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }
}

fn run_job(dir: &IndexDir, job: SaveJob) {
    for (id, write_key, index) in job.save {
        let started = std::time::Instant::now();
        match dir.write(&id, &write_key, &index) {
            Ok(path) => {
                tracing::debug!(path = %path.display(), elapsed_ms = started.elapsed().as_millis() as u64, "saved the index of {id}")
            }
            Err(error) => tracing::warn!(
                path = %error.path.display(),
                reason = %error.reason,
                "cannot save the index of code system {id}; the next start reads it from rows"
            ),
        }
    }
    if let Some(live_keys) = job.keep_only {
        let n_removed = dir.remove_all_but(&live_keys);
        if n_removed > 0 {
            tracing::debug!(n_removed, dir = %dir.path().display(), "removed saved index files of code systems no longer stored");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_folders_sit_beside_sqlite_and_under_the_cache_for_postgres() {
        assert_eq!(default_index_dir("sqlite://data/fhirterm.db"), Some(PathBuf::from("data/fhirterm.db.index")));
        assert_eq!(default_index_dir("sqlite::memory:"), None);
        if let Some(folder) = default_index_dir("postgres://user:secret@db.example:5432/terminology?sslmode=disable") {
            let text = folder.display().to_string();
            assert!(text.ends_with("fhirterm/index/postgres-db.example-5432-terminology"), "{text}");
            assert!(!text.contains("secret") && !text.contains("user"), "{text}");
        }
    }

    /// A code system with nesting and `parent` properties (several parents), designations with
    /// uses, languages and extensions, and a property of every value type (FHIR JSON).
    fn fixture() -> Json {
        serde_json::json!({
            "resourceType": "CodeSystem", "url": "http://example.org/fhirterm/test/saved", "version": "1", "status": "active",
            "content": "complete", "caseSensitive": false,
            "property": [{"code": "parent", "uri": "http://hl7.org/fhir/concept-properties#parent", "type": "code"},
                         {"code": "status", "uri": "http://hl7.org/fhir/concept-properties#status", "type": "code"}],
            "concept": [
                {"code": "root", "display": "Root", "extension": [{"url": "http://example.org/e", "valueDecimal": 1.50}],
                 "concept": [
                    {"code": "a", "display": "A", "definition": "The first",
                     "designation": [{"language": "de", "use": {"system": "http://snomed.info/sct", "code": "900000000000013009"}, "value": "A de"},
                                     {"language": "fr", "value": "A fr", "extension": [{"url": "http://example.org/d", "valueString": "x"}]}],
                     "property": [{"code": "status", "valueCode": "retired"},
                                  {"code": "label", "valueString": "a label longer than twenty-four bytes"},
                                  {"code": "since", "valueDateTime": "2025-01-01"},
                                  {"code": "flag", "valueBoolean": true},
                                  {"code": "rank", "valueInteger": -3},
                                  {"code": "weight", "valueDecimal": 2.50},
                                  {"code": "part", "valueCoding": {"system": "http://loinc.org", "code": "LP1", "display": "Part one"}},
                                  {"code": "odd", "valueCoding": {"system": "http://loinc.org", "code": "LP2", "userSelected": true}},
                                  {"code": "amount", "valueQuantity": {"value": 1.0, "unit": "mg"}, "extension": [{"url": "http://example.org/p", "valueInteger": 1}]}]},
                    {"code": "b", "designation": [{"language": "de", "use": {"system": "http://snomed.info/sct", "code": "900000000000013009"}, "value": "B de"}]}
                 ]},
                {"code": "c", "display": "C", "property": [{"code": "parent", "valueCode": "a"}, {"code": "parent", "valueCode": "b"},
                                                         {"code": "inactive", "valueBoolean": true}]}
            ]
        })
    }

    fn temporary_dir() -> IndexDir {
        IndexDir::new(std::env::temp_dir().join(format!("fhirterm-index-files-{}", uuid::Uuid::new_v4().simple())))
    }

    fn header_of(resource: &Json) -> Json {
        let mut header = resource.clone();
        header.as_object_mut().unwrap().remove("concept");
        header
    }

    const KEY: &str = "0123456789abcdef0123456789abcdef";

    /// A code system large enough to keep its text indexes in its file reads them back: a start
    /// then answers text filters and code prefixes from them, with no scan and no build.
    #[test]
    fn a_large_index_keeps_its_text_indexes() {
        let concepts: Vec<Json> = (0..TEXT_INDEXES_FROM + 200)
            .map(|n| serde_json::json!({"code": format!("C{n:04}"), "display": format!("Finding number {n} of the {} kind", ["left", "right", "upper"][n % 3]),
                "designation": [{"language": "de", "value": format!("Befund {n}")}]}))
            .collect();
        let resource = serde_json::json!({"resourceType": "CodeSystem", "url": "http://example.org/fhirterm/test/large", "status": "active",
            "content": "complete", "concept": concepts});
        let built = CodeSystemIndex::new(CodeSystem::from_json(&resource).unwrap(), Some("large".to_owned()));
        let queries = ["finding 12", "RIGHT kind", "befund 7", "nothing"];
        let scanned: Vec<Vec<u32>> = queries.iter().map(|query| built.text_search(query)).collect();
        let prefixes: Vec<Vec<u32>> = ["c1", "c"].iter().map(|prefix| built.codes_starting_with(prefix)).collect();
        assert!(!built.has_word_index());
        let dir = temporary_dir();
        dir.write("large", KEY, &built).unwrap();
        assert!(built.has_word_index(), "saving built the text indexes of the index in memory too");
        let read = dir.read("large", KEY, &header_of(&resource)).unwrap().expect("the saved file");
        assert!(read.has_word_index(), "read back, not built");
        for (query, scanned) in queries.iter().zip(&scanned) {
            assert_eq!(&read.text_search(query), scanned, "{query}");
        }
        assert!(!scanned[1].is_empty() && !scanned[2].is_empty());
        assert_eq!(["c1", "c"].iter().map(|prefix| read.codes_starting_with(prefix)).collect::<Vec<_>>(), prefixes);
        assert_eq!(prefixes[1].len(), TEXT_INDEXES_FROM + 200);
        std::fs::remove_dir_all(dir.path()).ok();
    }

    #[test]
    fn an_index_reads_back_as_it_was_built() {
        let resource = fixture();
        let built = CodeSystemIndex::new(CodeSystem::from_json(&resource).unwrap(), Some("saved".to_owned()));
        let dir = temporary_dir();
        let path = dir.write("saved", KEY, &built).unwrap();
        assert!(path.exists());
        let read = dir.read("saved", KEY, &header_of(&resource)).unwrap().expect("the saved file");
        assert_eq!(read.code_system, built.code_system);
        assert_eq!(read.code_system.to_json(), resource);
        assert_eq!(read.parents.iter().collect::<Vec<_>>(), built.parents.iter().collect::<Vec<_>>());
        assert_eq!(read.children.iter().collect::<Vec<_>>(), built.children.iter().collect::<Vec<_>>());
        assert_eq!((&read.roots, &read.flags), (&built.roots, &built.flags));
        assert_eq!(read.find_lenient("A"), Some((1, true)), "the code lookup is built again, case-insensitive as declared");
        assert!(read.subsumes(0, 3) && read.subsumes(2, 3) && !read.subsumes(3, 0));
        assert!(read.flags[1].inactive && read.flags[3].inactive);
        // A file for another key, or no file at all, is no answer.
        assert!(dir.read("saved", "fedcba9876543210fedcba9876543210", &header_of(&resource)).unwrap().is_none());
        assert!(dir.read("saved", "", &header_of(&resource)).unwrap().is_none());
        std::fs::remove_dir_all(dir.path()).unwrap();
    }

    #[test]
    fn damaged_files_are_refused_with_a_reason() {
        let resource = fixture();
        let built = CodeSystemIndex::new(CodeSystem::from_json(&resource).unwrap(), Some("saved".to_owned()));
        let dir = temporary_dir();
        let path = dir.write("saved", KEY, &built).unwrap();
        let good = std::fs::read(&path).unwrap();
        let refused = |bytes: &[u8]| -> String {
            std::fs::write(&path, bytes).unwrap();
            let error = dir.read("saved", KEY, &header_of(&resource)).expect_err("refused");
            assert_eq!(error.path, path);
            error.reason
        };
        assert!(refused(&good[..good.len() - 1]).contains("truncated"));
        assert!(refused(&good[..10]).contains("truncated"));
        let mut flipped = good.clone();
        let middle = good.len() / 2;
        flipped[middle] ^= 0x40;
        assert!(refused(&flipped).contains("checksum"), "{}", refused(&flipped));
        let mut other_version = good.clone();
        other_version[16..20].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
        assert!(refused(&other_version).contains("format version"));
        let mut longer = good.clone();
        longer.push(0);
        assert!(refused(&longer).contains("after the last section"));
        assert!(refused(b"").contains("truncated"));
        // A file renamed to another key's name says whose it is.
        std::fs::write(&path, &good).unwrap();
        let other_key = "fedcba9876543210fedcba9876543210";
        std::fs::rename(&path, dir.file_of("saved", other_key)).unwrap();
        assert!(dir.read("saved", other_key, &header_of(&resource)).expect_err("refused").reason.contains(KEY));
        std::fs::remove_dir_all(dir.path()).unwrap();
    }

    #[test]
    fn clean_up_keeps_live_keys_and_foreign_files() {
        let resource = fixture();
        let built = CodeSystemIndex::new(CodeSystem::from_json(&resource).unwrap(), Some("saved".to_owned()));
        let dir = temporary_dir();
        let other_key = "fedcba9876543210fedcba9876543210";
        let kept = dir.write("saved", KEY, &built).unwrap();
        let stale = dir.write("saved", other_key, &built).unwrap();
        let foreign = dir.path().join("notes.txt");
        std::fs::write(&foreign, "an operator's file").unwrap();
        assert_eq!(dir.remove_all_but(&HashSet::from([KEY.to_owned()])), 1);
        assert!(kept.exists() && !stale.exists() && foreign.exists());
        std::fs::remove_dir_all(dir.path()).unwrap();
    }

    #[test]
    fn only_write_keys_name_files() {
        assert!(is_file_key("0123456789abcdef0123456789abcdef"));
        assert!(!is_file_key(""));
        assert!(!is_file_key("../../../../etc/passwd/0123456789ab"));
        assert!(!is_file_key("0123456789ABCDEF0123456789ABCDEF"));
    }
}
