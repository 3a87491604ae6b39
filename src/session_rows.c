/*-------------------------------------------------------------------------
 *
 * session_rows.c
 *		What the SQL-callable files share about one session's row and about
 *		result sets of sessions: locking a live session, refreshing the
 *		row's copy of its clients, exact lookups by subject and/or sid, and
 *		result sets whose tickets are opened row by row.
 *
 *-------------------------------------------------------------------------
 */
#include "idsess.h"
#include "session_rows.h"
#include "session_sql.h"
#include "tenant.h"
#include "ticket.h"

#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"

/*
 * Tickets are opened for the identity server's role only.  The function
 * runs as its owner (SECURITY DEFINER), so the role checked is the one
 * that called it: the current role outside the function.
 */
void
idsess_require_ticket_role(void)
{
	Oid			service = get_role_oid("idsess_service", true);

	if (!OidIsValid(service) || !has_privs_of_role(GetOuterUserId(), service))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to open tickets"),
				 errdetail("Only roles with the privileges of idsess_service may ask for tickets."),
				 errhint("Call without tickets => true, or as the identity server's role.")));
}

/*
 * The result of a function that returns opened tickets.
 *
 * The executor would keep a set-returning function's rows in a tuplestore
 * that spills to a temporary file past work_mem (also for value-per-call
 * functions called in FROM, which it materializes itself).  So these
 * functions materialize into a tuplestore of their own that is never
 * written to disk, and bound what they put in it instead
 * (idsess_check_opened).  The caller's own query can still spill the rows
 * (a sort, a CTE): README says to select tickets plainly.
 */
Tuplestorestate *
idsess_ticket_srf(FunctionCallInfo fcinfo)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext old;
	TupleDesc	desc;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		(rsinfo->allowedModes & SFRM_Materialize) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	rsinfo->setDesc = CreateTupleDescCopy(desc);
	/* A memory bound no result reaches: it never spills. */
	rsinfo->setResult = tuplestore_begin_heap((rsinfo->allowedModes & SFRM_Materialize_Random) != 0,
											  false, MAX_KILOBYTES);
	rsinfo->returnMode = SFRM_Materialize;
	MemoryContextSwitchTo(old);
	return rsinfo->setResult;
}

/*
 * Moves the rows idsess_expire_batch put in `from` (the sealed ticket in
 * ticket_bytes) to `to`, with the ticket opened when `tickets`, else none.
 * Each row is opened in a memory context of its own, the plaintext wiped
 * before the next.
 */
void
idsess_open_session_rows(Tuplestorestate *from, Tuplestorestate *to, TupleDesc desc,
						 bool tickets)
{
	TupleTableSlot *slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	MemoryContext rowcxt = AllocSetContextCreate(CurrentMemoryContext, "idsess session row",
												 ALLOCSET_DEFAULT_SIZES);
	Size		opened = 0;

	while (tuplestore_gettupleslot(from, true, false, slot))
	{
		MemoryContext old = MemoryContextSwitchTo(rowcxt);
		Datum	   *values;
		bool	   *nulls;

		CHECK_FOR_INTERRUPTS();
		slot_getallattrs(slot);
		values = slot->tts_values;
		nulls = slot->tts_isnull;
		if (tickets)
		{
			text	   *key = DatumGetTextPP(values[IDSESS_S_KEY]);
			char		format;
			bytea	   *plain = idsess_unseal_row(DatumGetByteaPP(values[IDSESS_S_TICKET_BYTES]),
												  &format, VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key));

			idsess_put_row_opened(to, desc, values, nulls, IDSESS_S_TICKET, plain, format, &opened);
		}
		else
		{
			nulls[IDSESS_S_TICKET] = nulls[IDSESS_S_TICKET_BYTES] = true;
			tuplestore_putvalues(to, desc, values, nulls);
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(rowcxt);
	}
	MemoryContextDelete(rowcxt);
	ExecDropSingleTupleTableSlot(slot);
}

/* [0]: to read its children, [1]: to change them (and the row's copy). */
static IdsessQuery q_lock_live[2] = {
	{.sql = "SELECT s.id FROM idsess.sessions s WHERE s.key = $1 AND " IDSESS_LIVE
	" FOR KEY SHARE", .nargs = 1, .argtypes = {TEXTOID}},
	{.sql = "SELECT s.id FROM idsess.sessions s WHERE s.key = $1 AND " IDSESS_LIVE
	" FOR NO KEY UPDATE", .nargs = 1, .argtypes = {TEXTOID}}
};

