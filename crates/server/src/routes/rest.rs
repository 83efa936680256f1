//! FHIR REST for CodeSystem, ValueSet and ConceptMap: read, create, update, delete and search.

use super::operations;
use crate::auth::{self, Action, Principal};
use crate::conditional;
use crate::error::ApiError;
use crate::subsetting::{Subset, Summary};
use crate::wire::{self, Format};
use crate::AppState;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use model::fhir::{str_of, TERMINOLOGY_RESOURCE_TYPES};
use store::{Created, SearchQuery};

fn known_type(resource_type: &str) -> Result<(), ApiError> {
    if TERMINOLOGY_RESOURCE_TYPES.contains(&resource_type) {
        Ok(())
    } else {
        Err(ApiError::not_found(format!(
            "resource type '{resource_type}' is not served here; this server serves CodeSystem, ValueSet and ConceptMap"
        )))
    }
}

async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T, store::StoreError> + Send + 'static) -> Result<T, ApiError> {
    match web::block(work).await {
        Ok(result) => result.map_err(|error| ApiError::from(error)),
        Err(error) => Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "exception", format!("worker failed: {error}"))),
    }
}

/// Checks a write's token and scopes; a refusal is audited too.
fn authorize_write(
    state: &AppState,
    request: &HttpRequest,
    resource_type: &str,
    action: Action,
    verb: &str,
    target: &str,
) -> Result<Principal, ApiError> {
    auth::require_write(&state.config.auth, request, resource_type, &[action]).inspect_err(|error| {
        let detail = error.outcome.issues.first().map(|issue| issue.text.clone());
        let known = auth::authenticate(&state.config.auth, request).ok().flatten().unwrap_or_default();
        crate::jobs::record(&state.terminology, &known, verb, target, &format!("refused {}", error.status.as_u16()), detail);
    })
}

/// Records the outcome of a write in the audit log.
fn audited<T>(terminology: &store::Terminology, principal: &Principal, verb: &str, target: &str, result: &Result<T, store::StoreError>) {
    let (outcome, detail) = match result {
        Ok(_) => ("succeeded".to_owned(), None),
        Err(error) => (format!("failed {:?}", error.kind), Some(error.message())),
    };
    crate::jobs::record(terminology, principal, verb, target, &outcome, detail);
}

