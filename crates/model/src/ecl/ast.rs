//! The syntax tree of an ECL 2.2 expression constraint, as the parser gives it: plain data, no
//! evaluation. Names follow the specification's rules (`subExpressionConstraint`, `eclRefinement`,
//! `eclAttributeGroup` …).

/// A whole `expressionConstraint`.
#[derive(Clone, Debug, PartialEq)]
pub enum Expression {
    /// A `subExpressionConstraint` on its own.
    Sub(SubExpression),
    /// `focus : refinement`.
    Refined { focus: SubExpression, refinement: Refinement },
    /// `a AND b AND …` (or `,`).
    And(Vec<SubExpression>),
    /// `a OR b OR …`.
    Or(Vec<SubExpression>),
    /// `a MINUS b`.
    Minus(Box<SubExpression>, Box<SubExpression>),
    /// `focus . attribute . attribute …`: the values of those attributes.
    Dotted { focus: SubExpression, attributes: Vec<SubExpression> },
}

/// A `subExpressionConstraint`: an optional hierarchy operator and member-of, a focus, and filters.
#[derive(Clone, Debug, PartialEq)]
pub struct SubExpression {
    pub operator: Option<ConstraintOperator>,
    pub member_of: Option<MemberOf>,
    pub focus: Focus,
    /// `{{ M … }}` blocks (only after a member-of), each a conjunction of filters.
    pub member_filters: Vec<Vec<MemberFilter>>,
    /// `{{ D … }}` and `{{ C … }}` blocks, in order; every block must hold.
    pub filters: Vec<FilterConstraint>,
    pub history: Option<HistorySupplement>,
}

