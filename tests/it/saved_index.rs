//! The saved index files (`store::index_files`): a restart reads them and answers as a rebuild
//! from rows does; a write makes the old file unused; a damaged file is ignored and the start
//! succeeds with the same answers; a folder that cannot be written is only a warning. Storage
//! tests, on SQLite and PostgreSQL.

use crate::support::{app, app_saving_indexes, backend_tests, encode, Backend, TestApp};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use store::IndexSource;

backend_tests! {
    restart_reads_the_files => a_restart_reads_the_saved_index_and_answers_as_the_rows_do;
    writes_make_files_unused => a_write_makes_the_old_file_unused;
    damaged_files_are_ignored => a_damaged_file_is_ignored_and_the_rows_are_read;
    unwritable_folder_is_a_warning => a_folder_that_cannot_be_written_is_only_a_warning;
    refresh_keeps_unchanged_indexes => a_refresh_keeps_the_index_of_each_code_system_not_written_since;
}

/// A folder of index files for one test, removed when it ends.
struct IndexFolder(PathBuf);

impl IndexFolder {
    fn new() -> IndexFolder {
        IndexFolder(std::env::temp_dir().join(format!("fhirterm-test-index-{}", uuid::Uuid::new_v4().simple())))
    }

    fn path(&self) -> &Path {
        &self.0
    }

    /// The saved index files in it, sorted.
    fn files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.0)
            .map(|entries| {
                entries.flatten().map(|entry| entry.path()).filter(|path| path.to_string_lossy().ends_with(".csindex")).collect()
            })
            .unwrap_or_default();
        files.sort();
        files
    }
}

impl Drop for IndexFolder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const URL: &str = "http://example.org/fhirterm/test/saved-index";
const ID: &str = "saved-index";

/// A code system with a multi-parent hierarchy (nesting and `parent` properties), designations
/// with languages, uses and extensions, and properties of every type, a typed Coding and JSON
/// ones (Quantity, a Coding with more than the four typed members) among them. `display_of_a`
/// tells the versions of it apart.
fn code_system(display_of_a: &str) -> Value {
    json!({
        "resourceType": "CodeSystem", "id": ID, "url": URL, "version": "1", "name": "SavedIndex", "status": "active",
        "content": "complete", "caseSensitive": true, "hierarchyMeaning": "is-a",
        "property": [
            {"code": "parent", "uri": "http://hl7.org/fhir/concept-properties#parent", "type": "code"},
            {"code": "status", "uri": "http://hl7.org/fhir/concept-properties#status", "type": "code"},
            {"code": "notSelectable", "uri": "http://hl7.org/fhir/concept-properties#notSelectable", "type": "boolean"},
            {"code": "label", "type": "string"}, {"code": "since", "type": "dateTime"}, {"code": "rank", "type": "integer"},
            {"code": "weight", "type": "decimal"}, {"code": "part", "type": "Coding"}, {"code": "amount", "type": "string"}
        ],
        "concept": [
            {"code": "root", "display": "Root of everything", "property": [{"code": "notSelectable", "valueBoolean": true}],
             "extension": [{"url": "http://example.org/fhirterm/ext", "valueDecimal": 1.50}],
             "concept": [
                {"code": "a", "display": display_of_a, "definition": "The first child",
                 "designation": [
                    {"language": "de", "use": {"system": "http://snomed.info/sct", "code": "900000000000013009", "display": "Synonym"},
                     "value": "Alpha auf Deutsch"},
                    {"language": "fr", "value": "Alpha en français", "extension": [{"url": "http://example.org/fhirterm/d", "valueString": "x"}]}
                 ],
                 "property": [
                    {"code": "label", "valueString": "a label longer than twenty-four bytes"},
                    {"code": "since", "valueDateTime": "2025-01-01"},
                    {"code": "rank", "valueInteger": -3},
                    {"code": "weight", "valueDecimal": 2.50},
                    {"code": "part", "valueCoding": {"system": "http://loinc.org", "code": "LP14635-4", "display": "Glucose"}},
                    {"code": "part", "valueCoding": {"system": "http://loinc.org", "code": "LP2", "userSelected": true}},
                    {"code": "amount", "valueQuantity": {"value": 1.0, "unit": "mg"}}
                 ]},
                {"code": "b", "display": "Beta branch",
                 "designation": [{"language": "de", "use": {"system": "http://snomed.info/sct", "code": "900000000000013009", "display": "Synonym"},
                                  "value": "Beta auf Deutsch"}],
                 "concept": [{"code": "b1", "display": "Beta one leaf"}]}
             ]},
            {"code": "c", "display": "Child of alpha and beta",
             "property": [{"code": "parent", "valueCode": "a"}, {"code": "parent", "valueCode": "b"}]},
            {"code": "old", "display": "Old code", "property": [{"code": "status", "valueCode": "retired"}]}
        ]
    })
}

