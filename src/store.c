/*-------------------------------------------------------------------------
 *
 * store.c
 *		The session store contract: create, update (renew), touch, delete,
 *		exact lookup and delete by subject and/or sid (get is in lookup.c).
 *
 * Each function checks its arguments, runs fixed SQL against the tables in
 * schema idsess through prepared SPI plans, and seals or opens tickets with
 * seal.c.  A ticket is sealed with the session key as associated data, so a
 * ticket copied to another row does not open.  Every error raised in
 * create and update, where a ticket is an argument, hides the statement from
 * the server log (hiding_statement), so a ticket sent as a literal is not
 * logged by log_min_error_statement.
 *
 *-------------------------------------------------------------------------
 */
#include "idsess.h"
#include "version.h"
#include "activity.h"
#include "arrays.h"
#include "crypto.h"
#include "envelope.h"
#include "expire.h"
#include "limit.h"
#include "lookup.h"
#include "scan.h"
#include "session_end.h"
#include "session_rows.h"
#include "session_sql.h"
#include "settings.h"
#include "shmem.h"
#include "spi.h"
#include "stats.h"
#include "tenant.h"
#include "ticket.h"
#include "validate.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"


static void end_sessions_of_result(IdsessApi api, int n, IdsessEvent event);

/* idsess_create's arguments from 1.2 on, by position (the earlier ones are 0 .. 11). */
enum
{
	CR_MAX_LIFETIME = 12, CR_ACR, CR_AMR, CR_AUTH_TIME, CR_CLIENT_IP, CR_USER_AGENT, CR_DEVICE,
	CR_TENANT
};

/* idsess.created: the session, ended_sessions, then (1.1) the same two. */
enum
{
	C_ENDED = IDSESS_S_ISSUER, C_ISSUER, C_CLIENT_SIDS, C_NATTS
};

static text *
hex_id(int nbytes)
{
	static const char digits[] = "0123456789ABCDEF";
	uint8		raw[32];
	char		out[65];

	Assert(nbytes <= 32);
	idsess_random(raw, nbytes);
	for (int i = 0; i < nbytes; i++)
	{
		out[2 * i] = digits[raw[i] >> 4];
		out[2 * i + 1] = digits[raw[i] & 0x0F];
	}
	return cstring_to_text_with_len(out, 2 * nbytes);
}

/* The ticket argument pair: exactly one of text and bytea. */
static bytea *
ticket_arg(FunctionCallInfo fcinfo, int textarg, int byteaarg, bool required,
		   char *format)
{
	bytea	   *t;

	if (!PG_ARGISNULL(textarg) && !PG_ARGISNULL(byteaarg))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("give either ticket or ticket_bytes, not both"),
				 errhidestmt(true)));
	if (PG_ARGISNULL(textarg) && PG_ARGISNULL(byteaarg))
	{
		if (required)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("a ticket is required"),
					 errhint("Give ticket (text) or ticket_bytes (bytea).")));
		return NULL;
	}
	*format = PG_ARGISNULL(textarg) ? IDSESS_FORMAT_BYTES : IDSESS_FORMAT_TEXT;
	t = PG_GETARG_BYTEA_PP(PG_ARGISNULL(textarg) ? byteaarg : textarg);
	idsess_check_ticket_size(VARSIZE_ANY_EXHDR(t));
	return t;
}

/* A 1.0 schema gets uncompressed tickets, which the 1.0 library opens. */
static bytea *
seal_ticket(IdsessApi api, text *key, char format, bytea *ticket, int32 *key_id)
{
	return idsess_seal_ticket(format, VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key),
							  VARDATA_ANY(ticket), VARSIZE_ANY_EXHDR(ticket),
							  api >= IDSESS_API_1_1, key_id);
}

static TimestampTz
timestamp_arg(FunctionCallInfo fcinfo, int argno, bool *never)
{
	TimestampTz ts = PG_GETARG_TIMESTAMPTZ(argno);

	*never = TIMESTAMP_IS_NOEND(ts);
	if (TIMESTAMP_IS_NOBEGIN(ts))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a session time cannot be -infinity")));
	return ts;
}

/* A session to insert, from idsess_create or an upsert by idsess_update. */
typedef struct NewSession
{
	text	   *key;
	text	   *subject;		/* NULL: a session without a user */
	text	   *sid;
	text	   *scheme;
	text	   *display;
	text	   *issuer;
	TimestampTz created;
	TimestampTz expires;
	bool		has_expires;
	Interval   *idle;			/* NULL: no inactivity timeout */
	char		format;
	bytea	   *ticket;
	int			limit;			/* per-subject session limit; 0: none */
	Datum		client_list;	/* 1.1: the row's copy of its clients; 0: none */
	/* 1.2 */
	bool		has_lifetime_end;
	TimestampTz lifetime_end;	/* created + max_lifetime: expires never passes it */
	IdsessStrength strength;
	IdsessClient client;
	text	   *tenant;			/* NULL: the default tenant */
} NewSession;

static void refuse_taken_key(bool rekey) pg_attribute_noreturn();

/* A create's (or a rekey's) key is another session's: said without the key. */
static void
refuse_taken_key(bool rekey)
{
	if (rekey)
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("a session with this key already exists"),
				 errdetail("new_key is the key of another session."),
				 errhint("Generate a fresh key for the rekey."),
				 errhidestmt(true)));
	ereport(ERROR,
			(errcode(ERRCODE_UNIQUE_VIOLATION),
			 errmsg("a session with this key already exists"),
			 errhint("Session keys must be unique; omit key to have one generated."),
			 errhidestmt(true)));
}

#define INSERT_10 "INSERT INTO idsess.sessions (key, scheme, subject_id, session_id, display_name, " \
	"created, renewed, expires, idle_timeout, last_active, due, key_id, ticket) " \
	"VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $6, LEAST($7, $6 + $8), $9, $10)"
#define INSERT_11 "INSERT INTO idsess.sessions (key, scheme, subject_id, session_id, display_name, " \
	"created, renewed, expires, idle_timeout, last_active, due, key_id, ticket, issuer, " \
	"client_list, saml_list) VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $6, LEAST($7, $6 + $8), " \
	"$9, $10, $11, COALESCE($12, '{}'), '[]')"
/*
 * 1.2: also the end of the session's lifetime, the strength of the sign-in,
 * the client (last_seen: $20, the creation when recording, else NULL) and
 * the tenant.
 */
#define INSERT_12 "INSERT INTO idsess.sessions (key, scheme, subject_id, session_id, display_name, " \
	"created, renewed, expires, idle_timeout, last_active, due, key_id, ticket, issuer, " \
	"client_list, saml_list, lifetime_end, acr, amr, auth_time, client_ip, user_agent, device, " \
	"last_seen, tenant) VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $6, " \
	"LEAST($7, $6 + $8), $9, $10, $11, COALESCE($12, '{}'), '[]', $13, $14, $15, $16, " \
	"$17, $18, $19, CASE WHEN $20 THEN $6 END, $21)"
#define INSERT_ARGTYPES {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, \
	TIMESTAMPTZOID, INTERVALOID, INT4OID, BYTEAOID, TEXTOID, TEXTARRAYOID, TIMESTAMPTZOID, \
	TEXTOID, TEXTARRAYOID, TIMESTAMPTZOID, INETOID, TEXTOID, TEXTOID, BOOLOID, TEXTOID}
#define INSERT_NARGS_12	21

/*
 * [0]: a 1.0 schema, [1]: 1.1 (with the issuer), [2]: 1.2.  An upsert inserts with ON
 * CONFLICT, to go on to a dead row with the key; a create inserts plainly,
 * and a taken key is the unique violation, which insert_session rewords
 * (the profile of a create put ON CONFLICT's extra probe of the key index,
 * and the speculative insertion's confirmation, at 8% of its time).
 */
static IdsessQuery q_upsert_insert[3] = {
	{.sql = INSERT_10 " ON CONFLICT (key) DO NOTHING RETURNING id", .nargs = 10, .argtypes = INSERT_ARGTYPES},
	{.sql = INSERT_11 " ON CONFLICT (key) DO NOTHING RETURNING id", .nargs = 12, .argtypes = INSERT_ARGTYPES},
	{.sql = INSERT_12 " ON CONFLICT (key) DO NOTHING RETURNING id", .nargs = INSERT_NARGS_12,
	.argtypes = INSERT_ARGTYPES}
};
static IdsessQuery q_insert[3] = {
	{.sql = INSERT_10 " RETURNING id", .nargs = 10, .argtypes = INSERT_ARGTYPES},
	{.sql = INSERT_11 " RETURNING id", .nargs = 12, .argtypes = INSERT_ARGTYPES},
	{.sql = INSERT_12 " RETURNING id", .nargs = INSERT_NARGS_12, .argtypes = INSERT_ARGTYPES}
};

/*
 * A statement that writes a session key (a create's insert, a rekey's
 * update): a taken key is refused with refuse_taken_key's message, which
 * does not name it.
 */
static int
write_key(IdsessQuery *q, Datum *args, char *nulls, bool rekey)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile int n = 0;

	PG_TRY();
	{
		n = idsess_spi_run(q, args, nulls, false, 1);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		if (edata->sqlerrcode != ERRCODE_UNIQUE_VIOLATION || edata->constraint_name == NULL ||
			strcmp(edata->constraint_name, "sessions_key_key") != 0)
			PG_RE_THROW();

		/*
		 * The violation's detail names the key, a credential: it is dropped
		 * unlogged, and the error that replaces it ends the transaction.
		 */
		FlushErrorState();
		refuse_taken_key(rekey);
	}
	PG_END_TRY();
	return n;
}

/*
 * An upsert replaces a dead row (expired, not yet removed) with its key; it
 * looks for one only when the insert found the key taken.
 */
