/**
 * The errors that mean "the input is wrong" (a malformed sample, a missing image or benchmark file, a
 * checkpoint that does not fit, a damaged or unwritable file of the runs folder, a tokenizer that does
 * not load, a stage whose loss diverged), as opposed to a bug: the command line reports them with exit 1 and
 * their message, which names the file, the sample or the field.
 */
import { DataError } from "../data/errors.js";
import { ImageDecodeError } from "../data/images.js";
import { AnswersFileError } from "../benchmarks/answers.js";
import { ItemError } from "../benchmarks/items.js";
import { BenchmarkFileError } from "../benchmarks/loaders/files.js";
import { ConfigError } from "../models/hf_config.js";
import { PlanError } from "../../plan/io.js";
import { LoadError } from "../models/pretrained.js";
import { SafetensorsError } from "../weights/safetensors.js";
import { TokenizerError } from "../data/tokenizer.js";
import { CollectError } from "./collect.js";
import { RunDataError } from "./data.js";
import { FileError } from "../../core/files.js";
import { ReportError } from "./report.js";
import { TrainingDiverged } from "./stop.js";
import { LockError } from "./store.js";

/**
 * An input error raised in a worker thread of a parallel run (`jobs`): the worker's error class does
 * not cross the thread boundary, its message (which names the file, the sample or the field) does.
 */
export class RemoteInputError extends Error {}

const inputErrors = [
  RemoteInputError,
  DataError,
  ImageDecodeError,
  ItemError,
  BenchmarkFileError,
  ConfigError,
  PlanError,
  LoadError,
  SafetensorsError,
  RunDataError,
  ReportError,
  LockError,
  FileError,
  TokenizerError,
  TrainingDiverged,
  AnswersFileError,
  CollectError,
];

export function isInputError(error: unknown): error is Error {
  return inputErrors.some((E) => error instanceof E);
}
