#include "bridge/tcia/Md5Lanes.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "bridge/tcia/Md5.h"
#include "bridge/tcia/Md5LanesKernels.h"

namespace {
#include "bridge/tcia/Md5LanesKernel.inc"

void compressLanesGeneric(unsigned state[4][8], const unsigned char* const lanes[8], unsigned long blocks) {
    md5CompressLanes(state, lanes, blocks);
}
}  // namespace

namespace bridge::tcia {

namespace {
md5lanes::CompressLanes compressFor(Md5Lanes::Kernel kernel) {
#if defined(__x86_64__)
    if (kernel == Md5Lanes::Kernel::Avx512) return md5lanes::compressLanesAvx512;
    if (kernel == Md5Lanes::Kernel::Avx2) return md5lanes::compressLanesAvx2;
#endif
    (void)kernel;
    return compressLanesGeneric;
}
}  // namespace

bool Md5Lanes::supported(Kernel kernel) {
    switch (kernel) {
        case Kernel::Generic: return true;
#if defined(__x86_64__)
        case Kernel::Avx2: return __builtin_cpu_supports("avx2");
        case Kernel::Avx512: return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
#else
        default: return false;
#endif
    }
    return false;
}

Md5Lanes::Kernel Md5Lanes::best() {
    if (supported(Kernel::Avx512)) return Kernel::Avx512;
    if (supported(Kernel::Avx2)) return Kernel::Avx2;
    return Kernel::Generic;
}

const char* Md5Lanes::name(Kernel kernel) {
    switch (kernel) {
        case Kernel::Avx512: return "avx512";
        case Kernel::Avx2: return "avx2";
        default: return "generic";
    }
}

Md5Lanes::Md5Lanes(Kernel kernel) : kernel_(supported(kernel) ? kernel : Kernel::Generic) {}

Md5Lanes& Md5Lanes::shared() {
    static Md5Lanes instance;
    return instance;
}

std::string Md5Lanes::hex(const void* data, std::size_t size) {
    Job job{static_cast<const unsigned char*>(data), size};
    std::unique_lock lock(mutex_);
    queue_.push_back(&job);
    await(lock, job);
    lock.unlock();
    return Md5::toHex(job.digest, sizeof job.digest);
}

std::vector<std::string> Md5Lanes::hexMany(const std::vector<std::pair<const void*, std::size_t>>& buffers) {
    std::vector<Job> jobs;
    jobs.reserve(buffers.size());
    for (const auto& [data, size] : buffers) jobs.push_back(Job{static_cast<const unsigned char*>(data), size});
    std::unique_lock lock(mutex_);
    for (Job& job : jobs) queue_.push_back(&job);
    for (const Job& job : jobs) await(lock, job);
    lock.unlock();
    std::vector<std::string> out;
    out.reserve(jobs.size());
    for (const Job& job : jobs) out.push_back(Md5::toHex(job.digest, sizeof job.digest));
    return out;
}

Md5Lanes::Counts Md5Lanes::counts() {
    std::lock_guard lock(mutex_);
    return counts_;
}

void Md5Lanes::await(std::unique_lock<std::mutex>& lock, const Job& job) {
    while (!job.done) {
        if (combining_) {
            changed_.wait(lock);
            continue;
        }
        combining_ = true;
        combine(lock, job);
        combining_ = false;
        changed_.notify_all();  // a waiter whose buffer is still in a lane takes over
    }
}

void Md5Lanes::start(int l, Job* job) {
    Lane& lane = lanes_[l];
    lane.job = job;
    const std::size_t whole = job->size / 64, rest = job->size % 64;
    if (rest > 0) std::memcpy(lane.tail, job->data + 64 * whole, rest);
    lane.tailBlocks = rest < 56 ? 1 : 2;
    std::memset(lane.tail + rest, 0, 64 * lane.tailBlocks - rest);
    lane.tail[rest] = 0x80;
    std::uint64_t bits = static_cast<std::uint64_t>(job->size) * 8;
    for (int i = 0; i < 8; ++i, bits >>= 8)
        lane.tail[64 * lane.tailBlocks - 8 + i] = static_cast<unsigned char>(bits);
    lane.inTail = whole == 0;
    lane.next = lane.inTail ? lane.tail : job->data;
    lane.blocks = lane.inTail ? lane.tailBlocks : whole;
    state_[0][l] = 0x67452301u;
    state_[1][l] = 0xefcdab89u;
    state_[2][l] = 0x98badcfeu;
    state_[3][l] = 0x10325476u;
}

bool Md5Lanes::advance(std::size_t blocks) {
    bool finished = false;
    for (int l = 0; l < kLanes; ++l) {
        Lane& lane = lanes_[l];
        if (!lane.job) continue;
        lane.next += 64 * blocks;
        lane.blocks -= blocks;
        if (lane.blocks > 0) continue;
        if (!lane.inTail) {
            lane.inTail = true;
            lane.next = lane.tail;
            lane.blocks = lane.tailBlocks;
            continue;
        }
        for (int w = 0; w < 4; ++w)
            for (int i = 0; i < 4; ++i) lane.job->digest[4 * w + i] = static_cast<unsigned char>(state_[w][l] >> (8 * i));
        finished = true;
    }
    return finished;
}

void Md5Lanes::combine(std::unique_lock<std::mutex>& lock, const Job& mine) {
    const md5lanes::CompressLanes compressLanes = compressFor(kernel_);
    for (;;) {
        int busy = 0, one = 0;
        for (int l = 0; l < kLanes; ++l) {
            if (!lanes_[l].job && !queue_.empty()) {
                start(l, queue_.front());
                queue_.pop_front();
            }
            if (lanes_[l].job) {
                ++busy;
                one = l;
            }
        }
        if (busy == 0 || mine.done) return;
        lock.unlock();
        std::size_t blocks = kBlocksPerTurn;
        for (const Lane& lane : lanes_)
            if (lane.job) blocks = std::min(blocks, lane.blocks);
        if (busy == 1) {
            md5CompressOne(state_, one, lanes_[one].next, blocks);
        } else {
            const unsigned char* next[kLanes];
            for (int l = 0; l < kLanes; ++l)  // an idle lane rereads a busy one's blocks: never past an end
                next[l] = lanes_[l].job ? lanes_[l].next : lanes_[one].next;
            compressLanes(state_, next, blocks);
        }
        const bool finished = advance(blocks);
        lock.lock();
        (busy == 1 ? counts_.singleBlocks : counts_.wideBlocks) += static_cast<unsigned long long>(busy) * blocks;
        if (!finished) continue;
        for (Lane& lane : lanes_) {
            if (!lane.job || !lane.inTail || lane.blocks > 0) continue;
            lane.job->done = true;
            lane.job = nullptr;
        }
        changed_.notify_all();
    }
}

}  // namespace bridge::tcia
