/*-------------------------------------------------------------------------
 *
 * keyring.h
 *		The data keys and the master key (keyring.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDSESS_KEYRING_H
#define IDSESS_KEYRING_H
#include "envelope.h"

/*
 * The key ring hands out copies of keys into caller-owned storage
 * (never pointers into its cache, which any invalidation can clear); the
 * caller wipes its copy with explicit_bzero after use, on error paths too.
 */

/* What idsess_key_by_id found. */
typedef enum IdsessKeyState
{
	IDSESS_KEY_USABLE,			/* *out holds the key */
	IDSESS_KEY_UNKNOWN,			/* not in the key ring */
	IDSESS_KEY_RETIRED,
	IDSESS_KEY_DESTROYED
} IdsessKeyState;

extern void idsess_master_key(IdsessKey *out);
extern void idsess_active_key(IdsessKey *out);
extern IdsessKeyState idsess_key_by_id(int32 id, IdsessKey *out);
extern void idsess_derive_key(int32 id, const uint8 *secret, IdsessKey *out);
extern bytea *idsess_new_wrapped_key(int32 id);
extern void idsess_load_master_key(const char *path, IdsessKey *out);
extern bytea *idsess_wrap_secret(const IdsessKey *master_key, int32 id, const uint8 *secret);
extern bytea *idsess_unwrap_secret(int32 id, bytea *wrapped);
extern void idsess_keyring_changed(void);
extern void idsess_lock_key(int32 id, int mode);

#endif							/* IDSESS_KEYRING_H */
