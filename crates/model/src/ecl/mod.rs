//! SNOMED CT Expression Constraint Language (ECL) 2.2: the parser, from text to [`ast::Expression`].
//!
//! # Brief overview
//! [`parse`] reads one expression constraint in the brief or long syntax and gives its syntax tree,
//! or a [`ParseError`] naming the character position (1-based, in characters) and what the grammar
//! expected there. The grammar is `ecl.pest`, transcribed from SNOMED International's ABNF and
//! compiled by `pest`; the tree builder below only reshapes pest's pairs into [`ast`] types.
//!
//! # Design decisions
//! `pest` was chosen over a hand-written parser so that the grammar file reads like the
//! specification's ABNF, rule for rule, and its error reporting (the furthest position reached and
//! the rules expected there) comes for free. A PEG parser backtracks; the grammar is arranged so
//! that every rule is tried once per position except around parentheses, and [`MAX_NESTING`] bounds
//! how deep brackets may nest so that no input makes the parser work exponentially or run off the
//! stack.
//!
//! # What this module does not do
//! It does not know any concept: whether an id exists, what a refset holds or what a term means is
//! the evaluator's business (`store::ecl`). Terms in pipes are kept but never checked.
//!
//! Tests are at the end of this file.

pub mod ast;

use ast::*;
use pest::iterators::Pair;
use pest::Parser;

#[derive(pest_derive::Parser)]
#[grammar = "ecl/ecl.pest"]
struct EclParser;

/// How deep parentheses, braces and brackets may nest in one expression.
pub const MAX_NESTING: usize = 24;

/// Why an expression constraint is not valid ECL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// The 1-based character position where the expression went wrong.
    pub position: usize,
    /// What the grammar would have accepted there, in words.
    pub expected: String,
    /// The expression as given.
    pub expression: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "ECL expression '{}' is not valid at character {}: expected {}", self.expression, self.position, self.expected)
    }
}

impl std::error::Error for ParseError {}

/// Parses one ECL 2.2 expression constraint.
pub fn parse(text: &str) -> Result<Expression, ParseError> {
    check_nesting(text)?;
    let mut pairs = EclParser::parse(Rule::expression_constraint, text).map_err(|error| parse_error(text, error))?;
    let root = pairs.next().expect("the grammar yields one expression_constraint");
    let expression = root.into_inner().find(|pair| pair.as_rule() == Rule::expression).expect("an expression inside");
    build_expression(expression).map_err(|(offset, expected)| ParseError {
        position: char_position(text, offset),
        expected,
        expression: text.to_owned(),
    })
}

fn char_position(text: &str, byte_offset: usize) -> usize {
    text[..byte_offset.min(text.len())].chars().count() + 1
}

/// Refuses brackets nested deeper than [`MAX_NESTING`], outside terms, strings and comments.
fn check_nesting(text: &str) -> Result<(), ParseError> {
    let mut depth = 0usize;
    let mut in_term = false;
    let mut in_string = false;
    let mut in_comment = false;
    let mut previous = '\0';
    for (position, character) in text.chars().enumerate() {
        match character {
            _ if in_comment => in_comment = !(previous == '*' && character == '/'),
            '"' if !in_term && previous != '\\' => in_string = !in_string,
            '|' if !in_string => in_term = !in_term,
            '*' if previous == '/' && !in_term && !in_string => in_comment = true,
            '(' | '{' | '[' if !in_term && !in_string => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(ParseError {
                        position: position + 1,
                        expected: format!("at most {MAX_NESTING} levels of nested brackets"),
                        expression: text.to_owned(),
                    });
                }
            }
            ')' | '}' | ']' if !in_term && !in_string => depth = depth.saturating_sub(1),
            _ => {}
        }
        previous = if in_comment && character == '*' && previous == '/' { '\0' } else { character };
    }
    Ok(())
}

fn parse_error(text: &str, error: pest::error::Error<Rule>) -> ParseError {
    let offset = match error.location {
        pest::error::InputLocation::Pos(offset) => offset,
        pest::error::InputLocation::Span((start, _)) => start,
    };
    let expected = match &error.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => {
            let mut words: Vec<&'static str> = positives.iter().map(|rule| rule_in_words(*rule)).collect();
            words.sort_unstable();
            words.dedup();
            match words.len() {
                0 => "something else".to_owned(),
                1 => words[0].to_owned(),
                _ => {
                    let last = words.pop().unwrap_or_default();
                    format!("{} or {last}", words.join(", "))
                }
            }
        }
        pest::error::ErrorVariant::CustomError { message } => message.clone(),
    };
    ParseError { position: char_position(text, offset), expected, expression: text.to_owned() }
}

