#!/usr/bin/env python3
# tests/support/mutcap.py - deterministic mutations of pcap and pcapng captures, for the
# hostile-capture test (tests/integration/hostile.py). Mutant i of seed S is always the same
# bytes: random.Random("S:i") (string seeds hash with SHA-512, not PYTHONHASHSEED).
#
# A source is cut to its first MAX_RECORDS records (pcap) or blocks (pcapng) so that every
# mutant stays small, then mutated one to four times, each time by one of:
#   bit flips; bytes or 16/32-bit words set to interesting values (0, 1, 0x7f.., 0x80..,
#   0xff..) anywhere, or inside the first 64 bytes of a packet (its headers); a truncation
#   at a random point; a record or block duplicated, removed or swapped with the next;
#   a length field (pcap caplen/origlen/snaplen, pcapng block total length, leading or
#   trailing, or an EPB's captured length) set to 0, huge or off by one; timestamps set to
#   extremes (0, 0x7fffffff, 0xffffffff, nanoseconds past a second, going backwards); the
#   link type, the pcapng if_tsresol option or the byte-order magic changed.
#
# Usage: mutcap.py SEED N OUTDIR CAPTURE...   writes OUTDIR/mNNNN.pcap[ng] and prints their
#        names with the mutations done, one line each (mutant i mutates source i % #sources).
import random
import struct
import sys

MAX_RECORDS = 200

PCAP_MAGICS = {b"\xd4\xc3\xb2\xa1": "<", b"\x4d\x3c\xb2\xa1": "<",
               b"\xa1\xb2\xc3\xd4": ">", b"\xa1\xb2\x3c\x4d": ">"}
INTERESTING8 = [0x00, 0x01, 0x7F, 0x80, 0xFF]
INTERESTING16 = [0x0000, 0x0001, 0x7FFF, 0x8000, 0xFFFF, 0x0800, 0x86DD, 0x8100]
INTERESTING32 = [0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFF, 0x10000, 0x40000, 0x40001]
LINKTYPES = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 105, 127, 147, 65535, 0xFFFFFFFF]


class Capture:
    """A capture as a header, a list of records (pcap: 16-byte header + data; pcapng:
    whole blocks) and the bytes after them. endian is '<' or '>'; kind is 'pcap', 'pcapng'
    or 'raw' (not parsed: all in head). Lossless unless limit cuts it to limit records."""

    def __init__(self, data, limit=None):
        self.kind = "raw"
        self.endian = "<"
        self.head = data
        self.records = []
        self.tail = b""
        limit = limit or len(data) + 1
        magic = data[:4]
        if magic in PCAP_MAGICS and len(data) >= 24:
            self.kind = "pcap"
            self.endian = PCAP_MAGICS[magic]
            self.head = data[:24]
            off = 24
            while off + 16 <= len(data) and len(self.records) < limit:
                caplen = struct.unpack_from(self.endian + "I", data, off + 8)[0]
                end = min(off + 16 + caplen, len(data))
                self.records.append(bytearray(data[off:end]))
                off = end
            self.tail = data[off:]
        elif magic == b"\x0a\x0d\x0d\x0a" and len(data) >= 28:
            self.kind = "pcapng"
            self.endian = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
            self.head = b""
            off = 0
            while off + 12 <= len(data) and len(self.records) < limit:
                blen = struct.unpack_from(self.endian + "I", data, off + 4)[0]
                if blen < 12 or off + blen > len(data):
                    self.records.append(bytearray(data[off:]))
                    off = len(data)
                    break
                self.records.append(bytearray(data[off:off + blen]))
                off += blen
            self.tail = data[off:]

    def bytes(self):
        return bytes(self.head) + b"".join(bytes(r) for r in self.records) + bytes(self.tail)


def put(buf, off, fmt, value):
    if 0 <= off and off + struct.calcsize(fmt) <= len(buf):
        struct.pack_into(fmt, buf, off, value)


