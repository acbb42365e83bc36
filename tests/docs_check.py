#!/usr/bin/env python3
"""Docs that stay true: fails when docs/*.md name something the code does not have.

Checked:
- every Rust path in backticks (`module::function`, `Type::method`, `authify_core::authn`) whose
  first segment is ours (one of our crates, modules or types) must resolve segment by segment: a
  module's child must be defined in that module's files (or be a submodule), a type's child must
  be a method, associated item or variant defined in the code; paths into other crates
  (`tokio::spawn`) are not ours to check;
- every setting named in the docs (`AUTHIFY_*`) must occur in the code;
- every setting the code reads (string literals "AUTHIFY_..." in the server crate and its build
  script) must be listed in docs/CONFIGURATION.md.

Usage: python3 tests/docs_check.py [REPO_ROOT] [--docs DIR]
Exits 1 listing each false name with its file and line; 0 when every name holds.
"""

import argparse
import re
import sys
from collections import defaultdict
from pathlib import Path

PATH_RE = re.compile(r"`([A-Za-z_][A-Za-z0-9_]*(?:::[A-Za-z_][A-Za-z0-9_]*)+)(?:\(\))?`")
SETTING_RE = re.compile(r"\bAUTHIFY_[A-Z0-9_]*[A-Z0-9]\b")
DEF_RE = re.compile(
    r"^\s*(?:pub(?:\([a-z]+\))?\s+)?(?:async\s+|const\s+|unsafe\s+)*"
    r"(fn|struct|enum|trait|mod|const|static|type|union)\s+([A-Za-z_][A-Za-z0-9_]*)",
    re.M,
)
MACRO_RE = re.compile(r"macro_rules!\s*([A-Za-z_][A-Za-z0-9_]*)")
USE_RE = re.compile(r"^\s*pub(?:\([a-z]+\))?\s+use\s+([^;]+);", re.M | re.S)
VARIANT_RE = re.compile(r"^\s{4}([A-Z][A-Za-z0-9_]*)\s*(?:[,({=]|$)", re.M)
FIELD_RE = re.compile(r"^\s*pub(?:\([a-z]+\))?\s+([a-z_][a-z0-9_]*)\s*:", re.M)
# Names in the docs that are not our settings, each with its reason.
NOT_OURS = {
    # A relying app's own variables in the verification examples of INTEGRATION.md.
    "AUTHIFY_URL": "an example app's variable",
    "AUTHIFY_CLIENT_ID": "an example app's variable",
    "AUTHIFY_CLIENT_SECRET": "an example app's variable",
    # The 2017 service's settings that Authify deliberately does not read (ORIGINAL-WEAKNESSES.md).
    "AUTHIFY_ENVIRONMENT": "the original's, not read",
    "AUTHIFY_ACCESS_KEY": "the original's, not read",
    "AUTHIFY_SECRET_KEY": "the original's, not read",
}
ENUM_BODY_RE = re.compile(r"\benum\s+([A-Za-z_][A-Za-z0-9_]*)[^{]*\{(.*?)\n\}", re.S)


def rust_files(root):
    for crate in sorted((root / "crates").iterdir()):
        for f in sorted(crate.rglob("*.rs")):
            if "/target/" not in str(f):
                yield crate, f


def module_name(crate, f):
    """The module a file defines: its stem, `mod.rs` and `lib.rs`/`main.rs` by their folder."""
    if f.name in ("lib.rs", "main.rs") and f.parent.name == "src":
        return crate.name.replace("-", "_")
    if f.name == "mod.rs":
        return f.parent.name
    return f.stem


class Code:
    def __init__(self, root):
        self.defined = defaultdict(set)  # name -> files defining (or re-exporting) it
        self.modules = defaultdict(set)  # module name -> its files
        self.children = defaultdict(set)  # module name -> submodule names
        self.types = set()
        self.variants = defaultdict(set)  # enum -> variants
        self.methods = set()  # every fn name
        self.fields = set()  # every pub field name
        self.text = {}
        for crate, f in rust_files(root):
            text = f.read_text(encoding="utf-8")
            self.text[f] = text
            mod = module_name(crate, f)
            self.modules[mod].add(f)
            # A folder module's files belong to it too (`authn/steps.rs` is part of `authn`).
            if f.name != "mod.rs" and f.parent.name not in ("src",):
                self.children[f.parent.name].add(mod)
            if f.parent.name == "src" and f.name not in ("lib.rs", "main.rs"):
                self.children[crate.name.replace("-", "_")].add(mod)
            for kind, name in DEF_RE.findall(text):
                self.defined[name].add(f)
                if kind in ("struct", "enum", "trait", "type", "union"):
                    self.types.add(name)
                if kind == "fn":
                    self.methods.add(name)
                if kind == "mod":
                    self.children[mod].add(name)
            self.fields.update(FIELD_RE.findall(text))
            for name in MACRO_RE.findall(text):
                self.defined[name].add(f)
            for use in USE_RE.findall(text):
                for name in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", use):
                    self.defined[name].add(f)
            for enum, body in ENUM_BODY_RE.findall(text):
                self.variants[enum].update(VARIANT_RE.findall(body))

    def is_ours(self, name):
        return name in self.modules or name in self.types

    def module_has(self, module, name):
        files = self.modules.get(module, set())
        if name in self.children.get(module, set()):
            return True
        return any(f in files for f in self.defined.get(name, ()))

    def check(self, path):
        """None when `path` holds (or is not ours), else why not."""
        segs = path.split("::")
        if segs[0] in ("crate", "self", "super"):
            segs = segs[1:]
        if not segs or not self.is_ours(segs[0]):
            return None
        for parent, child in zip(segs, segs[1:]):
            if parent in self.modules and self.module_has(parent, child):
                continue
            if parent in self.types and (
                child in self.methods
                or child in self.fields
                or child in self.variants.get(parent, ())
                or child in self.defined
            ):
                continue
            return f"`{child}` is not in `{parent}`"
        return None


def doc_files(root, docs):
    folder = Path(docs) if docs else root / "docs"
    return sorted(folder.glob("*.md"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root", nargs="?", default=Path(__file__).resolve().parent.parent)
    ap.add_argument("--docs", help="folder of the .md files (default: ROOT/docs)")
    args = ap.parse_args()
    root = Path(args.root)
    code = Code(root)
    all_code = "\n".join(code.text.values())
    problems = []
    for doc in doc_files(root, args.docs):
        for n, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
            for path in PATH_RE.findall(line):
                why = code.check(path)
                if why:
                    problems.append(f"{doc.name}:{n}: `{path}`: {why}")
            for setting in SETTING_RE.findall(line):
                if setting not in all_code and setting not in NOT_OURS:
                    problems.append(f"{doc.name}:{n}: {setting} is not read anywhere in the code")
    config = (root / "docs" / "CONFIGURATION.md").read_text(encoding="utf-8")
    server = root / "crates" / "authify-server"
    read = set()
    for f in list(server.rglob("*.rs")):
        if f.name == "tests.rs":  # tests name unknown settings on purpose
            continue
        read.update(re.findall(r"\"(AUTHIFY_[A-Z0-9_]*[A-Z0-9])\"", f.read_text(encoding="utf-8")))
    for setting in sorted(read):
        if setting not in config:
            problems.append(f"CONFIGURATION.md: {setting} is read by the server but not documented")
    for p in problems:
        print(p)
    if problems:
        print(f"docs_check: {len(problems)} false or missing names", file=sys.stderr)
        return 1
    print(f"docs_check: every name in {len(doc_files(root, args.docs))} documents holds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
