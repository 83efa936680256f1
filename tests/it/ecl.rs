//! ECL 2.2 through the FHIR API: `http://snomed.info/sct?fhir_vs=ecl/…` and the `constraint`
//! filter, answered over the hand-made RF2 fixture `snomed_rf2/ecl/` (its README draws the
//! hierarchy and the relationships); every expected answer below is worked out by hand from it.
//! The expressions are the ECL 2.2 specification's own examples (chapter 6), on its concept ids.

use crate::support::{app, app_with, encode, sqlite, Backend, TestApp};
use actix_web::http::StatusCode;
use serde_json::{json, Value};
use std::path::PathBuf;

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/loaders/test_data/snomed_rf2/ecl/SnomedCT_InternationalRF2_PRODUCTION_20250101T120000Z")
}

fn store_fixture(app: &TestApp) {
    let source = loaders::open_paths(&[fixture()]).expect("open fixture");
    let format = loaders::detect(source.as_ref()).expect("detect format");
    let loaded = loaders::load(format, source.as_ref(), &loaders::LoadOptions::default()).expect("load fixture");
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    app.terminology.load(loaded.code_systems, loaded.resources).expect("store fixture");
}

async fn loaded() -> (Backend, TestApp) {
    let backend = sqlite();
    let app = app(&backend).await;
    store_fixture(&app);
    (backend, app)
}

/// Percent-encodes everything but unreserved characters.

/// The url of the implicit value set of an ECL expression, as a client writes it (the
/// expression percent-encoded inside the url).
fn ecl_url(expression: &str) -> String {
    format!("http://snomed.info/sct?fhir_vs=ecl/{}", encode(expression))
}

/// Every code of an expansion, nested ones included (a value set holding a concept and its
/// descendants expands as a tree).
fn collect(contains: &Value, codes: &mut Vec<String>) {
    for entry in contains.as_array().into_iter().flatten() {
        codes.extend(entry["code"].as_str().map(str::to_owned));
        collect(&entry["contains"], codes);
    }
}

fn expansion_codes(expansion: &Value) -> Vec<String> {
    let mut codes = Vec::new();
    collect(&expansion["expansion"]["contains"], &mut codes);
    codes.sort();
    codes
}

/// The sorted codes of `$expand` of an ECL implicit value set.
async fn codes(app: &TestApp, expression: &str) -> Vec<String> {
    let answer = app.get(&format!("/fhir/ValueSet/$expand?url={}", encode(&ecl_url(expression)))).await;
    assert_eq!(answer.status, StatusCode::OK, "{expression}: {}", answer.body);
    expansion_codes(&answer.json())
}

#[track_caller]
fn same(found: Vec<String>, expected: &[&str], expression: &str) {
    let mut expected: Vec<String> = expected.iter().map(|code| (*code).to_owned()).collect();
    expected.sort();
    assert_eq!(found, expected, "{expression}");
}

