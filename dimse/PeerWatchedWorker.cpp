#include "dimse/PeerWatchedWorker.h"

#include "dimse/AssociationSocket.h"

#include <dcmtk/dcmnet/dcmtrans.h>
#include <dcmtk/dcmnet/dimse.h>
#include <dcmtk/dcmnet/dul.h>
#include <dcmtk/oflog/oflog.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "bridge/common/Logging.h"

namespace bridge::dimse {
namespace {
OFLogger watchLogger = OFLog::getLogger("bridge.dimse.find");
}  // namespace

PeerWatchedWorker::PeerWatchedWorker(T_ASC_Association* assoc, T_ASC_PresentationContextID presId,
                                     DIC_US messageId, std::function<void()> onCancel)
    : assoc_(assoc), presId_(presId), messageId_(messageId), onCancel_(std::move(onCancel)),
      logContext_(currentLogContext()) {
    done_ = ::eventfd(0, EFD_CLOEXEC);
    socket_ = associationSocket(assoc_);
    thread_ = std::thread([this] { work(); });
}

PeerWatchedWorker::~PeerWatchedWorker() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
    if (done_ >= 0) ::close(done_);
}

void PeerWatchedWorker::work() {
    LogScope scope(logContext_);
    std::unique_lock lock(mutex_);
    while (true) {
        wake_.wait(lock, [this] { return stopping_ || call_ != nullptr; });
        if (stopping_) return;
        const std::function<void()>* call = call_;
        lock.unlock();
        std::exception_ptr error;
        try {
            (*call)();
        } catch (...) {
            error = std::current_exception();
        }
        lock.lock();
        error_ = error;
        call_ = nullptr;
        const std::uint64_t one = 1;
        if (::write(done_, &one, sizeof one) < 0) {
            // eventfd writes of 1 cannot fail short of a counter overflow; run() would hang, so
            // never reached in practice.
        }
    }
}

void PeerWatchedWorker::peerData() {
    // The peer sent something while the core was blocked: DCMTK reads the whole message.
    OFCondition cond = DIMSE_checkForCancelRQ(assoc_, presId_, messageId_);
    if (cond == DIMSE_NODATAAVAILABLE) {
        // Readable without a whole message (a TLS record, a partial PDU): stop watching rather
        // than wake again at once; DIMSE_findProvider still checks between responses.
        OFLOG_DEBUG(watchLogger, "data from the peer without a whole message: no longer watched");
        socket_ = -1;
        return;
    }
    socket_ = -1;  // one message per operation decides: a C-CANCEL, or the peer is leaving
    cancelSeen_ = true;
    cancelRequestRead_ = cond.good();
    OFLOG_INFO(watchLogger, (cond.good() ? std::string("C-CANCEL")
                                         : std::string("peer left (") + cond.text() + ")")
                                << " while waiting on TCIA: cancelling the request");
    if (onCancel_) onCancel_();
}

void PeerWatchedWorker::run(const std::function<void()>& call) {
    if (done_ < 0) {
        call();  // no eventfd (out of descriptors): unwatched, as DCMTK alone would do
        return;
    }
    {
        std::lock_guard lock(mutex_);
        call_ = &call;
        error_ = nullptr;
    }
    wake_.notify_all();
    while (true) {
        pollfd fds[2] = {{done_, POLLIN, 0}, {socket_, POLLIN, 0}};
        const nfds_t count = socket_ >= 0 ? 2 : 1;
        const int ready = ::poll(fds, count, -1);
        if (ready < 0) {
            if (errno == EINTR) continue;
            socket_ = -1;  // cannot watch: wait for the call alone
            continue;
        }
        if (fds[0].revents & POLLIN) {
            std::uint64_t value = 0;
            if (::read(done_, &value, sizeof value) < 0) {
                // the counter was non-zero (POLLIN): a read cannot fail here
            }
            break;
        }
        if (count == 2 && fds[1].revents != 0) peerData();
    }
    std::exception_ptr error;
    {
        std::lock_guard lock(mutex_);
        error = error_;
        error_ = nullptr;
    }
    if (error) std::rethrow_exception(error);
}

}  // namespace bridge::dimse
