//! Handlers, one module per area. Each extracts, calls one function, and maps to a response.

pub mod account;
pub mod assets;
pub mod health;
pub mod jwt;
pub mod signin;
