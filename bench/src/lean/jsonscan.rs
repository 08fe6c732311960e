//! get_event's JSON answer checked in one pass over its bytes, for the hot path of a load
//! run: the serde views of [`super::check`] cost a field-name match, a `Cow` and a visitor
//! per field, and this check is made once per operation. The scan is a strict subset of
//! what those views accept: it passes only a body that is well-formed JSON (every value
//! walked: strings without control characters, UTF-8 where serde_json checks it (keys
//! and the strings the views read), numbers in JSON's grammar, nesting bounded), whose event object has every field [`super::check::EventView`] requires,
//! none twice, each required one of the type the view reads (`id` and `venue_id` an
//! integer or a string of digits, `name`, `category` and `starts_at` strings,
//! `performer_ids` an array), with the id asked for and the dataset's name; for
//! GraphQL, inside `{"data":{"event":...}}` with no `errors` member at all. Anything else
//! (a string with an escape, a GraphQL `errors` member, an id spelled `7.0`, ...) is not
//! judged here: the caller falls back to the serde views, which give a failure its
//! reason. So a scan that passes is one the views pass too, and a failure always has the
//! views' wording.

use super::check::Dialect;

/// How deep values may nest before the scan leaves the body to the serde views (their
/// own limit is 128).
const MAX_DEPTH: usize = 64;

/// A cursor over a JSON body.
struct Scan<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Scan<'a> {
    /// Skips JSON whitespace; returns the next byte, if any.
    #[inline]
    fn peek(&mut self) -> Option<u8> {
        // Servers write compact JSON: the next byte is nearly always the token itself,
        // so that case costs one load and one compare (every byte under `!` is either
        // whitespace or a control character no token starts with).
        let b = *self.bytes.get(self.at)?;
        if b > b' ' {
            return Some(b);
        }
        self.skip_whitespace()
    }

    /// [`Scan::peek`]'s slow path: whitespace to skip.
    #[cold]
    fn skip_whitespace(&mut self) -> Option<u8> {
        while let Some(&b) = self.bytes.get(self.at) {
            if matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
                self.at += 1;
            } else {
                return Some(b);
            }
        }
        None
    }

    /// Consumes `byte` (after whitespace) if it is next.
    #[inline]
    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// A string without escapes or control characters: its raw contents, not checked
    /// for UTF-8 (serde_json does not check a string it skips either).
    #[inline]
    fn raw_string(&mut self) -> Option<&'a [u8]> {
        if !self.eat(b'"') {
            return None;
        }
        let start = self.at;
        let rest = self.bytes.get(start..)?;
        let len = special(rest)?;
        let (contents, after) = rest.split_at_checked(len)?;
        if after.first() != Some(&b'"') {
            return None;
        }
        self.at = start + len + 1;
        Some(contents)
    }

    /// A string as [`Scan::raw_string`], also UTF-8 (what serde_json checks of a string
    /// it hands over: the fields the views read, and keys).
    fn string(&mut self) -> Option<&'a [u8]> {
        let contents = self.raw_string()?;
        utf8(contents).then_some(contents)
    }

    /// A run of ASCII digits (at least one); returns it.
    fn digits(&mut self) -> Option<&'a [u8]> {
        let start = self.at;
        let rest = self.bytes.get(start..)?;
        let len = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if len == 0 {
            return None;
        }
        self.at = start + len;
        Some(&rest[..len])
    }

    /// A number in JSON's grammar; returns whether it was a plain non-negative integer,
    /// and its digits.
    fn number(&mut self) -> Option<(bool, &'a [u8])> {
        self.peek()?;
        let negative = self.bytes.get(self.at) == Some(&b'-');
        if negative {
            self.at += 1;
        }
        let int = self.digits()?;
        if int.len() > 1 && int[0] == b'0' {
            return None;
        }
        let mut plain = !negative;
        if self.bytes.get(self.at) == Some(&b'.') {
            self.at += 1;
            self.digits()?;
            plain = false;
        }
        if matches!(self.bytes.get(self.at), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.bytes.get(self.at), Some(b'+' | b'-')) {
                self.at += 1;
            }
            self.digits()?;
            plain = false;
        }
        Some((plain, int))
    }

    /// `word` (true, false, null) if it is next.
    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.at + word.len();
        if self.bytes.get(self.at..end)? == word {
            self.at = end;
            Some(())
        } else {
            None
        }
    }

    /// Any JSON value, walked and checked, its contents dropped.
    fn value(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'"' => self.raw_string().map(drop),
            b'{' => self.object(|key_scan, _| key_scan.value(depth + 1)),
            b'[' => self.array(|s| s.value(depth + 1)).map(drop),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number().map(drop),
        }
    }

    /// An object, each member's value handed to `member` with its key.
    fn object(&mut self, mut member: impl FnMut(&mut Self, &'a [u8]) -> Option<()>) -> Option<()> {
        if !self.eat(b'{') {
            return None;
        }
        if self.eat(b'}') {
            return Some(());
        }
        loop {
            let key = self.raw_string()?;
            if !self.eat(b':') {
                return None;
            }
            member(self, key)?;
            if self.eat(b',') {
                continue;
            }
            return self.eat(b'}').then_some(());
        }
    }

    /// An array, each element walked by `element`; returns its length.
    fn array(&mut self, mut element: impl FnMut(&mut Self) -> Option<()>) -> Option<usize> {
        if !self.eat(b'[') {
            return None;
        }
        if self.eat(b']') {
            return Some(0);
        }
        let mut n = 0;
        loop {
            element(self)?;
            n += 1;
            if self.eat(b',') {
                continue;
            }
            return self.eat(b']').then_some(n);
        }
    }

    /// An id as [`super::check::Id`] reads it, in the spellings the scan judges: a
    /// non-negative integer, or a string of digits.
    fn id(&mut self) -> Option<u64> {
        let digits = if self.peek()? == b'"' {
            let s = self.string()?;
            if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
                return None;
            }
            s
        } else {
            match self.number()? {
                (true, digits) => digits,
                (false, _) => return None,
            }
        };
        digits.iter().try_fold(0u64, |n, &d| {
            n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        })
    }

    /// Only whitespace left.
    fn end(&mut self) -> bool {
        self.peek().is_none()
    }
}

