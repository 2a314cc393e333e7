//! What every cluster-facing subcommand shares: reading the manifests, connecting, preparing the run,
//! signals, and printing the event stream.

use std::future::Future;
use std::io::{self, IsTerminal, Write};
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use super::args::{ConnectionArgs, InventoryArgs, ManifestArgs, RunArgs};
use super::exit::Outcome;
use super::inputs::inputs_of_args;
use super::report::Report;
use kapply::Cluster;
use kapply::Error as EngineError;
use kapply::event::{Event, RunOutcome, Summary};
use kapply::inventory::InventoryInfo;
use kapply::manifest::Selector;
use kapply::printers::{self, OutputFormat, PrinterOptions};
use kapply::{EventStream, LoadError, Loader, Set};

/// Runs a subcommand's future on a single-threaded runtime. kapply's work is waiting on the network:
/// the engine's loop is one task, and a second worker thread only adds hand-offs between threads and
/// a second malloc arena. Measured on W3 (10,000 ConfigMaps, no-op re-apply, 2 cores): 15.7–17.2 s
/// and 61 MiB peak RSS, against 18.6–21.4 s and 64 MiB with the multi-threaded runtime.
pub fn block_on(future: impl Future<Output = Outcome>) -> Outcome {
    match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime.block_on(future),
        Err(err) => {
            eprintln!("kapply: cannot start the async runtime: {err}");
            Outcome::Failed
        }
    }
}

/// [`block_on`] for a future with any output, for the few commands that have no run (`version`).
pub fn block_on_value<T>(future: impl Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime starts")
        .block_on(future)
}

/// The output format when `--output` is not given: the live table on a terminal, events otherwise.
pub fn default_format(stdout_is_terminal: bool) -> OutputFormat {
    if stdout_is_terminal { OutputFormat::Table } else { OutputFormat::Events }
}

/// What the first interrupt means, said on stderr — or, under a live table, inside its frame (see
/// [`Output::print_run`]), where the next redraw does not overwrite it.
pub const INTERRUPTED: &str = "kapply: interrupted; finishing the requests in flight and recording the inventory (interrupt again to quit now)";

/// A cancellation token cancelled on the first SIGINT/SIGTERM, said on stderr when `announce`. A second
/// signal exits at once (130): the inventory written before applying still lists every object.
pub fn cancel_on_signals(announce: bool) -> CancellationToken {
    let cancel = CancellationToken::new();
    tokio::spawn({
        let cancel = cancel.clone();
        async move {
            wait_for_signal().await;
            if announce {
                eprintln!("{INTERRUPTED}");
            }
            cancel.cancel();
            wait_for_signal().await;
            // A live table hid the cursor; exiting here skips its cleanup.
            if io::stdout().is_terminal() {
                print!("{}", printers::table::SHOW_CURSOR);
                let _ = io::stdout().flush();
            }
            eprintln!("\nkapply: interrupted twice; quitting");
            std::process::exit(i32::from(Outcome::Interrupted.code()));
        }
    });
    cancel
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// A connected cluster and a loaded set.
pub struct Session {
    pub cluster: Cluster,
    pub set: Set,
}

impl Session {
    /// Reads the manifests, connects, resolves every kind through discovery and prepares the run.
    /// On failure the error is printed and the exit outcome returned: 2 for bad input, 1 otherwise.
    pub async fn open(
        report: &Report,
        manifests: &ManifestArgs,
        connection: &ConnectionArgs,
        inventory: &InventoryArgs,
        selector: Option<&Selector>,
    ) -> Result<Session, Outcome> {
        let paths = manifests.all_paths();
        if manifests.is_empty() {
            report.error(
                "no manifests given; pass files or directories, `-` for standard input, or -k DIR for a \
                 kustomization",
            );
            return Err(Outcome::Usage);
        }
        let inputs = inputs_of_args(manifests).map_err(|err| {
            report.error(&err);
            Outcome::Usage
        })?;
        // Input errors before cluster errors: a misspelt path is reported even without a cluster, in
        // the loader's own words (read offline; paths that exist are read once, by the loader).
        let missing: Vec<kapply::Input> = paths
            .iter()
            .filter(|path| path.as_os_str() != "-" && !path.exists())
            .map(|path| kapply::Input::Path(path.clone()))
            .collect();
        if !missing.is_empty()
            && let Err(errors) = kapply::manifest::read_values(&missing, false)
        {
            let text = clip_lines(&errors.to_string());
            eprintln!("{text}");
            eprintln!(
                "kapply {}: nothing was applied: fix the manifests above and run again",
                report.command
            );
            report.json_line(&text);
            return Err(Outcome::Usage);
        }
        let cluster = Cluster::connect(&connection.connect_options()).await.map_err(|err| {
            report.error(&err.to_string());
            Outcome::Failed
        })?;
        let set = loader(&cluster, manifests, connection, inventory, selector).load(&inputs).await.map_err(
            |err| {
                let text = clip_lines(&err.to_string());
                if let LoadError::Manifests(_) | LoadError::UnservedVersions(_) = &err {
                    eprintln!("{text}");
                    eprintln!(
                        "kapply {}: nothing was applied: fix the manifests above and run again",
                        report.command
                    );
                    report.json_line(&text);
                } else {
                    report.error(&text);
                    super::hints::print_hint(report.command, err.setting());
                }
                if err.is_invalid_input() { Outcome::Usage } else { Outcome::Failed }
            },
        )?;
        Ok(Session { cluster, set })
    }
}

/// The loader the flags ask for: recursion, default namespace, inventory, selector. The one place
/// that maps them, for one cluster and for each of a fleet's.
pub fn loader<'c>(
    cluster: &'c Cluster,
    manifests: &ManifestArgs,
    connection: &ConnectionArgs,
    inventory: &InventoryArgs,
    selector: Option<&Selector>,
) -> Loader<'c> {
    let mut loader = Loader::new(cluster).recursive(manifests.recursive);
    if let Some(namespace) = &connection.namespace {
        loader = loader.namespace(namespace);
    }
    if let Some(id) = &inventory.inventory_id {
        loader = loader.inventory_id(id);
    }
    if let Some(name) = &inventory.inventory_name {
        loader = loader.inventory_name(name);
    }
    if let Some(namespace) = &inventory.inventory_namespace {
        loader = loader.inventory_namespace(namespace);
    }
    if let Some(parent) = &inventory.applyset {
        loader = loader.applyset(parent.clone());
    }
    if let Some(selector) = selector {
        loader = loader.selector(selector.clone());
    }
    loader
}

