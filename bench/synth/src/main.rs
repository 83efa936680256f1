//! `fhirterm-synth`: writes a synthetic SNOMED CT RF2 Snapshot and/or LOINC release for the scale
//! benchmark (`bench/scale`), with a summary file beside each release.

use clap::Parser;
use std::io::Write;
use std::path::PathBuf;

#[derive(Parser)]
#[command(about = "Write deterministic synthetic SNOMED CT (RF2) and LOINC releases of real size")]
struct Arguments {
    /// Which releases to write.
    #[arg(value_parser = ["snomed", "loinc", "both"], default_value = "both")]
    what: String,
    /// The folder the release folders are written into.
    #[arg(long, default_value = ".")]
    out: PathBuf,
    /// 1.0 is the size of the real releases; 0.002 gives a small release of the same shape.
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The SNOMED CT release date, YYYYMMDD.
    #[arg(long, default_value = "20250101")]
    snomed_date: String,
    /// The LOINC release number.
    #[arg(long, default_value = "2.77")]
    loinc_version: String,
}

/// A file beside a release folder: `Loinc_2.77` and `codes.txt` give `Loinc_2.77.codes.txt`
/// (`with_extension` would take `.77` for an extension).
fn beside(root: &std::path::Path, suffix: &str) -> PathBuf {
    let name = root.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    root.with_file_name(format!("{name}.{suffix}"))
}

fn main() -> anyhow::Result<()> {
    let arguments = Arguments::parse();
    if !(arguments.scale > 0.0 && arguments.scale <= 4.0) {
        anyhow::bail!("--scale {}: give a factor above 0 and at most 4", arguments.scale);
    }
    let is_date = arguments.snomed_date.len() == 8 && arguments.snomed_date.bytes().all(|byte| byte.is_ascii_digit());
    if !is_date {
        anyhow::bail!("--snomed-date {}: give a date as YYYYMMDD", arguments.snomed_date);
    }
    std::fs::create_dir_all(&arguments.out)?;
    if matches!(arguments.what.as_str(), "snomed" | "both") {
        let options = synth::snomed::Options { seed: arguments.seed, scale: arguments.scale, release_date: arguments.snomed_date.clone() };
        let summary = synth::snomed::write(&arguments.out, &options)?;
        let mut file = std::fs::File::create(beside(&summary.root, "summary.tsv"))?;
        writeln!(file, "root\t{}", summary.root.display())?;
        writeln!(file, "concepts\t{}\nactive_concepts\t{}", summary.n_concepts, summary.n_active_concepts)?;
        writeln!(file, "descriptions\t{}\nlanguage_members\t{}", summary.n_descriptions, summary.n_language_members)?;
        writeln!(file, "active_is_a\t{}\nattribute_relationships\t{}", summary.n_active_is_a, summary.n_attribute_relationships)?;
        writeln!(file, "common_word\t{}\nrare_word\t{}", summary.common_word, summary.rare_word)?;
        for (concept, count) in &summary.descendants_or_self {
            writeln!(file, "descendants_or_self\t{concept}\t{count}")?;
        }
        // Up to 5,000 active concepts spread over the release, for rotating requests.
        let step = (summary.active_concepts.len() / 5000).max(1);
        let mut ids = std::fs::File::create(beside(&summary.root, "concepts.txt"))?;
        for concept in summary.active_concepts.iter().step_by(step).take(5000) {
            writeln!(ids, "{concept}")?;
        }
        eprintln!(
            "snomed: {} concepts ({} active), {} descriptions, {} active is-a, {} attribute relationships in {}",
            summary.n_concepts,
            summary.n_active_concepts,
            summary.n_descriptions,
            summary.n_active_is_a,
            summary.n_attribute_relationships,
            summary.root.display()
        );
    }
    if matches!(arguments.what.as_str(), "loinc" | "both") {
        let options = synth::loinc::Options { seed: arguments.seed, scale: arguments.scale, version: arguments.loinc_version.clone() };
        let summary = synth::loinc::write(&arguments.out, &options)?;
        let step = (summary.terms.len() / 5000).max(1);
        let mut codes = std::fs::File::create(beside(&summary.root, "codes.txt"))?;
        for term in summary.terms.iter().step_by(step).take(5000) {
            writeln!(codes, "{}", term.code)?;
        }
        eprintln!(
            "loinc: {} terms, {} parts, {} answer lists, {} answers in {}",
            summary.n_terms,
            summary.n_parts,
            summary.n_answer_lists,
            summary.n_answers,
            summary.root.display()
        );
    }
    Ok(())
}
