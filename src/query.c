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
 * second's worth).  The token also carries the page number, the page's
 * first and last id and a digest of the filters, so that it cannot be
 * replayed against another search, and an HMAC tag under a key derived
 * from the master key, so that nobody can forge or alter it; its fields
 * are read only once the tag checks out, and each is bounded.
 *
 *-------------------------------------------------------------------------
 */
#include "idsess.h"
#include "version.h"
#include "crypto.h"
#include "envelope.h"
#include "keyring.h"
#include "session_rows.h"
#include "session_sql.h"
#include "settings.h"
#include "spi.h"
#include "tenant.h"
#include "ticket.h"
#include "validate.h"

#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "common/base64.h"
#include "common/cryptohash.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"


#define QUERY_MAX_COUNT		1000

#define PAGE_COLS \
	"s.id, s.key, s.scheme, s.subject_id, s.session_id, s.display_name, s.created, " \
	"s.renewed, s.expires, s.last_active, " \
	"ARRAY(SELECT c.client_id FROM idsess.session_clients c WHERE c.session = s.id " \
	"ORDER BY c.added, c.client_id)"

/* 1.1 rows also carry the issuer, the clients' own sids and the sealed ticket. */
#define PAGE_COLS_11 PAGE_COLS ", s.issuer, " \
	"ARRAY(SELECT c.client_sid FROM idsess.session_clients c WHERE c.session = s.id " \
	"ORDER BY c.added, c.client_id), s.ticket"

/* 1.2 rows also carry the strength of the sign-in. */
#define PAGE_COLS_12 PAGE_COLS_11 ", s.acr, s.amr, s.auth_time"

#define TEXT_FILTERS \
	"($1::pg_catalog.text IS NULL OR pg_catalog.lower(s.subject_id) LIKE $1) AND " \
	"($2::pg_catalog.text IS NULL OR pg_catalog.lower(s.session_id) LIKE $2) AND " \
	"($3::pg_catalog.text IS NULL OR pg_catalog.lower(s.display_name) LIKE $3) AND " \
	IDSESS_LIVE

#define QUERY_ARGS \
	.nargs = 6, .argtypes = {TEXTOID, TEXTOID, TEXTOID, INT8OID, INT4OID, TEXTOID}, \
	.cursor_options = CURSOR_OPT_CUSTOM_PLAN

/*
 * $4: id bound (NULL on the first page), $5: rows wanted, $6: client id.
 * [0]: a 1.0 result type, [1]: 1.1's, [2]: 1.2's.
 */
#define FORWARD FORWARD_F(TEXT_FILTERS)
#define BACKWARD BACKWARD_F(TEXT_FILTERS)
#define FORWARD_CLIENT FORWARD_CLIENT_F(TEXT_FILTERS)
#define BACKWARD_CLIENT BACKWARD_CLIENT_F(TEXT_FILTERS)
#define FORWARD_F(filters) \
	" FROM idsess.sessions s WHERE " filters \
	" AND ($4::pg_catalog.int8 IS NULL OR s.id > $4) AND $6::pg_catalog.text IS NULL" \
	" ORDER BY s.id LIMIT $5"
#define BACKWARD_F(filters) \
	" FROM idsess.sessions s WHERE " filters \
	" AND s.id < $4 AND $6::pg_catalog.text IS NULL" \
	" ORDER BY s.id DESC LIMIT $5"
#define FORWARD_CLIENT_F(filters) \
	" FROM idsess.session_clients k JOIN idsess.sessions s ON s.id = k.session" \
	" WHERE k.client_id = $6 AND " filters \
	" AND ($4::pg_catalog.int8 IS NULL OR k.session > $4)" \
	" ORDER BY k.session LIMIT $5"
#define BACKWARD_CLIENT_F(filters) \
	" FROM idsess.session_clients k JOIN idsess.sessions s ON s.id = k.session" \
	" WHERE k.client_id = $6 AND " filters " AND k.session < $4" \
	" ORDER BY k.session DESC LIMIT $5"
/*
 * [3]: 1.2's for a caller restricted to some tenants (tenant.c), which
 * sees, pages through and counts its tenants' sessions only.
 */
