//! Security defaults end to end: kapply run as a restricted user (a ServiceAccount token, RBAC on the
//! apiserver) and through an exec credential plugin.
//!
//! - A forbidden apply names the verb, the object and RBAC; while it fails, nothing is pruned.
//! - A prune with a forbidden deletion deletes nothing (not even what it may delete), naming the
//!   verb, the resource and the namespace; once granted, the next run prunes.
//! - A user with Roles in several namespaces (no ClusterRole) prunes in each of them.
//! - A kubeconfig whose user is an `exec:` plugin works, and a failing plugin fails the run clearly.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::api::authentication::v1::TokenRequest;
use k8s_openapi::api::authorization::v1::SubjectAccessReview;
use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::Client;
use kube::api::{Api, PostParams};
use kube::config::Kubeconfig;
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::apply::{Package, config_map, live_config_map};
use crate::support::{Run, TestNamespace, client, eventually, kubeconfig_path};

/// What kapply needs on ConfigMaps to apply them and keep its inventory, without `delete`.
const CONFIGMAP_VERBS: [&str; 6] = ["get", "list", "watch", "create", "patch", "update"];

/// A ServiceAccount of a test namespace with Roles bound to it, and kubeconfigs that act as it.
struct RestrictedUser {
    /// Holds the kubeconfigs and plugin scripts written for this user.
    dir: TempDir,
    client: Client,
    namespace: String,
    name: String,
}

