//! `_summary` and `_elements` on read and search: which parts of a resource to send back, and the
//! `SUBSETTED` tag that says something was left out (FHIR R4 search.html#summary, #elements).
//!
//! This is presentation only: the store still answers whole resources, except that it may skip
//! reading a CodeSystem's concepts when the subset leaves them out ([`Subset::needs_concepts`]).

use model::Json;

/// The system of the `SUBSETTED` tag.
const OBSERVATION_VALUE: &str = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue";

/// `_summary`, as FHIR R4 defines it for these resource types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Summary {
    /// The narrative left out, and a CodeSystem's concepts.
    True,
    /// The narrative with the id, meta and mandatory elements.
    Text,
    /// Everything but the narrative.
    Data,
    /// The total only, no entries (search only).
    Count,
}

/// What a read or a search sends of each resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subset {
    Full,
    Summary(Summary),
    /// Top-level element names given by `_elements`.
    Elements(Vec<String>),
}

/// Elements every subset keeps: the ones that say what the resource is, and the ones FHIR R4
/// makes mandatory (min 1) for the type.
fn always_kept(resource_type: &str, element: &str) -> bool {
    matches!(element, "resourceType" | "id" | "meta")
        || match resource_type {
            "CodeSystem" => matches!(element, "status" | "content"),
            "ValueSet" | "ConceptMap" => element == "status",
            _ => false,
        }
}

impl Subset {
    /// Reads `_summary` and `_elements` from query pairs; asking for both is refused, since FHIR
    /// does not say how they combine.
    pub fn from_query(pairs: &[(String, String)]) -> Result<Subset, String> {
        let get = |name: &str| pairs.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str());
        let summary = match get("_summary") {
            None | Some("false") => None,
            Some("true") => Some(Summary::True),
            Some("text") => Some(Summary::Text),
            Some("data") => Some(Summary::Data),
            Some("count") => Some(Summary::Count),
            Some(other) => return Err(format!("_summary must be true, false, text, data or count, not '{other}'")),
        };
        let elements = match get("_elements") {
            None => None,
            Some(list) => {
                let names: Vec<String> = list.split(',').map(str::trim).filter(|name| !name.is_empty()).map(str::to_owned).collect();
                if names.is_empty() {
                    return Err("_elements names no element".to_owned());
                }
                if let Some(nested) = names.iter().find(|name| name.contains('.')) {
                    return Err(format!("_elements takes top-level element names, not the path '{nested}'"));
                }
                Some(names)
            }
        };
        match (summary, elements) {
            (Some(_), Some(_)) => Err("use either _summary or _elements, not both".to_owned()),
            (Some(summary), None) => Ok(Subset::Summary(summary)),
            (None, Some(names)) => Ok(Subset::Elements(names)),
            (None, None) => Ok(Subset::Full),
        }
    }

    /// Whether a CodeSystem's concepts are part of the answer, so the store must read them.
    pub fn needs_concepts(&self) -> bool {
        match self {
            Subset::Full | Subset::Summary(Summary::Data) => true,
            Subset::Summary(_) => false,
            Subset::Elements(names) => names.iter().any(|name| name == "concept"),
        }
    }

    /// Cuts a resource down to the subset, and tags it `SUBSETTED` when that left anything out.
    pub fn apply(&self, resource: &mut Json) {
        let resource_type = model::fhir::str_of(resource, "resourceType").unwrap_or_default().to_owned();
        let Some(map) = resource.as_object_mut() else { return };
        let reason = match self {
            Subset::Full | Subset::Summary(Summary::Count) => return,
            Subset::Summary(Summary::True) => {
                map.remove("text");
                map.remove("concept");
                "_summary"
            }
            Subset::Summary(Summary::Data) => {
                map.remove("text");
                "_summary"
            }
            Subset::Summary(Summary::Text) => {
                map.retain(|key, _| key == "text" || always_kept(&resource_type, key));
                "_summary"
            }
            Subset::Elements(names) => {
                map.retain(|key, _| always_kept(&resource_type, key) || names.iter().any(|name| name == key));
                "_elements"
            }
        };
        // Every subset is tagged, even one that happened to leave nothing out, so that it is never
        // mistaken for the whole resource and written back over it.
        tag_subsetted(resource, &format!("Resource content reduced by {reason}"));
    }
}

