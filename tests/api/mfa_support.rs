//! Loopback receivers for the second-factor tests: an SMS gateway that checks each delivery's
//! HMAC-SHA256 signature (computed here from `sha2`, not with the server's crypto library), and
//! a minimal SMTP server (RFC 5321 without extensions) that lettre, the server's mail client,
//! delivers to. Plus small readers of pages and tokens.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine as _;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::{Mutex, mpsc};

/// HMAC-SHA256 (RFC 2104) from the hash alone.
fn hmac_sha256(key: &[u8], message: &[u8]) -> String {
    let mut k = if key.len() > 64 {
        Sha256::digest(key).to_vec()
    } else {
        key.to_vec()
    };
    k.resize(64, 0);
    let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha256::new()
        .chain_update(&ipad)
        .chain_update(message)
        .finalize();
    let outer = Sha256::new()
        .chain_update(&opad)
        .chain_update(inner)
        .finalize();
    outer.iter().map(|b| format!("{b:02x}")).collect()
}

/// A text message the gateway received.
#[derive(Debug, Clone)]
pub struct Sms {
    pub to: String,
    pub message: String,
}

impl Sms {
    /// The six-digit code in the message.
    pub fn code(&self) -> String {
        six_digits_in(&self.message)
    }
}

/// The first run of exactly six digits in `text`.
pub fn six_digits_in(text: &str) -> String {
    let bytes = text.as_bytes();
    for i in 0..bytes.len().saturating_sub(5) {
        let window = &bytes[i..i + 6];
        let before = i == 0 || !bytes[i - 1].is_ascii_digit();
        let after = bytes.get(i + 6).is_none_or(|b| !b.is_ascii_digit());
        if before && after && window.iter().all(u8::is_ascii_digit) {
            return String::from_utf8(window.to_vec()).unwrap();
        }
    }
    panic!("no six-digit code in {text:?}");
}

/// A loopback webhook receiver (SMS gateway, push gateway).
pub struct SmsReceiver {
    port: u16,
    rx: Mutex<mpsc::Receiver<serde_json::Value>>,
    bad: Arc<AtomicUsize>,
}

impl SmsReceiver {
    /// Listens on a free port; deliveries signed with another secret are counted and refused.
    pub async fn start(secret: &'static str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, rx) = mpsc::channel(64);
        let bad = Arc::new(AtomicUsize::new(0));
        let counted = bad.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (tx, counted) = (tx.clone(), counted.clone());
                tokio::spawn(async move {
                    let mut reader = BufReader::new(stream);
                    let mut length = 0usize;
                    let mut signature = String::new();
                    let mut timestamp = String::new();
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let line = line.trim_end();
                        if line.is_empty() {
                            break;
                        }
                        let lower = line.to_ascii_lowercase();
                        if let Some(v) = lower.strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                        if let Some(v) = lower.strip_prefix("x-authify-signature:") {
                            signature = v.trim().to_owned();
                        }
                        if let Some(v) = lower.strip_prefix("x-authify-timestamp:") {
                            timestamp = v.trim().to_owned();
                        }
                    }
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).await.unwrap();
                    // The MAC covers "<timestamp>.<body>"; a receiver refuses stale timestamps
                    // (here: more than 10 minutes from now), so a captured delivery cannot be
                    // replayed later.
                    let mut signed = format!("{timestamp}.").into_bytes();
                    signed.extend_from_slice(&body);
                    let expected = format!("sha256={}", hmac_sha256(secret.as_bytes(), &signed));
                    let fresh = timestamp
                        .parse::<i64>()
                        .is_ok_and(|t| (t - chrono::Utc::now().timestamp()).abs() < 600);
                    let ok = signature == expected && fresh;
                    let status = if ok { "200 OK" } else { "401 Unauthorized" };
                    let _ = reader
                        .get_mut()
                        .write_all(format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").as_bytes())
                        .await;
                    if !ok {
                        counted.fetch_add(1, Ordering::SeqCst);
                        return;
                    }
                    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
                    let _ = tx.send(v).await;
                });
            }
        });
        SmsReceiver {
            port,
            rx: Mutex::new(rx),
            bad,
        }
    }

    /// The webhook URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/sms", self.port)
    }

    /// The next delivery's JSON body (fails after 10 seconds).
    pub async fn next_json(&self) -> serde_json::Value {
        tokio::time::timeout(Duration::from_secs(10), self.rx.lock().await.recv())
            .await
            .expect("a delivery within 10 s")
            .unwrap()
    }

    /// The next text message (fails after 10 seconds).
    pub async fn next(&self) -> Sms {
        let v = self.next_json().await;
        Sms {
            to: v["to"].as_str().unwrap().to_owned(),
            message: v["message"].as_str().unwrap().to_owned(),
        }
    }

    /// Deliveries refused for a wrong signature.
    pub fn bad_signatures(&self) -> usize {
        self.bad.load(Ordering::SeqCst)
    }
}

