#!/usr/bin/env python3
"""Writes the scorer test vectors: <bench>.items.json and <bench>.expected.json.

An independent implementation of the scoring rules of shared/reference/evals.md, written in Python
so that Python's own string semantics (str.split/strip/lower, re) are the reference. The items are
hand-picked to exercise every quirk listed there. The TypeScript tests only read the JSON files;
run this script (python3, standard library only) to regenerate them after changing a case:

    python3 test/benchmarks/vectors/make_vectors.py
"""

import json
import os
import re
from decimal import ROUND_HALF_UP, Decimal

HERE = os.path.dirname(os.path.abspath(__file__))


def write(bench, description, items, expected, notes):
    with open(os.path.join(HERE, f"{bench}.items.json"), "w", encoding="utf-8") as f:
        json.dump({"benchmark": bench, "description": description, "items": items}, f, indent=1, ensure_ascii=False)
        f.write("\n")
    with open(os.path.join(HERE, f"{bench}.expected.json"), "w", encoding="utf-8") as f:
        json.dump({"benchmark": bench, "notes": notes, "expected": expected}, f, indent=1, ensure_ascii=False, allow_nan=False)
        f.write("\n")


# ---------------------------------------------------------------------------------------------
# VQAv2
# ---------------------------------------------------------------------------------------------

PUNCT = [";", "/", "[", "]", '"', "{", "}", "(", ")", "=", "+", "\\", "_", "-", ">", "<", "@", "`", ",", "?", "!"]
NUMBERS = {"none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
           "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10"}
ARTICLES = {"a", "an", "the"}


def contractions():
    # the table as evals.md §1.6 prints it
    for up in ("../../../shared", "../../../../shared"):  # shared/ inside the checkout or beside it
        path = os.path.join(HERE, up, "reference/evals.md")
        if os.path.exists(path):
            break
    doc = open(path, encoding="utf-8").read()
    section = doc[doc.index("### 1.6 Contraction table"):doc.index("(The table in LLaVA")]
    return dict(re.findall(r"`([^`]+)`→`([^`]+)`", section))


CONTRACTIONS = contractions()
assert len(CONTRACTIONS) == 120


def punctuation(text, python2):
    # vqaEval.py is Python 2 (\d is ASCII); m4c_evaluator.py is Python 3 (\d is Unicode)
    flags = re.ASCII if python2 else 0
    comma = re.compile(r"(\d)(,)(\d)" if python2 else r"(?<=\d)(,)+(?=\d)", flags)
    period = re.compile(r"(\.)(?!\d)", flags)
    out = text
    for p in PUNCT:
        if (p + " " in text or " " + p in text) or comma.search(text) is not None:
            out = out.replace(p, "")
        else:
            out = out.replace(p, " ")
    return period.sub("", out, count=32)


def digit_article(text):
    words = [NUMBERS.get(w, w) for w in text.lower().split()]
    words = [w for w in words if w not in ARTICLES]
    return " ".join(CONTRACTIONS.get(w, w) for w in words)


def normalize(text):
    return digit_article(punctuation(text, python2=True))


def evalai(text):
    t = text.lower().replace(",", "").replace("?", "").replace("'s", " 's").strip()
    t = t.replace("\n", " ").replace("\t", " ").strip()
    return digit_article(punctuation(t, python2=False))


