//! NDC from the FDA National Drug Code Directory text files `product.txt` and `package.txt`
//! (the `ndctext.zip` layout, with the `NDC_EXCLUDE_FLAG` and `SAMPLE_PACKAGE` columns of the
//! files published since 2017).
//!
//! # The files
//! Tab-separated, CRLF, one header row, Windows-1252 text (a line that is not UTF-8 is read as
//! ISO-8859-1, which agrees with it on letters). Columns are found by their header names:
//! - `product.txt`: `PRODUCTID`, `PRODUCTNDC`, `PRODUCTTYPENAME`, `PROPRIETARYNAME`,
//!   `PROPRIETARYNAMESUFFIX`, `NONPROPRIETARYNAME`, `DOSAGEFORMNAME`, `ROUTENAME`, …,
//!   `LABELERNAME`, …;
//! - `package.txt`: `PRODUCTID`, `PRODUCTNDC`, `NDCPACKAGECODE`, `PACKAGEDESCRIPTION`,
//!   `STARTMARKETINGDATE`, `ENDMARKETINGDATE`, `NDC_EXCLUDE_FLAG`, `SAMPLE_PACKAGE`.
//!
//! Both files are required. The FDA's `unfinished_*` and `*_excluded` files are not read.
//!
//! # What it gives
//! A package code is ten digits in three hyphenated segments, shaped 4-4-2, 5-3-2 or 5-4-1. Its
//! 11-digit billing form (HIPAA 5-4-2, no hyphens) pads the short segment with a leading zero:
//! `0999-1234-01` → `00999123401`, `59999-123-10` → `59999012310`, `69999-0101-5` → `69999010105`.
//! So that both forms validate, each package is two concepts of one flat CodeSystem:
//! - the 11-digit form, with the property `ndc-form` = `11-digit` and `hyphenated-form` = the
//!   10-digit code;
//! - the 10-digit form, with `ndc-form` = `10-digit` and `billing-form` = the 11-digit code.
//!
//! Both carry the same display (the proprietary name with its suffix, else the nonproprietary
//! name, a comma, and the package description) and the same properties of the package and its
//! product: `product-ndc`, `product-type`, `proprietary-name`, `nonproprietary-name`,
//! `dosage-form`, `route` (one value per route of `ROUTENAME`, which separates them with `;`),
//! `labeler` (strings), `marketing-start` and `marketing-end` (`valueDateTime`, from the
//! package's YYYYMMDD dates) and `sample-package` (boolean). The same dates are FHIR's
//! `effectiveDate` and `retirementDate` (`http://hl7.org/fhir/concept-properties`), which `date`
//! on the operations reads; a package whose marketing ended before the directory's date (its
//! version) also has `status` = `retired`, so it is inactive.
//!
//! An implicit ConceptMap (`http://hl7.org/fhir/sid/ndc/ConceptMap/10-to-11`) goes with them in
//! [`Loaded::resources`]: one group from NDC to NDC, one element per package from the 10-digit
//! to the 11-digit form, `equivalent`; `$translate` with `reverse` goes the other way.
//!
//! The directory names no version; it is [`LoadOptions::version`], else a date (YYYY-MM-DD or
//! YYYYMMDD) or a year in the path of `package.txt`, else none, with a diagnostic.
//!
//! A package code of another shape, a row with too few fields and a package given twice are
//! skipped with a diagnostic naming file, line and value. A package whose product is not in
//! `product.txt`, or whose code does not begin with its `PRODUCTNDC`, is kept and reported; a
//! date that is not a real YYYYMMDD date is left out and reported.
//!
//! Tests are at the end of this file; fixtures in `test_data/ndc/`.

use crate::icd10cm::year_in_file_name;
use crate::text::text_lines;
use crate::{Diagnostic, LoadError, LoadOptions, Loaded, Source};
use model::terminology::{lifecycle, CodeSystem, Concept, ConceptProperty};
use model::Json;
use serde_json::json;
use std::collections::{HashMap, HashSet};

pub const NDC_URL: &str = "http://hl7.org/fhir/sid/ndc";
pub const NDC_OID: &str = "2.16.840.1.113883.6.69";
pub const NDC_TEN_TO_ELEVEN_MAP_URL: &str = "http://hl7.org/fhir/sid/ndc/ConceptMap/10-to-11";

const PRODUCT_FILE: &str = "product.txt";
const PACKAGE_FILE: &str = "package.txt";
const PRODUCT_COLUMNS: [&str; 9] = [
    "PRODUCTID",
    "PRODUCTNDC",
    "PRODUCTTYPENAME",
    "PROPRIETARYNAME",
    "PROPRIETARYNAMESUFFIX",
    "NONPROPRIETARYNAME",
    "DOSAGEFORMNAME",
    "ROUTENAME",
    "LABELERNAME",
];
const PACKAGE_COLUMNS: [&str; 7] =
    ["PRODUCTID", "PRODUCTNDC", "NDCPACKAGECODE", "PACKAGEDESCRIPTION", "STARTMARKETINGDATE", "ENDMARKETINGDATE", "SAMPLE_PACKAGE"];

