//! Writes the C header `cdt.h` into `OUT_DIR` with the pinned cbindgen. The committed
//! `include/cdt.h` must be the same file: `tests/header.rs` compares them, and
//! `CDT_UPDATE_HEADER=1 cargo test -p cdt-ffi --test header` rewrites the committed one.

fn main() {
    let crate_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    let config = cbindgen::Config::from_file(format!("{crate_dir}/cbindgen.toml"))
        .expect("cdt-ffi/cbindgen.toml is readable");
    cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("the C header can be generated")
        .write_to_file(format!("{out}/cdt.h"));
}
