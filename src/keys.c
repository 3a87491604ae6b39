/*-------------------------------------------------------------------------
 *
 * keys.c
 *		Key operations: rotate the data key, re-seal tickets under the
 *		active key, retire or destroy an old key, re-wrap the key ring under
 *		a new master key; and the automatic rotation the worker runs.
 *
 * Every operation is recorded in idsess.audit, and every one but the
 * re-wrap, which changes no data key, makes every backend drop its cached
 * keys (keyring.c).  None of these functions is granted to the
 * extension's roles: key management is for the database owner or a
 * superuser.
 *
 *-------------------------------------------------------------------------
 */
#include "idsess.h"
#include "version.h"
#include "keys.h"
#include "arrays.h"
#include "envelope.h"
#include "keyring.h"
#include "settings.h"
#include "spi.h"
#include "ticket.h"
#include "validate.h"

#include <limits.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/lockdefs.h"
#include "utils/builtins.h"
#include "utils/memutils.h"


static IdsessQuery q_audit_key = {
	.sql = "INSERT INTO idsess.audit (action, key_id, sessions) VALUES ($1, $2, $3)",
	.nargs = 3, .argtypes = {TEXTOID, INT4OID, INT4OID}
};

static void
audit_key(const char *action, int32 key_id, int64 tickets, bool has_tickets)
{
	Datum		args[3];
	char		nulls[3] = {' ', ' ', ' '};

	args[0] = CStringGetTextDatum(action);
	args[1] = Int32GetDatum(key_id);
	args[2] = Int32GetDatum((int32) tickets);
	nulls[2] = has_tickets ? ' ' : 'n';
	idsess_spi_run(&q_audit_key, args, nulls, false, 0);
}

static IdsessQuery q_lock_keys = {
	.sql = "LOCK TABLE idsess.keys IN SHARE ROW EXCLUSIVE MODE", .nargs = 0
};
static IdsessQuery q_next_id = {
	.sql = "SELECT COALESCE(pg_catalog.max(id), 0) + 1 FROM idsess.keys", .nargs = 0
};
static IdsessQuery q_deactivate = {
	.sql = "UPDATE idsess.keys SET state = 'inactive', deactivated = pg_catalog.now() "
	"WHERE state = 'active'", .nargs = 0
};
static IdsessQuery q_add_active = {
	.sql = "INSERT INTO idsess.keys (id, state, wrapped) VALUES ($1, 'active', $2)",
	.nargs = 2, .argtypes = {INT4OID, BYTEAOID}
};

/* Makes a new data key active; the previous one keeps opening its tickets. */
static int32
rotate(void)
{
	bool		isnull;
	int32		id;
	Datum		args[2];

	/* Serializes rotations; seals and opens go on (they only read). */
	idsess_spi_run(&q_lock_keys, NULL, NULL, false, 0);
	idsess_spi_run(&q_next_id, NULL, NULL, false, 1);
	id = DatumGetInt32(idsess_spi_get(0, 1, &isnull));
	args[0] = Int32GetDatum(id);
	args[1] = PointerGetDatum(idsess_new_wrapped_key(id));
	idsess_spi_run(&q_deactivate, NULL, NULL, false, 0);
	idsess_spi_run(&q_add_active, args, NULL, false, 0);
	audit_key("key rotate", id, 0, false);
	idsess_keyring_changed();
	return id;
}

PG_FUNCTION_INFO_V1(idsess_key_rotate);
Datum
idsess_key_rotate(PG_FUNCTION_ARGS)
{
	int32		id;

	idsess_spi_connect();
	id = rotate();
	SPI_finish();
	PG_RETURN_INT32(id);
}

static IdsessQuery q_active_age = {
	.sql = "SELECT pg_catalog.now() - created >= $1 FROM idsess.keys WHERE state = 'active'",
	.nargs = 1, .argtypes = {INTERVALOID}
};

/*
 * Rotates when the active key is older than idsess.key_lifetime.  Run by the
 * worker in its own transaction.  Returns whether it rotated.
 */
