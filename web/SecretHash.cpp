#include "web/SecretHash.h"

#include <Poco/DigestEngine.h>
#include <Poco/Exception.h>
#include <Poco/SHA2Engine.h>
#include <Poco/String.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace bridge::web {
namespace {

std::string hex(const std::string& raw) { return Poco::DigestEngine::digestToHex(Poco::DigestEngine::Digest(raw.begin(), raw.end())); }

/// Hex digits, upper or lower case, optionally ':'-separated (openssl kdf's output).
std::optional<std::string> unhex(const std::string& text) {
    const std::string digits = Poco::remove(text, ':');
    if (digits.empty()) return std::nullopt;
    try {
        const auto raw = Poco::DigestEngine::digestFromHex(digits);
        return std::string(raw.begin(), raw.end());
    } catch (const Poco::DataFormatException&) {  // odd length or a non-hex digit
        return std::nullopt;
    }
}

std::string pbkdf2(const std::string& password, const std::string& salt, unsigned iterations,
                   std::size_t length) {
    std::string out(length, '\0');
    PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                      reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()),
                      static_cast<int>(iterations), EVP_sha256(), static_cast<int>(length),
                      reinterpret_cast<unsigned char*>(out.data()));
    return out;
}

}  // namespace

std::string sha256Hex(const std::string& text) {
    Poco::SHA2Engine sha(Poco::SHA2Engine::SHA_256);
    sha.update(text);
    return Poco::DigestEngine::digestToHex(sha.digest());
}

bool constantTimeEquals(const std::string& a, const std::string& b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<Pbkdf2Hash> parsePbkdf2(const std::string& text) {
    const std::string prefix = "pbkdf2-sha256$";
    if (text.rfind(prefix, 0) != 0) return std::nullopt;
    const auto a = prefix.size();
    const auto b = text.find('$', a);
    if (b == std::string::npos) return std::nullopt;
    const auto c = text.rfind('$');
    if (c <= b) return std::nullopt;
    Pbkdf2Hash h;
    const std::string iter = text.substr(a, b - a);
    if (iter.empty() || iter.size() > 8 || iter.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    h.iterations = static_cast<unsigned>(std::stoul(iter));
    if (h.iterations < 1000 || h.iterations > 10'000'000) return std::nullopt;
    h.salt = text.substr(b + 1, c - b - 1);
    if (h.salt.empty()) return std::nullopt;
    auto raw = unhex(text.substr(c + 1));
    if (!raw || raw->size() < 16 || raw->size() > 64) return std::nullopt;
    h.hash = *raw;
    return h;
}

bool verifyPbkdf2(const Pbkdf2Hash& hash, const std::string& password) {
    return constantTimeEquals(pbkdf2(password, hash.salt, hash.iterations, hash.hash.size()), hash.hash);
}

std::string makePbkdf2(const std::string& password, const std::string& salt, unsigned iterations) {
    const std::string raw = pbkdf2(password, salt, iterations, 32);
    return "pbkdf2-sha256$" + std::to_string(iterations) + "$" + salt + "$" +
           hex(raw);
}

}  // namespace bridge::web
