//! What an attacker or a careless client tries: licensed content through every route, nesting and
//! chains that would exhaust the stack, diamonds that would take exponential time, large batches,
//! hostile archives and names, and parameters out of range. One regression test per defect found.

use crate::support::{app, app_with, field, file, hs256_config, job_id, sqlite, token, Answer, TestApp};
use actix_web::http::StatusCode;
use serde_json::{json, Value};
use std::io::Write;

const CPT: &str = "http://www.ama-assn.org/go/cpt";
const CPT_OID: &str = "urn:oid:2.16.840.1.113883.6.12";
/// Invented codes under the CPT canonical URL (CPT content itself is licensed).
const SECRET_CODE: &str = "99990";
const SECRET_DISPLAY: &str = "Invented licensed visit";

fn parameters(entries: Value) -> String {
    json!({"resourceType": "Parameters", "parameter": entries}).to_string()
}

fn value_set(url: &str, include: Value) -> Value {
    json!({"resourceType": "ValueSet", "url": url, "status": "active", "compose": {"include": [include]}})
}

/// A server that restricts CPT, with CPT, a value set reaching it by OID, a chain of stored value
/// sets reaching it through the implicit URL, and a ConceptMap into it.
async fn licensed_app(backend: &crate::support::Backend) -> TestApp {
    let mut config = hs256_config();
    config.auth.add_restricted(&format!("{CPT}=licence/cpt"));
    let app = app_with(backend, config).await;
    let cpt = json!({"resourceType": "CodeSystem", "id": "cpt", "url": CPT, "version": "2026", "status": "active",
        "content": "complete", "hierarchyMeaning": "is-a",
        "concept": [{"code": "99900", "display": "Invented visits", "concept": [
            {"code": SECRET_CODE, "display": SECRET_DISPLAY}, {"code": "99991", "display": "Invented licensed test"}]}]});
    let sample = json!({"resourceType": "CodeSystem", "id": "open", "url": "http://example.org/cs/open", "status": "active",
        "content": "complete", "concept": [{"code": "visit", "display": "A visit"}]});
    let mut by_oid = value_set("http://example.org/vs/by-oid", json!({"system": CPT_OID}));
    by_oid["id"] = json!("by-oid");
    let mut outer = value_set("http://example.org/vs/outer", json!({"valueSet": ["http://example.org/vs/inner"]}));
    outer["id"] = json!("outer");
    let mut inner = value_set("http://example.org/vs/inner", json!({"valueSet": [format!("{CPT}?fhir_vs")]}));
    inner["id"] = json!("inner");
    let map = json!({"resourceType": "ConceptMap", "id": "to-cpt", "url": "http://example.org/cm/to-cpt", "status": "active",
        "group": [{"source": "http://example.org/cs/open", "target": CPT,
            "element": [{"code": "visit", "target": [{"code": SECRET_CODE, "display": SECRET_DISPLAY, "equivalence": "equivalent"}]}]}]});
    let writer = format!("Bearer {}", token("admin", "system/*.write"));
    for (uri, resource) in [
        ("/fhir/CodeSystem/cpt", &cpt),
        ("/fhir/CodeSystem/open", &sample),
        ("/fhir/ValueSet/by-oid", &by_oid),
        ("/fhir/ValueSet/outer", &outer),
        ("/fhir/ValueSet/inner", &inner),
        ("/fhir/ConceptMap/to-cpt", &map),
    ] {
        let answer = app
            .send("PUT", uri, &[("content-type", "application/fhir+json"), ("authorization", &writer)], Some(&resource.to_string()))
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{uri}: {}", answer.body);
    }
    app
}

async fn send_as(app: &TestApp, authorization: Option<&str>, method: &str, uri: &str, body: Option<&str>) -> Answer {
    let mut headers = vec![("content-type", "application/fhir+json")];
    if let Some(authorization) = authorization {
        headers.push(("authorization", authorization));
    }
    app.send(method, uri, &headers, body).await
}

