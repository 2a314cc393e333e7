//! `kapply init DIRECTORY`: write the inventory template (a ConfigMap) that ties a package to its
//! inventory, choosing its namespace as cli-utils does.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::Path;

use super::args::InitArgs;
use super::exit::Outcome;
use kapply::inventory::{self, TEMPLATE_FILE};
use kapply::manifest::{self, Input, LoadOptions, UnknownKinds};

/// Writes `DIRECTORY/inventory-template.yaml`; refuses to overwrite an existing one.
pub fn run(args: &InitArgs) -> Outcome {
    match init(args) {
        Ok((path, namespace, why)) => {
            // cli-utils' line, and why that namespace.
            println!("namespace: {namespace} is used for inventory object ({why})");
            println!("wrote {}", path.display());
            Outcome::Success
        }
        Err(message) => {
            eprintln!("kapply init: {message}");
            Outcome::Usage
        }
    }
}

/// Writes the template; returns its path, its namespace and why that namespace was chosen.
fn init(args: &InitArgs) -> Result<(std::path::PathBuf, String, String), String> {
    let dir = &args.directory;
    if !dir.is_dir() {
        return Err(format!("{} is not a directory", dir.display()));
    }
    let (context_ns, origin) = args.connection.connect_options().context_namespace_and_origin();
    let (namespace, why) = match &args.connection.namespace {
        Some(ns) => (ns.clone(), "given with --namespace".to_owned()),
        None => {
            let objects = directory_objects(dir, &context_ns).map_err(|errors| {
                format!("cannot choose a namespace from the manifests in {}:\n{errors}", dir.display())
            })?;
            let namespace = inventory::choose_init_namespace(None, &objects, &context_ns);
            let used: std::collections::BTreeSet<&str> =
                objects.iter().filter_map(|o| o.obj_ref.namespace.as_deref()).collect();
            // Named in a manifest, not defaulted to the context's.
            let named = manifest::read_values(&[Input::Path(dir.to_path_buf())], false)
                .unwrap_or_default()
                .iter()
                .any(|(_, value)| {
                    value.pointer("/metadata/namespace").and_then(|v| v.as_str()) == Some(&namespace)
                });
            let why = match used.len() {
                1 if named => format!("every namespaced object in {} is in it", dir.display()),
                0 | 1 => format!(
                    "no namespaced object in {} names a namespace, so the kubeconfig context's: {origin}",
                    dir.display()
                ),
                n => format!(
                    "the objects in {} use {n} namespaces, so the kubeconfig context's: {origin}",
                    dir.display()
                ),
            };
            (namespace, why)
        }
    };
    let template = inventory::init_template(args.inventory_id.as_deref(), namespace.clone())
        .map_err(|e| e.to_string())?;
    let path = dir.join(TEMPLATE_FILE);
    write_new(&path, &template).map_err(|err| match err.kind() {
        io::ErrorKind::AlreadyExists => {
            format!("{} already exists; delete it first to start a new inventory", path.display())
        }
        _ => format!("cannot write {}: {err}", path.display()),
    })?;
    Ok((path, namespace, why))
}

/// The directory's objects, namespaced ones without a namespace placed in the context's: that makes
/// [`inventory::choose_init_namespace`] fall back to the context exactly when cli-utils does.
fn directory_objects(dir: &Path, context_ns: &str) -> Result<Vec<kapply::Object>, manifest::ManifestErrors> {
    let options = LoadOptions {
        recursive: false,
        default_namespace: Some(context_ns.to_owned()),
        unknown_kinds: UnknownKinds::AssumeNamespaced,
    };
    manifest::load(&[Input::Path(dir.to_path_buf())], &options, &manifest::BuiltinScopes)
}

/// Creates `path` with `text`, failing with `AlreadyExists` rather than overwriting (no check-then-write
/// race).
fn write_new(path: &Path, text: &str) -> io::Result<()> {
    let mut file = OpenOptions::new().write(true).create_new(true).open(path)?;
    file.write_all(text.as_bytes())
}
