//! Randomness from the operating system's CSPRNG, for ids, tokens and secrets: the one place
//! Authify draws it (clippy.toml forbids `getrandom` elsewhere).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// `N` random bytes. The OS generator failing is unrecoverable for an identity provider.
pub fn bytes<const N: usize>() -> Result<[u8; N], getrandom::Error> {
    let mut out = [0u8; N];
    #[allow(clippy::disallowed_methods)] // the one sanctioned use of the OS generator
    getrandom::fill(&mut out)?;
    Ok(out)
}

/// A random version-4 UUID string, used as a public id.
pub fn public_id() -> Result<String, getrandom::Error> {
    let mut b = bytes::<16>()?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    ))
}

/// `N` random bytes, base64url: session tokens, CSRF tokens, app secrets.
pub fn token<const N: usize>() -> Result<String, getrandom::Error> {
    Ok(URL_SAFE_NO_PAD.encode(bytes::<N>()?))
}

#[cfg(test)]
mod tests {
    #[test]
    fn public_ids_are_version_4_uuids_and_differ() {
        let a = super::public_id().unwrap();
        let b = super::public_id().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
    }
}
