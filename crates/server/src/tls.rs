//! Transparent mode's TLS side: the local certificate authority and the certificates it
//! issues for the Tencent Cloud API host names.
//!
//! The CA is made once and kept beside the store (`ca.pem`, and `ca-key.pem` readable by
//! the owner only), so a client trusts it once; `--ephemeral` keeps its key in memory and
//! writes only the certificate, to a private temporary directory removed at exit. Its
//! certificate is name-constrained to `tencentcloudapi.com`, `localhost` and the loopback
//! addresses: trusting it lets nobody impersonate any other site, even if the key leaks.
//!
//! Server certificates never touch the disk. One, made at start-up, names
//! `*.tencentcloudapi.com`, `*.intl.tencentcloudapi.com`, `*.<region>.tencentcloudapi.com`
//! for every region tclocal knows, `localhost`, `127.0.0.1` and `::1`; a client asking (by
//! SNI) for another name tclocal answers for (a region tclocal does not list, a name under
//! `.localhost`) gets one made for that name on the spot.

use std::collections::HashMap;
use std::fmt;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rcgen::{
    BasicConstraints, CertificateParams, CidrSubnet, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    NameConstraints, PublicKeyData, SerialNumber,
};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::proxy;

/// The CA certificate's file name in the CA directory.
pub const CA_CERT_FILE: &str = "ca.pem";
/// The CA private key's file name in the CA directory (mode 0600).
pub const CA_KEY_FILE: &str = "ca-key.pem";

/// The registrable domain of every Tencent Cloud API host.
pub const API_DOMAIN: &str = "tencentcloudapi.com";

const CA_VALIDITY_DAYS: i64 = 3650;
const LEAF_VALIDITY_DAYS: i64 = 365;
/// Certificates made on demand kept at once (each is a few hundred bytes).
const MAX_ISSUED: usize = 1024;

