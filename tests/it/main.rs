//! The integration-test binary: drives the real `imgaudit` CLI on fixture
//! images — some written by this suite (so every byte is known by
//! construction), some built by the recipes in testdata/recipes with real
//! tools (umoci, skopeo, docker), and the committed demo image.

mod budget;
mod cache;
mod categories;
mod common;
mod daemon;
mod demo;
mod diff;
mod dive_compat;
mod errors;
mod html;
mod layout;
mod registry;
mod reports;
mod services;
mod shapes;
