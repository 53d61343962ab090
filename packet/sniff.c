/* packet/sniff.c - what an input file holds. */
#include "packet/sniff.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

enum pkt_input pkt_sniff_bytes(const uint8_t *b, size_t n)
{
    if (n >= 4) {
        /* pcap in both byte orders, micro- and nanosecond; pcapng's section header block. */
        static const uint8_t magics[][4] = {
            {0xa1, 0xb2, 0xc3, 0xd4}, {0xd4, 0xc3, 0xb2, 0xa1}, {0xa1, 0xb2, 0x3c, 0x4d},
            {0x4d, 0x3c, 0xb2, 0xa1}, {0x0a, 0x0d, 0x0d, 0x0a},
        };
        for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++)
            if (memcmp(b, magics[i], 4) == 0)
                return PKT_INPUT_CAPTURE;
    }
    size_t i = 0;
    /* A UTF-8 byte order mark is not JSON, but editors write one. */
    if (n >= 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf)
        i = 3;
    while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r'))
        i++;
    if (i < n && b[i] == '{')
        return PKT_INPUT_JSON_OBJECT;
    if (i < n && b[i] == '[')
        return PKT_INPUT_JSON_ARRAY;
    return PKT_INPUT_UNKNOWN;
}

int pkt_input_rereadable(const char *path)
{
    struct stat st;
    return strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int pkt_sniff(const char *path, enum pkt_input *kind, struct fm_err *err)
{
    struct stat st;
    *kind = PKT_INPUT_UNKNOWN;
    if (strcmp(path, "-") == 0) {
        *kind = PKT_INPUT_CAPTURE;
        return FM_OK;
    }
    if (stat(path, &st) != 0)
        return fm_err_errno(err, FM_EIO, errno, "cannot open '%s'", path);
    if (S_ISDIR(st.st_mode))
        return fm_err_errno(err, FM_EIO, EISDIR, "cannot open '%s'", path);
    if (!S_ISREG(st.st_mode)) {
        *kind = PKT_INPUT_CAPTURE;
        return FM_OK;
    }
    FILE *f = fopen(path, "rb");
    if (!f)
        return fm_err_errno(err, FM_EIO, errno, "cannot open '%s'", path);
    uint8_t head[512];
    size_t n = fread(head, 1, sizeof(head), f);
    int bad = ferror(f);
    fclose(f);
    if (bad)
        return fm_err_set(err, FM_EIO, "cannot read '%s'", path);
    if (n == 0)
        return fm_err_set(err, FM_EFORMAT, "'%s' is empty", path);
    *kind = pkt_sniff_bytes(head, n);
    return FM_OK;
}