fn located(status: StatusCode, request: &HttpRequest, resource: &model::Json, format: Format) -> HttpResponse {
    let mut response = wire::respond(status, resource, format);
    let resource_type = str_of(resource, "resourceType").unwrap_or_default();
    let id = str_of(resource, "id").unwrap_or_default();
    let version_id = resource.get("meta").and_then(|meta| str_of(meta, "versionId")).unwrap_or("1");
    let location = format!(
        "{}://{}/fhir/{resource_type}/{id}/_history/{version_id}",
        request.connection_info().scheme(),
        request.connection_info().host()
    );
    if let Ok(value) = header::HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    if let Some(value) = conditional::etag(version_id) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

/// The version `If-Match` asks for; a malformed header is a 400.
fn if_match(request: &HttpRequest) -> Result<Option<i64>, ApiError> {
    conditional::if_match(request).map_err(ApiError::bad_request)
}

/// The query pairs of a request.
fn query_pairs(request: &HttpRequest) -> Vec<(String, String)> {
    url::form_urlencoded::parse(request.query_string().as_bytes()).into_owned().collect()
}

/// Parses a body and checks it is a resource of the type the URL names.
fn resource_of_type(request: &HttpRequest, body: &[u8], resource_type: &str) -> Result<model::Json, ApiError> {
    let resource = wire::parse_resource(request, body)?;
    if str_of(&resource, "resourceType") != Some(resource_type) {
        return Err(ApiError::bad_request(format!(
            "the body is a {} but the URL names {resource_type}",
            str_of(&resource, "resourceType").unwrap_or_default()
        )));
    }
    Ok(resource)
}

/// `GET /fhir/{type}` (search) and `GET /fhir/$op` (system operations).
pub async fn get_type_level(
    state: web::Data<AppState>,
    format: Format,
    request: HttpRequest,
    segment: String,
) -> Result<HttpResponse, ApiError> {
    if segment.starts_with('$') {
        return operations::system_operation(&segment, format);
    }
    known_type(&segment)?;
    let principal = auth::require_read(&state.config.auth, &request, &segment, Action::Search)?;
    search(state, request, segment, principal, format).await
}

/// `POST /fhir/{type}` (create) and `POST /fhir/{type}/_search`-style searches are both here.
pub async fn post_type_level(
    state: web::Data<AppState>,
    format: Format,
    request: HttpRequest,
    resource_type: String,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    if resource_type.starts_with('$') {
        return operations::system_operation(&resource_type, format);
    }
    known_type(&resource_type)?;
    let principal = authorize_write(&state, &request, &resource_type, Action::Create, "create", &resource_type)?;
    let condition = if_none_exist(&request, &resource_type)?;
    let body = wire::read_body(payload, state.config.max_body_bytes).await?;
    let resource = resource_of_type(&request, &body, &resource_type)?;
    let terminology = state.terminology.clone();
    let created = blocking(move || {
        let result = terminology.create_unless_exists(&resource_type, resource, condition.as_ref());
        let target = match &result {
            Ok(Created::New(created) | Created::Existing(created)) => {
                format!("{resource_type}/{}", str_of(created, "id").unwrap_or_default())
            }
            Err(_) => resource_type.clone(),
        };
        // A conditional create that found its match wrote nothing, so there is nothing to audit.
        if !matches!(result, Ok(Created::Existing(_))) {
            audited(&terminology, &principal, "create", &target, &result);
        }
        result
    })
    .await?;
    Ok(match created {
        Created::New(resource) => located(StatusCode::CREATED, &request, &resource, format),
        Created::Existing(resource) => located(StatusCode::OK, &request, &resource, format),
    })
}

/// The search an `If-None-Exist` header names (FHIR R4 http.html#ccreate): the same criteria a
/// search takes, without paging or subsetting; a header that names none, or names others, is a 400.
fn if_none_exist(request: &HttpRequest, resource_type: &str) -> Result<Option<SearchQuery>, ApiError> {
    let Some(value) = request.headers().get("if-none-exist") else {
        return Ok(None);
    };
    let text = value.to_str().map_err(|_| ApiError::bad_request("If-None-Exist is not ASCII text"))?;
    // Clients send either the bare query or the relative URL `Type?query`.
    let query = text.trim().strip_prefix(&format!("{resource_type}?")).unwrap_or(text.trim());
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    if pairs.is_empty() || pairs.iter().any(|(name, value)| name.is_empty() || value.is_empty()) {
        return Err(ApiError::bad_request(format!("If-None-Exist must be search parameters such as url=...&version=..., not '{text}'")));
    }
    for (name, _) in &pairs {
        if !SEARCH_CRITERIA.contains(&name.as_str()) {
            return Err(ApiError::bad_request(format!(
                "If-None-Exist names '{name}', which is not a search parameter of {resource_type} here (use {})",
                SEARCH_CRITERIA.join(", ")
            )));
        }
    }
    criteria(&pairs, resource_type).map(Some)
}

/// `GET /fhir/{type}/{id}` (read) and `GET /fhir/{type}/$op` (type-level operations).
pub async fn get_instance_level(
    state: web::Data<AppState>,
    format: Format,
    request: HttpRequest,
    (resource_type, segment): (String, String),
) -> Result<HttpResponse, ApiError> {
    known_type(&resource_type)?;
    let principal = auth::require_read(&state.config.auth, &request, &resource_type, Action::Read)?;
    if segment.starts_with('$') {
        return operations::run_get(&state, principal.as_ref(), &request, &resource_type, None, &segment, format).await;
    }
    read_current_or_version(state, request, principal, resource_type, segment, None, format).await
}

/// `GET /fhir/{type}/{id}/_history/{vid}` (vread): only the current version is kept, so an older
/// one is a 404 that names the current version.
pub async fn vread(
    state: web::Data<AppState>,
    format: Format,
    request: HttpRequest,
    (resource_type, id, version_id): (String, String, String),
) -> Result<HttpResponse, ApiError> {
    known_type(&resource_type)?;
    let principal = auth::require_read(&state.config.auth, &request, &resource_type, Action::Read)?;
    read_current_or_version(state, request, principal, resource_type, id, Some(version_id), format).await
}

/// Read and vread: the restricted-system check, then `_summary`/`_elements`.
async fn read_current_or_version(
    state: web::Data<AppState>,
    request: HttpRequest,
    principal: Option<Principal>,
    resource_type: String,
    id: String,
    version_id: Option<String>,
    format: Format,
) -> Result<HttpResponse, ApiError> {
    if resource_type == "CodeSystem" && !state.config.auth.restricted.is_empty() {
        if let Some(index) = state.terminology.registry().code_system_by_id(&id) {
            auth::require_systems(&state.config.auth, principal.as_ref(), [index.url()])?;
        }
    }
    let subset = Subset::from_query(&query_pairs(&request)).map_err(|message| ApiError::bad_request(message))?;
    if subset == Subset::Summary(Summary::Count) {
        return Err(ApiError::bad_request("_summary=count applies to searches, not to a read"));
    }
    let terminology = state.terminology.clone();
    let with_concepts = subset.needs_concepts();
    let mut resource = blocking(move || match version_id {
        None => terminology.read_parts(&resource_type, &id, with_concepts),
        Some(version_id) => terminology.read_version(&resource_type, &id, &version_id, with_concepts),
    })
    .await?;
    subset.apply(&mut resource);
    Ok(located(StatusCode::OK, &request, &resource, format))
}

/// `POST /fhir/{type}/$op` (type-level operations) and `POST /fhir/{type}/_search`.
pub async fn post_instance_level(
    state: web::Data<AppState>,
    format: Format,
    request: HttpRequest,
    (resource_type, segment): (String, String),
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    known_type(&resource_type)?;
    let action = if segment == "_search" { Action::Search } else { Action::Read };
    let principal = auth::require_read(&state.config.auth, &request, &resource_type, action)?;
    if segment == "_search" {
        return search(state, request, resource_type, principal, format).await;
    }
    if !segment.starts_with('$') {
        return Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "not-supported",
            format!("POST is not allowed on {resource_type}/{segment}; use PUT to update"),
        ));
    }
    let body = wire::read_body(payload, state.config.max_body_bytes).await?;
    operations::run_post(&state, principal.as_ref(), &request, &resource_type, None, &segment, &body, format).await
}

