"""Checks corpus 12's questions.jsonl against the headings of the rendered documents.

    .venv/bin/python benchmarks/kb_holdout12/check_labels.py
"""
from __future__ import annotations

import collections
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOCS = HERE / "documents"


def norm(s: str) -> str:
    return " ".join(s.split())


def headings(path: Path) -> list[str]:
    suffix = path.suffix
    if suffix == ".docx":
        import docx

        return [p.text for p in docx.Document(str(path)).paragraphs
                if p.style.name == "Title" or p.style.name.startswith("Heading")]
    if suffix == ".pdf":
        from pypdf import PdfReader

        text = norm(" ".join(page.extract_text() for page in PdfReader(str(path)).pages))
        src = (HERE / "sources" / (path.stem + ".txt")).read_text(encoding="utf-8")
        out = []
        for line in src.splitlines():
            m = re.match(r"#{1,3} (.*)", line)
            if m:
                assert norm(m.group(1)) in text, (path.name, m.group(1))
                out.append(m.group(1))
        return out
    if suffix == ".md":
        return [re.sub(r"^#+ ", "", l) for l in path.read_text().splitlines() if l.startswith("#")]
    if suffix == ".html":
        main = re.search(r"<main>(.*)</main>", path.read_text(), re.S).group(1)
        return [re.sub(r"<[^>]+>", "", h) for h in re.findall(r"<h[1-3]>(.*?)</h[1-3]>", main)]
    lines = path.read_text().splitlines()
    return [lines[0]] + [l for l in lines[1:] if re.match(r"(BAB [IVX]+ |\d+\. )", l)]


def main() -> int:
    heads = {p.name: headings(p) for p in sorted(DOCS.iterdir())}
    if "-v" in sys.argv:
        for name, hs in heads.items():
            print(name)
            for h in hs:
                print("   ", h)
    rows = [json.loads(l) for l in (HERE / "questions.jsonl").read_text().splitlines()]
    bad = 0
    ids, texts = set(), set()
    per_doc = collections.Counter()
    per_sec = collections.Counter()
    for r in rows:
        assert r["id"] not in ids and r["question"] not in texts, r
        ids.add(r["id"]); texts.add(r["question"])
        if r.get("out_of_scope"):
            assert r["document"] is None and r["section"] is None and isinstance(r["near_miss"], bool), r
            continue
        if r["section"] not in heads.get(r["document"], []):
            print("MISMATCH", r); bad += 1
        per_doc[r["document"]] += 1
        per_sec[(r["document"], r["section"])] += 1
    for name, hs in heads.items():
        for h in hs:
            if (name, h) not in per_sec:
                print("unlabelled:", name, "|", h)
    print("rows", len(rows), "answerable", sum(per_doc.values()), "mismatches", bad)
    for d, n in sorted(per_doc.items()):
        print(f"  {d}: {n}")
    styles = collections.Counter((r["style"], bool(r.get("out_of_scope"))) for r in rows)
    for (s, oos), n in sorted(styles.items()):
        print(f"  {s:10} {'oos' if oos else 'ans'} {n}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
