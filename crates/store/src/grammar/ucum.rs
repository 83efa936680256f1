//! UCUM, the Unified Code for Units of Measure (`http://unitsofmeasure.org`), version 2.2.
//!
//! Units are read by the `ucum-units` crate (the `c/s` grammar and the UCUM 2.2 essence tables,
//! 2024-06-17 revision) behind a thin layer of our own that bounds the input, reads annotations
//! as the reference implementation does (any printable ASCII but braces, spaces included; an
//! annotated unit is the unit times one), and words errors the way HL7's tests expect
//! ("The unit 'kgXX' is unknown at character 1").
//! A unit's canonical form is its dimension in base units (`m3`, `g.m-3`); the `canonical`
//! filter selects the units whose canonical form equals that of the filter value.
//! The common listing is FHIR's `ucum-common` value set, its displays kept as designations.

use super::{english_designation, plain_concept, GrammarCodeSystem, NotACode};
use model::terminology::{Concept, Filter};
use serde_json::json;

/// The UCUM version served: that of the essence tables compiled into `ucum-units`.
pub const UCUM_VERSION: &str = "2.2";

/// The longest unit expression read; longer input is not a unit.
const MAX_UNIT_LENGTH: usize = 512;

/// The deepest parenthesis nesting read; deeper input is not a unit.
const MAX_NESTING_DEPTH: usize = 16;

/// UCUM as a grammar code system.
#[derive(Debug)]
pub struct Ucum {
    /// The common units with the display the listing gives them.
    common: Vec<(String, Option<String>)>,
    common_source: String,
    common_status: String,
}

impl Ucum {
    /// UCUM with its common listing: `(code, display)` pairs from the value set `source`
    /// (`url|version`), whose status is `status`.
    pub fn new(common: Vec<(String, Option<String>)>, source: &str, status: &str) -> Ucum {
        let mut seen = std::collections::HashSet::new();
        let mut kept: Vec<(String, Option<String>)> =
            common.into_iter().filter(|(code, _)| read_unit(code).is_ok() && seen.insert(code.clone())).collect();
        kept.sort_by(|left, right| left.0.cmp(&right.0));
        Ucum { common: kept, common_source: source.to_owned(), common_status: status.to_owned() }
    }
}

/// A unit read: its formal display name and its canonical form.
#[derive(Debug, PartialEq)]
pub struct UnitReading {
    pub formal_name: String,
    pub canonical: String,
}

/// Reads a unit expression, or says why it is not one.
pub fn read_unit(code: &str) -> Result<UnitReading, String> {
    if code.is_empty() {
        return Err("The unit is empty".to_owned());
    }
    if code.len() > MAX_UNIT_LENGTH {
        return Err(format!("The unit is longer than {MAX_UNIT_LENGTH} characters"));
    }
    if let Some((position, character)) = code.char_indices().find(|(_, character)| !(' '..='~').contains(character)) {
        return Err(format!("The character {character:?} is not allowed in a unit at character {}", position + 1));
    }
    let rewritten = rewrite_annotations(code)?;
    let analysis = ucum::analyze(&rewritten).map_err(|error| explain(code, &error))?;
    let formal_name = ucum::display_name(&rewritten).map_err(|error| explain(code, &error))?;
    Ok(UnitReading { formal_name, canonical: canonical_form(&analysis.dimension) })
}

