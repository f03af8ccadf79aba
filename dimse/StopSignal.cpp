#include "dimse/StopSignal.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "bridge/common/Error.h"

namespace bridge::dimse {

StopSignal::StopSignal() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    if (fd_ < 0) throw BridgeError(ErrorCode::Internal, std::string("eventfd: ") + std::strerror(errno));
}

StopSignal::~StopSignal() {
    if (fd_ >= 0) ::close(fd_);
}

void StopSignal::request() noexcept {
    context_.cancel();
    const std::uint64_t one = 1;
    if (::write(fd_, &one, sizeof one) < 0) {
        // EAGAIN only when the counter is at its maximum: readable already
    }
}

}  // namespace bridge::dimse
