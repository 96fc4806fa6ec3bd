#!/usr/bin/env python3
"""Build the bundled evaluation and calibration data sets under ``data/``.

Everything is either authored in this file or derived from text that ships
with CPython 3.11 (stdlib docstrings via ``inspect.getdoc`` and stdlib source
files).  Nothing is downloaded.  The script is deterministic: running it twice
produces byte-identical files.

Outputs (JSONL, one object per line, UTF-8) and a Markdown card per file:

    data/eval/stdlib-docs.jsonl               text             perplexity
    data/eval/everyday-mc.jsonl               multiple_choice  log-likelihood accuracy
    data/eval/short-answers.jsonl             generation       exact / contains match
    data/calibration/stdlib-docs-calib.jsonl  text             in-domain calibration
    data/calibration/python-code-calib.jsonl  text             off-domain calibration
    data/calibration/numbers-calib.jsonl      text             extremely off-domain calibration
    data/README.md                            index

Before writing, calibration records that share any text with evaluation text
are dropped (a handful at most; listed in the calibration cards), and the
script then asserts that calibration and evaluation text share no document, no
non-trivial line and no 50-character substring, and that multiple-choice /
generation items have unique ids and prompts.

Usage:  python3 scripts/build_data.py
"""
from __future__ import annotations

import importlib
import inspect
import json
import platform
import random
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
EVAL_DIR = DATA / "eval"
CALIB_DIR = DATA / "calibration"

MIN_DOC_CHARS = 200        # drop docstrings shorter than this
CODE_CHUNK_CHARS = 1500    # target size of a source-code chunk
MIN_CODE_CHUNK_CHARS = 300 # drop trailing chunks shorter than this
WINDOW = 50                # substring length for the leakage check
MIN_LINE_CHARS = 25        # lines shorter than this are "trivial" for the line check
MC_SEED = 1234
NUMBERS_SEED = 7
NUMBERS_RECORDS = 200

# Module lists.  The three lists are pairwise disjoint (asserted below).
EVAL_DOC_MODULES = [
    "json", "csv", "textwrap", "string", "collections", "heapq", "bisect",
    "fractions", "statistics", "shutil", "tempfile", "argparse", "calendar",
    "difflib", "zipfile",
]
CALIB_DOC_MODULES = [
    "os.path", "pathlib", "itertools", "functools", "re", "datetime", "random",
    "logging", "subprocess", "threading", "socket", "email.message",
    "email.utils", "http.client", "urllib.parse", "urllib.request", "unittest",
    "unittest.case", "unittest.mock", "sqlite3", "pprint", "enum",
    "dataclasses", "typing", "decimal", "math", "hashlib", "base64", "gzip",
    "tarfile", "glob", "fnmatch", "copy", "pickle", "struct", "time", "zlib",
    "xml.etree.ElementTree",
]
CODE_MODULES = [
    "ast", "configparser", "contextlib", "ipaddress", "shlex", "queue",
    "sched", "graphlib", "selectors", "plistlib", "getopt", "netrc",
    "colorsys", "timeit",
]

CALIB_SETS = ("stdlib-docs-calib", "python-code-calib", "numbers-calib")

PY_VERSION = platform.python_version()
STDLIB_LICENCE = "PSF License Agreement (CPython docstrings/source)"
PROJECT_LICENCE = "MIT (authored by this project)"


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------

def normalise_doc(text: str) -> str:
    """Light whitespace normalisation that keeps paragraphs and indentation."""
    text = text.replace("\r\n", "\n").replace("\t", "    ")
    lines = [line.rstrip() for line in text.split("\n")]
    text = "\n".join(lines).strip("\n")
    return re.sub(r"\n{3,}", "\n\n", text)


def collapse_ws(text: str) -> str:
    """Whitespace-insensitive form used by the leakage checks."""
    return " ".join(text.split())


def write_jsonl(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.rstrip("\n") + "\n", encoding="utf-8", newline="\n")


# --------------------------------------------------------------------------
# Stdlib docstrings (text kind)
# --------------------------------------------------------------------------

def _defined_in(obj, module) -> bool:
    """True if ``obj`` belongs to ``module`` (or to its C accelerator)."""
    name = getattr(obj, "__module__", None) or ""
    short = module.__name__.rsplit(".", 1)[-1]
    return name in (module.__name__, "_" + short)


def _member_doc(value) -> str | None:
    if isinstance(value, (staticmethod, classmethod)):
        value = value.__func__
    if not (inspect.isfunction(value) or inspect.ismethoddescriptor(value)
            or isinstance(value, property)):
        return None
    return inspect.cleandoc(value.__doc__) if value.__doc__ else None


def module_docstrings(modname: str) -> list[tuple[str, str]]:
    """(id, docstring) pairs: the module, its public functions and classes,
    and the public methods defined directly on those classes."""
    module = importlib.import_module(modname)
    found = [(modname, inspect.getdoc(module))]
    for name in sorted(n for n in dir(module) if not n.startswith("_")):
        obj = getattr(module, name)
        if not (inspect.isfunction(obj) or inspect.isclass(obj) or inspect.isbuiltin(obj)):
            continue
        if not _defined_in(obj, module):
            continue
        found.append((f"{modname}.{name}", inspect.getdoc(obj)))
        if inspect.isclass(obj):
            for attr, value in sorted(vars(obj).items()):
                if not attr.startswith("_"):
                    found.append((f"{modname}.{name}.{attr}", _member_doc(value)))
    return [(i, normalise_doc(d)) for i, d in found if d and len(d.strip()) >= MIN_DOC_CHARS]


def docstring_records(modules: list[str]) -> list[dict]:
    records, seen = [], set()
    for modname in modules:
        for rec_id, text in module_docstrings(modname):
            if len(text) < MIN_DOC_CHARS or text in seen:  # inherited duplicates
                continue
            seen.add(text)
            records.append({"id": rec_id, "text": text})
    return records


# --------------------------------------------------------------------------
# Stdlib source code chunks (text kind)
# --------------------------------------------------------------------------

def code_chunks(modname: str) -> list[str]:
    """Split a module's source into ~CODE_CHUNK_CHARS chunks on line boundaries."""
    path = inspect.getsourcefile(importlib.import_module(modname))
    source = Path(path).read_text(encoding="utf-8")
    chunks, current, size = [], [], 0
    for line in source.splitlines(keepends=True):
        if current and size + len(line) > CODE_CHUNK_CHARS:
            chunks.append("".join(current))
            current, size = [], 0
        current.append(line)
        size += len(line)
    if current:
        chunks.append("".join(current))
    chunks = [c.rstrip() for c in chunks]
    return [c for c in chunks if len(c) >= MIN_CODE_CHUNK_CHARS and c.strip()]


def code_records(modules: list[str]) -> list[dict]:
    records = []
    for modname in modules:
        for k, chunk in enumerate(code_chunks(modname)):
            records.append({"id": f"{modname}-{k:03d}", "text": chunk})
    return records


# --------------------------------------------------------------------------
# Synthetic numeric tables (text kind)
# --------------------------------------------------------------------------

NUMBER_SCHEMAS = [
    ("row", "int", "float", "float", "hex8"),
    ("id", "hex16", "int", "neg_float", "int"),
    ("t", "float", "float", "float", "float", "hex4"),
    ("key", "hex8", "hex8", "int", "pct"),
    ("n", "int", "int", "int", "neg_float", "float"),
]


def _cell(rng: random.Random, kind: str) -> str:
    if kind == "int":
        return str(rng.randint(0, 99999))
    if kind == "float":
        return f"{rng.uniform(0, 1000):.4f}"
    if kind == "neg_float":
        return f"{rng.uniform(-500, 500):.3f}"
    if kind == "pct":
        return f"{rng.uniform(0, 100):.1f}%"
    if kind.startswith("hex"):
        return f"{rng.getrandbits(4 * int(kind[3:])):0{kind[3:]}x}"
    raise ValueError(kind)


