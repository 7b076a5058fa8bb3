// SPDX-License-Identifier: MIT
/* make bench: the signed Merkle log (docs/receipts.md). Appends
 * BENCH_LOG_LEAVES leaves (default 10,000,000) to a fresh SQLite store in
 * transactions of 100,000, then times inclusion proofs of random leaves at
 * that size (read from the store, target p99 <= 1 ms), their verification,
 * a consistency proof, and the offline checks of a receipt of 10 events.
 * Prints numbers and ratios to the targets; asserts nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "chain.h"
#include "merkle.h"
#include "note.h"
#include "store.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(double *v, size_t n, double p)
{
    size_t k = (size_t)(p * (double)n);
    return v[k < n ? k : n - 1];
}

#define PROOFS 10000

int main(void)
{
    const char *env = getenv("BENCH_LOG_LEAVES");
    uint64_t leaves = env ? strtoull(env, NULL, 10) : 10000000ull;
    char dir[] = "/tmp/kwbench-log-XXXXXX", path[64];
    if (!mkdtemp(dir))
        return perror("mkdtemp"), 1;
    snprintf(path, sizeof(path), "%s/log.db", dir);
    struct kw_err err = {0};
    struct kw_store *st = kw_store_open(path, &err);
    if (!st)
        return fprintf(stderr, "open: %s\n", err.msg), 1;
    uint64_t rng = 42;
    double t0 = now_s();
    for (uint64_t i = 0; i < leaves; i++) {
        if (i % 100000 == 0 && (i ? kw_store_commit(st, &err) : KW_OK) != KW_OK)
            return fprintf(stderr, "commit: %s\n", err.msg), 1;
        if (i % 100000 == 0 && kw_store_begin(st, &err) != KW_OK)
            return fprintf(stderr, "begin: %s\n", err.msg), 1;
        uint64_t d[4] = {splitmix64(&rng), splitmix64(&rng), splitmix64(&rng), i};
        if (kw_store_log_append(st, "audit", d, sizeof(d), &err) != KW_OK)
            return fprintf(stderr, "append: %s\n", err.msg), 1;
    }
    if (kw_store_commit(st, &err) != KW_OK)
        return fprintf(stderr, "commit: %s\n", err.msg), 1;
    double fill = now_s() - t0;
    printf("log: %llu leaves appended in %.1f s (%.1f us a leaf, in transactions of 100,000)\n",
           (unsigned long long)leaves, fill, fill / (double)leaves * 1e6);

    unsigned char root[32], path_[KW_MERKLE_MAX_PROOF][32];
    size_t n;
    if (kw_store_log_root(st, leaves, root, &err) != KW_OK)
        return fprintf(stderr, "root: %s\n", err.msg), 1;
    static double prove[PROOFS], check[PROOFS];
    for (int i = 0; i < PROOFS; i++) {
        uint64_t leaf = splitmix64(&rng) % leaves;
        struct kw_log_leaf lf;
        unsigned char h[32];
        double a = now_s();
        if (kw_store_log_inclusion(st, leaf, leaves, path_, &n, &err) != KW_OK ||
            kw_store_log_leaf(st, leaf, &lf, &err) != KW_OK)
            return fprintf(stderr, "proof: %s\n", err.msg), 1;
        double b = now_s();
        kw_merkle_leaf(lf.data, lf.data_len, h);
        bool ok = kw_merkle_verify_inclusion(leaf, leaves, h, (const void *)path_, n, root);
        double c = now_s();
        if (!ok)
            return fprintf(stderr, "leaf %llu: proof does not verify\n", (unsigned long long)leaf),
                   1;
        prove[i] = (b - a) * 1e3;
        check[i] = (c - b) * 1e3;
    }
    qsort(prove, PROOFS, sizeof(double), cmp_double);
    qsort(check, PROOFS, sizeof(double), cmp_double);
    printf("log: inclusion proof at %llu leaves (from the store): p50 %.3f ms, p99 %.3f ms "
           "(target p99 <= 1 ms: %.2fx)\n",
           (unsigned long long)leaves, pct(prove, PROOFS, 0.5), pct(prove, PROOFS, 0.99),
           pct(prove, PROOFS, 0.99) / 1.0);
    printf("log: verifying it: p50 %.4f ms, p99 %.4f ms\n", pct(check, PROOFS, 0.5),
           pct(check, PROOFS, 0.99));
    double a = now_s();
    for (int i = 0; i < 1000; i++) {
        uint64_t from = 1 + splitmix64(&rng) % leaves;
        if (kw_store_log_consistency(st, from, leaves, path_, &n, &err) != KW_OK)
            return fprintf(stderr, "consistency: %s\n", err.msg), 1;
    }
    printf("log: consistency proof at %llu leaves: %.3f ms each (mean of 1,000)\n",
           (unsigned long long)leaves, (now_s() - a));

    /* the offline checks of a receipt of 10 events: each event's chain
     * hash, its inclusion proof, and the checkpoint's signature */
    unsigned char pub[32], sec[64];
    struct kw_note_key key;
    struct kw_buf text = {0}, note = {0};
    kw_ed25519_keypair(pub, sec, NULL);
    kw_note_key_make(&key, "keepword/bench", pub, NULL);
    struct kw_checkpoint cp = {.origin = "keepword/bench", .size = leaves};
    memcpy(cp.root, root, 32);
    kw_checkpoint_text(&text, &cp);
    kw_note_sign(&note, text.p, text.len, &key, sec, NULL);
    unsigned char prev[32] = {0}, hash[32], lh[32];
    a = now_s();
    int rounds = 1000;
    for (int r = 0; r < rounds; r++) {
        size_t tl;
        struct kw_checkpoint back;
        if (kw_note_open(note.p, note.len, &key, &tl, NULL) != KW_OK ||
            kw_checkpoint_parse(note.p, tl, &back, NULL) != KW_OK)
            return 1;
        for (int e = 0; e < 10; e++) {
            kw_event_hash(prev, 7, e + 1, 1772413200 + e, "comment", 3,
                          "{\"internal\":false,\"text\":\"a reply of a typical length\"}", hash);
            kw_merkle_leaf(hash, 32, lh);
            (void)kw_merkle_verify_inclusion(0, leaves, lh, (const void *)path_, n, root);
        }
    }
    printf("log: a receipt of 10 events checked offline in %.3f ms\n",
           (now_s() - a) / rounds * 1e3);
    kw_buf_release(&text);
    kw_buf_release(&note);
    kw_store_close(st);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return 0;
}