bool
idsess_rotate_if_old(void)
{
	Interval   *lifetime;
	Datum		arg;
	bool		old = false;
	bool		isnull;

	if (idsess_key_lifetime_min <= 0)
		return false;
	lifetime = palloc0(sizeof(Interval));
	lifetime->time = (int64) idsess_key_lifetime_min * USECS_PER_MINUTE;
	arg = PointerGetDatum(lifetime);
	idsess_spi_connect();
	if (idsess_spi_run(&q_active_age, &arg, NULL, false, 1) > 0)
		old = DatumGetBool(idsess_spi_get(0, 1, &isnull));
	if (old)
	{
		int32		id = rotate();

		ereport(LOG,
				(errmsg("idsess rotated its data key: key %d is now active", id),
				 errdetail("The previous key was older than idsess.key_lifetime.")));
	}
	SPI_finish();
	return old;
}

/*
 * Tickets under inactive keys, skipping those this backend already found
 * unopenable ($3) and rows other transactions hold.
 */
static IdsessQuery q_stale_tickets = {
	.sql = "SELECT s.id, s.key, s.ticket, s.session_id, s.key_id FROM idsess.sessions s "
	"WHERE s.key_id <> $1 AND s.key_id IN (SELECT k.id FROM idsess.keys k WHERE k.state = 'inactive') "
	"AND s.id <> ALL ($3) "
	"ORDER BY s.key_id, s.id LIMIT $2 FOR UPDATE OF s SKIP LOCKED",
	.nargs = 3, .argtypes = {INT4OID, INT4OID, INT8ARRAYOID}
};
static IdsessQuery q_reseal_one = {
	.sql = "UPDATE idsess.sessions SET ticket = $2, key_id = $3 WHERE id = $1",
	.nargs = 3, .argtypes = {INT8OID, BYTEAOID, INT4OID}
};
static IdsessQuery q_audit_skip = {
	.sql = "INSERT INTO idsess.audit (action, key_id, session_id, sessions) "
	"VALUES ('reseal skipped', $1, $2, 1)",
	.nargs = 2, .argtypes = {INT4OID, TEXTOID}
};

/*
 * Sessions (row ids) whose tickets this backend found unopenable while
 * re-sealing: later batches skip them, so one bad ticket neither fails nor
 * slows every round, and each is reported once per backend.
 */
static int64 *unopenable = NULL;
static int	nunopenable = 0;
static int	maxunopenable = 0;

/*
 * Reports a ticket re-sealing skips, once: a WARNING naming the session's
 * sid (never anything from the ticket) and a 'reseal skipped' audit row.
 */
static void
skip_ticket(int64 id, int32 key_id, text *sid, IdsessOpenFailure why)
{
	Datum		args[2];
	char	   *sidstr = text_to_cstring(sid);

	if (nunopenable == maxunopenable)
	{
		maxunopenable = maxunopenable ? 2 * maxunopenable : 16;
		unopenable = unopenable ?
			repalloc(unopenable, maxunopenable * sizeof(int64)) :
			MemoryContextAlloc(TopMemoryContext, maxunopenable * sizeof(int64));
	}
	unopenable[nunopenable++] = id;

	ereport(WARNING,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("idsess_reseal skipped the ticket of session \"%s\", which does not open", sidstr),
			 why == IDSESS_OPEN_MALFORMED || why == IDSESS_OPEN_FORGED ?
			 errdetail("The stored ticket was altered, or was sealed for another session.") :
			 errdetail("The ticket's header names a data key that is not in the key ring or has ended."),
			 errhint("Delete the session (or restore its row); until then data key %d keeps this ticket and cannot be retired.", key_id)));
	args[0] = Int32GetDatum(key_id);
	args[1] = PointerGetDatum(sid);
	idsess_spi_run(&q_audit_skip, args, NULL, false, 0);
}

/*
 * Re-seals the ticket in one row of q_stale_tickets under `active`, with
 * everything it allocates (the detoasted ticket, the plaintext, the new
 * seal) in rowcxt, which the caller resets after each row; the plaintext is
 * wiped first, on error paths too.  Returns false when the ticket does not
 * open (then reported and skipped).
 */