def numbers_records() -> list[dict]:
    rng = random.Random(NUMBERS_SEED)
    records = []
    for k in range(NUMBERS_RECORDS):
        schema = NUMBER_SCHEMAS[rng.randrange(len(NUMBER_SCHEMAS))]
        header = ",".join([schema[0]] + [f"c{j}" for j in range(1, len(schema))])
        rows = [header]
        for r in range(rng.randint(12, 24)):
            rows.append(",".join([str(r)] + [_cell(rng, kind) for kind in schema[1:]]))
        records.append({"id": f"numbers-{k:03d}", "text": "\n".join(rows)})
    return records


# --------------------------------------------------------------------------
# Multiple-choice items (authored)
# --------------------------------------------------------------------------

CAPITALS = [
    ("France", "Paris"), ("Germany", "Berlin"), ("Italy", "Rome"),
    ("Spain", "Madrid"), ("Portugal", "Lisbon"), ("the United Kingdom", "London"),
    ("Ireland", "Dublin"), ("Belgium", "Brussels"), ("the Netherlands", "Amsterdam"),
    ("Austria", "Vienna"), ("Switzerland", "Bern"), ("Poland", "Warsaw"),
    ("the Czech Republic", "Prague"), ("Hungary", "Budapest"), ("Greece", "Athens"),
    ("Sweden", "Stockholm"), ("Norway", "Oslo"), ("Denmark", "Copenhagen"),
    ("Finland", "Helsinki"), ("Iceland", "Reykjavik"), ("Russia", "Moscow"),
    ("Ukraine", "Kyiv"), ("Romania", "Bucharest"), ("Turkey", "Ankara"),
    ("Egypt", "Cairo"), ("Kenya", "Nairobi"), ("Nigeria", "Abuja"),
    ("Morocco", "Rabat"), ("Ethiopia", "Addis Ababa"), ("Ghana", "Accra"),
    ("Japan", "Tokyo"), ("China", "Beijing"), ("South Korea", "Seoul"),
    ("India", "New Delhi"), ("Thailand", "Bangkok"), ("Vietnam", "Hanoi"),
    ("the Philippines", "Manila"), ("Pakistan", "Islamabad"), ("Iran", "Tehran"),
    ("Iraq", "Baghdad"), ("Saudi Arabia", "Riyadh"), ("Australia", "Canberra"),
    ("New Zealand", "Wellington"), ("Canada", "Ottawa"),
    ("the United States", "Washington, D.C."), ("Mexico", "Mexico City"),
    ("Brazil", "Brasília"), ("Argentina", "Buenos Aires"), ("Chile", "Santiago"),
    ("Peru", "Lima"), ("Colombia", "Bogotá"), ("Cuba", "Havana"),
]

# (word, opposite, distractors that must NOT be offered because they are
# arguably also correct)
ANTONYMS = [
    ("hot", "cold", ()), ("big", "small", ("short",)), ("tall", "short", ("small", "low")),
    ("fast", "slow", ()), ("happy", "sad", ()), ("dark", "light", ()),
    ("empty", "full", ()), ("wet", "dry", ()), ("hard", "soft", ("difficult",)),
    ("open", "closed", ()), ("young", "old", ()), ("rich", "poor", ()),
    ("clean", "dirty", ()), ("early", "late", ()), ("strong", "weak", ("soft",)),
    ("thick", "thin", ("narrow",)), ("loud", "quiet", ("soft",)), ("high", "low", ("short",)),
    ("cheap", "expensive", ()), ("easy", "difficult", ()), ("true", "false", ()),
    ("wide", "narrow", ("thin",)), ("deep", "shallow", ()), ("first", "last", ()),
    ("alive", "dead", ()), ("safe", "dangerous", ()), ("good", "bad", ()),
    ("beautiful", "ugly", ()), ("polite", "rude", ()), ("brave", "cowardly", ()),
    ("near", "far", ()), ("inside", "outside", ()), ("smooth", "rough", ()),
    ("sharp", "blunt", ()), ("tight", "loose", ()), ("awake", "asleep", ()),
    ("male", "female", ()), ("positive", "negative", ()), ("maximum", "minimum", ()),
    ("public", "private", ()), ("possible", "impossible", ()), ("honest", "dishonest", ()),
    ("visible", "invisible", ()), ("sick", "healthy", ()), ("cruel", "kind", ()),
    ("wild", "tame", ()), ("guilty", "innocent", ()), ("ancient", "modern", ()),
    ("even", "odd", ()), ("absent", "present", ()), ("top", "bottom", ()),
    ("north", "south", ()), ("east", "west", ()),
]

DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July",
          "August", "September", "October", "November", "December"]
# (unit, index of the reference day/month, +1 = "after" / -1 = "before")
CALENDAR_QUESTIONS = (
    [("day", i, +1) for i in range(7)]
    + [("day", i, -1) for i in (0, 2, 3, 4, 5, 6)]
    + [("month", i, +1) for i in (0, 2, 4, 7, 9, 11)]
    + [("month", i, -1) for i in (0, 3, 5, 6, 8, 10)]
)

NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven",
                "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen",
                "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"]
WORDS_TO_DIGITS = [3, 5, 7, 8, 9, 11, 12, 15, 18, 20]
DIGITS_TO_WORDS = [2, 4, 6, 10, 13, 14, 16, 19]
# (a, operator, b) in words, answer in words; small numbers only
ARITHMETIC = [
    (2, "plus", 3), (1, "plus", 1), (4, "plus", 4), (5, "plus", 2), (3, "plus", 6),
    (10, "plus", 5), (9, "minus", 4), (7, "minus", 2), (10, "minus", 3),
    (8, "minus", 8), (2, "times", 3), (3, "times", 4),
]
OPS = {"plus": lambda a, b: a + b, "minus": lambda a, b: a - b, "times": lambda a, b: a * b}

# (singular, correct plural, three wrong forms of the same noun)
PLURALS = [
    ("child", "children", ("childs", "childes", "childrens")),
    ("mouse", "mice", ("mouses", "mices", "meese")),
    ("goose", "geese", ("gooses", "geeses", "goosen")),
    ("man", "men", ("mans", "mens", "manes")),
    ("woman", "women", ("womans", "womens", "womanes")),
    ("tooth", "teeth", ("tooths", "teeths", "toothes")),
    ("foot", "feet", ("foots", "feets", "footes")),
    ("ox", "oxen", ("oxes", "oxs", "oxens")),
    ("sheep", "sheep", ("sheeps", "sheepes", "shoop")),
    ("leaf", "leaves", ("leafs", "leafes", "leave")),
    ("knife", "knives", ("knifes", "knive", "knifs")),
    ("wife", "wives", ("wifes", "wive", "wifs")),
    ("wolf", "wolves", ("wolfs", "wolfes", "wolve")),
    ("half", "halves", ("halfs", "halfes", "halve")),
    ("box", "boxes", ("boxs", "boxen", "boxies")),
    ("church", "churches", ("churchs", "churchies", "churchen")),
    ("baby", "babies", ("babys", "babyes", "babis")),
    ("city", "cities", ("citys", "cityes", "citis")),
    ("story", "stories", ("storys", "storyes", "storis")),
    ("potato", "potatoes", ("potatos", "potatoies", "potatoss")),
    ("hero", "heroes", ("heroe", "heroies", "heroen")),
    ("glass", "glasses", ("glass", "glasss", "glassies")),
    ("dish", "dishes", ("dishs", "dishies", "dishen")),
    ("key", "keys", ("keies", "keyes", "kies")),
    ("cat", "cats", ("cat", "cates", "caties")),
]

BABY_ANIMALS = [
    ("dog", "puppy"), ("cat", "kitten"), ("cow", "calf"), ("horse", "foal"),
    ("sheep", "lamb"), ("bear", "cub"), ("hen", "chick"), ("pig", "piglet"),
    ("duck", "duckling"), ("frog", "tadpole"), ("kangaroo", "joey"),
    ("deer", "fawn"), ("goose", "gosling"),
]
ANIMAL_SOUNDS = [
    ("cow", "moo"), ("dog", "woof"), ("cat", "meow"), ("duck", "quack"),
    ("sheep", "baa"), ("pig", "oink"), ("owl", "hoot"), ("mouse", "squeak"),
    ("frog", "ribbit"), ("lion", "roar"), ("snake", "hiss"), ("bee", "buzz"),
    ("horse", "neigh"),
]

