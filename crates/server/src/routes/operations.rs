//! The terminology operations over HTTP: parameters in (query string, form or `Parameters`
//! body), the store facade, the answer out.

use crate::auth::{self, Action, Principal};
use crate::error::ApiError;
use crate::wire::{self, Format};
use crate::AppState;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use model::fhir::{str_of, Parameters};
use model::Json;
use serde_json::json;
use std::collections::BTreeSet;
use store::index::Registry;
use store::OpRequest;

/// The operations each resource type offers, as `Type/$name`.
pub const OPERATIONS: &[&str] = &[
    "CodeSystem/$lookup",
    "CodeSystem/$validate-code",
    "CodeSystem/$subsumes",
    "ValueSet/$validate-code",
    "ValueSet/$batch-validate-code",
    "ValueSet/$expand",
    "ValueSet/$compare",
    "ConceptMap/$translate",
];

fn operation_name(resource_type: &str, operation: &str, format: Format) -> Result<String, ApiError> {
    let name = format!("{resource_type}/{operation}");
    if OPERATIONS.contains(&name.as_str()) {
        Ok(name)
    } else {
        Err(ApiError::not_found(format!("operation {operation} is not supported on {resource_type}")).in_format(format))
    }
}

fn op_request(state: &AppState, request: &HttpRequest, params: Parameters, instance_id: Option<String>) -> OpRequest {
    let header_text = |name: &str| request.headers().get(name).and_then(|value| value.to_str().ok()).map(str::to_owned);
    OpRequest {
        params,
        instance_id,
        accept_language: header_text("accept-language"),
        too_costly_threshold: Some(
            header_text("x-too-costly-threshold").and_then(|text| text.trim().parse().ok()).unwrap_or(state.config.too_costly_threshold),
        ),
    }
}

fn strings_in(value: &Json, out: &mut BTreeSet<String>) {
    match value {
        Json::String(text) => {
            out.insert(text.clone());
        }
        Json::Array(items) => items.iter().for_each(|item| strings_in(item, out)),
        Json::Object(map) => map.values().for_each(|item| strings_in(item, out)),
        _ => {}
    }
}

fn value_set_systems(registry: &Registry, canonical: &str, seen: &mut BTreeSet<String>, systems: &mut BTreeSet<String>) {
    if !seen.insert(canonical.to_owned()) || seen.len() > 10_000 {
        return;
    }
    let (url, version) = match canonical.split_once('|') {
        Some((url, version)) => (url, Some(version)),
        None => (canonical, None),
    };
    let Some(entry) = registry.value_set(url, version) else { return };
    let Some(compose) = &entry.value_set.compose else { return };
    for concept_set in compose.include.iter().chain(&compose.exclude) {
        if let Some(system) = &concept_set.system {
            systems.insert(system.clone());
        }
        for value_set in &concept_set.value_sets {
            value_set_systems(registry, value_set, seen, systems);
        }
    }
}

/// Every code system an operation request names, directly (`system`, `url`, `coding.system`,
/// content sent as `tx-resource`, the instance) or through a value set it names: what the
/// restricted-system check looks at. Any string in the parameters counts, so that no parameter
/// name is missed; only those that name a restricted system or a value set matter.
pub fn systems_named(registry: &Registry, resource_type: &str, request: &OpRequest) -> BTreeSet<String> {
    let mut strings = BTreeSet::new();
    for entry in &request.params.entries {
        strings_in(entry, &mut strings);
    }
    if let Some(id) = &request.instance_id {
        match resource_type {
            "CodeSystem" => {
                if let Some(index) = registry.code_system_by_id(id) {
                    strings.insert(index.url().to_owned());
                }
            }
            "ValueSet" => {
                if let Some(entry) = registry.value_set_by_id(id) {
                    if let Some(url) = &entry.value_set.url {
                        strings.insert(url.clone());
                    }
                    strings_in(&entry.value_set.resource, &mut strings);
                }
            }
            _ => {
                if let Some(entry) = registry.concept_map_by_id(id) {
                    strings_in(&entry.resource, &mut strings);
                }
            }
        }
    }
    let mut systems = BTreeSet::new();
    let mut seen = BTreeSet::new();
    for text in &strings {
        let url = text.split('|').next().unwrap_or(text);
        systems.insert(url.to_owned());
        if let Some(index) = registry.code_system(url, None) {
            systems.insert(index.url().to_owned());
        }
        value_set_systems(registry, text, &mut seen, &mut systems);
    }
    systems
}

