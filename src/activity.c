/*-------------------------------------------------------------------------
 *
 * activity.c
 *		The arguments of the sign-in's strength and of where a session is
 *		used, checked once for idsess_create, idsess_update and
 *		idsess_touch.
 *
 * acr is one value (often a URI), amr a short list of method names (RFC
 * 8176: pwd, otp, hwk ...), auth_time when the user authenticated; an
 * identity server's step-up replaces them with an update.
 *
 *-------------------------------------------------------------------------
 */
#include "idsess.h"
#include "activity.h"
#include "validate.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

/* amr: one-dimensional, methods present, each a well-formed identifier. */
static Datum
check_amr(FunctionCallInfo fcinfo, int argno)
{
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(argno);
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("amr must be a one-dimensional array"),
				 errhidestmt(true)));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (n > IDSESS_MAX_AMR_METHODS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("amr has too many methods"),
				 errdetail("The limit is %d methods; amr has %d.", IDSESS_MAX_AMR_METHODS, n),
				 errhidestmt(true)));
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("amr must not contain null"),
					 errhidestmt(true)));
		idsess_check_id(DatumGetTextPP(elems[i]), "an amr method", IDSESS_MAX_ID_CHARS);
	}
	return PointerGetDatum(arr);
}

/*
 * The strength arguments at these positions: acr ('' clears it on an
 * update), amr, auth_time (a finite time).
 */
void
idsess_strength_args(FunctionCallInfo fcinfo, int acr_arg, int amr_arg, int auth_time_arg,
					 IdsessStrength *out)
{
	memset(out, 0, sizeof(*out));
	if (!PG_ARGISNULL(acr_arg))
	{
		out->acr = PG_GETARG_TEXT_PP(acr_arg);
		if (VARSIZE_ANY_EXHDR(out->acr) == 0)
			out->clear_acr = true;
		else
			idsess_check_id(out->acr, "acr", IDSESS_MAX_URI_CHARS);
	}
	if (!PG_ARGISNULL(amr_arg))
		out->amr = check_amr(fcinfo, amr_arg);
	if (!PG_ARGISNULL(auth_time_arg))
	{
		out->auth_time = PG_GETARG_TIMESTAMPTZ(auth_time_arg);
		if (TIMESTAMP_NOT_FINITE(out->auth_time))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("auth_time must be a finite time"),
					 errhint("Give the time the user authenticated, or NULL."),
					 errhidestmt(true)));
		out->has_auth_time = true;
	}
}