def round2(x):
    """Python 2 round(x, 2): the exact binary value, ties away from zero."""
    return float(Decimal(x).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def vqa_question(answers, prediction):
    gts = [a.replace("\n", " ").replace("\t", " ").strip() for a in answers]
    pred = prediction.replace("\n", " ").replace("\t", " ").strip()
    normalized = len(set(gts)) > 1
    if normalized:
        gts = [normalize(a) for a in gts]
        pred = normalize(pred)
    accs = []
    for i in range(len(gts)):
        others = [gts[j] for j in range(len(gts)) if j != i]
        accs.append(min(1, float(sum(1 for o in others if o == pred)) / 3))
    return pred, gts, normalized, float(sum(accs)) / len(accs)


def vqa_mode(items, use_evalai):
    overall, qtypes, atypes, per_q = [], {}, {}, {}
    for it in items:
        submitted = evalai(it["prediction"]) if use_evalai else None
        pred, gts, normalized, acc = vqa_question(it["answers"], submitted if use_evalai else it["prediction"])
        overall.append(acc)
        qtypes.setdefault(it["question_type"], []).append(acc)
        atypes.setdefault(it["answer_type"], []).append(acc)
        entry = {"compared_prediction": pred, "compared_answers": gts, "normalized": normalized,
                 "acc_raw": acc, "acc_rounded": round2(100 * acc)}
        if use_evalai:
            entry["submitted_answer"] = submitted
        per_q[str(it["question_id"])] = entry

    def pct(lst):
        return 100 * float(sum(lst)) / len(lst)

    def acc(r):
        f = round2 if r else (lambda x: x)
        return {"overall": f(pct(overall)),
                "perQuestionType": {k: f(pct(v)) for k, v in qtypes.items()},
                "perAnswerType": {k: f(pct(v)) for k, v in atypes.items()}}

    return {"accuracy": acc(True), "accuracy_unrounded": acc(False), "per_question": per_q}


def vqav2():
    items = []

    def q(answers, prediction, qtype="what is", atype="other"):
        if isinstance(answers, tuple):  # (answer, count), ...
            answers = [a for a, n in answers for _ in range(n)]
        assert len(answers) == 10, answers
        items.append({"question_id": 1000 + len(items), "image_id": 42, "question": "q?",
                      "question_type": qtype, "answer_type": atype, "answers": answers, "prediction": prediction})

    # unanimous humans: nothing is normalised
    q((("yes", 10),), "Yes", "is the", "yes/no")
    q((("yes", 10),), "yes.", "is the", "yes/no")
    q((("2", 10),), "two", "how many", "number")
    q((("yes", 10),), "yes\n", "is the", "yes/no")          # \n -> space, strip: always done
    q((("yes", 9), ("yes ", 1)), "Yes", "is the", "yes/no")  # identical after strip: unanimous
    q((("dog's", 10),), "dog's")                              # EvalAI turns it into `dog 's`
    # humans differ by case or a period: normalisation turns on
    q((("yes", 9), ("Yes", 1)), "Yes", "is the", "yes/no")
    q((("yes", 9), ("yes.", 1)), "YES!", "is the", "yes/no")
    q((("2", 9), ("two", 1)), "two", "how many", "number")
    # 0, 1, 2, 3, 4 matching humans: 0, 0.3, 0.6, 0.9, 1
    for h in range(5):
        q((("red", h), ("blue", 10 - h)), "red", "what color is the")
    # digit-comma-digit: every punctuation character is deleted, decided on the original text
    q((("1000", 5), ("many", 5)), "1,000", "how many", "number")
    q((("1000yes", 4), ("x", 6)), "1,000!yes")
    q((("15 red", 4), ("x", 6)), "1,5 (red)")
    # `(` next to a space is deleted; `-` is decided on the original text (no space beside it), so
    # it becomes a space: deciding on the partly processed `x -y a-b` would delete it
    q((("x y a b", 4), ("x y ab", 2), ("z", 4)), "x (-y a-b")
    # no space next to the comma: it becomes a space (official); EvalAI deletes commas first
    q((("red white", 4), ("redwhite", 2), ("x", 4)), "red,white")
    q((("red white", 4), ("x", 6)), "red, white")
    # periods: `5.` -> 5, `3.5` stays, `a.m.` -> am
    q((("5", 4), ("x", 6)), "5.", "how many", "number")
    q((("3.5", 4), ("35", 6)), "3.5", "how many", "number")
    q((("am", 4), ("pm", 6)), "a.m.")
    # only the first 32 qualifying periods go
    q((("a" * 40, 3), ("b", 7)), "a." * 40)
    q((("a" * 32 + "a." * 8, 3), ("b", 7)), "a." * 40)
    # `'` `:` `%` `$` are not punctuation; `/` next to a space is deleted
    q((("it's", 4), ("its", 6)), "it's")
    q((("50%", 4), ("50", 6)), "50%", "what percent", "number")
    q((("1/2", 4), ("12", 6)), "1/2", "how many", "number")
    q((("12", 4), ("x", 6)), "1 /2", "how many", "number")
    # number words, articles and contractions
    q((("0", 4), ("x", 6)), "none", "how many", "number")
    q((("eleven", 4), ("11", 6)), "eleven", "how many", "number")
    q((("dog", 4), ("cat", 6)), "The dog")
    q((("don't", 4), ("x", 6)), "dont")
    q((("i'm", 4), ("x", 6)), "Im")
    q((("im", 4), ("x", 6)), "Im")
    q((("somebodyd", 4), ("x", 6)), "somebody'd")
    # Python whitespace: U+001C splits words, U+FEFF does not; U+00A0 strips
    q((("big dog", 4), ("x", 6)), "big\x1cdog")
    q((("yes", 4), ("x", 6)), "\ufeffyes", "is the", "yes/no")
    q((("yes", 4), ("x", 6)), "\u00a0yes\u2003", "is the", "yes/no")
    q((("big dog", 4), ("x", 6)), "big\tdog")
    # empty prediction against empty human answers
    q((("", 4), ("x", 6)), "")
    # a period before a non-ASCII digit: vqaEval.py (Python 2) deletes it, EvalAI (Python 3) keeps it
    q((("5\u0663", 4), ("5.\u0663", 4), ("x", 2)), "5.\u0663", "how many", "number")
    # 17 of 32 right: 53.125 -> 53.13 with Python 2 rounding (Python 3 would give 53.12)
    for k in range(32):
        q((("cat", 10),), "cat" if k < 17 else "dog", "what animal", "tie")
    expected = {"official": vqa_mode(items, False), "llava_evalai": vqa_mode(items, True)}
    assert expected["official"]["accuracy"]["perAnswerType"]["tie"] == 53.13
    write("vqav2", "VQAv2 quirks: unanimity, punctuation, periods, numbers, contractions, whitespace, rounding", items, expected,
          "percent; rounded with Python 2 rounding")


# ---------------------------------------------------------------------------------------------
# GQA
# ---------------------------------------------------------------------------------------------

def gqa():
    rows = [
        # question, answer, structural, semantic, prediction
        ("Is it overcast?", "yes", "verify", "global", "Yes."),
        ("Is the sky blue?", "yes", "verify", "attr", "yes. "),
        ("Who is holding the bat?", "man", "query", "rel", "The man"),
        ("What is parked?", "car", "query", "obj", "a car"),
        ("What color is the cat?", "gray", "query", "attr", "grey"),
        ("What color is the dog?", "grey", "query", "attr", "Grey"),
        ("Are there both cars and trucks?", "yes", "logical", "obj", "yes, it is"),
        ("Which is bigger, the cat or the dog?", "dog", "choose", "rel", "Dog..."),
        ("Do the shirt and the hat have the same color?", "no", "compare", "attr", "no"),
        ("What is this?", "", "query", "cat", "..."),
        ("Is\x1cthe\u00a0man\u2003tall?", "yes", "verify", "attr", "yes\n"),
        ("Which city?", "istanbul", "query", "global", "İstanbul"),
        ("Which city\ufeff is it?", "i\u0307stanbul", "query", "global", "İSTANBUL."),
        ("Is the light on?", "no", "verify", "attr", "NO"),
    ]
    items = [{"question_id": str(201307251 + i), "question": q, "answer": a, "structural": s, "semantic": m, "prediction": p}
             for i, (q, a, s, m, p) in enumerate(rows)]
    scores = {"accuracy": [], "binary": [], "open": []}
    per = {"accuracyPerStructuralType": {}, "accuracyPerSemanticType": {}, "accuracyPerLength": {}}
    per_q = {}
    for it in items:
        converted = it["prediction"].rstrip(".").lower()
        score = float(converted == it["answer"])
        scores["accuracy"].append(score)
        scores["open" if it["structural"] == "query" else "binary"].append(score)
        per["accuracyPerStructuralType"].setdefault(it["structural"], []).append(score)
        per["accuracyPerSemanticType"].setdefault(it["semantic"], []).append(score)
        per["accuracyPerLength"].setdefault(str(len(it["question"].split())), []).append(score)
        per_q[it["question_id"]] = {"converted_prediction": converted, "correct": converted == it["answer"]}

    def avg(lst):
        return 0 if len(lst) == 0 else float(sum(lst)) / len(lst)

    expected = {k: avg(v) * 100 for k, v in scores.items()}
    for k, groups in per.items():
        expected[k] = {t: [avg(v) * 100, len(v)] for t, v in groups.items()}
    expected["per_question"] = per_q
    write("gqa", "GQA conversion and exact match: trailing periods, case, articles, whitespace word counts", items, expected, "percent")


# ---------------------------------------------------------------------------------------------
# POPE
# ---------------------------------------------------------------------------------------------

def pope_parse(text):
    if text.find(".") != -1:
        text = text.split(".")[0]
    words = text.replace(",", "").split(" ")
    return "no" if ("No" in words or "not" in words or "no" in words) else "yes"


def pope_metrics(pairs):
    pred = [0 if p == "no" else 1 for p, _ in pairs]
    label = [0 if l == "no" else 1 for _, l in pairs]
    tp = sum(1 for p, l in zip(pred, label) if p == 1 and l == 1)
    fp = sum(1 for p, l in zip(pred, label) if p == 1 and l == 0)
    tn = sum(1 for p, l in zip(pred, label) if p == 0 and l == 0)
    fn = sum(1 for p, l in zip(pred, label) if p == 0 and l == 1)
    precision = float(tp) / float(tp + fp)
    recall = float(tp) / float(tp + fn)
    return {"TP": tp, "FP": fp, "TN": tn, "FN": fn, "accuracy": (tp + tn) / (tp + tn + fp + fn),
            "precision": precision, "recall": recall, "f1": 2 * precision * recall / (precision + recall),
            "yes_ratio": pred.count(1) / len(pred), "n": len(pairs)}


def pope():
    rows = {
        "adversarial": [("Yes", "yes"), ("No", "no"), ("No, there is not.", "no"), ("no,there is a dog", "no"),
                        ("NO", "no"), ("Not", "yes"), ("There is not a dog", "yes"), ("Yes. No", "no")],
        "popular": [("Nope", "no"), ("None", "no"), ("isn't", "no"), ("No!", "yes"), ("no?", "yes"),
                    ("No\nThere is none", "no"), ("", "yes"), ("Yes  no", "no"), ("yes", "yes")],
        "random": [("Yes", "No"), ("yes", "YES"), ("no", "yes"), ("Yes, there is a cat", "yes"),
                   ("No.", "no"), ("I do not see one", "no"), ("Yes", "maybe")],
    }
    items = []
    qid = 1
    # categories interleaved in the file: order matters only within a category
    order = [(c, i) for i in range(9) for c in ("random", "adversarial", "popular") if i < len(rows[c])]
    for c, i in order:
        pred, label = rows[c][i]
        items.append({"question_id": qid, "category": c, "image": f"COCO_val2014_{qid:012d}.jpg",
                      "question": "Is there a dog in the image?", "label": label, "prediction": pred})
        qid += 1
    per_cat = {}
    for c in ("adversarial", "popular", "random"):
        per_cat[c] = pope_metrics([(pope_parse(it["prediction"]), it["label"]) for it in items if it["category"] == c])
    keys = ["accuracy", "precision", "recall", "f1", "yes_ratio"]
    mean = {k: (per_cat["adversarial"][k] + per_cat["popular"][k] + per_cat["random"][k]) / 3 for k in keys}
    pooled = pope_metrics([(pope_parse(it["prediction"]), it["label"]) for it in items])
    parsed = {str(it["question_id"]): pope_parse(it["prediction"]) for it in items}
    expected = {"per_category": per_cat, "mean_over_categories": mean, "pooled_all_items": pooled, "per_question_parsed": parsed}
    write("pope", "POPE yes/no parse (first sentence, comma removal, split on ' ', case) and labels", items, expected, "fractions")


# ---------------------------------------------------------------------------------------------
# MME
# ---------------------------------------------------------------------------------------------

MME_TASKS = [("existence", "Perception"), ("count", "Perception"), ("position", "Perception"), ("color", "Perception"),
             ("posters", "Perception"), ("celebrity", "Perception"), ("scene", "Perception"), ("landmark", "Perception"),
             ("artwork", "Perception"), ("OCR", "Perception"), ("commonsense_reasoning", "Cognition"),
             ("numerical_calculation", "Cognition"), ("text_translation", "Cognition"), ("code_reasoning", "Cognition")]


def mme_parse(pred):
    pred = (pred + "\n").lower()  # the result file line still ends with its newline
    if pred in ["yes", "no"]:
        return pred
    prefix = pred[:4]
    return "yes" if "yes" in prefix else ("no" if "no" in prefix else "other")


def mme():
    preds = ["Yes", "No", "Not sure", "None", "know", "nope", "eyes", "yes and no", "I think yes", "  yes",
             "The answer is yes", "", "YES", "Yes.", "İyes", "\U0001F600yes", "no", "yes", "No, it is not.", "N",
             "y", "n o", "noyes", "ye", "yes", "no", "No", "Yes", "NO", "yES"]
    items = []
    k = 0
    for t, (name, _) in enumerate(MME_TASKS):
        images = 2 if t % 3 == 0 else 1
        for img in range(images):
            for answer in ("Yes", "No"):
                items.append({"subtask": name, "image": f"{name}/{img}.jpg", "question": "Is this a dog? Please answer yes or no.",
                              "answer": answer, "prediction": preds[k % len(preds)]})
                k += 1
    # interleave two subtasks in the file: pairing is per subtask, in file order
    items[0], items[2] = items[2], items[0]
    items.insert(3, items.pop(len(items) - 1))
    subtasks = {}
    totals = {"Perception": 0, "Cognition": 0}
    for name, cat in MME_TASKS:
        lines = [it for it in items if it["subtask"] == name]
        parsed = [mme_parse(it["prediction"]) for it in lines]
        right = [p == it["answer"].lower() for p, it in zip(parsed, lines)]
        plus = sum(1 for i in range(0, len(right), 2) if right[i] and right[i + 1])
        acc = sum(right) / len(right)
        acc_plus = plus / (len(lines) // 2)
        score = 0
        for v in (acc, acc_plus):
            score += v * 100
        subtasks[name] = {"score": score, "acc": acc, "acc_plus": acc_plus, "images": len(lines) // 2, "questions": len(lines),
                          "other_num": parsed.count("other"), "parsed": parsed, "category": cat}
        totals[cat] += score
    expected = {"perception_total": totals["Perception"], "cognition_total": totals["Cognition"], "subtasks": subtasks}
    write("mme", "MME parse (exact, first 4 code points), pairs by position per subtask, all 14 subtasks", items, expected,
          "score = 100*acc + 100*acc_plus")


# ---------------------------------------------------------------------------------------------
# ScienceQA-IMG
# ---------------------------------------------------------------------------------------------

def sqa():
    options = ["A", "B", "C", "D", "E"]
    rows = [
        # prediction, choices, answer, has_image
        ("A", 4, 0, True), ("B", 4, 0, True), ("B. The mitochondria", 3, 1, True), ("A. ", 2, 0, False),
        ("C.", 3, 2, True), ("The answer is C.", 3, 2, True), ("The answer is BC", 3, 1, True),
        ("The answer is C", 3, 2, True), ("the answer is C.", 3, 2, False), ("The answer is (D).", 4, 3, True),
        ("The answer is b.", 2, 1, True), ("The answer is A. The answer is B.", 2, 0, True),
        ("The answer is A. The answer is A.", 2, 0, True), ("The answer is C\n", 3, 2, True),
        ("The answer is C\r", 3, 2, True), ("The answer is C\u2028", 3, 2, True), ("D", 3, 2, True),
        (" A", 2, 0, True), ("a", 2, 0, False), ("The answer is F.", 5, 4, True), (None, 2, 0, True),
        (None, 3, 1, False), ("E", 5, 4, True), ("A.  x", 2, 0, True), ("Because... The answer is B. yes", 2, 1, True),
        ("The answer is Z!", 5, 0, False), ("FAILED", 2, 0, True),
    ]
    items = [{"question_id": str(4 + 7 * i), "question": "Which one?", "choices": [f"choice {c}" for c in range(n)],
              "answer": ans, "has_image": img, "prediction": pred} for i, (pred, n, ans, img) in enumerate(rows)]
    per_q = {}
    correct = total = img_correct = img_total = 0
    for it in items:
        text = "FAILED" if it["prediction"] is None else it["prediction"]
        prompt = "Unknown" if it["prediction"] is None else ("<image>\nWhich one?" if it["has_image"] else "Which one?")
        if text in options:
            parsed = text
        elif len(text) >= 3 and text[0] in options and text[1:3] == ". ":
            parsed = text[0]
        else:
            res = re.compile(r"The answer is ([A-Z]).").findall(text)
            parsed = res[0] if len(res) == 1 else "FAILED"
        idx = options.index(parsed) if parsed in options[:len(it["choices"])] else -1
        ok = idx == it["answer"]
        mm = "<image>" in prompt
        per_q[it["question_id"]] = {"parsed_ans": parsed, "pred_idx": idx, "correct": ok, "is_multimodal": mm}
        total += 1
        correct += ok
        if mm:
            img_total += 1
            img_correct += ok
    expected = {"acc": correct / total * 100, "correct": correct, "count": total,
                "img_acc": img_correct / img_total * 100, "img_correct": img_correct, "img_count": img_total, "per_question": per_q}
    write("scienceqa_img", "ScienceQA letter parse (exact, 'X. ', one 'The answer is' match with a wildcard), IMG subset by prediction presence",
          items, expected, "percent")


# ---------------------------------------------------------------------------------------------
# MMVP
# ---------------------------------------------------------------------------------------------

def mmvp_letter(text):
    text = text.strip()
    patterns = [r"^\s*\(?([AB])\)?\.?\s*$", r"^\s*\(?([AB])\)?[\.\s]", r"answer\s+is\s+\(?([AB])\)?",
                r"option\s+\(?([AB])\)?", r"\(?([AB])\)?(?:\s|$)"]
    for p in patterns:
        m = re.search(p, text, flags=re.IGNORECASE)
        if m:
            return m.group(1).upper()
    if text and text[0].upper() in ["A", "B"]:
        return text[0].upper()
    return ""


def mmvp_gold(answer):
    a = answer.strip().lower()
    if "(a)" in a or a == "a":
        return "A"
    if "(b)" in a or a == "b":
        return "B"
    return a.upper()


def mmvp():
    rows = [
        # index, answer, prediction, judge
        (1, "(a)", "A", "Yes"), (3, "(a)", "(a) Open", "yes"), (2, "(b)", "(b)", "YES"), (4, "(b)", "B.", "Yes."),
        (5, "(a)", "The answer is (b).", "No"), (6, "(b) Closed", "Option A", "yes "), (7, "(a)", "… option b", "Yes\n"),
        (8, "(b)", "It is a closed one", "yes"), (9, " A ", "Answer: b", "yes"), (10, "(A)", "Cuba", "Yes"),
        (11, "(b)", "Both", "yes"), (12, "(a)", "Open", "no"), (13, "(b)", "No", ""), (14, "(a)", "", "Yes"),
        (15, "(b)", "xa anſwer is b", "yes"), (16, "(a)", "  (A)  ", "yes"), (17, "c", "B", "yes"),
        (18, "(b)", "(b) The butterfly's wings are closed", "yes"), (19, "(a)", "A\u3000", "yes"),
        (20, "(b)", "b\x1c", "yes"), (21, "(a)", "\ufeffA", "yes"),
    ]
    items = [{"index": i, "question": "Are the wings open or closed?", "options": "(a) Open (b) Closed", "answer": a,
              "prediction": p, "judge": j} for i, a, p, j in rows]
    graded = []
    for it in items:
        reply = it["judge"]
        grade = reply.lower() if re.compile(r"^(yes|no)$", re.IGNORECASE).match(reply) else "Could not determine yes or no."
        graded.append(grade == "yes")
    pairs = correct_pairs = 0
    for i in range(0, len(graded) - 1, 2):
        pairs += 1
        correct_pairs += graded[i] and graded[i + 1]
    official = {"pair_accuracy": correct_pairs / pairs, "correct_pairs": correct_pairs, "pairs": pairs, "per_item_graded_correct": graded}
    per_item = []
    groups = {}
    for it in items:
        letter, gt = mmvp_letter(it["prediction"]), mmvp_gold(it["answer"])
        per_item.append({"index": it["index"], "pred_letter": letter, "gt": gt, "is_correct": letter == gt})
        groups.setdefault((it["index"] - 1) // 2, []).append(letter == gt)
    full = [g for g in groups.values() if len(g) == 2]
    rule = {"accuracy": sum(r["is_correct"] for r in per_item) / len(per_item), "correct": sum(r["is_correct"] for r in per_item),
            "count": len(per_item), "pair_accuracy": sum(1 for g in full if all(g)) / len(full),
            "correct_pairs": sum(1 for g in full if all(g)), "pairs": len(full), "per_item": per_item}
    write("mmvp", "MMVP grader replies (exact yes), file-order pairs; lmms-eval letter rule and index pairs", items,
          {"official_gpt_grader": official, "lmms_eval_rule": rule}, "fractions")


# ---------------------------------------------------------------------------------------------
# Parser fuzz: random strings over an alphabet of the characters the rules care about
# ---------------------------------------------------------------------------------------------

def parsers_fuzz():
    import random
    rng = random.Random(20240411)
    pieces = ["yes", "Yes", "YES", "no", "No", "not", "None", "a", "A", "B", "b", "(a)", "(B)", "The answer is ", "answer is",
              "option", "ANſWER", "İ", "ı", "Σ", "two", "the", "an", "dont", "Im", "1", "5", "0", "\u0663", ",", ".", "..", "?", "!",
              ";", "/", "-", "(", ")", "'s", "'", ":", "%", " ", "  ", "\t", "\n", "\r", "\x1c", "\x85", "\xa0", "\u2003",
              "\ufeff", "\u2028", "\U0001F600", "cat", "x", "C", "D", "E", "Z", ". ", "ten", "a.m."]
    def sample():
        return "".join(rng.choice(pieces) for _ in range(rng.randint(0, 7)))
    cases = [sample() for _ in range(500)] + ["", " ", ".", "A. ", "The answer is A.", "(a)", "yes"]
    out = []
    for s in cases:
        out.append({"text": s, "vqa": normalize(s), "evalai": evalai(s), "gqa": s.rstrip(".").lower(), "pope": pope_parse(s),
                    "mme": mme_parse(s) if "\t" not in s and "\n" not in s and "\r" not in s else None,
                    "sqa": sqa_parse(s), "mmvp": mmvp_letter(s), "mmvp_gold": mmvp_gold(s), "split": s.split(), "strip": s.strip()})
    with open(os.path.join(HERE, "parsers.fuzz.json"), "w", encoding="utf-8") as f:
        f.write("[\n" + ",\n".join(json.dumps(c, ensure_ascii=False) for c in out) + "\n]\n")


def sqa_parse(text):
    options = ["A", "B", "C", "D", "E"]
    if text in options:
        return text
    if len(text) >= 3 and text[0] in options and text[1:3] == ". ":
        return text[0]
    res = re.compile(r"The answer is ([A-Z]).").findall(text)
    return res[0] if len(res) == 1 else "FAILED"


if __name__ == "__main__":
    parsers_fuzz()
    vqav2()
    gqa()
    pope()
    mme()
    sqa()
    mmvp()
