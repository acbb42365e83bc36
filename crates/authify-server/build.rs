//! Link settings of the release executable: its link order and packed relocations.
//!
//! `link-order.txt` (written by `tests/memory/link_order.py`) names the functions a server runs
//! at start-up and idle, then those of its requests. Linux maps an executable's code in 64 KiB
//! windows around each touched page, so these functions side by side keep most of the code out of
//! an idle server's memory (idle RSS 19.3 -> 10.7 MiB with the packed relocations below;
//! docs/performance.md, "Idle memory: link order"). Functions the file does not name, or no
//! longer exist, cost memory, never correctness: lld places them after, and
//! `--no-warn-symbol-ordering` keeps a stale file quiet.
//!
//! Only for native release builds on x86_64 Linux, whose default linker since Rust 1.90 is lld; a
//! build that asks for another linker (`-C linker=…`, `-C linker-features=-lld`) or sets
//! `AUTHIFY_NO_LINK_ORDER` links without these settings.

use std::env;
use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=link-order.txt");
    println!("cargo:rerun-if-env-changed=AUTHIFY_NO_LINK_ORDER");
    let target = env::var("TARGET").unwrap_or_default();
    let host = env::var("HOST").unwrap_or_default();
    let release = env::var("PROFILE").is_ok_and(|p| p == "release");
    let flags = env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let other_linker = flags.split('\x1f').any(|f| {
        f.contains("linker=") || f.contains("linker-features") || f.contains("link-self-contained")
    });
    if target != "x86_64-unknown-linux-gnu"
        || target != host
        || !release
        || other_linker
        || env::var_os("AUTHIFY_NO_LINK_ORDER").is_some()
    {
        return;
    }
    let order =
        Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap_or_default()).join("link-order.txt");
    if order.is_file() {
        println!(
            "cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}",
            order.display()
        );
        println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    }
    // Relative relocations packed (DT_RELR): the dynamic loader reads a table of a few KB at start
    // instead of 0.6 MB, and the executable stays position-independent (ASLR). Only against a
    // glibc that reads DT_RELR (2.36+): an older loader would ignore the table and run with
    // pointers never relocated.
    if glibc_version().is_some_and(|v| v >= (2, 36)) {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

/// The version of the C library the executable links against (this machine's, as host and target
/// are the same), from `getconf GNU_LIBC_VERSION` ("glibc 2.36"); None when it cannot be told.
fn glibc_version() -> Option<(u32, u32)> {
    let out = Command::new("getconf")
        .arg("GNU_LIBC_VERSION")
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let mut numbers = text.trim().strip_prefix("glibc ")?.split('.');
    Some((numbers.next()?.parse().ok()?, numbers.next()?.parse().ok()?))
}
