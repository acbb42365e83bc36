//! Handlers, one module per area. Each extracts, calls one function, and maps to a response.

pub mod account;
pub mod account_factors;
pub mod account_sessions;
pub mod assets;
pub mod factor;
pub mod health;
pub mod jwt;
pub mod logout;
pub mod magic_link;
pub mod mail_links;
pub mod oidc;
pub mod passwordless;
pub mod signin;
pub mod upstream;
pub mod webauthn;
