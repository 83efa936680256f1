//! The terminology operations, through HTTP, on a small code system with a multi-parent hierarchy.

use crate::support::{app, sample_code_system, sqlite, TestApp};
use actix_web::http::StatusCode;
use serde_json::{json, Value};

fn parameter<'a>(parameters: &'a Value, name: &str) -> Option<&'a Value> {
    parameters["parameter"].as_array()?.iter().find(|parameter| parameter["name"] == name)
}

fn codes(expansion: &Value) -> Vec<String> {
    fn walk(list: &Value, out: &mut Vec<String>) {
        for entry in list.as_array().into_iter().flatten() {
            out.push(entry["code"].as_str().unwrap_or_default().to_owned());
            walk(&entry["contains"], out);
        }
    }
    let mut out = Vec::new();
    walk(&expansion["expansion"]["contains"], &mut out);
    out
}

async fn seeded() -> (crate::support::Backend, TestApp) {
    let backend = sqlite();
    let app = app(&backend).await;
    assert_eq!(app.put_json("/fhir/CodeSystem/sample", &sample_code_system()).await.status, StatusCode::CREATED);
    (backend, app)
}

fn filter_value_set(property: &str, op: &str, value: &str) -> Value {
    json!({"resourceType": "ValueSet", "url": "http://example.org/vs/filtered", "status": "active",
        "compose": {"include": [{"system": "http://example.org/cs/sample", "filter": [{"property": property, "op": op, "value": value}]}]}})
}

