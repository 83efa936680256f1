//! LOINC from the Regenstrief release (the "LOINC Table File (CSV)" and accessory files as laid
//! out in the 2.7x releases, e.g. `Loinc_2.77.zip`), as a folder, a zip or the lone `Loinc.csv`.
//!
//! # The files read
//! Comma-separated, every field double-quoted, a header row; columns are found by header name,
//! because releases add and move columns. Every file but `Loinc.csv` may be missing.
//! - `LoincTable/Loinc.csv` (required): `LOINC_NUM`, `COMPONENT`, `PROPERTY`, `TIME_ASPCT`,
//!   `SYSTEM`, `SCALE_TYP`, `METHOD_TYP`, `CLASS`, `STATUS`, `LONG_COMMON_NAME` must be there;
//!   `SHORTNAME`, `DisplayName`, `ORDER_OBS`, `CLASSTYPE`, `VersionFirstReleased`,
//!   `VersionLastChanged` and `EXTERNAL_COPYRIGHT_NOTICE` are read when present. The copy in
//!   `AccessoryFiles/PanelsAndForms/` is not read when `LoincTable/` has one.
//! - `AccessoryFiles/PartFile/Part.csv`: `PartNumber`, `PartTypeName`, `PartName`,
//!   `PartDisplayName`, `Status`.
//! - `AccessoryFiles/PartFile/LoincPartLink_Primary.csv`, then `LoincPartLink_Supplementary.csv`
//!   (or the single `LoincPartLink.csv` of 2.67 to 2.69): `LoincNumber`, `PartNumber`,
//!   `PartName` and `Property` (`http://loinc.org/property/{code}`).
//! - `AccessoryFiles/ComponentHierarchyBySystem/ComponentHierarchyBySystem.csv`:
//!   `PATH_TO_ROOT`, `SEQUENCE`, `IMMEDIATE_PARENT`, `CODE`, `CODE_TEXT`.
//! - `AccessoryFiles/LinguisticVariants/<ll><CC><id>LinguisticVariant.csv` (e.g.
//!   `deAT24LinguisticVariant.csv`): `LOINC_NUM` and `LONG_COMMON_NAME` in language `ll-CC`.
//! - `AccessoryFiles/AnswerFile/AnswerList.csv`: `AnswerListId`, `AnswerListName`,
//!   `AnswerStringId`, `SequenceNumber`, `DisplayText`, and `ExtDefinedYN` when present; and
//!   `LoincAnswerListLink.csv` beside it: `LoincNumber`, `AnswerListId` (the copies in
//!   `PanelsAndForms/` are read only when `AnswerFile/` has none).
//!
//! # What it gives
//! One CodeSystem `http://loinc.org` with `hierarchyMeaning` is-a and no nesting. Each LOINC term
//! is a concept whose display is `LONG_COMMON_NAME`; `SHORTNAME` and `DisplayName` are English
//! designations with the uses `http://fhirterm.dev/designation-use#short` and `#display-name`,
//! and each linguistic variant's long common name a designation in its language. The string
//! properties `COMPONENT`, `PROPERTY`, `TIME_ASPCT`, `SYSTEM`, `SCALE_TYP`, `METHOD_TYP`,
//! `CLASS`, `CLASSTYPE`, `STATUS`, `ORDER_OBS` and `EXTERNAL_COPYRIGHT_NOTICE` carry the columns
//! of the same name (empty fields are left out); `STATUS` DEPRECATED also sets `inactive` true
//! (DISCOURAGED and TRIAL do not). `STATUS` is also given in FHIR's own vocabulary as the
//! `status` concept property (ACTIVE active, TRIAL experimental, DISCOURAGED deprecated,
//! DEPRECATED retired), which the operations' `activeOnly` and status reporting read;
//! `VersionFirstReleased` and `VersionLastChanged` are string properties (LOINC releases carry
//! release numbers, not dates, so a term has no `effectiveDate`).
//!
//! Each part link gives the term the property its `Property` URI names, as a Coding of the part
//! (`http://loinc.org`, the `LP…` code, `PartName` as display), as the official LOINC
//! CodeSystem types them; it takes the place of the column text of the same name (`SCALE_TYP`
//! "Doc" becomes the Coding of the Doc part, displayed "Doc", so filters by name still match), a
//! repeated link (the supplementary file repeats primary ones) adds nothing, and properties
//! without a column (`analyte`, `search`, …) are declared as Codings too. A term without a link
//! for an axis keeps the column text.
//!
//! Each part of `Part.csv` is a concept (`LP…` codes), with `PartDisplayName` (else `PartName`)
//! as display, `PartName` as a designation, the properties `PartTypeName` and `STATUS`, and
//! `inactive` true unless its status is ACTIVE. Every row of the component hierarchy gives its
//! `CODE` a `parent` property naming `IMMEDIATE_PARENT` (a term or part in several places of the
//! hierarchy gets several parents); a hierarchy node that is neither a term nor a listed part
//! becomes a concept with `CODE_TEXT` as display.
//!
//! Each answer list is a concept (`LL…`, display `AnswerListName`) whose `Answer` properties are
//! Codings of its answers in `SequenceNumber` order, and each answer a concept (`LA…`, display
//! the `DisplayText` of its first row) with an `AnswerList` Coding per list it is in; an
//! externally defined list (`ExtDefinedYN` Y) has no answers. Each answer list link gives the
//! term an `answer-list` Coding and the list an `answers-for` Coding of the term (the property
//! codes are in `model::terminology::loinc`, which the store's LOINC filters and the value sets
//! `http://loinc.org/vs/LL…` read).
//!
//! The version is [`LoadOptions::version`], else the `x.yy` of a `Loinc_x.yy` folder or zip in
//! the file names, else the highest `VersionLastChanged` of `Loinc.csv` (every release changes
//! some terms, so this is the release's own number).
//!
//! A row with the wrong number of fields, a malformed code or a code listed twice, a part link
//! or answer list link to a term `Loinc.csv` lacks, a link whose `Property` is not a LOINC
//! property URI, an answer row without its `AnswerStringId` (in a list not externally defined)
//! or an answer listed twice in one list is skipped with a diagnostic; a release without
//! `Loinc.csv`, or a file whose header lacks a required column, is a [`LoadError`].
//!
//! Tests are at the end of this file; fixtures in `test_data/loinc/`.

use crate::icd10cm::DESIGNATION_USE_SYSTEM;
use crate::{Diagnostic, LoadError, LoadOptions, Loaded, Source};
use model::terminology::{loinc, CodeSystem, Concept, ConceptProperty, Designation};
use model::{Json, Name};
use serde_json::json;
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::io::Read;
use std::rc::Rc;

pub const LOINC_URL: &str = loinc::SYSTEM;
pub const LOINC_OID: &str = "2.16.840.1.113883.6.1";

const TERM_REQUIRED_COLUMNS: &[&str] =
    &["LOINC_NUM", "COMPONENT", "PROPERTY", "TIME_ASPCT", "SYSTEM", "SCALE_TYP", "METHOD_TYP", "CLASS", "STATUS", "LONG_COMMON_NAME"];
