//! Version-aware REST: the weak `ETag: W/"versionId"` a read or write answers with, and the
//! `If-Match` header an update or delete may carry (FHIR R4 http.html#concurrency).

use actix_web::http::header::{self, HeaderValue};
use actix_web::HttpRequest;

/// The `ETag` of a resource version.
pub fn etag(version_id: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!("W/\"{version_id}\"")).ok()
}

/// Reads one entity tag as FHIR writes it, `W/"3"`, or without the weak prefix, `"3"`; `None`
/// when it is anything else.
pub fn parse_version_tag(text: &str) -> Option<i64> {
    let text = text.trim();
    let quoted = text.strip_prefix("W/").unwrap_or(text);
    let digits = quoted.strip_prefix('"')?.strip_suffix('"')?;
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The version an `If-Match` header asks for; `Ok(None)` without the header, and the message for
/// a 400 when it is there but is not a version tag.
pub fn if_match(request: &HttpRequest) -> Result<Option<i64>, String> {
    let Some(value) = request.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().map_err(|_| "If-Match is not ASCII text".to_owned())?;
    parse_version_tag(text)
        .map(Some)
        .ok_or_else(|| format!("If-Match must name one version as W/\"versionId\" (for example W/\"3\"), not '{text}'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_tags_in_both_forms_are_read() {
        assert_eq!(parse_version_tag("W/\"3\""), Some(3));
        assert_eq!(parse_version_tag(" \"12\" "), Some(12));
    }

    #[test]
    fn anything_else_is_not_a_version_tag() {
        for text in ["3", "W/3", "W/\"\"", "W/\"three\"", "*", "W/\"3\", W/\"4\"", "\"-1\"", "W/\"99999999999999999999\""] {
            assert_eq!(parse_version_tag(text), None, "{text}");
        }
    }

    #[test]
    fn etags_are_weak() {
        assert_eq!(etag("7").expect("valid header"), "W/\"7\"");
    }
}
