//! `GET /metrics` (Prometheus text format), served only on `AUTHIFY_METRICS_BIND`, never on the
//! public listener; and the middleware that counts every public request by route and status.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};

use crate::state::AppState;

/// Middleware: counts the request under its route pattern (`/account/factors/{id}/remove`,
/// never the path itself, so the label set stays bounded) with its status and latency.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let Some(metrics) = authify_core::metrics::metrics() else {
        return next.call(req).await;
    };
    let start = std::time::Instant::now();
    let method = req.method().clone();
    let res = next.call(req).await?;
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "(unmatched)".to_owned());
    metrics.request(
        &route,
        method.as_str(),
        res.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    Ok(res)
}

/// `GET /metrics`.
pub async fn get_metrics(state: web::Data<AppState>) -> HttpResponse {
    let Some(metrics) = authify_core::metrics::metrics() else {
        return HttpResponse::ServiceUnavailable().body("metrics unavailable\n");
    };
    let gauges = authify_core::metrics::gauges(state.db(), state.hasher()).await;
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .insert_header(("cache-control", "no-store"))
        .body(metrics.render(gauges))
}

/// The routes of the metrics listener.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(crate::routes::read_only("/metrics", get_metrics))
        .default_service(web::to(crate::error::not_found));
}
