//! What a value set's definition says about itself: its canonical, the expansion parameters its
//! compose carries, and how tx servers list the versions of a code system.

use model::terminology::ValueSet;

/// `url|version` of a value set, or its url.
pub fn value_set_canonical(value_set: &ValueSet) -> String {
    identified_canonical(value_set).unwrap_or_else(|| "(unidentified)".to_owned())
}

/// `url|version` of a value set, or its url; `None` when it has no url, so that it cannot be
/// told apart from another without one (and must not share memoised answers).
pub(crate) fn identified_canonical(value_set: &ValueSet) -> Option<String> {
    match (&value_set.url, &value_set.version) {
        (Some(url), Some(version)) => Some(format!("{url}|{version}")),
        (Some(url), None) => Some(url.clone()),
        _ => None,
    }
}

/// A default parameter a value set carries in `compose` (the `valueset-expansion-parameter` extension).
pub fn value_set_parameter(value_set: &ValueSet, name: &str) -> Option<String> {
    let compose = value_set.resource.get("compose")?;
    model::fhir::array_of(compose, "extension")
        .iter()
        .filter(|extension| {
            model::fhir::str_of(extension, "url") == Some("http://hl7.org/fhir/StructureDefinition/valueset-expansion-parameter")
        })
        .find(|extension| {
            model::fhir::array_of(extension, "extension")
                .iter()
                .any(|part| model::fhir::str_of(part, "url") == Some("name") && model::fhir::str_of(part, "valueCode") == Some(name))
        })
        .and_then(|extension| {
            model::fhir::array_of(extension, "extension")
                .iter()
                .find(|part| model::fhir::str_of(part, "url") == Some("value"))
                .and_then(model::fhir::params::primitive_text)
        })
}

/// "a", "a or b", "a, b or c": how tx servers list valid versions.
pub fn list_versions(versions: &[String]) -> String {
    match versions {
        [] => "(none)".to_owned(),
        [single] => single.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}
