//! The integration-test binary: drives the real `imgaudit` CLI on fixture
//! images — some written by this suite (so every byte is known by
//! construction), some built by the recipes in testdata/recipes with real
//! tools (umoci, skopeo, docker), and the committed demo image.

mod budget;
mod cache;
mod cache_integrity;
mod categories;
mod common;
mod containerd_apply;
mod daemon;
mod demo;
mod diff;
mod dive_ci;
mod dive_compat;
mod dive_matrix;
mod download_accuracy;
mod errors;
mod explorer;
mod first_hour;
mod history;
mod hostile_archive;
mod hostile_blobs;
mod hostile_changesets;
mod hostile_fixtures;
mod hostile_metadata;
mod hostile_names;
mod hostile_parsers;
mod hostile_registry;
mod hostile_seeds;
mod hostile_tar;
mod html;
mod jsonl;
mod layout;
mod platforms;
mod references;
mod registry;
mod report_layout;
mod reports;
mod services;
mod shapes;
mod wheels_strip;