/// Why the CA could not be loaded or made, or TLS not set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The CA key can be read by other users.
    #[error(
        "the CA key {path} can be read by other users (mode {mode:03o}); run `chmod 600 {path}`, or delete it and {CA_CERT_FILE} beside it to make a new CA"
    )]
    KeyMode {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The files on disk are not a usable CA.
    #[error("{0}")]
    Invalid(String),
    /// Certificate generation failed.
    #[error("cannot make a certificate: {0}")]
    Rcgen(#[from] rcgen::Error),
    /// rustls refused the configuration.
    #[error("TLS setup failed: {0}")]
    Rustls(#[from] rustls::Error),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> TlsError + '_ {
    move |source| TlsError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The local certificate authority.
pub struct LocalCa {
    issuer: Issuer<'static, KeyPair>,
    cert_der: CertificateDer<'static>,
    cert_pem: String,
    cert_path: PathBuf,
    key_path: Option<PathBuf>,
    subject: String,
    not_after: OffsetDateTime,
    /// `--ephemeral`: the directory holding the certificate, removed on drop.
    _temp: Option<tempfile::TempDir>,
}

impl fmt::Debug for LocalCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalCa")
            .field("cert_path", &self.cert_path)
            .field("key_path", &self.key_path)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

impl LocalCa {
    /// Loads the CA kept in `dir`, or makes one there (the directory too) if it has none.
    ///
    /// # Errors
    /// When the files cannot be read or written, do not belong together, or the key is
    /// readable by other users.
    pub fn load_or_create(dir: &Path) -> Result<LocalCa, TlsError> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let dir = dir.canonicalize().map_err(io_err(dir))?;
        let cert_path = dir.join(CA_CERT_FILE);
        let key_path = dir.join(CA_KEY_FILE);
        if !key_path.exists() {
            if cert_path.exists() {
                return Err(TlsError::Invalid(format!(
                    "{} has no key beside it ({}); delete it to make a new CA",
                    cert_path.display(),
                    key_path.display()
                )));
            }
            let (key, cert_pem) = generate_ca()?;
            // The key is published whole or not at all: written to a private temporary file,
            // then hard-linked to its name, which fails if another process got there first.
            let tmp = dir.join(format!("{CA_KEY_FILE}.{}.tmp", std::process::id()));
            write_private(&tmp, key.serialize_pem().as_bytes())?;
            let linked = std::fs::hard_link(&tmp, &key_path);
            let _ = std::fs::remove_file(&tmp);
            match linked {
                Ok(()) => {
                    let tmp = dir.join(format!("{CA_CERT_FILE}.{}.tmp", std::process::id()));
                    std::fs::write(&tmp, &cert_pem).map_err(io_err(&tmp))?;
                    std::fs::rename(&tmp, &cert_path).map_err(io_err(&cert_path))?;
                    tracing::info!(path = %cert_path.display(), "made a local CA");
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io_err(&key_path)(e)),
            }
        }
        check_key_mode(&key_path)?;
        let key_pem = std::fs::read_to_string(&key_path).map_err(io_err(&key_path))?;
        let cert_pem = read_cert_waiting(&cert_path, &key_path)?;
        let key = KeyPair::from_pem(&key_pem).map_err(|e| {
            TlsError::Invalid(format!("{} is not a usable key: {e}", key_path.display()))
        })?;
        LocalCa::from_parts(key, cert_pem, cert_path, Some(key_path), None)
    }

    /// Makes a CA whose key lives in memory only; its certificate is written to a private
    /// temporary directory (removed when this value is dropped) so clients can trust it.
    ///
    /// # Errors
    /// When the temporary directory cannot be made.
    pub fn in_memory() -> Result<LocalCa, TlsError> {
        let (key, cert_pem) = generate_ca()?;
        let temp = tempfile::Builder::new()
            .prefix("tclocal-ca-")
            .tempdir()
            .map_err(io_err(&std::env::temp_dir()))?;
        let cert_path = temp.path().join(CA_CERT_FILE);
        std::fs::write(&cert_path, &cert_pem).map_err(io_err(&cert_path))?;
        LocalCa::from_parts(key, cert_pem, cert_path, None, Some(temp))
    }

    fn from_parts(
        key: KeyPair,
        cert_pem: String,
        cert_path: PathBuf,
        key_path: Option<PathBuf>,
        temp: Option<tempfile::TempDir>,
    ) -> Result<LocalCa, TlsError> {
        let invalid = |what: String| TlsError::Invalid(format!("{}: {what}", cert_path.display()));
        let (_, pem) = x509_parser::pem::parse_x509_pem(cert_pem.as_bytes())
            .map_err(|e| invalid(format!("not a PEM certificate ({e})")))?;
        let cert = pem
            .parse_x509()
            .map_err(|e| invalid(format!("not an X.509 certificate ({e})")))?;
        if cert.public_key().raw != key.subject_public_key_info().as_slice() {
            return Err(invalid(
                "does not belong to the key beside it; delete both files to make a new CA"
                    .to_owned(),
            ));
        }
        if !cert.is_ca() {
            return Err(invalid("is not a CA certificate".to_owned()));
        }
        let subject = cert.subject().to_string();
        let not_after = cert.validity().not_after.to_datetime();
        let cert_der = CertificateDer::from(pem.contents.clone());
        let issuer = Issuer::from_ca_cert_der(&cert_der, key)?;
        Ok(LocalCa {
            issuer,
            cert_der,
            cert_pem,
            cert_path,
            key_path,
            subject,
            not_after,
            _temp: temp,
        })
    }

    /// Where the CA certificate is (the file clients trust).
    #[must_use]
    pub fn cert_path(&self) -> &Path {
        &self.cert_path
    }

    /// Where the CA key is; `None` when it lives in memory only.
    #[must_use]
    pub fn key_path(&self) -> Option<&Path> {
        self.key_path.as_deref()
    }

    /// The CA certificate, PEM.
    #[must_use]
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The CA certificate, DER.
    #[must_use]
    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    /// The CA certificate's subject, e.g. `CN=tclocal local CA 1a2b3c4d, O=tclocal`.
    #[must_use]
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// When the CA certificate expires.
    #[must_use]
    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }

    /// SHA-256 fingerprint of the certificate, as `AB:CD:…` (the form browsers and
    /// `openssl x509 -fingerprint -sha256` show).
    #[must_use]
    pub fn sha256_fingerprint(&self) -> String {
        Sha256::digest(self.cert_der.as_ref())
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":")
    }

    /// Issues a server certificate for `names` (DNS names or IP addresses) with `key`.
    fn issue(&self, names: &[String], key: &KeyPair) -> Result<CertificateDer<'static>, TlsError> {
        let mut params = CertificateParams::new(names.to_vec())?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, names[0].clone());
        dn.push(DnType::OrganizationName, "tclocal");
        params.distinguished_name = dn;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        params.serial_number = Some(random_serial()?);
        let now = OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(1);
        params.not_after = (now + time::Duration::days(LEAF_VALIDITY_DAYS)).min(self.not_after);
        Ok(params.signed_by(key, &self.issuer)?.der().clone())
    }
}

