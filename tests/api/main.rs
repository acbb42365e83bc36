//! The one integration test binary: a real `authify` on a loopback port per test, driven over HTTP
//! by plain clients, by the relying-app crate, and by independent verifiers (PyJWT, node jose).
#![allow(clippy::unwrap_used, clippy::expect_used)]
// Tests compare with the real time (tokens verified by outside libraries, fixed clocks started now).
#![allow(clippy::disallowed_methods)]

mod abuse;
mod admin_cli;
mod api_tokens;
mod authn;
mod authz_matrix;
mod browser;
mod browser_mfa;
mod browser_oidc;
mod browser_passkeys;
mod browser_upstream;
mod callback;
mod client_address;
mod console;
mod credential_changes;
mod docs_check;
mod email_verification;
mod instances;
mod interop;
mod invitations;
mod keys_cli;
mod magic_links;
mod management;
mod mfa;
mod mfa_admin;
mod mfa_push;
mod mfa_support;
mod oidc;
mod oidc_clients;
mod oidc_logout;
mod oidc_refusals;
mod oidc_rust_client;
mod operations;
mod outbound;
mod passkeys;
mod password_reset;
mod passwordless;
mod public_keys;
mod relying_client;
mod search;
mod signin;
mod storage;
mod upstream_github;
mod upstream_oidc;
mod upstream_support;
