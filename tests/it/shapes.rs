//! The same image in every input shape (built by testdata/recipes with umoci,
//! skopeo and docker) gives identical figures, equal to the sizes the recipe
//! wrote (expected.json, computed by the recipe, not by imgaudit).

use crate::common::{accounting_fixtures, analyze_json};
use serde_json::Value;

const SHAPES: &[&str] = &[
    "oci",
    "oci-zstd",
    "oci-archive.tar",
    "docker-archive.tar",
    "docker-archive.tar.gz",
    "docker-legacy.tar",
    "docker25.tar",
];

#[test]
fn every_shape_matches_the_recipe() {
    let Some(dir) = accounting_fixtures() else {
        return;
    };
    let expected: Value =
        serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
    let mut seen = Vec::new();
    let mut shapes: Vec<String> = SHAPES.iter().map(|s| s.to_string()).collect();
    if dir.join("docker-save.tar").exists() {
        shapes.push("docker-save.tar".into());
    }
    for shape in &shapes {
        let path = dir.join(shape);
        let a = analyze_json(path.to_str().unwrap(), &[]);
        let t = &a["totals"];
        assert_eq!(t["final_bytes"], expected["final_bytes"], "{shape}");
        assert_eq!(t["wasted_bytes"], expected["wasted_bytes"], "{shape}");
        assert_eq!(t["layer_bytes"], expected["total_file_bytes"], "{shape}");
        assert_eq!(t["files"], expected["files"], "{shape}");
        let layers = a["layers"].as_array().unwrap();
        let exp_layers = expected["layers"].as_array().unwrap();
        assert_eq!(layers.len(), exp_layers.len(), "{shape}");
        for (l, e) in layers.iter().zip(exp_layers) {
            assert_eq!(
                l["file_bytes"], e["file_bytes"],
                "{shape} layer {}",
                e["index"]
            );
            assert_eq!(
                l["wasted_bytes"], e["wasted_bytes"],
                "{shape} layer {}",
                e["index"]
            );
            assert_eq!(
                l["created_by"], e["created_by"],
                "{shape} layer {}",
                e["index"]
            );
        }
        assert_eq!(
            a["largest_files"][0]["path"], expected["largest_file"]["path"],
            "{shape}"
        );
        assert_eq!(
            a["largest_files"][0]["bytes"], expected["largest_file"]["bytes"],
            "{shape}"
        );
        // Each layer's download bytes are its stored size; the image's, their sum.
        let layers = a["layers"].as_array().unwrap();
        let mut sum = 0;
        for l in layers {
            if let Some(c) = l["compressed_bytes"].as_u64() {
                assert_eq!(l["download_bytes"].as_u64(), Some(c), "{shape}");
            }
            sum += l["download_bytes"].as_u64().unwrap();
        }
        assert_eq!(a["totals"]["download_bytes"].as_u64(), Some(sum), "{shape}");
        // Everything but source fields and compressed sizes is identical across shapes.
        let mut norm = a.clone();
        crate::common::without_download(&mut norm);
        norm["image"] = Value::Null;
        norm["totals"]["compressed_bytes"] = Value::Null;
        norm["savings"]["minimum_compressed_bytes"] = Value::Null;
        for l in norm["layers"].as_array_mut().unwrap() {
            for k in ["digest", "media_type", "compressed_bytes", "compression"] {
                l[k] = Value::Null;
            }
        }
        seen.push((shape.clone(), norm));
    }
    for (shape, norm) in &seen[1..] {
        assert_eq!(norm, &seen[0].1, "{shape} differs from {}", seen[0].0);
    }
}
