//! Parser tests: the specification's own examples (ECL 2.2, chapter 6) parse, and bad input fails
//! at the right character with what was expected.

use super::ast::*;
use super::parse;

#[track_caller]
fn parses(text: &str) -> Expression {
    match parse(text) {
        Ok(expression) => expression,
        Err(error) => panic!("{error}"),
    }
}

#[track_caller]
fn fails_at(text: &str, position: usize, expected_part: &str) {
    let error = parse(text).expect_err(text);
    assert_eq!(error.position, position, "{error}");
    assert!(error.expected.contains(expected_part), "{error}");
}

fn sub(expression: &Expression) -> SubExpression {
    match expression {
        Expression::Sub(sub) => sub.clone(),
        other => panic!("not a sub-expression: {other:?}"),
    }
}

#[test]
fn simple_constraints_from_the_specification() {
    let cases = [
        ("404684003 |Clinical finding|", None),
        ("< 404684003 |Clinical finding|", Some(ConstraintOperator::DescendantOf)),
        ("<< 73211009 |Diabetes mellitus|", Some(ConstraintOperator::DescendantOrSelfOf)),
        ("<! 404684003 |Clinical finding|", Some(ConstraintOperator::ChildOf)),
        ("<<! 404684003 |Clinical finding|", Some(ConstraintOperator::ChildOrSelfOf)),
        ("> 40541001 |Acute pulmonary edema|", Some(ConstraintOperator::AncestorOf)),
        (">> 40541001 |Acute pulmonary edema|", Some(ConstraintOperator::AncestorOrSelfOf)),
        (">! 40541001 |Acute pulmonary edema|", Some(ConstraintOperator::ParentOf)),
        (">>! 40541001 |Acute pulmonary edema|", Some(ConstraintOperator::ParentOrSelfOf)),
        ("!!> (< 404684003)", Some(ConstraintOperator::TopOf)),
        ("!!< (< 404684003)", Some(ConstraintOperator::BottomOf)),
        ("descendantOf 404684003 |Clinical finding|", Some(ConstraintOperator::DescendantOf)),
        ("descendantOrSelfOf 73211009", Some(ConstraintOperator::DescendantOrSelfOf)),
        ("childOf 404684003", Some(ConstraintOperator::ChildOf)),
        ("ancestorOrSelfOf 40541001", Some(ConstraintOperator::AncestorOrSelfOf)),
    ];
    for (text, operator) in cases {
        assert_eq!(sub(&parses(text)).operator, operator, "{text}");
    }
    let focus = sub(&parses("404684003 |Clinical finding|")).focus.clone();
    assert_eq!(focus, Focus::Concept(ConceptReference { id: "404684003".into(), term: Some("Clinical finding".into()) }));
    assert_eq!(sub(&parses("*")).focus, Focus::Wildcard);
    assert_eq!(sub(&parses("ANY")).focus, Focus::Wildcard);
    let member = sub(&parses("^ 700043003 |Example problem list concepts reference set|"));
    assert_eq!(member.member_of, Some(MemberOf { fields: None }));
    let member = sub(&parses("memberOf 700043003"));
    assert_eq!(member.member_of, Some(MemberOf { fields: None }));
    let fields = sub(&parses("^ [targetComponentId] 900000000000527005 |SAME AS association reference set|"));
    assert_eq!(fields.member_of, Some(MemberOf { fields: Some(vec![RefsetField::Name("targetComponentId".into())]) }));
    let alternate = sub(&parses("LOINC#54486-6"));
    assert_eq!(alternate.focus, Focus::AlternateIdentifier { scheme: "LOINC".into(), code: "54486-6".into() });
    // Comments may sit wherever white space may.
    let commented = parses("/* the findings */ < 404684003 /* and nothing else */");
    assert_eq!(sub(&commented).operator, Some(ConstraintOperator::DescendantOf));
}

