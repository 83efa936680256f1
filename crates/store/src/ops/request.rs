//! One operation call as the store receives it: its parameters and the limits and refusals that
//! come with the caller (size guard, deadline, denied code systems).

use model::fhir::{array_of, str_of, Json, Parameters};
use model::terminology::{Code, SystemUrl, Version};

/// The default size guard for `$expand`: larger unbounded expansions answer `too-costly`.
pub const TOO_COSTLY_DEFAULT: usize = 10_000;

/// How deeply value sets may import value sets: deeper chains answer `too-costly`.
pub const MAX_IMPORT_DEPTH: usize = 64;

/// A code system this caller may not use (licensed content without the scope), and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeniedSystem {
    /// The system's canonical URL (its OID alias is denied with it).
    pub url: String,
    /// What the caller is told, for example the scope that would unlock it.
    pub message: String,
}

/// One operation call.
#[derive(Clone, Debug, Default)]
pub struct OpRequest {
    pub params: Parameters,
    /// The resource id for instance-level calls (`/ValueSet/{id}/$expand`).
    pub instance_id: Option<String>,
    /// The HTTP `Accept-Language` header, when sent.
    pub accept_language: Option<String>,
    /// The expansion size guard for this call.
    pub too_costly_threshold: Option<usize>,
    /// The code systems this call may not touch, however it reaches them: directly, by OID,
    /// through implicit, stored, inline or imported value sets, `tx-resource`, or a ConceptMap.
    pub denied_systems: Vec<DeniedSystem>,
    /// When the call must give up and answer `too-costly`.
    pub deadline: Option<std::time::Instant>,
}

/// Which `$validate-code` is asked: against a code system, or against a value set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValidateTarget {
    CodeSystem,
    ValueSet,
}

/// How the codes arrived, which decides the expression paths in issues.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputShape {
    Code,
    Coding,
    CodeableConcept,
}

/// One coding to check or look up, as the caller gave it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coding {
    pub system: Option<SystemUrl>,
    pub version: Option<Version>,
    pub code: Code,
    pub display: Option<String>,
}

impl Coding {
    fn from_json(value: &Json) -> Coding {
        Coding {
            system: str_of(value, "system").map(SystemUrl::from),
            version: str_of(value, "version").map(Version::from),
            code: Code::from(str_of(value, "code").unwrap_or_default()),
            display: str_of(value, "display").map(str::to_owned),
        }
    }
}

/// The codes a `$validate-code` checks, read once from its parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct CodedInput {
    pub shape: InputShape,
    pub codings: Vec<Coding>,
    /// The CodeableConcept as sent, echoed in the answer.
    pub codeable_concept: Option<Json>,
    /// For a CodeSystem `$validate-code` by `code`: the `system` parameter, used when neither
    /// `url` nor the instance names the code system.
    pub fallback_system: Option<SystemUrl>,
}

/// A typed `$validate-code` call: the codes parsed once, and the call they came with (whose
/// parameters still carry what every operation reads: `tx-resource`, `date`, languages,
/// version rules, the value set's `url`).
#[derive(Clone, Debug)]
pub struct ValidateCodeRequest {
    pub target: ValidateTarget,
    /// `None` when no `coding`, `codeableConcept` or `code` was sent: the operation says so,
    /// after it has judged what comes first (the value set, the date, licences).
    pub input: Option<CodedInput>,
    pub call: OpRequest,
}

impl ValidateCodeRequest {
    /// Reads the codes from the call's parameters: `codeableConcept`, else `coding`, else `code`
    /// with `url` (CodeSystem) or `system` (ValueSet), `version`/`systemVersion` and `display`.
    pub fn new(target: ValidateTarget, call: OpRequest) -> ValidateCodeRequest {
        let input = CodedInput::parse(&call.params, target);
        ValidateCodeRequest { target, input, call }
    }
}

