//! Phase timings of a release load, logged at debug level under the target `fhirterm::load`:
//! `FHIRTERM_LOG=fhirterm::load=debug fhirterm load …` prints where a load spends its time
//! (indexing, each table's rows, the commit, the registry swap), one line per phase.

use std::time::Instant;

/// The log target the phases are written under.
pub(crate) const TARGET: &str = "fhirterm::load";

/// A stopwatch over consecutive phases: each [`Phases::lap`] logs the time since the last one.
pub(crate) struct Phases {
    started: Instant,
    last: Instant,
}

impl Phases {
    pub(crate) fn start() -> Phases {
        let now = Instant::now();
        Phases { started: now, last: now }
    }

    /// Logs `phase` with the milliseconds it took (since the previous lap) and `rows`, the number
    /// of things it handled (rows written, concepts indexed; 0 when that means nothing).
    pub(crate) fn lap(&mut self, phase: &str, rows: usize) {
        let now = Instant::now();
        if tracing::enabled!(target: TARGET, tracing::Level::DEBUG) {
            let phase_ms = (now - self.last).as_secs_f64() * 1000.0;
            let total_ms = (now - self.started).as_secs_f64() * 1000.0;
            tracing::debug!(target: TARGET, phase, rows, phase_ms = format!("{phase_ms:.1}"), total_ms = format!("{total_ms:.1}"));
        }
        self.last = now;
    }
}
