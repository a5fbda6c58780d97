#!/usr/bin/env python3
"""Rebuilds corpus.jsonl from Debian's dict-jargon package (the Jargon File
4.4.7, public domain). Usage:

    apt-get download dict-jargon && dpkg-deb -x dict-jargon_*.deb x
    python3 make_corpus.py x/usr/share/dictd > corpus.jsonl

Every entry of at least 30 words becomes one document: {"id": headword,
"text": entry}. queries.jsonl is written by hand (see README.md).
"""
import gzip, json, re, sys

ALPHA = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def b64(s):
    n = 0
    for c in s:
        n = n * 64 + ALPHA.index(c)
    return n


def main(d):
    data = gzip.open(d + "/jargon.dict.dz").read()
    for line in open(d + "/jargon.index", encoding="utf-8"):
        hw, off, ln = line.rstrip("\n").split("\t")
        if hw.startswith("00-database"):
            continue
        t = data[b64(off):b64(off) + b64(ln)].decode("utf-8", "replace")
        if len(t.split()) < 30:
            continue
        text = "\n".join(l.strip() for l in t.split("\n")).strip()
        text = re.sub(r"\n{3,}", "\n\n", text)
        print(json.dumps({"id": hw, "text": text}, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1])
