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
use model::terminology::{CodeSystem, Concept, Designation, Filter};
use model::Json;
use serde_json::json;
use std::sync::Arc;

pub use bcp13::MimeTypes;
pub use bcp47::{LanguageTags, Subtag, SubtagKind};
pub use ucum::Ucum;

/// Why a code is not a code of a grammar code system.
#[derive(Clone, Debug, PartialEq)]
pub struct NotACode {
    /// The grammar's own explanation, reported as an information issue beside "unknown code",
    /// when the grammar gives one.
    pub detail: Option<String>,
}

/// A code system whose codes are sentences of a grammar.
pub trait GrammarCodeSystem: Send + Sync + std::fmt::Debug {
    fn url(&self) -> &str;
    fn version(&self) -> Option<&str>;
    fn name(&self) -> &str;
    fn title(&self) -> &str;
    /// Whether `En-us` and `en-US` are different codes.
    fn case_sensitive(&self) -> bool {
        true
    }
    /// Reads a code: its display and designations, or why it is not a code.
    fn concept(&self, code: &str) -> Result<Concept, NotACode>;
    /// The codes listed when the whole code system is expanded, in the order to list them.
    fn common_codes(&self) -> Vec<Concept>;
    /// The value set the common listing comes from, as `url|version`.
    fn common_codes_source(&self) -> &str;
    /// The status of that value set (`draft`, `active`), for the expansion's status warnings.
    fn common_codes_status(&self) -> &str;
    /// The properties this grammar filters on (beyond the code itself).
    fn filter_properties(&self) -> &[&'static str] {
        &[]
    }
    /// Whether a code satisfies a filter on one of [`GrammarCodeSystem::filter_properties`];
    /// `None` for a filter the grammar does not handle.
    fn filter_matches(&self, _code: &str, _filter: &Filter) -> Option<Result<bool, String>> {
        None
    }
    /// Why a code fails a filter the grammar handles, for the validation message.
    fn filter_failure(&self, _code: &str, _filter: &Filter) -> Option<String> {
        None
    }
}

/// The reason the `valueset-unclosed-reason` extension gives for an expansion of a grammar.
pub fn unclosed_reason(grammar: &dyn GrammarCodeSystem) -> String {
    let source = model::uris::split_canonical(grammar.common_codes_source()).0;
    format!("The code System '{}' has a grammar and so has infinite members. This extension is based on {source}", grammar.url())
}

/// A grammar bound to the code system header its answers carry.
#[derive(Debug)]
pub struct GrammarBinding {
    pub grammar: Arc<dyn GrammarCodeSystem>,
    /// The CodeSystem header without concepts, for one-concept indexes.
    header: CodeSystem,
}

fn header_json(grammar: &dyn GrammarCodeSystem) -> Json {
    let mut resource = json!({
        "resourceType": "CodeSystem",
        "id": crate::terminology::slug(grammar.url()),
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
    let id = Some(crate::terminology::slug(grammar.url()));
    let mut index = CodeSystemIndex::new(listed, id);
    index.grammar = Some(Arc::new(GrammarBinding { grammar, header }));
    index
}

/// What a grammar code system says about one code.
pub enum Resolved {
    /// The code, in the listing or as a one-concept index of its own; the flag says whether only
    /// a case-insensitive match found it.
    Found(Arc<CodeSystemIndex>, u32, bool),
    /// Not a code of the grammar.
    NotACode(NotACode),
}

impl GrammarBinding {
    /// Reads a code the listing lacks as a one-concept index.
    pub(crate) fn resolve(&self, owner: &CodeSystemIndex, code: &str) -> Resolved {
        match self.grammar.concept(code) {
            Ok(concept) => {
                let mut single = self.header.clone();
                single.concepts = vec![concept];
                let mut index = CodeSystemIndex::new(single, owner.id.clone());
                index.grammar = owner.grammar.clone();
                Resolved::Found(Arc::new(index), 0, false)
            }
            Err(not_a_code) => Resolved::NotACode(not_a_code),
        }
    }
}

/// A designation in English with the given `use`.
pub(crate) fn english_designation(value: impl Into<String>, use_coding: Option<Json>) -> Designation {
    Designation { language: Some("en".to_owned()), use_coding, value: value.into(), extra: None }
}

/// A concept with a display and designations, nothing else.
pub(crate) fn plain_concept(code: &str, display: Option<String>, designations: Vec<Designation>) -> Concept {
    Concept { code: code.to_owned(), display, definition: None, designations, properties: Vec::new(), extra: None, nest_parent: None }
}
