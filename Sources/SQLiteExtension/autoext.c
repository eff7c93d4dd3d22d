// Kept apart from srlmsqlite.c: this file calls SQLite directly, that one through the extension API table.
#include <sqlite3.h>
#include "srlmsqlite.h"

int srlm_sqlite_register_auto_extension(void) {
    return sqlite3_auto_extension((void (*)(void))sqlite3_srlmsqlite_init);
}
