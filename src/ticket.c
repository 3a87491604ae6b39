/*-------------------------------------------------------------------------
 *
 * ticket.c
 *		Tickets: sealed under the active data key with the session key as
 *		associated data (envelope.c's layout), compressed first when that
 *		makes them smaller, opened with the data key their header names.
 *
 * The format byte says what was sealed: a ticket given as text ('t') or as
 * bytes ('b'), or a wrapped data key ('k', keyring.c).  A ticket is
 * compressed with LZ4 before it is sealed when idsess.compress_tickets is
 * on, the caller's schema may hold compressed tickets (1.1 and later) and
 * that makes it smaller; its format is then upper case ('T', 'B') and the
 * sealed plaintext is the ticket's length (4 bytes, big-endian) followed by
 * the compressed bytes.  Compressing keeps a typical serialized ticket
 * (claims, properties) in the row instead of TOAST chunks, which is what a
 * get reads and what an expiry deletes and logs (bench/analysis.md).  LZ4
 * rather than PostgreSQL's pglz: faster to compress and to expand for about
 * the same size (bench/analysis.md).  A 1.0 schema gets uncompressed
 * tickets, which the 1.0 library can open: the package can be rolled back
 * until ALTER EXTENSION UPDATE.  Callers of the open functions only ever
 * see 't' and 'b'.
 *
 * Tickets are sealed only under data keys (id > 0); only wrapped data keys
 * are sealed under the master key (id 0), and only keyring.c opens those.
 * Sealing and opening a ticket resolve the key in the same call, as a copy
 * of their own (see keyring.c's lifetime rule), and wipe it afterwards.
 *
 * The one rule for every path that opens a ticket (get, get_sessions,
 * query, take_expired, reseal, rekey, the worker's reseal): it opens
 * through idsess_try_unseal, which takes the key's seal lock, shared,
 * until the transaction ends, and reads the key's state under it
 * (idsess_key_by_id), so a retire or destroy waits for the opener and an
 * opener never uses a key ended before its lock was granted.  A ticket that
 * does not open is an error for a call about one session (idsess_unseal),
 * a NULL ticket and a WARNING for a row of a set (idsess_unseal_row), and
 * a skipped, audited row for a reseal (keys.c).  An opened ticket goes into
 * a result row only through idsess_put_row_opened, which checks its format and
 * counts it against the call's bound.
 *
 * Nothing here ever puts plaintext into an error message.
 *
 *-------------------------------------------------------------------------
 */
#include "idsess.h"
#include "ticket.h"
#include "failures.h"
#include "envelope.h"
#include "keyring.h"
#include "settings.h"

#include "miscadmin.h"
#include "utils/memutils.h"

#include <lz4.h>

/* The length in front of a compressed ticket. */
#define PACK_HEADER			4

/*
 * LZ4's compression state, kept for the life of the backend.  Starting each
 * ticket with LZ4_resetStream_fast instead of a fresh state spares zeroing
 * its 16 kB (LZ4_compress_default does that on every call: 16,400 of LZ4's
 * 30,200 instructions a create, callgrind, bench/analysis.md).  The reset
 * moves every position the table remembers out of the match window, so each
 * ticket is compressed as an independent block, as LZ4_decompress_safe
 * expects.  The state holds positions, never the ticket's bytes.
 */
static LZ4_stream_t lz4_state;
static bool lz4_state_ready = false;

/*
 * Seals a ticket under the given data key, compressed first when that is
 * wanted and makes it smaller.  The compressed copy is as secret as the
 * ticket: it is wiped before it is freed, on the error path too.
 */
