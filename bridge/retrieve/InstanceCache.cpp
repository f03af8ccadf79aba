#include "bridge/retrieve/InstanceCache.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>

#include "bridge/common/ByteBuffers.h"
#include "bridge/common/Error.h"
#include "bridge/retrieve/InstanceHeader.h"
#include "bridge/tcia/Md5.h"

namespace fs = std::filesystem;

namespace bridge {
namespace {

constexpr const char* kIndexFile = "index.tsv";
constexpr const char* kCompleteFile = "complete";
constexpr const char* kTempMarker = ".tmp-";

std::string md5Hex(const std::uint8_t* data, std::size_t size) {
    return tcia::Md5::hex(data, size);  // the download path's one MD5 (OpenSSL EVP)
}

std::string sanitizeField(std::string value) {
    for (char& c : value)
        if (c == '\t' || c == '\n' || c == '\r') c = ' ';
    return value;
}

/// Sidecar line: SOP \t size \t md5 \t GGGGEEEE=value ...
std::string formatIndexLine(const CachedInstanceInfo& info) {
    std::ostringstream line;
    line << info.sopInstanceUid << '\t' << info.size << '\t' << info.md5;
    for (const auto& [tag, value] : info.attributes.values()) {
        char key[16];
        std::snprintf(key, sizeof key, "%04X%04X", tag.getGroup(), tag.getElement());
        line << '\t' << key << '=' << sanitizeField(value);
    }
    line << '\n';
    return line.str();
}

std::optional<CachedInstanceInfo> parseIndexLine(const std::string& line) {
    std::vector<std::string> fields;
    std::size_t start = 0;
    while (true) {
        const auto tab = line.find('\t', start);
        fields.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
        if (tab == std::string::npos) break;
        start = tab + 1;
    }
    if (fields.size() < 3 || !InstanceCache::isSafeUid(fields[0])) return std::nullopt;
    CachedInstanceInfo info;
    info.sopInstanceUid = fields[0];
    try {
        info.size = std::stoull(fields[1]);
    } catch (...) {
        return std::nullopt;
    }
    info.md5 = fields[2];
    for (std::size_t i = 3; i < fields.size(); ++i) {
        const auto& f = fields[i];
        if (f.size() < 9 || f[8] != '=') return std::nullopt;
        unsigned group = 0, element = 0;
        if (std::sscanf(f.c_str(), "%4x%4x", &group, &element) != 2) return std::nullopt;
        info.attributes.set(DcmTagKey(static_cast<Uint16>(group), static_cast<Uint16>(element)), f.substr(9));
    }
    info.attributes.set(DCM_SOPInstanceUID, info.sopInstanceUid);
    return info;
}

void throwIo(const std::string& what, const std::string& path) {
    throw BridgeError(ErrorCode::Internal,
                      "instance cache: " + what + " " + path + ": " + std::strerror(errno));
}

/// fsyncs a file or directory by path (fsync acts on the inode: the data written through
/// another descriptor is flushed too). False when it cannot be opened or synced.
bool fsyncPath(const std::string& path, bool directory = false) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (directory ? O_DIRECTORY : 0));
    if (fd < 0) return false;
    const bool ok = ::fsync(fd) == 0;
    ::close(fd);
    return ok;
}

void fsyncDirectory(const std::string& dir) { fsyncPath(dir, true); }

/// Writes `size` bytes to `path` through `tempPath`: write, fsync when `sync`, rename (POSIX
/// rename is atomic within one filesystem, so a reader sees the old file or the whole new one,
/// never a part; without the fsync a power cut may still leave it torn: see markComplete).
void writeAtomically(const std::string& tempPath, const std::string& path, const void* data, std::size_t size,
                     bool sync = true) {
    const int fd = ::open(tempPath.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) throwIo("cannot create", tempPath);
    const auto* p = static_cast<const char*>(data);
    std::size_t left = size;
    while (left > 0) {
        const ssize_t n = ::write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            const int saved = errno;
            ::close(fd);
            ::unlink(tempPath.c_str());
            errno = saved;
            throwIo("cannot write", tempPath);
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
    if ((sync && ::fsync(fd) != 0) || ::close(fd) != 0) {
        const int saved = errno;
        ::unlink(tempPath.c_str());
        errno = saved;
        throwIo("cannot flush", tempPath);
    }
    if (::rename(tempPath.c_str(), path.c_str()) != 0) {
        const int saved = errno;
        ::unlink(tempPath.c_str());
        errno = saved;
        throwIo("cannot rename", tempPath);
    }
}

std::optional<std::vector<std::uint8_t>> readWholeFile(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        ::close(fd);
        return std::nullopt;
    }
    std::vector<std::uint8_t> bytes(static_cast<std::size_t>(st.st_size));
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += static_cast<std::size_t>(n);
    }
    ::close(fd);
    bytes.resize(done);
    return bytes;
}

