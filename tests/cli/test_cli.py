#!/usr/bin/python3
"""End-to-end tests of the `auditlog` command (suite `cli`).

Each test runs the real binary in its own temporary directory and checks
what an outsider can check: exit codes, messages, and the integrity claims
recomputed by tests/cli/alogref.py (an independent RFC 9162 / C2SP
reference). Vectors that keep the reference honest come from
$ALOG_VECTORS (rfc6962.json, signed-note.json).

Environment: ALOG_BIN (the binary; default build/tools/auditlog),
ALOG_VECTORS (default: tests/vectors beside this file).
The last line printed is "N passed, N failed"; the exit status is 1 when
anything failed.
"""
import fcntl
import hashlib
import json
import os
import re
import resource
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import shlex
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, HERE)
import runner  # noqa: E402
sys.path.insert(0, HERE)
import alogref as ref  # noqa: E402

BIN = os.environ.get("ALOG_BIN") or os.path.join(HERE, "..", "..", "build",
                                                 "tools", "auditlog")
# ALOG_BIN_WRAP: a command to run the binary under, e.g. valgrind.
WRAP = shlex.split(os.environ.get("ALOG_BIN_WRAP", ""))
VECTORS = os.environ.get("ALOG_VECTORS") or os.path.join(HERE, "..", "vectors")

EXIT_OK, EXIT_VERIFY, EXIT_USAGE, EXIT_OPER, EXIT_PARTIAL = 0, 1, 2, 3, 4
COMMANDS = ["init", "ingest", "info", "checkpoint", "export", "get", "prove",
            "verify", "demo"]
RECORD_KEYS = ["index", "received", "id", "provenance", "event"]