bytea *
idsess_seal_ticket_with(const IdsessKey *key, char format, const char *aad, Size aadlen,
						const char *data, Size len, bool may_compress)
{
	char	   *volatile packed = NULL;
	volatile Size packedsize = 0;
	volatile Size packedlen = 0;
	bytea	   *volatile sealed = NULL;

	Assert(format == IDSESS_FORMAT_TEXT || format == IDSESS_FORMAT_BYTES);
	if (may_compress && idsess_compress_tickets && len > PACK_HEADER &&
		len <= LZ4_MAX_INPUT_SIZE)
	{
		int			clen;

		packedsize = PACK_HEADER + LZ4_compressBound((int) len);
		packed = palloc(packedsize);
		if (!lz4_state_ready)
		{
			LZ4_initStream(&lz4_state, sizeof(lz4_state));
			lz4_state_ready = true;
		}
		else
			LZ4_resetStream_fast(&lz4_state);
		clen = LZ4_compress_fast_continue(&lz4_state, data, packed + PACK_HEADER,
										  (int) len, (int) (packedsize - PACK_HEADER), 1);
		if (clen > 0 && PACK_HEADER + (Size) clen < len)
		{
			for (int i = 0; i < PACK_HEADER; i++)
				packed[i] = (char) ((uint32) len >> (24 - 8 * i));
			packedlen = PACK_HEADER + clen;
		}
	}
	PG_TRY();
	{
		if (packedlen > 0)
			sealed = idsess_seal(key, format == IDSESS_FORMAT_TEXT ?
								 IDSESS_FORMAT_TEXT_PACKED : IDSESS_FORMAT_BYTES_PACKED,
								 aad, aadlen, packed, packedlen);
		else
			sealed = idsess_seal(key, format, aad, aadlen, data, len);
	}
	PG_FINALLY();
	{
		if (packed != NULL)
		{
			explicit_bzero(packed, packedsize);
			pfree(packed);
		}
	}
	PG_END_TRY();
	return sealed;
}

/*
 * Seals a ticket under the active data key: the key is resolved here, into
 * this call's own copy, and the id stored in the header and returned in
 * *key_id is that copy's, so the header, the row's key_id and the bytes
 * that sealed it always agree.
 */
bytea *
idsess_seal_ticket(char format, const char *aad, Size aadlen,
				   const char *data, Size len, bool may_compress, int32 *key_id)
{
	IdsessKey	key;
	bytea	   *sealed = NULL;

	PG_TRY();
	{
		idsess_active_key(&key);
		sealed = idsess_seal_ticket_with(&key, format, aad, aadlen, data, len, may_compress);
		*key_id = key.id;
	}
	PG_CATCH();
	{
		explicit_bzero(&key, sizeof(key));
		idsess_count_failure(IDSESS_FAILURE_SEAL, geterrcode());
		PG_RE_THROW();
	}
	PG_END_TRY();
	explicit_bzero(&key, sizeof(key));
	return sealed;
}

/*
 * The ticket inside an opened, compressed plaintext, or NULL when it does
 * not decompress to the length it names (it was then not written by
 * idsess_seal_ticket_with, although its tag verified) or, with *oom set,
 * when there is no memory for it.  It raises no error, so that the caller
 * always gets to wipe the compressed plaintext; a partly written result is
 * wiped here.
 */
static bytea *
decompress_ticket(bytea *packed, bool *oom)
{
	const uint8 *p = (const uint8 *) VARDATA_ANY(packed);
	Size		len = VARSIZE_ANY_EXHDR(packed);
	uint32		rawlen;
	bytea	   *plain;

	if (len <= PACK_HEADER)
		return NULL;
	rawlen = ((uint32) p[0] << 24) | ((uint32) p[1] << 16) | ((uint32) p[2] << 8) | (uint32) p[3];
	if (rawlen <= len - PACK_HEADER || rawlen > MaxAllocSize - VARHDRSZ)
		return NULL;
	plain = palloc_extended(VARHDRSZ + rawlen, MCXT_ALLOC_NO_OOM);
	if (plain == NULL)
	{
		*oom = true;
		return NULL;
	}
	if (LZ4_decompress_safe((const char *) p + PACK_HEADER, VARDATA(plain),
							(int) (len - PACK_HEADER), (int) rawlen) != (int) rawlen)
	{
		explicit_bzero(VARDATA(plain), rawlen);
		pfree(plain);
		return NULL;
	}
	SET_VARSIZE(plain, VARHDRSZ + rawlen);
	return plain;
}

/*
 * Opens a sealed ticket with the data key its header names, resolved here
 * into this call's own copy.  Returns the plaintext, or NULL with *why set
 * when the ticket cannot be opened.  A ticket is only ever sealed under a
 * data key (id > 0) as text or bytes, compressed or not; a header naming
 * the master key or another format was not written by
 * idsess_seal_ticket_with.  A compressed ticket is returned decompressed,
 * with its format in lower case.
 */