fn base_name_lowercase(name: &str) -> String {
    name.rsplit('/').next().unwrap_or(name).to_ascii_lowercase()
}

/// True for the FDA directory's `product.txt` or `package.txt`.
pub fn is_ndc_file(name: &str) -> bool {
    let base_name = base_name_lowercase(name);
    base_name == PRODUCT_FILE || base_name == PACKAGE_FILE
}

/// The 11-digit 5-4-2 billing form of a hyphenated 10-digit package code, when it has one of
/// the three shapes 4-4-2, 5-3-2 and 5-4-1.
pub fn billing_form(ten_digit_code: &str) -> Option<String> {
    let segments: Vec<&str> = ten_digit_code.split('-').collect();
    let [labeler, product, package] = segments.as_slice() else {
        return None;
    };
    if !segments.iter().all(|segment| !segment.is_empty() && segment.bytes().all(|byte| byte.is_ascii_digit())) {
        return None;
    }
    match (labeler.len(), product.len(), package.len()) {
        (4, 4, 2) => Some(format!("0{labeler}{product}{package}")),
        (5, 3, 2) => Some(format!("{labeler}0{product}{package}")),
        (5, 4, 1) => Some(format!("{labeler}{product}0{package}")),
        _ => None,
    }
}

/// A tab-separated file with a header row: the position of each wanted column, then the rows.
struct Table {
    path: String,
    n_columns: usize,
    column_positions: HashMap<&'static str, usize>,
    rows: Vec<(u64, Vec<String>)>,
}

impl Table {
    fn read(path: &str, bytes: &[u8], wanted_columns: &[&'static str]) -> Result<Table, LoadError> {
        let mut lines = text_lines(bytes);
        let header_row = lines.next().map(|(_, line)| line).unwrap_or_default();
        let columns: Vec<String> = header_row.split('\t').map(|column| column.trim().to_ascii_uppercase()).collect();
        let mut column_positions = HashMap::new();
        for wanted in wanted_columns {
            let Some(position) = columns.iter().position(|column| column == wanted) else {
                return Err(LoadError::new(
                    path,
                    format!("not the FDA NDC directory's {}: the header row has no {wanted} column", base_name_lowercase(path)),
                )
                .at_line(1)
                .with_value(header_row));
            };
            column_positions.insert(*wanted, position);
        }
        let rows = lines
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(line_number, line)| (line_number, line.split('\t').map(|field| field.trim().to_owned()).collect()))
            .collect();
        Ok(Table { path: path.to_owned(), n_columns: columns.len(), column_positions, rows })
    }

    fn field<'a>(&self, row: &'a [String], column: &str) -> &'a str {
        row.get(self.column_positions[column]).map(String::as_str).unwrap_or_default()
    }
}

/// `YYYYMMDD` as `YYYY-MM-DD`, when it is a real date.
fn fhir_date(text: &str) -> Option<String> {
    if text.len() != 8 || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let year: u32 = text[..4].parse().ok()?;
    let month: u32 = text[4..6].parse().ok()?;
    let day: u32 = text[6..].parse().ok()?;
    let is_leap_year = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year => 29,
        2 => 28,
        _ => return None,
    };
    (year >= 1900 && (1..=days_in_month).contains(&day)).then(|| format!("{}-{}-{}", &text[..4], &text[4..6], &text[6..]))
}

/// A date (`YYYY-MM-DD`, or `YYYYMMDD` given as `YYYY-MM-DD`) or else a year in one part of a path.
fn version_in_path_part(part: &str) -> Option<String> {
    let bytes = part.as_bytes();
    let is_digit_at = |idx: usize| bytes.get(idx).is_some_and(u8::is_ascii_digit);
    for start in 0..bytes.len() {
        if start > 0 && is_digit_at(start - 1) {
            continue;
        }
        if bytes.len() >= start + 10
            && (0..10).all(|idx| if idx == 4 || idx == 7 { bytes[start + idx] == b'-' } else { is_digit_at(start + idx) })
        {
            let compact = format!("{}{}{}", &part[start..start + 4], &part[start + 5..start + 7], &part[start + 8..start + 10]);
            if !is_digit_at(start + 10) && fhir_date(&compact).is_some() {
                return Some(part[start..start + 10].to_owned());
            }
        }
        if (0..8).all(|idx| is_digit_at(start + idx)) && !is_digit_at(start + 8) {
            if let Some(date) = fhir_date(&part[start..start + 8]) {
                return Some(date);
            }
        }
    }
    year_in_file_name(part)
}