const TERM_OPTIONAL_COLUMNS: &[&str] =
    &["SHORTNAME", "DisplayName", "ORDER_OBS", "CLASSTYPE", "VersionLastChanged", "VersionFirstReleased", "EXTERNAL_COPYRIGHT_NOTICE"];
/// The columns that become string properties, in this order.
const TERM_PROPERTIES: &[&str] = &[
    "COMPONENT",
    "PROPERTY",
    "TIME_ASPCT",
    "SYSTEM",
    "SCALE_TYP",
    "METHOD_TYP",
    "CLASS",
    "CLASSTYPE",
    "STATUS",
    "ORDER_OBS",
    "EXTERNAL_COPYRIGHT_NOTICE",
];
const PART_COLUMNS: &[&str] = &["PartNumber", "PartTypeName", "PartName", "PartDisplayName", "Status"];
const HIERARCHY_COLUMNS: &[&str] = &["PATH_TO_ROOT", "SEQUENCE", "IMMEDIATE_PARENT", "CODE", "CODE_TEXT"];
const VARIANT_COLUMNS: &[&str] = &["LOINC_NUM", "LONG_COMMON_NAME"];
const PART_LINK_COLUMNS: &[&str] = &["LoincNumber", "PartNumber", "PartName", "Property"];
const ANSWER_LIST_COLUMNS: &[&str] = &["AnswerListId", "AnswerListName", "AnswerStringId", "SequenceNumber", "DisplayText"];
const ANSWER_LIST_OPTIONAL_COLUMNS: &[&str] = &["ExtDefinedYN"];
const ANSWER_LINK_COLUMNS: &[&str] = &["LoincNumber", "AnswerListId"];
/// A part link's `Property` names the term's property as `http://loinc.org/property/{code}`.
const PROPERTY_URI_BASE: &str = "http://loinc.org/property/";

fn base_name(name: &str) -> &str {
    name.rsplit(['/', '!']).next().unwrap_or(name)
}

/// True for the LOINC table file, `Loinc.csv` (normally `LoincTable/Loinc.csv`).
pub fn is_loinc_table(name: &str) -> bool {
    base_name(name).eq_ignore_ascii_case("Loinc.csv")
}

fn is_part_file(name: &str) -> bool {
    base_name(name).eq_ignore_ascii_case("Part.csv")
}

/// `LoincPartLink_Primary.csv`, `LoincPartLink_Supplementary.csv` (2.70 on) or `LoincPartLink.csv` (2.67 to 2.69).
fn is_part_link_file(name: &str) -> bool {
    let lower = base_name(name).to_ascii_lowercase();
    lower.starts_with("loincpartlink") && lower.ends_with(".csv")
}

/// Of the files with one base name, the ones in `folder` when there are any there, else all:
/// a release carries copies of `Loinc.csv` and the answer files in `AccessoryFiles/PanelsAndForms/`
/// beside the originals in `LoincTable/` and `AccessoryFiles/AnswerFile/`.
fn preferring_folder<'n>(names: &'n [String], base: &str, folder: &str) -> Vec<&'n String> {
    let all: Vec<&String> = names.iter().filter(|name| base_name(name).eq_ignore_ascii_case(base)).collect();
    let in_folder: Vec<&String> = all.iter().copied().filter(|name| name.split(['/', '!']).any(|part| part == folder)).collect();
    if in_folder.is_empty() {
        all
    } else {
        in_folder
    }
}

fn is_hierarchy_file(name: &str) -> bool {
    base_name(name).eq_ignore_ascii_case("ComponentHierarchyBySystem.csv")
}

/// The language of a linguistic variant file: `deAT24LinguisticVariant.csv` gives `de-AT`.
fn variant_language(name: &str) -> Option<String> {
    let stem = base_name(name).strip_suffix("LinguisticVariant.csv")?;
    let bytes = stem.as_bytes();
    let is_variant = bytes.len() > 4
        && bytes[..2].iter().all(u8::is_ascii_lowercase)
        && bytes[2..4].iter().all(u8::is_ascii_uppercase)
        && bytes[4..].iter().all(u8::is_ascii_digit);
    is_variant.then(|| format!("{}-{}", &stem[..2], &stem[2..4]))
}

/// `12345-6`: one to seven digits, a dash and a check digit; parts start with `LP`.
fn is_loinc_code(code: &str, prefix: &str) -> bool {
    let Some(rest) = code.strip_prefix(prefix) else {
        return false;
    };
    let Some((number, check)) = rest.split_once('-') else {
        return false;
    };
    (1..=7).contains(&number.len())
        && number.bytes().all(|byte| byte.is_ascii_digit())
        && check.len() == 1
        && check.bytes().all(|byte| byte.is_ascii_digit())
}

/// The release number in a `Loinc_2.77` folder or zip name.
fn release_in_name(name: &str) -> Option<String> {
    name.split(['/', '!']).find_map(|part| {
        let lower = part.to_ascii_lowercase();
        let rest = &lower[lower.find("loinc_")? + "loinc_".len()..];
        let rest = rest.strip_suffix(".zip").unwrap_or(rest);
        let rest = rest.strip_suffix("_text").unwrap_or(rest);
        let (major, minor) = rest.split_once('.')?;
        let is_release = !major.is_empty()
            && !minor.is_empty()
            && major.bytes().all(|byte| byte.is_ascii_digit())
            && minor.bytes().all(|byte| byte.is_ascii_digit());
        is_release.then(|| rest.to_owned())
    })
}

