#pragma once
// Reads a getImage ZIP from a non-seekable stream (the HTTP response) AS IT ARRIVES.
//
// TCIA writes the ZIP with java.util.zip.ZipOutputStream into a chunked response: DEFLATE
// entries with data descriptors (general-purpose flag bit 3, sizes after the data), ZIP64 when
// large (API.md 8.1). Poco::Zip cannot stream those (toolchain.md pitfall 1), so this uses
// libarchive's streamable ZIP reader, fed by a read callback that pulls whatever bytes the socket
// has delivered (no waiting for a full buffer), so each entry is handed on as soon as it is
// complete. Memory: one entry (at most maxEntryBytes) plus a 64 KiB read buffer.
//
// Completeness: libarchive's streamable reader reports a clean EOF when the stream stops exactly
// between two entries, so after the last entry the rest of the stream (the central directory) is
// drained and its tail must contain the end-of-central-directory record (APPNOTE.TXT 4.3.16);
// without it the archive counts as truncated.
//
// Entries: `LICENSE` and directories are skipped; `md5hashes.csv` (sent LAST when MD5s were
// asked for) is parsed into md5Manifest(); every other entry goes to the callback with the MD5 of
// its bytes, computed while it streamed. Verifying those MD5s against the manifest is therefore
// only possible after the whole archive was read -- the caller does it.
// Not thread-safe; one reader per download.

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "bridge/common/RequestContext.h"

struct archive;  // libarchive

namespace bridge::tcia {

class ZipStreamReader {
public:
    struct Entry {
        std::string name;
        std::vector<std::uint8_t> bytes;
        std::string md5Hex;  ///< lower-case hex MD5 of bytes
    };

    /// Default bound on one entry's inflated size (TciaSettings::maxZipEntryBytes): 2 GiB.
    static constexpr std::uint64_t kDefaultMaxEntryBytes = 2ull << 30;

    /// `in` must outlive the reader; `context` may be null. An entry (md5hashes.csv included)
    /// inflating beyond maxEntryBytes fails the read (zip bomb) before more is buffered.
    ZipStreamReader(std::istream& in, const RequestContext* context,
                    std::uint64_t maxEntryBytes = kDefaultMaxEntryBytes);
    ~ZipStreamReader();
    ZipStreamReader(const ZipStreamReader&) = delete;
    ZipStreamReader& operator=(const ZipStreamReader&) = delete;

    /// Reads the whole archive, calling onEntry for each data entry as soon as it is complete.
    /// Returns the number of entries handed to onEntry. Throws BridgeError(UpstreamBadResponse)
    /// for a truncated or corrupt archive (after having delivered the entries before the damage),
    /// BridgeError(Cancelled) when cancelled; exceptions from onEntry propagate unchanged.
    /// An entry larger than maxEntryBytes: BridgeError(UpstreamBadResponse) naming the bound,
    /// and entryTooLarge() is true afterwards (not worth retrying).
    std::size_t readAll(const std::function<void(Entry&&)>& onEntry);
    bool entryTooLarge() const { return entryTooLarge_; }

    /// Filename -> lower-case MD5 hex from md5hashes.csv; empty when the archive had none.
    const std::map<std::string, std::string>& md5Manifest() const { return manifest_; }
    bool hasMd5Manifest() const { return sawManifest_; }

    /// Parses md5hashes.csv ("Filename,MD5Hash" header, unquoted or quoted rows). Pure.
    static std::map<std::string, std::string> parseMd5Csv(std::string_view csv);

    /// Whether an entry name is archive furniture rather than an instance (LICENSE, md5hashes.csv,
    /// directories). Pure.
    static bool isSkippedEntry(std::string_view name);

private:
    void keepTail(const char* data, std::size_t n);
    static long readCallback(::archive* a, void* self, const void** buffer);

    std::istream& in_;
    const RequestContext* context_;
    std::vector<char> buffer_;
    std::string streamError_;
    std::string tail_;  ///< the last bytes of the stream: must hold the end-of-central-directory record
    bool cancelled_ = false;
    std::map<std::string, std::string> manifest_;
    bool sawManifest_ = false;
    std::uint64_t maxEntryBytes_;
    bool entryTooLarge_ = false;
};

}  // namespace bridge::tcia