impl CodedInput {
    /// Reads the codes of a `$validate-code` from its parameters; `None` when none was sent.
    pub fn parse(params: &Parameters, target: ValidateTarget) -> Option<CodedInput> {
        let system_param = match target {
            ValidateTarget::CodeSystem => "url",
            ValidateTarget::ValueSet => "system",
        };
        coded_input(params, system_param, target)
    }
}

fn coded_input(params: &Parameters, system_param: &str, target: ValidateTarget) -> Option<CodedInput> {
    if let Some(concept) = params.complex("codeableConcept", "valueCodeableConcept") {
        let codings = array_of(concept, "coding").iter().map(Coding::from_json).collect();
        return Some(CodedInput {
            shape: InputShape::CodeableConcept,
            codings,
            codeable_concept: Some(concept.clone()),
            fallback_system: None,
        });
    }
    if let Some(coding) = params.complex("coding", "valueCoding") {
        return Some(CodedInput {
            shape: InputShape::Coding,
            codings: vec![Coding::from_json(coding)],
            codeable_concept: None,
            fallback_system: None,
        });
    }
    let code = params.str("code")?;
    // `url|version` is a canonical: the version travels with the system.
    let (system, canonical_version) = match params.str(system_param) {
        Some(text) => match text.split_once('|') {
            Some((url, version)) => (Some(url.to_owned()), Some(version.to_owned())),
            None => (Some(text), None),
        },
        None => (None, None),
    };
    Some(CodedInput {
        shape: InputShape::Code,
        codings: vec![Coding {
            system: system.map(SystemUrl::from),
            version: params.str("systemVersion").or_else(|| params.str("version")).or(canonical_version).map(Version::from),
            code: Code::from(code),
            display: params.str("display"),
        }],
        codeable_concept: None,
        fallback_system: if target == ValidateTarget::CodeSystem { params.str("system").map(SystemUrl::from) } else { None },
    })
}

/// A typed `$batch-validate-code` call: each `validation` entry read once into a typed
/// `$validate-code` of a value set, with the parameters the entries share filled in.
#[derive(Clone, Debug)]
pub struct BatchValidateRequest {
    pub entries: Vec<ValidateCodeRequest>,
    pub call: OpRequest,
}

impl BatchValidateRequest {
    pub fn new(call: OpRequest) -> BatchValidateRequest {
        BatchValidateRequest { entries: BatchValidateRequest::entries_of(&call), call }
    }

    /// Each validation is a Parameters resource (or, leniently, parts); the parameters outside
    /// the validations fill in what an entry lacks, and its `tx-resource`s always join it.
    pub(crate) fn entries_of(call: &OpRequest) -> Vec<ValidateCodeRequest> {
        // The parameters every validation shares, gathered once: each entry then costs its own size.
        let shared: Vec<&Json> = call.params.entries.iter().filter(|shared| str_of(shared, "name") != Some("validation")).collect();
        let mut entries = Vec::new();
        for entry in call.params.all("validation") {
            let own = match entry.get("resource") {
                Some(resource) => array_of(resource, "parameter").to_vec(),
                None => array_of(entry, "part").to_vec(),
            };
            let own_names: std::collections::HashSet<String> =
                own.iter().filter_map(|parameter| str_of(parameter, "name")).map(str::to_owned).collect();
            let mut inner = Parameters::from_entries(own);
            for shared in &shared {
                let name = str_of(shared, "name").unwrap_or_default();
                if !own_names.contains(name) || name == "tx-resource" {
                    inner.entries.push((*shared).clone());
                }
            }
            inner.pairs = call.params.pairs.iter().filter(|(name, _)| !own_names.contains(name)).cloned().collect();
            let entry_call = OpRequest {
                params: inner,
                instance_id: call.instance_id.clone(),
                accept_language: call.accept_language.clone(),
                too_costly_threshold: call.too_costly_threshold,
                denied_systems: call.denied_systems.clone(),
                deadline: call.deadline,
            };
            entries.push(ValidateCodeRequest::new(ValidateTarget::ValueSet, entry_call));
        }
        entries
    }
}

