#!/usr/bin/env python3
"""tests/fuzz/seed.py - build the seed corpora of the fuzz harnesses from real files.

Usage: seed.py FLOWMIMIC DUMPS_DIR OUT_DIR
  FLOWMIMIC  a built flowmimic (writes the models and traces)
  DUMPS_DIR  ../shared/traffic_dumps (the real captures)
  OUT_DIR    gets model/ variants/ trace/ llm_reply/ decode/ pcap/ seeds
Then fuzz from OUT_DIR/<name> and minimise into corpus/<name> with -merge=1 (README.md).
"""
import glob
import json
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
LINKTYPES = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276]  # as in fuzz_decode.c
TINY = "mpegts_rtp_vlan_multicast_tiny__tsduck.pcap"
SMALL = ["rtp_g711_voice_bidir__radionbik.pcap", "rtp_g729_voice_bidir_vad__trex.pcap",
         "rtp_video_160kbps_1dir__trex.pcap"]
MIXED = ["sip_linphone_video_call_mixed_flows__mtaa.pcap", "skype_call_lan_bidir__radionbik.pcap",
         "whatsapp_video_call_relay_small__ndpi.pcap",
         "rtp_h264_video_1dir__saghul_sipp-scenarios.pcap"]


def put(out, name, data):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


def read_pcap(path):
    """(header, [(record header, frame)]) of a little-endian classic pcap file."""
    with open(path, "rb") as f:
        d = f.read()
    recs, off = [], 24
    while off + 16 <= len(d):
        incl = struct.unpack_from("<I", d, off + 8)[0]
        recs.append((d[off:off + 16], d[off + 16:off + 16 + incl]))
        off += 16 + incl
    return d[:24], recs


def pcap_bytes(hdr, recs):
    return hdr + b"".join(h + f for h, f in recs)


def relink(frame, lt):
    """An Ethernet frame as the same packet on link type lt (None when it has no IP)."""
    off, et = 12, struct.unpack_from(">H", frame, 12)[0]
    while et in (0x8100, 0x88A8) and len(frame) >= off + 6:
        off += 4
        et = struct.unpack_from(">H", frame, off)[0]
    ip = frame[off + 2:]
    if et not in (0x0800, 0x86DD) or not ip:
        return None
    v6 = et == 0x86DD
    if lt in (12, 14, 101):
        return ip
    if lt == 228:
        return None if v6 else ip
    if lt == 229:
        return ip if v6 else None
    if lt == 0:
        return struct.pack("<I", 30 if v6 else 2) + ip
    if lt == 108:
        return struct.pack(">I", 30 if v6 else 2) + ip
    if lt == 113:
        return struct.pack(">HHH8sH", 0, 1, 6, frame[6:12] + b"\0\0", et) + ip
    if lt == 276:
        return struct.pack(">HHIHBB8s", et, 0, 2, 1, 0, 6, frame[6:12] + b"\0\0") + ip
    return frame


