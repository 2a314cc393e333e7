//! Tolerant field access: read what controllers write, accept spellings that obviously mean the same
//! value, and name the field when it really cannot be read.
//!
//! Missing and `null` are the same thing (absent): the API server drops nulls, hand-written fixtures
//! and other tools do not always.

use std::fmt;

use jiff::Timestamp;
use serde_json::Value;

/// How many characters of an offending string a message quotes: input can be arbitrarily large.
const EXCERPT_CHARS: usize = 40;

/// A field that is present but cannot be read as what a rule needs.
///
/// [`super::compute_at`] turns it into an Unknown result whose message is this error's text, e.g.
/// `status.replicas is not an integer: "abc"`: one odd object must not abort a run, nor be guessed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FieldError {
    path: String,
    expected: &'static str,
    found: String,
}

impl FieldError {
    pub(super) fn new(path: impl Into<String>, expected: &'static str, found: &Value) -> Self {
        Self { path: path.into(), expected, found: describe(found) }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is not {}: {}", self.path, self.expected, self.found)
    }
}

/// The outcome of reading one field.
pub(super) type Field<T> = Result<T, FieldError>;

/// A JSON value with the path it sits at, for error messages.
#[derive(Debug, Clone, Copy)]
pub(super) struct Fields<'a> {
    root: &'a Value,
    /// Where `root` sits when it is a list item: the list's path and the item's index.
    item_of: Option<(&'static str, usize)>,
}

impl<'a> Fields<'a> {
    /// The fields of a whole object.
    pub(super) fn new(root: &'a Value) -> Self {
        Self { root, item_of: None }
    }

    /// The fields of item `index` of the list at `list` (a path such as `status.conditions`).
    ///
    /// # Errors
    /// The item is not a JSON object.
    pub(super) fn item(list: &'static str, index: usize, item: &'a Value) -> Field<Self> {
        let fields = Self { root: item, item_of: Some((list, index)) };
        if item.is_object() { Ok(fields) } else { Err(FieldError::new(fields.path(&[]), "an object", item)) }
    }

    /// The value at `path`, None when it or one of its parents is missing or null.
    ///
    /// # Errors
    /// A parent that is present but not an object (`status: "ok"` while reading `status.replicas`).
    pub(super) fn get(&self, path: &[&str]) -> Field<Option<&'a Value>> {
        let mut current = self.root;
        for (depth, segment) in path.iter().enumerate() {
            let child = match current {
                Value::Object(map) => map.get(*segment),
                Value::Null => None,
                other => return Err(FieldError::new(self.path(&path[..depth]), "an object", other)),
            };
            match child {
                None | Some(Value::Null) => return Ok(None),
                Some(value) => current = value,
            }
        }
        Ok(Some(current))
    }

    /// An integer: a JSON integer, a whole float (`3.0`) or a string holding either (`"3"`).
    pub(super) fn int(&self, path: &[&str]) -> Field<Option<i64>> {
        self.read(path, "an integer", as_int)
    }

    /// An integer, `default` when absent.
    pub(super) fn int_or(&self, path: &[&str], default: i64) -> Field<i64> {
        Ok(self.int(path)?.unwrap_or(default))
    }

    /// A string; other scalars are refused rather than stringified, since no rule reads a string that
    /// could sensibly be written as a number.
    pub(super) fn str(&self, path: &[&str]) -> Field<Option<&'a str>> {
        self.read(path, "a string", Value::as_str)
    }

    /// A string, `default` when absent.
    pub(super) fn str_or(&self, path: &[&str], default: &'a str) -> Field<&'a str> {
        Ok(self.str(path)?.unwrap_or(default))
    }

    /// A boolean: JSON `true`/`false`, or those words in a string in any case (as condition statuses
    /// are read).
    pub(super) fn bool(&self, path: &[&str]) -> Field<Option<bool>> {
        self.read(path, "a boolean", |v| match v {
            Value::Bool(b) => Some(*b),
            Value::String(s) => {
                ["false", "true"].iter().position(|w| w.eq_ignore_ascii_case(s.trim())).map(|i| i == 1)
            }
            _ => None,
        })
    }

    /// A list, empty when absent.
    pub(super) fn list(&self, path: &[&str]) -> Field<&'a [Value]> {
        Ok(self.read(path, "a list", |v| v.as_array().map(Vec::as_slice))?.unwrap_or_default())
    }

    /// An RFC 3339 timestamp, as Kubernetes writes them (`2024-05-01T10:00:00Z`).
    pub(super) fn timestamp(&self, path: &[&str]) -> Field<Option<Timestamp>> {
        self.read(path, "an RFC 3339 timestamp", |v| v.as_str()?.trim().parse().ok())
    }

    /// The path of a child, as users write it: `status.conditions[0].reason`.
    pub(super) fn path(&self, segments: &[&str]) -> String {
        let mut path = match self.item_of {
            Some((list, index)) => format!("{list}[{index}]"),
            None => String::new(),
        };
        for segment in segments {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(segment);
        }
        path
    }

    fn read<T>(
        &self,
        path: &[&str],
        expected: &'static str,
        convert: impl Fn(&'a Value) -> Option<T>,
    ) -> Field<Option<T>> {
        match self.get(path)? {
            None => Ok(None),
            Some(value) => {
                convert(value).map(Some).ok_or_else(|| FieldError::new(self.path(path), expected, value))
            }
        }
    }
}

