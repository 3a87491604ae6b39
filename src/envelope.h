/*-------------------------------------------------------------------------
 *
 * envelope.h
 *		Sealing and opening bytes under a given key (envelope.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDSESS_ENVELOPE_H
#define IDSESS_ENVELOPE_H

#include "idsess.h"

/*
 * A key: its id (0 for the master key) and its two 256-bit subkeys, for
 * AES-256-CBC and for HMAC-SHA256.  Holders wipe it with explicit_bzero
 * after use, on error paths too.
 */
#define IDSESS_KEY_BYTES	32
typedef struct IdsessKey
{
	int32		id;
	uint8		enc[IDSESS_KEY_BYTES];
	uint8		mac[IDSESS_KEY_BYTES];
} IdsessKey;

/* What a sealed value holds: its format byte. */
#define IDSESS_FORMAT_TEXT		't'
#define IDSESS_FORMAT_BYTES		'b'
#define IDSESS_FORMAT_TEXT_PACKED	'T'
#define IDSESS_FORMAT_BYTES_PACKED	'B'
#define IDSESS_FORMAT_KEY		'k'

extern bytea *idsess_seal(const IdsessKey *key, char format,
						  const char *aad, Size aadlen,
						  const char *data, Size len);
extern bool idsess_sealed_well_formed(bytea *sealed);
extern int32 idsess_sealed_key_id(bytea *sealed);
extern bytea *idsess_open_with(const IdsessKey *key, bytea *sealed, char *format,
							   const char *aad, Size aadlen);
extern bool idsess_timingsafe_equal(const uint8 *a, const uint8 *b, Size len);

#endif							/* IDSESS_ENVELOPE_H */
