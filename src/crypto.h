/*-------------------------------------------------------------------------
 *
 * crypto.h
 *		AES-256-CBC, HMAC-SHA256 and random bytes, through OpenSSL (crypto.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDSESS_CRYPTO_H
#define IDSESS_CRYPTO_H

#include "idsess.h"

extern bytea *idsess_aes256_cbc(bool encrypt, const uint8 *key, const uint8 *iv,
								const char *data, Size len);
extern void idsess_hmac_sha256_parts(const uint8 *key, Size keylen, int nparts,
									 const char *const *parts, const Size *lens,
									 uint8 *out);
extern void idsess_hmac_sha256(const uint8 *key, Size keylen,
							   const char *data, Size len, uint8 *out);
extern void idsess_random(uint8 *buf, Size len);
extern void idsess_random_iv(uint8 *iv);

#endif							/* IDSESS_CRYPTO_H */