def pick_record(r, cap, want=None):
    """A record index (of pcapng block type want, when given), or None."""
    idx = list(range(len(cap.records)))
    if want is not None:
        idx = [i for i in idx if len(cap.records[i]) >= 8 and
               struct.unpack_from(cap.endian + "I", cap.records[i], 0)[0] in want]
    return r.choice(idx) if idx else None


def m_bitflip(r, cap, buf):
    for _ in range(r.randint(1, 8)):
        if buf:
            buf[r.randrange(len(buf))] ^= 1 << r.randrange(8)
    return "bitflip"


def m_interesting(r, cap, buf):
    if not buf:
        return "interesting(empty)"
    width = r.choice([1, 2, 4])
    off = r.randrange(len(buf))
    e = r.choice("<>")
    if width == 1:
        put(buf, off, "B", r.choice(INTERESTING8))
    elif width == 2:
        put(buf, off, e + "H", r.choice(INTERESTING16))
    else:
        put(buf, off, e + "I", r.choice(INTERESTING32))
    return "interesting%d@%d" % (width * 8, off)


def m_header_bytes(r, cap, buf):
    """Interesting values inside the first 64 bytes of one packet's data (link, IP, UDP)."""
    i = pick_record(r, cap, {6, 3} if cap.kind == "pcapng" else None)
    if i is None:
        return m_interesting(r, cap, buf)
    rec = cap.records[i]
    start = 28 if cap.kind == "pcapng" else 16
    if len(rec) <= start:
        return "header(short)"
    for _ in range(r.randint(1, 3)):
        off = start + r.randrange(min(64, len(rec) - start))
        if r.random() < 0.5:
            put(rec, off, "B", r.choice(INTERESTING8))
        else:
            put(rec, off, ">H", r.choice(INTERESTING16))
    return "header@%d" % i


def m_truncate(r, cap, buf):
    n = r.randrange(len(buf) + 1) if buf else 0
    del buf[n:]
    return "truncate@%d" % n


def m_records(r, cap, buf):
    if not cap.records:
        return m_truncate(r, cap, buf)
    i = r.randrange(len(cap.records))
    op = r.choice(["dup", "remove", "swap"])
    if op == "dup":
        cap.records.insert(i, bytearray(cap.records[i]))
    elif op == "remove":
        del cap.records[i]
    elif i + 1 < len(cap.records):
        cap.records[i], cap.records[i + 1] = cap.records[i + 1], cap.records[i]
    return "%s-record@%d" % (op, i)


def length_value(r, old):
    return r.choice([0, 1, old - 1, old + 1, old + 4, old - 4, 0xFFFFFFFF, 0x7FFFFFFF,
                     0x40000, 0x40001, 65535, 65536]) & 0xFFFFFFFF


def m_length(r, cap, buf):
    e = cap.endian
    if cap.kind == "pcap":
        if r.random() < 0.2:
            old = struct.unpack_from(e + "I", cap.head, 16)[0]
            head = bytearray(cap.head)
            put(head, 16, e + "I", length_value(r, old))
            cap.head = head
            return "snaplen"
        i = pick_record(r, cap)
        if i is None:
            return "length(none)"
        field = r.choice([8, 12])
        rec = cap.records[i]
        if len(rec) >= 16:
            put(rec, field, e + "I", length_value(r, struct.unpack_from(e + "I", rec, field)[0]))
        return "%s@%d" % ("caplen" if field == 8 else "origlen", i)
    if cap.kind == "pcapng":
        i = pick_record(r, cap)
        if i is None:
            return "length(none)"
        rec = cap.records[i]
        btype = struct.unpack_from(e + "I", rec, 0)[0] if len(rec) >= 4 else 0
        where = r.choice(["lead", "trail", "both", "epb"])
        if where == "epb" and btype == 6 and len(rec) >= 24:
            put(rec, 20, e + "I", length_value(r, struct.unpack_from(e + "I", rec, 20)[0]))
            return "epb-caplen@%d" % i
        old = len(rec)
        v = length_value(r, old)
        if where in ("lead", "both", "epb"):
            put(rec, 4, e + "I", v)
        if where in ("trail", "both"):
            put(rec, len(rec) - 4, e + "I", v)
        return "blocklen-%s@%d" % (where, i)
    return m_interesting(r, cap, buf)