/// Stores a loader fixture (an official release layout) as `fhirterm load` does; answers its
/// code systems' (url, first codes).
fn store_release(app: &TestApp, relative: &str) -> Vec<(String, String)> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../crates/loaders/test_data").join(relative);
    let source = loaders::open_paths(&[path]).expect("open fixture");
    let format = loaders::detect(source.as_ref()).expect("detect format");
    let loaded = loaders::load(format, source.as_ref(), &loaders::LoadOptions::default()).expect("load fixture");
    let codes = loaded
        .code_systems
        .iter()
        .flat_map(|code_system| code_system.concepts.iter().take(6).map(move |concept| (code_system.url.clone(), concept.code.clone())))
        .collect();
    app.terminology.load_release(loaded.code_systems, loaded.resources, true).expect("store fixture");
    codes
}

/// Where the index of each stored code system came from, by id.
fn sources(app: &TestApp) -> Vec<(String, IndexSource)> {
    let mut sources: Vec<(String, IndexSource)> = app
        .terminology
        .code_system_summaries()
        .expect("summaries")
        .into_iter()
        .flat_map(|summary| summary.versions)
        .map(|version| (version.id.clone(), version.index_source.unwrap_or_else(|| panic!("{} is not indexed", version.id))))
        .collect();
    sources.sort_by(|left, right| left.0.cmp(&right.0));
    sources
}

fn all_from(sources: &[(String, IndexSource)], source: IndexSource) -> bool {
    !sources.is_empty() && sources.iter().all(|(_, found)| *found == source)
}

/// The calls whose answers must not depend on where an index came from: lookup, validate-code
/// (a right and a wrong display), expand (a branch, a text filter, both, an ECL constraint on
/// SNOMED CT) and subsumes, over the fixture code system and the given release codes.
fn calls(release_codes: &[(String, String)]) -> Vec<String> {
    let url = encode(URL);
    let mut calls = vec![
        format!("/fhir/ValueSet/$expand?url={}", encode(&format!("{URL}?fhir_vs"))),
        format!("/fhir/ValueSet/$expand?url={}&filter=beta", encode(&format!("{URL}?fhir_vs"))),
        format!("/fhir/ValueSet/$expand?url={}&filter=alpha", encode(&format!("{URL}?fhir_vs"))),
        format!("/fhir/ValueSet/$expand?url={}", encode(&format!("{URL}?fhir_vs=isa/b"))),
        format!("/fhir/ValueSet/$expand?url={}&filter=child", encode(&format!("{URL}?fhir_vs=isa/root"))),
        format!("/fhir/ValueSet/$expand?url={}&activeOnly=true", encode(&format!("{URL}?fhir_vs"))),
        format!("/fhir/CodeSystem/$validate-code?url={url}&code=c&display={}", encode("Child of alpha and beta")),
        format!("/fhir/CodeSystem/$validate-code?url={url}&code=c&display=wrong"),
        format!("/fhir/CodeSystem/$validate-code?url={url}&code=missing"),
        format!("/fhir/CodeSystem/$subsumes?system={url}&codeA=root&codeB=c"),
        format!("/fhir/CodeSystem/$subsumes?system={url}&codeA=b&codeB=c"),
        format!("/fhir/CodeSystem/$subsumes?system={url}&codeA=c&codeB=a"),
        format!("/fhir/CodeSystem/$subsumes?system={url}&codeA=a&codeB=b1"),
    ];
    for code in ["root", "a", "b", "b1", "c", "old"] {
        calls.push(format!("/fhir/CodeSystem/$lookup?system={url}&code={code}"));
        calls.push(format!("/fhir/CodeSystem/$validate-code?url={url}&code={code}"));
    }
    for (system, code) in release_codes {
        let (system, code) = (encode(system), encode(code));
        calls.push(format!("/fhir/CodeSystem/$lookup?system={system}&code={code}"));
        calls.push(format!("/fhir/CodeSystem/$validate-code?url={system}&code={code}"));
        calls.push(format!("/fhir/CodeSystem/$subsumes?system={system}&codeA={code}&codeB={code}"));
    }
    if let Some((system, code)) = release_codes.iter().find(|(system, _)| system == "http://snomed.info/sct") {
        calls.push(format!("/fhir/ValueSet/$expand?url={}", encode(&format!("{system}?fhir_vs=ecl/<< {code}"))));
        calls.push(format!("/fhir/ValueSet/$expand?url={}&count=20", encode(&format!("{system}?fhir_vs"))));
    }
    calls
}

