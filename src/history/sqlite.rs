//! The embedded store: one SQLite file (rusqlite, library bundled) in WAL
//! mode with a busy timeout, so parallel CI jobs writing at once wait for
//! each other instead of failing. A file is only ever written once it is
//! known to be an imgaudit history (or is new or empty): anything else, or a
//! damaged file, is an error naming the file, and the file is left as it was.

use super::model::{Decoder, Figures, Packages, Record, RecordImage, RecordTotals};
use super::store::{sql, Query, Store};
use crate::error::{Error, Result};
use rusqlite::{params, Connection, OpenFlags, TransactionBehavior};
use std::path::Path;
use std::time::Duration;

/// How long a writer waits for another one before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

pub struct SqliteStore {
    conn: Connection,
    what: String,
}

fn err(what: &str, reason: impl Into<String>) -> Error {
    Error::History {
        what: what.to_string(),
        reason: reason.into(),
    }
}

/// A SQLite error in words that say what it means for the file.
fn db_err(what: &str, e: rusqlite::Error) -> Error {
    use rusqlite::ErrorCode::*;
    match e.sqlite_error_code() {
        Some(NotADatabase) => err(what, "not an imgaudit history (not an SQLite database)"),
        Some(DatabaseCorrupt) => err(
            what,
            format!("damaged imgaudit history ({e}); it was left as it is"),
        ),
        Some(DatabaseBusy | DatabaseLocked) => err(
            what,
            format!(
                "still locked by another writer after {} s ({e})",
                BUSY_TIMEOUT.as_secs()
            ),
        ),
        Some(ReadOnly | CannotOpen | PermissionDenied) => {
            err(what, format!("cannot open for writing ({e})"))
        }
        _ => err(what, e.to_string()),
    }
}

impl SqliteStore {
    pub fn open(path: &Path, create: bool) -> Result<SqliteStore> {
        let what = path.display().to_string();
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => return Err(err(&what, "a directory, not an imgaudit history")),
            Ok(m) if m.len() > 0 => {
                use std::io::Read;
                let mut head = [0u8; 16];
                let n = std::fs::File::open(path)
                    .and_then(|mut f| f.read(&mut head))
                    .map_err(|e| Error::io(what.clone(), e))?;
                if n < 16 || &head != b"SQLite format 3\0" {
                    return Err(err(
                        &what,
                        "not an imgaudit history (not an SQLite database); it was left as it is",
                    ));
                }
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !create => {
                return Err(err(&what, "no such history (record a run first)"));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(what, e)),
        }
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let conn = Connection::open_with_flags(path, flags).map_err(|e| db_err(&what, e))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| db_err(&what, e))?;
        let mut s = SqliteStore { conn, what };
        s.prepare()?;
        Ok(s)
    }

    fn tables(&self) -> Result<Vec<String>> {
        let mut st = self
            .conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
            .map_err(|e| db_err(&self.what, e))?;
        let names = st
            .query_map([], |r| r.get::<_, String>(0))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| db_err(&self.what, e))?;
        Ok(names)
    }

    /// Check the file is an imgaudit history (or empty), then create or
    /// migrate its schema.
    fn prepare(&mut self) -> Result<()> {
        let what = self.what.clone();
        let tables = self.tables()?;
        if tables.is_empty() {
            // A new or empty database: WAL first (it persists in the file).
            self.wal()?;
        } else {
            self.identify(&tables)?;
            if self.version()? == sql::SCHEMA_VERSION {
                return Ok(());
            }
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| db_err(&what, e))?;
        // Another process may have initialised or migrated it meanwhile.
        let tables: Vec<String> = {
            let mut st = tx
                .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
                .map_err(|e| db_err(&what, e))?;
            let v = st
                .query_map([], |r| r.get::<_, String>(0))
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(|e| db_err(&what, e))?;
            v
        };
        let mut version = 0;
        if tables.is_empty() {
            tx.execute_batch(
                "CREATE TABLE imgaudit_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
            )
            .map_err(|e| db_err(&what, e))?;
            tx.execute(
                "INSERT INTO imgaudit_meta (key, value) VALUES ('application', $1), ('schema_version', '0')",
                params![sql::APPLICATION],
            )
            .map_err(|e| db_err(&what, e))?;
        } else {
            version = tx
                .query_row(
                    "SELECT value FROM imgaudit_meta WHERE key = 'schema_version'",
                    [],
                    |r| r.get::<_, String>(0),
                )
                .map_err(|e| db_err(&what, e))?
                .parse::<i64>()
                .map_err(|_| err(&what, "damaged imgaudit history (bad schema_version)"))?;
        }
        if version > sql::SCHEMA_VERSION {
            return Err(newer(&what, version));
        }
        for (i, m) in sql::MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(
                &m.replace("{id}", "INTEGER PRIMARY KEY AUTOINCREMENT")
                    .replace("{blob}", "BLOB"),
            )
            .map_err(|e| db_err(&what, e))?;
            if i == sql::PACKAGES_MIGRATION {
                split_packages(&tx, &what)?;
            }
        }
        tx.execute(
            "UPDATE imgaudit_meta SET value = $1 WHERE key = 'schema_version'",
            params![sql::SCHEMA_VERSION.to_string()],
        )
        .map_err(|e| db_err(&what, e))?;
        tx.commit().map_err(|e| db_err(&what, e))
    }

    fn wal(&self) -> Result<()> {
        let mut last = None;
        for _ in 0..50 {
            match self
                .conn
                .query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))
            {
                Ok(_) => return Ok(()),
                Err(e)
                    if matches!(
                        e.sqlite_error_code(),
                        Some(
                            rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                        )
                    ) =>
                {
                    last = Some(e);
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => return Err(db_err(&self.what, e)),
            }
        }
        Err(db_err(&self.what, last.expect("a busy error")))
    }

    fn identify(&self, tables: &[String]) -> Result<()> {
        let not = || {
            err(
                &self.what,
                "not an imgaudit history (an SQLite database with other tables); it was left as it is",
            )
        };
        if !tables.iter().any(|t| t == "imgaudit_meta") {
            return Err(not());
        }
        let app: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM imgaudit_meta WHERE key = 'application'",
                [],
                |r| r.get(0),
            )
            .map(Some)
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                e => Err(db_err(&self.what, e)),
            })?;
        if app.as_deref() != Some(sql::APPLICATION) {
            return Err(not());
        }
        Ok(())
    }

    fn version(&self) -> Result<i64> {
        let v: String = self
            .conn
            .query_row(
                "SELECT value FROM imgaudit_meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .map_err(|e| db_err(&self.what, e))?;
        let v = v
            .parse::<i64>()
            .map_err(|_| err(&self.what, "damaged imgaudit history (bad schema_version)"))?;
        if v > sql::SCHEMA_VERSION {
            return Err(newer(&self.what, v));
        }
        Ok(v)
    }
}