#[test]
fn refinements_groups_cardinality_reverse_and_dotted() {
    let refined = parses("< 19829001 |Disorder of lung| : 116676008 |Associated morphology| = 79654002 |Edema|");
    let Expression::Refined { refinement: Refinement::Attribute(attribute), .. } = refined else { panic!("{refined:?}") };
    assert!(!attribute.reverse);
    assert_eq!(
        attribute.name,
        SubExpression {
            focus: Focus::Concept(ConceptReference { id: "116676008".into(), term: Some("Associated morphology".into()) }),
            ..SubExpression::concept("1")
        }
    );

    let conjunction = parses(
        "< 404684003 |Clinical finding| : 363698007 |Finding site| = << 39057004 |Pulmonary valve structure|, 116676008 |Associated morphology| = << 415582006 |Stenosis|",
    );
    let Expression::Refined { refinement: Refinement::And(parts), .. } = conjunction else { panic!("{conjunction:?}") };
    assert_eq!(parts.len(), 2);

    let grouped = parses("< 404684003 : [1..3] { 363698007 = << 39057004, 116676008 = << 415582006 }, { 363698007 = << 39057004 }");
    let Expression::Refined { refinement: Refinement::And(groups), .. } = grouped else { panic!("{grouped:?}") };
    let Refinement::Group(first) = &groups[0] else { panic!("{groups:?}") };
    assert_eq!(first.cardinality, Some(Cardinality { min: 1, max: Some(3) }));
    assert!(matches!(*first.attributes, Refinement::And(ref inner) if inner.len() == 2));

    let cardinality =
        parses("< 373873005 |Pharmaceutical / biologic product| : [1..*] 127489000 |Has active ingredient| = < 105590001 |Substance|");
    let Expression::Refined { refinement: Refinement::Attribute(attribute), .. } = cardinality else { panic!() };
    assert_eq!(attribute.cardinality, Some(Cardinality { min: 1, max: None }));
    let none = parses("< 404684003 : [0..0] 363698007 = *");
    let Expression::Refined { refinement: Refinement::Attribute(attribute), .. } = none else { panic!() };
    assert_eq!(attribute.cardinality, Some(Cardinality { min: 0, max: Some(0) }));

    let reverse = parses("< 105590001 |Substance| : R 127489000 |Has active ingredient| = *");
    let Expression::Refined { refinement: Refinement::Attribute(attribute), .. } = reverse else { panic!() };
    assert!(attribute.reverse);
    assert!(matches!(
        parses("< 105590001 : reverseOf 127489000 = *"),
        Expression::Refined { refinement: Refinement::Attribute(Attribute { reverse: true, .. }), .. }
    ));

    let dotted = parses("< 125605004 |Fracture of bone| . 363698007 |Finding site|");
    let Expression::Dotted { attributes, .. } = dotted else { panic!() };
    assert_eq!(attributes.len(), 1);
    let twice = parses("< 404684003 . 363698007 . 272741003 |Laterality|");
    assert!(matches!(twice, Expression::Dotted { ref attributes, .. } if attributes.len() == 2));

    let attribute_operator = parses("<< 404684003 : << 47429007 |Associated with| = << 267038008 |Edema|");
    let Expression::Refined { refinement: Refinement::Attribute(attribute), .. } = attribute_operator else { panic!() };
    assert_eq!(attribute.name.operator, Some(ConstraintOperator::DescendantOrSelfOf));

    let nested_refinement = parses("< 404684003 : (363698007 = << 39057004 OR 116676008 = << 415582006) AND 246075003 = *");
    assert!(matches!(nested_refinement, Expression::Refined { refinement: Refinement::And(_), .. }));
}

#[test]
fn concrete_values() {
    let cases = [
        ("< 27658006 |Amoxicillin| : 1142135004 |Has presentation strength numerator value| = #500", NumericOperator::Equal, "500"),
        ("< 27658006 : 1142135004 >= #250", NumericOperator::GreaterOrEqual, "250"),
        ("< 27658006 : 1142135004 < #2.5", NumericOperator::Less, "2.5"),
        ("< 27658006 : 1142135004 != #-1", NumericOperator::NotEqual, "-1"),
    ];
    for (text, operator, value) in cases {
        let Expression::Refined { refinement: Refinement::Attribute(attribute), .. } = parses(text) else { panic!("{text}") };
        assert_eq!(attribute.comparison, Comparison::Numeric { operator, value: value.into() }, "{text}");
    }
    let Expression::Refined { refinement: Refinement::Attribute(attribute), .. } = parses("< 763158003 : 1142139005 = \"PANADOL\"") else {
        panic!()
    };
    assert_eq!(attribute.comparison, Comparison::String { negated: false, terms: vec![SearchTerm::Match(vec!["PANADOL".into()])] });
    let Expression::Refined { refinement: Refinement::Attribute(attribute), .. } = parses("< 763158003 : 859999999102 = true") else {
        panic!()
    };
    assert_eq!(attribute.comparison, Comparison::Boolean { negated: false, value: true });
}

#[test]
fn compound_constraints_and_their_bracketing_rules() {
    assert!(matches!(parses("< 19829001 AND < 301867009"), Expression::And(ref all) if all.len() == 2));
    assert!(matches!(parses("< 19829001 , < 301867009, < 1234567"), Expression::And(ref all) if all.len() == 3));
    assert!(matches!(parses("< 19829001 OR < 301867009"), Expression::Or(ref all) if all.len() == 2));
    assert!(matches!(parses("<< 19829001 MINUS << 301867009"), Expression::Minus(_, _)));
    assert!(matches!(parses("< 19829001 and < 301867009"), Expression::And(_)));
    let nested = parses("(< 19829001 AND < 301867009) OR < 1234567");
    assert!(matches!(nested, Expression::Or(ref all) if matches!(all[0].focus, Focus::Nested(_))));
    // Mixing AND and OR without brackets is not ECL.
    fails_at("< 19829001 AND < 301867009 OR < 1234567", 28, "AND");
    // Neither is a chain of MINUS.
    fails_at("< 19829001 MINUS < 301867009 MINUS < 1234567", 30, "end of the expression");
}

