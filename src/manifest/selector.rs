//! Label selectors as kubectl writes them (`-l`): `app=web,tier!=db,env in (prod,staging),!legacy`.
//!
//! The grammar and the meaning are Kubernetes' (`k8s.io/apimachinery/pkg/labels`): requirements
//! separated by commas, all of which must hold; `key!=value` and `key notin (…)` also hold when the
//! object has no such label. The numeric `gt`/`lt` forms are refused: they have no kubectl flag
//! syntax worth guessing at.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde_json::Value;

/// A parsed label selector; the empty selector selects everything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selector {
    requirements: Vec<Requirement>,
    text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

/// Why a selector could not be parsed: the requirement at fault and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid label selector {selector:?}: {problem}")]
pub struct SelectorError {
    selector: String,
    problem: String,
}

impl Selector {
    /// True when an object with these labels is selected.
    pub fn matches_labels(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|requirement| match requirement {
            Requirement::Equals(key, value) => labels.get(key) == Some(value),
            Requirement::NotEquals(key, value) => labels.get(key) != Some(value),
            Requirement::In(key, values) => labels.get(key).is_some_and(|v| values.contains(v)),
            Requirement::NotIn(key, values) => labels.get(key).is_none_or(|v| !values.contains(v)),
            Requirement::Exists(key) => labels.contains_key(key),
            Requirement::DoesNotExist(key) => !labels.contains_key(key),
        })
    }

    /// True when the object (its JSON, `metadata.labels` read) is selected.
    pub fn matches(&self, object: &Value) -> bool {
        let labels: BTreeMap<String, String> = object
            .pointer("/metadata/labels")
            .and_then(Value::as_object)
            .map(|map| map.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect())
            .unwrap_or_default();
        self.matches_labels(&labels)
    }

    /// True for the selector that selects everything.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for Selector {
    type Err = SelectorError;

    fn from_str(text: &str) -> Result<Self, SelectorError> {
        let error = |problem: String| SelectorError { selector: text.to_owned(), problem };
        let requirements = split_top_level(text)
            .map_err(error)?
            .into_iter()
            .map(|part| requirement(part.trim()).map_err(error))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Selector { requirements, text: text.trim().to_owned() })
    }
}

/// The requirements: split at the commas outside parentheses.
fn split_top_level(text: &str) -> Result<Vec<&str>, String> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0usize, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.checked_sub(1).ok_or("a ')' has no matching '('")?,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err("a '(' is not closed".to_owned());
    }
    parts.push(&text[start..]);
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    if parts.iter().any(|p| p.trim().is_empty()) {
        return Err("an empty requirement (two commas in a row, or one at an end)".to_owned());
    }
    Ok(parts)
}

fn requirement(part: &str) -> Result<Requirement, String> {
    if let Some(key) = part.strip_prefix('!') {
        return Ok(Requirement::DoesNotExist(key_of(key.trim(), part)?));
    }
    for (op, make) in [
        ("!=", Requirement::NotEquals as fn(String, String) -> Requirement),
        ("==", Requirement::Equals),
        ("=", Requirement::Equals),
    ] {
        if let Some((key, value)) = part.split_once(op) {
            return Ok(make(key_of(key.trim(), part)?, value_of(value.trim(), part)?));
        }
    }
    if part.contains('>') || part.contains('<') {
        return Err(format!("{part:?}: the gt/lt operators are not supported"));
    }
    let mut words = part.splitn(2, char::is_whitespace);
    let key = words.next().unwrap_or_default();
    let Some(rest) = words.next().map(str::trim) else {
        return Ok(Requirement::Exists(key_of(key, part)?));
    };
    let (negated, set) = if let Some(set) = rest.strip_prefix("notin") {
        (true, set)
    } else if let Some(set) = rest.strip_prefix("in") {
        (false, set)
    } else {
        return Err(format!("{part:?}: expected =, ==, !=, in or notin after {key:?}"));
    };
    let set = set.trim();
    let inner = set
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(|| format!("{part:?}: the values of in/notin go in parentheses, e.g. (a,b)"))?;
    let values = inner.split(',').map(|v| value_of(v.trim(), part)).collect::<Result<Vec<_>, _>>()?;
    let key = key_of(key, part)?;
    Ok(if negated { Requirement::NotIn(key, values) } else { Requirement::In(key, values) })
}