COLOURS = ["red", "blue", "green", "yellow", "white", "black", "brown",
           "orange", "pink", "purple", "grey"]
# (prompt, answer, colours that must NOT be offered)
COLOUR_QUESTIONS = [
    ("The color of the sky on a clear day is", "blue", ()),
    ("The color of fresh grass is", "green", ()),
    ("The color of fresh snow is", "white", ()),
    ("The color of coal is", "black", ()),
    ("The color of a ripe banana is", "yellow", ()),
    ("The color of a ripe strawberry is", "red", ()),
    ("The color of milk chocolate is", "brown", ()),
    ("Mixing blue and yellow paint makes", "green", ()),
]
# (question, answer, three distractors)
COMMON_KNOWLEDGE = [
    ("How many legs does a spider have?", "eight", ("six", "four", "ten")),
    ("How many days are there in a week?", "seven", ("five", "six", "ten")),
    ("How many months are there in a year?", "twelve", ("ten", "eleven", "thirteen")),
    ("How many hours are there in a day?", "twenty-four", ("twelve", "sixty", "ten")),
    ("How many sides does a triangle have?", "three", ("four", "five", "six")),
    ("What do bees make?", "honey", ("milk", "wool", "cheese")),
    ("What is frozen water called?", "ice", ("steam", "sand", "glass")),
    ("Which planet do we live on?", "Earth", ("Mars", "Venus", "Jupiter")),
    ("What is the largest ocean on Earth?", "the Pacific Ocean",
     ("the Arctic Ocean", "the Indian Ocean", "the Southern Ocean")),
    ("What do cows give us to drink?", "milk", ("juice", "coffee", "tea")),
    ("Which body part do we use to see?", "the eyes", ("the ears", "the nose", "the feet")),
    ("At what temperature in Celsius does water freeze?", "0 degrees",
     ("50 degrees", "100 degrees", "20 degrees")),
]


def _q(question: str) -> str:
    return f"Question: {question}\nAnswer:"


def _near_numbers(n: int, rng: random.Random, lo: int = 0, hi: int = 20) -> list[int]:
    pool = [m for m in range(max(lo, n - 3), min(hi, n + 3) + 1) if m != n]
    return rng.sample(pool, 3)


def mc_raw_items(rng: random.Random) -> list[tuple[str, str, str, list[str]]]:
    """(category, prompt, answer, distractors) for every item, in table order."""
    items = []

    def from_pool(cat, prompt, answer, pool, exclude=()):
        options = sorted(set(pool) - {answer} - set(exclude))
        items.append((cat, prompt, answer, rng.sample(options, 3)))

    capitals = [c for _, c in CAPITALS]
    for country, capital in CAPITALS:
        from_pool("capital", _q(f"What is the capital of {country}?"), capital, capitals)

    opposites = [o for _, o, _ in ANTONYMS]
    for word, opposite, exclude in ANTONYMS:
        from_pool("antonym", f"The opposite of {word} is", opposite, opposites, exclude + (word,))

    for unit, i, step in CALENDAR_QUESTIONS:
        names = DAYS if unit == "day" else MONTHS
        rel = "after" if step > 0 else "before"
        answer = names[(i + step) % len(names)]
        from_pool("calendar", f"The {unit} {rel} {names[i]} is", answer, names, (names[i],))

    for n in WORDS_TO_DIGITS:
        items.append(("number", f"The number {NUMBER_WORDS[n]} written in digits is",
                      str(n), [str(m) for m in _near_numbers(n, rng)]))
    for n in DIGITS_TO_WORDS:
        items.append(("number", f"The number {n} written in words is",
                      NUMBER_WORDS[n], [NUMBER_WORDS[m] for m in _near_numbers(n, rng)]))
    for a, op, b in ARITHMETIC:
        n = OPS[op](a, b)
        prompt = f"{NUMBER_WORDS[a].capitalize()} {op} {NUMBER_WORDS[b]} equals"
        items.append(("number", prompt, NUMBER_WORDS[n],
                      [NUMBER_WORDS[m] for m in _near_numbers(n, rng)]))

    for singular, plural, wrong in PLURALS:
        items.append(("plural", f"The plural of {singular} is", plural, list(wrong)))

    babies = [b for _, b in BABY_ANIMALS]
    for animal, baby in BABY_ANIMALS:
        from_pool("animal", f"A baby {animal} is called a", baby, babies)
    sounds = [s for _, s in ANIMAL_SOUNDS]
    for animal, sound in ANIMAL_SOUNDS:
        article = "An" if animal[0] in "aeiou" else "A"
        from_pool("animal", f"{article} {animal} says", sound, sounds)

    for prompt, answer, exclude in COLOUR_QUESTIONS:
        from_pool("knowledge", prompt, answer, COLOURS, exclude)
    for question, answer, distractors in COMMON_KNOWLEDGE:
        items.append(("knowledge", _q(question), answer, list(distractors)))
    return items


def mc_records() -> list[dict]:
    """The original items (seed ``MC_SEED``), then the appended ones (seed ``MC_EXTRA_SEED``)."""
    records = _shuffled(random.Random(MC_SEED), mc_raw_items, [])
    return _shuffled(random.Random(MC_EXTRA_SEED), mc_extra_raw_items, records)


def _shuffled(rng: random.Random, raw_items, records: list[dict]) -> list[dict]:
    """Shuffle choices so that answer positions are balanced within each category; append to ``records``."""
    raw = raw_items(rng)
    by_cat: dict[str, list] = {}
    for cat, prompt, answer, distractors in raw:
        by_cat.setdefault(cat, []).append((prompt, answer, distractors))
    for cat, items in by_cat.items():
        # Cycle positions across categories so the total is balanced too.
        positions = [(len(records) + i) % 4 for i in range(len(items))]
        rng.shuffle(positions)
        for k, ((prompt, answer, distractors), pos) in enumerate(zip(items, positions)):
            choices = list(distractors)
            rng.shuffle(choices)
            choices.insert(pos, answer)
            records.append({"id": f"{cat}-{k + 1:03d}", "prompt": prompt,
                            "choices": choices, "answer": pos})
    return records


MC_CATEGORY_INFO = {
    "capital": "country capitals (well-known countries)",
    "antonym": "opposites of common adjectives",
    "calendar": "day / month after or before a given one",
    "number": "number words <-> digits, small arithmetic",
    "plural": "plural of a common noun (distractors are wrong forms of the same noun)",
    "animal": "names of baby animals, animal sounds",
    "knowledge": "colours and everyday common knowledge",
    "grammar": "past tense of an irregular verb (distractors are wrong forms of the same verb)",
    "geography": "the continent a country is on",
    "language": "the main language of a country",
    "currency": "the currency of a country",
    "unit": "units of length, mass, time and money",
    "science": "simple science, shapes and nature",
}


# --------------------------------------------------------------------------
# Generation items (authored)
# --------------------------------------------------------------------------

