/**
 * Names of variants: the one rule for a variant's id and its folder. An id is the experiment's name,
 * `/`, and the variant's axis labels joined by `-` (`default` for an experiment without axes); the
 * folder of a variant (under the build, run and export folders of its experiment) is the part after
 * the `/`. Labels are checked to be safe file names before an id is made (E0408).
 */

/** `llava_gemma_ablations/pretrained-clip-2b` from the experiment and its labels in axis order. */
export function variantId(experiment: string, labels: readonly string[]): string {
  return `${experiment}/${labels.length ? labels.join("-") : "default"}`;
}

/** The variant's folder name: its id without the experiment (`pretrained-clip-2b`). */
export function variantFolder(id: string): string {
  return id.slice(id.indexOf("/") + 1);
}

/** The experiment's name: its id up to the `/`. */
export function experimentOf(id: string): string {
  return id.slice(0, id.indexOf("/"));
}