/// Where the first `"`, `\` or control character of `bytes` is: eight bytes at a time,
/// as serde_json's own scan finds the end of a string (a byte under 0x20, or equal to
/// either, sets its top bit in the mask; the lowest set bit is the first such byte).
/// The last partial word is padded with spaces (never special) rather than walked byte
/// by byte: most strings of an answer (keys, enum values) are shorter than a word.
#[inline]
fn special(bytes: &[u8]) -> Option<usize> {
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let Ok(word) = <[u8; 8]>::try_from(chunk) else {
            break;
        };
        if let Some(p) = special_in(u64::from_le_bytes(word)) {
            return Some(at + p);
        }
        at += 8;
    }
    let tail = chunks.remainder();
    let mut word = [b' '; 8];
    word.get_mut(..tail.len())?.copy_from_slice(tail);
    special_in(u64::from_le_bytes(word))
        .filter(|&p| p < tail.len())
        .map(|p| at + p)
}

/// The first special byte of eight (little-endian), if any.
#[inline]
fn special_in(word: u64) -> Option<usize> {
    const ONES: u64 = u64::MAX / 255;
    const HIGH: u64 = ONES << 7;
    let control = word.wrapping_sub(ONES * 0x20) & !word;
    let quote = word ^ (ONES * u64::from(b'"'));
    let quote = quote.wrapping_sub(ONES) & !quote;
    let backslash = word ^ (ONES * u64::from(b'\\'));
    let backslash = backslash.wrapping_sub(ONES) & !backslash;
    let found = (control | quote | backslash) & HIGH;
    (found != 0).then(|| (found.trailing_zeros() / 8) as usize)
}

/// Whether `key` is UTF-8: a key the scan does not know is checked as serde_json checks
/// every key (the known ones are ASCII).
fn utf8_key(key: &[u8]) -> Option<()> {
    utf8(key).then_some(())
}

/// Whether `bytes` is UTF-8: ASCII checked first, a word at a time, which is most text.
fn utf8(bytes: &[u8]) -> bool {
    bytes.is_ascii() || std::str::from_utf8(bytes).is_ok()
}

