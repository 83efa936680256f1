//! A practice's billing list (the CSV `code_type,code,description,category`) as typed rows, and
//! the pure rules that judge them: which system a `code_type` names, the form of its codes, the
//! obvious repairs of a code written another way (`E119` for `E11.9`), and the stable names of the
//! value sets its categories become.
//!
//! The loader (`loaders::csv_codes`) reads the rows; the store (`store::billing`) checks them
//! against the loaded releases and builds the resources. Both meet here, since neither may depend
//! on the other.

use std::fmt;

/// The code system a row's `code_type` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CodeType {
    Cpt,
    Icd10,
    Hcpcs,
    Custom,
}

pub const CPT_URL: &str = "http://www.ama-assn.org/go/cpt";
pub const ICD10CM_URL: &str = "http://hl7.org/fhir/sid/icd-10-cm";
pub const HCPCS_URL: &str = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets";

/// Where the value sets made of categories live when no other base is configured.
pub const DEFAULT_VALUE_SET_BASE: &str = "http://fhirterm.local/fhir/ValueSet/";
/// Where `custom` code systems live when no other base is configured.
pub const DEFAULT_CODE_SYSTEM_BASE: &str = "http://fhirterm.local/fhir/CodeSystem/";
/// The name of the `custom` code system when the upload names none.
pub const DEFAULT_CUSTOM_SYSTEM: &str = "local";

impl CodeType {
    pub const NAMES: &'static [&'static str] = &["cpt", "icd10", "hcpcs", "custom"];

    /// Reads a `code_type` value, ignoring case and surrounding spaces.
    pub fn parse(text: &str) -> Option<CodeType> {
        match text.trim().to_ascii_lowercase().as_str() {
            "cpt" => Some(CodeType::Cpt),
            "icd10" => Some(CodeType::Icd10),
            "hcpcs" => Some(CodeType::Hcpcs),
            "custom" => Some(CodeType::Custom),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            CodeType::Cpt => "cpt",
            CodeType::Icd10 => "icd10",
            CodeType::Hcpcs => "hcpcs",
            CodeType::Custom => "custom",
        }
    }

    /// The official system URL; `custom` has none (its URL is configured).
    pub fn official_url(self) -> Option<&'static str> {
        match self {
            CodeType::Cpt => Some(CPT_URL),
            CodeType::Icd10 => Some(ICD10CM_URL),
            CodeType::Hcpcs => Some(HCPCS_URL),
            CodeType::Custom => None,
        }
    }

    /// The system's name in messages.
    pub fn system_title(self) -> &'static str {
        match self {
            CodeType::Cpt => "CPT",
            CodeType::Icd10 => "ICD-10-CM",
            CodeType::Hcpcs => "HCPCS",
            CodeType::Custom => "the custom code system",
        }
    }

    /// Whether `code` has the form of a code of this system: CPT `^\d{4}[0-9A-Z]$`, HCPCS
    /// `^[A-Z]\d{4}$`, ICD-10-CM `^[A-Z][0-9A-Z]{2}(\.[0-9A-Z]{1,4})?$` (dotted, upper case; the
    /// second character is a letter in FY2026's `QA0` block, so it is not held to a digit);
    /// a custom code is any FHIR code (no leading, trailing or doubled whitespace, not empty).
    pub fn has_form(self, code: &str) -> bool {
        let bytes = code.as_bytes();
        let upper_alnum = |byte: &u8| byte.is_ascii_digit() || byte.is_ascii_uppercase();
        match self {
            CodeType::Cpt => bytes.len() == 5 && bytes[..4].iter().all(u8::is_ascii_digit) && upper_alnum(&bytes[4]),
            CodeType::Hcpcs => bytes.len() == 5 && bytes[0].is_ascii_uppercase() && bytes[1..].iter().all(u8::is_ascii_digit),
            CodeType::Icd10 => {
                let (category, subcategory) = match code.split_once('.') {
                    Some((category, subcategory)) => (category.as_bytes(), Some(subcategory.as_bytes())),
                    None => (bytes, None),
                };
                category.len() == 3
                    && category[0].is_ascii_uppercase()
                    && upper_alnum(&category[1])
                    && upper_alnum(&category[2])
                    && subcategory.is_none_or(|subcategory| (1..=4).contains(&subcategory.len()) && subcategory.iter().all(upper_alnum))
            }
            CodeType::Custom => !code.is_empty() && code.trim() == code && !code.contains(char::is_control) && !code.contains("  "),
        }
    }

    /// A description of the form, for messages.
    pub fn form_text(self) -> &'static str {
        match self {
            CodeType::Cpt => "four digits and a digit or capital letter, like 99213",
            CodeType::Hcpcs => "a capital letter and four digits, like G0008",
            CodeType::Icd10 => "a letter and two letters or digits, then a dot and up to four more, like E11.9",
            CodeType::Custom => "a FHIR code: not empty, without surrounding or doubled spaces",
        }
    }

    /// The ways a practice's export commonly writes a code otherwise, most likely first: trimmed,
    /// upper-cased, with ICD-10-CM's dot put in (`E119` → `E11.9`) or a stray dot taken out. Each
    /// candidate differs from `code`; whoever checks them decides which exist.
    pub fn repair_candidates(self, code: &str) -> Vec<String> {
        let trimmed = code.trim();
        let upper = trimmed.to_ascii_uppercase();
        let mut candidates = vec![trimmed.to_owned(), upper.clone()];
        match self {
            CodeType::Icd10 => {
                let undotted: String = upper.chars().filter(|c| *c != '.' && !c.is_whitespace()).collect();
                if undotted.len() > 3 && undotted.is_ascii() {
                    candidates.push(format!("{}.{}", &undotted[..3], &undotted[3..]));
                } else {
                    candidates.push(undotted);
                }
            }
            CodeType::Cpt | CodeType::Hcpcs => candidates.push(upper.chars().filter(|c| *c != '.' && !c.is_whitespace()).collect()),
            CodeType::Custom => {}
        }
        let mut unique: Vec<String> = Vec::new();
        for candidate in candidates {
            if candidate != code && !candidate.is_empty() && !unique.contains(&candidate) {
                unique.push(candidate);
            }
        }
        unique
    }
}

