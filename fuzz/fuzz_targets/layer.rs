//! Fuzz target: one layer's bytes through the whole layer stage — sniffing,
//! gzip/zstd decoding under a small decompressed-bytes budget, the bounded
//! tar walker, whiteouts and opaque markers, the content probes, digest
//! verification — then stacked twice onto a tree (so a layer is also its
//! own lower layer) and walked.
#![no_main]

use imgaudit::digest::Digest;
use imgaudit::layer::{read_layer, Inflater, Limits, Verify};
use imgaudit::source::LayerSpec;
use imgaudit::tree::Tree;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let spec = LayerSpec {
        index: 0,
        path: "fuzz".into(),
        digest: None,
        diff_id: Digest::of_bytes(b"not the real diff_id"),
        media_type: None,
        compression: None,
        compressed_size: None,
        created_by: None,
    };
    let limits = Limits {
        max_layer_bytes: 16 << 20,
        max_entries: 1 << 20,
    };
    let Ok(mut lc) = read_layer(
        &spec,
        Box::new(std::io::Cursor::new(data.to_vec())),
        Verify::None,
        limits,
        Inflater::Auto,
        true,
        &|_| {},
    ) else {
        return;
    };
    assert!(lc.stored_bytes == data.len() as u64);
    let mut again = lc.clone();
    again.index = 1;
    let mut tree = Tree::new();
    tree.apply(&mut lc);
    tree.apply(&mut again);
    let reached = tree.walk_final(|_| {});
    tree.settle_waste(&reached);
    let _ = tree.dive_figures();
});