/*
 * Deletes that end sessions return each one's row id and, from a 1.2
 * schema ([1]), its tenant (end_sessions_of_result).
 */
#define RET_ID " RETURNING id"
#define RET_ID_TENANT " RETURNING id, tenant"
#define DELETE_DEAD "DELETE FROM idsess.sessions s WHERE s.key = $1 AND NOT (" IDSESS_LIVE ")"
static IdsessQuery q_delete_dead[2] = {
	{.sql = DELETE_DEAD RET_ID, .nargs = 1, .argtypes = {TEXTOID}},
	{.sql = DELETE_DEAD RET_ID_TENANT, .nargs = 1, .argtypes = {TEXTOID}}
};

static void
refuse_revoked_key(void)
{
	ereport(ERROR,
			(errcode(IDSESS_ERRCODE_REVOKED),
			 errmsg("a session with this key was revoked"),
			 errdetail("A revoked key stays revoked until the session would have expired."),
			 errhint("Do not save a revoked session again; sign the user in anew, with a new key."),
			 errhidestmt(true)));
}

/* idsess_update's refusal: the session it was asked to save was revoked. */
static void
refuse_revoked_session(void)
{
	ereport(ERROR,
			(errcode(IDSESS_ERRCODE_REVOKED),
			 errmsg("session was revoked"),
			 errdetail("A revoked key stays revoked until the session would have expired."),
			 errhint("Do not create the session again; sign the user in anew."),
			 errhidestmt(true)));
}

/* A non-negative interval argument (idle_timeout). */
static Interval *
idle_arg(FunctionCallInfo fcinfo, int argno)
{
	Interval   *iv = PG_GETARG_INTERVAL_P(argno);

	if (iv->time < 0 || iv->day < 0 || iv->month < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("idle_timeout must not be negative"),
				 errhint("Give 0 to turn the inactivity timeout off for this session."),
				 errhidestmt(true)));
	return iv;
}

static bool
interval_is_zero(Interval *iv)
{
	return iv->time == 0 && iv->day == 0 && iv->month == 0;
}

/* idsess.idle_timeout as a new session's timeout; NULL when there is none. */
static Interval *
default_idle(void)
{
	Interval   *iv;

	if (idsess_idle_timeout_s <= 0)
		return NULL;
	iv = palloc0(sizeof(Interval));
	iv->time = (int64) idsess_idle_timeout_s * USECS_PER_SEC;
	return iv;
}

/*
 * The inactivity timeout of a session being created: the idle_timeout
 * argument (0: none), else the setting.
 */
static Interval *
new_session_idle(FunctionCallInfo fcinfo, int argno)
{
	Interval   *iv;

	if (PG_ARGISNULL(argno))
		return default_idle();
	iv = idle_arg(fcinfo, argno);
	return interval_is_zero(iv) ? NULL : iv;
}

/*
 * The max_lifetime argument (1.2): positive; on create, 0 gives the session
 * no cap whatever idsess.max_lifetime says.
 */
static Interval *
max_lifetime_arg(FunctionCallInfo fcinfo, int argno, bool zero_allowed)
{
	Interval   *iv = PG_GETARG_INTERVAL_P(argno);

	if (iv->time < 0 || iv->day < 0 || iv->month < 0 ||
		(!zero_allowed && interval_is_zero(iv)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg(zero_allowed ? "max_lifetime must not be negative" :
						"max_lifetime must be positive"),
				 errhint(zero_allowed ? "Give 0 for a session without an absolute lifetime." :
						 "A session's absolute lifetime can be shortened, not lengthened or removed."),
				 errhidestmt(true)));
	return iv;
}

/*
 * Caps a new session's lifetime at created + max_lifetime (iv; NULL: the
 * setting), moving an expiry past it, or none, back to it.
 */
static void
cap_new_session(NewSession *ns, Interval *iv)
{
	Interval	setting = {0};

	if (iv == NULL && idsess_max_lifetime_s > 0)
	{
		setting.time = (int64) idsess_max_lifetime_s * USECS_PER_SEC;
		iv = &setting;
	}
	if (iv == NULL || interval_is_zero(iv))
		return;
	ns->lifetime_end = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
															   TimestampTzGetDatum(ns->created),
															   PointerGetDatum(iv)));
	ns->has_lifetime_end = true;
	if (!ns->has_expires || ns->expires > ns->lifetime_end)
	{
		ns->expires = ns->lifetime_end;
		ns->has_expires = true;
	}
}

/* The time the worker must wake for a session: the earlier of its deadlines. */
static void
nudge_for(TimestampTz from, bool has_expires, TimestampTz expires, Interval *idle)
{
	TimestampTz due;

	if (!has_expires && !idle)
		return;
	due = has_expires ? expires : DT_NOEND;
	if (idle)
		due = Min(due, DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
															   TimestampTzGetDatum(from),
															   PointerGetDatum(idle))));
	idsess_nudge_worker(due);
}

/*
 * Inserts ns (sealing its ticket) and returns the new row's id; the caller
 * is connected to SPI.  *ended gets the sessions the session limit ended
 * (allocated in the caller's context, see idsess_apply_session_limit), or
 * stays as it was when no limit applies.  For an upsert (idsess_update), a
 * dead row with the key is replaced; with as_update a revoked key is
 * refused as idsess_update refuses the key it was asked to save.
 */
static int64
insert_session(NewSession *ns, IdsessApi api, Datum *ended, bool upsert, bool as_update)
{
	Datum		args[INSERT_NARGS_12];
	char		nulls[INSERT_NARGS_12];
	int32		key_id;
	bytea	   *sealed;
	bool		isnull;
	int64		id;
	int			n;

	sealed = seal_ticket(api, ns->key, ns->format, ns->ticket, &key_id);
	args[0] = PointerGetDatum(ns->key);
	args[1] = PointerGetDatum(ns->scheme);
	args[2] = PointerGetDatum(ns->subject);
	args[3] = PointerGetDatum(ns->sid);
	args[4] = PointerGetDatum(ns->display);
	args[5] = TimestampTzGetDatum(ns->created);
	args[6] = TimestampTzGetDatum(ns->expires);
	args[7] = PointerGetDatum(ns->idle);
	args[8] = Int32GetDatum(key_id);
	args[9] = PointerGetDatum(sealed);
	args[10] = PointerGetDatum(ns->issuer);
	args[11] = ns->client_list;
	args[12] = TimestampTzGetDatum(ns->lifetime_end);
	args[13] = PointerGetDatum(ns->strength.acr);
	args[14] = ns->strength.amr;
	args[15] = TimestampTzGetDatum(ns->strength.auth_time);
	args[16] = ns->client.ip;
	args[17] = PointerGetDatum(ns->client.agent);
	args[18] = PointerGetDatum(ns->client.device);
	args[19] = BoolGetDatum(ns->client.recording);
	args[20] = PointerGetDatum(ns->tenant);
	memset(nulls, ' ', sizeof(nulls));
	nulls[2] = ns->subject ? ' ' : 'n';
	nulls[4] = ns->display ? ' ' : 'n';
	nulls[6] = ns->has_expires ? ' ' : 'n';
	nulls[7] = ns->idle ? ' ' : 'n';
	nulls[10] = ns->issuer ? ' ' : 'n';
	nulls[11] = ns->client_list ? ' ' : 'n';
	nulls[12] = ns->has_lifetime_end ? ' ' : 'n';
	nulls[13] = ns->strength.acr && !ns->strength.clear_acr ? ' ' : 'n';
	nulls[14] = ns->strength.amr ? ' ' : 'n';
	nulls[15] = ns->strength.has_auth_time ? ' ' : 'n';
	nulls[16] = ns->client.ip ? ' ' : 'n';
	nulls[17] = ns->client.agent ? ' ' : 'n';
	nulls[18] = ns->client.device ? ' ' : 'n';
	nulls[20] = ns->tenant ? ' ' : 'n';

	/*
	 * Sessions without a user belong to no subject and count for none.  The
	 * sessions the limit ends are returned by create; an upsert returns
	 * none, so from 1.2 on their logouts go to the outbox.
	 */
	if (ns->limit > 0 && ns->subject)
		*ended = idsess_apply_session_limit(api, ns->subject, ns->tenant, ns->limit,
											upsert && api >= IDSESS_API_1_2);
	if (!upsert)
		n = write_key(&q_insert[Min(api, IDSESS_API_1_2)], args, nulls, false);
	else
	{
		n = idsess_spi_run(&q_upsert_insert[Min(api, IDSESS_API_1_2)], args, nulls, false, 1);
		if (n == 0)
		{
			Datum		key = PointerGetDatum(ns->key);
			int			ndead = idsess_spi_run(&q_delete_dead[api >= IDSESS_API_1_2], &key, NULL,
												   false, 0);

			if (ndead > 0)
			{
				end_sessions_of_result(api, ndead, IDSESS_EV_EXPIRED);
				n = idsess_spi_run(&q_upsert_insert[Min(api, IDSESS_API_1_2)], args, nulls, false, 1);
			}
		}
	}
	if (n == 0)
		refuse_taken_key(false);
	id = DatumGetInt64(idsess_spi_get(0, 1, &isnull));

	/*
	 * Checked after the insert: the insert waited for any uncommitted
	 * revocation that deleted a session with this key, whose tombstone the
	 * check (with the latest snapshot) then sees.
	 */
	if (idsess_key_is_revoked(ns->key))
	{
		if (as_update)
			refuse_revoked_session();
		refuse_revoked_key();
	}
	idsess_count(IDSESS_EV_CREATED, 1);
	if (ns->tenant)
		idsess_count_tenant(IDSESS_EV_CREATED, PointerGetDatum(ns->tenant));
	idsess_note_search_rows(1);
	nudge_for(ns->created, ns->has_expires, ns->expires, ns->idle);
	return id;
}