#[actix_web::test]
async fn licensed_codes_never_leave_through_any_route_without_the_scope() {
    let backend = sqlite();
    let app = licensed_app(&backend).await;
    let implicit = format!("{CPT}?fhir_vs");
    let chain_outer = value_set("http://example.org/vs/tx-outer", json!({"valueSet": ["http://example.org/vs/tx-inner"]}));
    let chain_inner = value_set("http://example.org/vs/tx-inner", json!({"valueSet": [implicit.clone()]}));
    let routes: Vec<(&str, &str, String, Option<String>)> = vec![
        ("implicit value set", "GET", format!("/fhir/ValueSet/$expand?url={implicit}"), None),
        ("implicit is-a value set", "GET", format!("/fhir/ValueSet/$expand?url={CPT}?fhir_vs=isa/99900"), None),
        (
            "validate against the implicit value set, inferring the system",
            "GET",
            format!("/fhir/ValueSet/$validate-code?url={implicit}&code={SECRET_CODE}&inferSystem=true"),
            None,
        ),
        ("lookup by OID", "GET", format!("/fhir/CodeSystem/$lookup?system={CPT_OID}&code={SECRET_CODE}"), None),
        ("subsumes by OID", "GET", format!("/fhir/CodeSystem/$subsumes?system={CPT_OID}&codeA=99900&codeB={SECRET_CODE}"), None),
        ("stored value set including the OID", "GET", "/fhir/ValueSet/$expand?url=http://example.org/vs/by-oid".to_owned(), None),
        ("stored chain into the implicit value set", "GET", "/fhir/ValueSet/outer/$expand".to_owned(), None),
        (
            "inline value set importing the implicit value set",
            "POST",
            "/fhir/ValueSet/$expand".to_owned(),
            Some(parameters(
                json!([{"name": "valueSet", "resource": value_set("http://example.org/vs/inline", json!({"valueSet": [implicit.clone()]}))}]),
            )),
        ),
        (
            "tx-resource chain into the implicit value set",
            "POST",
            "/fhir/ValueSet/$expand".to_owned(),
            Some(parameters(json!([
                {"name": "url", "valueUri": "http://example.org/vs/tx-outer"},
                {"name": "tx-resource", "resource": chain_outer},
                {"name": "tx-resource", "resource": chain_inner}]))),
        ),
        (
            "validate-code with an inline value set by OID",
            "POST",
            "/fhir/ValueSet/$validate-code".to_owned(),
            Some(parameters(json!([
                {"name": "valueSet", "resource": value_set("http://example.org/vs/inline-oid", json!({"system": CPT_OID}))},
                {"name": "coding", "valueCoding": {"system": CPT_OID, "code": SECRET_CODE}}]))),
        ),
        (
            "batch validation",
            "POST",
            "/fhir/ValueSet/$batch-validate-code".to_owned(),
            Some(parameters(json!([
                {"name": "url", "valueUri": "http://example.org/vs/by-oid"},
                {"name": "validation", "resource": {"resourceType": "Parameters", "parameter": [
                    {"name": "coding", "valueCoding": {"system": CPT, "code": SECRET_CODE}}]}}]))),
        ),
        (
            "translate through a map into CPT",
            "GET",
            "/fhir/ConceptMap/$translate?system=http://example.org/cs/open&code=visit".to_owned(),
            None,
        ),
        (
            "translate by the map's url",
            "GET",
            "/fhir/ConceptMap/to-cpt/$translate?system=http://example.org/cs/open&code=visit".to_owned(),
            None,
        ),
    ];
    let unlicensed = format!("Bearer {}", token("bob", "system/*.read"));
    let licensed = format!("Bearer {}", token("carol", "system/*.read licence/cpt"));
    for (route, method, uri, body) in &routes {
        // First with the licence, so that cached expansions exist when the others ask.
        let allowed = send_as(&app, Some(&licensed), method, uri, body.as_deref()).await;
        assert_eq!(allowed.status, StatusCode::OK, "{route}, licensed: {}", allowed.body);
        for (who, authorization, status) in
            [("anonymous", None, StatusCode::UNAUTHORIZED), ("unlicensed", Some(unlicensed.as_str()), StatusCode::FORBIDDEN)]
        {
            let refused = send_as(&app, authorization, method, uri, body.as_deref()).await;
            assert_eq!(refused.status, status, "{route}, {who}: {}", refused.body);
            assert!(refused.issue().1.contains("licence/cpt"), "{route}, {who}: {}", refused.body);
            assert!(
                !refused.body.contains(SECRET_CODE) && !refused.body.contains(SECRET_DISPLAY),
                "{route}, {who} leaked: {}",
                refused.body
            );
        }
    }
    // The open system stays open, even to callers without a token.
    let open = app.get("/fhir/CodeSystem/$lookup?system=http://example.org/cs/open&code=visit").await;
    assert_eq!(open.status, StatusCode::OK, "{}", open.body);
}

