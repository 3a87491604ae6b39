/*-------------------------------------------------------------------------
 *
 * arrays.c
 *		One-dimensional int8[] and text[] built from C arrays, as the
 *		store's statements take their sets of ids, keys and subjects.
 *
 *-------------------------------------------------------------------------
 */
#include "idsess.h"
#include "arrays.h"

#include "catalog/pg_type.h"
#include "utils/array.h"

Datum
idsess_int8_array(int64 *vals, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * (n > 0 ? n : 1));

	for (int i = 0; i < n; i++)
		d[i] = Int64GetDatum(vals[i]);
	return PointerGetDatum(construct_array(d, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

Datum
idsess_text_array(Datum *vals, int n)
{
	return PointerGetDatum(construct_array(vals, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/* A text[] whose elements may be NULL (subjects of sessions without a user). */
Datum
idsess_text_array_nulls(Datum *vals, bool *nulls, int n)
{
	int			dims[1] = {n};
	int			lbs[1] = {1};

	if (n == 0)
		return PointerGetDatum(construct_empty_array(TEXTOID));
	return PointerGetDatum(construct_md_array(vals, nulls, 1, dims, lbs, TEXTOID, -1,
											  false, TYPALIGN_INT));
}
