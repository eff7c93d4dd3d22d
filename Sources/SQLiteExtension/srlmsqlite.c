// srlm_text(id) / srlm_blob(id) / srlm_blob_key(id): a store blob's text, bytes, or the first 8 bytes of its
// SHA-256, read from its zstd pack (schema/001_store.sql: blob ids are consecutive, a pack holds a range of them).
// Packs carry zstd's content checksum, so a corrupt pack is an error, never wrong text; srlm's own reads and
// `srlm fsck` also check each blob's SHA-256 against its key.
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/mman.h>
#include <zstd.h>
#include "srlmsqlite.h"

// Decoded packs are kept per connection, least recently used first out, within a byte budget (srlm_cache_limit):
// reads that jump between packs (a text repeated from an older pack, random rows, a view joined out of row order)
// decode each pack once instead of once per jump. srlm_cache_stats() reports what the cache holds and did.
#define PACK_SLOTS 256
#define DICT_CACHE 8
#define DEFAULT_CACHE_BYTES ((size_t)128 << 20)

typedef struct {
    sqlite3_int64 first;        // the pack's id: its first blob id
    sqlite3_int64 count;
    unsigned char *data;        // decompressed bytes
    size_t size;
    size_t *offsets;            // count + 1 prefix sums of the blob sizes
    unsigned char *keys;        // count * 8 bytes
    unsigned long long stamp;
} CachedPack;

// Statements are prepared per pack miss, not kept: plain sqlite3 closes with sqlite3_close(), which refuses to close a
// connection that still has prepared statements (functions are destroyed only after that check). Reads in id order
// hit the pack cache, so a prepare happens about once per pack.
typedef struct {
    sqlite3 *db;
    ZSTD_DCtx *dctx;
    CachedPack packs[PACK_SLOTS];
    int used;                   // packs[0 ..< used] hold data
    int last;                   // the slot the last read hit: reads in id order stay in one pack
    size_t bytes, limit;        // decoded bytes held (with offsets and keys), and the budget
    sqlite3_int64 hits, misses, decoded;
    sqlite3_int64 dict_ids[DICT_CACHE];
    ZSTD_DDict *dicts[DICT_CACHE];
    unsigned long long clock;
    unsigned int data_version;  // the file's change counter when blob_epoch was last read
    int version_known;
    sqlite3_int64 epoch;        // store_state.blob_epoch the cached packs were decoded under
} Reader;

// Readers by connection, so srlm_sqlite_forget() can reach one from outside a function call.
typedef struct Registered { Reader *reader; struct Registered *next; } Registered;
static Registered *registry = NULL;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;

// A pack's decoded bytes. A large buffer is fresh memory from mmap: its pages are mapped in one call
// (MADV_POPULATE_WRITE, Linux 5.14+; ignored elsewhere) instead of one fault each as zstd writes them, which was a
// tenth of a full scan over compacted 32 MB frames.
static unsigned char *decoded_buffer(size_t n) {
    unsigned char *p = malloc(n ? n : 1);
#ifdef MADV_POPULATE_WRITE
    const size_t page = 4096;
    if (p && n >= ((size_t)1 << 20)) {
        uintptr_t start = ((uintptr_t)p + page - 1) & ~(uintptr_t)(page - 1);
        uintptr_t end = ((uintptr_t)p + n) & ~(uintptr_t)(page - 1);
        if (end > start) madvise((void *)start, end - start, MADV_POPULATE_WRITE);
    }
#endif
    return p;
}

static size_t pack_bytes(const CachedPack *c) { return c->size + sizeof(size_t) * (size_t)(c->count + 1) + 8 * (size_t)c->count; }

static void drop_pack(Reader *r, int slot) {
    CachedPack *c = &r->packs[slot];
    r->bytes -= pack_bytes(c);
    free(c->data); free(c->offsets); free(c->keys);
    r->packs[slot] = r->packs[--r->used];
    memset(&r->packs[r->used], 0, sizeof(CachedPack));
    r->last = 0;
}

// Evicts least recently used packs until `incoming` more bytes fit the budget (or nothing is left to evict).
static void make_room(Reader *r, size_t incoming) {
    while (r->used > 0 && (r->used == PACK_SLOTS || r->bytes + incoming > r->limit)) {
        int oldest = 0;
        for (int i = 1; i < r->used; i++) if (r->packs[i].stamp < r->packs[oldest].stamp) oldest = i;
        drop_pack(r, oldest);
    }
}

static void forget(Reader *r) {
    while (r->used > 0) drop_pack(r, r->used - 1);
    for (int i = 0; i < DICT_CACHE; i++) { ZSTD_freeDDict(r->dicts[i]); r->dicts[i] = NULL; r->dict_ids[i] = 0; }
}

