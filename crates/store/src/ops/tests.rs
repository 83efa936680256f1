//! The operations' semantics without HTTP: one [`check`] runs an operation on a small fixed
//! registry and compares a plain-text dump of its answer, a table of cases per operation.

use super::{
    lookup as typed_lookup, run, subsumes as typed_subsumes, translate as typed_translate, validate_code, validate_code_batch,
    BatchValidateRequest, LookupRequest, OpRequest, SubsumesRequest, TranslateRequest, ValidateCodeRequest, ValidateTarget,
};
use crate::index::{CodeSystemIndex, Registry};
use crate::StoreError;
use model::fhir::{array_of, str_of, Json, Parameters};
use model::terminology::{CodeSystem, ValueSet};
use serde_json::json;

const BODY: &str = "http://example.org/fhirterm/test/body";
const LIMBS: &str = "http://example.org/fhirterm/test/ValueSet/limbs";
const LIMBS_AND_ORGANS: &str = "http://example.org/fhirterm/test/ValueSet/limbs-and-organs";
const LAY_TERMS: &str = "http://example.org/fhirterm/test/ConceptMap/lay-terms";
const LAY: &str = "http://example.org/fhirterm/test/lay";

/// A hierarchical code system (FHIR JSON is the official layout for FHIR content) with an
/// inactive concept and a German designation, a value set that filters and excludes it, one
/// that imports that one, and a ConceptMap to lay terms (one R4 equivalence, one R5 relationship).
fn registry() -> Registry {
    let code_system = json!({
        "resourceType": "CodeSystem", "id": "body", "url": BODY, "version": "1", "status": "active",
        "content": "complete", "hierarchyMeaning": "is-a",
        "property": [{"code": "inactive", "type": "boolean"}],
        "concept": [
            {"code": "limb", "display": "Limb", "concept": [
                {"code": "arm", "display": "Arm", "concept": [
                    {"code": "hand", "display": "Hand", "designation": [{"language": "de", "value": "Hand (de)"}]}
                ]},
                {"code": "leg", "display": "Leg", "concept": [
                    {"code": "foot", "display": "Foot", "property": [{"code": "inactive", "valueBoolean": true}]}
                ]}
            ]},
            {"code": "organ", "display": "Organ", "concept": [{"code": "heart", "display": "Heart"}]}
        ]
    });
    let limbs = json!({
        "resourceType": "ValueSet", "id": "limbs", "url": LIMBS, "version": "1", "status": "active",
        "compose": {
            "include": [{"system": BODY, "filter": [{"property": "concept", "op": "is-a", "value": "limb"}]}],
            "exclude": [{"system": BODY, "concept": [{"code": "leg"}]}]
        }
    });
    let limbs_and_organs = json!({
        "resourceType": "ValueSet", "id": "limbs-and-organs", "url": LIMBS_AND_ORGANS, "status": "active",
        "compose": {"include": [
            {"valueSet": [LIMBS]},
            {"system": BODY, "concept": [{"code": "heart"}, {"code": "organ"}]}
        ]}
    });
    let mut registry = Registry::default();
    registry.add_code_system(CodeSystemIndex::new(CodeSystem::from_json(&code_system).unwrap(), Some("body".to_owned())));
    registry.add_value_set(ValueSet::from_json(&limbs).unwrap(), Some("limbs".to_owned()));
    registry.add_value_set(ValueSet::from_json(&limbs_and_organs).unwrap(), Some("limbs-and-organs".to_owned()));
    let lay_terms = json!({
        "resourceType": "ConceptMap", "id": "lay-terms", "url": LAY_TERMS, "version": "1", "status": "active",
        "group": [{"source": BODY, "target": LAY, "element": [
            {"code": "hand", "target": [{"code": "paw", "display": "Paw", "equivalence": "equivalent"}]},
            {"code": "limb", "target": [{"code": "arm-or-leg", "relationship": "source-is-broader-than-target"}]}
        ]}]
    });
    registry.add_concept_map(lay_terms, Some("lay-terms".to_owned()));
    registry
}

