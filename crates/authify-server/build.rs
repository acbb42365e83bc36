//! Hands the link order of the release executable to the linker.
//!
//! `link-order.txt` (written by `tests/memory/link_order.py`) names the functions a server runs
//! at start-up and idle, then those of its requests. Linux maps an executable's code in 64 KiB
//! windows around each touched page, so these functions side by side keep most of the code out of
//! an idle server's memory (docs/performance.md, "Idle memory: link order": idle RSS 19.2 ->
//! see there). Functions the file does not name, or no longer exist, cost memory, never
//! correctness: lld places them after, and `--no-warn-symbol-ordering` keeps a stale file quiet.
//!
//! Only for release builds on x86_64 Linux, whose default linker since Rust 1.90 is lld; a build
//! that asks for another linker (`-C linker=…`, `-C linker-features=-lld`) or sets
//! `AUTHIFY_NO_LINK_ORDER` links without it.

use std::env;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=link-order.txt");
    println!("cargo:rerun-if-env-changed=AUTHIFY_NO_LINK_ORDER");
    let target = env::var("TARGET").unwrap_or_default();
    let release = env::var("PROFILE").is_ok_and(|p| p == "release");
    let flags = env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let other_linker = flags.split('\x1f').any(|f| {
        f.contains("linker=") || f.contains("linker-features") || f.contains("link-self-contained")
    });
    let order =
        Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap_or_default()).join("link-order.txt");
    if target != "x86_64-unknown-linux-gnu"
        || !release
        || other_linker
        || env::var_os("AUTHIFY_NO_LINK_ORDER").is_some()
        || !order.is_file()
    {
        return;
    }
    println!(
        "cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}",
        order.display()
    );
    println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    // Relative relocations packed (DT_RELR, glibc 2.36+): the dynamic loader reads a table of a few
    // KB at start instead of 0.6 MB, and the executable stays position-independent (ASLR).
    println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
}
