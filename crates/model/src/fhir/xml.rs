//! FHIR XML <-> FHIR JSON, through fhirbolt's R4 element model.
//!
//! fhirbolt knows, for every R4 element, whether it repeats and which primitive type it has,
//! which is exactly what a faithful XML <-> JSON mapping needs. Its element model is used rather
//! than its typed model structs, which cost minutes of compile time and refuse the R5 elements
//! that terminology content carries. Before conversion the text is checked for well-formedness
//! with quick-xml, because fhirbolt accepts some truncated documents and we must name where a
//! document broke.

use super::Json;
use fhirbolt::element::Element;
use fhirbolt::serde::{DeserializationConfig, DeserializationMode};
use fhirbolt::FhirReleases;
use quick_xml::events::Event;
use std::fmt;

type R4Element = Element<{ FhirReleases::R4 }>;

/// Why an XML document could not be read, with where it broke.
#[derive(Debug, Clone, PartialEq)]
pub struct XmlError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for XmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed XML at line {}, column {}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for XmlError {}

fn position_of(text: &str, byte_offset: usize) -> (usize, usize) {
    let prefix = &text[..byte_offset.min(text.len())];
    let line = prefix.matches('\n').count() + 1;
    let column = prefix.len() - prefix.rfind('\n').map(|idx| idx + 1).unwrap_or(0) + 1;
    (line, column)
}

/// How deeply elements may nest. FHIR terminology resources need far less (a CodeSystem's nested
/// concepts are the deepest part); the bound keeps the converters, which recurse, off the end of
/// the stack, and keeps the JSON form within serde_json's own nesting limit of 128, so that what
/// is stored can always be read back.
pub const MAX_XML_DEPTH: usize = 64;

fn check_well_formed(text: &str) -> Result<(), XmlError> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut open_elements: Vec<String> = Vec::new();
    let mut saw_root = false;
    loop {
        let offset = reader.buffer_position() as usize;
        match reader.read_event() {
            Ok(Event::Start(start)) => {
                saw_root = true;
                if open_elements.len() >= MAX_XML_DEPTH {
                    let (line, column) = position_of(text, offset);
                    return Err(XmlError {
                        line,
                        column,
                        message: format!("elements nest deeper than {MAX_XML_DEPTH} levels, which no FHIR resource needs"),
                    });
                }
                open_elements.push(start.name().as_ref().to_owned());
            }
            Ok(Event::Empty(_)) => saw_root = true,
            Ok(Event::End(_)) => {
                open_elements.pop();
            }
            Ok(Event::Eof) => {
                if let Some(unclosed) = open_elements.last() {
                    let (line, column) = position_of(text, text.len());
                    return Err(XmlError { line, column, message: format!("document ends before element <{unclosed}> is closed") });
                }
                if !saw_root {
                    return Err(XmlError { line: 1, column: 1, message: "no root element".into() });
                }
                return Ok(());
            }
            Ok(_) => {}
            Err(error) => {
                let error_offset = (reader.error_position() as usize).max(offset);
                let (line, column) = position_of(text, error_offset);
                return Err(XmlError { line, column, message: error.to_string() });
            }
        }
    }
}

/// Converts a FHIR XML resource to its JSON form.
pub fn xml_to_json(text: &str) -> Result<Json, XmlError> {
    let text = text.trim_start_matches('\u{feff}');
    check_well_formed(text)?;
    let converted = without_panics(|| {
        let config = Some(DeserializationConfig { mode: DeserializationMode::Lax });
        let element: R4Element = fhirbolt::xml::from_str(text, config).map_err(|error| error.to_string())?;
        fhirbolt::json::to_json_value(element, None).map_err(|error| error.to_string())
    });
    converted.map_err(|message| XmlError { line: 0, column: 0, message })
}

/// Converts a FHIR JSON resource to XML.
pub fn json_to_xml(resource: &Json) -> Result<String, String> {
    // fhirbolt's writer unwraps on this one: refused here, so no panic is needed to catch it.
    if super::str_of(resource, "resourceType").is_none() {
        return Err("the FHIR XML converter cannot represent this content: it is not a resource (no resourceType)".to_owned());
    }
    without_panics(|| {
        let config = Some(DeserializationConfig { mode: DeserializationMode::Lax });
        let element: R4Element = fhirbolt::json::from_json_value(resource.clone(), config).map_err(|error| error.to_string())?;
        fhirbolt::xml::to_string(&element, None).map_err(|error| error.to_string())
    })
}

/// Runs a fhirbolt conversion, turning a panic inside it into an error. fhirbolt is dormant
/// (0.4.0, 2023) and some inputs reach an `unwrap` in it: its XML writer panics on a resource
/// without `resourceType` (found by the `json_reader` fuzz target). A request must get an error,
/// never take a worker thread down.
fn without_panics<T>(convert: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(convert))
        .unwrap_or_else(|_| Err("the FHIR XML converter cannot represent this content (an element it cannot place, such as a resource without resourceType)".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_a_code_system() {
        let resource = json!({"resourceType": "CodeSystem", "id": "x", "url": "http://a", "status": "active",
            "caseSensitive": true, "count": 2,
            "concept": [{"code": "a", "display": "A", "concept": [{"code": "b"}]},
                        {"code": "c", "property": [{"code": "w", "valueDecimal": 1.50}]}]});
        let xml = json_to_xml(&resource).unwrap();
        assert!(xml.contains("<caseSensitive value=\"true\"/>"), "{xml}");
        assert_eq!(xml_to_json(&xml).unwrap(), resource);
    }

    #[test]
    fn refuses_nesting_past_the_limit_without_recursing() {
        let deep = |levels: usize| {
            let mut text = String::from("<ValueSet xmlns=\"http://hl7.org/fhir\">");
            text.push_str(&"<extension>".repeat(levels));
            text.push_str(&"</extension>".repeat(levels));
            text.push_str("</ValueSet>");
            text
        };
        let error = xml_to_json(&deep(100_000)).unwrap_err();
        assert!(error.message.contains("deeper than 64"), "{error}");
        assert_eq!((error.line, error.column), (1, 39 + 11 * 63), "{error}");
        // Just inside the limit, the document is read.
        assert!(xml_to_json(&deep(MAX_XML_DEPTH - 1)).is_ok());
    }

    #[test]
    fn content_the_converter_cannot_place_is_an_error_not_a_panic() {
        let error = json_to_xml(&json!({"resourceTpe": "Parameters", "parameter": []})).unwrap_err();
        assert!(error.contains("cannot represent"), "{error}");
    }

    #[test]
    fn names_where_a_document_broke() {
        let error = xml_to_json("<CodeSystem xmlns=\"http://hl7.org/fhir\">\n<id value=\"x\"/>\n<url>").unwrap_err();
        assert_eq!(error.line, 3, "{error}");
        let error = xml_to_json("<CodeSystem xmlns=\"http://hl7.org/fhir\">\n<id value=\"x\"></url>").unwrap_err();
        assert_eq!(error.line, 2, "{error}");
    }
}
