//! Reading inputs: files, directories (optionally recursive, as `kubectl -R`) and standard input.

use std::fs;
use std::path::{Path, PathBuf};

use super::Input;
use super::error::{ErrorKind, Location, ManifestError};

/// The text of one input file, and its position in reading order.
#[derive(Debug)]
pub(crate) struct SourceText {
    pub file: PathBuf,
    pub text: String,
    pub seq: usize,
}

/// Extensions read from a directory; a file named explicitly is read whatever its extension.
const EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

/// Reads every input, in order; a directory yields its manifest files sorted by name, subdirectories
/// visited in place when `recursive` (the order of Go's `filepath.Walk`, which `kubectl -R` uses).
///
/// Entries whose name starts with `.` are skipped inside directories (`.git`, `.github/workflows/*.yml`
/// are not manifests), and symbolic links to directories are not followed (no cycles), as kubectl.
/// Problems are pushed to `errors`; reading goes on with the other inputs.
pub(crate) fn read_inputs(
    inputs: &[Input],
    recursive: bool,
    errors: &mut Vec<ManifestError>,
) -> Vec<SourceText> {
    let mut texts = Vec::new();
    let mut seq = 0;
    for input in inputs {
        match input {
            Input::Stdin(text) => {
                texts.push(SourceText { file: PathBuf::from("-"), text: text.clone(), seq });
                seq += 1;
            }
            Input::Text { name, text } => {
                texts.push(SourceText { file: name.clone(), text: text.clone(), seq });
                seq += 1;
            }
            Input::Path(path) => {
                let mut files = Vec::new();
                match fs::metadata(path) {
                    Ok(meta) if meta.is_dir() => walk(path, recursive, &mut files, errors, seq),
                    Ok(_) => files.push(path.clone()),
                    Err(e) => {
                        let kind = ErrorKind::Read { what: "path", message: e.to_string() };
                        errors.push(ManifestError::new(Location::file(path), kind).with_seq(seq));
                    }
                }
                for file in files {
                    if let Some(text) = read_file(&file, seq, errors) {
                        texts.push(SourceText { file, text, seq });
                    }
                    seq += 1;
                }
                seq += 1;
            }
        }
    }
    texts
}

fn walk(dir: &Path, recursive: bool, files: &mut Vec<PathBuf>, errors: &mut Vec<ManifestError>, seq: usize) {
    let read_error = |e: std::io::Error| {
        let kind = ErrorKind::Read { what: "directory", message: e.to_string() };
        ManifestError::new(Location::file(dir), kind).with_seq(seq)
    };
    let mut entries = Vec::new();
    match fs::read_dir(dir) {
        Ok(iter) => {
            for entry in iter {
                match entry {
                    Ok(entry) => entries.push(entry),
                    Err(e) => errors.push(read_error(e)),
                }
            }
        }
        Err(e) => {
            errors.push(read_error(e));
            return;
        }
    }
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        let Ok(file_type) = entry.file_type() else { continue };
        if file_type.is_dir() {
            if recursive {
                walk(&path, recursive, files, errors, seq);
            }
        } else if has_manifest_extension(&path) {
            let links_to_dir = file_type.is_symlink() && fs::metadata(&path).is_ok_and(|m| m.is_dir());
            if !links_to_dir {
                files.push(path);
            }
        }
    }
}

fn has_manifest_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|ext| ext.to_str())
        .is_some_and(|ext| EXTENSIONS.iter().any(|known| ext.eq_ignore_ascii_case(known)))
}

fn read_file(path: &Path, seq: usize, errors: &mut Vec<ManifestError>) -> Option<String> {
    let error = match fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => return Some(text),
            Err(e) => {
                let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
                let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
                ManifestError::new(Location { line: Some(line), ..Location::file(path) }, ErrorKind::NotUtf8)
            }
        },
        Err(e) => {
            let kind = ErrorKind::Read { what: "file", message: e.to_string() };
            ManifestError::new(Location::file(path), kind)
        }
    };
    errors.push(error.with_seq(seq));
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(texts: &[SourceText], root: &Path) -> Vec<String> {
        texts.iter().map(|t| t.file.strip_prefix(root).unwrap().display().to_string()).collect()
    }

    #[test]
    fn a_directory_yields_its_manifest_files_sorted_without_hidden_ones() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.yml", "a.yaml", "c.json", "notes.txt", ".hidden.yaml", "D.YAML"] {
            fs::write(dir.path().join(name), "").unwrap();
        }
        fs::create_dir(dir.path().join("sub")).unwrap();
        fs::write(dir.path().join("sub/x.yaml"), "").unwrap();
        let mut errors = vec![];
        let texts = read_inputs(&[Input::Path(dir.path().into())], false, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(names(&texts, dir.path()), ["D.YAML", "a.yaml", "b.yml", "c.json"]);
    }

    #[test]
    fn recursive_reading_visits_subdirectories_in_place() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("b/c")).unwrap();
        fs::create_dir(dir.path().join(".git")).unwrap();
        for name in ["a.yaml", "b/x.yaml", "b/c/y.yaml", "c.yaml", ".git/config.yaml"] {
            fs::write(dir.path().join(name), "").unwrap();
        }
        let mut errors = vec![];
        let texts = read_inputs(&[Input::Path(dir.path().into())], true, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(names(&texts, dir.path()), ["a.yaml", "b/c/y.yaml", "b/x.yaml", "c.yaml"]);
    }

    #[test]
    fn a_file_named_explicitly_is_read_whatever_its_extension() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("manifest.txt");
        fs::write(&path, "kind: X\n").unwrap();
        let mut errors = vec![];
        let texts = read_inputs(&[Input::Path(path)], false, &mut errors);
        assert_eq!(texts.len(), 1);
        assert_eq!(texts[0].text, "kind: X\n");
    }

    #[test]
    fn a_missing_path_is_an_error_and_reading_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("a.yaml");
        fs::write(&good, "").unwrap();
        let mut errors = vec![];
        let inputs = [Input::Path(dir.path().join("nope.yaml")), Input::Path(good)];
        let texts = read_inputs(&inputs, false, &mut errors);
        assert_eq!(texts.len(), 1);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].to_string().contains("nope.yaml: cannot read path"), "{}", errors[0]);
    }

    #[test]
    fn a_file_that_is_not_utf8_is_an_error_naming_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.yaml");
        fs::write(&path, b"a: 1\nb: \xff\n").unwrap();
        let mut errors = vec![];
        read_inputs(&[Input::Path(path)], false, &mut errors);
        assert_eq!(errors[0].location.line, Some(2));
        assert_eq!(errors[0].kind, ErrorKind::NotUtf8);
    }
}
