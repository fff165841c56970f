#ifndef CCONNECTOR_POSTGRES_SHIM_H
#define CCONNECTOR_POSTGRES_SHIM_H
#include <libpq-fe.h>

/* libpq's diagnostic field codes are macros of character literals ('C', 'M', ...), which Swift
   imports as Int32 constants already; nothing else needs wrapping. The notice processor is set to
   this no-op so server notices ("relation already exists, skipping") never reach stderr: the host
   reports what matters itself. */
static void cconnector_postgres_ignore_notice(void *argument, const char *message) {
    (void)argument;
    (void)message;
}

static inline void cconnector_postgres_silence_notices(PGconn *connection) {
    PQsetNoticeProcessor(connection, cconnector_postgres_ignore_notice, (void *)0);
}
#endif
