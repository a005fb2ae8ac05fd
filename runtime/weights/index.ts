export {
  SAFETENSORS_DTYPES,
  SafetensorsError,
  decodeTensor,
  halfToFloat,
  numel,
  parseHeader,
  serializeSafetensors,
  type HostTensor,
  type SafetensorsDtype,
  type SafetensorsHeader,
  type TensorEntry,
  type TensorToWrite,
} from "./safetensors.js";
export {
  INDEX_FILE,
  SINGLE_FILE,
  openCheckpoint,
  readCheckpoint,
  readHeader,
  writeCheckpoint,
  type Checkpoint,
  type CheckpointEntry,
} from "./checkpoint.js";
