//! Turning a JWK Set into verification keys, each bound to the algorithm(s) it may verify.
//!
//! Binding happens once, when keys are loaded, so a hostile header can never make a key verify
//! under an algorithm it was not meant for (the RS256/HS256 key-confusion family of attacks).
//! Keys we cannot use safely are dropped here with a log line saying why.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyOperations, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey, DecodingKeyKind};
use sha2::{Digest, Sha256};

/// Where a key set came from. Symmetric (`oct`) keys are accepted only from code we trust
/// (`Verifier::from_jwks` / `replace_keys`): in a published JWKS a shared secret would be public,
/// letting anyone forge tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyOrigin {
    Local,
    Remote,
}

/// RSA moduli below 2048 bits are refused (NIST SP 800-131A; RFC 7518 §3.3 requires it too).
const MIN_RSA_MODULUS_BYTES: usize = 256;
/// An HMAC secret shorter than the SHA-256 output weakens HS256 (RFC 7518 §3.2).
pub(crate) const MIN_HMAC_SECRET_BYTES: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Ed25519,
    P256,
    P384,
    Rsa,
    Hmac,
}

impl KeyKind {
    /// Whether this kind of key can verify `alg` at all, ignoring any declared `alg`.
    fn fits(self, alg: Algorithm) -> bool {
        use jsonwebtoken::Algorithm as A;
        match self {
            KeyKind::Ed25519 => alg == A::EdDSA,
            KeyKind::P256 => alg == A::ES256,
            KeyKind::P384 => alg == A::ES384,
            KeyKind::Rsa => matches!(
                alg,
                A::RS256 | A::RS384 | A::RS512 | A::PS256 | A::PS384 | A::PS512
            ),
            KeyKind::Hmac => matches!(alg, A::HS256 | A::HS384 | A::HS512),
        }
    }
}

/// One usable key. When the JWK declared `alg`, that is the only algorithm it verifies;
/// otherwise any algorithm its key type implies (only RSA has more than one).
#[derive(Clone)]
pub(crate) struct VerificationKey {
    kind: KeyKind,
    declared_alg: Option<Algorithm>,
    pub(crate) decoding: DecodingKey,
    pub(crate) fingerprint: KeyFingerprint,
}

/// SHA-256 of a key's material. The verified-token cache remembers it with each entry, so a hit
/// is served only while the issuer still holds the very key that verified the token, even if a
/// new key were published under the same `kid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeyFingerprint([u8; 32]);

impl KeyFingerprint {
    fn of(decoding: &DecodingKey) -> KeyFingerprint {
        let mut hash = Sha256::new();
        // A tag and length prefixes keep the two shapes and the (n, e) split unambiguous.
        match decoding.kind() {
            DecodingKeyKind::SecretOrDer(bytes) => {
                hash.update([0u8]);
                hash.update(bytes);
            }
            DecodingKeyKind::RsaModulusExponent { n, e } => {
                hash.update([1u8]);
                hash.update((n.len() as u64).to_be_bytes());
                hash.update(n);
                hash.update(e);
            }
        }
        KeyFingerprint(hash.finalize().into())
    }
}

impl VerificationKey {
    /// A shared HMAC secret (the `BETTER_AUTH_SECRET` compatibility mode), bound to exactly
    /// one HS* algorithm so it can never verify anything else.
    pub(crate) fn shared_secret(
        secret: &[u8],
        alg: Algorithm,
    ) -> Result<VerificationKey, &'static str> {
        if !KeyKind::Hmac.fits(alg) {
            return Err("a shared secret verifies only HS256, HS384 or HS512");
        }
        if secret.len() < MIN_HMAC_SECRET_BYTES {
            return Err("the shared secret is shorter than 32 bytes");
        }
        let decoding = DecodingKey::from_secret(secret);
        Ok(VerificationKey {
            kind: KeyKind::Hmac,
            declared_alg: Some(alg),
            fingerprint: KeyFingerprint::of(&decoding),
            decoding,
        })
    }

    pub(crate) fn accepts(&self, alg: Algorithm) -> bool {
        self.declared_alg.is_none_or(|declared| declared == alg) && self.kind.fits(alg)
    }
}

/// The usable keys of one JWK Set, by `kid`.
#[derive(Clone, Default)]
pub(crate) struct KeySet {
    by_kid: HashMap<String, VerificationKey>,
}

