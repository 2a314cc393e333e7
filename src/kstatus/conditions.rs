//! The object's own `status.conditions`, read once and shared by every rule.

use serde_json::Value;

use super::fields::{Field, FieldError, Fields};

/// A condition's status. Kubernetes writes `"True"`, `"False"` or `"Unknown"`; some controllers write
/// other cases or JSON booleans, which are read as meaning the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Truth {
    True,
    False,
    Unknown,
    /// Absent, or a string that is none of the above: matches no rule.
    Other,
}

impl Truth {
    fn parse(fields: &Fields<'_>) -> Field<Self> {
        let Some(value) = fields.get(&["status"])? else {
            return Ok(Truth::Other);
        };
        match value {
            Value::Bool(true) => Ok(Truth::True),
            Value::Bool(false) => Ok(Truth::False),
            Value::String(s) => Ok(Self::from_text(s.trim())),
            other => Err(FieldError::new(fields.path(&["status"]), "True, False or Unknown", other)),
        }
    }

    fn from_text(text: &str) -> Self {
        [(Truth::True, "True"), (Truth::False, "False"), (Truth::Unknown, "Unknown")]
            .into_iter()
            .find(|(_, name)| name.eq_ignore_ascii_case(text))
            .map_or(Truth::Other, |(truth, _)| truth)
    }

    /// The canonical spelling, for messages.
    fn as_str(self) -> &'static str {
        match self {
            Truth::True => "True",
            Truth::False => "False",
            Truth::Unknown => "Unknown",
            Truth::Other => "unset",
        }
    }
}

/// One entry of `status.conditions`; absent text fields read as empty, as in Go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ObservedCondition<'a> {
    pub(super) type_: &'a str,
    pub(super) status: Truth,
    pub(super) reason: &'a str,
    pub(super) message: &'a str,
}

impl ObservedCondition<'_> {
    /// The condition's message, or one saying what the condition is when the controller left it empty:
    /// an empty message would leave the user with nothing to go on.
    pub(super) fn message_or_default(&self) -> String {
        if self.message.is_empty() {
            format!("{} condition is {}", self.type_, self.status.as_str())
        } else {
            self.message.to_owned()
        }
    }

    /// The condition's reason, or its type and status run together (`ReadyFalse`, `StalledTrue`) when
    /// the controller left it empty: every InProgress and Failed result has a reason to show and to
    /// match on, which cli-utils, copying the empty string, does not give.
    pub(super) fn reason_or_default(&self) -> String {
        if self.reason.is_empty() {
            format!("{}{}", self.type_, self.status.as_str())
        } else {
            self.reason.to_owned()
        }
    }
}

/// The conditions of an object, in the order the object lists them.
#[derive(Debug, Default)]
pub(super) struct Conditions<'a>(Vec<ObservedCondition<'a>>);

impl<'a> Conditions<'a> {
    /// Reads `status.conditions`. Entries without a `type` are skipped: no rule could match them.
    /// A `null` entry is skipped too, as null means absent everywhere (cli-utils reads it as an empty
    /// condition, which matches nothing either).
    ///
    /// # Errors
    /// `status.conditions` not a list, an entry not an object, or a field of the wrong type.
    pub(super) fn parse(fields: Fields<'a>) -> Field<Self> {
        let items = fields.list(&["status", "conditions"])?;
        let mut conditions = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            if item.is_null() {
                continue;
            }
            if let Some(condition) = parse_one(Fields::item("status.conditions", index, item)?)? {
                conditions.push(condition);
            }
        }
        Ok(Self(conditions))
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &ObservedCondition<'a>> {
        self.0.iter()
    }

    /// The first condition of type `type_` with status `status`.
    pub(super) fn find(&self, type_: &str, status: Truth) -> Option<&ObservedCondition<'a>> {
        self.iter().find(|c| c.type_ == type_ && c.status == status)
    }

    /// Whether some condition of type `type_` has status `status`.
    pub(super) fn has(&self, type_: &str, status: Truth) -> bool {
        self.find(type_, status).is_some()
    }

    /// The first condition, in list order, that matches one of `wanted` (type and status), with the
    /// index of the entry of `wanted` it matched.
    ///
    /// Where several rules read the same list (Reconciling or Stalled, a Job's Complete, Failed or
    /// Suspended, a CRD's NamesAccepted or Established), cli-utils walks the list once and the
    /// condition listed first decides. Following that order is what makes kapply's verdict the one
    /// kpt and Config Sync show for an object whose conditions contradict each other.
    pub(super) fn first_of(&self, wanted: &[(&str, Truth)]) -> Option<(usize, &ObservedCondition<'a>)> {
        self.iter().find_map(|c| {
            wanted.iter().position(|(type_, status)| c.type_ == *type_ && c.status == *status).map(|i| (i, c))
        })
    }
}