static Datum
create_session(FunctionCallInfo fcinfo, IdsessApi api)
{
	bool		api_1_1 = api >= IDSESS_API_1_1;
	NewSession	ns;
	TupleDesc	tupdesc;
	Datum		values[C_NATTS];
	bool		isnull[C_NATTS];
	Datum		ended;

	memset(&ns, 0, sizeof(ns));
	/* 1.1: a session may have no user (node-oidc-provider saves those). */
	ns.subject = api_1_1 ? idsess_arg_id_opt(fcinfo, 0, "subject_id", IDSESS_MAX_ID_CHARS) :
		idsess_arg_id(fcinfo, 0, "subject_id", IDSESS_MAX_ID_CHARS);
	ns.key = idsess_arg_id_opt(fcinfo, 3, "key", IDSESS_MAX_ID_CHARS);
	ns.sid = idsess_arg_id_opt(fcinfo, 4, "session_id", IDSESS_MAX_ID_CHARS);
	ns.scheme = idsess_arg_id(fcinfo, 5, "scheme", IDSESS_MAX_ID_CHARS);
	ns.display = idsess_arg_id_opt(fcinfo, 6, "display_name", IDSESS_MAX_ID_CHARS);
	ns.issuer = api_1_1 ? idsess_arg_id_opt(fcinfo, 11, "issuer", IDSESS_MAX_URI_CHARS) : NULL;
	ns.tenant = api >= IDSESS_API_1_2 ?
		idsess_arg_id_opt(fcinfo, CR_TENANT, "tenant", IDSESS_MAX_ID_CHARS) : NULL;
	idsess_tenant_require_all("idsess_create");
	ns.created = GetCurrentTransactionStartTimestamp();
	ns.limit = idsess_max_sessions_per_subject;
	ns.ticket = ticket_arg(fcinfo, 1, 2, true, &ns.format);
	if (!PG_ARGISNULL(10))
	{
		ns.limit = PG_GETARG_INT32(10);
		if (ns.limit < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("max_sessions must not be negative"),
					 errhint("Give 0 for no limit."),
					 errhidestmt(true)));
	}

	if (!PG_ARGISNULL(9))
	{
		bool		never;

		ns.created = timestamp_arg(fcinfo, 9, &never);
		if (never)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("created cannot be infinity"),
					 errhidestmt(true)));
	}
	if (!PG_ARGISNULL(7))
	{
		bool		never;

		ns.expires = timestamp_arg(fcinfo, 7, &never);
		ns.has_expires = !never;
		if (ns.has_expires && ns.expires < ns.created)
			ereport(ERROR,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("expires must not be before created"),
					 errhint("Give a later expires, or NULL for a session that never expires."),
					 errhidestmt(true)));
	}
	ns.idle = new_session_idle(fcinfo, 8);
	if (api >= IDSESS_API_1_2)
	{
		cap_new_session(&ns, PG_ARGISNULL(CR_MAX_LIFETIME) ? NULL :
						max_lifetime_arg(fcinfo, CR_MAX_LIFETIME, true));
		idsess_strength_args(fcinfo, CR_ACR, CR_AMR, CR_AUTH_TIME, &ns.strength);
		idsess_client_args(fcinfo, CR_CLIENT_IP, CR_USER_AGENT, CR_DEVICE, &ns.client);
	}

	if (ns.key == NULL)
		ns.key = hex_id(32);
	if (ns.sid == NULL)
		ns.sid = hex_id(16);

	/* ended is returned after SPI_finish: built in this memory context. */
	ended = DirectFunctionCall1(jsonb_in, CStringGetDatum("[]"));
	idsess_spi_connect();
	(void) insert_session(&ns, api, &ended, false, false);
	SPI_finish();

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	memset(isnull, true, sizeof(isnull));
	values[IDSESS_S_KEY] = PointerGetDatum(ns.key);
	values[IDSESS_S_SCHEME] = PointerGetDatum(ns.scheme);
	values[IDSESS_S_SUBJECT] = PointerGetDatum(ns.subject);
	values[IDSESS_S_SID] = PointerGetDatum(ns.sid);
	values[IDSESS_S_DISPLAY] = PointerGetDatum(ns.display);
	values[IDSESS_S_CREATED] = values[IDSESS_S_RENEWED] = values[IDSESS_S_LAST_ACTIVE] = TimestampTzGetDatum(ns.created);
	values[IDSESS_S_EXPIRES] = TimestampTzGetDatum(ns.expires);
	values[IDSESS_S_IDLE] = PointerGetDatum(ns.idle);
	values[IDSESS_S_CLIENTS] = PointerGetDatum(construct_empty_array(TEXTOID));
	values[IDSESS_S_SAML] = DirectFunctionCall1(jsonb_in, CStringGetDatum("[]"));
	isnull[IDSESS_S_KEY] = isnull[IDSESS_S_SCHEME] = isnull[IDSESS_S_SID] = false;
	isnull[IDSESS_S_SUBJECT] = ns.subject == NULL;
	isnull[IDSESS_S_DISPLAY] = ns.display == NULL;
	isnull[IDSESS_S_CREATED] = isnull[IDSESS_S_RENEWED] = isnull[IDSESS_S_LAST_ACTIVE] = false;
	isnull[IDSESS_S_EXPIRES] = !ns.has_expires;
	isnull[IDSESS_S_IDLE] = ns.idle == NULL;
	isnull[IDSESS_S_CLIENTS] = isnull[IDSESS_S_SAML] = false;
	values[C_ENDED] = ended;
	isnull[C_ENDED] = false;
	values[C_ISSUER] = PointerGetDatum(ns.issuer);
	isnull[C_ISSUER] = ns.issuer == NULL;
	values[C_CLIENT_SIDS] = values[IDSESS_S_CLIENTS];
	isnull[C_CLIENT_SIDS] = false;
	tupdesc = BlessTupleDesc(tupdesc);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, isnull)));
}

/*
 * Runs body with the statement hidden from the server log if it fails.  The
 * ticket is an argument of the statement, which log_min_error_statement
 * would log (ticket and all, when sent as a literal) with any error: an
 * argument check, the size limit, the key file, sealing, SPI.  Hiding every
 * error here, rather than marking each ereport, leaves none out.
 */
static Datum
hiding_statement(Datum (*body) (FunctionCallInfo, IdsessApi), FunctionCallInfo fcinfo,
				 IdsessApi api)
{
	MemoryContext cxt = CurrentMemoryContext;
	Datum		result = (Datum) 0;

	PG_TRY();
	{
		result = body(fcinfo, api);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		edata->hide_stmt = true;
		ReThrowError(edata);
	}
	PG_END_TRY();
	return result;
}

/*
 * Puts every row of the current SPI result (selected with
 * IDSESS_SESSION_COLS) into tupstore with its ticket opened.  Each row is
 * built in a memory context of its own, reset after the row: the detoasted
 * seal and the plaintext of one row at a time, the plaintext wiped first.
 */
static void
emit_sessions(Tuplestorestate *tupstore, TupleDesc desc, int nrows, IdsessApi api)
{
	MemoryContext rowcxt = AllocSetContextCreate(CurrentMemoryContext, "idsess session row",
												 ALLOCSET_DEFAULT_SIZES);
	Size		opened = 0;

	for (int i = 0; i < nrows; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(rowcxt);
		Datum		values[IDSESS_S_NATTS_1_1];
		bool		nulls[IDSESS_S_NATTS_1_1];
		bool		isnull;
		text	   *key;
		char		format;
		bytea	   *plain;

		CHECK_FOR_INTERRUPTS();
		/* Rows point into SPI's result: the tuplestore copies them. */
		for (int c = 0; c < IDSESS_S_TICKET; c++)
			values[c] = idsess_spi_get(i, c + 1, &nulls[c]);
		if (api >= IDSESS_API_1_1)
		{
			values[IDSESS_S_ISSUER] = idsess_spi_get(i, IDSESS_COL_ISSUER, &nulls[IDSESS_S_ISSUER]);
			values[IDSESS_S_CLIENT_SIDS] = idsess_spi_get(i, IDSESS_COL_CLIENT_SIDS,
														  &nulls[IDSESS_S_CLIENT_SIDS]);
		}
		key = DatumGetTextPP(values[IDSESS_S_KEY]);
		plain = idsess_unseal_row(DatumGetByteaPP(idsess_spi_get(i, IDSESS_COL_SEALED, &isnull)),
								  &format, VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key));
		idsess_put_row_opened(tupstore, desc, values, nulls, IDSESS_S_TICKET, plain, format,
							  &opened);
		MemoryContextSwitchTo(old);
		MemoryContextReset(rowcxt);
	}
	MemoryContextDelete(rowcxt);
}

/* [1], 1.1's: also whether the row lacks a copy of its clients or SAML sessions. */
#define LOCK_FOR_UPDATE(cols) "SELECT s.id, s.created, s.expires, s.ticket" cols \
	" FROM idsess.sessions s WHERE s.key = $1 AND " IDSESS_LIVE " FOR NO KEY UPDATE"
static IdsessQuery q_lock_for_update[3] = {
	{.sql = LOCK_FOR_UPDATE(""), .nargs = 1, .argtypes = {TEXTOID}},
	{.sql = LOCK_FOR_UPDATE(", s.client_list IS NULL OR s.saml_list IS NULL"),
	.nargs = 1, .argtypes = {TEXTOID}},
	/* [2], 1.2's: also the tenant, column 6. */
	{.sql = LOCK_FOR_UPDATE(", s.client_list IS NULL OR s.saml_list IS NULL, s.tenant"),
	.nargs = 1, .argtypes = {TEXTOID}}
};