/// Checks annotations and nesting, and writes each annotation as the unity (`mg{x}` as `mg.1`,
/// a lone `{x}` as `1`), which is what it means.
fn rewrite_annotations(code: &str) -> Result<String, String> {
    let mut out = String::with_capacity(code.len());
    let mut depth = 0usize;
    let mut chars = code.char_indices().peekable();
    while let Some((position, character)) = chars.next() {
        match character {
            '{' => {
                let mut closed = false;
                for (_, inner) in chars.by_ref() {
                    match inner {
                        '}' => {
                            closed = true;
                            break;
                        }
                        '{' => return Err(format!("Nested annotation in unit at character {}", position + 1)),
                        _ => {}
                    }
                }
                if !closed {
                    return Err(format!("Unterminated annotation in unit at character {}", position + 1));
                }
                let follows_unit = out.chars().last().is_some_and(|previous| !matches!(previous, '.' | '/' | '('));
                out.push_str(if follows_unit { ".1" } else { "1" });
            }
            '}' => return Err(format!("Unexpected '}}' in unit at character {}", position + 1)),
            '(' => {
                depth += 1;
                if depth > MAX_NESTING_DEPTH {
                    return Err(format!("Parentheses are nested deeper than {MAX_NESTING_DEPTH} at character {}", position + 1));
                }
                out.push(character);
            }
            ')' => {
                depth = depth.saturating_sub(1);
                out.push(character);
            }
            '[' => {
                // A bracketed atom ([in_i], [car_m]) is copied whole.
                out.push(character);
                for (_, inner) in chars.by_ref() {
                    out.push(inner);
                    if inner == ']' {
                        break;
                    }
                }
            }
            _ => out.push(character),
        }
    }
    Ok(out)
}

fn explain(code: &str, error: &ucum::UcumError) -> String {
    match error {
        ucum::UcumError::UnknownAtom { code: atom } => {
            let position = code.find(atom.as_str()).map(|position| position + 1).unwrap_or(1);
            format!("The unit '{atom}' is unknown at character {position}")
        }
        ucum::UcumError::Parse { msg, .. } => format!("The unit '{code}' is not well formed: {msg}"),
        other => other.to_string(),
    }
}

/// A dimension in base units, alphabetically (case-insensitive): `g.m-3`; `1` for none.
fn canonical_form(dimension: &ucum::Dimension) -> String {
    const BASE_UNITS: [&str; 7] = ["m", "s", "g", "rad", "K", "C", "cd"];
    let mut parts: Vec<(&str, i8)> =
        BASE_UNITS.iter().zip(dimension.0).filter(|(_, exponent)| *exponent != 0).map(|(unit, exponent)| (*unit, exponent)).collect();
    if parts.is_empty() {
        return "1".to_owned();
    }
    parts.sort_by_key(|(unit, _)| unit.to_lowercase());
    parts
        .iter()
        .map(|(unit, exponent)| if *exponent == 1 { (*unit).to_owned() } else { format!("{unit}{exponent}") })
        .collect::<Vec<_>>()
        .join(".")
}

fn unit_concept(code: &str, listed_display: Option<&str>) -> Result<Concept, NotACode> {
    let reading = read_unit(code).map_err(|message| NotACode { detail: Some(format!("Error processing unit '{code}': {message}")) })?;
    let preferred = json!({
        "system": "http://terminology.hl7.org/CodeSystem/hl7TermMaintInfra", "code": "preferredForLanguage", "display": "Preferred For Language"
    });
    let mut designations = vec![english_designation(reading.formal_name, Some(preferred))];
    if let Some(display) = listed_display {
        let synonym = json!({"system": "http://snomed.info/sct", "code": "900000000000013009"});
        designations.push(english_designation(display, Some(synonym)));
    }
    Ok(plain_concept(code, Some(code.to_owned()), designations))
}

impl GrammarCodeSystem for Ucum {
    fn url(&self) -> &str {
        "http://unitsofmeasure.org"
    }

    fn version(&self) -> Option<&str> {
        Some(UCUM_VERSION)
    }

    fn name(&self) -> &str {
        "UCUM"
    }

    fn title(&self) -> &str {
        "Unified Code for Units of Measure (UCUM)"
    }

    fn concept(&self, code: &str) -> Result<Concept, NotACode> {
        let listed =
            self.common.binary_search_by(|(listed, _)| listed.as_str().cmp(code)).ok().and_then(|idx| self.common[idx].1.as_deref());
        unit_concept(code, listed)
    }

    fn common_codes(&self) -> Vec<Concept> {
        self.common.iter().filter_map(|(code, display)| unit_concept(code, display.as_deref()).ok()).collect()
    }

    fn common_codes_source(&self) -> &str {
        &self.common_source
    }