/// What a `$translate` asks, read once from its R4 or R5 parameter names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TranslateQuery {
    /// The system the code is from (for a reverse translation, the target system asked about).
    pub system: Option<String>,
    /// The code to translate; `None` when none was sent.
    pub code: Option<String>,
    /// Whether to translate from target to source (`reverse`, or only `targetCode` given).
    pub reverse: bool,
    /// The system to translate into (`targetsystem`, `targetSystem`), forward only.
    pub target_system: Option<String>,
    /// The ConceptMap to use (`url`, `conceptMap`); every map when absent.
    pub map_url: Option<String>,
}

/// A typed `$translate` call.
#[derive(Clone, Debug)]
pub struct TranslateRequest {
    pub query: TranslateQuery,
    pub call: OpRequest,
}

impl TranslateRequest {
    pub fn new(call: OpRequest) -> TranslateRequest {
        TranslateRequest { query: TranslateRequest::query_of(&call.params), call }
    }

    /// Reads `coding`/`sourceCoding`, `system`/`sourceSystem` and `code`/`sourceCode`, or for a
    /// reverse translation `targetSystem` and `targetCode`.
    pub(crate) fn query_of(params: &Parameters) -> TranslateQuery {
        let (system, code) = match params.complex("coding", "valueCoding").or_else(|| params.complex("sourceCoding", "valueCoding")) {
            Some(coding) => (str_of(coding, "system").map(str::to_owned), str_of(coding, "code").map(str::to_owned)),
            None => (params.str("system").or_else(|| params.str("sourceSystem")), params.str("code").or_else(|| params.str("sourceCode"))),
        };
        let reverse = params.bool("reverse").unwrap_or(false) || (params.has("targetCode") && code.is_none());
        let (system, code) =
            if reverse && code.is_none() { (params.str("targetSystem").or(system), params.str("targetCode")) } else { (system, code) };
        let target_system = if reverse { None } else { params.str("targetsystem").or_else(|| params.str("targetSystem")) };
        let map_url = params.str("url").or_else(|| params.str("conceptMap"));
        TranslateQuery { system, code, reverse, target_system, map_url }
    }
}

/// A typed `$lookup` call (and one side of `$subsumes`): the code and where to find it.
#[derive(Clone, Debug)]
pub struct LookupRequest {
    /// The system, version and code, from `coding` or from `system`/`version`/`code`; the
    /// version of a `system|version` canonical travels with it. `code` is empty when none was sent.
    pub coding: Coding,
    /// Whether a code was sent at all.
    pub has_code: bool,
    /// The `property` parameters: which properties to answer (all when empty, `*` for all).
    pub properties: Vec<String>,
    pub call: OpRequest,
}

impl LookupRequest {
    pub fn new(call: OpRequest) -> LookupRequest {
        let (coding, has_code) = named_code(&call.params, "code", "coding");
        let properties = call.params.strs("property");
        LookupRequest { coding, has_code, properties, call }
    }
}

/// A typed `$expand` call: its own parameters, read once. Which value set, and the languages its
/// displays are shown in, are worked out against the call's content.
#[derive(Clone, Debug)]
pub struct ExpandRequest {
    /// The parameters, or why they cannot be read (answered once the value set is found, so a
    /// call naming an unknown value set hears that first).
    pub parameters: Result<ExpandParameters, crate::StoreError>,
    pub call: OpRequest,
}

/// What `$expand` reads from its parameters.
#[derive(Clone, Debug, Default)]
pub struct ExpandParameters {
    pub active_only: bool,
    /// The text `filter`, when it holds more than spaces.
    pub filter: Option<String>,
    pub offset: usize,
    pub count: Option<usize>,
    pub include_designations: bool,
    pub include_definition: bool,
    pub exclude_nested: bool,
    /// The `property` codes each entry is to show.
    pub properties: Vec<String>,
    /// The `designation` parameters: which designations entries show.
    pub designation_filters: Vec<String>,
}

