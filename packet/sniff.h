/* packet/sniff.h - what an input file holds, told by its first bytes: a capture (pcap in
 * either byte order and resolution, pcapng) or JSON (a model, a variant file, a trace). One
 * rule for inputs that cannot be looked at without consuming them ("-", a pipe, a <(...)
 * substitution, a device): they are captures, to be streamed by the capture reader, as
 * `tcpdump -w - | flowmimic ...` expects. A command that must read its input twice says so
 * for those itself. */
#ifndef PACKET_SNIFF_H
#define PACKET_SNIFF_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

enum pkt_input {
    PKT_INPUT_UNKNOWN = 0,
    PKT_INPUT_CAPTURE,     /* pcap or pcapng; or not a regular file (the rule above) */
    PKT_INPUT_JSON_OBJECT, /* '{' after blanks (and a UTF-8 byte order mark) */
    PKT_INPUT_JSON_ARRAY   /* '[' likewise */
};

/* The kind of the n bytes at b. */
enum pkt_input pkt_sniff_bytes(const uint8_t *b, size_t n);

/* The kind of path: FM_OK with *kind (PKT_INPUT_UNKNOWN when the bytes say nothing we
 * know), FM_EIO (cannot open or read it, a directory), FM_EFORMAT (an empty file). */
FM_MUST_CHECK int pkt_sniff(const char *path, enum pkt_input *kind, struct fm_err *err);

/* 1 when path can be read more than once (a regular file), 0 otherwise ("-", a pipe). */
FM_MUST_CHECK int pkt_input_rereadable(const char *path);

#endif
