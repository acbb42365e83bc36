//! The `authify` binary's library half: settings, key files, start-up and the command line.
//! This is the only crate that reads files or the environment; lower crates get typed values.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod allocator;
pub mod cli;
pub mod deliver;
pub mod keystore;
pub mod outbound;
pub mod settings;
pub mod shared_keys;
pub mod startup;
pub mod upstream;

pub use settings::{KeySource, Settings, SettingsError};
pub use startup::{Application, StartupError};
