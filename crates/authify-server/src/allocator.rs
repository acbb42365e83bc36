//! Allocator settings for the `authify` binary (which uses mimalloc as its global allocator).
//!
//! A sign-in needs 19 MiB of argon2 memory. Left to its defaults, mimalloc keeps freed memory
//! committed, so an idle server stayed at ~80 MiB after a burst of sign-ins; glibc was far worse
//! (3 GiB after 10,000). Purging freed memory at once and committing arenas lazily brings it to
//! ~20 MiB at no measurable cost in sign-ins per second, because the argon2 buffers are pooled
//! while sign-ins keep coming (docs/performance.md).

/// `mi_option_arena_eager_commit`: index in mimalloc v3's option table (`src/options.c`), and its
/// default there.
const ARENA_EAGER_COMMIT: (libmimalloc_sys::mi_option_t, std::ffi::c_long) = (4, 2);
/// `mi_option_purge_delay` (milliseconds): index and v3 default (the header comment's 10 is v2's).
const PURGE_DELAY: (libmimalloc_sys::mi_option_t, std::ffi::c_long) = (15, 1000);

/// Sets immediate purging and lazy arena commit, unless an option does not hold its documented
/// default: then it was set by a `MIMALLOC_*` variable (the operator's choice wins) or the enum
/// moved in a new mimalloc (nothing is changed rather than the wrong option). Returns whether the
/// options were set. Call first thing in `main`.
pub fn return_freed_memory_promptly() -> bool {
    #[allow(unsafe_code)]
    // SAFETY: mi_option_get and mi_option_set read and write mimalloc's option table; both are
    // thread-safe, take any index (out-of-range ones are ignored) and dereference no pointers.
    unsafe {
        let holds_default = |(index, default): (libmimalloc_sys::mi_option_t, std::ffi::c_long)| {
            libmimalloc_sys::mi_option_get(index) == default
        };
        if !holds_default(ARENA_EAGER_COMMIT) || !holds_default(PURGE_DELAY) {
            return false;
        }
        libmimalloc_sys::mi_option_set(ARENA_EAGER_COMMIT.0, 0);
        libmimalloc_sys::mi_option_set(PURGE_DELAY.0, 0);
    }
    true
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_option_indices_name_options_holding_their_documented_defaults() {
        // The test binary links mimalloc too; without MIMALLOC_* variables the defaults must match,
        // which a shifted enum would not (the neighbours have other defaults).
        if std::env::vars().any(|(k, _)| k.starts_with("MIMALLOC_")) {
            return;
        }
        assert!(super::return_freed_memory_promptly());
        assert!(
            !super::return_freed_memory_promptly(),
            "second call sees the new values and leaves them"
        );
    }
}