/// `2.77` as (2, 77), to compare release numbers.
fn release_key(version: &str) -> Option<(u32, u32)> {
    let (major, minor) = version.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

fn property(code: &str, value_key: &str, value: Json) -> ConceptProperty {
    ConceptProperty::new(code, value_key, value)
}

fn designation(language: &str, use_code: Option<(&str, &str)>, value: &str) -> Designation {
    Designation {
        language: Some(Name::new(language)),
        use_coding: use_code
            .map(|(code, display)| std::sync::Arc::new(json!({"system": DESIGNATION_USE_SYSTEM, "code": code, "display": display}))),
        value: value.to_owned(),
        extra: None,
    }
}

fn new_concept(code: &str, display: &str) -> Concept {
    Concept {
        code: code.to_owned(),
        display: (!display.is_empty()).then(|| display.to_owned()),
        definition: None,
        designations: Vec::new(),
        properties: Vec::new(),
        extra: None,
        nest_parent: None,
    }
}

/// Streams a quoted CSV file, checking its header row and giving each row's fields by column
/// name: `required` columns must be there, `optional` ones may be (`None` when absent).
fn for_each_record(
    source: &dyn Source,
    name: &str,
    required: &[&str],
    optional: &[&str],
    diagnostics: &mut Vec<Diagnostic>,
    mut each_record: impl FnMut(u64, &[Option<&str>], &mut Vec<Diagnostic>),
) -> Result<(), LoadError> {
    let newlines = Rc::new(RefCell::new(VecDeque::new()));
    let counting_reader = NewlineRecorder { inner: source.open(name)?, offset: 0, newlines: Rc::clone(&newlines) };
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(counting_reader);
    // The line a record starts on, counted from the bytes: the csv crate's own count runs short
    // after CRLF line ends, where a record's position is the LF before it. Records come in order,
    // so the newlines up to one are counted and dropped.
    let mut n_newlines_before = 0u64;
    let mut line_of = |byte_offset: u64| {
        let mut newlines = newlines.borrow_mut();
        while newlines.front().is_some_and(|newline_offset| *newline_offset <= byte_offset) {
            newlines.pop_front();
            n_newlines_before += 1;
        }
        n_newlines_before + 1
    };
    let headers = reader.headers().map_err(|error| LoadError::new(name, format!("unreadable header row: {error}")).at_line(1))?.clone();
    let column_of = |wanted: &str| headers.iter().position(|column| column.trim_start_matches('\u{feff}').trim() == wanted);
    let mut positions: Vec<Option<usize>> = Vec::new();
    for column in required {
        let position = column_of(column).ok_or_else(|| {
            LoadError::new(name, format!("the header row lacks the column {column}"))
                .at_line(1)
                .with_value(headers.iter().collect::<Vec<_>>().join(","))
        })?;
        positions.push(Some(position));
    }
    positions.extend(optional.iter().map(|column| column_of(column)));
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {}
            Err(error) => {
                diagnostics.push(Diagnostic {
                    path: name.to_owned(),
                    line: error.position().map(|position| line_of(position.byte())),
                    value: String::new(),
                    message: format!("unreadable row: {error}; skipped"),
                });
                // An I/O error does not go away by reading on.
                if matches!(error.kind(), csv::ErrorKind::Io(_)) {
                    return Err(LoadError::new(name, format!("cannot read: {error}")));
                }
                continue;
            }
        }
        let line = record.position().map(|position| line_of(position.byte())).unwrap_or_default();
        if record.len() != headers.len() {
            diagnostics.push(Diagnostic {
                path: name.to_owned(),
                line: Some(line),
                value: record.iter().collect::<Vec<_>>().join(","),
                message: format!("row has {} fields where the header has {}; skipped", record.len(), headers.len()),
            });
            continue;
        }
        let fields: Vec<Option<&str>> = positions.iter().map(|position| position.map(|position| record[position].trim())).collect();
        each_record(line, &fields, diagnostics);
    }
}

/// Passes bytes through, noting the offset of every newline.
struct NewlineRecorder<R> {
    inner: R,
    offset: u64,
    newlines: Rc<RefCell<VecDeque<u64>>>,
}

impl<R: Read> Read for NewlineRecorder<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let n_bytes = self.inner.read(buffer)?;
        let mut newlines = self.newlines.borrow_mut();
        for (idx, byte) in buffer[..n_bytes].iter().enumerate() {
            if *byte == b'\n' {
                newlines.push_back(self.offset + idx as u64);
            }
        }
        self.offset += n_bytes as u64;
        Ok(n_bytes)
    }
}

struct Builder {
    concepts: Vec<Concept>,
    by_code: HashMap<String, usize>,
    /// The terms of `Loinc.csv` come first: concepts `0..n_terms`.
    n_terms: usize,
}

impl Builder {
    fn add(&mut self, concept: Concept) -> usize {
        let concept_idx = self.concepts.len();
        self.by_code.insert(concept.code.clone(), concept_idx);
        self.concepts.push(concept);
        concept_idx
    }
}

/// One row of an answer list: its `SequenceNumber`, its place in the file (for equal sequence
/// numbers), the answer's code and `DisplayText`.
struct ListedAnswer {
    sequence: u32,
    row: usize,
    code: String,
    text: String,
}

