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
 * Lifetime rule: the cache can be cleared by any invalidation a backend
 * processes, which can happen inside any catalog access, lock or SPI call
 * (pgcrypto's own lookup included).  So it never hands out a pointer into
 * itself: idsess_master_key, idsess_active_key and idsess_key_by_id copy
 * the key into storage the caller owns, and the caller wipes that copy
 * (explicit_bzero) when done, on error paths too.  Whoever seals or opens
 * uses the copy it resolved in the same call, and takes the key id it
 * writes into a header from that copy.
 *
 * A lookup that misses the cache reads idsess.keys with the latest
 * snapshot, whatever the isolation level, so that it sees key operations
 * committed after the transaction's snapshot; and it caches what it read
 * only if no key ring invalidation arrived meanwhile (keyring_generation),
 * since what it read may be older than that invalidation.
 *
 *-------------------------------------------------------------------------
 */
#include "idsess.h"
#include "keyring.h"
#include "crypto.h"
#include "envelope.h"
#include "settings.h"
#include "spi.h"

#include <sys/stat.h>
#include <unistd.h>

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "storage/lock.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#define MAX_CACHED_KEYS		64

static bool master_loaded = false;
static IdsessKey master;
static int	nkeys = 0;
static int	next_victim = 0;	/* slot the next key replaces once full */
static IdsessKey keys[MAX_CACHED_KEYS];
static int32 active_id = 0;		/* 0: not known */
static uint64 keyring_generation = 0;	/* bumped whenever the cache is dropped */
static Oid	keys_relid = InvalidOid;
static bool callback_registered = false;

static void
forget_keys(void)
{
	explicit_bzero(keys, sizeof(keys));
	nkeys = 0;
	next_victim = 0;
	active_id = 0;
	keyring_generation++;
}

static void
reset_keyring(void)
{
	explicit_bzero(&master, sizeof(master));
	master_loaded = false;
	forget_keys();
}

/*
 * A new idsess.master_key_file setting (or a reload of it): the master key
 * and every key it unwrapped are read again.
 */
static void
follow_settings(void)
{
	static uint64 seen_generation = 0;

	if (seen_generation != idsess_master_key_generation)
	{
		seen_generation = idsess_master_key_generation;
		reset_keyring();
	}
}

static void
keys_relcache_callback(Datum arg pg_attribute_unused(), Oid relid)
{
	if (!OidIsValid(relid) || relid == keys_relid)
	{
		forget_keys();
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
 * The file's path goes to the server log only (errdetail_log): the clients
 * of functions that seal or open are not all allowed to see the setting.
 */
#define KEY_FILE_DETAIL(path) errdetail_log("The idsess master key file is \"%s\".", (path))

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
				 errmsg("could not open the idsess master key file: %m"),
				 KEY_FILE_DETAIL(path),
				 errhint("Check idsess.master_key_file and that the server's operating-system user can read the file.")));
	if (fstat(fd, &st) != 0)
	{
		CloseTransientFile(fd);
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat the idsess master key file: %m"),
				 KEY_FILE_DETAIL(path)));
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
	{
		CloseTransientFile(fd);
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("the idsess master key file must be a regular file with no group or world access"),
				 KEY_FILE_DETAIL(path),
				 errhint("Run chmod 600 on the file.")));
	}
	n = read(fd, buf, sizeof(buf) - 1);
	CloseTransientFile(fd);
	if (n < 0)
	{
		explicit_bzero(buf, sizeof(buf));
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read the idsess master key file: %m"),
				 KEY_FILE_DETAIL(path)));
	}

	len = (int) n;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
					   buf[len - 1] == ' ' || buf[len - 1] == '\t'))
		len--;
	if (len != 2 * IDSESS_KEY_BYTES)
	{
		explicit_bzero(buf, sizeof(buf));
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("the idsess master key file must contain exactly 64 hexadecimal digits"),
				 KEY_FILE_DETAIL(path)));
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
					 errmsg("the idsess master key file must contain exactly 64 hexadecimal digits"),
					 KEY_FILE_DETAIL(path)));
		}
		secret[i] = (uint8) (hi << 4 | lo);
	}
	explicit_bzero(buf, sizeof(buf));
	PG_TRY();
	{
		idsess_derive_key(0, secret, out);
	}
	PG_FINALLY();
	{
		explicit_bzero(secret, sizeof(secret));
	}
	PG_END_TRY();
}