/// A positive 16-byte random serial.
fn random_serial() -> Result<SerialNumber, TlsError> {
    let mut bytes = [0u8; 16];
    rustls::crypto::ring::default_provider()
        .secure_random
        .fill(&mut bytes)
        .map_err(|_| TlsError::Invalid("the system random source failed".to_owned()))?;
    bytes[0] &= 0x7f;
    Ok(SerialNumber::from_slice(&bytes))
}

/// A new CA: its key and its certificate (PEM).
fn generate_ca() -> Result<(KeyPair, String), TlsError> {
    let key = KeyPair::generate()?;
    let serial = random_serial()?;
    let tag: String = serial.to_bytes()[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, format!("tclocal local CA {tag}"));
    dn.push(DnType::OrganizationName, "tclocal (development only)");
    params.distinguished_name = dn;
    params.serial_number = Some(serial);
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.name_constraints = Some(NameConstraints {
        permitted_subtrees: vec![
            GeneralSubtree::DnsName(API_DOMAIN.to_owned()),
            GeneralSubtree::DnsName("localhost".to_owned()),
            GeneralSubtree::IpAddress(CidrSubnet::from_v4_prefix([127, 0, 0, 0], 8)),
            GeneralSubtree::IpAddress(CidrSubnet::from_v6_prefix(
                Ipv6Addr::LOCALHOST.octets(),
                128,
            )),
        ],
        excluded_subtrees: Vec::new(),
    });
    let now = OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(CA_VALIDITY_DAYS);
    let cert = params.self_signed(&key)?;
    Ok((key, cert.pem()))
}

/// Creates `path` readable and writable by the owner only, and writes `bytes` to it.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), TlsError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io_err(path))?;
    file.write_all(bytes).map_err(io_err(path))?;
    file.sync_all().map_err(io_err(path))
}

#[cfg(unix)]
fn check_key_mode(path: &Path) -> Result<(), TlsError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(io_err(path))?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 != 0 {
        return Err(TlsError::KeyMode {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_key_mode(_path: &Path) -> Result<(), TlsError> {
    Ok(())
}

/// Reads the CA certificate; when another process has just made the key, waits up to 2 s
/// for it to write the certificate too.
fn read_cert_waiting(cert_path: &Path, key_path: &Path) -> Result<String, TlsError> {
    for _ in 0..40 {
        match std::fs::read_to_string(cert_path) {
            Ok(pem) => return Ok(pem),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => return Err(io_err(cert_path)(e)),
        }
    }
    Err(TlsError::Invalid(format!(
        "{} has no certificate beside it ({}); delete it to make a new CA",
        key_path.display(),
        cert_path.display()
    )))
}

/// The names of the start-up server certificate.
#[must_use]
pub fn default_names() -> Vec<String> {
    let mut names = vec![
        format!("*.{API_DOMAIN}"),
        format!("*.intl.{API_DOMAIN}"),
        API_DOMAIN.to_owned(),
    ];
    names.extend(
        tclocal_services::regions::all()
            .iter()
            .map(|r| format!("*.{}.{API_DOMAIN}", r.region)),
    );
    // No `*.localhost`: verifiers want two labels after a wildcard (rustls rejects the whole
    // certificate for it under name constraints). `cvm.localhost` gets a certificate made
    // for it instead.
    names.extend([
        "localhost".to_owned(),
        Ipv4Addr::LOCALHOST.to_string(),
        Ipv6Addr::LOCALHOST.to_string(),
    ]);
    names
}

/// True when a certificate naming `pattern` (one leading `*` label at most) is valid for
/// `host` (lower case).
fn name_matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(parent) => host
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == parent),
        None => pattern == host,
    }
}

/// Chooses the server certificate by SNI: the start-up one when it covers the name (or the
/// client sent none), else one made for that API host name (cached).
struct Resolver {
    ca: Arc<LocalCa>,
    key: KeyPair,
    signing_key: Arc<dyn rustls::sign::SigningKey>,
    default_names: Vec<String>,
    default: Arc<CertifiedKey>,
    issued: Mutex<HashMap<String, Arc<CertifiedKey>>>,
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver")
            .field("ca", &self.ca)
            .field("issued", &self.issued.lock().len())
            .finish_non_exhaustive()
    }
}

impl Resolver {
    fn new(ca: Arc<LocalCa>) -> Result<Resolver, TlsError> {
        let key = KeyPair::generate()?;
        let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let signing_key = rustls::crypto::ring::sign::any_supported_type(&der)?;
        let default_names = default_names();
        let default = Arc::new(CertifiedKey::new(
            vec![ca.issue(&default_names, &key)?],
            signing_key.clone(),
        ));
        Ok(Resolver {
            ca,
            key,
            signing_key,
            default_names,
            default,
            issued: Mutex::new(HashMap::new()),
        })
    }

