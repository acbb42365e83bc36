//! One connection type over both backends, a pool that picks the backend by URL scheme, and the
//! embedded migrations.
//!
//! `diesel::MultiConnection::establish` tries each backend in turn and drops their errors, so a
//! mistyped PostgreSQL URL would surface as "invalid URL". The manager here picks the backend from
//! the scheme and keeps the driver's own error.

use std::time::Duration;

use diesel::connection::SimpleConnection as _;
use diesel::r2d2::{self, ManageConnection};
use diesel::{Connection as _, PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness as _, embed_migrations};

use crate::StoreError;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to either backend. Repository functions take `&mut DbConnection`.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    /// PostgreSQL.
    Postgresql(PgConnection),
    /// SQLite.
    Sqlite(SqliteConnection),
}

/// The connection pool.
pub type DbPool = r2d2::Pool<Manager>;

/// Which backend a URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// `postgres://` or `postgresql://`.
    Postgres(String),
    /// `sqlite://PATH`, `sqlite:PATH` or a bare path: a file.
    Sqlite(String),
}

impl Backend {
    /// Parses a database URL.
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Backend::Postgres(url.to_owned()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.is_empty() || path.contains("://") {
            return Err(StoreError::Url(format!(
                "{url:?}: expected postgres://user:pass@host/db or sqlite://path/to/file.db"
            )));
        }
        if path == ":memory:" {
            // SECURITY/durability: every pooled connection would get its own empty database.
            return Err(StoreError::Url(
                ":memory: cannot back a connection pool; use a file".into(),
            ));
        }
        Ok(Backend::Sqlite(path.to_owned()))
    }
}

/// Opens connections for the pool.
#[derive(Debug)]
pub struct Manager {
    backend: Backend,
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.backend {
            Backend::Postgres(url) => {
                let mut conn =
                    PgConnection::establish(url).map_err(r2d2::Error::ConnectionError)?;
                // Diesel keeps prepared statements; PostgreSQL would settle on a generic plan for
                // a search, which keeps the e-mail index scan (143 ms for a rare string at 100,000
                // users) instead of the trigram indexes (docs/performance.md).
                conn.batch_execute("SET plan_cache_mode = force_custom_plan")
                    .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Postgresql(conn))
            }
            Backend::Sqlite(path) => {
                let mut conn =
                    SqliteConnection::establish(path).map_err(r2d2::Error::ConnectionError)?;
                // busy_timeout first: setting WAL takes a lock, and another process (a command
                // line next to the server) may hold one for a moment. WAL lets readers proceed
                // during a write; busy_timeout queues writers instead of failing; foreign keys are
                // off by default in SQLite.
                conn.batch_execute(
                    "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                )
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, _: &mut DbConnection) -> bool {
        false
    }
}

/// A pool for `url`. SQLite files (and their directory) are created when missing.
pub fn connect(url: &str, max_size: u32) -> Result<DbPool, StoreError> {
    let backend = Backend::parse(url)?;
    if let Backend::Sqlite(path) = &backend
        && let Some(dir) = std::path::Path::new(path).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Connect(format!("{}: {e}", dir.display())))?;
    }
    if let Backend::Sqlite(path) = &backend {
        prepare_sqlite_file(std::path::Path::new(path))?;
        // One connection first: a path SQLite cannot use fails now, naming it, instead of after
        // the pool's wait for a connection.
        Manager {
            backend: backend.clone(),
        }
        .connect()
        .map_err(|e| StoreError::Connect(format!("{path}: {e}")))?;
    }
    // PostgreSQL: every connection is opened here, at start: with fewer idle ones r2d2 opens the
    // rest on a background thread, and a command that exits while libpq is still connecting
    // crashes in OpenSSL's exit handlers (seen with `authify orgs create` on PostgreSQL, built with
    // the `libpq-tls` feature). SQLite: two at start, the rest when load asks for them, closed
    // again after 10 idle minutes (r2d2's idle timeout): each connection keeps its own page and
    // statement caches, so an idle server holds two instead of the pool's size, and starts ~5 ms
    // sooner (docs/performance.md, start-up).
    let min_idle = match backend {
        Backend::Sqlite(_) => Some(max_size.min(2)),
        Backend::Postgres(_) => None,
    };
    r2d2::Pool::builder()
        .max_size(max_size)
        .min_idle(min_idle)
        // SECURITY: a request waits at most 3 s for a connection, then gets a 503 naming the
        // database: during an outage requests fail fast instead of piling up.
        .connection_timeout(Duration::from_secs(3))
        .build(Manager { backend })
        .map_err(|e| StoreError::Connect(e.to_string()))
}