/// Runs `operation` (`Type/$name`) with the parameters of a query string (`&`-separated
/// `name=value`, not percent-encoded) and compares the one-line dump of the answer with `expected`.
#[track_caller]
fn check(operation: &str, query: &str, expected: &str) {
    let params = Parameters::from_query_pairs(
        query.split('&').filter(|pair| !pair.is_empty()).map(|pair| pair.split_once('=').unwrap_or((pair, ""))),
    );
    let request = OpRequest { params, ..OpRequest::default() };
    let actual = dump(&run(operation, &registry(), &request));
    assert_eq!(actual, expected, "\n{operation}?{query}");
    if let Some(typed) = typed_answer(operation, &request) {
        assert_eq!(dump(&typed), expected, "\ntyped {operation}?{query}");
    }
}

/// The answer of the typed entry point for `$validate-code` and `$lookup`, written by its own
/// serializer (no JSON value in between) and read back; `None` for the other operations.
fn typed_answer(operation: &str, request: &OpRequest) -> Option<Result<Json, StoreError>> {
    fn written<T: serde::Serialize>(outcome: Result<T, StoreError>) -> Result<Json, StoreError> {
        outcome.map(|outcome| serde_json::from_slice(&serde_json::to_vec(&outcome).unwrap()).unwrap())
    }
    let registry = registry();
    let validate = |target| written(validate_code(&registry, &ValidateCodeRequest::new(target, request.clone())));
    match operation {
        "CodeSystem/$validate-code" => Some(validate(ValidateTarget::CodeSystem)),
        "ValueSet/$validate-code" => Some(validate(ValidateTarget::ValueSet)),
        "ConceptMap/$translate" => Some(written(typed_translate(&registry, &TranslateRequest::new(request.clone())))),
        "CodeSystem/$subsumes" => Some(written(typed_subsumes(&registry, &SubsumesRequest::new(request.clone())))),
        "CodeSystem/$lookup" => Some(written(typed_lookup(&registry, &LookupRequest::new(request.clone())))),
        _ => None,
    }
}

/// Runs each `(query, expected)` case of one operation, and names every case that failed.
#[track_caller]
fn check_all(operation: &str, cases: &[(String, &str)]) {
    let failed: Vec<String> = cases
        .iter()
        .filter_map(|(query, expected)| {
            std::panic::catch_unwind(|| check(operation, query, expected)).err().map(|_| format!("{operation}?{query}"))
        })
        .collect();
    assert!(failed.is_empty(), "failed cases:\n{}", failed.join("\n"));
}

/// The answer on one line: `name=value` per parameter (parts in parentheses), an expansion's
/// total and codes (children in brackets), an OperationOutcome's issues, or the error.
fn dump(answer: &Result<Json, StoreError>) -> String {
    match answer {
        Err(error) => format!("error {:?}: {}", error.kind, error.message()),
        Ok(resource) => dump_resource(resource),
    }
}

fn dump_resource(resource: &Json) -> String {
    match str_of(resource, "resourceType") {
        Some("Parameters") => dump_parameters(array_of(resource, "parameter")),
        Some("OperationOutcome") => array_of(resource, "issue")
            .iter()
            .map(|issue| {
                let text = issue.pointer("/details/text").and_then(Json::as_str).unwrap_or_default();
                format!("{} {}: {text}", str_of(issue, "severity").unwrap_or_default(), str_of(issue, "code").unwrap_or_default())
            })
            .collect::<Vec<_>>()
            .join("; "),
        Some("ValueSet") => {
            let expansion = resource.get("expansion").cloned().unwrap_or(Json::Null);
            let total = expansion.get("total").map(Json::to_string).unwrap_or_default();
            format!("total={total} {}", codes(array_of(&expansion, "contains")))
        }
        other => format!("{other:?}"),
    }
}

