//! HPACK (RFC 7541) for the framed gRPC client ([`super::h2conn`]): a decoder for the
//! server's header blocks (static table, dynamic table with its size updates and
//! eviction, integers, literal and Huffman-coded strings), and the few encodings the
//! client's own request headers need.
//!
//! The decoder must read every header block of a connection in order, whatever stream
//! it belongs to, because each block may change the dynamic table the next one refers
//! to: tonic's server (h2) indexes `content-type`, `grpc-status` and the like on first
//! use and sends one byte for them after that. Fields are handed to a callback as byte
//! slices; nothing is allocated per block once the table holds the server's usual fields
//! (a Huffman-coded literal is decoded into a scratch buffer kept by the decoder).
//!
//! What does not live here: the HTTP/2 framing ([`super::h2frames`]) and which fields
//! matter (the connection reads `:status`, `grpc-status`, `grpc-message` and
//! `grpc-encoding`).

use std::collections::VecDeque;

/// The static table (RFC 7541 appendix A), index 1 first.
const STATIC: [(&[u8], &[u8]); 61] = [
    (b":authority", b""),
    (b":method", b"GET"),
    (b":method", b"POST"),
    (b":path", b"/"),
    (b":path", b"/index.html"),
    (b":scheme", b"http"),
    (b":scheme", b"https"),
    (b":status", b"200"),
    (b":status", b"204"),
    (b":status", b"206"),
    (b":status", b"304"),
    (b":status", b"400"),
    (b":status", b"404"),
    (b":status", b"500"),
    (b"accept-charset", b""),
    (b"accept-encoding", b"gzip, deflate"),
    (b"accept-language", b""),
    (b"accept-ranges", b""),
    (b"accept", b""),
    (b"access-control-allow-origin", b""),
    (b"age", b""),
    (b"allow", b""),
    (b"authorization", b""),
    (b"cache-control", b""),
    (b"content-disposition", b""),
    (b"content-encoding", b""),
    (b"content-language", b""),
    (b"content-length", b""),
    (b"content-location", b""),
    (b"content-range", b""),
    (b"content-type", b""),
    (b"cookie", b""),
    (b"date", b""),
    (b"etag", b""),
    (b"expect", b""),
    (b"expires", b""),
    (b"from", b""),
    (b"host", b""),
    (b"if-match", b""),
    (b"if-modified-since", b""),
    (b"if-none-match", b""),
    (b"if-range", b""),
    (b"if-unmodified-since", b""),
    (b"last-modified", b""),
    (b"link", b""),
    (b"location", b""),
    (b"max-forwards", b""),
    (b"proxy-authenticate", b""),
    (b"proxy-authorization", b""),
    (b"range", b""),
    (b"referer", b""),
    (b"refresh", b""),
    (b"retry-after", b""),
    (b"server", b""),
    (b"set-cookie", b""),
    (b"strict-transport-security", b""),
    (b"transfer-encoding", b""),
    (b"user-agent", b""),
    (b"vary", b""),
    (b"via", b""),
    (b"www-authenticate", b""),
];

/// The static table's size; dynamic entries are numbered after it.
const STATIC_LEN: usize = STATIC.len();

/// The dynamic table size every HTTP/2 endpoint starts with (SETTINGS_HEADER_TABLE_SIZE's
/// default), which is also the most this client ever allows the server's encoder.
pub const DEFAULT_TABLE_SIZE: usize = 4096;

/// The Huffman code's length in bits for each byte (RFC 7541 appendix B), as the `h2`
/// crate tabulates it (`src/hpack/huffman/table.rs`, MIT). The code is canonical, so
/// these lengths are the whole code; EOS is the 30-bit all-ones code.
const HUFFMAN_LENGTHS: [u8; 256] = [
    13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28,
    28, 28, 28, 28, 28, 28, 28, 28, 6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5,
    5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, 13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
    7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, 15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6,
    6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, 20, 22, 20, 20, 22, 22, 22, 23, 22,
    23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, 22,
    21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20,
    22, 22, 22, 23, 22, 22, 23, 26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19,
    21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, 20, 24, 20, 21, 22, 21, 21, 23, 22,
    22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
];

/// The longest code (EOS's).
const MAX_CODE_BITS: usize = 30;

/// The canonical Huffman code in the form a bit-by-bit decoder walks: for each length,
/// the first code of that length and where its symbols start in `symbols` (sorted by
/// length, then by byte).
struct Huffman {
    first_code: [u32; MAX_CODE_BITS + 1],
    count: [u32; MAX_CODE_BITS + 1],
    offset: [u32; MAX_CODE_BITS + 1],
    symbols: [u8; 256],
}