/// Buffers for InstanceCache::read, given back when the last holder of an instance's bytes lets
/// go: a warm C-MOVE reads hundreds of files of one size, and a fresh std::vector for each cost
/// a memset and the page faults of its whole size (perf of a warm move: ~20% of the bridge's
/// CPU). At most 8 idle buffers of at most 16 MiB each are kept.
std::shared_ptr<BufferPool> readBufferPool() {
    static const auto pool = std::make_shared<BufferPool>(16u << 20, 8 * (16u << 20), 8);
    return pool;
}

/// readWholeFile into a pooled buffer (resize() of a reused buffer initialises only growth).
std::shared_ptr<const std::vector<std::uint8_t>> readWholeFilePooled(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return nullptr;
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        ::close(fd);
        return nullptr;
    }
    auto pool = readBufferPool();
    std::vector<std::uint8_t> bytes = pool->take();
    resizeForOverwrite(bytes, static_cast<std::size_t>(st.st_size));
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += static_cast<std::size_t>(n);
    }
    ::close(fd);
    bytes.resize(done);
    return pool->share(std::move(bytes));
}

std::int64_t nowSeconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace

std::string CachedInstanceInfo::sopClassUid() const { return attributes.get(DCM_SOPClassUID); }
std::string CachedInstanceInfo::transferSyntaxUid() const { return attributes.get(DCM_TransferSyntaxUID); }
long CachedInstanceInfo::instanceNumber() const {
    try {
        return std::stol(attributes.get(DCM_InstanceNumber));
    } catch (...) {
        return 0;
    }
}

bool InstanceCache::isSafeUid(const std::string& uid) {
    if (uid.empty() || uid.size() > 64 || uid == "." || uid == "..") return false;
    return std::all_of(uid.begin(), uid.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
               c == '-' || c == '_';
    });
}

InstanceCache::InstanceCache(const CacheSettings& settings)
    : instancesDir_((fs::path(settings.directory) / "instances").string()), maxBytes_(settings.maxBytes) {
    std::error_code ec;
    fs::create_directories(instancesDir_, ec);
    if (ec)
        throw BridgeError(ErrorCode::Internal,
                          "instance cache: cannot create " + instancesDir_ + ": " + ec.message());

    // Load every series directory; LRU order across restarts comes from the sidecar mtimes.
    std::vector<std::pair<fs::file_time_type, std::string>> byAge;
    for (const auto& dirEntry : fs::directory_iterator(instancesDir_, ec)) {
        const std::string name = dirEntry.path().filename().string();
        if (!dirEntry.is_directory() || !isSafeUid(name)) continue;
        loadSeries(name);
        if (!series_.count(name)) continue;
        std::error_code timeError;
        auto mtime = fs::last_write_time(dirEntry.path() / kIndexFile, timeError);
        byAge.emplace_back(timeError ? fs::file_time_type::min() : mtime, name);
    }
    std::sort(byAge.begin(), byAge.end());
    for (const auto& [time, name] : byAge) series_[name].lastAccess = ++clock_;
    std::lock_guard lock(mutex_);
    evictLocked();
}

InstanceCache::~InstanceCache() = default;

std::string InstanceCache::seriesDir(const std::string& series) const {
    return (fs::path(instancesDir_) / series).string();
}

