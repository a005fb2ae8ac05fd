{{stamp}}
# Settings and helpers shared by the scripts of experiment {{experiment}}; every setting can be
# overridden from the environment. Sourced, not run.

EXPORT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# the folder the spec's relative paths (datasets, images, weights) are relative to: the spec's folder
[ -n "${SPEC_DIR:-}" ] || SPEC_DIR="$EXPORT_DIR"/{{spec_dir}}
# a checkout of LLaVA-Gemma (IntelLabs/multimodal_cognitive_ai, folder LLaVA-Gemma)
LLAVA_DIR="${LLAVA_DIR:-$PWD}"
# where the stages write their checkpoints, and the evaluations their scores
CHECKPOINTS="${CHECKPOINTS:-$EXPORT_DIR/checkpoints}"
RESULTS="${RESULTS:-$EXPORT_DIR/results}"
# MMFM_DRY_RUN=1 prints the commands instead of running them
MMFM_DRY_RUN="${MMFM_DRY_RUN:-0}"

mmfm_fail() { echo "mmfm: $*" >&2; exit 1; }

mmfm_dry() { [ "$MMFM_DRY_RUN" = 1 ]; }

if mmfm_dry; then
  deepspeed() { echo "+ deepspeed $*"; }
  python() { echo "+ python $*"; }
fi

mmfm_mkdir() { mmfm_dry || mkdir -p "$1"; }

mmfm_cd() { if mmfm_dry; then echo "+ cd $1"; else cd "$1"; fi; }

mmfm_tee() { if mmfm_dry; then cat; else mkdir -p "$(dirname "$1")" && tee "$1"; fi; }

# run from the LLaVA checkout, as LLaVA's scripts do
mmfm_enter_llava() {
  [ -f "$LLAVA_DIR/llava/train/train_mem.py" ] ||
    mmfm_fail "LLAVA_DIR=$LLAVA_DIR is not a LLaVA-Gemma checkout (no llava/train/train_mem.py); set LLAVA_DIR"
  cd "$LLAVA_DIR"
  export PYTHONPATH=$PWD
}

# LLaVA-Gemma's fork lacks some of LLaVA's scripts/convert_*.py
mmfm_require_llava_file() {
  [ -f "$1" ] || mmfm_dry || mmfm_fail "$LLAVA_DIR/$1 is missing: copy it from haotian-liu/LLaVA ($1)"
}

# The gradient accumulation was derived from the declared devices: other counts change the global batch.
mmfm_check_devices() { # COUNT gpu|gaudi
  { mmfm_dry || [ "${MMFM_SKIP_DEVICE_CHECK:-0}" = 1 ]; } && return 0
  local visible
  if [ "$2" = gaudi ]; then
    if [ -n "${HABANA_VISIBLE_DEVICES:-}" ]; then visible=$(tr ',' '\n' <<< "$HABANA_VISIBLE_DEVICES" | grep -c .)
    else visible=$(hl-smi -Q module_id -f csv | tail -n +2 | grep -c .); fi
  else
    if [ -n "${CUDA_VISIBLE_DEVICES:-}" ]; then visible=$(tr ',' '\n' <<< "$CUDA_VISIBLE_DEVICES" | grep -c .)
    else visible=$(nvidia-smi -L | grep -c '^GPU'); fi
  fi
  [ "$visible" = "$1" ] ||
    mmfm_fail "this stage was exported for $1 devices but $visible are visible (set MMFM_SKIP_DEVICE_CHECK=1 for several nodes)"
}

# the environment of LLaVA-Gemma's scripts/v1_5/*_gaudi.sh
mmfm_gaudi_env() {
  export PT_HPU_MAX_COMPOUND_OP_SIZE=1000
  export PT_HPU_POOL_MEM_ACQUIRE_PERC=100
  export PT_HPU_RECIPE_CACHE_CONFIG=$PWD/pt_cache,True,20000
  if mmfm_dry; then return 0; fi
  LOCAL_RANK_MAP=$(hl-smi -Q module_id -f csv | tail -n +2 | tr '\n' ',' | sed 's/,$//')
  export LOCAL_RANK_MAP
}

# One writer per folder: variants that share a stage wait for each other, then skip it.
mmfm_lock() {
  mmfm_dry && return 0
  mkdir -p "$1"
  command -v flock > /dev/null || return 0
  exec {MMFM_LOCK_FD}> "$1/.mmfm-lock"
  flock "$MMFM_LOCK_FD"
}

# A stage's folder records the key of the configuration it holds (the plan's cache key).
mmfm_stage_begin() { # DIR KEY; returns 1 when the stage is done already
  mmfm_dry && return 0
  mmfm_lock "$1"
  if [ -f "$1/.mmfm-done" ] && [ "$(cat "$1/.mmfm-done")" = "$2" ]; then
    echo "mmfm: $1 is done, skipped" >&2
    return 1
  fi
  if [ -f "$1/.mmfm-key" ] && [ "$(cat "$1/.mmfm-key")" != "$2" ]; then
    mmfm_fail "$1 holds another configuration (key $(cat "$1/.mmfm-key")); move it away or set CHECKPOINTS"
  fi
  echo "$2" > "$1/.mmfm-key"
}

mmfm_stage_end() { mmfm_dry || echo "$2" > "$1/.mmfm-done"; }

mmfm_require_done() { # DIR KEY
  mmfm_dry && return 0
  [ -f "$1/.mmfm-done" ] && [ "$(cat "$1/.mmfm-done")" = "$2" ] ||
    mmfm_fail "$1 is not trained yet: run the stage before this one first"
}

# concatenate the answers of the chunks, as LLaVA's eval scripts do
mmfm_merge() { # OUTPUT DIR CHUNKS
  if mmfm_dry; then echo "+ merge $2/$3_*.jsonl > $1"; return 0; fi
  : > "$1"
  local idx
  for idx in $(seq 0 $(($3 - 1))); do cat "$2/$3_${idx}.jsonl" >> "$1"; done
}
