/*-------------------------------------------------------------------------
 *
 * session_end.h
 *		Ending sessions: children, outbox, tombstones, counts (session_end.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDSESS_SESSION_END_H
#define IDSESS_SESSION_END_H

#include "idsess.h"
#include "shmem.h"
#include "version.h"

/*
 * Sessions whose rows a statement just deleted, to end.  ids, and the
 * arrays given, are parallel, n long.  Each ending is counted as `event`.
 * With to_outbox, each session that had clients or SAML sessions gets a
 * back-channel logout row with its cause, subject, sid and issuer (NULL
 * subject_nulls, issuer_nulls: none are NULL); without, the caller reads
 * them from the SPI result and delivers them itself.  client_filter (a
 * text[], or 0) limits the clients and SAML entities returned.  With
 * keys, each key gets a tombstone until its `untils` (a NULL until: for
 * good): the session was revoked.  tenants (with tenant_nulls; NULL: no
 * session has one) count each ending in its tenant's history and name the
 * tenant in the outbox and the tombstones (a 1.2 schema).
 */
typedef struct IdsessEnding
{
	IdsessApi	schema;			/* of the database: 1.0 has no issuer or sids */
	int			n;
	int64	   *ids;
	IdsessEvent event;
	bool		to_outbox;
	const char *cause;			/* the outbox cause of every row, or NULL: causes */
	Datum	   *causes;
	Datum	   *subjects;
	bool	   *subject_nulls;
	Datum	   *sids;
	Datum	   *issuers;
	bool	   *issuer_nulls;
	Datum		client_filter;
	Datum	   *keys;			/* revoked: tombstones for these keys */
	Datum	   *untils;
	bool	   *until_nulls;
	Datum	   *tenants;
	bool	   *tenant_nulls;
} IdsessEnding;

extern int	idsess_end_sessions(const IdsessEnding *e);
extern bool idsess_key_is_revoked(text *key);
extern int	idsess_purge_revoked_keys(int limit);

#endif							/* IDSESS_SESSION_END_H */
