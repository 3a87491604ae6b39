/*-------------------------------------------------------------------------
 *
 * arrays.h
 *		int8[] and text[] built from C arrays (arrays.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDSESS_ARRAYS_H
#define IDSESS_ARRAYS_H

#include "idsess.h"

extern Datum idsess_int8_array(int64 *vals, int n);
extern Datum idsess_text_array(Datum *vals, int n);
extern Datum idsess_text_array_nulls(Datum *vals, bool *nulls, int n);

#endif							/* IDSESS_ARRAYS_H */
