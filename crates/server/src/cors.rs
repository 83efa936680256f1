//! Cross-origin requests from browsers: which origins may call the server (`--cors-origins`).
//!
//! With no origin configured there is no CORS at all: browsers keep their same-origin rule and
//! no `Access-Control-*` header is ever sent. `*` lets any origin read, without credentials.

use actix_cors::Cors;
use actix_web::http::{header, Method};
use actix_web::middleware::Condition;

/// Headers a browser client may send: content negotiation, tokens and the conditional-request
/// headers of FHIR REST.
const ALLOWED_HEADERS: [header::HeaderName; 8] = [
    header::ACCEPT,
    header::AUTHORIZATION,
    header::CONTENT_TYPE,
    header::IF_MATCH,
    header::IF_NONE_MATCH,
    header::HeaderName::from_static("if-none-exist"),
    header::HeaderName::from_static("prefer"),
    header::HeaderName::from_static("x-request-id"),
];

/// Headers a browser client may read: versions, where a resource went, and the request id.
const EXPOSED_HEADERS: [header::HeaderName; 4] =
    [header::ETAG, header::LOCATION, header::CONTENT_LOCATION, header::HeaderName::from_static("x-request-id")];

/// Reads `--cors-origins`: comma-separated origins (`https://app.example.org`, scheme, host and
/// port only), or `*`. An entry with a path or no scheme is refused with the reason.
pub fn parse_origins(list: &str) -> Result<Vec<String>, String> {
    let mut origins = Vec::new();
    for entry in list.split(',').map(str::trim).filter(|entry| !entry.is_empty()) {
        if entry == "*" {
            origins.push(entry.to_owned());
            continue;
        }
        let parsed = url::Url::parse(entry).map_err(|error| format!("--cors-origins: '{entry}' is not an origin: {error}"))?;
        let origin = parsed.origin().ascii_serialization();
        if origin != entry.trim_end_matches('/') {
            return Err(format!("--cors-origins: '{entry}' is not an origin; did you mean '{origin}'? (scheme, host and port only)"));
        }
        origins.push(origin);
    }
    Ok(origins)
}

/// The CORS middleware for the origins [`parse_origins`] read; a no-op when there are none.
pub fn middleware(origins: &[String]) -> Condition<Cors> {
    let mut cors = Cors::default()
        .allowed_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE, Method::OPTIONS])
        .allowed_headers(ALLOWED_HEADERS)
        .expose_headers(EXPOSED_HEADERS)
        .max_age(3600);
    if origins.iter().any(|origin| origin == "*") {
        cors = cors.allow_any_origin().send_wildcard();
    } else {
        for origin in origins {
            cors = cors.allowed_origin(origin);
        }
    }
    Condition::new(!origins.is_empty(), cors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_read_and_normalised() {
        assert_eq!(
            parse_origins("https://app.example.org, http://localhost:3000/ ,*").expect("valid"),
            ["https://app.example.org", "http://localhost:3000", "*"]
        );
        assert_eq!(parse_origins("").expect("valid"), Vec::<String>::new());
    }

    #[test]
    fn entries_that_are_not_origins_are_refused() {
        assert_eq!(
            parse_origins("https://app.example.org/fhir").unwrap_err(),
            "--cors-origins: 'https://app.example.org/fhir' is not an origin; did you mean 'https://app.example.org'? (scheme, host and port only)"
        );
        assert!(parse_origins("app.example.org").unwrap_err().starts_with("--cors-origins: 'app.example.org' is not an origin"));
    }
}
