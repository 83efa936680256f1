//! Times ECL evaluation on a synthetic SNOMED CT-shaped code system of International size, in
//! memory (no database): `cargo run --release -p store --example ecl_scale [n_concepts]`.
//!
//! The code system has `n_concepts` concepts (535,000 by default) under the real top-level ids,
//! about 40% of them clinical findings and 8% body structures, built as a tree of random depth
//! with 8% of concepts given a second parent; every finding has one or two finding sites (in role
//! groups) pointing at body structures. It prints the time to build the index and the ECL index,
//! and the median of 21 uncached evaluations of each expression. Not a test: no speed is asserted.

use model::terminology::{CodeSystem, Concept, ConceptProperty};
use serde_json::json;
use std::time::Instant;

#[path = "support/random.rs"]
mod random;
use random::Random;

fn property(code: &str, value_key: &str, value: serde_json::Value) -> ConceptProperty {
    ConceptProperty::new(code, value_key, value)
}

fn concept(code: &str, parents: &[String]) -> Concept {
    Concept {
        code: code.to_owned(),
        display: Some(format!("Concept {code}")),
        definition: None,
        designations: Vec::new(),
        properties: parents.iter().map(|parent| property("parent", "valueCode", json!(parent))).collect(),
        extra: None,
        nest_parent: None,
    }
}

fn main() {
    let n_concepts: usize = std::env::args().nth(1).and_then(|text| text.parse().ok()).unwrap_or(535_000);
    let mut random = Random(0x5eed_1234_abcd_9876);
    let header = json!({"resourceType": "CodeSystem", "url": "http://snomed.info/sct", "version": "synthetic", "status": "active",
        "content": "complete", "hierarchyMeaning": "is-a",
        "property": [{"code": "parent", "uri": "http://hl7.org/fhir/concept-properties#parent", "type": "code"},
                     {"code": "363698007", "type": "code"}, {"code": "roleGroup", "type": "integer"}]});
    let mut code_system = CodeSystem::from_json(&header).expect("header");
    let root = "138875005".to_owned();
    let tops = ["404684003", "123037004", "410662002", "105590001", "373873005", "71388002"];
    code_system.concepts.push(concept(&root, &[]));
    for top in tops {
        code_system.concepts.push(concept(top, std::slice::from_ref(&root)));
    }
    code_system.concepts.push(concept("363698007", &["410662002".to_owned()]));
    // Each hierarchy grows from its top: a new concept's parent is a random earlier one of it.
    let shares = [(0usize, 40usize), (1, 8), (3, 10), (4, 12), (5, 30)];
    let mut members: Vec<Vec<String>> = tops.iter().map(|top| vec![(*top).to_owned()]).collect();
    let mut next_id = 1_000_000u64;
    while code_system.concepts.len() < n_concepts {
        let roll = random.below(100);
        let mut cumulative = 0;
        let hierarchy = shares.iter().find(|(_, share)| {
            cumulative += share;
            roll < cumulative
        });
        let hierarchy = hierarchy.map(|(hierarchy, _)| *hierarchy).unwrap_or(5);
        let pool = &members[hierarchy];
        // Prefer recent concepts a little, so the tree gets deep.
        let parent = pool[pool.len() - 1 - random.below(pool.len().min(2_000))].clone();
        let mut parents = vec![parent];
        if random.below(100) < 8 {
            let other = pool[random.below(pool.len())].clone();
            if other != parents[0] {
                parents.push(other);
            }
        }
        let code = format!("{next_id}");
        next_id += 1;
        code_system.concepts.push(concept(&code, &parents));
        members[hierarchy].push(code);
    }
    // Finding sites, in role groups.
    let structures = members[1].clone();
    let mut by_code: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (idx, concept) in code_system.concepts.iter().enumerate() {
        by_code.insert(concept.code.clone(), idx);
    }
    let mut n_relationships = 0;
    for finding in &members[0][1..] {
        let idx = by_code[finding];
        for group in 1..=(1 + random.below(2)) {
            let site = &structures[random.below(structures.len())];
            let properties = &mut code_system.concepts[idx].properties;
            properties.push(property("roleGroup", "valueInteger", json!(group)));
            properties.push(property("363698007", "valueCode", json!(site)));
            n_relationships += 1;
        }
    }
    println!(
        "{} concepts, {} findings, {} body structures, {n_relationships} finding sites",
        code_system.concepts.len(),
        members[0].len(),
        structures.len()
    );

    let started = Instant::now();
    let index = store::index::CodeSystemIndex::new(code_system, None);
    println!("CodeSystemIndex::new: {:?}", started.elapsed());
    let started = Instant::now();
    index.ecl_index();
    println!("EclIndex (first use): {:?}", started.elapsed());
    for expression in [
        "< 404684003 : 363698007 = << 123037004",
        "<< 404684003",
        "< 404684003 : { 363698007 = << 123037004 }",
        "< 404684003 : [2..*] { 363698007 = * }",
        "<< 123037004 MINUS < 123037004",
        "(< 404684003 : 363698007 = << 123037004) . 363698007",
        "< 404684003 {{ term = \"concept 10000\" }}",
        "< 404684003 {{ term = wild:\"concept 10000*\" }}",
    ] {
        let mut times = Vec::new();
        let mut n_members = 0;
        for _ in 0..21 {
            let started = Instant::now();
            let members = store::ecl::evaluate(&index, expression, None).expect("evaluates");
            times.push(started.elapsed());
            n_members = members.len();
        }
        times.sort();
        println!("{expression}: {n_members} members, p50 {:?}, min {:?}, max {:?}", times[10], times[0], times[20]);
    }
}
