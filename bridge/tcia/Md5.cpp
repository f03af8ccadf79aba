#include "bridge/tcia/Md5.h"

#include <openssl/evp.h>

#include "bridge/common/Error.h"

namespace bridge::tcia {

void Md5::Free::operator()(evp_md_ctx_st* ctx) const { EVP_MD_CTX_free(ctx); }

Md5::Md5() : ctx_(EVP_MD_CTX_new()) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_md5(), nullptr) != 1)
        throw BridgeError(ErrorCode::Internal, "OpenSSL: cannot start an MD5");
}

Md5::~Md5() = default;

void Md5::update(const void* data, std::size_t size) {
    if (size > 0 && EVP_DigestUpdate(ctx_.get(), data, size) != 1)
        throw BridgeError(ErrorCode::Internal, "OpenSSL: MD5 update failed");
}

std::string Md5::hexDigest() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(ctx_.get(), digest, &length) != 1 ||
        EVP_DigestInit_ex(ctx_.get(), EVP_md5(), nullptr) != 1)
        throw BridgeError(ErrorCode::Internal, "OpenSSL: MD5 digest failed");
    return toHex(digest, length);
}

std::string Md5::toHex(const unsigned char* digest, std::size_t length) {
    static const char* hex = "0123456789abcdef";
    std::string out;
    out.reserve(length * 2);
    for (std::size_t i = 0; i < length; ++i) {
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 15];
    }
    return out;
}

std::string Md5::hex(const void* data, std::size_t size) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(data, size, digest, &length, EVP_md5(), nullptr) != 1) return {};
    return toHex(digest, length);
}

}  // namespace bridge::tcia
