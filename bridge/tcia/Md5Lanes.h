#pragma once
// MD5 of whole buffers for many threads at once (issue 12a). The IDC object path hashes every
// object it GETs -- up to idc.maxParallelGets of them at a time -- to check it against its ETag,
// and one OpenSSL MD5 per object was 31% of the bridge's CPU on a cold C-MOVE. OpenSSL has no
// multi-buffer MD5 and Debian packages no library that has one (docs/idc.md), so this is ours:
// RFC 1321's block function over eight messages in the lanes of one SIMD register
// (Md5LanesKernel.inc), and a scheduler that lets concurrent callers share it.
//
// Flat combining: a caller queues its buffer; if nobody is hashing, it hashes for everyone --
// every queued buffer gets a lane, lanes refill as buffers finish -- and hands that role to a
// waiting caller as soon as its own digest is ready. A buffer alone in the lanes is hashed one
// lane wide, at scalar speed, so a lone caller loses nothing against a plain MD5.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace bridge::tcia {

class Md5Lanes {
public:
    /// The eight-lane block function: plain C++ (whatever the compiler's default ISA gives),
    /// AVX2, or AVX-512VL.
    enum class Kernel { Generic, Avx2, Avx512 };
    static constexpr int kLanes = 8;
    /// Blocks (64 bytes) hashed between two looks at the queue: bounds how long a new caller
    /// waits for a free lane (4 KiB per lane).
    static constexpr std::size_t kBlocksPerTurn = 64;

    static bool supported(Kernel kernel);
    /// The fastest kernel this CPU runs.
    static Kernel best();
    static const char* name(Kernel kernel);

    explicit Md5Lanes(Kernel kernel = best());
    Md5Lanes(const Md5Lanes&) = delete;
    Md5Lanes& operator=(const Md5Lanes&) = delete;

    /// The process's instance (best kernel).
    static Md5Lanes& shared();

    /// Lower-case hex MD5 of [data, data + size). Thread-safe; returns once the digest is ready.
    std::string hex(const void* data, std::size_t size);

    /// The digests of several buffers hashed together by this thread alone (all of them queued
    /// first, so up to eight share the lanes): what concurrent callers get, made deterministic.
    std::vector<std::string> hexMany(const std::vector<std::pair<const void*, std::size_t>>& buffers);

    Kernel kernel() const { return kernel_; }
    /// Blocks hashed so far eight lanes wide, and one lane wide (both counted per lane-block).
    struct Counts {
        unsigned long long wideBlocks = 0;
        unsigned long long singleBlocks = 0;
    };
    Counts counts();

private:
    struct Job {
        const unsigned char* data;
        std::size_t size;
        unsigned char digest[16] = {};
        bool done = false;  // under mutex_; digest is final once it is set
    };
    struct Lane {
        Job* job = nullptr;
        const unsigned char* next = nullptr;  // the current stretch: the buffer's whole blocks, then tail
        std::size_t blocks = 0;               // blocks left in the current stretch
        bool inTail = false;
        unsigned char tail[128];              // the last partial block + padding + length: 1 or 2 blocks
        std::size_t tailBlocks = 0;
    };

    /// Hashes for every queued and lane-held buffer until `mine` is done or no work is left.
    /// Called and returns with `lock` held; the caller has set combining_.
    void combine(std::unique_lock<std::mutex>& lock, const Job& mine);
    /// Until `job` is done: waits, or takes the combining role when it is free.
    void await(std::unique_lock<std::mutex>& lock, const Job& job);
    void start(int lane, Job* job);
    /// Advances every busy lane by `blocks`; returns whether any buffer finished (its digest set).
    bool advance(std::size_t blocks);

    Kernel kernel_;
    std::mutex mutex_;
    std::condition_variable changed_;  // a job done, or the combining role free
    std::deque<Job*> queue_;
    bool combining_ = false;
    // The combiner's alone (handed over under mutex_):
    alignas(32) unsigned state_[4][kLanes] = {};
    Lane lanes_[kLanes];
    Counts counts_;  // under mutex_
};

}  // namespace bridge::tcia
