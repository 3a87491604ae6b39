/*-------------------------------------------------------------------------
 *
 * query.c
 *		idsess_query(): the admin search, with keyset paging.
 *
 * Filters: case-insensitive substring matches on subject, sid and display
 * name (served by the trigram GIN index on their lower-case forms), AND-ed,
 * and an exact client filter (served by the (client_id, session) index, in
 * session order).  Pages are ordered by the internal session id, and a page
 * is found from the previous page's first or last id, never by OFFSET, so
 * page 10,000 costs what page 1 costs.
 *
 * The total count is computed once, for the first page of a search, and
 * travels in the results token; later pages do not count again.  With only
 * a client filter it comes from the client index alone, so it includes
 * sessions that expired but that the worker has not removed yet (about a
 * second's worth).  The token
 * also carries the page number, the page's first and last id and a hash of
 * the filters, so that a token cannot be replayed against another search.
 *
 *-------------------------------------------------------------------------
 */
#include "idsess.h"

#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "common/base64.h"
#include "common/hashfn.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(idsess_query);

#define QUERY_MAX_COUNT		1000

#define PAGE_COLS \
	"s.id, s.key, s.scheme, s.subject_id, s.session_id, s.display_name, s.created, " \
	"s.renewed, s.expires, s.last_active, " \
	"ARRAY(SELECT c.client_id FROM idsess.session_clients c WHERE c.session = s.id " \
	"ORDER BY c.added, c.client_id)"

#define TEXT_FILTERS \
	"($1::pg_catalog.text IS NULL OR pg_catalog.lower(s.subject_id) LIKE $1) AND " \
	"($2::pg_catalog.text IS NULL OR pg_catalog.lower(s.session_id) LIKE $2) AND " \
	"($3::pg_catalog.text IS NULL OR pg_catalog.lower(s.display_name) LIKE $3) AND " \
	IDSESS_LIVE

#define QUERY_ARGS \
	.nargs = 6, .argtypes = {TEXTOID, TEXTOID, TEXTOID, INT8OID, INT4OID, TEXTOID}, \
	.cursor_options = CURSOR_OPT_CUSTOM_PLAN

/* $4: id bound (NULL on the first page), $5: rows wanted, $6: client id. */
static IdsessQuery q_forward = {
	.sql = "SELECT " PAGE_COLS " FROM idsess.sessions s WHERE " TEXT_FILTERS
	" AND ($4::pg_catalog.int8 IS NULL OR s.id > $4) AND $6::pg_catalog.text IS NULL"
	" ORDER BY s.id LIMIT $5",
	QUERY_ARGS
};
static IdsessQuery q_backward = {
	.sql = "SELECT " PAGE_COLS " FROM idsess.sessions s WHERE " TEXT_FILTERS
	" AND s.id < $4 AND $6::pg_catalog.text IS NULL"
	" ORDER BY s.id DESC LIMIT $5",
	QUERY_ARGS
};
static IdsessQuery q_forward_client = {
	.sql = "SELECT " PAGE_COLS " FROM idsess.session_clients k JOIN idsess.sessions s ON s.id = k.session"
	" WHERE k.client_id = $6 AND " TEXT_FILTERS
	" AND ($4::pg_catalog.int8 IS NULL OR k.session > $4)"
	" ORDER BY k.session LIMIT $5",
	QUERY_ARGS
};
static IdsessQuery q_backward_client = {
	.sql = "SELECT " PAGE_COLS " FROM idsess.session_clients k JOIN idsess.sessions s ON s.id = k.session"
	" WHERE k.client_id = $6 AND " TEXT_FILTERS " AND k.session < $4"
	" ORDER BY k.session DESC LIMIT $5",
	QUERY_ARGS
};
static IdsessQuery q_count = {
	.sql = "SELECT pg_catalog.count(*) FROM idsess.sessions s WHERE " TEXT_FILTERS
	" AND $4::pg_catalog.int8 IS NULL AND $5::pg_catalog.int4 IS NULL AND $6::pg_catalog.text IS NULL",
	QUERY_ARGS
};
static IdsessQuery q_count_client = {
	.sql = "SELECT pg_catalog.count(*) FROM idsess.session_clients k JOIN idsess.sessions s ON s.id = k.session"
	" WHERE k.client_id = $6 AND " TEXT_FILTERS
	" AND $4::pg_catalog.int8 IS NULL AND $5::pg_catalog.int4 IS NULL",
	QUERY_ARGS
};

