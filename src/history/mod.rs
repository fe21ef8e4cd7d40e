//! Size history (issue 15): every recorded run of `analyze` or `check` kept
//! in a store, read back as a series of records, with the steps between
//! consecutive builds and the slow creeps found in them.
//!
//! - `model.rs`: a [`Record`] (series, image, labels, totals and the
//!   per-layer, per-group, per-category and per-package figures), built from
//!   an analysis or from saved `analyze --format json` output;
//! - `packages.rs`: a record's bytes per package, compact ([`Packages`]),
//!   and their stored form;
//! - `labels.rs`: the labels a CI system's environment gives a run;
//! - `store.rs`: the [`Store`] trait and [`open`], which picks SQLite for a
//!   path and PostgreSQL for a `postgres://` URL;
//! - `sqlite.rs`: the embedded store (WAL, schema version and migrations);
//! - `postgres.rs`: the shared store, same schema and queries;
//! - `steps.rs`: steps between consecutive records, which of them are beyond
//!   the series' normal noise, and creeps (docs/HISTORY.md states the rules).

mod baseline;
mod labels;
mod model;
mod packages;
mod postgres;
mod sqlite;
mod steps;
mod store;
mod time;

pub use labels::{ci_labels, parse_label};
pub use model::{series_of, Figure, LayerFigure, Record, RecordImage, RecordTotals};
pub use packages::Packages;
pub use steps::{analyse, Change, Creep, History, Step};
pub use store::{open, Query, Store};
pub use time::{now_rfc3339, rfc3339};
