//! TLS for every Quartet server and client, in one place: rustls with the ring provider
//! (it builds with a C compiler alone; aws-lc-rs may want cmake and nasm), tokio-rustls
//! for the async handshake, PEM read through `rustls-pki-types`.
//!
//! - [`ServerTls`]: a certificate chain and key loaded from PEM (`--tls-cert`,
//!   `--tls-key`), carried in [`crate::ServerConfig::tls`]; each protocol's `serve` turns
//!   it into an [`Acceptor`] with its own ALPN ids ([`ALPN_HTTP`] for REST and GraphQL,
//!   [`ALPN_H2`] for gRPC, the wire protocol's own id). An [`Acceptor`] bounds every
//!   handshake by [`HANDSHAKE_TIMEOUT`] and logs why one failed (a plain-text peer, a
//!   silent one, a client that refused our certificate), so nothing hangs on a TLS port.
//! - [`ClientTls`]: the CA a client verifies servers against (from a PEM file), carried in
//!   [`crate::ClientConfig::tls`]; [`ClientTls::connector`] makes a [`Connector`] for a
//!   protocol's ALPN ids. A failed verification is an error whose text says
//!   "certificate verification failed" and why ([`describe`]).
//! - `dev` (feature `tls-dev-certs`): a development CA and a server certificate for
//!   localhost, 127.0.0.1 and ::1 signed by it (rcgen), what `quartet tls-dev-certs`
//!   writes and what tests use.
//! - [`suite`] (feature `test-suites`): the TLS checks every protocol's tests run.
//!
//! What is not here: client certificates (mutual TLS), certificate reloading, and any
//! protocol's framing; plain text stays every server's and client's default.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};

/// How long a server waits for a TLS handshake to finish, and a client for the server's
/// side of it: a peer that connects and says nothing (or speaks plain text and waits)
/// is closed after this, with the reason logged.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// ALPN ids of the HTTP servers (REST, GraphQL): HTTP/2 preferred, HTTP/1.1 accepted.
pub const ALPN_HTTP: &[&[u8]] = &[b"h2", b"http/1.1"];
/// ALPN id of gRPC, which is HTTP/2 only.
pub const ALPN_H2: &[&[u8]] = &[b"h2"];
/// ALPN id of an HTTP/1.1-only client (reqwest as the crates build it, the lean load
/// clients).
pub const ALPN_HTTP1: &[&[u8]] = &[b"http/1.1"];

/// Why TLS could not be set up: a file that cannot be read, PEM with nothing usable in
/// it, or a key that does not match its certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsError(String);

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TlsError {}

/// The one crypto provider every config is built with (ring), so no process-wide default
/// has to be installed.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path)
        .map_err(|e| TlsError(format!("cannot read the {what} {}: {e}", path.display())))
}

/// Every certificate in `pem`, in order.
fn certificates(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError(format!("the {what} is not valid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(TlsError(format!("the {what} holds no CERTIFICATE block")));
    }
    Ok(certs)
}

/// A server's certificate chain and key, ready to accept TLS connections. Cheap to clone
/// (the rustls config is shared).
#[derive(Clone)]
pub struct ServerTls {
    config: Arc<rustls::ServerConfig>,
    /// How long each handshake may take ([`HANDSHAKE_TIMEOUT`] by default).
    pub handshake_timeout: Duration,
}

impl fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerTls")
            .field("handshake_timeout", &self.handshake_timeout)
            .finish_non_exhaustive()
    }
}

/// Two `ServerTls` are equal when they share one loaded config (what clones do): configs
/// are not comparable, and this keeps `ServerConfig: PartialEq`.
impl PartialEq for ServerTls {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.config, &other.config)
            && self.handshake_timeout == other.handshake_timeout
    }
}

impl Eq for ServerTls {}

impl ServerTls {
    /// Loads the certificate chain (`cert`, PEM, leaf first) and its private key (`key`,
    /// PEM: PKCS#8, PKCS#1 or SEC1).
    ///
    /// # Errors
    /// A [`TlsError`] naming the file that cannot be read or parsed, or saying the key
    /// does not fit the certificate.
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Self, TlsError> {
        Self::from_pem(&read(cert, "certificate")?, &read(key, "key")?)
    }

    /// As [`ServerTls::from_pem_files`], from PEM text already in memory.
    ///
    /// # Errors
    /// As [`ServerTls::from_pem_files`].
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Self, TlsError> {
        let certs = certificates(cert_pem, "certificate")?;
        let key = PrivateKeyDer::from_pem_slice(key_pem)
            .map_err(|e| TlsError(format!("the key holds no usable private key: {e}")))?;
        let config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError(format!("no TLS version available: {e}")))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| TlsError(format!("the certificate and key do not fit: {e}")))?;
        Ok(ServerTls {
            config: Arc::new(config),
            handshake_timeout: HANDSHAKE_TIMEOUT,
        })
    }

    /// An acceptor that offers `alpn` (in preference order). A client that offers ALPN
    /// ids but none of these is refused by rustls (`no_application_protocol`); a client
    /// offering none is served.
    pub fn acceptor(&self, alpn: &[&[u8]]) -> Acceptor {
        let mut config = (*self.config).clone();
        config.alpn_protocols = alpn.iter().map(|id| id.to_vec()).collect();
        Acceptor {
            inner: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
            timeout: self.handshake_timeout,
        }
    }
}