impl RestrictedUser {
    /// Creates the ServiceAccount `name` in `namespace`, bound to a Role of `rules`.
    async fn new(client: &Client, namespace: &str, name: &str, rules: Value) -> Self {
        let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), namespace);
        let account = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
        accounts.create(&PostParams::default(), &account).await.expect("create the ServiceAccount");
        let user = RestrictedUser {
            dir: TempDir::new().unwrap(),
            client: client.clone(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        };
        user.grant(name, &rules).await;
        user
    }

    /// Binds one more Role, named `role`, of `rules` to the user.
    async fn grant(&self, role: &str, rules: &Value) {
        self.grant_in(&self.namespace, role, rules).await;
    }

    /// Binds a Role of `rules`, named `role`, in `namespace` (another one than the user's, maybe).
    async fn grant_in(&self, namespace: &str, role: &str, rules: &Value) {
        let roles: Api<Role> = Api::namespaced(self.client.clone(), namespace);
        let body = serde_json::from_value(json!({"metadata": {"name": role}, "rules": rules})).unwrap();
        roles.create(&PostParams::default(), &body).await.expect("create the Role");
        let bindings: Api<RoleBinding> = Api::namespaced(self.client.clone(), namespace);
        let binding = serde_json::from_value(json!({
            "metadata": {"name": role},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role},
            "subjects": [{"kind": "ServiceAccount", "name": self.name, "namespace": self.namespace}],
        }))
        .unwrap();
        bindings.create(&PostParams::default(), &binding).await.expect("create the RoleBinding");
        self.wait_until_granted(namespace, rules).await;
    }

    /// The apiserver's RBAC authorizer learns of a new binding through a watch: wait until it allows
    /// every verb of `rules`, so that a run right after the grant sees it.
    async fn wait_until_granted(&self, namespace: &str, rules: &Value) {
        let reviews: Api<SubjectAccessReview> = Api::all(self.client.clone());
        let user = format!("system:serviceaccount:{}:{}", self.namespace, self.name);
        for rule in rules.as_array().expect("rules are a list") {
            let name = rule["resourceNames"][0].as_str();
            for resource in rule["resources"].as_array().unwrap() {
                for verb in rule["verbs"].as_array().unwrap() {
                    let review: SubjectAccessReview = serde_json::from_value(json!({"spec": {
                        "user": user,
                        "groups": ["system:serviceaccounts", "system:authenticated"],
                        "resourceAttributes": {
                            "namespace": namespace, "verb": verb, "resource": resource, "name": name,
                        },
                    }}))
                    .unwrap();
                    let what = format!("{user} to be allowed to {verb} {resource}");
                    eventually(&what, Duration::from_secs(30), || async {
                        let answer = reviews.create(&PostParams::default(), &review).await.unwrap();
                        answer.status.filter(|status| status.allowed).map(|_| ())
                    })
                    .await;
                }
            }
        }
    }

    /// A fresh token of the ServiceAccount (TokenRequest API, one hour).
    async fn token(&self) -> String {
        let accounts: Api<ServiceAccount> = Api::namespaced(self.client.clone(), &self.namespace);
        let request: TokenRequest =
            serde_json::from_value(json!({"spec": {"audiences": [], "expirationSeconds": 3600}})).unwrap();
        let answer = accounts
            .create_token_request(&self.name, &PostParams::default(), &request)
            .await
            .expect("request a ServiceAccount token");
        answer.status.expect("a TokenRequest answers with a status").token
    }

    /// A kubeconfig reaching the test control plane (same server and CA as the admin's) as `user`.
    fn kubeconfig(&self, file: &str, user: Value) -> PathBuf {
        let admin = Kubeconfig::read_from(kubeconfig_path()).expect("read the admin kubeconfig");
        let cluster = admin.clusters[0].cluster.clone().expect("the admin kubeconfig names a cluster");
        let config = json!({
            "apiVersion": "v1", "kind": "Config",
            "clusters": [{"name": "test", "cluster": {
                "server": cluster.server,
                "certificate-authority-data": cluster.certificate_authority_data,
            }}],
            "users": [{"name": self.name, "user": user}],
            "contexts": [{"name": "test", "context": {
                "cluster": "test", "user": self.name, "namespace": self.namespace,
            }}],
            "current-context": "test",
        });
        let path = self.dir.path().join(file);
        std::fs::write(&path, config.to_string()).unwrap();
        path
    }

    /// A kubeconfig whose user authenticates with a token of the ServiceAccount.
    async fn token_kubeconfig(&self) -> PathBuf {
        let token = self.token().await;
        self.kubeconfig("token.kubeconfig", json!({"token": token}))
    }

    /// A kubeconfig whose user is the exec plugin `script` (client.authentication.k8s.io/v1), run
    /// with `env`.
    fn exec_kubeconfig(&self, file: &str, script: &Path, env: &[(&str, &str)]) -> PathBuf {
        let env: Vec<Value> = env.iter().map(|(name, value)| json!({"name": name, "value": value})).collect();
        self.kubeconfig(
            file,
            json!({"exec": {
                "apiVersion": "client.authentication.k8s.io/v1",
                "command": script,
                "env": env,
                "interactiveMode": "Never",
            }}),
        )
    }

    /// Writes an executable shell script into the user's directory.
    fn script(&self, file: &str, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = self.dir.path().join(file);
        std::fs::write(&path, format!("#!/bin/sh\n{body}")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }
}

/// A Role rule on `resources` of the core group.
fn rule(resources: &[&str], verbs: &[&str]) -> Value {
    json!({"apiGroups": [""], "resources": resources, "verbs": verbs})
}

fn secret(name: &str) -> String {
    json!({
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": name},
        "stringData": {"password": "not-a-real-password"},
    })
    .to_string()
}

fn keys(namespace: &str, configmaps: &[&str], secrets: &[&str]) -> BTreeSet<String> {
    let configmaps = configmaps.iter().map(|name| format!("{namespace}_{name}__ConfigMap"));
    configmaps.chain(secrets.iter().map(|name| format!("{namespace}_{name}__Secret"))).collect()
}

fn assert_contains(run: &Run, what: &str, expected: &str) {
    assert!(run.output().contains(expected), "{what}: expected {expected:?} in\n{}", run.output());
}