void srlm_sqlite_forget(sqlite3 *db) {
    pthread_mutex_lock(&registry_lock);
    for (Registered *e = registry; e; e = e->next)
        if (e->reader->db == db) forget(e->reader);
    pthread_mutex_unlock(&registry_lock);
}

static void reader_free(void *p) {
    Reader *r = (Reader *)p;
    if (!r) return;
    pthread_mutex_lock(&registry_lock);
    for (Registered **e = &registry; *e; e = &(*e)->next) {
        if ((*e)->reader == r) { Registered *gone = *e; *e = gone->next; free(gone); break; }
    }
    pthread_mutex_unlock(&registry_lock);
    forget(r);
    ZSTD_freeDCtx(r->dctx);
    sqlite3_free(r);
}

static int prepare(Reader *r, sqlite3_stmt **stmt, const char *sql) {
    return sqlite3_prepare_v2(r->db, sql, -1, stmt, NULL);
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

// Reads unsigned LEB128 sizes into prefix sums; returns 0 when they are well formed and add up to raw_size.
static int decode_sizes(const unsigned char *p, size_t n, sqlite3_int64 count, size_t raw_size, size_t *offsets) {
    size_t at = 0, total = 0;
    offsets[0] = 0;
    for (sqlite3_int64 i = 0; i < count; i++) {
        size_t v = 0;
        int shift = 0;
        for (;;) {
            if (at >= n || shift > 56) return 1;
            unsigned char b = p[at++];
            v |= (size_t)(b & 0x7f) << shift;
            if (!(b & 0x80)) break;
            shift += 7;
        }
        total += v;
        offsets[i + 1] = total;
    }
    return at == n && total == raw_size ? 0 : 1;
}

// `srlm gc` turns removed blobs into holes and bumps store_state.blob_epoch: a connection that decoded a pack before
// must not serve a removed blob from memory (a writer deduplicating against it would point a row at a hole). The
// file's change counter is a field read, so the epoch is queried only after some connection committed. A store
// from before migration 011 has no epoch: 0.
static void check_epoch(Reader *r) {
    unsigned int version = 0;
    if (sqlite3_file_control(r->db, "main", SQLITE_FCNTL_DATA_VERSION, &version) != SQLITE_OK) return;
    if (r->version_known && version == r->data_version) return;
    r->data_version = version;
    r->version_known = 1;
    sqlite3_int64 epoch = 0;
    sqlite3_stmt *read = NULL;
    if (prepare(r, &read, "SELECT value FROM store_state WHERE key = 'blob_epoch'") == SQLITE_OK && sqlite3_step(read) == SQLITE_ROW)
        epoch = sqlite3_column_int64(read, 0);
    sqlite3_finalize(read);
    if (epoch != r->epoch) { forget(r); r->epoch = epoch; }
}

// The cached pack holding blob `id`, decompressed on a miss.
static CachedPack *pack(Reader *r, sqlite3_int64 id, char **err) {
    check_epoch(r);
    for (int n = 0; n <= r->used; n++) {
        int i = n == 0 ? r->last : n - 1;
        CachedPack *c = &r->packs[i];
        if (i < r->used && id >= c->first && id < c->first + c->count) {
            c->stamp = ++r->clock;
            r->last = i;
            r->hits++;
            return c;
        }
    }
    sqlite3_stmt *find = NULL;
    if (prepare(r, &find, "SELECT id, count, dict_id, raw_size, sizes, keys, data FROM blob_pack "
                          "WHERE id <= ?1 ORDER BY id DESC LIMIT 1") != SQLITE_OK) {
        *err = sqlite3_mprintf("srlm_text: %s (is this an srlm store?)", sqlite3_errmsg(r->db));
        return NULL;
    }
    sqlite3_bind_int64(find, 1, id);
    if (sqlite3_step(find) != SQLITE_ROW || id >= sqlite3_column_int64(find, 0) + sqlite3_column_int64(find, 1)) {
        sqlite3_finalize(find);
        *err = sqlite3_mprintf("srlm_text: no blob %lld in this store", id);
        return NULL;
    }
    sqlite3_int64 first = sqlite3_column_int64(find, 0), count = sqlite3_column_int64(find, 1);
    int has_dict = sqlite3_column_type(find, 2) != SQLITE_NULL;
    sqlite3_int64 dict_id = sqlite3_column_int64(find, 2);
    size_t raw_size = (size_t)sqlite3_column_int64(find, 3);
    const unsigned char *sizes = sqlite3_column_blob(find, 4);
    size_t sizes_n = (size_t)sqlite3_column_bytes(find, 4);
    const unsigned char *keys = sqlite3_column_blob(find, 5);
    size_t keys_n = (size_t)sqlite3_column_bytes(find, 5);
    const void *src = sqlite3_column_blob(find, 6);
    size_t src_size = (size_t)sqlite3_column_bytes(find, 6);
    unsigned char *out = decoded_buffer(raw_size);
    size_t *offsets = malloc(sizeof(size_t) * (size_t)(count + 1));
    unsigned char *key_copy = malloc(keys_n ? keys_n : 1);
    const char *problem = NULL;
    if (!out || !offsets || !key_copy) problem = "out of memory";
    else if (keys_n != (size_t)count * 8) problem = "keys do not match its blob count";
    else if (decode_sizes(sizes, sizes_n, count, raw_size, offsets)) problem = "sizes do not match its bytes";
    size_t got = 0;
    if (!problem) {
        memcpy(key_copy, keys, keys_n);
        if (has_dict) {
            ZSTD_DDict *dict = dictionary(r, dict_id, err);
            if (!dict) { free(out); free(offsets); free(key_copy); sqlite3_finalize(find); return NULL; }
            got = ZSTD_decompress_usingDDict(r->dctx, out, raw_size, src, src_size, dict);
        } else {
            got = ZSTD_decompressDCtx(r->dctx, out, raw_size, src, src_size);
        }
        if (ZSTD_isError(got)) problem = ZSTD_getErrorName(got);
        else if (got != raw_size) problem = "size mismatch";
    }
    if (problem) {
        *err = sqlite3_mprintf("srlm_text: blob pack %lld is corrupt (%s)", first, problem);
        free(out); free(offsets); free(key_copy);
        sqlite3_finalize(find);
        return NULL;
    }
    sqlite3_finalize(find);
    CachedPack fresh = {first, count, out, raw_size, offsets, key_copy, ++r->clock};
    make_room(r, pack_bytes(&fresh));
    int slot = r->used++;
    r->packs[slot] = fresh;
    r->bytes += pack_bytes(&fresh);
    r->last = slot;
    r->misses++;
    r->decoded += (sqlite3_int64)raw_size;
    return &r->packs[slot];
}

// srlm_cache_limit(bytes): sets this connection's decode cache budget (0 keeps only the pack in use) and returns
// the previous one; srlm_cache_limit() returns the budget. srlm_cache_stats(): the cache as JSON.
static void srlm_cache_limit(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    Reader *r = (Reader *)sqlite3_user_data(ctx);
    sqlite3_int64 previous = (sqlite3_int64)r->limit;
    if (argc == 1) {
        if (sqlite3_value_numeric_type(argv[0]) != SQLITE_INTEGER || sqlite3_value_int64(argv[0]) < 0) {
            sqlite3_result_error(ctx, "srlm_cache_limit: the budget is a number of bytes (0 or more)", -1);
            return;
        }
        r->limit = (size_t)sqlite3_value_int64(argv[0]);
        make_room(r, 0);
    }
    sqlite3_result_int64(ctx, previous);
}

static void srlm_cache_stats(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc; (void)argv;
    Reader *r = (Reader *)sqlite3_user_data(ctx);
    char *json = sqlite3_mprintf("{\"packs\":%d,\"bytes\":%lld,\"limit\":%lld,\"hits\":%lld,\"misses\":%lld,"
                                 "\"decoded_bytes\":%lld}", r->used, (sqlite3_int64)r->bytes, (sqlite3_int64)r->limit,
                                 r->hits, r->misses, r->decoded);
    if (!json) { sqlite3_result_error_nomem(ctx); return; }
    sqlite3_result_text(ctx, json, -1, sqlite3_free);
}

enum Part { BYTES, TEXT, KEY };

static void blob_function(sqlite3_context *ctx, sqlite3_value **argv, enum Part part) {
    Reader *r = (Reader *)sqlite3_user_data(ctx);
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) { sqlite3_result_null(ctx); return; }
    if (sqlite3_value_numeric_type(argv[0]) != SQLITE_INTEGER) {
        sqlite3_result_error(ctx, "srlm_text: argument is not a blob id (an integer)", -1);
        return;
    }
    sqlite3_int64 id = sqlite3_value_int64(argv[0]);
    char *err = NULL;
    CachedPack *p = pack(r, id, &err);
    if (!p) { sqlite3_result_error(ctx, err, -1); sqlite3_free(err); return; }
    sqlite3_int64 i = id - p->first;
    const unsigned char *start = p->data + p->offsets[i];
    int size = (int)(p->offsets[i + 1] - p->offsets[i]);
    switch (part) {
    case TEXT: sqlite3_result_text(ctx, (const char *)start, size, SQLITE_TRANSIENT); break;
    case BYTES: sqlite3_result_blob(ctx, start, size, SQLITE_TRANSIENT); break;
    case KEY: sqlite3_result_blob(ctx, p->keys + 8 * i, 8, SQLITE_TRANSIENT); break;
    }
}

