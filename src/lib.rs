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
pub mod budget;
pub mod cache;
pub mod classify;
pub mod diff;
pub mod digest;
pub(crate) mod entryfile;
pub mod error;
pub mod explore;
pub mod finding;
pub mod history;
pub mod layer;
pub mod report;
pub mod run;
pub mod source;
pub mod summary;
pub mod tree;
pub mod units;

pub use error::{Error, Result};
pub use run::{analyze, AnalyzeOptions};

/// Free a large structure (the size tree, decoded layer changes, package
/// index: hundreds of thousands of small allocations) on a background thread,
/// so the caller goes on to render while the allocator works on the other
/// core.
pub(crate) fn drop_later<T: Send + 'static>(value: T) {
    // If no thread can be started, the closure and the value drop right here.
    let _ = std::thread::Builder::new()
        .name("imgaudit-drop".into())
        .spawn(move || drop(value));
}
