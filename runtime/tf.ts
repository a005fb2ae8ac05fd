/**
 * The one tfjs instance the runtime uses. Models and training import `tf` from here only, so that the
 * backend chosen by `runtime/backend` applies everywhere. Importing this module registers the
 * reference `cpu` backend; faster backends are registered by `runtime/backend`.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";

// Production mode only silences tfjs's console warnings (its "install tfjs-node" banner among them):
// mmfm chooses and reports its backend itself (runtime/backend).
tf.enableProdMode();

export { tf };
export type Tensor = tf.Tensor;
export type Variable = tf.Variable;
