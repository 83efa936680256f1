//! The console at `/console`: its files, their content types and security headers, what the page
//! may load, and the `/admin/code-systems` overview its dashboard reads. The screens themselves
//! are driven in a real browser by `tests/e2e/console.py`.

use crate::support::{app, app_with, backend_tests, hs256_config, sample_code_system, sqlite, token, Backend};
use actix_web::http::StatusCode;
use serde_json::{json, Value};

const CONSOLE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../crates/server/console");

#[track_caller]
fn assert_console_headers(answer: &crate::support::Answer, what: &str) {
    assert_eq!(answer.header("content-security-policy"), Some("default-src 'self'"), "{what}");
    assert_eq!(answer.header("x-content-type-options"), Some("nosniff"), "{what}");
    assert_eq!(answer.header("x-frame-options"), Some("DENY"), "{what}");
}

#[actix_web::test]
async fn the_page_and_its_files_are_served_with_their_types_and_the_policy() {
    let backend = sqlite();
    let app = app(&backend).await;
    for (uri, content_type, file) in [
        ("/console", "text/html; charset=utf-8", "index.html"),
        ("/console/", "text/html; charset=utf-8", "index.html"),
        ("/console/app.js", "text/javascript; charset=utf-8", "app.js"),
        ("/console/console.css", "text/css; charset=utf-8", "console.css"),
        ("/console/icon.svg", "image/svg+xml", "icon.svg"),
    ] {
        let answer = app.get(uri).await;
        assert_eq!(answer.status, StatusCode::OK, "{uri}: {}", answer.body);
        assert_eq!(answer.content_type, content_type, "{uri}");
        assert_console_headers(&answer, uri);
        let on_disk = std::fs::read_to_string(format!("{CONSOLE_DIR}/{file}")).expect("the console file");
        assert_eq!(answer.body, on_disk, "{uri} serves {file} as compiled in");
    }
    let missing = app.get("/console/secrets.txt").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_console_headers(&missing, "an unknown console file");
    assert!(missing.body.contains("secrets.txt"), "{}", missing.body);
    let outside = app.get("/console/..%2FCargo.toml").await;
    assert_eq!(outside.status, StatusCode::NOT_FOUND, "{}", outside.body);
}

/// What `default-src 'self'` would block is not there to block: no inline script or style, nothing
/// from another origin. And no untrusted text is ever parsed as HTML by the module.
#[actix_web::test]
async fn the_page_loads_nothing_inline_or_from_elsewhere_and_never_parses_html() {
    let backend = sqlite();
    let app = app(&backend).await;
    let page = app.get("/console").await.body;
    for script in page.split("<script").skip(1) {
        let (opening, content) = script.split_once('>').expect("a script tag");
        assert!(opening.contains("src=\"/console/"), "a script from elsewhere: <script{opening}>");
        assert!(content.starts_with("</script>"), "an inline script: {content}");
    }
    assert!(!page.contains("<style"), "an inline style sheet");
    assert!(!page.contains(" style="), "an inline style attribute");
    assert!(!page.contains(" on"), "an inline event handler");
    for attribute in ["src=\"", "href=\""] {
        for value in page.split(attribute).skip(1).map(|rest| rest.split('"').next().unwrap_or_default()) {
            assert!(value.starts_with("/console/") || value.starts_with('#'), "{attribute}{value}\" leaves the console");
        }
    }
    let module = app.get("/console/app.js").await.body;
    for sink in
        ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "localStorage", "document.cookie"]
    {
        assert!(!module.contains(sink), "app.js uses {sink}");
    }
    assert!(module.contains("sessionStorage"), "the token is kept in sessionStorage");
    let style = app.get("/console/console.css").await.body;
    assert!(!style.contains("@import") && !style.contains("url("), "the style sheet loads nothing");
}

fn hcpcs_release(version: &str, codes: &[(&str, &str)]) -> Value {
    let concepts: Vec<Value> = codes.iter().map(|(code, display)| json!({"code": code, "display": display})).collect();
    json!({"resourceType": "CodeSystem", "url": loaders::hcpcs::HCPCS_URL, "version": version, "name": "HCPCS",
           "title": "HCPCS Level II", "status": "active", "content": "complete", "concept": concepts})
}

fn family<'a>(overview: &'a Value, key: &str) -> &'a Value {
    overview["families"]
        .as_array()
        .expect("families")
        .iter()
        .find(|family| family["family"] == key)
        .unwrap_or_else(|| panic!("no family {key}"))
}

backend_tests! {
    overview => the_overview_lists_each_family_with_versions_counts_and_load_times;
}