#[actix_web::test]
async fn specification_examples_give_the_hand_worked_answers() {
    let (_backend, app) = loaded().await;
    let disorders_of_lung = ["40541001", "233604007", "195967001", "9100001000"];
    let cases: Vec<(&str, Vec<&str>)> = vec![
        // 6.1 simple constraints.
        ("19829001 |Disorder of lung|", vec!["19829001"]),
        ("< 19829001 |Disorder of lung|", disorders_of_lung.to_vec()),
        ("<< 19829001 |Disorder of lung|", [&disorders_of_lung[..], &["19829001"]].concat()),
        ("<! 64572001 |Disease|", vec!["19829001", "56265001", "73211009"]),
        ("<<! 56265001 |Heart disease|", vec!["56265001", "22298006", "9100001000"]),
        ("> 40541001 |Acute pulmonary edema|", vec!["19829001", "64572001", "404684003", "138875005"]),
        (">> 40541001", vec!["40541001", "19829001", "64572001", "404684003", "138875005"]),
        (">! 9100001000", vec!["19829001", "56265001"]),
        (">>! 9100001000", vec!["9100001000", "19829001", "56265001"]),
        ("descendantOf 56265001", vec!["22298006", "9100001000"]),
        ("^ 700043003 |Example problem list concepts reference set|", vec!["22298006", "195967001", "73211009"]),
        ("< 19829001 AND ^ 700043003", vec!["195967001"]),
        ("!!> (< 64572001)", vec!["19829001", "56265001", "73211009"]),
        ("!!< (<< 19829001)", vec!["40541001", "233604007", "195967001", "9100001000"]),
        (
            "< 900000000000455006 |Reference set|",
            vec!["446609009", "700043003", "900000000000522004", "900000000000527005", "900000000000526001"],
        ),
        // 6.2 refinements.
        (
            "< 404684003 |Clinical finding| : 363698007 |Finding site| = << 39607008 |Lung structure|",
            vec!["19829001", "40541001", "233604007", "195967001", "9100001000"],
        ),
        ("< 64572001 : 116676008 |Associated morphology| = 79654002 |Edema|", vec!["40541001", "9100001000"]),
        ("< 64572001 : << 47429007 |Associated with| = *", vec!["233604007"]),
        ("< 64572001 : 47429007 |Associated with| = *", vec![]),
        ("< 404684003 : 363698007 = << 39607008, 116676008 = << 79654002", vec!["40541001", "9100001000"]),
        // Attribute groups: lung and edema in one group only in 40541001; 9100001000 has them in two groups.
        ("< 404684003 : { 363698007 = << 39607008, 116676008 = << 79654002 }", vec!["40541001"]),
        ("< 404684003 : { 363698007 = 80891009, 116676008 = 79654002 }", vec!["9100001000"]),
        (
            "< 404684003 : { 363698007 = 39607008 } OR { 116676008 = 55641003 }",
            vec!["19829001", "40541001", "233604007", "195967001", "9100001000", "22298006"],
        ),
        // 6.3 cardinality.
        ("< 64572001 : [2..*] { 363698007 = * }", vec!["9100001000"]),
        ("< 64572001 : [1..1] 363698007 = *", vec!["19829001", "40541001", "233604007", "195967001", "56265001", "22298006"]),
        ("< 64572001 : [0..0] 116676008 = *", vec!["19829001", "195967001", "56265001", "73211009"]),
        ("< 64572001 : [2..2] 116676008 = *", vec!["9100001000"]),
        // 6.2 reverse attributes and dotted attributes.
        ("< 123037004 |Body structure| : R 363698007 |Finding site| = *", vec!["39607008", "80891009"]),
        ("* : R 116676008 = << 19829001", vec!["79654002", "23583003"]),
        ("< 19829001 . 363698007", vec!["39607008", "80891009"]),
        ("<< 64572001 . 116676008", vec!["79654002", "23583003", "55641003"]),
        ("(< 373873005 : 127489000 = 372687004) . 127489000", vec!["372687004"]),
        // 6.2 concrete values.
        ("< 373873005 : 1142135004 |Has presentation strength numerator value| = #250", vec!["323510009"]),
        ("< 373873005 : 1142135004 >= #300", vec!["323509004"]),
        ("< 373873005 : 1142135004 < #1000.5", vec!["323510009", "323509004"]),
        ("< 373873005 : 1142135004 != #250", vec!["323509004"]),
        // 6.4 compound constraints.
        ("< 19829001 OR < 56265001", vec!["40541001", "233604007", "195967001", "9100001000", "22298006"]),
        ("< 19829001 AND < 56265001", vec!["9100001000"]),
        ("<< 19829001 MINUS << 40541001", vec!["19829001", "233604007", "195967001", "9100001000"]),
        ("(<< 19829001 MINUS << 40541001) AND ^ 700043003", vec!["195967001"]),
        ("< 404684003 : 363698007 != << 39607008", vec!["56265001", "22298006", "9100001000"]),
        // 6.5 filters.
        ("< 64572001 {{ term = \"heart\" }}", vec!["56265001", "22298006", "9100001000"]),
        ("< 64572001 {{ term = \"heart att\" }}", vec!["22298006"]),
        ("< 64572001 {{ term = wild:\"*edema\" }}", vec!["40541001"]),
        ("< 64572001 {{ term = \"infarction\", type = fsn }}", vec!["22298006"]),
        ("< 64572001 {{ term = \"infarction\", type = syn }}", vec![]),
        ("< 64572001 {{ term = (\"asthma\" \"pneumonia\") }}", vec!["195967001", "233604007"]),
        ("< 64572001 {{ language = en, typeId = 900000000000013009 |Synonym|, term = \"attack\" }}", vec!["22298006"]),
        ("< 138875005 {{ semanticTag = \"morphologic abnormality\" }}", vec!["49755003", "79654002", "23583003", "55641003"]),
        ("< 64572001 {{ C definitionStatus = primitive }}", vec!["195967001", "73211009"]),
        (
            "< 64572001 {{ C definitionStatusId = 900000000000073002 |Defined| }}",
            vec!["19829001", "40541001", "233604007", "56265001", "22298006", "9100001000"],
        ),
        ("< 64572001 {{ C effectiveTime >= \"20190731\" }}", vec!["195967001", "22298006", "9100001000"]),
        (
            "< 64572001 {{ C moduleId = 900000000000207008, active = true }}",
            vec!["19829001", "40541001", "233604007", "195967001", "56265001", "22298006", "73211009", "9100001000"],
        ),
        ("* {{ C active = false }}", vec!["155574008", "195979001"]),
        ("^ 700043003 {{ M active = true }}", vec!["22298006", "195967001", "73211009"]),
        // 6.6 history supplements: 155574008 is SAME AS 19829001, 195979001 REPLACED BY 195967001.
        ("<< 19829001 {{ +HISTORY-MIN }}", [&disorders_of_lung[..], &["19829001", "155574008"]].concat()),
        ("<< 19829001 {{ +HISTORY-MOD }}", [&disorders_of_lung[..], &["19829001", "155574008", "195979001"]].concat()),
        ("<< 19829001 {{ +HISTORY }}", [&disorders_of_lung[..], &["19829001", "155574008", "195979001"]].concat()),
        ("195967001 {{ +HISTORY (900000000000526001 |REPLACED BY|) }}", vec!["195967001", "195979001"]),
        ("^ [targetComponentId] 900000000000527005 |SAME AS association reference set|", vec!["19829001"]),
        // Comments and the long syntax.
        (
            "/* lung */ descendantOrSelfOf 19829001 MINUS /* not edema */ descendantOrSelfOf 40541001",
            vec!["19829001", "233604007", "195967001", "9100001000"],
        ),
    ];
    for (expression, expected) in cases {
        same(codes(&app, expression).await, &expected, expression);
    }
}

