#pragma once
// Registration of srlm's SQL functions on every connection srlm itself opens. Kept out of the loadable extension
// (libsrlmsqlite.so), which must not name any SQLite symbol: a host with SQLite linked in statically has none to give.
#ifdef __cplusplus
extern "C" {
#endif

/// Registers the functions on every connection this process opens from now on. Idempotent.
int srlm_sqlite_register_auto_extension(void);

#ifdef __cplusplus
}
#endif