/// The event's fields ([`super::check::EventView`]'s), by either spelling.
fn slot(key: &[u8]) -> Option<usize> {
    Some(match key {
        b"id" => 0,
        b"name" => 1,
        b"description" => 2,
        b"category" => 3,
        b"venue_id" | b"venueId" => 4,
        b"performer_ids" | b"performerIds" => 5,
        b"starts_at" | b"startsAt" => 6,
        b"status" => 7,
        b"tags" => 8,
        b"min_price_cents" | b"minPriceCents" => 9,
        b"max_price_cents" | b"maxPriceCents" => 10,
        b"currency" => 11,
        _ => return None,
    })
}

/// Every slot seen.
const ALL: u16 = (1 << 12) - 1;

/// An event object with every field, none twice, id `id` and name `name`.
fn event(scan: &mut Scan<'_>, id: u64, name: &str) -> Option<()> {
    let mut seen = 0u16;
    let (mut got_id, mut got_name) = (None, None);
    scan.object(|scan, key| {
        let Some(slot) = slot(key) else {
            // Not a field of the view: skipped, as serde skips it.
            utf8_key(key)?;
            return scan.value(1);
        };
        if seen & (1 << slot) != 0 {
            return None;
        }
        seen |= 1 << slot;
        match slot {
            0 => got_id = Some(scan.id()?),
            // Compared with the dataset's name, UTF-8 itself: equal bytes are UTF-8.
            1 => got_name = Some(scan.raw_string()?),
            3 | 6 => scan.string().map(drop)?,
            4 => scan.id().map(drop)?,
            5 => scan.array(|s| s.value(2)).map(drop)?,
            _ => scan.value(1)?,
        }
        Some(())
    })?;
    (seen == ALL && got_id == Some(id) && got_name == Some(name.as_bytes())).then_some(())
}

