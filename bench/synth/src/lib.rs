//! Deterministic synthetic terminology releases (a SNOMED CT RF2 Snapshot and a LOINC release)
//! with the real files, layout, identifiers and size, so fhirterm's load and index paths can be
//! measured and tested at scale without the licensed content.
//!
//! Everything follows from a seed and a scale factor: the same pair always writes the same bytes.
//! Scale 1.0 is the size of the real release (535,000 SNOMED CT concepts, 105,000 LOINC terms);
//! a small scale (say 0.002) writes a small release of the same shape for tests.

pub mod loinc;
pub mod snomed;
pub mod words;

/// SplitMix64: a small, fast generator whose stream is fixed by its seed on every platform,
/// which is all the releases need (no cryptographic quality, no dependency).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5eed_f41e_77e2_0001)
    }

    /// A generator for one part of a release, so that adding draws in one part leaves the others
    /// unchanged.
    pub fn fork(&self, stream: u64) -> Self {
        let mut forked = Rng(self.0 ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        forked.next_u64();
        forked
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, probability: f64) -> bool {
        self.unit() < probability
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A version-4 UUID, as RF2 refset member ids are.
    pub fn uuid(&mut self) -> String {
        let high = self.next_u64();
        let low = self.next_u64();
        let high = (high & 0xffff_ffff_ffff_0fff) | 0x4000;
        let low = (low & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
        format!("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", high >> 32, (high >> 16) & 0xffff, high & 0xffff, low >> 48, low & 0xffff_ffff_ffff)
    }
}

/// Rounds `full * scale` to a count, never below `floor`.
pub fn scaled(full: usize, scale: f64, floor: usize) -> usize {
    ((full as f64 * scale).round() as usize).max(floor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_is_fixed_by_the_seed() {
        let mut first = Rng::new(7);
        let mut second = Rng::new(7);
        let drawn: Vec<u64> = (0..5).map(|_| first.next_u64()).collect();
        assert_eq!(drawn, (0..5).map(|_| second.next_u64()).collect::<Vec<_>>());
        assert_ne!(Rng::new(8).next_u64(), drawn[0]);
        let uuid = Rng::new(1).uuid();
        assert_eq!(uuid.len(), 36);
        assert_eq!(&uuid[14..15], "4");
        assert!((0..1000).map(|_| first.below(10)).all(|n| n < 10));
    }
}
