//! A synthetic SNOMED CT International Edition RF2 Snapshot.
//!
//! The layout and file names are the official ones (`SnomedCT_InternationalRF2_PRODUCTION_
//! {date}T120000Z/Snapshot/Terminology/sct2_Concept_Snapshot_INT_{date}.txt` and so on), with
//! tab-separated columns, a header row and CRLF line ends. At scale 1.0 it has the size of the
//! International Edition:
//! - 535,000 concepts, 30% of them inactive, under the real top-level concepts (404684003
//!   Clinical finding, 71388002 Procedure, 123037004 Body structure, …) and the real metadata
//!   concepts the files refer to (modules, description types, language refsets, …);
//! - about 1.6 million descriptions: for each concept an FSN with its semantic tag, a preferred
//!   synonym and 0 to 3 acceptable ones (words drawn with Zipf frequencies), a British preferred
//!   synonym where the British spelling differs, a few inactive descriptions and text definitions;
//! - the en-US (900000000000509007) and en-GB (900000000000508004) language refsets with preferred
//!   and acceptable members for every active description;
//! - inferred is-a relationships 15 levels deep, 8% of active concepts with two parents, and
//!   attribute relationships in role groups: finding site 363698007 and associated morphology
//!   116676008 on findings, method 260686004 and procedure site 405813007 on procedures, causative
//!   agent 246075003 (ungrouped); an inactive is-a row for every inactive concept;
//! - concrete values (`#250`) for presentation strength 1142135004 on products;
//! - 100 simple refsets of Zipf-falling size, the historical association refsets SAME AS
//!   900000000000527005 and REPLACED BY 900000000000526001 and the concept inactivation indicator
//!   refset for inactive concepts, and the module dependency refset.
//!
//! SCTIDs are valid: item identifier, partition (00 concept, 01 description, 02 relationship) and
//! Verhoeff check digit. [`write`] returns what a test needs to check a load against the
//! generator's own counts.

use crate::words::{british_spelling, capitalised, Vocabulary};
use crate::{scaled, Rng};
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

pub const CORE_MODULE: u64 = 900000000000207008;
pub const MODEL_MODULE: u64 = 900000000000012004;
pub const ROOT: u64 = 138875005;
pub const CLINICAL_FINDING: u64 = 404684003;
pub const BODY_STRUCTURE: u64 = 123037004;
pub const PROCEDURE: u64 = 71388002;
pub const IS_A: u64 = 116680003;
pub const FINDING_SITE: u64 = 363698007;
pub const ASSOCIATED_MORPHOLOGY: u64 = 116676008;
pub const METHOD: u64 = 260686004;
pub const PROCEDURE_SITE_DIRECT: u64 = 405813007;
pub const CAUSATIVE_AGENT: u64 = 246075003;
pub const STRENGTH_NUMERATOR_VALUE: u64 = 1142135004;
pub const US_ENGLISH: u64 = 900000000000509007;
pub const GB_ENGLISH: u64 = 900000000000508004;
pub const SAME_AS: u64 = 900000000000527005;
pub const REPLACED_BY: u64 = 900000000000526001;
const FSN: u64 = 900000000000003001;
const SYNONYM: u64 = 900000000000013009;
const DEFINITION: u64 = 900000000000550004;
const PREFERRED: u64 = 900000000000548007;
const ACCEPTABLE: u64 = 900000000000549004;
const PRIMITIVE: u64 = 900000000000074008;
const DEFINED: u64 = 900000000000073002;
const CASE_INSENSITIVE: u64 = 900000000000448009;
const INFERRED: u64 = 900000000000011006;
const EXISTENTIAL: u64 = 900000000000451002;
const SIMPLE_REFSET_PARENT: u64 = 446609009;
const INACTIVATION_INDICATOR: u64 = 900000000000489007;
const MODULE_DEPENDENCY: u64 = 900000000000534007;
const INACTIVATION_VALUES: &[u64] = &[900000000000482003, 900000000000483008, 900000000000484002, 900000000000485001, 900000000000487009];
const MODEL_COMPONENT: u64 = 900000000000441003;