/// Whether `body` is get_event(`id`)'s answer, the event named `name`, judged by the scan
/// alone (see the module's doc: `false` means "ask the serde views", not "wrong").
pub fn get_event(dialect: Dialect, body: &[u8], id: u64, name: &str) -> bool {
    let mut scan = Scan { bytes: body, at: 0 };
    let judged = match dialect {
        Dialect::Rest => event(&mut scan, id, name),
        Dialect::Graphql => {
            let mut data = false;
            scan.object(|scan, key| match key {
                // An `errors` member, or `data` twice: left to the views.
                b"data" if !data => {
                    data = true;
                    let mut found = false;
                    scan.object(|scan, key| match key {
                        b"event" if !found => {
                            found = true;
                            event(scan, id, name)
                        }
                        b"event" => None,
                        _ => utf8_key(key).and_then(|()| scan.value(2)),
                    })?;
                    found.then_some(())
                }
                b"errors" | b"data" => None,
                _ => utf8_key(key).and_then(|()| scan.value(1)),
            })
            .and_then(|()| data.then_some(()))
        }
    };
    judged.is_some() && scan.end()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lean::check;

    const EVENT: &str = r#"{"id":7,"name":"Zoë's show","description":"d","category":"concert","venue_id":3,"performer_ids":[1,2],"starts_at":"2027-01-02T20:00:00Z","status":"on_sale","tags":["a"],"min_price_cents":1,"max_price_cents":2.5e3,"currency":"EUR"}"#;
    const GQL: &str = r#"{"data":{"event":{"id":"7","name":"Zoë's show","description":"d","category":"CONCERT","venueId":"3","performerIds":["1","2"],"startsAt":"2027-01-02T20:00:00Z","status":"ON_SALE","tags":[],"minPriceCents":1,"maxPriceCents":2,"currency":"EUR"}}}"#;

    /// What the serde views say of `body`.
    fn views_pass(dialect: Dialect, body: &[u8]) -> bool {
        check::event_view_passes(dialect, body, 7, "Zoë's show")
    }

    /// The word-at-a-time search finds what a byte-by-byte one finds, wherever the
    /// special byte is relative to the words and the padded tail.
    #[test]
    fn special_finds_the_first_special_byte_at_every_offset() {
        let naive = |bytes: &[u8]| {
            bytes
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        };
        for len in 0..26 {
            let plain: Vec<u8> = (0..len).map(|i| b"az~!#\x7f\xc3\xa9"[i % 8]).collect();
            assert_eq!(special(&plain), naive(&plain), "{plain:?}");
            for at in 0..len {
                for byte in [b'"', b'\\', 0x00, 0x1f, b'\n'] {
                    let mut bytes = plain.clone();
                    bytes[at] = byte;
                    // A second special byte later must not move the answer.
                    if let Some(last) = bytes.last_mut().filter(|_| at + 1 < len) {
                        *last = b'"';
                    }
                    assert_eq!(special(&bytes), naive(&bytes), "{bytes:?}");
                    assert_eq!(special(&bytes), Some(at));
                }
            }
        }
    }

    #[test]
    fn well_formed_answers_pass_in_both_dialects() {
        assert!(get_event(Dialect::Rest, EVENT.as_bytes(), 7, "Zoë's show"));
        assert!(get_event(Dialect::Graphql, GQL.as_bytes(), 7, "Zoë's show"));
        // Whitespace between tokens (not inside the time's string, which has colons).
        let spaced = GQL.replace("\":", "\" :\n ").replace(",\"", " ,\t\"");
        assert!(get_event(
            Dialect::Graphql,
            spaced.as_bytes(),
            7,
            "Zoë's show"
        ));
        assert!(!get_event(Dialect::Rest, EVENT.as_bytes(), 8, "Zoë's show"));
        assert!(!get_event(Dialect::Rest, EVENT.as_bytes(), 7, "Other"));
        assert!(views_pass(Dialect::Rest, EVENT.as_bytes()));
        assert!(views_pass(Dialect::Graphql, GQL.as_bytes()));
    }

    #[test]
    fn what_the_scan_leaves_to_the_views() {
        let rest = |s: &str| get_event(Dialect::Rest, s.as_bytes(), 7, "Zoë's show");
        let gql = |s: &str| get_event(Dialect::Graphql, s.as_bytes(), 7, "Zoë's show");
        assert!(!rest(&EVENT.replace(r#""currency":"EUR""#, r#""other":1"#)));
        assert!(!rest(
            &EVENT.replace(r#""tags":["a"]"#, r#""tags":["a"],"id":7"#)
        ));
        assert!(!rest(&EVENT.replace(r#""id":7"#, r#""id":7.0"#)));
        assert!(!rest(
            &EVENT.replace(r#""venue_id":3"#, r#""venue_id":"x""#)
        ));
        assert!(!rest(
            &EVENT.replace(r#""performer_ids":[1,2]"#, r#""performer_ids":3"#)
        ));
        assert!(!rest(
            &EVENT.replace(r#""description":"d""#, r#""description":"\"d\"""#)
        ));
        assert!(!rest(&format!("{EVENT} x")));
        assert!(!gql(&GQL.replace(r#"{"data""#, r#"{"errors":[],"data""#)));
        assert!(!gql(r#"{"data":{"event":null}}"#));
        assert!(!gql(r#"{"data":null}"#));
        let deep = format!("{}1{}", "[".repeat(100), "]".repeat(100));
        assert!(!rest(
            &EVENT.replace(r#""tags":["a"]"#, &format!(r#""tags":{deep}"#))
        ));
    }

    #[test]
    fn the_scan_never_passes_what_the_views_fail() {
        for (dialect, good) in [(Dialect::Rest, EVENT), (Dialect::Graphql, GQL)] {
            let good = good.as_bytes();
            for cut in 0..good.len() {
                let short = &good[..cut];
                assert!(!get_event(dialect, short, 7, "Zoë's show") || views_pass(dialect, short));
            }
            for at in 0..good.len() {
                for byte in *b"\"\\{}[],:0123456789-.eE+ tfnux\x01\x7f\xc3\xff" {
                    let mut changed = good.to_vec();
                    changed[at] = byte;
                    if get_event(dialect, &changed, 7, "Zoë's show") {
                        assert!(
                            views_pass(dialect, &changed),
                            "{dialect:?}: byte {at} set to {:?}",
                            byte as char
                        );
                    }
                }
            }
        }
    }
}
