//! The committed header is what the pinned cbindgen writes from these sources.

#[test]
fn committed_header_is_the_generated_one() {
    let generated = std::fs::read_to_string(concat!(env!("OUT_DIR"), "/cdt.h"))
        .expect("the build script wrote cdt.h");
    let committed_path = concat!(env!("CARGO_MANIFEST_DIR"), "/include/cdt.h");
    if std::env::var_os("CDT_UPDATE_HEADER").is_some() {
        std::fs::write(committed_path, &generated).expect("include/cdt.h is writable");
        return;
    }
    let committed = std::fs::read_to_string(committed_path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/cdt.h is not what cbindgen generates from the sources: run \
         `CDT_UPDATE_HEADER=1 cargo test -p cdt-ffi --test header` and commit it"
    );
}
