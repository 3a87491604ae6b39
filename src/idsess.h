/*-------------------------------------------------------------------------
 *
 * idsess.h
 *		Declarations shared by the idsess source files: settings, ticket
 *		sealing, the key ring, SPI helpers, input checks and the worker.
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDSESS_H
#define IDSESS_H

#include "postgres.h"
#include "compat.h"

#include "executor/spi.h"
#include "port/atomics.h"
#include "storage/block.h"
#include "storage/spin.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

/* Limits on identifiers, in characters (Duende allows 100 for most). */
#define IDSESS_MAX_ID_CHARS			200
#define IDSESS_MAX_URI_CHARS		1000

/* settings.c */
extern char *idsess_master_key_file;
extern int	idsess_max_ticket_kb;
extern int	idsess_idle_timeout_s;
extern char *idsess_databases;
extern int	idsess_expire_batch_size;
extern int	idsess_expire_batch_delay_ms;
extern bool idsess_compress_tickets;
extern int	idsess_max_nap_ms;
extern bool idsess_expired_trigger_logout;
extern int	idsess_key_lifetime_min;
extern int	idsess_reseal_batch_size;
extern int	idsess_stats_retention_min;
extern int	idsess_max_sessions_per_subject;
extern int	idsess_session_limit_action;

#define IDSESS_LIMIT_REFUSE			0
#define IDSESS_LIMIT_END_OLDEST		1
extern void idsess_define_settings(void);

/* crypto.c: pgcrypto's primitives, called by their schema-qualified OIDs */
extern bytea *idsess_aes256_cbc(bool encrypt, const uint8 *key, const uint8 *iv,
								const char *data, Size len);
extern void idsess_hmac_sha256(const uint8 *key, Size keylen,
							   const char *data, Size len, uint8 *out);
extern void idsess_random(uint8 *buf, Size len);
extern void idsess_random_iv(uint8 *iv);

/*
 * keyring.c: the key ring hands out copies of keys into caller-owned storage
 * (never pointers into its cache, which any invalidation can clear); the
 * caller wipes its copy with explicit_bzero after use, on error paths too.
 */
#define IDSESS_KEY_BYTES	32
typedef struct IdsessKey
{
	int32		id;				/* 0 for the master key */
	uint8		enc[IDSESS_KEY_BYTES];
	uint8		mac[IDSESS_KEY_BYTES];
} IdsessKey;

/* What idsess_key_by_id found. */
typedef enum IdsessKeyState
{
	IDSESS_KEY_USABLE,			/* *out holds the key */
	IDSESS_KEY_UNKNOWN,			/* not in the key ring */
	IDSESS_KEY_RETIRED,
	IDSESS_KEY_DESTROYED
} IdsessKeyState;

extern void idsess_master_key(IdsessKey *out);
extern void idsess_active_key(IdsessKey *out);
extern IdsessKeyState idsess_key_by_id(int32 id, IdsessKey *out);
extern void idsess_derive_key(int32 id, const uint8 *secret, IdsessKey *out);
extern void idsess_keyring_init(void);
extern bytea *idsess_new_wrapped_key(int32 id);
extern void idsess_load_master_key(const char *path, IdsessKey *out);
extern bytea *idsess_wrap_secret(const IdsessKey *master_key, int32 id, const uint8 *secret);
extern bytea *idsess_unwrap_secret(int32 id, bytea *wrapped);
extern void idsess_keyring_changed(void);
extern void idsess_lock_key(int32 id, int mode);

/* keys.c */
extern int	idsess_reseal_batch(int limit);
extern bool idsess_rotate_if_old(void);

/* seal.c */
#define IDSESS_FORMAT_TEXT		't'
#define IDSESS_FORMAT_BYTES		'b'
#define IDSESS_FORMAT_KEY		'k'

/* Why a sealed ticket did not open (idsess_try_unseal). */
typedef enum IdsessOpenFailure
{
	IDSESS_OPENED,
	IDSESS_OPEN_MALFORMED,		/* not the layout of a seal */
	IDSESS_OPEN_FORGED,			/* tag does not verify, or not a ticket */
	IDSESS_OPEN_KEY_UNKNOWN,	/* header names a key not in the ring */
	IDSESS_OPEN_KEY_RETIRED,
	IDSESS_OPEN_KEY_DESTROYED
} IdsessOpenFailure;

extern bytea *idsess_seal(const IdsessKey *key, char format,
						  const char *aad, Size aadlen,
						  const char *data, Size len);
extern bytea *idsess_seal_ticket(char format, const char *aad, Size aadlen,
								 const char *data, Size len, int32 *key_id);
extern bytea *idsess_seal_ticket_with(const IdsessKey *key, char format,
									  const char *aad, Size aadlen,
									  const char *data, Size len);
extern bytea *idsess_open_with(const IdsessKey *key, bytea *sealed, char *format,
							   const char *aad, Size aadlen);
extern bytea *idsess_try_unseal(bytea *sealed, char *format,
								const char *aad, Size aadlen,
								IdsessOpenFailure *why);
extern bytea *idsess_unseal(bytea *sealed, char *format,
							const char *aad, Size aadlen);
