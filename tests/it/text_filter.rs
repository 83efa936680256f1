//! The expansion of a whole code system or one branch of it, with or without a text `filter`, is
//! answered from the code system's indexes (the cached branch, the word index and the sorted code
//! list), with members built for the page only; these tests hold that answer equal to the general
//! path's, which a value set with an exclude (of a code no one has) forces.

use crate::support::{app, sqlite, TestApp};
use actix_web::http::StatusCode;
use serde_json::{json, Value};

const SYSTEM: &str = "http://example.org/cs/coded";

/// ICD-like codes, so that a filter can match by code prefix alone; one branch has a retired code,
/// and two codes are in force for part of the time only.
fn coded_code_system() -> Value {
    json!({
        "resourceType": "CodeSystem", "id": "coded", "url": SYSTEM, "version": "2",
        "status": "active", "content": "complete", "caseSensitive": true, "hierarchyMeaning": "is-a",
        "property": [{"code": "status", "uri": "http://hl7.org/fhir/concept-properties#status", "type": "code"},
                     {"code": "effectiveDate", "type": "dateTime"}, {"code": "retirementDate", "type": "dateTime"}],
        "concept": [
            {"code": "A00", "display": "Cholera", "concept": [
                {"code": "A00.0", "display": "Cholera due to Vibrio cholerae 01, biovar cholerae"},
                {"code": "A00.1", "display": "Cholera due to Vibrio cholerae 01, biovar eltor",
                 "designation": [{"language": "fr", "value": "Choléra El Tor"}]},
                {"code": "A00.9", "display": "Cholera, unspecified",
                 "property": [{"code": "effectiveDate", "valueDateTime": "2024-10-01"}]},
                {"code": "A00.8", "display": "Cholera of old", "property": [{"code": "retirementDate", "valueDateTime": "2020-09-30"}]}]},
            {"code": "A01", "display": "Typhoid and paratyphoid fevers", "concept": [
                {"code": "A01.0", "display": "Typhoid fever", "property": [{"code": "status", "valueCode": "retired"}]},
                {"code": "A01.1", "display": "Paratyphoid fever A"}]},
            {"code": "B01", "display": "Varicella [chickenpox]"},
            {"code": "fever", "display": "Pyrexia"}
        ]
    })
}

/// The value set: the whole code system or one branch of it, and with `general` an exclude that
/// removes nothing but sends the call down the general path.
fn value_set(branch: Option<(&str, &str)>, general: bool) -> Value {
    let mut include = json!({"system": SYSTEM, "version": "2"});
    if let Some((op, code)) = branch {
        include["filter"] = json!([{"property": "concept", "op": op, "value": code}]);
    }
    let mut compose = json!({"include": [include]});
    if general {
        compose["exclude"] = json!([{"system": SYSTEM, "version": "2", "concept": [{"code": "no-such-code"}]}]);
    }
    json!({"resourceType": "ValueSet", "url": "http://example.org/vs/coded", "status": "active", "compose": compose})
}

/// `total`, `offset` and the codes of one `$expand` of an inline value set.
async fn expand(app: &TestApp, value_set: Value, parameters: &[Value]) -> (Value, Value, Vec<String>) {
    let mut parameter = vec![json!({"name": "valueSet", "resource": value_set}), json!({"name": "excludeNested", "valueBoolean": true})];
    parameter.extend(parameters.iter().cloned());
    let answer = app.post_json("/fhir/ValueSet/$expand", &json!({"resourceType": "Parameters", "parameter": parameter})).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let json = answer.json();
    let codes = json["expansion"]["contains"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|entry| format!("{}|{}", entry["code"].as_str().unwrap_or_default(), entry["display"].as_str().unwrap_or_default()))
        .collect();
    (json["expansion"]["total"].clone(), json["expansion"]["offset"].clone(), codes)
}

/// The branch of the value set, the parameters of the call, and the codes expected.
type Case<'a> = (Option<(&'a str, &'a str)>, Vec<Value>, Vec<&'a str>);

fn date(day: &str) -> Value {
    json!({"name": "date", "valueDate": day})
}

fn filter(text: &str) -> Value {
    json!({"name": "filter", "valueString": text})
}

fn count(n: u64) -> Value {
    json!({"name": "count", "valueInteger": n})
}

fn offset(n: u64) -> Value {
    json!({"name": "offset", "valueInteger": n})
}

