//! The fuzz targets on stable Rust: every committed corpus input, then a fixed number of
//! deterministic mutations of them. Coverage-guided runs use the same targets through
//! `cargo +nightly fuzz run TARGET` (see `fuzz/README.md`).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use tests::fuzz_targets::TARGETS;

/// A deterministic xorshift generator: the same mutations on every run and machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Fragments that reach the parsers' edges: delimiters, numbers out of range, nesting, escapes.
const TOKENS: &[&[u8]] = &[
    b"<",
    b">",
    b"</",
    b"/>",
    b"\"",
    b"{",
    b"}",
    b"[",
    b"]",
    b"&",
    b"=",
    b"|",
    b"\t",
    b"\n",
    b"\r\n",
    b",",
    b";",
    b"\0",
    b"-1",
    b"99999999999999999999",
    b"../",
    b"%",
    b"%ff",
    b"&amp;",
    b"&#x0;",
    b"\xff\xfe",
    b"\xc3\x28",
    b"url=",
    b"&count=",
    b"system=",
    b"code=",
    b"valueSet=",
    b"?fhir_vs=isa/",
    b"urn:oid:",
    b"<concept>",
    b"\"concept\":[",
    b"\"valueSet\":[\"",
    b"filter=",
];

fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(data.len() + 1);
        match rng.below(7) {
            0 if !data.is_empty() => {
                let idx = rng.below(data.len());
                data[idx] ^= 1 << rng.below(8);
            }
            1 => data.insert(at, rng.next() as u8),
            2 if at < data.len() => {
                let end = (at + 1 + rng.below(64)).min(data.len());
                data.drain(at..end);
            }
            3 if at < data.len() => {
                let end = (at + 1 + rng.below(256)).min(data.len());
                let copy = data[at..end].to_vec();
                let to = rng.below(data.len() + 1);
                data.splice(to..to, copy);
            }
            4 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                data.splice(at..at, token.iter().copied());
            }
            5 if !other.is_empty() => {
                let from = rng.below(other.len());
                let end = (from + 1 + rng.below(512)).min(other.len());
                data.splice(at..at, other[from..end].iter().copied());
            }
            _ => data.truncate(at),
        }
    }
    data
}

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus").join(target);
    let mut paths: Vec<_> = std::fs::read_dir(&folder)
        .unwrap_or_else(|error| panic!("{}: {error}", folder.display()))
        .flatten()
        .map(|entry| entry.path())
        .collect();
    paths.sort();
    paths.iter().map(|path| std::fs::read(path).expect("a corpus file")).collect()
}

#[test]
fn every_fuzz_target_survives_its_corpus_and_mutations() {
    let mut failures = Vec::new();
    for (name, target) in TARGETS {
        let seeds = corpus(name);
        assert!(!seeds.is_empty(), "{name}: the corpus is empty");
        let mutations_per_seed = match *name {
            "loaders" => 100,
            "operation_parameters" => 500,
            _ => 1_500,
        };
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ name.len() as u64);
        let mut inputs: Vec<Vec<u8>> = seeds.clone();
        for seed in &seeds {
            for _ in 0..mutations_per_seed {
                let other = &seeds[rng.below(seeds.len())];
                inputs.push(mutate(&mut rng, seed, other));
            }
        }
        for input in &inputs {
            if catch_unwind(AssertUnwindSafe(|| target(input))).is_err() {
                let path = std::env::temp_dir().join(format!("fhirterm-fuzz-{name}-{:016x}", Rng(input.len() as u64 + 1).next()));
                let _ = std::fs::write(&path, input);
                failures.push(format!("{name}: panicked on {} bytes, saved to {}", input.len(), path.display()));
            }
        }
        eprintln!("fuzz smoke: {name}: {} inputs, no panic", inputs.len());
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