/// `depth` elements nested inside a ValueSet, as XML.
fn nested_xml(depth: usize) -> String {
    format!("<ValueSet xmlns=\"http://hl7.org/fhir\">{}{}</ValueSet>", "<extension>".repeat(depth), "</extension>".repeat(depth))
}

#[actix_web::test]
async fn deeply_nested_bodies_are_refused_not_a_crash() {
    let backend = sqlite();
    let app = app(&backend).await;
    let xml = nested_xml(2_000);
    let answer = app.send("POST", "/fhir/ValueSet/$expand", &[("content-type", "application/fhir+xml")], Some(&xml)).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert!(answer.body.contains("deeper than 64"), "{}", answer.body);
    let json_body = format!("{}{}", "{\"a\":[".repeat(2_000), "]}".repeat(2_000));
    let answer = app.send("POST", "/fhir/ValueSet/$expand", &[("content-type", "application/fhir+json")], Some(&json_body)).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert!(answer.body.contains("recursion limit"), "{}", answer.body);
    assert_eq!(app.get("/health/live").await.status, StatusCode::OK);
}

/// Value set `i` of a family: `{base}/{i}`.
fn member_url(base: &str, idx: usize) -> String {
    format!("{base}/{idx}")
}

const LEAF: &str = "http://example.org/cs/leaf";

fn leaf_code_system() -> Value {
    json!({"resourceType": "CodeSystem", "id": "leaf", "url": LEAF, "status": "active", "content": "complete",
        "concept": [{"code": "a", "display": "A"}, {"code": "b", "display": "B"}]})
}

/// A chain: value set `i` imports value set `i + 1`; the last one includes the leaf system.
fn chain(base: &str, n: usize) -> Vec<Value> {
    (0..n)
        .map(|idx| {
            let include = if idx + 1 == n { json!({"system": LEAF}) } else { json!({"valueSet": [member_url(base, idx + 1)]}) };
            let mut resource = value_set(&member_url(base, idx), include);
            resource["id"] = json!(format!("chain-{idx}"));
            resource
        })
        .collect()
}

#[actix_web::test]
async fn long_import_chains_answer_too_costly_not_a_crash() {
    let backend = sqlite();
    let app = app(&backend).await;
    // Sent inline: 1,000 value sets, each importing the next.
    let base = "http://example.org/vs/chain";
    let mut entries =
        vec![json!({"name": "url", "valueUri": member_url(base, 0)}), json!({"name": "tx-resource", "resource": leaf_code_system()})];
    entries.extend(chain(base, 1_000).into_iter().map(|resource| json!({"name": "tx-resource", "resource": resource})));
    let body = parameters(Value::Array(entries.clone()));
    for operation in ["$expand", "$validate-code"] {
        let mut body: Value = serde_json::from_str(&body).unwrap();
        if operation == "$validate-code" {
            body["parameter"].as_array_mut().unwrap().push(json!({"name": "coding", "valueCoding": {"system": LEAF, "code": "a"}}));
        }
        let answer = app.post_json(&format!("/fhir/ValueSet/{operation}"), &body).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{operation}: {}", answer.body);
        let (code, text) = answer.issue();
        assert_eq!(code, "too-costly", "{operation}: {text}");
        assert!(text.contains("more than 64 levels deep"), "{operation}: {text}");
    }
    // Stored: a chain past the limit is refused on every anonymous GET, and the server stays up.
    assert_eq!(app.put_json("/fhir/CodeSystem/leaf", &leaf_code_system()).await.status, StatusCode::CREATED);
    for resource in chain(base, 80) {
        let uri = format!("/fhir/ValueSet/{}", resource["id"].as_str().unwrap());
        assert_eq!(app.put_json(&uri, &resource).await.status, StatusCode::CREATED);
    }
    for _ in 0..3 {
        let answer = app.get(&format!("/fhir/ValueSet/$expand?url={}", member_url(base, 0))).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", answer.body);
    }
    // A chain within the limit expands.
    let answer = app.get(&format!("/fhir/ValueSet/$expand?url={}", member_url(base, 30))).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.json()["expansion"]["total"], 2, "{}", answer.body);
}