fn newer(what: &str, v: i64) -> Error {
    err(
        what,
        format!(
            "history schema version {v} was written by a newer imgaudit (this one knows up to {})",
            sql::SCHEMA_VERSION
        ),
    )
}

/// Schema version 2: move each version 1 record's packages out of its
/// `figures` document into the `packages` column.
fn split_packages(tx: &rusqlite::Transaction, what: &str) -> Result<()> {
    let unsplit: Vec<(i64, String)> = {
        let mut st = tx.prepare(sql::UNSPLIT).map_err(|e| db_err(what, e))?;
        let v = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| db_err(what, e))?;
        v
    };
    let mut st = tx.prepare(sql::SPLIT).map_err(|e| db_err(what, e))?;
    for (id, figures) in unsplit {
        let (figures, packages) = Figures::split_v1(&figures).map_err(|e| {
            err(
                what,
                format!("damaged imgaudit history: record {id}: figures: {e}"),
            )
        })?;
        st.execute(params![figures, packages, id])
            .map_err(|e| db_err(what, e))?;
    }
    Ok(())
}

fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Store for SqliteStore {
    fn insert(&mut self, r: &Record) -> Result<i64> {
        let what = self.what.clone();
        let labels = serde_json::to_string(&r.labels).expect("labels serialize");
        let figures = r.figures_json();
        let packages = r.packages.encode();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| db_err(&what, e))?;
        let t = &r.totals;
        let id: i64 = tx
            .query_row(
                sql::INSERT_RECORD,
                params![
                    r.series,
                    r.recorded_at,
                    r.image.reference,
                    r.image.manifest_digest,
                    r.image.config_digest,
                    r.image.platform,
                    labels,
                    t.compressed_bytes.map(int),
                    int(t.layer_bytes),
                    int(t.final_bytes),
                    int(t.wasted_bytes),
                    int(t.files),
                    t.efficiency,
                    int(t.dive_wasted_bytes),
                    int(t.tar_bytes),
                    r.removable_bytes.map(int),
                    figures,
                    packages,
                ],
                |row| row.get(0),
            )
            .map_err(|e| db_err(&what, e))?;
        {
            let mut st = tx
                .prepare(sql::INSERT_LABEL)
                .map_err(|e| db_err(&what, e))?;
            for (k, v) in &r.labels {
                st.execute(params![id, k, v])
                    .map_err(|e| db_err(&what, e))?;
            }
        }
        tx.commit().map_err(|e| db_err(&what, e))?;
        Ok(id)
    }

    fn records(&mut self, q: &Query) -> Result<Vec<Record>> {
        let what = self.what.clone();
        let text = sql::select(q.labels.len(), "TEXT");
        let mut st = self.conn.prepare(&text).map_err(|e| db_err(&what, e))?;
        let mut values: Vec<rusqlite::types::Value> = vec![q.series.clone().into()];
        for (k, v) in &q.labels {
            values.push(k.clone().into());
            values.push(v.clone().into());
        }
        values.push(q.last.map(|n| n as i64).unwrap_or(i64::MAX).into());
        let mut rows = st
            .query(rusqlite::params_from_iter(values))
            .map_err(|e| db_err(&what, e))?;
        let mut out = Vec::new();
        let mut decoder = Decoder::default();
        while let Some(row) = rows.next().map_err(|e| db_err(&what, e))? {
            out.push(row_record(row, &what, &mut decoder).map_err(|e| match e {
                RowErr::Db(e) => db_err(&what, e),
                RowErr::Other(e) => e,
            })?);
        }
        out.reverse();
        Ok(out)
    }
}

