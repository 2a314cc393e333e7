//! Name rules: inventory ids ([`validate_id`]), label values, namespaces, object names, ConfigMap keys.
//!
//! Written as small character checks rather than regular expressions: the crate has no regex
//! dependency, and each check can say *which* part of the rule a value breaks.

use super::error::{InventoryError, Result};

/// At most 63 characters: the inventory id is a label value.
pub const MAX_ID_LEN: usize = 63;
/// At least 3 characters: cli-utils' pattern needs a first, a middle and a last character.
pub const MIN_ID_LEN: usize = 3;

/// Checks an inventory id as cli-utils' `init` does: `^[a-zA-Z0-9][a-zA-Z0-9\-\_\.]+[a-zA-Z0-9]$`, at
/// most 63 characters.
///
/// Used for ids kapply creates or accepts by flag. Ids read from an existing template are held only to
/// the looser label-value rule, as cli-utils' `apply` does, so that every template it accepts works.
///
/// # Errors
/// [`InventoryError::InvalidId`] naming the part of the rule the id breaks.
pub fn validate_id(id: &str) -> Result<()> {
    match id_problem(id) {
        None => Ok(()),
        Some(problem) => Err(InventoryError::InvalidId { id: id.to_owned(), problem }),
    }
}

fn id_problem(id: &str) -> Option<&'static str> {
    if id.is_empty() {
        return Some("is empty");
    }
    if id.len() < MIN_ID_LEN {
        return Some("is shorter than 3 characters");
    }
    label_value_problem(id)
}

/// Why `value` is not a valid Kubernetes label value, or None when it is. The empty value, valid for
/// Kubernetes, is refused: an empty inventory id identifies nothing.
pub(crate) fn label_value_problem(value: &str) -> Option<&'static str> {
    if value.is_empty() {
        return Some("is empty");
    }
    if value.len() > MAX_ID_LEN {
        return Some("is longer than 63 characters");
    }
    let inner = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.');
    shape_problem(value, inner, "has a character other than a letter, a digit, '-', '_' or '.'")
}

/// Why `namespace` is not a valid namespace name (an RFC 1123 DNS label), or None when it is.
pub(crate) fn dns_label_problem(namespace: &str) -> Option<&'static str> {
    if namespace.is_empty() {
        return Some("is empty");
    }
    if namespace.len() > 63 {
        return Some("is longer than 63 characters");
    }
    shape_problem(
        namespace,
        lower_alnum_or(b'-'),
        "has a character other than a lowercase letter, a digit or '-'",
    )
}

/// Why `name` is not a valid ConfigMap name (an RFC 1123 DNS subdomain), or None when it is.
pub(crate) fn dns_subdomain_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("is empty");
    }
    if name.len() > 253 {
        return Some("is longer than 253 characters");
    }
    let inner = |b: u8| lower_alnum_or(b'-')(b) || b == b'.';
    shape_problem(name, inner, "has a character other than a lowercase letter, a digit, '-' or '.'")
}

/// Why `key` is not a valid ConfigMap data key, or None when it is.
pub(crate) fn configmap_key_problem(key: &str) -> Option<&'static str> {
    if key.is_empty() {
        return Some("is empty");
    }
    if key.len() > 253 {
        return Some("is longer than 253 characters");
    }
    if !key.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')) {
        return Some("has a character other than a letter, a digit, '-', '_' or '.'");
    }
    if key == "." || key == ".." {
        return Some("is '.' or '..'");
    }
    None
}

fn lower_alnum_or(extra: u8) -> impl Fn(u8) -> bool {
    move |b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == extra
}

/// Checks that every byte passes `inner` and that the first and last bytes are letters or digits (an
/// uppercase letter `inner` refuses is already reported as a bad character).
fn shape_problem(value: &str, inner: impl Fn(u8) -> bool, bad_char: &'static str) -> Option<&'static str> {
    let bytes = value.as_bytes();
    if !bytes.iter().all(|&b| inner(b)) {
        return Some(bad_char);
    }
    if !bytes[0].is_ascii_alphanumeric() {
        return Some("does not begin with a letter or digit");
    }
    if !bytes[bytes.len() - 1].is_ascii_alphanumeric() {
        return Some("does not end with a letter or digit");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_the_cli_utils_pattern() {
        let long_ok = "a".repeat(63);
        let too_long = "a".repeat(64);
        let table: &[(&str, Option<&str>)] = &[
            ("abc", None),
            ("a-b", None),
            ("a_b", None),
            ("a.b", None),
            ("A9z", None),
            ("8c5f9e60-6c1b-4b7e-9f0e-2a1d3c4b5a69", None),
            (&long_ok, None),
            ("", Some("is empty")),
            ("a", Some("is shorter than 3 characters")),
            ("ab", Some("is shorter than 3 characters")),
            (&too_long, Some("is longer than 63 characters")),
            ("-ab", Some("does not begin with a letter or digit")),
            ("_ab", Some("does not begin with a letter or digit")),
            ("ab.", Some("does not end with a letter or digit")),
            ("ab-", Some("does not end with a letter or digit")),
            ("a b", Some("has a character other than a letter, a digit, '-', '_' or '.'")),
            ("a/b", Some("has a character other than a letter, a digit, '-', '_' or '.'")),
            ("a:b", Some("has a character other than a letter, a digit, '-', '_' or '.'")),
            ("aéb", Some("has a character other than a letter, a digit, '-', '_' or '.'")),
            ("abc\n", Some("has a character other than a letter, a digit, '-', '_' or '.'")),
        ];
        for (id, expected) in table {
            assert_eq!(id_problem(id), *expected, "id {id:?}");
            assert_eq!(validate_id(id).is_ok(), expected.is_none(), "id {id:?}");
        }
    }

    #[test]
    fn an_invalid_id_error_states_the_rule() {
        let err = validate_id("-x-").unwrap_err().to_string();
        assert!(err.contains("\"-x-\""), "{err}");
        assert!(err.contains("does not begin with a letter or digit"), "{err}");
        assert!(err.contains("3 to 63 characters"), "{err}");
    }

    #[test]
    fn template_ids_may_be_shorter_than_init_ids() {
        assert_eq!(label_value_problem("a"), None);
        assert_eq!(label_value_problem("ab"), None);
        assert!(validate_id("ab").is_err());
    }

    #[test]
    fn namespaces_are_dns_labels() {
        assert_eq!(dns_label_problem("prod-1"), None);
        assert_eq!(dns_label_problem("123"), None);
        assert!(dns_label_problem("Prod").is_some());
        assert!(dns_label_problem("a.b").is_some());
        assert!(dns_label_problem("-a").is_some());
        assert!(dns_label_problem(&"a".repeat(64)).is_some());
    }

    #[test]
    fn configmap_names_are_dns_subdomains() {
        assert_eq!(dns_subdomain_problem("inventory-01234567"), None);
        assert_eq!(dns_subdomain_problem("a.b-c"), None);
        assert!(dns_subdomain_problem("inventory_x").is_some());
        assert!(dns_subdomain_problem("Inventory").is_some());
        assert!(dns_subdomain_problem("a.").is_some());
    }

    #[test]
    fn configmap_keys_allow_underscores_but_not_colons() {
        assert_eq!(configmap_key_problem("_system__reader_rbac.authorization.k8s.io_ClusterRole"), None);
        assert!(configmap_key_problem("ns_a:b__ConfigMap").is_some());
        assert!(configmap_key_problem("ns_a@b__ConfigMap").is_some());
        assert!(configmap_key_problem(&"a".repeat(254)).is_some());
    }
}
