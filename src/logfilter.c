/*-------------------------------------------------------------------------
 *
 * logfilter.c
 *		Keeps the statements that pass a ticket out of the server log.
 *
 * idsess_create and idsess_update take the plaintext ticket, and
 * idsess_take_expired(done => ...) session keys.  Their own
 * errors never log the statement (errhidestmt), but an error raised before
 * either runs does: a literal argument that does not convert (a malformed
 * expires), a syntax error, a permission check, or the error a PL/Proxy
 * function re-raises from a shard in an idsess_proxy database.  With
 * log_min_error_statement at its default, PostgreSQL writes the statement,
 * ticket and all, next to such an error.  So every log message of a
 * backend whose current statement names one of them is written
 * without the statement.  Only the STATEMENT line is dropped: the error
 * itself is logged as usual.  The test is the function's name anywhere in
 * the statement, case-insensitively (quoted or schema-qualified names
 * included), which may also hide the statement of an unrelated error that
 * merely mentions the name: the safe side.
 *
 * The filter is in every backend when idsess is preloaded, which a
 * server running idsess is, and which an idsess_proxy server should be
 * for this alone (README).  It reads only the statement text, in the
 * backend that is reporting, and never writes anything of it.
 *
 *-------------------------------------------------------------------------
 */
#include "idsess.h"
#include "logfilter.h"

#include "tcop/tcopprot.h"

static emit_log_hook_type prev_emit_log_hook = NULL;

static bool
contains_ci(const char *haystack, const char *needle)
{
	Size		n = strlen(needle);

	for (const char *p = haystack; *p; p++)
		if (pg_strncasecmp(p, needle, n) == 0)
			return true;
	return false;
}

/* Whether a statement calls (or may call) a function that takes a ticket. */
static bool
passes_ticket(const char *statement)
{
	return contains_ci(statement, "idsess_create") || contains_ci(statement, "idsess_update") ||
		contains_ci(statement, "idsess_take_expired");
}

static void
hide_ticket_statements(ErrorData *edata)
{
	if (edata->output_to_server && !edata->hide_stmt &&
		debug_query_string != NULL && passes_ticket(debug_query_string))
		edata->hide_stmt = true;
	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

void
idsess_install_log_filter(void)
{
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = hide_ticket_statements;
}