/// The concepts with their real ids: (id, term, semantic tag, parent).
const FIXED_CONCEPTS: &[(u64, &str, &str, u64)] = &[
    (ROOT, "SNOMED CT Concept", "SNOMED RT+CTV3", 0),
    (CLINICAL_FINDING, "Clinical finding", "finding", ROOT),
    (PROCEDURE, "Procedure", "procedure", ROOT),
    (BODY_STRUCTURE, "Body structure", "body structure", ROOT),
    (410607006, "Organism", "organism", ROOT),
    (105590001, "Substance", "substance", ROOT),
    (373873005, "Pharmaceutical / biologic product", "product", ROOT),
    (362981000, "Qualifier value", "qualifier value", ROOT),
    (363787002, "Observable entity", "observable entity", ROOT),
    (260787004, "Physical object", "physical object", ROOT),
    (243796009, "Situation with explicit context", "situation", ROOT),
    (272379006, "Event", "event", ROOT),
    (48176007, "Social context", "social concept", ROOT),
    (123038009, "Specimen", "specimen", ROOT),
    (254291000, "Staging and scales", "staging scale", ROOT),
    (308916002, "Environment or geographical location", "environment / location", ROOT),
    (78621006, "Physical force", "physical force", ROOT),
    (370115009, "Special concept", "special concept", ROOT),
    (419891008, "Record artifact", "record artifact", ROOT),
    (MODEL_COMPONENT, "SNOMED CT Model Component", "metadata", ROOT),
    (410662002, "Concept model attribute", "attribute", MODEL_COMPONENT),
    (IS_A, "Is a", "attribute", 410662002),
    (FINDING_SITE, "Finding site", "attribute", 410662002),
    (ASSOCIATED_MORPHOLOGY, "Associated morphology", "attribute", 410662002),
    (METHOD, "Method", "attribute", 410662002),
    (PROCEDURE_SITE_DIRECT, "Procedure site - Direct", "attribute", 410662002),
    (CAUSATIVE_AGENT, "Causative agent", "attribute", 410662002),
    (STRENGTH_NUMERATOR_VALUE, "Has presentation strength numerator value", "attribute", 410662002),
    (900000000000454005, "Foundation metadata concept", "foundation metadata concept", MODEL_COMPONENT),
    (900000000000455006, "Reference set", "foundation metadata concept", 900000000000454005),
    (SIMPLE_REFSET_PARENT, "Simple type reference set", "foundation metadata concept", 900000000000455006),
    (900000000000506000, "Language type reference set", "foundation metadata concept", 900000000000455006),
    (US_ENGLISH, "United States of America English language reference set", "foundation metadata concept", 900000000000506000),
    (GB_ENGLISH, "Great Britain English language reference set", "foundation metadata concept", 900000000000506000),
    (900000000000521006, "Association type reference set", "foundation metadata concept", 900000000000455006),
    (900000000000522004, "Historical association reference set", "foundation metadata concept", 900000000000521006),
    (SAME_AS, "SAME AS association reference set", "foundation metadata concept", 900000000000522004),
    (REPLACED_BY, "REPLACED BY association reference set", "foundation metadata concept", 900000000000522004),
    (900000000000480006, "Attribute value type reference set", "foundation metadata concept", 900000000000455006),
    (
        INACTIVATION_INDICATOR,
        "Concept inactivation indicator attribute value reference set",
        "foundation metadata concept",
        900000000000480006,
    ),
    (MODULE_DEPENDENCY, "Module dependency reference set", "foundation metadata concept", 900000000000455006),
    (900000000000443000, "Module", "core metadata concept", MODEL_COMPONENT),
    (CORE_MODULE, "SNOMED CT core module", "core metadata concept", 900000000000443000),
    (MODEL_MODULE, "SNOMED CT model component module", "core metadata concept", 900000000000443000),
    (900000000000446008, "Description type", "core metadata concept", MODEL_COMPONENT),
    (FSN, "Fully specified name", "core metadata concept", 900000000000446008),
    (SYNONYM, "Synonym", "core metadata concept", 900000000000446008),
    (DEFINITION, "Definition", "core metadata concept", 900000000000446008),
    (900000000000511003, "Acceptability", "foundation metadata concept", MODEL_COMPONENT),
    (PREFERRED, "Preferred", "foundation metadata concept", 900000000000511003),
    (ACCEPTABLE, "Acceptable", "foundation metadata concept", 900000000000511003),
    (900000000000444006, "Definition status", "core metadata concept", MODEL_COMPONENT),
    (PRIMITIVE, "Primitive", "core metadata concept", 900000000000444006),
    (DEFINED, "Defined", "core metadata concept", 900000000000444006),
    (900000000000447004, "Case significance", "core metadata concept", MODEL_COMPONENT),
    (CASE_INSENSITIVE, "Entire term case insensitive", "core metadata concept", 900000000000447004),
    (900000000000449001, "Characteristic type", "core metadata concept", MODEL_COMPONENT),
    (INFERRED, "Inferred relationship", "core metadata concept", 900000000000449001),
    (900000000000450001, "Modifier", "core metadata concept", MODEL_COMPONENT),
    (EXISTENTIAL, "Existential restriction modifier", "core metadata concept", 900000000000450001),
    (900000000000481005, "Concept inactivation value", "foundation metadata concept", MODEL_COMPONENT),
    (900000000000482003, "Duplicate", "foundation metadata concept", 900000000000481005),
    (900000000000483008, "Outdated", "foundation metadata concept", 900000000000481005),
    (900000000000484002, "Ambiguous", "foundation metadata concept", 900000000000481005),
    (900000000000485001, "Erroneous", "foundation metadata concept", 900000000000481005),
    (900000000000487009, "Moved elsewhere", "foundation metadata concept", 900000000000481005),
];