# (category, question, reference, aliases)
SHORT_ANSWERS = [
    ("capital", "What is the capital of France?", "Paris", []),
    ("capital", "What is the capital of Japan?", "Tokyo", []),
    ("capital", "What is the capital of Italy?", "Rome", []),
    ("capital", "What is the capital of England?", "London", []),
    ("capital", "What is the capital of Germany?", "Berlin", []),
    ("capital", "What is the capital of Spain?", "Madrid", []),
    ("capital", "What is the capital of Russia?", "Moscow", []),
    ("capital", "What is the capital of Egypt?", "Cairo", []),
    ("capital", "What is the capital of China?", "Beijing", ["Peking"]),
    ("colour", "What color is the sky on a clear day?", "blue", []),
    ("colour", "What color is grass?", "green", []),
    ("colour", "What color is snow?", "white", []),
    ("colour", "What color is a ripe banana?", "yellow", []),
    ("colour", "What color is coal?", "black", []),
    ("colour", "What color is blood?", "red", []),
    ("opposite", "What is the opposite of hot?", "cold", []),
    ("opposite", "What is the opposite of up?", "down", []),
    ("opposite", "What is the opposite of big?", "small", ["little", "tiny"]),
    ("opposite", "What is the opposite of day?", "night", []),
    ("opposite", "What is the opposite of yes?", "no", []),
    ("opposite", "What is the opposite of black?", "white", []),
    ("opposite", "What is the opposite of happy?", "sad", ["unhappy"]),
    ("arithmetic", "What is 2 + 2?", "4", ["four"]),
    ("arithmetic", "What is 1 + 1?", "2", ["two"]),
    ("arithmetic", "What is 3 + 4?", "7", ["seven"]),
    ("arithmetic", "What is 5 + 5?", "10", ["ten"]),
    ("arithmetic", "What is 9 - 4?", "5", ["five"]),
    ("arithmetic", "What is 6 + 2?", "8", ["eight"]),
    ("arithmetic", "What is 2 times 3?", "6", ["six"]),
    ("calendar", "What day comes after Monday?", "Tuesday", []),
    ("calendar", "What day comes before Sunday?", "Saturday", []),
    ("calendar", "What day comes after Thursday?", "Friday", []),
    ("calendar", "What is the first month of the year?", "January", []),
    ("calendar", "What is the last month of the year?", "December", []),
    ("calendar", "How many days are in a week?", "7", ["seven"]),
    ("misc", "What animal says meow?", "cat", ["kitten"]),
    ("misc", "What animal says moo?", "cow", []),
    ("misc", "What do bees make?", "honey", []),
    ("misc", "What is frozen water called?", "ice", []),
    ("misc", "How many legs does a dog have?", "4", ["four"]),
    ("misc", "What planet do we live on?", "Earth", []),
]


# Items added for the evidence-based gate (issue 10): a paired non-inferiority test needs
# ≥ 300 items to resolve a 5-point limit at the discordance quantization causes. Appended
# after the original 41 so their ids stay the same. Derived from the tables above where
# they exist (capitals, opposites, calendar, animals); the rest authored here.
_NUMBER_ALIASES = {100: ["one hundred", "hundred"], 1000: ["one thousand", "thousand"]}


def _num(n: int) -> tuple[str, list[str]]:
    """A number's reference (digits) and aliases (its word, when the word is short)."""
    words = [NUMBER_WORDS[n]] if 0 <= n < len(NUMBER_WORDS) else _NUMBER_ALIASES.get(n, [])
    return str(n), list(words)


_CAPITAL_ALIASES = {"Brasília": ["Brasilia"], "Bogotá": ["Bogota"], "Kyiv": ["Kiev"],
                    "Washington, D.C.": ["Washington"], "New Delhi": ["Delhi"]}
_ASKED_CAPITALS = {"France", "Japan", "Italy", "Germany", "Spain", "Russia", "Egypt", "China",
                   "the United Kingdom"}  # already asked (the UK as "England")
_OPPOSITE_ALIASES = {
    "tall": ["small", "low"], "hard": ["easy"], "dark": ["bright"], "loud": ["soft", "silent"],
    "open": ["shut"], "cheap": ["costly"], "brave": ["scared", "afraid", "coward"], "sharp": ["dull"],
    "sick": ["well"], "wild": ["domestic"], "ancient": ["new"], "safe": ["unsafe"], "good": ["evil"],
    "polite": ["impolite"], "easy": ["hard"], "thick": ["slim"], "strong": ["feeble"],
}
_ASKED_OPPOSITES = {"hot", "big", "happy"}
_ASKED_CALENDAR = {("day", 0, +1), ("day", 6, -1), ("day", 3, +1)}

EXTRA_ARITHMETIC = [
    (3, "+", 5), (4, "+", 3), (6, "+", 3), (7, "+", 2), (8, "+", 1), (2, "+", 7), (5, "+", 4),
    (6, "+", 6), (7, "+", 7), (8, "+", 4), (9, "+", 9), (3, "+", 3), (4, "+", 6), (10, "+", 10),
    (11, "+", 2), (12, "+", 5), (9, "+", 1), (2, "+", 5), (1, "+", 8), (5, "+", 6),
    (8, "-", 3), (7, "-", 5), (10, "-", 4), (6, "-", 1), (9, "-", 9), (12, "-", 2), (15, "-", 5),
    (20, "-", 10), (8, "-", 6), (5, "-", 3), (11, "-", 1), (14, "-", 7), (18, "-", 9),
    (3, "times", 3), (2, "times", 5), (4, "times", 4), (5, "times", 3), (2, "times", 8), (6, "times", 2),
    (10, "times", 2), (3, "times", 6), (4, "times", 5), (2, "times", 2), (1, "times", 9),
    (10, "divided by", 2), (12, "divided by", 3), (8, "divided by", 4), (20, "divided by", 5),
    (9, "divided by", 3), (16, "divided by", 2),
]
_ARITH = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "times": lambda a, b: a * b,
          "divided by": lambda a, b: a // b}

