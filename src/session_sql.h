/*-------------------------------------------------------------------------
 *
 * session_sql.h
 *		SQL text the store's statements share, and the columns of the
 *		composite types the SQL-callable functions return, by name and
 *		with their count in each API version.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDSESS_SESSION_SQL_H
#define IDSESS_SESSION_SQL_H

#include "idsess.h"

/* Columns (0-based) of idsess.session; 1.1 added the last two. */
typedef enum IdsessSessionAttr
{
	IDSESS_S_KEY, IDSESS_S_SCHEME, IDSESS_S_SUBJECT, IDSESS_S_SID, IDSESS_S_DISPLAY,
	IDSESS_S_CREATED, IDSESS_S_RENEWED, IDSESS_S_EXPIRES, IDSESS_S_LAST_ACTIVE,
	IDSESS_S_IDLE, IDSESS_S_CLIENTS, IDSESS_S_SAML, IDSESS_S_TICKET, IDSESS_S_TICKET_BYTES,
	IDSESS_S_NATTS_1_0,
	IDSESS_S_ISSUER = IDSESS_S_NATTS_1_0, IDSESS_S_CLIENT_SIDS,
	IDSESS_S_NATTS_1_1
} IdsessSessionAttr;

/*
 * The SAML SP sessions of session `id` as idsess_get returns them: a jsonb
 * array of objects in the order they were added.
 */
#define IDSESS_SAML_LIST_OF(id) \
	"COALESCE((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(" \
	"'entity_id', m.entity_id, 'session_index', m.session_index, 'name_id', m.name_id, " \
	"'name_id_format', m.name_id_format) ORDER BY m.added, m.entity_id, m.session_index) " \
	"FROM idsess.session_saml m WHERE m.session = " id "), '[]'::pg_catalog.jsonb)"

/*
 * 1.1: each session row carries a copy of its clients (client_list, an
 * n x 2 text array of client id and the client's own sid, in the order they
 * were added) and of its SAML SP sessions (saml_list, as above), so that
 * idsess_get reads one row instead of three tables.  session_clients and
 * session_saml stay the record: lookups by client, revocation and the
 * logout outbox read them.  Every writer of them locks the session row FOR
 * NO KEY UPDATE first and refreshes the copy from them after, in a later
 * statement (idsess_refresh_copy, or in update_session's own update).  NULL:
 * no copy yet (a row from 1.0 or from a 1.0 dump); readers then read the
 * tables, and the session's next save or client change fills it in.
 */
#define IDSESS_CLIENT_LIST_OF(id) \
	"COALESCE((SELECT pg_catalog.array_agg(ARRAY[c.client_id, c.client_sid] " \
	"ORDER BY c.added, c.client_id) FROM idsess.session_clients c WHERE c.session = " id "), '{}')"

/*
 * The columns of idsess.session as the store's queries select them from
 * idsess.sessions s, followed by the sealed ticket and the row id.
 */
#define IDSESS_SESSION_COLS \
	"s.key, s.scheme, s.subject_id, s.session_id, s.display_name, s.created, " \
	"s.renewed, s.expires, s.last_active, s.idle_timeout, " \
	"ARRAY(SELECT c.client_id FROM idsess.session_clients c WHERE c.session = s.id " \
	"ORDER BY c.added, c.client_id), " \
	IDSESS_SAML_LIST_OF("s.id") ", s.ticket, s.id"

/*
 * 1-based positions in IDSESS_SESSION_COLS(_11): idsess.session's columns up
 * to saml_sessions come first, in the type's order (IDSESS_S_KEY + 1 ...).
 */
enum
{
	IDSESS_COL_SEALED = IDSESS_S_TICKET + 1,
	IDSESS_COL_ROW_ID,
	IDSESS_COL_ISSUER,			/* IDSESS_SESSION_COLS_11 only */
	IDSESS_COL_CLIENT_SIDS
};

/*
 * In a 1.1 schema the session type also has the issuer and the clients'
 * own sids (parallel to the clients): columns 15 and 16 of this list.
 */
#define IDSESS_SESSION_COLS_11 IDSESS_SESSION_COLS ", s.issuer, " \
	"ARRAY(SELECT c.client_sid FROM idsess.session_clients c WHERE c.session = s.id " \
	"ORDER BY c.added, c.client_id)"

/*
 * A session is live until it expires or has been idle too long.  The rule
 * is idsess.session_is_live() (1.2); this is its text for the library's
 * queries, which also run on 1.0 and 1.1 schemas.  lookup.c's is_live() is
 * the hot path's copy.  sql/expire.sql checks the three agree.
 */
#define IDSESS_LIVE \
	"(s.expires IS NULL OR s.expires > pg_catalog.now()) AND " \
	"(s.idle_timeout IS NULL OR s.last_active + s.idle_timeout > pg_catalog.now())"

/*
 * Until when a revoked session's key stays revoked, as a column of a
 * DELETE ... RETURNING on idsess.sessions: its expiry, else its inactivity
 * deadline, else NULL (for good).
 */
#define IDSESS_REVOKED_UNTIL	"COALESCE(expires, last_active + idle_timeout)"


/* Columns of idsess.revoked; 1.1 added the last two. */
typedef enum IdsessRevokedAttr
{
	IDSESS_R_KEY, IDSESS_R_SUBJECT, IDSESS_R_SID, IDSESS_R_CLIENTS, IDSESS_R_SAML,
	IDSESS_R_NATTS_1_0,
	IDSESS_R_ISSUER = IDSESS_R_NATTS_1_0, IDSESS_R_CLIENT_SIDS,
	IDSESS_R_NATTS_1_1
} IdsessRevokedAttr;

/* Columns of idsess.query_row; 1.1 added the last four. */
typedef enum IdsessQueryRowAttr
{
	IDSESS_Q_KEY, IDSESS_Q_SCHEME, IDSESS_Q_SUBJECT, IDSESS_Q_SID, IDSESS_Q_DISPLAY,
	IDSESS_Q_CREATED, IDSESS_Q_RENEWED, IDSESS_Q_EXPIRES, IDSESS_Q_LAST_ACTIVE,
	IDSESS_Q_CLIENTS, IDSESS_Q_TOKEN, IDSESS_Q_HAS_PREV, IDSESS_Q_HAS_NEXT, IDSESS_Q_TOTAL,
	IDSESS_Q_TOTAL_PAGES, IDSESS_Q_PAGE,
	IDSESS_Q_NATTS_1_0,
	IDSESS_Q_ISSUER = IDSESS_Q_NATTS_1_0, IDSESS_Q_CLIENT_SIDS, IDSESS_Q_TICKET,
	IDSESS_Q_TICKET_BYTES,
	IDSESS_Q_NATTS_1_1
} IdsessQueryRowAttr;

/* Columns of idsess.logout; 1.1 added the last two. */
typedef enum IdsessLogoutAttr
{
	IDSESS_L_ID, IDSESS_L_QUEUED, IDSESS_L_CAUSE, IDSESS_L_SUBJECT, IDSESS_L_SID,
	IDSESS_L_CLIENTS, IDSESS_L_SAML,
	IDSESS_L_NATTS_1_0,
	IDSESS_L_ISSUER = IDSESS_L_NATTS_1_0, IDSESS_L_CLIENT_SIDS,
	IDSESS_L_NATTS_1_1
} IdsessLogoutAttr;

#endif							/* IDSESS_SESSION_SQL_H */
