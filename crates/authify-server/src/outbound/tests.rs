//! The guard at connect time, against a real listener on loopback that counts connections.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;

/// A TCP listener on 127.0.0.1 answering `200 OK` to anything; counts the connections it got.
async fn listener() -> (u16, Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = socket.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = socket.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf).await;
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
                .await;
        }
    });
    (port, count)
}

fn loopback_hosts(name: &str) -> Hosts {
    Hosts::from([(name.to_owned(), vec![IpAddr::from([127, 0, 0, 1])])])
}

fn http_only() -> OutboundPolicy {
    OutboundPolicy {
        allow_http: true,
        allow: Vec::new(),
    }
}

#[tokio::test]
async fn a_public_name_that_resolves_to_loopback_is_refused_when_connecting() {
    let (port, count) = listener().await;
    let outbound = Outbound::with_hosts(http_only(), loopback_hosts("rebind.example.com"));
    let url = format!("http://rebind.example.com:{port}/backchannel");
    // The name passes the check of the URL (what a save-time check sees)...
    assert!(outbound.policy().check_url(&url).is_ok());
    // ...and is refused by its address.
    let err = outbound.send(Method::POST, &url, |b| b).await.unwrap_err();
    match &err {
        OutboundError::Refused { host, refusal } => {
            assert_eq!(host, "rebind.example.com");
            assert_eq!(
                refusal.to_string(),
                "points at a loopback address (127.0.0.1)"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(count.load(Ordering::SeqCst), 0, "never connected");
}

#[tokio::test]
async fn a_name_with_one_internal_address_among_public_ones_is_refused() {
    let (port, count) = listener().await;
    let hosts = Hosts::from([(
        "mixed.example.com".to_owned(),
        vec![IpAddr::from([8, 8, 8, 8]), IpAddr::from([127, 0, 0, 1])],
    )]);
    let outbound = Outbound::with_hosts(http_only(), hosts);
    let url = format!("http://mixed.example.com:{port}/");
    let err = outbound.send(Method::GET, &url, |b| b).await.unwrap_err();
    assert!(matches!(err, OutboundError::Refused { .. }), "{err:?}");
    assert_eq!(count.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn an_ip_literal_is_refused_before_sending() {
    let (port, count) = listener().await;
    let outbound = Outbound::new(http_only());
    for url in [
        format!("http://127.0.0.1:{port}/metrics"),
        format!("http://127.1:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
    ] {
        let err = outbound.send(Method::GET, &url, |b| b).await.unwrap_err();
        assert!(
            matches!(&err, OutboundError::Refused { refusal, .. }
                if refusal.to_string().starts_with("points at a loopback address")),
            "{url}: {err}"
        );
    }
    assert_eq!(count.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn the_allow_list_lets_a_name_and_a_literal_reach_loopback() {
    let (port, count) = listener().await;
    let policy = OutboundPolicy {
        allow_http: true,
        allow: vec!["127.0.0.0/8".parse().unwrap()],
    };
    let outbound = Outbound::with_hosts(policy, loopback_hosts("hooks.example.com"));
    for url in [
        format!("http://hooks.example.com:{port}/"),
        format!("http://127.0.0.1:{port}/"),
    ] {
        let res = outbound.send(Method::GET, &url, |b| b).await.unwrap();
        assert_eq!(res.status(), 200);
    }
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn http_is_refused_unless_allowed() {
    let outbound = Outbound::new(OutboundPolicy::default());
    let err = outbound
        .send(Method::GET, "http://rp.example.com/", |b| b)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "refused: rp.example.com uses http: https is required"
    );
}

#[tokio::test]
async fn a_response_past_the_limit_is_refused() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = socket.local_addr().unwrap().port();
    tokio::spawn(async move {
        if let Ok((mut stream, _)) = socket.accept().await {
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf).await;
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n")
                .await;
            let chunk = vec![b'x'; 64 * 1024];
            for _ in 0..(MAX_RESPONSE / chunk.len() + 2) {
                if stream.write_all(&chunk).await.is_err() {
                    break;
                }
            }
        }
    });
    let policy = OutboundPolicy {
        allow_http: true,
        allow: vec!["127.0.0.1/32".parse().unwrap()],
    };
    let outbound = Outbound::new(policy);
    let mut res = outbound
        .send(Method::GET, &format!("http://127.0.0.1:{port}/"), |b| b)
        .await
        .unwrap();
    assert!(matches!(
        read_capped(&mut res).await,
        Err(OutboundError::TooLarge)
    ));
}
