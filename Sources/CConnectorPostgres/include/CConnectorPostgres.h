#ifndef CCONNECTOR_POSTGRES_H
#define CCONNECTOR_POSTGRES_H
/* libpq's API, loaded on first use rather than linked: linking libpq maps it and its ~40 shared
   objects (OpenSSL, Kerberos, LDAP, ...) into every run of connector-host, which costs startup time
   and resident memory even when the destination is SQLite. libpq_loader.c defines the functions
   the host calls with libpq's own names and signatures, each forwarding to libpq.so.5 opened with
   dlopen the first time ``cconnector_postgres_load`` runs. */
#include <postgresql/libpq-fe.h>

/* Opens libpq.so.5 and resolves every function the host uses, once per process (thread-safe).
   Returns NULL when libpq is ready, else a message saying what is missing (static storage). Call
   it before any other function of this module. */
const char *cconnector_postgres_load(void);

/* Sets a notice processor that drops server notices ("relation already exists, skipping"), so they
   never reach stderr: the host reports what matters itself. */
void cconnector_postgres_silence_notices(PGconn *connection);
#endif