#[actix_web::test]
async fn a_diamond_of_imports_is_worked_out_once_per_value_set() {
    let backend = sqlite();
    let app = app(&backend).await;
    // Value set i imports i + 1 and i + 2 (two includes): 2^40 paths, 40 value sets.
    let base = "http://example.org/vs/diamond";
    let levels = 40;
    let mut entries =
        vec![json!({"name": "url", "valueUri": member_url(base, 0)}), json!({"name": "tx-resource", "resource": leaf_code_system()})];
    for idx in 0..levels {
        let includes: Vec<Value> = match levels - idx {
            1 | 2 => vec![json!({"system": LEAF})],
            _ => vec![json!({"valueSet": [member_url(base, idx + 1)]}), json!({"valueSet": [member_url(base, idx + 2)]})],
        };
        let resource =
            json!({"resourceType": "ValueSet", "url": member_url(base, idx), "status": "active", "compose": {"include": includes}});
        entries.push(json!({"name": "tx-resource", "resource": resource}));
    }
    let expanded = app.post_json("/fhir/ValueSet/$expand", &json!({"resourceType": "Parameters", "parameter": entries.clone()})).await;
    assert_eq!(expanded.status, StatusCode::OK, "{}", expanded.body);
    assert_eq!(expanded.json()["expansion"]["total"], 2, "{}", expanded.body);
    let mut validate = entries.clone();
    validate.push(json!({"name": "coding", "valueCoding": {"system": LEAF, "code": "zz"}}));
    let validated = app.post_json("/fhir/ValueSet/$validate-code", &json!({"resourceType": "Parameters", "parameter": validate})).await;
    assert_eq!(validated.status, StatusCode::OK, "{}", validated.body);
    assert!(validated.body.contains("\"valueBoolean\":false"), "{}", validated.body);
}

#[actix_web::test]
async fn a_diamond_past_the_time_budget_answers_too_costly() {
    let backend = sqlite();
    let config = server::ServerConfig {
        auth: server::AuthConfig::anonymous_writes(),
        request_time_budget: std::time::Duration::ZERO,
        ..server::ServerConfig::default()
    };
    let app = app_with(&backend, config).await;
    let base = "http://example.org/vs/budget";
    let mut entries =
        vec![json!({"name": "url", "valueUri": member_url(base, 0)}), json!({"name": "tx-resource", "resource": leaf_code_system()})];
    entries.extend(chain(base, 3).into_iter().map(|resource| json!({"name": "tx-resource", "resource": resource})));
    let answer = app.post_json("/fhir/ValueSet/$expand", &json!({"resourceType": "Parameters", "parameter": entries})).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", answer.body);
    assert!(answer.issue().1.contains("time budget"), "{}", answer.body);
}