#[tokio::test]
async fn a_forbidden_apply_names_the_verb_the_object_and_rbac_and_nothing_is_pruned_until_it_succeeds() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "security-forbidden-apply").await;
    let n = &ns.name;
    let mut verbs = CONFIGMAP_VERBS.to_vec();
    verbs.push("delete");
    let user = RestrictedUser::new(&client, n, "deployer", json!([rule(&["configmaps"], &verbs)])).await;
    let kubeconfig = user.token_kubeconfig().await;
    let package = Package::new(n, "forbidden-apply");
    package.write("a.yaml", &config_map("a", json!({})));
    package.write("b.yaml", &config_map("b", json!({})));
    package.write("s.yaml", &secret("s"));

    let forbidden = package.run_via(&kubeconfig, "apply", &[]);
    assert_eq!(forbidden.code, 1, "{}", forbidden.output());
    assert_contains(&forbidden, "names the object", &format!("Secret/{n}/s apply failed"));
    assert_contains(&forbidden, "names the verb", &format!("system:serviceaccount:{n}:deployer\" cannot"));
    assert_contains(&forbidden, "names the resource", "resource \"secrets\"");
    assert_contains(&forbidden, "names the namespace", &format!("in the namespace \"{n}\""));
    assert_contains(&forbidden, "hints at RBAC", "check the RBAC permissions of your kubeconfig user");
    assert!(!forbidden.output().contains("not-a-real-password"), "{}", forbidden.output());
    for name in ["a", "b"] {
        assert!(live_config_map(&client, n, name).await.is_some(), "{name} was applied");
    }
    // The failed object is recorded: it may exist, as far as kapply knows.
    assert_eq!(package.inventory_keys(&client).await, keys(n, &["a", "b"], &["s"]));

    // b leaves the set while the Secret still fails: b is not pruned, though its delete is allowed.
    package.remove("b.yaml");
    let blocked = package.run_via(&kubeconfig, "apply", &[]);
    assert_eq!(blocked.code, 1, "{}", blocked.output());
    assert_contains(
        &blocked,
        "says why b stays",
        &format!("ConfigMap/{n}/b prune skipped: 1 apply(s) of this run failed"),
    );
    assert!(live_config_map(&client, n, "b").await.is_some(), "b was deleted despite the failed apply");
    assert_eq!(package.inventory_keys(&client).await, keys(n, &["a", "b"], &["s"]), "b stays recorded");

    // Reading Secrets allowed, writing them not: the apply request itself is refused, by verb.
    user.grant("read-secrets", &json!([rule(&["secrets"], &["get", "list", "watch"])])).await;
    let unwritable = package.run_via(&kubeconfig, "apply", &[]);
    assert_eq!(unwritable.code, 1, "{}", unwritable.output());
    assert_contains(
        &unwritable,
        "names verb and object",
        &format!("apply Secret/{n}/s: secrets \"s\" is forbidden"),
    );
    assert_contains(&unwritable, "names the request's verb", "cannot patch resource \"secrets\"");
    assert_contains(&unwritable, "hints at RBAC", "check the RBAC permissions of your kubeconfig user");
    assert!(live_config_map(&client, n, "b").await.is_some(), "b was deleted despite the failed apply");

    // Once the Secret may be applied, the run succeeds and prunes b.
    user.grant("write-secrets", &json!([rule(&["secrets"], &["create", "patch", "update"])])).await;
    let fixed = package.run_via(&kubeconfig, "apply", &[]);
    assert_eq!(fixed.code, 0, "{}", fixed.output());
    assert_contains(&fixed, "prunes b", &format!("ConfigMap/{n}/b pruned"));
    assert!(live_config_map(&client, n, "b").await.is_none(), "b was pruned");
    assert_eq!(package.inventory_keys(&client).await, keys(n, &["a"], &["s"]));
}