# (question, reference, aliases)
EXTRA_COLOURS = [
    ("What color is a carrot?", "orange", []), ("What color is a lemon?", "yellow", []),
    ("What color is a tomato?", "red", []), ("What color is milk?", "white", []),
    ("What color is a fire truck?", "red", []), ("What color is the sun?", "yellow", ["white"]),
    ("What color are leaves in summer?", "green", []), ("What color is an orange?", "orange", []),
    ("What color is a lime?", "green", []), ("What color is a strawberry?", "red", []),
    ("What color is a polar bear?", "white", []), ("What color is a crow?", "black", []),
    ("What color is the sea?", "blue", []), ("What color is a pumpkin?", "orange", []),
    ("What color is a cherry?", "red", []), ("What color is an elephant?", "grey", ["gray"]),
    ("What color is a flamingo?", "pink", []), ("What color is a frog?", "green", []),
    ("What color is salt?", "white", []), ("What color is chocolate?", "brown", []),
    ("What color is an eggplant?", "purple", ["violet"]), ("What color is a stop sign?", "red", []),
    ("What color is a school bus?", "yellow", []), ("What color is a ripe plum?", "purple", []),
    ("What color are most clouds?", "white", ["grey", "gray"]),
    ("What color do you get by mixing red and white?", "pink", []),
    ("What color do you get by mixing blue and yellow?", "green", []),
    ("What color do you get by mixing red and yellow?", "orange", []),
    ("What color do you get by mixing red and blue?", "purple", ["violet"]),
    ("What color do you get by mixing black and white?", "grey", ["gray"]),
]
EXTRA_ANIMALS = [
    ("What animal says woof?", "dog", ["puppy"]), ("What animal says quack?", "duck", []),
    ("What animal says oink?", "pig", []), ("What animal says baa?", "sheep", ["lamb"]),
    ("What animal says neigh?", "horse", []), ("What animal says hoot?", "owl", []),
    ("What animal says ribbit?", "frog", ["toad"]), ("What animal says hiss?", "snake", []),
    ("What insect says buzz?", "bee", ["fly"]), ("What animal says squeak?", "mouse", []),
    ("What is a baby dog called?", "puppy", ["pup"]), ("What is a baby cat called?", "kitten", []),
    ("What is a baby cow called?", "calf", []), ("What is a baby horse called?", "foal", ["colt", "filly"]),
    ("What is a baby sheep called?", "lamb", []), ("What is a baby bear called?", "cub", []),
    ("What is a baby hen called?", "chick", []), ("What is a baby duck called?", "duckling", []),
    ("What is a baby frog called?", "tadpole", []), ("What is a baby kangaroo called?", "joey", []),
    ("How many legs does a spider have?", "8", ["eight"]), ("How many legs does an insect have?", "6", ["six"]),
    ("How many legs does a bird have?", "2", ["two"]), ("How many legs does a cow have?", "4", ["four"]),
    ("What animal has a trunk?", "elephant", []), ("What animal has a very long neck?", "giraffe", []),
    ("What animal is called the king of the jungle?", "lion", []),
    ("What animal gives us wool?", "sheep", []), ("What animal gives us milk?", "cow", ["goat"]),
    ("What bird lives in Antarctica and cannot fly?", "penguin", []),
    ("What animal has black and white stripes?", "zebra", []),
    ("What do caterpillars turn into?", "butterflies", ["butterfly", "moths", "moth"]),
    ("What animal builds dams in rivers?", "beaver", []), ("What animal is the fastest on land?", "cheetah", []),
    ("What is the largest animal on Earth?", "blue whale", ["whale"]),
    ("What animal hops and lives in Australia?", "kangaroo", []),
    ("What animal makes a web?", "spider", []), ("Where do fish live?", "water", ["sea", "ocean", "river", "lake"]),
    ("What do cows eat?", "grass", ["hay"]), ("What do monkeys like to eat?", "bananas", ["banana", "fruit"]),
]
EXTRA_SCIENCE = [
    ("What is the largest planet in our solar system?", "Jupiter", []),
    ("What is the planet closest to the Sun?", "Mercury", []),
    ("Which planet is called the red planet?", "Mars", []),
    ("What star is closest to Earth?", "the Sun", ["Sun"]),
    ("What is the natural satellite of the Earth?", "the Moon", ["Moon"]),
    ("How many planets are in our solar system?", "8", ["eight"]),
    ("What gas do humans need to breathe?", "oxygen", []),
    ("What gas do plants take in from the air?", "carbon dioxide", ["CO2"]),
    ("At what temperature in Celsius does water boil?", "100", ["one hundred", "hundred"]),
    ("At what temperature in Celsius does water freeze?", "0", ["zero"]),
    ("What is H2O?", "water", []), ("What force pulls objects toward the Earth?", "gravity", []),
    ("What organ pumps blood through the body?", "heart", []), ("What organ do we think with?", "brain", []),
    ("What organs do we breathe with?", "lungs", ["lung"]), ("What do plants need from the Sun?", "light", ["sunlight"]),
    ("What is the chemical symbol for gold?", "Au", []), ("What is the chemical symbol for oxygen?", "O", []),
    ("What is the hardest natural material?", "diamond", []), ("What is the largest ocean on Earth?", "Pacific", []),
    ("What is the tallest mountain in the world?", "Everest", ["Mount Everest"]),
    ("What is the largest continent?", "Asia", []), ("How many continents are there?", "7", ["seven"]),
    ("What do bees collect from flowers?", "nectar", ["pollen"]),
    ("What is frozen rain called?", "hail", ["snow", "sleet"]),
    ("What is the boiling point of water in Fahrenheit?", "212", []),
    ("How many sides does a triangle have?", "3", ["three"]), ("How many sides does a square have?", "4", ["four"]),
    ("How many sides does a pentagon have?", "5", ["five"]), ("How many sides does a hexagon have?", "6", ["six"]),
    ("How many sides does an octagon have?", "8", ["eight"]),
    ("How many degrees are in a right angle?", "90", ["ninety"]),
    ("How many degrees are in a circle?", "360", []),
    ("What shape is a ball?", "sphere", ["round", "circle"]),
    ("What do we call a shape with three sides?", "triangle", []),
]
EXTRA_UNITS = [
    ("How many centimeters are in a meter?", 100), ("How many meters are in a kilometer?", 1000),
    ("How many grams are in a kilogram?", 1000), ("How many millimeters are in a centimeter?", 10),
    ("How many milliliters are in a liter?", 1000), ("How many minutes are in an hour?", 60),
    ("How many seconds are in a minute?", 60), ("How many hours are in a day?", 24),
    ("How many months are in a year?", 12), ("How many days are in a year?", 365),
    ("How many weeks are in a year?", 52), ("How many days are in a leap year?", 366),
    ("How many years are in a decade?", 10), ("How many years are in a century?", 100),
    ("How many years are in a millennium?", 1000), ("How many inches are in a foot?", 12),
    ("How many feet are in a yard?", 3), ("How many ounces are in a pound?", 16),
    ("How many cents are in a dollar?", 100), ("How many eggs are in a dozen?", 12),
    ("How many things are in a pair?", 2), ("How many days are in April?", 30),
    ("How many days are in January?", 31), ("How many days are in February in a common year?", 28),
    ("How many hours are in two days?", 48), ("How many minutes are in half an hour?", 30),
    ("How many days are in two weeks?", 14), ("How many seasons are in a year?", 4),
]
EXTRA_NUMBERS = (
    [(f"How do you write {n} in words?", NUMBER_WORDS[n], []) for n in (3, 7, 9, 11, 12, 15, 16, 20)]
    + [(f"What number comes after {n}?", *_num(n + 1)) for n in (4, 9, 12, 19)]
    + [(f"What number comes before {n}?", *_num(n - 1)) for n in (6, 10, 15, 20)]
    + [("What is half of 10?", *_num(5)), ("What is half of 8?", *_num(4)), ("What is double 4?", *_num(8)),
       ("What is double 6?", *_num(12)), ("What is 10 squared?", *_num(100))]
)
# (verb, past tense)
PAST_TENSES = [
    ("go", "went"), ("eat", "ate"), ("run", "ran"), ("see", "saw"), ("write", "wrote"), ("swim", "swam"),
    ("take", "took"), ("give", "gave"), ("come", "came"), ("buy", "bought"), ("think", "thought"),
    ("sing", "sang"), ("drink", "drank"), ("fly", "flew"), ("speak", "spoke"), ("sleep", "slept"),
    ("make", "made"), ("find", "found"), ("teach", "taught"), ("catch", "caught"),
]
# (country, continent)
CONTINENTS = [
    ("Egypt", "Africa"), ("Brazil", "South America"), ("France", "Europe"), ("Japan", "Asia"),
    ("Canada", "North America"), ("Kenya", "Africa"), ("India", "Asia"), ("Argentina", "South America"),
    ("Germany", "Europe"), ("Mexico", "North America"), ("Nigeria", "Africa"), ("Thailand", "Asia"),
    ("Peru", "South America"), ("Norway", "Europe"),
]
# (country, language)
LANGUAGES = [
    ("France", "French"), ("Spain", "Spanish"), ("Germany", "German"), ("Italy", "Italian"),
    ("Japan", "Japanese"), ("Russia", "Russian"), ("Portugal", "Portuguese"), ("Brazil", "Portuguese"),
    ("Greece", "Greek"), ("the Netherlands", "Dutch"), ("Sweden", "Swedish"), ("Poland", "Polish"),
    ("Mexico", "Spanish"), ("Turkey", "Turkish"),
]
# (country, currency, aliases)
CURRENCIES = [
    ("Japan", "yen", []), ("the United States", "dollar", ["dollars", "US dollar"]),
    ("the United Kingdom", "pound", ["pounds", "sterling", "pound sterling"]), ("India", "rupee", ["rupees"]),
    ("Mexico", "peso", ["pesos"]), ("Russia", "ruble", ["rouble", "rubles"]), ("Switzerland", "franc", ["francs"]),
    ("China", "yuan", ["renminbi"]), ("Germany", "euro", ["euros"]),
]


