//! How a LOINC release is laid out as a FHIR CodeSystem: the property codes the LOINC loader
//! writes for answer lists and copyright, which the store's LOINC filters and implicit value sets
//! read back, kept here because neither crate depends on the other.

/// LOINC's canonical URL.
pub const SYSTEM: &str = "http://loinc.org";

/// The implicit value sets: `http://loinc.org/vs` (every code), `…/vs/LL…` (an answer list's
/// answers) and `…/vs/LP…` (the terms under a part in the component hierarchy).
pub const VALUE_SET_BASE: &str = "http://loinc.org/vs";

/// On a term: an answer list (`LL…`) it uses, as a Coding (the official LOINC CodeSystem's code).
pub const ANSWER_LIST: &str = "answer-list";

/// On an answer list: one of its answers (`LA…`), as a Coding, in the list's sequence order.
pub const ANSWER: &str = "Answer";

/// On an answer list: a term (`12345-6`) that uses it, as a Coding.
pub const ANSWERS_FOR: &str = "answers-for";

/// On an answer: an answer list it is in, as a Coding.
pub const IN_ANSWER_LIST: &str = "AnswerList";

/// On a term: the third party's copyright notice (`EXTERNAL_COPYRIGHT_NOTICE` of `Loinc.csv`).
pub const EXTERNAL_COPYRIGHT_NOTICE: &str = "EXTERNAL_COPYRIGHT_NOTICE";

/// The filter `LIST = LL…`: the answers of that list, in sequence order.
pub const LIST_FILTER: &str = "LIST";

/// The filter `answers-for = 12345-6` (the answers of every list the term uses) or `= LL…`.
pub const ANSWERS_FOR_FILTER: &str = "answers-for";

/// The filter `copyright = LOINC` (no third-party notice) or `= 3rdParty`.
pub const COPYRIGHT_FILTER: &str = "copyright";

/// Whether a code is an answer list's (`LL` then digits, a dash and a check digit).
pub fn is_answer_list_code(code: &str) -> bool {
    code.strip_prefix("LL").and_then(|rest| rest.split_once('-')).is_some_and(|(number, check)| {
        !number.is_empty() && number.bytes().all(|byte| byte.is_ascii_digit()) && check.len() == 1 && check.as_bytes()[0].is_ascii_digit()
    })
}
