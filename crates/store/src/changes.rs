//! Replicas on one PostgreSQL database hear each other's writes: every write sends
//! `NOTIFY fhirterm_changes` in its transaction, and [`ChangeListener`] `LISTEN`s on a connection
//! of its own and rebuilds the registry when a notification arrives.
//!
//! The listener is a plain thread polling libpq every 100 ms (diesel's `notifications_iter` reads
//! what has arrived without blocking). When its connection breaks it reconnects every few seconds;
//! meanwhile the server's 5 s poll of the write counter (the only mechanism on SQLite) still
//! brings the registry up to date.

use crate::repo::CHANGES_CHANNEL;
use crate::Terminology;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// How often the listening connection is asked for notifications.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// How long to wait before connecting again after the listening connection failed.
const RECONNECT_DELAY: Duration = Duration::from_secs(3);

/// A running listener; dropping it stops the thread (within one poll interval).
pub struct ChangeListener {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for ChangeListener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl ChangeListener {
    /// Starts listening for writes by other servers on `terminology`'s database, or answers `None`
    /// on SQLite, where a database has one writer process and the 5 s poll covers the rest.
    ///
    /// The thread holds the terminology weakly: it ends when the listener is dropped or the
    /// terminology is gone.
    pub fn start(terminology: &Arc<Terminology>) -> Option<ChangeListener> {
        let url = terminology.postgres_url()?.to_owned();
        let stop = Arc::new(AtomicBool::new(false));
        let stop_flag = stop.clone();
        let weak = Arc::downgrade(terminology);
        let thread = std::thread::Builder::new()
            .name("fhirterm-listen".to_owned())
            .spawn(move || listen(&url, &weak, &stop_flag))
            .expect("spawn the change listener thread");
        Some(ChangeListener { stop, thread: Some(thread) })
    }
}

fn listen(url: &str, terminology: &Weak<Terminology>, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        match listen_once(url, terminology, stop) {
            Ok(()) => return,
            Err(reason) => {
                tracing::warn!(%reason, "listening for changes by other replicas failed; the 5 s poll still applies, connecting again");
                sleep_unless_stopped(RECONNECT_DELAY, stop);
            }
        }
    }
}

/// Listens until stopped (`Ok`) or until the connection fails (`Err`, with the reason).
fn listen_once(url: &str, terminology: &Weak<Terminology>, stop: &AtomicBool) -> Result<(), String> {
    let mut connection = PgConnection::establish(url).map_err(|error| error.to_string())?;
    connection.batch_execute(&format!("LISTEN {CHANGES_CHANNEL}")).map_err(|error| error.to_string())?;
    // Writes made between the snapshot and LISTEN would otherwise wait for the poll.
    if !refresh(terminology) {
        return Ok(());
    }
    while !stop.load(Ordering::Relaxed) {
        let mut n_notifications = 0;
        for notification in connection.notifications_iter() {
            notification.map_err(|error| error.to_string())?;
            n_notifications += 1;
        }
        if n_notifications > 0 && !refresh(terminology) {
            return Ok(());
        }
        std::thread::sleep(POLL_INTERVAL);
    }
    Ok(())
}

/// Rebuilds the indexes if the database changed; `false` when the terminology is gone.
fn refresh(terminology: &Weak<Terminology>) -> bool {
    let Some(terminology) = terminology.upgrade() else { return false };
    match terminology.refresh_if_changed() {
        Ok(true) => tracing::info!("indexes rebuilt after a write by another replica (notified)"),
        Ok(false) => {}
        Err(error) => tracing::warn!(%error, "cannot rebuild the indexes after a notification"),
    }
    true
}

fn sleep_unless_stopped(duration: Duration, stop: &AtomicBool) {
    let deadline = std::time::Instant::now() + duration;
    while !stop.load(Ordering::Relaxed) && std::time::Instant::now() < deadline {
        std::thread::sleep(POLL_INTERVAL);
    }
}
