/*-------------------------------------------------------------------------
 *
 * crypto.c
 *		Calls into pgcrypto: AES-256-CBC (encrypt_iv/decrypt_iv) and
 *		HMAC-SHA256 (hmac); random bytes for keys and IVs.
 *
 * pgcrypto may be installed in any schema, so its functions are found by
 * looking up the extension's schema and then each function by its
 * schema-qualified name and argument types.  The resolved functions are
 * cached per backend and forgotten whenever pg_proc or pg_namespace changes
 * (for example ALTER EXTENSION pgcrypto SET SCHEMA).
 *
 *-------------------------------------------------------------------------
 */
#include "idsess.h"
#include "crypto.h"
#include "envelope.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "common/cryptohash.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

static bool pgcrypto_valid = false;
static bool callbacks_registered = false;
static FmgrInfo encrypt_iv_fn;
static FmgrInfo decrypt_iv_fn;
static FmgrInfo hmac_fn;

static void
pgcrypto_invalidate(Datum arg pg_attribute_unused(),
					int cacheid pg_attribute_unused(),
					uint32 hashvalue pg_attribute_unused())
{
	pgcrypto_valid = false;
}

/* The schema pgcrypto is installed in. */
static Oid
pgcrypto_schema(void)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			nsp = InvalidOid;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum("pgcrypto"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		nsp = ((Form_pg_extension) GETSTRUCT(tup))->extnamespace;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	if (!OidIsValid(nsp))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("idsess needs the pgcrypto extension, which is not installed in this database"),
				 errhint("Run CREATE EXTENSION pgcrypto, or reinstall with CREATE EXTENSION idsess CASCADE.")));
	return nsp;
}

static void
lookup_fn(const char *nspname, const char *fname, int nargs, Oid *argtypes,
		  FmgrInfo *finfo)
{
	List	   *name = list_make2(makeString(pstrdup(nspname)),
								  makeString(pstrdup(fname)));
	Oid			fn = LookupFuncName(name, nargs, argtypes, true);

	if (!OidIsValid(fn))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("pgcrypto function %s.%s not found", nspname, fname),
				 errhint("Check that the pgcrypto extension is installed and up to date.")));
	fmgr_info_cxt(fn, finfo, TopMemoryContext);
}

static void
pgcrypto_resolve(void)
{
	Oid			args4[4] = {BYTEAOID, BYTEAOID, BYTEAOID, TEXTOID};
	Oid			args3[3] = {BYTEAOID, BYTEAOID, TEXTOID};
	char	   *nspname;

	if (pgcrypto_valid)
		return;
	if (!callbacks_registered)
	{
		CacheRegisterSyscacheCallback(PROCOID, pgcrypto_invalidate, (Datum) 0);
		CacheRegisterSyscacheCallback(NAMESPACEOID, pgcrypto_invalidate, (Datum) 0);
		callbacks_registered = true;
	}
	nspname = get_namespace_name(pgcrypto_schema());
	lookup_fn(nspname, "encrypt_iv", 4, args4, &encrypt_iv_fn);
	lookup_fn(nspname, "decrypt_iv", 4, args4, &decrypt_iv_fn);
	lookup_fn(nspname, "hmac", 3, args3, &hmac_fn);
	pgcrypto_valid = true;
}

static bytea *
bytes_to_bytea(const void *data, Size len)
{
	bytea	   *b = palloc(VARHDRSZ + len);

	SET_VARSIZE(b, VARHDRSZ + len);
	memcpy(VARDATA(b), data, len);
	return b;
}

/*
 * AES-256-CBC with PKCS#7 padding through pgcrypto.  The caller supplies a
 * fresh IV for every encryption and authenticates the result.  Our copies
 * of the key and of the input (plaintext when encrypting) are wiped before
 * they are freed, on error paths too; the result (plaintext when
 * decrypting) is the caller's to wipe.
 */
bytea *
idsess_aes256_cbc(bool encrypt, const uint8 *key, const uint8 *iv,
				  const char *data, Size len)
{
	bytea	   *k = bytes_to_bytea(key, IDSESS_KEY_BYTES);
	bytea	   *i = bytes_to_bytea(iv, 16);
	bytea	   *d = bytes_to_bytea(data, len);
	Datum		res = (Datum) 0;

	PG_TRY();
	{
		pgcrypto_resolve();
		res = FunctionCall4Coll(encrypt ? &encrypt_iv_fn : &decrypt_iv_fn,
								InvalidOid,
								PointerGetDatum(d), PointerGetDatum(k),
								PointerGetDatum(i),
								CStringGetTextDatum("aes-cbc/pad:pkcs"));
	}
	PG_FINALLY();
	{
		explicit_bzero(VARDATA(k), IDSESS_KEY_BYTES);
		explicit_bzero(VARDATA(d), len);
	}
	PG_END_TRY();
	pfree(k);
	pfree(i);
	pfree(d);
	return DatumGetByteaPP(res);
}

/*
 * HMAC-SHA256 through pgcrypto; out receives 32 bytes.  Our copy of the key
 * and pgcrypto's result (a derived subkey when deriving keys) are wiped
 * before they are freed, on error paths too.
 */
void
idsess_hmac_sha256(const uint8 *key, Size keylen, const char *data, Size len,
				   uint8 *out)
{
	bytea	   *k = bytes_to_bytea(key, keylen);
	bytea	   *d = bytes_to_bytea(data, len);
	bytea	   *volatile res = NULL;

	PG_TRY();
	{
		pgcrypto_resolve();
		res = DatumGetByteaPP(FunctionCall3Coll(&hmac_fn, InvalidOid,
												PointerGetDatum(d),
												PointerGetDatum(k),
												CStringGetTextDatum("sha256")));
		if (VARSIZE_ANY_EXHDR(res) != 32)
			elog(ERROR, "pgcrypto hmac returned %zu bytes, expected 32",
				 (Size) VARSIZE_ANY_EXHDR(res));
		memcpy(out, VARDATA_ANY(res), 32);
	}
	PG_FINALLY();
	{
		explicit_bzero(VARDATA(k), keylen);
		if (res != NULL)
			explicit_bzero(VARDATA_ANY(res), VARSIZE_ANY_EXHDR(res));
	}
	PG_END_TRY();
	pfree(k);
	pfree(d);
	pfree(res);
}

/* Bytes from the operating system's strong random source. */
void
idsess_random(uint8 *buf, Size len)
{
	if (!pg_strong_random(buf, len))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate random bytes")));
}

/*
 * A 16-byte IV, from a pool of 64 drawn at once: one draw from the strong
 * source per seal was 7,800 instructions more (callgrind: 1.3% of a create,
 * 1.9% of a renewal).  An IV is
 * stored in the clear next to its ciphertext, so holding the next ones in
 * memory exposes nothing a key would not; keys and session keys still come
 * from idsess_random, one draw each.  The pool belongs to the process that
 * filled it: a process forked from one that had filled it starts afresh, so
 * no two processes ever hand out the same IV.
 */
#define IV_POOL			64
#define IV_LEN			16

void
idsess_random_iv(uint8 *iv)
{
	static uint8 pool[IV_POOL * IV_LEN];
	static int	left = 0;
	static int	filled_by = 0;

	if (left == 0 || filled_by != MyProcPid)
	{
		idsess_random(pool, sizeof(pool));
		left = IV_POOL;
		filled_by = MyProcPid;
	}
	left--;
	memcpy(iv, pool + left * IV_LEN, IV_LEN);
}