/* With only a client filter, the client index alone gives the count. */
static IdsessQuery q_count_client_only = {
	.sql = "SELECT pg_catalog.count(*) FROM idsess.session_clients k WHERE k.client_id = $6"
	" AND $1::pg_catalog.text IS NULL AND $2::pg_catalog.text IS NULL AND $3::pg_catalog.text IS NULL"
	" AND $4::pg_catalog.int8 IS NULL AND $5::pg_catalog.int4 IS NULL",
	QUERY_ARGS
};

typedef struct PageToken
{
	int32		page;
	int64		first_id;
	int64		last_id;
	int64		total;
	uint64		filter_hash;
} PageToken;

/* '%' || lower(value) with LIKE's metacharacters escaped || '%' */
static text *
substring_pattern(text *value)
{
	text	   *folded = DatumGetTextPP(DirectFunctionCall1Coll(lower, DEFAULT_COLLATION_OID,
															   PointerGetDatum(value)));
	const char *p = VARDATA_ANY(folded);
	int			len = VARSIZE_ANY_EXHDR(folded);
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '%');
	for (int i = 0; i < len; i++)
	{
		if (p[i] == '%' || p[i] == '_' || p[i] == '\\')
			appendStringInfoChar(&buf, '\\');
		appendStringInfoChar(&buf, p[i]);
	}
	appendStringInfoChar(&buf, '%');
	return cstring_to_text_with_len(buf.data, buf.len);
}

static uint64
filter_hash(text **filters, int n)
{
	uint64		h = 0;

	for (int i = 0; i < n; i++)
	{
		uint64		part = filters[i] == NULL ? UINT64CONST(0x9E3779B97F4A7C15) :
			hash_bytes_extended((const unsigned char *) VARDATA_ANY(filters[i]),
								VARSIZE_ANY_EXHDR(filters[i]), i + 1);

		h = hash_combine64(h, part);
	}
	return h;
}

static text *
encode_token(const PageToken *t)
{
	char		raw[128];
	int			rawlen;
	char		enc[192];
	int			enclen;

	rawlen = snprintf(raw, sizeof(raw), "1:%d:" INT64_FORMAT ":" INT64_FORMAT ":" INT64_FORMAT ":" UINT64_FORMAT,
					  t->page, t->first_id, t->last_id, t->total, t->filter_hash);
	enclen = pg_b64_encode(raw, rawlen, enc, sizeof(enc));
	if (enclen < 0)
		elog(ERROR, "could not encode results token");
	/* URL-safe alphabet, no padding. */
	while (enclen > 0 && enc[enclen - 1] == '=')
		enclen--;
	for (int i = 0; i < enclen; i++)
		enc[i] = enc[i] == '+' ? '-' : enc[i] == '/' ? '_' : enc[i];
	return cstring_to_text_with_len(enc, enclen);
}

static void
bad_token(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("results token is not valid"),
			 errhint("Pass results_token exactly as a previous idsess_query() returned it, or NULL for the first page.")));
}

static void
decode_token(text *tok, PageToken *t)
{
	const char *p = VARDATA_ANY(tok);
	int			len = VARSIZE_ANY_EXHDR(tok);
	char		b64[200];
	char		raw[160];
	int			rawlen;
	int			b64len = len;
	int			version;
	int			consumed = 0;

	if (len == 0 || len > 180)
		bad_token();
	for (int i = 0; i < len; i++)
		b64[i] = p[i] == '-' ? '+' : p[i] == '_' ? '/' : p[i];
	while (b64len % 4 != 0)
		b64[b64len++] = '=';
	rawlen = pg_b64_decode(b64, b64len, raw, sizeof(raw) - 1);
	if (rawlen <= 0)
		bad_token();
	raw[rawlen] = '\0';
	if (sscanf(raw, "%d:%d:" INT64_FORMAT ":" INT64_FORMAT ":" INT64_FORMAT ":" UINT64_FORMAT "%n",
			   &version, &t->page, &t->first_id, &t->last_id, &t->total,
			   &t->filter_hash, &consumed) != 6 ||
		consumed != rawlen || version != 1 || t->page < 1 || t->total < 0 ||
		t->first_id <= 0 || t->last_id < t->first_id)
		bad_token();
}