def extra_short_answers() -> list[tuple[str, str, str, list[str]]]:
    """(category, question, reference, aliases) of the items appended to the original 41."""
    out = []
    for country, capital in CAPITALS:
        if country not in _ASKED_CAPITALS:
            out.append(("capital", f"What is the capital of {country}?", capital, _CAPITAL_ALIASES.get(capital, [])))
    for word, opposite, _ in ANTONYMS:
        if word not in _ASKED_OPPOSITES:
            out.append(("opposite", f"What is the opposite of {word}?", opposite, _OPPOSITE_ALIASES.get(word, [])))
    for unit, names in (("day", DAYS), ("month", MONTHS)):
        for step, rel in ((+1, "after"), (-1, "before")):
            for i, name in enumerate(names):
                if (unit, i, step) not in _ASKED_CALENDAR:
                    out.append(("calendar", f"What {unit} comes {rel} {name}?", names[(i + step) % len(names)], []))
    for a, op, b in EXTRA_ARITHMETIC:
        out.append(("arithmetic", f"What is {a} {op} {b}?", *_num(_ARITH[op](a, b))))
    out += [("colour", q, r, al) for q, r, al in EXTRA_COLOURS]
    out += [("animal", q, r, al) for q, r, al in EXTRA_ANIMALS]
    out += [("science", q, r, al) for q, r, al in EXTRA_SCIENCE]
    out += [("unit", q, *_num(n)) for q, n in EXTRA_UNITS]
    out += [("number", q, r, al) for q, r, al in EXTRA_NUMBERS]
    out += [("grammar", f"What is the past tense of {verb}?", past, []) for verb, past in PAST_TENSES]
    out += [("geography", f"On which continent is {c}?", cont, []) for c, cont in CONTINENTS]
    out += [("language", f"What language is mainly spoken in {c}?", lang, []) for c, lang in LANGUAGES]
    out += [("currency", f"What is the currency of {c}?", cur, al) for c, cur, al in CURRENCIES]
    return out



# Items added for the evidence-based gate (issue 10), drawn with their own seed and appended
# after the original 231, which therefore stay byte-identical.
MC_EXTRA_SEED = 4321
# (question, answer, three distractors)
SCIENCE_MC = [
    ("What is the largest planet in our solar system?", "Jupiter", ("Mercury", "Mars", "Venus")),
    ("Which planet is called the red planet?", "Mars", ("Jupiter", "Neptune", "Saturn")),
    ("What gas do humans need to breathe?", "oxygen", ("helium", "neon", "argon")),
    ("What organ pumps blood through the body?", "the heart", ("the liver", "the lungs", "the stomach")),
    ("What force pulls objects toward the Earth?", "gravity", ("magnetism", "friction", "wind")),
    ("What do plants need from the Sun to grow?", "light", ("sound", "sand", "salt")),
    ("What is the hardest natural material?", "diamond", ("chalk", "wax", "clay")),
    ("What is the tallest mountain in the world?", "Mount Everest",
     ("Mont Blanc", "Mount Fuji", "Mount Kilimanjaro")),
    ("What is the largest continent?", "Asia", ("Europe", "Australia", "Antarctica")),
    ("What is the natural satellite of the Earth called?", "the Moon", ("the Sun", "Mars", "a comet")),
    ("Which animal is the fastest on land?", "the cheetah", ("the tortoise", "the cow", "the snail")),
    ("What is the largest animal on Earth?", "the blue whale", ("the mouse", "the horse", "the eagle")),
    ("What do caterpillars turn into?", "butterflies", ("spiders", "frogs", "snakes")),
    ("How many legs does an insect have?", "six", ("four", "eight", "ten")),
    ("How many sides does a hexagon have?", "six", ("five", "seven", "eight")),
    ("How many degrees are in a right angle?", "90", ("45", "180", "360")),
    ("What is H2O better known as?", "water", ("salt", "sugar", "air")),
    ("What do we call animals that eat only plants?", "herbivores", ("carnivores", "predators", "insects")),
    ("Which organ do we use to think?", "the brain", ("the heart", "the liver", "the knee")),
    ("What gives a rainbow its colors?", "sunlight", ("thunder", "wind", "moonlight")),
]
CONTINENT_NAMES = ["Africa", "Asia", "Europe", "North America", "South America", "Oceania"]


def _wrong_past(verb: str) -> list[str]:
    """Three wrong past forms of an irregular verb: regular -ed, third person, -ing."""
    stem = verb[:-1] if verb.endswith("e") else verb
    third = verb + ("es" if verb.endswith(("o", "sh", "ch")) else "s")
    return [stem + "ed", third, stem + "ing"]


def mc_extra_raw_items(rng: random.Random) -> list[tuple[str, str, str, list[str]]]:
    """(category, prompt, answer, distractors) of the items appended to the original set."""
    items = []

    def from_pool(cat, prompt, answer, pool):
        items.append((cat, prompt, answer, rng.sample(sorted(set(pool) - {answer}), 3)))

    for verb, past in PAST_TENSES:
        items.append(("grammar", f"The past tense of {verb} is", past, _wrong_past(verb)))
    for country, continent in CONTINENTS:
        from_pool("geography", _q(f"On which continent is {country}?"), continent, CONTINENT_NAMES)
    languages = [lang for _, lang in LANGUAGES]
    for country, language in LANGUAGES:
        from_pool("language", _q(f"What language is mainly spoken in {country}?"), language, languages)
    currencies = [cur for _, cur, _ in CURRENCIES]
    for country, currency, _ in CURRENCIES:
        from_pool("currency", _q(f"What is the currency of {country}?"), currency, currencies)
    amounts = sorted({n for _, n in EXTRA_UNITS})
    for question, n in EXTRA_UNITS:
        from_pool("unit", _q(question), str(n), [str(m) for m in amounts])
    for question, answer, distractors in SCIENCE_MC:
        items.append(("science", _q(question), answer, list(distractors)))
    return items


def generation_records() -> list[dict]:
    records, counts = [], Counter()
    for cat, question, reference, aliases in SHORT_ANSWERS + extra_short_answers():
        counts[cat] += 1
        rec = {"id": f"{cat}-{counts[cat]:03d}", "prompt": f"Q: {question}\nA:",
               "reference": reference}
        if aliases:
            rec["aliases"] = aliases
        records.append(rec)
    return records


# --------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------

def eval_texts(sets: dict[str, list[dict]]) -> list[str]:
    """All evaluation text a model could see, including full MC / QA strings."""
    out = []
    for rec in sets["stdlib-docs"]:
        out.append(rec["text"])
    for rec in sets["everyday-mc"]:
        out.extend(f"{rec['prompt']} {c}" for c in rec["choices"])
    for rec in sets["short-answers"]:
        out.extend(f"{rec['prompt']} {a}" for a in [rec["reference"], *rec.get("aliases", [])])
    return out


def _windows(text: str) -> set[str]:
    t = collapse_ws(text)
    return {t[i:i + WINDOW] for i in range(len(t) - WINDOW + 1)}


def _lines(text: str) -> set[str]:
    lines = (collapse_ws(line) for line in text.splitlines())
    return {line for line in lines if len(line) >= MIN_LINE_CHARS}


class EvalIndex:
    """Documents, non-trivial lines and 50-char windows of all evaluation text."""

    def __init__(self, texts: list[str]):
        self.docs = {collapse_ws(t) for t in texts}
        self.lines = set().union(*map(_lines, texts))
        self.windows = set().union(*map(_windows, texts))

    def leak(self, text: str) -> str | None:
        """Describe the first piece of ``text`` shared with evaluation, or None."""
        if collapse_ws(text) in self.docs:
            return "whole document"
        shared = _lines(text) & self.lines
        if shared:
            return f"line {sorted(shared)[0]!r}"
        shared = _windows(text) & self.windows
        if shared:
            return f"50-char substring {sorted(shared)[0]!r}"
        return None


def drop_leaking(records: list[dict], index: EvalIndex) -> tuple[list[dict], list[str]]:
    """Remove calibration records that share any text with evaluation."""
    kept, dropped = [], []
    for rec in records:
        if index.leak(rec["text"]):
            dropped.append(rec["id"])
        else:
            kept.append(rec)
    return kept, dropped


def check_no_leakage(index: EvalIndex, calibs: dict[str, list[dict]]) -> None:
    for name, records in calibs.items():
        for rec in records:
            reason = index.leak(rec["text"])
            assert reason is None, f"calibration {name}/{rec['id']} shares {reason} with eval"


def check_text_set(name: str, records: list[dict], min_chars: int) -> None:
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)), f"{name}: duplicate ids"
    texts = [r["text"] for r in records]
    assert len(texts) == len(set(texts)), f"{name}: duplicate documents"
    assert all(len(t) >= min_chars for t in texts), f"{name}: record shorter than {min_chars}"