static bytea *
try_unseal(bytea *sealed, char *format, const char *aad, Size aadlen,
		   IdsessOpenFailure *why)
{
	const char *p = VARDATA_ANY(sealed);
	int32		key_id;
	IdsessKey	key;
	bytea	   *plain = NULL;

	if (!idsess_sealed_well_formed(sealed))
	{
		*why = IDSESS_OPEN_MALFORMED;
		return NULL;
	}
	key_id = idsess_sealed_key_id(sealed);
	if (key_id == 0 || (p[3] != IDSESS_FORMAT_TEXT && p[3] != IDSESS_FORMAT_BYTES &&
						p[3] != IDSESS_FORMAT_TEXT_PACKED && p[3] != IDSESS_FORMAT_BYTES_PACKED))
	{
		*why = IDSESS_OPEN_FORGED;
		return NULL;
	}
	/* Ids past INT32_MAX: no key ring holds them. */
	if (key_id < 0)
	{
		*why = IDSESS_OPEN_KEY_UNKNOWN;
		return NULL;
	}
	switch (idsess_key_by_id(key_id, &key))
	{
		case IDSESS_KEY_USABLE:
			break;
		case IDSESS_KEY_UNKNOWN:
			*why = IDSESS_OPEN_KEY_UNKNOWN;
			return NULL;
		case IDSESS_KEY_RETIRED:
			*why = IDSESS_OPEN_KEY_RETIRED;
			return NULL;
		case IDSESS_KEY_DESTROYED:
			*why = IDSESS_OPEN_KEY_DESTROYED;
			return NULL;
	}
	PG_TRY();
	{
		plain = idsess_open_with(&key, sealed, format, aad, aadlen);
	}
	PG_FINALLY();
	{
		explicit_bzero(&key, sizeof(key));
	}
	PG_END_TRY();
	if (plain != NULL && (*format == IDSESS_FORMAT_TEXT_PACKED || *format == IDSESS_FORMAT_BYTES_PACKED))
	{
		bytea	   *packed = plain;

		bool		oom = false;

		*format = *format == IDSESS_FORMAT_TEXT_PACKED ? IDSESS_FORMAT_TEXT : IDSESS_FORMAT_BYTES;
		plain = decompress_ticket(packed, &oom);
		explicit_bzero(VARDATA_ANY(packed), VARSIZE_ANY_EXHDR(packed));
		pfree(packed);
		if (oom)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory"),
					 errdetail("There was no memory to decompress a sealed ticket.")));
	}
	*why = plain ? IDSESS_OPENED : IDSESS_OPEN_FORGED;
	return plain;
}

/* The SQLSTATE report_unopenable raises for a ticket that does not open. */
static int
unopenable_sqlstate(IdsessOpenFailure why)
{
	switch (why)
	{
		case IDSESS_OPEN_KEY_UNKNOWN:
			return ERRCODE_UNDEFINED_OBJECT;
		case IDSESS_OPEN_KEY_RETIRED:
		case IDSESS_OPEN_KEY_DESTROYED:
			return ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE;
		default:
			return ERRCODE_DATA_CORRUPTED;
	}
}

/*
 * try_unseal, counting each ticket that does not open (idsess_count_failure)
 * whether the caller then raises, warns or skips: the key ring's and the
 * master key's errors by their SQLSTATE, an unopenable ticket by the one
 * report_unopenable gives it.
 */
bytea *
idsess_try_unseal(bytea *sealed, char *format, const char *aad, Size aadlen,
				  IdsessOpenFailure *why)
{
	bytea	   *plain = NULL;

	PG_TRY();
	{
		plain = try_unseal(sealed, format, aad, aadlen, why);
	}
	PG_CATCH();
	{
		idsess_count_failure(IDSESS_FAILURE_OPEN, geterrcode());
		PG_RE_THROW();
	}
	PG_END_TRY();
	if (plain == NULL)
		idsess_count_failure(IDSESS_FAILURE_OPEN, unopenable_sqlstate(*why));
	return plain;
}

/*
 * Reports, at `elevel`, why a sealed ticket did not open.  The messages
 * name the key id from the header, never the session key or any of the
 * ticket.
 */
static void
report_unopenable(bytea *sealed, IdsessOpenFailure why, int elevel)
{
	switch (why)
	{
		case IDSESS_OPENED:
			break;
		case IDSESS_OPEN_MALFORMED:
			ereport(elevel,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("sealed ticket is malformed"),
					 errdetail("The stored value does not have the layout of an idsess seal."),
					 errhint("Restore the row from a backup; the ticket cannot be opened.")));
			break;
		case IDSESS_OPEN_FORGED:
			ereport(elevel,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("sealed ticket failed authentication"),
					 errdetail("The stored ticket was altered, or was sealed for another session."),
					 errhint("The session cannot be opened; delete it and let the user sign in again.")));
			break;
		case IDSESS_OPEN_KEY_UNKNOWN:
			ereport(elevel,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("ticket is sealed under data key %u, which is not in the key ring",
							(uint32) idsess_sealed_key_id(sealed)),
					 errhint("The key ring (idsess.keys) may have been restored from another database or edited by hand.")));
			break;
		case IDSESS_OPEN_KEY_RETIRED:
		case IDSESS_OPEN_KEY_DESTROYED:
			ereport(elevel,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("ticket is sealed under data key %d, which was %s",
							idsess_sealed_key_id(sealed),
							why == IDSESS_OPEN_KEY_RETIRED ? "retired" : "destroyed"),
					 errhint("Tickets under a destroyed key can never be opened again; delete the session.")));
			break;
	}
}

