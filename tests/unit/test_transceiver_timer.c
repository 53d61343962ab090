/* tests/unit/test_transceiver_timer.c - the deadline timer on a fake clock: each mode reaches
 * the deadline exactly, sleeps are sliced so a stop is seen, hybrid sleeps then spins, a stop
 * ends any wait. The real clock gets a sanity check only: timing bounds belong to benchmarks. */
#include "tests/support/test_util.h"

#include <string.h>

#include "transceiver/timer.h"

/* A clock that moves only when told: sleep_until jumps to the target (plus an optional
 * overshoot, like a late wake-up), and each now() advances by step (0 for sleep tests, 1 ns
 * to let a spin loop progress). Sleep targets are recorded. */
struct fake {
    int64_t t;
    int64_t step;
    int64_t overshoot;
    unsigned sleeps;
    int64_t targets[256];
    int64_t max_slice; /* largest target - now seen by sleep_until */
    volatile sig_atomic_t *stop_after_sleeps;
    unsigned stop_at;
};

static int64_t fake_now(void *arg)
{
    struct fake *f = arg;
    f->t += f->step;
    return f->t;
}

static void fake_sleep_until(void *arg, int64_t deadline)
{
    struct fake *f = arg;
    if (deadline - f->t > f->max_slice)
        f->max_slice = deadline - f->t;
    if (f->sleeps < 256)
        f->targets[f->sleeps] = deadline;
    f->sleeps++;
    if (deadline > f->t)
        f->t = deadline + f->overshoot;
    if (f->stop_after_sleeps && f->sleeps >= f->stop_at)
        *f->stop_after_sleeps = 1;
}

static void fake_clock(struct fake *f, struct trx_clock *c)
{
    memset(f, 0, sizeof(*f));
    f->t = 1000000000LL;
    c->now = fake_now;
    c->sleep_until = fake_sleep_until;
    c->arg = f;
}

static void test_mode_parse(void **state)
{
    (void)state;
    enum trx_timer_mode m = TRX_TIMER_SPIN;
    struct fm_err err = {0};
    assert_int_equal(trx_timer_mode_parse("sleep", &m, &err), FM_OK);
    assert_int_equal(m, TRX_TIMER_SLEEP);
    assert_int_equal(trx_timer_mode_parse("spin", &m, &err), FM_OK);
    assert_int_equal(m, TRX_TIMER_SPIN);
    assert_int_equal(trx_timer_mode_parse("hybrid", &m, &err), FM_OK);
    assert_int_equal(m, TRX_TIMER_HYBRID);
    assert_int_equal(trx_timer_mode_parse("busy", &m, &err), FM_EINVAL);
    assert_non_null(strstr(err.msg, "busy"));
    assert_int_equal(m, TRX_TIMER_HYBRID); /* untouched on error */
}

static void test_sleep_exact_and_sliced(void **state)
{
    (void)state;
    struct fake f;
    struct trx_clock c;
    fake_clock(&f, &c);
    int64_t d = f.t + 1000000000LL; /* one second ahead */
    int64_t t = trx_timer_wait(&c, TRX_TIMER_SLEEP, d, 0, NULL);
    assert_int_equal(t, d);
    /* 50 ms slices: at least 20 sleeps, none longer than 50 ms. */
    assert_true(f.sleeps >= 20);
    assert_true(f.max_slice <= 50000000LL);
}

static void test_spin_never_sleeps(void **state)
{
    (void)state;
    struct fake f;
    struct trx_clock c;
    fake_clock(&f, &c);
    f.step = 1;
    int64_t d = f.t + 5000;
    int64_t t = trx_timer_wait(&c, TRX_TIMER_SPIN, d, 0, NULL);
    assert_int_equal(t, d);
    assert_int_equal(f.sleeps, 0);
}

static void test_hybrid_sleeps_then_spins(void **state)
{
    (void)state;
    struct fake f;
    struct trx_clock c;
    fake_clock(&f, &c);
    f.step = 1;
    int64_t d = f.t + 10000000LL; /* 10 ms */
    int64_t t = trx_timer_wait(&c, TRX_TIMER_HYBRID, d, 200000, NULL);
    assert_int_equal(t, d);
    assert_int_equal(f.sleeps, 1);
    assert_int_equal(f.targets[0], d - 200000);

    /* Closer than the spin stretch: no sleep at all. */
    fake_clock(&f, &c);
    f.step = 1;
    d = f.t + 100000;
    assert_int_equal(trx_timer_wait(&c, TRX_TIMER_HYBRID, d, 200000, NULL), d);
    assert_int_equal(f.sleeps, 0);
}

static void test_past_deadline_returns_now(void **state)
{
    (void)state;
    struct fake f;
    struct trx_clock c;
    enum trx_timer_mode modes[3] = {TRX_TIMER_SLEEP, TRX_TIMER_SPIN, TRX_TIMER_HYBRID};
    for (int i = 0; i < 3; i++) {
        fake_clock(&f, &c);
        int64_t now = f.t;
        assert_int_equal(trx_timer_wait(&c, modes[i], now - 5000, 200000, NULL), now);
        assert_int_equal(f.sleeps, 0);
    }
}

static void test_stop_ends_wait(void **state)
{
    (void)state;
    struct fake f;
    struct trx_clock c;
    volatile sig_atomic_t stop = 1;
    enum trx_timer_mode modes[3] = {TRX_TIMER_SLEEP, TRX_TIMER_SPIN, TRX_TIMER_HYBRID};
    for (int i = 0; i < 3; i++) {
        fake_clock(&f, &c);
        f.step = 1;
        int64_t d = f.t + 60 * 1000000000LL;
        assert_true(trx_timer_wait(&c, modes[i], d, 200000, &stop) < d);
    }
    /* A stop raised during a long sleep is seen at the next slice. */
    stop = 0;
    fake_clock(&f, &c);
    f.stop_after_sleeps = &stop;
    f.stop_at = 3;
    int64_t d = f.t + 60 * 1000000000LL;
    assert_true(trx_timer_wait(&c, TRX_TIMER_SLEEP, d, 0, &stop) < d);
    assert_int_equal(f.sleeps, 3);
}

static void test_late_wakeup_is_reported(void **state)
{
    (void)state;
    struct fake f;
    struct trx_clock c;
    fake_clock(&f, &c);
    f.overshoot = 7000;
    int64_t d = f.t + 1000000;
    assert_int_equal(trx_timer_wait(&c, TRX_TIMER_SLEEP, d, 0, NULL), d + 7000);
}

static void test_real_clock_sanity(void **state)
{
    (void)state;
    struct trx_clock c;
    trx_clock_real(&c);
    assert_int_equal(trx_timer_setup(0, NULL), FM_OK);
    int64_t a = c.now(c.arg);
    int64_t b = c.now(c.arg);
    assert_true(b >= a);
    enum trx_timer_mode modes[3] = {TRX_TIMER_SLEEP, TRX_TIMER_SPIN, TRX_TIMER_HYBRID};
    for (int i = 0; i < 3; i++) {
        int64_t d = c.now(c.arg) + 1000000; /* 1 ms */
        assert_true(trx_timer_wait(&c, modes[i], d, 200000, NULL) >= d);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mode_parse),
        cmocka_unit_test(test_sleep_exact_and_sliced),
        cmocka_unit_test(test_spin_never_sleeps),
        cmocka_unit_test(test_hybrid_sleeps_then_spins),
        cmocka_unit_test(test_past_deadline_returns_now),
        cmocka_unit_test(test_stop_ends_wait),
        cmocka_unit_test(test_late_wakeup_is_reported),
        cmocka_unit_test(test_real_clock_sanity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
