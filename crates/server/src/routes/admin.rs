//! `GET /admin/code-systems`: every stored code system with its versions, current version,
//! concept counts and load times, grouped by family, for the console's dashboard and for scripts.
//!
//! The grouping and the counts are the store's (`Terminology::code_system_summaries`); this
//! handler checks the caller and renders JSON. Reading it needs what a CodeSystem search needs.
//! A restricted code system the caller may not use is listed with `restricted: true`, as a
//! search lists it without its concepts.

use crate::auth::{self, Action};
use crate::error::ApiError;
use crate::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use model::Json;
use serde_json::json;

/// `GET /admin/code-systems`.
pub async fn code_systems(state: web::Data<AppState>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let principal = auth::require_read(&state.config.auth, &request, "CodeSystem", Action::Search)?;
    let terminology = state.terminology.clone();
    let summaries = web::block(move || terminology.code_system_summaries())
        .await
        .map_err(|error| ApiError::internal(format!("worker failed: {error}")))?
        .map_err(ApiError::from)?;
    let families: Vec<Json> = model::uris::SYSTEM_FAMILIES
        .iter()
        .map(|(family, label, _)| {
            let code_systems: Vec<Json> = summaries
                .iter()
                .filter(|summary| summary.family == *family)
                .map(|summary| {
                    let versions: Vec<Json> = summary
                        .versions
                        .iter()
                        .map(|version| {
                            json!({"id": version.id, "version": version.version, "concepts": version.n_concepts,
                                   "loadedAt": version.last_updated, "current": version.current,
                                   "indexSource": version.index_source.map(store::IndexSource::as_str)})
                        })
                        .collect();
                    json!({
                        "url": summary.url,
                        "name": summary.name,
                        "title": summary.title,
                        "currentVersion": summary.current_version,
                        "restricted": !auth::may_see_system(&state.config.auth, principal.as_ref(), &summary.url),
                        "versions": versions,
                    })
                })
                .collect();
            json!({"family": family, "label": label, "codeSystems": code_systems})
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({"families": families, "builtinCodeSystems": state.terminology.n_base_code_systems()})))
}