impl Huffman {
    const fn build() -> Huffman {
        let mut count = [0u32; MAX_CODE_BITS + 1];
        let mut i = 0;
        while i < 256 {
            count[HUFFMAN_LENGTHS[i] as usize] += 1;
            i += 1;
        }
        let mut first_code = [0u32; MAX_CODE_BITS + 1];
        let mut offset = [0u32; MAX_CODE_BITS + 1];
        let (mut code, mut placed) = (0u32, 0u32);
        let mut len = 1;
        while len <= MAX_CODE_BITS {
            first_code[len] = code;
            offset[len] = placed;
            code = (code + count[len]) << 1;
            placed += count[len];
            len += 1;
        }
        let mut symbols = [0u8; 256];
        let mut next = offset;
        let mut len = 1;
        while len <= MAX_CODE_BITS {
            let mut byte = 0;
            while byte < 256 {
                if HUFFMAN_LENGTHS[byte] as usize == len {
                    symbols[next[len] as usize] = byte as u8;
                    next[len] += 1;
                }
                byte += 1;
            }
            len += 1;
        }
        Huffman {
            first_code,
            count,
            offset,
            symbols,
        }
    }
}

static HUFFMAN: Huffman = Huffman::build();

/// Appends the Huffman-decoded `input` to `out`.
///
/// # Errors
/// A code that is not the table's, EOS in the string, or padding longer than 7 bits or
/// not all ones (RFC 7541 5.2).
fn huffman_decode(input: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    let (mut code, mut len) = (0u32, 0usize);
    for &byte in input {
        for shift in (0..8).rev() {
            code = (code << 1) | u32::from((byte >> shift) & 1);
            len += 1;
            if len > MAX_CODE_BITS {
                return Err("a Huffman code longer than 30 bits".into());
            }
            let index = code.wrapping_sub(HUFFMAN.first_code[len]);
            if code >= HUFFMAN.first_code[len] && index < HUFFMAN.count[len] {
                out.push(HUFFMAN.symbols[(HUFFMAN.offset[len] + index) as usize]);
                (code, len) = (0, 0);
            }
        }
    }
    // What is left is padding: a prefix of EOS, so all ones and under a byte.
    if len > 7 || code != (1u32 << len) - 1 {
        return Err("bad Huffman padding".into());
    }
    Ok(())
}

/// Reads an HPACK integer with a `prefix`-bit prefix off the front of `buf`.
///
/// # Errors
/// A truncated integer, or one over `u32::MAX`.
pub fn integer(buf: &mut &[u8], prefix: u8) -> Result<usize, String> {
    let (&first, rest) = buf.split_first().ok_or("a truncated header block")?;
    let max = (1u32 << prefix) - 1;
    let value = u32::from(first) & max;
    *buf = rest;
    if value < max {
        return Ok(value as usize);
    }
    let mut value = u64::from(value);
    let mut shift = 0u32;
    loop {
        let (&byte, rest) = buf.split_first().ok_or("a truncated header block")?;
        *buf = rest;
        if shift > 28 {
            return Err("an HPACK integer too large".into());
        }
        value += u64::from(byte & 0x7f) << shift;
        if value > u64::from(u32::MAX) {
            return Err("an HPACK integer too large".into());
        }
        if byte & 0x80 == 0 {
            return usize::try_from(value).map_err(|_| "an HPACK integer too large".into());
        }
        shift += 7;
    }
}

/// Appends `value` as an HPACK integer with a `prefix`-bit prefix whose high bits are
/// `flags`.
pub fn put_integer(out: &mut Vec<u8>, flags: u8, prefix: u8, value: usize) {
    let max = (1usize << prefix) - 1;
    if value < max {
        // Below the prefix's maximum: fits in the first byte.
        out.push(flags | value as u8);
        return;
    }
    out.push(flags | max as u8);
    let mut rest = value - max;
    while rest >= 0x80 {
        out.push((rest & 0x7f) as u8 | 0x80);
        rest >>= 7;
    }
    out.push(rest as u8);
}

/// Appends `value` as a plain (not Huffman-coded) HPACK string.
pub fn put_string(out: &mut Vec<u8>, value: &[u8]) {
    put_integer(out, 0, 7, value.len());
    out.extend_from_slice(value);
}

/// One decoded string: where it lies.
#[derive(Clone, Copy)]
enum Str {
    /// In the header block, at this range.
    Block(usize, usize),
    /// In the decoder's scratch buffer, at this range.
    Scratch(usize, usize),
}