    fn for_name(&self, sni: &str) -> Arc<CertifiedKey> {
        let host = sni.trim_end_matches('.').to_ascii_lowercase();
        if self.default_names.iter().any(|p| name_matches(p, &host))
            || !proxy::serves_host(&host)
            || host.parse::<IpAddr>().is_ok()
        {
            return self.default.clone();
        }
        if let Some(found) = self.issued.lock().get(&host) {
            return found.clone();
        }
        match self.ca.issue(std::slice::from_ref(&host), &self.key) {
            Ok(cert) => {
                let made = Arc::new(CertifiedKey::new(vec![cert], self.signing_key.clone()));
                let mut issued = self.issued.lock();
                if issued.len() >= MAX_ISSUED {
                    issued.clear();
                }
                issued.insert(host, made.clone());
                made
            }
            Err(e) => {
                tracing::warn!(host = %host, error = %e, "cannot issue a certificate");
                self.default.clone()
            }
        }
    }
}

impl ResolvesServerCert for Resolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(match hello.server_name() {
            Some(name) => self.for_name(name),
            None => self.default.clone(),
        })
    }
}

/// The TLS server configuration of transparent mode: HTTP/1.1, TLS 1.2 and 1.3, server
/// certificates issued by `ca`.
///
/// # Errors
/// When the start-up certificate cannot be made.
pub fn server_config(ca: Arc<LocalCa>) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(Resolver::new(ca)?));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_cover_one_label() {
        assert!(name_matches(
            "*.tencentcloudapi.com",
            "cvm.tencentcloudapi.com"
        ));
        assert!(!name_matches(
            "*.tencentcloudapi.com",
            "cvm.ap-guangzhou.tencentcloudapi.com"
        ));
        assert!(!name_matches(
            "*.tencentcloudapi.com",
            "tencentcloudapi.com"
        ));
        assert!(!name_matches(
            "*.tencentcloudapi.com",
            ".tencentcloudapi.com"
        ));
        assert!(name_matches("localhost", "localhost"));
    }

    #[test]
    fn default_names_cover_every_known_region() {
        let names = default_names();
        for region in tclocal_services::regions::all() {
            let host = format!("cvm.{}.tencentcloudapi.com", region.region);
            assert!(names.iter().any(|p| name_matches(p, &host)), "{host}");
        }
        for host in ["cvm.tencentcloudapi.com", "cvm.intl.tencentcloudapi.com"] {
            assert!(names.iter().any(|p| name_matches(p, host)), "{host}");
        }
    }

    #[test]
    fn a_made_ca_loads_again_and_a_foreign_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let first = LocalCa::load_or_create(dir.path()).unwrap();
        let again = LocalCa::load_or_create(dir.path()).unwrap();
        assert_eq!(first.sha256_fingerprint(), again.sha256_fingerprint());
        assert!(first.subject().contains("tclocal local CA"));
        assert_eq!(first.sha256_fingerprint().len(), 32 * 3 - 1);

        let other = tempfile::tempdir().unwrap();
        LocalCa::load_or_create(other.path()).unwrap();
        std::fs::copy(other.path().join(CA_KEY_FILE), dir.path().join(CA_KEY_FILE)).unwrap();
        let err = LocalCa::load_or_create(dir.path()).unwrap_err().to_string();
        assert!(err.contains("does not belong to the key"), "{err}");
    }

    #[test]
    fn a_certificate_without_its_key_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        LocalCa::load_or_create(dir.path()).unwrap();
        std::fs::remove_file(dir.path().join(CA_KEY_FILE)).unwrap();
        let err = LocalCa::load_or_create(dir.path()).unwrap_err().to_string();
        assert!(err.contains("has no key beside it"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_key_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        LocalCa::load_or_create(dir.path()).unwrap();
        let key = dir.path().join(CA_KEY_FILE);
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = LocalCa::load_or_create(dir.path()).unwrap_err();
        assert!(
            matches!(err, TlsError::KeyMode { mode: 0o644, .. }),
            "{err}"
        );
    }

    #[test]
    fn an_in_memory_ca_writes_only_its_certificate_and_cleans_up() {
        let ca = LocalCa::in_memory().unwrap();
        let path = ca.cert_path().to_path_buf();
        assert!(ca.key_path().is_none());
        let dir = path.parent().unwrap().to_path_buf();
        let files: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(files.len(), 1);
        drop(ca);
        assert!(!dir.exists());
    }
}
