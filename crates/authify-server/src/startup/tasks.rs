//! What start-up runs beside the server: the housekeeping task, the metrics listener, and the
//! WebAuthn relying party it derives from the settings.

use std::net::TcpListener;

use actix_web::{App, HttpServer, web};
use authify_web::AppState;

use super::StartupError;
use crate::settings::Settings;

/// Every minute: forget throttle state of accounts not tried lately, and delete expired sessions
/// and sign-in flows (the database keeps only what can still be used); every hour, sign-ups
/// never verified in time.
pub(super) async fn housekeeping(state: std::sync::Weak<AppState>) {
    let mut every_minute = tokio::time::interval(std::time::Duration::from_secs(60));
    let mut minutes: u64 = 0;
    loop {
        every_minute.tick().await;
        let Some(state) = state.upgrade() else {
            return;
        };
        // Hourly (and at start): sign-ups never verified past AUTHIFY_UNVERIFIED_ACCOUNT_DAYS.
        if minutes.is_multiple_of(60) {
            match state.account().delete_unverified(state.now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(accounts = n, "unverified sign-ups deleted"),
                Err(e) => tracing::warn!(error = %e, "deleting unverified sign-ups failed"),
            }
        }
        minutes += 1;
        // The buckets of every use share one table: one sweep empties the full ones.
        if let Err(e) = state.throttle().forget_idle().await {
            tracing::warn!(error = %e, "deleting full attempt buckets failed");
        }
        match state.authn().sweep(state.now()).await {
            Ok((0, 0)) => {}
            Ok((sessions, flows)) => tracing::debug!(sessions, flows, "expired rows deleted"),
            Err(e) => tracing::warn!(error = %e, "deleting expired sessions and flows failed"),
        }
    }
}

/// The WebAuthn relying party: an explicit `AUTHIFY_WEBAUTHN_RP_ID` must fit the public URL
/// (start-up stops otherwise); without it, passkeys are on when the public URL's host is a
/// domain name, and off (with a log line saying why) for an IP address.
pub(super) fn passkey_rp(
    settings: &Settings,
) -> Result<Option<authify_core::mfa::passkey::PasskeyRp>, StartupError> {
    use authify_core::mfa::passkey::PasskeyRp;
    match &settings.webauthn_rp_id {
        Some(id) => PasskeyRp::new(&settings.public_url, Some(id))
            .map(Some)
            .map_err(|e| StartupError::Keyring(format!("AUTHIFY_WEBAUTHN_RP_ID: {e}"))),
        None => match PasskeyRp::new(&settings.public_url, None) {
            Ok(rp) => {
                tracing::info!(rp_id = rp.rp_id(), "passkeys on");
                Ok(Some(rp))
            }
            Err(why) => {
                tracing::info!("passkeys off: {why}");
                Ok(None)
            }
        },
    }
}

/// The metrics listener on `addr`: `/metrics` only, one worker; it stops with the server.
// SECURITY: metrics name routes, counts and pool sizes: never on the public listener.
pub(super) fn metrics_server(
    listener: TcpListener,
    state: web::Data<AppState>,
) -> Result<(u16, actix_web::dev::ServerHandle), StartupError> {
    let bind_err = |source| StartupError::Bind {
        addr: "the metrics address".into(),
        source,
    };
    let port = listener.local_addr().map_err(bind_err)?.port();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .configure(authify_web::metrics::configure)
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .map_err(bind_err)?
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    Ok((port, handle))
}