fn rule_in_words(rule: Rule) -> &'static str {
    match rule {
        Rule::EOI => "the end of the expression",
        Rule::expression | Rule::sub_expression | Rule::focus | Rule::attribute_name => "a concept id, '*' or a bracketed expression",
        Rule::concept_reference | Rule::concept_id => "a concept id",
        Rule::concept_reference_set => "a set of concept ids in parentheses",
        Rule::term => "a term",
        Rule::wildcard => "'*'",
        Rule::alternate_identifier | Rule::alternate_scheme | Rule::alternate_code => "an alternate identifier",
        Rule::constraint_operator
        | Rule::descendant_of
        | Rule::descendant_or_self_of
        | Rule::child_of
        | Rule::child_or_self_of
        | Rule::ancestor_of
        | Rule::ancestor_or_self_of
        | Rule::parent_of
        | Rule::parent_or_self_of
        | Rule::top_of
        | Rule::bottom_of => "a constraint operator",
        Rule::member_of => "'^'",
        Rule::refined_tail => "':'",
        Rule::conjunction | Rule::conjunction_tail | Rule::refinement_conjunction => "AND or ','",
        Rule::disjunction | Rule::disjunction_tail | Rule::refinement_disjunction => "OR",
        Rule::exclusion | Rule::exclusion_tail => "MINUS",
        Rule::dotted_tail => "'.'",
        Rule::refinement | Rule::sub_refinement => "a refinement",
        Rule::attribute_group => "an attribute group",
        Rule::attribute => "an attribute",
        Rule::cardinality | Rule::non_negative_integer | Rule::many => "a cardinality such as [1..*]",
        Rule::reverse_flag => "R",
        Rule::expression_comparison_operator
        | Rule::numeric_comparison_operator
        | Rule::string_comparison_operator
        | Rule::boolean_comparison_operator
        | Rule::time_comparison_operator
        | Rule::equal
        | Rule::not_equal
        | Rule::less
        | Rule::less_or_equal
        | Rule::greater
        | Rule::greater_or_equal => "a comparison operator",
        Rule::numeric_value | Rule::integer_value => "a number",
        Rule::boolean_value | Rule::true_value | Rule::false_value => "true or false",
        Rule::typed_search_term | Rule::typed_search_term_set | Rule::match_search | Rule::wild_search => "a quoted search term",
        Rule::match_search_term | Rule::wild_search_term | Rule::escaped_char | Rule::escaped_wild_char => "search text",
        Rule::description_filter_constraint | Rule::concept_filter_constraint | Rule::member_filter_constraint => "a filter '{{ … }}'",
        Rule::history_supplement => "a history supplement '{{ +HISTORY }}'",
        Rule::history_profile | Rule::history_min | Rule::history_mod | Rule::history_max => "-MIN, -MOD or -MAX",
        Rule::history_subset => "a parenthesised expression",
        Rule::description_filter => "a description filter (term, language, type, dialect …)",
        Rule::concept_filter => "a concept filter (definitionStatus, moduleId, effectiveTime, active)",
        Rule::member_filter | Rule::member_field_filter => "a member filter",
        Rule::refset_field_set | Rule::refset_field | Rule::refset_field_name => "a refset field name",
        Rule::time_value | Rule::time_value_set | Rule::date => "a date \"YYYYMMDD\"",
        Rule::active_value | Rule::active_true | Rule::active_false => "1, 0, true or false",
        Rule::language_code | Rule::language_code_set => "a two-letter language code",
        Rule::type_token | Rule::type_token_set | Rule::synonym | Rule::fully_specified_name | Rule::definition => "syn, fsn or def",
        Rule::dialect_alias | Rule::dialect_alias_set | Rule::dialect_alias_entry => "a dialect alias such as en-gb",
        Rule::acceptability_set | Rule::acceptability_token_set | Rule::acceptability_token | Rule::acceptable | Rule::preferred => {
            "an acceptability such as (prefer)"
        }
        Rule::definition_status_token | Rule::definition_status_token_set | Rule::primitive_token | Rule::defined_token => {
            "primitive or defined"
        }
        _ => "a filter keyword",
    }
}

