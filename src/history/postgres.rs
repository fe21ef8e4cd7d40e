//! The shared store: a PostgreSQL server (`postgres` crate, synchronous,
//! no TLS) with the same schema and queries as the SQLite file. The server
//! and credentials come from the `postgres://` URL, with what it leaves out
//! taken from `PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD` and `PGDATABASE`
//! as libpq does. Credentials never appear in a message: the store is named
//! by `postgres://USER@HOST:PORT/DB` only.

use super::model::{Decoder, Figures, Packages, Record, RecordImage, RecordTotals};
use super::store::{sql, Query, Store};
use crate::error::{Error, Result};
use postgres::config::Host;
use postgres::{Client, Config, NoTls};
use std::str::FromStr;
use std::time::Duration;

/// Serialises schema creation and migration between concurrent clients.
const LOCK_KEY: i64 = 0x696d_6761_7564_6974; // "imgaudit"

pub struct PgStore {
    client: Client,
    what: String,
}

fn err(what: &str, reason: impl Into<String>) -> Error {
    Error::History {
        what: what.to_string(),
        reason: reason.into(),
    }
}

/// A server error in words, without anything from the connection string.
fn db_err(what: &str, e: postgres::Error) -> Error {
    match e.as_db_error() {
        Some(d) => err(what, format!("{}: {}", d.severity(), d.message())),
        None => err(what, e.to_string()),
    }
}

fn env(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

/// Parse `url` and fill in what it leaves out from the `PG*` variables.
/// Returns the config and the store's name for messages (no password).
pub fn config(url: &str) -> Result<(Config, String)> {
    // The URL itself may carry a password: never quote it back.
    let mut c = Config::from_str(url).map_err(|e| {
        err(
            "postgres URL",
            format!(
                "not a valid postgres:// URL ({})",
                e.to_string().replace(url, "…")
            ),
        )
    })?;
    if c.get_hosts().is_empty() {
        c.host(&env("PGHOST").unwrap_or_else(|| "localhost".into()));
    }
    if c.get_ports().is_empty() {
        if let Some(p) = env("PGPORT").and_then(|p| p.parse().ok()) {
            c.port(p);
        }
    }
    if c.get_user().is_none() {
        if let Some(u) = env("PGUSER").or_else(|| env("USER")) {
            c.user(&u);
        }
    }
    if c.get_password().is_none() {
        if let Some(p) = env("PGPASSWORD") {
            c.password(p);
        }
    }
    if c.get_dbname().is_none() {
        if let Some(d) = env("PGDATABASE") {
            c.dbname(&d);
        }
    }
    c.connect_timeout(Duration::from_secs(15));
    let host = match c.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = c.get_ports().first().copied().unwrap_or(5432);
    let user = c.get_user().unwrap_or("").to_string();
    let db = c.get_dbname().unwrap_or(&user).to_string();
    let what = format!("postgres://{user}@{host}:{port}/{db}");
    Ok((c, what))
}

impl PgStore {
    pub fn open(url: &str, create: bool) -> Result<PgStore> {
        let (c, what) = config(url)?;
        let client = c
            .connect(NoTls)
            .map_err(|e| err(&what, format!("cannot connect ({})", e)))?;
        let mut s = PgStore { client, what };
        s.prepare(create)?;
        Ok(s)
    }

    fn prepare(&mut self, create: bool) -> Result<()> {
        let what = self.what.clone();
        let mut tx = self.client.transaction().map_err(|e| db_err(&what, e))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
            .map_err(|e| db_err(&what, e))?;
        let has = |tx: &mut postgres::Transaction, t: &str| -> Result<bool> {
            let row = tx
                .query_one("SELECT to_regclass($1) IS NOT NULL", &[&t])
                .map_err(|e| db_err(&what, e))?;
            Ok(row.get(0))
        };
        let mut version: i64 = 0;
        if has(&mut tx, "imgaudit_meta")? {
            let rows = tx
                .query(
                    "SELECT key, value FROM imgaudit_meta WHERE key IN ('application', 'schema_version')",
                    &[],
                )
                .map_err(|e| db_err(&what, e))?;
            let get = |k: &str| {
                rows.iter()
                    .find(|r| r.get::<_, String>(0) == k)
                    .map(|r| r.get::<_, String>(1))
            };
            if get("application").as_deref() != Some(sql::APPLICATION) {
                return Err(err(
                    &what,
                    "not an imgaudit history (imgaudit_meta belongs to something else)",
                ));
            }
            version = get("schema_version")
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| err(&what, "damaged imgaudit history (bad schema_version)"))?;
        } else {
            if !create {
                return Err(err(
                    &what,
                    "no imgaudit history in this database (record a run first)",
                ));
            }
            if has(&mut tx, "records")? || has(&mut tx, "record_labels")? {
                return Err(err(
                    &what,
                    "not an imgaudit history: the database has a `records` table of its own (use another database or schema)",
                ));
            }
            tx.batch_execute(
                "CREATE TABLE imgaudit_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            )
            .map_err(|e| db_err(&what, e))?;
            tx.execute(
                "INSERT INTO imgaudit_meta (key, value) VALUES ('application', $1), ('schema_version', '0')",
                &[&sql::APPLICATION],
            )
            .map_err(|e| db_err(&what, e))?;
        }
        if version > sql::SCHEMA_VERSION {
            return Err(err(
                &what,
                format!(
                    "history schema version {version} was written by a newer imgaudit (this one knows up to {})",
                    sql::SCHEMA_VERSION
                ),
            ));
        }
        if version == sql::SCHEMA_VERSION {
            return tx.commit().map_err(|e| db_err(&what, e));
        }
        for (i, m) in sql::MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.batch_execute(
                &m.replace("{id}", "BIGSERIAL PRIMARY KEY")
                    .replace("{blob}", "BYTEA"),
            )
            .map_err(|e| db_err(&what, e))?;
            if i == sql::PACKAGES_MIGRATION {
                split_packages(&mut tx, &what)?;
            }
        }
        tx.execute(
            "UPDATE imgaudit_meta SET value = $1 WHERE key = 'schema_version'",
            &[&sql::SCHEMA_VERSION.to_string()],
        )
        .map_err(|e| db_err(&what, e))?;
        tx.commit().map_err(|e| db_err(&what, e))
    }
}

