/* cli/jw.h - a small streaming JSON writer for --json reports (indented, escaped).
 * Writes straight to a FILE; no allocation. Keys are given for members of objects and NULL
 * for elements of arrays. Nesting deeper than JW_MAX_DEPTH is a programmer error. */
#ifndef CLI_JW_H
#define CLI_JW_H

#include <stdio.h>

#define JW_MAX_DEPTH 16

struct jw {
    FILE *f;
    int depth;
    int count[JW_MAX_DEPTH]; /* members written at each level */
};

void jw_init(struct jw *w, FILE *f);
void jw_obj_begin(struct jw *w, const char *key);
void jw_obj_end(struct jw *w);
void jw_arr_begin(struct jw *w, const char *key);
void jw_arr_end(struct jw *w);
void jw_str(struct jw *w, const char *key, const char *v);
/* Finite numbers as %.17g trimmed to the shortest text that reads back the same; non-finite
 * as null (JSON has no NaN). */
void jw_num(struct jw *w, const char *key, double v);
void jw_int(struct jw *w, const char *key, long long v);
void jw_bool(struct jw *w, const char *key, int v);
void jw_null(struct jw *w, const char *key);
/* Ends the document with a newline. */
void jw_finish(struct jw *w);

#endif