type Built<T> = Result<T, (usize, String)>;

fn unexpected(pair: &Pair<Rule>) -> (usize, String) {
    (pair.as_span().start(), format!("something other than {:?}", pair.as_rule()))
}

fn build_expression(pair: Pair<Rule>) -> Built<Expression> {
    let mut inner = pair.into_inner();
    let first = build_sub(inner.next().expect("a sub_expression"))?;
    let Some(tail) = inner.next() else { return Ok(Expression::Sub(first)) };
    let rule = tail.as_rule();
    let mut parts = tail.into_inner().filter(|part| !matches!(part.as_rule(), Rule::conjunction | Rule::disjunction | Rule::exclusion));
    Ok(match rule {
        Rule::refined_tail => {
            Expression::Refined { focus: first, refinement: build_refinement(parts.next().expect("a refinement"), false)? }
        }
        Rule::conjunction_tail => {
            let mut all = vec![first];
            for part in parts {
                all.push(build_sub(part)?);
            }
            Expression::And(all)
        }
        Rule::disjunction_tail => {
            let mut all = vec![first];
            for part in parts {
                all.push(build_sub(part)?);
            }
            Expression::Or(all)
        }
        Rule::exclusion_tail => Expression::Minus(Box::new(first), Box::new(build_sub(parts.next().expect("a sub_expression"))?)),
        Rule::dotted_tail => {
            let mut attributes = Vec::new();
            for part in parts {
                attributes.push(build_sub(part.into_inner().next().expect("a sub_expression"))?);
            }
            Expression::Dotted { focus: first, attributes }
        }
        _ => return Err(unexpected(&parts.next().expect("a part"))),
    })
}

fn build_sub(pair: Pair<Rule>) -> Built<SubExpression> {
    let pair = if pair.as_rule() == Rule::attribute_name { pair.into_inner().next().expect("a sub_expression") } else { pair };
    let mut sub = SubExpression {
        operator: None,
        member_of: None,
        focus: Focus::Wildcard,
        member_filters: Vec::new(),
        filters: Vec::new(),
        history: None,
    };
    for part in pair.into_inner() {
        match part.as_rule() {
            Rule::constraint_operator => {
                let operator = part.into_inner().next().expect("an operator");
                sub.operator = Some(match operator.as_rule() {
                    Rule::descendant_of => ConstraintOperator::DescendantOf,
                    Rule::descendant_or_self_of => ConstraintOperator::DescendantOrSelfOf,
                    Rule::child_of => ConstraintOperator::ChildOf,
                    Rule::child_or_self_of => ConstraintOperator::ChildOrSelfOf,
                    Rule::ancestor_of => ConstraintOperator::AncestorOf,
                    Rule::ancestor_or_self_of => ConstraintOperator::AncestorOrSelfOf,
                    Rule::parent_of => ConstraintOperator::ParentOf,
                    Rule::parent_or_self_of => ConstraintOperator::ParentOrSelfOf,
                    Rule::top_of => ConstraintOperator::TopOf,
                    Rule::bottom_of => ConstraintOperator::BottomOf,
                    _ => return Err(unexpected(&operator)),
                });
            }
            Rule::member_of => {
                let mut fields = None;
                for selection in part.into_inner() {
                    match selection.as_rule() {
                        Rule::wildcard => fields = Some(Vec::new()),
                        Rule::refset_field_set => {
                            let mut names = Vec::new();
                            for field in selection.into_inner() {
                                let field = field.into_inner().next().expect("a field");
                                names.push(match field.as_rule() {
                                    Rule::concept_reference => RefsetField::Concept(build_reference(field)),
                                    _ => RefsetField::Name(field.as_str().to_owned()),
                                });
                            }
                            fields = Some(names);
                        }
                        _ => return Err(unexpected(&selection)),
                    }
                }
                sub.member_of = Some(MemberOf { fields });
            }
            Rule::focus => {
                let focus = part.into_inner().next().expect("a focus");
                sub.focus = match focus.as_rule() {
                    Rule::concept_reference => Focus::Concept(build_reference(focus)),
                    Rule::wildcard => Focus::Wildcard,
                    Rule::alternate_identifier => {
                        let mut pieces = focus.into_inner();
                        let scheme = pieces.next().expect("a scheme").as_str().to_owned();
                        let code = pieces.next().expect("a code").as_str().to_owned();
                        Focus::AlternateIdentifier { scheme, code }
                    }
                    Rule::expression => Focus::Nested(Box::new(build_expression(focus)?)),
                    _ => return Err(unexpected(&focus)),
                };
            }
            Rule::member_filter_constraint => {
                let mut filters = Vec::new();
                for filter in part.into_inner() {
                    filters.push(build_member_filter(filter.into_inner().next().expect("a member filter"))?);
                }
                sub.member_filters.push(filters);
            }
            Rule::description_filter_constraint => {
                let mut filters = Vec::new();
                for filter in part.into_inner() {
                    filters.push(build_description_filter(filter.into_inner().next().expect("a description filter"))?);
                }
                sub.filters.push(FilterConstraint::Description(filters));
            }
            Rule::concept_filter_constraint => {
                let mut filters = Vec::new();
                for filter in part.into_inner() {
                    filters.push(build_concept_filter(filter.into_inner().next().expect("a concept filter"))?);
                }
                sub.filters.push(FilterConstraint::Concept(filters));
            }
            Rule::history_supplement => {
                sub.history = Some(match part.into_inner().next() {
                    None => HistorySupplement::Profile(HistoryProfile::Max),
                    Some(detail) if detail.as_rule() == Rule::history_profile => {
                        match detail.into_inner().next().expect("a profile").as_rule() {
                            Rule::history_min => HistorySupplement::Profile(HistoryProfile::Min),
                            Rule::history_mod => HistorySupplement::Profile(HistoryProfile::Moderate),
                            _ => HistorySupplement::Profile(HistoryProfile::Max),
                        }
                    }
                    Some(detail) => {
                        HistorySupplement::Subset(Box::new(build_expression(detail.into_inner().next().expect("an expression"))?))
                    }
                });
            }
            _ => return Err(unexpected(&part)),
        }
    }
    Ok(sub)
}

