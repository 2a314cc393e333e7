//! Access reviews: asking the API server whether the kubeconfig user may do something, before doing it.
//!
//! A prune that deletes some of its objects and is refused the others leaves the cluster halfway
//! between two sets. A SelfSubjectAccessReview (`authorization.k8s.io/v1`, what `kubectl auth can-i`
//! sends) tells beforehand: any authenticated user may create one, it writes nothing, and it answers
//! with the authorizer's decision (RBAC, webhooks) for this user.

use std::fmt;

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::api::{Api, PostParams};

use super::Cluster;
use super::error::{ClusterError, Result};
use super::retry::{Verb, retrying};
use crate::object::{GroupKind, ObjRef};

/// The answer of one access review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// The verb asked about (`delete`).
    pub verb: String,
    /// The resource as RBAC rules and kubectl name it: `configmaps`, `deployments.apps`.
    pub resource: String,
    /// The namespace asked about; None for a cluster-scoped kind.
    pub namespace: Option<String>,
    /// The object's name, when the review was about one object.
    pub name: Option<String>,
    pub allowed: bool,
    /// The authorizer's explanation, when it gave one (RBAC usually gives none for a denial).
    pub reason: Option<String>,
}

impl Access {
    /// The `kubectl auth can-i` command that asks the same question: what a user can run to check.
    pub fn kubectl_can_i(&self) -> String {
        let mut command = format!("kubectl auth can-i {} {}", self.verb, self.resource);
        if let Some(name) = &self.name {
            command.push('/');
            command.push_str(name);
        }
        if let Some(namespace) = &self.namespace {
            command.push_str(" -n ");
            command.push_str(namespace);
        }
        command
    }
}

impl fmt::Display for Access {
    /// `delete configmaps in namespace shop`, `delete namespaces/old (cluster-scoped)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.verb, self.resource)?;
        if let Some(name) = &self.name {
            write!(f, "/{name}")?;
        }
        match &self.namespace {
            Some(namespace) => write!(f, " in namespace {namespace}"),
            None => f.write_str(" (cluster-scoped)"),
        }
    }
}

impl Cluster {
    /// Asks the API server whether the kubeconfig user may `verb` objects of kind `gk` in `namespace`
    /// (ignored for a cluster-scoped kind) — every object of the kind there, or only the one named
    /// `name`. A Role granting a verb on `resourceNames` allows the named question only.
    ///
    /// # Errors
    /// The kind is not served, or the review request failed (an apiserver without
    /// `authorization.k8s.io/v1` answers 404): the caller decides what not knowing means.
    pub async fn can_i(
        &self,
        verb: &str,
        gk: &GroupKind,
        namespace: Option<&str>,
        name: Option<&str>,
    ) -> Result<Access> {
        let resolved = self.resolve(gk, None).await?;
        let namespace = namespace.filter(|_| resolved.namespaced);
        let attributes = ResourceAttributes {
            verb: Some(verb.to_owned()),
            group: Some(resolved.resource.group.clone()),
            resource: Some(resolved.resource.plural.clone()),
            namespace: namespace.map(str::to_owned),
            name: name.map(str::to_owned),
            ..ResourceAttributes::default()
        };
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(attributes),
                ..SelfSubjectAccessReviewSpec::default()
            },
            ..SelfSubjectAccessReview::default()
        };
        let api: Api<SelfSubjectAccessReview> = Api::all(self.client.clone());
        let what = ObjRef::new(gk.group.clone(), gk.kind.clone(), namespace, name.unwrap_or("*"));
        // A review writes nothing: sending it twice is harmless, whatever its verb.
        let params = PostParams::default();
        let answer = retrying(Verb::Idempotent, &what, || api.create(&params, &review))
            .await
            .map_err(|err| ClusterError::api(&what, "review access (SelfSubjectAccessReview) to", err))?;
        let status = answer.status.unwrap_or_default();
        Ok(Access {
            verb: verb.to_owned(),
            resource: resource_name(&resolved.resource.plural, &resolved.resource.group),
            namespace: namespace.map(str::to_owned),
            name: name.map(str::to_owned),
            allowed: status.allowed && !status.denied.unwrap_or(false),
            reason: status.reason.filter(|reason| !reason.is_empty()),
        })
    }
}

/// `plural[.group]`: how RBAC rules and kubectl name a resource.
fn resource_name(plural: &str, group: &str) -> String {
    if group.is_empty() { plural.to_owned() } else { format!("{plural}.{group}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(resource: &str, namespace: Option<&str>, name: Option<&str>) -> Access {
        Access {
            verb: "delete".into(),
            resource: resource.into(),
            namespace: namespace.map(Into::into),
            name: name.map(Into::into),
            allowed: false,
            reason: None,
        }
    }

    #[test]
    fn a_resource_is_named_as_rbac_names_it() {
        assert_eq!(resource_name("configmaps", ""), "configmaps");
        assert_eq!(resource_name("deployments", "apps"), "deployments.apps");
    }

    #[test]
    fn an_access_names_verb_resource_and_namespace_and_the_command_that_checks_it() {
        let namespaced = access("configmaps", Some("shop"), None);
        assert_eq!(namespaced.to_string(), "delete configmaps in namespace shop");
        assert_eq!(namespaced.kubectl_can_i(), "kubectl auth can-i delete configmaps -n shop");
        let named = access("deployments.apps", Some("shop"), Some("web"));
        assert_eq!(named.to_string(), "delete deployments.apps/web in namespace shop");
        assert_eq!(named.kubectl_can_i(), "kubectl auth can-i delete deployments.apps/web -n shop");
        let cluster = access("namespaces", None, Some("old"));
        assert_eq!(cluster.to_string(), "delete namespaces/old (cluster-scoped)");
        assert_eq!(cluster.kubectl_can_i(), "kubectl auth can-i delete namespaces/old");
    }
}
