//! One line per request: verb, path, status and latency, as `tracing` debug events of the target
//! `kapply::http` (the binary shows them at `-vv`); and the request timeout.
//!
//! The layer sits outermost on kube's client, so it sees each request before the base URL and the
//! credentials are added: it logs the path and query only, never a header or a body (a Secret's data,
//! a token). A request taking longer than the timeout to answer fails with [`RequestTimeout`].

use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use http::{Request, Response};
use tower::{BoxError, Layer, Service};

/// The target of the request lines, for `RUST_LOG=kapply::http=debug`.
pub const TARGET: &str = "kapply::http";

/// Wraps a client's service in [`RequestLog`].
#[derive(Debug, Clone)]
pub(crate) struct RequestLogLayer {
    timeout: Option<Duration>,
}

impl RequestLogLayer {
    pub(crate) fn new(timeout: Option<Duration>) -> Self {
        RequestLogLayer { timeout }
    }
}

impl<S> Layer<S> for RequestLogLayer {
    type Service = RequestLog<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestLog { inner, timeout: self.timeout }
    }
}

/// See the [module documentation](self).
#[derive(Debug, Clone)]
pub(crate) struct RequestLog<S> {
    inner: S,
    timeout: Option<Duration>,
}

/// No answer came within the request timeout.
#[derive(Debug)]
pub struct RequestTimeout(pub Duration);

impl std::fmt::Display for RequestTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no answer within the request timeout ({:?})", self.0)
    }
}

impl std::error::Error for RequestTimeout {}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for RequestLog<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Self::Response, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let method = request.method().clone();
        let path = request.uri().path_and_query().map(ToString::to_string).unwrap_or_default();
        let started = Instant::now();
        let answer = self.inner.call(request);
        let timeout = self.timeout;
        Box::pin(async move {
            let result = match timeout {
                Some(limit) => match tokio::time::timeout(limit, answer).await {
                    Ok(result) => result.map_err(Into::into),
                    Err(_) => Err(Box::new(RequestTimeout(limit)) as BoxError),
                },
                None => answer.await.map_err(Into::into),
            };
            let took = started.elapsed();
            match &result {
                Ok(response) => {
                    tracing::debug!(target: TARGET, "{method} {path} {} {took:.1?}", response.status().as_u16())
                }
                Err(err) => tracing::debug!(target: TARGET, "{method} {path} failed after {took:.1?}: {err}"),
            }
            result
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_request_without_an_answer_in_time_fails_with_the_timeout() {
        let slow = tower::service_fn(|_: Request<()>| async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok::<_, BoxError>(Response::new(()))
        });
        let mut service = RequestLogLayer::new(Some(Duration::from_secs(2))).layer(slow);
        let err = service.call(Request::new(())).await.unwrap_err();
        assert!(err.downcast_ref::<RequestTimeout>().is_some(), "{err}");

        let fast = tower::service_fn(|_: Request<()>| async { Ok::<_, BoxError>(Response::new(())) });
        let mut service = RequestLogLayer::new(Some(Duration::from_secs(2))).layer(fast);
        assert!(service.call(Request::new(())).await.is_ok());
    }
}
