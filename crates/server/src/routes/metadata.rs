//! `GET /fhir/metadata`: the CapabilityStatement, or with `mode=terminology` the
//! TerminologyCapabilities listing what is loaded. Both describe only what really works.

use super::operations::OPERATIONS;
use crate::error::ApiError;
use crate::wire::{self, Format};
use crate::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use model::fhir::{FHIR_VERSION, TERMINOLOGY_RESOURCE_TYPES};
use serde_json::json;

const RELEASE_DATE: &str = "2026-11-22";

fn operation_definition(name: &str) -> String {
    let canonical = match name {
        "lookup" => "CodeSystem-lookup",
        "subsumes" => "CodeSystem-subsumes",
        "expand" => "ValueSet-expand",
        "translate" => "ConceptMap-translate",
        "batch-validate-code" => "ValueSet-batch-validate-code",
        // A draft operation (HL7's `related` tests), not defined by the R4 specification.
        "compare" => "ValueSet-compare",
        _ => "Resource-validate",
    };
    format!("http://hl7.org/fhir/OperationDefinition/{canonical}")
}

fn capability_statement() -> serde_json::Value {
    let resources: Vec<serde_json::Value> = TERMINOLOGY_RESOURCE_TYPES
        .iter()
        .map(|resource_type| {
            let operations: Vec<serde_json::Value> = OPERATIONS
                .iter()
                .filter_map(|qualified| qualified.strip_prefix(&format!("{resource_type}/$")))
                .map(|name| {
                    let definition = if name == "validate-code" {
                        format!("http://hl7.org/fhir/OperationDefinition/{resource_type}-validate-code")
                    } else {
                        operation_definition(name)
                    };
                    json!({"name": name, "definition": definition})
                })
                .collect();
            let unique = if *resource_type == "ConceptMap" {
                ""
            } else {
                " A url and version already stored under another id is refused with 422 (business rule)."
            };
            json!({
                "type": resource_type,
                "profile": format!("http://hl7.org/fhir/StructureDefinition/{resource_type}"),
                "interaction": [
                    {"code": "read", "documentation": "Answers ETag W/\"versionId\"; honours _summary (true, text, data) and _elements."},
                    {"code": "vread", "documentation": "Only the current version is kept: _history/{vid} answers it when vid is current, and 404 naming the current version otherwise."},
                    {"code": "search-type", "documentation": "Honours _summary (true, text, data, count), _elements, _count and _offset."},
                    {"code": "create", "documentation": format!("Honours If-None-Exist (conditional create).{unique}")},
                    {"code": "update", "documentation": format!("Honours If-Match W/\"versionId\" (412 on mismatch).{unique}")},
                    {"code": "delete", "documentation": "Honours If-Match W/\"versionId\" (412 on mismatch)."}
                ],
                "versioning": "versioned-update",
                "readHistory": false,
                "updateCreate": true,
                "conditionalCreate": true,
                "conditionalRead": "not-supported",
                "conditionalUpdate": false,
                "conditionalDelete": "not-supported",
                "searchParam": [
                    {"name": "_id", "type": "token"}, {"name": "url", "type": "uri"}, {"name": "version", "type": "token"},
                    {"name": "name", "type": "string"}, {"name": "title", "type": "string"}, {"name": "status", "type": "token"}
                ],
                "operation": operations
            })
        })
        .collect();
    json!({
        "resourceType": "CapabilityStatement",
        "extension": [
            {"url": "http://hl7.org/fhir/uv/application-feature/StructureDefinition/feature", "extension": [
                {"url": "definition", "valueCanonical": "http://hl7.org/fhir/uv/tx-tests/FeatureDefinition/test-version"},
                {"url": "value", "valueCode": "1.9.3"}]},
            {"url": "http://hl7.org/fhir/uv/application-feature/StructureDefinition/feature", "extension": [
                {"url": "definition", "valueCanonical": "http://hl7.org/fhir/uv/tx-ecosystem/FeatureDefinition/CodeSystemAsParameter"},
                {"url": "value", "valueBoolean": true}]}
        ],
        "url": "http://fhirterm.dev/fhir/CapabilityStatement/fhirterm",
        "version": env!("CARGO_PKG_VERSION"),
        "name": "fhirterm",
        "title": "fhirterm FHIR terminology server",
        "status": "active",
        "date": RELEASE_DATE,
        "kind": "instance",
        "instantiates": ["http://hl7.org/fhir/CapabilityStatement/terminology-server"],
        "software": {"name": "fhirterm", "version": env!("CARGO_PKG_VERSION"), "releaseDate": RELEASE_DATE},
        "implementation": {"description": "fhirterm"},
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json", "application/fhir+xml"],
        "rest": [{
            "mode": "server",
            "resource": resources,
            "operation": [{"name": "versions", "definition": "http://hl7.org/fhir/OperationDefinition/CapabilityStatement-versions"}]
        }]
    })
}