void InstanceCache::loadSeries(const std::string& series) {
    const std::string dir = seriesDir(series);
    SeriesEntry entry;
    bool dirty = false;

    // 1. The sidecar (later lines for one SOP replace earlier ones).
    std::ifstream index(dir + "/" + kIndexFile);
    // Files the sidecar does not list are trusted (indexed by scanning) only when they were
    // synced: the series has its marker (markComplete fsyncs first) and lost its whole sidecar.
    // Otherwise one may be torn (a power cut between rename and sync): deleted, downloaded again.
    std::error_code markerError;
    const bool scanUnlisted = !index && fs::exists(dir + "/" + kCompleteFile, markerError);
    if (index) {
        std::string line;
        while (std::getline(index, line)) {
            if (line.empty()) continue;
            if (auto info = parseIndexLine(line)) {
                entry.instances[info->sopInstanceUid] = std::move(*info);
            } else {
                dirty = true;  // a torn last line after a crash: rewrite the sidecar
            }
        }
    } else {
        dirty = true;
    }

    // 2. The files: delete crash leftovers, drop entries whose file is gone or has the wrong
    //    size, delete (or, see scanUnlisted, index) files the sidecar does not know (a crash
    //    between rename and sidecar append).
    std::set<std::string> seen;
    std::error_code ec;
    for (const auto& file : fs::directory_iterator(dir, ec)) {
        const std::string name = file.path().filename().string();
        if (name.find(kTempMarker) != std::string::npos) {
            fs::remove(file.path(), ec);
            continue;
        }
        if (name.size() <= 4 || name.compare(name.size() - 4, 4, ".dcm") != 0) continue;
        const std::string sop = name.substr(0, name.size() - 4);
        const auto size = file.file_size(ec);
        auto it = entry.instances.find(sop);
        if (it != entry.instances.end()) {
            if (ec || it->second.size != size) {
                fs::remove(file.path(), ec);
                entry.instances.erase(it);
                dirty = true;
                verifyFailures_++;
                continue;
            }
            seen.insert(sop);
            continue;
        }
        if (!scanUnlisted) {
            fs::remove(file.path(), ec);
            dirty = true;
            continue;
        }
        auto bytes = readWholeFile(file.path().string());
        try {
            if (!bytes) throw BridgeError(ErrorCode::Internal, "unreadable");
            CachedInstanceInfo info;
            info.attributes = readInstanceHeader(bytes->data(), bytes->size());
            info.sopInstanceUid = info.attributes.get(DCM_SOPInstanceUID);
            if (info.sopInstanceUid != sop)
                throw BridgeError(ErrorCode::Internal, "file name does not match UID");
            info.size = bytes->size();
            info.md5 = md5Hex(bytes->data(), bytes->size());
            entry.instances[sop] = std::move(info);
            seen.insert(sop);
        } catch (const std::exception&) {
            fs::remove(file.path(), ec);
        }
        dirty = true;
    }
    for (auto it = entry.instances.begin(); it != entry.instances.end();) {
        if (!seen.count(it->first)) {
            it = entry.instances.erase(it);
            dirty = true;
        } else {
            ++it;
        }
    }

    if (entry.instances.empty()) {
        fs::remove_all(dir, ec);
        return;
    }
    std::ifstream complete(dir + "/" + kCompleteFile);
    std::size_t count = 0;
    if (complete >> count) entry.completeCount = count;
    for (const auto& [sop, info] : entry.instances) entry.bytes += info.size;
    if (dirty) rewriteIndexLocked(series, entry);
    totalBytes_ += entry.bytes;
    series_[series] = std::move(entry);
}

void InstanceCache::rewriteIndexLocked(const std::string& series, const SeriesEntry& entry) {
    std::string text;
    for (const auto& [sop, info] : entry.instances) text += formatIndexLine(info);
    const std::string dir = seriesDir(series);
    const std::string temp = dir + "/" + kIndexFile + kTempMarker + std::to_string(::getpid()) + "-" +
                             std::to_string(tempCounter_++);
    try {
        writeAtomically(temp, dir + "/" + kIndexFile, text.data(), text.size());
    } catch (const BridgeError&) {
        // The sidecar is an optimisation: a missing one is rebuilt by scanning at next start.
    }
}

void InstanceCache::touchLocked(const std::string& series, SeriesEntry& entry) {
    entry.lastAccess = ++clock_;
    const auto now = nowSeconds();
    if (entry.lastTouchSecond == now) return;  // at most one utime per series per second
    entry.lastTouchSecond = now;
    const std::string path = seriesDir(series) + "/" + kIndexFile;
    ::utimensat(AT_FDCWD, path.c_str(), nullptr, 0);
}

