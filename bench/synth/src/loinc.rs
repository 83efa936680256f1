//! A synthetic LOINC release in the layout of the Regenstrief 2.7x releases (`Loinc_2.77/…`).
//!
//! At scale 1.0 it has 105,000 terms. It writes:
//! - `LoincTable/Loinc.csv` with the real 40 columns of 2.77, every field quoted, CRLF line ends:
//!   the six axes drawn from real-looking values, components made of Zipf-drawn words, `CLASS` and
//!   `CLASSTYPE`, `STATUS` (85% ACTIVE, 7% DEPRECATED, 5% DISCOURAGED, 3% TRIAL),
//!   `VersionFirstReleased` ≤ `VersionLastChanged` ≤ the release, names and related names;
//! - `AccessoryFiles/PartFile/Part.csv` (a part for every axis value) and
//!   `LoincPartLink_Primary.csv` (each term's primary parts);
//! - `AccessoryFiles/ComponentHierarchyBySystem/ComponentHierarchyBySystem.csv`: a root, the
//!   classes, the components under their class (5% of them under a second class too) and the
//!   terms under their component;
//! - `AccessoryFiles/AnswerFile/AnswerList.csv` and `LoincAnswerListLink.csv`: answer lists of 2
//!   to 8 answers (`LL…`/`LA…` codes) linked to 40% of the ordinal and nominal terms.
//!
//! Codes carry valid mod-10 check digits.

use crate::words::{capitalised, Vocabulary};
use crate::{scaled, Rng};
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

