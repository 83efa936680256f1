//! A practice's billing list (`code_type,code,description,category`) uploaded the way practices
//! use it: rows checked against the loaded ICD-10-CM and HCPCS releases (the loaders' official-layout
//! fixtures), bad rows named and nothing stored, categories made value sets and updated, a CPT
//! fragment with a version, a custom code system, diffs of like with like; and NDC packages'
//! marketing dates read as the date of service. On SQLite and, with `TEST_DATABASE_URL`, PostgreSQL.

use crate::support::{app_with, backend_tests, field, file, hs256_config, job_id, real_data, sqlite, token, Backend, Part, TestApp};
use actix_web::http::StatusCode;
use serde_json::{json, Value};
use std::path::PathBuf;

const ICD: &str = "http://hl7.org/fhir/sid/icd-10-cm";
const HCPCS: &str = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets";
const CPT: &str = "http://www.ama-assn.org/go/cpt";
const NDC: &str = "http://hl7.org/fhir/sid/ndc";
const VALUE_SETS: &str = "http://fhirterm.local/fhir/ValueSet/";

fn writer() -> String {
    token("practice-admin", "system/CodeSystem.write system/ValueSet.write")
}

fn fixture(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../crates/loaders/test_data").join(relative)
}

/// Stores a loader fixture as `fhirterm load --make-current` does.
fn load_release(app: &TestApp, relative: &str) {
    let source = loaders::open_paths(&[fixture(relative)]).expect("open the fixture");
    let format = loaders::detect(source.as_ref()).expect("detect the format");
    let loaded = loaders::load(format, source.as_ref(), &loaders::LoadOptions::default()).expect("load the fixture");
    app.terminology.load_release(loaded.code_systems, loaded.resources, true).expect("store the fixture");
}

/// An app with the ICD-10-CM 2026 order-file fixture and the HCPCS 2019 fixture loaded.
async fn app_with_releases(backend: &Backend) -> TestApp {
    let app = app_with(backend, hs256_config()).await;
    load_release(&app, "icd10cm/icd10cm_order_2026.txt");
    load_release(&app, "hcpcs/HCPC2019_CONTR_ANWEB.txt");
    app
}

async fn upload_and_wait(app: &TestApp, parts: &[Part<'_>]) -> store::JobRecord {
    let answer = app.upload(Some(&writer()), parts).await;
    let id = job_id(&answer);
    app.wait_for_job(&id).await
}

fn versions(app: &TestApp, url: &str) -> Vec<(String, String)> {
    app.terminology
        .registry()
        .code_system_versions(url)
        .iter()
        .map(|index| (index.version().unwrap_or_default().to_owned(), index.code_system.content.clone()))
        .collect()
}

fn parameter<'a>(answer: &'a Value, name: &str) -> Option<&'a Value> {
    answer["parameter"].as_array()?.iter().find(|parameter| parameter["name"] == name)
}

