//! Time-based one-time passwords (RFC 6238, the 6-digit, 30-second SHA-1 kind authenticator
//! apps use) for emulated virtual MFA devices.

use hmac::{Hmac, Mac};
use sha1::Sha1;

/// The code of `secret` at Unix time `now_secs`.
#[must_use]
pub fn code(secret: &[u8], now_secs: i64) -> String {
    let counter = u64::try_from(now_secs.div_euclid(30)).unwrap_or(0);
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let binary = (u32::from(digest[offset] & 0x7f) << 24)
        | (u32::from(digest[offset + 1]) << 16)
        | (u32::from(digest[offset + 2]) << 8)
        | u32::from(digest[offset + 3]);
    format!("{:06}", binary % 1_000_000)
}

/// True when `given` is the code of the current 30-second step or the one before (clocks
/// drift; authenticator apps are allowed one step).
#[must_use]
pub fn verify(secret: &[u8], given: &str, now_secs: i64) -> bool {
    [now_secs, now_secs - 30].iter().any(|t| {
        subtle::ConstantTimeEq::ct_eq(code(secret, *t).as_bytes(), given.trim().as_bytes()).into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 vectors (last 6 digits).
    #[test]
    fn rfc_6238_vectors() {
        let secret = b"12345678901234567890";
        assert_eq!(code(secret, 59), "287082");
        assert_eq!(code(secret, 1_111_111_109), "081804");
        assert_eq!(code(secret, 1_234_567_890), "005924");
        assert_eq!(code(secret, 2_000_000_000), "279037");
    }

    #[test]
    fn verify_accepts_the_current_and_previous_step_only() {
        let secret = b"12345678901234567890";
        let now = 1_111_111_109;
        assert!(verify(secret, &code(secret, now), now));
        assert!(verify(secret, &code(secret, now - 30), now));
        assert!(!verify(secret, &code(secret, now - 60), now));
        assert!(!verify(secret, "000000", now) || code(secret, now) == "000000");
    }
}
