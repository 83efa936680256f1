//! BCP-47 language tags (`urn:ietf:bcp:47`): the RFC 5646 grammar checked against the IANA
//! Language Subtag Registry.
//!
//! A tag is `language[-extlang][-script][-region](-variant)*(-extension)*[-x-private]`, or a
//! whole grandfathered tag. Each subtag must be registered (and not a private-use range), and is
//! compared in the registry's own case (`en-US`, `zh-Hant`), as the reference servers and HL7's
//! tests do: `en-us` is not a code. Extensions and private use are checked for shape only.
//! The display is the language's first description with the others in brackets:
//! `en-US` is "English (United States)".
//! The common listing is HL7's Languages value set (ISO 639-1, else 639-2 codes).

use super::{plain_concept, GrammarCodeSystem, NotACode};
use model::terminology::Concept;
use std::collections::HashMap;

/// What a registry subtag is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SubtagKind {
    Language,
    ExtLang,
    Script,
    Region,
    Variant,
    /// A whole tag registered as is (`i-klingon`, `zh-min-nan`).
    Grandfathered,
    Redundant,
}

/// One registry record.
#[derive(Clone, Debug)]
pub struct Subtag {
    pub kind: SubtagKind,
    /// The subtag (or whole tag) in the registry's case.
    pub subtag: String,
    pub description: String,
    pub deprecated: bool,
}

/// The language-tag grammar with its registry.
#[derive(Debug)]
pub struct LanguageTags {
    subtags: HashMap<(SubtagKind, String), Subtag>,
    common: Vec<String>,
    common_source: String,
    registry_date: String,
}

impl LanguageTags {
    /// The grammar over a registry (dated `registry_date`), with the common languages listed from
    /// the value set `common_source` (`url|version`).
    pub fn new(subtags: Vec<Subtag>, common: Vec<String>, common_source: &str, registry_date: &str) -> LanguageTags {
        let subtags = subtags.into_iter().map(|subtag| ((subtag.kind, subtag.subtag.clone()), subtag)).collect();
        let mut common = common;
        common.sort();
        common.dedup();
        LanguageTags { subtags, common, common_source: common_source.to_owned(), registry_date: registry_date.to_owned() }
    }

    /// The date of the registry file the subtags come from.
    pub fn registry_date(&self) -> &str {
        &self.registry_date
    }

    fn registered(&self, kind: SubtagKind, subtag: &str) -> Option<&Subtag> {
        self.subtags.get(&(kind, subtag.to_owned()))
    }

    /// Reads a tag: the descriptions of its language and of its other registered subtags.
    fn read(&self, tag: &str) -> Option<(String, Vec<String>)> {
        if tag.is_empty() || tag.len() > 128 {
            return None;
        }
        if let Some(whole) = self.registered(SubtagKind::Grandfathered, tag) {
            return Some((whole.description.clone(), Vec::new()));
        }
        let parts: Vec<&str> = tag.split('-').collect();
        if parts.iter().any(|part| part.is_empty() || part.len() > 8 || !part.chars().all(|c| c.is_ascii_alphanumeric())) {
            return None;
        }
        let mut position = 0;
        let language_subtag = parts[0];
        if !(2..=3).contains(&language_subtag.len()) && !(5..=8).contains(&language_subtag.len()) {
            return None;
        }
        let language = self.registered(SubtagKind::Language, language_subtag)?;
        position += 1;
        let mut details = Vec::new();
        // Up to three extended language subtags (`zh-yue`).
        let mut n_extlangs = 0;
        while n_extlangs < 3
            && position < parts.len()
            && parts[position].len() == 3
            && parts[position].chars().all(|c| c.is_ascii_alphabetic())
        {
            details.push(self.registered(SubtagKind::ExtLang, parts[position])?.description.clone());
            position += 1;
            n_extlangs += 1;
        }
        if position < parts.len() && parts[position].len() == 4 && parts[position].chars().all(|c| c.is_ascii_alphabetic()) {
            details.push(self.registered(SubtagKind::Script, parts[position])?.description.clone());
            position += 1;
        }
        if position < parts.len() {
            let part = parts[position];
            let region_shaped = (part.len() == 2 && part.chars().all(|c| c.is_ascii_alphabetic()))
                || (part.len() == 3 && part.chars().all(|c| c.is_ascii_digit()));
            if region_shaped {
                details.push(self.registered(SubtagKind::Region, part)?.description.clone());
                position += 1;
            }
        }
        while position < parts.len() {
            let part = parts[position];
            let variant_shaped = part.len() >= 5 || (part.len() == 4 && part.starts_with(|c: char| c.is_ascii_digit()));
            if !variant_shaped {
                break;
            }
            details.push(self.registered(SubtagKind::Variant, part)?.description.clone());
            position += 1;
        }
        // Extensions (a singleton other than x, then subtags of 2 to 8), then private use.
        while position < parts.len() {
            let singleton = parts[position];
            if singleton.len() != 1 {
                return None;
            }
            let private_use = singleton.eq_ignore_ascii_case("x");
            let minimum = if private_use { 1 } else { 2 };
            position += 1;
            let start = position;
            while position < parts.len() && parts[position].len() >= minimum && (private_use || parts[position].len() > 1) {
                position += 1;
            }
            if position == start {
                return None;
            }
            if private_use && position < parts.len() {
                return None;
            }
        }
        Some((language.description.clone(), details))
    }
}

