// Calls SQLite directly (srlm links it); the extension itself goes through the API table the loader passes.
#include <sqlite3.h>
#include "srlmsqlite.h"
#include "srlmautoext.h"

int srlm_sqlite_register_auto_extension(void) {
    return sqlite3_auto_extension((void (*)(void))sqlite3_srlmsqlite_init);
}
