//! Allocator settings for the `authify` binary, which uses mimalloc as its global allocator.
//!
//! A sign-in needs 19 MiB of argon2 memory. With glibc's allocator the process grew to 3 GiB after
//! 10,000 sign-ins (freed blocks stayed in per-thread arenas); with mimalloc's defaults it levelled
//! off near 80 MiB. Purging freed memory at once and committing arenas lazily keeps it near 20 MiB
//! at no measurable cost in sign-ins per second, because argon2 buffers are pooled while sign-ins
//! keep coming (docs/performance.md).
//!
//! mimalloc reads these options from the environment at its first allocation, before `main`, and
//! setting them later through its API was measured to be ineffective. So the binary makes sure it
//! starts with them: when they are absent it re-executes itself with them set.

use std::ffi::OsString;

/// The options, as mimalloc's environment variables.
pub const OPTIONS: [(&str, &str); 2] = [
    ("MIMALLOC_PURGE_DELAY", "0"),
    ("MIMALLOC_ARENA_EAGER_COMMIT", "0"),
];

/// Whether the process must re-execute to get [`OPTIONS`]: not when any `MIMALLOC_*` variable is
/// already set (after the re-exec, or set by the operator, whose choice wins).
pub fn needs_reexec(vars: impl IntoIterator<Item = (OsString, OsString)>) -> bool {
    !vars
        .into_iter()
        .any(|(k, _)| k.to_string_lossy().starts_with("MIMALLOC_"))
}

/// Re-executes this binary, same arguments and PID, with [`OPTIONS`] in its environment. Returns
/// only if that failed (the process then runs on mimalloc's defaults).
#[cfg(unix)]
pub fn reexec_with_options() -> std::io::Error {
    use std::os::unix::process::CommandExt as _;
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return e,
    };
    std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .envs(OPTIONS)
        .exec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_re_executes_only_without_any_mimalloc_variable() {
        let var = |k: &str| (OsString::from(k), OsString::from("1"));
        assert!(needs_reexec([var("PATH"), var("AUTHIFY_BIND")]));
        assert!(!needs_reexec([var("PATH"), var("MIMALLOC_PURGE_DELAY")]));
        assert!(
            !needs_reexec([var("MIMALLOC_VERBOSE")]),
            "an operator's own setting wins"
        );
    }
}
