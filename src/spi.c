/*-------------------------------------------------------------------------
 *
 * spi.c
 *		Running the store's fixed SQL through SPI with plans prepared once
 *		per backend.
 *
 * Every statement idsess runs is a constant string with schema-qualified
 * names and parameters; no SQL is ever built from user input.
 *
 * Search path.  Its operators and casts still resolve through the
 * search_path, and a saved plan is planned again under the path current
 * when it runs, so every statement runs under IDSESS_SEARCH_PATH; a
 * statement about to run under any other path is refused.  Most functions
 * pin that path in their definition (SET search_path).  The two that
 * serve every request, idsess_get and idsess_get_sessions, do not: the
 * pin's save and restore was 4% of a get, and their usual path runs no SQL
 * at all.  What they may run (the key ring's read on a cache miss, the
 * sessions of a subject) is put between idsess_pin_search_path() and
 * idsess_unpin_search_path().
 *
 * Lifetimes.  While connected, palloc allocates in SPI's procedure context,
 * and every result table stays valid until SPI_finish (a later query does
 * not free an earlier one); SPI_finish frees all of it.  So:
 *	- idsess_spi_get() returns a Datum pointing into the result: use it only
 *	  before SPI_finish (by-value types such as int8 and timestamptz are
 *	  safe to keep, being copies);
 *	- a by-reference value used after SPI_finish is taken with
 *	  idsess_spi_copy(), or, when built from SPI results (arrays, jsonb,
 *	  opened tickets), moved out with SPI_datumTransfer() before SPI_finish;
 *	- a tuplestore filled before SPI_finish copies what it is given, so rows
 *	  put there may point into SPI memory.
 * A function returning a Datum to a caller that is connected to SPI says in
 * its comment which context the Datum lives in.
 *
 *-------------------------------------------------------------------------
 */
#include "idsess.h"
#include "spi.h"

#include "catalog/namespace.h"
#include "fmgr.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"

void
idsess_spi_connect(void)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
}

/*
 * Sets search_path to IDSESS_SEARCH_PATH, unless it is already, until
 * idsess_unpin_search_path(the returned level).  An error before that
 * restores the caller's path with the (sub)transaction's abort.
 */
int
idsess_pin_search_path(void)
{
	int			level;

	if (strcmp(namespace_search_path, IDSESS_SEARCH_PATH) == 0)
		return 0;
	level = NewGUCNestLevel();
	(void) set_config_option("search_path", IDSESS_SEARCH_PATH, PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	return level;
}

void
idsess_unpin_search_path(int level)
{
	if (level > 0)
		AtEOXact_GUC(true, level);
}

/*
 * Prepares q's plan and keeps it for the backend's life, on first use;
 * refuses to plan or run it under any path but IDSESS_SEARCH_PATH.
 */
static void
prepare(IdsessQuery *q)
{
	if (strcmp(namespace_search_path, IDSESS_SEARCH_PATH) != 0)
		elog(ERROR, "idsess statement run under search_path \"%s\": \"%s\"",
			 namespace_search_path, q->sql);
	if (q->plan == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare_cursor(q->sql, q->nargs, q->argtypes,
											  q->cursor_options);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s",
				 q->sql, SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed");
		q->plan = plan;
	}
}

/*
 * Runs q with the given arguments (nulls as in SPI_execute_plan: ' ' or
 * 'n').  Returns the number of rows processed.
 */
int
idsess_spi_run(IdsessQuery *q, Datum *values, const char *nulls,
			   bool read_only, long count)
{
	int			rc;

	prepare(q);
	rc = SPI_execute_plan(q->plan, values, nulls, read_only, count);
	if (rc < 0)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	return (int) SPI_processed;
}

/*
 * The same with the latest snapshot, whatever the isolation level: for
 * reads that must see every committed change, as a lock taken just before
 * promises (the key ring, keyring.c and keys.c).
 */
int
idsess_spi_run_latest(IdsessQuery *q, Datum *values, const char *nulls,
					  bool read_only, long count)
{
	int			rc;

	prepare(q);
	rc = SPI_execute_snapshot(q->plan, values, nulls, GetLatestSnapshot(),
							  InvalidSnapshot, read_only, false, count);
	if (rc < 0)
		elog(ERROR, "SPI_execute_snapshot failed: %s", SPI_result_code_string(rc));
	return (int) SPI_processed;
}

/* Runs a one-argument query that is not read-only. */
int
idsess_spi_run_arg(IdsessQuery *q, Datum arg)
{
	return idsess_spi_run(q, &arg, NULL, false, 0);
}

/* Column col (1-based) of the last result's row; points into it until SPI_finish. */
Datum
idsess_spi_get(int row, int col, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, isnull);
}

/*
 * The same, detoasted and copied into the memory context that was current at
 * SPI_connect, so it outlives SPI_finish.
 */
Datum
idsess_spi_copy(int row, int col, bool *isnull)
{
	Datum		d = idsess_spi_get(row, col, isnull);
	Form_pg_attribute att = TupleDescAttr(SPI_tuptable->tupdesc, col - 1);

	if (*isnull)
		return (Datum) 0;
	if (att->attlen == -1)
	{
		/* Detoast now: the caller may use the value after SPI_finish. */
		struct varlena *v = PG_DETOAST_DATUM_PACKED(d);
		Size		len = VARSIZE_ANY(v);
		void	   *copy = SPI_palloc(len);

		memcpy(copy, v, len);
		return PointerGetDatum(copy);
	}
	return SPI_datumTransfer(d, att->attbyval, att->attlen);
}
