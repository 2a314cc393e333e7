//! Which kubeconfig contexts a fleet runs on: `--context a,b` (named, in the order given), then
//! `--contexts PATTERN` and `--all-contexts` (in the kubeconfig's order), each context once.

use super::FleetArgs;
use crate::cli::args::ConnectionArgs;
use kapply::fleet::{glob_matches, kubeconfig_contexts};

/// The chosen contexts, or a usage error naming what is wrong: a named context the kubeconfig does not
/// have, a pattern matching none, a canary outside the fleet.
pub fn contexts(connection: &ConnectionArgs, fleet: &FleetArgs) -> Result<Vec<String>, String> {
    // One server and one credential cannot stand for several clusters.
    for (given, flag) in [(connection.server.is_some(), "--server"), (connection.token.is_some(), "--token")]
    {
        if given {
            return Err(format!(
                "{flag} names one cluster's server or credential, and a fleet runs on several: give each \
                 cluster its own kubeconfig context instead"
            ));
        }
    }
    let known = kubeconfig_contexts(connection.kubeconfig.as_deref()).map_err(|err| err.to_string())?;
    choose(&known, &connection.context, &fleet.patterns, fleet.all_contexts, fleet.canary.as_deref())
}

/// [`contexts`] on the kubeconfig's context names `known` (pure).
pub fn choose(
    known: &[String],
    named: &[String],
    patterns: &[String],
    all: bool,
    canary: Option<&str>,
) -> Result<Vec<String>, String> {
    let listed = || if known.is_empty() { "none".to_owned() } else { known.join(", ") };
    let mut chosen: Vec<String> = Vec::new();
    let mut add = |name: &str| {
        if !chosen.iter().any(|c| c == name) {
            chosen.push(name.to_owned());
        }
    };
    for name in named {
        if !known.contains(name) {
            return Err(format!("no context {name:?} in the kubeconfig (its contexts: {})", listed()));
        }
        add(name);
    }
    for pattern in patterns {
        let matching: Vec<&String> = known.iter().filter(|name| glob_matches(pattern, name)).collect();
        if matching.is_empty() {
            return Err(format!(
                "--contexts {pattern:?} matches no context of the kubeconfig (its contexts: {})",
                listed()
            ));
        }
        matching.into_iter().for_each(|name| add(name));
    }
    if all {
        known.iter().for_each(|name| add(name));
    }
    if chosen.is_empty() {
        // Only --canary (or a rollout flag) was given: the fleet is the canary's alone, which is no fleet.
        return Err("choose the clusters with --context a,b, --contexts PATTERN or --all-contexts".to_owned());
    }
    if let Some(canary) = canary
        && !chosen.iter().any(|c| c == canary)
    {
        return Err(format!("--canary {canary:?} is not among the chosen contexts ({})", chosen.join(", ")));
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn named_first_then_patterns_then_all_each_once() {
        let known = names(&["prod-eu", "staging", "prod-us"]);
        assert_eq!(
            choose(&known, &names(&["staging"]), &names(&["prod-*"]), false, None).unwrap(),
            known_order(&["staging", "prod-eu", "prod-us"])
        );
        assert_eq!(choose(&known, &[], &[], true, None).unwrap(), known);
        assert_eq!(choose(&known, &[], &names(&["prod-[!u]*"]), false, None).unwrap(), names(&["prod-eu"]));
        assert_eq!(
            choose(&known, &names(&["prod-us", "prod-us"]), &[], false, None).unwrap(),
            names(&["prod-us"])
        );
    }

    fn known_order(list: &[&str]) -> Vec<String> {
        names(list)
    }

    #[test]
    fn unknown_names_empty_patterns_and_stray_canaries_are_refused() {
        let known = names(&["a", "b"]);
        let err = choose(&known, &names(&["c"]), &[], false, None).unwrap_err();
        assert!(err.contains("no context \"c\"") && err.contains("a, b"), "{err}");
        let err = choose(&known, &[], &names(&["prod-*"]), false, None).unwrap_err();
        assert!(err.contains("matches no context"), "{err}");
        let err = choose(&known, &names(&["a"]), &[], false, Some("b")).unwrap_err();
        assert!(err.contains("--canary \"b\""), "{err}");
        assert!(choose(&known, &[], &[], false, Some("a")).is_err());
    }
}