static void srlm_text(sqlite3_context *ctx, int argc, sqlite3_value **argv) { (void)argc; blob_function(ctx, argv, TEXT); }
static void srlm_blob(sqlite3_context *ctx, int argc, sqlite3_value **argv) { (void)argc; blob_function(ctx, argv, BYTES); }
static void srlm_blob_key(sqlite3_context *ctx, int argc, sqlite3_value **argv) { (void)argc; blob_function(ctx, argv, KEY); }

// srlm_nul_visible(text) / srlm_json_nul_visible(json): a NUL inside a text shown as U+2400 (␀), in raw text or
// as a JSON \u0000 escape (json_extract would return it, and SQLite's length(), LIKE, GLOB and replace() all stop
// at a NUL, so view filters would see only the text before it).
static const char VISIBLE_NUL[] = "\xE2\x90\x80";

static void nul_visible(sqlite3_context *ctx, int argc, sqlite3_value **argv, int json) {
    (void)argc;
    if (sqlite3_value_type(argv[0]) != SQLITE_TEXT) { sqlite3_result_value(ctx, argv[0]); return; }
    const unsigned char *in = sqlite3_value_text(argv[0]);
    int n = sqlite3_value_bytes(argv[0]);
    int found = 0;
    for (int i = 0; i < n && !found; i++) found = json ? in[i] == '\\' : in[i] == 0;
    if (!found) { sqlite3_result_value(ctx, argv[0]); return; }
    // Each NUL byte (1 → 3 bytes) or "\u0000" escape (6 → 6 bytes) grows by at most 2 bytes.
    unsigned char *out = sqlite3_malloc64((sqlite3_uint64)n * 3 + 1);
    if (!out) { sqlite3_result_error_nomem(ctx); return; }
    int o = 0;
    for (int i = 0; i < n; i++) {
        if (!json && in[i] == 0) { memcpy(out + o, VISIBLE_NUL, 3); o += 3; continue; }
        if (json && in[i] == '\\') {
            if (i + 5 < n && memcmp(in + i + 1, "u0000", 5) == 0) { memcpy(out + o, "\\u2400", 6); o += 6; i += 5; continue; }
            // Any other escape is copied whole, so the backslash of "\\u0000" is never read as an escape's start.
            out[o++] = in[i];
            if (i + 1 < n) out[o++] = in[++i];
            continue;
        }
        out[o++] = in[i];
    }
    sqlite3_result_text(ctx, (const char *)out, o, sqlite3_free);
}

