//! Build script: gives the shared library its SONAME and generates
//! `include/sock.h` from the crate's own C API with cbindgen.
//!
//! The header is checked in; `make check-header` regenerates it and fails on
//! any difference, so it cannot drift from the code.

use std::env;
use std::fs;
use std::path::PathBuf;

fn main() {
    // A cdylib gets no SONAME from cargo. Programs linked with -lsock record
    // libsock.so.0, so an ABI break can ship as libsock.so.1 beside it.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libsock.so.0");

    let root =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");

    let config =
        cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml is valid");
    let header = cbindgen::Builder::new()
        .with_crate(&root)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut text = Vec::new();
    header.write(&mut text);

    // Rewrite only on change: an untouched mtime keeps make from rebuilding C.
    let path = root.join("include").join("sock.h");
    if fs::read(&path).ok().as_deref() != Some(&text[..]) {
        fs::create_dir_all(path.parent().expect("include/ has a parent")).expect("create include/");
        fs::write(&path, &text).expect("write include/sock.h");
    }
}
