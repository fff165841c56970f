#include "CConnectorPostgres.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

/* Every libpq function the host calls: name, return type, parameters, arguments. Adding a call to
   another libpq function means adding its line here (the link fails until then). */
#define CCONNECTOR_LIBPQ_FUNCTIONS(X)                                                                            \
    X(PQconnectdbParams, PGconn *, (const char *const *keywords, const char *const *values, int expand),       \
      (keywords, values, expand))                                                                              \
    X(PQstatus, ConnStatusType, (const PGconn *conn), (conn))                                                  \
    X(PQfinish, void, (PGconn *conn), (conn))                                                                  \
    X(PQerrorMessage, char *, (const PGconn *conn), (conn))                                                    \
    X(PQserverVersion, int, (const PGconn *conn), (conn))                                                      \
    X(PQbackendPID, int, (const PGconn *conn), (conn))                                                         \
    X(PQtransactionStatus, PGTransactionStatusType, (const PGconn *conn), (conn))                              \
    X(PQsetNoticeProcessor, PQnoticeProcessor, (PGconn *conn, PQnoticeProcessor proc, void *arg),              \
      (conn, proc, arg))                                                                                       \
    X(PQexec, PGresult *, (PGconn *conn, const char *query), (conn, query))                                    \
    X(PQexecParams, PGresult *,                                                                                \
      (PGconn *conn, const char *command, int count, const Oid *types, const char *const *values,              \
       const int *lengths, const int *formats, int resultFormat),                                              \
      (conn, command, count, types, values, lengths, formats, resultFormat))                                   \
    X(PQprepare, PGresult *, (PGconn *conn, const char *name, const char *query, int count, const Oid *types), \
      (conn, name, query, count, types))                                                                       \
    X(PQexecPrepared, PGresult *,                                                                              \
      (PGconn *conn, const char *name, int count, const char *const *values, const int *lengths,               \
       const int *formats, int resultFormat),                                                                  \
      (conn, name, count, values, lengths, formats, resultFormat))                                             \
    X(PQgetResult, PGresult *, (PGconn *conn), (conn))                                                         \
    X(PQputCopyData, int, (PGconn *conn, const char *buffer, int count), (conn, buffer, count))                \
    X(PQputCopyEnd, int, (PGconn *conn, const char *message), (conn, message))                                 \
    X(PQresultStatus, ExecStatusType, (const PGresult *result), (result))                                      \
    X(PQresultErrorMessage, char *, (const PGresult *result), (result))                                        \
    X(PQresultErrorField, char *, (const PGresult *result, int code), (result, code))                          \
    X(PQclear, void, (PGresult *result), (result))                                                             \
    X(PQntuples, int, (const PGresult *result), (result))                                                      \
    X(PQnfields, int, (const PGresult *result), (result))                                                      \
    X(PQftype, Oid, (const PGresult *result, int field), (result, field))                                      \
    X(PQgetvalue, char *, (const PGresult *result, int row, int field), (result, row, field))                  \
    X(PQgetisnull, int, (const PGresult *result, int row, int field), (result, row, field))                    \
    X(PQcmdTuples, char *, (PGresult *result), (result))

/* The resolved functions. */
#define CCONNECTOR_LIBPQ_POINTER(name, result, parameters, arguments) static result(*pointer_##name) parameters;
CCONNECTOR_LIBPQ_FUNCTIONS(CCONNECTOR_LIBPQ_POINTER)

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static const char *load_error = "libpq was not loaded";
static char load_message[512];

static void load_libpq(void) {
    /* RTLD_LOCAL: libpq's symbols stay out of the global namespace; each is taken from its handle. */
    void *handle = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        snprintf(load_message, sizeof load_message,
                 "the PostgreSQL client library libpq.so.5 cannot be loaded (%s); install it (Debian: apt install libpq5)",
                 dlerror());
        load_error = load_message;
        return;
    }
#define CCONNECTOR_LIBPQ_RESOLVE(name, result, parameters, arguments)                                               \
    pointer_##name = (result(*) parameters)dlsym(handle, #name);                                                     \
    if (pointer_##name == NULL) {                                                                                    \
        snprintf(load_message, sizeof load_message,                                                                  \
                 "the PostgreSQL client library libpq.so.5 has no %s: it is older than connector-host needs (9.6 or later)", \
                 #name);                                                                                             \
        load_error = load_message;                                                                                   \
        return;                                                                                                      \
    }
    CCONNECTOR_LIBPQ_FUNCTIONS(CCONNECTOR_LIBPQ_RESOLVE)
    load_error = NULL;
}

const char *cconnector_postgres_load(void) {
    pthread_once(&load_once, load_libpq);
    return load_error;
}

/* libpq's functions, forwarding to the library (callers have checked cconnector_postgres_load). */
#define CCONNECTOR_LIBPQ_FORWARD(name, result, parameters, arguments) \
    result name parameters { return pointer_##name arguments; }
CCONNECTOR_LIBPQ_FUNCTIONS(CCONNECTOR_LIBPQ_FORWARD)

static void ignore_notice(void *argument, const char *message) {
    (void)argument;
    (void)message;
}

void cconnector_postgres_silence_notices(PGconn *connection) { PQsetNoticeProcessor(connection, ignore_notice, NULL); }
