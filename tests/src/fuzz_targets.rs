//! One function per fuzz target: the FHIR XML and JSON readers, the operation parameter parser
//! with the operations behind it, every release loader's line parsers, and ECL parsing and
//! evaluation.

use loaders::{Format, MemorySource};
use model::Json;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use store::index::{CodeSystemIndex, Registry};

/// The targets by name, as `fuzz/fuzz_targets/` and `fuzz/corpus/` name them.
pub const TARGETS: &[(&str, fn(&[u8]))] = &[
    ("xml_reader", xml_reader),
    ("json_reader", json_reader),
    ("operation_parameters", operation_parameters),
    ("loaders", loaders),
    ("ecl", ecl),
];

/// FHIR XML in, FHIR JSON out, and back to XML.
pub fn xml_reader(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(json) = model::fhir::xml::xml_to_json(text) {
        let _ = model::fhir::xml::json_to_xml(&json);
    }
}

/// FHIR JSON in, read as each terminology resource the engine types, and written as XML.
pub fn json_reader(data: &[u8]) {
    let Ok(json) = serde_json::from_slice::<Json>(data) else { return };
    let _ = model::terminology::CodeSystem::from_json(&json);
    let _ = model::terminology::ValueSet::from_json(&json);
    let _ = model::fhir::Parameters::from_resource(&json);
    let _ = model::fhir::xml::json_to_xml(&json);
}

/// A small registry: a code system with a hierarchy and properties, value sets over it
/// (enumerated, filtered, importing), and a ConceptMap.
fn sample_registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut registry = Registry::default();
        let code_system = serde_json::json!({
            "resourceType": "CodeSystem", "id": "fuzz", "url": "http://example.org/cs/fuzz", "version": "1",
            "status": "active", "content": "complete", "caseSensitive": true, "hierarchyMeaning": "is-a",
            "property": [{"code": "status", "uri": "http://hl7.org/fhir/concept-properties#status", "type": "code"},
                         {"code": "colour", "type": "string"}],
            "concept": [
                {"code": "a", "display": "Alpha", "designation": [{"language": "de", "value": "Alfa"}], "concept": [
                    {"code": "a1", "display": "Alpha one", "property": [{"code": "colour", "valueString": "red"}]},
                    {"code": "a2", "display": "Alpha two", "property": [{"code": "status", "valueCode": "retired"}]}]},
                {"code": "b", "display": "Beta"}]});
        let code_system = model::terminology::CodeSystem::from_json(&code_system).expect("the fuzz code system");
        registry.add_code_system(CodeSystemIndex::new(code_system, Some("fuzz".into())));
        for value_set in [
            serde_json::json!({"resourceType": "ValueSet", "url": "http://example.org/vs/enum", "status": "active",
                "compose": {"include": [{"system": "http://example.org/cs/fuzz", "concept": [{"code": "a1"}, {"code": "b"}]}]}}),
            serde_json::json!({"resourceType": "ValueSet", "url": "http://example.org/vs/isa", "status": "active",
                "compose": {"include": [{"system": "http://example.org/cs/fuzz", "filter": [{"property": "concept", "op": "is-a", "value": "a"}]}],
                            "exclude": [{"system": "http://example.org/cs/fuzz", "concept": [{"code": "a2"}]}]}}),
            serde_json::json!({"resourceType": "ValueSet", "url": "http://example.org/vs/import", "status": "active",
                "compose": {"include": [{"valueSet": ["http://example.org/vs/enum", "http://example.org/vs/isa"]}]}}),
        ] {
            let value_set = model::terminology::ValueSet::from_json(&value_set).expect("a fuzz value set");
            registry.add_value_set(value_set, None);
        }
        registry.add_concept_map(
            serde_json::json!({"resourceType": "ConceptMap", "url": "http://example.org/cm/fuzz", "status": "active",
                "group": [{"source": "http://example.org/cs/fuzz", "target": "http://example.org/cs/other",
                    "element": [{"code": "a1", "target": [{"code": "x", "equivalence": "equivalent"}]}]}]}),
            None,
        );
        registry
    })
}

