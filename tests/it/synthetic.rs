//! The synthetic SNOMED CT and LOINC releases of `bench/synth`, at a small scale, load through
//! the same path as `fhirterm load` and answer the operations with the generator's own counts.

use crate::support::{app, sqlite, TestApp};
use serde_json::Value;
use std::path::Path;

/// Loads a release folder exactly as `fhirterm load auto PATH` does.
async fn load(path: &Path) -> (crate::support::Backend, TestApp) {
    let backend = sqlite();
    let app = app(&backend).await;
    let source = loaders::open_paths(&[path.to_path_buf()]).expect("open release");
    let format = loaders::detect(source.as_ref()).expect("detect format");
    let loaded = loaders::load(format, source.as_ref(), &loaders::LoadOptions::default()).expect("load release");
    app.terminology.load_release(loaded.code_systems, loaded.resources, false).expect("store release");
    (backend, app)
}

fn parameter<'a>(parameters: &'a Value, name: &str) -> Option<&'a Value> {
    parameters["parameter"].as_array()?.iter().find(|parameter| parameter["name"] == name)
}

fn temporary_folder(name: &str) -> std::path::PathBuf {
    let folder = std::env::temp_dir().join(format!("fhirterm-synth-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    folder
}

#[actix_web::test]
async fn a_small_synthetic_snomed_release_loads_and_answers() {
    let folder = temporary_folder("snomed");
    let summary = synth::snomed::write(&folder, &synth::snomed::Options { seed: 11, scale: 0.002, ..Default::default() }).unwrap();
    let (_backend, app) = load(&summary.root).await;

    let (concept, term) = &summary.preferred_terms[1];
    let lookup = app.get(&format!("/fhir/CodeSystem/$lookup?system=http://snomed.info/sct&code={concept}")).await.json();
    assert_eq!(parameter(&lookup, "display").expect("display")["valueString"], term.as_str(), "{lookup}");

    for (ancestor, count) in &summary.descendants_or_self {
        let expansion =
            app.get(&format!("/fhir/ValueSet/$expand?url=http://snomed.info/sct?fhir_vs%3Disa/{ancestor}&count=20")).await.json();
        assert_eq!(expansion["expansion"]["total"], *count, "isa/{ancestor}");
    }
    let everything = app.get("/fhir/ValueSet/$expand?url=http://snomed.info/sct?fhir_vs&count=1").await.json();
    assert_eq!(everything["expansion"]["total"], summary.n_concepts, "{everything}");

    let (inactive, replacement) = summary.replaced.expect("an inactive concept REPLACED BY another");
    let validate = app.get(&format!("/fhir/CodeSystem/$validate-code?url=http://snomed.info/sct&code={replacement}")).await.json();
    assert_eq!(parameter(&validate, "result").expect("result")["valueBoolean"], true, "{validate}");
    let subsumes = app
        .get(&format!(
            "/fhir/CodeSystem/$subsumes?system=http://snomed.info/sct&codeA={}&codeB={inactive}",
            synth::snomed::CLINICAL_FINDING
        ))
        .await
        .json();
    assert_eq!(parameter(&subsumes, "outcome").expect("outcome")["valueCode"], "not-subsumed", "{subsumes}");

    let rare =
        app.get(&format!("/fhir/ValueSet/$expand?url=http://snomed.info/sct?fhir_vs&filter={}&count=20", summary.rare_word)).await.json();
    let total = rare["expansion"]["total"].as_u64().expect("a total");
    assert!((1..=3).contains(&total), "{} in {total} concepts", summary.rare_word);
    let (refset, n_members) = summary.simple_refsets[0];
    let members = app.get(&format!("/fhir/ValueSet/$expand?url=http://snomed.info/sct?fhir_vs%3Drefset/{refset}&count=1")).await.json();
    assert_eq!(members["expansion"]["total"], n_members, "{members}");
    std::fs::remove_dir_all(&folder).unwrap();
}

#[actix_web::test]
async fn a_small_synthetic_loinc_release_loads_and_answers() {
    let folder = temporary_folder("loinc");
    let summary = synth::loinc::write(&folder, &synth::loinc::Options { seed: 11, scale: 0.002, ..Default::default() }).unwrap();
    let (_backend, app) = load(&summary.root).await;
    for term in summary.terms.iter().step_by(37) {
        let lookup = app.get(&format!("/fhir/CodeSystem/$lookup?system=http://loinc.org&code={}", term.code)).await.json();
        assert_eq!(parameter(&lookup, "display").expect("display")["valueString"], term.long_common_name.as_str(), "{lookup}");
        assert_eq!(parameter(&lookup, "version").expect("version")["valueString"], "2.77", "{lookup}");
    }
    let (component, n_terms) = &summary.components[0];
    // A component part's value set: the terms under it in the hierarchy.
    let expansion = app.get(&format!("/fhir/ValueSet/$expand?url=http://loinc.org/vs/{component}&count=1")).await.json();
    assert_eq!(expansion["expansion"]["total"], *n_terms, "{expansion}");
    // An answer list's value set: its answers.
    for (list, n_answers) in &summary.answer_lists {
        let answers = app.get(&format!("/fhir/ValueSet/$expand?url=http://loinc.org/vs/{list}")).await.json();
        assert_eq!(answers["expansion"]["total"], *n_answers, "{answers}");
        assert!(
            answers["expansion"]["contains"]
                .as_array()
                .expect("contains")
                .iter()
                .all(|answer| answer["code"].as_str().is_some_and(|code| code.starts_with("LA"))),
            "{answers}"
        );
    }
    // Every term, part, answer list and answer is a concept.
    let all = app.get("/fhir/ValueSet/$expand?url=http://loinc.org/vs&count=1").await.json();
    assert_eq!(all["expansion"]["total"], summary.n_terms + summary.n_parts + summary.n_answer_lists + summary.n_answers, "{all}");
    std::fs::remove_dir_all(&folder).unwrap();
}
