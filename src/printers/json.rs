//! The JSON printer: one JSON object per line, for machines.
//!
//! Entry point: [`JsonPrinter::new`] (or [`JsonPrinter::with_clock`] to fix the timestamps). Every
//! line has `timestamp` (RFC 3339, UTC, milliseconds) and `type`, one of `plan`, `apply`, `status`, `blocked`,
//! `reconcile`, `prune`, `delete`, `warning`, `inventory`, `summary`, `error`. Objects are named by
//! four always-present string fields `group`, `kind`, `namespace`, `name` (`""` for the core group
//! and for cluster-scoped objects). The schema of each type is in `docs/json-output.md`; keys never
//! disappear from a type except those marked optional there.
//!
//! `reconcile` lines report both waits: for an applied object to become Current
//! (`"desiredStatus": "Current"`) and for a pruned or deleted one to disappear
//! (`"desiredStatus": "NotFound"`).

use std::io::{self, Write};

use jiff::Timestamp;
use serde::Serialize;

use crate::event::{
    AbandonReason, ApplyCounts, ApplyOutcome, CancelReason, DeletionCounts, DeletionOutcome, Event,
    ObjectError, ObjectFailure, ObjectStatus, Plan, PruneOutcome, ReconcileCounts, RemoveCounts,
    SettingNames, SkipReason, Summary, WaitOutcome,
};
use crate::kstatus::{Condition, StatusResult};
use crate::object::ObjRef;

use super::{Printer, PrinterOptions};

/// Where timestamps come from: the system clock, or a fixed sequence in tests.
pub type Clock = Box<dyn FnMut() -> Timestamp + Send>;

/// Writes one JSON object per event to `W`. See the [module documentation](self).
pub struct JsonPrinter<W> {
    out: W,
    status_events: bool,
    clock: Clock,
    /// The plan's dry run, repeated on the object lines of a dry run (`dryRun`).
    dry_run: Option<&'static str>,
}

impl<W: Write> JsonPrinter<W> {
    /// A printer stamping lines with the system clock.
    pub fn new(out: W, options: &PrinterOptions) -> Self {
        Self::with_clock(out, options, Box::new(Timestamp::now))
    }

    /// A printer stamping lines with `clock`, called once per line.
    pub fn with_clock(out: W, options: &PrinterOptions, clock: Clock) -> Self {
        JsonPrinter { out, status_events: options.status_events, clock, dry_run: None }
    }

    /// The writer back, e.g. the buffer of a test.
    pub fn into_inner(self) -> W {
        self.out
    }

    fn line<B: Serialize>(&mut self, type_: &'static str, body: B) -> io::Result<()> {
        let timestamp = format!("{:.3}", (self.clock)());
        let mut bytes = serde_json::to_vec(&Line { timestamp, type_, body }).map_err(io::Error::other)?;
        bytes.push(b'\n');
        self.out.write_all(&bytes)
    }

    /// An object line that, in a dry run, ends with `"dryRun": "client"|"server"`: a preview's
    /// `"status":"pruned"` read alone must not pass for a deletion.
    fn marked<B: Serialize>(&mut self, type_: &'static str, body: B) -> io::Result<()> {
        #[derive(Serialize)]
        struct Marked<B> {
            #[serde(flatten)]
            body: B,
            #[serde(rename = "dryRun", skip_serializing_if = "Option::is_none")]
            dry_run: Option<&'static str>,
        }
        let dry_run = self.dry_run;
        self.line(type_, Marked { body, dry_run })
    }
}

