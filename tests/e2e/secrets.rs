//! Secret data never reaches any output: events, JSON, table, diff, preview, error messages.

use serde_json::json;

use crate::apply::Package;
use crate::support::{Run, TestNamespace, client, kapply};

/// Values planted in Secrets, and their base64 forms: none may appear in any output.
const PLAIN: &str = "plain-s3cr3t-marker";
const STRING_DATA: &str = "stringdata-s3cr3t-marker";

fn base64_forms() -> Vec<String> {
    // Standard base64 of the markers, computed by hand-rolled encoding in the tool; check the first
    // 12 characters, which do not depend on padding.
    [PLAIN, STRING_DATA, "changed-s3cr3t-marker"]
        .iter()
        .map(|m| encode(m.as_bytes())[..12].to_owned())
        .collect()
}

fn encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize])
            } else {
                '='
            });
        }
    }
    out
}

fn assert_no_secret(what: &str, run: &Run) {
    let all = run.output();
    for marker in ["s3cr3t-marker".to_owned()].into_iter().chain(base64_forms()) {
        assert!(!all.contains(&marker), "{what}: Secret data leaked ({marker}):\n{all}");
    }
}

fn secret(name: &str, plain: &str, string_data: &str) -> String {
    json!({
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": name},
        "data": {"plain": encode(plain.as_bytes())},
        "stringData": {"other": string_data},
    })
    .to_string()
}

#[tokio::test]
async fn secret_values_never_appear_in_any_output_of_apply_preview_diff_failures_and_prune() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "secrets").await;
    let package = Package::new(&ns.name, "secrets");
    package.write("a.yaml", &secret("a", PLAIN, STRING_DATA));
    package.write("b.yaml", &secret("b", PLAIN, STRING_DATA));
    for output in ["events", "json", "table"] {
        let run = package.apply(&["--output", output, "--status-events"]);
        assert_eq!(run.code, 0, "{}", run.output());
        assert_no_secret(&format!("apply -o {output}"), &run);
    }
    for extra in [&[][..], &["--server-side"][..]] {
        let run = package.run("preview", extra);
        assert_no_secret("preview", &run);
    }

    package.write("a.yaml", &secret("a", "changed-s3cr3t-marker", STRING_DATA));
    let dir = package.path().to_str().unwrap().to_owned();
    let diff = kapply(&["diff", &dir, "-n", &ns.name, "--color", "always"]);
    assert_eq!(diff.code, 1, "{}", diff.output());
    assert_no_secret("diff", &diff);

    // A Secret the server refuses (an invalid key; a number where a string belongs, which the
    // server's message quotes): found by the dry run before any write (exit 2), and the error must
    // not quote the data.
    let invalid = json!({
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "bad"},
        "stringData": {"not a valid key!": STRING_DATA},
    });
    package.write("bad.yaml", &invalid.to_string());
    let failed = package.apply(&["--output", "json"]);
    assert_eq!(failed.code, 2, "{}", failed.output());
    assert!(failed.output().contains("Secret"), "{}", failed.output());
    assert_no_secret("failed apply", &failed);
    let number = json!({
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "bad"},
        "data": {"pin": 73310251},
    });
    package.write("bad.yaml", &number.to_string());
    let failed = package.apply(&["--output", "json"]);
    assert_eq!(failed.code, 2, "{}", failed.output());
    assert!(failed.output().contains("Secret"), "{}", failed.output());
    assert!(!failed.output().contains("73310251"), "the refused value is quoted: {}", failed.output());

    package.remove("bad.yaml");
    package.remove("b.yaml");
    let pruned = package.apply(&["--output", "events"]);
    assert_eq!(pruned.code, 0, "{}", pruned.output());
    assert!(pruned.stdout.contains("pruned"), "{}", pruned.stdout);
    assert_no_secret("prune", &pruned);

    let status = kapply(&["status", &dir, "-o", "json"]);
    assert_no_secret("status", &status);
    let destroyed = package.run("destroy", &["--output", "json"]);
    assert_eq!(destroyed.code, 0, "{}", destroyed.output());
    assert_no_secret("destroy", &destroyed);
}
