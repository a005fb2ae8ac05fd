/**
 * A worker thread of a parallel run (parallel.ts): starts the backend it is told, then runs the
 * groups of variants the parent sends, one variant after another, sending back progress events and
 * each group's results or its error.
 */
import { parentPort, workerData } from "node:worker_threads";
import { initBackend } from "../backend/index.js";
import { runVariant, type VariantContext, type VariantResult } from "./variant.js";
import { isInputError } from "./input_errors.js";
import type { FromWorker, ToWorker, WorkerError, WorkerSetup } from "./parallel.js";
import { RunInterrupted } from "./stop.js";
import { RunStore } from "./store.js";

const port = parentPort;
if (!port) throw new Error("runtime/run/worker.js runs as a worker thread of a parallel run");
const setup = workerData as WorkerSetup;
const send = (m: FromWorker) => port.postMessage(m);

function describe(error: unknown): WorkerError {
  if (error instanceof RunInterrupted) return { message: error.message, input: false, interrupted: { signal: error.signal, place: error.place } };
  if (error instanceof Error) return { message: error.message, stack: error.stack, input: isInputError(error) };
  return { message: String(error), input: false };
}

const stop = new AbortController();
const ctx: VariantContext = {
  store: new RunStore(setup.dir),
  data: setup.data,
  emit: (event) => send({ type: "event", event }),
  stop: stop.signal,
  stopAfter: setup.stopAfter,
};

port.on("message", (m: ToWorker) => {
  if (m.type === "stop") {
    if (!stop.signal.aborted) stop.abort(m.reason);
    return;
  }
  void (async () => {
    const result: VariantResult = { computed: [], cached: [] };
    try {
      for (const v of m.variants) {
        const r = await runVariant(ctx, v.input, v.index, m.count, v.start);
        result.computed.push(...r.computed);
        result.cached.push(...r.cached);
      }
      send({ type: "done", result });
    } catch (error) {
      send({ type: "failed", error: describe(error) });
    }
  })();
});

try {
  await initBackend({ backend: setup.backend.name, threads: setup.backend.threads });
  send({ type: "ready" });
} catch (error) {
  send({ type: "failed", error: describe(error) });
}