/// `PUT /fhir/{type}/{id}`: update, or create when absent.
pub async fn update(
    state: web::Data<AppState>,
    format: Format,
    request: HttpRequest,
    (resource_type, id): (String, String),
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    known_type(&resource_type)?;
    let target = format!("{resource_type}/{id}");
    let principal = authorize_write(&state, &request, &resource_type, Action::Update, "update", &target)?;
    let expected_version = if_match(&request)?;
    let body = wire::read_body(payload, state.config.max_body_bytes).await?;
    let resource = resource_of_type(&request, &body, &resource_type)?;
    if let Some(body_id) = str_of(&resource, "id") {
        if body_id != id {
            return Err(ApiError::bad_request(format!("the body's id '{body_id}' differs from the id '{id}' in the URL")));
        }
    }
    if !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') || id.is_empty() || id.len() > 64 {
        return Err(ApiError::bad_request(format!("'{id}' is not a valid resource id")));
    }
    let terminology = state.terminology.clone();
    let (stored, created) = blocking(move || {
        let result = terminology.update_if_version(&resource_type, &id, resource, expected_version);
        audited(&terminology, &principal, "update", &target, &result);
        result
    })
    .await?;
    Ok(located(if created { StatusCode::CREATED } else { StatusCode::OK }, &request, &stored, format))
}

