//! How a SNOMED CT release is laid out as a FHIR CodeSystem: the facts the RF2 loader writes and
//! the store's ECL index reads back, kept here because neither crate depends on the other.

/// Whether a text has the form of an SCTID: 6 to 18 digits without a leading zero. An attribute
/// property's code is an SCTID (the relationship's typeId); `parent`, `refset`, the role-group
/// marker and the associations are not.
pub fn is_sctid(text: &str) -> bool {
    (6..=18).contains(&text.len()) && !text.starts_with('0') && text.bytes().all(|byte| byte.is_ascii_digit())
}

/// The property that opens a role group: the attribute properties after it, up to the next
/// property that is not an attribute, belong to the group its `valueInteger` names.
pub const ROLE_GROUP_PROPERTY: &str = "roleGroup";

/// The historical association refsets and the property each becomes, as (refsetId, code).
pub const ASSOCIATIONS: &[(&str, &str)] = &[
    ("900000000000527005", "sameAs"),
    ("900000000000526001", "replacedBy"),
    ("900000000000528000", "wasA"),
    ("900000000000523009", "possiblyEquivalentTo"),
    ("1186921001", "partiallyEquivalentTo"),
    ("900000000000524003", "movedTo"),
    ("900000000000525002", "movedFrom"),
    ("900000000000530003", "alternative"),
    ("900000000000531004", "refersTo"),
    ("1186924009", "possiblyReplacedBy"),
];

/// The property code of an association refset: its name when known, else `association-{refsetId}`.
pub fn association_property(refset_id: &str) -> String {
    ASSOCIATIONS
        .iter()
        .find(|(id, _)| *id == refset_id)
        .map(|(_, code)| (*code).to_owned())
        .unwrap_or_else(|| format!("association-{refset_id}"))
}

/// The association refset a property code stands for, the inverse of [`association_property`].
pub fn association_refset(code: &str) -> Option<&str> {
    ASSOCIATIONS.iter().find(|(_, known)| *known == code).map(|(id, _)| *id).or_else(|| code.strip_prefix("association-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn association_codes_go_both_ways() {
        assert_eq!(association_property("900000000000526001"), "replacedBy");
        assert_eq!(association_refset("replacedBy"), Some("900000000000526001"));
        assert_eq!(association_property("123456001"), "association-123456001");
        assert_eq!(association_refset("association-123456001"), Some("123456001"));
        assert_eq!(association_refset("parent"), None);
        assert!(is_sctid("363698007"));
        assert!(!is_sctid("12345") && !is_sctid("0363698007") && !is_sctid("roleGroup"));
    }
}
