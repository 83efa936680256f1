//! The console: a browser front end for administrators, served at `/console` by the same binary.
//!
//! # Brief overview
//! - [`configure`] mounts `GET /console` (the page) and `GET /console/{asset}` (its one
//!   JavaScript module, its style sheet and its icon).
//! - The files live in `crates/server/console/` and are compiled into the binary with
//!   `include_bytes!`, so the console needs no build step, no second process and no network: the
//!   page calls the same FHIR and `/admin` endpoints any client calls, with the token the
//!   administrator pasted (kept in the tab's `sessionStorage`), and the server enforces scopes as
//!   it does for every client.
//! - Every console response carries `Content-Security-Policy: default-src 'self'` (no inline
//!   script or style, nothing from elsewhere), `X-Content-Type-Options: nosniff`, `X-Frame-Options:
//!   DENY` and `Cache-Control: no-cache`, unknown assets included.
//!
//! # Design decisions
//! `include_bytes!` rather than `rust-embed` or `include_dir`: four small files, named once in
//! [`ASSETS`], need no crate, and a missing file fails the build.
//!
//! Tests live in `tests/it/console.rs` (routes, types, headers) and `tests/e2e/` (the screens in
//! a real Chromium).

use actix_web::http::header;
use actix_web::{web, HttpResponse, HttpResponseBuilder};

/// The policy every console response carries.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'";

/// The console's files: (name under `/console/`, content type, bytes).
pub const ASSETS: &[(&str, &str, &[u8])] = &[
    ("app.js", "text/javascript; charset=utf-8", include_bytes!("../console/app.js")),
    ("console.css", "text/css; charset=utf-8", include_bytes!("../console/console.css")),
    ("icon.svg", "image/svg+xml", include_bytes!("../console/icon.svg")),
];

const INDEX_HTML: &[u8] = include_bytes!("../console/index.html");

pub fn configure(config: &mut web::ServiceConfig) {
    config.route("/console", web::get().to(index)).route("/console/", web::get().to(index)).route("/console/{asset}", web::get().to(asset));
}

/// A response with the console's security and caching headers.
fn console_response(mut builder: HttpResponseBuilder) -> HttpResponseBuilder {
    builder
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::CACHE_CONTROL, "no-cache"));
    builder
}

/// `GET /console`: the page; every screen is a fragment (`#/upload`) of this one page.
async fn index() -> HttpResponse {
    console_response(HttpResponse::Ok()).content_type("text/html; charset=utf-8").body(INDEX_HTML)
}

/// `GET /console/{asset}`.
async fn asset(name: web::Path<String>) -> HttpResponse {
    match ASSETS.iter().find(|(asset_name, _, _)| *asset_name == name.as_str()) {
        Some((_, content_type, bytes)) => console_response(HttpResponse::Ok()).content_type(*content_type).body(*bytes),
        None => console_response(HttpResponse::NotFound())
            .content_type("text/plain; charset=utf-8")
            .body(format!("the console has no file '{}'", name.as_str())),
    }
}