static bool
reseal_row(const IdsessKey *active, bool may_compress, HeapTuple tup, TupleDesc desc,
		   MemoryContext rowcxt)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(rowcxt);
	bool		isnull;
	int64		id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
	text	   *key = DatumGetTextPP(SPI_getbinval(tup, desc, 2, &isnull));
	bytea	   *sealed = DatumGetByteaPP(SPI_getbinval(tup, desc, 3, &isnull));
	char		format;
	IdsessOpenFailure why = IDSESS_OPENED;
	bytea	   *volatile plain = NULL;

	PG_TRY();
	{
		plain = idsess_try_unseal(sealed, &format, VARDATA_ANY(key),
								  VARSIZE_ANY_EXHDR(key), &why);
		if (plain != NULL)
		{
			Datum		upd[3];

			upd[0] = Int64GetDatum(id);
			upd[1] = PointerGetDatum(idsess_seal_ticket_with(active, format, VARDATA_ANY(key),
															 VARSIZE_ANY_EXHDR(key),
															 VARDATA_ANY(plain),
															 VARSIZE_ANY_EXHDR(plain),
															 may_compress));
			upd[2] = Int32GetDatum(active->id);
			explicit_bzero(VARDATA_ANY(plain), VARSIZE_ANY_EXHDR(plain));
			idsess_spi_run(&q_reseal_one, upd, NULL, false, 0);
		}
		else
			skip_ticket(id, DatumGetInt32(SPI_getbinval(tup, desc, 5, &isnull)),
						DatumGetTextPP(SPI_getbinval(tup, desc, 4, &isnull)), why);
	}
	PG_FINALLY();
	{
		if (plain != NULL)
			explicit_bzero(VARDATA_ANY(plain), VARSIZE_ANY_EXHDR(plain));
		MemoryContextSwitchTo(oldcxt);
	}
	PG_END_TRY();
	return why == IDSESS_OPENED;
}

/*
 * Re-seals up to `limit` tickets sealed under inactive keys with the active
 * key.  Returns how many; 0 when none are left that open.  Memory stays
 * bounded by one row's tickets whatever the batch size.
 */
int
idsess_reseal_batch(IdsessApi schema, int limit)
{
	IdsessKey	active;
	volatile int done = 0;

	/* One copy of the active key for the whole batch, wiped on every path. */
	idsess_active_key(&active);
	PG_TRY();
	{
		MemoryContext rowcxt;
		int			skipped;

		idsess_spi_connect();
		rowcxt = AllocSetContextCreate(CurrentMemoryContext, "idsess reseal row",
									   ALLOCSET_DEFAULT_SIZES);
		do
		{
			Datum		args[3];
			SPITupleTable *rows;
			int			n;

			args[0] = Int32GetDatum(active.id);
			args[1] = Int32GetDatum(limit - done);
			args[2] = idsess_int8_array(unopenable, nunopenable);
			n = idsess_spi_run(&q_stale_tickets, args, NULL, false, 0);
			rows = SPI_tuptable;
			skipped = 0;
			for (int i = 0; i < n; i++)
			{
				CHECK_FOR_INTERRUPTS();
				if (reseal_row(&active, schema >= IDSESS_API_1_1, rows->vals[i],
							   rows->tupdesc, rowcxt))
					done++;
				else
					skipped++;
				MemoryContextReset(rowcxt);
			}
			SPI_freetuptable(rows);
			/* Skipped rows left room in the batch: fill it from further on. */
		} while (skipped > 0 && done < limit);
		SPI_finish();
	}
	PG_FINALLY();
	{
		explicit_bzero(&active, sizeof(active));
	}
	PG_END_TRY();
	return done;
}

static Datum
reseal(FunctionCallInfo fcinfo, IdsessApi api)
{
	int			limit = idsess_arg_count(fcinfo, 0, 1000, 100000);

	PG_RETURN_INT32(idsess_reseal_batch(api, limit));
}