impl KeySet {
    pub(crate) fn from_jwks(set: &JwkSet, origin: KeyOrigin) -> KeySet {
        let mut by_kid = HashMap::with_capacity(set.keys.len());
        for jwk in &set.keys {
            let kid = jwk.common.key_id.clone().unwrap_or_default();
            let key = match bind(jwk, origin) {
                Ok(key) => key,
                Err(reason) => {
                    tracing::warn!(kid = %kid, reason, "ignoring unusable JWK");
                    continue;
                }
            };
            match by_kid.entry(kid) {
                Entry::Vacant(slot) => {
                    slot.insert(key);
                }
                // Two keys under one kid would make the choice depend on order; keep the first
                // (what `JwkSet::find` does) and say so.
                Entry::Occupied(slot) => {
                    tracing::warn!(kid = %slot.key(), "duplicate kid in JWK set; keeping the first");
                }
            }
        }
        KeySet { by_kid }
    }

    pub(crate) fn get(&self, kid: &str) -> Option<&VerificationKey> {
        self.by_kid.get(kid)
    }

    pub(crate) fn len(&self) -> usize {
        self.by_kid.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.by_kid.is_empty()
    }
}

/// Checks one JWK and builds its decoding key; the error is a reason fit for a log line.
fn bind(jwk: &Jwk, origin: KeyOrigin) -> Result<VerificationKey, &'static str> {
    if jwk.common.key_id.as_deref().is_none_or(str::is_empty) {
        return Err("no kid (tokens must name their key)");
    }
    match &jwk.common.public_key_use {
        None | Some(PublicKeyUse::Signature) => {}
        Some(_) => return Err("use is not sig"),
    }
    if let Some(ops) = &jwk.common.key_operations
        && !ops.contains(&KeyOperations::Verify)
    {
        return Err("key_ops does not include verify");
    }

    let kind = match &jwk.algorithm {
        AlgorithmParameters::OctetKeyPair(params) => {
            if params.curve != EllipticCurve::Ed25519 {
                return Err("unsupported OKP curve");
            }
            // jsonwebtoken slices the first 32 bytes without checking the length, so a short
            // key would panic at verification time: check it here.
            require_len(&params.x, 32, "Ed25519 x is not 32 bytes")?;
            KeyKind::Ed25519
        }
        AlgorithmParameters::EllipticCurve(params) => {
            let (kind, len) = match params.curve {
                EllipticCurve::P256 => (KeyKind::P256, 32),
                EllipticCurve::P384 => (KeyKind::P384, 48),
                _ => return Err("unsupported EC curve"),
            };
            require_len(&params.x, len, "EC x has the wrong length")?;
            require_len(&params.y, len, "EC y has the wrong length")?;
            kind
        }
        AlgorithmParameters::RSA(params) => {
            let n = decode(&params.n).ok_or("RSA n is not base64url")?;
            let significant = n.iter().skip_while(|byte| **byte == 0).count();
            if significant < MIN_RSA_MODULUS_BYTES {
                return Err("RSA modulus is shorter than 2048 bits");
            }
            if decode(&params.e).is_none_or(|e| e.is_empty()) {
                return Err("RSA e is missing");
            }
            KeyKind::Rsa
        }
        AlgorithmParameters::OctetKey(params) => {
            if origin == KeyOrigin::Remote {
                return Err("symmetric key in a fetched JWK set");
            }
            let secret = decode(&params.value).ok_or("oct k is not base64url")?;
            if secret.len() < MIN_HMAC_SECRET_BYTES {
                return Err("HMAC secret is shorter than 32 bytes");
            }
            KeyKind::Hmac
        }
        _ => return Err("unsupported key type"),
    };

    let declared_alg = match jwk.common.key_algorithm {
        None => None,
        Some(key_alg) => {
            let alg =
                Algorithm::try_from(key_alg).map_err(|_| "alg is not a signature algorithm")?;
            if !kind.fits(alg) {
                return Err("alg does not fit the key type");
            }
            Some(alg)
        }
    };

    let decoding = DecodingKey::from_jwk(jwk).map_err(|_| "key material is invalid")?;
    Ok(VerificationKey {
        kind,
        declared_alg,
        fingerprint: KeyFingerprint::of(&decoding),
        decoding,
    })
}

fn decode(b64: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(b64).ok()
}

