/*-------------------------------------------------------------------------
 *
 * keyring.c
 *		The master key and the data keys it wraps.
 *
 * The master key is 32 bytes read (as 64 hex digits) from the file named by
 * idsess.master_key_file; it never enters a table.  Tickets are sealed under
 * data keys kept in idsess.keys, each sealed ("wrapped") under the master
 * key with its id as associated data, so key ids cannot be swapped.  Each
 * backend derives a key's encryption and MAC subkeys once and caches them;
 * the cache is dropped when the setting changes and whenever idsess.keys'
 * relcache entry is invalidated, which every key operation causes, and
 * which a backend also sees for its own rolled-back key operations.
 *
 *-------------------------------------------------------------------------
 */
#include "idsess.h"

#include <sys/stat.h>
#include <unistd.h>

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#define MAX_CACHED_KEYS		64

static bool master_loaded = false;
static IdsessKey master;
static int	nkeys = 0;
static IdsessKey keys[MAX_CACHED_KEYS];
static int32 active_id = 0;		/* 0: not known */
static Oid	keys_relid = InvalidOid;
static bool callback_registered = false;

void
idsess_keyring_init(void)
{
	explicit_bzero(&master, sizeof(master));
	explicit_bzero(keys, sizeof(keys));
	master_loaded = false;
	nkeys = 0;
	active_id = 0;
}

static void
keys_relcache_callback(Datum arg pg_attribute_unused(), Oid relid)
{
	if (!OidIsValid(relid) || relid == keys_relid)
	{
		explicit_bzero(keys, sizeof(keys));
		nkeys = 0;
		active_id = 0;
		keys_relid = InvalidOid;
	}
}

static void
remember_keys_relid(void)
{
	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(keys_relcache_callback, (Datum) 0);
		callback_registered = true;
	}
	if (!OidIsValid(keys_relid))
		keys_relid = get_relname_relid("keys", get_namespace_oid("idsess", false));
}

/* Derives the encryption and MAC subkeys of a 32-byte secret. */
void
idsess_derive_key(int32 id, const uint8 *secret, IdsessKey *out)
{
	static const char enc_label[] = "idsess v1 encryption";
	static const char mac_label[] = "idsess v1 authentication";

	out->id = id;
	idsess_hmac_sha256(secret, IDSESS_KEY_BYTES, enc_label, strlen(enc_label), out->enc);
	idsess_hmac_sha256(secret, IDSESS_KEY_BYTES, mac_label, strlen(mac_label), out->mac);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Reads a master key file (64 hex digits, owner-only) into *out.  Nothing
 * read from the file ever reaches an error message.
 */
void
idsess_load_master_key(const char *path, IdsessKey *out)
{
	int			fd;
	struct stat st;
	char		buf[130];
	ssize_t		n;
	int			len;
	uint8		secret[IDSESS_KEY_BYTES];

	fd = OpenTransientFile(path, O_RDONLY | PG_BINARY);
	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open idsess master key file \"%s\": %m", path),
				 errhint("Check idsess.master_key_file and that the server's operating-system user can read the file.")));
	if (fstat(fd, &st) != 0)
	{
		CloseTransientFile(fd);
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat idsess master key file \"%s\": %m", path)));
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
	{
		CloseTransientFile(fd);
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("idsess master key file \"%s\" must be a regular file with no group or world access", path),
				 errhint("Run chmod 600 on the file.")));
	}
	n = read(fd, buf, sizeof(buf) - 1);
	CloseTransientFile(fd);
	if (n < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read idsess master key file \"%s\": %m", path)));

	len = (int) n;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
					   buf[len - 1] == ' ' || buf[len - 1] == '\t'))
		len--;
	if (len != 2 * IDSESS_KEY_BYTES)
	{
		explicit_bzero(buf, sizeof(buf));
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("idsess master key file \"%s\" must contain exactly 64 hexadecimal digits", path)));
	}
	for (int i = 0; i < IDSESS_KEY_BYTES; i++)
	{
		int			hi = hexval(buf[2 * i]);
		int			lo = hexval(buf[2 * i + 1]);

		if (hi < 0 || lo < 0)
		{
			explicit_bzero(buf, sizeof(buf));
			explicit_bzero(secret, sizeof(secret));
			ereport(ERROR,
					(errcode(ERRCODE_CONFIG_FILE_ERROR),
					 errmsg("idsess master key file \"%s\" must contain exactly 64 hexadecimal digits", path)));
		}
		secret[i] = (uint8) (hi << 4 | lo);
	}
	explicit_bzero(buf, sizeof(buf));
	idsess_derive_key(0, secret, out);
	explicit_bzero(secret, sizeof(secret));
}

/* The configured master key, read once per backend and setting. */
const IdsessKey *
idsess_master_key(void)
{
	const char *path = idsess_master_key_file;

	if (master_loaded)
		return &master;
	if (path == NULL || path[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no idsess master key is configured"),
				 errdetail("Sealing or opening a ticket needs the master key."),
				 errhint("Set idsess.master_key_file to a file holding 64 hexadecimal digits (see the README, \"Configuring the master key\").")));
	idsess_load_master_key(path, &master);
	master_loaded = true;
	return &master;
}

/* Wraps a data key's 32-byte secret under a master key. */
bytea *
idsess_wrap_secret(const IdsessKey *master_key, int32 id, const uint8 *secret)
{
	char		aad[32];

	snprintf(aad, sizeof(aad), "key:%d", id);
	return idsess_seal(master_key, IDSESS_FORMAT_KEY, aad, strlen(aad),
					   (const char *) secret, IDSESS_KEY_BYTES);
}

