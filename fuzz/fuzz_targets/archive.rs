//! Fuzz target: an outer archive (docker-save, Docker 25+ or OCI archive,
//! maybe gzip-compressed) through the whole pipeline: the archive index
//! (`TarStore`), resolution (manifest.json / index.json, nested indexes,
//! platform choice, digests, configs), then every layer decoded, stacked,
//! classified and analysed. The bytes are written to a temporary file in a
//! private directory, which is also the cache directory.
#![no_main]

use imgaudit::classify::Rules;
use imgaudit::layer::{Limits, Verify};
use imgaudit::run::{analyze_image, AnalyzeOptions, NoProgress};
use imgaudit::source::{open, ImageRef, ResolveOptions};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

struct Env {
    dir: tempfile::TempDir,
    rules: Rules,
}

fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| Env {
        dir: tempfile::tempdir().expect("temp dir"),
        rules: Rules::load(&[]).expect("built-in rules"),
    })
}

fuzz_target!(|data: &[u8]| {
    let env = env();
    let path = env.dir.path().join("image.tar");
    std::fs::write(&path, data).expect("write input");
    let opts = AnalyzeOptions {
        resolve: ResolveOptions {
            cache_dir: Some(env.dir.path().join("cache")),
            ..ResolveOptions::default()
        },
        verify: Verify::Full,
        limits: Limits {
            max_layer_bytes: 16 << 20,
            max_entries: 1 << 20,
        },
        jobs: Some(1),
        ..AnalyzeOptions::default()
    };
    let Ok(image) = open(&ImageRef::Path(path), &opts.resolve) else {
        return;
    };
    let _ = analyze_image(&image, &env.rules, &opts, &NoProgress);
});