/// A label key: an optional DNS prefix and `/`, then a name of letters, digits, `-`, `_`, `.`.
fn key_of(key: &str, part: &str) -> Result<String, String> {
    let name = key.rsplit('/').next().unwrap_or_default();
    let valid = !name.is_empty()
        && name.len() <= 63
        && key.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
        && key.matches('/').count() <= 1;
    if valid { Ok(key.to_owned()) } else { Err(format!("{part:?}: {key:?} is not a valid label key")) }
}

/// A label value: empty, or at most 63 letters, digits, `-`, `_`, `.`.
fn value_of(value: &str, part: &str) -> Result<String, String> {
    let valid = value.len() <= 63 && value.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if valid { Ok(value.to_owned()) } else { Err(format!("{part:?}: {value:?} is not a valid label value")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn selects(selector: &str, pairs: &[(&str, &str)]) -> bool {
        selector.parse::<Selector>().unwrap().matches_labels(&labels(pairs))
    }

    #[test]
    fn every_operator_means_what_kubernetes_means() {
        assert!(selects("app=web", &[("app", "web")]));
        assert!(selects("app==web", &[("app", "web")]));
        assert!(!selects("app=web", &[("app", "db")]));
        assert!(!selects("app=web", &[]));
        assert!(selects("app!=web", &[("app", "db")]));
        assert!(selects("app!=web", &[]), "!= holds without the label");
        assert!(!selects("app!=web", &[("app", "web")]));
        assert!(selects("env in (prod, staging)", &[("env", "staging")]));
        assert!(!selects("env in (prod,staging)", &[("env", "dev")]));
        assert!(!selects("env in (prod)", &[]));
        assert!(selects("env notin (prod)", &[("env", "dev")]));
        assert!(selects("env notin (prod)", &[]), "notin holds without the label");
        assert!(!selects("env notin (prod,dev)", &[("env", "dev")]));
        assert!(selects("app", &[("app", "")]));
        assert!(!selects("app", &[]));
        assert!(selects("!legacy", &[("app", "web")]));
        assert!(!selects("!legacy", &[("legacy", "true")]));
        assert!(selects("app=web,env in (a,b),!legacy", &[("app", "web"), ("env", "b")]));
        assert!(!selects("app=web,env in (a,b),!legacy", &[("app", "web"), ("env", "b"), ("legacy", "")]));
        assert!(selects("example.com/team=a", &[("example.com/team", "a")]));
        assert!(selects("", &[]), "the empty selector selects everything");
    }

    #[test]
    fn malformed_selectors_are_refused_naming_the_requirement() {
        for bad in ["app=web,", ",app", "env in prod", "env in (a", "a b c", "app=we b", "x>1", "=v", "!"] {
            let err = bad.parse::<Selector>().unwrap_err().to_string();
            assert!(err.contains("invalid label selector"), "{bad}: {err}");
        }
        let err = "app=web,tier in prod".parse::<Selector>().unwrap_err().to_string();
        assert!(err.contains("tier in prod"), "{err}");
    }

    #[test]
    fn an_object_is_matched_by_its_metadata_labels() {
        let selector: Selector = "app=web".parse().unwrap();
        assert!(selector.matches(&serde_json::json!({"metadata": {"labels": {"app": "web"}}})));
        assert!(!selector.matches(&serde_json::json!({"metadata": {"name": "x"}})));
        assert_eq!(selector.to_string(), "app=web");
    }
}
