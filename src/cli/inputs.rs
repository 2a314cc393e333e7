//! Command-line paths as library inputs: files and directories as they are, `-` as standard input,
//! a kustomization (`-k DIR`) rendered by `kustomize build` or `kubectl kustomize`.

use std::io::{self, Read};
use std::path::Path;
use std::process::Command;

use super::args::ManifestArgs;
use kapply::Input;

/// The inputs the manifest flags name: the kustomization's rendering, or the paths. The error is
/// a whole message for the user.
pub fn inputs_of_args(manifests: &ManifestArgs) -> Result<Vec<Input>, String> {
    if let Some(dir) = &manifests.kustomize {
        return kustomize(dir).map(|input| vec![input]);
    }
    inputs_of(&manifests.all_paths()).map_err(|err| format!("cannot read standard input: {err}"))
}

/// Renders the kustomization in `dir` with the first of `kustomize build` and `kubectl kustomize`
/// found on PATH.
pub fn kustomize(dir: &Path) -> Result<Input, String> {
    if !dir.is_dir() {
        return Err(format!(
            "-k {}: not a directory (give a directory holding a kustomization.yaml)",
            dir.display()
        ));
    }
    for (program, subcommand) in [("kustomize", "build"), ("kubectl", "kustomize")] {
        let output = match Command::new(program).arg(subcommand).arg(dir).output() {
            Ok(output) => output,
            Err(err) if err.kind() == io::ErrorKind::NotFound => continue,
            Err(err) => return Err(format!("cannot run `{program} {subcommand}`: {err}")),
        };
        let command = format!("{program} {subcommand} {}", dir.display());
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(format!("`{command}` failed ({}): {}", output.status, stderr.trim()));
        }
        let text = String::from_utf8(output.stdout)
            .map_err(|_| format!("`{command}` printed something that is not UTF-8 text"))?;
        return Ok(Input::text(command, text));
    }
    Err(format!(
        "-k {}: rendering a kustomization needs `kustomize` or `kubectl` on PATH, and neither was found; \
         install one, or render it yourself: `kustomize build {} | kapply apply -`",
        dir.display(),
        dir.display()
    ))
}

/// Turns command-line paths into loader inputs, reading standard input once for `-`.
pub fn inputs_of(paths: &[impl AsRef<Path>]) -> io::Result<Vec<Input>> {
    let mut stdin: Option<String> = None;
    paths
        .iter()
        .map(|path| {
            let path = path.as_ref();
            if path.as_os_str() == "-" {
                let text = match &stdin {
                    Some(text) => text.clone(),
                    None => {
                        let mut text = String::new();
                        io::stdin().read_to_string(&mut text)?;
                        stdin = Some(text.clone());
                        text
                    }
                };
                Ok(Input::Stdin(text))
            } else {
                Ok(Input::Path(path.to_path_buf()))
            }
        })
        .collect()
}