def check_items(name: str, records: list[dict]) -> None:
    ids = [r["id"] for r in records]
    prompts = [r["prompt"] for r in records]
    assert len(ids) == len(set(ids)), f"{name}: duplicate ids"
    assert len(prompts) == len(set(prompts)), f"{name}: duplicate prompts"
    for r in records:
        assert r["prompt"] == r["prompt"].rstrip(), f"{name}/{r['id']}: prompt ends with space"
        if "choices" in r:
            ch = r["choices"]
            assert len(ch) == 4 and len(set(ch)) == 4, f"{name}/{r['id']}: need 4 distinct choices"
            assert all(c == c.strip() and c for c in ch), f"{name}/{r['id']}: padded choice"
            assert 0 <= r["answer"] < 4, f"{name}/{r['id']}: bad answer index"


# --------------------------------------------------------------------------
# Cards and README
# --------------------------------------------------------------------------

def _n_chars(records: list[dict]) -> int:
    keys = ("text", "prompt", "reference")
    return sum(len(r.get(k, "")) for r in records for k in keys) + sum(
        len(c) for r in records for c in r.get("choices", []))


def _size_line(records: list[dict]) -> str:
    """Characters count text, or prompt + choices / reference for item sets."""
    return f"{len(records)} records, {_n_chars(records):,} characters"


def card(title: str, path: Path, kind: str, source: str, licence: str,
         records: list[dict], measures: str, leakage: str, extra: str = "") -> str:
    lines = [
        f"# {title}", "",
        f"- **File:** `{path.relative_to(DATA).as_posix()}`",
        f"- **Kind:** `{kind}`",
        f"- **Source:** {source}",
        f"- **Licence:** {licence}",
        f"- **Size:** {_size_line(records)} ({path.stat().st_size:,} bytes on disk)",
        "",
    ]
    if extra:
        lines += [extra.rstrip(), ""]
    lines += ["## What it measures", "", measures, "", "## Leakage", "", leakage]
    return "\n".join(lines)


_LEAK_RULE = (f"no common document, no common line of {MIN_LINE_CHARS}+ characters and no "
              f"common {WINDOW}-character substring (all compared whitespace-collapsed). "
              "`scripts/build_data.py` asserts this on every build.")
EVAL_LEAK = "Shares no text with the calibration sets (`data/calibration/`): " + _LEAK_RULE
ITEM_LEAK = EVAL_LEAK + " Items are checked as `prompt + \" \" + answer` strings, for every choice."
CALIB_LEAK = "Shares no text with the evaluation sets (`data/eval/`): " + _LEAK_RULE
PSF_NOTE = "This is CPython documentation, distributed under the PSF License Agreement."
REGEN = "Regenerate with `python3 scripts/build_data.py` (deterministic)."


def _module_list(mods: list[str]) -> str:
    return ", ".join(f"`{m}`" for m in mods)


def _per_module(records: list[dict], mods: list[str]) -> str:
    """'Records per module: `json` 5, ...' for docstring / code sets."""
    counts = Counter()
    for rec in records:
        rid = rec["id"]
        counts[max((m for m in mods if rid == m or rid.startswith((m + ".", m + "-"))),
                   key=len)] += 1
    return "Records per module: " + ", ".join(f"`{m}` {counts[m]}" for m in mods) + "."


def _calib_leak(dropped: list[str]) -> str:
    if not dropped:
        return CALIB_LEAK
    return CALIB_LEAK + (" To guarantee it, records that would share text are dropped at build "
                         "time; this build dropped " + ", ".join(f"`{i}`" for i in dropped) + ".")


def write_cards(sets: dict[str, list[dict]], paths: dict[str, Path],
                dropped: dict[str, list[str]]) -> None:
    py = f"CPython {PY_VERSION}"
    mc = sets["everyday-mc"]
    per_cat = Counter(r["id"].rsplit("-", 1)[0] for r in mc)
    pos = Counter(r["answer"] for r in mc)
    mc_table = ["| Category | Items | Content |", "|---|---:|---|"]
    mc_table += [f"| `{c}` | {per_cat[c]} | {MC_CATEGORY_INFO[c]} |" for c in MC_CATEGORY_INFO]
    mc_table += ["", "Answer positions (index 0-3): "
                 + ", ".join(f"{i}: {pos[i]}" for i in range(4)) + "."]
    gen_cats = Counter(r["id"].rsplit("-", 1)[0] for r in sets["short-answers"])

    cards = {
        "stdlib-docs": card(
            "Stdlib docs (evaluation, perplexity)", paths["stdlib-docs"], "text",
            f"Docstrings extracted with `inspect.getdoc` from {py}: the module docstring, "
            "public functions and classes, and public methods defined on those classes, of "
            f"{_module_list(EVAL_DOC_MODULES)}. Docstrings under {MIN_DOC_CHARS} characters "
            "and duplicates are dropped; whitespace lightly normalised (trailing spaces, "
            "tabs, runs of blank lines), paragraphs kept. One record per docstring; "
            "the id is the dotted name. " + PSF_NOTE + " " + REGEN,
            STDLIB_LICENCE, sets["stdlib-docs"],
            "Token-level perplexity on technical English prose. Compare a quantized model "
            "with the unquantized one on the same file; the difference, not the absolute "
            "value, is what matters. Same style as the in-domain calibration set "
            "`stdlib-docs-calib`, but from different modules.", EVAL_LEAK,
            extra=_per_module(sets["stdlib-docs"], EVAL_DOC_MODULES)),
        "everyday-mc": card(
            "Everyday multiple choice (evaluation, accuracy)", paths["everyday-mc"],
            "multiple_choice",
            "Authored by this project in `scripts/build_data.py`. Four choices per item, "
            "distractors drawn from the same category (other capitals, other adjectives, "
            "wrong plural forms of the same noun, ...); answer positions shuffled with "
            f"`random.Random({MC_SEED})` and balanced within each category. " + REGEN,
            PROJECT_LICENCE, mc,
            "Easy common-knowledge questions, chosen so that a tiny (~135M-parameter) "
            "instruct model should score clearly above chance. Scoring is by log-likelihood "
            "of `prompt + \" \" + choice`; the harness reports both summed log-likelihood "
            "accuracy and length-normalised accuracy. Chance = 25%. With "
            f"{len(mc)} items the standard error of an accuracy near 70% is about "
            f"{100 * (0.21 / len(mc)) ** 0.5:.1f} points; compare models on the same items (paired: "
            "the gate's non-inferiority test, docs/gate-and-registry.md). The first 231 items "
            f"(seed {MC_SEED}) are the original set; the rest were appended (seed {MC_EXTRA_SEED}) "
            "so that a 1-point limit can be resolved (≥ 268 items at alpha 0.05).",
            ITEM_LEAK, extra="\n".join(mc_table)),
        "short-answers": card(
            "Short answers (evaluation, generation)", paths["short-answers"], "generation",
            "Authored by this project in `scripts/build_data.py`. Prompts in `Q: ...\\nA:` "
            "form; `reference` is the expected short answer, `aliases` (a list of strings) lists "
            "other accepted answers. Written by hand for this project, no hub or external "
            "data set. " + REGEN,
            PROJECT_LICENCE, sets["short-answers"],
            "Greedy decoding of a few tokens, scored by exact match and case-insensitive "
            "\"contains\" match against the reference and aliases. Items per category: "
            + ", ".join(f"{c} {n}" for c, n in gen_cats.items()) + ". The first 41 items are the "
            "original set; the rest were appended for the gate's paired non-inferiority test, "
            "which needs a few hundred items to resolve a 5-point limit at the discordance "
            "quantization causes (docs/gate-and-registry.md). Questions are written for a "
            "~135M-parameter instruct model to answer sometimes, not always: capitals, "
            "opposites, calendar, arithmetic, colours, animals, simple science, units, number "
            "words, past tenses, continents, languages and currencies, many derived from the "
            "tables that also build `everyday-mc` (so the two sets share facts, not text).",
            ITEM_LEAK.replace("every choice", "the reference and every alias")),
        "stdlib-docs-calib": card(
            "Stdlib docs (calibration, in-domain)", paths["stdlib-docs-calib"], "text",
            f"Docstrings extracted with `inspect.getdoc` from {py}, exactly as for the "
            "`stdlib-docs` evaluation set but from a disjoint list of modules: "
            f"{_module_list(CALIB_DOC_MODULES)}. " + PSF_NOTE + " " + REGEN,
            STDLIB_LICENCE, sets["stdlib-docs-calib"],
            "Calibration text for GPTQ / AWQ that matches the style of the perplexity "
            "evaluation set (in-domain) without sharing any of its text.",
            _calib_leak(dropped["stdlib-docs-calib"]),
            extra=_per_module(sets["stdlib-docs-calib"], CALIB_DOC_MODULES)),
        "python-code-calib": card(
            "Python source code (calibration, off-domain)", paths["python-code-calib"], "text",
            f"Source files of {py} stdlib modules {_module_list(CODE_MODULES)} (found with "
            f"`inspect.getsourcefile`), split on line boundaries into chunks of at most "
            f"~{CODE_CHUNK_CHARS} characters; comments and docstrings kept, chunks under "
            f"{MIN_CODE_CHUNK_CHARS} characters dropped. None of these modules is used by "
            "another set. This is CPython source code, distributed under the PSF License "
            "Agreement. " + REGEN,
            STDLIB_LICENCE, sets["python-code-calib"],
            "Deliberately off-domain calibration text: lets you measure how much the choice "
            "of calibration data matters compared with the in-domain set.",
            _calib_leak(dropped["python-code-calib"]),
            extra=_per_module(sets["python-code-calib"], CODE_MODULES)),
        "numbers-calib": card(
            "Synthetic numeric tables (calibration, extremely off-domain)",
            paths["numbers-calib"], "text",
            f"Generated by `scripts/build_data.py` with `random.Random({NUMBERS_SEED})`: "
            "CSV-like tables of random integers, decimals, percentages and hex strings. "
            + REGEN,
            PROJECT_LICENCE, sets["numbers-calib"],
            "A pathological calibration set for the debugging notebook: activations seen "
            "during calibration look nothing like natural text, so calibration-based methods "
            "should degrade visibly.",
            _calib_leak(dropped["numbers-calib"])),
    }
    for name, text in cards.items():
        write_text(paths[name].with_suffix(".md"), text)


