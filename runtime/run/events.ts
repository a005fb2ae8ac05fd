/** What a run reports as it goes; the command line renders it as progress bars or plain lines. */
export type RunEvent =
  | { readonly type: "variant"; readonly variant: string; readonly index: number; readonly count: number }
  | {
      readonly type: "stage-start";
      readonly variant: string;
      readonly stage: string;
      readonly kind: "stage" | "eval";
      /** optimizer steps (training) or items (evaluation) */
      readonly steps: number;
      readonly resumedFrom?: number;
      readonly description: string;
      readonly trainable?: string;
    }
  | {
      readonly type: "step";
      readonly variant: string;
      readonly stage: string;
      readonly step: number;
      readonly steps: number;
      /** training loss of the step; NaN for evaluation progress */
      readonly loss: number;
      readonly samplesPerSecond: number;
      readonly seconds: number;
    }
  | { readonly type: "checkpoint"; readonly variant: string; readonly stage: string; readonly step: number }
  | {
      readonly type: "stage-end";
      readonly variant: string;
      readonly stage: string;
      readonly seconds: number;
      readonly finalLoss?: number;
      readonly metrics?: Readonly<Record<string, number>>;
    }
  | { readonly type: "stage-cached"; readonly variant: string; readonly stage: string; readonly computedBy: string }
  | { readonly type: "note"; readonly message: string };
