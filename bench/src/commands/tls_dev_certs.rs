//! `quartet tls-dev-certs DIR`: a development CA (`ca.pem`) and a server certificate
//! (`server.pem`, `server-key.pem`) for localhost, 127.0.0.1 and ::1 signed by it, for
//! running the servers with `--tls-cert`/`--tls-key` and clients with the CA. Not for
//! production: the key is written unencrypted and the certificates never expire soon.
//! The making lives in `netkit::tls::dev`; this is only the command around it.

use std::path::PathBuf;

/// Flags of `quartet tls-dev-certs`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to write ca.pem, server.pem and server-key.pem (created if missing;
    /// existing files are replaced).
    pub dir: PathBuf,
}

/// Writes the certificates and says where they went and how to use them.
///
/// # Errors
/// A sentence naming the file that could not be written.
pub fn run(args: &Args) -> Result<(), String> {
    let paths = netkit::tls::dev::write(&args.dir).map_err(|e| e.to_string())?;
    println!("CA (what clients trust):  {}", paths.ca.display());
    println!("server certificate:       {}", paths.cert.display());
    println!("server key:               {}", paths.key.display());
    println!(
        "valid for {}; serve with --tls-cert {} --tls-key {}",
        netkit::tls::dev::NAMES.join(", "),
        paths.cert.display(),
        paths.key.display()
    );
    Ok(())
}