/// One row of a billing list, as the file gave it (the code untouched, other cells trimmed).
#[derive(Clone, Debug, PartialEq)]
pub struct BillingRow {
    pub path: String,
    pub line: u64,
    pub code_type: CodeType,
    pub code: String,
    pub description: String,
    /// Empty when the row names no category.
    pub category: String,
}

/// A row that cannot be taken, with file, line, value and why.
#[derive(Clone, Debug, PartialEq)]
pub struct RowProblem {
    pub path: String,
    pub line: Option<u64>,
    pub value: String,
    pub message: String,
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {} ({:?})", self.path, line, self.message, self.value),
            None => write!(f, "{}: {} ({:?})", self.path, self.message, self.value),
        }
    }
}

/// A whole billing upload: its rows, and the rows the reader could not take (each an error: a
/// list with any of them stores nothing).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BillingSheet {
    pub rows: Vec<BillingRow>,
    pub problems: Vec<RowProblem>,
}

/// A category made a stable URL segment: lower case, runs of anything but letters and digits
/// one `-` (`Diabetes diagnosis codes` → `diabetes-diagnosis-codes`), at most 64 characters.
pub fn category_slug(category: &str) -> String {
    let mut slug = String::new();
    for c in category.trim().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_end_matches('-').chars().take(64).collect();
    let slug = slug.trim_end_matches('-').to_owned();
    if slug.is_empty() {
        "category".to_owned()
    } else {
        slug
    }
}

/// A base URL with exactly one `/` at its end.
pub fn with_trailing_slash(base: &str) -> String {
    format!("{}/", base.trim_end_matches('/'))
}

/// The canonical URL of the value set a category of a code type becomes: `{base}{code_type}-{slug}`.
pub fn category_value_set_url(base: &str, code_type: CodeType, category: &str) -> String {
    format!("{}{}-{}", with_trailing_slash(base), code_type.name(), category_slug(category))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_of_each_code_type() {
        for (code_type, good, bad) in [
            (CodeType::Cpt, &["99213", "0001F", "0591T"][..], &["9921", "99213 ", "A0001", "0001f"][..]),
            (CodeType::Hcpcs, &["G0008", "A9599"][..], &["G008", "g0008", "99213", "G0008A"][..]),
            (
                CodeType::Icd10,
                &["E11.9", "I10", "C50.A0", "S72.001A", "U07.1"][..],
                &["E119", "e11.9", "E11.", "E11.12345", "11.9", " E11.9"][..],
            ),
            (CodeType::Custom, &["X-1", "two words"][..], &["", " X", "a  b"][..]),
        ] {
            for code in good {
                assert!(code_type.has_form(code), "{code_type:?} {code:?}");
            }
            for code in bad {
                assert!(!code_type.has_form(code), "{code_type:?} {code:?}");
            }
        }
    }

    #[test]
    fn repairs_and_slugs() {
        assert_eq!(CodeType::Icd10.repair_candidates("E119"), ["E11.9"]);
        assert_eq!(CodeType::Icd10.repair_candidates(" e11.9"), ["e11.9", "E11.9"]);
        assert_eq!(CodeType::Hcpcs.repair_candidates("g0008"), ["G0008"]);
        assert!(CodeType::Icd10.repair_candidates("E11.9").is_empty());
        assert_eq!(category_slug("Diabetes diagnosis codes"), "diabetes-diagnosis-codes");
        assert_eq!(category_slug(" E/M "), "e-m");
        assert_eq!(category_slug("***"), "category");
        assert_eq!(
            category_value_set_url("http://fhirterm.local/fhir/ValueSet", CodeType::Icd10, "diabetes-diagnosis-codes"),
            "http://fhirterm.local/fhir/ValueSet/icd10-diabetes-diagnosis-codes"
        );
    }
}