    fn common_codes_status(&self) -> &str {
        &self.common_status
    }

    fn filter_properties(&self) -> &[&'static str] {
        &["canonical"]
    }

    fn filter_matches(&self, code: &str, filter: &Filter) -> Option<Result<bool, String>> {
        if filter.property != "canonical" {
            return None;
        }
        if filter.op != "=" {
            return Some(Err(format!("the canonical filter supports only '=', not '{}'", filter.op)));
        }
        let wanted = match read_unit(&filter.value) {
            Ok(reading) => reading.canonical,
            Err(message) => return Some(Err(format!("the canonical filter value '{}' is not a unit: {message}", filter.value))),
        };
        Some(Ok(read_unit(code).is_ok_and(|reading| reading.canonical == wanted)))
    }

    fn filter_failure(&self, code: &str, filter: &Filter) -> Option<String> {
        if filter.property != "canonical" || filter.op != "=" {
            return None;
        }
        let have = read_unit(code).ok()?.canonical;
        let wanted = read_unit(&filter.value).ok()?.canonical;
        (have != wanted).then(|| format!("Code {code} has canonical form {have}, not {wanted} as required"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(code: &str, expected: Result<(&str, &str), &str>) {
        let actual = read_unit(code);
        match expected {
            Ok((formal_name, canonical)) => {
                assert_eq!(actual, Ok(UnitReading { formal_name: formal_name.to_owned(), canonical: canonical.to_owned() }))
            }
            Err(message) => assert_eq!(actual, Err(message.to_owned())),
        }
    }

    #[test]
    fn reads_units_with_prefixes_operators_exponents_and_annotations() {
        check("mg/dL", Ok(("(milligram) / (deciliter)", "g.m-3")));
        check("mg/dL{milligram per deciliter}", Ok(("(milligram) / (deciliter) * 1", "g.m-3")));
        check("kg.m-2", Ok(("(kilogram) * (meter ^ -2)", "g.m-2")));
        check("mL", Ok(("(milliliter)", "m3")));
        check("10*3/uL", Ok(("(the number ten for arbitrary powers ^ 3) / (microliter)", "m-3")));
        assert_eq!(read_unit("{score}").map(|reading| reading.canonical), Ok("1".to_owned()));
        assert_eq!(read_unit("kg").map(|reading| reading.canonical), Ok("g".to_owned()));
    }

    #[test]
    fn names_what_is_wrong_with_a_bad_unit() {
        check("kgXX", Err("The unit 'kgXX' is unknown at character 1"));
        check("mg/dL{x", Err("Unterminated annotation in unit at character 6"));
        check("", Err("The unit is empty"));
        check("m\u{e9}", Err("The character 'é' is not allowed in a unit at character 2"));
        assert!(read_unit("m/").is_err());
        assert!(read_unit("m)").is_err());
    }

    #[test]
    fn refuses_deep_nesting_without_recursing() {
        let deep = format!("{}m{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(read_unit(&deep).is_err());
        let nested = format!("{}m{}", "(".repeat(MAX_NESTING_DEPTH + 1), ")".repeat(MAX_NESTING_DEPTH + 1));
        assert_eq!(
            read_unit(&nested),
            Err(format!("Parentheses are nested deeper than {MAX_NESTING_DEPTH} at character {}", MAX_NESTING_DEPTH + 1))
        );
    }

    #[test]
    fn the_canonical_filter_compares_dimensions() {
        let ucum =
            Ucum::new(vec![("kg".to_owned(), None), ("mL".to_owned(), None)], "http://hl7.org/fhir/ValueSet/ucum-common|4.0.1", "draft");
        let filter = Filter { property: "canonical".to_owned(), op: "=".to_owned(), value: "g".to_owned() };
        assert_eq!(ucum.filter_matches("kg", &filter), Some(Ok(true)));
        assert_eq!(ucum.filter_matches("mL", &filter), Some(Ok(false)));
        assert_eq!(ucum.filter_failure("mL", &filter).as_deref(), Some("Code mL has canonical form m3, not g as required"));
    }
}