/// Schema version 2: move each version 1 record's packages out of its
/// `figures` document into the `packages` column.
fn split_packages(tx: &mut postgres::Transaction, what: &str) -> Result<()> {
    let rows = tx.query(sql::UNSPLIT, &[]).map_err(|e| db_err(what, e))?;
    let st = tx.prepare(sql::SPLIT).map_err(|e| db_err(what, e))?;
    for row in rows {
        let id: i64 = row.get(0);
        let (figures, packages) = Figures::split_v1(row.get(1)).map_err(|e| {
            err(
                what,
                format!("damaged imgaudit history: record {id}: figures: {e}"),
            )
        })?;
        tx.execute(&st, &[&figures, &packages, &id])
            .map_err(|e| db_err(what, e))?;
    }
    Ok(())
}

fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn un(v: i64) -> u64 {
    v.max(0) as u64
}

impl Store for PgStore {
    fn insert(&mut self, r: &Record) -> Result<i64> {
        let what = self.what.clone();
        let labels = serde_json::to_string(&r.labels).expect("labels serialize");
        let figures = r.figures_json();
        let packages = r.packages.encode();
        let t = &r.totals;
        let mut tx = self.client.transaction().map_err(|e| db_err(&what, e))?;
        let row = tx
            .query_one(
                sql::INSERT_RECORD,
                &[
                    &r.series,
                    &r.recorded_at,
                    &r.image.reference,
                    &r.image.manifest_digest,
                    &r.image.config_digest,
                    &r.image.platform,
                    &labels,
                    &t.compressed_bytes.map(int),
                    &int(t.layer_bytes),
                    &int(t.final_bytes),
                    &int(t.wasted_bytes),
                    &int(t.files),
                    &t.efficiency,
                    &int(t.dive_wasted_bytes),
                    &int(t.tar_bytes),
                    &r.removable_bytes.map(int),
                    &figures,
                    &packages,
                ],
            )
            .map_err(|e| db_err(&what, e))?;
        let id: i64 = row.get(0);
        let st = tx
            .prepare(sql::INSERT_LABEL)
            .map_err(|e| db_err(&what, e))?;
        for (k, v) in &r.labels {
            tx.execute(&st, &[&id, k, v])
                .map_err(|e| db_err(&what, e))?;
        }
        tx.commit().map_err(|e| db_err(&what, e))?;
        Ok(id)
    }

    fn records(&mut self, q: &Query) -> Result<Vec<Record>> {
        let what = self.what.clone();
        let text = sql::select(q.labels.len(), "TEXT");
        let limit: i64 = q.last.map(|n| n as i64).unwrap_or(i64::MAX);
        let mut params: Vec<&(dyn postgres::types::ToSql + Sync)> = vec![&q.series];
        for (k, v) in &q.labels {
            params.push(k);
            params.push(v);
        }
        params.push(&limit);
        let rows = self
            .client
            .query(&text, &params)
            .map_err(|e| db_err(&what, e))?;
        let mut out = Vec::with_capacity(rows.len());
        let mut decoder = Decoder::default();
        for row in rows.iter().rev() {
            let id: i64 = row.get(0);
            let damaged = |field: &str, e: serde_json::Error| {
                err(
                    &what,
                    format!("damaged imgaudit history: record {id}: {field}: {e}"),
                )
            };
            let labels: String = row.get(7);
            let figures: &str = row.get(17);
            let packages: Option<&[u8]> = row.get(18);
            let mut r = Record {
                id,
                series: row.get(1),
                recorded_at: row.get(2),
                image: RecordImage {
                    reference: row.get(3),
                    manifest_digest: row.get(4),
                    config_digest: row.get(5),
                    platform: row.get(6),
                },
                labels: serde_json::from_str(&labels).map_err(|e| damaged("labels", e))?,
                totals: RecordTotals {
                    compressed_bytes: row.get::<_, Option<i64>>(8).map(un),
                    layer_bytes: un(row.get(9)),
                    final_bytes: un(row.get(10)),
                    wasted_bytes: un(row.get(11)),
                    files: un(row.get(12)),
                    efficiency: row.get(13),
                    dive_wasted_bytes: un(row.get(14)),
                    tar_bytes: un(row.get(15)),
                },
                removable_bytes: row.get::<_, Option<i64>>(16).map(un),
                layers: Vec::new(),
                groups: Vec::new(),
                categories: Vec::new(),
                packages: Packages::default(),
            };
            r.set_stored_figures(figures, packages, &mut decoder)
                .map_err(|e| err(&what, format!("damaged imgaudit history: record {id}: {e}")))?;
            out.push(r);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::config;

    #[test]
    fn the_name_never_holds_the_password() {
        let (_, what) = config("postgres://alice:s3cret@db.example:6543/sizes").unwrap();
        assert_eq!(what, "postgres://alice@db.example:6543/sizes");
        let e = config("postgres://alice:s3cret@db.example:notaport/x")
            .err()
            .unwrap()
            .to_string();
        assert!(!e.contains("s3cret"), "{e}");
    }
}
