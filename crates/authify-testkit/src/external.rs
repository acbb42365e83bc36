//! Runners for the independent verifiers (PyJWT, node `jose`) the tests hand our tokens to.

use std::process::Command;

use crate::repo_root;

/// Output of an independent verifier run.
#[derive(Debug)]
pub struct ExternalRun {
    /// Exit status was success.
    pub ok: bool,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs `tests/interop/verify_authify.py` (PyJWT) on `token`. The venv comes from `tests/setup.sh`.
pub fn run_pyjwt(authify_url: &str, app_id: &str, token: &str) -> ExternalRun {
    let interop = repo_root().join("tests/interop");
    let python = interop.join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} missing: run `bash tests/setup.sh` first",
        python.display()
    );
    run(Command::new(python)
        .arg(interop.join("verify_authify.py"))
        .args([authify_url, app_id, token]))
}

/// Runs `tests/interop/verify-authify.mjs` (node jose) on `token`. Modules come from `tests/setup.sh`.
pub fn run_jose(authify_url: &str, app_id: &str, token: &str) -> ExternalRun {
    let interop = repo_root().join("tests/interop");
    assert!(
        interop.join("node_modules/jose").exists(),
        "jose missing: run `bash tests/setup.sh` first"
    );
    run(Command::new("node")
        .arg(interop.join("verify-authify.mjs"))
        .args([authify_url, app_id, token]))
}

fn run(command: &mut Command) -> ExternalRun {
    let out = command.output().expect("interpreter runs");
    ExternalRun {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