/// Loads one LOINC release.
pub fn load(source: &dyn Source, options: &LoadOptions) -> Result<Loaded, LoadError> {
    let names = source.names();
    let table_names = preferring_folder(&names, "Loinc.csv", "LoincTable");
    let table_name = match table_names.as_slice() {
        [one] => one.as_str(),
        [] => {
            return Err(LoadError::new(
                names.first().cloned().unwrap_or_default(),
                "no LOINC table file (LoincTable/Loinc.csv) in this release",
            ))
        }
        several => {
            return Err(
                LoadError::new(several[1].as_str(), "more than one Loinc.csv; load one release at a time").with_value(several[0].as_str())
            )
        }
    };
    let mut loaded = Loaded::default();
    let diagnostics = &mut loaded.diagnostics;
    let mut builder = Builder { concepts: Vec::new(), by_code: HashMap::new(), n_terms: 0 };
    let mut highest_version: Option<(u32, u32)> = None;

    let n_required = TERM_REQUIRED_COLUMNS.len();
    let column =
        |name: &str| TERM_REQUIRED_COLUMNS.iter().chain(TERM_OPTIONAL_COLUMNS).position(|column| *column == name).expect("a known column");
    let property_columns: Vec<(&str, usize)> = TERM_PROPERTIES.iter().map(|name| (*name, column(name))).collect();
    let (code_column, status_column, long_name_column) = (column("LOINC_NUM"), column("STATUS"), column("LONG_COMMON_NAME"));
    let (short_name_column, display_name_column, version_column, first_released_column) =
        (column("SHORTNAME"), column("DisplayName"), column("VersionLastChanged"), column("VersionFirstReleased"));
    debug_assert!(short_name_column >= n_required);
    for_each_record(source, table_name, TERM_REQUIRED_COLUMNS, TERM_OPTIONAL_COLUMNS, diagnostics, |line, fields, diagnostics| {
        let code = fields[code_column].unwrap_or_default();
        let mut report = |message: String| {
            diagnostics.push(Diagnostic { path: table_name.to_owned(), line: Some(line), value: code.to_owned(), message })
        };
        if !is_loinc_code(code, "") {
            return report("LOINC_NUM is not a LOINC code (digits, a dash and a check digit); skipped".into());
        }
        if builder.by_code.contains_key(code) {
            return report("LOINC_NUM listed twice; the second row is skipped".into());
        }
        let mut concept = new_concept(code, fields[long_name_column].unwrap_or_default());
        if let Some(short_name) = fields[short_name_column].filter(|text| !text.is_empty()) {
            concept.designations.push(designation("en-US", Some(("short", "Short name")), short_name));
        }
        if let Some(display_name) = fields[display_name_column].filter(|text| !text.is_empty()) {
            concept.designations.push(designation("en-US", Some(("display-name", "Display name")), display_name));
        }
        for (property_code, property_column) in &property_columns {
            if let Some(value) = fields[*property_column].filter(|text| !text.is_empty()) {
                concept.properties.push(property(property_code, "valueString", json!(value)));
            }
        }
        if fields[status_column] == Some("DEPRECATED") {
            concept.properties.push(property("inactive", "valueBoolean", json!(true)));
        }
        if let Some(status) = fields[status_column].and_then(fhir_status) {
            concept.properties.push(property("status", "valueCode", json!(status)));
        }
        for (property_code, property_column) in [("VersionFirstReleased", first_released_column), ("VersionLastChanged", version_column)] {
            if let Some(release) = fields[property_column].filter(|text| !text.is_empty()) {
                concept.properties.push(property(property_code, "valueString", json!(release)));
            }
        }
        if let Some(key) = fields[version_column].and_then(release_key) {
            highest_version = highest_version.max(Some(key));
        }
        builder.add(concept);
    })?;
    if builder.concepts.is_empty() {
        return Err(LoadError::new(table_name, "no LOINC terms in the table file"));
    }
    builder.n_terms = builder.concepts.len();

    let mut n_parts = 0;
    for part_name in names.iter().filter(|name| is_part_file(name)) {
        for_each_record(source, part_name, PART_COLUMNS, &[], diagnostics, |line, fields, diagnostics| {
            let [Some(code), Some(part_type), Some(part_name_text), Some(part_display_name), Some(status)] = fields else {
                unreachable!("every part column is required")
            };
            let mut report = |message: &str| {
                diagnostics.push(Diagnostic { path: part_name.clone(), line: Some(line), value: code.to_string(), message: message.into() })
            };
            if !is_loinc_code(code, "LP") {
                return report("PartNumber is not a LOINC part code (LP, digits, a dash and a check digit); skipped");
            }
            if builder.by_code.contains_key(*code) {
                return report("PartNumber listed twice; the second row is skipped");
            }
            let display = if part_display_name.is_empty() { part_name_text } else { part_display_name };
            let mut concept = new_concept(code, display);
            if !part_name_text.is_empty() && part_name_text != display {
                concept.designations.push(designation("en-US", None, part_name_text));
            }
            if !part_type.is_empty() {
                concept.properties.push(property("PartTypeName", "valueString", json!(part_type)));
            }
            if !status.is_empty() {
                concept.properties.push(property("STATUS", "valueString", json!(status)));
            }
            if *status != "ACTIVE" {
                concept.properties.push(property("inactive", "valueBoolean", json!(true)));
            }
            builder.add(concept);
            n_parts += 1;
        })?;
    }

    let mut has_hierarchy = false;
    for hierarchy_name in names.iter().filter(|name| is_hierarchy_file(name)) {
        for_each_record(source, hierarchy_name, HIERARCHY_COLUMNS, &[], diagnostics, |line, fields, diagnostics| {
            let [_, _, Some(parent), Some(code), Some(code_text)] = fields else { unreachable!("every hierarchy column is required") };
            if code.is_empty() {
                return diagnostics.push(Diagnostic {
                    path: hierarchy_name.clone(),
                    line: Some(line),
                    value: fields.iter().map(|field| field.unwrap_or_default()).collect::<Vec<_>>().join(","),
                    message: "hierarchy row without a CODE; skipped".into(),
                });
            }
            has_hierarchy = true;
            let concept_idx = match builder.by_code.get(*code) {
                Some(concept_idx) => *concept_idx,
                None => builder.add(new_concept(code, code_text)),
            };
            let properties = &mut builder.concepts[concept_idx].properties;
            if !parent.is_empty() && !properties.iter().any(|found| found.code == "parent" && found.value.as_str() == Some(parent)) {
                properties.push(property("parent", "valueCode", json!(parent)));
            }
        })?;
    }

    let mut variant_names: Vec<(&String, String)> =
        names.iter().filter_map(|name| variant_language(name).map(|language| (name, language))).collect();
    variant_names.sort();
    for (variant_name, language) in variant_names {
        for_each_record(source, variant_name, VARIANT_COLUMNS, &[], diagnostics, |line, fields, diagnostics| {
            let [Some(code), Some(long_name)] = fields else { unreachable!("every variant column is required") };
            if long_name.is_empty() {
                return;
            }
            match builder.by_code.get(*code) {
                Some(concept_idx) => builder.concepts[*concept_idx].designations.push(designation(&language, None, long_name)),
                None => diagnostics.push(Diagnostic {
                    path: variant_name.clone(),
                    line: Some(line),
                    value: code.to_string(),
                    message: "linguistic variant of a code Loinc.csv lacks; skipped".into(),
                }),
            }
        })?;
    }

    let n_terms = builder.n_terms;
    let mut link_properties: Vec<String> = Vec::new();
    let mut link_names: Vec<&String> = names.iter().filter(|name| is_part_link_file(name)).collect();
    // Primary first, so that its links come before the supplementary ones on each term.
    link_names.sort_by_key(|name| (!base_name(name).to_ascii_lowercase().contains("primary"), name.as_str()));
    for link_name in link_names {
        for_each_record(source, link_name, PART_LINK_COLUMNS, &[], diagnostics, |line, fields, diagnostics| {
            let [Some(term), Some(part), Some(part_name), Some(property_uri)] = fields else {
                unreachable!("every part link column is required")
            };
            let mut report = |message: &str, value: &str| {
                diagnostics.push(Diagnostic { path: link_name.clone(), line: Some(line), value: value.to_owned(), message: message.into() })
            };
            let Some(property_code) = property_uri.strip_prefix(PROPERTY_URI_BASE).filter(|code| !code.is_empty() && !code.contains('/'))
            else {
                return report("Property is not a http://loinc.org/property/ URI; skipped", property_uri);
            };
            if !is_loinc_code(part, "LP") {
                return report("PartNumber is not a LOINC part code (LP, digits, a dash and a check digit); skipped", part);
            }
            let Some(&term_idx) = builder.by_code.get(*term).filter(|idx| **idx < n_terms) else {
                return report("part link of a term Loinc.csv lacks; skipped", term);
            };
            let coding = json!({"system": LOINC_URL, "code": part, "display": part_name});
            let properties = &mut builder.concepts[term_idx].properties;
            let same_property = |found: &ConceptProperty| found.code == property_code;
            if properties.iter().any(|found| same_property(found) && found.value_key() == "valueCoding" && found.value.code() == Some(part))
            {
                // The supplementary file repeats primary links (LinkTypeName DetailedModel).
                return;
            }
            // The part replaces the column text of the same name (`SCALE_TYP` "Doc" becomes the
            // Coding of its LP code with "Doc" as display, which filters still match by name).
            let coded = property(property_code, "valueCoding", coding);
            match properties.iter_mut().find(|found| same_property(found) && found.value_key() == "valueString") {
                Some(text) => *text = coded,
                None => properties.push(coded),
            }
            if !link_properties.iter().any(|known| known == property_code) {
                link_properties.push(property_code.to_owned());
            }
        })?;
    }

    let answer_list_names = preferring_folder(&names, "AnswerList.csv", "AnswerFile");
    // Per answer list (by concept index): its answers as they come.
    let mut answers_of: HashMap<usize, Vec<ListedAnswer>> = HashMap::new();
    let mut n_answer_rows = 0usize;
    let mut n_answer_lists = 0usize;
    for answer_list_name in &answer_list_names {
        for_each_record(
            source,
            answer_list_name,
            ANSWER_LIST_COLUMNS,
            ANSWER_LIST_OPTIONAL_COLUMNS,
            diagnostics,
            |line, fields, diagnostics| {
                let [Some(list), Some(list_name), Some(answer), Some(sequence), Some(answer_text), externally_defined] = fields else {
                    unreachable!("every answer list column but ExtDefinedYN is required")
                };
                let mut report = |message: &str, value: &str| {
                    diagnostics.push(Diagnostic {
                        path: answer_list_name.to_string(),
                        line: Some(line),
                        value: value.to_owned(),
                        message: message.into(),
                    })
                };
                if !is_loinc_code(list, "LL") {
                    return report("AnswerListId is not a LOINC answer list code (LL, digits, a dash and a check digit); skipped", list);
                }
                let list_idx = match builder.by_code.get(*list) {
                    Some(list_idx) => *list_idx,
                    None => {
                        n_answer_lists += 1;
                        builder.add(new_concept(list, list_name))
                    }
                };
                if answer.is_empty() {
                    // An externally defined list (ExtDefinedYN Y) names no answers of its own.
                    if *externally_defined != Some("Y") {
                        report("answer row without an AnswerStringId; skipped", list);
                    }
                    return;
                }
                if !is_loinc_code(answer, "LA") {
                    return report("AnswerStringId is not a LOINC answer code (LA, digits, a dash and a check digit); skipped", answer);
                }
                let answer_idx = match builder.by_code.get(*answer) {
                    Some(answer_idx) => *answer_idx,
                    None => builder.add(new_concept(answer, answer_text)),
                };
                let answers = answers_of.entry(list_idx).or_default();
                if answers.iter().any(|listed| listed.code == *answer) {
                    return report("answer listed twice in one answer list; the second row is skipped", answer);
                }
                let Ok(sequence) = sequence.parse::<u32>() else {
                    return report("SequenceNumber is not a number; skipped", sequence);
                };
                answers.push(ListedAnswer { sequence, row: n_answer_rows, code: answer.to_string(), text: answer_text.to_string() });
                n_answer_rows += 1;
                let list_coding = json!({"system": LOINC_URL, "code": list, "display": list_name});
                builder.concepts[answer_idx].properties.push(property(loinc::IN_ANSWER_LIST, "valueCoding", list_coding));
            },
        )?;
    }
    let mut lists: Vec<(usize, Vec<ListedAnswer>)> = answers_of.into_iter().collect();
    lists.sort_unstable_by_key(|(list_idx, _)| *list_idx);
    for (list_idx, mut answers) in lists {
        answers.sort_unstable_by_key(|listed| (listed.sequence, listed.row));
        builder.concepts[list_idx].properties.extend(answers.into_iter().map(|listed| {
            property(loinc::ANSWER, "valueCoding", json!({"system": LOINC_URL, "code": listed.code, "display": listed.text}))
        }));
    }

    let answer_link_names =
        if answer_list_names.is_empty() { Vec::new() } else { preferring_folder(&names, "LoincAnswerListLink.csv", "AnswerFile") };
    for answer_link_name in answer_link_names {
        for_each_record(source, answer_link_name, ANSWER_LINK_COLUMNS, &[], diagnostics, |line, fields, diagnostics| {
            let [Some(term), Some(list)] = fields else { unreachable!("every answer list link column is required") };
            let mut report = |message: &str, value: &str| {
                diagnostics.push(Diagnostic {
                    path: answer_link_name.clone(),
                    line: Some(line),
                    value: value.to_owned(),
                    message: message.into(),
                })
            };
            let Some(&term_idx) = builder.by_code.get(*term).filter(|idx| **idx < n_terms) else {
                return report("answer list link of a term Loinc.csv lacks; skipped", term);
            };
            let Some(&list_idx) = builder.by_code.get(*list).filter(|_| is_loinc_code(list, "LL")) else {
                return report("answer list link to a list AnswerList.csv lacks; skipped", list);
            };
            let term_properties = &builder.concepts[term_idx].properties;
            if term_properties.iter().any(|found| found.code == loinc::ANSWER_LIST && found.value.code() == Some(list)) {
                return;
            }
            let list_display = builder.concepts[list_idx].display.clone().unwrap_or_default();
            let term_display = builder.concepts[term_idx].display.clone().unwrap_or_default();
            builder.concepts[term_idx].properties.push(property(
                loinc::ANSWER_LIST,
                "valueCoding",
                json!({"system": LOINC_URL, "code": list, "display": list_display}),
            ));
            builder.concepts[list_idx].properties.push(property(
                loinc::ANSWERS_FOR,
                "valueCoding",
                json!({"system": LOINC_URL, "code": term, "display": term_display}),
            ));
        })?;
    }

    let version = options
        .version
        .clone()
        .or_else(|| names.iter().find_map(|name| release_in_name(name)))
        .or_else(|| highest_version.map(|(major, minor)| format!("{major}.{minor}")));
    if version.is_none() {
        diagnostics.push(Diagnostic {
            path: table_name.to_owned(),
            line: None,
            value: String::new(),
            message: "no release number in a Loinc_x.yy name or in VersionLastChanged; the code system has no version (name one with the version option)".into(),
        });
    }
    let contents = Contents { has_parts: n_parts > 0, has_hierarchy, link_properties, has_answer_lists: n_answer_lists > 0 };
    let mut code_system = CodeSystem::from_json(&header(version.as_deref(), builder.concepts.len(), &contents))
        .expect("the LOINC header is a valid CodeSystem");
    code_system.concepts = builder.concepts;
    loaded.code_systems.push(code_system);
    Ok(loaded)
}

