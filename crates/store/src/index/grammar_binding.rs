//! What an index needs of a grammar code system: the [`GrammarCodeSystem`] trait it reads unlisted
//! codes through, and the [`GrammarBinding`] a [`CodeSystemIndex`] carries. The grammars themselves
//! (UCUM, BCP-47, MIME types) live in `crate::grammar`, which builds on this.

use super::CodeSystemIndex;
use model::terminology::{CodeSystem, Concept, Filter};
use std::sync::Arc;

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

/// A grammar bound to the code system header its answers carry.
#[derive(Debug)]
pub struct GrammarBinding {
    pub grammar: Arc<dyn GrammarCodeSystem>,
    /// The CodeSystem header without concepts, for one-concept indexes.
    header: CodeSystem,
}

impl GrammarBinding {
    pub fn new(grammar: Arc<dyn GrammarCodeSystem>, header: CodeSystem) -> GrammarBinding {
        GrammarBinding { grammar, header }
    }
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