impl<W: Write + Send> Printer for JsonPrinter<W> {
    fn print(&mut self, event: &Event) -> io::Result<()> {
        match event {
            Event::Plan(plan) => {
                self.dry_run = plan.dry_run.is_dry_run().then(|| plan.dry_run.as_str());
                self.line("plan", PlanBody::of(plan))
            }
            Event::Apply { obj, outcome } => {
                let body = match outcome {
                    ApplyOutcome::Created => ActionBody::done(obj, "created"),
                    ApplyOutcome::Configured => ActionBody::done(obj, "configured"),
                    ApplyOutcome::Unchanged => ActionBody::done(obj, "unchanged"),
                    ApplyOutcome::Failed(error) | ApplyOutcome::Refused(error) => {
                        ActionBody::failed(obj, error)
                    }
                    ApplyOutcome::Skipped(reason) => ActionBody::skipped(obj, reason),
                };
                self.marked("apply", body)
            }
            Event::Status { obj, status } if self.status_events => self.line(
                "status",
                ObjectStatusJson { obj: ObjFields::of(obj), status: StatusFields::of(status) },
            ),
            Event::Status { .. } => Ok(()),
            Event::Blocked { obj, dependency, status } if self.status_events => self.line(
                "blocked",
                BlockedBody {
                    obj: ObjFields::of(obj),
                    dependency: ObjFields::of(dependency),
                    dependency_status: StatusFields::of(status),
                },
            ),
            Event::Blocked { .. } => Ok(()),
            Event::Reconciled { obj, outcome } => {
                let body = match outcome {
                    WaitOutcome::Current => ReconcileBody::new(obj, "Current", "reconciled"),
                    WaitOutcome::Failed(status) => {
                        ReconcileBody::new(obj, "Current", "failed").last_status(status)
                    }
                    WaitOutcome::Timeout(status) => {
                        ReconcileBody::new(obj, "Current", "timeout").last_status(status)
                    }
                    WaitOutcome::Skipped(reason) => {
                        let mut body = ReconcileBody::new(obj, "Current", "skipped");
                        body.reason = Some(reason.code());
                        body.message = Some(reason.to_string());
                        body
                    }
                };
                self.line("reconcile", body)
            }
            Event::Deleted { obj, outcome } => {
                let body = match outcome {
                    DeletionOutcome::Gone => ReconcileBody::new(obj, "NotFound", "reconciled"),
                    DeletionOutcome::Timeout(status) => {
                        ReconcileBody::new(obj, "NotFound", "timeout").last_status(status)
                    }
                    DeletionOutcome::Reappeared(error) => {
                        let mut body = ReconcileBody::new(obj, "NotFound", "failed");
                        body.reason = Some("Reappeared");
                        body.message = Some(error.to_string());
                        body
                    }
                };
                self.line("reconcile", body)
            }
            Event::Prune { obj, outcome } => {
                self.marked("prune", ActionBody::removal(obj, outcome, "pruned"))
            }
            Event::Delete { obj, outcome } => {
                self.marked("delete", ActionBody::removal(obj, outcome, "deleted"))
            }
            Event::Warning { obj, message } => {
                self.line("warning", WarningBody { obj: obj.as_ref().map(ObjFields::of), message })
            }
            Event::Inventory { inventory, action, objects } => self.line(
                "inventory",
                InventoryBody { obj: ObjFields::of(inventory), action: action.as_str(), objects: *objects },
            ),
            // The summary carries it (`cancelled`).
            Event::Cancelled(_) => Ok(()),
            Event::Summary(summary) => self.line("summary", SummaryBody::of(summary)),
        }
    }

    fn error(&mut self, message: &str) -> io::Result<()> {
        self.line("error", ErrorBody { error: message })
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// The `status` line of one object, as `apply --status-events -o json` writes it: what `kapply status
/// -o json` prints too, live or offline, so that both speak one vocabulary. `source` (offline: the file
/// and document) is added when given; an object without a readable identity shows only its source.
pub fn status_line(
    obj: Option<&ObjRef>,
    status: &StatusResult,
    source: Option<&crate::object::Source>,
) -> String {
    #[derive(Serialize)]
    struct Body<'a> {
        #[serde(flatten)]
        obj: Option<ObjFields<'a>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        source: Option<String>,
        #[serde(flatten)]
        status: StatusFields<'a>,
    }
    let body = Body {
        obj: obj.map(ObjFields::of),
        source: source.map(ToString::to_string),
        status: StatusFields::of(status),
    };
    let timestamp = format!("{:.3}", Timestamp::now());
    serde_json::to_string(&Line { timestamp, type_: "status", body }).unwrap_or_default()
}

/// One output line. Structs (not `serde_json::Map`) keep the key order fixed: `timestamp`, `type`,
/// then the body in declaration order.
#[derive(Serialize)]
struct Line<B> {
    timestamp: String,
    #[serde(rename = "type")]
    type_: &'static str,
    #[serde(flatten)]
    body: B,
}

#[derive(Serialize)]
struct ObjFields<'a> {
    group: &'a str,
    kind: &'a str,
    namespace: &'a str,
    name: &'a str,
}

