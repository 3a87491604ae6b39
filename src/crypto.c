/*-------------------------------------------------------------------------
 *
 * crypto.c
 *		AES-256-CBC and HMAC-SHA256 through OpenSSL's EVP interface, as
 *		pgcrypto's encrypt_iv/decrypt_iv ('aes-cbc/pad:pkcs') and hmac
 *		compute them; random bytes for keys and IVs.
 *
 * pgcrypto defines the ticket format (sql/seal.sql opens the C path's seals
 * with pgcrypto in plain SQL, and seals that the C path opens), but calling
 * it costs an algorithm fetch inside OpenSSL 3 on every call, most of what
 * opening a ticket cost (bench/analysis.md).  Here each algorithm is
 * fetched once per backend, and one context per algorithm is keyed again on
 * each call rather than built anew.  Lifetimes: the contexts live as long
 * as the backend and hold the schedule of the last key used, as the key
 * ring holds the keys themselves; every buffer this file allocates that
 * holds plaintext is the caller's to wipe, and on an error it is wiped here
 * before the error is raised.  OpenSSL's errors are turned into PostgreSQL
 * errors in one place (openssl_error), with OpenSSL's reason and never any
 * input.
 *
 *-------------------------------------------------------------------------
 */
#include "idsess.h"
#include "crypto.h"
#include "envelope.h"

#include "miscadmin.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>

static EVP_CIPHER *aes_256_cbc = NULL;
static EVP_CIPHER_CTX *cipher_ctx = NULL;
static EVP_MAC *hmac = NULL;
static EVP_MAC_CTX *hmac_ctx = NULL;

static void openssl_error(const char *what) pg_attribute_noreturn();

static void
openssl_error(const char *what)
{
	unsigned long code = ERR_get_error();
	char		reason[256];

	if (code != 0)
		ERR_error_string_n(code, reason, sizeof(reason));
	else
		strlcpy(reason, "no reason given", sizeof(reason));
	ERR_clear_error();
	ereport(ERROR,
			(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
			 errmsg("OpenSSL could not %s", what),
			 errdetail("%s", reason)));
}

/* Fetches the algorithms and makes the contexts, once per backend. */
static void
crypto_prepare(void)
{
	OSSL_PARAM	params[2];

	if (hmac_ctx != NULL)
		return;
	if (aes_256_cbc == NULL && (aes_256_cbc = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL)) == NULL)
		openssl_error("load AES-256-CBC");
	if (cipher_ctx == NULL && (cipher_ctx = EVP_CIPHER_CTX_new()) == NULL)
		openssl_error("make a cipher context");
	if (hmac == NULL && (hmac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		openssl_error("load HMAC");
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	{
		EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(hmac);

		if (ctx == NULL || !EVP_MAC_CTX_set_params(ctx, params))
		{
			EVP_MAC_CTX_free(ctx);
			openssl_error("make an HMAC-SHA256 context");
		}
		hmac_ctx = ctx;
	}
}

/*
 * AES-256-CBC with PKCS#7 padding.  The caller supplies a fresh IV for every
 * encryption and authenticates the result (decryption comes after the tag
 * is checked).  The result, plaintext when decrypting, is the caller's to
 * wipe; on an error it is wiped here.
 */
bytea *
idsess_aes256_cbc(bool encrypt, const uint8 *key, const uint8 *iv,
				  const char *data, Size len)
{
	bytea	   *out;
	int			n1 = 0;
	int			n2 = 0;

	crypto_prepare();
	if (len > (Size) (INT_MAX - 2 * 16))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("value too large to encrypt")));
	out = palloc(VARHDRSZ + len + 16);
	if (!EVP_CipherInit_ex2(cipher_ctx, aes_256_cbc, key, iv, encrypt ? 1 : 0, NULL) ||
		!EVP_CipherUpdate(cipher_ctx, (unsigned char *) VARDATA(out), &n1,
						  (const unsigned char *) data, (int) len) ||
		!EVP_CipherFinal_ex(cipher_ctx, (unsigned char *) VARDATA(out) + n1, &n2))
	{
		explicit_bzero(VARDATA(out), len + 16);
		pfree(out);
		openssl_error(encrypt ? "encrypt" : "decrypt");
	}
	SET_VARSIZE(out, VARHDRSZ + n1 + n2);
	return out;
}

/*
 * HMAC-SHA256 of the concatenation of nparts byte strings; out receives 32
 * bytes (a derived subkey when deriving keys: the caller's to wipe).
 */
void
idsess_hmac_sha256_parts(const uint8 *key, Size keylen, int nparts,
						 const char *const *parts, const Size *lens, uint8 *out)
{
	size_t		outlen = 0;

	crypto_prepare();
	if (!EVP_MAC_init(hmac_ctx, key, keylen, NULL))
		openssl_error("key HMAC-SHA256");
	for (int i = 0; i < nparts; i++)
		if (!EVP_MAC_update(hmac_ctx, (const unsigned char *) parts[i], lens[i]))
			openssl_error("compute HMAC-SHA256");
	if (!EVP_MAC_final(hmac_ctx, out, &outlen, 32) || outlen != 32)
		openssl_error("compute HMAC-SHA256");
}

void
idsess_hmac_sha256(const uint8 *key, Size keylen, const char *data, Size len, uint8 *out)
{
	idsess_hmac_sha256_parts(key, keylen, 1, &data, &len, out);
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