#[test]
fn filters_and_history_supplements() {
    let term = parses("< 64572001 |Disease| {{ term = \"heart att\" }}");
    assert_eq!(
        sub(&term).filters,
        vec![FilterConstraint::Description(vec![DescriptionFilter::Term {
            negated: false,
            terms: vec![SearchTerm::Match(vec!["heart".into(), "att".into()])]
        }])]
    );
    let wild = parses("< 64572001 {{ D term = wild:\"cardi*opathy\", language = en, type = syn }}");
    let FilterConstraint::Description(filters) = &sub(&wild).filters[0] else { panic!() };
    assert_eq!(filters[0], DescriptionFilter::Term { negated: false, terms: vec![SearchTerm::Wild("cardi*opathy".into())] });
    assert_eq!(filters[1], DescriptionFilter::Language { negated: false, codes: vec!["en".into()] });
    assert_eq!(filters[2], DescriptionFilter::Type { negated: false, types: vec![DescriptionType::Synonym] });
    let set = parses("< 64572001 {{ term = (\"heart\" \"card\"), type = (syn fsn) }}");
    let FilterConstraint::Description(filters) = &sub(&set).filters[0] else { panic!() };
    assert!(matches!(&filters[0], DescriptionFilter::Term { terms, .. } if terms.len() == 2));
    let dialect = parses("< 64572001 {{ dialect = en-gb (prefer) }}");
    let FilterConstraint::Description(filters) = &sub(&dialect).filters[0] else { panic!() };
    assert_eq!(
        filters[0],
        DescriptionFilter::Dialect {
            negated: false,
            dialects: vec![Dialect::Alias("en-gb".into(), None)],
            acceptability: Some(Acceptability::Tokens(vec![AcceptabilityToken::Preferred]))
        }
    );
    assert!(matches!(&sub(&parses("< 64572001 {{ typeId = 900000000000013009 }}")).filters[0], FilterConstraint::Description(_)));

    let concept = parses("< 56265001 {{ C definitionStatus = primitive, moduleId = 900000000000207008, active = true }}");
    assert_eq!(
        sub(&concept).filters,
        vec![FilterConstraint::Concept(vec![
            ConceptFilter::DefinitionStatus { negated: false, statuses: vec![DefinitionStatus::Primitive] },
            ConceptFilter::Module {
                negated: false,
                modules: ConceptSet::Expression(Box::new(SubExpression::concept("900000000000207008")))
            },
            ConceptFilter::Active { negated: false, value: true },
        ])]
    );
    let time = parses("< 195967001 {{ C effectiveTime >= \"20190731\" }}");
    assert_eq!(
        sub(&time).filters,
        vec![FilterConstraint::Concept(vec![ConceptFilter::EffectiveTime {
            operator: NumericOperator::GreaterOrEqual,
            dates: vec!["20190731".into()]
        }])]
    );
    let member = parses("^ 447562003 |ICD-10 complex map| {{ M mapTarget = \"J45.9\" }}");
    assert_eq!(sub(&member).member_filters.len(), 1);
    for (text, expected) in [
        ("<< 195967001 {{ +HISTORY }}", HistorySupplement::Profile(HistoryProfile::Max)),
        ("<< 195967001 {{ +HISTORY-MIN }}", HistorySupplement::Profile(HistoryProfile::Min)),
        ("<< 195967001 {{ + HISTORY-MOD }}", HistorySupplement::Profile(HistoryProfile::Moderate)),
        ("<< 195967001 {{ +HISTORY-MAX }}", HistorySupplement::Profile(HistoryProfile::Max)),
    ] {
        assert_eq!(sub(&parses(text)).history, Some(expected), "{text}");
    }
    let subset = parses("<< 195967001 {{ +HISTORY (<< 900000000000527005 |SAME AS|) }}");
    assert!(matches!(sub(&subset).history, Some(HistorySupplement::Subset(_))));
}

#[test]
fn errors_name_the_position_and_what_was_expected() {
    fails_at("", 1, "concept id");
    fails_at("<< ", 4, "concept id");
    fails_at("< 404684003 :", 14, "refinement");
    fails_at("< 404684003 : 363698007", 24, "comparison operator");
    fails_at("< 12345", 3, "concept id");
    fails_at("< 404684003 |Clinical finding", 13, "end of the expression");
    fails_at("< 404684003 {{ term = heart }}", 23, "search term");
    fails_at("< 404684003 : [3..1] 363698007 = *", 16, "maximum");
    fails_at("< 404684003 : { { 363698007 = * } }", 17, "group inside a group");
    let deep = format!("{}404684003{}", "(".repeat(40), ")".repeat(40));
    fails_at(&deep, super::MAX_NESTING + 1, "levels of nested brackets");
    let error = parse("< 404684003 AND").expect_err("dangling AND");
    assert!(error.to_string().contains("at character"), "{error}");
}