impl<'a> ObjFields<'a> {
    fn of(obj: &'a ObjRef) -> Self {
        ObjFields { group: &obj.group, kind: &obj.kind, namespace: obj.namespace_or_empty(), name: &obj.name }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PlanBody<'a> {
    operation: &'static str,
    dry_run: &'static str,
    objects: usize,
    apply: Vec<Vec<ObjFields<'a>>>,
    prune: Vec<ObjFields<'a>>,
    delete: Vec<ObjFields<'a>>,
}

impl<'a> PlanBody<'a> {
    fn of(plan: &'a Plan) -> Self {
        let list = |objs: &'a [ObjRef]| objs.iter().map(ObjFields::of).collect::<Vec<_>>();
        PlanBody {
            operation: plan.operation.as_str(),
            dry_run: plan.dry_run.as_str(),
            objects: plan.len(),
            apply: plan.apply.iter().map(|wave| list(wave)).collect(),
            prune: list(&plan.prune),
            delete: list(&plan.delete),
        }
    }
}

/// `apply`, `prune` and `delete` lines.
#[derive(Serialize)]
struct ActionBody<'a> {
    #[serde(flatten)]
    obj: ObjFields<'a>,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<String>,
}

impl<'a> ActionBody<'a> {
    fn done(obj: &'a ObjRef, status: &'static str) -> Self {
        ActionBody { obj: ObjFields::of(obj), status, reason: None, message: None, error: None, hint: None }
    }

    fn failed(obj: &'a ObjRef, error: &'a ObjectError) -> Self {
        ActionBody {
            error: Some(&error.message),
            hint: error.hint_named(&SettingNames::default()),
            ..Self::done(obj, "failed")
        }
    }

    fn skipped(obj: &'a ObjRef, reason: &SkipReason) -> Self {
        ActionBody {
            reason: Some(reason.code()),
            message: Some(reason.to_string()),
            ..Self::done(obj, "skipped")
        }
    }

    fn abandoned(obj: &'a ObjRef, reason: &AbandonReason) -> Self {
        ActionBody {
            reason: Some(reason.code()),
            message: Some(reason.to_string()),
            ..Self::done(obj, "abandoned")
        }
    }

    fn removal(obj: &'a ObjRef, outcome: &'a PruneOutcome, done: &'static str) -> Self {
        match outcome {
            PruneOutcome::Deleted => Self::done(obj, done),
            PruneOutcome::Skipped(reason) => Self::skipped(obj, reason),
            PruneOutcome::Abandoned(reason) => Self::abandoned(obj, reason),
            PruneOutcome::Failed(error) => Self::failed(obj, error),
        }
    }
}

/// A kstatus result: the body of `status` lines, `lastStatus` of `reconcile` lines, and the entries of
/// `notCurrent`/`notDeleted` in the summary.
#[derive(Serialize)]
struct StatusFields<'a> {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    message: &'a str,
    conditions: &'a [Condition],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    details: Vec<DetailJson<'a>>,
}

impl<'a> StatusFields<'a> {
    fn of(status: &'a StatusResult) -> Self {
        StatusFields {
            status: status.status.as_str(),
            reason: status.reason.as_deref(),
            message: &status.message,
            conditions: &status.conditions,
            details: status.details.iter().map(DetailJson::of).collect(),
        }
    }
}

/// A `blocked` line: an object not applied yet, the dependency it waits for, and that one's status.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BlockedBody<'a> {
    #[serde(flatten)]
    obj: ObjFields<'a>,
    dependency: ObjFields<'a>,
    dependency_status: StatusFields<'a>,
}

/// One detail: why the object is not Current yet, and the object (a Pod, …) that says so.
#[derive(Serialize)]
struct DetailJson<'a> {
    reason: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    object: Option<ObjFields<'a>>,
}

impl<'a> DetailJson<'a> {
    fn of(detail: &'a crate::details::Detail) -> Self {
        DetailJson {
            reason: &detail.reason,
            message: &detail.message,
            object: detail.object.as_ref().map(ObjFields::of),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReconcileBody<'a> {
    #[serde(flatten)]
    obj: ObjFields<'a>,
    desired_status: &'static str,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_status: Option<StatusFields<'a>>,
}

impl<'a> ReconcileBody<'a> {
    fn new(obj: &'a ObjRef, desired_status: &'static str, status: &'static str) -> Self {
        ReconcileBody {
            obj: ObjFields::of(obj),
            desired_status,
            status,
            reason: None,
            message: None,
            last_status: None,
        }
    }

    fn last_status(mut self, status: &'a StatusResult) -> Self {
        self.last_status = Some(StatusFields::of(status));
        self
    }
}

#[derive(Serialize)]
struct WarningBody<'a> {
    #[serde(flatten)]
    obj: Option<ObjFields<'a>>,
    message: &'a str,
}

#[derive(Serialize)]
struct InventoryBody<'a> {
    #[serde(flatten)]
    obj: ObjFields<'a>,
    action: &'static str,
    objects: usize,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SummaryBody<'a> {
    operation: &'static str,
    dry_run: &'static str,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    cancelled: Option<&'static str>,
    apply: ApplyJson,
    reconcile: ReconcileJson,
    prune: PruneJson,
    delete: DeleteJson,
    deletion: DeletionJson,
    warnings: usize,
    not_current: Vec<ObjectStatusJson<'a>>,
    not_deleted: Vec<ObjectStatusJson<'a>>,
    failures: Vec<FailureJson<'a>>,
}

