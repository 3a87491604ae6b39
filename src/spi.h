/*-------------------------------------------------------------------------
 *
 * spi.h
 *		Prepared SPI statements under a pinned search_path (spi.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDSESS_SPI_H
#define IDSESS_SPI_H

#include "idsess.h"
#include "executor/spi.h"

typedef struct IdsessQuery
{
	const char *sql;
	int			nargs;
	Oid			argtypes[32];
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

#endif							/* IDSESS_SPI_H */
