//! What a release file is by its content, for when its name does not say: an official file keeps
//! its layout whatever it was renamed to (`x.xml`, `codes.txt`), so the loaders and format
//! detection look at the first few kilobytes when the name alone does not match.

use crate::Source;
use std::io::Read;

/// The official files recognised by their content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// The CDC's ICD-10-CM tabular XML (root element `ICD10CM.tabular`).
    Icd10cmTabular,
    /// The CMS ICD-10-CM order file (fixed width, codes starting with a letter).
    Icd10cmOrder,
    /// The CMS ICD-10-PCS tables XML (root element `ICD10PCS.tabular`).
    Icd10pcsTables,
    /// The CMS ICD-10-PCS order file (fixed width, the first code starting with a digit).
    Icd10pcsOrder,
    /// The CMS HCPCS contractor file (320-column records, record id in column 11).
    HcpcsContractor,
    /// A two-column CSV of ICD-10-PCS codes and long descriptions, such as the CMS DRG grouper's
    /// `drg-icd_10_pcs.csv` (`"0016070","Bypass …"`, no header): not an official release layout.
    Icd10pcsCodeList,
}

/// How much of a file is read to tell what it is.
const HEAD_BYTES: u64 = 8 * 1024;

/// The kind of one file of a source, by its first kilobytes; `None` when it is none of these.
pub fn kind_of(source: &dyn Source, name: &str) -> Option<FileKind> {
    let mut head = Vec::new();
    source.open(name).ok()?.take(HEAD_BYTES).read_to_end(&mut head).ok()?;
    kind_of_head(&head)
}

/// The kind of a file from its first bytes.
pub fn kind_of_head(head: &[u8]) -> Option<FileKind> {
    let text = String::from_utf8_lossy(head);
    if let Some(root) = xml_root_element(&text) {
        return match root {
            "ICD10CM.tabular" => Some(FileKind::Icd10cmTabular),
            "ICD10PCS.tabular" => Some(FileKind::Icd10pcsTables),
            _ => None,
        };
    }
    // Whole lines only: the head may end inside one.
    let mut lines: Vec<&[u8]> = head.split(|byte| *byte == b'\n').collect();
    if head.len() as u64 >= HEAD_BYTES {
        lines.pop();
    }
    let lines: Vec<&[u8]> =
        lines.into_iter().map(|line| line.strip_suffix(b"\r").unwrap_or(line)).filter(|line| !line.is_empty()).collect();
    // Most lines (a release may carry a bad row or two) in the order-file layout.
    let order_lines: Vec<&&[u8]> = lines.iter().filter(|line| is_order_line(line)).collect();
    if order_lines.len() >= 2 && order_lines.len() * 2 > lines.len() {
        let first_code = order_lines[0][6];
        return Some(if first_code.is_ascii_digit() { FileKind::Icd10pcsOrder } else { FileKind::Icd10cmOrder });
    }
    let code_list_lines = lines.iter().filter(|line| is_pcs_code_list_line(line)).count();
    if code_list_lines >= 2 && code_list_lines * 2 > lines.len() {
        return Some(FileKind::Icd10pcsCodeList);
    }
    let n_hcpcs_records = lines.iter().filter(|line| is_hcpcs_record(line)).count();
    if n_hcpcs_records >= 2 || (n_hcpcs_records == 1 && lines.len() <= 2) {
        return Some(FileKind::HcpcsContractor);
    }
    None
}

/// The name of the first element of an XML document, past the declaration, comments and a
/// doctype; `None` when the text does not start like XML.
fn xml_root_element(text: &str) -> Option<&str> {
    let mut rest = text.trim_start_matches('\u{feff}').trim_start();
    loop {
        if let Some(after) = rest.strip_prefix("<?") {
            rest = after.split_once("?>")?.1.trim_start();
        } else if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.split_once("-->")?.1.trim_start();
        } else if let Some(after) = rest.strip_prefix("<!") {
            rest = after.split_once('>')?.1.trim_start();
        } else {
            break;
        }
    }
    let after = rest.strip_prefix('<')?;
    let end = after.find(|c: char| c.is_whitespace() || c == '>' || c == '/').unwrap_or(after.len());
    let name = &after[..end];
    (!name.is_empty()).then_some(name)
}

/// An order-file line: order number (columns 1-5), code (7-13), header flag 0 or 1 (15), short
/// description from column 17.
fn is_order_line(line: &[u8]) -> bool {
    line.len() >= 17
        && line[..5].iter().all(u8::is_ascii_digit)
        && line[5] == b' '
        && line[6..13].iter().all(|byte| byte.is_ascii_alphanumeric() || *byte == b' ')
        && line[6].is_ascii_alphanumeric()
        && line[13] == b' '
        && matches!(line[14], b'0' | b'1')
        && line[15] == b' '
}