async fn the_overview_lists_each_family_with_versions_counts_and_load_times(backend: &Backend) {
    let app = app(backend).await;
    let empty = app.get("/admin/code-systems").await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.body);
    let keys: Vec<String> =
        empty.json()["families"].as_array().unwrap().iter().map(|family| family["family"].as_str().unwrap().to_owned()).collect();
    assert_eq!(keys, ["icd10cm", "icd10pcs", "hcpcs", "cpt", "loinc", "snomed", "rxnorm", "ndc", "fhir", "local"]);
    assert!(empty.json()["families"].as_array().unwrap().iter().all(|family| family["codeSystems"] == json!([])));

    for release in [
        hcpcs_release("2019", &[("A0001", "One"), ("A0002", "Two")]),
        hcpcs_release("2020", &[("A0001", "One"), ("A0002", "Two"), ("A0003", "Three")]),
    ] {
        let code_system = model::terminology::CodeSystem::from_json(&release).expect("a code system");
        app.terminology.load(vec![code_system], Vec::new()).expect("store a release");
    }
    assert_eq!(app.put_json("/fhir/CodeSystem/sample", &sample_code_system()).await.status, StatusCode::CREATED);
    let mut hl7 = sample_code_system();
    hl7["id"] = json!("act-code");
    hl7["url"] = json!("http://terminology.hl7.org/CodeSystem/v3-ActCode");
    assert_eq!(app.put_json("/fhir/CodeSystem/act-code", &hl7).await.status, StatusCode::CREATED);

    let overview = app.get("/admin/code-systems").await.json();
    let hcpcs = &family(&overview, "hcpcs")["codeSystems"];
    assert_eq!(hcpcs.as_array().unwrap().len(), 1, "{overview}");
    assert_eq!(hcpcs[0]["url"], loaders::hcpcs::HCPCS_URL);
    assert_eq!(hcpcs[0]["title"], "HCPCS Level II");
    assert_eq!(hcpcs[0]["currentVersion"], "2020");
    assert_eq!(hcpcs[0]["restricted"], false);
    let versions = hcpcs[0]["versions"].as_array().unwrap();
    let summary: Vec<(String, u64, bool)> = versions
        .iter()
        .map(|version| {
            (version["version"].as_str().unwrap().to_owned(), version["concepts"].as_u64().unwrap(), version["current"].as_bool().unwrap())
        })
        .collect();
    assert_eq!(summary, [("2020".to_owned(), 3, true), ("2019".to_owned(), 2, false)], "newest first");
    for version in versions {
        let loaded_at = version["loadedAt"].as_str().unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(loaded_at).is_ok(), "{loaded_at}");
        let read = app.get(&format!("/fhir/CodeSystem/{}", version["id"].as_str().unwrap())).await;
        assert_eq!(read.status, StatusCode::OK, "the id reads the version back");
    }
    let local = &family(&overview, "local")["codeSystems"];
    assert_eq!(local[0]["url"], "http://example.org/cs/sample");
    assert_eq!(local[0]["versions"][0]["concepts"], 6);
    assert_eq!(family(&overview, "fhir")["codeSystems"][0]["url"], "http://terminology.hl7.org/CodeSystem/v3-ActCode");
    assert_eq!(family(&overview, "cpt")["codeSystems"], json!([]));
}

#[actix_web::test]
async fn the_overview_needs_what_a_search_needs_and_marks_restricted_systems() {
    let backend = sqlite();
    let mut config = hs256_config();
    config.auth.read_requires_auth = true;
    config.auth.add_restricted("http://www.ama-assn.org/go/cpt=licence/cpt");
    let app = app_with(&backend, config).await;
    let cpt = json!({"resourceType": "CodeSystem", "url": "http://www.ama-assn.org/go/cpt", "version": "2026", "status": "active",
                     "content": "complete", "concept": [{"code": "99999", "display": "Invented"}]});
    app.terminology.load(vec![model::terminology::CodeSystem::from_json(&cpt).unwrap()], Vec::new()).expect("store");

    let anonymous = app.get("/admin/code-systems").await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "{}", anonymous.body);
    let get_with = |scopes: &str| {
        let authorization = format!("Bearer {}", token("reader", scopes));
        let app = &app;
        async move { app.send("GET", "/admin/code-systems", &[("authorization", authorization.as_str())], None).await }
    };
    let writer_only = get_with("system/CodeSystem.write").await;
    assert_eq!(writer_only.status, StatusCode::FORBIDDEN, "{}", writer_only.body);
    let reader = get_with("system/CodeSystem.read").await;
    assert_eq!(reader.status, StatusCode::OK, "{}", reader.body);
    assert_eq!(family(&reader.json(), "cpt")["codeSystems"][0]["restricted"], true);
    let licensed = get_with("system/CodeSystem.read licence/cpt").await;
    assert_eq!(family(&licensed.json(), "cpt")["codeSystems"][0]["restricted"], false);
    assert_eq!(family(&licensed.json(), "cpt")["codeSystems"][0]["versions"][0]["concepts"], 1);
}
