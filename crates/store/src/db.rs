//! Connections to the one database, SQLite or PostgreSQL, chosen by the URL scheme.
//!
//! Queries are written once with diesel's DSL and expanded for each backend by [`with_conn!`],
//! which also covers what `MultiConnection` cannot (multi-row inserts).

use crate::{StoreError, StoreErrorKind};
use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool};
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// The PostgreSQL advisory lock held while migrations run ("fhterm" in ASCII).
const MIGRATION_LOCK_KEY: i64 = 0x6668_7465_726d;

/// A pool of connections to one backend.
#[derive(Clone)]
pub enum Database {
    Sqlite(Pool<ConnectionManager<SqliteConnection>>),
    Postgres(Pool<ConnectionManager<PgConnection>>),
}

/// Runs `$body` with `$conn` bound to a `&mut` concrete connection of whichever backend is in use.
macro_rules! with_conn {
    ($db:expr, |$conn:ident| $body:expr) => {
        match $db {
            $crate::db::Database::Sqlite(pool) => {
                let mut pooled = pool.get().map_err($crate::StoreError::pool)?;
                let $conn: &mut diesel::SqliteConnection = &mut pooled;
                $body
            }
            $crate::db::Database::Postgres(pool) => {
                let mut pooled = pool.get().map_err($crate::StoreError::pool)?;
                let $conn: &mut diesel::PgConnection = &mut pooled;
                $body
            }
        }
    };
}
pub(crate) use with_conn;

/// The page size of a new SQLite file, in bytes.
const SQLITE_NEW_FILE_PAGE_SIZE: u32 = 16_384;

#[derive(Debug)]
struct SqlitePragmas;

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute("PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
            .map_err(diesel::r2d2::Error::QueryError)
    }
}

impl Database {
    /// Connects to `sqlite://PATH`, `sqlite::memory:` or `postgres://…`, and runs pending migrations.
    pub fn open(url: &str) -> Result<Database, StoreError> {
        let database = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let shown = redact(url);
            let url = with_connect_timeout(url);
            // One connection first, bounded by libpq's own timeout, so that a database that
            // cannot be reached fails at once with libpq's reason instead of after the pool's
            // checkout timeout.
            PgConnection::establish(&url).map_err(|error| {
                StoreError::new(
                    StoreErrorKind::Unavailable,
                    format!("cannot connect to PostgreSQL at {shown}: {}", error.to_string().trim()),
                )
            })?;
            let manager = ConnectionManager::<PgConnection>::new(url.clone());
            let pool =
                Pool::builder().max_size(8).connection_timeout(std::time::Duration::from_secs(10)).build(manager).map_err(|error| {
                    StoreError::new(StoreErrorKind::Unavailable, format!("cannot connect to PostgreSQL at {shown}: {error}"))
                })?;
            Database::Postgres(pool)
        } else if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.trim_start_matches("//");
            let in_memory = path == ":memory:" || path.is_empty();
            let target = if in_memory { ":memory:".to_owned() } else { path.to_owned() };
            if !in_memory {
                // A new file is switched to WAL by one connection first: the pool opens all its
                // connections at once, and on a new file each tried to switch it, waited on the
                // others' locks and was retried after r2d2's back-off ("database is locked"): the
                // first load into a new file took twice as long as the next.
                let mut first = SqliteConnection::establish(&target).map_err(|error| {
                    StoreError::new(StoreErrorKind::Unavailable, format!("cannot open SQLite database '{path}': {error}"))
                })?;
                // A new file gets 16 KiB pages (SQLite's default is 4 KiB): a release's rows take a
                // quarter as many pages, and its commit writes and checkpoints fewer, larger frames
                // (ICD-10-CM 2026's rows copied in one transaction: commit 96 ms with 4 KiB pages,
                // 58 ms with 16 KiB). A file that already has pages keeps its size (this is a no-op).
                first.batch_execute(&format!("PRAGMA page_size = {SQLITE_NEW_FILE_PAGE_SIZE}"))?;
                SqlitePragmas.on_acquire(&mut first).map_err(|error| {
                    StoreError::new(StoreErrorKind::Unavailable, format!("cannot open SQLite database '{path}': {error}"))
                })?;
            }
            let manager = ConnectionManager::<SqliteConnection>::new(target);
            let pool = Pool::builder()
                .max_size(if in_memory { 1 } else { 8 })
                .connection_customizer(Box::new(SqlitePragmas))
                .build(manager)
                .map_err(|error| StoreError::new(StoreErrorKind::Unavailable, format!("cannot open SQLite database '{path}': {error}")))?;
            Database::Sqlite(pool)
        } else {
            return Err(StoreError::new(
                StoreErrorKind::Invalid,
                format!("unsupported database URL '{}': use sqlite://PATH or postgres://…", redact(url)),
            ));
        };
        database.migrate()?;
        Ok(database)
    }

    fn migrate(&self) -> Result<(), StoreError> {
        let run = |result: Result<Vec<diesel::migration::MigrationVersion<'_>>, Box<dyn std::error::Error + Send + Sync>>| {
            result.map(|_| ()).map_err(|error| StoreError::new(StoreErrorKind::Unavailable, format!("migration failed: {error}")))
        };
        match self {
            Database::Sqlite(pool) => run(pool.get().map_err(StoreError::pool)?.run_pending_migrations(SQLITE_MIGRATIONS)),
            Database::Postgres(pool) => {
                // Replicas starting together on a fresh database would run the same migration
                // twice; a session lock makes the later ones wait and then find nothing to do.
                let mut conn = pool.get().map_err(StoreError::pool)?;
                conn.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))?;
                let migrated = run(conn.run_pending_migrations(POSTGRES_MIGRATIONS));
                let unlocked = conn.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"));
                migrated?;
                unlocked?;
                Ok(())
            }
        }
    }

    /// How many connections the pool may open at once.
    pub fn max_connections(&self) -> usize {
        match self {
            Database::Sqlite(pool) => pool.max_size() as usize,
            Database::Postgres(pool) => pool.max_size() as usize,
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Database::Sqlite(_) => "sqlite",
            Database::Postgres(_) => "postgres",
        }
    }

    /// Answers whether the database is reachable now.
    pub fn ping(&self) -> Result<(), StoreError> {
        with_conn!(self, |conn| conn.batch_execute("SELECT 1").map_err(StoreError::from))
    }
}

/// How long one PostgreSQL connection attempt may take (libpq's `connect_timeout`, in seconds),
/// unless the URL sets its own: a server that cannot reach its database says so within 5 s.
pub const CONNECT_TIMEOUT_SECONDS: u32 = 4;

/// The URL with libpq's `connect_timeout` added when it has none.
pub(crate) fn with_connect_timeout(url: &str) -> String {
    if url.contains("connect_timeout=") {
        return url.to_owned();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}connect_timeout={CONNECT_TIMEOUT_SECONDS}")
}

/// A URL with any password removed, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_timeout_is_added_unless_set() {
        assert_eq!(with_connect_timeout("postgres://u@h/db"), "postgres://u@h/db?connect_timeout=4");
        assert_eq!(with_connect_timeout("postgres://u@h/db?sslmode=disable"), "postgres://u@h/db?sslmode=disable&connect_timeout=4");
        assert_eq!(with_connect_timeout("postgres://u@h/db?connect_timeout=9"), "postgres://u@h/db?connect_timeout=9");
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("postgres://nobody:secret@127.0.0.1:1/x"), "postgres://nobody:***@127.0.0.1:1/x");
        assert_eq!(redact("postgres://nobody@127.0.0.1:1/x"), "postgres://nobody@127.0.0.1:1/x");
    }
}
