#!/usr/bin/env bash
# Build the fuzz targets with libFuzzer's coverage instrumentation on the
# stable toolchain (no sanitizer, no nightly: the same -C flags cargo-fuzz
# passes with `-s none`), then run each named target for SECONDS, starting
# from its seed corpus (fuzz/seeds/TARGET) and its working corpus
# (fuzz/corpus/TARGET, not committed). Crashes land in fuzz/artifacts/TARGET.
#
#   fuzz/run.sh SECONDS [TARGET...]      (default: every target)
#
# Exit status: non-zero when a target finds a crash (or fails to build).
set -euo pipefail
cd "$(dirname "$0")"

secs="${1:?usage: fuzz/run.sh SECONDS [TARGET...]}"
shift
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
  targets=(documents packages elf layer archive inflate)
fi
host="$(rustc -vV | sed -n 's/^host: //p')"

export RUSTFLAGS="${RUSTFLAGS:-} -Cpasses=sancov-module \
  -Cllvm-args=-sanitizer-coverage-level=4 \
  -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
  -Cllvm-args=-sanitizer-coverage-pc-table \
  -Cllvm-args=-sanitizer-coverage-trace-compares \
  --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
# --target keeps the instrumentation away from build scripts and proc macros.
# Not --locked: when the main crate gains a dependency, cargo adds it to
# fuzz/Cargo.lock (keeping every existing pin) instead of failing the run;
# FUZZ_LOCKED=1 insists on the committed lock file.
cargo build ${FUZZ_LOCKED:+--locked} --release --target "$host" --bins
bin="target/$host/release"

status=0
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  seeds=()
  [ -d "seeds/$t" ] && seeds=("seeds/$t")
  echo "== fuzz $t for ${secs}s"
  # -rss_limit_mb: a target that needs more than this is a finding too.
  if ! "$bin/$t" "corpus/$t" "${seeds[@]}" \
      -max_total_time="$secs" -rss_limit_mb=1024 -timeout=20 \
      -max_len=1048576 -print_final_stats=1 \
      -artifact_prefix="artifacts/$t/" 2>"artifacts/$t/log.txt"; then
    echo "!! $t found a crash; see fuzz/artifacts/$t/" >&2
    tail -n 40 "artifacts/$t/log.txt" >&2
    status=1
  fi
  grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb|^stat::new_units_added' "artifacts/$t/log.txt" | sed "s/^/  $t /" || true
done
exit "$status"
