"""The three data sets of the store benchmark, as TRL conversational preference JSONL ({prompt, chosen, rejected},
each a list of {role, content} messages), written once and read by srlm and every peer alike.

real     every human preference pair in ../shared/data: Anthropic HH (harmless-base test), BIG-bench HHH, AlpacaEval
         (GPT-4 turbo's reference answer preferred to Alpaca-7B's), and every ranked sibling pair of the OpenAssistant
         trees (the better rank chosen, the conversation up to them as the prompt).
spliced  30,000 pairs whose prompts are real prompts and whose replies are 3-12 real sentences drawn at random (seeded)
         from every reply text above: texts repeat at the sentence level across the whole file, the case that
         decides between per-frame and whole-file compression.
markov   srlm-bench-store's own generator (a word chain over the AlpacaEval outputs): written by that binary.
"""
import gzip
import json
import random
import re
import sys
from pathlib import Path


def msgs(*turns):
    return [{"role": r, "content": c} for r, c in turns]


def hh_turns(text):
    parts = re.split(r"\n\n(Human|Assistant):", "\n\n" + text.lstrip("\n") if not text.startswith("\n\n") else text)
    turns = []
    for i in range(1, len(parts) - 1, 2):
        turns.append(("user" if parts[i] == "Human" else "assistant", parts[i + 1].strip()))
    return turns


def real_pairs(data):
    rows = []
    with gzip.open(data / "hh-rlhf/harmless-base_test.jsonl.gz", "rt") as f:
        for line in f:
            o = json.loads(line)
            c, r = hh_turns(o["chosen"]), hh_turns(o["rejected"])
            k = 0
            while k < min(len(c), len(r)) - 1 and c[k] == r[k]:
                k += 1
            if k == 0 or c[k:] == r[k:]:
                continue
            rows.append({"prompt": msgs(*c[:k]), "chosen": msgs(*c[k:]), "rejected": msgs(*r[k:])})
    for line in open(data / "hhh-alignment/hhh_alignment_pairs.jsonl"):
        o = json.loads(line)
        rows.append({"prompt": msgs(("user", o["prompt"])), "chosen": msgs(("assistant", o["chosen"])),
                     "rejected": msgs(("assistant", o["rejected"]))})
    gpt4 = json.load(open(data / "alpaca-eval/gpt4_1106_preview_model_outputs.json"))
    alpaca = json.load(open(data / "alpaca-eval/alpaca-7b_model_outputs.json"))
    for a, b in zip(gpt4, alpaca):
        assert a["instruction"] == b["instruction"]
        if a["output"].strip() and b["output"].strip() and a["output"] != b["output"]:
            rows.append({"prompt": msgs(("user", a["instruction"])), "chosen": msgs(("assistant", a["output"])),
                         "rejected": msgs(("assistant", b["output"]))})

    def walk(node, path):
        role = "user" if node.get("role") == "prompter" else "assistant"
        here = path + [(role, node["text"])]
        ranked = sorted((r for r in node.get("replies", []) if r.get("rank") is not None), key=lambda r: r["rank"])
        for i in range(len(ranked)):
            for j in range(i + 1, len(ranked)):
                if ranked[i]["rank"] < ranked[j]["rank"] and ranked[i]["text"] != ranked[j]["text"]:
                    rr = "user" if ranked[i].get("role") == "prompter" else "assistant"
                    rows.append({"prompt": msgs(*here), "chosen": msgs((rr, ranked[i]["text"])),
                                 "rejected": msgs((rr, ranked[j]["text"]))})
        for r in node.get("replies", []):
            walk(r, here)

    for line in open(data / "oasst/en_trees_60.jsonl"):
        walk(json.loads(line)["prompt"], [])
    return rows


def sentences(rows):
    out = []
    for row in rows:
        for side in ("chosen", "rejected"):
            for m in row[side]:
                out += [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", m["content"]) if len(s.strip()) > 3]
    return out


def spliced_pairs(rows, count, seed):
    rng = random.Random(seed)
    pool = sentences(rows)
    prompts = [row["prompt"] for row in rows]

    def reply():
        return msgs(("assistant", " ".join(rng.choice(pool) for _ in range(rng.randint(3, 12)))))

    return [{"prompt": rng.choice(prompts), "chosen": reply(), "rejected": reply()} for _ in range(count)]


def write(rows, path):
    with open(path, "w") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")


if __name__ == "__main__":
    data, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    real = real_pairs(data)
    write(real, out / "real.jsonl")
    write(spliced_pairs(real, 30_000, seed=1), out / "spliced.jsonl")
    print(len(real), "real pairs")
