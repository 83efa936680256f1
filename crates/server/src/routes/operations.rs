//! The terminology operations over HTTP: parameters in (query string, form or `Parameters`
//! body), the store facade, the answer out.

use crate::auth::{self, Action, Caller, Principal};
use crate::error::ApiError;
use crate::wire::{self, Format};
use crate::AppState;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use model::fhir::{str_of, Parameters};
use serde_json::json;
use std::time::Instant;
use store::{
    BatchValidateRequest, ExpandRequest, LookupRequest, OpRequest, StoreErrorKind, SubsumesRequest, TranslateRequest, ValidateCodeRequest,
    ValidateTarget,
};

/// The operations each resource type offers, as `Type/$name`.
pub use store::ops::OPERATIONS;
fn operation_name(resource_type: &str, operation: &str) -> Result<String, ApiError> {
    let name = format!("{resource_type}/{operation}");
    if OPERATIONS.contains(&name.as_str()) {
        Ok(name)
    } else {
        Err(ApiError::not_found(format!("operation {operation} is not supported on {resource_type}")))
    }
}

fn op_request(
    state: &AppState,
    principal: Option<&Principal>,
    request: &HttpRequest,
    params: Parameters,
    instance_id: Option<String>,
) -> OpRequest {
    let header_text = |name: &str| request.headers().get(name).and_then(|value| value.to_str().ok()).map(str::to_owned);
    OpRequest {
        params,
        instance_id,
        accept_language: header_text("accept-language"),
        too_costly_threshold: Some(
            header_text("x-too-costly-threshold").and_then(|text| text.trim().parse().ok()).unwrap_or(state.config.too_costly_threshold),
        ),
        denied_systems: auth::denied_systems(&state.config.auth, principal),
        deadline: Some(Instant::now() + state.config.request_time_budget),
    }
}

/// From this many entries on, an expansion is streamed to the body as it is written.
const STREAM_FROM_ENTRIES: usize = 1_000;

async fn run(
    state: &web::Data<AppState>,
    principal: Option<&Principal>,
    name: String,
    op_request: OpRequest,
    format: Format,
) -> Result<HttpResponse, ApiError> {
    let refused = |error: store::StoreError| match error.kind {
        StoreErrorKind::Forbidden => auth::refusal(principal, error.message()),
        _ => ApiError::from(error),
    };
    // The hot path: a typed request, a typed answer written straight to the body.
    match name.as_str() {
        "CodeSystem/$validate-code" | "ValueSet/$validate-code" => {
            let target = if name.starts_with("CodeSystem/") { ValidateTarget::CodeSystem } else { ValidateTarget::ValueSet };
            let outcome = state.terminology.validate_code(&ValidateCodeRequest::new(target, op_request)).map_err(refused)?;
            return Ok(wire::respond_typed(StatusCode::OK, &outcome, format));
        }
        "CodeSystem/$lookup" => {
            let outcome = state.terminology.lookup(&LookupRequest::new(op_request)).map_err(refused)?;
            return Ok(wire::respond_typed(StatusCode::OK, &outcome, format));
        }
        "ValueSet/$batch-validate-code" => {
            let request = BatchValidateRequest::new(op_request);
            let outcome = on_blocking_pool(state, move |terminology| terminology.validate_code_batch(&request)).await?.map_err(refused)?;
            return Ok(wire::respond_typed(StatusCode::OK, &outcome, format));
        }
        "ConceptMap/$translate" => {
            let outcome = state.terminology.translate(&TranslateRequest::new(op_request)).map_err(refused)?;
            return Ok(wire::respond_typed(StatusCode::OK, &outcome, format));
        }
        // Its cost grows with the content and the request: it runs on the blocking pool, so that
        // it never holds up an HTTP worker and the cheap calls behind it.
        "ValueSet/$expand" => {
            let request = ExpandRequest::new(op_request);
            let outcome = on_blocking_pool(state, move |terminology| terminology.expand(&request)).await?.map_err(refused)?;
            return Ok(if outcome.len() >= STREAM_FROM_ENTRIES {
                wire::respond_streamed(StatusCode::OK, outcome, format)
            } else {
                wire::respond_typed(StatusCode::OK, &outcome, format)
            });
        }
        "CodeSystem/$subsumes" => {
            let outcome = state.terminology.subsumes(&SubsumesRequest::new(op_request)).map_err(refused)?;
            return Ok(wire::respond_typed(StatusCode::OK, &outcome, format));
        }
        _ => {}
    }
    // `$compare` expands two value sets: the blocking pool, as `$expand`.
    let answer = on_blocking_pool(state, move |terminology| terminology.operation(&name, &op_request)).await?.map_err(refused)?;
    Ok(wire::respond(StatusCode::OK, &answer, format))
}

