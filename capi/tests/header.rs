//! `include/brisk.h` is generated from this crate: this test regenerates it
//! and fails when the checked-in copy differs. `BRISK_BLESS=1` writes the
//! new one instead.

use std::path::Path;

#[test]
fn the_checked_in_header_is_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut config =
        cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("capi/cbindgen.toml parses");
    config.trailer = Some(
        std::fs::read_to_string(dir.join("src/inline.h")).expect("capi/src/inline.h is readable"),
    );
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(dir.join("src/lib.rs"))
        .generate()
        .expect("cbindgen reads the crate");
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    let path = dir.join("include/brisk.h");
    if std::env::var_os("BRISK_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("include/brisk.h is writable");
        return;
    }
    let checked_in = std::fs::read(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "capi/include/brisk.h is stale: regenerate it with \
         `BRISK_BLESS=1 cargo test -p brisk-capi --test header` and commit it"
    );
}
