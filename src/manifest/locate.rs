//! Locating a field in a document's text: the file line of a key or of sequence elements, for errors.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use super::yaml::yaml_options;

/// The text of one document: the file's text and the document's byte range in it.
#[derive(Clone)]
pub(crate) struct DocText {
    pub(super) file_text: Arc<str>,
    pub(super) range: Range<usize>,
    /// 1-based line of `range.start` in the file.
    pub(super) first_line: usize,
    /// Position of the file in reading order.
    pub(crate) seq: usize,
}

impl fmt::Debug for DocText {
    /// Never prints the text: it may hold a Secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DocText").field("range", &self.range).field("first_line", &self.first_line).finish()
    }
}

/// One step of a path into a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

impl DocText {
    fn text(&self) -> &str {
        &self.file_text[self.range.clone()]
    }

    /// The document's size in bytes.
    pub(crate) fn len(&self) -> usize {
        self.range.len()
    }

    /// The 1-based file line of the node at `path`: of the key when the path ends with a key, of the
    /// element when it ends with an index, of the document when empty. None when the path is not in
    /// the document (or the text cannot be re-read, e.g. some JSON).
    ///
    /// Re-parses the document, so it is meant for error reporting, not for every object.
    pub(crate) fn line_of(&self, path: &[Seg<'_>]) -> Option<usize> {
        self.find(path, Target::Node).into_iter().next()
    }

    /// The 1-based file lines of the elements of the sequence at `path`, in one parse.
    pub(crate) fn element_lines(&self, path: &[Seg<'_>]) -> Vec<usize> {
        self.find(path, Target::Elements)
    }

    fn find(&self, path: &[Seg<'_>], target: Target) -> Vec<usize> {
        let found =
            serde_saphyr::with_deserializer_from_str_with_options(self.text(), yaml_options(), |de| {
                Find { path, target }.deserialize(de)
            });
        found
            .unwrap_or_default()
            .into_iter()
            .filter(|&line| line > 0)
            .map(|line| usize::try_from(line).unwrap_or(usize::MAX).saturating_add(self.first_line - 1))
            .collect()
    }
}

/// What [`Find`] reports at the end of its path.
#[derive(Clone, Copy)]
enum Target {
    /// The line of the node (of the key, when the path ends with a key).
    Node,
    /// The lines of the elements of the sequence.
    Elements,
}

/// Walks a document along a path, ignoring everything else, and reports line numbers from the
/// parser's spans.
struct Find<'p, 'k> {
    path: &'p [Seg<'k>],
    target: Target,
}

impl<'de> DeserializeSeed<'de> for Find<'_, '_> {
    type Value = Vec<u64>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Vec<u64>, D::Error> {
        match (self.path.first(), self.target) {
            (None, Target::Node) => {
                let node = Spanned::<IgnoredAny>::deserialize(de)?;
                Ok(vec![node.referenced.line()])
            }
            (None, Target::Elements) | (Some(Seg::Index(_)), _) => de.deserialize_seq(self),
            (Some(Seg::Key(_)), _) => de.deserialize_map(self),
        }
    }
}

impl<'de> Visitor<'de> for Find<'_, '_> {
    type Value = Vec<u64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping or a sequence")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<u64>, A::Error> {
        let Some(&Seg::Key(wanted)) = self.path.first() else {
            return Err(de::Error::custom("unexpected map"));
        };
        let rest = &self.path[1..];
        let mut found = Vec::new();
        while let Some(key) = map.next_key::<Spanned<AnyKey>>()? {
            if found.is_empty() && key.value.0.as_deref() == Some(wanted) {
                if rest.is_empty() && matches!(self.target, Target::Node) {
                    found = vec![key.referenced.line()];
                    map.next_value::<IgnoredAny>()?;
                } else {
                    found = map.next_value_seed(Find { path: rest, target: self.target })?;
                }
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u64>, A::Error> {
        let mut found = Vec::new();
        match self.path.first() {
            None => {
                while let Some(element) = seq.next_element::<Spanned<IgnoredAny>>()? {
                    found.push(element.referenced.line());
                }
            }
            Some(&Seg::Index(wanted)) => {
                let mut index = 0;
                loop {
                    let more = if index == wanted {
                        let seed = Find { path: &self.path[1..], target: self.target };
                        match seq.next_element_seed(seed)? {
                            Some(lines) => {
                                found = lines;
                                true
                            }
                            None => false,
                        }
                    } else {
                        seq.next_element::<IgnoredAny>()?.is_some()
                    };
                    if !more {
                        break;
                    }
                    index += 1;
                }
            }
            Some(Seg::Key(_)) => return Err(de::Error::custom("unexpected sequence")),
        }
        Ok(found)
    }
}

/// A mapping key: its text when it is a string, None for other scalars (which a path never names).
struct AnyKey(Option<String>);

impl<'de> Deserialize<'de> for AnyKey {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = AnyKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<AnyKey, E> {
                Ok(AnyKey(Some(v.to_owned())))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<AnyKey, E> {
                Ok(AnyKey(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<AnyKey, E> {
                Ok(AnyKey(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<AnyKey, E> {
                Ok(AnyKey(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<AnyKey, E> {
                Ok(AnyKey(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<AnyKey, E> {
                Ok(AnyKey(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<AnyKey, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(AnyKey(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AnyKey, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(AnyKey(None))
            }
        }
        de.deserialize_any(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::manifest::parse::{RawDocument, parse_text};

    fn parse(text: &str) -> Vec<RawDocument> {
        let mut errors = Vec::new();
        let docs = parse_text(Path::new("m.yaml"), text, 0, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        docs
    }

    #[test]
    fn lines_of_keys_and_elements_are_found_in_the_file() {
        let docs = parse("x: 0\n---\n# c\nkind: List\nitems:\n- a: 1\n-\n  b: 2\n  c: {d: 3}\n");
        let text = &docs[1].text;
        assert_eq!(text.line_of(&[]), Some(4));
        assert_eq!(text.line_of(&[Seg::Key("items")]), Some(5));
        assert_eq!(text.line_of(&[Seg::Key("items"), Seg::Index(1), Seg::Key("c"), Seg::Key("d")]), Some(9));
        assert_eq!(text.line_of(&[Seg::Key("nope")]), None);
        assert_eq!(text.line_of(&[Seg::Key("kind"), Seg::Key("x")]), None);
        assert_eq!(text.element_lines(&[Seg::Key("items")]), [6, 8]);
    }

    #[test]
    fn lines_of_keys_are_found_in_json_documents() {
        let docs = parse("{\"a\": 1}\n{\n \"metadata\": {\n  \"name\": 1}}\n");
        assert_eq!(docs[1].text.line_of(&[Seg::Key("metadata"), Seg::Key("name")]), Some(4));
    }
}