/// Loads one FDA NDC directory.
pub fn load(source: &dyn Source, options: &LoadOptions) -> Result<Loaded, LoadError> {
    let names = source.names();
    let one_file_named = |file: &str| -> Result<&String, LoadError> {
        let found: Vec<&String> = names.iter().filter(|name| base_name_lowercase(name) == file).collect();
        match found.as_slice() {
            [name] => Ok(*name),
            [] => Err(LoadError::new(
                names.first().cloned().unwrap_or_default(),
                format!("no {file} of the FDA NDC directory found; the directory needs product.txt and package.txt"),
            )),
            several => Err(LoadError::new(several[1].as_str(), format!("more than one {file}; load one directory at a time"))
                .with_value(several[0].as_str())),
        }
    };
    let product_name = one_file_named(PRODUCT_FILE)?;
    let package_name = one_file_named(PACKAGE_FILE)?;
    let products = Table::read(product_name, &source.read_bytes(product_name)?, &PRODUCT_COLUMNS)?;
    let packages = Table::read(package_name, &source.read_bytes(package_name)?, &PACKAGE_COLUMNS)?;
    let mut loaded = Loaded::default();
    let version = options.version.clone().or_else(|| package_name.split('/').rev().find_map(version_in_path_part));
    if version.is_none() {
        loaded.diagnostics.push(Diagnostic {
            path: package_name.clone(),
            line: None,
            value: package_name.clone(),
            message: "no date or year in the file or folder names; the code system has no version (name one with the version option)"
                .into(),
        });
    }
    // The day the directory was published, from its version: a package whose marketing ended
    // before it is retired.
    let release_day = version.as_deref().and_then(|version| fhir_date(version).or_else(|| lifecycle::day_of(version)));
    let mut report = |path: &str, line: u64, value: &str, message: String| {
        loaded.diagnostics.push(Diagnostic { path: path.to_owned(), line: Some(line), value: value.to_owned(), message })
    };

    // Product rows by PRODUCTID: the properties each of its packages gets, and its name.
    let mut product_by_id: HashMap<&str, (Vec<ConceptProperty>, String)> = HashMap::new();
    for (line_number, row) in &products.rows {
        if row.len() < products.n_columns {
            report(
                &products.path,
                *line_number,
                &row.join("\t"),
                format!("{} fields where the header has {}; skipped", row.len(), products.n_columns),
            );
            continue;
        }
        let product_id = products.field(row, "PRODUCTID");
        if product_by_id.contains_key(product_id) {
            report(&products.path, *line_number, product_id, "PRODUCTID listed twice; the second row is skipped".into());
            continue;
        }
        let mut properties = vec![ConceptProperty::string("product-ndc", products.field(row, "PRODUCTNDC"))];
        for (column, property_code) in [
            ("PRODUCTTYPENAME", "product-type"),
            ("PROPRIETARYNAME", "proprietary-name"),
            ("NONPROPRIETARYNAME", "nonproprietary-name"),
            ("DOSAGEFORMNAME", "dosage-form"),
        ] {
            let value = products.field(row, column);
            if !value.is_empty() {
                properties.push(ConceptProperty::string(property_code, value));
            }
        }
        for route in products.field(row, "ROUTENAME").split(';').map(str::trim).filter(|route| !route.is_empty()) {
            properties.push(ConceptProperty::string("route", route));
        }
        let labeler = products.field(row, "LABELERNAME");
        if !labeler.is_empty() {
            properties.push(ConceptProperty::string("labeler", labeler));
        }
        let proprietary_name = products.field(row, "PROPRIETARYNAME");
        let name = if proprietary_name.is_empty() {
            products.field(row, "NONPROPRIETARYNAME").to_owned()
        } else {
            match products.field(row, "PROPRIETARYNAMESUFFIX") {
                "" => proprietary_name.to_owned(),
                suffix => format!("{proprietary_name} {suffix}"),
            }
        };
        product_by_id.insert(product_id, (properties, name));
    }

    let mut concepts: Vec<Concept> = Vec::new();
    let mut map_elements: Vec<Json> = Vec::new();
    let mut seen_codes: HashSet<String> = HashSet::new();
    for (line_number, row) in &packages.rows {
        let line_number = *line_number;
        if row.len() < packages.n_columns {
            report(
                &packages.path,
                line_number,
                &row.join("\t"),
                format!("{} fields where the header has {}; skipped", row.len(), packages.n_columns),
            );
            continue;
        }
        let ten_digit_code = packages.field(row, "NDCPACKAGECODE");
        let Some(eleven_digit_code) = billing_form(ten_digit_code) else {
            report(
                &packages.path,
                line_number,
                ten_digit_code,
                "NDCPACKAGECODE is not a 10-digit NDC in 4-4-2, 5-3-2 or 5-4-1 shape; skipped".into(),
            );
            continue;
        };
        if !seen_codes.insert(eleven_digit_code.clone()) {
            report(&packages.path, line_number, ten_digit_code, "package code listed twice; the second row is skipped".into());
            continue;
        }
        let product_ndc = packages.field(row, "PRODUCTNDC");
        if !ten_digit_code.starts_with(&format!("{product_ndc}-")) {
            report(
                &packages.path,
                line_number,
                ten_digit_code,
                format!("package code does not begin with its PRODUCTNDC {product_ndc}; kept"),
            );
        }
        let package_description = packages.field(row, "PACKAGEDESCRIPTION");
        let product_id = packages.field(row, "PRODUCTID");
        let mut properties = Vec::new();
        let display = match product_by_id.get(product_id) {
            Some((product_properties, name)) => {
                properties.extend(product_properties.iter().cloned());
                match (name.is_empty(), package_description.is_empty()) {
                    (false, false) => format!("{name}, {package_description}"),
                    (false, true) => name.clone(),
                    (true, _) => package_description.to_owned(),
                }
            }
            None => {
                report(
                    &packages.path,
                    line_number,
                    product_id,
                    "PRODUCTID not in product.txt; the package is kept without product properties".into(),
                );
                properties.push(ConceptProperty::string("product-ndc", product_ndc));
                package_description.to_owned()
            }
        };
        let mut lifecycle_properties = Vec::new();
        for (column, property_code, lifecycle_code) in [
            ("STARTMARKETINGDATE", "marketing-start", lifecycle::PROPERTY_EFFECTIVE_DATE),
            ("ENDMARKETINGDATE", "marketing-end", lifecycle::PROPERTY_RETIREMENT_DATE),
        ] {
            let text = packages.field(row, column);
            if text.is_empty() {
                continue;
            }
            match fhir_date(text) {
                Some(date) => {
                    properties.push(ConceptProperty::date_time(property_code, &date));
                    lifecycle_properties.push(ConceptProperty::date_time(lifecycle_code, &date));
                    // Off the market before the directory was published: retired, kept for older claims.
                    if lifecycle_code == lifecycle::PROPERTY_RETIREMENT_DATE
                        && release_day.as_deref().is_some_and(|day| date.as_str() < day)
                    {
                        lifecycle_properties.push(ConceptProperty::code("status", "retired"));
                    }
                }
                None => report(&packages.path, line_number, text, format!("{column} of {ten_digit_code} is not a YYYYMMDD date; left out")),
            }
        }
        properties.extend(lifecycle_properties);
        match packages.field(row, "SAMPLE_PACKAGE") {
            "Y" => properties.push(ConceptProperty::new("sample-package", "valueBoolean", Json::Bool(true))),
            "N" => properties.push(ConceptProperty::new("sample-package", "valueBoolean", Json::Bool(false))),
            _ => {}
        }
        let display = (!display.is_empty()).then_some(display);
        let mut eleven_digit_properties =
            vec![ConceptProperty::code("ndc-form", "11-digit"), ConceptProperty::code("hyphenated-form", ten_digit_code)];
        eleven_digit_properties.extend(properties.iter().cloned());
        let mut ten_digit_properties =
            vec![ConceptProperty::code("ndc-form", "10-digit"), ConceptProperty::code("billing-form", &eleven_digit_code)];
        ten_digit_properties.extend(properties);
        let mut target = json!({"code": eleven_digit_code, "equivalence": "equivalent"});
        if let Some(display) = &display {
            target["display"] = json!(display);
        }
        map_elements.push(json!({"code": ten_digit_code, "target": [target]}));
        for (code, properties) in [(eleven_digit_code, eleven_digit_properties), (ten_digit_code.to_owned(), ten_digit_properties)] {
            concepts.push(Concept {
                code,
                display: display.clone(),
                definition: None,
                designations: Vec::new(),
                properties,
                extra: None,
                nest_parent: None,
            });
        }
    }
    if concepts.is_empty() {
        return Err(LoadError::new(package_name.as_str(), "package.txt holds no package codes"));
    }
    let mut code_system = CodeSystem::from_json(&header(version.as_deref(), concepts.len())).expect("the NDC header is a valid CodeSystem");
    code_system.concepts = concepts;
    loaded.code_systems.push(code_system);
    loaded.resources.push(ten_to_eleven_map(version.as_deref(), map_elements));
    Ok(loaded)
}

