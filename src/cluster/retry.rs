//! Retries of requests that failed on the way, where a retry cannot do harm.
//!
//! kube's client already retries 429, 503 and 504 (honouring `Retry-After`). What it leaves to its
//! callers are failures of the connection itself — refused while the apiserver restarts, reset or
//! closed mid-request — and the 500 and 502 an apiserver or a load balancer answers when a
//! backend hiccups. Whether retrying is safe depends on the verb:
//!
//! - reads, server-side applies, merge patches of fixed values, deletes with a UID precondition and
//!   replaces with a resourceVersion are idempotent: sending one twice ends in the same state (a
//!   replayed replace or delete fails with 409 or 404, which callers already handle);
//! - a create (POST) is retried only when the request never left (connection refused): a create
//!   that may have reached the server would come back as 409 AlreadyExists.
//!
//! A refused connection is retried longer once the cluster has answered this process: the apiserver
//! was there, so it is restarting. A lone kube-apiserver told to stop (SIGTERM) stops listening at
//! once but exits only once its open watches have drained, up to 60 s later (or when the kubelet's
//! grace period ends, 30 s by default), and then takes seconds to serve again.
//!
//! Errors that persist come back after the last attempt, so they are reported as usual.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How a request may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verb {
    /// Sending it twice does no harm.
    Idempotent,
    /// Sending it twice could do it twice: retried only when it never reached the server.
    Create,
    /// The first request of a new [`Cluster`](super::Cluster) (its discovery): idempotent, but never
    /// retried as through a restart — that another cluster of this process answered says nothing of
    /// this one (a fleet with an unreachable member would wait 96 s instead of 16 s for it).
    FirstContact,
}

/// Attempts at most, with pauses of 200 ms doubling up to [`MAX_PAUSE`]: about 16 s in all, enough
/// for an apiserver that crashed and comes back.
const ATTEMPTS: u32 = 8;
/// Attempts at a request whose connection was refused after the cluster answered: about 96 s in all,
/// a graceful restart's 60 s of drain and its start (see the module documentation).
const ATTEMPTS_WHILE_RESTARTING: u32 = 24;
const FIRST_PAUSE: Duration = Duration::from_millis(200);
const MAX_PAUSE: Duration = Duration::from_secs(5);
/// A 500 or 502 may be a bug that answers the same every time (a failing webhook answers 500):
/// fewer attempts for those.
const ATTEMPTS_ON_SERVER_ERROR: u32 = 3;

/// Set once any request of this process got an answer from the server.
static ANSWERED: AtomicBool = AtomicBool::new(false);

/// Runs `request` until it succeeds, fails in a way a retry cannot fix, or runs out of attempts.
pub(crate) async fn retrying<T, F, Fut>(
    verb: Verb,
    what: &(dyn std::fmt::Display + Sync),
    mut request: F,
) -> kube::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = kube::Result<T>>,
{
    let mut pause = FIRST_PAUSE;
    let mut attempt = 1;
    loop {
        let result = request().await;
        if matches!(result, Ok(_) | Err(kube::Error::Api(_))) {
            ANSWERED.store(true, Ordering::Relaxed);
        }
        match result {
            Err(err) if attempt < attempts_for(&err, verb, ANSWERED.load(Ordering::Relaxed)) => {
                let err = super::error::describe(&err);
                tracing::debug!("{what}: attempt {attempt} failed ({err}); retrying in {pause:?}");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_PAUSE);
                attempt += 1;
            }
            result => return result,
        }
    }
}

/// How many attempts an error allows in all (1: do not retry); `answered`: the server has answered
/// a request of this process before.
fn attempts_for(err: &kube::Error, verb: Verb, answered: bool) -> u32 {
    match failure(err) {
        Failure::Final => 1,
        Failure::ServerError if verb != Verb::Create => ATTEMPTS_ON_SERVER_ERROR,
        Failure::NotSent if answered && verb != Verb::FirstContact => ATTEMPTS_WHILE_RESTARTING,
        Failure::NotSent => ATTEMPTS,
        Failure::Interrupted if verb != Verb::Create => ATTEMPTS,
        Failure::ServerError | Failure::Interrupted => 1,
    }
}

/// What kind of failure an error is, for retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// An answer that a retry would not change (4xx), or a local error.
    Final,
    /// 500 or 502: the server (or a proxy in front of it) failed while handling the request.
    ServerError,
    /// The connection could not be made: the request never reached the server.
    NotSent,
    /// The connection broke or timed out: the request may or may not have been handled.
    Interrupted,
}

fn failure(err: &kube::Error) -> Failure {
    match err {
        kube::Error::Api(status) if matches!(status.code, 500 | 502) => Failure::ServerError,
        kube::Error::Api(_) => Failure::Final,
        kube::Error::HyperError(_) | kube::Error::Service(_) => {
            if refused(err) {
                Failure::NotSent
            } else {
                Failure::Interrupted
            }
        }
        _ => Failure::Final,
    }
}