impl<'a> SummaryBody<'a> {
    fn of(summary: &'a Summary) -> Self {
        let statuses = |items: &'a [ObjectStatus]| {
            items
                .iter()
                .map(|item| ObjectStatusJson {
                    obj: ObjFields::of(&item.obj),
                    status: StatusFields::of(&item.status),
                })
                .collect()
        };
        SummaryBody {
            operation: summary.operation.as_str(),
            dry_run: summary.dry_run.as_str(),
            outcome: summary.outcome().as_str(),
            cancelled: summary.cancelled.map(CancelReason::as_str),
            apply: ApplyJson::of(&summary.apply),
            reconcile: ReconcileJson::of(&summary.reconcile),
            prune: PruneJson::of(&summary.prune),
            delete: DeleteJson::of(&summary.delete),
            deletion: DeletionJson::of(&summary.deletion),
            warnings: summary.warnings,
            not_current: statuses(&summary.not_current),
            not_deleted: statuses(&summary.not_deleted),
            failures: summary.failures.iter().map(FailureJson::of).collect(),
        }
    }
}

#[derive(Serialize)]
struct ApplyJson {
    total: usize,
    created: usize,
    configured: usize,
    unchanged: usize,
    failed: usize,
    skipped: usize,
}

impl ApplyJson {
    fn of(c: &ApplyCounts) -> Self {
        ApplyJson {
            total: c.total(),
            created: c.created,
            configured: c.configured,
            unchanged: c.unchanged,
            failed: c.failed,
            skipped: c.skipped,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReconcileJson {
    total: usize,
    reconciled: usize,
    failed: usize,
    timed_out: usize,
    skipped: usize,
}

impl ReconcileJson {
    fn of(c: &ReconcileCounts) -> Self {
        ReconcileJson {
            total: c.total(),
            reconciled: c.current,
            failed: c.failed,
            timed_out: c.timed_out,
            skipped: c.skipped,
        }
    }
}

#[derive(Serialize)]
struct PruneJson {
    total: usize,
    pruned: usize,
    skipped: usize,
    abandoned: usize,
    failed: usize,
}

impl PruneJson {
    fn of(c: &RemoveCounts) -> Self {
        PruneJson {
            total: c.total(),
            pruned: c.deleted,
            skipped: c.skipped,
            abandoned: c.abandoned,
            failed: c.failed,
        }
    }
}

#[derive(Serialize)]
struct DeleteJson {
    total: usize,
    deleted: usize,
    skipped: usize,
    abandoned: usize,
    failed: usize,
}

impl DeleteJson {
    fn of(c: &RemoveCounts) -> Self {
        DeleteJson {
            total: c.total(),
            deleted: c.deleted,
            skipped: c.skipped,
            abandoned: c.abandoned,
            failed: c.failed,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeletionJson {
    total: usize,
    reconciled: usize,
    timed_out: usize,
    failed: usize,
}

impl DeletionJson {
    fn of(c: &DeletionCounts) -> Self {
        DeletionJson { total: c.total(), reconciled: c.gone, timed_out: c.timed_out, failed: c.reappeared }
    }
}

/// An object with its status: a `status` line, and the not-current entries of a summary.
#[derive(Serialize)]
struct ObjectStatusJson<'a> {
    #[serde(flatten)]
    obj: ObjFields<'a>,
    #[serde(flatten)]
    status: StatusFields<'a>,
}

#[derive(Serialize)]
struct FailureJson<'a> {
    #[serde(flatten)]
    obj: ObjFields<'a>,
    action: &'static str,
    error: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<String>,
}

impl<'a> FailureJson<'a> {
    fn of(failure: &'a ObjectFailure) -> Self {
        FailureJson {
            obj: ObjFields::of(&failure.obj),
            action: failure.action.as_str(),
            error: &failure.error.message,
            hint: failure.error.hint_named(&SettingNames::default()),
        }
    }
}
