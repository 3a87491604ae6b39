/*-------------------------------------------------------------------------
 *
 * validate.c
 *		Argument checks shared by the store functions.
 *
 * Each kind of bad input has its own SQLSTATE: a missing value is
 * null_value_not_allowed (22004), an empty or blank one
 * invalid_parameter_value (22023), an oversized identifier
 * string_data_right_truncation (22001), an oversized ticket
 * program_limit_exceeded (54000).  No message ever quotes the value.
 *
 *-------------------------------------------------------------------------
 */
#include "idsess.h"
#include "validate.h"
#include "settings.h"

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

void
idsess_check_id(text *t, const char *what, int maxchars)
{
	const char *p = VARDATA_ANY(t);
	int			len = VARSIZE_ANY_EXHDR(t);
	bool		blank = true;

	for (int i = 0; i < len; i++)
		if (!(p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
		{
			blank = false;
			break;
		}
	if (blank)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be empty", what)));
	if (len > maxchars && pg_mbstrlen_with_len(p, len) > maxchars)
		ereport(ERROR,
				(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
				 errmsg("%s is too long", what),
				 errdetail("The limit is %d characters.", maxchars)));
}

/* A required identifier argument. */
text *
idsess_arg_id(FunctionCallInfo fcinfo, int argno, const char *what, int maxchars)
{
	text	   *t;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", what)));
	t = PG_GETARG_TEXT_PP(argno);
	idsess_check_id(t, what, maxchars);
	return t;
}

/* An optional identifier argument: NULL when absent, checked otherwise. */
text *
idsess_arg_id_opt(FunctionCallInfo fcinfo, int argno, const char *what, int maxchars)
{
	text	   *t;

	if (PG_ARGISNULL(argno))
		return NULL;
	t = PG_GETARG_TEXT_PP(argno);
	idsess_check_id(t, what, maxchars);
	return t;
}

/* The exact-match and revoke filters must not select every session. */
void
idsess_require_filter(text *subject_id, text *session_id)
{
	if (subject_id == NULL && session_id == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("a subject_id or a session_id is required"),
				 errdetail("A filter with neither would match every session."),
				 errhint("Give subject_id, session_id, or both.")));
}

/* A positive count argument; NULL or <= 0 means the default. */
int
idsess_arg_count(FunctionCallInfo fcinfo, int argno, int dflt, int max)
{
	int			n;

	if (PG_ARGISNULL(argno))
		return dflt;
	n = PG_GETARG_INT32(argno);
	if (n <= 0)
		return dflt;
	if (n > max)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("count must be at most %d", max)));
	return n;
}

void
idsess_check_ticket_size(Size len)
{
	if (len > (Size) idsess_max_ticket_kb * 1024)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("ticket is too large"),
				 errdetail("The ticket has %zu bytes; idsess.max_ticket_size allows %d kB.",
						   len, idsess_max_ticket_kb),
				 errhint("Raise idsess.max_ticket_size, or keep less in the ticket.")));
}