impl GrammarCodeSystem for LanguageTags {
    fn url(&self) -> &str {
        "urn:ietf:bcp:47"
    }

    fn version(&self) -> Option<&str> {
        None
    }

    fn name(&self) -> &str {
        "IETF language codes (BCP-47)"
    }

    fn title(&self) -> &str {
        "Tags for Identifying Languages (BCP 47)"
    }

    fn concept(&self, code: &str) -> Result<Concept, NotACode> {
        let (language, details) = self.read(code).ok_or(NotACode { detail: None })?;
        let display = if details.is_empty() { language } else { format!("{language} ({})", details.join(", ")) };
        Ok(plain_concept(code, Some(display), Vec::new()))
    }

    fn common_codes(&self) -> Vec<Concept> {
        self.common.iter().filter_map(|code| self.concept(code).ok()).collect()
    }

    fn common_codes_source(&self) -> &str {
        &self.common_source
    }

    fn common_codes_status(&self) -> &str {
        "active"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> LanguageTags {
        let subtag = |kind, subtag: &str, description: &str| Subtag {
            kind,
            subtag: subtag.to_owned(),
            description: description.to_owned(),
            deprecated: false,
        };
        LanguageTags::new(
            vec![
                subtag(SubtagKind::Language, "en", "English"),
                subtag(SubtagKind::Language, "zh", "Chinese"),
                subtag(SubtagKind::ExtLang, "yue", "Yue Chinese"),
                subtag(SubtagKind::Script, "Hant", "Han (Traditional variant)"),
                subtag(SubtagKind::Region, "US", "United States"),
                subtag(SubtagKind::Region, "TW", "Taiwan"),
                subtag(SubtagKind::Region, "419", "Latin America and the Caribbean"),
                subtag(SubtagKind::Variant, "scouse", "Scouse"),
                subtag(SubtagKind::Grandfathered, "i-klingon", "Klingon"),
            ],
            vec!["zh".to_owned(), "en".to_owned()],
            "http://terminology.hl7.org/ValueSet/Languages|1.0.0",
            "2025-08-25",
        )
    }

    #[track_caller]
    fn check(tag: &str, expected: Option<&str>) {
        let actual = registry().concept(tag).ok().and_then(|concept| concept.display);
        assert_eq!(actual.as_deref(), expected, "{tag}");
    }

    #[test]
    fn displays_a_tag_from_its_subtags() {
        check("en", Some("English"));
        check("en-US", Some("English (United States)"));
        check("zh-Hant-TW", Some("Chinese (Han (Traditional variant), Taiwan)"));
        check("zh-yue", Some("Chinese (Yue Chinese)"));
        check("en-419", Some("English (Latin America and the Caribbean)"));
        check("en-GB-scouse", None);
        check("en-US-scouse", Some("English (United States, Scouse)"));
        check("en-US-u-ca-gregory", Some("English (United States)"));
        check("en-x-private", Some("English"));
        check("i-klingon", Some("Klingon"));
    }

    #[test]
    fn refuses_unregistered_subtags_wrong_case_and_bad_shapes() {
        check("en-us", None);
        check("EN", None);
        check("xx", None);
        check("en-ZZ", None);
        check("en--US", None);
        check("en-US-", None);
        check("", None);
        check("en-u", None);
        check("en-x-", None);
        check("english-united-states-of-america", None);
        check(&"en-".repeat(100), None);
    }

    #[test]
    fn lists_the_common_languages_in_code_order() {
        let codes: Vec<String> = registry().common_codes().into_iter().map(|concept| concept.code).collect();
        assert_eq!(codes, ["en", "zh"]);
    }
}