fn active_only() -> Value {
    json!({"name": "activeOnly", "valueBoolean": true})
}

#[actix_web::test]
async fn indexed_text_search_answers_as_the_general_path_does() {
    let backend = sqlite();
    let app = app(&backend).await;
    assert_eq!(app.put_json("/fhir/CodeSystem/coded", &coded_code_system()).await.status, StatusCode::CREATED);
    let active_only = active_only();
    let cases: Vec<Case> = vec![
        (None, vec![filter("cholera")], vec!["A00", "A00.0", "A00.1", "A00.9", "A00.8"]),
        // On a date of service, only the codes in force that day.
        (None, vec![filter("cholera"), date("2019-05-01")], vec!["A00", "A00.0", "A00.1", "A00.8"]),
        (None, vec![filter("cholera"), date("2025-05-01")], vec!["A00", "A00.0", "A00.1", "A00.9"]),
        (None, vec![filter("fever")], vec!["A01", "A01.0", "A01.1", "fever"]),
        (None, vec![filter("fever"), active_only.clone()], vec!["A01", "A01.1", "fever"]),
        // By code prefix only, whatever the case.
        (None, vec![filter("a01")], vec!["A01", "A01.0", "A01.1"]),
        (None, vec![filter("A00.")], vec!["A00.0", "A00.1", "A00.9", "A00.8"]),
        // Every word must match a word's start; a designation counts.
        (None, vec![filter("cholerae eltor")], vec!["A00.1"]),
        (None, vec![filter("choléra el")], vec!["A00.1"]),
        (None, vec![filter("chicken")], vec!["B01"]),
        (None, vec![filter("pox")], vec![]),
        (None, vec![filter("zzz")], vec![]),
        (None, vec![filter("cholera"), offset(1), count(2)], vec!["A00.0", "A00.1"]),
        (None, vec![filter("cholera"), offset(3), count(5)], vec!["A00.9", "A00.8"]),
        (None, vec![filter("cholera"), offset(9), count(5)], vec![]),
        (None, vec![filter("cholera"), count(0)], vec![]),
        (Some(("is-a", "A01")), vec![filter("fever")], vec!["A01", "A01.0", "A01.1"]),
        (Some(("is-a", "A01")), vec![filter("fever"), active_only.clone(), count(1)], vec!["A01"]),
        (Some(("descendent-of", "A01")), vec![filter("fever")], vec!["A01.0", "A01.1"]),
        (Some(("descendent-of", "B01")), vec![filter("varicella")], vec![]),
        (Some(("is-a", "no-such-code")), vec![filter("fever")], vec![]),
    ];
    check_cases(&app, cases).await;
}

/// Each case answered alike by the indexed and the general path, with the codes expected.
async fn check_cases(app: &TestApp, cases: Vec<Case<'_>>) {
    for (branch, parameters, expected) in cases {
        let indexed = expand(app, value_set(branch, false), &parameters).await;
        let general = expand(app, value_set(branch, true), &parameters).await;
        assert_eq!(indexed, general, "{branch:?} {parameters:?}");
        let codes: Vec<&str> = indexed.2.iter().map(|entry| entry.split('|').next().unwrap_or_default()).collect();
        assert_eq!(codes, expected, "{branch:?} {parameters:?}");
    }
}

#[actix_web::test]
async fn indexed_paging_without_a_filter_answers_as_the_general_path_does() {
    let backend = sqlite();
    let app = app(&backend).await;
    assert_eq!(app.put_json("/fhir/CodeSystem/coded", &coded_code_system()).await.status, StatusCode::CREATED);
    let active_only = active_only();
    let everything = vec!["A00", "A00.0", "A00.1", "A00.9", "A00.8", "A01", "A01.0", "A01.1", "B01", "fever"];
    let cases: Vec<Case> = vec![
        (None, vec![], everything.clone()),
        (None, vec![offset(2), count(3)], vec!["A00.1", "A00.9", "A00.8"]),
        (None, vec![offset(8), count(5)], vec!["B01", "fever"]),
        (None, vec![offset(10), count(5)], vec![]),
        (None, vec![count(0)], vec![]),
        (None, vec![active_only.clone(), offset(4), count(3)], vec!["A00.8", "A01", "A01.1"]),
        (None, vec![date("2019-05-01"), count(4)], vec!["A00", "A00.0", "A00.1", "A00.8"]),
        // A branch is its root and every descendant, in code-system order; paging it twice reads the cached branch.
        (Some(("is-a", "A00")), vec![], vec!["A00", "A00.0", "A00.1", "A00.9", "A00.8"]),
        (Some(("is-a", "A00")), vec![offset(1), count(2)], vec!["A00.0", "A00.1"]),
        (Some(("is-a", "A00")), vec![offset(3), count(2)], vec!["A00.9", "A00.8"]),
        (Some(("is-a", "a00")), vec![count(2)], vec![]),
        (Some(("descendent-of", "A00")), vec![], vec!["A00.0", "A00.1", "A00.9", "A00.8"]),
        (Some(("descendent-of", "A00")), vec![offset(3), count(9)], vec!["A00.8"]),
        (Some(("descendent-of", "A01")), vec![active_only.clone()], vec!["A01.1"]),
        (Some(("is-a", "A00")), vec![date("2025-05-01"), offset(1)], vec!["A00.0", "A00.1", "A00.9"]),
        (Some(("descendent-of", "B01")), vec![], vec![]),
        (Some(("is-a", "no-such-code")), vec![], vec![]),
    ];
    check_cases(&app, cases).await;
}