/// A term's `STATUS` as a FHIR concept status (`http://hl7.org/fhir/concept-properties#status`).
fn fhir_status(loinc_status: &str) -> Option<&'static str> {
    match loinc_status {
        "ACTIVE" => Some("active"),
        "TRIAL" => Some("experimental"),
        "DISCOURAGED" => Some("deprecated"),
        "DEPRECATED" => Some("retired"),
        _ => None,
    }
}

/// What a release held beyond `Loinc.csv`, which the CodeSystem header declares.
struct Contents {
    has_parts: bool,
    has_hierarchy: bool,
    /// The property codes part links gave, in order of first use (`COMPONENT`, `analyte`, …).
    link_properties: Vec<String>,
    has_answer_lists: bool,
}

fn header(version: Option<&str>, n_concepts: usize, contents: &Contents) -> Json {
    let mut resource = json!({
        "resourceType": "CodeSystem",
        "url": LOINC_URL,
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": format!("urn:oid:{LOINC_OID}")}],
        "name": "LOINC",
        "title": "LOINC Code System",
        "status": "active",
        "publisher": "Regenstrief Institute, Inc.",
        "copyright": "This material contains content from LOINC (http://loinc.org). LOINC is copyright © Regenstrief Institute, Inc. and the Logical Observation Identifiers Names and Codes (LOINC) Committee and is available at no cost under the license at http://loinc.org/license. LOINC® is a registered United States trademark of Regenstrief Institute, Inc.",
        "caseSensitive": false,
        "valueSet": loinc::VALUE_SET_BASE,
        "hierarchyMeaning": "is-a",
        "content": "complete",
        "count": n_concepts,
        "filter": [
            {"code": "parent", "operator": ["="], "value": "A Part code", "description": "Codes whose immediate parent in the component hierarchy is the part"},
            {"code": "child", "operator": ["="], "value": "A Part code", "description": "Codes with the part as an immediate child in the component hierarchy"},
            {"code": "ancestor", "operator": ["=", "in"], "value": "A Part code", "description": "Codes under the part (transitively) in the component hierarchy"},
            {"code": "descendant", "operator": ["=", "in"], "value": "A LOINC code", "description": "Codes above the code (transitively) in the component hierarchy"},
            {"code": loinc::COPYRIGHT_FILTER, "operator": ["="], "value": "LOINC | 3rdParty", "description": "LOINC: codes without a third-party copyright notice; 3rdParty: codes with one"},
            {"code": loinc::LIST_FILTER, "operator": ["="], "value": "An answer list code (LL…)", "description": "The answers of the list, in its sequence order"},
            {"code": loinc::ANSWERS_FOR_FILTER, "operator": ["="], "value": "A LOINC term or answer list code", "description": "The answers of every answer list the term uses (or of the list)"},
        ],
        "property": [
            {"code": "COMPONENT", "uri": "http://loinc.org/property/COMPONENT", "type": "string", "description": "First major axis: component or analyte"},
            {"code": "PROPERTY", "uri": "http://loinc.org/property/PROPERTY", "type": "string", "description": "Second major axis: property observed (e.g. mass vs. substance)"},
            {"code": "TIME_ASPCT", "uri": "http://loinc.org/property/TIME_ASPCT", "type": "string", "description": "Third major axis: timing of the measurement (e.g. point in time vs 24 hours)"},
            {"code": "SYSTEM", "uri": "http://loinc.org/property/SYSTEM", "type": "string", "description": "Fourth major axis: type of specimen or system (e.g. serum vs urine)"},
            {"code": "SCALE_TYP", "uri": "http://loinc.org/property/SCALE_TYP", "type": "string", "description": "Fifth major axis: scale of measurement (e.g. qualitative vs. quantitative)"},
            {"code": "METHOD_TYP", "uri": "http://loinc.org/property/METHOD_TYP", "type": "string", "description": "Sixth major axis: method of measurement"},
            {"code": "CLASS", "uri": "http://loinc.org/property/CLASS", "type": "string", "description": "An arbitrary classification of terms for grouping related observations together"},
            {"code": "CLASSTYPE", "uri": "http://loinc.org/property/CLASSTYPE", "type": "string", "description": "1 laboratory, 2 clinical, 3 claims attachments, 4 surveys"},
            {"code": "STATUS", "uri": "http://loinc.org/property/STATUS", "type": "string", "description": "ACTIVE, TRIAL, DISCOURAGED or DEPRECATED"},
            {"code": "ORDER_OBS", "uri": "http://loinc.org/property/ORDER_OBS", "type": "string", "description": "Order, Observation, Both or Subset"},
            {"code": loinc::EXTERNAL_COPYRIGHT_NOTICE, "uri": "http://loinc.org/property/EXTERNAL_COPYRIGHT_NOTICE", "type": "string", "description": "The third party's copyright notice, for terms that carry one"},
            {"code": "inactive", "uri": "http://hl7.org/fhir/concept-properties#inactive", "type": "boolean", "description": "True for DEPRECATED terms and parts that are not ACTIVE"},
            {"code": "status", "uri": "http://hl7.org/fhir/concept-properties#status", "type": "code", "description": "STATUS as a FHIR concept status: ACTIVE active, TRIAL experimental, DISCOURAGED deprecated, DEPRECATED retired"},
            {"code": "VersionFirstReleased", "uri": "http://loinc.org/property/VersionFirstReleased", "type": "string", "description": "The LOINC release the term first appeared in"},
            {"code": "VersionLastChanged", "uri": "http://loinc.org/property/VersionLastChanged", "type": "string", "description": "The LOINC release that last changed the term"},
        ],
    });
    let properties = resource["property"].as_array_mut().expect("property is an array");
    // A property the part links gave is a Coding of the part (its LP code, the part name as display).
    for code in &contents.link_properties {
        match properties.iter_mut().find(|definition| definition["code"] == code.as_str()) {
            Some(definition) => definition["type"] = json!("Coding"),
            None => properties.push(json!({"code": code, "uri": format!("{PROPERTY_URI_BASE}{code}"), "type": "Coding",
                "description": "A part linked to the term (LoincPartLink)"})),
        }
    }
    if contents.has_answer_lists {
        properties.extend([
            json!({"code": loinc::ANSWER_LIST, "uri": "http://loinc.org/property/answer-list", "type": "Coding", "description": "An answer list the term uses (LoincAnswerListLink)"}),
            json!({"code": loinc::ANSWER, "type": "Coding", "description": "An answer of the list, in the list's sequence order"}),
            json!({"code": loinc::ANSWERS_FOR, "uri": "http://loinc.org/property/answers-for", "type": "Coding", "description": "A term that uses the answer list"}),
            json!({"code": loinc::IN_ANSWER_LIST, "type": "Coding", "description": "An answer list the answer is in"}),
        ]);
    }
    if contents.has_parts {
        properties.push(json!({"code": "PartTypeName", "type": "string", "description": "The type of a LOINC part (COMPONENT, SYSTEM, …), from Part.csv"}));
    }
    if contents.has_hierarchy {
        properties.push(json!({"code": "parent", "uri": "http://hl7.org/fhir/concept-properties#parent", "type": "code",
            "description": "An IMMEDIATE_PARENT in the component hierarchy by system; a code may have several"}));
    }
    if let Some(version) = version {
        resource["version"] = json!(version);
    }
    resource
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DirSource;
    use std::path::{Path, PathBuf};

    fn fixture(folder: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/loinc").join(folder)
    }

    fn concept<'a>(code_system: &'a CodeSystem, code: &str) -> &'a Concept {
        code_system.concepts.iter().find(|concept| concept.code == code).unwrap_or_else(|| panic!("no concept {code}"))
    }

    fn values(concept: &Concept, code: &str) -> Vec<String> {
        concept.properties.iter().filter(|property| property.code == code).filter_map(ConceptProperty::value_text).collect()
    }

    /// Every concept, one line each: code, display, properties, designations. The golden copy is
    /// `test_data/loinc/expected_dump.txt`, rewritten by `UPDATE_EXPECT=1 cargo test`.
    fn dump(code_system: &CodeSystem) -> String {
        let mut out = String::new();
        for concept in &code_system.concepts {
            out.push_str(&format!("{} {:?}", concept.code, concept.display.as_deref().unwrap_or_default()));
            for property in &concept.properties {
                out.push_str(&format!(" {}={}", property.code, property.value_text().unwrap_or_default()));
            }
            for designation in &concept.designations {
                let use_code = designation.use_coding.as_ref().and_then(|coding| coding["code"].as_str()).unwrap_or("-");
                out.push_str(&format!(" [{} {} {:?}]", designation.language.as_deref().unwrap_or("-"), use_code, designation.value));
            }
            out.push('\n');
        }
        out
    }

    #[test]
    fn release_gives_terms_parts_hierarchy_and_variants() {
        let source = DirSource::new(&fixture("Loinc_2.77")).unwrap();
        let loaded = load(&source, &LoadOptions::default()).unwrap();
        let code_system = &loaded.code_systems[0];
        assert_eq!(code_system.url, LOINC_URL);
        assert_eq!(code_system.version.as_deref(), Some("2.77"));
        assert_eq!(code_system.resource["identifier"][0]["value"], json!("urn:oid:2.16.840.1.113883.6.1"));
        assert_eq!(code_system.hierarchy_meaning.as_deref(), Some("is-a"));
        // 5 terms, 10 parts, 1 hierarchy-only root, 3 answer lists and 5 answers.
        assert_eq!(code_system.concepts.len(), 24);
        assert_eq!(code_system.resource["count"], json!(24));

        let glucose = concept(code_system, "99990-1");
        assert_eq!(glucose.display.as_deref(), Some("Testose [Mass/volume] in Serum or Plasma"));
        // The part links give the axes as Codings of the parts (their codes here).
        assert_eq!(values(glucose, "COMPONENT"), ["LP99001-1"]);
        assert_eq!(values(glucose, "SCALE_TYP"), ["LP99008-6"]);
        assert_eq!(values(concept(code_system, "99992-7"), "SCALE_TYP"), ["-"]);
        assert_eq!(values(glucose, "STATUS"), ["ACTIVE"]);
        assert_eq!(values(glucose, "status"), ["active"]);
        assert_eq!(values(glucose, "VersionFirstReleased"), ["2.61"]);
        assert_eq!(values(glucose, "VersionLastChanged"), ["2.77"]);
        for (code, status) in [("99991-9", "experimental"), ("99992-7", "deprecated"), ("99993-5", "retired")] {
            assert_eq!(values(concept(code_system, code), "status"), [status], "{code}");
        }
        assert_eq!(values(glucose, "ORDER_OBS"), ["Both"]);
        // In two places of the hierarchy: two parents.
        assert_eq!(values(glucose, "parent"), ["LP99001-1", "LP99004-5"]);
        let deprecated = concept(code_system, "99993-5");
        assert_eq!(values(deprecated, "inactive"), ["true"]);
        assert_eq!(values(concept(code_system, "99992-7"), "inactive"), Vec::<String>::new());
        assert_eq!(values(concept(code_system, "LP99003-7"), "inactive"), ["true"]);
        assert_eq!(concept(code_system, "LP99000-3").display.as_deref(), Some("{component}"));

        let languages: Vec<&str> = glucose.designations.iter().filter_map(|designation| designation.language.as_deref()).collect();
        assert_eq!(languages, ["en-US", "en-US", "de-AT", "fr-FR"]);

        let diagnostics: Vec<String> = loaded.diagnostics.iter().map(ToString::to_string).collect();
        assert_eq!(
            diagnostics,
            [
                "LoincTable/Loinc.csv:8: LOINC_NUM is not a LOINC code (digits, a dash and a check digit); skipped (\"9999X-0\")",
                "LoincTable/Loinc.csv:9: LOINC_NUM listed twice; the second row is skipped (\"99991-9\")",
                "AccessoryFiles/PartFile/LoincPartLink_Primary.csv:15: part link of a term Loinc.csv lacks; skipped (\"99999-8\")",
                "AccessoryFiles/PartFile/LoincPartLink_Primary.csv:16: PartNumber is not a LOINC part code (LP, digits, a dash and a check digit); skipped (\"LPX-1\")",
                "AccessoryFiles/PartFile/LoincPartLink_Primary.csv:17: Property is not a http://loinc.org/property/ URI; skipped (\"http://example.org/COMPONENT\")",
                "AccessoryFiles/AnswerFile/AnswerList.csv:8: answer listed twice in one answer list; the second row is skipped (\"LA99004-6\")",
                "AccessoryFiles/AnswerFile/AnswerList.csv:9: answer row without an AnswerStringId; skipped (\"LL99002-9\")",
                "AccessoryFiles/AnswerFile/AnswerList.csv:11: AnswerListId is not a LOINC answer list code (LL, digits, a dash and a check digit); skipped (\"LLX-0\")",
                "AccessoryFiles/AnswerFile/LoincAnswerListLink.csv:5: answer list link of a term Loinc.csv lacks; skipped (\"99999-8\")",
                "AccessoryFiles/AnswerFile/LoincAnswerListLink.csv:6: answer list link to a list AnswerList.csv lacks; skipped (\"LL99999-9\")",
            ]
        );
        expect_dump(&dump(code_system));
    }

    fn property_definition<'a>(code_system: &'a CodeSystem, code: &str) -> &'a Json {
        code_system.resource["property"]
            .as_array()
            .and_then(|definitions| definitions.iter().find(|definition| definition["code"] == code))
            .unwrap_or_else(|| panic!("no property definition {code}"))
    }

    #[test]
    fn part_links_become_codings_of_the_parts() {
        let loaded = load(&DirSource::new(&fixture("Loinc_2.77")).unwrap(), &LoadOptions::default()).unwrap();
        let code_system = &loaded.code_systems[0];
        let testose = concept(code_system, "99990-1");
        let component = testose.properties.iter().find(|property| property.code == "COMPONENT").unwrap();
        assert_eq!(component.value_key(), "valueCoding");
        assert_eq!(component.value.to_json(), json!({"system": "http://loinc.org", "code": "LP99001-1", "display": "Testose"}));
        // Each axis once: the Coding took the column text's place.
        assert_eq!(values(testose, "COMPONENT"), ["LP99001-1"]);
        assert_eq!(values(testose, "PROPERTY"), ["LP99006-0"]);
        assert_eq!(values(testose, "SCALE_TYP"), ["LP99008-6"]);
        // CLASS from the supplementary file; its repeat of PROPERTY (DetailedModel) adds nothing.
        assert_eq!(values(testose, "CLASS"), ["LP99004-5"]);
        assert_eq!(values(testose, "analyte"), ["LP99001-1"]);
        // A term without a link for an axis keeps the column text.
        assert_eq!(values(concept(code_system, "99991-9"), "PROPERTY"), ["SCnc"]);
        assert_eq!(values(concept(code_system, "99991-9"), "CLASS"), ["CHEM"]);
        assert_eq!(property_definition(code_system, "COMPONENT")["type"], "Coding");
        assert_eq!(property_definition(code_system, "CLASSTYPE")["type"], "string");
        assert_eq!(property_definition(code_system, "analyte")["uri"], "http://loinc.org/property/analyte");
    }

    #[test]
    fn answer_lists_and_answers_become_concepts() {
        let loaded = load(&DirSource::new(&fixture("Loinc_2.77")).unwrap(), &LoadOptions::default()).unwrap();
        let code_system = &loaded.code_systems[0];
        let yes_no = concept(code_system, "LL99001-1");
        assert_eq!(yes_no.display.as_deref(), Some("Yes/No"));
        // In sequence order, whatever the row order.
        assert_eq!(values(yes_no, loinc::ANSWER), ["LA99001-2", "LA99002-0", "LA99005-3"]);
        assert_eq!(values(yes_no, loinc::ANSWERS_FOR), ["99994-3", "99992-7"]);
        assert_eq!(values(concept(code_system, "LL99002-9"), loinc::ANSWER), ["LA99003-8", "LA99004-6", "LA99005-3"]);
        // Externally defined: a list without answers of its own.
        assert_eq!(values(concept(code_system, "LL99003-7"), loinc::ANSWER), Vec::<String>::new());
        let unknown = concept(code_system, "LA99005-3");
        assert_eq!(unknown.display.as_deref(), Some("Unknown"));
        assert_eq!(values(unknown, loinc::IN_ANSWER_LIST), ["LL99001-1", "LL99002-9"]);
        let score = concept(code_system, "99994-3");
        assert_eq!(values(score, loinc::ANSWER_LIST), ["LL99002-9", "LL99001-1"]);
        let answer_list = score.properties.iter().find(|property| property.code == loinc::ANSWER_LIST).unwrap();
        assert_eq!(answer_list.value.to_json(), json!({"system": "http://loinc.org", "code": "LL99002-9", "display": "Test severity"}));
        assert_eq!(values(score, loinc::EXTERNAL_COPYRIGHT_NOTICE), ["Invented survey copyright notice"]);
        assert_eq!(property_definition(code_system, loinc::ANSWER_LIST)["type"], "Coding");
    }

    #[test]
    fn copies_in_panels_and_forms_are_not_read_twice() {
        let root = fixture("Loinc_2.77");
        let read = |relative: &str| std::fs::read(root.join(relative)).unwrap();
        let mut files: Vec<(String, Vec<u8>)> =
            ["LoincTable/Loinc.csv", "AccessoryFiles/AnswerFile/AnswerList.csv", "AccessoryFiles/AnswerFile/LoincAnswerListLink.csv"]
                .iter()
                .map(|relative| (format!("Loinc_2.77/{relative}"), read(relative)))
                .collect();
        for (copy, original) in [
            ("Loinc.csv", "LoincTable/Loinc.csv"),
            ("AnswerList.csv", "AccessoryFiles/AnswerFile/AnswerList.csv"),
            ("LoincAnswerListLink.csv", "AccessoryFiles/AnswerFile/LoincAnswerListLink.csv"),
        ] {
            files.push((format!("Loinc_2.77/AccessoryFiles/PanelsAndForms/{copy}"), read(original)));
        }
        let loaded = load(&crate::MemorySource::new(files), &LoadOptions::default()).unwrap();
        let yes_no = concept(&loaded.code_systems[0], "LL99001-1");
        assert_eq!(values(yes_no, loinc::ANSWER), ["LA99001-2", "LA99002-0", "LA99005-3"]);
        assert_eq!(values(yes_no, loinc::ANSWERS_FOR), ["99994-3", "99992-7"]);
    }

    #[track_caller]
    fn expect_dump(actual: &str) {
        let golden = fixture("expected_dump.txt");
        if std::env::var_os("UPDATE_EXPECT").is_some() {
            std::fs::write(&golden, actual).unwrap();
        }
        let expected = std::fs::read_to_string(golden).unwrap();
        assert_eq!(actual, expected);
    }

    #[test]
    fn moved_and_added_columns_give_the_same_result() {
        let standard = load(&DirSource::new(&fixture("Loinc_2.77")).unwrap(), &LoadOptions::default()).unwrap();
        let moved = load(&DirSource::new(&fixture("moved_columns")).unwrap(), &LoadOptions::default()).unwrap();
        // No Loinc_x.yy name here: the version comes from VersionLastChanged.
        assert_eq!(moved.code_systems, standard.code_systems);
        let options = LoadOptions { version: Some("2.77-local".into()) };
        let overridden = load(&DirSource::new(&fixture("moved_columns")).unwrap(), &options).unwrap();
        assert_eq!(overridden.code_systems[0].version.as_deref(), Some("2.77-local"));
    }

    #[test]
    fn detects_the_loinc_table() {
        let source = DirSource::new(&fixture("Loinc_2.77")).unwrap();
        assert_eq!(crate::detect(&source).unwrap(), crate::Format::Loinc);
        assert_eq!(crate::Format::parse("loinc"), Some(crate::Format::Loinc));
        assert_eq!(release_in_name("0-Loinc_2.80.zip/LoincTable/Loinc.csv").as_deref(), Some("2.80"));
        let table = std::fs::read(fixture("Loinc_2.77/LoincTable/Loinc.csv")).unwrap();
        let named = crate::MemorySource::new([("Loinc_2.80/LoincTable/Loinc.csv", table)]);
        assert_eq!(crate::detect(&named).unwrap(), crate::Format::Loinc);
        assert_eq!(load(&named, &LoadOptions::default()).unwrap().code_systems[0].version.as_deref(), Some("2.80"));
        assert_eq!(variant_language("AccessoryFiles/LinguisticVariants/zhCN5LinguisticVariant.csv").as_deref(), Some("zh-CN"));
    }

    #[test]
    fn missing_table_or_columns_are_errors() {
        let no_table = crate::MemorySource::new([("AccessoryFiles/PartFile/Part.csv", "\"PartNumber\"\n")]);
        let error = load(&no_table, &LoadOptions::default()).unwrap_err();
        assert_eq!(error.to_string(), "AccessoryFiles/PartFile/Part.csv: no LOINC table file (LoincTable/Loinc.csv) in this release");
        let no_status = crate::MemorySource::new([(
            "LoincTable/Loinc.csv",
            "\"LOINC_NUM\",\"COMPONENT\",\"PROPERTY\",\"TIME_ASPCT\",\"SYSTEM\",\"SCALE_TYP\",\"METHOD_TYP\",\"CLASS\",\"LONG_COMMON_NAME\"\r\n",
        )]);
        let error = load(&no_status, &LoadOptions::default()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "LoincTable/Loinc.csv:1: the header row lacks the column STATUS (\"LOINC_NUM,COMPONENT,PROPERTY,TIME_ASPCT,SYSTEM,SCALE_TYP,METHOD_TYP,CLASS,LONG_COMMON_NAME\")"
        );
    }
}