def seed_decode(dumps, out):
    n = 0
    for name in [TINY] + SMALL + MIXED:
        _, recs = read_pcap(os.path.join(dumps, name))
        picks = [recs[i] for i in sorted({0, 1, 2, len(recs) // 2, len(recs) - 1})
                 if i < len(recs)]
        for i, (_, frame) in enumerate(picks):
            lt = LINKTYPES[n % len(LINKTYPES)] if i else 1
            data = relink(frame, lt) if lt != 1 else frame
            if data is None:
                lt, data = 1, frame
            put(out, "%s-%d-lt%d" % (name.split("__")[0], i, lt),
                bytes([LINKTYPES.index(lt), 0]) + data[:65000])
            n += 1


def pcapng_cut(path, blocks):
    """The first `blocks` blocks of a little-endian pcapng file."""
    with open(path, "rb") as f:
        d = f.read(1 << 20)
    off, parts = 0, []
    while off + 12 <= len(d) and len(parts) < blocks:
        ln = struct.unpack_from("<I", d, off + 4)[0]
        parts.append(d[off:off + ln])
        off += ln
    return b"".join(parts)


def seed_pcap(dumps, out):
    with open(os.path.join(dumps, TINY), "rb") as f:
        tiny = f.read()
    put(out, "tiny.pcap", tiny)
    put(out, "tiny-truncated.pcap", tiny[:len(tiny) * 2 // 3 + 5])
    put(out, "tiny-header-only.pcap", tiny[:24])
    for name in SMALL + MIXED[:2]:
        hdr, recs = read_pcap(os.path.join(dumps, name))
        small = pcap_bytes(hdr, recs[:60])
        put(out, name.split("__")[0] + "-60.pcap", small[:60000])
    put(out, "feishu-cut.pcapng",
        pcapng_cut(os.path.join(dumps, "feishu_meeting_video_send_shaped__vca-sense.pcapng"), 40))


def run(*args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)


def seed_model_trace(fm, dumps, out_model, out_trace, tmp):
    for name in SMALL[:2]:
        m = os.path.join(tmp, name + ".json")
        run(fm, "estimate", "-o", m, os.path.join(dumps, name))
        with open(m, "rb") as f:
            put(out_model, name.split("__")[0] + ".json", f.read())
    run(fm, "estimate", "--min-samples", "5", "-o", os.path.join(tmp, "tiny.json"),
        os.path.join(dumps, TINY))
    with open(os.path.join(tmp, "tiny.json"), "rb") as f:
        put(out_model, "tiny.json", f.read())
    with open(os.path.join(ROOT, "tests/data/agents/video-model.json"), "rb") as f:
        put(out_model, "video-model.json", f.read())

    for name, extra in ((TINY, []), (SMALL[0], ["--no-payload"])):
        t = os.path.join(tmp, name + ".trace.json")
        run(fm, "convert", "--flow", "0", *extra, os.path.join(dumps, name), t)
        with open(t) as f:
            doc = json.load(f)
        doc["packets"] = doc["packets"][:4]
        put(out_trace, name.split("__")[0] + ".json", json.dumps(doc, indent=1).encode())
    for path in glob.glob(os.path.join(ROOT, "tests/data/trace/*.json")):
        with open(path, "rb") as f:
            put(out_trace, os.path.basename(path), f.read())


VARIANTS = [
    {"format": "flowmimic.variants", "version": 1, "variants": [
        {"name": "ef-marked", "rationale": "expedited forwarding",
         "changes": {"dscp": 46, "ttl": 32, "src_port": 5004, "dst_port": 5006,
                     "rtp_payload_type": 100, "payload_scale": 1.5, "payload_shift": -20,
                     "rate_scale": 2}},
        {"name": "plain"},
        {"name": "nulls", "changes": {"dscp": None, "rate_scale": None}}]},
    {"format": "flowmimic.variants", "version": 1, "variants": [
        {"name": "tiny", "changes": {"payload_scale": 0.001, "payload_shift": 65507,
                                     "rate_scale": 1e-3}}]},
    {"format": "flowmimic.variants", "version": 2, "variants": []},
]


def seed_variants(out):
    for i, doc in enumerate(VARIANTS):
        put(out, "variants-%d.json" % i, json.dumps(doc, indent=1).encode())


def seed_llm(out):
    n = 0
    for path in sorted(glob.glob(os.path.join(ROOT, "tests/data/agents/*.json")) +
                       glob.glob(os.path.join(ROOT, "tests/data/llm/*.json"))):
        with open(path) as f:
            doc = json.load(f)
        for r in doc.get("replies", []) if isinstance(doc, dict) else []:
            c = r.get("content") if isinstance(r, dict) else None
            if isinstance(c, str) and c and len(c) < 60000:
                put(out, "reply-%03d" % n, bytes([n & 1]) + c.encode())
                n += 1
    for path in (os.path.join(ROOT, "prompts/video.json"),
                 os.path.join(ROOT, "tests/data/agents/prompts.json")):
        with open(path, "rb") as f:
            put(out, "prompts-" + os.path.basename(os.path.dirname(path)), b"\0" + f.read())
    put(out, "verdict-approve", b'\0{"verdict": "APPROVE", "problems": []}')
    put(out, "verdict-revise", b'\1```json\n{"verdict": "REVISE", "problems": ["ttl", "dscp"]}\n```')


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    fm, dumps, out = sys.argv[1:]
    with tempfile.TemporaryDirectory() as tmp:
        seed_model_trace(fm, dumps, os.path.join(out, "model"), os.path.join(out, "trace"), tmp)
    seed_variants(os.path.join(out, "variants"))
    seed_llm(os.path.join(out, "llm_reply"))
    seed_decode(dumps, os.path.join(out, "decode"))
    seed_pcap(dumps, os.path.join(out, "pcap"))
    for d in sorted(os.listdir(out)):
        files = os.listdir(os.path.join(out, d))
        size = sum(os.path.getsize(os.path.join(out, d, x)) for x in files)
        print("%-10s %3d files %8d bytes" % (d, len(files), size))


if __name__ == "__main__":
    main()
