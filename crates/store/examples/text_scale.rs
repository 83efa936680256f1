//! Times what `$expand` reads from a code system index at SNOMED CT International size, in memory
//! (no database): `cargo run --release -p store --example text_scale [n_concepts]`.
//!
//! The code system has `n_concepts` concepts (350,000 by default) in a tree of random depth under
//! six top-level concepts (the first holds about 40% of them), each with a display of three to six
//! words from a vocabulary of 5,000 and two designations. It prints the time to build the word
//! index and the sorted code list, a text search by scanning (what a call gets before the
//! background build is done) and from the index, and the first and a cached read of the largest
//! branch. Not a test: no speed is asserted.

use model::terminology::CodeSystem;
use serde_json::json;
use std::time::{Duration, Instant};

#[path = "support/random.rs"]
mod random;
use random::Random;

/// The median of `runs` timings of `work`.
fn median(runs: usize, mut work: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            work();
            started.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn main() {
    let n_concepts: usize = std::env::args().nth(1).and_then(|text| text.parse().ok()).unwrap_or(350_000);
    let mut random = Random(0x5eed_1234_abcd_9876);
    let syllables = ["fra", "ct", "ure", "fem", "ur", "card", "io", "my", "path", "y", "neo", "plas", "m", "oste", "itis", "derm"];
    let vocabulary: Vec<String> =
        (0..5_000).map(|_| (0..2 + random.below(3)).map(|_| syllables[random.below(syllables.len())]).collect::<String>()).collect();
    let sentence = |random: &mut Random| {
        (0..3 + random.below(4)).map(|_| vocabulary[random.below(vocabulary.len())].as_str()).collect::<Vec<_>>().join(" ")
    };
    let mut concepts = vec![json!({"code": "138875005", "display": "Root"})];
    let tops = ["404684003", "123037004", "410662002", "105590001", "373873005", "71388002"];
    let mut members: Vec<Vec<String>> = tops.iter().map(|top| vec![(*top).to_owned()]).collect();
    for top in tops {
        concepts.push(json!({"code": top, "display": sentence(&mut random), "property": [{"code": "parent", "valueCode": "138875005"}]}));
    }
    let mut next_id = 1_000_000u64;
    while concepts.len() < n_concepts {
        let hierarchy = if random.below(100) < 40 { 0 } else { 1 + random.below(tops.len() - 1) };
        let pool = &members[hierarchy];
        let parent = pool[pool.len() - 1 - random.below(pool.len().min(2_000))].clone();
        let code = format!("{next_id}");
        next_id += 1;
        concepts.push(json!({
            "code": code, "display": sentence(&mut random),
            "designation": [{"value": sentence(&mut random)}, {"language": "en", "value": sentence(&mut random)}],
            "property": [{"code": "parent", "valueCode": parent}]
        }));
        members[hierarchy].push(code);
    }
    let resource = json!({"resourceType": "CodeSystem", "url": "http://snomed.info/sct", "version": "synthetic", "status": "active",
        "content": "complete", "hierarchyMeaning": "is-a",
        "property": [{"code": "parent", "uri": "http://hl7.org/fhir/concept-properties#parent", "type": "code"}],
        "concept": concepts});
    let index = store::index::CodeSystemIndex::new(CodeSystem::from_json(&resource).expect("a code system"), None);
    println!("{} concepts, {} under 404684003", index.len(), members[0].len());
    let query = format!("{} {}", vocabulary[7], &vocabulary[11][..3]);

    let scanned = Instant::now();
    let by_scan = index.text_search(&query);
    println!("text search {query:?} by scanning (index not built): {:?}, {} matches", scanned.elapsed(), by_scan.len());
    let started = Instant::now();
    index.build_code_list();
    println!("sorted code list: {:?}", started.elapsed());
    let started = Instant::now();
    index.build_text_indexes();
    println!("word index: {:?}", started.elapsed());
    let by_index = index.text_search(&query);
    assert_eq!(by_index, by_scan, "the scan and the index answer alike");
    println!("text search from the index: p50 {:?}", median(21, || drop(index.text_search(&query))));
    println!("text search by scanning: p50 {:?}", median(5, || drop(index.scan_texts(&query))));
    let root = index.find("404684003").expect("the root");
    let started = Instant::now();
    let branch = index.branch(root);
    println!("branch of 404684003 ({} concepts), first read: {:?}", branch.len(), started.elapsed());
    println!("branch of 404684003, cached: p50 {:?}", median(21, || drop(index.branch(root))));
}
