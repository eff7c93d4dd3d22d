"""distilabel's side of srlm-bench-engine: PyPI distilabel's TextGeneration task over its OpenAILLM, against the same
llama.cpp server and on the same requests as srlm and the bare client (the user message, an optional system message,
the same sampling), so the three clients' throughput can be compared in one run.

distilabel sends one batch of `--batch` inputs at a time (each input's `--generations` requests concurrently, batches
one after another), which is how its tasks run; the bench passes its own concurrency as the batch size. The timing
covers the requests only, not Python's start or distilabel's import and `load()`.

Prints one JSON line: {"calls": N, "tokens": N, "seconds": S} (tokens: the completion tokens the server reported).

usage: distilabel_peer.py --base-url http://127.0.0.1:PORT/v1 --inputs FILE.json --batch 4 --max-tokens 64
                          [--generations 1] [--temperature 0.7] [--top-p 0.9]
  FILE.json: [{"user": "...", "system": "..." or null}, ...]
"""
import argparse
import json
import sys
import time

from distilabel.models.llms import OpenAILLM
from distilabel.steps.tasks import TextGeneration


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--inputs", required=True)
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--max-tokens", type=int, required=True)
    parser.add_argument("--generations", type=int, default=1)
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--top-p", type=float, default=0.9)
    args = parser.parse_args()
    with open(args.inputs, encoding="utf-8") as f:
        rows = json.load(f)
    llm = OpenAILLM(model="default", base_url=args.base_url, api_key="unused", max_retries=0, timeout=600,
                    generation_kwargs={"max_new_tokens": args.max_tokens, "temperature": args.temperature,
                                       "top_p": args.top_p})
    task = TextGeneration(llm=llm, input_batch_size=args.batch, num_generations=args.generations,
                          use_system_prompt=True)
    task.load()
    inputs = []
    for row in rows:
        item = {"instruction": row["user"]}
        if row.get("system"):
            item["system_prompt"] = row["system"]
        inputs.append(item)
    calls = tokens = 0
    start = time.perf_counter()
    for i in range(0, len(inputs), args.batch):
        for batch in task.process(inputs[i:i + args.batch]):
            for out in batch:
                if out.get("generation") is None:
                    print(f"distilabel_peer: a request failed: {out}", file=sys.stderr)
                    return 1
                metadata = out["distilabel_metadata"]
                stats = next(v for k, v in metadata.items() if k.startswith("statistics_"))
                calls += 1
                tokens += int(stats["output_tokens"])
    seconds = time.perf_counter() - start
    print(json.dumps({"calls": calls, "tokens": tokens, "seconds": seconds}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
