/*-------------------------------------------------------------------------
 *
 * idsess.h
 *		What every idsess source file shares: PostgreSQL's base header,
 *		the limits on identifiers and idsess's own SQLSTATE.
 *
 * Each part of idsess has a header of its own, named for its file.  The
 * files form layers, in this order, and each calls only files listed
 * before it (scripts/check-layers checks the built objects for circles):
 *
 *	 1. settings, crypto, spi, scan, validate, arrays, version, logfilter,
 *		tenant (which tenants the calling role administers),
 *		failures (seal and open failures counted in shared memory),
 *		activity (the strength of a sign-in, the client's IP, agent and
 *		device as the privacy settings allow)
 *	 2. envelope: seals or opens bytes under a key it is given
 *	 3. keyring: the data keys, wrapped under the master key
 *	 4. ticket: sealing and opening tickets with the key ring, compression,
 *		putting an opened ticket into a result row
 *	 5. shmem, tenant_stats (tenants' event counts in a shared table),
 *		stats (whose counters live in shmem's slots and tenant_stats)
 *	 6. session_end (children, outbox, tombstones, counts); session_rows
 *		(a live session's row, result sets of sessions)
 *	 7. limit, expire, lookup, search_index
 *	 8. the SQL-callable files: store, clients, query, revoke, keys
 *	 9. worker, and idsess.c (_PG_init)
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDSESS_H
#define IDSESS_H

#include "postgres.h"
#include "compat.h"

/* Limits on identifiers, in characters (Duende allows 100 for most). */
#define IDSESS_MAX_ID_CHARS			200
#define IDSESS_MAX_URI_CHARS		1000

/* A save or create of a revoked session's key. */
#define IDSESS_ERRCODE_REVOKED	MAKE_SQLSTATE('I','S','R','V','K')

#endif							/* IDSESS_H */