fn build_reference(pair: Pair<Rule>) -> ConceptReference {
    let mut inner = pair.into_inner();
    let id = inner.next().expect("a concept id").as_str().to_owned();
    let term = inner.next().map(|term| term.as_str().to_owned());
    ConceptReference { id, term }
}

fn build_references(pair: Pair<Rule>) -> Vec<ConceptReference> {
    pair.into_inner().map(build_reference).collect()
}

/// A refinement; `in_group` refuses a group inside a group, as the ABNF does.
fn build_refinement(pair: Pair<Rule>, in_group: bool) -> Built<Refinement> {
    match pair.as_rule() {
        Rule::refinement => {
            let mut inner = pair.into_inner();
            let first = build_refinement(inner.next().expect("a sub_refinement"), in_group)?;
            let Some(rest) = inner.next() else { return Ok(first) };
            let is_conjunction = rest.as_rule() == Rule::refinement_conjunction;
            let mut all = vec![first];
            for part in rest.into_inner().filter(|part| part.as_rule() == Rule::sub_refinement) {
                all.push(build_refinement(part, in_group)?);
            }
            Ok(if is_conjunction { Refinement::And(all) } else { Refinement::Or(all) })
        }
        Rule::sub_refinement => build_refinement(pair.into_inner().next().expect("a refinement part"), in_group),
        Rule::attribute_group => {
            if in_group {
                return Err((pair.as_span().start(), "an attribute, not a group inside a group".to_owned()));
            }
            let mut cardinality = None;
            let mut attributes = None;
            for part in pair.into_inner() {
                match part.as_rule() {
                    Rule::cardinality => cardinality = Some(build_cardinality(part)?),
                    _ => attributes = Some(build_refinement(part, true)?),
                }
            }
            Ok(Refinement::Group(AttributeGroup { cardinality, attributes: Box::new(attributes.expect("attributes")) }))
        }
        Rule::attribute => {
            let mut cardinality = None;
            let mut reverse = false;
            let mut name = None;
            let mut operator: Option<Pair<Rule>> = None;
            let mut comparison = None;
            for part in pair.into_inner() {
                match part.as_rule() {
                    Rule::cardinality => cardinality = Some(build_cardinality(part)?),
                    Rule::reverse_flag => reverse = true,
                    Rule::attribute_name => name = Some(build_sub(part)?),
                    Rule::numeric_comparison_operator
                    | Rule::string_comparison_operator
                    | Rule::boolean_comparison_operator
                    | Rule::expression_comparison_operator => operator = Some(part),
                    _ => {
                        let operator = operator.take().expect("an operator before the value");
                        comparison = Some(build_comparison(operator, part)?);
                    }
                }
            }
            Ok(Refinement::Attribute(Attribute {
                cardinality,
                reverse,
                name: name.expect("an attribute name"),
                comparison: comparison.expect("a comparison"),
            }))
        }
        _ => Err(unexpected(&pair)),
    }
}