extern bytea *idsess_unseal_row(bytea *sealed, char *format,
								const char *aad, Size aadlen);
extern int32 idsess_sealed_key_id(bytea *sealed);
extern bool idsess_timingsafe_equal(const uint8 *a, const uint8 *b, Size len);

/* spi.c */
typedef struct IdsessQuery
{
	const char *sql;
	int			nargs;
	Oid			argtypes[16];
	int			cursor_options; /* e.g. CURSOR_OPT_CUSTOM_PLAN */
	SPIPlanPtr	plan;
} IdsessQuery;

/*
 * The search_path every statement idsess runs is planned and executed
 * under: the one SECURITY DEFINER functions pin, and the worker's.
 */
#define IDSESS_SEARCH_PATH	"pg_catalog, pg_temp"

extern void idsess_spi_connect(void);
extern int	idsess_pin_search_path(void);
extern void idsess_unpin_search_path(int level);
extern int	idsess_spi_run(IdsessQuery *q, Datum *values, const char *nulls,
						   bool read_only, long count);
extern int	idsess_spi_run_latest(IdsessQuery *q, Datum *values, const char *nulls,
								  bool read_only, long count);
extern int	idsess_spi_run_arg(IdsessQuery *q, Datum arg);
extern Datum idsess_spi_get(int row, int col, bool *isnull);
extern Datum idsess_spi_copy(int row, int col, bool *isnull);

/* validate.c */
extern text *idsess_arg_id(FunctionCallInfo fcinfo, int argno, const char *what,
						   int maxchars);
extern text *idsess_arg_id_opt(FunctionCallInfo fcinfo, int argno, const char *what,
							   int maxchars);
extern void idsess_check_id(text *t, const char *what, int maxchars);
extern void idsess_require_filter(text *subject_id, text *session_id);
extern int	idsess_arg_count(FunctionCallInfo fcinfo, int argno, int dflt, int max);
extern void idsess_check_ticket_size(Size len);

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
 * idsess.sessions s, followed by the sealed ticket (13) and the row id (14).
 */
#define IDSESS_SESSION_NATTS	14
#define IDSESS_SESSION_COLS \
	"s.key, s.scheme, s.subject_id, s.session_id, s.display_name, s.created, " \
	"s.renewed, s.expires, s.last_active, s.idle_timeout, " \
	"ARRAY(SELECT c.client_id FROM idsess.session_clients c WHERE c.session = s.id " \
	"ORDER BY c.added, c.client_id), " \
	IDSESS_SAML_LIST_OF("s.id") ", s.ticket, s.id"

/*
 * In a 1.1 schema the session type also has the issuer and the clients'
 * own sids (parallel to the clients): columns 15 and 16 of this list.
 */
#define IDSESS_SESSION_NATTS_11	16
#define IDSESS_SESSION_COLS_11 IDSESS_SESSION_COLS ", s.issuer, " \
	"ARRAY(SELECT c.client_sid FROM idsess.session_clients c WHERE c.session = s.id " \
	"ORDER BY c.added, c.client_id)"

/* A session is live until it expires or has been idle too long. */
#define IDSESS_LIVE \
	"(s.expires IS NULL OR s.expires > pg_catalog.now()) AND " \
	"(s.idle_timeout IS NULL OR s.last_active + s.idle_timeout > pg_catalog.now())"

/* scan.c: rows found straight from an index */
extern Oid	idsess_relid(Oid nsp, const char *name);
extern void idsess_scan_index(Oid nsp, const char *tabname, const char *idxname,
							  RegProcedure proc, Datum value, Snapshot snapshot,
							  void (*each) (TupleTableSlot *slot, void *arg), void *arg);

/* logfilter.c */
extern void idsess_install_log_filter(void);

/* lookup.c */
extern void idsess_get_by_sid(FunctionCallInfo fcinfo, text *sid);

/* store.c */
extern Tuplestorestate *idsess_ticket_srf(FunctionCallInfo fcinfo);
extern void idsess_check_opened(Size *opened, Size len);
extern void idsess_put_opened(Datum *values, bool *nulls, bytea *plain, char format,
							  Size *opened);
extern int64 idsess_lock_live_session(text *key, bool for_write);
extern void idsess_refresh_copy(int64 id);
extern int	idsess_delete_children(Datum ids, Datum causes, Datum subjects,
								   Datum sids, Datum issuers, Datum client_filter,
								   bool to_outbox);
extern Datum idsess_text_array_nulls(Datum *vals, bool *nulls, int n);
extern void idsess_open_session_rows(Tuplestorestate *from, Tuplestorestate *to,
									 TupleDesc desc, bool tickets);
extern void idsess_require_ticket_role(void);
extern int	idsess_run_exact(IdsessQuery *by_subject, IdsessQuery *by_sid,
							 IdsessQuery *by_both, text *subject, text *sid,
							 bool read_only);
extern Datum idsess_int8_array(int64 *vals, int n);
extern Datum idsess_text_array(Datum *vals, int n);

/* revoke.c: tombstones of revoked keys */
#define IDSESS_ERRCODE_REVOKED	MAKE_SQLSTATE('I','S','R','V','K')

