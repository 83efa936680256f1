//! Runs `$validate-code` and `$lookup` calls in process, the way the server makes them from a GET
//! query string, for profiling one call: `cargo build -p store --example validate_code_calls`, then
//!
//!     valgrind --tool=callgrind --toggle-collect='*validate_code_calls::one_call*' \
//!         target/debug/examples/validate_code_calls cs 200
//!
//! and divide the instructions by the number of calls. The kinds are `cs` (CodeSystem
//! `$validate-code` by `url` and `code`), `vs` (ValueSet `$validate-code` against a stored value
//! set of the billable codes, by `url`, `system` and `code`) and `lookup`. The code system is an
//! ICD-10-CM-shaped one of 20,000 codes, 80% of them billable, built in memory (no database).
//! Not a test: no speed is asserted, and it prints only how many bytes the answers took.

use model::fhir::Parameters;
use model::terminology::{CodeSystem, ValueSet};
use serde_json::json;
use std::time::{Duration, Instant};
use store::index::{CodeSystemIndex, Registry};
use store::{LookupRequest, OpRequest, ValidateCodeRequest, ValidateTarget};

const SYSTEM: &str = "http://example.org/fhirterm/profile/icd";
const VALUE_SET: &str = "http://example.org/fhirterm/profile/ValueSet/billable";
const N_CODES: usize = 20_000;

fn code_of(n: usize) -> String {
    format!("{}{:02}.{}", (b'A' + (n / 1000 % 26) as u8) as char, n / 10 % 100, n % 10)
}

fn registry() -> Registry {
    let concepts: Vec<serde_json::Value> = (0..N_CODES)
        .map(|n| {
            json!({"code": code_of(n), "display": format!("Condition number {n}"),
                "property": [{"code": "billable", "valueBoolean": n % 5 != 0}]})
        })
        .collect();
    let code_system = json!({
        "resourceType": "CodeSystem", "id": "icd", "url": SYSTEM, "version": "2026", "status": "active",
        "content": "complete", "caseSensitive": true,
        "property": [{"code": "billable", "type": "boolean"}], "concept": concepts
    });
    let value_set = json!({
        "resourceType": "ValueSet", "id": "billable", "url": VALUE_SET, "version": "2026", "status": "active",
        "compose": {"include": [{"system": SYSTEM, "version": "2026",
            "filter": [{"property": "billable", "op": "=", "value": "true"}]}]}
    });
    let mut registry = Registry::default();
    registry.add_code_system(CodeSystemIndex::new(CodeSystem::from_json(&code_system).unwrap(), Some("icd".to_owned())));
    registry.add_value_set(ValueSet::from_json(&value_set).unwrap(), Some("billable".to_owned()));
    registry
}

/// One call as the server makes it: the decoded query pairs, the call's limits, the typed
/// request, the store, and the answer written as JSON bytes.
#[inline(never)]
fn call(registry: &Registry, kind: &str, code: &str) -> usize {
    let pairs: Vec<(&str, &str)> = match kind {
        "vs" => vec![("url", VALUE_SET), ("system", SYSTEM), ("code", code)],
        _ => vec![("url", SYSTEM), ("system", SYSTEM), ("code", code)],
    };
    let call = OpRequest {
        params: Parameters::from_query_pairs(pairs),
        too_costly_threshold: Some(10_000),
        deadline: Some(Instant::now() + Duration::from_secs(30)),
        ..OpRequest::default()
    };
    let written = match kind {
        "lookup" => serde_json::to_vec(&store::ops::lookup(registry, &LookupRequest::new(call)).unwrap()),
        "vs" => {
            serde_json::to_vec(&store::ops::validate_code(registry, &ValidateCodeRequest::new(ValidateTarget::ValueSet, call)).unwrap())
        }
        _ => serde_json::to_vec(&store::ops::validate_code(registry, &ValidateCodeRequest::new(ValidateTarget::CodeSystem, call)).unwrap()),
    };
    written.unwrap().len()
}

/// [`call`], under the name callgrind's `--toggle-collect` counts.
#[inline(never)]
fn one_call(registry: &Registry, kind: &str, code: &str) -> usize {
    call(registry, kind, code)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let kind = args.next().unwrap_or_else(|| "cs".to_owned());
    let calls: usize = args.next().and_then(|text| text.parse().ok()).unwrap_or(200);
    assert!(matches!(kind.as_str(), "cs" | "vs" | "lookup"), "the kind is cs, vs or lookup, not {kind}");
    let registry = registry();
    // The first call builds what a snapshot builds once (the value set's membership); not profiled.
    let mut bytes = call(&registry, &kind, &code_of(1));
    let started = Instant::now();
    for n in 0..calls {
        bytes += one_call(&registry, &kind, &code_of(n * 7919 % N_CODES));
    }
    println!("{calls} {kind} calls in {:?}, {bytes} bytes written", started.elapsed());
}