#[actix_web::test]
async fn validate_code_and_the_constraint_filter() {
    let (_backend, app) = loaded().await;
    let url = encode(&ecl_url("< 404684003 : { 363698007 = << 39607008, 116676008 = << 79654002 }"));
    for (code, expected) in [("40541001", true), ("9100001000", false), ("19829001", false)] {
        let answer = app.get(&format!("/fhir/ValueSet/$validate-code?url={url}&system=http://snomed.info/sct&code={code}")).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let result = answer.json()["parameter"].as_array().expect("parameters").iter().find(|p| p["name"] == "result").cloned();
        assert_eq!(result.expect("result")["valueBoolean"], expected, "{code}: {}", answer.body);
    }
    // The same constraint as a ValueSet compose filter (FHIR's SNOMED CT filter).
    let value_set = json!({
        "resourceType": "ValueSet", "url": "http://example.org/fhir/ValueSet/lung-edema", "status": "active",
        "compose": {"include": [{"system": "http://snomed.info/sct", "filter": [
            {"property": "constraint", "op": "=", "value": "<< 19829001 |Disorder of lung| MINUS << 40541001"}
        ]}]}
    });
    let answer = app
        .post_json(
            "/fhir/ValueSet/$expand",
            &json!({"resourceType": "Parameters", "parameter": [{"name": "valueSet", "resource": value_set}]}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    same(expansion_codes(&answer.json()), &["19829001", "233604007", "195967001", "9100001000"], "constraint filter");
    // With another filter beside it, both hold.
    let both = json!({"resourceType": "ValueSet", "status": "active", "compose": {"include": [{"system": "http://snomed.info/sct", "filter": [
        {"property": "constraint", "op": "=", "value": "< 19829001"}, {"property": "concept", "op": "is-a", "value": "56265001"}
    ]}]}});
    let answer = app
        .post_json("/fhir/ValueSet/$expand", &json!({"resourceType": "Parameters", "parameter": [{"name": "valueSet", "resource": both}]}))
        .await;
    assert_eq!(answer.json()["expansion"]["total"], 1, "{}", answer.body);
    // fhir_vs=refset lists every reference set concept.
    let refsets = app.get(&format!("/fhir/ValueSet/$expand?url={}", encode("http://snomed.info/sct?fhir_vs=refset"))).await;
    assert_eq!(refsets.status, StatusCode::OK, "{}", refsets.body);
    assert_eq!(refsets.json()["expansion"]["total"], 5, "{}", refsets.body);
}

#[actix_web::test]
async fn bad_expressions_are_clear_client_errors() {
    let (_backend, app) = loaded().await;
    // A parse error: 400, with the position and what was expected.
    let answer = app.get(&format!("/fhir/ValueSet/$expand?url={}", encode(&ecl_url("< 19829001 AND < 56265001 OR < 73211009")))).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    let (code, text) = answer.issue();
    assert_eq!(code, "invalid");
    assert!(text.contains("at character 27") && text.contains("expected"), "{text}");
    // The same through the constraint filter names where the filter is.
    let value_set = json!({"resourceType": "ValueSet", "status": "active", "compose": {"include": [{"system": "http://snomed.info/sct", "filter": [
        {"property": "constraint", "op": "=", "value": "< 19829001 :"}
    ]}]}});
    let answer = app
        .post_json(
            "/fhir/ValueSet/$expand",
            &json!({"resourceType": "Parameters", "parameter": [{"name": "valueSet", "resource": value_set}]}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert_eq!(answer.json()["issue"][0]["expression"][0], "ValueSet.compose.include[0].filter[0]", "{}", answer.body);
    assert!(answer.issue().1.contains("at character 13: expected a refinement"), "{}", answer.body);
    // An unknown concept: 400 naming it, for $expand and $validate-code alike.
    let unknown = encode(&ecl_url("<< 999999999 |Not here|"));
    let answer = app.get(&format!("/fhir/ValueSet/$expand?url={unknown}")).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert!(answer.issue().1.contains("999999999"), "{}", answer.body);
    let answer = app.get(&format!("/fhir/ValueSet/$validate-code?url={unknown}&system=http://snomed.info/sct&code=19829001")).await;
    assert!(answer.status.is_client_error(), "{}", answer.body);
    // What the store does not keep is named, not guessed.
    let answer = app.get(&format!("/fhir/ValueSet/$expand?url={}", encode(&ecl_url("< 64572001 {{ dialect = en-us (prefer) }}")))).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", answer.body);
    assert_eq!(answer.issue().0, "not-supported");
    // Brackets nested past the limit are refused before parsing.
    let deep = format!("{}19829001{}", "(".repeat(60), ")".repeat(60));
    let answer = app.get(&format!("/fhir/ValueSet/$expand?url={}", encode(&ecl_url(&deep)))).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
}

/// A code system whose 20,000 concepts form one is-a chain, so that every `<<` walks all of it.
fn chain_code_system(n_concepts: usize) -> model::terminology::CodeSystem {
    let concepts: Vec<Value> = (0..n_concepts)
        .map(|position| {
            let code = format!("{}", 100_000 + position);
            let mut concept = json!({"code": code, "display": format!("Link {position}")});
            if position > 0 {
                concept["property"] = json!([{"code": "parent", "valueCode": format!("{}", 100_000 + position - 1)}]);
            }
            concept
        })
        .collect();
    let resource = json!({
        "resourceType": "CodeSystem", "url": "http://example.org/fhir/CodeSystem/chain", "version": "1", "status": "active",
        "content": "complete", "hierarchyMeaning": "is-a",
        "property": [{"code": "parent", "uri": "http://hl7.org/fhir/concept-properties#parent", "type": "code"}],
        "concept": concepts
    });
    model::terminology::CodeSystem::from_json(&resource).expect("a valid CodeSystem")
}

#[actix_web::test]
async fn a_pathological_expression_answers_too_costly() {
    let backend = sqlite();
    let config = server::ServerConfig {
        auth: server::AuthConfig::anonymous_writes(),
        request_time_budget: std::time::Duration::from_millis(200),
        ..server::ServerConfig::default()
    };
    let app = app_with(&backend, config).await;
    app.terminology.load(vec![chain_code_system(20_000)], Vec::new()).expect("store the chain");
    // Each bracket walks the whole chain; a thousand of them is far past 200 ms.
    let walk = "(<< 100000 MINUS << 100001)";
    let expression = vec![walk; 1000].join(" OR ");
    let value_set = json!({"resourceType": "ValueSet", "status": "active", "compose": {"include": [{
        "system": "http://example.org/fhir/CodeSystem/chain", "filter": [{"property": "constraint", "op": "=", "value": expression}]
    }]}});
    let started = std::time::Instant::now();
    let answer = app
        .post_json(
            "/fhir/ValueSet/$expand",
            &json!({"resourceType": "Parameters", "parameter": [{"name": "valueSet", "resource": value_set}]}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", answer.body);
    assert_eq!(answer.issue().0, "too-costly", "{}", answer.body);
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "stopped at its budget, not at the end");
    // The same walk once is answered: the chain's first link.
    let value_set = json!({"resourceType": "ValueSet", "status": "active", "compose": {"include": [{
        "system": "http://example.org/fhir/CodeSystem/chain", "filter": [{"property": "constraint", "op": "=", "value": walk}]
    }]}});
    let answer = app
        .post_json(
            "/fhir/ValueSet/$expand",
            &json!({"resourceType": "Parameters", "parameter": [{"name": "valueSet", "resource": value_set}]}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.json()["expansion"]["contains"][0]["code"], "100000", "{}", answer.body);
    // Outside SNOMED CT a concept's display is its description for term filters.
    let value_set = json!({"resourceType": "ValueSet", "status": "active", "compose": {"include": [{
        "system": "http://example.org/fhir/CodeSystem/chain", "filter": [{"property": "constraint", "op": "=", "value": "<< 100000 {{ term = \"link 1999\" }}"}]
    }]}});
    let answer = app
        .post_json(
            "/fhir/ValueSet/$expand",
            &json!({"resourceType": "Parameters", "parameter": [{"name": "valueSet", "resource": value_set}]}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let mut found = expansion_codes(&answer.json());
    found.dedup();
    assert_eq!(found.len(), 11, "Link 1999 and Link 19990 to 19999: {found:?}");
}

#[actix_web::test]
async fn lookup_shows_role_groups_and_the_normal_form() {
    let (_backend, app) = loaded().await;
    let answer = app.get("/fhir/CodeSystem/$lookup?system=http://snomed.info/sct&code=9100001000&property=*").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let parameters = answer.json();
    let properties: Vec<&Value> =
        parameters["parameter"].as_array().expect("parameters").iter().filter(|p| p["name"] == "property").collect();
    let role_groups: Vec<Vec<(String, String)>> = properties
        .iter()
        .filter(|property| property["part"][0]["valueCode"] == "609096000")
        .map(|property| {
            property["part"]
                .as_array()
                .expect("parts")
                .iter()
                .filter(|part| part["name"] == "subproperty")
                .map(|sub| {
                    (
                        sub["part"][0]["valueCode"].as_str().unwrap_or_default().to_owned(),
                        sub["part"][1]["valueCode"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .collect();
    let pairs = |list: &[(&str, &str)]| list.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect::<Vec<_>>();
    assert_eq!(
        role_groups,
        vec![
            pairs(&[("363698007", "39607008"), ("116676008", "23583003")]),
            pairs(&[("363698007", "80891009"), ("116676008", "79654002")])
        ],
        "{parameters}"
    );
    assert!(!properties.iter().any(|property| property["part"][0]["valueCode"] == "roleGroup"), "{parameters}");
    let normal_form = properties.iter().find(|property| property["part"][0]["valueCode"] == "normalForm").expect("normalForm");
    assert_eq!(
        normal_form["part"][1]["valueString"],
        "=== 19829001 |Disorder of lung| + 56265001 |Heart disease| : { 363698007 |Finding site| = 39607008 |Lung structure|, 116676008 |Associated morphology| = 23583003 |Inflammation| }, { 363698007 |Finding site| = 80891009 |Heart structure|, 116676008 |Associated morphology| = 79654002 |Edema| }"
    );
    // Ungrouped attributes stay plain properties, and a primitive concept reads <<<.
    let answer = app
        .get("/fhir/CodeSystem/$lookup?system=http://snomed.info/sct&code=195967001&property=363698007&property=normalForm")
        .await
        .json();
    let properties: Vec<&Value> = answer["parameter"].as_array().expect("parameters").iter().filter(|p| p["name"] == "property").collect();
    assert_eq!(properties[0]["part"][1]["valueCode"], "39607008", "{answer}");
    assert_eq!(
        properties[1]["part"][1]["valueString"], "<<< 19829001 |Disorder of lung| : 363698007 |Finding site| = 39607008 |Lung structure|",
        "{answer}"
    );
}

#[actix_web::test]
async fn edition_and_version_uris_name_the_release() {
    let (_backend, app) = loaded().await;
    let version = "http://snomed.info/sct/900000000000207008/version/20250101";
    for named in [version, "http://snomed.info/sct/900000000000207008"] {
        let answer =
            app.get(&format!("/fhir/CodeSystem/$validate-code?url=http://snomed.info/sct&version={}&code=19829001", encode(named))).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let parameters = answer.json();
        let value = |name: &str| parameters["parameter"].as_array().expect("parameters").iter().find(|p| p["name"] == name).cloned();
        assert_eq!(value("result").expect("result")["valueBoolean"], true, "{named}: {parameters}");
        assert_eq!(value("version").expect("version")["valueString"], version, "{named}: {parameters}");
    }
    // A client that leaves the expression unencoded inside the url (its terms' pipes included).
    let raw = "http://snomed.info/sct?fhir_vs=ecl/<< 56265001 |Heart disease| MINUS 56265001";
    let answer = app.get(&format!("/fhir/ValueSet/$expand?url={}", encode(raw))).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    same(expansion_codes(&answer.json()), &["22298006", "9100001000"], raw);
    let other_edition = app
        .get(&format!(
            "/fhir/CodeSystem/$validate-code?url=http://snomed.info/sct&version={}&code=19829001",
            encode("http://snomed.info/sct/45991000052106")
        ))
        .await
        .json();
    let result = other_edition["parameter"].as_array().expect("parameters").iter().find(|p| p["name"] == "result").cloned();
    assert_eq!(result.expect("result")["valueBoolean"], false, "{other_edition}");
    // system-version pins the edition for an ECL implicit value set too.
    let answer = app
        .get(&format!(
            "/fhir/ValueSet/$expand?url={}&system-version={}",
            encode(&ecl_url("<! 56265001")),
            encode(&format!("http://snomed.info/sct|{version}"))
        ))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    same(expansion_codes(&answer.json()), &["22298006", "9100001000"], "<! 56265001 with system-version");
}
