//! A practice's billing list from its EHR (`*.csv`, comma-separated, a header row naming the
//! columns `code_type,code,description,category`; columns are found by header name, in any order,
//! and `code_type` may be left out when the upload names it for the whole file).
//!
//! The list is read into typed rows ([`model::terminology::billing::BillingSheet`]) and nothing
//! more: which system a row's code belongs to, whether the code exists in the loaded release, and
//! the value sets its categories become are the store's business (`store::billing`), since only the
//! store knows what is loaded. The code is kept exactly as the file wrote it, so that the store can
//! refuse `E119` and suggest `E11.9` rather than silently change it; the other cells are trimmed.
//!
//! Every row that cannot be read is a problem that names file, line and value, and a list with any
//! problem stores nothing: an unreadable row, a row whose column count differs from the header's,
//! an unknown `code_type` (or none, where the upload names none), a row without a code. A row
//! repeating an earlier one (same code type, code and category) is skipped with a warning
//! diagnostic.
//!
//! Tests are at the end of this file, with fixtures in `test_data/csv_codes/`.

use crate::{Diagnostic, LoadError, LoadOptions, Loaded, Source};
use model::terminology::billing::{BillingRow, BillingSheet, CodeType, RowProblem};
use std::collections::HashSet;
use std::io::Read;

pub use crate::cpt::{CPT_OID, CPT_URL};

const REQUIRED_COLUMNS: [&str; 2] = ["code", "description"];

/// True for a `.csv` file whose header row has the billing export's columns (`code_type`, `code`
/// and `description`).
pub fn is_billing_csv(source: &dyn Source, name: &str) -> bool {
    if !name.to_ascii_lowercase().ends_with(".csv") {
        return false;
    }
    let Ok(reader) = source.open(name) else {
        return false;
    };
    let mut start = Vec::new();
    if reader.take(4096).read_to_end(&mut start).is_err() {
        return false;
    }
    let text = String::from_utf8_lossy(&start);
    let header_row = text.trim_start_matches('\u{feff}').lines().next().unwrap_or("");
    let columns: Vec<String> = header_row.split(',').map(|column| column.trim().trim_matches('"').to_ascii_lowercase()).collect();
    ["code_type", "code", "description"].iter().all(|required| columns.iter().any(|column| column == required))
}

/// Loads every billing CSV in the source as [`Loaded::billing`]; its rows become resources only
/// once the store has checked them.
pub fn load(source: &dyn Source, _options: &LoadOptions) -> Result<Loaded, LoadError> {
    let (sheet, diagnostics) = read_sheet(source, None)?;
    Ok(Loaded { billing: Some(sheet), diagnostics, ..Loaded::default() })
}