/*
 * `due` only ever moves earlier here.  A renewal that pushes the deadline
 * later leaves it, so that the update changes no indexed column and stays
 * HOT (the due index, and with it the trigram index, get no new entry); the
 * expirer, finding the session live at the old due time, gives it its next
 * one, as it does for sessions kept alive by idsess_touch.
 */
#define KEEP_EARLIER_DUE(d) "due = CASE WHEN due <= " d " THEN due ELSE " d " END"

/* 1.0's update, for a 1.0 schema. */
static IdsessQuery q_update_10 = {
	.sql = "UPDATE idsess.sessions SET renewed = $2, last_active = $2, "
	"expires = CASE WHEN $3 THEN $4 ELSE expires END, "
	KEEP_EARLIER_DUE("LEAST(CASE WHEN $3 THEN $4 ELSE expires END, $2 + idle_timeout)") ", "
	"key_id = COALESCE($5, key_id), ticket = COALESCE($6, ticket), "
	"display_name = COALESCE($7, display_name) "
	"WHERE id = $1 RETURNING due",
	.nargs = 7, .argtypes = {INT8OID, TIMESTAMPTZOID, BOOLOID, TIMESTAMPTZOID, INT4OID, BYTEAOID, TEXTOID}
};

/*
 * 1.1: every field.  NULL keeps a value; for display name, subject and
 * issuer '' clears it, for the idle timeout 0 turns it off.  [0] keeps the
 * row's copies of its clients and SAML SP sessions; [1] rebuilds them from
 * their tables, after set_clients wrote or for a row without copies (from
 * 1.0).  Two statements, not one with a CASE: executor start-up prepares a
 * statement's subqueries whether they run or not, and in [1] those two
 * were 63,000 of a renewal's 500,000 instructions (callgrind).
 */
#define NEW_IDLE "CASE WHEN $14 IS NULL THEN idle_timeout ELSE NULLIF($14, '0'::pg_catalog.interval) END"
#define NEW_EXPIRES "CASE WHEN $3 THEN $4 ELSE expires END"
#define UPDATE_11(copies) "UPDATE idsess.sessions SET renewed = $2, last_active = $2, " \
	"expires = " NEW_EXPIRES ", " \
	"idle_timeout = " NEW_IDLE ", " \
	KEEP_EARLIER_DUE("LEAST(" NEW_EXPIRES ", $2 + " NEW_IDLE ")") ", " \
	UPDATE_11_FIELDS copies " WHERE id = $1 RETURNING due"
#define UPDATE_11_FIELDS "key_id = COALESCE($5, key_id), ticket = COALESCE($6, ticket), " \
	"display_name = CASE WHEN $7 IS NULL THEN display_name ELSE NULLIF($7, '') END, " \
	"subject_id = CASE WHEN $8 IS NULL THEN subject_id ELSE NULLIF($8, '') END, " \
	"session_id = COALESCE($9, session_id), created = COALESCE($10, created), " \
	"scheme = COALESCE($11, scheme), " \
	"issuer = CASE WHEN $12 IS NULL THEN issuer ELSE NULLIF($12, '') END, " \
	"key = COALESCE($13, key)"
#define UPDATE_11_ARGTYPES {INT8OID, TIMESTAMPTZOID, BOOLOID, TIMESTAMPTZOID, INT4OID, BYTEAOID, \
	TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TEXTOID, TEXTOID, TEXTOID, INTERVALOID}
#define REFRESH_COPIES ", client_list = " IDSESS_CLIENT_LIST_OF("$1") ", " \
	"saml_list = " IDSESS_SAML_LIST_OF("$1")
static IdsessQuery q_update_11[2] = {
	{.sql = UPDATE_11(""), .nargs = 14, .argtypes = UPDATE_11_ARGTYPES},
	{.sql = UPDATE_11(REFRESH_COPIES), .nargs = 14, .argtypes = UPDATE_11_ARGTYPES}
};

/*
 * 1.2: the client's activity at `at`: with recording on (a granularity g,
 * not NULL), last_seen moves when it is g old or the IP address changed;
 * a new address, agent or device is written; the rest stays as it is (the
 * columns are not indexed, so the update stays HOT).
 */
#define SET_ACTIVITY(at, ip, agent, device, g) \
	"last_seen = CASE WHEN " g " IS NULL THEN last_seen " \
	"WHEN last_seen IS NULL OR last_seen <= " at " - " g " OR (" ip " IS NOT NULL AND " \
	"client_ip IS DISTINCT FROM " ip ") THEN " at " ELSE last_seen END, " \
	"client_ip = COALESCE(" ip ", client_ip), user_agent = COALESCE(" agent ", user_agent), " \
	"device = COALESCE(" device ", device)"

/*
 * 1.2: the absolute lifetime.  $15, a max_lifetime, can only bring the
 * session's lifetime_end earlier (from created, the new one when given);
 * the expiry never passes lifetime_end, whatever a renewal asks for
 * (LEAST ignores NULLs: no expiry, or no cap).
 */
#define NEW_CAP "CASE WHEN $15 IS NULL THEN lifetime_end " \
	"ELSE LEAST(lifetime_end, COALESCE($10, created) + $15) END"
#define UPDATE_12(copies) "UPDATE idsess.sessions SET renewed = $2, last_active = $2, " \
	"expires = LEAST(" NEW_EXPIRES ", " NEW_CAP "), lifetime_end = " NEW_CAP ", " \
	"acr = CASE WHEN $16 IS NULL THEN acr ELSE NULLIF($16, '') END, " \
	"amr = COALESCE($17, amr), auth_time = COALESCE($18, auth_time), " \
	SET_ACTIVITY("$2", "$19", "$20", "$21", "$22") ", " \
	"idle_timeout = " NEW_IDLE ", " \
	KEEP_EARLIER_DUE("LEAST(" NEW_EXPIRES ", " NEW_CAP ", $2 + " NEW_IDLE ")") ", " \
	UPDATE_11_FIELDS copies " WHERE id = $1 RETURNING due"
#define UPDATE_NARGS_12	22
#define UPDATE_12_ARGTYPES {INT8OID, TIMESTAMPTZOID, BOOLOID, TIMESTAMPTZOID, INT4OID, BYTEAOID, \
	TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TEXTOID, TEXTOID, TEXTOID, INTERVALOID, INTERVALOID, \
	TEXTOID, TEXTARRAYOID, TIMESTAMPTZOID, INETOID, TEXTOID, TEXTOID, INTERVALOID}
static IdsessQuery q_update_12[2] = {
	{.sql = UPDATE_12(""), .nargs = UPDATE_NARGS_12, .argtypes = UPDATE_12_ARGTYPES},
	{.sql = UPDATE_12(REFRESH_COPIES), .nargs = UPDATE_NARGS_12, .argtypes = UPDATE_12_ARGTYPES}
};

static void
note_found(TupleTableSlot *slot pg_attribute_unused(), void *arg)
{
	*(bool *) arg = true;
}

/*
 * Whether a session the statement's snapshot sees has this key: a rekey's
 * check for a friendlier error than the unique index's, which names the
 * key.  One probe of the key's index without SPI (scan.c), with the
 * snapshot a read-only SPI query would use.
 */
static bool
key_taken(text *key)
{
	bool		taken = false;

	idsess_scan_index(get_namespace_oid("idsess", false), "sessions", "sessions_key_key",
					  F_TEXTEQ, PointerGetDatum(key), GetActiveSnapshot(), note_found, &taken);
	return taken;
}

/*
 * Whether the clients of session $1 are exactly $2 already, each with its
 * sid from $3 (parallel to $2, both subscripted from 1) when $3 is given.
 * $2 has no repeats.
 */
static IdsessQuery q_same_clients = {
	.sql = "SELECT pg_catalog.count(*) = pg_catalog.cardinality($2) AND COALESCE(pg_catalog.bool_and("
	"c.client_id = ANY ($2) AND ($3 IS NULL OR c.client_sid IS NOT DISTINCT FROM "
	"($3::pg_catalog.text[])[pg_catalog.array_position($2, c.client_id)])), true) "
	"FROM idsess.session_clients c WHERE c.session = $1",
	.nargs = 3, .argtypes = {INT8OID, TEXTARRAYOID, TEXTARRAYOID}
};

/*
 * The client list becomes exactly $2 (text[]): others are removed, new ones
 * added in array order after the kept ones.  $3 (text[], parallel to $2)
 * sets each client's own sid when given; NULL keeps the kept clients' sids.
 * A kept client whose sid does not change is not written at all (a save
 * usually repeats the list it saved before); ON CONFLICT covers a client
 * that idsess_add_client added meanwhile.  The delete, a data-modifying
 * WITH, runs to completion though nothing reads it.
 */
static IdsessQuery q_set_clients = {
	.sql = "WITH w AS (SELECT * FROM ROWS FROM (pg_catalog.unnest($2::pg_catalog.text[]), "
	"pg_catalog.unnest($3::pg_catalog.text[])) WITH ORDINALITY AS w(client_id, client_sid, ord)), "
	"d AS (DELETE FROM idsess.session_clients c WHERE c.session = $1 AND c.client_id <> ALL ($2)) "
	"INSERT INTO idsess.session_clients AS c (session, client_id, client_sid, added) "
	"SELECT $1, w.client_id, w.client_sid, "
	"pg_catalog.clock_timestamp() + w.ord * '1 microsecond'::pg_catalog.interval FROM w "
	"WHERE NOT EXISTS (SELECT FROM idsess.session_clients k WHERE k.session = $1 "
	"AND k.client_id = w.client_id AND ($3 IS NULL OR k.client_sid IS NOT DISTINCT FROM w.client_sid)) "
	"ON CONFLICT (session, client_id) DO UPDATE SET client_sid = "
	"CASE WHEN $3 IS NULL THEN c.client_sid ELSE EXCLUDED.client_sid END",
	.nargs = 3, .argtypes = {INT8OID, TEXTARRAYOID, TEXTARRAYOID}
};