/// The hierarchies generated concepts fill: (top concept, semantic tags, share of the concepts).
const HIERARCHIES: &[(u64, &[&str], f64)] = &[
    (CLINICAL_FINDING, &["disorder", "finding", "disorder"], 0.30),
    (PROCEDURE, &["procedure", "regime/therapy"], 0.14),
    (BODY_STRUCTURE, &["body structure", "morphologic abnormality", "body structure"], 0.10),
    (410607006, &["organism"], 0.09),
    (105590001, &["substance"], 0.07),
    (373873005, &["medicinal product", "clinical drug", "medicinal product form"], 0.07),
    (362981000, &["qualifier value"], 0.04),
    (363787002, &["observable entity"], 0.04),
    (260787004, &["physical object"], 0.03),
    (243796009, &["situation"], 0.02),
    (272379006, &["event"], 0.02),
    (48176007, &["social concept", "occupation"], 0.015),
    (123038009, &["specimen"], 0.01),
    (254291000, &["assessment scale", "staging scale"], 0.01),
    (308916002, &["environment", "geographic location"], 0.01),
    (78621006, &["physical force"], 0.002),
    (370115009, &["special concept"], 0.002),
    (419891008, &["record artifact"], 0.002),
    (MODEL_COMPONENT, &["foundation metadata concept"], 0.003),
];
const FINDINGS: usize = 0;
const PROCEDURES: usize = 1;
const BODY_STRUCTURES: usize = 2;
const ORGANISMS: usize = 3;
const PRODUCTS: usize = 5;
const QUALIFIERS: usize = 6;

/// How the active concepts of a hierarchy spread over the levels below its top concept.
const LEVEL_WEIGHTS: [f64; 15] = [1.0, 3.0, 8.0, 20.0, 45.0, 80.0, 110.0, 120.0, 110.0, 90.0, 65.0, 40.0, 22.0, 10.0, 4.0];
const N_SIMPLE_REFSETS: usize = 100;

/// The SNOMED release dates concepts are stamped with: January and July from 2002.
fn release_dates(release_date: &str) -> Vec<String> {
    let mut dates: Vec<String> = (2002..=2025).flat_map(|year| [format!("{year}0131"), format!("{year}0731")]).collect();
    dates.retain(|date| date.as_str() < release_date);
    dates.push(release_date.to_owned());
    dates
}