/// Runs a store call on actix's blocking pool, off the HTTP workers; the error is the pool's,
/// the inner result the store's.
async fn on_blocking_pool<T: Send + 'static>(
    state: &web::Data<AppState>,
    call: impl FnOnce(&store::Terminology) -> Result<T, store::StoreError> + Send + 'static,
) -> Result<Result<T, store::StoreError>, ApiError> {
    let state = state.clone();
    web::block(move || call(&state.terminology)).await.map_err(|error| ApiError::internal(format!("the operation could not run: {error}")))
}

/// The `name=value` pairs of a query string or form, decoded once and kept as text: the typed
/// request reads them directly, with no JSON built on the way.
fn decoded_pairs(encoded: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(encoded).into_owned().collect()
}

/// The query string's parameters, but `_format`, which chose the response format.
fn query_parameters(request: &HttpRequest) -> Parameters {
    let mut pairs = decoded_pairs(request.query_string().as_bytes());
    pairs.retain(|(key, _)| key != "_format");
    Parameters::from_pairs(pairs)
}

pub async fn run_get(
    state: &web::Data<AppState>,
    principal: Option<&Principal>,
    request: &HttpRequest,
    resource_type: &str,
    id: Option<String>,
    operation: &str,
    format: Format,
) -> Result<HttpResponse, ApiError> {
    let name = operation_name(resource_type, operation)?;
    let op_request = op_request(state, principal, request, query_parameters(request), id);
    run(state, principal, name, op_request, format).await
}

pub async fn run_post(
    state: &web::Data<AppState>,
    principal: Option<&Principal>,
    request: &HttpRequest,
    resource_type: &str,
    id: Option<String>,
    operation: &str,
    body: &[u8],
    format: Format,
) -> Result<HttpResponse, ApiError> {
    let name = operation_name(resource_type, operation)?;
    let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or_default();
    let params = if content_type.starts_with("application/x-www-form-urlencoded") {
        Parameters::from_pairs(decoded_pairs(body))
    } else if body.iter().all(u8::is_ascii_whitespace) {
        query_parameters(request)
    } else {
        let resource = wire::parse_resource(request, body)?;
        if str_of(&resource, "resourceType") != Some("Parameters") {
            return Err(ApiError::bad_request(format!(
                "an operation body must be a Parameters resource, not {}",
                str_of(&resource, "resourceType").unwrap_or_default()
            )));
        }
        let mut params = Parameters::from_resource(&resource);
        params.pairs = query_parameters(request).pairs;
        params
    };
    let op_request = op_request(state, principal, request, params, id);
    run(state, principal, name, op_request, format).await
}

pub async fn instance_get(
    state: web::Data<AppState>,
    format: Format,
    caller: Caller,
    request: HttpRequest,
    (resource_type, id, operation): (String, String, String),
) -> Result<HttpResponse, ApiError> {
    let principal = caller.may_read(&state.config.auth, &resource_type, Action::Read)?;
    run_get(&state, principal.as_ref(), &request, &resource_type, Some(id), &operation, format).await
}

pub async fn instance_post(
    state: web::Data<AppState>,
    format: Format,
    caller: Caller,
    request: HttpRequest,
    (resource_type, id, operation): (String, String, String),
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let principal = caller.may_read(&state.config.auth, &resource_type, Action::Read)?;
    let body = wire::read_body(payload, state.config.max_body_bytes).await?;
    run_post(&state, principal.as_ref(), &request, &resource_type, Some(id), &operation, &body, format).await
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
        other => Err(ApiError::not_found(format!("operation {other} is not supported at the system level"))),
    }
}
