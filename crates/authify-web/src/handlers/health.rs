//! Liveness probe for load balancers and orchestrators.

use actix_web::HttpResponse;
use actix_web::http::header;
use serde_json::json;

/// `GET /health`: 200 while the process serves requests.
pub async fn get_health() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "status": "ok" }))
}