/* Unwraps a data key under the configured master key: its 32-byte secret. */
bytea *
idsess_unwrap_secret(int32 id, bytea *wrapped)
{
	char		aad[32];
	char		format;
	bytea	   *secret;

	snprintf(aad, sizeof(aad), "key:%d", id);
	if (idsess_sealed_key_id(wrapped) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("data key %d is not wrapped under the master key", id)));
	secret = idsess_unseal(wrapped, &format, aad, strlen(aad));
	if (format != IDSESS_FORMAT_KEY || VARSIZE_ANY_EXHDR(secret) != IDSESS_KEY_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("data key %d is malformed", id)));
	return secret;
}

/* Unwraps a data key sealed under the master key and caches its subkeys. */
static const IdsessKey *
cache_key(int32 id, bytea *wrapped)
{
	bytea	   *secret = idsess_unwrap_secret(id, wrapped);
	IdsessKey	k;

	idsess_derive_key(id, (uint8 *) VARDATA_ANY(secret), &k);
	explicit_bzero(VARDATA_ANY(secret), IDSESS_KEY_BYTES);
	pfree(secret);

	if (nkeys == MAX_CACHED_KEYS)
	{
		explicit_bzero(keys, sizeof(keys));
		nkeys = 0;
	}
	keys[nkeys] = k;
	explicit_bzero(&k, sizeof(k));
	return &keys[nkeys++];
}

static IdsessQuery q_key_by_id = {
	.sql = "SELECT state, wrapped FROM idsess.keys WHERE id = $1",
	.nargs = 1, .argtypes = {INT4OID}
};

const IdsessKey *
idsess_key_by_id(int32 id)
{
	Datum		arg = Int32GetDatum(id);
	bool		isnull;
	char	   *state;
	bytea	   *wrapped;
	const IdsessKey *k;

	remember_keys_relid();
	for (int i = 0; i < nkeys; i++)
		if (keys[i].id == id)
			return &keys[i];

	idsess_spi_connect();
	if (idsess_spi_run(&q_key_by_id, &arg, NULL, true, 1) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("ticket is sealed under data key %d, which is not in the key ring", id),
				 errhint("The key ring (idsess.keys) may have been restored from another database or edited by hand.")));
	state = TextDatumGetCString(idsess_spi_get(0, 1, &isnull));
	if (strcmp(state, "destroyed") == 0 || strcmp(state, "retired") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("ticket is sealed under data key %d, which was %s", id, state),
				 errhint("Tickets under a destroyed key can never be opened again; delete the session.")));
	wrapped = DatumGetByteaPP(idsess_spi_copy(0, 2, &isnull));
	SPI_finish();
	k = cache_key(id, wrapped);
	pfree(wrapped);
	return k;
}

static IdsessQuery q_active_key = {
	.sql = "SELECT id, wrapped FROM idsess.keys WHERE state = 'active'",
	.nargs = 0
};

static IdsessQuery q_next_key_id = {
	.sql = "SELECT COALESCE(pg_catalog.max(id), 0) + 1 FROM idsess.keys",
	.nargs = 0
};

static IdsessQuery q_insert_key = {
	.sql = "INSERT INTO idsess.keys (id, state, wrapped) VALUES ($1, 'active', $2) ON CONFLICT DO NOTHING",
	.nargs = 2, .argtypes = {INT4OID, BYTEAOID}
};

/*
 * Makes a new data key and wraps it; the caller inserts it.  Used for the
 * first key and by rotation.
 */
bytea *
idsess_new_wrapped_key(int32 id)
{
	uint8		secret[IDSESS_KEY_BYTES];
	bytea	   *wrapped;

	idsess_random(secret, sizeof(secret));
	wrapped = idsess_wrap_secret(idsess_master_key(), id, secret);
	explicit_bzero(secret, sizeof(secret));
	return wrapped;
}

/* Makes every backend (this one at once) forget its cached keys. */
void
idsess_keyring_changed(void)
{
	remember_keys_relid();
	CacheInvalidateRelcacheByRelid(keys_relid);
}

/*
 * The key new tickets are sealed under.  The first seal in a database makes
 * the first data key.
 */
const IdsessKey *
idsess_active_key(void)
{
	bool		isnull;

	remember_keys_relid();
	if (active_id != 0)
		return idsess_key_by_id(active_id);

	/* Fail early, before touching the key ring, when there is no master key. */
	(void) idsess_master_key();

	for (int attempt = 0; attempt < 2; attempt++)
	{
		int32		id;
		Datum		args[2];

		idsess_spi_connect();
		if (idsess_spi_run(&q_active_key, NULL, NULL, false, 1) > 0)
		{
			bytea	   *wrapped;
			const IdsessKey *k;

			id = DatumGetInt32(idsess_spi_get(0, 1, &isnull));
			for (int i = 0; i < nkeys; i++)
				if (keys[i].id == id)
				{
					SPI_finish();
					active_id = id;
					return &keys[i];
				}
			wrapped = DatumGetByteaPP(idsess_spi_copy(0, 2, &isnull));
			SPI_finish();
			k = cache_key(id, wrapped);
			active_id = id;
			return k;
		}

		idsess_spi_run(&q_next_key_id, NULL, NULL, false, 1);
		id = DatumGetInt32(idsess_spi_get(0, 1, &isnull));
		args[0] = Int32GetDatum(id);
		args[1] = PointerGetDatum(idsess_new_wrapped_key(id));
		idsess_spi_run(&q_insert_key, args, NULL, false, 0);
		SPI_finish();
		idsess_keyring_changed();
	}
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("idsess key ring has no active data key")));
	pg_unreachable();
}
