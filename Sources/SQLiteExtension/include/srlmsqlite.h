#pragma once
// srlm's SQL functions over the store's packed zstd blobs. One implementation serves srlm itself (registered on
// every connection through sqlite3_auto_extension) and plain sqlite3 (`.load libsrlmsqlite`).
#include <sqlite3.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Entry point SQLite derives from the file name libsrlmsqlite.so.
int sqlite3_srlmsqlite_init(sqlite3 *db, char **error, const struct sqlite3_api_routines *api);

/// Drops the packs and dictionaries cached for this connection. srlm calls it after a rollback that had written
/// packs: their ids are free again, and a later pack may reuse them.
void srlm_sqlite_forget(sqlite3 *db);

#ifdef __cplusplus
}
#endif
