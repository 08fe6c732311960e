//! [`mirror_enum!`](crate::mirror_enum): a transport's copy of a domain enum, with the
//! conversions both ways, declared in one line per enum.
//!
//! Transports keep their own enums on purpose: the wire protocol freezes variant order per
//! protocol version, REST derives OpenAPI schemas on them. What they should not keep is
//! their own copy of the boilerplate that converts; that lives here, once. The matches are
//! exhaustive, so adding a variant to a domain enum fails to compile in every transport
//! until it is mirrored there.

/// Declares `enum $name` with the given attributes and variants, plus `From` both ways
/// between it and `$domain`, whose variants must have the same names.
///
/// ```
/// domain::mirror_enum!(
///     /// Kind of event, as this transport spells it.
///     #[derive(Debug, Clone, Copy, PartialEq, Eq)]
///     pub enum Category <=> domain::Category { Concert, Sports, Theater, Comedy, Festival }
/// );
/// assert_eq!(domain::Category::from(Category::Comedy), domain::Category::Comedy);
/// ```
#[macro_export]
macro_rules! mirror_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident <=> $domain:ty {
            $($(#[$variant_meta:meta])* $variant:ident),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $($(#[$variant_meta])* $variant),+
        }

        impl ::core::convert::From<$domain> for $name {
            fn from(value: $domain) -> Self {
                match value {
                    $(<$domain>::$variant => $name::$variant),+
                }
            }
        }

        impl ::core::convert::From<$name> for $domain {
            fn from(value: $name) -> Self {
                match value {
                    $($name::$variant => <$domain>::$variant),+
                }
            }
        }
    };
}