# Segment and block framing (store/segment.h, store/block.h, SPEC.md).
SEG_HEADER_LEN = 32
BLOCK_HEADER = struct.Struct(">4sIQIIIqI")  # 40 bytes


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli, reflected 0x82F63B78), table driven."""
    table = crc32c.table
    if table is None:
        table = []
        for i in range(256):
            c = i
            for _ in range(8):
                c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
            table.append(c)
        crc32c.table = table
    c = 0xFFFFFFFF
    for b in data:
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


crc32c.table = None


def parse_blocks(seg: bytes):
    """[(offset, first_index, n_records, comp_len)] of a segment file."""
    if seg[:8] != b"ALOGSEG1":
        raise AssertionError("segment magic")
    out, off = [], SEG_HEADER_LEN
    while off < len(seg):
        magic, flags, first, n, raw, comp, _recv, crc = \
            BLOCK_HEADER.unpack_from(seg, off)
        if magic != b"ALB1" or flags != 0:
            raise AssertionError("bad block header at %d" % off)
        frame = seg[off + 40:off + 40 + comp]
        if len(frame) != comp:
            raise AssertionError("torn block at %d" % off)
        if crc32c(seg[off:off + 36] + frame) != crc:
            raise AssertionError("block crc at %d" % off)
        out.append((off, first, n, comp, raw))
        off += 40 + comp
    return out


def parse_segment_header(seg: bytes):
    """(segment id, first_index) after checking magic, version, flags, CRC."""
    if len(seg) < SEG_HEADER_LEN or seg[:8] != b"ALOGSEG1":
        raise AssertionError("segment magic")
    version, seg_id, first, flags, crc = struct.unpack_from(">IIQII", seg, 8)
    if version != 1 or flags != 0 or crc32c(seg[:28]) != crc:
        raise AssertionError("bad segment header")
    return seg_id, first


def segment_header(seg_id, first_index):
    h = b"ALOGSEG1" + struct.pack(">IIQI", 1, seg_id, first_index, 0)
    return h + struct.pack(">I", crc32c(h))


def zstd_frame_of_size(payload: bytes, size: int):
    """A zstd frame (made by the zstd command) of exactly `size` bytes that
    decompresses to payload: the frame is padded with empty raw blocks
    (3-byte block headers, RFC 8878 3.1.1.2) right after its header."""
    for level in range(19, 0, -1):
        for check in ("--no-check", "--check"):
            f = subprocess.run(["zstd", "-q", "-c", "-%d" % level, check],
                               input=payload, stdout=subprocess.PIPE,
                               check=True).stdout
            if len(f) > size or (size - len(f)) % 3:
                continue
            if f[:4] != b"\x28\xb5\x2f\xfd":
                raise AssertionError("not a zstd frame")
            fhd = f[4]
            single = (fhd >> 5) & 1
            pos = 5 + (0 if single else 1) + [0, 1, 2, 4][fhd & 3]
            pos += [1 if single else 0, 2, 4, 8][fhd >> 6]
            return f[:pos] + b"\x00\x00\x00" * ((size - len(f)) // 3) + f[pos:]
    return None


def zstd_decompress(frame: bytes) -> bytes:
    return subprocess.run(["zstd", "-q", "-d", "-c"], input=frame,
                          stdout=subprocess.PIPE, check=True).stdout


def strict_object(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key")
    return dict(pairs)


def strip_ws(line: bytes) -> bytes:
    """Independent canonical form: JSON text minus whitespace outside
    strings (RFC 8259 insignificant whitespace: space, tab, LF, CR)."""
    out, in_str, esc = bytearray(), False, False
    for b in line:
        if in_str:
            out.append(b)
            if esc:
                esc = False
            elif b == 0x5C:
                esc = True
            elif b == 0x22:
                in_str = False
        elif b in b" \t\r\n":
            continue
        else:
            out.append(b)
            if b == 0x22:
                in_str = True
    return bytes(out)


def clean_env():
    env = dict(os.environ)
    env.pop("AUDITLOG_STORE", None)
    return env


class CliTest(unittest.TestCase):
    """Temp dir per test plus helpers that run the binary."""

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="alog-cli-")
        self.addCleanup(self._tmp.cleanup)
        self.dir = self._tmp.name

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def run_cmd(self, *args, input=None, expect=None):
        p = subprocess.run(WRAP + [BIN] + [str(a) for a in args], input=input,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           cwd=self.dir, env=clean_env(), timeout=120)
        if expect is not None and p.returncode != expect:
            self.fail("auditlog %s: exit %d, wanted %d\nstderr: %s" % (
                " ".join(map(str, args)), p.returncode, expect,
                p.stderr.decode("utf-8", "replace")[-2000:]))
        return p

    def init(self, name="store", origin="test.example/auditlog", key=None):
        args = ["init", "--store", self.path(name), "--origin", origin]
        if key:
            args += ["--key", key]
        p = self.run_cmd(*args, expect=EXIT_OK)
        return p.stdout.decode().strip()

    def demo(self, count, seed=1):
        return self.run_cmd("demo", "events", "--count", count, "--seed",
                            seed, expect=EXIT_OK).stdout

    def extra(self, count, tag):
        """Events with ids of their own (demo ids repeat across seeds)."""
        return b"".join(
            b'{"type":"test.extra","id":"%s-%d","source":"tests","n":%d}\n'
            % (tag.encode(), i, i) for i in range(count))

    def write(self, name, data: bytes):
        with open(self.path(name), "wb") as f:
            f.write(data)
        return self.path(name)

    def ingest(self, store, data: bytes, expect=EXIT_OK):
        return self.run_cmd("ingest", "--store", self.path(store),
                            input=data, expect=expect)

    def export(self, store, *extra, expect=EXIT_OK):
        out = self.run_cmd("export", "--store", self.path(store), *extra,
                           expect=expect).stdout
        self.assertTrue(out == b"" or out.endswith(b"\n"))
        return out.split(b"\n")[:-1]

    def info(self, store):
        return json.loads(self.run_cmd("info", "--store", self.path(store),
                                       expect=EXIT_OK).stdout)

    def checkpoint(self, store, key=None):
        args = ["checkpoint", "--store", self.path(store)]
        if key:
            args += ["--key", key]
        return self.run_cmd(*args, expect=EXIT_OK).stdout

    def records(self, lines):
        return [json.loads(x, object_pairs_hook=strict_object) for x in lines]

    def event_bytes(self, rec_line: bytes, expected: bytes):
        """The record wraps exactly `expected` as its last member."""
        self.assertTrue(rec_line.endswith(b',"event":' + expected + b'}'),
                        "record %r does not wrap %r" % (rec_line[:300],
                                                         expected[:200]))


class ReferenceTest(unittest.TestCase):
    """The independent side must itself agree with published vectors."""

    def test_reference_reproduces_rfc6962_roots_and_verifies_every_published_proof(self):
        with open(os.path.join(VECTORS, "rfc6962.json")) as f:
            v = json.load(f)
        tree = ref.Tree(bytes.fromhex(x) for x in v["leaf_inputs_hex"])
        self.assertEqual([h.hex() for h in tree.hashes], v["leaf_hashes"])
        for size, root in v["roots"].items():
            self.assertEqual(tree.root(int(size)).hex(), root)
        for p in v["inclusion"]:
            proof = [bytes.fromhex(h) for h in p["proof"]]
            ref.verify_inclusion(p["index"], p["size"], tree.hashes[p["index"]],
                                 proof, tree.root(p["size"]))
            if proof:
                bad = list(proof)
                bad[-1] = bytes([bad[-1][0] ^ 1]) + bad[-1][1:]
                with self.assertRaises(ref.RefError):
                    ref.verify_inclusion(p["index"], p["size"],
                                         tree.hashes[p["index"]], bad,
                                         tree.root(p["size"]))
        for p in v["consistency"]:
            proof = [bytes.fromhex(h) for h in p["proof"]]
            ref.verify_consistency(p["old"], p["new"], tree.root(p["old"]),
                                   tree.root(p["new"]), proof)
            if proof:
                with self.assertRaises(ref.RefError):
                    ref.verify_consistency(p["old"], p["new"],
                                           tree.root(p["old"]),
                                           tree.root(p["new"]), proof[:-1])

    def test_reference_verifies_published_signed_notes_and_rejects_bad_vkeys(self):
        with open(os.path.join(VECTORS, "signed-note.json")) as f:
            v = json.load(f)
        for case in v["valid"]:
            key = ref.parse_vkey(case["vkey"])
            note = case["note"].encode()
            text = ref.verify_note(note, key)
            self.assertTrue(note.startswith(text))
            with self.assertRaises(ref.RefError):
                ref.verify_note(note.replace(b"\n\n", b" \n\n", 1), key)
        for case in v["invalid_vkeys"]:
            with self.assertRaises(ref.RefError):
                ref.parse_vkey(case["vkey"])


class InitTest(CliTest):
    def test_init_creates_store_and_private_key_outside_it_and_prints_a_valid_vkey(self):
        vkey = self.init("store", origin="init.example/log")
        store, key = self.path("store"), self.path("store.key")
        self.assertTrue(os.path.isdir(store))
        self.assertTrue(os.path.isfile(key))
        self.assertEqual(os.stat(key).st_mode & 0o777, 0o600)
        parsed = ref.parse_vkey(vkey)
        self.assertEqual(parsed.name, "init.example/log")
        info = self.info("store")
        self.assertEqual(info["vkey"], vkey)
        self.assertEqual(info["origin"], "init.example/log")
        self.assertEqual(info["tree_size"], 0)
        self.assertEqual(info["root_hash"], ref.Tree().root().hex())
        # No file inside the store carries the key file's bytes.
        with open(key, "rb") as f:
            secret = f.read()
        self.assertTrue(secret)
        for root, _dirs, files in os.walk(store):
            for name in files:
                with open(os.path.join(root, name), "rb") as f:
                    self.assertNotIn(secret, f.read(), name)

    def test_init_on_an_existing_store_fails_with_exit_3_and_keeps_the_key(self):
        self.init("store")
        self.ingest("store", b'{"type":"a.b"}\n')
        key = self.path("store.key")
        with open(key, "rb") as f:
            before = f.read()
        st = os.stat(key)
        self.run_cmd("init", "--store", self.path("store"), expect=EXIT_OPER)
        with open(key, "rb") as f:
            self.assertEqual(f.read(), before)
        self.assertEqual(os.stat(key).st_mtime_ns, st.st_mtime_ns)
        # With a fresh key path the store itself refuses, and no new key
        # file is left behind.
        other = self.path("other.key")
        self.run_cmd("init", "--store", self.path("store"), "--key", other,
                     expect=EXIT_OPER)
        self.assertFalse(os.path.exists(other))
        self.assertEqual(self.info("store")["tree_size"], 1)


class IngestTest(CliTest):
    def test_ingest_of_3000_demo_events_exports_records_whose_tree_is_the_info_root(self):
        self.init()
        events = self.demo(3000).split(b"\n")[:-1]
        self.assertEqual(len(events), 3000)
        self.ingest("store", b"\n".join(events) + b"\n")
        lines = self.export("store")
        self.assertEqual(len(lines), 3000)
        info = self.info("store")
        self.assertEqual(info["tree_size"], 3000)
        self.assertEqual(ref.Tree(lines).root().hex(), info["root_hash"])
        recs = self.records(lines)
        last_received = ""
        for i, (line, rec, ev) in enumerate(zip(lines, recs, events)):
            self.assertEqual(list(rec), RECORD_KEYS)
            self.assertEqual(rec["index"], i)
            self.assertNotIn(b"\n", line)
            # Demo events have no insignificant whitespace: kept verbatim.
            self.event_bytes(line, ev)
            self.assertEqual(rec["id"], json.loads(ev)["id"])
            self.assertGreaterEqual(rec["received"], last_received)
            last_received = rec["received"]

    def test_canonical_event_is_the_input_without_insignificant_whitespace(self):
        self.init()
        inputs = [
            b'{ "type" : "app.spaced" , "n" : [ 1 , 2 , { "k" : null } ] }',
            b'   {"type":"app.lead","s":"keep  these { } , : spaces"}   ',
            b'{"type":\t"app.tab",\r"esc":"q\\" \\\\ ","u":"\\u00e9 \xc3\xa9"}',
            b'{"z":1, "type":"app.order", "a":2.50, "e":1E+2, "t":true}',
        ]
        self.ingest("store", b"\n".join(inputs) + b"\n")
        lines = self.export("store")
        self.assertEqual(len(lines), len(inputs))
        for line, inp in zip(lines, inputs):
            canon = strip_ws(inp)
            self.assertNotEqual(canon, inp)
            self.event_bytes(line, canon)
        self.assertEqual(ref.Tree(lines).root().hex(),
                         self.info("store")["root_hash"])


class CheckpointTest(CliTest):
    def test_checkpoint_note_verifies_with_the_vkey_and_commits_to_the_exported_tree(self):
        vkey = ref.parse_vkey(self.init(origin="ck.example/log"))
        self.ingest("store", self.demo(100))
        before = self.info("store")
        self.assertEqual(before["tree_size"], 100)
        note1 = self.checkpoint("store")
        ck1 = ref.verify_checkpoint(note1, vkey)
        self.assertEqual(ck1.origin, "ck.example/log")
        self.assertEqual(ck1.size, 100)
        self.assertEqual(ck1.root.hex(), before["root_hash"])
        lines = self.export("store")
        self.assertEqual(ck1.root, ref.Tree(lines[:100]).root())
        # The signing is logged right after the tree it covers.
        self.assertEqual(len(lines), 101)
        ev = self.records(lines)[100]["event"]
        self.assertEqual(ev["type"], "checkpoint.signed")
        self.assertEqual(ev["size"], 100)
        self.assertEqual(ev["root"], ck1.root.hex())
        info = self.info("store")
        self.assertEqual(info["checkpoints"], 1)
        self.assertEqual(info["latest_checkpoint"]["size"], 100)

        # Nothing new: the same note again, and no new event.
        self.assertEqual(self.checkpoint("store"), note1)
        self.assertEqual(self.info("store")["tree_size"], 101)

        # New events: a new checkpoint covering them and the first one's
        # checkpoint.signed event.
        self.ingest("store", self.extra(10, "more"))
        size2 = self.info("store")["tree_size"]
        self.assertEqual(size2, 111)
        note2 = self.checkpoint("store")
        self.assertNotEqual(note2, note1)
        ck2 = ref.verify_checkpoint(note2, vkey)
        lines = self.export("store")
        self.assertEqual(ck2.size, 111)
        self.assertEqual(ck2.root, ref.Tree(lines[:111]).root())
        recs = self.records(lines)
        signed = [r["event"] for r in recs
                  if r["event"]["type"] == "checkpoint.signed"]
        self.assertEqual([(e["size"], e["root"]) for e in signed],
                         [(100, ck1.root.hex()), (111, ck2.root.hex())])
        self.assertEqual(self.info("store")["checkpoints"], 2)

        # Sanity of the check itself: an edited note or another key fails.
        forged = note2.replace(b"\n111\n", b"\n112\n", 1)
        self.assertNotEqual(forged, note2)
        with self.assertRaises(ref.RefError):
            ref.verify_checkpoint(forged, vkey)
        other = ref.parse_vkey(self.init("other", origin="ck.example/log"))
        with self.assertRaises(ref.RefError):
            ref.verify_checkpoint(note2, other)


class ProveTest(CliTest):
    def build(self):
        self.init()
        self.ingest("store", self.demo(300))
        ck = ref.parse_checkpoint(ref.split_note(self.checkpoint("store"))[0])
        self.assertEqual(ck.size, 300)
        self.ingest("store", self.extra(200, "more"))
        lines = self.export("store")
        self.assertEqual(len(lines), 501)
        return ref.Tree(lines), ck

    def prove(self, *args, expect=EXIT_OK):
        p = self.run_cmd("prove", *args, "--store", self.path("store"),
                         expect=expect)
        return json.loads(p.stdout) if expect == EXIT_OK else p

    def test_inclusion_proofs_verify_against_independently_computed_roots(self):
        tree, ck = self.build()
        n = len(tree.hashes)
        cases = [(i, None) for i in (0, 1, 255, 256, 250, 299, 300, n - 1)]
        cases += [(i, ck.size) for i in (0, 150, 255, 256, ck.size - 1)]
        cases += [(0, 1), (5, 6), (256, 257)]
        for index, size in cases:
            args = ["inclusion", index] + (["--size", size] if size else [])
            p = self.prove(*args)
            size = size or n
            root = tree.root(size)
            if size == ck.size:
                self.assertEqual(root, ck.root)
            self.assertEqual((p["index"], p["tree_size"]), (index, size))
            self.assertEqual(p["leaf_hash"], tree.hashes[index].hex())
            self.assertEqual(p["root_hash"], root.hex())
            proof = [bytes.fromhex(h) for h in p["proof"]]
            ref.verify_inclusion(index, size, tree.hashes[index], proof, root)
            if proof:
                bad = list(proof)
                bad[len(bad) // 2] = bytes(32)
                with self.assertRaises(ref.RefError):
                    ref.verify_inclusion(index, size, tree.hashes[index], bad,
                                         root)
            other = tree.hashes[(index + 1) % n]
            if other != tree.hashes[index]:
                with self.assertRaises(ref.RefError):
                    ref.verify_inclusion(index, size, other, proof, root)

    def test_consistency_proofs_verify_against_independently_computed_roots(self):
        tree, ck = self.build()
        n = len(tree.hashes)
        cases = [(0, n), (n, n), (1, n), (ck.size, n), (ck.size, ck.size),
                 (7, ck.size), (255, 256), (256, n), (128, 300), (3, 4),
                 (1, 2), (299, 301), (n - 1, n)]
        for old, new in cases:
            p = self.prove("consistency", old, new)
            self.assertEqual((p["old_size"], p["new_size"]), (old, new))
            self.assertEqual(p["old_root"], tree.root(old).hex())
            self.assertEqual(p["new_root"], tree.root(new).hex())
            proof = [bytes.fromhex(h) for h in p["proof"]]
            if old in (0, new):
                self.assertEqual(proof, [])
            ref.verify_consistency(old, new, tree.root(old), tree.root(new),
                                   proof)
            if proof:
                bad = list(proof)
                bad[0] = bytes([bad[0][0] ^ 0x80]) + bad[0][1:]
                with self.assertRaises(ref.RefError):
                    ref.verify_consistency(old, new, tree.root(old),
                                           tree.root(new), bad)
        # NEW defaults to the whole log.
        p = self.prove("consistency", ck.size)
        self.assertEqual(p["new_size"], n)
        self.assertEqual(p["old_root"], ck.root.hex())
        ref.verify_consistency(ck.size, n, ck.root, tree.root(),
                               [bytes.fromhex(h) for h in p["proof"]])

    def test_proofs_at_power_of_two_boundaries_of_a_3000_record_log_verify(self):
        self.init()
        self.ingest("store", self.demo(3000))
        tree = ref.Tree(self.export("store"))
        n = len(tree.hashes)
        self.assertEqual(n, 3000)
        sizes = sorted({1, 2, 255, 256, 257, 511, 512, 1023, 1024, 1025,
                        2047, 2048, 2049, 2999, 3000})
        for size in sizes:
            root = tree.root(size)
            for index in sorted({0, size // 2, size - 1}):
                p = self.prove("inclusion", index, "--size", size)
                self.assertEqual(p["root_hash"], root.hex())
                ref.verify_inclusion(index, size, tree.hashes[index],
                                     [bytes.fromhex(h) for h in p["proof"]],
                                     root)
            for old in sorted({size // 3, size - 1}):
                if old == 0:
                    continue
                p = self.prove("consistency", old, size)
                ref.verify_consistency(old, size, tree.root(old), root,
                                       [bytes.fromhex(h) for h in p["proof"]])

    def test_proofs_outside_the_tree_are_usage_errors(self):
        tree, ck = self.build()
        n = len(tree.hashes)
        self.prove("inclusion", n, expect=EXIT_USAGE)
        self.prove("inclusion", 10, "--size", 10, expect=EXIT_USAGE)
        self.prove("inclusion", 0, "--size", n + 1, expect=EXIT_USAGE)
        self.prove("consistency", 10, 5, expect=EXIT_USAGE)
        self.prove("consistency", 1, n + 1, expect=EXIT_USAGE)
        self.prove("consistency", n + 1, expect=EXIT_USAGE)
        self.prove("inclusion", "x", expect=EXIT_USAGE)
        self.run_cmd("prove", "membership", "1", "--store", self.path("store"),
                     expect=EXIT_USAGE)


# Each bad kind of the SPEC bad-input table: (line bytes, reject code).
BAD_LINES = [
    (b'{"type":', "not_json"),
    (b'[{"type":"x.y"}]', "not_object"),
    (b'{"type":"x.y","v":"\xff\xfe"}', "bad_utf8"),
    (b'{"type":"x.y","v":"a\x00b"}', "nul"),
    (b'{"type":"x.y","v":"a\\u0000b"}', "nul"),
    (b'{"type":"x.y","v":1,"v":2}', "duplicate_key"),
    (b'{"type":"x.y","v":9007199254740992}', "number_range"),
    (b'{"type":"x.y","v":-9007199254740992}', "number_range"),
    (b'{"type":"x.y","v":"' + b"a" * (65537 - 21) + b'"}', "too_long"),
    (b'{"type":"x.y","v":"' + b"a" * 300000 + b'"}', "too_long"),
    (b'{"type":"x.y","v":' + b"[" * 32 + b"]" * 32 + b"}", "too_deep"),
    (b"", "empty"),
    (b"   ", "empty"),
    (b'{"type":"checkpoint.signed","size":1}', "reserved_type"),
    (b'{"type":"admin.reset"}', "reserved_type"),
]
# Valid lines, some right at a limit.
GOOD_LINES = [
    b'{"type":"ok.first","id":"g1"}',
    b'{"type":"ok.depth","v":' + b"[" * 31 + b"]" * 31 + b"}",
    b'{"type":"ok.int","v":9007199254740991,"w":-9007199254740991}',
    b'{"type":"ok.long","v":"' + b"a" * (65536 - 25) + b'"}',
    b'{"type":"ok.last","id":"g2"}',
]


class BadInputTest(CliTest):
    def test_every_bad_line_is_reported_with_its_line_number_and_valid_lines_are_stored(self):
        self.assertEqual(len(BAD_LINES[8][0]), 65537)
        self.assertEqual(len(GOOD_LINES[3]), 65536)
        self.init()
        lines, expected = [], {}
        good = list(GOOD_LINES)
        for i, (bad, code) in enumerate(BAD_LINES):
            if i % 4 == 0 and len(good) > 1:
                lines.append(good.pop(0))
            lines.append(bad)
            expected[len(lines)] = code
        self.assertEqual(len(good), 1)
        lines += good
        # The last line (a good one) has no newline: it still counts.
        path = self.write("bad.ndjson", b"\n".join(lines))
        p = self.run_cmd("ingest", "--store", self.path("store"), path,
                         expect=EXIT_PARTIAL)
        err = p.stderr.decode("utf-8", "replace")
        got = {int(m.group(1)): m.group(2) for m in re.finditer(
            re.escape(path) + r":(\d+): ([a-z0-9_]+):", err)}
        self.assertEqual(got, expected, err)
        stored = self.export("store")
        self.assertEqual(len(stored), len(GOOD_LINES))
        for rec, ev in zip(stored, GOOD_LINES):
            self.event_bytes(rec, ev)
        self.assertEqual(self.info("store")["tree_size"], len(GOOD_LINES))

    def test_rejected_lines_from_stdin_are_named_stdin(self):
        self.init()
        p = self.ingest("store", b'{"type":"a.b"}\nnope\n{"type":"a.c"}\n',
                        expect=EXIT_PARTIAL)
        self.assertIn("stdin:2: not_json", p.stderr.decode())
        self.assertEqual(len(self.export("store")), 2)


class DedupeTest(CliTest):
    def test_resent_events_are_duplicates_and_a_changed_body_is_a_conflict(self):
        self.init()
        data = (b'{"type":"a.b","id":"x1","source":"s"}\n'
                b'{"type":"a.b","id":"x1","source":"s"}\n'
                b'{ "type" : "a.b", "id":"x1","source":"s" }\n'
                b'{"type":"a.c","id":"x1","source":"s"}\n'
                b'{"type":"a.b","id":"x1","source":"t"}\n'
                b'{"type":"a.b","id":"x1"}\n')
        path = self.write("d.ndjson", data)
        p = self.run_cmd("ingest", "--store", self.path("store"), path,
                         expect=EXIT_PARTIAL)
        err = p.stderr.decode()
        self.assertRegex(err, re.escape(path) + r":4: conflict:")
        self.assertEqual(len(re.findall(r":\d+: [a-z0-9_]+:", err)), 1, err)
        self.assertIn("2 duplicates", err)
        recs = self.records(self.export("store"))
        self.assertEqual([(r["event"].get("source"), r["event"]["type"])
                          for r in recs],
                         [("s", "a.b"), ("t", "a.b"), (None, "a.b")])
        # Again: nothing new, the conflict is found against the store.
        p = self.run_cmd("ingest", "--store", self.path("store"), path,
                         expect=EXIT_PARTIAL)
        self.assertRegex(p.stderr.decode(), re.escape(path) + r":4: conflict:")
        self.assertEqual(len(self.export("store")), 3)

    def test_reingesting_a_whole_file_stores_nothing_new(self):
        self.init()
        path = self.write("ev.ndjson", self.demo(500))
        self.run_cmd("ingest", "--store", self.path("store"), path,
                     expect=EXIT_OK)
        before = self.info("store")
        lines = self.export("store")
        p = self.run_cmd("ingest", "--store", self.path("store"), path,
                         expect=EXIT_OK)
        self.assertIn("500 duplicates", p.stderr.decode())
        self.assertEqual(self.info("store"), before)
        self.assertEqual(self.export("store"), lines)


class TamperTest(CliTest):
    def test_a_flipped_byte_in_a_middle_block_fails_verify_naming_an_index_in_it(self):
        self.init()
        self.ingest("store", self.demo(3000))
        self.run_cmd("verify", "--store", self.path("store"), expect=EXIT_OK)
        segs = sorted(os.listdir(self.path("store", "segments")))
        self.assertEqual(segs[0], "00000001.seg")
        seg_path = self.path("store", "segments", segs[0])
        with open(seg_path, "rb") as f:
            seg = bytearray(f.read())
        blocks = parse_blocks(bytes(seg))
        self.assertGreaterEqual(len(blocks), 3)
        self.assertEqual(blocks[0][1], 0)
        for a, b in zip(blocks, blocks[1:]):
            self.assertEqual(a[1] + a[2], b[1])
        self.assertEqual(blocks[-1][1] + blocks[-1][2], 3000)
        off, first, n, comp, _raw = blocks[len(blocks) // 2]
        seg[off + 40 + comp // 2] ^= 0x01
        with open(seg_path, "r+b") as f:
            f.write(seg)
        p = self.run_cmd("verify", "--store", self.path("store"),
                         expect=EXIT_VERIFY)
        err = p.stderr.decode()
        named = [int(x) for x in re.findall(r"index (\d+)", err)]
        self.assertTrue(any(first <= i < first + n for i in named),
                        "want an index in %d..%d: %s" % (first, first + n - 1,
                                                         err))
        # Reads of the damaged block fail loudly; others still work.
        self.run_cmd("get", "--store", self.path("store"), first + n // 2,
                     expect=EXIT_VERIFY)
        self.run_cmd("get", "--store", self.path("store"), 0, expect=EXIT_OK)
        self.run_cmd("export", "--store", self.path("store"),
                     expect=EXIT_VERIFY)


class ForgedBlockTest(CliTest):
    """A forger rewrites one record and the block's CRC: only the Merkle
    tree (stored nodes, checkpoints) can tell."""
    NODE_GROUP = 64  # 2^ALOG_STORE_NODE_LEVEL leaves per lowest stored node (format 3)

    def forge(self):
        if not shutil.which("zstd"):
            self.skipTest("needs the zstd command")
        self.init()
        self.ingest("store", self.demo(3000))
        root = self.info("store")["root_hash"]
        seg_path = self.path("store", "segments", "00000001.seg")
        with open(seg_path, "rb") as f:
            seg = bytearray(f.read())
        blocks = parse_blocks(bytes(seg))
        off, first, n, comp, raw = blocks[len(blocks) // 2]
        recs = zstd_decompress(bytes(seg[off + 40:off + 40 + comp])).split(b"\n")
        self.assertEqual(len(recs), n + 1)
        k = n // 2
        # Same length, still canonical: move the producer's time a month.
        at = recs[k].index(b'"time":"2026-') + len(b'"time":"2026-')
        month = recs[k][at:at + 2]
        recs[k] = recs[k][:at] + (b"12" if month != b"12" else b"11") + \
            recs[k][at + 2:]
        payload = b"\n".join(recs)
        self.assertEqual(len(payload), raw)
        frame = zstd_frame_of_size(payload, comp)
        self.assertIsNotNone(frame)
        self.assertEqual(zstd_decompress(frame), payload)
        hdr = bytearray(seg[off:off + 40])
        hdr[36:40] = struct.pack(">I", crc32c(bytes(hdr[:36]) + frame))
        seg[off:off + 40 + comp] = hdr + frame
        with open(seg_path, "wb") as f:
            f.write(seg)
        parse_blocks(bytes(seg))  # the framing is valid again
        return first + k, bytes.fromhex(root)

    def test_a_record_altered_with_a_valid_crc_fails_verify_in_its_node_group(self):
        index, _root = self.forge()
        p = self.run_cmd("get", "--store", self.path("store"), index,
                         expect=EXIT_OK)
        self.assertIn(b'"index":%d,' % index, p.stdout)
        p = self.run_cmd("verify", "--store", self.path("store"),
                         expect=EXIT_VERIFY)
        err = p.stderr.decode()
        m = re.search(r"at index (\d+)", err)
        self.assertIsNotNone(m, err)
        group = index - index % self.NODE_GROUP
        self.assertTrue(group <= int(m.group(1)) <= index, err)

    def test_verify_names_the_record_range_whose_stored_node_does_not_match(self):
        index, _root = self.forge()
        p = self.run_cmd("verify", "--store", self.path("store"),
                         expect=EXIT_VERIFY)
        err = p.stderr.decode()
        m = re.search(r"records (\d+)\.\.(\d+)", err)
        self.assertIsNotNone(m, err)
        self.assertTrue(int(m.group(1)) <= index <= int(m.group(2)), err)

    def test_an_inclusion_proof_of_an_altered_record_does_not_verify(self):
        index, root = self.forge()
        p = self.run_cmd("prove", "inclusion", index, "--store",
                         self.path("store"))
        rec = self.run_cmd("get", "--store", self.path("store"), index,
                           expect=EXIT_OK).stdout.rstrip(b"\n")
        if p.returncode == EXIT_OK:
            proof = json.loads(p.stdout)
            with self.assertRaises(ref.RefError):
                ref.verify_inclusion(index, 3000, ref.leaf_hash(rec),
                                     [bytes.fromhex(h) for h in proof["proof"]],
                                     root)
        else:
            self.assertEqual(p.returncode, EXIT_VERIFY)

    def test_prove_refuses_a_record_whose_group_does_not_match_its_stored_node(self):
        index, _root = self.forge()
        self.run_cmd("prove", "inclusion", index, "--store", self.path("store"),
                     expect=EXIT_VERIFY)


class RebuiltLogTest(CliTest):
    ORIGIN = "rebuilt.example/log"

    def setup_a(self):
        self.init("A", origin=self.ORIGIN)
        # A copy of A taken before anything was logged: a fresh store
        # holding A's key, as a forger who has the key would make.
        shutil.copytree(self.path("A"), self.path("C"), symlinks=True)
        self.events = self.demo(50)
        self.ingest("A", self.events)
        self.write("A.note", self.checkpoint("A"))
        self.vkey_file = self.path("A.vkey")
        with open(self.vkey_file, "w") as f:
            f.write(self.info("A")["vkey"] + "\n")

    def test_a_store_verifies_against_its_own_saved_checkpoint_and_vkey(self):
        self.setup_a()
        self.ingest("A", self.extra(5, "more"))
        p = self.run_cmd("verify", "--store", self.path("A"), "--vkey",
                         self.vkey_file, "--checkpoint", self.path("A.note"),
                         expect=EXIT_OK)
        out = json.loads(p.stdout)
        self.assertTrue(out["verified"])
        self.assertEqual(out["extends_checkpoint_of_size"], 50)
        self.assertEqual(out["tree_size"], 56)

    def test_a_store_rebuilt_with_a_fresh_key_fails_against_the_saved_anchor(self):
        self.setup_a()
        self.init("B", origin=self.ORIGIN)
        self.ingest("B", self.events)
        self.checkpoint("B")
        self.run_cmd("verify", "--store", self.path("B"), expect=EXIT_OK)
        self.run_cmd("verify", "--store", self.path("B"), "--vkey",
                     self.vkey_file, "--checkpoint", self.path("A.note"),
                     expect=EXIT_VERIFY)

    def test_a_store_rebuilt_with_the_same_key_and_one_altered_event_fails(self):
        self.setup_a()
        lines = self.events.split(b"\n")[:-1]
        ev = json.loads(lines[7])
        ev["actor"] = "mallory@example.com"
        lines[7] = json.dumps(ev, separators=(",", ":")).encode()
        self.ingest("C", b"\n".join(lines) + b"\n")
        note_c = self.checkpoint("C", key=self.path("A.key"))
        # The forger's checkpoint is genuinely signed by A's key ...
        with open(self.vkey_file) as f:
            vkey = ref.parse_vkey(f.read())
        self.assertEqual(ref.verify_checkpoint(note_c, vkey).size, 50)
        self.run_cmd("verify", "--store", self.path("C"), "--vkey",
                     self.vkey_file, expect=EXIT_OK)
        # ... but it does not extend the checkpoint saved from A.
        p = self.run_cmd("verify", "--store", self.path("C"), "--vkey",
                         self.vkey_file, "--checkpoint", self.path("A.note"),
                         expect=EXIT_VERIFY)
        self.assertIn("not match the saved checkpoint", p.stderr.decode())


    def test_verify_needs_a_vkey_for_a_checkpoint_and_refuses_a_bad_vkey(self):
        self.setup_a()
        self.run_cmd("verify", "--store", self.path("A"), "--checkpoint",
                     self.path("A.note"), expect=EXIT_USAGE)
        self.run_cmd("verify", "--store", self.path("A"), "--vkey",
                     "nobody+00000000+AAAA", expect=EXIT_USAGE)
        # Another log's key: the store's own checkpoints do not verify.
        other = self.init("other", origin=self.ORIGIN)
        self.run_cmd("verify", "--store", self.path("A"), "--vkey", other,
                     expect=EXIT_VERIFY)
        # A saved checkpoint that the log no longer reaches (a rollback).
        self.run_cmd("verify", "--store", self.path("C"), "--vkey",
                     self.vkey_file, "--checkpoint", self.path("A.note"),
                     expect=EXIT_VERIFY)


class RecoveryTest(CliTest):
    def test_garbage_past_the_committed_end_is_cut_logged_and_verify_passes(self):
        self.init()
        self.ingest("store", self.demo(50))
        segs = sorted(os.listdir(self.path("store", "segments")))
        seg_path = self.path("store", "segments", segs[-1])
        size = os.path.getsize(seg_path)
        garbage = b"ALB1\x00\x00\x00\x00" + bytes(range(256)) * 2 + b"torn"
        with open(seg_path, "ab") as f:
            f.write(garbage)
        # Readers never look past the committed end.
        self.run_cmd("verify", "--store", self.path("store"), expect=EXIT_OK)
        p = self.ingest("store", b'{"type":"after.recovery"}\n')
        m = re.search(r"cut (\d+) uncommitted bytes", p.stderr.decode())
        self.assertIsNotNone(m, p.stderr.decode())
        self.assertEqual(int(m.group(1)), len(garbage))
        recs = self.records(self.export("store"))
        self.assertEqual(len(recs), 52)
        ev = recs[50]["event"]
        self.assertEqual(ev["type"], "store.recovered")
        self.assertEqual(ev.get("cut_bytes"), len(garbage))
        self.assertEqual(ev.get("committed_end"), size)
        self.assertEqual(recs[51]["event"]["type"], "after.recovery")
        self.run_cmd("verify", "--store", self.path("store"), expect=EXIT_OK)
        # The cut happened once.
        p = self.ingest("store", b'{"type":"again"}\n')
        self.assertNotIn("uncommitted", p.stderr.decode())


    def test_an_uncommitted_segment_file_is_removed_and_logged(self):
        self.init()
        self.ingest("store", self.demo(50))
        self.write(os.path.join("store", "segments", "00000002.seg"),
                   segment_header(2, 50) + b"ALB1 half a block")
        p = self.ingest("store", b'{"type":"after.recovery"}\n')
        self.assertRegex(p.stderr.decode(),
                         r"removed 1 uncommitted segment file")
        self.assertEqual(os.listdir(self.path("store", "segments")),
                         ["00000001.seg"])
        recs = self.records(self.export("store"))
        self.assertEqual(recs[50]["event"]["type"], "store.recovered")
        self.assertEqual(recs[50]["event"].get("removed_segments"), 1)
        self.assertEqual(recs[51]["event"]["type"], "after.recovery")
        self.run_cmd("verify", "--store", self.path("store"), expect=EXIT_OK)


class SegmentTest(CliTest):
    def check_segments(self, store, total):
        """Every segment header and block, contiguous across files."""
        segdir = self.path(store, "segments")
        names = sorted(os.listdir(segdir))
        expect_index = 0
        for k, name in enumerate(names, 1):
            self.assertEqual(name, "%08d.seg" % k)
            with open(os.path.join(segdir, name), "rb") as f:
                seg = f.read()
            seg_id, first = parse_segment_header(seg)
            self.assertEqual((seg_id, first), (k, expect_index))
            for _off, bfirst, n, _comp, _raw in parse_blocks(seg):
                self.assertEqual(bfirst, expect_index)
                expect_index += n
        self.assertEqual(expect_index, total)
        return names

    def test_segments_rotate_at_the_configured_size_and_the_log_reads_across_them(self):
        self.run_cmd("init", "--store", self.path("store"), "--origin",
                     "seg.example/log", "--segment-size", 65536,
                     expect=EXIT_OK)
        path = self.write("ev.ndjson", self.demo(6000))
        self.run_cmd("ingest", "--store", self.path("store"), path,
                     expect=EXIT_OK)
        names = self.check_segments("store", 6000)
        self.assertGreaterEqual(len(names), 3)
        for name in names:
            with open(self.path("store", "segments", name), "rb") as f:
                seg = f.read()
            if len(parse_blocks(seg)) > 1:
                self.assertLessEqual(len(seg), 65536, name)
        lines = self.export("store")
        self.assertEqual(ref.Tree(lines).root().hex(),
                         self.info("store")["root_hash"])
        for i in (0, 2999, 5999):
            p = self.run_cmd("get", "--store", self.path("store"), i,
                             expect=EXIT_OK)
            self.assertEqual(p.stdout, lines[i] + b"\n")
        self.run_cmd("verify", "--store", self.path("store"), expect=EXIT_OK)

    def test_a_store_with_the_smallest_segment_size_ingests_a_large_file(self):
        self.run_cmd("init", "--store", self.path("store"), "--origin",
                     "seg.example/log", "--segment-size", 4096,
                     expect=EXIT_OK)
        path = self.write("ev.ndjson", self.demo(3000))
        self.run_cmd("ingest", "--store", self.path("store"), path,
                     expect=EXIT_OK)
        self.check_segments("store", 3000)
        self.run_cmd("verify", "--store", self.path("store"), expect=EXIT_OK)


def limit_file_size(limit):
    """preexec_fn: writes past `limit` bytes fail with EFBIG (no signal)."""
    def fn():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return fn


def largest_file(top):
    return max(os.path.getsize(os.path.join(d, f))
               for d, _dirs, files in os.walk(top) for f in files)


class WriteFailureTest(CliTest):
    BATCH = 4096  # ALOG_LOG_BATCH_MAX: a file is read in batches this big

    def failed_ingest(self):
        """Ingest 6000 events with file writes capped just above what the
        first batch needs (measured on a scratch store), so the first batch
        commits and the second fails."""
        events = self.demo(6000)
        first = b"".join(events.splitlines(True)[:self.BATCH])
        self.init("scratch")
        # from a file, as below: from a pipe, a slow writer would split
        # the batch into several commits and grow the index differently
        self.run_cmd("ingest", "--store", self.path("scratch"),
                     self.write("first.ndjson", first), expect=EXIT_OK)
        limit = largest_file(self.path("scratch")) + 4096
        self.init()
        path = self.write("ev.ndjson", events)
        p = subprocess.run(WRAP + [BIN, "ingest", "--store", self.path("store"), path],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           cwd=self.dir, env=clean_env(), timeout=120,
                           preexec_fn=limit_file_size(limit))
        self.assertEqual(p.returncode, EXIT_OPER, p.stderr.decode())
        return events.split(b"\n")[:-1], p.stderr.decode()

    def test_a_failed_commit_keeps_earlier_batches_and_the_store_stays_usable(self):
        events, _err = self.failed_ingest()
        lines = self.export("store")
        size = self.info("store")["tree_size"]
        self.assertEqual(len(lines), size)
        self.assertEqual(size, self.BATCH)
        for rec, ev in zip(lines, events):
            self.event_bytes(rec, ev)
        self.run_cmd("verify", "--store", self.path("store"), expect=EXIT_OK)
        # Without the limit the rest goes in; what was stored is a
        # duplicate now.
        p = self.run_cmd("ingest", "--store", self.path("store"),
                         self.path("ev.ndjson"), expect=EXIT_OK)
        self.assertIn("%d duplicates" % size, p.stderr.decode())
        # The failed commit's bytes may have reached the disk: the next
        # open cuts them and logs that as a store.recovered event.
        lines = self.export("store")
        recovered = [l for l in lines
                     if json.loads(l)["event"]["type"] == "store.recovered"]
        self.assertEqual(len(recovered), 1)
        self.assertIn("cut", p.stderr.decode())
        lines = [l for l in lines if l not in recovered]
        self.assertEqual(len(lines), len(events))
        for rec, ev in zip(lines, events):
            self.event_bytes(rec, ev)
        self.run_cmd("verify", "--store", self.path("store"), expect=EXIT_OK)

    def test_a_failed_batch_in_flight_drops_the_batch_judged_after_it(self):
        """A full batch commits on a thread while the next is judged; when
        the one in flight fails, the run ends (exit 3) acknowledging none
        of either, and a second run stores every event once."""
        events = self.demo(3 * self.BATCH)
        self.init()
        # the first batch's blocks do not fit: its segment write fails
        limit = largest_file(self.path("store")) + 4096
        path = self.write("ev.ndjson", events)
        p = subprocess.run(WRAP + [BIN, "ingest", "--store", self.path("store"), path],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           cwd=self.dir, env=clean_env(), timeout=120,
                           preexec_fn=limit_file_size(limit))
        err = p.stderr.decode()
        self.assertEqual(p.returncode, EXIT_OPER, err)
        self.assertIn("stored 0 events", err)
        self.assertEqual(self.info("store")["tree_size"], 0)
        p = self.run_cmd("ingest", "--store", self.path("store"), path,
                         expect=EXIT_OK)
        n = 3 * self.BATCH
        self.assertIn("stored %d events (index 0..%d), 0 duplicates" % (n, n - 1),
                      p.stderr.decode())
        lines = [l for l in self.export("store")
                 if json.loads(l)["event"]["type"] != "store.recovered"]
        self.assertEqual(len(lines), 3 * self.BATCH)
        for rec, ev in zip(lines, events.split(b"\n")):
            self.event_bytes(rec, ev)
        self.run_cmd("verify", "--store", self.path("store"), expect=EXIT_OK)

    def test_a_failure_after_a_batch_in_flight_committed_counts_that_batch(self):
        """A full batch commits on a thread while the next is judged; when
        the run then fails for another reason (here: a duplicate of a
        record in a damaged block, which reading fails), the batch that
        committed is stored, and the summary says so."""
        self.init()
        # two whole groups of leaves (ForgedBlockTest.NODE_GROUP): an open
        # reads their stored nodes, not the damaged block; then the tail
        # in a block of its own
        self.ingest("store", b'{"type":"test.dup","id":"dup-0","source":"tests"}\n' +
                    self.extra(127, "old"))
        self.ingest("store", self.extra(1, "tail"))
        seg_path = self.path("store", "segments", "00000001.seg")
        with open(seg_path, "rb") as f:
            seg = bytearray(f.read())
        off, first, _n, comp, _raw = parse_blocks(bytes(seg))[0]
        self.assertEqual(first, 0)
        seg[off + 40 + comp // 2] ^= 0x01
        with open(seg_path, "r+b") as f:
            f.write(seg)
        # a full batch, then the duplicate: judged while the batch commits
        path = self.write("ev.ndjson", self.extra(self.BATCH, "new") +
                          b'{"type":"test.dup","id":"dup-0","source":"tests"}\n')
        p = self.run_cmd("ingest", "--store", self.path("store"), path,
                         expect=EXIT_OPER)
        err = p.stderr.decode()
        size = self.info("store")["tree_size"]
        self.assertEqual(size, 129 + self.BATCH, err)
        self.assertIn("stored %d events (index 129..%d)" % (self.BATCH, size - 1),
                      err)

    def test_ingest_commits_what_it_holds_whenever_the_input_waits(self):
        """Group commit: lines that arrived are made durable while stdin
        stays open, also when they fill the reader's chunks exactly (512
        lines a chunk)."""
        for n in (100, 512, 1024):
            self.init("open%d" % n)
            store = self.path("open%d" % n)
            p = subprocess.Popen(WRAP + [BIN, "ingest", "--store", store],
                                 stdin=subprocess.PIPE,
                                 stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, cwd=self.dir,
                                 env=clean_env())
            try:
                p.stdin.write(self.extra(n, "open%d" % n))
                p.stdin.flush()
                deadline = time.monotonic() + 60
                size = 0
                while time.monotonic() < deadline:
                    size = self.info("open%d" % n)["tree_size"]
                    if size == n:
                        break
                    time.sleep(0.05)
                self.assertEqual(size, n, "%d lines not committed while "
                                 "stdin is open" % n)
            finally:
                p.stdin.close()
                p.wait(60)
                p.stderr.close()
            self.assertEqual(p.returncode, EXIT_OK)

    def test_ingest_of_a_file_shows_its_progress_on_a_terminal(self):
        self.init()
        path = self.write("ev.ndjson", self.demo(3000))
        rc, out = runner.run_on_tty(
            WRAP + [BIN, "ingest", "--store", self.path("store"), path],
            self.dir)
        self.assertEqual(rc, EXIT_OK, out)
        self.assertIn(b"auditlog: ingesting ", out)
        self.assertIn(b"MiB (100%)", out)
        self.assertIn(b"stored 3000 events", out)

    def test_a_failed_commit_ends_the_ingest_while_stdin_stays_open(self):
        """The reader thread waits for input; a failed commit must still end
        the run at once (exit 3), not when the producer closes stdin."""
        self.init()
        limit = largest_file(self.path("store")) + 1024
        p = subprocess.Popen(WRAP + [BIN, "ingest", "--store", self.path("store")],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, cwd=self.dir,
                             env=clean_env(), preexec_fn=limit_file_size(limit))
        try:
            # and half a line: the reader then waits inside that line
            p.stdin.write(self.demo(400) + b'{"type":"half","pad":"')
            p.stdin.flush()
        except BrokenPipeError:
            pass
        try:
            rc = p.wait(timeout=120)
        finally:
            if p.poll() is None:
                p.kill()
            p.stdin.close()
        err = p.stderr.read().decode()
        p.stdout.close()
        p.stderr.close()
        self.assertEqual(rc, EXIT_OPER, err)
        self.assertIn("stored 0 events", err)

    def test_a_failed_batch_in_flight_ends_the_ingest_while_stdin_stays_open(self):
        """A full batch commits on a thread; the line after it repeats one
        of its ids (a duplicate: nothing pending). When the input then
        waits, the batch in flight is waited for too: its failure ends
        the run at once (exit 3), not when the producer closes stdin."""
        self.init()
        limit = largest_file(self.path("store")) + 4096
        data = self.extra(self.BATCH, "held") + self.extra(1, "held")
        # the whole input waits in the pipe before the run starts, so that
        # the batch fills without the input ever waiting
        rfd, wfd = os.pipe()
        try:
            fcntl.fcntl(wfd, fcntl.F_SETPIPE_SZ, 1 << 20)
            self.assertEqual(os.write(wfd, data), len(data))
            p = subprocess.Popen(WRAP + [BIN, "ingest", "--store", self.path("store")],
                                 stdin=rfd, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, cwd=self.dir,
                                 env=clean_env(),
                                 preexec_fn=limit_file_size(limit))
            os.close(rfd)
            rfd = -1
            try:
                rc = p.wait(timeout=120)
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        finally:
            os.close(wfd)
            if rfd >= 0:
                os.close(rfd)
        err = p.stderr.read().decode()
        p.stdout.close()
        p.stderr.close()
        self.assertEqual(rc, EXIT_OPER, err)
        self.assertIn("stored 0 events", err)
        self.assertEqual(self.info("store")["tree_size"], 0)

    def test_a_failed_ingest_summary_acknowledges_only_what_the_store_holds(self):
        _events, err = self.failed_ingest()
        size = self.info("store")["tree_size"]
        m = re.search(r"stored (\d+) events", err)
        self.assertIsNotNone(m, err)
        self.assertEqual(int(m.group(1)), size, err)
        m = re.search(r"index (\d+)\.\.(\d+)", err)
        if size:
            self.assertIsNotNone(m, err)
            self.assertEqual((int(m.group(1)), int(m.group(2))),
                             (0, size - 1), err)


class LockTest(CliTest):
    def test_a_second_writer_exits_3_naming_the_pid_that_holds_the_store(self):
        self.init()
        lock = self.path("store", "LOCK")
        holder = subprocess.Popen(
            WRAP + [BIN, "ingest", "--store", self.path("store")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, cwd=self.dir, env=clean_env())
        try:
            want = str(holder.pid)
            deadline = time.monotonic() + 30
            while True:
                try:
                    with open(lock) as f:
                        if f.read().strip() == want:
                            break
                except FileNotFoundError:
                    pass
                self.assertIsNone(holder.poll(), "holder exited early")
                self.assertLess(time.monotonic(), deadline,
                                "LOCK never named the holder")
                time.sleep(0.002)  # poll interval, not a synchronisation
            p = self.ingest("store", b'{"type":"second.writer"}\n',
                            expect=EXIT_OPER)
            self.assertRegex(p.stderr.decode(), r"\b%s\b" % want)
            p = self.run_cmd("checkpoint", "--store", self.path("store"),
                             expect=EXIT_OPER)
            self.assertRegex(p.stderr.decode(), r"\b%s\b" % want)
            # Readers are not blocked by the writer.
            self.assertEqual(self.info("store")["tree_size"], 0)
            _out, err = holder.communicate(b'{"type":"first.writer"}\n',
                                           timeout=60)
            self.assertEqual(holder.returncode, 0, err)
        finally:
            if holder.poll() is None:
                holder.kill()
                holder.wait()
        recs = self.records(self.export("store"))
        self.assertEqual([r["event"]["type"] for r in recs], ["first.writer"])


class CommandTest(CliTest):
    def build(self, count=40):
        self.init()
        self.ingest("store", self.demo(count))
        return self.export("store")

    def test_export_prints_exactly_the_requested_range(self):
        full = self.build()
        n = len(full)
        self.assertEqual(self.export("store", "--from", 10, "--to", 20),
                         full[10:20])
        self.assertEqual(self.export("store", "--from", 0, "--to", 0), [])
        self.assertEqual(self.export("store", "--from", n), [])
        self.assertEqual(self.export("store", "--from", n - 1), full[-1:])
        self.assertEqual(self.export("store", "--to", 5), full[:5])
        self.assertEqual(self.export("store", "--to", n + 100), full)
        self.assertEqual(self.export("store", "--from", 7), full[7:])
        self.export("store", "--from", 5, "--to", 3, expect=EXIT_USAGE)
        self.export("store", "--from", n + 1, expect=EXIT_USAGE)
        self.export("store", "--from", "-1", expect=EXIT_USAGE)
        self.export("store", "--to", "ten", expect=EXIT_USAGE)

    def test_verify_record_writes_its_result_as_integrity_verified(self):
        full = self.build(30)
        p = self.run_cmd("verify", "--store", self.path("store"), "--record",
                         expect=EXIT_OK)
        self.assertEqual(json.loads(p.stdout)["tree_size"], len(full))
        recs = self.records(self.export("store"))
        self.assertEqual(len(recs), len(full) + 1)
        ev = recs[-1]["event"]
        self.assertEqual(recs[-1]["provenance"]["transport"], "internal")
        self.assertEqual((ev["type"], ev["source"], ev["result"],
                          ev["tree_size"], ev["bad_index"], ev["error"]),
                         ("integrity.verified", "auditlog", "pass", len(full),
                          None, None))
        self.assertGreaterEqual(ev["duration_ms"], 0)
        # without --record nothing is written
        self.run_cmd("verify", "--store", self.path("store"), expect=EXIT_OK)
        self.assertEqual(len(self.export("store")), len(full) + 1)

    def test_query_prints_the_population_of_a_period_with_its_hash(self):
        full = self.build(120)
        recs = self.records(full)
        got = lambda r: r["received"]
        # A period from record 30's received time to record 90's: the
        # records received in [from, to), whatever their index.
        frm, to = got(recs[30]), got(recs[90])
        want = [full[i] for i, r in enumerate(recs) if frm <= got(r) < to]
        p = self.run_cmd("query", "--store", self.path("store"), "--from", frm,
                         "--to", to, expect=EXIT_OK)
        self.assertEqual(p.stdout.split(b"\n")[:-1], want)
        digest = hashlib.sha256(p.stdout).hexdigest()
        self.assertIn(digest.encode(), p.stderr)
        # filters: a type prefix, checked against the events themselves
        p = self.run_cmd("query", "--store", self.path("store"), "--from", frm,
                         "--to", to, "--type", "auth.*", expect=EXIT_OK)
        self.assertEqual(p.stdout.split(b"\n")[:-1],
                         [full[i] for i, r in enumerate(recs)
                          if frm <= got(r) < to and
                          (r["event"]["type"] == "auth" or
                           r["event"]["type"].startswith("auth."))])
        s = json.loads(self.run_cmd(
            "query", "--store", self.path("store"), "--from", frm, "--to", to,
            "--type", "auth.*", "--summary", expect=EXIT_OK).stdout)
        self.assertEqual(s["sha256"], hashlib.sha256(p.stdout).hexdigest())
        self.assertEqual(s["count"], len(p.stdout.split(b"\n")) - 1)
        self.assertEqual(s["query"], 'received >= "%s" and received < "%s" '
                         'and type matches "auth.*"' % (s["from"], s["to"]))
        # an empty period is a recorded zero; bad periods are usage errors
        s = json.loads(self.run_cmd(
            "query", "--store", self.path("store"), "--from", "2000-01-01",
            "--to", "2000-01-02", "--summary", expect=EXIT_OK).stdout)
        self.assertEqual((s["count"], s["index_from"], s["index_to"]), (0, 0, 0))
        self.assertEqual(s["sha256"], hashlib.sha256(b"").hexdigest())
        for bad in (["--from", to, "--to", frm], ["--from", "yesterday", "--to", to],
                    ["--to", to]):
            self.run_cmd("query", "--store", self.path("store"), *bad,
                         expect=EXIT_USAGE)

    def test_get_prints_one_record_and_refuses_indices_outside_the_log(self):
        full = self.build()
        for i in (0, 17, len(full) - 1):
            p = self.run_cmd("get", "--store", self.path("store"), i,
                             expect=EXIT_OK)
            self.assertEqual(p.stdout, full[i] + b"\n")
        for bad in (len(full), 2 ** 53, "abc", "-1"):
            self.run_cmd("get", "--store", self.path("store"), bad,
                         expect=EXIT_USAGE)
        self.run_cmd("get", "--store", self.path("store"), expect=EXIT_USAGE)

    def test_unknown_command_and_unknown_option_are_usage_errors(self):
        p = self.run_cmd("frobnicate", expect=EXIT_USAGE)
        self.assertIn("frobnicate", p.stderr.decode())
        self.run_cmd(expect=EXIT_USAGE)
        self.run_cmd("info", "--no-such-option", expect=EXIT_USAGE)
        self.run_cmd("demo", "nonsense", expect=EXIT_USAGE)

    def test_every_command_help_exits_0_and_prints_usage_on_stdout(self):
        for args in [["--help"], ["help"]] + [[c, "--help"] for c in COMMANDS] \
                + [["prove", "inclusion", "--help"]]:
            p = self.run_cmd(*args, expect=EXIT_OK)
            out = p.stdout.decode()
            self.assertTrue(out.startswith("usage: auditlog"), (args, out))
            if args[0] in COMMANDS:
                self.assertIn("auditlog " + args[0], out.split("\n")[0])
            self.assertEqual(p.stderr, b"", args)
        main = self.run_cmd("--help").stdout.decode()
        for c in COMMANDS:
            self.assertRegex(main, r"\n  %s " % c)

    def test_version_prints_the_version(self):
        p = self.run_cmd("--version", expect=EXIT_OK)
        self.assertRegex(p.stdout.decode(), r"^auditlog \d+\.\d+\.\d+\n$")



if __name__ == "__main__":
    sys.path.insert(0, HERE)
    import runner  # noqa: E402
    sys.exit(runner.main(__name__, BIN))