#[tokio::test]
async fn a_prune_with_a_forbidden_deletion_deletes_nothing_and_names_verb_resource_and_namespace() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "security-forbidden-prune").await;
    let n = &ns.name;
    // May delete the ConfigMap `allowed` only: its prune alone would succeed.
    let rules = json!([
        rule(&["configmaps"], &CONFIGMAP_VERBS),
        {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["allowed"], "verbs": ["delete"]},
    ]);
    let user = RestrictedUser::new(&client, n, "deployer", rules).await;
    let kubeconfig = user.token_kubeconfig().await;
    let package = Package::new(n, "forbidden-prune");
    for name in ["stays", "allowed", "denied"] {
        package.write(&format!("{name}.yaml"), &config_map(name, json!({})));
    }
    let first = package.run_via(&kubeconfig, "apply", &[]);
    assert_eq!(first.code, 0, "{}", first.output());

    package.remove("allowed.yaml");
    package.remove("denied.yaml");
    let refused = package.run_via(&kubeconfig, "apply", &[]);
    assert_eq!(refused.code, 1, "{}", refused.output());
    assert_contains(
        &refused,
        "names verb, resource and namespace",
        &format!("ConfigMap/{n}/denied prune failed: delete configmaps/denied in namespace {n} is forbidden"),
    );
    assert_contains(&refused, "hints at RBAC", "check the RBAC permissions of your kubeconfig user");
    assert_contains(
        &refused,
        "says how to check",
        &format!("kubectl auth can-i delete configmaps/denied -n {n}"),
    );
    assert_contains(
        &refused,
        "says why the allowed one stays",
        &format!("ConfigMap/{n}/allowed prune skipped: 1 deletion(s) of this prune are forbidden"),
    );
    for name in ["stays", "allowed", "denied"] {
        assert!(live_config_map(&client, n, name).await.is_some(), "{name} was deleted");
    }
    assert_eq!(
        package.inventory_keys(&client).await,
        keys(n, &["stays", "allowed", "denied"], &[]),
        "what was not pruned stays recorded"
    );

    user.grant("delete-configmaps", &json!([rule(&["configmaps"], &["delete"])])).await;
    let granted = package.run_via(&kubeconfig, "apply", &[]);
    assert_eq!(granted.code, 0, "{}", granted.output());
    for name in ["allowed", "denied"] {
        assert_contains(&granted, "prunes", &format!("ConfigMap/{n}/{name} pruned"));
        assert!(live_config_map(&client, n, name).await.is_none(), "{name} was pruned");
    }
    assert_eq!(package.inventory_keys(&client).await, keys(n, &["stays"], &[]));
}

#[tokio::test]
async fn a_prune_across_namespaces_by_a_user_with_roles_in_each_but_no_cluster_role_deletes_in_each() {
    // The access check asks once for all namespaces first; refused there (no ClusterRole), it must
    // ask namespace by namespace, where the user's Roles allow the deletions.
    let client = client().await;
    let ns = TestNamespace::new(&client, "security-prune-namespaces").await;
    let other = TestNamespace::new(&client, "security-prune-namespaces-b").await;
    let (n, m) = (&ns.name, &other.name);
    let verbs = [CONFIGMAP_VERBS.as_slice(), &["delete"]].concat();
    let rules = json!([rule(&["configmaps"], &verbs)]);
    let user = RestrictedUser::new(&client, n, "deployer", rules.clone()).await;
    user.grant_in(m, "deployer", &rules).await;
    let kubeconfig = user.token_kubeconfig().await;
    let package = Package::new(n, "prune-namespaces");
    let in_namespace = |namespace: &str, name: &str| {
        json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace}, "data": {"key": name},
        })
        .to_string()
    };
    for (namespace, name) in [(n, "stays"), (n, "gone"), (m, "gone")] {
        package.write(&format!("{namespace}-{name}.yaml"), &in_namespace(namespace, name));
    }
    let first = package.run_via(&kubeconfig, "apply", &[]);
    assert_eq!(first.code, 0, "{}", first.output());

    package.remove(&format!("{n}-gone.yaml"));
    package.remove(&format!("{m}-gone.yaml"));
    let pruned = package.run_via(&kubeconfig, "apply", &[]);
    assert_eq!(pruned.code, 0, "{}", pruned.output());
    for namespace in [n, m] {
        assert_contains(&pruned, "prunes in each namespace", &format!("ConfigMap/{namespace}/gone pruned"));
        assert!(live_config_map(&client, namespace, "gone").await.is_none(), "{namespace}/gone was pruned");
    }
    assert!(live_config_map(&client, n, "stays").await.is_some(), "stays was kept");
}