#[actix_web::test]
async fn a_large_batch_validates_every_entry() {
    let backend = sqlite();
    let app = app(&backend).await;
    assert_eq!(app.put_json("/fhir/CodeSystem/leaf", &leaf_code_system()).await.status, StatusCode::CREATED);
    let mut entries = vec![json!({"name": "url", "valueUri": format!("{LEAF}?fhir_vs")})];
    let n = 5_000;
    for idx in 0..n {
        let code = if idx % 2 == 0 { "a" } else { "nope" };
        entries.push(json!({"name": "validation", "resource": {"resourceType": "Parameters", "parameter": [
            {"name": "coding", "valueCoding": {"system": LEAF, "code": code}}]}}));
    }
    let answer = app.post_json("/fhir/ValueSet/$batch-validate-code", &json!({"resourceType": "Parameters", "parameter": entries})).await;
    assert_eq!(answer.status, StatusCode::OK);
    let answers = answer.json()["parameter"].as_array().cloned().unwrap_or_default();
    assert_eq!(answers.len(), n);
    let result_of = |entry: &Value| {
        entry["resource"]["parameter"]
            .as_array()
            .and_then(|list| list.iter().find(|p| p["name"] == "result"))
            .map(|p| p["valueBoolean"].clone())
    };
    assert_eq!(result_of(&answers[0]), Some(json!(true)), "{}", answers[0]);
    assert_eq!(result_of(&answers[1]), Some(json!(false)), "{}", answers[1]);
    assert_eq!(result_of(&answers[n - 2]), Some(json!(true)));
}

#[actix_web::test]
async fn paging_and_summary_parameters_out_of_range_are_400() {
    let backend = sqlite();
    let app = app(&backend).await;
    assert_eq!(app.put_json("/fhir/CodeSystem/leaf", &leaf_code_system()).await.status, StatusCode::CREATED);
    for query in ["count=-1", "offset=-5", "count=abc", "count=1.5", "offset=99999999999999999999999"] {
        let answer = app.get(&format!("/fhir/ValueSet/$expand?url={LEAF}?fhir_vs&{query}")).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{query}: {}", answer.body);
        let name = query.split('=').next().unwrap();
        assert!(answer.issue().1.contains(name), "{query}: {}", answer.body);
    }
    let answer = app.get(&format!("/fhir/ValueSet/$expand?url={LEAF}?fhir_vs&count=1&offset=1")).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.json()["expansion"]["contains"][0]["code"], "b");

    let answer = app.get("/fhir/CodeSystem?_summary=maybe").await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert!(answer.issue().1.contains("_summary"), "{}", answer.body);
    let counted = app.get("/fhir/CodeSystem?_summary=count").await.json();
    assert_eq!(counted["total"], 1, "{counted}");
    assert!(counted.get("entry").is_none_or(|entry| entry.as_array().is_some_and(Vec::is_empty)), "{counted}");
    let summarised = app.get("/fhir/CodeSystem?_summary=true").await.json();
    let resource = &summarised["entry"][0]["resource"];
    assert!(resource.get("concept").is_none() && resource.get("text").is_none(), "{resource}");
    assert_eq!(resource["url"], LEAF);
}

fn writer() -> String {
    token("uploader", "system/CodeSystem.write system/ValueSet.write")
}

/// A gzipped tarball of the given members; a member name is written raw into the header, so
/// that hostile names (`../x`, `/x`) can be made.
fn tgz_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut tarball = Vec::new();
    for (name, content) in members {
        let mut header = [0u8; 512];
        header[..name.len()].copy_from_slice(name.as_bytes());
        header[100..108].copy_from_slice(b"0000644\0");
        header[108..116].copy_from_slice(b"0000000\0");
        header[116..124].copy_from_slice(b"0000000\0");
        header[124..136].copy_from_slice(format!("{:011o}\0", content.len()).as_bytes());
        header[136..148].copy_from_slice(b"00000000000\0");
        header[156] = b'0';
        header[257..263].copy_from_slice(b"ustar\0");
        header[263..265].copy_from_slice(b"00");
        header[148..156].copy_from_slice(b"        ");
        let checksum: u32 = header.iter().map(|byte| *byte as u32).sum();
        header[148..156].copy_from_slice(format!("{checksum:06o}\0 ").as_bytes());
        tarball.extend_from_slice(&header);
        tarball.extend_from_slice(content);
        tarball.resize(tarball.len().div_ceil(512) * 512, 0);
    }
    tarball.resize(tarball.len() + 1024, 0);
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&tarball).expect("gzip");
    encoder.finish().expect("gzip")
}