/// Reads every `.csv` of the source into one sheet. `code_type` is the upload's own: it names
/// the system of rows that have no `code_type` cell (or files without the column). Warnings (a
/// repeated row) come back as diagnostics; the sheet's problems are errors.
pub fn read_sheet(source: &dyn Source, code_type: Option<CodeType>) -> Result<(BillingSheet, Vec<Diagnostic>), LoadError> {
    let names: Vec<String> = source.names().into_iter().filter(|name| name.to_ascii_lowercase().ends_with(".csv")).collect();
    if names.is_empty() {
        return Err(LoadError::new(source.names().first().cloned().unwrap_or_default(), "no .csv file found"));
    }
    let mut sheet = BillingSheet::default();
    let mut warnings = Vec::new();
    let mut seen_rows: HashSet<(CodeType, String, String)> = HashSet::new();
    for name in &names {
        let bytes = source.read_bytes(name)?;
        let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&bytes);
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
        let headers = reader.headers().map_err(|error| LoadError::new(name, format!("unreadable header row: {error}")).at_line(1))?.clone();
        let column_of = |wanted: &str| headers.iter().position(|column| column.trim().eq_ignore_ascii_case(wanted));
        let code_type_column = column_of("code_type");
        let (Some(code_column), Some(description_column)) = (column_of("code"), column_of("description")) else {
            return Err(LoadError::new(name, format!("the header row lacks {}", REQUIRED_COLUMNS.join(" or ")))
                .at_line(1)
                .with_value(headers.iter().collect::<Vec<_>>().join(",")));
        };
        if code_type_column.is_none() && code_type.is_none() {
            return Err(LoadError::new(name, "the header row has no code_type column, and the upload names no code_type")
                .at_line(1)
                .with_value(headers.iter().collect::<Vec<_>>().join(",")));
        }
        let category_column = column_of("category");
        // The line a row starts on, counted here: the csv crate's own line numbers run one
        // short after CRLF line ends.
        // Rows come in file order, so the newlines are counted once, from the last row on.
        let counted = std::cell::Cell::new((0usize, 0u64));
        let line_of = |position: Option<&csv::Position>| {
            position.map(|position| {
                let mut offset = (position.byte() as usize).min(bytes.len());
                // After a CRLF the position points at the LF, before the row itself.
                while bytes.get(offset).is_some_and(|byte| matches!(byte, b'\r' | b'\n')) {
                    offset += 1;
                }
                let (mut counted_to, mut n_newlines) = counted.get();
                if offset < counted_to {
                    (counted_to, n_newlines) = (0, 0);
                }
                n_newlines += bytes[counted_to..offset].iter().filter(|byte| **byte == b'\n').count() as u64;
                counted.set((offset, n_newlines));
                1 + n_newlines
            })
        };
        for record in reader.records() {
            let record = match record {
                Ok(record) => record,
                Err(error) => {
                    sheet.problems.push(RowProblem {
                        path: name.clone(),
                        line: line_of(error.position()),
                        value: String::new(),
                        message: format!("unreadable row: {error}"),
                    });
                    continue;
                }
            };
            let line = line_of(record.position());
            let row_text = record.iter().collect::<Vec<_>>().join(",");
            if record.iter().all(|cell| cell.trim().is_empty()) {
                continue;
            }
            let mut refuse = |value: String, message: String| {
                sheet.problems.push(RowProblem { path: name.clone(), line, value, message });
            };
            if record.len() != headers.len() {
                refuse(row_text, format!("the row has {} columns where the header has {}", record.len(), headers.len()));
                continue;
            }
            let cell_code_type = code_type_column.map(|column| record[column].trim()).unwrap_or_default();
            let row_code_type = if cell_code_type.is_empty() { code_type } else { CodeType::parse(cell_code_type) };
            let Some(row_code_type) = row_code_type else {
                let message = if cell_code_type.is_empty() {
                    "the row has no code_type, and the upload names none".to_owned()
                } else {
                    format!("code_type is not one of {}", CodeType::NAMES.join(", "))
                };
                refuse(if cell_code_type.is_empty() { row_text } else { cell_code_type.to_owned() }, message);
                continue;
            };
            let code = record[code_column].to_owned();
            if code.trim().is_empty() {
                refuse(row_text, "the row has no code".to_owned());
                continue;
            }
            let category = category_column.map(|column| record[column].trim().to_owned()).unwrap_or_default();
            if !seen_rows.insert((row_code_type, code.clone(), category.clone())) {
                warnings.push(Diagnostic {
                    path: name.clone(),
                    line,
                    value: code,
                    message: "the same code_type, code and category were listed before; the repeat is skipped".to_owned(),
                });
                continue;
            }
            sheet.rows.push(BillingRow {
                path: name.clone(),
                line: line.unwrap_or_default(),
                code_type: row_code_type,
                code,
                description: record[description_column].trim().to_owned(),
                category,
            });
        }
    }
    Ok((sheet, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemorySource;

    const BILLING_FIXTURE: &[u8] = include_bytes!("../test_data/csv_codes/billing_codes.csv");

    fn rows_of(sheet: &BillingSheet) -> Vec<String> {
        sheet
            .rows
            .iter()
            .map(|row| {
                format!("{}:{} {} {:?} {:?} {:?}", row.path, row.line, row.code_type.name(), row.code, row.description, row.category)
            })
            .collect()
    }

    #[test]
    fn rows_kept_as_written_and_bad_rows_named() {
        let source = MemorySource::new([("billing_codes.csv", BILLING_FIXTURE)]);
        assert_eq!(crate::detect(&source).unwrap(), crate::Format::Csv);
        let loaded = load(&source, &LoadOptions::default()).unwrap();
        assert!(loaded.code_systems.is_empty(), "rows become resources in the store, once checked");
        let sheet = loaded.billing.as_ref().expect("a billing sheet");
        assert_eq!(
            rows_of(sheet),
            [
                r#"billing_codes.csv:2 cpt "99999" "Invented office visit, level 1" "E/M""#,
                r#"billing_codes.csv:3 icd10 "E119" "Type 2 diabetes mellitus without complications" "Endocrine""#,
                r#"billing_codes.csv:4 cpt "99998" "Invented office visit, level 2, with a comma" "E/M""#,
                r#"billing_codes.csv:5 hcpcs "G0008" "Administration of influenza virus vaccine" "Immunization""#,
                r#"billing_codes.csv:6 icd10 "I10" "Essential (primary) hypertension" """#,
                r#"billing_codes.csv:9 icd10 "E11.9" "Type 2 diabetes mellitus without complications" "Endocrine""#,
            ]
        );
        let problems: Vec<String> = sheet.problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            problems,
            [
                "billing_codes.csv:7: code_type is not one of cpt, icd10, hcpcs, custom (\"loinc\")",
                "billing_codes.csv:8: the row has no code (\"cpt,,Nothing,E/M\")",
                "billing_codes.csv:10: the row has 2 columns where the header has 4 (\"hcpcs,G0009\")",
            ]
        );
        let warnings: Vec<String> = loaded.diagnostics.iter().map(ToString::to_string).collect();
        assert_eq!(
            warnings,
            ["billing_codes.csv:11: the same code_type, code and category were listed before; the repeat is skipped (\"I10\")"]
        );
        let with_lf_line_ends = String::from_utf8(BILLING_FIXTURE.to_vec()).unwrap().replace("\r\n", "\n");
        let source = MemorySource::new([("billing_codes.csv", with_lf_line_ends)]);
        let (lf_sheet, _) = read_sheet(&source, None).unwrap();
        assert_eq!(lf_sheet.problems, sheet.problems);
        assert_eq!(rows_of(&lf_sheet), rows_of(sheet));
    }

    #[test]
    fn the_upload_names_the_code_type_of_a_file_without_the_column() {
        let source = MemorySource::new([("list.csv", b"code,description,category\nG0008,Flu shot,immunization\n,,\n".to_vec())]);
        let error = read_sheet(&source, None).unwrap_err();
        assert_eq!(
            error.to_string(),
            "list.csv:1: the header row has no code_type column, and the upload names no code_type (\"code,description,category\")"
        );
        let (sheet, _) = read_sheet(&source, Some(CodeType::Hcpcs)).unwrap();
        assert_eq!(rows_of(&sheet), [r#"list.csv:2 hcpcs "G0008" "Flu shot" "immunization""#]);
        assert!(sheet.problems.is_empty(), "a blank row is no problem: {:?}", sheet.problems);
    }

    #[test]
    fn header_without_the_columns_is_an_error() {
        let source = MemorySource::new([("billing_codes.csv", b"system,value\ncpt,99999\n".to_vec())]);
        let error = load(&source, &LoadOptions::default()).unwrap_err();
        assert_eq!(error.to_string(), "billing_codes.csv:1: the header row lacks code or description (\"system,value\")");
        assert!(!is_billing_csv(&source, "billing_codes.csv"));
    }
}