/*
 * Until when a revoked session's key stays revoked, as a column of a
 * DELETE ... RETURNING on idsess.sessions: its expiry, else its inactivity
 * deadline, else NULL (for good).
 */
#define IDSESS_REVOKED_UNTIL	"COALESCE(expires, last_active + idle_timeout)"

extern void idsess_bury_keys(Datum *keys, Datum *untils, bool *until_nulls, int n);
extern bool idsess_key_is_revoked(text *key);
extern bool idsess_schema_1_1(void);
extern int	idsess_purge_revoked_keys(int limit);

/* limit.c */
extern Datum idsess_apply_session_limit(text *subject, int limit);

/* expire.c */
typedef struct IdsessExpired
{
	int64		locked;			/* due sessions the batch took */
	int64		removed;		/* of those, removed */
	int64		rescheduled;	/* of those, idle sessions found active, re-queued */
} IdsessExpired;

/* Where a walk through the due sessions has got to. */
typedef struct IdsessDueCursor
{
	bool		valid;
	TimestampTz due;
	int64		id;
} IdsessDueCursor;

extern IdsessExpired idsess_expire_batch(int limit, bool to_outbox,
										 Tuplestorestate *out, TupleDesc outdesc,
										 IdsessDueCursor *cursor);
extern bool idsess_next_due(TimestampTz *due, bool *overdue);

/* search_index.c: the admin search index's pending list, merged by the worker */
typedef struct IdsessSearchTidy
{
	BlockNumber before;			/* pending list pages found */
	BlockNumber after;			/* left after a merge (rows added meanwhile) */
	BlockNumber threshold;		/* pages from which the worker merges */
	int64		rows;			/* session rows in the pages found */
} IdsessSearchTidy;

extern IdsessSearchTidy idsess_tidy_search_index(void);

/* shmem.c */
#define IDSESS_MAX_WORKERS	32

typedef enum IdsessWorkerState
{
	IDSESS_WORKER_STARTING,
	IDSESS_WORKER_NO_EXTENSION,
	IDSESS_WORKER_SLEEPING,
	IDSESS_WORKER_EXPIRING
} IdsessWorkerState;

/* Session events counted per served database for the hourly history (stats.c). */
typedef enum IdsessEvent
{
	IDSESS_EV_CREATED,
	IDSESS_EV_EXPIRED,
	IDSESS_EV_IDLE,
	IDSESS_EV_REVOKED,
	IDSESS_EV_DELETED,
	IDSESS_EV_LIMITED,
	IDSESS_NUM_EVENTS
} IdsessEvent;

/*
 * One per served database.  The launcher assigns a slot to a database
 * (dbname) and starts a worker for it; the worker holds it (pid) while it
 * runs.  The assignment outlives both, so a restarted launcher learns from
 * the slots which databases are served and by which process, and the
 * database's event counters survive its worker's restarts.
 */
typedef struct IdsessSlot
{
	slock_t		mutex;
	char		dbname[NAMEDATALEN];	/* assigned database; empty: free */
	pid_t		pid;			/* the worker serving it; 0: none */
	Oid			dboid;			/* set by its first worker */
	struct Latch *latch;
	bool		stop;			/* the launcher asks the worker to exit */
	TimestampTz retry_at;		/* no worker is started before this */
	bool		announced_missing;	/* "waiting for CREATE EXTENSION" logged */
	IdsessWorkerState state;
	TimestampTz started;
	TimestampTz last_run;
	int64		last_removed;
	int64		total_removed;
	int64		paced_batches;	/* pauses between backlog batches */
	int64		paced_ms;		/* their total length */
	TimestampTz next_due;		/* earliest due session seen; 0: none */
	TimestampTz wake_at;		/* when the worker will look again */
	TimestampTz last_error_at;
	char		last_error[256];
	pg_atomic_uint64 counts[IDSESS_NUM_EVENTS]; /* committed, not yet flushed */
	/* Sessions committed until the worker looks at the search index again
	 * (a signed count: at or below 0 the wake was sent) */
	pg_atomic_uint32 search_countdown;
} IdsessSlot;

typedef struct IdsessShared
{
	slock_t		mutex;			/* for launcher_latch */
	struct Latch *launcher_latch;
	IdsessSlot	slots[IDSESS_MAX_WORKERS];
} IdsessShared;

/* Columns of idsess_worker_status() in 1.1 (1.0 has the first 10). */
#define IDSESS_WORKER_NATTS_11	12

extern IdsessShared *idsess_shared;
extern void idsess_shmem_init(void);
extern void idsess_nudge_worker(TimestampTz due);
extern void idsess_note_search_rows(int n);

/* stats.c */
extern void idsess_count(IdsessEvent ev, int64 n);
extern void idsess_stats_at_xact_end(bool commit);
extern void idsess_stats_at_subxact_end(bool commit);
extern void idsess_stats_flush(int slot_index);
extern void idsess_zero_counts(IdsessSlot *slot);

/* worker.c */
extern void idsess_register_launcher(void);

#endif							/* IDSESS_H */
