#pragma once
// A streaming ZIP writer shaped like java.util.zip.ZipOutputStream's output, which is what
// NBIA's getImage sends (API.md 8.1): DEFLATE entries with general purpose flag bit 3 set, the
// CRC and sizes in a data descriptor after each entry's data, the central directory at the end;
// nothing is buffered beyond one libarchive block, nothing is seeked. Built on libarchive's zip
// writer, which never seeks and therefore always writes data descriptors for deflated entries.
// Not thread-safe; one writer per response. Blocks in the sink.

#include <cstdint>
#include <exception>
#include <functional>
#include <string>

struct archive;

namespace emulator {

class ZipStreamWriter {
public:
    /// Receives every byte of the ZIP, in order. May throw; the exception is rethrown from the
    /// writer call that triggered it, after which the writer stops writing.
    using Sink = std::function<void(const char* data, std::size_t size)>;

    explicit ZipStreamWriter(Sink sink);
    ~ZipStreamWriter();
    ZipStreamWriter(const ZipStreamWriter&) = delete;
    ZipStreamWriter& operator=(const ZipStreamWriter&) = delete;

    /// Starts an entry of `size` uncompressed bytes (DEFLATE), then write() exactly that many.
    void beginEntry(const std::string& name, std::int64_t size);
    void write(const char* data, std::size_t size);
    /// Adds a whole in-memory entry.
    void addEntry(const std::string& name, const std::string& data);
    /// Adds a file from disk, read in 64 KiB blocks.
    void addFile(const std::string& name, const std::string& path);
    /// Writes the central directory. Without it (destruction first) the ZIP stays truncated.
    void finish();

    /// Bytes handed to the sink so far.
    std::uint64_t bytesWritten() const { return bytesWritten_; }

private:
    static long writeCallback(struct archive*, void* self, const void* buffer, std::size_t length);
    void check(int rc, const char* what);

    Sink sink_;
    struct archive* archive_ = nullptr;
    std::uint64_t bytesWritten_ = 0;
    std::exception_ptr sinkError_;
    bool dead_ = false;
    bool finished_ = false;
};

}  // namespace emulator
