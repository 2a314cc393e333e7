//! How a [`Cluster`](super::Cluster) is reached: the kubeconfig found by kubectl's rules, the
//! kubectl-style overrides (`--server`, `--token`, impersonation, `--insecure-skip-tls-verify`,
//! `--request-timeout`), and the first contact, retried a bounded and visible number of times.
//!
//! Every failure here says what was tried and what to do: which kubeconfig paths were looked at, which
//! contexts exist, which server at which context did not answer.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use super::error::{self, ClusterError, Result};
use super::http_log::RequestLogLayer;

/// How to reach the cluster, by kubectl's rules: by default `$KUBECONFIG`, then `~/.kube/config`,
/// then the in-cluster service account, at the kubeconfig's current context; each setting below
/// overrides one part of that, as the kubectl flag of the same name does.
#[derive(Clone, Default)]
#[must_use]
pub struct ConnectOptions {
    kubeconfig: Option<PathBuf>,
    context: Option<String>,
    server: Option<String>,
    token: Option<String>,
    impersonate: Option<String>,
    impersonate_groups: Vec<String>,
    insecure_skip_tls_verify: bool,
    request_timeout: Option<Duration>,
}

/// The token is never shown.
impl fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("kubeconfig", &self.kubeconfig)
            .field("context", &self.context)
            .field("server", &self.server)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("impersonate", &self.impersonate)
            .field("impersonate_groups", &self.impersonate_groups)
            .field("insecure_skip_tls_verify", &self.insecure_skip_tls_verify)
            .field("request_timeout", &self.request_timeout)
            .finish()
    }
}

impl ConnectOptions {
    /// Read this kubeconfig file instead of `$KUBECONFIG` / `~/.kube/config` / in-cluster.
    pub fn kubeconfig(mut self, path: impl Into<PathBuf>) -> Self {
        self.kubeconfig = Some(path.into());
        self
    }

    /// Use this context of the kubeconfig instead of its current one.
    pub fn context(mut self, name: impl Into<String>) -> Self {
        self.context = Some(name.into());
        self
    }

    /// The API server's URL, instead of the context's cluster's (`kubectl --server`). With no
    /// kubeconfig at all, this alone is enough to connect (anonymously, or with [`Self::token`]).
    pub fn server(mut self, url: impl Into<String>) -> Self {
        self.server = Some(url.into());
        self
    }

    /// A bearer token to authenticate with, instead of the kubeconfig user's credentials (`kubectl
    /// --token`): its client certificate, exec plugin, token or password are then not used. Never
    /// logged nor shown by `Debug`.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Act as this user (`kubectl --as`): every request carries an `Impersonate-User` header, which
    /// the server honours only if the kubeconfig user may impersonate.
    pub fn impersonate(mut self, user: impl Into<String>) -> Self {
        self.impersonate = Some(user.into());
        self
    }

    /// Act as a member of these groups too (`kubectl --as-group`, repeatable).
    pub fn impersonate_groups(mut self, groups: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.impersonate_groups = groups.into_iter().map(Into::into).collect();
        self
    }

    /// Do not verify the server's certificate (`kubectl --insecure-skip-tls-verify`). Off by default,
    /// and it should stay off: anyone on the path can then read and change every request.
    pub fn insecure_skip_tls_verify(mut self, insecure: bool) -> Self {
        self.insecure_skip_tls_verify = insecure;
        self
    }