fn require_len(b64: &str, len: usize, reason: &'static str) -> Result<(), &'static str> {
    match decode(b64) {
        Some(bytes) if bytes.len() == len => Ok(()),
        _ => Err(reason),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn set(keys: serde_json::Value) -> JwkSet {
        serde_json::from_value(serde_json::json!({ "keys": keys })).unwrap()
    }

    fn ed_x() -> String {
        URL_SAFE_NO_PAD.encode([7u8; 32])
    }

    #[test]
    fn okp_key_binds_to_eddsa_only() {
        let keys = KeySet::from_jwks(
            &set(serde_json::json!([{"kty": "OKP", "crv": "Ed25519", "x": ed_x(), "kid": "a"}])),
            KeyOrigin::Remote,
        );
        let key = keys.get("a").unwrap();
        assert!(key.accepts(Algorithm::EdDSA));
        assert!(!key.accepts(Algorithm::HS256));
        assert!(!key.accepts(Algorithm::ES256));
    }

    #[test]
    fn declared_alg_must_fit_the_key_type() {
        let keys = KeySet::from_jwks(
            &set(serde_json::json!([
                {"kty": "OKP", "crv": "Ed25519", "x": ed_x(), "kid": "rs", "alg": "RS256"},
                {"kty": "OKP", "crv": "Ed25519", "x": ed_x(), "kid": "enc", "alg": "RSA-OAEP"},
            ])),
            KeyOrigin::Local,
        );
        assert!(keys.is_empty());
    }

    #[test]
    fn unusable_keys_are_dropped() {
        let short = URL_SAFE_NO_PAD.encode([7u8; 31]);
        let keys = KeySet::from_jwks(
            &set(serde_json::json!([
                {"kty": "OKP", "crv": "Ed25519", "x": short, "kid": "short"},
                {"kty": "OKP", "crv": "Ed25519", "x": ed_x()},
                {"kty": "OKP", "crv": "Ed25519", "x": ed_x(), "kid": "enc", "use": "enc"},
                {"kty": "OKP", "crv": "Ed25519", "x": ed_x(), "kid": "sign-only", "key_ops": ["sign"]},
                {"kty": "RSA", "n": URL_SAFE_NO_PAD.encode([0xffu8; 128]), "e": "AQAB", "kid": "rsa1024"},
            ])),
            KeyOrigin::Local,
        );
        assert!(keys.is_empty());
    }

    #[test]
    fn symmetric_keys_only_from_local_sets() {
        let jwks = set(serde_json::json!([
            {"kty": "oct", "k": URL_SAFE_NO_PAD.encode([1u8; 32]), "kid": "h", "alg": "HS256"}
        ]));
        assert!(KeySet::from_jwks(&jwks, KeyOrigin::Remote).is_empty());
        let local = KeySet::from_jwks(&jwks, KeyOrigin::Local);
        let key = local.get("h").unwrap();
        assert!(key.accepts(Algorithm::HS256));
        assert!(!key.accepts(Algorithm::HS512));
        assert!(!key.accepts(Algorithm::EdDSA));
    }

    #[test]
    fn a_shared_secret_is_bound_to_its_one_hmac_algorithm() {
        let key = VerificationKey::shared_secret(&[3u8; 32], Algorithm::HS256).unwrap();
        assert!(key.accepts(Algorithm::HS256));
        for other in [
            Algorithm::HS384,
            Algorithm::HS512,
            Algorithm::EdDSA,
            Algorithm::RS256,
        ] {
            assert!(!key.accepts(other), "{other:?}");
        }
        assert_eq!(
            VerificationKey::shared_secret(&[3u8; 31], Algorithm::HS256).err(),
            Some("the shared secret is shorter than 32 bytes")
        );
        assert_eq!(
            VerificationKey::shared_secret(&[3u8; 32], Algorithm::EdDSA).err(),
            Some("a shared secret verifies only HS256, HS384 or HS512")
        );
    }

    #[test]
    fn duplicate_kid_keeps_the_first() {
        let keys = KeySet::from_jwks(
            &set(serde_json::json!([
                {"kty": "OKP", "crv": "Ed25519", "x": ed_x(), "kid": "d", "alg": "EdDSA"},
                {"kty": "oct", "k": URL_SAFE_NO_PAD.encode([1u8; 32]), "kid": "d", "alg": "HS256"},
            ])),
            KeyOrigin::Local,
        );
        assert_eq!(keys.len(), 1);
        assert!(keys.get("d").unwrap().accepts(Algorithm::EdDSA));
    }
}
