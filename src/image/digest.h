/* Content addresses (OCI image-spec descriptor.md "Digests", config.md "Layer ChainID"): parsing a
 * digest string before it ever becomes a path, SHA-256 through OpenSSL's libcrypto, and ChainIDs.
 * IMAGES.md T30 (CVE-2024-3727, CVE-2014-9358).  */
#ifndef HUSK_IMAGE_DIGEST_H
#define HUSK_IMAGE_DIGEST_H

#include <stddef.h>

#include "error.h"

/* Length of a sha256 hex string without its NUL.  */
#define DIGEST_HEX_LEN 64

/* A sha256 digest as 64 lowercase hex characters plus NUL.  */
struct digest
{
  char hex[DIGEST_HEX_LEN + 1];
};

/* Parse S ("sha256:<64 lowercase hex>") into *OUT.  The whole grammar of descriptor.md is checked
 * (algorithm components [a-z0-9]+ joined by [+._-], encoded [a-zA-Z0-9=_-]+), then only sha256 is
 * accepted, with exactly 64 lowercase hex digits.  WHAT names the field in errors ("index.json:
 * manifests[0].digest").  Returns 0, or -1 with ERR: "WHAT: invalid digest 'S'" or "WHAT: unsupported
 * digest algorithm 'sha512'".  Never builds a path from S.  */
int digest_parse (const char *s, const char *what, struct digest *out, struct husk_err *err);

/* Streaming SHA-256 (EVP, libcrypto).  */
struct sha256_ctx
{
  void *evp; /* EVP_MD_CTX * */
};

/* Start a hash.  Returns 0, or -1 with ERR (libcrypto failure).  */
int sha256_init (struct sha256_ctx *c, struct husk_err *err);
/* Add LEN bytes of DATA.  Never fails once init succeeded.  */
void sha256_update (struct sha256_ctx *c, const void *data, size_t len);
/* Finish into *OUT (hex) and release the context.  */
void sha256_final (struct sha256_ctx *c, struct digest *out);
/* Release the context without a result (safe after final, and on a zeroed context).  */
void sha256_free (struct sha256_ctx *c);

/* The sha256 of LEN bytes of DATA into *OUT.  Returns 0, or -1 with ERR.  */
int sha256_buf (const void *data, size_t len, struct digest *out, struct husk_err *err);

/* ChainIDs of N diff_ids (config.md "Layer ChainID"): OUT[0] = DIFF_IDS[0];
 * OUT[i] = sha256("sha256:<OUT[i-1]> sha256:<DIFF_IDS[i]>").  Returns 0, or -1 with ERR.  */
int digest_chain_ids (const struct digest *diff_ids, size_t n, struct digest *out, struct husk_err *err);

#endif
