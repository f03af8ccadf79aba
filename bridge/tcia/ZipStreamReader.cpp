#include "bridge/tcia/ZipStreamReader.h"

#include <Poco/Exception.h>
#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <cctype>
#include <istream>
#include <memory>

#include "bridge/common/ByteBuffers.h"
#include "bridge/common/Error.h"
#include "bridge/tcia/Md5.h"

namespace bridge::tcia {

namespace {

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string baseName(std::string_view name) {
    auto slash = name.find_last_of('/');
    return std::string(slash == std::string_view::npos ? name : name.substr(slash + 1));
}

std::string trimQuotes(std::string_view s) {
    while (!s.empty() && (std::isspace(static_cast<unsigned char>(s.front())) || s.front() == '"'))
        s.remove_prefix(1);
    while (!s.empty() && (std::isspace(static_cast<unsigned char>(s.back())) || s.back() == '"'))
        s.remove_suffix(1);
    return std::string(s);
}

struct ArchiveDeleter {
    void operator()(::archive* a) const { archive_read_free(a); }
};

}  // namespace

ZipStreamReader::ZipStreamReader(std::istream& in, const RequestContext* context, std::uint64_t maxEntryBytes)
    : in_(in), context_(context), buffer_(64 * 1024), maxEntryBytes_(maxEntryBytes) {}

ZipStreamReader::~ZipStreamReader() = default;

bool ZipStreamReader::isSkippedEntry(std::string_view name) {
    if (name.empty() || name.back() == '/') return true;
    std::string base = lower(baseName(name));
    return base == "license" || base == "license.txt" || base == "md5hashes.csv";
}

std::map<std::string, std::string> ZipStreamReader::parseMd5Csv(std::string_view csv) {
    std::map<std::string, std::string> out;
    std::size_t pos = 0;
    bool first = true;
    while (pos < csv.size()) {
        auto eol = csv.find('\n', pos);
        std::string_view line =
            csv.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
        pos = eol == std::string_view::npos ? csv.size() : eol + 1;
        auto comma = line.rfind(',');
        if (comma == std::string_view::npos) continue;
        std::string name = trimQuotes(line.substr(0, comma));
        std::string hash = lower(trimQuotes(line.substr(comma + 1)));
        if (first && lower(name) == "filename") {  // header "Filename,MD5Hash" (API.md 8.1)
            first = false;
            continue;
        }
        first = false;
        if (!name.empty() && !hash.empty()) out[name] = hash;
    }
    return out;
}

long ZipStreamReader::readCallback(::archive* a, void* selfPtr, const void** buffer) {
    // Called from inside libarchive (C): no exception may escape.
    auto* self = static_cast<ZipStreamReader*>(selfPtr);
    try {
        if (self->context_ && self->context_->cancelled()) {
            self->cancelled_ = true;
            archive_set_error(a, ECANCELED, "cancelled");
            return -1;
        }
        // Block for one byte, then take whatever else the stream already buffered: an entry is
        // complete as soon as its bytes arrived, not when a 64 KiB buffer happens to fill.
        self->in_.read(self->buffer_.data(), 1);
        std::streamsize got = self->in_.gcount();
        if (got == 0) {
            if (self->in_.bad()) {
                self->streamError_ = "stream read failed";
                archive_set_error(a, EIO, "stream read failed");
                return -1;
            }
            return 0;  // EOF
        }
        got += self->in_.readsome(self->buffer_.data() + 1,
                                  static_cast<std::streamsize>(self->buffer_.size() - 1));
        *buffer = self->buffer_.data();
        self->keepTail(self->buffer_.data(), static_cast<std::size_t>(got));
        return static_cast<long>(got);
    } catch (const Poco::Exception& e) {
        self->streamError_ = e.displayText();
    } catch (const std::exception& e) {
        self->streamError_ = e.what();
    }
    archive_set_error(a, EIO, "%s", self->streamError_.c_str());
    return -1;
}

std::size_t ZipStreamReader::readAll(const std::function<void(Entry&&)>& onEntry) {
    std::unique_ptr<::archive, ArchiveDeleter> a(archive_read_new());
    if (!a) throw BridgeError(ErrorCode::Internal, "libarchive: out of memory");
    // The streamable ZIP reader walks local headers and understands data descriptors, DEFLATE and
    // ZIP64 extra fields; it never seeks for the central directory.
    archive_read_support_format_zip_streamable(a.get());
    auto fail = [&](const std::string& what) -> void {
        if (cancelled_ || (context_ && context_->cancelled())) context_->throwIfCancelled();
        std::string detail = archive_error_string(a.get()) ? archive_error_string(a.get()) : "unknown error";
        if (!streamError_.empty() && detail.find(streamError_) == std::string::npos)
            detail += " (" + streamError_ + ")";
        throw BridgeError(ErrorCode::UpstreamBadResponse, "getImage ZIP " + what + ": " + detail);
    };
    if (archive_read_open(a.get(), this, nullptr, &ZipStreamReader::readCallback, nullptr) != ARCHIVE_OK)
        fail("could not be opened");

    std::size_t delivered = 0;
    std::vector<std::uint8_t> chunk(64 * 1024);
    while (true) {
        if (context_) context_->throwIfCancelled();
        ::archive_entry* entry = nullptr;
        int r = archive_read_next_header(a.get(), &entry);
        if (r == ARCHIVE_EOF) break;
        if (r < ARCHIVE_WARN) fail("is truncated or corrupt");
        const char* rawName = archive_entry_pathname(entry);
        std::string name = rawName ? rawName : "";
        const bool isFile = archive_entry_filetype(entry) == AE_IFREG || archive_entry_filetype(entry) == 0;
        const bool manifest = lower(baseName(name)) == "md5hashes.csv";
        if (!isFile || (isSkippedEntry(name) && !manifest)) {
            if (archive_read_data_skip(a.get()) < ARCHIVE_WARN) fail("is truncated or corrupt");
            continue;
        }
        Entry e;
        e.name = name;
        const auto tooLarge = [&] {
            entryTooLarge_ = true;
            throw BridgeError(ErrorCode::UpstreamBadResponse,
                              "getImage ZIP entry '" + name + "' inflates to more than " +
                                  std::to_string(maxEntryBytes_) + " bytes (tcia.maxZipEntryBytes): refused");
        };
        if (archive_entry_size_is_set(entry) && archive_entry_size(entry) > 0) {
            if (static_cast<std::uint64_t>(archive_entry_size(entry)) > maxEntryBytes_) tooLarge();
            // The declared size is the sender's word: a first allocation at most, never the whole
            // (a 100-byte response declaring 1 GiB reserved 1 GiB; fuzz/zip_stream found it).
            reserveForWrite(e.bytes, static_cast<std::size_t>(std::min<la_int64_t>(archive_entry_size(entry), 16LL << 20)));
        }
        Md5 md5;  // the instance's one MD5 (issue 11): the cache keeps it, never re-hashes
        while (true) {
            la_ssize_t n = archive_read_data(a.get(), chunk.data(), chunk.size());
            if (n < 0) fail("entry '" + name + "' is truncated or corrupt");
            if (n == 0) break;
            if (e.bytes.size() + static_cast<std::uint64_t>(n) > maxEntryBytes_) tooLarge();
            e.bytes.insert(e.bytes.end(), chunk.begin(), chunk.begin() + n);
            md5.update(chunk.data(), static_cast<std::size_t>(n));
        }
        if (manifest) {
            sawManifest_ = true;
            manifest_ =
                parseMd5Csv(std::string_view(reinterpret_cast<const char*>(e.bytes.data()), e.bytes.size()));
            continue;
        }
        e.md5Hex = md5.hexDigest();
        ++delivered;
        onEntry(std::move(e));
    }
    // libarchive stops at the first central-directory header: read the rest and check that the
    // archive really ended (EOCD signature "PK\5\6" within the last 64 KiB + 22 bytes).
    try {
        while (in_) {
            in_.read(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
            keepTail(buffer_.data(), static_cast<std::size_t>(in_.gcount()));
        }
    } catch (const std::exception& e) {
        throw BridgeError(ErrorCode::UpstreamBadResponse,
                          std::string("getImage ZIP central directory unreadable: ") + e.what());
    }
    // The EOCD record is 22 bytes + a comment whose length is its last field (APPNOTE 4.3.16).
    const auto eocd = tail_.rfind(std::string("PK\x05\x06", 4));
    bool complete = false;
    if (eocd != std::string::npos && tail_.size() - eocd >= 22) {
        std::size_t commentLength =
            static_cast<unsigned char>(tail_[eocd + 20]) |
            (static_cast<std::size_t>(static_cast<unsigned char>(tail_[eocd + 21])) << 8);
        complete = eocd + 22 + commentLength <= tail_.size();
    }
    if (!complete)
        throw BridgeError(ErrorCode::UpstreamBadResponse,
                          "getImage ZIP is truncated: it ends without an end-of-central-directory record");
    return delivered;
}

void ZipStreamReader::keepTail(const char* data, std::size_t n) {
    constexpr std::size_t kTail = 65535 + 22 + 4096;  // max EOCD comment + record + slack
    if (n >= kTail) {
        tail_.assign(data + n - kTail, kTail);
        return;
    }
    tail_.append(data, n);
    if (tail_.size() > 2 * kTail) tail_.erase(0, tail_.size() - kTail);
}

}  // namespace bridge::tcia