/// A query string (or form body) in, parsed as operation parameters and run through every operation.
pub fn operation_parameters(data: &[u8]) {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(data).into_owned().collect();
    let params = model::fhir::Parameters::from_query_pairs(pairs.iter().map(|(key, value)| (key.as_str(), value.as_str())));
    let request = store::OpRequest {
        params,
        too_costly_threshold: Some(1_000),
        deadline: Some(std::time::Instant::now() + std::time::Duration::from_secs(2)),
        ..store::OpRequest::default()
    };
    for name in store::ops::OPERATIONS {
        let _ = store::ops::run(name, sample_registry(), &request);
    }
}

/// The fixture releases in the official layouts, each as its files (README files left out).
fn fixture_releases() -> &'static Vec<(Format, Vec<(String, Vec<u8>)>)> {
    static RELEASES: OnceLock<Vec<(Format, Vec<(String, Vec<u8>)>)>> = OnceLock::new();
    RELEASES.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/loaders/test_data");
        [
            (Format::Hcpcs, "hcpcs"),
            (Format::Icd10cm, "icd10cm"),
            (Format::Icd10pcs, "icd10pcs"),
            (Format::Cpt, "cpt/2026"),
            (Format::Ndc, "ndc"),
            (Format::Csv, "csv_codes"),
            (Format::Snomed, "snomed_rf2/SnomedCT_InternationalRF2_PRODUCTION_20250101T120000Z"),
            (Format::Loinc, "loinc/Loinc_2.77"),
            (Format::Rxnorm, "rxnorm_rrf/RxNorm_full_01062025"),
        ]
        .into_iter()
        .map(|(format, folder)| {
            let base = root.join(folder);
            let mut files = Vec::new();
            collect_files(&base, &base, &mut files);
            files.sort();
            (format, files)
        })
        .collect()
    })
}

fn collect_files(base: &Path, folder: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    let Ok(entries) = std::fs::read_dir(folder) else { return };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|entry| entry.path()).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            collect_files(base, &path, out);
        } else if path.file_name().is_some_and(|name| name != "README.md") {
            let name = path.strip_prefix(base).unwrap_or(&path).to_string_lossy().replace('\\', "/");
            out.push((name, std::fs::read(&path).unwrap_or_default()));
        }
    }
}

/// The first byte picks a fixture release, the second one of its files, and the rest replaces
/// that file; the release is then loaded in its format.
pub fn loaders(data: &[u8]) {
    let [release_pick, file_pick, content @ ..] = data else { return };
    let releases = fixture_releases();
    let (format, files) = &releases[*release_pick as usize % releases.len()];
    if files.is_empty() {
        return;
    }
    let chosen = *file_pick as usize % files.len();
    let mut files = files.clone();
    files[chosen].1 = content.to_vec();
    let source = MemorySource::new(files);
    let _ = loaders::load(*format, &source, &loaders::LoadOptions::default());
}

/// The ECL test release (`snomed_rf2/ecl/`), indexed once.
fn ecl_index() -> &'static CodeSystemIndex {
    static INDEX: OnceLock<CodeSystemIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../crates/loaders/test_data/snomed_rf2/ecl/SnomedCT_InternationalRF2_PRODUCTION_20250101T120000Z");
        let source = loaders::open_paths(&[folder]).expect("the ECL fixture");
        let loaded = loaders::load(Format::Snomed, source.as_ref(), &loaders::LoadOptions::default()).expect("the ECL fixture loads");
        let code_system = loaded.code_systems.into_iter().next().expect("one code system");
        CodeSystemIndex::new(code_system, None)
    })
}

/// An ECL expression: parsed, and when it parses, evaluated over the ECL test release with a
/// short deadline. Neither may panic; evaluation may only answer or refuse.
pub fn ecl(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if model::ecl::parse(text).is_ok() {
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(200);
        let _ = store::ecl::evaluate(ecl_index(), text, Some(deadline));
    }
}