/* Runs a page or count query with the filter arguments. */
static int
run_query(IdsessQuery *q, text **patterns, text *client, bool has_bound,
		  int64 bound, int limit)
{
	Datum		args[6];
	char		nulls[6];

	for (int i = 0; i < 3; i++)
	{
		args[i] = PointerGetDatum(patterns[i]);
		nulls[i] = patterns[i] ? ' ' : 'n';
	}
	args[3] = Int64GetDatum(bound);
	nulls[3] = has_bound ? ' ' : 'n';
	args[4] = Int32GetDatum(limit);
	nulls[4] = limit > 0 ? ' ' : 'n';
	args[5] = PointerGetDatum(client);
	nulls[5] = client ? ' ' : 'n';
	return idsess_spi_run(q, args, nulls, true, 0);
}

Datum
idsess_query(PG_FUNCTION_ARGS)
{
	text	   *filters[4];
	text	   *patterns[3];
	int			count;
	bool		prior = !PG_ARGISNULL(6) && PG_GETARG_BOOL(6);
	PageToken	tok = {0};
	bool		has_token = !PG_ARGISNULL(5);
	int			n;
	int			rows;
	bool		more;
	bool		has_prev;
	bool		has_next;
	PageToken	out;
	ReturnSetInfo *rsinfo;
	text	   *token_text;
	int32		total_pages;

	filters[0] = idsess_arg_id_opt(fcinfo, 0, "subject_id", IDSESS_MAX_ID_CHARS);
	filters[1] = idsess_arg_id_opt(fcinfo, 1, "session_id", IDSESS_MAX_ID_CHARS);
	filters[2] = idsess_arg_id_opt(fcinfo, 2, "display_name", IDSESS_MAX_ID_CHARS);
	filters[3] = idsess_arg_id_opt(fcinfo, 3, "client_id", IDSESS_MAX_ID_CHARS);
	count = idsess_arg_count(fcinfo, 4, 25, QUERY_MAX_COUNT);
	for (int i = 0; i < 3; i++)
		patterns[i] = filters[i] ? substring_pattern(filters[i]) : NULL;

	if (has_token)
	{
		decode_token(PG_GETARG_TEXT_PP(5), &tok);
		if (tok.filter_hash != filter_hash(filters, 4))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("results token belongs to a different search"),
					 errhint("Pass the same filters as the search that returned the token.")));
	}
	else if (prior)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("prior needs a results token"),
				 errhint("The first page has no prior page; pass the token of the page to go back from.")));

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	idsess_spi_connect();

	out.filter_hash = filter_hash(filters, 4);
	if (has_token)
		out.total = tok.total;
	else
	{
		bool		isnull;

		IdsessQuery *q = &q_count;

		if (filters[3])
			q = (filters[0] || filters[1] || filters[2]) ? &q_count_client : &q_count_client_only;
		run_query(q, patterns, filters[3], false, 0, 0);
		out.total = DatumGetInt64(idsess_spi_get(0, 1, &isnull));
	}

	if (prior)
		n = run_query(filters[3] ? &q_backward_client : &q_backward, patterns, filters[3],
					  true, tok.first_id, count + 1);
	else
		n = run_query(filters[3] ? &q_forward_client : &q_forward, patterns, filters[3],
					  has_token, tok.last_id, count + 1);
	more = n > count;
	rows = more ? count : n;
	if (prior)
	{
		has_prev = more;
		has_next = true;
		out.page = has_prev ? Max(tok.page - 1, 2) : 1;
	}
	else
	{
		has_prev = has_token;
		has_next = more;
		out.page = has_token ? tok.page + 1 : 1;
	}
	if (rows == 0)
	{
		SPI_finish();
		return (Datum) 0;
	}

	/* Backward pages were read in descending order; rows are emitted ascending. */
	{
		bool		isnull;
		int			first = prior ? rows - 1 : 0;
		int			last = prior ? 0 : rows - 1;

		out.first_id = DatumGetInt64(idsess_spi_get(first, 1, &isnull));
		out.last_id = DatumGetInt64(idsess_spi_get(last, 1, &isnull));
	}
	token_text = encode_token(&out);
	total_pages = (int32) ((out.total + count - 1) / count);
	if (total_pages < out.page)
		total_pages = out.page;

	for (int k = 0; k < rows; k++)
	{
		int			i = prior ? rows - 1 - k : k;
		Datum		values[16];
		bool		nulls[16];

		for (int c = 0; c < 10; c++)
			values[c] = idsess_spi_get(i, c + 2, &nulls[c]);
		values[10] = PointerGetDatum(token_text);
		values[11] = BoolGetDatum(has_prev);
		values[12] = BoolGetDatum(has_next);
		values[13] = Int64GetDatum(out.total);
		values[14] = Int32GetDatum(total_pages);
		values[15] = Int32GetDatum(out.page);
		for (int c = 10; c < 16; c++)
			nulls[c] = false;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}
