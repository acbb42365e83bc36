//! The docs check (`tests/docs_check.py`, also run by `.ci/run`): the docs as they are name only
//! what the code has, and a false name planted in a copy of them is caught.

use std::process::Command;

use authify_testkit::repo_root;

fn docs_check(extra: &[&str]) -> std::process::Output {
    Command::new("python3")
        .arg(repo_root().join("tests/docs_check.py"))
        .arg(repo_root())
        .args(extra)
        .output()
        .expect("python3")
}

#[test]
fn the_docs_name_only_items_and_settings_the_code_has() {
    let out = docs_check(&[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn a_false_name_planted_in_the_docs_fails_the_check() {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(repo_root().join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    let planted = dir.path().join("ARCHITECTURE.md");
    let mut text = std::fs::read_to_string(&planted).unwrap();
    text.push_str(
        "\nPlanted: `Authn::with_policy`, `startup::backchannel_logout`, `authify_core::authn::nowhere`, AUTHIFY_NOT_A_SETTING; and true ones: `Authn::advance`, `deliver::backchannel_logout`, `FlowState::Consent`, AUTHIFY_MAGIC_LINKS.\n",
    );
    std::fs::write(&planted, text).unwrap();
    let out = docs_check(&["--docs", dir.path().to_str().unwrap()]);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{report}");
    for false_name in [
        "Authn::with_policy",
        "startup::backchannel_logout",
        "authify_core::authn::nowhere",
        "AUTHIFY_NOT_A_SETTING",
    ] {
        assert!(report.contains(false_name), "{false_name} missed: {report}");
    }
    for true_name in [
        "Authn::advance",
        "deliver::backchannel_logout",
        "FlowState::Consent",
        "AUTHIFY_MAGIC_LINKS",
    ] {
        assert!(!report.contains(true_name), "{true_name} flagged: {report}");
    }
    assert_eq!(report.lines().count(), 4, "{report}");
}