CachedInstanceInfo InstanceCache::store(const std::string& seriesInstanceUid,
                                        const std::vector<std::uint8_t>& bytes, const StoreHints& hints) {
    if (!isSafeUid(seriesInstanceUid))
        throw BridgeError(ErrorCode::InvalidArgument, "not a usable SeriesInstanceUID: " + seriesInstanceUid);
    CachedInstanceInfo info;
    // Issue 11: the header only (Pixel Data is neither parsed nor copied), and the MD5 the ZIP
    // reader computed while the bytes inflated when the caller has it (hash once).
    info.attributes = peekInstanceHeader(bytes.data(), bytes.size());
    info.sopInstanceUid = info.attributes.get(DCM_SOPInstanceUID);
    if (!isSafeUid(info.sopInstanceUid))
        throw BridgeError(ErrorCode::UpstreamBadResponse,
                          "not a usable SOPInstanceUID: " + info.sopInstanceUid);
    info.size = bytes.size();
    info.md5 = hints.md5.empty() ? md5Hex(bytes.data(), bytes.size()) : hints.md5;

    Pin guard = pin(seriesInstanceUid);  // no eviction of this series while its file is written
    const std::string dir = seriesDir(seriesInstanceUid);
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec)
        throw BridgeError(ErrorCode::Internal, "instance cache: cannot create " + dir + ": " + ec.message());
    const std::string finalPath = dir + "/" + info.sopInstanceUid + ".dcm";
    const std::string temp =
        finalPath + kTempMarker + std::to_string(::getpid()) + "-" + std::to_string(tempCounter_++);
    // Not fsync'd (issue 11: one fsync per instance cost more than the rest of the store):
    // markComplete() syncs the series' files and directory before its marker; until then a file
    // torn by a power cut fails its size/MD5 check after the restart (see the header).
    writeAtomically(temp, finalPath, bytes.data(), bytes.size(), /*sync=*/false);

    // The MD5 describes the very bytes just written by this process (computed here, or by the
    // source from the same buffer): its first read needs no re-hash. A file torn by a crash is
    // only ever seen by a later process, whose load starts every file unverified.
    info.md5Verified = !info.md5.empty();

    std::lock_guard lock(mutex_);
    SeriesEntry& entry = series_[seriesInstanceUid];
    auto old = entry.instances.find(info.sopInstanceUid);
    if (old != entry.instances.end()) {
        entry.bytes -= old->second.size;
        totalBytes_ -= old->second.size;
    }
    entry.instances[info.sopInstanceUid] = info;
    entry.bytes += info.size;
    totalBytes_ += info.size;
    {
        std::ofstream index(dir + "/" + kIndexFile, std::ios::app);
        index << formatIndexLine(info);
    }
    entry.lastTouchSecond = nowSeconds();  // the append just refreshed the sidecar's mtime
    entry.lastAccess = ++clock_;
    stores_++;
    evictLocked();
    return info;
}

std::shared_ptr<const std::vector<std::uint8_t>> InstanceCache::read(const std::string& seriesInstanceUid,
                                                                     const std::string& sopInstanceUid) {
    if (!isSafeUid(seriesInstanceUid) || !isSafeUid(sopInstanceUid))
        throw BridgeError(ErrorCode::InvalidArgument,
                          "not a usable UID: " + seriesInstanceUid + "/" + sopInstanceUid);
    CachedInstanceInfo info;
    {
        std::lock_guard lock(mutex_);
        auto series = series_.find(seriesInstanceUid);
        if (series == series_.end() || !series->second.instances.count(sopInstanceUid)) {
            misses_++;
            return nullptr;
        }
        info = series->second.instances.at(sopInstanceUid);
        touchLocked(seriesInstanceUid, series->second);
    }
    const std::string path = seriesDir(seriesInstanceUid) + "/" + sopInstanceUid + ".dcm";
    auto bytes = readWholeFilePooled(path);
    // Size on every read; MD5 on the first read of each instance in this process (after a
    // restart, or after it was written), so a file damaged on disk is never served as whole.
    const bool checkMd5 = !info.md5.empty() && !info.md5Verified;
    const bool good = bytes && bytes->size() == info.size &&
                      (!checkMd5 || md5Hex(bytes->data(), bytes->size()) == info.md5);
    if (good && checkMd5) {
        std::lock_guard lock(mutex_);
        auto series = series_.find(seriesInstanceUid);
        if (series != series_.end()) {
            auto inst = series->second.instances.find(sopInstanceUid);
            if (inst != series->second.instances.end() && inst->second.md5 == info.md5)
                inst->second.md5Verified = true;
        }
    }
    if (!good) {
        std::lock_guard lock(mutex_);
        if (bytes) verifyFailures_++;
        misses_++;
        std::error_code ec;
        fs::remove(path, ec);
        dropInstanceLocked(seriesInstanceUid, sopInstanceUid);
        return nullptr;
    }
    hits_++;
    return bytes;
}