async fn expand_inline(app: &TestApp, value_set: Value) -> Value {
    let answer = app
        .post_json(
            "/fhir/ValueSet/$expand",
            &json!({"resourceType": "Parameters", "parameter": [
        {"name": "valueSet", "resource": value_set}, {"name": "excludeNested", "valueBoolean": true}]}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.json()
}

#[actix_web::test]
async fn every_filter_operator() {
    let (_backend, app) = seeded().await;
    let cases: &[(&str, &str, &str, &[&str])] = &[
        ("concept", "is-a", "infection", &["infection", "pneumonia"]),
        ("concept", "is-a", "lung", &["pneumonia", "lung"]),
        ("concept", "descendent-of", "disorder", &["infection", "pneumonia", "lung"]),
        ("concept", "is-not-a", "disorder", &["old", "red"]),
        ("concept", "generalizes", "pneumonia", &["disorder", "infection", "pneumonia", "lung"]),
        ("concept", "child-of", "disorder", &["infection", "lung"]),
        ("concept", "descendent-leaf", "disorder", &["pneumonia"]),
        ("concept", "in", "red,old", &["old", "red"]),
        ("concept", "not-in", "red,old,disorder", &["infection", "pneumonia", "lung"]),
        ("code", "regex", "[a-l].*", &["disorder", "infection", "lung"]),
        ("colour", "=", "red", &["red"]),
        ("colour", "exists", "true", &["red"]),
        ("status", "=", "retired", &["old"]),
        ("display", "regex", "Pn.*", &["pneumonia"]),
    ];
    for (property, op, value, expected) in cases {
        let expansion = expand_inline(&app, filter_value_set(property, op, value)).await;
        assert_eq!(codes(&expansion), *expected, "{property} {op} {value}");
        assert_eq!(expansion["expansion"]["total"], expected.len(), "{property} {op} {value}");
    }
    let broken = app
        .post_json(
            "/fhir/ValueSet/$expand",
            &json!({"resourceType": "Parameters", "parameter": [
        {"name": "valueSet", "resource": filter_value_set("nonsense", "=", "x")}]}),
        )
        .await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST, "{}", broken.body);
}

#[actix_web::test]
async fn expand_pages_filters_and_nests() {
    let (_backend, app) = seeded().await;
    app.put_json("/fhir/ValueSet/all", &json!({"resourceType": "ValueSet", "id": "all", "url": "http://example.org/vs/all", "version": "1", "status": "active",
        "compose": {"include": [{"system": "http://example.org/cs/sample"}], "exclude": [{"system": "http://example.org/cs/sample", "concept": [{"code": "old"}]}]}})).await;
    // An exclude can remove the parent that would hold other members, so the answer is flat.
    let flat = app.get("/fhir/ValueSet/$expand?url=http://example.org/vs/all").await.json();
    assert_eq!(flat["expansion"]["total"], 5);
    assert_eq!(flat["expansion"]["contains"].as_array().map(Vec::len), Some(5));
    let whole = json!({"resourceType": "ValueSet", "url": "http://example.org/vs/whole", "status": "active",
        "compose": {"include": [{"system": "http://example.org/cs/sample"}]}});
    let nested = app
        .post_json("/fhir/ValueSet/$expand", &json!({"resourceType": "Parameters", "parameter": [{"name": "valueSet", "resource": whole}]}))
        .await
        .json();
    assert_eq!(nested["expansion"]["total"], 6);
    assert_eq!(nested["expansion"]["contains"][0]["code"], "disorder");
    assert_eq!(nested["expansion"]["contains"][0]["contains"][0]["code"], "infection");
    let used = nested["expansion"]["parameter"]
        .as_array()
        .expect("parameters")
        .iter()
        .find(|parameter| parameter["name"] == "used-codesystem")
        .expect("used-codesystem")
        .clone();
    assert_eq!(used["valueUri"], "http://example.org/cs/sample|1.0.0");

    let page = app.get("/fhir/ValueSet/all/$expand?offset=2&count=2").await.json();
    assert_eq!(page["expansion"]["total"], 5);
    assert_eq!(page["expansion"]["offset"], 2);
    assert_eq!(codes(&page), vec!["pneumonia", "lung"]);

    let filtered = app.get("/fhir/ValueSet/$expand?url=http://example.org/vs/all&filter=cafe").await.json();
    assert_eq!(codes(&filtered), vec!["red"]);
    let german = app.get("/fhir/ValueSet/$expand?url=http://example.org/vs/all&filter=lungenentz").await.json();
    assert_eq!(codes(&german), vec!["pneumonia"]);

    let guarded = app.send("GET", "/fhir/ValueSet/$expand?url=http://example.org/vs/all", &[("x-too-costly-threshold", "3")], None).await;
    assert_eq!(guarded.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(guarded.issue().0, "too-costly");
}

#[actix_web::test]
async fn validate_code_against_code_systems_and_value_sets() {
    let (_backend, app) = seeded().await;
    let good = app.get("/fhir/CodeSystem/$validate-code?url=http://example.org/cs/sample&code=pneumonia&display=Pneumonia").await.json();
    assert_eq!(parameter(&good, "result").expect("result")["valueBoolean"], true);
    let bad_display = app.get("/fhir/CodeSystem/sample/$validate-code?code=pneumonia&display=Flu").await.json();
    assert_eq!(parameter(&bad_display, "result").expect("result")["valueBoolean"], false);
    assert!(parameter(&bad_display, "message").expect("message")["valueString"]
        .as_str()
        .unwrap_or_default()
        .contains("Wrong Display Name 'Flu'"));
    let unknown = app.get("/fhir/CodeSystem/$validate-code?url=http://example.org/cs/sample&code=nope").await.json();
    assert_eq!(parameter(&unknown, "result").expect("result")["valueBoolean"], false);

    let value_set = json!({"resourceType": "ValueSet", "url": "http://example.org/vs/infections", "status": "active",
        "compose": {"include": [{"system": "http://example.org/cs/sample", "filter": [{"property": "concept", "op": "is-a", "value": "infection"}]}]}});
    let in_set = app
        .post_json(
            "/fhir/ValueSet/$validate-code",
            &json!({"resourceType": "Parameters", "parameter": [
        {"name": "url", "valueUri": "http://example.org/vs/infections"}, {"name": "tx-resource", "resource": value_set.clone()},
        {"name": "coding", "valueCoding": {"system": "http://example.org/cs/sample", "code": "pneumonia"}}]}),
        )
        .await
        .json();
    assert_eq!(parameter(&in_set, "result").expect("result")["valueBoolean"], true, "{in_set}");
    let not_in_set = app.post_json("/fhir/ValueSet/$validate-code", &json!({"resourceType": "Parameters", "parameter": [
        {"name": "valueSet", "resource": value_set}, {"name": "codeableConcept", "valueCodeableConcept": {"coding": [{"system": "http://example.org/cs/sample", "code": "lung"}]}}]})).await.json();
    assert_eq!(parameter(&not_in_set, "result").expect("result")["valueBoolean"], false);
    // tx-resource content serves its request only.
    assert_eq!(
        app.get("/fhir/ValueSet/$validate-code?url=http://example.org/vs/infections&system=http://example.org/cs/sample&code=pneumonia")
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let unknown_system = app.get("/fhir/ValueSet/$validate-code?url=http://example.org/vs/none&code=x").await;
    assert_eq!(unknown_system.status, StatusCode::NOT_FOUND);
    app.put_json(
        "/fhir/ValueSet/any",
        &json!({"resourceType": "ValueSet", "id": "any", "url": "http://example.org/vs/any", "status": "active",
        "compose": {"include": [{"system": "http://example.org/cs/missing"}]}}),
    )
    .await;
    let caused =
        app.get("/fhir/ValueSet/$validate-code?url=http://example.org/vs/any&system=http://example.org/cs/missing&code=x").await.json();
    assert_eq!(parameter(&caused, "result").expect("result")["valueBoolean"], false);
    assert_eq!(parameter(&caused, "x-caused-by-unknown-system").expect("caused-by")["valueCanonical"], "http://example.org/cs/missing");
}

#[actix_web::test]
async fn lookup_subsumes_and_translate() {
    let (_backend, app) = seeded().await;
    let lookup = app.get("/fhir/CodeSystem/$lookup?system=http://example.org/cs/sample&code=pneumonia&property=*").await.json();
    assert_eq!(parameter(&lookup, "display").expect("display")["valueString"], "Pneumonia");
    assert_eq!(parameter(&lookup, "definition").expect("definition")["valueString"], "Lung infection");
    let parents: Vec<&str> = lookup["parameter"]
        .as_array()
        .expect("parameters")
        .iter()
        .filter(|parameter| parameter["name"] == "property" && parameter["part"][0]["valueCode"] == "parent")
        .filter_map(|parameter| parameter["part"][1]["valueCode"].as_str())
        .collect();
    assert_eq!(parents, vec!["infection", "lung"]);
    let by_post = app
        .post_json(
            "/fhir/CodeSystem/$lookup",
            &json!({"resourceType": "Parameters", "parameter": [
        {"name": "coding", "valueCoding": {"system": "http://example.org/cs/sample", "code": "red"}}]}),
        )
        .await
        .json();
    assert_eq!(parameter(&by_post, "display").expect("display")["valueString"], "Café red");
    assert_eq!(app.get("/fhir/CodeSystem/$lookup?system=http://example.org/cs/sample&code=nope").await.status, StatusCode::NOT_FOUND);

    for (code_a, code_b, outcome) in [
        ("disorder", "pneumonia", "subsumes"),
        ("pneumonia", "lung", "subsumed-by"),
        ("red", "red", "equivalent"),
        ("red", "lung", "not-subsumed"),
    ] {
        let answer =
            app.get(&format!("/fhir/CodeSystem/$subsumes?system=http://example.org/cs/sample&codeA={code_a}&codeB={code_b}")).await.json();
        assert_eq!(parameter(&answer, "outcome").expect("outcome")["valueCode"], outcome, "{code_a} {code_b}");
    }

    app.put_json(
        "/fhir/ConceptMap/map",
        &json!({"resourceType": "ConceptMap", "id": "map", "url": "http://example.org/cm/map", "status": "active",
        "group": [{"source": "http://example.org/cs/sample", "target": "http://example.org/cs/other",
            "element": [{"code": "pneumonia", "target": [{"code": "J18", "display": "Pneumonia", "equivalence": "equivalent"}]}]}]}),
    )
    .await;
    let forward = app
        .get("/fhir/ConceptMap/$translate?url=http://example.org/cm/map&system=http://example.org/cs/sample&code=pneumonia")
        .await
        .json();
    assert_eq!(parameter(&forward, "result").expect("result")["valueBoolean"], true);
    assert_eq!(parameter(&forward, "match").expect("match")["part"][1]["valueCoding"]["code"], "J18");
    let reverse = app.get("/fhir/ConceptMap/map/$translate?system=http://example.org/cs/other&code=J18&reverse=true").await.json();
    // A reverse translation answers, as tx.fhir.org does, with the concept asked about and the `source` it maps from.
    let reverse_parts = parameter(&reverse, "match").expect("match")["part"].as_array().expect("parts").clone();
    let source = reverse_parts.iter().find(|part| part["name"] == "source").expect("source part");
    assert_eq!(source["valueCoding"]["code"], "pneumonia");
    let r5_names = app.get("/fhir/ConceptMap/$translate?sourceSystem=http://example.org/cs/sample&sourceCode=lung").await.json();
    assert_eq!(parameter(&r5_names, "result").expect("result")["valueBoolean"], false);
}

/// Expansions of stored value sets are cached per snapshot; a write to anything they draw on shows
/// at once.
#[actix_web::test]
async fn cached_expansions_follow_writes() {
    let (_backend, app) = seeded().await;
    app.put_json(
        "/fhir/ValueSet/all",
        &json!({"resourceType": "ValueSet", "id": "all", "url": "http://example.org/vs/all", "status": "active",
        "compose": {"include": [{"system": "http://example.org/cs/sample"}]}}),
    )
    .await;
    let first = app.get("/fhir/ValueSet/$expand?url=http://example.org/vs/all&count=0").await.json();
    assert_eq!(first["expansion"]["total"], 6);
    let again = app.get("/fhir/ValueSet/$expand?url=http://example.org/vs/all&count=0").await.json();
    assert_eq!(again["expansion"]["total"], 6);
    let mut code_system = sample_code_system();
    code_system["concept"].as_array_mut().expect("concepts").push(json!({"code": "new", "display": "New code"}));
    assert_eq!(app.put_json("/fhir/CodeSystem/sample", &code_system).await.status, StatusCode::OK);
    let after = app.get("/fhir/ValueSet/$expand?url=http://example.org/vs/all&count=0").await.json();
    assert_eq!(after["expansion"]["total"], 7, "{after}");
}

/// A write publishes a new snapshot; the expansions and value set memberships it cannot change
/// (those that looked up nothing the write touched) are carried into it, and the others are not.
#[actix_web::test]
async fn cached_expansions_outlive_writes_that_cannot_change_them() {
    let (_backend, app) = seeded().await;
    let other = |display: &str| {
        json!({"resourceType": "CodeSystem", "id": "other", "url": "http://example.org/cs/other", "version": "1", "status": "active",
            "content": "complete", "identifier": [{"system": "urn:ietf:rfc:3986", "value": "urn:oid:1.2.3.4.5"}],
            "concept": [{"code": "x", "display": display}]})
    };
    assert_eq!(app.put_json("/fhir/CodeSystem/other", &other("Ex")).await.status, StatusCode::CREATED);
    // Two includes, so the general path (which caches) answers rather than the indexes.
    let value_set = |id: &str, system: &str| {
        json!({"resourceType": "ValueSet", "id": id, "url": format!("http://example.org/vs/{id}"), "version": "1", "status": "active",
            "compose": {"include": [{"system": system}, {"system": system}]}})
    };
    for (id, system) in
        [("on-sample", "http://example.org/cs/sample"), ("on-other", "http://example.org/cs/other"), ("by-oid", "urn:oid:1.2.3.4.5")]
    {
        assert_eq!(app.put_json(&format!("/fhir/ValueSet/{id}"), &value_set(id, system)).await.status, StatusCode::CREATED);
        let expanded = app.get(&format!("/fhir/ValueSet/{id}/$expand")).await;
        assert_eq!(expanded.status, StatusCode::OK, "{}", expanded.body);
    }
    let validated = app.get("/fhir/ValueSet/on-sample/$validate-code?system=http://example.org/cs/sample&code=lung").await.json();
    assert_eq!(parameter(&validated, "result").expect("result")["valueBoolean"], true);
    let cached = |id: &str| app.terminology.registry().cached_expansion(&format!("http://example.org/vs/{id}|1")).is_some();
    let membership_cached = || {
        let registry = app.terminology.registry();
        let value_set = registry.value_set("http://example.org/vs/on-sample", None).expect("value set");
        let code_system = registry.code_system_versions("http://example.org/cs/sample")[0].clone();
        registry.cached_membership(&value_set.value_set, &code_system).is_some()
    };
    assert!(cached("on-sample") && cached("on-other") && cached("by-oid") && membership_cached());

    // A write to the other code system: what drew on it goes, by its URL and by its OID.
    assert_eq!(app.put_json("/fhir/CodeSystem/other", &other("Ex, renamed")).await.status, StatusCode::OK);
    assert!(cached("on-sample") && membership_cached(), "the sample's expansion and membership are kept");
    assert!(!cached("on-other") && !cached("by-oid"), "what drew on the other code system is worked out again");
    for id in ["on-other", "by-oid"] {
        let expanded = app.get(&format!("/fhir/ValueSet/{id}/$expand")).await.json();
        assert_eq!(expanded["expansion"]["contains"][0]["display"], "Ex, renamed", "{id}");
    }
    // A new value set, and the deletion of the other code system, leave the sample's alone.
    assert_eq!(app.put_json("/fhir/ValueSet/new", &value_set("new", "http://example.org/cs/other")).await.status, StatusCode::CREATED);
    assert_eq!(app.send("DELETE", "/fhir/CodeSystem/other", &[], None).await.status, StatusCode::NO_CONTENT);
    assert!(cached("on-sample") && membership_cached());
    // A write to the value set itself, or to the code system it draws on, does not.
    let mut changed = value_set("on-sample", "http://example.org/cs/sample");
    changed["title"] = json!("Changed");
    assert_eq!(app.put_json("/fhir/ValueSet/on-sample", &changed).await.status, StatusCode::OK);
    assert!(!cached("on-sample"));
    app.get("/fhir/ValueSet/on-sample/$expand").await;
    assert!(cached("on-sample"));
    assert_eq!(app.put_json("/fhir/CodeSystem/sample", &sample_code_system()).await.status, StatusCode::OK);
    assert!(!cached("on-sample"));
}

/// `$lookup`, `$validate-code` and `$subsumes` are written straight from typed outcomes in JSON and through
/// their JSON values in XML: both formats carry the same answer, errors included, and a format
/// neither JSON nor XML is refused before the operation runs.
#[actix_web::test]
async fn typed_answers_say_the_same_in_json_and_xml() {
    let (_backend, app) = seeded().await;
    let system = "http://example.org/cs/sample";
    let calls = [
        format!("/fhir/CodeSystem/$lookup?system={system}&code=pneumonia"),
        format!("/fhir/CodeSystem/$lookup?system={system}&code=red&property=colour"),
        format!("/fhir/CodeSystem/$lookup?system={system}&code=nothing"),
        format!("/fhir/CodeSystem/$validate-code?url={system}&code=pneumonia&display=Pneumonia"),
        format!("/fhir/CodeSystem/$validate-code?url={system}&code=pneumonia&display=Wrong"),
        format!("/fhir/CodeSystem/$validate-code?url={system}&code=old"),
        format!("/fhir/CodeSystem/sample/$validate-code?code=lung"),
        format!("/fhir/ValueSet/$validate-code?url={system}?fhir_vs=isa/infection&system={system}&code=lung"),
        format!("/fhir/ValueSet/$validate-code?url={system}?fhir_vs&system={system}"),
        format!("/fhir/CodeSystem/$subsumes?system={system}&codeA=disorder&codeB=pneumonia"),
        format!("/fhir/CodeSystem/$subsumes?system={system}&codeA=disorder"),
    ];
    for call in &calls {
        let as_json = app.get(call).await;
        let as_xml = app.get(&format!("{call}&_format=xml")).await;
        assert_eq!(as_json.status, as_xml.status, "{call}");
        assert!(as_xml.header("content-type").unwrap_or_default().starts_with("application/fhir+xml"), "{call}");
        let from_xml = model::fhir::xml::xml_to_json(&as_xml.body).unwrap_or_else(|error| panic!("{call}: {error}\n{}", as_xml.body));
        assert_eq!(from_xml, as_json.json(), "{call}");
    }
    let lookup = app.get(&format!("/fhir/CodeSystem/$lookup?system={system}&code=pneumonia")).await.json();
    assert_eq!(parameter(&lookup, "display").unwrap()["valueString"], "Pneumonia");
    assert_eq!(parameter(&lookup, "designation").unwrap()["part"][0]["valueCode"], "de");

    let refused = app.get(&format!("/fhir/CodeSystem/$lookup?system={system}&code=pneumonia&_format=text/csv")).await;
    assert_eq!(refused.status, StatusCode::NOT_ACCEPTABLE);
    assert_eq!(refused.issue().0, "not-supported");
}

/// An expansion of more than a thousand entries is streamed to the body as it is written; it must
/// be the same answer, nested and with designations, as the one built whole.
#[actix_web::test]
async fn large_expansions_stream_the_same_answer() {
    let backend = sqlite();
    let app = app(&backend).await;
    // A binary tree of 2,500 concepts, eleven levels deep, some with designations and inactive.
    let concepts: Vec<Value> = (0..2_500)
        .map(|n| {
            let mut concept = json!({"code": format!("c{n}"), "display": format!("Concept number {n}")});
            let mut properties = Vec::new();
            if n > 0 {
                properties.push(json!({"code": "parent", "valueCode": format!("c{}", (n - 1) / 2)}));
            }
            if n % 89 == 0 {
                properties.push(json!({"code": "status", "valueCode": "retired"}));
            }
            concept["property"] = Value::Array(properties);
            if n % 97 == 0 {
                concept["designation"] = json!([{"language": "de", "value": format!("Begriff {n}")}]);
            }
            concept
        })
        .collect();
    let code_system = json!({"resourceType": "CodeSystem", "id": "big", "url": "http://example.org/cs/big", "version": "1",
        "status": "active", "content": "complete", "hierarchyMeaning": "is-a",
        "property": [{"code": "parent", "type": "code"}, {"code": "status", "type": "code", "uri": "http://hl7.org/fhir/concept-properties#status"}],
        "concept": concepts});
    assert_eq!(app.put_json("/fhir/CodeSystem/big", &code_system).await.status, StatusCode::CREATED);
    for query in
        ["url=http://example.org/cs/big?fhir_vs&includeDesignations=true", "url=http://example.org/cs/big?fhir_vs&count=2000&offset=10"]
    {
        let streamed = app.get(&format!("/fhir/ValueSet/$expand?{query}")).await;
        assert_eq!(streamed.status, StatusCode::OK, "{}", streamed.body);
        let mut streamed = streamed.json();
        let pairs = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        let request = store::OpRequest { params: model::fhir::Parameters::from_pairs(pairs), ..store::OpRequest::default() };
        let mut whole = app.terminology.operation("ValueSet/$expand", &request).expect("expansion");
        for answer in [&mut streamed, &mut whole] {
            let expansion = answer["expansion"].as_object_mut().expect("expansion");
            expansion.remove("identifier");
            expansion.remove("timestamp");
        }
        assert_eq!(streamed, whole, "{query}");
        let listed = codes(&streamed);
        assert_eq!(listed.len(), if query.contains("count") { 2_000 } else { 2_500 }, "{query}");
    }
    let nested = app.get("/fhir/ValueSet/$expand?url=http://example.org/cs/big?fhir_vs").await.json();
    assert_eq!(nested["expansion"]["contains"][0]["contains"][1]["contains"][0]["code"], "c5");
}
