#pragma once
// Test helper (header-only, shared by unit_emulator and protocol_emulator): reads a ZIP held in
// memory twice -- with libarchive (names, contents, CRC checked by the reader) and by walking
// the central directory by hand (flag bit 3, data descriptor signatures, DEFLATE method).

#include <archive.h>
#include <archive_entry.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace emulator::test {

struct ZipEntryInfo {
    std::string name;
    std::string data;
    std::uint16_t flags = 0;
    std::uint16_t method = 0;
    bool descriptorFollows = false;  ///< PK\7\8 right after the compressed data
};

/// Parses the whole archive; throws std::runtime_error when libarchive (or the CRC check) fails.
inline std::vector<ZipEntryInfo> readZip(const std::string& bytes) {
    std::vector<ZipEntryInfo> out;
    archive* a = archive_read_new();
    archive_read_support_format_zip_streamable(a);
    if (archive_read_open_memory(a, bytes.data(), bytes.size()) != ARCHIVE_OK) {
        std::string msg = archive_error_string(a) ? archive_error_string(a) : "open failed";
        archive_read_free(a);
        throw std::runtime_error(msg);
    }
    archive_entry* e = nullptr;
    int rc;
    while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        ZipEntryInfo info;
        info.name = archive_entry_pathname(e);
        char buf[65536];
        la_ssize_t n;
        while ((n = archive_read_data(a, buf, sizeof buf)) > 0) info.data.append(buf, static_cast<std::size_t>(n));
        if (n < 0) {
            std::string msg = archive_error_string(a) ? archive_error_string(a) : "read failed";
            archive_read_free(a);
            throw std::runtime_error(msg);
        }
        out.push_back(std::move(info));
    }
    if (rc != ARCHIVE_EOF) {
        std::string msg = archive_error_string(a) ? archive_error_string(a) : "header failed";
        archive_read_free(a);
        throw std::runtime_error(msg);
    }
    archive_read_free(a);
    return out;
}

inline std::uint32_t le32(const std::string& b, std::size_t at) {
    if (at + 4 > b.size()) throw std::runtime_error("zip: read past end");
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[at + static_cast<std::size_t>(i)]);
    return v;
}
inline std::uint16_t le16(const std::string& b, std::size_t at) {
    if (at + 2 > b.size()) throw std::runtime_error("zip: read past end");
    return static_cast<std::uint16_t>(static_cast<unsigned char>(b[at]) | (static_cast<unsigned char>(b[at + 1]) << 8));
}

/// Walks the central directory: per entry name, flags, method and whether a data descriptor
/// follows its data. Throws when there is no end-of-central-directory record (truncated ZIP).
inline std::vector<ZipEntryInfo> centralDirectory(const std::string& b) {
    std::size_t eocd = std::string::npos;
    for (std::size_t i = b.size() >= 22 ? b.size() - 22 : 0; i + 1 > 0; --i) {
        if (le32(b, i) == 0x06054b50) {
            eocd = i;
            break;
        }
        if (i == 0) break;
    }
    if (eocd == std::string::npos) throw std::runtime_error("zip: no end of central directory");
    const std::size_t count = le16(b, eocd + 10);
    std::size_t at = le32(b, eocd + 16);
    std::vector<ZipEntryInfo> out;
    for (std::size_t i = 0; i < count; ++i) {
        if (le32(b, at) != 0x02014b50) throw std::runtime_error("zip: bad central header");
        ZipEntryInfo info;
        info.flags = le16(b, at + 8);
        info.method = le16(b, at + 10);
        const std::uint32_t compressed = le32(b, at + 20);
        const std::size_t nameLen = le16(b, at + 28), extraLen = le16(b, at + 30), commentLen = le16(b, at + 32);
        const std::size_t local = le32(b, at + 42);
        info.name = b.substr(at + 46, nameLen);
        if (le32(b, local) != 0x04034b50) throw std::runtime_error("zip: bad local header");
        const std::size_t dataAt = local + 30 + le16(b, local + 26) + le16(b, local + 28);
        if (compressed != 0xFFFFFFFFu) info.descriptorFollows = le32(b, dataAt + compressed) == 0x08074b50;
        out.push_back(info);
        at += 46 + nameLen + extraLen + commentLen;
    }
    return out;
}

}  // namespace emulator::test