const COLUMNS: &[&str] = &[
    "LOINC_NUM",
    "COMPONENT",
    "PROPERTY",
    "TIME_ASPCT",
    "SYSTEM",
    "SCALE_TYP",
    "METHOD_TYP",
    "CLASS",
    "VersionLastChanged",
    "CHNG_TYPE",
    "DefinitionDescription",
    "STATUS",
    "CONSUMER_NAME",
    "CLASSTYPE",
    "FORMULA",
    "EXMPL_ANSWERS",
    "SURVEY_QUEST_TEXT",
    "SURVEY_QUEST_SRC",
    "UNITSREQUIRED",
    "RELATEDNAMES2",
    "SHORTNAME",
    "ORDER_OBS",
    "HL7_FIELD_SUBFIELD_ID",
    "EXTERNAL_COPYRIGHT_NOTICE",
    "EXAMPLE_UNITS",
    "LONG_COMMON_NAME",
    "EXAMPLE_UCUM_UNITS",
    "STATUS_REASON",
    "STATUS_TEXT",
    "CHANGE_REASON_PUBLIC",
    "COMMON_TEST_RANK",
    "COMMON_ORDER_RANK",
    "HL7_ATTACHMENT_STRUCTURE",
    "EXTERNAL_COPYRIGHT_LINK",
    "PanelType",
    "AskAtOrderEntry",
    "AssociatedObservations",
    "VersionFirstReleased",
    "ValidHL7AttachmentRequest",
    "DisplayName",
];
/// (code, long name, example UCUM unit), most frequent first.
const PROPERTIES: &[(&str, &str, &str)] = &[
    ("MCnc", "Mass/volume", "mg/dL"),
    ("Find", "Finding", ""),
    ("PrThr", "Presence", ""),
    ("SCnc", "Moles/volume", "mmol/L"),
    ("ACnc", "Units/volume", "[arb'U]/mL"),
    ("Type", "Type", ""),
    ("NCnc", "#/volume", "10*3/uL"),
    ("Score", "Score", "{score}"),
    ("Imp", "Interpretation", ""),
    ("Susc", "Susceptibility", ""),
    ("Titr", "Titer", "{titer}"),
    ("Prid", "Identifier", ""),
    ("CCnc", "Enzymatic activity/volume", "U/L"),
    ("MFr", "Mass fraction", "%"),
    ("NFr", "Number fraction", "%"),
    ("Num", "#", "{#}"),
    ("Time", "Time", "s"),
    ("Rto", "Ratio", "{ratio}"),
    ("Len", "Length", "cm"),
    ("Mass", "Mass", "kg"),
    ("Vol", "Volume", "mL"),
    ("Temp", "Temperature", "Cel"),
    ("Pres", "Pressure", "mm[Hg]"),
    ("Txt", "Text", ""),
];
const TIMES: &[&str] = &["Pt", "24H", "XXX", "12H", "8H", "2H", "1H", "Stdy", "4H", "6H"];
/// (code, long name, short name).
const SYSTEMS: &[(&str, &str, &str)] = &[
    ("Ser/Plas", "Serum or Plasma", "SerPl"),
    ("^Patient", "^Patient", "Pt"),
    ("Bld", "Blood", "Bld"),
    ("Urine", "Urine", "Ur"),
    ("Ser", "Serum", "Ser"),
    ("Isolate", "Isolate", "Islt"),
    ("XXX", "Unspecified specimen", "XXX"),
    ("Plas", "Plasma", "Plas"),
    ("CSF", "Cerebral spinal fluid", "CSF"),
    ("Tiss", "Tissue", "Tiss"),
    ("Stool", "Stool", "Stl"),
    ("BldA", "Arterial blood", "BldA"),
    ("BldV", "Venous blood", "BldV"),
    ("Bld.dot", "Blood filter paper", "BldDot"),
    ("Body fld", "Body fluid", "Fld"),
    ("Amnio fld", "Amniotic fluid", "Amn"),
    ("Saliva", "Saliva", "Sal"),
    ("Sputum", "Sputum", "Spt"),
    ("Cvx", "Cervix", "Cvx"),
    ("Nose", "Nose", "Nose"),
    ("Throat", "Throat", "Thrt"),
    ("Hair", "Hair", "Hair"),
    ("Chest", "Chest", "Chest"),
    ("Head", "Head", "Head"),
    ("Abdomen", "Abdomen", "Abd"),
    ("Heart", "Heart", "Heart"),
    ("Knee", "Knee", "Knee"),
    ("Breast", "Breast", "Breast"),
];
const SCALES: &[&str] = &["Qn", "Ord", "Nom", "Nar", "Doc", "OrdQn", "Set", "Multi"];
const METHODS: &[&str] = &[
    "",
    "IA",
    "Probe.amp.tar",
    "Automated count",
    "EIA",
    "Calculated",
    "Culture",
    "Microscopy.light",
    "Test strip",
    "IF",
    "Flow cytometry",
    "LC/MS/MS",
    "GC/MS",
    "Manual count",
    "Reported",
    "Measured",
    "Estimated",
    "PhenX",
    "PROMIS",
    "Observed",
    "Electrophoresis",
    "Agglutination",
    "Immunoblot",
    "NAA+probe",
    "Sequencing",
    "HPLC",
    "XR",
    "CT",
    "MR",
    "US",
];
/// (class, CLASSTYPE).
const CLASSES: &[(&str, u8)] = &[
    ("CHEM", 1),
    ("MICRO", 1),
    ("SERO", 1),
    ("HEM/BC", 1),
    ("DRUG/TOX", 1),
    ("MOLPATH", 1),
    ("CELLMARK", 1),
    ("ALLERGY", 1),
    ("UA", 1),
    ("COAG", 1),
    ("ABXBACT", 1),
    ("PATH", 1),
    ("CYTO", 1),
    ("SPEC", 1),
    ("BLDBK", 1),
    ("FERT", 1),
    ("HLA", 1),
    ("TOXIN", 1),
    ("MOLPATH.MUT", 1),
    ("PANEL.CHEM", 1),
    ("PANEL.HEM/BC", 1),
    ("PANEL.MICRO", 1),
    ("CLIN", 2),
    ("H&P.HX", 2),
    ("H&P.PX", 2),
    ("RAD", 2),
    ("PULM", 2),
    ("CARD.US", 2),
    ("DOC.ONTOLOGY", 2),
    ("OB.US", 2),
    ("EYE", 2),
    ("NR STATS", 2),
    ("PANEL.H&P", 2),
    ("PANEL.CLIN", 2),
    ("ATTACH", 3),
    ("ATTACH.CLINRPT", 3),
    ("SURVEY.PROMIS", 4),
    ("SURVEY.PHQ", 4),
    ("SURVEY.MDS", 4),
    ("SURVEY.OASIS", 4),
    ("PANEL.SURVEY.PROMIS", 4),
];

