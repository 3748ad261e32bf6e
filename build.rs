//! Link options for the `ripen` binary (not the library or its dependencies).
//!
//! Every run of `ripen` is a short process, so the dynamic loader's start-up
//! work counts: the position-independent binary carries ~34k relative
//! relocations. Packed as RELR (`-z pack-relative-relocs`, GNU ld 2.38+ with
//! glibc 2.36+; linkers without it ignore the option with a warning) they
//! take a few kilobytes instead of ~800 KB of `.rela.dyn` that the loader
//! reads and walks on every start. The binary stays position-independent
//! (address-space randomisation is kept).
//!
//! With rustc's own LLD (the default linker for x86_64-unknown-linux-gnu
//! since Rust 1.90) the functions a `search` runs are also laid out side by
//! side (`--symbol-ordering-file`, list made by `scripts/hot-functions`):
//! ~1 MB of hot code in one run instead of scattered over 13 MB of `.text`,
//! so a process takes ~85 fewer page faults. Names the list holds that the
//! binary lacks are skipped; other linkers (GNU ld refuses the option) get
//! no list.

use std::env::var;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=link/hot-functions.txt");
    println!("cargo::rerun-if-env-changed=RUSTC_LINKER");
    let os = var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo::rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
    if links_with_rust_lld() {
        let order = std::path::Path::new(&var("CARGO_MANIFEST_DIR").unwrap_or_default()).join("link/hot-functions.txt");
        println!("cargo::rustc-link-arg-bins=-Wl,--symbol-ordering-file={}", order.display());
        println!("cargo::rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    }
}

/// Whether the binary is linked by rustc's bundled LLD: the target where it
/// is the default, a rustc from 1.90 on, and no linker chosen through cargo
/// or RUSTFLAGS.
fn links_with_rust_lld() -> bool {
    let flags = var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    var("TARGET").is_ok_and(|t| t == "x86_64-unknown-linux-gnu")
        && var("RUSTC_LINKER").is_err()
        && !["linker", "fuse-ld", "link-self-contained"].iter().any(|f| flags.contains(f))
        && rustc_minor().is_some_and(|minor| minor >= 90)
}

/// The minor version of the rustc building this (`rustc 1.95.0 (...)`: 95).
fn rustc_minor() -> Option<u32> {
    let out = std::process::Command::new(var("RUSTC").ok()?).arg("--version").output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let version = text.split_whitespace().nth(1)?;
    let mut parts = version.split('.');
    (parts.next()? == "1").then_some(())?;
    parts.next()?.parse().ok()
}