/// Each call's status and body, with what differs on every call (an expansion's identifier and
/// timestamp) left out.
async fn answers(app: &TestApp, calls: &[String]) -> Vec<(u16, Value)> {
    let mut answers = Vec::new();
    for call in calls {
        let answer = app.get(call).await;
        let mut body = answer.json();
        if let Some(expansion) = body.get_mut("expansion").and_then(Value::as_object_mut) {
            expansion.remove("identifier");
            expansion.remove("timestamp");
        }
        answers.push((answer.status.as_u16(), body));
    }
    answers
}

fn assert_same_answers(calls: &[String], found: &[(u16, Value)], expected: &[(u16, Value)], what: &str) {
    for ((call, found), expected) in calls.iter().zip(found).zip(expected) {
        assert_eq!(found, expected, "{what}: {call}");
    }
}

/// The entries named `name` of a Parameters resource, or the parts of a parameter when `name` is
/// `part`.
fn parameter<'a>(parameters: &'a Value, name: &str) -> Vec<&'a Value> {
    if name == "part" {
        return parameters["part"].as_array().map(|parts| parts.iter().collect()).unwrap_or_default();
    }
    parameters["parameter"].as_array().map(|list| list.iter().filter(|parameter| parameter["name"] == name).collect()).unwrap_or_default()
}

async fn display_of_a(app: &TestApp) -> String {
    let lookup = app.get(&format!("/fhir/CodeSystem/$lookup?system={}&code=a", encode(URL))).await.json();
    parameter(&lookup, "display").first().and_then(|display| display["valueString"].as_str()).unwrap_or_default().to_owned()
}

async fn a_restart_reads_the_saved_index_and_answers_as_the_rows_do(backend: &Backend) {
    let folder = IndexFolder::new();
    let first = app_saving_indexes(backend, folder.path()).await;
    assert_eq!(first.put_json(&format!("/fhir/CodeSystem/{ID}"), &code_system("Alpha")).await.status.as_u16(), 201);
    let mut release_codes = store_release(&first, "snomed_rf2/SnomedCT_InternationalRF2_PRODUCTION_20250101T120000Z");
    release_codes.extend(store_release(&first, "loinc/Loinc_2.77"));
    first.terminology.wait_for_saved_indexes();
    let stored = sources(&first);
    assert!(stored.len() >= 3 && all_from(&stored, IndexSource::Written), "{stored:?}");
    assert_eq!(folder.files().len(), stored.len(), "one file per stored code system: {:?}", folder.files());
    let calls = calls(&release_codes);
    let as_written = answers(&first, &calls).await;
    drop(first);

    let from_files = app_saving_indexes(backend, folder.path()).await;
    assert!(all_from(&sources(&from_files), IndexSource::SavedFile), "{:?}", sources(&from_files));
    let from_rows = app(backend).await;
    assert!(all_from(&sources(&from_rows), IndexSource::Rows), "{:?}", sources(&from_rows));
    let read_back = answers(&from_files, &calls).await;
    assert_same_answers(&calls, &read_back, &answers(&from_rows, &calls).await, "saved file against rows");
    assert_same_answers(&calls, &read_back, &as_written, "saved file against the index as written");

    // The answers say something: the designations, the typed and JSON property values, the
    // hierarchy of several parents.
    let lookup = from_files.get(&format!("/fhir/CodeSystem/$lookup?system={}&code=a", encode(URL))).await.json();
    let designations: Vec<&str> = parameter(&lookup, "designation")
        .iter()
        .flat_map(|designation| parameter(designation, "part"))
        .filter(|part| part["name"] == "value")
        .filter_map(|part| part["valueString"].as_str())
        .collect();
    assert!(designations.contains(&"Alpha auf Deutsch") && designations.contains(&"Alpha en français"), "{lookup}");
    let text = lookup.to_string();
    for expected in ["LP14635-4", "Glucose", "userSelected", "\"unit\":\"mg\"", "\"valueDecimal\":2.5", "-3", "2025-01-01"] {
        assert!(text.contains(expected), "{expected} in {lookup}");
    }
    let subsumes = from_files.get(&format!("/fhir/CodeSystem/$subsumes?system={}&codeA=b&codeB=c", encode(URL))).await.json();
    assert_eq!(parameter(&subsumes, "outcome")[0]["valueCode"], "subsumes", "{subsumes}");
    let beta = from_files.get(&format!("/fhir/ValueSet/$expand?url={}", encode(&format!("{URL}?fhir_vs=isa/b")))).await.json();
    assert_eq!(beta["expansion"]["total"], 3, "b, b1 and c: {beta}");
    assert!(read_back.iter().all(|(status, _)| *status == 200), "{read_back:?}");
}