/// True when the error's chain holds a refused connection: nothing was sent.
fn refused(err: &(dyn std::error::Error + 'static)) -> bool {
    super::error::chain(err)
        .filter_map(|e| e.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;

    fn api(code: u16) -> kube::Error {
        kube::Error::Api(Box::new(Status::failure("boom", "InternalError").with_code(code)))
    }

    fn transport(kind: std::io::ErrorKind) -> kube::Error {
        kube::Error::Service(Box::new(std::io::Error::new(kind, "connection trouble")))
    }

    #[test]
    fn client_errors_are_never_retried() {
        for code in [400, 403, 404, 409, 422] {
            assert_eq!(attempts_for(&api(code), Verb::Idempotent, false), 1, "{code}");
        }
    }

    #[test]
    fn server_errors_are_retried_a_few_times_for_idempotent_requests_only() {
        for code in [500, 502] {
            assert_eq!(attempts_for(&api(code), Verb::Idempotent, false), ATTEMPTS_ON_SERVER_ERROR);
            assert_eq!(attempts_for(&api(code), Verb::Create, false), 1);
        }
    }

    #[test]
    fn a_refused_connection_is_retried_for_every_verb() {
        let err = transport(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(attempts_for(&err, Verb::Create, false), ATTEMPTS);
        assert_eq!(attempts_for(&err, Verb::Idempotent, false), ATTEMPTS);
    }

    #[test]
    fn a_refused_connection_is_retried_through_a_restart_once_the_server_has_answered() {
        let err = transport(std::io::ErrorKind::ConnectionRefused);
        for verb in [Verb::Create, Verb::Idempotent] {
            assert_eq!(attempts_for(&err, verb, true), ATTEMPTS_WHILE_RESTARTING);
        }
        let waited: Duration =
            (1..ATTEMPTS_WHILE_RESTARTING).map(|n| (FIRST_PAUSE * 2u32.pow(n - 1)).min(MAX_PAUSE)).sum();
        assert!(waited > Duration::from_secs(90), "{waited:?}: a 60 s drain and a start");
        // Other failures are retried as before.
        let reset = transport(std::io::ErrorKind::ConnectionReset);
        assert_eq!(attempts_for(&reset, Verb::Idempotent, true), ATTEMPTS);
        assert_eq!(attempts_for(&reset, Verb::Create, true), 1);
        assert_eq!(attempts_for(&api(500), Verb::Idempotent, true), ATTEMPTS_ON_SERVER_ERROR);
    }

    #[test]
    fn a_new_clusters_first_contact_is_not_retried_as_through_a_restart_of_another() {
        let err = transport(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(attempts_for(&err, Verb::FirstContact, true), ATTEMPTS);
        assert_eq!(attempts_for(&api(502), Verb::FirstContact, true), ATTEMPTS_ON_SERVER_ERROR);
        let reset = transport(std::io::ErrorKind::ConnectionReset);
        assert_eq!(attempts_for(&reset, Verb::FirstContact, true), ATTEMPTS);
    }

    #[test]
    fn a_broken_connection_is_retried_only_when_a_replay_is_harmless() {
        let err = transport(std::io::ErrorKind::ConnectionReset);
        assert_eq!(attempts_for(&err, Verb::Idempotent, false), ATTEMPTS);
        assert_eq!(attempts_for(&err, Verb::Create, false), 1);
    }

    #[test]
    fn a_refusal_deep_in_the_error_chain_is_found() {
        #[derive(Debug)]
        struct Wrapper(std::io::Error);
        impl std::fmt::Display for Wrapper {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("client error (Connect)")
            }
        }
        impl std::error::Error for Wrapper {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let inner = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let err = kube::Error::Service(Box::new(Wrapper(inner)));
        assert_eq!(failure(&err), Failure::NotSent);
    }

    #[tokio::test(start_paused = true)]
    async fn retrying_stops_at_the_first_success_and_gives_up_after_the_last_attempt() {
        let mut calls = 0;
        let result = retrying(Verb::Idempotent, &"get x", || {
            calls += 1;
            let outcome = if calls < 3 { Err(api(502)) } else { Ok(calls) };
            async move { outcome }
        })
        .await;
        assert_eq!(result.unwrap(), 3);

        let mut calls = 0;
        let result: kube::Result<()> = retrying(Verb::Idempotent, &"get x", || {
            calls += 1;
            async { Err(api(500)) }
        })
        .await;
        assert!(matches!(result, Err(kube::Error::Api(s)) if s.code == 500));
        assert_eq!(calls, ATTEMPTS_ON_SERVER_ERROR);
    }
}