/// Reads an integer the tolerant way; None when the value is no whole number in `i64` range.
pub(super) fn as_int(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().and_then(whole)),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<i64>().ok().or_else(|| s.parse::<f64>().ok().and_then(whole))
        }
        _ => None,
    }
}

/// A float that is a whole number within `i64` range, as an `i64`.
fn whole(f: f64) -> Option<i64> {
    // 2^63 is exactly representable; i64::MAX is not, so compare against the bound, exclusive.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    (f.fract() == 0.0 && (-LIMIT..LIMIT).contains(&f)).then_some(f as i64)
}

/// The JSON type of a value, for messages about values that are not objects.
pub(super) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A short rendering of an offending value: scalars as JSON, strings quoted and cut, containers by type.
fn describe(value: &Value) -> String {
    match value {
        Value::String(s) if s.chars().count() > EXCERPT_CHARS => {
            let excerpt: String = s.chars().take(EXCERPT_CHARS).collect();
            format!("{excerpt:?}…")
        }
        Value::Array(_) | Value::Object(_) => json_type(value).to_owned(),
        scalar => scalar.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integers_written_as_strings_or_whole_floats_are_integers() {
        for value in [json!(3), json!(3.0), json!("3"), json!(" 3 "), json!("3.0"), json!("+3")] {
            assert_eq!(as_int(&value), Some(3), "{value}");
        }
    }

    #[test]
    fn fractions_booleans_and_huge_numbers_are_not_integers() {
        for value in
            [json!(1.5), json!("1.5"), json!(true), json!("abc"), json!(""), json!(u64::MAX), json!(1e300)]
        {
            assert_eq!(as_int(&value), None, "{value}");
        }
    }

    #[test]
    fn booleans_are_json_booleans_or_the_words_in_any_case() {
        let obj = json!({"a": true, "b": "False", "c": " TRUE ", "d": 1, "e": "yes"});
        let fields = Fields::new(&obj);
        assert_eq!(fields.bool(&["a"]), Ok(Some(true)));
        assert_eq!(fields.bool(&["b"]), Ok(Some(false)));
        assert_eq!(fields.bool(&["c"]), Ok(Some(true)));
        assert_eq!(fields.bool(&["missing"]), Ok(None));
        assert_eq!(fields.bool(&["d"]).unwrap_err().to_string(), "d is not a boolean: 1");
        assert_eq!(fields.bool(&["e"]).unwrap_err().to_string(), r#"e is not a boolean: "yes""#);
    }

    #[test]
    fn null_and_missing_fields_are_absent() {
        let obj = json!({"status": {"replicas": null}, "spec": null});
        let fields = Fields::new(&obj);
        assert_eq!(fields.int(&["status", "replicas"]), Ok(None));
        assert_eq!(fields.int(&["spec", "replicas"]), Ok(None));
        assert_eq!(fields.int(&["nothing", "here"]), Ok(None));
    }

    #[test]
    fn a_parent_that_is_not_an_object_is_named_in_the_error() {
        let obj = json!({"status": ["x"]});
        let err = Fields::new(&obj).int(&["status", "replicas"]).unwrap_err();
        assert_eq!(err.to_string(), "status is not an object: a list");
    }

    #[test]
    fn an_unreadable_field_is_named_with_its_value() {
        let obj = json!({"status": {"replicas": "abc"}});
        let err = Fields::new(&obj).int(&["status", "replicas"]).unwrap_err();
        assert_eq!(err.to_string(), r#"status.replicas is not an integer: "abc""#);
    }

    #[test]
    fn long_strings_are_cut_in_messages() {
        let obj = json!({"phase": "x".repeat(500)});
        let message = Fields::new(&obj).int(&["phase"]).unwrap_err().to_string();
        assert!(message.len() < 80, "{message}");
        assert!(message.ends_with('…'), "{message}");
    }

    #[test]
    fn list_items_are_named_by_index() {
        let item = json!({"reason": 7});
        let fields = Fields::item("status.conditions", 3, &item).unwrap();
        let err = fields.str(&["reason"]).unwrap_err();
        assert_eq!(err.to_string(), "status.conditions[3].reason is not a string: 7");
        let err = Fields::item("status.conditions", 4, &json!("x")).unwrap_err();
        assert_eq!(err.to_string(), r#"status.conditions[4] is not an object: "x""#);
    }
}
