/* Digest strings, SHA-256 and ChainIDs (see digest.h).  OCI image-spec descriptor.md "Digests",
 * config.md "Layer ChainID".  */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "image/digest.h"
#include "util.h"

/* ---- digest strings ------------------------------------------------------------------------ */

static bool
is_alg_char (char ch)
{
  return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

static bool
is_alg_separator (char ch)
{
  return ch == '+' || ch == '.' || ch == '_' || ch == '-';
}

static bool
is_encoded_char (char ch)
{
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '='
         || ch == '_' || ch == '-';
}

static bool
is_lower_hex (char ch)
{
  return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
}

/* Length of the algorithm part of S (descriptor.md: `algorithm-component (algorithm-separator
 * algorithm-component)*`, components [a-z0-9]+), or 0 when S does not start with one followed by ':'.  */
static size_t
algorithm_len (const char *s)
{
  size_t i = 0;

  for (;;)
    {
      size_t start = i;
      while (is_alg_char (s[i]))
        i++;
      if (i == start)
        return 0; /* empty component: leading, trailing or doubled separator */
      if (s[i] == ':')
        return i;
      if (!is_alg_separator (s[i]))
        return 0;
      i++;
    }
}

int
digest_parse (const char *s, const char *what, struct digest *out, struct husk_err *err)
{
  size_t alg, i;

  if (what == NULL)
    what = "digest";
  if (s == NULL)
    return husk_err_set (err, 0, "%s: missing digest", what);
  alg = algorithm_len (s);
  if (alg == 0)
    return husk_err_set (err, 0, "%s: invalid digest '%.100s'", what, s);
  for (i = alg + 1; s[i] != '\0'; i++)
    if (!is_encoded_char (s[i]))
      return husk_err_set (err, 0, "%s: invalid digest '%.100s'", what, s);
  if (i == alg + 1)
    return husk_err_set (err, 0, "%s: invalid digest '%.100s'", what, s);
  if (alg != strlen ("sha256") || memcmp (s, "sha256", alg) != 0)
    return husk_err_set (err, 0, "%s: unsupported digest algorithm '%.*s'", what, (int) (alg < 40 ? alg : 40), s);
  s += alg + 1;
  if (strlen (s) != DIGEST_HEX_LEN)
    return husk_err_set (err, 0, "%s: invalid digest 'sha256:%.100s': expected %d lowercase hex digits", what, s,
                         DIGEST_HEX_LEN);
  for (i = 0; i < DIGEST_HEX_LEN; i++)
    if (!is_lower_hex (s[i]))
      return husk_err_set (err, 0, "%s: invalid digest 'sha256:%.100s': expected %d lowercase hex digits", what,
                           s, DIGEST_HEX_LEN);
  memcpy (out->hex, s, DIGEST_HEX_LEN + 1);
  return 0;
}

/* ---- SHA-256 ------------------------------------------------------------------------------- */

int
sha256_init (struct sha256_ctx *c, struct husk_err *err)
{
  EVP_MD_CTX *ctx = EVP_MD_CTX_new ();

  c->evp = NULL;
  if (ctx == NULL)
    return husk_err_set (err, 0, "sha256: cannot allocate a libcrypto context");
  if (EVP_DigestInit_ex (ctx, EVP_sha256 (), NULL) != 1)
    {
      EVP_MD_CTX_free (ctx);
      return husk_err_set (err, 0, "sha256: libcrypto initialisation failed");
    }
  c->evp = ctx;
  return 0;
}

void
sha256_update (struct sha256_ctx *c, const void *data, size_t len)
{
  /* EVP_DigestUpdate cannot fail for an initialised software sha256 context.  */
  if (c->evp != NULL && len > 0)
    EVP_DigestUpdate (c->evp, data, len);
}

/* Hex-encode the 32 bytes of MD into OUT.  */
static void
to_hex (const unsigned char *md, struct digest *out)
{
  static const char hexdig[] = "0123456789abcdef";

  for (size_t i = 0; i < DIGEST_HEX_LEN / 2; i++)
    {
      out->hex[2 * i] = hexdig[md[i] >> 4];
      out->hex[2 * i + 1] = hexdig[md[i] & 0xf];
    }
  out->hex[DIGEST_HEX_LEN] = '\0';
}

void
sha256_final (struct sha256_ctx *c, struct digest *out)
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;

  memset (md, 0, sizeof md);
  if (c->evp != NULL)
    EVP_DigestFinal_ex (c->evp, md, &len);
  to_hex (md, out);
  sha256_free (c);
}

void
sha256_free (struct sha256_ctx *c)
{
  if (c->evp != NULL)
    EVP_MD_CTX_free (c->evp);
  c->evp = NULL;
}

int
sha256_buf (const void *data, size_t len, struct digest *out, struct husk_err *err)
{
  struct sha256_ctx c;

  if (sha256_init (&c, err) < 0)
    return -1;
  sha256_update (&c, data, len);
  sha256_final (&c, out);
  return 0;
}

/* ---- ChainID ------------------------------------------------------------------------------- */

int
digest_chain_ids (const struct digest *diff_ids, size_t n, struct digest *out, struct husk_err *err)
{
  /* "sha256:" + 64 + " sha256:" + 64 */
  char text[2 * (7 + DIGEST_HEX_LEN) + 2];

  for (size_t i = 0; i < n; i++)
    {
      if (i == 0)
        {
          out[0] = diff_ids[0];
          continue;
        }
      int len = snprintf (text, sizeof text, "sha256:%s sha256:%s", out[i - 1].hex, diff_ids[i].hex);
      if (sha256_buf (text, (size_t) len, &out[i], err) < 0)
        return -1;
    }
  return 0;
}