def m_timestamp(r, cap, buf):
    e = cap.endian
    if cap.kind == "pcap":
        i = pick_record(r, cap)
        if i is None:
            return "ts(none)"
        rec = cap.records[i]
        if r.random() < 0.6:
            put(rec, 0, e + "I", r.choice([0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF]))
        else:
            put(rec, 4, e + "I", r.choice([999999, 1000000, 999999999, 1000000000,
                                           0xFFFFFFFF]))
        if r.random() < 0.3 and i + 1 < len(cap.records):
            # Backwards: the next record a long time before this one.
            put(cap.records[i + 1], 0, e + "I", 0)
        return "ts@%d" % i
    if cap.kind == "pcapng":
        i = pick_record(r, cap, {6})
        if i is None:
            return "ts(none)"
        rec = cap.records[i]
        put(rec, 12, e + "I", r.choice([0, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF]))
        put(rec, 16, e + "I", r.choice([0, 0xFFFFFFFF, r.getrandbits(32)]))
        return "epb-ts@%d" % i
    return m_interesting(r, cap, buf)


def m_linktype(r, cap, buf):
    e = cap.endian
    if cap.kind == "pcap":
        head = bytearray(cap.head)
        put(head, 20, e + "I", r.choice(LINKTYPES))
        cap.head = head
        return "linktype"
    if cap.kind == "pcapng":
        i = pick_record(r, cap, {1})
        if i is None:
            return "linktype(none)"
        rec = cap.records[i]
        what = r.choice(["link", "tsresol", "bom"])
        if what == "link":
            put(rec, 8, e + "H", r.choice(LINKTYPES) & 0xFFFF)
        elif what == "tsresol":
            # The IDB's first option becomes if_tsresol with an odd value.
            if len(rec) >= 28:
                put(rec, 16, e + "H", 9)
                put(rec, 18, e + "H", 1)
                put(rec, 20, "B", r.choice([0, 6, 9, 19, 63, 0x80, 0x8A, 0xBF, 0xFF]))
        else:
            j = pick_record(r, cap, {0x0A0D0D0A})
            if j is not None and len(cap.records[j]) >= 12:
                cap.records[j][8:12] = cap.records[j][8:12][::-1]
        return "idb-%s@%d" % (what, i)
    return m_interesting(r, cap, buf)


MUTATIONS = [m_bitflip, m_interesting, m_header_bytes, m_truncate, m_records, m_length,
             m_timestamp, m_linktype]


def mutate(data, seed, index):
    """Mutant index of seed from the source bytes: (bytes, description)."""
    r = random.Random("%s:%d" % (seed, index))
    cap = Capture(data, MAX_RECORDS)
    cap.tail = b""  # the cut: MAX_RECORDS records at most
    done = []
    for _ in range(r.randint(1, 4)):
        m = r.choice(MUTATIONS)
        if m in (m_bitflip, m_interesting, m_truncate):
            # Byte-level: on the flat file, which is then parsed again (losslessly).
            buf = bytearray(cap.bytes())
            done.append(m(r, cap, buf))
            cap = Capture(bytes(buf))
        else:
            done.append(m(r, cap, None))
    return cap.bytes(), " ".join(done)


def main(argv):
    if len(argv) < 5:
        sys.stderr.write("usage: mutcap.py SEED N OUTDIR CAPTURE...\n")
        return 2
    seed, n, outdir, sources = argv[1], int(argv[2]), argv[3], argv[4:]
    data = [open(s, "rb").read() for s in sources]
    for i in range(n):
        src = i % len(sources)
        out, what = mutate(data[src], seed, i)
        ext = ".pcapng" if sources[src].endswith(".pcapng") else ".pcap"
        name = "%s/m%04d%s" % (outdir, i, ext)
        with open(name, "wb") as f:
            f.write(out)
        print("%s\t%s\t%s" % (name, sources[src], what))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
