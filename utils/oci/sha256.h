/* SPDX-License-Identifier: GPL-2.0 */
/*
 * SHA-256 (FIPS 180-4), for the OCI hook's agent names: a container id of
 * the engine's or the tenant's choosing must not be steerable onto
 * another container's agent, which a short or non-cryptographic hash
 * allows.  Small and self-contained, so the hook links nothing more.
 */
#ifndef GDL_SHA256_H
#define GDL_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

void sha256(const void *data, size_t len, uint8_t out[SHA256_LEN]);

#endif /* GDL_SHA256_H */