/* An identifier that '' clears: *clear is set and NULL returned for ''. */
static text *
clearable_arg(FunctionCallInfo fcinfo, int argno, const char *what, int maxchars,
			  bool *clear)
{
	text	   *t;

	*clear = false;
	if (PG_ARGISNULL(argno))
		return NULL;
	t = PG_GETARG_TEXT_PP(argno);
	if (VARSIZE_ANY_EXHDR(t) == 0)
	{
		*clear = true;
		return t;
	}
	idsess_check_id(t, what, maxchars);
	return t;
}

/* Byte equality, as the unique key and client indexes compare (deterministic). */
static bool
same_text(Datum a, Datum b)
{
	text	   *x = DatumGetTextPP(a);
	text	   *y = DatumGetTextPP(b);

	return VARSIZE_ANY_EXHDR(x) == VARSIZE_ANY_EXHDR(y) &&
		memcmp(VARDATA_ANY(x), VARDATA_ANY(y), VARSIZE_ANY_EXHDR(x)) == 0;
}

/* Orders texts by length, then bytes: any total order that same_text agrees with. */
static int
text_bytes_cmp(const void *a, const void *b)
{
	text	   *x = DatumGetTextPP(*(const Datum *) a);
	text	   *y = DatumGetTextPP(*(const Datum *) b);
	Size		lx = VARSIZE_ANY_EXHDR(x);
	Size		ly = VARSIZE_ANY_EXHDR(y);

	if (lx != ly)
		return lx < ly ? -1 : 1;
	return memcmp(VARDATA_ANY(x), VARDATA_ANY(y), lx);
}

/*
 * Whether n texts (none NULL) repeat one, by same_text: sorted, so that a
 * list of thousands of clients costs n log n comparisons, not n squared.
 */
static bool
has_repeat(const Datum *elems, int n)
{
	Datum	   *sorted;
	bool		repeat = false;

	if (n < 2)
		return false;
	sorted = palloc(n * sizeof(Datum));
	memcpy(sorted, elems, n * sizeof(Datum));
	qsort(sorted, n, sizeof(Datum), text_bytes_cmp);
	for (int i = 1; i < n && !repeat; i++)
		repeat = same_text(sorted[i - 1], sorted[i]);
	pfree(sorted);
	return repeat;
}

/*
 * A one-dimensional text[] argument, deconstructed; the array returned is
 * subscripted from 1 whatever the argument's bounds, so that clients and
 * client_sids pair up by subscript (q_same_clients).
 */
static ArrayType *
text_array_arg(FunctionCallInfo fcinfo, int argno, const char *what, Datum **elems,
			   bool **nulls, int *n)
{
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(argno);

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must be a one-dimensional array", what),
				 errhidestmt(true)));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, elems, nulls, n);
	if (ARR_NDIM(arr) == 1 && ARR_LBOUND(arr)[0] != 1)
		arr = DatumGetArrayTypeP(idsess_text_array_nulls(*elems, *nulls, *n));
	return arr;
}

/*
 * Checks the clients and client_sids arguments of idsess_update: client ids
 * present, unique and well-formed; sids, when given, one per client.
 * *nclients gets the number of clients.
 */
static void
check_client_args(FunctionCallInfo fcinfo, int cargno, int sargno,
				  Datum *clients, Datum *sids, int *nclients)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			nsids;

	*clients = *sids = (Datum) 0;
	*nclients = 0;
	if (PG_ARGISNULL(cargno))
	{
		if (!PG_ARGISNULL(sargno))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("client_sids needs clients"),
					 errhint("Give the client list the sids belong to."),
					 errhidestmt(true)));
		return;
	}
	*clients = PointerGetDatum(text_array_arg(fcinfo, cargno, "clients", &elems, &nulls, &n));
	*nclients = n;
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("clients must not contain null"),
					 errhidestmt(true)));
		CHECK_FOR_INTERRUPTS();
		idsess_check_id(DatumGetTextPP(elems[i]), "a client id", IDSESS_MAX_ID_CHARS);
	}
	if (has_repeat(elems, n))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("clients must not repeat a client id"),
				 errhidestmt(true)));
	if (PG_ARGISNULL(sargno))
		return;
	*sids = PointerGetDatum(text_array_arg(fcinfo, sargno, "client_sids", &elems, &nulls, &nsids));
	if (nsids != n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("client_sids must have one element per client"),
				 errdetail("clients has %d elements, client_sids %d.", n, nsids),
				 errhint("Give NULL elements for clients without a sid."),
				 errhidestmt(true)));
	for (int i = 0; i < nsids; i++)
		if (!nulls[i])
			idsess_check_id(DatumGetTextPP(elems[i]), "a client sid", IDSESS_MAX_ID_CHARS);
}

/*
 * Sets the clients of session id (q_set_clients).  With check_first it
 * runs the set only when they differ (q_same_clients, a cheaper statement):
 * for a renewal, which usually repeats the list it saved before.  Returns
 * whether it wrote; the caller then refreshes the row's copy.
 */
static bool
set_clients(int64 id, Datum clients, Datum sids, bool check_first)
{
	Datum		args[3];
	char		nulls[3] = {' ', ' ', ' '};
	bool		isnull;

	args[0] = Int64GetDatum(id);
	args[1] = clients;
	args[2] = sids;
	nulls[2] = sids ? ' ' : 'n';
	if (check_first && idsess_spi_run(&q_same_clients, args, nulls, false, 1) > 0 &&
		DatumGetBool(idsess_spi_get(0, 1, &isnull)) && !isnull)
		return false;
	idsess_spi_run(&q_set_clients, args, nulls, false, 0);
	return true;
}

/*
 * The copy of its clients that a new session's row starts with, when
 * set_clients then adds `clients` (text[]) with `sids` (parallel, or 0) to
 * it: each client with its sid, in array order, which is the order of the
 * times set_clients gives them (IDSESS_CLIENT_LIST_OF).
 */
static Datum
new_client_list(Datum clients, Datum sids)
{
	Datum	   *ids;
	Datum	   *sid_elems = NULL;
	bool	   *sid_nulls = NULL;
	int			n;
	int			nsids;
	Datum	   *elems;
	bool	   *nulls;
	int			dims[2];
	int			lbs[2] = {1, 1};

	deconstruct_array(DatumGetArrayTypeP(clients), TEXTOID, -1, false, TYPALIGN_INT,
					  &ids, NULL, &n);
	if (sids)
		deconstruct_array(DatumGetArrayTypeP(sids), TEXTOID, -1, false, TYPALIGN_INT,
						  &sid_elems, &sid_nulls, &nsids);
	if (n == 0)
		return PointerGetDatum(construct_empty_array(TEXTOID));
	elems = palloc(sizeof(Datum) * 2 * n);
	nulls = palloc(sizeof(bool) * 2 * n);
	for (int i = 0; i < n; i++)
	{
		elems[2 * i] = ids[i];
		nulls[2 * i] = false;
		elems[2 * i + 1] = sids ? sid_elems[i] : (Datum) 0;
		nulls[2 * i + 1] = sids ? sid_nulls[i] : true;
	}
	dims[0] = n;
	dims[1] = 2;
	return PointerGetDatum(construct_md_array(elems, nulls, 2, dims, lbs, TEXTOID, -1, false,
											  TYPALIGN_INT));
}

/* idsess_update's arguments, by their position in its signature. */
enum
{
	U_KEY, U_TICKET, U_TICKET_BYTES, U_EXPIRES, U_RENEWED, U_DISPLAY,
	/* 1.1 */
	U_SUBJECT, U_SID, U_CREATED, U_SCHEME, U_ISSUER, U_NEW_KEY, U_UPSERT, U_IDLE,
	U_CLIENTS, U_CLIENT_SIDS,
	/* 1.2 */
	U_MAX_LIFETIME, U_ACR, U_AMR, U_AUTH_TIME, U_CLIENT_IP, U_USER_AGENT, U_DEVICE,
	U_TENANT
};

/* idsess_update's arguments, checked once; NULL or false: not given. */
typedef struct UpdateArgs
{
	text	   *key;
	bytea	   *ticket;
	char		format;
	bool		set_expires;
	bool		never;			/* expires => infinity */
	TimestampTz expires;
	TimestampTz renewed;
	text	   *display;		/* '' with clear_*: clear the value */
	bool		clear_display;
	text	   *subject;
	bool		clear_subject;
	text	   *sid;
	bool		has_created;
	TimestampTz created;
	text	   *scheme;
	text	   *issuer;
	bool		clear_issuer;
	text	   *new_key;		/* NULL when it is the key itself */
	bool		upsert;
	bool		idle_given;
	Interval   *idle;
	Datum		clients;
	Datum		client_sids;
	int			nclients;
	Interval   *max_lifetime;	/* 1.2 */
	IdsessStrength strength;
	IdsessClient client;
	text	   *tenant;			/* NULL: the default tenant, or not given */
	bool		tenant_given;
} UpdateArgs;

