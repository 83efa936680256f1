//! The promises of FHIR R4 REST beyond plain CRUD: version-aware updates and deletes (`If-Match`,
//! `ETag`), conditional create (`If-None-Exist`), one resource per url and version, vread,
//! `_elements` and `_summary` on read, and `Accept` with qualities.

use crate::support::{app, backend_tests, sample_code_system, Answer, Backend, TestApp};
use actix_web::http::StatusCode;
use serde_json::{json, Value};

fn with_header<'a>(name: &'a str, value: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![("content-type", "application/fhir+json"), (name, value)]
}

async fn put_with(app: &TestApp, uri: &str, resource: &Value, name: &str, value: &str) -> Answer {
    app.send("PUT", uri, &with_header(name, value), Some(&resource.to_string())).await
}

async fn post_with(app: &TestApp, uri: &str, resource: &Value, name: &str, value: &str) -> Answer {
    app.send("POST", uri, &with_header(name, value), Some(&resource.to_string())).await
}

async fn total(app: &TestApp, search: &str) -> u64 {
    let bundle = app.get(search).await.json();
    bundle["total"].as_u64().unwrap_or_else(|| panic!("no total in {bundle}"))
}

async fn if_match_guards_update_and_delete(backend: &Backend) {
    let app = app(backend).await;
    let code_system = sample_code_system();
    let created = app.put_json("/fhir/CodeSystem/sample", &code_system).await;
    assert_eq!(created.etag.as_deref(), Some("W/\"1\""), "{}", created.body);
    assert_eq!(app.get("/fhir/CodeSystem/sample").await.etag.as_deref(), Some("W/\"1\""));

    let mut changed = code_system.clone();
    changed["title"] = json!("Changed under a stale version");
    let stale = put_with(&app, "/fhir/CodeSystem/sample", &changed, "if-match", "W/\"2\"").await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED, "{}", stale.body);
    let (code, text) = stale.issue();
    assert_eq!(code, "conflict");
    assert!(text.contains("is at version 1, not 2"), "{text}");
    let unchanged = app.get("/fhir/CodeSystem/sample").await;
    assert_eq!(unchanged.json()["title"], "Sample code system");
    assert_eq!(unchanged.etag.as_deref(), Some("W/\"1\""));

    let malformed = put_with(&app, "/fhir/CodeSystem/sample", &changed, "if-match", "1").await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST, "{}", malformed.body);
    assert!(malformed.issue().1.contains("If-Match"), "{}", malformed.body);
    assert_eq!(app.get("/fhir/CodeSystem/sample").await.json()["title"], "Sample code system");

    changed["title"] = json!("Changed under the current version");
    let current = put_with(&app, "/fhir/CodeSystem/sample", &changed, "if-match", "W/\"1\"").await;
    assert_eq!(current.status, StatusCode::OK, "{}", current.body);
    assert_eq!(current.etag.as_deref(), Some("W/\"2\""));
    assert_eq!(app.get("/fhir/CodeSystem/sample").await.json()["title"], "Changed under the current version");

    let absent = put_with(
        &app,
        "/fhir/CodeSystem/absent",
        &json!({"resourceType": "CodeSystem", "status": "active", "content": "complete"}),
        "if-match",
        "W/\"1\"",
    )
    .await;
    assert_eq!(absent.status, StatusCode::PRECONDITION_FAILED, "{}", absent.body);
    assert_eq!(app.get("/fhir/CodeSystem/absent").await.status, StatusCode::NOT_FOUND);

    let stale_delete = app.send("DELETE", "/fhir/CodeSystem/sample", &[("if-match", "W/\"1\"")], None).await;
    assert_eq!(stale_delete.status, StatusCode::PRECONDITION_FAILED, "{}", stale_delete.body);
    assert_eq!(app.get("/fhir/CodeSystem/sample").await.status, StatusCode::OK);
    // The registry still serves what the database holds.
    let lookup = app.get("/fhir/CodeSystem/$lookup?system=http://example.org/cs/sample&code=red").await;
    assert_eq!(lookup.status, StatusCode::OK, "{}", lookup.body);
    let malformed_delete = app.send("DELETE", "/fhir/CodeSystem/sample", &[("if-match", "W/\"two\"")], None).await;
    assert_eq!(malformed_delete.status, StatusCode::BAD_REQUEST, "{}", malformed_delete.body);
    let deleted = app.send("DELETE", "/fhir/CodeSystem/sample", &[("if-match", "W/\"2\"")], None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    assert_eq!(app.get("/fhir/CodeSystem/sample").await.status, StatusCode::NOT_FOUND);
}

fn value_set(version: &str) -> Value {
    json!({"resourceType": "ValueSet", "url": "http://example.org/vs/conditional", "version": version, "name": "Conditional",
        "status": "active", "compose": {"include": [{"system": "http://example.org/cs/sample"}]}})
}

