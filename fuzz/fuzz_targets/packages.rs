//! Fuzz target: the package-database parsers (dpkg status and `.list`,
//! Python `RECORD`, apk `installed`) and the path helpers they use. The
//! parsers never fail; every path they return must be relative and free of
//! `..`.
#![no_main]

use imgaudit::classify::packages::{
    dpkg_list_package, parse_apk, parse_dpkg_list, parse_dpkg_status, parse_record, record_meta,
};
use libfuzzer_sys::fuzz_target;

fn safe(p: &[u8]) -> bool {
    !p.split(|&b| b == b'/').any(|s| s == b"..")
}

fuzz_target!(|data: &[u8]| {
    let _ = parse_dpkg_status(data);
    for p in parse_dpkg_list(data) {
        assert!(safe(&p), "{:?}", String::from_utf8_lossy(&p));
    }
    let (root, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b"usr/lib/python3/site-packages"[..], data),
    };
    for p in parse_record(body, root) {
        assert!(safe(&p), "{:?}", String::from_utf8_lossy(&p));
    }
    for (_, _, files) in parse_apk(data) {
        for p in files {
            assert!(safe(&p), "{:?}", String::from_utf8_lossy(&p));
        }
    }
    let _ = record_meta(root);
    let _ = dpkg_list_package(root);
});