/* The configured master key, read once per backend and setting: a copy. */
void
idsess_master_key(IdsessKey *out)
{
	const char *path = idsess_master_key_file;

	follow_settings();
	if (!master_loaded)
	{
		if (path == NULL || path[0] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("no idsess master key is configured"),
					 errdetail("Sealing or opening a ticket needs the master key."),
					 errhint("Set idsess.master_key_file to a file holding 64 hexadecimal digits (see the README, \"Configuring the master key\").")));
		idsess_load_master_key(path, &master);
		master_loaded = true;
	}
	*out = master;
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

/*
 * Unwraps a data key under the configured master key: its 32-byte secret,
 * which the caller wipes.  Only here does a failed authentication blame the
 * master key: a wrapped key is the only value sealed under it.
 */
bytea *
idsess_unwrap_secret(int32 id, bytea *wrapped)
{
	char		aad[32];
	char		format = 0;
	IdsessKey	mk;
	bytea	   *secret = NULL;

	snprintf(aad, sizeof(aad), "key:%d", id);
	if (idsess_sealed_key_id(wrapped) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("data key %d is not wrapped under the master key", id)));
	idsess_master_key(&mk);
	PG_TRY();
	{
		secret = idsess_open_with(&mk, wrapped, &format, aad, strlen(aad));
	}
	PG_FINALLY();
	{
		explicit_bzero(&mk, sizeof(mk));
	}
	PG_END_TRY();
	if (secret == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("the master key does not open the key ring"),
				 errdetail("Data key %d failed authentication under the configured master key.", id),
				 errhint("Set idsess.master_key_file to the master key this database's key ring was made with.")));
	if (format != IDSESS_FORMAT_KEY || VARSIZE_ANY_EXHDR(secret) != IDSESS_KEY_BYTES)
	{
		explicit_bzero(VARDATA_ANY(secret), VARSIZE_ANY_EXHDR(secret));
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("data key %d is malformed", id)));
	}
	return secret;
}

/*
 * Unwraps a data key sealed under the master key into *out, and caches it
 * unless the key ring changed since `generation` (what was read may then be
 * stale).  When the cache is full, one slot is replaced, round robin.
 */
static void
resolve_key(int32 id, bytea *wrapped, uint64 generation, IdsessKey *out)
{
	bytea	   *secret = idsess_unwrap_secret(id, wrapped);

	PG_TRY();
	{
		idsess_derive_key(id, (uint8 *) VARDATA_ANY(secret), out);
	}
	PG_FINALLY();
	{
		explicit_bzero(VARDATA_ANY(secret), IDSESS_KEY_BYTES);
		pfree(secret);
	}
	PG_END_TRY();

	if (generation != keyring_generation)
		return;
	if (nkeys < MAX_CACHED_KEYS)
		keys[nkeys++] = *out;
	else
	{
		keys[next_victim] = *out;
		next_victim = (next_victim + 1) % MAX_CACHED_KEYS;
	}
}

static bool
cached_key(int32 id, IdsessKey *out)
{
	for (int i = 0; i < nkeys; i++)
		if (keys[i].id == id)
		{
			*out = keys[i];
			return true;
		}
	return false;
}

static IdsessQuery q_key_by_id = {
	.sql = "SELECT state, wrapped FROM idsess.keys WHERE id = $1",
	.nargs = 1, .argtypes = {INT4OID}
};

/*
 * Copies data key `id` into *out when it can open tickets; otherwise says
 * why not (and *out is left zeroed).  Either way it takes the key's seal
 * lock, shared, for the rest of the transaction, before it looks the key
 * up: an opener may write what it opens back under another key (a reseal,
 * a rekey), so a retire or destroy must wait for it as it waits for a
 * sealer; and a retire or destroy that committed before the lock was
 * granted sent its invalidation first, which is processed right after, so
 * the key's state is read again rather than taken from the cache.
 */