fn ten_to_eleven_map(version: Option<&str>, elements: Vec<Json>) -> Json {
    let mut group = json!({"source": NDC_URL, "target": NDC_URL, "element": elements});
    let mut resource = json!({
        "resourceType": "ConceptMap",
        "id": "ndc-10-to-11",
        "url": NDC_TEN_TO_ELEVEN_MAP_URL,
        "name": "NdcTenDigitToElevenDigit",
        "title": "NDC package codes: 10-digit hyphenated form to 11-digit billing form",
        "status": "active",
        "publisher": "fhirterm, from the FDA NDC directory",
        "description": "Implicit map of every package of the loaded NDC directory from its 10-digit hyphenated code (4-4-2, 5-3-2 or 5-4-1) to its 11-digit 5-4-2 billing code; use $translate with reverse for the other way",
        "sourceUri": format!("{NDC_URL}?fhir_vs"),
        "targetUri": format!("{NDC_URL}?fhir_vs"),
    });
    if let Some(version) = version {
        resource["version"] = json!(version);
        group["sourceVersion"] = json!(version);
        group["targetVersion"] = json!(version);
    }
    resource["group"] = json!([group]);
    resource
}

fn header(version: Option<&str>, n_concepts: usize) -> Json {
    let mut resource = json!({
        "resourceType": "CodeSystem",
        "url": NDC_URL,
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": format!("urn:oid:{NDC_OID}")}],
        "name": "NDC",
        "title": "National Drug Code (NDC) Directory",
        "status": "active",
        "publisher": "U.S. Food and Drug Administration (FDA)",
        "caseSensitive": true,
        "content": "complete",
        "count": n_concepts,
        "property": [
            {"code": "ndc-form", "type": "code", "description": "10-digit (hyphenated, as the FDA lists it) or 11-digit (5-4-2 billing form, no hyphens)"},
            {"code": "hyphenated-form", "type": "code", "description": "On an 11-digit code: the 10-digit hyphenated code of the same package"},
            {"code": "billing-form", "type": "code", "description": "On a 10-digit code: the 11-digit billing code of the same package"},
            {"code": "product-ndc", "type": "string", "description": "The labeler and product segments (PRODUCTNDC)"},
            {"code": "product-type", "type": "string", "description": "PRODUCTTYPENAME of the product"},
            {"code": "proprietary-name", "type": "string", "description": "PROPRIETARYNAME of the product"},
            {"code": "nonproprietary-name", "type": "string", "description": "NONPROPRIETARYNAME of the product"},
            {"code": "dosage-form", "type": "string", "description": "DOSAGEFORMNAME of the product"},
            {"code": "route", "type": "string", "description": "One route of administration of ROUTENAME"},
            {"code": "labeler", "type": "string", "description": "LABELERNAME of the product"},
            {"code": "marketing-start", "type": "dateTime", "description": "STARTMARKETINGDATE of the package"},
            {"code": "marketing-end", "type": "dateTime", "description": "ENDMARKETINGDATE of the package"},
            {"code": "sample-package", "type": "boolean", "description": "SAMPLE_PACKAGE of the package"},
            {"code": "effectiveDate", "uri": "http://hl7.org/fhir/concept-properties#effectiveDate", "type": "dateTime",
             "description": "When the package came on the market (STARTMARKETINGDATE)"},
            {"code": "retirementDate", "uri": "http://hl7.org/fhir/concept-properties#retirementDate", "type": "dateTime",
             "description": "When the package left the market (ENDMARKETINGDATE)"},
            {"code": "status", "uri": "http://hl7.org/fhir/concept-properties#status", "type": "code",
             "description": "retired for a package whose marketing ended before this directory was published"},
        ],
    });
    if let Some(version) = version {
        resource["version"] = json!(version);
    }
    resource
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemorySource;
    use std::fmt::Write as _;

    const PRODUCT_FIXTURE: &[u8] = include_bytes!("../test_data/ndc/product.txt");
    const PACKAGE_FIXTURE: &[u8] = include_bytes!("../test_data/ndc/package.txt");

    fn fixture_source() -> MemorySource {
        MemorySource::new([("ndctext-2026-01-15/product.txt", PRODUCT_FIXTURE), ("ndctext-2026-01-15/package.txt", PACKAGE_FIXTURE)])
    }

    fn dump(code_system: &CodeSystem) -> String {
        let mut out = String::new();
        for concept in &code_system.concepts {
            write!(out, "{} {:?}", concept.code, concept.display.as_deref().unwrap_or_default()).unwrap();
            for property in &concept.properties {
                write!(out, " {}={:?}", property.code, property.value_text().unwrap()).unwrap();
            }
            out.push('\n');
        }
        out
    }

    const EXPECTED_DUMP: &str = r#"00999123401 "Fixturol XR, 100 TABLET, EXTENDED RELEASE in 1 BOTTLE (0999-1234-01)" ndc-form="11-digit" hyphenated-form="0999-1234-01" product-ndc="0999-1234" product-type="HUMAN PRESCRIPTION DRUG" proprietary-name="Fixturol" nonproprietary-name="fixturolamine hydrochloride" dosage-form="TABLET, EXTENDED RELEASE" route="ORAL" labeler="Fixture Pharma Inc." marketing-start="2020-01-01" effectiveDate="2020-01-01" sample-package="false"
0999-1234-01 "Fixturol XR, 100 TABLET, EXTENDED RELEASE in 1 BOTTLE (0999-1234-01)" ndc-form="10-digit" billing-form="00999123401" product-ndc="0999-1234" product-type="HUMAN PRESCRIPTION DRUG" proprietary-name="Fixturol" nonproprietary-name="fixturolamine hydrochloride" dosage-form="TABLET, EXTENDED RELEASE" route="ORAL" labeler="Fixture Pharma Inc." marketing-start="2020-01-01" effectiveDate="2020-01-01" sample-package="false"
00999123402 "Fixturol XR, 4 TABLET, EXTENDED RELEASE in 1 BLISTER PACK (0999-1234-02)" ndc-form="11-digit" hyphenated-form="0999-1234-02" product-ndc="0999-1234" product-type="HUMAN PRESCRIPTION DRUG" proprietary-name="Fixturol" nonproprietary-name="fixturolamine hydrochloride" dosage-form="TABLET, EXTENDED RELEASE" route="ORAL" labeler="Fixture Pharma Inc." marketing-start="2020-01-01" marketing-end="2025-12-31" effectiveDate="2020-01-01" retirementDate="2025-12-31" status="retired" sample-package="true"
0999-1234-02 "Fixturol XR, 4 TABLET, EXTENDED RELEASE in 1 BLISTER PACK (0999-1234-02)" ndc-form="10-digit" billing-form="00999123402" product-ndc="0999-1234" product-type="HUMAN PRESCRIPTION DRUG" proprietary-name="Fixturol" nonproprietary-name="fixturolamine hydrochloride" dosage-form="TABLET, EXTENDED RELEASE" route="ORAL" labeler="Fixture Pharma Inc." marketing-start="2020-01-01" marketing-end="2025-12-31" effectiveDate="2020-01-01" retirementDate="2025-12-31" status="retired" sample-package="true"
59999012310 "inventamide, 30 TABLET in 1 BOTTLE (59999-123-10)" ndc-form="11-digit" hyphenated-form="59999-123-10" product-ndc="59999-123" product-type="HUMAN OTC DRUG" nonproprietary-name="inventamide" dosage-form="TABLET" route="ORAL" route="SUBLINGUAL" labeler="Laboratoires Fictifs Société" marketing-start="2021-03-15" effectiveDate="2021-03-15" sample-package="false"
59999-123-10 "inventamide, 30 TABLET in 1 BOTTLE (59999-123-10)" ndc-form="10-digit" billing-form="59999012310" product-ndc="59999-123" product-type="HUMAN OTC DRUG" nonproprietary-name="inventamide" dosage-form="TABLET" route="ORAL" route="SUBLINGUAL" labeler="Laboratoires Fictifs Société" marketing-start="2021-03-15" effectiveDate="2021-03-15" sample-package="false"
69999010105 "Placebex, 10 mL in 1 VIAL, SINGLE-DOSE (69999-0101-5)" ndc-form="11-digit" hyphenated-form="69999-0101-5" product-ndc="69999-0101" product-type="HUMAN PRESCRIPTION DRUG" proprietary-name="Placebex" nonproprietary-name="placebexin" dosage-form="INJECTION, SOLUTION" route="INTRAVENOUS" labeler="Example Biologics LLC" marketing-start="2019-07-01" effectiveDate="2019-07-01" sample-package="false"
69999-0101-5 "Placebex, 10 mL in 1 VIAL, SINGLE-DOSE (69999-0101-5)" ndc-form="10-digit" billing-form="69999010105" product-ndc="69999-0101" product-type="HUMAN PRESCRIPTION DRUG" proprietary-name="Placebex" nonproprietary-name="placebexin" dosage-form="INJECTION, SOLUTION" route="INTRAVENOUS" labeler="Example Biologics LLC" marketing-start="2019-07-01" effectiveDate="2019-07-01" sample-package="false"
00998000101 "1 KIT in 1 BOX (0998-0001-01)" ndc-form="11-digit" hyphenated-form="0998-0001-01" product-ndc="0998-0001" marketing-start="2022-01-01" effectiveDate="2022-01-01" sample-package="false"
0998-0001-01 "1 KIT in 1 BOX (0998-0001-01)" ndc-form="10-digit" billing-form="00998000101" product-ndc="0998-0001" marketing-start="2022-01-01" effectiveDate="2022-01-01" sample-package="false"
69999020201 "Placebex, 5 mL in 1 VIAL, SINGLE-DOSE (69999-0202-1)" ndc-form="11-digit" hyphenated-form="69999-0202-1" product-ndc="69999-0101" product-type="HUMAN PRESCRIPTION DRUG" proprietary-name="Placebex" nonproprietary-name="placebexin" dosage-form="INJECTION, SOLUTION" route="INTRAVENOUS" labeler="Example Biologics LLC" sample-package="false"
69999-0202-1 "Placebex, 5 mL in 1 VIAL, SINGLE-DOSE (69999-0202-1)" ndc-form="10-digit" billing-form="69999020201" product-ndc="69999-0101" product-type="HUMAN PRESCRIPTION DRUG" proprietary-name="Placebex" nonproprietary-name="placebexin" dosage-form="INJECTION, SOLUTION" route="INTRAVENOUS" labeler="Example Biologics LLC" sample-package="false"
59999012320 "inventamide, 90 TABLET in 1 BOTTLE (59999-123-20)" ndc-form="11-digit" hyphenated-form="59999-123-20" product-ndc="59999-123" product-type="HUMAN OTC DRUG" nonproprietary-name="inventamide" dosage-form="TABLET" route="ORAL" route="SUBLINGUAL" labeler="Laboratoires Fictifs Société" marketing-start="2021-03-15" marketing-end="2026-12-31" effectiveDate="2021-03-15" retirementDate="2026-12-31" sample-package="false"
59999-123-20 "inventamide, 90 TABLET in 1 BOTTLE (59999-123-20)" ndc-form="10-digit" billing-form="59999012320" product-ndc="59999-123" product-type="HUMAN OTC DRUG" nonproprietary-name="inventamide" dosage-form="TABLET" route="ORAL" route="SUBLINGUAL" labeler="Laboratoires Fictifs Société" marketing-start="2021-03-15" marketing-end="2026-12-31" effectiveDate="2021-03-15" retirementDate="2026-12-31" sample-package="false"
"#;

    #[test]
    fn packages_give_both_forms_their_properties_and_the_map() {
        let loaded = load(&fixture_source(), &LoadOptions::default()).unwrap();
        let code_system = &loaded.code_systems[0];
        assert_eq!(dump(code_system), EXPECTED_DUMP);
        let diagnostics: Vec<String> = loaded.diagnostics.iter().map(ToString::to_string).collect();
        assert_eq!(
            diagnostics,
            [
                "ndctext-2026-01-15/package.txt:6: NDCPACKAGECODE is not a 10-digit NDC in 4-4-2, 5-3-2 or 5-4-1 shape; skipped (\"0999-12345-1\")",
                "ndctext-2026-01-15/package.txt:7: NDCPACKAGECODE is not a 10-digit NDC in 4-4-2, 5-3-2 or 5-4-1 shape; skipped (\"5999A-123-10\")",
                "ndctext-2026-01-15/package.txt:8: NDCPACKAGECODE is not a 10-digit NDC in 4-4-2, 5-3-2 or 5-4-1 shape; skipped (\"59999123411\")",
                "ndctext-2026-01-15/package.txt:9: package code listed twice; the second row is skipped (\"59999-123-10\")",
                "ndctext-2026-01-15/package.txt:10: PRODUCTID not in product.txt; the package is kept without product properties (\"0998-0001_3f0c1a52-0000-4000-8000-00000000dead\")",
                "ndctext-2026-01-15/package.txt:11: package code does not begin with its PRODUCTNDC 69999-0101; kept (\"69999-0202-1\")",
                "ndctext-2026-01-15/package.txt:11: STARTMARKETINGDATE of 69999-0202-1 is not a YYYYMMDD date; left out (\"2019-07-01\")",
            ]
        );
        assert_eq!(code_system.url, NDC_URL);
        assert_eq!(code_system.version.as_deref(), Some("2026-01-15"));
        assert_eq!(code_system.resource["count"], json!(14));
        assert_eq!(code_system.resource["identifier"][0]["value"], json!("urn:oid:2.16.840.1.113883.6.69"));
        assert_eq!(code_system.hierarchy_meaning, None);

        let concept_map = &loaded.resources[0];
        assert_eq!(concept_map["resourceType"], json!("ConceptMap"));
        assert_eq!(concept_map["url"], json!(NDC_TEN_TO_ELEVEN_MAP_URL));
        assert_eq!(concept_map["version"], json!("2026-01-15"));
        let group = &concept_map["group"][0];
        assert_eq!((group["source"].as_str(), group["target"].as_str()), (Some(NDC_URL), Some(NDC_URL)));
        let pairs: Vec<String> = group["element"]
            .as_array()
            .unwrap()
            .iter()
            .map(|element| {
                let target = &element["target"][0];
                format!(
                    "{} -> {} {}",
                    element["code"].as_str().unwrap(),
                    target["code"].as_str().unwrap(),
                    target["equivalence"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(
            pairs,
            [
                "0999-1234-01 -> 00999123401 equivalent",
                "0999-1234-02 -> 00999123402 equivalent",
                "59999-123-10 -> 59999012310 equivalent",
                "69999-0101-5 -> 69999010105 equivalent",
                "0998-0001-01 -> 00998000101 equivalent",
                "69999-0202-1 -> 69999020201 equivalent",
                "59999-123-20 -> 59999012320 equivalent",
            ]
        );
        assert_eq!(
            group["element"][0]["target"][0]["display"],
            json!("Fixturol XR, 100 TABLET, EXTENDED RELEASE in 1 BOTTLE (0999-1234-01)")
        );
        // Every code the map names is a concept of the code system, in either form.
        let codes: HashSet<&str> = code_system.concepts.iter().map(|concept| concept.code.as_str()).collect();
        assert!(pairs.iter().all(|pair| pair.split(' ').filter(|part| part.contains(char::is_numeric)).all(|code| codes.contains(code))));
    }

    #[test]
    fn package_codes_of_each_shape_get_their_billing_form() {
        assert_eq!(billing_form("0002-1200-01").as_deref(), Some("00002120001"));
        assert_eq!(billing_form("50090-123-45").as_deref(), Some("50090012345"));
        assert_eq!(billing_form("12345-6789-1").as_deref(), Some("12345678901"));
        for malformed in ["12345-678-901", "1234-567-89", "00002120001", "0002-1200-0A", "0002--1200-01", "", "0002-1200-01-1"] {
            assert_eq!(billing_form(malformed), None, "{malformed}");
        }
    }

    #[test]
    fn version_comes_from_the_option_or_a_date_or_year_in_the_path() {
        let options = LoadOptions { version: Some("2026-02".into()) };
        assert_eq!(load(&fixture_source(), &options).unwrap().code_systems[0].version.as_deref(), Some("2026-02"));
        assert_eq!(version_in_path_part("ndctext_20260115").as_deref(), Some("2026-01-15"));
        assert_eq!(version_in_path_part("ndc-2026").as_deref(), Some("2026"));
        assert_eq!(version_in_path_part("ndctext"), None);
        let undated = MemorySource::new([("product.txt", PRODUCT_FIXTURE), ("package.txt", PACKAGE_FIXTURE)]);
        let loaded = load(&undated, &LoadOptions::default()).unwrap();
        assert_eq!(loaded.code_systems[0].version, None);
        assert_eq!(loaded.resources[0].get("version"), None);
        assert_eq!(
            loaded.diagnostics[0].to_string(),
            "package.txt: no date or year in the file or folder names; the code system has no version (name one with the version option) (\"package.txt\")"
        );
    }

    #[test]
    fn a_missing_file_or_a_header_without_the_columns_is_an_error_naming_the_file() {
        let without_products = MemorySource::new([("ndctext/package.txt", PACKAGE_FIXTURE)]);
        assert_eq!(
            load(&without_products, &LoadOptions::default()).unwrap_err().to_string(),
            "ndctext/package.txt: no product.txt of the FDA NDC directory found; the directory needs product.txt and package.txt"
        );
        let renamed_column = String::from_utf8_lossy(PACKAGE_FIXTURE).replacen("NDCPACKAGECODE", "PACKAGECODE", 1);
        let wrong_header = MemorySource::new([("product.txt", PRODUCT_FIXTURE.to_vec()), ("package.txt", renamed_column.into_bytes())]);
        let error = load(&wrong_header, &LoadOptions::default()).unwrap_err();
        assert_eq!(error.path, "package.txt");
        assert_eq!(error.line, Some(1));
        assert_eq!(error.message, "not the FDA NDC directory's package.txt: the header row has no NDCPACKAGECODE column");
        let header_only = MemorySource::new([
            ("product.txt", PRODUCT_FIXTURE),
            ("package.txt", &PACKAGE_FIXTURE[..PACKAGE_FIXTURE.iter().position(|byte| *byte == b'\n').unwrap() + 1]),
        ]);
        assert_eq!(load(&header_only, &LoadOptions::default()).unwrap_err().to_string(), "package.txt: package.txt holds no package codes");
    }

    #[test]
    fn detects_the_directory_files() {
        for name in ["product.txt", "ndctext/package.txt", "PRODUCT.TXT"] {
            let source = MemorySource::new([(name, b"".to_vec())]);
            assert_eq!(crate::detect(&source).unwrap(), crate::Format::Ndc, "{name}");
        }
        assert_eq!(crate::Format::parse("ndc"), Some(crate::Format::Ndc));
        assert!(crate::Format::NAMES.contains(&"ndc"));
    }
}