static IdsessQuery q_key_state = {
	.sql = "SELECT state, (SELECT pg_catalog.count(*) FROM idsess.sessions s WHERE s.key_id = k.id) "
	"FROM idsess.keys k WHERE k.id = $1 FOR UPDATE",
	.nargs = 1, .argtypes = {INT4OID}
};
static IdsessQuery q_end_key = {
	.sql = "UPDATE idsess.keys SET state = $2, wrapped = NULL, destroyed = pg_catalog.now() WHERE id = $1",
	.nargs = 2, .argtypes = {INT4OID, TEXTOID}
};

/*
 * Locks key `id`; returns its state and how many tickets it still seals.
 * The key's seal lock, taken first, waits for every transaction still
 * sealing under the key; the count then reads the latest snapshot, whatever
 * the isolation level, so it includes their tickets.
 */
static char *
lock_key(int32 id, int64 *tickets)
{
	Datum		arg = Int32GetDatum(id);
	bool		isnull;
	char	   *state;

	idsess_lock_key(id, ExclusiveLock);
	if (idsess_spi_run_latest(&q_key_state, &arg, NULL, false, 1) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("data key %d does not exist", id),
				 errhint("SELECT * FROM idsess.key_ring lists the keys.")));
	state = TextDatumGetCString(idsess_spi_get(0, 1, &isnull));
	*tickets = DatumGetInt64(idsess_spi_get(0, 2, &isnull));
	if (strcmp(state, "active") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("data key %d is the active key", id),
				 errhint("Run SELECT idsess_key_rotate() first.")));
	if (strcmp(state, "inactive") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("data key %d is already %s", id, state)));
	return state;
}

/* Retires an inactive key that no ticket uses any more. */
PG_FUNCTION_INFO_V1(idsess_key_retire);
Datum
idsess_key_retire(PG_FUNCTION_ARGS)
{
	int32		id = PG_GETARG_INT32(0);
	int64		tickets;
	Datum		args[2];

	idsess_spi_connect();
	(void) lock_key(id, &tickets);
	if (tickets > 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("data key %d still seals " INT64_FORMAT " tickets", id, tickets),
				 errhint("Run SELECT idsess_reseal() until it returns 0, then retire the key.")));
	args[0] = Int32GetDatum(id);
	args[1] = CStringGetTextDatum("retired");
	idsess_spi_run(&q_end_key, args, NULL, false, 0);
	audit_key("key retire", id, 0, true);
	idsess_keyring_changed();
	SPI_finish();
	PG_RETURN_VOID();
}

/*
 * Destroys an inactive key on purpose: every ticket still sealed under it
 * can never be opened again (crypto-shredding).  The caller must spell out
 * "destroy key N".  Returns how many tickets were shredded.
 */
PG_FUNCTION_INFO_V1(idsess_key_destroy);
Datum
idsess_key_destroy(PG_FUNCTION_ARGS)
{
	int32		id;
	char		expected[64];
	int64		tickets;
	Datum		args[2];

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("key_id must not be null"),
				 errhint("SELECT * FROM idsess.key_ring lists the keys.")));
	id = PG_GETARG_INT32(0);
	snprintf(expected, sizeof(expected), "destroy key %d", id);
	if (PG_ARGISNULL(1) || strcmp(text_to_cstring(PG_GETARG_TEXT_PP(1)), expected) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("destroying a key needs confirmation"),
				 errdetail("Every ticket sealed under the key becomes unopenable, for ever."),
				 errhint("Pass confirm => '%s'.", expected)));
	idsess_spi_connect();
	(void) lock_key(id, &tickets);
	args[0] = Int32GetDatum(id);
	args[1] = CStringGetTextDatum("destroyed");
	idsess_spi_run(&q_end_key, args, NULL, false, 0);
	audit_key("key destroy", id, tickets, true);
	idsess_keyring_changed();
	SPI_finish();
	PG_RETURN_INT64(tickets);
}

static IdsessQuery q_wrapped_keys = {
	.sql = "SELECT id, wrapped FROM idsess.keys WHERE wrapped IS NOT NULL ORDER BY id FOR UPDATE",
	.nargs = 0
};
static IdsessQuery q_rewrap_one = {
	.sql = "UPDATE idsess.keys SET wrapped = $2 WHERE id = $1",
	.nargs = 2, .argtypes = {INT4OID, BYTEAOID}
};