#[tokio::test]
async fn an_exec_plugin_kubeconfig_applies_and_a_failing_plugin_fails_the_run_clearly() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "security-exec").await;
    let n = &ns.name;
    let user =
        RestrictedUser::new(&client, n, "plugin-user", json!([rule(&["configmaps"], &CONFIGMAP_VERBS)]))
            .await;
    let token = user.token().await;
    let marker = user.dir.path().join("plugin-ran");
    let plugin = user.script(
        "credential-plugin",
        "echo ran >> \"$KAPPLY_TEST_MARKER\"\n\
         printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\
         \"status\":{\"token\":\"%s\"}}' \"$KAPPLY_TEST_TOKEN\"\n",
    );
    let kubeconfig = user.exec_kubeconfig(
        "exec.kubeconfig",
        &plugin,
        &[("KAPPLY_TEST_TOKEN", &token), ("KAPPLY_TEST_MARKER", marker.to_str().unwrap())],
    );
    let package = Package::new(n, "exec");
    package.write("a.yaml", &config_map("a", json!({})));
    package.write("b.yaml", &config_map("b", json!({})));

    let applied = package.run_via(&kubeconfig, "apply", &[]);
    assert_eq!(applied.code, 0, "{}", applied.output());
    for name in ["a", "b"] {
        assert!(live_config_map(&client, n, name).await.is_some(), "{name} was applied");
    }
    let runs = std::fs::read_to_string(&marker).expect("the plugin ran and left its marker");
    assert!(runs.lines().count() >= 1, "{runs:?}");

    let failing = user.script("failing-plugin", "echo 'no credentials for you' >&2\nexit 3\n");
    // Its environment carries a credential: kube's own message would print it, kapply's must not.
    let kubeconfig = user.exec_kubeconfig("failing.kubeconfig", &failing, &[("KAPPLY_TEST_TOKEN", &token)]);
    package.write("c.yaml", &config_map("c", json!({})));
    let failed = package.run_via(&kubeconfig, "apply", &[]);
    assert_ne!(failed.code, 0, "{}", failed.output());
    assert_contains(&failed, "names the plugin", "failing-plugin");
    assert_contains(&failed, "says it is authentication", "auth");
    assert_contains(&failed, "shows what the plugin said", "no credentials for you");
    assert!(!failed.output().contains(&token), "the plugin's environment leaked: {}", failed.output());
    assert!(live_config_map(&client, n, "c").await.is_none(), "nothing was applied");
}

#[tokio::test]
async fn token_replaces_the_kubeconfig_credentials_with_a_service_account_s() {
    let client = client().await;
    let home = TestNamespace::new(&client, "security-token-home").await;
    let elsewhere = TestNamespace::new(&client, "security-token-elsewhere").await;
    let user = RestrictedUser::new(
        &client,
        &home.name,
        "token-user",
        json!([rule(&["configmaps"], &CONFIGMAP_VERBS)]),
    )
    .await;
    let token = user.token().await;
    // The admin kubeconfig, with the ServiceAccount's token: its client certificate is not used.
    let package = Package::new(&elsewhere.name, "token");
    package.write("a.yaml", &config_map("a", json!({})));
    let refused = package.apply(&["--token", &token]);
    assert_ne!(refused.code, 0, "{}", refused.output());
    let account = format!("system:serviceaccount:{}:token-user", home.name);
    assert!(refused.output().contains(&account), "the server names the token's user: {}", refused.output());
    assert!(!refused.output().contains(&token), "the token is never printed");
    assert!(live_config_map(&client, &elsewhere.name, "a").await.is_none());

    let at_home = Package::new(&home.name, "token-home");
    at_home.write("a.yaml", &config_map("a", json!({})));
    let applied = at_home.apply(&["--token", &token, "--no-prune"]);
    assert_eq!(applied.code, 0, "{}", applied.output());
    assert!(live_config_map(&client, &home.name, "a").await.is_some());
}