async fn a_write_makes_the_old_file_unused(backend: &Backend) {
    let folder = IndexFolder::new();
    let serving = app_saving_indexes(backend, folder.path()).await;
    assert_eq!(serving.put_json(&format!("/fhir/CodeSystem/{ID}"), &code_system("Alpha")).await.status.as_u16(), 201);
    serving.terminology.wait_for_saved_indexes();
    let first_files = folder.files();
    assert_eq!(first_files.len(), 1, "{first_files:?}");
    let first_file_bytes = std::fs::read(&first_files[0]).expect("the first file");

    // An update writes a new file and removes the old one.
    assert_eq!(serving.put_json(&format!("/fhir/CodeSystem/{ID}"), &code_system("Alpha updated")).await.status.as_u16(), 200);
    serving.terminology.wait_for_saved_indexes();
    let second_files = folder.files();
    assert_eq!(second_files.len(), 1, "{second_files:?}");
    assert_ne!(second_files, first_files);
    drop(serving);

    // Written by a server that keeps no index files (another replica, say): the file left is stale.
    let elsewhere = app(backend).await;
    assert_eq!(elsewhere.put_json(&format!("/fhir/CodeSystem/{ID}"), &code_system("Alpha elsewhere")).await.status.as_u16(), 200);
    drop(elsewhere);
    let restarted = app_saving_indexes(backend, folder.path()).await;
    assert_eq!(sources(&restarted), [(ID.to_owned(), IndexSource::Rows)]);
    assert_eq!(display_of_a(&restarted).await, "Alpha elsewhere");
    restarted.terminology.wait_for_saved_indexes();
    let third_files = folder.files();
    assert_eq!(third_files.len(), 1, "the stale file is replaced: {third_files:?}");
    assert!(third_files != second_files && third_files != first_files);

    // Deleted: its file goes. Created again under the same id: even the very first file, put
    // back, is not taken for it.
    assert!(restarted.send("DELETE", &format!("/fhir/CodeSystem/{ID}"), &[], None).await.status.is_success());
    restarted.terminology.wait_for_saved_indexes();
    assert_eq!(folder.files(), Vec::<PathBuf>::new());
    assert_eq!(restarted.put_json(&format!("/fhir/CodeSystem/{ID}"), &code_system("Alpha again")).await.status.as_u16(), 201);
    restarted.terminology.wait_for_saved_indexes();
    std::fs::write(&first_files[0], &first_file_bytes).expect("put the first file back");
    drop(restarted);
    let again = app_saving_indexes(backend, folder.path()).await;
    assert_eq!(sources(&again), [(ID.to_owned(), IndexSource::SavedFile)]);
    assert_eq!(display_of_a(&again).await, "Alpha again");
    again.terminology.wait_for_saved_indexes();
    assert!(!first_files[0].exists(), "the file of a write no longer stored is removed at start");
    assert_eq!(folder.files().len(), 1);
}