fn build_cardinality(pair: Pair<Rule>) -> Built<Cardinality> {
    let start = pair.as_span().start();
    let mut inner = pair.into_inner();
    let number = |text: &str| text.parse::<u32>().map_err(|_| (start, "a cardinality below 4294967296".to_owned()));
    let min = number(inner.next().expect("a minimum").as_str())?;
    let max_pair = inner.next().expect("a maximum");
    let max = match max_pair.as_rule() {
        Rule::many => None,
        _ => Some(number(max_pair.as_str())?),
    };
    if max.is_some_and(|max| max < min) {
        return Err((start, format!("a cardinality whose maximum is not below its minimum {min}")));
    }
    Ok(Cardinality { min, max })
}

fn is_negated(operator: &Pair<Rule>) -> bool {
    operator.clone().into_inner().next().is_some_and(|inner| inner.as_rule() == Rule::not_equal)
}

fn numeric_operator(operator: &Pair<Rule>) -> NumericOperator {
    match operator.clone().into_inner().next().map(|inner| inner.as_rule()) {
        Some(Rule::not_equal) => NumericOperator::NotEqual,
        Some(Rule::less) => NumericOperator::Less,
        Some(Rule::less_or_equal) => NumericOperator::LessOrEqual,
        Some(Rule::greater) => NumericOperator::Greater,
        Some(Rule::greater_or_equal) => NumericOperator::GreaterOrEqual,
        _ => NumericOperator::Equal,
    }
}

fn build_comparison(operator: Pair<Rule>, value: Pair<Rule>) -> Built<Comparison> {
    Ok(match value.as_rule() {
        Rule::numeric_value => Comparison::Numeric { operator: numeric_operator(&operator), value: value.as_str().to_owned() },
        Rule::typed_search_term | Rule::typed_search_term_set => {
            Comparison::String { negated: is_negated(&operator), terms: build_search_terms(value) }
        }
        Rule::boolean_value => Comparison::Boolean { negated: is_negated(&operator), value: boolean_of(&value) },
        Rule::sub_expression => Comparison::Expression { negated: is_negated(&operator), value: Box::new(build_sub(value)?) },
        _ => return Err(unexpected(&value)),
    })
}

fn boolean_of(pair: &Pair<Rule>) -> bool {
    pair.clone().into_inner().next().is_some_and(|inner| matches!(inner.as_rule(), Rule::true_value | Rule::active_true))
}

fn unescape(text: &str, keep_star: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut characters = text.chars();
    while let Some(character) = characters.next() {
        if character == '\\' {
            match characters.next() {
                Some('*') if keep_star => out.push_str("\\*"),
                Some(escaped) => out.push(escaped),
                None => out.push('\\'),
            }
        } else {
            out.push(character);
        }
    }
    out
}

fn build_search_terms(pair: Pair<Rule>) -> Vec<SearchTerm> {
    let typed: Vec<Pair<Rule>> = match pair.as_rule() {
        Rule::typed_search_term_set => pair.into_inner().collect(),
        _ => vec![pair],
    };
    typed
        .into_iter()
        .map(|term| {
            let term = term.into_inner().next().expect("match or wild");
            match term.as_rule() {
                Rule::wild_search => {
                    SearchTerm::Wild(unescape(term.into_inner().next().map(|text| text.as_str()).unwrap_or_default(), true))
                }
                _ => SearchTerm::Match(term.into_inner().map(|word| unescape(word.as_str(), false)).collect()),
            }
        })
        .collect()
}

fn build_concept_set(pair: Pair<Rule>) -> Built<ConceptSet> {
    Ok(match pair.as_rule() {
        Rule::concept_reference_set => ConceptSet::References(build_references(pair)),
        _ => ConceptSet::Expression(Box::new(build_sub(pair)?)),
    })
}

fn build_dates(pair: Pair<Rule>) -> Vec<String> {
    let values: Vec<Pair<Rule>> = match pair.as_rule() {
        Rule::time_value_set => pair.into_inner().collect(),
        _ => vec![pair],
    };
    values.into_iter().map(|value| value.as_str().trim_matches('"').to_owned()).collect()
}

