#ifndef CCONNECTOR_SQLITE_SHIM_H
#define CCONNECTOR_SQLITE_SHIM_H
#include <sqlite3.h>

/* Swift cannot import the SQLITE_TRANSIENT / SQLITE_STATIC macros (they cast integers to
   function pointers), so they are exposed as functions. */
static inline sqlite3_destructor_type cconnector_sqlite_transient(void) { return SQLITE_TRANSIENT; }
static inline sqlite3_destructor_type cconnector_sqlite_static(void) { return SQLITE_STATIC; }

/* sqlite3_db_config is variadic; Swift cannot call it directly. */
static inline int cconnector_sqlite_enable_defensive(sqlite3 *db) {
    return sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)0);
}

/* sqlite3_config is variadic too. Memory statistics make every SQLite allocation take a global
   mutex; the host never reads them. Effective only before SQLite initialises (else SQLITE_MISUSE,
   harmless). */
static inline int cconnector_sqlite_disable_memory_statistics(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
#endif