async fn conditional_create(backend: &Backend) {
    let app = app(backend).await;
    let all = "/fhir/ValueSet?url=http://example.org/vs/conditional";
    let condition = "url=http://example.org/vs/conditional&version=1";
    let first = post_with(&app, "/fhir/ValueSet", &value_set("1"), "if-none-exist", condition).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let id = first.json()["id"].as_str().expect("id").to_owned();

    let again = post_with(&app, "/fhir/ValueSet", &value_set("1"), "if-none-exist", condition).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.json()["id"], id.as_str());
    assert_eq!(again.etag.as_deref(), Some("W/\"1\""));
    assert_eq!(total(&app, all).await, 1);

    let relative = post_with(&app, "/fhir/ValueSet", &value_set("1"), "if-none-exist", &format!("ValueSet?{condition}")).await;
    assert_eq!(relative.status, StatusCode::OK, "{}", relative.body);

    let second =
        post_with(&app, "/fhir/ValueSet", &value_set("2"), "if-none-exist", "url=http://example.org/vs/conditional&version=2").await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.body);
    assert_eq!(total(&app, all).await, 2);

    let ambiguous = post_with(&app, "/fhir/ValueSet", &value_set("3"), "if-none-exist", "url=http://example.org/vs/conditional").await;
    assert_eq!(ambiguous.status, StatusCode::PRECONDITION_FAILED, "{}", ambiguous.body);
    assert!(ambiguous.issue().1.contains("matches 2 ValueSet resources"), "{}", ambiguous.body);

    for malformed in ["", "url=", "colour=red", "url=http://example.org/vs/conditional&_count=1"] {
        let answer = post_with(&app, "/fhir/ValueSet", &value_set("4"), "if-none-exist", malformed).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "'{malformed}': {}", answer.body);
        assert!(answer.issue().1.contains("If-None-Exist"), "{}", answer.body);
    }
    assert_eq!(total(&app, all).await, 2, "refused conditional creates wrote nothing");
}