/* Opens a sealed ticket, or reports at elevel why not and returns NULL. */
static bytea *
unseal_reporting(bytea *sealed, char *format, const char *aad, Size aadlen, int elevel)
{
	IdsessOpenFailure why;
	bytea	   *plain = idsess_try_unseal(sealed, format, aad, aadlen, &why);

	report_unopenable(sealed, why, elevel);
	return plain;
}

/*
 * Opens a sealed ticket (see idsess_try_unseal) or raises the error that
 * says why it does not open: for a caller that asked for one session.
 */
bytea *
idsess_unseal(bytea *sealed, char *format, const char *aad, Size aadlen)
{
	return unseal_reporting(sealed, format, aad, aadlen, ERROR);
}

/*
 * Opens a sealed ticket for one row of a set (a page, a subject's
 * sessions, a batch of expired sessions): a ticket that does not open is
 * reported as a WARNING and NULL is returned, so that one row (say, under
 * a destroyed key) never fails the rows around it.  The row then comes
 * back with its ticket NULL, which no stored session has.
 */
bytea *
idsess_unseal_row(bytea *sealed, char *format, const char *aad, Size aadlen)
{
	return unseal_reporting(sealed, format, aad, aadlen, WARNING);
}

/*
 * Counts `len` more bytes of opened tickets into *opened, refusing to go past
 * the bound of one call: work_mem or 16 tickets of idsess.max_ticket_size,
 * whichever is more.
 */
void
idsess_check_opened(Size *opened, Size len)
{
	Size		limit = (Size) Max(work_mem, 16 * idsess_max_ticket_kb) * 1024;

	*opened += len;
	if (*opened > limit)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the sessions' tickets are too large to return at once"),
				 errdetail("One call returns at most %zu kB of tickets.", limit / 1024),
				 errhint("Open them one at a time with idsess_get, or raise work_mem.")));
}

/*
 * Puts an opened ticket (NULL: it did not open) into a row's two ticket
 * columns, values[0] as text and values[1] as bytes, the other one NULL;
 * both NULL for a ticket that did not open.  Counts it against the call's
 * bound on opened bytes (opened NULL: a call that opens one ticket).  The
 * one way an opened ticket goes into a result row: on an error here the
 * plaintext is wiped before the error is raised.
 */
static void
put_opened(Datum *values, bool *nulls, bytea *plain, char format, Size *opened)
{
	nulls[0] = nulls[1] = true;
	if (plain == NULL)
		return;
	if (format != IDSESS_FORMAT_TEXT && format != IDSESS_FORMAT_BYTES)
	{
		explicit_bzero(plain, VARSIZE(plain));
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("sealed ticket has an unknown format")));
	}
	if (opened)
	{
		PG_TRY();
		{
			idsess_check_opened(opened, VARSIZE(plain));
		}
		PG_CATCH();
		{
			explicit_bzero(plain, VARSIZE(plain));
			PG_RE_THROW();
		}
		PG_END_TRY();
	}
	nulls[0] = format != IDSESS_FORMAT_TEXT;
	nulls[1] = format != IDSESS_FORMAT_BYTES;
	values[0] = values[1] = PointerGetDatum(plain);
}

/*
 * Puts a result row into tupstore with an opened ticket (plain, NULL when
 * it did not open) in its two ticket columns, values[tcol] as text and
 * values[tcol + 1] as bytes (put_opened), and wipes and frees the
 * plaintext once the tuplestore has its copy, on error paths too.
 */
void
idsess_put_row_opened(Tuplestorestate *tupstore, TupleDesc desc, Datum *values,
					  bool *nulls, int tcol, bytea *plain, char format, Size *opened)
{
	PG_TRY();
	{
		put_opened(&values[tcol], &nulls[tcol], plain, format, opened);
		tuplestore_putvalues(tupstore, desc, values, nulls);
	}
	PG_CATCH();
	{
		if (plain)
			explicit_bzero(plain, VARSIZE(plain));
		PG_RE_THROW();
	}
	PG_END_TRY();
	if (plain)
	{
		explicit_bzero(plain, VARSIZE(plain));
		pfree(plain);
	}
}