async fn a_damaged_file_is_ignored_and_the_rows_are_read(backend: &Backend) {
    let folder = IndexFolder::new();
    let serving = app_saving_indexes(backend, folder.path()).await;
    assert_eq!(serving.put_json(&format!("/fhir/CodeSystem/{ID}"), &code_system("Alpha")).await.status.as_u16(), 201);
    serving.terminology.wait_for_saved_indexes();
    let calls = calls(&[]);
    let expected = answers(&serving, &calls).await;
    drop(serving);
    let files = folder.files();
    assert_eq!(files.len(), 1, "{files:?}");
    let file = &files[0];
    let good = std::fs::read(file).expect("the saved file");

    let mut flipped = good.clone();
    flipped[good.len() / 2] ^= 0x5a;
    let mut other_version = good.clone();
    let version = u32::from_le_bytes(good[16..20].try_into().unwrap());
    assert_eq!(version, store::INDEX_FILE_FORMAT_VERSION);
    other_version[16..20].copy_from_slice(&(version + 1).to_le_bytes());
    let damaged: [(&str, Vec<u8>); 5] = [
        ("truncated", good[..good.len() * 2 / 3].to_vec()),
        ("one byte short", good[..good.len() - 1].to_vec()),
        ("corrupt", flipped),
        ("of another format version", other_version),
        ("empty", Vec::new()),
    ];
    for (what, bytes) in damaged {
        std::fs::write(file, &bytes).expect("damage the file");
        let restarted = app_saving_indexes(backend, folder.path()).await;
        assert_eq!(sources(&restarted), [(ID.to_owned(), IndexSource::Rows)], "{what}");
        assert_same_answers(&calls, &answers(&restarted, &calls).await, &expected, what);
        // Read from rows, the index is saved again, whole.
        restarted.terminology.wait_for_saved_indexes();
        assert_eq!(std::fs::read(file).expect("saved again"), good, "{what}");
    }
    let restarted = app_saving_indexes(backend, folder.path()).await;
    assert_eq!(sources(&restarted), [(ID.to_owned(), IndexSource::SavedFile)]);
    assert_same_answers(&calls, &answers(&restarted, &calls).await, &expected, "saved again");
}

/// A folder that cannot be made (its parent is a file, as on a read-only or misconfigured disk):
/// writes and starts succeed, from rows, and nothing is saved.
async fn a_folder_that_cannot_be_written_is_only_a_warning(backend: &Backend) {
    let folder = IndexFolder::new();
    std::fs::write(folder.path(), "a file where the folder should be").expect("a file in the way");
    let unwritable = folder.path().join("index");
    let serving = app_saving_indexes(backend, &unwritable).await;
    assert_eq!(serving.put_json(&format!("/fhir/CodeSystem/{ID}"), &code_system("Alpha")).await.status.as_u16(), 201);
    serving.terminology.wait_for_saved_indexes();
    drop(serving);
    let restarted = app_saving_indexes(backend, &unwritable).await;
    assert_eq!(sources(&restarted), [(ID.to_owned(), IndexSource::Rows)]);
    assert_eq!(display_of_a(&restarted).await, "Alpha");
    restarted.terminology.wait_for_saved_indexes();
    assert!(!unwritable.exists());
    std::fs::remove_file(folder.path()).expect("remove the file in the way");
}

/// Another server (a replica) writes: a refresh rebuilds what it wrote, from the rows, and keeps
/// the index of every other code system as it was, without reading it again.
async fn a_refresh_keeps_the_index_of_each_code_system_not_written_since(backend: &Backend) {
    let folder = IndexFolder::new();
    let replica = app_saving_indexes(backend, folder.path()).await;
    let other = app(backend).await;
    let mut second = code_system("Second");
    second["id"] = json!("second");
    second["url"] = json!("http://example.org/fhirterm/test/saved-index-second");
    assert_eq!(other.put_json(&format!("/fhir/CodeSystem/{ID}"), &code_system("Alpha")).await.status.as_u16(), 201);
    assert_eq!(other.put_json("/fhir/CodeSystem/second", &second).await.status.as_u16(), 201);
    assert!(replica.terminology.refresh_if_changed().expect("refresh"));
    let before = replica.terminology.registry().code_system(URL, None).expect("indexed");
    second["concept"][0]["display"] = json!("Root, renamed");
    assert_eq!(other.put_json("/fhir/CodeSystem/second", &second).await.status.as_u16(), 200);
    assert!(replica.terminology.refresh_if_changed().expect("refresh"));
    let after = replica.terminology.registry().code_system(URL, None).expect("indexed");
    assert!(std::sync::Arc::ptr_eq(&before, &after), "the code system not written keeps its index");
    let renamed = replica.terminology.registry().code_system("http://example.org/fhirterm/test/saved-index-second", None).expect("indexed");
    assert_eq!(renamed.concept(0).display.as_deref(), Some("Root, renamed"));
    assert_eq!(sources(&replica), [(ID.to_owned(), IndexSource::Rows), ("second".to_owned(), IndexSource::Rows)]);
    replica.terminology.wait_for_saved_indexes();
    assert_eq!(folder.files().len(), 2, "each index read from rows is saved: {:?}", folder.files());
}
