//! Handlers, one module per area. Each extracts, calls one function, and maps to a response.

pub mod health;
pub mod jwt;
