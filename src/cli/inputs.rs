//! Command-line paths as library inputs: files and directories as they are, `-` as standard input.

use std::io::{self, Read};
use std::path::Path;

use kapply::Input;

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
