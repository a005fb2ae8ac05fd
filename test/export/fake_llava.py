#!/usr/bin/env python3
"""`python` on the fake machine of the export tests (test/export/helpers.ts).

Every call leaves its argv (NUL-separated, after the word `python`) in $MMFM_FAKE_LOG/NNN. The eval
scripts of the checkout it runs in (the code base named by `.mmfm-fake-code-base` in the current
folder, LLaVA-Gemma when there is none) are stood in for by what they do with files, parsed by their
own argument parsers (test/fixtures/llava_eval_args.json, built with argparse as they build them), and
failing where they fail. In both code bases (load_pretrained_model, conv_templates, split_list):

  a model folder whose name lacks `llava` is not loaded as LLaVA; a `--conv-mode` the code base's
  conversation templates lack is a KeyError (a model folder named `plain`, not `finetune`, gets
  `_mmtag` appended first); a chunk index past LLaVA's split_list is an IndexError

LLaVA-Gemma (IntelLabs/multimodal_cognitive_ai d1f2acc39b68):

  llava.eval.model_vqa_loader   answers every question of its chunk by appending to --answers-file,
                                NAME_0.jsonl with --use_accelerate; logs `question_id % 10` through
                                `accelerator`, which exists only with --use_accelerate; images in fp16
                                (--image_dtype not bfloat16) fail, the model being bf16
  llava.eval.model_vqa_science  writes --answers-file; a question with an image fails (fp16 images)

stock LLaVA (haotian-liu/LLaVA c121f0432da2), fp16 model and images:

  llava.eval.model_vqa_loader   writes --answers-file (`open(..., "w")`) with every question of its chunk
  llava.eval.model_vqa_science  writes --answers-file, questions with and without an image

and in both:

  .../mmfm_answers.py           runs (it is what the export wrote)
  anything else                 is only logged (the scorers print a line)
"""
import argparse
import json
import math
import os
import runpy
import sys

LOG = os.environ["MMFM_FAKE_LOG"]
FIXTURE = json.load(open(os.environ["MMFM_FAKE_ARGS"]))
CODE_BASE = open(".mmfm-fake-code-base").read().strip() if os.path.exists(".mmfm-fake-code-base") else "llava-gemma"
PARSERS = FIXTURE["scripts"] if CODE_BASE == "llava-gemma" else FIXTURE["llava_scripts"]
TEMPLATES = FIXTURE["conv_templates"][CODE_BASE]


def log(argv):
    n = len(os.listdir(LOG))
    while True:
        try:
            with open(os.path.join(LOG, "%03d" % n), "x") as f:
                f.write("\0".join(["python"] + argv) + "\0")
            return
        except FileExistsError:
            n += 1


def parse(script, argv):
    parser = argparse.ArgumentParser(prog=script)
    types = {"str": str, "int": int, "float": float, "bool": bool, "list": list}
    for spec in PARSERS[script]["arguments"]:
        kwargs = {k: spec[k] for k in ("action", "default", "required", "nargs", "choices") if k in spec}
        if "type" in spec:
            kwargs["type"] = types[spec["type"]]
        parser.add_argument(*spec["flags"], **kwargs)
    return parser.parse_args(argv)


def split_list(lst, n):
    chunk_size = math.ceil(len(lst) / n)
    return [lst[i:i + chunk_size] for i in range(0, len(lst), chunk_size)]


def model_name(path):
    parts = path.strip("/").split("/")
    return parts[-2] + "_" + parts[-1] if parts[-1].startswith("checkpoint-") else parts[-1]


class Accelerator:
    local_process_index = 0
    num_processes = 1


def load(args):
    """load_pretrained_model and the conversation template, as both code bases do them; the chunk."""
    name = model_name(args.model_path)
    if "llava" not in name.lower():
        raise RuntimeError(f"{name} is loaded as a language model without a vision tower (its name lacks `llava`)")
    conv_mode = args.conv_mode
    if "plain" in name and "finetune" not in name.lower() and "mmtag" not in conv_mode:
        conv_mode = conv_mode + "_mmtag"
    if conv_mode not in TEMPLATES:
        raise KeyError(conv_mode)
    return name


