//! Per-frame payload compression (PROTOCOL.md §2, "Compressed frames"): turning one
//! frame's payload into its compressed form and back, with the codec a connection's
//! hellos agreed on (zstd or gzip, the same two as every Quartet protocol, through the
//! `zstd` and `flate2` crates).
//!
//! A compressed payload is the payload's length before compression (`u32` BE), then the
//! codec's own format (one zstd frame, RFC 8878; one gzip member, RFC 1952). The
//! receiver checks that length against its frame maximum *before* decompressing and
//! never lets the decoder produce more than it, so a small frame that expands without
//! end (a compression bomb) costs at most one maximum frame of memory and is refused.
//!
//! What is not here: which codec a connection uses (the hellos, `handshake.rs`), the
//! header bit that marks a compressed frame and the typed errors (`codec.rs`).

use std::fmt;
use std::io::{self, Read, Write};

pub use netkit::config::{COMPRESSION_MIN_BYTES, Compression};

/// Bytes of the uncompressed length in front of a compressed payload.
pub const LENGTH_PREFIX: usize = 4;

/// Why a compressed payload was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// Its declared length is above what the receiver accepts.
    #[error("a compressed payload declares {declared} bytes, above the {max}-byte maximum")]
    TooLarge {
        /// The length it declared.
        declared: usize,
        /// The largest payload the receiver accepts.
        max: usize,
    },
    /// It is not valid data of the codec, or does not decompress to its declared length.
    #[error("{0}")]
    Corrupt(String),
}

/// zstd at its default level (3, as tower-http and tonic use), with the frame's content
/// checksum, so a receiver detects a damaged payload as gzip's CRC-32 does.
fn zstd_compressor() -> io::Result<zstd::bulk::Compressor<'static>> {
    let mut zstd = zstd::bulk::Compressor::new(zstd::DEFAULT_COMPRESSION_LEVEL)?;
    zstd.set_parameter(zstd::zstd_safe::CParameter::ChecksumFlag(true))?;
    Ok(zstd)
}

/// A payload in compressed form: its length before compression, then the codec's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compressed {
    /// The payload's length before compression.
    pub declared: u32,
    /// The codec's data.
    pub data: Vec<u8>,
}

impl Compressed {
    /// The bytes as a frame carries them.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(LENGTH_PREFIX + self.data.len());
        bytes.extend_from_slice(&self.declared.to_be_bytes());
        bytes.extend_from_slice(&self.data);
        bytes
    }
}

/// One direction's compression on one connection: the agreed codec, the smallest payload
/// worth compressing, and the codec's contexts, made on first use and then reused for
/// every frame (a zstd context is costly to set up).
pub struct FrameCompression {
    codec: Compression,
    min_bytes: usize,
    zstd_compressor: Option<zstd::bulk::Compressor<'static>>,
    zstd_decompressor: Option<zstd::bulk::Decompressor<'static>>,
}

impl fmt::Debug for FrameCompression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrameCompression")
            .field("codec", &self.codec)
            .field("min_bytes", &self.min_bytes)
            .finish_non_exhaustive()
    }
}

impl FrameCompression {
    /// Compression with `codec` for payloads of at least `min_bytes`; `None` for
    /// [`Compression::None`] (nothing to do).
    pub fn new(codec: Compression, min_bytes: usize) -> Option<Self> {
        (codec != Compression::None).then_some(FrameCompression {
            codec,
            min_bytes,
            zstd_compressor: None,
            zstd_decompressor: None,
        })
    }

    /// The codec.
    pub fn codec(&self) -> Compression {
        self.codec
    }

