// SPDX-License-Identifier: MIT
#include "calcache.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar_json.h"
#include "civil.h"

/* Open-addressed table of keys -> compiled calendar index; a compiled
 * calendar can be reached by several keys (raw text and canonical text). */
struct key {
    uint64_t hash;
    char *text; /* NULL when the slot is empty */
    size_t len;
    size_t cal;   /* index into cals */
    uint64_t gen; /* generation of cals[cal] the key was made for */
};

struct compiled {
    struct kw_cal *cal;
    uint64_t gen;
};

struct kw_cal_cache {
    struct kw_tzdb *db;
    size_t max, next; /* cals is a ring of max entries */
    struct compiled *cals;
    uint64_t gen;
    size_t nkeys, cap; /* power of two */
    struct key *keys;
    size_t compiles;
};

static uint64_t hash_bytes(const char *s, size_t len)
{
    /* FNV-1a: keys are compared in full, so the hash only spreads them. */
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

struct kw_cal_cache *kw_cal_cache_new(struct kw_tzdb *db, size_t max_entries)
{
    struct kw_cal_cache *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->db = db;
    c->max = max_entries ? max_entries : 1;
    c->cap = 64;
    c->cals = calloc(c->max, sizeof(*c->cals));
    c->keys = calloc(c->cap, sizeof(*c->keys));
    if (!c->cals || !c->keys) {
        kw_cal_cache_free(c);
        return NULL;
    }
    return c;
}

void kw_cal_cache_free(struct kw_cal_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; c->keys && i < c->cap; i++)
        free(c->keys[i].text);
    for (size_t i = 0; c->cals && i < c->max; i++)
        kw_cal_free(c->cals[i].cal);
    free(c->keys);
    free(c->cals);
    free(c);
}

size_t kw_cal_cache_compiles(const struct kw_cal_cache *c)
{
    return c->compiles;
}

static struct key *slot(struct kw_cal_cache *c, uint64_t h, const char *text, size_t len)
{
    for (size_t i = h & (c->cap - 1);; i = (i + 1) & (c->cap - 1)) {
        struct key *k = &c->keys[i];
        if (!k->text || (k->hash == h && k->len == len && memcmp(k->text, text, len) == 0))
            return k;
    }
}

static const struct kw_cal *lookup(struct kw_cal_cache *c, const char *text, size_t len)
{
    struct key *k = slot(c, hash_bytes(text, len), text, len);
    if (!k->text || c->cals[k->cal].gen != k->gen || !c->cals[k->cal].cal)
        return NULL; /* absent, or its calendar was evicted */
    return c->cals[k->cal].cal;
}

static bool grow(struct kw_cal_cache *c)
{
    size_t cap = c->cap * 2;
    struct key *old = c->keys, *keys = calloc(cap, sizeof(*keys));
    if (!keys)
        return false;
    size_t oldcap = c->cap;
    c->keys = keys;
    c->cap = cap;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].text)
            *slot(c, old[i].hash, old[i].text, old[i].len) = old[i];
    free(old);
    return true;
}

/* Map text to calendar index idx; best effort (a failed insert only costs a
 * later recompile). */
static void remember(struct kw_cal_cache *c, const char *text, size_t len, size_t idx)
{
    if (c->nkeys >= 16 * c->max + 64) {
        /* Many spellings of few calendars: forget the keys, keep the
         * calendars; a forgotten spelling costs one decode, not a compile
         * (its canonical key is remembered again first). */
        for (size_t i = 0; i < c->cap; i++) {
            free(c->keys[i].text);
            c->keys[i].text = NULL;
        }
        c->nkeys = 0;
    }
    if ((c->nkeys + 1) * 2 > c->cap && !grow(c))
        return;
    uint64_t h = hash_bytes(text, len);
    struct key *k = slot(c, h, text, len);
    if (!k->text) {
        k->text = malloc(len ? len : 1);
        if (!k->text)
            return;
        memcpy(k->text, text, len);
        k->hash = h;
        k->len = len;
        c->nkeys++;
    }
    k->cal = idx;
    k->gen = c->cals[idx].gen;
}