/// The Verhoeff check digit of a string of digits.
pub fn verhoeff_check_digit(digits: &str) -> u8 {
    const D: [[u8; 10]; 10] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
        [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
        [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
        [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
        [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
        [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
        [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
        [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
        [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    ];
    const P: [[u8; 10]; 8] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
        [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
        [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
        [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
        [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
        [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
        [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
    ];
    const INV: [u8; 10] = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9];
    let mut check = 0u8;
    for (position, digit) in digits.bytes().rev().enumerate() {
        check = D[check as usize][P[(position + 1) % 8][(digit - b'0') as usize] as usize];
    }
    INV[check as usize]
}

/// True when an SCTID's last digit is its Verhoeff check digit.
pub fn is_valid_sctid(id: u64) -> bool {
    let text = id.to_string();
    let (body, check) = text.split_at(text.len() - 1);
    text.len() >= 6 && verhoeff_check_digit(body) == check.as_bytes()[0] - b'0'
}

/// An International SCTID: item identifier, partition (`00` concept, `01` description, `02`
/// relationship) and check digit.
pub fn sctid(item: u64, partition: &str) -> u64 {
    let body = format!("{item}{partition}");
    format!("{body}{}", verhoeff_check_digit(&body)).parse().expect("digits")
}

pub struct Options {
    pub seed: u64,
    pub scale: f64,
    /// `YYYYMMDD`.
    pub release_date: String,
}

impl Default for Options {
    fn default() -> Self {
        Options { seed: 1, scale: 1.0, release_date: "20250101".into() }
    }
}

/// What was written, for tests and the benchmark to check a load against.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The release folder (`SnomedCT_InternationalRF2_PRODUCTION_…`).
    pub root: PathBuf,
    pub n_concepts: usize,
    pub n_active_concepts: usize,
    pub n_descriptions: usize,
    pub n_active_is_a: usize,
    pub n_attribute_relationships: usize,
    pub n_language_members: usize,
    /// Active concepts in generation order, for rotating requests.
    pub active_concepts: Vec<u64>,
    /// (concept, US preferred term) for a spread of active concepts.
    pub preferred_terms: Vec<(u64, String)>,
    /// (concept, its descendants-or-self among active concepts): the top-level concepts and a few
    /// inner concepts of Clinical finding with several levels below them.
    pub descendants_or_self: Vec<(u64, usize)>,
    /// An inactive concept and the concept REPLACED BY names for it.
    pub replaced: Option<(u64, u64)>,
    /// A word in about a fifth of the terms, and a word in very few.
    pub common_word: String,
    pub rare_word: String,
    /// The ids of the simple refsets with their number of members.
    pub simple_refsets: Vec<(u64, usize)>,
}

struct GeneratedConcept {
    id: u64,
    active: bool,
    hierarchy: u8,
    defined: bool,
    effective: u8,
    parents: Vec<u32>,
    term: String,
    tag: &'static str,
}

/// Writes one release into `out` (the release folder is made inside it) and returns its summary.
pub fn write(out: &Path, options: &Options) -> io::Result<Summary> {
    let date = options.release_date.as_str();
    let dates = release_dates(date);
    let rng = Rng::new(options.seed);
    let mut vocabulary_rng = rng.fork(1);
    let vocabulary = Vocabulary::new(&mut vocabulary_rng, scaled(40_000, options.scale, 400));
    let mut word_uses = vec![0u32; vocabulary.words.len()];
    let mut term_rng = rng.fork(2);
    let mut new_term = |n_min: usize, n_max: usize, word_uses: &mut Vec<u32>| -> String {
        let n_words = n_min + term_rng.below(n_max - n_min + 1);
        let mut picked: Vec<usize> = Vec::with_capacity(n_words);
        while picked.len() < n_words {
            let rank = vocabulary.draw(&mut term_rng);
            if !picked.contains(&rank) {
                picked.push(rank);
            }
        }
        for rank in &picked {
            word_uses[*rank] += 1;
        }
        capitalised(&picked.iter().map(|rank| vocabulary.words[*rank].as_str()).collect::<Vec<_>>().join(" "))
    };

    // --- concepts and the is-a graph --------------------------------------------------------------
    let mut concepts: Vec<GeneratedConcept> = Vec::new();
    let mut index_of: HashMap<u64, u32> = HashMap::new();
    for (id, term, tag, parent) in FIXED_CONCEPTS {
        index_of.insert(*id, concepts.len() as u32);
        let parents = if *parent == 0 { vec![] } else { vec![index_of[parent]] };
        let hierarchy = HIERARCHIES.iter().position(|(top, _, _)| top == id).unwrap_or(HIERARCHIES.len() - 1) as u8;
        concepts.push(GeneratedConcept {
            id: *id,
            active: true,
            hierarchy,
            defined: false,
            effective: 0,
            parents,
            term: term.to_string(),
            tag,
        });
    }
    let n_total = scaled(535_000, options.scale, FIXED_CONCEPTS.len() + N_SIMPLE_REFSETS + 200);
    let n_generated = n_total - FIXED_CONCEPTS.len() - N_SIMPLE_REFSETS;
    let share_total: f64 = HIERARCHIES.iter().map(|(_, _, share)| share).sum();
    let mut graph_rng = rng.fork(3);
    let mut next_item: u64 = 10_000_000;
    let mut new_id = |graph_rng: &mut Rng| {
        next_item += 1 + graph_rng.below(3) as u64;
        sctid(next_item, "00")
    };
    // Per hierarchy, its active concepts by level (level 0: the top concept).
    let mut levels_of: Vec<Vec<Vec<u32>>> = Vec::new();
    let mut n_assigned = 0;
    for (hierarchy, (top, tags, share)) in HIERARCHIES.iter().enumerate() {
        let n_here = if hierarchy + 1 == HIERARCHIES.len() {
            n_generated - n_assigned
        } else {
            ((n_generated as f64 * share / share_total).round() as usize).min(n_generated - n_assigned)
        };
        n_assigned += n_here;
        let n_active = (n_here as f64 * 0.7).round() as usize;
        let mut levels: Vec<Vec<u32>> = vec![vec![index_of[top]]];
        let weight_total: f64 = LEVEL_WEIGHTS.iter().sum();
        let mut cumulative = 0.0;
        let mut n_placed = 0;
        for weight in LEVEL_WEIGHTS {
            cumulative += weight;
            let n_through = (n_active as f64 * cumulative / weight_total).round() as usize;
            let n_level = n_through - n_placed;
            n_placed = n_through;
            let parent_level = levels.iter().rposition(|level| !level.is_empty()).expect("level 0 is the top concept");
            let mut level = Vec::with_capacity(n_level);
            for _ in 0..n_level {
                let first_parent = *graph_rng.pick(&levels[parent_level]);
                let mut parents = vec![first_parent];
                if graph_rng.chance(0.08) {
                    let upper_level = levels[..parent_level].iter().rposition(|level| !level.is_empty()).filter(|level| *level >= 1);
                    let other_level = match upper_level {
                        Some(upper_level) if graph_rng.chance(0.3) => upper_level,
                        _ => parent_level,
                    };
                    let other = *graph_rng.pick(&levels[other_level]);
                    if other != first_parent {
                        parents.push(other);
                    }
                }
                level.push(concepts.len() as u32);
                let tag = graph_rng.pick(tags);
                concepts.push(GeneratedConcept {
                    id: new_id(&mut graph_rng),
                    active: true,
                    hierarchy: hierarchy as u8,
                    defined: graph_rng.chance(0.3),
                    effective: graph_rng.below(dates.len()) as u8,
                    parents,
                    term: new_term(1, 5, &mut word_uses),
                    tag,
                });
            }
            levels.push(level);
        }
        for _ in n_active..n_here {
            let tag = graph_rng.pick(tags);
            concepts.push(GeneratedConcept {
                id: new_id(&mut graph_rng),
                active: false,
                hierarchy: hierarchy as u8,
                defined: false,
                effective: graph_rng.below(dates.len()) as u8,
                parents: Vec::new(),
                term: new_term(1, 5, &mut word_uses),
                tag,
            });
        }
        levels_of.push(levels);
    }
    // The simple refsets are metadata concepts too.
    let mut refset_concepts: Vec<u32> = Vec::new();
    for number in 1..=N_SIMPLE_REFSETS {
        refset_concepts.push(concepts.len() as u32);
        let term = format!("{} simple reference set {number}", new_term(1, 2, &mut word_uses));
        concepts.push(GeneratedConcept {
            id: new_id(&mut graph_rng),
            active: true,
            hierarchy: (HIERARCHIES.len() - 1) as u8,
            defined: false,
            effective: (dates.len() - 1) as u8,
            parents: vec![index_of[&SIMPLE_REFSET_PARENT]],
            term,
            tag: "foundation metadata concept",
        });
    }
    let active_in = |hierarchy: usize| -> Vec<u32> { levels_of[hierarchy].iter().skip(1).flatten().copied().collect() };
    let body_structures = active_in(BODY_STRUCTURES);
    let qualifiers = active_in(QUALIFIERS);
    let organisms = active_in(ORGANISMS);

    let root = out.join(format!("SnomedCT_InternationalRF2_PRODUCTION_{date}T120000Z"));
    let terminology = root.join("Snapshot/Terminology");
    let language = root.join("Snapshot/Refset/Language");
    let content = root.join("Snapshot/Refset/Content");
    let metadata = root.join("Snapshot/Refset/Metadata");
    for folder in [&terminology, &language, &content, &metadata] {
        std::fs::create_dir_all(folder)?;
    }
    let open = |folder: &Path, name: String, header: &str| -> io::Result<BufWriter<File>> {
        let mut writer = BufWriter::with_capacity(1 << 20, File::create(folder.join(name))?);
        write!(writer, "{header}\r\n")?;
        Ok(writer)
    };
    let module_of =
        |concept: &GeneratedConcept| if concept.hierarchy as usize == HIERARCHIES.len() - 1 { MODEL_MODULE } else { CORE_MODULE };

    // --- the concept file ---------------------------------------------------------------------------
    let mut concept_file =
        open(&terminology, format!("sct2_Concept_Snapshot_INT_{date}.txt"), "id\teffectiveTime\tactive\tmoduleId\tdefinitionStatusId")?;
    for concept in &concepts {
        let status = if concept.defined { DEFINED } else { PRIMITIVE };
        write!(
            concept_file,
            "{}\t{}\t{}\t{}\t{status}\r\n",
            concept.id,
            dates[concept.effective as usize],
            concept.active as u8,
            module_of(concept)
        )?;
    }
    concept_file.flush()?;

    // --- descriptions, text definitions and the language refset ---------------------------------------
    let mut description_file = open(
        &terminology,
        format!("sct2_Description_Snapshot-en_INT_{date}.txt"),
        "id\teffectiveTime\tactive\tmoduleId\tconceptId\tlanguageCode\ttypeId\tterm\tcaseSignificanceId",
    )?;
    let mut definition_file = open(
        &terminology,
        format!("sct2_TextDefinition_Snapshot-en_INT_{date}.txt"),
        "id\teffectiveTime\tactive\tmoduleId\tconceptId\tlanguageCode\ttypeId\tterm\tcaseSignificanceId",
    )?;
    let mut language_file = open(
        &language,
        format!("der2_cRefset_LanguageSnapshot-en_INT_{date}.txt"),
        "id\teffectiveTime\tactive\tmoduleId\trefsetId\treferencedComponentId\tacceptabilityId",
    )?;
    let mut description_rng = rng.fork(4);
    let mut next_description_item: u64 = 20_000_000;
    let mut n_descriptions = 0;
    let mut n_language_members = 0;
    let mut preferred_terms: Vec<(u64, String)> = Vec::new();
    for (concept_idx, concept) in concepts.iter().enumerate() {
        let module = module_of(concept);
        let effective = &dates[concept.effective as usize];
        // (term, type, active, US acceptability, GB acceptability)
        let mut descriptions: Vec<(String, u64, bool, Option<u64>, Option<u64>)> = Vec::with_capacity(5);
        descriptions.push((format!("{} ({})", concept.term, concept.tag), FSN, true, Some(PREFERRED), Some(PREFERRED)));
        let british = british_spelling(&concept.term);
        if british == concept.term {
            descriptions.push((concept.term.clone(), SYNONYM, true, Some(PREFERRED), Some(PREFERRED)));
        } else {
            descriptions.push((concept.term.clone(), SYNONYM, true, Some(PREFERRED), Some(ACCEPTABLE)));
            descriptions.push((british, SYNONYM, true, Some(ACCEPTABLE), Some(PREFERRED)));
        }
        let roll = description_rng.unit();
        let n_acceptable = if roll < 0.35 {
            0
        } else if roll < 0.75 {
            1
        } else if roll < 0.92 {
            2
        } else {
            3
        };
        for _ in 0..n_acceptable {
            descriptions.push((new_term(1, 4, &mut word_uses), SYNONYM, true, Some(ACCEPTABLE), Some(ACCEPTABLE)));
        }
        if description_rng.chance(0.05) {
            descriptions.push((new_term(2, 4, &mut word_uses), SYNONYM, false, None, None));
        }
        if concept.active && concept_idx % 97 == 0 {
            preferred_terms.push((concept.id, concept.term.clone()));
        }
        for (term, type_id, active, us, gb) in descriptions {
            next_description_item += 1 + description_rng.below(2) as u64;
            let description_id = sctid(next_description_item, "01");
            write!(
                description_file,
                "{description_id}\t{effective}\t{}\t{module}\t{}\ten\t{type_id}\t{term}\t{CASE_INSENSITIVE}\r\n",
                active as u8, concept.id
            )?;
            n_descriptions += 1;
            for (refset, acceptability) in [(US_ENGLISH, us), (GB_ENGLISH, gb)] {
                if let Some(acceptability) = acceptability {
                    write!(
                        language_file,
                        "{}\t{effective}\t1\t{module}\t{refset}\t{description_id}\t{acceptability}\r\n",
                        description_rng.uuid()
                    )?;
                    n_language_members += 1;
                }
            }
        }
        if concept.active && description_rng.chance(0.02) {
            next_description_item += 1;
            let definition = format!("{} that is {}", concept.term, new_term(3, 8, &mut word_uses).to_lowercase());
            write!(
                definition_file,
                "{}\t{effective}\t1\t{module}\t{}\ten\t{DEFINITION}\t{definition}\t{CASE_INSENSITIVE}\r\n",
                sctid(next_description_item, "01"),
                concept.id
            )?;
        }
    }
    for writer in [&mut description_file, &mut definition_file, &mut language_file] {
        writer.flush()?;
    }

    // --- relationships and concrete values ------------------------------------------------------------
    let mut relationship_file = open(
        &terminology,
        format!("sct2_Relationship_Snapshot_INT_{date}.txt"),
        "id\teffectiveTime\tactive\tmoduleId\tsourceId\tdestinationId\trelationshipGroup\ttypeId\tcharacteristicTypeId\tmodifierId",
    )?;
    let mut concrete_file = open(
        &terminology,
        format!("sct2_RelationshipConcreteValues_Snapshot_INT_{date}.txt"),
        "id\teffectiveTime\tactive\tmoduleId\tsourceId\tvalue\trelationshipGroup\ttypeId\tcharacteristicTypeId\tmodifierId",
    )?;
    let mut relationship_rng = rng.fork(5);
    let mut next_relationship_item: u64 = 30_000_000;
    let mut n_active_is_a = 0;
    let mut n_attribute_relationships = 0;
    for concept in &concepts {
        let module = module_of(concept);
        let effective = &dates[concept.effective as usize];
        let mut rows: Vec<(u64, u64, u8, bool)> = Vec::new(); // (type, destination, group, active)
        for parent in &concept.parents {
            rows.push((IS_A, concepts[*parent as usize].id, 0, true));
        }
        if !concept.active {
            // The is-a row it had while active.
            let top = concepts[index_of[&HIERARCHIES[concept.hierarchy as usize].0] as usize].id;
            rows.push((IS_A, top, 0, false));
        }
        let hierarchy = concept.hierarchy as usize;
        let draw = |pool: &[u32], rng: &mut Rng| concepts[*rng.pick(pool) as usize].id;
        if concept.active && concept.parents.iter().all(|parent| concepts[*parent as usize].hierarchy as usize == hierarchy) {
            if hierarchy == FINDINGS && !body_structures.is_empty() {
                if relationship_rng.chance(0.7) {
                    rows.push((FINDING_SITE, draw(&body_structures, &mut relationship_rng), 1, true));
                    rows.push((ASSOCIATED_MORPHOLOGY, draw(&body_structures, &mut relationship_rng), 1, true));
                    if relationship_rng.chance(0.2) {
                        rows.push((FINDING_SITE, draw(&body_structures, &mut relationship_rng), 2, true));
                    }
                }
                if !organisms.is_empty() && relationship_rng.chance(0.1) {
                    rows.push((CAUSATIVE_AGENT, draw(&organisms, &mut relationship_rng), 0, true));
                }
            } else if hierarchy == PROCEDURES && !body_structures.is_empty() && !qualifiers.is_empty() && relationship_rng.chance(0.6) {
                rows.push((METHOD, draw(&qualifiers, &mut relationship_rng), 1, true));
                rows.push((PROCEDURE_SITE_DIRECT, draw(&body_structures, &mut relationship_rng), 1, true));
            } else if hierarchy == PRODUCTS && relationship_rng.chance(0.4) {
                next_relationship_item += 1;
                let value = *relationship_rng.pick(&["#250", "#500", "#0.5", "#10", "#1000", "#2.5"]);
                write!(
                    concrete_file,
                    "{}\t{effective}\t1\t{module}\t{}\t{value}\t1\t{STRENGTH_NUMERATOR_VALUE}\t{INFERRED}\t{EXISTENTIAL}\r\n",
                    sctid(next_relationship_item, "02"),
                    concept.id
                )?;
            }
        }
        for (type_id, destination, group, active) in rows {
            next_relationship_item += 1 + relationship_rng.below(2) as u64;
            write!(
                relationship_file,
                "{}\t{effective}\t{}\t{module}\t{}\t{destination}\t{group}\t{type_id}\t{INFERRED}\t{EXISTENTIAL}\r\n",
                sctid(next_relationship_item, "02"),
                active as u8,
                concept.id
            )?;
            match (type_id == IS_A, active) {
                (true, true) => n_active_is_a += 1,
                (false, true) => n_attribute_relationships += 1,
                _ => {}
            }
        }
    }
    relationship_file.flush()?;
    concrete_file.flush()?;

    // --- refsets ---------------------------------------------------------------------------------
    let release_effective = date;
    let active_concepts: Vec<u32> = (0..concepts.len() as u32).filter(|idx| concepts[*idx as usize].active).collect();
    let mut refset_rng = rng.fork(6);
    let mut simple_file = open(
        &content,
        format!("der2_Refset_SimpleSnapshot_INT_{date}.txt"),
        "id\teffectiveTime\tactive\tmoduleId\trefsetId\treferencedComponentId",
    )?;
    let mut simple_refsets = Vec::new();
    for (number, refset_idx) in refset_concepts.iter().enumerate() {
        let refset_id = concepts[*refset_idx as usize].id;
        let size = ((active_concepts.len() as f64 * 0.05 / (number + 1) as f64) as usize).max(3).min(active_concepts.len());
        let mut members: HashSet<u32> = HashSet::with_capacity(size);
        while members.len() < size {
            members.insert(*refset_rng.pick(&active_concepts));
        }
        let mut members: Vec<u32> = members.into_iter().collect();
        members.sort_unstable();
        for member in &members {
            write!(
                simple_file,
                "{}\t{release_effective}\t1\t{CORE_MODULE}\t{refset_id}\t{}\r\n",
                refset_rng.uuid(),
                concepts[*member as usize].id
            )?;
        }
        simple_refsets.push((refset_id, members.len()));
    }
    simple_file.flush()?;

    let mut association_file = open(
        &content,
        format!("der2_cRefset_AssociationSnapshot_INT_{date}.txt"),
        "id\teffectiveTime\tactive\tmoduleId\trefsetId\treferencedComponentId\ttargetComponentId",
    )?;
    let mut indicator_file = open(
        &content,
        format!("der2_cRefset_AttributeValueSnapshot_INT_{date}.txt"),
        "id\teffectiveTime\tactive\tmoduleId\trefsetId\treferencedComponentId\tvalueId",
    )?;
    let mut replaced = None;
    for concept in concepts.iter().filter(|concept| !concept.active) {
        let effective = &dates[concept.effective as usize];
        let pool = &levels_of[concept.hierarchy as usize];
        let targets: Vec<u32> = pool.iter().flatten().copied().collect();
        let roll = refset_rng.unit();
        let (association, indicator) = if roll < 0.5 {
            (Some(REPLACED_BY), 900000000000483008)
        } else if roll < 0.8 {
            (Some(SAME_AS), 900000000000482003)
        } else {
            (None, *refset_rng.pick(INACTIVATION_VALUES))
        };
        if let Some(association) = association {
            let target = concepts[*refset_rng.pick(&targets) as usize].id;
            if association == REPLACED_BY && replaced.is_none() {
                replaced = Some((concept.id, target));
            }
            write!(association_file, "{}\t{effective}\t1\t{CORE_MODULE}\t{association}\t{}\t{target}\r\n", refset_rng.uuid(), concept.id)?;
        }
        write!(
            indicator_file,
            "{}\t{effective}\t1\t{CORE_MODULE}\t{INACTIVATION_INDICATOR}\t{}\t{indicator}\r\n",
            refset_rng.uuid(),
            concept.id
        )?;
    }
    association_file.flush()?;
    indicator_file.flush()?;

    let mut dependency_file = open(
        &metadata,
        format!("der2_ssRefset_ModuleDependencySnapshot_INT_{date}.txt"),
        "id\teffectiveTime\tactive\tmoduleId\trefsetId\treferencedComponentId\tsourceEffectiveTime\ttargetEffectiveTime",
    )?;
    for (module, depends_on) in [(CORE_MODULE, MODEL_MODULE)] {
        write!(dependency_file, "{}\t{date}\t1\t{module}\t{MODULE_DEPENDENCY}\t{depends_on}\t{date}\t{date}\r\n", refset_rng.uuid())?;
    }
    dependency_file.flush()?;

    // --- the summary ------------------------------------------------------------------------------
    let mut children: Vec<Vec<u32>> = vec![Vec::new(); concepts.len()];
    for (idx, concept) in concepts.iter().enumerate() {
        for parent in &concept.parents {
            children[*parent as usize].push(idx as u32);
        }
    }
    let descendants_or_self = |start: u32| {
        let mut seen: HashSet<u32> = HashSet::from([start]);
        let mut stack = vec![start];
        while let Some(idx) = stack.pop() {
            for child in &children[idx as usize] {
                if seen.insert(*child) {
                    stack.push(*child);
                }
            }
        }
        seen.len()
    };
    let mut counted: Vec<u32> = HIERARCHIES.iter().map(|(top, _, _)| index_of[top]).collect();
    counted.push(index_of[&ROOT]);
    for level in levels_of[FINDINGS].iter().skip(2).take(3) {
        if let Some(inner) = level.iter().find(|idx| !children[**idx as usize].is_empty()) {
            counted.push(*inner);
        }
    }
    let descendants_or_self = counted.into_iter().map(|idx| (concepts[idx as usize].id, descendants_or_self(idx))).collect();
    let n_terms = n_descriptions.max(1) as f64;
    let common_word = (0..vocabulary.words.len())
        .filter(|rank| vocabulary.words[*rank].len() >= 6)
        .find(|rank| (word_uses[*rank] as f64) < n_terms * 0.2)
        .map(|rank| vocabulary.words[rank].clone())
        .unwrap_or_default();
    let rare_word = (0..vocabulary.words.len())
        .rev()
        .find(|rank| (1..=3).contains(&word_uses[*rank]))
        .map(|rank| vocabulary.words[rank].clone())
        .unwrap_or_default();
    Ok(Summary {
        root,
        n_concepts: concepts.len(),
        n_active_concepts: active_concepts.len(),
        n_descriptions,
        n_active_is_a,
        n_attribute_relationships,
        n_language_members,
        active_concepts: active_concepts.iter().map(|idx| concepts[*idx as usize].id).collect(),
        preferred_terms,
        descendants_or_self,
        replaced,
        common_word,
        rare_word,
        simple_refsets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sctids_have_verhoeff_check_digits_and_partitions() {
        for (id, ..) in FIXED_CONCEPTS {
            assert!(is_valid_sctid(*id), "{id}");
        }
        assert_eq!(sctid(404684, "00"), 404684003);
        assert_eq!(sctid(138875, "00"), 138875005);
        assert!(!is_valid_sctid(404684004));
        let description = sctid(20_000_001, "01");
        assert!(is_valid_sctid(description) && description.to_string()[8..10] == *"01");
    }

    #[test]
    fn a_small_release_is_deterministic_and_shaped_like_the_real_one() {
        let folder = std::env::temp_dir().join(format!("synth-snomed-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        let options = Options { seed: 42, scale: 0.004, ..Options::default() };
        let first = write(&folder.join("a"), &options).unwrap();
        let second = write(&folder.join("b"), &options).unwrap();
        let concept_file = "Snapshot/Terminology/sct2_Concept_Snapshot_INT_20250101.txt";
        let relationship_file = "Snapshot/Terminology/sct2_Relationship_Snapshot_INT_20250101.txt";
        for file in [concept_file, relationship_file, "Snapshot/Refset/Language/der2_cRefset_LanguageSnapshot-en_INT_20250101.txt"] {
            assert_eq!(std::fs::read(first.root.join(file)).unwrap(), std::fs::read(second.root.join(file)).unwrap(), "{file}");
        }
        assert_eq!(first.n_concepts, 2140);
        let share_inactive = 1.0 - first.n_active_concepts as f64 / first.n_concepts as f64;
        assert!((0.25..0.32).contains(&share_inactive), "{share_inactive}");
        let per_concept = first.n_descriptions as f64 / first.n_concepts as f64;
        assert!((2.6..3.4).contains(&per_concept), "{per_concept}");
        let concepts = std::fs::read_to_string(first.root.join(concept_file)).unwrap();
        let ids: Vec<u64> = concepts.lines().skip(1).map(|line| line.split('\t').next().unwrap().parse().unwrap()).collect();
        assert!(ids.iter().all(|id| is_valid_sctid(*id) && id.to_string().ends_with(&format!("0{}", id % 10))));
        assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len());
        let finding = first.descendants_or_self.iter().find(|(id, _)| *id == CLINICAL_FINDING).unwrap().1;
        assert!(finding > 100 && finding < first.n_active_concepts / 2, "{finding}");
        assert_eq!(first.simple_refsets.len(), 100);
        std::fs::remove_dir_all(&folder).unwrap();
    }
}