#define TENANT_FILTERS TEXT_FILTERS " AND " IDSESS_TENANT_VISIBLE("s.tenant")
static IdsessQuery q_forward[4] = {
	{.sql = "SELECT " PAGE_COLS FORWARD, QUERY_ARGS},
	{.sql = "SELECT " PAGE_COLS_11 FORWARD, QUERY_ARGS},
	{.sql = "SELECT " PAGE_COLS_12 FORWARD, QUERY_ARGS},
	{.sql = "SELECT " PAGE_COLS_12 FORWARD_F(TENANT_FILTERS), QUERY_ARGS}
};
static IdsessQuery q_backward[4] = {
	{.sql = "SELECT " PAGE_COLS BACKWARD, QUERY_ARGS},
	{.sql = "SELECT " PAGE_COLS_11 BACKWARD, QUERY_ARGS},
	{.sql = "SELECT " PAGE_COLS_12 BACKWARD, QUERY_ARGS},
	{.sql = "SELECT " PAGE_COLS_12 BACKWARD_F(TENANT_FILTERS), QUERY_ARGS}
};
static IdsessQuery q_forward_client[4] = {
	{.sql = "SELECT " PAGE_COLS FORWARD_CLIENT, QUERY_ARGS},
	{.sql = "SELECT " PAGE_COLS_11 FORWARD_CLIENT, QUERY_ARGS},
	{.sql = "SELECT " PAGE_COLS_12 FORWARD_CLIENT, QUERY_ARGS},
	{.sql = "SELECT " PAGE_COLS_12 FORWARD_CLIENT_F(TENANT_FILTERS), QUERY_ARGS}
};
static IdsessQuery q_backward_client[4] = {
	{.sql = "SELECT " PAGE_COLS BACKWARD_CLIENT, QUERY_ARGS},
	{.sql = "SELECT " PAGE_COLS_11 BACKWARD_CLIENT, QUERY_ARGS},
	{.sql = "SELECT " PAGE_COLS_12 BACKWARD_CLIENT, QUERY_ARGS},
	{.sql = "SELECT " PAGE_COLS_12 BACKWARD_CLIENT_F(TENANT_FILTERS), QUERY_ARGS}
};
#define COUNT(filters) \
	"SELECT pg_catalog.count(*) FROM idsess.sessions s WHERE " filters \
	" AND $4::pg_catalog.int8 IS NULL AND $5::pg_catalog.int4 IS NULL AND $6::pg_catalog.text IS NULL"
#define COUNT_CLIENT(filters) \
	"SELECT pg_catalog.count(*) FROM idsess.session_clients k JOIN idsess.sessions s ON s.id = k.session" \
	" WHERE k.client_id = $6 AND " filters \
	" AND $4::pg_catalog.int8 IS NULL AND $5::pg_catalog.int4 IS NULL"
static IdsessQuery q_count = {.sql = COUNT(TEXT_FILTERS), QUERY_ARGS};
static IdsessQuery q_count_client = {.sql = COUNT_CLIENT(TEXT_FILTERS), QUERY_ARGS};
static IdsessQuery q_count_tenant = {.sql = COUNT(TENANT_FILTERS), QUERY_ARGS};
static IdsessQuery q_count_client_tenant = {.sql = COUNT_CLIENT(TENANT_FILTERS), QUERY_ARGS};

/* With only a client filter, the client index alone gives the count. */
static IdsessQuery q_count_client_only = {
	.sql = "SELECT pg_catalog.count(*) FROM idsess.session_clients k WHERE k.client_id = $6"
	" AND $1::pg_catalog.text IS NULL AND $2::pg_catalog.text IS NULL AND $3::pg_catalog.text IS NULL"
	" AND $4::pg_catalog.int8 IS NULL AND $5::pg_catalog.int4 IS NULL",
	QUERY_ARGS
};

/*
 * A results token is base64url(fields) "." base64url(tag), where fields is
 * "2:page:first_id:last_id:total:filters" (decimal numbers; filters: 32 hex
 * digits of the SHA-256 of the search's filters) and tag is HMAC-SHA256 of
 * the fields under the token key (token_tag()).  Version 1 (idsess 1.0) had
 * no tag and is refused.
 */
#define TOKEN_VERSION		2
#define TOKEN_DIGEST_BYTES	16
#define TOKEN_TAG_BYTES		32
#define TOKEN_MAX_FIELDS	128		/* longer than any token we write */
#define TOKEN_MAX_CHARS		256

