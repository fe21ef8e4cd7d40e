//! imgaudit: where the bytes in a container image are, and how to get rid of
//! the ones you don't need.
//!
//! The library is a pipeline, one module per stage:
//! [`source`] (reference → manifest, config, layer readers) →
//! [`layer`] (bytes → verified changes) → [`tree`] (stacking, sizes) →
//! [`classify`] + [`breakdown`] (categories, packages, savings) →
//! [`analysis`] (the serializable model) → [`report`] (renderers).
//! [`analyze`] runs the whole pipeline.

pub mod analysis;
pub mod breakdown;
pub mod classify;
pub mod digest;
pub mod error;
pub mod layer;
pub mod report;
pub mod run;
pub mod source;
pub mod tree;
pub mod units;

pub use error::{Error, Result};
pub use run::{analyze, AnalyzeOptions};
