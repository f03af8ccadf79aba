#pragma once
// The one MD5 of the download path (issue 11: hash once). OpenSSL's EVP MD5 (~3x Poco::MD5Engine
// here): the ZIP reader hashes each entry while it inflates, the instance cache keeps that hash
// (and hashes only what arrives without one, or what it reads back to verify).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX

namespace bridge::tcia {

/// Incremental MD5. Not thread-safe; one per stream.
class Md5 {
public:
    Md5();
    ~Md5();
    Md5(const Md5&) = delete;
    Md5& operator=(const Md5&) = delete;

    void update(const void* data, std::size_t size);
    /// Lower-case hex digest of everything updated so far; the hash restarts empty afterwards.
    std::string hexDigest();

    /// Lower-case hex MD5 of one buffer; empty only if OpenSSL fails.
    static std::string hex(const void* data, std::size_t size);
    /// A digest's bytes as lower-case hex (what hex() and hexDigest() return; Md5Lanes too).
    static std::string toHex(const unsigned char* digest, std::size_t length);

private:
    struct Free {
        void operator()(evp_md_ctx_st* ctx) const;
    };
    std::unique_ptr<evp_md_ctx_st, Free> ctx_;
};

}  // namespace bridge::tcia
