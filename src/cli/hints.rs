//! The binary's names for the library's [`Setting`]s: its flags. The library describes a remedy in
//! words and carries the setting; here it becomes `--force-conflicts` and the like.

use kapply::Setting;
use kapply::event::SettingNames;

/// The flag that sets `setting`.
pub fn flag(setting: Setting) -> String {
    match setting {
        Setting::ForceConflicts => "--force-conflicts".into(),
        Setting::RecreateOnImmutable => "--recreate-on-immutable".into(),
        Setting::InventoryPolicy(policy) => format!("--inventory-policy={}", policy.as_str()),
        Setting::InventoryId => "--inventory-id".into(),
        Setting::InventoryName => "--inventory-name".into(),
        Setting::Namespace => "--namespace".into(),
        // A setting added to the library before the binary learns its flag.
        other => other.to_string(),
    }
}

/// Settings named as flags, for the events of a run.
pub fn flags() -> SettingNames {
    SettingNames::new(flag)
}

/// The `hint:` line that follows a whole-run error, when a setting resolves it.
pub fn print_hint(command: &str, setting: Option<Setting>) {
    if let Some(setting) = setting {
        eprintln!("kapply {command}: hint: use {}", flag(setting));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kapply::InventoryPolicy;

    #[test]
    fn each_setting_is_named_by_its_flag() {
        assert_eq!(flag(Setting::InventoryPolicy(InventoryPolicy::AdoptAll)), "--inventory-policy=adopt-all");
        assert_eq!(flag(Setting::ForceConflicts), "--force-conflicts");
        assert_eq!(flags().name(Setting::RecreateOnImmutable), "--recreate-on-immutable");
    }
}