/// The server side of a handshake with one protocol's ALPN ids and a deadline.
#[derive(Clone)]
pub struct Acceptor {
    inner: tokio_rustls::TlsAcceptor,
    timeout: Duration,
}

impl fmt::Debug for Acceptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acceptor")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// A server-side TLS connection.
pub type ServerStream<S> = tokio_rustls::server::TlsStream<S>;
/// A client-side TLS connection.
pub type ClientStream<S> = tokio_rustls::client::TlsStream<S>;

impl Acceptor {
    /// Runs the server side of the handshake on `stream` within the acceptor's deadline.
    /// On failure the reason is logged (at debug: it is the peer's doing) with `peer`,
    /// and `None` is returned; dropping the stream closes the connection.
    pub async fn accept<S>(&self, stream: S, peer: SocketAddr) -> Option<ServerStream<S>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        match tokio::time::timeout(self.timeout, self.inner.accept(stream)).await {
            Ok(Ok(tls)) => Some(tls),
            Ok(Err(e)) => {
                tracing::debug!(%peer, reason = %describe(&e), "TLS handshake failed; closing");
                None
            }
            Err(_) => {
                tracing::debug!(%peer, timeout = ?self.timeout, "no TLS handshake in time; closing");
                None
            }
        }
    }
}

/// A handshake error in words a person acts on: a certificate problem says
/// "certificate verification failed" and what was wrong, a peer that sent something
/// other than TLS says so.
pub fn describe(e: &io::Error) -> String {
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(tls) => describe_tls(tls),
        None => e.to_string(),
    }
}

/// As [`describe`], for a rustls error itself.
pub fn describe_tls(tls: &rustls::Error) -> String {
    match tls {
        rustls::Error::InvalidCertificate(reason) => {
            format!("certificate verification failed: {reason:?}")
        }
        rustls::Error::AlertReceived(alert) => format!("the peer refused the handshake: {alert:?}"),
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => {
            format!("the peer does not speak TLS ({tls})")
        }
        other => other.to_string(),
    }
}

/// The CA a client trusts, and optionally the name it expects the server to have
/// (without it, the address it connects to: an IP address must then be in the server
/// certificate's names, as it is in the development certificate).
#[derive(Clone)]
pub struct ClientTls {
    config: Arc<rustls::ClientConfig>,
    /// The name the server's certificate must carry, instead of the address dialled.
    /// Honoured by [`Connector`] (gRPC, wire, GraphQL's WebSockets, the harness's lean
    /// clients); reqwest (REST, GraphQL queries) checks its URL's host instead.
    pub server_name: Option<String>,
}

impl fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientTls")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

/// Equal when they share one loaded config and expect the same name (see [`ServerTls`]).
impl PartialEq for ClientTls {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.config, &other.config) && self.server_name == other.server_name
    }
}

impl Eq for ClientTls {}

impl ClientTls {
    /// Trusts the certificates in the PEM file `ca` (and nothing else: no system roots).
    ///
    /// # Errors
    /// A [`TlsError`] if the file cannot be read or holds no usable certificate.
    pub fn from_ca_file(ca: &Path) -> Result<Self, TlsError> {
        Self::from_ca_pem(&read(ca, "CA file")?)
    }

    /// As [`ClientTls::from_ca_file`], from PEM text in memory.
    ///
    /// # Errors
    /// As [`ClientTls::from_ca_file`].
    pub fn from_ca_pem(pem: &[u8]) -> Result<Self, TlsError> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in certificates(pem, "CA file")? {
            roots
                .add(cert)
                .map_err(|e| TlsError(format!("the CA file holds an unusable certificate: {e}")))?;
        }
        let config = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError(format!("no TLS version available: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(ClientTls {
            config: Arc::new(config),
            server_name: None,
        })
    }

    /// The same trust, expecting the server certificate to name `name`.
    #[must_use]
    pub fn with_server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }

    /// The rustls config with `alpn` offered: for clients that drive TLS themselves
    /// (reqwest's `use_preconfigured_tls`).
    pub fn config_with_alpn(&self, alpn: &[&[u8]]) -> rustls::ClientConfig {
        let mut config = (*self.config).clone();
        config.alpn_protocols = alpn.iter().map(|id| id.to_vec()).collect();
        config
    }

    /// A connector offering `alpn`.
    pub fn connector(&self, alpn: &[&[u8]]) -> Connector {
        Connector {
            inner: tokio_rustls::TlsConnector::from(Arc::new(self.config_with_alpn(alpn))),
            server_name: self.server_name.clone(),
        }
    }
}