fn run(
    state: &AppState,
    principal: Option<&Principal>,
    name: &str,
    op_request: OpRequest,
    format: Format,
) -> Result<HttpResponse, ApiError> {
    if !state.config.auth.restricted.is_empty() {
        let resource_type = name.split('/').next().unwrap_or_default();
        let systems = systems_named(&state.terminology.registry(), resource_type, &op_request);
        auth::require_systems(&state.config.auth, principal, systems.iter().map(String::as_str))
            .map_err(|error| error.in_format(format))?;
    }
    let answer = state.terminology.operation(name, &op_request).map_err(|error| ApiError::from(error).in_format(format))?;
    Ok(wire::respond(StatusCode::OK, &answer, format))
}

fn query_parameters(request: &HttpRequest) -> Parameters {
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(request.query_string().as_bytes()).into_owned().filter(|(key, _)| key != "_format").collect();
    Parameters::from_query_pairs(pairs.iter().map(|(key, value)| (key.as_str(), value.as_str())))
}

pub fn run_get(
    state: &AppState,
    principal: Option<&Principal>,
    request: &HttpRequest,
    resource_type: &str,
    id: Option<String>,
    operation: &str,
    format: Format,
) -> Result<HttpResponse, ApiError> {
    let name = operation_name(resource_type, operation, format)?;
    run(state, principal, &name, op_request(state, request, query_parameters(request), id), format)
}

pub fn run_post(
    state: &AppState,
    principal: Option<&Principal>,
    request: &HttpRequest,
    resource_type: &str,
    id: Option<String>,
    operation: &str,
    body: &[u8],
    format: Format,
) -> Result<HttpResponse, ApiError> {
    let name = operation_name(resource_type, operation, format)?;
    let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or_default();
    let params = if content_type.starts_with("application/x-www-form-urlencoded") {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
        Parameters::from_query_pairs(pairs.iter().map(|(key, value)| (key.as_str(), value.as_str())))
    } else if body.iter().all(u8::is_ascii_whitespace) {
        query_parameters(request)
    } else {
        let resource = wire::parse_resource(request, body).map_err(|error| error.in_format(format))?;
        if str_of(&resource, "resourceType") != Some("Parameters") {
            return Err(ApiError::bad_request(format!(
                "an operation body must be a Parameters resource, not {}",
                str_of(&resource, "resourceType").unwrap_or_default()
            ))
            .in_format(format));
        }
        let mut params = Parameters::from_resource(&resource);
        params.entries.extend(query_parameters(request).entries);
        params
    };
    run(state, principal, &name, op_request(state, request, params, id), format)
}

pub async fn instance_get(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let format = wire::response_format(&request)?;
    let (resource_type, id, operation) = path.into_inner();
    let principal =
        auth::require_read(&state.config.auth, &request, &resource_type, Action::Read).map_err(|error| error.in_format(format))?;
    run_get(&state, principal.as_ref(), &request, &resource_type, Some(id), &operation, format)
}

pub async fn instance_post(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<(String, String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let format = wire::response_format(&request)?;
    let (resource_type, id, operation) = path.into_inner();
    let principal =
        auth::require_read(&state.config.auth, &request, &resource_type, Action::Read).map_err(|error| error.in_format(format))?;
    let body = wire::read_body(payload, state.config.max_body_bytes).await.map_err(|error| error.in_format(format))?;
    run_post(&state, principal.as_ref(), &request, &resource_type, Some(id), &operation, &body, format)
}

/// `$versions`: the FHIR versions this server speaks.
pub fn system_operation(operation: &str, format: Format) -> Result<HttpResponse, ApiError> {
    match operation {
        "$versions" => {
            let answer = json!({"resourceType": "Parameters", "parameter": [
                {"name": "version", "valueString": "4.0"},
                {"name": "default", "valueString": "4.0"}
            ]});
            Ok(wire::respond(StatusCode::OK, &answer, format))
        }
        other => Err(ApiError::not_found(format!("operation {other} is not supported at the system level")).in_format(format)),
    }
}