SET_INFO = {  # name -> (directory, kind, purpose)
    "stdlib-docs": (EVAL_DIR, "text", "perplexity on stdlib docstrings"),
    "everyday-mc": (EVAL_DIR, "multiple_choice", "common-knowledge accuracy (log-likelihood)"),
    "short-answers": (EVAL_DIR, "generation", "greedy short-answer exact / contains match"),
    "stdlib-docs-calib": (CALIB_DIR, "text", "in-domain GPTQ/AWQ calibration"),
    "python-code-calib": (CALIB_DIR, "text", "off-domain calibration (Python source)"),
    "numbers-calib": (CALIB_DIR, "text", "extremely off-domain calibration (random numbers)"),
}

README_FORMATS = """\
## Formats

All files are JSONL: one JSON object per line, UTF-8. The kind of a file is
inferred from the keys of its records:

| Keys | Kind | Used for |
|---|---|---|
| `text` | `text` | token-level perplexity; calibration |
| `prompt` + `choices` + `answer` | `multiple_choice` | log-likelihood accuracy |
| `prompt` + `reference` | `generation` | greedy decoding, exact / contains match |

```json
{examples}
```

- `multiple_choice`: the harness scores the log-likelihood of `prompt + " " + choice`,
  so choices have no leading space and prompts do not end with a space. `answer` is the
  index of the correct choice. Both summed and length-normalised accuracy are reported.
- `generation`: `aliases` is optional (other accepted answers); matching is
  case-insensitive.
- `id` is a unique identifier for the record (useful in per-item reports).

## Bring your own data

Any file in one of these formats can be passed wherever a bundled set is accepted;
calibration takes a `text` file. Keep calibration and evaluation text disjoint
(see the leakage checks in `scripts/build_data.py`).

## Rebuilding

`python3 scripts/build_data.py` regenerates every file here (deterministically, with
CPython 3.11; stdlib-derived text depends on the exact Python version). Each data file
has a card with the same basename and a `.md` suffix.
"""


def write_readme(sets: dict[str, list[dict]], paths: dict[str, Path]) -> None:
    rows = ["| Set | File | Kind | Records | Purpose |", "|---|---|---|---:|---|"]
    for name, (_, kind, purpose) in SET_INFO.items():
        rel = paths[name].relative_to(DATA).as_posix()
        card_rel = paths[name].with_suffix(".md").relative_to(DATA).as_posix()
        rows.append(f"| [{name}]({card_rel}) | `{rel}` | `{kind}` "
                    f"| {len(sets[name])} | {purpose} |")
    doc = sets["stdlib-docs"][0]
    examples = [
        {"id": doc["id"], "text": doc["text"][:60].rstrip() + " ..."},
        sets["everyday-mc"][0],
        next(r for r in sets["short-answers"] if "aliases" in r),
    ]
    formats = README_FORMATS.replace(
        "{examples}", "\n".join(json.dumps(e, ensure_ascii=False) for e in examples))
    text = "\n".join([
        "# Bundled data sets", "",
        "Small evaluation and calibration sets shipped with the kit, built by "
        f"`scripts/build_data.py` (this build: CPython {PY_VERSION}). Evaluation sets live in "
        "`eval/`, calibration sets in `calibration/`. Stdlib-derived sets are under the "
        "PSF License Agreement; authored sets are MIT (this project).", "",
        *rows, "", formats,
    ])
    write_text(DATA / "README.md", text)


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def main() -> None:
    assert sys.version_info[:2] == (3, 11), "build with CPython 3.11 for reproducible stdlib text"
    all_mods = EVAL_DOC_MODULES + CALIB_DOC_MODULES + CODE_MODULES
    assert len(all_mods) == len(set(all_mods)), "module lists must be disjoint"

    sets = {
        "stdlib-docs": docstring_records(EVAL_DOC_MODULES),
        "everyday-mc": mc_records(),
        "short-answers": generation_records(),
        "stdlib-docs-calib": docstring_records(CALIB_DOC_MODULES),
        "python-code-calib": code_records(CODE_MODULES),
        "numbers-calib": numbers_records(),
    }

    for name in ("stdlib-docs", "stdlib-docs-calib"):
        check_text_set(name, sets[name], MIN_DOC_CHARS)
    check_text_set("python-code-calib", sets["python-code-calib"], MIN_CODE_CHUNK_CHARS)
    check_text_set("numbers-calib", sets["numbers-calib"], 1)
    check_items("everyday-mc", sets["everyday-mc"])
    check_items("short-answers", sets["short-answers"])
    assert len(sets["everyday-mc"]) >= 300 and len(sets["short-answers"]) >= 300  # see the gate (issue 10)
    index = EvalIndex(eval_texts(sets))
    dropped = {}
    for name in CALIB_SETS:
        before = len(sets[name])
        sets[name], dropped[name] = drop_leaking(sets[name], index)
        assert len(dropped[name]) <= 0.05 * before, f"{name}: too much overlap with eval"
    check_no_leakage(index, {name: sets[name] for name in CALIB_SETS})
    assert len(sets["stdlib-docs-calib"]) >= 200 and _n_chars(sets["stdlib-docs-calib"]) >= 150_000
    assert len(sets["python-code-calib"]) >= 200

    paths = {name: d / f"{name}.jsonl" for name, (d, _, _) in SET_INFO.items()}
    for name, path in paths.items():
        write_jsonl(path, sets[name])
    write_cards(sets, paths, dropped)
    write_readme(sets, paths)
    for name, path in paths.items():
        print(f"{path.relative_to(ROOT)}: {_size_line(sets[name])}, {path.stat().st_size:,} bytes")
    for name, ids in dropped.items():
        if ids:
            print(f"dropped from {name} (shared text with eval): {', '.join(ids)}")


if __name__ == "__main__":
    main()
