/*-------------------------------------------------------------------------
 *
 * logfilter.c
 *		Keeps the statements that pass a ticket or the caller's own session
 *		key out of the server log.
 *
 * idsess_create and idsess_update take the plaintext ticket;
 * idsess_take_expired(done => ...) takes session keys, idsess_revoke
 * (except_key => ...) and idsess_my_sessions(current_key => ...) the
 * caller's current one.  Their own
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

/* The functions whose arguments may hold a ticket or a session key. */
static const char *const secret_takers[] = {
	"idsess_create", "idsess_update", "idsess_take_expired", "idsess_revoke",
	"idsess_my_sessions"
};

/* Whether a statement calls (or may call) one of them. */
static bool
passes_secret(const char *statement)
{
	for (int i = 0; i < (int) lengthof(secret_takers); i++)
		if (contains_ci(statement, secret_takers[i]))
			return true;
	return false;
}

static void
hide_secret_statements(ErrorData *edata)
{
	if (edata->output_to_server && !edata->hide_stmt &&
		debug_query_string != NULL && passes_secret(debug_query_string))
		edata->hide_stmt = true;
	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

void
idsess_install_log_filter(void)
{
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = hide_secret_statements;
}
