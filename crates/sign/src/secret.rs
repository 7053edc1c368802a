//! Secret material as redacted types, so a key can never leak through `Debug`, a log line or
//! an error message, and is wiped from memory when dropped.
//!
//! Equality is constant-time: comparing secrets must not reveal how many leading bytes match.

use std::fmt;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// A SecretKey (the secret half of a SecretId/SecretKey pair).
///
/// `Debug` prints `SecretKey(***)`; the bytes are zeroized on drop.
///
/// ```
/// use tclocal_sign::SecretKey;
///
/// let key = SecretKey::new("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE");
/// assert_eq!(format!("{key:?}"), "SecretKey(***)");
/// assert_eq!(key.expose(), "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE");
/// ```
#[derive(Clone)]
pub struct SecretKey(Zeroizing<String>);

impl SecretKey {
    /// Wraps a secret key.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(Zeroizing::new(secret.into()))
    }

    /// The secret itself. The name is deliberately loud: every call site is a place where the
    /// secret leaves its redacted wrapper.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

impl PartialEq for SecretKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for SecretKey {}

impl From<String> for SecretKey {
    fn from(secret: String) -> Self {
        Self::new(secret)
    }
}

impl From<&str> for SecretKey {
    fn from(secret: &str) -> Self {
        Self::new(secret)
    }
}

/// The TC3 signing key `kSigning`, derived from a [`SecretKey`], a date and a service by
/// [`tc3::signing_key`](crate::tc3::signing_key).
///
/// It is valid for one (date, service) pair, so a verifier may cache it. `Debug` is redacted
/// and the bytes are zeroized on drop.
#[derive(Clone)]
pub struct SigningKey(Zeroizing<[u8; 32]>);

impl SigningKey {
    pub(crate) fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The raw key bytes (what the vectors call `kSigning`).
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(***)")
    }
}

impl PartialEq for SigningKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&*other.0).into()
    }
}

impl Eq for SigningKey {}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";

    #[test]
    fn secret_key_debug_is_redacted() {
        let key = SecretKey::new(SECRET);
        let debug = format!("{key:?}");
        assert_eq!(debug, "SecretKey(***)");
        assert!(!debug.contains(SECRET));
        assert!(!format!("{:#?}", Some(key.clone())).contains(SECRET));
    }

    #[test]
    fn signing_key_debug_is_redacted() {
        let key = crate::tc3::signing_key(&SecretKey::new(SECRET), "2019-02-25", "cvm");
        let debug = format!("{key:?}");
        assert_eq!(debug, "SigningKey(***)");
        assert!(!debug.contains(&hex::encode(key.expose())));
    }

    #[test]
    fn equality() {
        assert_eq!(SecretKey::new(SECRET), SecretKey::from(SECRET));
        assert_ne!(SecretKey::new(SECRET), SecretKey::new("other"));
        assert_ne!(SecretKey::new("a"), SecretKey::new("ab"));
        let k = crate::tc3::signing_key(&SecretKey::new(SECRET), "2019-02-25", "cvm");
        assert_eq!(k, k.clone());
        assert_ne!(
            k,
            crate::tc3::signing_key(&SecretKey::new(SECRET), "2019-02-26", "cvm")
        );
    }
}
