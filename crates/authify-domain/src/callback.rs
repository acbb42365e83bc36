//! The `callback` of `/login?callback=<base64 url>`: decoding, the checks that close the original
//! Authify's open redirect (W-1), the exact-match key compared with registered callbacks, and the
//! redirect that carries the token back.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use url::Url;

/// Longest callback URL accepted.
pub const MAX_CALLBACK_LEN: usize = 2048;

/// Why a callback was refused. Each message names the problem for the 400 page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    /// Not base64 in either alphabet.
    #[error("the callback parameter is not valid base64")]
    NotBase64,
    /// Decodes to bytes that are not UTF-8 text.
    #[error("the callback does not decode to text")]
    NotText,
    /// Longer than [`MAX_CALLBACK_LEN`].
    #[error("the callback URL is longer than {MAX_CALLBACK_LEN} characters")]
    TooLong,
    /// Contains whitespace, control characters or backslashes, which browsers and parsers
    /// disagree about.
    #[error("the callback URL contains whitespace, control characters or backslashes")]
    BadCharacters,
    /// Not an absolute URL.
    #[error("the callback is not an absolute URL")]
    NotAUrl,
    /// A scheme other than http or https (`javascript:`, `data:`, ...).
    #[error("the callback scheme {0:?} is not allowed; only http and https are")]
    Scheme(String),
    /// `user:password@` in the URL.
    #[error("the callback URL must not contain a user name or password")]
    UserInfo,
    /// A `#fragment`.
    #[error("the callback URL must not contain a fragment (#...)")]
    Fragment,
    /// No host.
    #[error("the callback URL has no host")]
    NoHost,
    /// Well-formed, but no application registered it.
    #[error("the callback URL is not registered for any application")]
    NotRegistered,
}

/// A checked callback URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackUrl {
    url: Url,
    match_key: String,
}

impl CallbackUrl {
    /// Decodes the `callback` query parameter: standard or URL-safe alphabet, with or without
    /// padding, with the line breaks Ruby's `Base64.encode64` inserts, and with `+` turned into a
    /// space by form decoding.
    pub fn from_base64(raw: &str) -> Result<Self, CallbackError> {
        let cleaned: String = raw
            .chars()
            .filter(|c| *c != '\n' && *c != '\r')
            .map(|c| if c == ' ' { '+' } else { c })
            .collect();
        let unpadded = cleaned.trim_end_matches('=');
        let bytes = if unpadded.contains(['-', '_']) {
            URL_SAFE_NO_PAD.decode(unpadded)
        } else {
            STANDARD_NO_PAD.decode(unpadded)
        }
        .map_err(|_| CallbackError::NotBase64)?;
        let text = String::from_utf8(bytes).map_err(|_| CallbackError::NotText)?;
        Self::parse(&text)
    }

    /// Checks a plain URL (registration, or after decoding).
    pub fn parse(text: &str) -> Result<Self, CallbackError> {
        if text.len() > MAX_CALLBACK_LEN {
            return Err(CallbackError::TooLong);
        }
        // SECURITY: refuse what parsers normalize differently (`\` as `/`, tabs and newlines
        // stripped) instead of trusting one parser's reading of it.
        if text
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '\\')
        {
            return Err(CallbackError::BadCharacters);
        }
        let url = Url::parse(text).map_err(|_| CallbackError::NotAUrl)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(CallbackError::Scheme(url.scheme().to_owned()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(CallbackError::UserInfo);
        }
        if url.fragment().is_some() {
            return Err(CallbackError::Fragment);
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or(CallbackError::NoHost)?;
        let port = url.port_or_known_default().ok_or(CallbackError::NoHost)?;
        // SECURITY: exact match on scheme, host, port and path; only the query may differ.
        let match_key = format!("{}://{}:{}{}", url.scheme(), host, port, url.path());
        Ok(CallbackUrl { url, match_key })
    }

    /// `scheme://host:port/path`, what must equal a registered callback's key.
    pub fn match_key(&self) -> &str {
        &self.match_key
    }

    /// The URL.
    pub fn as_str(&self) -> &str {
        self.url.as_str()
    }

    /// The URL with `params` merged into its query: the app's own parameters are kept, any
    /// parameter of the same name replaced (the original forgot the `&`).
    pub fn with_params(&self, params: &[(&str, &str)]) -> String {
        let mut url = self.url.clone();
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| !params.iter().any(|(name, _)| name == k))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        url.set_query(None);
        {
            let mut query = url.query_pairs_mut();
            query.extend_pairs(kept);
            query.extend_pairs(params);
        }
        url.into()
    }
}

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;