/// The client side of a handshake with one protocol's ALPN ids.
#[derive(Clone)]
pub struct Connector {
    inner: tokio_rustls::TlsConnector,
    server_name: Option<String>,
}

impl fmt::Debug for Connector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connector")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

impl Connector {
    /// Runs the client side of the handshake with the server at `addr` on `stream`,
    /// within [`HANDSHAKE_TIMEOUT`], checking the certificate against the CA and the name
    /// (the configured one, else `addr`'s IP address).
    ///
    /// # Errors
    /// An `io::Error` whose text says what failed: "certificate verification failed: ..."
    /// for a wrong CA or name, "the peer does not speak TLS" for a plain-text server, a
    /// timeout for a silent one.
    pub async fn connect<S>(&self, stream: S, addr: SocketAddr) -> io::Result<ClientStream<S>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let name = match &self.server_name {
            Some(name) => ServerName::try_from(name.clone()).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("bad server name {name}: {e}"),
                )
            })?,
            None => ServerName::IpAddress(addr.ip().into()),
        };
        match tokio::time::timeout(HANDSHAKE_TIMEOUT, self.inner.connect(name, stream)).await {
            Ok(Ok(tls)) => Ok(tls),
            Ok(Err(e)) => Err(io::Error::new(
                e.kind(),
                format!("TLS handshake with {addr} failed: {}", describe(&e)),
            )),
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("TLS handshake with {addr} timed out"),
            )),
        }
    }
}

/// A server connection that is TLS or not, as the server was configured: one type for
/// code that must name it (tonic's incoming stream). Servers that can be generic are.
#[derive(Debug)]
pub enum MaybeTls<S> {
    /// Plain text.
    Plain(S),
    /// After a completed handshake.
    Tls(Box<ServerStream<S>>),
}

