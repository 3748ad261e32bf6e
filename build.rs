//! Link options for the `ripen` binary (not the library or its dependencies).
//!
//! Every run of `ripen` is a short process, so the dynamic loader's start-up
//! work counts: the position-independent binary carries ~34k relative
//! relocations. Packed as RELR (`-z pack-relative-relocs`, GNU ld 2.38+ with
//! glibc 2.36+; linkers without it ignore the option with a warning) they
//! take a few kilobytes instead of ~800 KB of `.rela.dyn` that the loader
//! reads and walks on every start. The binary stays position-independent
//! (address-space randomisation is kept).

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo::rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
