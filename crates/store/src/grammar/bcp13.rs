//! MIME types (`urn:ietf:bcp:13`), as FHIR's `Attachment.contentType` carries them.
//!
//! A code is `type/subtype` with optional parameters (`text/plain; charset=UTF-8`), per RFC 6838
//! and RFC 2045 tokens. The type must be a registered top-level type; the subtype must be a known
//! media type of that type (the `mime-db` list) or sit in the vendor, personal or unregistered
//! trees (`vnd.`, `prs.`, `x.`, `x-`). Types and subtypes compare case-insensitively.
//! The display is the code itself. The common listing is every type `mime-db` knows.

use super::{plain_concept, GrammarCodeSystem, NotACode};
use model::terminology::Concept;
use std::collections::HashSet;

/// The top-level media types IANA registers.
const TOP_LEVEL_TYPES: &[&str] =
    &["application", "audio", "example", "font", "haptics", "image", "message", "model", "multipart", "text", "video"];

/// The MIME type grammar with its list of known types.
#[derive(Debug)]
pub struct MimeTypes {
    known: HashSet<String>,
    listed: Vec<String>,
    source: String,
}

impl MimeTypes {
    /// The grammar over known `type/subtype` names (any case), from `source` (a name and version).
    pub fn new(known: Vec<String>, source: &str) -> MimeTypes {
        let mut listed: Vec<String> = known.iter().map(|name| name.to_ascii_lowercase()).collect();
        listed.sort();
        listed.dedup();
        MimeTypes { known: listed.iter().cloned().collect(), listed, source: source.to_owned() }
    }

    fn is_media_type(&self, code: &str) -> bool {
        if code.len() > 255 {
            return false;
        }
        let mut pieces = code.split(';');
        let essence = pieces.next().unwrap_or_default().trim().to_ascii_lowercase();
        let Some((media_type, subtype)) = essence.split_once('/') else { return false };
        if !TOP_LEVEL_TYPES.contains(&media_type) || subtype.is_empty() || !subtype.chars().all(is_token_char) {
            return false;
        }
        let in_open_tree = ["vnd.", "prs.", "x.", "x-"].iter().any(|tree| subtype.starts_with(tree) && subtype.len() > tree.len());
        if !self.known.contains(&essence) && !in_open_tree {
            return false;
        }
        pieces.all(|parameter| match parameter.trim().split_once('=') {
            Some((name, value)) => {
                !name.is_empty()
                    && name.chars().all(is_token_char)
                    && (value.chars().all(is_token_char) && !value.is_empty() || is_quoted_string(value))
            }
            None => false,
        })
    }
}

/// RFC 2045 token characters: printable ASCII but space and tspecials.
fn is_token_char(character: char) -> bool {
    character.is_ascii_graphic() && !"()<>@,;:\\\"/[]?=".contains(character)
}

fn is_quoted_string(value: &str) -> bool {
    value.len() >= 2
        && value.starts_with('"')
        && value.ends_with('"')
        && value[1..value.len() - 1].chars().all(|c| c.is_ascii() && c != '"')
}

impl GrammarCodeSystem for MimeTypes {
    fn url(&self) -> &str {
        "urn:ietf:bcp:13"
    }

    fn version(&self) -> Option<&str> {
        None
    }

    fn name(&self) -> &str {
        "Mime Types"
    }

    fn title(&self) -> &str {
        "Media Types (BCP 13)"
    }

    fn case_sensitive(&self) -> bool {
        false
    }

    fn concept(&self, code: &str) -> Result<Concept, NotACode> {
        if self.is_media_type(code) {
            Ok(plain_concept(code, Some(code.to_owned()), Vec::new()))
        } else {
            Err(NotACode { detail: None })
        }
    }

    fn common_codes(&self) -> Vec<Concept> {
        self.listed.iter().map(|code| plain_concept(code, Some(code.clone()), Vec::new())).collect()
    }

    fn common_codes_source(&self) -> &str {
        &self.source
    }

    fn common_codes_status(&self) -> &str {
        "active"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_known_types_open_trees_and_parameters() {
        let mime = MimeTypes::new(vec!["application/pdf".to_owned(), "text/plain".to_owned()], "mime-db 1.54.0");
        for good in [
            "application/pdf",
            "Application/PDF",
            "text/plain; charset=UTF-8",
            "text/plain;format=\"flowed\"",
            "application/vnd.acme+json",
            "image/x-acme",
        ] {
            assert!(mime.concept(good).is_ok(), "{good}");
        }
        for bad in [
            "application/pdff",
            "application",
            "pdf",
            "text/",
            "bogus/plain",
            "text/plain; charset",
            "text/plain; =x",
            "text/pl ain",
            "application/vnd.",
        ] {
            assert!(mime.concept(bad).is_err(), "{bad}");
        }
    }
}
