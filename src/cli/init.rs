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
        Ok(path) => {
            println!("wrote {}", path.display());
            Outcome::Success
        }
        Err(message) => {
            eprintln!("kapply init: {message}");
            Outcome::Usage
        }
    }
}

fn init(args: &InitArgs) -> Result<std::path::PathBuf, String> {
    let dir = &args.directory;
    if !dir.is_dir() {
        return Err(format!("{} is not a directory", dir.display()));
    }
    let context_ns = args.connection.connect_options().context_namespace();
    let namespace = match &args.connection.namespace {
        Some(ns) => ns.clone(),
        None => {
            let objects = directory_objects(dir, &context_ns).map_err(|errors| {
                format!("cannot choose a namespace from the manifests in {}:\n{errors}", dir.display())
            })?;
            inventory::choose_init_namespace(None, &objects, &context_ns)
        }
    };
    let template =
        inventory::init_template(args.inventory_id.as_deref(), namespace).map_err(|e| e.to_string())?;
    let path = dir.join(TEMPLATE_FILE);
    write_new(&path, &template).map_err(|err| match err.kind() {
        io::ErrorKind::AlreadyExists => {
            format!("{} already exists; delete it first to start a new inventory", path.display())
        }
        _ => format!("cannot write {}: {err}", path.display()),
    })?;
    Ok(path)
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
