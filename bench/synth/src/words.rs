//! The synthetic vocabulary: clinical-looking words drawn with Zipf frequencies (the word of rank
//! r is drawn in proportion to 1/r), so a text search meets words found in a third of all terms
//! and words found in one.

use crate::Rng;
use std::collections::HashSet;

/// The most frequent words, in rank order; synthetic words follow them.
const COMMON_WORDS: &[&str] = &[
    "of",
    "structure",
    "and",
    "disorder",
    "left",
    "right",
    "with",
    "entire",
    "acute",
    "chronic",
    "injury",
    "procedure",
    "bone",
    "skin",
    "fracture",
    "finding",
    "artery",
    "syndrome",
    "lower",
    "upper",
    "infection",
    "tissue",
    "joint",
    "neoplasm",
    "malignant",
    "benign",
    "muscle",
    "nerve",
    "vein",
    "limb",
    "congenital",
    "excision",
    "repair",
    "biopsy",
    "removal",
    "measurement",
    "assessment",
    "blood",
    "cell",
    "primary",
    "secondary",
    "lesion",
    "abscess",
    "cyst",
    "tumor",
    "color",
    "hemorrhage",
    "anemia",
    "pain",
    "region",
    "surface",
    "wall",
    "duct",
    "gland",
    "valve",
    "ligament",
    "tendon",
    "cartilage",
    "membrane",
    "organ",
];

/// `n_words` distinct words: the common ones, then words built from syllables.
pub struct Vocabulary {
    pub words: Vec<String>,
    /// Cumulative Zipf weights, for drawing a rank.
    cumulative: Vec<f64>,
}

impl Vocabulary {
    pub fn new(rng: &mut Rng, n_words: usize) -> Self {
        const ONSETS: &[&str] =
            &["b", "c", "d", "f", "g", "h", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "cr", "pl", "st", "th", "ch", "ph", "tr"];
        const VOWELS: &[&str] = &["a", "e", "i", "o", "u", "ae", "io", "y"];
        const CODAS: &[&str] = &["", "", "n", "r", "s", "l", "x", "m", "st", "nt"];
        const ENDINGS: &[&str] =
            &["", "itis", "oma", "osis", "al", "ic", "ectomy", "otomy", "plasty", "ase", "ine", "ium", "ular", "or", "ize", "emia"];
        let mut seen: HashSet<String> = HashSet::new();
        let mut words: Vec<String> = Vec::with_capacity(n_words);
        for word in COMMON_WORDS.iter().take(n_words) {
            seen.insert(word.to_string());
            words.push(word.to_string());
        }
        while words.len() < n_words {
            let n_syllables = 2 + rng.below(3);
            let mut word = String::new();
            for _ in 0..n_syllables {
                word.push_str(*rng.pick(ONSETS));
                word.push_str(*rng.pick(VOWELS));
                word.push_str(*rng.pick(CODAS));
            }
            word.push_str(*rng.pick(ENDINGS));
            if seen.insert(word.clone()) {
                words.push(word);
            }
        }
        let mut total = 0.0;
        let cumulative = (1..=words.len())
            .map(|rank| {
                total += 1.0 / rank as f64;
                total
            })
            .collect();
        Vocabulary { words, cumulative }
    }

    /// The rank (0-based) of a word drawn with Zipf frequencies.
    pub fn draw(&self, rng: &mut Rng) -> usize {
        let target = rng.unit() * self.cumulative.last().copied().unwrap_or(0.0);
        self.cumulative.partition_point(|weight| *weight <= target).min(self.words.len() - 1)
    }
}

/// The British spelling of an American term, as the en-GB language refset would prefer it:
/// `tumor` → `tumour`, `-ize` → `-ise`, `hem…`/`anem…` → `haem…`/`anaem…`.
pub fn british_spelling(term: &str) -> String {
    term.split(' ')
        .map(|word| {
            let mut british = word.to_string();
            if let Some(stem) = british.strip_suffix("or") {
                british = format!("{stem}our");
            } else if let Some(stem) = british.strip_suffix("ize") {
                british = format!("{stem}ise");
            }
            if let Some(rest) = british.strip_prefix("hem") {
                british = format!("haem{rest}");
            } else if let Some(rest) = british.strip_prefix("Hem") {
                british = format!("Haem{rest}");
            }
            british.replace("anem", "anaem").replace("Anem", "Anaem")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `text` with its first letter upper case.
pub fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_distinct_and_drawn_by_rank() {
        let mut rng = Rng::new(3);
        let vocabulary = Vocabulary::new(&mut rng, 5000);
        assert_eq!(vocabulary.words.iter().collect::<HashSet<_>>().len(), 5000);
        let mut counts = vec![0usize; 5000];
        for _ in 0..100_000 {
            counts[vocabulary.draw(&mut rng)] += 1;
        }
        // Zipf: rank 1 about twice rank 2, far above rank 1000.
        assert!(counts[0] > counts[1] && counts[1] > counts[999] * 50, "{:?}", &counts[..3]);
        assert_eq!(british_spelling("Tumor of hemorrhage anemia"), "Tumour of haemorrhage anaemia");
        assert_eq!(capitalised("acute pain"), "Acute pain");
    }
}