/// The LOINC mod-10 check digit of a number (the Luhn rule, doubling from the rightmost digit).
pub fn check_digit(number: u64) -> u8 {
    let mut sum = 0u32;
    for (position, digit) in number.to_string().bytes().rev().enumerate() {
        let mut value = (digit - b'0') as u32;
        if position % 2 == 0 {
            value *= 2;
            if value > 9 {
                value -= 9;
            }
        }
        sum += value;
    }
    ((10 - sum % 10) % 10) as u8
}

/// `prefix{number}-{check}`, as in `2345-7`, `LP14635-4`, `LL360-9`, `LA6576-8`.
pub fn code(prefix: &str, number: u64) -> String {
    format!("{prefix}{number}-{}", check_digit(number))
}

pub struct Options {
    pub seed: u64,
    pub scale: f64,
    /// `2.77`: names the release folder (`Loinc_2.77`) and bounds the term versions.
    pub version: String,
}

impl Default for Options {
    fn default() -> Self {
        Options { seed: 1, scale: 1.0, version: "2.77".into() }
    }
}

#[derive(Debug, Clone)]
pub struct Term {
    pub code: String,
    pub long_common_name: String,
    pub status: &'static str,
    pub first_released: String,
    pub last_changed: String,
}

#[derive(Debug, Clone)]
pub struct Summary {
    /// The release folder (`Loinc_2.77`).
    pub root: PathBuf,
    pub n_terms: usize,
    pub n_parts: usize,
    pub n_answer_lists: usize,
    /// The distinct answers (`LA…`) the lists use.
    pub n_answers: usize,
    /// (answer list code, number of answers) for the first few lists.
    pub answer_lists: Vec<(String, usize)>,
    /// Every term, in file order.
    pub terms: Vec<Term>,
    /// (component part code, number of terms under it in the hierarchy) for a few components.
    pub components: Vec<(String, usize)>,
}

fn quoted(fields: &[&str]) -> String {
    let mut line = String::new();
    for (idx, field) in fields.iter().enumerate() {
        if idx > 0 {
            line.push(',');
        }
        line.push('"');
        line.push_str(&field.replace('"', "\"\""));
        line.push('"');
    }
    line.push_str("\r\n");
    line
}

/// Draws an index of `items` with weights 1/(rank+1).
fn zipf_index(rng: &mut Rng, n_items: usize) -> usize {
    let total: f64 = (1..=n_items).map(|rank| 1.0 / rank as f64).sum();
    let mut target = rng.unit() * total;
    for rank in 1..=n_items {
        target -= 1.0 / rank as f64;
        if target <= 0.0 {
            return rank - 1;
        }
    }
    n_items - 1
}

struct Component {
    name: String,
    part: String,
    class: usize,
    second_class: Option<usize>,
}