/// `"XXXXXXX","description"`: a seven-character ICD-10-PCS code and its description, quoted.
fn is_pcs_code_list_line(line: &[u8]) -> bool {
    line.len() > 12 && line[0] == b'"' && line[1..8].iter().all(|byte| crate::icd10pcs::is_pcs_character(*byte)) && &line[8..11] == b"\",\""
}

/// A HCPCS contractor record: a sequence number in columns 6-10, a record id 3, 4, 7 or 8 in
/// column 11, and the 293 columns up to the action code.
fn is_hcpcs_record(line: &[u8]) -> bool {
    line.len() >= 293 && line[5..10].iter().all(u8::is_ascii_digit) && matches!(line[10], b'3' | b'4' | b'7' | b'8')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_official_files_are_known_by_their_content() {
        let tabular = include_bytes!("../test_data/icd10cm/icd10cm_tabular_2026.xml");
        assert_eq!(kind_of_head(&tabular[..tabular.len().min(8192)]), Some(FileKind::Icd10cmTabular));
        let order = include_bytes!("../test_data/icd10cm/icd10cm_order_2026.txt");
        assert_eq!(kind_of_head(order), Some(FileKind::Icd10cmOrder));
        let pcs_tables = include_bytes!("../test_data/icd10pcs/icd10pcs_tables_2026.xml");
        assert_eq!(kind_of_head(&pcs_tables[..pcs_tables.len().min(8192)]), Some(FileKind::Icd10pcsTables));
        let pcs_order = include_bytes!("../test_data/icd10pcs/icd10pcs_order_2026.txt");
        assert_eq!(kind_of_head(pcs_order), Some(FileKind::Icd10pcsOrder));
        assert_eq!(
            kind_of_head(b"\"0016070\",\"Bypass Cerebral Ventricle\"\n\"0016071\",\"Bypass, Open\"\n"),
            Some(FileKind::Icd10pcsCodeList)
        );
        let hcpcs = include_bytes!("../test_data/hcpcs/HCPC2019_CONTR_ANWEB.txt");
        assert_eq!(kind_of_head(&hcpcs[..hcpcs.len().min(8192)]), Some(FileKind::HcpcsContractor));
    }

    #[test]
    fn renamed_releases_are_detected_and_loaded() {
        let cases: [(&str, &[u8], crate::Format, usize); 3] = [
            ("x.xml", include_bytes!("../test_data/icd10cm/icd10cm_tabular_2026.xml"), crate::Format::Icd10cm, 1),
            ("codes.txt", include_bytes!("../test_data/hcpcs/HCPC2019_CONTR_ANWEB.txt"), crate::Format::Hcpcs, 1),
            ("pcs.txt", include_bytes!("../test_data/icd10pcs/icd10pcs_order_2026.txt"), crate::Format::Icd10pcs, 1),
        ];
        for (name, bytes, format, n_code_systems) in cases {
            let source = crate::MemorySource::new([(name, bytes.to_vec())]);
            assert_eq!(crate::detect(&source).unwrap(), format, "{name}");
            let loaded = crate::load(format, &source, &crate::LoadOptions::default()).unwrap_or_else(|error| panic!("{name}: {error}"));
            assert_eq!(loaded.code_systems.len(), n_code_systems, "{name}");
            assert!(!loaded.code_systems[0].concepts.is_empty(), "{name}");
        }
        let tabular = crate::MemorySource::new([("x.xml", include_bytes!("../test_data/icd10cm/icd10cm_tabular_2026.xml").to_vec())]);
        let loaded = crate::load(crate::Format::Icd10cm, &tabular, &crate::LoadOptions::default()).unwrap();
        assert_eq!(loaded.code_systems[0].version.as_deref(), Some("2026"), "the version comes from the XML itself");
    }

    #[test]
    fn other_content_is_not_mistaken() {
        for other in [
            &b"<CodeSystem xmlns=\"http://hl7.org/fhir\"><id value=\"x\"/></CodeSystem>"[..],
            b"{\"resourceType\": \"CodeSystem\"}",
            b"code,description\nE11.9,Type 2 diabetes\n",
            b"",
            b"<?xml version=\"1.0\"?><!-- a comment --><!DOCTYPE x>",
        ] {
            assert_eq!(kind_of_head(other), None, "{}", String::from_utf8_lossy(other));
        }
        assert_eq!(xml_root_element("<?xml version=\"1.0\"?>\n<!-- c -->\n<ICD10CM.tabular>"), Some("ICD10CM.tabular"));
    }
}
