//! Code systems defined by a grammar rather than a concept list: UCUM units (`ucum`), BCP-47
//! language tags (`bcp47`) and MIME types (`bcp13`).
//!
//! # Brief overview
//! A [`GrammarCodeSystem`] reads any code by its grammar ([`GrammarCodeSystem::concept`]) and lists
//! the codes people commonly use ([`GrammarCodeSystem::common_codes`]), since the codes it allows
//! cannot all be listed. The store serves each one as base content: a [`CodeSystemIndex`] whose
//! concepts are that common listing and which carries the grammar ([`CodeSystemIndex::grammar`]).
//! The operations consult the grammar where the listing is not enough: `$validate-code` and
//! `$lookup` read an unlisted code through [`CodeSystemIndex::resolve`], which answers it as a
//! one-concept index of its own; `$expand` lists the common codes and marks the expansion
//! unclosed; filters a grammar understands (UCUM's `canonical`) are asked of the grammar.
//!
//! # What this module does not do
//! It holds no data files and does no I/O: the server hands each grammar its tables (read by
//! `loaders::builtin`) when it starts.
//!
//! Tests: unit tests in each grammar's module; the HTTP behaviour in `tests/it/grammar.rs`.

pub mod bcp13;
pub mod bcp47;
pub mod ucum;

use crate::index::CodeSystemIndex;
use model::terminology::{CodeSystem, Concept, Designation};
use model::Json;
use serde_json::json;
use std::sync::Arc;

pub use bcp13::MimeTypes;
pub use bcp47::{LanguageTags, Subtag, SubtagKind};
pub use ucum::Ucum;

pub use crate::index::{GrammarBinding, GrammarCodeSystem, NotACode, Resolved};

/// The reason the `valueset-unclosed-reason` extension gives for an expansion of a grammar.
pub fn unclosed_reason(grammar: &dyn GrammarCodeSystem) -> String {
    let source = model::uris::split_canonical(grammar.common_codes_source()).0;
    format!("The code System '{}' has a grammar and so has infinite members. This extension is based on {source}", grammar.url())
}

fn header_json(grammar: &dyn GrammarCodeSystem) -> Json {
    let mut resource = json!({
        "resourceType": "CodeSystem",
        "id": crate::ids::slug(grammar.url()),
        "url": grammar.url(),
        "name": grammar.name(),
        "title": grammar.title(),
        "status": "active",
        "content": "complete",
        "caseSensitive": grammar.case_sensitive(),
        "language": "en",
    });
    if let Some(version) = grammar.version() {
        resource["version"] = json!(version);
    }
    let properties: Vec<Json> = grammar.filter_properties().iter().map(|code| json!({"code": code, "type": "string"})).collect();
    if !properties.is_empty() {
        resource["property"] = Json::Array(properties);
    }
    resource
}

/// The base-content index of a grammar code system: its common codes, with the grammar behind them.
pub fn grammar_index(grammar: Arc<dyn GrammarCodeSystem>) -> CodeSystemIndex {
    let header = CodeSystem::from_json(&header_json(grammar.as_ref())).expect("a grammar's CodeSystem header is well-formed");
    let mut listed = header.clone();
    listed.concepts = grammar.common_codes();
    let id = Some(crate::ids::slug(grammar.url()));
    let mut index = CodeSystemIndex::new(listed, id);
    index.grammar = Some(Arc::new(GrammarBinding::new(grammar, header)));
    index
}

/// A designation in English with the given `use`.
pub(crate) fn english_designation(value: impl Into<String>, use_coding: Option<Json>) -> Designation {
    Designation {
        language: Some(model::Name::new("en")),
        use_coding: use_coding.map(std::sync::Arc::new),
        value: value.into(),
        extra: None,
    }
}

/// A concept with a display and designations, nothing else.
pub(crate) fn plain_concept(code: &str, display: Option<String>, designations: Vec<Designation>) -> Concept {
    Concept { code: code.to_owned(), display, definition: None, designations, properties: Vec::new(), extra: None, nest_parent: None }
}
