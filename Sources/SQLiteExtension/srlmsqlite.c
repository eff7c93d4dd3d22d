// srlm_text(hash) / srlm_blob(hash): the text (or bytes) of a store blob, read from its zstd pack.
// hash is the 32-byte SHA-256 or its 64-character hex. Packs carry zstd's content checksum, so a corrupt pack is an
// error, never wrong text; srlm's own reads and `srlm fsck` also check each blob's SHA-256.
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1
#include <stdlib.h>
#include <string.h>
#include <zstd.h>
#include "srlmsqlite.h"

#define PACK_CACHE 4
#define DICT_CACHE 8

typedef struct {
    sqlite3_int64 id;
    unsigned char *data;
    size_t size;
    unsigned long long stamp;
} CachedPack;

// Statements are prepared per use, not cached: plain sqlite3 closes with sqlite3_close(), which refuses to close a
// connection that still has prepared statements (functions are destroyed only after that check).
typedef struct {
    sqlite3 *db;
    ZSTD_DCtx *dctx;
    CachedPack packs[PACK_CACHE];
    sqlite3_int64 dict_ids[DICT_CACHE];
    ZSTD_DDict *dicts[DICT_CACHE];
    unsigned long long clock;
} Reader;

static void reader_free(void *p) {
    Reader *r = (Reader *)p;
    if (!r) return;
    for (int i = 0; i < PACK_CACHE; i++) free(r->packs[i].data);
    for (int i = 0; i < DICT_CACHE; i++) ZSTD_freeDDict(r->dicts[i]);
    ZSTD_freeDCtx(r->dctx);
    sqlite3_free(r);
}

static int prepare(Reader *r, sqlite3_stmt **stmt, const char *sql) {
    return sqlite3_prepare_v2(r->db, sql, -1, stmt, NULL);
}

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Accepts a 32-byte blob or 64 hex characters; returns 0 on success.
static int read_hash(sqlite3_value *v, unsigned char out[32]) {
    if (sqlite3_value_type(v) == SQLITE_BLOB && sqlite3_value_bytes(v) == 32) {
        memcpy(out, sqlite3_value_blob(v), 32);
        return 0;
    }
    if (sqlite3_value_type(v) == SQLITE_TEXT && sqlite3_value_bytes(v) == 64) {
        const unsigned char *t = sqlite3_value_text(v);
        for (int i = 0; i < 32; i++) {
            int hi = hexval(t[2 * i]), lo = hexval(t[2 * i + 1]);
            if (hi < 0 || lo < 0) return 1;
            out[i] = (unsigned char)(hi * 16 + lo);
        }
        return 0;
    }
    return 1;
}

static ZSTD_DDict *dictionary(Reader *r, sqlite3_int64 dict_id, char **err) {
    for (int i = 0; i < DICT_CACHE; i++)
        if (r->dicts[i] && r->dict_ids[i] == dict_id) return r->dicts[i];
    sqlite3_stmt *find_dict = NULL;
    if (prepare(r, &find_dict, "SELECT data FROM zstd_dict WHERE id = ?1") != SQLITE_OK) {
        *err = sqlite3_mprintf("srlm_text: %s", sqlite3_errmsg(r->db));
        return NULL;
    }
    sqlite3_bind_int64(find_dict, 1, dict_id);
    ZSTD_DDict *dict = NULL;
    if (sqlite3_step(find_dict) == SQLITE_ROW)
        dict = ZSTD_createDDict(sqlite3_column_blob(find_dict, 0), (size_t)sqlite3_column_bytes(find_dict, 0));
    sqlite3_finalize(find_dict);
    if (!dict) {
        *err = sqlite3_mprintf("srlm_text: zstd dictionary %lld is missing", dict_id);
        return NULL;
    }
    int slot = (int)(dict_id % DICT_CACHE);
    ZSTD_freeDDict(r->dicts[slot]);
    r->dicts[slot] = dict;
    r->dict_ids[slot] = dict_id;
    return dict;
}

