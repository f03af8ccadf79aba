#include "emulator/ZipStreamWriter.h"

#include <archive.h>
#include <archive_entry.h>

#include <ctime>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace emulator {

ZipStreamWriter::ZipStreamWriter(Sink sink) : sink_(std::move(sink)) {
    archive_ = archive_write_new();
    if (!archive_) throw std::runtime_error("archive_write_new failed");
    check(archive_write_set_format_zip(archive_), "set_format_zip");
    check(archive_write_set_options(archive_, "zip:compression=deflate"), "zip options");
    // Fast deflate: the emulator must not be the bottleneck of download benchmarks
    // (java.util.zip uses level 6; the format on the wire is the same).
    check(archive_write_set_options(archive_, "zip:compression-level=1"), "zip level");
    // Unbuffered: each libarchive write goes straight to the sink (no 10 KiB padding blocks).
    check(archive_write_set_bytes_per_block(archive_, 0), "bytes_per_block");
    check(archive_write_open(archive_, this, nullptr, &ZipStreamWriter::writeCallback, nullptr), "open");
}

ZipStreamWriter::~ZipStreamWriter() {
    if (archive_) {
        if (!finished_) dead_ = true;  // leave the ZIP truncated: the sink gets nothing more
        archive_write_free(archive_);
    }
}

long ZipStreamWriter::writeCallback(struct archive*, void* self, const void* buffer, std::size_t length) {
    auto* w = static_cast<ZipStreamWriter*>(self);
    if (w->dead_) return static_cast<long>(length);
    try {
        w->sink_(static_cast<const char*>(buffer), length);
        w->bytesWritten_ += length;
        return static_cast<long>(length);
    } catch (...) {
        // Never let an exception unwind through libarchive's C frames.
        w->sinkError_ = std::current_exception();
        w->dead_ = true;
        return -1;
    }
}

void ZipStreamWriter::check(int rc, const char* what) {
    if (sinkError_) {
        auto e = sinkError_;
        sinkError_ = nullptr;
        std::rethrow_exception(e);
    }
    if (rc < ARCHIVE_WARN) {
        const char* msg = archive_ ? archive_error_string(archive_) : nullptr;
        throw std::runtime_error(std::string("zip ") + what + ": " + (msg ? msg : "failed"));
    }
}

void ZipStreamWriter::beginEntry(const std::string& name, std::int64_t size) {
    if (dead_) throw std::runtime_error("zip writer stopped");
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, size);
    archive_entry_set_mtime(e, 1420070400, 0);  // fixed: deterministic output
    const int rc = archive_write_header(archive_, e);
    archive_entry_free(e);
    check(rc, "header");
}

void ZipStreamWriter::write(const char* data, std::size_t size) {
    if (dead_) throw std::runtime_error("zip writer stopped");
    while (size > 0) {
        const la_ssize_t n = archive_write_data(archive_, data, size);
        check(n < 0 ? static_cast<int>(n) : ARCHIVE_OK, "data");
        if (n <= 0) throw std::runtime_error("zip data: no progress");
        data += n;
        size -= static_cast<std::size_t>(n);
    }
}

void ZipStreamWriter::addEntry(const std::string& name, const std::string& data) {
    beginEntry(name, static_cast<std::int64_t>(data.size()));
    write(data.data(), data.size());
    check(archive_write_finish_entry(archive_), "finish_entry");
}

void ZipStreamWriter::addFile(const std::string& name, const std::string& path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) throw std::runtime_error("cannot open " + path);
    const auto size = static_cast<std::int64_t>(in.tellg());
    in.seekg(0);
    beginEntry(name, size);
    std::vector<char> buf(64 * 1024);
    while (in) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        if (in.gcount() > 0) write(buf.data(), static_cast<std::size_t>(in.gcount()));
    }
    check(archive_write_finish_entry(archive_), "finish_entry");
}

void ZipStreamWriter::finish() {
    if (dead_) throw std::runtime_error("zip writer stopped");
    const int rc = archive_write_close(archive_);
    finished_ = true;
    check(rc, "close");
}

}  // namespace emulator