/// Writes one release into `out` (the `Loinc_x.yy` folder is made inside it).
pub fn write(out: &Path, options: &Options) -> io::Result<Summary> {
    let rng = Rng::new(options.seed ^ 0x10_1c);
    let (major, minor) = options.version.split_once('.').unwrap_or(("2", "77"));
    let release_minor: u32 = minor.parse().unwrap_or(77);
    let versions: Vec<String> = (0..=release_minor).map(|minor| format!("{major}.{minor:02}")).collect();
    let mut vocabulary_rng = rng.fork(1);
    let vocabulary = Vocabulary::new(&mut vocabulary_rng, scaled(12_000, options.scale, 300));
    let mut rng = rng.fork(2);
    let n_terms = scaled(105_000, options.scale, 60);
    let n_components = scaled(36_000, options.scale, 20);

    let mut next_part: u64 = 10_000;
    let mut new_part = |rng: &mut Rng| {
        next_part += 1 + rng.below(4) as u64;
        code("LP", next_part)
    };
    // Parts: (code, type, name, display name).
    let mut parts: Vec<(String, &str, String, String)> = Vec::new();
    let mut part_of: HashMap<(&str, String), String> = HashMap::new();
    let mut add_part =
        |rng: &mut Rng, part_type: &'static str, name: &str, display: &str, parts: &mut Vec<(String, &str, String, String)>| {
            let part = new_part(rng);
            parts.push((part.clone(), part_type, name.to_owned(), display.to_owned()));
            part_of.insert((part_type, name.to_owned()), part.clone());
            part
        };
    let root_part = add_part(&mut rng, "ROOT", "{component}", "{component}", &mut parts);
    let class_parts: Vec<String> = CLASSES.iter().map(|(class, _)| add_part(&mut rng, "CLASS", class, class, &mut parts)).collect();
    for (property, long_name, _) in PROPERTIES {
        add_part(&mut rng, "PROPERTY", property, long_name, &mut parts);
    }
    for time in TIMES {
        add_part(&mut rng, "TIME", time, time, &mut parts);
    }
    for (system, long_name, _) in SYSTEMS {
        add_part(&mut rng, "SYSTEM", system, long_name, &mut parts);
    }
    for scale in SCALES {
        add_part(&mut rng, "SCALE", scale, scale, &mut parts);
    }
    for method in METHODS.iter().filter(|method| !method.is_empty()) {
        add_part(&mut rng, "METHOD", method, method, &mut parts);
    }
    let mut component_names: HashSet<String> = HashSet::new();
    let mut components: Vec<Component> = Vec::with_capacity(n_components);
    while components.len() < n_components {
        let n_words = 1 + rng.below(3);
        let name = capitalised(&(0..n_words).map(|_| vocabulary.words[vocabulary.draw(&mut rng)].as_str()).collect::<Vec<_>>().join(" "));
        if !component_names.insert(name.clone()) {
            continue;
        }
        let part = add_part(&mut rng, "COMPONENT", &name, &name, &mut parts);
        let class = zipf_index(&mut rng, CLASSES.len());
        let second_class = rng.chance(0.05).then(|| rng.below(CLASSES.len())).filter(|second| *second != class);
        components.push(Component { name, part, class, second_class });
    }

    // --- terms -----------------------------------------------------------------------------------
    let root = out.join(format!("Loinc_{}", options.version));
    let table = root.join("LoincTable");
    let part_folder = root.join("AccessoryFiles/PartFile");
    let hierarchy_folder = root.join("AccessoryFiles/ComponentHierarchyBySystem");
    let answer_folder = root.join("AccessoryFiles/AnswerFile");
    for folder in [&table, &part_folder, &hierarchy_folder, &answer_folder] {
        std::fs::create_dir_all(folder)?;
    }
    let open = |path: PathBuf, header: &[&str]| -> io::Result<BufWriter<File>> {
        let mut writer = BufWriter::with_capacity(1 << 20, File::create(path)?);
        writer.write_all(quoted(header).as_bytes())?;
        Ok(writer)
    };
    let mut table_file = open(table.join("Loinc.csv"), COLUMNS)?;
    let mut link_file = open(
        part_folder.join("LoincPartLink_Primary.csv"),
        &["LoincNumber", "LongCommonName", "PartNumber", "PartName", "PartCodeSystem", "PartTypeName", "LinkTypeName", "Property"],
    )?;
    let mut terms: Vec<Term> = Vec::with_capacity(n_terms);
    let mut terms_of_component: Vec<Vec<u32>> = vec![Vec::new(); components.len()];
    let mut axes_seen: HashSet<(usize, usize, usize, usize, usize, usize)> = HashSet::new();
    let mut next_term: u64 = 1_000;
    let mut ordinal_terms: Vec<u32> = Vec::new();
    while terms.len() < n_terms {
        let component_idx = vocabulary_draw_component(&mut rng, components.len());
        let (class_name, class_type) = CLASSES[components[component_idx].class];
        let property = if class_type == 4 {
            if rng.chance(0.6) {
                1
            } else {
                7
            }
        } else {
            zipf_index(&mut rng, PROPERTIES.len())
        };
        let time = zipf_index(&mut rng, TIMES.len());
        let system = if class_type >= 2 {
            if rng.chance(0.8) {
                1
            } else {
                zipf_index(&mut rng, SYSTEMS.len())
            }
        } else {
            zipf_index(&mut rng, SYSTEMS.len())
        };
        let scale = zipf_index(&mut rng, SCALES.len());
        let method = if rng.chance(0.55) { 0 } else { zipf_index(&mut rng, METHODS.len()) };
        if !axes_seen.insert((component_idx, property, time, system, scale, method)) {
            continue;
        }
        next_term += 1 + rng.below(2) as u64;
        let loinc_num = code("", next_term);
        let component = &components[component_idx];
        let (property_code, property_name, unit) = PROPERTIES[property];
        let (system_code, system_name, system_short) = SYSTEMS[system];
        let mut long_name = format!("{} [{property_name}] in {system_name}", component.name);
        if TIMES[time] != "Pt" {
            long_name = format!("{long_name} ({} collection)", TIMES[time]);
        }
        if !METHODS[method].is_empty() {
            long_name = format!("{long_name} by {}", METHODS[method]);
        }
        let roll = rng.unit();
        let status = if roll < 0.85 {
            "ACTIVE"
        } else if roll < 0.92 {
            "DEPRECATED"
        } else if roll < 0.97 {
            "DISCOURAGED"
        } else {
            "TRIAL"
        };
        let first = rng.below(versions.len());
        let last = first + rng.below(versions.len() - first);
        let short_name: String =
            format!("{} {system_short}-{}", component.name.chars().take(12).collect::<String>(), property_code.to_lowercase());
        let display_name = format!("{} ({system_short}) [{property_name}]", component.name);
        let related = format!("{}; {}; {system_short}", component.name.to_lowercase(), property_name);
        let order_obs = *rng.pick(&["Observation", "Both", "Both", "Order", "Subset"]);
        let status_reason = if status == "DEPRECATED" { *rng.pick(&["DUPLICATE", "ERRONEOUS", "AMBIGUOUS"]) } else { "" };
        let rank = if rng.chance(0.2) { (1 + rng.below(20_000)).to_string() } else { "0".into() };
        let survey_text = if class_type == 4 { format!("How often {}?", component.name.to_lowercase()) } else { String::new() };
        let change = *rng.pick(&["MIN", "MAJ", "ADD", "NAM"]);
        let row: Vec<&str> = vec![
            &loinc_num,
            &component.name,
            property_code,
            TIMES[time],
            system_code,
            SCALES[scale],
            METHODS[method],
            class_name,
            &versions[last],
            change,
            "",
            status,
            "",
            ["1", "2", "3", "4"][class_type as usize - 1],
            "",
            "",
            &survey_text,
            if class_type == 4 { "PROMIS" } else { "" },
            if unit.is_empty() { "N" } else { "Y" },
            &related,
            &short_name,
            order_obs,
            "",
            "",
            unit,
            &long_name,
            unit,
            status_reason,
            "",
            "",
            &rank,
            "0",
            "",
            "",
            if class_name.starts_with("PANEL") { "Panel" } else { "" },
            "",
            "",
            &versions[first],
            "",
            &display_name,
        ];
        table_file.write_all(quoted(&row).as_bytes())?;
        for (part_type, name, column) in [
            ("COMPONENT", component.name.as_str(), "COMPONENT"),
            ("PROPERTY", property_code, "PROPERTY"),
            ("TIME", TIMES[time], "TIME_ASPCT"),
            ("SYSTEM", system_code, "SYSTEM"),
            ("SCALE", SCALES[scale], "SCALE_TYP"),
            ("METHOD", METHODS[method], "METHOD_TYP"),
        ] {
            if let Some(part) = part_of.get(&(part_type, name.to_owned())) {
                let property_uri = format!("http://loinc.org/property/{column}");
                link_file.write_all(
                    quoted(&[&loinc_num, &long_name, part, name, "http://loinc.org", part_type, "Primary", &property_uri]).as_bytes(),
                )?;
            }
        }
        let term_idx = terms.len() as u32;
        terms_of_component[component_idx].push(term_idx);
        if matches!(SCALES[scale], "Ord" | "Nom") && rng.chance(0.4) {
            ordinal_terms.push(term_idx);
        }
        terms.push(Term {
            code: loinc_num,
            long_common_name: long_name,
            status,
            first_released: versions[first].clone(),
            last_changed: versions[last].clone(),
        });
    }
    table_file.flush()?;
    link_file.flush()?;

    let mut part_file = open(part_folder.join("Part.csv"), &["PartNumber", "PartTypeName", "PartName", "PartDisplayName", "Status"])?;
    for (part, part_type, name, display) in &parts {
        let status = if rng.chance(0.02) { "DEPRECATED" } else { "ACTIVE" };
        part_file.write_all(quoted(&[part, part_type, name, display, status]).as_bytes())?;
    }
    part_file.flush()?;

    // --- the hierarchy: root, classes, components (under one class or two), terms ------------------------
    let mut hierarchy_file = open(
        hierarchy_folder.join("ComponentHierarchyBySystem.csv"),
        &["PATH_TO_ROOT", "SEQUENCE", "IMMEDIATE_PARENT", "CODE", "CODE_TEXT"],
    )?;
    hierarchy_file.write_all(quoted(&["", "1", "", &root_part, "{component}"]).as_bytes())?;
    let mut components_of_class: Vec<Vec<usize>> = vec![Vec::new(); CLASSES.len()];
    for (idx, component) in components.iter().enumerate() {
        if terms_of_component[idx].is_empty() {
            continue;
        }
        components_of_class[component.class].push(idx);
        if let Some(second) = component.second_class {
            components_of_class[second].push(idx);
        }
    }
    for (class_idx, (class_name, _)) in CLASSES.iter().enumerate() {
        let class_part = &class_parts[class_idx];
        hierarchy_file.write_all(quoted(&[&root_part, &(class_idx + 1).to_string(), &root_part, class_part, class_name]).as_bytes())?;
        let class_path = format!("{root_part}.{class_part}");
        for (sequence, component_idx) in components_of_class[class_idx].iter().enumerate() {
            let component = &components[*component_idx];
            hierarchy_file
                .write_all(quoted(&[&class_path, &(sequence + 1).to_string(), class_part, &component.part, &component.name]).as_bytes())?;
            let component_path = format!("{class_path}.{}", component.part);
            for (sequence, term_idx) in terms_of_component[*component_idx].iter().enumerate() {
                let term = &terms[*term_idx as usize];
                hierarchy_file.write_all(
                    quoted(&[&component_path, &(sequence + 1).to_string(), &component.part, &term.code, &term.long_common_name]).as_bytes(),
                )?;
            }
        }
    }
    hierarchy_file.flush()?;

    // --- answer lists ------------------------------------------------------------------------------
    let n_answers = scaled(25_000, options.scale, 30);
    let answers: Vec<(String, String)> = (0..n_answers)
        .map(|number| {
            let n_words = 1 + rng.below(3);
            let text =
                capitalised(&(0..n_words).map(|_| vocabulary.words[vocabulary.draw(&mut rng)].as_str()).collect::<Vec<_>>().join(" "));
            (code("LA", 1000 + number as u64 * 3), text)
        })
        .collect();
    let n_lists = scaled(6_300, options.scale, 5);
    let mut answer_file = open(
        answer_folder.join("AnswerList.csv"),
        &[
            "AnswerListId",
            "AnswerListName",
            "AnswerListOID",
            "ExtDefinedYN",
            "ExtDefinedAnswerListCodeSystem",
            "ExtDefinedAnswerListLink",
            "AnswerStringId",
            "LocalAnswerCode",
            "LocalAnswerCodeSystem",
            "SequenceNumber",
            "DisplayText",
            "ExtCodeId",
            "ExtCodeDisplayName",
            "ExtCodeSystem",
            "ExtCodeSystemVersion",
            "ExtCodeSystemCopyrightNotice",
            "SubsequentTextPrompt",
            "Description",
            "Score",
        ],
    )?;
    let mut lists: Vec<(String, String)> = Vec::with_capacity(n_lists);
    let mut answers_used: HashSet<usize> = HashSet::new();
    let mut answer_lists: Vec<(String, usize)> = Vec::new();
    for number in 0..n_lists {
        let list_id = code("LL", 100 + number as u64);
        let n_members = 2 + rng.below(7);
        let first_answer = rng.below(answers.len());
        let list_name = format!("{} answers", answers[first_answer].1);
        let oid = format!("1.3.6.1.4.1.12009.10.1.{}", 100 + number);
        for sequence in 0..n_members {
            let answer_idx = (first_answer + sequence * 7) % answers.len();
            answers_used.insert(answer_idx);
            let (answer_code, text) = &answers[answer_idx];
            let local = (sequence + 1).to_string();
            answer_file.write_all(
                quoted(&[&list_id, &list_name, &oid, "N", "", "", answer_code, &local, "", &local, text, "", "", "", "", "", "", "", ""])
                    .as_bytes(),
            )?;
        }
        if answer_lists.len() < 3 {
            answer_lists.push((list_id.clone(), n_members));
        }
        lists.push((list_id, list_name));
    }
    answer_file.flush()?;
    let mut answer_link_file = open(
        answer_folder.join("LoincAnswerListLink.csv"),
        &["LoincNumber", "LongCommonName", "AnswerListId", "AnswerListName", "AnswerListLinkType", "ApplicableContext"],
    )?;
    for term_idx in &ordinal_terms {
        let term = &terms[*term_idx as usize];
        let (list_id, list_name) = rng.pick(&lists);
        let link_type = if rng.chance(0.8) { "NORMATIVE" } else { "EXAMPLE" };
        answer_link_file.write_all(quoted(&[&term.code, &term.long_common_name, list_id, list_name, link_type, ""]).as_bytes())?;
    }
    answer_link_file.flush()?;

    let mut by_size: Vec<usize> = (0..components.len()).filter(|idx| terms_of_component[*idx].len() >= 2).collect();
    by_size.sort_by_key(|idx| std::cmp::Reverse(terms_of_component[*idx].len()));
    let summary_components = by_size.iter().take(3).map(|idx| (components[*idx].part.clone(), terms_of_component[*idx].len())).collect();
    Ok(Summary {
        root,
        n_terms: terms.len(),
        n_parts: parts.len(),
        n_answer_lists: lists.len(),
        n_answers: answers_used.len(),
        answer_lists,
        terms,
        components: summary_components,
    })
}

