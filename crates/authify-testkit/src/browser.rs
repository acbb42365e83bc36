//! A cookie-keeping HTTP client that fills in Authify's forms (CSRF token included), and small
//! helpers to read pages and redirects.

use crate::PASSWORD;

/// A cookie-keeping HTTP client that behaves like a browser on our pages.
pub struct Browser {
    /// Server address.
    pub base: String,
    /// The client.
    pub http: reqwest::Client,
}

impl Browser {
    /// GET `path` (relative to the server) or an absolute URL.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        };
        self.http.get(url).send().await.unwrap()
    }

    /// POSTs a form to `path`.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .form(fields)
            .send()
            .await
            .unwrap()
    }

    /// GETs `page`, then submits its form with the page's CSRF token plus `fields`.
    pub async fn submit(
        &self,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let html = self.get(page).await.text().await.unwrap();
        let token = hidden_value(&html, "csrf_token").unwrap_or_else(|| {
            panic!(
                "{page} has no CSRF token: {}",
                &html[..html.len().min(3000)]
            )
        });
        let mut all = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        for name in ["callback", "state"] {
            if !fields.iter().any(|(k, _)| *k == name)
                && let Some(v) = hidden_value(&html, name)
            {
                all.push((name, Box::leak(v.into_boxed_str())));
            }
        }
        self.post(action, &all).await
    }

    /// Signs up through the form; returns the response to the POST.
    pub async fn sign_up(&self, query: &str, name: &str, email: &str) -> reqwest::Response {
        self.submit(
            &format!("/signup{query}"),
            "/signup",
            &[("name", name), ("email", email), ("password", PASSWORD)],
        )
        .await
    }

    /// Signs in through the form; returns the response to the POST.
    pub async fn sign_in(&self, query: &str, email: &str, password: &str) -> reqwest::Response {
        self.submit(
            &format!("/login{query}"),
            "/login",
            &[("email", email), ("password", password)],
        )
        .await
    }
}

/// The value of `<input type="hidden" name="NAME" value="...">` in `html`, unescaped.
pub fn hidden_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(
        html[start..end]
            .replace("&amp;", "&")
            .replace("&#x3D;", "=")
            .replace("&quot;", "\"")
            .replace("&#x27;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">"),
    )
}

/// The `Location` of a redirect.
pub fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// The `jwt` query parameter of a URL.
pub fn jwt_in(url: &str) -> Option<String> {
    let parsed = reqwest::Url::parse(url).ok()?;
    parsed
        .query_pairs()
        .find(|(k, _)| k == "jwt")
        .map(|(_, v)| v.into_owned())
}

/// `url` in the standard base64 alphabet, padded: what the original Authify told apps to send.
pub fn b64(url: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(url)
}
