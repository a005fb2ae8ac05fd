#!/usr/bin/env bash
# The GPU check (docs/benchmarks.md, "GPU check"): packed here, run on a device machine that has no
# npm and no network, or here on Mesa's software adapter.
#
#   scripts/gpu-check.sh pack [--bundle DIR] [--level N]
#       after `npm run build:bench`: this Node 20 x64, the built runtime and the runtime dependencies the
#       check loads, as DIR/mmfm-gpu.tar.xz (default DIR: .gpu-bundle, git-ignored), under 64 MiB
#   scripts/gpu-check.sh gl
#       downloads the Vulkan and EGL loader packages into .gl/ (apt, as the device README says)
#   scripts/gpu-check.sh device [--bundle DIR] [check options]
#       on the GPU machine, as root, with OUT set: unpacks .gl/*.deb into / and runs ldconfig, makes
#       sure Dawn sees the NVIDIA adapter (else points the Vulkan loader at the NVIDIA driver), runs
#       the full check, and leaves gpu-check.json, gpu-check.md, gpu-check.log and nvidia-smi.txt in $OUT
#   scripts/gpu-check.sh run [--bundle DIR] [--work DIR] [--out DIR] [check options]
#       unpacks the bundle into --work (default /tmp/mmfm-gpu-check) and runs the check with the
#       bundle's own Node; check options: --size full|small, --software, --steps N, --deadline-s S
#   scripts/gpu-check.sh report RESULT.json
#       puts the results into docs/benchmarks.md (after `npm run build:bench`)
#
# On the device (the `device` tool's `run`, carry [".gpu-bundle", ".gl"], timeout_s 600):
#   bash scripts/gpu-check.sh device
# Here, what CI runs (test/backend/gpu_check.test.ts):
#   scripts/gpu-check.sh pack && scripts/gpu-check.sh run --size small --software --out /tmp/out
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bundle="$root/.gpu-bundle"
work="/tmp/mmfm-gpu-check"
out=""

die() {
  echo "gpu-check: $*" >&2
  exit 2
}

# Unpacks $bundle/mmfm-gpu.tar.xz into $work (xz, or Python's tarfile where xz is missing).
unpack() {
  local archive="$bundle/mmfm-gpu.tar.xz"
  [[ -f "$archive" ]] || die "no bundle at $archive: run \`scripts/gpu-check.sh pack\` first"
  rm -rf "$work"
  mkdir -p "$work"
  if command -v xz >/dev/null; then
    xz -dc "$archive" | tar -C "$work" -xf -
  else
    python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$archive" "$work"
  fi
  [[ -x "$work/node" ]] || die "the bundle has no node binary"
}

check() {
  "$work/node" "$work/app/dist/bench/gpu/check.js" "$@"
}

cmd="${1:-}"
[[ -n "$cmd" ]] || die "usage: gpu-check.sh pack|gl|device|run|report ... (see the header of scripts/gpu-check.sh)"
shift

case "$cmd" in
  pack)
    args=()
    while [[ $# -gt 0 ]]; do
      case "$1" in
        --bundle) bundle="$2"; shift 2 ;;
        --level) args+=(--level "$2"); shift 2 ;;
        *) die "pack: unknown option \`$1\`" ;;
      esac
    done
    node "$root/scripts/gpu-pack.js" --bundle "$bundle" ${args[@]+"${args[@]}"}
    ;;

  gl)
    cd "$root"
    mkdir -p .gl /tmp/amd64/partial
    o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
    apt-get "${o[@]}" update
    (cd .gl && apt-get "${o[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
    ls -l .gl
    ;;

  run | device)
    rest=()
    while [[ $# -gt 0 ]]; do
      case "$1" in
        --bundle) bundle="$2"; shift 2 ;;
        --work) work="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        *) rest+=("$1"); shift ;;
      esac
    done
    if [[ "$cmd" == device ]]; then
      out="${out:-${OUT:-}}"
      [[ -n "$out" ]] || die "device: no \$OUT (or --out DIR) to write the results to"
      mkdir -p "$out"
      shopt -s nullglob
      debs=("$root"/.gl/*.deb)
      [[ ${#debs[@]} -gt 0 ]] || echo "gpu-check: no .gl/*.deb (run \`scripts/gpu-check.sh gl\` here and carry .gl); using the machine's loader" >&2
      for f in "${debs[@]}"; do dpkg -x "$f" /; done
      ldconfig
      ldconfig -p | grep -q 'libvulkan\.so\.1' || echo "gpu-check: still no libvulkan.so.1 after ldconfig" >&2
      unpack
      nvidia-smi >"$out/nvidia-smi.txt" 2>&1 || true
      # Dawn must list the NVIDIA adapter; if the loader finds no NVIDIA driver, name it.
      if ! check --adapters >"$out/adapters.json" 2>>"$out/gpu-check.log"; then
        icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
        egl=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
        echo "gpu-check: no hardware adapter at first; retrying with VK_DRIVER_FILES=$icd" | tee -a "$out/gpu-check.log" >&2
        export VK_DRIVER_FILES="$icd" __EGL_VENDOR_LIBRARY_FILENAMES="$egl"
        check --adapters >"$out/adapters.json" 2>>"$out/gpu-check.log" || true
      fi
      cat "$out/adapters.json" >&2
      set +e
      check --out "$out" --work "$work/data" --size full ${rest[@]+"${rest[@]}"} 2>&1 | tee -a "$out/gpu-check.log"
      status=${PIPESTATUS[0]}
      set -e
      exit "$status"
    fi
    unpack
    [[ -n "$out" ]] || out="$work/out"
    check --out "$out" --work "$work/data" ${rest[@]+"${rest[@]}"}
    ;;

  report)
    [[ $# -eq 1 ]] || die "usage: gpu-check.sh report RESULT.json"
    [[ -f "$root/bench/out/bench/gpu/report.js" ]] || die "run \`npm run build:bench\` first"
    node "$root/bench/out/bench/gpu/report.js" "$1" --write "$root/docs/benchmarks.md"
    ;;

  *)
    die "unknown command \`$cmd\`; expected pack, gl, device, run or report"
    ;;
esac
