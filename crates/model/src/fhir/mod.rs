//! FHIR R4 on the wire: resources as JSON values, and the few resource shapes a terminology server builds.

pub mod outcome;
pub mod params;
pub mod render;
pub mod xml;

pub use outcome::{Issue, IssueSeverity, OperationOutcome};
pub use params::Parameters;

/// A FHIR resource or element in its JSON form.
pub type Json = serde_json::Value;

/// The FHIR version this server speaks.
pub const FHIR_VERSION: &str = "4.0.1";

/// The resource types fhirterm stores and serves over REST.
pub const TERMINOLOGY_RESOURCE_TYPES: [&str; 3] = ["CodeSystem", "ValueSet", "ConceptMap"];

/// Reads a string member of a JSON object.
pub fn str_of<'a>(value: &'a Json, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Json::as_str)
}

/// Reads a boolean member of a JSON object, accepting `"true"`/`"false"` strings too.
pub fn bool_of(value: &Json, key: &str) -> Option<bool> {
    match value.get(key)? {
        Json::Bool(flag) => Some(*flag),
        Json::String(text) => text.parse().ok(),
        _ => None,
    }
}

/// Reads an array member of a JSON object, empty when absent.
pub fn array_of<'a>(value: &'a Json, key: &str) -> &'a [Json] {
    value.get(key).and_then(Json::as_array).map(Vec::as_slice).unwrap_or(&[])
}

/// The standards-status extension (draft, deprecated, withdrawn, …) on a resource or element.
pub const EXT_STANDARDS_STATUS: &str = "http://hl7.org/fhir/StructureDefinition/structuredefinition-standards-status";

/// The `extension` list of an element's untyped members (`extra`), empty when there is none.
pub fn extensions_of(extra: Option<&Json>) -> &[Json] {
    extra.map(|extra| array_of(extra, "extension")).unwrap_or(&[])
}

/// The `value[x]` of the first extension with this url.
pub fn extension_value<'a>(extensions: &'a [Json], url: &str) -> Option<&'a Json> {
    let extension = extensions.iter().find(|extension| str_of(extension, "url") == Some(url))?;
    extension.as_object()?.iter().find(|(key, _)| key.starts_with("value")).map(|(_, value)| value)
}

/// Builds a `searchset` Bundle from resources, with `total` and paging links.
pub fn searchset_bundle(base_url: &str, total: usize, resources: Vec<Json>, links: Vec<(&str, String)>) -> Json {
    let entries: Vec<Json> = resources
        .into_iter()
        .map(|resource| {
            let full_url = format!(
                "{base_url}/{}/{}",
                str_of(&resource, "resourceType").unwrap_or_default(),
                str_of(&resource, "id").unwrap_or_default()
            );
            serde_json::json!({"fullUrl": full_url, "resource": resource, "search": {"mode": "match"}})
        })
        .collect();
    let links: Vec<Json> = links.into_iter().map(|(relation, url)| serde_json::json!({"relation": relation, "url": url})).collect();
    let mut bundle = serde_json::json!({"resourceType": "Bundle", "type": "searchset", "total": total});
    if !links.is_empty() {
        bundle["link"] = Json::Array(links);
    }
    if !entries.is_empty() {
        bundle["entry"] = Json::Array(entries);
    }
    bundle
}
