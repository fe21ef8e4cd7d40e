//! The store interface: record a run, read a series back. [`open`] picks the
//! backend from the location: a `postgres://` (or `postgresql://`) URL is a
//! PostgreSQL server, anything else a SQLite file.

use super::model::Record;
use crate::error::Result;

/// Which records to read.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Only this series.
    pub series: Option<String>,
    /// Only records carrying every one of these labels.
    pub labels: Vec<(String, String)>,
    /// Only the last N (newest) matching records.
    pub last: Option<usize>,
}

/// A history store.
pub trait Store {
    /// Store a record; returns its id. Safe against concurrent writers.
    fn insert(&mut self, r: &Record) -> Result<i64>;
    /// The records matching `q`, oldest first.
    fn records(&mut self, q: &Query) -> Result<Vec<Record>>;
}

/// Open the history at `location`; `create` makes a missing one (for
/// recording), else a missing history is an error (for reading).
pub fn open(location: &str, create: bool) -> Result<Box<dyn Store>> {
    if location.starts_with("postgres://") || location.starts_with("postgresql://") {
        return Ok(Box::new(super::postgres::PgStore::open(location, create)?));
    }
    Ok(Box::new(super::sqlite::SqliteStore::open(
        std::path::Path::new(location),
        create,
    )?))
}

/// The SQL both backends run, with `$n` placeholders (SQLite accepts them
/// too). Schema version 2.
pub(crate) mod sql {
    /// Marks a database as an imgaudit history (`imgaudit_meta`).
    pub const APPLICATION: &str = "imgaudit-history";
    /// The schema version this build writes.
    pub const SCHEMA_VERSION: i64 = 2;

    /// Migrations, in order: `MIGRATIONS[n]` takes schema version n to n+1.
    /// `{id}` is the backend's auto-increment primary key type, `{blob}` its
    /// binary type. After `MIGRATIONS[1]` the backend moves each record's
    /// packages out of its `figures` document ([`PACKAGES_MIGRATION`]).
    pub const MIGRATIONS: &[&str] = &[
        r#"
CREATE TABLE records (
    id {id},
    series TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    reference TEXT NOT NULL,
    manifest_digest TEXT,
    config_digest TEXT NOT NULL,
    platform TEXT NOT NULL,
    labels TEXT NOT NULL,
    compressed_bytes BIGINT,
    layer_bytes BIGINT NOT NULL,
    final_bytes BIGINT NOT NULL,
    wasted_bytes BIGINT NOT NULL,
    files BIGINT NOT NULL,
    efficiency DOUBLE PRECISION NOT NULL,
    dive_wasted_bytes BIGINT NOT NULL,
    tar_bytes BIGINT NOT NULL,
    removable_bytes BIGINT,
    figures TEXT NOT NULL
);
CREATE INDEX records_series_id ON records (series, id);
CREATE TABLE record_labels (
    record_id BIGINT NOT NULL REFERENCES records (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (record_id, key)
);
CREATE INDEX record_labels_key_value ON record_labels (key, value, record_id);
"#,
        // Version 2: the packages in their own compact column
        // (`history::Packages::encode`), so reading a record parses a small
        // document; NULL only while a version 1 record is being migrated.
        "ALTER TABLE records ADD COLUMN packages {blob};",
    ];

    /// The migration after which the backend splits the packages out of
    /// every record's `figures` document (`Figures::split_v1`).
    pub const PACKAGES_MIGRATION: usize = 1;

    /// Version 1 records to split: id and `figures`.
    pub const UNSPLIT: &str = "SELECT id, figures FROM records WHERE packages IS NULL";
    pub const SPLIT: &str = "UPDATE records SET figures = $1, packages = $2 WHERE id = $3";

    pub const INSERT_RECORD: &str = "INSERT INTO records (series, recorded_at, reference, \
        manifest_digest, config_digest, platform, labels, compressed_bytes, layer_bytes, \
        final_bytes, wasted_bytes, files, efficiency, dive_wasted_bytes, tar_bytes, \
        removable_bytes, figures, packages) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
        $11, $12, $13, $14, $15, $16, $17, $18) RETURNING id";

    pub const INSERT_LABEL: &str =
        "INSERT INTO record_labels (record_id, key, value) VALUES ($1, $2, $3)";

    pub const COLUMNS: &str = "id, series, recorded_at, reference, manifest_digest, \
        config_digest, platform, labels, compressed_bytes, layer_bytes, final_bytes, \
        wasted_bytes, files, efficiency, dive_wasted_bytes, tar_bytes, removable_bytes, figures, \
        packages";

    /// The records query for `q`: `$1` the series (or NULL), then one pair
    /// of parameters per label, then the limit. `text` is the backend's
    /// cast for a text parameter compared with NULL.
    pub fn select(labels: usize, text: &str) -> String {
        let mut s = format!(
            "SELECT {COLUMNS} FROM records WHERE (CAST($1 AS {text}) IS NULL OR series = $1)"
        );
        for i in 0..labels {
            s.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM record_labels l WHERE l.record_id = records.id \
                 AND l.key = ${} AND l.value = ${})",
                2 + 2 * i,
                3 + 2 * i
            ));
        }
        s.push_str(&format!(" ORDER BY id DESC LIMIT ${}", 2 + 2 * labels));
        s
    }
}
