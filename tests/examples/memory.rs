//! Where a loaded release's memory goes: `cargo run --release -p tests --example memory -- FORMAT PATH`
//! (for example `snomed` and a synthetic release from `fhirterm-synth`). Counts the bytes live on
//! the heap after the loader, after the code system index, and after its text and ECL indexes, and
//! splits the code system's own bytes by what holds them. A profile, not a test: nothing is asserted.

use model::terminology::{CodeSystem, PropertyValue};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The system allocator, counting the bytes live.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(pointer, layout) }
    }
    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        unsafe { System.realloc(pointer, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn megabytes(bytes: usize) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// Heap bytes of a string's own buffer (none when it is kept inline).
fn text_heap(text: &model::CompactString) -> usize {
    if text.is_heap_allocated() {
        text.capacity()
    } else {
        0
    }
}

fn breakdown(code_system: &CodeSystem) {
    use std::mem::size_of;
    let concepts = &code_system.concepts;
    let (mut codes, mut displays, mut designations, mut designation_text, mut properties, mut property_heap, mut extras) =
        (0, 0, 0, 0, 0, 0, 0);
    let (mut n_designations, mut n_properties) = (0, 0);
    for concept in concepts {
        codes += concept.code.capacity();
        displays += concept.display.as_ref().map_or(0, String::capacity) + concept.definition.as_ref().map_or(0, String::capacity);
        designations += concept.designations.capacity() * size_of::<model::terminology::Designation>();
        n_designations += concept.designations.len();
        for designation in &concept.designations {
            designation_text += designation.value.capacity() + designation.language.as_ref().map_or(0, |language| language.len());
        }
        properties += concept.properties.capacity() * size_of::<model::terminology::ConceptProperty>();
        n_properties += concept.properties.len();
        for property in &concept.properties {
            property_heap += match &property.value {
                PropertyValue::Code(text) | PropertyValue::String(text) | PropertyValue::DateTime(text) | PropertyValue::Decimal(text) => {
                    text_heap(text)
                }
                PropertyValue::Coding(coding) => std::mem::size_of::<model::terminology::PropertyCoding>() + text_heap(&coding.code),
                PropertyValue::Other { value, .. } => value.to_string().len() + 64,
                _ => 0,
            };
        }
        extras += concept.extra.as_ref().map_or(0, |extra| extra.to_string().len() + 64);
    }
    println!(
        "  {} concepts: {} in the concept array ({} bytes each)",
        concepts.len(),
        megabytes(concepts.capacity() * size_of::<model::terminology::Concept>()),
        size_of::<model::terminology::Concept>()
    );
    println!("  codes {}, displays and definitions {}, concept extras ~{}", megabytes(codes), megabytes(displays), megabytes(extras));
    println!(
        "  {n_designations} designations: {} of entries ({} bytes each), {} of text",
        megabytes(designations),
        size_of::<model::terminology::Designation>(),
        megabytes(designation_text)
    );
    println!(
        "  {n_properties} properties: {} of entries ({} bytes each), {} of values on the heap",
        megabytes(properties),
        size_of::<model::terminology::ConceptProperty>(),
        megabytes(property_heap)
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [format, path] = args.as_slice() else {
        eprintln!("usage: memory FORMAT PATH");
        std::process::exit(2);
    };
    let format = loaders::Format::parse(format).unwrap_or_else(|| panic!("unknown format {format}"));
    let source = loaders::DirSource::new(std::path::Path::new(path)).expect("a release folder");
    let before = LIVE.load(Ordering::Relaxed);
    let loaded = loaders::load(format, &source, &loaders::LoadOptions::default()).expect("the release loads");
    let code_system = loaded.code_systems.into_iter().max_by_key(|code_system| code_system.concepts.len()).expect("a code system");
    let after_load = LIVE.load(Ordering::Relaxed);
    println!("loaded {}: {} live", code_system.url, megabytes(after_load - before));
    breakdown(&code_system);
    let index = store::index::CodeSystemIndex::new(code_system, None);
    let after_index = LIVE.load(Ordering::Relaxed);
    // The index first shrinks the lists the loader grew, so this can be negative.
    println!("code system index: {:+.1} MB", (after_index as f64 - after_load as f64) / 1e6);
    index.build_text_indexes();
    let after_text = LIVE.load(Ordering::Relaxed);
    println!("word index and sorted codes: +{}", megabytes(after_text - after_index));
    index.ecl_index();
    let after_ecl = LIVE.load(Ordering::Relaxed);
    println!("ECL index: +{}", megabytes(after_ecl - after_text));
    println!("total: {}", megabytes(after_ecl - before));
}