#[actix_web::test]
async fn the_implicit_value_set_answers_a_text_filter_as_an_inline_one() {
    let backend = sqlite();
    let app = app(&backend).await;
    assert_eq!(app.put_json("/fhir/CodeSystem/coded", &coded_code_system()).await.status, StatusCode::CREATED);
    for (url, branch) in [(format!("{SYSTEM}?fhir_vs"), None), (format!("{SYSTEM}?fhir_vs=isa/A00"), Some(("is-a", "A00")))] {
        let implicit = app.get(&format!("/fhir/ValueSet/$expand?url={url}&filter=cholerae&excludeNested=true&offset=1&count=1")).await;
        assert_eq!(implicit.status, StatusCode::OK, "{}", implicit.body);
        let implicit = implicit.json();
        let general = expand(
            &app,
            value_set(branch, true),
            &[filter("cholerae"), json!({"name": "offset", "valueInteger": 1}), json!({"name": "count", "valueInteger": 1})],
        )
        .await;
        assert_eq!(implicit["expansion"]["total"], general.0, "{url}");
        assert_eq!(implicit["expansion"]["total"], 2, "{url}");
        assert_eq!(implicit["expansion"]["contains"][0]["code"], "A00.1", "{url}");
        assert_eq!(implicit["expansion"]["contains"].as_array().map(Vec::len), Some(1), "{url}");
    }
}

#[actix_web::test]
async fn many_text_matches_in_a_branch_answer_as_the_general_path_does() {
    let backend = sqlite();
    let app = app(&backend).await;
    // Two branches of 150 "Item" concepts each, so that a filter in one branch has more matches
    // than are checked one by one.
    let branch = |root: &str| {
        let children: Vec<Value> =
            (0..150).map(|idx| json!({"code": format!("{root}.{idx}"), "display": format!("Item {idx} of {root}")})).collect();
        json!({"code": root, "display": format!("Branch {root}"), "concept": children})
    };
    let system = "http://example.org/cs/items";
    let code_system = json!({
        "resourceType": "CodeSystem", "id": "items", "url": system, "version": "1", "status": "active",
        "content": "complete", "hierarchyMeaning": "is-a", "concept": [branch("X"), branch("Y")]
    });
    assert_eq!(app.put_json("/fhir/CodeSystem/items", &code_system).await.status, StatusCode::CREATED);
    for (op, root, query, expected_total) in [("is-a", "X", "item", 150), ("descendent-of", "Y", "item 1", 61), ("is-a", "Y", "branch", 1)]
    {
        let value_set = |general: bool| {
            let mut compose = json!({"include": [{"system": system, "filter": [{"property": "concept", "op": op, "value": root}]}]});
            if general {
                compose["exclude"] = json!([{"system": system, "concept": [{"code": "no-such-code"}]}]);
            }
            json!({"resourceType": "ValueSet", "url": "http://example.org/vs/items", "status": "active", "compose": compose})
        };
        let parameters = [filter(query), offset(5), count(10)];
        let indexed = expand(&app, value_set(false), &parameters).await;
        let general = expand(&app, value_set(true), &parameters).await;
        assert_eq!(indexed, general, "{op} {root} {query}");
        assert_eq!(indexed.0, expected_total, "{op} {root} {query}");
    }
}
