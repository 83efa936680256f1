//! Word-prefix text search for `$expand`'s `filter`: case and accents are folded away.

use unicode_normalization::UnicodeNormalization;

/// Lower-cases and strips combining marks, so "Café" and "cafe" fold to the same text.
pub fn fold(text: &str) -> String {
    text.nfd().filter(|c| !unicode_normalization::char::is_combining_mark(*c)).flat_map(char::to_lowercase).collect()
}

/// The folded words of a text.
pub fn words(text: &str) -> Vec<String> {
    fold(text).split(|c: char| !c.is_alphanumeric()).filter(|word| !word.is_empty()).map(str::to_owned).collect()
}

/// Calls `each` with every folded word of a text. ASCII text (most of it) is folded in one
/// reused buffer, with the same words [`words`] gives.
fn for_each_word(text: &str, buffer: &mut String, mut each: impl FnMut(&str)) {
    if text.is_ascii() {
        for word in text.split(|c: char| !c.is_ascii_alphanumeric()).filter(|word| !word.is_empty()) {
            buffer.clear();
            buffer.extend(word.chars().map(|c| c.to_ascii_lowercase()));
            each(buffer);
        }
    } else {
        for word in words(text) {
            each(&word);
        }
    }
}

/// A sorted list of folded words, each with the concepts whose texts hold it.
#[derive(Default, Debug)]
pub struct WordIndex {
    words: Vec<(Box<str>, Vec<u32>)>,
}

impl WordIndex {
    pub fn build<'a>(texts: impl Iterator<Item = (u32, &'a str)>) -> WordIndex {
        // Words are looked up by reference, so a word is allocated once, not once per occurrence.
        let mut by_word: std::collections::HashMap<Box<str>, Vec<u32>> = std::collections::HashMap::new();
        let mut buffer = String::new();
        for (concept_idx, text) in texts {
            for_each_word(text, &mut buffer, |word| match by_word.get_mut(word) {
                Some(postings) => {
                    if postings.last() != Some(&concept_idx) {
                        postings.push(concept_idx);
                    }
                }
                None => {
                    by_word.insert(word.into(), vec![concept_idx]);
                }
            });
        }
        let mut words: Vec<(Box<str>, Vec<u32>)> = by_word.into_iter().collect();
        for (_, postings) in &mut words {
            if !postings.windows(2).all(|pair| pair[0] < pair[1]) {
                postings.sort_unstable();
                postings.dedup();
            }
            postings.shrink_to_fit();
        }
        words.sort_unstable_by(|left, right| left.0.cmp(&right.0));
        WordIndex { words }
    }

    /// The words and their sorted posting lists, in word order, as a saved index file keeps them.
    pub fn entries(&self) -> &[(Box<str>, Vec<u32>)] {
        &self.words
    }

    /// The index [`WordIndex::entries`] gave, checked: words in strictly increasing order, and
    /// postings strictly increasing and below `n_concepts`.
    pub fn from_entries(words: Vec<(Box<str>, Vec<u32>)>, n_concepts: usize) -> Result<WordIndex, String> {
        if let Some(pair) = words.windows(2).find(|pair| pair[0].0 >= pair[1].0) {
            return Err(format!("the words '{}' and '{}' are out of order", pair[0].0, pair[1].0));
        }
        for (word, postings) in &words {
            let ordered = postings.windows(2).all(|pair| pair[0] < pair[1]);
            if !ordered || postings.last().is_some_and(|last| *last as usize >= n_concepts) {
                return Err(format!("the concepts of the word '{word}' are out of order or out of range"));
            }
        }
        Ok(WordIndex { words })
    }

    /// The concepts that have, for every word of the query, a word starting with it; sorted.
    pub fn search(&self, query: &str) -> Vec<u32> {
        let mut result: Option<Vec<u32>> = None;
        for query_word in words(query) {
            let start = self.words.partition_point(|(word, _)| **word < *query_word);
            let postings: Vec<&[u32]> = self.words[start..]
                .iter()
                .take_while(|(word, _)| word.starts_with(query_word.as_str()))
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

/// A query's words, ready to test texts one by one without an index: the answer of
/// [`WordIndex::search`] over the same texts, for when the index is not built yet.
pub struct WordQuery {
    words: Vec<String>,
    buffer: String,
    found: Vec<bool>,
}

impl WordQuery {
    pub fn new(query: &str) -> WordQuery {
        let words = words(query);
        let found = vec![false; words.len()];
        WordQuery { words, buffer: String::new(), found }
    }

    /// Whether one concept's texts (display and designations together) have, for every word of
    /// the query, a word starting with it. An empty query matches nothing, as the index answers.
    pub fn matches_concept<'a>(&mut self, texts: impl Iterator<Item = &'a str>) -> bool {
        if self.words.is_empty() {
            return false;
        }
        self.found.iter_mut().for_each(|found| *found = false);
        let (query_words, found) = (&self.words, &mut self.found);
        for text in texts {
            if text.is_ascii() {
                // Word starts are found on the bytes and compared ignoring ASCII case: no copy.
                let bytes = text.as_bytes();
                let mut at = 0;
                while at < bytes.len() {
                    if !bytes[at].is_ascii_alphanumeric() {
                        at += 1;
                        continue;
                    }
                    let end = bytes[at..].iter().position(|byte| !byte.is_ascii_alphanumeric()).map_or(bytes.len(), |len| at + len);
                    let word = &bytes[at..end];
                    for (query_word, found) in query_words.iter().zip(found.iter_mut()) {
                        let query_word = query_word.as_bytes();
                        *found |= word.len() >= query_word.len() && word[..query_word.len()].eq_ignore_ascii_case(query_word);
                    }
                    at = end;
                }
            } else {
                for_each_word(text, &mut self.buffer, |word| {
                    for (query_word, found) in query_words.iter().zip(found.iter_mut()) {
                        *found |= word.starts_with(query_word.as_str());
                    }
                });
            }
            if found.iter().all(|found| *found) {
                return true;
            }
        }
        false
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
