//! When a release and its codes are in force: the CodeSystem's effective period and the concept
//! properties `effectiveDate` and `retirementDate`, in FHIR's own vocabulary, and the calendar
//! rules of the official releases that give them.

use crate::Json;
use serde_json::json;

/// R5's `CodeSystem.effectivePeriod`, carried in R4 by its cross-version extension.
pub const EXT_EFFECTIVE_PERIOD: &str = "http://hl7.org/fhir/5.0/StructureDefinition/extension-CodeSystem.effectivePeriod";
/// The concept property (from `http://hl7.org/fhir/concept-properties`) for when a code took effect.
pub const PROPERTY_EFFECTIVE_DATE: &str = "effectiveDate";
/// The concept property for when a code was retired.
pub const PROPERTY_RETIREMENT_DATE: &str = "retirementDate";

/// A calendar date as FHIR writes it (`YYYY-MM-DD`), ordered as text.
pub type FhirDate = String;

/// The period a release is in force: from `start`, until `end` when it has one (both inclusive).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EffectivePeriod {
    pub start: FhirDate,
    pub end: Option<FhirDate>,
}

impl EffectivePeriod {
    /// Whether a day (`YYYY-MM-DD`) falls inside the period.
    pub fn contains(&self, day: &str) -> bool {
        self.start.as_str() <= day && self.end.as_deref().is_none_or(|end| day <= end)
    }

    /// The period as the extension a CodeSystem resource carries.
    pub fn to_extension(&self) -> Json {
        let mut period = json!({"start": self.start});
        if let Some(end) = &self.end {
            period["end"] = json!(end);
        }
        json!({"url": EXT_EFFECTIVE_PERIOD, "valuePeriod": period})
    }

    /// The period a CodeSystem resource declares, if any.
    pub fn of_resource(resource: &Json) -> Option<EffectivePeriod> {
        let period = crate::fhir::extension_value(crate::fhir::extensions_of(Some(resource)), EXT_EFFECTIVE_PERIOD)?;
        let start = day_of(period.get("start")?.as_str()?)?;
        let end = period.get("end").and_then(Json::as_str).and_then(day_of);
        Some(EffectivePeriod { start, end })
    }

    /// A US federal fiscal year (ICD-10-CM, ICD-10-PCS): FY `year` runs from 1 October of the year
    /// before to 30 September.
    pub fn fiscal_year(year: i32) -> EffectivePeriod {
        EffectivePeriod { start: format!("{:04}-10-01", year - 1), end: Some(format!("{year:04}-09-30")) }
    }

    /// A calendar year (HCPCS annual file, CPT): 1 January to 31 December.
    pub fn calendar_year(year: i32) -> EffectivePeriod {
        EffectivePeriod { start: format!("{year:04}-01-01"), end: Some(format!("{year:04}-12-31")) }
    }

    /// The period of an ICD-10-CM or ICD-10-PCS release: `2026` is FY2026, and an April update
    /// (`2026-04`) is in force from 1 April to the end of that fiscal year.
    pub fn of_icd10_version(version: Option<&str>) -> Option<EffectivePeriod> {
        match version?.split_once('-') {
            Some((year, "04")) => {
                let fiscal = EffectivePeriod::of_year_version(Some(year), EffectivePeriod::fiscal_year)?;
                Some(EffectivePeriod { start: format!("{year}-04-01"), end: fiscal.end })
            }
            Some(_) => None,
            None => EffectivePeriod::of_year_version(version, EffectivePeriod::fiscal_year),
        }
    }

    /// The period a release's version names, when it is a four-digit year, by the given rule.
    pub fn of_year_version(version: Option<&str>, rule: fn(i32) -> EffectivePeriod) -> Option<EffectivePeriod> {
        let version = version?;
        (version.len() == 4 && version.bytes().all(|byte| byte.is_ascii_digit())).then(|| rule(version.parse().unwrap_or_default()))
    }
}

/// The day part of a FHIR date or dateTime (`2025`, `2025-03`, `2025-03-01`, `2025-03-01T10:00:00Z`),
/// completed to a whole day (the first of a year or month); `None` when it is not one.
pub fn day_of(text: &str) -> Option<FhirDate> {
    let text = text.trim();
    let date_part = text.split('T').next()?;
    let pieces: Vec<&str> = date_part.split('-').collect();
    let number = |piece: &str, digits: usize| {
        (piece.len() == digits && piece.bytes().all(|byte| byte.is_ascii_digit())).then(|| piece.parse::<u32>().ok()).flatten()
    };
    let year = number(pieces.first()?, 4)?;
    let month = match pieces.get(1) {
        Some(piece) => number(piece, 2).filter(|month| (1..=12).contains(month))?,
        None => 1,
    };
    let day = match pieces.get(2) {
        Some(piece) => number(piece, 2).filter(|day| (1..=days_in_month(year, month)).contains(day))?,
        None => 1,
    };
    if pieces.len() > 3 || (text.contains('T') && pieces.len() != 3) {
        return None;
    }
    Some(format!("{year:04}-{month:02}-{day:02}"))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fiscal_and_calendar_years() {
        let fy2026 = EffectivePeriod::fiscal_year(2026);
        assert_eq!((fy2026.start.as_str(), fy2026.end.as_deref()), ("2025-10-01", Some("2026-09-30")));
        assert!(fy2026.contains("2025-10-01") && fy2026.contains("2026-09-30"));
        assert!(!fy2026.contains("2025-09-30") && !fy2026.contains("2026-10-01"));
        assert_eq!(
            EffectivePeriod::of_year_version(Some("2019"), EffectivePeriod::calendar_year),
            Some(EffectivePeriod::calendar_year(2019))
        );
        assert_eq!(EffectivePeriod::of_year_version(Some("2019-04"), EffectivePeriod::calendar_year), None);
        let april = EffectivePeriod::of_icd10_version(Some("2026-04")).unwrap();
        assert_eq!((april.start.as_str(), april.end.as_deref()), ("2026-04-01", Some("2026-09-30")));
        assert_eq!(EffectivePeriod::of_icd10_version(Some("2026")), Some(fy2026));
    }

    #[test]
    fn the_period_round_trips_through_its_extension() {
        let period = EffectivePeriod::fiscal_year(2025);
        let resource = json!({"resourceType": "CodeSystem", "extension": [period.to_extension()]});
        assert_eq!(EffectivePeriod::of_resource(&resource), Some(period));
    }

    #[test]
    fn days_from_fhir_dates() {
        assert_eq!(day_of("2025-03-01").as_deref(), Some("2025-03-01"));
        assert_eq!(day_of("2025-03").as_deref(), Some("2025-03-01"));
        assert_eq!(day_of("2025").as_deref(), Some("2025-01-01"));
        assert_eq!(day_of("2025-03-01T10:30:00Z").as_deref(), Some("2025-03-01"));
        assert_eq!(day_of("2024-02-29").as_deref(), Some("2024-02-29"));
        for bad in ["2025-02-29", "2025-13-01", "25-03-01", "2025/03/01", "yesterday", "", "2025-03-01-02", "2025T10:00"] {
            assert_eq!(day_of(bad), None, "{bad}");
        }
    }
}
