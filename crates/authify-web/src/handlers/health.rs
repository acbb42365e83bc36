//! Liveness (`/health`) and readiness (`/ready`) probes for load balancers and orchestrators.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde_json::json;

/// `GET /health`: 200 while the process serves requests.
pub async fn get_health() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "status": "ok" }))
}

/// `GET /ready`: 200 when the database answers, its schema is at head and a signing key is
/// loaded; otherwise 503 with the reason (a load balancer stops sending traffic here).
pub async fn get_ready(state: web::Data<crate::AppState>) -> HttpResponse {
    let kid = state.keys().keyring.signer().kid().to_owned();
    match state.db().ready().await {
        Ok(()) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(json!({ "status": "ready", "signing_key": kid })),
        Err(reason) => HttpResponse::ServiceUnavailable()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::RETRY_AFTER, "5"))
            .json(json!({ "status": "not_ready", "reason": reason })),
    }
}
