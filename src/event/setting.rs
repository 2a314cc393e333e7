//! [`Setting`]: the run setting a hint suggests, as data, so that each front end names it in its own
//! vocabulary — the CLI as a flag (`--force-conflicts`), a library user as a builder method.
//!
//! Library messages never spell a CLI flag: they describe the remedy in words ("forcing conflicts takes
//! these fields over") and carry the `Setting`, which [`ObjectError::setting`](super::ObjectError) and
//! the errors' `setting()` methods expose and printers render through [`SettingNames`].

use std::fmt;

use super::{ApplyOutcome, DeletionOutcome, Event, ObjectError, PruneOutcome};
use crate::inventory::InventoryPolicy;

/// A setting of a run or of a [`Loader`](crate::Loader) that resolves a problem.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setting {
    /// Take over the fields other field managers own ([`Applier::force_conflicts`](crate::Applier::force_conflicts)).
    ForceConflicts,
    /// Delete and re-create an object whose immutable field changed
    /// ([`Applier::recreate_on_immutable`](crate::Applier::recreate_on_immutable)).
    RecreateOnImmutable,
    /// A more permissive inventory policy ([`Applier::inventory_policy`](crate::Applier::inventory_policy)).
    InventoryPolicy(InventoryPolicy),
    /// An inventory id ([`Loader::inventory_id`](crate::Loader::inventory_id)).
    InventoryId,
    /// An inventory ConfigMap name ([`Loader::inventory_name`](crate::Loader::inventory_name)).
    InventoryName,
    /// A default namespace ([`Loader::namespace`](crate::Loader::namespace)).
    Namespace,
}

/// Names the library's API gives each setting: the builder call that sets it.
impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Setting::ForceConflicts => f.write_str("Applier::force_conflicts(true)"),
            Setting::RecreateOnImmutable => f.write_str("Applier::recreate_on_immutable(true)"),
            Setting::InventoryPolicy(policy) => write!(f, "Applier::inventory_policy({policy:?})"),
            Setting::InventoryId => f.write_str("Loader::inventory_id"),
            Setting::InventoryName => f.write_str("Loader::inventory_name"),
            Setting::Namespace => f.write_str("Loader::namespace"),
        }
    }
}

/// How a printer names a [`Setting`] in a hint: by default as the library's builder call; the
/// `kapply` binary passes its flags.
#[derive(Clone, Copy)]
pub struct SettingNames(fn(Setting) -> String);

impl SettingNames {
    /// Names settings with `name`.
    pub fn new(name: fn(Setting) -> String) -> Self {
        SettingNames(name)
    }

    /// The name of `setting`.
    pub fn name(&self, setting: Setting) -> String {
        (self.0)(setting)
    }

    /// `hint`, followed by the setting that acts on it when there is one: `<hint> (use <name>)`.
    pub fn hint(&self, hint: Option<&str>, setting: Option<Setting>) -> Option<String> {
        match (hint, setting) {
            (Some(hint), Some(setting)) => Some(format!("{hint} (use {})", self.name(setting))),
            (Some(hint), None) => Some(hint.to_owned()),
            (None, Some(setting)) => Some(format!("use {}", self.name(setting))),
            (None, None) => None,
        }
    }
}

impl ObjectError {
    /// The hint with its setting named by `names`, as printers show it.
    pub fn hint_named(&self, names: &SettingNames) -> Option<String> {
        names.hint(self.hint.as_deref(), self.setting)
    }

    /// Folds the setting into the hint text, named by `names`, so that whoever prints the error
    /// afterwards shows that name. The `kapply` binary does this to every event with its flags.
    pub fn name_setting(&mut self, names: &SettingNames) {
        if self.setting.is_some() {
            self.hint = self.hint_named(names);
            self.setting = None;
        }
    }
}

impl Event {
    /// [`ObjectError::name_setting`] on every error this event carries.
    pub fn name_settings(&mut self, names: &SettingNames) {
        let error = match self {
            Event::Apply { outcome: ApplyOutcome::Failed(error) | ApplyOutcome::Refused(error), .. }
            | Event::Prune { outcome: PruneOutcome::Failed(error), .. }
            | Event::Delete { outcome: PruneOutcome::Failed(error), .. }
            | Event::Deleted { outcome: DeletionOutcome::Reappeared(error), .. } => error,
            Event::Summary(summary) => {
                for failure in &mut summary.failures {
                    failure.error.name_setting(names);
                }
                return;
            }
            _ => return,
        };
        error.name_setting(names);
    }
}

impl Default for SettingNames {
    fn default() -> Self {
        SettingNames(|setting| setting.to_string())
    }
}

impl fmt::Debug for SettingNames {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SettingNames(..)")
    }
}

impl PartialEq for SettingNames {
    /// Naming functions are not comparable: every `SettingNames` is equal, so that options holding one
    /// still compare by what they configure.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for SettingNames {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hint_names_its_setting_in_the_front_end_s_words() {
        let library = SettingNames::default();
        assert_eq!(
            library.hint(Some("delete and re-create it"), Some(Setting::RecreateOnImmutable)).as_deref(),
            Some("delete and re-create it (use Applier::recreate_on_immutable(true))")
        );
        let flags = SettingNames::new(|setting| match setting {
            Setting::InventoryPolicy(policy) => format!("--inventory-policy={}", policy.as_str()),
            _ => "--flag".into(),
        });
        assert_eq!(
            flags.hint(None, Some(Setting::InventoryPolicy(InventoryPolicy::AdoptAll))).as_deref(),
            Some("use --inventory-policy=adopt-all")
        );
        assert_eq!(flags.hint(Some("just this"), None).as_deref(), Some("just this"));
        assert_eq!(flags.hint(None, None), None);
    }

    #[test]
    fn naming_folds_the_setting_into_the_hint_of_every_error_an_event_carries() {
        let error = ObjectError::new("immutable")
            .with_hint("re-create it")
            .with_setting(Setting::RecreateOnImmutable);
        let obj = crate::object::ObjRef::new("", "ConfigMap", Some("ns"), "a");
        let mut event = Event::Apply { obj, outcome: ApplyOutcome::Failed(error) };
        event.name_settings(&SettingNames::new(|_| "--recreate-on-immutable".into()));
        let Event::Apply { outcome: ApplyOutcome::Failed(error), .. } = event else { unreachable!() };
        assert_eq!(error.hint.as_deref(), Some("re-create it (use --recreate-on-immutable)"));
        assert_eq!(error.setting, None, "named once: printing it again adds nothing");
    }
}
