"""alogref: an independent reference for checking auditlog from outside.

Written from the public texts, not from auditlog's C code:
- RFC 9162 section 2.1: Merkle tree hash, inclusion and consistency proof
  verification (sections 2.1.1, 2.1.3.2, 2.1.4.2).
- C2SP signed-note: note text / signature lines, Ed25519 key IDs, vkeys.
- C2SP tlog-checkpoint: origin, tree size, root hash lines of the body.

Only the Python standard library and the `cryptography` package are used.
Every function raises RefError on malformed input or a failed check.
"""
import base64
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


class RefError(Exception):
    pass


# ---- RFC 9162 Merkle tree -------------------------------------------------

def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def mth_of_hashes(hashes):
    """MTH over a list of leaf hashes (RFC 9162 2.1.1), iteratively: the
    largest power of two smaller than n splits the list."""
    n = len(hashes)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashes[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(mth_of_hashes(hashes[:k]), mth_of_hashes(hashes[k:]))


class Tree:
    """Leaf hashes of a log, with roots of every prefix on demand."""

    def __init__(self, leaves=()):
        self.hashes = [leaf_hash(x) for x in leaves]

    def root(self, size=None):
        if size is None:
            size = len(self.hashes)
        if size > len(self.hashes):
            raise RefError("size %d past the tree" % size)
        return mth_of_hashes(self.hashes[:size])


def verify_inclusion(index, size, leaf, proof, root):
    """RFC 9162 2.1.3.2. leaf is the leaf hash; proof a list of hashes."""
    if index >= size:
        raise RefError("index %d not below size %d" % (index, size))
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise RefError("inclusion proof too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise RefError("inclusion proof too short")
    if r != root:
        raise RefError("inclusion proof does not lead to the root")


def verify_consistency(old_size, new_size, old_root, new_root, proof):
    """RFC 9162 2.1.4.2, plus the trivial cases that section leaves out:
    old 0 (anything extends the empty tree) and old == new (same root)."""
    if old_size > new_size:
        raise RefError("old size past new size")
    if old_size == 0:
        if proof:
            raise RefError("proof from the empty tree must be empty")
        return
    if old_size == new_size:
        if proof:
            raise RefError("proof between equal sizes must be empty")
        if old_root != new_root:
            raise RefError("equal sizes with different roots")
        return
    if not proof:
        raise RefError("empty consistency proof")
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise RefError("consistency proof too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise RefError("consistency proof too short")
    if fr != old_root:
        raise RefError("consistency proof does not lead to the old root")
    if sr != new_root:
        raise RefError("consistency proof does not lead to the new root")


# ---- C2SP signed note -----------------------------------------------------

ALG_ED25519 = 0x01


def key_id(name: str, alg: int, pub: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([alg]) + pub).digest()[:4]


def _name_ok(name):
    return (name != "" and "+" not in name and
            all(ord(ch) > 0x20 and ch not in "\x7f" for ch in name))


def _b64(s):
    try:
        return base64.b64decode(s, validate=True)
    except Exception as e:
        raise RefError("bad base64: %s" % e)


class Vkey:
    def __init__(self, name, kid, pub):
        self.name, self.kid, self.pub = name, kid, pub

    def key(self):
        return Ed25519PublicKey.from_public_bytes(self.pub)


def parse_vkey(text: str) -> Vkey:
    """<name>+<8 hex key id>+<base64(alg || key)>"""
    text = text.strip("\n")
    # The name holds no '+'; the base64 key may.
    parts = text.split("+", 2)
    if len(parts) != 3:
        raise RefError("vkey needs three '+'-separated fields")
    name, hexid, b64 = parts
    if not _name_ok(name):
        raise RefError("bad key name")
    if len(hexid) != 8 or any(c not in "0123456789abcdef" for c in hexid):
        raise RefError("key id must be 8 lowercase hex digits")
    raw = _b64(b64)
    if len(raw) != 33 or raw[0] != ALG_ED25519:
        raise RefError("not an Ed25519 key (alg byte, 32 key bytes)")
    pub = raw[1:]
    kid = bytes.fromhex(hexid)
    if key_id(name, ALG_ED25519, pub) != kid:
        raise RefError("key id does not match name and key")
    return Vkey(name, kid, pub)


SIG_PREFIX = "\u2014 "


def split_note(note: bytes):
    """Return (text bytes, [(name, key id, signature)])."""
    try:
        s = note.decode("utf-8")
    except UnicodeDecodeError:
        raise RefError("note is not UTF-8")
    if not s.endswith("\n"):
        raise RefError("note does not end with a newline")
    cut = s.rfind("\n\n")
    if cut < 0:
        raise RefError("note has no blank line before its signatures")
    text = s[:cut + 1]
    sigs = []
    for line in s[cut + 2:-1].split("\n"):
        if not line.startswith(SIG_PREFIX):
            raise RefError("bad signature line %r" % line)
        rest = line[len(SIG_PREFIX):]
        name, sp, b64 = rest.partition(" ")
        if not sp or not _name_ok(name):
            raise RefError("bad signature line %r" % line)
        raw = _b64(b64)
        if len(raw) < 5:
            raise RefError("signature too short")
        sigs.append((name, raw[:4], raw[4:]))
    if not sigs:
        raise RefError("note has no signature")
    return text.encode("utf-8"), sigs


def verify_note(note: bytes, vkey: Vkey) -> bytes:
    """Return the signed text when a signature by vkey verifies."""
    text, sigs = split_note(note)
    for name, kid, sig in sigs:
        if name == vkey.name and kid == vkey.kid:
            if len(sig) != 64:
                raise RefError("Ed25519 signature is not 64 bytes")
            try:
                vkey.key().verify(sig, text)
            except InvalidSignature:
                raise RefError("signature does not verify")
            return text
    raise RefError("no signature by the verifier key")


# ---- C2SP tlog-checkpoint -------------------------------------------------

class Checkpoint:
    def __init__(self, origin, size, root, extensions):
        self.origin, self.size, self.root = origin, size, root
        self.extensions = extensions


def parse_checkpoint(text: bytes) -> Checkpoint:
    s = text.decode("utf-8")
    if not s.endswith("\n"):
        raise RefError("checkpoint body does not end with a newline")
    lines = s[:-1].split("\n")
    if len(lines) < 3:
        raise RefError("checkpoint body needs origin, size and root")
    origin, size_s, root_s = lines[:3]
    if not origin:
        raise RefError("empty origin")
    if not size_s.isdigit() or not size_s.isascii() or \
            (len(size_s) > 1 and size_s[0] == "0"):
        raise RefError("bad tree size %r" % size_s)
    root = _b64(root_s)
    if len(root) != 32:
        raise RefError("root hash is not 32 bytes")
    for ext in lines[3:]:
        if not ext:
            raise RefError("empty extension line")
    return Checkpoint(origin, int(size_s), root, lines[3:])


def verify_checkpoint(note: bytes, vkey: Vkey) -> Checkpoint:
    return parse_checkpoint(verify_note(note, vkey))