void InstanceCache::removeInstance(const std::string& seriesInstanceUid, const std::string& sopInstanceUid) {
    if (!isSafeUid(seriesInstanceUid) || !isSafeUid(sopInstanceUid)) return;
    std::lock_guard lock(mutex_);
    std::error_code ec;
    fs::remove(seriesDir(seriesInstanceUid) + "/" + sopInstanceUid + ".dcm", ec);
    dropInstanceLocked(seriesInstanceUid, sopInstanceUid);
}

void InstanceCache::dropInstanceLocked(const std::string& series, const std::string& sop) {
    auto it = series_.find(series);
    if (it == series_.end()) return;
    auto inst = it->second.instances.find(sop);
    if (inst == it->second.instances.end()) return;
    it->second.bytes -= inst->second.size;
    totalBytes_ -= inst->second.size;
    it->second.instances.erase(inst);
    rewriteIndexLocked(series, it->second);
}

bool InstanceCache::contains(const std::string& seriesInstanceUid, const std::string& sopInstanceUid) const {
    std::lock_guard lock(mutex_);
    auto it = series_.find(seriesInstanceUid);
    return it != series_.end() && it->second.instances.count(sopInstanceUid) != 0;
}

std::vector<CachedInstanceInfo> InstanceCache::instances(const std::string& seriesInstanceUid) const {
    std::vector<CachedInstanceInfo> out;
    {
        std::lock_guard lock(mutex_);
        auto it = series_.find(seriesInstanceUid);
        if (it == series_.end()) return out;
        for (const auto& [sop, info] : it->second.instances) out.push_back(info);
    }
    std::stable_sort(out.begin(), out.end(), [](const CachedInstanceInfo& a, const CachedInstanceInfo& b) {
        return a.instanceNumber() < b.instanceNumber();
    });
    return out;
}

void InstanceCache::markComplete(const std::string& seriesInstanceUid, std::size_t instanceCount) {
    recordComplete(seriesInstanceUid, instanceCount);
    persistComplete(seriesInstanceUid);
}

void InstanceCache::recordComplete(const std::string& seriesInstanceUid, std::size_t instanceCount) {
    std::lock_guard lock(mutex_);
    auto it = series_.find(seriesInstanceUid);
    if (it != series_.end() && !it->second.removeWhenUnpinned) it->second.completeCount = instanceCount;
}

void InstanceCache::persistComplete(const std::string& seriesInstanceUid) {
    if (!isSafeUid(seriesInstanceUid)) return;  // never stored either
    // Not evicted (and so not re-downloaded into the same directory) while its files are synced
    // and the marker written: the marker vouches only for files this pass synced.
    Pin guard = pin(seriesInstanceUid);
    std::vector<std::string> sops;
    std::size_t instanceCount = 0;
    {
        std::lock_guard lock(mutex_);
        auto it = series_.find(seriesInstanceUid);
        if (it == series_.end() || !it->second.completeCount) return;
        instanceCount = *it->second.completeCount;
        for (const auto& [sop, info] : it->second.instances) sops.push_back(sop);
    }
    // Durable before the marker claims it (store() does not fsync): every instance file, the
    // sidecar, then the directory (the renames) -- outside the mutex, reads go on meanwhile. A
    // file that cannot be synced (evicted meanwhile, I/O error) is not vouched for: no marker,
    // the series stays verify-on-read after a restart (see the header).
    const std::string dir = seriesDir(seriesInstanceUid);
    bool synced = true;
    for (const auto& sop : sops) synced = fsyncPath(dir + "/" + sop + ".dcm") && synced;
    synced = fsyncPath(dir + "/" + kIndexFile) && synced;
    fsyncDirectory(dir);
    if (!synced) return;
    const std::string text = std::to_string(instanceCount) + "\n";
    try {
        writeAtomically(dir + "/" + kCompleteFile + kTempMarker + std::to_string(tempCounter_++),
                        dir + "/" + kCompleteFile, text.data(), text.size());
    } catch (const BridgeError&) {
        // Without the marker the series is re-downloaded after a restart: slower, still correct.
    }
}

bool InstanceCache::isComplete(const std::string& seriesInstanceUid) const {
    std::lock_guard lock(mutex_);
    auto it = series_.find(seriesInstanceUid);
    return it != series_.end() && it->second.completeCount &&
           it->second.instances.size() >= *it->second.completeCount;
}