/// Creates the SQLite file readable by its owner only (it holds password hashes, sealed secrets
/// and the audit log), or tightens an existing one and its `-wal` and `-shm` files. SQLite gives
/// the files it creates next to a database that database's permissions.
// SECURITY: 0600, not the umask's usual 0644.
fn prepare_sqlite_file(path: &std::path::Path) -> Result<(), StoreError> {
    let fail = |e: std::io::Error| StoreError::Connect(format!("{}: {e}", path.display()));
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map_err(fail)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let tighten = |name: &std::path::Path| {
            std::fs::set_permissions(name, std::fs::Permissions::from_mode(0o600))
        };
        tighten(path).map_err(fail)?;
        for suffix in ["-wal", "-shm"] {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            match tighten(name.as_ref()) {
                // SQLite deletes `-wal` and `-shm` when the last connection to the database
                // closes, which another process (or a pool being dropped) may do at any moment:
                // one that is missing, or vanishes before the change, has nothing to tighten.
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(fail(e)),
                _ => {}
            }
        }
    }
    Ok(())
}

/// How many migrations are not applied yet (0: the schema is at head).
pub fn pending_migrations(conn: &mut DbConnection) -> Result<usize, StoreError> {
    let pending = match conn {
        DbConnection::Postgresql(c) => c.pending_migrations(POSTGRES_MIGRATIONS).map(|v| v.len()),
        DbConnection::Sqlite(c) => c.pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
    };
    pending.map_err(|e| StoreError::Migration(e.to_string()))
}

/// Applies pending migrations; returns how many ran.
pub fn run_migrations(conn: &mut DbConnection) -> Result<usize, StoreError> {
    let applied = match conn {
        DbConnection::Postgresql(c) => c
            .run_pending_migrations(POSTGRES_MIGRATIONS)
            .map(|v| v.len()),
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
    };
    applied.map_err(|e| StoreError::Migration(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SQLite deletes `-wal` and `-shm` when a database's last connection closes, in whatever
    /// process: the start of another one must not fail on a file that was there a moment ago (a
    /// CI run saw "authify.db: No such file or directory" from a check-then-change).
    #[cfg(unix)]
    #[test]
    fn wal_files_that_vanish_while_the_database_is_prepared_are_not_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("authify.db");
        let wal = dir.path().join("authify.db-wal");
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let churn = {
            let (wal, stop) = (wal.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let _ = std::fs::write(&wal, b"");
                    let _ = std::fs::remove_file(&wal);
                }
            })
        };
        let failures = (0..20_000)
            .filter(|_| prepare_sqlite_file(&db).is_err())
            .count();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        churn.join().unwrap();
        assert_eq!(failures, 0, "prepare_sqlite_file failed {failures} times");
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&db).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn urls_pick_the_backend_and_memory_databases_are_refused() {
        assert_eq!(
            Backend::parse("postgres://u:p@h/db").unwrap(),
            Backend::Postgres("postgres://u:p@h/db".into())
        );
        assert_eq!(
            Backend::parse("sqlite://data/a.db").unwrap(),
            Backend::Sqlite("data/a.db".into())
        );
        assert_eq!(
            Backend::parse("sqlite:a.db").unwrap(),
            Backend::Sqlite("a.db".into())
        );
        assert_eq!(
            Backend::parse("./a.db").unwrap(),
            Backend::Sqlite("./a.db".into())
        );
        assert!(Backend::parse("mysql://x").is_err());
        assert!(Backend::parse("sqlite://:memory:").is_err());
        assert!(Backend::parse("").is_err());
    }

    #[test]
    fn the_two_migration_folders_hold_the_same_migrations() {
        let dir = |b: &str| {
            let mut names: Vec<String> =
                std::fs::read_dir(format!("{}/migrations/{b}", env!("CARGO_MANIFEST_DIR")))
                    .unwrap()
                    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect();
            names.sort();
            names
        };
        assert_eq!(dir("sqlite"), dir("postgres"));
        for name in dir("sqlite") {
            for b in ["sqlite", "postgres"] {
                for f in ["up.sql", "down.sql"] {
                    let p = format!("{}/migrations/{b}/{name}/{f}", env!("CARGO_MANIFEST_DIR"));
                    assert!(
                        std::fs::metadata(&p).is_ok_and(|m| m.len() > 0),
                        "{p} missing or empty"
                    );
                }
            }
        }
    }

    #[test]
    fn migrations_run_up_down_and_up_again_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let pool = connect(dir.path().join("sub/t.db").to_str().unwrap(), 2).unwrap();
        let mut conn = pool.get().unwrap();
        assert!(run_migrations(&mut conn).unwrap() >= 1);
        assert_eq!(run_migrations(&mut conn).unwrap(), 0);
        if let DbConnection::Sqlite(c) = &mut *conn {
            c.revert_all_migrations(SQLITE_MIGRATIONS).unwrap();
        }
        assert!(run_migrations(&mut conn).unwrap() >= 1);
    }
}