static void
parse_update_args(FunctionCallInfo fcinfo, IdsessApi api, UpdateArgs *u)
{
	memset(u, 0, sizeof(*u));
	u->key = idsess_arg_id(fcinfo, U_KEY, "key", IDSESS_MAX_ID_CHARS);
	u->renewed = GetCurrentTransactionStartTimestamp();
	if (api >= IDSESS_API_1_1)
	{
		u->display = clearable_arg(fcinfo, U_DISPLAY, "display_name", IDSESS_MAX_ID_CHARS,
								   &u->clear_display);
		u->subject = clearable_arg(fcinfo, U_SUBJECT, "subject_id", IDSESS_MAX_ID_CHARS,
								   &u->clear_subject);
		u->sid = idsess_arg_id_opt(fcinfo, U_SID, "session_id", IDSESS_MAX_ID_CHARS);
		u->scheme = idsess_arg_id_opt(fcinfo, U_SCHEME, "scheme", IDSESS_MAX_ID_CHARS);
		u->issuer = clearable_arg(fcinfo, U_ISSUER, "issuer", IDSESS_MAX_URI_CHARS,
								  &u->clear_issuer);
		u->new_key = idsess_arg_id_opt(fcinfo, U_NEW_KEY, "new_key", IDSESS_MAX_ID_CHARS);
		u->upsert = !PG_ARGISNULL(U_UPSERT) && PG_GETARG_BOOL(U_UPSERT);
		if (!PG_ARGISNULL(U_IDLE))
		{
			u->idle = idle_arg(fcinfo, U_IDLE);
			u->idle_given = true;
		}
		check_client_args(fcinfo, U_CLIENTS, U_CLIENT_SIDS, &u->clients, &u->client_sids,
						  &u->nclients);
		if (!PG_ARGISNULL(U_CREATED))
		{
			bool		inf;

			u->created = timestamp_arg(fcinfo, U_CREATED, &inf);
			if (inf)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("created cannot be infinity"),
						 errhidestmt(true)));
			u->has_created = true;
		}
		if (api >= IDSESS_API_1_2)
		{
			u->tenant = idsess_arg_id_opt(fcinfo, U_TENANT, "tenant", IDSESS_MAX_ID_CHARS);
			u->tenant_given = u->tenant != NULL;
		}
		/* Rekeying to the same key is no rekey. */
		if (u->new_key && same_text(PointerGetDatum(u->key), PointerGetDatum(u->new_key)))
			u->new_key = NULL;
	}
	else
		u->display = idsess_arg_id_opt(fcinfo, U_DISPLAY, "display_name", IDSESS_MAX_ID_CHARS);
	if (api >= IDSESS_API_1_2)
	{
		/* 0 is allowed for an upsert's new session only: checked there. */
		if (!PG_ARGISNULL(U_MAX_LIFETIME))
			u->max_lifetime = max_lifetime_arg(fcinfo, U_MAX_LIFETIME, true);
		idsess_strength_args(fcinfo, U_ACR, U_AMR, U_AUTH_TIME, &u->strength);
		idsess_client_args(fcinfo, U_CLIENT_IP, U_USER_AGENT, U_DEVICE, &u->client);
	}

	u->ticket = ticket_arg(fcinfo, U_TICKET, U_TICKET_BYTES, false, &u->format);
	if (!PG_ARGISNULL(U_EXPIRES))
	{
		u->expires = timestamp_arg(fcinfo, U_EXPIRES, &u->never);
		u->set_expires = true;
	}
	if (!PG_ARGISNULL(U_RENEWED))
	{
		bool		inf;

		u->renewed = timestamp_arg(fcinfo, U_RENEWED, &inf);
		if (inf)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("renewed cannot be infinity"),
					 errhidestmt(true)));
	}
}

/*
 * The upsert half of idsess_update: no live session has the key, create
 * one from the arguments as idsess_create would, its row's copy of its
 * clients already holding `clients` (0: none), which the caller then adds.
 */
static int64
upsert_session(IdsessApi api, const UpdateArgs *u)
{
	NewSession	ns;
	Datum		ended = (Datum) 0;

	if (u->ticket == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("a ticket is required to create the session"),
				 errhint("Give ticket (text) or ticket_bytes (bytea)."),
				 errhidestmt(true)));
	memset(&ns, 0, sizeof(ns));
	ns.key = u->new_key ? u->new_key : u->key;
	ns.ticket = u->ticket;
	ns.format = u->format;
	ns.display = u->clear_display ? NULL : u->display;
	ns.subject = u->clear_subject ? NULL : u->subject;
	ns.sid = u->sid ? u->sid : hex_id(16);
	ns.scheme = u->scheme ? u->scheme : cstring_to_text("idsrv");
	ns.issuer = u->clear_issuer ? NULL : u->issuer;
	ns.created = u->has_created ? u->created : GetCurrentTransactionStartTimestamp();
	ns.has_expires = u->set_expires && !u->never;
	ns.expires = u->expires;
	if (ns.has_expires && ns.expires < ns.created)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("expires must not be before created"),
				 errhint("Give a later expires, or infinity for a session that never expires."),
				 errhidestmt(true)));
	ns.idle = u->idle_given ? (interval_is_zero(u->idle) ? NULL : u->idle) : default_idle();
	ns.limit = idsess_max_sessions_per_subject;
	if (u->clients)
		ns.client_list = new_client_list(u->clients, u->client_sids);
	if (api >= IDSESS_API_1_2)
		cap_new_session(&ns, u->max_lifetime);
	ns.strength = u->strength;
	ns.client = u->client;
	ns.tenant = u->tenant;

	return insert_session(&ns, api, &ended, true, u->new_key == NULL);
}

/*
 * The ticket of a session being rekeyed, opened with its old key and sealed
 * under the new one; the plaintext is wiped, on error paths too.
 */
static bytea *
reseal_stored_ticket(IdsessApi api, text *key, text *new_key, bytea *sealed, int32 *key_id)
{
	bytea	   *volatile plain = NULL;
	bytea	   *volatile resealed = NULL;
	char		format;

	PG_TRY();
	{
		plain = idsess_unseal(sealed, &format, VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key));
		if (format != IDSESS_FORMAT_TEXT && format != IDSESS_FORMAT_BYTES)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("sealed ticket has an unknown format")));
		resealed = seal_ticket(api, new_key, format, plain, key_id);
	}
	PG_CATCH();
	{
		if (plain)
			explicit_bzero(plain, VARSIZE(plain));
		PG_RE_THROW();
	}
	PG_END_TRY();
	explicit_bzero(plain, VARSIZE(plain));
	return resealed;
}

static Datum
update_session(FunctionCallInfo fcinfo, IdsessApi api)
{
	bool		api_1_1 = api >= IDSESS_API_1_1;
	UpdateArgs	u;
	bytea	   *sealed = NULL;
	int32		key_id = 0;
	Datum		arg;
	Datum		args[UPDATE_NARGS_12];
	char		nulls[UPDATE_NARGS_12];
	bool		rebuild_copies;
	int64		id;
	TimestampTz created;
	Datum		stored;
	bool		isnull;

	parse_update_args(fcinfo, api, &u);
	idsess_tenant_require_all("idsess_update");
	idsess_spi_connect();
	arg = PointerGetDatum(u.key);
	if (idsess_spi_run(&q_lock_for_update[api], &arg, NULL, false, 1) == 0)
	{
		/*
		 * "Revoked" must not read as "gone": gone invites a create.  An
		 * upsert under this same key is checked by the insert instead
		 * (after it, which also catches a revocation it waited for).
		 */
		if ((!u.upsert || u.new_key) && idsess_key_is_revoked(u.key))
			refuse_revoked_session();
		if (!u.upsert)
		{
			SPI_finish();
			PG_RETURN_BOOL(false);
		}
		id = upsert_session(api, &u);
		/* A new session has no clients to keep or remove. */
		if (u.nclients > 0)
			set_clients(id, u.clients, u.client_sids, false);
		SPI_finish();
		PG_RETURN_BOOL(true);
	}
	if (u.max_lifetime && interval_is_zero(u.max_lifetime))
		(void) max_lifetime_arg(fcinfo, U_MAX_LIFETIME, false);
	id = DatumGetInt64(idsess_spi_get(0, 1, &isnull));
	if (u.tenant_given)
	{
		Datum		stored_tenant = idsess_spi_get(0, 6, &isnull);

		/* A session never moves between tenants: their admins see it apart. */
		if (isnull || !same_text(stored_tenant, PointerGetDatum(u.tenant)))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the session belongs to another tenant"),
					 errdetail("A session's tenant is set when it is created and never changes."),
					 errhint("Give the session's own tenant, or none."),
					 errhidestmt(true)));
	}
	created = u.has_created ? u.created : DatumGetTimestampTz(idsess_spi_get(0, 2, &isnull));
	rebuild_copies = api_1_1 && DatumGetBool(idsess_spi_get(0, 5, &isnull));
	/* In SPI's memory until SPI_finish; later queries do not free it. */
	stored = idsess_spi_get(0, 4, &isnull);
	if (!u.set_expires)
	{
		Datum		old = idsess_spi_get(0, 3, &isnull);

		/* A new created must not pass the expiry the session keeps. */
		if (!isnull && u.has_created && DatumGetTimestampTz(old) < created)
			ereport(ERROR,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("created must not be after the session's expiry"),
					 errhint("Give a later expires with it."),
					 errhidestmt(true)));
	}
	else if (!u.never && u.expires < created)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("expires must not be before the session was created"),
				 errhint("Give a later expires, or infinity for a session that never expires."),
				 errhidestmt(true)));

	if (u.new_key)
	{
		if (idsess_key_is_revoked(u.new_key))
			refuse_revoked_key();
		if (key_taken(u.new_key))
			refuse_taken_key(true);

		/* The seal is bound to the key: reseal the kept ticket under the new one. */
		if (u.ticket == NULL)
			sealed = reseal_stored_ticket(api, u.key, u.new_key, DatumGetByteaPP(stored), &key_id);
	}
	if (u.ticket)
		sealed = seal_ticket(api, u.new_key ? u.new_key : u.key, u.format, u.ticket, &key_id);

	/*
	 * The clients first, so that the update below refreshes the row's copy
	 * of them in the same write.  A key change comes with a login or
	 * consent step, which adds clients.
	 */
	if (u.clients && set_clients(id, u.clients, u.client_sids, u.new_key == NULL))
		rebuild_copies = true;

	args[0] = Int64GetDatum(id);
	args[1] = TimestampTzGetDatum(u.renewed);
	args[2] = BoolGetDatum(u.set_expires);
	args[3] = TimestampTzGetDatum(u.expires);
	args[4] = Int32GetDatum(key_id);
	args[5] = PointerGetDatum(sealed);
	args[6] = PointerGetDatum(u.display);
	args[7] = PointerGetDatum(u.subject);
	args[8] = PointerGetDatum(u.sid);
	args[9] = TimestampTzGetDatum(u.created);
	args[10] = PointerGetDatum(u.scheme);
	args[11] = PointerGetDatum(u.issuer);
	args[12] = PointerGetDatum(u.new_key);
	args[13] = PointerGetDatum(u.idle);
	args[14] = PointerGetDatum(u.max_lifetime);
	args[15] = PointerGetDatum(u.strength.acr);
	args[16] = u.strength.amr;
	args[17] = TimestampTzGetDatum(u.strength.auth_time);
	args[18] = u.client.ip;
	args[19] = PointerGetDatum(u.client.agent);
	args[20] = PointerGetDatum(u.client.device);
	args[21] = u.client.recording ? PointerGetDatum(idsess_activity_granularity()) : (Datum) 0;
	memset(nulls, ' ', sizeof(nulls));
	nulls[3] = (u.set_expires && !u.never) ? ' ' : 'n';
	nulls[4] = sealed ? ' ' : 'n';
	nulls[5] = sealed ? ' ' : 'n';
	nulls[6] = u.display ? ' ' : 'n';
	nulls[7] = u.subject ? ' ' : 'n';
	nulls[8] = u.sid ? ' ' : 'n';
	nulls[9] = u.has_created ? ' ' : 'n';
	nulls[10] = u.scheme ? ' ' : 'n';
	nulls[11] = u.issuer ? ' ' : 'n';
	nulls[12] = u.new_key ? ' ' : 'n';
	nulls[13] = u.idle ? ' ' : 'n';
	nulls[14] = u.max_lifetime ? ' ' : 'n';
	nulls[15] = u.strength.acr ? ' ' : 'n';
	nulls[16] = u.strength.amr ? ' ' : 'n';
	nulls[17] = u.strength.has_auth_time ? ' ' : 'n';
	nulls[18] = u.client.ip ? ' ' : 'n';
	nulls[19] = u.client.agent ? ' ' : 'n';
	nulls[20] = u.client.device ? ' ' : 'n';
	nulls[21] = u.client.recording ? ' ' : 'n';
	/* A session created with new_key since this statement's snapshot: refused here. */
	write_key(api >= IDSESS_API_1_2 ? &q_update_12[rebuild_copies] :
			  api_1_1 ? &q_update_11[rebuild_copies] : &q_update_10, args, nulls, true);
	/* Counted whether or not it was a HOT update: at worst an early look. */
	idsess_note_search_rows(1);
	{
		Datum		due = idsess_spi_get(0, 1, &isnull);

		if (!isnull)
			idsess_nudge_worker(DatumGetTimestampTz(due));
	}
	SPI_finish();
	PG_RETURN_BOOL(true);
}

