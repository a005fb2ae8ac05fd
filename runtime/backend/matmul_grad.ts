/**
 * The gradient of `BatchMatMul` with broadcast batch dimensions, fixed for every backend.
 *
 * tfjs-core 4.22.0's gradient returns each input's gradient at the broadcast batch shape
 * (`[2,4,8,16] x [2,1,16,8]` gives b a gradient of shape [2,4,16,8]), and the engine then throws
 * because it does not match b's shape [2,1,16,8]. As for `Add`, the gradient must be summed over the
 * broadcast dimensions. We wrap the stock gradient and do that sum; inputs that were not broadcast
 * are left untouched (no extra op).
 */
import { tf } from "../tf.js";

let installed = false;

function reduceTo(grad: tf.Tensor, shape: number[]): tf.Tensor {
  if (grad.shape.join(",") === shape.join(",")) return grad;
  const axes = tf.backend_util.getReductionAxes(shape, grad.shape);
  const summed = axes.length > 0 ? tf.sum(grad, axes) : grad;
  return tf.reshape(summed, shape);
}

export function installMatMulGradient(): void {
  if (installed) return;
  const stock = tf.getGradient("BatchMatMul");
  if (stock == null) throw new Error("tfjs-core has no gradient for BatchMatMul to wrap");
  tf.registerGradient({
    kernelName: "BatchMatMul",
    inputsToSave: ["a", "b"],
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved;
      const grads = stock.gradFunc(dy, saved, attrs);
      return {
        a: () => reduceTo(grads.a(), a.shape),
        b: () => reduceTo(grads.b(), b.shape),
      };
    },
  });
  installed = true;
}