/// `DELETE /fhir/{type}/{id}`: no body is answered, but an unacceptable format is still a 406.
pub async fn delete(
    state: web::Data<AppState>,
    _format: Format,
    request: HttpRequest,
    (resource_type, id): (String, String),
) -> Result<HttpResponse, ApiError> {
    known_type(&resource_type)?;
    let target = format!("{resource_type}/{id}");
    let principal = authorize_write(&state, &request, &resource_type, Action::Delete, "delete", &target)?;
    let expected_version = if_match(&request)?;
    let terminology = state.terminology.clone();
    blocking(move || {
        let result = terminology.delete_if_version(&resource_type, &id, expected_version);
        audited(&terminology, &principal, "delete", &target, &result);
        result
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The search parameters that select resources; a conditional create takes these too.
const SEARCH_CRITERIA: &[&str] = &["_id", "url", "version", "name", "title", "status", "system"];

/// The search parameters that shape the answer.
const RESULT_PARAMETERS: &[&str] = &["_count", "_offset", "_format", "_summary", "_elements", "_total"];

/// The selection a search's criteria make, without paging.
fn criteria(pairs: &[(String, String)], resource_type: &str) -> Result<SearchQuery, ApiError> {
    let get = |name: &str| pairs.iter().find(|(key, _)| key == name).map(|(_, value)| value.clone());
    if get("system").is_some() && resource_type != "CodeSystem" {
        return Err(ApiError::bad_request(format!("search parameter 'system' applies to CodeSystem, not {resource_type}")));
    }
    Ok(SearchQuery {
        id: get("_id"),
        url: get("url").or_else(|| get("system")),
        version: get("version"),
        name: get("name"),
        title: get("title"),
        status: get("status"),
        ..SearchQuery::default()
    })
}

async fn search(
    state: web::Data<AppState>,
    request: HttpRequest,
    resource_type: String,
    principal: Option<Principal>,
    format: Format,
) -> Result<HttpResponse, ApiError> {
    let pairs = query_pairs(&request);
    let get = |name: &str| pairs.iter().find(|(key, _)| key == name).map(|(_, value)| value.clone());
    for (name, _) in &pairs {
        if !SEARCH_CRITERIA.contains(&name.as_str()) && !RESULT_PARAMETERS.contains(&name.as_str()) {
            return Err(ApiError::bad_request(format!("unknown search parameter '{name}' for {resource_type}")));
        }
    }
    let parse_number = |name: &str, default: usize| -> Result<usize, ApiError> {
        match get(name) {
            None => Ok(default),
            Some(text) => text.parse().map_err(|_| ApiError::bad_request(format!("{name} must be a non-negative number, not '{text}'"))),
        }
    };
    let subset = Subset::from_query(&pairs).map_err(|message| ApiError::bad_request(message))?;
    let count = if subset == Subset::Summary(Summary::Count) { 0 } else { parse_number("_count", 20)?.min(1000) };
    let offset = parse_number("_offset", 0)?;
    let query = SearchQuery { offset, count, summary: !subset.needs_concepts(), ..criteria(&pairs, &resource_type)? };
    let terminology = state.terminology.clone();
    let search_type = resource_type.clone();
    let mut result = blocking(move || terminology.search(&search_type, &query)).await?;
    if resource_type == "CodeSystem" && !state.config.auth.restricted.is_empty() {
        // A restricted system the caller may not see is listed without its concepts.
        for resource in &mut result.resources {
            let url = str_of(resource, "url").unwrap_or_default().to_owned();
            if !auth::may_see_system(&state.config.auth, principal.as_ref(), &url) {
                if let Some(map) = resource.as_object_mut() {
                    map.remove("concept");
                }
                crate::subsetting::tag_subsetted(resource, "subsetted: restricted content left out");
            }
        }
    }
    for resource in &mut result.resources {
        subset.apply(resource);
    }
    let base = format!("{}://{}/fhir", request.connection_info().scheme(), request.connection_info().host());
    let kept: Vec<String> = pairs
        .iter()
        .filter(|(key, _)| key != "_offset" && key != "_count")
        .map(|(key, value)| format!("{}={}", key, url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>()))
        .collect();
    let page_url = |page_offset: usize| {
        let mut parts = kept.clone();
        parts.push(format!("_count={count}"));
        parts.push(format!("_offset={page_offset}"));
        format!("{base}/{resource_type}?{}", parts.join("&"))
    };
    let mut links = vec![("self", page_url(offset))];
    if offset + count < result.total {
        links.push(("next", page_url(offset + count)));
    }
    if offset > 0 {
        links.push(("previous", page_url(offset.saturating_sub(count))));
    }
    let bundle = model::fhir::searchset_bundle(&base, result.total, result.resources, links);
    Ok(wire::respond(StatusCode::OK, &bundle, format))
}
