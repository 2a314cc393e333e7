//! A fault-injecting proxy in front of the real apiserver, for the API-fault tests.
//!
//! It listens on loopback over plain HTTP (kapply reaches it through a kubeconfig of its own) and
//! forwards every request to the test control plane with the admin credentials, streaming the answer
//! back (watches included). [`Rule`]s turn chosen requests into faults instead: a 429 with
//! `Retry-After`, any status, a reset connection, a delay, or an outage — every open stream cut and
//! the port closed for a while, which is what a client sees while the apiserver restarts.
//!
//! Every request is logged with the fault it got, so a test can prove the faults really happened. It
//! can also SIGKILL a process when its N-th request arrives: a crash at an exact point of a run.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, BodyStream, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tempfile::TempDir;
use tokio::net::TcpSocket;
use tokio::sync::watch;

use crate::support::client;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type ProxyBody = UnsyncBoxBody<Bytes, BoxError>;

/// What a matching request gets instead of the apiserver's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 429 Too Many Requests with `Retry-After: <seconds>`.
    TooManyRequests { retry_after_secs: u64 },
    /// An error status (500, 502, 503…) with a Kubernetes Status body.
    Status(u16),
    /// The connection is closed without an answer.
    Reset,
    /// The request is forwarded after a pause.
    Delay(Duration),
    /// The request is refused, every open stream is cut and the port stays closed this long.
    Outage(Duration),
}

/// Requests with `method` (any when None) whose path and query contain every one of `contains` get
/// `fault`, the first `times` times.
#[derive(Debug, Clone)]
pub struct Rule {
    pub method: Option<Method>,
    pub contains: Vec<String>,
    pub fault: Fault,
    pub times: usize,
}

impl Rule {
    pub fn new(method: Option<Method>, contains: &[&str], fault: Fault, times: usize) -> Self {
        Rule { method, contains: contains.iter().map(|s| s.to_string()).collect(), fault, times }
    }

    fn matches(&self, method: &Method, path: &str) -> bool {
        self.times > 0
            && self.method.as_ref().is_none_or(|m| m == method)
            && self.contains.iter().all(|needle| path.contains(needle.as_str()))
    }
}

/// One request the proxy saw.
#[derive(Debug, Clone)]
pub struct Served {
    pub method: Method,
    pub path: String,
    pub at: Instant,
    /// The fault it got: None when forwarded untouched (or refused by an outage: see `refused`).
    pub fault: Option<Fault>,
    /// True when it arrived during an outage and was dropped.
    pub refused: bool,
}

struct Shared {
    rules: Mutex<Vec<Rule>>,
    log: Mutex<Vec<Served>>,
    /// When the current outage ends.
    outage_until: Mutex<Option<Instant>>,
    /// Bumped at the start of each outage: every streaming answer ends with an error on a change.
    outages: watch::Sender<u64>,
    /// Requests seen, and the process to SIGKILL when their number reaches the first field.
    count: Mutex<usize>,
    kill: Mutex<Option<(usize, u32)>>,
}

impl Shared {
    fn in_outage(&self) -> bool {
        self.outage_until.lock().unwrap().is_some_and(|until| Instant::now() < until)
    }

    fn start_outage(&self, duration: Duration) {
        *self.outage_until.lock().unwrap() = Some(Instant::now() + duration);
        self.outages.send_modify(|n| *n += 1);
    }

    /// The fault for this request (using one of its rule's `times`), and the log entry. Kills the
    /// process of [`FaultProxy::kill_after`] when this is its request; the request still goes on, as
    /// one sent just before a crash does.
    fn admit(&self, method: &Method, path: &str) -> (Option<Fault>, bool) {
        let count = {
            let mut count = self.count.lock().unwrap();
            *count += 1;
            *count
        };
        let mut kill = self.kill.lock().unwrap();
        if let Some((at, pid)) = *kill
            && count >= at
        {
            *kill = None;
            let killed = std::process::Command::new("kill").args(["-KILL", &pid.to_string()]).status();
            assert!(killed.is_ok_and(|s| s.success()), "could not SIGKILL process {pid}");
        }
        drop(kill);
        let refused = self.in_outage();
        let fault = if refused {
            None
        } else {
            let mut rules = self.rules.lock().unwrap();
            rules.iter_mut().find(|rule| rule.matches(method, path)).map(|rule| {
                rule.times -= 1;
                rule.fault
            })
        };
        self.log.lock().unwrap().push(Served {
            method: method.clone(),
            path: path.to_owned(),
            at: Instant::now(),
            fault,
            refused,
        });
        (fault, refused)
    }
}