static CachedPack *pack(Reader *r, sqlite3_int64 pack_id, char **err) {
    CachedPack *victim = &r->packs[0];
    for (int i = 0; i < PACK_CACHE; i++) {
        if (r->packs[i].data && r->packs[i].id == pack_id) {
            r->packs[i].stamp = ++r->clock;
            return &r->packs[i];
        }
        if (r->packs[i].stamp < victim->stamp) victim = &r->packs[i];
    }
    sqlite3_stmt *find_pack = NULL;
    if (prepare(r, &find_pack, "SELECT dict_id, raw_size, data FROM blob_pack WHERE id = ?1") != SQLITE_OK) {
        *err = sqlite3_mprintf("srlm_text: %s", sqlite3_errmsg(r->db));
        return NULL;
    }
    sqlite3_bind_int64(find_pack, 1, pack_id);
    if (sqlite3_step(find_pack) != SQLITE_ROW) {
        sqlite3_finalize(find_pack);
        *err = sqlite3_mprintf("srlm_text: blob pack %lld is missing", pack_id);
        return NULL;
    }
    int has_dict = sqlite3_column_type(find_pack, 0) != SQLITE_NULL;
    sqlite3_int64 dict_id = sqlite3_column_int64(find_pack, 0);
    size_t raw_size = (size_t)sqlite3_column_int64(find_pack, 1);
    const void *src = sqlite3_column_blob(find_pack, 2);
    size_t src_size = (size_t)sqlite3_column_bytes(find_pack, 2);
    unsigned char *out = malloc(raw_size ? raw_size : 1);
    size_t got = 0;
    if (!out) { sqlite3_finalize(find_pack); *err = sqlite3_mprintf("srlm_text: out of memory"); return NULL; }
    if (has_dict) {
        ZSTD_DDict *dict = dictionary(r, dict_id, err);
        if (!dict) { free(out); sqlite3_finalize(find_pack); return NULL; }
        got = ZSTD_decompress_usingDDict(r->dctx, out, raw_size, src, src_size, dict);
    } else {
        got = ZSTD_decompressDCtx(r->dctx, out, raw_size, src, src_size);
    }
    sqlite3_finalize(find_pack);
    if (ZSTD_isError(got) || got != raw_size) {
        free(out);
        *err = sqlite3_mprintf("srlm_text: blob pack %lld is corrupt (%s)", pack_id,
                               ZSTD_isError(got) ? ZSTD_getErrorName(got) : "size mismatch");
        return NULL;
    }
    free(victim->data);
    victim->id = pack_id;
    victim->data = out;
    victim->size = raw_size;
    victim->stamp = ++r->clock;
    return victim;
}

static void blob_function(sqlite3_context *ctx, int argc, sqlite3_value **argv, int as_text) {
    (void)argc;
    Reader *r = (Reader *)sqlite3_user_data(ctx);
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) { sqlite3_result_null(ctx); return; }
    unsigned char hash[32];
    if (read_hash(argv[0], hash)) {
        sqlite3_result_error(ctx, "srlm_text: argument is not a 32-byte blob hash or 64 hex characters", -1);
        return;
    }
    sqlite3_stmt *find_blob = NULL;
    if (prepare(r, &find_blob, "SELECT pack_id, offset, size FROM blob WHERE hash = ?1") != SQLITE_OK) {
        char *m = sqlite3_mprintf("srlm_text: %s (is this an srlm store?)", sqlite3_errmsg(r->db));
        sqlite3_result_error(ctx, m, -1);
        sqlite3_free(m);
        return;
    }
    sqlite3_bind_blob(find_blob, 1, hash, 32, SQLITE_STATIC);
    if (sqlite3_step(find_blob) != SQLITE_ROW) {
        sqlite3_finalize(find_blob);
        sqlite3_result_error(ctx, "srlm_text: no such blob", -1);
        return;
    }
    sqlite3_int64 pack_id = sqlite3_column_int64(find_blob, 0);
    size_t offset = (size_t)sqlite3_column_int64(find_blob, 1);
    size_t size = (size_t)sqlite3_column_int64(find_blob, 2);
    sqlite3_finalize(find_blob);
    char *err = NULL;
    CachedPack *p = pack(r, pack_id, &err);
    if (!p) { sqlite3_result_error(ctx, err, -1); sqlite3_free(err); return; }
    if (offset + size > p->size) {
        sqlite3_result_error(ctx, "srlm_text: blob lies outside its pack", -1);
        return;
    }
    if (as_text)
        sqlite3_result_text(ctx, (const char *)p->data + offset, (int)size, SQLITE_TRANSIENT);
    else
        sqlite3_result_blob(ctx, p->data + offset, (int)size, SQLITE_TRANSIENT);
}

static void srlm_text(sqlite3_context *ctx, int argc, sqlite3_value **argv) { blob_function(ctx, argc, argv, 1); }
static void srlm_blob(sqlite3_context *ctx, int argc, sqlite3_value **argv) { blob_function(ctx, argc, argv, 0); }

#ifdef _WIN32
__declspec(dllexport)
#endif
int sqlite3_srlmsqlite_init(sqlite3 *db, char **error, const sqlite3_api_routines *api) {
    SQLITE_EXTENSION_INIT2(api);
    Reader *r = sqlite3_malloc(sizeof(Reader));
    if (!r) return SQLITE_NOMEM;
    memset(r, 0, sizeof(Reader));
    r->db = db;
    r->dctx = ZSTD_createDCtx();
    // Each function owns a reference to the shared reader; srlm_blob's destructor frees it.
    int rc = sqlite3_create_function_v2(db, "srlm_text", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, r,
                                        srlm_text, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function_v2(db, "srlm_blob", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, r,
                                        srlm_blob, NULL, NULL, reader_free);
    if (rc != SQLITE_OK && error) *error = sqlite3_mprintf("srlmsqlite: %s", sqlite3_errmsg(db));
    return rc;
}
