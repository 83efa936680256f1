//! FHIR content: CodeSystem, ValueSet, ConceptMap and Bundle files in JSON or XML, and FHIR NPM
//! packages (`package/*.json`, with or without `.index.json`).

use crate::{Diagnostic, LoadError, LoadOptions, Loaded, Source};
use model::terminology::CodeSystem;
use model::Json;

/// Loads every terminology resource a source holds; other resource types are passed over.
pub fn load(source: &dyn Source, options: &LoadOptions) -> Result<Loaded, LoadError> {
    let mut loaded = Loaded::default();
    let names = source.names();
    let mut n_resource_files = 0;
    for name in &names {
        let base_name = name.rsplit('/').next().unwrap_or(name);
        if base_name == "package.json" {
            report_dependencies(source, name, &mut loaded)?;
            continue;
        }
        let is_json = base_name.ends_with(".json");
        let is_xml = base_name.ends_with(".xml");
        if !(is_json || is_xml) || base_name.starts_with('.') || name.contains("/other/") || name.contains("/example/") {
            continue;
        }
        let bytes = source.read_bytes(name)?;
        let text = String::from_utf8_lossy(&bytes);
        let text = text.trim_start_matches('\u{feff}');
        let parsed = if is_json {
            serde_json::from_str::<Json>(text).map_err(|error| (Some(error.line() as u64), error.to_string()))
        } else {
            model::fhir::xml::xml_to_json(text).map_err(|error| (Some(error.line as u64), error.message))
        };
        let resource = match parsed {
            Ok(resource) => resource,
            Err((line, message)) => {
                loaded.diagnostics.push(Diagnostic {
                    path: name.clone(),
                    line,
                    value: String::new(),
                    message: format!("not readable as FHIR: {message}"),
                });
                continue;
            }
        };
        n_resource_files += 1;
        add_resource(resource, name, options, &mut loaded);
    }
    if n_resource_files == 0 {
        return Err(LoadError::new(names.first().cloned().unwrap_or_default(), "no FHIR JSON or XML resources found"));
    }
    Ok(loaded)
}

fn add_resource(resource: Json, path: &str, options: &LoadOptions, loaded: &mut Loaded) {
    match model::fhir::str_of(&resource, "resourceType") {
        Some("CodeSystem") => match CodeSystem::from_json(&resource) {
            Ok(mut code_system) => {
                if let Some(version) = &options.version {
                    code_system.version = Some(version.clone());
                    code_system.resource["version"] = Json::String(version.clone());
                }
                loaded.code_systems.push(code_system);
            }
            Err(error) => loaded.diagnostics.push(Diagnostic {
                path: path.to_owned(),
                line: None,
                value: error.path.clone(),
                message: format!("invalid CodeSystem: {error}"),
            }),
        },
        Some("ValueSet" | "ConceptMap") => loaded.resources.push(resource),
        Some("Bundle") => {
            for entry in model::fhir::array_of(&resource, "entry") {
                if let Some(inner) = entry.get("resource") {
                    add_resource(inner.clone(), path, options, loaded);
                }
            }
        }
        _ => {}
    }
}

fn report_dependencies(source: &dyn Source, name: &str, loaded: &mut Loaded) -> Result<(), LoadError> {
    let bytes = source.read_bytes(name)?;
    if let Ok(manifest) = serde_json::from_slice::<Json>(&bytes) {
        if let Some(dependencies) = manifest.get("dependencies").and_then(Json::as_object) {
            for (package, version) in dependencies {
                loaded.dependencies.push(format!("{package}@{}", version.as_str().unwrap_or_default()));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemorySource;

    #[test]
    fn loads_json_xml_and_bundles_and_reports_bad_files() {
        let source = MemorySource::new([
            ("package/package.json", r#"{"name": "x", "dependencies": {"hl7.fhir.r4.core": "4.0.1"}}"#.as_bytes().to_vec()),
            ("package/CodeSystem-a.json", br#"{"resourceType": "CodeSystem", "url": "http://a", "status": "active", "content": "complete", "concept": [{"code": "1"}]}"#.to_vec()),
            ("package/ValueSet-b.xml", br#"<ValueSet xmlns="http://hl7.org/fhir"><url value="http://b"/><status value="active"/></ValueSet>"#.to_vec()),
            ("package/Bundle-c.json", br#"{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "ConceptMap", "url": "http://c", "status": "draft"}}]}"#.to_vec()),
            ("package/Broken.json", b"{\n\"resourceType\": ".to_vec()),
        ]);
        let loaded = load(&source, &LoadOptions::default()).unwrap();
        assert_eq!(loaded.code_systems.len(), 1);
        assert_eq!(loaded.resources.len(), 2);
        assert_eq!(loaded.dependencies, vec!["hl7.fhir.r4.core@4.0.1"]);
        assert_eq!(loaded.diagnostics.len(), 1);
        assert_eq!(loaded.diagnostics[0].path, "package/Broken.json");
        assert_eq!(loaded.diagnostics[0].line, Some(2));
    }
}