/// Adds the `SUBSETTED` tag to `meta.tag`, once.
pub fn tag_subsetted(resource: &mut Json, display: &str) {
    let Some(map) = resource.as_object_mut() else { return };
    let meta = map.entry("meta").or_insert_with(|| serde_json::json!({}));
    let Some(meta) = meta.as_object_mut() else { return };
    let tags = meta.entry("tag").or_insert_with(|| serde_json::json!([]));
    let Some(tags) = tags.as_array_mut() else { return };
    if !tags.iter().any(|tag| tag["system"] == OBSERVATION_VALUE && tag["code"] == "SUBSETTED") {
        tags.push(serde_json::json!({"system": OBSERVATION_VALUE, "code": "SUBSETTED", "display": display}));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pairs(query: &str) -> Vec<(String, String)> {
        url::form_urlencoded::parse(query.as_bytes()).into_owned().collect()
    }

    fn code_system() -> Json {
        json!({"resourceType": "CodeSystem", "id": "cs", "meta": {"versionId": "2"}, "text": {"status": "generated", "div": "<div/>"},
            "url": "http://example.org/cs", "version": "1", "name": "Cs", "status": "active", "content": "complete",
            "description": "words", "concept": [{"code": "a"}]})
    }

    fn keys(resource: &Json) -> Vec<&str> {
        resource.as_object().expect("object").keys().map(String::as_str).collect()
    }

    fn is_subsetted(resource: &Json) -> bool {
        resource["meta"]["tag"].as_array().is_some_and(|tags| tags.iter().any(|tag| tag["code"] == "SUBSETTED"))
    }

    #[test]
    fn elements_keep_identity_mandatory_and_named_elements() {
        let subset = Subset::from_query(&pairs("_elements=url,version")).expect("valid");
        assert!(!subset.needs_concepts());
        let mut resource = code_system();
        subset.apply(&mut resource);
        assert_eq!(keys(&resource), ["resourceType", "id", "meta", "url", "version", "status", "content"]);
        assert_eq!(resource["meta"]["versionId"], "2");
        assert!(is_subsetted(&resource));
    }

    #[test]
    fn elements_naming_concept_keep_the_concepts() {
        let subset = Subset::from_query(&pairs("_elements=concept")).expect("valid");
        assert!(subset.needs_concepts());
        let mut resource = code_system();
        subset.apply(&mut resource);
        assert_eq!(resource["concept"][0]["code"], "a");
        assert!(resource.get("description").is_none());
        assert!(is_subsetted(&resource), "{resource}");
    }

    #[test]
    fn value_set_keeps_status_only_among_mandatory_elements() {
        let mut resource = json!({"resourceType": "ValueSet", "id": "vs", "url": "http://example.org/vs", "status": "draft",
            "compose": {"include": [{"system": "http://example.org/cs"}]}});
        Subset::from_query(&pairs("_elements=url")).expect("valid").apply(&mut resource);
        assert_eq!(keys(&resource), ["resourceType", "id", "url", "status", "meta"]);
    }

    #[test]
    fn summary_modes_cut_as_documented() {
        let mut summary_true = code_system();
        Subset::from_query(&pairs("_summary=true")).expect("valid").apply(&mut summary_true);
        assert!(summary_true.get("text").is_none() && summary_true.get("concept").is_none() && summary_true["description"] == "words");
        let mut summary_text = code_system();
        Subset::from_query(&pairs("_summary=text")).expect("valid").apply(&mut summary_text);
        assert_eq!(keys(&summary_text), ["resourceType", "id", "meta", "text", "status", "content"]);
        let mut summary_data = code_system();
        Subset::from_query(&pairs("_summary=data")).expect("valid").apply(&mut summary_data);
        assert!(summary_data.get("text").is_none() && summary_data["concept"][0]["code"] == "a");
        for resource in [&summary_true, &summary_text, &summary_data] {
            assert!(is_subsetted(resource), "{resource}");
        }
        let mut full = code_system();
        Subset::from_query(&pairs("_summary=false&_format=json")).expect("valid").apply(&mut full);
        assert_eq!(full, code_system());
    }

    #[test]
    fn bad_combinations_are_refused_with_the_reason() {
        assert_eq!(Subset::from_query(&pairs("_summary=true&_elements=url")).unwrap_err(), "use either _summary or _elements, not both");
        assert_eq!(
            Subset::from_query(&pairs("_summary=maybe")).unwrap_err(),
            "_summary must be true, false, text, data or count, not 'maybe'"
        );
        assert_eq!(Subset::from_query(&pairs("_elements=,")).unwrap_err(), "_elements names no element");
        assert_eq!(
            Subset::from_query(&pairs("_elements=compose.include")).unwrap_err(),
            "_elements takes top-level element names, not the path 'compose.include'"
        );
    }

    #[test]
    fn the_tag_is_added_once() {
        let mut resource = code_system();
        tag_subsetted(&mut resource, "first");
        tag_subsetted(&mut resource, "second");
        assert_eq!(resource["meta"]["tag"].as_array().map(Vec::len), Some(1));
    }
}
