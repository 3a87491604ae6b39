/*-------------------------------------------------------------------------
 *
 * envelope.c
 *		Authenticated encryption of bytes under a key the caller gives:
 *		AES-256-CBC and HMAC-SHA256, encrypt-then-MAC, in one layout.  It
 *		knows nothing of key rings, tickets or SQL.
 *
 * A sealed value is
 *
 *		"IS"  version(1)  format(1)  key id (4, big-endian)  IV (16)
 *		AES-256-CBC ciphertext (PKCS#7 padded)
 *		HMAC-SHA256 tag (32)
 *
 * The tag covers the associated data first (its length, then its bytes: the
 * session key for a ticket, the key id for a wrapped data key) and then
 * everything before the tag, so a value copied to another row, a flipped
 * byte, a changed key id or format fails to open.  The tag is checked, in
 * constant time, before anything is decrypted.
 *
 * Nothing here ever puts plaintext into an error message.
 *
 *-------------------------------------------------------------------------
 */
#include "idsess.h"
#include "envelope.h"
#include "crypto.h"

#define SEAL_MAGIC0			'I'
#define SEAL_MAGIC1			'S'
#define SEAL_VERSION		1
#define SEAL_HEADER			8
#define SEAL_IV				16
#define SEAL_TAG			32
#define SEAL_MIN			(SEAL_HEADER + SEAL_IV + 16 + SEAL_TAG)

bool
idsess_timingsafe_equal(const uint8 *a, const uint8 *b, Size len)
{
	uint8		diff = 0;

	for (Size i = 0; i < len; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

/* Tag over (aad length, aad, sealed bytes before the tag). */
static void
seal_tag(const IdsessKey *key, const char *aad, Size aadlen,
		 const char *body, Size bodylen, uint8 *tag)
{
	char		aadlen_be[8];
	uint64		n = aadlen;
	const char *parts[3] = {aadlen_be, aad, body};
	Size		lens[3] = {8, aadlen, bodylen};

	for (int i = 0; i < 8; i++)
		aadlen_be[i] = (char) (n >> (56 - 8 * i));
	idsess_hmac_sha256_parts(key->mac, IDSESS_KEY_BYTES, 3, parts, lens, tag);
}

bytea *
idsess_seal(const IdsessKey *key, char format, const char *aad, Size aadlen,
			const char *data, Size len)
{
	uint8		iv[SEAL_IV];
	bytea	   *ct;
	Size		ctlen;
	Size		total;
	bytea	   *out;
	char	   *p;

	StaticAssertStmt(SEAL_IV == 16, "idsess_random_iv gives 16 bytes");
	idsess_random_iv(iv);
	ct = idsess_aes256_cbc(true, key->enc, iv, data, len);
	ctlen = VARSIZE_ANY_EXHDR(ct);

	total = SEAL_HEADER + SEAL_IV + ctlen + SEAL_TAG;
	out = palloc(VARHDRSZ + total);
	SET_VARSIZE(out, VARHDRSZ + total);
	p = VARDATA(out);
	p[0] = SEAL_MAGIC0;
	p[1] = SEAL_MAGIC1;
	p[2] = SEAL_VERSION;
	p[3] = format;
	p[4] = (char) ((uint32) key->id >> 24);
	p[5] = (char) ((uint32) key->id >> 16);
	p[6] = (char) ((uint32) key->id >> 8);
	p[7] = (char) ((uint32) key->id);
	memcpy(p + SEAL_HEADER, iv, SEAL_IV);
	memcpy(p + SEAL_HEADER + SEAL_IV, VARDATA_ANY(ct), ctlen);
	seal_tag(key, aad, aadlen, p, total - SEAL_TAG, (uint8 *) p + total - SEAL_TAG);
	pfree(ct);
	return out;
}

/* Whether a value has the layout of a seal (nothing authenticated yet). */
bool
idsess_sealed_well_formed(bytea *sealed)
{
	const uint8 *p = (const uint8 *) VARDATA_ANY(sealed);
	Size		len = VARSIZE_ANY_EXHDR(sealed);

	return len >= SEAL_MIN && (len - SEAL_MIN) % 16 == 0 &&
		p[0] == SEAL_MAGIC0 && p[1] == SEAL_MAGIC1 && p[2] == SEAL_VERSION;
}

static int32
header_key_id(bytea *sealed)
{
	const uint8 *p = (const uint8 *) VARDATA_ANY(sealed);

	return (int32) (((uint32) p[4] << 24) | ((uint32) p[5] << 16) |
					((uint32) p[6] << 8) | (uint32) p[7]);
}

/* The key id in a sealed value's header (no authentication yet). */
int32
idsess_sealed_key_id(bytea *sealed)
{
	if (!idsess_sealed_well_formed(sealed))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("sealed value is malformed"),
				 errdetail("The stored value does not have the layout of an idsess seal.")));
	return header_key_id(sealed);
}

/*
 * Opens a well-formed sealed value with the given key and returns the
 * plaintext, or NULL when the tag does not verify; *format receives the
 * format byte.  aad must be what was given to idsess_seal().
 */
bytea *
idsess_open_with(const IdsessKey *key, bytea *sealed, char *format,
				 const char *aad, Size aadlen)
{
	const char *p = VARDATA_ANY(sealed);
	Size		len = VARSIZE_ANY_EXHDR(sealed);
	uint8		tag[SEAL_TAG];

	Assert(idsess_sealed_well_formed(sealed));
	seal_tag(key, aad, aadlen, p, len - SEAL_TAG, tag);
	if (!idsess_timingsafe_equal(tag, (const uint8 *) p + len - SEAL_TAG, SEAL_TAG))
		return NULL;
	*format = p[3];
	return idsess_aes256_cbc(false, key->enc, (const uint8 *) p + SEAL_HEADER,
							 p + SEAL_HEADER + SEAL_IV,
							 len - SEAL_HEADER - SEAL_IV - SEAL_TAG);
}
