//! Reading internally tagged enums (`{"op": "move", …}`) whose tag is the
//! object's first field, straight from the stream.
//!
//! serde's own `#[serde(tag = …)]` must accept the tag anywhere, so it first
//! buffers every field of the object into a generic `Content` tree and then
//! reads the variant from that: correct, but the code for it is a good part of
//! the browser's bundle. Every message the server writes has its tag first
//! (serde writes it so), so these enums read the tag, then hand the rest of
//! the same object to the variant's own fields struct. Writing stays derived.
//!
//! Clients may write fields in any order (many JSON libraries sort keys), so
//! the server, built with the `any-order` feature, takes an object whose tag
//! is not first too, by gathering it first. The browser has no need to.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};

/// An enum read tag first.
pub(crate) trait TagFirst: Sized {
    /// The tag's field name.
    const TAG: &'static str;
    const VARIANTS: &'static [&'static str];
    /// Reads the variant `tag` from the rest of the object.
    fn variant<'de, A: MapAccess<'de>>(tag: &str, rest: A) -> Result<Self, A::Error>;
}

/// Reads `T` from `deserializer`, tag first.
pub(crate) fn deserialize<'de, D: Deserializer<'de>, T: TagFirst>(deserializer: D) -> Result<T, D::Error> {
    deserializer.deserialize_map(TagFirstVisitor(PhantomData))
}

/// Reads the variant's fields from the rest of an object.
pub(crate) fn rest<'de, A: MapAccess<'de>, F: Deserialize<'de>>(rest: A) -> Result<F, A::Error> {
    F::deserialize(de::value::MapAccessDeserializer::new(rest))
}

struct TagFirstVisitor<T>(PhantomData<T>);

impl<'de, T: TagFirst> Visitor<'de> for TagFirstVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object whose first field is \"{}\"", T::TAG)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        match map.next_key::<String>()? {
            Some(key) if key == T::TAG => {}
            #[cfg(feature = "any-order")]
            Some(key) => return any_order(key, map),
            #[cfg(not(feature = "any-order"))]
            Some(key) => {
                return Err(de::Error::custom(format_args!("\"{}\" must be the first field, not \"{key}\"", T::TAG)));
            }
            None => return Err(de::Error::missing_field(T::TAG)),
        }
        let tag: String = map.next_value()?;
        if !T::VARIANTS.contains(&tag.as_str()) {
            return Err(de::Error::unknown_variant(&tag, T::VARIANTS));
        }
        T::variant(&tag, map)
    }
}

/// An object whose tag is not first: gathered whole, then read.
#[cfg(feature = "any-order")]
fn any_order<'de, A: MapAccess<'de>, T: TagFirst>(first: String, mut map: A) -> Result<T, A::Error> {
    use serde_json::Value;
    let mut fields = serde_json::Map::new();
    fields.insert(first, map.next_value::<Value>()?);
    while let Some((key, value)) = map.next_entry::<String, Value>()? {
        if fields.insert(key.clone(), value).is_some() {
            return Err(de::Error::custom(format_args!("duplicate field \"{key}\"")));
        }
    }
    let tag = match fields.remove(T::TAG) {
        Some(Value::String(tag)) => tag,
        Some(_) => return Err(de::Error::custom(format_args!("\"{}\" must be a string", T::TAG))),
        None => return Err(de::Error::missing_field(T::TAG)),
    };
    if !T::VARIANTS.contains(&tag.as_str()) {
        return Err(de::Error::unknown_variant(&tag, T::VARIANTS));
    }
    let rest = de::value::MapDeserializer::<_, serde_json::Error>::new(fields.into_iter());
    T::variant(&tag, rest).map_err(de::Error::custom)
}
