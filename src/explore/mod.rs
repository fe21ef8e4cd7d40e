//! The explorer: one model of an image's final filesystem (down to files)
//! and of what every layer added, modified, removed and wasted, built once
//! from the [`crate::analysis::Analysis`] and rendered by the HTML report's
//! zoomable treemap ([`crate::report::html`]) and the terminal view
//! ([`tui`]). Renderers only draw it.
//!
//! [`changes`] collects the per-layer path lists from the stacked tree
//! during the analysis; [`model`] folds the final path list into a bounded
//! tree and attaches those lists.

pub mod changes;
pub mod model;
pub mod tui;

pub use model::{Explorer, Kind, Layer, Limits, Node};