static void srlm_nul_visible(sqlite3_context *ctx, int argc, sqlite3_value **argv) { nul_visible(ctx, argc, argv, 0); }
static void srlm_json_nul_visible(sqlite3_context *ctx, int argc, sqlite3_value **argv) { nul_visible(ctx, argc, argv, 1); }

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
    r->limit = DEFAULT_CACHE_BYTES;
    Registered *entry = malloc(sizeof(Registered));
    if (!entry) { ZSTD_freeDCtx(r->dctx); sqlite3_free(r); return SQLITE_NOMEM; }
    pthread_mutex_lock(&registry_lock);
    entry->reader = r;
    entry->next = registry;
    registry = entry;
    pthread_mutex_unlock(&registry_lock);
    // Each function owns a reference to the shared reader; srlm_blob's destructor frees it.
    int rc = sqlite3_create_function_v2(db, "srlm_text", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, r,
                                        srlm_text, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function_v2(db, "srlm_blob_key", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, r,
                                        srlm_blob_key, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function_v2(db, "srlm_cache_limit", 0, SQLITE_UTF8, r, srlm_cache_limit, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function_v2(db, "srlm_cache_limit", 1, SQLITE_UTF8, r, srlm_cache_limit, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function_v2(db, "srlm_cache_stats", 0, SQLITE_UTF8, r, srlm_cache_stats, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function_v2(db, "srlm_nul_visible", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                                        srlm_nul_visible, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function_v2(db, "srlm_json_nul_visible", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                                        srlm_json_nul_visible, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function_v2(db, "srlm_blob", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, r,
                                        srlm_blob, NULL, NULL, reader_free);
    if (rc != SQLITE_OK && error) *error = sqlite3_mprintf("srlmsqlite: %s", sqlite3_errmsg(db));
    return rc;
}