fn build_acceptability(pair: Pair<Rule>) -> Acceptability {
    let inner = pair.into_inner().next().expect("an acceptability set");
    match inner.as_rule() {
        Rule::acceptability_token_set => Acceptability::Tokens(
            inner
                .into_inner()
                .map(|token| match token.into_inner().next().map(|token| token.as_rule()) {
                    Some(Rule::preferred) => AcceptabilityToken::Preferred,
                    _ => AcceptabilityToken::Acceptable,
                })
                .collect(),
        ),
        _ => Acceptability::Concepts(build_references(inner)),
    }
}

/// The operator and value of a `keyword op value` filter.
fn operator_and_value(pair: Pair<Rule>) -> (Pair<Rule>, Pair<Rule>) {
    let mut inner = pair.into_inner();
    let operator = inner.next().expect("an operator");
    let value = inner.next().expect("a value");
    (operator, value)
}

fn build_module_filter(pair: Pair<Rule>) -> Built<(bool, ConceptSet)> {
    let (operator, value) = operator_and_value(pair);
    Ok((is_negated(&operator), build_concept_set(value)?))
}

fn build_time_filter(pair: Pair<Rule>) -> (NumericOperator, Vec<String>) {
    let (operator, value) = operator_and_value(pair);
    (numeric_operator(&operator), build_dates(value))
}

fn build_active_filter(pair: Pair<Rule>) -> (bool, bool) {
    let (operator, value) = operator_and_value(pair);
    (is_negated(&operator), boolean_of(&value))
}

fn build_description_filter(pair: Pair<Rule>) -> Built<DescriptionFilter> {
    Ok(match pair.as_rule() {
        Rule::term_filter | Rule::semantic_tag_filter => {
            let is_term = pair.as_rule() == Rule::term_filter;
            let (operator, value) = operator_and_value(pair);
            let negated = is_negated(&operator);
            let terms = build_search_terms(value);
            if is_term {
                DescriptionFilter::Term { negated, terms }
            } else {
                DescriptionFilter::SemanticTag { negated, terms }
            }
        }
        Rule::language_filter => {
            let (operator, value) = operator_and_value(pair);
            let codes = match value.as_rule() {
                Rule::language_code_set => value.into_inner().map(|code| code.as_str().to_lowercase()).collect(),
                _ => vec![value.as_str().to_lowercase()],
            };
            DescriptionFilter::Language { negated: is_negated(&operator), codes }
        }
        Rule::type_filter => build_description_filter(pair.into_inner().next().expect("a type filter"))?,
        Rule::type_id_filter => {
            let (negated, types) = build_module_filter(pair)?;
            DescriptionFilter::TypeId { negated, types }
        }
        Rule::type_token_filter => {
            let (operator, value) = operator_and_value(pair);
            let tokens: Vec<Pair<Rule>> = match value.as_rule() {
                Rule::type_token_set => value.into_inner().collect(),
                _ => vec![value],
            };
            let types = tokens
                .into_iter()
                .map(|token| match token.into_inner().next().map(|token| token.as_rule()) {
                    Some(Rule::fully_specified_name) => DescriptionType::FullySpecifiedName,
                    Some(Rule::definition) => DescriptionType::Definition,
                    _ => DescriptionType::Synonym,
                })
                .collect();
            DescriptionFilter::Type { negated: is_negated(&operator), types }
        }
        Rule::dialect_filter => {
            let mut inner = pair.into_inner();
            let dialect = inner.next().expect("a dialect filter");
            let acceptability = inner.next().map(build_acceptability);
            let is_alias = dialect.as_rule() == Rule::dialect_alias_filter;
            let (operator, value) = operator_and_value(dialect);
            let dialects = match value.as_rule() {
                Rule::dialect_alias => vec![Dialect::Alias(value.as_str().to_lowercase(), None)],
                Rule::dialect_alias_set | Rule::dialect_id_set => value
                    .into_inner()
                    .map(|entry| {
                        let mut parts = entry.into_inner();
                        let named = parts.next().expect("a dialect");
                        let acceptability = parts.next().map(build_acceptability);
                        if is_alias {
                            Dialect::Alias(named.as_str().to_lowercase(), acceptability)
                        } else {
                            Dialect::Concept(build_reference(named), acceptability)
                        }
                    })
                    .collect(),
                _ => vec![Dialect::Expression(Box::new(build_sub(value)?))],
            };
            DescriptionFilter::Dialect { negated: is_negated(&operator), dialects, acceptability }
        }
        Rule::module_filter => {
            let (negated, modules) = build_module_filter(pair)?;
            DescriptionFilter::Module { negated, modules }
        }
        Rule::effective_time_filter => {
            let (operator, dates) = build_time_filter(pair);
            DescriptionFilter::EffectiveTime { operator, dates }
        }
        Rule::active_filter => {
            let (negated, value) = build_active_filter(pair);
            DescriptionFilter::Active { negated, value }
        }
        Rule::description_id_filter => {
            let (operator, value) = operator_and_value(pair);
            let ids = match value.as_rule() {
                Rule::description_id_set => value.into_inner().map(|id| id.as_str().to_owned()).collect(),
                _ => vec![value.as_str().to_owned()],
            };
            DescriptionFilter::Id { negated: is_negated(&operator), ids }
        }
        Rule::case_significance_filter => {
            let (negated, ids) = build_module_filter(pair)?;
            DescriptionFilter::CaseSignificance { negated, ids }
        }
        Rule::preferred_in_filter => {
            let (negated, refsets) = build_module_filter(pair)?;
            DescriptionFilter::PreferredIn { negated, refsets }
        }
        Rule::acceptable_in_filter => {
            let (negated, refsets) = build_module_filter(pair)?;
            DescriptionFilter::AcceptableIn { negated, refsets }
        }
        Rule::language_refset_filter => {
            let (negated, refsets) = build_module_filter(pair)?;
            DescriptionFilter::LanguageRefset { negated, refsets }
        }
        _ => return Err(unexpected(&pair)),
    })
}