typedef struct PageToken
{
	int32		page;			/* 1 .. PG_INT32_MAX - 1: the next page's number fits */
	int64		first_id;		/* > 0 */
	int64		last_id;		/* >= first_id */
	int64		total;			/* >= 0 */
	uint8		filters[TOKEN_DIGEST_BYTES];
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

/*
 * Digest of the search as it runs: the three substring patterns (already
 * lower-cased, so "Alice" and "alice" are one search) and the client id,
 * each NULL or length-prefixed.
 */
static void
filters_digest(text **patterns, text *client, uint8 *out)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	uint8		full[32];
	bool		ok;

	ok = ctx != NULL && pg_cryptohash_init(ctx) == 0;
	for (int i = 0; i < 4 && ok; i++)
	{
		text	   *t = i < 3 ? patterns[i] : client;
		uint8		head[5] = {0};

		if (t != NULL)
		{
			uint32		len = VARSIZE_ANY_EXHDR(t);

			head[0] = 1;
			head[1] = (uint8) (len >> 24);
			head[2] = (uint8) (len >> 16);
			head[3] = (uint8) (len >> 8);
			head[4] = (uint8) len;
		}
		ok = pg_cryptohash_update(ctx, head, sizeof(head)) == 0 &&
			(t == NULL ||
			 pg_cryptohash_update(ctx, (const uint8 *) VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)) == 0);
	}
	ok = ok && pg_cryptohash_final(ctx, full, sizeof(full)) == 0;
	if (ctx != NULL)
		pg_cryptohash_free(ctx);
	if (!ok)
		elog(ERROR, "could not compute the results token's filter digest");
	memcpy(out, full, TOKEN_DIGEST_BYTES);
}

/*
 * HMAC-SHA256 of data under the token key, which is HMAC-SHA256 of its own
 * label under the master key's MAC subkey: a key for this purpose only.
 * The key ring hands out its own copy of the master key (see keyring.c's
 * lifetime rule); both keys are wiped, on errors too.
 */
static void
token_tag(const char *data, Size len, uint8 *tag)
{
	static const char label[] = "idsess v1 results token";
	IdsessKey	master;
	uint8		key[32];

	idsess_master_key(&master);
	PG_TRY();
	{
		idsess_hmac_sha256(master.mac, IDSESS_KEY_BYTES, label, strlen(label), key);
		idsess_hmac_sha256(key, sizeof(key), data, len, tag);
	}
	PG_FINALLY();
	{
		explicit_bzero(&master, sizeof(master));
		explicit_bzero(key, sizeof(key));
	}
	PG_END_TRY();
}

/* base64url without padding, appended to buf. */
static void
append_b64url(StringInfo buf, const char *data, int len)
{
	int			enclen;

	enlargeStringInfo(buf, pg_b64_enc_len(len) + 1);
	enclen = pg_b64_encode(data, len, buf->data + buf->len, buf->maxlen - buf->len);
	if (enclen < 0)
		elog(ERROR, "could not encode results token");
	while (enclen > 0 && buf->data[buf->len + enclen - 1] == '=')
		enclen--;
	for (int i = 0; i < enclen; i++)
	{
		char	   *c = &buf->data[buf->len + i];

		*c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
	}
	buf->len += enclen;
	buf->data[buf->len] = '\0';
}

/* A base64url character's value, or -1. */
static int
b64url_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '-' ? 62 : c == '_' ? 63 : -1;
}

/*
 * Decodes canonical base64url (no padding, nothing but its 64 characters,
 * the unused low bits of the last character zero, so that each value has
 * exactly one spelling) into dst; -1 when it is not that or does not fit.
 */
static int
b64url_decode(const char *src, int len, char *dst, int dstlen)
{
	char		b64[TOKEN_MAX_CHARS + 4];
	int			b64len = len;
	int			unused = len % 4 == 2 ? 0x0f : len % 4 == 3 ? 0x03 : 0;

	if (len <= 0 || len > TOKEN_MAX_CHARS || len % 4 == 1)
		return -1;
	for (int i = 0; i < len; i++)
	{
		char		c = src[i];

		if (b64url_value(c) < 0)
			return -1;
		b64[i] = c == '-' ? '+' : c == '_' ? '/' : c;
	}
	if ((b64url_value(src[len - 1]) & unused) != 0)
		return -1;
	while (b64len % 4 != 0)
		b64[b64len++] = '=';
	if (pg_b64_dec_len(b64len) > dstlen)
		return -1;
	return pg_b64_decode(b64, b64len, dst, dstlen);
}