    /// How long to wait for the server to answer a request (its response headers; a watch's stream
    /// may then last longer) and for a connection to be made (`kubectl --request-timeout`).
    /// Default: no limit beyond kube's 30 s to connect.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = Some(timeout);
        self
    }

    /// The namespace of the kubeconfig context these options select, read offline (no connection):
    /// what `kapply init` and namespace defaulting use. `default` when there is no kubeconfig, the
    /// context is not found, or it names no namespace — as kubectl does.
    pub fn context_namespace(&self) -> String {
        self.context_namespace_and_origin().0
    }

    /// [`Self::context_namespace`] and where it came from, in words (`context "dev" of
    /// /home/me/.kube/config`, or why `default` was used), for messages such as `kapply init`'s.
    pub fn context_namespace_and_origin(&self) -> (String, String) {
        let Ok((kubeconfig, files)) = self.read_kubeconfig() else {
            return ("default".to_owned(), "`default`, as no kubeconfig was found".to_owned());
        };
        let files = display_paths(&files);
        let Some(name) = self.context.clone().or(kubeconfig.current_context) else {
            return ("default".to_owned(), format!("`default`, as {files} names no current context"));
        };
        let Some(context) = kubeconfig.contexts.into_iter().find(|c| c.name == name) else {
            return ("default".to_owned(), format!("`default`, as context {name:?} is not in {files}"));
        };
        let namespace = context.context.and_then(|c| c.namespace).filter(|ns| !ns.is_empty());
        match namespace {
            Some(ns) => (ns, format!("the namespace of context {name:?} in {files}")),
            None => (
                "default".to_owned(),
                format!("`default`, as context {name:?} in {files} names no namespace"),
            ),
        }
    }

    /// The kubeconfig files kubectl's rules look at, in order: `--kubeconfig`, else the entries of
    /// `$KUBECONFIG`, else `~/.kube/config`.
    fn candidate_paths(&self) -> Vec<PathBuf> {
        if let Some(path) = &self.kubeconfig {
            return vec![path.clone()];
        }
        if let Some(value) = std::env::var_os("KUBECONFIG") {
            let paths: Vec<PathBuf> =
                std::env::split_paths(&value).filter(|p| !p.as_os_str().is_empty()).collect();
            if !paths.is_empty() {
                return paths;
            }
        }
        std::env::home_dir().map(|home| home.join(".kube").join("config")).into_iter().collect()
    }

    /// The kubeconfig, merged from the files that exist (kubectl skips missing `$KUBECONFIG` entries;
    /// `--kubeconfig` must exist), and the files read. `Err(None)` when there is none at all, else
    /// the reason it is unusable (for [`ClusterError::Config`]).
    fn read_kubeconfig(&self) -> std::result::Result<(Kubeconfig, Vec<PathBuf>), Option<String>> {
        let candidates = self.candidate_paths();
        if let Some(path) = &self.kubeconfig
            && !path.exists()
        {
            return Err(Some(format!(
                "{} does not exist; pass the path of a kubeconfig file to --kubeconfig",
                path.display()
            )));
        }
        let existing: Vec<PathBuf> = candidates.into_iter().filter(|p| p.exists()).collect();
        if existing.is_empty() {
            return Err(None);
        }
        let mut merged = Kubeconfig::default();
        for path in &existing {
            let config =
                Kubeconfig::read_from(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            merged = merged.merge(config).map_err(|e| e.to_string())?;
        }
        Ok((merged, existing))
    }

    /// kube's client configuration for these options, and the context it uses (None in-cluster or
    /// with `--server` alone).
    async fn config(&self) -> Result<(Config, Option<String>)> {
        // Through `describe`: an exec plugin's failure must not print the plugin's environment.
        let config_error = |e: &(dyn std::error::Error + 'static)| ClusterError::Config(error::describe(e));
        let (mut config, context) = match self.read_kubeconfig() {
            Ok((kubeconfig, files)) => {
                let context = self.context.clone().or_else(|| kubeconfig.current_context.clone());
                if let Some(name) = &context
                    && !kubeconfig.contexts.iter().any(|c| &c.name == name)
                {
                    let known: Vec<&str> = kubeconfig.contexts.iter().map(|c| c.name.as_str()).collect();
                    let known = if known.is_empty() {
                        "it has none".to_owned()
                    } else {
                        format!("it has: {}", known.join(", "))
                    };
                    return Err(ClusterError::Config(format!(
                        "context {name:?} is not in {} ({known}); pick one with --context",
                        display_paths(&files)
                    )));
                }
                let options = KubeConfigOptions { context: context.clone(), ..KubeConfigOptions::default() };
                let config = match (&self.server, Config::from_custom_kubeconfig(kubeconfig, &options).await)
                {
                    (_, Ok(config)) => config,
                    // A context without a usable cluster is fine when --server names the server.
                    (Some(server), Err(_)) if context.is_none() => {
                        Config::new(parse_server(server).map_err(|e| *e)?)
                    }
                    (_, Err(e)) => return Err(config_error(&e)),
                };
                (config, context)
            }
            Err(Some(reason)) => return Err(ClusterError::Config(reason)),
            Err(None) => match &self.server {
                Some(server) => (Config::new(parse_server(server).map_err(|e| *e)?), None),
                None => (Config::incluster().map_err(|_| self.no_kubeconfig())?, None),
            },
        };
        if let Some(server) = &self.server {
            config.cluster_url = parse_server(server).map_err(|e| *e)?;
        }
        if let Some(token) = &self.token {
            let auth = &mut config.auth_info;
            auth.token = Some(token.clone().into());
            auth.token_file = None;
            auth.exec = None;
            auth.auth_provider = None;
            auth.username = None;
            auth.password = None;
            // A client certificate would authenticate first (the apiserver tries x509 before
            // tokens): the token is to be the only credential.
            auth.client_certificate = None;
            auth.client_certificate_data = None;
            auth.client_key = None;
            auth.client_key_data = None;
        }
        if let Some(user) = &self.impersonate {
            config.auth_info.impersonate = Some(user.clone());
        }
        if !self.impersonate_groups.is_empty() {
            config.auth_info.impersonate_groups = Some(self.impersonate_groups.clone());
        }
        if self.insecure_skip_tls_verify {
            config.accept_invalid_certs = true;
        }
        if let Some(timeout) = self.request_timeout {
            config.connect_timeout = Some(config.connect_timeout.map_or(timeout, |t| t.min(timeout)));
        }
        Ok((config, context))
    }

    /// Neither a kubeconfig nor an in-cluster service account: every place looked at, spelt out.
    fn no_kubeconfig(&self) -> ClusterError {
        let kubeconfig = match std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
            Some(value) => format!("$KUBECONFIG ({}: none exists)", value.to_string_lossy()),
            None => {
                let home = std::env::home_dir()
                    .map(|home| home.join(".kube").join("config").display().to_string())
                    .unwrap_or_else(|| "~/.kube/config (no home directory is known)".to_owned());
                format!("$KUBECONFIG (not set), {home} (does not exist)")
            }
        };
        ClusterError::Config(format!(
            "no kubeconfig found: looked at {kubeconfig}, and the in-cluster service account \
             (KUBERNETES_SERVICE_HOST is not set); point kapply at a cluster with --kubeconfig FILE, \
             the KUBECONFIG environment variable, or --server URL"
        ))
    }

    /// A client for these options, every request logged (`kapply::http`, debug) and bounded by the
    /// request timeout; the server's URL and the context, for messages.
    pub(super) async fn client(&self) -> Result<(Client, String, Option<String>)> {
        let (config, context) = self.config().await?;
        let server = config.cluster_url.to_string();
        let server = server.trim_end_matches('/').to_owned();
        let builder = kube::client::ClientBuilder::try_from(config)
            .map_err(|e| ClusterError::Config(error::describe(&e)))?;
        let client = builder.with_layer(&RequestLogLayer::new(self.request_timeout)).build();
        Ok((client, server, context))
    }
}

