/* trace/trace.h - JSON packet traces: a list of packets, readable by people and by LLMs.
 * The format is written down in docs/trace.md:
 *   { "format": "flowmimic.trace", "version": 1,
 *     "packets": [ { "ts_sec": 1700000000, "ts_nsec": 20000000, "proto": "udp",
 *                    "src": "198.18.0.1", "src_port": 5004,
 *                    "dst": "198.18.0.2", "dst_port": 5006,
 *                    "ttl": 64, "dscp": 46,
 *                    "payload_length": 1200,           (or "payload": "hex...", or both)
 *                    "udp_length": 1208,               (optional; UDP header + payload)
 *                    "rtp": { "version": 2, "payload_type": 96, "marker": false,
 *                             "seq": 1, "timestamp": 90000, "ssrc": 305419896 },
 *                    "tcp": { "flags": "SA", "seq": 1, "ack": 1, "window": 65535 } } ] }
 * A bare array of packets is read too. Timestamps are two integers so that nanoseconds
 * survive a round trip (a JSON number holds only 53 bits). Loading names the packet index
 * and the field of anything missing, of the wrong type, unknown or out of range. */
#ifndef TRACE_TRACE_H
#define TRACE_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define TRC_TRACE_FORMAT  "flowmimic.trace"
#define TRC_TRACE_VERSION 1

/* TCP flag bits, as in the TCP header's flags byte. */
#define TRC_TCP_FIN 0x01
#define TRC_TCP_SYN 0x02
#define TRC_TCP_RST 0x04
#define TRC_TCP_PSH 0x08
#define TRC_TCP_ACK 0x10
#define TRC_TCP_URG 0x20
#define TRC_TCP_ECE 0x40
#define TRC_TCP_CWR 0x80

struct trc_rtp {
    uint8_t version;
    uint8_t payload_type;
    uint8_t marker;
    uint16_t seq;
    uint32_t timestamp;
    uint32_t ssrc;
};

struct trc_tcp {
    uint8_t flags; /* TRC_TCP_* */
    uint32_t seq;
    uint32_t ack;
    uint16_t window;
};

struct trc_pkt {
    int64_t ts_sec;
    uint32_t ts_nsec;   /* 0..999999999 */
    uint8_t proto;      /* 17 (UDP) or 6 (TCP) */
    uint8_t family;     /* 4 or 6 */
    uint8_t src_ip[16]; /* IPv4 in the first 4 bytes */
    uint8_t dst_ip[16];
    uint16_t src_port;
    uint16_t dst_port;
    int ttl;                 /* 0..255, or -1 when absent */
    int dscp;                /* 0..63, or -1 when absent */
    uint32_t payload_length; /* bytes after the UDP/TCP header (and including RTP) */
    uint8_t *payload;        /* payload_length bytes, or NULL when only the length is known */
    long udp_length;         /* the UDP length field, or -1 when absent (UDP only) */
    int has_rtp;
    struct trc_rtp rtp;
    int has_tcp; /* set for TCP packets */
    struct trc_tcp tcp;
};

struct trc_trace {
    struct trc_pkt *pkts; /* owned, with every payload */
    size_t n;
    size_t cap;
};

void trc_trace_init(struct trc_trace *t);
/* Frees the packets and their payloads; t may then be reused after trc_trace_init. */
void trc_trace_fini(struct trc_trace *t);

/* Append a copy of p (its payload is copied too). FM_ENOMEM on failure. */
FM_MUST_CHECK int
trc_trace_append(struct trc_trace *t, const struct trc_pkt *p, struct fm_err *err);

/* Read a trace from text; what names it in messages ("trace.json"). On failure t is left
 * empty and err names the packet index and field: "trace.json: packet 3: dst_port: 70000 is
 * out of range 0..65535". */
FM_MUST_CHECK int trc_trace_parse(
    const char *text, size_t len, const char *what, struct trc_trace *t, struct fm_err *err);
/* The same from a file: FM_EIO when it cannot be read, FM_EFORMAT for bad content. */
FM_MUST_CHECK int trc_trace_load(const char *path, struct trc_trace *t, struct fm_err *err);

/* Write a trace as JSON text (malloc'd, NUL-terminated) or to a file, atomically. Every field
 * that is present in a packet is written, so load(save(t)) == t. */
FM_MUST_CHECK int trc_trace_print(const struct trc_trace *t, char **out, struct fm_err *err);
FM_MUST_CHECK int trc_trace_save(const char *path, const struct trc_trace *t, struct fm_err *err);

/* Address text <-> bytes for a family (4 or 6): FM_EINVAL naming the text when bad. */
FM_MUST_CHECK int
trc_addr_parse(const char *s, uint8_t *family, uint8_t ip[16], struct fm_err *err);
void trc_addr_format(uint8_t family, const uint8_t ip[16], char *buf, size_t len);

#endif