    /// `payload`'s compressed form, or `None` when it goes as it is: shorter than the
    /// threshold, or not made smaller by compressing.
    ///
    /// # Errors
    /// If the codec fails, which compressing into memory does not short of allocation
    /// failure.
    pub fn compress(&mut self, payload: &[u8]) -> io::Result<Option<Compressed>> {
        if payload.len() < self.min_bytes {
            return Ok(None);
        }
        let Ok(declared) = u32::try_from(payload.len()) else {
            return Ok(None);
        };
        let data = match self.codec {
            Compression::None => return Ok(None),
            Compression::Zstd => {
                let zstd = match &mut self.zstd_compressor {
                    Some(zstd) => zstd,
                    none => none.insert(zstd_compressor()?),
                };
                zstd.compress(payload)?
            }
            Compression::Gzip => {
                let mut encoder = flate2::write::GzEncoder::new(
                    Vec::with_capacity(payload.len() / 4),
                    flate2::Compression::default(),
                );
                encoder.write_all(payload)?;
                encoder.finish()?
            }
        };
        Ok((LENGTH_PREFIX + data.len() < payload.len()).then_some(Compressed { declared, data }))
    }

    /// The payload a compressed one (length prefix included) stands for, decompressing
    /// at most `max_payload` bytes whatever the data says.
    ///
    /// # Errors
    /// [`Refused::TooLarge`] if the declared length is above `max_payload` (checked
    /// before anything is decompressed); [`Refused::Corrupt`] if the data is not one
    /// valid zstd frame or gzip member, or decompresses to more or fewer bytes than
    /// declared.
    pub fn decompress(
        &mut self,
        compressed: &[u8],
        max_payload: usize,
    ) -> Result<Vec<u8>, Refused> {
        let Some((prefix, data)) = compressed.split_first_chunk::<LENGTH_PREFIX>() else {
            return Err(Refused::Corrupt(format!(
                "a compressed payload of {} bytes has no {LENGTH_PREFIX}-byte length",
                compressed.len()
            )));
        };
        let declared = u32::from_be_bytes(*prefix) as usize;
        if declared > max_payload {
            return Err(Refused::TooLarge {
                declared,
                max: max_payload,
            });
        }
        let codec = self.codec;
        let corrupt = |e: &dyn fmt::Display| {
            Refused::Corrupt(format!("a {codec} payload that does not decompress: {e}"))
        };
        // Never more than the declared length: the buffer holds exactly that and is
        // never grown (zstd fails when its output does not fit; gzip fills it, then one
        // byte more read into a probe tells an overlong payload).
        let mut out = Vec::with_capacity(declared);
        let mut overlong = false;
        match codec {
            Compression::None => out.extend_from_slice(data),
            Compression::Zstd => {
                let zstd = match &mut self.zstd_decompressor {
                    Some(zstd) => zstd,
                    none => {
                        let made = zstd::bulk::Decompressor::new().map_err(|e| corrupt(&e))?;
                        none.insert(made)
                    }
                };
                zstd.decompress_to_buffer(data, &mut out)
                    .map_err(|e| corrupt(&e))?;
            }
            Compression::Gzip => {
                let mut decoder = flate2::bufread::GzDecoder::new(data);
                out.resize(declared, 0);
                let mut filled = 0;
                while filled < declared {
                    match decoder.read(&mut out[filled..]).map_err(|e| corrupt(&e))? {
                        0 => break,
                        n => filled += n,
                    }
                }
                out.truncate(filled);
                // Reading on to the end also checks the member's CRC-32 and size.
                overlong = decoder.read(&mut [0u8; 1]).map_err(|e| corrupt(&e))? > 0;
                let left = decoder.into_inner().len();
                if left > 0 && !overlong {
                    return Err(corrupt(&format_args!(
                        "{left} bytes follow the gzip member"
                    )));
                }
            }
        }
        if overlong || out.len() != declared {
            let got = if overlong {
                "more".to_owned()
            } else {
                out.len().to_string()
            };
            return Err(Refused::Corrupt(format!(
                "a {codec} payload that declares {declared} bytes decompresses to {got}"
            )));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CODECS: [Compression; 2] = [Compression::Zstd, Compression::Gzip];

    fn packer(codec: Compression) -> FrameCompression {
        FrameCompression::new(codec, COMPRESSION_MIN_BYTES).unwrap()
    }

    #[test]
    fn a_payload_round_trips_and_shrinks() {
        let payload = b"seat 17, row K, section 3, available; ".repeat(100);
        for codec in CODECS {
            let mut side = packer(codec);
            let packed = side.compress(&payload).unwrap().unwrap().to_bytes();
            assert!(
                packed.len() < payload.len() / 4,
                "{codec}: {}",
                packed.len()
            );
            assert_eq!(
                packed[..LENGTH_PREFIX],
                (payload.len() as u32).to_be_bytes()
            );
            // Twice, so a reused context is exercised.
            for _ in 0..2 {
                assert_eq!(
                    side.decompress(&packed, payload.len()).unwrap(),
                    payload,
                    "{codec}"
                );
            }
        }
        assert!(FrameCompression::new(Compression::None, 0).is_none());
    }

    #[test]
    fn small_or_incompressible_payloads_stay_raw() {
        let small = vec![b'a'; COMPRESSION_MIN_BYTES - 1];
        // An xorshift sequence: nothing for a compressor to find.
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        for codec in CODECS {
            assert_eq!(packer(codec).compress(&small).unwrap(), None, "{codec}");
            assert_eq!(packer(codec).compress(&noise).unwrap(), None, "{codec}");
            let at_threshold = vec![b'a'; COMPRESSION_MIN_BYTES];
            assert!(packer(codec).compress(&at_threshold).unwrap().is_some());
        }
    }

    #[test]
    fn a_bomb_is_refused_within_its_declared_length() {
        let huge = vec![0u8; 8 << 20];
        for codec in CODECS {
            let packed = packer(codec).compress(&huge).unwrap().unwrap().to_bytes();
            assert!(packed.len() < 64 << 10, "{codec}: {}", packed.len());
            // Declared honestly, but above the receiver's maximum: refused unread.
            assert_eq!(
                packer(codec).decompress(&packed, 1 << 20),
                Err(Refused::TooLarge {
                    declared: 8 << 20,
                    max: 1 << 20
                })
            );
            // Declared small, expanding far beyond it: stopped at the declared length.
            let mut lying = packed.clone();
            lying[..LENGTH_PREFIX].copy_from_slice(&1000u32.to_be_bytes());
            let refused = packer(codec).decompress(&lying, 1 << 20).unwrap_err();
            assert!(matches!(refused, Refused::Corrupt(_)), "{codec}: {refused}");
        }
    }

    #[test]
    fn corrupt_payloads_are_refused() {
        let payload = b"availability of section 4: 812 seats; ".repeat(64);
        for codec in CODECS {
            let packed = packer(codec)
                .compress(&payload)
                .unwrap()
                .unwrap()
                .to_bytes();
            let max = payload.len();
            let mut flipped = packed.clone();
            let middle = flipped.len() / 2;
            flipped[middle] ^= 0x5A;
            let short = &packed[..packed.len() - 3];
            let mut trailing = packed.clone();
            trailing.extend_from_slice(b"junk");
            let mut understated = packed.clone();
            understated[..LENGTH_PREFIX].copy_from_slice(&(max as u32 + 1).to_be_bytes());
            for (what, bad) in [
                ("flipped", &flipped[..]),
                ("truncated", short),
                ("trailing bytes", &trailing[..]),
                ("wrong length", &understated[..]),
                ("no length", &packed[..2]),
                (
                    "not compressed",
                    &b"\0\0\x01\0plain text, not compressed"[..],
                ),
            ] {
                let refused = packer(codec).decompress(bad, max + 1).map(|p| p.len());
                assert!(
                    matches!(refused, Err(Refused::Corrupt(_))),
                    "{codec}, {what}: {refused:?}"
                );
            }
        }
    }
}