static IdsessQuery q_find_any = {
	.sql = "SELECT expires FROM idsess.sessions WHERE key = $1",
	.nargs = 1, .argtypes = {TEXTOID}
};

/*
 * The same for a caller restricted to some tenants (tenant.c): another
 * tenant's session is "not found", as a key that names none.
 */
#define IN_TENANT " AND " IDSESS_TENANT_VISIBLE("s.tenant")
static IdsessQuery q_lock_live_tenant[2] = {
	{.sql = "SELECT s.id FROM idsess.sessions s WHERE s.key = $1 AND " IDSESS_LIVE IN_TENANT
	" FOR KEY SHARE", .nargs = 1, .argtypes = {TEXTOID}},
	{.sql = "SELECT s.id FROM idsess.sessions s WHERE s.key = $1 AND " IDSESS_LIVE IN_TENANT
	" FOR NO KEY UPDATE", .nargs = 1, .argtypes = {TEXTOID}}
};
static IdsessQuery q_find_any_tenant = {
	.sql = "SELECT s.expires FROM idsess.sessions s WHERE s.key = $1" IN_TENANT,
	.nargs = 1, .argtypes = {TEXTOID}
};

/*
 * Locks a live session and returns its id; an unknown or expired session is
 * an error.  To read its children, FOR KEY SHARE: readers share it while a
 * delete or revoke waits for them.  With for_write, to change them, FOR NO
 * KEY UPDATE: writers of one session's children take turns, each seeing
 * the last one's change, so that each leaves the row's copy of them
 * (idsess_refresh_copy) complete.  The caller is connected to SPI.
 */
int64
idsess_lock_live_session(text *key, bool for_write)
{
	Datum		arg = PointerGetDatum(key);
	bool		isnull;

	bool		restricted = idsess_tenant_restricted();

	if (idsess_spi_run(restricted ? &q_lock_live_tenant[for_write] : &q_lock_live[for_write],
					   &arg, NULL, false, 1) > 0)
		return DatumGetInt64(idsess_spi_get(0, 1, &isnull));

	/* A fresh snapshot: a revoke we waited for must not look like expiry. */
	if (idsess_spi_run(restricted ? &q_find_any_tenant : &q_find_any, &arg, NULL, false, 1) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("session has expired"),
				 errdetail("The session is past its expiry or inactivity timeout and awaits removal."),
				 errhint("Sign the user in again to create a new session.")));
	ereport(ERROR,
			(errcode(ERRCODE_NO_DATA_FOUND),
			 errmsg("session not found"),
			 errdetail("No session has this key."),
			 errhint("The session may have been revoked, deleted or expired.")));
	pg_unreachable();
}

static IdsessQuery q_refresh_copy = {
	.sql = "UPDATE idsess.sessions SET client_list = " IDSESS_CLIENT_LIST_OF("$1") ", "
	"saml_list = " IDSESS_SAML_LIST_OF("$1") " WHERE id = $1",
	.nargs = 1, .argtypes = {INT8OID}
};

/*
 * Refreshes session id's copy of its clients and SAML SP sessions (see
 * IDSESS_CLIENT_LIST_OF) after the caller changed them.  The caller is
 * connected to SPI and holds the row's FOR NO KEY UPDATE lock since before
 * its change.  A 1.0 schema has no copy.
 */
void
idsess_refresh_copy(int64 id, IdsessApi schema)
{
	Datum		arg = Int64GetDatum(id);

	if (schema >= IDSESS_API_1_1)
		idsess_spi_run(&q_refresh_copy, &arg, NULL, false, 0);
}

/* Runs one of three queries by which of subject and sid are given. */
int
idsess_run_exact(IdsessQuery *by_subject, IdsessQuery *by_sid, IdsessQuery *by_both,
				 text *subject, text *sid, bool read_only)
{
	Datum		args[2];

	if (subject && sid)
	{
		args[0] = PointerGetDatum(subject);
		args[1] = PointerGetDatum(sid);
		return idsess_spi_run(by_both, args, NULL, read_only, 0);
	}
	args[0] = PointerGetDatum(subject ? subject : sid);
	return idsess_spi_run(subject ? by_subject : by_sid, args, NULL, read_only, 0);
}
