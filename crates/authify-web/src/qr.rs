//! QR codes of `otpauth://` URIs as SVG images (served as files: pages carry no inline script
//! or data URI). `qrcodegen` builds the matrix; this draws it as one path.

use actix_web::HttpResponse;
use actix_web::http::header;
use qrcodegen::{QrCode, QrCodeEcc};

/// The SVG of `text`, 4 modules of quiet zone, black on white.
pub fn svg(text: &str) -> Option<String> {
    let qr = QrCode::encode_text(text, QrCodeEcc::Medium).ok()?;
    let border = 4;
    let size = qr.size() + border * 2;
    let mut path = String::new();
    for y in 0..qr.size() {
        for x in 0..qr.size() {
            if qr.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + border, y + border));
            }
        }
    }
    Some(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" shape-rendering=\"crispEdges\"><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
    ))
}

/// The SVG as a response that is never cached (it holds a secret).
pub fn svg_response(text: &str) -> HttpResponse {
    match svg(text) {
        Some(body) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .content_type("image/svg+xml")
            .body(body),
        None => HttpResponse::InternalServerError().finish(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_uri_becomes_a_square_svg_with_modules() {
        let s =
            svg("otpauth://totp/Authify:ada%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Authify")
                .unwrap_or_default();
        assert!(s.starts_with("<svg"));
        assert!(s.matches('M').count() > 100);
    }
}
