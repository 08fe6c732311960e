//! A protobuf message walked where it lies, field by field, without decoding it into the
//! generated types: for the checks on the hot path of a load run ([`super::grpc_check`]'s
//! GetEvent), where prost's decode would allocate a `String` or `Vec` for every text and
//! repeated field only for the check to read two of them. The walk is as strict as
//! prost's decode on what it reads: a truncated or over-long varint, a length running
//! past the end, a wire type that is not protobuf's or not the field's, a text field that
//! is not UTF-8 all fail; unknown fields are skipped, as prost skips them.

/// One field's value as it lies on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    /// Wire type 0.
    Varint(u64),
    /// Wire type 1.
    Fixed64,
    /// Wire type 2: the bytes of a string, message or packed repeated field.
    Bytes(&'a [u8]),
    /// Wire type 5.
    Fixed32,
}

/// The fields of one message, in wire order: `(number, value)`, or `Err(())` once the
/// message is not well-formed (after which the walk ends).
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    rest: &'a [u8],
    failed: bool,
}

/// Walks `message`'s fields.
pub fn fields(message: &[u8]) -> Fields<'_> {
    Fields {
        rest: message,
        failed: false,
    }
}

/// Reads a varint off the front of `buf`: at most ten bytes, as prost reads them. Keys,
/// lengths and small numbers are one byte, read first.
fn varint(buf: &mut &[u8]) -> Option<u64> {
    let (&first, rest) = buf.split_first()?;
    if first < 0x80 {
        *buf = rest;
        return Some(u64::from(first));
    }
    let mut value = u64::from(first & 0x7f);
    for (i, &byte) in rest.iter().enumerate().take(9) {
        value |= u64::from(byte & 0x7f) << (7 * (i + 1));
        if byte < 0x80 {
            // The tenth byte may only carry the top bit of a u64.
            if i == 8 && byte > 1 {
                return None;
            }
            *buf = &rest[i + 1..];
            return Some(value);
        }
    }
    None
}

/// Whether `bytes` is UTF-8, as prost requires of a string field: ASCII checked first,
/// a word at a time, which is most text.
pub fn utf8(bytes: &[u8]) -> bool {
    bytes.is_ascii() || std::str::from_utf8(bytes).is_ok()
}

/// Takes `n` bytes off the front of `buf`.
fn take<'a>(buf: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if buf.len() < n {
        return None;
    }
    let (head, tail) = buf.split_at(n);
    *buf = tail;
    Some(head)
}

impl<'a> Fields<'a> {
    fn next_field(&mut self) -> Option<(u32, Value<'a>)> {
        let key = varint(&mut self.rest)?;
        let number = u32::try_from(key >> 3).ok().filter(|&n| n > 0)?;
        let value = match key & 7 {
            0 => Value::Varint(varint(&mut self.rest)?),
            1 => {
                take(&mut self.rest, 8)?;
                Value::Fixed64
            }
            2 => {
                let len = usize::try_from(varint(&mut self.rest)?).ok()?;
                Value::Bytes(take(&mut self.rest, len)?)
            }
            5 => {
                take(&mut self.rest, 4)?;
                Value::Fixed32
            }
            // Groups (3, 4) are proto2's and never in these messages; 6 and 7 do not exist.
            _ => return None,
        };
        Some((number, value))
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u32, Value<'a>), ()>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        let field = self.next_field();
        self.failed = field.is_none();
        Some(field.ok_or(()))
    }
}

/// Whether `bytes` is a run of well-formed varints (a packed repeated integer field).
pub fn packed_varints(mut bytes: &[u8]) -> bool {
    while !bytes.is_empty() {
        if varint(&mut bytes).is_none() {
            return false;
        }
    }
    true
}

/// Whether `bytes` is a well-formed message whose fields all have wire types that are
/// protobuf's (its own fields' contents are not looked into).
pub fn well_formed(bytes: &[u8]) -> bool {
    fields(bytes).all(|f| f.is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_read_as_prost_reads_them() {
        let mut buf: &[u8] = &[0x96, 0x01, 0xff];
        assert_eq!(varint(&mut buf), Some(150));
        assert_eq!(buf, [0xff]);
        let mut max: &[u8] = &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(varint(&mut max), Some(u64::MAX));
        let mut over: &[u8] = &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert_eq!(varint(&mut over), None);
        let mut truncated: &[u8] = &[0x80];
        assert_eq!(varint(&mut truncated), None);
        let mut one: &[u8] = &[0x7f];
        assert_eq!(varint(&mut one), Some(127));
        assert!(one.is_empty());
        assert!(utf8("Zoë".as_bytes()) && utf8(b"plain") && !utf8(&[b'a', 0xc3]));
    }

    #[test]
    fn a_length_past_the_end_or_a_bad_wire_type_ends_the_walk_with_an_error() {
        // Field 1, bytes, length 5, but only 2 bytes follow.
        let walked: Vec<_> = fields(&[0x0a, 0x05, 1, 2]).collect();
        assert_eq!(walked, [Err(())]);
        // Field 1, wire type 3 (a group).
        assert!(!well_formed(&[0x0b]));
        // Field number 0.
        assert!(!well_formed(&[0x00, 0x01]));
        let walked: Vec<_> = fields(&[0x08, 0x07, 0x12, 0x01, b'a']).collect();
        assert_eq!(
            walked,
            [Ok((1, Value::Varint(7))), Ok((2, Value::Bytes(b"a")))]
        );
    }
}
