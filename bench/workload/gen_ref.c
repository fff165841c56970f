/* gen_ref.c - reference output of workload W: N rows as compact JSON lines.
 *
 * Uses workload_w.h (a byte-identical copy of /work/shared/bench/workload_w.h) and
 * prints the same format as workload_w.py: keys in column order, no spaces,
 * doubles in the shortest form that reads back to the same double, with ".0"
 * added to integral values (Python's repr style). check_ports.sh compares the
 * parsed values, so only the float values, not their spelling, must agree.
 *
 * Build: cc -O2 -o gen_ref gen_ref.c     Run: ./gen_ref [N]   (default 1000000) */
#include <stdlib.h>
#include "workload_w.h"

/* Shortest %.*g without an exponent that strtod reads back to exactly v
 * (like Python's repr for the values generated here: 0 <= v < 1e5, never below 1e-4). */
static void put_double(FILE *out, double v) {
    char buf[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strchr(buf, 'e') == NULL && strtod(buf, NULL) == v) break;
    }
    fputs(buf, out);
    if (strpbrk(buf, ".eEn") == NULL) fputs(".0", out); /* n: nan/inf, never generated */
}

int main(int argc, char **argv) {
    long long n = argc > 1 ? atoll(argv[1]) : 1000000LL;
    static char obuf[1 << 16];
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    gen_init(42);
    row_t row;
    for (long long i = 1; i <= n; i++) {
        gen_row(i, &row);
        printf("{\"id\":%lld,\"name\":\"%s\",\"email\":\"%s\",\"amount\":", (long long)row.id, row.name,
               row.email);
        put_double(stdout, row.amount);
        printf(",\"count\":%lld,\"active\":%s,\"created_at\":\"%s\",\"category\":\"%s\",\"score\":",
               (long long)row.count, row.active ? "true" : "false", row.created_at, row.category);
        put_double(stdout, row.score);
        printf(",\"note\":\"%s\"}\n", row.note);
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