/// The server's header blocks, decoded in order with the dynamic table they share.
#[derive(Debug)]
pub struct Decoder {
    /// Newest first: entry `STATIC_LEN + 1` is `table[0]`.
    table: VecDeque<(Vec<u8>, Vec<u8>)>,
    /// The table's size as RFC 7541 counts it (name + value + 32 per entry).
    size: usize,
    /// The size the server's encoder last chose (a size update), at most `max_size`.
    capacity: usize,
    /// The most this client allows (what it announced, or the default).
    max_size: usize,
    /// Huffman-decoded strings of the block being read.
    scratch: Vec<u8>,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(DEFAULT_TABLE_SIZE)
    }
}

impl Decoder {
    /// A decoder whose table may grow to `max_size` bytes.
    pub fn new(max_size: usize) -> Self {
        Decoder {
            table: VecDeque::new(),
            size: 0,
            capacity: max_size,
            max_size,
            scratch: Vec::new(),
        }
    }

    /// Reads a whole header block, handing each field to `field` as (name, value).
    ///
    /// # Errors
    /// A malformed block (a bad index, integer or Huffman string, a size update past the
    /// maximum or after the first field): a connection error (COMPRESSION_ERROR).
    pub fn decode(
        &mut self,
        block: &[u8],
        mut field: impl FnMut(&[u8], &[u8]),
    ) -> Result<(), String> {
        self.scratch.clear();
        let mut rest = block;
        let mut fields_seen = false;
        while let Some(&first) = rest.first() {
            if first & 0x80 != 0 {
                // Indexed field.
                let index = integer(&mut rest, 7)?;
                let (name, value) = self.entry(index)?;
                field(name, value);
                fields_seen = true;
            } else if first & 0xe0 == 0x20 {
                // Dynamic table size update: only before the block's first field.
                let size = integer(&mut rest, 5)?;
                if fields_seen || size > self.max_size {
                    return Err(format!("a bad HPACK table size update to {size}"));
                }
                self.capacity = size;
                self.evict(0);
            } else {
                // Literal: with incremental indexing (01), or without / never indexed.
                let (prefix, index_it) = if first & 0x40 != 0 {
                    (6, true)
                } else {
                    (4, false)
                };
                let name_index = integer(&mut rest, prefix)?;
                let name = if name_index == 0 {
                    Some(self.string(block, &mut rest)?)
                } else {
                    None
                };
                let value = self.string(block, &mut rest)?;
                let value_bytes = self.resolve(block, value);
                let name_bytes = match name {
                    Some(s) => self.resolve(block, s),
                    None => self.entry(name_index)?.0,
                };
                field(name_bytes, value_bytes);
                if index_it {
                    let entry = (name_bytes.to_vec(), value_bytes.to_vec());
                    self.insert(entry);
                }
                fields_seen = true;
            }
        }
        Ok(())
    }

    /// Entry `index` of the static table then the dynamic one.
    fn entry(&self, index: usize) -> Result<(&[u8], &[u8]), String> {
        match index {
            0 => Err("HPACK index 0".into()),
            i if i <= STATIC_LEN => Ok(STATIC[i - 1]),
            i => self
                .table
                .get(i - STATIC_LEN - 1)
                .map(|(n, v)| (n.as_slice(), v.as_slice()))
                .ok_or_else(|| format!("HPACK index {i} past the table")),
        }
    }

    /// Reads a string literal off the front of `rest` (a suffix of `block`).
    fn string(&mut self, block: &[u8], rest: &mut &[u8]) -> Result<Str, String> {
        let huffman = rest.first().is_some_and(|b| b & 0x80 != 0);
        let len = integer(rest, 7)?;
        if len > rest.len() {
            return Err("a truncated header block".into());
        }
        let (bytes, after) = rest.split_at(len);
        *rest = after;
        if huffman {
            let start = self.scratch.len();
            huffman_decode(bytes, &mut self.scratch)?;
            Ok(Str::Scratch(start, self.scratch.len()))
        } else {
            let start = block.len() - after.len() - len;
            Ok(Str::Block(start, start + len))
        }
    }

    fn resolve<'a>(&'a self, block: &'a [u8], s: Str) -> &'a [u8] {
        match s {
            Str::Block(a, b) => block.get(a..b).unwrap_or_default(),
            Str::Scratch(a, b) => self.scratch.get(a..b).unwrap_or_default(),
        }
    }

    /// Adds an entry at the front, evicting from the back to make room (an entry larger
    /// than the table empties it and is not added, RFC 7541 4.4).
    fn insert(&mut self, entry: (Vec<u8>, Vec<u8>)) {
        let size = entry.0.len() + entry.1.len() + 32;
        self.evict(size);
        if size <= self.capacity {
            self.size += size;
            self.table.push_front(entry);
        }
    }