fn expanded_codes(expansion: &Value) -> Vec<String> {
    expansion["expansion"]["contains"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|entry| entry["code"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// `$validate-code` of a code in a system: (result, message, the answer).
async fn validate(app: &TestApp, system: &str, code: &str, extra: &str) -> (bool, String, Value) {
    let answer = app.get(&format!("/fhir/CodeSystem/$validate-code?url={system}&code={code}{extra}")).await;
    assert_eq!(answer.status, StatusCode::OK, "{code}{extra}: {}", answer.body);
    let json = answer.json();
    let result = parameter(&json, "result").and_then(|result| result["valueBoolean"].as_bool()).expect("a result");
    let message = parameter(&json, "message").and_then(|message| message["valueString"].as_str()).unwrap_or_default().to_owned();
    (result, message, json)
}

async fn rows_are_checked_and_categories_become_value_sets_updated_by_the_next_upload(backend: &Backend) {
    let app = app_with_releases(backend).await;
    let icd_before = versions(&app, ICD);
    let list = "code_type,code,description,category\n\
                icd10,A00.0,Cholera (classical),Infectious disease codes\n\
                icd10,A00.9,Cholera,Infectious disease codes\n\
                hcpcs,A4206,Syringe 1 cc,Supplies\n\
                icd10,S72.001A,Hip fracture,\n\
                icd10,A00,Cholera (header),\n";
    let job = upload_and_wait(&app, &[field("version", "2026-01"), file("practice.csv", list.as_bytes().to_vec())]).await;
    assert_eq!(job.state, "succeeded", "{:?} {:?}", job.error, job.diagnostics);
    assert_eq!(job.format, "csv");
    assert_eq!(job.diff, Some(json!([])), "nothing earlier to compare with, and never the release itself");
    let warnings = job.diagnostics.clone().unwrap_or_default();
    assert_eq!(warnings.as_array().map(Vec::len), Some(1), "{warnings}");
    assert_eq!((warnings[0]["line"].as_u64(), warnings[0]["value"].as_str()), (Some(6), Some("A00")), "{warnings}");
    assert!(warnings[0]["message"].as_str().unwrap_or_default().starts_with("not billable in ICD-10-CM 2026"), "{warnings}");
    let counts = job.counts.clone().expect("counts");
    assert_eq!(counts["valueSets"], 2, "{counts}");
    assert_eq!(counts["codeSystems"], 0, "rows of loaded releases form no code system: {counts}");
    assert_eq!(versions(&app, ICD), icd_before, "the release is neither replaced nor fragmented");
    assert_eq!(versions(&app, HCPCS), [("2019".to_owned(), "complete".to_owned())]);

    let url = format!("{VALUE_SETS}icd10-infectious-disease-codes");
    let value_set = app.get(&format!("/fhir/ValueSet?url={url}")).await.json();
    assert_eq!(value_set["total"], 1, "{value_set}");
    let resource = &value_set["entry"][0]["resource"];
    assert_eq!(resource["id"], "icd10-infectious-disease-codes");
    assert_eq!(resource["version"], "2026-01");
    let include = &resource["compose"]["include"][0];
    assert_eq!((include["system"].as_str(), include["version"].as_str()), (Some(ICD), Some("2026")), "{resource}");
    let release_display = include["concept"][0]["display"].as_str().unwrap_or_default();
    assert!(release_display.starts_with("Cholera due to Vibrio cholerae"), "the release's display, not the list's: {release_display}");
    let expansion = app.get(&format!("/fhir/ValueSet/$expand?url={url}")).await.json();
    assert_eq!(expanded_codes(&expansion), ["A00.0", "A00.9"], "{expansion}");
    let in_list = app.get(&format!("/fhir/ValueSet/$validate-code?url={url}&system={ICD}&code=A00.9")).await.json();
    assert_eq!(parameter(&in_list, "result").map(|result| result["valueBoolean"].clone()), Some(json!(true)), "{in_list}");
    let on_a_day =
        app.get(&format!("/fhir/ValueSet/$validate-code?url={VALUE_SETS}hcpcs-supplies&system={HCPCS}&code=A4206&date=1980-06-01")).await;
    // The value set pins the release it was checked against; `date` still applies each code's own
    // dates in it (A4206 was added on 1984-01-01).
    assert!(
        on_a_day.body.contains("was not in force on 1980-06-01") && on_a_day.body.contains("\"valueBoolean\":false"),
        "{}",
        on_a_day.body
    );
    let supplies = app.get(&format!("/fhir/ValueSet/$expand?url={VALUE_SETS}hcpcs-supplies")).await.json();
    assert_eq!(expanded_codes(&supplies), ["A4206"], "{supplies}");

    // The next upload of the category replaces its value set: same id and url, a new version.
    let next = "code,description,category\nA00.9,Cholera,Infectious disease codes\nS72.001A,Hip fracture,Infectious disease codes\n";
    let job =
        upload_and_wait(&app, &[field("code_type", "icd10"), field("version", "2026-02"), file("next.csv", next.as_bytes().to_vec())])
            .await;
    assert_eq!(job.state, "succeeded", "{:?} {:?}", job.error, job.diagnostics);
    let value_set = app.get(&format!("/fhir/ValueSet?url={url}")).await.json();
    assert_eq!(value_set["total"], 1, "{value_set}");
    assert_eq!(value_set["entry"][0]["resource"]["id"], "icd10-infectious-disease-codes");
    assert_eq!(value_set["entry"][0]["resource"]["version"], "2026-02");
    let expansion = app.get(&format!("/fhir/ValueSet/$expand?url={url}")).await.json();
    assert_eq!(expanded_codes(&expansion), ["A00.9", "S72.001A"], "{expansion}");
    // The diff compares the pick list with its previous content; the release is not in it.
    let diff = job.diff.expect("a diff");
    assert_eq!(diff.as_array().map(Vec::len), Some(1), "{diff}");
    assert_eq!(diff[0]["resourceType"], "ValueSet");
    assert_eq!(diff[0]["system"], url.as_str());
    assert_eq!((diff[0]["fromVersion"].as_str(), diff[0]["toVersion"].as_str()), (Some("2026-01"), Some("2026-02")));
    assert_eq!(diff[0]["added"], json!(["S72.001A"]));
    assert_eq!(diff[0]["retired"], json!(["A00.0"]));
    assert!(!diff.to_string().contains("\"system\":\"http://hl7.org/fhir/sid/icd-10-cm\""), "{diff}");
    assert_eq!(versions(&app, ICD), icd_before);
}

async fn a_bad_list_stores_nothing_and_names_every_bad_row(backend: &Backend) {
    let app = app_with_releases(backend).await;
    let list = "code_type,code,description,category\n\
                icd10,A00.9,Cholera,Infectious\n\
                icd10,A009,Cholera undotted,Infectious\n\
                hcpcs,A42,Syringe,Supplies\n\
                cpt,9921,Office visit,E/M\n\
                icd10,Z99.99,Not a code of the release,Infectious\n\
                loinc,1234-5,Lab,Lab\n\
                hcpcs,a4206,Syringe lower case,Supplies\n";
    let job = upload_and_wait(&app, &[file("bad.csv", list.as_bytes().to_vec())]).await;
    assert_eq!(job.state, "failed");
    let error = job.error.clone().unwrap_or_default();
    assert!(error.starts_with("6 rows of the billing list are in error; nothing was stored"), "{error}");
    let diagnostics: Vec<String> = job
        .diagnostics
        .as_ref()
        .and_then(Value::as_array)
        .expect("diagnostics")
        .iter()
        .map(|diagnostic| {
            format!(
                "{}:{} {} | {}",
                diagnostic["path"].as_str().unwrap_or_default(),
                diagnostic["line"],
                diagnostic["value"].as_str().unwrap_or_default(),
                diagnostic["message"].as_str().unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(diagnostics.len(), 6, "{diagnostics:#?}");
    let expected = [
        ("bad.csv:3 A009 |", "did you mean A00.9?"),
        ("bad.csv:4 A42 |", "not of the HCPCS form"),
        ("bad.csv:5 9921 |", "not of the CPT form"),
        ("bad.csv:6 Z99.99 |", "not a code of ICD-10-CM 2026"),
        ("bad.csv:7 loinc |", "code_type is not one of cpt, icd10, hcpcs, custom"),
        ("bad.csv:8 a4206 |", "did you mean A4206?"),
    ];
    for ((start, message), diagnostic) in expected.iter().zip(&diagnostics) {
        assert!(diagnostic.starts_with(start) && diagnostic.contains(message), "{diagnostic} should be {start} … {message}");
    }
    assert_eq!(app.get("/fhir/ValueSet?url=http://fhirterm.local/fhir/ValueSet/icd10-infectious").await.json()["total"], 0);
    assert!(versions(&app, CPT).is_empty(), "no fragment either");
}

async fn cpt_without_a_release_forms_a_versioned_fragment(backend: &Backend) {
    let app = app_with(backend, hs256_config()).await;
    let list = "code,description,category\n99990,Invented practice visit level 1,E/M\n99991,Invented practice visit level 2,E/M\n";
    // A dry run checks the list and stores nothing.
    let dry =
        upload_and_wait(&app, &[field("code_type", "cpt"), field("dry_run", "true"), file("cpt.csv", list.as_bytes().to_vec())]).await;
    assert_eq!(dry.state, "succeeded", "{:?}", dry.error);
    assert!(
        dry.dry_run && dry.counts.as_ref().is_some_and(|counts| counts["valueSets"] == 1 && counts.get("stored").is_none()),
        "{:?}",
        dry.counts
    );
    assert!(versions(&app, CPT).is_empty());
    assert_eq!(app.get(&format!("/fhir/ValueSet?url={VALUE_SETS}cpt-e-m")).await.json()["total"], 0);
    let job =
        upload_and_wait(&app, &[field("code_type", "cpt"), field("version", "2026-practice"), file("cpt.csv", list.as_bytes().to_vec())])
            .await;
    assert_eq!(job.state, "succeeded", "{:?} {:?}", job.error, job.diagnostics);
    assert_eq!(versions(&app, CPT), [("2026-practice".to_owned(), "fragment".to_owned())]);
    let (valid, _, _) = validate(&app, CPT, "99990", "").await;
    assert!(valid);
    // FHIR's rule for a fragment: a code it does not list may still be a code of the system, so
    // the answer is a warning, not an error.
    let (valid, _, answer) = validate(&app, CPT, "99999", "").await;
    let issues = parameter(&answer, "issues").map(|issues| issues.to_string()).unwrap_or_default();
    assert!(
        valid && issues.contains("UNKNOWN_CODE_IN_FRAGMENT") && issues.contains("warning") && !issues.contains("\"error\""),
        "{answer}"
    );
    let expansion = app.get(&format!("/fhir/ValueSet/$expand?url={VALUE_SETS}cpt-e-m")).await.json();
    assert_eq!(expanded_codes(&expansion), ["99990", "99991"], "{expansion}");
    assert_eq!(
        app.get(&format!("/fhir/ValueSet?url={VALUE_SETS}cpt-e-m")).await.json()["entry"][0]["resource"]["compose"]["include"][0]
            ["version"],
        "2026-practice"
    );

    // The next list is a new version of the fragment, compared with the previous one.
    let next = "code,description,category\n99990,Invented practice visit level 1,E/M\n99993,Invented telehealth check-in,E/M\n";
    let job =
        upload_and_wait(&app, &[field("code_type", "cpt"), field("version", "2026-practice-2"), file("cpt.csv", next.as_bytes().to_vec())])
            .await;
    assert_eq!(job.state, "succeeded", "{:?}", job.error);
    let diff = job.diff.expect("a diff");
    let fragment_diff =
        diff.as_array().into_iter().flatten().find(|entry| entry["resourceType"] == "CodeSystem").expect("the fragment's diff");
    assert_eq!(fragment_diff["system"], CPT);
    assert_eq!(fragment_diff["fromVersion"], "2026-practice");
    assert_eq!(fragment_diff["added"], json!(["99993"]));
    assert_eq!(versions(&app, CPT).len(), 2);
    assert!(validate(&app, CPT, "99993", "").await.0);
}

async fn custom_codes_form_a_local_code_system(backend: &Backend) {
    let app = app_with(backend, hs256_config()).await;
    let list = "code_type,code,description,category\ncustom,NOSHOW,Missed appointment fee,Practice fees\ncustom,FORMS-1,Form completion,Practice fees\n";
    let job =
        upload_and_wait(&app, &[field("custom_system", "clinic-fees"), field("version", "1"), file("fees.csv", list.as_bytes().to_vec())])
            .await;
    assert_eq!(job.state, "succeeded", "{:?} {:?}", job.error, job.diagnostics);
    let url = "http://fhirterm.local/fhir/CodeSystem/clinic-fees";
    assert_eq!(versions(&app, url), [("1".to_owned(), "complete".to_owned())]);
    assert!(validate(&app, url, "NOSHOW", "").await.0);
    let (valid, _, answer) = validate(&app, url, "OTHER", "").await;
    assert!(!valid, "a complete local system knows all its codes: {answer}");
    let expansion = app.get(&format!("/fhir/ValueSet/$expand?url={VALUE_SETS}custom-practice-fees")).await.json();
    assert_eq!(expanded_codes(&expansion), ["NOSHOW", "FORMS-1"], "{expansion}");
    let refused = app.upload(Some(&writer()), &[field("custom_system", "../x"), file("fees.csv", list.as_bytes().to_vec())]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
}

async fn ndc_packages_answer_by_their_marketing_dates(backend: &Backend) {
    let app = app_with(backend, hs256_config()).await;
    let source = loaders::MemorySource::new([
        ("ndctext-2026-01-15/product.txt", std::fs::read(fixture("ndc/product.txt")).expect("product.txt")),
        ("ndctext-2026-01-15/package.txt", std::fs::read(fixture("ndc/package.txt")).expect("package.txt")),
    ]);
    let loaded = loaders::load(loaders::Format::Ndc, &source, &loaders::LoadOptions::default()).expect("load the NDC fixture");
    app.terminology.load_release(loaded.code_systems, loaded.resources, true).expect("store");
    // Off the market on 2025-12-31, before the directory of 2026-01-15: retired.
    for code in ["0999-1234-02", "00999123402"] {
        let (_, _, answer) = validate(&app, NDC, code, "").await;
        assert_eq!(parameter(&answer, "inactive").map(|inactive| inactive["valueBoolean"].clone()), Some(json!(true)), "{answer}");
        assert!(validate(&app, NDC, code, "&date=2025-06-01").await.0, "{code} was on the market in 2025");
        let (valid, message, _) = validate(&app, NDC, code, "&date=2026-01-10").await;
        assert!(!valid && message.contains("2025-12-31"), "{code}: {message}");
        assert!(!validate(&app, NDC, code, "&date=2019-06-01").await.0, "{code} came on the market in 2020");
    }
    // On the market until 2026-12-31: active now, and not after its end.
    let (valid, _, answer) = validate(&app, NDC, "59999-123-20", "").await;
    assert!(valid, "{answer}");
    assert!(validate(&app, NDC, "59999-123-20", "&date=2026-12-31").await.0);
    assert!(!validate(&app, NDC, "59999-123-20", "&date=2027-01-01").await.0);
    let lookup = app.get(&format!("/fhir/CodeSystem/$lookup?system={NDC}&code=59999012320&property=retirementDate")).await;
    assert!(lookup.body.contains("2026-12-31"), "{}", lookup.body);
    let active_only = app.get(&format!("/fhir/ValueSet/$expand?url={NDC}?fhir_vs&activeOnly=true&filter=Fixturol")).await.json();
    let codes = expanded_codes(&active_only);
    assert!(codes.contains(&"0999-1234-01".to_owned()) && !codes.contains(&"0999-1234-02".to_owned()), "{codes:?}");
}

backend_tests! {
    categories_become_value_sets => rows_are_checked_and_categories_become_value_sets_updated_by_the_next_upload;
    bad_rows_store_nothing => a_bad_list_stores_nothing_and_names_every_bad_row;
    cpt_fragment => cpt_without_a_release_forms_a_versioned_fragment;
    custom_system => custom_codes_form_a_local_code_system;
    ndc_marketing_dates => ndc_packages_answer_by_their_marketing_dates;
}

/// `fhirterm load csv` prints every bad row on a line of its own, naming file, line and value, and
/// stores nothing.
#[test]
fn the_cli_names_every_bad_row() {
    let folder = std::env::temp_dir().join(format!("fhirterm-billing-cli-{}", std::process::id()));
    std::fs::create_dir_all(&folder).expect("a scratch folder");
    let list = folder.join("list.csv");
    std::fs::write(&list, "code,description,category\n99213,Office visit,E/M\n9921,Short,E/M\n99214 ,Spaced,E/M\n")
        .expect("write the list");
    let database = format!("sqlite://{}", folder.join("cli.db").display());
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_fhirterm-under-test"))
        .args(["load", "csv", list.to_str().unwrap_or_default(), "--code-type", "cpt", "--database", &database])
        .env_remove("FHIRTERM_DATABASE_URL")
        .output()
        .expect("run fhirterm load");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|line| line.starts_with("fhirterm: error: list.csv:")).collect();
    assert_eq!(errors.len(), 2, "{stderr}");
    assert!(errors[0].contains("list.csv:3:") && errors[0].contains("\"9921\""), "{stderr}");
    assert!(errors[1].contains("list.csv:4:") && errors[1].contains("did you mean 99214?"), "{stderr}");
    assert!(stderr.contains("2 rows of the billing list are in error; nothing was stored"), "{stderr}");
    let fixed = folder.join("fixed.csv");
    std::fs::write(&fixed, "code,description,category\n99213,Office visit,E/M\n").expect("write the list");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_fhirterm-under-test"))
        .args(["load", "csv", fixed.to_str().unwrap_or_default(), "--code-type", "cpt", "--version", "1", "--database", &database])
        .env_remove("FHIRTERM_DATABASE_URL")
        .output()
        .expect("run fhirterm load");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        stdout.contains("1 cpt rows against http://www.ama-assn.org/go/cpt|1 (fragment)") && stdout.contains("1 value sets"),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(&folder);
}

/// On the real ICD-10-CM 2026 and HCPCS 2019 releases (`FHIRTERM_REAL_DATA`): the brief's own
/// example, `E119`, is refused with "did you mean E11.9?", a terminated HCPCS code kept for older
/// claims is taken with a warning, and the clean list becomes its value sets.
#[actix_web::test]
async fn a_list_checked_against_real_releases() {
    let Some(dir) = real_data() else { return };
    // Every code of the real code lists has the form the checks hold ICD-10-CM codes to (FY2026
    // added QA0.01 and its block, with a letter in second place).
    for year in ["2025", "2026"] {
        let list = std::fs::read_to_string(dir.join(format!("icd10cm/{year}/code-list-{year}.txt"))).expect("a code list");
        let ill_formed: Vec<String> = list
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.contains('-') && !line.chars().all(|c| c.is_ascii_digit()))
            .map(|code| if code.len() > 3 { format!("{}.{}", &code[..3], &code[3..]) } else { code.to_owned() })
            .filter(|code| !model::terminology::billing::CodeType::Icd10.has_form(code))
            .collect();
        assert!(ill_formed.is_empty(), "{year}: {ill_formed:?}");
    }
    let backend = sqlite();
    let app = app_with(&backend, hs256_config()).await;
    for (format, path) in [
        (loaders::Format::Icd10cm, dir.join("icd10cm/2026/icd10cm-tabular-2026.xml")),
        (loaders::Format::Hcpcs, dir.join("hcpcs/2019/2019-Alpha-Numeric-HCPCS-File.zip")),
    ] {
        let source = loaders::open_paths(&[path]).expect("open a release");
        let loaded = loaders::load(format, source.as_ref(), &loaders::LoadOptions::default()).expect("load a release");
        app.terminology.load_release(loaded.code_systems, loaded.resources, true).expect("store a release");
    }
    let list = "code_type,code,description,category\n\
                icd10,E119,Type 2 diabetes mellitus without complications,diabetes-diagnosis-codes\n\
                icd10,E11.65,Type 2 diabetes mellitus with hyperglycemia,diabetes-diagnosis-codes\n\
                icd10,QA0.01,Neurodevelopmental disorder,genetic\n\
                hcpcs,A9599,Radiopharmaceutical,supplies\n";
    let job = upload_and_wait(&app, &[file("practice.csv", list.as_bytes().to_vec())]).await;
    assert_eq!(job.state, "failed");
    let diagnostics = job.diagnostics.clone().unwrap_or_default().to_string();
    assert!(diagnostics.contains("did you mean E11.9?") && diagnostics.contains("\"line\":2"), "{diagnostics}");
    let job = upload_and_wait(&app, &[file("practice.csv", list.replace("E119", "E11.9").into_bytes())]).await;
    assert_eq!(job.state, "succeeded", "{:?}", job.error);
    let warnings = job.diagnostics.clone().unwrap_or_default().to_string();
    assert!(warnings.contains("A9599") && warnings.contains("retired in HCPCS 2019"), "{warnings}");
    let expansion = app.get(&format!("/fhir/ValueSet/$expand?url={VALUE_SETS}icd10-diabetes-diagnosis-codes")).await.json();
    assert_eq!(expanded_codes(&expansion), ["E11.9", "E11.65"], "{expansion}");
    assert_eq!(versions(&app, ICD), [("2026".to_owned(), "complete".to_owned())]);
}