/// `rest.security` when tokens are checked: SMART on FHIR scopes in bearer tokens (see `auth`).
fn with_security(mut statement: serde_json::Value, auth: &crate::AuthConfig) -> serde_json::Value {
    if auth.keys.is_empty() {
        return statement;
    }
    let reads = if auth.read_requires_auth { "reads, searches and operations" } else { "restricted code systems" };
    statement["rest"][0]["security"] = serde_json::json!({
        "service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "SMART-on-FHIR",
            "display": "SMART-on-FHIR"}]}],
        "description": format!("Bearer tokens (JWT) with SMART on FHIR v1 or v2 scopes: writes and uploads need the write scope of their resource type; {reads} need a read scope.")
    });
    statement
}

fn terminology_capabilities(state: &AppState) -> serde_json::Value {
    let mut code_systems: Vec<serde_json::Value> = Vec::new();
    let mut current: Option<(String, Vec<serde_json::Value>)> = None;
    for (url, version) in state.terminology.registry().code_system_list() {
        if current.as_ref().is_some_and(|(current_url, _)| *current_url != url) {
            let (done_url, versions) = current.take().unwrap_or_default();
            code_systems.push(json!({"uri": done_url, "version": versions}));
        }
        let entry = current.get_or_insert_with(|| (url.clone(), Vec::new()));
        if let Some(version) = version {
            entry.1.push(json!({"code": version}));
        }
    }
    if let Some((url, versions)) = current {
        code_systems.push(json!({"uri": url, "version": versions}));
    }
    let parameters: Vec<serde_json::Value> = [
        "activeOnly",
        "check-system-version",
        "count",
        "displayLanguage",
        "excludeNested",
        "filter",
        "force-system-version",
        "includeDefinition",
        "includeDesignations",
        "offset",
        "property",
        "system-version",
        "tx-resource",
    ]
    .iter()
    .map(|name| json!({"name": name}))
    .collect();
    json!({
        "resourceType": "TerminologyCapabilities",
        "url": "http://fhirterm.dev/fhir/TerminologyCapabilities/fhirterm",
        "version": env!("CARGO_PKG_VERSION"),
        "name": "fhirterm",
        "title": "fhirterm terminology capabilities",
        "status": "active",
        "date": RELEASE_DATE,
        "kind": "instance",
        "codeSystem": code_systems,
        "expansion": {"hierarchical": true, "paging": true, "parameter": parameters, "textFilter": "word prefixes of displays and designations, ignoring case and accents"},
        "validateCode": {"translations": false},
        "translation": {"needsMap": false}
    })
}

pub async fn metadata(state: web::Data<AppState>, format: Format, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let mode =
        url::form_urlencoded::parse(request.query_string().as_bytes()).find(|(key, _)| key == "mode").map(|(_, value)| value.into_owned());
    let resource = match mode.as_deref() {
        None | Some("full") | Some("normative") => with_security(capability_statement(), &state.config.auth),
        Some("terminology") => terminology_capabilities(&state),
        Some(other) => return Err(ApiError::bad_request(format!("unknown metadata mode '{other}'"))),
    };
    Ok(wire::respond(StatusCode::OK, &resource, format))
}