impl ExpandRequest {
    pub fn new(call: OpRequest) -> ExpandRequest {
        ExpandRequest { parameters: ExpandParameters::parse(&call.params), call }
    }
}

impl ExpandParameters {
    pub fn parse(params: &Parameters) -> Result<ExpandParameters, crate::StoreError> {
        Ok(ExpandParameters {
            active_only: params.bool("activeOnly").unwrap_or(false),
            filter: params.str("filter").filter(|filter| !filter.trim().is_empty()),
            offset: non_negative_parameter(params, "offset")?.unwrap_or(0),
            count: non_negative_parameter(params, "count")?,
            include_designations: params.bool("includeDesignations").unwrap_or(false),
            include_definition: params.bool("includeDefinition").unwrap_or(false),
            exclude_nested: params.bool("excludeNested").unwrap_or(false),
            properties: params.strs("property"),
            designation_filters: params.strs("designation"),
        })
    }
}

/// A paging parameter: absent, or a whole number of zero or more; anything else is refused.
fn non_negative_parameter(params: &Parameters, name: &str) -> Result<Option<usize>, crate::StoreError> {
    let Some(text) = params.str(name) else { return Ok(None) };
    match text.trim().parse::<usize>() {
        Ok(value) => Ok(Some(value)),
        Err(_) => Err(crate::StoreError::with_issue(
            crate::StoreErrorKind::Invalid,
            model::fhir::Issue::error("invalid", format!("The parameter '{name}' must be a whole number of zero or more, not '{text}'"))
                .at(name),
        )),
    }
}

/// A typed `$subsumes` call: codes A and B, each by `codeX` with `system`/`version` or by `codingX`.
#[derive(Clone, Debug)]
pub struct SubsumesRequest {
    pub coding_a: Coding,
    pub has_code_a: bool,
    pub coding_b: Coding,
    pub has_code_b: bool,
    pub call: OpRequest,
}

impl SubsumesRequest {
    pub fn new(call: OpRequest) -> SubsumesRequest {
        let SubsumesRequest { coding_a, has_code_a, coding_b, has_code_b, .. } = SubsumesRequest::codes_of(&call.params);
        SubsumesRequest { coding_a, has_code_a, coding_b, has_code_b, call }
    }

    /// The two codes of a call's parameters, with no call attached.
    pub(crate) fn codes_of(params: &Parameters) -> SubsumesRequest {
        let (coding_a, has_code_a) = named_code(params, "codeA", "codingA");
        let (coding_b, has_code_b) = named_code(params, "codeB", "codingB");
        SubsumesRequest { coding_a, has_code_a, coding_b, has_code_b, call: OpRequest::default() }
    }
}

/// The code a call names, by `{coding_name}` or by `system`/`version`/`{code_name}`.
pub(crate) fn named_code(params: &Parameters, code_name: &str, coding_name: &str) -> (Coding, bool) {
    let (system, version, code) = match params.complex(coding_name, "valueCoding") {
        Some(coding) => (
            str_of(coding, "system").map(str::to_owned),
            str_of(coding, "version").map(str::to_owned),
            str_of(coding, "code").map(str::to_owned),
        ),
        None => (params.str("system"), params.str("version"), params.str(code_name)),
    };
    // `url|version` is a canonical: the version travels with the system.
    let (system, version) = match system.as_deref().and_then(|text| text.split_once('|')) {
        Some((url, pinned)) => (Some(url.to_owned()), version.or_else(|| Some(pinned.to_owned()))),
        None => (system, version),
    };
    let has_code = code.is_some();
    let coding = Coding {
        system: system.map(SystemUrl::from),
        version: version.map(Version::from),
        code: Code::from(code.unwrap_or_default()),
        display: None,
    };
    (coding, has_code)
}