    /// Evicts the oldest entries until `room` more bytes fit (or the table is empty).
    fn evict(&mut self, room: usize) {
        while self.size + room > self.capacity {
            match self.table.pop_back() {
                Some((n, v)) => self.size -= n.len() + v.len() + 32,
                None => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn decode_all(decoder: &mut Decoder, block: &[u8]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        decoder
            .decode(block, |n, v| {
                out.push((
                    String::from_utf8_lossy(n).into_owned(),
                    String::from_utf8_lossy(v).into_owned(),
                ));
            })
            .unwrap();
        out
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn canonical_codes_match_the_rfc() {
        // A few codes of RFC 7541 appendix B, rebuilt from the lengths.
        let code = |byte: usize| {
            let len = HUFFMAN_LENGTHS[byte] as usize;
            let pos = (0..256)
                .position(|i| HUFFMAN.symbols[HUFFMAN.offset[len] as usize + i] as usize == byte)
                .unwrap();
            HUFFMAN.first_code[len] + pos as u32
        };
        assert_eq!(code(b'0' as usize), 0x0);
        assert_eq!(code(b'a' as usize), 0x3);
        assert_eq!(code(b' ' as usize), 0x14);
        assert_eq!(code(0), 0x1ff8);
        assert_eq!(code(255), 0x03ff_ffee);
        assert_eq!(code(b'~' as usize), 0x1ffd);
    }

    /// RFC 7541 C.6: three responses with Huffman coding, a 256-byte table and
    /// evictions.
    #[test]
    fn rfc_responses_with_huffman_and_eviction() {
        let mut d = Decoder::new(256);
        let first = hex(
            "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
             2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
        );
        assert_eq!(
            decode_all(&mut d, &first),
            pairs(&[
                (":status", "302"),
                ("cache-control", "private"),
                ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
                ("location", "https://www.example.com"),
            ])
        );
        assert_eq!(d.size, 222);
        let second = hex("4883 640e ffc1 c0bf");
        assert_eq!(
            decode_all(&mut d, &second),
            pairs(&[
                (":status", "307"),
                ("cache-control", "private"),
                ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
                ("location", "https://www.example.com"),
            ])
        );
        assert_eq!(d.size, 222);
        let third = hex(
            "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
             77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
             9587 3160 65c0 03ed 4ee5 b106 3d50 07",
        );
        assert_eq!(
            decode_all(&mut d, &third),
            pairs(&[
                (":status", "200"),
                ("cache-control", "private"),
                ("date", "Mon, 21 Oct 2013 20:13:22 GMT"),
                ("location", "https://www.example.com"),
                ("content-encoding", "gzip"),
                (
                    "set-cookie",
                    "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"
                ),
            ])
        );
        assert_eq!(d.size, 215);
    }

    #[test]
    fn integers_round_trip() {
        for (value, prefix) in [(10, 5), (1337, 5), (42, 8), (0, 4), (15, 4), (1 << 20, 7)] {
            let mut out = Vec::new();
            put_integer(&mut out, 0, prefix, value);
            let mut slice = out.as_slice();
            assert_eq!(integer(&mut slice, prefix).unwrap(), value);
            assert!(slice.is_empty());
        }
        let mut rfc = &[0x1f, 0x9a, 0x0a][..];
        assert_eq!(integer(&mut rfc, 5).unwrap(), 1337);
    }

    #[test]
    fn malformed_blocks_are_errors() {
        let mut d = Decoder::default();
        assert!(d.decode(&[0x80], |_, _| {}).is_err(), "index 0");
        assert!(d.decode(&[0xbe], |_, _| {}).is_err(), "past the table");
        assert!(
            d.decode(&[0x40, 0x85, 0xff], |_, _| {}).is_err(),
            "truncated"
        );
        assert!(
            d.decode(&[0x3f, 0xe1, 0x1f], |_, _| {}).is_ok(),
            "4 096 fits"
        );
        assert!(
            d.decode(&[0x3f, 0xe2, 0x1f], |_, _| {}).is_err(),
            "table too big"
        );
        assert!(
            d.decode(&[0x88, 0x20], |_, _| {}).is_err(),
            "update after a field"
        );
        // A literal value of one Huffman byte 0x00: five bits of '0' then 000 padding.
        assert!(
            d.decode(&[0x08, 0x81, 0x00], |_, _| {}).is_err(),
            "bad padding"
        );
    }
}
