/**
 * Registers tfjs's gradients (and chained tensor methods such as `x.mul(y)`) with this runtime's
 * tfjs-core.
 *
 * `@tensorflow/tfjs-core`'s Node bundle (`dist/tf-core.node.js`, what `import "@tensorflow/tfjs-core"`
 * loads) registers no gradients and no chained ops: the all-in-one `@tensorflow/tfjs` package does
 * that, and it is not a dependency here. Without it every `tf.grad`/`tf.variableGrads` fails with
 * "gradient function not found". The gradient definitions ship only as ES-module files under
 * `dist/gradients/` whose relative imports have no `.js` extension, in a package Node treats as
 * CommonJS, so Node cannot import them as they are.
 *
 * We add two Node module hooks (`module.register`, Node >= 20.6) that apply to files inside
 * `@tensorflow/tfjs-core/dist/` only: add `.js` to extension-less relative specifiers, and load those
 * files as ES modules. Then `register_all_gradients.js` and `register_all_chained_ops.js` import as
 * tfjs intends. They register into tfjs's global registries (kept on `globalThis`), so the gradients
 * apply to the runtime's tfjs instance. It costs ~0.5 s once per process.
 */
import { register } from "node:module";
import { tf } from "../tf.js";

const HOOKS = `
const DIST = /\\/@tensorflow\\/tfjs-core\\/dist\\//;
const BUNDLE = /\\/tf-core[.\\w]*\\.js$/;
export async function resolve(specifier, context, next) {
  if (context.parentURL && DIST.test(context.parentURL) && specifier.startsWith(".") && !specifier.endsWith(".js")) {
    try { return await next(specifier + ".js", context); } catch { return next(specifier + "/index.js", context); }
  }
  return next(specifier, context);
}
export async function load(url, context, next) {
  if (DIST.test(url) && url.endsWith(".js") && !BUNDLE.test(url)) return next(url, { ...context, format: "module" });
  return next(url, context);
}
`;

let loading: Promise<void> | null = null;

/** Registers every tfjs gradient and chained op once per process (later calls return the same promise). */
export function registerGradients(): Promise<void> {
  loading ??= (async () => {
    const chainedPresent = typeof (tf.Tensor.prototype as unknown as { mul?: unknown }).mul === "function";
    if (tf.getGradient("BatchMatMul") != null && chainedPresent) {
      return; // something (e.g. @tensorflow/tfjs) already registered them
    }
    register(`data:text/javascript,${encodeURIComponent(HOOKS)}`);
    const gradients: string = "@tensorflow/tfjs-core/dist/register_all_gradients.js";
    const chained: string = "@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js";
    await import(gradients);
    await import(chained);
    if (tf.getGradient("BatchMatMul") == null) {
      throw new Error("registering tfjs gradients failed: BatchMatMul still has none");
    }
  })();
  return loading;
}