/// A component index, the first components far more often than the last (each component's
/// share of the terms falls with its rank, as a few analytes have hundreds of terms).
fn vocabulary_draw_component(rng: &mut Rng, n_components: usize) -> usize {
    // Zipf with exponent 0.8 by inversion of its continuous approximation.
    let exponent = 0.8;
    let n = n_components as f64;
    let upper = (n + 1.0).powf(1.0 - exponent) - 1.0;
    let rank = (rng.unit() * upper + 1.0).powf(1.0 / (1.0 - exponent)) - 1.0;
    (rank as usize).min(n_components - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits_are_loinc_mod_10() {
        assert_eq!(code("", 2345), "2345-7");
        assert_eq!(code("", 2160), "2160-0");
        assert_eq!(code("", 718), "718-7");
    }

    #[test]
    fn a_small_release_has_the_official_layout() {
        let folder = std::env::temp_dir().join(format!("synth-loinc-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        let summary = write(&folder, &Options { seed: 5, scale: 0.002, ..Options::default() }).unwrap();
        assert_eq!(summary.n_terms, 210);
        let table = std::fs::read_to_string(summary.root.join("LoincTable/Loinc.csv")).unwrap();
        assert_eq!(table.lines().count(), 211);
        assert!(table.starts_with("\"LOINC_NUM\",\"COMPONENT\","));
        for file in [
            "AccessoryFiles/PartFile/Part.csv",
            "AccessoryFiles/PartFile/LoincPartLink_Primary.csv",
            "AccessoryFiles/ComponentHierarchyBySystem/ComponentHierarchyBySystem.csv",
            "AccessoryFiles/AnswerFile/AnswerList.csv",
            "AccessoryFiles/AnswerFile/LoincAnswerListLink.csv",
        ] {
            assert!(std::fs::read_to_string(summary.root.join(file)).unwrap().lines().count() > 5, "{file}");
        }
        assert!(summary.terms.iter().all(|term| term.first_released <= term.last_changed && term.last_changed.as_str() <= "2.77"));
        std::fs::remove_dir_all(&folder).unwrap();
    }
}