fn parse_one(fields: Fields<'_>) -> Field<Option<ObservedCondition<'_>>> {
    let Some(type_) = fields.str(&["type"])? else {
        return Ok(None);
    };
    Ok(Some(ObservedCondition {
        type_,
        status: Truth::parse(&fields)?,
        reason: fields.str_or(&["reason"], "")?,
        message: fields.str_or(&["message"], "")?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(obj: &Value) -> Field<Vec<ObservedCondition<'_>>> {
        Conditions::parse(Fields::new(obj)).map(|c| c.0)
    }

    #[test]
    fn condition_status_is_read_case_insensitively_and_from_booleans() {
        let obj = json!({"status": {"conditions": [
            {"type": "A", "status": "true"}, {"type": "B", "status": false},
            {"type": "C", "status": "UNKNOWN"}, {"type": "D", "status": "Maybe"}, {"type": "E"},
        ]}});
        let statuses: Vec<_> = parse(&obj).unwrap().iter().map(|c| c.status).collect();
        assert_eq!(statuses, [Truth::True, Truth::False, Truth::Unknown, Truth::Other, Truth::Other]);
    }

    #[test]
    fn conditions_without_a_type_are_skipped() {
        let obj =
            json!({"status": {"conditions": [{"status": "True"}, {"type": "Ready", "status": "True"}]}});
        assert_eq!(parse(&obj).unwrap().len(), 1);
    }

    #[test]
    fn a_condition_that_is_not_an_object_is_named_by_index() {
        let obj = json!({"status": {"conditions": [{"type": "Ready"}, "Ready"]}});
        assert_eq!(parse(&obj).unwrap_err().to_string(), r#"status.conditions[1] is not an object: "Ready""#);
    }

    #[test]
    fn null_conditions_are_skipped() {
        let obj = json!({"status": {"conditions": [null, {"type": "Ready", "status": "True"}, null]}});
        let types: Vec<_> = parse(&obj).unwrap().iter().map(|c| c.type_).collect();
        assert_eq!(types, ["Ready"]);
    }

    #[test]
    fn first_of_follows_list_order_not_the_order_asked() {
        let obj = json!({"status": {"conditions": [
            {"type": "Stalled", "status": "True"}, {"type": "Reconciling", "status": "True"},
        ]}});
        let conditions = Conditions::parse(Fields::new(&obj)).unwrap();
        let (index, c) =
            conditions.first_of(&[("Reconciling", Truth::True), ("Stalled", Truth::True)]).unwrap();
        assert_eq!((index, c.type_), (1, "Stalled"));
        assert!(conditions.first_of(&[("Stalled", Truth::False)]).is_none());
    }

    #[test]
    fn a_numeric_condition_status_is_an_error() {
        let obj = json!({"status": {"conditions": [{"type": "Ready", "status": 1}]}});
        assert_eq!(
            parse(&obj).unwrap_err().to_string(),
            "status.conditions[0].status is not True, False or Unknown: 1"
        );
    }

    #[test]
    fn an_empty_message_is_replaced_by_a_description_of_the_condition() {
        let c = ObservedCondition { type_: "Ready", status: Truth::False, reason: "", message: "" };
        assert_eq!(c.message_or_default(), "Ready condition is False");
    }

    #[test]
    fn an_empty_reason_is_replaced_by_the_condition_type_and_status() {
        let c = ObservedCondition { type_: "Ready", status: Truth::Unknown, reason: "", message: "" };
        assert_eq!(c.reason_or_default(), "ReadyUnknown");
        let c = ObservedCondition { reason: "Waiting", ..c };
        assert_eq!(c.reason_or_default(), "Waiting");
    }
}