def stock_model_vqa_loader(args):
    name = load(args)
    questions = [json.loads(q) for q in open(os.path.expanduser(args.question_file))]
    questions = split_list(questions, args.num_chunks)[args.chunk_idx]
    answers_file = os.path.expanduser(args.answers_file)
    os.makedirs(os.path.dirname(answers_file), exist_ok=True)
    with open(answers_file, "w") as ans_file:
        for line in questions:
            open(os.path.join(args.image_folder, line["image"]), "rb").close()
            ans_file.write(json.dumps({"question_id": line["question_id"], "prompt": line["text"], "text": "Yes", "answer_id": "fake", "model_id": name, "metadata": {}}) + "\n")


def stock_model_vqa_science(args):
    name = load(args)
    questions = json.load(open(os.path.expanduser(args.question_file)))
    questions = split_list(questions, args.num_chunks)[args.chunk_idx]
    os.makedirs(os.path.dirname(args.answers_file), exist_ok=True)
    with open(args.answers_file, "w") as ans_file:
        for line in questions:
            prompt = line["conversations"][0]["value"].replace("<image>", "").strip()
            if "image" in line:
                open(os.path.join(args.image_folder, line["image"]), "rb").close()
                prompt = "<image>\n" + prompt
            if args.single_pred_prompt:
                prompt += "\nAnswer with the option's letter from the given choices directly."
            ans_file.write(json.dumps({"question_id": line["id"], "prompt": prompt, "text": "A", "answer_id": "fake", "model_id": name, "metadata": {}}) + "\n")


def model_vqa_loader(args):
    load(args)
    if args.use_accelerate:
        accelerator = Accelerator()
    questions = [json.loads(q) for q in open(os.path.expanduser(args.question_file))]
    questions = split_list(questions, args.num_chunks)[args.chunk_idx]
    answers_file = os.path.expanduser(args.answers_file)
    if args.use_accelerate:
        answers_file = ".".join(answers_file.split(".")[:-1]) + f"_{accelerator.local_process_index}." + answers_file.split(".")[-1]
    os.makedirs(os.path.dirname(answers_file), exist_ok=True)
    ans_file = open(answers_file, "a")
    for line in questions:
        idx = line["question_id"]
        open(os.path.join(args.image_folder, line["image"]), "rb").close()
        if args.image_dtype != "bfloat16":
            raise RuntimeError("mat1 and mat2 must have the same dtype (the model is bf16, the images fp16)")
        result = {"question_id": idx, "prompt": line["text"], "text": "Yes", "answer_id": "fake", "model_id": model_name(args.model_path), "metadata": {}}
        ans_file.write(json.dumps(result) + "\n")
        if idx % 10 == 0:
            print(f"Process {accelerator.local_process_index}", result)
    ans_file.close()


def model_vqa_science(args):
    load(args)
    questions = json.load(open(os.path.expanduser(args.question_file)))
    questions = split_list(questions, args.num_chunks)[args.chunk_idx]
    os.makedirs(os.path.dirname(args.answers_file), exist_ok=True)
    with open(args.answers_file, "w") as ans_file:
        for line in questions:
            if "image" in line:
                raise RuntimeError("mat1 and mat2 must have the same dtype (the model is bf16, the images .half())")
            prompt = line["conversations"][0]["value"].replace("<image>", "").strip()
            if args.single_pred_prompt:
                prompt += "\nAnswer with the option's letter from the given choices directly."
            ans_file.write(json.dumps({"question_id": line["id"], "prompt": prompt, "text": "A", "answer_id": "fake", "model_id": model_name(args.model_path), "metadata": {}}) + "\n")


def main(argv):
    log(argv)
    if argv[:1] == ["-m"]:
        script = argv[1].replace(".", "/") + ".py"
        args = parse(script, argv[2:])
        if CODE_BASE == "llava-gemma":
            {"llava/eval/model_vqa_loader.py": model_vqa_loader, "llava/eval/model_vqa_science.py": model_vqa_science}[script](args)
        else:
            {"llava/eval/model_vqa_loader.py": stock_model_vqa_loader, "llava/eval/model_vqa_science.py": stock_model_vqa_science}[script](args)
        return
    if argv and argv[0].endswith("mmfm_answers.py"):
        sys.argv = argv
        runpy.run_path(argv[0], run_name="__main__")
        return
    if argv and argv[0] in PARSERS:
        parse(argv[0], argv[1:])
    print("fake " + " ".join(argv[:1]))


if __name__ == "__main__":
    main(sys.argv[1:])
