/*-------------------------------------------------------------------------
 *
 * spi.c
 *		Running the store's fixed SQL through SPI with plans prepared once
 *		per backend.
 *
 * Every statement idsess runs is a constant string with schema-qualified
 * names and parameters; no SQL is ever built from user input.
 *
 *-------------------------------------------------------------------------
 */
#include "idsess.h"

#include "fmgr.h"
#include "utils/snapmgr.h"

void
idsess_spi_connect(void)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
}

/* Prepares q's plan and keeps it for the backend's life, on first use. */
static void
prepare(IdsessQuery *q)
{
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

/* Column col (1-based) of result row; valid until SPI_finish. */
Datum
idsess_spi_get(int row, int col, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, isnull);
}

/* The same, copied into the caller's (upper executor) memory context. */
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