fn build_concept_filter(pair: Pair<Rule>) -> Built<ConceptFilter> {
    Ok(match pair.as_rule() {
        Rule::definition_status_filter => build_concept_filter(pair.into_inner().next().expect("a definition status filter"))?,
        Rule::definition_status_id_filter => {
            let (negated, ids) = build_module_filter(pair)?;
            ConceptFilter::DefinitionStatusId { negated, ids }
        }
        Rule::definition_status_token_filter => {
            let (operator, value) = operator_and_value(pair);
            let tokens: Vec<Pair<Rule>> = match value.as_rule() {
                Rule::definition_status_token_set => value.into_inner().collect(),
                _ => vec![value],
            };
            let statuses = tokens
                .into_iter()
                .map(|token| match token.into_inner().next().map(|token| token.as_rule()) {
                    Some(Rule::defined_token) => DefinitionStatus::Defined,
                    _ => DefinitionStatus::Primitive,
                })
                .collect();
            ConceptFilter::DefinitionStatus { negated: is_negated(&operator), statuses }
        }
        Rule::module_filter => {
            let (negated, modules) = build_module_filter(pair)?;
            ConceptFilter::Module { negated, modules }
        }
        Rule::effective_time_filter => {
            let (operator, dates) = build_time_filter(pair);
            ConceptFilter::EffectiveTime { operator, dates }
        }
        Rule::active_filter => {
            let (negated, value) = build_active_filter(pair);
            ConceptFilter::Active { negated, value }
        }
        _ => return Err(unexpected(&pair)),
    })
}

fn build_member_filter(pair: Pair<Rule>) -> Built<MemberFilter> {
    Ok(match pair.as_rule() {
        Rule::module_filter => {
            let (negated, modules) = build_module_filter(pair)?;
            MemberFilter::Module { negated, modules }
        }
        Rule::effective_time_filter => {
            let (operator, dates) = build_time_filter(pair);
            MemberFilter::EffectiveTime { operator, dates }
        }
        Rule::active_filter => {
            let (negated, value) = build_active_filter(pair);
            MemberFilter::Active { negated, value }
        }
        Rule::member_field_filter => {
            let mut inner = pair.into_inner();
            let name = inner.next().expect("a field name").as_str().to_owned();
            let operator = inner.next().expect("an operator");
            let value = inner.next().expect("a value");
            match value.as_rule() {
                Rule::time_value | Rule::time_value_set => {
                    MemberFilter::FieldTime { name, operator: numeric_operator(&operator), dates: build_dates(value) }
                }
                _ => MemberFilter::Field { name, comparison: build_comparison(operator, value)? },
            }
        }
        _ => return Err(unexpected(&pair)),
    })
}

#[cfg(test)]
mod tests;