fn dump_parameters(parameters: &[Json]) -> String {
    parameters
        .iter()
        .map(|parameter| {
            let name = str_of(parameter, "name").unwrap_or_default();
            if let Some(resource) = parameter.get("resource") {
                format!("{name}[{}]", dump_resource(resource))
            } else if let Some(parts) = parameter.get("part").and_then(Json::as_array) {
                format!("{name}({})", dump_parameters(parts))
            } else {
                let value = parameter
                    .as_object()
                    .and_then(|fields| fields.iter().find(|(key, _)| key.starts_with("value")))
                    .map(|(_, value)| value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string()))
                    .unwrap_or_default();
                format!("{name}={value}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn codes(contains: &[Json]) -> String {
    contains
        .iter()
        .map(|entry| {
            let code = str_of(entry, "code").unwrap_or_default().to_owned();
            match array_of(entry, "contains") {
                [] => code,
                children => format!("{code}[{}]", codes(children)),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn lookup() {
    check_all(
        "CodeSystem/$lookup",
        &[
            (format!("system={BODY}&code=hand"), "code=hand, system=http://example.org/fhirterm/test/body, version=1, display=Hand, abstract=false, designation(language=de, value=Hand (de)), property(code=inactive, value=false), property(code=parent, value=arm, description=Arm)"),
            (format!("system={BODY}&code=foot&property=inactive"), "code=foot, system=http://example.org/fhirterm/test/body, version=1, display=Foot, abstract=false, property(code=inactive, value=true)"),
            (format!("system={BODY}&code=nose"), "error NotFound: Unknown code 'nose' in the CodeSystem 'http://example.org/fhirterm/test/body' version '1'"),
            ("system=http://example.org/unknown&code=hand".to_owned(), "error NotFound: A definition for CodeSystem 'http://example.org/unknown' could not be found, so the code cannot be looked up"),
            (format!("system={BODY}"), "error Invalid: no code given: use code or coding"),
            (format!("system={BODY}|1&code=organ&property=child"), "code=organ, system=http://example.org/fhirterm/test/body, version=1, display=Organ, abstract=false, property(code=child, value=heart, description=Heart)"),
        ],
    );
}

#[test]
fn validate_code_system() {
    check_all(
        "CodeSystem/$validate-code",
        &[
            (format!("url={BODY}"), "error Invalid: Unable to find code to validate (looked for coding | codeableConcept | code+system | code+inferSystem in parameters"),
            (format!("system={BODY}&code=arm"), "code=arm, system=http://example.org/fhirterm/test/body, version=1, display=Arm, result=true"),
            (format!("url={BODY}|1&code=hand"), "code=hand, system=http://example.org/fhirterm/test/body, version=1, display=Hand, result=true"),
            (format!("url={BODY}&code=hand"), "code=hand, system=http://example.org/fhirterm/test/body, version=1, display=Hand, result=true"),
            (format!("url={BODY}&code=hand&display=Hand (de)&displayLanguage=de"), "code=hand, system=http://example.org/fhirterm/test/body, version=1, display=Hand (de), result=true"),
            (format!("url={BODY}&code=hand&display=Foot"), "code=hand, system=http://example.org/fhirterm/test/body, version=1, display=Hand, issues[error invalid: Wrong Display Name 'Foot' for http://example.org/fhirterm/test/body#hand. Valid display is one of 2 choices: 'Hand' or 'Hand (de)' (de) (for the language(s) '--')], message=Wrong Display Name 'Foot' for http://example.org/fhirterm/test/body#hand. Valid display is one of 2 choices: 'Hand' or 'Hand (de)' (de) (for the language(s) '--'), result=false"),
            (format!("url={BODY}&code=nose"), "code=nose, system=http://example.org/fhirterm/test/body, version=1, issues[error code-invalid: Unknown code 'nose' in the CodeSystem 'http://example.org/fhirterm/test/body' version '1'], message=Unknown code 'nose' in the CodeSystem 'http://example.org/fhirterm/test/body' version '1', result=false"),
            (format!("url={BODY}&code=foot"), "code=foot, system=http://example.org/fhirterm/test/body, version=1, display=Foot, inactive=true, issues[warning business-rule: The concept 'foot' has a status of inactive and its use should be reviewed], message=The concept 'foot' has a status of inactive and its use should be reviewed, result=true"),
            (format!("url={BODY}&code=hand&version=2"), "code=hand, system=http://example.org/fhirterm/test/body, x-caused-by-unknown-system=http://example.org/fhirterm/test/body|2, issues[error not-found: A definition for CodeSystem 'http://example.org/fhirterm/test/body' version '2' could not be found, so the code cannot be validated. Valid versions: 1], message=A definition for CodeSystem 'http://example.org/fhirterm/test/body' version '2' could not be found, so the code cannot be validated. Valid versions: 1, result=false"),
        ],
    );
}

#[test]
fn validate_value_set() {
    check_all(
        "ValueSet/$validate-code",
        &[
            (format!("url={LIMBS}&system={BODY}&code=hand"), "code=hand, system=http://example.org/fhirterm/test/body, version=1, display=Hand, result=true"),
            (format!("url={LIMBS}&system={BODY}&code=leg"), "code=leg, system=http://example.org/fhirterm/test/body, version=1, display=Leg, issues[error code-invalid: The provided code 'http://example.org/fhirterm/test/body#leg' was not found in the value set 'http://example.org/fhirterm/test/ValueSet/limbs|1'], message=The provided code 'http://example.org/fhirterm/test/body#leg' was not found in the value set 'http://example.org/fhirterm/test/ValueSet/limbs|1', result=false"),
            (format!("url={LIMBS}&system={BODY}&code=heart"), "code=heart, system=http://example.org/fhirterm/test/body, version=1, display=Heart, issues[error code-invalid: The provided code 'http://example.org/fhirterm/test/body#heart' was not found in the value set 'http://example.org/fhirterm/test/ValueSet/limbs|1'], message=The provided code 'http://example.org/fhirterm/test/body#heart' was not found in the value set 'http://example.org/fhirterm/test/ValueSet/limbs|1', result=false"),
            (format!("url={LIMBS_AND_ORGANS}&system={BODY}&code=arm"), "code=arm, system=http://example.org/fhirterm/test/body, version=1, display=Arm, result=true"),
            (format!("url={LIMBS_AND_ORGANS}&system={BODY}&code=heart"), "code=heart, system=http://example.org/fhirterm/test/body, version=1, display=Heart, result=true"),
            (format!("url=http://example.org/none&system={BODY}&code=hand"), "error NotFound: A definition for the value Set 'http://example.org/none' could not be found"),
            (format!("url={LIMBS}"), "error Invalid: Unable to find code to validate (looked for coding | codeableConcept | code+system | code+inferSystem in parameters"),
        ],
    );
}

#[test]
fn expand() {
    check_all(
        "ValueSet/$expand",
        &[
            (format!("url={LIMBS}"), "total=4 limb arm hand foot"),
            (format!("url={LIMBS}&activeOnly=true"), "total=3 limb arm hand"),
            (format!("url={LIMBS}&filter=ha"), "total=1 hand"),
            (format!("url={LIMBS}&count=2&offset=1"), "total=4 arm hand"),
            (format!("url={LIMBS_AND_ORGANS}"), "total=6 limb arm hand foot heart organ"),
            (format!("url={BODY}?fhir_vs=isa/limb&filter=foot"), "total=1 foot"),
            (format!("url={BODY}?fhir_vs=isa/limb&filter=foot&activeOnly=true"), "total=0 "),
            (format!("url={LIMBS}&count=-1"), "error Invalid: The parameter 'count' must be a whole number of zero or more, not '-1'"),
        ],
    );
}

/// A stored value set is answered from the snapshot's membership, worked out once; the same
/// value set sent inline is worked out per call. Both must answer alike for every code, the
/// second call on a snapshot (membership cached) as the first.
#[test]
fn stored_value_set_membership_answers_as_the_per_call_check() {
    const LISTED: &str = "http://example.org/fhirterm/test/ValueSet/listed-active";
    let listed = json!({
        "resourceType": "ValueSet", "id": "listed-active", "url": LISTED, "version": "1", "status": "active",
        "compose": {"inactive": false, "include": [
            {"system": BODY, "concept": [{"code": "heart"}, {"code": "foot"}, {"code": "Hand"}]},
            {"system": BODY, "filter": [{"property": "concept", "op": "is-a", "value": "leg"}]}
        ], "exclude": [{"system": BODY, "concept": [{"code": "leg"}]}]}
    });
    let mut registry = registry();
    registry.add_value_set(ValueSet::from_json(&listed).unwrap(), Some("listed-active".to_owned()));
    let limbs = registry.value_set(LIMBS, None).unwrap().value_set.resource.clone();
    let answer = |params: Vec<Json>| {
        let call = OpRequest { params: Parameters::from_entries(params), ..OpRequest::default() };
        dump(&validate_code(&registry, &ValidateCodeRequest::new(ValidateTarget::ValueSet, call)).map(|outcome| outcome.to_json()))
    };
    for (url, resource) in [(LIMBS, limbs), (LISTED, listed)] {
        for code in ["limb", "arm", "hand", "Hand", "leg", "foot", "organ", "heart", "nose"] {
            let coding = [json!({"name": "system", "valueUri": BODY}), json!({"name": "code", "valueCode": code})];
            let stored = || answer([vec![json!({"name": "url", "valueUri": url})], coding.to_vec()].concat());
            let inline = answer([vec![json!({"name": "valueSet", "resource": resource})], coding.to_vec()].concat());
            let first = stored();
            assert_eq!(first, inline, "{url} {code}");
            assert_eq!(stored(), first, "{url} {code}, membership cached");
        }
    }
    assert!(answer(vec![
        json!({"name": "url", "valueUri": LISTED}),
        json!({"name": "system", "valueUri": BODY}),
        json!({"name": "code", "valueCode": "heart"})
    ])
    .contains("result=true"));
}

#[test]
fn batch_validate_code() {
    let validation = |code: &str| {
        json!({"name": "validation", "resource": {"resourceType": "Parameters", "parameter": [
            {"name": "system", "valueUri": BODY}, {"name": "code", "valueCode": code}
        ]}})
    };
    let params = Parameters::from_entries(vec![json!({"name": "url", "valueUri": LIMBS}), validation("hand"), validation("heart")]);
    let request = OpRequest { params, ..OpRequest::default() };
    let actual = dump(&run("ValueSet/$batch-validate-code", &registry(), &request));
    let typed = validate_code_batch(&registry(), &BatchValidateRequest::new(request.clone())).unwrap();
    let written: Json = serde_json::from_slice(&serde_json::to_vec(&typed).unwrap()).unwrap();
    assert_eq!(dump(&Ok(written)), actual, "the typed batch writes what the named one answers");
    assert_eq!(actual, "validation[code=hand, system=http://example.org/fhirterm/test/body, version=1, display=Hand, result=true], validation[code=heart, system=http://example.org/fhirterm/test/body, version=1, display=Heart, issues[error code-invalid: The provided code 'http://example.org/fhirterm/test/body#heart' was not found in the value set 'http://example.org/fhirterm/test/ValueSet/limbs|1'], message=The provided code 'http://example.org/fhirterm/test/body#heart' was not found in the value set 'http://example.org/fhirterm/test/ValueSet/limbs|1', result=false]");
}

#[test]
fn subsumes() {
    check_all(
        "CodeSystem/$subsumes",
        &[
            (format!("system={BODY}&codeA=limb&codeB=hand"), "outcome=subsumes"),
            (format!("system={BODY}&codeA=hand&codeB=limb"), "outcome=subsumed-by"),
            (format!("system={BODY}&codeA=hand&codeB=hand"), "outcome=equivalent"),
            (format!("system={BODY}&codeA=hand&codeB=heart"), "outcome=not-subsumed"),
            (format!("system={BODY}&codeA=hand"), "error Invalid: no code given: use codeB or codingB"),
            (
                format!("system={BODY}&codeA=hand&codeB=nose"),
                "error NotFound: Unknown code 'nose' in the CodeSystem 'http://example.org/fhirterm/test/body' version '1'",
            ),
        ],
    );
}

/// Times the two ways an answer leaves the store, over 5,000 rotating codes of one code system:
/// the named dispatcher rendering a JSON value then text (the path every answer took before the
/// typed outcomes), and the typed entry point writing its outcome straight to bytes. It prints
/// the figures and asserts only that both write the same answer; run it with
/// `cargo test -p store --release --lib ops::tests::render_paths_timed -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, not a test: prints timings"]
fn render_paths_timed() {
    const CODES: usize = 5_000;
    const SYSTEM: &str = "http://example.org/fhirterm/test/many";
    let concepts: Vec<Json> = (0..CODES)
        .map(|n| {
            json!({"code": format!("C{n:05}"), "display": format!("Concept number {n}"),
                "property": [{"code": "inactive", "valueBoolean": n % 10 == 0}]})
        })
        .collect();
    let code_system = json!({
        "resourceType": "CodeSystem", "id": "many", "url": SYSTEM, "version": "1", "status": "active",
        "content": "complete", "property": [{"code": "inactive", "type": "boolean"}], "concept": concepts
    });
    let mut registry = Registry::default();
    registry.add_code_system(CodeSystemIndex::new(CodeSystem::from_json(&code_system).unwrap(), Some("many".to_owned())));
    let requests: Vec<OpRequest> = (0..CODES)
        .map(|n| {
            let code = format!("C{n:05}");
            let display = format!("Concept number {n}");
            let params =
                Parameters::from_query_pairs([("url", SYSTEM), ("system", SYSTEM), ("code", code.as_str()), ("display", display.as_str())]);
            OpRequest { params, ..OpRequest::default() }
        })
        .collect();
    let time = |label: &str, call: &dyn Fn(&OpRequest) -> Vec<u8>| {
        let mut bytes = 0;
        for request in &requests {
            bytes += call(request).len();
        }
        let rounds = 20;
        let started = std::time::Instant::now();
        for _ in 0..rounds {
            for request in &requests {
                bytes += call(request).len();
            }
        }
        let per_call = started.elapsed() / (rounds * CODES) as u32;
        println!("{label}: {per_call:?} per call ({bytes} bytes written)");
        per_call
    };
    for request in requests.iter().step_by(997) {
        let through_value = run("CodeSystem/$validate-code", &registry, request).unwrap().to_string();
        let typed = validate_code(&registry, &ValidateCodeRequest::new(ValidateTarget::CodeSystem, request.clone())).unwrap();
        assert_eq!(serde_json::to_string(&typed).unwrap(), through_value);
    }
    let value_path = time("$validate-code through a JSON value", &|request| {
        run("CodeSystem/$validate-code", &registry, request).unwrap().to_string().into_bytes()
    });
    let typed_path = time("$validate-code typed, written directly", &|request| {
        let typed = ValidateCodeRequest::new(ValidateTarget::CodeSystem, request.clone());
        serde_json::to_vec(&validate_code(&registry, &typed).unwrap()).unwrap()
    });
    println!("validate-code: typed path takes {:.2} of the value path", typed_path.as_secs_f64() / value_path.as_secs_f64());
    let value_path =
        time("$lookup through a JSON value", &|request| run("CodeSystem/$lookup", &registry, request).unwrap().to_string().into_bytes());
    let typed_path = time("$lookup typed, written directly", &|request| {
        serde_json::to_vec(&typed_lookup(&registry, &LookupRequest::new(request.clone())).unwrap()).unwrap()
    });
    println!("lookup: typed path takes {:.2} of the value path", typed_path.as_secs_f64() / value_path.as_secs_f64());
}

#[test]
fn translate() {
    check_all(
        "ConceptMap/$translate",
        &[
            (format!("system={BODY}&code=hand"), "result=true, match(equivalence=equivalent, concept={\"system\":\"http://example.org/fhirterm/test/lay\",\"code\":\"paw\",\"display\":\"Paw\"}, originMap=http://example.org/fhirterm/test/ConceptMap/lay-terms|1)"),
            (format!("system={BODY}&code=limb&targetSystem={LAY}"), "result=true, match(equivalence=narrower, concept={\"system\":\"http://example.org/fhirterm/test/lay\",\"code\":\"arm-or-leg\"}, originMap=http://example.org/fhirterm/test/ConceptMap/lay-terms|1)"),
            (format!("targetSystem={LAY}&targetCode=paw"), "result=true, match(equivalence=equivalent, concept={\"code\":\"paw\",\"system\":\"http://example.org/fhirterm/test/lay\"}, source={\"system\":\"http://example.org/fhirterm/test/body\",\"code\":\"hand\"}, originMap=http://example.org/fhirterm/test/ConceptMap/lay-terms|1)"),
            (format!("system={BODY}&code=heart"), "result=false, message=No mappings could be found for http://example.org/fhirterm/test/body#heart"),
            (format!("system={BODY}&code=hand&targetSystem=http://example.org/other"), "result=false, message=No mappings could be found for http://example.org/fhirterm/test/body#hand"),
            (format!("url=http://example.org/no-map&system={BODY}&code=hand"), "error NotFound: A definition for the ConceptMap 'http://example.org/no-map' could not be found"),
            (format!("system={BODY}"), "error Invalid: no code to translate: give code, coding, sourceCode or targetCode"),
        ],
    );
}
