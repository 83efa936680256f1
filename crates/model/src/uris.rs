//! Canonical URIs and OIDs of the code systems fhirterm knows by name, so `urn:oid:…` works wherever the URI does.

/// (canonical URI, OID) of the well-known systems, from the HL7 Terminology NamingSystems.
pub const KNOWN_SYSTEMS: &[(&str, &str)] = &[
    ("http://hl7.org/fhir/sid/icd-10-cm", "2.16.840.1.113883.6.90"),
    ("http://www.cms.gov/Medicare/Coding/ICD10", "2.16.840.1.113883.6.4"),
    ("http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets", "2.16.840.1.113883.6.285"),
    ("http://www.ama-assn.org/go/cpt", "2.16.840.1.113883.6.12"),
    ("http://loinc.org", "2.16.840.1.113883.6.1"),
    ("http://snomed.info/sct", "2.16.840.1.113883.6.96"),
    ("http://www.nlm.nih.gov/research/umls/rxnorm", "2.16.840.1.113883.6.88"),
    ("http://hl7.org/fhir/sid/ndc", "2.16.840.1.113883.6.69"),
    ("http://unitsofmeasure.org", "2.16.840.1.113883.6.8"),
    ("http://hl7.org/fhir/sid/icd-10", "2.16.840.1.113883.6.3"),
];

/// The canonical URI for a system named by `urn:oid:…`, when the OID is a known one.
pub fn canonical_for_oid(system: &str) -> Option<&'static str> {
    let oid = system.strip_prefix("urn:oid:")?;
    KNOWN_SYSTEMS.iter().find(|(_, known)| *known == oid).map(|(uri, _)| *uri)
}

/// The `urn:oid:…` alias of a canonical URI, when the system has a known OID.
pub fn oid_for_canonical(system: &str) -> Option<String> {
    KNOWN_SYSTEMS.iter().find(|(uri, _)| *uri == system).map(|(_, oid)| format!("urn:oid:{oid}"))
}

/// The families of code systems an administrator keeps, as (key, label, canonical URIs), in the
/// order a dashboard shows them; the billing CSV's systems share the URIs of their families.
pub const SYSTEM_FAMILIES: &[(&str, &str, &[&str])] = &[
    ("icd10cm", "ICD-10-CM", &["http://hl7.org/fhir/sid/icd-10-cm"]),
    ("icd10pcs", "ICD-10-PCS", &["http://www.cms.gov/Medicare/Coding/ICD10"]),
    ("hcpcs", "HCPCS", &["http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"]),
    ("cpt", "CPT", &["http://www.ama-assn.org/go/cpt"]),
    ("loinc", "LOINC", &["http://loinc.org"]),
    ("snomed", "SNOMED CT", &["http://snomed.info/sct"]),
    ("rxnorm", "RxNorm", &["http://www.nlm.nih.gov/research/umls/rxnorm"]),
    ("ndc", "NDC", &["http://hl7.org/fhir/sid/ndc"]),
    ("fhir", "FHIR packages", &[]),
    ("local", "Local", &[]),
];

/// Hosts whose code systems come from FHIR packages (HL7's own terminology and its IGs).
const FHIR_PACKAGE_HOSTS: &[&str] = &["hl7.org", "terminology.hl7.org", "fhir.org", "build.fhir.org"];

/// The family key of a code system: a named one for the official code sets, `fhir` for content
/// published under HL7's hosts (FHIR packages), and `local` for everything else.
pub fn family_of(url: &str) -> &'static str {
    let url = canonical_for_oid(url).unwrap_or(url);
    if let Some((key, _, _)) = SYSTEM_FAMILIES.iter().find(|(_, _, uris)| uris.contains(&url)) {
        return key;
    }
    let host = url.split_once("://").map(|(_, rest)| rest.split(['/', ':', '?', '#']).next().unwrap_or(rest)).unwrap_or("");
    let host = host.strip_prefix("www.").unwrap_or(host);
    if FHIR_PACKAGE_HOSTS.iter().any(|known| host == *known || host.ends_with(&format!(".{known}"))) {
        "fhir"
    } else {
        "local"
    }
}

/// Splits `url|version` into its parts; a bare url has no version.
pub fn split_canonical(canonical: &str) -> (&str, Option<&str>) {
    match canonical.split_once('|') {
        Some((url, version)) if !version.is_empty() => (url, Some(version)),
        Some((url, _)) => (url, None),
        None => (canonical, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oid_and_uri_are_interchangeable() {
        assert_eq!(canonical_for_oid("urn:oid:2.16.840.1.113883.6.90"), Some("http://hl7.org/fhir/sid/icd-10-cm"));
        assert_eq!(oid_for_canonical("http://loinc.org").as_deref(), Some("urn:oid:2.16.840.1.113883.6.1"));
        assert_eq!(canonical_for_oid("urn:oid:1.2.3"), None);
        assert_eq!(split_canonical("http://a|1.0"), ("http://a", Some("1.0")));
        assert_eq!(split_canonical("http://a"), ("http://a", None));
    }

    #[test]
    fn families_name_official_sets_fhir_packages_and_local_codes() {
        assert_eq!(family_of("http://hl7.org/fhir/sid/icd-10-cm"), "icd10cm");
        assert_eq!(family_of("urn:oid:2.16.840.1.113883.6.285"), "hcpcs");
        assert_eq!(family_of("http://terminology.hl7.org/CodeSystem/v3-ActCode"), "fhir");
        assert_eq!(family_of("http://hl7.org/fhir/administrative-gender"), "fhir");
        assert_eq!(family_of("https://example.org/practice/codes"), "local");
        assert_eq!(family_of("urn:uuid:1234"), "local");
        assert_eq!(family_of("http://evilhl7.org/x"), "local");
    }
}
