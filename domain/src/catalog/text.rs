//! Tokenising: the one definition of a "word", shared by indexing and querying so both
//! always agree.

/// Words too common to help ranking; dropped from documents and queries alike.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "at", "by", "for", "in", "is", "it", "of", "on", "or", "the", "to", "with",
];

/// Lower-case alphanumeric runs of `text`, without stop words, in order: the one
/// definition of a searchable word (a database backend indexes these tokens too).
pub fn tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
}

/// The distinct words of a query, in first-seen order. A search matches the events
/// whose [`tokens`] contain every one of them.
pub fn query_terms(query: &str) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    for t in tokens(query) {
        if !terms.contains(&t) {
            terms.push(t);
        }
    }
    terms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_lowercases_and_drops_stop_words() {
        let words: Vec<String> = tokens("The Velvet Foxes: LIVE at Rock-Hall, 2027!").collect();
        assert_eq!(words, ["velvet", "foxes", "live", "rock", "hall", "2027"]);
        assert_eq!(query_terms("jazz Jazz the JAZZ band"), ["jazz", "band"]);
        assert!(query_terms("the of !!").is_empty());
    }
}