async fn url_and_version_are_unique(backend: &Backend) {
    let app = app(backend).await;
    let mut code_system = sample_code_system();
    assert_eq!(app.put_json("/fhir/CodeSystem/sample", &code_system).await.status, StatusCode::CREATED);

    code_system["id"] = json!("copy");
    let clash = app.put_json("/fhir/CodeSystem/copy", &code_system).await;
    assert_eq!(clash.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", clash.body);
    let (code, text) = clash.issue();
    assert_eq!(code, "duplicate");
    assert!(text.contains("CodeSystem/sample already has url 'http://example.org/cs/sample' and version '1.0.0'"), "{text}");
    assert_eq!(app.get("/fhir/CodeSystem/copy").await.status, StatusCode::NOT_FOUND);
    code_system.as_object_mut().expect("object").remove("id");
    let posted = app.post_json("/fhir/CodeSystem", &code_system).await;
    assert_eq!(posted.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", posted.body);
    assert_eq!(total(&app, "/fhir/CodeSystem?url=http://example.org/cs/sample").await, 1);

    // The resource that holds the url and version may update itself.
    assert_eq!(app.put_json("/fhir/CodeSystem/sample", &sample_code_system()).await.status, StatusCode::OK);
    code_system["version"] = json!("2.0.0");
    assert_eq!(app.put_json("/fhir/CodeSystem/copy", &code_system).await.status, StatusCode::CREATED);
    code_system["version"] = json!("1.0.0");
    let moved_onto = app.put_json("/fhir/CodeSystem/copy", &code_system).await;
    assert_eq!(moved_onto.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", moved_onto.body);
    assert_eq!(app.get("/fhir/CodeSystem/copy").await.json()["version"], "2.0.0");

    // Without a version, the url alone is the key.
    let unversioned = json!({"resourceType": "ValueSet", "url": "http://example.org/vs/unversioned", "status": "draft"});
    assert_eq!(app.put_json("/fhir/ValueSet/one", &unversioned).await.status, StatusCode::CREATED);
    assert_eq!(app.put_json("/fhir/ValueSet/two", &unversioned).await.status, StatusCode::UNPROCESSABLE_ENTITY);

    // ConceptMaps may share a url and version: HL7's tx-tests store two such (see
    // `UNIQUE_CANONICAL_TYPES` in `crates/store/src/repo.rs`).
    let concept_map = json!({"resourceType": "ConceptMap", "url": "http://example.org/cm/one", "version": "1", "status": "draft"});
    assert_eq!(app.put_json("/fhir/ConceptMap/first", &concept_map).await.status, StatusCode::CREATED);
    assert_eq!(app.put_json("/fhir/ConceptMap/second", &concept_map).await.status, StatusCode::CREATED);
    // The same url and version in another resource type is another resource.
    let same_url_value_set =
        json!({"resourceType": "ValueSet", "url": "http://example.org/cs/sample", "version": "1.0.0", "status": "draft"});
    assert_eq!(app.put_json("/fhir/ValueSet/cs-sample", &same_url_value_set).await.status, StatusCode::CREATED);
}

async fn vread_answers_the_current_version_only(backend: &Backend) {
    let app = app(backend).await;
    let created = app.put_json("/fhir/CodeSystem/sample", &sample_code_system()).await;
    let location = created.location.expect("Location");
    let path = &location[location.find("/fhir/").expect("base")..];
    assert_eq!(path, "/fhir/CodeSystem/sample/_history/1");
    let first = app.get(path).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.etag.as_deref(), Some("W/\"1\""));
    assert_eq!(first.json()["concept"][0]["code"], "disorder");

    let updated = app.put_json("/fhir/CodeSystem/sample", &sample_code_system()).await;
    assert!(updated.location.as_deref().unwrap_or_default().ends_with("/fhir/CodeSystem/sample/_history/2"));
    let gone = app.get(path).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND, "{}", gone.body);
    let (code, text) = gone.issue();
    assert_eq!(code, "not-found");
    assert!(text.contains("only the current version, 2, is kept"), "{text}");
    assert_eq!(app.get("/fhir/CodeSystem/sample/_history/2").await.status, StatusCode::OK);
    assert_eq!(app.get("/fhir/CodeSystem/nothing/_history/1").await.status, StatusCode::NOT_FOUND);
    let summarised = app.get("/fhir/CodeSystem/sample/_history/2?_elements=url").await.json();
    assert!(summarised.get("concept").is_none(), "{summarised}");

    let capability = app.get("/fhir/metadata").await.json();
    let code_system = capability["rest"][0]["resource"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|resource| resource["type"] == "CodeSystem")
        .cloned()
        .expect("CodeSystem");
    let interactions: Vec<&str> = code_system["interaction"]
        .as_array()
        .expect("interactions")
        .iter()
        .filter_map(|interaction| interaction["code"].as_str())
        .collect();
    assert!(interactions.contains(&"vread"), "{interactions:?}");
    assert_eq!(code_system["readHistory"], false);
    assert_eq!(code_system["conditionalCreate"], true);
}

fn is_subsetted(resource: &Value) -> bool {
    resource["meta"]["tag"].as_array().is_some_and(|tags| tags.iter().any(|tag| tag["code"] == "SUBSETTED"))
}

async fn elements_and_summary_on_read_and_search(backend: &Backend) {
    let app = app(backend).await;
    app.put_json("/fhir/CodeSystem/sample", &sample_code_system()).await;

    let read = app.get("/fhir/CodeSystem/sample?_elements=url,version").await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    let resource = read.json();
    let keys: Vec<&str> = resource.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(keys, ["resourceType", "id", "url", "version", "status", "content", "meta"], "{resource}");
    assert!(is_subsetted(&resource) && resource["meta"]["versionId"] == "1", "{resource}");

    let with_concepts = app.get("/fhir/CodeSystem/sample?_elements=concept").await.json();
    assert_eq!(with_concepts["concept"][0]["concept"][0]["code"], "infection");
    assert!(with_concepts.get("url").is_none());

    let summary = app.get("/fhir/CodeSystem/sample?_summary=true").await.json();
    assert!(summary.get("concept").is_none() && summary["title"] == "Sample code system" && is_subsetted(&summary), "{summary}");
    let data = app.get("/fhir/CodeSystem/sample?_summary=data").await.json();
    assert_eq!(data["concept"][0]["code"], "disorder");
    assert_eq!(app.get("/fhir/CodeSystem/sample?_summary=count").await.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.get("/fhir/CodeSystem/sample?_summary=true&_elements=url").await.status, StatusCode::BAD_REQUEST);
    let full = app.get("/fhir/CodeSystem/sample").await.json();
    assert!(full.get("concept").is_some() && !is_subsetted(&full), "{full}");

    let bundle = app.get("/fhir/CodeSystem?url=http://example.org/cs/sample&_elements=name").await.json();
    let entry = &bundle["entry"][0]["resource"];
    assert_eq!(entry["name"], "Sample");
    assert!(entry.get("concept").is_none() && entry.get("title").is_none() && is_subsetted(entry), "{entry}");
    assert_eq!(app.get("/fhir/CodeSystem?_elements=compose.include").await.status, StatusCode::BAD_REQUEST);
}

async fn accept_qualities_choose_the_format(backend: &Backend) {
    let app = app(backend).await;
    app.put_json("/fhir/CodeSystem/sample", &sample_code_system()).await;
    let xml =
        app.send("GET", "/fhir/CodeSystem/sample", &[("accept", "application/fhir+json;q=0.4, application/fhir+xml;q=0.9")], None).await;
    assert!(xml.content_type.starts_with("application/fhir+xml"), "{}", xml.content_type);
    let json = app.send("GET", "/fhir/CodeSystem/sample", &[("accept", "application/fhir+xml;q=0.1, */*;q=0.5")], None).await;
    assert!(json.content_type.starts_with("application/fhir+json"), "{}", json.content_type);
    let refused = app.send("GET", "/fhir/CodeSystem/sample", &[("accept", "application/fhir+json;q=0, text/plain")], None).await;
    assert_eq!(refused.status, StatusCode::NOT_ACCEPTABLE, "{}", refused.body);
}

backend_tests! {
    if_match => if_match_guards_update_and_delete;
    if_none_exist => conditional_create;
    url_version_unique => url_and_version_are_unique;
    vread => vread_answers_the_current_version_only;
    elements_and_summary => elements_and_summary_on_read_and_search;
    accept_quality => accept_qualities_choose_the_format;
}
