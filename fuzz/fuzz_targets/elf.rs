//! Fuzz target: the streaming ELF probe (`layer/elf.rs`), fed the file in
//! uneven chunks as the tar walker would, with the declared size both exact
//! and larger than the bytes (a truncated file).
#![no_main]

use imgaudit::layer::elf::ElfProbe;
use libfuzzer_sys::fuzz_target;

fn run(data: &[u8], size: u64, step: usize) {
    let head = &data[..data.len().min(64)];
    let Some(mut p) = ElfProbe::start(head, size) else {
        return;
    };
    let mut off = 0usize;
    while off < data.len() {
        let end = (off + step).min(data.len());
        p.feed(off as u64, &data[off..end]);
        off = end;
    }
    if let Some(f) = p.finish() {
        assert!(f.debug_bytes <= f.strippable_bytes);
        assert!(
            f.strippable_bytes <= size,
            "{} > {size}",
            f.strippable_bytes
        );
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 64 {
        return;
    }
    let step = 1 + data[data.len() - 1] as usize * 37;
    run(data, data.len() as u64, step);
    run(data, data.len() as u64 + 4096, 4096);
});