static text *
encode_token(const PageToken *t)
{
	char		fields[TOKEN_MAX_FIELDS];
	char		hex[2 * TOKEN_DIGEST_BYTES + 1];
	int			len;
	uint8		tag[TOKEN_TAG_BYTES];
	StringInfoData buf;

	for (int i = 0; i < TOKEN_DIGEST_BYTES; i++)
		snprintf(hex + 2 * i, 3, "%02x", t->filters[i]);
	len = snprintf(fields, sizeof(fields), "%d:%d:" INT64_FORMAT ":" INT64_FORMAT ":" INT64_FORMAT ":%s",
				   TOKEN_VERSION, t->page, t->first_id, t->last_id, t->total, hex);
	if (len < 0 || len >= (int) sizeof(fields))
		elog(ERROR, "could not encode results token");
	token_tag(fields, len, tag);
	initStringInfo(&buf);
	append_b64url(&buf, fields, len);
	appendStringInfoChar(&buf, '.');
	append_b64url(&buf, (const char *) tag, sizeof(tag));
	return cstring_to_text_with_len(buf.data, buf.len);
}

/* A lower-case hexadecimal digit's value, or -1. */
static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

pg_attribute_noreturn()
static void
bad_token(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("results token is not valid"),
			 errdetail_internal("%s", detail),
			 errhint("Start the search again without results_token.")));
}

/*
 * Reads a decimal field in [min, max] ending at sep; digits only (no sign,
 * no blanks), and an overflow is out of range, not undefined.
 */
static bool
token_field(const char **p, char sep, int64 min, int64 max, int64 *out)
{
	char	   *end;
	long long	v;

	if (!isdigit((unsigned char) **p))
		return false;
	errno = 0;
	v = strtoll(*p, &end, 10);
	if (errno != 0 || *end != sep || v < min || v > max)
		return false;
	*out = (int64) v;
	*p = end + 1;
	return true;
}

/*
 * Checks a results token's tag, then reads and bounds its fields.  The tag
 * comes first: nothing of a token we did not make is parsed.
 */
static void
decode_token(text *tok, PageToken *t)
{
	const char *p = VARDATA_ANY(tok);
	int			len = VARSIZE_ANY_EXHDR(tok);
	const char *dot;
	char		fields[TOKEN_MAX_FIELDS];
	int			flen;
	uint8		tag[TOKEN_TAG_BYTES + 4];
	uint8		expected[TOKEN_TAG_BYTES];
	const char *f;
	int64		v;

	if (len == 0 || len > TOKEN_MAX_CHARS ||
		(dot = memchr(p, '.', len)) == NULL ||
		(flen = b64url_decode(p, dot - p, fields, sizeof(fields) - 1)) <= 0 ||
		b64url_decode(dot + 1, len - (dot + 1 - p), (char *) tag, sizeof(tag)) != TOKEN_TAG_BYTES)
		bad_token("It is not in the form idsess_query() gives results tokens.");

	token_tag(fields, flen, expected);
	if (!idsess_timingsafe_equal(tag, expected, TOKEN_TAG_BYTES))
		bad_token("It failed authentication: it was altered, or was not made by idsess 1.1 under this master key.");

	fields[flen] = '\0';
	f = fields;
	if (memchr(fields, '\0', flen) != NULL ||
		!token_field(&f, ':', TOKEN_VERSION, TOKEN_VERSION, &v) ||
		!token_field(&f, ':', 1, PG_INT32_MAX - 1, &v))
		bad_token("Its fields are malformed or out of range.");
	t->page = (int32) v;
	if (!token_field(&f, ':', 1, PG_INT64_MAX, &t->first_id) ||
		!token_field(&f, ':', t->first_id, PG_INT64_MAX, &t->last_id) ||
		!token_field(&f, ':', 0, PG_INT64_MAX, &t->total) ||
		strlen(f) != 2 * TOKEN_DIGEST_BYTES)
		bad_token("Its fields are malformed or out of range.");
	for (int i = 0; i < TOKEN_DIGEST_BYTES; i++)
	{
		int			hi = hex_digit(f[2 * i]);
		int			lo = hex_digit(f[2 * i + 1]);

		if (hi < 0 || lo < 0)
			bad_token("Its fields are malformed or out of range.");
		t->filters[i] = (uint8) (hi << 4 | lo);
	}
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

/* Puts a page row with its ticket (sealed: `sealed`) opened. */
static void
put_with_ticket(ReturnSetInfo *rsinfo, Datum *values, bool *nulls, Datum sealed,
				Size *opened)
{
	text	   *key = DatumGetTextPP(values[IDSESS_Q_KEY]);
	char		format;
	bytea	   *plain = idsess_unseal_row(DatumGetByteaPP(sealed), &format,
										  VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key));

	idsess_put_row_opened(rsinfo->setResult, rsinfo->setDesc, values, nulls, IDSESS_Q_TICKET,
						  plain, format, opened);
}