enum RowErr {
    Db(rusqlite::Error),
    Other(Error),
}

impl From<rusqlite::Error> for RowErr {
    fn from(e: rusqlite::Error) -> Self {
        RowErr::Db(e)
    }
}

fn row_record(
    row: &rusqlite::Row,
    what: &str,
    decoder: &mut Decoder,
) -> std::result::Result<Record, RowErr> {
    let u = |i: usize| -> rusqlite::Result<u64> { Ok(row.get::<_, i64>(i)?.max(0) as u64) };
    let ou = |i: usize| -> rusqlite::Result<Option<u64>> {
        Ok(row.get::<_, Option<i64>>(i)?.map(|v| v.max(0) as u64))
    };
    let id: i64 = row.get(0)?;
    let damaged = |field: &str, e: serde_json::Error| {
        RowErr::Other(err(
            what,
            format!("damaged imgaudit history: record {id}: {field}: {e}"),
        ))
    };
    let labels: String = row.get(7)?;
    let conv = |i: usize, t: rusqlite::types::Type| {
        move |e: rusqlite::types::FromSqlError| {
            RowErr::Db(rusqlite::Error::FromSqlConversionFailure(i, t, Box::new(e)))
        }
    };
    let figures = row
        .get_ref(17)?
        .as_str()
        .map_err(conv(17, rusqlite::types::Type::Text))?;
    let packages = row
        .get_ref(18)?
        .as_blob_or_null()
        .map_err(conv(18, rusqlite::types::Type::Blob))?;
    let mut r = Record {
        id,
        series: row.get(1)?,
        recorded_at: row.get(2)?,
        image: RecordImage {
            reference: row.get(3)?,
            manifest_digest: row.get(4)?,
            config_digest: row.get(5)?,
            platform: row.get(6)?,
        },
        labels: serde_json::from_str(&labels).map_err(|e| damaged("labels", e))?,
        totals: RecordTotals {
            compressed_bytes: ou(8)?,
            layer_bytes: u(9)?,
            final_bytes: u(10)?,
            wasted_bytes: u(11)?,
            files: u(12)?,
            efficiency: row.get(13)?,
            dive_wasted_bytes: u(14)?,
            tar_bytes: u(15)?,
        },
        removable_bytes: ou(16)?,
        layers: Vec::new(),
        groups: Vec::new(),
        categories: Vec::new(),
        packages: Packages::default(),
    };
    r.set_stored_figures(figures, packages, decoder)
        .map_err(|e| {
            RowErr::Other(err(
                what,
                format!("damaged imgaudit history: record {id}: {e}"),
            ))
        })?;
    Ok(r)
}
