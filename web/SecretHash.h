#pragma once
// Hashing and checking of the HTTP secrets kept in the configuration (auth.bearerTokens[].sha256,
// auth.basicUsers[].pbkdf2). Pure functions (Poco's SHA2Engine and hex, OpenSSL's PBKDF2 and
// CRYPTO_memcmp); thread-safe. Comparisons of secrets and hashes take constant time.
//
// Formats (both can be produced with stock tools, see docs/security.md):
//   token:  SHA-256 of the token, 64 hex digits     printf %s "$TOKEN" | sha256sum
//   Basic:  "pbkdf2-sha256$ITERATIONS$SALT$HEX"     openssl kdf -keylen 32 -kdfopt digest:SHA256
//           (SALT as text, HEX with or without ':')   -kdfopt pass:PW -kdfopt salt:SALT -kdfopt iter:N PBKDF2

#include <optional>
#include <string>

namespace bridge::web {

/// Lower-case hex SHA-256 of `text`.
std::string sha256Hex(const std::string& text);
/// True when a and b are equal, in time independent of where they differ (lengths may leak).
bool constantTimeEquals(const std::string& a, const std::string& b);

/// A parsed "pbkdf2-sha256$ITER$SALT$HEX" value.
struct Pbkdf2Hash {
    unsigned iterations = 0;
    std::string salt;
    std::string hash;  ///< raw bytes
};
/// nullopt when `text` is not that format (iterations 1000..10,000,000, hash 16..64 bytes).
std::optional<Pbkdf2Hash> parsePbkdf2(const std::string& text);
/// PBKDF2-HMAC-SHA256(password, hash.salt, hash.iterations) == hash.hash (slow on purpose).
bool verifyPbkdf2(const Pbkdf2Hash& hash, const std::string& password);
/// The encoded form for a password (used by tests and docs examples).
std::string makePbkdf2(const std::string& password, const std::string& salt, unsigned iterations);

}  // namespace bridge::web
