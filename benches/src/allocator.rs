//! The memory allocator under every bench and brisk-lab binary.
//!
//! brisk allocates one heap block per object, as CPython does, so what the
//! allocator costs shows up in every figure that makes, frees or walks
//! objects. By default the binaries of this crate (and anything else that
//! links it) run on [mimalloc], the allocator CPython's free-threaded build
//! uses for its objects (PEP 703, "Memory management"): size-segregated
//! pages with no per-block header, so 64-byte objects sit one to a cache
//! line, side by side. glibc's malloc puts a 16-byte header before every
//! block, so the same objects lie 80 bytes apart and most of them straddle
//! two lines; a walk over a freshly built graph then waits on nearly twice
//! the lines (the move walk of `send_cost` runs about a third faster on
//! mimalloc on the 2-core box).
//!
//! Build with `--no-default-features` to measure on the system allocator
//! instead; [`NAME`] says which one a build uses, and brisk-lab records it
//! with every result that times brisk-lab itself. The `brisk` interpreter
//! does not link this crate and runs on the system allocator, which
//! brisk-lab records for the experiments that time it
//! ([`crate::lab::env::Binary`]). The libraries (`brisk-refcount`,
//! `brisk-gc`, `brisk-runtime`) never choose an allocator: that is the
//! embedding program's call.
//!
//! [mimalloc]: https://github.com/microsoft/mimalloc

/// The allocator this build runs on.
#[cfg(feature = "mimalloc")]
pub const NAME: &str = "mimalloc";

/// The allocator this build runs on.
#[cfg(not(feature = "mimalloc"))]
pub const NAME: &str = "system";

#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