#[actix_web::test]
async fn tarballs_and_gzip_files_are_guarded_like_zips() {
    let backend = sqlite();
    let mut config = hs256_config();
    config.upload.max_expanded_bytes = 64 * 1024 * 1024;
    let app = app_with(&backend, config).await;
    let release = serde_json::to_vec(&leaf_code_system()).unwrap();
    #[track_caller]
    fn refused(answer: &Answer, needle: &str) {
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", answer.body);
        assert!(answer.issue().1.contains(needle), "expected {needle:?} in {}", answer.body);
    }
    let escape = tgz_of(&[("package/../../evil.json", &release)]);
    refused(&app.upload(Some(&writer()), &[field("format", "fhir"), file("evil.tgz", escape)]).await, "points outside the archive");
    let absolute = tgz_of(&[("/tmp/evil.json", &release)]);
    refused(&app.upload(Some(&writer()), &[field("format", "fhir"), file("evil.tgz", absolute)]).await, "points outside the archive");
    // One member of 100 MB of zeros: about 100 KB gzipped, far past the ratio, refused while streaming.
    let zeros = vec![0u8; 100 * 1024 * 1024];
    let bomb = tgz_of(&[("package/zeros.json", &zeros)]);
    assert!(bomb.len() < 1024 * 1024, "the bomb is {} bytes", bomb.len());
    refused(&app.upload(Some(&writer()), &[field("format", "fhir"), file("bomb.tgz", bomb)]).await, "past the limit");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&zeros[..20 * 1024 * 1024]).unwrap();
    refused(&app.upload(Some(&writer()), &[file("zeros.json.gz", gz.finish().unwrap())]).await, "compression bomb");
    // A well-formed package goes through.
    let package =
        tgz_of(&[("package/package.json", br#"{"name": "example.leaf", "version": "1.0.0"}"#), ("package/CodeSystem-leaf.json", &release)]);
    let answer = app.upload(Some(&writer()), &[field("format", "fhir"), file("example.leaf-1.0.0.tgz", package)]).await;
    let job = app.wait_for_job(&job_id(&answer)).await;
    assert_eq!(job.state, "succeeded", "{:?}", job.error);
}

#[actix_web::test]
async fn an_upload_with_a_very_long_file_name_is_staged() {
    let backend = sqlite();
    let app = app_with(&backend, hs256_config()).await;
    let release = serde_json::to_vec(&leaf_code_system()).unwrap();
    let long_name = format!("{}.json", "a-very-long-release-name-".repeat(20));
    assert!(long_name.len() > 255);
    let answer = app.upload(Some(&writer()), &[field("format", "fhir"), file(&long_name, release)]).await;
    let job = app.wait_for_job(&job_id(&answer)).await;
    assert_eq!(job.state, "succeeded", "{:?}", job.error);
    assert_eq!(app.get(&format!("/fhir/CodeSystem/$lookup?system={LEAF}&code=a")).await.status, StatusCode::OK);
}

#[actix_web::test]
async fn a_job_is_finished_in_the_transaction_that_stores_its_release() {
    let backend = sqlite();
    let app = app(&backend).await;
    let job = store::NewJob {
        id: "0123456789abcdef0123456789abcdef".into(),
        format: "fhir".into(),
        version: None,
        dry_run: false,
        make_current: true,
        sub: None,
        files: json!([]),
        bytes_total: 0,
    };
    app.terminology.create_job(&job).expect("create the job");
    let code_system = model::terminology::CodeSystem::from_json(&leaf_code_system()).expect("a code system");
    app.terminology
        .load_as_job(vec![code_system], Vec::new(), true, &job.id, |summary| store::JobUpdate {
            phase: Some("stored".into()),
            counts: Some(json!({"concepts": summary.n_concepts})),
            ..store::JobUpdate::default()
        })
        .expect("store the release");
    // The process dies here, before the job says it succeeded; the next start settles unfinished jobs.
    assert_eq!(app.terminology.fail_interrupted_jobs().expect("fail interrupted jobs"), 0);
    let stored = app.terminology.job(&job.id).unwrap().expect("the job");
    assert_eq!((stored.state.as_str(), stored.phase.as_str()), ("succeeded", "done"));
    assert_eq!(stored.counts.as_ref().map(|counts| counts["concepts"].clone()), Some(json!(2)), "{:?}", stored.counts);
}
