//! `kapply status`: dispatch between the live mode ([`super::status_live`]) and the offline mode, which
//! computes kstatus from objects in files.

use std::io::{self, Write};

use serde_json::Value;

use super::args::StatusArgs;
use super::exit::Outcome;
use super::report::Report;
use kapply::kstatus::{self, Status, StatusResult};
use kapply::manifest;
use kapply::object::{ObjRef, Source};
use kapply::printers::OutputFormat;
use kapply::printers::json::status_line;

/// Runs `kapply status`: live (the inventory's objects in the cluster), or `--offline` (objects in
/// files).
pub fn run(args: &StatusArgs) -> Outcome {
    if !args.offline {
        return super::status_live::run(args);
    }
    let report = Report::new("status", args.output == OutputFormat::Json);
    if args.manifests.is_empty() {
        report.error("--offline: no input; give files or directories, `-` for standard input, or -k DIR");
        return Outcome::Usage;
    }
    let inputs = match super::inputs::inputs_of_args(&args.manifests) {
        Ok(inputs) => inputs,
        Err(err) => {
            report.error(&err);
            return Outcome::Usage;
        }
    };
    let values = match manifest::read_values(&inputs, args.manifests.recursive) {
        Ok(values) => values,
        Err(errors) => {
            eprintln!("{errors}");
            report.json_line(&super::session::clip_lines(&errors.to_string()));
            return Outcome::Usage;
        }
    };
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match print_statuses(&values, args.output, &mut out) {
        Ok(outcome) => outcome,
        // A closed pipe (`| head`) is not an error worth reporting.
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Outcome::Success,
        Err(err) => {
            eprintln!("kapply status: cannot write output: {err}");
            Outcome::Failed
        }
    }
}

/// Prints one status per object and returns the outcome: 0 all Current, 4 any Failed, 1 otherwise.
pub fn print_statuses(
    values: &[(Source, Value)],
    output: OutputFormat,
    out: &mut impl Write,
) -> io::Result<Outcome> {
    let mut worst = Outcome::Success;
    let mut rows = Vec::new();
    for (source, value) in values {
        let result = kstatus::compute(value).unwrap_or_else(|err| StatusResult::unknown(err.to_string()));
        let name = ObjRef::from_value(value).map_or_else(|| source.to_string(), |r| r.to_string());
        match output {
            OutputFormat::Events => writeln!(out, "{name}: {} {}", result.status, result.message.trim())?,
            // Only identity and status are read from the object: Secret data never reaches the output.
            OutputFormat::Json => {
                let obj = ObjRef::from_value(value);
                writeln!(out, "{}", status_line(obj.as_ref(), &result, Some(source)))?
            }
            OutputFormat::Table => {
                rows.push([name, result.status.to_string(), result.message.trim().to_owned()])
            }
        }
        worst = match (worst, result.status) {
            (_, Status::Failed) | (Outcome::ObjectFailed, _) => Outcome::ObjectFailed,
            (_, Status::Current) => worst,
            _ => Outcome::Failed,
        };
    }
    if output == OutputFormat::Table {
        out.write_all(table(STATUS_HEADER, &rows).as_bytes())?;
    }
    Ok(worst)
}

/// The header of a status table.
pub const STATUS_HEADER: [&str; 3] = ["RESOURCE", "STATUS", "MESSAGE"];

/// Rows as an aligned table under `header`.
pub fn table(header: [&str; 3], rows: &[[String; 3]]) -> String {
    let header = header.map(str::to_owned);
    let all: Vec<&[String; 3]> = std::iter::once(&header).chain(rows).collect();
    let width = |column: usize| all.iter().map(|row| row[column].chars().count()).max().unwrap_or(0);
    let (first, second) = (width(0), width(1));
    all.iter().map(|[a, b, c]| format!("{a:first$}  {b:second$}  {c}").trim_end().to_owned() + "\n").collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn values(yaml: &str) -> Vec<(Source, Value)> {
        manifest::read_values(
            &[kapply::Input::Text { name: PathBuf::from("snap.yaml"), text: yaml.into() }],
            false,
        )
        .unwrap()
    }

    fn run_text(yaml: &str) -> (String, Outcome) {
        let mut out = Vec::new();
        let outcome = print_statuses(&values(yaml), OutputFormat::Events, &mut out).unwrap();
        (String::from_utf8(out).unwrap(), outcome)
    }

    const AVAILABLE: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: prod, generation: 2}
spec: {replicas: 2}
status:
  observedGeneration: 2
  replicas: 2
  updatedReplicas: 2
  readyReplicas: 2
  availableReplicas: 2
  conditions:
  - {type: Available, status: "True", reason: MinimumReplicasAvailable}
  - {type: Progressing, status: "True", reason: NewReplicaSetAvailable}
"#;

    #[test]
    fn a_list_of_current_objects_prints_one_line_each_and_succeeds() {
        let list = format!(
            "apiVersion: v1\nkind: List\nitems:\n- {}\n- {{apiVersion: v1, kind: ConfigMap, metadata: {{name: c, namespace: prod}}}}\n",
            serde_json::to_string(&serde_saphyr::from_str::<Value>(AVAILABLE).unwrap()).unwrap()
        );
        let (text, outcome) = run_text(&list);
        assert_eq!(
            text,
            "Deployment.apps/prod/web: Current Deployment is available. Replicas: 2\n\
             ConfigMap/prod/c: Current Resource is always ready\n"
        );
        assert_eq!(outcome, Outcome::Success);
    }

    #[test]
    fn an_in_progress_object_makes_the_outcome_not_success() {
        let (text, outcome) = run_text(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 3}\nstatus: {replicas: 1}\n",
        );
        assert!(text.starts_with("Deployment.apps/web: InProgress"), "{text}");
        assert_eq!(outcome, Outcome::Failed);
    }

    #[test]
    fn a_failed_object_wins_over_in_progress() {
        let yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec: {replicas: 3}\n\
                    status: {replicas: 1}\n---\n\
                    apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\n\
                    status: {conditions: [{type: Failed, status: \"True\", message: boom}]}\n";
        let (_, outcome) = run_text(yaml);
        assert_eq!(outcome, Outcome::ObjectFailed);
    }

    #[test]
    fn json_lines_parse_and_never_contain_secret_data() {
        let yaml = "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: x}\n\
                    data: {password: c3VwZXJzZWNyZXQ=}\nstringData: {token: hunter2}\n";
        let mut out = Vec::new();
        print_statuses(&values(yaml), OutputFormat::Json, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains("c3VwZXJzZWNyZXQ=") && !text.contains("hunter2"), "{text}");
        let line: Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(line["kind"], "Secret");
        assert_eq!(line["status"], "Current");
        assert_eq!(line["source"], "snap.yaml:1 (document 1)");
    }
}