bool InstanceCache::removeSeries(const std::string& seriesInstanceUid) {
    std::lock_guard lock(mutex_);
    auto it = series_.find(seriesInstanceUid);
    if (it == series_.end()) return false;
    if (it->second.pins > 0) {
        // In use (a download, its sync, a send): no longer complete at once -- here and after a
        // restart -- and gone when the last pin is released (Pin::release).
        it->second.completeCount.reset();
        it->second.removeWhenUnpinned = true;
        std::error_code ec;
        fs::remove(seriesDir(seriesInstanceUid) + "/" + kCompleteFile, ec);
        return false;
    }
    removeSeriesLocked(seriesInstanceUid);
    return true;
}

void InstanceCache::removeSeriesLocked(const std::string& series) {
    auto it = series_.find(series);
    if (it == series_.end()) return;
    totalBytes_ -= it->second.bytes;
    series_.erase(it);
    std::error_code ec;
    fs::remove_all(seriesDir(series), ec);
}

void InstanceCache::evictLocked() {
    while (totalBytes_ > maxBytes_) {
        const std::string* victim = nullptr;
        std::uint64_t oldest = UINT64_MAX;
        for (const auto& [uid, entry] : series_) {
            if (entry.pins == 0 && entry.lastAccess < oldest) {
                oldest = entry.lastAccess;
                victim = &uid;
            }
        }
        if (!victim) return;  // everything left is pinned: allow the overshoot until unpinned
        const std::string name = *victim;
        removeSeriesLocked(name);
        evicted_++;
    }
}

InstanceCache::Pin InstanceCache::pin(const std::string& seriesInstanceUid) {
    return Pin(this, seriesInstanceUid);
}

InstanceCache::Pin::Pin(InstanceCache* cache, std::string series)
    : cache_(cache), series_(std::move(series)) {
    if (!isSafeUid(series_)) {
        cache_ = nullptr;  // such a series is never stored: nothing to protect
        return;
    }
    std::lock_guard lock(cache_->mutex_);
    cache_->series_[series_].pins++;
}
InstanceCache::Pin::Pin(Pin&& other) noexcept : cache_(other.cache_), series_(std::move(other.series_)) {
    other.cache_ = nullptr;
}
InstanceCache::Pin& InstanceCache::Pin::operator=(Pin&& other) noexcept {
    if (this != &other) {
        release();
        cache_ = other.cache_;
        series_ = std::move(other.series_);
        other.cache_ = nullptr;
    }
    return *this;
}
InstanceCache::Pin::~Pin() { release(); }
void InstanceCache::Pin::release() {
    if (!cache_) return;
    std::lock_guard lock(cache_->mutex_);
    auto it = cache_->series_.find(series_);
    if (it != cache_->series_.end()) {
        it->second.pins--;
        if (it->second.pins == 0 && it->second.removeWhenUnpinned) {
            cache_->removeSeriesLocked(series_);  // removeSeries() while it was pinned
        } else if (it->second.pins == 0 && it->second.instances.empty()) {
            cache_->series_.erase(it);  // pinned but never stored into
        } else if (it->second.pins == 0) {
            cache_->evictLocked();
        }
    }
    cache_ = nullptr;
}

std::optional<std::vector<DicomRecord>> InstanceCache::instanceAttributes(
    const std::string& seriesInstanceUid) {
    auto list = instances(seriesInstanceUid);
    if (list.empty()) return std::nullopt;
    std::vector<DicomRecord> records;
    records.reserve(list.size());
    for (auto& info : list) {
        info.attributes.set(DCM_SOPInstanceUID, info.sopInstanceUid);
        // File meta (group 0002) never goes into a dataset; PS3.18 names the instance's transfer
        // syntax AvailableTransferSyntaxUID (0008,3002) in QIDO-RS instance results.
        if (auto syntax = info.attributes.find(DCM_TransferSyntaxUID)) {
            info.attributes.set(DCM_AvailableTransferSyntaxUID, *syntax);
            info.attributes.erase(DCM_TransferSyntaxUID);
        }
        records.push_back(std::move(info.attributes));
    }
    return records;
}

InstanceCacheStats InstanceCache::stats() const {
    InstanceCacheStats s;
    std::lock_guard lock(mutex_);
    s.bytes = totalBytes_;
    s.maxBytes = maxBytes_;
    for (const auto& [uid, entry] : series_) {
        if (entry.instances.empty()) continue;
        s.series++;
        s.instances += entry.instances.size();
    }
    s.hits = hits_;
    s.misses = misses_;
    s.verifyFailures = verifyFailures_;
    s.evictedSeries = evicted_;
    s.stores = stores_;
    return s;
}

}  // namespace bridge
