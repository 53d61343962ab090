/* cli/interval.c - interval reports for long runs (replay, receive). */
#include "cli/interval.h"

#include <stdlib.h>
#include <string.h>

#include "common/num.h"

#define NS_PER_SEC 1000000000LL

void cli_interval_init(struct cli_interval *iv, int64_t every_ns, FILE *text, int keep)
{
    memset(iv, 0, sizeof(*iv));
    iv->every_ns = every_ns;
    iv->text = text;
    iv->keep = keep;
}

void cli_interval_fini(struct cli_interval *iv)
{
    free(iv->recs);
    iv->recs = NULL;
    iv->n = iv->cap = 0;
}

static double rec_mbps(const struct cli_interval_rec *r)
{
    double secs = r->end_s - r->start_s;
    return secs > 0 ? (double)r->bytes * 8.0 / secs / 1e6 : 0.0;
}

static void
print_line(struct cli_interval *iv, const struct cli_interval_rec *r, int has_late, int has_loss)
{
    if (!iv->text)
        return;
    if (iv->closed == 0) { /* the header goes before the first line */
        fprintf(iv->text, "%-17s %10s %12s %10s", "interval", "packets", "bytes", "Mbit/s");
        if (has_late)
            fprintf(iv->text, " %8s %12s", "late", "worst_us");
        if (has_loss)
            fprintf(iv->text, " %8s %10s", "lost", "jitter_ms");
        fputc('\n', iv->text);
    }
    char span[32];
    snprintf(span, sizeof(span), "%.1f-%.1f s", r->start_s, r->end_s);
    fprintf(iv->text, "%-17s %10llu %12llu %10.3f", span, (unsigned long long)r->packets,
            (unsigned long long)r->bytes, rec_mbps(r));
    if (has_late)
        fprintf(iv->text, " %8llu %12.1f", (unsigned long long)r->late,
                (double)r->late_max_ns / 1e3);
    if (has_loss)
        fprintf(iv->text, " %8llu %10.3f", (unsigned long long)r->lost, r->jitter_ms);
    fputc('\n', iv->text);
    fflush(iv->text);
}

/* Close the interval ending at end_ns with the totals t. */
static void
close_interval(struct cli_interval *iv, int64_t end_ns, const struct cli_interval_totals *t)
{
    struct cli_interval_rec r;
    memset(&r, 0, sizeof(r));
    r.start_s = (double)iv->prev.elapsed_ns / (double)NS_PER_SEC;
    r.end_s = (double)end_ns / (double)NS_PER_SEC;
    r.packets = t->packets - iv->prev.packets;
    r.bytes = t->bytes - iv->prev.bytes;
    r.late = t->late - iv->prev.late;
    r.late_max_ns = iv->late_max_ns;
    r.lost = t->lost > iv->prev.lost ? t->lost - iv->prev.lost : 0;
    r.jitter_ms = t->jitter_ms;
    print_line(iv, &r, t->has_late, t->has_loss);
    iv->closed++;
    if (iv->keep) {
        if (iv->n == iv->cap) {
            size_t cap = iv->cap ? iv->cap * 2 : 64;
            struct cli_interval_rec *p = realloc(iv->recs, cap * sizeof(*p));
            if (!p) {
                iv->oom = 1;
                goto done;
            }
            iv->recs = p;
            iv->cap = cap;
        }
        iv->recs[iv->n++] = r;
    }
done:
    iv->prev = *t;
    iv->prev.elapsed_ns = end_ns;
    iv->late_max_ns = 0;
}

void cli_interval_tick(struct cli_interval *iv, const struct cli_interval_totals *t)
{
    if (iv->every_ns <= 0)
        return;
    if (t->late_max_ns > iv->late_max_ns)
        iv->late_max_ns = t->late_max_ns;
    /* Every boundary passed since the last tick closes an interval; the totals are those
     * seen now, so what happened between the boundary and this tick lands in the interval
     * that ends at the boundary: at most one tick's worth (about a second) of blur. */
    int64_t end = iv->prev.elapsed_ns - iv->prev.elapsed_ns % iv->every_ns + iv->every_ns;
    while (t->elapsed_ns >= end) {
        close_interval(iv, end, t);
        end += iv->every_ns;
    }
}

void cli_interval_finish(struct cli_interval *iv, const struct cli_interval_totals *t)
{
    if (iv->every_ns <= 0)
        return;
    cli_interval_tick(iv, t);
    if (t->elapsed_ns > iv->prev.elapsed_ns && (t->packets > iv->prev.packets || !iv->closed))
        close_interval(iv, t->elapsed_ns, t);
}

void cli_interval_json(const struct cli_interval *iv, struct jw *w)
{
    if (iv->every_ns <= 0)
        return;
    jw_num(w, "interval_s", (double)iv->every_ns / (double)NS_PER_SEC);
    jw_arr_begin(w, "intervals");
    for (size_t i = 0; i < iv->n; i++) {
        const struct cli_interval_rec *r = &iv->recs[i];
        jw_obj_begin(w, NULL);
        jw_num(w, "start_s", r->start_s);
        jw_num(w, "end_s", r->end_s);
        jw_int(w, "packets", (long long)r->packets);
        jw_int(w, "bytes", (long long)r->bytes);
        jw_num(w, "mbps", rec_mbps(r));
        if (iv->prev.has_late) {
            jw_int(w, "late", (long long)r->late);
            jw_num(w, "late_max_us", (double)r->late_max_ns / 1e3);
        }
        if (iv->prev.has_loss) {
            jw_int(w, "lost", (long long)r->lost);
            jw_num(w, "jitter_ms", r->jitter_ms);
        }
        jw_obj_end(w);
    }
    jw_arr_end(w);
    if (iv->oom)
        jw_str(w, "intervals_note", "out of memory: later intervals are missing");
}

int cli_interval_parse(const char *arg, const char *what, int64_t *out_ns, struct fm_err *err)
{
    double s = 0;
    if (fm_parse_duration(arg, 0.1, 3600, what, &s, err) < 0)
        return FM_EINVAL;
    *out_ns = (int64_t)(s * 1e9);
    return FM_OK;
}