static Datum
search(FunctionCallInfo fcinfo, IdsessApi api)
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
	int64		pages;
	int32		total_pages;
	bool		api_1_1 = api >= IDSESS_API_1_1;
	bool		api_1_2 = api >= IDSESS_API_1_2;
	int			v = Min(api, IDSESS_API_1_2);
	int			natts = api_1_2 ? IDSESS_Q_NATTS_1_2 : api_1_1 ? IDSESS_Q_NATTS_1_1 : IDSESS_Q_NATTS_1_0;
	bool		tickets = api_1_1 && !PG_ARGISNULL(7) && PG_GETARG_BOOL(7);
	bool		restricted = idsess_tenant_restricted();
	int			shape = restricted ? 3 : v;
	bool		isnull;
	Size		opened = 0;

	filters[0] = idsess_arg_id_opt(fcinfo, 0, "subject_id", IDSESS_MAX_ID_CHARS);
	filters[1] = idsess_arg_id_opt(fcinfo, 1, "session_id", IDSESS_MAX_ID_CHARS);
	filters[2] = idsess_arg_id_opt(fcinfo, 2, "display_name", IDSESS_MAX_ID_CHARS);
	filters[3] = idsess_arg_id_opt(fcinfo, 3, "client_id", IDSESS_MAX_ID_CHARS);
	count = idsess_arg_count(fcinfo, 4, 25, QUERY_MAX_COUNT);
	for (int i = 0; i < 3; i++)
		patterns[i] = filters[i] ? substring_pattern(filters[i]) : NULL;

	filters_digest(patterns, filters[3], out.filters);
	if (has_token)
	{
		decode_token(PG_GETARG_TEXT_PP(5), &tok);
		if (memcmp(tok.filters, out.filters, TOKEN_DIGEST_BYTES) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("results token belongs to a different search"),
					 errdetail("The token was made for other filters than this call's."),
					 errhint("Start the search again without results_token, or pass the same filters as the search that returned the token.")));
	}
	else if (prior)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("prior needs a results token"),
				 errhint("The first page has no prior page; pass the token of the page to go back from.")));

	if (tickets)
		idsess_require_ticket_role();
	/* A tuplestore that never spills opened tickets to a temporary file. */
	(void) idsess_ticket_srf(fcinfo);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	idsess_check_natts(rsinfo->setDesc, natts, api_1_2 ? "idsess.search_row" : "idsess.query_row");

	/* Nothing comes before the first page: no rows, as Duende's stores answer. */
	if (prior && tok.page <= 1)
		return (Datum) 0;
	idsess_spi_connect();

	if (has_token)
		out.total = tok.total;
	else
	{
		IdsessQuery *q = restricted ? &q_count_tenant : &q_count;

		if (filters[3])
			q = restricted ? &q_count_client_tenant :
				(filters[0] || filters[1] || filters[2]) ? &q_count_client : &q_count_client_only;
		run_query(q, patterns, filters[3], false, 0, 0);
		out.total = DatumGetInt64(idsess_spi_get(0, 1, &isnull));
	}

	if (prior)
	{
		n = run_query(filters[3] ? &q_backward_client[shape] : &q_backward[shape], patterns,
					  filters[3], true, tok.first_id, count + 1);

		/*
		 * Back at the start with a short page (rows before this page were
		 * deleted since): the first page is the first `count` rows, as
		 * Duende's stores give it, read forward from the start.
		 */
		if (n < count)
		{
			prior = false;
			has_token = false;
			n = run_query(filters[3] ? &q_forward_client[shape] : &q_forward[shape], patterns,
						  filters[3], false, 0, count + 1);
		}
	}
	else
		n = run_query(filters[3] ? &q_forward_client[shape] : &q_forward[shape], patterns,
					  filters[3], has_token, tok.last_id, count + 1);
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
		int			first = prior ? rows - 1 : 0;
		int			last = prior ? 0 : rows - 1;

		out.first_id = DatumGetInt64(idsess_spi_get(first, 1, &isnull));
		out.last_id = DatumGetInt64(idsess_spi_get(last, 1, &isnull));
	}

	/*
	 * Tokens are made under the master key.  Without one configured, a
	 * search that fits one page still works (there is nowhere to page to);
	 * a longer one fails in encode_token(), rather than hand out a page
	 * without a way to the next.
	 */
	if (!has_prev && !has_next &&
		(idsess_master_key_file == NULL || idsess_master_key_file[0] == '\0'))
		token_text = NULL;
	else
		token_text = encode_token(&out);
	pages = out.total / count + (out.total % count != 0);
	total_pages = (int32) Min(Max(pages, out.page), PG_INT32_MAX);

	for (int k = 0; k < rows; k++)
	{
		int			i = prior ? rows - 1 - k : k;
		Datum		values[IDSESS_Q_NATTS_1_2];
		bool		nulls[IDSESS_Q_NATTS_1_2];

		CHECK_FOR_INTERRUPTS();
		/* The page's columns: row id, then key .. clients, issuer, sids, ticket. */
		for (int c = IDSESS_Q_KEY; c <= IDSESS_Q_CLIENTS; c++)
			values[c] = idsess_spi_get(i, c + 2, &nulls[c]);
		values[IDSESS_Q_TOKEN] = PointerGetDatum(token_text);
		values[IDSESS_Q_HAS_PREV] = BoolGetDatum(has_prev);
		values[IDSESS_Q_HAS_NEXT] = BoolGetDatum(has_next);
		values[IDSESS_Q_TOTAL] = Int64GetDatum(out.total);
		values[IDSESS_Q_TOTAL_PAGES] = Int32GetDatum(total_pages);
		values[IDSESS_Q_PAGE] = Int32GetDatum(out.page);
		for (int c = IDSESS_Q_TOKEN; c < IDSESS_Q_NATTS_1_1; c++)
			nulls[c] = false;
		nulls[IDSESS_Q_TOKEN] = token_text == NULL;
		if (api_1_1)
		{
			values[IDSESS_Q_ISSUER] = idsess_spi_get(i, IDSESS_Q_CLIENTS + 3, &nulls[IDSESS_Q_ISSUER]);
			values[IDSESS_Q_CLIENT_SIDS] = idsess_spi_get(i, IDSESS_Q_CLIENTS + 4,
														  &nulls[IDSESS_Q_CLIENT_SIDS]);
			nulls[IDSESS_Q_TICKET] = nulls[IDSESS_Q_TICKET_BYTES] = true;
		}
		if (api_1_2)
			for (int c = IDSESS_Q_ACR; c <= IDSESS_Q_AUTH_TIME; c++)
				values[c] = idsess_spi_get(i, IDSESS_Q_CLIENTS + 6 + (c - IDSESS_Q_ACR), &nulls[c]);
		if (api_1_1 && tickets)
			put_with_ticket(rsinfo, values, nulls, idsess_spi_get(i, IDSESS_Q_CLIENTS + 5, &isnull),
							&opened);
		else
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}

/*
 * Entry points: the unversioned symbol serves the 1.0 and 1.1 scripts
 * (version.c), each later script binds the symbol of its version.
 */
PG_FUNCTION_INFO_V1(idsess_query);
Datum
idsess_query(PG_FUNCTION_ARGS)
{
	return search(fcinfo, idsess_unversioned_api(fcinfo, 7, 8));
}

PG_FUNCTION_INFO_V1(idsess_query_1_2);
Datum
idsess_query_1_2(PG_FUNCTION_ARGS)
{
	return search(fcinfo, IDSESS_API_1_2);
}
