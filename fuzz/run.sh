#!/usr/bin/env bash
# Runs one cargo-fuzz target (or all) for SECONDS each, seeding its corpus from the
# repository's examples first. Usage: fuzz/run.sh [TARGET|all] [SECONDS]
# Needs cargo-fuzz (`cargo install cargo-fuzz`); RUSTC_BOOTSTRAP=1 lets the stable toolchain
# take the sanitizer flags cargo-fuzz passes.
set -euo pipefail
cd "$(dirname "$0")"
target="${1:-all}"
seconds="${2:-1200}"
export RUSTC_BOOTSTRAP=1

seed() {
  local t="$1"
  mkdir -p "corpus/$t"
  case "$t" in
    gir_parser) cp ../ir/*.gir ../tests/ir/*.gir "corpus/$t/" ;;
    stablehlo) cp ../tests/stablehlo/*.mlir "corpus/$t/" ;;
    cli_args)
      # The first character picks the function; NUL separates the arguments.
      printf 'a10\0-2.5' > "corpus/$t/scalars"
      printf 'b[1, -2, inf, nan]\0iota:u8[2,3]' > "corpus/$t/tensors"
      printf 'c[true, false, true]\0-inf\0rand(3):bf16[2]\0-9223372036854775808' > "corpus/$t/mixed"
      ;;
    tensor_files) cp ../tests/data/npy/* "corpus/$t/" 2>/dev/null || true ;;
    *) ;;
  esac
}

targets=("$target")
if [ "$target" = all ]; then
  mapfile -t targets < <(cargo fuzz list)
fi
mkdir -p logs
for t in "${targets[@]}"; do
  seed "$t"
  echo "== $t for ${seconds}s"
  # -a keeps debug assertions and overflow checks on, so arithmetic that overflows on some
  # input is a finding; -rss_limit_mb bounds the process: a run that allocates past it is one
  # too.
  cargo fuzz run -a "$t" "corpus/$t" -- -max_total_time="$seconds" -rss_limit_mb=4096 \
    -print_final_stats=1 2>&1 | tee "logs/$t.log" \
    | { grep -E '^#[0-9]+.*(INITED|DONE)|^stat::|ERROR|panicked' || true; }
done
