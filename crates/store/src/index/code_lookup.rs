//! Code → concept position, without a copy of the codes: the table holds positions only, and
//! reads each code from the concept list it indexes. A copy of every code as a map key cost a
//! SNOMED CT release about 50 MB.

use hashbrown::HashTable;
use std::hash::{BuildHasher, Hasher, RandomState};

/// Positions of concepts, found by their code (or by their code in lower case).
#[derive(Debug, Default)]
pub struct CodeLookup {
    table: HashTable<u32>,
    hasher: RandomState,
    folded: bool,
}

impl CodeLookup {
    /// Indexes the positions `0..n`, where `code_of` gives each one's code; when two share a code
    /// the first is found. With `folded`, codes are found whatever their case.
    pub fn build<'c>(n: usize, folded: bool, code_of: impl Fn(u32) -> &'c str) -> CodeLookup {
        let hasher = RandomState::new();
        let mut table = HashTable::with_capacity(n);
        for position in 0..n as u32 {
            let code = code_of(position);
            let entry = table.entry(
                hash(&hasher, folded, code),
                |held| lookup_equal(folded, code_of(*held), code),
                |held| hash(&hasher, folded, code_of(*held)),
            );
            if let hashbrown::hash_table::Entry::Vacant(vacant) = entry {
                vacant.insert(position);
            }
        }
        table.shrink_to_fit(|held| hash(&hasher, folded, code_of(*held)));
        CodeLookup { table, hasher, folded }
    }

    /// The position of the concept with this code.
    pub fn get<'c>(&self, code: &str, code_of: impl Fn(u32) -> &'c str) -> Option<u32> {
        self.table.find(hash(&self.hasher, self.folded, code), |held| lookup_equal(self.folded, code_of(*held), code)).copied()
    }

    /// How many distinct codes are held.
    pub fn n_codes(&self) -> usize {
        self.table.len()
    }
}

fn hash(hasher: &RandomState, folded: bool, code: &str) -> u64 {
    let mut hasher = hasher.build_hasher();
    if folded {
        for character in code.chars().flat_map(char::to_lowercase) {
            hasher.write_u32(character as u32);
        }
    } else {
        hasher.write(code.as_bytes());
    }
    hasher.finish()
}

fn lookup_equal(folded: bool, held: &str, wanted: &str) -> bool {
    if folded {
        held.chars().flat_map(char::to_lowercase).eq(wanted.chars().flat_map(char::to_lowercase))
    } else {
        held == wanted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_found_exactly_or_in_any_case_and_the_first_of_a_repeated_code_wins() {
        let codes = ["A01", "b02", "A01", "Straße"];
        let exact = CodeLookup::build(codes.len(), false, |position| codes[position as usize]);
        assert_eq!((exact.get("A01", |p| codes[p as usize]), exact.get("a01", |p| codes[p as usize])), (Some(0), None));
        assert_eq!(exact.n_codes(), 3);
        let folded = CodeLookup::build(codes.len(), true, |position| codes[position as usize]);
        assert_eq!(folded.get("a01", |p| codes[p as usize]), Some(0));
        assert_eq!(folded.get("B02", |p| codes[p as usize]), Some(1));
        assert_eq!(folded.get("STRASSE", |p| codes[p as usize]), None);
        assert_eq!(folded.get("straße", |p| codes[p as usize]), Some(3));
        assert_eq!(folded.get("c03", |p| codes[p as usize]), None);
    }
}
