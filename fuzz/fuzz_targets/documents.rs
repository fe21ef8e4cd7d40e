//! Fuzz target: the JSON documents of an image — index/manifest
//! (`Document::parse`, which refuses ambiguous documents), config, docker-save
//! `manifest.json` — and every digest and media type found in them.
#![no_main]

use imgaudit::digest::Digest;
use imgaudit::source::docs::{layer_compression, parse_json, Config, DockerSaveEntry, Document};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = Document::parse(data, "fuzz") {
        let _ = doc.is_index();
        let descs = doc
            .manifests
            .iter()
            .flatten()
            .chain(doc.layers.iter().flatten())
            .chain(doc.config.iter());
        for d in descs {
            if let Ok(dg) = d.digest("fuzz") {
                // A validated digest is always safe as a file name.
                assert!(dg.hex().bytes().all(|b| b.is_ascii_hexdigit()));
                assert_eq!(dg.hex().len(), 64);
            }
            let _ = d.checked_size("fuzz");
            let _ = layer_compression(&d.media_type, "fuzz");
            if let Some(p) = &d.platform {
                let _ = p.display();
            }
        }
    }
    if let Ok(cfg) = parse_json::<Config>(data, "fuzz") {
        let n = cfg.rootfs.diff_ids.len();
        assert_eq!(cfg.layer_history(n).len(), n);
        for d in &cfg.rootfs.diff_ids {
            let _ = Digest::parse(d, "fuzz");
        }
        let _ = cfg.platform().display();
    }
    if let Ok(Some(entries)) = parse_json::<Option<Vec<DockerSaveEntry>>>(data, "fuzz") {
        for e in entries {
            let _ = imgaudit::source::store::clean_rel_path(&e.config, "fuzz");
            for l in &e.layers {
                if let Ok(p) = imgaudit::source::store::clean_rel_path(l, "fuzz") {
                    assert!(!p.starts_with('/') && !p.split('/').any(|s| s == ".."));
                }
            }
        }
    }
});