IdsessKeyState
idsess_key_by_id(int32 id, IdsessKey *out)
{
	Datum		arg = Int32GetDatum(id);
	bool		isnull;
	char	   *state;
	bytea	   *wrapped;
	uint64		generation;
	int			pin;
	IdsessKeyState result = IDSESS_KEY_USABLE;

	memset(out, 0, sizeof(*out));
	remember_keys_relid();
	idsess_lock_key(id, ShareLock);
	AcceptInvalidationMessages();
	follow_settings();
	if (cached_key(id, out))
		return IDSESS_KEY_USABLE;

	generation = keyring_generation;
	/* Reached from idsess_get, which pins no search_path (spi.c). */
	pin = idsess_pin_search_path();
	idsess_spi_connect();
	if (idsess_spi_run_latest(&q_key_by_id, &arg, NULL, true, 1) == 0)
		result = IDSESS_KEY_UNKNOWN;
	else
	{
		state = TextDatumGetCString(idsess_spi_get(0, 1, &isnull));
		if (strcmp(state, "retired") == 0)
			result = IDSESS_KEY_RETIRED;
		else if (strcmp(state, "destroyed") == 0)
			result = IDSESS_KEY_DESTROYED;
	}
	wrapped = result == IDSESS_KEY_USABLE ?
		DatumGetByteaPP(idsess_spi_copy(0, 2, &isnull)) : NULL;
	SPI_finish();
	idsess_unpin_search_path(pin);
	if (wrapped == NULL)
		return result;
	resolve_key(id, wrapped, generation, out);
	pfree(wrapped);
	return IDSESS_KEY_USABLE;
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
	IdsessKey	mk;
	bytea	   *wrapped = NULL;

	idsess_master_key(&mk);
	PG_TRY();
	{
		idsess_random(secret, sizeof(secret));
		wrapped = idsess_wrap_secret(&mk, id, secret);
	}
	PG_FINALLY();
	{
		explicit_bzero(secret, sizeof(secret));
		explicit_bzero(&mk, sizeof(mk));
	}
	PG_END_TRY();
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
 * Copies the key new tickets are sealed under into *out.  The first seal in
 * a database makes the first data key.
 */
static void
lookup_active_key(IdsessKey *out)
{
	bool		isnull;
	IdsessKey	mk;

	remember_keys_relid();
	if (active_id != 0 && cached_key(active_id, out))
		return;

	/* Fail early, before touching the key ring, when there is no master key. */
	idsess_master_key(&mk);
	explicit_bzero(&mk, sizeof(mk));

	for (int attempt = 0; attempt < 2; attempt++)
	{
		uint64		generation = keyring_generation;
		int32		id;
		Datum		args[2];

		idsess_spi_connect();
		/* Not read-only: the second attempt must see the key the first made. */
		if (idsess_spi_run_latest(&q_active_key, NULL, NULL, false, 1) > 0)
		{
			bytea	   *wrapped;

			id = DatumGetInt32(idsess_spi_get(0, 1, &isnull));
			wrapped = DatumGetByteaPP(idsess_spi_copy(0, 2, &isnull));
			SPI_finish();
			if (!cached_key(id, out))
				resolve_key(id, wrapped, generation, out);
			if (generation == keyring_generation)
				active_id = id;
			pfree(wrapped);
			return;
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
}

/*
 * The per-key seal lock: every transaction that seals or opens under a
 * data key holds it SHARE until it ends; retire and destroy take it
 * EXCLUSIVE before they count the key's tickets, so they wait for every
 * sealer and opener in flight and then see its rows.  The lock is of the
 * advisory class, with a fourth field PostgreSQL's advisory lock functions
 * never use (they use 1 and 2), so it cannot collide with an application's
 * advisory locks; pg_locks shows it as an advisory lock with objid = the
 * key id and objsubid = 19289.
 */
#define IDSESS_KEY_LOCK_FIELD4	19289

void
idsess_lock_key(int32 id, int mode)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, (uint32) id, 0, IDSESS_KEY_LOCK_FIELD4);
	(void) LockAcquire(&tag, mode, false, false);
}

/*
 * Copies the key new tickets are sealed under into *out and takes its seal
 * lock for the rest of the transaction.  A retire or destroy of that key
 * that committed before the lock was granted sent its invalidation first,
 * which this backend processes right after getting the lock: if the key
 * ring changed at all since the key was resolved, it is resolved again.
 */
void
idsess_active_key(IdsessKey *out)
{
	follow_settings();
	for (;;)
	{
		uint64		generation = keyring_generation;

		CHECK_FOR_INTERRUPTS();
		lookup_active_key(out);
		PG_TRY();
		{
			idsess_lock_key(out->id, ShareLock);
			AcceptInvalidationMessages();
		}
		PG_CATCH();
		{
			explicit_bzero(out, sizeof(*out));
			PG_RE_THROW();
		}
		PG_END_TRY();
		if (generation == keyring_generation)
			return;
		explicit_bzero(out, sizeof(*out));
	}
}
