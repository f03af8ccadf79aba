#include "web/SecretHash.h"

#include <Poco/String.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <cctype>
#include <cstdio>

namespace bridge::web {
namespace {

std::string hex(const unsigned char* data, std::size_t size) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    out.reserve(size * 2);
    for (std::size_t i = 0; i < size; ++i) {
        out += digits[data[i] >> 4];
        out += digits[data[i] & 15];
    }
    return out;
}

std::optional<std::string> unhex(const std::string& text) {
    const std::string digits = Poco::toLower(Poco::remove(text, ':'));
    if (digits.empty() || digits.size() % 2) return std::nullopt;
    std::string out;
    for (std::size_t i = 0; i < digits.size(); i += 2) {
        int v = 0;
        for (int k = 0; k < 2; ++k) {
            char c = digits[i + k];
            int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
            if (d < 0) return std::nullopt;
            v = v * 16 + d;
        }
        out += static_cast<char>(v);
    }
    return out;
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
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
    return hex(digest, sizeof digest);
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
           hex(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
}

}  // namespace bridge::web