impl Session {
    /// The cluster and the inventory only (destroy, live status): from the template among the
    /// manifests when some are given, else from the inventory flags alone.
    pub async fn open_inventory(
        report: &Report,
        manifests: &ManifestArgs,
        connection: &ConnectionArgs,
        inventory: &InventoryArgs,
    ) -> Result<(Cluster, InventoryInfo), Outcome> {
        if !manifests.is_empty() {
            let session = Session::open(report, manifests, connection, inventory, None).await?;
            let info = session.set.inventory().clone();
            return Ok((session.cluster, info));
        }
        let cluster = Cluster::connect(&connection.connect_options()).await.map_err(|err| {
            report.error(&err.to_string());
            Outcome::Failed
        })?;
        let info = inventory_from_flags(&cluster, connection, inventory).map_err(|err| {
            report.error(&err.to_string());
            super::hints::print_hint(report.command, err.setting());
            Outcome::Usage
        })?;
        Ok((cluster, info))
    }
}

/// The inventory the flags name, without manifests (destroy, live status): `--inventory-id` or
/// `--inventory-name` (or `--applyset`), in `--inventory-namespace`, else `-n`, else the context's
/// namespace. One lookup for one cluster and for each member of a fleet, so both find the same
/// inventory; the mapping itself is the library's ([`kapply::engine::InventoryFlags::info`]), as
/// for a run with manifests.
pub fn inventory_from_flags(
    cluster: &Cluster,
    connection: &ConnectionArgs,
    inventory: &InventoryArgs,
) -> Result<InventoryInfo, kapply::Error> {
    let namespace = inventory.inventory_namespace.clone().or_else(|| connection.namespace.clone());
    let flags = kapply::engine::InventoryFlags {
        id: inventory.inventory_id.clone(),
        name: inventory.inventory_name.clone(),
        namespace,
        applyset: inventory.applyset.clone(),
    };
    flags.info(cluster.default_namespace())
}

/// When set, every run checks its event stream against [`kapply::event::check_order`] and fails
/// (exit 1) on a violation: the end-to-end tests set it for every kapply they run.
pub const CHECK_EVENT_ORDER: &str = "KAPPLY_CHECK_EVENT_ORDER";

/// Prints the event stream of a run on stdout and turns its result into an exit outcome.
pub struct Output {
    printer: Box<dyn printers::Printer>,
    /// The first write error; a closed pipe stops printing, not the run.
    error: Option<io::Error>,
    /// How often to call the printer's heartbeat; None: never.
    heartbeat: Option<Duration>,
    live: bool,
}

/// How often a live table is ticked.
pub const LIVE_TICK: Duration = Duration::from_millis(250);

impl Output {
    pub fn new(format: OutputFormat, run: &RunArgs) -> Self {
        let stdout = io::stdout();
        let options = PrinterOptions {
            preview: None,
            status_events: run.status_events,
            live: format == OutputFormat::Table && stdout.is_terminal(),
            width: None,
            timestamps: run.timestamps,
        };
        let live = options.live;
        // A live table ticks often (elapsed time, throttled redraws); the events printer every
        // --heartbeat.
        let heartbeat =
            if live { Some(LIVE_TICK) } else { Some(run.heartbeat).filter(|period| !period.is_zero()) };
        Output { printer: printers::printer_for(format, stdout, options), error: None, heartbeat, live }
    }

    /// The output is a live table: notices go into it, not to stderr.
    pub fn live(&self) -> bool {
        self.live
    }