static IdsessQuery q_touch = {
	.sql = "UPDATE idsess.sessions s SET last_active = pg_catalog.now() "
	"WHERE s.key = $1 AND " IDSESS_LIVE,
	.nargs = 1, .argtypes = {TEXTOID}
};

/* 1.2, recording the client: q_touch and the activity (SET_ACTIVITY). */
static IdsessQuery q_touch_activity = {
	.sql = "UPDATE idsess.sessions s SET last_active = pg_catalog.now(), "
	SET_ACTIVITY("pg_catalog.now()", "$2", "$3", "$4", "$5")
	" WHERE s.key = $1 AND " IDSESS_LIVE,
	.nargs = 5, .argtypes = {TEXTOID, INETOID, TEXTOID, TEXTOID, INTERVALOID}
};

/*
 * With recording off (the default), or before 1.2, the touch of 1.0: the
 * client arguments are checked and dropped.
 */
static Datum
touch(FunctionCallInfo fcinfo, IdsessApi api)
{
	text	   *key = idsess_arg_id(fcinfo, 0, "key", IDSESS_MAX_ID_CHARS);
	IdsessClient client = {0};
	Datum		args[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
	int			n;

	if (api >= IDSESS_API_1_2)
		idsess_client_args(fcinfo, 1, 2, 3, &client);
	args[0] = PointerGetDatum(key);
	idsess_spi_connect();
	if (!client.recording)
		n = idsess_spi_run(&q_touch, args, NULL, false, 1);
	else
	{
		args[1] = client.ip;
		args[2] = PointerGetDatum(client.agent);
		args[3] = PointerGetDatum(client.device);
		args[4] = PointerGetDatum(idsess_activity_granularity());
		nulls[1] = client.ip ? ' ' : 'n';
		nulls[2] = client.agent ? ' ' : 'n';
		nulls[3] = client.device ? ' ' : 'n';
		n = idsess_spi_run(&q_touch_activity, args, nulls, false, 1);
	}
	SPI_finish();
	PG_RETURN_BOOL(n > 0);
}

PG_FUNCTION_INFO_V1(idsess_touch);
Datum
idsess_touch(PG_FUNCTION_ARGS)
{
	return touch(fcinfo, idsess_unversioned_api(fcinfo, 1, 1));
}

PG_FUNCTION_INFO_V1(idsess_touch_1_2);
Datum
idsess_touch_1_2(PG_FUNCTION_ARGS)
{
	return touch(fcinfo, IDSESS_API_1_2);
}

/*
 * Ends the sessions an already-run DELETE removed (RET_ID, or from a 1.2
 * schema RET_ID_TENANT), counted as `event`.
 */
static void
end_sessions_of_result(IdsessApi api, int n, IdsessEvent event)
{
	IdsessEnding ending = {0};
	bool		isnull;

	ending.schema = api;
	ending.n = n;
	ending.event = event;
	ending.ids = palloc(sizeof(int64) * n);
	if (api >= IDSESS_API_1_2)
	{
		ending.tenants = palloc(sizeof(Datum) * n);
		ending.tenant_nulls = palloc(sizeof(bool) * n);
	}
	for (int i = 0; i < n; i++)
	{
		ending.ids[i] = DatumGetInt64(idsess_spi_get(i, 1, &isnull));
		if (ending.tenants)
			ending.tenants[i] = idsess_spi_get(i, 2, &ending.tenant_nulls[i]);
	}
	idsess_end_sessions(&ending);
}

static IdsessQuery q_delete[2] = {
	{.sql = "DELETE FROM idsess.sessions WHERE key = $1" RET_ID, .nargs = 1, .argtypes = {TEXTOID}},
	{.sql = "DELETE FROM idsess.sessions WHERE key = $1" RET_ID_TENANT, .nargs = 1,
	.argtypes = {TEXTOID}}
};

/* Statements of the admin paths for a caller restricted to some tenants (1.2). */
#define IN_TENANT " AND " IDSESS_TENANT_VISIBLE("tenant")
static IdsessQuery q_delete_tenant = {
	.sql = "DELETE FROM idsess.sessions WHERE key = $1" IN_TENANT RET_ID_TENANT,
	.nargs = 1, .argtypes = {TEXTOID}
};

static Datum
delete(FunctionCallInfo fcinfo, IdsessApi api)
{
	text	   *key = idsess_arg_id(fcinfo, 0, "key", IDSESS_MAX_ID_CHARS);
	Datum		arg = PointerGetDatum(key);
	int			n;

	idsess_spi_connect();
	n = idsess_spi_run(idsess_tenant_restricted() ? &q_delete_tenant :
					   &q_delete[api >= IDSESS_API_1_2], &arg, NULL,
					   false, 0);
	if (n > 0)
		end_sessions_of_result(api, n, IDSESS_EV_DELETED);
	SPI_finish();
	PG_RETURN_BOOL(n > 0);
}

/*
 * Exact filters: one plan per combination, so each can use its index; [0]
 * for a 1.0 result type, [1] for 1.1's (with issuer and client sids).  By
 * sid alone, get_sessions reads the index directly (lookup.c).
 */
#define BY_SUBJECT " FROM idsess.sessions s WHERE s.subject_id = $1 AND " IDSESS_LIVE " ORDER BY s.id"
#define BY_BOTH " FROM idsess.sessions s WHERE s.subject_id = $1 AND s.session_id = $2 AND " \
	IDSESS_LIVE " ORDER BY s.id"
static IdsessQuery q_sessions_by_subject[2] = {
	{.sql = "SELECT " IDSESS_SESSION_COLS BY_SUBJECT, .nargs = 1, .argtypes = {TEXTOID}},
	{.sql = "SELECT " IDSESS_SESSION_COLS_11 BY_SUBJECT, .nargs = 1, .argtypes = {TEXTOID}}
};
static IdsessQuery q_sessions_by_both[2] = {
	{.sql = "SELECT " IDSESS_SESSION_COLS BY_BOTH, .nargs = 2, .argtypes = {TEXTOID, TEXTOID}},
	{.sql = "SELECT " IDSESS_SESSION_COLS_11 BY_BOTH, .nargs = 2, .argtypes = {TEXTOID, TEXTOID}}
};

static Datum
get_sessions(FunctionCallInfo fcinfo, IdsessApi api)
{
	text	   *subject = idsess_arg_id_opt(fcinfo, 0, "subject_id", IDSESS_MAX_ID_CHARS);
	text	   *sid = idsess_arg_id_opt(fcinfo, 1, "session_id", IDSESS_MAX_ID_CHARS);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Tuplestorestate *tupstore;
	int			n;
	int			pin;

	idsess_require_filter(subject, sid);
	idsess_tenant_require_all("idsess_get_sessions");
	tupstore = idsess_ticket_srf(fcinfo);
	/* By sid alone: node-oidc-provider's findByUid, without the executor. */
	if (subject == NULL)
	{
		idsess_get_by_sid(fcinfo, sid, api);
		return (Datum) 0;
	}
	idsess_check_natts(rsinfo->setDesc, api >= IDSESS_API_1_1 ?
					   IDSESS_S_NATTS_1_1 : IDSESS_S_NATTS_1_0, "idsess.session");
	/* 1.1 pins no search_path on this function (spi.c). */
	pin = idsess_pin_search_path();
	idsess_spi_connect();
	n = idsess_run_exact(&q_sessions_by_subject[api >= IDSESS_API_1_1], NULL,
						 &q_sessions_by_both[api >= IDSESS_API_1_1], subject, sid, true);
	emit_sessions(tupstore, rsinfo->setDesc, n, api);
	SPI_finish();
	idsess_unpin_search_path(pin);
	return (Datum) 0;
}

#define BY_SUBJECT_DEL "DELETE FROM idsess.sessions WHERE subject_id = $1"
#define BY_SID_DEL "DELETE FROM idsess.sessions WHERE session_id = $1"
#define BY_BOTH_DEL "DELETE FROM idsess.sessions WHERE subject_id = $1 AND session_id = $2"
static IdsessQuery q_delete_by_subject[2] = {
	{.sql = BY_SUBJECT_DEL RET_ID, .nargs = 1, .argtypes = {TEXTOID}},
	{.sql = BY_SUBJECT_DEL RET_ID_TENANT, .nargs = 1, .argtypes = {TEXTOID}}
};
static IdsessQuery q_delete_by_sid[2] = {
	{.sql = BY_SID_DEL RET_ID, .nargs = 1, .argtypes = {TEXTOID}},
	{.sql = BY_SID_DEL RET_ID_TENANT, .nargs = 1, .argtypes = {TEXTOID}}
};
static IdsessQuery q_delete_by_both[2] = {
	{.sql = BY_BOTH_DEL RET_ID, .nargs = 2, .argtypes = {TEXTOID, TEXTOID}},
	{.sql = BY_BOTH_DEL RET_ID_TENANT, .nargs = 2, .argtypes = {TEXTOID, TEXTOID}}
};
static IdsessQuery q_delete_by_subject_tenant = {
	.sql = BY_SUBJECT_DEL IN_TENANT RET_ID_TENANT, .nargs = 1, .argtypes = {TEXTOID}
};
static IdsessQuery q_delete_by_sid_tenant = {
	.sql = BY_SID_DEL IN_TENANT RET_ID_TENANT, .nargs = 1, .argtypes = {TEXTOID}
};
static IdsessQuery q_delete_by_both_tenant = {
	.sql = BY_BOTH_DEL IN_TENANT RET_ID_TENANT, .nargs = 2, .argtypes = {TEXTOID, TEXTOID}
};

static Datum
delete_sessions(FunctionCallInfo fcinfo, IdsessApi api)
{
	text	   *subject = idsess_arg_id_opt(fcinfo, 0, "subject_id", IDSESS_MAX_ID_CHARS);
	text	   *sid = idsess_arg_id_opt(fcinfo, 1, "session_id", IDSESS_MAX_ID_CHARS);
	int			n;

	idsess_require_filter(subject, sid);
	idsess_spi_connect();
	if (idsess_tenant_restricted())
		n = idsess_run_exact(&q_delete_by_subject_tenant, &q_delete_by_sid_tenant,
							 &q_delete_by_both_tenant, subject, sid, false);
	else
	{
		bool		v = api >= IDSESS_API_1_2;

		n = idsess_run_exact(&q_delete_by_subject[v], &q_delete_by_sid[v], &q_delete_by_both[v],
							 subject, sid, false);
	}
	if (n > 0)
		end_sessions_of_result(api, n, IDSESS_EV_DELETED);
	SPI_finish();
	PG_RETURN_INT64(n);
}

/*
 * 1.2's lease argument: positive and at most a day, the same bound as
 * idsess_proxy's leases on logouts.
 */
static Interval *
lease_arg(FunctionCallInfo fcinfo, int argno)
{
	Interval   *lease;
	Interval	zero = {0};
	Interval	day = {.day = 1};

	if (PG_ARGISNULL(argno))
		return NULL;
	lease = PG_GETARG_INTERVAL_P(argno);
	if (DatumGetBool(DirectFunctionCall2(interval_le, IntervalPGetDatum(lease),
										 IntervalPGetDatum(&zero))) ||
		DatumGetBool(DirectFunctionCall2(interval_gt, IntervalPGetDatum(lease),
										 IntervalPGetDatum(&day))))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("lease must be positive and at most a day")));
	return lease;
}

