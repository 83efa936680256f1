//! Word-prefix text search for `$expand`'s `filter`: case and accents are folded away.

use std::collections::BTreeMap;
use unicode_normalization::UnicodeNormalization;

/// Lower-cases and strips combining marks, so "Café" and "cafe" fold to the same text.
pub fn fold(text: &str) -> String {
    text.nfd().filter(|c| !unicode_normalization::char::is_combining_mark(*c)).flat_map(char::to_lowercase).collect()
}

/// The folded words of a text.
pub fn words(text: &str) -> Vec<String> {
    fold(text).split(|c: char| !c.is_alphanumeric()).filter(|word| !word.is_empty()).map(str::to_owned).collect()
}

/// A sorted map from folded word to the concepts whose texts hold it.
#[derive(Default, Debug)]
pub struct WordIndex {
    words: BTreeMap<String, Vec<u32>>,
}

impl WordIndex {
    pub fn build<'a>(texts: impl Iterator<Item = (u32, &'a str)>) -> WordIndex {
        let mut words: BTreeMap<String, Vec<u32>> = BTreeMap::new();
        for (concept_idx, text) in texts {
            for word in self::words(text) {
                let postings = words.entry(word).or_default();
                if postings.last() != Some(&concept_idx) {
                    postings.push(concept_idx);
                }
            }
        }
        for postings in words.values_mut() {
            postings.sort_unstable();
            postings.dedup();
        }
        WordIndex { words }
    }

    /// The concepts that have, for every word of the query, a word starting with it; sorted.
    pub fn search(&self, query: &str) -> Vec<u32> {
        let mut result: Option<Vec<u32>> = None;
        for query_word in words(query) {
            let postings: Vec<&[u32]> = self
                .words
                .range(query_word.clone()..)
                .take_while(|(word, _)| word.starts_with(&query_word))
                .map(|(_, postings)| postings.as_slice())
                .collect();
            // Posting lists are sorted: a few are merged, many are gathered and sorted.
            let matches = if postings.len() <= MERGED_POSTING_LISTS {
                postings.iter().fold(Vec::new(), |merged, list| union(&merged, list))
            } else {
                let mut gathered: Vec<u32> = postings.iter().flat_map(|list| list.iter().copied()).collect();
                gathered.sort_unstable();
                gathered.dedup();
                gathered
            };
            result = Some(match result {
                None => matches,
                Some(previous) => intersect(&previous, &matches),
            });
        }
        result.unwrap_or_default()
    }
}

/// Up to this many posting lists (the words a query word is the start of) are merged pairwise.
const MERGED_POSTING_LISTS: usize = 8;

/// The union of two sorted lists, sorted.
pub fn union(left: &[u32], right: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(left.len() + right.len());
    let (mut i, mut j) = (0, 0);
    while i < left.len() && j < right.len() {
        match left[i].cmp(&right[j]) {
            std::cmp::Ordering::Less => {
                out.push(left[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(right[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(left[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&left[i..]);
    out.extend_from_slice(&right[j..]);
    out
}

fn intersect(left: &[u32], right: &[u32]) -> Vec<u32> {
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < left.len() && j < right.len() {
        match left[i].cmp(&right[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(left[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

/// Whether a text matches a filter by word prefixes, without an index.
pub fn matches(text: &str, query: &str) -> bool {
    let text_words = words(text);
    words(query).iter().all(|query_word| text_words.iter().any(|word| word.starts_with(query_word.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_word_prefixes_ignoring_case_and_accents() {
        let index = WordIndex::build([(0, "Fracture of femur"), (1, "Café au lait spots"), (2, "Femoral artery")].into_iter());
        assert_eq!(index.search("fem"), vec![0, 2]);
        assert_eq!(index.search("FRACT fem"), vec![0]);
        assert_eq!(index.search("cafe"), vec![1]);
        assert_eq!(index.search("emur"), Vec::<u32>::new());
        assert!(matches("Café au lait", "cafe LA"));
    }

    #[test]
    fn a_query_word_that_starts_many_words_gathers_them_all() {
        let texts: Vec<(u32, String)> = (0..20).map(|idx| (idx, format!("word{idx} shared"))).collect();
        let index = WordIndex::build(texts.iter().rev().map(|(idx, text)| (*idx, text.as_str())));
        assert_eq!(index.search("word"), (0..20).collect::<Vec<u32>>());
        assert_eq!(index.search("word1"), vec![1, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
        assert_eq!(index.search("word1 shared"), vec![1, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    }
}