    /// Prints every event of `events` as it arrives, stops the printer and maps the run's result to an
    /// exit outcome, reporting an aborted run. Every `--heartbeat` without an event, the printer's
    /// heartbeat: the timer lives here, beside the stream, so the library's events stay what happened.
    ///
    /// When `cancel` fires, a live table is told so ([`INTERRUPTED`], in its frame); the signal handler
    /// said it on stderr for every other output.
    pub async fn print_run(
        mut self,
        command: &str,
        mut events: EventStream,
        cancel: &CancellationToken,
    ) -> Outcome {
        let mut summary: Option<Summary> = None;
        // The test suite checks every run's stream against the ordering contract (docs/architecture.md).
        let mut recorded = std::env::var_os(CHECK_EVENT_ORDER).map(|_| Vec::new());
        let started = Instant::now();
        // A period of a day stands for "never": no branch of the loop needs to be optional.
        let period = self.heartbeat.unwrap_or(Duration::from_secs(86_400));
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut noticed = false;
        loop {
            let item = tokio::select! {
                item = events.next() => item,
                _ = ticks.tick(), if self.heartbeat.is_some() => {
                    self.beat(started.elapsed());
                    continue;
                }
                _ = cancel.cancelled(), if self.live && !noticed => {
                    noticed = true;
                    if self.error.is_none() && let Err(err) = self.printer.notice(INTERRUPTED) {
                        self.error = Some(err);
                    }
                    continue;
                }
            };
            let Some(item) = item else { break };
            match item {
                Ok(mut event) => {
                    event.name_settings(&super::hints::flags());
                    if let Event::Summary(last) = &event {
                        summary = Some(last.clone());
                    }
                    self.event(&event);
                    if let Some(recorded) = &mut recorded {
                        recorded.push(event);
                    }
                }
                Err(err) => return self.abort(command, &err),
            }
        }
        if let Some(violation) = recorded.and_then(|events| kapply::event::check_order(&events).err()) {
            eprintln!("kapply {command}: the event stream breaks its ordering contract: {violation}");
            return Outcome::Failed;
        }
        let outcome = summary.as_ref().map_or(Outcome::Failed, outcome_of);
        let finished = self.printer.finish().and_then(|()| io::stdout().flush());
        match self.error.or(finished.err()) {
            Some(err) if err.kind() != io::ErrorKind::BrokenPipe => {
                eprintln!("kapply {command}: cannot write output: {err}");
                Outcome::Failed
            }
            _ => outcome,
        }
    }

    fn beat(&mut self, elapsed: Duration) {
        if self.error.is_none()
            && let Err(err) = self.printer.heartbeat(elapsed)
        {
            self.error = Some(err);
        }
    }

    /// A run that failed as a whole: the printer reports it, and so does stderr.
    fn abort(mut self, command: &str, err: &EngineError) -> Outcome {
        let _ = self.printer.error(&err.to_string());
        let _ = self.printer.finish();
        eprintln!("kapply {command}: {}", clip_lines(&err.to_string()));
        super::hints::print_hint(command, err.setting());
        if err.is_invalid_input() { Outcome::Usage } else { Outcome::Failed }
    }

    fn event(&mut self, event: &Event) {
        if self.error.is_none()
            && let Err(err) = self.printer.print(event)
        {
            self.error = Some(err);
        }
    }
}

/// Error text with every line cut to a readable length, keeping its start and its end (where the
/// explanation usually is): an error quoting a 20 MB input must not print it back.
pub fn clip_lines(text: &str) -> String {
    const HEAD: usize = 1500;
    const TAIL: usize = 500;
    text.lines()
        .map(|line| {
            let chars = line.chars().count();
            if chars <= HEAD + TAIL {
                return line.to_owned();
            }
            let head: String = line.chars().take(HEAD).collect();
            let tail: String = line.chars().skip(chars - TAIL).collect();
            format!("{head}… ({} characters elided) …{tail}", chars - HEAD - TAIL)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The exit outcome of a finished run, from its summary.
pub fn outcome_of(summary: &Summary) -> Outcome {
    match summary.outcome() {
        RunOutcome::Success => Outcome::Success,
        RunOutcome::Failed => Outcome::Failed,
        RunOutcome::Timeout => Outcome::Timeout,
        RunOutcome::ObjectFailed => Outcome::ObjectFailed,
        RunOutcome::Interrupted => Outcome::Interrupted,
        // An outcome this binary does not know yet is no success.
        _ => Outcome::Failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_error_line_keeps_its_start_and_its_explanation() {
        let line = format!("file.yaml:4: name \"{}\" is not a valid name", "x".repeat(1_000_000));
        let clipped = clip_lines(&line);
        assert!(clipped.len() < 3000, "{}", clipped.len());
        assert!(clipped.starts_with("file.yaml:4: name"));
        assert!(clipped.ends_with("is not a valid name"));
        assert_eq!(clip_lines("short\nlines"), "short\nlines");
    }
}