/*
 * Duende's GetAndRemoveExpiredSessionsAsync.  From 1.2, with a lease, the
 * expired sessions are claimed instead of removed: no other caller and not
 * the worker takes them until the lease ends, and the caller names them in
 * `done` on a later call (any caller's) once it has delivered them, which
 * removes them.  A caller that fails to deliver names nothing, and the
 * sessions come back when the lease ends: at least once, across
 * transactions that commit on their own (idsess_proxy's shards).  With
 * done, count 0 only acknowledges.
 */
static Datum
take_expired(FunctionCallInfo fcinfo, IdsessApi api)
{
	bool		api_1_2 = api >= IDSESS_API_1_2;
	bool		tickets = api >= IDSESS_API_1_1 && !PG_ARGISNULL(1) && PG_GETARG_BOOL(1);
	Interval   *lease = api_1_2 ? lease_arg(fcinfo, 2) : NULL;
	Datum		done = api_1_2 && !PG_ARGISNULL(3) ? PG_GETARG_DATUM(3) : (Datum) 0;
	int			count;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Tuplestorestate *taken;

	idsess_tenant_require_all("idsess_take_expired");
	if (done && ARR_NDIM(DatumGetArrayTypeP(done)) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("done must be a one-dimensional array")));
	if (done && !PG_ARGISNULL(0) && PG_GETARG_INT32(0) == 0)
		count = 0;
	else
		count = idsess_arg_count(fcinfo, 0, 100, 100000);
	if (tickets)
		idsess_require_ticket_role();
	(void) idsess_ticket_srf(fcinfo);
	if (done)
		(void) idsess_end_claimed(api, done);
	if (count == 0)
		return (Datum) 0;
	/* Sealed tickets only: they may spill like any row. */
	taken = tuplestore_begin_heap(false, false, work_mem);
	idsess_expire_batch(api, count, false, taken, rsinfo->setDesc, NULL, lease);
	idsess_open_session_rows(taken, rsinfo->setResult, rsinfo->setDesc, tickets);
	tuplestore_end(taken);
	return (Datum) 0;
}

/*
 * Entry points: the unversioned symbol serves the 1.0 and 1.1 scripts
 * (version.c), each later script binds the symbol of its version.  Every
 * error of create and update hides the statement (hiding_statement).
 */
PG_FUNCTION_INFO_V1(idsess_create);
Datum
idsess_create(PG_FUNCTION_ARGS)
{
	return hiding_statement(create_session, fcinfo, idsess_unversioned_api(fcinfo, 11, 12));
}

PG_FUNCTION_INFO_V1(idsess_create_1_2);
Datum
idsess_create_1_2(PG_FUNCTION_ARGS)
{
	return hiding_statement(create_session, fcinfo, IDSESS_API_1_2);
}

PG_FUNCTION_INFO_V1(idsess_update);
Datum
idsess_update(PG_FUNCTION_ARGS)
{
	return hiding_statement(update_session, fcinfo, idsess_unversioned_api(fcinfo, 6, 16));
}

PG_FUNCTION_INFO_V1(idsess_update_1_2);
Datum
idsess_update_1_2(PG_FUNCTION_ARGS)
{
	return hiding_statement(update_session, fcinfo, IDSESS_API_1_2);
}

PG_FUNCTION_INFO_V1(idsess_delete);
Datum
idsess_delete(PG_FUNCTION_ARGS)
{
	return delete(fcinfo, idsess_unversioned_api(fcinfo, 1, 1));
}

PG_FUNCTION_INFO_V1(idsess_delete_1_2);
Datum
idsess_delete_1_2(PG_FUNCTION_ARGS)
{
	return delete(fcinfo, IDSESS_API_1_2);
}

PG_FUNCTION_INFO_V1(idsess_get_sessions);
Datum
idsess_get_sessions(PG_FUNCTION_ARGS)
{
	return get_sessions(fcinfo, idsess_unversioned_api(fcinfo, 2, 2));
}

PG_FUNCTION_INFO_V1(idsess_get_sessions_1_2);
Datum
idsess_get_sessions_1_2(PG_FUNCTION_ARGS)
{
	return get_sessions(fcinfo, IDSESS_API_1_2);
}

PG_FUNCTION_INFO_V1(idsess_delete_sessions);
Datum
idsess_delete_sessions(PG_FUNCTION_ARGS)
{
	return delete_sessions(fcinfo, idsess_unversioned_api(fcinfo, 2, 2));
}

PG_FUNCTION_INFO_V1(idsess_delete_sessions_1_2);
Datum
idsess_delete_sessions_1_2(PG_FUNCTION_ARGS)
{
	return delete_sessions(fcinfo, IDSESS_API_1_2);
}

PG_FUNCTION_INFO_V1(idsess_take_expired);
Datum
idsess_take_expired(PG_FUNCTION_ARGS)
{
	return take_expired(fcinfo, idsess_unversioned_api(fcinfo, 1, 2));
}

PG_FUNCTION_INFO_V1(idsess_take_expired_1_2);
Datum
idsess_take_expired_1_2(PG_FUNCTION_ARGS)
{
	return take_expired(fcinfo, IDSESS_API_1_2);
}