/* Data key `id`, unwrapped with the current master key, wrapped under another. */
static bytea *
rewrap(int32 id, bytea *wrapped, const IdsessKey *new_master)
{
	bytea	   *secret = idsess_unwrap_secret(id, wrapped);
	bytea	   *result = NULL;

	PG_TRY();
	{
		result = idsess_wrap_secret(new_master, id, (uint8 *) VARDATA_ANY(secret));
	}
	PG_FINALLY();
	{
		explicit_bzero(VARDATA_ANY(secret), IDSESS_KEY_BYTES);
	}
	PG_END_TRY();
	return result;
}

/*
 * Whether the system would refuse a file name as too long (ENAMETOOLONG,
 * which errcode_for_file_access() reports as an internal error).
 */
static bool
file_name_too_long(const char *path)
{
	int			component = 0;

	if (strlen(path) >= MAXPGPATH)
		return true;
	for (const char *p = path; *p; p++)
	{
		component = *p == '/' ? 0 : component + 1;
		if (component > NAME_MAX)
			return true;
	}
	return false;
}

/*
 * Re-wraps every data key under the master key in new_key_file, in one
 * transaction, without touching tickets.  Afterwards idsess.master_key_file
 * must name the new file (then reload); until then running backends go on
 * with the keys they cached, and one that must unwrap a key it has not
 * cached cannot.
 */
PG_FUNCTION_INFO_V1(idsess_rewrap_keys);
Datum
idsess_rewrap_keys(PG_FUNCTION_ARGS)
{
	char	   *path;
	IdsessKey	new_master;
	IdsessKey	current;
	SPITupleTable *rows;
	int			n = 0;
	bool		isnull;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("new_key_file must not be null")));
	path = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (file_name_too_long(path))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("new_key_file is too long to be a file name"),
				 errdetail("A path has at most %d bytes and each of its names at most %d.",
						   MAXPGPATH - 1, NAME_MAX)));
	idsess_load_master_key(path, &new_master);
	PG_TRY();
	{
		/* Fails here, before anything changes, without a current master key. */
		idsess_master_key(&current);
		explicit_bzero(&current, sizeof(current));

		idsess_spi_connect();
		idsess_spi_run(&q_lock_keys, NULL, NULL, false, 0);
		n = idsess_spi_run(&q_wrapped_keys, NULL, NULL, false, 0);
		rows = SPI_tuptable;
		for (int i = 0; i < n; i++)
		{
			int32		id = DatumGetInt32(SPI_getbinval(rows->vals[i], rows->tupdesc, 1, &isnull));
			bytea	   *wrapped = DatumGetByteaPP(SPI_getbinval(rows->vals[i], rows->tupdesc, 2, &isnull));
			Datum		args[2];

			args[0] = Int32GetDatum(id);
			args[1] = PointerGetDatum(rewrap(id, wrapped, &new_master));
			idsess_spi_run(&q_rewrap_one, args, NULL, false, 0);
		}
	}
	PG_FINALLY();
	{
		explicit_bzero(&new_master, sizeof(new_master));
	}
	PG_END_TRY();
	audit_key("master key change", 0, n, true);

	/*
	 * No data key changed, so the keys every backend already unwrapped stay
	 * good: their caches are left alone.  Dropping them would make each
	 * backend unwrap again with the master key file it still has, the old
	 * one, and fail until the reload that names the new file.
	 */
	SPI_finish();
	PG_RETURN_INT32(n);
}

/*
 * Entry points: the unversioned symbol serves the 1.0 and 1.1 scripts
 * (version.c), each later script binds the symbol of its version.
 */
PG_FUNCTION_INFO_V1(idsess_reseal);
Datum
idsess_reseal(PG_FUNCTION_ARGS)
{
	return reseal(fcinfo, idsess_unversioned_api(fcinfo, 1, 1));
}

PG_FUNCTION_INFO_V1(idsess_reseal_1_2);
Datum
idsess_reseal_1_2(PG_FUNCTION_ARGS)
{
	return reseal(fcinfo, IDSESS_API_1_2);
}