/// A running proxy; stopped when dropped.
pub struct FaultProxy {
    shared: Arc<Shared>,
    kubeconfig: PathBuf,
    _dir: TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FaultProxy {
    /// Starts a proxy with these rules, on a thread (and runtime) of its own, so that a test may block
    /// on the kapply process while the proxy serves it.
    pub fn start(rules: Vec<Rule>) -> Self {
        let (outages, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            rules: Mutex::new(rules),
            log: Mutex::new(Vec::new()),
            outage_until: Mutex::new(None),
            outages,
            count: Mutex::new(0),
            kill: Mutex::new(None),
        });
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let thread = {
            let shared = shared.clone();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("proxy runtime");
                rt.block_on(serve(shared, ready_tx, stopped));
            })
        };
        let addr = ready_rx.recv().expect("the fault proxy starts");
        let dir = TempDir::new().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(&kubeconfig, proxy_kubeconfig(addr)).unwrap();
        FaultProxy { shared, kubeconfig, _dir: dir, stop: Some(stop), thread: Some(thread) }
    }

    /// A kubeconfig that reaches the apiserver through this proxy.
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// Every request seen so far.
    pub fn served(&self) -> Vec<Served> {
        self.shared.log.lock().unwrap().clone()
    }

    /// How many requests got `fault`.
    pub fn injected(&self, fault: Fault) -> usize {
        self.served().iter().filter(|s| s.fault == Some(fault)).count()
    }

    /// SIGKILLs process `pid` when the `requests`-th request from now arrives.
    pub fn kill_after(&self, requests: usize, pid: u32) {
        let count = *self.shared.count.lock().unwrap();
        *self.shared.kill.lock().unwrap() = Some((count + requests, pid));
    }

    /// The rules' remaining `times`, in order: all zero once every planned fault was injected.
    pub fn remaining(&self) -> Vec<usize> {
        self.shared.rules.lock().unwrap().iter().map(|r| r.times).collect()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn proxy_kubeconfig(addr: SocketAddr) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: fault-proxy\n  cluster:\n    server: http://{addr}\n\
         users:\n- name: anonymous-to-the-proxy\n  user: {{}}\ncontexts:\n- name: fault-proxy\n  context:\n    \
         cluster: fault-proxy\n    user: anonymous-to-the-proxy\n    namespace: default\n\
         current-context: fault-proxy\n"
    )
}

/// Accepts connections until stopped. During an outage the listening socket is closed, so that
/// connections are refused as they are by an apiserver that is restarting, and opened again on the
/// same port afterwards.
async fn serve(
    shared: Arc<Shared>,
    ready: std::sync::mpsc::Sender<SocketAddr>,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let upstream = client().await;
    let mut addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let mut first = true;
    loop {
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        socket.bind(addr).unwrap_or_else(|e| panic!("the fault proxy cannot listen on {addr}: {e}"));
        let listener = socket.listen(128).unwrap();
        if first {
            addr = listener.local_addr().unwrap();
            ready.send(addr).unwrap();
            first = false;
        }
        let mut outages = shared.outages.subscribe();
        loop {
            tokio::select! {
                _ = &mut stopped => return,
                _ = outages.changed() => break,
                accepted = listener.accept() => {
                    let Ok((tcp, _)) = accepted else { continue };
                    let (shared, upstream) = (shared.clone(), upstream.clone());
                    let service = service_fn(move |req| handle(shared.clone(), upstream.clone(), req));
                    tokio::spawn(
                        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tcp), service),
                    );
                }
            }
        }
        drop(listener);
        let until = shared.outage_until.lock().unwrap().unwrap_or_else(Instant::now);
        tokio::select! {
            _ = &mut stopped => return,
            () = tokio::time::sleep_until(until.into()) => {}
        }
    }
}

async fn handle(
    shared: Arc<Shared>,
    upstream: kube::Client,
    req: Request<Incoming>,
) -> Result<Response<ProxyBody>, BoxError> {
    let method = req.method().clone();
    let path = req.uri().path_and_query().map(|pq| pq.as_str().to_owned()).unwrap_or_default();
    let (fault, refused) = shared.admit(&method, &path);
    if refused {
        return Err("refused: the proxy is in an outage".into());
    }
    match fault {
        Some(Fault::TooManyRequests { retry_after_secs }) => {
            let mut response = status_response(429, "TooManyRequests");
            response.headers_mut().insert("Retry-After", retry_after_secs.to_string().parse().unwrap());
            return Ok(response);
        }
        Some(Fault::Status(code)) => return Ok(status_response(code, "InternalError")),
        Some(Fault::Reset) => return Err("reset by the fault proxy".into()),
        Some(Fault::Outage(duration)) => {
            shared.start_outage(duration);
            return Err("outage started by the fault proxy".into());
        }
        Some(Fault::Delay(pause)) => tokio::time::sleep(pause).await,
        None => {}
    }
    forward(&shared, upstream, req).await
}

/// Sends the request on to the apiserver and streams its answer back, cut by the next outage.
async fn forward(
    shared: &Shared,
    upstream: kube::Client,
    req: Request<Incoming>,
) -> Result<Response<ProxyBody>, BoxError> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await?.to_bytes();
    let mut onward = Request::builder()
        .method(parts.method)
        .uri(parts.uri.path_and_query().map(|pq| pq.as_str()).unwrap_or("/"));
    for (name, value) in &parts.headers {
        if !matches!(name.as_str(), "host" | "connection" | "content-length" | "transfer-encoding") {
            onward = onward.header(name, value);
        }
    }
    let onward = onward.body(kube::client::Body::from(body.to_vec()))?;
    let answer = upstream.send(onward).await?;
    let (parts, body) = answer.into_parts();
    let frames = Box::pin(BodyStream::new(body).map(|frame| frame.map_err(BoxError::from)));
    let outages = shared.outages.subscribe();
    let cut = futures::stream::unfold(Some((frames, outages)), |state| async move {
        let (mut frames, mut outages) = state?;
        tokio::select! {
            frame = frames.next() => frame.map(|frame| (frame, Some((frames, outages)))),
            _ = outages.changed() => Some((Err::<Frame<Bytes>, BoxError>("cut by an outage".into()), None)),
        }
    });
    Ok(Response::from_parts(parts, BodyExt::boxed_unsync(StreamBody::new(cut))))
}

/// An error answer with a Kubernetes Status body, as the apiserver writes it.
fn status_response(code: u16, reason: &str) -> Response<ProxyBody> {
    let body = serde_json::json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": format!("injected by the fault proxy ({code})"), "reason": reason, "code": code,
    });
    let body =
        Full::new(Bytes::from(body.to_string())).map_err(|never: Infallible| match never {}).boxed_unsync();
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::from_u16(code).unwrap();
    response.headers_mut().insert("Content-Type", "application/json".parse().unwrap());
    response
}