impl SubExpression {
    /// A bare concept reference, for building trees by hand.
    pub fn concept(id: &str) -> SubExpression {
        SubExpression {
            operator: None,
            member_of: None,
            focus: Focus::Concept(ConceptReference { id: id.to_owned(), term: None }),
            member_filters: Vec::new(),
            filters: Vec::new(),
            history: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConstraintOperator {
    /// `<`
    DescendantOf,
    /// `<<`
    DescendantOrSelfOf,
    /// `<!`
    ChildOf,
    /// `<<!`
    ChildOrSelfOf,
    /// `>`
    AncestorOf,
    /// `>>`
    AncestorOrSelfOf,
    /// `>!`
    ParentOf,
    /// `>>!`
    ParentOrSelfOf,
    /// `!!>`: the members of the set that have no ancestor in it.
    TopOf,
    /// `!!<`: the members of the set that have no descendant in it.
    BottomOf,
}

/// `^` with its optional refset field selection `^ [referencedComponentId, targetComponentId]`.
#[derive(Clone, Debug, PartialEq)]
pub struct MemberOf {
    /// `None`: the referenced components (plain `^`); `Some(fields)` a field selection; a wildcard
    /// selection (`[*]`) is `Some` of an empty list.
    pub fields: Option<Vec<RefsetField>>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum RefsetField {
    Name(String),
    Concept(ConceptReference),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Focus {
    Concept(ConceptReference),
    /// `*` or `ANY`.
    Wildcard,
    /// `scheme#code` (ECL 2.2 alternate identifiers).
    AlternateIdentifier {
        scheme: String,
        code: String,
    },
    /// `( expressionConstraint )`.
    Nested(Box<Expression>),
}

/// An SCTID with its optional `|term|`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConceptReference {
    pub id: String,
    pub term: Option<String>,
}

/// An `eclRefinement`, with attribute sets and refinement sets folded into one shape.
#[derive(Clone, Debug, PartialEq)]
pub enum Refinement {
    Attribute(Attribute),
    Group(AttributeGroup),
    And(Vec<Refinement>),
    Or(Vec<Refinement>),
}

/// `[cardinality] { attribute set }`.
#[derive(Clone, Debug, PartialEq)]
pub struct AttributeGroup {
    pub cardinality: Option<Cardinality>,
    /// Attributes joined by AND/OR; never a group.
    pub attributes: Box<Refinement>,
}

/// `[cardinality] [R] name comparison`.
#[derive(Clone, Debug, PartialEq)]
pub struct Attribute {
    pub cardinality: Option<Cardinality>,
    pub reverse: bool,
    pub name: SubExpression,
    pub comparison: Comparison,
}

/// `[min..max]`; `max` is `None` for `*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cardinality {
    pub min: u32,
    pub max: Option<u32>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Comparison {
    /// `= value` or `!= value`, the value an expression.
    Expression { negated: bool, value: Box<SubExpression> },
    /// `op #number`, the number kept as written.
    Numeric { operator: NumericOperator, value: String },
    /// `= "text"` (a typed search term or a set of them).
    String { negated: bool, terms: Vec<SearchTerm> },
    /// `= true` / `!= false`.
    Boolean { negated: bool, value: bool },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumericOperator {
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

/// One typed search term: `match:"a b"` (every word a word prefix) or `wild:"a*b"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SearchTerm {
    /// The words of a match term, each unescaped.
    Match(Vec<String>),
    /// A wild pattern, unescaped except that a literal star stays `\*`.
    Wild(String),
}

#[derive(Clone, Debug, PartialEq)]
pub enum FilterConstraint {
    Description(Vec<DescriptionFilter>),
    Concept(Vec<ConceptFilter>),
}

/// A set of concepts named in a filter: a list of references or an expression.
#[derive(Clone, Debug, PartialEq)]
pub enum ConceptSet {
    References(Vec<ConceptReference>),
    Expression(Box<SubExpression>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DescriptionType {
    FullySpecifiedName,
    Synonym,
    Definition,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AcceptabilityToken {
    Preferred,
    Acceptable,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Acceptability {
    Tokens(Vec<AcceptabilityToken>),
    Concepts(Vec<ConceptReference>),
}

/// One dialect named in a dialect filter, with the acceptability it asks for there.
#[derive(Clone, Debug, PartialEq)]
pub enum Dialect {
    Alias(String, Option<Acceptability>),
    Concept(ConceptReference, Option<Acceptability>),
    Expression(Box<SubExpression>),
}

#[derive(Clone, Debug, PartialEq)]
pub enum DescriptionFilter {
    Term { negated: bool, terms: Vec<SearchTerm> },
    Language { negated: bool, codes: Vec<String> },
    TypeId { negated: bool, types: ConceptSet },
    Type { negated: bool, types: Vec<DescriptionType> },
    Dialect { negated: bool, dialects: Vec<Dialect>, acceptability: Option<Acceptability> },
    Module { negated: bool, modules: ConceptSet },
    EffectiveTime { operator: NumericOperator, dates: Vec<String> },
    Active { negated: bool, value: bool },
    Id { negated: bool, ids: Vec<String> },
    SemanticTag { negated: bool, terms: Vec<SearchTerm> },
    CaseSignificance { negated: bool, ids: ConceptSet },
    PreferredIn { negated: bool, refsets: ConceptSet },
    AcceptableIn { negated: bool, refsets: ConceptSet },
    LanguageRefset { negated: bool, refsets: ConceptSet },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefinitionStatus {
    Primitive,
    Defined,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ConceptFilter {
    DefinitionStatus { negated: bool, statuses: Vec<DefinitionStatus> },
    DefinitionStatusId { negated: bool, ids: ConceptSet },
    Module { negated: bool, modules: ConceptSet },
    EffectiveTime { operator: NumericOperator, dates: Vec<String> },
    Active { negated: bool, value: bool },
}

#[derive(Clone, Debug, PartialEq)]
pub enum MemberFilter {
    Field { name: String, comparison: Comparison },
    FieldTime { name: String, operator: NumericOperator, dates: Vec<String> },
    Module { negated: bool, modules: ConceptSet },
    EffectiveTime { operator: NumericOperator, dates: Vec<String> },
    Active { negated: bool, value: bool },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HistoryProfile {
    Min,
    Moderate,
    Max,
}

#[derive(Clone, Debug, PartialEq)]
pub enum HistorySupplement {
    /// `{{ +HISTORY }}` (the maximum profile) or `{{ +HISTORY-MIN }}` etc.
    Profile(HistoryProfile),
    /// `{{ +HISTORY (expression) }}`: the association refsets the expression selects.
    Subset(Box<Expression>),
}