/// The `--server` URL; the error is a [`ClusterError::Config`] (boxed: clippy's large-error rule).
fn parse_server(server: &str) -> std::result::Result<http::Uri, Box<ClusterError>> {
    server.parse::<http::Uri>().map_err(|e| {
        Box::new(ClusterError::Config(format!(
            "--server {server:?} is not a URL ({e}); e.g. https://10.0.0.1:6443"
        )))
    })
}

/// `a.yaml` or `a.yaml, b.yaml`.
fn display_paths(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

impl ConnectOptions {
    /// The server's version (`gitVersion`, e.g. `v1.33.1`) from one `GET /version`, without
    /// discovery nor retries: what `kapply version` shows. Bounded by the request timeout when set.
    ///
    /// # Errors
    /// No kubeconfig, a bad one, or no answer ([`ClusterError::Unreachable`]).
    pub async fn server_version(&self) -> Result<String> {
        let (client, server, context) = self.client().await?;
        match client.apiserver_version().await {
            Ok(info) => Ok(info.git_version),
            Err(kube::Error::Api(status)) => Err(ClusterError::Config(format!(
                "{server} refused to tell its version: {} ({})",
                status.message, status.code
            ))),
            Err(err) if is_auth(&err) => Err(ClusterError::Config(error::describe(&err))),
            Err(err) => Err(ClusterError::Unreachable { server, context, attempts: 1, cause: cause(&err) }),
        }
    }
}

/// Attempts at the first request before giving up on an unreachable server, with pauses of 1 s
/// doubling: a few seconds, each failure shown (a warning), rather than the 16 s of silent retries a
/// request gets once the server has answered.
pub(super) const FIRST_CONTACT_ATTEMPTS: u32 = 3;

/// The first request (`GET /version`): the server's version, or why it did not answer. Retried
/// [`FIRST_CONTACT_ATTEMPTS`] times when no answer came, each retry announced; an answer that is an
/// error (401, 403: `/version` is usually public) is left to discovery to report.
pub(super) async fn first_contact(
    client: &Client,
    server: &str,
    context: Option<&str>,
) -> Result<Option<k8s_openapi::apimachinery::pkg::version::Info>> {
    let mut pause = Duration::from_secs(1);
    let mut attempt = 1;
    loop {
        match client.apiserver_version().await {
            Ok(info) => return Ok(Some(info)),
            Err(kube::Error::Api(_)) => return Ok(None),
            // The credentials could not be had (an exec plugin failed): no retry cures that, and the
            // server is not to blame.
            Err(err) if is_auth(&err) => {
                return Err(ClusterError::Config(error::describe(&err)));
            }
            Err(err) if attempt < FIRST_CONTACT_ATTEMPTS => {
                tracing::warn!(
                    "cannot reach the API server {server}: {}; retrying in {}s (attempt {attempt} of {FIRST_CONTACT_ATTEMPTS})",
                    cause(&err),
                    pause.as_secs()
                );
                tokio::time::sleep(pause).await;
                pause *= 2;
                attempt += 1;
            }
            Err(err) => {
                return Err(ClusterError::Unreachable {
                    server: server.to_owned(),
                    context: context.map(str::to_owned),
                    attempts: attempt,
                    cause: cause(&err),
                });
            }
        }
    }
}

/// The innermost cause of a transport error, where the words that help are ("Connection refused",
/// "certificate is not valid"), after kube's and hyper's wrappers ("client error (Connect)").
/// Never an exec plugin's own message (it may carry credentials): [`error::describe`] alone then.
fn cause(err: &kube::Error) -> String {
    let described = error::describe(err);
    if is_auth(err) {
        return described;
    }
    let innermost = error::chain(err).last().map(ToString::to_string).unwrap_or_default();
    if innermost.is_empty() || described.contains(&innermost) {
        described
    } else {
        format!("{described}: {innermost}")
    }
}

/// True when the error comes from getting credentials (an exec plugin, a token file).
fn is_auth(err: &kube::Error) -> bool {
    error::chain(err).any(|e| e.downcast_ref::<kube::client::AuthError>().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cause_of_a_failed_plugin_never_shows_its_environment() {
        use std::os::unix::process::ExitStatusExt;
        let out = std::process::Output {
            status: std::process::ExitStatus::from_raw(1 << 8),
            stdout: b"t0ken".to_vec(),
            stderr: b"no".to_vec(),
        };
        let err = kube::Error::Auth(kube::client::AuthError::AuthExecRun {
            cmd: r#"SECRET="s3cret" "/bin/plugin""#.into(),
            out: Box::new(out),
        });
        assert!(is_auth(&err));
        let text = cause(&err);
        assert!(
            text.contains("/bin/plugin") && !text.contains("s3cret") && !text.contains("t0ken"),
            "{text}"
        );
    }

    #[test]
    fn a_transport_error_names_its_innermost_cause() {
        let inner = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        let err = kube::Error::Service(Box::new(inner));
        assert!(!is_auth(&err));
        assert!(cause(&err).contains("Connection refused"), "{}", cause(&err));
    }

    #[test]
    fn the_token_is_not_in_the_debug_form() {
        let options = ConnectOptions::default().token("s3cr3t").server("https://10.0.0.1:6443");
        let debug = format!("{options:?}");
        assert!(!debug.contains("s3cr3t") && debug.contains("<redacted>"), "{debug}");
    }

    #[test]
    fn a_server_that_is_no_url_is_refused_naming_it() {
        let err = parse_server("not a url").unwrap_err();
        assert!(err.to_string().contains("\"not a url\" is not a URL"), "{err}");
    }
}