/// A mail the SMTP server received.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub data: String,
}

impl Mail {
    /// The message as a reader sees it: quoted-printable soft line breaks joined and `=XX`
    /// escapes decoded (lettre encodes bodies with long lines or `=` that way).
    pub fn text(&self) -> String {
        let joined = self.data.replace("=\r\n", "").replace("=\n", "");
        let bytes = joined.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if bytes[i] == b'='
                && i + 2 < bytes.len()
                && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
            {
                out.push((h * 16 + l) as u8);
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// The decoded body of the part of this content type (`text/plain`, `text/html`), if any.
    pub fn part(&self, content_type: &str) -> Option<String> {
        let text = self.text().replace("\r\n", "\n");
        let start = text.find(&format!("Content-Type: {content_type}"))?;
        let body = &text[start..];
        let body = &body[body.find("\n\n")? + 2..];
        let end = body.find("\n--").unwrap_or(body.len());
        Some(body[..end].to_owned())
    }

    /// The plain-text body (what the codes and links are read from).
    pub fn plain(&self) -> String {
        self.part("text/plain").unwrap_or_else(|| self.text())
    }
}

/// A loopback SMTP server.
pub struct SmtpReceiver {
    port: u16,
    rx: Mutex<mpsc::Receiver<Mail>>,
}

impl SmtpReceiver {
    /// Listens on a free port.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, rx) = mpsc::channel(64);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let tx = tx.clone();
                tokio::spawn(async move {
                    let mut s = BufReader::new(stream);
                    let _ = s.get_mut().write_all(b"220 localhost test SMTP\r\n").await;
                    let mut to = String::new();
                    loop {
                        let mut line = String::new();
                        if s.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let upper = line.to_ascii_uppercase();
                        let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO")
                        {
                            b"250 localhost\r\n"
                        } else if upper.starts_with("RCPT TO:") {
                            to = line[8..].trim().trim_matches(['<', '>']).to_owned();
                            b"250 OK\r\n"
                        } else if upper.starts_with("DATA") {
                            let _ = s.get_mut().write_all(b"354 go on\r\n").await;
                            let mut data = String::new();
                            loop {
                                let mut l = String::new();
                                if s.read_line(&mut l).await.unwrap_or(0) == 0 {
                                    return;
                                }
                                if l == ".\r\n" {
                                    break;
                                }
                                data.push_str(&l);
                            }
                            let _ = tx
                                .send(Mail {
                                    to: to.clone(),
                                    data,
                                })
                                .await;
                            b"250 OK queued\r\n"
                        } else if upper.starts_with("QUIT") {
                            let _ = s.get_mut().write_all(b"221 bye\r\n").await;
                            return;
                        } else {
                            b"250 OK\r\n"
                        };
                        let _ = s.get_mut().write_all(reply).await;
                    }
                });
            }
        });
        SmtpReceiver {
            port,
            rx: Mutex::new(rx),
        }
    }

    /// `AUTHIFY_SMTP_URL` for it (plain SMTP on loopback).
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The next mail (fails after 10 seconds).
    pub async fn next(&self) -> Mail {
        tokio::time::timeout(Duration::from_secs(10), self.rx.lock().await.recv())
            .await
            .expect("a mail within 10 s")
            .unwrap()
    }
}

/// The payload of the `jwt` in a callback URL (the signature is checked by other tests; here
/// the claims are read).
pub fn jwt_claims(url: &str) -> serde_json::Value {
    let jwt = authify_testkit::jwt_in(url).unwrap_or_else(|| panic!("no jwt in {url}"));
    let payload = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// The texts of the elements whose class list contains `class`.
pub fn page_values(html: &str, class: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find("class=\"") {
        rest = &rest[i + 7..];
        let Some(end) = rest.find('"') else { break };
        let classes = &rest[..end];
        if classes.split_whitespace().any(|c| c == class) {
            let Some(open) = rest.find('>') else { break };
            let Some(close) = rest[open..].find('<') else {
                break;
            };
            out.push(rest[open + 1..open + close].trim().to_owned());
        }
    }
    out
}

/// The text between `start` and the next `end`, HTML entities of URIs undone.
pub fn text_between(html: &str, start: &str, end: &str) -> String {
    let i = html
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} not in page"))
        + start.len();
    let j = html[i..].find(end).unwrap() + i;
    html[i..j]
        .replace("&amp;", "&")
        .replace("&#x3D;", "=")
        .replace("&#x2F;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
}
