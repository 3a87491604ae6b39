/*-------------------------------------------------------------------------
 *
 * ticket.h
 *		Sealing and opening tickets with the key ring (ticket.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef IDSESS_TICKET_H
#define IDSESS_TICKET_H

#include "idsess.h"
#include "keyring.h"

#include "access/tupdesc.h"
#include "utils/tuplestore.h"

/* Why a sealed ticket did not open (idsess_try_unseal). */
typedef enum IdsessOpenFailure
{
	IDSESS_OPENED,
	IDSESS_OPEN_MALFORMED,		/* not the layout of a seal */
	IDSESS_OPEN_FORGED,			/* tag does not verify, or not a ticket */
	IDSESS_OPEN_KEY_UNKNOWN,	/* header names a key not in the ring */
	IDSESS_OPEN_KEY_RETIRED,
	IDSESS_OPEN_KEY_DESTROYED
} IdsessOpenFailure;

/*
 * may_compress: the caller's schema can hold compressed tickets (1.1 and
 * later; the 1.0 library cannot open them).
 */
extern bytea *idsess_seal_ticket(char format, const char *aad, Size aadlen,
								 const char *data, Size len, bool may_compress,
								 int32 *key_id);
extern bytea *idsess_seal_ticket_with(const IdsessKey *key, char format,
									  const char *aad, Size aadlen,
									  const char *data, Size len, bool may_compress);
extern bytea *idsess_try_unseal(bytea *sealed, char *format,
								const char *aad, Size aadlen,
								IdsessOpenFailure *why);
extern bytea *idsess_unseal(bytea *sealed, char *format,
							const char *aad, Size aadlen);
extern bytea *idsess_unseal_row(bytea *sealed, char *format,
								const char *aad, Size aadlen);
extern void idsess_check_opened(Size *opened, Size len);
extern void idsess_put_row_opened(Tuplestorestate *tupstore, TupleDesc desc,
								  Datum *values, bool *nulls, int tcol,
								  bytea *plain, char format, Size *opened);

#endif							/* IDSESS_TICKET_H */