struct kw_cal *kw_cal_compile(struct kw_tzdb *db, const struct kw_cal_spec *spec,
                              struct kw_err *err)
{
    struct kw_tzinfo tz;
    if (kw_tzdb_get(db, spec->tz, &tz, err) != KW_OK)
        return NULL;
    return kw_cal_new(spec, &tz, kw_days_from_civil(KW_CAL_MIN_YEAR, 1, 1) * KW_DAY,
                      kw_days_from_civil(KW_CAL_MAX_YEAR, 1, 1) * KW_DAY, err);
}

/* Decode, canonicalise and compile obj; remember it under the raw text too. */
static const struct kw_cal *miss(struct kw_cal_cache *c, json_t *obj, const char *raw,
                                 size_t rawlen, struct kw_err *err)
{
    struct kw_cal_spec spec;
    const struct kw_cal *found = NULL;
    char *canon = NULL;
    json_t *cj = NULL;

    if (kw_cal_spec_from_json(obj, &spec, err) != KW_OK)
        return NULL;
    cj = kw_cal_spec_to_json(&spec);
    canon = cj ? json_dumps(cj, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (!canon) {
        kw_err_set(err, KW_NOMEM, NULL, "no memory to cache a calendar");
        goto out;
    }
    size_t clen = strlen(canon);
    found = lookup(c, canon, clen);
    if (!found) {
        struct kw_cal *cal = kw_cal_compile(c->db, &spec, err);
        if (!cal)
            goto out;
        c->compiles++;
        size_t idx = c->next;
        c->next = (c->next + 1) % c->max;
        kw_cal_free(c->cals[idx].cal);
        c->cals[idx] = (struct compiled){cal, ++c->gen};
        remember(c, canon, clen, idx);
        found = cal;
    }
    if (raw) {
        /* Find the index of found to key the raw text to it as well. */
        for (size_t i = 0; i < c->max; i++)
            if (c->cals[i].cal == found)
                remember(c, raw, rawlen, i);
    }
out:
    free(canon);
    json_decref(cj);
    kw_cal_spec_release(&spec);
    return found;
}

const struct kw_cal *kw_cal_cache_text(struct kw_cal_cache *c, const char *text, size_t len,
                                       struct kw_err *err)
{
    const struct kw_cal *cal = lookup(c, text, len);
    if (cal)
        return cal;
    json_error_t jerr;
    json_t *obj = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!obj) {
        kw_err_set(err, KW_INVALID, "", "calendar is not valid JSON: %s", jerr.text);
        return NULL;
    }
    cal = miss(c, obj, text, len, err);
    json_decref(obj);
    return cal;
}

const struct kw_cal *kw_cal_cache_json(struct kw_cal_cache *c, json_t *obj, struct kw_err *err)
{
    char *text = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text) {
        kw_err_set(err, KW_INVALID, "", "a calendar must be a JSON object");
        return NULL;
    }
    const struct kw_cal *cal = lookup(c, text, strlen(text));
    if (!cal)
        cal = miss(c, obj, text, strlen(text), err);
    free(text);
    return cal;
}

enum kw_code kw_policy_compile(struct kw_tzdb *db, const struct kw_policy *p, struct kw_cal **cals,
                               struct kw_err *err)
{
    size_t n = kw_policy_calendar_count(p);
    for (size_t i = 0; i < n; i++) {
        const struct kw_cal_spec *spec = kw_policy_calendar_spec(p, i);
        if (!spec)
            kw_err_set(err, KW_INVALID, "",
                       "names the stored calendar \"%.60s\", which only a server with its "
                       "database can read (embed the calendar to use it here)",
                       kw_policy_calendar_ref(p, i));
        cals[i] = spec ? kw_cal_compile(db, spec, err) : NULL;
        if (!cals[i]) {
            char ptr[96], path[96];
            snprintf(ptr, sizeof(ptr), "/calendars/%.40s", kw_policy_calendar_name(p, i));
            snprintf(path, sizeof(path), "calendars.%.40s", kw_policy_calendar_name(p, i));
            kw_err_locate(err, ptr, path);
            while (i > 0)
                kw_cal_free(cals[--i]);
            return err ? err->code : KW_INVALID;
        }
    }
    return KW_OK;
}