impl<S> MaybeTls<S> {
    /// The connection under TLS (the TCP stream), for addresses and socket options.
    pub fn get_ref(&self) -> &S {
        match self {
            MaybeTls::Plain(s) => s,
            MaybeTls::Tls(tls) => tls.get_ref().0,
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for MaybeTls<S> {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        match self.get_mut() {
            MaybeTls::Plain(s) => std::pin::Pin::new(s).poll_read(cx, buf),
            MaybeTls::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for MaybeTls<S> {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<io::Result<usize>> {
        match self.get_mut() {
            MaybeTls::Plain(s) => std::pin::Pin::new(s).poll_write(cx, buf),
            MaybeTls::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> std::task::Poll<io::Result<usize>> {
        match self.get_mut() {
            MaybeTls::Plain(s) => std::pin::Pin::new(s).poll_write_vectored(cx, bufs),
            MaybeTls::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            MaybeTls::Plain(s) => s.is_write_vectored(),
            MaybeTls::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        match self.get_mut() {
            MaybeTls::Plain(s) => std::pin::Pin::new(s).poll_flush(cx),
            MaybeTls::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        match self.get_mut() {
            MaybeTls::Plain(s) => std::pin::Pin::new(s).poll_shutdown(cx),
            MaybeTls::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

#[cfg(feature = "test-suites")]
pub mod suite;

/// A development CA and a server certificate signed by it, for local runs and tests;
/// [`dev::pair`], [`dev::other_ca`] and [`dev::silent_client`] are the fixture every
/// protocol's TLS tests share.
#[cfg(feature = "tls-dev-certs")]
pub mod dev {
    use std::io;
    use std::net::SocketAddr;
    use std::path::{Path, PathBuf};
    use std::time::Duration;

    use super::{ClientTls, ServerTls, TlsError};

    /// The names the development server certificate is valid for.
    pub const NAMES: &[&str] = &["localhost", "127.0.0.1", "::1"];

    /// A CA and a server certificate and key, as PEM text.
    #[derive(Debug, Clone)]
    pub struct DevCerts {
        /// The CA's certificate: what clients trust.
        pub ca_pem: String,
        /// The server's certificate (signed by the CA).
        pub cert_pem: String,
        /// The server's private key (PKCS#8).
        pub key_pem: String,
    }

    /// Where [`write`] put each file.
    #[derive(Debug, Clone)]
    pub struct DevPaths {
        /// `ca.pem`.
        pub ca: PathBuf,
        /// `server.pem`.
        pub cert: PathBuf,
        /// `server-key.pem`.
        pub key: PathBuf,
    }

    fn rcgen_error(e: &rcgen::Error) -> TlsError {
        TlsError(format!("cannot make the development certificates: {e}"))
    }

    /// A fresh CA ("Quartet development CA", ECDSA P-256) and a server certificate for
    /// `names` (DNS names or IP addresses) signed by it.
    ///
    /// # Errors
    /// A [`TlsError`] if a name is not a valid DNS name or IP address.
    pub fn generate(names: &[&str]) -> Result<DevCerts, TlsError> {
        use rcgen::{
            BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose,
            IsCa, KeyPair, KeyUsagePurpose,
        };
        let mut ca_params =
            CertificateParams::new(Vec::<String>::new()).map_err(|e| rcgen_error(&e))?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "Quartet development CA");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_key = KeyPair::generate().map_err(|e| rcgen_error(&e))?;
        let ca = CertifiedIssuer::self_signed(ca_params, ca_key).map_err(|e| rcgen_error(&e))?;

        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names).map_err(|e| rcgen_error(&e))?;
        params
            .distinguished_name
            .push(DnType::CommonName, "Quartet development server");
        params.is_ca = IsCa::ExplicitNoCa;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let key = KeyPair::generate().map_err(|e| rcgen_error(&e))?;
        let cert = params.signed_by(&key, &ca).map_err(|e| rcgen_error(&e))?;
        Ok(DevCerts {
            ca_pem: ca.pem(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }

    /// A server with a fresh development certificate for [`NAMES`] (so a client dialling
    /// 127.0.0.1 or `::1` verifies it) and a client trusting its CA, the server bounding
    /// each handshake by `handshake_timeout`: what a TLS test serves and connects with.
    ///
    /// # Errors
    /// A [`TlsError`] if the certificates cannot be made or loaded (never for [`NAMES`]
    /// on a working rcgen and rustls).
    pub fn pair(handshake_timeout: Duration) -> Result<(ServerTls, ClientTls), TlsError> {
        pair_for(NAMES, handshake_timeout)
    }

    /// As [`pair`], with a server certificate for `names` instead of [`NAMES`]: a test of
    /// a client that must refuse a certificate for another name (`quartet.invalid`).
    ///
    /// # Errors
    /// A [`TlsError`] if a name is not a valid DNS name or IP address.
    pub fn pair_for(
        names: &[&str],
        handshake_timeout: Duration,
    ) -> Result<(ServerTls, ClientTls), TlsError> {
        let certs = generate(names)?;
        let mut server = ServerTls::from_pem(certs.cert_pem.as_bytes(), certs.key_pem.as_bytes())?;
        server.handshake_timeout = handshake_timeout;
        Ok((server, ClientTls::from_ca_pem(certs.ca_pem.as_bytes())?))
    }

    /// A client trusting a fresh CA that signed nothing else: every server it meets,
    /// including one made by [`pair`], fails its verification.
    ///
    /// # Errors
    /// As [`pair`].
    pub fn other_ca() -> Result<ClientTls, TlsError> {
        ClientTls::from_ca_pem(generate(NAMES)?.ca_pem.as_bytes())
    }

    /// Connects to the TLS server at `addr`, sends nothing, and waits up to `within` for
    /// the server to close the connection (its handshake deadline should). Returns how
    /// many bytes the server sent first, which should be none; a reset counts as a close
    /// with nothing sent, since a server may reset a connection it gives up on.
    ///
    /// # Errors
    /// The connect's error, or `TimedOut` if the connection was still open after `within`.
    pub async fn silent_client(addr: SocketAddr, within: Duration) -> io::Result<usize> {
        use tokio::io::AsyncReadExt;
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        let mut buf = [0u8; 64];
        match tokio::time::timeout(within, stream.read(&mut buf)).await {
            Ok(read) => Ok(read.unwrap_or(0)),
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("{addr} kept a silent connection open for {within:?}"),
            )),
        }
    }

    /// Generates certificates for [`NAMES`] and writes `ca.pem`, `server.pem` and
    /// `server-key.pem` into `dir` (created if missing; existing files are replaced).
    ///
    /// # Errors
    /// A [`TlsError`] naming the file that cannot be written.
    pub fn write(dir: &Path) -> Result<DevPaths, TlsError> {
        let certs = generate(NAMES)?;
        std::fs::create_dir_all(dir)
            .map_err(|e| TlsError(format!("cannot create {}: {e}", dir.display())))?;
        let paths = DevPaths {
            ca: dir.join("ca.pem"),
            cert: dir.join("server.pem"),
            key: dir.join("server-key.pem"),
        };
        for (path, text) in [
            (&paths.ca, &certs.ca_pem),
            (&paths.cert, &certs.cert_pem),
            (&paths.key, &certs.key_pem),
        ] {
            std::fs::write(path, text)
                .map_err(|e| TlsError(format!("cannot write {}: {e}", path.display())))?;
        }
        Ok(paths)
    }
}
